"""Tiger-deer: MAgent2's ``tiger_deer_v4`` (tigers that starve unless they eat, deer) on the gridworld engine."""

from mfenvs.tiger_deer.core import TigerDeerCore
from mfenvs.tiger_deer.game import GROUPS, TigerDeerConfig, place, tiger_deer_game

__all__ = ["GROUPS", "TigerDeerConfig", "TigerDeerCore", "place", "tiger_deer_game"]
