"""The same seed gives identical logged metrics and parameters for a short CPU run; another seed does not."""

from __future__ import annotations

import csv

import pytest
import torch

from mfagents.api import train
from mfagents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint
from mfagents.training.logger import CSV_NAME

LEARNER = {"learning_starts": 16, "batch_size": 16, "buffer_size": 2_000, "replay_ratio": 1.0}
RUNS = {
    "squeeze-mfq": dict(env="gaussian_squeeze", algo="mfq", env_kwargs={"n_agents": 12, "max_cycles": 5}, rounds=6, n_envs=2),
    "battle-self-play": dict(env="battle", algo="mfq", env_kwargs={"map_size": 16, "team_size": 4, "max_cycles": 10}, rounds=3),
    "battle-mfq-vs-il": dict(
        env="battle", algo="mfq", opponent="train:il", env_kwargs={"map_size": 16, "team_size": 4, "max_cycles": 10}, rounds=2
    ),
}


def logged_metrics(out) -> list[dict[str, str]]:
    """Every CSV row without the wall-clock ``perf/`` columns."""
    with open(out / CSV_NAME, newline="") as file:
        return [{k: v for k, v in row.items() if not k.startswith("perf/")} for row in csv.DictReader(file)]


def run(tmp_path, name: str, seed: int):
    out = tmp_path / f"{name}-{seed}-{len(list(tmp_path.iterdir()))}"
    train(**RUNS[name], seed=seed, out=out, algo_kwargs=LEARNER, log_every_rounds=1, tensorboard=False)
    return out


@pytest.mark.parametrize("name", sorted(RUNS))
def test_same_seed_same_metrics_and_parameters(tmp_path, name):
    first, second = run(tmp_path, name, seed=7), run(tmp_path, name, seed=7)
    metrics = logged_metrics(first)
    assert len(metrics) >= 2 and any(row.get("losses/q") for row in metrics)  # it learned something
    assert metrics == logged_metrics(second)
    tensors_a, meta_a = load_checkpoint(first / CHECKPOINT_NAME)
    tensors_b, meta_b = load_checkpoint(second / CHECKPOINT_NAME)
    assert tensors_a.keys() == tensors_b.keys()
    assert all(torch.equal(tensors_a[key], tensors_b[key]) for key in tensors_a)
    assert meta_a["rng"] == meta_b["rng"] and meta_a["counters"] == meta_b["counters"]


def test_another_seed_gives_other_metrics(tmp_path):
    assert logged_metrics(run(tmp_path, "squeeze-mfq", seed=1)) != logged_metrics(run(tmp_path, "squeeze-mfq", seed=2))
