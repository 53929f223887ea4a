"""Tiger-deer, version 0 (PettingZoo module convention); documented in ``mfenvs.tiger_deer.env``."""

from mfenvs.common.factories import make_factories
from mfenvs.tiger_deer.env import TigerDeerEnv

parallel_env, raw_env, env = make_factories(TigerDeerEnv)

__all__ = ["TigerDeerEnv", "env", "parallel_env", "raw_env"]
