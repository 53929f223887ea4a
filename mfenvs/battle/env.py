"""Battle: two teams fight on a grid; the MAgent battle game, rule for rule, on Numba kernels.

| | |
|---|---|
| Agents | ``red_0`` .. ``red_{n-1}``, ``blue_0`` .. ``blue_{n-1}`` (default 64 v 64) |
| Actions | ``Discrete(21)``: 0-12 moves (6 = stay), 13-20 attacks on the 8 neighbours (MAgent's order) |
| Observations | ``Box(13, 13, C)`` float32 HWC (float16 with ``view_dtype="float16"``), MAgent2's layout (below) |
| Rewards | per step -0.005; attack -0.1; non-lethal hit on an enemy +0.2; killing blow +5 instead; death -0.1 (replaces the rest) |
| Episode | ends when a team is wiped out (termination) or after ``max_cycles`` steps (truncation) |
| Infos | ``mean_action``; the running ``red_kills``, ``blue_kills``, ``red_survivors``, ``blue_survivors``, ``red_total_reward``, ``blue_total_reward``; the winner as ``red_won``, ``blue_won``, ``draw`` (all False until the episode is over; more kills wins, equal kills is a draw); ``action_mask`` (optional); ``alive`` (absorb mode) |
| State | ``Box(0, 1, (map_size, map_size, 5), float32)`` indexed [y, x]: walls, red presence, red hp, blue presence, blue hp |

Observation channels (MAgent2 order, view indexed [row = y, col = x], the agent at (6, 6), a circle
of radius 6; off-map cells and cells outside the circle read 0):

| channels | content |
|---|---|
| 0 | wall |
| 1, 2 | own team presence, hp / max_hp |
| 3 (``minimap_mode``) | own team minimap: the map binned to 13 x 13, count / team size, +1 at the agent's bin |
| next 2 | enemy presence, hp / max_hp |
| next 1 (``minimap_mode``) | enemy minimap |
| next 32 (``extra_features``) | 10 id bits (the slot: red ``0..n-1``, blue ``n..``; MAgent's engine id), last action one-hot (21), last reward |
| last 2 (``minimap_mode``) | the agent's (x, y) / map_size |

Feature values are repeated over the 13 x 13 window, as MAgent2 does, so that every agent shares one
``Box`` space and SuperSuit / SB3 accept it. Sizes: 5 channels (no minimap), 9 (minimap, the default),
37 or 41 with ``extra_features``. The batched core (``mfenvs.battle.BattleCore``) returns views and the
34-long feature vector separately, without the repetition.

``infos[agent]["mean_action"]`` is the mean one-hot action, at this step, of the agent's living
teammates within ``mean_action_radius`` (default 6, the view radius; ``None``: the whole team, as
the 2018 code did); zeros at reset and for an agent with no teammate in range.

Dead agents: ``dead_agents="remove"`` (PettingZoo's contract: the agent is in all five dicts on the
step it dies, with a zero observation, and absent afterwards) or ``"absorb"`` (every agent stays until
the episode ends; dead agents get zero observations and rewards, their actions are ignored, and
``infos[agent]["alive"]`` is False), so that SuperSuit vector envs need no ``black_death_v3``.

Creation (every argument with its default)::

    from mfenvs import battle_v0
    env = battle_v0.parallel_env(map_size=40, team_size=None, positions=None, walls=(),
                                 minimap_mode=True, extra_features=False, max_cycles=400,
                                 random_sides=True, step_reward=-0.005, dead_penalty=-0.1,
                                 attack_penalty=-0.1, attack_opponent_reward=0.2, kill_reward=5.0,
                                 mean_action_radius=6, dead_agents="remove", action_mask=False,
                                 view_dtype="float32", render_mode=None)

Arguments:
    map_size: side of the square map including the wall ring (MAgent2's name).
    team_size: agents per side; ``None`` is ``int(map_size**2 * 0.04)`` (64 at 40, 81 at 45).
    positions: ``{"red": [(x, y), ...], "blue": [...]}`` explicit start cells (x = column, y = row).
    walls: extra interior wall cells ``[(x, y), ...]``.
    minimap_mode, extra_features, max_cycles, step_reward, dead_penalty, attack_penalty, attack_opponent_reward:
        as in MAgent2's ``battle_v4``.
    kill_reward: reward of the killing blow (MAgent2 hard-codes 5).
    random_sides: swap the teams' starting sides at random on every reset (the paper's setup).
    mean_action_radius: neighbourhood of the mean action, or ``None`` for the whole team.
    dead_agents: ``"remove"`` or ``"absorb"``.
    action_mask: add ``infos[agent]["action_mask"]`` (int8, 21): unblocked moves, attacks on an enemy.
    view_dtype: ``"float32"`` (the default) or ``"float16"`` (opt-in, below).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"``.

Float16 observations: ``view_dtype="float16"`` is opt-in. Where memory bandwidth bounds the step
(thousands of agents) it halves the bytes written per agent-step, and replay buffers that store
float16 observations take them as they come. Each value is the float32 observation's value rounded
to the nearest float16, bit for bit (``observation_space`` is the float16 ``Box``). float32 stays the
default, and the headline of the benchmarks.

Kernels: the rules, views, features, masks and mean actions are Numba kernels, compiled on first use
and cached on disk (``mfenvs.common.jit``: fork-safe threading layer, writable cache). The kernels use
Numba's thread count (all cores by default; ``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``); the
batched ``BattleCore`` also takes ``threads=``. Results do not depend on the thread count.

Version history:
    v0: initial release (MAgent2 ``battle_v4`` rules, measured); the step moved to Numba kernels with
        the same trajectories, bit for bit (issue 11); opt-in float16 observations (``view_dtype``,
        issue 11; the default float32 ones unchanged); Battle became a game of the gridworld engine
        (``mfenvs.gridworld``, issue 25) with the same trajectories; on maps above 99 x 99 cells moves
        now follow MAgent's x-band order (``Game.move_bands``), as MAgent2 does, checked against its
        engine at maps 100 and 120 (issue 25; until then agents contesting a cell across a band
        boundary could end elsewhere than in MAgent2; maps up to 99 are unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import gymnasium
import numpy as np

from mfenvs.battle.config import ID_BITS, N_ACTIONS, VIEW_SIZE, BattleConfig
from mfenvs.battle.core import BattleCore, BattleOutput
from mfenvs.gridworld.observe import VIEW_DTYPES, check_view_dtype
from mfenvs.common.adapter import ArrayParallelEnv, CoreOutput
from mfenvs.common.validation import check_choice


def observation_layout(config: BattleConfig, view_dtype: str = "float32") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MAgent2's observation of one agent: the feature columns tiled after the view channels, and the bounds.

    Returns ``(feature_columns, low, high)``: the ``tiled_features`` of a ``BattleCore`` that yields this
    layout (the normalised position with the minimap, all features but the position with
    ``extra_features``), and the ``[13, 13, C]`` bounds of the observation in ``view_dtype``. float16
    bounds are the float32 ones rounded to nearest: rounding is monotonic, so every float16 observation
    (a float32 one rounded) stays inside them.
    """
    n_features = ID_BITS + N_ACTIONS + 1
    feature_columns = np.r_[
        np.arange(n_features) if config.extra_features else [],
        np.arange(n_features, n_features + 2) if config.minimap_mode else [],
    ].astype(np.intp)
    n_view = config.n_channels
    rewards = [config.kill_reward, config.step_reward, config.dead_penalty, config.attack_penalty, config.attack_opponent_reward]
    low = np.zeros((VIEW_SIZE, VIEW_SIZE, n_view + len(feature_columns)), dtype=np.float32)
    high = np.ones_like(low)
    high[..., :n_view] = 2.0  # the own minimap adds 1 at the agent's bin
    if config.extra_features:
        reward_channel = n_view + n_features - 1
        low[..., reward_channel] = sum(min(r, 0.0) for r in rewards)
        high[..., reward_channel] = sum(max(r, 0.0) for r in rewards)
    dtype = VIEW_DTYPES[check_view_dtype(view_dtype)]
    return feature_columns, low.astype(dtype), high.astype(dtype)


class SingleBattle:
    """One battle of a ``BattleCore`` in MAgent2's per-agent layout: the ``ArrayCore`` the adapter drives."""

    def __init__(self, config: BattleConfig, action_mask: bool = False, view_dtype: str = "float32"):
        self._feature_columns, low, high = observation_layout(config, view_dtype)
        self.engine = BattleCore(
            config,
            n_battles=1,
            spare_view_channels=len(self._feature_columns),
            tiled_features=self._feature_columns,
            view_dtype=view_dtype,
        )
        self.agent_names = self.engine.agent_names
        self.with_action_mask = action_mask
        self.observation_space = gymnasium.spaces.Box(low, high, dtype=low.dtype)
        self.action_space = gymnasium.spaces.Discrete(N_ACTIONS)
        self.state_space = gymnasium.spaces.Box(0.0, 1.0, shape=(config.map_size, config.map_size, 5), dtype=np.float32)

    @property
    def config(self) -> BattleConfig:
        return self.engine.config

    @property
    def max_cycles(self) -> int:
        return self.engine.config.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.engine.config = replace(self.engine.config, max_cycles=value)

    def reset(self, seed: int | None = None) -> CoreOutput:
        return self._convert(self.engine.reset(seed))

    def step(self, actions: np.ndarray) -> CoreOutput:
        return self._convert(self.engine.step(actions[None, :]))

    def state(self) -> np.ndarray:
        return self.engine.state_map(0)

    def scoreboard(self, done: bool) -> dict[str, int | float | bool]:
        """The per-step Battle infos shared by every agent: numbers only, the same keys every step.

        Consumers that fix the info keys at reset and convert values to tensors (TorchRL) need
        both, so the winner is three flags, all False until the episode is over.
        """
        results = self.engine.results(0)
        winner = results.pop("winner")  # the leader by kills; a winner only once the episode is over
        if not done:
            winner = None
        return {**results, "red_won": winner == "red", "blue_won": winner == "blue", "draw": winner == "draw"}

    def _convert(self, out: BattleOutput) -> CoreOutput:
        observations = out.views[0]  # the core tiles the feature columns over the spare channels
        done = bool(out.done[0])
        info = self.scoreboard(done)
        agent_info = {}
        if self.with_action_mask:
            agent_info["action_mask"] = self.engine.action_masks()[0].astype(np.int8)
        return CoreOutput(
            observations=observations,
            rewards=out.rewards[0],
            terminated=out.terminated[0],
            truncated=bool(out.truncated[0]),
            done=done,
            alive=out.alive[0],
            mean_actions=out.mean_actions[0],
            info=info,
            agent_info=agent_info,
        )


class BattleEnv(ArrayParallelEnv):
    """PettingZoo parallel Battle; see the module docstring."""

    metadata = {"name": "battle_v0", "render_modes": ["human", "rgb_array"], "render_fps": 5}
    draw_function = "render.battle:draw"

    def __init__(
        self,
        map_size: int = 40,
        team_size: int | None = None,
        positions: Mapping[str, Sequence[tuple[int, int]]] | None = None,
        walls: Sequence[tuple[int, int]] = (),
        minimap_mode: bool = True,
        extra_features: bool = False,
        max_cycles: int = 400,
        random_sides: bool = True,
        step_reward: float = -0.005,
        dead_penalty: float = -0.1,
        attack_penalty: float = -0.1,
        attack_opponent_reward: float = 0.2,
        kill_reward: float = 5.0,
        mean_action_radius: float | None = 6,
        dead_agents: str = "remove",
        action_mask: bool = False,
        view_dtype: str = "float32",
        render_mode: str | None = None,
    ):
        config = BattleConfig(
            map_size=map_size,
            team_size=team_size,
            positions=positions,
            walls=walls,
            minimap_mode=minimap_mode,
            extra_features=extra_features,
            max_cycles=max_cycles,
            random_sides=random_sides,
            step_reward=step_reward,
            dead_penalty=dead_penalty,
            attack_penalty=attack_penalty,
            attack_opponent_reward=attack_opponent_reward,
            kill_reward=kill_reward,
            mean_action_radius=mean_action_radius,
        )
        if not isinstance(action_mask, bool):
            raise TypeError(f"action_mask must be a bool, got {action_mask!r}")
        check_choice("dead_agents", dead_agents, ("remove", "absorb"))
        core = SingleBattle(config, action_mask, view_dtype)
        super().__init__(core, render_mode=render_mode, dead_agents=dead_agents)
