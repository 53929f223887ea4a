"""Battle's state is the gridworld engine's (``mfenvs.gridworld.state``); kept under its Battle names."""

from mfenvs.gridworld.state import EMPTY, NO_ACTION, GridState

BattleState = GridState

__all__ = ["EMPTY", "NO_ACTION", "BattleState"]
