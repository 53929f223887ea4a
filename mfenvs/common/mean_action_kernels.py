"""The compiled kernel of ``mean_action.radius_mean_action`` (kept apart so that ``import mfenvs.common.mean_action``,
which Gaussian Squeeze and Ising use, does not import Numba)."""

from __future__ import annotations

import numpy as np
from numba import prange

from mfenvs.common.jit import kernel

_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)


def _lowest_bit_table() -> np.ndarray:
    """``[64]``: the index of a 64-bit word's only set bit, looked up by ``(word * _DE_BRUIJN) >> 58``."""
    table = np.zeros(64, dtype=np.uint64)
    for bit in range(64):
        table[((1 << bit) * int(_DE_BRUIJN) & 0xFFFF_FFFF_FFFF_FFFF) >> 58] = bit
    return table


_BIT_INDEX = _lowest_bit_table()


@kernel(parallel=True)
def radius_counts(actions, positions, active, groups, height, width, half_widths, planes, occupied, out):
    """For every active agent, count the actions of the active same-group agents in its disk and write
    their mean (the counts divided by their sum, in float32) into its row of ``out``; every other row
    (inactive agents, agents with no neighbour) gets zeros, so ``out`` may come uninitialised.

    The disk is ``len(half_widths)`` rows: row ``dy = r - reach`` spans ``dx = -half_widths[r] ..
    half_widths[r]``; the agent's own cell is not counted. Scratch: ``planes`` (``[n_groups, height *
    width]``, uninitialised: only occupied cells are read) gets the action on each group's occupied
    cells; ``occupied`` (``[n_groups, height, ceil(width / 64)]`` uint64, zeroed by the caller) one bit
    per occupied cell, so that an agent reads a
    row of its disk a 64-bit word at a time and visits only the occupied cells in it (about 1 cell in
    25 at Battle's density). Each agent tallies into its own row of ``out`` (float32 counts are exact
    integers below 2**24 neighbours), then divides it by the number of neighbours.
    """
    n_agents, n_actions = out.shape
    for agent in range(n_agents):
        if active[agent]:
            x, y = positions[agent, 0], positions[agent, 1]
            planes[groups[agent], y * width + x] = actions[agent]
            occupied[groups[agent], y, x >> 6] |= np.uint64(1) << np.uint64(x & 63)
    reach = len(half_widths) // 2
    for agent in prange(n_agents):
        tally = out[agent]
        for action in range(n_actions):
            tally[action] = 0
        if not active[agent]:
            continue
        x, y = positions[agent, 0], positions[agent, 1]
        group = groups[agent]
        plane = planes[group]
        for row in range(max(y - reach, 0), min(y + reach + 1, height)):
            half = half_widths[row - y + reach]
            start, stop = max(x - half, 0), min(x + half + 1, width)
            while start < stop:  # the row's cells in [start, stop), one 64-bit word at a time
                offset = start & 63
                n_cells = min(stop - start, 64 - offset)
                bits = occupied[group, row, start >> 6] >> np.uint64(offset)
                if n_cells < 64:
                    bits &= (np.uint64(1) << np.uint64(n_cells)) - np.uint64(1)
                first_cell = np.uint64(row * width + start)  # unsigned: no negative-index wrap-around check
                while bits:
                    lowest = bits & (~bits + np.uint64(1))
                    tally[plane[first_cell + _BIT_INDEX[(lowest * _DE_BRUIJN) >> np.uint64(58)]]] += 1
                    bits ^= lowest
                start += n_cells
        tally[actions[agent]] -= 1  # the agent itself, counted at its own cell
        n_neighbours = np.float32(0)
        for action in range(n_actions):
            n_neighbours += tally[action]
        if n_neighbours > 0:
            for action in range(n_actions):
                tally[action] /= n_neighbours
