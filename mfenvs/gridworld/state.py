"""``GridState``: the whole state of B independent games as a struct of agent-slot arrays."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

EMPTY = -1
"""``occupant`` value of a free cell."""
NO_ACTION = -1
"""``last_actions`` value before an agent's first step (its one-hot is all zeros)."""


@dataclass
class GridState:
    """Mutable arrays, leading dimension B (games, "battles"), then N agent slots (grouped by group, in
    the game's group order: red slots first in Battle).

    Attributes:
        positions: ``[B, N, 2]`` int64 ``(x, y)`` cells; meaningless for dead agents.
        hp: ``[B, N]`` float32 hit points; 0 for dead agents.
        alive: ``[B, N]`` bool.
        last_actions: ``[B, N]`` int64 action of the last step (``NO_ACTION`` before the first).
        last_rewards: ``[B, N]`` float32 reward of the last step.
        last_hits: ``[B, N]`` bool, the agent's attack of the last step hit an enemy.
        last_deaths: ``[B, N]`` bool, the agent died in the last step.
        occupant: ``[B, H, W]`` int64 slot of the living agent in each cell, ``EMPTY`` if none.
        steps: ``[B]`` int64 steps taken since reset.
        kills: ``[B, G]`` int64 agents killed by each group (of any group: ``kill_table`` sums).
        kill_table: ``[B, G, G]`` int64 agents of group v killed by group a at ``[b, a, v]`` (friendly
            fire apart from kills of the other side, in games where groups can hit their own side).
        total_rewards: ``[B, G]`` float64 summed rewards of each group.
        done: ``[B]`` bool, the episode of that battle is over.
    """

    positions: np.ndarray
    hp: np.ndarray
    alive: np.ndarray
    last_actions: np.ndarray
    last_rewards: np.ndarray
    last_hits: np.ndarray
    last_deaths: np.ndarray
    occupant: np.ndarray
    steps: np.ndarray
    kills: np.ndarray
    kill_table: np.ndarray
    total_rewards: np.ndarray
    done: np.ndarray

    @classmethod
    def empty(cls, n_battles: int, n_agents: int, map_size: int, n_groups: int = 2) -> GridState:
        """Zero-filled arrays of the right shapes and dtypes."""
        b, n = n_battles, n_agents
        return cls(
            positions=np.zeros((b, n, 2), dtype=np.int64),
            hp=np.zeros((b, n), dtype=np.float32),
            alive=np.zeros((b, n), dtype=bool),
            last_actions=np.full((b, n), NO_ACTION, dtype=np.int64),
            last_rewards=np.zeros((b, n), dtype=np.float32),
            last_hits=np.zeros((b, n), dtype=bool),
            last_deaths=np.zeros((b, n), dtype=bool),
            occupant=np.full((b, map_size, map_size), EMPTY, dtype=np.int64),
            steps=np.zeros(b, dtype=np.int64),
            kills=np.zeros((b, n_groups), dtype=np.int64),
            kill_table=np.zeros((b, n_groups, n_groups), dtype=np.int64),
            total_rewards=np.zeros((b, n_groups), dtype=np.float64),
            done=np.zeros(b, dtype=bool),
        )

    def copy(self) -> GridState:
        """A deep copy (for snapshots, replays and determinism tests)."""
        return GridState(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def battle(self, index: int) -> GridState:
        """A copy of battle ``index`` alone, as a state with B = 1."""
        return GridState(**{f.name: getattr(self, f.name)[index : index + 1].copy() for f in fields(self)})

    def equals(self, other: GridState) -> bool:
        """Exact equality of every array."""
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))
