"""Gaussian Squeeze (HolmesParker et al. 2014; Yang et al. 2018, appendix C.1)."""

from mfenvs.gaussian_squeeze.core import GaussianSqueezeConfig, GaussianSqueezeCore, optimum, squeeze_reward

__all__ = ["GaussianSqueezeConfig", "GaussianSqueezeCore", "optimum", "squeeze_reward"]
