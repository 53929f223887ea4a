"""Smoke runs of the ``mfzoo`` command line with tiny budgets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pytest

from mfagents import cli

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
    assert summary["steps"] == cli.QUICK_STEPS and summary["frames"] == cli.QUICK_STEPS + 1
    assert 0.0 <= summary["xi"] <= 1.0
    gif, png = Path(summary["video"]), Path(summary["frame"])
    assert gif == tmp_path / "ising.gif" and png == tmp_path / "ising.png"
    frames = iio.imread(gif, index=None)
    assert frames.shape[:3] == (cli.QUICK_STEPS + 1, 640, 640)
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


def test_demo_battle_quick_reports_the_winner_and_kills(tmp_path, capsys):
    assert cli.main(["demo", "--env", "battle", "--quick", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    summary = last_json_line(output)
    assert summary["env"] == "mfenvs/battle-v0" and summary["env_kwargs"]["map_size"] == 16
    assert 1 <= summary["steps"] <= cli.QUICK_STEPS and summary["frames"] == summary["steps"] + 1
    assert summary["winner"] in ("red", "blue", "draw")
    for key in ("red_kills", "blue_kills", "red_survivors", "blue_survivors"):
        assert isinstance(summary[key], int) and summary[key] >= 0
    assert summary["red_survivors"] + summary["blue_kills"] == 4 == summary["blue_survivors"] + summary["red_kills"]
    verdict = next(line for line in output.splitlines() if line.startswith("result: "))
    assert f"kills red {summary['red_kills']} : blue {summary['blue_kills']}" in verdict
    assert ("draw" in verdict) if summary["winner"] == "draw" else (f"{summary['winner']} wins" in verdict)
    frames = iio.imread(summary["video"], index=None)
    assert frames.shape[:3] == (summary["frames"], 640, 640)
    assert Path(summary["frame"]) == tmp_path / "battle.png"


def test_default_demo_is_the_battle_and_the_scripted_side_wins(tmp_path, capsys):
    # the full default demo: scripted red against uniform random blue on a 24 x 24 map, 16 v 16
    assert cli.main(["demo", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    summary = last_json_line(output)
    assert summary["env"] == "mfenvs/battle-v0" and cli.DEFAULT_DEMO == "battle"
    assert summary["winner"] == "red" and summary["red_kills"] > summary["blue_kills"]
    assert "result: red wins" in output


def test_heat_bath_policy_orders_the_lattice():
    # below the critical temperature the built-in demo policy grows domains from a random start:
    # the energy per site falls from about 0 towards -2 (striped domains may keep xi low, so test E)
    from mfenvs import ising_v0

    env = ising_v0.parallel_env(size=16, max_cycles=100)
    observations, infos = env.reset(seed=0)
    start = infos["spin_0_0"]["energy"]
    policy = cli.heat_bath_policy(env, np.random.default_rng(0))
    while env.agents:
        agents = env.agents
        actions = policy(np.stack([observations[agent] for agent in agents]))
        observations, _, _, _, infos = env.step(dict(zip(agents, actions.tolist())))
    assert start > -0.5 and infos["spin_0_0"]["energy"] < -1.3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--env", "chess"], "unknown environment"),
        (["demo", "--steps", "0"], "--steps must be >= 1"),
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
