"""What agents see: view windows, minimap, feature vector, action masks and the global state.

All functions read a ``BattleState`` and return fresh arrays for all B battles and N slots at once.
The view of an agent at ``(x, y)`` is ``view[row, col] = map[y + row - 6, x + col - 6]`` inside the
circle of radius 6; off-map cells and cells outside the circle read 0 in every channel.
"""

from __future__ import annotations

import numpy as np

from mfenvs.battle.config import ID_BITS, MINIMAP_SIZE, N_ACTIONS, N_MOVES, STAY, VIEW_RADIUS, VIEW_SIZE, BattleConfig
from mfenvs.battle.rules import attack_targets, move_destinations
from mfenvs.battle.state import EMPTY, BattleState

PAD = VIEW_RADIUS


def wall_map(config: BattleConfig) -> np.ndarray:
    """``[H, W]`` bool: the border ring plus the configured interior walls."""
    walls = np.zeros((config.map_size, config.map_size), dtype=bool)
    walls[[0, -1], :] = True
    walls[:, [0, -1]] = True
    for x, y in config.walls:
        walls[y, x] = True
    return walls


def _channel_layout(minimap: bool) -> tuple[int, int, int, int, int]:
    """Channel indices ``(own presence, own hp, enemy presence, enemy hp, n_channels)``; wall is 0."""
    return (1, 2, 4, 5, 7) if minimap else (1, 2, 3, 4, 5)


class ViewBuilder:
    """Builds the view windows of every agent of B battles; holds what does not change between steps.

    Each step draws two pictures of every battle, one from each team's side (own channels vs enemy
    channels), padded by the view radius. A window is then 13 row segments of 13 cells x C channels,
    each contiguous in its picture; one fancy index over the segments, seen as opaque items, copies
    13 blocks per agent instead of 169 single cells. The 14 runs of cells outside the view circle are
    zeroed afterwards.
    """

    def __init__(self, config: BattleConfig, teams: np.ndarray, walls: np.ndarray, n_battles: int, spare_channels: int = 0):
        self.map_size = config.map_size
        self.max_hp = np.float32(config.max_hp)
        self.minimap_mode = config.minimap_mode
        self.teams = teams
        self.n_red = int(np.count_nonzero(teams == 0))
        self.own_presence, _, self.enemy_presence, _, n_view = _channel_layout(config.minimap_mode)
        self.n_channels = n_view + spare_channels
        size, padded = config.map_size, config.map_size + 2 * PAD
        self.padded = padded
        pictures = np.zeros((2, n_battles, padded, padded, self.n_channels), dtype=np.float32)
        pictures[:, :, PAD : PAD + size, PAD : PAD + size, 0] = walls
        # cells of all pictures, row-major; kept between calls, with last call's agent cells cleared
        self.cells = pictures.reshape(-1, self.n_channels)
        self._drawn = np.zeros(0, dtype=np.int64)
        self.window_rows = np.arange(VIEW_SIZE) * padded
        self.outside_circle = _outside_circle_runs(self.n_channels)
        # first picture row of each (battle, slot)'s own-side picture, and the cell shift to the other side's
        battles = np.arange(n_battles)[:, None]
        self.own_picture = (teams[None, :] * n_battles + battles) * padded
        self.to_other_picture = np.repeat((1 - 2 * teams[None, :]) * n_battles * padded * padded, n_battles, axis=0)
        self.centre = PAD * padded + PAD
        self.presence_channels = np.array([[self.own_presence], [self.enemy_presence]])

    def _segments(self) -> np.ndarray:
        """``segments[i]``: the 13 cells x C channels starting at cell ``i``, as one opaque item.

        Overlapping items share the memory of ``cells``, so a fancy index copies a window row with
        one memcpy. The view is made on each call, never stored: a stored alias of ``cells`` would
        become an independent array in a deep copy or a pickle (and the copy would see no agents).
        """
        cells = self.cells
        segment = np.dtype((np.void, VIEW_SIZE * self.n_channels * cells.itemsize))
        return np.ndarray(shape=(len(cells) - VIEW_SIZE + 1,), dtype=segment, buffer=cells, strides=(cells.strides[0],))

    def views(self, state: BattleState) -> np.ndarray:
        """``[B, N, 13, 13, C + spare]`` float32 windows in MAgent2's channel order; dead agents get zeros.

        Channels: wall, own presence, own hp / max_hp, [own minimap], enemy presence, enemy hp /
        max_hp, [enemy minimap], then the spare channels (zeros, for the caller to fill: the env
        tiles the feature vector there as MAgent2 does). The agent sees itself at the centre (6, 6).
        """
        n_battles, n_agents = state.alive.shape
        padded, n_channels = self.padded, self.n_channels
        cells = self.cells
        cells[self._drawn, 1:] = 0.0
        alive = state.alive
        x, y = state.positions[..., 0], state.positions[..., 1]
        first_cell = (self.own_picture + y) * padded + x  # the window's top-left cell in the own-side picture
        # each living agent appears in its own team's picture as "own" and in the other's as "enemy"
        own_centre = (first_cell + self.centre)[alive]
        drawn = np.stack([own_centre, own_centre + self.to_other_picture[alive]])  # [2, n_alive]
        cells[drawn, self.presence_channels] = 1.0
        cells[drawn, self.presence_channels + 1] = state.hp[alive] / self.max_hp
        self._drawn = drawn

        out = self._segments()[first_cell[..., None] + self.window_rows].view(np.float32)  # [B, N, 13 * 13 * C]
        for start, stop in self.outside_circle:
            out[..., start:stop] = 0.0
        out = out.reshape(n_battles, n_agents, VIEW_SIZE, VIEW_SIZE, n_channels)
        if self.minimap_mode:
            self._add_minimaps(state, out.reshape(n_battles, n_agents, VIEW_SIZE * VIEW_SIZE, n_channels))
        if not alive.all():
            out[~alive] = 0.0
        return out

    def _add_minimaps(self, state: BattleState, out: np.ndarray) -> None:
        """Write the own (channel 3) and enemy (channel 6) minimaps into ``out`` ``[B, N, 169, C]``."""
        density = minimap_densities(state, self.map_size, self.teams)  # [B, 2, 169]
        n_red = self.n_red
        for slots, own in ((slice(None, n_red), 0), (slice(n_red, None), 1)):  # red slots, then blue
            out[:, slots, :, 3] = density[:, own, None]
            out[:, slots, :, 6] = density[:, 1 - own, None]
        battle, slot = np.nonzero(state.alive)
        bins = minimap_bins(state.positions[battle, slot], self.map_size)
        own_bin = bins[:, 1] * MINIMAP_SIZE + bins[:, 0]
        out[battle, slot, own_bin, 3] += 1.0
        out[battle, slot, own_bin, 6] += 1.0


def _outside_circle_runs(n_channels: int) -> list[tuple[int, int]]:
    """``(start, stop)`` runs of a flattened ``[13, 13, C]`` window that lie outside the view circle.

    The right end of one window row and the left end of the next are adjacent in memory, so the
    56 cells outside the circle form 14 runs.
    """
    offsets = np.arange(VIEW_SIZE) - VIEW_RADIUS
    outside = (offsets[:, None] ** 2 + offsets[None, :] ** 2 > VIEW_RADIUS**2).reshape(-1)
    edges = np.flatnonzero(np.diff(np.r_[False, outside, False]))
    return [(int(start) * n_channels, int(stop) * n_channels) for start, stop in edges.reshape(-1, 2)]


def minimap_bins(coordinates: np.ndarray, map_size: int) -> np.ndarray:
    """The minimap bin of map coordinates: bins of ``ceil(map_size / 13)`` cells, as MAgent's engine."""
    return coordinates // -(-map_size // MINIMAP_SIZE)


def minimap_densities(state: BattleState, map_size: int, teams: np.ndarray) -> np.ndarray:
    """``[B, 2, 169]`` float32 minimap of each battle's red and blue team, without MAgent2's +1.

    The map is binned to 13 x 13 (rows = y bins); each bin holds the team's agents in it divided by
    the team's size. Like MAgent2, which observes before removing the dead, agents killed in the
    last step still count, at their last cell. MAgent2 then adds +1 at the observer's own bin in
    both channels (``ViewBuilder`` does that).
    """
    n_battles = state.alive.shape[0]
    n_bins = MINIMAP_SIZE * MINIMAP_SIZE
    counted = state.alive | state.last_deaths
    bins = minimap_bins(state.positions, map_size)
    team_key = np.arange(n_battles)[:, None] * 2 + teams[None, :]  # [B, N]
    keys = (team_key * n_bins + bins[..., 1] * MINIMAP_SIZE + bins[..., 0])[counted]
    counts = np.bincount(keys, minlength=n_battles * 2 * n_bins).reshape(n_battles * 2, n_bins)
    team_sizes = np.bincount(team_key[counted], minlength=n_battles * 2)
    density = counts / np.maximum(team_sizes, 1)[:, None]
    return density.astype(np.float32).reshape(n_battles, 2, n_bins)


def features(state: BattleState, config: BattleConfig, teams: np.ndarray) -> np.ndarray:
    """``[B, N, 34]`` float32: 10 id bits, last action one-hot (21), last reward, (x, y) / map_size.

    The id is the slot (MAgent's engine id: red ``0..n-1``, blue ``n..``), least significant bit
    first. Unlike MAgent2, whose observation shows the reward of the step before last, the reward
    is that of the last step. Dead agents get zeros.
    """
    n_battles, n_agents = state.alive.shape
    out = np.zeros((n_battles, n_agents, config.n_features), dtype=np.float32)
    out[:, :, :ID_BITS] = (np.arange(n_agents)[:, None] >> np.arange(ID_BITS)) & 1
    battle, slot = np.nonzero(state.last_actions >= 0)
    out[battle, slot, ID_BITS + state.last_actions[battle, slot]] = 1.0
    out[..., ID_BITS + N_ACTIONS] = state.last_rewards
    out[..., ID_BITS + N_ACTIONS + 1 :] = state.positions / np.float32(config.map_size)
    out[~state.alive] = 0.0
    return out


def action_masks(state: BattleState, config: BattleConfig, teams: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """``[B, N, 21]`` bool: legal-and-useful actions right now.

    A move is masked when its destination is off the map, a wall or occupied (stay is always
    allowed); an attack is masked when no enemy stands on its target cell. Dead agents: all False.
    """
    n_battles, n_agents = state.alive.shape
    size = config.map_size
    actions = np.arange(N_ACTIONS)
    positions = state.positions[:, :, None, :]
    move_dest = move_destinations(np.broadcast_to(positions, (n_battles, n_agents, N_ACTIONS, 2)), actions)
    attack_dest = attack_targets(np.broadcast_to(positions, (n_battles, n_agents, N_ACTIONS, 2)), actions)
    target = np.where((actions < N_MOVES)[:, None], move_dest, attack_dest)
    inside = ((target >= 0) & (target < size)).all(axis=-1)
    tx, ty = np.clip(target[..., 0], 0, size - 1), np.clip(target[..., 1], 0, size - 1)
    battle = np.arange(n_battles)[:, None, None]
    occupant = state.occupant[battle, ty, tx]
    free = inside & ~walls[ty, tx] & (occupant == EMPTY)
    enemy = inside & (occupant != EMPTY) & (teams[np.maximum(occupant, 0)] != teams[None, :, None])
    mask = np.where(actions < N_MOVES, free, enemy)
    mask[..., STAY] = True
    mask &= state.alive[..., None]
    return mask


def state_map(state: BattleState, config: BattleConfig, teams: np.ndarray, walls: np.ndarray, battle: int) -> np.ndarray:
    """``[H, W, 5]`` float32 indexed [y, x]: walls, red presence, red hp, blue presence, blue hp."""
    out = np.zeros((config.map_size, config.map_size, 5), dtype=np.float32)
    out[..., 0] = walls
    slot = np.flatnonzero(state.alive[battle])
    x, y = state.positions[battle, slot, 0], state.positions[battle, slot, 1]
    out[y, x, 1 + 2 * teams[slot]] = 1.0
    out[y, x, 2 + 2 * teams[slot]] = state.hp[battle, slot] / np.float32(config.max_hp)
    return out

