"""Battlefield frames: its interior walls drawn as walls, its teams in their colours (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs import battlefield_v0
from mfenvs.battle.config import STAY
from mfenvs.battlefield import start_cells, wall_cells
from render import battle, palette


def centre_pixel(frame: np.ndarray, layout, cell: tuple[int, int]) -> tuple[int, int, int]:
    xs, ys = layout.cell_centres(np.array([cell[1]]), np.array([cell[0]]))
    return tuple(frame[ys[0], xs[0]].tolist())


@pytest.mark.parametrize("map_size", [46, 80])
def test_rgb_array_frame_draws_the_walls_and_both_teams(map_size):
    env = battlefield_v0.parallel_env(map_size=map_size, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    env.close()
    assert frame.shape == (640, 640, 3) and frame.dtype == np.uint8
    layout = battle.map_layout((640, 640), map_size)
    walls = set(wall_cells(map_size))
    for cell in sorted(walls)[:: max(1, len(walls) // 20)]:
        assert centre_pixel(frame, layout, cell) == palette.WALL, cell
    cells = start_cells(map_size)
    for team, colour in (("red", palette.RED_TEAM), ("blue", palette.BLUE_TEAM)):
        for cell in cells[team]:
            assert centre_pixel(frame, layout, cell) == colour, (team, cell)
    # a cell of the 4 x 4 grid that MAgent2 skips because it is a wall stays a wall
    skipped = (map_size // 2 - 11 + 6, (map_size - 8) // 2)
    assert skipped in walls and centre_pixel(frame, layout, skipped) == palette.WALL
    # an empty interior cell off the walls is floor
    assert centre_pixel(frame, layout, (map_size // 2, 3)) == battle.FLOOR


def test_human_mode_returns_none():
    env = battlefield_v0.parallel_env(map_size=46, render_mode="human")
    env.reset(seed=0)
    env.step({agent: STAY for agent in env.agents})
    assert env.render() is None
    env.close()
