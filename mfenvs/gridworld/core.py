"""``GridCore``: B independent games of one ``Game`` stepped at once on arrays; the engine under every gridworld env.

Example:
    >>> from typing import Any

import numpy as np
    >>> from mfenvs.battle import BattleConfig
    >>> from mfenvs.battle.game import battle_game
    >>> from mfenvs.gridworld import GridCore
    >>> core = GridCore(battle_game(BattleConfig(map_size=20, team_size=9)), n_battles=4)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape
    ((4, 18, 13, 13, 7), (4, 18, 34))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial

import numpy as np

from mfenvs.common import jit
from mfenvs.common.allocator import keep_freed_memory_for_reuse
from mfenvs.common.mean_action import (
    disk_half_widths,
    global_mean_action,
    radius_scratch,
)
from mfenvs.common.mean_action_kernels import radius_counts
from mfenvs.common.validation import check_float, check_int
from mfenvs.gridworld import observe, rules
from mfenvs.gridworld.game import Game
from mfenvs.gridworld.state import EMPTY, NO_ACTION, GridState


@dataclass
class GridOutput:
    """Arrays of one ``reset`` or ``step`` of all games.

    The arrays are the caller's: the core never writes into an array that anything still refers to
    (it reuses a views buffer only once every reference to it, and to its views, is gone).

    Attributes:
        views: ``[B, N, V, V, C]`` view windows (zeros for dead agents, and for a passive group's slots
            unless the core was made with ``observe_passive``): float32, or float16 with
            ``view_dtype="float16"``. V is the largest view of the game's types; a type with a smaller
            view has its window at the centre, zeros around it (``Game.type_view_size``).
        features: ``[B, N, F]`` float32 id bits, last action one-hot, last reward, (x, y) / map_size.
        rewards: ``[B, N]`` float32 rewards of this step (0 for agents dead before it).
        alive: ``[B, N]`` bool after the step.
        terminated: ``[B, N]`` bool: died this step, or alive when its game ended by a wipe-out.
        truncated: ``[B]`` bool: the game reached ``max_cycles`` this step.
        done: ``[B]`` bool: the game is over (a group wiped out, or truncated).
        mean_actions: ``[B, N, A]`` float32 mean one-hot action of each agent's neighbours in its own
            group (zeros for a passive group's slots: ``Group.passive``), computed on first access (from
            a snapshot taken at this step), so callers that do not read it do not pay for it.
    """

    views: np.ndarray
    features: np.ndarray
    rewards: np.ndarray
    alive: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    done: np.ndarray
    compute_mean_actions: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @cached_property
    def mean_actions(self) -> np.ndarray:
        return self.compute_mean_actions()


def tiled_feature_table(
    game: Game, tiled_features: Sequence[int] | Sequence[Sequence[int]] | np.ndarray, spare_view_channels: int
) -> np.ndarray:
    """``tiled_features`` as a ``[T, K]`` int64 table, one row per agent type (a flat list: the same row
    for every type), checked: at most ``spare_view_channels`` columns, each a feature index or -1."""
    table = np.asarray(tiled_features, dtype=np.int64)
    n_types = len(game.types)
    if table.ndim <= 1:
        table = np.tile(table.reshape(1, -1), (n_types, 1))
    if table.ndim != 2 or len(table) != n_types or table.shape[1] > spare_view_channels or not np.all(
        (table >= -1) & (table < game.n_features)
    ):
        raise ValueError(
            f"tiled_features must be at most spare_view_channels ({spare_view_channels}) feature indices in "
            f"[0, {game.n_features}), or a table of such rows (-1 for a zero channel) per agent type ({n_types}), "
            f"got {np.asarray(tiled_features).tolist()}"
        )
    return np.ascontiguousarray(table)


_POOLED_REFERENCES = 2
"""``sys.getrefcount`` of a pooled views storage nothing else refers to: the pool's tuple and the
call's argument (checked by tests/mfenvs/gridworld/test_engine.py)."""


class GridCore:
    """The gridworld engine over ``n_battles`` independent games of one ``Game``.

    Slots are grouped by group in the game's order. Randomness (the map's placement and the order
    of attacks) comes from one ``np.random.Generator`` seeded by ``reset(seed)``.

    Args:
        game: the game (types, groups, rules, map).
        n_battles: B, games stepped at once (in parallel over threads when the step is large).
        max_cycles: steps before a game is truncated.
        mean_action_radius: neighbourhood of the mean action (own group, ``dx^2 + dy^2 <= r^2``);
            ``None`` is the whole group.
        spare_view_channels: extra channels after the view channels (zeros, unless ``tiled_features``).
        threads: threads of the kernels; ``None`` is Numba's setting (all cores unless
            ``NUMBA_NUM_THREADS`` or ``numba.set_num_threads`` says otherwise). Steps of fewer than
            ``mfenvs.common.jit.PARALLEL_MIN_WORK`` agents (all games together) run on one thread.
            The results are the same whatever the thread count.
        tiled_features: indices into the features repeated over the window in the first spare
            channels (what the PettingZoo envs do with ``extra_features``, as MAgent2 does): one list
            for every agent type, or a ``[T, K]`` table with a row per type (``Game.types`` order;
            -1: a zero channel), for games whose types have features of different lengths.
        view_dtype: ``"float32"`` (the default) or ``"float16"``: opt-in half-size views, each value
            exactly the float32 view's value cast to float16. Features stay float32.
        observe_passive: also make the views of the passive groups' slots (``Group.passive``: gather's
            2,272 food, whose views no env hands out, as MAgent2's wrapper never observes them); zeros otherwise.
    """

    def __init__(
        self,
        game: Game,
        n_battles: int = 1,
        max_cycles: int = 1000,
        mean_action_radius: float | None = None,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] | Sequence[Sequence[int]] | np.ndarray = (),
        view_dtype: str = "float32",
        observe_passive: bool = False,
    ):
        if not isinstance(game, Game):
            raise TypeError(f"game must be a Game, got {type(game).__name__}")
        self.n_battles = check_int("n_battles", n_battles, minimum=1)
        self.max_cycles = check_int("max_cycles", max_cycles, minimum=1)
        if mean_action_radius is not None:
            check_float("mean_action_radius", mean_action_radius, positive=True)
        self.mean_action_radius = mean_action_radius
        self.spare_view_channels = check_int("spare_view_channels", spare_view_channels, minimum=0)
        self.threads = jit.check_threads(threads)
        self.view_dtype = observe.check_view_dtype(view_dtype)
        self.tiled_features = tiled_feature_table(game, tiled_features, self.spare_view_channels)
        keep_freed_memory_for_reuse()
        self.game = game
        self.tables = game.tables()
        self.n_agents = game.n_agents
        self.n_groups = game.n_groups
        self.n_actions = game.max_actions
        self._work = n_battles * self.n_agents  # agent slots of a step: small steps run on one thread (jit.threads)
        self.group_starts = game.group_starts
        self.agent_names = tuple(f"{g.name}_{i}" for g, n in zip(game.groups, game.counts) for i in range(n))
        #: ``[B, H, W]`` bool walls of each game (the border ring, the game's walls, and those its map drew)
        self.wall_maps = np.repeat(game.wall_map()[None], n_battles, axis=0)
        # per view size, the view circle's half widths (tuples: see observe.view_window)
        self._half_widths = tuple(
            tuple(observe.circle_half_widths(size // 2, size % 2).tolist())
            for size in sorted(set(self.tables.view_sizes.tolist()), reverse=True)
        )
        #: slots whose bodies are wider than one cell (adversarial pursuit's 2 x 2 predators)
        self._wide_slots = np.flatnonzero(self.tables.widths[self.tables.slot_type] > 1)
        self._groups = (np.arange(n_battles)[:, None] * self.n_groups + self.tables.slot_group[None, :]).reshape(-1)
        #: ``[N]`` the slot acts (every slot but a passive group's: gather's food gets no mean action)
        self._acting = np.ones(self.n_agents, dtype=bool)
        self._acting[game.passive_slots] = False
        #: ``[N]`` the slots whose views are made
        self._observed = self._acting | bool(observe_passive)
        self.state = GridState.empty(n_battles, self.n_agents, game.map_size, self.n_groups)
        self._rng: np.random.Generator | None = None
        # scratch of the attack phase: each agent's victim, attacks per game, their offsets
        self._victims = np.zeros((n_battles, self.n_agents), dtype=np.int64)
        self._n_attacks = np.zeros(n_battles, dtype=np.int64)
        self._first_attack = np.zeros(n_battles + 1, dtype=np.int64)
        # scratch of the views: each game seen by each group, and the cells the agents were drawn on
        self._pictures = observe.empty_pictures(n_battles, game, self.wall_maps, self.view_dtype, self.spare_view_channels)
        self._drawn = np.full((n_battles, self.n_agents), -1, dtype=np.int64)
        self._view_buffers: list[tuple[np.ndarray, np.ndarray]] = []  # see _views_buffer

    def _fill_bodies(self, battle: int, positions: np.ndarray) -> None:
        """Mark every cell of the bodies wider than 1 cell with their slot in game ``battle``'s occupancy."""
        widths = self.tables.widths[self.tables.slot_type]
        for slot in self._wide_slots:
            x, y = positions[slot]
            self.state.occupant[battle, y : y + widths[slot], x : x + widths[slot]] = slot

    @property
    def walls(self) -> np.ndarray:
        """``[H, W]`` bool walls of game 0 (every game's, unless the game draws its walls: ``wall_maps``)."""
        return self.wall_maps[0]

    @property
    def slot_group(self) -> np.ndarray:
        """``[N]`` int64 group of each slot."""
        return self.tables.slot_group

    # -- episode control -------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> GridOutput:
        """Start every game afresh; ``seed`` (re)seeds the generator."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        self.reset_battles(np.ones(self.n_battles, dtype=bool))
        return self.observe()

    def observe(self) -> GridOutput:
        """The observations of the current state, with zero rewards and no new ends (e.g. after ``reset_battles``).

        ``done`` still flags the games that are over and were not restarted.
        """
        if self._rng is None:
            raise RuntimeError("call reset(seed) before observe()")
        return self._output(
            np.zeros((self.n_battles, self.n_agents), np.float32),
            np.zeros((self.n_battles, self.n_agents), bool),
            np.zeros(self.n_battles, bool),
        )

    def reset_battles(self, which: np.ndarray) -> None:
        """Restart the games selected by the ``[B]`` bool mask ``which`` (e.g. the finished ones)."""
        if self._rng is None:
            raise RuntimeError("call reset(seed) before reset_battles()")
        state = self.state
        for b in np.flatnonzero(which):  # one placement per game, not per agent
            walls, positions = self.game.initial_layout(self._rng)
            if walls is not None:  # the game drew this episode's walls
                self.wall_maps[b] = walls
                observe.draw_walls(self._pictures, b, walls, self.game.view_radius)
            state.positions[b] = positions
            state.occupant[b] = EMPTY
            state.occupant[b, positions[:, 1], positions[:, 0]] = np.arange(self.n_agents)
            if self._wide_slots.size:  # the other cells of bodies wider than 1 (their top-left cells are done)
                self._fill_bodies(b, positions)
        state.hp[which] = self.tables.max_hp[self.tables.slot_type]
        state.alive[which] = True
        state.last_actions[which] = NO_ACTION
        state.last_rewards[which] = 0.0
        state.last_hits[which] = False
        state.last_deaths[which] = False
        state.steps[which] = 0
        state.kills[which] = 0
        state.kill_table[which] = 0
        state.total_rewards[which] = 0.0
        state.done[which] = False

    def step(self, actions: np.ndarray) -> GridOutput:
        """Advance every game one step with ``[B, N]`` integer actions (ignored for dead agents).

        Games that are already over stay as they are and report zero rewards; restart them with
        ``reset_battles``.
        """
        state, n_battles, n_agents = self.state, self.n_battles, self.n_agents
        actions = np.asarray(actions, dtype=np.int64).reshape(n_battles, n_agents)
        rewards = np.empty((n_battles, n_agents), dtype=np.float32)
        terminated = np.empty((n_battles, n_agents), dtype=bool)
        truncated = np.empty(n_battles, dtype=bool)
        with jit.threads(self.threads, self._work):
            tables = self.tables
            n_invalid, n_attacks = rules.find_attacks(
                tables.slot_type, tables.slot_group, tables.n_moves, tables.n_actions, tables.action_dx, tables.action_dy,
                tables.attack_in_group, state.positions, state.alive, actions, state.occupant, state.done, self._victims,
                self._n_attacks, self._first_attack,
            )  # fmt: skip
            if n_invalid:
                limits = self.tables.n_actions[self.tables.slot_type]
                invalid = (actions < 0) | (actions >= limits)
                raise ValueError(f"actions must be in [0, {self.n_actions}), got {np.unique(actions[invalid]).tolist()}")
            # the random order of this step's attacks, drawn from the core's generator
            order = self._rng.permutation(n_attacks) if n_attacks else np.zeros(0, dtype=np.int64)
            rules.step_battles(
                *tables, self.n_groups, self.max_cycles, *self.game.move_bands, self.wall_maps, actions, self._victims,
                self._first_attack, order, state.positions, state.hp, state.alive, state.occupant,
                state.last_actions, state.last_rewards, state.last_hits, state.last_deaths, state.steps,
                state.kill_table, state.done, rewards, terminated, truncated,
            )  # fmt: skip
        state.kills[:] = state.kill_table.sum(axis=2)
        starts = self.group_starts
        for group in range(self.n_groups):
            state.total_rewards[:, group] += rewards[:, starts[group] : starts[group + 1]].sum(axis=1)
        return self._output(rewards, terminated, truncated)

    # -- outputs ---------------------------------------------------------------------------------
    VIEW_BUFFERS = 3
    """Views buffers a core keeps for reuse: a step's output is usually still held while the next is made."""

    @property
    def config(self) -> Any:
        """The game's config (``BattleConfig``, ``TigerDeerConfig``...), which each game's core keeps in ``_config``."""
        return self._config

    @config.setter
    def config(self, value: Any) -> None:
        """Replace the config; only ``max_cycles`` may differ (the arrays are sized by the rest)."""
        if replace(value, max_cycles=self._config.max_cycles) != self._config:
            raise ValueError(f"only max_cycles of a {type(self).__name__}'s config can be changed")
        self._config = value
        self.max_cycles = value.max_cycles

    def _views_buffer(self) -> tuple[np.ndarray, np.ndarray]:
        """A views buffer nothing outside the core refers to (reused: the cells it knows hold zeros stay
        unwritten, ``observe.write_observations``), or a new one, kept if there are fewer than ``VIEW_BUFFERS``.

        A buffer is free when its reference count is the pool's own: every array handed out (the views,
        a float16 view of them, a slice, a tensor that shares the memory) refers to it until it is gone.
        """
        for buffer in self._view_buffers:
            if sys.getrefcount(buffer[0]) == _POOLED_REFERENCES:
                return buffer
        buffer = observe.empty_views(self.n_battles, self.n_agents, self.game.view_size, self._pictures)
        if len(self._view_buffers) < self.VIEW_BUFFERS:
            self._view_buffers.append(buffer)
        return buffer

    def __getstate__(self) -> dict:
        """Pickled and copied without the views buffers (a copy makes its own)."""
        return {**self.__dict__, "_view_buffers": []}

    def _output(self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> GridOutput:
        state = self.state
        with jit.threads(self.threads, self._work):
            views, features = observe.observations(
                state, self.game, self.tables, self._half_widths, self._pictures, self._drawn, self.tiled_features,
                self._views_buffer(), self._observed,
            )
        return GridOutput(
            views=views,
            features=features,
            rewards=rewards,
            alive=state.alive.copy(),
            terminated=terminated,
            truncated=truncated,
            done=state.done.copy(),
            compute_mean_actions=partial(
                self._mean_actions, state.last_actions.copy(), state.alive.copy(), state.positions.copy()
            ),
        )

    def mean_actions(self) -> np.ndarray:
        """``[B, N, A]`` mean one-hot last action of each living agent's living group mates in range
        (zeros for the slots of passive groups, which never act)."""
        state = self.state
        return self._mean_actions(state.last_actions, state.alive, state.positions)

    def _mean_actions(self, last_actions: np.ndarray, alive: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The mean actions of the state given by these arrays (the current one, or a step's snapshot)."""
        n_battles, n_agents = alive.shape
        n_actions = self.n_actions
        active = (alive & (last_actions >= 0) & self._acting).reshape(-1)
        if self.mean_action_radius is None:
            means = global_mean_action(np.maximum(last_actions, 0).reshape(-1), n_actions, active, self._groups)
        else:  # the kernel of radius_mean_action, without its argument conversions (these arrays are ready)
            means = np.empty((n_battles * n_agents, n_actions), dtype=np.float32)  # the kernel writes every row
            size = self.game.map_size
            planes, occupied = radius_scratch(n_actions, self.n_groups * n_battles, size, size)
            with jit.threads(self.threads, self._work):
                radius_counts(
                    last_actions.reshape(-1), positions.reshape(-1, 2), active, self._groups, size, size,
                    disk_half_widths(float(self.mean_action_radius)), planes, occupied, means,
                )  # fmt: skip
        return means.reshape(n_battles, n_agents, n_actions)

    def action_masks(self) -> np.ndarray:
        """``[B, N, A]`` bool: moves that are not blocked right now, attacks on an agent they can hit."""
        with jit.threads(self.threads, self._work):
            return observe.action_masks(self.state, self.game, self.tables, self.wall_maps)

    def state_map(self, battle: int = 0) -> np.ndarray:
        """MAgent2's global state of one game: ``[map_size, map_size, 1 + 2 G]`` float32 indexed [y, x]."""
        return observe.state_map(self.state, self.game, self.tables, self.wall_maps[battle], battle)

    def group_alive_counts(self) -> np.ndarray:
        """``[B, G]`` living agents of each group."""
        return rules.group_alive_counts(self.state.alive, self.group_starts)
