"""Battle rollouts under TorchRL: the native batched ``BattleEnv`` at several B against ``PettingZooWrapper``.

Both routes roll out random actions drawn from the action spec (``env.rollout(..., break_when_any_done=
False)``), with finished battles restarting, on a 16 x 16 map (10 v 10, 100 steps a battle). An
agent-step is one agent slot stepped once (dead agents included, as both routes carry them masked).
Issue 13's goal: the native env at B = 16 >= 10x the wrapper route.

A rollout keeps every step's observations (``[B, steps, 20, 13, 13, 9]`` float32, twice), so at large B
it measures memory traffic as much as the game: the "step loop" rows step the native env the way a
collector does (``step_and_maybe_reset``, nothing kept) to show the env's own rate.

Run::

    python benchmarks/torchrl_battle_speed.py            # about two minutes
    python benchmarks/torchrl_battle_speed.py --quick    # a few seconds, for a smoke test
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch
import torchrl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import compare, machine_description, markdown_table  # noqa: E402
from torchrl.envs import PettingZooWrapper  # noqa: E402

from mfenvs import battle_v0  # noqa: E402
from mfenvs.torchrl_env import BattleEnv  # noqa: E402

BATTLE = {"map_size": 16, "max_cycles": 100}
N_AGENTS = 20


def rollout_workload(env, steps: int):
    """One rollout of ``steps`` steps of every battle of ``env``; returns the agent-steps it did."""
    batch = env.batch_size[0] if env.batch_size else 1

    def run() -> float:
        env.rollout(steps, break_when_any_done=False)
        return steps * batch * N_AGENTS

    return run


def step_loop_workload(env: BattleEnv, steps: int):
    """``steps`` calls of ``step_and_maybe_reset`` with random actions, keeping nothing; returns the agent-steps."""
    state = {"td": env.reset()}

    def run() -> float:
        td = state["td"]
        for _ in range(steps):
            _, td = env.step_and_maybe_reset(env.rand_action(td))
        state["td"] = td
        return steps * env.batch_size[0] * N_AGENTS

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short sample per workload")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 64], help="B of the native env")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="PettingZoo in TorchRL is tested using version")
    steps = 20 if args.quick else 100
    wrapper = PettingZooWrapper(battle_v0.parallel_env(**BATTLE), use_mask=True, done_on_any=False, seed=0)
    workloads = {"PettingZooWrapper(battle_v0), 1 battle": rollout_workload(wrapper, steps)}
    for b in args.batches:
        workloads[f"BattleEnv, B = {b}"] = rollout_workload(BattleEnv(num_envs=b, seed=0, **BATTLE), steps)
    for b in args.batches:
        loop_env = BattleEnv(num_envs=b, seed=0, **BATTLE)
        workloads[f"BattleEnv, B = {b}, step loop"] = step_loop_workload(loop_env, steps)
    results = compare(workloads, repeats=1 if args.quick else 3, min_time=0.1 if args.quick else 2.0)
    print(f"Machine: {machine_description()}; torch {torch.__version__}, torchrl {torchrl.__version__}\n")
    print(markdown_table(results, {name: "agent-steps/s" for name in workloads}))
    wrapper_rate = results[0].rate
    print()
    for result in results[1:]:
        print(f"{result.name}: {result.rate / wrapper_rate:.1f}x the wrapper route")
    print(f"\n{steps} steps a rollout; {1 if args.quick else 3} sample(s) per workload.")


if __name__ == "__main__":
    main()
