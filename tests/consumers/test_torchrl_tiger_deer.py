"""``mfenvs.torchrl_env.TigerDeerEnv``: tiger-deer as a batched TorchRL environment, one group per MAgent2
group (deer, tiger), each with its own view window, channels, features and actions (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs

from mfenvs import tiger_deer_v0
from mfenvs.tiger_deer import GROUPS, TigerDeerConfig, TigerDeerCore
from mfenvs.torchrl_env import TigerDeerEnv

B, SEED, STEPS = 2, 3, 30
#: tigers among deer on a 12 x 12 map: hits, joint hits and kills from the first steps
DEN = {"deer": [(x, y) for x in (2, 4, 6, 8) for y in range(2, 10, 2)], "tiger": [(x, y) for x in (3, 7) for y in range(3, 11, 2)]}


@pytest.mark.parametrize(
    "kwargs, deer_shape, tiger_shape",
    [({}, (3, 3, 5), (9, 9, 5)), ({"map_size": 20, "minimap_mode": True, "extra_features": True}, (3, 3, 25), (9, 9, 29))],
    ids=["default", "20-minimap-features"],
)
def test_check_env_specs_with_a_group_per_magent2_group(kwargs, deer_shape, tiger_shape):
    env = TigerDeerEnv(num_envs=B, seed=SEED, **kwargs)
    check_env_specs(env, seed=SEED)
    counts = env.config.group_counts
    assert list(env.group_map) == list(GROUPS)
    assert env.group_map["tiger"] == [f"tiger_{i}" for i in range(counts[1])]
    for group, shape, n_actions, n_features in (("deer", deer_shape, 5, 18), ("tiger", tiger_shape, 9, 22)):
        n = len(env.group_map[group])
        assert env.observation_spec[group, "observation"].shape == (B, n, *shape)
        assert env.observation_spec[group, "features"].shape == (B, n, n_features)
        assert env.observation_spec[group, "mean_action"].shape == (B, n, n_actions)
        assert env.full_action_spec[group, "action"].space.n == n_actions


@pytest.mark.parametrize("learner", ["tiger", "deer"])
def test_one_learning_group_against_random_play_passes_check_env_specs(learner):
    env = TigerDeerEnv(num_envs=B, map_size=16, opponent="random", learner=learner, categorical_actions=False, seed=SEED)
    check_env_specs(env, seed=SEED)
    assert list(env.group_map) == [learner]


def test_rollout_is_tiger_deer_core_step_by_step():
    """Each group's observations (its own window), features, rewards, mean actions and masks are its slots of a core."""
    config = TigerDeerConfig(map_size=12, positions=DEN, max_cycles=1000, extra_features=True)
    env = TigerDeerEnv(config, num_envs=B)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    assert (rollout["next", "deer", "reward"] < 0).any(), "the tigers should hit deer"
    assert (rollout["next", "tiger", "reward"] >= 1).any(), "two tigers should hit one deer together"
    core = TigerDeerCore(config, n_battles=B, spare_view_channels=env.core.spare_view_channels, tiled_features=env.core.tiled_features)
    output = core.reset(SEED)
    slices = core.group_slices()
    cuts = {"deer": (slice(3, 6), 21, 18, 5), "tiger": (slice(0, 9), 25, 22, 9)}
    for t in range(STEPS):
        step = rollout[:, t]
        for group, slots in slices.items():
            crop, channels, n_features, _ = cuts[group]
            np.testing.assert_array_equal(step[group, "observation"].numpy(), output.views[:, slots, crop, crop, :channels])
            np.testing.assert_array_equal(step[group, "features"].numpy(), output.features[:, slots, :n_features])
        actions = torch.cat([step[group, "action"] for group in GROUPS], dim=1).numpy()
        output = core.step(actions)
        if output.done.any():
            break  # the env restarts finished games at once; the core here does not
        for group, slots in slices.items():
            n_actions = cuts[group][3]
            np.testing.assert_array_equal(step["next", group, "reward"].squeeze(-1).numpy(), output.rewards[:, slots])
            np.testing.assert_array_equal(step["next", group, "mean_action"].numpy(), output.mean_actions[:, slots, :n_actions])
            np.testing.assert_array_equal(step["next", group, "mask"].numpy(), output.alive[:, slots])
    assert t > 5


def test_one_game_is_the_pettingzoo_env():
    """B = 1 draws the same map and attack order as the PettingZoo env's core: the same rollout, agent by agent."""
    kwargs = dict(map_size=16, minimap_mode=True, extra_features=True, max_cycles=40)
    env = TigerDeerEnv(num_envs=1, seed=SEED, **kwargs)
    torch.manual_seed(SEED)
    rollout = env.rollout(25, break_when_any_done=False)
    parallel = tiger_deer_v0.parallel_env(dead_agents="absorb", **kwargs)
    observations, infos = parallel.reset(seed=SEED)
    for t in range(25):
        step = rollout[0, t]
        actions = {}
        for group in GROUPS:
            for k, agent in enumerate(env.group_map[group]):
                np.testing.assert_array_equal(step[group, "observation"][k].numpy(), observations[agent])
                np.testing.assert_array_equal(step[group, "mean_action"][k].numpy(), infos[agent]["mean_action"])
                actions[agent] = int(step[group, "action"][k])
        observations, rewards, _, _, infos = parallel.step(actions)
        for group in GROUPS:
            expected = [rewards[agent] for agent in env.group_map[group]]
            np.testing.assert_allclose(step["next", group, "reward"].squeeze(-1).numpy(), expected, rtol=0, atol=0)


def test_bad_arguments_and_actions_name_what_is_wrong():
    with pytest.raises(ValueError, match="learner"):
        TigerDeerEnv(map_size=16, opponent="random", learner="wolf")
    env = TigerDeerEnv(num_envs=1, map_size=16, seed=SEED)
    td = env.rand_action(env.reset())
    td["deer", "action"][:] = 5
    with pytest.raises(ValueError, match=r"\('deer', 'action'\): actions must be in \[0, 5\)"):
        env.step(td)
