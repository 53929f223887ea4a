"""Gaussian Squeeze: N agents share one resource and are all paid G(x) for the total load x.

| | |
|---|---|
| Agents | ``agent_0`` .. ``agent_{N-1}`` (default N = 1000) |
| Actions | ``Discrete(n_actions)``: the agent's load a_i in ``0..n_actions-1`` (default 10) |
| Observations | ``Box(0, 1, (3,), float32)``: ``[i / (N-1), x_prev / max_load, G_prev / G_opt]`` |
| Reward | every agent gets G(x) = x exp(-(x - mu)^2 / sigma^2) with x = sum_i a_i |
| Episode | ``max_cycles`` rounds of the same stateless game (truncation) |
| Infos | ``mean_action`` (mean one-hot action of all other agents this round), ``x``, ``G``, ``G_opt`` |
| State | ``Box(0, 1, (n_actions,), float32)``: the share of agents that played each action |

The game is stateless, so the observation is what honestly exists: the agent's identity (the
paper's shared network takes an agent embedding) and the public outcome of the previous round.
``G_opt`` is the exact optimum over the integer loads N agents can reach (444.95 -> x = 445,
G = 423.03 for the defaults). Uniform random play gets about 0 of it at N = 500 and 1000, but at
N = 100 its mean load (450) scores 99.9 % of G* (97.8 % averaged over rounds), which is why the
paper's N = 100 setting proves nothing.

Creation::

    from mfenvs import gaussian_squeeze_v0
    env = gaussian_squeeze_v0.parallel_env(n_agents=1000, n_actions=10, mu=400.0, sigma=200.0,
                                           max_cycles=100, render_mode=None)

Arguments:
    n_agents: number of agents N (>= 1).
    n_actions: actions per agent (>= 2).
    mu, sigma: centre and width of the Gaussian (sigma > 0).
    max_cycles: rounds per episode (>= 1).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"``: the action histogram and G(x).

Version history:
    v0: initial release.
"""

from __future__ import annotations

from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.gaussian_squeeze.core import GaussianSqueezeConfig, GaussianSqueezeCore


class GaussianSqueezeEnv(ArrayParallelEnv):
    """PettingZoo parallel Gaussian Squeeze; see the module docstring."""

    metadata = {"name": "gaussian_squeeze_v0", "render_modes": ["human", "rgb_array"], "render_fps": 10}
    draw_function = "render.gaussian_squeeze:draw"

    def __init__(
        self,
        n_agents: int = 1000,
        n_actions: int = 10,
        mu: float = 400.0,
        sigma: float = 200.0,
        max_cycles: int = 100,
        render_mode: str | None = None,
    ):
        config = GaussianSqueezeConfig(n_agents=n_agents, n_actions=n_actions, mu=mu, sigma=sigma, max_cycles=max_cycles)
        super().__init__(GaussianSqueezeCore(config), render_mode=render_mode)
