"""The gridworld rules as compiled loops, in MAgent's engine order (``REFERENCE.md`` section 1).

One step of one game ("battle") is ``resolve_attacks`` (attacks one at a time in the step's random
order; it also assembles the step's rewards, heals killers and pays the victim and joint-attack rules)
-> ``recover`` (negative: starvation, which kills below 0 hp) -> ``resolve_moves`` (moves one at a time
in slot order, or above 99 x 99 cells in MAgent's x-band order) -> ``check_episode_end``.
``step_battles`` runs that sequence for every game, the games in parallel (``prange``): games share
nothing, so the result does not depend on the thread count.

Nothing of a particular game is here: the kernels read the game's ``Tables`` (``mfenvs.gridworld.game``):
each slot's type and group, each type's hp, damage, recovery, rewards and action offsets, and the
reward rules as ``[G, G]`` tables of attacker group x victim group.

The random order of the attacks is drawn in Python, from the core's ``np.random.Generator``:
``find_attacks`` lists the attacks that aim at an agent they can hit (flat over games, in slot order),
and ``rng.permutation(n_attacks)`` gives each its turn; nothing is drawn when there is none.

Where MAgent2 0.3.4 departs from its documented rules we follow the documented rule: an agent
killed in a step gets its ``dead_penalty`` (MAgent2 gives it the reward rules' hit rewards of that step
on top, because it applies the rules after the death penalty).

All numbers are float32 like the state (the tables are float32), so a kernel gives the same bits as
the NumPy rules it replaced (tests/mfenvs/battle/test_golden.py).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from mfenvs.common.jit import kernel
from mfenvs.gridworld.state import EMPTY


@kernel(parallel=True)
def find_attacks(
    slot_type, slot_group, n_moves, n_actions, action_dx, action_dy, attack_in_group,
    positions, alive, actions, occupant, done, victims, n_attacks, first_attack,
):  # fmt: skip
    """Check the actions and list the step's attacks on agents; returns ``(n_invalid, total)``.

    ``n_invalid``: actions outside ``[0, n_actions)`` of the slot's type (dead agents' included); if
    any, nothing else is written. Otherwise ``victims[b, i]`` is the agent ``i`` attacks at the start
    of the step (``EMPTY`` if none), ``n_attacks[b]`` how many of game ``b``'s
    agents attack one (none in a finished game), ``first_attack[b]`` the index of game ``b``'s first
    such attack among all games' (``first_attack[B]`` = ``total``).

    An attack aims at the cell of its offset: walls, empty and off-map cells are misses, and so are
    agents of the attacker's own group unless its type has ``attack_in_group``.

    The tables come one by one (``Tables``' fields), not as the tuple, and the victim is found inline,
    not by a call per agent: each was measured to make the loop several times slower.
    """
    n_battles, n_agents = alive.shape
    size = occupant.shape[1]
    n_invalid = 0
    for battle in range(n_battles):
        for slot in range(n_agents):
            if not 0 <= actions[battle, slot] < n_actions[slot_type[slot]]:
                n_invalid += 1
    if n_invalid:
        return n_invalid, 0
    for battle in prange(n_battles):
        count = 0
        for slot in range(n_agents):
            victim = EMPTY
            if not done[battle] and alive[battle, slot]:
                kind = slot_type[slot]
                action = actions[battle, slot]
                if action >= n_moves[kind]:
                    x = positions[battle, slot, 0] + action_dx[kind, action]
                    y = positions[battle, slot, 1] + action_dy[kind, action]
                    if 0 <= x < size and 0 <= y < size:
                        other = occupant[battle, y, x]
                        if other != EMPTY and (slot_group[other] != slot_group[slot] or attack_in_group[kind]):
                            victim = other
            victims[battle, slot] = victim
            if victim != EMPTY:
                count += 1
        n_attacks[battle] = count
    first_attack[0] = 0
    for battle in range(n_battles):
        first_attack[battle + 1] = first_attack[battle] + n_attacks[battle]
    return 0, first_attack[n_battles]


@kernel
def resolve_attacks(
    battle, slot_type, slot_group, max_hp, damage, kill_supply, step_reward, attack_penalty, dead_penalty, kill_reward,
    n_moves, hit_reward, kill_bonus, victim_reward, joint_reward, has_joint, widths, hp, alive, occupant, positions, last_hits,
    last_deaths, kills, rewards, actions, victims, turns,
):  # fmt: skip
    """Apply game ``battle``'s attacks one at a time in the order of their ``turns``; write its rewards.

    Rules (REFERENCE.md section 1): every living agent gets its type's ``step_reward``, and every
    attack action costs ``attack_penalty``, hit or miss. An attack lands when both the attacker and
    the victim are still alive at its turn: the victim loses the attacker type's ``damage`` and dies
    when its hp drops below 0; that attack is the killing blow (the victim type's ``kill_reward`` plus
    the "kill" rules, ``kill_bonus``; the killer regains the victim type's ``kill_supply`` hp, capped
    at its own ``hp``), any other landing hit earns the "attack" rules' ``hit_reward`` and pays the
    victim the victim rules' ``victim_reward``. After all attacks, each agent whose non-killing hit
    landed earns ``joint_reward`` per other agent of its group whose non-killing hit landed on the same
    victim (``JointAttackRule``; counted only if ``has_joint``). The dead leave the map at once and get
    their ``dead_penalty`` for the step. ``kills[b, a, v]`` counts the agents of group v killed by group a.

    ``turns``: the turn of each of the game's attacks, in slot order of the attackers.
    """
    n_agents = alive.shape[1]
    attackers = np.empty(len(turns), dtype=np.int64)
    n = 0
    for slot in range(n_agents):
        last_hits[battle, slot] = False
        last_deaths[battle, slot] = False
        rewards[battle, slot] = 0.0
        if alive[battle, slot]:
            kind = slot_type[slot]
            rewards[battle, slot] = step_reward[kind]
            if actions[battle, slot] >= n_moves[kind]:
                rewards[battle, slot] += attack_penalty[kind]
        if victims[battle, slot] != EMPTY:
            attackers[n] = slot
            n += 1

    hit = np.full(n, EMPTY, dtype=np.int64)  # each listed attack's victim if it landed without killing
    for attack in np.argsort(turns):
        attacker = attackers[attack]
        victim = victims[battle, attacker]
        if not (alive[battle, attacker] and alive[battle, victim]):
            continue  # killed earlier in this step: the attacker does not act, the victim is gone
        hp[battle, victim] -= damage[slot_type[attacker]]
        last_hits[battle, attacker] = True
        pair_attacker, pair_victim = slot_group[attacker], slot_group[victim]
        if hp[battle, victim] < 0:
            rewards[battle, attacker] += kill_reward[slot_type[victim]] + kill_bonus[pair_attacker, pair_victim]
            kills[battle, pair_attacker, pair_victim] += 1
            alive[battle, victim] = False
            hp[battle, victim] = 0.0
            last_deaths[battle, victim] = True
            clear_body(battle, occupant, positions[battle, victim, 0], positions[battle, victim, 1], widths[slot_type[victim]])
            kind = slot_type[attacker]
            hp[battle, attacker] = min(hp[battle, attacker] + kill_supply[slot_type[victim]], max_hp[kind])
        else:
            rewards[battle, attacker] += hit_reward[pair_attacker, pair_victim]
            rewards[battle, victim] += victim_reward[pair_attacker, pair_victim]
            hit[attack] = victim

    if has_joint:  # hits of one group's agents on one victim: [victim, attacker group]
        co_hits = np.zeros((n_agents, joint_reward.shape[0]), dtype=np.int64)
        for attack in range(n):
            if hit[attack] != EMPTY:
                co_hits[hit[attack], slot_group[attackers[attack]]] += 1
        for attack in range(n):
            victim = hit[attack]
            if victim != EMPTY:
                group = slot_group[attackers[attack]]
                partners = co_hits[victim, group] - 1
                rewards[battle, attackers[attack]] += np.float32(partners) * joint_reward[group, slot_group[victim]]

    for slot in range(n_agents):
        if last_deaths[battle, slot]:
            rewards[battle, slot] = dead_penalty[slot_type[slot]]


@numba.njit(cache=True, nogil=True, inline="always")
def clear_body(battle, occupant, x, y, width):
    """Free the ``width`` x ``width`` cells of a body whose top-left cell is ``(x, y)`` (MAgent's ``clear_area``)."""
    occupant[battle, y, x] = EMPTY
    if width > 1:
        for dy in range(width):
            for dx in range(width):
                occupant[battle, y + dy, x + dx] = EMPTY


@kernel
def recover(battle, slot_type, recovery, max_hp, dead_penalty, widths, hp, alive, occupant, positions, last_deaths, rewards):
    """Every living agent regains its type's ``step_recover`` hp, capped at its ``hp`` (after attacks, before moves).

    A negative ``step_recover`` is starvation (MAgent's ``Agent::starve``): an agent whose hp drops below
    0 dies there, leaves the map and gets its ``dead_penalty`` for the step.
    """
    for slot in range(alive.shape[1]):
        if alive[battle, slot]:
            kind = slot_type[slot]
            hp[battle, slot] = min(hp[battle, slot] + recovery[kind], max_hp[kind])
            if hp[battle, slot] < 0:
                alive[battle, slot] = False
                hp[battle, slot] = 0.0
                last_deaths[battle, slot] = True
                rewards[battle, slot] = dead_penalty[kind]
                clear_body(battle, occupant, positions[battle, slot, 0], positions[battle, slot, 1], widths[kind])


@kernel
def move_order(battle, positions, n_bands, bandwidth):
    """MAgent's large-map move order (``GridWorld::set_action``): slots in x-band 0, 1, ..., then the
    slots in the boundary columns of every band, each list in slot order.

    A slot at column x is in the boundary columns when ``x % bandwidth`` is below 4 or above
    ``bandwidth - 4``; otherwise it moves with band ``x // bandwidth``.
    """
    n_agents = positions.shape[1]
    keys = np.empty(n_agents, dtype=np.int64)
    starts = np.zeros(n_bands + 2, dtype=np.int64)
    for slot in range(n_agents):
        x = positions[battle, slot, 0]
        column = x % bandwidth
        key = n_bands if column < 4 or column > bandwidth - 4 else x // bandwidth
        keys[slot] = key
        starts[key + 1] += 1
    for key in range(n_bands + 1):
        starts[key + 1] += starts[key]
    order = np.empty(n_agents, dtype=np.int64)
    for slot in range(n_agents):
        order[starts[keys[slot]]] = slot
        starts[keys[slot]] += 1
    return order


@kernel
def resolve_moves(
    battle, slot_type, n_moves, stay, action_dx, action_dy, widths, alive, occupant, positions, actions, walls, n_bands, bandwidth
):
    """Apply game ``battle``'s moves one at a time: in slot order (group by group, in index order) or,
    on a large map (``n_bands`` > 0), in MAgent's order of x-bands (``move_order``).

    A move goes straight to its destination (the cells in between do not matter) and succeeds iff
    that cell is on the map, not a wall and empty at that moment: a cell vacated earlier in the order
    is free, the first of several agents heading for one cell wins, swaps fail. A body wider than 1
    (``widths``) moves its top-left cell so, when every cell of the destination area is on the map,
    not a wall and empty or its own (MAgent's ``is_blank_area(..., self)``); it then leaves its old
    cells and fills the new ones (``clear_area``, ``fill_area``).
    """
    size = walls.shape[1]
    n_agents = alive.shape[1]
    order = move_order(battle, positions, n_bands, bandwidth) if n_bands > 0 else np.empty(0, dtype=np.int64)
    for index in range(n_agents):
        slot = order[index] if n_bands > 0 else index
        kind = slot_type[slot]
        action = actions[battle, slot]
        if not alive[battle, slot] or action >= n_moves[kind] or action == stay[kind]:
            continue
        x, y = positions[battle, slot, 0], positions[battle, slot, 1]
        to_x, to_y = x + action_dx[kind, action], y + action_dy[kind, action]
        width = widths[kind]
        if width == 1:
            if not (0 <= to_x < size and 0 <= to_y < size) or walls[battle, to_y, to_x] or occupant[battle, to_y, to_x] != EMPTY:
                continue
            occupant[battle, y, x] = EMPTY
            occupant[battle, to_y, to_x] = slot
        else:
            if not body_fits(battle, slot, to_x, to_y, width, walls, occupant):
                continue
            clear_body(battle, occupant, x, y, width)
            for dy in range(width):
                for dx in range(width):
                    occupant[battle, to_y + dy, to_x + dx] = slot
        positions[battle, slot, 0] = to_x
        positions[battle, slot, 1] = to_y


@numba.njit(cache=True, nogil=True, inline="always")
def body_fits(battle, slot, x, y, width, walls, occupant):
    """Whether a ``width`` x ``width`` body of ``slot`` fits with its top-left cell at ``(x, y)``: every cell
    on the map, not a wall, and empty or the body's own (MAgent's ``is_blank_area(x, y, w, h, self)``)."""
    size = walls.shape[1]
    if not (0 <= x and 0 <= y and x + width <= size and y + width <= size):
        return False
    for dy in range(width):
        for dx in range(width):
            other = occupant[battle, y + dy, x + dx]
            if walls[battle, y + dy, x + dx] or (other != EMPTY and other != slot):
                return False
    return True


@kernel
def check_episode_end(battle, n_groups, slot_group, alive, terminated, steps, max_cycles):
    """Whether game ``battle`` is over: a group has no agents left (MAgent's game over; the survivors
    are then terminated too), or ``max_cycles`` steps are reached (``terminated`` holds the agents
    that died this step)."""
    survivors = np.zeros(n_groups, dtype=np.int64)
    for slot in range(alive.shape[1]):
        if alive[battle, slot]:
            survivors[slot_group[slot]] += 1
    wiped_out = False
    for group in range(n_groups):
        if survivors[group] == 0:
            wiped_out = True
    if wiped_out:
        for slot in range(alive.shape[1]):
            if alive[battle, slot]:
                terminated[battle, slot] = True
    return wiped_out, steps[battle] >= max_cycles


@kernel(parallel=True)
def step_battles(
    slot_type, slot_group, max_hp, damage, recovery, kill_supply, step_reward, attack_penalty, dead_penalty,
    kill_reward, attack_in_group, n_moves, n_actions, stay, action_dx, action_dy, hit_reward, kill_bonus,
    victim_reward, joint_reward, has_joint, view_sizes, widths, n_groups, max_cycles, n_bands, bandwidth, walls, actions, victims, first_attack, order,
    positions, hp, alive, occupant, last_actions, last_rewards, last_hits, last_deaths, steps, kills, done,
    rewards, terminated, truncated,
):  # fmt: skip
    """One step of every running game (in parallel over games); finished games stay as they are
    and get zero rewards.

    The first 23 arguments are the game's ``Tables``, field by field (``step_battles(*tables, ...)``;
    as one tuple argument the rules ran several times slower). ``victims`` and ``first_attack`` come
    from ``find_attacks`` (``first_attack[b]``: the index of game ``b``'s first attack among all
    games' attacks), ``order`` from the generator; ``n_bands`` and ``bandwidth`` MAgent's large-map
    move order (``Game.move_bands``; 0 bands: slot order); ``walls`` ``[B, H, W]`` each game's walls. Writes ``rewards``, ``terminated`` and ``truncated``
    (outputs) and updates the state arrays.
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
        resolve_attacks(
            battle, slot_type, slot_group, max_hp, damage, kill_supply, step_reward, attack_penalty, dead_penalty,
            kill_reward, n_moves, hit_reward, kill_bonus, victim_reward, joint_reward, has_joint, widths, hp, alive, occupant,
            positions, last_hits, last_deaths, kills, rewards, actions, victims, turns,
        )  # fmt: skip
        recover(battle, slot_type, recovery, max_hp, dead_penalty, widths, hp, alive, occupant, positions, last_deaths, rewards)
        resolve_moves(
            battle, slot_type, n_moves, stay, action_dx, action_dy, widths, alive, occupant, positions, actions, walls, n_bands, bandwidth
        )
        for slot in range(n_agents):
            last_rewards[battle, slot] = rewards[battle, slot]
            if alive[battle, slot]:
                terminated[battle, slot] = False  # terminated: acted this step and died in it
        steps[battle] += 1
        wiped_out, out_of_time = check_episode_end(battle, n_groups, slot_group, alive, terminated, steps, max_cycles)
        truncated[battle] = out_of_time
        done[battle] = wiped_out or out_of_time


def group_alive_counts(alive: np.ndarray, group_starts: np.ndarray) -> np.ndarray:
    """``[B, G]`` living agents of each group from ``alive`` ``[B, N]`` (groups are contiguous slot ranges)."""
    counts = np.zeros((alive.shape[0], len(group_starts) - 1), dtype=np.int64)
    for group in range(len(group_starts) - 1):
        counts[:, group] = alive[:, group_starts[group] : group_starts[group + 1]].sum(axis=1)
    return counts
