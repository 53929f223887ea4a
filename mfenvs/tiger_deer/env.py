"""Tiger-deer: tigers that starve unless they hunt deer together; MAgent2's ``tiger_deer_v4``, rule for rule.

| | |
|---|---|
| Agents | ``deer_0..100``, ``tiger_0..19`` at the default map (``int(0.05 m^2)`` deer, ``int(0.01 m^2)`` tigers, as MAgent2) |
| Actions | deer ``Discrete(5)``: moves (2 = stay), no attack; tiger ``Discrete(9)``: 0-4 moves (2 = stay), 5-8 attacks on the 4 neighbours (MAgent's order: rows top to bottom, then columns) |
| Observations | deer ``Box(3, 3, C)``, tiger ``Box(9, 9, C)`` float32 HWC (float16 with ``view_dtype="float16"``), MAgent2's layout (below) |
| Rewards | tiger: +1 per other tiger whose non-killing hit landed on the same deer this step (MAgent2's ``(a attack c) & (b attack c)`` rule, +0.5 to each of every ordered pair), nothing else; deer: ``deer_attacked`` (-0.1) per non-killing hit taken, -1 on the step it dies (replaces the rest) |
| Episode | ends when either group is gone (every deer eaten, or every tiger starved: termination for all, as MAgent2) or after ``max_cycles`` steps (truncation) |
| Infos | ``mean_action``; each group's running ``*_kills`` (deer eaten by tigers; deer never kill), ``*_deaths`` (killed or starved), ``*_survivors``, ``*_total_reward``; ``tiger_won`` (every deer eaten), ``deer_won`` (every tiger starved), ``draw``; ``action_mask`` (optional); ``alive`` (absorb mode) |
| State | ``Box(0, 1, (map_size, map_size, 5), float32)`` indexed [y, x]: walls, then presence and hp / max_hp of deer, then tigers |

Units (MAgent2's ``get_config``; both 1 x 1, speed 1):

| type | hp | view | attack | damage | hp per step | other |
|---|---|---|---|---|---|---|
| deer | 5 | radius 1 (a plus in 3 x 3) | none | 0 | +0.2 | its killer regains 8 hp (``kill_supply``, capped at 10); ``dead_penalty`` -1 |
| tiger | 10 | radius 4 (9 x 9 circle) | radius 1 (4 cells) | 1 | ``tiger_step_recover`` (-0.1) | dies when its hp drops below 0: a tiger that never eats starves at step 100 |

A tiger's attack on another tiger is a miss (MAgent2's ``attack_in_group`` is off). A deer dies on
the hit that takes its hp below 0 (six hits from full health, more as it recovers 0.2 a step); the
killing blow earns its tiger nothing but the 8 hp, and fires no joint-attack rule (MAgent's "attack"
events are non-killing hits).

Observation channels (MAgent2 order, view indexed [row = y, col = x], the agent at the centre, a
circle of the type's view radius; off-map cells and cells outside the circle read 0). After the wall,
one block per group, its own group first (MAgent's ``group2channel``: a tiger sees tigers, then deer):

| channels | content |
|---|---|
| 0 | wall |
| 1, 2 | presence, hp / max_hp of the own group |
| 3, 4 | presence, hp / max_hp of the other group |
| (``minimap_mode``) | after each block's two channels, its minimap (the map binned to the type's view, 3 x 3 or 9 x 9: count / group size, +1 at the agent's bin) |
| next (``extra_features``) | 10 id bits (the slot; MAgent's engine id), last action one-hot (5 or 9), last reward |
| last 2 (``minimap_mode``) | the agent's (x, y) / map_size |

Sizes: 5 channels (MAgent2's default), 9 with the minimap; with ``extra_features`` deer 21 and tigers
25 (25 and 29 with the minimap too), as MAgent2. The batched core (``mfenvs.tiger_deer.TigerDeerCore``)
returns 9 x 9 views for every agent (a deer's 3 x 3 at the centre, zeros around) and the feature
vectors (22 long, a deer row's last 4 columns zero) separately.

``infos[agent]["mean_action"]`` is the mean one-hot action (5 or 9 long), at this step, of the agent's
living group mates within ``mean_action_radius`` (default 4, the tigers' view radius; ``None``: the
whole group): over its own group only, as the two groups have different action sets; zeros at reset and
for an agent with no group mate in range.

Dead agents: ``dead_agents="remove"`` (PettingZoo's contract) or ``"absorb"`` (the agent set stays
fixed until the episode ends), as Battle.

Creation (every argument with its default; MAgent2's names and defaults first)::

    from mfenvs import tiger_deer_v0
    env = tiger_deer_v0.parallel_env(map_size=45, max_cycles=300, minimap_mode=False, extra_features=False,
                                     tiger_step_recover=-0.1, deer_attacked=-0.1, mean_action_radius=4,
                                     dead_agents="remove", action_mask=False, view_dtype="float32",
                                     render_mode=None)

Arguments:
    map_size: side of the square map including the wall ring; at least 10 (MAgent2's limit).
    max_cycles, minimap_mode, extra_features, tiger_step_recover, deer_attacked: as in MAgent2's
        ``tiger_deer_v4`` (same defaults).
    mean_action_radius: neighbourhood of the mean action, or ``None`` for the whole group.
    dead_agents: ``"remove"`` or ``"absorb"``.
    action_mask: add ``infos[agent]["action_mask"]`` (int8, 5 or 9): unblocked moves, attacks on a deer.
    view_dtype: ``"float32"`` (the default) or ``"float16"`` (opt-in, as Battle's).
    render_mode: ``None``, ``"rgb_array"`` or ``"human"`` (each group its own colour, walls drawn).

The map is MAgent2's ``generate_map``: ``int(0.04 m^2)`` walls (81 at map 45), then the deer, then the
tigers, each on a free cell inside the border drawn uniformly at random, anew at every reset, from the
generator that ``reset(seed=...)`` seeds (MAgent2 draws from its engine's C++ ``minstd_rand0``, so the
cells differ; the counts, the order and every rule after placement are MAgent2's). Above 99 x 99
cells moves follow MAgent's x-band order, as in MAgent2 (``mfenvs.gridworld.game.Game.move_bands``).
``TigerDeerConfig(positions=..., walls=...)`` places the agents and walls explicitly (the batched
core; the MAgent2 rule-identity tests use it to replay MAgent2's own placements).

Differences from MAgent2's ``tiger_deer_v4``, all deliberate (Battle's and combined arms' too):
placement draws from NumPy's generator, not MAgent's (above); ``state()`` is indexed [y, x] like the
views (MAgent2's is [x, y]) and never carries the features (MAgent2 adds them with ``extra_features``);
an agent's death step always gives its ``dead_penalty`` (MAgent2 adds the reward rules of that step
after it: a deer killed after other tigers' non-killing hits gets -1 - 0.1 per such hit, a tiger that
starves in the step its hit shared a deer with other tigers gets +1 per such tiger); the features show
the last step's reward (MAgent2's lag one step); dead agents see zeros; stepping after the end raises
an error; the first step after reset uses each group's own actions (MAgent2 0.3.4 plays the deer's
actions for every group, MAGENT2_GAMES.md section 1.6, so its tigers never attack on that step);
actions of agents missing from the dict are an error (MAgent2 sends -1, an out-of-bounds read); there is
no ``seed`` constructor argument (seed ``reset(seed=...)``, which draws the map and the order of attacks).

Version history:
    v0: initial release (MAgent2 ``tiger_deer_v4``'s units, rules and map counts, checked against
        MAgent2's engine on its own placements at maps 45 and 120 and on a den of tigers among deer at 12; issue 25).
"""

from __future__ import annotations

from mfenvs.common.adapter import ArrayParallelEnv
from mfenvs.common.validation import check_choice
from mfenvs.gridworld import single
from mfenvs.tiger_deer.core import TigerDeerCore
from mfenvs.tiger_deer.game import TIGER_ATTACK_REWARD, TigerDeerConfig, tiger_deer_game


def observation_layout(config: TigerDeerConfig, view_dtype: str = "float32"):
    """MAgent2's observation of deer and tigers (``mfenvs.gridworld.single.observation_layout``), the tiled
    last reward bounded by what a step can pay: a tiger up to +1 for each of the 3 other tigers that can
    hit its deer with it, a deer ``deer_attacked`` for each of its 4 attackers or -1 when it dies.

    (MAgent2's ``reward_range`` sums 1, -1, ``tiger_step_recover`` and ``deer_attacked``: [-1.2, 1] at the
    defaults, which a tiger's +2 or +3 leaves.)
    """
    rewards = [-1.0, 3 * TIGER_ATTACK_REWARD, 4 * config.deer_attacked]
    return single.observation_layout(tiger_deer_game(config), config.extra_features, single.reward_range(rewards), view_dtype)


class SingleTigerDeer(single.SingleGame):
    """One game of a ``TigerDeerCore`` in MAgent2's per-agent layout: deer and tigers each with their own
    view window, observation depth and action count."""

    def __init__(self, config: TigerDeerConfig, action_mask: bool = False, view_dtype: str = "float32"):
        tiled, bounds = observation_layout(config, view_dtype)
        engine = TigerDeerCore(config, n_battles=1, spare_view_channels=tiled.shape[1], tiled_features=tiled, view_dtype=view_dtype)
        super().__init__(engine, bounds, action_mask)

    def scoreboard(self, done: bool) -> dict[str, int | float | bool]:
        """The per-step infos shared by every agent: numbers only, the same keys every step."""
        results = self.engine.results(0)
        winner = results.pop("winner")  # the group left; a winner only once the episode is over
        if not done:
            winner = None
        return {**results, "tiger_won": winner == "tiger", "deer_won": winner == "deer", "draw": winner == "draw"}


class TigerDeerEnv(ArrayParallelEnv):
    """PettingZoo parallel tiger-deer; see the module docstring."""

    metadata = {"name": "tiger_deer_v0", "render_modes": ["human", "rgb_array"], "render_fps": 5}
    draw_function = "render.battle:draw"

    def __init__(
        self,
        map_size: int = 45,
        max_cycles: int = 300,
        minimap_mode: bool = False,
        extra_features: bool = False,
        tiger_step_recover: float = -0.1,
        deer_attacked: float = -0.1,
        mean_action_radius: float | None = 4,
        dead_agents: str = "remove",
        action_mask: bool = False,
        view_dtype: str = "float32",
        render_mode: str | None = None,
    ):
        config = TigerDeerConfig(
            map_size=map_size,
            minimap_mode=minimap_mode,
            extra_features=extra_features,
            max_cycles=max_cycles,
            tiger_step_recover=tiger_step_recover,
            deer_attacked=deer_attacked,
            mean_action_radius=mean_action_radius,
        )
        check_choice("dead_agents", dead_agents, ("remove", "absorb"))
        super().__init__(SingleTigerDeer(config, action_mask, view_dtype), render_mode=render_mode, dead_agents=dead_agents)
