"""One game of a ``GridCore`` in MAgent2's per-agent layout: each group its own spaces.

Games whose groups differ (combined arms' melee and ranged units, tiger-deer's deer and tigers) give
every group its own action count and observation shape, as MAgent2 does. ``observation_layout`` says
which feature columns a core tiles after the view channels (MAgent2's ``extra_features`` and
minimap position) and the bounds of each type's observation; ``SingleGame`` is the ``ArrayCore`` the
PettingZoo adapter drives over one game of such a core, cutting each group's rows to its own view
window, channels and actions. A game's env subclasses it with its scoreboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import gymnasium
import numpy as np

from mfenvs.common.adapter import CoreOutput
from mfenvs.gridworld.core import GridCore
from mfenvs.gridworld.game import Game
from mfenvs.gridworld.observe import VIEW_DTYPES, check_view_dtype


def observation_layout(
    game: Game, extra_features: bool, reward_range: tuple[float, float], view_dtype: str = "float32"
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """MAgent2's observation of each agent type: the feature columns tiled after the view channels, and the bounds.

    Returns ``(tiled, bounds)``: the ``[T, K]`` ``tiled_features`` table of a ``GridCore`` that yields
    this layout (per type: all its features but the position with ``extra_features``, the position
    with the minimap; -1 pads the shorter rows), and per type ``(low, high)``, the ``[V_t, V_t, C_t]``
    bounds (the type's own view window) in ``view_dtype`` (rounded to nearest for float16, which keeps
    every observation inside). ``reward_range``: the lowest and highest step reward (the bounds of the
    tiled last reward).
    """
    rows = []
    for agent_type in game.types:
        n_features = game.id_bits + agent_type.n_actions + 1
        rows.append(
            np.r_[
                np.arange(n_features) if extra_features else [],
                np.arange(n_features, n_features + 2) if game.minimap_mode else [],
            ].astype(np.int64)
        )
    width = max(len(row) for row in rows)
    tiled = np.full((len(rows), width), -1, dtype=np.int64)
    n_view = game.n_view_channels
    dtype = VIEW_DTYPES[check_view_dtype(view_dtype)]
    bounds = []
    for k, (agent_type, row) in enumerate(zip(game.types, rows)):
        tiled[k, : len(row)] = row
        size = game.type_view_size(agent_type)
        low = np.zeros((size, size, n_view + len(row)), dtype=np.float32)
        high = np.ones_like(low)
        high[..., :n_view] = 2.0  # the own minimap adds 1 at the agent's bin (MAgent2's Box(0, 2))
        if extra_features:
            reward_channel = n_view + game.id_bits + agent_type.n_actions
            low[..., reward_channel], high[..., reward_channel] = reward_range
        bounds.append((low.astype(dtype), high.astype(dtype)))
    return tiled, bounds


def reward_range(rewards: Sequence[float]) -> tuple[float, float]:
    """The range of a step reward made of any subset of these terms: the negatives' sum, the positives' sum."""
    return sum(min(r, 0.0) for r in rewards), sum(max(r, 0.0) for r in rewards)


class SingleGame:
    """One game of ``engine`` (``n_battles=1``, built with ``observation_layout``'s ``tiled_features``):
    the ``ArrayCore`` the adapter drives, with per-slot spaces (each group its own action count, each
    type its own view window and observation depth).

    Subclasses give ``scoreboard(done)``: the per-step infos shared by every agent.
    """

    def __init__(self, engine: GridCore, bounds: list[tuple[np.ndarray, np.ndarray]], action_mask: bool = False):
        if not isinstance(action_mask, bool):
            raise TypeError(f"action_mask must be a bool, got {action_mask!r}")
        self.engine = engine
        game = engine.game
        self.with_action_mask = action_mask
        # The agents are the acting groups' slots (every slot, but gather's food: ``Group.passive``),
        # a slice of the core's slots when they are contiguous (no copy of the views then).
        acting, passive = game.acting_slots, game.passive_slots
        contiguous = len(acting) > 0 and acting[-1] - acting[0] + 1 == len(acting)
        self._acting = slice(int(acting[0]), int(acting[-1]) + 1) if contiguous else acting
        self._passive = passive
        self._passive_stay = engine.tables.stay[engine.tables.slot_type[passive]]
        self.agent_names = tuple(engine.agent_names[slot] for slot in acting.tolist())
        groups = [(k, group) for k, group in enumerate(game.groups) if not group.passive]
        starts = np.concatenate([[0], np.cumsum([game.counts[k] for k, _ in groups])]).astype(int)
        #: each acting group's agents, as a slice of ``agent_names``
        self.group_slices = {group.name: slice(int(starts[j]), int(starts[j + 1])) for j, (_, group) in enumerate(groups)}
        type_of_group = [game.types.index(group.agent_type) for _, group in groups]
        #: per acting group: (agents, window crop, observation channels, action count), in the game's group order
        self._layout = []
        for j, (_, group) in enumerate(groups):
            size = bounds[type_of_group[j]][0].shape[0]
            offset = (game.view_size - size) // 2
            crop = slice(offset, offset + size)
            self._layout.append((self.group_slices[group.name], crop, bounds[type_of_group[j]][0].shape[-1], group.agent_type.n_actions))
        group_observation_spaces = [gymnasium.spaces.Box(*bounds[kind], dtype=bounds[kind][0].dtype) for kind in type_of_group]
        group_action_spaces = [gymnasium.spaces.Discrete(group.agent_type.n_actions) for _, group in groups]
        counts = [game.counts[k] for k, _ in groups]
        self.observation_spaces = tuple(space for space, n in zip(group_observation_spaces, counts) for _ in range(n))
        self.action_spaces = tuple(space for space, n in zip(group_action_spaces, counts) for _ in range(n))
        self.observation_space = self.observation_spaces[0]
        self.action_space = self.action_spaces[0]
        shape = (game.map_size, game.map_size, 1 + 2 * game.n_groups)
        self.state_space = gymnasium.spaces.Box(0.0, 1.0, shape=shape, dtype=np.float32)

    @property
    def config(self) -> Any:
        return self.engine.config

    @property
    def max_cycles(self) -> int:
        return self.engine.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.engine.config = replace(self.engine.config, max_cycles=value)

    def reset(self, seed: int | None = None) -> CoreOutput:
        return self._convert(self.engine.reset(seed))

    def step(self, actions: np.ndarray) -> CoreOutput:
        if len(self._passive):  # the passive groups stay put
            full = np.empty(self.engine.n_agents, dtype=np.int64)
            full[self._acting] = actions
            full[self._passive] = self._passive_stay
            actions = full
        return self._convert(self.engine.step(actions[None, :]))

    def state(self) -> np.ndarray:
        return self.engine.state_map(0)

    def scoreboard(self, done: bool) -> dict[str, Any]:
        """The per-step infos shared by every agent: numbers only, the same keys every step."""
        raise NotImplementedError

    def _group_rows(self, array: np.ndarray, columns: str) -> list[np.ndarray]:
        """Per-agent rows of ``[n_agents, ...]`` ``array`` (the acting slots'), each group's cut to its own view window and ``"channels"``,
        or its own ``"actions"`` (``list`` makes a group's row views at once, in C)."""
        rows: list[np.ndarray] = []
        width = array.shape[-1]
        for slots, crop, n_channels, n_actions in self._layout:
            if columns == "channels":
                cut = n_channels < width or crop.stop - crop.start < array.shape[1]  # a smaller window: cut to it
                rows += list(array[slots, crop, crop, :n_channels] if cut else array[slots])
            else:
                rows += list(array[slots, :n_actions] if n_actions < width else array[slots])
        return rows

    def _convert(self, out) -> CoreOutput:
        done = bool(out.done[0])
        agent_info = {}
        acting = self._acting
        if self.with_action_mask:
            agent_info["action_mask"] = self._group_rows(self.engine.action_masks()[0, acting].astype(np.int8), "actions")
        return CoreOutput(
            observations=self._group_rows(out.views[0, acting], "channels"),
            rewards=out.rewards[0, acting],
            terminated=out.terminated[0, acting],
            truncated=bool(out.truncated[0]),
            done=done,
            alive=out.alive[0, acting],
            mean_actions=self._group_rows(out.mean_actions[0, acting], "actions"),
            info=self.scoreboard(done),
            agent_info=agent_info,
        )
