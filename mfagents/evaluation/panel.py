"""The evaluation panel: strength while training, as SB3's ``EvalCallback`` or BenchMARL's ``evaluation_interval``.

Every ``eval_every`` finished training rounds (and once at the end) the training loop hands the learners of its
first side (Battle's red learner; combined arms' redmelee and redranged learners) to an ``EvalPanel``, which plays
greedy copies of them (red) against each opponent of a fixed panel of policy SPECs, every group of the other
side played by that SPEC (Battle's default: ``random``, ``scripted``; combined arms': ``random``; tiger-deer: the tigers
against ``random`` deer, a win eating every deer) for ``eval_rounds`` rounds each, and returns per opponent NAME:

* ``eval/NAME/win_rate``: rounds won (a draw is not a win), with ``eval/NAME/win_low`` / ``eval/NAME/win_high``,
  its Wilson 95 % interval (``mfagents.evaluation.stats.wilson_interval``);
* ``eval/NAME/kills`` and ``eval/NAME/opponent_kills``: mean kills per round of the learner and of the opponent.

NAME is the SPEC (``scripted``, ``zoo:il``), or the last part of a path (``runs/b/battle-il-s0`` ->
``battle-il-s0``); characters other than letters, digits and ``_.:-`` become ``_``.

Evaluation seeds. Every evaluation resets the panel's copies with the same seed, ``eval_seed(run.seed)`` =
``EVAL_SEED_BASE`` (2**33) + a 32-bit mix of the run seed, so copy ``i`` starts from ``eval_seed + i``. Training
resets its copies with ``seed + i`` (seed < 2**32, ``mfagents.training.config.SEED_LIMIT``) or, when resumed,
``derived_seed(...) + i`` (< 2**32 + n_envs): every training seed is below 2**33, every evaluation seed at or
above it, so the two can never collide. The opponents' own random draws are reseeded before every evaluation too,
and the learner plays through a separate greedy copy (its training RNG and action memory are untouched), so an
evaluation depends only on the learner's parameters: the panel is stateless, and a resumed run continues it.

The panel sits a floor above training (``mfagents.training.loop`` never imports it); ``mfagents.api.train``
builds it from the run's settings and passes it to the loop.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from mfagents.common.checkpoint import CheckpointError
from mfagents.common.pipeline import VecPipeline
from mfagents.evaluation.rounds import EVAL_COPIES, play_rounds
from mfagents.evaluation.stats import wilson_interval
from mfagents.policies.specs import LearnerPolicy, Policy, load_policy
from mfagents.training.config import ResolvedRun
from mfagents.training.loop import RunSetupError, build_learner, derived_seed, group_seed

EVAL_SEED_BASE = 2**33
"""Evaluation reset seeds are at or above this; training reset seeds are below it (see the module docstring)."""
EVAL_SEED_TAG = 0x4556414C
"""Mixed with the run seed into the evaluation seeds (and the opponents' seeds): ``"EVAL"`` in ASCII."""
FIELDS = ("win_rate", "win_low", "win_high", "kills", "opponent_kills")
"""What the panel reports per opponent, as ``eval/NAME/FIELD``."""


def eval_seed(run_seed: int) -> int:
    """Reset seed of the panel's first copy (copy ``i`` gets ``eval_seed + i``); always >= ``EVAL_SEED_BASE``."""
    return EVAL_SEED_BASE + derived_seed(run_seed, EVAL_SEED_TAG)


def panel_name(spec: str) -> str:
    """The name of a panel opponent in metric names: ``scripted``, ``zoo:il``, ``battle-il-s0`` (a run directory)."""
    path, _, learner = spec.rstrip("/").partition("#")
    name = Path(path).name if ("/" in path or Path(path).exists()) else path
    name = f"{name}_{learner}" if learner else name
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", name) or "_"


class EvalPanel:
    """Greedy evaluation of a run's learner against a fixed panel of opponents (see the module docstring).

    Args:
        run: the resolved run (its environment, algorithm, learner settings, seed and ``eval_*`` settings).

    Raises:
        RunSetupError: a SPEC that does not load (unknown, damaged or unfitting checkpoint, ``scripted`` off
            Battle...), or two SPECs with the same name; raised when the panel is built, before training starts.
    """

    def __init__(self, run: ResolvedRun):
        self.specs = tuple(run.eval_panel)
        self.rounds = run.eval_rounds
        self.seed = eval_seed(run.seed)
        self.names = [panel_name(spec) for spec in self.specs]
        if len(set(self.names)) != len(self.names):
            twice = next(name for name in self.names if self.names.count(name) > 1)
            raise RunSetupError(f"--eval-panel: two opponents are named {twice!r} in the metrics; give each one once")
        try:
            self.pipeline = VecPipeline(run.env_id, run.env_kwargs, min(self.rounds, EVAL_COPIES))
        except (ValueError, TypeError) as error:
            raise RunSetupError(str(error)) from error
        sides = list(self.pipeline.sides.items())
        if len(sides) != 2:
            self.pipeline.close()
            raise RunSetupError(f"--eval-every: {self.pipeline.entry.short_name} has no opponents to evaluate against")
        (self.learner_side, self.learner_groups), (self.opponent_side, self.opponent_groups) = sides
        #: per panel opponent, group -> its policy for every group of the other side
        self.opponents: list[dict[str, Policy]] = []
        try:
            for index, spec in enumerate(self.specs):
                opponent_seed = derived_seed(run.seed, EVAL_SEED_TAG, index + 1)
                self.opponents.append(
                    {group: load_policy(spec, self.pipeline, group, group_seed(opponent_seed, k), run.device) for k, group in enumerate(self.opponent_groups)}
                )
            learner_seed = derived_seed(run.seed, EVAL_SEED_TAG)
            self.players = {
                group: LearnerPolicy(
                    build_learner(run.algo, self.pipeline, group, group_seed(learner_seed, k), run.device, run.algo_kwargs),
                    explore=False,
                    name="evaluated learner",
                )
                for k, group in enumerate(self.learner_groups)
            }
        except (ValueError, TypeError, CheckpointError) as error:
            self.pipeline.close()
            raise RunSetupError(f"--eval-panel: {error}") from error
        # every policy's random generator as it starts: restored before each evaluation (a stateless panel)
        every_policy = [*self.players.values(), *(p for opponent in self.opponents for p in opponent.values())]
        self.rng_states = {id(policy): policy.rng.bit_generator.state for policy in every_policy if hasattr(policy, "rng")}

    def __call__(self, learners: dict[str, Any]) -> dict[str, float]:
        """Play the panel against greedy copies of the learner side's current policies (group -> learner);
        ``eval/NAME/FIELD`` metrics."""
        for group, learner in learners.items():
            self.players[group].learner.load_policy_state_dict(learner.policy_state_dict())
        metrics: dict[str, float] = {}
        for name, opponent in zip(self.names, self.opponents):
            policies = {**self.players, **opponent}
            for group, policy in policies.items():  # every match starts from the same state
                state = self.rng_states.get(id(policy))
                if state is not None:
                    policy.rng.bit_generator.state = state
                if isinstance(policy, LearnerPolicy):  # no action remembered from an earlier match
                    policy.learner.end_episodes(np.ones(len(self.pipeline.groups[group]), dtype=bool))
            results = play_rounds(self.pipeline, policies, self.rounds, self.seed)
            wins = sum(result["winner"] == self.learner_side for result in results)
            low, high = wilson_interval(wins, len(results))
            metrics[f"eval/{name}/win_rate"] = wins / len(results)
            metrics[f"eval/{name}/win_low"], metrics[f"eval/{name}/win_high"] = low, high
            metrics[f"eval/{name}/kills"] = float(np.mean([r[f"{self.learner_side}_kills"] for r in results]))
            metrics[f"eval/{name}/opponent_kills"] = float(np.mean([r[f"{self.opponent_side}_kills"] for r in results]))
        return metrics

    def close(self) -> None:
        self.pipeline.close()

