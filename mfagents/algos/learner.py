"""The ``Learner`` protocol every algorithm follows, and ``build_config`` for their config dataclasses.

A *learner* drives one group of agents with one set of parameters (a Battle team, every Gaussian
Squeeze or Ising agent). The training loop (``mfagents.training.loop``) only talks to the ``Learner``
protocol below; the algorithms are plain classes, one per file, composed from ``mfagents.algos.nets`` (networks),
``mfagents.algos.buffers`` (replay), ``mfagents.algos.exploration``, ``mfagents.algos.revision`` and ``mfagents.algos.schedules`` rather than derived from a base class (the table of names: ``mfagents.algos``).

Rows. Every call passes ``n`` rows, one per agent of the group in every environment copy, in the
same order every step, environment-copy-major: row ``r`` is agent ``r % n_agents`` of copy
``r // n_agents`` (``n_agents`` is the group's size in ONE copy, the ``make_learner`` argument; the
replay buffer is allocated on the first ``observe`` call, when ``n`` is known).

Mean actions. ``act`` and ``observe`` take the mean action each row SAW WHEN ACTING (the
``infos[agent]["mean_action"]`` returned with the observation it acted on; at reset, the reset
infos). The next step's vector therefore pairs with the next observation for the target's v_MF(s').
The mean action of the joint action that produced r_t is the one seen at t + 1; the deep learners can
pair it with (s_t, a_t) instead (``mean_action_input="concurrent"``, a literal reading of Algorithm 1;
the default "observed" learnt Gaussian Squeeze far more reliably in our runs).

Episode ends. ``done`` is terminated OR truncated: a time-limit end is treated as terminal (the
bootstrap is cut), a documented simplification the paper's code also makes. With auto-resetting
vector envs, the observation passed after a done row is the next episode's first observation; the
learners never link a transition across it. A row that is inactive at t + 1 (it died at t in
Battle's absorb mode) is also treated as terminal.

Calls per environment step: ``act`` (exploring), then ``observe`` with the step's result, then
``update``; ``set_progress`` whenever the budget fraction changes. Evaluation calls
``act(..., explore=False)`` and ``end_episodes(dones)``, never ``observe``.

Asynchronous revision. Every learner's config has ``revision_rate`` (default 1, the paper's
synchronous setting): the probability that an agent acts on its policy at a step; otherwise it
repeats its previous action (``mfagents.algos.revision.ActionRevision``), exploring or greedy alike. The mean
action the agents see is unchanged (it comes from the environment). A learner remembers each row's
last action; a row whose episode ended (``dones`` given to ``observe`` or ``end_episodes``) acts
freely at its next step, so anything that drives a learner outside the training loop must call
``end_episodes`` when episodes end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np
import torch


@runtime_checkable
class Learner(Protocol):
    """One parameter-shared learner driving a group of agents (a Battle team, all Squeeze/Ising agents).

    Attributes:
        name: registry key (``"mfq"``, ``"il"``, ``"mfac"``, ``"ac"``, ``"tabular_mfq"``).
        uses_mean_action: whether the mean action is an input (False for IL and AC, which ignore it).
        rng: the ``np.random.Generator`` behind every random draw after construction (exploration,
            replay sampling); checkpoints save ``rng.bit_generator.state`` (JSON-able) and restore it.
    """

    name: str
    uses_mean_action: bool
    rng: np.random.Generator

    def act(self, observations: np.ndarray, mean_actions: np.ndarray, explore: bool = True) -> np.ndarray:
        """Actions for ``n`` rows.

        Args:
            observations: ``[n, *obs_shape]`` float32.
            mean_actions: ``[n, n_actions]`` float32, the mean action each row sees now (ignored when unused).
            explore: True samples the exploration policy; False is the greedy / evaluation policy.

        Returns:
            ``[n]`` int64 actions.
        """
        ...

    def end_episodes(self, dones: np.ndarray) -> None:
        """Rows (``[n]`` bool) whose episode ended: they act freely at their next step (no action to repeat).

        ``observe`` does this itself; evaluation, which never observes, calls it after each step.
        """
        ...

    def observe(
        self,
        observations: np.ndarray,
        actions: np.ndarray,
        mean_actions: np.ndarray,
        rewards: np.ndarray,
        dones: np.ndarray,
        active: np.ndarray,
    ) -> None:
        """Record one environment step of the ``n`` rows (same row order every call).

        Args:
            observations: ``[n, *obs_shape]`` obs_t the rows acted on.
            actions: ``[n]`` a_t.
            mean_actions: ``[n, n_actions]`` abar_t, the mean action each row saw when acting.
            rewards: ``[n]`` r_t.
            dones: ``[n]`` bool, the row's episode ended at this step (terminated or truncated).
            active: ``[n]`` bool, the row is a living agent that acted (inactive rows are never trained on).
        """
        ...

    def update(self) -> dict[str, float]:
        """Learn if ready (on the learner's own schedule); return metrics such as ``{"losses/q": ...}`` or ``{}``."""
        ...

    def set_progress(self, fraction: float) -> None:
        """Tell the learner how much of the training budget is spent (0..1); drives its schedules."""
        ...

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Every tensor needed to resume: networks, target networks, optimiser state, counters."""
        ...

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore ``state_dict()``; raises ``KeyError``/``ValueError`` naming a missing or misshapen entry."""
        ...

    def policy_state_dict(self) -> dict[str, torch.Tensor]:
        """The tensors greedy acting needs and nothing else (what a shipped zoo policy holds)."""
        ...

    def load_policy_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore ``policy_state_dict()``: the learner then acts as the one it came from (it cannot resume training)."""
        ...

    def config_dict(self) -> dict[str, Any]:
        """JSON-able hyper-parameters (``dataclasses.asdict`` of the config)."""
        ...


ConfigT = TypeVar("ConfigT")


def build_config(config_class: type[ConfigT], overrides: Mapping[str, Any]) -> ConfigT:
    """``config_class(**overrides)``, with a TypeError that lists the valid fields for an unknown one.

    List values become tuples, so a config read back from JSON equals the original.
    """
    fields = {field.name for field in dataclasses.fields(config_class)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"{config_class.__name__} has no field {unknown[0]!r}; valid fields: {', '.join(sorted(fields))}")
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in overrides.items()}
    return config_class(**values)
