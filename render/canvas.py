"""Helpers shared by every draw function: crisp grid layout, colour grids, fonts, text and the banner.

Grids are drawn with an integer number of pixels per cell (nearest-neighbour, never smoothed), so a
lattice or a map stays sharp at any window size. Sizes derive from the surface, so one draw function
serves a 160-pixel thumbnail and a full-screen window.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from render import palette  # noqa: E402
from render.palette import Colour  # noqa: E402

ANCHORS = ("topleft", "midtop", "topright", "midleft", "center", "midright", "bottomleft", "midbottom", "bottomright")
MIN_FONT_SIZE = 9
"""Text is never shrunk below this (pygame's default font is unreadable under ~9 px)."""


# -- layout ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridLayout:
    """Where a ``rows`` x ``cols`` grid of square ``cell``-pixel cells lies on a surface.

    Row ``r``, column ``c`` covers pixels ``x in [left + c*cell, left + (c+1)*cell)`` and
    ``y in [top + r*cell, top + (r+1)*cell)``: rows go down, columns go right.
    """

    rows: int
    cols: int
    cell: int
    left: int
    top: int

    @property
    def width(self) -> int:
        """Width of the grid in pixels."""
        return self.cols * self.cell

    @property
    def height(self) -> int:
        """Height of the grid in pixels."""
        return self.rows * self.cell

    @property
    def rect(self) -> pygame.Rect:
        """The rectangle the grid covers."""
        return pygame.Rect(self.left, self.top, self.width, self.height)

    def cell_rect(self, row: int, col: int) -> pygame.Rect:
        """The rectangle of one cell."""
        return pygame.Rect(self.left + col * self.cell, self.top + row * self.cell, self.cell, self.cell)

    def cell_centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel ``(x, y)`` of the centres of cells ``(rows[i], cols[i])``, as int arrays (vectorised)."""
        half = self.cell // 2
        xs = self.left + np.asarray(cols, dtype=np.int64) * self.cell + half
        ys = self.top + np.asarray(rows, dtype=np.int64) * self.cell + half
        return xs, ys


def fit_grid(area: pygame.Rect, rows: int, cols: int, margin: int = 0) -> GridLayout:
    """The largest integer-cell layout of a ``rows`` x ``cols`` grid inside ``area``, centred.

    Args:
        area: the rectangle to fill.
        rows: number of grid rows (height in cells).
        cols: number of grid columns (width in cells).
        margin: pixels kept free on every side of ``area``.

    Raises:
        ValueError: if the grid is empty or does not fit at one pixel per cell.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"a grid needs at least one row and one column, got {rows} x {cols}")
    inner = pygame.Rect(area).inflate(-2 * margin, -2 * margin)
    cell = min(inner.width // cols, inner.height // rows) if inner.width > 0 and inner.height > 0 else 0
    if cell < 1:
        raise ValueError(
            f"a {rows} x {cols} grid does not fit in {area.width} x {area.height} pixels "
            f"with a {margin}-pixel margin; render at a larger size"
        )
    left = inner.left + (inner.width - cols * cell) // 2
    top = inner.top + (inner.height - rows * cell) // 2
    return GridLayout(rows=rows, cols=cols, cell=cell, left=left, top=top)


def banner_height(size: tuple[int, int]) -> int:
    """Height of the banner line on a surface of ``size`` (width, height): about 6 % of its scale."""
    width, height = size
    return min(max(18, round(0.06 * (width * height) ** 0.5)), max(height // 4, 1))


def split_banner(size: tuple[int, int]) -> tuple[pygame.Rect, pygame.Rect]:
    """Split a surface of ``size`` (width, height) into the banner strip at the top and the body below."""
    width, height = size
    strip = banner_height(size)
    return pygame.Rect(0, 0, width, strip), pygame.Rect(0, strip, width, height - strip)


# -- colour grids ----------------------------------------------------------------------------------
def grid_pixels(indices: np.ndarray, colours: np.ndarray, cell: int, line: int = 0, line_colour: Colour = palette.GRID) -> np.ndarray:
    """Turn an index grid into an ``[rows*cell, cols*cell, 3]`` uint8 image in one vectorised pass.

    Args:
        indices: ``[rows, cols]`` integer array, ``indices[r, c]`` selects the colour of cell (r, c).
        colours: ``[k, 3]`` uint8 table (see ``palette.lookup``).
        cell: pixels per cell side (nearest-neighbour: every pixel of a cell has its exact colour).
        line: width of the grid line drawn on the right and bottom edge of every cell (0: none).
        line_colour: colour of the grid lines.

    Raises:
        ValueError: on a non-2-D index grid, an index outside the table, or a bad cell/line size.
        TypeError: on a non-integer index grid.
    """
    indices = np.asarray(indices)
    colours = np.asarray(colours)
    if indices.ndim != 2:
        raise ValueError(f"indices must be a 2-D [rows, cols] array, got shape {indices.shape}")
    if indices.dtype.kind not in "iub":
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    if colours.ndim != 2 or colours.shape[1] != 3:
        raise ValueError(f"colours must be a [k, 3] table, got shape {colours.shape}")
    if indices.size and (indices.min() < 0 or indices.max() >= len(colours)):
        raise ValueError(f"indices must lie in 0..{len(colours) - 1} (the colour table), got {indices.min()}..{indices.max()}")
    if cell < 1 or not 0 <= line < cell:
        raise ValueError(f"need cell >= 1 and 0 <= line < cell, got cell={cell}, line={line}")
    cells = colours.astype(np.uint8)[indices]
    pixels = np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)
    if line:
        pixels = pixels.reshape(indices.shape[0], cell, indices.shape[1], cell, 3)
        pixels[:, cell - line :, :, :] = line_colour
        pixels[:, :, :, cell - line :] = line_colour
        pixels = pixels.reshape(indices.shape[0] * cell, indices.shape[1] * cell, 3)
    return pixels


def draw_index_grid(
    surface: pygame.Surface,
    indices: np.ndarray,
    colours: np.ndarray,
    layout: GridLayout,
    line: int = 0,
    line_colour: Colour = palette.GRID,
) -> None:
    """Draw ``colours[indices]`` as the grid ``layout`` on ``surface`` (see ``grid_pixels``)."""
    indices = np.asarray(indices)
    if indices.shape != (layout.rows, layout.cols):
        raise ValueError(f"indices of shape {indices.shape} do not match the {layout.rows} x {layout.cols} layout")
    pixels = grid_pixels(indices, colours, layout.cell, line, line_colour)
    # surfarray is indexed [x, y]; the image is [row=y, col=x]
    surface.blit(pygame.surfarray.make_surface(pixels.transpose(1, 0, 2)), (layout.left, layout.top))


# -- text ------------------------------------------------------------------------------------------
_fonts: dict[int, pygame.font.Font] = {}


def font(size: int) -> pygame.font.Font:
    """pygame's default font at ``size`` pixels, cached (works headless; re-initialises if needed)."""
    if not pygame.font.get_init():
        pygame.font.init()
        _fonts.clear()  # fonts made before a pygame.font.quit() are dead
    size = max(MIN_FONT_SIZE, int(size))
    if size not in _fonts:
        _fonts[size] = pygame.font.Font(None, size)
    return _fonts[size]


def fitting_font_size(text: str, max_width: int, size: int) -> int:
    """The largest font size ``<= size`` at which ``text`` is at most ``max_width`` pixels wide."""
    width = font(size).size(text)[0]
    while width > max_width and size > MIN_FONT_SIZE:
        size = max(MIN_FONT_SIZE, min(size - 1, int(size * max_width / width)))
        width = font(size).size(text)[0]
    return size


def draw_text(
    surface: pygame.Surface,
    text: str,
    position: tuple[int, int],
    size: int,
    colour: Colour = palette.TEXT,
    anchor: str = "topleft",
) -> pygame.Rect:
    """Draw one line of antialiased ``text`` with its ``anchor`` point at ``position``.

    Args:
        surface: where to draw.
        text: the line (no newlines).
        position: pixel ``(x, y)`` of the anchor point.
        size: font size in pixels.
        colour: text colour.
        anchor: a ``pygame.Rect`` point name: ``topleft``, ``center``, ``midbottom``...

    Returns:
        The rectangle the text covers.
    """
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {ANCHORS}, got {anchor!r}")
    image = font(size).render(text, True, colour)
    rect = image.get_rect(**{anchor: position})
    surface.blit(image, rect)
    return rect


def legend_width(items: Sequence[tuple[str, Colour]], size: int) -> int:
    """Width in pixels of ``draw_legend(items, ..., size)``."""
    swatch, gap = _legend_metrics(size)
    labels = sum(font(size).size(label)[0] for label, _ in items)
    return len(items) * (swatch + gap) + labels + 2 * gap * max(len(items) - 1, 0)


def draw_legend(
    surface: pygame.Surface,
    items: Sequence[tuple[str, Colour]],
    right: int,
    centre_y: int,
    size: int,
) -> pygame.Rect:
    """Draw ``[swatch] label`` pairs in a row that ends at x = ``right``, vertically centred.

    Returns:
        The rectangle the legend covers (zero-width at ``right`` when ``items`` is empty).
    """
    swatch, gap = _legend_metrics(size)
    total = legend_width(items, size)
    x = right - total
    for label, colour in items:
        pygame.draw.rect(surface, colour, (x, centre_y - swatch // 2, swatch, swatch))
        x = draw_text(surface, label, (x + swatch + gap, centre_y), size, palette.TEXT, "midleft").right + 2 * gap
    return pygame.Rect(right - total, centre_y - size // 2, total, size)


def _legend_metrics(size: int) -> tuple[int, int]:
    """``(swatch side, gap)`` in pixels for a legend at font ``size``."""
    return max(6, round(size * 0.6)), max(3, size // 4)


def draw_banner(
    surface: pygame.Surface,
    text: str,
    legend: Sequence[tuple[str, Colour]] = (),
) -> pygame.Rect:
    """Fill the banner strip at the top of ``surface`` with ``text`` on the left and a legend on the right.

    The text shrinks to fit beside the legend; if that would shrink it by more than 15 %, the legend
    is left out, because the text carries the numbers.

    Returns:
        The body rectangle below the banner, where the draw function puts its content.
    """
    strip, body = split_banner(surface.get_size())
    surface.fill(palette.PANEL, strip)
    pad = max(4, strip.height // 4)
    size = round(strip.height * 0.66)
    legend_size = round(strip.height * 0.56)
    room = strip.width - 2 * pad
    with_legend = room - legend_width(legend, legend_size) - 2 * pad if legend else room
    text_size = fitting_font_size(text, with_legend, size)
    if legend and text_size >= 0.85 * size:
        draw_legend(surface, legend, strip.right - pad, strip.centery, legend_size)
    else:
        text_size = fitting_font_size(text, room, size)
    draw_text(surface, text, (pad, strip.centery), text_size, palette.TEXT, "midleft")
    return body


def nice_ticks(low: float, high: float, max_ticks: int = 6) -> np.ndarray:
    """Round tick values (multiples of 1, 2 or 5 times a power of ten) covering ``[low, high]``."""
    if not high > low:
        return np.array([low])
    raw = (high - low) / max(max_ticks - 1, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = np.ceil(low / step) * step
    return np.arange(first, high + step * 1e-9, step)
