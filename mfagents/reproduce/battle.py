"""Battle (the paper's Section 5.3): MF-Q, IL, MF-AC and AC trained by self-play, seeds 0-2, then cross-play.

Every run is ``mfzoo train battle --algo ALGO --seed S`` with the defaults of ``mfagents.config.TRAINING_DEFAULTS``
(the paper's 40 x 40 map, 64 v 64, self-play with refresh-on-win; 250 rounds) or ``--preset paper`` (2000
rounds). The analysis puts every finished run in ``mfagents.arena`` (every pair, both sides) and folds the
games by algorithm: the win rate of each algorithm against each other one with a Wilson 95 % interval over
all the games its seeds played against the other's seeds, mean kills and total reward per side.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from mfagents.reproduce import mean_interval
from mfagents.reproduce._common import command_line, curve, fmt, pyplot, write_csv
from mfagents.stats import rate_with_interval
from mfagents.sweep import RunSpec, run_progress

ENV = "battle"
ALGOS = ("mfq", "il", "mfac", "ac")
LABELS = {"mfq": "MF-Q", "il": "IL", "mfac": "MF-AC", "ac": "AC"}
SEEDS = (0, 1, 2)
ARENA_ROUNDS = 10
"""Rounds per pair of runs and side in the full cross-play (each pair of runs plays 20 games)."""
QUICK_ENV = {"map_size": 12, "team_size": 4, "max_cycles": 20}
QUICK_SEEDS = (0,)
QUICK_ROUNDS = 2
QUICK_ARENA_ROUNDS = 2
PAPER = {("mfq", "il"): 0.90, ("mfq", "mfac"): 0.99, ("mfq", "ac"): 0.98, ("il", "mfac"): 0.96, ("il", "ac"): 0.97, ("mfac", "ac"): 0.72}
"""The paper's cross-play win rates (row algorithm against column algorithm)."""


def local_cores() -> int:
    """CPU cores this process may use (its affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def runs(quick: bool, preset: str | None = None) -> list[RunSpec]:
    """Self-play runs, seed by seed (every algorithm's seed 0 first)."""
    if quick:
        return [RunSpec(ENV, algo, seed, env_kwargs=QUICK_ENV, rounds=QUICK_ROUNDS, preset=preset) for seed in QUICK_SEEDS for algo in ALGOS]
    return [RunSpec(ENV, algo, seed, preset=preset) for seed in SEEDS for algo in ALGOS]


def analyse(runs_dir: Path, results_dir: Path, quick: bool, address: str | None = None) -> str:
    """Cross-play of every finished run (``mfagents.arena``), folded by algorithm; learning curves; CSVs, PNGs, section.

    The cross-play (every pair of runs, both sides: 1,320 games for 12 runs) plays on the Ray cluster at
    ``address``, else in one local process per core; the games are the same either way.
    """
    from mfagents.arena import run_arena

    runs_dir, results_dir = Path(runs_dir), Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    specs = runs(quick)
    per_run = []
    for spec in specs:
        status = run_progress(runs_dir / spec.name)
        per_run.append({"algo": spec.algo, "seed": spec.seed, "run": spec.name, "status": status["status"],
                        "rounds_done": status["rounds_done"], "rounds": status["rounds"], "train_wall_s": status["wall_s"]})  # fmt: skip
    write_csv(results_dir / "runs.csv", per_run)
    finished = [r for r in per_run if r["status"] == "finished"]
    algo_of = {str(runs_dir / r["run"]): r["algo"] for r in finished}

    pairs: list[dict[str, Any]] = []
    if len({r["algo"] for r in finished}) >= 2:
        arena = run_arena(ENV, list(algo_of), rounds=QUICK_ARENA_ROUNDS if quick else ARENA_ROUNDS, seed=0,
                          out=results_dir / "arena", builtins=not quick, address=address,
                          workers=1 if quick or address else local_cores())  # fmt: skip
        matchups = json.loads(Path(arena["files"]["json"]).read_text())["matchups"]
        for a in ALGOS:
            for b in ALGOS:
                rows = [m for m in matchups if algo_of.get(m["entrant"]) == a and algo_of.get(m["opponent"]) == b and m["entrant"] != m["opponent"]]
                if a == b or not rows:
                    continue
                games = sum(m["games"] for m in rows)
                wins = sum(m["wins"] for m in rows)
                draws = sum(m["draws"] for m in rows)
                rate = rate_with_interval(wins, games)
                pairs.append({
                    "algo": a, "opponent": b, "games": games, "wins": wins, "draws": draws, "losses": games - wins - draws,
                    "win_rate": rate["rate"], "ci95_low": rate["ci95"][0], "ci95_high": rate["ci95"][1],
                    "mean_kills": sum(m["mean_kills"] * m["games"] for m in rows) / games,
                    "mean_opponent_kills": sum(m["mean_opponent_kills"] * m["games"] for m in rows) / games,
                    "mean_total_reward": sum(m["mean_reward"] * m["games"] for m in rows) / games,
                    "mean_opponent_total_reward": sum(m["mean_opponent_reward"] * m["games"] for m in rows) / games,
                    "paper": PAPER.get((a, b), 1.0 - PAPER[(b, a)] if (b, a) in PAPER else math.nan) if not quick else math.nan,
                })  # fmt: skip
    write_csv(results_dir / "cross_play.csv", pairs, ["algo", "opponent", "games", "wins", "draws", "losses", "win_rate", "ci95_low", "ci95_high",
                                                     "mean_kills", "mean_opponent_kills", "mean_total_reward", "mean_opponent_total_reward", "paper"])  # fmt: skip
    _plot_matrix(pairs, results_dir / "cross_play.png")

    curves = []
    for algo in ALGOS:
        seeds = [curve(runs_dir / r["run"], "charts/kills") for r in per_run if r["algo"] == algo and r["status"] != "not run"]
        rewards = [curve(runs_dir / r["run"], "charts/total_reward") for r in per_run if r["algo"] == algo and r["status"] != "not run"]
        for round_ in sorted({k for points in seeds for k in points}):
            kills = mean_interval([p[round_] for p in seeds if round_ in p])
            reward = mean_interval([p[round_] for p in rewards if round_ in p])
            curves.append({"algo": algo, "round": round_, "seeds": sum(round_ in p for p in seeds), "kills_mean": kills[0], "kills_ci95_low": kills[1],
                           "kills_ci95_high": kills[2], "total_reward_mean": reward[0]})  # fmt: skip
    write_csv(results_dir / "learning_curves.csv", curves, ["algo", "round", "seeds", "kills_mean", "kills_ci95_low", "kills_ci95_high", "total_reward_mean"])
    _plot_curves(curves, results_dir / "learning_curves.png")
    return _section(specs, per_run, pairs, quick)


def _plot_matrix(pairs: list[dict], path: Path) -> None:
    import numpy as np

    plt = pyplot()
    matrix = np.full((len(ALGOS), len(ALGOS)), np.nan)
    for p in pairs:
        matrix[ALGOS.index(p["algo"]), ALGOS.index(p["opponent"])] = p["win_rate"]
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="RdBu")
    for i in range(len(ALGOS)):
        for j in range(len(ALGOS)):
            if not np.isnan(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(ALGOS)), [LABELS[a] for a in ALGOS])
    ax.set_yticks(range(len(ALGOS)), [LABELS[a] for a in ALGOS])
    ax.set_xlabel("opponent")
    ax.set_title("win rate of row against column")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_curves(curves: list[dict], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for algo in ALGOS:
        points = [c for c in curves if c["algo"] == algo]
        if points:
            x = [c["round"] for c in points]
            line = ax.plot(x, [c["kills_mean"] for c in points], label=LABELS[algo])[0]
            low = [c["kills_mean"] if math.isnan(c["kills_ci95_low"]) else c["kills_ci95_low"] for c in points]
            high = [c["kills_mean"] if math.isnan(c["kills_ci95_high"]) else c["kills_ci95_high"] for c in points]
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("self-play round")
    ax.set_ylabel("kills per round (mean over seeds, 95 % CI)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _section(specs: list[RunSpec], per_run: list[dict], pairs: list[dict], quick: bool) -> str:
    finished = [r for r in per_run if r["status"] == "finished"]
    lines = [
        "## Battle" + (" (quick: tiny map, barely trained)" if quick else ""),
        "",
        f"Command: `{command_line(ENV, quick, specs)}`. {len(finished)} of {len(per_run)} runs finished.",
    ]
    if pairs:
        lines += [
            "",
            "Cross-play (`mfagents.arena`, every pair of finished runs on both sides), folded by algorithm: win rate of the row",
            "against the column with its Wilson 95 % interval over all games, mean kills and total reward per round of each side.",
            "",
            "| algorithm | opponent | games | win rate | 95 % interval | draws | kills (own / opp.) | total reward (own / opp.) | paper |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for p in pairs:
            lines.append(
                f"| {LABELS[p['algo']]} | {LABELS[p['opponent']]} | {p['games']} | {p['win_rate']:.2f} | {p['ci95_low']:.2f}..{p['ci95_high']:.2f} "
                f"| {p['draws']} | {p['mean_kills']:.1f} / {p['mean_opponent_kills']:.1f} | {p['mean_total_reward']:.1f} / {p['mean_opponent_total_reward']:.1f} "
                f"| {fmt(p['paper'], 2)} |"
            )
    else:
        lines += ["", "No cross-play: fewer than two algorithms have a finished run."]
    missing = [r for r in per_run if r["status"] != "finished"]
    if missing:
        lines += ["", "Not finished: " + ", ".join(f"`{r['run']}` ({r['status']})" for r in missing) + "."]
    lines += ["", "Files: `runs.csv`, `cross_play.csv`, `cross_play.png`, `learning_curves.csv`, `learning_curves.png`, `arena/`."]
    return "\n".join(lines)
