"""Combined arms as data: MAgent2's ``combined_arms_v6`` ``get_config`` and ``generate_map`` on the gridworld engine.

Two agent types (melee: hp 10, speed 1, attack radius 1; ranged: hp 3, speed 2, attack radius 2; both
view 6, damage 2, recover 0.1, hit their own group), four groups in MAgent2's handle order (redmelee,
redranged, bluemelee, blueranged), and sixteen reward rules: a non-killing hit on either group of the
other side pays the attacker ``attack_opponent_reward``, a killing one ``kill_reward`` (MAgent2's
``KILL_REWARD`` "kill" rules; neither type has a ``kill_reward`` of its own). Hits on the own side (own
group or the side's other group) land without any rule: MAgent's engine has groups, not sides.
The map is MAgent2's deterministic ``generate_map`` (MAGENT2_GAMES.md section 2.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from mfenvs.common.validation import check_float, check_int
from mfenvs.gridworld.game import AgentType, Game, Group, RewardRule

GROUPS = ("redmelee", "redranged", "bluemelee", "blueranged")
"""MAgent2's groups in handle order (and its agent name prefixes)."""
SIDES = ("red", "blue")
SIDE_OF_GROUP = (0, 0, 1, 1)
"""The side (0 red, 1 blue) of each group: the first two groups are red's."""
MIN_MAP_SIZE = 16
"""MAgent2 asserts ``map_size >= 16``."""
GAP = 3


@dataclass(frozen=True)
class CombinedArmsConfig:
    """Every parameter of a combined arms game; the defaults are MAgent2's ``combined_arms_v6``."""

    map_size: int = 45
    """Side of the square map, walls included (at least 16)."""
    minimap_mode: bool = False
    """Add one minimap channel per group to the view (and the position to the features)."""
    extra_features: bool = False
    """Append the feature vector to the observation as constant channels (MAgent2's layout)."""
    max_cycles: int = 1000
    """Steps before the episode is truncated."""
    step_reward: float = -0.005
    dead_penalty: float = -0.1
    attack_penalty: float = -0.1
    attack_opponent_reward: float = 0.2
    kill_reward: float = 5.0
    """Reward of the killing blow on an agent of the other side (MAgent2's ``KILL_REWARD`` kill rules)."""
    mean_action_radius: float | None = 6
    """Neighbourhood of the mean action (own group), ``None`` for the whole group."""
    positions: Mapping[str, Sequence[tuple[int, int]]] | None = None
    """Explicit start cells ``{group: [(x, y), ...]}`` for all four groups instead of MAgent2's map."""

    def __post_init__(self) -> None:
        check_int("map_size", self.map_size, minimum=MIN_MAP_SIZE if self.positions is None else 3)
        check_int("max_cycles", self.max_cycles, minimum=1)
        for name in ("minimap_mode", "extra_features"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        for name in ("step_reward", "dead_penalty", "attack_penalty", "attack_opponent_reward", "kill_reward"):
            check_float(name, getattr(self, name))
        if self.mean_action_radius is not None:
            check_float("mean_action_radius", self.mean_action_radius, positive=True)
        if self.positions is not None:
            if sorted(self.positions) != sorted(GROUPS):
                raise ValueError(f"positions must give the cells of each of {GROUPS}, got {sorted(self.positions)}")
            cells = [tuple(cell) for group in GROUPS for cell in self.positions[group]]
            if len(set(cells)) != len(cells):
                raise ValueError("positions: two agents on one cell")
            if any(not (0 < x < self.map_size - 1 and 0 < y < self.map_size - 1) for x, y in cells):
                raise ValueError(f"positions must be inside the wall ring, 1 .. {self.map_size - 2}")
            if any(len(self.positions[group]) == 0 for group in GROUPS):
                raise ValueError("positions: every group needs at least one agent")

    @property
    def group_counts(self) -> tuple[int, ...]:
        """Agents per group, in ``GROUPS`` order (45, 36, 45, 36 at map 45)."""
        cells = start_cells(self.map_size) if self.positions is None else self.positions
        return tuple(len(cells[group]) for group in GROUPS)


def unit_types(config: CombinedArmsConfig) -> tuple[AgentType, AgentType]:
    """MAgent2's ``melee`` and ``ranged`` types with the config's rewards."""
    rewards = dict(
        step_recover=0.1,
        step_reward=config.step_reward,
        dead_penalty=config.dead_penalty,
        attack_penalty=config.attack_penalty,
        attack_in_group=True,
        view_radius=6,
        damage=2,
    )
    melee = AgentType(hp=10, speed=1, attack_radius=1, **rewards)
    ranged = AgentType(hp=3, speed=2, attack_radius=2, **rewards)
    return melee, ranged


def reward_rules(config: CombinedArmsConfig) -> tuple[RewardRule, ...]:
    """MAgent2's sixteen rules: each group's hits (attack) and kills on each group of the other side."""
    rules = []
    for event, reward in (("attack", config.attack_opponent_reward), ("kill", config.kill_reward)):
        for attacker in range(len(GROUPS)):
            for victim in range(len(GROUPS)):
                if SIDE_OF_GROUP[attacker] != SIDE_OF_GROUP[victim]:
                    rules.append(RewardRule(event, GROUPS[attacker], GROUPS[victim], reward))
    return tuple(rules)


def start_cells(map_size: int) -> dict[str, list[tuple[int, int]]]:
    """MAgent2's ``combined_arms_v6.generate_map``, cell for cell: per side a square grid at stride 2,
    columns alternating melee / ranged (the first melee), red on the left, blue on the right with at
    most as many columns as red's (45 melee and 36 ranged per side at map 45).

    MAgent2 sizes the grid as ``2 int(sqrt(0.04 map_size^2))`` cells and starts red's columns at
    ``max(w // 2 - 3 - side, 1)``, so on small maps red may get fewer columns than the grid's.
    """
    width = height = map_size
    side = int(math.sqrt(map_size * map_size * 0.04)) * 2
    rows = range((height - side) // 2, (height - side) // 2 + side, 2)
    cells: dict[str, list[tuple[int, int]]] = {group: [] for group in GROUPS}
    n_left = 0
    for column, x in enumerate(range(max(width // 2 - GAP - side, 1), width // 2 - GAP, 2)):
        cells[GROUPS[column % 2]] += [(x, y) for y in rows]
        n_left = column + 1
    right_rows = range((height - side) // 2, min((height - side) // 2 + side, height - 1), 2)
    for column, x in enumerate(range(width // 2 + GAP, min(width // 2 + GAP + side, height - 1), 2)):
        cells[GROUPS[2 + column % 2]] += [(x, y) for y in right_rows]
        if n_left <= column + 1:
            break
    return cells


def place(config: CombinedArmsConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """Each group's start cells (``config.positions``, else MAgent2's map); draws nothing."""
    cells = start_cells(config.map_size) if config.positions is None else config.positions
    return [np.asarray(cells[group], dtype=np.int64).reshape(-1, 2) for group in GROUPS]


def combined_arms_game(config: CombinedArmsConfig) -> Game:
    """The ``Game`` of a ``CombinedArmsConfig`` (its ``max_cycles`` and ``mean_action_radius`` go to the core)."""
    melee, ranged = unit_types(config)
    return Game(
        name="combined_arms",
        map_size=config.map_size,
        groups=tuple(Group(name, melee if k % 2 == 0 else ranged) for k, name in enumerate(GROUPS)),
        counts=config.group_counts,
        generate_map=partial(place, config),  # a partial of a module function: picklable
        rules=reward_rules(config),
        minimap_mode=config.minimap_mode,
    )
