"""``mfzoo reproduce``: one of the paper's experiments: runs, tables, plots, its REPRODUCTION.md section (``mfagents.experiments.reproduce``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mfagents.commands.errors import UsageError
from mfagents.commands.shared import Summary


# == reproduce ======================================================================================
def add_reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mfzoo reproduce`` (``mfagents.experiments.reproduce``)."""
    parser.add_argument("experiment", metavar="EXPERIMENT", help="gaussian_squeeze, battle or ising (mfagents.experiments.reproduce.experiments())")
    parser.add_argument("--quick", action="store_true", help="tiny settings that exercise everything in about a minute, learning little (default: the full experiment)")
    parser.add_argument("--preset", default=None, help="table of training defaults (paper: the paper's Battle budget, 2000 rounds; default: default)")
    parser.add_argument("--address", default=None, help="Ray cluster to run on (default: a local Ray on this machine)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs reserved per run: CPUs / this = runs at once (default: 1)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: results/EXPERIMENT, --quick: runs/reproduce/EXPERIMENT-quick)")
    parser.add_argument(
        "--algos", default=None, metavar="ALGO,ALGO",
        help="gaussian_squeeze: train and analyse only these algorithms, keeping the others' rows of the previous "
        "analysis in OUT (after one algorithm's defaults changed) (default: every algorithm)",
    )  # fmt: skip
    parser.add_argument("--analyse-only", action="store_true", help="analyse the runs OUT/runs holds, train nothing (default: train what is missing first)")
    parser.add_argument(
        "--report", type=Path, default=Path("REPRODUCTION.md"),
        help="Markdown file whose section of this experiment is replaced by the new one (full runs only; default REPRODUCTION.md)",
    )  # fmt: skip


def run_reproduce(args: argparse.Namespace) -> Summary:
    """``mfzoo reproduce``: train the experiment's runs through the sweep, analyse them, print the Markdown section."""
    from mfagents.experiments.reproduce import experiments, reproduce

    if args.experiment not in experiments():
        raise UsageError(f"unknown experiment {args.experiment!r}; choose one of {', '.join(experiments())}")
    if args.cpus_per_run <= 0:
        raise UsageError(f"--cpus-per-run must be > 0, got {args.cpus_per_run}")
    try:
        result = reproduce(
            args.experiment, quick=args.quick, preset=args.preset, address=args.address, out=args.out,
            cpus_per_run=args.cpus_per_run, train=not args.analyse_only, report=args.report,
            algos=None if args.algos is None else [algo for algo in args.algos.split(",") if algo],
        )  # fmt: skip
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(result["section"])
    return {"command": "reproduce", **{k: v for k, v in result.items() if k != "section"}}
