"""Gather: omnivores that eat passive food (and each other); MAgent2's ``gather_v5``, rule for rule.

| | |
|---|---|
| Agents | ``omnivore_0..494`` (MAgent2's map; the 2,272 food are on the map, in the views and the state, but are no agents: they never act) |
| Actions | ``Discrete(33)``: 0-28 moves to the cells within distance 3 (14 = stay), 29-32 attacks on the 4 neighbours (MAgent's order: rows top to bottom, then columns) |
| Observations | ``Box(15, 15, C)`` float32 HWC (float16 with ``view_dtype="float16"``), MAgent2's layout (below) |
| Rewards | ``step_reward`` (-0.01) every step, ``attack_penalty`` (-0.1) per attack action, +``attack_food_reward`` (0.5) for a non-killing hit on food, +5 for the hit that kills a food (25 hp: the 5th hit), ``dead_penalty`` (-1) on the step an omnivore dies (replaces the rest) |
| Episode | ends when every food is eaten or every omnivore is dead (termination for all, as MAgent2) or after ``max_cycles`` steps (truncation) |
| Infos | ``mean_action``; ``food_eaten``, ``omnivores_killed`` (by other omnivores); each group's running ``*_kills`` (food never kills), ``*_deaths``, ``*_survivors`` (``food_survivors``: food left), ``*_total_reward`` (food's 0); ``all_food_eaten``, ``all_omnivores_dead`` (at the end); ``action_mask`` (optional); ``alive`` (absorb mode) |
| State | ``Box(0, 1, (200, 200, 5), float32)`` indexed [y, x]: walls, then presence and hp / max_hp of food, then omnivores |

Units (MAgent2's ``get_config``; both 1 x 1):

| type | hp | speed | view | attack | damage | other |
|---|---|---|---|---|---|---|
| food | 25 | 0 (stays) | radius 1 | none | 0 | its killer gets ``kill_reward`` 5 |
| omnivore | 3 | 3 (29 moves) | radius 7 (15 x 15 circle) | radius 1 (4 cells) | 6 | ``attack_in_group``: an omnivore's hit on another kills it (3 hp) |

Neither type recovers hp. An omnivore's killing blow on another omnivore earns nothing but its step
and attack rewards (-0.11); the victim gets -1.

Observation channels (MAgent2 order, view indexed [row = y, col = x], the omnivore at the centre, a
circle of radius 7; off-map cells and cells outside the circle read 0). After the wall, one block per
group, its own group first (MAgent's ``group2channel``):

| channels | content |
|---|---|
| 0 | wall |
| 1, 2 | presence, hp / max_hp of omnivores |
| 3, 4 | presence, hp / max_hp of food |
| (``minimap_mode``) | after each block's two channels, its minimap (the map binned to 15 x 15: count / group size, +1 at the agent's bin) |
| next (``extra_features``) | last action one-hot (33), last reward (no id bits: MAgent2's gather has no ``embedding_size``) |
| last 2 (``minimap_mode``) | the agent's (x, y) / 200 |

Sizes: 5 channels (MAgent2's default), 7 with the minimap, 39 with ``extra_features``, 43 with both,
as MAgent2. The batched core (``mfenvs.gather.GatherCore``) returns 15 x 15 views and 36 features
(one-hot, reward, position) for every slot, food included (food slots first; a food's 3 x 3 view at
the centre).

``infos[agent]["mean_action"]`` is the mean one-hot action (33 long), at this step, of the omnivore's
living fellow omnivores within ``mean_action_radius`` (default 7, its view radius; ``None``: every
omnivore); zeros at reset and for an omnivore with none in range. Gather has one group of agents, so
its own group is all the other agents.

Dead agents: ``dead_agents="remove"`` (PettingZoo's contract) or ``"absorb"`` (the agent set stays
fixed until the episode ends), as Battle.

Creation (every argument with its default; MAgent2's names and defaults first)::

    from mfenvs import gather_v0
    env = gather_v0.parallel_env(max_cycles=500, minimap_mode=False, extra_features=False, step_reward=-0.01,
                                 attack_penalty=-0.1, dead_penalty=-1, attack_food_reward=0.5,
                                 mean_action_radius=7, dead_agents="remove", action_mask=False,
                                 view_dtype="float32", render_mode=None)

Arguments:
    max_cycles, minimap_mode, extra_features, step_reward, attack_penalty, dead_penalty, attack_food_reward: as
        in MAgent2's ``gather_v5`` (same defaults; MAgent2 takes the last four as ``**reward_args``). There is
        no ``map_size``: the map is 200 x 200, as MAgent2's.
    mean_action_radius: neighbourhood of the mean action, or ``None`` for every omnivore.
    dead_agents: ``"remove"`` or ``"absorb"``.
    action_mask: add ``infos[agent]["action_mask"]`` (int8, 33): unblocked moves, attacks on food or an omnivore.
    view_dtype: ``"float32"`` (the default) or ``"float16"`` (opt-in, as Battle's).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"`` (omnivores and food in their colours, the walls).

The map is MAgent2's ``generate_map``, the same at every reset: omnivores on three concentric squares
(495), food on ten more and a central pattern of 2 x 2 blocks (2,272; ``mfenvs.gather.start_cells``,
checked cell for cell against MAgent2's). The map has 200 x 200 > 99 x 99 cells, so moves follow
MAgent's x-band order, as in MAgent2 (``mfenvs.gridworld.game.Game.move_bands``).
``GatherConfig(map_size=..., positions=...)`` places the agents explicitly on a map of any size (the
batched core; the MAgent2 rule-identity tests use it for small maps).

Memory: a step's observations are views of one buffer that holds a row for every slot, the 2,272 food's too
(left zero): ~107 MB with ``extra_features`` and the minimap, ~12 MB without. The env reuses the buffer once
nothing refers to it; a consumer that keeps every step's observation dict instead of copying the rows it needs
keeps one buffer per step (a known cost, not yet trimmed to the omnivores' rows).

Differences from MAgent2's ``gather_v5``, all deliberate (as Battle's and the other games'):
``state()`` is indexed [y, x] like the views (MAgent2's is [x, y]) and never carries the features
(MAgent2's ``state()`` with ``extra_features`` writes them from channel 3 on, over the omnivores'
presence and hp: a bug, MAGENT2_GAMES.md section 2.3); an omnivore's death step always gives its
``dead_penalty`` (MAgent2 adds that step's reward rules after it: an omnivore that hit food and was
killed in the same step gets -1 + 0.5); the features show the last step's reward (MAgent2's lag one
step); dead agents see zeros; stepping after the end raises an error; actions of agents missing from
the dict are an error (MAgent2 sends -1, an out-of-bounds read); there is no ``seed`` constructor
argument (seed ``reset(seed=...)``, which draws the order of each step's attacks; the map has no
randomness). MAgent2's first-step bug (MAGENT2_GAMES.md section 1.6) does not touch gather, which has
one acting group.

Version history:
    v0: initial release (MAgent2 ``gather_v5``'s units, rule, map and large-map move order, checked
        against MAgent2's engine on small maps and on its own 200 x 200 map; issue 25).
"""

from __future__ import annotations

from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.common.validation import check_choice
from mfenvs.gather.core import GatherCore
from mfenvs.gather.game import KILL_REWARD, GatherConfig, gather_game
from mfenvs.gridworld import single


def observation_layout(config: GatherConfig, view_dtype: str = "float32"):
    """MAgent2's observation of omnivores (and food, never handed out; ``mfenvs.gridworld.single.observation_layout``),
    the tiled last reward bounded as MAgent2's ``reward_range``: the negative terms' sum, the positive ones'."""
    rewards = [KILL_REWARD, config.step_reward, config.attack_penalty, config.dead_penalty, config.attack_food_reward]
    return single.observation_layout(gather_game(config), config.extra_features, single.reward_range(rewards), view_dtype)


class SingleGather(single.SingleGame):
    """One game of a ``GatherCore`` in MAgent2's per-agent layout: the omnivores only (food is passive)."""

    def __init__(self, config: GatherConfig, action_mask: bool = False, view_dtype: str = "float32"):
        tiled, bounds = observation_layout(config, view_dtype)
        engine = GatherCore(config, n_battles=1, spare_view_channels=tiled.shape[1], tiled_features=tiled, view_dtype=view_dtype)
        super().__init__(engine, bounds, action_mask)

    def scoreboard(self, done: bool) -> dict[str, int | float | bool]:
        """The per-step infos shared by every agent: numbers only, the same keys every step."""
        results = self.engine.results(0)
        winner = results.pop("winner")  # a winner only once the episode is over
        return {**results, "all_food_eaten": done and winner == "omnivore", "all_omnivores_dead": done and winner == "food"}


class GatherEnv(ArrayParallelEnv):
    """PettingZoo parallel gather; see the module docstring."""

    metadata = {"name": "gather_v0", "render_modes": ["human", "rgb_array"], "render_fps": 5}
    draw_function = "render.battle:draw"

    def __init__(
        self,
        max_cycles: int = 500,
        minimap_mode: bool = False,
        extra_features: bool = False,
        step_reward: float = -0.01,
        attack_penalty: float = -0.1,
        dead_penalty: float = -1.0,
        attack_food_reward: float = 0.5,
        mean_action_radius: float | None = 7,
        dead_agents: str = "remove",
        action_mask: bool = False,
        view_dtype: str = "float32",
        render_mode: str | None = None,
    ):
        config = GatherConfig(
            minimap_mode=minimap_mode,
            extra_features=extra_features,
            max_cycles=max_cycles,
            step_reward=step_reward,
            attack_penalty=attack_penalty,
            dead_penalty=dead_penalty,
            attack_food_reward=attack_food_reward,
            mean_action_radius=mean_action_radius,
        )
        check_choice("dead_agents", dead_agents, ("remove", "absorb"))
        super().__init__(SingleGather(config, action_mask, view_dtype), render_mode=render_mode, dead_agents=dead_agents)
