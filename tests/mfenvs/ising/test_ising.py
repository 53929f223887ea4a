"""Ising lattice: Eq. 33 rewards, xi, energy, observation layout and state against plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs import ising_v0
from mfenvs.ising import energy_per_site, order_parameter, site_rewards


def brute_rewards(spins: list[list[int]], h: float, coupling: float) -> np.ndarray:
    """r_j = h a_j + coupling/2 sum_k a_j a_k over the 4 torus neighbours (Eq. 33), one loop per site."""
    height, width = len(spins), len(spins[0])
    rewards = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            a = spins[y][x]
            neighbours = [
                spins[(y - 1) % height][x],
                spins[(y + 1) % height][x],
                spins[y][(x - 1) % width],
                spins[y][(x + 1) % width],
            ]
            rewards[y, x] = h * a + coupling / 2 * sum(a * b for b in neighbours)
    return rewards


def bond_energy_per_site(spins: list[list[int]], h: float, coupling: float) -> float:
    """E / N with each bond counted once (right and down neighbours): E = -h sum a - coupling sum_bonds a a."""
    height, width = len(spins), len(spins[0])
    energy = 0.0
    for y in range(height):
        for x in range(width):
            a = spins[y][x]
            energy -= h * a + coupling * a * (spins[y][(x + 1) % width] + spins[(y + 1) % height][x])
    return energy / (height * width)


def random_spins(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return (2 * rng.integers(0, 2, size=shape) - 1).astype(np.int8)


@pytest.mark.parametrize("shape", [(3, 3), (4, 6), (6, 4), (5, 7)])
@pytest.mark.parametrize(("h", "coupling"), [(0.0, 1.0), (0.5, 1.0), (-0.3, 2.0), (0.2, -1.0)])
def test_site_rewards_energy_and_xi_match_loops(shape, h, coupling):
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    spins = random_spins(rng, shape)
    listed = spins.tolist()
    np.testing.assert_allclose(site_rewards(spins, h, coupling), brute_rewards(listed, h, coupling), rtol=1e-12)
    assert energy_per_site(spins, h, coupling) == pytest.approx(bond_energy_per_site(listed, h, coupling), rel=1e-12)
    n_up = sum(a == 1 for row in listed for a in row)
    n_down = sum(a == -1 for row in listed for a in row)
    assert order_parameter(spins) == pytest.approx(abs(n_up - n_down) / spins.size, rel=1e-12)


def test_ordered_lattice_values():
    spins = np.ones((4, 4), dtype=np.int8)
    assert order_parameter(spins) == 1.0
    assert energy_per_site(spins, 0.0, 1.0) == -2.0  # two bonds per site
    np.testing.assert_array_equal(site_rewards(-spins, 0.5, 1.0), np.full((4, 4), -0.5 + 2.0))


def site(agent: str) -> tuple[int, int]:
    _, y, x = agent.split("_")
    return int(y), int(x)


def expected_observation(spins: np.ndarray, y: int, x: int) -> list[float]:
    """Own, north, south, west and east spins of site (y, x)."""
    size_y, size_x = spins.shape
    return [
        spins[y, x],
        spins[(y - 1) % size_y, x],
        spins[(y + 1) % size_y, x],
        spins[y, (x - 1) % size_x],
        spins[y, (x + 1) % size_x],
    ]


def test_env_step_against_loops(ising_kwargs):
    size = ising_kwargs["size"]
    h, coupling = ising_kwargs.get("h", 0.0), ising_kwargs.get("coupling", 1.0)
    env = ising_v0.parallel_env(**ising_kwargs)
    assert env.possible_agents == [f"spin_{y}_{x}" for y in range(size) for x in range(size)]
    observations, infos = env.reset(seed=5)
    spins = env.state()
    assert spins.dtype == np.int8 and spins.shape == (size, size) and set(np.unique(spins)) <= {-1, 1}
    for agent in env.agents:
        np.testing.assert_array_equal(observations[agent], expected_observation(spins, *site(agent)))
        assert observations[agent].dtype == np.float32
        assert infos[agent]["xi"] == pytest.approx(abs(int(spins.sum())) / size**2)
        assert infos[agent]["energy"] == pytest.approx(bond_energy_per_site(spins.tolist(), h, coupling))

    rng = np.random.default_rng(6)
    for _ in range(4):
        actions = dict(zip(env.agents, rng.integers(0, 2, size=size * size).tolist()))
        observations, rewards, terminations, truncations, infos = env.step(actions)
        new_spins = np.zeros((size, size), dtype=np.int8)
        for agent, action in actions.items():
            new_spins[site(agent)] = 1 if action == 1 else -1
        np.testing.assert_array_equal(env.state(), new_spins)
        expected_rewards = brute_rewards(new_spins.tolist(), h, coupling)
        n_up = int((new_spins == 1).sum())
        for agent in env.agents:
            y, x = site(agent)
            assert rewards[agent] == pytest.approx(expected_rewards[y, x], rel=1e-6)
            # The next decision is taken on the configuration this step produced.
            np.testing.assert_array_equal(observations[agent], expected_observation(new_spins, y, x))
            assert infos[agent]["xi"] == pytest.approx(abs(2 * n_up - size * size) / size**2)
            assert infos[agent]["energy"] == pytest.approx(bond_energy_per_site(new_spins.tolist(), h, coupling))
            assert terminations[agent] is False and truncations[agent] is False


def test_all_up_then_all_down_rewards():
    env = ising_v0.parallel_env(size=5, h=0.25, coupling=1.5)
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step(dict.fromkeys(env.agents, 1))
    assert list(rewards.values()) == [pytest.approx(0.25 + 1.5 / 2 * 4)] * 25
    assert infos["spin_0_0"]["xi"] == 1.0
    _, rewards, _, _, infos = env.step(dict.fromkeys(env.agents, 0))
    assert list(rewards.values()) == [pytest.approx(-0.25 + 1.5 / 2 * 4)] * 25
    assert infos["spin_4_4"]["energy"] == pytest.approx(0.25 - 1.5 * 2)


def test_state_is_a_copy(ising_env):
    state = ising_env.state()
    state[:] = 0
    assert set(np.unique(ising_env.state())) <= {-1, 1}


def test_initial_up_starts_every_episode_all_up_and_random_does_not():
    env = ising_v0.parallel_env(size=6, initial="up", max_cycles=2)
    for seed in (0, 1):
        _, infos = env.reset(seed=seed)
        assert (env.state() == 1).all() and infos["spin_0_0"]["xi"] == 1.0
        assert infos["spin_2_3"]["mean_action"].tolist() == [0.0, 1.0]
        env.step(dict.fromkeys(env.agents, 0))
        assert (env.state() == -1).all()
    random_env = ising_v0.parallel_env(size=6)
    random_env.reset(seed=0)
    assert set(np.unique(random_env.state())) == {-1, 1}
