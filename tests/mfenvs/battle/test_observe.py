"""What Battle agents see: view windows, minimap, feature vector, global state and action masks.

Spot checks on hand-built placements, then a cell-by-cell reference (plain loops over the 13 x 13
window, written from ``REFERENCE.md`` section 1 and the measured MAgent2 layout) compared with the
vectorised views over random play.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.mfenvs.battle.helpers import ATTACKS, MOVES, N_ACTIONS, attack, core, env, env_step, move, step

CENTRE = 6
# channel indices: wall, own presence, own hp, [own minimap], enemy presence, enemy hp, [enemy minimap]
PLAIN = {"wall": 0, "own": 1, "own_hp": 2, "enemy": 3, "enemy_hp": 4}
MINIMAP = {"wall": 0, "own": 1, "own_hp": 2, "own_minimap": 3, "enemy": 4, "enemy_hp": 5, "enemy_minimap": 6}


def at(view: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The channels of the window cell at offset ``(dx, dy)`` from the observer."""
    return view[CENTRE + dy, CENTRE + dx]


# red_0 at (3, 10), near the left wall; the others at known offsets from it
OBSERVER = (3, 10)
TEAMMATE = (2, 11)  # offset (-1, 1)
HITTER = (5, 7)  # offset (2, -3), a teammate that hits ENEMY_NEAR above it
ENEMY_NEAR = (5, 6)  # offset (2, -4)
ENEMY_EDGE = (9, 10)  # offset (6, 0): distance exactly 6, visible
ENEMY_HIDDEN = (7, 15)  # offset (4, 5): inside the 13 x 13 window but 4^2 + 5^2 > 36


def spot_core(minimap_mode: bool):
    red, blue = [OBSERVER, TEAMMATE, HITTER], [ENEMY_NEAR, ENEMY_EDGE, ENEMY_HIDDEN]
    return core(red=red, blue=blue, map_size=20, minimap_mode=minimap_mode)


def spatial_channels(ch: dict[str, int]) -> list[int]:
    return [c for name, c in ch.items() if "minimap" not in name]


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_view_of_a_known_placement(minimap_mode):
    battle = spot_core(minimap_mode)
    out = step(battle, {2: attack(0, -1)})  # ENEMY_NEAR drops to 8.1 hp
    ch = MINIMAP if minimap_mode else PLAIN
    view = out.views[0, 0]
    assert view.shape == (13, 13, 7 if minimap_mode else 5) and view.dtype == np.float32
    # the observer at the centre of its own channels, teammates around it
    assert at(view, 0, 0)[ch["own"]] == 1 and at(view, 0, 0)[ch["own_hp"]] == 1.0
    assert at(view, -1, 1)[ch["own"]] == 1 and at(view, -1, 1)[ch["enemy"]] == 0
    assert at(view, 2, -3)[ch["own"]] == 1
    # enemies at [row = 6 + dy, col = 6 + dx]
    assert view[6 - 4, 6 + 2, ch["enemy"]] == 1 and view[6 - 4, 6 + 2, ch["enemy_hp"]] == pytest.approx(0.81)
    assert view[6 + 2, 6 - 4, ch["enemy"]] == 0  # the transposed cell is empty
    assert view[6, 12, ch["enemy"]] == 1 and view[6, 12, ch["enemy_hp"]] == 1.0  # distance exactly 6
    assert not view[6 + 5, 6 + 4, spatial_channels(ch)].any()  # occupied but outside the circle
    assert view[:, :, ch["enemy"]].sum() == 2 and view[:, :, ch["own"]].sum() == 3
    # walls: x = 0 is at dx = -3, column 3; x < 0 (columns 0-2) is off the map
    visible_rows = [r for r in range(13) if (r - 6) ** 2 + 9 <= 36]
    assert visible_rows == list(range(1, 12))
    np.testing.assert_array_equal(view[visible_rows, 3, ch["wall"]], 1)
    assert view[0, 3, ch["wall"]] == 0 and view[12, 3, ch["wall"]] == 0  # outside the circle
    assert not view[:, :3][..., spatial_channels(ch)].any()  # off the map
    assert view[:, 4:, ch["wall"]].sum() == 0  # no other wall within reach (the map is 20 wide)

    # blue_0's view of red_0: the opposite offset, in its enemy channels; itself at the centre
    enemy_view = out.views[0, 3]
    assert enemy_view[6 + 4, 6 - 2, ch["enemy"]] == 1 and enemy_view[6 + 4, 6 - 2, ch["enemy_hp"]] == 1.0
    assert enemy_view[6, 6, ch["own"]] == 1 and enemy_view[6, 6, ch["own_hp"]] == pytest.approx(0.81)


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_view_circle(minimap_mode):
    # an enemy on every cell of an 11 x 11 block around the observer at the centre of a 20 x 20 map
    observer = (9, 9)
    blue = [(x, y) for y in range(4, 15) for x in range(4, 15) if (x, y) != observer]
    battle = core(red=[observer], blue=blue, map_size=20, minimap_mode=minimap_mode)
    view = battle.reset(seed=0).views[0, 0]
    enemy = (MINIMAP if minimap_mode else PLAIN)["enemy"]
    for dy in range(-6, 7):
        for dx in range(-6, 7):
            occupied = max(abs(dx), abs(dy)) <= 5 and (dx, dy) != (0, 0)
            visible = dx * dx + dy * dy <= 36
            assert at(view, dx, dy)[enemy] == float(occupied and visible), (dx, dy)
    assert at(view, 4, 5)[enemy] == 0 and at(view, 3, 5)[enemy] == 1  # 41 > 36, 34 <= 36
    assert sum(dx * dx + dy * dy <= 36 for dx in range(-6, 7) for dy in range(-6, 7)) == 113  # as measured in MAgent2


def test_minimap_channels():
    # 20 x 20 map: bins of ceil(20 / 13) = 2 cells, so (x, y) is in bin [y // 2, x // 2]
    battle = spot_core(minimap_mode=True)
    view = battle.reset(seed=0).views[0, 0]
    own, enemy = view[..., 3], view[..., 6]
    expected_own = np.zeros((13, 13), np.float32)
    for x, y in (OBSERVER, TEAMMATE, HITTER):  # the first two share bin [5, 1]
        expected_own[y // 2, x // 2] += 1 / 3
    expected_own[5, 1] += 1  # the observer's own bin
    expected_enemy = np.zeros((13, 13), np.float32)
    for x, y in (ENEMY_NEAR, ENEMY_EDGE, ENEMY_HIDDEN):
        expected_enemy[y // 2, x // 2] += 1 / 3
    expected_enemy[5, 1] += 1  # +1 at the observer's bin in the enemy minimap too
    np.testing.assert_allclose(own, expected_own, atol=1e-6)
    np.testing.assert_allclose(enemy, expected_enemy, atol=1e-6)
    assert own[5, 1] == pytest.approx(1 + 2 / 3)
    assert enemy[ENEMY_HIDDEN[1] // 2, ENEMY_HIDDEN[0] // 2] == pytest.approx(1 / 3)  # not masked by the circle


@pytest.mark.parametrize(("map_size", "bin_size"), [(12, 1), (13, 1), (14, 2), (27, 3), (40, 4), (45, 4), (80, 7)])
def test_minimap_bin_size(map_size, bin_size):
    assert bin_size == math.ceil(map_size / 13)
    far = (map_size - 2, map_size - 3)
    battle = core(red=[(1, 2)], blue=[far], map_size=map_size)
    view = battle.reset(seed=0).views[0, 0]
    expected = np.zeros((13, 13), np.float32)
    expected[far[1] // bin_size, far[0] // bin_size] = 1.0
    expected[2 // bin_size, 1 // bin_size] += 1.0
    np.testing.assert_array_equal(view[..., 6], expected)


def test_feature_vector():
    red = [(x, 2) for x in range(2, 8)]
    blue = [(x, 7) for x in range(2, 8)]
    battle = core(red=red, blue=blue, map_size=12)
    features = battle.reset(seed=0).features[0]
    assert features.shape == (12, 34) and features.dtype == np.float32
    for slot in range(12):
        assert features[slot, :10].tolist() == [(slot >> bit) & 1 for bit in range(10)]  # LSB first
    assert features[11, :10].tolist() == [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]  # blue_5 is slot 11 = 0b1011
    assert not features[:, 10:31].any()  # no last action at reset
    assert not features[:, 31].any()
    np.testing.assert_allclose(features[:, 32:], np.array(red + blue) / 12, rtol=1e-6)

    actions = {0: move(1, 1), 6: attack(0, 1), 11: 20}  # red_0 moves to (3, 3); blue_0 misses
    out = step(battle, actions)
    features = out.features[0]
    for slot in range(12):
        one_hot = np.zeros(N_ACTIONS)
        one_hot[actions.get(slot, 6)] = 1
        np.testing.assert_array_equal(features[slot, 10:31], one_hot)
    np.testing.assert_allclose(features[:, 31], out.rewards[0], atol=1e-7)  # the reward just received
    assert features[6, 31] == pytest.approx(-0.105, abs=1e-6)
    assert features[0, 32:].tolist() == pytest.approx([3 / 12, 3 / 12])


def test_features_of_dead_agents_are_zero():
    battle = core(red=[(4, 5)], blue=[(5, 5), (8, 8)])
    for _ in range(6):
        out = step(battle, {0: attack(1, 0)})
    assert not out.alive[0, 1]
    assert not out.features[0, 1].any() and not out.views[0, 1].any()


@pytest.mark.parametrize(
    ("minimap_mode", "extra_features", "n_channels"),
    [(False, False, 5), (True, False, 9), (False, True, 37), (True, True, 41)],
)
def test_env_observation_channels(minimap_mode, extra_features, n_channels):
    battle = env(
        red=[(3, 4), (6, 6)],
        blue=[(4, 4), (8, 2)],
        map_size=12,
        minimap_mode=minimap_mode,
        extra_features=extra_features,
    )
    assert battle.observation_space("red_0").shape == (13, 13, n_channels)
    observations, _, _, _, _ = env_step(battle, {"red_0": attack(1, 0), "blue_1": move(-1, 1)})
    n_view = 7 if minimap_mode else 5
    extra = observations["blue_1"][..., n_view:]
    # the features are constant over the window
    np.testing.assert_array_equal(extra, np.broadcast_to(extra[:1, :1], extra.shape))
    features = extra[0, 0]
    if extra_features:
        assert features[:10].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]  # slot 3
        assert features[10:31].tolist() == [float(a == move(-1, 1)) for a in range(N_ACTIONS)]
        assert features[31] == pytest.approx(-0.005)
        assert observations["red_0"][0, 0, n_view + 31] == pytest.approx(0.095)
    if minimap_mode:
        assert features[-2:].tolist() == pytest.approx([7 / 12, 3 / 12])  # blue_1 moved to (7, 3)
    assert len(features) == 32 * extra_features + 2 * minimap_mode
    for agent, observation in observations.items():
        assert battle.observation_space(agent).contains(observation)


def test_state_layout():
    battle = env(red=[(2, 7)], blue=[(9, 3)], map_size=12)
    state = battle.state()
    assert state.shape == (12, 12, 5) and state.dtype == np.float32
    assert battle.state_space.contains(state)
    walls = np.zeros((12, 12), bool)
    walls[[0, -1], :] = walls[:, [0, -1]] = True
    np.testing.assert_array_equal(state[..., 0], walls)
    assert np.argwhere(state[..., 1]).tolist() == [[7, 2]]  # [y, x]
    assert np.argwhere(state[..., 3]).tolist() == [[3, 9]]
    assert state[7, 2, 2] == 1.0 and state[3, 9, 4] == 1.0
    assert state[..., 2].sum() == 1.0 and state[..., 4].sum() == 1.0
    env_step(battle, {"red_0": move(0, -2)})
    state = battle.state()
    assert np.argwhere(state[..., 1]).tolist() == [[5, 2]]


def test_state_hp_channels():
    battle = env(red=[(4, 5)], blue=[(5, 5)], map_size=10)
    env_step(battle, {"red_0": attack(1, 0)})
    assert battle.state()[5, 5, 4] == pytest.approx(0.81)
    assert battle.state()[5, 4, 2] == pytest.approx(1.0)


def test_action_mask():
    # red_0 at (1, 5) beside the left wall, teammate red_1 up-right at (2, 4), enemy blue_0 below at (1, 6)
    battle = env(red=[(1, 5), (2, 4)], blue=[(1, 6), (8, 8)], map_size=10, action_mask=True)
    _, _, _, _, infos = env_step(battle)
    mask = infos["red_0"]["action_mask"]
    assert mask.dtype == np.int8 and mask.shape == (21,)
    allowed_moves = {
        0: True,  # (0, -2) -> (1, 3)
        1: False,  # (-1, -1) -> wall
        2: True,
        3: False,  # (1, -1) -> red_1
        4: False,  # (-2, 0) -> off the map
        5: False,  # wall
        6: True,  # stay
        7: True,
        8: True,
        9: False,  # (-1, 1) -> wall
        10: False,  # (0, 1) -> blue_0
        11: True,
        12: True,  # (0, 2) jumps over blue_0 to (1, 7)
    }
    allowed_attacks = {action: ATTACKS[action] == (0, 1) for action in ATTACKS}  # only blue_0 is an enemy
    assert set(allowed_moves) == set(MOVES)
    assert mask.tolist() == [int(allowed_moves.get(a, allowed_attacks.get(a))) for a in range(21)]
    # blue_0's mask: it may attack red_0 above it, not move there
    blue_mask = infos["blue_0"]["action_mask"]
    assert blue_mask[attack(0, -1)] == 1 and blue_mask[move(0, -1)] == 0 and blue_mask[attack(1, -1)] == 0


def test_action_mask_of_dead_agents_is_zero():
    battle = env(red=[(4, 5)], blue=[(5, 5), (8, 8)], action_mask=True, dead_agents="absorb")
    for _ in range(6):
        _, _, _, _, infos = env_step(battle, {"red_0": attack(1, 0)})
    assert not infos["blue_0"]["alive"]
    assert not infos["blue_0"]["action_mask"].any()
    assert infos["blue_1"]["action_mask"][6] == 1


# -- a cell-by-cell reference over random play ----------------------------------------------------
def reference_view(battle, index: int, slot: int, died: np.ndarray) -> np.ndarray:
    """The view of one agent, cell by cell, from positions, hp and team membership only."""
    config, state = battle.config, battle.state
    n_red, _ = config.team_counts
    team = lambda k: int(k >= n_red)  # noqa: E731
    size = config.map_size
    ch = MINIMAP if config.minimap_mode else PLAIN
    view = np.zeros((13, 13, len(ch)), np.float32)
    if not state.alive[index, slot]:
        return view
    walls = {(x, y) for x in range(size) for y in range(size) if x in (0, size - 1) or y in (0, size - 1)}
    walls |= set(config.walls)
    living = {tuple(state.positions[index, k]): k for k in np.flatnonzero(state.alive[index])}
    x, y = state.positions[index, slot]
    for row in range(13):
        for col in range(13):
            dx, dy = col - 6, row - 6
            cell = (x + dx, y + dy)
            if dx * dx + dy * dy > 36 or not (0 <= cell[0] < size and 0 <= cell[1] < size):
                continue
            view[row, col, ch["wall"]] = cell in walls
            if cell in living:
                k = living[cell]
                side = "own" if team(k) == team(slot) else "enemy"
                view[row, col, ch[side]] = 1.0
                view[row, col, ch[f"{side}_hp"]] = state.hp[index, k] / config.max_hp
    if config.minimap_mode:
        bin_size = -(-size // 13)
        counted = [k for k in range(config.n_agents) if state.alive[index, k] or died[index, k]]
        for k in counted:
            side = "own" if team(k) == team(slot) else "enemy"
            team_size = sum(team(j) == team(k) for j in counted)
            kx, ky = state.positions[index, k]
            view[ky // bin_size, kx // bin_size, ch[f"{side}_minimap"]] += 1 / team_size
        view[y // bin_size, x // bin_size, ch["own_minimap"]] += 1
        view[y // bin_size, x // bin_size, ch["enemy_minimap"]] += 1
    return view


def fighting_actions(battle, rng: np.random.Generator) -> np.ndarray:
    """Random actions that attack an adjacent enemy when there is one (so that agents die), else move."""
    masks = battle.action_masks()
    scores = rng.random(masks.shape) + 2.0 * masks[..., 13:].any(axis=-1, keepdims=True) * (np.arange(21) >= 13)
    return np.argmax(np.where(masks, scores, -1.0), axis=-1)


@pytest.mark.parametrize(
    ("map_size", "minimap_mode", "seed"), [(9, True, 0), (14, False, 1), (20, True, 2), (27, True, 3), (30, False, 4)]
)
def test_views_match_the_cell_by_cell_reference(map_size, minimap_mode, seed):
    # about 24 agents of random teams packed into a 7 x 7 square, so that they fight; 3 interior walls
    rng = np.random.default_rng(seed)
    corner = rng.integers(1, map_size - 7, size=2) if map_size > 9 else (1, 1)
    square = [(int(corner[0]) + i, int(corner[1]) + j) for i in range(7) for j in range(7)]
    cells = [square[i] for i in rng.choice(len(square), size=27, replace=False)]
    walls, agents = cells[:3], cells[3:]
    is_red = rng.random(len(agents)) < 0.5
    red = [cell for cell, r in zip(agents, is_red) if r]
    blue = [cell for cell, r in zip(agents, is_red) if not r]
    battle = core(red=red, blue=blue, map_size=map_size, seed=seed, n_battles=2, minimap_mode=minimap_mode, walls=walls)
    was_alive = battle.state.alive.copy()
    compared_dead = 0
    for _ in range(12):
        out = battle.step(fighting_actions(battle, rng))
        died = was_alive & ~battle.state.alive
        compared_dead += died.sum()
        for index in range(2):
            for slot in range(battle.n_agents):
                np.testing.assert_allclose(out.views[index, slot], reference_view(battle, index, slot, died), atol=1e-6)
        was_alive = battle.state.alive.copy()
    assert compared_dead > 0  # the minimap's "died this step" rule was exercised
