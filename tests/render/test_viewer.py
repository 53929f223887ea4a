"""The interactive viewer under SDL's dummy driver: keys posted as pygame events, resizing, one flip per frame."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from mfenvs import battle_v0, ising_v0
from render import battle, ising, palette
from render.hud import Hud
from render.viewer import MIN_WINDOW_SIZE, SPEEDS, Viewer


class RandomPlay:
    """A real environment driven by uniform random actions from a seeded generator (an ``EpisodeSource``)."""

    def __init__(self, env, seed: int = 0):
        self.env = env
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.resets = 0

    @property
    def core(self):
        return self.env.unwrapped.core

    @property
    def done(self) -> bool:
        return not self.env.agents

    def reset(self) -> None:
        self.env.reset(seed=self.seed + self.resets)
        self.resets += 1

    def step(self) -> None:
        agents = self.env.agents
        n_actions = int(self.env.action_space(agents[0]).n)
        self.env.step(dict(zip(agents, self.rng.integers(0, n_actions, len(agents)).tolist())))


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)


@pytest.fixture
def viewer():
    source = RandomPlay(ising_v0.parallel_env(size=8, max_cycles=30))
    viewer = Viewer(source, ising.draw, Hud({"all": "random"}), steps_per_second=5.0, size=(400, 440))
    viewer.open()
    yield viewer
    viewer.close()


def play(viewer: Viewer, *events: pygame.event.Event, frames: int = 1) -> None:
    for event in events:
        pygame.event.post(event)
    viewer.loop(frames)


def test_open_starts_an_episode_and_draws_the_first_frame(viewer):
    play(viewer)
    assert viewer.episodes == 1 and viewer.frames == 1 and viewer.source.core.steps == 0
    frame = pygame.surfarray.array3d(viewer.window)
    strip_height = viewer.hud.height(viewer.window.get_size(), status=True)
    assert (frame[:, -strip_height + 2 :] == palette.PANEL).any()  # the HUD strip at the bottom
    assert {tuple(c) for c in frame[:, : -strip_height].reshape(-1, 3)} >= {palette.SPIN_UP, palette.SPIN_DOWN}


def test_space_pauses_and_resumes(viewer):
    play(viewer, key(pygame.K_SPACE))
    assert viewer.paused
    assert viewer.advance(10.0) == 0  # paused: time passes, no step
    assert viewer.source.core.steps == 0
    play(viewer, key(pygame.K_SPACE))
    assert not viewer.paused
    assert viewer.advance(1.0) == 5  # 5 steps/s at 1x
    assert viewer.source.core.steps == 5


def test_right_arrow_steps_once_per_press_only_while_paused(viewer):
    play(viewer, key(pygame.K_SPACE), key(pygame.K_RIGHT), key(pygame.K_RIGHT), key(pygame.K_RIGHT))
    assert viewer.paused and viewer.steps == 3 and viewer.source.core.steps == 3
    assert viewer.hud.info.step == 3
    play(viewer, key(pygame.K_SPACE))
    steps_before = viewer.steps
    viewer.handle_event(key(pygame.K_RIGHT))  # while playing the arrow does nothing
    assert viewer.steps == steps_before


def test_plus_and_minus_change_the_speed_within_its_levels(viewer):
    assert viewer.speed == 1.0
    play(viewer, key(pygame.K_PLUS), key(pygame.K_EQUALS))
    assert viewer.speed == 4.0
    assert viewer.advance(0.5) == 10  # 5 steps/s x 4 x 0.5 s
    play(viewer, *[key(pygame.K_MINUS)] * 20)
    assert viewer.speed == SPEEDS[0]
    play(viewer, *[key(pygame.K_KP_PLUS)] * 20)
    assert viewer.speed == SPEEDS[-1]
    assert viewer.status()[0].endswith(f"{SPEEDS[-1]:g}x ({5 * SPEEDS[-1]:g} steps/s)")


def test_r_restarts_a_new_episode(viewer):
    viewer.advance(1.0)
    assert viewer.source.core.steps == 5
    first_spins = viewer.source.core.spins.copy()
    play(viewer, key(pygame.K_r))
    assert viewer.episodes == 2 and viewer.episode_steps == 0 and viewer.source.core.steps == 0
    assert viewer.hud.info.step == 0 and len(viewer.hud.info.traces[0].values) == 1  # the chart starts again
    assert not np.array_equal(first_spins, viewer.source.core.spins)  # the next seed


@pytest.mark.parametrize("code", [pygame.K_q, pygame.K_ESCAPE])
def test_q_or_escape_quits(viewer, code):
    pygame.event.post(key(code))
    assert viewer.loop(100) == 0
    assert not viewer.running


def test_closing_the_window_quits_and_run_reports_it():
    source = RandomPlay(ising_v0.parallel_env(size=6, max_cycles=5))
    viewer = Viewer(source, ising.draw, Hud({"all": "random"}))
    viewer.open()
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    result = viewer.run(max_frames=50)
    assert result.quit and result.episodes == 1 and viewer.window is None


def test_run_without_input_ends_after_max_frames():
    source = RandomPlay(ising_v0.parallel_env(size=6, max_cycles=5))
    result = Viewer(source, ising.draw, Hud({"all": "random"})).run(max_frames=3)
    assert not result.quit and result.episodes == 1 and result.frames >= 1


def test_resize_redraws_at_the_new_size_and_keeps_a_minimum(viewer):
    play(viewer, pygame.event.Event(pygame.VIDEORESIZE, w=520, h=300, size=(520, 300)))
    assert viewer.window.get_size() == (520, 300)
    frames = viewer.frames
    play(viewer, pygame.event.Event(pygame.VIDEORESIZE, w=50, h=900, size=(50, 900)))
    assert viewer.window.get_size() == (MIN_WINDOW_SIZE[0], 900)
    assert viewer.frames == frames + 1  # redrawn once for the new size


def test_the_lattice_stays_crisp_after_a_resize(viewer):
    play(viewer, pygame.event.Event(pygame.VIDEORESIZE, w=611, h=577, size=(611, 577)))
    frame = pygame.surfarray.array3d(viewer.window).transpose(1, 0, 2)  # [y, x]
    strip_height = viewer.hud.height((611, 577), status=True)
    layout = ising.lattice_layout((611, 577 - strip_height), 8)
    lattice = frame[layout.top : layout.top + layout.height, layout.left : layout.left + layout.width]
    cells = lattice.reshape(8, layout.cell, 8, layout.cell, 3)
    # every site is a block of one exact spin colour: integer cells, no smoothing
    expected = np.where(viewer.source.core.spins[:, None, :, None, None] > 0, palette.SPIN_UP, palette.SPIN_DOWN)
    np.testing.assert_array_equal(cells, np.broadcast_to(expected, cells.shape))


def test_at_most_one_flip_per_frame_and_none_while_nothing_changes(viewer, monkeypatch):
    flips = []
    monkeypatch.setattr(pygame.display, "flip", lambda: flips.append(viewer.frames))
    play(viewer, key(pygame.K_SPACE))  # paused: one redraw for the status line
    play(viewer, frames=5)  # nothing changes: no redraw
    assert len(flips) == 1
    play(viewer, key(pygame.K_RIGHT), key(pygame.K_RIGHT))  # two steps in one iteration: one frame
    assert len(flips) == 2


def test_the_episode_end_stops_stepping_and_says_so():
    source = RandomPlay(battle_v0.parallel_env(map_size=16, team_size=4, max_cycles=6))
    viewer = Viewer(source, battle.draw, Hud({"red": "random", "blue": "random"}), steps_per_second=5.0)
    viewer.open()
    try:
        assert viewer.advance(100.0) == 6
        assert source.done and viewer.advance(1.0) == 0
        assert viewer.status()[0].startswith("episode over")
        assert viewer.hud.info.outcome in ("red wins", "blue wins", "draw")
        play(viewer, key(pygame.K_r))
        assert not source.done and viewer.episode_steps == 0
    finally:
        viewer.close()


def test_bad_rate_is_rejected():
    with pytest.raises(ValueError, match="steps_per_second"):
        Viewer(RandomPlay(ising_v0.parallel_env(size=4)), ising.draw, Hud({}), steps_per_second=0)


def test_a_window_too_small_for_the_map_says_so_instead_of_crashing():
    source = RandomPlay(battle_v0.parallel_env(map_size=250, team_size=10, max_cycles=3))
    viewer = Viewer(source, battle.draw, Hud({"red": "random", "blue": "random"}), size=(240, 240))
    viewer.open()
    try:
        play(viewer)
        assert viewer.frames == 1 and viewer.running
        play(viewer, pygame.event.Event(pygame.VIDEORESIZE, w=400, h=560, size=(400, 560)))
        frame = pygame.surfarray.array3d(viewer.window)
        assert (frame == palette.WALL).all(axis=2).any()  # the map is drawn once it fits
    finally:
        viewer.close()
