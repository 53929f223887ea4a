"""The scripted nearest-enemy Battle policy: attacks what is in reach, closes in otherwise, beats random play."""

from __future__ import annotations

import numpy as np
import pytest

from mfagents.policies.scripted import nearest_enemy_actions, team_actions
from mfenvs.battle import BattleConfig, BattleCore
from mfenvs.battle.config import ATTACK_OFFSETS, MOVE_OFFSETS, N_ACTIONS, N_MOVES, STAY


def attack_action(dx: int, dy: int) -> int:
    return N_MOVES + ATTACK_OFFSETS.index((dx, dy))


def engine_with(positions: dict, map_size: int = 12, n_battles: int = 1) -> BattleCore:
    engine = BattleCore(BattleConfig(map_size=map_size, positions=positions, random_sides=False), n_battles=n_battles)
    engine.reset(seed=0)
    return engine


def test_an_agent_next_to_an_enemy_attacks_it():
    engine = engine_with({"red": [(5, 5)], "blue": [(6, 4)]})  # blue is up-right of red (y grows down)
    actions = nearest_enemy_actions(engine)
    assert actions[0] == attack_action(1, -1)
    assert actions[1] == attack_action(-1, 1)


def test_it_attacks_the_weakest_of_several_adjacent_enemies():
    engine = engine_with({"red": [(5, 5)], "blue": [(6, 5), (4, 6), (5, 4)]})
    # slots: red 0; blue 1 at (6, 5), 2 at (4, 6), 3 at (5, 4)
    engine.state.hp[0, 3] = 3.0  # the blue agent above red
    assert nearest_enemy_actions(engine)[0] == attack_action(0, -1)
    engine.state.hp[0, 2] = 2.5  # now the one down-left is weaker still
    assert nearest_enemy_actions(engine)[0] == attack_action(-1, 1)


def test_teammates_are_never_attacked():
    engine = engine_with({"red": [(5, 5), (6, 5)], "blue": [(9, 9)]})
    assert (nearest_enemy_actions(engine)[:2] < N_MOVES).all()


def test_without_an_enemy_in_reach_it_moves_closer_to_the_nearest_one():
    # red at (2, 2); the nearest blue is (9, 6) (the other is far off); the best move is (2, 0)
    engine = engine_with({"red": [(2, 2)], "blue": [(9, 6), (9, 10)]})
    action = int(nearest_enemy_actions(engine)[0])
    assert action == MOVE_OFFSETS.index((2, 0))
    before = np.hypot(*(np.array((9, 6)) - (2, 2)))
    engine.step(np.array([[action, STAY, STAY]]))
    assert np.hypot(*(np.array((9, 6)) - engine.state.positions[0, 0])) < before


@pytest.mark.parametrize("blocker", ["teammate", "wall"])
def test_blocked_cells_are_avoided(blocker):
    # the best cell, (4, 2), holds a teammate or a wall: the agent takes the best free cell instead
    red = [(2, 2), (4, 2)] if blocker == "teammate" else [(2, 2)]
    walls = [(4, 2)] if blocker == "wall" else []
    engine = BattleCore(BattleConfig(map_size=12, positions={"red": red, "blue": [(9, 2)]}, walls=walls))
    engine.reset(seed=0)
    dx, dy = MOVE_OFFSETS[int(nearest_enemy_actions(engine)[0])]
    assert (dx, dy) == (1, 0)  # the best free cell: (3, 2), one step short of the blocked one


def test_actions_are_always_allowed_and_dead_agents_stay():
    engine = BattleCore(BattleConfig(map_size=30, team_size=25), n_battles=2)
    engine.reset(seed=5)
    rng = np.random.default_rng(5)
    for _ in range(25):
        actions = np.stack([nearest_enemy_actions(engine, battle) for battle in range(2)])
        masks = engine.action_masks()
        alive = engine.state.alive
        chosen = np.take_along_axis(masks, actions[..., None], axis=2)[..., 0]
        assert chosen[alive].all()  # no blocked move, no attack on an empty cell or a teammate
        assert (actions[~alive] == STAY).all()
        actions[:, engine.teams == 1] = rng.integers(0, N_ACTIONS, size=(2, int((engine.teams == 1).sum())))
        engine.step(actions)
    assert (~engine.state.alive).any()  # some agents died, so the dead-agent branch was exercised


def test_team_actions_are_each_battles_actions_of_one_team():
    engine = BattleCore(BattleConfig(map_size=12, team_size=3), n_battles=3)
    engine.reset(seed=4)
    engine.step(np.random.default_rng(0).integers(0, N_ACTIONS, size=(3, 6)))  # the battles differ
    every = np.stack([nearest_enemy_actions(engine, battle) for battle in range(3)])
    np.testing.assert_array_equal(team_actions(engine), every[:, 3:])  # blue by default
    np.testing.assert_array_equal(team_actions(engine, 0), every[:, :3])
    assert team_actions(engine).dtype == np.int64
    with pytest.raises(ValueError, match="team must be 0 \\(red\\) or 1 \\(blue\\)"):
        team_actions(engine, 2)


def test_bad_battle_index_raises():
    engine = engine_with({"red": [(2, 2)], "blue": [(9, 6)]})
    with pytest.raises(ValueError, match="battle must be in"):
        nearest_enemy_actions(engine, battle=1)


@pytest.mark.parametrize("scripted_team", [0, 1], ids=["scripted red", "scripted blue"])
def test_scripted_beats_random_play(scripted_team):
    n_battles = 4
    engine = BattleCore(BattleConfig(map_size=20, team_size=9, max_cycles=80), n_battles=n_battles)
    engine.reset(seed=11)
    rng = np.random.default_rng(11)
    scripted = engine.teams == scripted_team
    while not engine.state.done.all():
        actions = rng.integers(0, N_ACTIONS, size=(n_battles, engine.n_agents))
        for battle in range(n_battles):
            actions[battle, scripted] = nearest_enemy_actions(engine, battle)[scripted]
        engine.step(actions)
    winners = [engine.results(battle)["winner"] for battle in range(n_battles)]
    team = ("red", "blue")[scripted_team]
    assert winners.count(team) == n_battles, winners
