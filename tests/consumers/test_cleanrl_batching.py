"""CleanRL-style manual batching (PettingZoo's CleanRL PPO tutorial): one tensor row per possible agent.

The tutorial stacks ``obs[a] for a in env.possible_agents`` into a tensor, samples actions from a
shared network and unstacks them into a dict; it needs every possible agent in every step, which
Battle gives with ``dead_agents="absorb"`` (the agent set stays fixed until the episode ends).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import data_equivalence

from mfenvs import battle_v0, gaussian_squeeze_v0, ising_v0
from tests.consumers.helpers import CROWDED_BATTLE, gaussian

CASES = {
    "gaussian_squeeze": (gaussian_squeeze_v0, {"n_agents": 8, "mu": 20.0, "sigma": 10.0, "max_cycles": 6}),
    "ising": (ising_v0, {"size": 4, "max_cycles": 6}),
    "battle": (battle_v0, {**CROWDED_BATTLE, "max_cycles": 30, "dead_agents": "absorb"}),
}


def batchify(values: dict, agents: list[str]) -> torch.Tensor:
    """The tutorial's ``batchify``: a dict keyed by agent -> a tensor with one row per agent, in ``agents`` order."""
    return torch.as_tensor(np.stack([np.asarray(values[agent]) for agent in agents]))


def unbatchify(rows: torch.Tensor, agents: list[str]) -> dict:
    """The tutorial's ``unbatchify``: a tensor with one row per agent -> a dict keyed by agent."""
    return dict(zip(agents, rows.cpu().numpy().tolist()))


class SharedPolicy(torch.nn.Module):
    """A linear categorical policy shared by every agent (parameter sharing), as in the tutorial."""

    def __init__(self, observation_size: int, n_actions: int):
        super().__init__()
        self.logits = torch.nn.Linear(observation_size, n_actions)

    def forward(self, observations: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.logits(observations.flatten(1)))


def run_episode(module, kwargs, seed: int = 0):
    """One episode driven through batched tensors; returns the per-step tensors and the last infos."""
    torch.manual_seed(seed)
    env = module.parallel_env(**kwargs)
    agents = env.possible_agents
    observation_space, action_space = env.observation_space(agents[0]), env.action_space(agents[0])
    policy = SharedPolicy(int(np.prod(observation_space.shape)), int(action_space.n))
    observations, infos = env.reset(seed=seed)
    steps = []
    while env.agents:
        assert env.agents == agents  # the agent set never changes before the end
        obs = batchify(observations, agents).float()
        assert obs.shape == (len(agents), *observation_space.shape)
        with torch.no_grad():
            actions = policy(obs).sample()
        observations, rewards, terminations, truncations, infos = env.step(unbatchify(actions, agents))
        steps.append(
            {
                "obs": obs,
                "actions": actions,
                "rewards": batchify(rewards, agents),
                "dones": batchify(terminations, agents) | batchify(truncations, agents),
                "alive": batchify({a: infos[a].get("alive", True) for a in agents}, agents),
                "next_obs": batchify(observations, agents).float(),
            }
        )
    return {key: torch.stack([step[key] for step in steps]) for key in steps[0]}, infos, agents


@pytest.mark.parametrize("name", CASES)
def test_one_row_per_possible_agent_until_everyone_is_done_together(name):
    module, kwargs = CASES[name]
    episode, infos, agents = run_episode(module, kwargs)
    n_steps = episode["rewards"].shape[0]

    assert episode["rewards"].shape == episode["dones"].shape == (n_steps, len(agents))
    assert episode["rewards"].dtype == torch.float64
    assert not episode["dones"][:-1].any() and episode["dones"][-1].all()  # done together, at the end
    if name == "gaussian_squeeze":
        load = episode["actions"].sum(1).numpy()
        expected = gaussian(load, kwargs["mu"], kwargs["sigma"])[:, None]
        np.testing.assert_allclose(episode["rewards"].numpy(), np.broadcast_to(expected, (n_steps, len(agents))))
    if name == "ising":  # the next observation starts with the spin just chosen
        assert (episode["next_obs"][..., 0] == 2 * episode["actions"] - 1).all()


def test_battle_dead_agents_are_absorbed():
    module, kwargs = CASES["battle"]
    episode, infos, agents = run_episode(module, kwargs)
    alive, rewards, next_obs = episode["alive"], episode["rewards"], episode["next_obs"]

    assert not alive[-1].all(), "no agent died; pick a seed or map with deaths"
    assert (alive[1:] <= alive[:-1]).all()  # dead stay dead
    died_before = ~alive[:-1]  # dead at the start of the step
    assert (rewards[1:][died_before] == 0).all()  # no reward after the death step
    assert (next_obs[~alive] == 0).all()  # dead agents see zeros
    # the team totals of the final infos are the sums of the batched rewards
    red = torch.tensor([agent.startswith("red_") for agent in agents])
    results = infos[agents[0]]
    assert rewards[:, red].sum().item() == pytest.approx(results["red_total_reward"], abs=1e-4)
    assert rewards[:, ~red].sum().item() == pytest.approx(results["blue_total_reward"], abs=1e-4)
    assert results["red_survivors"] == int(alive[-1, red].sum())
    assert results["blue_survivors"] == int(alive[-1, ~red].sum())


def test_battle_actions_of_dead_agents_are_ignored():
    """The tutorial samples an action for every row, dead or alive: what dead agents are given changes nothing."""
    _, kwargs = CASES["battle"]
    env, twin = battle_v0.parallel_env(**kwargs), battle_v0.parallel_env(**kwargs)
    env.reset(seed=1)
    twin.reset(seed=1)
    rng = np.random.default_rng(1)
    dead: list[str] = []
    while env.agents:
        actions = dict(zip(env.agents, rng.integers(0, 21, size=len(env.agents)).tolist()))
        other = {**actions, **{agent: (actions[agent] + 7) % 21 for agent in dead}}
        result = env.step(actions)
        assert data_equivalence(result, twin.step(other), exact=True)
        dead = [agent for agent, info in result[4].items() if not info["alive"]]
    assert dead, "no agent died; pick a seed or map with deaths"
