"""The HUD reads each environment's state: Battle's scoreboard, Ising's xi, Gaussian Squeeze's G/G*."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from mfenvs import battle_v0, gaussian_squeeze_v0, ising_v0
from mfenvs.ising.core import order_parameter
from render import battle, palette
from render.hud import Hud, _middle_ellipsis, compose_frame


def random_steps(env, steps: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        agents = env.agents
        env.step(dict(zip(agents, rng.integers(0, int(env.action_space(agents[0]).n), len(agents)).tolist())))


def test_battle_rows_match_the_engine_results():
    env = battle_v0.parallel_env(map_size=14, team_size=5)
    env.reset(seed=2)
    hud = Hud({"red": "scripted", "blue": "runs/x"})
    hud.update(env.unwrapped.core)
    random_steps(env, 12)
    info = hud.update(env.unwrapped.core)
    results = env.unwrapped.core.engine.results(0)
    assert info.step == 12 and info.max_steps == 400 and info.outcome is None
    for side, colour in zip(info.sides, palette.TEAM_COLOURS):
        assert side.colour == colour
        assert side.alive == results[f"{side.team}_survivors"] and side.kills == results[f"{side.team}_kills"]
        assert side.reward == pytest.approx(results[f"{side.team}_total_reward"])
    assert [side.policy for side in info.sides] == ["scripted", "runs/x"]
    # one chart value per state so far: survivors / team size
    assert [len(trace.values) for trace in info.traces] == [2, 2]
    assert info.traces[0].values == (1.0, results["red_survivors"] / 5)


def test_ising_and_squeeze_measures():
    env = ising_v0.parallel_env(size=6)
    env.reset(seed=0)
    info = Hud({"all": "heat bath"}).update(env.unwrapped.core)
    assert info.policy == "heat bath" and info.sides == ()
    assert info.measures[0] == ("\u03be", f"{order_parameter(env.unwrapped.core.spins):.3f}") and info.measures[1][0] == "E/N"
    env = gaussian_squeeze_v0.parallel_env(n_agents=30)
    env.reset(seed=0)
    random_steps(env, 1)
    core = env.unwrapped.core
    info = Hud({"all": "random"}).update(core)
    assert info.measures[0] == ("G/G*", f"{core.reward / core.g_opt:.3f}")
    assert info.traces[0].values == (pytest.approx(min(core.reward / core.g_opt, 1.0)),)


def test_reset_clears_the_chart():
    env = ising_v0.parallel_env(size=4)
    env.reset(seed=0)
    hud = Hud({"all": "random"})
    hud.update(env.unwrapped.core)
    hud.update(env.unwrapped.core)
    hud.reset()
    assert hud.info is None
    assert len(hud.update(env.unwrapped.core).traces[0].values) == 1


def test_compose_frame_puts_the_map_above_the_strip():
    env = battle_v0.parallel_env(map_size=12, team_size=4)
    env.reset(seed=0)
    hud = Hud({"red": "a", "blue": "b"})
    hud.update(env.unwrapped.core)
    surface = pygame.Surface((400, 460))
    strip = compose_frame(surface, battle.draw, env.unwrapped.core, hud, ("playing", "keys"))
    assert strip.bottom == 460 and strip.height == hud.height((400, 460), status=True)
    assert hud.height((400, 460), status=True) > hud.height((400, 460))
    pixels = pygame.surfarray.array3d(surface).transpose(1, 0, 2)
    # the map is laid out as if the surface ended where the strip begins
    layout = battle.map_layout((400, 460 - strip.height), 12)
    assert tuple(pixels[layout.top + layout.cell // 2, layout.left + layout.cell // 2]) == palette.WALL
    assert tuple(pixels[strip.top + 1, 1]) == palette.PANEL


def test_unknown_cores_and_drawing_before_update_are_errors():
    with pytest.raises(TypeError, match="cannot read a dict"):
        Hud({}).update({})
    with pytest.raises(ValueError, match="before Hud.update"):
        Hud({}).draw(pygame.Surface((100, 100)), pygame.Rect(0, 0, 100, 30))


def test_long_policy_names_are_shortened_in_the_middle():
    assert _middle_ellipsis("runs/battle-mfq-s0", 8) == "runs...q-s0"
    assert _middle_ellipsis("short", 9) == "short"
