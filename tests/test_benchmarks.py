"""``benchmarks/gaussian_squeeze_defaults.py`` runs end to end in its quick mode; ``write_section`` keeps the other sections."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPT = BENCHMARKS / "gaussian_squeeze_defaults.py"


def load_script(path: Path = SCRIPT):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_mode_prints_one_row_per_seed_and_a_summary(tmp_path):
    arguments = ["--rounds", "1", "--seeds", "2", "--first-seed", "3", "--workers", "2", "--eval-rounds", "1",
                 "--setting", "n_agents=50,mu=20,sigma=10", "--algos", "mfq", "--out", str(tmp_path)]  # fmt: skip
    result = subprocess.run([sys.executable, str(SCRIPT), *arguments], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == load_script().SECTION
    header = "| algo | setting | seed | G/G* greedy | G/G* last step greedy | G/G* stochastic | G/G* last training round | training s |"
    start = lines.index(header)
    assert lines[start + 1] == "|---|---|---|---|---|---|---|---|"
    rows = [line.strip("|").split(" | ") for line in lines[start + 2 : start + 4]]
    assert [(row[0].strip(), row[1], int(row[2])) for row in rows] == [("mfq", "N50-mu20-sigma10", 3), ("mfq", "N50-mu20-sigma10", 4)]
    for row in rows:
        ratios = [float(value) for value in row[3:7]]
        assert all(0.0 <= ratio <= 1.0 + 1e-9 for ratio in ratios)
        assert float(row[7]) >= 0
    assert lines[start + 4] == ""
    summary = (
        r"\*\*mfq, N50-mu20-sigma10: greedy G / G\* [0-9.]+ \(95 % over seeds [0-9.n-]+\.\.[0-9.na]+\), stochastic [0-9.]+ "
        r"\([0-9.n-]+\.\.[0-9.na]+\); [0-2] of 2 seeds >= 0\.98; training \d+ s \(median\)\*\*  "
    )
    assert re.fullmatch(summary, lines[start + 5])
    assert "1 rounds of training per seed" in result.stdout

    # the finished runs are reused, not trained again; a guarded algorithm below the goal fails the script
    stamps = sorted(path.stat().st_mtime_ns for path in tmp_path.glob("*/checkpoint.safetensors"))
    guarded = subprocess.run([sys.executable, str(SCRIPT), *arguments, "--goal", "1.01", "--guard", "mfq"], capture_output=True, text=True, timeout=300)
    assert guarded.returncode == 1 and "goal missed: mfq at N50-mu20-sigma10" in guarded.stderr
    assert sorted(path.stat().st_mtime_ns for path in tmp_path.glob("*/checkpoint.safetensors")) == stamps


def test_settings_are_parsed_and_labelled():
    module = load_script()
    assert module.parse_setting("n_agents=1000,mu=600") == {"n_agents": "1000", "mu": "600"}
    assert module.setting_label({"n_agents": "1000", "mu": "600", "sigma": "150"}) == "N1000-mu600-sigma150"
    for bad in ("", "n_agents", "=3"):
        try:
            module.parse_setting(bad)
        except ValueError as error:
            assert "--setting" in str(error)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_write_section_replaces_only_its_own_section(tmp_path):
    module, timing = load_script(), load_script(BENCHMARKS / "_timing.py")
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Other (issue 1)\n\nkeep me\n\n## Last (issue 2)\n\nkeep me too\n")
    timing.write_section(module.SECTION, f"{module.SECTION}\n\nfirst", path)
    timing.write_section(module.SECTION, f"{module.SECTION}\n\nsecond", path)
    content = path.read_text()
    assert content.count(module.SECTION) == 1 and "first" not in content and "second" in content
    assert "## Other (issue 1)\n\nkeep me\n" in content and "keep me too\n" in content
    assert content.endswith(f"{module.SECTION}\n\nsecond\n")


def test_battle_speed_runs_ours_alone_and_prints_both_tables():
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--no-magent2", "--maps", "20", "--minimap", "20", "--seconds", "0.2", "--repeats", "1", "--mean-actions"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "(a) PettingZoo parallel API" in result.stdout
    assert "(ours also reads the mean actions every step)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 20 | 32 |")]
    assert len(rows) == 4  # two APIs x minimap off / on
    assert all(float(row.split(" | ")[4].split()[0]) > 0 for row in rows[2:])  # batched agent-steps/s


def test_battle_speed_times_battlefield_on_its_map():
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--game", "battlefield", "--no-magent2", "--maps", "46", "--minimap", "", "--batch", "46=3", "--seconds", "0.2", "--repeats", "1"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "`battlefield_v0.parallel_env` vs `battlefield_v5.parallel_env`" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 46 | 24 | off |")]
    assert len(rows) == 2 and rows[1].startswith("| 46 | 24 | off | 3 |")  # 12 v 12, B = 3 in the batched row


def test_battle_speed_times_combined_arms_with_each_groups_actions():
    """Combined arms' rows: melee units draw from 9 actions, ranged from 25 (an out-of-range one would raise)."""
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--game", "combined_arms", "--no-magent2", "--maps", "16", "--minimap", "16", "--batch", "16=3", "--seconds", "0.2", "--repeats", "1"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "`combined_arms_v0.parallel_env` vs `combined_arms_v6.parallel_env`" in result.stdout
    assert "`CombinedArmsCore` (combined_arms)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 16 | 12 |")]
    assert len(rows) == 4 and rows[2].startswith("| 16 | 12 | off | 3 |")  # 3 per group; two APIs x minimap off / on


def test_battle_speed_times_tiger_deer_with_each_groups_actions():
    """Tiger-deer's rows: deer draw from 5 actions, tigers from 9 (a tiger's attack for a deer would raise)."""
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--game", "tiger_deer", "--no-magent2", "--maps", "20", "--minimap", "20", "--batch", "20=3", "--seconds", "0.2", "--repeats", "1"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "`tiger_deer_v0.parallel_env` vs `tiger_deer_v4.parallel_env`" in result.stdout
    assert "`TigerDeerCore` (tiger_deer)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 20 | 24 |")]
    assert len(rows) == 4 and rows[2].startswith("| 20 | 24 | off | 3 |")  # 20 deer, 4 tigers; two APIs x minimap off / on
    assert "Observation bytes" not in result.stdout  # that table models Battle's views only


def test_battle_speed_times_gather_on_its_one_map_counting_the_omnivores():
    """Gather's rows: its 200 x 200 map only (no map_size), the omnivores' 33 actions, the food's one (stay);
    the agents are the 495 omnivores (the food never acts)."""
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--game", "gather", "--no-magent2", "--minimap", "", "--batch", "200=1", "--seconds", "0.2", "--repeats", "1"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "`gather_v0.parallel_env` vs `gather_v5.parallel_env`" in result.stdout
    assert "`GatherCore` (gather)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 200 | 495 |")]
    assert len(rows) == 2 and rows[1].startswith("| 200 | 495 | off | 1 |")
    wrong = subprocess.run([sys.executable, str(script), "--game", "gather", "--no-magent2", "--maps", "45"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "has one map, 200" in wrong.stderr


def test_battle_speed_times_adversarial_pursuit_with_each_groups_actions():
    """Adversarial pursuit's rows: predators draw from 13 actions, prey from 9 (a predator's tag for a prey would raise)."""
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--game", "adversarial_pursuit", "--no-magent2", "--maps", "20", "--minimap", "20", "--batch", "20=3", "--seconds", "0.2", "--repeats", "1"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "`adversarial_pursuit_v0.parallel_env` vs `adversarial_pursuit_v4.parallel_env`" in result.stdout
    assert "`AdversarialPursuitCore` (adversarial_pursuit)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 20 | 15 |")]
    assert len(rows) == 4 and rows[2].startswith("| 20 | 15 | off | 3 |")  # 5 predators, 10 prey; two APIs x minimap off / on
    assert "Observation bytes" not in result.stdout  # that table models Battle's views only


def test_battle_speed_float16_rows_say_so_and_count_two_bytes_a_view_value():
    script = BENCHMARKS / "battle_speed.py"
    arguments = ["--no-magent2", "--maps", "20", "--minimap", "", "--api", "batched", "--seconds", "0.1", "--repeats", "1", "--view-dtype", "float16"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "(b) Batched" in result.stdout and "**our views float16** (opt-in, not the float32 headline)" in result.stdout
    assert "views ours float16; features float32" in result.stdout
    # a 13 x 13 x 5 float16 view (2 bytes a value) and 34 float32 features
    assert re.search(r"^\| batched map 20 no minimap, B=1, our views float16 \| 1,826 \| ", result.stdout, re.MULTILINE)


def test_contract_floor_times_the_contract_work_and_our_step():
    script = BENCHMARKS / "pettingzoo_contract_floor.py"
    arguments = ["--maps", "20", "--seconds", "0.1", "--repeats", "1"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("| 20 | 32 |"))
    floor_us, bare_us, step_us = (float(cell) for cell in row.split(" | ")[2:5])
    assert 0 < floor_us < step_us  # the contract's own work is part of the whole step
    assert bare_us > 0


def test_battle_threads_prints_the_layer_and_a_speed_up_per_case():
    script = BENCHMARKS / "battle_threads.py"
    arguments = ["--cases", "20=1,20=2", "--seconds", "0.05", "--repeats", "1", "--mean-actions"]
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^Threading layer: (workqueue|tbb|omp|none started)", result.stdout, re.MULTILINE)
    speed_ups = re.findall(r"^\| 20 \| [12] \| \d+ \| \d+ \| \d+ \| (\d+\.\d+)x \|$", result.stdout, re.MULTILINE)
    assert len(speed_ups) == 2 and all(float(value) > 0 for value in speed_ups)


def test_train_speed_quick_mode_measures_every_trainer():
    script = BENCHMARKS / "train_speed.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "agent-steps/s" not in line]
    assert [row.split(" | ")[0] for row in rows] == ["| MF-Q, self-play (`mfzoo train battle --algo mfq`)",
                                                     "| IL, self-play (`mfzoo train battle --algo il`)",
                                                     "| SB3 PPO, one shared MlpPolicy for all 128 rows"]
    ppo = rows[-1].split(" | ")
    assert ppo[3] == "**1.00x**"
    assert "1 run(s) of 64 environment steps per trainer." in result.stdout


def test_torchrl_battle_speed_quick_mode_times_both_routes():
    script = BENCHMARKS / "torchrl_battle_speed.py"
    result = subprocess.run([sys.executable, str(script), "--quick", "--batches", "2"], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| ") and "workload" not in line]
    assert [row[0] for row in rows] == ["| PettingZooWrapper(battle_v0), 1 battle", "| BattleEnv, B = 2", "| BattleEnv, B = 2, step loop"]
    assert all(row[1] == "agent-steps/s" for row in rows)
    ratios = re.findall(r"^BattleEnv, B = 2(?:, step loop)?: ([0-9.]+)x the wrapper route$", result.stdout, re.MULTILINE)
    assert len(ratios) == 2 and all(float(ratio) > 0 for ratio in ratios)
    assert "20 steps a rollout; 1 sample(s) per workload." in result.stdout


def test_battle_recipe_search_tabulates_every_kept_run_from_its_own_log():
    script = load_script(BENCHMARKS / "battle_recipe_search.py")
    runs = sorted((p for p in script.RUNS.iterdir() if (p / "metrics.csv").is_file()), key=script.run_order)
    assert runs, "results/battle_recipe holds the tuning runs the BENCHMARKS section is built from"
    text = script.report(runs)
    rows = [line for line in text.splitlines() if line.startswith(("| e", "| rep-"))]
    assert [row.split(" | ")[0].strip("| ") for row in rows] == [run.name for run in runs]
    for run, row in zip(runs, rows):
        config = __import__("json").loads((run / "config.json").read_text())
        assert f"--seed {config['seed']}" in row and f"--algo {config['algo']}" in row
        assert re.search(r"\| \d+/\d+ at \d+ \| \d+/\d+ \|$", row), row
