"""Gaussian Squeeze: G(x), its exact optimum, the paper's numbers, infos and observations, random play."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mfenvs import gaussian_squeeze_v0
from mfenvs.gaussian_squeeze import GaussianSqueezeConfig, optimum, squeeze_reward


def formula(x: float, mu: float, sigma: float) -> float:
    return x * math.exp(-((x - mu) ** 2) / sigma**2)


@pytest.mark.parametrize(
    ("x", "mu", "sigma"),
    [(0, 400, 200), (1, 400, 200), (445, 400, 200), (9000, 400, 200), (3, -2.5, 0.7), (12, 12, 1e-3), (7, 0, 50)],
)
def test_reward_matches_formula(x, mu, sigma):
    assert squeeze_reward(float(x), mu, sigma) == pytest.approx(formula(x, mu, sigma), rel=1e-12, abs=1e-300)


def test_reward_is_vectorised():
    loads = np.array([0.0, 100.0, 445.0, 2000.0])
    expected = [formula(x, 400.0, 200.0) for x in loads]
    np.testing.assert_allclose(squeeze_reward(loads, 400.0, 200.0), expected, rtol=1e-12)


def brute_force_optimum(n_agents: int, n_actions: int, mu: float, sigma: float) -> tuple[np.ndarray, float]:
    """All loads reachable by N agents, their G, and the best G."""
    loads = np.arange(n_agents * (n_actions - 1) + 1, dtype=np.float64)
    values = loads * np.exp(-(((loads - mu) / sigma) ** 2))
    return values, float(values.max())


GRID = list(
    itertools.product(
        [1, 2, 3, 10, 50, 1000],  # n_agents
        [2, 3, 10],  # n_actions
        [-30.0, 0.0, 0.3, 7.5, 400.0, 1e4],  # mu; 1e4 lies beyond every max load here
        [0.1, 1.0, 3.0, 200.0, 5000.0],  # sigma
    )
)


@pytest.mark.parametrize(("n_agents", "n_actions", "mu", "sigma"), GRID)
def test_optimum_matches_brute_force(n_agents, n_actions, mu, sigma):
    config = GaussianSqueezeConfig(n_agents=n_agents, n_actions=n_actions, mu=mu, sigma=sigma)
    x_opt, g_opt = optimum(config)
    values, best = brute_force_optimum(n_agents, n_actions, mu, sigma)
    assert isinstance(x_opt, int) and 0 <= x_opt <= config.max_load
    assert g_opt == pytest.approx(best, rel=1e-12, abs=1e-300)
    assert values[x_opt] == pytest.approx(best, rel=1e-12, abs=1e-300)


def test_optimum_beyond_the_reachable_load_is_the_max_load():
    config = GaussianSqueezeConfig(n_agents=10, n_actions=10, mu=400.0, sigma=200.0)  # max load 90 < 445
    assert optimum(config) == (90, pytest.approx(formula(90, 400.0, 200.0)))


def test_paper_optimum():
    peak = (400 + math.sqrt(400**2 + 2 * 200**2)) / 2
    assert peak == pytest.approx(444.95, abs=0.005)
    x_opt, g_opt = optimum(GaussianSqueezeConfig(n_agents=1000, mu=400.0, sigma=200.0))
    assert x_opt == 445
    assert g_opt == pytest.approx(423.03, abs=0.005)
    assert formula(peak, 400, 200) == pytest.approx(423.03, abs=0.005)


def test_infos_rewards_observations_and_state():
    n_agents, n_actions, mu, sigma = 4, 5, 6.0, 3.0
    env = gaussian_squeeze_v0.parallel_env(n_agents=n_agents, n_actions=n_actions, mu=mu, sigma=sigma)
    x_opt, g_opt = optimum(GaussianSqueezeConfig(n_agents=n_agents, n_actions=n_actions, mu=mu, sigma=sigma))
    observations, infos = env.reset(seed=0)
    for slot, agent in enumerate(env.possible_agents):
        assert infos[agent]["x"] == 0 and infos[agent]["G"] == 0.0 and infos[agent]["G_opt"] == g_opt
        np.testing.assert_array_equal(observations[agent], np.float32([slot / (n_agents - 1), 0.0, 0.0]))
    np.testing.assert_array_equal(env.state(), np.zeros(n_actions, dtype=np.float32))

    actions = {"agent_0": 4, "agent_1": 0, "agent_2": 1, "agent_3": 4}
    observations, rewards, terminations, truncations, infos = env.step(actions)
    x = 9
    g = formula(x, mu, sigma)
    max_load = n_agents * (n_actions - 1)
    for slot, agent in enumerate(env.possible_agents):
        assert infos[agent]["x"] == x
        assert infos[agent]["G"] == pytest.approx(g, rel=1e-12)
        assert infos[agent]["G_opt"] == pytest.approx(g_opt, rel=1e-12)
        assert rewards[agent] == pytest.approx(g, rel=1e-6)
        expected = np.float32([slot / (n_agents - 1), x / max_load, g / g_opt])
        np.testing.assert_allclose(observations[agent], expected, rtol=1e-6)
        assert terminations[agent] is False and truncations[agent] is False
    np.testing.assert_allclose(env.state(), [0.25, 0.25, 0.0, 0.0, 0.5])
    assert x_opt == 7  # peak (6 + sqrt(36 + 18)) / 2 = 6.67


def exact_random_play_ratio(n_agents: int, n_actions: int = 10, mu: float = 400.0, sigma: float = 200.0) -> float:
    """E[G(x)] / G_opt when every agent plays uniformly at random, from the exact distribution of x."""
    distribution = np.ones(1)
    for _ in range(n_agents):
        distribution = np.convolve(distribution, np.full(n_actions, 1.0 / n_actions))
    loads = np.arange(len(distribution), dtype=np.float64)
    g_opt = optimum(GaussianSqueezeConfig(n_agents=n_agents, n_actions=n_actions, mu=mu, sigma=sigma))[1]
    return float(distribution @ (loads * np.exp(-(((loads - mu) / sigma) ** 2)))) / g_opt


def test_random_play_facts():
    # REFERENCE §3: at N = 100 the mean random load, 450, scores 99.9 % of G*; averaged over the
    # spread of random loads, random play still scores 97.8 %. At N = 500 and 1000 it scores about 0.
    g_opt = optimum(GaussianSqueezeConfig(n_agents=100))[1]
    assert formula(450, 400, 200) / g_opt > 0.999
    assert exact_random_play_ratio(100) == pytest.approx(0.9777, abs=5e-4)
    assert exact_random_play_ratio(500) < 1e-25
    assert exact_random_play_ratio(1000) < 1e-100


@pytest.mark.parametrize(("n_agents", "rounds"), [(100, 400), (1000, 100)])
def test_uniform_random_play_through_the_env(n_agents, rounds):
    env = gaussian_squeeze_v0.parallel_env(n_agents=n_agents, max_cycles=rounds)
    env.reset(seed=0)
    rng = np.random.default_rng(2024)
    ratios = []
    for _ in range(rounds):
        actions = rng.integers(0, 10, size=n_agents)
        _, rewards, _, _, infos = env.step(dict(zip(env.agents, actions.tolist())))
        info = infos["agent_0"]
        assert info["x"] == int(actions.sum())
        ratios.append(info["G"] / info["G_opt"])
    assert not env.agents  # truncated after max_cycles rounds
    expected = exact_random_play_ratio(n_agents)
    # Per-round ratios at N = 100 have a standard deviation of about 0.03: 400 rounds give +-0.0015.
    assert np.mean(ratios) == pytest.approx(expected, abs=0.006)


def test_every_agent_gets_the_same_reward_until_truncation(squeeze_env):
    rng = np.random.default_rng(0)
    for step in range(1, 6):  # the fixture's episode lasts 5 rounds
        actions = dict(zip(squeeze_env.agents, rng.integers(0, 10, size=5).tolist()))
        _, rewards, terminations, truncations, infos = squeeze_env.step(actions)
        assert len(set(rewards.values())) == 1
        assert rewards["agent_0"] == pytest.approx(formula(sum(actions.values()), 20.0, 10.0), rel=1e-6)
        assert not any(terminations.values())
        assert all(truncations.values()) == (step == 5)
    assert squeeze_env.agents == []
