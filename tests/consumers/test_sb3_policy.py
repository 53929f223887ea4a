"""``load_sb3_policy``: an SB3 PPO ``.zip`` acts for a whole group; bad files give clear errors."""

from __future__ import annotations

import zipfile

import gymnasium
import numpy as np
import pytest
import supersuit
from stable_baselines3 import PPO

from mfagents.policies.sb3 import load_sb3_policy
from mfenvs import battle_v0

BATTLE_KWARGS = {"map_size": 12, "team_size": 4, "minimap_mode": False, "dead_agents": "absorb", "max_cycles": 10}


@pytest.fixture(scope="module")
def saved_battle_model(tmp_path_factory):
    """A PPO model on Battle's spaces (through SuperSuit), trained for one short rollout and saved."""
    vec = supersuit.pettingzoo_env_to_vec_env_v1(battle_v0.parallel_env(**BATTLE_KWARGS))
    vec = supersuit.concat_vec_envs_v1(vec, 1, base_class="stable_baselines3")
    model = PPO("MlpPolicy", vec, n_steps=8, batch_size=32, n_epochs=1, device="cpu")
    model.learn(total_timesteps=64)
    path = tmp_path_factory.mktemp("sb3") / "ppo_battle.zip"
    model.save(path)
    vec.close()
    return path, model


def test_the_policy_acts_like_the_model_for_a_whole_team(saved_battle_model):
    path, model = saved_battle_model
    policy = load_sb3_policy(path)
    env = battle_v0.parallel_env(**BATTLE_KWARGS)
    observations, _ = env.reset(seed=0)
    red = [agent for agent in env.agents if agent.startswith("red_")]
    stacked = np.stack([observations[agent] for agent in red])

    actions = policy(stacked)

    assert actions.shape == (len(red),) and actions.dtype == np.int64
    expected, _ = model.predict(stacked, deterministic=True)
    np.testing.assert_array_equal(actions, expected)
    assert all(env.action_space(agent).contains(int(action)) for agent, action in zip(red, actions))
    # the loaded policy drives the environment (here for both teams) to the end of an episode
    steps = 0
    while env.agents:
        agents = env.agents
        actions = policy(np.stack([observations[agent] for agent in agents]))
        observations, *_ = env.step(dict(zip(agents, actions.tolist())))
        steps += 1
    assert steps == BATTLE_KWARGS["max_cycles"]


def test_the_suffix_may_be_left_out_and_no_agents_give_no_actions(saved_battle_model):
    path, _ = saved_battle_model
    policy = load_sb3_policy(path.with_suffix(""))
    observation_shape = battle_v0.parallel_env(**BATTLE_KWARGS).observation_space("red_0").shape
    assert policy(np.zeros((0, *observation_shape), dtype=np.float32)).shape == (0,)


def test_observations_of_the_wrong_shape_are_rejected(saved_battle_model):
    policy = load_sb3_policy(saved_battle_model[0])
    with pytest.raises(ValueError, match=r"expects observations of shape \[n, 13, 13, 5\], got \[4, 13, 13, 9\]"):
        policy(np.zeros((4, 13, 13, 9), dtype=np.float32))
    with pytest.raises(ValueError, match=r"got \[13, 13, 5\]"):
        policy(np.zeros((13, 13, 5), dtype=np.float32))  # one agent's observation, not a stack


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.zip' does not exist"):
        load_sb3_policy(tmp_path / "nope.zip")


@pytest.mark.parametrize("damage", ["not a zip", "truncated", "no model inside"])
def test_a_corrupt_file_is_a_value_error(saved_battle_model, tmp_path, damage):
    path = tmp_path / "broken.zip"
    if damage == "not a zip":
        path.write_bytes(b"this is not an SB3 model")
    elif damage == "truncated":
        data = saved_battle_model[0].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "an unrelated zip")
    with pytest.raises(ValueError, match="broken.zip' is not a readable SB3 PPO model"):
        load_sb3_policy(path)


def test_a_model_with_continuous_actions_is_rejected(tmp_path):
    path = tmp_path / "pendulum.zip"
    PPO("MlpPolicy", gymnasium.make("Pendulum-v1"), n_steps=8, batch_size=8, device="cpu").save(path)
    with pytest.raises(ValueError, match="mfzoo policies need a Discrete action space"):
        load_sb3_policy(path)
