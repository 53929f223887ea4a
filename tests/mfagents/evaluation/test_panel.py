"""The evaluation panel while training (issue 23): its columns, its seeds, its errors, resume, and that it leaves training alone."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mfagents.api import train
from mfagents.commands import cli
from mfagents.common.pipeline import VecPipeline
from mfagents.evaluation import panel as panel_module
from mfagents.evaluation.panel import EVAL_SEED_BASE, FIELDS, EvalPanel, eval_seed, panel_name
from mfagents.evaluation.stats import wilson_interval
from mfagents.training.config import RunConfig, resolve
from mfagents.training.loop import derived_seed

TEAM_SIZE = 3
TINY = {"map_size": 12, "team_size": TEAM_SIZE, "max_cycles": 12}
LEARNER = {"learning_starts": 16, "batch_size": 16, "buffer_size": 2_000}
TINY_ARGS = [arg for key, value in TINY.items() for arg in ("--env-kwarg", f"{key}={value}")]
LEARNER_ARGS = [arg for key, value in LEARNER.items() for arg in ("--algo-kwarg", f"{key}={value}")]
OPPONENTS = ("random", "scripted")


def read_rows(run_dir) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def eval_columns(row: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in row.items() if key.startswith("eval/")}


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_the_panel_logs_its_columns_per_opponent(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "battle", "--rounds", "3", "--eval-every", "2", "--eval-rounds", "3", "--eval-panel", ",".join(OPPONENTS)]
    assert cli.main([*argv, "--out", str(out), "--no-progress", *TINY_ARGS, *LEARNER_ARGS]) == 0
    summary = last_json_line(capsys.readouterr().out)

    rows = read_rows(out)
    assert [int(row["rounds"]) for row in rows] == [1, 2, 3]
    expected = {f"eval/{name}/{field}" for name in OPPONENTS for field in FIELDS}
    assert set(eval_columns(rows[0])) == expected
    assert not any(eval_columns(rows[0]).values())  # round 1: no evaluation
    for row in rows[1:]:  # round 2 (every 2 rounds) and round 3 (the end of training)
        for name in OPPONENTS:
            rate, low, high = (float(row[f"eval/{name}/{field}"]) for field in ("win_rate", "win_low", "win_high"))
            wins = round(rate * 3)
            assert rate == wins / 3 and (low, high) == pytest.approx(wilson_interval(wins, 3))
            assert 0.0 <= low <= rate <= high <= 1.0
            for field in ("kills", "opponent_kills"):
                assert 0.0 <= float(row[f"eval/{name}/{field}"]) <= TEAM_SIZE
        assert float(row["perf/eval_time_s"]) > 0
    # scripted fights: an untrained team loses kills to it
    assert float(rows[-1]["eval/scripted/opponent_kills"]) > 0

    final = {name: {field: float(rows[-1][f"eval/{name}/{field}"]) for field in FIELDS} for name in OPPONENTS}
    assert summary["eval"] == {name: {"rounds": 3, **final[name]} for name in OPPONENTS}
    assert summary["eval_time_s"] > 0

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert expected <= tags
    assert [event.value for event in events.Scalars("eval/scripted/opponent_kills")] == pytest.approx(
        [float(row["eval/scripted/opponent_kills"]) for row in rows[1:]]
    )


def test_eval_every_0_writes_no_eval_columns(tmp_path):
    summary = train("battle", "mfq", rounds=2, out=tmp_path, env_kwargs=TINY, algo_kwargs=LEARNER, eval_every=0, tensorboard=False)
    assert "eval" not in summary and summary["eval_time_s"] == 0.0
    assert not any(key.startswith("eval/") for key in read_rows(tmp_path)[0])


def test_the_panel_is_on_by_default_for_battle_only():
    battle = resolve(RunConfig(env="battle"))
    assert battle.eval_every > 0 and battle.eval_panel == ("random", "scripted") and battle.eval_rounds >= 10
    assert resolve(RunConfig(env="gaussian_squeeze")).eval_every == 0
    assert resolve(RunConfig(env="ising")).eval_every == 0


def test_evaluation_leaves_training_alone(tmp_path):
    """The same run with and without the panel trains the same: the panel plays a copy, with its own seeds."""
    common = dict(seed=3, rounds=3, env_kwargs=TINY, algo_kwargs=LEARNER, tensorboard=False)
    train("battle", "mfq", out=tmp_path / "with", eval_every=1, eval_rounds=2, **common)
    train("battle", "mfq", out=tmp_path / "without", eval_every=0, **common)
    with_panel, without = read_rows(tmp_path / "with"), read_rows(tmp_path / "without")
    charts = [key for key in without[0] if key.startswith(("charts/", "losses/"))]
    assert charts and [[row[key] for key in charts] for row in with_panel] == [[row[key] for key in charts] for row in without]


def test_evaluation_seeds_are_disjoint_from_training_seeds(tmp_path, monkeypatch):
    """Every seed a run resets its environments with, training and resumed training included, against the panel's."""
    reset_seeds: list[tuple[int, int]] = []  # (first seed, copies): copy i gets seed + i
    panel_seeds: list[tuple[int, int]] = []
    original_reset, original_play = VecPipeline.reset, panel_module.play_rounds

    def recording_reset(self, seed=None):
        reset_seeds.append((seed, self.n_envs))
        return original_reset(self, seed=seed)

    def recording_play(pipeline, policies, rounds, seed):
        panel_seeds.append((seed, pipeline.n_envs))
        return original_play(pipeline, policies, rounds, seed)

    monkeypatch.setattr(VecPipeline, "reset", recording_reset)
    monkeypatch.setattr(panel_module, "play_rounds", recording_play)
    common = dict(seed=2**32 - 1, out=tmp_path, env_kwargs=TINY, algo_kwargs=LEARNER, n_envs=2, eval_every=2, eval_rounds=2, tensorboard=False)
    train("battle", "mfq", rounds=2, checkpoint_every_rounds=1, **common)
    train("battle", "mfq", rounds=4, resume=True, **common)

    def expand(seeds):
        return {first + copy for first, copies in seeds for copy in range(copies)}

    assert panel_seeds and len(reset_seeds) > len(panel_seeds)
    training = expand(reset_seeds) - expand(panel_seeds)
    evaluation = expand(panel_seeds)
    assert len(set(reset_seeds) - set(panel_seeds)) == 2  # the fresh start and the resumed one
    assert max(training) < EVAL_SEED_BASE <= min(evaluation)
    assert not training & evaluation
    # the bounds behind it: run seeds are < 2**32, resumed seeds are 32-bit mixes, copies are few
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\)"):
        resolve(RunConfig(env="battle", seed=2**32))
    assert all(eval_seed(seed) >= EVAL_SEED_BASE for seed in (0, 1, 2**32 - 1))
    assert max(derived_seed(2**32 - 1, step) for step in range(100)) < 2**32


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        ("random,nobody", "--eval-panel: unknown policy SPEC 'nobody'"),
        ("random,self", "'self' is a training opponent mode"),
        ("scripted,train:il", "'train:il' is a training opponent mode"),
        ("zoo:nothing", "--eval-panel"),
        ("random,random", "two opponents are named 'random'"),
    ],
)
def test_a_bad_panel_is_an_error_before_training_starts(panel, message, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "battle", "--rounds", "1", "--eval-panel", panel, "--out", str(out), "--no-progress", *TINY_ARGS]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert message in error and len(error.splitlines()) == 1 and "Traceback" not in error
    assert not out.exists()  # nothing was trained or written


def test_the_panel_needs_teams_and_a_valid_cadence():
    with pytest.raises(ValueError, match="gaussian_squeeze has no teams"):
        resolve(RunConfig(env="gaussian_squeeze", eval_every=5))
    with pytest.raises(ValueError, match="--eval-every must be a non-negative integer"):
        resolve(RunConfig(env="battle", eval_every=-1))
    with pytest.raises(ValueError, match="--eval-panel is empty"):
        resolve(RunConfig(env="battle", eval_panel=()))


def test_resume_continues_the_schedule_and_keeps_the_panel(tmp_path):
    common = dict(out=tmp_path, tensorboard=False)
    train("battle", "mfq", rounds=3, env_kwargs=TINY, algo_kwargs=LEARNER, eval_every=2, eval_rounds=2, eval_panel="scripted", checkpoint_every_rounds=1, **common)
    summary = train("battle", rounds=5, resume=True, **common)  # the panel settings come from config.json
    assert summary["resumed"] and summary["rounds"] == 5 and set(summary["eval"]) == {"scripted"}
    rows = read_rows(tmp_path)
    evaluated = [int(row["rounds"]) for row in rows if row["eval/scripted/win_rate"]]
    assert evaluated == [2, 3, 4, 5]  # every 2 rounds from round 0, and at the end of each part
    assert not any(key.startswith("eval/random/") for key in rows[0])


def test_the_panel_counts_wins_draws_and_kills_and_is_stateless(monkeypatch):
    run = resolve(RunConfig(env="battle", env_kwargs=TINY, algo_kwargs=LEARNER, eval_rounds=4))
    panel = EvalPanel(run)
    learners = {group: player.learner for group, player in panel.players.items()}  # any learners of the run's shape
    first = panel(learners)
    assert panel(learners) == first  # the same parameters, the same rounds: a stateless panel
    results = [
        {"winner": "red", "red_kills": 3, "blue_kills": 1},
        {"winner": "draw", "red_kills": 2, "blue_kills": 2},
        {"winner": "blue", "red_kills": 0, "blue_kills": 3},
        {"winner": "red", "red_kills": 3, "blue_kills": 0},
    ]
    draws = []

    def fake_play(pipeline, policies, rounds, seed):  # the random draws each match starts from
        draws.append((seed, *(policy.rng.random() for policy in policies.values() if hasattr(policy, "rng"))))
        return results

    monkeypatch.setattr(panel_module, "play_rounds", fake_play)
    metrics = panel(learners)
    assert panel(learners) == metrics and draws[:2] == draws[2:] and len(draws[0]) == 3  # (seed, learner, random)
    panel.close()
    low, high = wilson_interval(2, 4)
    for name in ("random", "scripted"):
        assert metrics[f"eval/{name}/win_rate"] == 0.5  # the learner plays red; a draw is not a win
        assert (metrics[f"eval/{name}/win_low"], metrics[f"eval/{name}/win_high"]) == pytest.approx((low, high))
        assert metrics[f"eval/{name}/kills"] == 2.0 and metrics[f"eval/{name}/opponent_kills"] == 1.5
    assert np.isfinite(list(first.values())).all()


@pytest.mark.parametrize(
    ("spec", "name"),
    [("scripted", "scripted"), ("zoo:il", "zoo:il"), ("runs/b/battle-il-s0", "battle-il-s0"), ("runs/x/#opponent", "x_opponent"), ("runs/a b", "a_b")],
)
def test_panel_names(spec, name):
    assert panel_name(spec) == name


def test_the_best_evaluation_is_kept_as_best_checkpoint(tmp_path, monkeypatch):
    from mfagents.common.checkpoint import BEST_CHECKPOINT_NAME, load_checkpoint
    from mfagents.evaluation.rounds import evaluate
    from mfagents.training import loop

    scores = iter([0.2, 0.7, 0.5, 0.6])  # evaluations at rounds 1, 2, 3, 4: the best is the second
    monkeypatch.setattr(loop, "panel_score", lambda metrics: next(scores))
    summary = train("battle", "mfq", rounds=4, out=tmp_path, env_kwargs=TINY, algo_kwargs=LEARNER, eval_every=1, eval_rounds=1, tensorboard=False)
    best = tmp_path / BEST_CHECKPOINT_NAME
    assert summary["best"] == {"checkpoint": str(best), "rounds": 2, "panel_score": 0.7}
    _, metadata = load_checkpoint(best)
    assert metadata["counters"]["rounds"] == 2
    played = evaluate("battle", red=str(best), blue="random", rounds=1, seed=0, env_kwargs=TINY)  # a policy SPEC like any checkpoint
    assert played["rounds"] == 1


def test_panel_score_ranks_wins_then_kill_margins():
    from mfagents.training.loop import panel_score

    def metrics(win_random, win_scripted, kills, opponent_kills):
        return {
            "eval/random/win_rate": win_random, "eval/random/kills": kills, "eval/random/opponent_kills": opponent_kills,
            "eval/scripted/win_rate": win_scripted, "eval/scripted/kills": kills, "eval/scripted/opponent_kills": opponent_kills,
        }  # fmt: skip

    assert panel_score(metrics(1.0, 0.5, 50, 60)) == pytest.approx(0.75 - 1e-5)
    assert panel_score(metrics(1.0, 0.55, 0, 64)) > panel_score(metrics(1.0, 0.5, 64, 0))  # one more win beats any margin
    assert panel_score(metrics(1.0, 0.5, 60, 50)) > panel_score(metrics(1.0, 0.5, 50, 60))
