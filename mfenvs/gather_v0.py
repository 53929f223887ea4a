"""Gather, version 0 (PettingZoo module convention); documented in ``mfenvs.gather.env``."""

from mfenvs.common.factories import make_factories
from mfenvs.gather.env import GatherEnv

parallel_env, raw_env, env = make_factories(GatherEnv)

__all__ = ["GatherEnv", "env", "parallel_env", "raw_env"]
