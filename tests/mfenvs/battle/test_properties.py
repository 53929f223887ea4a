"""Invariants of Battle over random placements and random action sequences (Hypothesis).

Small packed maps so that agents collide and die within a few steps. Hypothesis runs derandomized
(examples fixed by the test's source) and without an example database, so CI runs are repeatable.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mfenvs import battle_v0
from mfenvs.battle import BattleCore
from mfenvs.battle.state import EMPTY
from tests.mfenvs.battle.helpers import ATTACKS, DEATH, HIT, IDLE, KILL, MAX_HP, MISS, MOVES, config

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
N_BATTLES = 2
NET_REWARDS = np.array([IDLE, HIT, KILL, MISS, DEATH])


@st.composite
def placements(draw: st.DrawFn) -> dict:
    """A small map, distinct start cells for 2 to 14 agents split into two non-empty teams, interior walls."""
    map_size = draw(st.integers(5, 8))
    interior = [(x, y) for x in range(1, map_size - 1) for y in range(1, map_size - 1)]
    n_cells = draw(st.integers(2, min(16, len(interior))))
    cells = draw(st.permutations(interior))[:n_cells]
    n_walls = draw(st.integers(0, min(2, n_cells - 2)))
    n_red = draw(st.integers(1, n_cells - n_walls - 1))
    agents = cells[n_walls:]
    return {
        "map_size": map_size,
        "walls": cells[:n_walls],
        "red": agents[:n_red],
        "blue": agents[n_red:],
        "seed": draw(st.integers(0, 2**16)),
    }


@st.composite
def games(draw: st.DrawFn) -> tuple[dict, np.ndarray]:
    """A placement and a ``[steps, battles, agents]`` action sequence, biased towards attacks."""
    placement = draw(placements())
    n_agents = len(placement["red"]) + len(placement["blue"])
    n_steps = draw(st.integers(1, 60))
    action = st.one_of(st.integers(13, 20), st.integers(0, 20))
    actions = draw(arrays(np.int64, (n_steps, N_BATTLES, n_agents), elements=action))
    return placement, actions


def make_core(placement: dict) -> BattleCore:
    cfg = config(placement["red"], placement["blue"], placement["map_size"], walls=placement["walls"], max_cycles=50)
    battle = BattleCore(cfg, n_battles=N_BATTLES)
    battle.reset(seed=placement["seed"])
    return battle


def check_board(battle: BattleCore) -> None:
    """Living agents on distinct open cells, the occupant grid in agreement, hp in range."""
    state, size = battle.state, battle.config.map_size
    walls = {tuple(w) for w in battle.config.walls}
    for index in range(N_BATTLES):
        alive = np.flatnonzero(state.alive[index])
        cells = [tuple(int(v) for v in state.positions[index, slot]) for slot in alive]
        assert len(set(cells)) == len(cells), "two living agents share a cell"
        assert all(0 < x < size - 1 and 0 < y < size - 1 and (x, y) not in walls for x, y in cells)
        expected = np.full((size, size), EMPTY)
        for slot, (x, y) in zip(alive, cells):
            expected[y, x] = slot
        np.testing.assert_array_equal(state.occupant[index], expected)
    hp = state.hp
    assert ((hp[state.alive] >= 0) & (hp[state.alive] <= MAX_HP)).all()
    assert (hp[~state.alive] == 0).all()


@PROPERTY_SETTINGS
@given(games())
def test_core_invariants(game):
    placement, action_sequence = game
    battle = make_core(placement)
    n_red, n_blue = len(placement["red"]), len(placement["blue"])
    teams = np.array([0] * n_red + [1] * n_blue)
    reward_sums = np.zeros((N_BATTLES, 2))
    check_board(battle)
    for actions in action_sequence:
        before = battle.state.copy()
        out = battle.step(actions)
        state = battle.state
        check_board(battle)

        # the dead stay dead; finished battles stay finished
        assert not (state.alive & ~before.alive).any()
        assert (state.done | ~before.done).all()
        # kills of one side are the deaths of the other
        dead = (~state.alive).astype(int)
        np.testing.assert_array_equal(state.kills[:, 0], dead[:, teams == 1].sum(axis=1))
        np.testing.assert_array_equal(state.kills[:, 1], dead[:, teams == 0].sum(axis=1))

        acted = before.alive & ~before.done[:, None]
        # rewards: one of the five net values for those who acted, 0 for everybody else
        assert (out.rewards[~acted] == 0).all()
        distance = np.abs(out.rewards[acted][:, None] - NET_REWARDS[None, :]).min(axis=1)
        assert (distance < 1e-5).all(), out.rewards[acted]
        assert ((np.abs(out.rewards - DEATH) < 1e-6) == (acted & ~state.alive)).all()
        # totals are the sums of the step rewards
        reward_sums[:, 0] += out.rewards[:, teams == 0].sum(axis=1)
        reward_sums[:, 1] += out.rewards[:, teams == 1].sum(axis=1)
        np.testing.assert_allclose(state.total_rewards, reward_sums, atol=1e-4)

        # each surviving agent stayed or moved by its action's offset
        moved = state.positions - before.positions
        for index, slot in zip(*np.nonzero(acted & state.alive)):
            offset = MOVES.get(int(actions[index, slot]), (0, 0))
            assert tuple(moved[index, slot]) in {(0, 0), offset}
        # terminated: died this step, or a survivor of a wipe-out
        wiped = (np.stack([state.alive[:, teams == 0].sum(1), state.alive[:, teams == 1].sum(1)], 1) == 0).any(1)
        expected_terminated = (acted & ~state.alive) | (state.alive & (wiped & ~before.done)[:, None])
        np.testing.assert_array_equal(out.terminated, expected_terminated)
        np.testing.assert_array_equal(out.done, state.done)
    event(f"kills: {'some' if battle.state.kills.any() else 'none'}")
    event(f"wiped out: {'some' if battle.state.done.any() else 'none'}")


def fighting_action(mask: np.ndarray, rng: np.random.Generator) -> int:
    """Mostly an attack on an adjacent enemy if there is one, else any action."""
    targets = np.flatnonzero(mask[13:]) + 13
    if len(targets) and rng.random() < 0.8:
        return int(rng.choice(targets))
    return int(rng.integers(0, 21))


@PROPERTY_SETTINGS
@given(placements(), st.sampled_from(["remove", "absorb"]), st.integers(0, 2**16), st.integers(1, 80))
def test_env_agent_set_never_grows(placement, dead_agents, action_seed, max_cycles):
    env = battle_v0.parallel_env(
        map_size=placement["map_size"],
        positions={"red": placement["red"], "blue": placement["blue"]},
        walls=placement["walls"],
        dead_agents=dead_agents,
        max_cycles=max_cycles,
        action_mask=True,
    )
    rng = np.random.default_rng(action_seed)
    _, infos = env.reset(seed=placement["seed"])
    gone: set[str] = set()
    totals = {"red": 0.0, "blue": 0.0}
    steps = 0
    while env.agents:
        previous = list(env.agents)
        actions = {agent: fighting_action(infos[agent]["action_mask"], rng) for agent in previous}
        outputs = env.step(actions)
        steps += 1
        for output in outputs:
            assert list(output) == previous  # every agent of the step, and no other
        _, rewards, terminations, truncations, infos = outputs
        assert set(env.agents) <= set(previous) and not set(env.agents) & gone
        gone |= {agent for agent in previous if terminations[agent] or truncations[agent]}
        if dead_agents == "absorb" and env.agents:
            assert env.agents == env.possible_agents
        for agent, reward in rewards.items():
            totals[agent.split("_")[0]] += reward
    assert steps <= max_cycles
    results = infos[previous[0]]
    event(f"ended by {'truncation' if truncations[previous[0]] else 'wipe-out'}")
    event(f"deaths: {'some' if results['red_kills'] + results['blue_kills'] else 'none'}")
    assert results["red_total_reward"] == pytest.approx(totals["red"], abs=1e-4)
    assert results["blue_total_reward"] == pytest.approx(totals["blue"], abs=1e-4)
    assert results["red_survivors"] == len(placement["red"]) - results["blue_kills"]
    assert results["blue_survivors"] == len(placement["blue"]) - results["red_kills"]
    assert (steps == max_cycles) or min(results["red_survivors"], results["blue_survivors"]) == 0


# -- the vectorised step against MAgent's sequential rules, written as plain loops -----------------
def sequential_step(before, cfg, actions: np.ndarray, attack_order: tuple[int, ...]) -> tuple:
    """One battle's step by MAgent's rules, agent by agent: ``(positions, hp, alive, rewards, kills)``.

    ``attack_order`` lists the attacking slots in the order their attacks are processed.
    """
    size, n_red = cfg.map_size, cfg.team_counts[0]
    team = [int(slot >= n_red) for slot in range(cfg.n_agents)]
    walls = set(cfg.walls)
    positions = [tuple(int(v) for v in p) for p in before.positions[0]]
    hp = [float(h) for h in before.hp[0]]
    alive = [bool(a) for a in before.alive[0]]
    acting = list(alive)
    rewards = [cfg.step_reward if a else 0.0 for a in alive]
    kills = [int(k) for k in before.kills[0]]
    hit = [False] * cfg.n_agents
    killed = [False] * cfg.n_agents

    def occupant(cell):
        return next((k for k in range(cfg.n_agents) if alive[k] and positions[k] == cell), None)

    for slot in attack_order:
        if not alive[slot]:
            continue  # killed earlier in the order: its attack never happens
        rewards[slot] += cfg.attack_penalty
        dx, dy = ATTACKS[int(actions[slot])]
        victim = occupant((positions[slot][0] + dx, positions[slot][1] + dy))
        if victim is None or team[victim] == team[slot]:
            continue
        hp[victim] = float(np.float32(hp[victim]) - np.float32(cfg.damage))
        if hp[victim] < 0:
            alive[victim], hp[victim], killed[victim] = False, 0.0, True
            rewards[slot] += cfg.kill_reward
            kills[team[slot]] += 1
        else:
            hit[slot] = True
    for slot in range(cfg.n_agents):
        if hit[slot]:
            rewards[slot] += cfg.attack_opponent_reward
        if killed[slot]:
            rewards[slot] = cfg.dead_penalty
        if alive[slot]:
            hp[slot] = min(float(np.float32(hp[slot]) + np.float32(cfg.recover)), cfg.max_hp)
    for slot in range(cfg.n_agents):  # moves in slot order
        action = int(actions[slot])
        if not alive[slot] or action not in MOVES or action == 6:
            continue
        dx, dy = MOVES[action]
        cell = (positions[slot][0] + dx, positions[slot][1] + dy)
        inside = 0 < cell[0] < size - 1 and 0 < cell[1] < size - 1
        if inside and cell not in walls and occupant(cell) is None:
            positions[slot] = cell
    for slot in range(cfg.n_agents):
        if not acting[slot]:
            rewards[slot] = 0.0
    return positions, hp, alive, rewards, kills


MAX_GROUP = 7
"""Most interacting attacks whose orders are searched (7! = 5040 orders)."""


def interacting_groups(attacks: list[tuple[int, int]]) -> list[list[int]]:
    """Indices of ``(attacker, victim)`` attacks grouped so that attacks in different groups share no agent.

    Only the order of attacks within a group can change the outcome (two attacks on one victim, or
    an attack by an agent that is itself attacked), so the groups can be searched one at a time.
    """
    root = {}

    def find(agent: int) -> int:
        while root.setdefault(agent, agent) != agent:
            agent = root[agent]
        return agent

    for attacker, victim in attacks:
        root[find(attacker)] = find(victim)
    groups: dict[int, list[int]] = {}
    for index, (attacker, _) in enumerate(attacks):
        groups.setdefault(find(attacker), []).append(index)
    return list(groups.values())


def attack_phase_matches(out, battle, reference, agents: set[int]) -> bool:
    """The hp, life and reward of ``agents`` after the step agree with the sequential reference."""
    _, hp, alive, rewards, _ = reference
    slots = sorted(agents)
    return (
        battle.state.alive[0, slots].tolist() == [alive[k] for k in slots]
        and np.allclose(battle.state.hp[0, slots], [hp[k] for k in slots], atol=1e-5)
        and np.allclose(out.rewards[0, slots], [rewards[k] for k in slots], atol=1e-5)
    )


def full_match(battle, out, reference) -> bool:
    positions, hp, alive, rewards, kills = reference
    state = battle.state
    living = [slot for slot, a in enumerate(alive) if a]
    return (
        state.alive[0].tolist() == alive
        and [tuple(int(v) for v in state.positions[0, slot]) for slot in living] == [positions[slot] for slot in living]
        and state.kills[0].tolist() == kills
        and np.allclose(state.hp[0], hp, atol=1e-5)
        and np.allclose(out.rewards[0], rewards, atol=1e-5)
    )


@PROPERTY_SETTINGS
@given(placements(), st.integers(0, 2**32 - 1))
def test_step_matches_the_sequential_rules_for_some_attack_order(placement, action_seed):
    battle = make_core(placement)
    cfg = battle.config
    n_red = cfg.team_counts[0]
    rng = np.random.default_rng(action_seed)
    largest_group = 0
    for _ in range(30):
        if battle.state.done[0]:
            break
        masks = battle.action_masks()[0]
        actions = np.array([fighting_action(mask, rng) for mask in masks])
        before = battle.state.copy()
        out = battle.step(np.stack([actions] * N_BATTLES))

        occupied = {tuple(int(v) for v in before.positions[0, k]): k for k in np.flatnonzero(before.alive[0])}
        attacks, misses = [], []  # (attacker, victim) of attacks aimed at an enemy; attackers of the others
        for slot in np.flatnonzero(before.alive[0] & (actions >= 13)):
            dx, dy = ATTACKS[int(actions[slot])]
            victim = occupied.get((int(before.positions[0, slot, 0]) + dx, int(before.positions[0, slot, 1]) + dy))
            if victim is not None and (victim >= n_red) != (slot >= n_red):
                attacks.append((int(slot), victim))
            else:
                misses.append(int(slot))
        order: list[int] = []
        groups = interacting_groups(attacks)
        largest_group = max([largest_group] + [len(group) for group in groups])
        if any(len(group) > MAX_GROUP for group in groups):
            continue  # too many orders to try; the examples here stay below this
        for group in groups:
            others = [attacks[i][0] for i in range(len(attacks)) if i not in group] + misses
            agents = {agent for i in group for agent in attacks[i]}
            found = next(
                (
                    candidate
                    for candidate in itertools.permutations([attacks[i][0] for i in group])
                    if attack_phase_matches(
                        out, battle, sequential_step(before, cfg, actions, candidate + tuple(others)), agents
                    )
                ),
                None,
            )
            group_attacks = [attacks[i] for i in group]
            assert found is not None, f"no order of the attacks {group_attacks} gives the vectorised outcome"
            order += found
        reference = sequential_step(before, cfg, actions, tuple(order + misses))
        assert full_match(battle, out, reference), "moves or misses differ from the sequential rules"
    event(f"largest group of interacting attacks: {min(largest_group, 4)}{'+' if largest_group >= 4 else ''}")
    event(f"a group too large to search: {largest_group > MAX_GROUP}")
