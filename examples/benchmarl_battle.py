"""BenchMARL's IPPO, MAPPO or QMIX on Battle: red learns against a fixed blue team, then plays evaluation battles.

The task is ``mfagents.benchmarl_task.BattleTask.BATTLE`` (red learns, blue is played inside the batched
``BattleEnv``: ``--opponent scripted``, the nearest-enemy fighter of ``mfagents.policies.scripted``, or ``random``).
The algorithm and the models (``Mlp`` policy, and critic for the PPOs) are BenchMARL's, with their YAML
defaults except the budget and the learning rate set below. The experiment writes its run folder under
``--out`` (no loggers). At the end the trained red team plays ``--eval-rounds`` battles against the same
opponent with greedy actions (QMIX: arg-max Q; PPO: the most likely action), and so does a uniformly random
red team (the baseline): win rate with its 95 % Wilson interval, and kills per round. A battle is won by
the team with more kills when it ends.

Needs the ``benchmarl`` extra: ``pip install -e ".[benchmarl]"``.

    python examples/benchmarl_battle.py --algorithm mappo     # 30 batches of 1,600 env-steps, 5 v 5: minutes on one core
    python examples/benchmarl_battle.py --algorithm qmix --opponent random
    python examples/benchmarl_battle.py --quick               # seconds: a smoke test
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from benchmarl.algorithms import IppoConfig, MappoConfig, QmixConfig
from benchmarl.experiment import Experiment, ExperimentConfig
from benchmarl.models import MlpConfig
from tensordict.nn import TensorDictModuleBase
from torchrl.envs.utils import ExplorationType, set_exploration_type

from mfagents.benchmarl_task import BattleTask, BattleTaskConfig, make_battle_env
from mfagents.evaluation.stats import KillRecord

ALGORITHMS = {"ippo": IppoConfig, "mappo": MappoConfig, "qmix": QmixConfig}


def task_config(args: argparse.Namespace) -> BattleTaskConfig:
    return BattleTaskConfig(map_size=args.map_size, max_cycles=args.max_cycles, opponent=args.opponent)


def experiment_config(args: argparse.Namespace) -> ExperimentConfig:
    """BenchMARL's default experiment with this example's budget; no loggers, evaluation or checkpoints."""
    config = ExperimentConfig.get_from_yaml()
    frames = args.num_envs * args.steps
    config.max_n_iters = args.iterations
    config.max_n_frames = None
    config.lr = args.lr
    config.on_policy_collected_frames_per_batch = frames
    config.on_policy_n_envs_per_worker = args.num_envs
    config.on_policy_n_minibatch_iters = args.epochs
    config.on_policy_minibatch_size = min(args.minibatch, frames)
    config.off_policy_collected_frames_per_batch = frames
    config.off_policy_n_envs_per_worker = args.num_envs
    config.off_policy_n_optimizer_steps = args.optimizer_steps
    config.off_policy_train_batch_size = min(args.minibatch, frames)
    config.off_policy_memory_size = max(50_000, frames)
    config.exploration_anneal_frames = frames * args.iterations // 2
    config.evaluation = False
    config.render = False
    config.loggers = []
    config.create_json = False
    config.checkpoint_at_end = False
    config.save_folder = str(args.out)
    return config


def build_experiment(args: argparse.Namespace) -> Experiment:
    args.out.mkdir(parents=True, exist_ok=True)
    return Experiment(
        task=BattleTask.BATTLE.get_task(config=vars(task_config(args))),
        algorithm_config=ALGORITHMS[args.algorithm].get_from_yaml(),
        model_config=MlpConfig.get_from_yaml(),
        critic_model_config=MlpConfig.get_from_yaml(),
        seed=args.seed,
        config=experiment_config(args),
    )


def evaluate(args: argparse.Namespace, policy: TensorDictModuleBase | None, rounds: int, seed: int) -> KillRecord:
    """``rounds`` battles at once, each played to its end; ``policy=None`` plays uniform random red actions."""
    env = make_battle_env(task_config(args), num_envs=rounds, seed=seed)
    td = env.reset()
    finished = np.zeros(rounds, dtype=bool)
    kills = np.zeros((rounds, 2), dtype=np.int64)
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        while not finished.all():
            td = policy(td) if policy is not None else env.rand_action(td)
            td = env.step(td)["next"]  # finished battles are not restarted: each is played once
            done = td["done"].squeeze(-1).numpy() & ~finished
            kills[done] = td["kills"].numpy()[done]
            finished |= done
    return KillRecord.of(kills[:, 0], kills[:, 1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", choices=sorted(ALGORITHMS), default="mappo")
    parser.add_argument("--opponent", choices=["random", "scripted"], default="scripted", help="the fixed blue team")
    parser.add_argument("--iterations", type=int, default=30, help="collected batches (training iterations)")
    parser.add_argument("--num-envs", type=int, default=16, help="battles stepped at once")
    parser.add_argument("--steps", type=int, default=100, help="steps of every battle per batch")
    parser.add_argument("--epochs", type=int, default=10, help="PPO: passes over each batch")
    parser.add_argument("--optimizer-steps", type=int, default=100, help="QMIX: gradient steps per batch")
    parser.add_argument("--minibatch", type=int, default=400, help="env-steps (each with all red agents) per gradient step")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--map-size", type=int, default=12, help="12: 5 v 5 agents; 16: 10 v 10")
    parser.add_argument("--max-cycles", type=int, default=100, help="steps per battle")
    parser.add_argument("--eval-rounds", type=int, default=100, help="evaluation battles per red team")
    parser.add_argument("--seed", type=int, default=0, help="BenchMARL's seed (torch, training battles); + 10_000 seeds the evaluation")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarl"), help="BenchMARL's save folder")
    parser.add_argument("--quick", action="store_true", help="a tiny budget (seconds), for a smoke test; other flags still apply")
    args = parser.parse_args(argv)
    if args.quick:  # new defaults; flags given on the command line keep their values
        parser.set_defaults(iterations=2, num_envs=2, steps=20, epochs=1, optimizer_steps=2, minibatch=20, eval_rounds=4, max_cycles=20)
        args = parser.parse_args(argv)
    for name in ("iterations", "num_envs", "steps", "epochs", "optimizer_steps", "minibatch", "eval_rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    torch.set_num_threads(1)

    frames = args.iterations * args.num_envs * args.steps
    print(f"BenchMARL {args.algorithm.upper()}, red v {args.opponent} blue on a {args.map_size} x {args.map_size} map: "
          f"{args.iterations} iterations x {args.num_envs} battles x {args.steps} steps = {frames:,} env-steps")  # fmt: skip
    start = time.perf_counter()
    experiment = build_experiment(args)
    experiment.run()
    print(f"training took {time.perf_counter() - start:.0f} s ({experiment.total_frames:,} env-steps)")

    eval_seed = args.seed + 10_000
    print(f"\nEvaluation against the {args.opponent} blue team, {args.eval_rounds} battles each (greedy actions), seed {eval_seed}:")
    print(evaluate(args, experiment.policy, args.eval_rounds, eval_seed).line(f"{args.algorithm.upper()} red"))
    print(evaluate(args, None, args.eval_rounds, eval_seed).line("random red (baseline)"))


if __name__ == "__main__":
    main()
