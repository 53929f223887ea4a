"""What a team plays: policy SPECs (``specs``), the scripted fighter, SB3 models and the shipped ``zoo:`` policies.

May import ``mfagents.algos`` and ``mfagents.common`` only. ``mfagents.policies.load_policy`` and the other
names of ``specs`` are reachable from here; they load on first use, so ``policies.scripted`` stays light.
"""

from __future__ import annotations

from typing import Any

_SPEC_NAMES = (
    "LEARNER", "OPPONENT", "SB3_PREFIX", "GroupContext", "Policy", "LearnerPolicy", "RandomPolicy", "ScriptedPolicy",
    "CallablePolicy", "checkpoint_names", "spec_learner_name", "split_learner_spec", "load_learner", "load_policy",
)  # fmt: skip
__all__ = list(_SPEC_NAMES)


def __getattr__(name: str) -> Any:
    if name in _SPEC_NAMES:
        from mfagents.policies import specs

        return getattr(specs, name)
    raise AttributeError(f"module 'mfagents.policies' has no attribute {name!r}")
