"""``mfzoo eval``: play rounds between policy SPECs and report win rates, G / G* or xi; the Python API is ``mfagents.evaluate``."""

from __future__ import annotations

import argparse

from mfagents.commands.errors import UsageError
from mfagents.commands.shared import (
    Summary,
    add_device_argument,
    add_env_kwarg_argument,
    format_kwargs,
)
from mfenvs.registration import find


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo eval``."""
    from mfagents.commands.helptext import spec_forms

    parser.add_argument("env", help="environment short name or id: battle, battlefield, combined_arms, tiger_deer, ising, gaussian_squeeze")
    parser.add_argument("--red", default=None, metavar="SPEC", help="battle, combined_arms: policy of the red side (required there; combined_arms: both red groups)")
    parser.add_argument("--blue", default=None, metavar="SPEC", help="battle, combined_arms: policy of the blue side (required there; combined_arms: both blue groups)")
    parser.add_argument("--tiger", default=None, metavar="SPEC", help="tiger_deer: policy of the tigers (required there; a run directory: its tiger learner)")
    parser.add_argument("--deer", default=None, metavar="SPEC", help="tiger_deer: policy of the deer (required there; a run directory: its deer learner)")
    parser.add_argument(
        "--policy", default=None, metavar="SPEC",
        help=f"gaussian_squeeze / ising: policy of every agent (required there). {spec_forms()}",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=10, help="rounds (episodes) to play (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environments and random policies (default: 0)")
    parser.add_argument("--n-envs", type=int, default=None, help="environment copies stepped together (default: min(rounds, 4))")
    parser.add_argument(
        "--stochastic", action="store_true",
        help="trained learners sample their policy (MF-AC / AC: pi; MF-Q / IL: their final exploration) (default: greedy)",
    )  # fmt: skip
    add_env_kwarg_argument(parser)
    add_device_argument(parser, "trained policies")


def run_eval(args: argparse.Namespace) -> Summary:
    """Play the rounds, print a results table, and return the results (win rates with 95 % intervals, G / G*, or xi)."""
    from mfagents.common.checkpoint import CheckpointError
    from mfagents.evaluation.rounds import evaluate
    from mfagents.training.config import parse_key_values

    try:
        entry = find(args.env)
        env_kwargs = parse_key_values(args.env_kwarg, "--env-kwarg")
        given = {side: getattr(args, side) for side in ("red", "blue", "tiger", "deer") if getattr(args, side) is not None}
        sides = " vs ".join(f"{side} {spec}" for side, spec in given.items()) if args.policy is None else f"policy {args.policy}"
        play = "stochastic" if args.stochastic else "greedy"
        print(f"eval: {entry.env_id}, {sides}, {args.rounds} rounds, seed {args.seed}, learners {play}", flush=True)
        summary = evaluate(
            entry.env_id, red=args.red, blue=args.blue, tiger=args.tiger, deer=args.deer, policy=args.policy, rounds=args.rounds, seed=args.seed,
            env_kwargs=env_kwargs, n_envs=args.n_envs, device=args.device, override_run_settings=args.override_run_settings,
            stochastic=args.stochastic,
        )  # fmt: skip
    except (ValueError, TypeError, FileNotFoundError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    print(format_eval_table(summary))
    return summary


def format_eval_table(summary: Summary) -> str:
    """The results of ``mfzoo eval`` as a Markdown table (printed before the JSON line)."""
    rounds = summary["rounds"]
    lines = [f"environment: {summary['env']} {format_kwargs(summary['env_kwargs'])}"]
    sides = [key for key, value in summary.items() if isinstance(value, str) and f"{key}_win_rate" in summary]
    if sides:
        scoreboard = f"{sides[0]}_mean_deaths" in summary  # tiger-deer: deaths and survivors too
        extra = " mean deaths | mean survivors |" if scoreboard else ""
        lines += [
            f"\n| side | policy | wins of {rounds} | win rate [95 % CI] | mean kills |{extra} mean total reward |",
            "|---|---|---|---|---|---|" + ("---|---|" if scoreboard else ""),
        ]
        for team, key, count in [(side, f"{side}_win_rate", f"{side}_wins") for side in sides] + [("draw", "draw_rate", "draws")]:
            low, high = summary[f"{key}_ci95"]
            rate = f"{summary[key]:.2f} [{low:.2f}, {high:.2f}]"
            if team == "draw":
                lines.append(f"| draws | | {summary[count]} | {rate} | |{' | |' if scoreboard else ''} |")
            else:
                board = f" {summary[f'{team}_mean_deaths']:.1f} | {summary[f'{team}_mean_survivors']:.1f} |" if scoreboard else ""
                lines.append(
                    f"| {team} | {summary[team]} | {summary[count]} | {rate} | {summary[f'{team}_mean_kills']:.1f} |{board} "
                    f"{summary[f'{team}_mean_total_reward']:.2f} |"
                )
        if scoreboard:
            lines.append(
                "\nThe tigers win a round by eating every deer, the deer when every tiger has starved; a round that reaches "
                "max_cycles is a draw. Tiger kills are deer eaten; tiger deaths are tigers starved."
            )
    elif "G_ratio" in summary:
        lines += [
            "\n| policy | rounds | G | G* | G / G* (second half of each round) | G / G* (last step) |",
            "|---|---|---|---|---|---|",
            f"| {summary['all']} | {rounds} | {summary['G']:.2f} | {summary['G_opt']:.2f} | {summary['G_ratio']:.3f} | {summary['G_ratio_last']:.3f} |",
        ]
    elif "xi_late" in summary:
        lines += [
            "\n| policy | rounds | order parameter xi (second half of each round) | xi (last step) |",
            "|---|---|---|---|",
            f"| {summary['all']} | {rounds} | {summary['xi_late']:.3f} | {summary['xi_final']:.3f} |",
        ]
    return "\n".join(lines)
