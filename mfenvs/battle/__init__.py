"""Battle: the MAgent battle game on a vectorised NumPy core (Yang et al. 2018, appendix C.3)."""

from mfenvs.battle.config import N_ACTIONS, BattleConfig
from mfenvs.battle.core import BattleCore, BattleOutput
from mfenvs.battle.state import BattleState

__all__ = ["N_ACTIONS", "BattleConfig", "BattleCore", "BattleOutput", "BattleState"]
