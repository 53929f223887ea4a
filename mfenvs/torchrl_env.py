"""Battle as a native batched TorchRL environment: ``B`` battles stepped at once by one ``BattleCore``.

Needs the ``compat`` extra (``torchrl``, ``tensordict``); ``import mfenvs`` does not load this module.

Example:
    >>> from mfenvs.torchrl_env import BattleEnv
    >>> env = BattleEnv(num_envs=4, map_size=16, max_cycles=50, seed=0)  # 4 battles of 10 v 10
    >>> rollout = env.rollout(20, break_when_any_done=False)  # random actions, finished battles restart
    >>> rollout["next", "red", "reward"].shape
    torch.Size([4, 20, 10, 1])

Layout (``batch_size=[B]``; ``n`` agents in the group ``red`` or ``blue``, slots in ``BattleCore`` order):

| key | shape | |
|---|---|---|
| ``(group, "observation")`` | ``[B, n, 13, 13, C]`` float32 | ``battle_v0``'s observation (same channels) |
| ``(group, "features")`` | ``[B, n, 34]`` float32 | id bits, last action one-hot, last reward, position |
| ``(group, "mean_action")`` | ``[B, n, 21]`` float32 | mean last action of the living teammates in range |
| ``(group, "mask")`` | ``[B, n]`` bool | the agent is alive (zero observations, actions ignored otherwise) |
| ``(group, "action")`` | ``[B, n]`` int64 (``[B, n, 21]`` one-hot with ``categorical_actions=False``) | |
| ``(group, "reward")`` | ``[B, n, 1]`` float32 | 0 for agents dead before the step |
| ``(group, "done" / "terminated" / "truncated")`` | ``[B, n, 1]`` bool | terminated: dead, or the battle ended by a wipe-out; truncated: alive at ``max_cycles`` |
| ``"done" / "terminated" / "truncated"`` | ``[B, 1]`` bool | the battle is over |

A dead agent stays ``done`` (and masked) until its battle restarts, so GAE-style code needs no special
case. Battles restart independently: ``reset`` with a root ``"_reset"`` ``[B, 1]`` mask (what rollouts
and collectors pass) restarts the selected battles; per-agent ``_reset`` entries follow the root one.
Because dead agents are ``done``, ``rollout(..., break_when_any_done=True)`` stops at the first death:
use ``break_when_any_done=False`` (finished battles restart) or a collector.

Seeding: ``set_seed(seed)`` (or ``seed=`` here, or ``reset(seed=...)``) seeds the next full reset, which
is ``BattleCore.reset(seed)``; the same seed and actions give the same rollout.
"""

from __future__ import annotations

import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, OneHot, Unbounded
from torchrl.envs import EnvBase

from mfenvs.battle.config import N_ACTIONS, BattleConfig
from mfenvs.battle.core import BattleCore, BattleOutput
from mfenvs.battle.env import observation_layout
from mfenvs.common.validation import check_int

__all__ = ["BattleEnv"]


class BattleEnv(EnvBase):
    """``num_envs`` independent Battles as one TorchRL environment with agent groups ``red`` and ``blue``.

    Args:
        config: the game; or pass ``BattleConfig``'s fields as keyword arguments (not both).
        num_envs: B, battles stepped at once (the env's ``batch_size``).
        device: where the tensors live (the game itself runs on the CPU).
        threads: threads of ``BattleCore``'s kernels (``None``: Numba's setting).
        categorical_actions: integer actions ``[B, n]``; ``False`` for one-hot ``[B, n, 21]``.
        seed: seeds the first reset (as ``set_seed``).
        **config_kwargs: ``BattleConfig`` fields, e.g. ``map_size=16, max_cycles=100``.
    """

    batch_locked = True

    def __init__(
        self,
        config: BattleConfig | None = None,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        categorical_actions: bool = True,
        seed: int | None = None,
        **config_kwargs,
    ):
        if config is None:
            config = BattleConfig(**config_kwargs)
        elif config_kwargs:
            raise TypeError(f"pass either config or BattleConfig fields, not both (got {sorted(config_kwargs)})")
        elif not isinstance(config, BattleConfig):
            raise TypeError(f"config must be a BattleConfig, got {type(config).__name__}")
        num_envs = check_int("num_envs", num_envs, minimum=1)
        if not isinstance(categorical_actions, bool):
            raise TypeError(f"categorical_actions must be a bool, got {categorical_actions!r}")
        super().__init__(device=torch.device(device), batch_size=torch.Size([num_envs]))
        self.config = config
        feature_columns, low, high = observation_layout(config)
        self.core = BattleCore(
            config, n_battles=num_envs, spare_view_channels=len(feature_columns), threads=threads, tiled_features=feature_columns
        )
        self.categorical_actions = categorical_actions
        n_red, n_blue = config.team_counts
        #: the slots of each group in ``BattleCore``'s agent order
        self.group_slots = {"red": slice(0, n_red), "blue": slice(n_red, n_red + n_blue)}
        self.group_map = {
            group: list(self.core.agent_names[slots]) for group, slots in self.group_slots.items()
        }
        self._make_specs(torch.from_numpy(low), torch.from_numpy(high))
        self._seed = seed
        self._last: TensorDictBase | None = None  # the last observations and done flags of every battle
        self._truncated = np.zeros(num_envs, dtype=bool)  # battles that ended at max_cycles

    # -- specs -----------------------------------------------------------------------------------
    def _make_specs(self, low: torch.Tensor, high: torch.Tensor) -> None:
        B, device = self.batch_size[0], self.device
        observations, actions, rewards = {}, {}, {}
        dones = {key: Categorical(2, (B, 1), dtype=torch.bool, device=device) for key in ("done", "terminated", "truncated")}
        for group, slots in self.group_slots.items():
            shape = (B, slots.stop - slots.start)
            observations[group] = Composite(
                observation=Bounded(low.expand(*shape, *low.shape), high.expand(*shape, *high.shape), dtype=torch.float32, device=device),
                features=Unbounded((*shape, self.config.n_features), dtype=torch.float32, device=device),
                mean_action=Bounded(0.0, 1.0, (*shape, N_ACTIONS), dtype=torch.float32, device=device),
                mask=Categorical(2, shape, dtype=torch.bool, device=device),
                shape=shape,
            )  # fmt: skip
            if self.categorical_actions:
                action = Categorical(N_ACTIONS, shape, dtype=torch.int64, device=device)
            else:
                action = OneHot(N_ACTIONS, (*shape, N_ACTIONS), dtype=torch.int64, device=device)
            actions[group] = Composite(action=action, shape=shape)
            rewards[group] = Composite(reward=Unbounded((*shape, 1), dtype=torch.float32, device=device), shape=shape)
            dones[group] = Composite(
                {key: Categorical(2, (*shape, 1), dtype=torch.bool, device=device) for key in ("done", "terminated", "truncated")},
                shape=shape,
            )
        self.observation_spec = Composite(observations, shape=(B,), device=device)
        self.action_spec = Composite(actions, shape=(B,), device=device)
        self.reward_spec = Composite(rewards, shape=(B,), device=device)
        self.done_spec = Composite(dones, shape=(B,), device=device)

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
            output = self.core.reset(self._seed)
            self._seed = None
            self._truncated[:] = False
        elif not which.any():  # only agents died: nothing restarts
            return self._last.copy()
        else:
            self.core.reset_battles(which)
            self._truncated[which] = False
            output = self.core.observe()
        self._last = self._tensordict(output)
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
            actions.append(action)
        output = self.core.step(torch.cat(actions, dim=1).cpu().numpy())
        self._truncated |= output.truncated
        self._last = self._tensordict(output)
        result = self._last.copy()
        for group, slots in self.group_slots.items():
            result.set((group, "reward"), self._tensor(output.rewards[:, slots, None]))
        return result

    # -- conversion ------------------------------------------------------------------------------
    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def _tensordict(self, output: BattleOutput) -> TensorDictBase:
        """Observations and done flags of every battle (``BattleOutput``'s arrays are fresh: shared, not copied)."""
        B = self.batch_size[0]
        battle_truncated = self._truncated
        battle_done = output.done
        agent_terminated = ~output.alive | (battle_done & ~battle_truncated)[:, None]
        agent_truncated = output.alive & battle_truncated[:, None]
        mean_actions = output.mean_actions
        data = {
            "done": self._tensor(battle_done[:, None]),
            "terminated": self._tensor((battle_done & ~battle_truncated)[:, None]),
            "truncated": self._tensor(battle_truncated[:, None].copy()),
        }
        for group, slots in self.group_slots.items():
            terminated, truncated = agent_terminated[:, slots, None], agent_truncated[:, slots, None]
            data[group] = TensorDict(
                {
                    "observation": self._tensor(output.views[:, slots]),
                    "features": self._tensor(output.features[:, slots]),
                    "mean_action": self._tensor(mean_actions[:, slots]),
                    "mask": self._tensor(output.alive[:, slots]),
                    "done": self._tensor(terminated | truncated),
                    "terminated": self._tensor(terminated),
                    "truncated": self._tensor(truncated),
                },
                batch_size=(B, slots.stop - slots.start),
                device=self.device,
            )
        return TensorDict(data, batch_size=self.batch_size, device=self.device)

    def __repr__(self) -> str:
        n_red, n_blue = self.config.team_counts
        return f"{type(self).__name__}(num_envs={self.batch_size[0]}, map_size={self.config.map_size}, red={n_red}, blue={n_blue}, device={self.device})"
