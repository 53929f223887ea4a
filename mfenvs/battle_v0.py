"""Battle, version 0 (PettingZoo module convention); documented in ``mfenvs.battle.env``."""

from mfenvs.battle.env import BattleEnv
from mfenvs.common.factories import make_factories

parallel_env, raw_env, env = make_factories(BattleEnv)

__all__ = ["BattleEnv", "env", "parallel_env", "raw_env"]
