"""The ``parallel_env`` / ``raw_env`` / ``env`` triple every ``name_vN`` module exports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import OrderEnforcingWrapper
from pettingzoo.utils.conversions import parallel_to_aec_wrapper


def make_factories(env_class: type[ParallelEnv]) -> tuple[Callable[..., ParallelEnv], Callable[..., AECEnv], Callable[..., AECEnv]]:
    """Return ``(parallel_env, raw_env, env)`` constructors for a parallel-native environment class.

    ``raw_env`` is the AEC view of the parallel environment; ``env`` adds PettingZoo's
    order-enforcing wrapper (errors on stepping before reset, reading a stale agent...).
    """

    def parallel_env(**kwargs: Any) -> ParallelEnv:
        return env_class(**kwargs)

    def raw_env(**kwargs: Any) -> AECEnv:
        return parallel_to_aec_wrapper(env_class(**kwargs))

    def env(**kwargs: Any) -> AECEnv:
        return OrderEnforcingWrapper(raw_env(**kwargs))

    for function, what in ((parallel_env, "parallel"), (raw_env, "raw AEC"), (env, "AEC")):
        function.__doc__ = f"Create a {what} ``{env_class.metadata['name']}``; keyword arguments as ``{env_class.__name__}``."
    return parallel_env, raw_env, env
