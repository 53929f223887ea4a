"""Tiger-deer training (issue 25): the tigers learn, the deer play ``--opponent`` (random, a second learner with
``train:ALGO``, or a run); the scoreboard and both learners in the log; resume; evaluation and watching of a run;
and what tiger-deer refuses (self-play, pool snapshots, ``#opponent``, the arena)."""

from __future__ import annotations

import csv

import pytest

from mfagents.api import train
from mfagents.common.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint
from mfagents.common.pipeline import VecPipeline
from mfagents.evaluation.arena import ArenaError, run_arena
from mfagents.evaluation.rounds import evaluate, play_rounds
from mfagents.policies.specs import RandomPolicy, load_policy
from mfagents.training.loop import RunSetupError

# map 16: 12 deer and 2 tigers among 10 walls; 8 steps a round
TINY = {"map_size": 16, "max_cycles": 8}
N_DEER, N_TIGERS = 12, 2
LEARNER_SETTINGS = {"learning_starts": 16, "batch_size": 16, "buffer_size": 2_000, "obs_dtype": "float32"}
SHAPES = {"tiger": [9, 9, 25], "deer": [3, 3, 21]}  # with extra_features (the trainers' default): 5 view channels
SCOREBOARD = ("deer_eaten", "deer_alive", "tigers_alive", "tigers_starved", "tiger_total_reward", "deer_total_reward")


def read_rows(path) -> list[dict[str, str]]:
    with open(path / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def tiny_run(out, algo="mfq", opponent=None, rounds=3, env_kwargs=None, **options):
    return train(
        "tiger_deer", algo, opponent=opponent, rounds=rounds, seed=1, out=out, env_kwargs={**TINY, **(env_kwargs or {})},
        algo_kwargs=LEARNER_SETTINGS, tensorboard=False, checkpoint_every_rounds=2, **options,
    )  # fmt: skip


@pytest.mark.parametrize("algo", ["mfq", "il", "mfac", "ac"])
def test_the_tigers_learn_against_random_deer_by_default_and_are_evaluated(tmp_path, algo):
    summary = tiny_run(tmp_path, algo=algo, eval_every=2, eval_rounds=2)
    assert summary["opponent"] == "random" and summary["rounds"] == 3 and set(summary["eval"]) == {"random"}
    _, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    learners = metadata["learners"]
    assert set(learners) == {"tiger"}  # the deer are random: nothing of theirs is saved
    assert learners["tiger"]["algo"] == algo and learners["tiger"]["n_agents"] == N_TIGERS
    assert learners["tiger"]["observation_shape"] == SHAPES["tiger"] and learners["tiger"]["config"]["view_channels"] == 5
    rows = read_rows(tmp_path)
    assert rows[-1]["charts/tiger_gradient_steps"] != "" and rows[-1][f"losses/tiger_{'q' if algo in ('mfq', 'il') else 'critic'}"] != ""
    assert not any(key.startswith(("losses/deer", "charts/deer_gradient")) for key in rows[-1])
    assert [row["eval/random/win_rate"] != "" for row in rows] == [False, True, True]
    for key in SCOREBOARD:  # the scoreboard of every round, in the log and the summary
        assert all(row[f"charts/{key}"] != "" for row in rows) and key in summary
    assert 0 <= summary["deer_eaten"] <= N_DEER and summary["deer_alive"] + summary["deer_eaten"] == N_DEER
    assert summary["tigers_alive"] + summary["tigers_starved"] == N_TIGERS


def test_train_algo_trains_both_sides_logs_both_resumes_and_the_run_plays_both_sides(tmp_path):
    summary = tiny_run(tmp_path, algo="il", opponent="train:mfq", rounds=3)
    assert summary["opponent"] == "train:mfq"
    _, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    learners = metadata["learners"]
    assert {name: info["algo"] for name, info in learners.items()} == {"tiger": "il", "deer": "mfq"}
    assert {name: info["observation_shape"] for name, info in learners.items()} == SHAPES
    assert learners["deer"]["n_agents"] == N_DEER and set(metadata["rng"]) == {"tiger", "deer"}
    last = read_rows(tmp_path)[-1]
    for group in ("tiger", "deer"):  # each learner's own metrics
        assert last[f"losses/{group}_q"] != "" and float(last[f"charts/{group}_gradient_steps"]) > 0
    assert "deer_temperature" in summary and "tiger_temperature" in summary

    resumed = train("tiger_deer", out=tmp_path, rounds=5, resume=True, tensorboard=False)
    assert resumed["resumed"] and resumed["rounds"] == 5 and resumed["opponent"] == "train:mfq"
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)[1]["counters"]["rounds"] == 5

    # a run directory plays each group with its learner of that group
    result = evaluate("tiger_deer", tiger=str(tmp_path), deer=str(tmp_path), rounds=2)
    assert result["tiger_wins"] + result["deer_wins"] + result["draws"] == 2 and result["env_kwargs"]["map_size"] == 16
    assert result["tiger_mean_survivors"] + result["tiger_mean_deaths"] == N_TIGERS
    assert result["deer_mean_survivors"] + result["deer_mean_deaths"] == N_DEER
    assert result["deer_mean_deaths"] == result["tiger_mean_kills"]  # deer die only when eaten


def test_a_trained_deer_side_is_an_opponent_and_the_run_is_watched(tmp_path):
    from mfagents.commands.watch import WatchSession, policy_specs
    from mfenvs.registration import find

    tiny_run(tmp_path / "both", opponent="train:il", rounds=2)
    summary = tiny_run(tmp_path / "vs", opponent=str(tmp_path / "both"), rounds=1)  # the run's deer learner plays
    assert summary["opponent"] == str(tmp_path / "both")
    assert load_checkpoint(tmp_path / "vs" / CHECKPOINT_NAME)[1]["learners"]["deer"]["algo"] == "il"

    pooled = tiny_run(tmp_path / "pool", opponent=f"pool:random=1,{tmp_path / 'both'}=1", rounds=2)  # SPECs only
    assert pooled["rounds"] == 2

    entry = find("tiger_deer")
    assert policy_specs(entry) == {"tiger": "random", "deer": "random"}
    assert policy_specs(entry, policy="x") == {"tiger": "x", "deer": "x"}
    specs = policy_specs(entry, tiger=str(tmp_path / "vs"))
    session = WatchSession("tiger_deer", specs, max_steps=3)
    assert session.specs == {"tiger": str(tmp_path / "vs"), "deer": "random"} and session.pipeline.env_kwargs["map_size"] == 16
    session.reset()
    while not session.done:
        session.step()
    assert {"tiger_kills", "deer_survivors"} <= set(session.results())
    session.close()


def test_the_scoreboard_counts_tigers_that_starve():
    """Tigers losing 4 hp a step starve at the third step (10 - 12 < 0) unless they eat: the deer win every round."""
    pipeline = VecPipeline("tiger_deer", {**TINY, "tiger_step_recover": -4.0}, n_envs=2)
    policies = {group: RandomPolicy(pipeline.group_spaces[group].n_actions, seed) for seed, group in enumerate(pipeline.groups)}
    results = play_rounds(pipeline, policies, 3, seed=0)
    pipeline.close()
    for result in results:
        assert result["winner"] == "deer" and result["tiger_deaths"] == N_TIGERS and result["tiger_survivors"] == 0
        assert result["deer_survivors"] == N_DEER and result["tiger_kills"] == 0

    summary = train("tiger_deer", rounds=2, seed=0, env_kwargs={**TINY, "tiger_step_recover": -4.0}, algo_kwargs=LEARNER_SETTINGS, eval_every=0, tensorboard=False)
    assert summary["tigers_starved"] == N_TIGERS and summary["tigers_alive"] == 0 and summary["episode_length"] == 3
    assert summary["win_rate"] == 0.0 and summary["deer_alive"] == N_DEER  # the learner side (tigers) lost every round


def test_the_tigers_are_the_learner_side():
    pipeline = VecPipeline("tiger_deer", TINY)
    assert list(pipeline.sides) == ["tiger", "deer"] and not pipeline.mirrored_sides
    assert len(pipeline.groups["tiger"]) == N_TIGERS and all(pipeline.possible_agents[r].startswith("tiger_") for r in pipeline.groups["tiger"])
    assert all(pipeline.possible_agents[r].startswith("deer_") for r in pipeline.groups["deer"])
    pipeline.close()


def test_errors_name_what_tiger_deer_cannot_play(tmp_path):
    with pytest.raises(RunSetupError, match="sides have different groups"):
        tiny_run(tmp_path / "s", opponent="self", rounds=1)
    with pytest.raises(RunSetupError, match="cannot play tiger_deer's deer"):
        tiny_run(tmp_path / "p", opponent="pool:random=1,self=1", rounds=1)
    with pytest.raises(ValueError, match=r"give both --tiger SPEC and --deer SPEC \(not --policy\)"):
        evaluate("tiger_deer", policy="random", rounds=1)
    with pytest.raises(ValueError, match=r"\(not --policy, --red\)"):
        evaluate("tiger_deer", tiger="random", deer="random", red="random", rounds=1)
    with pytest.raises(ArenaError, match="mfzoo eval tiger_deer --tiger SPEC --deer SPEC"):
        run_arena("tiger_deer", ["random", "random"], rounds=1)

    tiny_run(tmp_path / "t", rounds=1)  # the tigers only
    with pytest.raises(CheckpointError, match="has no learner 'deer'"):
        evaluate("tiger_deer", tiger="random", deer=str(tmp_path / "t"), rounds=1)
    pipeline = VecPipeline("tiger_deer", TINY)
    with pytest.raises(ValueError, match="plays each group with its own learner"):
        load_policy(f"{tmp_path / 't'}#opponent", pipeline, "deer")
    assert load_policy(str(tmp_path / "t"), pipeline, "tiger").learner.name == "mfq"
    pipeline.close()
