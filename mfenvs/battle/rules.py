"""The Battle rules, one function per rule, in engine order (``REFERENCE.md`` section 1).

``step`` order: ``resolve_attacks`` (which also assembles the step's rewards) -> ``recover`` ->
``resolve_moves`` -> ``check_episode_end``. Every function works on all B battles and all N agent
slots at once; there is no per-agent Python loop. MAgent applies attacks and moves one at a time;
those sequential rules are reproduced exactly by a fixed-point iteration over the order, which needs
as many passes as the longest chain of same-step dependencies (usually one or two).

Where MAgent2 0.3.4 departs from its documented rules we follow the documented rule: an agent
killed in a step gets ``dead_penalty`` (MAgent2 gives it +0.1 if it had landed a non-lethal hit
earlier in that step, because it re-applies the +0.2 hit reward after the death penalty).
"""

from __future__ import annotations

import numpy as np

from mfenvs.battle.config import ATTACK_OFFSETS, MOVE_OFFSETS, N_MOVES, STAY, BattleConfig
from mfenvs.battle.state import EMPTY, BattleState

_NEVER = np.iinfo(np.int64).max
_MOVE_DX = np.array([dx for dx, _ in MOVE_OFFSETS] + [0] * len(ATTACK_OFFSETS), dtype=np.int64)
_MOVE_DY = np.array([dy for _, dy in MOVE_OFFSETS] + [0] * len(ATTACK_OFFSETS), dtype=np.int64)
_ATTACK_DX = np.array([0] * N_MOVES + [dx for dx, _ in ATTACK_OFFSETS], dtype=np.int64)
_ATTACK_DY = np.array([0] * N_MOVES + [dy for _, dy in ATTACK_OFFSETS], dtype=np.int64)


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


def _rank_within_groups(keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort items by ``(keys, order)``; return the permutation and each sorted item's 0-based rank in its key group."""
    perm = np.lexsort((order, keys))
    sorted_keys = keys[perm]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    return perm, np.arange(len(keys)) - group_start


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

    Mutates ``state.hp``, ``state.alive``, ``state.occupant``, ``state.kills``, ``state.last_hits``.
    """
    n_battles, n_agents = actions.shape
    alive = state.alive
    is_attack = (actions >= N_MOVES) & alive
    rewards = np.where(alive, np.float32(config.step_reward), np.float32(0.0))
    rewards[is_attack] += config.attack_penalty
    state.last_hits[:] = False
    state.last_deaths[:] = False

    battle, attacker = np.nonzero(is_attack)
    if len(attacker) == 0:
        return rewards
    target = attack_targets(state.positions[battle, attacker], actions[battle, attacker])
    victim = state.occupant[battle, target[:, 1], target[:, 0]]  # walls hold EMPTY
    is_enemy = victim != EMPTY
    is_enemy[is_enemy] = teams[victim[is_enemy]] != teams[attacker[is_enemy]]
    battle, attacker, victim = battle[is_enemy], attacker[is_enemy], victim[is_enemy]
    if len(attacker) == 0:
        return rewards

    order = rng.permutation(len(attacker))  # the random order of this step's attacks
    attacker_key = battle * n_agents + attacker
    victim_key = battle * n_agents + victim
    hp = state.hp.reshape(-1)

    # Fixed point of the sequential rule: attack i lands iff its attacker is not dead by then.
    lands = np.ones(len(attacker), dtype=bool)
    while True:
        perm, rank = _rank_within_groups(np.where(lands, victim_key, -1), order)
        hits_before = np.empty(len(attacker), dtype=np.int64)
        hits_before[perm] = rank
        remaining = hp[victim_key] - (hits_before + 1) * np.float32(config.damage)
        kills = lands & (remaining < 0) & (remaining + config.damage >= 0)
        death_time = np.full(n_battles * n_agents, _NEVER)
        death_time[victim_key[kills]] = order[kills]
        new_lands = death_time[attacker_key] > order
        # an attack on a victim that already died earlier in the order hits nobody
        new_lands &= death_time[victim_key] >= order
        if np.array_equal(new_lands, lands):
            break
        lands = new_lands

    flat_rewards = rewards.reshape(-1)
    np.add.at(flat_rewards, attacker_key[lands & ~kills], np.float32(config.attack_opponent_reward))
    np.add.at(flat_rewards, attacker_key[kills], np.float32(config.kill_reward))
    damage = np.bincount(victim_key[lands], minlength=n_battles * n_agents) * np.float32(config.damage)
    hp -= damage.astype(np.float32)
    state.last_hits.reshape(-1)[attacker_key[lands]] = True

    killed = np.zeros(n_battles * n_agents, dtype=bool)
    killed[victim_key[kills]] = True
    killed = killed.reshape(n_battles, n_agents)
    np.add.at(state.kills, (battle[kills], teams[attacker[kills]]), 1)
    rewards[killed] = config.dead_penalty
    remove_agents(state, killed)
    return rewards


def remove_agents(state: BattleState, killed: np.ndarray) -> None:
    """Mark ``killed`` ``[B, N]`` agents dead and free their cells."""
    battle, slot = np.nonzero(killed)
    state.occupant[battle, state.positions[battle, slot, 1], state.positions[battle, slot, 0]] = EMPTY
    state.alive[killed] = False
    state.hp[killed] = 0.0
    state.last_deaths |= killed


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
    is_move = (actions != STAY) & (actions < N_MOVES) & state.alive
    battle, mover = np.nonzero(is_move)  # battle-major, slot-minor: the sequential order
    n_movers = len(mover)
    if n_movers == 0:
        return
    order = np.arange(n_movers)
    source = state.positions[battle, mover]
    dest = move_destinations(source, actions[battle, mover])
    inside = ((dest >= 0) & (dest < size)).all(axis=1)
    dest_x, dest_y = np.clip(dest[:, 0], 0, size - 1), np.clip(dest[:, 1], 0, size - 1)
    occupant = state.occupant[battle, dest_y, dest_x]

    # The move order of the destination's occupant: -1 if the cell is empty, n_movers if it stays.
    mover_order = np.full(state.alive.shape, n_movers, dtype=np.int64)
    mover_order[battle, mover] = order
    opens_after = np.where(occupant == EMPTY, -1, mover_order[battle, np.maximum(occupant, 0)])
    eligible = inside & ~walls[dest_y, dest_x] & (order > opens_after)

    cell = (battle * size + dest_y) * size + dest_x
    first_claim = np.full(state.occupant.size, n_movers, dtype=np.int64)
    np.minimum.at(first_claim, cell[eligible], order[eligible])
    succeeds = eligible & (first_claim[cell] == order)

    # ... and, for an occupied destination, the occupant's own move must succeed (chained).
    link = np.where(succeeds & (opens_after >= 0), opens_after, -1)
    while (link >= 0).any():
        chained = np.flatnonzero(link >= 0)
        succeeds[chained] &= succeeds[link[chained]]
        link[chained] = link[link[chained]]

    b, slot = battle[succeeds], mover[succeeds]
    state.occupant[b, source[succeeds, 1], source[succeeds, 0]] = EMPTY
    state.occupant[b, dest_y[succeeds], dest_x[succeeds]] = slot
    state.positions[b, slot, 0] = dest_x[succeeds]
    state.positions[b, slot, 1] = dest_y[succeeds]


def team_alive_counts(state: BattleState, n_red: int) -> np.ndarray:
    """``[B, 2]`` living agents of red (slots ``:n_red``) and blue (slots ``n_red:``)."""
    return np.stack([state.alive[:, :n_red].sum(axis=1), state.alive[:, n_red:].sum(axis=1)], axis=1)


def check_episode_end(state: BattleState, config: BattleConfig, n_red: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(wiped_out, truncated)`` ``[B]`` flags: a team has no agents left, or ``max_cycles`` reached."""
    wiped_out = ~(state.alive[:, :n_red].any(axis=1) & state.alive[:, n_red:].any(axis=1))
    truncated = state.steps >= config.max_cycles
    return wiped_out, truncated
