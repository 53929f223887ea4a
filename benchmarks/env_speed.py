"""Environment speed: agent-steps/s through the PettingZoo parallel API, and Metropolis spin updates/s.

Random actions are drawn in bulk from a seeded ``np.random.Generator`` and turned into the action
dict each step, as a vectorised trainer would (``action_space.sample()`` per agent would dominate the
measurement). Episodes are reset when they end, so reset cost is included. The ``core`` rows step the
array core directly (no dicts) to show what the PettingZoo adapter costs.

Run::

    python benchmarks/env_speed.py            # about 30 s
    python benchmarks/env_speed.py --quick    # a few seconds, for a smoke test
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import compare, machine_description, markdown_table  # noqa: E402

from mfenvs import gaussian_squeeze_v0, ising_v0  # noqa: E402
from mfenvs.common.adapter import ArrayParallelEnv  # noqa: E402
from mfenvs.ising import metropolis  # noqa: E402

STEPS_PER_CALL = 20
AGENT_STEP_GOAL = 1e6
SPIN_UPDATE_GOAL = 20e6
METROPOLIS_SIZE = 256
METROPOLIS_SWEEPS = 20
CRITICAL_TEMPERATURE = 2.269


class DictApiLoop:
    """``STEPS_PER_CALL`` parallel-API steps with random actions per call; returns the agent-steps done."""

    def __init__(self, env: ArrayParallelEnv, seed: int):
        self.env = env
        self.rng = np.random.default_rng(seed)
        self.n_actions = int(env.action_space(env.possible_agents[0]).n)
        env.reset(seed=seed)

    def __call__(self) -> float:
        env = self.env
        actions = self.rng.integers(0, self.n_actions, size=(STEPS_PER_CALL, len(env.possible_agents)))
        agent_steps = 0
        for row in actions:
            if not env.agents:
                env.reset()
            agents = env.agents
            env.step(dict(zip(agents, row[: len(agents)].tolist())))
            agent_steps += len(agents)
        return agent_steps


class CoreLoop:
    """The same loop on the array core, bypassing the PettingZoo dicts."""

    def __init__(self, env: ArrayParallelEnv, seed: int):
        self.core = env.core
        self.rng = np.random.default_rng(seed)
        self.n_agents = len(env.possible_agents)
        self.n_actions = int(env.core.action_space.n)
        self.core.reset(seed=seed)

    def __call__(self) -> float:
        actions = self.rng.integers(0, self.n_actions, size=(STEPS_PER_CALL, self.n_agents))
        for row in actions:
            if self.core.step(row).done:
                self.core.reset()
        return STEPS_PER_CALL * self.n_agents


def metropolis_sweeps() -> float:
    """Checkerboard Metropolis sweeps at 256 x 256 near T_c; returns the spin updates done."""
    metropolis(METROPOLIS_SIZE, CRITICAL_TEMPERATURE, METROPOLIS_SWEEPS, seed=0)
    return METROPOLIS_SWEEPS * METROPOLIS_SIZE**2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="interleaved samples per workload")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per sample")
    parser.add_argument("--quick", action="store_true", help="1 sample of 0.1 s each (smoke test)")
    args = parser.parse_args(argv)
    repeats, min_time = (1, 0.1) if args.quick else (args.repeats, args.min_time)

    squeeze = "Gaussian Squeeze N=1000, parallel API"
    ising = "Ising 64x64, parallel API"
    workloads = {
        squeeze: DictApiLoop(gaussian_squeeze_v0.parallel_env(n_agents=1000), seed=0),
        ising: DictApiLoop(ising_v0.parallel_env(size=64), seed=0),
        "Gaussian Squeeze N=1000, core arrays": CoreLoop(gaussian_squeeze_v0.parallel_env(n_agents=1000), seed=0),
        "Ising 64x64, core arrays": CoreLoop(ising_v0.parallel_env(size=64), seed=0),
        "Metropolis 256x256, T=2.269": metropolis_sweeps,
    }
    units = {name: "agent-steps/s" for name in workloads}
    units["Metropolis 256x256, T=2.269"] = "spin updates/s"
    goals = {squeeze: AGENT_STEP_GOAL, ising: AGENT_STEP_GOAL, "Metropolis 256x256, T=2.269": SPIN_UPDATE_GOAL}

    load_before = os.getloadavg()[0]
    results = compare(workloads, repeats=repeats, min_time=min_time)
    command = " ".join(["python", "benchmarks/env_speed.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"Command: `{command}`")
    print(f"Machine: {machine_description()}")
    print(f"{repeats} interleaved samples of >= {min_time} s each; spread = (max - min) / median.")
    print(f"1-minute load average before the run: {load_before:.2f}, after: {os.getloadavg()[0]:.2f}.\n")
    print(markdown_table(results, units, goals))


if __name__ == "__main__":
    main()
