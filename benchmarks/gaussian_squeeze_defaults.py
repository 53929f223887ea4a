"""Does ``mfzoo train gaussian_squeeze`` solve the paper's Gaussian Squeeze with its defaults? K seeds, greedy eval.

The paper's largest setting: N = 1000 agents, mu = 400, sigma = 200, ten actions (the defaults of
``mfenvs/gaussian_squeeze-v0``). Every seed is trained with nothing but the defaults of ``mfzoo train``
(``mfagents.training.config.TRAINING_DEFAULTS["gaussian_squeeze"]``: 100 rounds of 100 steps)::

    mfzoo train gaussian_squeeze --algo mfq --seed S --out DIR --no-progress

and its greedy joint policy then played for ``--eval-rounds`` rounds::

    mfzoo eval gaussian_squeeze --policy DIR --rounds 4 --seed 0

Each command is its own process with ``OMP_NUM_THREADS=1`` (torch uses one thread, as ``mfzoo train``
does by default); ``--workers`` seeds run side by side. The table gives, per seed, the greedy G / G*
(``G_ratio``: mean over the second half of each round, once the joint action has settled), its value at
the last step, G / G* of the last training round (epsilon-greedy, epsilon = 0.05) and the training
time (the training loop, without the imports). The goal is G / G* >= 0.98 on every seed.

Run::

    python benchmarks/gaussian_squeeze_defaults.py                        # MF-Q, 8 seeds, 2 workers: ~20 minutes on 2 cores
    python benchmarks/gaussian_squeeze_defaults.py --algos mfq il         # IL too (independent learners, no mean action)
    python benchmarks/gaussian_squeeze_defaults.py --rounds 2 --seeds 1   # smoke test, a few seconds (learns nothing)
    python benchmarks/gaussian_squeeze_defaults.py --write                # also update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(BENCHMARKS_DIR))

from _timing import machine_description, publish  # noqa: E402

SECTION = "## Gaussian Squeeze N = 1000 with the default MF-Q settings (issue 4)"
GOAL = 0.98
COLUMNS = ("algo", "seed", "G/G* (greedy eval)", "G/G* last step (greedy eval)", "G/G* last training round", "training s")


def run_command(arguments: list[str]) -> dict:
    """Run ``mfzoo ARGUMENTS`` in its own single-threaded process and return the JSON summary it prints last."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "mfagents.commands.cli", *arguments], check=False, capture_output=True, text=True, cwd=REPO_ROOT, env=env
    )
    if completed.returncode != 0:
        raise RuntimeError(f"mfzoo {' '.join(arguments)} failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_seed(algo: str, seed: int, rounds: int | None, eval_rounds: int, out: Path) -> dict:
    """Train one seed with the defaults, then evaluate its greedy policy."""
    directory = out / f"{algo}-s{seed}"
    budget = [] if rounds is None else ["--rounds", str(rounds)]
    start = time.perf_counter()
    train = run_command(["train", "gaussian_squeeze", "--algo", algo, "--seed", str(seed), "--out", str(directory), "--no-progress", *budget])
    evaluation = run_command(["eval", "gaussian_squeeze", "--policy", str(directory), "--rounds", str(eval_rounds), "--seed", "0"])
    result = {
        "algo": algo,
        "seed": seed,
        "G_ratio": evaluation["G_ratio"],
        "G_ratio_last": evaluation["G_ratio_last"],
        "train_G_ratio": train["G_ratio"],
        "train_epsilon": train.get("epsilon"),
        "train_s": train["wall_time_s"],
        "process_s": time.perf_counter() - start,
        "rounds": train["rounds"],
        "agent_steps": train["agent_steps"],
        "settings": settings(directory),
    }
    print(f"  {algo} seed {seed}: greedy G/G* {result['G_ratio']:.3f}, trained in {result['train_s']:.0f} s", file=sys.stderr)
    return result


def settings(directory: Path) -> str:
    """The resolved environment and learner settings a run used, from its ``config.json``."""
    config = json.loads((directory / "config.json").read_text())
    values = {**config["env_kwargs"], **config["algo_kwargs"], "rounds": config["rounds"], "n_envs": config["n_envs"]}
    return ", ".join(f"{key}={value!r}" for key, value in values.items())


def settings_lines(results: list[dict]) -> list[str]:
    """One line per algorithm with the settings all its runs shared (a run whose settings differ is an error:
    the defaults changed while the benchmark ran)."""
    lines = []
    for algo in dict.fromkeys(r["algo"] for r in results):
        used = {r["settings"] for r in results if r["algo"] == algo}
        if len(used) != 1:
            raise RuntimeError(f"the {algo} runs used different settings (were the defaults edited meanwhile?): {sorted(used)}")
        lines.append(f"Settings of {algo} (its runs' `config.json`): `{used.pop()}`.")
    return lines


def measure(algos: list[str], seeds: list[int], workers: int, rounds: int | None, eval_rounds: int, out: Path) -> list[dict]:
    jobs = [(algo, seed) for algo in algos for seed in seeds]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_seed, algo, seed, rounds, eval_rounds, out) for algo, seed in jobs]
        return [future.result() for future in futures]


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        lines.append(
            f"| {r['algo']} | {r['seed']} | {r['G_ratio']:.3f} | {r['G_ratio_last']:.3f} "
            f"| {r['train_G_ratio']:.3f} | {r['train_s']:.0f} |"
        )
    return "\n".join(lines)


def summary_lines(results: list[dict]) -> list[str]:
    """Per algorithm: min / median greedy G / G*, how many seeds reach the goal, median training time."""
    lines = []
    for algo in dict.fromkeys(r["algo"] for r in results):
        runs = [r for r in results if r["algo"] == algo]
        ratios = [r["G_ratio"] for r in runs]
        solved = sum(ratio >= GOAL for ratio in ratios)
        lines.append(
            f"**{algo}: greedy G / G* min {min(ratios):.3f}, median {statistics.median(ratios):.3f}; "
            f"{solved} of {len(runs)} seeds >= {GOAL}; training {statistics.median(r['train_s'] for r in runs):.0f} s (median)**"
        )
    return lines


def report(results: list[dict], workers: int, eval_rounds: int, wall_s: float, argv: list[str]) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    command = "python benchmarks/gaussian_squeeze_defaults.py" + ("" if not argv else " " + " ".join(argv))
    first = results[0]
    epsilon = "?" if first["train_epsilon"] is None else f"{first['train_epsilon']:.2f}"
    return "\n".join(
        [
            SECTION,
            "",
            f"Goal: `mfzoo train gaussian_squeeze --algo mfq` with no budget or other flag reaches G / G* >= {GOAL} on the",
            "paper's largest setting (N = 1000, mu = 400, sigma = 200, ten actions) in a few minutes on 2 cores.",
            "Each seed: `mfzoo train gaussian_squeeze --algo ALGO --seed S` with the defaults of",
            "`mfagents.training.config.TRAINING_DEFAULTS`, then its greedy joint policy played by",
            f"`mfzoo eval gaussian_squeeze --policy DIR --rounds {eval_rounds} --seed 0`; every process has one torch thread",
            f"(`OMP_NUM_THREADS=1`), {min(workers, len(results))} run(s) at a time.",
            "",
            f"Command: `{command}`  ",
            f"Date: {datetime.date.today().isoformat()}  ",
            f"Machine: {machine_description()}; load average {load:.1f} at the end  ",
            (
                f"{first['rounds']} rounds ({first['agent_steps']:,} agent-steps) of training per seed; "
                f"{len(results)} run(s) in {wall_s / 60:.1f} minutes of wall time."
            ),
            "",
            table(results),
            "",
            *summary_lines(results),
            "",
            *settings_lines(results),
            "",
            "Columns: \"G/G* (greedy eval)\" is G / G* averaged over the second half of every evaluation round (the",
            "first half lets the joint action settle: every round starts from \"everyone sends 0\" and a few agents",
            "revise their action per step), \"last step\" its value at the last step of the rounds; \"last training",
            f"round\" is the same average over the last training round, played epsilon-greedily (epsilon = {epsilon}), so",
            "exploration costs it a little; \"training s\" is the training loop's wall time (without the imports).",
            f"G / G* >= {GOAL} needs the load x within 418..472 (the optimum is x* = 445, G* = 423).",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", nargs="+", choices=("mfq", "il"), default=["mfq"], help="learners to train (default: mfq)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds per learner, 0..K-1 from --first-seed (default: 8)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="seeds trained side by side, one process each (default: 2)")
    parser.add_argument("--rounds", type=int, default=None, help="training rounds per seed (default: the defaults' 200)")
    parser.add_argument("--eval-rounds", type=int, default=4, help="greedy evaluation rounds per seed (default: 4)")
    parser.add_argument("--out", type=Path, default=None, help="keep the run directories here (default: a temporary directory)")
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1 or args.eval_rounds < 1 or (args.rounds is not None and args.rounds < 1):
        parser.error("--seeds, --workers, --eval-rounds and --rounds must be positive")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mfzoo-squeeze-") as scratch:
        out = args.out if args.out is not None else Path(scratch)
        results = measure(args.algos, seeds, args.workers, args.rounds, args.eval_rounds, out)
    wall_s = time.perf_counter() - start
    shown = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--write"]
    text = report(results, args.workers, args.eval_rounds, wall_s, shown)
    publish(SECTION, text, args.write, REPO_ROOT / "BENCHMARKS.md")


if __name__ == "__main__":
    main()
