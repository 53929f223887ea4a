"""The training loop: every environment and Battle mode end to end with tiny budgets, logs, checkpoints, resume."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mfagents.api import train
from mfagents.common.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint
from mfagents.training.config import RunConfig, resolve
from mfagents.training.logger import CSV_NAME
from mfagents.training.loop import CONFIG_NAME, RunSetupError

SQUEEZE = {"n_agents": 8, "max_cycles": 5}
BATTLE = {"map_size": 16, "team_size": 4, "max_cycles": 8}
# eight red agents around one blue agent on a 5 x 5 map: red wins almost every round, even at random
SURROUNDED = {
    "map_size": 5,
    "positions": {"red": [(x, y) for y in (1, 2, 3) for x in (1, 2, 3) if (x, y) != (2, 2)], "blue": [(2, 2)]},
    "max_cycles": 60,
}
SMALL_LEARNER = {"learning_starts": 16, "batch_size": 16, "buffer_size": 2_000, "replay_ratio": 1.0}


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_squeeze_run_writes_config_csv_tensorboard_and_checkpoint(tmp_path):
    summary = train(
        "gaussian_squeeze", "mfq", seed=1, out=tmp_path, rounds=6, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER,
        n_envs=2, log_every_rounds=2, checkpoint_every_rounds=4,
    )  # fmt: skip
    assert summary["rounds"] == 6 and summary["global_step"] == 30 and summary["agent_steps"] == 240
    assert 0.0 <= summary["G_ratio"] <= 1.0 and summary["checkpoint"] == str(tmp_path / CHECKPOINT_NAME)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert config["env_id"] == "mfenvs/gaussian_squeeze-v0" and config["n_envs"] == 2
    assert config["env_kwargs"] == SQUEEZE and config["algo_kwargs"]["batch_size"] == 16
    rows = read_csv(tmp_path / CSV_NAME)
    assert [int(row["rounds"]) for row in rows] == [2, 4, 6]
    assert [int(row["global_step"]) for row in rows] == [10, 20, 30]
    assert {"charts/episodic_return", "charts/G_ratio", "losses/q", "perf/agent_steps_per_s"} <= rows[0].keys()
    assert rows[-1]["losses/q"] != ""  # learning started
    assert list((tmp_path / "tb").iterdir())
    tensors, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert metadata["counters"]["rounds"] == 6 and metadata["counters"]["csv_rows"] == 3
    assert metadata["learners"]["learner"]["algo"] == "mfq" and metadata["learners"]["learner"]["n_agents"] == 8
    assert any(name.startswith("learner/") for name in tensors)


def test_step_budget_counts_environment_steps_over_copies():
    summary = train("gaussian_squeeze", "il", seed=0, steps=12, n_envs=3, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER)
    assert summary["global_step"] == 12 and summary["agent_steps"] == 12 * 8 and summary["rounds"] == 0
    assert summary["out"] is None and summary["checkpoint"] is None


def test_ising_run_reports_the_order_parameter():
    summary = train("ising", "mfq", seed=0, rounds=2, env_kwargs={"size": 4, "max_cycles": 6}, algo_kwargs=SMALL_LEARNER)
    assert 0.0 <= summary["xi_late"] <= 1.0 and 0.0 <= summary["xi_final"] <= 1.0


def test_self_play_refreshes_the_opponent_when_the_learner_wins(tmp_path):
    # near-uniform play (T = 1): eight red around one blue kill it by chance, so the learner wins some rounds
    uniform = {**SMALL_LEARNER, "temperature_start": 1.0, "temperature_end": 1.0}
    summary = train("battle", "mfq", seed=0, out=tmp_path, rounds=4, env_kwargs=SURROUNDED, algo_kwargs=uniform)
    assert summary["opponent"] == "self" and summary["win_rate"] > 0
    assert summary["opponent_refreshes"] >= 1
    rows = read_csv(tmp_path / CSV_NAME)
    wins = sum(float(row["charts/win_rate"]) for row in rows)  # one round per row
    assert len(rows) == 4 and float(rows[-1]["charts/opponent_refreshes"]) == wins
    tensors, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert set(metadata["learners"]) == {"learner", "opponent"}
    assert metadata["learners"]["opponent"]["group"] == "blue" and metadata["learners"]["learner"]["n_agents"] == 8


def test_two_learners_train_at_once(tmp_path):
    summary = train(
        "battle", "mfq", seed=0, out=tmp_path, rounds=2, env_kwargs=BATTLE, algo_kwargs=SMALL_LEARNER, opponent="train:il",
        log_every_rounds=2,
    )  # fmt: skip
    assert summary["opponent"] == "train:il"
    row = read_csv(tmp_path / CSV_NAME)[-1]
    assert row["losses/q"] != "" and row["losses/opponent_q"] != ""
    _, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert metadata["learners"]["opponent"]["algo"] == "il" and metadata["learners"]["learner"]["algo"] == "mfq"


@pytest.mark.parametrize("opponent", ["random", "scripted"])
def test_fixed_opponents(opponent):
    summary = train("battle", "il", seed=0, rounds=1, env_kwargs=BATTLE, algo_kwargs=SMALL_LEARNER, opponent=opponent)
    assert summary["opponent"] == opponent and summary["rounds"] == 1 and "opponent_refreshes" not in summary


def test_resume_continues_counters_and_the_log(tmp_path):
    common = dict(seed=2, out=tmp_path, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER, checkpoint_every_rounds=2, log_every_rounds=1)
    train("gaussian_squeeze", "mfq", rounds=4, **common)
    _, before = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    # simulate a crash after the checkpoint: a log row that the checkpoint does not know about
    with open(tmp_path / CSV_NAME, "a") as file:
        file.write("999,999,999\n")
    summary = train("gaussian_squeeze", "mfq", rounds=7, resume=True, **common)
    assert summary["resumed"] and summary["rounds"] == 7 and summary["global_step"] == 35
    rows = read_csv(tmp_path / CSV_NAME)
    assert [int(row["rounds"]) for row in rows] == [1, 2, 3, 4, 5, 6, 7]
    _, after = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert after["counters"]["rounds"] == 7 and before["counters"]["rounds"] == 4
    assert after["rng"]["learner"] != before["rng"]["learner"]


def test_resume_restores_the_learner_and_rng_exactly(tmp_path):
    from mfagents.algos import make_learner
    from mfagents.common.pipeline import VecPipeline
    from mfagents.policies.specs import load_learner

    common = dict(seed=5, out=tmp_path, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER)
    train("gaussian_squeeze", "mfq", rounds=3, **common)
    pipeline = VecPipeline("gaussian_squeeze", SQUEEZE)
    saved, metadata = load_learner(tmp_path, pipeline.observation_space, pipeline.n_actions)
    config = {k: v for k, v in metadata["learners"]["learner"]["config"].items() if k != "use_mean_action"}
    fresh = make_learner("mfq", pipeline.observation_space, 10, 8, seed=123, **config)
    fresh.load_state_dict(saved.state_dict())
    fresh.rng.bit_generator.state = metadata["rng"]["learner"]
    saved.rng.bit_generator.state = metadata["rng"]["learner"]
    step = pipeline.reset(seed=0)
    np.testing.assert_array_equal(fresh.act(step.observations, step.mean_actions), saved.act(step.observations, step.mean_actions))


def test_resume_refuses_other_settings_and_missing_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        train("gaussian_squeeze", "mfq", out=tmp_path, rounds=2, env_kwargs=SQUEEZE, resume=True)
    train("gaussian_squeeze", "mfq", out=tmp_path, rounds=1, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER)
    with pytest.raises(ValueError, match="--algo il disagrees with the run .* started with mfq"):  # found by resolve()
        train("gaussian_squeeze", "il", out=tmp_path, rounds=2, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER, resume=True)
    (tmp_path / "config.json").unlink()  # without config.json, the checkpoint's own record refuses it
    with pytest.raises(RunSetupError, match="algo='mfq'"):
        train("gaussian_squeeze", "il", out=tmp_path, rounds=2, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER, resume=True)
    with pytest.raises(RunSetupError, match="already holds a run"):
        train("gaussian_squeeze", "mfq", out=tmp_path, rounds=1, env_kwargs=SQUEEZE, algo_kwargs=SMALL_LEARNER)
    with pytest.raises(RunSetupError, match="needs --out"):
        train("gaussian_squeeze", "mfq", rounds=2, env_kwargs=SQUEEZE, resume=True)


def test_bad_settings_are_reported_before_training():
    with pytest.raises(ValueError, match="not both"):
        resolve(RunConfig(env="ising", steps=3, rounds=3))
    with pytest.raises(ValueError, match="has no teams"):
        resolve(RunConfig(env="ising", opponent="random"))
    with pytest.raises(ValueError, match="unknown algorithm 'dqn'"):
        resolve(RunConfig(env="ising", algo="dqn"))
    with pytest.raises(ValueError, match="unknown algorithm 'ppo'"):
        resolve(RunConfig(env="battle", opponent="train:ppo"))
    with pytest.raises(ValueError, match="rounds must be a positive integer"):
        resolve(RunConfig(env="battle", rounds=0))
    with pytest.raises(RunSetupError, match="no field 'learning_rat'"):
        train("gaussian_squeeze", "mfq", rounds=1, env_kwargs=SQUEEZE, algo_kwargs={"learning_rat": 0.1})
    with pytest.raises(RunSetupError, match="n_agents"):
        train("gaussian_squeeze", "mfq", rounds=1, env_kwargs={"n_agents": 0})
    with pytest.raises(RunSetupError, match="unknown policy SPEC"):
        train("battle", "mfq", rounds=1, env_kwargs=BATTLE, opponent="nobody")


def test_defaults_table_fills_the_paper_setups():
    battle = resolve(RunConfig(env="battle"))
    assert battle.opponent == "self" and battle.rounds == 250 and battle.env_kwargs["map_size"] == 40
    assert battle.preset == "default" and battle.algo_kwargs["temperature_start"] == 0.1
    paper = resolve(RunConfig(env="battle", preset="paper"))
    assert paper.rounds == 2000 and paper.algo_kwargs["learning_rate"] == 1e-4 and paper.env_kwargs == battle.env_kwargs
    assert resolve(RunConfig(env="battle", preset="paper", rounds=5, algo_kwargs={"learning_rate": 0.1})).algo_kwargs["learning_rate"] == 0.1
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        resolve(RunConfig(env="battle", preset="huge"))
    assert battle.env_kwargs["dead_agents"] == "absorb" and battle.env_kwargs["extra_features"] is True
    squeeze = resolve(RunConfig(env="gaussian_squeeze"))
    assert squeeze.opponent is None and "n_agents" not in squeeze.env_kwargs  # the environment's N = 1000
    override = resolve(RunConfig(env="gaussian_squeeze", algo_kwargs={"gamma": 0.5}, steps=10))
    assert override.algo_kwargs["gamma"] == 0.5 and override.rounds is None and override.steps == 10


def test_key_values_are_python_literals_or_strings():
    from mfagents.training.config import parse_key_values

    parsed = parse_key_values(["map_size=40", "mean_action_radius=None", "dead_agents=absorb", "walls=[(3, 4)]", "h=-0.5", "tag=a=b"])
    assert parsed == {"map_size": 40, "mean_action_radius": None, "dead_agents": "absorb", "walls": [(3, 4)], "h": -0.5, "tag": "a=b"}
    with pytest.raises(ValueError, match="expects KEY=VALUE"):
        parse_key_values(["size"])
    with pytest.raises(ValueError, match="given twice"):
        parse_key_values(["size=3", "size=4"])


def test_squeeze_score_is_the_second_half_of_each_round():
    from types import SimpleNamespace

    from mfagents.training.loop import SqueezeScorer
    from mfagents.common.pipeline import VecStep

    scorer = SqueezeScorer(SimpleNamespace(n_envs=2, first_rows=np.array([0, 3])))
    g_by_step = [[0.0, 10.0], [10.0, 10.0], [5.0, 10.0], [20.0, 0.0], [30.0, 5.0]]  # G of copies 0 and 1, G* = 40
    for g in g_by_step:
        rewards = np.repeat(np.array(g, dtype=np.float32), 3)
        step = VecStep(None, rewards, np.zeros(6, bool), None, np.ones(6, bool), [{"G_opt": 40.0}] * 2, np.zeros(2, bool))
        scorer.on_step(np.zeros(6, np.int64), step)
    first, second = scorer.on_finish(0, step), scorer.on_finish(1, step)
    assert first == {"G_ratio": pytest.approx((5 + 20 + 30) / 3 / 40), "G_ratio_last": 30 / 40}  # steps 2, 3, 4 of 5
    assert second == {"G_ratio": pytest.approx((10 + 0 + 5) / 3 / 40), "G_ratio_last": 5 / 40}
    scorer.on_step(np.zeros(6, np.int64), step)  # a new round starts from scratch
    assert scorer.on_finish(0, step)["G_ratio"] == pytest.approx(30 / 40)


@pytest.mark.parametrize("algo", ["mfq", "il"])
def test_battlefield_trains_with_battles_learners_and_plays_the_scripted_fighter(algo, tmp_path):
    """Battlefield runs on Battle's engine: the same pipeline, learners, scorer, evaluation panel and scripted fighter."""
    from mfagents.api import evaluate, train

    small = {"map_size": 46, "max_cycles": 8}
    summary = train("battlefield", algo, seed=0, out=tmp_path, rounds=1, env_kwargs=small, eval_every=1, eval_rounds=1, tensorboard=False)
    assert summary["rounds"] == 1 and summary["agent_steps"] == 8 * 24
    assert set(summary["eval"]) == {"random", "scripted"}
    result = evaluate("battlefield", red=str(tmp_path), blue="scripted", rounds=1, env_kwargs={"max_cycles": 8})
    assert result["env_kwargs"]["map_size"] == 46  # read from the run
    assert result["red_wins"] + result["blue_wins"] + result["draws"] == 1
