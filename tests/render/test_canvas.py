"""The shared drawing helpers: integer grid layout, index-grid colouring, fonts, text and the banner."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from render import canvas, palette
from render.window import surface_to_array

COLOURS = palette.lookup(palette.BACKGROUND, palette.RED_TEAM, palette.BLUE_TEAM, palette.WALL)


def test_palette_lookup_and_team_colours_are_distinct():
    table = palette.lookup(*palette.TEAM_COLOURS, palette.SPIN_UP, palette.SPIN_DOWN)
    assert table.dtype == np.uint8 and table.shape == (4, 3)
    assert palette.RED_TEAM != palette.BLUE_TEAM and palette.SPIN_UP != palette.SPIN_DOWN
    with pytest.raises(ValueError, match="0..255"):
        palette.lookup((0, 0, 256))
    with pytest.raises(ValueError, match="colours"):
        palette.lookup((1, 2))


def test_fit_grid_uses_integer_cells_centred_in_the_area():
    layout = canvas.fit_grid(pygame.Rect(10, 20, 300, 200), rows=7, cols=11, margin=5)
    assert layout.cell == min(290 // 11, 190 // 7) == 26
    assert (layout.width, layout.height) == (286, 182)
    assert layout.left == 10 + 5 + (290 - 286) // 2
    assert layout.top == 20 + 5 + (190 - 182) // 2
    assert layout.cell_rect(6, 10).bottomright == layout.rect.bottomright


def test_fit_grid_rejects_a_grid_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        canvas.fit_grid(pygame.Rect(0, 0, 50, 50), rows=60, cols=10)
    with pytest.raises(ValueError, match="at least one row"):
        canvas.fit_grid(pygame.Rect(0, 0, 50, 50), rows=0, cols=10)


def test_grid_pixels_paints_each_cell_with_its_colour_non_square():
    indices = np.arange(15).reshape(3, 5) % 4
    pixels = canvas.grid_pixels(indices, COLOURS, cell=4)
    assert pixels.shape == (12, 20, 3) and pixels.dtype == np.uint8
    for row in range(3):
        for col in range(5):
            block = pixels[row * 4 : row * 4 + 4, col * 4 : col * 4 + 4]
            assert (block == COLOURS[indices[row, col]]).all(), (row, col)


def test_grid_pixels_draws_lines_on_the_right_and_bottom_of_each_cell():
    pixels = canvas.grid_pixels(np.ones((2, 3), dtype=int), COLOURS, cell=5, line=1, line_colour=(9, 9, 9))
    line = (pixels == (9, 9, 9)).all(axis=-1)
    assert line[4::5, :].all() and line[:, 4::5].all()
    assert (pixels[:4, :4] == palette.RED_TEAM).all()
    assert line.sum() == 10 * 15 - 8 * 12  # everything outside the 4x4 interiors


@pytest.mark.parametrize(
    "indices, error, match",
    [
        (np.zeros(4, dtype=int), ValueError, "2-D"),
        (np.full((2, 2), 4), ValueError, "colour table"),
        (np.full((2, 2), -1), ValueError, "colour table"),
        (np.zeros((2, 2)), TypeError, "integers"),
    ],
)
def test_grid_pixels_rejects_bad_indices(indices, error, match):
    with pytest.raises(error, match=match):
        canvas.grid_pixels(indices, COLOURS, cell=3)


def test_draw_index_grid_puts_row_r_column_c_at_y_r_x_c():
    surface = pygame.Surface((100, 60))
    layout = canvas.fit_grid(surface.get_rect(), rows=3, cols=5)
    indices = np.zeros((3, 5), dtype=int)
    indices[0, 4] = 1  # top right
    indices[2, 0] = 2  # bottom left
    canvas.draw_index_grid(surface, indices, COLOURS, layout)
    frame = surface_to_array(surface)
    xs, ys = layout.cell_centres(np.array([0, 2, 1]), np.array([4, 0, 2]))
    assert [tuple(c) for c in frame[ys, xs].tolist()] == [palette.RED_TEAM, palette.BLUE_TEAM, palette.BACKGROUND]
    with pytest.raises(ValueError, match="do not match"):
        canvas.draw_index_grid(surface, indices.T, COLOURS, layout)


def test_fonts_are_cached_and_survive_a_font_module_restart():
    assert canvas.font(17) is canvas.font(17)
    pygame.font.quit()
    assert canvas.font(17).size("abc")[0] > 0


def test_fitting_font_size_shrinks_text_to_the_width():
    text = "step 100   x = 4500   x* = 445"
    size = canvas.fitting_font_size(text, 120, 40)
    assert size < 40
    assert canvas.font(size).size(text)[0] <= 120 or size == canvas.MIN_FONT_SIZE
    assert canvas.fitting_font_size("ok", 500, 40) == 40


def test_draw_text_anchors_and_rejects_unknown_anchor():
    surface = pygame.Surface((200, 100))
    rect = canvas.draw_text(surface, "hello", (100, 50), 20, anchor="center")
    assert rect.center == (100, 50)
    with pytest.raises(ValueError, match="anchor"):
        canvas.draw_text(surface, "hello", (0, 0), 20, anchor="middle")


@pytest.mark.parametrize("size", [(640, 640), (800, 300), (160, 120)])
def test_banner_fills_the_top_strip_and_returns_the_body(size):
    surface = pygame.Surface(size)
    surface.fill((1, 2, 3))
    body = canvas.draw_banner(surface, "step 3   value = 0.5", legend=(("red", palette.RED_TEAM), ("blue", palette.BLUE_TEAM)))
    strip, expected_body = canvas.split_banner(size)
    assert body == expected_body and body.top == strip.bottom and body.bottom == size[1]
    frame = surface_to_array(surface)
    assert (frame[strip.bottom :] == (1, 2, 3)).all()  # nothing drawn below the banner
    assert (frame[: strip.bottom] != (1, 2, 3)).any(axis=-1).all()


def test_nice_ticks():
    np.testing.assert_allclose(canvas.nice_ticks(0, 1200, 7), [0, 200, 400, 600, 800, 1000, 1200])
    np.testing.assert_allclose(canvas.nice_ticks(0, 9, 6), [0, 2, 4, 6, 8])
    np.testing.assert_allclose(canvas.nice_ticks(5, 5), [5])
