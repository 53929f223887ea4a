"""The search for a Battle recipe that beats the scripted fighter (issue 23): every tuning run, from its own logs.

Each tuning run is a ``mfzoo train battle`` run directory whose ``config.json`` and ``metrics.csv`` are kept in
``results/battle_recipe/RUN/``. This script rebuilds the command of each from its config and tabulates the
evaluation panel it logged while training (greedy, on the panel's evaluation seeds, never training seeds):
the win rate against ``scripted`` with the mean kills on both sides at every evaluation, its best, and the
last one. Nothing is re-run; the numbers are the runs' own.

Run::

    python benchmarks/battle_recipe_search.py                 # print the section
    python benchmarks/battle_recipe_search.py --write         # update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(BENCHMARKS_DIR))

from _timing import publish  # noqa: E402

SECTION = "## Battle: the search for a recipe that beats the scripted fighter (issue 23)"
RUNS = REPO_ROOT / "results" / "battle_recipe"
TRAINING_DEFAULTS = {"obs_dtype", "temperature_start", "temperature_end", "replay_ratio", "learning_rate", "learning_starts"}
"""Learner settings every Battle run gets from the defaults table: left out of the commands shown."""
ENV_DEFAULTS = {"extra_features", "dead_agents", "map_size"}


def command(config: dict) -> str:
    """The ``mfzoo train`` command that ``config.json`` resolves from (defaults left out)."""
    parts = [f"mfzoo train battle --algo {config['algo']} --seed {config['seed']}"]
    if config.get("opponent") not in (None, "self"):
        parts.append(f"--opponent {config['opponent']}")
    parts.append(f"--rounds {config['rounds']}")
    defaults = {"learning_rate": 5e-4}
    for key, value in config["algo_kwargs"].items():
        if key not in TRAINING_DEFAULTS or defaults.get(key, value) != value:
            parts.append(f"--algo-kwarg {key}={value}")
    for key, value in config["env_kwargs"].items():
        if key not in ENV_DEFAULTS:
            parts.append(f"--env-kwarg {key}={value}")
    return " ".join(parts)


def evaluations(rows: list[dict[str, str]], opponent: str) -> list[tuple[int, float, float, float]]:
    """(rounds, win rate, kills, opponent kills) of every evaluation against ``opponent`` in the log."""
    key = f"eval/{opponent}/win_rate"
    return [
        (int(r["rounds"]), float(r[key]), float(r[f"eval/{opponent}/kills"]), float(r[f"eval/{opponent}/opponent_kills"]))
        for r in rows
        if r.get(key)
    ]


def run_row(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())
    with open(run / "metrics.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    scripted = evaluations(rows, "scripted")
    random_wins = {r: win for r, win, _, _ in evaluations(rows, "random")}
    eval_rounds = config.get("eval_rounds", 10)
    trace = ", ".join(f"{r}: {round(w * eval_rounds)}/{eval_rounds} ({k:.0f} v {o:.0f})" for r, w, k, o in scripted)
    best = max(scripted, key=lambda e: (e[1], e[2] - e[3]))
    done = int(rows[-1]["rounds"])
    times = [float(r["perf/wall_time_s"]) for r in rows]
    # a resumed run restarts its clock (and refills its replay buffer): sum the stretches, name where it resumed
    stretch_ends = [i for i in range(len(times)) if i == len(times) - 1 or times[i + 1] < times[i]]
    minutes = sum(times[i] for i in stretch_ends) / 60
    budget = f"{done} of {config['rounds']}" if done < config["rounds"] else f"{done}"
    resumed = [int(rows[i]["rounds"]) for i in stretch_ends[:-1]]
    if resumed:
        budget += ", resumed at " + ", ".join(map(str, resumed))
    return (
        f"| {run.name} | `{command(config)}` | {budget} ({minutes:.0f} min) | {trace} | "
        f"{round(best[1] * eval_rounds)}/{eval_rounds} at {best[0]} | "
        f"{round(random_wins[best[0]] * eval_rounds)}/{eval_rounds} |"
    )


def run_order(run: Path) -> tuple[int, str]:
    """Runs in the order they were made: by the number after ``e`` (e2 before e10), then by name."""
    digits = "".join(c for c in run.name.split("-")[0] if c.isdigit())
    return (int(digits) if digits else 0, run.name)


def report(runs: list[Path]) -> str:
    lines = [
        SECTION,
        "",
        "Tuning seeds (>= 100), except the `rep-*` rows: the recipe on a reported seed. Each row is one `mfzoo train battle` run on the",
        "paper's map (40 x 40, 64 v 64, minimap and features, 400-step rounds) with the Battle learner defaults",
        "unless the command says otherwise, evaluated while training by the panel (greedy, 20 rounds against each of",
        "`random` and `scripted` every 50 or 100 rounds, on evaluation seeds). Machine: AMD EPYC (`lscpu` gives no",
        "model), 2 cores shared with another run and test suites, one torch thread per run. Logs:",
        "`results/battle_recipe/RUN/`; table: `python benchmarks/battle_recipe_search.py`.",
        "",
        "| run | command | rounds (time) | against scripted at each evaluation: wins (kills v scripted's) | best | against random at the best |",
        "|---|---|---|---|---|---|",
    ]
    lines += [run_row(run) for run in runs]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=RUNS, help="folder of the kept tuning runs (default: results/battle_recipe)")
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args()
    runs = sorted((path for path in args.runs.iterdir() if (path / "metrics.csv").is_file()), key=run_order)
    if not runs:
        parser.error(f"no run directories with a metrics.csv in {args.runs}")
    publish(SECTION, report(runs), args.write, REPO_ROOT / "BENCHMARKS.md")


if __name__ == "__main__":
    main()
