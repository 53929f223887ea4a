"""Helpers the experiments share: reading run directories, tables, plots."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mfagents.experiments.sweep import RunSpec, read_metrics


def curve(run_dir: Path, column: str) -> dict[int, float]:
    """``{round: value}`` of one metrics column (rows without a value are skipped)."""
    points = {}
    for row in read_metrics(run_dir):
        value = row.get(column, "")
        if value not in ("", None):
            points[int(row["rounds"])] = float(value)
    return points


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Write ``rows`` to ``path`` (columns: ``columns`` or the first row's keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(columns or (rows[0].keys() if rows else []))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(row.get(key)) for key in columns})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return "" if value is None else value


def fmt(value: float, digits: int = 3) -> str:
    """A number for a Markdown table (``-`` for NaN)."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def pyplot():
    """matplotlib's pyplot on the Agg backend (no window)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def command_line(experiment: str, quick: bool, runs: Iterable[RunSpec]) -> str:
    """The command that (re)produces an experiment's runs."""
    presets = {spec.preset for spec in runs} - {None}
    return f"mfzoo reproduce {experiment}" + (" --quick" if quick else "") + "".join(f" --preset {p}" for p in sorted(presets))
