"""``mfenvs.torchrl_env.BattlefieldEnv``: Battlefield as a batched TorchRL environment (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs

from mfenvs.battle import BattleCore
from mfenvs.battle.env import observation_layout
from mfenvs.battlefield import battlefield_config
from mfenvs.torchrl_env import BattlefieldEnv

B, SEED, STEPS = 2, 3, 12


@pytest.mark.parametrize("kwargs", [{}, {"map_size": 46, "minimap_mode": True, "extra_features": True}], ids=["default", "46-minimap-features"])
def test_check_env_specs(kwargs):
    env = BattlefieldEnv(num_envs=B, seed=SEED, **kwargs)
    check_env_specs(env, seed=SEED)
    assert env.group_map == {"red": [f"red_{i}" for i in range(12)], "blue": [f"blue_{i}" for i in range(12)]}
    channels = 41 if kwargs else 5  # battlefield_v0's (MAgent2's) observation channels
    assert env.observation_spec["red", "observation"].shape == (B, 12, 13, 13, channels)
    assert env.full_action_spec["blue", "action"].shape == (B, 12)


def test_rollout_is_battlefield_core_step_by_step():
    """Observations (walls included), rewards and masks are those of a BattleCore on battlefield's config."""
    env = BattlefieldEnv(num_envs=B, map_size=46, max_cycles=50)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    config = battlefield_config(46, max_cycles=50)
    columns, _, _ = observation_layout(config)
    core = BattleCore(config, n_battles=B, spare_view_channels=len(columns), tiled_features=columns)
    output = core.reset(SEED)
    assert (output.views[..., 0] > 0).any(axis=(2, 3)).all()  # every agent sees a wall (the walls or the border)
    for t in range(STEPS):
        step = rollout[:, t]
        np.testing.assert_array_equal(step["red", "observation"].numpy(), output.views[:, :12])
        np.testing.assert_array_equal(step["blue", "observation"].numpy(), output.views[:, 12:])
        actions = torch.cat([step["red", "action"], step["blue", "action"]], dim=1).numpy()
        output = core.step(actions)
        np.testing.assert_array_equal(step["next", "red", "reward"].squeeze(-1).numpy(), output.rewards[:, :12])
        np.testing.assert_array_equal(step["next", "blue", "mean_action"].numpy(), output.mean_actions[:, 12:])
        np.testing.assert_array_equal(step["next", "blue", "mask"].numpy(), output.alive[:, 12:])


def test_bad_arguments_are_battlefields_errors():
    with pytest.raises(ValueError, match="at least 46"):
        BattlefieldEnv(map_size=40)
    with pytest.raises(TypeError):
        BattlefieldEnv(team_size=4)  # battlefield's teams are its map's
