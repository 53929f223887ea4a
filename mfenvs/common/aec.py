"""The AEC view of a parallel-native environment, keeping the contract of the parallel API.

PettingZoo's ``parallel_to_aec_wrapper`` stores each agent's action and hands the whole cycle to the
parallel ``step()`` when the last agent acts: a bad action was accepted by its own ``step()``, raised
only at the end of the cycle, and the cycle could never complete afterwards (every later ``step()``
re-raised until ``reset()``). Its ``OrderEnforcingWrapper`` only warns when stepped after the end. Here
(issue 14):

* each action is checked in its own ``step()`` (``ArrayParallelEnv.check_action``) before anything is
  stored, so a rejected action changes nothing and the agent may act again;
* ``step()`` after the end raises ``EpisodeFinishedError``, as the parallel API does;
* a done agent stepped with an action other than ``None`` is a ``ValueError`` naming the agent (it
  was an ``AssertionError`` after the wrapper had already forgotten the agent's stored action).
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import OrderEnforcingWrapper
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from mfenvs.common.validation import EpisodeFinishedError

_ENDED = "step() called but the episode has ended; call reset() first"


class CheckedAECWrapper(parallel_to_aec_wrapper):
    """``parallel_to_aec_wrapper`` that validates each action in its own ``step()``."""

    def step(self, action: Any) -> None:
        if not getattr(self, "agents", None):
            raise EpisodeFinishedError(_ENDED if hasattr(self, "agent_selection") else "step() called before reset()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                raise ValueError(f"agent {agent!r} is done: step it with None (PettingZoo's step of a finished agent), got {action!r}")
        else:
            self.env.unwrapped.check_action(agent, action)
        super().step(action)


class CheckedOrderEnforcingWrapper(OrderEnforcingWrapper):
    """PettingZoo's order-enforcing wrapper, raising ``EpisodeFinishedError`` (not a warning) after the end."""

    def step(self, action: Any) -> None:
        if self._has_reset and not self.agents:
            raise EpisodeFinishedError(_ENDED)
        super().step(action)
