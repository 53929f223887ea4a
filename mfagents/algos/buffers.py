"""The one replay buffer: a preallocated ring over environment steps, each step holding every row.

Arrays are ``[capacity_steps, n_rows, ...]``: rows are the group's agents across environment copies,
in the same order every step. A step stores (obs, action, mean action, reward, done, active); the
*next* observation and next mean action of row ``i`` at step ``t`` are read from step ``t + 1``, so
nothing is stored twice. Memory is allocated once, on the first ``add`` (when the row count is
known), and never grows.

A pair (t, row) can be sampled when step t + 1 is written and the row was active at t. The returned
``dones`` is ``done_t OR NOT active_{t+1}``: the bootstrap is cut at an episode end (terminated or
truncated; the observation at t + 1 then belongs to the next episode of an auto-resetting vector
env) and when the agent is not alive at t + 1 (it died at t in Battle's absorb mode).

Bytes per transition (``bytes_per_transition``), the paper's Battle (observations packed by
``mfagents.algos.nets.ObservationLayout``: the 13 x 13 x 7 view plus one copy of the 34 features):
``(13 * 13 * 7 + 34) * 4`` obs + ``21 * 4`` mean action + 2 action + 4 reward + 1 done + 1 active
= 4,960 bytes in float32 (2,526 in float16), against 27,716 for the unpacked 13 x 13 x 41 float32
observation alone; 80,000 transitions (the 2018 code's buffer) take 397 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch


class Batch(NamedTuple):
    """A sampled minibatch (torch tensors on the buffer's device)."""

    obs: torch.Tensor
    """``[B, obs_dim]`` float32 observations at t."""
    actions: torch.Tensor
    """``[B]`` int64 actions at t."""
    mean_actions: torch.Tensor
    """``[B, n_actions]`` float32 mean actions the rows saw at t."""
    rewards: torch.Tensor
    """``[B]`` float32 rewards of step t."""
    next_obs: torch.Tensor
    """``[B, obs_dim]`` float32 observations at t + 1."""
    next_mean_actions: torch.Tensor
    """``[B, n_actions]`` float32 mean actions seen at t + 1."""
    dones: torch.Tensor
    """``[B]`` float32, 1 where the bootstrap from t + 1 is cut (episode end, or the row inactive at t + 1)."""
    rows: torch.Tensor
    """``[B]`` int64 row indices (agent ``row % n_agents`` of copy ``row // n_agents``)."""


class ReplayBuffer:
    """Preallocated ring of environment steps; uniform sampling over valid (step, row) pairs.

    Args:
        capacity: transitions to keep (rounded down to whole steps of ``n_rows``, at least 2 steps).
        obs_dim: length of a (packed) observation.
        n_actions: length of a mean-action vector; actions are stored as int16.
        obs_dtype: ``"float32"`` or ``"float16"`` (halves the observation memory).
        device: where sampled tensors go.
    """

    def __init__(
        self, capacity: int, obs_dim: int, n_actions: int, obs_dtype: str = "float32", device: str | torch.device = "cpu"
    ):
        if capacity < 2:
            raise ValueError(f"capacity must be >= 2 transitions, got {capacity}")
        if obs_dtype not in ("float32", "float16"):
            raise ValueError(f"obs_dtype must be 'float32' or 'float16', got {obs_dtype!r}")
        if not 1 <= n_actions <= np.iinfo(np.int16).max:
            raise ValueError(f"n_actions must be in 1..{np.iinfo(np.int16).max}, got {n_actions}")
        self.capacity = int(capacity)
        self.obs_dim = int(obs_dim)
        self.n_actions = int(n_actions)
        self.obs_dtype = np.dtype(obs_dtype)
        self.device = torch.device(device)
        self.n_rows = 0
        self.capacity_steps = 0
        self.steps_written = 0
        """Environment steps added so far (virtual time; the ring position is ``t % capacity_steps``)."""

    # -- storage -------------------------------------------------------------------------------------
    def _allocate(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.capacity_steps = max(2, self.capacity // n_rows)
        shape = (self.capacity_steps, n_rows)
        self.obs = np.zeros((*shape, self.obs_dim), dtype=self.obs_dtype)
        self.actions = np.zeros(shape, dtype=np.int16)
        self.mean_actions = np.zeros((*shape, self.n_actions), dtype=np.float32)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.dones = np.zeros(shape, dtype=bool)
        self.active = np.zeros(shape, dtype=bool)
        self.active_counts = np.zeros(self.capacity_steps, dtype=np.int64)

    @property
    def bytes_per_transition(self) -> int:
        """Bytes stored per (step, row): observation, mean action, action, reward, done, active."""
        return self.obs_dim * self.obs_dtype.itemsize + self.n_actions * 4 + 2 + 4 + 1 + 1

    @property
    def nbytes(self) -> int:
        """Bytes allocated (0 before the first ``add``)."""
        return self.capacity_steps * self.n_rows * self.bytes_per_transition

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        mean_actions: np.ndarray | None,
        rewards: np.ndarray,
        dones: np.ndarray,
        active: np.ndarray,
    ) -> int:
        """Write one environment step for every row; returns the number of active rows written.

        Shapes: ``[n_rows, obs_dim]`` obs, ``[n_rows, n_actions]`` mean actions (``None``: zeros, for
        learners that do not use them) and ``[n_rows]`` for the rest.

        Raises:
            ValueError: a shape disagrees with ``obs_dim`` / ``n_actions`` or with the first step's row count.
        """
        obs = np.asarray(obs)
        n_rows = obs.shape[0]
        if mean_actions is None:
            mean_actions = np.zeros((n_rows, self.n_actions), dtype=np.float32)
        mean_actions = np.asarray(mean_actions)
        active = np.asarray(active, dtype=bool)
        if obs.shape != (n_rows, self.obs_dim):
            raise ValueError(f"obs has shape {obs.shape}, expected [n_rows, {self.obs_dim}]")
        if mean_actions.shape != (n_rows, self.n_actions):
            raise ValueError(f"mean_actions has shape {mean_actions.shape}, expected [{n_rows}, {self.n_actions}]")
        for name, array in (("actions", actions), ("rewards", rewards), ("dones", dones), ("active", active)):
            if np.shape(array) != (n_rows,):
                raise ValueError(f"{name} has shape {np.shape(array)}, expected [{n_rows}]")
        if self.n_rows == 0:
            self._allocate(n_rows)
        elif n_rows != self.n_rows:
            raise ValueError(f"this buffer holds {self.n_rows} rows per step, got {n_rows}")
        slot = self.steps_written % self.capacity_steps
        self.obs[slot] = obs
        self.actions[slot] = actions
        self.mean_actions[slot] = mean_actions
        self.rewards[slot] = rewards
        self.dones[slot] = dones
        self.active[slot] = active
        self.active_counts[slot] = np.count_nonzero(active)
        self.steps_written += 1
        return int(self.active_counts[slot])

    # -- sampling ------------------------------------------------------------------------------------
    def _valid_steps(self) -> tuple[int, int]:
        """Virtual times ``[first, last]`` whose step t + 1 is written (empty when last < first)."""
        stored = min(self.steps_written, self.capacity_steps)
        return self.steps_written - stored, self.steps_written - 2

    def __len__(self) -> int:
        """Sampleable transitions: active rows at steps whose successor is written."""
        first, last = self._valid_steps()
        if last < first:
            return 0
        slots = np.arange(first, last + 1) % self.capacity_steps
        return int(self.active_counts[slots].sum())

    def sample(self, batch_size: int, generator: np.random.Generator) -> Batch:
        """Draw ``batch_size`` transitions uniformly (with replacement) over valid (t, row) pairs.

        Rejection sampling: pairs are drawn uniformly over the valid steps and all rows, and inactive
        rows are redrawn, which keeps the draw uniform over the active pairs.

        Raises:
            ValueError: nothing to sample yet (``len(buffer) == 0``) or ``batch_size < 1``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if len(self) == 0:
            raise ValueError("the replay buffer has no sampleable transition yet (needs an active row with a written next step)")
        first, last = self._valid_steps()
        times = np.empty(0, dtype=np.int64)
        rows = np.empty(0, dtype=np.int64)
        while len(times) < batch_size:
            candidate_times = generator.integers(first, last + 1, size=batch_size)
            candidate_rows = generator.integers(0, self.n_rows, size=batch_size)
            keep = self.active[candidate_times % self.capacity_steps, candidate_rows]
            times = np.concatenate([times, candidate_times[keep]])
            rows = np.concatenate([rows, candidate_rows[keep]])
        slots = times[:batch_size] % self.capacity_steps
        next_slots = (times[:batch_size] + 1) % self.capacity_steps
        rows = rows[:batch_size]
        cut = self.dones[slots, rows] | ~self.active[next_slots, rows]

        def tensor(array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.as_tensor(array, device=self.device).to(dtype)

        return Batch(
            obs=tensor(self.obs[slots, rows]),
            actions=tensor(self.actions[slots, rows], torch.int64),
            mean_actions=tensor(self.mean_actions[slots, rows]),
            rewards=tensor(self.rewards[slots, rows]),
            next_obs=tensor(self.obs[next_slots, rows]),
            next_mean_actions=tensor(self.mean_actions[next_slots, rows]),
            dones=tensor(cut),
            rows=tensor(rows, torch.int64),
        )


@dataclass
class ReplayRatio:
    """When off-policy learners train: ``replay_ratio`` sampled transitions per collected one.

    Nothing is due until the buffer holds ``learning_starts`` sampleable transitions; transitions
    collected before that earn no credit (so a resumed run with an empty buffer does not burst).
    """

    replay_ratio: float
    """Sampled transitions per collected transition (1.0: each is replayed about once)."""
    batch_size: int
    """Transitions per gradient step."""
    learning_starts: int
    """Sampleable transitions needed before the first gradient step."""
    credit: float = 0.0
    """Fractional gradient steps carried over between calls."""

    def steps_due(self, new_transitions: int, sampleable: int) -> int:
        """Gradient steps to take now, given the transitions collected since the last call."""
        if sampleable < max(self.learning_starts, 1):
            return 0
        self.credit += new_transitions * self.replay_ratio / self.batch_size
        due = int(self.credit)
        self.credit -= due
        return due


__all__ = ["Batch", "ReplayBuffer", "ReplayRatio"]
