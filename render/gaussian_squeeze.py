"""Draw Gaussian Squeeze: a histogram of the agents' actions and the reward curve G(x) with x and x*.

The two panels sit one above the other, or side by side on a wide surface. The curve is shown over
``0 .. min(max_load, mu + 4 sigma)``, where nearly all of G's mass lies; a load beyond that window
is drawn as an arrow at the right edge with its value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

from mfenvs.gaussian_squeeze.core import squeeze_reward
from render import canvas, palette

WIDE_ASPECT = 1.3
"""Surfaces at least this much wider than tall get the panels side by side."""


def curve_window(config: Any) -> float:
    """Right end of the G(x) plot: ``min(max_load, mu + 4 sigma)``, and at least the optimum."""
    peak = (config.mu + np.sqrt(config.mu**2 + 2 * config.sigma**2)) / 2
    return float(max(min(config.max_load, config.mu + 4 * config.sigma), min(peak, config.max_load), 1.0))


def draw(core: Any, surface: pygame.Surface) -> None:
    """Draw ``core`` (a ``GaussianSqueezeCore``) onto ``surface``.

    Reads ``core.config`` (``n_agents``, ``n_actions``, ``mu``, ``sigma``, ``max_load``),
    ``core.actions``, ``core.x``, ``core.x_opt``, ``core.g_opt`` and ``core.steps``.
    """
    surface.fill(palette.BACKGROUND)
    ratio = core.reward / core.g_opt if core.g_opt > 0 else 0.0
    body = canvas.draw_banner(
        surface, f"step {core.steps}   x = {core.x}   x* = {core.x_opt}   G/G* = {ratio:.3f}"
    )
    histogram_rect, curve_rect = _split_panels(body)
    _draw_histogram(surface, histogram_rect, core)
    _draw_curve(surface, curve_rect, core)


# -- layout ----------------------------------------------------------------------------------------
def _split_panels(body: pygame.Rect) -> tuple[pygame.Rect, pygame.Rect]:
    """Histogram and curve rectangles: stacked, or side by side when ``body`` is wide."""
    gap = max(4, min(body.width, body.height) // 40)
    inner = body.inflate(-2 * gap, -2 * gap)
    if body.width >= WIDE_ASPECT * body.height:
        half = (inner.width - gap) // 2
        return (
            pygame.Rect(inner.left, inner.top, half, inner.height),
            pygame.Rect(inner.left + half + gap, inner.top, inner.width - half - gap, inner.height),
        )
    half = (inner.height - gap) // 2
    return (
        pygame.Rect(inner.left, inner.top, inner.width, half),
        pygame.Rect(inner.left, inner.top + half + gap, inner.width, inner.height - half - gap),
    )


def _font_size(panel: pygame.Rect) -> int:
    return int(np.clip(min(panel.width, panel.height * 1.6) / 25, canvas.MIN_FONT_SIZE, 22))


def _panel(surface: pygame.Surface, rect: pygame.Rect, title: str, size: int) -> pygame.Rect:
    """Fill a panel, write its title, and return the plot area inside (room left for tick labels)."""
    surface.fill(palette.PANEL, rect)
    pad = max(3, size // 2)
    title_rect = canvas.draw_text(surface, title, (rect.left + pad, rect.top + pad), size, palette.MUTED_TEXT)
    left = rect.left + pad + canvas.font(size).size("0000")[0] + pad
    top = title_rect.bottom + pad + size  # one text line free for labels above the data
    bottom = rect.bottom - pad - size - pad // 2  # tick labels below the axis
    return pygame.Rect(left, top, max(rect.right - 2 * pad - left, 1), max(bottom - top, 1))


# -- histogram -------------------------------------------------------------------------------------
def _draw_histogram(surface: pygame.Surface, rect: pygame.Rect, core: Any) -> None:
    config = core.config
    counts = np.bincount(np.asarray(core.actions, dtype=np.int64), minlength=config.n_actions)[: config.n_actions]
    size = _font_size(rect)
    plot = _panel(surface, rect, f"actions of the {config.n_agents} agents", size)
    # a rounded y range (1, 2 or 5 x 10^k) keeps the bars from jumping between frames
    top_count = _nice_ceiling(max(int(counts.max()), 1))
    _y_axis(surface, plot, canvas.nice_ticks(0, top_count, 3), top_count, size, "{:.0f}")

    slot = plot.width / config.n_actions
    edges = plot.left + np.round(np.arange(config.n_actions + 1) * slot).astype(int)
    bar_gap = int(slot * 0.15)
    heights = np.round(counts / top_count * plot.height).astype(int)
    label_every = max(1, int(_nice_ceiling(canvas.font(size).size(str(config.n_actions - 1))[0] * 2.2 / slot)))
    count_labels = canvas.font(size).size(str(int(counts.max())))[0] <= slot - 2
    for action in range(config.n_actions):  # one bar per action, not per agent
        left, right = edges[action] + bar_gap // 2, edges[action + 1] - (bar_gap - bar_gap // 2)
        bar = pygame.Rect(left, plot.bottom - heights[action], max(right - left, 1), heights[action])
        pygame.draw.rect(surface, palette.BAR, bar)
        centre = (edges[action] + edges[action + 1]) // 2
        if action % label_every == 0:
            canvas.draw_text(surface, str(action), (centre, plot.bottom + 2), size, palette.MUTED_TEXT, "midtop")
        if count_labels and counts[action]:
            canvas.draw_text(surface, str(counts[action]), (centre, bar.top - 1), size, palette.TEXT, "midbottom")
    pygame.draw.line(surface, palette.AXIS, plot.bottomleft, plot.bottomright)


# -- reward curve ----------------------------------------------------------------------------------
def _draw_curve(surface: pygame.Surface, rect: pygame.Rect, core: Any) -> None:
    config = core.config
    size = _font_size(rect)
    plot = _panel(surface, rect, f"reward G(x),  \u03bc = {config.mu:g},  \u03c3 = {config.sigma:g}", size)
    x_high = curve_window(config)
    g_high = max(core.g_opt, 1e-12) * 1.12

    def to_px(x: np.ndarray | float, g: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        px = plot.left + np.asarray(x) / x_high * (plot.width - 1)
        py = plot.bottom - np.asarray(g) / g_high * plot.height
        return np.round(px).astype(int), np.round(py).astype(int)

    _y_axis(surface, plot, np.array([0.0, core.g_opt]), g_high, size, "{:.0f}", labels=("0", "G*"))
    # the curve, sampled once per pixel column
    xs = np.linspace(0.0, x_high, max(plot.width, 2))
    px, py = to_px(xs, squeeze_reward(xs, config.mu, config.sigma))
    points = np.column_stack([px, py]).tolist()
    pygame.draw.polygon(surface, palette.CURVE_FILL, [(plot.left, plot.bottom), *points, (px[-1], plot.bottom)])
    pygame.draw.lines(surface, palette.CURVE, False, points, max(2, size // 7))
    pygame.draw.line(surface, palette.AXIS, plot.bottomleft, plot.bottomright)
    for tick in canvas.nice_ticks(0, x_high, 7):
        tx = int(to_px(tick, 0)[0])
        pygame.draw.line(surface, palette.AXIS, (tx, plot.bottom), (tx, plot.bottom + max(2, size // 4)))
        canvas.draw_text(surface, f"{tick:g}", (tx, plot.bottom + 2), size, palette.MUTED_TEXT, "midtop")

    # x* (dashed) and the current x (solid, with a dot on the curve); labels on two text rows above
    label_row = plot.top - size
    ox = int(to_px(core.x_opt, 0)[0])
    _dashed_vline(surface, palette.OPTIMUM, ox, plot.top, plot.bottom, max(1, size // 8))
    canvas.draw_text(surface, f"x* {core.x_opt}", (ox, label_row), size, palette.OPTIMUM, _label_anchor(ox, plot))
    width = max(2, size // 6)
    if core.x <= x_high:
        cx, cy = (int(v) for v in to_px(core.x, squeeze_reward(float(core.x), config.mu, config.sigma)))
        pygame.draw.line(surface, palette.CURRENT, (cx, plot.top + size), (cx, plot.bottom), width)
        pygame.draw.circle(surface, palette.CURRENT, (cx, cy), max(3, size // 3))
        canvas.draw_text(surface, f"x {core.x}", (cx, label_row + size), size, palette.CURRENT, _label_anchor(cx, plot))
    else:  # off the chart: an arrow at the right edge, labelled
        tip = max(6, size * 2 // 3)
        mid = plot.top + size + plot.height // 4
        right = plot.right - 1
        pygame.draw.polygon(surface, palette.CURRENT, [(right, mid), (right - tip, mid - tip), (right - tip, mid + tip)])
        canvas.draw_text(surface, f"x {core.x}", (right - tip - 4, mid), size, palette.CURRENT, "midright")


def _y_axis(
    surface: pygame.Surface,
    plot: pygame.Rect,
    ticks: np.ndarray,
    top_value: float,
    size: int,
    fmt: str,
    labels: tuple[str, ...] | None = None,
) -> None:
    """Faint horizontal guides at ``ticks`` (value ``top_value`` at the plot's top) with labels left of it."""
    for index, tick in enumerate(ticks):
        y = round(plot.bottom - tick / top_value * plot.height)
        if tick > 0:
            pygame.draw.line(surface, palette.GRID, (plot.left, y), (plot.right, y))
        label = labels[index] if labels else fmt.format(tick)
        canvas.draw_text(surface, label, (plot.left - 4, y), size, palette.MUTED_TEXT, "midright")


def _dashed_vline(surface: pygame.Surface, colour: palette.Colour, x: int, top: int, bottom: int, width: int) -> None:
    dash = max(3, (bottom - top) // 30)
    for y in range(top, bottom, 2 * dash):
        pygame.draw.line(surface, colour, (x, y), (x, min(y + dash, bottom)), width)


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is >= ``value`` (> 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def _label_anchor(x: int, plot: pygame.Rect) -> str:
    """Put a marker's label on the side of the line with more room."""
    return "topleft" if x < plot.centerx else "topright"
