"""Battle's rules are the gridworld engine's kernels (``mfenvs.gridworld.rules``); re-exported under their old path."""

from mfenvs.gridworld.rules import (
    check_episode_end,
    find_attacks,
    group_alive_counts,
    recover,
    resolve_attacks,
    resolve_moves,
    step_battles,
)

__all__ = [
    "check_episode_end", "find_attacks", "group_alive_counts", "recover", "resolve_attacks",
    "resolve_moves", "step_battles",
]  # fmt: skip
