"""Sides of several groups (combined arms): a learner per group, self-play, train:ALGO, random, logs, checkpoints,
resume, the panel, and the run directory as a policy SPEC for eval, arena and watch (issue 25)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from mfagents.algos.mfq import MFQ
from mfagents.api import train
from mfagents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint
from mfagents.common.pipeline import VecPipeline
from mfagents.evaluation.arena import run_arena
from mfagents.evaluation.rounds import evaluate, play_rounds
from mfagents.policies.specs import (
    LEARNER,
    OPPONENT,
    RandomPolicy,
    checkpoint_names,
    load_policy,
    spec_learner_name,
)
from mfagents.training import loop
from mfagents.training.config import RunConfig, resolve
from mfagents.training.loop import RunSetupError, setup_players

TINY = {"map_size": 16, "max_cycles": 6}
LEARNER_SETTINGS = {"learning_starts": 16, "batch_size": 16, "buffer_size": 2_000, "obs_dtype": "float32"}
GROUPS = ("redmelee", "redranged", "bluemelee", "blueranged")
SPACES = {"redmelee": ((13, 13, 29), 9), "redranged": ((13, 13, 45), 25), "bluemelee": ((13, 13, 29), 9), "blueranged": ((13, 13, 45), 25)}


def read_rows(path) -> list[dict[str, str]]:
    with open(path / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def tiny_run(out, algo="mfq", opponent=None, rounds=3, **options):
    return train(
        "combined_arms", algo, opponent=opponent, rounds=rounds, seed=2, out=out, env_kwargs=TINY, algo_kwargs=LEARNER_SETTINGS,
        tensorboard=False, checkpoint_every_rounds=2, **options,
    )  # fmt: skip


def test_self_play_trains_a_learner_per_group_logs_checkpoints_resumes_and_evaluates(tmp_path):
    summary = tiny_run(tmp_path, eval_every=2, eval_rounds=2)
    assert summary["opponent"] == "self" and summary["rounds"] == 3 and set(summary["eval"]) == {"random"}
    rows = read_rows(tmp_path)
    for group in ("redmelee", "redranged"):  # each learner logs under its group's name
        assert rows[-1][f"losses/{group}_q"] != "" and rows[-1][f"charts/{group}_gradient_steps"] != ""
    assert [row["eval/random/win_rate"] != "" for row in rows] == [False, True, True]
    tensors, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    learners = metadata["learners"]
    assert set(learners) == set(GROUPS)  # the blue groups are the frozen self-play copies
    for group, (shape, _) in SPACES.items():
        assert learners[group]["group"] == group and learners[group]["observation_shape"] == list(shape)
        assert learners[group]["algo"] == "mfq" and learners[group]["n_agents"] == 3 and learners[group]["config"]["view_channels"] == 9
        assert any(name.startswith(f"{group}/") for name in tensors)
    assert set(metadata["rng"]) == set(GROUPS)
    assert (tmp_path / "best.safetensors").exists()

    resumed = train("combined_arms", out=tmp_path, rounds=5, resume=True, tensorboard=False)
    assert resumed["resumed"] and resumed["rounds"] == 5 and load_checkpoint(tmp_path / CHECKPOINT_NAME)[1]["counters"]["rounds"] == 5

    # the run directory is a SPEC for a whole side: red plays its own learners, blue the run's red learners (mirrored)
    result = evaluate("combined_arms", red=str(tmp_path), blue="random", rounds=2)
    assert result["red_wins"] + result["blue_wins"] + result["draws"] == 2 and result["env_kwargs"]["map_size"] == 16
    result = evaluate("combined_arms", red="random", blue=str(tmp_path), rounds=2)
    assert result["red_wins"] + result["blue_wins"] + result["draws"] == 2
    result = evaluate("combined_arms", red=str(tmp_path), blue=f"{tmp_path}#opponent", rounds=1)
    assert result["rounds"] == 1


def test_a_run_directory_plays_each_group_with_that_groups_learner(tmp_path):
    tiny_run(tmp_path, algo="il", opponent="train:mfq", rounds=2)
    _, metadata = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert {name: info["algo"] for name, info in metadata["learners"].items()} == {
        "redmelee": "il", "redranged": "il", "bluemelee": "mfq", "blueranged": "mfq",
    }  # fmt: skip
    pipeline = VecPipeline("combined_arms", TINY)
    assert checkpoint_names(pipeline) == {group: group for group in GROUPS}
    assert spec_learner_name(pipeline, "blueranged", LEARNER) == "redranged"  # the run's red learner, on blue
    assert spec_learner_name(pipeline, "redmelee", OPPONENT) == "bluemelee"
    for group in GROUPS:
        for role, side_learners in ((LEARNER, "il"), (OPPONENT, "mfq")):
            spec = str(tmp_path) if role == LEARNER else f"{tmp_path}#opponent"
            policy = load_policy(spec, pipeline, group)
            assert policy.learner.name == side_learners and policy.learner.n_actions == SPACES[group][1]
            assert policy.learner.layout.shape == SPACES[group][0]
    pipeline.close()
    battle = VecPipeline("battle", {"map_size": 16, "team_size": 4})
    assert checkpoint_names(battle) == {"red": LEARNER, "blue": OPPONENT}  # Battle's names are unchanged
    assert spec_learner_name(battle, "blue", LEARNER) == LEARNER and spec_learner_name(battle, "red", OPPONENT) == OPPONENT
    battle.close()


def test_each_learner_sees_its_groups_unpadded_observations_and_mean_actions(tmp_path, monkeypatch):
    seen: dict[tuple[int, str], set] = {}
    act, observe = MFQ.act, MFQ.observe

    def spy_act(self, observations, mean_actions, explore=True):
        seen.setdefault((id(self), "act"), set()).add((observations.shape[1:], mean_actions.shape[1], self.n_actions))
        actions = act(self, observations, mean_actions, explore)
        assert actions.max(initial=0) < self.n_actions  # only the group's own actions
        return actions

    def spy_observe(self, observations, actions, mean_actions, rewards, dones, active):
        seen.setdefault((id(self), "observe"), set()).add((observations.shape[1:], mean_actions.shape[1], self.n_actions))
        return observe(self, observations, actions, mean_actions, rewards, dones, active)

    monkeypatch.setattr(MFQ, "act", spy_act)
    monkeypatch.setattr(MFQ, "observe", spy_observe)
    tiny_run(tmp_path, opponent="train:il", rounds=2, eval_every=0)
    shapes = {(shape, n_mean, n) for values in seen.values() for shape, n_mean, n in values}
    assert shapes == {((13, 13, 29), 9, 9), ((13, 13, 45), 25, 25)}  # never the padded (13, 13, 45) / 25 of a melee group
    assert len({key for key in seen if key[1] == "observe"}) == 4 and all(len(values) == 1 for values in seen.values())


def test_random_opponent_and_a_trained_run_as_opponent(tmp_path):
    first = tiny_run(tmp_path / "a", opponent="random", rounds=2)
    assert first["rounds"] == 2
    _, metadata = load_checkpoint(tmp_path / "a" / CHECKPOINT_NAME)
    assert set(metadata["learners"]) == {"redmelee", "redranged"} and set(metadata["rng"]) == set(GROUPS)
    second = tiny_run(tmp_path / "b", opponent=str(tmp_path / "a"), rounds=2, eval_every=2, eval_rounds=1, eval_panel=("random", str(tmp_path / "a")))
    assert set(second["eval"]) == {"random", "a"}


def test_self_play_refreshes_every_frozen_copy_from_its_mirror_group_when_red_wins(tmp_path, monkeypatch):
    run = resolve(RunConfig(env="combined_arms", env_kwargs=TINY, algo_kwargs=LEARNER_SETTINGS))
    pipeline = VecPipeline(run.env_id, run.env_kwargs)
    players = setup_players(run, pipeline)
    assert players.frozen == {"bluemelee": "redmelee", "blueranged": "redranged"}
    assert players.learner_side == "red" and players.learner_groups == ("redmelee", "redranged")
    for learner in players.learners.values():
        with torch.no_grad():
            for parameter in learner.q.parameters():
                parameter.add_(1.0)
    players.refresh_frozen_copies()
    for frozen, group in players.frozen.items():
        mine, theirs = players.policies[frozen].learner.state_dict(), players.learners[group].state_dict()
        assert all(torch.equal(mine[key], theirs[key]) for key in theirs)
    pipeline.close()

    # the loop refreshes (both copies at once) exactly when red wins a round; the winner is the env's red_won
    original = loop.BattleScorer.on_finish
    for winner, refreshes in (("red", 3), ("blue", 0), ("draw", 0)):
        monkeypatch.setattr(loop.BattleScorer, "on_finish", lambda self, copy, step, w=winner: {**original(self, copy, step), "winner": w})
        summary = tiny_run(tmp_path / winner, rounds=3)
        monkeypatch.undo()
        assert summary["opponent_refreshes"] == refreshes and summary["win_rate"] == (winner == "red")


def test_combined_arms_rounds_are_won_by_the_side_with_more_enemy_kills():
    pipeline = VecPipeline("combined_arms", {"map_size": 16, "max_cycles": 40}, n_envs=2)
    policies = {group: RandomPolicy(pipeline.group_spaces[group].n_actions, seed) for seed, group in enumerate(GROUPS)}
    results = play_rounds(pipeline, policies, 4, seed=3)
    pipeline.close()
    assert sum(r["red_kills"] + r["blue_kills"] for r in results) > 0  # random melee and ranged units do kill here
    for result in results:
        expected = "red" if result["red_kills"] > result["blue_kills"] else "blue" if result["blue_kills"] > result["red_kills"] else "draw"
        assert result["winner"] == expected


def test_errors_name_what_combined_arms_cannot_play(tmp_path):
    with pytest.raises(RunSetupError, match="the scripted policy plays battle"):
        tiny_run(tmp_path / "s", opponent="scripted", rounds=1)
    with pytest.raises(RunSetupError, match="opponent pools play sides of one group"):
        tiny_run(tmp_path / "p", opponent="pool:random=1,self=1", rounds=1)
    with pytest.raises(ValueError, match="give both --red SPEC and --blue SPEC"):
        evaluate("combined_arms", policy="random", rounds=1)


def test_the_arena_and_watch_play_a_combined_arms_run(tmp_path):
    from mfagents.commands.watch import WatchSession

    tiny_run(tmp_path / "run", rounds=2)
    summary = run_arena("combined_arms", [str(tmp_path / "run")], rounds=1, out=tmp_path / "arena")
    assert summary["entrants"] == [str(tmp_path / "run"), "random"]  # scripted is Battle's only
    session = WatchSession("combined_arms", {"red": str(tmp_path / "run"), "blue": "random"}, max_steps=3)
    assert session.specs == {"redmelee": str(tmp_path / "run"), "redranged": str(tmp_path / "run"), "bluemelee": "random", "blueranged": "random"}
    session.reset()
    while not session.done:
        session.step()
    assert session.results()["winner"] in ("red", "blue", "draw")
    session.close()
    assert np.isfinite(summary["ratings"][0]["elo"])


@pytest.mark.parametrize("algo", ["mfac", "ac"])
def test_the_actor_critics_train_a_learner_per_group_too(tmp_path, algo):
    summary = tiny_run(tmp_path, algo=algo, rounds=2, eval_every=2, eval_rounds=1)
    assert summary["rounds"] == 2 and set(summary["eval"]) == {"random"}
    learners = load_checkpoint(tmp_path / CHECKPOINT_NAME)[1]["learners"]
    assert {name: info["algo"] for name, info in learners.items()} == dict.fromkeys(GROUPS, algo)
