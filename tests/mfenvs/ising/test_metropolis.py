"""``mfenvs.ising.metropolis`` against Onsager's solution and exact enumeration of small lattices."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest

from mfenvs.ising import metropolis

BURN_IN = 500
SWEEPS = 3000


def onsager_magnetisation(temperature: float) -> float:
    """Spontaneous magnetisation of the infinite 2-D Ising model (J = 1), zero above T_c."""
    critical = 2 / math.log(1 + math.sqrt(2))
    return (1 - math.sinh(2 / temperature) ** -4) ** 0.125 if temperature < critical else 0.0


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("temperature", "expected"), [(1.5, 0.986), (2.0, 0.911)])
def test_ordered_phase_matches_onsager(temperature, expected, seed):
    assert onsager_magnetisation(temperature) == pytest.approx(expected, abs=5e-4)
    magnetisation = metropolis(64, temperature, SWEEPS, seed=seed)
    assert abs(np.abs(magnetisation[BURN_IN:]).mean() - expected) < 0.02


@pytest.mark.parametrize("seed", [0, 1])
def test_disordered_phase_above_critical_temperature(seed):
    magnetisation = metropolis(64, 3.0, SWEEPS, seed=seed)
    assert np.abs(magnetisation[BURN_IN:]).mean() < 0.1


def exact_moments(size: int, temperature: float, h: float, coupling: float) -> tuple[float, float, float]:
    """<m>, <|m|>, <m^2> of the Boltzmann distribution, by enumerating every configuration.

    E = -h sum_j a_j - coupling * sum over bonds (right and down neighbour of every site) of a_j a_k,
    which is the environment's -sum_j r_j with each bond counted once.
    """
    n_sites = size * size
    codes = np.arange(2**n_sites)
    spins = (((codes[:, None] >> np.arange(n_sites)) & 1) * 2 - 1).reshape(-1, size, size)
    right = spins[:, :, (np.arange(size) + 1) % size]
    down = spins[:, (np.arange(size) + 1) % size, :]
    energy = -h * spins.sum(axis=(1, 2)) - coupling * (spins * (right + down)).sum(axis=(1, 2))
    weights = np.exp(-(energy - energy.min()) / temperature)
    weights /= weights.sum()
    m = spins.sum(axis=(1, 2)) / n_sites
    return float(weights @ m), float(weights @ np.abs(m)), float(weights @ (m * m))


@pytest.mark.parametrize(
    ("size", "temperature", "h", "coupling"),
    [
        (4, 2.5, 0.0, 1.0),  # near the small lattice's ordering temperature: |m| is sensitive to units
        (4, 3.0, -0.2, 1.0),  # the field's sign decides the sign of <m>
        (4, 2.0, 0.3, 0.7),
        (2, 1.0, 0.1, 0.5),  # 2 x 2 torus: every neighbour counted twice, as in the environment
    ],
)
def test_small_lattices_match_exact_enumeration(size, temperature, h, coupling):
    expected_m, expected_abs_m, expected_m2 = exact_moments(size, temperature, h, coupling)
    magnetisation = metropolis(size, temperature, 20000, seed=3, h=h, coupling=coupling)[BURN_IN:]
    if h != 0:  # at h = 0, <m> = 0 by symmetry and a finite run only sees slow tunnelling between +-|m|
        assert magnetisation.mean() == pytest.approx(expected_m, abs=0.03)
    assert np.abs(magnetisation).mean() == pytest.approx(expected_abs_m, abs=0.015)
    assert (magnetisation**2).mean() == pytest.approx(expected_m2, abs=0.015)


def test_starts_from_all_up():
    # At a tiny temperature no flip of the ordered lattice is ever accepted.
    np.testing.assert_array_equal(metropolis(8, 0.01, 20, seed=0), np.ones(20))


def test_output_shape_values_and_seeding():
    magnetisation = metropolis(6, 2.5, 50, seed=4)
    assert magnetisation.dtype == np.float64 and magnetisation.shape == (50,)
    assert np.all(np.abs(magnetisation) <= 1)
    np.testing.assert_allclose(magnetisation * 36, np.round(magnetisation * 36), atol=1e-9)  # whole spins
    np.testing.assert_array_equal(magnetisation, metropolis(6, 2.5, 50, seed=4))
    assert not np.array_equal(magnetisation, metropolis(6, 2.5, 50, seed=5))
    assert metropolis(6, 2.5, 3).shape == (3,)  # seed=None draws fresh entropy


def test_docstring_example():
    module = importlib.import_module("mfenvs.ising.mcmc")
    assert doctest.testmod(module, raise_on_error=True).attempted > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": 3}, ValueError, "size must be even"),
        ({"size": 0}, ValueError, "size must be >= 2"),
        ({"size": 1}, ValueError, "size must be >= 2"),
        ({"size": 4.0}, TypeError, "size must be an integer"),
        ({"size": True}, TypeError, "size must be an integer"),
        ({"temperature": 0.0}, ValueError, "temperature must be > 0"),
        ({"temperature": -1.0}, ValueError, "temperature must be > 0"),
        ({"temperature": float("nan")}, ValueError, "temperature must be finite"),
        ({"temperature": float("inf")}, ValueError, "temperature must be finite"),
        ({"temperature": "2"}, TypeError, "temperature must be a real number"),
        ({"sweeps": 0}, ValueError, "sweeps must be >= 1"),
        ({"sweeps": 10.0}, TypeError, "sweeps must be an integer"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"h": float("nan")}, ValueError, "h must be finite"),
        ({"coupling": "1"}, TypeError, "coupling must be a real number"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    arguments = {"size": 4, "temperature": 2.0, "sweeps": 2, **kwargs}
    with pytest.raises(error, match=f"^{message}"):
        metropolis(**arguments)
