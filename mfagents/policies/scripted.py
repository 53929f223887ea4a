"""Scripted Battle policies that need no training: baselines, demo opponents and sanity checks for learners.

They read a ``BattleCore``'s state arrays directly (positions, hp, occupancy), not observations, and
decide for every agent of a battle at once with NumPy.

Example:
    >>> from mfenvs.battle import BattleConfig, BattleCore
    >>> engine = BattleCore(BattleConfig(map_size=20, team_size=9, random_sides=False))
    >>> _ = engine.reset(seed=0)
    >>> actions = nearest_enemy_actions(engine)
    >>> actions.shape, bool((actions < 13).all())  # nobody is in reach yet: everybody moves or stays
    ((18,), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mfenvs.battle.config import ATTACK_OFFSETS, MOVE_OFFSETS, N_MOVES, STAY
from mfenvs.battle.state import EMPTY

_ATTACK_OFFSETS = np.array(ATTACK_OFFSETS, dtype=np.int64)
_MOVE_OFFSETS = np.array(MOVE_OFFSETS, dtype=np.int64)
DISTANCE_CHUNK = 2048
"""Agents per block of the pairwise distance matrix (bounds memory on huge maps: 2048 x n_enemies)."""


def nearest_enemy_actions(engine: Any, battle: int = 0) -> np.ndarray:
    """Greedy fighter: attack the weakest adjacent enemy, else step towards the nearest enemy.

    For every living agent of battle ``battle``:

    1. if an enemy stands on one of the 8 neighbouring cells, attack the one with the least hp
       (ties: the first in ``ATTACK_OFFSETS`` order), so neighbours focus their fire;
    2. otherwise take the move (up to 2 cells, ``MOVE_OFFSETS``) into a free cell that brings it
       closest, in Euclidean distance, to its nearest living enemy; stay if no move gets closer.

    Dead agents, and everybody once one team is gone, get ``STAY``.

    Args:
        engine: a ``BattleCore`` (``state``, ``config``, ``teams``, ``walls``), e.g. ``env.unwrapped.core.engine``.
        battle: which of the engine's battles to act in.

    Returns:
        ``[N]`` int64 actions, one per agent slot (red slots first).

    Raises:
        ValueError: if ``battle`` is not one of the engine's battles.
    """
    state = engine.state
    n_battles, n_agents = state.alive.shape
    if not 0 <= battle < n_battles:
        raise ValueError(f"battle must be in [0, {n_battles}), got {battle}")
    teams = np.asarray(engine.teams)
    alive = state.alive[battle]
    positions = state.positions[battle]
    occupant = state.occupant[battle]
    actions = np.full(n_agents, STAY, dtype=np.int64)

    # 1. attacks: the weakest enemy among the 8 neighbours
    neighbours = positions[:, None, :] + _ATTACK_OFFSETS[None, :, :]  # [N, 8, (x, y)]
    size = occupant.shape[0]
    neighbours = np.clip(neighbours, 0, size - 1)  # living agents are inside the walls; dead ones are masked
    victim = occupant[neighbours[..., 1], neighbours[..., 0]]
    is_enemy = (victim != EMPTY) & alive[:, None]
    is_enemy &= teams[np.maximum(victim, 0)] != teams[:, None]
    victim_hp = np.where(is_enemy, state.hp[battle][np.maximum(victim, 0)], np.inf)
    attacks = is_enemy.any(axis=1)
    actions[attacks] = N_MOVES + np.argmin(victim_hp[attacks], axis=1)

    # 2. moves: towards the nearest living enemy
    movers = np.flatnonzero(alive & ~attacks)
    if len(movers) == 0:
        return actions
    target = np.full((len(movers), 2), -1, dtype=np.int64)
    has_target = np.zeros(len(movers), dtype=bool)
    for team in (0, 1):
        mine = teams[movers] == team
        enemies = positions[alive & (teams != team)]
        if len(enemies) == 0 or not mine.any():
            continue
        target[mine] = _nearest(positions[movers[mine]], enemies)
        has_target[mine] = True
    movers, target = movers[has_target], target[has_target]

    destinations = positions[movers, None, :] + _MOVE_OFFSETS[None, :, :]  # [M, 13, (x, y)]
    inside = ((destinations >= 0) & (destinations < size)).all(axis=2)
    dest_x, dest_y = np.clip(destinations[..., 0], 0, size - 1), np.clip(destinations[..., 1], 0, size - 1)
    free = inside & ~np.asarray(engine.walls)[dest_y, dest_x] & (occupant[dest_y, dest_x] == EMPTY)
    free[:, STAY] = True  # an agent's own cell
    distance = ((destinations - target[:, None, :]) ** 2).sum(axis=2).astype(np.float64)
    distance[:, STAY] -= 0.5  # staying wins ties: only a move that gets strictly closer is taken
    actions[movers] = np.argmin(np.where(free, distance, np.inf), axis=1)
    return actions


def team_actions(engine: Any, team: int = 1) -> np.ndarray:
    """``nearest_enemy_actions`` in every battle of ``engine`` for one team: ``[B, n_team]`` int64.

    With the default ``team=1`` (blue) it is the scripted opponent of the batched TorchRL env:
    ``mfenvs.torchrl_env.BattleEnv(..., opponent=team_actions)``.

    Args:
        engine: a ``BattleCore``.
        team: 0 (red) or 1 (blue).
    """
    if team not in (0, 1):
        raise ValueError(f"team must be 0 (red) or 1 (blue), got {team!r}")
    slots = np.flatnonzero(np.asarray(engine.teams) == team)
    return np.stack([nearest_enemy_actions(engine, battle)[slots] for battle in range(engine.n_battles)])


def _nearest(points: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """For each ``[M, 2]`` point, the ``[2]`` candidate (of ``[K, 2]``) nearest in Euclidean distance."""
    nearest = np.empty_like(points)
    # |p - c|^2 = |p|^2 - 2 p.c + |c|^2 through one float64 matrix product per block (exact for map
    # coordinates); the |p|^2 term is the same along a row, so the argmin does not need it
    targets = candidates.astype(np.float64)
    target_norms = (targets**2).sum(axis=1)
    for start in range(0, len(points), DISTANCE_CHUNK):  # blocks of rows, not agents: bounded memory
        block = points[start : start + DISTANCE_CHUNK].astype(np.float64)
        squared = target_norms[None, :] - 2.0 * block @ targets.T
        nearest[start : start + DISTANCE_CHUNK] = candidates[np.argmin(squared, axis=1)]
    return nearest
