"""Frames of the Battle draw function: size, where each team is drawn, hp, attacks, deaths and the banner."""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs import battle_v0
from mfenvs.battle import BattleConfig, BattleCore
from mfenvs.battle.config import ATTACK_OFFSETS, N_MOVES, STAY
from render import battle, palette
from render.window import Renderer

RED_CELL, BLUE_CELL = (2, 7), (8, 3)
"""Start cells (x, y) of the two-agent battle; neither the transpose nor a mirror maps one onto the other."""


def attack_action(dx: int, dy: int) -> int:
    return N_MOVES + ATTACK_OFFSETS.index((dx, dy))


def engine_with(positions: dict, map_size: int = 12, n_battles: int = 1) -> BattleCore:
    engine = BattleCore(BattleConfig(map_size=map_size, positions=positions, random_sides=False), n_battles=n_battles)
    engine.reset(seed=0)
    return engine


def frame_of(core, size: tuple[int, int] = (640, 640)) -> np.ndarray:
    return Renderer(battle.draw, "rgb_array", fps=5, title="test", size=size).render(core)


def centre_pixel(frame: np.ndarray, layout, cell: tuple[int, int]) -> tuple[int, int, int]:
    xs, ys = layout.cell_centres(np.array([cell[1]]), np.array([cell[0]]))
    return tuple(frame[ys[0], xs[0]].tolist())


def cell_block(frame: np.ndarray, layout, cell: tuple[int, int]) -> np.ndarray:
    """The pixels of cell (x, y) left of and above its grid line."""
    rect = layout.cell_rect(cell[1], cell[0])
    return frame[rect.top : rect.bottom - 1, rect.left : rect.right - 1]


def contains(pixels: np.ndarray, colour) -> bool:
    return bool((pixels.reshape(-1, 3) == np.asarray(colour)).all(axis=1).any())


@pytest.mark.parametrize("size", [(640, 640), (300, 200), (200, 330)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_frame_has_requested_size_and_dtype(size):
    engine = BattleCore(BattleConfig(map_size=20, team_size=9))
    engine.reset(seed=1)
    frame = frame_of(engine, size)
    assert frame.shape == (size[1], size[0], 3) and frame.dtype == np.uint8


@pytest.mark.parametrize("surface_size", [(640, 640), (517, 401), (160, 190)])
def test_each_team_is_drawn_in_its_colour_at_its_cell(surface_size):
    engine = engine_with({"red": [RED_CELL], "blue": [BLUE_CELL]})
    frame = frame_of(engine, surface_size)
    layout = battle.map_layout(surface_size, 12)
    assert centre_pixel(frame, layout, RED_CELL) == palette.RED_TEAM
    assert centre_pixel(frame, layout, BLUE_CELL) == palette.BLUE_TEAM
    for swapped in [RED_CELL[::-1], BLUE_CELL[::-1], (11 - RED_CELL[0], RED_CELL[1]), (BLUE_CELL[0], 11 - BLUE_CELL[1])]:
        assert centre_pixel(frame, layout, swapped) == battle.FLOOR
    assert centre_pixel(frame, layout, (0, 5)) == palette.WALL


def test_small_cells_also_place_the_teams_right():
    # an 80 x 80 map in 200 x 200 pixels: cells of 2 px, no overlays
    red, blue = (10, 60), (70, 25)
    engine = engine_with({"red": [red], "blue": [blue]}, map_size=80)
    frame = frame_of(engine, (200, 200))
    layout = battle.map_layout((200, 200), 80)
    assert layout.cell < battle.LINE_CELL
    assert centre_pixel(frame, layout, red) == palette.RED_TEAM
    assert centre_pixel(frame, layout, blue) == palette.BLUE_TEAM
    assert centre_pixel(frame, layout, red[::-1]) == battle.FLOOR


def test_env_core_and_batched_engine_draw_the_same_frame():
    env = battle_v0.parallel_env(map_size=12, positions={"red": [RED_CELL], "blue": [BLUE_CELL]}, render_mode="rgb_array")
    env.reset(seed=0)
    engine = engine_with({"red": [RED_CELL], "blue": [BLUE_CELL]}, n_battles=2)
    engine.state.positions[1, 0] = (5, 5)  # battle 1 differs: draw_battle must pick the battle asked for
    from_env = env.render()
    env.close()
    np.testing.assert_array_equal(from_env, frame_of(engine))
    import pygame

    surface = pygame.Surface((640, 640))
    battle.draw_battle(engine, surface, battle=0)
    first = pygame.surfarray.array3d(surface).copy()
    battle.draw_battle(engine, surface, battle=1)
    assert not np.array_equal(first, pygame.surfarray.array3d(surface))
    with pytest.raises(ValueError, match="battle must be in"):
        battle.draw_battle(engine, surface, battle=2)


def test_hits_are_yellow_lines_and_misses_grey_stubs():
    red, blue = (4, 6), (5, 6)  # blue is right of red
    engine = engine_with({"red": [red], "blue": [blue]})
    layout = battle.map_layout((640, 640), 12)
    before = frame_of(engine)
    assert not contains(before, palette.ATTACK) and not contains(before[50:], battle.MISS)

    engine.step(np.array([[attack_action(1, 0), STAY]]))  # red hits blue
    assert engine.state.last_hits[0, 0]
    hit = frame_of(engine)
    xs, ys = layout.cell_centres(np.array([red[1], blue[1]]), np.array([red[0], blue[0]]))
    between = hit[ys[0], xs[0] : xs[1] + 1]  # the pixel row from attacker centre to target centre
    assert (between == palette.ATTACK).all()

    engine.step(np.array([[attack_action(-1, -1), STAY]]))  # red strikes an empty cell
    assert not engine.state.last_hits[0, 0]
    miss = frame_of(engine)
    body = miss[layout.top :]
    assert not contains(body, palette.ATTACK)
    assert contains(cell_block(miss, layout, red), battle.MISS)


def test_an_agent_killed_this_step_leaves_a_cross_in_its_team_colour():
    red, blue = (4, 6), (5, 6)
    engine = engine_with({"red": [red], "blue": [blue, (9, 9)]})
    engine.state.hp[0, 1] = 1.0  # one more hit kills it
    engine.step(np.array([[attack_action(1, 0), STAY, STAY]]))
    assert engine.state.last_deaths[0, 1] and not engine.state.alive[0, 1]
    layout = battle.map_layout((640, 640), 12)
    frame = frame_of(engine)
    assert contains(cell_block(frame, layout, blue), palette.BLUE_TEAM)
    assert contains(cell_block(frame, layout, blue), battle.FLOOR)  # a cross, not an agent's square
    # one step later the cross is gone
    engine.step(np.array([[STAY, STAY, STAY]]))
    assert not contains(cell_block(frame_of(engine), layout, blue), palette.BLUE_TEAM)


def test_small_cells_mark_deaths_with_a_light_cell():
    red, blue = (40, 40), (41, 40)
    engine = engine_with({"red": [red], "blue": [blue, (70, 20)]}, map_size=80)
    engine.state.hp[0, 1] = 1.0
    engine.step(np.array([[attack_action(1, 0), STAY, STAY]]))
    layout = battle.map_layout((200, 200), 80)
    assert centre_pixel(frame_of(engine, (200, 200)), layout, blue) == battle.DEATH


def test_hp_shows_as_a_gauge_on_large_cells_and_a_shade_on_small_ones():
    red, blue = (3, 8), (8, 2)
    engine = engine_with({"red": [red], "blue": [blue]})
    engine.state.hp[0, 1] = 4.0  # blue has lost 60 %
    large = frame_of(engine)
    layout = battle.map_layout((640, 640), 12)
    square = cell_block(large, layout, blue)
    centre_column = square[:, square.shape[1] // 2]
    lost_rows = (centre_column == battle.LOST_HP_COLOURS[1]).all(axis=1)
    full_rows = (centre_column == palette.BLUE_TEAM).all(axis=1)
    assert lost_rows.sum() == pytest.approx(0.6 * len(square), abs=1)
    assert full_rows.sum() == len(square) - lost_rows.sum()
    assert lost_rows[0] and full_rows[-1]  # the gauge empties from the top
    assert not contains(cell_block(large, layout, red), battle.LOST_HP_COLOURS[0])  # red is unhurt

    small_engine = engine_with({"red": [(10, 50)], "blue": [(60, 30)]}, map_size=80)
    small_engine.state.hp[0, 1] = 4.0
    small = frame_of(small_engine, (200, 200))
    shade = centre_pixel(small, battle.map_layout((200, 200), 80), (60, 30))
    assert shade != palette.BLUE_TEAM
    assert sum(shade) < sum(palette.BLUE_TEAM)  # dimmer with less hp


def test_banner_reports_steps_survivors_kills_and_the_winner():
    engine = engine_with({"red": [(4, 6)], "blue": [(5, 6)]})
    engine.state.hp[0, 1] = 1.0
    assert battle.banner_text(engine) == f"step 0/{engine.config.max_cycles}   red 1 alive, 0 kills   blue 1 alive, 0 kills"
    engine.step(np.array([[attack_action(1, 0), STAY]]))
    text = battle.banner_text(engine)
    assert text.startswith("step 1/") and "red 1 alive, 1 kills" in text and "blue 0 alive, 0 kills" in text
    assert text.endswith("red wins")


@pytest.mark.parametrize("map_size, team_size", [(12, 1), (80, None)])
def test_env_renders_small_and_large_maps(map_size, team_size):
    env = battle_v0.parallel_env(map_size=map_size, team_size=team_size, render_mode="rgb_array")
    env.reset(seed=3)
    first = env.render()
    rng = np.random.default_rng(0)
    env.step({agent: int(rng.integers(0, 21)) for agent in env.agents})
    second = env.render()
    env.close()
    assert first.shape == second.shape == (640, 640, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, second)
    assert contains(first, palette.RED_TEAM) and contains(first, palette.BLUE_TEAM)


def test_human_mode_returns_none():
    env = battle_v0.parallel_env(map_size=12, team_size=1, render_mode="human")
    env.reset(seed=0)  # human mode renders on reset and step
    env.step({agent: STAY for agent in env.agents})
    assert env.render() is None
    env.close()
