"""The Battle rules as compiled loops, in MAgent's engine order (``REFERENCE.md`` section 1).

One step of one battle is ``resolve_attacks`` (attacks one at a time in the step's random order; it
also assembles the step's rewards) -> ``recover`` -> ``resolve_moves`` (moves one at a time in slot
order) -> ``check_episode_end``. ``step_battles`` runs that sequence for every battle, the battles in
parallel (``prange``): battles share nothing, so the result does not depend on the thread count.

The random order of the attacks is drawn in Python, from the core's ``np.random.Generator``, exactly
as before the kernels: ``find_attacks`` lists the attacks aimed at an enemy (flat over battles, in slot
order), and ``rng.permutation(n_attacks)`` gives each its turn; nothing is drawn when there is none.

Where MAgent2 0.3.4 departs from its documented rules we follow the documented rule: an agent
killed in a step gets ``dead_penalty`` (MAgent2 gives it +0.1 if it had landed a non-lethal hit
earlier in that step, because it re-applies the +0.2 hit reward after the death penalty).

All numbers are float32 like the state (the reward terms are passed as float32), so a kernel gives
the same bits as the NumPy rules it replaced (tests/mfenvs/battle/test_golden.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import prange

from mfenvs.battle.config import ATTACK_OFFSETS, MOVE_OFFSETS, N_ACTIONS, N_MOVES, STAY, BattleConfig
from mfenvs.battle.state import EMPTY
from mfenvs.common.jit import kernel

MOVE_DX = np.array([dx for dx, _ in MOVE_OFFSETS], dtype=np.int64)
MOVE_DY = np.array([dy for _, dy in MOVE_OFFSETS], dtype=np.int64)
ATTACK_DX = np.array([0] * N_MOVES + [dx for dx, _ in ATTACK_OFFSETS], dtype=np.int64)
ATTACK_DY = np.array([0] * N_MOVES + [dy for _, dy in ATTACK_OFFSETS], dtype=np.int64)


class RuleNumbers(NamedTuple):
    """The config's numbers as the kernels take them (float32, like ``hp`` and the rewards)."""

    step_reward: np.float32
    attack_penalty: np.float32
    attack_opponent_reward: np.float32
    kill_reward: np.float32
    dead_penalty: np.float32
    damage: np.float32
    recover: np.float32
    max_hp: np.float32

    @classmethod
    def of(cls, config: BattleConfig) -> RuleNumbers:
        return cls(*(np.float32(getattr(config, name)) for name in cls._fields))


@kernel
def attack_victim(positions, actions, occupant, teams, battle, slot):
    """Slot of the enemy on the cell that ``slot``'s attack aims at, or ``EMPTY`` (a move, or a miss).

    An attack aims at one of the 8 neighbouring cells, always on the map (living agents stand inside
    the wall ring); teammates, walls and empty cells are misses.
    """
    action = actions[battle, slot]
    if action < N_MOVES:
        return EMPTY
    x = positions[battle, slot, 0] + ATTACK_DX[action]
    y = positions[battle, slot, 1] + ATTACK_DY[action]
    victim = occupant[battle, y, x]
    if victim != EMPTY and teams[victim] != teams[slot]:
        return victim
    return EMPTY


@kernel(parallel=True)
def find_attacks(positions, alive, actions, occupant, teams, done, victims, n_attacks, first_attack):
    """Check the actions and list the step's attacks on enemies; returns ``(n_invalid, total)``.

    ``n_invalid``: actions outside ``[0, N_ACTIONS)`` (dead agents' included); if any, nothing else is
    written. Otherwise ``victims[b, i]`` is the enemy agent ``i`` attacks at the start of the step
    (``EMPTY`` if none), ``n_attacks[b]`` how many of battle ``b``'s agents attack an enemy (none in a
    finished battle), ``first_attack[b]`` the index of battle ``b``'s first such attack among all
    battles' (``first_attack[B]`` = ``total``).
    """
    n_battles, n_agents = alive.shape
    n_invalid = 0
    for battle in range(n_battles):
        for slot in range(n_agents):
            if not 0 <= actions[battle, slot] < N_ACTIONS:
                n_invalid += 1
    if n_invalid:
        return n_invalid, 0
    for battle in prange(n_battles):
        count = 0
        for slot in range(n_agents):
            victim = EMPTY
            if not done[battle] and alive[battle, slot]:
                victim = attack_victim(positions, actions, occupant, teams, battle, slot)
            victims[battle, slot] = victim
            if victim != EMPTY:
                count += 1
        n_attacks[battle] = count
    first_attack[0] = 0
    for battle in range(n_battles):
        first_attack[battle + 1] = first_attack[battle] + n_attacks[battle]
    return 0, first_attack[n_battles]


@kernel
def resolve_attacks(battle, numbers, hp, alive, occupant, positions, last_hits, last_deaths, kills, rewards, actions, teams, victims, turns):
    """Apply battle ``battle``'s attacks one at a time in the order of their ``turns``; write its rewards.

    Rules (REFERENCE.md section 1): every living agent gets ``step_reward``, and every attack action
    costs ``attack_penalty``, hit or miss. An attack on an enemy lands when both the attacker and the
    victim are still alive at its turn: the victim loses ``damage`` hp and dies when its hp drops
    below 0; that attack is the killing blow (``kill_reward``), any other landing hit earns
    ``attack_opponent_reward``. The dead leave the map at once and get ``dead_penalty`` for the step.

    ``turns``: the turn of each of the battle's attacks on an enemy, in slot order of the attackers.
    """
    step_reward, attack_penalty, hit_reward, kill_reward, dead_penalty, damage, _, _ = numbers
    n_agents = alive.shape[1]
    attackers = np.empty(len(turns), dtype=np.int64)
    n = 0
    for slot in range(n_agents):
        last_hits[battle, slot] = False
        last_deaths[battle, slot] = False
        rewards[battle, slot] = 0.0
        if alive[battle, slot]:
            rewards[battle, slot] = step_reward
            if actions[battle, slot] >= N_MOVES:
                rewards[battle, slot] += attack_penalty
        if victims[battle, slot] != EMPTY:
            attackers[n] = slot
            n += 1

    for attack in np.argsort(turns):
        attacker = attackers[attack]
        victim = victims[battle, attacker]
        if not (alive[battle, attacker] and alive[battle, victim]):
            continue  # killed earlier in this step: the attacker does not act, the victim is gone
        hp[battle, victim] -= damage
        last_hits[battle, attacker] = True
        if hp[battle, victim] < 0:
            rewards[battle, attacker] += kill_reward
            kills[battle, teams[attacker]] += 1
            alive[battle, victim] = False
            hp[battle, victim] = 0.0
            last_deaths[battle, victim] = True
            occupant[battle, positions[battle, victim, 1], positions[battle, victim, 0]] = EMPTY
        else:
            rewards[battle, attacker] += hit_reward

    for slot in range(n_agents):
        if last_deaths[battle, slot]:
            rewards[battle, slot] = dead_penalty


@kernel
def recover(battle, numbers, hp, alive):
    """Every living agent regains ``recover`` hp, capped at ``max_hp`` (after attacks, before moves)."""
    recovery, max_hp = numbers[6], numbers[7]
    for slot in range(alive.shape[1]):
        if alive[battle, slot]:
            hp[battle, slot] = min(hp[battle, slot] + recovery, max_hp)


@kernel
def resolve_moves(battle, alive, occupant, positions, actions, walls):
    """Apply battle ``battle``'s moves one at a time in slot order (red in index order, then blue).

    A move goes straight to its destination (up to 2 cells away; the cells in between do not matter)
    and succeeds iff that cell is on the map, not a wall and empty at that moment: a cell vacated
    earlier in the order is free, the first of several agents heading for one cell wins, swaps fail.
    """
    size = walls.shape[0]
    for slot in range(alive.shape[1]):
        action = actions[battle, slot]
        if not alive[battle, slot] or action >= N_MOVES or action == STAY:
            continue
        x, y = positions[battle, slot, 0], positions[battle, slot, 1]
        to_x, to_y = x + MOVE_DX[action], y + MOVE_DY[action]
        if not (0 <= to_x < size and 0 <= to_y < size) or walls[to_y, to_x] or occupant[battle, to_y, to_x] != EMPTY:
            continue
        occupant[battle, y, x] = EMPTY
        occupant[battle, to_y, to_x] = slot
        positions[battle, slot, 0] = to_x
        positions[battle, slot, 1] = to_y


@kernel
def check_episode_end(battle, alive, teams, terminated, steps, max_cycles):
    """Whether battle ``battle`` is over: a team has no agents left (the survivors are then terminated
    too), or ``max_cycles`` steps are reached (``terminated`` holds the agents that died this step)."""
    survivors = np.zeros(2, dtype=np.int64)
    for slot in range(alive.shape[1]):
        if alive[battle, slot]:
            survivors[teams[slot]] += 1
    wiped_out = survivors[0] == 0 or survivors[1] == 0
    if wiped_out:
        for slot in range(alive.shape[1]):
            if alive[battle, slot]:
                terminated[battle, slot] = True
    return wiped_out, steps[battle] >= max_cycles


@kernel(parallel=True)
def step_battles(
    numbers, max_cycles, teams, walls, actions, victims, first_attack, order,
    positions, hp, alive, occupant, last_actions, last_rewards, last_hits, last_deaths, steps, kills, done,
    rewards, terminated, truncated,
):  # fmt: skip
    """One step of every running battle (in parallel over battles); finished battles stay as they are
    and get zero rewards.

    ``victims`` and ``first_attack`` come from ``find_attacks`` (``first_attack[b]``: the index of battle
    ``b``'s first attack on an enemy among all battles' attacks), ``order`` from the generator.
    Writes ``rewards``, ``terminated`` and ``truncated`` (outputs) and updates the state arrays.
    """
    n_battles, n_agents = alive.shape
    for battle in prange(n_battles):
        terminated[battle, :] = False
        truncated[battle] = False
        if done[battle]:
            rewards[battle, :] = 0.0
            continue
        for slot in range(n_agents):
            if alive[battle, slot]:
                last_actions[battle, slot] = actions[battle, slot]
                terminated[battle, slot] = True  # acting; cleared below for the survivors
        turns = order[first_attack[battle] : first_attack[battle + 1]]
        resolve_attacks(battle, numbers, hp, alive, occupant, positions, last_hits, last_deaths, kills, rewards, actions, teams, victims, turns)
        recover(battle, numbers, hp, alive)
        resolve_moves(battle, alive, occupant, positions, actions, walls)
        for slot in range(n_agents):
            last_rewards[battle, slot] = rewards[battle, slot]
            if alive[battle, slot]:
                terminated[battle, slot] = False  # terminated: acted this step and died in it
        steps[battle] += 1
        wiped_out, out_of_time = check_episode_end(battle, alive, teams, terminated, steps, max_cycles)
        truncated[battle] = out_of_time
        done[battle] = wiped_out or out_of_time


def team_alive_counts(alive: np.ndarray, n_red: int) -> np.ndarray:
    """``[B, 2]`` living agents of red (slots ``:n_red``) and blue (slots ``n_red:``) from ``alive`` ``[B, N]``."""
    return np.add.reduceat(alive, [0, n_red], axis=1, dtype=np.int64)
