"""Draw the Ising lattice: one crisp square per site in the spin colours, and a banner with xi and energy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

from mfenvs.ising.core import energy_per_site, order_parameter
from render import canvas, palette

SPIN_COLOURS = palette.lookup(palette.SPIN_DOWN, palette.SPIN_UP)
"""Row 0 colours a -1 spin, row 1 a +1 spin: ``SPIN_COLOURS[(spins > 0)]``."""
LEGEND = (("+1", palette.SPIN_UP), ("-1", palette.SPIN_DOWN))


def lattice_layout(surface_size: tuple[int, int], size: int) -> canvas.GridLayout:
    """Where ``draw`` puts a ``size`` x ``size`` lattice on a surface of ``surface_size`` (width, height)."""
    body = canvas.split_banner(surface_size)[1]
    return canvas.fit_grid(body, size, size, margin=_margin(body))


def draw(core: Any, surface: pygame.Surface) -> None:
    """Draw ``core`` (an ``IsingCore``: ``spins``, ``config``, ``steps``) onto ``surface``.

    Site (row y, column x) of ``core.spins`` is the cell in row y from the top, column x from the left.
    """
    spins = np.asarray(core.spins)
    config = core.config
    surface.fill(palette.BACKGROUND)
    xi = order_parameter(spins)
    energy = energy_per_site(spins, config.h, config.coupling)
    canvas.draw_banner(surface, f"step {core.steps}   \u03be = {xi:.3f}   E/N = {energy:+.3f}", LEGEND)
    layout = lattice_layout(surface.get_size(), config.size)
    canvas.draw_index_grid(surface, (spins > 0).astype(np.intp), SPIN_COLOURS, layout)


def _margin(body: pygame.Rect) -> int:
    return max(2, min(body.width, body.height) // 60)
