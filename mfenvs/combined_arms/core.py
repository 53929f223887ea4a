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
from dataclasses import replace

import numpy as np

from mfenvs.combined_arms.game import GROUPS, SIDE_OF_GROUP, SIDES, CombinedArmsConfig, combined_arms_game
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

    @property
    def config(self) -> CombinedArmsConfig:
        return self._config

    @config.setter
    def config(self, value: CombinedArmsConfig) -> None:
        """Replace the config; only ``max_cycles`` may differ (the arrays are sized by the rest)."""
        if replace(value, max_cycles=self._config.max_cycles) != self._config:
            raise ValueError("only max_cycles of a CombinedArmsCore's config can be changed")
        self._config = value
        self.max_cycles = value.max_cycles

    def group_slices(self) -> dict[str, slice]:
        """The slots of each group, in MAgent2's order."""
        starts = self.group_starts
        return {group: slice(int(starts[k]), int(starts[k + 1])) for k, group in enumerate(GROUPS)}

    def results(self, battle: int = 0) -> dict[str, object]:
        """Per group and per side: enemies killed, survivors, total reward, own-side agents killed
        (``*_friendly_kills``: friendly fire); and the side ahead by enemy kills."""
        state = self.state
        table = state.kill_table[battle]  # [killer group, victim group]
        sides = np.asarray(SIDE_OF_GROUP)
        enemy = sides[:, None] != sides[None, :]
        survivors = np.add.reduceat(state.alive[battle], self.group_starts[:-1], dtype=np.int64)
        totals = state.total_rewards[battle]
        results: dict[str, object] = {}
        for k, group in enumerate(GROUPS):
            results[f"{group}_kills"] = int(table[k][enemy[k]].sum())
            results[f"{group}_friendly_kills"] = int(table[k][~enemy[k]].sum())
            results[f"{group}_survivors"] = int(survivors[k])
            results[f"{group}_total_reward"] = float(totals[k])
        side_kills = []
        for s, side in enumerate(SIDES):
            groups = np.flatnonzero(sides == s)
            side_kills.append(sum(results[f"{GROUPS[k]}_kills"] for k in groups))
            results[f"{side}_kills"] = side_kills[-1]
            results[f"{side}_friendly_kills"] = sum(results[f"{GROUPS[k]}_friendly_kills"] for k in groups)
            results[f"{side}_survivors"] = int(survivors[groups].sum())
            results[f"{side}_total_reward"] = float(totals[groups].sum())
        results["winner"] = "draw" if side_kills[0] == side_kills[1] else SIDES[int(np.argmax(side_kills))]
        return results
