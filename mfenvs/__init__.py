"""mfenvs: many-agent PettingZoo environments with the neighbourhood mean action built in.

Importing the package registers every environment with PettingZoo's registry::

    import mfenvs, pettingzoo
    env = pettingzoo.make("parallel", "mfenvs/ising-v0", size=32)

or use the module convention: ``from mfenvs import ising_v0; ising_v0.parallel_env(size=32)``.
"""

from mfenvs.registration import ENVIRONMENTS, register_all

__version__ = "0.1.0"

register_all()

__all__ = ["ENVIRONMENTS", "__version__"]
