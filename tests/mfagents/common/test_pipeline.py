"""The SuperSuit pipeline: row layout, mean actions from the infos, alive rows, auto-reset."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from mfagents.common.pipeline import VecPipeline, make_parallel_env, make_vec_env

KILL, DEATH, IDLE = 4.895, -0.1, -0.005
ATTACK_RIGHT, STAY = 17, 6


def brute_force_global_mean(actions: np.ndarray, n_actions: int) -> np.ndarray:
    """Mean one-hot action of the *other* agents, one agent at a time."""
    one_hot = np.eye(n_actions)[actions]
    return np.array([(one_hot.sum(axis=0) - one_hot[i]) / (len(actions) - 1) for i in range(len(actions))])


def test_squeeze_rows_are_copy_major_and_mean_actions_are_per_copy():
    pipeline = VecPipeline("gaussian_squeeze", {"n_agents": 5, "max_cycles": 10}, n_envs=3)
    assert pipeline.n_rows == 15 and pipeline.agents_per_env == 5 and pipeline.n_actions == 10
    assert pipeline.groups["all"].tolist() == list(range(15)) and pipeline.group_sizes == {"all": 5}
    first = pipeline.reset(seed=0)
    np.testing.assert_allclose(first.observations[:, 0], np.tile(np.arange(5) / 4, 3))
    assert not first.mean_actions.any() and first.alive.all() and not first.dones.any()

    actions = np.array([0, 1, 2, 3, 4, 9, 9, 9, 9, 9, 5, 5, 0, 0, 1])
    step = pipeline.step(actions)
    per_copy = actions.reshape(3, 5)
    assert [info["x"] for info in step.copy_infos] == per_copy.sum(axis=1).tolist()
    expected = np.concatenate([brute_force_global_mean(row, 10) for row in per_copy])
    np.testing.assert_allclose(step.mean_actions, expected, atol=1e-6)
    # every agent of a copy is paid that copy's G(x); the observation carries x_prev / max_load
    for copy, info in enumerate(step.copy_infos):
        np.testing.assert_allclose(step.rewards[copy * 5 : copy * 5 + 5], info["G"], rtol=1e-6)
        np.testing.assert_allclose(step.observations[copy * 5 : copy * 5 + 5, 1], info["x"] / 45, rtol=1e-6)
    assert step.observations.dtype == np.float32 and step.mean_actions.dtype == np.float32
    assert step.dones.dtype == bool and not step.finished.any()


def test_squeeze_auto_reset_returns_the_new_episode_and_marks_every_row_done():
    pipeline = VecPipeline("gaussian_squeeze", {"n_agents": 4, "max_cycles": 2}, n_envs=2)
    pipeline.reset(seed=1)
    actions = np.full(8, 3)
    assert not pipeline.step(actions).dones.any()
    last = pipeline.step(actions)
    assert last.dones.all() and last.finished.all()
    # the rows now hold the first observation of the next episode: no previous outcome, zero mean action
    assert not last.observations[:, 1:].any() and not last.mean_actions.any()
    # the terminal step's reward is still the reward of the step that ended the episode
    np.testing.assert_allclose(last.rewards, 12 * np.exp(-((12 - 400) ** 2) / 200**2), rtol=1e-5)
    # the copies' infos are the terminal step's, although SuperSuit merged the reset infos over them
    assert all(info["x"] == 12 for info in last.copy_infos)


def test_ising_rows_follow_the_lattice_of_their_copy():
    pipeline = VecPipeline("ising", {"size": 3, "max_cycles": 5}, n_envs=2)
    pipeline.reset(seed=3)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, size=18)
    step = pipeline.step(actions)
    for copy, env in enumerate(pipeline.copies):
        spins = env.unwrapped.state()
        np.testing.assert_array_equal(spins.reshape(-1), 2 * actions[copy * 9 : copy * 9 + 9] - 1)
        np.testing.assert_allclose(step.observations[copy * 9 : copy * 9 + 9, 0], spins.reshape(-1))
        up = (spins > 0).astype(float)
        neighbours_up = (np.roll(up, 1, 0) + np.roll(up, -1, 0) + np.roll(up, 1, 1) + np.roll(up, -1, 1)) / 4
        np.testing.assert_allclose(step.mean_actions[copy * 9 : copy * 9 + 9, 1], neighbours_up.reshape(-1))
        assert step.copy_infos[copy]["xi"] == pytest.approx(abs(spins.sum()) / 9)


def duel(map_size: int = 6, max_cycles: int = 20, blue: tuple[tuple[int, int], ...] = ((2, 1),)) -> dict:
    """A red agent at (1, 1) with blue agents beside it or elsewhere: red kills blue_0 in 6 hits."""
    return {"map_size": map_size, "positions": {"red": [(1, 1)], "blue": list(blue)}, "max_cycles": max_cycles}


def test_battle_rows_are_red_then_blue_per_copy_with_training_features():
    pipeline = VecPipeline("battle", {"map_size": 16, "team_size": 3}, n_envs=2)
    assert pipeline.env_kwargs["dead_agents"] == "absorb" and pipeline.env_kwargs["extra_features"] is True
    assert pipeline.possible_agents == ["red_0", "red_1", "red_2", "blue_0", "blue_1", "blue_2"]
    assert pipeline.groups["red"].tolist() == [0, 1, 2, 6, 7, 8]
    assert pipeline.groups["blue"].tolist() == [3, 4, 5, 9, 10, 11]
    assert pipeline.group_sizes == {"red": 3, "blue": 3}
    assert pipeline.observation_space.shape == (13, 13, 7 + 34) and pipeline.n_actions == 21
    first = pipeline.reset(seed=0)
    assert first.observations.shape == (12, 13, 13, 41) and first.mean_actions.shape == (12, 21)
    # the id bits (first feature channel = lowest bit of the agent's slot) tell the rows of a copy apart
    id_bit0 = first.observations[:, 0, 0, 7]
    np.testing.assert_array_equal(id_bit0, np.tile([0, 1, 0, 1, 0, 1], 2))


def test_battle_dead_rows_stay_inactive_until_the_episode_ends_then_auto_reset():
    pipeline = VecPipeline("battle", duel(max_cycles=9, blue=((2, 1), (4, 4))), n_envs=2)
    first = pipeline.reset(seed=0)
    actions = np.tile([ATTACK_RIGHT, STAY, STAY], 2)  # rows: red_0, blue_0, blue_1 per copy
    for _ in range(5):
        step = pipeline.step(actions)
        assert step.alive.all() and not step.dones.any()
    step = pipeline.step(actions)  # 6th hit: blue_0 dies, blue_1 fights on
    np.testing.assert_allclose(step.rewards, np.tile([KILL, DEATH, IDLE], 2), atol=1e-6)
    np.testing.assert_array_equal(step.alive, np.tile([True, False, True], 2))
    assert not step.dones.any() and not step.finished.any()
    assert not step.observations[1].any() and not step.mean_actions[1].any()
    step = pipeline.step(np.tile([STAY, STAY, STAY], 2))  # the dead row's action is ignored
    np.testing.assert_allclose(step.rewards, np.tile([IDLE, 0.0, IDLE], 2), atol=1e-6)
    step = pipeline.step(np.tile([STAY, STAY, STAY], 2))
    assert not step.dones.any()
    last = pipeline.step(np.tile([STAY, STAY, STAY], 2))  # step 9 = max_cycles: truncation
    assert last.dones.all() and last.finished.all()
    for info in last.copy_infos:  # end-of-episode results survive SuperSuit's auto-reset
        assert info["red_won"] and not info["blue_won"] and info["red_kills"] == 1 and info["blue_kills"] == 0
        assert info["blue_survivors"] == 1
    # auto-reset: every row alive again, observing the start position
    assert last.alive.all()
    np.testing.assert_array_equal(last.observations[:, :, :, :7], first.observations[:, :, :, :7])


def test_battle_wipe_out_ends_the_episode_for_every_row():
    pipeline = VecPipeline("battle", duel(), n_envs=1)
    pipeline.reset(seed=0)
    for _ in range(5):
        assert not pipeline.step(np.array([ATTACK_RIGHT, STAY])).dones.any()
    last = pipeline.step(np.array([ATTACK_RIGHT, STAY]))
    assert last.dones.tolist() == [True, True] and last.finished.tolist() == [True]
    assert last.copy_infos[0]["red_won"] and last.alive.all()


def test_training_pipeline_refuses_battle_remove_mode():
    with pytest.raises(ValueError, match="dead_agents='remove'.*fixed agent set"):
        VecPipeline("battle", {"map_size": 10, "dead_agents": "remove"})


def test_bad_actions_and_copies_are_rejected():
    pipeline = VecPipeline("gaussian_squeeze", {"n_agents": 3})
    pipeline.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        pipeline.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="n_envs"):
        make_vec_env(make_parallel_env("gaussian_squeeze", {"n_agents": 3}), 0)


def test_vec_env_has_gymnasium_single_spaces():
    env = make_parallel_env("ising", {"size": 3})
    vec = make_vec_env(env, 2)
    assert vec.num_envs == 18
    assert vec.single_observation_space == env.observation_space("spin_0_0")
    assert isinstance(vec.single_action_space, gymnasium.spaces.Discrete)
    sb3_vec = make_vec_env(env, 2, base_class="stable_baselines3")
    assert sb3_vec.num_envs == 18 and sb3_vec.single_observation_space == env.observation_space("spin_0_0")


@pytest.mark.parametrize(
    "env_name, env_kwargs",
    [
        ("battle", {"map_size": 16, "team_size": 8, "max_cycles": 25}),
        ("battle", {"map_size": 12, "team_size": 4, "minimap_mode": False, "max_cycles": 25}),
        ("ising", {"size": 4, "max_cycles": 25}),
        ("gaussian_squeeze", {"n_agents": 6, "max_cycles": 25}),
    ],
)
def test_pipeline_rows_are_the_plain_envs_observations(env_name, env_kwargs):
    # SuperSuit clones the env (cloudpickle) for every copy: each copy must see what a plain env
    # created with the same arguments and seed sees, step after step and across an auto-reset.
    n_envs, seed = 2, 4
    pipeline = VecPipeline(env_name, env_kwargs, n_envs=n_envs)
    plain = [make_parallel_env(env_name, pipeline.env_kwargs) for _ in range(n_envs)]
    agents = pipeline.possible_agents
    step = pipeline.reset(seed=seed)
    plain_obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(plain)]
    rng = np.random.default_rng(0)
    for t in range(40):
        expected = np.concatenate([np.stack([obs[agent] for agent in agents]) for obs in plain_obs])
        np.testing.assert_array_equal(step.observations, expected, err_msg=f"step {t}")
        actions = rng.integers(0, pipeline.n_actions, size=pipeline.n_rows)
        step = pipeline.step(actions)
        for i, env in enumerate(plain):
            row_actions = dict(zip(agents, actions[i * len(agents) : (i + 1) * len(agents)].tolist()))
            plain_obs[i] = env.step(row_actions)[0]
            if not env.agents:
                plain_obs[i] = env.reset()[0]
    assert step.observations.any()
