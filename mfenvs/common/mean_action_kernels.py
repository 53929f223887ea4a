"""The compiled kernel of ``mean_action.radius_mean_action`` (kept apart so that ``import mfenvs.common.mean_action``,
which Gaussian Squeeze and Ising use, does not import Numba)."""

from __future__ import annotations

import numpy as np
from numba import prange

from mfenvs.common.jit import kernel


@kernel(parallel=True)
def radius_counts(actions, positions, active, groups, n_groups, height, width, offsets, out):
    """For every active agent, count the actions of the active same-group agents on the ``offsets``
    cells around it and write their mean (float32) into its row of ``out``; rows start at zero."""
    n_agents = len(actions)
    occupant = np.full((n_groups, height, width), -1, dtype=np.int32)
    for agent in range(n_agents):
        if active[agent]:
            occupant[groups[agent], positions[agent, 1], positions[agent, 0]] = agent
    for agent in prange(n_agents):
        if not active[agent]:
            continue
        counts = np.zeros(out.shape[1], dtype=np.int64)
        n_neighbours = 0
        x, y, plane = positions[agent, 0], positions[agent, 1], occupant[groups[agent]]
        for k in range(len(offsets)):
            neighbour_x, neighbour_y = x + offsets[k, 0], y + offsets[k, 1]
            if 0 <= neighbour_x < width and 0 <= neighbour_y < height:
                neighbour = plane[neighbour_y, neighbour_x]
                if neighbour >= 0:
                    counts[actions[neighbour]] += 1
                    n_neighbours += 1
        if n_neighbours:
            for action in range(out.shape[1]):
                out[agent, action] = np.float32(counts[action]) / np.float32(n_neighbours)
