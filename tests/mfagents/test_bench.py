"""``mfzoo bench``: throughput rows for the environments asked for, as a table and a JSON summary."""

from __future__ import annotations

import json

import pytest

from mfagents import cli
from mfenvs import battle_v0


def test_bench_times_each_environment_and_battles_batched_core(capsys):
    assert cli.main(["bench", "ising", "battle", "--seconds", "0.05"]) == 0
    output = capsys.readouterr().out
    summary = json.loads(output.strip().splitlines()[-1])
    rows = [(row["env"], row["workload"], row["agents"]) for row in summary["results"]]
    assert rows == [
        ("ising", "PettingZoo parallel API", 400),
        ("battle", "PettingZoo parallel API", 128),
        ("battle", f"batched core, B={cli.BENCH_BATTLES}", 128),
    ]
    for row in summary["results"]:
        assert row["agent_steps_per_s"] > 0 and row["env_steps_per_s"] > 0
        assert row["agent_steps_per_s"] <= row["agents"] * row["env_steps_per_s"] * (1 + 1e-9)  # nobody acts twice
    ising = summary["results"][0]
    assert ising["agent_steps_per_s"] == pytest.approx(400 * ising["env_steps_per_s"])  # nobody leaves an Ising episode
    assert "| ising | PettingZoo parallel API | 400 |" in output


def test_time_steps_counts_what_each_call_reports():
    agent_rate, env_rate = cli.time_steps(lambda: (6, 2), seconds=0.01)
    assert agent_rate == pytest.approx(3 * env_rate) and env_rate > 0


def test_battle_core_stepper_counts_living_agents_and_restarts_finished_battles():
    rows = {"red": (1, 3), "blue": (2, 4)}  # alternating rows of a full 4 x 4 interior: deaths come early
    positions = {team: [(x, y) for y in ys for x in (1, 2, 3, 4)] for team, ys in rows.items()}
    env = battle_v0.parallel_env(map_size=6, positions=positions, max_cycles=20)
    step = cli.battle_core_stepper(env.unwrapped.core.config, n_battles=3, seed=0)
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
        (["bench", "ising", "--magent2"], "--magent2 compares Battle"),
    ],
)
def test_bad_bench_arguments_exit_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
