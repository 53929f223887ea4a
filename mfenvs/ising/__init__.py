"""Ising lattice environment and its Metropolis reference (Yang et al. 2018, appendix C.2)."""

from mfenvs.ising.core import IsingConfig, IsingCore, energy_per_site, order_parameter, site_rewards
from mfenvs.ising.mcmc import metropolis

__all__ = ["IsingConfig", "IsingCore", "energy_per_site", "metropolis", "order_parameter", "site_rewards"]
