"""Battle's opponent pool (``--opponent pool:...``): parsing, draws per round, snapshots, logs and resume."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from mfagents.api import train
from mfagents.training import opponent_pool
from mfagents.training.config import RunConfig, resolve
from mfagents.training.logger import CSV_NAME
from mfagents.training.loop import RunSetupError
from mfagents.training.opponent_pool import OpponentPool, parse_pool

BATTLE = {"map_size": 16, "team_size": 4, "max_cycles": 8}
SMALL_LEARNER = {"learning_starts": 16, "batch_size": 16, "buffer_size": 2_000, "replay_ratio": 1.0}


def test_parse_pool_normalises_weights_and_a_bare_member_weighs_one():
    assert parse_pool("pool:scripted=2,self=2,random") == {"scripted": 0.4, "self": 0.4, "random": 0.2}
    assert parse_pool("pool:scripted") == {"scripted": 1.0}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("scripted", "is not an opponent pool"),
        ("pool:", "an empty pool member"),
        ("pool:scripted=1,scripted=2", "named twice"),
        ("pool:scripted=x", "must be a number, got 'x'"),
        ("pool:scripted=0", "must be positive"),
        ("pool:scripted=-1", "must be positive"),
        ("pool:scripted=inf", "must be positive and finite"),
    ],
)
def test_parse_pool_names_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_pool(spec)


def test_bad_pool_members_are_named_before_training(tmp_path):
    with pytest.raises(ValueError, match="'train:il' cannot be a pool member"):
        resolve(RunConfig(env="battle", opponent="pool:scripted=1,train:il"))
    with pytest.raises(RunSetupError, match="nosuchthing"):
        train("battle", "mfq", out=tmp_path, rounds=1, env_kwargs=BATTLE, opponent="pool:scripted=1,nosuchthing", eval_every=0, tensorboard=False)
    assert not (tmp_path / CSV_NAME).exists()


def test_a_pool_is_not_an_evaluation_opponent():
    with pytest.raises(ValueError, match="training opponent mode"):
        resolve(RunConfig(env="battle", eval_every=10, eval_panel=("pool:scripted",)))


class Constant:
    """A fixed policy that plays one action everywhere (to see which member played which copy)."""

    def __init__(self, action: int):
        self.action = action

    def __call__(self, observations, mean_actions, context):
        return np.full(len(observations), self.action, dtype=np.int64)


class Snapshot:
    def __init__(self, action: int):
        self.learner = self
        self.action = action
        self.progress: list[float] = []

    def set_progress(self, fraction: float) -> None:
        self.progress.append(fraction)

    def end_episodes(self, dones) -> None:
        pass

    def __call__(self, observations, mean_actions, context):
        return np.full(len(observations), self.action, dtype=np.int64)


def test_every_copy_plays_its_own_member_and_draws_follow_the_weights(monkeypatch):
    from mfagents.policies.specs import GroupContext

    taken = []

    def snapshot():
        taken.append(Snapshot(100 + len(taken)))
        return taken[-1]

    monkeypatch.setattr(opponent_pool, "SNAPSHOT_EVERY_ROUNDS", 3)
    pool = OpponentPool({"a": 0.5, "self": 0.25, "b": 0.25}, {"a": Constant(1), "b": Constant(2)}, snapshot, 4, 2, np.random.default_rng(0))
    assert len(taken) == 1  # a snapshot of the learner at the start
    rows = np.array([1, 3, 5, 7])  # one row of the group in each of 4 copies of 2 rows
    context = GroupContext(None, "blue", rows, np.ones(4, bool))
    expected = {"a": 1, "b": 2}
    for _ in range(400):
        actions = pool(np.zeros((4, 1)), np.zeros((4, 1)), context)
        for copy, name in enumerate(pool.playing_names):
            assert actions[copy] == (pool.playing[copy].action if name == "self" else expected[name])
        pool.round_finished(int(np.random.default_rng(len(taken)).integers(4)))
    shares = pool.metrics()
    assert abs(shares["charts/pool_share/a"] - 0.5) < 0.08 and abs(shares["charts/pool_share/b"] - 0.25) < 0.08
    assert len(taken) == 1 + 400 // 3 and shares["charts/pool_snapshots"] == opponent_pool.SNAPSHOTS_KEPT
    assert pool.metrics()["charts/pool_share/a"] == 0.0  # counts restart after each log row
    pool.set_progress(0.5)
    assert all(s.progress == [0.5] for s in pool.snapshots)


def test_pool_training_logs_shares_and_resumes(tmp_path):
    common = dict(env_kwargs=BATTLE, algo_kwargs=SMALL_LEARNER, opponent="pool:scripted=1,self=1,random=1", tensorboard=False, eval_every=0)
    summary = train("battle", "mfq", seed=3, out=tmp_path, rounds=6, **common)
    assert summary["rounds"] == 6 and summary["pool_snapshots"] == 1.0
    with open(tmp_path / CSV_NAME, newline="") as file:
        rows = list(csv.DictReader(file))
    shares = np.array([[float(row[f"charts/pool_share/{m}"]) for m in ("scripted", "self", "random")] for row in rows])
    assert np.allclose(shares.sum(axis=1), 1.0) and (shares.sum(axis=0) > 0).sum() >= 2
    resumed = train("battle", "mfq", seed=3, out=tmp_path, rounds=9, resume=True, **common)
    assert resumed["rounds"] == 9 and resumed["resumed"]


def test_pool_training_is_deterministic(tmp_path):
    common = dict(env_kwargs=BATTLE, algo_kwargs=SMALL_LEARNER, opponent="pool:scripted=1,self=1,random=1", tensorboard=False, eval_every=0, rounds=5)
    first = train("battle", "mfq", seed=4, out=tmp_path / "a", **common)
    second = train("battle", "mfq", seed=4, out=tmp_path / "b", **common)
    assert (tmp_path / "a" / CSV_NAME).read_text().split("perf/")[0] == (tmp_path / "b" / CSV_NAME).read_text().split("perf/")[0]
    keys = ("global_step", "kills", "opponent_kills", "total_reward", "pool_share/scripted")
    assert all(first[k] == second[k] for k in keys)
