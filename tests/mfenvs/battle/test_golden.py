"""Same game, same numbers: replays of the golden trajectories recorded before the Numba kernels (issue 11).

Every array of every step must equal the recording bit for bit (see ``golden_cases.py``), whatever
the number of threads the kernels run on.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.mfenvs.battle.golden_cases import CORE_CASES, ENV_CASES, FIXTURE, run


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, np.ndarray]]:
    cases: dict[str, dict[str, np.ndarray]] = {}
    with np.load(FIXTURE) as data:
        for key in data.files:
            name, array = key.split("/")
            cases.setdefault(name, {})[array] = data[key]
    return cases


def assert_replays(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> None:
    assert sorted(actual) == sorted(expected)
    for name, value in expected.items():
        got = actual[name]
        assert got.shape == value.shape and got.dtype == value.dtype, name
        if not np.array_equal(got, value, equal_nan=value.dtype.kind == "f"):
            step = int(np.argmax([not np.array_equal(g, v, equal_nan=v.dtype.kind == "f") for g, v in zip(got, value)]))
            pytest.fail(f"{name} differs from the recording first at record {step}")


@pytest.mark.parametrize("name", [*CORE_CASES, *ENV_CASES])
def test_replay_equals_the_recording(golden, name):
    expected = golden[name]
    assert_replays(expected, run(name, actions=expected["actions"]))
