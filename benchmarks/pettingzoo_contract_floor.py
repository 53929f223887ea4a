"""The least Python work any engine must do per step to meet PettingZoo's parallel contract, beside our full step.

The parallel API returns five dicts keyed by agent name (observations, rewards, terminations,
truncations, infos, each agent with its own info dict) and reads one dict of actions. This script
times exactly that work on arrays that are already computed (the rows as views, the scalars as
Python numbers, an info dict per agent holding the same entries as ``battle_v0``'s; and again with
empty info dicts, as MAgent2 returns them), in the same process and alternating with
``battle_v0.parallel_env``'s whole step, so the share of our step that no engine can avoid is
measured side by side. MAgent2's step time for the same map is in
``battle_speed.py``'s table; an engine 3x faster than MAgent2 through this API needs its whole step
below a third of MAgent2's, and this floor says whether that is possible at all.

Run::

    python benchmarks/pettingzoo_contract_floor.py                 # maps 45, 80, 250, minimap off
    python benchmarks/pettingzoo_contract_floor.py --maps 45 --seconds 0.2 --repeats 1   # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import machine_description  # noqa: E402

from mfenvs import battle_v0  # noqa: E402


def contract_work(env, bare: bool = False) -> Callable[[], None]:
    """One step's contract work for ``env``'s current agents, on arrays computed once, beforehand.

    ``bare``: empty info dicts (as MAgent2 returns), the least any engine must build; otherwise each
    agent's info holds what ``battle_v0``'s does (the scoreboard and the mean action).
    """
    names = list(env.agents)
    n = len(names)
    observation_shape = env.observation_space(names[0]).shape
    observations = np.zeros((n, *observation_shape), dtype=np.float32)
    mean_actions = np.zeros((n, 21), dtype=np.float32)
    rewards = np.zeros(n, dtype=np.float32)
    terminated = np.zeros(n, dtype=bool)
    _, infos = env.reset(seed=0)
    shared = {key: value for key, value in infos[names[0]].items() if key != "mean_action"}
    rng = np.random.default_rng(0)
    actions = dict(zip(names, rng.integers(0, 21, n).tolist()))

    def step() -> None:
        np.asarray([actions[name] for name in names])  # read the action dict
        dict(zip(names, list(observations)))
        dict(zip(names, rewards.tolist()))
        dict(zip(names, terminated.tolist()))
        dict.fromkeys(names, False)
        if bare:
            dict(zip(names, [{} for _ in names]))
        else:
            dict(zip(names, [dict(shared, mean_action=row) for row in list(mean_actions)]))

    return step


def whole_step(env, seed: int) -> Callable[[], int]:
    """One step of ``env`` with random actions (a reset when the battle ends); returns the agents that acted."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)

    def step() -> int:
        if not env.agents:
            env.reset()
        agents = env.agents
        env.step(dict(zip(agents, rng.integers(0, 21, len(agents)).tolist())))
        return len(agents)

    return step


def time_per_agent(function: Callable[[], object], n_agents: int | None, seconds: float) -> float:
    """Mean seconds per agent-step of ``function`` over about ``seconds``: it serves ``n_agents`` agents
    per call, or returns how many it served (the battle's agents die as it goes)."""
    function()
    served, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        count = function()
        served += n_agents if n_agents is not None else count
    return elapsed / served


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", default="45,80,250", help="map sizes (default 45,80,250)")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per measurement (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating measurements per side (default 3)")
    args = parser.parse_args(argv)
    maps = [int(size) for size in args.maps.split(",")]
    print(f"Command: `python benchmarks/pettingzoo_contract_floor.py {' '.join(argv or sys.argv[1:])}`  ")
    print(f"Machine: {machine_description()}; minimap off, float32 views; median of {args.repeats} alternating runs\n")
    print(
        "| map | agents | contract work us / agent-step | the same with empty infos | our whole step us / agent-step "
        "| contract share of our step | contract us / step of all agents |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in maps:
        env = battle_v0.parallel_env(map_size=size, minimap_mode=False, max_cycles=10**7)
        env.reset(seed=0)
        n_agents = len(env.agents)
        floor, bare = contract_work(env), contract_work(env, bare=True)
        ours = whole_step(battle_v0.parallel_env(map_size=size, minimap_mode=False, max_cycles=10**7), 0)
        floors, bares, steps = [], [], []
        for _ in range(args.repeats):
            floors.append(time_per_agent(floor, n_agents, args.seconds))
            bares.append(time_per_agent(bare, n_agents, args.seconds))
            steps.append(time_per_agent(ours, None, args.seconds))
        floor_us, bare_us, step_us = (statistics.median(times) * 1e6 for times in (floors, bares, steps))
        print(
            f"| {size} | {n_agents} | {floor_us:.2f} | {bare_us:.2f} | {step_us:.2f} | {floor_us / step_us:.0%} "
            f"| {floor_us * n_agents:.0f} |"
        )


if __name__ == "__main__":
    main()
