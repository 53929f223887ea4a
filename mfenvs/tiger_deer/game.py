"""Tiger-deer as data: MAgent2's ``tiger_deer_v4`` ``get_config`` and ``generate_map`` on the gridworld engine.

Two agent types in two groups, in MAgent2's handle order:

- ``deer``: hp 5, speed 1 (5 moves), view radius 1 (a plus inside 3 x 3), no attack, +0.2 hp a
  step, ``kill_supply`` 8 (its killer regains 8 hp), ``dead_penalty`` -1;
- ``tiger``: hp 10, speed 1, view radius 4 (9 x 9), attack radius 1 (4 cells), damage 1, loses
  ``-tiger_step_recover`` (0.1) hp a step and starves below 0 hp; no reward of its own.

Two reward rules: MAgent2's ``(a attack c) & (b attack c)`` over two tigers and a deer, paying each
tiger +0.5 per ordered pair (``JointAttackRule``: +1 per other tiger whose non-killing hit landed on
the same deer in the step), and ``a attack c`` paid to the deer (``deer_attacked`` per non-killing
hit). The map is MAgent2's ``generate_map``: ``int(0.04 m^2)`` random walls, then ``int(0.05 m^2)``
deer, then ``int(0.01 m^2)`` tigers, each on a random free cell (MAGENT2_GAMES.md section 2.5), drawn
from the core's generator (not MAgent's C++ one: the counts and the order are MAgent2's, the cells not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from mfenvs.common.validation import check_float, check_int
from mfenvs.gridworld.game import (
    AgentType,
    Game,
    Group,
    JointAttackRule,
    MapLayout,
    RewardRule,
    check_placement,
)

GROUPS = ("deer", "tiger")
"""MAgent2's groups in handle order (and its agent name prefixes)."""
MIN_MAP_SIZE = 10
"""MAgent2 asserts ``map_size >= 10``."""
WALL_SHARE, DEER_SHARE, TIGER_SHARE = 0.04, 0.05, 0.01
"""MAgent2's ``generate_map``: walls, deer and tigers as shares of the map's cells (``int(share * m^2)``)."""
TIGER_ATTACK_REWARD = 1.0
"""MAgent2's ``tiger_attack_rew``, halved between the two receivers of each ordered pair."""


@dataclass(frozen=True)
class TigerDeerConfig:
    """Every parameter of a tiger-deer game; the defaults are MAgent2's ``tiger_deer_v4``."""

    map_size: int = 45
    """Side of the square map, walls included (at least 10)."""
    minimap_mode: bool = False
    """Add one minimap channel per group to the view (and the position to the features)."""
    extra_features: bool = False
    """Append the feature vector to the observation as constant channels (MAgent2's layout)."""
    max_cycles: int = 300
    """Steps before the episode is truncated."""
    tiger_step_recover: float = -0.1
    """A tiger's hp change per step (negative: starvation)."""
    deer_attacked: float = -0.1
    """A deer's reward per non-killing hit it takes."""
    mean_action_radius: float | None = 4
    """Neighbourhood of the mean action (own group), ``None`` for the whole group."""
    positions: Mapping[str, Sequence[tuple[int, int]]] | None = None
    """Explicit start cells ``{"deer": [(x, y), ...], "tiger": [...]}`` instead of MAgent2's random map."""
    walls: Sequence[tuple[int, int]] = ()
    """Interior wall cells ``(x, y)`` with explicit ``positions`` (the random map draws its own)."""

    def __post_init__(self) -> None:
        check_int("map_size", self.map_size, minimum=MIN_MAP_SIZE if self.positions is None else 3)
        check_int("max_cycles", self.max_cycles, minimum=1)
        for name in ("minimap_mode", "extra_features"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        check_float("tiger_step_recover", self.tiger_step_recover)
        check_float("deer_attacked", self.deer_attacked)
        if self.mean_action_radius is not None:
            check_float("mean_action_radius", self.mean_action_radius, positive=True)
        walls = tuple(tuple(int(v) for v in cell) for cell in self.walls)
        object.__setattr__(self, "walls", walls)
        if self.positions is None:
            if walls:
                raise ValueError("walls go with explicit positions (the random map draws its own walls)")
            return
        check_placement(self.map_size, self.positions, GROUPS, walls)

    @property
    def group_counts(self) -> tuple[int, int]:
        """Agents per group, in ``GROUPS`` order (101 deer and 20 tigers at map 45)."""
        if self.positions is not None:
            return len(self.positions["deer"]), len(self.positions["tiger"])
        cells = self.map_size * self.map_size
        return int(cells * DEER_SHARE), int(cells * TIGER_SHARE)

    @property
    def n_random_walls(self) -> int:
        """MAgent2's random walls: ``int(0.04 m^2)`` (81 at map 45); none with explicit positions."""
        return 0 if self.positions is not None else int(self.map_size * self.map_size * WALL_SHARE)


def unit_types(config: TigerDeerConfig) -> tuple[AgentType, AgentType]:
    """MAgent2's ``deer`` and ``tiger`` types (its ``register_agent_type`` options; unset ones are 0)."""
    deer = AgentType(
        hp=5, speed=1, view_radius=1, attack_radius=0, damage=0, step_recover=0.2, kill_supply=8, dead_penalty=-1.0
    )
    tiger = AgentType(hp=10, speed=1, view_radius=4, attack_radius=1, damage=1, step_recover=config.tiger_step_recover)
    return deer, tiger


def reward_rules(config: TigerDeerConfig) -> tuple[RewardRule | JointAttackRule, ...]:
    """MAgent2's two rules: tigers hitting one deer together, and the deer's reward per hit."""
    half = TIGER_ATTACK_REWARD / 2
    return (
        JointAttackRule("tiger", "deer", (half, half)),
        RewardRule("attack", "tiger", "deer", config.deer_attacked, receiver="victim"),
    )


def random_cells(free: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``[n, 2]`` distinct ``(x, y)`` cells drawn uniformly among the ``True`` cells of ``free`` ``[H, W]``,
    and marked taken there; as MAgent's rejection sampling of a blank cell (``Map::get_random_blank``),
    one cell after another, but from ``rng``."""
    ys, xs = np.nonzero(free)
    if n > len(xs):
        raise ValueError(f"cannot place {n} things on {len(xs)} free cells")
    chosen = rng.choice(len(xs), size=n, replace=False)
    cells = np.stack([xs[chosen], ys[chosen]], axis=1).astype(np.int64)
    free[cells[:, 1], cells[:, 0]] = False
    return cells


def place(config: TigerDeerConfig, rng: np.random.Generator) -> MapLayout:
    """This episode's walls and start cells: ``config.positions`` and ``config.walls``, else MAgent2's
    random map (walls, then deer, then tigers, each on a free cell)."""
    if config.positions is not None:
        walls = np.asarray(config.walls, dtype=np.int64).reshape(-1, 2)
        return MapLayout(walls, [np.asarray(config.positions[group], dtype=np.int64).reshape(-1, 2) for group in GROUPS])
    size = config.map_size
    free = np.zeros((size, size), dtype=bool)
    free[1:-1, 1:-1] = True  # inside the border ring
    walls = random_cells(free, config.n_random_walls, rng)
    return MapLayout(walls, [random_cells(free, n, rng) for n in config.group_counts])


def tiger_deer_game(config: TigerDeerConfig) -> Game:
    """The ``Game`` of a ``TigerDeerConfig`` (its ``max_cycles`` and ``mean_action_radius`` go to the core)."""
    deer, tiger = unit_types(config)
    return Game(
        name="tiger_deer",
        map_size=config.map_size,
        groups=(Group("deer", deer), Group("tiger", tiger)),
        counts=config.group_counts,
        generate_map=partial(place, config),  # a partial of a module function: picklable
        rules=reward_rules(config),
        minimap_mode=config.minimap_mode,
    )
