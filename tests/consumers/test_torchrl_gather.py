"""``mfenvs.torchrl_env.GatherEnv``: gather as a batched TorchRL environment with the one MAgent2 group that
acts, ``omnivore`` (the food is passive: on the map, never acting, no group; issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs

from mfenvs import gather_v0
from mfenvs.gather import GatherConfig, GatherCore
from mfenvs.torchrl_env import GatherEnv

B, SEED, STEPS = 2, 3, 30
#: a 16 x 16 map: a block of food with omnivores around and inside it (hits, kills, fights at once)
FIELD = {
    "food": [(x, y) for x in range(5, 11) for y in range(5, 11) if (x + y) % 2 == 0],
    "omnivore": [(x, y) for x in range(4, 12) for y in range(4, 12) if (x + y) % 2 == 1],
}


@pytest.mark.parametrize(
    "kwargs, shape",
    [({"max_cycles": 20}, (15, 15, 5)), ({"minimap_mode": True, "extra_features": True, "max_cycles": 20}, (15, 15, 43))],
    ids=["default", "minimap-features"],
)
def test_check_env_specs_with_the_omnivore_group(kwargs, shape):
    env = GatherEnv(num_envs=B, seed=SEED, **kwargs)
    check_env_specs(env, seed=SEED)
    assert list(env.group_map) == ["omnivore"]
    assert env.group_map["omnivore"] == [f"omnivore_{i}" for i in range(495)]
    assert env.observation_spec["omnivore", "observation"].shape == (B, 495, *shape)
    assert env.observation_spec["omnivore", "features"].shape == (B, 495, 36)
    assert env.observation_spec["omnivore", "mean_action"].shape == (B, 495, 33)
    assert env.full_action_spec["omnivore", "action"].space.n == 33


def test_one_hot_actions_pass_check_env_specs():
    config = GatherConfig(map_size=16, positions=FIELD, max_cycles=50)
    check_env_specs(GatherEnv(config, num_envs=B, categorical_actions=False, seed=SEED), seed=SEED)


def test_rollout_is_gather_core_step_by_step():
    """The omnivores' observations, features, rewards, mean actions and masks are their slots of a core whose
    food always stays."""
    config = GatherConfig(map_size=16, positions=FIELD, max_cycles=1000, extra_features=True)
    env = GatherEnv(config, num_envs=B)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    rewards = rollout["next", "omnivore", "reward"]
    assert (rewards > 0.3).any() and (rewards < -0.5).any(), "omnivores should hit food and kill each other"
    core = GatherCore(config, n_battles=B, spare_view_channels=env.core.spare_view_channels, tiled_features=env.core.tiled_features)
    output = core.reset(SEED)
    omnivores = core.group_slices()["omnivore"]
    n_food = config.group_counts[0]
    for t in range(STEPS):
        step = rollout[:, t]
        np.testing.assert_array_equal(step["omnivore", "observation"].numpy(), output.views[:, omnivores, :, :, :39])
        np.testing.assert_array_equal(step["omnivore", "features"].numpy(), output.features[:, omnivores])
        actions = np.concatenate([np.zeros((B, n_food), dtype=np.int64), step["omnivore", "action"].numpy()], axis=1)
        output = core.step(actions)
        if output.done.any():
            break
        np.testing.assert_array_equal(step["next", "omnivore", "reward"].squeeze(-1).numpy(), output.rewards[:, omnivores])
        np.testing.assert_array_equal(step["next", "omnivore", "mean_action"].numpy(), output.mean_actions[:, omnivores])
        np.testing.assert_array_equal(step["next", "omnivore", "mask"].numpy(), output.alive[:, omnivores])
        np.testing.assert_array_equal(step["next", "kills"].numpy()[:, 1], core.state.kill_table[:, 1, 0])
    assert t > 5


def test_one_game_is_the_pettingzoo_env():
    """B = 1 plays the same attack order as the PettingZoo env's core: the same rollout, agent by agent."""
    kwargs = dict(minimap_mode=True, extra_features=True, max_cycles=40)
    env = GatherEnv(num_envs=1, seed=SEED, **kwargs)
    torch.manual_seed(SEED)
    rollout = env.rollout(8, break_when_any_done=False)
    parallel = gather_v0.parallel_env(dead_agents="absorb", **kwargs)
    observations, infos = parallel.reset(seed=SEED)
    for t in range(8):
        step = rollout[0, t]
        actions = {}
        for k, agent in enumerate(env.group_map["omnivore"]):
            np.testing.assert_array_equal(step["omnivore", "observation"][k].numpy(), observations[agent])
            np.testing.assert_array_equal(step["omnivore", "mean_action"][k].numpy(), infos[agent]["mean_action"])
            actions[agent] = int(step["omnivore", "action"][k])
        observations, rewards, _, _, infos = parallel.step(actions)
        expected = [rewards[agent] for agent in env.group_map["omnivore"]]
        np.testing.assert_allclose(step["next", "omnivore", "reward"].squeeze(-1).numpy(), expected, rtol=0, atol=0)


def test_bad_actions_name_what_is_wrong():
    env = GatherEnv(num_envs=1, seed=SEED, max_cycles=5)
    td = env.rand_action(env.reset())
    td["omnivore", "action"][:] = 33
    with pytest.raises(ValueError, match=r"\('omnivore', 'action'\): actions must be in \[0, 33\)"):
        env.step(td)
