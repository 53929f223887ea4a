"""The compiled kernel of ``mean_action.radius_mean_action`` (kept apart so that ``import mfenvs.common.mean_action``,
which Gaussian Squeeze and Ising use, does not import Numba)."""

from __future__ import annotations

import numpy as np
from numba import prange

from mfenvs.common.jit import kernel


@kernel(parallel=True)
def radius_counts(actions, positions, active, groups, height, width, half_widths, planes, counts, out):
    """For every active agent, count the actions of the active same-group agents in its disk and write
    their mean (the counts divided by their sum, in float32) into its row of ``out`` (which starts at zero).

    The disk is ``len(half_widths)`` rows: row ``dy = r - reach`` spans ``dx = -half_widths[r] ..
    half_widths[r]``; the agent's own cell is not counted. ``planes`` (``[n_groups, height * width]``,
    zeros) is scratch: each group's cells get ``action + 1`` of their agent, 0 when empty, so that an
    agent adds up its disk with one unconditional increment per cell (bin 0 collects the empty cells)
    rather than a branch. ``counts`` (``[n_agents, n_actions + 1]`` int32, zeros) is each agent's tally.
    """
    n_agents, n_actions = out.shape
    for agent in range(n_agents):
        if active[agent]:
            planes[groups[agent], positions[agent, 1] * width + positions[agent, 0]] = actions[agent] + 1
    reach = len(half_widths) // 2
    for agent in prange(n_agents):
        if not active[agent]:
            continue
        tally = counts[agent]
        x, y = positions[agent, 0], positions[agent, 1]
        plane = planes[groups[agent]]
        # unsigned indices: Numba skips its negative-index wrap-around checks
        for row in range(max(y - reach, 0), min(y + reach + 1, height)):
            half = half_widths[row - y + reach]
            start = np.uint64(row * width + max(x - half, 0))
            stop = np.uint64(row * width + min(x + half + 1, width))
            for cell in range(start, stop):
                tally[plane[cell]] += 1
        tally[actions[agent] + 1] -= 1  # the agent itself, counted at its own cell
        n_neighbours = 0
        for action in range(n_actions):
            n_neighbours += tally[action + 1]
        if n_neighbours > 0:
            for action in range(n_actions):
                out[agent, action] = np.float32(tally[action + 1]) / np.float32(n_neighbours)
