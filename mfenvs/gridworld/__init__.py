"""One gridworld engine, games as data: MAgent's rules on Numba kernels, batched over B games.

A game is a ``Game`` (``mfenvs.gridworld.game``): agent types, groups, reward rules, walls and a
placement, like MAgent's ``get_config`` + ``generate_map``. ``GridCore`` steps B games of one ``Game``
at once; Battle (``mfenvs.battle``), Battlefield (``mfenvs.battlefield``) and combined arms
(``mfenvs.combined_arms``) and tiger-deer (``mfenvs.tiger_deer``) are games of it.
"""

from mfenvs.gridworld.core import GridCore, GridOutput
from mfenvs.gridworld.game import (
    AgentType,
    Game,
    Group,
    JointAttackRule,
    MapLayout,
    RewardRule,
    circle_range,
)
from mfenvs.gridworld.state import EMPTY, NO_ACTION, GridState

__all__ = [
    "EMPTY", "NO_ACTION", "AgentType", "Game", "GridCore", "GridOutput", "GridState", "Group", "JointAttackRule",
    "MapLayout", "RewardRule", "circle_range",
]  # fmt: skip
