"""Opt-in float16 views (issue 11): ``view_dtype="float16"`` gives the float32 views cast to float16, bit for bit.

A float32 core and a float16 core play the same seed and actions; at every step the float16 views
must equal ``float32_views.astype(np.float16)`` bit for bit and everything else must be identical,
on one thread and on two (the parallel kernels).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from mfenvs import battle_v0
from mfenvs.battle import BattleConfig, BattleCore, BattleOutput
from mfenvs.battle.config import ID_BITS, N_ACTIONS
from mfenvs.common import jit
from tests.mfenvs.battle.golden_cases import INTERIOR_WALLS, PACKED, fighting_actions
from tests.mfenvs.test_pettingzoo_api import run_checker

THREAD_COUNTS = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})
LAST_REWARD = ID_BITS + N_ACTIONS
"""Feature index of the last reward (negative on most steps: the one tiled value below zero)."""
X, Y = LAST_REWARD + 1, LAST_REWARD + 2

#: name -> (BattleCore arguments, steps, what the trajectory must show): each case exercises one way a
#: value reaches the views, and fails if it stops doing so.
CASES: dict[str, tuple[dict[str, Any], int, tuple[str, ...]]] = {
    "minimap, 3 battles, restarts": (
        dict(config=dict(map_size=20, team_size=9, max_cycles=15), n_battles=3), 40, ("restarts", "inexact in float16"),
    ),
    "no minimap, 2 battles": (
        dict(config=dict(map_size=16, team_size=6, minimap_mode=False), n_battles=2), 30, ("inexact in float16",),
    ),
    "tiled features with the reward, a zero channel": (
        dict(config=dict(map_size=14, team_size=4), spare_view_channels=5, tiled_features=[LAST_REWARD, X, Y, 0]),
        30,
        ("negative views", "inexact in float16"),
    ),
    "packed: deaths from the first step": (
        dict(config=dict(map_size=12, positions=PACKED, max_cycles=20), n_battles=2, spare_view_channels=1, tiled_features=[LAST_REWARD]),
        40,
        ("deaths", "restarts", "negative views", "inexact in float16"),
    ),
    "interior walls, no minimap": (
        dict(config=dict(map_size=24, team_size=16, walls=INTERIOR_WALLS, minimap_mode=False), spare_view_channels=3, tiled_features=[LAST_REWARD, X, Y]),
        20,
        ("negative views", "inexact in float16"),
    ),
    "1 v 1": (
        dict(config=dict(map_size=6, positions={"red": [(2, 2)], "blue": [(3, 3)]}, random_sides=False, max_cycles=30), spare_view_channels=2, tiled_features=[X, LAST_REWARD]),
        40,
        ("deaths", "restarts", "negative views", "inexact in float16"),
    ),
}


@pytest.fixture
def parallel_everywhere(monkeypatch):
    """Run the parallel compilation of every kernel however small the step (normally serial below 4096 agents)."""
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)


def assert_float16_is_the_cast(float32: BattleOutput, float16: BattleOutput) -> None:
    assert float32.views.dtype == np.float32 and float16.views.dtype == np.float16
    assert float16.views.shape == float32.views.shape
    expected = float32.views.astype(np.float16)
    if not np.array_equal(float16.views.view(np.uint16), expected.view(np.uint16)):
        where = tuple(int(i[0]) for i in np.nonzero(float16.views.view(np.uint16) != expected.view(np.uint16)))
        pytest.fail(f"views differ first at {where}: float16 {float16.views[where]!r}, float32 {float32.views[where]!r}")
    np.testing.assert_array_equal(float16.features.view(np.uint32), float32.features.view(np.uint32))
    for name in ("rewards", "alive", "terminated", "truncated", "done"):
        np.testing.assert_array_equal(getattr(float16, name), getattr(float32, name), err_msg=name)


def play_both(arguments: dict[str, Any], steps: int, threads: int | None, seed: int = 7) -> dict[str, bool]:
    """Step a float32 and a float16 core alike (finished battles restart), checking every output.

    Returns what the trajectory showed, so that a case can be checked to test what it says it does.
    """
    arguments = {**arguments, "config": BattleConfig(**arguments["config"]), "threads": threads}
    float32_core, float16_core = BattleCore(**arguments), BattleCore(**arguments, view_dtype="float16")
    float32, float16 = float32_core.reset(seed=seed), float16_core.reset(seed=seed)
    assert_float16_is_the_cast(float32, float16)
    rng = np.random.default_rng(seed)
    seen = {"deaths": False, "negative views": False, "restarts": False, "inexact in float16": False}
    for _ in range(steps):
        actions = fighting_actions(float32_core.action_masks(), rng)
        float32, float16 = float32_core.step(actions), float16_core.step(actions)
        assert_float16_is_the_cast(float32, float16)
        seen["deaths"] |= bool(float32.terminated.any())
        seen["negative views"] |= bool((float32.views < 0).any())
        seen["inexact in float16"] |= bool((float32.views != float16.views.astype(np.float32)).any())
        if float32.done.any():
            seen["restarts"] = True
            float32_core.reset_battles(float32.done)
            float16_core.reset_battles(float32.done)
            assert_float16_is_the_cast(float32_core.observe(), float16_core.observe())
    return seen


@pytest.mark.parametrize("threads", THREAD_COUNTS)
@pytest.mark.parametrize("name", CASES)
def test_float16_views_are_the_float32_views_cast(parallel_everywhere, name, threads):
    arguments, steps, must_see = CASES[name]
    seen = play_both(arguments, steps, threads)
    assert all(seen[what] for what in must_see), seen


@pytest.mark.parametrize("threads", THREAD_COUNTS)
def test_float16_views_of_a_large_battle(threads):
    """5000 agents: above ``jit.PARALLEL_MIN_WORK``, so two threads run the parallel kernels unpatched."""
    arguments = dict(config=dict(map_size=250, max_cycles=10), spare_view_channels=2, tiled_features=[X, Y])
    assert BattleConfig(map_size=250).n_agents >= jit.PARALLEL_MIN_WORK
    play_both(arguments, steps=3, threads=threads)


@pytest.mark.parametrize("view_dtype", ["float64", "half", "f2", np.float16, None, 16])
def test_unknown_view_dtypes_are_refused_by_name(view_dtype):
    with pytest.raises(ValueError, match=r"view_dtype must be one of \('float32', 'float16'\), got"):
        BattleCore(BattleConfig(map_size=12, team_size=4), view_dtype=view_dtype)
    with pytest.raises(ValueError, match="view_dtype"):
        battle_v0.parallel_env(map_size=12, team_size=4, view_dtype=view_dtype)


@pytest.mark.parametrize("minimap_mode, extra_features", [(True, True), (False, False)])
def test_env_float16_observations_are_the_float32_ones_cast_and_inside_the_space(minimap_mode, extra_features):
    kwargs = dict(map_size=12, positions=PACKED, minimap_mode=minimap_mode, extra_features=extra_features, max_cycles=25)
    float32_env, float16_env = battle_v0.parallel_env(**kwargs), battle_v0.parallel_env(**kwargs, view_dtype="float16")
    space = float16_env.observation_space("red_0")
    assert space.dtype == np.float16 and space.shape == float32_env.observation_space("red_0").shape
    observations32, _ = float32_env.reset(seed=3)
    observations16, _ = float16_env.reset(seed=3)
    rng = np.random.default_rng(3)
    while float32_env.agents:
        assert list(observations16) == list(observations32)
        for agent, observation in observations16.items():
            assert observation.dtype == np.float16 and space.contains(observation), agent
            np.testing.assert_array_equal(observation.view(np.uint16), observations32[agent].astype(np.float16).view(np.uint16))
        actions = {agent: int(rng.integers(N_ACTIONS)) for agent in float32_env.agents}
        observations32, rewards32, *_ = float32_env.step(actions)
        observations16, rewards16, *_ = float16_env.step(actions)
        assert rewards16 == rewards32


def test_env_float16_passes_the_parallel_api_test():
    env = battle_v0.parallel_env(map_size=14, team_size=4, extra_features=True, view_dtype="float16", max_cycles=20)
    run_checker(parallel_api_test, env, num_cycles=20)
