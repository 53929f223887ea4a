"""``mfenvs.common.half``: float32 -> float16 bit patterns inside Numba kernels, bit for bit NumPy's cast."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from mfenvs.common.half import encode, float16_bits


@numba.njit
def _bits_of_each(values, out):
    for i in range(len(values)):
        out[i] = float16_bits(values[i])


@numba.njit
def _encode_each(values, out):
    for i in range(len(values)):
        out[i] = encode(values[i], out)


def bits_of(values: np.ndarray) -> np.ndarray:
    """``float16_bits`` of every float32 in ``values``, run in a kernel (as the Battle kernels run it)."""
    out = np.empty(len(values), dtype=np.uint16)
    _bits_of_each(np.ascontiguousarray(values, dtype=np.float32), out)
    return out


def numpy_bits(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # |value| >= 65520 overflows to inf, as it should
        return np.asarray(values, dtype=np.float32).astype(np.float16).view(np.uint16)


def assert_matches_numpy(values: np.ndarray) -> None:
    values = np.asarray(values, dtype=np.float32)
    got, expected = bits_of(values), numpy_bits(values)
    wrong = np.flatnonzero(got != expected)
    if len(wrong):
        first = wrong[0]
        pytest.fail(
            f"{len(wrong)} of {len(values)} values differ from NumPy, first {values[first]!r} "
            f"(float32 bits {values[first : first + 1].view(np.uint32)[0]:#010x}): "
            f"got {got[first]:#06x}, NumPy {expected[first]:#06x}"
        )


def finite_halves() -> np.ndarray:
    """Every finite float16 value, as float32, both signs (0x0000..0x7BFF and 0x8000..0xFBFF)."""
    positive = np.arange(0x7C00, dtype=np.uint16)
    return np.concatenate([positive, positive | 0x8000]).view(np.float16).astype(np.float32)


def midpoints() -> np.ndarray:
    """The float32 values halfway between neighbouring finite float16s (ties), both signs, and 65520
    (halfway between the largest float16, 65504, and 65536: rounds to infinity). All are exact in float32."""
    positive = np.arange(0x7C00, dtype=np.uint16).view(np.float16).astype(np.float64)
    upper = np.append(positive[1:], 65536.0)
    middle = (positive + upper) / 2
    assert np.all(middle.astype(np.float32) == middle)  # 12 significant bits: exact in float32
    middle = middle.astype(np.float32)
    return np.concatenate([middle, -middle])


def test_every_float16_value_converts_back_to_itself():
    halves = finite_halves()
    assert_matches_numpy(halves)
    np.testing.assert_array_equal(bits_of(halves).view(np.float16).astype(np.float32), halves)


def test_ties_round_to_even_and_one_ulp_either_side_rounds_to_the_nearer():
    ties = midpoints()
    assert_matches_numpy(ties)
    assert_matches_numpy(np.nextafter(ties, np.float32(np.inf)))
    assert_matches_numpy(np.nextafter(ties, np.float32(-np.inf)))
    # ties to even: 1 + 2**-11 lies between 1 and 1 + 2**-10 and goes down; 1 + 3 * 2**-11 goes up
    np.testing.assert_array_equal(bits_of(np.array([1 + 2**-11, 1 + 3 * 2**-11])), [0x3C00, 0x3C02])


def test_random_float32_bit_patterns():
    rng = np.random.default_rng(11)
    patterns = rng.integers(0, 2**32, size=4_000_000, dtype=np.uint64).astype(np.uint32)
    values = patterns.view(np.float32)
    assert_matches_numpy(values[~np.isnan(values)])


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.0, 0x0000),
        (-0.0, 0x8000),
        (1.0, 0x3C00),
        (-2.0, 0xC000),
        (np.inf, 0x7C00),
        (-np.inf, 0xFC00),
        (65504.0, 0x7BFF),  # the largest float16
        (65519.99, 0x7BFF),  # just below the overflow threshold: still 65504
        (65520.0, 0x7C00),  # the threshold: a tie that rounds to even, which is infinity
        (-65520.0, 0xFC00),
        (1e9, 0x7C00),
        (2.0**-14, 0x0400),  # the smallest normal
        (2.0**-14 - 2.0**-25, 0x0400),  # the largest subnormal's tie with it: rounds up to even
        (2.0**-14 - 2.0**-24, 0x03FF),  # the largest subnormal
        (2.0**-24, 0x0001),  # the smallest subnormal
        (2.0**-25, 0x0000),  # halfway to it: ties to even (zero)
        (np.nextafter(np.float32(2.0**-25), np.float32(1)), 0x0001),
        (-(2.0**-26), 0x8000),  # underflow keeps the sign
        (1e-30, 0x0000),
    ],
)
def test_special_values(value, expected):
    assert bits_of(np.array([value]))[0] == expected
    assert numpy_bits(np.array([value]))[0] == expected  # the expectations are NumPy's


def test_nan_becomes_a_quiet_nan_with_its_sign():
    for value in (np.nan, -np.nan):
        assert bits_of(np.array([value]))[0] == numpy_bits(np.array([value]))[0]  # 0x7E00 / 0xFE00
    patterns = np.array([0x7F800001, 0x7FA00000, 0x7FC00001, 0x7FFFFFFF, 0xFF800001], dtype=np.uint32)
    bits = bits_of(patterns.view(np.float32))
    assert np.all(bits & 0x7E00 == 0x7E00)  # NaN (all exponent bits) and quiet (top mantissa bit)
    np.testing.assert_array_equal(bits >> 15, patterns >> 31)


def test_float64_arguments_are_rounded_to_float32_first():
    # halfway between float16 1 and 1 + 2**-10, nudged up by less than float32 resolves: float32 makes it a tie
    value = 1 + 2**-11 + 2**-40
    assert float16_bits(value) == numpy_bits(np.array([value]))[0] == 0x3C00


def test_encode_stores_float32_as_is_and_float16_as_bits():
    rng = np.random.default_rng(3)
    values = rng.normal(scale=100.0, size=1000).astype(np.float32)
    as_float32 = np.empty(len(values), dtype=np.float32)
    _encode_each(values, as_float32)
    np.testing.assert_array_equal(as_float32.view(np.uint32), values.view(np.uint32))
    as_float16 = np.empty(len(values), dtype=np.uint16)
    _encode_each(values, as_float16)
    np.testing.assert_array_equal(as_float16, numpy_bits(values))
