"""``GatherCore``: B gather games stepped at once on arrays; the fast path under ``gather_v0``.

Gather is a game of the gridworld engine (``mfenvs.gather.game``); the core is the engine's
``GridCore`` built from a ``GatherConfig``, with a scoreboard. The food group is passive: its slots
(the first 2,272) must be given its one action, 0 (stay), as ``passive_actions`` does.

Example:
    >>> from mfenvs.gather import GatherConfig, GatherCore
    >>> core = GatherCore(GatherConfig(), n_battles=2)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape, core.group_counts
    ((2, 2767, 15, 15, 5), (2, 2767, 36), (2272, 495))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfenvs.gather.game import GROUPS, GatherConfig, gather_game
from mfenvs.gridworld.core import GridCore


class GatherCore(GridCore):
    """The gather engine over ``n_battles`` independent games sharing one config.

    Slots are grouped by group in MAgent2's order: food, then omnivores. Every game starts on the
    same map (MAgent2's, unless the config gives ``positions``); the seed draws only the order of
    each step's attacks.

    Args:
        config: the game.
        n_battles, spare_view_channels, threads, tiled_features, view_dtype, observe_passive: as ``GridCore``'s
            (the food's views are zeros unless ``observe_passive``).
    """

    def __init__(
        self,
        config: GatherConfig,
        n_battles: int = 1,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] | Sequence[Sequence[int]] | np.ndarray = (),
        view_dtype: str = "float32",
        observe_passive: bool = False,
    ):
        if not isinstance(config, GatherConfig):
            raise TypeError(f"config must be a GatherConfig, got {type(config).__name__}")
        super().__init__(
            gather_game(config),
            n_battles=n_battles,
            max_cycles=config.max_cycles,
            mean_action_radius=config.mean_action_radius,
            spare_view_channels=spare_view_channels,
            threads=threads,
            tiled_features=tiled_features,
            view_dtype=view_dtype,
            observe_passive=observe_passive,
        )
        self._config = config
        self.group_counts = config.group_counts
        #: ``[N]`` int64 side of each slot (its group: 0 food, 1 omnivore; the renderer's teams)
        self.teams = self.tables.slot_group.copy()
        self.team_names = GROUPS


    def group_slices(self) -> dict[str, slice]:
        """The slots of each group, in MAgent2's order."""
        starts = self.group_starts
        return {group: slice(int(starts[k]), int(starts[k + 1])) for k, group in enumerate(GROUPS)}

    def results(self, battle: int = 0) -> dict[str, object]:
        """Per group: agents it killed (``omnivore_kills``: food eaten and omnivores killed; food never
        kills), its dead, survivors and total reward (food's is 0); ``food_eaten`` and
        ``omnivores_killed`` (by other omnivores); and the ``winner``: ``"omnivore"`` once every food is
        eaten, ``"food"`` once every omnivore is dead, else ``"draw"``."""
        state = self.state
        table = state.kill_table[battle]
        survivors = np.add.reduceat(state.alive[battle], self.group_starts[:-1], dtype=np.int64).tolist()
        results: dict[str, object] = {}
        for k, name in enumerate(GROUPS):
            results[f"{name}_kills"] = int(table[k].sum())
            results[f"{name}_deaths"] = self.group_counts[k] - survivors[k]
            results[f"{name}_survivors"] = survivors[k]
            results[f"{name}_total_reward"] = float(state.total_rewards[battle, k])
        results["food_eaten"], results["omnivores_killed"] = int(table[1, 0]), int(table[1, 1])
        food, omnivores = survivors
        results["winner"] = "omnivore" if food == 0 and omnivores > 0 else "food" if omnivores == 0 and food > 0 else "draw"
        return results
