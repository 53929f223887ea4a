"""Sweeps on Ray: a failing run does not stop the others, reruns skip finished runs and resume unfinished ones,
a run trained on Ray equals the same run trained here; ``mfzoo sweep`` input checks; the arena on Ray."""

from __future__ import annotations

import csv
import json

import pytest

ray = pytest.importorskip("ray", reason='Ray is the "ray" extra (part of "test")')

from mfagents.commands import cli  # noqa: E402
from mfagents.evaluation.arena import run_arena  # noqa: E402
from mfagents.commands.sweep import parse_seeds, parse_value_lists  # noqa: E402
from mfagents.commands.errors import UsageError  # noqa: E402
from mfagents.experiments.sweep import SWEEP_CSV, SWEEP_JSON, RunSpec, grid, is_finished, run_one, run_sweep  # noqa: E402

TINY_SQUEEZE = {"n_agents": 20, "mu": 8.0, "sigma": 4.0, "max_cycles": 20}
"""Gaussian Squeeze in miniature: a round takes milliseconds."""
SMALL_LEARNING = {"learning_starts": 20, "batch_size": 32}
"""So that two rounds take gradient steps (the defaults wait for 2000 transitions)."""


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (starting one takes seconds); the sweep uses it and leaves it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 1024**2)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def metrics_without_times(run_dir) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if not k.startswith("perf/")} for row in csv.DictReader(handle)]


def test_sweep_reports_a_failed_run_skips_finished_ones_and_resumes(tmp_path, local_ray):
    good = grid("gaussian_squeeze", ["mfq"], [0, 1], env_grid={"n_agents": [20]}, rounds=2,
                algo_grid={"learning_starts": [20]})  # fmt: skip
    good = [RunSpec(s.env, s.algo, s.seed, {**TINY_SQUEEZE, **s.env_kwargs}, {**SMALL_LEARNING, **s.algo_kwargs}, rounds=2) for s in good]
    broken = RunSpec("gaussian_squeeze", "mfq", 0, TINY_SQUEEZE, {"learning_rate": -1.0}, rounds=2)
    sweep = [*good, broken]
    out = tmp_path / "sweep"
    run_one(RunSpec(**{**good[1].__dict__, "rounds": 1}), out)  # an unfinished run: 1 of its 2 rounds, with a checkpoint
    assert not is_finished(good[1], out)

    rows = run_sweep(sweep, out, progress=False)
    assert [row["name"] for row in rows] == [spec.name for spec in sweep]
    assert [row["status"] for row in rows] == ["ok", "ok", "failed"]
    assert "learning_rate" in rows[2]["error"] and rows[0]["error"] == ""
    assert all(is_finished(spec, out) for spec in good) and rows[1]["rounds"] == 2
    assert 0.0 <= rows[0]["G_ratio"] <= 1.0  # the final metrics are in the table
    with open(out / SWEEP_CSV, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [row["status"] for row in table] == ["ok", "ok", "failed"] and json.loads(table[0]["env_kwargs"])["n_agents"] == 20
    assert [row["name"] for row in json.loads((out / SWEEP_JSON).read_text())] == [spec.name for spec in sweep]

    # a run trained as a Ray task equals the same run trained in this process
    here = tmp_path / "here"
    run_one(good[0], here)
    assert metrics_without_times(here / good[0].name) == metrics_without_times(out / good[0].name)

    # the same sweep again: finished runs are skipped, untouched; the broken one fails again
    stamp = (out / good[0].name / "metrics.csv").stat().st_mtime_ns
    again = run_sweep(sweep, out, progress=False)
    assert [row["status"] for row in again] == ["skipped", "skipped", "failed"]
    assert (out / good[0].name / "metrics.csv").stat().st_mtime_ns == stamp
    # a larger budget resumes the finished runs to it
    longer = [RunSpec(**{**spec.__dict__, "rounds": 3}) for spec in good]
    assert [row["status"] for row in run_sweep(longer, out, progress=False)] == ["ok", "ok"]
    assert all(row["rounds"] == 3 for row in json.loads((out / SWEEP_JSON).read_text()))


def test_sweep_refuses_a_duplicate_run_and_a_file_as_out(tmp_path):
    spec = RunSpec("gaussian_squeeze", "mfq", 0, TINY_SQUEEZE, rounds=1)
    with pytest.raises(ValueError, match="same run twice"):
        run_sweep([spec, spec], tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        run_sweep([spec], tmp_path / "file")


def test_seed_and_value_lists_parse():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4] and parse_seeds("0,2,5") == [0, 2, 5] and parse_seeds("0-2,7") == [0, 1, 2, 7]
    assert parse_value_lists(["n_agents=500,1000", "dead_agents=absorb,remove", "radius=None,6"], "--env-kwarg") == {
        "n_agents": [500, 1000],
        "dead_agents": ["absorb", "remove"],
        "radius": [None, 6],
    }
    for bad in ("4-2", "-1", "a", "1,1", ""):
        with pytest.raises(UsageError, match="--seeds"):
            parse_seeds(bad)
    for bad in (["n_agents"], ["=3"], ["n_agents="], ["n=1", "n=2"], ["n=1,,2"]):
        with pytest.raises(UsageError, match="--env-kwarg"):
            parse_value_lists(bad, "--env-kwarg")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nowhere", "--algo", "mfq", "--seeds", "0"], "nowhere"),
        (["gaussian_squeeze", "--algo", "mfq,zzz", "--seeds", "0"], "unknown algorithm 'zzz'"),
        (["gaussian_squeeze", "--algo", "mfq", "--seeds", "3-1"], "--seeds"),
        (["gaussian_squeeze", "--algo", "mfq", "--seeds", "0", "--env-kwarg", "size=3,4"], "size"),
        (["gaussian_squeeze", "--algo", "mfq", "--seeds", "0", "--cpus-per-run", "0"], "--cpus-per-run"),
        (["gaussian_squeeze", "--algo", "mfq,", "--seeds", "0"], "--algo"),
    ],
)
def test_sweep_command_checks_every_setting_before_it_starts(tmp_path, capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sweep", *arguments, "--out", str(tmp_path / "s")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_sweep_command_trains_and_prints_the_table(tmp_path, capsys, local_ray):
    kwargs = [f"--env-kwarg={key}={value}" for key, value in TINY_SQUEEZE.items()]
    cli.main(["sweep", "gaussian_squeeze", "--algo", "il", "--seeds", "0-1", *kwargs, "--rounds", "1", "--out", str(tmp_path / "s")])
    printed = capsys.readouterr().out
    assert json.loads(printed.strip().splitlines()[-1]) == {
        "command": "sweep", "env": "gaussian_squeeze", "out": str(tmp_path / "s"), "runs": 2, "ok": 2, "skipped": 0, "failed": 0,
    }  # fmt: skip
    assert "2 trained, 0 already finished, 0 failed" in printed


def test_arena_on_ray_equals_the_local_arena(tmp_path, local_ray):
    settings = {"map_size": 12, "team_size": 4, "max_cycles": 30}
    local = run_arena("battle", [], rounds=2, seed=3, out=tmp_path / "local", env_kwargs=settings)
    remote = run_arena("battle", [], rounds=2, seed=3, out=tmp_path / "ray", env_kwargs=settings, address=local_ray)
    assert remote["address"] == local_ray and local["address"] is None
    pairings = [json.loads((tmp_path / name / "arena.json").read_text())["pairings"] for name in ("local", "ray")]
    assert pairings[0] == pairings[1] and len(pairings[0]) == 2


def test_final_metrics_include_the_last_evaluation_panel(tmp_path):
    from mfagents.experiments.sweep import final_metrics

    (tmp_path / "metrics.csv").write_text(
        "global_step,rounds,agent_steps,charts/win_rate,eval/scripted/win_rate,perf/wall_time_s\n"
        "10,1,80,0.0,0.3,1.0\n20,2,160,1.0,,2.0\n"
    )
    assert final_metrics(tmp_path) == {"win_rate": 1.0, "eval/scripted/win_rate": 0.3}
