"""The Battle rules, one function per rule, in engine order (``REFERENCE.md`` section 1).

``step`` order: ``resolve_attacks`` (which also assembles the step's rewards) -> ``recover`` ->
``resolve_moves`` -> ``check_episode_end``. Every function works on all B battles and all N agent
slots at once; there is no per-agent Python loop. MAgent applies attacks and moves one at a time;
those sequential rules are reproduced exactly by a fixed-point iteration over the order, which needs
as many passes as the longest chain of same-step dependencies (usually one or two). Inside, agents
are flat keys ``battle * N + slot`` and cells flat indices into ``occupant`` (the state's arrays are
C-contiguous, so their flat views alias them): at a few hundred agents each NumPy call costs more
than the work it does, so the rules make as few calls as they can.

Where MAgent2 0.3.4 departs from its documented rules we follow the documented rule: an agent
killed in a step gets ``dead_penalty`` (MAgent2 gives it +0.1 if it had landed a non-lethal hit
earlier in that step, because it re-applies the +0.2 hit reward after the death penalty).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from mfenvs.battle.config import ATTACK_OFFSETS, MOVE_OFFSETS, N_ACTIONS, N_MOVES, STAY, BattleConfig
from mfenvs.battle.state import EMPTY, BattleState

_NEVER = np.iinfo(np.int64).max
_MOVE_DX = np.array([dx for dx, _ in MOVE_OFFSETS] + [0] * len(ATTACK_OFFSETS), dtype=np.int64)
_MOVE_DY = np.array([dy for _, dy in MOVE_OFFSETS] + [0] * len(ATTACK_OFFSETS), dtype=np.int64)
_ATTACK_DX = np.array([0] * N_MOVES + [dx for dx, _ in ATTACK_OFFSETS], dtype=np.int64)
_ATTACK_DY = np.array([0] * N_MOVES + [dy for _, dy in ATTACK_OFFSETS], dtype=np.int64)
_IS_MOVE = (np.arange(N_ACTIONS) < N_MOVES) & (np.arange(N_ACTIONS) != STAY)


def attack_targets(positions: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``[..., 2]`` cell each agent's attack action aims at (its own cell for move actions)."""
    target = positions.copy()
    target[..., 0] += _ATTACK_DX[actions]
    target[..., 1] += _ATTACK_DY[actions]
    return target


def move_destinations(positions: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``[..., 2]`` cell each agent's move action leads to (its own cell for attacks and stay)."""
    target = positions.copy()
    target[..., 0] += _MOVE_DX[actions]
    target[..., 1] += _MOVE_DY[actions]
    return target


@cache
def _grid(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For flat cells ``y * size + x``: the ``(x, y)`` weights, and each action's move and attack offsets."""
    tables = np.array([1, size]), _MOVE_DY * size + _MOVE_DX, _ATTACK_DY * size + _ATTACK_DX
    for table in tables:
        table.flags.writeable = False
    return tables


def _cells(state: BattleState, keys: np.ndarray, size: int) -> np.ndarray:
    """Flat cell ``y * size + x`` (within its battle) of each agent of flat ``keys`` ``battle * N + slot``."""
    return state.positions.reshape(-1, 2).take(keys, axis=0) @ _grid(size)[0]


def resolve_attacks(
    state: BattleState,
    config: BattleConfig,
    teams: np.ndarray,
    actions: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Apply every attack action in a random order; return this step's rewards so far.

    Rules (REFERENCE.md section 1): an attack aims at one of the 8 neighbouring cells; it hits when
    an enemy still alive at that moment stands there (teammates, walls and empty cells are misses).
    A hit removes ``damage`` hp; the victim dies when its hp drops below 0, and that attack is the
    killing blow (``kill_reward`` instead of ``attack_opponent_reward``). An agent killed earlier in
    the order does not get to attack. Every attack action costs ``attack_penalty``, hit or miss.
    Dead agents are removed from the map at the end of the attack phase.

    Agents are addressed by flat keys ``battle * N + slot``. While no victim can die whatever the
    order, every attack on an enemy lands and the (still drawn) order does not matter.

    Mutates ``state.hp``, ``state.alive``, ``state.occupant``, ``state.kills``, ``state.last_hits``.
    """
    n_battles, n_agents = actions.shape
    size = config.map_size
    alive, flat_actions = state.alive.reshape(-1), actions.reshape(-1)
    rewards = np.zeros(alive.size, dtype=np.float32)
    rewards[alive] = config.step_reward
    state.last_hits.fill(False)
    state.last_deaths.fill(False)

    attacker = ((flat_actions >= N_MOVES) & alive).nonzero()[0]
    if len(attacker) == 0:
        return rewards.reshape(n_battles, n_agents)
    rewards[attacker] += config.attack_penalty
    battle = attacker // n_agents
    target = battle * size**2 + _cells(state, attacker, size) + _grid(size)[2].take(flat_actions.take(attacker))
    victim_slot = state.occupant.reshape(-1).take(target)  # EMPTY for empty cells and walls
    is_enemy = (victim_slot != EMPTY) & (teams.take(victim_slot) != teams.take(attacker % n_agents))
    attacker, target = attacker[is_enemy], target[is_enemy]
    victim = (battle * n_agents + victim_slot)[is_enemy]
    if len(attacker) == 0:
        return rewards.reshape(n_battles, n_agents)

    order = rng.permutation(len(attacker))  # the random order of this step's attacks
    hp = state.hp.reshape(-1)
    damage = np.bincount(victim, minlength=hp.size) * np.float32(config.damage)
    landed, bonus, kills = attacker, np.float32(config.attack_opponent_reward), None
    if (damage > hp).any():  # somebody may die: the order matters
        lands, kills = _sequential_hits(hp, attacker, victim, order, config)
        landed = attacker[lands]
        bonus = np.where(kills[lands], np.float32(config.kill_reward), bonus)
        damage = np.bincount(victim[lands], minlength=hp.size) * np.float32(config.damage)
    rewards[landed] += bonus
    hp -= damage.astype(np.float32)
    state.last_hits.reshape(-1)[landed] = True
    if kills is not None and kills.any():
        killer = attacker[kills]
        rewards[victim[kills]] = config.dead_penalty
        killer_team = killer // n_agents * 2 + teams.take(killer % n_agents)
        state.kills += np.bincount(killer_team, minlength=2 * n_battles).reshape(n_battles, 2)
        _remove_agents(state, victim[kills], target[kills])
    return rewards.reshape(n_battles, n_agents)


def _sequential_hits(
    hp: np.ndarray, attacker: np.ndarray, victim: np.ndarray, order: np.ndarray, config: BattleConfig
) -> tuple[np.ndarray, np.ndarray]:
    """``(lands, kills)`` of each attack when they are applied one at a time in ``order``.

    A fixed point of the sequential rule: attack i lands iff its attacker and its victim are both
    alive at its turn, and kills iff it is the landing attack that takes the victim's hp below 0.
    The attacks are sorted once by victim, then by turn, so that each pass counts the hits a victim
    has taken before each attack with one cumulative sum.
    """
    n_attacks = len(order)
    by_turn = np.empty(n_attacks, dtype=np.intp)
    by_turn[order] = np.arange(n_attacks)
    # a stable sort of the victims in turn order; small integer keys sort fastest (radix sort)
    by_victim = by_turn[victim[by_turn].astype(np.min_scalar_type(len(hp))).argsort(kind="stable")]
    victim, attacker, order = victim[by_victim], attacker[by_victim], order[by_victim]
    group_start = victim.searchsorted(victim)  # the first attack on the same victim
    victim_hp = hp[victim]
    death_time = np.empty(len(hp), dtype=np.int64)
    lands = np.ones(n_attacks, dtype=bool)
    while True:
        landed = lands.cumsum()
        hits = landed - (landed - lands)[group_start]  # landing hits on the victim up to this one
        remaining = victim_hp - hits * np.float32(config.damage)
        kills = lands & (remaining < 0) & (remaining + config.damage >= 0)
        death_time.fill(_NEVER)
        np.minimum.at(death_time, victim[kills], order[kills])  # the first kill, should rounding flag two
        new_lands = (death_time[attacker] > order) & (death_time[victim] >= order)
        if not (new_lands != lands).any():
            break
        lands = new_lands
    unsorted_lands, unsorted_kills = np.empty_like(lands), np.empty_like(kills)
    unsorted_lands[by_victim], unsorted_kills[by_victim] = lands, kills
    return unsorted_lands, unsorted_kills


def _remove_agents(state: BattleState, keys: np.ndarray, cells: np.ndarray) -> None:
    """Mark the agents of flat ``keys`` dead and free their flat occupant ``cells``."""
    state.occupant.reshape(-1)[cells] = EMPTY
    state.alive.reshape(-1)[keys] = False
    state.hp.reshape(-1)[keys] = 0.0
    state.last_deaths.reshape(-1)[keys] = True


def recover(state: BattleState, config: BattleConfig) -> None:
    """Every living agent regains ``recover`` hp, capped at ``max_hp`` (after attacks, before moves)."""
    np.minimum(state.hp + np.float32(config.recover), np.float32(config.max_hp), out=state.hp, where=state.alive)


def resolve_moves(state: BattleState, config: BattleConfig, walls: np.ndarray, actions: np.ndarray) -> None:
    """Apply every move action; a move into a wall or an occupied cell fails.

    As in MAgent, moves are sequential in slot order (red in index order, then blue): a move goes
    straight to its destination (up to 2 cells away; the cells in between do not matter) and succeeds
    iff that cell is inside the map, not a wall and empty at that moment. So a cell vacated earlier
    in the order is free, the first of several agents heading for one cell wins, and swaps fail.

    Vectorised exactly: a destination that is empty at the start goes to its first claimant. One
    occupied by a mover o opens when o leaves, so it goes to its first claimant after o in the order,
    provided o's own move succeeds; that condition chains from agent to agent (at most one link each)
    and is resolved by pointer jumping in O(log chain length) passes.

    Mutates ``state.positions`` and ``state.occupant``.
    """
    size = config.map_size
    n_agents = actions.shape[1]
    flat_actions, flat_occupant = actions.reshape(-1), state.occupant.reshape(-1)
    moving = _IS_MOVE.take(flat_actions) & state.alive.reshape(-1)
    mover = moving.nonzero()[0]  # flat keys battle * N + slot, ascending: the sequential order
    n_movers = len(mover)
    if n_movers == 0:
        return
    battle = mover // n_agents
    battle_cell = battle * size**2  # flat occupant cell (0, 0) of the mover's battle
    source = _cells(state, mover, size)
    dest = source + _grid(size)[1].take(flat_actions.take(mover))
    # Living agents stand inside the wall ring and move at most 2 cells, so an off-map destination
    # is a flat cell of the ring, or within one row before or after the map: wrapped, it reads as wall.
    blocked = walls.reshape(-1).take(dest, mode="wrap")
    dest_cell = battle_cell + dest
    occupant = flat_occupant.take(dest_cell, mode="clip")  # meaningless where blocked
    occupant_key = battle * n_agents + occupant
    # the destination opens in time iff it is empty or its occupant moves earlier in the order
    opens = (occupant == EMPTY) | (moving.take(occupant_key) & (occupant_key < mover))
    candidate = (opens & ~blocked).nonzero()[0]
    cell = dest_cell.take(candidate)
    first_claim = np.full(flat_occupant.size, n_movers)
    np.minimum.at(first_claim, cell, candidate)
    winner = candidate[first_claim.take(cell) == candidate]
    succeeds = np.zeros(n_movers, dtype=bool)
    succeeds[winner] = True

    # ... and, for an occupied destination, the occupant's own move must succeed (chained).
    chained = winner[occupant.take(winner) != EMPTY]
    if len(chained):
        link = np.full(n_movers, -1)
        link[chained] = mover.searchsorted(occupant_key.take(chained))
        while len(chained):
            parent = link.take(chained)
            succeeds[chained] &= succeeds.take(parent)
            link[chained] = grandparent = link.take(parent)
            chained = chained[grandparent >= 0]

    moved = succeeds.nonzero()[0]
    key = mover.take(moved)
    flat_occupant[battle_cell.take(moved) + source.take(moved)] = EMPTY
    flat_occupant[dest_cell.take(moved)] = key % n_agents
    y, x = np.divmod(dest.take(moved), size)
    xy = state.positions.reshape(-1)
    xy[2 * key] = x
    xy[2 * key + 1] = y


def team_alive_counts(state: BattleState, n_red: int) -> np.ndarray:
    """``[B, 2]`` living agents of red (slots ``:n_red``) and blue (slots ``n_red:``)."""
    return np.add.reduceat(state.alive, [0, n_red], axis=1, dtype=np.int64)


def check_episode_end(state: BattleState, config: BattleConfig, n_red: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(wiped_out, truncated)`` ``[B]`` flags: a team has no agents left, or ``max_cycles`` reached."""
    wiped_out = team_alive_counts(state, n_red).min(axis=1) == 0
    truncated = state.steps >= config.max_cycles
    return wiped_out, truncated
