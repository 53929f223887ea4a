"""Gather: MAgent2's ``gather_v5`` (omnivores that eat passive food and each other) on the gridworld engine."""

from mfenvs.gather.core import GatherCore
from mfenvs.gather.game import GROUPS, GatherConfig, gather_game, place, start_cells

__all__ = ["GROUPS", "GatherConfig", "GatherCore", "gather_game", "place", "start_cells"]
