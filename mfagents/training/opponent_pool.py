"""Battle's opponent pool ("league-lite"): blue is drawn anew every round from fixed policies and past learners.

``--opponent pool:scripted=2,self=2,random=1`` draws, for every environment copy and every round, one
member with probability proportional to its weight:

* ``self``: one of the learner's last ``SNAPSHOTS_KEPT`` snapshots, uniformly. A snapshot is a copy of
  the learner taken at the start and every ``SNAPSHOT_EVERY_ROUNDS`` finished rounds; it explores like
  the paper's self-play copy (Boltzmann at the learner's current temperature).
* any policy SPEC (``scripted``, ``random``, ``zoo:il``, a run directory...): that policy, greedy.

A pool keeps the learner fighting what it must beat (``scripted``), opponents it can learn to kill
(``random``), and its own recent past, so it neither over-fits one opponent nor forgets how to beat
another. On ``--resume`` the snapshots start again from the resumed learner (they are not saved).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from mfagents.policies.specs import GroupContext, LearnerPolicy, Policy

POOL_PREFIX = "pool:"
"""Opponent SPEC prefix of an opponent pool, e.g. ``pool:scripted=2,self=2,random=1``."""
SNAPSHOT_MEMBER = "self"
"""The pool member that stands for the learner's recent snapshots."""
SNAPSHOT_EVERY_ROUNDS = 20
"""Finished rounds between two snapshots of the learner."""
SNAPSHOTS_KEPT = 5
"""Snapshots the pool keeps (the oldest is dropped)."""


def parse_pool(spec: str) -> dict[str, float]:
    """``"pool:scripted=2,self=2,random=1"`` -> member SPEC -> probability (weights normalised; a bare member weighs 1).

    Raises:
        ValueError: not a pool SPEC, an empty pool, a repeated member, or a weight that is not a positive number.
    """
    if not spec.startswith(POOL_PREFIX):
        raise ValueError(f"{spec!r} is not an opponent pool (expected {POOL_PREFIX}MEMBER=WEIGHT,...)")
    weights: dict[str, float] = {}
    for item in spec[len(POOL_PREFIX) :].split(","):
        member, _, weight_text = item.strip().partition("=")
        if not member:
            raise ValueError(f"--opponent {spec!r}: an empty pool member; expected e.g. {POOL_PREFIX}scripted=2,self=2,random=1")
        if member in weights:
            raise ValueError(f"--opponent {spec!r}: member {member!r} is named twice")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise ValueError(f"--opponent {spec!r}: the weight of {member!r} must be a number, got {weight_text!r}") from None
        if not weight > 0 or weight == float("inf"):
            raise ValueError(f"--opponent {spec!r}: the weight of {member!r} must be positive and finite, got {weight_text}")
        weights[member] = weight
    total = sum(weights.values())
    return {member: weight / total for member, weight in weights.items()}


class OpponentPool:
    """The opponent policy of a pool: every copy plays one member per round (see the module docstring).

    Args:
        probabilities: member SPEC -> probability, from ``parse_pool``.
        fixed: member SPEC -> its loaded policy, for every member but ``self``.
        snapshot: builds a frozen copy of the learner's current parameters (a ``LearnerPolicy`` that explores).
        n_envs, agents_per_env: the vector env's copies and rows per copy.
        rng: draws the members.
    """

    def __init__(
        self,
        probabilities: dict[str, float],
        fixed: dict[str, Policy],
        snapshot: Callable[[], LearnerPolicy],
        n_envs: int,
        agents_per_env: int,
        rng: np.random.Generator,
    ):
        self.members = list(probabilities)
        self.probabilities = np.array([probabilities[m] for m in self.members])
        self.fixed = fixed
        self.snapshot = snapshot
        self.snapshots: deque[LearnerPolicy] = deque(maxlen=SNAPSHOTS_KEPT)
        self.agents_per_env = agents_per_env
        self.rng = rng
        self.name = POOL_PREFIX + ",".join(f"{m}={p:.3g}" for m, p in probabilities.items())
        self.rounds_since_snapshot = 0
        self.counts = {member: 0 for member in self.members}
        if SNAPSHOT_MEMBER in probabilities:
            self.snapshots.append(snapshot())
        self.playing: list[Policy] = [None] * n_envs  # type: ignore[list-item]  # drawn just below
        self.playing_names = [""] * n_envs
        for copy in range(n_envs):
            self._draw(copy)

    def restart_snapshots(self) -> None:
        """Drop the snapshots and take one of the learner as it is now (after ``--resume`` restored it)."""
        if SNAPSHOT_MEMBER in self.members:
            self.snapshots.clear()
            self.snapshots.append(self.snapshot())
            self.rounds_since_snapshot = 0
            for copy in range(len(self.playing)):
                self._draw(copy)

    def _draw(self, copy: int) -> None:
        member = self.members[int(self.rng.choice(len(self.members), p=self.probabilities))]
        if member == SNAPSHOT_MEMBER:
            policy: Policy = self.snapshots[int(self.rng.integers(len(self.snapshots)))]
        else:
            policy = self.fixed[member]
        self.playing[copy], self.playing_names[copy] = policy, member

    def __call__(self, observations: np.ndarray, mean_actions: np.ndarray, context: GroupContext) -> np.ndarray:
        """Each copy's rows are played by that copy's member of this round."""
        copies = context.rows // self.agents_per_env
        actions = np.zeros(len(observations), dtype=np.int64)
        for policy in {id(p): p for p in self.playing}.values():
            mine = np.isin(copies, [c for c, p in enumerate(self.playing) if p is policy])
            if mine.any():
                sub = GroupContext(context.pipeline, context.group, context.rows[mine], context.alive[mine])
                actions[mine] = policy(observations[mine], mean_actions[mine], sub)
        return actions

    def set_progress(self, fraction: float) -> None:
        """Snapshots explore at the learner's current temperature, as the self-play copy does."""
        for snapshot in self.snapshots:
            snapshot.learner.set_progress(fraction)

    def end_episodes(self, dones: np.ndarray) -> None:
        for snapshot in self.snapshots:
            snapshot.learner.end_episodes(dones)

    def round_finished(self, copy: int) -> None:
        """Count the round, snapshot the learner every ``SNAPSHOT_EVERY_ROUNDS`` rounds, draw the copy's next member."""
        self.counts[self.playing_names[copy]] += 1
        self.rounds_since_snapshot += 1
        if SNAPSHOT_MEMBER in self.members and self.rounds_since_snapshot >= SNAPSHOT_EVERY_ROUNDS:
            self.snapshots.append(self.snapshot())
            self.rounds_since_snapshot = 0
        self._draw(copy)

    def metrics(self) -> dict[str, float]:
        """Share of the rounds since the last call played against each member, and the snapshots held."""
        total = max(sum(self.counts.values()), 1)
        out = {f"charts/pool_share/{member}": count / total for member, count in self.counts.items()}
        out["charts/pool_snapshots"] = float(len(self.snapshots))
        self.counts = {member: 0 for member in self.members}
        return out
