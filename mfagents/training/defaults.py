"""The ONE table of training defaults: per environment (``TRAINING_DEFAULTS``) and per preset (``PRESETS``).

What a run takes when ``mfzoo train`` leaves a setting out; each learner setting says why it was chosen
(the measurements behind them are in BENCHMARKS.md). ``mfagents.training.config`` resolves a run against it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SELF_PLAY = "self"
"""Opponent SPEC of Battle self-play: a frozen copy of the learner, refreshed when the learner wins a round."""
TRAIN_PREFIX = "train:"
"""Opponent SPEC prefix of a second learner trained at the same time, e.g. ``train:il``."""
DEFAULT_ALGO = "mfq"
"""Learner of ``mfzoo train`` when ``--algo`` is not given."""
ALGO_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    # a table over the neighbour counts of a 4-neighbour lattice (Eq. 32): no observations, no replay
    "tabular_mfq": ("ising",),
}
"""Algorithms that serve only some environments (short names); the others serve every environment."""


@dataclass(frozen=True)
class EnvDefaults:
    """Training defaults of one environment."""

    rounds: int | None = None
    """Default budget in rounds (episodes, summed over copies); used when ``steps`` is None too."""
    steps: int | None = None
    """Default budget in environment steps (summed over copies), if the budget is counted in steps."""
    n_envs: int = 1
    """Environment copies stepped together through SuperSuit."""
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Environment arguments of the default run (the user's ``--env-kwarg`` values win)."""
    algo_kwargs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Learner config overrides per algorithm name; key ``"*"`` applies to every algorithm first."""
    log_every_rounds: int = 1
    """A CSV / TensorBoard row every this many finished rounds."""
    checkpoint_every_rounds: int = 10
    """A checkpoint every this many finished rounds (and at the end)."""
    default_opponent: str | None = None
    """Opponent SPEC of the second team when none is given (team environments only)."""
    eval_every_rounds: int = 0
    """Greedy evaluation against ``eval_panel`` every this many finished rounds, and at the end (0: off;
    team environments only: ``mfagents.evaluation.panel``)."""
    eval_panel: tuple[str, ...] = ()
    """Policy SPECs the learner is evaluated against (its team's opponents), one after the other."""
    eval_rounds: int = 10
    """Evaluation rounds per panel opponent (each with its own Wilson 95 % interval)."""


SQUEEZE_Q_LEARNING: dict[str, Any] = {
    "exploration": "epsilon",
    "epsilon_start": 1.0,
    "epsilon_end": 0.05,
    "epsilon_fraction": 0.7,
    "batch_size": 1024,
    "replay_ratio": 4.0,
    "learning_rate": 1e-3,
    "learning_rate_end": 1e-5,
}
"""MF-Q and IL settings of the Gaussian Squeeze defaults (IL: the same, without the mean action)."""


SQUEEZE_ACTOR_CRITIC: dict[str, Any] = {
    # Measured on tuning seeds >= 100 (BENCHMARKS.md, "Gaussian Squeeze: MF-AC with separate actors (issue 24)").
    # * separate actors, as the paper's Appendix C.1 ("Actors are kept separate"): a shared actor that learns the
    #   mixed optimum plays one action for everybody when evaluated greedily (x = 0 or N).
    "actor_sharing": "separate",
    # * each agent's logits start apart, N(0, 2), and near "send 0" (+8 on action 0): uniform play sends
    #   x ~ 4.5 N, where G underflows to exactly 0 and no action has a gradient; from x < x* every step pays.
    "actor_init_std": 2.0,
    "actor_init_action": 0,
    "actor_init_bonus": 8.0,
    # * the expected ("all actions") actor gradient, no entropy bonus (under Adam any entropy weight drives the
    #   actors to uniform play wherever G is 0), and a temperature annealed 1 -> 0.05 over 80 % of the budget:
    #   at T = 1 the actors settle on a mixed joint policy whose greedy play is far from x*; as T falls,
    #   sampled play becomes the greedy play that evaluation scores, and the actors settle on pure actions.
    "actor_update": "all_actions",
    "entropy_coef": 0.0,
    "actor_temperature": 1.0,
    "actor_temperature_end": 0.05,
    # * Adam 1e-3 for critic and actors, annealed to 1e-5 (the paper: critic 1e-3, actors 1e-4; at 1e-4 the
    #   actors stayed mixed after 100 rounds), and a replay of the last round only (10^5 transitions): with the
    #   paper's 10^6 the actors chase the loads of 10 rounds ago and x swings between 0.35 and 0.75 of 9 N.
    "learning_rate": 1e-3,
    "actor_learning_rate": 1e-3,
    "learning_rate_end": 1e-5,
    "buffer_size": 100_000,
    # * synchronous play (the paper's): separate actors need no revision inertia.
    "revision_rate": 1.0,
    "revision_initial_action": None,
    "revision_rate_start": None,
    "revision_anneal_steps": 0,
    # * MF-Q's batch and concurrent mean action (of the other agents); each transition sampled twice.
    "batch_size": 1024,
    "replay_ratio": 2.0,
    "mean_action_input": "concurrent",
}
"""MF-AC and AC settings of the Gaussian Squeeze defaults (AC: the same, without the mean action)."""


BATTLE_Q_LEARNING: dict[str, Any] = {
    # The Boltzmann temperature is in units of Q, i.e. of the reward: a step costs 0.005, an attack 0.1, a
    # hit pays 0.2, so the Q values of one state differ by ~0.1 early on. At T = 1 (the old start) play
    # is uniform, and nothing was learnt until T fell below ~0.3 late in the budget; from T = 0.1 the
    # greedy ranking shapes play from the first round and annealing to 0.01 ends near greedy.
    "temperature_start": 0.1,
    "temperature_end": 0.01,
    # Each transition is sampled once (it was 0.25: 50 gradient steps per 25,600 transitions), with a
    # learning rate 5x the paper's: rewards are sparse (a kill is rare) and the budget is 250 rounds.
    "replay_ratio": 1.0,
    "learning_rate": 5e-4,
    "learning_starts": 2_000,
}
"""MF-Q and IL settings of the Battle defaults (IL: the same, without the mean action)."""


BATTLE_ACTOR_CRITIC: dict[str, Any] = {
    # Algorithm 2 with the paper's sampled actor gradient (grad log pi(a | s) A at the replayed action) and its
    # entropy weight 0.08 collapses on Battle: attacks into empty cells have negative advantages first, their
    # log pi is driven to -inf and the actor plays "stay" by round ~16 (BENCHMARKS.md, "what made the learners
    # fight"). What fights instead (paper's setup, self-play, tuning seed 100: 45 red kills by round 14, as MF-Q):
    # * the expected ("all actions") actor gradient sum_b pi(b | s) A(s, b) from the critic's Q of every action,
    #   so the replayed action (an older policy's) is not used;
    # * an entropy weight in units of Q, moved like MF-Q's Boltzmann temperature (0.1 -> 0.01 over 80 % of the
    #   budget): with the expected gradient the actor's optimum is pi proportional to exp(Q / weight), i.e.
    #   MF-Q's Boltzmann policy, tracked by a network. A weight of 0.03 -> 0.003 collapsed to "never attack"
    #   (0 kills by round 13, total reward -185); no weight at all collapses to "stay".
    # * softmax temperature 1 (the paper's 0.1 only scales the actor's logits); MF-Q's learning rate, replay
    #   ratio and warm-up (rare kill rewards need each transition replayed, see BATTLE_Q_LEARNING).
    "actor_update": "all_actions",
    "actor_temperature": 1.0,
    "entropy_coef": 0.1,
    "entropy_coef_end": 0.01,
    "learning_rate": 5e-4,
    "replay_ratio": 1.0,
    "learning_starts": 2_000,
}
"""MF-AC and AC settings of the Battle defaults (AC: the same, without the mean action)."""


TRAINING_DEFAULTS: dict[str, EnvDefaults] = {
    # Gaussian Squeeze, the paper's largest setting (N = 1000, mu = 400, sigma = 200, ten actions; G / G* >= 0.98
    # needs the load x within 418..472). The game is stateless, so gamma = 0 and the target is the scaled
    # reward G / 423 (~G / G*). Measured (BENCHMARKS.md, benchmarks/gaussian_squeeze_defaults.py): greedy
    # G / G* >= 0.99 on every one of 8 seeds, ~5 minutes of one core per seed. What it takes:
    # * asynchronous revision with annealed inertia: every episode starts from "everyone sends 0"; 3 % of the
    #   agents act on the policy at the first step, 0.5 % per step after 25 steps (the others repeat their
    #   action). Synchronous greedy play with one shared network jumps between x = 0 and x = 9 N; a constant
    #   rate either climbs too slowly out of x < 100 (where G is ~0 and the Q values cannot rank the actions)
    #   or keeps oscillating around x* (measured: 1 % and 2 % both fail some seeds).
    # * the concurrent mean action: Q(a, abar) = G(a + (N - 1) load(abar)) is then a deterministic target.
    # * epsilon-greedy from a zero-initialised Q head: greedy play starts at "send 0". Uniform play alone sits at
    #   x ~ 4.5 N, where G underflows to exactly 0; starting from x = 0, every episode climbs through x*.
    # * precision: the Q values of neighbouring actions differ by at most ~0.04 G* (~1e-3 G* near x*); where
    #   the network's error is larger, greedy play stops at a wrong load. Large batches, each transition
    #   trained on 4 times (replay ratio 0.5 left 2 of 8 seeds at 0.73-0.75) and a learning rate annealed to 1e-5.
    # * rounds of 100 steps: from x = 0 the joint action needs ~40 steps to settle at 0.5 % revisions per step,
    #   and G_ratio averages the second half of each round (with 50-step rounds 2 of 8 seeds scored
    #   0.967-0.975 although every one had settled at >= 0.997).
    # Tried without a gain: 400 rounds, epsilon_fraction 0.5, epsilon_end 0.01, a log transform of the
    # reward, a dueling Q head.
    "gaussian_squeeze": EnvDefaults(
        rounds=100,
        n_envs=1,
        env_kwargs={"max_cycles": 100},
        algo_kwargs={
            "*": {
                "gamma": 0.0,
                "reward_scale": 1.0 / 423.0,
                "learning_starts": 2_000,
                "buffer_size": 1_000_000,
                "revision_rate": 0.005,
                "revision_rate_start": 0.03,
                "revision_anneal_steps": 25,
                "revision_initial_action": 0,
                "zero_init_head": True,
            },
            "mfq": {**SQUEEZE_Q_LEARNING, "mean_action_input": "concurrent"},
            "il": SQUEEZE_Q_LEARNING,
            "mfac": SQUEEZE_ACTOR_CRITIC,
            "ac": SQUEEZE_ACTOR_CRITIC,
        },
        log_every_rounds=5,
        checkpoint_every_rounds=50,
    ),
    # Ising: the paper's tabular MF-Q is the natural learner (``--algo tabular_mfq``).
    "ising": EnvDefaults(
        rounds=100,
        n_envs=1,
        log_every_rounds=5,
        checkpoint_every_rounds=20,
    ),
    # Battle: the paper's setup (40 x 40, 64 v 64, 400 steps, self-play with refresh-on-win, gamma 0.95,
    # batch 128) on a budget that fits one core in about an hour; ``--preset paper`` keeps the paper's
    # 2000 rounds and Adam 1e-4. See BATTLE_Q_LEARNING for what makes the learners fight.
    "battle": EnvDefaults(
        rounds=250,
        n_envs=1,
        env_kwargs={"map_size": 40},
        algo_kwargs={
            "*": {"obs_dtype": "float16"},
            "mfq": BATTLE_Q_LEARNING,
            "il": BATTLE_Q_LEARNING,
            "mfac": BATTLE_ACTOR_CRITIC,
            "ac": BATTLE_ACTOR_CRITIC,
        },
        log_every_rounds=1,
        checkpoint_every_rounds=10,
        default_opponent=SELF_PLAY,
        # Strength while training (issue 23; BENCHMARKS.md, "The evaluation panel's cost"): 10 greedy rounds
        # against each of random and scripted took 10 s for a trained team (wipe-outs end rounds early) and 46 s
        # for one that does not kill yet (400-step draws against random), against ~10.5 s per training round:
        # every 50 rounds that is ~2 % of the training time, at most ~9 %.
        eval_every_rounds=50,
        eval_panel=("random", "scripted"),
        eval_rounds=10,
    ),
}
# Battlefield (MAgent2's battlefield_v5: 12 v 12 among walls on an 80 x 80 map, rounds of up to 1000 steps) trains
# with Battle's learner settings and panel; nothing has been tuned or measured on it yet.
TRAINING_DEFAULTS["battlefield"] = dataclasses.replace(TRAINING_DEFAULTS["battle"], env_kwargs={"map_size": 80})
# Combined arms (MAgent2's combined_arms_v6 at its map 45: 45 melee + 36 ranged per side, rounds of up to 1000 steps)
# trains a learner per group with Battle's learner settings (each group's learner is Battle's network on its own
# observation and actions); nothing has been tuned or measured on it yet. Its panel is random only: the scripted
# fighter plays Battle's games.
TRAINING_DEFAULTS["combined_arms"] = dataclasses.replace(TRAINING_DEFAULTS["battle"], env_kwargs={}, eval_panel=("random",))
# Tiger-deer (MAgent2's tiger_deer_v4 at its map 45: 101 deer, 20 tigers, rounds of up to 300 steps): the first side,
# the tigers, learns with Battle's learner settings; its sides are different groups, so there is no self-play mirror:
# the deer play random by default, or learn beside the tigers with ``--opponent train:ALGO``. Panel: random (deer).
# Nothing has been tuned or measured on it yet.
TRAINING_DEFAULTS["tiger_deer"] = dataclasses.replace(
    TRAINING_DEFAULTS["battle"], env_kwargs={}, default_opponent="random", eval_panel=("random",)
)
"""The ONE table of training defaults, by environment short name."""

PRESETS: dict[str, dict[str, EnvDefaults]] = {
    "default": TRAINING_DEFAULTS,
    # The paper's Battle budget and learning rate (2000 self-play rounds, Adam 1e-4), for users with the
    # compute: 8x the default budget (a few hours of one core). The temperature schedule, which the paper does not give, is ours.
    "paper": {
        **TRAINING_DEFAULTS,
        "battle": dataclasses.replace(
            TRAINING_DEFAULTS["battle"],
            rounds=2000,
            algo_kwargs={
                "*": {"obs_dtype": "float16"},
                "mfq": {**BATTLE_Q_LEARNING, "learning_rate": 1e-4},
                "il": {**BATTLE_Q_LEARNING, "learning_rate": 1e-4},
                "mfac": {**BATTLE_ACTOR_CRITIC, "learning_rate": 1e-4},
                "ac": {**BATTLE_ACTOR_CRITIC, "learning_rate": 1e-4},
            },
        ),
    },
}
"""Named tables of defaults (``mfzoo train --preset``): ``default`` fits this project's 2-core machine."""


def algo_defaults(defaults: EnvDefaults, algo: str) -> dict[str, Any]:
    """Learner overrides of the defaults table for ``algo``: the ``"*"`` entry, then the algorithm's own."""
    return {**defaults.algo_kwargs.get("*", {}), **defaults.algo_kwargs.get(algo, {})}
