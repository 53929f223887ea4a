"""Many training runs, one per combination of settings: what a sweep runs and how one run is carried out.

A sweep is a list of ``RunSpec``; each run trains into its own run directory under the sweep's folder,
named from its settings, so that running the same sweep again finds finished runs (skipped) and unfinished
ones (resumed from their checkpoints).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mfagents.checkpoint import CHECKPOINT_NAME


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
