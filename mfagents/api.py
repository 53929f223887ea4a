"""The Python API, mirroring the command line: ``train(...)`` is ``mfzoo train``, ``evaluate(...)`` is ``mfzoo eval``.

``evaluate`` lives with the rest of evaluation (``mfagents.evaluation.rounds``); ``mfagents.reproduce``
is ``mfagents.experiments.reproduce.reproduce``, which sits above this API (its sweeps call ``train``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mfagents.evaluation.rounds import evaluate
from mfagents.training.config import ResolvedRun, RunConfig, resolve

__all__ = ["evaluate", "train"]


def train(
    env: str,
    algo: str | None = None,
    *,
    preset: str | None = None,
    seed: int | None = None,
    out: str | os.PathLike | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    algo_kwargs: Mapping[str, Any] | None = None,
    opponent: str | None = None,
    steps: int | None = None,
    rounds: int | None = None,
    n_envs: int | None = None,
    device: str = "cpu",
    torch_threads: int = 1,
    resume: bool = False,
    log_every_rounds: int | None = None,
    checkpoint_every_rounds: int | None = None,
    eval_every: int | None = None,
    eval_panel: Sequence[str] | str | None = None,
    eval_rounds: int | None = None,
    progress_bar: bool = False,
    tensorboard: bool = True,
) -> dict[str, Any]:
    """Train a learner on a registered environment; the arguments are ``mfzoo train``'s options.

    Args:
        env: registered id or short name (``battle``, ``ising``, ``gaussian_squeeze``).
        algo: ``mfq`` (None: ``mfq``, or the resumed run's), ``il``, ``mfac``, ``ac`` or ``tabular_mfq`` (Ising only).
        preset: the table of defaults, ``default`` or ``paper`` (``mfagents.training.config.PRESETS``; None: ``default``,
            or the resumed run's).
        seed: seeds the learners, opponents and environments (None: 0, or the resumed run's).
        out: run directory (``config.json``, ``metrics.csv``, ``tb/``, ``checkpoint.safetensors``); None keeps nothing.
        env_kwargs: environment arguments on top of the defaults of ``mfagents.training.config.TRAINING_DEFAULTS``.
        algo_kwargs: learner config overrides (fields of ``MFQConfig``, ``MFACConfig``...).
        opponent: Battle's blue team: ``self`` (default), ``train:ALGO`` or a policy SPEC; tiger-deer's deer (the
            tigers learn): ``random`` (default), ``train:ALGO`` (the deer learn too) or a policy SPEC.
        steps, rounds: the budget (at most one; default per environment).
        n_envs: environment copies stepped together (default per environment).
        device: torch device (checked before anything starts).
        torch_threads: CPU threads torch may use while training (1 is fastest for these networks).
        resume: continue the run in ``out`` from its last checkpoint; what is left None (and ``env_kwargs``
            when empty) is read from the run's ``config.json``, and given values must agree with it.
        log_every_rounds, checkpoint_every_rounds: cadences (default per environment).
        eval_every: play the learner (greedy, red) against ``eval_panel`` every this many rounds and at the end,
            logging ``eval/NAME/win_rate``, ``win_low``, ``win_high``, ``kills``, ``opponent_kills``
            (``mfagents.evaluation.panel``); 0 turns it off (default per environment: Battle 50, others 0).
        eval_panel: the opponents' policy SPECs, a sequence or ``"random,scripted"`` (default per environment).
        eval_rounds: evaluation rounds per opponent (default 10).
        progress_bar: show a tqdm bar on stderr (the command line shows one).
        tensorboard: write TensorBoard events under ``out/tb``.

    Returns:
        The JSON summary ``mfzoo train`` prints last (rounds, steps, agent-steps/s, final metrics, and
        ``eval``: the final panel's results per opponent); ``budget_met: True`` when a resumed run had already
        played its budget (nothing was done).

    Raises:
        ValueError: a bad setting (``mfagents.training.config.resolve``), including a device torch cannot use here.
        mfagents.training.loop.RunSetupError, mfagents.common.checkpoint.CheckpointError: the run cannot start
            (a panel SPEC that does not load among them).
    """
    if isinstance(eval_panel, str):
        eval_panel = [spec.strip() for spec in eval_panel.split(",")]
    config = RunConfig(
        env=env,
        algo=algo,
        preset=preset,
        seed=seed,
        out=None if out is None else str(out),
        env_kwargs=dict(env_kwargs or {}),
        algo_kwargs=dict(algo_kwargs or {}),
        opponent=opponent,
        steps=steps,
        rounds=rounds,
        n_envs=n_envs,
        device=device,
        torch_threads=torch_threads,
        log_every_rounds=log_every_rounds,
        checkpoint_every_rounds=checkpoint_every_rounds,
        eval_every=eval_every,
        eval_panel=None if eval_panel is None else tuple(eval_panel),
        eval_rounds=eval_rounds,
        resume=resume,
        progress_bar=progress_bar,
        tensorboard=tensorboard,
    )
    return train_resolved(resolve(config), resume=resume)


def train_resolved(run: ResolvedRun, resume: bool = False) -> dict[str, Any]:
    """Train a resolved run with its evaluation panel (``mfzoo train`` calls this after printing the settings).

    The panel (``mfagents.evaluation.panel.EvalPanel``) is built first, so a SPEC that does not load is an
    error before anything is trained or written.
    """
    from mfagents.evaluation.panel import EvalPanel
    from mfagents.training.loop import train as run_training

    return run_training(run, resume=resume, evaluator=EvalPanel(run) if run.eval_every else None)
