"""Initial placement: MAgent's two blocks, or explicit positions. Pure functions of their arguments."""

from __future__ import annotations

import math

import numpy as np

CENTRE_GAP = 3
SPACING = 2


def block_cells(map_size: int, n_agents: int, left: bool) -> list[tuple[int, int]]:
    """The ``(x, y)`` cells of one side's starting block, in slot order (column by column).

    MAgent's battle layout: agents every other cell in a square block of ``ceil(sqrt(n))`` columns,
    ``CENTRE_GAP`` cells either side of the map's centre column, centred vertically. For the paper's
    maps (40, 45, 80, 250) this is exactly MAgent's placement. Where MAgent would spawn fewer agents
    than asked (a team size that is not a square, or a small map whose block crosses the wall), the
    block keeps its columns next to the centre and grows rows instead, so the team gets ``n_agents``.

    Raises:
        ValueError: the agents do not fit between the wall and the centre gap.
    """
    last_left_column = map_size // 2 - CENTRE_GAP - SPACING
    first_right_column = map_size // 2 + CENTRE_GAP
    room = min((last_left_column - 1) // SPACING + 1, (map_size - 2 - first_right_column) // SPACING + 1)
    columns = min(math.ceil(math.sqrt(n_agents)), max(room, 0))
    rows = math.ceil(n_agents / columns) if columns > 0 else n_agents + 1
    y0 = (map_size - SPACING * rows) // 2
    if columns == 0 or y0 < 1 or y0 + SPACING * (rows - 1) > map_size - 2:
        raise ValueError(
            f"team_size {n_agents} does not fit the two-block layout on a {map_size} x {map_size} map; "
            f"use a larger map_size, a smaller team_size or explicit positions"
        )
    x0 = last_left_column - SPACING * (columns - 1) if left else first_right_column
    cells = [(x0 + SPACING * i, y0 + SPACING * j) for i in range(columns) for j in range(rows)]
    return cells[:n_agents]


def initial_positions(
    map_size: int,
    team_counts: tuple[int, int],
    explicit: dict | None,
    red_on_left: bool,
) -> np.ndarray:
    """``[n_red + n_blue, 2]`` int ``(x, y)`` start cells, red slots first."""
    if explicit is not None:
        red, blue = explicit["red"], explicit["blue"]
    else:
        red = block_cells(map_size, team_counts[0], left=red_on_left)
        blue = block_cells(map_size, team_counts[1], left=not red_on_left)
    return np.array([*red, *blue], dtype=np.int64).reshape(-1, 2)
