"""Small configurations of every registered environment, for the parametrised environment suites.

Tests that take an ``env_case`` argument run once per (environment, small kwarg set) pair of
``ENV_KWARG_SETS``; tests that take ``<short_name>_kwargs`` (``ising_kwargs``...) run once per kwarg set
of that environment. ``ENV_KWARG_SETS`` must name every entry of ``mfenvs.registration.ENVIRONMENTS``
(``test_pettingzoo_api.py`` fails otherwise), so a new environment is covered by the parametrised
suites as soon as it is registered. Headless pygame is set up by ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from mfenvs.registration import ENVIRONMENTS, EnvEntry

#: Battle placements for ``ENV_KWARG_SETS``: a 5 x 5 map has a 3 x 3 interior, a 6 x 6 map a 4 x 4 one.
SURROUNDED = {"red": [(x, y) for y in (1, 2, 3) for x in (1, 2, 3) if (x, y) != (2, 2)], "blue": [(2, 2)]}
STRIPES = {
    "red": [(x, y) for y in (1, 3) for x in (1, 2, 3, 4)],
    "blue": [(x, y) for y in (2, 4) for x in (1, 2, 3, 4)],
}
#: Short names of long kwarg values, for readable test ids.
VALUE_NAMES = {"surrounded": SURROUNDED, "stripes": STRIPES}

#: Small constructor settings per environment short name; every test suite over ``env_case`` uses them.
ENV_KWARG_SETS: dict[str, list[dict[str, Any]]] = {
    "gaussian_squeeze": [
        {"n_agents": 1, "n_actions": 2},
        {"n_agents": 1, "n_actions": 10, "mu": 3.0, "sigma": 2.0},
        {"n_agents": 5, "n_actions": 2, "mu": 2.0, "sigma": 1.5},
        {"n_agents": 5, "n_actions": 10},
        {"n_agents": 50, "n_actions": 2, "mu": 20.0, "sigma": 8.0},
        {"n_agents": 50, "n_actions": 10, "mu": 400.0, "sigma": 200.0},
    ],
    "ising": [
        {"size": 3},
        {"size": 4, "h": 0.5},
        {"size": 7, "h": -0.3, "coupling": 2.0},
        {"size": 4, "initial": "up"},
    ],
    "battle": [
        {"map_size": 12, "team_size": 4, "max_cycles": 30},
        {"map_size": 16, "team_size": 9, "minimap_mode": False, "dead_agents": "absorb", "max_cycles": 30},
        {"map_size": 14, "team_size": 4, "extra_features": True, "action_mask": True},
        {"map_size": 16, "team_size": 2, "minimap_mode": False, "extra_features": True, "mean_action_radius": None},
        # Packed maps without a free cell, so that random attacks kill within a few dozen steps: eight red
        # around one blue (episodes end by wipe-out), and alternating red and blue rows (deaths, then moves).
        {"map_size": 5, "positions": SURROUNDED, "random_sides": False, "max_cycles": 60},
        {"map_size": 5, "positions": SURROUNDED, "dead_agents": "absorb", "max_cycles": 60},
        {"map_size": 6, "positions": STRIPES, "max_cycles": 40},
        {"map_size": 6, "positions": STRIPES, "dead_agents": "absorb", "extra_features": True, "max_cycles": 40},
        # opt-in float16 observations (issue 11), with deaths and the tiled features (negative rewards included)
        {"map_size": 6, "positions": STRIPES, "extra_features": True, "view_dtype": "float16", "max_cycles": 40},
    ],
    # MAgent2's smallest battlefield (46) and its default (80, 12 v 12 with walls), short episodes
    "battlefield": [
        {"map_size": 46, "max_cycles": 30},
        {"map_size": 46, "minimap_mode": True, "extra_features": True, "dead_agents": "absorb", "action_mask": True, "max_cycles": 30},
        {"max_cycles": 20, "mean_action_radius": None},
    ],
    # MAgent2's smallest combined arms (16: 3 per group, the groups two cells apart, so fights and
    # wipe-outs come fast), the default (45: 162 agents), and small maps with every flag
    "combined_arms": [
        {"map_size": 16, "max_cycles": 60},
        {"map_size": 16, "minimap_mode": True, "extra_features": True, "dead_agents": "absorb", "action_mask": True, "max_cycles": 60},
        {"map_size": 20, "extra_features": True, "mean_action_radius": None, "view_dtype": "float16", "max_cycles": 40},
        {"max_cycles": 15},
    ],
    # MAgent2's smallest tiger-deer (10: 5 deer, 1 tiger, 4 random walls), random maps with every flag,
    # the default (45: 101 deer, 20 tigers), and a den where tigers eat deer within a few dozen steps
    "tiger_deer": [
        {"map_size": 10, "max_cycles": 60},
        {"map_size": 20, "minimap_mode": True, "extra_features": True, "dead_agents": "absorb", "action_mask": True, "max_cycles": 40},
        {"map_size": 20, "extra_features": True, "mean_action_radius": None, "view_dtype": "float16", "tiger_step_recover": -0.5, "max_cycles": 40},
        {"max_cycles": 15},
    ],
    # MAgent2's gather (200 x 200, 495 omnivores, 2,272 food: no map_size argument), short episodes with every flag
    "gather": [
        {"max_cycles": 10},
        {"minimap_mode": True, "extra_features": True, "dead_agents": "absorb", "action_mask": True, "max_cycles": 8},
        {"extra_features": True, "mean_action_radius": None, "view_dtype": "float16", "attack_food_reward": 2.0, "max_cycles": 8},
    ],
    # MAgent2's smallest map with a predator (9: 1 predator, 2 prey, 2 walls), random maps with every
    # flag and the default (45: 25 predators, 50 prey); nothing dies, so every episode runs to max_cycles
    "adversarial_pursuit": [
        {"map_size": 9, "max_cycles": 40},
        {"map_size": 20, "minimap_mode": True, "extra_features": True, "dead_agents": "absorb", "action_mask": True, "max_cycles": 30},
        {"map_size": 20, "extra_features": True, "mean_action_radius": None, "view_dtype": "float16", "tag_penalty": -0.5, "max_cycles": 30},
        {"max_cycles": 15},
    ],
}


@dataclass(frozen=True)
class EnvCase:
    """One registered environment with one small kwarg set; builds its parallel and AEC versions."""

    entry: EnvEntry
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        return self.entry.short_name

    @property
    def module(self) -> ModuleType:
        """The ``name_vN`` module (``parallel_env``, ``env``, ``raw_env``)."""
        return importlib.import_module(self.entry.module)

    @property
    def id(self) -> str:
        return f"{self.short_name}[{kwargs_id(self.kwargs)}]"

    def parallel_env(self, **overrides: Any):
        """The parallel environment with this case's kwargs, updated by ``overrides``."""
        return self.module.parallel_env(**{**self.kwargs, **overrides})

    def env(self, **overrides: Any):
        """The AEC environment (order-enforcing wrapper) with this case's kwargs and ``overrides``."""
        return self.module.env(**{**self.kwargs, **overrides})


def kwargs_id(kwargs: dict[str, Any]) -> str:
    return ",".join(f"{key}={value_id(value)}" for key, value in kwargs.items())


def value_id(value: Any) -> str:
    """``value`` as it appears in a test id: its ``VALUE_NAMES`` name if it has one."""
    return next((name for name, named in VALUE_NAMES.items() if value is named), str(value))


def env_cases() -> list[EnvCase]:
    """Every (registered environment, kwarg set) pair."""
    return [EnvCase(entry, kwargs) for entry in ENVIRONMENTS for kwargs in ENV_KWARG_SETS.get(entry.short_name, [])]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "env_case" in metafunc.fixturenames:
        cases = env_cases()
        metafunc.parametrize("env_case", cases, ids=[case.id for case in cases])
    for short_name, kwarg_sets in ENV_KWARG_SETS.items():
        name = f"{short_name}_kwargs"
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, kwarg_sets, ids=[kwargs_id(kwargs) for kwargs in kwarg_sets])


@pytest.fixture
def env_kwarg_sets() -> dict[str, list[dict[str, Any]]]:
    """``ENV_KWARG_SETS``, for the test that checks every registered environment has some."""
    return ENV_KWARG_SETS


@pytest.fixture
def squeeze_env():
    """A reset 5-agent Gaussian Squeeze (parallel API) with a 5-step episode."""
    from mfenvs import gaussian_squeeze_v0

    env = gaussian_squeeze_v0.parallel_env(n_agents=5, n_actions=10, mu=20.0, sigma=10.0, max_cycles=5)
    env.reset(seed=0)
    yield env
    env.close()


@pytest.fixture
def ising_env():
    """A reset 4x4 Ising lattice (parallel API) with a 5-step episode."""
    from mfenvs import ising_v0

    env = ising_v0.parallel_env(size=4, h=0.2, max_cycles=5)
    env.reset(seed=0)
    yield env
    env.close()
