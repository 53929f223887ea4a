"""Run logs: a CSV file, TensorBoard events and a tqdm progress bar, fed by one ``log`` call.

Metric names are namespaced as CleanRL does: ``charts/...`` (returns, win rate, G ratio),
``losses/...`` (from the learners), ``perf/...`` (wall-clock rates: the only columns that differ
between two runs with the same seed).

The CSV (``metrics.csv``) has one row per ``log`` call and one column per metric name seen so far;
when a new name appears (the first loss once learning starts), the file is rewritten with the wider
header and empty cells in the earlier rows. ``RunLogger(..., keep_rows=n)`` truncates an existing
file to its first ``n`` rows: ``--resume`` uses it to continue the log from the checkpoint.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CSV_NAME = "metrics.csv"
TENSORBOARD_DIR = "tb"
INDEX_COLUMNS = ("global_step", "rounds", "agent_steps")
"""Leading CSV columns: environment steps (summed over copies), finished rounds, agent-steps."""


class RunLogger:
    """CSV + TensorBoard + progress bar for one run.

    Args:
        out: run directory, or None to keep nothing on disk (the progress bar still shows).
        total: the budget, in ``unit``.
        unit: ``"rounds"`` or ``"steps"``: what the progress bar counts.
        keep_rows: when resuming, the number of CSV rows to keep (the rest are dropped); None starts afresh.
        purge_step: when resuming, TensorBoard events at or after this global step are discarded.
        tensorboard: write TensorBoard events under ``out/tb``.
        progress_bar: show a tqdm bar on stderr.
    """

    def __init__(
        self,
        out: str | os.PathLike | None,
        total: int,
        unit: str,
        keep_rows: int | None = None,
        purge_step: int | None = None,
        tensorboard: bool = True,
        progress_bar: bool = True,
    ):
        self.csv_path = None if out is None else Path(out) / CSV_NAME
        self.columns: list[str] = list(INDEX_COLUMNS)
        self.rows_written = 0
        if self.csv_path is not None:
            self.csv_path.parent.mkdir(parents=True, exist_ok=True)
            if keep_rows is None:
                self.csv_path.write_text(",".join(self.columns) + "\n")
            else:
                self._truncate(keep_rows)
        self.writer = None
        if tensorboard and out is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(out) / TENSORBOARD_DIR), purge_step=purge_step)
        self.bar = None
        if progress_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=f" {unit}", file=sys.stderr, mininterval=0.5, dynamic_ncols=True)

    def _truncate(self, keep_rows: int) -> None:
        """Keep the header and the first ``keep_rows`` rows of an existing CSV (resume)."""
        if not self.csv_path.exists():
            raise FileNotFoundError(f"cannot resume the log: {self.csv_path} does not exist")
        with open(self.csv_path, newline="") as file:
            rows = list(csv.reader(file))
        if not rows or len(rows) - 1 < keep_rows:
            raise ValueError(f"{self.csv_path} has {max(len(rows) - 1, 0)} rows, the checkpoint expects at least {keep_rows}")
        self.columns = rows[0]
        self._rewrite(rows[1 : keep_rows + 1])
        self.rows_written = keep_rows

    def _rewrite(self, rows: list[list[str]]) -> None:
        temporary = self.csv_path.with_suffix(".csv.tmp")
        with open(temporary, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(self.columns)
            writer.writerows(rows)
        os.replace(temporary, self.csv_path)

    def log(self, global_step: int, rounds: int, agent_steps: int, metrics: Mapping[str, float]) -> None:
        """Write one row: the counters and ``metrics`` (name -> number) to the CSV and TensorBoard."""
        values = {"global_step": global_step, "rounds": rounds, "agent_steps": agent_steps, **metrics}
        if self.csv_path is not None:
            new = [name for name in values if name not in self.columns]
            if new:
                self._widen(new)
            with open(self.csv_path, "a", newline="") as file:
                csv.writer(file).writerow([_format(values.get(name)) for name in self.columns])
        self.rows_written += 1
        if self.writer is not None:
            for name, value in metrics.items():
                self.writer.add_scalar(name, value, global_step)

    def _widen(self, new_columns: list[str]) -> None:
        with open(self.csv_path, newline="") as file:
            rows = list(csv.reader(file))[1:]
        self.columns.extend(new_columns)
        self._rewrite([row + [""] * len(new_columns) for row in rows])

    def progress(self, done: int, postfix: Mapping[str, Any]) -> None:
        """Move the progress bar to ``done`` and show ``postfix`` (rounds, agent-steps/s, return...)."""
        if self.bar is None:
            return
        self.bar.update(max(0, done - self.bar.n))
        self.bar.set_postfix({key: _short(value) for key, value in postfix.items()}, refresh=False)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        """Close the TensorBoard writer and the progress bar."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
