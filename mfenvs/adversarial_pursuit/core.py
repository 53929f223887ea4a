"""``AdversarialPursuitCore``: B adversarial-pursuit games stepped at once on arrays; the fast path under ``adversarial_pursuit_v0``.

Adversarial pursuit is a game of the gridworld engine (``mfenvs.adversarial_pursuit.game``); the core is
the engine's ``GridCore`` built from an ``AdversarialPursuitConfig``, with a scoreboard per group.

Example:
    >>> from mfenvs.adversarial_pursuit import AdversarialPursuitConfig, AdversarialPursuitCore
    >>> core = AdversarialPursuitCore(AdversarialPursuitConfig(map_size=20), n_battles=2)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape, core.group_counts
    ((2, 15, 10, 10, 5), (2, 15, 26), (5, 10))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfenvs.adversarial_pursuit.game import (
    GROUPS,
    AdversarialPursuitConfig,
    adversarial_pursuit_game,
)
from mfenvs.gridworld.core import GridCore, GridOutput


class AdversarialPursuitCore(GridCore):
    """The adversarial-pursuit engine over ``n_battles`` independent games sharing one config.

    Slots are grouped by group in MAgent2's order: predators, then prey. Each game draws its own walls
    and start cells at every reset (unless the config gives them). A predator's position is the
    top-left cell of its 2 x 2 body.

    Args:
        config: the game.
        n_battles, spare_view_channels, threads, tiled_features, view_dtype: as ``GridCore``'s.
    """

    def __init__(
        self,
        config: AdversarialPursuitConfig,
        n_battles: int = 1,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] | Sequence[Sequence[int]] | np.ndarray = (),
        view_dtype: str = "float32",
    ):
        if not isinstance(config, AdversarialPursuitConfig):
            raise TypeError(f"config must be an AdversarialPursuitConfig, got {type(config).__name__}")
        super().__init__(
            adversarial_pursuit_game(config),
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
        #: ``[N]`` int64 side of each slot (its group: 0 predator, 1 prey; the renderer's teams)
        self.teams = self.tables.slot_group.copy()
        self.team_names = GROUPS
        #: ``[B]`` int64 tags of prey by predators so far this episode
        self.tags = np.zeros(n_battles, dtype=np.int64)
        self._keys = [[f"{name}_kills", f"{name}_deaths", f"{name}_survivors"] for name in GROUPS]


    def reset_battles(self, which: np.ndarray) -> None:
        super().reset_battles(which)
        self.tags[which] = 0

    def step(self, actions: np.ndarray) -> GridOutput:
        running = ~self.state.done  # games over before this step keep their last step's hit flags
        out = super().step(actions)
        # a predator's landed attack is a tag (prey have no attack)
        self.tags += np.where(running, self.state.last_hits[:, : self.group_counts[0]].sum(axis=1), 0)
        return out

    def group_slices(self) -> dict[str, slice]:
        """The slots of each group, in MAgent2's order."""
        starts = self.group_starts
        return {group: slice(int(starts[k]), int(starts[k + 1])) for k, group in enumerate(GROUPS)}

    def results(self, battle: int = 0) -> dict[str, object]:
        """Per group its kills, deaths (always 0: tags do no damage), survivors and total reward;
        ``predator_tags``, the prey tagged so far this episode; and the ``winner``: always ``"draw"``."""
        state = self.state
        kills = state.kill_table[battle].sum(axis=1)
        survivors = np.add.reduceat(state.alive[battle], self.group_starts[:-1], dtype=np.int64)
        deaths = np.asarray(self.group_counts) - survivors
        results: dict[str, object] = {}
        for keys, row, name, total in zip(self._keys, np.stack([kills, deaths, survivors]).T.tolist(), GROUPS, state.total_rewards[battle].tolist()):
            results.update(zip(keys, row))
            results[f"{name}_total_reward"] = total
        results["predator_tags"] = int(self.tags[battle])
        results["winner"] = "draw"
        return results
