"""Smoke runs of the ``mfzoo`` command line with tiny budgets."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pytest

from mfagents import cli, demo

REPO_ROOT = Path(__file__).resolve().parents[1]


def last_json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_demo_quick_subprocess_writes_gif_and_png(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "mfagents.cli", "demo", "--env", "ising", "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert summary["command"] == "demo" and summary["env"] == "mfenvs/ising-v0"
    assert summary["steps"] == demo.QUICK_STEPS and summary["frames"] == demo.QUICK_STEPS + 1
    assert 0.0 <= summary["xi"] <= 1.0
    gif, png = Path(summary["video"]), Path(summary["frame"])
    assert gif == tmp_path / "ising.gif" and png == tmp_path / "ising.png"
    frames = iio.imread(gif, index=None)
    assert frames.shape[:3] == (demo.QUICK_STEPS + 1, 640, 640)
    assert iio.imread(png).shape == (640, 640, 3)
    np.testing.assert_array_equal(iio.imread(png)[..., :3], frames[-1][..., :3])


def test_demo_gaussian_squeeze_mp4_in_process(tmp_path, capsys):
    assert cli.main(["demo", "--env", "gaussian_squeeze_v0", "--steps", "3", "--seed", "4", "--video", "mp4", "--quick", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    summary = last_json_line(output)
    assert summary["env"] == "mfenvs/gaussian_squeeze-v0" and summary["steps"] == 3 and summary["seed"] == 4
    assert summary["G"] <= summary["G_opt"] and isinstance(summary["x"], int)
    assert "wrote" in output
    with iio2.get_reader(summary["video"], format="FFMPEG") as reader:
        assert sum(1 for _ in reader.iter_data()) == 4


def test_demo_is_reproducible_for_a_seed(tmp_path, capsys):
    summaries = []
    for run in ("a", "b"):
        cli.main(["demo", "--env", "ising", "--quick", "--seed", "7", "--out", str(tmp_path / run)])
        summaries.append(last_json_line(capsys.readouterr().out))
    assert summaries[0]["xi"] == summaries[1]["xi"] and summaries[0]["energy"] == summaries[1]["energy"]
    np.testing.assert_array_equal(iio.imread(tmp_path / "a" / "ising.png"), iio.imread(tmp_path / "b" / "ising.png"))


def test_demo_quick_trains_evaluates_records_and_plots_end_to_end(tmp_path):
    # the README's first command at toy size (CI runs it): a fresh process, headless, no display
    env = {key: value for key, value in os.environ.items() if key not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "mfagents.cli", "demo", "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert summary["command"] == "demo" and summary["env"] == "mfenvs/battle-v0" and summary["quick"]
    assert summary["training"]["rounds"] == demo.BATTLE_DEMOS["quick"].rounds
    for opponent in demo.OPPONENTS:
        rates = summary["evaluation"][opponent]
        assert rates["red_win_rate"] + rates["draw_rate"] + rates["blue_win_rate"] == pytest.approx(1.0)
    # the guard of the demo's claim: its team learnt to fight (random play against random makes 0.05 kills a
    # round here; seeds 0 and 1 of this run made 3.4 and 2.3 and won 20 and 18 of 20 rounds)
    against_random = summary["evaluation"]["random"]
    assert against_random["red_mean_kills"] >= 1.0 and against_random["red_win_rate"] >= 0.6, against_random
    assert summary["verdict"].startswith("the trained team beats random in ")
    assert f"verdict: {summary['verdict']}" in result.stdout
    video, curve, run = Path(summary["video"]), Path(summary["learning_curve"]), Path(summary["run"])
    assert video == tmp_path / "battle.gif" and curve == tmp_path / "learning_curve.png"
    assert len(iio.imread(video, index=None)) == summary["frames"] >= 2
    assert iio.imread(curve).ndim == 3
    assert {"checkpoint.safetensors", "metrics.csv", "config.json"} <= {path.name for path in run.iterdir()}
    assert "rounds" in result.stderr  # the progress bar
    assert "| opponent | win | draw | loss |" in result.stdout  # the results table
    lines = result.stdout.strip().splitlines()
    assert any(str(video) in line and str(curve) in line for line in lines[-3:])  # files named at the end
    for name in ("watch", "train", "arena"):
        assert f"mfzoo {name} battle" in result.stdout


def test_the_demo_prints_commands_the_parser_accepts(tmp_path):
    commands = demo.next_commands(tmp_path / "mfq", demo.BATTLE_DEMOS["full"], seed=3)
    parser = cli.build_parser()
    for name, command in commands.items():
        words = shlex.split(command)
        assert words[:2] == ["mfzoo", name]
        assert parser.parse_args(words[1:]).command == name
    train = parser.parse_args(shlex.split(commands["train"])[1:])
    assert train.resume and train.seed == 3 and train.opponent == demo.TRAINING_OPPONENT
    assert train.rounds > demo.BATTLE_DEMOS["full"].rounds and "map_size=16" in train.env_kwarg


def test_heat_bath_policy_orders_the_lattice():
    # below the critical temperature the built-in demo policy grows domains from a random start:
    # the energy per site falls from about 0 towards -2 (striped domains may keep xi low, so test E)
    from mfenvs import ising_v0

    env = ising_v0.parallel_env(size=16, max_cycles=100)
    observations, infos = env.reset(seed=0)
    start = infos["spin_0_0"]["energy"]
    policy = demo.heat_bath_policy(env, np.random.default_rng(0))
    while env.agents:
        agents = env.agents
        actions = policy(np.stack([observations[agent] for agent in agents]))
        observations, _, _, _, infos = env.step(dict(zip(agents, actions.tolist())))
    assert start > -0.5 and infos["spin_0_0"]["energy"] < -1.3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--env", "chess"], "unknown environment"),
        (["demo", "--env", "ising", "--steps", "0"], "--steps must be >= 1"),
        (["demo", "--steps", "5"], "the battle demo trains"),
        (["demo", "--video", "avi"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_with_status_2_and_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_every_command_has_a_parser_entry():
    parser = cli.build_parser()
    subparsers = next(action for action in parser._actions if action.dest == "command")
    assert set(subparsers.choices) == set(cli.COMMANDS)


# == train / eval ===================================================================================
TINY_SQUEEZE = ["--env-kwarg", "n_agents=12", "--env-kwarg", "max_cycles=5"]
TINY_BATTLE = ["--env-kwarg", "map_size=16", "--env-kwarg", "team_size=4", "--env-kwarg", "max_cycles=10"]
TINY_LEARNER = ["--algo-kwarg", "learning_starts=16", "--algo-kwarg", "batch_size=16", "--algo-kwarg", "replay_ratio=1.0"]


def run_cli(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mfagents.cli", *argv], capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout
    )


def test_train_subprocess_prints_json_last_and_fills_the_run_directory(tmp_path):
    result = run_cli("train", "gaussian_squeeze", "--rounds", "3", "--seed", "4", "--out", str(tmp_path), *TINY_SQUEEZE, *TINY_LEARNER)
    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert summary["command"] == "train" and summary["env"] == "mfenvs/gaussian_squeeze-v0" and summary["algo"] == "mfq"
    assert summary["rounds"] == 3 and summary["seed"] == 4 and summary["agent_steps"] == 3 * 5 * 12
    assert "budget: 3 rounds" in result.stdout
    assert {"config.json", "metrics.csv", "checkpoint.safetensors", "tb"} <= {p.name for p in tmp_path.iterdir()}
    assert "rounds" in result.stderr  # the progress bar


def test_train_battle_in_process_with_an_opponent_then_eval_it(tmp_path, capsys):
    assert cli.main(["train", "battle", "--rounds", "1", "--opponent", "scripted", "--out", str(tmp_path), "--no-progress", *TINY_BATTLE, *TINY_LEARNER]) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["opponent"] == "scripted" and summary["rounds"] == 1 and 0.0 <= summary["win_rate"] <= 1.0
    assert cli.main(["eval", "battle", "--red", str(tmp_path), "--blue", "random", "--rounds", "3", "--seed", "1", *TINY_BATTLE]) == 0
    result = last_json_line(capsys.readouterr().out)
    assert result["command"] == "eval" and result["rounds"] == 3 and result["red"] == str(tmp_path)
    assert result["red_win_rate"] + result["blue_win_rate"] + result["draw_rate"] == pytest.approx(1.0)
    assert result["red_wins"] + result["blue_wins"] + result["draws"] == 3
    assert result["red_win_rate"] == result["red_wins"] / 3
    for key in ("red_win_rate", "blue_win_rate", "draw_rate"):
        low, high = result[f"{key}_ci95"]
        assert 0.0 <= low <= result[key] <= high <= 1.0
    assert {"red_mean_kills", "blue_mean_kills", "red_mean_total_reward", "blue_mean_total_reward"} <= result.keys()


def test_eval_squeeze_and_ising_report_their_measures(capsys):
    assert cli.main(["eval", "gaussian_squeeze", "--policy", "random", "--rounds", "2", "--env-kwarg", "n_agents=100"]) == 0
    squeeze = last_json_line(capsys.readouterr().out)
    assert squeeze["G_ratio"] == pytest.approx(squeeze["G"] / squeeze["G_opt"]) and squeeze["G_ratio"] > 0.9
    assert cli.main(["eval", "ising", "--policy", "random", "--rounds", "1", "--env-kwarg", "size=8"]) == 0
    ising = last_json_line(capsys.readouterr().out)
    assert 0.0 <= ising["xi_late"] < 0.5  # random spins do not order


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "chess"], "unknown environment"),
        (["train", "ising", "--steps", "3", "--rounds", "3"], "not allowed with argument"),
        (["train", "ising", "--opponent", "random"], "has no teams"),
        (["train", "ising", "--algo", "dqn"], "unknown algorithm 'dqn'"),
        (["train", "ising", "--env-kwarg", "size"], "expects KEY=VALUE"),
        (["train", "battle", "--env-kwarg", "dead_agents=remove"], "fixed agent set"),
        (["eval", "battle", "--policy", "random"], "give both --red SPEC and --blue SPEC"),
        (["eval", "ising", "--red", "random", "--blue", "random"], "give --policy SPEC"),
        (["eval", "ising", "--policy", "nobody"], "unknown policy SPEC"),
    ],
)
def test_bad_train_and_eval_arguments_exit_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_resume_without_a_checkpoint_names_the_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "ising", "--resume", "--out", str(tmp_path), "--no-progress"])
    assert exit_info.value.code == 2
    assert str(tmp_path / "checkpoint.safetensors") in capsys.readouterr().err


def test_train_resumes_after_sigkill(tmp_path):
    import signal
    import time

    from mfagents.checkpoint import load_checkpoint

    argv = [
        "train", "gaussian_squeeze", "--rounds", "400", "--seed", "3", "--out", str(tmp_path), "--checkpoint-every", "5",
        "--log-every", "5", "--no-progress", "--no-tensorboard", "--env-kwarg", "n_agents=16", "--env-kwarg", "max_cycles=4",
        *TINY_LEARNER,
    ]  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "mfagents.cli", *argv], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "checkpoint.safetensors"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    _, metadata = load_checkpoint(checkpoint)
    killed_at = metadata["counters"]["rounds"]
    assert 5 <= killed_at < 400

    result = run_cli(*argv, "--resume")
    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert summary["resumed"] and summary["rounds"] == 400 and summary["global_step"] == 1600
    with open(tmp_path / "metrics.csv") as file:
        rounds = [int(line.split(",")[1]) for line in file.read().splitlines()[1:]]
    assert rounds == list(range(5, 401, 5))  # no row lost or repeated across the kill


def test_a_second_demo_goes_to_a_fresh_numbered_folder(tmp_path):
    first = tmp_path / "demo"
    assert demo.fresh_folder(first) == first
    (first / demo.ALGO).mkdir(parents=True)
    assert demo.fresh_folder(first) == tmp_path / "demo-2"
    (tmp_path / "demo-2").mkdir()
    assert demo.fresh_folder(first) == tmp_path / "demo-3"


def test_the_verdict_says_what_the_evaluation_measured():
    won = {"red_wins": 38, "draws": 2, "blue_wins": 0, "red_mean_kills": 7.9, "blue_mean_kills": 0.0}
    lost = {"red_wins": 0, "draws": 0, "blue_wins": 40, "red_mean_kills": 3.7, "blue_mean_kills": 8.0}
    assert demo.team_verdict({"random": won, "scripted": lost}) == (
        "the trained team beats random in 38 of 40 rounds (7.9 kills a round against 0.0); "
        "loses to scripted in 40 of 40 rounds (3.7 kills a round against 8.0)"
    )
    idle = {"red_wins": 0, "draws": 40, "blue_wins": 0, "red_mean_kills": 0.0, "blue_mean_kills": 0.0}
    assert "made no kill at all" in demo.team_verdict({"random": idle})
