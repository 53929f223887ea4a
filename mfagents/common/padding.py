"""Padded spaces for SuperSuit's vector envs, whose agents must all share one observation and one action space.

SuperSuit's answer to agents with different spaces (combined arms: melee 9 actions, ranged 25; observations of
29 and 45 channels with ``extra_features``) is ``pad_observations_v0`` / ``pad_action_space_v0``. ``PaddedSpaces``
applies the same rules (SuperSuit's ``homogenize_ops``: the padded Box is ``homogenize_spaces`` of the agents'
Boxes, an observation is zero-padded at the end of every axis, the padded ``Discrete`` has the largest count) as
one *parallel* wrapper, for two reasons:

* speed: SuperSuit 3.11 implements both wrappers for AEC envs only, so on a parallel env each one converts to
  AEC and back every step; at combined arms' map 45 that measured 80 ms a step against 0.9 ms unwrapped
  (PettingZoo's ``aec_to_parallel`` looks its attributes up through every wrapper, per agent);
* safety: SuperSuit's ``dehomogenize_actions`` silently turns an action beyond the agent's own count into
  action 0. Here such a padding action is an error: the learners output only their group's actions, and a
  padded action reaching the environment would be a bug that trains on actions nobody took.

``mfagents.common.pipeline.VecPipeline`` cuts the padding off again per group (``GroupSpaces``).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.wrappers import BaseParallelWrapper
from supersuit.utils.action_transforms import homogenize_ops


def has_one_space(parallel_env: ParallelEnv) -> bool:
    """Every agent of ``parallel_env`` has the first agent's observation and action spaces."""
    first = parallel_env.possible_agents[0]
    observation_space, action_space = parallel_env.observation_space(first), parallel_env.action_space(first)
    return all(
        parallel_env.observation_space(agent) == observation_space and parallel_env.action_space(agent) == action_space
        for agent in parallel_env.possible_agents
    )


class PaddedSpaces(BaseParallelWrapper):
    """``parallel_env`` with every agent's spaces padded to common ones (see the module docstring).

    Args:
        parallel_env: a parallel env whose observation spaces are Boxes of one rank and dtype and whose action
            spaces are ``Discrete``.

    Raises:
        TypeError: other spaces than those.
    """

    def __init__(self, parallel_env: ParallelEnv):
        super().__init__(parallel_env)
        agents = parallel_env.possible_agents
        observation_spaces = [parallel_env.observation_space(agent) for agent in agents]
        action_spaces = [parallel_env.action_space(agent) for agent in agents]
        if not all(isinstance(space, gymnasium.spaces.Box) for space in observation_spaces) or not all(
            isinstance(space, gymnasium.spaces.Discrete) for space in action_spaces
        ):
            raise TypeError("PaddedSpaces pads Box observation spaces and Discrete action spaces only")
        try:
            homogenize_ops.check_homogenize_spaces(observation_spaces)
        except AssertionError as error:
            raise TypeError(f"the observation spaces cannot be padded to one: {error}") from None
        self.padded_observation_space: gymnasium.spaces.Box = homogenize_ops.homogenize_spaces(observation_spaces)
        self.padded_action_space = gymnasium.spaces.Discrete(max(int(space.n) for space in action_spaces))
        #: agent -> its own number of actions; the slices of the padded observation that are its own
        self.own_n_actions = {agent: int(space.n) for agent, space in zip(agents, action_spaces)}
        self.own_cells = {agent: tuple(slice(0, n) for n in space.shape) for agent, space in zip(agents, observation_spaces)}

    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        return self.padded_observation_space

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        return self.padded_action_space

    def _pad(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shape, dtype = self.padded_observation_space.shape, self.padded_observation_space.dtype
        padded = {}
        for agent, observation in observations.items():
            if observation.shape == shape:
                padded[agent] = observation
            else:
                padded[agent] = out = np.zeros(shape, dtype=dtype)
                out[self.own_cells[agent]] = observation
        return padded

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._pad(observations), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Step with every agent's action, which must be one of its OWN actions.

        Raises:
            ValueError: an action in the padding (at or above the agent's own count).
        """
        for agent, action in actions.items():
            if action is not None and action >= self.own_n_actions[agent]:
                raise ValueError(
                    f"action {action} of {agent} is a padding action: {agent} has {self.own_n_actions[agent]} actions "
                    f"(the padded space has {self.padded_action_space.n}); its policy must output only its own actions"
                )
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        return self._pad(observations), rewards, terminations, truncations, infos
