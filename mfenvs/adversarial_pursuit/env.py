"""Adversarial pursuit: 2 x 2 predators tag prey; MAgent2's ``adversarial_pursuit_v4``, rule for rule.

| | |
|---|---|
| Agents | ``predator_0..24``, ``prey_0..49`` at the default map (``int(0.0125 m^2)`` predators, ``int(0.025 m^2)`` prey, as MAgent2) |
| Actions | predator ``Discrete(13)``: 0-4 moves (2 = stay), 5-12 tags of the 8 cells around its 2 x 2 body; prey ``Discrete(9)``: moves (4 = stay), no attack |
| Observations | predator ``Box(10, 10, C)``, prey ``Box(9, 9, C)`` float32 HWC (float16 with ``view_dtype="float16"``), MAgent2's layout (below) |
| Rewards | predator: +1 per tag that lands on a prey, ``tag_penalty`` (-0.2) per tag action, hit or miss; prey: -1 per predator that tags it this step |
| Episode | nothing ever dies (tags do no damage): every episode is truncated after ``max_cycles`` steps (MAgent2's game over when a group is empty only happens on maps below 9, which have no predator) |
| Infos | ``mean_action``; ``predator_tags`` (prey tagged so far), each group's ``*_total_reward`` (and ``*_kills``, ``*_deaths``, ``*_survivors``, as the other games: 0, 0, all); ``draw`` (always, at the end); ``action_mask`` (optional); ``alive`` (absorb mode) |
| State | ``Box(0, 1, (map_size, map_size, 5), float32)`` indexed [y, x]: walls, then presence and hp / max_hp of predators (at the top-left cell of each body only, as MAgent2), then prey |

Units (MAgent2's ``get_config``):

| type | body | hp | speed (moves) | view | attack | damage | rewards |
|---|---|---|---|---|---|---|---|
| predator | 2 x 2 | 1 | 1 (5) | radius 5 (10 x 10 circle centred on the body) | radius 2: the 8-cell ring around the body | 0 | ``tag_penalty`` per tag action |
| prey | 1 x 1 | 1 | 1.5 (9) | radius 4 (9 x 9 circle) | none | 0 | none of its own |

A predator's position is the top-left cell of its body. It moves as a whole (to the cell of its move,
when all four destination cells are free or its own: the centre cell, no wall, no other agent) and is
seen on each of its four cells. Its tags, in action order 5-12, aim at the cells (x, y-1), (x+1, y-1),
(x-1, y), (x+2, y), (x-1, y+1), (x+2, y+1), (x, y+2), (x+1, y+2) from its top-left (x, y); a tag on a
predator, a wall or an empty cell is a miss. A prey tagged by several predators in one step gets -1 for each.

Observation channels (MAgent2 order, view indexed [row = y, col = x], the agent's eye at the centre: a
prey's own cell, a predator's body cell at top-left + (1, 1), its view running from 5 cells before the
eye to 4 after; a circle of the type's view radius; off-map cells and cells outside the circle read 0).
After the wall, one block per group, its own group first (MAgent's ``group2channel``):

| channels | content |
|---|---|
| 0 | wall |
| 1, 2 | presence, hp / max_hp of the own group |
| 3, 4 | presence, hp / max_hp of the other group |
| (``minimap_mode``) | after each block's two channels, its minimap (the map binned to the type's view, 10 x 10 or 9 x 9, by the agents' positions: count / group size, +1 at the agent's bin) |
| next (``extra_features``) | 10 id bits (the slot; MAgent's engine id), last action one-hot (13 or 9), last reward |
| last 2 (``minimap_mode``) | the agent's position (x, y) / map_size |

Sizes: 5 channels (MAgent2's default), 9 with the minimap; with ``extra_features`` predators 29 and prey
25 (33 and 29 with the minimap too), as MAgent2. The batched core
(``mfenvs.adversarial_pursuit.AdversarialPursuitCore``) returns 10 x 10 views for every agent (a prey's
9 x 9 in rows and columns 0-8, zeros in the last row and column) and the feature vectors (26 long, a
prey row's last 4 columns zero) separately.

``infos[agent]["mean_action"]`` is the mean one-hot action (13 or 9 long), at this step, of the agent's
group mates within ``mean_action_radius`` (default 4, measured between positions, a predator's being
its top-left cell; ``None``: the whole group): over its own group only, as the two groups have
different action sets; zeros at reset and for an agent with no group mate in range.

Dead agents: none die; ``dead_agents="remove"`` and ``"absorb"`` are accepted as in the other games.

Creation (every argument with its default; MAgent2's names and defaults first)::

    from mfenvs import adversarial_pursuit_v0
    env = adversarial_pursuit_v0.parallel_env(map_size=45, max_cycles=500, minimap_mode=False, extra_features=False,
                                              tag_penalty=-0.2, mean_action_radius=4, dead_agents="remove",
                                              action_mask=False, view_dtype="float32", render_mode=None)

Arguments:
    map_size: side of the square map including the wall ring; at least 7 (MAgent2's limit).
    max_cycles, minimap_mode, extra_features, tag_penalty: as in MAgent2's ``adversarial_pursuit_v4``
        (same defaults; ``tag_penalty`` is MAgent2's one ``reward_args`` entry).
    mean_action_radius: neighbourhood of the mean action, or ``None`` for the whole group.
    dead_agents: ``"remove"`` or ``"absorb"``.
    action_mask: add ``infos[agent]["action_mask"]`` (int8, 13 or 9): unblocked moves, tags that would land on a prey.
    view_dtype: ``"float32"`` (the default) or ``"float16"`` (opt-in, as Battle's).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"`` (each group its own colour, predators as 2 x 2 blocks, walls drawn).

The map is MAgent2's ``generate_map``: ``int(0.03 m^2)`` walls (60 at map 45), then the predators (each
on a free 2 x 2 area, its top-left drawn as MAgent's rejection sampling draws it), then the prey, anew
at every reset, from the generator that ``reset(seed=...)`` seeds (MAgent2 draws from its engine's C++
``minstd_rand0``, so the cells differ; the counts, the order and every rule after placement are
MAgent2's). Above 99 x 99 cells moves follow MAgent's x-band order (by the top-left cell's column), as
in MAgent2 (``mfenvs.gridworld.game.Game.move_bands``). ``AdversarialPursuitConfig(positions=...,
walls=...)`` places the agents and walls explicitly (the batched core; the MAgent2 rule-identity tests
use it to replay MAgent2's own placements).

Differences from MAgent2's ``adversarial_pursuit_v4``, all deliberate (the other games' too): placement
draws from NumPy's generator, not MAgent's (above); ``state()`` is indexed [y, x] like the views
(MAgent2's is [x, y]) and never carries the features (MAgent2 adds them with ``extra_features``); the
features show the last step's reward (MAgent2's lag one step); stepping after the end raises an error;
the first step after reset uses each group's own actions (MAgent2 0.3.4 plays the predators' actions
for every group, MAGENT2_GAMES.md section 1.6: its prey 0-24 play the predators' actions); actions of agents missing from the dict are an error (MAgent2 sends
-1, an out-of-bounds read); there is no ``seed`` constructor argument (seed ``reset(seed=...)``, which
draws the map).

Version history:
    v0: initial release (MAgent2 ``adversarial_pursuit_v4``'s units, rule and map counts, checked against
        MAgent2's engine on its own placements at maps 45 and 120 and on a pack of predators among prey at 14; issue 25).
"""

from __future__ import annotations

from mfenvs.adversarial_pursuit.core import AdversarialPursuitCore
from mfenvs.adversarial_pursuit.game import (
    MAX_TAGGERS,
    TAG_REWARD,
    AdversarialPursuitConfig,
    adversarial_pursuit_game,
)
from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.common.validation import check_choice
from mfenvs.gridworld import single


def observation_layout(config: AdversarialPursuitConfig, view_dtype: str = "float32"):
    """MAgent2's observation of predators and prey (``mfenvs.gridworld.single.observation_layout``), the
    tiled last reward bounded as MAgent2 bounds it: +1 for a tag, -1 for each of up to 4 predators
    tagging one prey, and ``tag_penalty`` ([-4.2, 1] at the defaults)."""
    rewards = [TAG_REWARD, -MAX_TAGGERS * TAG_REWARD, config.tag_penalty]
    return single.observation_layout(
        adversarial_pursuit_game(config), config.extra_features, single.reward_range(rewards), view_dtype
    )


class SingleAdversarialPursuit(single.SingleGame):
    """One game of an ``AdversarialPursuitCore`` in MAgent2's per-agent layout: predators and prey each with
    their own view window, observation depth and action count."""

    def __init__(self, config: AdversarialPursuitConfig, action_mask: bool = False, view_dtype: str = "float32"):
        tiled, bounds = observation_layout(config, view_dtype)
        engine = AdversarialPursuitCore(
            config, n_battles=1, spare_view_channels=tiled.shape[1], tiled_features=tiled, view_dtype=view_dtype
        )
        super().__init__(engine, bounds, action_mask)

    def scoreboard(self, done: bool) -> dict[str, int | float | bool]:
        """The per-step infos shared by every agent: numbers only, the same keys every step."""
        results = self.engine.results(0)
        results.pop("winner")  # nobody wins: nothing dies
        return {**results, "draw": done}


class AdversarialPursuitEnv(ArrayParallelEnv):
    """PettingZoo parallel adversarial pursuit; see the module docstring."""

    metadata = {"name": "adversarial_pursuit_v0", "render_modes": ["human", "rgb_array"], "render_fps": 5}
    draw_function = "render.battle:draw"

    def __init__(
        self,
        map_size: int = 45,
        max_cycles: int = 500,
        minimap_mode: bool = False,
        extra_features: bool = False,
        tag_penalty: float = -0.2,
        mean_action_radius: float | None = 4,
        dead_agents: str = "remove",
        action_mask: bool = False,
        view_dtype: str = "float32",
        render_mode: str | None = None,
    ):
        config = AdversarialPursuitConfig(
            map_size=map_size,
            minimap_mode=minimap_mode,
            extra_features=extra_features,
            max_cycles=max_cycles,
            tag_penalty=tag_penalty,
            mean_action_radius=mean_action_radius,
        )
        check_choice("dead_agents", dead_agents, ("remove", "absorb"))
        super().__init__(
            SingleAdversarialPursuit(config, action_mask, view_dtype), render_mode=render_mode, dead_agents=dead_agents
        )
