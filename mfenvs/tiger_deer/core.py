"""``TigerDeerCore``: B tiger-deer games stepped at once on arrays; the fast path under ``tiger_deer_v0``.

Tiger-deer is a game of the gridworld engine (``mfenvs.tiger_deer.game``); the core is the engine's
``GridCore`` built from a ``TigerDeerConfig``, with a scoreboard per group.

Example:
    >>> from mfenvs.tiger_deer import TigerDeerConfig, TigerDeerCore
    >>> core = TigerDeerCore(TigerDeerConfig(map_size=20), n_battles=2)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape, core.group_counts
    ((2, 24, 9, 9, 5), (2, 24, 22), (20, 4))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfenvs.gridworld.core import GridCore
from mfenvs.tiger_deer.game import GROUPS, TigerDeerConfig, tiger_deer_game


class TigerDeerCore(GridCore):
    """The tiger-deer engine over ``n_battles`` independent games sharing one config.

    Slots are grouped by group in MAgent2's order: deer, then tigers. Each game draws its own walls
    and start cells at every reset (unless the config gives them).

    Args:
        config: the game.
        n_battles, spare_view_channels, threads, tiled_features, view_dtype: as ``GridCore``'s.
    """

    def __init__(
        self,
        config: TigerDeerConfig,
        n_battles: int = 1,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] | Sequence[Sequence[int]] | np.ndarray = (),
        view_dtype: str = "float32",
    ):
        if not isinstance(config, TigerDeerConfig):
            raise TypeError(f"config must be a TigerDeerConfig, got {type(config).__name__}")
        super().__init__(
            tiger_deer_game(config),
            n_battles=n_battles,
            max_cycles=config.max_cycles,
            mean_action_radius=config.mean_action_radius,
            spare_view_channels=spare_view_channels,
            threads=threads,
            tiled_features=tiled_features,
            view_dtype=view_dtype,
        )
        self._config = config
        self.group_counts = config.group_counts
        #: ``[N]`` int64 side of each slot (its group: 0 deer, 1 tiger; the renderer's teams)
        self.teams = self.tables.slot_group.copy()
        self.team_names = GROUPS
        self._keys = [[f"{name}_kills", f"{name}_deaths", f"{name}_survivors"] for name in GROUPS]


    def group_slices(self) -> dict[str, slice]:
        """The slots of each group, in MAgent2's order."""
        starts = self.group_starts
        return {group: slice(int(starts[k]), int(starts[k + 1])) for k, group in enumerate(GROUPS)}

    def results(self, battle: int = 0) -> dict[str, object]:
        """Per group: agents of the other group it killed (``tiger_kills``: deer eaten; deer never kill),
        its own dead (killed or, for tigers, starved), survivors and total reward; and the ``winner``:
        the group left when the other is gone, else ``"draw"``."""
        state = self.state
        kills = state.kill_table[battle].sum(axis=1)
        survivors = np.add.reduceat(state.alive[battle], self.group_starts[:-1], dtype=np.int64)
        deaths = np.asarray(self.group_counts) - survivors
        results: dict[str, object] = {}
        for keys, row, name, total in zip(self._keys, np.stack([kills, deaths, survivors]).T.tolist(), GROUPS, state.total_rewards[battle].tolist()):
            results.update(zip(keys, row))
            results[f"{name}_total_reward"] = total
        deer, tigers = survivors.tolist()
        results["winner"] = "tiger" if deer == 0 and tigers > 0 else "deer" if tigers == 0 and deer > 0 else "draw"
        return results
