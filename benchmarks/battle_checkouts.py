"""Battle's step in two checkouts of this repository, side by side: CPU microseconds per agent-step.

For a refactor that must not change Battle's speed (issue 25: Battle became a game of the gridworld
engine), wall-clock rates on a shared 2-core machine move by 30 % from one run to the next; the CPU
time of the stepping thread moves far less. Each measurement runs in its own process with one kernel
thread, stepping ``BattleCore`` on random actions (no restarts) in blocks of 20 steps, and keeps the
best block (the one least disturbed by other work). Checkouts alternate, ``--repeats`` times.

Kernels: ``serial`` (what a step below ``PARALLEL_MIN_WORK`` agents runs) or ``parallel`` (the
``prange`` compilation, here on one thread: the same work a 2-thread step splits).

Run::

    git worktree add /tmp/base main   # or: git archive main | tar -x -C /tmp/base
    python benchmarks/battle_checkouts.py /tmp/base .
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CASES = ((45, True, 16), (45, False, 16), (80, True, 4), (80, False, 4))
"""(map, minimap, battles per step)."""

WORKER = r"""
import contextlib, json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import numba
from mfenvs.battle import BattleConfig, BattleCore
from mfenvs.common import jit
numba.set_num_threads(1)
if sys.argv[2] == "parallel":
    @contextlib.contextmanager
    def forced(count=None, work=0):
        with jit.KERNEL_LOCK:
            previous, jit._mode.parallel = jit._mode.parallel, True
            try:
                yield
            finally:
                jit._mode.parallel = previous
    jit.threads = forced
map_size, minimap, n_battles, blocks = int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5]), int(sys.argv[6])
core = BattleCore(BattleConfig(map_size=map_size, minimap_mode=minimap, max_cycles=10**6, random_sides=False), n_battles, threads=1)
rng = np.random.default_rng(0)
actions = rng.integers(0, 21, size=(blocks * 20, n_battles, core.n_agents))
core.reset(seed=0)
for a in actions[:5]:
    core.step(a)  # compile (or load the cache)
core.reset(seed=0)
zeros = (np.zeros((n_battles, core.n_agents), np.float32), np.zeros((n_battles, core.n_agents), bool), np.zeros(n_battles, bool))
best_step = best_views = float("inf")
for block in range(blocks):
    start = time.thread_time()
    for a in actions[block * 20 : (block + 1) * 20]:
        core.step(a)
    middle = time.thread_time()
    for _ in range(10):
        core._output(*zeros)
    end = time.thread_time()
    best_step, best_views = min(best_step, (middle - start) / 20), min(best_views, (end - middle) / 10)
per = 1e6 / (n_battles * core.n_agents)
print(json.dumps({"step": best_step * per, "views": best_views * per}))
"""


def measure(checkout: Path, kernels: str, case: tuple[int, bool, int], blocks: int) -> dict[str, float]:
    map_size, minimap, n_battles = case
    command = [sys.executable, "-c", WORKER, str(checkout), kernels, str(map_size), str(int(minimap)), str(n_battles), str(blocks)]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(checkout)}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="the checkout to compare against (e.g. main)")
    parser.add_argument("new", type=Path, help="the checkout under test")
    parser.add_argument("--kernels", default="serial,parallel", help="serial,parallel (default both)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=40, help="blocks of 20 steps per measurement (default 40)")
    args = parser.parse_args()
    print("| kernels | map | minimap | B | base step us | new step us | new / base | base views us | new views us | new / base |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kernels in args.kernels.split(","):
        for case in CASES:
            runs: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
            for repeat in range(args.repeats):
                order = ("base", "new") if repeat % 2 == 0 else ("new", "base")
                for side in order:
                    runs[side].append(measure(getattr(args, side), kernels, case, args.blocks))
            best = {side: {key: min(run[key] for run in runs[side]) for key in ("step", "views")} for side in runs}
            map_size, minimap, n_battles = case
            print(
                f"| {kernels} | {map_size} | {'on' if minimap else 'off'} | {n_battles} | {best['base']['step']:.3f} | "
                f"{best['new']['step']:.3f} | {best['new']['step'] / best['base']['step']:.2f} | {best['base']['views']:.3f} | "
                f"{best['new']['views']:.3f} | {best['new']['views'] / best['base']['views']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
