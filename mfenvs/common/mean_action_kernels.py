"""The compiled kernel of ``mean_action.radius_mean_action`` (kept apart so that ``import mfenvs.common.mean_action``,
which Gaussian Squeeze and Ising use, does not import Numba)."""

from __future__ import annotations

import numpy as np
from numba import prange

from mfenvs.common.jit import kernel


@kernel(parallel=True)
def radius_counts(actions, positions, active, groups, n_groups, height, width, half_widths, out):
    """For every active agent, count the actions of the active same-group agents in its disk (in its row
    of ``out``, which starts at zero) and divide them by their sum: the mean, in float32.

    The disk is ``len(half_widths)`` rows: row ``dy = r - reach`` spans ``dx = -half_widths[r] ..
    half_widths[r]``; the agent's own cell is not counted. Each agent reads its disk's cells from an
    occupancy plane of its group, one row span at a time (unsigned indices: no wrap-around checks).
    """
    n_agents = len(actions)
    occupant = np.full((n_groups, height, width), -1, dtype=np.int32)
    for agent in range(n_agents):
        if active[agent]:
            occupant[groups[agent], positions[agent, 1], positions[agent, 0]] = agent
    reach = len(half_widths) // 2
    for agent in prange(n_agents):
        if not active[agent]:
            continue
        counts = out[agent]  # whole numbers below 2^24 are exact in float32
        x, y = positions[agent, 0], positions[agent, 1]
        plane = occupant[groups[agent]].reshape(-1)
        for row in range(max(y - reach, 0), min(y + reach + 1, height)):
            half = half_widths[row - y + reach]
            start = np.uint64(row * width + max(x - half, 0))
            stop = np.uint64(row * width + min(x + half + 1, width))
            for cell in range(start, stop):
                neighbour = plane[cell]
                if neighbour >= 0:
                    counts[actions[neighbour]] += 1
        counts[actions[agent]] -= 1  # the agent itself, counted at its own cell
        n_neighbours = np.float32(0.0)
        for action in range(len(counts)):
            n_neighbours += counts[action]
        if n_neighbours > 0:
            for action in range(len(counts)):
                counts[action] /= n_neighbours
