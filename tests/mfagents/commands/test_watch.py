"""``mfzoo watch``: recorded videos decode with one frame per state; sessions play like evaluation; the window path."""

from __future__ import annotations

import json

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pygame
import pytest

from mfagents.common.checkpoint import CheckpointError
from mfagents.commands import cli
from mfagents.commands.watch import RECORD_FRAME_SIZE, WatchSession, policy_specs, record_episode, watch_in_window
from mfenvs.registration import find
from render import palette

TINY_BATTLE = ["--env-kwarg", "map_size=16", "--env-kwarg", "team_size=4"]


def last_json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def count_mp4_frames(path) -> int:
    with iio2.get_reader(path, format="FFMPEG") as reader:
        return sum(1 for _ in reader.iter_data())


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_record_writes_a_decodable_video_with_one_frame_per_state(tmp_path, capsys, suffix):
    video = tmp_path / f"battle.{suffix}"
    argv = ["watch", "battle", "--record", str(video), "--max-steps", "7", "--fps", "8", "--seed", "3", *TINY_BATTLE]
    assert cli.main(argv) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["command"] == "watch" and summary["video"] == str(video)
    assert summary["steps"] == 7 and summary["frames"] == 8  # the first state and one per step
    assert summary["red"] == "scripted" and summary["blue"] == "random" and summary["fps"] == 8
    if suffix == "gif":
        frames = iio.imread(video, index=None)
        assert frames.shape[:3] == (8, RECORD_FRAME_SIZE[1], RECORD_FRAME_SIZE[0])
    else:
        assert count_mp4_frames(video) == 8
        assert iio.imread(video, index=0).shape == (RECORD_FRAME_SIZE[1], RECORD_FRAME_SIZE[0], 3)


def test_recorded_frames_show_the_battle_and_the_hud(tmp_path):
    session = WatchSession("battle", {"red": "scripted", "blue": "random"}, seed=0, env_kwargs={"map_size": 16, "team_size": 4})
    recording = record_episode(session, tmp_path / "clip.gif", fps=10)
    frames = iio.imread(tmp_path / "clip.gif", index=None)[..., :3]
    assert len(frames) == recording["frames"] == recording["steps"] + 1
    assert session.done and session.results()["winner"] in ("red", "blue", "draw")
    last = frames[-1]
    colours = {tuple(c) for c in np.unique(last.reshape(-1, 3), axis=0).tolist()}
    assert palette.RED_TEAM in colours and palette.PANEL in colours
    assert not np.array_equal(frames[0], frames[-1])


def test_combined_arms_is_watched_group_by_group_in_its_colours(tmp_path, capsys):
    """Each MAgent2 group plays with its own action set (melee 9, ranged 25); the frames show all four colours."""
    video = tmp_path / "combined_arms.gif"
    argv = ["watch", "combined_arms", "--policy", "random", "--record", str(video), "--max-steps", "6", "--env-kwarg", "map_size=16"]
    assert cli.main(argv) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert [summary[group] for group in ("redmelee", "redranged", "bluemelee", "blueranged")] == ["random"] * 4
    assert summary["frames"] == 7 and "red_kills" in summary["results"]
    frame = iio.imread(video, index=0)[..., :3]
    colours = {tuple(c) for c in np.unique(frame.reshape(-1, 3), axis=0).tolist()}
    for group in ("redmelee", "redranged", "bluemelee", "blueranged"):
        assert palette.GROUP_COLOURS[group] in colours, group
    session = WatchSession("combined_arms", {g: "random" for g in ("redmelee", "redranged", "bluemelee", "blueranged")}, seed=1)
    session.reset()
    for _ in range(3):
        session.step()  # a melee unit given a ranged action would raise here
    session.close()
    with pytest.raises(CheckpointError):  # a folder without a run (a trained one plays: tests/mfagents/training/test_groups.py)
        WatchSession("combined_arms", {"red": str(tmp_path), "blue": "random"})


def test_tiger_deer_is_watched_group_by_group_in_its_colours_with_its_walls(tmp_path, capsys):
    """Deer (5 actions) and tigers (9) each play their own action set; the frames show both colours and the walls."""
    video = tmp_path / "tiger_deer.gif"
    argv = ["watch", "tiger_deer", "--policy", "random", "--record", str(video), "--max-steps", "6", "--env-kwarg", "map_size=20"]
    assert cli.main(argv) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert [summary[group] for group in ("deer", "tiger")] == ["random"] * 2
    assert summary["frames"] == 7 and "tiger_kills" in summary["results"]
    frame = iio.imread(video, index=0)[..., :3]
    colours = {tuple(c) for c in np.unique(frame.reshape(-1, 3), axis=0).tolist()}
    for colour in (palette.GROUP_COLOURS["deer"], palette.GROUP_COLOURS["tiger"], palette.WALL):
        assert colour in colours, colour
    # a tiger-deer run directory is a SPEC since issue 25 (tests/mfagents/training/test_tiger_deer.py watches one)
    with pytest.raises(ValueError, match="run directory has no checkpoint.safetensors"):
        WatchSession("tiger_deer", {g: str(tmp_path) for g in ("deer", "tiger")})


def test_gather_is_watched_with_its_food_and_omnivores(tmp_path, capsys):
    """The omnivores play random actions of their 33; the food never acts; the frames show both colours."""
    video = tmp_path / "gather.gif"
    argv = ["watch", "gather", "--policy", "random", "--record", str(video), "--max-steps", "3"]
    assert cli.main(argv) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["omnivore"] == "random" and "food" not in summary
    assert summary["frames"] == 4 and summary["results"]["food_survivors"] == 2272
    frame = iio.imread(video, index=0)[..., :3]
    colours = {tuple(c) for c in np.unique(frame.reshape(-1, 3), axis=0).tolist()}
    for colour in (palette.GROUP_COLOURS["food"], palette.GROUP_COLOURS["omnivore"], palette.WALL):
        assert colour in colours, colour
    with pytest.raises(ValueError, match="gather is not supported yet by mfzoo's training, evaluation and arena: it has one acting side"):
        WatchSession("gather", {"omnivore": str(tmp_path)})


def test_adversarial_pursuit_is_watched_group_by_group_with_2_by_2_predators(tmp_path, capsys):
    """Predators (13 actions) and prey (9) each play their own action set; the frames show both colours and the walls."""
    video = tmp_path / "adversarial_pursuit.gif"
    argv = ["watch", "adversarial_pursuit", "--policy", "random", "--record", str(video), "--max-steps", "6", "--env-kwarg", "map_size=20"]
    assert cli.main(argv) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert [summary[group] for group in ("predator", "prey")] == ["random"] * 2
    assert summary["frames"] == 7 and "predator_tags" in summary["results"]
    frame = iio.imread(video, index=0)[..., :3]
    colours, counts = np.unique(frame.reshape(-1, 3), axis=0, return_counts=True)
    shown = dict(zip(map(tuple, colours.tolist()), counts.tolist()))
    for colour in (palette.GROUP_COLOURS["predator"], palette.GROUP_COLOURS["prey"], palette.WALL):
        assert colour in shown, colour
    # 5 predators of 4 cells each, 10 prey of 1 (map 20): the predators' colour covers about twice the prey's
    # (1 x 1 predators would cover half; the legend swatches and grid lines blur the exact count)
    assert 1.5 < shown[palette.GROUP_COLOURS["predator"]] / shown[palette.GROUP_COLOURS["prey"]] < 2.5
    with pytest.raises(ValueError, match="adversarial_pursuit is not supported yet by mfzoo's training, evaluation and arena"):
        WatchSession("adversarial_pursuit", {g: str(tmp_path) for g in ("predator", "prey")})


def test_an_episode_runs_to_its_end_and_keeps_its_last_state():
    # SuperSuit's vector env would reset a finished battle inside the last step; the session does not
    session = WatchSession("battle", {"red": "scripted", "blue": "random"}, seed=1, env_kwargs={"map_size": 16, "team_size": 4})
    session.reset()
    while not session.done:
        session.step()
    results = session.results()
    assert results["red_survivors"] == 0 or results["blue_survivors"] == 0 or session.episode_steps == 400
    engine = session.core.engine
    assert int(engine.state.alive[0].sum()) == results["red_survivors"] + results["blue_survivors"]
    with pytest.raises(ValueError, match="after the episode ended"):
        session.step()


def test_restart_plays_the_next_seed_and_max_steps_ends_episodes():
    session = WatchSession("ising", {"all": "random"}, seed=5, env_kwargs={"size": 6}, max_steps=3)
    session.reset()
    first = session.core.spins.copy()
    for _ in range(3):
        session.step()
    assert session.done and session.episode_steps == 3
    session.reset()
    assert session.episodes == 2 and not session.done
    assert not np.array_equal(first, session.core.spins)


def test_ising_and_squeeze_sessions_report_their_measures(tmp_path):
    ising = WatchSession("ising", {"all": "random"}, env_kwargs={"size": 6}, max_steps=4)
    record_episode(ising, tmp_path / "ising.gif", fps=10)
    assert 0.0 <= ising.results()["xi"] <= 1.0
    squeeze = WatchSession("gaussian_squeeze", {"all": "random"}, env_kwargs={"n_agents": 50}, max_steps=2)
    record_episode(squeeze, tmp_path / "squeeze.mp4", fps=10)
    results = squeeze.results()
    assert results["G"] <= results["G_opt"] and count_mp4_frames(tmp_path / "squeeze.mp4") == 3


def test_a_trained_run_is_watched_on_the_map_it_was_trained_on(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "battle", "--rounds", "1", "--opponent", "random", "--out", str(run), "--no-progress", "--no-tensorboard",
            "--env-kwarg", "map_size=14", "--env-kwarg", "team_size=3", "--env-kwarg", "max_cycles=4",
            "--algo-kwarg", "learning_starts=4", "--algo-kwarg", "batch_size=4"]  # fmt: skip
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert cli.main(["watch", "battle", "--red", str(run), "--blue", "scripted", "--record", str(tmp_path / "v.gif")]) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["env_kwargs"]["map_size"] == 14 and summary["env_kwargs"]["team_size"] == 3
    assert summary["steps"] == 4 and summary["frames"] == 5


def test_the_window_path_plays_and_closes_under_the_dummy_driver():
    session = WatchSession("gaussian_squeeze", {"all": "random"}, env_kwargs={"n_agents": 40})
    result = watch_in_window(session, steps_per_second=1000.0, max_frames=5)
    assert result["episodes"] == 1 and result["frames"] >= 1 and not result["quit"]
    assert session.episode_steps >= 1
    assert not pygame.display.get_init()  # the window was closed


def test_policy_specs_defaults_and_conflicts():
    battle, ising = find("battle"), find("ising")
    assert policy_specs(battle) == {"red": "scripted", "blue": "random"}
    assert policy_specs(battle, policy="random") == {"red": "random", "blue": "random"}
    assert policy_specs(ising) == {"all": "random"}
    with pytest.raises(ValueError, match="no teams"):
        policy_specs(ising, red="random")
    with pytest.raises(ValueError, match="not both"):
        policy_specs(battle, red="random", policy="scripted")
    tiger_deer = find("tiger_deer")  # its sides are its groups, tigers first (issue 25)
    assert policy_specs(tiger_deer) == {"tiger": "random", "deer": "random"}
    assert policy_specs(tiger_deer, tiger="runs/td") == {"tiger": "runs/td", "deer": "random"}
    with pytest.raises(ValueError, match=r"tiger_deer's sides are tiger and deer: give --tiger / --deer SPECs \(not --red\)"):
        policy_specs(tiger_deer, red="random")
    with pytest.raises(ValueError, match="or --tiger / --deer SPECs, not both"):
        policy_specs(tiger_deer, deer="random", policy="random")
    with pytest.raises(ValueError, match="battle's sides are red and blue"):
        policy_specs(battle, tiger="random")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["watch", "battle"], "no display"),
        (["watch", "battle", "--record", "x.avi"], ".mp4 or .gif"),
        (["watch", "ising", "--record", "x.gif", "--fps", "0"], "--fps must be > 0"),
        (["watch", "ising", "--record", "x.gif", "--max-steps", "0"], "max_steps must be a positive integer"),
        (["watch", "ising", "--record", "x.gif", "--red", "random"], "no teams"),
        (["watch", "ising", "--record", "x.gif", "--policy", "scripted"], "battle, battlefield only"),
        (["watch", "chess", "--record", "x.gif"], "unknown environment"),
    ],
)
def test_bad_watch_arguments_exit_with_status_2(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
