"""How much an MF-Q Battle team's greedy play depends on the mean action it is given (issue 23).

MF-Q's network reads Q(s, a, abar) with abar the mean action of the agent's living teammates within
radius 6. This plays a trained MF-Q run as red against ``--opponent`` (default ``scripted``) four ways,
on the same evaluation seed: with the true abar, with abar replaced by the uniform distribution, by
"everyone stays", and by the abar of another agent of the team (rows shuffled). If the true abar does no
better than a constant, the team does not use the information the mean action carries.

Run::

    python benchmarks/mean_action_probe.py RUN_DIR [--rounds 20] [--opponent scripted]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

RUN_VARIABLE = "MFZOO_PROBE_RUN"
MODES = ("true", "uniform", "stay", "shuffled")
_learners: dict[str, object] = {}


def _learner():
    from mfagents.common.pipeline import VecPipeline
    from mfagents.policies.specs import load_learner

    run = os.environ[RUN_VARIABLE]
    if run not in _learners:
        pipeline = VecPipeline("battle", {"map_size": 40})
        _learners[run] = load_learner(run, pipeline.observation_space, pipeline.n_actions)[0]
        pipeline.close()
    return _learners[run]


def true(observations, mean_actions, context):
    return _learner().act(observations, mean_actions, explore=False)


def uniform(observations, mean_actions, context):
    return _learner().act(observations, np.full_like(mean_actions, 1.0 / mean_actions.shape[1]), explore=False)


def stay(observations, mean_actions, context):
    from mfenvs.battle.config import STAY

    replaced = np.zeros_like(mean_actions)
    replaced[:, STAY] = 1.0
    return _learner().act(observations, replaced, explore=False)


def shuffled(observations, mean_actions, context):
    order = np.random.default_rng(len(observations)).permutation(len(observations))
    return _learner().act(observations, mean_actions[order], explore=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an MF-Q Battle run directory or checkpoint file")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--opponent", default="scripted")
    parser.add_argument("--seed", type=int, default=2**34, help="evaluation seed (default: 2**34, never a training seed)")
    args = parser.parse_args()
    os.environ[RUN_VARIABLE] = str(args.run.resolve())
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from mfagents.evaluation.rounds import evaluate

    print(f"{args.run} as red against {args.opponent}, {args.rounds} rounds, seed {args.seed}")
    print("| mean action given | wins | kills v opponent's |")
    print("|---|---|---|")
    for mode in MODES:
        result = evaluate("battle", red=f"mean_action_probe:{mode}", blue=args.opponent, rounds=args.rounds, seed=args.seed)
        print(f"| {mode} | {result['red_wins']}/{args.rounds} | {result['red_mean_kills']:.1f} v {result['blue_mean_kills']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
