"""``BattleConfig``: every parameter of the Battle game, with MAgent2's names where the concept is the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mfenvs.battle.spawn import block_cells
from mfenvs.common.validation import check_float, check_int

TEAMS = ("red", "blue")

#: Move offsets (dx, dy) of actions 0-12 in MAgent's order; y grows downward. Action 6 is "stay".
MOVE_OFFSETS: tuple[tuple[int, int], ...] = (
    (0, -2),
    (-1, -1), (0, -1), (1, -1),
    (-2, 0), (-1, 0), (0, 0), (1, 0), (2, 0),
    (-1, 1), (0, 1), (1, 1),
    (0, 2),
)  # fmt: skip
#: Attack offsets (dx, dy) of actions 13-20.
ATTACK_OFFSETS: tuple[tuple[int, int], ...] = (
    (-1, -1), (0, -1), (1, -1),
    (-1, 0), (1, 0),
    (-1, 1), (0, 1), (1, 1),
)  # fmt: skip
N_MOVES = len(MOVE_OFFSETS)
N_ACTIONS = N_MOVES + len(ATTACK_OFFSETS)
STAY = 6

VIEW_RADIUS = 6
VIEW_SIZE = 2 * VIEW_RADIUS + 1
MINIMAP_SIZE = VIEW_SIZE
ID_BITS = 10


@dataclass(frozen=True)
class BattleConfig:
    """Parameters of a Battle; the defaults are the paper's setup (40 x 40, 64 v 64, 400 steps).

    Coordinates are ``(x, y)`` = (column, row), 0-based; the outermost ring of cells is wall.
    """

    map_size: int = 40
    """Side of the square map, walls included."""
    team_size: int | None = None
    """Agents per side; ``None`` means MAgent's ``int(map_size**2 * 0.04)``. Ignored with ``positions``."""
    positions: Mapping[str, Sequence[tuple[int, int]]] | None = None
    """Explicit placement ``{"red": [(x, y), ...], "blue": [...]}`` instead of the two blocks."""
    walls: Sequence[tuple[int, int]] = ()
    """Extra interior wall cells ``(x, y)``."""
    minimap_mode: bool = True
    """Add the two minimap channels to the view (the paper runs with them)."""
    extra_features: bool = False
    """Append the feature vector to the observation as constant channels (MAgent2's layout)."""
    max_cycles: int = 400
    """Steps before the episode is truncated."""
    random_sides: bool = True
    """Swap which team starts on the left at random on every reset (block placement only)."""
    step_reward: float = -0.005
    """Reward every living agent receives every step."""
    dead_penalty: float = -0.1
    """Reward of an agent on the step it dies (replaces its other rewards of that step)."""
    attack_penalty: float = -0.1
    """Reward for using an attack action, hit or miss."""
    attack_opponent_reward: float = 0.2
    """Reward for a non-lethal hit on an enemy."""
    kill_reward: float = 5.0
    """Reward for the killing blow, instead of ``attack_opponent_reward``."""
    max_hp: float = 10.0
    """Hit points of a fresh agent (MAgent: 10)."""
    damage: float = 2.0
    """Hit points one attack removes (MAgent: 2)."""
    recover: float = 0.1
    """Hit points regained by every living agent per step, after attacks, capped at ``max_hp``."""
    mean_action_radius: float | None = VIEW_RADIUS
    """Radius of the neighbourhood of the mean action (own team); ``None`` is the whole team."""

    def __post_init__(self) -> None:
        check_int("map_size", self.map_size, minimum=5)
        if self.team_size is not None:
            check_int("team_size", self.team_size, minimum=1)
        check_int("max_cycles", self.max_cycles, minimum=1)
        for name in ("step_reward", "dead_penalty", "attack_penalty", "attack_opponent_reward", "kill_reward"):
            check_float(name, getattr(self, name))
        check_float("max_hp", self.max_hp, positive=True)
        check_float("damage", self.damage, non_negative=True)
        check_float("recover", self.recover, non_negative=True)
        if self.mean_action_radius is not None:
            check_float("mean_action_radius", self.mean_action_radius, positive=True)
        for flag in ("minimap_mode", "extra_features", "random_sides"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag} must be a bool, got {getattr(self, flag)!r}")
        walls = tuple(self._check_cell("walls", cell) for cell in self.walls)
        object.__setattr__(self, "walls", walls)
        if self.positions is not None:
            self._check_positions(set(walls))
        else:
            for left in (True, False):
                cells = block_cells(self.map_size, self.n_per_team, left)
                blocked = set(cells) & set(walls)
                if blocked:
                    raise ValueError(f"walls: cell {sorted(blocked)[0]} is inside a team's starting block")

    # -- derived sizes ---------------------------------------------------------------------------
    @property
    def n_per_team(self) -> int:
        """Agents per side for block placement."""
        return self.team_size if self.team_size is not None else int(self.map_size**2 * 0.04)

    @property
    def team_counts(self) -> tuple[int, int]:
        """``(n_red, n_blue)``."""
        if self.positions is not None:
            return len(self.positions["red"]), len(self.positions["blue"])
        return self.n_per_team, self.n_per_team

    @property
    def n_agents(self) -> int:
        return sum(self.team_counts)

    @property
    def n_channels(self) -> int:
        """View channels: wall, own presence, own hp, [own minimap], enemy presence, enemy hp, [enemy minimap]."""
        return 7 if self.minimap_mode else 5

    @property
    def n_features(self) -> int:
        """Feature vector length: id bits, last action one-hot, last reward, normalised (x, y)."""
        return ID_BITS + N_ACTIONS + 1 + 2

    # -- validation helpers ----------------------------------------------------------------------
    def _check_cell(self, what: str, cell: object) -> tuple[int, int]:
        if not (isinstance(cell, (Sequence, np.ndarray)) and np.ndim(cell) == 1 and len(cell) == 2):
            raise TypeError(f"{what}: each cell must be an (x, y) pair, got {cell!r}")
        x = check_int(f"{what} x", cell[0])
        y = check_int(f"{what} y", cell[1])
        if not (0 < x < self.map_size - 1 and 0 < y < self.map_size - 1):
            raise ValueError(f"{what}: cell {(x, y)} is not inside the walls of a {self.map_size} x {self.map_size} map")
        return x, y

    def _check_positions(self, walls: set[tuple[int, int]]) -> None:
        if not isinstance(self.positions, Mapping) or set(self.positions) != set(TEAMS):
            raise ValueError(f"positions must be a dict with exactly the keys 'red' and 'blue', got {self.positions!r}")
        seen: set[tuple[int, int]] = set()
        for team in TEAMS:
            if isinstance(self.positions[team], (str, bytes)) or not isinstance(self.positions[team], (Sequence, np.ndarray)):
                raise TypeError(f"positions[{team!r}] must be a list of (x, y) cells, got {self.positions[team]!r}")
            if len(self.positions[team]) == 0:
                raise ValueError(f"positions[{team!r}] is empty; each team needs at least one agent")
            for cell in self.positions[team]:
                cell = self._check_cell(f"positions[{team!r}]", cell)
                if cell in walls:
                    raise ValueError(f"positions[{team!r}]: cell {cell} is a wall")
                if cell in seen:
                    raise ValueError(f"positions[{team!r}]: cell {cell} is occupied twice")
                seen.add(cell)
