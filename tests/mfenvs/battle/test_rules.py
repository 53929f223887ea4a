"""The Battle rules on hand-built placements: hits and kills, the 21 actions, moves, attacks, rewards.

Expected numbers come from ``REFERENCE.md`` section 1 (MAgent2's measured rules), written out in
``helpers.py``. Coordinates are ``(x, y)``, y grows downward; red slots come before blue slots.
"""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs.battle.state import EMPTY
from tests.mfenvs.battle.helpers import winner as winner_of
from tests.mfenvs.battle.helpers import (
    ATTACKS,
    DEATH,
    HIT,
    IDLE,
    KILL,
    MAX_HP,
    MISS,
    MOVES,
    attack,
    core,
    env,
    env_step,
    hp_after_hits,
    move,
    step,
)


def approx(value: float):
    return pytest.approx(value, abs=1e-5)


def position(battle, slot: int, index: int = 0) -> tuple[int, int]:
    return tuple(int(v) for v in battle.state.positions[index, slot])


# -- one attacker, one victim ---------------------------------------------------------------------
def test_one_attacker_kills_a_still_victim_on_the_sixth_hit():
    battle = env(red=[(4, 5)], blue=[(5, 5), (8, 2)], dead_agents="remove", max_cycles=8)
    hit_right = attack(1, 0)
    for hits in range(1, 6):
        _, rewards, terminations, _, infos = env_step(battle, {"red_0": hit_right})
        assert rewards == {"red_0": approx(HIT), "blue_0": approx(IDLE), "blue_1": approx(IDLE)}
        assert not any(terminations.values())
        # blue hp channel of the state, [y, x]: 10 - 2 per hit + 0.1 recovery per step
        assert battle.state()[5, 5, 4] * MAX_HP == approx(hp_after_hits(hits))
        assert winner_of(infos["red_0"]) is None
    assert hp_after_hits(5) == approx(0.5)

    observations, rewards, terminations, truncations, infos = env_step(battle, {"red_0": hit_right})
    assert rewards == {"red_0": approx(KILL), "blue_0": approx(DEATH), "blue_1": approx(IDLE)}
    assert terminations == {"red_0": False, "blue_0": True, "blue_1": False}
    assert not any(truncations.values())
    assert not observations["blue_0"].any()
    assert winner_of(infos["red_0"]) is None  # blue_1 is still alive: the episode goes on
    assert battle.state()[5, 5].sum() == 0  # the cell is free

    # the dead agent is gone from the episode
    assert battle.agents == ["red_0", "blue_1"]
    # an action for a finished agent is ignored (TorchRL keeps sending them), an unknown name is not
    with pytest.raises(ValueError, match="unknown agent 'blue_9'"):
        battle.step({"red_0": hit_right, "blue_1": 6, "blue_9": 6})
    _, rewards, _, _, _ = env_step(battle, {"red_0": hit_right, "blue_0": 17})
    assert rewards == {"red_0": approx(MISS), "blue_1": approx(IDLE)}

    _, _, terminations, truncations, infos = env_step(battle)  # step 8 = max_cycles
    assert truncations == {"red_0": True, "blue_1": True} and terminations == {"red_0": False, "blue_1": False}
    results = infos["blue_1"]
    assert (results["red_kills"], results["blue_kills"]) == (1, 0)
    assert (results["red_survivors"], results["blue_survivors"]) == (1, 1)
    assert results["red_total_reward"] == approx(5 * HIT + KILL + MISS + IDLE)
    assert results["blue_total_reward"] == approx(5 * IDLE + DEATH + 8 * IDLE)
    assert winner_of(results) == "red"


def test_being_hit_costs_no_reward_and_hp_recovers_after_the_attacks():
    battle = core(red=[(4, 5)], blue=[(5, 5)])
    out = step(battle, {0: attack(1, 0)})
    assert out.rewards[0].tolist() == [approx(HIT), approx(IDLE)]
    # recovery comes after the attack: 10 - 2 + 0.1, not min(10 + 0.1, 10) - 2
    assert battle.state.hp[0, 1] == approx(8.1)
    assert battle.state.hp.dtype == np.float32


# -- the 21 actions -------------------------------------------------------------------------------
# (4, 9) is off the diagonal, so an x/y swap anywhere moves or hits a different cell.
ORIGIN = (4, 9)


@pytest.mark.parametrize("action", sorted(MOVES))
def test_move_offsets(action):
    dx, dy = MOVES[action]
    battle = core(red=[ORIGIN], blue=[(11, 2)], map_size=14)
    step(battle, {0: action})
    x, y = ORIGIN[0] + dx, ORIGIN[1] + dy
    assert position(battle, 0) == (x, y)
    assert battle.state.occupant[0, y, x] == 0
    assert (battle.state.occupant[0] != EMPTY).sum() == 2
    assert position(battle, 1) == (11, 2)


@pytest.mark.parametrize("action", sorted(ATTACKS))
def test_attack_offsets(action):
    # A blue agent on each of the 8 neighbours, in ATTACKS order; only the one aimed at is hit.
    neighbours = [(ORIGIN[0] + dx, ORIGIN[1] + dy) for dx, dy in ATTACKS.values()]
    battle = core(red=[ORIGIN], blue=neighbours, map_size=14)
    out = step(battle, {0: action})
    target = neighbours.index((ORIGIN[0] + ATTACKS[action][0], ORIGIN[1] + ATTACKS[action][1]))
    expected_hp = np.full(8, MAX_HP, dtype=np.float32)
    expected_hp[target] = 8.1
    np.testing.assert_allclose(battle.state.hp[0, 1:], expected_hp, atol=1e-5)
    assert out.rewards[0, 0] == approx(HIT)
    assert position(battle, 0) == ORIGIN  # attacking does not move


# -- moves ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "action"),
    [
        ((1, 1), move(0, -2)),  # off the map
        ((1, 1), move(0, -1)),  # border wall
        ((1, 1), move(-1, -1)),  # border corner
        ((1, 4), move(-2, 0)),  # off the map
        ((1, 4), move(-1, 0)),
        ((8, 8), move(2, 0)),
        ((8, 8), move(1, 1)),
        ((7, 8), move(0, 2)),
        ((7, 3), move(2, 0)),  # lands on the border column x = 9
        ((5, 7), move(1, -1)),  # the interior wall
        ((4, 6), move(2, 0)),  # the interior wall
    ],
)
def test_moves_into_walls_fail(start, action):
    battle = core(red=[start], blue=[(3, 2)], walls=[(6, 6)])
    step(battle, {0: action})
    assert position(battle, 0) == start


@pytest.mark.parametrize("n_battles", [1, 3])
def test_moves_off_every_edge_fail_in_every_battle(n_battles):
    # agents next to each border, in the corners too; the first and last battles' off-map cells
    # lie before and after the whole batch of maps
    red = [(1, 1), (1, 8), (8, 1), (8, 8)]
    blue = [(4, 1), (1, 4), (8, 5), (5, 8)]
    battle = core(red=red, blue=blue, n_battles=n_battles)
    actions = [move(0, -2), move(-2, 0), move(2, 0), move(0, 2), move(0, -2), move(-2, 0), move(2, 0), move(0, 2)]
    step(battle, dict(enumerate(actions)))
    for index in range(n_battles):
        assert [position(battle, slot, index) for slot in range(8)] == red + blue


def test_a_long_queue_moves_in_every_battle_when_the_front_goes_first():
    # each agent enters the cell its predecessor left: a chain longer than one pass resolves
    column = [(4, y) for y in range(1, 9)]
    battle = core(red=column[1:], blue=[(7, 1)], n_battles=2)
    step(battle, {slot: move(0, -1) for slot in range(7)})
    for index in range(2):
        assert [position(battle, slot, index) for slot in range(7)] == column[:7]
    # the front agent faces the border wall, so nobody behind it moves (blue_0 included)
    battle = core(red=column[:7], blue=[column[7]], n_battles=2)
    step(battle, {slot: move(0, -1) for slot in range(8)})
    for index in range(2):
        assert [position(battle, slot, index) for slot in range(8)] == column


def test_speed_two_moves_jump_over_agents_and_walls():
    # only the destination is checked, not the cell in between
    battle = core(red=[(3, 3), (3, 6), (6, 2)], blue=[(4, 3), (6, 3)], walls=[(4, 6)])
    step(battle, {0: move(2, 0), 1: move(2, 0), 2: move(0, 2)})
    assert position(battle, 0) == (5, 3)  # over blue_0
    assert position(battle, 1) == (5, 6)  # over the wall
    assert position(battle, 2) == (6, 4)  # over blue_1


@pytest.mark.parametrize("blocker_team", ["red", "blue"])
def test_moves_into_occupied_cells_fail(blocker_team):
    red, blue = [(4, 5)], [(7, 7)]
    (red if blocker_team == "red" else blue).append((5, 5))
    battle = core(red=red, blue=blue)
    step(battle, {0: move(1, 0)})
    assert position(battle, 0) == (4, 5)


@pytest.mark.parametrize(
    ("red", "blue", "actions", "winner"),
    [
        # red_0 and blue_0 head for (4, 5): red moves first.
        ([(3, 5)], [(5, 5)], {0: move(1, 0), 1: move(-1, 0)}, 0),
        # same with blue_0 coming from the left: slot order, not position
        ([(5, 5)], [(3, 5)], {0: move(-1, 0), 1: move(1, 0)}, 0),
        # red_1 on the left, red_0 on the right: the lower index wins
        ([(5, 5), (3, 5)], [(8, 8)], {0: move(-1, 0), 1: move(1, 0)}, 0),
        # blue_0 beats blue_1
        ([(8, 8)], [(5, 5), (3, 5)], {1: move(-1, 0), 2: move(1, 0)}, 1),
        # red_1 beats blue_0 (red before blue)
        ([(8, 8), (4, 3)], [(4, 6)], {1: move(0, 2), 2: move(0, -1)}, 1),
    ],
)
def test_contested_cell_goes_to_the_lower_slot(red, blue, actions, winner):
    battle = core(red=red, blue=blue)
    start = battle.state.positions[0].copy()
    step(battle, actions)
    for slot, action in actions.items():
        dx, dy = MOVES[action]
        expected = start[slot] + (dx, dy) if slot == winner else start[slot]
        assert position(battle, slot) == tuple(expected)


def test_a_cell_vacated_earlier_in_slot_order_can_be_entered():
    battle = core(red=[(5, 5), (4, 5)], blue=[(8, 8)])
    step(battle, {0: move(1, 0), 1: move(1, 0)})
    assert (position(battle, 0), position(battle, 1)) == ((6, 5), (5, 5))


def test_a_cell_vacated_later_in_slot_order_cannot_be_entered():
    battle = core(red=[(4, 5), (5, 5)], blue=[(8, 8)])
    step(battle, {0: move(1, 0), 1: move(1, 0)})
    assert (position(battle, 0), position(battle, 1)) == ((4, 5), (6, 5))
    # blue moves after red, so red cannot follow a leaving blue agent
    battle = core(red=[(4, 5)], blue=[(5, 5)])
    step(battle, {0: move(1, 0), 1: move(1, 0)})
    assert (position(battle, 0), position(battle, 1)) == ((4, 5), (6, 5))


def test_a_queue_moves_only_when_the_front_goes_first():
    front_first = core(red=[(6, 5), (5, 5), (4, 5)], blue=[(8, 8)])
    step(front_first, {0: move(1, 0), 1: move(1, 0), 2: move(1, 0)})
    assert [position(front_first, s) for s in range(3)] == [(7, 5), (6, 5), (5, 5)]
    back_first = core(red=[(4, 5), (5, 5), (6, 5)], blue=[(8, 8)])
    step(back_first, {0: move(1, 0), 1: move(1, 0), 2: move(1, 0)})
    assert [position(back_first, s) for s in range(3)] == [(4, 5), (5, 5), (7, 5)]


def test_swaps_and_rotations_fail():
    battle = core(red=[(4, 5)], blue=[(5, 5)])
    step(battle, {0: move(1, 0), 1: move(-1, 0)})
    assert (position(battle, 0), position(battle, 1)) == ((4, 5), (5, 5))
    # four agents on a 2 x 2 square, each moving to the next corner
    square = [(4, 4), (5, 4), (5, 5), (4, 5)]
    battle = core(red=square, blue=[(8, 8)])
    step(battle, {0: move(1, 0), 1: move(0, 1), 2: move(-1, 0), 3: move(0, -1)})
    assert [position(battle, s) for s in range(4)] == square


def test_a_mover_can_enter_the_cell_of_an_agent_killed_in_the_same_step():
    battle = core(red=[(4, 5), (5, 3)], blue=[(5, 5), (8, 8)])
    for _ in range(5):
        step(battle, {0: attack(1, 0)})
    step(battle, {0: attack(1, 0), 1: move(0, 2)})  # the attacks come before the moves
    assert not battle.state.alive[0, 2]
    assert position(battle, 1) == (5, 5)
    assert battle.state.occupant[0, 5, 5] == 1


def test_dead_agents_do_not_block_and_do_not_move():
    battle = core(red=[(4, 5), (7, 2)], blue=[(5, 5), (8, 8)])
    for _ in range(6):
        step(battle, {0: attack(1, 0)})
    assert not battle.state.alive[0, 2]
    step(battle, {0: move(1, 0), 2: move(0, 1)})
    assert position(battle, 0) == (5, 5)
    assert battle.state.occupant[0, 6, 5] == EMPTY


# -- attacks that miss ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("attacker", "direction", "what"),
    [
        ((4, 5), (1, 0), "teammate"),
        ((4, 5), (0, -1), "empty cell"),
        ((1, 5), (-1, 0), "border wall"),
        ((1, 1), (-1, -1), "border corner"),
        ((4, 5), (-1, 1), "interior wall"),
    ],
)
def test_attacks_on_teammates_empty_cells_and_walls_miss(attacker, direction, what):
    battle = core(red=[attacker, (5, 5)], blue=[(8, 8)], walls=[(3, 6)])
    out = step(battle, {0: attack(*direction)})
    assert out.rewards[0].tolist() == [approx(MISS), approx(IDLE), approx(IDLE)], what
    np.testing.assert_array_equal(battle.state.hp[0], MAX_HP)
    assert battle.state.kills[0].tolist() == [0, 0]


# -- several attackers on one victim --------------------------------------------------------------
VICTIM = (5, 5)
AROUND = [(VICTIM[0] + dx, VICTIM[1] + dy) for dx, dy in ATTACKS.values()]


def surrounded(n_attackers: int, seed: int = 0):
    """Red agents on the first ``n_attackers`` neighbours of one blue victim (slot ``n_attackers``)."""
    return core(red=AROUND[:n_attackers], blue=[VICTIM, (1, 8)], seed=seed)


def attack_victim(battle, n_attackers: int):
    """Every red attacker hits the victim."""
    toward_victim = {slot: attack(VICTIM[0] - x, VICTIM[1] - y) for slot, (x, y) in enumerate(AROUND[:n_attackers])}
    return step(battle, toward_victim)


@pytest.mark.parametrize("n_attackers", [2, 3, 4])
def test_damage_of_several_attackers_adds_up(n_attackers):
    battle = surrounded(n_attackers)
    out = attack_victim(battle, n_attackers)
    assert battle.state.hp[0, n_attackers] == approx(MAX_HP - 2.0 * n_attackers + 0.1)
    np.testing.assert_allclose(out.rewards[0, :n_attackers], HIT, atol=1e-6)


def test_death_needs_hp_below_zero():
    battle = surrounded(5)
    out = attack_victim(battle, 5)  # 10 - 5 * 2 = 0: still alive
    assert battle.state.alive[0, 5]
    assert battle.state.hp[0, 5] == approx(0.1)  # recovered after the attacks
    np.testing.assert_allclose(out.rewards[0, :5], HIT, atol=1e-6)
    out = step(battle, {0: attack(VICTIM[0] - AROUND[0][0], VICTIM[1] - AROUND[0][1])})
    assert not battle.state.alive[0, 5]
    assert out.rewards[0, 0] == approx(KILL) and out.rewards[0, 5] == approx(DEATH)


@pytest.mark.parametrize("n_attackers", [6, 7, 8])
def test_one_kill_reward_per_victim(n_attackers):
    killers = set()
    for seed in range(12):
        battle = surrounded(n_attackers, seed)
        out = attack_victim(battle, n_attackers)
        rewards = out.rewards[0, :n_attackers]
        # the sixth hit in the random order kills; later attacks find the cell empty
        assert (np.abs(rewards - KILL) < 1e-5).sum() == 1
        assert (np.abs(rewards - HIT) < 1e-5).sum() == 5
        assert (np.abs(rewards - MISS) < 1e-5).sum() == n_attackers - 6
        assert out.rewards[0, n_attackers] == approx(DEATH)
        assert battle.state.kills[0].tolist() == [1, 0]
        assert not battle.state.alive[0, n_attackers] and battle.state.hp[0, n_attackers] == 0
        assert battle.state.occupant[0, VICTIM[1], VICTIM[0]] == EMPTY
        killers.add(int(np.argmax(rewards)))
    assert len(killers) > 1  # the order is random


def test_one_kill_per_victim_when_rounding_makes_two_hits_look_lethal():
    # hp just below 2 and damage just above 2 (a float32 tie): after the first hit the victim's hp
    # minus two hits plus one damage rounds to 0, so both hits pass the killing-blow test
    eps = 2.0**-23
    for seed in range(4):
        battle = core(red=[(4, 5), (6, 5)], blue=[(5, 5)], seed=seed, max_hp=2 - eps, damage=2 + eps, recover=0.0)
        out = step(battle, {0: attack(1, 0), 1: attack(-1, 0)})
        assert battle.state.kills[0].tolist() == [1, 0]
        assert sorted(out.rewards[0, :2].tolist()) == [approx(MISS), approx(KILL)]


def duel_at_low_hp(seed: int, both_attack_early: bool):
    """red_0 and blue_0 side by side; blue hits red five times (and red hits back if ``both_attack_early``)."""
    battle = core(red=[(4, 5)], blue=[(5, 5)], seed=seed)
    for _ in range(5):
        step(battle, {0: attack(1, 0) if both_attack_early else 6, 1: attack(-1, 0)})
    return battle


def test_an_agent_killed_earlier_in_the_step_does_not_attack():
    # red_0 is at 0.5 hp, blue_0 at full hp; both attack. blue_0's hit always kills red_0; red_0's
    # hit lands only when it comes first in the random order.
    blue_hp = set()
    for seed in range(40):
        battle = duel_at_low_hp(seed, both_attack_early=False)
        assert battle.state.hp[0, 0] == approx(0.5)
        out = step(battle, {0: attack(1, 0), 1: attack(-1, 0)})
        assert not battle.state.alive[0, 0]
        assert out.rewards[0].tolist() == [approx(DEATH), approx(KILL)]
        hp = round(float(battle.state.hp[0, 1]), 4)
        assert hp in (10.0, 8.1)
        blue_hp.add(hp)
    assert blue_hp == {10.0, 8.1}  # both orders happened


def test_two_agents_about_to_die_never_kill_each_other():
    survivors = set()
    for seed in range(40):
        battle = duel_at_low_hp(seed, both_attack_early=True)
        np.testing.assert_allclose(battle.state.hp[0], 0.5, atol=1e-5)
        out = step(battle, {0: attack(1, 0), 1: attack(-1, 0)})
        assert battle.state.alive[0].sum() == 1
        survivor = int(np.flatnonzero(battle.state.alive[0])[0])
        assert battle.state.hp[0, survivor] == approx(0.6)  # the loser's attack never landed
        assert out.rewards[0, survivor] == approx(KILL) and out.rewards[0, 1 - survivor] == approx(DEATH)
        assert out.done[0] and out.terminated[0].all()
        survivors.add(survivor)
    assert survivors == {0, 1}


# -- hp and reward parameters ---------------------------------------------------------------------
def test_hp_recovers_up_to_max_hp():
    battle = core(red=[(4, 5)], blue=[(5, 5)])
    step(battle, {0: attack(1, 0)})
    for idle_steps in range(1, 30):
        step(battle)
        assert battle.state.hp[0, 1] == approx(min(8.1 + 0.1 * idle_steps, MAX_HP))
        assert battle.state.hp[0, 1] <= MAX_HP
    assert battle.state.hp[0, 1] == MAX_HP
    np.testing.assert_array_equal(battle.state.hp[0, 0], MAX_HP)


def test_reward_terms_are_constructor_arguments():
    terms = {
        "step_reward": -0.01,
        "attack_penalty": -0.3,
        "attack_opponent_reward": 1.0,
        "kill_reward": 10.0,
        "dead_penalty": -2.0,
    }
    battle = env(red=[(4, 5), (2, 2)], blue=[(5, 5), (8, 8)], **terms)
    hit, miss, idle = -0.01 - 0.3 + 1.0, -0.01 - 0.3, -0.01
    for _ in range(5):
        _, rewards, _, _, _ = env_step(battle, {"red_0": attack(1, 0), "red_1": attack(0, 1)})
        assert rewards == {"red_0": approx(hit), "red_1": approx(miss), "blue_0": approx(idle), "blue_1": approx(idle)}
    _, rewards, _, _, _ = env_step(battle, {"red_0": attack(1, 0)})
    kill = -0.01 - 0.3 + 10.0
    assert rewards == {"red_0": approx(kill), "red_1": approx(idle), "blue_0": approx(-2.0), "blue_1": approx(idle)}


def test_hp_damage_and_recovery_are_config_fields():
    battle = core(red=[(4, 5)], blue=[(5, 5)], max_hp=12.0, damage=5.0, recover=0.5)
    np.testing.assert_array_equal(battle.state.hp[0], 12.0)
    step(battle, {0: attack(1, 0)})
    assert battle.state.hp[0, 1] == approx(7.5)
    step(battle, {0: attack(1, 0)})
    assert battle.state.hp[0, 1] == approx(3.0)
    out = step(battle, {0: attack(1, 0)})  # 3 - 5 < 0
    assert not battle.state.alive[0, 1] and out.rewards[0, 0] == approx(KILL)
