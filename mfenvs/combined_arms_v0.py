"""Combined arms, version 0 (PettingZoo module convention); documented in ``mfenvs.combined_arms.env``."""

from mfenvs.combined_arms.env import CombinedArmsEnv
from mfenvs.common.factories import make_factories

parallel_env, raw_env, env = make_factories(CombinedArmsEnv)

__all__ = ["CombinedArmsEnv", "env", "parallel_env", "raw_env"]
