"""float16 inside Numba kernels: float32 values to IEEE half-precision bit patterns, stored as ``uint16``.

Numba (0.68, CPU) cannot type ``float16`` arrays, so kernels that write float16 observations write
their bit patterns into ``uint16`` arrays, which the caller then views as ``np.float16`` (a free
reinterpretation, no copy). ``float16_bits`` is the conversion, bit for bit NumPy's
``np.float32(value).astype(np.float16)``; ``encode(value, like)`` lets one kernel source serve both
storage types: it returns ``value`` as a float32 for a float32 array and as float16 bits for a uint16
array (zero is bit pattern 0 in both, so kernels write plain ``0`` for it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload

from mfenvs.common.jit import kernel

FLOAT16_SMALLEST_NORMAL = 2.0**-14
FLOAT16_OVERFLOW = 65520.0
"""Halfway between float16's largest finite value (65504) and 65536: from here on values round to infinity."""
FLOAT16_INF_BITS = 0x7C00
FLOAT16_QUIET_NAN_BITS = 0x7E00
FLOAT16_SIGN_BIT = 0x8000


@kernel
def float16_bits(value):
    """The IEEE float16 bit pattern (``uint16``) of ``value`` rounded to float32 first: NumPy's
    ``np.float32(value).astype(np.float16).view(np.uint16)``.

    Round to nearest, ties to even; subnormals; ``|value| >= 65520`` gives infinity; signed zeros
    keep their sign. NaN gives the quiet NaN ``0x7E00`` with the input's sign (NumPy's result for
    ``np.nan``; NumPy keeps other NaN payloads, which observations never hold).

    Pure float64 arithmetic, exact for float32 inputs: ``frexp`` splits off the exponent and ``rint``
    rounds the significand scaled to 11 bits (10 below the smallest normal, 2**-14), so the kernels
    that call it allocate nothing.
    """
    x = np.float64(np.float32(value))
    sign = FLOAT16_SIGN_BIT if math.copysign(1.0, x) < 0.0 else 0
    if math.isnan(x):
        return np.uint16(sign | FLOAT16_QUIET_NAN_BITS)
    magnitude = abs(x)
    if magnitude >= FLOAT16_OVERFLOW:
        return np.uint16(sign | FLOAT16_INF_BITS)
    if magnitude < FLOAT16_SMALLEST_NORMAL:
        # subnormal: the bits are the count of 2**-24 steps (1024 of them is the smallest normal's pattern)
        return np.uint16(sign | int(np.rint(magnitude * 2.0**24)))
    # magnitude = significand * 2**exponent with significand in [0.5, 1); rounded to 11 bits it is 1024..2048:
    # the implicit bit and 10 mantissa bits (2048 carries into the exponent)
    significand, exponent = math.frexp(magnitude)
    rounded = int(np.rint(significand * 2048.0))
    # biased exponent (exponent - 1 + 15) << 10, plus the mantissa (rounded - 1024); a carry bumps the exponent
    return np.uint16(sign | ((exponent + 13) * 1024 + rounded))


def encode(value, like):
    """``value`` as stored in an array like ``like``: float32 for a float32 array, float16 bits for a uint16 one.

    Only for Numba kernels (the ``overload`` below picks the conversion at compile time); in Python it
    gives the same result for float32 and uint16 NumPy arrays.
    """
    if like.dtype == np.uint16:
        return float16_bits(value)
    return np.float32(value)


@overload(encode)
def _encode_for(value, like):
    if isinstance(like, types.Array) and like.dtype == types.uint16:
        return lambda value, like: float16_bits(value)
    if isinstance(like, types.Array) and like.dtype == types.float32:
        return lambda value, like: np.float32(value)
    return None  # any other storage: Numba reports a typing error naming encode and the types
