"""Every script in examples/ runs to completion with a tiny budget (PettingZoo's doc-examples idea)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY_ARGUMENTS = {
    "random_battle.py": ["--map-size", "16", "--max-cycles", "20"],
    "batched_battle_core.py": ["--battles", "3", "--steps", "30", "--map-size", "12"],
    "ising_mean_field_response.py": ["--size", "8", "--steps", "10"],
    "sb3_ppo_battle.py": [
        "--timesteps", "1", "--map-size", "16", "--max-cycles", "10", "--copies", "1", "--episodes", "1",
        "--out", "{tmp}/sb3_ppo_battle.zip",
    ],  # fmt: skip
    "sb3_ppo_gaussian_squeeze.py": ["--timesteps", "1", "--n-agents", "20", "--max-cycles", "5", "--episodes", "1"],
}


def test_every_example_has_tiny_arguments():
    assert {path.name for path in EXAMPLES.glob("*.py")} == set(TINY_ARGUMENTS)


@pytest.mark.parametrize("name", sorted(TINY_ARGUMENTS))
def test_example_runs(name, tmp_path):
    # with the temporary folder pointed at an empty one, which must stay empty (issue 14: no files in /tmp;
    # torch's compiler cache, made when the first optimiser is built, is torch's and pointed elsewhere)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    arguments = [argument.format(tmp=tmp_path) for argument in TINY_ARGUMENTS[name]]
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *arguments], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TMPDIR": str(scratch), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "torch")},  # torch's own
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert not list(scratch.iterdir())
