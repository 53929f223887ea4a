"""mfagents: mean-field reinforcement-learning agents for the mfenvs environments, and the ``mfzoo`` command.

The Python API mirrors the command line (``mfzoo train`` / ``mfzoo eval``)::

    import mfagents
    summary = mfagents.train("gaussian_squeeze", algo="mfq", seed=0, out="runs/squeeze")
    result = mfagents.evaluate("gaussian_squeeze", policy="runs/squeeze", rounds=5)

Importing this package loads nothing heavy: ``train`` and ``evaluate`` (``mfagents.api``) are
imported on first use, and torch and pygame only by the modules that need them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate", "reproduce", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mfagents import api

        return getattr(api, name)
    raise AttributeError(f"module 'mfagents' has no attribute {name!r}")
