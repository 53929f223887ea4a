"""Short learning runs that fail if learning breaks.

Gaussian Squeeze, N = 500, with two actions (send 0 or 1) and mu = sigma = 100: the optimum is
x* = 137 (27 % of the agents send 1). Uniform random play (x ~ 250) scores about 0.22 of G*, and
every homogeneous policy (all 0, or all 1: x = 500) scores about 0, so a high G / G* needs a learned,
*mixed* joint policy. The paper's mu = 400, sigma = 200 with ten actions cannot serve here: uniform
exploration (x ~ 4.5 N) is paid exactly 0 there (G underflows), so no learner gets a signal from it.

The learner is Algorithm 1 as the paper writes it (sampled Boltzmann exploration, synchronous actions,
the mean action observed when acting), not the N = 1000 defaults of ``mfagents.training.config``, which
``benchmarks/gaussian_squeeze_defaults.py`` checks (minutes of training, too long for a test).
"""

from __future__ import annotations

import csv

from mfagents.api import evaluate, train
from mfagents.training.logger import CSV_NAME

SQUEEZE = {"n_agents": 500, "n_actions": 2, "mu": 100.0, "sigma": 100.0, "max_cycles": 25}
MFQ = {
    "exploration": "boltzmann", "temperature_start": 1.0, "temperature_end": 0.001, "temperature_fraction": 0.5,
    "revision_rate": 1.0, "revision_rate_start": None, "revision_anneal_steps": 0, "revision_initial_action": None,
    "zero_init_head": False, "mean_action_input": "observed", "batch_size": 128, "replay_ratio": 1.0,
    "learning_rate": 1e-4, "learning_rate_end": None, "buffer_size": 100_000,
}  # fmt: skip


def test_mfq_learns_the_gaussian_squeeze_optimum_far_above_random_play(tmp_path):
    random_play = evaluate("gaussian_squeeze", policy="random", rounds=2, seed=0, env_kwargs=SQUEEZE)["G_ratio"]
    assert 0.1 < random_play < 0.35

    summary = train(
        "gaussian_squeeze", "mfq", seed=1, out=tmp_path, rounds=40, env_kwargs=SQUEEZE, algo_kwargs=MFQ,
        log_every_rounds=4, tensorboard=False,
    )  # fmt: skip
    with open(tmp_path / CSV_NAME, newline="") as file:
        exploring = [float(row["charts/G_ratio"]) for row in csv.DictReader(file)]
    assert exploring[0] < 0.35  # starts at random play (the temperature is high)
    assert summary["G_ratio"] > 0.6  # the Boltzmann policy at the final temperature
    greedy = evaluate("gaussian_squeeze", policy=str(tmp_path), rounds=2, seed=0, env_kwargs=SQUEEZE)
    assert greedy["G_ratio"] > 0.6 > 2 * random_play


def test_mfac_with_separate_actors_learns_the_gaussian_squeeze_greedily_and_stochastically(tmp_path):
    """MF-AC with the Squeeze defaults (separate actors, annealed temperature), started from uniform play
    (``actor_init_bonus=0``: with two actions uniform play pays, so the near-"send 0" start is not needed)."""
    random_play = evaluate("gaussian_squeeze", policy="random", rounds=2, seed=0, env_kwargs=SQUEEZE)["G_ratio"]
    train(
        "gaussian_squeeze", "mfac", seed=1, out=tmp_path, rounds=40, env_kwargs=SQUEEZE, algo_kwargs={"actor_init_bonus": 0.0},
        log_every_rounds=4, tensorboard=False,
    )  # fmt: skip
    greedy = evaluate("gaussian_squeeze", policy=str(tmp_path), rounds=2, seed=0, env_kwargs=SQUEEZE)
    stochastic = evaluate("gaussian_squeeze", policy=str(tmp_path), rounds=2, seed=0, env_kwargs=SQUEEZE, stochastic=True)
    assert not greedy["stochastic"] and stochastic["stochastic"]
    assert greedy["G_ratio"] > 0.75 > 3 * random_play
    assert stochastic["G_ratio"] > 0.75


def test_il_learns_to_fight_on_the_frontline_battle(tmp_path):
    # The quick demo's Battle (two facing lines of 8, 30-step rounds) with IL, the learner the demo does not
    # use (its MF-Q run is guarded by tests/test_cli.py). Random play against random kills 0.05 agents a
    # round here; measured: IL seed 0 beat random in 20 of 20 rounds with 6.1 kills a round.
    from mfagents.commands.demo import BATTLE_DEMOS

    setup = BATTLE_DEMOS["quick"]
    train("battle", "il", seed=0, out=tmp_path, env_kwargs=setup.env_kwargs, algo_kwargs=setup.algo_kwargs,
          opponent="random", rounds=setup.rounds, n_envs=setup.n_envs, tensorboard=False)  # fmt: skip
    trained = evaluate("battle", red=str(tmp_path), blue="random", rounds=10, seed=7, env_kwargs=setup.env_kwargs)
    untrained = evaluate("battle", red="random", blue="random", rounds=10, seed=7, env_kwargs=setup.env_kwargs)
    assert trained["red_mean_kills"] >= 1.0 and trained["red_wins"] >= 6, trained
    assert trained["red_mean_kills"] >= 5 * max(untrained["red_mean_kills"], 0.2), (trained, untrained)
