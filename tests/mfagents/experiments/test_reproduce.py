"""``mfzoo reproduce``: the experiment registry, the quick runs of Gaussian Squeeze and Battle, rerun skips, errors."""

from __future__ import annotations

import csv
import json
import os

import pytest

from mfagents.commands import cli
from mfagents.experiments.reproduce import default_out, experiment_module, experiments, mean_interval, reproduce, update_report
from mfagents.experiments.reproduce import battle, gaussian_squeeze


def test_the_registry_names_the_papers_three_experiments():
    assert experiments() == ["battle", "gaussian_squeeze", "ising"]
    with pytest.raises(ValueError, match="unknown experiment 'squeeze'.*gaussian_squeeze"):
        experiment_module("squeeze")
    assert str(default_out("ising", quick=False)) == "results/ising"
    assert "quick" in str(default_out("ising", quick=True))


def test_mean_interval_is_students_t():
    mean, low, high = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low == pytest.approx(2.0 - 4.303 / 3**0.5) and high == pytest.approx(2.0 + 4.303 / 3**0.5)
    assert mean_interval([0.5])[0] == 0.5


def test_full_sweeps_cover_the_papers_settings():
    squeeze = gaussian_squeeze.runs(quick=False)
    assert {spec.algo for spec in squeeze} == {"mfq", "mfac", "il", "ac"}
    assert {spec.env_kwargs["n_agents"] for spec in squeeze} == {100, 500, 1000}
    assert {spec.seed for spec in squeeze} == set(range(5)) and len(squeeze) == 4 * 3 * 5
    fight = battle.runs(quick=False)
    assert {spec.algo for spec in fight} == {"mfq", "il", "mfac", "ac"} and {spec.seed for spec in fight} == {0, 1, 2}
    assert all(spec.preset == "paper" for spec in battle.runs(quick=False, preset="paper"))
    for sweep in (squeeze, fight):
        assert len({spec.name for spec in sweep}) == len(sweep)


@pytest.mark.parametrize("experiment", ["gaussian_squeeze", "battle"])
def test_quick_reproduction_writes_tables_plots_and_section(tmp_path, experiment, capsys):
    out = tmp_path / experiment
    cli.main(["reproduce", experiment, "--quick", "--out", str(out)])
    printed = capsys.readouterr().out
    summary = json.loads(printed.strip().splitlines()[-1])
    assert summary["failed"] == [] and summary["runs"] == len(experiment_module(experiment).runs(True))
    section = (out / "section.md").read_text()
    assert section.startswith("## ") and f"mfzoo reproduce {experiment} --quick" in section
    assert "of" in section and "runs finished" in section
    pngs = sorted(path.name for path in out.glob("*.png"))
    assert pngs and all((out / name).stat().st_size > 1000 for name in pngs)
    for table in out.glob("*.csv"):
        with table.open(newline="") as handle:
            assert list(csv.DictReader(handle)), table.name
    # every run finished; running the command again trains nothing and gives the same section
    runs_dir = out / "runs"
    assert len([path for path in runs_dir.iterdir() if path.is_dir()]) == summary["runs"]
    assert (runs_dir / "sweep.csv").exists()
    stamps = {path: path.stat().st_mtime_ns for path in runs_dir.glob("*/checkpoint.safetensors")}
    again = reproduce(experiment, quick=True, out=out, progress=False)
    assert again["failed"] == [] and again["section"] + "\n" == section
    assert stamps == {path: path.stat().st_mtime_ns for path in runs_dir.glob("*/checkpoint.safetensors")}


def test_a_partial_squeeze_reproduction_keeps_the_other_algorithms_rows(tmp_path):
    out = tmp_path / "squeeze"
    reproduce("gaussian_squeeze", quick=True, out=out, progress=False)
    before = (out / "greedy_per_run.csv").read_text().splitlines()
    curves_before = (out / "learning_curves.csv").read_text().splitlines()
    for run in (out / "runs").glob("gaussian_squeeze-mfq-*"):  # the kept rows come from the tables, not the runs
        for path in run.iterdir():
            path.unlink()
        run.rmdir()
    partial = reproduce("gaussian_squeeze", quick=True, out=out, progress=False, algos=["mfac"])
    assert partial["runs"] == 4 and partial["failed"] == []
    assert "Re-run for MF-AC only (`--algos mfac`)" in partial["section"] and "MF-Q, IL, AC are the previous analysis's" in partial["section"]
    after = (out / "greedy_per_run.csv").read_text().splitlines()
    assert [line for line in after if ",mfq," in line] == [line for line in before if ",mfq," in line]
    assert len(after) == len(before) and sum(",mfq," in line and ",finished," in line for line in after) == 4
    curves_after = (out / "learning_curves.csv").read_text().splitlines()
    assert [line for line in curves_after if ",mfq," in line] == [line for line in curves_before if ",mfq," in line]
    with pytest.raises(ValueError, match="--algos: gaussian_squeeze has no algorithm 'ppo'"):
        reproduce("gaussian_squeeze", quick=True, out=out, progress=False, algos=["ppo"], train=False)
    with pytest.raises(ValueError, match="--algos: battle is reproduced as a whole"):
        reproduce("battle", quick=True, out=tmp_path / "b", progress=False, algos=["mfq"], train=False)


def test_analyse_only_lists_runs_that_never_ran(tmp_path):
    result = reproduce("battle", quick=True, out=tmp_path / "b", train=False, progress=False)
    assert "0 of 4 runs finished" in result["section"]
    with open(tmp_path / "b" / "runs.csv", newline="") as handle:
        assert {row["status"] for row in csv.DictReader(handle)} == {"not run"}


def test_bad_input_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", "squeeze"])
    assert exit_info.value.code == 2 and "unknown experiment 'squeeze'" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "battle", "--quick", "--out", str(tmp_path / "file")])
    assert "is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "battle", "--quick", "--cpus-per-run", "0"])
    assert "--cpus-per-run" in capsys.readouterr().err


def test_report_sections_are_replaced_in_the_papers_order(tmp_path):
    report = tmp_path / "REPRODUCTION.md"
    report.write_text("# Reproducing the paper\n\nIntro.\n\n## Ising\n\nold ising\n")
    update_report(report, "## Battle\n\nbattle v1")
    update_report(report, "## Gaussian Squeeze\n\nsqueeze")
    update_report(report, "## Ising\n\nnew ising\n")
    text = report.read_text()
    assert text == "# Reproducing the paper\n\nIntro.\n\n## Gaussian Squeeze\n\nsqueeze\n\n## Ising\n\nnew ising\n\n## Battle\n\nbattle v1\n"
    update_report(report, "## Battle\n\nbattle v2")
    assert report.read_text().endswith("## Battle\n\nbattle v2\n") and "battle v1" not in report.read_text()


def test_quick_runs_never_touch_the_report(tmp_path):
    report = tmp_path / "REPRODUCTION.md"
    reproduce("battle", quick=True, out=tmp_path / "b", train=False, progress=False, report=report)
    assert not report.exists()


def test_battle_reuses_its_cross_play_only_while_it_is_the_same_one(tmp_path):
    runs = [tmp_path / "runs" / name for name in ("battle-mfq-s0", "battle-il-s0")]
    for run in runs:
        run.mkdir(parents=True)
        (run / "checkpoint.safetensors").write_bytes(b"weights")
    arena_dir = tmp_path / "arena"
    arena_dir.mkdir()
    entrants = [str(run) for run in runs]
    report = arena_dir / "arena.json"
    played = {"entrants": [*entrants, "random", "scripted"], "rounds_per_side": 10, "seed": 0, "matchups": [{"games": 20}]}
    report.write_text(json.dumps(played))
    assert battle._earlier_cross_play(arena_dir, entrants, 10, builtins=True) == [{"games": 20}]
    assert battle._earlier_cross_play(arena_dir, entrants, 5, builtins=True) is None  # other rounds
    assert battle._earlier_cross_play(arena_dir, entrants, 10, builtins=False) is None  # other entrants
    assert battle._earlier_cross_play(arena_dir, entrants[:1], 10, builtins=True) is None
    later = report.stat().st_mtime + 10
    os.utime(runs[1] / "checkpoint.safetensors", (later, later))  # a run retrained after the games
    assert battle._earlier_cross_play(arena_dir, entrants, 10, builtins=True) is None


def test_battle_strength_curve_reads_the_panel_columns_and_skips_runs_without_them(tmp_path):
    def run(name: str, rows: list[dict[str, str]]):
        folder = tmp_path / name
        folder.mkdir()
        with open(folder / "metrics.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return folder

    def panel(rounds: int, rate: str, low: str, high: str, kills: str) -> dict[str, str]:
        return {"rounds": str(rounds), "charts/kills": "1.0", "eval/scripted/win_rate": rate, "eval/scripted/win_low": low,
                "eval/scripted/win_high": high, "eval/scripted/kills": kills}  # fmt: skip

    a = run("a", [panel(1, "", "", "", ""), panel(2, "0.2", "0.06", "0.51", "40"), panel(3, "0.5", "0.24", "0.76", "50")])
    b = run("b", [panel(1, "", "", "", ""), panel(2, "0.4", "0.17", "0.69", "44")])
    old = run("old", [{"rounds": "1", "charts/kills": "2.0"}, {"rounds": "2", "charts/kills": "3.0"}])  # trained before the panel
    assert battle.strength_curve([old]) == {}
    curve = battle.strength_curve([a, b, old])
    assert sorted(curve) == [2, 3]
    _, low, high = mean_interval([0.2, 0.4])
    assert curve[2]["scripted_seeds"] == 2 and curve[2]["scripted_win_rate_mean"] == pytest.approx(0.3)
    assert (curve[2]["scripted_win_rate_low"], curve[2]["scripted_win_rate_high"]) == pytest.approx((max(low, 0.0), min(high, 1.0)))
    assert curve[2]["scripted_kills_mean"] == pytest.approx(42.0)
    assert curve[3] == pytest.approx({"scripted_seeds": 1, "scripted_win_rate_mean": 0.5, "scripted_win_rate_low": 0.24,
                                      "scripted_win_rate_high": 0.76, "scripted_kills_mean": 50.0})  # one run: its Wilson interval  # fmt: skip
    rows = [{"algo": "mfq", "round": r, "seeds": 2, "total_reward_mean": 0.0, **curve.get(r, {})} for r in (1, 2, 3)]
    rows += [{"algo": "ac", "round": r, "seeds": 1, "total_reward_mean": 0.0} for r in (1, 2)]  # no strength columns
    battle._plot_curves(rows, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000
