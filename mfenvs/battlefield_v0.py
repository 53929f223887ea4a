"""Battlefield, version 0 (PettingZoo module convention); documented in ``mfenvs.battlefield.env``."""

from mfenvs.battlefield.env import BattlefieldEnv
from mfenvs.common.factories import make_factories

parallel_env, raw_env, env = make_factories(BattlefieldEnv)

__all__ = ["BattlefieldEnv", "env", "parallel_env", "raw_env"]
