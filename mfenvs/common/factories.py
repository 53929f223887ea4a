"""The ``parallel_env`` / ``raw_env`` / ``env`` triple every ``name_vN`` module exports."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pettingzoo import AECEnv, ParallelEnv

from mfenvs.common.aec import CheckedAECWrapper, CheckedOrderEnforcingWrapper


def make_factories(env_class: type[ParallelEnv]) -> tuple[Callable[..., ParallelEnv], Callable[..., AECEnv], Callable[..., AECEnv]]:
    """Return ``(parallel_env, raw_env, env)`` constructors for a parallel-native environment class.

    ``raw_env`` is the AEC view of the parallel environment (each action checked in its own ``step()``,
    ``mfenvs.common.aec``); ``env`` adds PettingZoo's order-enforcing wrapper (errors on stepping before
    reset, reading a stale agent...), which raises ``EpisodeFinishedError`` when stepped after the end.
    """

    def parallel_env(**kwargs: Any) -> ParallelEnv:
        return env_class(**kwargs)

    def raw_env(**kwargs: Any) -> AECEnv:
        return CheckedAECWrapper(env_class(**kwargs))

    def env(**kwargs: Any) -> AECEnv:
        return CheckedOrderEnforcingWrapper(raw_env(**kwargs))

    signature = inspect.signature(env_class)  # help() and inspect show the environment's real arguments
    for function, what in ((parallel_env, "parallel"), (raw_env, "raw AEC"), (env, "AEC")):
        function.__doc__ = f"Create a {what} ``{env_class.metadata['name']}``; keyword arguments as ``{env_class.__name__}``."
        function.__signature__ = signature.replace(return_annotation=inspect.Signature.empty)
    return parallel_env, raw_env, env
