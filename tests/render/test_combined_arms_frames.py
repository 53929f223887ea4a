"""Combined arms frames: each of the four groups in its own colour, ranged attacks drawn to their target (issue 25)."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from mfenvs import combined_arms_v0
from mfenvs.combined_arms import GROUPS, CombinedArmsConfig, CombinedArmsCore, start_cells
from render import battle, palette


def centre_pixel(frame: np.ndarray, layout, cell: tuple[int, int]) -> tuple[int, int, int]:
    xs, ys = layout.cell_centres(np.array([cell[1]]), np.array([cell[0]]))
    return tuple(frame[ys[0], xs[0]].tolist())


@pytest.mark.parametrize("map_size", [16, 45])
def test_rgb_array_frame_draws_every_group_in_its_colour(map_size):
    env = combined_arms_v0.parallel_env(map_size=map_size, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    env.close()
    assert frame.shape == (640, 640, 3) and frame.dtype == np.uint8
    layout = battle.map_layout((640, 640), map_size)
    colours = [palette.GROUP_COLOURS[group] for group in GROUPS]
    assert len(set(colours)) == 4
    for group, colour in zip(GROUPS, colours):
        for cell in start_cells(map_size)[group]:
            assert centre_pixel(frame, layout, cell) == colour, (group, cell)
    assert centre_pixel(frame, layout, (0, 0)) == palette.WALL
    assert centre_pixel(frame, layout, (map_size // 2, 2)) == battle.FLOOR


def test_a_ranged_hit_two_cells_away_is_a_line_to_its_target():
    """A redranged unit hits a bluemelee unit two cells right: the yellow line reaches the target's centre."""
    positions = {"redmelee": [(2, 2)], "redranged": [(3, 5)], "bluemelee": [(5, 5)], "blueranged": [(8, 8)]}
    core = CombinedArmsCore(CombinedArmsConfig(map_size=12, positions=positions))
    core.reset(seed=0)
    melee, ranged = core.game.types
    attack = len(ranged.move_offsets) + ranged.attack_offsets.index((2, 0))
    core.step(np.array([[melee.stay, attack, melee.stay, ranged.stay]]))
    assert core.state.last_hits[0, 1] and core.state.hp[0, 2] == np.float32(8.1)
    surface = pygame.Surface((640, 640))
    battle.draw(core, surface)
    frame = pygame.surfarray.array3d(surface).transpose(1, 0, 2)
    layout = battle.map_layout((640, 640), 12)
    xs, ys = layout.cell_centres(np.array([5, 5, 5]), np.array([3, 4, 5]))
    for x, y in zip(xs, ys):  # from the attacker's centre over the cell between to the victim's
        assert tuple(frame[y, x].tolist()) == palette.ATTACK
    assert "red 2 alive, 0 kills" in battle.banner_text(core)
