"""``mfenvs.torchrl_env.CombinedArmsEnv``: combined arms as a batched TorchRL environment, one group per
MAgent2 group, each with its own specs (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs

from mfenvs import combined_arms_v0
from mfenvs.combined_arms import GROUPS, CombinedArmsConfig, CombinedArmsCore
from mfenvs.torchrl_env import CombinedArmsEnv

B, SEED, STEPS = 2, 3, 30
#: the four groups packed in alternating columns on a 12 x 12 map: hits, kills and friendly fire at once
PACKED = {
    "redmelee": [(x, y) for x in (2, 6) for y in (2, 4, 6, 8)],
    "redranged": [(x, y) for x in (4, 8) for y in (2, 4, 6, 8)],
    "bluemelee": [(x, y) for x in (3, 7) for y in (3, 5, 7, 9)],
    "blueranged": [(x, y) for x in (5, 9) for y in (3, 5, 7, 9)],
}


@pytest.mark.parametrize(
    "kwargs, melee_channels, ranged_channels",
    [({}, 9, 9), ({"map_size": 16, "minimap_mode": True, "extra_features": True}, 35, 51)],
    ids=["default", "16-minimap-features"],
)
def test_check_env_specs_with_a_group_per_magent2_group(kwargs, melee_channels, ranged_channels):
    env = CombinedArmsEnv(num_envs=B, seed=SEED, **kwargs)
    check_env_specs(env, seed=SEED)
    counts = env.config.group_counts
    assert list(env.group_map) == list(GROUPS)
    assert env.group_map["redranged"] == [f"redranged_{i}" for i in range(counts[1])]
    for group, channels, n_actions, n_features in (
        ("redmelee", melee_channels, 9, 22),
        ("blueranged", ranged_channels, 25, 38),
    ):
        n = len(env.group_map[group])
        assert env.observation_spec[group, "observation"].shape == (B, n, 13, 13, channels)
        assert env.observation_spec[group, "features"].shape == (B, n, n_features)
        assert env.observation_spec[group, "mean_action"].shape == (B, n, n_actions)
        assert env.full_action_spec[group, "action"].space.n == n_actions


def test_one_hot_actions_pass_check_env_specs():
    check_env_specs(CombinedArmsEnv(num_envs=B, map_size=16, categorical_actions=False, seed=SEED), seed=SEED)


def test_rollout_is_combined_arms_core_step_by_step():
    """Each group's observations, features, rewards, mean actions and masks are its slots of a CombinedArmsCore."""
    config = CombinedArmsConfig(map_size=12, positions=PACKED, max_cycles=1000, extra_features=True)
    env = CombinedArmsEnv(config, num_envs=B)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    kills = rollout["next", "kills"][:, -1].numpy()
    assert kills.sum() > 0, "the packed groups should kill"
    core = CombinedArmsCore(config, n_battles=B, spare_view_channels=env.core.spare_view_channels, tiled_features=env.core.tiled_features)
    output = core.reset(SEED)
    slices = core.group_slices()
    cuts = {"redmelee": (29, 22, 9), "redranged": (45, 38, 25), "bluemelee": (29, 22, 9), "blueranged": (45, 38, 25)}
    for t in range(STEPS):
        step = rollout[:, t]
        for group, slots in slices.items():
            channels, n_features, _ = cuts[group]
            np.testing.assert_array_equal(step[group, "observation"].numpy(), output.views[:, slots, ..., :channels])
            np.testing.assert_array_equal(step[group, "features"].numpy(), output.features[:, slots, :n_features])
        actions = torch.cat([step[group, "action"] for group in GROUPS], dim=1).numpy()
        output = core.step(actions)
        if output.done.any():
            break  # the env restarts finished games at once; the core here does not
        for group, slots in slices.items():
            _, _, n_actions = cuts[group]
            np.testing.assert_array_equal(step["next", group, "reward"].squeeze(-1).numpy(), output.rewards[:, slots])
            np.testing.assert_array_equal(step["next", group, "mean_action"].numpy(), output.mean_actions[:, slots, :n_actions])
            np.testing.assert_array_equal(step["next", group, "mask"].numpy(), output.alive[:, slots])
    assert t > 5


def test_one_game_is_the_pettingzoo_env():
    """B = 1 draws the same attack order as the PettingZoo env's core: the same rollout, agent by agent."""
    kwargs = dict(map_size=16, minimap_mode=True, extra_features=True, max_cycles=40)
    env = CombinedArmsEnv(num_envs=1, seed=SEED, **kwargs)
    torch.manual_seed(SEED)
    rollout = env.rollout(25, break_when_any_done=False)
    parallel = combined_arms_v0.parallel_env(dead_agents="absorb", **kwargs)
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


def test_out_of_range_actions_name_the_group():
    env = CombinedArmsEnv(num_envs=1, map_size=16, seed=SEED)
    td = env.reset()
    td = env.rand_action(td)
    td["redmelee", "action"][:] = 9
    with pytest.raises(ValueError, match=r"\('redmelee', 'action'\): actions must be in \[0, 9\)"):
        env.step(td)
