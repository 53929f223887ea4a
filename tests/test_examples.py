"""Every script in examples/ runs to completion with a tiny budget (PettingZoo's doc-examples idea)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY_ARGUMENTS = {
    "random_battle.py": ["--map-size", "16", "--max-cycles", "20"],
    "batched_battle_core.py": ["--battles", "3", "--steps", "30", "--map-size", "12"],
    "ising_mean_field_response.py": ["--size", "8", "--steps", "10"],
}


def test_every_example_has_tiny_arguments():
    assert {path.name for path in EXAMPLES.glob("*.py")} == set(TINY_ARGUMENTS)


@pytest.mark.parametrize("name", sorted(TINY_ARGUMENTS))
def test_example_runs(name):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *TINY_ARGUMENTS[name]], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
