"""Combined arms: two sides of melee and ranged units, four groups; MAgent2's ``combined_arms_v6``, rule for rule.

| | |
|---|---|
| Agents | ``redmelee_0..44``, ``redranged_0..35``, ``bluemelee_0..44``, ``blueranged_0..35`` at the default map (45 + 36 per side, as MAgent2) |
| Actions | melee ``Discrete(9)``: 0-4 moves (2 = stay), 5-8 attacks on the 4 neighbours; ranged ``Discrete(25)``: 0-12 moves (6 = stay), 13-24 attacks within radius 2 (MAgent's order: rows top to bottom, then columns) |
| Observations | ``Box(13, 13, C)`` float32 HWC (float16 with ``view_dtype="float16"``), MAgent2's layout (below); ``C`` differs by type with ``extra_features`` |
| Rewards | per step -0.005; attack -0.1 (hit or miss); non-lethal hit on an enemy +0.2; killing blow on an enemy +5 instead; death -0.1 (replaces the rest); hits on the own side: no bonus |
| Episode | ends when any of the four groups is wiped out (termination for all, as MAgent2) or after ``max_cycles`` steps (truncation) |
| Infos | ``mean_action``; the running enemy kills, own-side kills (friendly fire), survivors and total reward of each group (``redmelee_kills``, ``redmelee_friendly_kills``...) and each side (``red_kills``...); ``red_won``, ``blue_won``, ``draw`` (more enemy kills by the side's two groups wins); ``action_mask`` (optional); ``alive`` (absorb mode) |
| State | ``Box(0, 1, (map_size, map_size, 9), float32)`` indexed [y, x]: walls, then presence and hp / max_hp of redmelee, redranged, bluemelee, blueranged |

Units (MAgent2's ``get_config``; both view radius 6, damage 2, recover 0.1 hp a step, and their attacks
hit any agent on the target cell, of either side: ``attack_in_group``):

| type | hp | moves (speed) | attacks (radius) | groups |
|---|---|---|---|---|
| melee | 10 | 5 (1) | 4 (1) | redmelee, bluemelee |
| ranged | 3 | 13 (2) | 12 (2) | redranged, blueranged |

Friendly fire: a hit on an agent of the attacker's own side (its own group, or the side's other group)
lands (damage, kills) with no reward beyond the attack penalty, as in MAgent2, whose engine knows groups
and not sides. The sixteen reward rules pay only hits and kills on the other side's two groups.

Observation channels (MAgent2 order, view indexed [row = y, col = x], the agent at (6, 6), a circle
of radius 6; off-map cells and cells outside the circle read 0). After the wall, one block per group,
rotated so that the observer's own group comes first (MAgent's ``group2channel``: a ``redranged``
agent sees redranged, bluemelee, blueranged, redmelee):

| channels | content |
|---|---|
| 0 | wall |
| 1 + 2k, 2 + 2k (k = 0..3) | presence, hp / max_hp of group (own + k) mod 4 |
| (``minimap_mode``) | after each block's two channels, its minimap (the map binned to 13 x 13, count / group size, +1 at the agent's bin) |
| next (``extra_features``) | 10 id bits (the slot; MAgent's engine id), last action one-hot (9 or 25), last reward |
| last 2 (``minimap_mode``) | the agent's (x, y) / map_size |

Sizes: 9 channels (MAgent2's default), 15 with the minimap; with ``extra_features`` melee 29 and ranged
45 (35 and 51 with the minimap too), as MAgent2. The batched core (``mfenvs.combined_arms.CombinedArmsCore``)
returns the views and the feature vectors (38 long, a melee row's last 16 columns zero) separately.

``infos[agent]["mean_action"]`` is the mean one-hot action (9 or 25 long), at this step, of the agent's
living group mates within ``mean_action_radius`` (default 6, the view radius; ``None``: the whole
group): over its own group only, not its side, because melee and ranged units have different action
sets. A side's two groups are two populations; a learner that wants the other group's mean action reads
it from that group's agents (or the TorchRL env's other group); zeros at reset and for an agent with
no group mate in range.

Dead agents: ``dead_agents="remove"`` (PettingZoo's contract) or ``"absorb"`` (the agent set stays
fixed until the episode ends), as Battle.

Creation (every argument with its default; MAgent2's names and defaults first)::

    from mfenvs import combined_arms_v0
    env = combined_arms_v0.parallel_env(map_size=45, minimap_mode=False, extra_features=False,
                                        max_cycles=1000, step_reward=-0.005, dead_penalty=-0.1,
                                        attack_penalty=-0.1, attack_opponent_reward=0.2, kill_reward=5.0,
                                        mean_action_radius=6, dead_agents="remove", action_mask=False,
                                        view_dtype="float32", render_mode=None)

Arguments:
    map_size: side of the square map including the wall ring; at least 16 (MAgent2's limit).
    minimap_mode, extra_features, max_cycles, step_reward, dead_penalty, attack_penalty, attack_opponent_reward:
        as in MAgent2's ``combined_arms_v6`` (same defaults).
    kill_reward: reward of the killing blow on an enemy (MAgent2 hard-codes 5).
    mean_action_radius: neighbourhood of the mean action, or ``None`` for the whole group.
    dead_agents: ``"remove"`` or ``"absorb"``.
    action_mask: add ``infos[agent]["action_mask"]`` (int8, 9 or 25): unblocked moves, attacks on an agent
        (of either side: friendly fire lands).
    view_dtype: ``"float32"`` (the default) or ``"float16"`` (opt-in, as Battle's).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"`` (each group its own colour).

The map is MAgent2's ``generate_map``, cell for cell: per side a square grid at stride 2 three cells
from the centre line, its columns alternating melee and ranged, red on the left (at map 45: red
melee at x = 1, 5, .., 17 and ranged at x = 3, .., 15, y = 13, 15, .., 29; blue at x = 25 .. 41).
Placement draws nothing: every episode starts the same. Above 99 x 99 cells moves follow MAgent's x-band
order, as in MAgent2 (``mfenvs.gridworld.game.Game.move_bands``).

Differences from MAgent2's ``combined_arms_v6``, all deliberate (Battle's and Battlefield's too):
``state()`` is indexed [y, x] like the views (MAgent2's is [x, y]) and never carries the features
(MAgent2 adds them with ``extra_features``); an agent's death step always gives ``dead_penalty``
(MAgent2 adds the reward rules of the hits it landed earlier in that step: +0.2 for a non-lethal hit
on an enemy, +5 for a kill); the
features show the last step's reward (MAgent2's lag one step); dead agents see zeros; stepping after
the end raises an error; the first step after reset uses each group's own actions (MAgent2 0.3.4 plays
redmelee's actions for every group, MAGENT2_GAMES.md section 1.6, so its ranged units get melee
actions); actions of agents missing from the dict are an error (MAgent2 sends -1, an out-of-bounds read);
there is no ``seed`` constructor argument (seed ``reset(seed=...)``; placement is deterministic, the
seed drives only the order of attacks).

Version history:
    v0: initial release (MAgent2 ``combined_arms_v6``'s units, rules and map, checked against MAgent2's
        engine at maps 16, 45 and 120; issue 25).
"""

from __future__ import annotations

import numpy as np

from mfenvs.combined_arms.core import CombinedArmsCore
from mfenvs.combined_arms.game import CombinedArmsConfig, combined_arms_game
from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.common.validation import check_choice
from mfenvs.gridworld import single
from mfenvs.gridworld.game import Game


def observation_layout(
    config: CombinedArmsConfig, game: Game, view_dtype: str = "float32"
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """MAgent2's observation of each agent type (``mfenvs.gridworld.single.observation_layout``), the
    tiled last reward bounded by the sum of the negative and of the positive reward terms."""
    rewards = [config.kill_reward, config.step_reward, config.dead_penalty, config.attack_penalty, config.attack_opponent_reward]
    return single.observation_layout(game, config.extra_features, single.reward_range(rewards), view_dtype)


class SingleCombinedArms(single.SingleGame):
    """One game of a ``CombinedArmsCore`` in MAgent2's per-agent layout: the ``ArrayCore`` the adapter drives,
    with per-slot spaces (each group its own action count, each type its own observation depth)."""

    def __init__(self, config: CombinedArmsConfig, action_mask: bool = False, view_dtype: str = "float32"):
        tiled, bounds = observation_layout(config, combined_arms_game(config), view_dtype)
        engine = CombinedArmsCore(
            config, n_battles=1, spare_view_channels=tiled.shape[1], tiled_features=tiled, view_dtype=view_dtype
        )
        super().__init__(engine, bounds, action_mask)

    def scoreboard(self, done: bool) -> dict[str, int | float | bool]:
        """The per-step infos shared by every agent: numbers only, the same keys every step."""
        results = self.engine.results(0)
        winner = results.pop("winner")  # the side ahead by kills; a winner only once the episode is over
        if not done:
            winner = None
        return {**results, "red_won": winner == "red", "blue_won": winner == "blue", "draw": winner == "draw"}


class CombinedArmsEnv(ArrayParallelEnv):
    """PettingZoo parallel combined arms; see the module docstring."""

    metadata = {"name": "combined_arms_v0", "render_modes": ["human", "rgb_array"], "render_fps": 5}
    draw_function = "render.battle:draw"

    def __init__(
        self,
        map_size: int = 45,
        minimap_mode: bool = False,
        extra_features: bool = False,
        max_cycles: int = 1000,
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
        config = CombinedArmsConfig(
            map_size=map_size,
            minimap_mode=minimap_mode,
            extra_features=extra_features,
            max_cycles=max_cycles,
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
        core = SingleCombinedArms(config, action_mask, view_dtype)
        super().__init__(core, render_mode=render_mode, dead_agents=dead_agents)
