"""The learners: MF-Q, IL, MF-AC, AC and tabular MF-Q by name (``ALGORITHMS``), with their networks, replay and exploration.

May import ``mfagents.common`` only. Each learner follows the ``Learner`` protocol (``learner.py``):

| name | class | paper |
|---|---|---|
| ``mfq`` | ``MFQ`` (``mfq.py``) | Algorithm 1, Q(s, a, abar), Boltzmann v_MF backup |
| ``il`` | ``MFQ`` with ``use_mean_action=False`` | independent Q-learning baseline |
| ``mfac`` | ``MFAC`` (``mfac.py``) | Algorithm 2, actor pi(a \\| s), critic Q(s, a, abar) |
| ``ac`` | ``MFAC`` with ``use_mean_action=False`` | advantage actor-critic baseline |
| ``tabular_mfq`` | ``TabularMFQ`` (``tabular_mfq.py``) | Eq. 32, stateless MF-Q for the Ising lattice |
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

import gymnasium

from mfagents.algos.learner import Learner, build_config


def _mean_field_pair(module: str, learner_class: str, config_class: str, name: str, baseline: str) -> tuple[Callable[..., Learner], Callable[..., Learner]]:
    """Registry factories of a learner with the mean-action input (``name``) and without it (``baseline``).

    The class lives in ``module``, imported on first use; both factories
    take ``(observation_space, n_actions, n_agents, seed, device="cpu", **config_overrides)``, and a
    ``use_mean_action`` override that contradicts the name is an error naming the right one.
    """

    def factory(use_mean_action: bool) -> Callable[..., Learner]:
        this, other = (name, baseline) if use_mean_action else (baseline, name)

        def make(observation_space: Any, n_actions: int, n_agents: int, seed: int, device: str = "cpu", **overrides: Any) -> Learner:
            if overrides.pop("use_mean_action", use_mean_action) != use_mean_action:
                raise ValueError(f"{this} {'takes' if use_mean_action else 'has no'} mean-action input: use '{other}'")
            classes = import_module(module)
            config = build_config(getattr(classes, config_class), {**overrides, "use_mean_action": use_mean_action})
            return getattr(classes, learner_class)(config, observation_space, n_actions, n_agents, seed, device)

        return make

    return factory(True), factory(False)


def _tabular_mfq(**kwargs: Any) -> Learner:
    return import_module("mfagents.algos.tabular_mfq").make_tabular_mfq(**kwargs)


_mfq, _il = _mean_field_pair("mfagents.algos.mfq", "MFQ", "MFQConfig", "mfq", "il")
_mfac, _ac = _mean_field_pair("mfagents.algos.mfac", "MFAC", "MFACConfig", "mfac", "ac")

ALGORITHMS: dict[str, Callable[..., Learner]] = {
    "mfq": _mfq,
    "il": _il,
    "mfac": _mfac,
    "ac": _ac,
    "tabular_mfq": _tabular_mfq,
}
"""Registry: name -> factory ``(observation_space, n_actions, n_agents, seed, device, **overrides) -> Learner``."""


def make_learner(
    name: str,
    observation_space: gymnasium.spaces.Box,
    n_actions: int,
    n_agents: int,
    seed: int,
    device: str = "cpu",
    **overrides: Any,
) -> Learner:
    """Build a registered learner.

    Args:
        name: a key of ``ALGORITHMS``.
        observation_space: one agent's observation ``Box`` (1-D for an MLP, 3-D HWC for Battle's conv net).
        n_actions: size of the discrete action space.
        n_agents: the group's agents in ONE environment copy (rows may repeat it over copies).
        seed: seeds every generator of the learner (network init, exploration, replay sampling).
        device: torch device for the networks.
        **overrides: fields of the algorithm's config dataclass (``MFQConfig``, ``MFACConfig``, ``TabularMFQConfig``).

    Raises:
        ValueError: unknown ``name``. TypeError: unknown override field (the message lists the valid ones).
    """
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; expected one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[name](
        observation_space=observation_space, n_actions=n_actions, n_agents=n_agents, seed=seed, device=device, **overrides
    )


__all__ = ["ALGORITHMS", "Learner", "build_config", "make_learner"]
