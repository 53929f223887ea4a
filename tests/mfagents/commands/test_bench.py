"""``mfzoo bench``: throughput rows for the environments asked for, as a table and a JSON summary."""

from __future__ import annotations

import json

import pytest

from mfagents.commands import bench, cli, shared
from mfenvs import battle_v0, ising_v0, tiger_deer_v0
from tests.mfenvs.magent2.helpers import needs_magent2


def test_bench_times_each_environment_and_battles_batched_core(capsys):
    assert cli.main(["bench", "ising", "battle", "--seconds", "0.05"]) == 0
    output = capsys.readouterr().out
    summary = json.loads(output.strip().splitlines()[-1])
    rows = [(row["env"], row["workload"], row["agents"]) for row in summary["results"]]
    assert rows == [
        ("ising", "PettingZoo parallel API", 400),
        ("battle", "PettingZoo parallel API", 128),
        ("battle", f"batched core, B={bench.BENCH_BATTLES}", 128),
    ]
    for row in summary["results"]:
        assert row["agent_steps_per_s"] > 0 and row["env_steps_per_s"] > 0
        assert row["agent_steps_per_s"] <= row["agents"] * row["env_steps_per_s"] * (1 + 1e-9)  # nobody acts twice
    ising = summary["results"][0]
    assert ising["agent_steps_per_s"] == pytest.approx(400 * ising["env_steps_per_s"])  # nobody leaves an Ising episode
    assert "| ising | PettingZoo parallel API | 400 |" in output


def test_time_steps_counts_what_each_call_reports():
    agent_rate, env_rate = bench.time_steps(lambda: (6, 2), seconds=0.01)
    assert agent_rate == pytest.approx(3 * env_rate) and env_rate > 0


def test_battle_core_stepper_counts_living_agents_and_restarts_finished_battles():
    rows = {"red": (1, 3), "blue": (2, 4)}  # alternating rows of a full 4 x 4 interior: deaths come early
    positions = {team: [(x, y) for y in ys for x in (1, 2, 3, 4)] for team, ys in rows.items()}
    env = battle_v0.parallel_env(map_size=6, positions=positions, max_cycles=20)
    step = bench.battle_core_stepper(env, n_battles=3, seed=0)
    counts = [step() for _ in range(60)]
    assert all(envs == 3 for _, envs in counts)
    acting = [agents for agents, _ in counts]
    assert acting[0] == 3 * 16 and min(acting) < 3 * 16  # somebody died...
    assert acting[20] == 3 * 16  # ...and the battles truncated at step 20 restarted at full strength


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bench", "nope"], "unknown environment 'nope'"),
        (["bench", "ising", "--seconds", "0"], "--seconds must be > 0"),
        (["bench", "ising", "--magent2"], "--magent2 compares MAgent2's games: add one of battle, battlefield"),
    ],
)
def test_bad_bench_arguments_exit_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_only_gridworld_games_have_a_batched_core_to_time():
    assert bench.grid_engine(ising_v0.parallel_env()) is None
    assert type(bench.grid_engine(tiger_deer_v0.parallel_env())).__name__ == "TigerDeerCore"
    with pytest.raises(ValueError, match="no batched gridworld core"):
        bench.battle_core_stepper(ising_v0.parallel_env(), n_battles=2, seed=0)


def test_magent2_comparison_finds_its_script_from_the_installed_package():
    battle_speed = bench.load_speed_script()
    assert {"battle", "combined_arms", "tiger_deer"} <= set(battle_speed.MAGENT2_GAMES)


@needs_magent2
def test_bench_magent2_times_each_magent2_game_asked_for_beside_magent2s_own(capsys):
    assert cli.main(["bench", "ising", "tiger_deer", "--magent2", "--seconds", "0.05"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    side_by_side = [(row["env"], row["workload"], row["agents"]) for row in summary["results"] if "side by side" in row["env"]]
    assert side_by_side == [
        ("tiger_deer_v0 (side by side)", "PettingZoo parallel API, map 45, no minimap", 121),
        ("MAgent2 tiger_deer_v4 (side by side)", "PettingZoo parallel API, map 45, no minimap", 121),
        ("tiger_deer_v0 (side by side)", f"batched core, B={bench.BENCH_BATTLES}, map 45, no minimap", 121),
        ("MAgent2 tiger_deer_v4 (side by side)", "engine group API, 1 game, map 45, no minimap", 121),
    ]
    assert all(row["agent_steps_per_s"] > 0 for row in summary["results"])


def load_battle_speed(monkeypatch):
    """``benchmarks/battle_speed.py`` as a module (the script ``mfzoo bench --magent2`` drives)."""
    import sys
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    script = Path(cli.__file__).resolve().parents[2] / "benchmarks" / "battle_speed.py"
    spec = spec_from_file_location("battle_speed", script)
    module = module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "battle_speed", module)
    spec.loader.exec_module(module)
    return module


def test_magent2_virtualenv_lives_in_the_user_cache_not_the_source_tree(monkeypatch, tmp_path):
    battle_speed = load_battle_speed(monkeypatch)
    assert not battle_speed.DEFAULT_VENV.is_relative_to(battle_speed.REPO_ROOT)
    assert battle_speed.DEFAULT_VENV.parent == battle_speed.user_cache_dir()
    monkeypatch.setattr(battle_speed.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert battle_speed.user_cache_dir() == tmp_path / "mfzoo"
    assert shared.user_cache_dir() == tmp_path / "mfzoo"  # the same folder as the package's own caches


def test_building_the_magent2_virtualenv_is_quiet_and_a_failure_is_one_line(monkeypatch, tmp_path, capsys):
    import subprocess

    battle_speed = load_battle_speed(monkeypatch)
    calls = []

    def fake_run(command, **kwargs):
        calls.append((command, kwargs))
        failed = "pip" in command
        return subprocess.CompletedProcess(command, 1 if failed else 0, "", "lots of pip noise\nERROR: No matching distribution found for magent2\n" if failed else "")

    monkeypatch.setattr(battle_speed.subprocess, "run", fake_run)
    with pytest.raises(RuntimeError, match="No matching distribution found for magent2") as error:
        battle_speed.ensure_magent2(tmp_path / "venv")
    assert len(str(error.value).splitlines()) == 1
    pip = next(command for command, _ in calls if "pip" in command)
    assert "--quiet" in pip and "--disable-pip-version-check" in pip
    assert all(kwargs.get("capture_output") for _, kwargs in calls[1:])  # nothing of pip's reaches the terminal
    assert "noise" not in capsys.readouterr().err


def test_bench_times_combined_arms_through_both_apis(capsys):
    """Each agent draws from its own action set (melee 9, ranged 25): a ranged action for a melee unit would raise."""
    assert cli.main(["bench", "combined_arms", "--seconds", "0.05"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = [(row["env"], row["workload"], row["agents"]) for row in summary["results"]]
    assert rows == [
        ("combined_arms", "PettingZoo parallel API", 162),
        ("combined_arms", f"batched core, B={bench.BENCH_BATTLES}", 162),
    ]
    assert all(row["agent_steps_per_s"] > 0 for row in summary["results"])


def test_bench_times_tiger_deer_through_both_apis(capsys):
    """Deer draw from their 5 actions, tigers from their 9: a tiger's attack for a deer would raise."""
    assert cli.main(["bench", "tiger_deer", "--seconds", "0.05"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = [(row["env"], row["workload"], row["agents"]) for row in summary["results"]]
    assert rows == [
        ("tiger_deer", "PettingZoo parallel API", 121),
        ("tiger_deer", f"batched core, B={bench.BENCH_BATTLES}", 121),
    ]
    assert all(row["agent_steps_per_s"] > 0 for row in summary["results"])


def test_bench_times_gather_through_both_apis(capsys):
    """The omnivores draw from their 33 actions, the food keeps its one (stay): any other would raise."""
    assert cli.main(["bench", "gather", "--seconds", "0.05"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = [(row["env"], row["workload"], row["agents"]) for row in summary["results"]]
    assert rows == [
        ("gather", "PettingZoo parallel API", 495),
        ("gather", f"batched core, B={bench.BENCH_BATTLES}", 495),
    ]
    parallel, batched = summary["results"]
    assert all(row["agent_steps_per_s"] > 0 for row in summary["results"])
    # agent-steps count the omnivores only: at most 495 per game-step
    for row in (parallel, batched):
        assert row["agent_steps_per_s"] <= 495 * row["env_steps_per_s"] * (1 + 1e-9)


def test_bench_times_adversarial_pursuit_through_both_apis(capsys):
    """Predators draw from their 13 actions, prey from their 9: a predator's tag for a prey would raise."""
    assert cli.main(["bench", "adversarial_pursuit", "--seconds", "0.05"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = [(row["env"], row["workload"], row["agents"]) for row in summary["results"]]
    assert rows == [
        ("adversarial_pursuit", "PettingZoo parallel API", 75),
        ("adversarial_pursuit", f"batched core, B={bench.BENCH_BATTLES}", 75),
    ]
    assert all(row["agent_steps_per_s"] > 0 for row in summary["results"])
