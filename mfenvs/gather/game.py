"""Gather as data: MAgent2's ``gather_v5`` ``get_config`` and ``generate_map`` on the gridworld engine.

Two agent types in two groups, in MAgent2's handle order:

- ``food``: hp 25, speed 0 (one move: stay), view radius 1, no attack, no reward of its own;
  ``kill_reward`` 5 (paid to its killer). A passive group (``Group(passive=True)``): it never acts and
  is no agent of the PettingZoo env, as MAgent2's wrapper exposes ``handles[1:]`` only;
- ``omnivore`` (MAgent2's type ``agent``): hp 3, speed 3 (29 moves), view radius 7 (15 x 15), attack
  radius 1 (4 cells), damage 6, ``attack_in_group`` (omnivores hit each other), ``step_reward`` -0.01,
  ``attack_penalty`` -0.1, ``dead_penalty`` -1.

One reward rule: ``a attack b`` (an omnivore's non-killing hit on food) pays the omnivore
``attack_food_reward`` (+0.5). The features have no id bits (MAgent2 leaves ``embedding_size`` unset).
The map is MAgent2's deterministic ``generate_map`` on a 200 x 200 map: omnivores on three concentric
squares, then food on ten more and a 53 x 53 pattern of 2 x 2 blocks at the centre; a cell already
taken keeps its first agent (MAgent's ``add_agents`` skips it): 495 omnivores, 2,272 food
(MAGENT2_GAMES.md section 2.3). Above 99 x 99 cells the engine moves agents in MAgent's x-band order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from mfenvs.common.validation import check_float, check_int
from mfenvs.gridworld.game import AgentType, Game, Group, RewardRule

GROUPS = ("food", "omnivore")
"""MAgent2's groups in handle order; its agents are named ``omnivore_i`` (food has no agents)."""
MAP_SIZE = 200
"""MAgent2's gather map is 200 x 200, with no argument to change it."""
KILL_REWARD = 5.0
"""MAgent2's ``KILL_REWARD``: food's ``kill_reward``, paid to the omnivore whose hit kills it."""
PATTERN_SIZE = 53
"""Side of MAgent2's central food pattern."""


@dataclass(frozen=True)
class GatherConfig:
    """Every parameter of a gather game; the defaults are MAgent2's ``gather_v5``."""

    minimap_mode: bool = False
    """Add one minimap channel per group to the view (and the position to the features)."""
    extra_features: bool = False
    """Append the feature vector to the observation as constant channels (MAgent2's layout)."""
    max_cycles: int = 500
    """Steps before the episode is truncated."""
    step_reward: float = -0.01
    """An omnivore's reward every step it is alive."""
    attack_penalty: float = -0.1
    """An omnivore's reward for every attack action, hit or miss."""
    dead_penalty: float = -1.0
    """An omnivore's reward on the step it dies (replaces the rest)."""
    attack_food_reward: float = 0.5
    """An omnivore's reward for a non-killing hit on food."""
    mean_action_radius: float | None = 7
    """Neighbourhood of the mean action (own group), ``None`` for the whole group."""
    map_size: int = MAP_SIZE
    """Side of the map, walls included: MAgent2's 200; another size needs explicit ``positions``."""
    positions: Mapping[str, Sequence[tuple[int, int]]] | None = None
    """Explicit start cells ``{"food": [(x, y), ...], "omnivore": [...]}`` instead of MAgent2's map."""

    def __post_init__(self) -> None:
        check_int("map_size", self.map_size, minimum=3)
        check_int("max_cycles", self.max_cycles, minimum=1)
        for name in ("minimap_mode", "extra_features"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        for name in ("step_reward", "attack_penalty", "dead_penalty", "attack_food_reward"):
            check_float(name, getattr(self, name))
        if self.mean_action_radius is not None:
            check_float("mean_action_radius", self.mean_action_radius, positive=True)
        if self.positions is None:
            if self.map_size != MAP_SIZE:
                raise ValueError(f"MAgent2's gather map is {MAP_SIZE} x {MAP_SIZE}; map_size {self.map_size} needs explicit positions")
            return
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
    def group_counts(self) -> tuple[int, int]:
        """Agents per group, in ``GROUPS`` order (2,272 food and 495 omnivores on MAgent2's map)."""
        if self.positions is not None:
            return len(self.positions["food"]), len(self.positions["omnivore"])
        food, omnivores = start_cells()
        return len(food), len(omnivores)


def unit_types(config: GatherConfig) -> tuple[AgentType, AgentType]:
    """MAgent2's ``food`` and ``agent`` (omnivore) types (its ``register_agent_type`` options; unset ones are 0)."""
    food = AgentType(hp=25, speed=0, view_radius=1, attack_radius=0, damage=0, step_recover=0, kill_reward=KILL_REWARD)
    omnivore = AgentType(
        hp=3, speed=3, view_radius=7, attack_radius=1, damage=6, step_recover=0, attack_in_group=True,
        step_reward=config.step_reward, attack_penalty=config.attack_penalty, dead_penalty=config.dead_penalty,
    )  # fmt: skip
    return food, omnivore


def reward_rules(config: GatherConfig) -> tuple[RewardRule, ...]:
    """MAgent2's one rule: an omnivore's non-killing hit on food pays it ``attack_food_reward``."""
    return (RewardRule("attack", "omnivore", "food", config.attack_food_reward),)


def _square(side: float, gap: int, centre: int) -> list[tuple[int, int]]:
    """MAgent2's ``add_square``: the cells of a square of ``int(side)`` around ``centre``, every ``gap``-th
    along the top and bottom rows, then along the left and right columns (corners listed twice)."""
    half = int(side) // 2
    cells = []
    for x in range(centre - half, centre + half + 1, gap):
        cells += [(x, centre - half), (x, centre + half)]
    for y in range(centre - half, centre + half + 1, gap):
        cells += [(centre - half, y), (centre + half, y)]
    return cells


def start_cells(map_size: int = MAP_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``(food [2272, 2], omnivores [495, 2])`` ``(x, y)`` cells of MAgent2's ``generate_map``, in its agent order.

    Omnivores on squares of sides 0.9, 0.8, 0.7 x ``map_size`` (every 3rd, 4th, 6th cell); food on
    squares of 0.65, 0.6, 0.55 (every 10th), 0.5 (4th), 0.45 (3rd), 0.4, 0.3, 0.3 - 2, - 4, - 6 (every
    cell), then the 53 x 53 pattern (cell ``(i, j)`` is food when neither ``i % 4`` nor ``j % 4`` is 0
    or 1) at the centre. Cells listed twice, or taken by an omnivore, are skipped (MAgent's
    ``add_agents`` with ``method="custom"`` adds nothing on a taken cell).
    """
    centre = map_size // 2
    omnivores = [c for side, gap in ((0.9, 3), (0.8, 4), (0.7, 6)) for c in _square(map_size * side, gap, centre)]
    rings = ((0.65, 10), (0.6, 10), (0.55, 10), (0.5, 4), (0.45, 3), (0.4, 1), (0.3, 1))
    food = [c for side, gap in rings for c in _square(map_size * side, gap, centre)]
    food += [c for less in (2, 4, 6) for c in _square(map_size * 0.3 - less, 1, centre)]  # MAgent2's float sides, then int()
    base = centre - PATTERN_SIZE // 2
    for i in range(PATTERN_SIZE):  # MAgent2's draw(): row i of the pattern is column base + i (pos.append([y, x]))
        for j in range(PATTERN_SIZE):
            if i % 4 >= 2 and j % 4 >= 2:
                food.append((base + j, base + i))
    taken: set[tuple[int, int]] = set()

    def first_of_each(cells: list[tuple[int, int]]) -> np.ndarray:
        kept = [cell for cell in cells if not (cell in taken or taken.add(cell))]
        return np.array(kept, dtype=np.int64).reshape(-1, 2)

    omnivore_cells = first_of_each(omnivores)
    return first_of_each(food), omnivore_cells


def place(config: GatherConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """Each group's start cells: ``config.positions``, else MAgent2's map (no randomness: ``rng`` is unused)."""
    if config.positions is not None:
        return [np.asarray(config.positions[group], dtype=np.int64).reshape(-1, 2) for group in GROUPS]
    return list(start_cells(config.map_size))


def gather_game(config: GatherConfig) -> Game:
    """The ``Game`` of a ``GatherConfig`` (its ``max_cycles`` and ``mean_action_radius`` go to the core)."""
    food, omnivore = unit_types(config)
    return Game(
        name="gather",
        map_size=config.map_size,
        groups=(Group("food", food, passive=True), Group("omnivore", omnivore)),
        counts=config.group_counts,
        generate_map=partial(place, config),  # a partial of a module function: picklable
        rules=reward_rules(config),
        minimap_mode=config.minimap_mode,
        id_bits=0,
    )
