"""Adversarial pursuit as data: MAgent2's ``adversarial_pursuit_v4`` ``get_config`` and ``generate_map`` on the gridworld engine.

Two agent types in two groups, in MAgent2's handle order:

- ``predator``: a **2 x 2** body, hp 1, speed 1 (5 moves), view radius 5 (10 x 10, centred on the
  body), attack radius 2 (the 8 cells around the body), damage 0: its attacks are tags that hurt
  nobody; each costs ``tag_penalty`` (-0.2), hit or miss;
- ``prey``: 1 x 1, hp 1, speed 1.5 (9 moves), view radius 4 (9 x 9), no attack, no reward of its own.

One reward rule: MAgent2's ``a attack b`` over a predator and a prey with ``receiver=[a, b]`` and
``value=[1, -1]``: the tagging predator +1, the tagged prey -1 per tag (two ``RewardRule`` s here, one to
each receiver). Nothing ever dies, so an episode always lasts ``max_cycles`` steps.

The map is MAgent2's ``generate_map``: ``int(0.03 m^2)`` random walls, then ``int(0.0125 m^2)``
predators, then ``int(0.025 m^2)`` prey, each on a random free area (MAGENT2_GAMES.md section 2.4),
drawn from the core's generator (not MAgent's C++ one: the counts, the order and the rejection sampling
of a 2 x 2 body's top-left cell are MAgent2's, the cells not).
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
    MapLayout,
    RewardRule,
    check_placement,
)
from mfenvs.tiger_deer.game import random_cells

GROUPS = ("predator", "prey")
"""MAgent2's groups in handle order (and its agent name prefixes)."""
MIN_MAP_SIZE = 7
"""MAgent2 asserts ``map_size >= 7`` (below 9 its random map has no predator: the game is over after one step)."""
WALL_SHARE, PREDATOR_SHARE, PREY_SHARE = 0.03, 0.0125, 0.025
"""MAgent2's ``generate_map``: walls, predators and prey as shares of the map's cells (``int(share * m^2)``)."""
PREDATOR_WIDTH = 2
"""Side of a predator's square body."""
TAG_REWARD = 1.0
"""MAgent2's rule: a tag pays the predator +1 and the prey -1."""
MAX_TAGGERS = 4
"""Predators that can tag one prey in a step: one from each side (two 2 x 2 bodies cannot share a side's ring cells)."""
MAX_DRAWS = 1_000_000
"""Rejection-sampling draws for one body before the map is declared full."""


@dataclass(frozen=True)
class AdversarialPursuitConfig:
    """Every parameter of an adversarial-pursuit game; the defaults are MAgent2's ``adversarial_pursuit_v4``."""

    map_size: int = 45
    """Side of the square map, walls included (at least 7, MAgent2's limit)."""
    minimap_mode: bool = False
    """Add one minimap channel per group to the view (and the position to the features)."""
    extra_features: bool = False
    """Append the feature vector to the observation as constant channels (MAgent2's layout)."""
    max_cycles: int = 500
    """Steps before the episode is truncated (it always is: nothing dies)."""
    tag_penalty: float = -0.2
    """A predator's reward for every tag (attack) action, hit or miss (MAgent2's ``attack_penalty``)."""
    mean_action_radius: float | None = 4
    """Neighbourhood of the mean action (own group), ``None`` for the whole group."""
    positions: Mapping[str, Sequence[tuple[int, int]]] | None = None
    """Explicit start cells ``{"predator": [(x, y), ...], "prey": [...]}`` instead of MAgent2's random map
    (a predator's cell is the top-left of its 2 x 2 body)."""
    walls: Sequence[tuple[int, int]] = ()
    """Interior wall cells ``(x, y)`` with explicit ``positions`` (the random map draws its own)."""

    def __post_init__(self) -> None:
        check_int("map_size", self.map_size, minimum=MIN_MAP_SIZE if self.positions is None else 4)
        check_int("max_cycles", self.max_cycles, minimum=1)
        for name in ("minimap_mode", "extra_features"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        check_float("tag_penalty", self.tag_penalty)
        if self.mean_action_radius is not None:
            check_float("mean_action_radius", self.mean_action_radius, positive=True)
        walls = tuple(tuple(int(v) for v in cell) for cell in self.walls)
        object.__setattr__(self, "walls", walls)
        if self.positions is None:
            if walls:
                raise ValueError("walls go with explicit positions (the random map draws its own walls)")
            return
        check_placement(self.map_size, self.positions, GROUPS, walls, widths={"predator": PREDATOR_WIDTH})

    @property
    def group_counts(self) -> tuple[int, int]:
        """Agents per group, in ``GROUPS`` order (25 predators and 50 prey at map 45)."""
        if self.positions is not None:
            return len(self.positions["predator"]), len(self.positions["prey"])
        cells = self.map_size * self.map_size
        return int(cells * PREDATOR_SHARE), int(cells * PREY_SHARE)

    @property
    def n_random_walls(self) -> int:
        """MAgent2's random walls: ``int(0.03 m^2)`` (60 at map 45); none with explicit positions."""
        return 0 if self.positions is not None else int(self.map_size * self.map_size * WALL_SHARE)


def unit_types(config: AdversarialPursuitConfig) -> tuple[AgentType, AgentType]:
    """MAgent2's ``predator`` and ``prey`` types (its ``register_agent_type`` options; unset ones are 0)."""
    predator = AgentType(
        hp=1, speed=1, view_radius=5, attack_radius=2, damage=0, step_recover=0, attack_penalty=config.tag_penalty,
        width=PREDATOR_WIDTH,
    )  # fmt: skip
    prey = AgentType(hp=1, speed=1.5, view_radius=4, attack_radius=0, damage=0, step_recover=0)
    return predator, prey


def reward_rules(config: AdversarialPursuitConfig) -> tuple[RewardRule, ...]:
    """MAgent2's rule ``a attack b`` with ``receiver=[a, b]``, ``value=[1, -1]``: one rule per receiver."""
    return (
        RewardRule("attack", "predator", "prey", TAG_REWARD),
        RewardRule("attack", "predator", "prey", -TAG_REWARD, receiver="victim"),
    )


def random_bodies(free: np.ndarray, n: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """``[n, 2]`` top-left cells ``(x, y)`` of ``width`` x ``width`` bodies on ``True`` cells of ``free``
    ``[H, W]``, marked taken there one after another: MAgent's ``Map::get_random_blank`` (draw ``x`` in
    ``[0, W - width)``, then ``y`` in ``[0, H - width)``, until the whole area is free), from ``rng``."""
    height, size = free.shape
    cells = np.zeros((n, 2), dtype=np.int64)
    for k in range(n):
        for _ in range(MAX_DRAWS):
            x, y = int(rng.integers(0, size - width)), int(rng.integers(0, height - width))
            if free[y : y + width, x : x + width].all():
                break
        else:
            raise ValueError(f"found no free {width} x {width} area for body {k} of {n}")
        free[y : y + width, x : x + width] = False
        cells[k] = x, y
    return cells


def place(config: AdversarialPursuitConfig, rng: np.random.Generator) -> MapLayout:
    """This episode's walls and start cells: ``config.positions`` and ``config.walls``, else MAgent2's
    random map (walls, then predators, then prey, each on a free area)."""
    if config.positions is not None:
        walls = np.asarray(config.walls, dtype=np.int64).reshape(-1, 2)
        return MapLayout(walls, [np.asarray(config.positions[group], dtype=np.int64).reshape(-1, 2) for group in GROUPS])
    size = config.map_size
    free = np.zeros((size, size), dtype=bool)
    free[1:-1, 1:-1] = True  # inside the border ring
    walls = random_cells(free, config.n_random_walls, rng)
    n_predators, n_prey = config.group_counts
    predators = random_bodies(free, n_predators, PREDATOR_WIDTH, rng)
    return MapLayout(walls, [predators, random_cells(free, n_prey, rng)])


def adversarial_pursuit_game(config: AdversarialPursuitConfig) -> Game:
    """The ``Game`` of an ``AdversarialPursuitConfig`` (its ``max_cycles`` and ``mean_action_radius`` go to the core)."""
    predator, prey = unit_types(config)
    return Game(
        name="adversarial_pursuit",
        map_size=config.map_size,
        groups=(Group("predator", predator), Group("prey", prey)),
        counts=config.group_counts,
        generate_map=partial(place, config),  # a partial of a module function: picklable
        rules=reward_rules(config),
        minimap_mode=config.minimap_mode,
    )
