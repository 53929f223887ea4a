"""Battle, Battlefield, combined arms, tiger-deer, gather, adversarial pursuit, Gaussian Squeeze and Ising as native batched TorchRL environments (``batch_size=[B]``).

Needs the ``compat`` extra (``torchrl``, ``tensordict``); ``import mfenvs`` does not load this module.

Example:
    >>> from mfenvs.torchrl_env import BattleEnv, GaussianSqueezeEnv
    >>> env = BattleEnv(num_envs=4, map_size=16, max_cycles=50, seed=0)  # 4 battles of 10 v 10
    >>> rollout = env.rollout(20, break_when_any_done=False)  # random actions, finished battles restart
    >>> rollout["next", "red", "reward"].shape
    torch.Size([4, 20, 10, 1])
    >>> squeeze = GaussianSqueezeEnv(num_envs=2, n_agents=100, seed=0)  # one group, "agents"
    >>> squeeze.rollout(3)["next", "agents", "mean_action"].shape
    torch.Size([2, 3, 100, 10])

All three share one layout: agent groups are nested keys holding ``[B, n, ...]`` tensors, ``n`` agents in
core slot order (``env.group_map`` names them), with ``action``, ``reward`` ``[B, n, 1]`` and per-agent
``done`` / ``terminated`` / ``truncated`` ``[B, n, 1]``; the environment's own flags are at the root,
``[B, 1]``. Actions are ``[B, n]`` int64, or one-hot ``[B, n, n_actions]`` with ``categorical_actions=False``.

``BattleEnv`` (``BattleCore``, all B battles stepped at once), groups ``red`` and ``blue``, or only ``red``
with an ``opponent`` playing blue (``BattlefieldEnv``: the same on MAgent2's battlefield map, 12 v 12 at 80):

| key | shape | |
|---|---|---|
| ``(group, "observation")`` | ``[B, n, 13, 13, C]`` float32 (float16 with ``view_dtype="float16"``) | ``battle_v0``'s observation (same channels) |
| ``(group, "features")`` | ``[B, n, 34]`` float32 | id bits, last action one-hot, last reward, position |
| ``(group, "mean_action")`` | ``[B, n, 21]`` float32 | mean last action of the living teammates in range |
| ``(group, "mask")`` | ``[B, n]`` bool | the agent is alive (zero observations, actions ignored otherwise) |
| ``(group, "done" / "terminated" / "truncated")`` | ``[B, n, 1]`` bool | terminated: dead, or the battle ended by a wipe-out; truncated: alive at ``max_cycles`` |
| ``"kills"`` | ``[B, 2]`` int64 | enemies killed so far by red and by blue (more kills wins) |
| ``"done" / "terminated" / "truncated"`` | ``[B, 1]`` bool | the battle is over |

``CombinedArmsEnv`` (``CombinedArmsCore``): one group per MAgent2 group (``redmelee``, ``redranged``,
``bluemelee``, ``blueranged``), each with its own action count and observation, feature and mean-action
sizes (see the class). ``TigerDeerEnv`` (``TigerDeerCore``): the same with MAgent2's ``deer`` and ``tiger``.
``GatherEnv`` (``GatherCore``): the one MAgent2 group that acts, ``omnivore`` (its food never acts).
``AdversarialPursuitEnv`` (``AdversarialPursuitCore``): with its ``predator`` and ``prey``.

A dead agent stays ``done`` (and masked) until its battle restarts, so GAE-style code needs no special
case. Because dead agents are ``done``, ``rollout(..., break_when_any_done=True)`` stops at the first
death: use ``break_when_any_done=False`` (finished battles restart) or a collector.

``GaussianSqueezeEnv`` and ``IsingEnv`` (B copies of ``GaussianSqueezeCore`` / ``IsingCore``, stepped one
after another): one group ``agents`` with a fixed agent set, episodes end by truncation only:

| key | shape | |
|---|---|---|
| ``("agents", "observation")`` | ``[B, n, 3]`` / ``[B, n, 5]`` float32 | the PettingZoo env's observation |
| ``("agents", "mean_action")`` | ``[B, n, n_actions]`` float32 | ``infos[agent]["mean_action"]`` |
| ``"state"`` | ``[B, n_actions]`` float32 / ``[B, size, size]`` int8 | the PettingZoo env's ``state()`` |
| ``("info", name)`` | ``[B]`` float32 | Gaussian Squeeze ``x``, ``G``, ``G_opt``; Ising ``xi``, ``energy`` |

Resets: copies restart independently: ``reset`` with a root ``"_reset"`` ``[B, 1]`` mask (what rollouts
and collectors pass) restarts the selected copies; per-agent ``_reset`` entries follow the root one.

Seeding: ``set_seed(seed)`` (or ``seed=`` here, or ``reset(seed=...)``) seeds the next full reset:
``BattleCore.reset(seed)`` for Battle; copy ``i`` of Gaussian Squeeze / Ising is reset with ``seed + i``,
as its PettingZoo env would be. The same seed and actions give the same rollout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, OneHot, Unbounded
from torchrl.envs import EnvBase

from mfenvs.adversarial_pursuit.core import AdversarialPursuitCore
from mfenvs.adversarial_pursuit.env import (
    observation_layout as adversarial_pursuit_layout,
)
from mfenvs.adversarial_pursuit.game import GROUPS as ADVERSARIAL_PURSUIT_GROUPS
from mfenvs.adversarial_pursuit.game import AdversarialPursuitConfig
from mfenvs.battle.config import N_ACTIONS, BattleConfig
from mfenvs.battle.core import BattleCore, BattleOutput
from mfenvs.battle.env import observation_layout
from mfenvs.battlefield.game import battlefield_config
from mfenvs.combined_arms.core import CombinedArmsCore
from mfenvs.combined_arms.env import observation_layout as combined_arms_layout
from mfenvs.combined_arms.game import (
    SIDE_OF_GROUP,
    CombinedArmsConfig,
    combined_arms_game,
)
from mfenvs.common.adapter import ArrayCore, CoreOutput
from mfenvs.common.validation import check_int
from mfenvs.gather.core import GatherCore
from mfenvs.gather.env import observation_layout as gather_layout
from mfenvs.gather.game import GatherConfig
from mfenvs.gaussian_squeeze.core import GaussianSqueezeConfig, GaussianSqueezeCore
from mfenvs.gridworld.core import GridCore, GridOutput
from mfenvs.ising.core import IsingConfig, IsingCore
from mfenvs.tiger_deer.core import TigerDeerCore
from mfenvs.tiger_deer.env import observation_layout as tiger_deer_layout
from mfenvs.tiger_deer.game import GROUPS as TIGER_DEER_GROUPS
from mfenvs.tiger_deer.game import TigerDeerConfig

__all__ = [
    "AdversarialPursuitEnv", "BattleEnv", "BattlefieldEnv", "CombinedArmsEnv", "GatherEnv", "GaussianSqueezeEnv", "IsingEnv",
    "Opponent", "TigerDeerEnv",
]  # fmt: skip

DONE_KEYS = ("done", "terminated", "truncated")

Opponent = Callable[[BattleCore], np.ndarray]
"""Blue's policy in ``BattleEnv(opponent=...)``: reads the core before a step, returns ``[B, n_blue]`` int actions."""


def _resolve_config(config_type: type, config: Any, config_kwargs: dict[str, Any]) -> Any:
    """``config``, or a ``config_type`` built from ``config_kwargs`` (one of the two, with clear errors)."""
    if config is None:
        return config_type(**config_kwargs)
    if config_kwargs:
        raise TypeError(f"pass either config or {config_type.__name__} fields, not both (got {sorted(config_kwargs)})")
    if not isinstance(config, config_type):
        raise TypeError(f"config must be a {config_type.__name__}, got {type(config).__name__}")
    return config


class _GroupedEnv(EnvBase):
    """What the environments here share: agent groups as nested keys, seeding, partial resets, action checks.

    A subclass builds its observation spec (``_set_specs``) and implements ``_reset_all(seed)``,
    ``_reset_some(which)`` and ``_step_all(actions)``; each returns the observations and done flags of
    every copy (``_pack``), and ``_step_all`` also the ``[B, n_agents]`` rewards.
    """

    batch_locked = True

    def __init__(
        self,
        *,
        num_envs: int,
        device: torch.device | str,
        categorical_actions: bool,
        seed: int | None,
        group_slots: dict[str, slice],
        agent_names: Sequence[str],
        n_actions: int | dict[str, int],
    ):
        if not isinstance(categorical_actions, bool):
            raise TypeError(f"categorical_actions must be a bool, got {categorical_actions!r}")
        super().__init__(device=torch.device(device), batch_size=torch.Size([num_envs]))
        self.categorical_actions = categorical_actions
        #: actions of each group's agents (one number for all groups, or a group -> number dict)
        self.n_actions = n_actions
        self.group_n_actions = n_actions if isinstance(n_actions, dict) else dict.fromkeys(group_slots, n_actions)
        #: the slots of each group in the core's agent order
        self.group_slots = group_slots
        self.group_map = {group: list(agent_names[slots]) for group, slots in group_slots.items()}
        self._seed = seed
        self._last: TensorDictBase | None = None  # the last observations and done flags of every copy

    # -- specs -----------------------------------------------------------------------------------
    def _set_specs(self, observation_spec: Composite) -> None:
        """Take ``observation_spec`` (a ``Composite`` per group, plus any root entries); build the others."""
        B, device = self.batch_size[0], self.device
        actions, rewards = {}, {}
        dones = {key: Categorical(2, (B, 1), dtype=torch.bool, device=device) for key in DONE_KEYS}
        for group, slots in self.group_slots.items():
            shape = (B, slots.stop - slots.start)
            n_actions = self.group_n_actions[group]
            if self.categorical_actions:
                action = Categorical(n_actions, shape, dtype=torch.int64, device=device)
            else:
                action = OneHot(n_actions, (*shape, n_actions), dtype=torch.int64, device=device)
            actions[group] = Composite(action=action, shape=shape)
            rewards[group] = Composite(reward=Unbounded((*shape, 1), dtype=torch.float32, device=device), shape=shape)
            dones[group] = Composite(
                {key: Categorical(2, (*shape, 1), dtype=torch.bool, device=device) for key in DONE_KEYS}, shape=shape
            )
        self.observation_spec = observation_spec
        self.action_spec = Composite(actions, shape=(B,), device=device)
        self.reward_spec = Composite(rewards, shape=(B,), device=device)
        self.done_spec = Composite(dones, shape=(B,), device=device)

    def _box(self, low: np.ndarray, high: np.ndarray, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> Bounded:
        """A ``Bounded`` spec of ``shape`` whose trailing dimensions are those of ``low`` / ``high``."""
        low, high = torch.as_tensor(low, dtype=dtype), torch.as_tensor(high, dtype=dtype)
        return Bounded(low.expand(*shape, *low.shape), high.expand(*shape, *high.shape), dtype=dtype, device=self.device)

    # -- the copies (subclasses) -----------------------------------------------------------------
    def _reset_all(self, seed: int | None) -> TensorDictBase:
        raise NotImplementedError

    def _reset_some(self, which: np.ndarray) -> TensorDictBase:
        raise NotImplementedError

    def _step_all(self, actions: np.ndarray) -> tuple[TensorDictBase, np.ndarray]:
        raise NotImplementedError

    # -- EnvBase ---------------------------------------------------------------------------------
    def _set_seed(self, seed: int | None) -> None:
        self._seed = seed

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        if "seed" in kwargs:
            self._seed = kwargs.pop("seed")
        kwargs.pop("set_state", None)
        if kwargs:
            raise TypeError(f"unexpected reset arguments {sorted(kwargs)}")
        which = None
        if tensordict is not None and "_reset" in tensordict:
            which = tensordict.get("_reset").reshape(self.batch_size).cpu().numpy()
        if self._last is None or self._seed is not None or which is None or which.all():
            self._last = self._reset_all(self._seed)
            self._seed = None
        elif not which.any():  # only agents died: nothing restarts
            return self._last.copy()
        else:
            self._last = self._reset_some(which)
        return self._last.copy()

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        if self._last is None:
            raise RuntimeError("call reset() before step()")
        actions = []
        for group, slots in self.group_slots.items():
            action = tensordict.get((group, "action"))
            if not self.categorical_actions:
                action = action.argmax(-1)
            expected = (self.batch_size[0], slots.stop - slots.start)
            if tuple(action.shape) != expected:
                raise ValueError(f"({group!r}, 'action') must have shape {list(expected)}, got {list(action.shape)}")
            n_actions = self.group_n_actions[group]
            if action.numel() and (action.min() < 0 or action.max() >= n_actions):
                wrong = action[(action < 0) | (action >= n_actions)]
                raise ValueError(f"({group!r}, 'action'): actions must be in [0, {n_actions}), got {torch.unique(wrong).tolist()}")
            actions.append(action)
        actions = torch.cat(actions, dim=1).cpu().numpy()
        self._last, rewards = self._step_all(actions)
        result = self._last.copy()
        for group, slots in self.group_slots.items():
            result.set((group, "reward"), self._tensor(rewards[:, slots, None]))
        return result

    # -- conversion ------------------------------------------------------------------------------
    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def _pack(
        self,
        agents: dict[str, np.ndarray],
        alive: np.ndarray,
        done: np.ndarray,
        truncated: np.ndarray,
        root: dict[str, Any] | None = None,
    ) -> TensorDictBase:
        """The tensordict of every copy: per-agent ``[B, N, ...]`` arrays split into groups, and the done flags.

        Args:
            agents: key -> ``[B, N, ...]`` array over all agent slots, or a group -> ``[B, n_group, ...]``
                dict (groups whose entries differ in shape: combined arms).
            alive: ``[B, N]`` bool; a dead agent is terminated (and done) until its copy restarts.
            done, truncated: ``[B]`` bool, the copy's episode is over / reached its time limit.
            root: more root entries (arrays, or dicts of arrays for nested keys), ``[B, ...]``.
        """
        terminated = done & ~truncated
        agent_terminated = ~alive | terminated[:, None]
        agent_truncated = alive & truncated[:, None]
        data: dict[str, Any] = {
            "done": self._tensor(done[:, None]),
            "terminated": self._tensor(terminated[:, None]),
            "truncated": self._tensor(truncated[:, None]),
        }
        for key, value in (root or {}).items():
            data[key] = {k: self._tensor(v) for k, v in value.items()} if isinstance(value, dict) else self._tensor(value)
        for group, slots in self.group_slots.items():
            group_terminated, group_truncated = agent_terminated[:, slots, None], agent_truncated[:, slots, None]
            data[group] = TensorDict(
                {
                    **{
                        key: self._tensor(array[group] if isinstance(array, dict) else array[:, slots])
                        for key, array in agents.items()
                    },
                    "done": self._tensor(group_terminated | group_truncated),
                    "terminated": self._tensor(group_terminated),
                    "truncated": self._tensor(group_truncated),
                },
                batch_size=(self.batch_size[0], slots.stop - slots.start),
                device=self.device,
            )
        return TensorDict(data, batch_size=self.batch_size, device=self.device)


class BattleEnv(_GroupedEnv):
    """``num_envs`` independent Battles as one TorchRL environment with agent groups ``red`` and ``blue``.

    Args:
        config: the game; or pass ``BattleConfig``'s fields as keyword arguments (not both).
        num_envs: B, battles stepped at once (the env's ``batch_size``).
        device: where the tensors live (the game itself runs on the CPU).
        threads: threads of ``BattleCore``'s kernels (``None``: Numba's setting).
        categorical_actions: integer actions ``[B, n]``; ``False`` for one-hot ``[B, n, 21]``.
        seed: seeds the first reset (as ``set_seed``).
        opponent: ``None`` (both groups act), ``"random"`` (blue plays uniform random actions from a
            generator seeded with each seeded reset) or an ``Opponent``: ``opponent(core) -> [B, n_blue]``
            int actions, called before every step (e.g. ``mfagents.policies.scripted.team_actions``). With an
            opponent the env has the group ``red`` only.
        view_dtype: ``"float32"`` (the default) or ``"float16"``: opt-in half-size observations (see
            ``battle_v0``); the ``"observation"`` spec's dtype follows. Features stay float32.
        **config_kwargs: ``BattleConfig`` fields, e.g. ``map_size=16, max_cycles=100``.
    """

    def __init__(
        self,
        config: BattleConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        opponent: str | Opponent | None = None,
        view_dtype: str = "float32",
        **config_kwargs,
    ):
        config = _resolve_config(BattleConfig, config, config_kwargs)
        num_envs = check_int("num_envs", num_envs, minimum=1)
        if not (opponent is None or opponent == "random" or callable(opponent)):
            raise ValueError(f"opponent must be None, 'random' or a callable core -> [B, n_blue] actions, got {opponent!r}")
        n_red, n_blue = config.team_counts
        feature_columns, low, high = observation_layout(config, view_dtype)
        core = BattleCore(
            config, n_battles=num_envs, spare_view_channels=len(feature_columns), threads=threads,
            tiled_features=feature_columns, view_dtype=view_dtype,
        )  # fmt: skip
        groups = {"red": slice(0, n_red), "blue": slice(n_red, n_red + n_blue)}
        if opponent is not None:
            del groups["blue"]
        super().__init__(
            num_envs=num_envs, device=device, categorical_actions=categorical_actions, seed=seed,
            group_slots=groups, agent_names=core.agent_names, n_actions=N_ACTIONS,
        )  # fmt: skip
        self.config = config
        self.core = core
        self.opponent = opponent
        self._blue = slice(n_red, n_red + n_blue)
        self._opponent_rng = np.random.default_rng(seed)
        self._truncated = np.zeros(num_envs, dtype=bool)  # battles that ended at max_cycles
        observations = {}
        for group, slots in self.group_slots.items():
            shape = (num_envs, slots.stop - slots.start)
            observations[group] = Composite(
                observation=self._box(low, high, shape, torch.from_numpy(low).dtype),
                features=Unbounded((*shape, config.n_features), dtype=torch.float32, device=self.device),
                mean_action=Bounded(0.0, 1.0, (*shape, N_ACTIONS), dtype=torch.float32, device=self.device),
                mask=Categorical(2, shape, dtype=torch.bool, device=self.device),
                shape=shape,
            )
        kills = Bounded(0, max(n_red, n_blue), (num_envs, 2), dtype=torch.int64, device=self.device)
        self._set_specs(Composite(observations, kills=kills, shape=(num_envs,), device=self.device))

    def _reset_all(self, seed: int | None) -> TensorDictBase:
        output = self.core.reset(seed)
        if seed is not None:
            self._opponent_rng = np.random.default_rng(seed)
        self._truncated[:] = False
        return self._tensordict(output)

    def _reset_some(self, which: np.ndarray) -> TensorDictBase:
        self.core.reset_battles(which)
        self._truncated[which] = False
        return self._tensordict(self.core.observe())

    def _step_all(self, actions: np.ndarray) -> tuple[TensorDictBase, np.ndarray]:
        if self.opponent is not None:
            actions = np.concatenate([actions, self._opponent_actions()], axis=1)
        output = self.core.step(actions)
        self._truncated |= output.truncated
        return self._tensordict(output), output.rewards

    def _opponent_actions(self) -> np.ndarray:
        shape = (self.batch_size[0], self._blue.stop - self._blue.start)
        if self.opponent == "random":
            return self._opponent_rng.integers(0, N_ACTIONS, size=shape)
        actions = np.asarray(self.opponent(self.core))
        if actions.shape != shape or actions.dtype.kind not in "iu":
            raise ValueError(f"opponent must return {list(shape)} integer actions, got {actions.dtype} {list(actions.shape)}")
        return actions

    def _tensordict(self, output: BattleOutput) -> TensorDictBase:
        """Observations and done flags of every battle (``BattleOutput``'s arrays are fresh: shared, not copied)."""
        agents = {"observation": output.views, "features": output.features, "mean_action": output.mean_actions, "mask": output.alive}
        return self._pack(agents, output.alive, output.done, self._truncated.copy(), {"kills": self.core.state.kills.copy()})

    def __repr__(self) -> str:
        n_red, n_blue = self.config.team_counts
        opponent = "" if self.opponent is None else f", opponent={getattr(self.opponent, '__name__', self.opponent)!r}"
        return f"{type(self).__name__}(num_envs={self.batch_size[0]}, map_size={self.config.map_size}, red={n_red}, blue={n_blue}{opponent}, device={self.device})"


class BattlefieldEnv(BattleEnv):
    """``num_envs`` independent Battlefields (``battlefield_v0``: MAgent2's ``battlefield_v5`` map, walls and
    12 v 12 layout at map 80, on Battle's game) as one TorchRL environment, groups ``red`` and ``blue``.

    Args:
        num_envs, device, threads, categorical_actions, seed, opponent, view_dtype: as ``BattleEnv``'s.
        **battlefield_kwargs: ``battlefield_v0``'s game arguments with their defaults (``map_size=80``,
            ``minimap_mode=False``, ``extra_features=False``, ``max_cycles=1000``, the reward terms,
            ``kill_reward``, ``mean_action_radius``); see ``mfenvs.battlefield.battlefield_config``.
    """

    def __init__(
        self,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        opponent: str | Opponent | None = None,
        view_dtype: str = "float32",
        **battlefield_kwargs,
    ):
        super().__init__(
            battlefield_config(**battlefield_kwargs), num_envs=num_envs, device=device, threads=threads,
            categorical_actions=categorical_actions, seed=seed, opponent=opponent, view_dtype=view_dtype,
        )  # fmt: skip


class _GridGroupsEnv(_GroupedEnv):
    """``num_envs`` games of a ``GridCore`` with per-group spaces (``mfenvs.gridworld.single``) as one TorchRL
    environment with one agent group per game group (or the groups of ``learning_side`` only, the others
    playing uniform random actions of their own sets from a generator seeded with each seeded reset).

    Each group's ``"observation"`` is its PettingZoo env's (its own view window and channels),
    ``"features"`` its type's MAgent2 feature vector with the position, ``"mean_action"`` the mean last
    action of its living group mates in range, ``"mask"`` alive; the root ``"kills"`` ``[B, G]`` counts
    the agents of the other side killed by each group. Done flags as ``BattleEnv``'s.
    """

    def __init__(
        self,
        core: GridCore,
        bounds: list[tuple[np.ndarray, np.ndarray]],
        side_of_group: Sequence[int],
        *,
        num_envs: int,
        device: torch.device | str,
        categorical_actions: bool,
        seed: int | None,
        learning_side: int | None,
    ):
        game = core.game
        groups = {group.name: slots for group, slots in zip(game.groups, core.group_slices().values())}
        kinds = {group.name: game.types.index(group.agent_type) for group in game.groups}
        sides = np.asarray(side_of_group)
        #: the slots the random opponent plays, and each one's number of actions
        learning = sides[core.tables.slot_group] == learning_side if learning_side is not None else np.ones(core.n_agents, bool)
        self._opponent_slots = np.flatnonzero(~learning)
        self._opponent_actions = core.tables.n_actions[core.tables.slot_type[self._opponent_slots]]
        self._opponent_rng = np.random.default_rng(seed)
        self._learner_slots = np.flatnonzero(learning)
        if learning_side is not None:
            groups = {name: slots for k, (name, slots) in enumerate(groups.items()) if sides[k] == learning_side}
        super().__init__(
            num_envs=num_envs, device=device, categorical_actions=categorical_actions, seed=seed, group_slots=groups,
            agent_names=core.agent_names, n_actions={name: game.types[kinds[name]].n_actions for name in groups},
        )  # fmt: skip
        self.core = core
        #: per group: (view window crop, observation channels, feature length, actions)
        self._cuts = {}
        for name in groups:
            low = bounds[kinds[name]][0]
            offset = (game.view_size - low.shape[0]) // 2
            crop = slice(offset, offset + low.shape[0])
            agent_type = game.types[kinds[name]]
            self._cuts[name] = (crop, low.shape[-1], game.feature_size(agent_type), agent_type.n_actions)
        self._enemy = sides[:, None] != sides[None, :]
        self._truncated = np.zeros(num_envs, dtype=bool)
        observations = {}
        for name, slots in groups.items():
            shape = (num_envs, slots.stop - slots.start)
            low, high = bounds[kinds[name]]
            _, _, n_features, n_actions = self._cuts[name]
            observations[name] = Composite(
                observation=self._box(low, high, shape, torch.from_numpy(low).dtype),
                features=Unbounded((*shape, n_features), dtype=torch.float32, device=self.device),
                mean_action=Bounded(0.0, 1.0, (*shape, n_actions), dtype=torch.float32, device=self.device),
                mask=Categorical(2, shape, dtype=torch.bool, device=self.device),
                shape=shape,
            )
        kills = Bounded(0, core.n_agents, (num_envs, core.n_groups), dtype=torch.int64, device=self.device)
        self._set_specs(Composite(observations, kills=kills, shape=(num_envs,), device=self.device))

    def _reset_all(self, seed: int | None) -> TensorDictBase:
        output = self.core.reset(seed)
        if seed is not None:
            self._opponent_rng = np.random.default_rng(seed)
        self._truncated[:] = False
        return self._tensordict(output)

    def _reset_some(self, which: np.ndarray) -> TensorDictBase:
        self.core.reset_battles(which)
        self._truncated[which] = False
        return self._tensordict(self.core.observe())

    def _step_all(self, actions: np.ndarray) -> tuple[TensorDictBase, np.ndarray]:
        if len(self._opponent_slots):  # the learners' actions, in slot order, and the opponent's
            full = np.empty((self.batch_size[0], self.core.n_agents), dtype=np.int64)
            full[:, self._learner_slots] = actions
            full[:, self._opponent_slots] = self._opponent_rng.integers(
                0, self._opponent_actions, size=(self.batch_size[0], len(self._opponent_slots))
            )
            actions = full
        output = self.core.step(actions)
        self._truncated |= output.truncated
        return self._tensordict(output), output.rewards

    def _tensordict(self, output: GridOutput) -> TensorDictBase:
        """Observations (each group's own window, channels, features and actions) and done flags of every game."""
        views, features, means = output.views, output.features, output.mean_actions
        agents: dict[str, Any] = {"observation": {}, "features": {}, "mean_action": {}, "mask": output.alive}
        for name, slots in self.group_slots.items():
            crop, n_channels, n_features, n_actions = self._cuts[name]
            agents["observation"][name] = views[:, slots, crop, crop, :n_channels]
            agents["features"][name] = features[:, slots, :n_features]
            agents["mean_action"][name] = means[:, slots, :n_actions]
        kills = (self.core.state.kill_table * self._enemy[None]).sum(axis=2)
        return self._pack(agents, output.alive, output.done, self._truncated.copy(), {"kills": kills})

    def __repr__(self) -> str:
        counts = ", ".join(f"{group.name}={n}" for group, n in zip(self.core.game.groups, self.config.group_counts))
        return f"{type(self).__name__}(num_envs={self.batch_size[0]}, map_size={self.config.map_size}, {counts}, device={self.device})"


def _grid_core(
    core_type: type, layout: Any, config: Any, num_envs: int, threads: int | None, view_dtype: str
) -> tuple[Any, np.ndarray, Any]:  # fmt: skip
    """``num_envs`` games of ``config`` on ``core_type`` laid out as the game's PettingZoo env (``layout(config,
    view_dtype)`` gives the tiled feature columns and the observation bounds); returns (core, bounds, num_envs)."""
    num_envs = check_int("num_envs", num_envs, minimum=1)
    tiled, bounds = layout(config, view_dtype)
    core = core_type(
        config, n_battles=num_envs, spare_view_channels=tiled.shape[1], threads=threads, tiled_features=tiled,
        view_dtype=view_dtype,
    )  # fmt: skip
    return core, bounds, num_envs


def _random_opponent_side(opponent: str | None, learner: str, groups: tuple[str, ...]) -> int | None:
    """The index of ``learner``'s group when the other plays ``opponent="random"``; None when every group acts."""
    if opponent not in (None, "random"):
        raise ValueError(f"opponent must be None or 'random', got {opponent!r}")
    if learner not in groups:
        raise ValueError(f"learner must be one of {groups}, got {learner!r}")
    return groups.index(learner) if opponent else None


class CombinedArmsEnv(_GridGroupsEnv):
    """``num_envs`` independent combined arms games (``combined_arms_v0``: MAgent2's ``combined_arms_v6``) as one
    TorchRL environment with one agent group per MAgent2 group: ``redmelee``, ``redranged``, ``bluemelee``,
    ``blueranged``, all four acting.

    Each group has its own specs: melee actions ``[B, n]`` in ``[0, 9)``, ranged in ``[0, 25)`` (one-hot
    ``[B, n, 9]`` / ``[B, n, 25]`` with ``categorical_actions=False``); ``"observation"`` is
    ``combined_arms_v0``'s (13 x 13 x 9 by default; with ``extra_features`` 29 channels for melee and 45 for
    ranged); ``"features"`` the type's own MAgent2 feature vector with the position (22 melee, 38 ranged);
    ``"mean_action"`` the mean last action of the living group mates in range (9 or 25); ``"mask"``
    alive. The root ``"kills"`` ``[B, 4]`` counts the enemies killed by each group (friendly fire apart:
    ``core.state.kill_table``). Done flags as ``BattleEnv``'s: a wipe-out of any one group ends the game.

    Args:
        config: the game; or pass ``CombinedArmsConfig``'s fields as keyword arguments (not both).
        num_envs, device, threads, categorical_actions, seed, view_dtype: as ``BattleEnv``'s.
        opponent: ``None`` (all four groups act) or ``"random"``: blue's two groups play uniform random
            actions of their own sets (from a generator seeded with each seeded reset), and the env has the
            groups ``redmelee`` and ``redranged`` only.
        **config_kwargs: ``CombinedArmsConfig`` fields, e.g. ``map_size=16, max_cycles=100``.
    """

    def __init__(
        self,
        config: CombinedArmsConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        view_dtype: str = "float32",
        opponent: str | None = None,
        **config_kwargs,
    ):
        config = _resolve_config(CombinedArmsConfig, config, config_kwargs)
        learning_side = _random_opponent_side(opponent, "red", ("red", "blue"))
        layout = lambda game, dtype: combined_arms_layout(game, combined_arms_game(game), dtype)
        core, bounds, num_envs = _grid_core(CombinedArmsCore, layout, config, num_envs, threads, view_dtype)
        self.opponent = opponent
        self.config = config
        super().__init__(
            core, bounds, SIDE_OF_GROUP, num_envs=num_envs, device=device, categorical_actions=categorical_actions,
            seed=seed, learning_side=learning_side,
        )  # fmt: skip


class TigerDeerEnv(_GridGroupsEnv):
    """``num_envs`` independent tiger-deer games (``tiger_deer_v0``: MAgent2's ``tiger_deer_v4``) as one TorchRL
    environment with one agent group per MAgent2 group: ``deer`` and ``tiger``.

    Deer: actions ``[B, n]`` in ``[0, 5)``, ``"observation"`` 3 x 3 x 5 (21 channels with ``extra_features``),
    ``"features"`` 18, ``"mean_action"`` 5; tigers: ``[0, 9)``, 9 x 9 x 5 (25), 22, 9. The root ``"kills"``
    ``[B, 2]`` counts the deer eaten by the tigers (``[:, 1]``; deer never kill). Each game draws a new
    random map at every reset. Done flags as ``BattleEnv``'s: the game ends when every deer is eaten or
    every tiger has starved.

    Args:
        config: the game; or pass ``TigerDeerConfig``'s fields as keyword arguments (not both).
        num_envs, device, threads, categorical_actions, seed, view_dtype: as ``BattleEnv``'s.
        opponent: ``None`` (both groups act) or ``"random"``: the group other than ``learner`` plays uniform
            random actions (from a generator seeded with each seeded reset) and the env has ``learner``'s group only.
        learner: ``"tiger"`` or ``"deer"``, the group that acts with a random ``opponent``.
        **config_kwargs: ``TigerDeerConfig`` fields, e.g. ``map_size=20, max_cycles=100``.
    """

    def __init__(
        self,
        config: TigerDeerConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        view_dtype: str = "float32",
        opponent: str | None = None,
        learner: str = "tiger",
        **config_kwargs,
    ):
        config = _resolve_config(TigerDeerConfig, config, config_kwargs)
        learning_side = _random_opponent_side(opponent, learner, TIGER_DEER_GROUPS)
        core, bounds, num_envs = _grid_core(TigerDeerCore, tiger_deer_layout, config, num_envs, threads, view_dtype)
        self.opponent = opponent
        self.config = config
        super().__init__(
            core, bounds, (0, 1), num_envs=num_envs, device=device, categorical_actions=categorical_actions,
            seed=seed, learning_side=learning_side,
        )  # fmt: skip


class GatherEnv(_GridGroupsEnv):
    """``num_envs`` independent gather games (``gather_v0``: MAgent2's ``gather_v5``, 200 x 200, 495 omnivores,
    2,272 food) as one TorchRL environment with the one MAgent2 group that acts: ``omnivore``.

    Its food is a passive group (MAgent2's wrapper exposes ``handles[1:]`` only): on the map and in the
    observations, never acting (the env steps it with its one action, stay), so it is no TorchRL group.
    Omnivores: actions ``[B, 495]`` in ``[0, 33)`` (one-hot ``[B, 495, 33]`` with ``categorical_actions=False``);
    ``"observation"`` ``gather_v0``'s (15 x 15 x 5 by default; 39 channels with ``extra_features``);
    ``"features"`` 36 (last action one-hot, last reward, position: no id bits); ``"mean_action"`` 33, over
    the other omnivores in range; ``"mask"`` alive. The root ``"kills"`` ``[B, 2]`` counts the food eaten
    by the omnivores (``[:, 1]``; omnivores killing each other are not counted). Done flags as
    ``BattleEnv``'s: the game ends when every food is eaten or every omnivore is dead, or at ``max_cycles``.

    Args:
        config: the game; or pass ``GatherConfig``'s fields as keyword arguments (not both).
        num_envs, device, threads, categorical_actions, seed, view_dtype: as ``BattleEnv``'s.
        **config_kwargs: ``GatherConfig`` fields, e.g. ``max_cycles=100, attack_food_reward=1.0``.
    """

    def __init__(
        self,
        config: GatherConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        view_dtype: str = "float32",
        **config_kwargs,
    ):
        config = _resolve_config(GatherConfig, config, config_kwargs)
        core, bounds, num_envs = _grid_core(GatherCore, gather_layout, config, num_envs, threads, view_dtype)
        self.config = config
        # the food is the "opponent" side, its one action (stay) the only one it can draw
        super().__init__(
            core, bounds, (0, 1), num_envs=num_envs, device=device, categorical_actions=categorical_actions,
            seed=seed, learning_side=1,
        )  # fmt: skip


class AdversarialPursuitEnv(_GridGroupsEnv):
    """``num_envs`` independent adversarial-pursuit games (``adversarial_pursuit_v0``: MAgent2's
    ``adversarial_pursuit_v4``) as one TorchRL environment with one agent group per MAgent2 group: ``predator``
    (2 x 2 bodies) and ``prey``.

    Predators: actions ``[B, n]`` in ``[0, 13)``, ``"observation"`` 10 x 10 x 5 (29 channels with
    ``extra_features``), ``"features"`` 26, ``"mean_action"`` 13; prey: ``[0, 9)``, 9 x 9 x 5 (25), 22, 9.
    Nothing dies (tags do no damage): the root ``"kills"`` ``[B, 2]`` stays 0 and every game is truncated
    at ``max_cycles`` (every agent ``truncated``, none ``terminated``), as BenchMARL's MAgent2 task expects.
    Each game draws a new random map at every reset.

    Args:
        config: the game; or pass ``AdversarialPursuitConfig``'s fields as keyword arguments (not both).
        num_envs, device, threads, categorical_actions, seed, view_dtype: as ``BattleEnv``'s.
        opponent: ``None`` (both groups act) or ``"random"``: the group other than ``learner`` plays uniform
            random actions (from a generator seeded with each seeded reset) and the env has ``learner``'s group only.
        learner: ``"predator"`` or ``"prey"``, the group that acts with a random ``opponent``.
        **config_kwargs: ``AdversarialPursuitConfig`` fields, e.g. ``map_size=20, max_cycles=100``.
    """

    def __init__(
        self,
        config: AdversarialPursuitConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        view_dtype: str = "float32",
        opponent: str | None = None,
        learner: str = "predator",
        **config_kwargs,
    ):
        config = _resolve_config(AdversarialPursuitConfig, config, config_kwargs)
        learning_side = _random_opponent_side(opponent, learner, ADVERSARIAL_PURSUIT_GROUPS)
        core, bounds, num_envs = _grid_core(AdversarialPursuitCore, adversarial_pursuit_layout, config, num_envs, threads, view_dtype)
        self.opponent = opponent
        self.config = config
        super().__init__(
            core, bounds, (0, 1), num_envs=num_envs, device=device, categorical_actions=categorical_actions,
            seed=seed, learning_side=learning_side,
        )  # fmt: skip


class _ArrayCoresEnv(_GroupedEnv):
    """B copies of an ``ArrayCore`` with a fixed agent set (no deaths) as one group ``agents``."""

    def __init__(
        self, cores: list[ArrayCore], *, device: torch.device | str, categorical_actions: bool, seed: int | None
    ):
        first = cores[0]
        n_agents = len(first.agent_names)
        super().__init__(
            num_envs=len(cores), device=device, categorical_actions=categorical_actions, seed=seed,
            group_slots={"agents": slice(0, n_agents)}, agent_names=first.agent_names, n_actions=int(first.action_space.n),
        )  # fmt: skip
        self.cores = cores
        self._outputs: list[CoreOutput] = []
        B, shape = len(cores), (len(cores), n_agents)
        info_keys = sorted(first.reset().info)  # a throwaway reset: the info keys (seeded resets start afresh)
        observation, state = first.observation_space, first.state_space
        agents = Composite(
            observation=self._box(observation.low, observation.high, shape),
            mean_action=Bounded(0.0, 1.0, (*shape, self.n_actions), dtype=torch.float32, device=self.device),
            shape=shape,
        )
        state_dtype = torch.from_numpy(np.zeros(0, dtype=state.dtype)).dtype
        info = Composite({key: Unbounded((B,), dtype=torch.float32, device=self.device) for key in info_keys}, shape=(B,))
        self._set_specs(
            Composite(agents=agents, state=self._box(state.low, state.high, (B,), state_dtype), info=info, shape=(B,), device=self.device)
        )

    def _reset_all(self, seed: int | None) -> TensorDictBase:
        self._outputs = [core.reset(None if seed is None else seed + i) for i, core in enumerate(self.cores)]
        return self._tensordict()

    def _reset_some(self, which: np.ndarray) -> TensorDictBase:
        for i in np.flatnonzero(which):
            self._outputs[i] = self.cores[i].reset()
        return self._tensordict()

    def _step_all(self, actions: np.ndarray) -> tuple[TensorDictBase, np.ndarray]:
        self._outputs = [core.step(row) for core, row in zip(self.cores, actions)]
        return self._tensordict(), np.stack([output.rewards for output in self._outputs])

    def _tensordict(self) -> TensorDictBase:
        outputs = self._outputs
        agents = {
            "observation": np.stack([output.observations for output in outputs]),
            "mean_action": np.stack([output.mean_actions for output in outputs]),
        }
        info = {key: np.array([output.info[key] for output in outputs], dtype=np.float32) for key in outputs[0].info}
        root = {"state": np.stack([core.state() for core in self.cores]), "info": info}
        alive = np.stack([output.alive for output in outputs])
        done = np.array([output.done for output in outputs])
        return self._pack(agents, alive, done, np.array([output.truncated for output in outputs]), root)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_envs={self.batch_size[0]}, {self.config}, device={self.device})"


class GaussianSqueezeEnv(_ArrayCoresEnv):
    """``num_envs`` Gaussian Squeeze games as one TorchRL environment with the agent group ``agents``.

    Args:
        config: the game; or pass ``GaussianSqueezeConfig``'s fields as keyword arguments (not both).
        num_envs: B, games stepped together (the env's ``batch_size``).
        device: where the tensors live.
        categorical_actions: integer actions ``[B, n]``; ``False`` for one-hot ``[B, n, n_actions]``.
        seed: seeds the first reset (the game itself draws no random numbers).
        **config_kwargs: ``GaussianSqueezeConfig`` fields, e.g. ``n_agents=100``.
    """

    def __init__(
        self,
        config: GaussianSqueezeConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        categorical_actions: bool = True,
        seed: int | None = None,
        **config_kwargs,
    ):
        self.config = _resolve_config(GaussianSqueezeConfig, config, config_kwargs)
        num_envs = check_int("num_envs", num_envs, minimum=1)
        cores = [GaussianSqueezeCore(self.config) for _ in range(num_envs)]
        super().__init__(cores, device=device, categorical_actions=categorical_actions, seed=seed)


class IsingEnv(_ArrayCoresEnv):
    """``num_envs`` Ising lattices as one TorchRL environment with the agent group ``agents`` (one per site).

    Args:
        config: the game; or pass ``IsingConfig``'s fields as keyword arguments (not both).
        num_envs: B, lattices stepped together (the env's ``batch_size``).
        device: where the tensors live.
        categorical_actions: integer actions ``[B, n]`` (0 = spin -1, 1 = spin +1); ``False`` for one-hot.
        seed: seeds the first reset (lattice ``i`` starts from the random spins of ``seed + i``).
        **config_kwargs: ``IsingConfig`` fields, e.g. ``size=20``.
    """

    def __init__(
        self,
        config: IsingConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        categorical_actions: bool = True,
        seed: int | None = None,
        **config_kwargs,
    ):
        self.config = _resolve_config(IsingConfig, config, config_kwargs)
        num_envs = check_int("num_envs", num_envs, minimum=1)
        cores = [IsingCore(self.config) for _ in range(num_envs)]
        super().__init__(cores, device=device, categorical_actions=categorical_actions, seed=seed)
