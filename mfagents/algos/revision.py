"""Asynchronous action revision (inertia): which rows act on their policy this step, and what the others repeat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfenvs.common.validation import check_float, check_int


@dataclass(frozen=True)
class RevisionSettings:
    """The asynchronous-revision fields of every learner config (``ActionRevision`` reads them)."""

    revision_rate: float = 1.0
    """Probability that an agent acts on its policy this step (exploring and greedy acting alike); otherwise
    it repeats its previous action. 1 is the paper's synchronous setting; below 1 it avoids the oscillations
    (Gaussian Squeeze) and checkerboards (Ising) of synchronous updates."""
    revision_initial_action: int | None = None
    """With revision: the action a row holds at the start of an episode, before its first revision
    (Gaussian Squeeze: 0, "send nothing"); None lets every row act on its policy at the first step."""
    revision_rate_start: float | None = None
    """With revision: the revision probability at the first step of an episode, moved linearly to
    ``revision_rate`` over ``revision_anneal_steps`` steps (annealed inertia); None keeps ``revision_rate``."""
    revision_anneal_steps: int = 0
    """Steps of an episode over which the revision probability anneals (0: no anneal)."""

    def __post_init__(self) -> None:
        for name in ("revision_rate", "revision_rate_start"):
            value = getattr(self, name)
            if value is not None and check_float(name, value, positive=True) > 1:
                raise ValueError(f"{name} must be <= 1, got {value}")
        check_int("revision_anneal_steps", self.revision_anneal_steps, minimum=0)


class ActionRevision:
    """Asynchronous revision (inertia): each row acts on its policy with a probability per step (its
    *revision rate*), otherwise it repeats its previous action.

    ``rate = 1`` is the synchronous setting of the paper (every agent acts on its policy every step);
    this object then draws nothing and remembers nothing, so results are exactly those without it.
    With a rate below 1 a parameter-shared population revises a few agents at a time, the standard
    device (asynchronous best responses, inertia) that lets greedy or near-greedy dynamics settle at a
    heterogeneous equilibrium where synchronous updates oscillate: on Gaussian Squeeze, everyone
    jumping to the same best response (x = 0 -> x = 9 N -> ...); on Ising, checkerboards.

    Annealed inertia (optional): the rate can start at ``start_rate`` at the first step of an episode
    and move linearly to ``rate`` over ``anneal_steps`` steps: many agents revise while the joint
    action is far from an equilibrium, few once it has to settle.

    A row has no previous action on the first call, after ``end_episodes`` marked its episode as
    ended, and when the number of rows changes (a new set of rows: the memory starts over). Such a row
    acts freely on its policy when ``initial_action`` is None; otherwise it holds ``initial_action``
    as its previous action (and revises it like any other row).
    The draw uses the learner's generator, one uniform per row per call.

    Args:
        rate: revision probability per step (after the anneal), in (0, 1].
        initial_action: the action a row holds before its first revision in an episode (None: act freely).
        n_actions: number of actions, to check ``initial_action``.
        start_rate: revision probability at the first step of an episode (None: ``rate`` throughout).
        anneal_steps: steps over which the probability moves from ``start_rate`` to ``rate``.
    """

    def __init__(
        self,
        rate: float,
        initial_action: int | None = None,
        n_actions: int | None = None,
        start_rate: float | None = None,
        anneal_steps: int = 0,
    ):
        for name, value in (("revision_rate", rate), ("revision_rate_start", start_rate)):
            if value is not None and (isinstance(value, bool) or not 0.0 < float(value) <= 1.0):
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        if initial_action is not None:
            limit = n_actions if n_actions is not None else np.iinfo(np.int64).max
            if isinstance(initial_action, bool) or not isinstance(initial_action, int) or not 0 <= initial_action < limit:
                raise ValueError(f"revision_initial_action must be None or an action in [0, {limit}), got {initial_action!r}")
        if isinstance(anneal_steps, bool) or not isinstance(anneal_steps, int) or anneal_steps < 0:
            raise ValueError(f"revision_anneal_steps must be a non-negative integer, got {anneal_steps!r}")
        self.rate = float(rate)
        self.start_rate = self.rate if start_rate is None or anneal_steps == 0 else float(start_rate)
        self.anneal_steps = anneal_steps
        self.no_previous = -1 if initial_action is None else int(initial_action)
        self.previous: np.ndarray | None = None
        """``[n]`` int64 previous action of every row, -1 where the row has none (acts freely)."""
        self.age: np.ndarray | None = None
        """``[n]`` steps each row has played in its current episode."""

    @classmethod
    def from_config(cls, config: RevisionSettings, n_actions: int) -> ActionRevision:
        """From the revision fields of a learner config."""
        return cls(
            config.revision_rate,
            config.revision_initial_action,
            n_actions,
            config.revision_rate_start,
            config.revision_anneal_steps,
        )

    @property
    def synchronous(self) -> bool:
        """Every row acts on its policy at every step (rate 1 throughout)."""
        return self.rate >= 1.0 and self.start_rate >= 1.0

    def rates(self) -> np.ndarray:
        """``[n]`` the revision probability of every row at its next step."""
        if self.start_rate == self.rate:
            return np.full(len(self.age), self.rate)
        progress = np.minimum(self.age / self.anneal_steps, 1.0)
        return self.start_rate + (self.rate - self.start_rate) * progress

    def revising(self, n_rows: int, generator: np.random.Generator) -> np.ndarray | None:
        """``[n]`` bool: rows that act on the policy this step (None when synchronous: all of them, nothing drawn)."""
        if self.synchronous:
            return None
        if self.previous is None or len(self.previous) != n_rows:
            self.previous = np.full(n_rows, self.no_previous, dtype=np.int64)
            self.age = np.zeros(n_rows, dtype=np.int64)
        return (generator.random(n_rows) < self.rates()) | (self.previous < 0)

    def apply(self, revising: np.ndarray | None, policy_actions: np.ndarray) -> np.ndarray:
        """The step's actions: ``policy_actions`` where ``revising``, the previous action elsewhere; remembered."""
        if revising is None:
            return policy_actions
        actions = np.where(revising, policy_actions, self.previous).astype(np.int64)
        self.previous = actions.copy()
        self.age += 1
        return actions

    def end_episodes(self, dones: np.ndarray) -> None:
        """Rows whose episode ended (``[n]`` bool) start afresh at their next step."""
        if self.previous is None:
            return
        dones = np.asarray(dones, dtype=bool)
        if dones.shape == self.previous.shape:
            self.previous[dones] = self.no_previous
            self.age[dones] = 0
        else:  # another set of rows than the last act: start over
            self.previous = self.age = None
