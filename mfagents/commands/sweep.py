"""``mfzoo sweep``: one training run per combination of algorithms, seeds and settings, on Ray (``mfagents.experiments.sweep``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mfagents.commands.errors import UsageError
from mfagents.commands.shared import Summary


# == sweep ==========================================================================================
def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mfzoo sweep`` (``mfagents.experiments.sweep``)."""
    from mfagents.commands.helptext import spec_forms

    parser.add_argument("env", help="environment: battle, ising, gaussian_squeeze")
    parser.add_argument("--algo", required=True, help="comma-separated learners, e.g. mfq,il (required)")
    parser.add_argument("--seeds", required=True, help="seeds: a range 0-4, a list 0,2,5, or both 0-2,7 (required)")
    parser.add_argument(
        "--env-kwarg", action="append", default=[], metavar="KEY=V1,V2",
        help="environment argument and its values (repeatable; one run per combination), e.g. n_agents=500,1000 "
        "(default: the training defaults)",
    )  # fmt: skip
    parser.add_argument("--algo-kwarg", action="append", default=[], metavar="KEY=V1,V2", help="learner setting and its values (repeatable; default: the training defaults)")
    parser.add_argument("--rounds", type=int, default=None, help="budget of every run in rounds (default: the environment's)")
    parser.add_argument("--preset", default=None, choices=("default", "paper"), help="table of training defaults (default: default)")
    parser.add_argument(
        "--opponent", default=None, metavar="SPEC",
        help=f"Battle's blue team of every run: self, train:ALGO or a policy SPEC (default: self-play). {spec_forms()}",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="sweep folder: one run directory per run, sweep.csv and sweep.json (required)")
    parser.add_argument("--address", default=None, help="Ray cluster to join, e.g. auto or ray://HOST:10001 (default: a local Ray on this machine)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs reserved per run: CPUs / this = runs at once (default: 1)")


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> ``[0, 1, 2, 3, 4]``, ``"0,2,5"`` -> ``[0, 2, 5]``, ``"0-2,7"`` -> ``[0, 1, 2, 7]``."""
    seeds: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise UsageError(f"--seeds expects non-negative integers and ranges like 0-4 or 0,2,5, got {text!r}") from None
        if low < 0 or high < low:
            raise UsageError(f"--seeds: {part.strip()!r} is not a range of non-negative seeds (low-high, low <= high)")
        seeds += range(low, high + 1)
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds lists a seed twice: {text!r}")
    return seeds


def parse_value_lists(pairs: Sequence[str], what: str) -> dict[str, list[Any]]:
    """``["n_agents=500,1000"]`` -> ``{"n_agents": [500, 1000]}``; values are Python literals or plain strings."""
    import ast

    grid: dict[str, list[Any]] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        key = key.strip()
        if not separator or not key or not text.strip():
            raise UsageError(f"{what} expects KEY=V1,V2,..., got {pair!r}")
        if key in grid:
            raise UsageError(f"{what}: {key!r} given twice")
        try:
            values = ast.literal_eval(f"[{text}]")
        except (ValueError, SyntaxError):
            values = [value.strip() for value in text.split(",")]
        if any(value == "" for value in values):
            raise UsageError(f"{what}: an empty value in {pair!r}")
        grid[key] = values
    return grid


def run_sweep_command(args: argparse.Namespace) -> Summary:
    """``mfzoo sweep``: check every run's settings, train them on Ray, print the table of final metrics."""
    from mfagents.experiments.sweep import SWEEP_CSV, SWEEP_JSON, grid, run_sweep
    from mfagents.training.config import RunConfig, resolve

    algos = [algo.strip() for algo in args.algo.split(",")]
    if not all(algos):
        raise UsageError(f"--algo expects comma-separated learners, got {args.algo!r}")
    if args.cpus_per_run <= 0:
        raise UsageError(f"--cpus-per-run must be > 0, got {args.cpus_per_run}")
    try:
        runs = grid(
            args.env, algos, parse_seeds(args.seeds), parse_value_lists(args.env_kwarg, "--env-kwarg"),
            parse_value_lists(args.algo_kwarg, "--algo-kwarg"), rounds=args.rounds, preset=args.preset, opponent=args.opponent,
        )  # fmt: skip
        for spec in runs:  # every setting checked before anything starts
            resolve(RunConfig(env=spec.env, algo=spec.algo, preset=spec.preset, seed=spec.seed, env_kwargs=spec.env_kwargs,
                              algo_kwargs=spec.algo_kwargs, opponent=spec.opponent, rounds=spec.rounds))  # fmt: skip
        print(f"sweep: {len(runs)} runs of {args.env} into {args.out} ({'Ray at ' + args.address if args.address else 'local Ray'})")
        rows = run_sweep(runs, args.out, address=args.address, cpus_per_run=args.cpus_per_run)
    except (ValueError, ImportError) as error:
        raise UsageError(str(error)) from None
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "skipped", "failed")}
    for row in rows:
        metrics = ", ".join(f"{key} {row[key]:.3g}" for key in ("win_rate", "kills", "G_ratio", "xi_late", "episodic_return") if key in row)
        print(f"{row['status']:>7}  {row['name']}" + (f"  {metrics}" if metrics else "") + (f"  {row['error']}" if row["error"] else ""))
    print(f"{counts['ok']} trained, {counts['skipped']} already finished, {counts['failed']} failed; wrote {args.out / SWEEP_CSV}, {args.out / SWEEP_JSON}")
    return {"command": "sweep", "env": args.env, "out": str(args.out), "runs": len(rows), **counts}
