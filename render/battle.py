"""Draw a gridworld game (Battle, Battlefield, combined arms): the map with walls, every group with its hp,
this step's attacks and deaths, and a HUD.

Everything is painted into one pixel array with NumPy and blitted once: the cells through a colour
table (``canvas.grid_pixels``), the overlays (hp gauges, attack lines, death crosses) by fancy
indexing over all agents at once, so a 250 x 250 map with 5,000 agents costs no per-agent Python.

What a frame shows depends on how many pixels a cell gets:

- cells of 6 px or more: agents are team-coloured squares; a wounded agent's square is a gauge whose
  top part, the share of hp it lost, is a dim shade of its team colour; a hit is a yellow line from
  the attacker's centre to the target cell's centre (the victim may have moved away after it, as
  moves follow attacks), a miss a short grey stub; an agent killed this step leaves a cross in its
  team's colour;
- 4-5 px: cells in the team colour, dimmer with less hp (``HP_LEVELS`` shades); hits as 1-px lines;
  deaths as light cells;
- 1-3 px: as 4-5 px without the attack lines.

Each group has its colour (``palette.GROUP_COLOURS``): Battle's red and blue are Okabe-Ito vermillion and
blue, apart for every common kind of colour blindness; combined arms' groups are vermillion and orange
(red's melee and ranged) and blue and sky blue (blue's). Attacks are yellow, the lightest colour,
visible on all of them.

The banner gives the step, each side's survivors and kills, and the winner once the episode is over.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pygame

from render import canvas, palette

DETAIL_CELL = 6
"""Cells at least this many pixels wide get grid lines, hp gauges, miss marks and death crosses."""
LINE_CELL = 4
"""Cells at least this many pixels wide get hit lines."""
HP_LEVELS = 4
"""Shades of each team colour that encode hp on small cells: the brightest is full hp only, so any wound shows;
below it, level k covers hp shares in [k / (L - 1), (k + 1) / (L - 1))."""
DIMMEST_SHADE = 0.4
"""Share of the team colour (the rest is floor) at the lowest hp level, so wounded agents stay visible."""
DEATH: palette.Colour = palette.TEXT
"""Fill of a cell where an agent died this step, on cells too small for a cross."""
MISS: palette.Colour = palette.MUTED_TEXT
"""Stub of an attack that hit nobody."""
FLOOR: palette.Colour = palette.PANEL
"""Empty map cells (a step lighter than the frame, so the map's extent is clear)."""
TEAM_NAMES = ("red", "blue")


def _shade(colour: palette.Colour, share: float) -> palette.Colour:
    """``colour`` mixed with the floor: ``share`` 1 is the colour itself, 0 the floor."""
    return tuple(round(f + (c - f) * share) for c, f in zip(colour, FLOOR))  # type: ignore[return-value]


FLOOR_INDEX, WALL_INDEX, DEATH_INDEX, TEAM_INDEX = 0, 1, 2, 3
"""Rows of a cell colour table: group g at hp level k is row ``TEAM_INDEX + g * HP_LEVELS + k``."""


@cache
def cell_colours(colours: tuple[palette.Colour, ...]) -> np.ndarray:
    """Colour table of the cells: floor, wall, fresh death, then each group's ``HP_LEVELS`` shades (dim to full)."""
    return palette.lookup(
        FLOOR,
        palette.WALL,
        DEATH,
        *(_shade(group, DIMMEST_SHADE + (1.0 - DIMMEST_SHADE) * level / (HP_LEVELS - 1)) for group in colours for level in range(HP_LEVELS)),
    )


LOST_HP_SHADE = 0.4
"""Share of the group colour in the lost-hp part of an agent's square (large cells)."""


@cache
def lost_hp_colours(colours: tuple[palette.Colour, ...]) -> np.ndarray:
    """Indexed by group: the colour of the lost-hp part of a wounded agent's square."""
    return palette.lookup(*(_shade(group, LOST_HP_SHADE) for group in colours))


CELL_COLOURS = cell_colours(palette.TEAM_COLOURS)
"""Battle's cell colour table (red, blue)."""
LOST_HP_COLOURS = lost_hp_colours(palette.TEAM_COLOURS)
"""Battle's lost-hp colours, indexed by team."""


FALLBACK_COLOURS = (palette.VERMILLION, palette.BLUE, palette.ORANGE, palette.SKY_BLUE, palette.BLUISH_GREEN, palette.REDDISH_PURPLE)
"""Colours of groups without a name in ``palette.GROUP_COLOURS``, by group index."""


def group_colours(engine: Any) -> tuple[palette.Colour, ...]:
    """The colour of each of the engine's groups (``palette.GROUP_COLOURS`` by name, else ``FALLBACK_COLOURS``)."""
    return tuple(
        palette.GROUP_COLOURS.get(group.name, FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)])
        for k, group in enumerate(engine.game.groups)
    )


def map_layout(surface_size: tuple[int, int], map_size: int) -> canvas.GridLayout:
    """Where ``draw`` puts a ``map_size`` x ``map_size`` map on a surface of ``surface_size`` (width, height)."""
    body = canvas.split_banner(surface_size)[1]
    return canvas.fit_grid(body, map_size, map_size, margin=max(2, min(body.width, body.height) // 60))


def draw(core: Any, surface: pygame.Surface) -> None:
    """Draw game 0 of ``core`` onto ``surface``.

    Args:
        core: the env's single-game core (its ``.engine`` is read) or a ``GridCore`` (``BattleCore``,
            ``CombinedArmsCore``) itself.
        surface: where to draw; the map gets the largest integer cell size that fits below the banner.
    """
    draw_battle(getattr(core, "engine", core), surface, battle=0)


def draw_battle(engine: Any, surface: pygame.Surface, battle: int = 0) -> None:
    """Draw game ``battle`` of a ``GridCore`` (``state``, ``game``, ``tables``, ``wall_maps``, ``results``) onto ``surface``.

    Cell ``(x, y)`` of the map is the cell in column x from the left and row y from the top.

    Raises:
        ValueError: if ``battle`` is not one of the engine's battles, or the map does not fit the surface.
    """
    state, tables = engine.state, engine.tables
    groups = np.asarray(tables.slot_group)
    colours = group_colours(engine)
    n_battles = state.alive.shape[0]
    if not 0 <= battle < n_battles:
        raise ValueError(f"battle must be in [0, {n_battles}), got {battle}")
    surface.fill(palette.BACKGROUND)
    legend = tuple((group.name, colour) for group, colour in zip(engine.game.groups, colours))
    canvas.draw_banner(surface, banner_text(engine, battle), legend)
    layout = map_layout(surface.get_size(), engine.game.map_size)

    alive = state.alive[battle]
    positions = state.positions[battle]
    kinds = tables.slot_type
    hp_share = state.hp[battle] / tables.max_hp[kinds]
    died = state.last_deaths[battle]
    # every cell of a body wider than 1 (adversarial pursuit's 2 x 2 predators) is painted as its agent
    cells, owners = body_cells(positions, np.asarray(tables.widths)[kinds])
    pixels = canvas.grid_pixels(
        _cell_indices(
            np.asarray(engine.wall_maps[battle]), cells, alive[owners], died[owners], groups[owners], hp_share[owners],
            small=layout.cell < DETAIL_CELL,
        ),
        cell_colours(colours),
        layout.cell,
        line=1 if layout.cell >= DETAIL_CELL else 0,
        line_colour=palette.BACKGROUND,
    )
    if layout.cell >= DETAIL_CELL:
        shown = alive[owners]
        _draw_hp_gauges(pixels, layout.cell, cells[shown], groups[owners][shown], hp_share[owners][shown], lost_hp_colours(colours))
    if layout.cell >= LINE_CELL:
        # agents dead before this step keep their last action; only those that acted in it count
        acted = alive | died
        actions = np.maximum(state.last_actions[battle, acted], 0)
        attacked = (state.last_actions[battle, acted] >= tables.n_moves[kinds[acted]])
        _draw_attacks(
            pixels,
            layout.cell,
            positions[acted],
            attacked,
            tables.action_dx[kinds[acted], actions],
            tables.action_dy[kinds[acted], actions],
            state.last_hits[battle, acted],
            show_misses=layout.cell >= DETAIL_CELL,
        )
    if layout.cell >= DETAIL_CELL:  # over the killing blow's line, which ends at the cross's centre
        _draw_death_crosses(pixels, layout.cell, positions[died], groups[died], colours)
    # surfarray is indexed [x, y]; the image is [row = y, col = x]
    surface.blit(pygame.surfarray.make_surface(pixels.transpose(1, 0, 2)), (layout.left, layout.top))


def body_cells(positions: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cells [M, 2], owners [M])``: every cell ``(x, y)`` of every agent's body (a ``w`` x ``w`` square from
    its position, the top-left cell) and the slot it belongs to; the positions themselves when all are 1 x 1."""
    if (widths == 1).all():
        return positions, np.arange(len(positions))
    owners = np.repeat(np.arange(len(positions)), widths * widths)
    # offsets of each body's cells, row-major within its square
    index = np.arange(len(owners)) - np.repeat(np.cumsum(widths * widths) - widths * widths, widths * widths)
    width = widths[owners]
    cells = positions[owners] + np.stack([index % width, index // width], axis=1)
    return cells, owners


# -- HUD -------------------------------------------------------------------------------------------
def banner_text(engine: Any, battle: int = 0) -> str:
    """The banner line: step, survivors and kills of each side, and the winner (more kills) once the game is over."""
    results = engine.results(battle)
    sides = "   ".join(
        f"{name} {results[f'{name}_survivors']} alive, {results[f'{name}_kills']} kills" for name in getattr(engine, "team_names", TEAM_NAMES)
    )
    text = f"step {int(engine.state.steps[battle])}/{engine.max_cycles}   {sides}"
    if "predator_tags" in results:  # adversarial pursuit: tags, not kills
        text += f"   {results['predator_tags']} tags"
    if engine.state.done[battle]:
        text += "   draw" if results["winner"] == "draw" else f"   {results['winner']} wins"
    return text


# -- cells -----------------------------------------------------------------------------------------
def _cell_indices(
    walls: np.ndarray,
    positions: np.ndarray,
    alive: np.ndarray,
    died: np.ndarray,
    teams: np.ndarray,
    hp_share: np.ndarray,
    small: bool,
) -> np.ndarray:
    """``[H, W]`` rows of the cell colour table (``teams``: each slot's group); on ``small`` cells hp
    picks the shade, else agents are full colour."""
    indices = np.where(walls, WALL_INDEX, FLOOR_INDEX).astype(np.intp)
    if small:
        level = np.clip(np.floor(hp_share * (HP_LEVELS - 1) + 1e-6).astype(np.intp), 0, HP_LEVELS - 1)
        dead = positions[died]
        indices[dead[:, 1], dead[:, 0]] = DEATH_INDEX
    else:
        level = np.full(len(alive), HP_LEVELS - 1, dtype=np.intp)
    living = positions[alive]
    indices[living[:, 1], living[:, 0]] = TEAM_INDEX + teams[alive] * HP_LEVELS + level[alive]
    return indices


# -- overlays (all agents at once) -----------------------------------------------------------------
def _paint(pixels: np.ndarray, ys: np.ndarray, xs: np.ndarray, colours: np.ndarray | palette.Colour) -> None:
    """Set ``pixels[ys, xs]`` to ``colours``, dropping points outside the image."""
    inside = (ys >= 0) & (ys < pixels.shape[0]) & (xs >= 0) & (xs < pixels.shape[1])
    colours = np.asarray(colours, dtype=np.uint8)
    pixels[ys[inside], xs[inside]] = colours[inside] if colours.ndim == inside.ndim + 1 else colours


def _draw_hp_gauges(
    pixels: np.ndarray, cell: int, positions: np.ndarray, teams: np.ndarray, hp_share: np.ndarray, lost_colours: np.ndarray = LOST_HP_COLOURS
) -> None:
    """Show hp as a fill level: the top of a wounded agent's square, the share of hp it lost, in a dim group shade."""
    wounded = hp_share < 1.0 - 1e-6
    positions, teams, hp_share = positions[wounded], teams[wounded], hp_share[wounded]
    inner = cell - 1  # the square left of and above the grid line
    lost_rows = np.clip(np.round((1.0 - hp_share) * inner).astype(np.int64), 1, inner - 1)
    rows, columns = np.arange(inner), np.arange(inner)
    ys = positions[:, 1, None, None] * cell + rows[None, :, None]
    xs = positions[:, 0, None, None] * cell + columns[None, None, :]
    ys, xs = np.broadcast_arrays(ys, xs)
    lost = ys - positions[:, 1, None, None] * cell < lost_rows[:, None, None]
    _paint(pixels, ys[lost], xs[lost], np.asarray(lost_colours)[np.broadcast_to(teams[:, None, None], lost.shape)[lost]])


def _draw_death_crosses(
    pixels: np.ndarray, cell: int, positions: np.ndarray, teams: np.ndarray, colours: tuple[palette.Colour, ...] = palette.TEAM_COLOURS
) -> None:
    """An X in the group's colour on the cell where each agent died this step (the cell itself is empty now)."""
    inner = cell - 1
    pad = max(1, inner // 6)
    span = inner - 2 * pad
    thickness = max(1, round(inner / 6))
    t = np.arange(span - thickness + 1)
    brush = np.arange(thickness)
    # the two diagonals of a span x span box, each a diagonal run of thickness-wide horizontal strokes
    stroke_y = np.concatenate([t, t])[:, None]
    stroke_x = np.concatenate([t, span - thickness - t])[:, None] + brush[None, :]
    ys = positions[:, 1, None, None] * cell + pad + stroke_y[None] + (thickness - 1) // 2
    xs = positions[:, 0, None, None] * cell + pad + stroke_x[None]
    ys, xs = np.broadcast_arrays(ys, xs)
    colours = np.asarray(colours, dtype=np.uint8)[teams][:, None, None, :]
    _paint(pixels, ys, xs, np.broadcast_to(colours, (*ys.shape, 3)))


def _draw_attacks(
    pixels: np.ndarray,
    cell: int,
    positions: np.ndarray,
    attacked: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    last_hits: np.ndarray,
    show_misses: bool,
) -> None:
    """A line from each attacker's centre to its target's centre for a hit; a short stub for a miss.

    ``attacked``: the agent's last action was an attack, aimed at offset ``(dx, dy)`` (its type's).
    Attackers do not move in the step they attack, so their position now is where they attacked
    from (an attacker killed earlier in that step keeps its last position and never hit).
    """
    hit = attacked & last_hits
    miss = attacked & ~last_hits if show_misses else np.zeros_like(attacked)
    half = cell // 2
    thickness = max(1, cell // 6) if cell >= DETAIL_CELL else 1
    for which, length, width, colour in (
        (miss, max(2, cell // 2), 1, MISS),
        (hit, cell, thickness, palette.ATTACK),
    ):  # two passes (misses under hits), each over all attackers at once
        if not which.any():
            continue
        step_x, step_y = dx[which], dy[which]
        start_x = positions[which, 0] * cell + half
        start_y = positions[which, 1] * cell + half
        t = np.arange(length + 1)
        brush = np.arange(width) - (width - 1) // 2
        # [attacker, point along the line, brush row, brush column]
        xs = start_x[:, None, None, None] + step_x[:, None, None, None] * t[None, :, None, None] + brush[None, None, None, :]
        ys = start_y[:, None, None, None] + step_y[:, None, None, None] * t[None, :, None, None] + brush[None, None, :, None]
        ys, xs = np.broadcast_arrays(ys, xs)
        _paint(pixels, ys, xs, colour)
