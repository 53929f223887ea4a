"""Battlefield as data: MAgent2's ``battlefield_v5`` is Battle's agent type and rules on a map of its own.

MAgent2's ``battlefield.py`` imports ``battle.get_config`` and only writes a ``generate_map``: fixed
interior walls and two fixed 4 x 4 starting grids (stride 2), no randomness. So does this module: the
walls and start cells below are that ``generate_map``, cell for cell (MAGENT2_GAMES.md section 2.1), and
``battlefield_config`` puts them on Battle's game (``mfenvs.battle.game``).
"""

from __future__ import annotations

from mfenvs.battle.config import BattleConfig

MIN_MAP_SIZE = 46
"""MAgent2 asserts ``map_size >= 46``: below it the first wall column runs into the border."""
INIT_NUM = 20
"""MAgent2 overwrites ``init_num`` with 20: each side's grid is ``2 * int(sqrt(20))`` = 8 cells wide, 4 x 4 agents."""
GAP = 3


def wall_cells(map_size: int) -> tuple[tuple[int, int], ...]:
    """The interior walls ``(x, y)`` of MAgent2's ``battlefield_v5.generate_map``, in its order.

    Two double columns left of the centre (x = w/2 - 5, w/2 - 4; y in [10, 45) and [50, h/2 + 25)) and
    two right of it (x = w/2 + 5, w/2 + 4; y in [h/2 - 25, h - 50) and [h - 45, h - 10)); MAgent2
    computes x as a float and its engine truncates it (``np.array(pos, dtype=np.int32)``). At map 80:
    x in {35, 36} for y in [10, 45) and [50, 65), x in {44, 45} for y in [15, 30) and [35, 70): 200 cells.
    """
    width = height = map_size
    cells: list[tuple[int, int]] = []
    left, right = (int(width / 2 - 5), int(width / 2 - 4)), (int(width / 2 + 5), int(width / 2 + 4))
    for ys, columns in (
        (range(10, 45), left),
        (range(50, height // 2 + 25), left),
        (range(height // 2 - 25, height - 50), right),
        (range(height - 45, height - 10), right),
    ):
        for y in ys:
            cells += [(columns[0], y), (columns[1], y)]
    return tuple(cells)


def start_cells(map_size: int) -> dict[str, list[tuple[int, int]]]:
    """Each side's start cells in MAgent2's order (column by column), without those on a wall.

    MAgent2 asks for a 4 x 4 grid per side, red at x in [w/2 - 11, w/2 - 3), blue at x in
    [w/2 + 3, w/2 + 11), both at y in [(h - 8)/2, (h - 8)/2 + 8), stride 2, and its engine silently
    skips the cells that hold a wall: at map 80 the columns x = 35 and x = 45, hence 12 v 12.
    """
    width = height = map_size
    side = int(INIT_NUM**0.5) * 2
    walls = set(wall_cells(map_size))
    rows = range((height - side) // 2, (height - side) // 2 + side, 2)
    grids = {
        "red": range(width // 2 - GAP - side, width // 2 - GAP, 2),
        "blue": range(width // 2 + GAP, width // 2 + GAP + side, 2),
    }
    return {team: [(x, y) for x in columns for y in rows if (x, y) not in walls] for team, columns in grids.items()}


def battlefield_config(
    map_size: int = 80,
    minimap_mode: bool = False,
    extra_features: bool = False,
    max_cycles: int = 1000,
    step_reward: float = -0.005,
    dead_penalty: float = -0.1,
    attack_penalty: float = -0.1,
    attack_opponent_reward: float = 0.2,
    kill_reward: float = 5.0,
    mean_action_radius: float | None = 6,
) -> BattleConfig:
    """Battle's game with battlefield's walls and start cells (fixed sides: red left, as MAgent2).

    Raises:
        ValueError: ``map_size`` below 46 (MAgent2's own limit), or an invalid Battle argument.
        TypeError: a non-integer ``map_size`` (or another argument of the wrong type).
    """
    if isinstance(map_size, int) and not isinstance(map_size, bool) and map_size < MIN_MAP_SIZE:
        raise ValueError(f"map_size must be at least {MIN_MAP_SIZE} (MAgent2's battlefield limit), got {map_size}")
    if not isinstance(map_size, int) or isinstance(map_size, bool):
        raise TypeError(f"map_size must be an int, got {map_size!r}")
    return BattleConfig(
        map_size=map_size,
        positions=start_cells(map_size),
        walls=wall_cells(map_size),
        minimap_mode=minimap_mode,
        extra_features=extra_features,
        max_cycles=max_cycles,
        random_sides=False,
        step_reward=step_reward,
        dead_penalty=dead_penalty,
        attack_penalty=attack_penalty,
        attack_opponent_reward=attack_opponent_reward,
        kill_reward=kill_reward,
        mean_action_radius=mean_action_radius,
    )
