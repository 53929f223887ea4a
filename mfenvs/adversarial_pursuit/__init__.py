"""Adversarial pursuit: MAgent2's ``adversarial_pursuit_v4`` (2 x 2 predators tagging prey) on the gridworld engine."""

from mfenvs.adversarial_pursuit.core import AdversarialPursuitCore
from mfenvs.adversarial_pursuit.game import (
    GROUPS,
    AdversarialPursuitConfig,
    adversarial_pursuit_game,
    place,
)

__all__ = ["GROUPS", "AdversarialPursuitConfig", "AdversarialPursuitCore", "adversarial_pursuit_game", "place"]
