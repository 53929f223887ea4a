"""Time several workloads side by side in one process and report median rates and their ratios.

Samples of the workloads are interleaved (A, B, C, A, B, C, ...) so that a slow patch of a shared
machine hits every workload alike, and each sample is long enough that timer resolution and loop
overhead do not matter. Ratios are only meaningful between workloads timed in the same call.

Example:
    >>> def sum_thousand() -> float:
    ...     np.ones(1000).sum()
    ...     return 1000  # units done
    >>> results = compare({"sum 1k": sum_thousand}, repeats=2, min_time=0.01)
    >>> results[0].name, results[0].rate > 0
    ('sum 1k', True)
    >>> print(markdown_table(results, units={"sum 1k": "sums/s"}).splitlines()[0])
    | workload | unit | median (wall clock) | best sample | spread | per CPU second | goal | median / goal |
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Workload = Callable[[], float]
"""Runs one batch of work and returns how many units (agent-steps, spin updates...) it did."""


@dataclass(frozen=True)
class Result:
    """The timing of one workload."""

    name: str
    rates: tuple[float, ...]
    """Units per wall-clock second of every sample."""
    cpu_rates: tuple[float, ...]
    """Units per second of this process's CPU time, every sample: the rate on an otherwise idle core
    (on a shared machine, wall-clock rates also count the time other processes held the core)."""

    @property
    def rate(self) -> float:
        """Median units per second over the samples."""
        return statistics.median(self.rates)

    @property
    def cpu_rate(self) -> float:
        """Median units per CPU second."""
        return statistics.median(self.cpu_rates)

    @property
    def best(self) -> float:
        """Fastest sample: the least disturbed by other processes on a shared machine."""
        return max(self.rates)

    @property
    def spread(self) -> float:
        """(max - min) / median of the sample rates: how noisy the measurement was."""
        return (max(self.rates) - min(self.rates)) / self.rate


def compare(workloads: Mapping[str, Workload], repeats: int = 5, min_time: float = 0.5) -> list[Result]:
    """Time every workload ``repeats`` times, interleaved, and return their median rates.

    Each workload is first run once to warm up. A sample calls its workload until at least
    ``min_time`` seconds have passed.

    Args:
        workloads: name -> callable doing one batch of work and returning its number of units.
        repeats: samples per workload.
        min_time: shortest duration of one sample, in seconds.

    Returns:
        One ``Result`` per workload, in the order given.
    """
    if repeats < 1 or min_time <= 0:
        raise ValueError(f"repeats must be >= 1 and min_time > 0, got {repeats} and {min_time}")
    for workload in workloads.values():
        workload()
    rates: dict[str, list[float]] = {name: [] for name in workloads}
    cpu_rates: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(repeats):
        for name, workload in workloads.items():
            units, elapsed = 0.0, 0.0
            start, cpu_start = time.perf_counter(), time.process_time()
            while elapsed < min_time:
                units += workload()
                elapsed = time.perf_counter() - start
            rates[name].append(units / elapsed)
            cpu_rates[name].append(units / max(time.process_time() - cpu_start, 1e-9))
    return [Result(name, tuple(rates[name]), tuple(cpu_rates[name])) for name in workloads]


def format_rate(rate: float) -> str:
    """``1234567.0 -> '1.23 M'``."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= factor:
            return f"{rate / factor:.2f} {prefix}"
    return f"{rate:.2f}"


def markdown_table(results: list[Result], units: Mapping[str, str], goals: Mapping[str, float] | None = None) -> str:
    """A markdown table of wall-clock (median, best) and CPU-time rates and, given a goal, the ratio to it.

    Args:
        results: from ``compare``.
        units: workload name -> unit label, e.g. ``"agent-steps/s"``.
        goals: optional workload name -> target rate.
    """
    goals = goals or {}
    lines = [
        "| workload | unit | median (wall clock) | best sample | spread | per CPU second | goal | median / goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        goal = goals.get(result.name)
        goal_text = format_rate(goal) if goal else ""
        ratio_text = f"{result.rate / goal:.2f}" if goal else ""
        lines.append(
            f"| {result.name} | {units[result.name]} | {format_rate(result.rate)} | {format_rate(result.best)} "
            f"| {result.spread:.0%} | {format_rate(result.cpu_rate)} | {goal_text} | {ratio_text} |"
        )
    return "\n".join(lines)


def machine_description() -> str:
    """One line naming the CPU, the cores this process may use, Python and NumPy versions."""
    processor = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        processor = names[0] if names else processor
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{processor}, {cores} cores, Python {platform.python_version()}, NumPy {np.__version__}"


def write_section(heading: str, text: str, path: Path) -> None:
    """Replace the Markdown section that starts with ``heading`` in ``path`` by ``text`` (or append it).

    ``text`` starts with ``heading``; every other section of the file is kept as it is.
    """
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    if heading in content:
        start = content.index(heading)
        following = content.find("\n## ", start + len(heading))
        end = len(content) if following < 0 else following + 1
        content = content[:start] + text + "\n" + ("\n" + content[end:] if following >= 0 else "")
    else:
        content = content.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(content)


def publish(heading: str, text: str, write: bool, path: Path) -> None:
    """Print a benchmark's Markdown section; with ``write``, also put it into ``path`` (BENCHMARKS.md)."""
    print(text)
    if write:
        write_section(heading, text, path)
        print(f"\nwrote {heading!r} into {path.name}", file=sys.stderr)
