"""Trained Battle policies shipped with the package: the policy SPECs ``zoo:mfq``, ``zoo:il``...

Each ``NAME.safetensors`` here is a *policy file*: a checkpoint (``mfagents.common.checkpoint``: safetensors,
JSON metadata, SHA-256 digest; nothing executes on load) holding only what greedy acting needs, the
Q network of MF-Q / IL or the actor of MF-AC / AC, in float16. ``benchmarks/battle_zoo.py`` trains
them with ``mfzoo train``'s defaults, exports them with ``export_policy`` and writes ``ZOO.md``
beside them (command, seed, budget, evaluation).

Example:
    >>> sorted(available())  # doctest: +SKIP
    ['il', 'mfq']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from mfagents.common.checkpoint import load_checkpoint, save_checkpoint

ZOO_DIR = Path(__file__).resolve().parent
ZOO_PREFIX = "zoo:"
"""Policy SPEC prefix of a shipped policy."""
POLICY_KIND = "policy"
"""``metadata["kind"]`` of a policy file (a run checkpoint has no ``kind``)."""


def available() -> list[str]:
    """Names of the shipped policies (``zoo:NAME``)."""
    return sorted(path.stem for path in ZOO_DIR.glob("*.safetensors"))


def zoo_path(spec: str) -> Path:
    """The file of ``zoo:NAME``.

    Raises:
        ValueError: no such policy (the message lists the shipped ones).
    """
    name = spec[len(ZOO_PREFIX) :] if spec.startswith(ZOO_PREFIX) else spec
    path = ZOO_DIR / f"{name}.safetensors"
    if not name or "/" in name or not path.is_file():
        raise ValueError(f"policy SPEC {spec!r}: no such zoo policy; shipped: {', '.join(ZOO_PREFIX + n for n in available()) or 'none'}")
    return path


def export_policy(learner: Any, algo: str, info: dict[str, Any], path: str | os.PathLike, provenance: dict[str, Any]) -> None:
    """Write ``learner``'s acting tensors in float16 to ``path`` as a policy file.

    Args:
        learner: a trained learner (``policy_state_dict``).
        algo: its algorithm name (``mfq``...), to rebuild it.
        info: the learner's entry of its run checkpoint (``config``, ``n_agents``, ``observation_shape``).
        path: the ``.safetensors`` file to write.
        provenance: JSON-able facts stored beside the tensors (command, seed, rounds, evaluation).
    """
    tensors = {f"learner/{key}": value.to(torch.float16) if value.is_floating_point() else value for key, value in learner.policy_state_dict().items()}
    metadata = {"kind": POLICY_KIND, "learners": {"learner": {**info, "algo": algo}}, "provenance": provenance}
    save_checkpoint(path, tensors, metadata)


def provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The provenance stored in a policy file."""
    return load_checkpoint(path)[1].get("provenance", {})
