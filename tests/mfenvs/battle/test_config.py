"""Battle configuration: team sizes and start blocks, random sides, and every invalid argument."""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs import battle_v0
from mfenvs.battle import BattleConfig, BattleCore


def start_cells(config: BattleConfig, seed: int = 0) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Red and blue start cells (in slot order) after ``reset(seed)``."""
    battle = BattleCore(config)
    battle.reset(seed=seed)
    cells = [tuple(int(v) for v in cell) for cell in battle.state.positions[0]]
    n_red = config.team_counts[0]
    return cells[:n_red], cells[n_red:]


@pytest.mark.parametrize(("map_size", "team_size"), [(40, 64), (45, 81), (50, 100), (80, 256)])
def test_team_size_defaults_to_four_percent_of_the_map(map_size, team_size):
    assert BattleConfig(map_size=map_size).n_per_team == team_size == int(map_size**2 * 0.04)
    env = battle_v0.parallel_env(map_size=map_size)
    assert len(env.possible_agents) == 2 * team_size
    assert env.possible_agents[team_size - 1] == f"red_{team_size - 1}" and env.possible_agents[team_size] == "blue_0"


@pytest.mark.parametrize(
    ("map_size", "red_x", "blue_x", "y"),
    [
        (40, range(1, 16, 2), range(23, 38, 2), range(12, 27, 2)),  # the paper's 64 v 64
        (45, range(1, 18, 2), range(25, 42, 2), range(13, 30, 2)),  # MAgent2's battle_v4 default
        (80, range(5, 36, 2), range(43, 74, 2), range(24, 55, 2)),
    ],
)
def test_block_layout_matches_magent(map_size, red_x, blue_x, y):
    red, blue = start_cells(BattleConfig(map_size=map_size, random_sides=False))
    assert red == [(x, row) for x in red_x for row in y]  # column by column, as MAgent adds them
    assert blue == [(x, row) for x in blue_x for row in y]


def test_random_sides_swap_the_blocks_per_seed_and_repeat_per_seed():
    config = BattleConfig(map_size=40)
    left = [(x, y) for x in range(1, 16, 2) for y in range(12, 27, 2)]
    right = [(x, y) for x in range(23, 38, 2) for y in range(12, 27, 2)]
    red_on_left = {}
    for seed in range(16):
        red, blue = start_cells(config, seed)
        assert (red, blue) in ((left, right), (right, left))
        red_on_left[seed] = red == left
        assert start_cells(config, seed) == (red, blue)  # the same seed, the same sides
    assert set(red_on_left.values()) == {True, False}
    fixed = BattleConfig(map_size=40, random_sides=False)
    assert all(start_cells(fixed, seed) == (left, right) for seed in range(6))


def test_explicit_positions_ignore_random_sides():
    config = BattleConfig(map_size=10, positions={"red": [(1, 1), (2, 5)], "blue": [(8, 8)]})
    assert all(start_cells(config, seed) == ([(1, 1), (2, 5)], [(8, 8)]) for seed in range(6))
    assert config.team_counts == (2, 1)


def test_env_resets_draw_new_sides_without_a_seed():
    env = battle_v0.parallel_env(map_size=16, team_size=4)
    env.reset(seed=0)
    sides = set()
    for _ in range(12):
        env.reset()
        sides.add(bool(env.state()[:, :8, 1].any()))  # red presence in the left half
    assert sides == {True, False}


@pytest.mark.parametrize("map_size", [5, 6, 9, 12, 16, 21, 30])
def test_every_accepted_team_size_gets_a_legal_layout(map_size):
    for team_size in range(1, map_size * map_size // 2):
        try:
            config = BattleConfig(map_size=map_size, team_size=team_size, random_sides=False)
        except ValueError as error:
            assert "team_size" in str(error)
            continue
        red, blue = start_cells(config)
        assert len(red) == len(blue) == team_size
        cells = red + blue
        assert len(set(cells)) == len(cells)
        assert all(0 < x < map_size - 1 and 0 < y < map_size - 1 for x, y in cells)
        assert max(x for x, _ in red) < min(x for x, _ in blue)  # red left, blue right
    # the paper's maps fit far more than their default teams
    assert BattleConfig(map_size=40, team_size=100).n_per_team == 100


# -- invalid arguments ----------------------------------------------------------------------------
def placed(red: list, blue: list, **kwargs) -> dict:
    """Arguments of a 10 x 10 battle with explicit positions."""
    return {"map_size": 10, "positions": {"red": red, "blue": blue}, **kwargs}


INVALID = {
    "map_size str": ({"map_size": "40"}, TypeError, "map_size"),
    "map_size bool": ({"map_size": True}, TypeError, "map_size"),
    "map_size small": ({"map_size": 4}, ValueError, "map_size"),
    "team_size zero": ({"team_size": 0}, ValueError, "team_size"),
    "team_size float": ({"team_size": 2.5}, TypeError, "team_size"),
    "team too big": ({"map_size": 20, "team_size": 150}, ValueError, "team_size"),
    "max_cycles": ({"max_cycles": 0}, ValueError, "max_cycles"),
    "minimap_mode": ({"minimap_mode": 1}, TypeError, "minimap_mode"),
    "extra_features": ({"extra_features": "yes"}, TypeError, "extra_features"),
    "random_sides": ({"random_sides": None}, TypeError, "random_sides"),
    "action_mask": ({"action_mask": 1}, TypeError, "action_mask"),
    "step_reward": ({"step_reward": "-0.005"}, TypeError, "step_reward"),
    "kill_reward nan": ({"kill_reward": float("nan")}, ValueError, "kill_reward"),
    "dead_penalty inf": ({"dead_penalty": float("-inf")}, ValueError, "dead_penalty"),
    "attack_penalty": ({"attack_penalty": None}, TypeError, "attack_penalty"),
    "mean_action_radius": ({"mean_action_radius": 0}, ValueError, "mean_action_radius"),
    "dead_agents": ({"dead_agents": "zombie"}, ValueError, "dead_agents"),
    "render_mode": ({"render_mode": "ascii"}, ValueError, "render_mode"),
    "wall on the border": ({"map_size": 10, "walls": [(0, 3)]}, ValueError, "walls"),
    "wall not a pair": ({"map_size": 10, "walls": [(3,)]}, TypeError, "walls"),
    "wall in a block": ({"map_size": 40, "walls": [(1, 12)]}, ValueError, "walls"),
    "position on the border": (placed([(0, 3)], [(5, 5)]), ValueError, "positions"),
    "position past the border": (placed([(2, 3)], [(5, 9)]), ValueError, "positions"),
    "position off the map": (placed([(-1, 3)], [(5, 5)]), ValueError, "positions"),
    "duplicate in a team": (placed([(2, 3), (2, 3)], [(5, 5)]), ValueError, "positions"),
    "duplicate across teams": (placed([(2, 3)], [(2, 3)]), ValueError, "positions"),
    "position on a wall": (placed([(4, 4)], [(5, 5)], walls=[(4, 4)]), ValueError, "positions"),
    "missing team": ({"map_size": 10, "positions": {"red": [(2, 3)]}}, ValueError, "positions"),
    "extra team": ({"positions": {"red": [(2, 3)], "blue": [(5, 5)], "green": [(6, 6)]}}, ValueError, "positions"),
    "empty team": (placed([], [(5, 5)]), ValueError, "positions"),
    "position not a pair": (placed([(2, 3, 0)], [(5, 5)]), TypeError, "positions"),
    "position float": (placed([(2.0, 3)], [(5, 5)]), TypeError, "positions"),
    "positions not a dict": ({"map_size": 10, "positions": [(2, 3), (5, 5)]}, ValueError, "positions"),
    "positions team not a list": (placed(5, [(5, 5)]), TypeError, "positions"),
}


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_invalid_arguments_raise_errors_naming_them(case):
    kwargs, error, name = INVALID[case]
    with pytest.raises(error, match=name):
        battle_v0.parallel_env(**kwargs)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("max_hp", 0.0, ValueError),
        ("max_hp", "10", TypeError),
        ("damage", -1.0, ValueError),
        ("recover", -0.1, ValueError),
    ],
)
def test_invalid_hp_settings(field, value, error):
    with pytest.raises(error, match=field):
        BattleConfig(**{field: value})


def test_core_rejects_out_of_range_actions_and_early_partial_resets():
    battle = BattleCore(BattleConfig(map_size=16, team_size=2), n_battles=2)
    with pytest.raises(RuntimeError, match="reset"):
        battle.reset_battles(np.array([True, False]))
    battle.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        battle.step(np.full((2, 4), 21))
    with pytest.raises(ValueError, match="actions"):
        battle.step(np.full((2, 4), -1))


@pytest.mark.parametrize(("n_battles", "error"), [(-1, ValueError), ("2", TypeError), (2.0, TypeError)])
def test_core_rejects_invalid_batch_sizes(n_battles, error):
    with pytest.raises(error, match="n_battles"):
        BattleCore(BattleConfig(map_size=16, team_size=2), n_battles=n_battles)
