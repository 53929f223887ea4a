"""The Numba kernels (issue 11): same numbers on any number of threads, fork-safe, compiled on first use only."""

from __future__ import annotations

import multiprocessing
import os
import platform
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from mfenvs.battle import BattleConfig, BattleCore
from mfenvs.common import jit
from tests.mfenvs.battle.golden_cases import FIXTURE, PACKED, run
from tests.mfenvs.battle.test_golden import assert_replays

THREAD_COUNTS = sorted({1, numba.config.NUMBA_NUM_THREADS})


@pytest.fixture
def parallel_everywhere(monkeypatch):
    """Run the parallel compilation of every kernel however small the step (normally serial below 4096 agents)."""
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)


@pytest.mark.parametrize("threads", THREAD_COUNTS)
@pytest.mark.parametrize("name", ["core_walls_minimap_radius", "core_packed_global_no_minimap", "env_absorb_no_minimap_radius3"])
def test_golden_trajectories_on_any_number_of_threads(parallel_everywhere, threads, name):
    with np.load(FIXTURE) as data:
        expected = {key.split("/")[1]: data[key] for key in data.files if key.startswith(f"{name}/")}
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        assert_replays(expected, run(name, actions=expected["actions"]))
    finally:
        numba.set_num_threads(previous)


def play(threads: int | None, steps: int = 30) -> list[np.ndarray]:
    """A few steps of 3 packed battles; every output array of every step."""
    config = BattleConfig(map_size=12, positions=PACKED, max_cycles=steps)
    core = BattleCore(config, n_battles=3, threads=threads)
    rng = np.random.default_rng(5)
    out = core.reset(seed=3)
    arrays = []
    for _ in range(steps):
        out = core.step(rng.integers(0, 21, size=(3, config.n_agents)))
        arrays += [out.views, out.features, out.rewards, out.terminated, out.mean_actions, core.action_masks()]
    return arrays


def test_threads_option_gives_the_same_numbers(parallel_everywhere):
    reference = play(threads=1)
    for threads in THREAD_COUNTS:
        assert all(np.array_equal(a, b) for a, b in zip(play(threads), reference))


def test_threads_option_is_checked():
    config = BattleConfig(map_size=12, team_size=4)
    with pytest.raises(ValueError, match="threads"):
        BattleCore(config, threads=0)
    with pytest.raises(ValueError, match="threads"):
        BattleCore(config, threads=numba.config.NUMBA_NUM_THREADS + 1)
    with pytest.raises(TypeError, match="threads"):
        BattleCore(config, threads=True)


def _play_in_child(queue) -> None:
    jit.PARALLEL_MIN_WORK = 0
    queue.put(play(threads=None, steps=5))


def test_a_process_forked_after_the_parallel_kernels_ran_works(parallel_everywhere):
    """Numba's OpenMP layer aborts such a child; the layer chosen by ``mfenvs.common.jit`` must not."""
    expected = play(threads=None, steps=5)  # the parallel kernels have run in this process
    assert numba.threading_layer() != "omp"
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_play_in_child, args=(queue,))
    child.start()
    try:
        result = queue.get(timeout=300)
    finally:
        child.join(timeout=60)
    assert child.exitcode == 0
    assert all(np.array_equal(a, b) for a, b in zip(result, expected))


def test_supersuit_multiprocessing_vec_env_after_the_kernels_ran(parallel_everywhere):
    """SuperSuit's multiprocessing vector env forks workers that step Battle on the kernels."""
    import supersuit

    from mfenvs import battle_v0

    play(threads=None, steps=2)
    env = battle_v0.parallel_env(map_size=12, team_size=4, dead_agents="absorb", max_cycles=20)
    vec = supersuit.concat_vec_envs_v1(supersuit.pettingzoo_env_to_vec_env_v1(env), 2, num_cpus=2, base_class="gymnasium")
    try:
        observations, _ = vec.reset(seed=0)
        for _ in range(25):
            observations, rewards, *_ = vec.step(np.full(len(observations), 6))
        assert observations.shape == (16, 13, 13, 9) and np.isfinite(rewards).all()
    finally:
        vec.close()


TBB_IS_A_DEPENDENCY = sys.platform.startswith("linux") and platform.machine() == "x86_64"


@pytest.mark.skipif(not TBB_IS_A_DEPENDENCY, reason="the tbb wheel is a dependency on Linux x86-64 only")
@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="one core: no parallel region starts")
@pytest.mark.skipif(os.environ.get("NUMBA_THREADING_LAYER", "forksafe") in ("workqueue", "omp"), reason="a layer without TBB was asked for")
def test_the_tbb_wheel_runs_the_parallel_kernels(monkeypatch):
    """pip's libtbb is outside the loader's path: ``jit.load_tbb`` must make it Numba's threading layer."""
    assert jit.TBB and jit.PARALLEL_MIN_WORK == 512
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    play(threads=None, steps=2)
    assert numba.threading_layer() == "tbb"


@pytest.mark.parametrize("layer", ["workqueue", "forksafe"])
def test_each_fork_safe_layer_gives_the_same_numbers_and_survives_a_fork(layer):
    """The layer every platform can fall back to (workqueue) and the default, each in a fresh process:
    the parallel kernels on all threads equal one thread, and a child forked after them steps Battle."""
    script = textwrap.dedent(
        """
        import multiprocessing, numpy as np, numba
        from mfenvs.common import jit
        from tests.mfenvs.battle.test_kernels import play
        jit.PARALLEL_MIN_WORK = 0
        one, every = play(threads=1, steps=5), play(threads=None, steps=5)
        assert all(np.array_equal(a, b) for a, b in zip(one, every))
        def child(queue):
            queue.put(play(threads=None, steps=5))
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        process = context.Process(target=child, args=(queue,))
        process.start()
        forked = queue.get(timeout=300)
        process.join(timeout=60)
        assert process.exitcode == 0 and all(np.array_equal(a, b) for a, b in zip(forked, every))
        layer = numba.threading_layer() if numba.config.NUMBA_NUM_THREADS > 1 else "none"
        print(layer, jit.PARALLEL_MIN_WORK)
        """
    )
    environment = {**os.environ, "NUMBA_THREADING_LAYER": layer}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    used = result.stdout.split()[0]
    if layer == "workqueue":
        assert used in ("workqueue", "none")
    else:
        assert used in ("tbb", "workqueue", "none") and (used != "workqueue" or not TBB_IS_A_DEPENDENCY)


def loaded_after(statement: str) -> str:
    code = f"import sys; {statement}"
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_import_mfenvs_loads_no_numba():
    statement = (
        "import mfenvs, pettingzoo, mfenvs.ising_v0, mfenvs.gaussian_squeeze_v0; "
        "pettingzoo.make('parallel', 'mfenvs/ising-v0', size=4).reset(seed=0); "
        "pettingzoo.make('parallel', 'mfenvs/gaussian_squeeze-v0').reset(seed=0); "
        "print('numba' in sys.modules)"
    )
    assert loaded_after(statement).strip() == "False"


def test_importing_battle_compiles_nothing():
    statement = (
        "import mfenvs.battle_v0, mfenvs.battle.rules as r, mfenvs.battle.observe as o, mfenvs.common.mean_action_kernels as m; "
        "from mfenvs.common.jit import ParallelKernel; "
        "kernels = [k for mod in (r, o, m) for k in vars(mod).values() if hasattr(k, 'signatures') or isinstance(k, ParallelKernel)]; "
        "print(len(kernels), sum(len(d.signatures) for k in kernels for d in ((k.serial, k.parallel) if isinstance(k, ParallelKernel) else (k,))))"
    )
    n_kernels, n_compiled = map(int, loaded_after(statement).split())
    assert n_kernels >= 10 and n_compiled == 0
