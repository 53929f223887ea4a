"""Every script in examples/ runs to completion with a tiny budget (PettingZoo's doc-examples idea)."""

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY_ARGUMENTS = {
    "random_battle.py": ["--map-size", "16", "--max-cycles", "20"],
    "batched_battle_core.py": ["--battles", "3", "--steps", "30", "--map-size", "12"],
    "ising_mean_field_response.py": ["--size", "8", "--steps", "10"],
    "sb3_ppo_battle.py": [
        "--timesteps", "1", "--map-size", "16", "--max-cycles", "10", "--copies", "1", "--episodes", "1",
        "--out", str(Path(tempfile.gettempdir()) / "mfzoo-test-sb3_ppo_battle.zip"),
    ],  # fmt: skip
    "sb3_ppo_gaussian_squeeze.py": ["--timesteps", "1", "--n-agents", "20", "--max-cycles", "5", "--episodes", "1"],
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
