"""The dependency direction of STYLE.md: mfenvs imports neither torch nor pygame; render never imports mfagents."""

import subprocess
import sys

import pytest


def modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(output.split())


@pytest.mark.parametrize("module", ["mfenvs", "mfenvs.battle_v0", "mfenvs.ising_v0", "mfenvs.gaussian_squeeze_v0"])
def test_environments_import_without_torch_or_pygame(module):
    loaded = modules_after(f"import {module}")
    assert "torch" not in loaded
    assert "pygame" not in loaded


def test_render_does_not_import_the_trainers():
    loaded = modules_after("import render.window, render.battle, render.ising, render.gaussian_squeeze, render.hud, render.viewer, render.record")
    assert not any(name == "mfagents" or name.startswith("mfagents.") for name in loaded)
