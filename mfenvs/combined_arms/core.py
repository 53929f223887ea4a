"""``CombinedArmsCore``: B combined arms games stepped at once on arrays; the fast path under ``combined_arms_v0``.

Combined arms is a game of the gridworld engine (``mfenvs.combined_arms.game``); the core is the
engine's ``GridCore`` built from a ``CombinedArmsConfig``, with a scoreboard per side.

Example:
    >>> import numpy as np
    >>> from mfenvs.combined_arms import CombinedArmsConfig, CombinedArmsCore
    >>> core = CombinedArmsCore(CombinedArmsConfig(map_size=16), n_battles=2)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape, core.group_counts
    ((2, 12, 13, 13, 9), (2, 12, 38), (3, 3, 3, 3))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfenvs.combined_arms.game import (
    GROUPS,
    SIDE_OF_GROUP,
    SIDES,
    CombinedArmsConfig,
    combined_arms_game,
)
from mfenvs.gridworld.core import GridCore


class CombinedArmsCore(GridCore):
    """The combined arms engine over ``n_battles`` independent games sharing one config.

    Slots are grouped by group in MAgent2's order: redmelee, redranged, bluemelee, blueranged.

    Args:
        config: the game.
        n_battles, spare_view_channels, threads, tiled_features, view_dtype: as ``GridCore``'s.
    """

    def __init__(
        self,
        config: CombinedArmsConfig,
        n_battles: int = 1,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] | Sequence[Sequence[int]] | np.ndarray = (),
        view_dtype: str = "float32",
    ):
        if not isinstance(config, CombinedArmsConfig):
            raise TypeError(f"config must be a CombinedArmsConfig, got {type(config).__name__}")
        super().__init__(
            combined_arms_game(config),
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
        #: ``[N]`` int64 side of each slot: 0 red, 1 blue (the renderer's and the scoreboard's teams)
        self.teams = np.asarray(SIDE_OF_GROUP, dtype=np.int64)[self.tables.slot_group]
        self.team_names = SIDES
        sides = np.asarray(SIDE_OF_GROUP)
        self._enemy = sides[:, None] != sides[None, :]  # [killer group, victim group]: of the other side
        self._side_of_group = (sides[:, None] == np.arange(len(SIDES))[None, :]).astype(np.int64)  # [G, S] one-hot
        self._group_keys = [[f"{name}_kills", f"{name}_friendly_kills", f"{name}_survivors"] for name in GROUPS]
        self._side_keys = [[f"{name}_kills", f"{name}_friendly_kills", f"{name}_survivors"] for name in SIDES]


    def group_slices(self) -> dict[str, slice]:
        """The slots of each group, in MAgent2's order."""
        starts = self.group_starts
        return {group: slice(int(starts[k]), int(starts[k + 1])) for k, group in enumerate(GROUPS)}

    def results(self, battle: int = 0) -> dict[str, object]:
        """Per group and per side: enemies killed, survivors, total reward, own-side agents killed
        (``*_friendly_kills``: friendly fire); and the side ahead by enemy kills.

        A few array operations and one ``tolist`` (the PettingZoo env reads this every step)."""
        state = self.state
        table = state.kill_table[battle]  # [killer group, victim group]
        kills = (table * self._enemy).sum(axis=1)
        survivors = np.add.reduceat(state.alive[battle], self.group_starts[:-1], dtype=np.int64)
        counts = np.stack([kills, table.sum(axis=1) - kills, survivors])  # [3, G] int64
        side_counts = counts @ self._side_of_group  # [3, S]
        totals = state.total_rewards[battle]
        side_totals = totals @ self._side_of_group
        results: dict[str, object] = {}
        for names, values, rewards, total_names in (
            (self._group_keys, counts.T.tolist(), totals.tolist(), GROUPS),
            (self._side_keys, side_counts.T.tolist(), side_totals.tolist(), SIDES),
        ):
            for keys, row, reward, name in zip(names, values, rewards, total_names):
                results.update(zip(keys, row))
                results[f"{name}_total_reward"] = reward
        red, blue = side_counts[0].tolist()
        results["winner"] = "draw" if red == blue else SIDES[0] if red > blue else SIDES[1]
        return results
