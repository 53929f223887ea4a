"""``BattleCore``: B independent battles stepped at once on arrays; the fast path under ``battle_v0``.

Example:
    >>> import numpy as np
    >>> from mfenvs.battle import BattleConfig, BattleCore
    >>> core = BattleCore(BattleConfig(map_size=20, team_size=9), n_battles=4)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape
    ((4, 18, 13, 13, 7), (4, 18, 34))
    >>> out = core.step(np.full((4, 18), 6))  # everybody stays
    >>> out.rewards[0, 0].item()
    -0.004999999888241291
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np

from mfenvs.battle import observe, rules
from mfenvs.battle.config import N_ACTIONS, TEAMS, BattleConfig
from mfenvs.battle.spawn import initial_positions
from mfenvs.battle.state import EMPTY, NO_ACTION, BattleState
from mfenvs.common import jit
from mfenvs.common.allocator import keep_freed_memory_for_reuse
from mfenvs.common.mean_action import disk_half_widths, global_mean_action, radius_scratch
from mfenvs.common.mean_action_kernels import radius_counts
from mfenvs.common.validation import check_int


@dataclass
class BattleOutput:
    """Arrays of one ``reset`` or ``step`` of all battles (fresh arrays, never reused).

    Attributes:
        views: ``[B, N, 13, 13, C]`` view windows (zeros for dead agents): float32, or float16 with
            ``view_dtype="float16"``.
        features: ``[B, N, 34]`` float32 id bits, last action one-hot, last reward, (x, y) / map_size.
        rewards: ``[B, N]`` float32 rewards of this step (0 for agents dead before it).
        alive: ``[B, N]`` bool after the step.
        terminated: ``[B, N]`` bool: died this step, or alive when its battle ended by a wipe-out.
        truncated: ``[B]`` bool: the battle reached ``max_cycles`` this step.
        done: ``[B]`` bool: the battle is over (wiped out or truncated).
        mean_actions: ``[B, N, 21]`` float32 mean one-hot action of each agent's neighbours, computed
            on first access (from a snapshot taken at this step), so callers that do not read it
            do not pay for it.
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


class BattleCore:
    """The Battle engine over ``n_battles`` independent battles sharing one config.

    Slots ``0..n_red-1`` are red and ``n_red..N-1`` blue. Randomness (side swaps and the order of
    attacks) comes from one ``np.random.Generator`` seeded by ``reset(seed)``.

    Args:
        config: the game.
        n_battles: B, battles stepped at once (in parallel over threads when the step is large).
        spare_view_channels: extra channels after the view channels (zeros, unless ``tiled_features``).
        threads: threads of the kernels; ``None`` is Numba's setting (all cores unless
            ``NUMBA_NUM_THREADS`` or ``numba.set_num_threads`` says otherwise). Steps of fewer than
            ``mfenvs.common.jit.PARALLEL_MIN_WORK`` agents (all battles together) run on one thread.
            The results are the same whatever the thread count.
        tiled_features: indices into the 34 features repeated over the window in the first spare
            channels (what ``battle_v0`` does with ``extra_features``, as MAgent2 does).
        view_dtype: ``"float32"`` (the default) or ``"float16"``: opt-in half-size views, which halve
            the bytes written per agent-step where memory bandwidth bounds the step (thousands of
            agents); each value is exactly the float32 view's value cast to float16. Features stay float32.
    """

    def __init__(
        self,
        config: BattleConfig,
        n_battles: int = 1,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] = (),
        view_dtype: str = "float32",
    ):
        if not isinstance(config, BattleConfig):
            raise TypeError(f"config must be a BattleConfig, got {type(config).__name__}")
        self.n_battles = check_int("n_battles", n_battles, minimum=1)
        self.spare_view_channels = check_int("spare_view_channels", spare_view_channels, minimum=0)
        self.threads = jit.check_threads(threads)
        self.view_dtype = observe.check_view_dtype(view_dtype)
        self.tiled_features = np.asarray(tiled_features, dtype=np.int64).reshape(-1)
        if len(self.tiled_features) > self.spare_view_channels or not np.all(
            (self.tiled_features >= 0) & (self.tiled_features < config.n_features)
        ):
            raise ValueError(
                f"tiled_features must be at most spare_view_channels ({self.spare_view_channels}) "
                f"feature indices in [0, {config.n_features}), got {list(tiled_features)}"
            )
        keep_freed_memory_for_reuse()
        self.config = config
        n_red, n_blue = config.team_counts
        self.n_red = n_red
        self.n_agents = n_red + n_blue
        self._work = n_battles * self.n_agents  # agent slots of a step: small steps run on one thread (jit.threads)
        self.teams = np.repeat(np.array([0, 1], dtype=np.int64), [n_red, n_blue])
        self.agent_names = tuple(f"{TEAMS[t]}_{i}" for t, n in enumerate((n_red, n_blue)) for i in range(n))
        self.walls = observe.wall_map(config)
        self._groups = (np.arange(n_battles)[:, None] * 2 + self.teams[None, :]).reshape(-1)
        self.state = BattleState.empty(n_battles, self.n_agents, config.map_size)
        self._rng: np.random.Generator | None = None
        # scratch of the attack phase: each agent's victim, attacks per battle, their offsets
        self._victims = np.zeros((n_battles, self.n_agents), dtype=np.int64)
        self._n_attacks = np.zeros(n_battles, dtype=np.int64)
        self._first_attack = np.zeros(n_battles + 1, dtype=np.int64)
        # scratch of the views: each battle seen by each team, and the cells the agents were drawn on
        self._pictures = observe.empty_pictures(n_battles, config, self.walls, self.view_dtype, self.spare_view_channels)
        self._drawn = np.full((n_battles, self.n_agents), -1, dtype=np.int64)

    @property
    def _numbers(self) -> rules.RuleNumbers:
        """The config's rule numbers as float32 (recomputed if ``config`` is replaced, e.g. ``max_cycles``)."""
        if getattr(self, "_numbers_of", None) is not self.config:
            self._numbers_of, self._numbers_cache = self.config, rules.RuleNumbers.of(self.config)
        return self._numbers_cache

    # -- episode control -------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> BattleOutput:
        """Start every battle afresh; ``seed`` (re)seeds the generator."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        self.reset_battles(np.ones(self.n_battles, dtype=bool))
        return self.observe()

    def observe(self) -> BattleOutput:
        """The observations of the current state, with zero rewards and no new ends (e.g. after ``reset_battles``).

        ``done`` still flags the battles that are over and were not restarted.
        """
        if self._rng is None:
            raise RuntimeError("call reset(seed) before observe()")
        return self._output(
            np.zeros((self.n_battles, self.n_agents), np.float32),
            np.zeros((self.n_battles, self.n_agents), bool),
            np.zeros(self.n_battles, bool),
        )

    def reset_battles(self, which: np.ndarray) -> None:
        """Restart the battles selected by the ``[B]`` bool mask ``which`` (e.g. the finished ones)."""
        if self._rng is None:
            raise RuntimeError("call reset(seed) before reset_battles()")
        config, state = self.config, self.state
        for b in np.flatnonzero(which):  # one placement per battle, not per agent
            red_on_left = bool(self._rng.integers(2)) if config.random_sides else True
            positions = initial_positions(config.map_size, config.team_counts, config.positions, red_on_left)
            state.positions[b] = positions
            state.occupant[b] = EMPTY
            state.occupant[b, positions[:, 1], positions[:, 0]] = np.arange(self.n_agents)
        state.hp[which] = config.max_hp
        state.alive[which] = True
        state.last_actions[which] = NO_ACTION
        state.last_rewards[which] = 0.0
        state.last_hits[which] = False
        state.last_deaths[which] = False
        state.steps[which] = 0
        state.kills[which] = 0
        state.total_rewards[which] = 0.0
        state.done[which] = False

    def step(self, actions: np.ndarray) -> BattleOutput:
        """Advance every battle one step with ``[B, N]`` integer actions (ignored for dead agents).

        Battles that are already over stay as they are and report zero rewards; restart them with
        ``reset_battles``.
        """
        state, n_battles, n_agents = self.state, self.n_battles, self.n_agents
        actions = np.asarray(actions, dtype=np.int64).reshape(n_battles, n_agents)
        rewards = np.empty((n_battles, n_agents), dtype=np.float32)
        terminated = np.empty((n_battles, n_agents), dtype=bool)
        truncated = np.empty(n_battles, dtype=bool)
        with jit.threads(self.threads, self._work):
            n_invalid, n_attacks = rules.find_attacks(
                state.positions, state.alive, actions, state.occupant, self.teams, state.done, self._victims,
                self._n_attacks, self._first_attack,
            )  # fmt: skip
            if n_invalid:
                invalid = (actions < 0) | (actions >= N_ACTIONS)
                raise ValueError(f"actions must be in [0, {N_ACTIONS}), got {np.unique(actions[invalid]).tolist()}")
            # the random order of this step's attacks on enemies, drawn as the NumPy rules drew it
            order = self._rng.permutation(n_attacks) if n_attacks else np.zeros(0, dtype=np.int64)
            rules.step_battles(
                self._numbers, self.config.max_cycles, self.teams, self.walls, actions, self._victims,
                self._first_attack, order, state.positions, state.hp, state.alive, state.occupant,
                state.last_actions, state.last_rewards, state.last_hits, state.last_deaths, state.steps,
                state.kills, state.done, rewards, terminated, truncated,
            )  # fmt: skip
        n_red = self.n_red
        state.total_rewards[:, 0] += rewards[:, :n_red].sum(axis=1)
        state.total_rewards[:, 1] += rewards[:, n_red:].sum(axis=1)
        return self._output(rewards, terminated, truncated)

    # -- outputs ---------------------------------------------------------------------------------
    def _output(self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> BattleOutput:
        state = self.state
        with jit.threads(self.threads, self._work):
            views, features = observe.observations(
                state, self.config, self.teams, self._pictures, self._drawn, self.tiled_features
            )
        return BattleOutput(
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
        """``[B, N, 21]`` mean one-hot last action of each living agent's living teammates in range."""
        state = self.state
        return self._mean_actions(state.last_actions, state.alive, state.positions)

    def _mean_actions(self, last_actions: np.ndarray, alive: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The mean actions of the state given by these arrays (the current one, or a step's snapshot)."""
        config = self.config
        n_battles, n_agents = alive.shape
        active = (alive & (last_actions >= 0)).reshape(-1)
        if config.mean_action_radius is None:
            means = global_mean_action(np.maximum(last_actions, 0).reshape(-1), N_ACTIONS, active, self._groups)
        else:  # the kernel of radius_mean_action, without its argument conversions (these arrays are ready)
            means = np.empty((n_battles * n_agents, N_ACTIONS), dtype=np.float32)  # the kernel writes every row
            size = config.map_size
            planes, occupied = radius_scratch(N_ACTIONS, 2 * n_battles, size, size)
            with jit.threads(self.threads, self._work):
                radius_counts(
                    last_actions.reshape(-1), positions.reshape(-1, 2), active, self._groups, size, size,
                    disk_half_widths(float(config.mean_action_radius)), planes, occupied, means,
                )  # fmt: skip
        return means.reshape(n_battles, n_agents, N_ACTIONS)

    def action_masks(self) -> np.ndarray:
        """``[B, N, 21]`` bool: moves that are not blocked right now, attacks with an enemy adjacent."""
        with jit.threads(self.threads, self._work):
            return observe.action_masks(self.state, self.config, self.teams, self.walls)

    def state_map(self, battle: int = 0) -> np.ndarray:
        """MAgent2's global state of one battle: ``[map_size, map_size, 5]`` float32 indexed [y, x]."""
        return observe.state_map(self.state, self.config, self.teams, self.walls, battle)

    def results(self, battle: int = 0) -> dict[str, object]:
        """Kills, survivors and total reward of each team, and the winner so far (more kills wins)."""
        state = self.state
        kills = state.kills[battle]
        survivors = rules.team_alive_counts(state.alive, self.n_red)[battle]
        winner = "draw" if kills[0] == kills[1] else TEAMS[int(np.argmax(kills))]
        return {
            **{f"{team}_kills": int(kills[t]) for t, team in enumerate(TEAMS)},
            **{f"{team}_survivors": int(survivors[t]) for t, team in enumerate(TEAMS)},
            **{f"{team}_total_reward": float(state.total_rewards[battle, t]) for t, team in enumerate(TEAMS)},
            "winner": winner,
        }
