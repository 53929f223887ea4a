"""``Viewer``: the interactive window over any environment and policies.

The viewer knows nothing about trainers: it steps an ``EpisodeSource`` (an environment with its
policies, built by ``mfagents.commands.watch``) and draws the source's core with the environment's pure
``draw(core, surface)`` function above the HUD (``render.hud``).

Keys:

| key | action |
|---|---|
| space | pause / resume |
| right arrow | one step (while paused) |
| ``+`` / ``-`` | faster / slower (``SPEEDS`` times the base rate) |
| ``r`` | restart (a new episode) |
| ``q`` / Esc | quit |

The window is resizable; every frame is drawn at the window's size, so grids keep integer cell
sizes instead of being stretched. A frame is drawn into the window surface once and shown with one
``pygame.display.flip`` (no flicker), and only when something changed.

``handle_event`` and ``advance`` are separate from the event loop, so tests drive the viewer headless
(``SDL_VIDEODRIVER=dummy``): ``open()``, post events with ``pygame.event.post``, ``loop(max_frames)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from render import canvas, palette  # noqa: E402
from render.hud import Hud, compose_frame  # noqa: E402

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
"""Speed levels: multiples of the base rate in steps per second."""
DEFAULT_WINDOW_SIZE = (720, 800)
MIN_WINDOW_SIZE = (240, 240)
"""The window is never made smaller than this (the map must fit at one pixel per cell)."""
MAX_STEPS_PER_FRAME = 64
"""At high speed, at most this many steps are taken between two frames (the rest are dropped, not queued)."""
FRAME_RATE = 60
"""Most frames per second the window is redrawn at."""
KEYS_HELP = "space pause   right step   +/- speed   r restart   q quit"
FASTER_KEYS = (pygame.K_PLUS, pygame.K_KP_PLUS, pygame.K_EQUALS)
SLOWER_KEYS = (pygame.K_MINUS, pygame.K_KP_MINUS)
QUIT_KEYS = (pygame.K_q, pygame.K_ESCAPE)


class EpisodeSource(Protocol):
    """An environment and its policies, stepped one step at a time.

    Attributes:
        core: what the environment's draw function and the HUD read (``env.unwrapped.core``).
        done: the episode is over (no more steps until ``reset``).
    """

    core: Any
    done: bool

    def reset(self) -> None:
        """Start a new episode."""

    def step(self) -> None:
        """Play one step with the policies."""


@dataclass(frozen=True)
class ViewerResult:
    """What a ``Viewer.run`` did."""

    frames: int
    """Frames drawn."""
    steps: int
    """Steps played over every episode."""
    episodes: int
    """Episodes started (1 + restarts)."""
    quit: bool
    """The user closed the window or pressed q / Esc (else ``max_frames`` ended the run)."""


class Viewer:
    """Plays ``source`` in a pygame window; see the module docstring for the keys.

    Args:
        source: the environment and policies (``reset`` is called by the viewer).
        draw: the environment's ``draw(core, surface)`` function.
        hud: the HUD of ``source``'s policies.
        steps_per_second: the base rate, at speed 1x.
        title: window caption.
        size: initial window size (width, height).

    Raises:
        ValueError: on a non-positive ``steps_per_second``.
    """

    def __init__(
        self,
        source: EpisodeSource,
        draw: Callable[[Any, pygame.Surface], None],
        hud: Hud,
        steps_per_second: float = 5.0,
        title: str = "mfzoo",
        size: tuple[int, int] = DEFAULT_WINDOW_SIZE,
    ):
        if not steps_per_second > 0:
            raise ValueError(f"steps_per_second must be > 0, got {steps_per_second}")
        self.source = source
        self.draw = draw
        self.hud = hud
        self.steps_per_second = float(steps_per_second)
        self.title = title
        self.size = _clamped(size)
        self.paused = False
        self.speed_index = SPEEDS.index(1.0)
        self.running = True
        self.window: pygame.Surface | None = None
        self.steps = 0
        self.episode_steps = 0
        self.episodes = 0
        self.frames = 0
        self._step_budget = 0.0
        self._dirty = True

    # -- state -----------------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        """The current multiple of the base rate."""
        return SPEEDS[self.speed_index]

    def restart(self) -> None:
        """Start a new episode of the source."""
        self.source.reset()
        self.hud.reset()
        self.hud.update(self.source.core)
        self.episodes += 1
        self.episode_steps = 0
        self._step_budget = 0.0
        self._dirty = True

    def step_once(self) -> bool:
        """Play one step unless the episode is over; return whether a step was played."""
        if self.source.done:
            return False
        self.source.step()
        self.hud.update(self.source.core)
        self.steps += 1
        self.episode_steps += 1
        self._dirty = True
        return True

    def advance(self, seconds: float) -> int:
        """Let ``seconds`` of play time pass: the steps due at the current speed (none while paused).

        Returns:
            The number of steps played.
        """
        if self.paused or self.source.done:
            self._step_budget = 0.0
            return 0
        self._step_budget += seconds * self.steps_per_second * self.speed
        due = int(self._step_budget)
        self._step_budget -= due
        played = 0
        for _ in range(min(due, MAX_STEPS_PER_FRAME)):
            if not self.step_once():
                break
            played += 1
        return played

    # -- input -----------------------------------------------------------------------------------
    def handle_event(self, event: pygame.event.Event) -> None:
        """React to one pygame event (keys, window resize, window close)."""
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.VIDEORESIZE:
            self.resize((event.w, event.h))
        elif event.type in (pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED):
            self._dirty = True
        elif event.type == pygame.KEYDOWN:
            self._handle_key(event.key)

    def _handle_key(self, key: int) -> None:
        if key in QUIT_KEYS:
            self.running = False
        elif key == pygame.K_SPACE:
            self.paused = not self.paused
            self._step_budget = 0.0
        elif key == pygame.K_RIGHT and self.paused:
            self.step_once()
        elif key in FASTER_KEYS:
            self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
        elif key in SLOWER_KEYS:
            self.speed_index = max(self.speed_index - 1, 0)
        elif key == pygame.K_r:
            self.restart()
        else:
            return
        self._dirty = True

    def resize(self, size: tuple[int, int]) -> None:
        """Make the window ``size`` (width, height), at least ``MIN_WINDOW_SIZE``, and redraw."""
        self.size = _clamped(size)
        if self.window is not None and self.window.get_size() != self.size:
            self.window = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        self._dirty = True

    # -- output ----------------------------------------------------------------------------------
    def status(self) -> tuple[str, str]:
        """The HUD's status line: play state, step and speed; and the keys."""
        if self.source.done:
            state = "episode over: r restart, q quit"
        else:
            state = "paused" if self.paused else "playing"
        info = self.hud.info
        step = f"step {info.step}/{info.max_steps}" if info is not None else ""
        rate = self.steps_per_second * self.speed
        return f"{state}   {step}   {self.speed:g}x ({rate:g} steps/s)", KEYS_HELP

    def render(self) -> None:
        """Draw the frame into the window surface and show it with one flip."""
        try:
            compose_frame(self.window, self.draw, self.source.core, self.hud, self.status())
        except ValueError as error:  # the map does not fit a window made too small: say so, keep running
            self.window.fill(palette.BACKGROUND)
            centre = self.window.get_rect().center
            canvas.draw_text(self.window, f"enlarge the window: {error}", centre, canvas.MIN_FONT_SIZE + 2, palette.TEXT, "center")
        pygame.display.flip()
        self.frames += 1
        self._dirty = False

    def open(self) -> None:
        """Open the window (done by ``run``) and start the first episode if none was started."""
        if self.window is None:
            pygame.display.init()
            pygame.font.init()
            pygame.display.set_caption(self.title)
            self.window = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        if self.episodes == 0:
            self.restart()

    def close(self) -> None:
        """Close the window."""
        if self.window is not None:
            pygame.display.quit()
            self.window = None

    def run(self, max_frames: int | None = None) -> ViewerResult:
        """Open the window, play until the user quits (or ``max_frames`` iterations pass), close the window."""
        self.open()
        try:
            self.loop(max_frames)
        finally:
            self.close()
        return ViewerResult(frames=self.frames, steps=self.steps, episodes=self.episodes, quit=not self.running)

    def loop(self, max_frames: int | None = None) -> int:
        """Run the event loop on the open window until the user quits or ``max_frames`` iterations pass.

        Every iteration handles the queued events, lets the elapsed time pass (``advance``) and
        redraws the frame if anything changed.

        Returns:
            The iterations run.

        Raises:
            ValueError: if the window is not open (``open``).
        """
        if self.window is None:
            raise ValueError("the viewer's window is not open; call open() or run()")
        clock = pygame.time.Clock()
        iterations = 0
        while self.running and (max_frames is None or iterations < max_frames):
            for event in pygame.event.get():
                self.handle_event(event)
            if not self.running:
                break
            self.advance(clock.tick(FRAME_RATE) / 1000.0)
            if self._dirty:
                self.render()
            iterations += 1
        return iterations


def _clamped(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(value) for value in size)
    return max(width, MIN_WINDOW_SIZE[0]), max(height, MIN_WINDOW_SIZE[1])
