"""mfagents.algos.buffers: the replay ring (wrap-around, next-observation linkage, masks) and the replay ratio."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from mfagents.algos.buffers import ReplayBuffer, ReplayRatio
from mfagents.algos.nets import observation_layout

N_ACTIONS = 3


def add_step(buffer: ReplayBuffer, t: int, n_rows: int, dones=None, active=None) -> None:
    """Step ``t``: obs of row i = [t, i], action = t % 3, mean action = one-hot(t % 3), reward = 10 t + i."""
    obs = np.stack([np.full(n_rows, t), np.arange(n_rows)], axis=1).astype(np.float32)
    mean_actions = np.zeros((n_rows, N_ACTIONS), dtype=np.float32)
    mean_actions[:, t % N_ACTIONS] = 1.0
    buffer.add(
        obs,
        np.full(n_rows, t % N_ACTIONS),
        mean_actions,
        10.0 * t + np.arange(n_rows),
        np.zeros(n_rows, bool) if dones is None else np.asarray(dones),
        np.ones(n_rows, bool) if active is None else np.asarray(active),
    )


def test_bytes_per_transition_of_the_papers_battle():
    space = gymnasium.spaces.Box(0.0, 2.0, shape=(13, 13, 41), dtype=np.float32)
    packed = observation_layout(space).packed_size
    assert ReplayBuffer(80_000, packed, 21).bytes_per_transition == (13 * 13 * 7 + 34) * 4 + 21 * 4 + 2 + 4 + 1 + 1 == 4960
    assert ReplayBuffer(80_000, packed, 21, obs_dtype="float16").bytes_per_transition == 2526


def test_next_observation_is_the_next_step_of_the_same_row():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS)
    for t in range(4):
        add_step(buffer, t, n_rows=5)
    batch = buffer.sample(500, np.random.default_rng(0))
    t = batch.obs[:, 0]
    torch.testing.assert_close(batch.next_obs[:, 0], t + 1)
    torch.testing.assert_close(batch.next_obs[:, 1], batch.obs[:, 1])  # same row
    torch.testing.assert_close(batch.rows.float(), batch.obs[:, 1])
    torch.testing.assert_close(batch.rewards, 10.0 * t + batch.obs[:, 1])
    torch.testing.assert_close(batch.actions, (t % N_ACTIONS).long())
    torch.testing.assert_close(batch.next_mean_actions.argmax(1), ((t + 1) % N_ACTIONS).long())
    assert set(t.tolist()) == {0.0, 1.0, 2.0}  # step 3 has no successor yet
    assert batch.dones.sum() == 0


def test_wrap_around_keeps_the_newest_steps_and_their_links():
    buffer = ReplayBuffer(capacity=8, obs_dim=2, n_actions=N_ACTIONS)  # 4 steps of 2 rows
    assert buffer.nbytes == 0  # allocated on the first add, when the row count is known
    for t in range(11):
        add_step(buffer, t, n_rows=2)
    assert buffer.capacity_steps == 4 and buffer.obs.shape == (4, 2, 2)
    batch = buffer.sample(400, np.random.default_rng(1))
    assert set(batch.obs[:, 0].tolist()) == {7.0, 8.0, 9.0}  # steps 7..10 stored; 10 has no successor
    torch.testing.assert_close(batch.next_obs[:, 0], batch.obs[:, 0] + 1)
    assert len(buffer) == 3 * 2
    assert buffer.nbytes == 4 * 2 * buffer.bytes_per_transition


def test_memory_is_allocated_once():
    buffer = ReplayBuffer(capacity=6, obs_dim=2, n_actions=N_ACTIONS)
    add_step(buffer, 0, n_rows=3)
    arrays = (buffer.obs, buffer.actions, buffer.mean_actions, buffer.rewards, buffer.dones, buffer.active)
    for t in range(1, 20):
        add_step(buffer, t, n_rows=3)
    after = (buffer.obs, buffer.actions, buffer.mean_actions, buffer.rewards, buffer.dones, buffer.active)
    assert all(a is b for a, b in zip(arrays, after))


def test_done_cuts_the_bootstrap_across_an_episode_boundary():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS)
    add_step(buffer, 0, n_rows=2)
    add_step(buffer, 1, n_rows=2, dones=[True, False])  # row 0's episode ends at step 1 (auto-reset)
    add_step(buffer, 2, n_rows=2)
    batch = buffer.sample(400, np.random.default_rng(2))
    at_end = (batch.obs[:, 0] == 1) & (batch.rows == 0)
    assert at_end.any()
    assert torch.all(batch.dones[at_end] == 1)
    assert torch.all(batch.dones[~at_end] == 0)


def test_sampling_never_returns_inactive_rows_and_cuts_at_death():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS)
    add_step(buffer, 0, n_rows=4, active=[True, True, False, True])
    add_step(buffer, 1, n_rows=4, active=[True, False, False, True])  # row 1 died at step 0
    add_step(buffer, 2, n_rows=4, active=[True, False, False, True])
    batch = buffer.sample(2000, np.random.default_rng(3))
    pairs = set(zip(batch.obs[:, 0].tolist(), batch.rows.tolist()))
    assert pairs == {(0.0, 0), (0.0, 1), (0.0, 3), (1.0, 0), (1.0, 3)}
    died = (batch.obs[:, 0] == 0) & (batch.rows == 1)
    assert torch.all(batch.dones[died] == 1) and torch.all(batch.dones[~died] == 0)
    counts = np.array([np.sum((batch.obs[:, 0].numpy() == t) & (batch.rows.numpy() == r)) for t, r in sorted(pairs)])
    np.testing.assert_allclose(counts / counts.sum(), 0.2, atol=0.03)  # uniform over the valid pairs
    assert len(buffer) == 5


def test_unwritten_next_step_is_never_sampled():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS)
    with pytest.raises(ValueError, match="no sampleable"):
        buffer.sample(1, np.random.default_rng(0))
    add_step(buffer, 0, n_rows=3)
    assert len(buffer) == 0
    with pytest.raises(ValueError, match="no sampleable"):
        buffer.sample(1, np.random.default_rng(0))
    add_step(buffer, 1, n_rows=3)
    assert set(buffer.sample(50, np.random.default_rng(0)).obs[:, 0].tolist()) == {0.0}


def test_sampling_is_deterministic_given_the_generator():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS)
    for t in range(5):
        add_step(buffer, t, n_rows=4)
    a = buffer.sample(64, np.random.default_rng(7))
    b = buffer.sample(64, np.random.default_rng(7))
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_bad_shapes_are_named():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS)
    add_step(buffer, 0, n_rows=3)
    with pytest.raises(ValueError, match="3 rows"):
        add_step(buffer, 1, n_rows=4)
    with pytest.raises(ValueError, match="obs"):
        buffer.add(np.zeros((3, 5)), np.zeros(3), np.zeros((3, N_ACTIONS)), np.zeros(3), np.zeros(3, bool), np.ones(3, bool))
    with pytest.raises(ValueError, match="mean_actions"):
        buffer.add(np.zeros((3, 2)), np.zeros(3), np.zeros((3, 2)), np.zeros(3), np.zeros(3, bool), np.ones(3, bool))
    with pytest.raises(ValueError, match="rewards"):
        buffer.add(np.zeros((3, 2)), np.zeros(3), None, np.zeros(2), np.zeros(3, bool), np.ones(3, bool))
    with pytest.raises(ValueError, match="obs_dtype"):
        ReplayBuffer(10, 2, 3, obs_dtype="int8")


def test_float16_storage():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, n_actions=N_ACTIONS, obs_dtype="float16")
    for t in range(3):
        add_step(buffer, t, n_rows=2)
    assert buffer.obs.dtype == np.float16
    assert buffer.sample(8, np.random.default_rng(0)).obs.dtype == torch.float32


def test_replay_ratio_schedule():
    ratio = ReplayRatio(replay_ratio=1.0, batch_size=4, learning_starts=10)
    assert ratio.steps_due(6, sampleable=6) == 0  # not ready: no credit earned
    assert ratio.credit == 0.0
    assert ratio.steps_due(6, sampleable=12) == 1  # 6 / 4 = 1.5
    assert ratio.steps_due(2, sampleable=14) == 1  # 0.5 carried + 0.5
    assert ratio.steps_due(2, sampleable=16) == 0
    assert ReplayRatio(4.0, 8, 0).steps_due(10, sampleable=10) == 5
