"""``BattleCore``: B independent battles stepped at once on arrays; the fast path under ``battle_v0``.

Battle is a game of the gridworld engine (``mfenvs.battle.game``); ``BattleCore`` is the engine's
``GridCore`` built from a ``BattleConfig``, with Battle's scoreboard.

Example:
    >>> import numpy as np
    >>> from mfenvs.battle import BattleConfig, BattleCore
    >>> core = BattleCore(BattleConfig(map_size=20, team_size=9), n_battles=4)
    >>> out = core.reset(seed=0)
    >>> out.views.shape, out.features.shape
    ((4, 18, 13, 13, 7), (4, 18, 34))
    >>> out = core.step(np.full((4, 18), 6))  # everybody stays
    >>> out.rewards[0, 0].item()
    -0.004999999888241291
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfenvs.battle.config import TEAMS, BattleConfig
from mfenvs.battle.game import battle_game
from mfenvs.gridworld.core import GridCore, GridOutput

BattleOutput = GridOutput
"""Arrays of one ``reset`` or ``step`` of all battles (see ``mfenvs.gridworld.GridOutput``)."""


class BattleCore(GridCore):
    """The Battle engine over ``n_battles`` independent battles sharing one config.

    Slots ``0..n_red-1`` are red and ``n_red..N-1`` blue. Randomness (side swaps and the order of
    attacks) comes from one ``np.random.Generator`` seeded by ``reset(seed)``.

    Args:
        config: the game.
        n_battles, spare_view_channels, threads, tiled_features, view_dtype: as ``GridCore``'s.
    """

    def __init__(
        self,
        config: BattleConfig,
        n_battles: int = 1,
        spare_view_channels: int = 0,
        threads: int | None = None,
        tiled_features: Sequence[int] = (),
        view_dtype: str = "float32",
    ):
        if not isinstance(config, BattleConfig):
            raise TypeError(f"config must be a BattleConfig, got {type(config).__name__}")
        super().__init__(
            battle_game(config),
            n_battles=n_battles,
            max_cycles=config.max_cycles,
            mean_action_radius=config.mean_action_radius,
            spare_view_channels=spare_view_channels,
            threads=threads,
            tiled_features=tiled_features,
            view_dtype=view_dtype,
        )
        self._config = config
        self.n_red = config.team_counts[0]


    @property
    def teams(self) -> np.ndarray:
        """``[N]`` int64 team of each slot: 0 red, 1 blue."""
        return self.tables.slot_group

    def results(self, battle: int = 0) -> dict[str, object]:
        """Kills, survivors and total reward of each team, and the winner so far (more kills wins)."""
        state = self.state
        kills = state.kills[battle]
        survivors = np.add.reduceat(state.alive[battle], self.group_starts[:-1], dtype=np.int64)  # teams are never empty
        winner = "draw" if kills[0] == kills[1] else TEAMS[int(np.argmax(kills))]
        return {
            **{f"{team}_kills": int(kills[t]) for t, team in enumerate(TEAMS)},
            **{f"{team}_survivors": int(survivors[t]) for t, team in enumerate(TEAMS)},
            **{f"{team}_total_reward": float(state.total_rewards[battle, t]) for t, team in enumerate(TEAMS)},
            "winner": winner,
        }
