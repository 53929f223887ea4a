"""Hand-built battles for the Battle tests, and the rule numbers written out from ``REFERENCE.md`` section 1.

The tables below are typed in from the reference, not imported from ``mfenvs.battle``, so that a
wrong table in the package fails the tests instead of agreeing with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mfenvs import battle_v0
from mfenvs.battle import BattleConfig, BattleCore, BattleOutput
from mfenvs.battle.env import BattleEnv

#: Move actions 0-12 and their (dx, dy); y grows downward (row index).
MOVES: dict[int, tuple[int, int]] = {
    0: (0, -2), 1: (-1, -1), 2: (0, -1), 3: (1, -1), 4: (-2, 0), 5: (-1, 0), 6: (0, 0),
    7: (1, 0), 8: (2, 0), 9: (-1, 1), 10: (0, 1), 11: (1, 1), 12: (0, 2),
}  # fmt: skip
#: Attack actions 13-20 and the (dx, dy) of the cell they hit.
ATTACKS: dict[int, tuple[int, int]] = {
    13: (-1, -1), 14: (0, -1), 15: (1, -1), 16: (-1, 0), 17: (1, 0), 18: (-1, 1), 19: (0, 1), 20: (1, 1),
}  # fmt: skip
STAY = 6
N_ACTIONS = 21

# Net rewards per step with MAgent's default reward terms.
IDLE = -0.005
"""A living agent that moves or stays."""
HIT = 0.095
"""A non-lethal hit on an enemy: -0.005 - 0.1 + 0.2."""
KILL = 4.895
"""The killing blow: -0.005 - 0.1 + 5."""
MISS = -0.105
"""An attack on an empty cell, a wall or a teammate: -0.005 - 0.1."""
DEATH = -0.1
"""The step an agent dies (replaces everything else)."""

MAX_HP = 10.0
DAMAGE = 2.0
RECOVER = 0.1

Cells = Sequence[tuple[int, int]]


def move(dx: int, dy: int) -> int:
    """The move action with offset ``(dx, dy)``."""
    return next(action for action, offset in MOVES.items() if offset == (dx, dy))


def attack(dx: int, dy: int) -> int:
    """The attack action on the neighbour at ``(dx, dy)``."""
    return next(action for action, offset in ATTACKS.items() if offset == (dx, dy))


def config(red: Cells, blue: Cells, map_size: int = 10, **kwargs: Any) -> BattleConfig:
    """A config with explicit positions (red slots first, then blue) and fixed sides."""
    positions = {"red": list(red), "blue": list(blue)}
    return BattleConfig(map_size=map_size, positions=positions, random_sides=False, **kwargs)


def core(red: Cells, blue: Cells, map_size: int = 10, seed: int = 0, n_battles: int = 1, **kwargs: Any) -> BattleCore:
    """A reset ``BattleCore`` over the hand-built placement."""
    battle = BattleCore(config(red, blue, map_size, **kwargs), n_battles=n_battles)
    battle.reset(seed=seed)
    return battle


def step(battle: BattleCore, actions: dict[int, int] | None = None) -> BattleOutput:
    """Step every battle with ``actions`` ``{slot: action}``; the other slots stay."""
    array = np.full((battle.n_battles, battle.n_agents), STAY, dtype=np.int64)
    for slot, action in (actions or {}).items():
        array[:, slot] = action
    return battle.step(array)


def env(red: Cells, blue: Cells, map_size: int = 10, seed: int = 0, **kwargs: Any) -> BattleEnv:
    """A reset ``battle_v0`` parallel env over the hand-built placement."""
    battle = battle_v0.parallel_env(
        map_size=map_size, positions={"red": list(red), "blue": list(blue)}, random_sides=False, **kwargs
    )
    battle.reset(seed=seed)
    return battle


def env_step(battle: BattleEnv, actions: dict[str, int] | None = None) -> tuple:
    """Step the env; every agent in ``battle.agents`` not named in ``actions`` stays."""
    return battle.step({**dict.fromkeys(battle.agents, STAY), **(actions or {})})


def hp_after_hits(hits: int, start: float = MAX_HP) -> float:
    """HP of an agent hit once a step for ``hits`` steps (recovering after each), if still alive."""
    hp = start
    for _ in range(hits):
        hp = min(hp - DAMAGE + RECOVER, MAX_HP)
    return hp


def winner(info: dict) -> str | None:
    """Decode Battle's winner flags: ``"red"``, ``"blue"``, ``"draw"``, or ``None`` while the episode runs."""
    flags = [name for name in ("red", "blue") if info[f"{name}_won"]] + (["draw"] if info["draw"] else [])
    assert len(flags) <= 1, info
    return flags[0] if flags else None
