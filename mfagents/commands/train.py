"""``mfzoo train``: train a learner through SuperSuit (logs, checkpoints, ``--resume``); the Python API is ``mfagents.train``."""

from __future__ import annotations

import argparse
from pathlib import Path

from mfagents.commands.errors import UsageError
from mfagents.commands.shared import (
    Summary,
    add_device_argument,
    add_env_kwarg_argument,
    format_kwargs,
)
from mfenvs.registration import find


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo train``."""
    from mfagents.commands.helptext import (
        default_panels,
        per_env,
        per_env_actor_sharing,
        spec_forms,
    )

    parser.add_argument("env", help="environment short name or id: battle, battlefield, combined_arms, tiger_deer, ising, gaussian_squeeze")
    parser.add_argument(
        "--algo", default=None,
        help="learner: mfq, il, mfac, ac, or tabular_mfq (ising only); mfac and ac keep one actor per agent on "
        f"{per_env_actor_sharing()} (default: mfq; with --resume the run's)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="seed of the learners, opponents and environments (default: 0; with --resume the run's)")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/ENV-ALGO-sSEED)")
    parser.add_argument(
        "--preset", default=None, choices=("default", "paper"),
        help="table of defaults: default (fits a 2-core machine: Battle 250 rounds, ~1 hour a core) or paper "
        "(the paper's Battle budget: 2000 rounds, Adam 1e-4) (default: default; with --resume the run's)",
    )  # fmt: skip
    add_env_kwarg_argument(parser, reads_runs=False)
    parser.add_argument(
        "--algo-kwarg", action="append", default=[], metavar="KEY=VALUE",
        help="learner config field (repeatable), e.g. learning_rate=3e-4 (see MFQConfig, MFACConfig...; "
        "default: mfagents.training.config.TRAINING_DEFAULTS)",
    )  # fmt: skip
    parser.add_argument(
        "--opponent", default=None, metavar="SPEC",
        help="the blue side (battle; combined_arms: both blue groups; tiger_deer: the deer, the tigers learning): "
        "self (self-play: a frozen copy of the learner, the default; not tiger_deer, whose default is random), "
        "train:ALGO (a second learner, per group), pool:MEMBER=WEIGHT,... (battle) (an opponent pool drawn anew every round, e.g. "
        "pool:scripted=2,self=2,random=1; self: the learner's recent snapshots), "
        f"or a policy {spec_forms()}",
    )  # fmt: skip
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps", type=int, default=None,
        help="budget in environment steps, summed over copies, a multiple of --n-envs (default: a budget in --rounds)",
    )  # fmt: skip
    budget.add_argument(
        "--rounds", type=int, default=None,
        help=f"budget in finished rounds (episodes), summed over copies (default: {per_env('rounds')}; "
        "with --resume the run's)",
    )  # fmt: skip
    parser.add_argument("--n-envs", type=int, default=None, help=f"environment copies stepped together (default: {per_env('n_envs')})")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the run in --out from its last checkpoint; options left out are read from its config.json "
        "(default: start a new run)",
    )  # fmt: skip
    parser.add_argument(
        "--log-every", type=int, default=None, metavar="ROUNDS",
        help=f"rounds between log rows (default: {per_env('log_every_rounds')})",
    )  # fmt: skip
    parser.add_argument(
        "--checkpoint-every", type=int, default=None, metavar="ROUNDS",
        help=f"rounds between checkpoints, and one at the end (default: {per_env('checkpoint_every_rounds')})",
    )  # fmt: skip
    parser.add_argument(
        "--eval-every", type=int, default=None, metavar="ROUNDS",
        help="play the learner (greedy) against the --eval-panel every ROUNDS rounds and at the end; metrics.csv and "
        f"TensorBoard get eval/OPPONENT/win_rate, win_low, win_high (Wilson 95 %%), kills, opponent_kills; 0: off "
        f"(default: {per_env('eval_every_rounds')}; with --resume the run's)",
    )  # fmt: skip
    parser.add_argument(
        "--eval-panel", default=None, metavar="SPEC,SPEC",
        help=f"the evaluation opponents, comma-separated policy {spec_forms()} (default: {default_panels()})",
    )  # fmt: skip
    parser.add_argument(
        "--eval-rounds", type=int, default=None, metavar="N",
        help=f"evaluation rounds per panel opponent (default: {per_env('eval_rounds')})",
    )  # fmt: skip
    add_device_argument(parser, "the learners")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default: 1, fastest for these networks)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar (default: shown)")
    parser.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard events (default: written to OUT/tb)")


def run_train(args: argparse.Namespace) -> Summary:
    """Train as the options say; print the run's settings, then return the summary."""
    from mfagents.api import train_resolved
    from mfagents.common.checkpoint import CheckpointError
    from mfagents.common.pipeline import sides_of
    from mfagents.training.config import (
        DEFAULT_ALGO,
        RunConfig,
        parse_key_values,
        resolve,
    )
    from mfagents.training.loop import RunSetupError

    try:
        entry = find(args.env)
        algo, seed = args.algo or DEFAULT_ALGO, args.seed if args.seed is not None else 0
        out = args.out if args.out is not None else Path("runs") / f"{entry.short_name}-{algo}-s{seed}"
        config = RunConfig(
            env=entry.env_id,
            algo=args.algo,
            preset=args.preset,
            seed=args.seed,
            out=str(out),
            env_kwargs=parse_key_values(args.env_kwarg, "--env-kwarg"),
            algo_kwargs=parse_key_values(args.algo_kwarg, "--algo-kwarg"),
            opponent=args.opponent,
            steps=args.steps,
            rounds=args.rounds,
            n_envs=args.n_envs,
            device=args.device,
            torch_threads=args.threads,
            log_every_rounds=args.log_every,
            checkpoint_every_rounds=args.checkpoint_every,
            eval_every=args.eval_every,
            eval_panel=None if args.eval_panel is None else tuple(spec.strip() for spec in args.eval_panel.split(",")),
            eval_rounds=args.eval_rounds,
            resume=args.resume,
            progress_bar=not args.no_progress,
            tensorboard=not args.no_tensorboard,
        )
        run = resolve(config)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    count, unit = (run.rounds, "round") if run.rounds is not None else (run.steps, "step")
    budget = f"{count} {unit}{'' if count == 1 else 's'}"
    sides = list(sides_of(run.short_name))  # the learner side first (Battle: red; tiger-deer: tiger)
    learner = run.algo if len(sides) < 2 else f"{run.algo} ({sides[0]})"
    print(f"train: {learner} on {run.env_id} {format_kwargs(run.env_kwargs)}, {run.n_envs} cop{'y' if run.n_envs == 1 else 'ies'}, seed {run.seed}")
    if run.opponent is not None:
        print(f"opponent ({sides[1]}): {run.opponent}")
    if run.eval_every:
        print(f"evaluation: every {run.eval_every} rounds and at the end, {run.eval_rounds} greedy rounds against each of {', '.join(run.eval_panel)}")
    print(f"budget: {budget}; run directory: {run.out}{' (resuming)' if args.resume else ''}", flush=True)
    try:
        summary = train_resolved(run, resume=args.resume)
    except (RunSetupError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    if summary.get("budget_met"):
        done = summary["rounds"] if run.rounds is not None else summary["global_step"]
        print(
            f"nothing to do: the run in {run.out} has already played {done} of its {budget}; "
            f"give a larger --{unit}s to continue it"
        )
    return summary
