"""Adversarial pursuit, version 0 (PettingZoo module convention); documented in ``mfenvs.adversarial_pursuit.env``."""

from mfenvs.adversarial_pursuit.env import AdversarialPursuitEnv
from mfenvs.common.factories import make_factories

parallel_env, raw_env, env = make_factories(AdversarialPursuitEnv)

__all__ = ["AdversarialPursuitEnv", "env", "parallel_env", "raw_env"]
