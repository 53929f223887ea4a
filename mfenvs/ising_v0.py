"""Ising lattice, version 0 (PettingZoo module convention); documented in ``mfenvs.ising.env``."""

from mfenvs.common.factories import make_factories
from mfenvs.ising.env import IsingEnv

parallel_env, raw_env, env = make_factories(IsingEnv)

__all__ = ["IsingEnv", "env", "parallel_env", "raw_env"]
