"""Combined arms: MAgent2's ``combined_arms_v6`` (melee and ranged units, four groups) on the gridworld engine."""

from mfenvs.combined_arms.core import CombinedArmsCore
from mfenvs.combined_arms.game import GROUPS, CombinedArmsConfig, combined_arms_game, start_cells

__all__ = ["GROUPS", "CombinedArmsConfig", "CombinedArmsCore", "combined_arms_game", "start_cells"]
