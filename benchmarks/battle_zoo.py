"""Train the shipped Battle policies (``zoo:mfq``, ``zoo:il``...) with ``mfzoo train``'s defaults, export and evaluate them.

For each algorithm this runs what a user would type, ``mfzoo train battle --algo ALGO --seed SEED
--out RUNS/ALGO-sSEED`` (the paper's setup: 40 x 40, 64 v 64, self-play with refresh-on-win, the
budget of ``mfagents.training.config.TRAINING_DEFAULTS``), resuming a run that stopped early and skipping one
that is finished. It then writes the learner's acting network in float16 to
``mfagents/policies/zoo/ALGO.safetensors`` (``mfagents.policies.zoo.export_policy``), evaluates ``zoo:ALGO`` greedily
against ``random`` and ``scripted`` on the paper's map, and rewrites ``mfagents/policies/zoo/ZOO.md`` with the
command, seed, budget, training time and evaluation of every shipped policy. ``--arena`` also plays
``mfzoo arena battle zoo:... scripted random`` and prints its tables (committed in the README).

Run::

    python benchmarks/battle_zoo.py --algos mfq,il            # ~1 hour of one core per algorithm
    python benchmarks/battle_zoo.py --algos mfq --export-only  # re-export / re-evaluate finished runs
    python benchmarks/battle_zoo.py --arena --arena-rounds 10
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import mfagents  # noqa: E402
from mfagents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint  # noqa: E402
from mfagents.training.config import RunConfig, resolve  # noqa: E402
from mfagents.policies.specs import LEARNER, load_learner  # noqa: E402
from mfagents.common.pipeline import VecPipeline  # noqa: E402
from mfagents.policies.zoo import ZOO_DIR, available, export_policy, provenance  # noqa: E402

EVAL_OPPONENTS = ("random", "scripted")
EVAL_SEED = 12_345
"""Evaluation seed, never used in training (training seeds are small integers)."""


def train_command(algo: str, seed: int, out: Path) -> str:
    return f"mfzoo train battle --algo {algo} --seed {seed} --out {out}"


def train_run(
    algo: str, seed: int, out: Path, opponent: str | None = None, rounds: int | None = None,
    algo_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train (or resume, or skip) the default run of ``algo`` (with another ``opponent`` / ``rounds`` / learner
    settings if given); return the last training summary."""
    budget = resolve(RunConfig(env="battle", algo=algo, opponent=opponent, rounds=rounds)).rounds
    checkpoint = out / CHECKPOINT_NAME
    if checkpoint.exists():
        done = load_checkpoint(checkpoint)[1]["counters"]["rounds"]
        if done >= budget:
            print(f"{algo}: {out} is finished ({done} rounds)", flush=True)
            return {"rounds": done}
        print(f"{algo}: resuming {out} at round {done} of {budget}", flush=True)
    else:
        print(f"{algo}: {train_command(algo, seed, out)}", flush=True)
    return mfagents.train(
        "battle", algo, seed=seed, out=out, resume=checkpoint.exists(), progress_bar=True, opponent=opponent, rounds=rounds,
        algo_kwargs=algo_kwargs,
    )  # fmt: skip


def wall_time_s(run_dir: Path) -> float:
    """Training wall time from the run's last CSV row (sums the stretches of a resumed run)."""
    import csv

    with open(run_dir / "metrics.csv") as file:
        rows = list(csv.DictReader(file))
    times = [float(row["perf/wall_time_s"]) for row in rows]
    # a resumed run restarts its clock: add the last time of every stretch
    return sum(times[i] for i in range(len(times)) if i == len(times) - 1 or times[i + 1] < times[i])


def export(algo: str, seed: int, run_dir: Path, eval_rounds: int) -> dict[str, Any]:
    """Export ``run_dir``'s learner to ``mfagents/policies/zoo/ALGO.safetensors`` and evaluate it; return its provenance."""
    run = json.loads((run_dir / "config.json").read_text())
    _, metadata = load_checkpoint(run_dir / CHECKPOINT_NAME)
    pipeline = VecPipeline("battle", run["env_kwargs"], 1)
    learner, _ = load_learner(run_dir, pipeline.observation_space, pipeline.n_actions)
    pipeline.close()
    facts = {
        "command": train_command(algo, seed, run_dir),
        "algo": algo,
        "seed": seed,
        "rounds": metadata["counters"]["rounds"],
        "agent_steps": metadata["counters"]["agent_steps"],
        "train_wall_time_s": round(wall_time_s(run_dir), 1),
        "env_kwargs": run["env_kwargs"],
        "algo_kwargs": run["algo_kwargs"],
    }
    path = ZOO_DIR / f"{algo}.safetensors"
    export_policy(learner, algo, metadata["learners"][LEARNER], path, facts)
    evaluation = {}
    for opponent in EVAL_OPPONENTS:
        result = mfagents.evaluate("battle", red=f"zoo:{algo}", blue=opponent, rounds=eval_rounds, seed=EVAL_SEED)
        evaluation[opponent] = {key: result[key] for key in ("red_wins", "draws", "blue_wins", "red_win_rate_ci95", "red_mean_kills", "blue_mean_kills")}
        print(f"zoo:{algo} vs {opponent}: {evaluation[opponent]}", flush=True)
    facts["evaluation"] = {"rounds": eval_rounds, "seed": EVAL_SEED, "map": "the paper's (40 x 40, 64 v 64)", **evaluation}
    export_policy(learner, algo, metadata["learners"][LEARNER], path, facts)
    return facts


def write_zoo_md() -> None:
    """``mfagents/policies/zoo/ZOO.md``: one section per shipped policy, from the provenance in its file."""
    lines = [
        "# Shipped Battle policies",
        "",
        "Written by `python benchmarks/battle_zoo.py` from the provenance stored in each file. Each policy is the",
        "learner of one default training run (`mfzoo train battle --algo ALGO`: the paper's 40 x 40, 64 v 64,",
        "self-play with refresh-on-win), its acting network in float16. Evaluation: greedy, as red, on the paper's",
        "map, against each opponent, sides drawn at random each round; W-D-L counts with the 95 % Wilson interval of",
        "the win rate, and mean kills per round of each side.",
        "",
        "| SPEC | command | rounds | training time | vs random: W-D-L (win CI), kills | vs scripted: W-D-L (win CI), kills |",
        "|---|---|---|---|---|---|",
    ]
    for name in available():
        facts = provenance(ZOO_DIR / f"{name}.safetensors")
        cells = []
        for opponent in EVAL_OPPONENTS:
            e = facts.get("evaluation", {}).get(opponent)
            if e is None:
                cells.append("not evaluated")
                continue
            low, high = e["red_win_rate_ci95"]
            cells.append(f"{e['red_wins']}-{e['draws']}-{e['blue_wins']} ({low:.2f}-{high:.2f}), {e['red_mean_kills']:.1f} v {e['blue_mean_kills']:.1f}")
        minutes = facts.get("train_wall_time_s", 0) / 60
        lines.append(f"| `zoo:{name}` | `{facts.get('command', '?')}` | {facts.get('rounds', '?')} | {minutes:.0f} min | {cells[0]} | {cells[1]} |")
    (ZOO_DIR / "ZOO.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", default="mfq,il,mfac,ac", help="comma-separated algorithms (default: mfq,il,mfac,ac)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--runs", type=Path, default=Path("runs/zoo"), help="folder of the training runs")
    parser.add_argument("--eval-rounds", type=int, default=20, help="evaluation rounds per opponent (default: 20)")
    parser.add_argument("--export-only", action="store_true", help="do not train: export and evaluate finished runs")
    parser.add_argument("--arena", action="store_true", help="then play the arena of every shipped policy")
    parser.add_argument("--arena-rounds", type=int, default=10, help="arena rounds per pair and side (default: 10)")
    args = parser.parse_args()
    for algo in [a for a in args.algos.split(",") if a]:
        run_dir = args.runs / f"{algo}-s{args.seed}"
        if not args.export_only:
            train_run(algo, args.seed, run_dir)
        export(algo, args.seed, run_dir, args.eval_rounds)
    write_zoo_md()
    if args.arena:
        from mfagents.evaluation.arena import run_arena

        summary = run_arena("battle", [f"zoo:{name}" for name in available()], rounds=args.arena_rounds, seed=EVAL_SEED, out=args.runs / "arena")
        print(summary["tables"])


if __name__ == "__main__":
    main()
