"""Compute precision of the convolutional view encoders: bfloat16 where the CPU has native bf16 units.

The Battle networks spend most of their time in the view encoder (two 3 x 3 convolutions and a
2592 -> 256 layer). On CPUs with native bfloat16 dot products (AVX-512 BF16, AMX), running that encoder
under ``torch.autocast`` roughly halves its cost; elsewhere bf16 is emulated and slower, so ``auto``
keeps float32 there. Only the encoder runs in bf16: its output is widened to float32 before the head,
and the Q values, losses, targets and weights stay float32 (bf16 keeps 8 bits of mantissa: Q values of
~2 would move in steps of ~0.008, coarser than Battle's step reward of 0.005).

Example:
    >>> resolve_precision("float32", "cpu")
    'float32'
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

PRECISIONS = ("auto", "float32", "bfloat16")
"""Values of the learners' ``precision`` setting."""
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
"""``/proc/cpuinfo`` flags of native bfloat16 dot products."""


@functools.cache
def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU has native bfloat16 dot products (Linux ``/proc/cpuinfo``; False where it cannot be read)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """``"float32"`` or ``"bfloat16"``: what ``precision`` means on ``device``.

    ``auto`` is bfloat16 on a CPU with native bf16 units (``cpu_has_native_bfloat16``) and float32
    elsewhere (CUDA, MPS, other CPUs); ``float32`` and ``bfloat16`` are taken as given.

    Raises:
        ValueError: ``precision`` is not one of ``PRECISIONS``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bfloat16" if torch.device(device).type == "cpu" and cpu_has_native_bfloat16() else "float32"


def autocast(precision: str, device_type: str) -> torch.autocast:
    """The autocast context of a resolved ``precision`` (disabled for float32)."""
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == "bfloat16")
