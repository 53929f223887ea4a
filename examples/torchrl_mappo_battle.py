"""Multi-agent PPO (MAPPO) with TorchRL's own parts: train red on the batched BattleEnv against a fixed blue team.

The environment is ``mfenvs.torchrl_env.BattleEnv`` with ``num_envs`` battles stepped at once and blue
played inside it (``--opponent random``: uniform random actions; ``scripted``: the nearest-enemy
fighter of ``mfagents.policies.scripted``). Red's agents share one policy (``MultiAgentMLP``, decentralised, on
each agent's flattened 13 x 13 view, its features and its neighbourhood mean action) and one
centralised critic (``MultiAgentMLP`` over all red agents' inputs): MAPPO. A ``Collector``
gathers the rollouts, ``GAE`` computes per-agent advantages (a dead agent is ``done``), and
``ClipPPOLoss`` (``reduction="none"``) gives per-agent losses that are averaged over the agents that
were alive when they acted. At the end the trained team plays ``--eval-rounds`` battles against the
same opponent, and so does a uniformly random red team (the baseline): win rate with its 95 % Wilson
interval, and kills per round. A battle is won by the team with more kills when it ends.

    python examples/torchrl_mappo_battle.py                  # 60 batches, 5 v 5 against scripted: minutes on one core
    python examples/torchrl_mappo_battle.py --quick          # seconds: a smoke test
    python examples/torchrl_mappo_battle.py --opponent random --map-size 16 --iterations 200

The defaults train against the scripted team on a 12 x 12 map (5 v 5): it comes to red, so red meets
enemies from the first step; against random blue on larger maps the agents rarely meet, and PPO first
learns only to stop paying the attack penalty. What the default budget achieved is in README ("Benchmark
your own algorithm") and BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import time
from inspect import signature

import numpy as np
import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torch.distributions import Categorical
from torchrl.collectors import Collector
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MultiAgentMLP, ProbabilisticActor
from torchrl.objectives import ClipPPOLoss, ValueEstimators

from mfagents.policies.scripted import team_actions
from mfagents.evaluation.stats import KillRecord
from mfenvs.torchrl_env import BattleEnv

GROUP = "red"


class Inputs(nn.Module):
    """Each agent's flattened view, its features and its mean action, concatenated: ``[..., n, d]``."""

    def forward(self, view: torch.Tensor, features: torch.Tensor, mean_action: torch.Tensor) -> torch.Tensor:
        return torch.cat([view.flatten(-3), features, mean_action], dim=-1)


def make_env(args: argparse.Namespace, num_envs: int, seed: int) -> BattleEnv:
    opponent = team_actions if args.opponent == "scripted" else "random"
    return BattleEnv(num_envs=num_envs, map_size=args.map_size, max_cycles=args.max_cycles, seed=seed, opponent=opponent, threads=1)


def make_modules(env: BattleEnv, hidden: int) -> tuple[ProbabilisticActor, TensorDictModule]:
    """The shared decentralised policy and the centralised critic, both reading ``(red, "input")``."""
    spec = env.observation_spec[GROUP]
    n_agents = spec["mask"].shape[-1]
    n_inputs = int(np.prod(spec["observation"].shape[2:])) + spec["features"].shape[-1] + spec["mean_action"].shape[-1]
    inputs = TensorDictModule(
        Inputs(), in_keys=[(GROUP, "observation"), (GROUP, "features"), (GROUP, "mean_action")], out_keys=[(GROUP, "input")]
    )
    logits = MultiAgentMLP(
        n_inputs, env.n_actions, n_agents, centralized=False, share_params=True, depth=2, num_cells=hidden, activation_class=nn.Tanh
    )
    actor = ProbabilisticActor(
        TensorDictSequential(inputs, TensorDictModule(logits, in_keys=[(GROUP, "input")], out_keys=[(GROUP, "logits")])),
        in_keys={"logits": (GROUP, "logits")},
        out_keys=[(GROUP, "action")],
        distribution_class=Categorical,
        return_log_prob=True,
        log_prob_key=(GROUP, "action_log_prob"),
        spec=env.full_action_spec[GROUP, "action"],
    )
    value = MultiAgentMLP(n_inputs, 1, n_agents, centralized=True, share_params=True, depth=2, num_cells=hidden, activation_class=nn.Tanh)
    critic = TensorDictSequential(inputs, TensorDictModule(value, in_keys=[(GROUP, "input")], out_keys=[(GROUP, "state_value")]))
    return actor, critic


def evaluate(args: argparse.Namespace, actor: ProbabilisticActor | None, rounds: int, seed: int) -> KillRecord:
    """``rounds`` battles at once, each played to its end; ``actor=None`` plays uniform random red actions."""
    env = make_env(args, rounds, seed)
    td = env.reset()
    finished = np.zeros(rounds, dtype=bool)
    kills = np.zeros((rounds, 2), dtype=np.int64)
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        while not finished.all():
            td = actor(td) if actor is not None else env.rand_action(td)
            td = env.step(td)["next"]  # finished battles are not restarted: each is played once
            done = td["done"].squeeze(-1).numpy() & ~finished
            kills[done] = td["kills"].numpy()[done]
            finished |= done
    return KillRecord.of(kills[:, 0], kills[:, 1])


def alive_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of per-agent ``values`` (``[..., n]`` or ``[..., n, 1]``) over the agents with ``mask`` (``[..., n]``) set."""
    weights = mask.to(values.dtype)
    return (values.reshape(mask.shape) * weights).sum() / weights.sum().clamp_min(1.0)


def train(args: argparse.Namespace) -> ProbabilisticActor:
    env = make_env(args, args.num_envs, args.seed)
    actor, critic = make_modules(env, args.hidden)
    # A feed-forward policy: no InitTracker needed. torchrl 0.14 would warn that one is missing (and append
    # it from 0.15) unless told not to; 0.11, the release BenchMARL 1.5 runs on, has no such option.
    options = {"auto_register_policy_transforms": False} if "auto_register_policy_transforms" in signature(Collector).parameters else {}
    collector = Collector(
        env, actor, frames_per_batch=args.num_envs * args.steps, total_frames=args.num_envs * args.steps * args.iterations, **options
    )  # fmt: skip
    loss_module = ClipPPOLoss(
        actor_network=actor, critic_network=critic, clip_epsilon=0.2, entropy_coeff=args.entropy, critic_coeff=0.5,
        loss_critic_type="smooth_l1", normalize_advantage=False, reduction="none",
    )  # fmt: skip
    loss_module.set_keys(
        reward=(GROUP, "reward"), action=(GROUP, "action"), sample_log_prob=(GROUP, "action_log_prob"),
        value=(GROUP, "state_value"), advantage=(GROUP, "advantage"), value_target=(GROUP, "value_target"),
        done=(GROUP, "done"), terminated=(GROUP, "terminated"),
    )  # fmt: skip
    loss_module.make_value_estimator(ValueEstimators.GAE, gamma=args.gamma, lmbda=0.95)
    optimiser = torch.optim.Adam(loss_module.parameters(), lr=args.lr)
    start = time.perf_counter()
    for iteration, batch in enumerate(collector):
        batch: TensorDictBase
        with torch.no_grad():
            loss_module.value_estimator(batch, params=loss_module.critic_network_params, target_params=loss_module.target_critic_network_params)
        mask = batch[GROUP, "mask"]  # the agents alive when they acted; the others' actions were ignored
        advantage = batch[GROUP, "advantage"]
        alive = advantage[mask]
        batch[GROUP, "advantage"] = (advantage - alive.mean()) / (alive.std() + 1e-8)
        data = batch.reshape(-1)
        for _ in range(args.epochs):
            for indices in torch.randperm(data.shape[0]).split(args.minibatch):
                sample = data[indices]
                losses = loss_module(sample)
                per_agent = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
                loss = alive_mean(per_agent, sample[GROUP, "mask"])
                optimiser.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(loss_module.parameters(), 1.0)
                optimiser.step()
        collector.update_policy_weights_()
        if (iteration + 1) % max(args.iterations // 10, 1) == 0 or iteration + 1 == args.iterations:
            done = batch["next", "done"].squeeze(-1)
            kills = batch["next", "kills"][done].float()
            outcome = f"battles ended {int(done.sum())}"
            if len(kills):
                outcome += f", kills per battle {kills[:, 0].mean():.1f} v {kills[:, 1].mean():.1f}"
            reward = alive_mean(batch["next", GROUP, "reward"], mask).item()
            print(f"iteration {iteration + 1}/{args.iterations}: {outcome}, reward per living agent-step {reward:.3f}, {time.perf_counter() - start:.0f} s")
    collector.shutdown()
    return actor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opponent", choices=["random", "scripted"], default="scripted", help="the fixed blue team")
    parser.add_argument("--iterations", type=int, default=60, help="collector batches (PPO updates)")
    parser.add_argument("--num-envs", type=int, default=16, help="battles stepped at once")
    parser.add_argument("--steps", type=int, default=64, help="steps of every battle per batch")
    parser.add_argument("--epochs", type=int, default=10, help="passes over each batch")
    parser.add_argument("--minibatch", type=int, default=128, help="env-steps (each with all red agents) per gradient step")
    parser.add_argument("--hidden", type=int, default=64, help="cells of the two hidden layers")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--entropy", type=float, default=0.01, help="entropy bonus coefficient")
    parser.add_argument("--map-size", type=int, default=12, help="12: 5 v 5 agents; 16: 10 v 10")
    parser.add_argument("--max-cycles", type=int, default=100, help="steps per battle")
    parser.add_argument("--eval-rounds", type=int, default=100, help="evaluation battles per red team")
    parser.add_argument("--seed", type=int, default=0, help="seeds torch, the training battles and (+ 10_000) the evaluation")
    parser.add_argument("--quick", action="store_true", help="a tiny budget (seconds), for a smoke test; other flags still apply")
    args = parser.parse_args(argv)
    if args.quick:  # new defaults; flags given on the command line keep their values
        parser.set_defaults(iterations=2, num_envs=2, steps=8, epochs=1, eval_rounds=4, max_cycles=20)
        args = parser.parse_args(argv)
    for name in ("iterations", "num_envs", "steps", "epochs", "minibatch", "hidden", "eval_rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    frames = args.iterations * args.num_envs * args.steps
    n_red = make_env(args, 1, args.seed).observation_spec[GROUP, "mask"].shape[-1]
    print(f"MAPPO, red v {args.opponent} blue: {args.iterations} iterations x {args.num_envs} battles x {args.steps} steps "
          f"= {frames:,} env-steps ({frames * n_red:,} red agent-steps)")  # fmt: skip
    start = time.perf_counter()
    actor = train(args)
    print(f"training took {time.perf_counter() - start:.0f} s")

    eval_seed = args.seed + 10_000
    print(f"\nEvaluation against the {args.opponent} blue team, {args.eval_rounds} battles each (sampled actions), seed {eval_seed}:")
    print(evaluate(args, actor, args.eval_rounds, eval_seed).line("MAPPO red"))
    print(evaluate(args, None, args.eval_rounds, eval_seed).line("random red (baseline)"))


if __name__ == "__main__":
    main()
