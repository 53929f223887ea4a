"""The ``mfzoo`` command line: ``mfzoo <command> [options]``.

Every command prints what it does in plain lines and ends with one JSON line summarising the result,
so scripts can read the last line (``json.loads(output.splitlines()[-1])``).

Commands:
    demo: train a small MF-Q team on Battle, evaluate, record and plot it (``mfagents.commands.demo``).
    train: train a learner (MF-Q, IL, MF-AC, AC, tabular MF-Q) through SuperSuit; logs, checkpoints, resume.
    eval: play rounds between policy SPECs (trained runs, ``random``, ``scripted``, ``module:callable``).
    bench: environment throughput (PettingZoo API and Battle's batched core), optionally beside MAgent2.
    watch: play policies in a window, or record an episode to MP4 / GIF (``mfagents.commands.watch``).
    arena: every pair of Battle policies on both sides; win rates, Elo ratings, heat map (``mfagents.evaluation.arena``).
    sweep: one training run per combination of algorithms, seeds and settings, on Ray (``mfagents.experiments.sweep``).
    reproduce: one of the paper's experiments: runs, tables, plots, REPRODUCTION.md (``mfagents.experiments.reproduce``).

Each command is a pair of small functions in ``COMMANDS``: one adds its arguments to an argparse
sub-parser, the other runs it and returns the JSON summary. New commands (train, eval, watch, arena)
are added to that table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from mfagents.commands import demo, watch
from mfagents.evaluation import arena
from mfagents.commands.errors import UsageError
from mfenvs.registration import find

Summary = dict[str, Any]


def use_dummy_video_driver_when_headless() -> None:
    """Let pygame run without a screen: default ``SDL_VIDEODRIVER`` to ``dummy`` when no display is set.

    Only X11 / Wayland systems announce their display in the environment; macOS and Windows always
    have one (so ``mfzoo watch`` can open its window there).
    """
    x11_or_wayland = not sys.platform.startswith(("darwin", "win32", "cygwin"))
    if x11_or_wayland and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def user_cache_dir() -> Path:
    """mfzoo's folder in the user's cache: ``$XDG_CACHE_HOME/mfzoo`` or ``~/.cache/mfzoo`` (as Numba's cache)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mfzoo"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "mfzoo" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mfzoo"


def keep_torch_caches_out_of_tmp() -> None:
    """Point torch's compiler cache at the user's cache folder unless the user chose one.

    Building the first optimiser imports ``torch._dynamo``, which makes ``$TMPDIR/torchinductor_$USER``
    (torch 2.13), so every ``mfzoo train`` left a folder in ``/tmp`` (issue 14).
    """
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(user_cache_dir() / "torchinductor"))


def _format_kwargs(kwargs: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{key}={value}" for key, value in kwargs.items()) + ")"


# == train / eval ===================================================================================
def add_env_kwarg_argument(parser: argparse.ArgumentParser, reads_runs: bool = True) -> None:
    remembered = " and the settings of the runs played (their config.json)" if reads_runs else ""
    parser.add_argument(
        "--env-kwarg", action="append", default=[], metavar="KEY=VALUE",
        help="environment argument (repeatable), a Python literal or a bare string, e.g. map_size=40 "
        f"mean_action_radius=None (default: the training defaults{remembered})",
    )  # fmt: skip
    if reads_runs:
        parser.add_argument(
            "--override-run-settings", action="store_true",
            help="let --env-kwarg values differ from the settings a run was trained with, e.g. a larger map "
            "(default: such a difference is an error)",
        )  # fmt: skip


def add_device_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--device", default="cpu", help=f"torch device of {what}: cpu, cuda, cuda:N, mps (default: cpu; checked first)")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo train``."""
    from mfagents.commands.helptext import per_env, spec_forms

    parser.add_argument("env", help="environment short name or id: battle, ising, gaussian_squeeze")
    parser.add_argument(
        "--algo", default=None,
        help="learner: mfq, il, mfac, ac, or tabular_mfq (ising only) (default: mfq; with --resume the run's)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="seed of the learners, opponents and environments (default: 0; with --resume the run's)")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/ENV-ALGO-sSEED)")
    parser.add_argument(
        "--preset", default=None, choices=("default", "paper"),
        help="table of defaults: default (fits a 2-core machine: Battle 250 rounds, ~1 hour a core) or paper "
        "(the paper's Battle budget: 2000 rounds, Adam 1e-4) (default: default; with --resume the run's)",
    )  # fmt: skip
    add_env_kwarg_argument(parser, reads_runs=False)
    parser.add_argument(
        "--algo-kwarg", action="append", default=[], metavar="KEY=VALUE",
        help="learner config field (repeatable), e.g. learning_rate=3e-4 (see MFQConfig, MFACConfig...; "
        "default: mfagents.training.config.TRAINING_DEFAULTS)",
    )  # fmt: skip
    parser.add_argument(
        "--opponent", default=None, metavar="SPEC",
        help="battle's blue team: self (self-play: a frozen copy of the learner, the default), train:ALGO "
        f"(a second learner), or a policy {spec_forms()}",
    )  # fmt: skip
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps", type=int, default=None,
        help="budget in environment steps, summed over copies, a multiple of --n-envs (default: a budget in --rounds)",
    )  # fmt: skip
    budget.add_argument(
        "--rounds", type=int, default=None,
        help=f"budget in finished rounds (episodes), summed over copies (default: {per_env('rounds')}; "
        "with --resume the run's)",
    )  # fmt: skip
    parser.add_argument("--n-envs", type=int, default=None, help=f"environment copies stepped together (default: {per_env('n_envs')})")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the run in --out from its last checkpoint; options left out are read from its config.json "
        "(default: start a new run)",
    )  # fmt: skip
    parser.add_argument(
        "--log-every", type=int, default=None, metavar="ROUNDS",
        help=f"rounds between log rows (default: {per_env('log_every_rounds')})",
    )  # fmt: skip
    parser.add_argument(
        "--checkpoint-every", type=int, default=None, metavar="ROUNDS",
        help=f"rounds between checkpoints, and one at the end (default: {per_env('checkpoint_every_rounds')})",
    )  # fmt: skip
    add_device_argument(parser, "the learners")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default: 1, fastest for these networks)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar (default: shown)")
    parser.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard events (default: written to OUT/tb)")


def run_train(args: argparse.Namespace) -> Summary:
    """Train as the options say; print the run's settings, then return the summary."""
    from mfagents.common.checkpoint import CheckpointError
    from mfagents.training.config import DEFAULT_ALGO, RunConfig, parse_key_values, resolve
    from mfagents.training.loop import RunSetupError, train

    try:
        entry = find(args.env)
        algo, seed = args.algo or DEFAULT_ALGO, args.seed if args.seed is not None else 0
        out = args.out if args.out is not None else Path("runs") / f"{entry.short_name}-{algo}-s{seed}"
        config = RunConfig(
            env=entry.env_id,
            algo=args.algo,
            preset=args.preset,
            seed=args.seed,
            out=str(out),
            env_kwargs=parse_key_values(args.env_kwarg, "--env-kwarg"),
            algo_kwargs=parse_key_values(args.algo_kwarg, "--algo-kwarg"),
            opponent=args.opponent,
            steps=args.steps,
            rounds=args.rounds,
            n_envs=args.n_envs,
            device=args.device,
            torch_threads=args.threads,
            log_every_rounds=args.log_every,
            checkpoint_every_rounds=args.checkpoint_every,
            resume=args.resume,
            progress_bar=not args.no_progress,
            tensorboard=not args.no_tensorboard,
        )
        run = resolve(config)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    count, unit = (run.rounds, "round") if run.rounds is not None else (run.steps, "step")
    budget = f"{count} {unit}{'' if count == 1 else 's'}"
    print(f"train: {run.algo} on {run.env_id} {_format_kwargs(run.env_kwargs)}, {run.n_envs} cop{'y' if run.n_envs == 1 else 'ies'}, seed {run.seed}")
    if run.opponent is not None:
        print(f"opponent (blue): {run.opponent}")
    print(f"budget: {budget}; run directory: {run.out}{' (resuming)' if args.resume else ''}", flush=True)
    try:
        summary = train(run, resume=args.resume)
    except (RunSetupError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    if summary.get("budget_met"):
        done = summary["rounds"] if run.rounds is not None else summary["global_step"]
        print(
            f"nothing to do: the run in {run.out} has already played {done} of its {budget}; "
            f"give a larger --{unit}s to continue it"
        )
    return summary


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo eval``."""
    from mfagents.commands.helptext import spec_forms

    parser.add_argument("env", help="environment short name or id: battle, ising, gaussian_squeeze")
    parser.add_argument("--red", default=None, metavar="SPEC", help="battle: policy of the red team (required for battle)")
    parser.add_argument("--blue", default=None, metavar="SPEC", help="battle: policy of the blue team (required for battle)")
    parser.add_argument(
        "--policy", default=None, metavar="SPEC",
        help=f"gaussian_squeeze / ising: policy of every agent (required there). {spec_forms()}",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=10, help="rounds (episodes) to play (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environments and random policies (default: 0)")
    parser.add_argument("--n-envs", type=int, default=None, help="environment copies stepped together (default: min(rounds, 4))")
    add_env_kwarg_argument(parser)
    add_device_argument(parser, "trained policies")


def run_eval(args: argparse.Namespace) -> Summary:
    """Play the rounds, print a results table, and return the results (win rates with 95 % intervals, G / G*, or xi)."""
    from mfagents.api import evaluate
    from mfagents.common.checkpoint import CheckpointError
    from mfagents.training.config import parse_key_values

    try:
        entry = find(args.env)
        env_kwargs = parse_key_values(args.env_kwarg, "--env-kwarg")
        sides = f"red {args.red} vs blue {args.blue}" if args.policy is None else f"policy {args.policy}"
        print(f"eval: {entry.env_id}, {sides}, {args.rounds} rounds, seed {args.seed}", flush=True)
        summary = evaluate(
            entry.env_id, red=args.red, blue=args.blue, policy=args.policy, rounds=args.rounds, seed=args.seed,
            env_kwargs=env_kwargs, n_envs=args.n_envs, device=args.device, override_run_settings=args.override_run_settings,
        )  # fmt: skip
    except (ValueError, TypeError, FileNotFoundError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    print(format_eval_table(summary))
    return summary


def format_eval_table(summary: Summary) -> str:
    """The results of ``mfzoo eval`` as a Markdown table (printed before the JSON line)."""
    rounds = summary["rounds"]
    lines = [f"environment: {summary['env']} {_format_kwargs(summary['env_kwargs'])}"]
    if "red_win_rate" in summary:
        lines += [
            f"\n| side | policy | wins of {rounds} | win rate [95 % CI] | mean kills | mean total reward |",
            "|---|---|---|---|---|---|",
        ]
        for team, key, count in (("red", "red_win_rate", "red_wins"), ("blue", "blue_win_rate", "blue_wins"), ("draw", "draw_rate", "draws")):
            low, high = summary[f"{key}_ci95"]
            rate = f"{summary[key]:.2f} [{low:.2f}, {high:.2f}]"
            if team == "draw":
                lines.append(f"| draws | | {summary[count]} | {rate} | | |")
            else:
                lines.append(
                    f"| {team} | {summary[team]} | {summary[count]} | {rate} | {summary[f'{team}_mean_kills']:.1f} | "
                    f"{summary[f'{team}_mean_total_reward']:.2f} |"
                )
    elif "G_ratio" in summary:
        lines += [
            "\n| policy | rounds | G | G* | G / G* (second half of each round) | G / G* (last step) |",
            "|---|---|---|---|---|---|",
            f"| {summary['all']} | {rounds} | {summary['G']:.2f} | {summary['G_opt']:.2f} | {summary['G_ratio']:.3f} | {summary['G_ratio_last']:.3f} |",
        ]
    elif "xi_late" in summary:
        lines += [
            "\n| policy | rounds | order parameter xi (second half of each round) | xi (last step) |",
            "|---|---|---|---|",
            f"| {summary['all']} | {rounds} | {summary['xi_late']:.3f} | {summary['xi_final']:.3f} |",
        ]
    return "\n".join(lines)


# == bench =========================================================================================
BENCH_BATTLES = 8
"""Battles per ``BattleCore.step`` in the batched-core row of ``mfzoo bench``."""
BENCH_MAGENT2_MAP = 40
"""Map of the side-by-side Battle rows of ``mfzoo bench --magent2`` (64 v 64, as our default)."""


@dataclass(frozen=True)
class BenchRow:
    """One throughput measurement of ``mfzoo bench``."""

    env: str
    workload: str
    agents: int
    """Agents per environment at the start of an episode."""
    agent_steps_per_s: float
    env_steps_per_s: float


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo bench``."""
    parser.add_argument("envs", nargs="*", metavar="ENV", help="environments to time (default: all), e.g. battle ising")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per measurement (default: 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environments and random actions (default: 0)")
    parser.add_argument(
        "--magent2", action="store_true",
        help="also time MAgent2's battle_v4 beside ours, through benchmarks/battle_speed.py (a source checkout; "
        "it makes a virtualenv with magent2 in ~/.cache/mfzoo/venv-magent2 on first use) (default: ours only)",
    )  # fmt: skip


def time_steps(step: Callable[[], tuple[int, int]], seconds: float) -> tuple[float, float]:
    """Call ``step`` (returns the agent-steps and env-steps it did) for ``seconds`` after one warm-up call.

    Returns:
        Agent-steps per second and environment steps per second.
    """
    step()
    agent_steps = env_steps = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        agents, envs = step()
        agent_steps += agents
        env_steps += envs
    return agent_steps / elapsed, env_steps / elapsed


def parallel_api_stepper(env: Any, seed: int) -> Callable[[], tuple[int, int]]:
    """One PettingZoo parallel-API step with uniform random actions per call; a new episode when one ends."""
    rng = np.random.default_rng(seed)
    n_actions = int(env.action_space(env.possible_agents[0]).n)
    env.reset(seed=seed)

    def step() -> tuple[int, int]:
        if not env.agents:
            env.reset()
        agents = env.agents
        env.step(dict(zip(agents, rng.integers(0, n_actions, len(agents)).tolist())))
        return len(agents), 1

    return step


def battle_core_stepper(config: Any, n_battles: int, seed: int) -> Callable[[], tuple[int, int]]:
    """One ``BattleCore.step`` of ``n_battles`` battles per call; finished battles restart in place."""
    from mfenvs.battle import BattleCore

    core = BattleCore(config, n_battles=n_battles)
    alive = core.reset(seed=seed).alive
    rng = np.random.default_rng(seed)

    def step() -> tuple[int, int]:
        nonlocal alive
        acting = int(alive.sum())
        out = core.step(rng.integers(0, 21, size=(n_battles, core.n_agents)))
        alive = out.alive
        if out.done.any():
            core.reset_battles(out.done)
            alive = out.alive | out.done[:, None]  # restarted battles are at full strength
        return acting, n_battles

    return step


def magent2_rows(seconds: float, seed: int) -> list[BenchRow]:
    """Battle beside MAgent2 on one map, each side in its own process, by ``benchmarks/battle_speed.py``'s workers."""
    from importlib.util import module_from_spec, spec_from_file_location

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "battle_speed.py"
    if not script.is_file():
        raise UsageError(f"--magent2 needs {script} (run mfzoo from a source checkout of mfzoo)")
    spec = spec_from_file_location("battle_speed", script)
    battle_speed = sys.modules["battle_speed"] = module_from_spec(spec)  # its dataclasses look themselves up there
    spec.loader.exec_module(battle_speed)
    try:
        pythons = {"ours": sys.executable, "magent2": battle_speed.ensure_magent2(battle_speed.DEFAULT_VENV)}
    except RuntimeError as error:
        raise UsageError(str(error)) from None
    names = {"ours": "battle_v0", "magent2": "MAgent2 battle_v4"}
    rows = []
    for api, batch in (("parallel", 1), ("batched", BENCH_BATTLES)):
        case = battle_speed.Case(api, BENCH_MAGENT2_MAP, minimap=False, batch=batch)
        for side in ("ours", "magent2"):
            result = battle_speed.run_worker(pythons[side], side, case, seconds, seed)
            workload = "PettingZoo parallel API" if api == "parallel" else f"batched core, B={batch}"
            if side == "magent2" and api == "batched":
                workload = "engine group API, 1 battle"
            seconds_taken = result["seconds"]
            rows.append(BenchRow(
                f"{names[side]} (side by side)", f"{workload}, map {BENCH_MAGENT2_MAP}, no minimap",
                int(result["n_agents"]), result["agent_steps"] / seconds_taken, result["env_steps"] / seconds_taken,
            ))  # fmt: skip
    return rows


def run_bench(args: argparse.Namespace) -> Summary:
    """Time every environment asked for (defaults of its ``parallel_env``) and print one table."""
    from mfenvs.registration import ENVIRONMENTS

    try:
        entries = [find(name) for name in args.envs] if args.envs else list(ENVIRONMENTS)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not args.seconds > 0:
        raise UsageError(f"--seconds must be > 0, got {args.seconds}")
    if args.magent2 and "battle" not in {entry.short_name for entry in entries}:
        raise UsageError("--magent2 compares Battle: add battle to the environments")

    rows = []
    for entry in entries:
        env = import_module(entry.module).parallel_env()
        n_agents = len(env.possible_agents)
        print(f"timing {entry.env_id} ({n_agents} agents) for {args.seconds:g} s per workload...", flush=True)
        rates = time_steps(parallel_api_stepper(env, args.seed), args.seconds)
        rows.append(BenchRow(entry.short_name, "PettingZoo parallel API", n_agents, *rates))
        if entry.short_name == "battle":
            rates = time_steps(battle_core_stepper(env.unwrapped.core.config, BENCH_BATTLES, args.seed), args.seconds)
            rows.append(BenchRow(entry.short_name, f"batched core, B={BENCH_BATTLES}", n_agents, *rates))
    if args.magent2:
        rows += magent2_rows(args.seconds, args.seed)

    print("\n| env | workload | agents | agent-steps/s | env-steps/s |\n|---|---|---|---|---|")
    for row in rows:
        rates = f"{row.agent_steps_per_s:,.0f} | {row.env_steps_per_s:,.1f}"
        print(f"| {row.env} | {row.workload} | {row.agents} | {rates} |")
    print("Uniform random actions; an agent-step is one agent acting in one step; episodes restart when they end.")
    return {"command": "bench", "seconds": args.seconds, "seed": args.seed, "results": [asdict(row) for row in rows]}


# == sweep ==========================================================================================
def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mfzoo sweep`` (``mfagents.experiments.sweep``)."""
    from mfagents.commands.helptext import spec_forms

    parser.add_argument("env", help="environment: battle, ising, gaussian_squeeze")
    parser.add_argument("--algo", required=True, help="comma-separated learners, e.g. mfq,il (required)")
    parser.add_argument("--seeds", required=True, help="seeds: a range 0-4, a list 0,2,5, or both 0-2,7 (required)")
    parser.add_argument(
        "--env-kwarg", action="append", default=[], metavar="KEY=V1,V2",
        help="environment argument and its values (repeatable; one run per combination), e.g. n_agents=500,1000 "
        "(default: the training defaults)",
    )  # fmt: skip
    parser.add_argument("--algo-kwarg", action="append", default=[], metavar="KEY=V1,V2", help="learner setting and its values (repeatable; default: the training defaults)")
    parser.add_argument("--rounds", type=int, default=None, help="budget of every run in rounds (default: the environment's)")
    parser.add_argument("--preset", default=None, choices=("default", "paper"), help="table of training defaults (default: default)")
    parser.add_argument(
        "--opponent", default=None, metavar="SPEC",
        help=f"Battle's blue team of every run: self, train:ALGO or a policy SPEC (default: self-play). {spec_forms()}",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="sweep folder: one run directory per run, sweep.csv and sweep.json (required)")
    parser.add_argument("--address", default=None, help="Ray cluster to join, e.g. auto or ray://HOST:10001 (default: a local Ray on this machine)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs reserved per run: CPUs / this = runs at once (default: 1)")


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> ``[0, 1, 2, 3, 4]``, ``"0,2,5"`` -> ``[0, 2, 5]``, ``"0-2,7"`` -> ``[0, 1, 2, 7]``."""
    seeds: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise UsageError(f"--seeds expects non-negative integers and ranges like 0-4 or 0,2,5, got {text!r}") from None
        if low < 0 or high < low:
            raise UsageError(f"--seeds: {part.strip()!r} is not a range of non-negative seeds (low-high, low <= high)")
        seeds += range(low, high + 1)
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds lists a seed twice: {text!r}")
    return seeds


def parse_value_lists(pairs: Sequence[str], what: str) -> dict[str, list[Any]]:
    """``["n_agents=500,1000"]`` -> ``{"n_agents": [500, 1000]}``; values are Python literals or plain strings."""
    import ast

    grid: dict[str, list[Any]] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        key = key.strip()
        if not separator or not key or not text.strip():
            raise UsageError(f"{what} expects KEY=V1,V2,..., got {pair!r}")
        if key in grid:
            raise UsageError(f"{what}: {key!r} given twice")
        try:
            values = ast.literal_eval(f"[{text}]")
        except (ValueError, SyntaxError):
            values = [value.strip() for value in text.split(",")]
        if any(value == "" for value in values):
            raise UsageError(f"{what}: an empty value in {pair!r}")
        grid[key] = values
    return grid


def run_sweep_command(args: argparse.Namespace) -> Summary:
    """``mfzoo sweep``: check every run's settings, train them on Ray, print the table of final metrics."""
    from mfagents.training.config import RunConfig, resolve
    from mfagents.experiments.sweep import SWEEP_CSV, SWEEP_JSON, grid, run_sweep

    algos = [algo.strip() for algo in args.algo.split(",")]
    if not all(algos):
        raise UsageError(f"--algo expects comma-separated learners, got {args.algo!r}")
    if args.cpus_per_run <= 0:
        raise UsageError(f"--cpus-per-run must be > 0, got {args.cpus_per_run}")
    try:
        runs = grid(
            args.env, algos, parse_seeds(args.seeds), parse_value_lists(args.env_kwarg, "--env-kwarg"),
            parse_value_lists(args.algo_kwarg, "--algo-kwarg"), rounds=args.rounds, preset=args.preset, opponent=args.opponent,
        )  # fmt: skip
        for spec in runs:  # every setting checked before anything starts
            resolve(RunConfig(env=spec.env, algo=spec.algo, preset=spec.preset, seed=spec.seed, env_kwargs=spec.env_kwargs,
                              algo_kwargs=spec.algo_kwargs, opponent=spec.opponent, rounds=spec.rounds))  # fmt: skip
        print(f"sweep: {len(runs)} runs of {args.env} into {args.out} ({'Ray at ' + args.address if args.address else 'local Ray'})")
        rows = run_sweep(runs, args.out, address=args.address, cpus_per_run=args.cpus_per_run)
    except (ValueError, ImportError) as error:
        raise UsageError(str(error)) from None
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "skipped", "failed")}
    for row in rows:
        metrics = ", ".join(f"{key} {row[key]:.3g}" for key in ("win_rate", "kills", "G_ratio", "xi_late", "episodic_return") if key in row)
        print(f"{row['status']:>7}  {row['name']}" + (f"  {metrics}" if metrics else "") + (f"  {row['error']}" if row["error"] else ""))
    print(f"{counts['ok']} trained, {counts['skipped']} already finished, {counts['failed']} failed; wrote {args.out / SWEEP_CSV}, {args.out / SWEEP_JSON}")
    return {"command": "sweep", "env": args.env, "out": str(args.out), "runs": len(rows), **counts}


# == reproduce ======================================================================================
def add_reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mfzoo reproduce`` (``mfagents.experiments.reproduce``)."""
    parser.add_argument("experiment", metavar="EXPERIMENT", help="gaussian_squeeze, battle or ising (mfagents.experiments.reproduce.experiments())")
    parser.add_argument("--quick", action="store_true", help="tiny settings that exercise everything in about a minute, learning little (default: the full experiment)")
    parser.add_argument("--preset", default=None, help="table of training defaults (paper: the paper's Battle budget, 2000 rounds; default: default)")
    parser.add_argument("--address", default=None, help="Ray cluster to run on (default: a local Ray on this machine)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs reserved per run: CPUs / this = runs at once (default: 1)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: results/EXPERIMENT, --quick: runs/reproduce/EXPERIMENT-quick)")
    parser.add_argument("--analyse-only", action="store_true", help="analyse the runs OUT/runs holds, train nothing (default: train what is missing first)")
    parser.add_argument(
        "--report", type=Path, default=Path("REPRODUCTION.md"),
        help="Markdown file whose section of this experiment is replaced by the new one (full runs only; default REPRODUCTION.md)",
    )  # fmt: skip


def run_reproduce(args: argparse.Namespace) -> Summary:
    """``mfzoo reproduce``: train the experiment's runs through the sweep, analyse them, print the Markdown section."""
    from mfagents.experiments.reproduce import experiments, reproduce

    if args.experiment not in experiments():
        raise UsageError(f"unknown experiment {args.experiment!r}; choose one of {', '.join(experiments())}")
    if args.cpus_per_run <= 0:
        raise UsageError(f"--cpus-per-run must be > 0, got {args.cpus_per_run}")
    try:
        result = reproduce(
            args.experiment, quick=args.quick, preset=args.preset, address=args.address, out=args.out,
            cpus_per_run=args.cpus_per_run, train=not args.analyse_only, report=args.report,
        )  # fmt: skip
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(result["section"])
    return {"command": "reproduce", **{k: v for k, v in result.items() if k != "section"}}


# == command table and entry point =================================================================
@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, its argument setup and its handler (returns the JSON summary)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Summary]


COMMANDS: dict[str, Command] = {
    "demo": Command("train a small MF-Q team on Battle, evaluate, record and plot it (--quick: under a minute)", demo.add_demo_arguments, demo.run_demo),
    "train": Command("train a learner through SuperSuit (logs, checkpoints, --resume)", add_train_arguments, run_train),
    "eval": Command("play rounds between policies and report win rates, G / G* or xi", add_eval_arguments, run_eval),
    "bench": Command("time the environments (agent-steps/s, env-steps/s), optionally beside MAgent2", add_bench_arguments, run_bench),
    "watch": Command("play policies in a window, or record an episode with --record FILE.mp4|.gif", watch.add_watch_arguments, watch.run_watch),
    "arena": Command("every pair of Battle policies on both sides: win rates, Elo, heat map", arena.add_arena_arguments, arena.run_arena_command),
    "sweep": Command("one training run per combination of algorithms, seeds and settings, on Ray (resumable)", add_sweep_arguments, run_sweep_command),
    "reproduce": Command("reproduce one of the paper's experiments: runs, CSVs, plots, REPRODUCTION.md section (--quick: ~1 minute)", add_reproduce_arguments, run_reproduce),
}


def package_version() -> str:
    """The installed ``mfzoo`` version (``unknown`` when run from a source tree that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mfzoo")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``mfzoo`` parser with one sub-parser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="mfzoo", description="Mean Field Zoo: many-agent environments and mean-field RL agents.",
        epilog="mfzoo COMMAND --help shows a command's options and their defaults.",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"mfzoo {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mfzoo`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Bad arguments exit with status 2 and a message on stderr, as argparse does; no command prints the
    help; Ctrl-C ends with one line and status 130 (a training run continues with ``--resume``).
    """
    use_dummy_video_driver_when_headless()
    keep_torch_caches_out_of_tmp()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        summary = COMMANDS[args.command].run(args)
    except UsageError as error:
        parser.exit(2, f"mfzoo {args.command}: error: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"\nmfzoo {args.command}: interrupted\n")
    print(json.dumps(summary, default=_json_default))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the JSON summary")


if __name__ == "__main__":
    sys.exit(main())
