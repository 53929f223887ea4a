"""``ArrayParallelEnv``: the one PettingZoo ``ParallelEnv`` adapter over every array core.

An environment core speaks arrays: agents are slots ``0..n_agents-1``, actions an ``int`` array,
observations ``[n_agents, ...]``. This module converts agent names to slots and back, validates the
action dict, builds the five PettingZoo dicts, removes (or absorbs) finished agents, and delegates
rendering to ``render/``. It holds no game rules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv

from mfenvs.common.validation import EpisodeFinishedError, check_choice, check_render_mode

DEAD_AGENT_MODES = ("remove", "absorb")


@dataclass
class CoreOutput:
    """What a core returns from ``reset`` and ``step``: one row per agent slot.

    Attributes:
        observations: ``[n_agents, *obs_shape]``, an array the core never writes again while anything
            refers to it, or a sequence of per-slot rows (cores with per-slot spaces).
        rewards: ``[n_agents]`` float32 reward of this step (zeros at reset).
        terminated: ``[n_agents]`` bool, the agent's episode ended by the rules this step.
        truncated: the episode hit ``max_cycles`` this step (applies to every agent still in it).
        done: the episode is over (every agent terminated, or truncated).
        alive: ``[n_agents]`` bool, the agent is still in play after this step.
        mean_actions: ``[n_agents, n_actions]`` float32 neighbourhood mean action of this step.
        info: values shared by every agent's info dict (``x``, ``G``, end-of-episode results...).
        agent_info: extra per-agent arrays, row ``i`` goes to agent ``i``'s info dict.
    """

    observations: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: bool
    done: bool
    alive: np.ndarray
    mean_actions: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    agent_info: dict[str, np.ndarray] = field(default_factory=dict)


class ArrayCore(Protocol):
    """What ``ArrayParallelEnv`` needs from an environment core.

    Every agent has the core's ``observation_space`` and ``action_space``, unless the core also has
    ``observation_spaces`` and ``action_spaces``: one space per slot (games whose groups differ, e.g.
    combined arms' melee and ranged units). Then ``CoreOutput.observations`` and ``mean_actions`` may be
    sequences of per-slot rows of different shapes.
    """

    agent_names: tuple[str, ...]
    observation_space: gymnasium.Space
    action_space: gymnasium.spaces.Discrete
    state_space: gymnasium.Space
    max_cycles: int

    def reset(self, seed: int | None = None) -> CoreOutput: ...

    def step(self, actions: np.ndarray) -> CoreOutput: ...

    def state(self) -> np.ndarray: ...


class ArrayParallelEnv(ParallelEnv):
    """PettingZoo parallel API over an ``ArrayCore``; subclasses only build their core.

    Args:
        core: the environment core.
        render_mode: ``None``, ``"human"`` or ``"rgb_array"``.
        dead_agents: ``"remove"`` (PettingZoo contract: a finished agent is in all five dicts on the
            step it finishes and absent afterwards) or ``"absorb"`` (the agent set stays fixed until
            the episode ends; dead agents get zero observations and rewards, their actions are ignored
            and their ``info["alive"]`` is False).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"], "render_fps": 10}
    #: ``"module:function"`` of the pure draw function in ``render/``: ``draw(core, surface)``.
    draw_function: ClassVar[str] = ""

    def __init__(self, core: ArrayCore, render_mode: str | None = None, dead_agents: str = "remove"):
        self.core = core
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.dead_agents = check_choice("dead_agents", dead_agents, DEAD_AGENT_MODES)
        self.possible_agents = list(core.agent_names)
        self._slot_of = {name: slot for slot, name in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        self._slots = np.zeros(0, dtype=np.intp)  # slot of each name in self.agents
        self._alive = np.zeros(len(self.possible_agents), dtype=bool)
        self._finished = True
        self._started = False
        self._renderer = None
        self._observation_spaces = getattr(core, "observation_spaces", None)
        self._action_spaces = getattr(core, "action_spaces", None)
        #: the number of actions of every slot (one int when all agents share the action space)
        self._n_actions: int | np.ndarray = (
            int(core.action_space.n) if self._action_spaces is None else np.array([space.n for space in self._action_spaces])
        )
        #: The infos of the last step of the latest finished episode, kept across ``reset()``: vector
        #: envs that reset finished copies at once (SuperSuit) hand on the new episode's infos instead.
        self.final_infos: dict[str, dict[str, Any]] = {}

    # -- PettingZoo attributes -------------------------------------------------------------------
    @property
    def max_cycles(self) -> int:
        """Steps after which the episode is truncated (settable, as ``parallel_api_test`` does)."""
        return self.core.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.core.max_cycles = value

    @property
    def state_space(self) -> gymnasium.Space:
        return self.core.state_space

    def observation_space(self, agent: str) -> gymnasium.Space:
        self._check_agent_name(agent)
        if self._observation_spaces is None:
            return self.core.observation_space
        return self._observation_spaces[self._slot_of[agent]]

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        self._check_agent_name(agent)
        if self._action_spaces is None:
            return self.core.action_space
        return self._action_spaces[self._slot_of[agent]]

    def state(self) -> np.ndarray:
        if not self._started:
            raise EpisodeFinishedError("state() called before reset()")
        return self.core.state()

    # -- reset / step ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None):
        output = self.core.reset(seed=seed)
        self.agents = list(self.possible_agents)
        self._slots = np.arange(len(self.agents), dtype=np.intp)
        self._alive = output.alive.copy()
        self._finished = False
        self._started = True
        observations = dict(zip(self.agents, output.observations))
        infos = self._infos(output, self._slots)
        if self.render_mode == "human":
            self.render()
        return observations, infos

    def step(self, actions: dict[str, Any]):
        if self._finished:
            what = "the episode has ended" if self._started else "reset() has not been called"
            raise EpisodeFinishedError(f"step() called but {what}; call reset() first")
        action_array = self._action_array(actions)
        output = self.core.step(action_array)

        names, slots = self.agents, self._slots
        every_slot = len(slots) == len(self.possible_agents)
        terminated = output.terminated if every_slot else output.terminated[slots]
        if self.dead_agents == "absorb":
            terminated = terminated | ~output.alive[slots] if output.done else np.zeros(len(slots), dtype=bool)

        observations = dict(zip(names, _rows(output.observations, slots)))
        rewards = dict(zip(names, (output.rewards if every_slot else output.rewards[slots]).tolist()))
        terminations = dict(zip(names, terminated.tolist()))
        truncations = dict.fromkeys(names, bool(output.truncated))
        infos = self._infos(output, slots)

        self._alive = output.alive.copy()
        if output.done:
            self.agents, self._slots, self._finished = [], slots[:0], True
            self.final_infos = infos
        elif self.dead_agents == "remove" and terminated.any():
            self._slots = slots[~terminated]
            self.agents = [self.possible_agents[s] for s in self._slots.tolist()]
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def _infos(self, output: CoreOutput, slots: np.ndarray) -> dict[str, dict[str, Any]]:
        """A fresh dict per agent (users may mutate it): the shared values, then the per-agent columns."""
        shared = output.info
        infos = [dict(shared, mean_action=row) for row in _rows(output.mean_actions, slots)]
        columns = {key: _rows(value, slots) for key, value in output.agent_info.items()}
        if self.dead_agents == "absorb":
            columns["alive"] = output.alive[slots].tolist()
        for key, column in columns.items():  # column by column: about twice as fast as a dict per row
            for info, value in zip(infos, column):
                info[key] = value
        return dict(zip(self.agents, infos))

    def _action_array(self, actions: dict[str, Any]) -> np.ndarray:
        """Validate the action dict and return one action per slot (0 for slots that do not act)."""
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict mapping agent name to action, got {type(actions).__name__}")
        acting = self._alive[self._slots]
        names = [n for n, a in zip(self.agents, acting) if a] if not acting.all() else self.agents
        # Keys that are not agents of the episode exist only if the dict has more keys than acting agents
        # or lacks one of them; the set difference (costly for thousands of agents) runs only then.
        if len(actions) != len(names):
            self._check_no_unexpected_agents(actions)
        try:
            values = [actions[name] for name in names]
        except KeyError as missing:
            self._check_no_unexpected_agents(actions)  # report an unknown name before the missing one
            raise ValueError(f"live agent {missing.args[0]!r} is missing from the actions dict") from None
        values = _integer_array(names, values)
        n_actions = self._n_actions
        if not isinstance(n_actions, int):  # one limit per slot: those of the acting agents, in their order
            n_actions = n_actions if len(values) == len(n_actions) else n_actions[self._slots[acting]]
        if len(values) and (values.min() < 0 or (values >= n_actions).any()):
            index = int(np.argmax((values < 0) | (values >= n_actions)))
            limit = n_actions if isinstance(n_actions, int) else int(n_actions[index])
            raise ValueError(f"action {int(values[index])} of agent {names[index]!r} is out of range [0, {limit})")
        if len(values) == len(self.possible_agents):  # every slot acts, in slot order
            return values.astype(np.int64)
        action_array = np.zeros(len(self.possible_agents), dtype=np.int64)
        action_array[self._slots[acting]] = values
        return action_array

    def check_action(self, agent: str, action: Any) -> None:
        """Check one agent's action as ``step()`` would (the AEC API checks each action in its own ``step()``).

        Raises:
            EpisodeFinishedError: no episode is running.
            ValueError: ``agent`` is not an agent of the episode, or the action is out of range.
            TypeError: the action is not an integer.
        """
        if self._finished:
            what = "the episode has ended" if self._started else "reset() has not been called"
            raise EpisodeFinishedError(f"step() called but {what}; call reset() first")
        self._check_agent_name(agent)
        slot = self._slot_of[agent]
        if not self._alive[slot]:
            return  # a dead agent's action is ignored, as in the parallel API
        if not _is_integer_action(action):
            raise TypeError(f"action of agent {agent!r} must be an integer, got {action!r}")
        n_actions = self._n_actions if isinstance(self._n_actions, int) else int(self._n_actions[slot])
        if not 0 <= int(action) < n_actions:
            raise ValueError(f"action {int(action)} of agent {agent!r} is out of range [0, {n_actions})")

    def _check_no_unexpected_agents(self, actions: dict[str, Any]) -> None:
        """Raise for names that are not agents of this environment at all.

        Actions for agents that have already finished are ignored, as PettingZoo's own conversions
        and MAgent2 do: consumers that batch over a fixed agent list (TorchRL) keep sending them.
        """
        unknown = actions.keys() - self._slot_of.keys()
        if unknown:
            name = sorted(map(str, unknown))[0]
            raise ValueError(f"unknown agent {name!r} in actions (agents are e.g. {self.possible_agents[0]!r})")

    def _check_agent_name(self, agent: str) -> None:
        if agent not in self._slot_of:
            raise ValueError(f"unknown agent {agent!r} (agents are e.g. {self.possible_agents[0]!r})")

    # -- rendering -------------------------------------------------------------------------------
    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        if not self._started:
            raise EpisodeFinishedError("render() called before reset()")
        if self._renderer is None:
            from render.window import Renderer

            module_name, function_name = self.draw_function.split(":")
            draw = getattr(importlib.import_module(module_name), function_name)
            self._renderer = Renderer(draw, self.render_mode, self.metadata["render_fps"], self.metadata["name"])
        return self._renderer.render(self.core)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


_BOOL_TYPES = frozenset((bool, np.bool_))


def _integer_array(names: list[str], values: list[Any]) -> np.ndarray:
    """One integer array from the agents' actions, or a ``TypeError`` naming the first non-integer one.

    The fast path is one ``np.asarray``. Bools are rejected even among ints (where NumPy would quietly
    read ``True`` as 1); actions NumPy cannot stack (a list, an array of shape (1,)) or can only stack as
    floats or objects (``np.uint64`` beside ``int``, ints beyond int64) take the slow path.
    """
    try:
        array = np.asarray(values) if values else np.zeros(0, dtype=np.int64)
    except ValueError:  # ragged: some action is a sequence
        array = None
    stacked = array is not None and array.dtype.kind in "iu" and array.ndim == 1
    if stacked and _BOOL_TYPES.isdisjoint(map(type, values)):
        return array
    for name, value in zip(names, values):
        if not _is_integer_action(value):
            raise TypeError(f"action of agent {name!r} must be an integer, got {value!r}")
    return np.array([int(value) for value in values], dtype=object)  # exact, so the range check names the value


def _rows(array: np.ndarray, slots: np.ndarray) -> list[np.ndarray]:
    """Views of ``array[slot]`` for each slot (no copy of the whole array, unlike fancy indexing).

    ``list(array)`` makes every row's view in C; picking from that list is about twice as fast as
    indexing ``array`` once per slot, even when a tenth of the rows go unused.
    """
    every_row = list(array)
    if len(slots) == len(array):
        return every_row
    return [every_row[slot] for slot in slots.tolist()]


def _is_integer_action(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) or (
        isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iu"
    )
