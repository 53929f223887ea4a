"""Where the second core pays: ``BattleCore.step`` on 1 thread against N threads with the parallel kernels forced on.

``mfenvs.common.jit.PARALLEL_MIN_WORK`` keeps steps of fewer agents (all battles together) on one thread,
because starting a parallel region costs more than it saves on small work. How much it costs depends
on Numba's threading layer (``workqueue`` on a plain install; ``tbb`` when the ``tbb`` package is
installed where Numba finds it), so this script prints the layer beside the speed-up of each case; the
threshold should sit where the speed-up passes 1. Each measurement is the best of ``--repeats``
alternating runs of ``--seconds``, in one process.

Run::

    python benchmarks/battle_threads.py                       # maps 45 (B = 1, 4, 8, 16), 80 (1, 2, 4), 250 (1)
    python benchmarks/battle_threads.py --mean-actions        # also read the mean actions every step
    python benchmarks/battle_threads.py --cases 20=1 --seconds 0.1 --repeats 1   # smoke test
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from mfenvs.battle.config import BattleConfig
from mfenvs.battle.core import BattleCore
from mfenvs.common import jit

DEFAULT_CASES = "45=1,45=4,45=8,45=16,80=1,80=2,80=4,250=1"


def seconds_per_step(map_size: int, n_battles: int, threads: int, seconds: float, mean_actions: bool) -> float:
    """Mean seconds per ``BattleCore.step`` of random play (plus reading the mean actions if asked)."""
    core = BattleCore(BattleConfig(map_size=map_size, max_cycles=10**7), n_battles=n_battles, threads=threads)
    core.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 21, size=(64, n_battles, core.n_agents))
    for step in range(5):  # warm up (and compile, the first time)
        output = core.step(actions[step])
        if mean_actions:
            output.mean_actions
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        output = core.step(actions[steps % len(actions)])
        if mean_actions:
            output.mean_actions
        steps += 1
    return elapsed / steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help=f"MAP=B pairs (default {DEFAULT_CASES})")
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS, help="threads of the parallel runs (default all)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per measurement (default 1)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating measurements per side (default 2)")
    parser.add_argument("--mean-actions", action="store_true", help="read the mean actions every step")
    args = parser.parse_args(argv)
    cases = [tuple(int(part) for part in case.split("=")) for case in args.cases.split(",")]
    threshold = jit.PARALLEL_MIN_WORK
    rows = []
    for map_size, n_battles in cases:
        serial, parallel = [], []
        for _ in range(args.repeats):
            jit.PARALLEL_MIN_WORK = threshold
            serial.append(seconds_per_step(map_size, n_battles, 1, args.seconds, args.mean_actions))
            jit.PARALLEL_MIN_WORK = 0  # parallel kernels whatever the size
            parallel.append(seconds_per_step(map_size, n_battles, args.threads, args.seconds, args.mean_actions))
        jit.PARALLEL_MIN_WORK = threshold
        agents = n_battles * BattleConfig(map_size=map_size).n_agents
        rows.append(f"| {map_size} | {n_battles} | {agents} | {min(serial) * 1e6:.0f} | {min(parallel) * 1e6:.0f} | {min(serial) / min(parallel):.2f}x |")
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel region ran (one thread)
        layer = "none started"
    print(f"Threading layer: {layer}; parallel runs on {args.threads} threads; mean actions read: {args.mean_actions}; "
          f"PARALLEL_MIN_WORK = {threshold}\n")  # fmt: skip
    print(f"| map | B | agents | us / step, 1 thread | us / step, {args.threads} threads | speed-up |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
