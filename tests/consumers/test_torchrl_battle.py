"""``mfenvs.torchrl_env.BattleEnv``: Battle as a batched TorchRL environment, checked against ``BattleCore``.

Rollouts of random actions (finished battles restart on their own) are replayed action by action in
a ``BattleCore`` with the same seed: observations, features, mean actions, rewards, the living-agent
mask and every done flag must be the core's own, before and after the restarts.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from tensordict import TensorDict
from torchrl.envs.utils import check_env_specs, step_mdp

from mfenvs.battle import BattleConfig, BattleCore
from mfenvs.battle.env import observation_layout
from mfenvs.torchrl_env import BattleEnv
from tests.consumers.helpers import CROWDED_BATTLE

#: 8 v 8 on a crowded 6 x 6 map with the minimap, two hits kill: agents die within a few steps, and
#: battles end at step 6, several times in a short rollout.
CONFIG = BattleConfig(**{**CROWDED_BATTLE, "minimap_mode": True}, max_cycles=6, damage=6.0)
B, SEED, STEPS = 3, 5, 20
GROUPS = {"red": slice(0, 8), "blue": slice(8, 16)}


def twin_core(config: BattleConfig = CONFIG, n_battles: int = B) -> BattleCore:
    columns, _, _ = observation_layout(config)
    return BattleCore(config, n_battles=n_battles, spare_view_channels=len(columns), tiled_features=columns)


def check_observations(data: TensorDict, output) -> None:
    """The group entries of ``data`` (``[B, ...]``) are ``output``'s arrays, split by group."""
    check_observations_of(data, output, tuple(GROUPS))


def check_observations_of(data: TensorDict, output, groups: tuple[str, ...]) -> None:
    """``check_observations`` for the given groups only."""
    for group in groups:
        slots = GROUPS[group]
        np.testing.assert_array_equal(data[group, "observation"].numpy(), output.views[:, slots])
        np.testing.assert_array_equal(data[group, "features"].numpy(), output.features[:, slots])
        np.testing.assert_array_equal(data[group, "mean_action"].numpy(), output.mean_actions[:, slots])
        np.testing.assert_array_equal(data[group, "mask"].numpy(), output.alive[:, slots])


@pytest.mark.parametrize("categorical_actions", [True, False])
def test_check_env_specs(categorical_actions):
    env = BattleEnv(CONFIG, num_envs=B, categorical_actions=categorical_actions, seed=SEED)
    check_env_specs(env, seed=SEED)
    assert env.group_map == {"red": [f"red_{i}" for i in range(8)], "blue": [f"blue_{i}" for i in range(8)]}
    assert env.batch_size == (B,)
    assert env.observation_spec["red", "observation"].shape == (B, 8, 13, 13, 9)  # battle_v0's channels
    action_shape = (B, 8) if categorical_actions else (B, 8, 21)
    assert env.full_action_spec["blue", "action"].shape == action_shape


def test_rollout_matches_battle_core_with_restarts():
    env = BattleEnv(CONFIG, num_envs=B)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    assert rollout.batch_size == (B, STEPS)
    assert rollout.device == env.device and rollout["next", "red", "reward"].device == env.device

    core = twin_core()
    output = core.reset(SEED)
    deaths = restarts = 0
    for t in range(STEPS):
        step = rollout[:, t]
        check_observations(step, output)
        actions = torch.cat([step["red", "action"], step["blue", "action"]], dim=1).numpy()
        before = core.state.alive.copy()
        output = core.step(actions)
        after = step["next"]
        check_observations(after, output)
        truncated = output.truncated  # every battle starts together here, so the time limits agree
        for group, slots in GROUPS.items():
            np.testing.assert_array_equal(after[group, "reward"].squeeze(-1).numpy(), output.rewards[:, slots])
            alive = output.alive[:, slots]
            terminated = ~alive | (output.done & ~truncated)[:, None]
            np.testing.assert_array_equal(after[group, "terminated"].squeeze(-1).numpy(), terminated)
            np.testing.assert_array_equal(after[group, "truncated"].squeeze(-1).numpy(), alive & truncated[:, None])
            np.testing.assert_array_equal(after[group, "done"].squeeze(-1).numpy(), terminated | (alive & truncated[:, None]))
            # the agents that died in this step are the core's terminated ones that were alive before it
            np.testing.assert_array_equal(output.terminated[:, slots] & ~alive, before[:, slots] & ~alive)
        np.testing.assert_array_equal(after["done"].squeeze(-1).numpy(), output.done)
        np.testing.assert_array_equal(after["kills"].numpy(), core.state.kills)
        np.testing.assert_array_equal(after["truncated"].squeeze(-1).numpy(), truncated)
        np.testing.assert_array_equal(after["terminated"].squeeze(-1).numpy(), output.done & ~truncated)
        deaths += int((before & ~output.alive).sum())
        if output.done.any():  # TorchRL restarts the finished battles, and only them
            restarts += int(output.done.sum())
            core.reset_battles(output.done)
            output = core.observe()
    assert deaths > 0 and restarts >= 2 * B  # agents died, and every battle restarted at least twice


def test_float16_observations_are_the_float32_ones_cast():
    env = BattleEnv(CONFIG, num_envs=B, seed=SEED, view_dtype="float16")
    check_env_specs(env, seed=SEED)  # the rollout's float16 observations match the float16 spec
    assert env.observation_spec["red", "observation"].dtype == torch.float16
    assert env.observation_spec["red", "features"].dtype == torch.float32
    rollouts = {}
    for view_dtype in ("float32", "float16"):
        torch.manual_seed(SEED)  # the same random actions
        rollouts[view_dtype] = BattleEnv(CONFIG, num_envs=B, seed=SEED, view_dtype=view_dtype).rollout(STEPS, break_when_any_done=False)
    keys = [(*prefix, group, "observation") for prefix in ((), ("next",)) for group in GROUPS]
    for key in keys:
        expected = rollouts["float32"][key].numpy().astype(np.float16)
        np.testing.assert_array_equal(rollouts["float16"][key].numpy().view(np.uint16), expected.view(np.uint16))
    assert (rollouts["float16"].exclude(*keys) == rollouts["float32"].exclude(*keys)).all()  # actions, rewards, flags


def test_same_seed_same_rollout_and_reset_seed_argument():
    def rollout(env):
        torch.manual_seed(0)
        return env.rollout(8, break_when_any_done=False)

    first = rollout(BattleEnv(CONFIG, num_envs=B, seed=SEED))
    second_env = BattleEnv(CONFIG, num_envs=B)
    second_env.reset(seed=SEED)
    torch.manual_seed(0)
    second = second_env.rollout(8, break_when_any_done=False, auto_reset=False, tensordict=second_env.reset(seed=SEED))
    assert (first == second).all()


def test_partial_reset_restarts_only_the_selected_battles():
    env = BattleEnv(CONFIG, num_envs=B, seed=SEED)
    core = twin_core()
    td = env.reset()
    core.reset(SEED)
    for a in np.random.default_rng(0).integers(0, 21, size=(4, B, 16)):
        td["red", "action"], td["blue", "action"] = torch.from_numpy(a[:, :8]), torch.from_numpy(a[:, 8:])
        td = step_mdp(env.step(td))
        core.step(a)
    assert (core.state.steps == 4).all()
    which = np.array([True, False, True])
    td.set("_reset", torch.from_numpy(which[:, None]))  # as TorchRL passes it: on the current data
    td = env.reset(td)
    core.reset_battles(which)
    check_observations(td, core.observe())
    np.testing.assert_array_equal(env.core.state.steps, [0, 4, 0])
    assert td["red", "mask"][which].all() and td["blue", "mask"][which].all()
    assert not td["done"][which].any() and not td["red", "done"][which].any()

    # no battle selected (only agents died): nothing restarts, the observations stay the last step's
    td["red", "action"], td["blue", "action"] = torch.full((B, 8), 6), torch.full((B, 8), 6)
    last = env.step(td)["next"]
    again = env.reset(last.clone().set("_reset", torch.zeros(B, 1, dtype=torch.bool)))
    np.testing.assert_array_equal(env.core.state.steps, [1, 5, 1])
    assert (again.exclude("_reset") == last).all()


def test_bad_arguments_give_clear_errors():
    with pytest.raises(TypeError, match="not both"):
        BattleEnv(CONFIG, map_size=8)
    with pytest.raises(TypeError, match="config must be a BattleConfig"):
        BattleEnv({"map_size": 8})
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        BattleEnv(map_sise=8)
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        BattleEnv(CONFIG, num_envs=0)
    with pytest.raises(TypeError, match="num_envs must be an integer"):
        BattleEnv(CONFIG, num_envs=2.0)
    with pytest.raises(TypeError, match="categorical_actions must be a bool"):
        BattleEnv(CONFIG, categorical_actions="yes")
    with pytest.raises(ValueError, match="view_dtype must be one of"):
        BattleEnv(CONFIG, view_dtype="bfloat16")
    env = BattleEnv(CONFIG, num_envs=2, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.rand_step()
    td = env.reset()
    td["red", "action"] = torch.full((2, 8), 21)
    td["blue", "action"] = torch.zeros(2, 8, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"actions must be in \[0, 21\)"):
        env.step(td)


def test_random_opponent_plays_blue_from_the_seeded_generator():
    env = BattleEnv(CONFIG, num_envs=B, seed=SEED, opponent="random")
    assert env.group_map == {"red": [f"red_{i}" for i in range(8)]}
    assert set(env.full_action_spec.keys()) == {"red"} and "blue" not in env.observation_spec
    check_env_specs(env, seed=SEED)
    env.set_seed(SEED)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    core, blue = twin_core(), np.random.default_rng(SEED)
    output = core.reset(SEED)
    for t in range(STEPS):
        step = rollout[:, t]
        np.testing.assert_array_equal(step["red", "observation"].numpy(), output.views[:, :8])
        output = core.step(np.concatenate([step["red", "action"].numpy(), blue.integers(0, 21, size=(B, 8))], axis=1))
        np.testing.assert_array_equal(step["next", "red", "reward"].squeeze(-1).numpy(), output.rewards[:, :8])
        np.testing.assert_array_equal(step["next", "kills"].numpy(), core.state.kills)
        if output.done.any():
            core.reset_battles(output.done)
            output = core.observe()
    assert rollout["next", "kills"][..., 1].sum() > 0  # blue fought


def test_scripted_opponent_is_called_with_the_core_before_each_step():
    from mfagents.policies.scripted import nearest_enemy_actions, team_actions

    seen = []

    def scripted(core):
        actions = team_actions(core)
        seen.append(actions)
        return actions

    env = BattleEnv(CONFIG, num_envs=B, seed=SEED, opponent=scripted)
    td = env.reset()
    core = twin_core()
    core.reset(SEED)
    for a in np.random.default_rng(1).integers(0, 21, size=(3, B, 8)):
        expected = np.stack([nearest_enemy_actions(core, b)[8:] for b in range(B)])
        td["red", "action"] = torch.from_numpy(a)
        td = step_mdp(env.step(td))
        np.testing.assert_array_equal(seen[-1], expected)
        output = core.step(np.concatenate([a, expected], axis=1))
        check_observations_of(td, output, ("red",))
    assert len(seen) == 3 and "scripted" in repr(env)

    with pytest.raises(ValueError, match=r"opponent must return \[3, 8\] integer actions, got int64 \[3, 16\]"):
        bad = BattleEnv(CONFIG, num_envs=B, seed=SEED, opponent=lambda core: np.zeros((B, 16), np.int64))
        bad.rand_step(bad.reset())
    with pytest.raises(ValueError, match="opponent must be None, 'random' or a callable"):
        BattleEnv(CONFIG, opponent="scripted")
    with pytest.raises(ValueError, match="team must be 0"):
        team_actions(core, 2)
