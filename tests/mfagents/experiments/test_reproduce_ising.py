"""The Ising reproduction: quick runs + analysis write the CSVs, plots and section; the physics holds on a quick budget."""

from __future__ import annotations

import csv
import math

import pytest

from mfagents.experiments.reproduce import ising
from mfagents.experiments.sweep import run_one


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("ising")
    runs_dir, results_dir = root / "runs", root / "results"
    for spec in ising.runs(quick=True):
        run_one(spec, runs_dir)
    section = ising.analyse(runs_dir, results_dir, quick=True)
    return runs_dir, results_dir, section


def test_runs_cover_the_axis_and_seeds():
    full = ising.runs(quick=False)
    temperatures = sorted({2 * spec.algo_kwargs["temperature_end"] for spec in full})
    assert len(temperatures) >= 12 and temperatures[0] <= 0.55 * ising.T_C and temperatures[-1] >= 1.6 * ising.T_C
    assert {spec.seed for spec in full} == {0, 1, 2} and len(full) == 3 * len(temperatures)
    assert all(spec.env == "ising" and spec.algo == "tabular_mfq" and spec.env_kwargs["size"] == 20 for spec in full)
    assert len({spec.name for spec in full}) == len(full)
    assert {spec.seed for spec in ising.runs(quick=True)} == {0}
    assert all(spec.rounds > full[0].rounds for spec in ising.runs(quick=False, preset="paper"))
    with pytest.raises(ValueError, match="preset must be"):
        ising.runs(quick=False, preset="huge")


def test_quick_analysis_writes_files_and_section(quick_results):
    _, results_dir, section = quick_results
    for name in ("phase_diagram.csv", "runs.csv", "paper_points.csv", "phase_diagram.png", "snapshots.png"):
        assert (results_dir / name).stat().st_size > 0, name
    with open(results_dir / "phase_diagram.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["T"]) for row in rows] == list(ising.QUICK_TEMPERATURES)
    assert section.startswith("## Ising") and "T = 2 tau" in section and "Mean |xi_MFQ - xi_MCMC|" in section
    assert section.count("| 1.4 |") == 1 and ("pass" in section or "miss" in section)


def test_mfq_orders_below_and_disorders_above_the_critical_temperature(quick_results):
    """Tabular MF-Q with asynchronous revision keeps the all-up order at T = 1.4 and loses it at T = 3.6, like Metropolis."""
    _, results_dir, _ = quick_results
    with open(results_dir / "phase_diagram.csv") as handle:
        rows = {float(row["T"]): row for row in csv.DictReader(handle)}
    cold, hot = rows[1.4], rows[3.6]
    assert float(cold["xi_mfq_mean"]) > 0.9 and float(cold["xi_mcmc_mean"]) > 0.9
    assert float(hot["xi_mfq_mean"]) < 0.35 and float(hot["xi_mcmc_mean"]) < 0.35


def test_onsager_and_crossing():
    assert ising.onsager(2.0) == pytest.approx(0.911, abs=1e-3) and ising.onsager(3.0) == 0.0
    assert ising.crossing_temperature([1.0, 2.0, 3.0], [0.9, 0.7, 0.3]) == pytest.approx(2.5)
    assert math.isnan(ising.crossing_temperature([1.0, 2.0], [0.9, 0.8]))


def test_analyse_names_missing_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match="runs missing"):
        ising.analyse(tmp_path / "nothing", tmp_path / "out", quick=True)
