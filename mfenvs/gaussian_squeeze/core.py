"""Gaussian Squeeze as arrays: the config, G(x), its exact integer optimum, and the stateless step."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import gymnasium
import numpy as np

from mfenvs.common.adapter import CoreOutput
from mfenvs.common.mean_action import global_mean_action
from mfenvs.common.validation import check_float, check_int


@dataclass(frozen=True)
class GaussianSqueezeConfig:
    """Parameters of the game; the defaults are the paper's largest setting."""

    n_agents: int = 1000
    """N, the number of agents."""
    n_actions: int = 10
    """Each agent picks an integer in ``0..n_actions-1``."""
    mu: float = 400.0
    """Centre of the Gaussian (the load the system is tuned for)."""
    sigma: float = 200.0
    """Width of the Gaussian."""
    max_cycles: int = 100
    """Rounds per episode; the episode is truncated after this many steps."""

    def __post_init__(self) -> None:
        check_int("n_agents", self.n_agents, minimum=1)
        check_int("n_actions", self.n_actions, minimum=2)
        check_float("mu", self.mu)
        check_float("sigma", self.sigma, positive=True)
        check_int("max_cycles", self.max_cycles, minimum=1)

    @property
    def max_load(self) -> int:
        """The largest reachable x: every agent plays ``n_actions - 1``."""
        return self.n_agents * (self.n_actions - 1)


def squeeze_reward(x: np.ndarray | float, mu: float, sigma: float) -> np.ndarray | float:
    """G(x) = x exp(-(x - mu)^2 / sigma^2), the reward every agent receives."""
    return x * np.exp(-((x - mu) ** 2) / sigma**2)


def optimum(config: GaussianSqueezeConfig) -> tuple[int, float]:
    """Exact optimum ``(x_opt, G_opt)`` over the integer loads ``0..max_load`` reachable by N agents.

    For x > 0, G is unimodal with its peak at x* = (mu + sqrt(mu^2 + 2 sigma^2)) / 2 (where
    dG/dx = 0), so the integer optimum is floor(x*) or ceil(x*), clipped to the reachable range.
    """
    peak = (config.mu + math.sqrt(config.mu**2 + 2 * config.sigma**2)) / 2
    candidates = np.clip([math.floor(peak), math.ceil(peak)], 0, config.max_load)
    values = squeeze_reward(candidates.astype(np.float64), config.mu, config.sigma)
    best = int(np.argmax(values))
    return int(candidates[best]), float(values[best])


class GaussianSqueezeCore:
    """The repeated stateless game over agent slots.

    Observation of agent i (float32, shape ``(3,)``): ``[i / (N - 1), x_prev / max_load, G_prev / G_opt]``.
    The game has no state, so the honest observation is the agent's identity (the paper's shared
    network takes an agent embedding) and the public outcome of the previous round (zeros at reset).
    """

    def __init__(self, config: GaussianSqueezeConfig):
        self.config = config
        self.agent_names = tuple(f"agent_{i}" for i in range(config.n_agents))
        self.x_opt, self.g_opt = optimum(config)
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(config.n_actions)
        self.state_space = gymnasium.spaces.Box(0.0, 1.0, shape=(config.n_actions,), dtype=np.float32)
        self._identity = (np.arange(config.n_agents) / max(config.n_agents - 1, 1)).astype(np.float32)
        self.actions = np.zeros(config.n_agents, dtype=np.int64)
        self.x = 0
        self.reward = 0.0
        self.steps = 0

    @property
    def max_cycles(self) -> int:
        return self.config.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.config = replace(self.config, max_cycles=value)

    def reset(self, seed: int | None = None) -> CoreOutput:
        n = self.config.n_agents
        self.actions = np.zeros(n, dtype=np.int64)
        self.x, self.reward, self.steps = 0, 0.0, 0
        self._played = False
        return self._output(np.zeros(n, dtype=np.float32), np.zeros((n, self.config.n_actions), np.float32))

    def step(self, actions: np.ndarray) -> CoreOutput:
        config = self.config
        self.actions = np.asarray(actions, dtype=np.int64)
        self.x = int(self.actions.sum())
        self.reward = float(squeeze_reward(float(self.x), config.mu, config.sigma))
        self.steps += 1
        self._played = True
        rewards = np.full(config.n_agents, self.reward, dtype=np.float32)
        return self._output(rewards, global_mean_action(self.actions, config.n_actions))

    def state(self) -> np.ndarray:
        """The share of agents that played each action in the last round (zeros before the first)."""
        if not self._played:
            return np.zeros(self.config.n_actions, dtype=np.float32)
        return (np.bincount(self.actions, minlength=self.config.n_actions) / self.config.n_agents).astype(np.float32)

    def _output(self, rewards: np.ndarray, mean_actions: np.ndarray) -> CoreOutput:
        n = self.config.n_agents
        observations = np.empty((n, 3), dtype=np.float32)
        observations[:, 0] = self._identity
        observations[:, 1] = self.x / self.config.max_load
        observations[:, 2] = self.reward / self.g_opt if self.g_opt > 0 else 0.0
        truncated = self.steps >= self.config.max_cycles
        return CoreOutput(
            observations=observations,
            rewards=rewards,
            terminated=np.zeros(n, dtype=bool),
            truncated=truncated,
            done=truncated,
            alive=np.ones(n, dtype=bool),
            mean_actions=mean_actions,
            info={"x": self.x, "G": self.reward, "G_opt": self.g_opt},
        )
