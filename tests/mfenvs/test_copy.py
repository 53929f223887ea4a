"""A deep-copied, pickled or cloudpickled environment behaves exactly like a fresh one.

SuperSuit's ``concat_vec_envs_v1`` clones the environment with cloudpickle, and multiprocessing
vector envs, Ray and RLlib pickle it: state that aliases other state (views into a shared buffer)
must survive the copy, or the copy plays a different game (a Battle copy once saw no agents).
"""

from __future__ import annotations

import copy
import pickle

import cloudpickle
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from tests.mfenvs.test_determinism import kept_length, rollout

COPIES = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda env: pickle.loads(pickle.dumps(env)),
    "cloudpickle": lambda env: cloudpickle.loads(cloudpickle.dumps(env)),
}


def assert_same(first: list, second: list) -> None:
    assert len(first) == len(second)
    for index, (a, b) in enumerate(zip(first, second)):
        assert data_equivalence(a, b, exact=True), f"the copy differs from a fresh env at output {index}"


@pytest.mark.parametrize("how", list(COPIES))
def test_a_copy_made_before_reset_plays_like_a_fresh_env(env_case, how):
    steps, cycles = kept_length(env_case, 100, 30)  # several resets, deaths in the packed Battle cases
    fresh = rollout(env_case.parallel_env(max_cycles=cycles), seed=5, action_seed=1, n_steps=steps)
    copied = rollout(COPIES[how](env_case.parallel_env(max_cycles=cycles)), seed=5, action_seed=1, n_steps=steps)
    assert_same(fresh, copied)


@pytest.mark.parametrize("how", list(COPIES))
def test_a_copy_made_mid_episode_continues_like_the_original(env_case, how):
    env = env_case.parallel_env(max_cycles=30)
    rollout(env, seed=3, action_seed=2, n_steps=7)
    twin = COPIES[how](env)
    rng_state = np.random.default_rng(8)
    n_actions = {agent: int(env.action_space(agent).n) for agent in env.possible_agents}  # each agent's own
    for _ in range(40):
        if not env.agents:
            assert data_equivalence(env.reset(seed=9), twin.reset(seed=9), exact=True)
        highs = [n_actions[agent] for agent in env.agents]
        actions = dict(zip(env.agents, rng_state.integers(0, highs, size=len(env.agents)).tolist()))
        assert data_equivalence(env.step(actions), twin.step(dict(actions)), exact=True)
        assert data_equivalence(env.state(), twin.state(), exact=True)


def test_battle_copy_sees_the_agents():
    # The symptom of the original bug, stated plainly: a copy's own-presence channel was empty.
    from mfenvs import battle_v0

    env = battle_v0.parallel_env(map_size=16, team_size=8)
    copied = copy.deepcopy(env)
    observations, _ = copied.reset(seed=0)
    assert sum(float(obs[..., 1].sum()) for obs in observations.values()) > 0
