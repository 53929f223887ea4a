"""Battle as a game of the gridworld engine: MAgent's ``battle.get_config`` and ``generate_map`` as data.

One agent type (MAgent's ``small``), two groups of it (red, blue), one reward rule each way (a
non-killing hit on the other group), the map's interior walls and the two starting blocks (or
explicit positions) from a ``BattleConfig``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from mfenvs.battle.config import TEAMS, VIEW_RADIUS, BattleConfig
from mfenvs.battle.spawn import initial_positions
from mfenvs.gridworld.game import AgentType, Game, Group, RewardRule


def small_type(config: BattleConfig) -> AgentType:
    """MAgent's ``small`` unit with the config's numbers: hp 10, speed 2, view 6, attack 1.5, damage 2."""
    return AgentType(
        hp=config.max_hp,
        speed=2.0,
        view_radius=VIEW_RADIUS,
        attack_radius=1.5,
        damage=config.damage,
        step_recover=config.recover,
        kill_reward=config.kill_reward,
        step_reward=config.step_reward,
        dead_penalty=config.dead_penalty,
        attack_penalty=config.attack_penalty,
    )


def attack_rules(reward: float) -> tuple[RewardRule, ...]:
    """MAgent's battle rules: a non-killing hit on the other group pays the attacker ``reward``."""
    red, blue = TEAMS
    return (RewardRule("attack", red, blue, reward), RewardRule("attack", blue, red, reward))


def place(config: BattleConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The two start blocks (which side red starts on drawn from ``rng`` if ``random_sides``) or the
    explicit positions: ``(red cells, blue cells)``."""
    red_on_left = bool(rng.integers(2)) if config.random_sides else True
    positions = initial_positions(config.map_size, config.team_counts, config.positions, red_on_left)
    n_red = config.team_counts[0]
    return positions[:n_red], positions[n_red:]


def battle_game(config: BattleConfig) -> Game:
    """The ``Game`` of a ``BattleConfig`` (its ``max_cycles`` and ``mean_action_radius`` go to the core)."""
    small = small_type(config)
    return Game(
        name="battle",
        map_size=config.map_size,
        groups=tuple(Group(team, small) for team in TEAMS),
        counts=config.team_counts,
        generate_map=partial(place, config),  # a partial of a module function: picklable
        rules=attack_rules(config.attack_opponent_reward),
        walls=tuple(config.walls),
        minimap_mode=config.minimap_mode,
    )
