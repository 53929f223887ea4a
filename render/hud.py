"""The HUD: a scoreboard strip under the environment's drawing, shared by the viewer and recordings.

The HUD reads the environment's state (never the trainers), so any policy can be shown:

- Battle: one row per team with its colour, the policy's name, survivors, kills and the team's
  cumulative reward, and a chart of each team's survivors over the episode;
- Ising: the policy's name, the order parameter xi and the energy per site E/N, and their chart over
  the episode (-E/N scaled to 0..1: striped domains order the lattice without raising xi);
- Gaussian Squeeze: the policy's name, G/G*, the load x against the optimum x*, and the G/G* chart.

A status line (the viewer's play state and keys) can be added under the rows.

``compose_frame`` lays a frame out: the environment's own ``draw(core, surface)`` function fills
the area above the strip (so grids keep their integer cell sizes), the HUD the strip below.

Example:
    >>> import pygame
    >>> from mfenvs import ising_v0
    >>> from render import ising
    >>> env = ising_v0.parallel_env(size=8)
    >>> _ = env.reset(seed=0)
    >>> hud = Hud({"all": "random"})
    >>> hud.update(env.unwrapped.core).measures[0][0]
    'ξ'
    >>> surface = pygame.Surface((320, 360))
    >>> compose_frame(surface, ising.draw, env.unwrapped.core, hud).height == hud.height(surface.get_size())
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pygame

from mfenvs.battle.core import BattleCore
from mfenvs.battle.env import SingleBattle
from mfenvs.gaussian_squeeze.core import GaussianSqueezeCore
from mfenvs.gridworld.core import GridCore
from mfenvs.gridworld.single import SingleGame
from mfenvs.ising.core import IsingCore, energy_per_site, order_parameter
from render import canvas, palette

TEAM_NAMES = ("red", "blue")
MIN_TEXT = 11
"""Smallest HUD font size in pixels."""
MAX_TEXT = 22
"""Largest HUD font size in pixels."""
CHART_STEPS = 100
"""The chart's x axis spans at least this many steps (or the whole episode, if shorter)."""


@dataclass(frozen=True)
class SideLine:
    """One team's row of the scoreboard."""

    team: str
    colour: palette.Colour
    policy: str
    alive: int
    kills: int
    reward: float


@dataclass(frozen=True)
class Trace:
    """A series charted by the HUD: ``values`` in ``[0, 1]``, one per state of the episode so far."""

    label: str
    colour: palette.Colour
    values: tuple[float, ...]


@dataclass(frozen=True)
class HudInfo:
    """Everything the HUD shows of one state.

    Attributes:
        step: steps played in the episode.
        max_steps: the episode's step limit.
        sides: Battle's team rows (empty for environments without teams).
        policy: the policy of every agent (environments without teams), else None.
        measures: ``(label, value text)`` pairs: xi, G/G*, x...
        outcome: "red wins", "blue wins", "draw" once a Battle is over, else None.
        traces: the charted series (survivors per team, xi, G/G*).
    """

    step: int
    max_steps: int
    sides: tuple[SideLine, ...] = ()
    policy: str | None = None
    measures: tuple[tuple[str, str], ...] = ()
    outcome: str | None = None
    traces: tuple[Trace, ...] = field(default=())


class Hud:
    """Reads HUD values from an environment core after every reset and step, and draws them.

    Args:
        policy_names: the name shown for each group: ``{"red": ..., "blue": ...}`` for Battle,
            ``{"all": ...}`` otherwise (missing groups show ``"?"``).

    Raises:
        TypeError: from ``update``, for a core of an environment the HUD does not know.
    """

    def __init__(self, policy_names: Mapping[str, str]):
        self.policy_names = dict(policy_names)
        self.info: HudInfo | None = None
        self._history: list[tuple[float, ...]] = []

    def reset(self) -> None:
        """Forget the charted history (call before the first ``update`` of a new episode)."""
        self._history.clear()
        self.info = None

    def update(self, core: Any) -> HudInfo:
        """Read ``core`` (the state after a reset or a step), extend the charts and return what is shown."""
        reader = _reader_for(core)
        info = reader(core, self.policy_names)
        self._history.append(tuple(trace.values[0] for trace in info.traces))
        columns = list(zip(*self._history))
        traces = tuple(
            Trace(trace.label, trace.colour, tuple(column)) for trace, column in zip(info.traces, columns)
        )
        self.info = HudInfo(
            step=info.step,
            max_steps=info.max_steps,
            sides=info.sides,
            policy=info.policy,
            measures=info.measures,
            outcome=info.outcome,
            traces=traces,
        )
        return self.info

    def height(self, size: tuple[int, int], status: bool = False) -> int:
        """Pixel height of the strip on a frame of ``size`` (width, height), with or without the status line."""
        rows = self._rows() + (1 if status else 0)
        return rows * _row_height(_text_size(size))

    def _rows(self) -> int:
        return max(1, len(self.info.sides)) if self.info is not None else 1

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, status: tuple[str, str] | None = None) -> None:
        """Draw the strip into ``rect`` of ``surface``; ``status`` is ``(state, keys)`` text for the viewer's line.

        Raises:
            ValueError: if ``update`` has not been called yet.
        """
        if self.info is None:
            raise ValueError("Hud.draw called before Hud.update: there is no state to show")
        info = self.info
        surface.fill(palette.PANEL, rect)
        size = _text_size(surface.get_size())
        row = _row_height(size)
        pad = max(4, size // 2)
        rows_rect = pygame.Rect(rect.left, rect.top, rect.width, self._rows() * row)
        chart_width = int(rows_rect.width * 0.22) if info.traces and rect.width >= 320 else 0
        text_right = rows_rect.right - chart_width - (2 * pad if chart_width else pad)
        if info.sides:
            for index, side in enumerate(info.sides):
                _draw_side(surface, pygame.Rect(rect.left + pad, rect.top + index * row, text_right - rect.left - pad, row), side, info, size)
        else:
            _draw_measures(surface, pygame.Rect(rect.left + pad, rect.top, text_right - rect.left - pad, row), info, size)
        if chart_width:
            chart = pygame.Rect(text_right + pad, rows_rect.top + pad // 2, chart_width, rows_rect.height - pad)
            _draw_chart(surface, chart, info)
        if status is not None:
            line = pygame.Rect(rect.left + pad, rows_rect.bottom, rect.width - 2 * pad, row)
            pygame.draw.line(surface, palette.GRID, (rect.left, line.top), (rect.right - 1, line.top))
            state, keys = status
            state_rect = canvas.draw_text(surface, state, (line.left, line.centery), size, palette.TEXT, "midleft")
            keys_size = canvas.fitting_font_size(keys, max(line.right - state_rect.right - 2 * pad, 1), round(size * 0.85))
            canvas.draw_text(surface, keys, (line.right, line.centery), keys_size, palette.MUTED_TEXT, "midright")


def compose_frame(
    surface: pygame.Surface,
    draw: Callable[[Any, pygame.Surface], None],
    core: Any,
    hud: Hud,
    status: tuple[str, str] | None = None,
) -> pygame.Rect:
    """Draw ``core`` with ``draw`` above the HUD strip, and the strip at the bottom of ``surface``.

    Returns:
        The strip's rectangle.
    """
    width, height = surface.get_size()
    strip_height = min(hud.height((width, height), status is not None), height // 2)
    scene = pygame.Rect(0, 0, width, height - strip_height)
    draw(core, surface.subsurface(scene))
    strip = pygame.Rect(0, scene.bottom, width, strip_height)
    hud.draw(surface, strip, status)
    return strip


# -- reading the state ----------------------------------------------------------------------------
def _battle(core: Any, names: Mapping[str, str]) -> HudInfo:
    engine = getattr(core, "engine", core)
    results = engine.results(0)
    state = engine.state
    team_sizes = np.bincount(np.asarray(engine.teams), minlength=2)
    sides = tuple(
        SideLine(
            team=team,
            colour=palette.TEAM_COLOURS[index],
            policy=names.get(team) or side_policy(names, team),
            alive=int(results[f"{team}_survivors"]),
            kills=int(results[f"{team}_kills"]),
            reward=float(results[f"{team}_total_reward"]),
        )
        for index, team in enumerate(getattr(engine, "team_names", TEAM_NAMES))
    )
    done = bool(state.done[0])
    outcome = None if not done else ("draw" if results["winner"] == "draw" else f"{results['winner']} wins")
    traces = tuple(
        Trace(f"{side.team} alive", side.colour, (side.alive / max(int(team_sizes[index]), 1),))
        for index, side in enumerate(sides)
    )
    return HudInfo(int(state.steps[0]), engine.max_cycles, sides=sides, outcome=outcome, traces=traces)


def side_policy(names: Mapping[str, str], team: str) -> str:
    """The policy of a side made of several groups (combined arms' ``redmelee``, ``redranged``): their
    names joined, or ``"?"`` if none is given."""
    labels = dict.fromkeys(name for group, name in names.items() if group.startswith(team))
    return " / ".join(labels) or "?"


def _ising(core: Any, names: Mapping[str, str]) -> HudInfo:
    spins = np.asarray(core.spins)
    config = core.config
    xi = order_parameter(spins)
    energy = energy_per_site(spins, config.h, config.coupling)
    # -E/N over its largest value (every bond and field satisfied): 1 for a fully ordered lattice, and
    # it rises for striped domains too, which the order parameter xi does not see
    local_order = float(np.clip(-energy / max(2.0 * abs(config.coupling) + abs(config.h), 1e-12), 0.0, 1.0))
    return HudInfo(
        core.steps,
        config.max_cycles,
        policy=names.get("all", "?"),
        measures=(("\u03be", f"{xi:.3f}"), ("E/N", f"{energy:+.3f}")),
        traces=(Trace("\u03be", palette.SPIN_UP, (float(xi),)), Trace("-E/N", palette.TEXT, (local_order,))),
    )


def _squeeze(core: Any, names: Mapping[str, str]) -> HudInfo:
    ratio = core.reward / core.g_opt if core.g_opt > 0 else 0.0
    return HudInfo(
        core.steps,
        core.config.max_cycles,
        policy=names.get("all", "?"),
        measures=(("G/G*", f"{ratio:.3f}"), ("x", f"{core.x} (x* {core.x_opt})")),
        traces=(Trace("G/G*", palette.OPTIMUM, (float(np.clip(ratio, 0.0, 1.0)),)),),
    )


_READERS: dict[type, Callable[[Any, Mapping[str, str]], HudInfo]] = {
    SingleBattle: _battle,
    BattleCore: _battle,
    SingleGame: _battle,  # combined arms, tiger-deer, gather, adversarial pursuit
    GridCore: _battle,
    IsingCore: _ising,
    GaussianSqueezeCore: _squeeze,
}


def _reader_for(core: Any) -> Callable[[Any, Mapping[str, str]], HudInfo]:
    for kind, reader in _READERS.items():
        if isinstance(core, kind):
            return reader
    known = ", ".join(kind.__name__ for kind in _READERS)
    raise TypeError(f"the HUD cannot read a {type(core).__name__}; it reads {known}")


# -- drawing --------------------------------------------------------------------------------------
def _text_size(size: tuple[int, int]) -> int:
    width, height = size
    return int(np.clip(round(0.03 * (width * height) ** 0.5), MIN_TEXT, MAX_TEXT))


def _row_height(text_size: int) -> int:
    return round(text_size * 1.6)


def _draw_side(surface: pygame.Surface, row: pygame.Rect, side: SideLine, info: HudInfo, size: int) -> None:
    """``[swatch] red  policy ....  alive 12  kills 5  reward +3.2`` (numbers right-aligned in columns)."""
    swatch = max(6, round(size * 0.7))
    pygame.draw.rect(surface, side.colour, (row.left, row.centery - swatch // 2, swatch, swatch))
    name_right = canvas.draw_text(surface, side.team, (row.left + swatch + size // 2, row.centery), size, side.colour, "midleft").right
    won = info.outcome == f"{side.team} wins"
    columns = (f"alive {side.alive}", f"kills {side.kills}", f"reward {side.reward:+.1f}")
    widths = [canvas.font(size).size(text)[0] for text in ("alive 000", "kills 000", "reward +000.0")]
    x = row.right
    for text, width in zip(reversed(columns), reversed(widths)):
        canvas.draw_text(surface, text, (x, row.centery), size, palette.TEXT, "midright")
        x -= width + size
    policy_left = name_right + size // 2 + (canvas.font(size).size("blue")[0] - canvas.font(size).size(side.team)[0])
    policy = side.policy + ("  (wins)" if won else "")
    _draw_fitted(surface, policy, policy_left, x, row.centery, size, palette.TEXT if won else palette.MUTED_TEXT)


def _draw_measures(surface: pygame.Surface, row: pygame.Rect, info: HudInfo, size: int) -> None:
    """``policy NAME ....  xi 0.734`` for environments without teams."""
    x = row.right
    for label, value in reversed(info.measures):
        value_rect = canvas.draw_text(surface, value, (x, row.centery), size, palette.TEXT, "midright")
        label_rect = canvas.draw_text(surface, label, (value_rect.left - size // 3, row.centery), size, palette.MUTED_TEXT, "midright")
        x = label_rect.left - size
    label_right = canvas.draw_text(surface, "policy", (row.left, row.centery), size, palette.MUTED_TEXT, "midleft").right
    _draw_fitted(surface, info.policy or "?", label_right + size // 2, x, row.centery, size, palette.TEXT)


def _draw_fitted(surface: pygame.Surface, text: str, left: int, right: int, centre_y: int, size: int, colour: palette.Colour) -> None:
    """Draw ``text`` between ``left`` and ``right``, shortened with an ellipsis in the middle if it does not fit."""
    room = right - left
    if room <= 0:
        return
    font = canvas.font(size)
    if font.size(text)[0] > room:
        keep = len(text)
        while keep > 1 and font.size(_middle_ellipsis(text, keep))[0] > room:
            keep -= 1
        text = _middle_ellipsis(text, keep)
    canvas.draw_text(surface, text, (left, centre_y), size, colour, "midleft")


def _middle_ellipsis(text: str, keep: int) -> str:
    """``text`` with its middle replaced by ``...`` so that ``keep`` of its characters remain."""
    if keep >= len(text):
        return text
    head = (keep + 1) // 2
    return text[:head] + "..." + text[len(text) - (keep - head) :]


def _draw_chart(surface: pygame.Surface, rect: pygame.Rect, info: HudInfo) -> None:
    """Each trace as a line over the episode so far; x spans the step limit, y spans 0..1."""
    if rect.width < 8 or rect.height < 6:
        return
    surface.fill(palette.BACKGROUND, rect)
    pygame.draw.rect(surface, palette.GRID, rect, 1)
    inner = rect.inflate(-4, -4)
    longest = max(len(trace.values) for trace in info.traces)
    # the line grows rightwards over the first CHART_STEPS steps, then the whole episode is squeezed in
    span = max(longest - 1, min(info.max_steps, CHART_STEPS), 1)
    for trace in info.traces:
        values = np.asarray(trace.values, dtype=np.float64)
        xs = inner.left + np.arange(len(values)) * (inner.width - 1) / span
        ys = inner.bottom - 1 - np.clip(values, 0.0, 1.0) * (inner.height - 1)
        points = np.stack([xs, ys], axis=1).round().astype(int).tolist()
        if len(points) == 1:
            points = points * 2
        pygame.draw.lines(surface, trace.colour, False, points, 2 if inner.height >= 24 else 1)
    label = " / ".join(dict.fromkeys(trace.label.split()[-1] for trace in info.traces))
    canvas.draw_text(surface, label, (inner.right, inner.top), canvas.MIN_FONT_SIZE + 1, palette.MUTED_TEXT, "topright")
