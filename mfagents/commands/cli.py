"""The ``mfzoo`` command line: ``mfzoo <command> [options]``.

Every command prints what it does in plain lines and ends with one JSON line summarising the result,
so scripts can read the last line (``json.loads(output.splitlines()[-1])``).

Commands:
    demo: train a small MF-Q team on Battle, evaluate, record and plot it.
    train: train a learner (MF-Q, IL, MF-AC, AC, tabular MF-Q) through SuperSuit; logs, checkpoints, resume.
    eval: play rounds between policy SPECs (trained runs, ``random``, ``scripted``, ``module:callable``).
    bench: environment throughput (PettingZoo API and Battle's batched core), optionally beside MAgent2.
    watch: play policies in a window, or record an episode to MP4 / GIF.
    arena: every pair of Battle policies on both sides; win rates, Elo ratings, heat map.
    sweep: one training run per combination of algorithms, seeds and settings, on Ray.
    reproduce: one of the paper's experiments: runs, tables, plots, REPRODUCTION.md.

Each command is a module of ``mfagents.commands`` (``eval``'s is ``evaluate``) with two small functions,
listed in ``COMMANDS``: one adds its arguments to an argparse sub-parser, the other runs it and returns
the JSON summary. A new command is a new module and a line in that table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mfagents.commands import (
    arena,
    bench,
    demo,
    evaluate,
    reproduce,
    sweep,
    train,
    watch,
)
from mfagents.commands.errors import UsageError
from mfagents.commands.shared import Summary, user_cache_dir


def use_dummy_video_driver_when_headless() -> None:
    """Let pygame run without a screen: default ``SDL_VIDEODRIVER`` to ``dummy`` when no display is set.

    Only X11 / Wayland systems announce their display in the environment; macOS and Windows always
    have one (so ``mfzoo watch`` can open its window there).
    """
    x11_or_wayland = not sys.platform.startswith(("darwin", "win32", "cygwin"))
    if x11_or_wayland and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def keep_torch_caches_out_of_tmp() -> None:
    """Point torch's compiler cache at the user's cache folder unless the user chose one.

    Building the first optimiser imports ``torch._dynamo``, which makes ``$TMPDIR/torchinductor_$USER``
    (torch 2.13), so every ``mfzoo train`` left a folder in ``/tmp`` (issue 14).
    """
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(user_cache_dir() / "torchinductor"))


# == command table and entry point =================================================================
@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, its argument setup and its handler (returns the JSON summary)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Summary]


COMMANDS: dict[str, Command] = {
    "demo": Command("train a small MF-Q team on Battle, evaluate, record and plot it (--quick: under a minute)", demo.add_demo_arguments, demo.run_demo),
    "train": Command("train a learner through SuperSuit (logs, checkpoints, --resume)", train.add_train_arguments, train.run_train),
    "eval": Command("play rounds between policies and report win rates, G / G* or xi", evaluate.add_eval_arguments, evaluate.run_eval),
    "bench": Command("time the environments (agent-steps/s, env-steps/s), optionally beside MAgent2", bench.add_bench_arguments, bench.run_bench),
    "watch": Command("play policies in a window, or record an episode with --record FILE.mp4|.gif", watch.add_watch_arguments, watch.run_watch),
    "arena": Command("every pair of Battle policies on both sides: win rates, Elo, heat map", arena.add_arena_arguments, arena.run_arena_command),
    "sweep": Command("one training run per combination of algorithms, seeds and settings, on Ray (resumable)", sweep.add_sweep_arguments, sweep.run_sweep_command),
    "reproduce": Command("reproduce one of the paper's experiments: runs, CSVs, plots, REPRODUCTION.md section (--quick: ~1 minute)", reproduce.add_reproduce_arguments, reproduce.run_reproduce),
}


def package_version() -> str:
    """The installed ``mfzoo`` version (``unknown`` when run from a source tree that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mfzoo")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``mfzoo`` parser with one sub-parser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="mfzoo", description="Mean Field Zoo: many-agent environments and mean-field RL agents.",
        epilog="mfzoo COMMAND --help shows a command's options and their defaults.",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"mfzoo {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mfzoo`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Bad arguments exit with status 2 and a message on stderr, as argparse does; no command prints the
    help; Ctrl-C ends with one line and status 130 (a training run continues with ``--resume``).
    """
    use_dummy_video_driver_when_headless()
    keep_torch_caches_out_of_tmp()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        summary = COMMANDS[args.command].run(args)
    except UsageError as error:
        parser.exit(2, f"mfzoo {args.command}: error: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"\nmfzoo {args.command}: interrupted\n")
    print(json.dumps(summary, default=_json_default))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the JSON summary")


if __name__ == "__main__":
    sys.exit(main())
