"""Many training runs, one per combination of settings: what a sweep runs and how one run is carried out.

A sweep is a list of ``RunSpec``; each run trains into its own run directory under the sweep's folder,
named from its settings, so that running the same sweep again finds finished runs (skipped) and unfinished
ones (resumed from their checkpoints). ``run_sweep`` runs them as Ray tasks (``mfagents.common.cluster``) and
writes one table of every run's final metrics (``sweep.csv``, ``sweep.json``).
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mfagents.common.checkpoint import CHECKPOINT_NAME

SWEEP_CSV = "sweep.csv"
SWEEP_JSON = "sweep.json"
TABLE_COLUMNS = ("name", "env", "algo", "seed", "status", "error", "rounds", "seconds")
"""The leading columns of ``sweep.csv``; the final metrics of the runs follow, sorted by name."""


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run of a sweep: ``mfagents.api.train``'s settings, minus where it writes."""

    env: str
    algo: str
    seed: int
    env_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    algo_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    rounds: int | None = None
    preset: str | None = None
    opponent: str | None = None

    @property
    def name(self) -> str:
        """The run directory's name: every setting that tells this run from the others of its sweep."""
        parts = [self.env, self.algo]
        parts += [f"{key}={_label(value)}" for key, value in sorted(self.env_kwargs.items())]
        parts += [f"{key}={_label(value)}" for key, value in sorted(self.algo_kwargs.items())]
        if self.opponent is not None:
            parts.append(f"vs={_label(self.opponent)}")
        parts.append(f"s{self.seed}")
        return "-".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "env_kwargs": dict(self.env_kwargs), "algo_kwargs": dict(self.algo_kwargs)}


def _label(value: Any) -> str:
    """A value as a file-name-safe label (``0.5``, ``None``, ``train_il``)."""
    return re.sub(r"[^A-Za-z0-9._=+]", "_", str(value))


def grid(
    env: str,
    algos: Sequence[str],
    seeds: Iterable[int],
    env_grid: Mapping[str, Sequence[Any]] | None = None,
    algo_grid: Mapping[str, Sequence[Any]] | None = None,
    **common: Any,
) -> list[RunSpec]:
    """Every combination of algorithm, seed and the listed environment / learner values, as runs."""
    env_grid = dict(env_grid or {})
    algo_grid = dict(algo_grid or {})
    seeds = list(seeds)
    runs = []
    for algo in algos:
        for env_values in itertools.product(*env_grid.values()):
            for algo_values in itertools.product(*algo_grid.values()):
                for seed in seeds:
                    runs.append(
                        RunSpec(
                            env=env,
                            algo=algo,
                            seed=seed,
                            env_kwargs=dict(zip(env_grid, env_values)),
                            algo_kwargs=dict(zip(algo_grid, algo_values)),
                            **common,
                        )
                    )
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ValueError("the sweep lists the same run twice; give each value once")
    return runs


def run_one(spec: RunSpec, out_root: str | Path, torch_threads: int = 1) -> dict[str, Any]:
    """Train ``spec`` into ``out_root / spec.name``: resume it when it has a checkpoint, else start it.

    Returns ``mfagents.api.train``'s summary (``budget_met: True`` when the run had already finished).
    """
    from mfagents.api import train

    out = Path(out_root) / spec.name
    resume = (out / CHECKPOINT_NAME).exists()
    return train(
        spec.env,
        None if resume else spec.algo,
        preset=None if resume else spec.preset,
        seed=None if resume else spec.seed,
        out=out,
        env_kwargs=None if resume else dict(spec.env_kwargs),
        algo_kwargs=None if resume else dict(spec.algo_kwargs),
        opponent=None if resume else spec.opponent,
        rounds=spec.rounds,
        torch_threads=torch_threads,
        resume=resume,
        progress_bar=False,
        tensorboard=False,
    )


def run_progress(run_dir: str | Path) -> dict[str, Any]:
    """What a run directory holds: ``status`` (``not run`` / ``unfinished`` / ``finished``), ``rounds_done``,
    ``rounds`` (the budget in its ``config.json``), ``wall_s`` (training seconds) and ``config``."""
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.exists():
        return {"status": "not run", "rounds_done": 0, "rounds": None, "wall_s": math.nan, "config": {}}
    config = json.loads(config_path.read_text())
    rows = read_metrics(run_dir)
    done = int(rows[-1]["rounds"]) if rows else 0
    wall = float(rows[-1].get("perf/wall_time_s") or math.nan) if rows else math.nan
    budget = config.get("rounds")
    finished = budget is not None and done >= budget and (run_dir / CHECKPOINT_NAME).exists()
    return {"status": "finished" if finished else "unfinished", "rounds_done": done, "rounds": budget, "wall_s": wall, "config": config}


def read_metrics(run_dir: Path) -> list[dict[str, str]]:
    """The rows of ``run_dir/metrics.csv`` (empty when absent)."""
    path = run_dir / "metrics.csv"
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def is_finished(spec: RunSpec, out_root: str | Path) -> bool:
    """True when ``out_root / spec.name`` has played its budget (``spec.rounds``, else the one it was started with)."""
    progress = run_progress(Path(out_root) / spec.name)
    if progress["status"] == "not run" or not (Path(out_root) / spec.name / CHECKPOINT_NAME).exists():
        return False
    budget = spec.rounds if spec.rounds is not None else progress["rounds"]
    return budget is not None and progress["rounds_done"] >= budget


def final_metrics(run_dir: str | Path) -> dict[str, float]:
    """The last logged value of every ``charts/`` column of a run (``charts/win_rate`` -> ``win_rate``) and of
    every evaluation panel column (``eval/scripted/win_rate``, named in full; ``mfagents.evaluation.panel``)."""
    last: dict[str, float] = {}
    for row in read_metrics(Path(run_dir)):
        for key, value in row.items():
            if key.startswith(("charts/", "eval/")) and value not in ("", None):
                last[key.removeprefix("charts/")] = float(value)
    return last


def run_sweep(
    runs: Sequence[RunSpec],
    out: str | Path,
    *,
    address: str | None = None,
    cpus_per_run: float = 1.0,
    progress: bool = True,
    torch_threads: int = 1,
) -> list[dict[str, Any]]:
    """Train every run of ``runs`` into ``out / run.name`` as Ray tasks; one row per run, in the input order.

    Finished runs are skipped (status ``skipped``), unfinished ones resume from their checkpoints, the others
    start; a run that fails is reported (status ``failed`` and its error) and the others go on. The rows
    (name, settings, status, error, rounds, seconds and the run's final ``charts/`` and ``eval/`` metrics) are written to
    ``out/sweep.csv`` and ``out/sweep.json``.

    Args:
        runs: the sweep (``grid(...)`` or a list of ``RunSpec``); names must be distinct.
        out: the sweep's folder (created); Ray workers see it by its absolute path.
        address: the Ray cluster to join (None: a private local Ray with this machine's CPUs).
        cpus_per_run: CPUs Ray reserves per run (CPUs / this = runs at once).
        progress: a progress bar and a line per finished run on stderr.
        torch_threads: torch threads per run (1 keeps runs deterministic and is the fastest for these networks).
    """
    from mfagents.common.cluster import run_tasks

    names = [spec.name for spec in runs]
    if len(set(names)) != len(names):
        raise ValueError("the sweep lists the same run twice; give each run once")
    if cpus_per_run <= 0:
        raise ValueError(f"cpus_per_run must be > 0, got {cpus_per_run}")
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any] | None] = [None] * len(runs)
    todo = []
    for index, spec in enumerate(runs):
        if is_finished(spec, out):
            rows[index] = _row(spec, out, "skipped", "", math.nan)
        else:
            todo.append(index)
    bar = _progress_bar(len(runs), len(runs) - len(todo), progress)

    def report(outcome: Any) -> None:
        spec = runs[todo[outcome.index]]
        status = "ok" if outcome.ok else "failed"
        if bar is not None:
            bar.update(1)
            bar.write(f"{spec.name}: {status} ({outcome.seconds:.0f} s){'' if outcome.ok else ' ' + outcome.error}", file=sys.stderr)

    outcomes = run_tasks(
        run_one, [(runs[index], str(out), torch_threads) for index in todo], address=address, cpus_per_task=cpus_per_run, on_done=report
    )
    if bar is not None:
        bar.close()
    for outcome in outcomes:
        index = todo[outcome.index]
        rows[index] = _row(runs[index], out, "ok" if outcome.ok else "failed", outcome.error, outcome.seconds)
    table = [row for row in rows if row is not None]
    write_table(table, out)
    return table


def _row(spec: RunSpec, out: Path, status: str, error: str, seconds: float) -> dict[str, Any]:
    run_dir = out / spec.name
    return {
        "name": spec.name, "env": spec.env, "algo": spec.algo, "seed": spec.seed, "status": status, "error": error,
        "rounds": run_progress(run_dir)["rounds_done"], "seconds": seconds,
        "env_kwargs": dict(spec.env_kwargs), "algo_kwargs": dict(spec.algo_kwargs),
        "preset": spec.preset, "opponent": spec.opponent, **final_metrics(run_dir),
    }  # fmt: skip


def _progress_bar(total: int, already: int, shown: bool) -> Any:
    if not shown:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=already, desc="sweep", unit="run", file=sys.stderr)


def write_table(rows: Sequence[Mapping[str, Any]], out: str | Path) -> tuple[Path, Path]:
    """Write the sweep's rows to ``out/sweep.csv`` (settings as JSON cells) and ``out/sweep.json``."""
    out = Path(out)
    metrics = sorted({key for row in rows for key in row} - set(TABLE_COLUMNS) - {"env_kwargs", "algo_kwargs", "preset", "opponent"})
    columns = [*TABLE_COLUMNS, "env_kwargs", "algo_kwargs", "preset", "opponent", *metrics]
    csv_path, json_path = out / SWEEP_CSV, out / SWEEP_JSON
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(row.get(key)) for key in columns})
    json_path.write_text(json.dumps([{key: _json_value(value) for key, value in row.items()} for row in rows], indent=2) + "\n")
    return csv_path, json_path


def _cell(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return "" if value is None else value


def _json_value(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value
