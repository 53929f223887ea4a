"""``mfzoo bench``: environment throughput (PettingZoo API and Battle's batched core), optionally beside MAgent2."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from mfagents.commands.errors import UsageError
from mfagents.commands.shared import Summary
from mfenvs.registration import find

# == bench =========================================================================================
BENCH_BATTLES = 8
"""Battles per ``BattleCore.step`` in the batched-core row of ``mfzoo bench``."""


BENCH_MAGENT2_MAP = 40
"""Map of the side-by-side Battle rows of ``mfzoo bench --magent2`` (64 v 64, as our default); the other games
use the first of their maps in ``benchmarks/battle_speed.py``."""


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
        help="also time MAgent2's own version of each MAgent2 game asked for (battle, battlefield, combined_arms, "
        "tiger_deer...) beside ours, through benchmarks/battle_speed.py (a source checkout; it makes a virtualenv "
        "with magent2 in ~/.cache/mfzoo/venv-magent2 on first use) (default: ours only)",
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
    limits = np.array([env.action_space(agent).n for agent in env.possible_agents])
    n_actions = int(limits[0]) if (limits == limits[0]).all() else None  # per agent where groups differ (combined arms)
    slot_of = {agent: slot for slot, agent in enumerate(env.possible_agents)}
    env.reset(seed=seed)

    def step() -> tuple[int, int]:
        if not env.agents:
            env.reset()
        agents = env.agents
        if n_actions is not None:
            actions = rng.integers(0, n_actions, len(agents))
        else:
            actions = rng.integers(0, limits[[slot_of[agent] for agent in agents]])
        env.step(dict(zip(agents, actions.tolist())))
        return len(agents), 1

    return step


def grid_engine(env: Any) -> Any | None:
    """The batched gridworld core behind a PettingZoo env of ours (``BattleCore``, ``TigerDeerCore``...), or None."""
    from mfenvs.gridworld import GridCore

    engine = getattr(getattr(env.unwrapped, "core", None), "engine", None)
    return engine if isinstance(engine, GridCore) else None


def battle_core_stepper(env: Any, n_battles: int, seed: int) -> Callable[[], tuple[int, int]]:
    """One step of ``n_battles`` games of ``env``'s batched gridworld core (``BattleCore`` for Battle, the
    game's own core for the others) per call, uniform random actions of each agent's own set (gather's food:
    its one, stay); finished games restart in place. The agent-steps count the agents that act (not gather's food)."""
    engine = grid_engine(env)
    if engine is None:
        raise ValueError(f"{type(env.unwrapped).__name__} has no batched gridworld core")
    core = type(engine)(env.unwrapped.core.config, n_battles=n_battles)
    alive = core.reset(seed=seed).alive
    rng = np.random.default_rng(seed)
    limits = core.tables.n_actions[core.tables.slot_type]
    n_actions = int(limits[0]) if (limits == limits[0]).all() else limits
    acts = core.game.acting_slots

    def step() -> tuple[int, int]:
        nonlocal alive
        acting = int(alive.sum()) if len(acts) == core.n_agents else int(alive[:, acts].sum())
        out = core.step(rng.integers(0, n_actions, size=(n_battles, core.n_agents)))
        alive = out.alive
        if out.done.any():
            core.reset_battles(out.done)
            alive = out.alive | out.done[:, None]  # restarted battles are at full strength
        return acting, n_battles

    return step


def load_speed_script() -> Any:
    """``benchmarks/battle_speed.py`` as a module: its workers time us and MAgent2, each in its own process."""
    from importlib.util import module_from_spec, spec_from_file_location

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "battle_speed.py"
    if not script.is_file():
        raise UsageError(f"--magent2 needs {script} (run mfzoo from a source checkout of mfzoo)")
    spec = spec_from_file_location("battle_speed", script)
    battle_speed = sys.modules["battle_speed"] = module_from_spec(spec)  # its dataclasses look themselves up there
    spec.loader.exec_module(battle_speed)
    return battle_speed


def magent2_rows(battle_speed: Any, games: list[str], seconds: float, seed: int) -> list[BenchRow]:
    """Each game beside MAgent2's on one map (Battle: ``BENCH_MAGENT2_MAP``; the others: the first of their
    benchmark maps), each side in its own process, by ``benchmarks/battle_speed.py``'s workers."""
    try:
        pythons = {"ours": sys.executable, "magent2": battle_speed.ensure_magent2(battle_speed.DEFAULT_VENV)}
    except RuntimeError as error:
        raise UsageError(str(error)) from None
    rows = []
    for game in games:
        map_size = BENCH_MAGENT2_MAP if game == "battle" else battle_speed.GAME_DEFAULTS[game]["maps"][0]
        names = {"ours": f"{game}_v0", "magent2": f"MAgent2 {battle_speed.MAGENT2_GAMES[game]}"}
        for api, batch in (("parallel", 1), ("batched", BENCH_BATTLES)):
            case = battle_speed.Case(api, map_size, minimap=False, batch=batch, game=game)
            for side in ("ours", "magent2"):
                result = battle_speed.run_worker(pythons[side], side, case, seconds, seed)
                workload = "PettingZoo parallel API" if api == "parallel" else f"batched core, B={batch}"
                if side == "magent2" and api == "batched":
                    workload = "engine group API, 1 game"
                seconds_taken = result["seconds"]
                rows.append(BenchRow(
                    f"{names[side]} (side by side)", f"{workload}, map {map_size}, no minimap",
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
    compared = []
    if args.magent2:
        battle_speed = load_speed_script()
        compared = [entry.short_name for entry in entries if entry.short_name in battle_speed.MAGENT2_GAMES]
        if not compared:
            raise UsageError(f"--magent2 compares MAgent2's games: add one of {', '.join(battle_speed.MAGENT2_GAMES)}")

    rows = []
    for entry in entries:
        env = import_module(entry.module).parallel_env()
        n_agents = len(env.possible_agents)
        print(f"timing {entry.env_id} ({n_agents} agents) for {args.seconds:g} s per workload...", flush=True)
        rates = time_steps(parallel_api_stepper(env, args.seed), args.seconds)
        rows.append(BenchRow(entry.short_name, "PettingZoo parallel API", n_agents, *rates))
        if grid_engine(env) is not None:
            rates = time_steps(battle_core_stepper(env, BENCH_BATTLES, args.seed), args.seconds)
            rows.append(BenchRow(entry.short_name, f"batched core, B={BENCH_BATTLES}", n_agents, *rates))
    if compared:
        rows += magent2_rows(battle_speed, compared, args.seconds, args.seed)

    print("\n| env | workload | agents | agent-steps/s | env-steps/s |\n|---|---|---|---|---|")
    for row in rows:
        rates = f"{row.agent_steps_per_s:,.0f} | {row.env_steps_per_s:,.1f}"
        print(f"| {row.env} | {row.workload} | {row.agents} | {rates} |")
    print("Uniform random actions; an agent-step is one agent acting in one step; episodes restart when they end.")
    return {"command": "bench", "seconds": args.seconds, "seed": args.seed, "results": [asdict(row) for row in rows]}
