"""Reproduce the paper's experiments with one command each: ``mfzoo reproduce EXPERIMENT``.

Every module of this package that defines ``runs`` and ``analyse`` is an experiment, named after the module:

* ``runs(quick: bool, preset: str | None = None) -> list[RunSpec]``: the training runs, most informative first;
* ``analyse(runs_dir: Path, results_dir: Path, quick: bool, address: str | None = None) -> str``: reads the run
  directories (runs that did not run or did not finish are listed as such), writes CSV tables and PNG plots under
  ``results_dir`` and returns a Markdown section for REPRODUCTION.md. ``address`` is the Ray cluster the runs
  trained on: an analysis that plays many games (Battle's cross-play) plays them there, else in one local
  process per core; light analyses ignore it.

``reproduce`` trains the runs through the sweep (finished runs are skipped, unfinished ones resumed), then
analyses them. Full results go to ``results/<experiment>/`` (run directories under its ``runs/``, which git
ignores); ``--quick`` results go to ``runs/reproduce/<experiment>-quick/`` so that they never overwrite the
committed full results.

Example:
    >>> "gaussian_squeeze" in experiments() and "battle" in experiments()
    True
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import pkgutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from mfagents.experiments.sweep import RunSpec, is_finished, run_one, run_sweep

T_95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131)
"""Two-sided 95 % quantiles of Student's t with 1..15 degrees of freedom."""


def experiments() -> list[str]:
    """Names of the experiments ``reproduce`` knows (the modules of this package with ``runs`` and ``analyse``)."""
    names = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "runs", None)) and callable(getattr(module, "analyse", None)):
            names.append(info.name)
    return sorted(names)


def experiment_module(name: str) -> ModuleType:
    """The module of experiment ``name``; a ValueError naming the known ones if there is none."""
    known = experiments()
    if name not in known:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(known)}")
    return importlib.import_module(f"{__name__}.{name}")


def default_out(experiment: str, quick: bool) -> Path:
    """Where ``reproduce`` writes by default: ``results/EXPERIMENT`` (full), ``runs/reproduce/EXPERIMENT-quick`` (quick)."""
    return Path("runs", "reproduce", f"{experiment}-quick") if quick else Path("results", experiment)


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95 % interval of the mean over ``values`` (seeds); one value gives a NaN interval."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = T_95[n - 2] if n - 2 < len(T_95) else 1.96 + 2.4 / (n - 1)
    half = t * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def execute(
    runs: Sequence[RunSpec], runs_dir: Path, *, address: str | None = None, cpus_per_run: float = 1.0, progress: bool = True
) -> list[dict[str, Any]]:
    """Train every run into ``runs_dir`` with ``mfagents.experiments.sweep.run_sweep`` (Ray), one row per run.

    Without Ray installed, the runs are trained one after the other in this process (``address`` is then
    refused), with the same skip / resume rules. A failed run is reported and does not stop the others.
    """
    if importlib.util.find_spec("ray") is not None:
        return run_sweep(list(runs), runs_dir, address=address, cpus_per_run=cpus_per_run, progress=progress)
    if address is not None:
        raise ValueError('--address needs Ray: pip install -e ".[ray]"')
    rows = []
    for index, spec in enumerate(runs):
        start = time.perf_counter()
        if is_finished(spec, runs_dir):
            row = {"name": spec.name, "status": "skipped"}
        else:
            try:
                summary = run_one(spec, runs_dir)
                row = {"name": spec.name, "status": "ok", **summary}
            except Exception as error:  # noqa: BLE001 - one failed run must not stop the sweep
                row = {"name": spec.name, "status": "failed", "error": f"{type(error).__name__}: {error}"}
        if progress:
            print(f"[{index + 1}/{len(runs)}] {spec.name}: {row['status']} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
        rows.append(row)
    return rows


REPORT_ORDER = ("## Gaussian Squeeze", "## Ising", "## Battle")
"""Section headings of REPRODUCTION.md in the paper's order (its Sections 5.1, 5.2, 5.3)."""


def update_report(report: Path, section: str) -> None:
    """Put ``section`` into the Markdown file ``report``: it replaces the section with the same heading, else
    it is inserted where ``REPORT_ORDER`` places it (the file's preamble, before the first section, stays)."""
    heading = section.splitlines()[0].strip()
    text = report.read_text() if report.exists() else "# Reproducing the paper\n"
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")] + [len(lines)]
    preamble = lines[: starts[0]]
    sections = {lines[a].strip(): "\n".join(lines[a:b]).rstrip() for a, b in zip(starts, starts[1:])}
    sections[heading] = section.rstrip()
    rank = {name: index for index, name in enumerate(REPORT_ORDER)}
    ordered = sorted(sections, key=lambda name: rank.get(name, len(rank)))
    body = "\n\n".join(sections[name] for name in ordered)
    report.write_text("\n".join(preamble).rstrip() + "\n\n" + body + "\n")


def reproduce(
    experiment: str,
    *,
    quick: bool = False,
    preset: str | None = None,
    address: str | None = None,
    out: str | Path | None = None,
    cpus_per_run: float = 1.0,
    train: bool = True,
    progress: bool = True,
    report: str | Path | None = None,
    algos: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run experiment ``experiment`` (train its runs, analyse them) and return its summary.

    Args:
        experiment: a name of ``experiments()`` (``gaussian_squeeze``, ``battle``, ...).
        quick: tiny settings that exercise everything in about a minute (learns little).
        preset: the table of training defaults (``paper``: the paper's Battle budget).
        address: the Ray cluster to run on (None: a local Ray on this machine).
        out: output folder (default ``default_out``): run directories under ``OUT/runs``, tables and plots in ``OUT``.
        cpus_per_run: CPUs Ray reserves per run (the number of CPUs divided by it is how many run at once).
        train: False analyses what ``OUT/runs`` holds without training.
        progress: print one line per finished run on stderr.
        report: a Markdown file (e.g. ``REPRODUCTION.md``) whose section of this experiment is replaced by the
            new one (None: no report is written; quick sections never go there).
        algos: train and analyse only these algorithms' runs, keeping the other algorithms' rows of the previous
            analysis in ``out`` (after one algorithm's defaults changed); experiments whose ``analyse`` takes
            ``algos`` only (``gaussian_squeeze``). None: every run.

    Returns:
        ``{"experiment", "out", "runs", "failed", "section"}``: ``section`` is the Markdown the analysis wrote
        (also saved as ``OUT/section.md``), ``failed`` the names of runs that failed.
    """
    module = experiment_module(experiment)
    out = Path(out) if out is not None else default_out(experiment, quick)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    runs_dir = out / "runs"
    runs = module.runs(quick, preset)
    partial: dict[str, Any] = {}
    if algos is not None:
        if "algos" not in inspect.signature(module.analyse).parameters:
            raise ValueError(f"--algos: {experiment} is reproduced as a whole (partial runs: gaussian_squeeze)")
        unknown = sorted(set(algos) - {spec.algo for spec in runs})
        if unknown or not algos:
            raise ValueError(f"--algos: {experiment} has no algorithm {unknown[0] if unknown else '(none given)'!r}; its algorithms: "
                             f"{', '.join(dict.fromkeys(spec.algo for spec in runs))}")  # fmt: skip
        runs = [spec for spec in runs if spec.algo in algos]
        partial = {"algos": list(algos)}
    rows = execute(runs, runs_dir, address=address, cpus_per_run=cpus_per_run, progress=progress) if train else []
    failed = [row["name"] for row in rows if row.get("status") not in (None, "ok", "finished", "skipped")]
    section = module.analyse(runs_dir, out, quick, address=address, **partial)
    (out / "section.md").write_text(section + "\n")
    if report is not None and not quick:
        update_report(Path(report), section)
    return {"experiment": experiment, "out": str(out), "runs": len(runs), "failed": failed, "section": section}
