"""SB3 PPO through SuperSuit (``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``) on every environment.

One PPO model acts for every agent (parameter sharing): each agent of each environment copy is one
row of SB3's vector env. Each test trains for a few hundred agent-steps, then reads PPO's rollout
buffer back: observation shapes, the rewards the environment defines, and the episode boundaries
(SuperSuit resets a copy as soon as its episode ends, so every row starts a new episode together).
"""

from __future__ import annotations

import numpy as np
import pytest
import supersuit
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import set_random_seed

from mfenvs import battle_v0, gaussian_squeeze_v0, ising_v0
from tests.consumers.helpers import CROWDED_BATTLE, gaussian

COPIES = 2
N_STEPS = 24
SEED = 0
CASES = {
    "gaussian_squeeze": (gaussian_squeeze_v0, {"n_agents": 8, "mu": 20.0, "sigma": 10.0, "max_cycles": 5}),
    "ising": (ising_v0, {"size": 3, "h": 0.2, "max_cycles": 5}),
    "battle": (battle_v0, {**CROWDED_BATTLE, "max_cycles": 12, "dead_agents": "absorb"}),
}


class StepRecorder(BaseCallback):
    """Keeps every step of the rollout: PPO's actions, and the vector env's observations, rewards, dones, infos."""

    def __init__(self):
        super().__init__()
        self.actions: list[np.ndarray] = []
        self.observations: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.dones: list[np.ndarray] = []
        self.infos: list[list[dict]] = []

    def _on_step(self) -> bool:
        self.actions.append(self.locals["actions"].copy())
        self.observations.append(self.locals["new_obs"].copy())
        self.rewards.append(self.locals["rewards"].copy())
        self.dones.append(self.locals["dones"].copy())
        self.infos.append(self.locals["infos"])
        return True


def train(module, kwargs):
    """PPO with parameter sharing for one rollout of ``N_STEPS`` steps per row.

    Returns:
        The model, the vector env, the agent names and the ``StepRecorder`` of the rollout.
    """
    parallel_env = module.parallel_env(**kwargs)
    vec = supersuit.pettingzoo_env_to_vec_env_v1(parallel_env)
    vec = supersuit.concat_vec_envs_v1(vec, COPIES, num_cpus=0, base_class="stable_baselines3")
    # PPO(seed=...) would call vec.seed(), which SuperSuit's ConcatVecEnv lacks: seed the copies through reset.
    set_random_seed(SEED)
    vec.venv.reset(seed=SEED)
    model = PPO("MlpPolicy", vec, n_steps=N_STEPS, batch_size=N_STEPS * vec.num_envs, n_epochs=1, device="cpu")
    recorder = StepRecorder()
    model.learn(total_timesteps=N_STEPS * vec.num_envs, callback=recorder)
    return model, vec, parallel_env.possible_agents, recorder


@pytest.mark.parametrize("name", CASES)
def test_ppo_trains_on_every_agent_of_every_copy(name):
    module, kwargs = CASES[name]
    model, vec, agents, recorder = train(module, kwargs)
    n_rows = COPIES * len(agents)
    obs_shape = vec.observation_space.shape

    assert vec.num_envs == n_rows
    assert model.num_timesteps == N_STEPS * n_rows
    assert model.rollout_buffer.observations.shape == (N_STEPS * n_rows, *obs_shape)  # flattened for training
    assert vec.observation_space == module.parallel_env(**kwargs).observation_space(agents[0])
    assert np.stack(recorder.observations).shape == (N_STEPS, n_rows, *obs_shape)
    # Every row's episode ends after max_cycles steps, all rows together; SuperSuit resets the copy at once.
    ends = np.arange(1, N_STEPS + 1) % kwargs["max_cycles"] == 0
    np.testing.assert_array_equal(np.stack(recorder.dones), np.repeat(ends[:, None], n_rows, axis=1))
    for step in np.flatnonzero(ends):
        assert all("terminal_observation" in info for info in recorder.infos[step])

    # rows are copy-major, then possible_agents order
    actions = np.stack(recorder.actions).reshape(N_STEPS, COPIES, len(agents))
    rewards = np.stack(recorder.rewards).reshape(N_STEPS, COPIES, len(agents))
    next_observations = np.stack(recorder.observations).reshape(N_STEPS, COPIES, len(agents), *obs_shape)
    if name == "gaussian_squeeze":  # every agent of a copy is paid G(sum of that copy's actions)
        expected = gaussian(actions.sum(-1), kwargs["mu"], kwargs["sigma"])
        np.testing.assert_allclose(rewards, np.repeat(expected[..., None], len(agents), axis=-1), rtol=1e-5)
    if name == "ising":  # the next observation starts with the spin just chosen (but after a reset: a new episode)
        np.testing.assert_array_equal(next_observations[~ends][..., 0], 2 * actions[~ends] - 1)
    if name == "battle":  # dead agents stay as rows with zero observations and rewards until the episode ends
        alive = np.array([[info["alive"] for info in infos] for infos in recorder.infos]).reshape(rewards.shape)
        assert not alive.all(), "no agent died; pick a seed or map with deaths"
        dead_before = ~alive[:-1] & ~ends[:-1, None, None]  # dead, in an episode that goes on
        assert (rewards[1:][dead_before] == 0).all()
        assert (next_observations[~alive & ~ends[:, None, None]] == 0).all()
        # SuperSuit merges the next episode's reset infos over the terminal step's, so the winner flags
        # (False at reset) are lost here; the environment keeps the terminal infos in ``final_infos``
        finals = [markov.par_env.final_infos for markov in vec.venv.vec_envs]
        assert all(sum(info[key] for key in ("red_won", "blue_won", "draw")) == 1 for final in finals for info in final.values())
    vec.close()
