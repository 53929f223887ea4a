"""Frames of the Ising and Gaussian Squeeze draw functions: size, content, and the human window."""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs import gaussian_squeeze_v0, ising_v0
from mfenvs.gaussian_squeeze.core import GaussianSqueezeConfig, GaussianSqueezeCore
from mfenvs.ising.core import IsingConfig, IsingCore
from render import gaussian_squeeze, ising, palette
from render.window import Renderer

SIZES = [(640, 640), (300, 200), (200, 330), (96, 96)]


def frame_of(draw, core, size: tuple[int, int]) -> np.ndarray:
    return Renderer(draw, "rgb_array", fps=10, title="test", size=size).render(core)


def ising_core(size: int = 9, seed: int = 3) -> IsingCore:
    core = IsingCore(IsingConfig(size=size))
    core.reset(seed=seed)
    return core


def squeeze_core(actions: np.ndarray, **config) -> GaussianSqueezeCore:
    core = GaussianSqueezeCore(GaussianSqueezeConfig(n_agents=len(actions), **config))
    core.reset()
    core.step(np.asarray(actions))
    return core


def pixel_colours(frame: np.ndarray) -> set[tuple[int, int, int]]:
    return set(map(tuple, np.unique(frame.reshape(-1, 3), axis=0).tolist()))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["ising", "gaussian_squeeze"])
def test_rgb_array_frame_has_requested_size(name, size):
    if name == "ising":
        frame = frame_of(ising.draw, ising_core(), size)
    else:
        rng = np.random.default_rng(0)
        frame = frame_of(gaussian_squeeze.draw, squeeze_core(rng.integers(0, 10, 1000)), size)
    width, height = size
    assert frame.shape == (height, width, 3)
    assert frame.dtype == np.uint8
    assert len(pixel_colours(frame)) > 3  # something was drawn


@pytest.mark.parametrize("module, kwargs", [(ising_v0, {"size": 6}), (gaussian_squeeze_v0, {"n_agents": 30})])
def test_env_render_returns_default_size_frames(module, kwargs):
    env = module.parallel_env(render_mode="rgb_array", **kwargs)
    env.reset(seed=1)
    first = env.render()
    env.step({agent: 1 for agent in env.agents})
    second = env.render()
    env.close()
    assert first.shape == second.shape == (640, 640, 3)
    assert first.dtype == np.uint8
    assert not np.array_equal(first, second)  # the banner's step counter at least changed


@pytest.mark.parametrize("surface_size", [(640, 640), (517, 401), (300, 460)])
def test_ising_cells_have_the_colour_of_their_spin(surface_size):
    core = ising_core(size=9, seed=3)
    # a random lattice that is not symmetric, so drawing spins.T (an axis swap) would fail
    assert not np.array_equal(core.spins, core.spins.T)
    assert not np.array_equal(core.spins, core.spins[::-1])
    frame = frame_of(ising.draw, core, surface_size)

    layout = ising.lattice_layout(surface_size, 9)
    assert layout.cell >= 1
    rows, cols = np.divmod(np.arange(81), 9)
    xs, ys = layout.cell_centres(rows, cols)
    expected = np.where((core.spins.reshape(-1) > 0)[:, None], palette.SPIN_UP, palette.SPIN_DOWN)
    np.testing.assert_array_equal(frame[ys, xs], expected)


def test_ising_lattice_is_inside_the_frame_and_below_the_banner():
    layout = ising.lattice_layout((400, 300), 20)
    frame = frame_of(ising.draw, ising_core(size=20), (400, 300))
    assert layout.rect.top > 0 and layout.rect.bottom <= 300 and layout.rect.left >= 0 and layout.rect.right <= 400
    assert tuple(frame[2, 2]) == palette.PANEL  # the banner strip


def test_ising_grid_too_large_for_surface_raises():
    with pytest.raises(ValueError, match="does not fit"):
        frame_of(ising.draw, ising_core(size=100), (64, 64))


def test_squeeze_frame_changes_when_x_changes():
    low = squeeze_core(np.zeros(1000, dtype=int))
    high = squeeze_core(np.r_[np.ones(445, dtype=int), np.zeros(555, dtype=int)])
    assert low.x != high.x
    frame_low = frame_of(gaussian_squeeze.draw, low, (480, 480))
    frame_high = frame_of(gaussian_squeeze.draw, high, (480, 480))
    assert not np.array_equal(frame_low, frame_high)
    # the drawing below the banner changed too, not only its text
    banner_rows = 60
    assert not np.array_equal(frame_low[banner_rows:], frame_high[banner_rows:])


@pytest.mark.parametrize("load", [0, 300, 445, 4500], ids=lambda x: f"x={x}")
def test_squeeze_marks_the_current_load_and_the_optimum(load):
    actions = np.zeros(1000, dtype=int)
    actions[: load // 9] = 9
    actions[load // 9] = load % 9
    core = squeeze_core(actions)
    assert core.x == load  # includes a load beyond the plotted window (an arrow at the edge)
    colours = pixel_colours(frame_of(gaussian_squeeze.draw, core, (400, 400)))
    assert palette.CURRENT in colours
    assert palette.OPTIMUM in colours
    assert palette.BAR in colours


def test_squeeze_handles_many_actions_and_one_agent():
    many = squeeze_core(np.arange(60), n_actions=60, mu=900.0, sigma=300.0)
    single = squeeze_core(np.array([1]), n_actions=2, mu=1.0, sigma=1.0)
    for core in (many, single):
        for size in [(640, 640), (900, 300), (120, 120)]:
            assert frame_of(gaussian_squeeze.draw, core, size).shape == (size[1], size[0], 3)


def test_curve_window_covers_the_optimum():
    config = GaussianSqueezeConfig()
    assert gaussian_squeeze.curve_window(config) == pytest.approx(1200.0)
    tight = GaussianSqueezeConfig(n_agents=10, n_actions=2, mu=400.0, sigma=200.0)  # max_load 10 < x*
    assert gaussian_squeeze.curve_window(tight) == 10


@pytest.mark.parametrize("module, kwargs", [(ising_v0, {"size": 5}), (gaussian_squeeze_v0, {"n_agents": 20})])
def test_human_mode_draws_to_a_window_and_returns_none(module, kwargs):
    env = module.parallel_env(render_mode="human", **kwargs)
    env.reset(seed=0)  # human mode renders on reset and step
    env.step({agent: 0 for agent in env.agents})
    assert env.render() is None
    env.close()
