"""Evaluation rounds: fixed policies (learners greedy) play a number of rounds; the results with their intervals.

``evaluate`` is ``mfzoo eval`` and ``mfagents.evaluate``; the arena and the training's evaluation panel play through it.

Example:
    >>> from mfagents.evaluation.rounds import evaluate
    >>> result = evaluate("gaussian_squeeze", policy="random", rounds=1, seed=0, env_kwargs={"n_agents": 100})
    >>> result["G_ratio"] > 0.95  # N = 100 is too easy: uniform random play is already near the optimum
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mfagents.common.device import check_device
from mfagents.common.pipeline import ALL, VecPipeline, check_trainable, sides_of
from mfagents.evaluation.stats import rate_with_interval
from mfagents.policies.specs import GroupContext, LearnerPolicy, Policy, load_policy
from mfagents.training.loop import group_seed, make_scorer, torch_threads
from mfagents.training.run_settings import merge_env_kwargs
from mfenvs.registration import find

EVAL_COPIES = 4
"""Largest number of environment copies ``evaluate`` steps together by default."""


def evaluate(
    env: str,
    *,
    red: str | None = None,
    blue: str | None = None,
    tiger: str | None = None,
    deer: str | None = None,
    policy: str | None = None,
    rounds: int = 10,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    n_envs: int | None = None,
    device: str = "cpu",
    override_run_settings: bool = False,
    stochastic: bool = False,
) -> dict[str, Any]:
    """Play ``rounds`` rounds with fixed policies (learners act greedily unless ``stochastic``) and report the results.

    Args:
        env: registered id or short name.
        red, blue: the sides' policy SPECs (a run directory or checkpoint file, ``random``, ``scripted``,
            ``module:callable``); both are required for Battle and combined arms, where a SPEC plays every group
            of its side (a run directory: its learner of each group).
        tiger, deer: tiger-deer's sides' policy SPECs, both required there (a run directory: its ``tiger`` or
            ``deer`` learner).
        policy: the policy SPEC of every agent (Gaussian Squeeze, Ising).
        rounds: rounds (episodes) to play, summed over copies.
        seed: seeds the environments and random policies.
        env_kwargs: environment arguments on top of the training defaults of the environment and of the
            settings the SPECs were trained with (a run's ``config.json``; ``mfagents.training.run_settings``).
        n_envs: environment copies stepped together (default ``min(rounds, 4)``).
        device: torch device of learner policies (checked before anything starts).
        override_run_settings: let ``env_kwargs`` differ from the settings a run was trained with.
        stochastic: learners sample their exploring policy instead of acting greedily (MF-AC / AC: pi;
            MF-Q / IL: their exploration at the end of training). The summary says which (``stochastic``).

    Returns:
        Battle: ``red_win_rate``, ``blue_win_rate``, ``draw_rate`` and their ``*_ci95`` (Wilson 95 %),
        the counts ``red_wins``, ``blue_wins``, ``draws``, ``red_mean_kills``, ``blue_mean_kills``, ``red_mean_total_reward``, ``blue_mean_total_reward``.
        Tiger-deer: the same keys for ``tiger`` and ``deer`` (the tigers win a round by eating every deer, the deer
        when every tiger has starved, else a draw; ``tiger_mean_kills``: deer eaten), and per side
        ``*_mean_deaths`` (deer eaten; tigers starved) and ``*_mean_survivors`` at the end of the round.
        Gaussian Squeeze: ``G``, ``G_opt``, ``G_ratio`` of the greedy joint policy: G / G* averaged over
        the second half of every round (the joint action settles in the first half; learners act greedily
        with their own ``revision_rate``), and ``G_ratio_last`` (the last step). Ising: ``xi_late`` (mean order parameter over the second half
        of every round) and ``xi_final``.

    Raises:
        ValueError: missing or contradictory SPECs, a bad SPEC, ``rounds < 1``, an unusable device, an
            unknown environment argument, or one that disagrees with a run's settings.
    """
    entry = find(env)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    check_device(device)
    check_trainable(entry)  # a game no run can be trained on (gather) says why before its sides are asked for
    given = {"red": red, "blue": blue, "tiger": tiger, "deer": deer}
    sides = list(sides_of(entry.short_name))
    if sides == [ALL]:
        if policy is None or any(spec is not None for spec in given.values()):
            raise ValueError(f"{entry.short_name} has no teams: give --policy SPEC (not --red / --blue)")
        specs = {ALL: policy}
    else:
        others = [f"--{name}" for name, spec in given.items() if spec is not None and name not in sides]
        if any(given.get(side) is None for side in sides) or policy is not None or others:
            wanted = " and ".join(f"--{side} SPEC" for side in sides)
            not_these = ", ".join(["--policy", *others]) if others else "--policy"
            raise ValueError(f"{entry.short_name} has two teams: give both {wanted} (not {not_these})")
        specs = {side: given.get(side) for side in sides}
    copies = n_envs if n_envs is not None else min(rounds, EVAL_COPIES)
    kwargs = merge_env_kwargs(entry, specs, env_kwargs, override=override_run_settings)
    pipeline = VecPipeline(entry.env_id, kwargs, copies)
    # a side's SPEC plays each of its groups (combined arms: a run directory's learner of that group)
    policies = {
        group: load_policy(spec, pipeline, group, group_seed(seed + index, k), device)
        for index, (side, spec) in enumerate(specs.items())
        for k, group in enumerate(pipeline.sides[side])
    }
    for group_policy in policies.values():
        if isinstance(group_policy, LearnerPolicy):
            group_policy.explore = stochastic

    with torch_threads(1):
        results = play_rounds(pipeline, policies, rounds, seed)
    pipeline.close()

    summary: dict[str, Any] = {"command": "eval", "env": entry.env_id, "env_kwargs": pipeline.env_kwargs, "rounds": rounds, "seed": seed, "stochastic": stochastic, **specs}
    if "winner" in results[0]:
        winners = [r["winner"] for r in results]
        outcomes = [(side, f"{side}_win_rate", f"{side}_wins") for side in sides] + [("draw", "draw_rate", "draws")]
        for outcome, key, count_key in outcomes:
            rate = rate_with_interval(winners.count(outcome), rounds)
            summary[key], summary[f"{key}_ci95"], summary[count_key] = rate["rate"], rate["ci95"], winners.count(outcome)
        for team in sides:
            summary[f"{team}_mean_kills"] = float(np.mean([r[f"{team}_kills"] for r in results]))
            summary[f"{team}_mean_total_reward"] = float(np.mean([r[f"{team}_total_reward"] for r in results]))
            for key in ("deaths", "survivors"):  # tiger-deer's scoreboard (Battle reports kills only)
                if f"{team}_deaths" in results[0]:
                    summary[f"{team}_mean_{key}"] = float(np.mean([r[f"{team}_{key}"] for r in results]))
    elif "G_ratio" in results[0]:
        g_opt = float(pipeline.copies[0].unwrapped.core.g_opt)
        ratio = float(np.mean([r["G_ratio"] for r in results]))
        summary.update({"G": ratio * g_opt, "G_opt": g_opt, "G_ratio": ratio})
        summary["G_ratio_last"] = float(np.mean([r["G_ratio_last"] for r in results]))
    elif "xi_late" in results[0]:
        summary["xi_late"] = float(np.mean([r["xi_late"] for r in results]))
        summary["xi_final"] = float(np.mean([r["xi_final"] for r in results]))
    return summary


def play_rounds(pipeline: VecPipeline, policies: Mapping[str, Policy], rounds: int, seed: int) -> list[dict[str, Any]]:
    """Reset ``pipeline``'s copies with ``seed`` (copy ``i`` gets ``seed + i``), play until ``rounds`` rounds have
    finished, and return the first ``rounds`` results (``make_scorer``'s, e.g. Battle's winner and kills).

    Args:
        pipeline: the vector env to play in (left open).
        policies: group -> the policy acting for it (learners should be greedy ``LearnerPolicy`` objects).
        rounds: rounds (episodes) to finish, summed over copies.
        seed: reset seed of the copies.
    """
    scorer = make_scorer(pipeline)
    results: list[dict[str, Any]] = []
    step = pipeline.reset(seed=seed)
    while len(results) < rounds:
        actions = np.empty(pipeline.n_rows, dtype=np.int64)
        for group, rows in pipeline.groups.items():
            context = GroupContext(pipeline, group, rows, step.alive[rows])
            actions[rows] = policies[group](*pipeline.group_inputs(step, group), context)
        step = pipeline.step(actions)
        for group, group_policy in policies.items():  # learners with revision_rate < 1 start each episode afresh
            if isinstance(group_policy, LearnerPolicy):
                group_policy.learner.end_episodes(step.dones[pipeline.groups[group]])
        scorer.on_step(actions, step)
        results.extend(scorer.on_finish(copy, step) for copy in np.flatnonzero(step.finished))
    return results[:rounds]
