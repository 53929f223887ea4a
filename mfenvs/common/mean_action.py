"""The neighbourhood mean action abar_j of Yang et al. (2018), Eq. 11: the one place it is computed.

abar_j is the average one-hot action of agent j's neighbours N(j), agent j itself excluded. Three
neighbourhoods cover the environments of this package:

* ``global_mean_action``: every other active agent of the same group (Gaussian Squeeze; Battle with
  ``mean_action_radius=None``, as the 2018 code did).
* ``lattice_mean_action``: the four nearest neighbours on a torus (Ising).
* ``radius_mean_action``: active agents of the same group within a Euclidean distance on a grid
  (Battle; the default radius is the view radius).

All functions are vectorised over agents (no per-agent Python loop; the radius one is a compiled
Numba kernel, compiled on its first call) and return a fresh
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
def disk_half_widths(radius: float) -> np.ndarray:
    """``[2 * reach + 1]``: the disk ``dx^2 + dy^2 <= radius^2`` spans ``dx`` from ``-h`` to ``h`` in its row ``dy``
    (rows ``dy = -reach .. reach``, ``reach = floor(radius)``)."""
    reach = int(np.floor(radius))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    half_widths = ((dx * dx + dy * dy <= radius * radius).sum(axis=1) // 2).astype(np.int64)
    half_widths.flags.writeable = False
    return half_widths


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

    A compiled kernel (Numba): the active agents' actions are put on one plane per group, with a bit per
    occupied cell, then each agent tallies the occupied cells of its disk, row by row (in parallel over
    agents; each writes only its own row, so the thread count does not change the result). Counts are
    integers, the mean one float32 division.

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
    actions = np.ascontiguousarray(actions, dtype=np.int64)
    positions = np.ascontiguousarray(positions, dtype=np.int64).reshape(-1, 2)
    n_agents = len(actions)
    active = np.ones(n_agents, dtype=bool) if active is None else np.ascontiguousarray(active, dtype=bool)
    groups = np.zeros(n_agents, dtype=np.int64) if groups is None else np.ascontiguousarray(groups, dtype=np.int64)
    half_widths = disk_half_widths(float(radius))
    if not active.any() or len(half_widths) < 3:  # a radius below 1 holds no neighbour
        return np.zeros((n_agents, n_actions), dtype=np.float32)
    from mfenvs.common.mean_action_kernels import radius_counts  # Numba is imported on first use only

    n_groups = int(groups[active].max()) + 1
    height, width = int(grid_shape[0]), int(grid_shape[1])
    planes, occupied = radius_scratch(n_actions, n_groups, height, width)
    out = np.empty((n_agents, n_actions), dtype=np.float32)  # the kernel writes every row
    radius_counts(actions, positions, active, groups, height, width, half_widths, planes, occupied, out)
    return out


def radius_scratch(n_actions: int, n_groups: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Scratch of the radius kernel: ``[n_groups, height * width]`` action planes, uninitialised (the kernel
    writes the action of each occupied cell and reads no other; uint8 while that fits, which keeps a
    250 x 250 plane in 61 KiB; unsigned, so that the kernel's tally index needs no negative-index check),
    and ``[n_groups, height, ceil(width / 64)]`` uint64 occupancy bits, zeroed."""
    plane_dtype = np.uint8 if n_actions <= 256 else np.uint32
    planes = np.empty((n_groups, height * width), dtype=plane_dtype)
    return planes, np.zeros((n_groups, height, -(-width // 64)), dtype=np.uint64)
