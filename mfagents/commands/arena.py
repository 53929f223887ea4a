"""``mfzoo arena``: the options and the command over ``mfagents.evaluation.arena.run_arena``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mfagents.commands.shared import add_env_kwarg_argument
from mfagents.evaluation.arena import (
    BUILTIN_ENTRANTS,
    DEFAULT_OUT,
    check_arena_env,
    entrant_list,
    run_arena,
)


# == command line =====================================================================================
def add_arena_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo arena``."""
    from mfagents.commands.helptext import spec_forms

    parser.add_argument("env", help="a team environment: battle, battlefield, combined_arms")
    parser.add_argument("specs", nargs="*", metavar="SPEC", help=f"entrants (default: only the built-ins). {spec_forms()}")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per pair and side (default: 10; each pair plays twice as many)")
    parser.add_argument("--seed", type=int, default=0, help="arena seed; every pairing's seed derives from it (default: 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--workers", type=int, default=1, help="processes playing pairings at once (default: 1)")
    parser.add_argument(
        "--address", default=None,
        help="play the pairings as Ray tasks on this cluster, e.g. auto or ray://HOST:10001 (default: --workers local processes)",
    )  # fmt: skip
    add_env_kwarg_argument(parser)
    parser.add_argument("--no-builtins", action="store_true", help=f"do not add the built-in entrants (default: {', '.join(BUILTIN_ENTRANTS)} are added)")


def run_arena_command(args: argparse.Namespace) -> dict[str, Any]:
    """Run the arena as the options say, print the tables and the files; return the JSON summary.

    Raises:
        mfagents.commands.errors.UsageError: bad settings or a bad SPEC (exit status 2).
    """
    from mfagents.commands.errors import UsageError
    from mfagents.common.checkpoint import CheckpointError
    from mfagents.training.config import parse_key_values

    from mfagents.common.pipeline import BATTLE_GAMES
    from mfenvs.registration import find

    try:
        short_name = find(args.env).short_name
        check_arena_env(short_name)
        scripted = short_name in BATTLE_GAMES
        env_kwargs = parse_key_values(args.env_kwarg, "--env-kwarg")
        entrants = entrant_list(args.specs, not args.no_builtins, scripted)
        print(f"arena: {args.env}, {len(entrants)} entrants, {args.rounds} rounds per pair and side, seed {args.seed}, {args.workers} worker(s)")
        summary = run_arena(
            args.env, args.specs, args.rounds, args.seed, args.out, args.workers, env_kwargs, not args.no_builtins,
            override_run_settings=args.override_run_settings, address=args.address,
        )  # fmt: skip
    except (ValueError, TypeError, FileNotFoundError, CheckpointError, ImportError) as error:
        raise UsageError(str(error)) from None
    print(summary.pop("tables"))
    for name, path in summary["files"].items():
        print(f"wrote {path}")
    return summary
