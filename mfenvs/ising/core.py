"""The Ising lattice as arrays: config, the per-site reward of Eq. 33, order parameter, energy, step."""

from __future__ import annotations

from dataclasses import dataclass, replace

import gymnasium
import numpy as np

from mfenvs.common.adapter import CoreOutput
from mfenvs.common.mean_action import lattice_mean_action
from mfenvs.common.validation import check_choice, check_float, check_int

INITIAL_STATES = ("random", "up")
"""How an episode's lattice starts: uniformly random spins, or every spin +1 (the ordered start)."""


@dataclass(frozen=True)
class IsingConfig:
    """Parameters of the lattice game; defaults are the paper's zero-field ferromagnet."""

    size: int = 20
    """The lattice is ``size`` x ``size`` sites on a torus, one agent per site."""
    h: float = 0.0
    """External field."""
    coupling: float = 1.0
    """Interaction strength lambda (> 0 favours aligned neighbours)."""
    max_cycles: int = 200
    """Steps per episode (truncation)."""
    initial: str = "random"
    """The lattice at reset: ``random`` (uniform spins from the seeded generator) or ``up`` (every spin +1,
    the ordered start of ``mfenvs.ising.metropolis``: below T_c it measures the ordered phase instead of
    the long-lived stripe states a 20 x 20 torus quenched from random spins can get stuck in)."""

    def __post_init__(self) -> None:
        check_int("size", self.size, minimum=3)
        check_float("h", self.h)
        check_float("coupling", self.coupling)
        check_int("max_cycles", self.max_cycles, minimum=1)
        check_choice("initial", self.initial, INITIAL_STATES)

    @property
    def n_sites(self) -> int:
        return self.size * self.size


def neighbour_sum(spins: np.ndarray) -> np.ndarray:
    """Sum of the four torus neighbours' spins at every site of a 2-D ``spins`` array."""
    return np.roll(spins, 1, 0) + np.roll(spins, -1, 0) + np.roll(spins, 1, 1) + np.roll(spins, -1, 1)


def site_rewards(spins: np.ndarray, h: float, coupling: float) -> np.ndarray:
    """r_j = h a_j + (coupling / 2) sum_{k in N(j)} a_j a_k (Eq. 33), one value per site."""
    spins = spins.astype(np.float64)
    return h * spins + 0.5 * coupling * spins * neighbour_sum(spins)


def order_parameter(spins: np.ndarray) -> float:
    """xi = abs(N_up - N_down) / N."""
    return float(abs(spins.sum(dtype=np.int64)) / spins.size)


def energy_per_site(spins: np.ndarray, h: float, coupling: float) -> float:
    """E(a) / N with E = -sum_j (h a_j + lambda/2 sum_k a_j a_k) = -sum_j r_j (Eq. 28)."""
    return float(-site_rewards(spins, h, coupling).mean())


class IsingCore:
    """All sites choose their spin at once; action 0 is spin -1 and action 1 is spin +1.

    Observation of a site (float32, shape ``(5,)``): its own spin and its north, south, west and east
    neighbours' spins, all from the configuration before the step (the one the agent acts on).
    Sites are slots in row-major order; site (row y, column x) is agent ``spin_{y}_{x}``.
    """

    def __init__(self, config: IsingConfig):
        self.config = config
        self.agent_names = tuple(f"spin_{y}_{x}" for y in range(config.size) for x in range(config.size))
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(5,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.state_space = gymnasium.spaces.Box(-1, 1, shape=(config.size, config.size), dtype=np.int8)
        self.spins = np.ones((config.size, config.size), dtype=np.int8)
        self.steps = 0
        self._rng: np.random.Generator | None = None

    @property
    def max_cycles(self) -> int:
        return self.config.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.config = replace(self.config, max_cycles=value)

    def reset(self, seed: int | None = None) -> CoreOutput:
        """Start from uniformly random spins drawn from the seeded generator, or all up (``initial="up"``)."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        size = self.config.size
        if self.config.initial == "up":
            self.spins = np.ones((size, size), dtype=np.int8)
        else:
            self.spins = (2 * self._rng.integers(0, 2, size=(size, size)) - 1).astype(np.int8)
        self.steps = 0
        return self._output(np.zeros(self.config.n_sites, dtype=np.float32), truncated=False)

    def step(self, actions: np.ndarray) -> CoreOutput:
        size = self.config.size
        self.spins = (2 * np.asarray(actions).reshape(size, size) - 1).astype(np.int8)
        self.steps += 1
        rewards = site_rewards(self.spins, self.config.h, self.config.coupling).astype(np.float32).reshape(-1)
        return self._output(rewards, truncated=self.steps >= self.config.max_cycles)

    def state(self) -> np.ndarray:
        """The lattice of spins, ``[size, size]`` int8 in {-1, +1}, indexed [row, column]."""
        return self.spins.copy()

    def observe(self) -> np.ndarray:
        spins = self.spins.astype(np.float32)
        return np.stack(
            [spins, np.roll(spins, 1, 0), np.roll(spins, -1, 0), np.roll(spins, 1, 1), np.roll(spins, -1, 1)],
            axis=-1,
        ).reshape(-1, 5)

    def _output(self, rewards: np.ndarray, truncated: bool) -> CoreOutput:
        n = self.config.n_sites
        mean_actions = lattice_mean_action((self.spins > 0).astype(np.int64), 2)
        return CoreOutput(
            observations=self.observe(),
            rewards=rewards,
            terminated=np.zeros(n, dtype=bool),
            truncated=truncated,
            done=truncated,
            alive=np.ones(n, dtype=bool),
            mean_actions=mean_actions,
            info={
                "xi": order_parameter(self.spins),
                "energy": energy_per_site(self.spins, self.config.h, self.config.coupling),
            },
        )
