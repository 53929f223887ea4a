"""Every script in examples/ runs to completion with a tiny budget (PettingZoo's doc-examples idea)."""

import importlib.util
import os
import re
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
    "torchrl_mappo_battle.py": ["--quick", "--eval-rounds", "5", "--seed", "3"],
    "benchmarl_battle.py": ["--quick", "--algorithm", "ippo", "--eval-rounds", "5", "--seed", "3", "--out", "{tmp}/benchmarl"],
}
#: the optional package an example needs (the ``benchmarl`` extra; CI installs it with ``test``)
REQUIRES = {"benchmarl_battle.py": "benchmarl"}


def check_evaluation_lines(lines: list[str], names: tuple[str, str], rounds: int) -> None:
    """The last two lines are the evaluations of ``names``, each counting every one of ``rounds`` battles once."""
    number = r"\d+\.\d"
    for name, line in zip(names, lines[-2:]):
        pattern = rf"{re.escape(name)}: W-D-L (\d+)-(\d+)-(\d+), win rate {number}\d \(95% CI {number}\d-{number}\d\), kills per round {number} v {number}"
        match = re.fullmatch(pattern, line)
        assert match, lines[-2:]
        assert sum(int(group) for group in match.groups()) == rounds


def check_torchrl_mappo_battle(stdout: str) -> None:
    """``--quick`` trained (two batches) and printed both evaluation lines, every battle counted once."""
    lines = stdout.splitlines()
    assert lines[0].startswith("MAPPO, red v scripted blue: 2 iterations x 2 battles x 8 steps = 32 env-steps (160 red agent-steps)")
    assert "iteration 2/2:" in stdout
    assert "Evaluation against the scripted blue team, 5 battles each (sampled actions), seed 10003:" in lines
    check_evaluation_lines(lines, ("MAPPO red", "random red (baseline)"), 5)


def check_benchmarl_battle(stdout: str) -> None:
    """``--quick`` ran BenchMARL's IPPO for its two batches and printed both evaluation lines."""
    lines = stdout.splitlines()
    assert lines[0] == "BenchMARL IPPO, red v scripted blue on a 12 x 12 map: 2 iterations x 2 battles x 20 steps = 80 env-steps"
    assert any(re.fullmatch(r"training took \d+ s \(80 env-steps\)", line) for line in lines), lines
    assert "Evaluation against the scripted blue team, 5 battles each (greedy actions), seed 10003:" in lines
    check_evaluation_lines(lines, ("IPPO red", "random red (baseline)"), 5)


#: further checks of an example's output, beyond running to completion
OUTPUT_CHECKS = {"torchrl_mappo_battle.py": check_torchrl_mappo_battle, "benchmarl_battle.py": check_benchmarl_battle}


def test_every_example_has_tiny_arguments():
    assert {path.name for path in EXAMPLES.glob("*.py")} == set(TINY_ARGUMENTS)


@pytest.mark.parametrize("name", sorted(TINY_ARGUMENTS))
def test_example_runs(name, tmp_path):
    if name in REQUIRES and importlib.util.find_spec(REQUIRES[name]) is None:
        pytest.skip(f"{name} needs {REQUIRES[name]} (pip install -e '.[{REQUIRES[name]}]')")
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
    if name in OUTPUT_CHECKS:
        OUTPUT_CHECKS[name](result.stdout)

