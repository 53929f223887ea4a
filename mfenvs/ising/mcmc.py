"""Metropolis Monte Carlo for the Ising lattice (Yang et al. 2018, Algorithm 3): the physics reference.

The energy is the one of ``mfenvs.ising.core``, E(a) = -sum_j (h a_j + coupling/2 sum_{k in N(j)} a_j a_k)
on a ``size`` x ``size`` torus with four nearest neighbours, so flipping site j changes it by
dE = 2 a_j (h + coupling * sum_k a_k). A proposed flip is accepted when a uniform draw
eps ~ U(0, 1) is below exp(-dE / T), as in Algorithm 3.

Sites are updated in checkerboard order: the lattice splits into two sublattices (x + y even, "black",
and odd, "white") whose sites only neighbour sites of the other colour, so all sites of one colour can
be proposed and accepted at once with exactly the single-site Metropolis probabilities. One sweep
updates the black sites, then the white ones (one proposal per site). This needs an even ``size``: on
an odd torus the wrap-around joins two sites of the same colour.

Each sublattice is stored compressed as a ``[size, size // 2]`` int8 array: black site (y, x) is
``black[y, x // 2]`` (its x is ``2j + y % 2``) and white site (y, x) is ``white[y, x // 2]``
(its x is ``2j + 1 - y % 2``). In that layout a site's north and south neighbours sit in the same
column ``j`` of the other array, one of its horizontal neighbours too, and the other one in column
``j - 1`` or ``j + 1`` depending on the row's parity.
"""

from __future__ import annotations

import numpy as np

from mfenvs.common.validation import check_float, check_int

_MAX_NEIGHBOUR_SUM = 4  # four nearest neighbours of spin +-1


def metropolis(
    size: int,
    temperature: float,
    sweeps: int,
    seed: int | None = None,
    h: float = 0.0,
    coupling: float = 1.0,
) -> np.ndarray:
    """Run checkerboard Metropolis sweeps from the all-up lattice and record the magnetisation.

    The run starts from every spin +1, so below the critical temperature it relaxes into the
    positive ordered phase instead of getting stuck between domains; discard the first sweeps as
    burn-in. With ``h = 0`` and ``coupling = 1`` this is the standard 2-D Ising model
    (Onsager: T_c = 2 / ln(1 + sqrt 2) = 2.269, magnetisation (1 - sinh(2 / T)^-4)^(1/8) below it).

    Args:
        size: lattice side; an even integer >= 2 (checkerboard updates need an even torus).
        temperature: T > 0, in the energy units of ``mfenvs.ising.core``.
        sweeps: number of sweeps (one proposal per site each), >= 1.
        seed: seed of the ``np.random.Generator`` (a non-negative int), or None for fresh entropy.
        h: external field.
        coupling: interaction strength lambda.

    Returns:
        ``[sweeps]`` float64: the signed magnetisation per site (mean spin) after each sweep.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: ``size`` is odd or < 2, ``temperature`` <= 0, ``sweeps`` < 1, or a value is not finite.

    Example:
        >>> m = metropolis(size=16, temperature=1.5, sweeps=200, seed=0)
        >>> m.shape, bool(abs(m[100:]).mean() > 0.9)
        ((200,), True)
    """
    size = check_int("size", size, minimum=2)
    if size % 2:
        raise ValueError(f"size must be even (checkerboard updates on a torus), got {size}")
    temperature = check_float("temperature", temperature, positive=True)
    sweeps = check_int("sweeps", sweeps, minimum=1)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    h = check_float("h", h)
    coupling = check_float("coupling", coupling)

    rng = np.random.default_rng(seed)
    acceptance = _acceptance_table(temperature, h, coupling)
    shape = (size, size // 2)
    black = np.ones(shape, dtype=np.int8)
    white = np.ones(shape, dtype=np.int8)
    neighbours = np.empty(shape, dtype=np.int8)
    table_index = np.empty(shape, dtype=np.int8)
    uniforms = np.empty(shape, dtype=np.float32)

    magnetisation = np.empty(sweeps, dtype=np.float64)
    for sweep in range(sweeps):
        for spins, other, left_rows in ((black, white, 0), (white, black, 1)):
            _neighbour_sum(other, left_rows, out=neighbours)
            # table_index = 2 * (neighbour sum + 4) + (spin == +1), in 0..17
            np.add(neighbours, _MAX_NEIGHBOUR_SUM, out=table_index)
            table_index += table_index
            table_index += spins > 0
            rng.random(out=uniforms, dtype=np.float32)
            accepted = uniforms < acceptance.take(table_index)
            np.negative(spins, out=spins, where=accepted)
        magnetisation[sweep] = int(black.sum(dtype=np.int64)) + int(white.sum(dtype=np.int64))
    return magnetisation / (size * size)


def _acceptance_table(temperature: float, h: float, coupling: float) -> np.ndarray:
    """min(1, exp(-dE / T)) for every (neighbour sum s, spin a), at index ``2 * (s + 4) + (a == +1)``."""
    neighbour_sums = np.repeat(np.arange(-_MAX_NEIGHBOUR_SUM, _MAX_NEIGHBOUR_SUM + 1), 2)
    spins = np.tile([-1, 1], 2 * _MAX_NEIGHBOUR_SUM + 1)
    energy_change = 2.0 * spins * (h + coupling * neighbour_sums)
    return np.exp(np.minimum(0.0, -energy_change / temperature)).astype(np.float32)


def _neighbour_sum(other: np.ndarray, left_rows: int, out: np.ndarray) -> None:
    """Write into ``out`` the sum of the four neighbours, all on the ``other`` compressed sublattice.

    ``left_rows`` (0 or 1) is the parity of the rows whose second horizontal neighbour is in column
    ``j - 1`` (the other rows' is in ``j + 1``): 0 for black sites, 1 for white sites.
    """
    np.copyto(out, other)  # the horizontal neighbour in the same column j
    out[1:] += other[:-1]  # north
    out[0] += other[-1]
    out[:-1] += other[1:]  # south
    out[-1] += other[0]
    left, right = slice(left_rows, None, 2), slice(1 - left_rows, None, 2)
    out[left, 1:] += other[left, :-1]
    out[left, 0] += other[left, -1]
    out[right, :-1] += other[right, 1:]
    out[right, -1] += other[right, 0]
