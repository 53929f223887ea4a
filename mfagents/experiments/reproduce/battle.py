"""Battle (the paper's Section 5.3): MF-Q, IL, MF-AC and AC trained by self-play, seeds 0-2, then cross-play.

Every run is ``mfzoo train battle --algo ALGO --seed S`` with the defaults of ``mfagents.training.config.TRAINING_DEFAULTS``
(the paper's 40 x 40 map, 64 v 64, self-play with refresh-on-win; 250 rounds) or ``--preset paper`` (2000
rounds). The analysis puts every finished run in ``mfagents.evaluation.arena`` (every pair, both sides) and folds the
games by algorithm: the win rate of each algorithm against each other one, mean kills and total reward per
side, with two intervals. The Wilson interval over all games treats every game as independent; games
between the same two runs are not (20 games of one pair of networks), so the verdicts use the seed-level
interval: Student-t over the win rates of the run pairs (3 x 3 for 3 seeds each).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from mfagents.evaluation.stats import rate_with_interval
from mfagents.experiments.reproduce import mean_interval
from mfagents.experiments.reproduce._common import (
    command_line,
    curve,
    fmt,
    pyplot,
    write_csv,
)
from mfagents.experiments.sweep import RunSpec, run_progress

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
SMOOTH_ROUNDS = 10
"""Rounds in the moving average of the learning-curve plot."""
STRENGTH_COLUMN = "eval/scripted"
"""The evaluation panel's columns (``mfagents.evaluation.panel``) behind the strength panel of the learning-curve plot."""
NEVER_ATTACK_REWARD = -128.0
"""Team total reward of a team that never attacks and never dies: 64 agents x 400 steps x -0.005."""
DIFFERENCES = (
    "How these runs differ from the paper's (Section 5.3, Appendix C.3; REFERENCE.md):",
    "",
    "- *Budget*: 250 self-play rounds per run (`mfzoo train battle --algo ALGO`'s default, sized for this 2-core "
    "machine), not the paper's 2000 (`--preset paper`). The team total reward rises from about -650 (-620 to -710) to +200-300 "
    "within the first 50 rounds (the paper: -820 to +200 within ~50), so the ranking at 250 rounds says how fast "
    "each learner gets there, not where 2000 rounds end.",
    "- *Learners*: MF-Q and IL use a Boltzmann temperature of 0.1 -> 0.01 in units of Q and Adam 5e-4 with every "
    "transition replayed once (`mfagents.training.config.BATTLE_Q_LEARNING`); MF-AC and AC use the expected actor gradient "
    "over all actions with an entropy weight 0.1 -> 0.01 (`BATTLE_ACTOR_CRITIC`): Algorithm 2 as written collapses "
    "to \"stay\" here (BENCHMARKS.md).",
    "- *Cross-play*: greedy teams, every pair of runs on both sides (arena seed 0); the paper does not say how many "
    "games its rates are over.",
)
"""What the Markdown section says about the setting, beside the numbers."""
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
    """Cross-play of every finished run (``mfagents.evaluation.arena``), folded by algorithm; learning curves; CSVs, PNGs, section.

    The cross-play (every pair of runs, both sides: 1,320 games for 12 runs) plays on the Ray cluster at
    ``address``, else in one local process per core; the games are the same either way.
    """
    from mfagents.evaluation.arena import run_arena

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
        arena_rounds = QUICK_ARENA_ROUNDS if quick else ARENA_ROUNDS
        matchups = _earlier_cross_play(results_dir / "arena", list(algo_of), arena_rounds, builtins=not quick)
        if matchups is None:
            arena = run_arena(ENV, list(algo_of), rounds=arena_rounds, seed=0, out=results_dir / "arena",
                              builtins=not quick, address=address, workers=1 if quick or address else local_cores())  # fmt: skip
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
                _, seeds_low, seeds_high = mean_interval([m["wins"] / m["games"] for m in rows])
                pairs.append({
                    "algo": a, "opponent": b, "games": games, "wins": wins, "draws": draws, "losses": games - wins - draws,
                    "win_rate": rate["rate"], "ci95_low": rate["ci95"][0], "ci95_high": rate["ci95"][1], "run_pairs": len(rows),
                    "seeds_ci95_low": max(seeds_low, 0.0), "seeds_ci95_high": min(seeds_high, 1.0),
                    "run_pair_win_rates": " ".join(f"{m['wins'] / m['games']:.2f}" for m in rows),
                    "mean_kills": sum(m["mean_kills"] * m["games"] for m in rows) / games,
                    "mean_opponent_kills": sum(m["mean_opponent_kills"] * m["games"] for m in rows) / games,
                    "mean_total_reward": sum(m["mean_reward"] * m["games"] for m in rows) / games,
                    "mean_opponent_total_reward": sum(m["mean_opponent_reward"] * m["games"] for m in rows) / games,
                    "paper": PAPER.get((a, b), 1.0 - PAPER[(b, a)] if (b, a) in PAPER else math.nan) if not quick else math.nan,
                })  # fmt: skip
    write_csv(results_dir / "cross_play.csv", pairs, ["algo", "opponent", "games", "wins", "draws", "losses", "win_rate", "ci95_low", "ci95_high",
                                                     "run_pairs", "seeds_ci95_low", "seeds_ci95_high", "run_pair_win_rates", "mean_kills", "mean_opponent_kills", "mean_total_reward", "mean_opponent_total_reward", "paper"])  # fmt: skip
    _plot_matrix(pairs, results_dir / "cross_play.png")

    curves = []
    for algo in ALGOS:
        ran = [runs_dir / r["run"] for r in per_run if r["algo"] == algo and r["status"] != "not run"]
        seeds = [curve(run, "charts/kills") for run in ran]
        rewards = [curve(run, "charts/total_reward") for run in ran]
        strength = strength_curve(ran)
        for round_ in sorted({k for points in seeds for k in points} | set(strength)):
            kills = mean_interval([p[round_] for p in seeds if round_ in p])
            reward = mean_interval([p[round_] for p in rewards if round_ in p])
            curves.append({"algo": algo, "round": round_, "seeds": sum(round_ in p for p in seeds), "kills_mean": kills[0], "kills_ci95_low": kills[1],
                           "kills_ci95_high": kills[2], "total_reward_mean": reward[0], **strength.get(round_, {})})  # fmt: skip
    write_csv(results_dir / "learning_curves.csv", curves, ["algo", "round", "seeds", "kills_mean", "kills_ci95_low", "kills_ci95_high", "total_reward_mean",
                                                            "scripted_seeds", "scripted_win_rate_mean", "scripted_win_rate_low", "scripted_win_rate_high", "scripted_kills_mean"])  # fmt: skip
    _plot_curves(curves, results_dir / "learning_curves.png")
    return _section(specs, per_run, pairs, quick, curves)


def strength_curve(run_dirs: list[Path]) -> dict[int, dict[str, float]]:
    """Strength against ``scripted`` over rounds from the evaluation panel's columns (``eval/scripted/...``) of runs.

    Returns ``{round: {"scripted_seeds", "scripted_win_rate_mean", "scripted_win_rate_low", "scripted_win_rate_high",
    "scripted_kills_mean"}}`` at every round some run evaluated: the mean win rate over the runs with its Student-t
    95 % interval over them (clipped to [0, 1]), or one run's own Wilson interval. Runs trained without the panel
    (``--eval-every 0``, or before it existed) have no such columns and add nothing.
    """
    columns = {field: [curve(run, f"{STRENGTH_COLUMN}/{field}") for run in run_dirs] for field in ("win_rate", "win_low", "win_high", "kills")}
    out: dict[int, dict[str, float]] = {}
    for round_ in sorted({k for points in columns["win_rate"] for k in points}):
        rates = [p[round_] for p in columns["win_rate"] if round_ in p]
        mean, low, high = mean_interval(rates)
        if len(rates) == 1:  # one run: its Wilson interval over its evaluation rounds
            low, high = (next(p[round_] for p in columns[field] if round_ in p) for field in ("win_low", "win_high"))
        out[round_] = {
            "scripted_seeds": len(rates), "scripted_win_rate_mean": mean, "scripted_win_rate_low": max(low, 0.0),
            "scripted_win_rate_high": min(high, 1.0), "scripted_kills_mean": mean_interval([p[round_] for p in columns["kills"] if round_ in p])[0],
        }  # fmt: skip
    return out


def _earlier_cross_play(arena_dir: Path, entrants: list[str], rounds: int, builtins: bool) -> list[dict[str, Any]] | None:
    """The matchups of the cross-play already in ``arena_dir`` when it is this one (the same entrants, rounds
    and seed, written after every run's files), else ``None``: the games are deterministic, so redrawing
    the tables need not replay them (1,320 games take about 20 minutes on 2 cores)."""
    from mfagents.evaluation.arena import entrant_list

    report = arena_dir / "arena.json"
    if not report.exists():
        return None
    earlier = json.loads(report.read_text())
    same = (
        earlier.get("entrants") == entrant_list(entrants, builtins)
        and earlier.get("rounds_per_side") == rounds
        and earlier.get("seed") == 0
    )
    newest_run = max((path.stat().st_mtime for run in entrants for path in Path(run).iterdir()), default=0.0)
    return earlier["matchups"] if same and report.stat().st_mtime > newest_run else None


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
    """Left: team total reward per round (the paper's Figure 6 quantity), a moving average over ``SMOOTH_ROUNDS``.
    Right: strength, the greedy win rate against ``scripted`` from the evaluation panel (mean over seeds; bars: the
    seed-level 95 % interval, or one run's Wilson interval)."""
    plt = pyplot()
    fig, (ax, strength) = plt.subplots(1, 2, figsize=(11, 3.8))
    for algo in ALGOS:
        points = [c for c in curves if c["algo"] == algo]
        if points:
            rewards = [c["total_reward_mean"] for c in points]
            smooth = [sum(rewards[max(0, i - SMOOTH_ROUNDS + 1) : i + 1]) / len(rewards[max(0, i - SMOOTH_ROUNDS + 1) : i + 1]) for i in range(len(rewards))]
            seeds = max(c["seeds"] for c in points)
            ax.plot([c["round"] for c in points], smooth, color=f"C{ALGOS.index(algo)}", label=f"{LABELS[algo]} ({seeds} seed{'s' if seeds != 1 else ''})")
    ax.axhline(NEVER_ATTACK_REWARD, color="grey", linestyle=":", linewidth=1, label="never attack")
    ax.set_xlabel("self-play round")
    ax.set_ylabel(f"team total reward per round\n(mean over seeds, {SMOOTH_ROUNDS}-round average)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)

    last_round = max((c["round"] for c in curves), default=1)
    for index, algo in enumerate(ALGOS):
        points = [c for c in curves if c["algo"] == algo and "scripted_win_rate_mean" in c]
        if points:
            dodge = (index - (len(ALGOS) - 1) / 2) * 0.008 * last_round  # the algorithms' bars side by side, not on top
            means = [c["scripted_win_rate_mean"] for c in points]
            below = [m - c["scripted_win_rate_low"] for m, c in zip(means, points)]
            above = [c["scripted_win_rate_high"] - m for m, c in zip(means, points)]
            seeds = max(c["scripted_seeds"] for c in points)
            strength.errorbar([c["round"] + dodge for c in points], means, yerr=[below, above], marker="o", markersize=3, capsize=2, color=f"C{index}",
                              linewidth=1, elinewidth=0.8, label=f"{LABELS[algo]} ({seeds} seed{'s' if seeds != 1 else ''})")  # fmt: skip
    strength.set_xlim(ax.get_xlim())
    strength.set_ylim(-0.02, 1.02)
    strength.set_xlabel("self-play round")
    strength.set_ylabel("greedy win rate against scripted\n(evaluation panel, mean over seeds)")
    if strength.get_legend_handles_labels()[0]:
        strength.legend(fontsize=7)
    else:
        strength.text(0.5, 0.5, "no run has eval/scripted columns\n(trained with --eval-every 0 or before it existed)",
                      ha="center", va="center", fontsize=8, transform=strength.transAxes)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _section(specs: list[RunSpec], per_run: list[dict], pairs: list[dict], quick: bool, curves: list[dict] | None = None) -> str:
    finished = [r for r in per_run if r["status"] == "finished"]
    lines = [
        "## Battle" + (" (quick: tiny map, barely trained)" if quick else ""),
        "",
        f"Command: `{command_line(ENV, quick, specs)}`. {len(finished)} of {len(per_run)} runs finished.",
    ]
    if pairs:
        lines += [
            "",
            "Cross-play (`mfagents.evaluation.arena`, every pair of finished runs on both sides, 20 games a pair), folded by algorithm: win",
            "rate of the row against the column; its 95 % interval over the seeds (Student-t over the win rates of the run pairs,",
            "which the verdicts below use) and over the games (Wilson, as if every game were independent: games between the",
            "same two networks are not, so it is far too narrow; run pairs that share a run are not independent either, so the",
            "seed interval is optimistic too); mean kills and total reward per round of each side.",
            "",
            "| algorithm | opponent | games | win rate | 95 % interval (seeds) | 95 % interval (games) | run pairs' win rates | draws | kills (own / opp.) | total reward (own / opp.) | paper |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in pairs:
            lines.append(
                f"| {LABELS[p['algo']]} | {LABELS[p['opponent']]} | {p['games']} | {p['win_rate']:.2f} | {p['seeds_ci95_low']:.2f}..{p['seeds_ci95_high']:.2f} "
                f"| {p['ci95_low']:.2f}..{p['ci95_high']:.2f} | {p['run_pair_win_rates']} "
                f"| {p['draws']} | {p['mean_kills']:.1f} / {p['mean_opponent_kills']:.1f} | {p['mean_total_reward']:.1f} / {p['mean_opponent_total_reward']:.1f} "
                f"| {fmt(p['paper'], 2)} |"
            )
    else:
        lines += ["", "No cross-play: fewer than two algorithms have a finished run."]
    if pairs and not quick:
        lines += ["", "Target: the paper's ordering (each row algorithm above the column one; met when the seed-level interval is clear of 0.5):"]
        for (a, b), paper in PAPER.items():
            row = next((p for p in pairs if p["algo"] == a and p["opponent"] == b), None)
            if row is None:
                verdict = "not measured (a side has no finished run)"
            elif math.isnan(row["seeds_ci95_low"]):
                verdict = f"undecided ({row['win_rate']:.2f} from one pair of runs: no seed-level interval)"
            else:
                low, high = row["seeds_ci95_low"], row["seeds_ci95_high"]
                word = "met" if low > 0.5 else "reversed" if high < 0.5 else "undecided"
                verdict = f"{word} ({row['win_rate']:.2f}, interval {low:.2f}..{high:.2f})"
            lines.append(f"- {LABELS[a]} above {LABELS[b]} (paper {paper:.2f}): {verdict}")
    if finished:
        lines += ["", "Training (every finished run): " + "; ".join(
            f"{LABELS[a]} {len(done)} run{'s' if len(done) != 1 else ''}, {sum(r['train_wall_s'] for r in done) / len(done) / 60:.0f} min each on average"
            for a in ALGOS if (done := [r for r in finished if r["algo"] == a])
        ) + f" ({finished[0]['rounds']} rounds each, one core per run on a shared 2-core machine)."]  # fmt: skip
    last_strength = {algo: points[-1] for algo in ALGOS if (points := [c for c in curves or [] if c["algo"] == algo and "scripted_win_rate_mean" in c])}
    if last_strength:
        lines += ["", "Strength against `scripted` at the last evaluation (the evaluation panel: greedy rounds on evaluation seeds, mean over runs and its 95 % interval): " + "; ".join(
            f"{LABELS[a]} {c['scripted_win_rate_mean']:.2f} ({c['scripted_win_rate_low']:.2f}..{c['scripted_win_rate_high']:.2f}, "
            f"{c['scripted_seeds']} run{'s' if c['scripted_seeds'] != 1 else ''}, round {c['round']}; kills {c['scripted_kills_mean']:.1f})"
            for a, c in last_strength.items()
        ) + ". Over rounds: the right panel of `learning_curves.png`."]  # fmt: skip
    if not quick:
        lines += ["", *DIFFERENCES]
    missing = [r for r in per_run if r["status"] != "finished"]
    if missing:
        lines += ["", "Not finished: " + ", ".join(f"`{r['run']}` ({r['status']})" for r in missing) + "."]
    lines += ["", "Files: `runs.csv`, `cross_play.csv`, `cross_play.png`, `learning_curves.csv`, `learning_curves.png`, `arena/`."]
    return "\n".join(lines)
