"""The neighbourhood mean action abar_j of Yang et al. (2018), Eq. 11: the one place it is computed.

abar_j is the average one-hot action of agent j's neighbours N(j), agent j itself excluded. Three
neighbourhoods cover the environments of this package:

* ``global_mean_action``: every other active agent of the same group (Gaussian Squeeze; Battle with
  ``mean_action_radius=None``, as the 2018 code did).
* ``lattice_mean_action``: the four nearest neighbours on a torus (Ising).
* ``radius_mean_action``: active agents of the same group within a Euclidean distance on a grid
  (Battle; the default radius is the view radius).

All functions are vectorised over agents (no per-agent Python loop) and return a fresh
``float32`` array of shape ``[n_agents, n_actions]``. Agents with no neighbours, and inactive agents,
get a row of zeros. Trainers import these functions rather than re-deriving the mean action.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def one_hot(actions: np.ndarray, n_actions: int, active: np.ndarray | None = None) -> np.ndarray:
    """Return ``float32`` one-hot rows for integer ``actions``; inactive agents get zero rows."""
    actions = np.asarray(actions)
    encoded = np.zeros((actions.shape[0], n_actions), dtype=np.float32)
    rows = np.arange(actions.shape[0]) if active is None else np.flatnonzero(active)
    encoded[rows, actions[rows]] = 1.0
    return encoded


def _divide_rows(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``sums / counts`` row-wise, with zero rows where ``counts`` is zero."""
    out = np.zeros(sums.shape, dtype=np.float32)
    has = counts > 0
    out[has] = sums[has] / counts[has, None]
    return out


def global_mean_action(
    actions: np.ndarray,
    n_actions: int,
    active: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Mean one-hot action of every *other* active agent in the same group.

    Args:
        actions: ``[n_agents]`` integer actions.
        n_actions: size of the discrete action space.
        active: optional ``[n_agents]`` bool mask; inactive agents neither count nor receive a mean.
        groups: optional ``[n_agents]`` non-negative group ids (Battle teams); default one group.

    Returns:
        ``[n_agents, n_actions]`` float32.
    """
    n_agents = len(actions)
    active = np.ones(n_agents, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    groups = np.zeros(n_agents, dtype=np.intp) if groups is None else np.asarray(groups, dtype=np.intp)
    own = one_hot(actions, n_actions, active)
    n_groups = int(groups.max()) + 1 if n_agents else 0
    counted = np.flatnonzero(active)
    group_sums = np.bincount(
        groups[counted] * n_actions + np.asarray(actions)[counted], minlength=n_groups * n_actions
    ).reshape(n_groups, n_actions)
    group_counts = np.bincount(groups, weights=active, minlength=n_groups)
    others = group_counts[groups] - active
    others[~active] = 0
    return _divide_rows(group_sums[groups] - own, others)


def lattice_mean_action(actions: np.ndarray, n_actions: int) -> np.ndarray:
    """Mean one-hot action of the four torus neighbours of every site of a 2-D lattice.

    Args:
        actions: ``[height, width]`` integer actions, one per site.
        n_actions: size of the discrete action space.

    Returns:
        ``[height * width, n_actions]`` float32, sites in row-major order.
    """
    actions = np.asarray(actions)
    height, width = actions.shape
    own = one_hot(actions.reshape(-1), n_actions).reshape(height, width, n_actions)
    neighbour_sum = (
        np.roll(own, 1, axis=0) + np.roll(own, -1, axis=0) + np.roll(own, 1, axis=1) + np.roll(own, -1, axis=1)
    )
    return (neighbour_sum * np.float32(0.25)).reshape(height * width, n_actions)


@lru_cache(maxsize=64)
def _disk_windows(radius: float, grid_width: int) -> tuple[int, int, np.ndarray]:
    """The disk of ``radius`` as one key window per row, for ``radius_mean_action``'s padded planes.

    Returns ``(reach, n_cells, offsets)``: the disk spans rows ``-reach..reach`` and holds ``n_cells`` cells,
    the centre included. On planes ``width = grid_width + 2 * reach`` wide, flattened, the window of row
    ``dy`` around key ``k`` is ``k + dy * width + [-half, half]`` (``half``: the largest ``dx`` with
    ``dx^2 + dy^2 <= radius^2``). Relative to ``k``, ``offsets`` lists every window's last key then ``-1``,
    and then every window's first key minus one then ``0``: cumulative counts at the first half minus those
    at the second half count the disk without its centre.
    """
    reach = int(np.floor(radius))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    inside = dx * dx + dy * dy <= radius * radius
    half = inside.sum(axis=1) // 2
    rows = np.arange(-reach, reach + 1) * (grid_width + 2 * reach)
    offsets = np.concatenate([rows + half, [-1], rows - half - 1, [0]]).astype(np.intp)
    return reach, int(inside.sum()), offsets


def radius_mean_action(
    actions: np.ndarray,
    n_actions: int,
    positions: np.ndarray,
    grid_shape: tuple[int, int],
    radius: float,
    active: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Mean one-hot action of the active same-group agents within ``radius`` on a grid.

    A neighbour k of agent j satisfies ``(x_k - x_j)^2 + (y_k - y_j)^2 <= radius^2``, the same circle
    as Battle's view. At most one agent of a group may occupy a cell; different groups live on
    separate planes (so B battles x 2 teams can share one call).

    The disk is ``2 * reach + 1`` row windows. Members sorted by cell key (group, y, x) have cumulative
    one-hot action counts, so a window's counts are a difference of two rows of that prefix table, found
    through a cumulative occupancy count of the planes. The counts are packed into integer fields of
    ``uint64`` words (one more field counts the members), so each window costs two gathers of a few
    words: ``O(n_agents * radius + n_groups * height * width)`` instead of one gather per disk cell.

    Args:
        actions: ``[n_agents]`` integer actions.
        n_actions: size of the discrete action space.
        positions: ``[n_agents, 2]`` integer ``(x, y)`` cells, ``0 <= x < width``, ``0 <= y < height``.
        grid_shape: ``(height, width)`` of the grid.
        radius: neighbourhood radius in cells.
        active: optional ``[n_agents]`` bool mask of agents that count and receive a mean.
        groups: optional ``[n_agents]`` group ids; only same-group agents are neighbours.

    Returns:
        ``[n_agents, n_actions]`` float32.
    """
    actions = np.asarray(actions)
    positions = np.asarray(positions, dtype=np.intp)
    n_agents = len(actions)
    active = np.ones(n_agents, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    groups = np.zeros(n_agents, dtype=np.intp) if groups is None else np.asarray(groups, dtype=np.intp)
    out = np.zeros((n_agents, n_actions), dtype=np.float32)
    members = np.flatnonzero(active)
    reach, n_cells, offsets = _disk_windows(float(radius), grid_shape[1])
    if len(members) == 0 or reach < 1:
        return out

    # cell keys on one padded plane per group, flattened after a spare key 0 (so a window's first key minus
    # one is never negative); cum_count[k]: members with a key <= k, so cum_count[key] is 1 + the rank in key order
    height, width = grid_shape[0] + 2 * reach, grid_shape[1] + 2 * reach
    key = ((groups * height + positions[:, 1] + reach) * width + positions[:, 0] + reach + 1)[members]
    cum_count = np.zeros((int(groups[members].max()) + 1) * height * width + 1, dtype=np.int32)
    cum_count[key] = 1
    np.cumsum(cum_count, out=cum_count)

    # table row 1 + rank: the member's one-hot action, plus a 1 in field n_actions, in unsigned fields wide
    # enough for a disk's count; as uint64 words, prefix[i] packs the counts of the first i members in key
    # order. Fields overflow into each other there, but every window difference is exact modulo 2^64.
    field = np.min_scalar_type(min(n_cells, len(members)))
    per_word = 8 // field.itemsize
    n_words = 1 << (-(-(n_actions + 1) // per_word) - 1).bit_length()  # rows of 8, 16, 32 bytes: take copies fastest
    table = np.zeros((len(members) + 1, n_words * per_word), dtype=field)
    table[cum_count[key], actions[members]] = 1
    table[1:, n_actions] = 1
    prefix = np.cumsum(table.view(np.uint64), axis=0)

    ends = np.take(prefix, np.take(cum_count, offsets[:, None] + key), axis=0)  # [2 * (2 * reach + 2), members, words]
    sums = ends[: len(offsets) // 2].sum(axis=0) - ends[len(offsets) // 2 :].sum(axis=0)
    counts = sums.view(field)  # [members, fields]: the neighbours' action counts, then their number
    n_neighbours = np.maximum(counts[:, n_actions : n_actions + 1], 1)
    out[members] = np.divide(counts[:, :n_actions], n_neighbours, dtype=np.float32)
    return out
