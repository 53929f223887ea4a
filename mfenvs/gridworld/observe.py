"""What agents see: view windows, minimap, feature vector, action masks and the global state.

The view of an agent at ``(x, y)`` is ``view[row, col] = map[y + row - r, x + col - r]`` inside the
circle of its type's view radius ``r`` (6 in Battle); off-map cells and cells outside the circle read 0 in
every channel. In a game whose types see different distances (tiger-deer: 1 and 4) every view is the
largest type's window, ``2 R + 1`` cells square, with the agent at its centre: a smaller view is the
window's middle ``2 r + 1`` cells, zeros around it. Channels are MAgent's: the wall, then one block per group (presence, hp / max_hp,
[minimap]), rotated so that an observer of group ``g`` sees group ``(g + k) mod G`` in block ``k``
(``GridWorld::group2channel``): its own group first. The views,
features and action masks are compiled kernels over every agent of every battle (``prange`` over
agents: each writes only its own rows, so the thread count does not change a bit), and each kernel
writes every element of its output (the views: every element a reused buffer does not already hold),
so the outputs are allocated with ``np.empty``.

Views are float32, or float16 on request (``view_dtype``): half the bytes written per agent-step, where
memory bandwidth bounds the step. Numba cannot type float16 arrays, so float16 pictures and views are
uint16 arrays of float16 bit patterns (``mfenvs.common.half``), viewed as ``np.float16`` on return. The
values are converted where they are made (agents drawn, minimap densities, the minimap's +1, tiled
features; each computed in float32 first), so a float16 view is exactly the float32 view cast to
float16, and the window copy stays a plain copy. Features are float32 either way.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from mfenvs.common.half import encode
from mfenvs.common.jit import kernel
from mfenvs.common.validation import check_choice
from mfenvs.gridworld.game import Game
from mfenvs.gridworld.rules import body_fits
from mfenvs.gridworld.state import EMPTY, GridState

ROW_UNKNOWN, ROW_ZERO, ROW_CLEAN = 0, 1, 2
"""What a row of a views buffer holds: anything (a new buffer), zeros (a dead agent's), or a living agent's
window (zeros outside its view circle but in the minimap and tiled channels)."""
VIEW_DTYPES = {"float32": np.float32, "float16": np.float16}
"""The view dtypes a ``BattleCore`` offers, by name; float32 is the default."""
STORAGE_DTYPES = {"float32": np.float32, "float16": np.uint16}
"""What the kernels write for each view dtype: float16 as its bit patterns (Numba has no float16 arrays)."""


def check_view_dtype(view_dtype: str) -> str:
    """Validate a ``view_dtype`` option: ``"float32"`` (the default) or ``"float16"``."""
    return check_choice("view_dtype", view_dtype, tuple(VIEW_DTYPES))


@kernel
def minimap_densities(battle, positions, alive, last_deaths, slot_group, map_size, minimap_size, density, stored_density):
    """Write game ``battle``'s ``[G, M * M]`` float32 minimaps of every group into ``density``,
    without MAgent2's +1, and the same values as the views store them into ``stored_density``.

    The map is binned to M x M (M = the view size; bins of ``ceil(map_size / M)`` cells, as MAgent's
    engine; rows = y bins); each bin holds the group's agents in it divided by the group's size. Like
    MAgent2, which observes before removing the dead, agents killed in the last step still count, at
    their last cell.
    """
    n_groups = density.shape[0]
    bin_size = -(-map_size // minimap_size)
    counts = np.zeros((n_groups, minimap_size * minimap_size), dtype=np.int64)
    group_sizes = np.zeros(n_groups, dtype=np.int64)
    for slot in range(alive.shape[1]):
        if alive[battle, slot] or last_deaths[battle, slot]:
            group = slot_group[slot]
            bin_x, bin_y = positions[battle, slot, 0] // bin_size, positions[battle, slot, 1] // bin_size
            counts[group, bin_y * minimap_size + bin_x] += 1
            group_sizes[group] += 1
    for group in range(n_groups):
        for cell in range(minimap_size * minimap_size):
            density[group, cell] = np.float32(counts[group, cell] / max(group_sizes[group], 1))
            stored_density[group, cell] = encode(density[group, cell], stored_density)


@numba.njit(cache=True, nogil=True, inline="always")
def feature_row(battle, slot, positions, alive, last_actions, last_rewards, map_size, n_actions, id_bits, row):
    """Write agent ``slot``'s features into ``row``: ``id_bits`` id bits (10 but in gather, which has
    none: the slot, least significant bit first: MAgent's engine id), last action one-hot
    (``n_actions``: its type's actions), last reward, (x, y) / map_size, then zeros up to the longest
    type's features (MAgent's layout per type). Zeros if dead.

    Unlike MAgent2, whose observation shows the reward of the step before last, the reward is that of
    the last step.
    """
    row[:] = 0.0
    if not alive[battle, slot]:
        return
    for bit in range(id_bits):
        row[bit] = (slot >> bit) & 1
    if last_actions[battle, slot] >= 0:
        row[id_bits + last_actions[battle, slot]] = 1.0
    row[id_bits + n_actions] = last_rewards[battle, slot]
    row[id_bits + n_actions + 1] = np.float32(positions[battle, slot, 0] / map_size)
    row[id_bits + n_actions + 2] = np.float32(positions[battle, slot, 1] / map_size)


def circle_half_widths(radius: int, parity: int = 1) -> np.ndarray:
    """``[2 r + parity]``: the view circle spans columns ``r - h .. r + h - 1 + parity`` of window row ``k``.

    Odd windows (``parity`` 1, bodies of odd width): ``dx^2 + dy^2 <= r^2`` around the centre cell.
    Even windows (``parity`` 0, a 2 x 2 body's 10 x 10): MAgent's ``CircleRange`` with ``delta`` 0.5,
    distances from the point between the four middle cells, ``h`` cells on each side of it.
    """
    if parity == 1:
        dy = np.arange(2 * radius + 1) - radius
        return np.floor(np.sqrt(radius**2 - dy**2) + 1e-9).astype(np.int64)
    dy = np.abs(np.arange(2 * radius) - radius + 0.5)
    return np.floor(np.sqrt(np.maximum(radius**2 - dy**2, 0.0)) + 0.5 + 1e-8).astype(np.int64)


def empty_pictures(
    n_battles: int, game: Game, walls: np.ndarray, view_dtype: str = "float32", spare_channels: int = 0
) -> np.ndarray:
    """``[B, G, P, P, C + spare_channels]`` pictures with the walls drawn and no agent (``P = map_size + 2 r``,
    ``r`` the game's largest view radius), stored as the views of ``view_dtype`` are (``STORAGE_DTYPES``:
    float32, or uint16 float16 bit patterns). ``walls``: ``[H, W]`` (every game's) or ``[B, H, W]``.

    Picture ``[b, g]`` is game ``b`` seen by group ``g``, with the channels of the view window (the
    spare ones included), so that a window row inside the view circle is one contiguous copy. The
    minimap and spare channels stay 0 here: ``view_window`` writes them over the whole window.
    """
    size, pad = game.map_size, game.view_radius
    storage = STORAGE_DTYPES[check_view_dtype(view_dtype)]
    shape = (n_battles, game.n_groups, size + 2 * pad, size + 2 * pad, game.n_view_channels + spare_channels)
    pictures = np.zeros(shape, dtype=storage)
    walls = np.broadcast_to(walls, (n_battles, size, size))
    for battle in range(n_battles):
        draw_walls(pictures, battle, walls[battle], pad)
    return pictures


def draw_walls(pictures: np.ndarray, battle: int, walls: np.ndarray, pad: int) -> None:
    """Write game ``battle``'s ``[H, W]`` walls into the wall channel of its pictures (padding ``pad``)."""
    size = walls.shape[0]
    storage = pictures.dtype
    wall = np.array(1.0, dtype=np.float16 if storage == np.uint16 else np.float32).view(storage)  # 1.0 as stored
    pictures[battle, :, pad : pad + size, pad : pad + size, 0] = np.where(walls, wall, storage.type(0))


@kernel
def draw_agents(battle, positions, hp, alive, slot_type, slot_group, groups, max_hp, widths, block_width, pad, pictures, drawn):
    """Redraw game ``battle``'s agents on its G pictures: clear the cells drawn last time
    (``drawn[b, i]``: flat padded cell, -1 if none), then draw every living agent on every group's
    picture, in block ``(its group - observer's group) mod G`` (values stored as ``pictures`` stores
    them: ``encode``). ``groups`` is the tuple ``(0, .., G - 1)`` (see ``view_window``). A body wider
    than 1 (``widths``) is drawn on each of its cells (MAgent's views show every body cell); ``drawn``
    holds its top-left cell."""
    n_groups, picture_size = len(groups), pictures.shape[2]
    present = encode(1.0, pictures)
    for slot in range(alive.shape[1]):
        cell = drawn[battle, slot]
        if cell >= 0:
            width = widths[slot_type[slot]]
            y, x = cell // picture_size, cell % picture_size
            if width == 1:
                for observer in range(n_groups):
                    pictures[battle, observer, y, x, 1:] = 0
            else:
                for observer in range(n_groups):
                    pictures[battle, observer, y : y + width, x : x + width, 1:] = 0
        drawn[battle, slot] = -1
    for slot in range(alive.shape[1]):
        if not alive[battle, slot]:
            continue
        x, y, group = positions[battle, slot, 0] + pad, positions[battle, slot, 1] + pad, slot_group[slot]
        health = encode(hp[battle, slot] / max_hp[slot_type[slot]], pictures)  # the float32 quotient, then stored
        for observer in range(n_groups):
            block = group - observer if group >= observer else group - observer + n_groups
            channel = 1 + block * block_width
            pictures[battle, observer, y, x, channel] = present
            pictures[battle, observer, y, x, channel + 1] = health
        drawn[battle, slot] = y * picture_size + x
        width = widths[slot_type[slot]]
        if width > 1:  # the body's other cells too
            for observer in range(n_groups):
                block = group - observer if group >= observer else group - observer + n_groups
                channel = 1 + block * block_width
                pictures[battle, observer, y : y + width, x : x + width, channel] = present
                pictures[battle, observer, y : y + width, x : x + width, channel + 1] = health


@numba.njit(cache=True, nogil=True, inline="always")
def view_window(
    battle, slot, positions, alive, slot_group, groups, pictures, pad, n_view, density, stored_density, features, tiled,
    half_widths, out_size, clean, eye, window,
):  # fmt: skip
    """Write agent ``slot``'s window, flattened (``[W * W * C]``, W = ``out_size``), into ``window``; zeros if dead.

    ``clean``: ``window`` holds zeros everywhere a living agent's window does, but in the minimap and
    tiled channels, which are rewritten anyway (a reused buffer row of this slot, ``ROW_CLEAN`` or
    ``ROW_ZERO``): only the cells that can change are written then.

    The agent's own view (V = 2 r + 1 = ``len(half_widths)`` cells square) sits at the centre of the
    W x W window (``offset = (W - V) / 2``; W = V unless the game has types with larger views), the
    cells around it zero. Channels (MAgent2's order): wall, then per group block (its own group first)
    presence, hp / max_hp, [minimap] (the ``n_view`` view channels; ``density`` is ``[G, V * V]``
    float32, the map binned to V x V, or ``[0, ...]`` without the minimap; ``stored_density`` the same
    values as ``window`` stores them), then the features ``tiled`` (indices into the features, -1 for a
    zero channel) repeated over the view, then zeros (spare channels). Inside the view circle each
    window row is a copy of a row of its group's picture (``pictures`` ``[B, G, P, P, C]``, padded by
    ``pad`` >= r, with the window's channels, stored as ``window``); the minimaps and the tiled features
    then cover the whole view, with MAgent2's +1 at the agent's own bin in every minimap (added in
    float32, then stored). Flat loops: Numba copies them as fast as ``memcpy``.

    ``eye``: the view's centre from the agent's position (its top-left cell), MAgent's ``view_x_offset``
    = ``width // 2``: 0 for a 1 x 1 body, 1 for a 2 x 2 one, whose even (``2 r``) window runs from
    ``eye - r`` to ``eye + r - 1`` (a row spans ``2 h`` cells, ``circle_half_widths(r, 0)``). The
    minimap bins by the position, as MAgent's.

    ``groups`` (``(0, .., G - 1)``) and ``half_widths`` are tuples: their lengths, G and the view size,
    are then compile-time constants (one compilation per game shape, cached), and the loops over
    them unroll. With both as run-time numbers the views took up to twice as long.
    """
    # Indices are unsigned: Numba then skips its negative-index wrap-around, and the copy loops vectorise.
    view_size = len(half_widths)
    radius = view_size // 2
    parity = view_size % 2
    offset = (out_size - view_size) // 2
    n_channels = np.uint64(len(window)) // np.uint64(out_size * out_size)
    if not alive[battle, slot]:
        for k in range(len(window)):
            window[k] = 0
        return
    picture_size = pictures.shape[2]
    x, y, group = positions[battle, slot, 0], positions[battle, slot, 1], slot_group[slot]
    picture = pictures[battle, group].reshape(-1)
    shift = pad - radius  # the picture's padding beyond this view's radius
    origin = (y + eye + shift) * picture_size + x + eye + shift  # map (x + eye - r, y + eye - r) in the picture
    end = np.uint64(0)  # where the last row's circle ended in window
    for row in range(view_size):
        half = half_widths[row]
        first, width = radius - half, np.uint64(2 * half + parity)
        target = np.uint64((row + offset) * out_size + offset + first) * n_channels
        if not clean:
            for k in range(end, target):
                window[k] = 0
        source = np.uint64(origin + row * picture_size + first) * n_channels  # map (x + eye + col - r, y + eye + row - r)
        for k in range(width * n_channels):
            window[target + k] = picture[source + k]
        end = target + width * n_channels
    if not clean:
        for k in range(end, np.uint64(len(window))):
            window[k] = 0
    n_groups = len(groups)
    if density.shape[0] > 0:
        size = picture_size - 2 * pad
        bin_size = -(-size // view_size)
        own_row, own_col = y // bin_size, x // bin_size
        for row in range(view_size):
            for col in range(view_size):
                cell = np.uint64((row + offset) * out_size + col + offset)
                for block in range(n_groups):  # a constant trip count: unrolled
                    shown = group + block if group + block < n_groups else group + block - n_groups
                    window[cell * n_channels + np.uint64(3 + 3 * block)] = stored_density[shown, row * view_size + col]
        own_cell = np.uint64((own_row + offset) * out_size + own_col + offset)
        for block in range(n_groups):
            shown = group + block if group + block < n_groups else group + block - n_groups
            channel = own_cell * n_channels + np.uint64(3 + 3 * block)
            window[channel] = encode(density[shown, own_row * view_size + own_col] + np.float32(1.0), window)
    for k in range(len(tiled)):
        value = encode(features[battle, slot, tiled[k]] if tiled[k] >= 0 else np.float32(0.0), window)
        channel = np.uint64(n_view + k)
        for row in range(view_size):
            for col in range(view_size):
                window[np.uint64((row + offset) * out_size + col + offset) * n_channels + channel] = value


@kernel(parallel=True)
def write_observations(
    positions, hp, alive, last_actions, last_rewards, last_deaths, slot_type, slot_group, groups, max_hp, n_actions,
    view_sizes, widths, minimap, n_view, tiled, half_widths, pad, pictures, drawn, views, row_states, features, density,
    stored_density, size_index, first_pass, id_bits, observed,
):  # fmt: skip
    """Fill ``views`` ``[B, N, W, W, C]`` of the agents whose type's view is ``len(half_widths)`` cells
    square (``view_sizes`` ``[T]``: each type's), in parallel; on the ``first_pass`` first redraw the
    agents on ``pictures`` (see ``draw_agents``), bin every view size's minimaps and write every agent's
    ``features`` ``[B, N, F]``. ``tiled`` is ``[T, K]``: each type's tiled feature columns (-1: a zero
    channel); ``n_actions`` each type's action count. ``density`` / ``stored_density`` ``[B, S, G, M * M]``:
    the minimaps of each distinct view size (``size_index[T]``: a type's; sizes in ``half_widths`` order
    of the passes). ``row_states`` ``[B, N]`` int8 says what each row of ``views`` holds (a reused
    buffer): ``ROW_UNKNOWN``, ``ROW_ZERO`` (a dead agent's zeros: not written again while it stays
    dead) or ``ROW_CLEAN`` (a living agent's window: only the cells that can change are written); the
    states are updated; ``id_bits``: the game's (``Game.id_bits``); ``observed`` ``[N]`` bool: the slots
    whose views are made (the others, a passive group's, get zeros, written once per buffer, as a dead
    agent's). ``views`` and ``pictures`` share one storage type: float32, or uint16 float16 bit patterns;
    ``features`` are float32. ``groups`` and ``half_widths`` are tuples (see ``view_window``)."""
    n_battles, n_agents = alive.shape
    view_size = len(half_widths)
    out_size = views.shape[2]
    map_size = pictures.shape[2] - 2 * pad
    flat_views = views.reshape(n_battles, n_agents, -1)
    block_width = 3 if minimap else 2
    if first_pass:
        for battle in prange(n_battles):
            draw_agents(battle, positions, hp, alive, slot_type, slot_group, groups, max_hp, widths, block_width, pad, pictures, drawn)
            if minimap:
                for kind in range(len(view_sizes)):
                    size = view_sizes[kind]
                    index = size_index[kind]
                    minimap_densities(
                        battle, positions, alive, last_deaths, slot_group, map_size, size,
                        density[battle, index, :, : size * size], stored_density[battle, index, :, : size * size],
                    )  # fmt: skip
    for agent in prange(n_battles * n_agents):
        battle, slot = agent // n_agents, agent % n_agents
        kind = slot_type[slot]
        if first_pass:
            feature_row(
                battle, slot, positions, alive, last_actions, last_rewards, map_size, n_actions[kind], id_bits, features[battle, slot]
            )
        if not observed[slot]:  # a passive group's slot (gather's food): nobody reads its view
            if row_states[battle, slot] != ROW_ZERO:
                flat_views[battle, slot, :] = 0
                row_states[battle, slot] = ROW_ZERO
            continue
        if view_sizes[kind] != view_size:
            continue
        state = row_states[battle, slot]
        if alive[battle, slot] or state != ROW_ZERO:  # a dead agent's zeros are written once per buffer
            view_window(
                battle, slot, positions, alive, slot_group, groups, pictures, pad, n_view,
                density[battle, size_index[kind]], stored_density[battle, size_index[kind]],
                features, tiled[kind], half_widths, out_size, alive[battle, slot] and state != ROW_UNKNOWN,
                widths[kind] // 2, flat_views[battle, slot],
            )  # fmt: skip
        row_states[battle, slot] = ROW_CLEAN if alive[battle, slot] else ROW_ZERO


def observations(
    state: GridState,
    game: Game,
    tables,
    half_widths: tuple[tuple[int, ...], ...],
    pictures: np.ndarray,
    drawn: np.ndarray,
    tiled: np.ndarray | None = None,
    buffer: tuple[np.ndarray, np.ndarray] | None = None,
    observed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(views, features)`` of every agent: ``[B, N, W, W, C + spare]`` and ``[B, N, F]`` float32.

    The views have the dtype and the channels the ``pictures`` were made for (``empty_pictures(...,
    view_dtype, spare_channels)``): float32, or float16 (a ``np.float16`` view of the uint16 bit
    patterns the kernels write). W is the game's largest view (``Game.view_size``); a type with a
    smaller view has it at the centre, zeros around (``half_widths``: the circle of each distinct view
    size, largest first, one pass each).

    Views: wall, then per group block (own group first) presence, hp / max_hp, [minimap], then the
    spare channels, which repeat the features ``tiled`` (``[T, K]``: per agent type, indices into the
    F, -1 for a zero channel) and hold zeros after them. The agent sees itself at the centre (r, r). Dead agents: zeros. ``pictures`` and ``drawn``
    (``[B, N]`` int64, -1 at first) are the caller's scratch, kept between calls so that only the
    agents' cells are redrawn. ``buffer``: ``(views storage, row_states)`` to write the views into
    (``empty_views``; a reused one skips the cells known to hold zeros already), else a new one.
    ``observed``: ``[N]`` bool, the slots whose views are made (the others read zeros); every slot if None.
    """
    n_battles, n_agents = state.alive.shape
    views, row_states = buffer if buffer is not None else empty_views(n_battles, n_agents, game.view_size, pictures)
    features = np.empty((n_battles, n_agents, game.n_features), dtype=np.float32)
    tiled = np.zeros((len(game.types), 0), dtype=np.int64) if tiled is None else tiled
    observed = np.ones(n_agents, dtype=bool) if observed is None else observed
    sizes = [len(widths) for widths in half_widths]
    size_index = np.array([sizes.index(size) for size in tables.view_sizes.tolist()], dtype=np.int64)
    # without the minimap, one empty [0, M * M] block per game: view_window reads no density then
    n_groups = game.n_groups if game.minimap_mode else 0
    density_shape = (n_battles, len(sizes), n_groups, game.view_size * game.view_size)
    density = np.zeros(density_shape, dtype=np.float32)
    stored_density = np.zeros(density_shape, dtype=pictures.dtype)
    for index, widths in enumerate(half_widths):
        write_observations(
            state.positions, state.hp, state.alive, state.last_actions, state.last_rewards, state.last_deaths,
            tables.slot_type, tables.slot_group, tuple(range(game.n_groups)), tables.max_hp, tables.n_actions,
            tables.view_sizes, tables.widths, game.minimap_mode, game.n_view_channels, tiled, widths, game.view_radius,
            pictures, drawn, views, row_states, features, density, stored_density, size_index, index == 0, game.id_bits,
            observed,
        )  # fmt: skip
    if views.dtype == np.uint16:
        views = views.view(np.float16)
    return views, features


def empty_views(n_battles: int, n_agents: int, view_size: int, pictures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A new ``(views storage [B, N, V, V, C], row_states [B, N])`` for ``observations``: uninitialised,
    every row ``ROW_UNKNOWN``."""
    views = np.empty((n_battles, n_agents, view_size, view_size, pictures.shape[4]), dtype=pictures.dtype)
    return views, np.full((n_battles, n_agents), ROW_UNKNOWN, dtype=np.int8)


@kernel(parallel=True)
def write_action_masks(
    slot_type, slot_group, n_moves, n_actions, stay, action_dx, action_dy, attack_in_group, widths, positions, alive, occupant, walls, masks
):  # fmt: skip
    """``masks[b, i, a]``: move ``a`` leads to a free cell on the map (stay always; a wider body: a free
    area, ``rules.body_fits``), attack ``a`` aims at an agent it can hit; actions beyond the slot's
    type's are False. (The tables come one by one: as one tuple argument Numba reloads their arrays in the loop.)"""
    n_battles, n_agents = alive.shape
    size = walls.shape[1]
    for agent in prange(n_battles * n_agents):
        battle, slot = agent // n_agents, agent % n_agents
        mask = masks[battle, slot]
        mask[:] = False
        if not alive[battle, slot]:
            continue
        kind = slot_type[slot]
        x, y = positions[battle, slot, 0], positions[battle, slot, 1]
        for action in range(n_actions[kind]):
            to_x, to_y = x + action_dx[kind, action], y + action_dy[kind, action]
            if not (0 <= to_x < size and 0 <= to_y < size):
                continue
            other = occupant[battle, to_y, to_x]
            if action < n_moves[kind] and widths[kind] > 1:
                mask[action] = action == stay[kind] or body_fits(battle, slot, to_x, to_y, widths[kind], walls, occupant)
            elif action < n_moves[kind]:
                mask[action] = action == stay[kind] or (not walls[battle, to_y, to_x] and other == EMPTY)
            else:
                mask[action] = other != EMPTY and (slot_group[other] != slot_group[slot] or attack_in_group[kind])


def action_masks(state: GridState, game: Game, tables, walls: np.ndarray) -> np.ndarray:
    """``[B, N, A]`` bool: legal-and-useful actions right now (``walls``: ``[B, H, W]``, each game's).

    A move is masked when its destination is off the map, a wall or occupied (stay is always
    allowed); an attack is masked when no agent it can hit stands on its target cell. Dead agents: all False.
    """
    masks = np.empty((*state.alive.shape, game.max_actions), dtype=bool)
    t = tables
    write_action_masks(
        t.slot_type, t.slot_group, t.n_moves, t.n_actions, t.stay, t.action_dx, t.action_dy, t.attack_in_group, t.widths,
        state.positions, state.alive, state.occupant, walls, masks,
    )  # fmt: skip
    return masks


def state_map(state: GridState, game: Game, tables, walls: np.ndarray, battle: int) -> np.ndarray:
    """``[H, W, 1 + 2 G]`` float32 indexed [y, x]: walls, then per group (in group order) presence and hp / max_hp,
    at each agent's position only (a 2 x 2 body's top-left cell, as MAgent2's ``state()``)."""
    out = np.zeros((game.map_size, game.map_size, 1 + 2 * game.n_groups), dtype=np.float32)
    out[..., 0] = walls
    slot = np.flatnonzero(state.alive[battle])
    x, y = state.positions[battle, slot, 0], state.positions[battle, slot, 1]
    groups = tables.slot_group[slot]
    out[y, x, 1 + 2 * groups] = 1.0
    out[y, x, 2 + 2 * groups] = state.hp[battle, slot] / tables.max_hp[tables.slot_type[slot]]
    return out
