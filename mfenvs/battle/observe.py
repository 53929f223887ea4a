"""What agents see: view windows, minimap, feature vector, action masks and the global state.

The view of an agent at ``(x, y)`` is ``view[row, col] = map[y + row - 6, x + col - 6]`` inside the
circle of radius 6; off-map cells and cells outside the circle read 0 in every channel. The views,
features and action masks are compiled kernels over every agent of every battle (``prange`` over
agents: each writes only its own rows, so the thread count does not change a bit), and each kernel
writes every element of its output, so the outputs are allocated with ``np.empty``.

Views are float32, or float16 on request (``view_dtype``): half the bytes written per agent-step, where
memory bandwidth bounds the step. Numba cannot type float16 arrays, so float16 pictures and views are
uint16 arrays of float16 bit patterns (``mfenvs.common.half``), viewed as ``np.float16`` on return. The
values are converted where they are made (agents drawn, minimap densities, the minimap's +1, tiled
features; each computed in float32 first), so a float16 view is exactly the float32 view cast to
float16, and the window copy stays a plain copy. Features are float32 either way.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from mfenvs.battle.config import ID_BITS, MINIMAP_SIZE, N_ACTIONS, N_MOVES, STAY, VIEW_RADIUS, VIEW_SIZE, BattleConfig
from mfenvs.battle.rules import ATTACK_DX, ATTACK_DY, MOVE_DX, MOVE_DY
from mfenvs.battle.state import EMPTY, BattleState
from mfenvs.common.half import encode
from mfenvs.common.jit import kernel
from mfenvs.common.validation import check_choice

VIEW_DTYPES = {"float32": np.float32, "float16": np.float16}
"""The view dtypes a ``BattleCore`` offers, by name; float32 is the default."""
STORAGE_DTYPES = {"float32": np.float32, "float16": np.uint16}
"""What the kernels write for each view dtype: float16 as its bit patterns (Numba has no float16 arrays)."""


def check_view_dtype(view_dtype: str) -> str:
    """Validate a ``view_dtype`` option: ``"float32"`` (the default) or ``"float16"``."""
    return check_choice("view_dtype", view_dtype, tuple(VIEW_DTYPES))


def wall_map(config: BattleConfig) -> np.ndarray:
    """``[H, W]`` bool: the border ring plus the configured interior walls."""
    walls = np.zeros((config.map_size, config.map_size), dtype=bool)
    walls[[0, -1], :] = True
    walls[:, [0, -1]] = True
    for x, y in config.walls:
        walls[y, x] = True
    return walls


@kernel
def minimap_densities(battle, positions, alive, last_deaths, teams, map_size, density, stored_density):
    """Write battle ``battle``'s ``[2, 169]`` float32 minimaps of red and blue into ``density``,
    without MAgent2's +1, and the same values as the views store them into ``stored_density``.

    The map is binned to 13 x 13 (bins of ``ceil(map_size / 13)`` cells, as MAgent's engine; rows =
    y bins); each bin holds the team's agents in it divided by the team's size. Like MAgent2, which
    observes before removing the dead, agents killed in the last step still count, at their last cell.
    """
    bin_size = -(-map_size // MINIMAP_SIZE)
    counts = np.zeros((2, MINIMAP_SIZE * MINIMAP_SIZE), dtype=np.int64)
    team_sizes = np.zeros(2, dtype=np.int64)
    for slot in range(alive.shape[1]):
        if alive[battle, slot] or last_deaths[battle, slot]:
            team = teams[slot]
            bin_x, bin_y = positions[battle, slot, 0] // bin_size, positions[battle, slot, 1] // bin_size
            counts[team, bin_y * MINIMAP_SIZE + bin_x] += 1
            team_sizes[team] += 1
    for team in range(2):
        for cell in range(MINIMAP_SIZE * MINIMAP_SIZE):
            density[team, cell] = np.float32(counts[team, cell] / max(team_sizes[team], 1))
            stored_density[team, cell] = encode(density[team, cell], stored_density)


@kernel
def feature_row(battle, slot, positions, alive, last_actions, last_rewards, map_size, row):
    """Write agent ``slot``'s 34 features into ``row``: 10 id bits (the slot, least significant bit
    first: MAgent's engine id), last action one-hot (21), last reward, (x, y) / map_size. Zeros if dead.

    Unlike MAgent2, whose observation shows the reward of the step before last, the reward is that of
    the last step.
    """
    row[:] = 0.0
    if not alive[battle, slot]:
        return
    for bit in range(ID_BITS):
        row[bit] = (slot >> bit) & 1
    if last_actions[battle, slot] >= 0:
        row[ID_BITS + last_actions[battle, slot]] = 1.0
    row[ID_BITS + N_ACTIONS] = last_rewards[battle, slot]
    row[ID_BITS + N_ACTIONS + 1] = np.float32(positions[battle, slot, 0] / map_size)
    row[ID_BITS + N_ACTIONS + 2] = np.float32(positions[battle, slot, 1] / map_size)


PAD = VIEW_RADIUS
"""Pictures are the map padded by the view radius on every side (off-map cells read 0)."""


def circle_half_widths() -> np.ndarray:
    """``[13]``: the view circle spans columns ``6 - h .. 6 + h`` of window row ``r`` (``dx^2 + dy^2 <= 36``)."""
    dy = np.arange(VIEW_SIZE) - VIEW_RADIUS
    return np.floor(np.sqrt(VIEW_RADIUS**2 - dy**2) + 1e-9).astype(np.int64)


HALF_WIDTHS = circle_half_widths()


def empty_pictures(
    n_battles: int, config: BattleConfig, walls: np.ndarray, view_dtype: str = "float32", spare_channels: int = 0
) -> np.ndarray:
    """``[B, 2, P, P, C + spare_channels]`` pictures with the walls drawn and no agent (``P = map_size + 12``),
    stored as the views of ``view_dtype`` are (``STORAGE_DTYPES``: float32, or uint16 float16 bit patterns).

    Picture ``[b, t]`` is battle ``b`` seen by team ``t``, with the channels of the view window (the
    spare ones included), so that a window row inside the view circle is one contiguous copy. The
    minimap and spare channels stay 0 here: ``view_window`` writes them over the whole window.
    """
    size = config.map_size
    storage = STORAGE_DTYPES[check_view_dtype(view_dtype)]
    shape = (n_battles, 2, size + 2 * PAD, size + 2 * PAD, config.n_channels + spare_channels)
    pictures = np.zeros(shape, dtype=storage)
    wall = np.array(1.0, dtype=VIEW_DTYPES[view_dtype]).view(storage)  # 1.0 as stored
    pictures[:, :, PAD : PAD + size, PAD : PAD + size, 0] = np.where(walls, wall, storage(0))
    return pictures


@kernel
def draw_agents(battle, positions, hp, alive, teams, max_hp, minimap, pictures, drawn):
    """Redraw battle ``battle``'s agents on its two pictures: clear the cells drawn last time
    (``drawn[b, i]``: flat padded cell, -1 if none), then draw every living agent, as "own" on its
    team's picture and as "enemy" on the other (values stored as ``pictures`` stores them: ``encode``)."""
    picture_size = pictures.shape[2]
    enemy_presence = 4 if minimap else 3
    present = encode(1.0, pictures)
    for slot in range(alive.shape[1]):
        cell = drawn[battle, slot]
        if cell >= 0:
            for team in range(2):
                y, x = cell // picture_size, cell % picture_size
                pictures[battle, team, y, x, 1:] = 0
        drawn[battle, slot] = -1
    for slot in range(alive.shape[1]):
        if not alive[battle, slot]:
            continue
        x, y, team = positions[battle, slot, 0] + PAD, positions[battle, slot, 1] + PAD, teams[slot]
        health = encode(hp[battle, slot] / max_hp, pictures)  # the float32 quotient, then stored
        pictures[battle, team, y, x, 1] = present
        pictures[battle, team, y, x, 2] = health
        pictures[battle, 1 - team, y, x, enemy_presence] = present
        pictures[battle, 1 - team, y, x, enemy_presence + 1] = health
        drawn[battle, slot] = y * picture_size + x


@kernel
def view_window(battle, slot, positions, alive, teams, pictures, n_view, density, stored_density, features, tiled, half_widths, window):
    """Write agent ``slot``'s window, flattened (``[13 * 13 * C]``), into ``window``; zeros if dead.

    Channels (MAgent2's order): wall, own presence, own hp / max_hp, [own minimap], enemy presence,
    enemy hp / max_hp, [enemy minimap] (the ``n_view`` view channels; ``density`` is ``[2, 169]``
    float32, or ``[0, 169]`` without the minimap; ``stored_density`` the same values as ``window``
    stores them), then the features ``tiled`` repeated over the window, then zeros (spare channels).
    Inside the view circle each window row is a copy of a row of its team's picture (``pictures``
    ``[B, 2, P, P, C]``, with the window's channels, stored as ``window``); the minimaps and the tiled
    features then cover the whole window, with MAgent2's +1 at the agent's own bin in both minimaps
    (added in float32, then stored). Flat loops: Numba copies them as fast as ``memcpy``.
    """
    # Indices are unsigned: Numba then skips its negative-index wrap-around, and the copy loops vectorise.
    n_channels = np.uint64(len(window) // (VIEW_SIZE * VIEW_SIZE))
    if not alive[battle, slot]:
        for k in range(len(window)):
            window[k] = 0
        return
    picture_size = pictures.shape[2]
    x, y, team = positions[battle, slot, 0], positions[battle, slot, 1], teams[slot]
    picture = pictures[battle, team].reshape(-1)
    end = np.uint64(0)  # where the last row's circle ended in window
    for row in range(VIEW_SIZE):
        half = half_widths[row]
        first, width = VIEW_RADIUS - half, np.uint64(2 * half + 1)
        target = np.uint64(row * VIEW_SIZE + first) * n_channels
        for k in range(end, target):
            window[k] = 0
        source = np.uint64((y + row) * picture_size + x + first) * n_channels  # padded: map (x + col - 6, y + row - 6)
        for k in range(width * n_channels):
            window[target + k] = picture[source + k]
        end = target + width * n_channels
    for k in range(end, np.uint64(len(window))):
        window[k] = 0
    if density.shape[0] > 0:
        size = picture_size - 2 * PAD
        bin_size = -(-size // MINIMAP_SIZE)
        own_bin = np.uint64((y // bin_size) * MINIMAP_SIZE + x // bin_size)
        for cell in range(np.uint64(MINIMAP_SIZE * MINIMAP_SIZE)):
            window[cell * n_channels + np.uint64(3)] = stored_density[team, cell]
            window[cell * n_channels + np.uint64(6)] = stored_density[1 - team, cell]
        window[own_bin * n_channels + np.uint64(3)] = encode(density[team, own_bin] + np.float32(1.0), window)
        window[own_bin * n_channels + np.uint64(6)] = encode(density[1 - team, own_bin] + np.float32(1.0), window)
    for k in range(len(tiled)):
        value = encode(features[battle, slot, tiled[k]], window)
        channel = np.uint64(n_view + k)
        for cell in range(np.uint64(VIEW_SIZE * VIEW_SIZE)):
            window[cell * n_channels + channel] = value


@kernel(parallel=True)
def write_observations(
    positions, hp, alive, last_actions, last_rewards, last_deaths, teams, max_hp, minimap, n_view, tiled, half_widths,
    pictures, drawn, views, features,
):  # fmt: skip
    """Fill ``views`` ``[B, N, 13, 13, C]`` and ``features`` ``[B, N, 34]`` of every agent (in parallel),
    after redrawing the agents on ``pictures`` (see ``draw_agents``). ``views`` and ``pictures`` share
    one storage type: float32, or uint16 float16 bit patterns; ``features`` are float32."""
    n_battles, n_agents = alive.shape
    map_size = pictures.shape[2] - 2 * PAD
    flat_views = views.reshape(n_battles, n_agents, -1)
    density_shape = (n_battles, 2 if minimap else 0, MINIMAP_SIZE * MINIMAP_SIZE)
    density = np.zeros(density_shape, dtype=np.float32)
    stored_density = np.zeros(density_shape, dtype=pictures.dtype)
    for battle in prange(n_battles):
        draw_agents(battle, positions, hp, alive, teams, max_hp, minimap, pictures, drawn)
        if minimap:
            minimap_densities(battle, positions, alive, last_deaths, teams, map_size, density[battle], stored_density[battle])
    for agent in prange(n_battles * n_agents):
        battle, slot = agent // n_agents, agent % n_agents
        feature_row(battle, slot, positions, alive, last_actions, last_rewards, map_size, features[battle, slot])
        view_window(
            battle, slot, positions, alive, teams, pictures, n_view, density[battle], stored_density[battle], features,
            tiled, half_widths, flat_views[battle, slot],
        )  # fmt: skip


def observations(
    state: BattleState,
    config: BattleConfig,
    teams: np.ndarray,
    pictures: np.ndarray,
    drawn: np.ndarray,
    tiled: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(views, features)`` of every agent: ``[B, N, 13, 13, C + spare]`` and ``[B, N, 34]`` float32.

    The views have the dtype and the channels the ``pictures`` were made for (``empty_pictures(...,
    view_dtype, spare_channels)``): float32, or float16 (a ``np.float16`` view of the uint16 bit
    patterns the kernels write).

    Views: wall, own presence, own hp / max_hp, [own minimap], enemy presence, enemy hp / max_hp,
    [enemy minimap], then the spare channels, which repeat the features ``tiled`` (indices into the
    34) and hold zeros after them. The agent sees itself at the centre (6, 6). Dead agents: zeros.
    ``pictures`` and ``drawn`` (``[B, N]`` int64, -1 at first) are the caller's scratch, kept between
    calls so that only the agents' cells are redrawn.
    """
    n_battles, n_agents = state.alive.shape
    views = np.empty((n_battles, n_agents, VIEW_SIZE, VIEW_SIZE, pictures.shape[4]), dtype=pictures.dtype)
    features = np.empty((n_battles, n_agents, config.n_features), dtype=np.float32)
    tiled = np.zeros(0, dtype=np.int64) if tiled is None else tiled
    write_observations(
        state.positions, state.hp, state.alive, state.last_actions, state.last_rewards, state.last_deaths, teams,
        np.float32(config.max_hp), config.minimap_mode, config.n_channels, tiled, HALF_WIDTHS, pictures, drawn, views,
        features,
    )  # fmt: skip
    if views.dtype == np.uint16:
        views = views.view(np.float16)
    return views, features


@kernel(parallel=True)
def write_action_masks(positions, alive, occupant, teams, walls, masks):
    """``masks[b, i, a]``: move ``a`` leads to a free cell on the map (stay always), attack ``a`` aims at an enemy."""
    n_battles, n_agents = alive.shape
    size = walls.shape[0]
    for agent in prange(n_battles * n_agents):
        battle, slot = agent // n_agents, agent % n_agents
        mask = masks[battle, slot]
        mask[:] = False
        if not alive[battle, slot]:
            continue
        x, y = positions[battle, slot, 0], positions[battle, slot, 1]
        for action in range(N_ACTIONS):
            if action < N_MOVES:
                to_x, to_y = x + MOVE_DX[action], y + MOVE_DY[action]
            else:
                to_x, to_y = x + ATTACK_DX[action], y + ATTACK_DY[action]
            if not (0 <= to_x < size and 0 <= to_y < size):
                continue
            other = occupant[battle, to_y, to_x]
            if action < N_MOVES:
                mask[action] = action == STAY or (not walls[to_y, to_x] and other == EMPTY)
            else:
                mask[action] = other != EMPTY and teams[other] != teams[slot]


def action_masks(state: BattleState, config: BattleConfig, teams: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """``[B, N, 21]`` bool: legal-and-useful actions right now.

    A move is masked when its destination is off the map, a wall or occupied (stay is always
    allowed); an attack is masked when no enemy stands on its target cell. Dead agents: all False.
    """
    masks = np.empty((*state.alive.shape, N_ACTIONS), dtype=bool)
    write_action_masks(state.positions, state.alive, state.occupant, teams, walls, masks)
    return masks


def state_map(state: BattleState, config: BattleConfig, teams: np.ndarray, walls: np.ndarray, battle: int) -> np.ndarray:
    """``[H, W, 5]`` float32 indexed [y, x]: walls, red presence, red hp, blue presence, blue hp."""
    out = np.zeros((config.map_size, config.map_size, 5), dtype=np.float32)
    out[..., 0] = walls
    slot = np.flatnonzero(state.alive[battle])
    x, y = state.positions[battle, slot, 0], state.positions[battle, slot, 1]
    out[y, x, 1 + 2 * teams[slot]] = 1.0
    out[y, x, 2 + 2 * teams[slot]] = state.hp[battle, slot] / np.float32(config.max_hp)
    return out
