"""mfagents: mean-field reinforcement-learning agents for the mfenvs environments, and the ``mfzoo`` command.

The Python API mirrors the command line (``mfzoo train`` / ``mfzoo eval`` / ``mfzoo reproduce``)::

    import mfagents
    summary = mfagents.train("gaussian_squeeze", algo="mfq", seed=0, out="runs/squeeze")
    result = mfagents.evaluate("gaussian_squeeze", policy="runs/squeeze", rounds=5)

The rooms, from the ground up (each may import only the rooms before it; ``tests/test_import_graph.py``):
``common`` (checkpoints, the SuperSuit pipeline, devices, Ray), ``algos`` (learners, networks, replay,
exploration), ``policies`` (SPECs, scripted, SB3, the zoo), ``training`` (run settings, the loop),
``evaluation`` (evaluation rounds, statistics, the arena), ``api`` (this API), ``experiments`` (sweeps,
the paper's reproduction) and ``commands`` (``mfzoo``). ``benchmarl_task`` is Battle as a BenchMARL task.

Importing this package loads nothing heavy: the API is imported on first use, and torch and pygame
only by the modules that need them. Import paths that moved in 0.2 still work (``mfagents.moved``).
"""

from __future__ import annotations

from typing import Any

from mfagents import moved

moved.install()

__all__ = ["evaluate", "reproduce", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "evaluate"):
        from mfagents import api

        return getattr(api, name)
    if name == "reproduce":
        from mfagents.experiments.reproduce import reproduce

        return reproduce
    raise AttributeError(f"module 'mfagents' has no attribute {name!r}")
