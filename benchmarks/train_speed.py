"""Training throughput on the paper's Battle: MF-Q and IL (``mfzoo train``) beside SB3 PPO, same pipeline.

All three learn while they play the paper's setup (40 x 40 map, 64 v 64, minimap and feature
channels, ``dead_agents="absorb"``) through the same SuperSuit vector env
(``mfagents.common.pipeline.make_vec_env``: ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``):

* ``mfq`` / ``il``: ``mfagents.train("battle", algo, steps=...)`` with the defaults of ``mfzoo train``
  (self-play: red is the learner, blue a frozen copy that acts too, replay ratio and network from
  ``mfagents.training.config.TRAINING_DEFAULTS`` and ``MFQConfig``);
* ``ppo``: Stable-Baselines3 PPO with one shared ``MlpPolicy`` for all 128 agent rows (the usual
  SuperSuit recipe), ``n_steps=64`` per row (8,192 samples per rollout), 4 minibatches, 10 epochs.

An agent-step is one row of the vector env stepped once (64 + 64 rows per environment step; dead
agents stay as rows), the unit SB3 counts. Each measurement is its own worker process (``--worker``)
doing a fixed number of environment steps, the three workloads alternating, so a slow patch of the
shared machine hits all alike and each worker's peak resident memory (``ru_maxrss``) is its own.
The replay memory is allocated when the first step is stored but only touched as it fills, so the
table also gives the replay capacity in bytes (``buffer_size`` x bytes per transition).

Against an older checkout (issue 23's "twice as fast"): ``--baseline DIR`` runs MF-Q and IL of the
checkout in ``DIR`` too (``git worktree add /tmp/base fe4294a``: its own ``mfagents`` on ``PYTHONPATH``,
the same worker code), and MF-Q of this checkout with ``precision=float32`` (the bfloat16 view encoder
off), interleaved with the others, and reports each rate over the baseline's in its own table.

Run::

    python benchmarks/train_speed.py                          # 3 x 300 steps per workload, ~10 minutes
    python benchmarks/train_speed.py --steps 100 --repeats 1  # short
    python benchmarks/train_speed.py --quick                  # smoke test: one run of 64 steps each
    python benchmarks/train_speed.py --write                  # also update BENCHMARKS.md
    python benchmarks/train_speed.py --baseline /tmp/base --workloads mfq,il --write
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(BENCHMARKS_DIR))

from _timing import format_rate, machine_description, publish  # noqa: E402

WORKLOADS = ("mfq", "il", "ppo")
LABELS = {
    "mfq": "MF-Q, self-play (`mfzoo train battle --algo mfq`)",
    "il": "IL, self-play (`mfzoo train battle --algo il`)",
    "ppo": "SB3 PPO, one shared MlpPolicy for all 128 rows",
    "mfq-float32": "MF-Q, this checkout, `--algo-kwarg precision=float32`",
}
FLOAT32 = "mfq-float32"
BASELINE_SUFFIX = "@baseline"
SECTION = "## Training throughput (issue 4)"
BASELINE_SECTION = "## Training throughput against the previous checkout (issue 23)"
PPO_ROLLOUT_STEPS = 64
PPO_EPOCHS = 10
PPO_MINIBATCHES = 4


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm_up() -> None:
    """Pay the one-off costs before the clocks start: the first Adam imports torch's compiler stack (~1.5 s) and
    the first environment loads the compiled kernels."""
    import torch
    from mfagents.common.pipeline import VecPipeline

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    VecPipeline("battle", {"map_size": 40}).close()


def run_mfagents(algo: str, steps: int, seed: int, algo_kwargs: dict | None = None) -> dict:
    """Train ``algo`` for ``steps`` environment steps with the ``mfzoo train battle`` defaults (and ``algo_kwargs``)."""
    import mfagents
    from mfagents.training.config import RunConfig, resolve
    from mfagents.training.loop import build_learner
    from mfagents.common.pipeline import VecPipeline

    extra = {"algo_kwargs": algo_kwargs} if algo_kwargs else {}  # a baseline checkout may predate newer settings
    warm_up()
    cpu_start = time.process_time()
    summary = mfagents.train("battle", algo, seed=seed, steps=steps, tensorboard=False, eval_every=0, **extra)  # training alone
    cpu_seconds = time.process_time() - cpu_start
    run = resolve(RunConfig(env="battle", algo=algo, steps=steps, algo_kwargs=dict(algo_kwargs or {})))
    learner = build_learner(algo, VecPipeline("battle", run.env_kwargs), "red", seed, "cpu", run.algo_kwargs)
    config = learner.config_dict()
    per_transition = learner.buffer.bytes_per_transition
    encoder = getattr(learner, "q", getattr(learner, "critic", None)).encoder
    return {
        "cpu_seconds": cpu_seconds,
        "precision": getattr(encoder, "precision", "float32"),
        "agent_steps": summary["agent_steps"],
        "seconds": summary["wall_time_s"],
        "replay_mib": config["buffer_size"] * per_transition / 2**20,
        "trained_per_agent_step": config["replay_ratio"] * 64 / 128,  # the learner's 64 of 128 rows
        "bytes_per_transition": per_transition,
    }


def run_ppo(steps: int, seed: int) -> dict:
    """SB3 PPO over the same SuperSuit vector env for ``steps`` environment steps."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure as configure_logger
    from stable_baselines3.common.utils import set_random_seed

    from mfagents.training.config import RunConfig, resolve
    from mfagents.common.pipeline import make_parallel_env, make_vec_env

    torch.set_num_threads(1)  # as mfzoo train does: fastest on a shared 2-core machine
    run = resolve(RunConfig(env="battle"))
    vec = make_vec_env(make_parallel_env("battle", run.env_kwargs), 1, base_class="stable_baselines3")
    set_random_seed(seed)
    vec.venv.reset(seed=seed)
    rows = vec.num_envs
    model = PPO(
        "MlpPolicy", vec, n_steps=PPO_ROLLOUT_STEPS, batch_size=PPO_ROLLOUT_STEPS * rows // PPO_MINIBATCHES,
        n_epochs=PPO_EPOCHS, device="cpu", seed=None,
    )  # fmt: skip
    model.set_logger(configure_logger(folder=None, format_strings=[]))  # no log folder under /tmp
    rollouts = max(1, round(steps / PPO_ROLLOUT_STEPS))
    start = time.perf_counter()
    model.learn(total_timesteps=rollouts * PPO_ROLLOUT_STEPS * rows)
    seconds = time.perf_counter() - start
    vec.close()
    return {"agent_steps": model.num_timesteps, "seconds": seconds, "replay_mib": None, "trained_per_agent_step": PPO_EPOCHS}


def worker(name: str, steps: int, seed: int) -> None:
    if name == "ppo":
        result = run_ppo(steps, seed)
    elif name == FLOAT32:
        result = run_mfagents("mfq", steps, seed, {"precision": "float32"})
    else:
        result = run_mfagents(name, steps, seed)
    result.update({"name": name, "rate": result["agent_steps"] / result["seconds"], "peak_rss_mib": peak_rss_mib()})
    print(json.dumps(result))


def measure(steps: int, repeats: int, seed: int, workloads: tuple[str, ...], baseline: Path | None = None) -> dict[str, list[dict]]:
    """Run every workload ``repeats`` times, interleaved, each in its own process; ``NAME@baseline`` runs in ``baseline``."""
    results: dict[str, list[dict]] = {name: [] for name in workloads}
    for repeat in range(repeats):
        for name in workloads:
            algo, _, where = name.partition("@")
            env = dict(os.environ)
            if where:
                env["PYTHONPATH"] = str(baseline)  # the baseline's own mfagents / mfenvs, this worker code
            command = [sys.executable, __file__, "--worker", algo, "--steps", str(steps), "--seed", str(seed + repeat)]
            done = subprocess.run(command, capture_output=True, text=True, cwd=baseline if where else REPO_ROOT, env=env)
            if done.returncode != 0:
                raise SystemExit(f"worker {name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
            output = done.stdout
            result = json.loads(output.strip().splitlines()[-1])
            result["name"] = name
            results[name].append(result)
            print(f"  {name}: {format_rate(result['rate'])} agent-steps/s, peak RSS {result['peak_rss_mib']:.0f} MiB", file=sys.stderr)
    return results


def cpu_rate(result: dict) -> float:
    """Agent-steps per CPU second of the training process (setup included, after ``warm_up``): on a shared machine
    this moves far less than the wall-clock rate."""
    return result["agent_steps"] / result["cpu_seconds"]


def baseline_table(results: dict[str, list[dict]]) -> str:
    """Each workload's median rate over its baseline's (``mfq`` over ``mfq@baseline``; the float32 variant over MF-Q's)."""
    lines = [
        "| trainer | checkout | view encoder | agent-steps/s (median) | runs min-max | / baseline | agent-steps per CPU second (median) | / baseline |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        if name == "ppo":
            continue
        algo, _, where = name.partition("@")
        reference = f"{'mfq' if algo == FLOAT32 else algo}{BASELINE_SUFFIX}"
        rates = [r["rate"] for r in runs]
        median = statistics.median(rates)
        ratio = median / statistics.median(r["rate"] for r in results[reference]) if reference in results else float("nan")
        cpu = statistics.median(cpu_rate(r) for r in runs)
        cpu_ratio = cpu / statistics.median(cpu_rate(r) for r in results[reference]) if reference in results else float("nan")
        label = LABELS.get(algo, algo).split(" (")[0].split(",")[0]
        lines.append(
            f"| {label} | {'baseline' if where else 'this'} | {runs[0].get('precision', 'float32')} | {format_rate(median)} "
            f"| {format_rate(min(rates))}-{format_rate(max(rates))} | **{ratio:.2f}x** | {format_rate(cpu)} | **{cpu_ratio:.2f}x** |"
        )
    return "\n".join(lines)


def native_bf16_text() -> str:
    from mfagents.algos.precision import cpu_has_native_bfloat16

    return "native bfloat16 units (avx512_bf16 / amx_bf16)" if cpu_has_native_bfloat16() else "no native bfloat16 units"


def baseline_report(results: dict[str, list[dict]], steps: int, repeats: int, argv: list[str], baseline: Path) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    commit = subprocess.run(["git", "-C", str(baseline), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    command = "python benchmarks/train_speed.py " + " ".join(argv)
    return "\n".join(
        [
            BASELINE_SECTION,
            "",
            "Goal (issue 23): >= 2x the agent-steps/s of `mfzoo train battle --algo mfq` on the paper's setup (40 x 40,",
            "64 v 64, minimap + features, self-play: both teams' networks act every step), measured side by side with",
            f"the checkout before the change (`{commit or baseline.name}`), each run its own process with one torch",
            "thread, the checkouts alternating.",
            "",
            f"Command: `{command}` (baseline: `git worktree add {baseline} {commit or 'REF'}`)  ",
            f"Date: {datetime.date.today().isoformat()}  ",
            f"Machine: {machine_description()}, {native_bf16_text()}; load average {load:.1f} at the end  ",
            f"{repeats} run(s) of {steps} environment steps per trainer.",
            "",
            baseline_table(results),
        ]
    )


def table(results: dict[str, list[dict]]) -> str:
    ppo = statistics.median(r["rate"] for r in results["ppo"])
    lines = [
        "| trainer | agent-steps/s (median) | runs min-max | / PPO | samples trained per agent-step | peak RSS MiB | replay capacity |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in (n for n in WORKLOADS if n in results):
        runs = results[name]
        rates = [r["rate"] for r in runs]
        median = statistics.median(rates)
        replay = runs[0]["replay_mib"]
        replay_text = "none (on-policy)" if replay is None else f"{replay:.0f} MiB ({runs[0]['bytes_per_transition']} B/transition)"
        lines.append(
            f"| {LABELS[name]} | {format_rate(median)} | {format_rate(min(rates))}-{format_rate(max(rates))} "
            f"| **{median / ppo:.2f}x** | {runs[0]['trained_per_agent_step']:g} "
            f"| {max(r['peak_rss_mib'] for r in runs):.0f} | {replay_text} |"
        )
    return "\n".join(lines)


def report(results: dict[str, list[dict]], steps: int, repeats: int, argv: list[str]) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    command = "python benchmarks/train_speed.py" + ("" if not argv else " " + " ".join(argv))
    return "\n".join(
        [
            SECTION,
            "",
            "Goal: MF-Q and IL training throughput (agent-steps/s with learning) >= 1x SB3 PPO on the paper's Battle",
            "(40 x 40, 64 v 64, minimap + features, absorb mode), all through the same SuperSuit vector env. An",
            "agent-step is one of the 128 rows stepped once. MF-Q / IL run `mfagents.train` with the `mfzoo train`",
            "defaults (self-play, so both teams' networks act every step; the learner trains on its 64 rows);",
            f"PPO is SB3's `MlpPolicy` shared by all rows, {PPO_ROLLOUT_STEPS} steps per rollout, {PPO_MINIBATCHES} minibatches, {PPO_EPOCHS} epochs.",
            "Each run is its own process, the three alternating; torch uses 1 thread in all three.",
            "",
            f"Command: `{command}`  ",
            f"Date: {datetime.date.today().isoformat()}  ",
            f"Machine: {machine_description()}; load average {load:.1f} at the end  ",
            f"{repeats} run(s) of {steps} environment steps per trainer.",
            "",
            table(results),
            "",
            "Notes:",
            "- \"samples trained per agent-step\": transitions pushed through a gradient step per row stepped",
            "  (MF-Q / IL: replay ratio x 64 / 128; PPO: its epochs). The trainers do very different amounts of",
            "  learning per step, so this is a throughput comparison, not a sample-efficiency one.",
            "- Peak RSS includes the Python, torch and SB3 imports. The replay memory is reserved when the first",
            "  step is stored and becomes resident as it fills, so short runs show little of it: the last column",
            "  is what it takes when full.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="environment steps per run (default: 300)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per trainer (default: 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one run of 64 steps per trainer (a smoke test, not a measurement)")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    parser.add_argument("--baseline", type=Path, help="a checkout of an older commit: also run its MF-Q and IL, and report ratios")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of mfq,il,ppo (default: all)")
    parser.add_argument("--worker", choices=(*WORKLOADS, FLOAT32), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.seed)
        return
    if args.quick:
        args.steps, args.repeats = 64, 1
    workloads = tuple(name for name in args.workloads.split(",") if name)
    unknown = sorted(set(workloads) - set(WORKLOADS))
    if unknown:
        parser.error(f"--workloads: unknown {unknown}; expected a subset of {','.join(WORKLOADS)}")
    if args.baseline is not None:
        if not (args.baseline / "mfagents").is_dir():
            parser.error(f"--baseline {args.baseline}: not a checkout of this repository (no mfagents/ in it)")
        extra = [f"{name}{BASELINE_SUFFIX}" for name in workloads if name != "ppo"]
        workloads = (*workloads, *extra, *((FLOAT32,) if "mfq" in workloads else ()))
    results = measure(args.steps, args.repeats, args.seed, workloads, args.baseline)
    argv = [a for a in sys.argv[1:] if a != "--write"]
    if args.baseline is not None:
        publish(BASELINE_SECTION, baseline_report(results, args.steps, args.repeats, argv, args.baseline), args.write, REPO_ROOT / "BENCHMARKS.md")
    if "ppo" in results:
        publish(SECTION, report(results, args.steps, args.repeats, argv), args.write, REPO_ROOT / "BENCHMARKS.md")


if __name__ == "__main__":
    main()
