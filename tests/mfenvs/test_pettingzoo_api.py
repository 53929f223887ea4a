"""PettingZoo's own checkers over every registered environment and several small constructor settings."""

from __future__ import annotations

import importlib.util
import warnings
from types import SimpleNamespace

import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

from mfenvs.registration import ENVIRONMENTS

NUM_CYCLES = 10

# Warnings of the PettingZoo checkers that mean a broken contract rather than a style hint.
CONTRACT_WARNINGS = (
    "Live agent was not given",
    "was dead last turn",
    "No agents present",
    "State is not NumPy array",
    "State contains NaNs",
    "State contains infinity",
    "States are different shapes",
    "States have different number of dimensions",
    "State between Observations are different classes",
    "Observation is not a NumPy array",
    "Observation contains NaN",
    "Observation contains infinity",
    "Observations between agents are different classes",
    "Observations are different shapes",
    "Observations have different number of dimensions",
    "The class of observation spaces is different",
    "The class of action spaces is different",
    "Agents have different observation space sizes",
    "Agents have different action space sizes",
    "The info of each agent should be a dict",
)


#: Environments whose groups have different spaces by design (MAgent2's layout: combined arms' melee
#: units have 9 actions, its ranged 25, and with ``extra_features`` observations of 29 and 45 channels).
#: For them the checkers' "different sizes / shapes" warnings are the layout, not a broken contract;
#: tests/mfenvs/combined_arms checks each group's spaces. Tiger-deer's deer see 3 x 3 and have 5 actions,
#: its tigers 9 x 9 and 9 (tests/mfenvs/tiger_deer). Adversarial pursuit's predators see 10 x 10 and
#: have 13 actions, its prey 9 x 9 and 9 (tests/mfenvs/adversarial_pursuit).
PER_GROUP_SPACES = {"combined_arms", "tiger_deer", "adversarial_pursuit"}
SPACE_WARNINGS = (
    "Agents have different observation space sizes",
    "Agents have different action space sizes",
    "Observations are different shapes",
)


def run_checker(checker, *args, per_group_spaces: bool = False, **kwargs) -> None:
    """Run a PettingZoo checker and fail on any warning that reports a broken contract (with
    ``per_group_spaces``, the warnings that agents' spaces differ are expected)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checker(*args, **kwargs)
    expected = SPACE_WARNINGS if per_group_spaces else ()
    broken = [
        str(w.message)
        for w in caught
        if any(text in str(w.message) for text in CONTRACT_WARNINGS) and not any(text in str(w.message) for text in expected)
    ]
    assert not broken, broken


def test_every_registered_environment_has_kwarg_sets(env_kwarg_sets):
    registered = {entry.short_name for entry in ENVIRONMENTS}
    missing = sorted(name for name in registered if not env_kwarg_sets.get(name))
    assert not missing, f"add small kwarg sets for {missing} to ENV_KWARG_SETS in tests/mfenvs/conftest.py"
    stale = sorted(set(env_kwarg_sets) - registered)
    assert not stale, f"ENV_KWARG_SETS names unregistered environments {stale}"


def test_parallel_api(env_case):
    run_checker(parallel_api_test, env_case.parallel_env(), num_cycles=NUM_CYCLES, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)


def test_aec_api(env_case):
    run_checker(api_test, env_case.env(), num_cycles=NUM_CYCLES, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)


def test_parallel_seed(env_case):
    run_checker(parallel_seed_test, env_case.parallel_env, num_cycles=NUM_CYCLES, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)


def test_aec_seed(env_case):
    run_checker(seed_test, env_case.env, num_cycles=NUM_CYCLES, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)


def test_max_cycles_small(env_case):
    # max_cycles_test wants a module; this one builds the small configuration.
    module = SimpleNamespace(parallel_env=env_case.parallel_env, env=env_case.env)
    run_checker(max_cycles_test, module, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)


@pytest.mark.parametrize("entry", ENVIRONMENTS, ids=lambda entry: entry.short_name)
def test_max_cycles_module(entry):
    run_checker(max_cycles_test, importlib.import_module(entry.module), per_group_spaces=entry.short_name in PER_GROUP_SPACES)


def test_state(env_case):
    run_checker(state_test, env_case.env(), env_case.parallel_env(), num_cycles=NUM_CYCLES, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)


def test_render(env_case):
    module_name = type(env_case.parallel_env()).draw_function.split(":")[0]
    if importlib.util.find_spec(module_name) is None:
        pytest.skip(f"{module_name} is not written yet")
    run_checker(render_test, env_case.env, per_group_spaces=env_case.short_name in PER_GROUP_SPACES)
