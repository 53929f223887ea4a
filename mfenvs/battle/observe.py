"""Battle's observations are the gridworld engine's kernels (``mfenvs.gridworld.observe``); re-exported under their old path."""

from mfenvs.gridworld.observe import (
    STORAGE_DTYPES,
    VIEW_DTYPES,
    action_masks,
    check_view_dtype,
    circle_half_widths,
    draw_agents,
    empty_pictures,
    feature_row,
    minimap_densities,
    observations,
    state_map,
    view_window,
    write_action_masks,
    write_observations,
)

__all__ = [
    "STORAGE_DTYPES", "VIEW_DTYPES", "action_masks", "check_view_dtype", "circle_half_widths", "draw_agents",
    "empty_pictures", "feature_row", "minimap_densities", "observations", "state_map", "view_window",
    "write_action_masks", "write_observations",
]  # fmt: skip
