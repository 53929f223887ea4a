"""Gaussian Squeeze, version 0 (PettingZoo module convention); documented in ``mfenvs.gaussian_squeeze.env``."""

from mfenvs.common.factories import make_factories
from mfenvs.gaussian_squeeze.env import GaussianSqueezeEnv

parallel_env, raw_env, env = make_factories(GaussianSqueezeEnv)

__all__ = ["GaussianSqueezeEnv", "env", "parallel_env", "raw_env"]
