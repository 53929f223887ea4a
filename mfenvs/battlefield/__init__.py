"""Battlefield: MAgent2's ``battlefield_v5`` map (walls, fixed 12 v 12 layout) on Battle's game."""

from mfenvs.battlefield.game import battlefield_config, start_cells, wall_cells

__all__ = ["battlefield_config", "start_cells", "wall_cells"]
