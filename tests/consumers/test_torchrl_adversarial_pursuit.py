"""``mfenvs.torchrl_env.AdversarialPursuitEnv``: adversarial pursuit as a batched TorchRL environment, one group
per MAgent2 group (predator, prey), each with its own view window, channels, features and actions (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs

from mfenvs import adversarial_pursuit_v0
from mfenvs.adversarial_pursuit import GROUPS, AdversarialPursuitConfig, AdversarialPursuitCore
from mfenvs.torchrl_env import AdversarialPursuitEnv

B, SEED, STEPS = 2, 3, 30
#: predators (2 x 2, by their top-left cells) among prey on a 14 x 14 map: tags from the first steps
PACK = {
    "predator": [(2, 2), (6, 2), (2, 7), (6, 7), (10, 4)],
    "prey": [(4, 2), (5, 3), (2, 4), (3, 5), (8, 3), (9, 5), (4, 7), (5, 8), (2, 9), (8, 8), (12, 6), (11, 11), (4, 11)],
}


@pytest.mark.parametrize(
    "kwargs, predator_shape, prey_shape",
    [({}, (10, 10, 5), (9, 9, 5)), ({"map_size": 20, "minimap_mode": True, "extra_features": True}, (10, 10, 33), (9, 9, 29))],
    ids=["default", "20-minimap-features"],
)
def test_check_env_specs_with_a_group_per_magent2_group(kwargs, predator_shape, prey_shape):
    env = AdversarialPursuitEnv(num_envs=B, seed=SEED, **kwargs)
    check_env_specs(env, seed=SEED)
    counts = env.config.group_counts
    assert list(env.group_map) == list(GROUPS)
    assert env.group_map["prey"] == [f"prey_{i}" for i in range(counts[1])]
    for group, shape, n_actions, n_features in (("predator", predator_shape, 13, 26), ("prey", prey_shape, 9, 22)):
        n = len(env.group_map[group])
        assert env.observation_spec[group, "observation"].shape == (B, n, *shape)
        assert env.observation_spec[group, "features"].shape == (B, n, n_features)
        assert env.observation_spec[group, "mean_action"].shape == (B, n, n_actions)
        assert env.full_action_spec[group, "action"].space.n == n_actions


@pytest.mark.parametrize("learner", ["predator", "prey"])
def test_one_learning_group_against_random_play_passes_check_env_specs(learner):
    env = AdversarialPursuitEnv(num_envs=B, map_size=16, opponent="random", learner=learner, categorical_actions=False, seed=SEED)
    check_env_specs(env, seed=SEED)
    assert list(env.group_map) == [learner]


def test_rollout_is_the_core_step_by_step_and_episodes_are_truncated():
    """Each group's observations (its own window), features, rewards, mean actions and masks are its slots of a core."""
    config = AdversarialPursuitConfig(map_size=14, positions=PACK, max_cycles=STEPS, extra_features=True)
    env = AdversarialPursuitEnv(config, num_envs=B)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    assert (rollout["next", "prey", "reward"] <= -1).any(), "the predators should tag prey"
    assert (rollout["next", "predator", "reward"] > 0.5).any()
    core = AdversarialPursuitCore(config, n_battles=B, spare_view_channels=env.core.spare_view_channels, tiled_features=env.core.tiled_features)
    output = core.reset(SEED)
    slices = core.group_slices()
    cuts = {"predator": (slice(0, 10), 29, 26, 13), "prey": (slice(0, 9), 25, 22, 9)}
    for t in range(STEPS):
        step = rollout[:, t]
        for group, slots in slices.items():
            crop, channels, n_features, _ = cuts[group]
            np.testing.assert_array_equal(step[group, "observation"].numpy(), output.views[:, slots, crop, crop, :channels])
            np.testing.assert_array_equal(step[group, "features"].numpy(), output.features[:, slots, :n_features])
        actions = torch.cat([step[group, "action"] for group in GROUPS], dim=1).numpy()
        output = core.step(actions)
        for group, slots in slices.items():
            n_actions = cuts[group][3]
            np.testing.assert_array_equal(step["next", group, "reward"].squeeze(-1).numpy(), output.rewards[:, slots])
            np.testing.assert_array_equal(step["next", group, "mean_action"].numpy(), output.mean_actions[:, slots, :n_actions])
            np.testing.assert_array_equal(step["next", group, "mask"].numpy(), output.alive[:, slots])
            last = t == STEPS - 1
            assert (step["next", group, "truncated"] == last).all() and not step["next", group, "terminated"].any()
    assert (rollout["next", "kills"] == 0).all()


def test_one_game_is_the_pettingzoo_env():
    """B = 1 draws the same map as the PettingZoo env's core: the same rollout, agent by agent."""
    kwargs = dict(map_size=16, minimap_mode=True, extra_features=True, max_cycles=40)
    env = AdversarialPursuitEnv(num_envs=1, seed=SEED, **kwargs)
    torch.manual_seed(SEED)
    rollout = env.rollout(25, break_when_any_done=False)
    parallel = adversarial_pursuit_v0.parallel_env(dead_agents="absorb", **kwargs)
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
        AdversarialPursuitEnv(map_size=16, opponent="random", learner="wolf")
    env = AdversarialPursuitEnv(num_envs=1, map_size=16, seed=SEED)
    td = env.rand_action(env.reset())
    td["prey", "action"][:] = 9
    with pytest.raises(ValueError, match=r"\('prey', 'action'\): actions must be in \[0, 9\)"):
        env.step(td)
