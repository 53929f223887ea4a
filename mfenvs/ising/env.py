"""Ising lattice: one agent per site of a torus chooses its spin; neighbours want to align.

| | |
|---|---|
| Agents | ``spin_{y}_{x}`` for every site of a ``size`` x ``size`` torus (default 20 x 20) |
| Actions | ``Discrete(2)``: 0 = spin -1, 1 = spin +1 |
| Observations | ``Box(-1, 1, (5,), float32)``: own, north, south, west, east spins before the step |
| Reward | r_j = h a_j + (coupling / 2) sum_{k in N(j)} a_j a_k on the new configuration (Eq. 33) |
| Episode | ``max_cycles`` steps (truncation) |
| Infos | ``mean_action`` (mean one-hot spin of the 4 neighbours), ``xi`` = abs(N_up - N_down) / N, ``energy`` per site |
| State | ``Box(-1, 1, (size, size), int8)``: the lattice, indexed [row, column] |

The episode starts from random spins (seeded) or, with ``initial="up"``, from every spin +1 (the
ordered start of the Metropolis reference), and ``infos[agent]["mean_action"]`` at reset is the
mean of that initial configuration. All sites act at once (the paper's setting). The reference
physics lives in ``mfenvs.ising.metropolis`` (``mfenvs/ising/mcmc.py``: Algorithm 3, checked against
Onsager's solution).

Creation::

    from mfenvs import ising_v0
    env = ising_v0.parallel_env(size=20, h=0.0, coupling=1.0, max_cycles=200, initial="random", render_mode=None)

Arguments:
    size: lattice side (>= 3).
    h: external field.
    coupling: interaction strength lambda.
    max_cycles: steps per episode (>= 1).
    initial: the lattice at reset, ``"random"`` (default) or ``"up"`` (all spins +1).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"``: the lattice in two colours and xi.

Version history:
    v0: initial release; ``initial`` added (default ``"random"``, the earlier behaviour).
"""

from __future__ import annotations

from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.ising.core import IsingConfig, IsingCore


class IsingEnv(ArrayParallelEnv):
    """PettingZoo parallel Ising lattice; see the module docstring."""

    metadata = {"name": "ising_v0", "render_modes": ["human", "rgb_array"], "render_fps": 10}
    draw_function = "render.ising:draw"

    def __init__(
        self,
        size: int = 20,
        h: float = 0.0,
        coupling: float = 1.0,
        max_cycles: int = 200,
        initial: str = "random",
        render_mode: str | None = None,
    ):
        config = IsingConfig(size=size, h=h, coupling=coupling, max_cycles=max_cycles, initial=initial)
        super().__init__(IsingCore(config), render_mode=render_mode)
