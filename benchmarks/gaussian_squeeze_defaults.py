"""Does ``mfzoo train gaussian_squeeze`` solve the Gaussian Squeeze with its defaults? K seeds, greedy and stochastic eval.

The paper's largest setting is N = 1000 agents, mu = 400, sigma = 200, ten actions (the defaults of
``mfenvs/gaussian_squeeze-v0``); ``--setting`` trains others. Every seed is trained with nothing but the
defaults of ``mfzoo train`` (``mfagents.training.defaults.TRAINING_DEFAULTS["gaussian_squeeze"]``: 100 rounds
of 100 steps)::

    mfzoo train gaussian_squeeze --algo ALGO --seed S --out DIR --env-kwarg n_agents=N ... --no-progress

and its joint policy then played greedily and stochastically for ``--eval-rounds`` rounds::

    mfzoo eval gaussian_squeeze --policy DIR --rounds 4 --seed 0 [--stochastic]

Each command is its own process with ``OMP_NUM_THREADS=1``; ``--workers`` runs go side by side. Per run the
table gives the greedy G / G* (``G_ratio``: mean over the second half of each round), the stochastic one
(learners sample their policy: MF-AC / AC pi, MF-Q / IL their final epsilon-greedy), G / G* of the last
training round and the training time. Per algorithm and setting: the mean over seeds with its Student-t
95 % interval, and how many seeds reach ``--goal``. The exit status is 1 when the mean greedy G / G* of an
algorithm in ``--guard`` misses the goal at some setting (a learning guard, not a CI test: minutes per run).
``--out DIR`` keeps the runs; a run whose ``summary.json`` exists there is evaluated, not trained again.

Run::

    python benchmarks/gaussian_squeeze_defaults.py                        # MF-Q, 8 seeds, 2 workers: ~20 minutes on 2 cores
    python benchmarks/gaussian_squeeze_defaults.py --algos mfq il         # IL too (independent learners, no mean action)
    python benchmarks/gaussian_squeeze_defaults.py --algos mfac ac --seeds 5 --goal 0.99 --guard mfac \
        --setting n_agents=500 --setting n_agents=1000 --heading "## Gaussian Squeeze: MF-AC with separate actors (issue 24)"
    python benchmarks/gaussian_squeeze_defaults.py --rounds 2 --seeds 1   # smoke test, a few seconds (learns nothing)
    python benchmarks/gaussian_squeeze_defaults.py --write                # also update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
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
COLUMNS = ("algo", "setting", "seed", "G/G* greedy", "G/G* last step greedy", "G/G* stochastic", "G/G* last training round", "training s")


def run_command(arguments: list[str]) -> dict:
    """Run ``mfzoo ARGUMENTS`` in its own single-threaded process and return the JSON summary it prints last."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "mfagents", *arguments], check=False, capture_output=True, text=True, cwd=REPO_ROOT, env=env
    )
    if completed.returncode != 0:
        raise RuntimeError(f"mfzoo {' '.join(arguments)} failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def parse_setting(text: str) -> dict[str, str]:
    """``"n_agents=1000,mu=600"`` -> ``{"n_agents": "1000", "mu": "600"}`` (values as the command line takes them)."""
    pairs = [item.partition("=") for item in text.split(",") if item]
    if not pairs or any(not key or not sep for key, sep, _ in pairs):
        raise ValueError(f"--setting expects KEY=VALUE[,KEY=VALUE...], got {text!r}")
    return {key: value for key, _, value in pairs}


def setting_label(setting: dict[str, str]) -> str:
    """A run-directory label: ``N1000`` or ``N1000-mu600-sigma150``."""
    parts = [f"N{setting['n_agents']}"] if "n_agents" in setting else []
    return "-".join(parts + [f"{key}{value}" for key, value in setting.items() if key != "n_agents"]) or "default"


def run_seed(algo: str, setting: dict[str, str], seed: int, rounds: int | None, eval_rounds: int, out: Path) -> dict:
    """Train one seed with the defaults (unless ``out`` holds it already), then evaluate it greedily and stochastically."""
    label = setting_label(setting)
    directory = out / f"{algo}-{label}-s{seed}"
    env_args = [arg for key, value in setting.items() for arg in ("--env-kwarg", f"{key}={value}")]
    start = time.perf_counter()
    stored = directory / "summary.json"
    if stored.exists():
        train = json.loads(stored.read_text())
    else:
        budget = [] if rounds is None else ["--rounds", str(rounds)]
        command = ["train", "gaussian_squeeze", "--algo", algo, "--seed", str(seed), "--out", str(directory), *env_args]
        train = run_command([*command, "--no-progress", "--no-tensorboard", *budget])
        stored.write_text(json.dumps(train))
    evaluate = ["eval", "gaussian_squeeze", "--policy", str(directory), "--rounds", str(eval_rounds), "--seed", "0"]
    greedy = run_command(evaluate)
    stochastic = run_command([*evaluate, "--stochastic"])
    result = {
        "algo": algo,
        "setting": label,
        "seed": seed,
        "G_ratio": greedy["G_ratio"],
        "G_ratio_last": greedy["G_ratio_last"],
        "stochastic_G_ratio": stochastic["G_ratio"],
        "train_G_ratio": train["G_ratio"],
        "train_epsilon": train.get("epsilon"),
        "train_s": train["wall_time_s"],
        "process_s": time.perf_counter() - start,
        "rounds": train["rounds"],
        "agent_steps": train["agent_steps"],
        "settings": settings(directory),
    }
    print(f"  {algo} {label} seed {seed}: greedy G/G* {result['G_ratio']:.3f}, trained in {result['train_s']:.0f} s", file=sys.stderr)
    return result


def settings(directory: Path) -> str:
    """The resolved learner settings a run used, from its ``config.json`` (the environment's are in the label)."""
    config = json.loads((directory / "config.json").read_text())
    values = {**config["algo_kwargs"], "rounds": config["rounds"], "n_envs": config["n_envs"], "max_cycles": config["env_kwargs"].get("max_cycles")}
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


def measure(algos: list[str], settings_: list[dict[str, str]], seeds: list[int], workers: int, rounds: int | None, eval_rounds: int, out: Path) -> list[dict]:
    jobs = [(algo, setting, seed) for setting in settings_ for algo in algos for seed in seeds]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_seed, algo, setting, seed, rounds, eval_rounds, out) for algo, setting, seed in jobs]
        return [future.result() for future in futures]


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        lines.append(
            f"| {r['algo']} | {r['setting']} | {r['seed']} | {r['G_ratio']:.3f} | {r['G_ratio_last']:.3f} "
            f"| {r['stochastic_G_ratio']:.3f} | {r['train_G_ratio']:.3f} | {r['train_s']:.0f} |"
        )
    return "\n".join(lines)


def mean_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95 % interval of the mean over seeds (``mfagents.experiments.reproduce.mean_interval``)."""
    from mfagents.experiments.reproduce import mean_interval as interval

    return interval(values)


def groups(results: list[dict]) -> dict[tuple[str, str], list[dict]]:
    keys = dict.fromkeys((r["algo"], r["setting"]) for r in results)
    return {key: [r for r in results if (r["algo"], r["setting"]) == key] for key in keys}


def summary_lines(results: list[dict], goal: float) -> list[str]:
    """Per algorithm and setting: greedy and stochastic means with their seed-level intervals, seeds at the goal."""
    lines = []
    for (algo, label), runs in groups(results).items():
        greedy, low, high = mean_interval([r["G_ratio"] for r in runs])
        stochastic, s_low, s_high = mean_interval([r["stochastic_G_ratio"] for r in runs])
        solved = sum(r["G_ratio"] >= goal for r in runs)
        lines.append(
            f"**{algo}, {label}: greedy G / G* {greedy:.3f} (95 % over seeds {low:.3f}..{high:.3f}), stochastic "
            f"{stochastic:.3f} ({s_low:.3f}..{s_high:.3f}); {solved} of {len(runs)} seeds >= {goal}; "
            f"training {statistics.median(r['train_s'] for r in runs):.0f} s (median)**  "
        )
    return lines


def misses(results: list[dict], goal: float, guarded: list[str]) -> list[str]:
    """The (algorithm, setting) pairs of ``guarded`` algorithms whose mean greedy G / G* is below ``goal``."""
    return [
        f"{algo} at {label}: mean greedy G / G* {statistics.fmean(r['G_ratio'] for r in runs):.3f} < {goal}"
        for (algo, label), runs in groups(results).items()
        if algo in guarded and statistics.fmean(r["G_ratio"] for r in runs) < goal
    ]


def report(results: list[dict], heading: str, goal: float, workers: int, eval_rounds: int, wall_s: float, argv: list[str]) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    command = shlex.join(["python", "benchmarks/gaussian_squeeze_defaults.py", *argv])
    first = results[0]
    return "\n".join(
        [
            heading,
            "",
            "Each seed: `mfzoo train gaussian_squeeze --algo ALGO --seed S --env-kwarg ...` with the defaults of",
            "`mfagents.training.defaults.TRAINING_DEFAULTS`, then its joint policy played by",
            f"`mfzoo eval gaussian_squeeze --policy DIR --rounds {eval_rounds} --seed 0` (greedy) and the same with",
            f"`--stochastic`; every process has one torch thread (`OMP_NUM_THREADS=1`), {min(workers, len(results))} run(s) at a time.",
            "",
            f"Command: `{command}`  ",
            f"Date: {datetime.date.today().isoformat()}  ",
            f"Machine: {machine_description()}; load average {load:.1f} at the end  ",
            f"{first['rounds']} rounds of training per seed; {len(results)} run(s) in {wall_s / 60:.1f} minutes of wall time.",
            "",
            table(results),
            "",
            *summary_lines(results, goal),
            "",
            *settings_lines(results),
            "",
            "Columns: \"greedy\" is G / G* of the greedy joint policy averaged over the second half of every evaluation",
            "round, \"last step\" its value at the last step; \"stochastic\" the same with every learner sampling its policy;",
            "\"last training round\" the average over the last training round as played while training (exploring);",
            "\"training s\" the training loop's wall time (without the imports) on a shared machine.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", nargs="+", choices=("mfq", "il", "mfac", "ac"), default=["mfq"], help="learners to train (default: mfq)")
    parser.add_argument(
        "--setting", action="append", default=None, metavar="KEY=VALUE[,KEY=VALUE]",
        help="environment arguments of one setting (repeatable), e.g. n_agents=500 (default: the paper's N = 1000)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=8, help="seeds per learner and setting, 0..K-1 from --first-seed (default: 8)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="runs trained side by side, one process each (default: 2)")
    parser.add_argument("--rounds", type=int, default=None, help="training rounds per run (default: the defaults')")
    parser.add_argument("--eval-rounds", type=int, default=4, help="evaluation rounds per run (default: 4)")
    parser.add_argument("--goal", type=float, default=GOAL, help=f"greedy G / G* a seed should reach (default: {GOAL})")
    parser.add_argument("--guard", nargs="*", default=[], metavar="ALGO", help="exit 1 if one of these misses the goal on average at some setting")
    parser.add_argument("--heading", default=SECTION, help="BENCHMARKS.md section this run writes (default: the MF-Q section)")
    parser.add_argument("--out", type=Path, default=None, help="keep the run directories here, and reuse finished ones (default: a temporary directory)")
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1 or args.eval_rounds < 1 or (args.rounds is not None and args.rounds < 1):
        parser.error("--seeds, --workers, --eval-rounds and --rounds must be positive")
    try:
        settings_ = [parse_setting(text) for text in args.setting or ["n_agents=1000"]]
    except ValueError as error:
        parser.error(str(error))
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mfzoo-squeeze-") as scratch:
        out = args.out if args.out is not None else Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        results = measure(args.algos, settings_, seeds, args.workers, args.rounds, args.eval_rounds, out)
    wall_s = time.perf_counter() - start
    shown = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--write"]
    text = report(results, args.heading, args.goal, args.workers, args.eval_rounds, wall_s, shown)
    publish(args.heading, text, args.write, REPO_ROOT / "BENCHMARKS.md")
    missed = misses(results, args.goal, args.guard)
    if missed:
        print("goal missed: " + "; ".join(missed), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
