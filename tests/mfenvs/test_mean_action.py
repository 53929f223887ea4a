"""The mean action (``mfenvs.common.mean_action``) against brute-force loops, and as the environments report it."""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs import battle_v0, gaussian_squeeze_v0, ising_v0
from mfenvs.common.mean_action import global_mean_action, lattice_mean_action, one_hot, radius_mean_action


# -- independent brute-force references (plain loops over agents) -------------------------------
def brute_mean(neighbour_actions: list[int], n_actions: int) -> np.ndarray:
    mean = np.zeros(n_actions)
    for action in neighbour_actions:
        mean[action] += 1.0 / len(neighbour_actions)
    return mean


def brute_global(actions, n_actions, active=None, groups=None) -> np.ndarray:
    n = len(actions)
    active = [True] * n if active is None else list(active)
    groups = [0] * n if groups is None else list(groups)
    out = np.zeros((n, n_actions))
    for j in range(n):
        if not active[j]:
            continue
        others = [actions[k] for k in range(n) if k != j and active[k] and groups[k] == groups[j]]
        out[j] = brute_mean(others, n_actions)
    return out


def brute_lattice(actions_2d, n_actions) -> np.ndarray:
    height, width = len(actions_2d), len(actions_2d[0])
    out = np.zeros((height * width, n_actions))
    for y in range(height):
        for x in range(width):
            neighbours = [
                actions_2d[(y - 1) % height][x],
                actions_2d[(y + 1) % height][x],
                actions_2d[y][(x - 1) % width],
                actions_2d[y][(x + 1) % width],
            ]
            out[y * width + x] = brute_mean(neighbours, n_actions)
    return out


def brute_radius(actions, n_actions, positions, radius, active=None, groups=None) -> np.ndarray:
    n = len(actions)
    active = [True] * n if active is None else list(active)
    groups = [0] * n if groups is None else list(groups)
    out = np.zeros((n, n_actions))
    for j in range(n):
        if not active[j]:
            continue
        xj, yj = positions[j]
        others = [
            actions[k]
            for k in range(n)
            if k != j
            and active[k]
            and groups[k] == groups[j]
            and (positions[k][0] - xj) ** 2 + (positions[k][1] - yj) ** 2 <= radius**2
        ]
        out[j] = brute_mean(others, n_actions)
    return out


def assert_mean_actions(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7)


# -- one_hot and global ----------------------------------------------------------------------------
def test_one_hot_rows_and_inactive_zero_rows():
    encoded = one_hot(np.array([2, 0, 1]), 3, active=np.array([True, False, True]))
    np.testing.assert_array_equal(encoded, [[0, 0, 1], [0, 0, 0], [0, 1, 0]])
    assert encoded.dtype == np.float32


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_agents", [1, 2, 7, 40])
def test_global_mean_action_matches_brute_force(seed, n_agents):
    rng = np.random.default_rng(seed)
    n_actions = int(rng.integers(2, 12))
    actions = rng.integers(0, n_actions, size=n_agents)
    assert_mean_actions(global_mean_action(actions, n_actions), brute_global(actions.tolist(), n_actions))


@pytest.mark.parametrize("seed", range(8))
def test_global_mean_action_with_groups_and_inactive_agents(seed):
    rng = np.random.default_rng(seed)
    n_agents, n_actions = 30, 5
    actions = rng.integers(0, n_actions, size=n_agents)
    groups = rng.integers(0, 3, size=n_agents)
    active = rng.random(n_agents) < 0.7
    expected = brute_global(actions.tolist(), n_actions, active.tolist(), groups.tolist())
    assert_mean_actions(global_mean_action(actions, n_actions, active=active, groups=groups), expected)


def test_global_mean_action_lonely_and_inactive_agents_get_zeros():
    actions = np.array([1, 2, 0, 1])
    groups = np.array([0, 1, 1, 2])  # agents 0 and 3 are alone in their group
    active = np.array([True, True, False, True])  # agent 1's only group-mate is inactive
    mean = global_mean_action(actions, 3, active=active, groups=groups)
    np.testing.assert_array_equal(mean, np.zeros((4, 3), dtype=np.float32))


def test_global_mean_action_ignores_actions_of_inactive_agents():
    actions = np.array([0, 1, 1])
    active = np.array([True, True, False])
    np.testing.assert_array_equal(global_mean_action(actions, 2, active=active), [[0, 1], [1, 0], [0, 0]])


# -- lattice ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (4, 4), (3, 5), (5, 3), (4, 7), (6, 2)])
@pytest.mark.parametrize("n_actions", [2, 4])
def test_lattice_mean_action_matches_brute_force(shape, n_actions):
    rng = np.random.default_rng(shape[0] * 10 + shape[1])
    actions = rng.integers(0, n_actions, size=shape)
    assert_mean_actions(lattice_mean_action(actions, n_actions), brute_lattice(actions.tolist(), n_actions))


def test_lattice_mean_action_single_minority_site():
    actions = np.zeros((3, 4), dtype=np.int64)
    actions[1, 2] = 1
    mean = lattice_mean_action(actions, 2).reshape(3, 4, 2)
    for y, x in [(0, 2), (2, 2), (1, 1), (1, 3)]:  # north, south, west, east of (1, 2)
        np.testing.assert_allclose(mean[y, x], [0.75, 0.25])
    np.testing.assert_allclose(mean[1, 2], [1.0, 0.0])
    np.testing.assert_allclose(mean[0, 0], [1.0, 0.0])


# -- radius ----------------------------------------------------------------------------------------
def random_agents(rng: np.random.Generator, n_agents: int, grid_shape: tuple[int, int]) -> np.ndarray:
    """``[n_agents, 2]`` distinct ``(x, y)`` cells of a ``(height, width)`` grid."""
    height, width = grid_shape
    cells = rng.choice(height * width, size=n_agents, replace=False)
    return np.stack([cells % width, cells // width], axis=1)


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5, 2.9, 6.0, 100.0])
@pytest.mark.parametrize("grid_shape", [(7, 12), (12, 7), (10, 10)])
@pytest.mark.parametrize("seed", range(3))
def test_radius_mean_action_matches_brute_force(radius, grid_shape, seed):
    rng = np.random.default_rng(seed)
    n_agents, n_actions = 25, 6
    actions = rng.integers(0, n_actions, size=n_agents)
    positions = random_agents(rng, n_agents, grid_shape)
    groups = rng.integers(0, 2, size=n_agents)
    active = rng.random(n_agents) < 0.8
    expected = brute_radius(actions.tolist(), n_actions, positions.tolist(), radius, active.tolist(), groups.tolist())
    actual = radius_mean_action(actions, n_actions, positions, grid_shape, radius, active=active, groups=groups)
    assert_mean_actions(actual, expected)


def test_radius_mean_action_without_groups_or_mask():
    rng = np.random.default_rng(1)
    actions = rng.integers(0, 3, size=15)
    positions = random_agents(rng, 15, (5, 9))
    expected = brute_radius(actions.tolist(), 3, positions.tolist(), 2.5)
    assert_mean_actions(radius_mean_action(actions, 3, positions, (5, 9), 2.5), expected)


def test_radius_mean_action_uses_x_as_column_and_y_as_row():
    # On a 3-row, 10-column grid, (9, 2) is a valid cell only if x indexes columns.
    positions = np.array([[9, 2], [8, 2], [0, 0]])
    mean = radius_mean_action(np.array([0, 1, 1]), 2, positions, (3, 10), radius=1.0)
    np.testing.assert_array_equal(mean, [[0, 1], [1, 0], [0, 0]])


def test_radius_mean_action_isolated_agents_get_zeros():
    positions = np.array([[0, 0], [5, 5], [9, 0]])
    mean = radius_mean_action(np.array([1, 2, 0]), 3, positions, (10, 10), radius=3.0)
    np.testing.assert_array_equal(mean, np.zeros((3, 3), dtype=np.float32))


def pairwise_radius(actions, n_actions, positions, radius, active, groups) -> np.ndarray:
    """Independent O(n^2) reference: the distance of every pair, then float32 ``sums / counts`` rows."""
    offsets = positions[:, None, :] - positions[None, :, :]
    near = (offsets**2).sum(axis=2) <= radius**2
    near &= (groups[:, None] == groups[None, :]) & active[:, None] & active[None, :]
    np.fill_diagonal(near, False)
    sums = near.astype(np.int64) @ np.eye(n_actions, dtype=np.int64)[actions]
    counts = np.maximum(near.sum(axis=1), 1)
    return sums.astype(np.float32) / counts[:, None].astype(np.float32)


def random_battlefield(rng: np.random.Generator, grid_shape: tuple[int, int], n_groups: int, density: float):
    """Positions and groups: each group on distinct cells (groups may share a cell), all corners taken."""
    height, width = grid_shape
    corners = np.array([0, width - 1, (height - 1) * width, height * width - 1])
    positions, groups = [], []
    for group in range(n_groups):
        extra = rng.choice(height * width, size=int(density * height * width), replace=False)
        cells = np.unique(np.concatenate([corners, extra]) if group in (0, n_groups - 1) else extra)
        positions.append(np.stack([cells % width, cells // width], axis=1))
        groups.append(np.full(len(cells), group))
    order = rng.permutation(sum(len(cells) for cells in groups))  # slots not in cell order
    return np.concatenate(positions)[order], np.concatenate(groups)[order]


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5, 2.9, 6.0, 6.5])
@pytest.mark.parametrize("n_actions", [1, 5, 21, 40, 256, 257, 300])  # above 256 actions the planes are uint32
@pytest.mark.parametrize("seed", range(3))
def test_radius_mean_action_equals_pairwise_reference(radius, n_actions, seed):
    rng = np.random.default_rng(seed)
    grid_shape = (int(rng.integers(1, 30)), int(rng.integers(1, 30)))
    positions, groups = random_battlefield(rng, grid_shape, int(rng.integers(1, 5)), rng.uniform(0.05, 0.9))
    actions = rng.integers(0, n_actions, size=len(groups))
    active = rng.random(len(groups)) < rng.uniform(0.3, 1.0)
    expected = pairwise_radius(actions, n_actions, positions, radius, active, groups)
    actual = radius_mean_action(
        actions, n_actions, positions.astype(np.int32), grid_shape, radius, active=active, groups=groups
    )
    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)


def test_radius_mean_action_many_neighbours_equals_pairwise_reference():
    # more than 255 neighbours in reach: tallies wider than a byte
    rng = np.random.default_rng(0)
    positions, groups = random_battlefield(rng, (40, 35), 2, 0.8)
    actions = rng.integers(0, 3, size=len(groups))
    active = np.ones(len(groups), dtype=bool)
    expected = pairwise_radius(actions, 3, positions, 12.0, active, groups)
    actual = radius_mean_action(actions, 3, positions, (40, 35), 12.0, active=active, groups=groups)
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("width", [63, 64, 65, 127, 128, 130, 200])
@pytest.mark.parametrize("radius", [1.5, 6.0, 33.0, 70.0])  # disk rows within one 64-cell word, across two, three
def test_radius_mean_action_across_the_occupancy_words_equals_pairwise_reference(width, radius):
    # the kernel reads each row's occupancy 64 cells at a time: rows that start, end or straddle a word edge
    rng = np.random.default_rng(width)
    grid_shape = (9, width)
    positions, groups = random_battlefield(rng, grid_shape, 2, 0.3)
    edge_columns = sorted({c for c in (0, 1, 62, 63, 64, 65, 126, 127, 128, 129, width - 1) if c < width})
    extra = np.array([[x, y] for x in edge_columns for y in (0, 4, 8)])
    keep = ~(groups == 0) | ~np.isin(positions[:, 1] * width + positions[:, 0], extra[:, 1] * width + extra[:, 0])
    positions = np.concatenate([positions[keep], extra])  # group 0 gets every edge cell
    groups = np.concatenate([groups[keep], np.zeros(len(extra), dtype=groups.dtype)])
    actions = rng.integers(0, 21, size=len(groups))
    active = rng.random(len(groups)) < 0.9
    expected = pairwise_radius(actions, 21, positions, radius, active, groups)
    actual = radius_mean_action(actions, 21, positions, grid_shape, radius, active=active, groups=groups)
    np.testing.assert_array_equal(actual, expected)


def test_radius_kernel_overwrites_its_output_and_reads_no_stale_plane_cell():
    # the kernel gets uninitialised output rows and action planes: fill both with garbage first
    from mfenvs.common.mean_action import disk_half_widths, radius_scratch
    from mfenvs.common.mean_action_kernels import radius_counts

    rng = np.random.default_rng(7)
    grid_shape = (20, 70)
    positions, groups = random_battlefield(rng, grid_shape, 3, 0.2)
    actions = rng.integers(0, 21, size=len(groups))
    active = rng.random(len(groups)) < 0.7
    planes, occupied = radius_scratch(21, 3, *grid_shape)
    planes[:] = 20  # a stale action everywhere
    out = np.full((len(groups), 21), np.nan, dtype=np.float32)
    radius_counts(actions, positions, active, groups, *grid_shape, disk_half_widths(6.0), planes, occupied, out)
    np.testing.assert_array_equal(out, pairwise_radius(actions, 21, positions, 6.0, active, groups))


def test_radius_mean_action_in_the_corners():
    # a full 3 x 3 square disk reaches past every edge of a full 3 x 4 grid
    positions = np.array([[x, y] for y in range(3) for x in range(4)])
    actions = np.arange(12) % 2
    expected = brute_radius(actions.tolist(), 2, positions.tolist(), 1.5)
    assert_mean_actions(radius_mean_action(actions, 2, positions, (3, 4), 1.5), expected)


# -- as the environments report it -----------------------------------------------------------------
def test_squeeze_infos_mean_action(gaussian_squeeze_kwargs):
    env = gaussian_squeeze_v0.parallel_env(**gaussian_squeeze_kwargs)
    n_actions = gaussian_squeeze_kwargs["n_actions"]
    _, infos = env.reset(seed=0)
    for agent in env.agents:
        mean = infos[agent]["mean_action"]
        assert mean.dtype == np.float32 and mean.shape == (n_actions,)
        np.testing.assert_array_equal(mean, np.zeros(n_actions))  # nobody has acted yet
    rng = np.random.default_rng(0)
    for _ in range(3):
        actions = rng.integers(0, n_actions, size=len(env.agents))
        _, _, _, _, infos = env.step(dict(zip(env.agents, actions.tolist())))
        expected = brute_global(actions.tolist(), n_actions)
        for slot, agent in enumerate(env.possible_agents):
            assert_mean_actions(infos[agent]["mean_action"], expected[slot])


def site_of(agent: str) -> tuple[int, int]:
    """``(y, x)`` from the agent name ``spin_{y}_{x}``."""
    _, y, x = agent.split("_")
    return int(y), int(x)


def brute_ising_mean_actions(actions: dict[str, int], size: int) -> dict[str, np.ndarray]:
    """Brute-force lattice mean action of every site, from actions keyed by agent name."""
    grid = [[-1] * size for _ in range(size)]
    for agent, action in actions.items():
        y, x = site_of(agent)
        grid[y][x] = action
    means = brute_lattice(grid, 2)
    return {agent: means[site_of(agent)[0] * size + site_of(agent)[1]] for agent in actions}


def test_ising_infos_mean_action(ising_kwargs):
    size = ising_kwargs["size"]
    env = ising_v0.parallel_env(**ising_kwargs)
    _, infos = env.reset(seed=1)
    # At reset: the mean of the neighbours' initial spins, as actions (0 = spin -1, 1 = spin +1).
    spins = env.state()
    initial_actions = {agent: int(spins[site_of(agent)] > 0) for agent in env.agents}
    expected = brute_ising_mean_actions(initial_actions, size)
    for agent in env.possible_agents:
        mean = infos[agent]["mean_action"]
        assert mean.dtype == np.float32 and mean.shape == (2,)
        assert_mean_actions(mean, expected[agent])
    rng = np.random.default_rng(1)
    for _ in range(3):
        actions = dict(zip(env.agents, rng.integers(0, 2, size=len(env.agents)).tolist()))
        _, _, _, _, infos = env.step(actions)
        expected = brute_ising_mean_actions(actions, size)
        for agent in env.possible_agents:
            assert_mean_actions(infos[agent]["mean_action"], expected[agent])


def test_battle_infos_mean_action(battle_kwargs):
    env = battle_v0.parallel_env(**battle_kwargs)
    radius = battle_kwargs.get("mean_action_radius", 6)
    n_red = sum(name.startswith("red_") for name in env.possible_agents)
    teams = [int(slot >= n_red) for slot in range(len(env.possible_agents))]
    _, infos = env.reset(seed=2)
    for agent in env.agents:
        mean = infos[agent]["mean_action"]
        assert mean.dtype == np.float32 and mean.shape == (21,)
        np.testing.assert_array_equal(mean, np.zeros(21))  # nobody has acted yet
    rng = np.random.default_rng(2)
    for _ in range(20):
        if not env.agents:
            break
        actions = dict(zip(env.agents, rng.integers(0, 21, size=len(env.agents)).tolist()))
        _, _, _, _, infos = env.step(actions)
        # the neighbours: teammates alive after the step, within the radius of the agent's new cell
        state = env.core.engine.state
        alive, positions = state.alive[0].tolist(), state.positions[0].tolist()
        slot_actions = [actions.get(agent, 0) for agent in env.possible_agents]
        if radius is None:
            expected = brute_global(slot_actions, 21, alive, teams)
        else:
            expected = brute_radius(slot_actions, 21, positions, radius, alive, teams)
        for slot, agent in enumerate(env.possible_agents):
            if agent in infos:  # the dead (absorb mode, or the step they die) get zeros
                assert_mean_actions(infos[agent]["mean_action"], expected[slot])
