"""Gaussian Squeeze (the paper's Section 5.1): MF-Q, MF-AC, IL and AC at N = 100, 500, 1000, 5 seeds each.

mu = 400, sigma = 200, ten actions (the environment's defaults, the paper's setting); every run is trained
with ``mfzoo train gaussian_squeeze --algo ALGO --seed S --env-kwarg n_agents=N`` and the defaults of
``mfagents.training.config.TRAINING_DEFAULTS``. The analysis plays each finished run's greedy joint policy
(``greedy_eval``) and compares the greedy G / G* with the paper's.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mfagents.experiments.reproduce import mean_interval
from mfagents.experiments.reproduce._common import (
    command_line,
    curve,
    fmt,
    pyplot,
    write_csv,
)
from mfagents.experiments.sweep import RunSpec, run_progress

ENV = "gaussian_squeeze"
ALGOS = ("mfq", "mfac", "il", "ac")
LABELS = {"mfq": "MF-Q", "mfac": "MF-AC", "il": "IL", "ac": "AC"}
SIZES = (1000, 500, 100)
SEEDS = tuple(range(5))
QUICK_SIZES = (20, 40)
QUICK_SEEDS = (0, 1)
QUICK_ROUNDS = 3
PAPER = {("mfq", 500): 0.91, ("mfq", 1000): 0.98, ("mfac", 500): 1.0, ("mfac", 1000): 1.0,
         ("il", 500): 0.0, ("il", 1000): 0.0, ("ac", 500): 0.0, ("ac", 1000): 0.0}  # fmt: skip
"""The paper's greedy G / G* (Section 5.1: IL and the other baselines stay at 0 at N = 500 and 1000)."""
TARGET = 0.99
DIFFERENCES = (
    "How these runs differ from the paper's (Section C.1 and REFERENCE.md section 3):",
    "",
    "- *Observation*: each agent sees its index i / (N - 1) and the previous step's load and payoff; the paper feeds an "
    "agent embedding and does not say more. The game itself is stateless: one step is one play of G.",
    "- *Rounds and revision*: 100 rounds of 100 steps (10^7 agent-steps at N = 1000). For MF-Q and IL every round starts from "
    "\"everyone sends 0\" and only a few agents revise their action per step (3 % at first, 0.5 % after 25 steps), so "
    "greedy play with one shared network settles instead of jumping between x = 0 and x = 9 N "
    "(`mfagents.training.defaults.TRAINING_DEFAULTS`, measured in BENCHMARKS.md). The paper does not describe its episodes.",
    "- *MF-AC and AC*: as the paper, one critic shared by all agents and separate actors (one logit table per agent: "
    "the game is stateless), synchronous play, Adam 1e-3 for the critic. Where they differ, each measured in "
    "BENCHMARKS.md (\"Gaussian Squeeze: MF-AC with separate actors\"): the actors start near \"send 0\" with spread "
    "logits (uniform play pays exactly 0), their softmax temperature is annealed from 1 to 0.05 (the greedy joint "
    "policy is then the one learnt), Adam 1e-3 for the actors (the paper: 1e-4), a replay of the last round "
    "(10^5 transitions; the paper: 10^6), gamma = 0 and the all-actions actor gradient.",
    "- *MF-Q*: epsilon-greedy (as the paper) from a zero-initialised Q head, gamma = 0, the reward scaled by 1 / 423, "
    "the concurrent mean action (the mean action of the joint action that was paid), Adam 1e-3 annealed to 1e-5 "
    "(the paper: 1e-5), each transition trained on 4 times.",
    "- *Evaluation*: greedy play for 4 rounds (eval seed 0, never a training seed), G / G* averaged over the second "
    "half of every round (the joint action needs ~40 steps to climb from x = 0); the paper plots training curves.",
    "- *N = 100* proves nothing: uniform random play's mean load (450) is already at 99.9 % of G*.",
)
"""What the Markdown section says about the setting, beside the numbers."""
EVAL_ROUNDS = 4
EVAL_NAME = "greedy_eval.json"


def quick_env_kwargs(n_agents: int) -> dict[str, Any]:
    """A tiny Squeeze with the paper's shape (mu = 0.4 N, sigma = 0.2 N) and 20-step rounds."""
    return {"n_agents": n_agents, "mu": 0.4 * n_agents, "sigma": 0.2 * n_agents, "max_cycles": 20}


def runs(quick: bool, preset: str | None = None) -> list[RunSpec]:
    """The sweep, most informative first: MF-Q then MF-AC at N = 1000 and 500 (seed by seed), then N = 100, then IL and AC."""
    if quick:
        return [
            RunSpec(ENV, algo, seed, env_kwargs=quick_env_kwargs(n), rounds=QUICK_ROUNDS, preset=preset)
            for algo in ALGOS for n in QUICK_SIZES for seed in QUICK_SEEDS
        ]  # fmt: skip
    order = []
    for algo in ("mfq", "mfac"):
        order += [(algo, n, seed) for seed in SEEDS for n in (1000, 500)]
    order += [(algo, 100, seed) for algo in ("mfq", "mfac") for seed in SEEDS]
    order += [(algo, n, seed) for algo in ("il", "ac") for n in SIZES for seed in SEEDS]
    return [RunSpec(ENV, algo, seed, env_kwargs={"n_agents": n}, preset=preset) for algo, n, seed in order]


def greedy_eval(run_dir: Path, rounds: int = EVAL_ROUNDS, seed: int = 0) -> dict[str, float]:
    """Greedy G / G* of a trained run: ``mfzoo eval gaussian_squeeze --policy RUN_DIR --rounds 4 --seed 0``.

    ``G_ratio`` averages G / G* over the second half of every round (the joint action settles in the first
    half), ``G_ratio_last`` is its value at the last step. Cached in ``RUN_DIR/greedy_eval.json`` for the
    checkpoint it was computed from.
    """
    from mfagents.evaluation.rounds import evaluate

    checkpoint = run_dir / "checkpoint.safetensors"
    stamp = checkpoint.stat().st_mtime_ns if checkpoint.exists() else None
    cache = run_dir / EVAL_NAME
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached.get("checkpoint_mtime_ns") == stamp and cached.get("rounds") == rounds and cached.get("seed") == seed:
            return cached
    summary = evaluate(ENV, policy=str(run_dir), rounds=rounds, seed=seed)
    result = {"G_ratio": summary["G_ratio"], "G_ratio_last": summary["G_ratio_last"], "rounds": rounds, "seed": seed, "checkpoint_mtime_ns": stamp}
    cache.write_text(json.dumps(result))
    return result


def kept_rows(path: Path, algos: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of a previous analysis's CSV (``greedy_per_run.csv``, ``learning_curves.csv``) whose algorithm is
    not in ``algos``, with numbers parsed: what a partial reproduction keeps of the algorithms it does not re-run."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["algo"] not in algos]
    numeric = {"N", "seed", "rounds_done", "rounds", "round", "seeds"}
    return [
        {key: (int(value) if key in numeric and value not in ("", None) else _number(value) if key not in ("algo", "run", "status") else value)
         for key, value in row.items()}
        for row in rows
    ]  # fmt: skip


def _number(value: str) -> float:
    return math.nan if value in ("", None, "nan") else float(value)


def analyse(runs_dir: Path, results_dir: Path, quick: bool, address: str | None = None, algos: Sequence[str] | None = None) -> str:
    """Greedy G / G* per run and per (N, algorithm), learning curves; CSVs, PNGs and a Markdown section.

    ``algos``: analyse only these algorithms' runs and keep the other algorithms' rows of the previous
    analysis in ``results_dir`` (a partial reproduction after one algorithm's defaults changed); None: all.
    ``address`` is unused: each run's greedy evaluation takes seconds here.
    """
    runs_dir, results_dir = Path(runs_dir), Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    specs = runs(quick)
    sizes = QUICK_SIZES if quick else SIZES
    kept = kept_rows(results_dir / "greedy_per_run.csv", algos) if algos is not None else []
    kept_curves = kept_rows(results_dir / "learning_curves.csv", algos) if algos is not None else []
    kept_algos = {row["algo"] for row in kept}
    per_run = []
    for spec in specs:
        previous = next((row for row in kept if row["run"] == spec.name), None)
        if previous is not None:
            per_run.append(previous)
            continue
        run_dir = runs_dir / spec.name
        status = run_progress(run_dir)
        row = {"N": spec.env_kwargs["n_agents"], "algo": spec.algo, "seed": spec.seed, "run": spec.name, "status": status["status"],
               "rounds_done": status["rounds_done"], "rounds": status["rounds"], "train_wall_s": status["wall_s"],
               "greedy_G_ratio": math.nan, "greedy_G_ratio_last": math.nan}  # fmt: skip
        if status["status"] == "finished":
            evaluation = greedy_eval(run_dir)
            row["greedy_G_ratio"], row["greedy_G_ratio_last"] = evaluation["G_ratio"], evaluation["G_ratio_last"]
        per_run.append(row)
    write_csv(results_dir / "greedy_per_run.csv", per_run)

    summary = []
    for n in sizes:
        for algo in ALGOS:
            done = [r for r in per_run if r["N"] == n and r["algo"] == algo and r["status"] == "finished"]
            ratios = [r["greedy_G_ratio"] for r in done]
            mean, low, high = mean_interval(ratios)
            low, high = max(low, 0.0), min(high, 1.0)  # G / G* lies in [0, 1]; NaN (one seed) stays NaN
            summary.append({"N": n, "algo": algo, "seeds_finished": len(done), "seeds_planned": sum(1 for r in per_run if r["N"] == n and r["algo"] == algo),
                            "greedy_G_ratio_mean": mean, "ci95_low": low, "ci95_high": high,
                            "min": min(ratios) if ratios else math.nan, "paper": PAPER.get((algo, n), math.nan) if not quick else math.nan,
                            "train_wall_s_mean": mean_interval([r["train_wall_s"] for r in done])[0]})  # fmt: skip
    write_csv(results_dir / "greedy_summary.csv", summary)

    curves = []
    for n in sizes:
        for algo in ALGOS:
            if algo in kept_algos:
                curves += [row for row in kept_curves if row["N"] == n and row["algo"] == algo]
                continue
            seeds = [curve(runs_dir / r["run"], "charts/G_ratio") for r in per_run if r["N"] == n and r["algo"] == algo and r["status"] != "not run"]
            for round_ in sorted({k for points in seeds for k in points}):
                values = [points[round_] for points in seeds if round_ in points]
                mean, low, high = mean_interval(values)
                curves.append({"N": n, "algo": algo, "round": round_, "seeds": len(values), "G_ratio_mean": mean, "ci95_low": low, "ci95_high": high})
    write_csv(results_dir / "learning_curves.csv", curves, ["N", "algo", "round", "seeds", "G_ratio_mean", "ci95_low", "ci95_high"])
    _plot_curves(curves, sizes, results_dir / "learning_curves.png")
    _plot_greedy(per_run, sizes, results_dir / "greedy.png", quick)
    return _section(specs, per_run, summary, quick, sorted(kept_algos, key=ALGOS.index))


def _plot_curves(curves: list[dict], sizes: tuple[int, ...], path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.4), sharey=True, squeeze=False)
    for ax, n in zip(axes[0], sizes):
        for algo in ALGOS:
            points = [c for c in curves if c["N"] == n and c["algo"] == algo]
            if not points:
                continue
            x = [c["round"] for c in points]
            line = ax.plot(x, [c["G_ratio_mean"] for c in points], label=f"{LABELS[algo]} ({max(c['seeds'] for c in points)} seeds)")[0]
            low = [c["ci95_low"] if not math.isnan(c["ci95_low"]) else c["G_ratio_mean"] for c in points]
            high = [c["ci95_high"] if not math.isnan(c["ci95_high"]) else c["G_ratio_mean"] for c in points]
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
        ax.set_title(f"N = {n}")
        ax.set_xlabel("training round")
        ax.set_ylim(-0.02, 1.05)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    axes[0][0].set_ylabel("G / G* (training, mean, 95 % CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_greedy(per_run: list[dict], sizes: tuple[int, ...], path: Path, quick: bool) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, n in enumerate(sizes):
        for j, algo in enumerate(ALGOS):
            x = i * (len(ALGOS) + 1) + j
            values = [r["greedy_G_ratio"] for r in per_run if r["N"] == n and r["algo"] == algo and r["status"] == "finished"]
            ax.scatter([x] * len(values), values, color=f"C{j}", s=14, label=LABELS[algo] if i == 0 else None)
            if values:
                ax.hlines(sum(values) / len(values), x - 0.35, x + 0.35, color=f"C{j}")
            paper = PAPER.get((algo, n))
            if paper is not None and not quick:
                ax.scatter([x], [paper], marker="x", color="black", s=30, label="paper" if (i, j) == (0, 0) else None)
    ax.set_xticks([i * (len(ALGOS) + 1) + 1.5 for i in range(len(sizes))], [f"N = {n}" for n in sizes])
    ax.set_ylabel("greedy G / G*")
    ax.set_ylim(-0.02, 1.05)
    ax.legend(fontsize=7, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)  # above the points
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _section(specs: list[RunSpec], per_run: list[dict], summary: list[dict], quick: bool, kept: Sequence[str] = ()) -> str:
    finished = [r for r in per_run if r["status"] == "finished"]
    missing = [r for r in per_run if r["status"] != "finished"]
    rerun = [LABELS[algo] for algo in ALGOS if algo not in kept]
    partial = (
        f" Re-run for {', '.join(rerun)} only (`--algos {','.join(a for a in ALGOS if a not in kept)}`): the rows of "
        f"{', '.join(LABELS[algo] for algo in kept)} are the previous analysis's, whose defaults did not change."
        if kept else ""
    )
    lines = [
        "## Gaussian Squeeze" + (" (quick: tiny settings, learns nothing)" if quick else ""),
        "",
        f"Command: `{command_line(ENV, quick, specs)}`. {len(finished)} of {len(per_run)} runs finished.{partial}",
        f"Greedy G / G*: each finished run's greedy joint policy, {EVAL_ROUNDS} rounds, eval seed 0, averaged over the second half of every round.",
        "Interval: Student-t 95 % over the finished seeds, clipped to [0, 1] (G / G* cannot leave it).",
        "",
        "| N | algorithm | seeds | greedy G/G* mean | 95 % interval | every seed | paper | train s (mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        seeds = [f"{r['greedy_G_ratio']:.3f}" for r in per_run if r["N"] == s["N"] and r["algo"] == s["algo"] and r["status"] == "finished"]
        lines.append(
            f"| {s['N']} | {LABELS[s['algo']]} | {s['seeds_finished']} of {s['seeds_planned']} | {fmt(s['greedy_G_ratio_mean'])} "
            f"| {fmt(s['ci95_low'])}..{fmt(s['ci95_high'])} | {', '.join(seeds) or '-'} | {fmt(s['paper'], 2)} | {fmt(s['train_wall_s_mean'], 0)} |"
        )
    if not quick:
        lines += ["", f"Target: MF-Q and MF-AC >= {TARGET} (mean over seeds) at N = 500 and 1000."]
        for algo in ("mfq", "mfac"):
            for n in (500, 1000):
                s = next(x for x in summary if x["N"] == n and x["algo"] == algo)
                verdict = "no finished run" if s["seeds_finished"] == 0 else ("met" if s["greedy_G_ratio_mean"] >= TARGET else f"missed by {TARGET - s['greedy_G_ratio_mean']:.3f}")
                lines.append(f"- {LABELS[algo]}, N = {n}: {verdict}" + ("" if s["seeds_finished"] in (0, s["seeds_planned"]) else f" ({s['seeds_finished']} of {s['seeds_planned']} seeds)"))
    if not quick:
        lines += ["", *DIFFERENCES]
    if missing:
        lines += ["", "Not finished: " + ", ".join(f"`{r['run']}` ({r['status']}" + (f", {r['rounds_done']} of {r['rounds']} rounds)" if r["status"] == "unfinished" else ")") for r in missing) + "."]
    lines += ["", "Files: `greedy_per_run.csv`, `greedy_summary.csv`, `learning_curves.csv`, `learning_curves.png`, `greedy.png`."]
    return "\n".join(lines)
