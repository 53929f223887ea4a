"""Battlefield: Battle's two teams on MAgent2's battlefield map, with walls to fight around.

| | |
|---|---|
| Agents | ``red_0`` .. ``red_11``, ``blue_0`` .. ``blue_11`` at the default map (12 v 12, as MAgent2) |
| Actions | ``Discrete(21)``: 0-12 moves (6 = stay), 13-20 attacks on the 8 neighbours (MAgent's order) |
| Observations | ``Box(13, 13, C)`` float32 HWC (float16 with ``view_dtype="float16"``), MAgent2's layout, walls in channel 0 |
| Rewards | per step -0.005; attack -0.1; non-lethal hit on an enemy +0.2; killing blow +5 instead; death -0.1 (replaces the rest) |
| Episode | ends when a team is wiped out (termination) or after ``max_cycles`` steps (truncation) |
| Infos | as Battle's: ``mean_action``; the running kills, survivors and total rewards of both teams; ``red_won``, ``blue_won``, ``draw``; ``action_mask`` (optional); ``alive`` (absorb mode) |
| State | ``Box(0, 1, (map_size, map_size, 5), float32)`` indexed [y, x]: walls, red presence, red hp, blue presence, blue hp |

The map is MAgent2's ``battlefield_v5`` ``generate_map``, cell for cell: interior walls in two double
columns either side of the centre (200 cells at map 80: x in {35, 36} for y in [10, 45) and [50, 65),
x in {44, 45} for y in [15, 30) and [35, 70)), and a 4 x 4 grid per side at stride 2 (red at
x in {29, 31, 33, 35}, blue at x in {43, 45, 47, 49}, y in {36, 38, 40, 42}) less the cells on a wall:
12 v 12 at map 80. Placement draws nothing: every episode starts the same. Above 99 x 99 cells moves
follow MAgent's x-band order, as in MAgent2 (``mfenvs.gridworld.game.Game.move_bands``). The agents, rules,
observations and features are Battle's (``mfenvs.battle.env``, MAgent2's ``battle.get_config``, which
MAgent2's battlefield imports): this environment is Battle's game on this map
(``mfenvs.battlefield.game``), on the same gridworld engine.

Observation channels (view indexed [row = y, col = x], the agent at (6, 6), a circle of radius 6):
wall, own presence, own hp / max_hp, [own minimap], enemy presence, enemy hp / max_hp, [enemy minimap],
then with ``extra_features`` 10 id bits, the last action one-hot (21) and the last reward, and with
``minimap_mode`` the agent's (x, y) / map_size, each repeated over the window as MAgent2 does. Sizes: 5
channels (MAgent2's default), 9 with the minimap, 37 with ``extra_features``, 41 with both.

``infos[agent]["mean_action"]`` is the mean one-hot action, at this step, of the agent's living
teammates within ``mean_action_radius`` (default 6, the view radius; ``None``: the whole team);
zeros at reset and for an agent with no teammate in range.

Dead agents: ``dead_agents="remove"`` (PettingZoo's contract) or ``"absorb"`` (the agent set stays
fixed until the episode ends), as Battle.

Creation (every argument with its default; MAgent2's names and defaults first)::

    from mfenvs import battlefield_v0
    env = battlefield_v0.parallel_env(map_size=80, minimap_mode=False, extra_features=False,
                                      max_cycles=1000, step_reward=-0.005, dead_penalty=-0.1,
                                      attack_penalty=-0.1, attack_opponent_reward=0.2, kill_reward=5.0,
                                      mean_action_radius=6, dead_agents="remove", action_mask=False,
                                      view_dtype="float32", render_mode=None)

Arguments:
    map_size: side of the square map including the wall ring; at least 46 (MAgent2's limit). The
        walls' rows are MAgent2's fixed numbers, so the layout is the intended one near 80.
    minimap_mode, extra_features, max_cycles, step_reward, dead_penalty, attack_penalty, attack_opponent_reward:
        as in MAgent2's ``battlefield_v5`` (same defaults).
    kill_reward: reward of the killing blow (MAgent2 hard-codes 5).
    mean_action_radius: neighbourhood of the mean action, or ``None`` for the whole team.
    dead_agents: ``"remove"`` or ``"absorb"``.
    action_mask: add ``infos[agent]["action_mask"]`` (int8, 21): unblocked moves, attacks on an enemy.
    view_dtype: ``"float32"`` (the default) or ``"float16"`` (opt-in, as Battle's).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"`` (walls drawn).

Differences from MAgent2's ``battlefield_v5``, all deliberate (the same as Battle's from ``battle_v4``):
``state()`` is indexed [y, x] like the views (MAgent2's is [x, y]); an agent's death step always gives
``dead_penalty`` (MAgent2 gives it +0.1 more if it had landed a non-lethal hit earlier that step); the
features show the last step's reward (MAgent2's lag one step); dead agents see zeros; stepping after
the end raises an error; the first step after reset uses each team's own actions (MAgent2 0.3.4 gives
blue red's actions, MAGENT2_GAMES.md section 1.6); there is no ``seed`` constructor argument (seed
``reset(seed=...)``; placement is deterministic anyway, and the seed drives only the order of attacks).
Sides are fixed (red on the left), as in MAgent2: the map is not mirror-symmetric.

Version history:
    v0: initial release (MAgent2 ``battlefield_v5``'s map and Battle's rules, checked against MAgent2's
        engine; issue 25).
"""

from __future__ import annotations

from mfenvs.battle.env import SingleBattle
from mfenvs.battlefield.game import battlefield_config
from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.common.validation import check_choice


class BattlefieldEnv(ArrayParallelEnv):
    """PettingZoo parallel Battlefield; see the module docstring."""

    metadata = {"name": "battlefield_v0", "render_modes": ["human", "rgb_array"], "render_fps": 5}
    draw_function = "render.battle:draw"

    def __init__(
        self,
        map_size: int = 80,
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
        config = battlefield_config(
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
        core = SingleBattle(config, action_mask, view_dtype)
        super().__init__(core, render_mode=render_mode, dead_agents=dead_agents)
