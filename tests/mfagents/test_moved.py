"""Import paths that moved in 0.2 keep working for one release, with a DeprecationWarning (mfagents.moved)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from mfagents.moved import MOVED, new_path


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_is_the_new_module_with_a_warning(old):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {MOVED[old]}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])


def test_documented_names_at_old_paths():
    for old in ("mfagents.config", "mfagents.reproduce", "mfagents.reproduce.ising", "mfagents.scripted", "mfagents.sweep"):
        sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning):
        from mfagents.config import TRAINING_DEFAULTS
        from mfagents.reproduce import ising
        from mfagents.scripted import team_actions
        from mfagents.sweep import run_one
    from mfagents.experiments.reproduce import ising as new_ising
    from mfagents.training.defaults import TRAINING_DEFAULTS as new_defaults

    assert TRAINING_DEFAULTS is new_defaults and ising is new_ising
    assert callable(team_actions) and callable(run_one)


def test_submodules_of_a_moved_package_move_with_it():
    assert new_path("mfagents.reproduce.battle") == "mfagents.experiments.reproduce.battle"
    assert new_path("mfagents.configuration") is None  # a prefix of a name is not a moved package
    assert new_path("mfagents.training.config") is None


def test_the_public_api_is_unchanged():
    import mfagents
    from mfagents.api import evaluate, train
    from mfagents.experiments.reproduce import reproduce

    assert mfagents.train is train and mfagents.evaluate is evaluate
    assert mfagents.__getattr__("reproduce") is reproduce  # (the attribute is the module once the old path is imported)
    from mfagents.policies import load_policy
    from mfagents.policies.specs import load_policy as spec_loader

    assert load_policy is spec_loader


@pytest.mark.parametrize("module", ["mfagents", "mfagents.cli"])
def test_the_command_line_runs_as_a_module(module):
    result = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("mfzoo ")
