"""RLlib (the ``rllib`` extra): its own ``ParallelPettingZooEnv`` wrapper on Gaussian Squeeze, and PPO with one
shared policy for every agent (parameter sharing) training on Gaussian Squeeze and on Battle (``dead_agents="absorb"``;
Battle's 13 x 13 views need ``conv_filters``: RLlib has no default CNN for that shape).

Not in the ``test`` extra: RLlib 2.60 requires gymnasium 1.2.2 and pip would downgrade the suite's
gymnasium for it, so these tests run where ``pip install -e ".[rllib]"`` was chosen (checked with Ray
2.60.0, gymnasium 1.2.2, in a virtual environment of its own).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray.rllib")

from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv  # noqa: E402

from mfenvs import battle_v0, gaussian_squeeze_v0  # noqa: E402
from tests.consumers.helpers import gaussian  # noqa: E402

SMALL = {"n_agents": 20, "n_actions": 10, "mu": 40.0, "sigma": 20.0, "max_cycles": 5}


def test_wrapper_steps_with_the_environment_rewards():
    env = ParallelPettingZooEnv(gaussian_squeeze_v0.parallel_env(**SMALL))
    observations, infos = env.reset(seed=0)
    agents = sorted(observations)
    assert len(agents) == SMALL["n_agents"] and all(observations[a].shape == (3,) for a in agents)
    rng = np.random.default_rng(0)
    for _ in range(SMALL["max_cycles"]):
        actions = {agent: int(rng.integers(SMALL["n_actions"])) for agent in agents}
        observations, rewards, terminateds, truncateds, infos = env.step(actions)
        expected = gaussian(sum(actions.values()), SMALL["mu"], SMALL["sigma"])
        assert all(rewards[agent] == pytest.approx(expected, rel=1e-5) for agent in agents)
        assert infos[agents[0]]["mean_action"].shape == (SMALL["n_actions"],)
    assert truncateds["__all__"] and not terminateds["__all__"]


BATTLE = {"map_size": 12, "max_cycles": 20, "dead_agents": "absorb"}  # 5 v 5


def ppo_one_iteration(make_env, env_config: dict, model_config: dict | None = None) -> dict:
    """One PPO training iteration with one module ``shared`` for every agent; the result dict."""
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.tune.registry import register_env

    register_env("mfzoo_env", lambda config: ParallelPettingZooEnv(make_env(**config)))
    config = (
        PPOConfig()
        .environment("mfzoo_env", env_config=env_config)
        .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kwargs: "shared")
        .rl_module(model_config=DefaultModelConfig(**(model_config or {})))
        .env_runners(num_env_runners=0)
        .training(train_batch_size_per_learner=200, minibatch_size=100, num_epochs=1)
    )
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        algo = config.build_algo()
        result = algo.train()
        algo.stop()
    finally:
        ray.shutdown()
    assert result["num_env_steps_sampled_lifetime"] >= 200
    assert "shared" in result["learners"]  # one module learns for every agent
    return result


def test_ppo_trains_one_shared_policy_on_gaussian_squeeze():
    result = ppo_one_iteration(gaussian_squeeze_v0.parallel_env, SMALL)
    best = SMALL["n_agents"] * SMALL["max_cycles"] * float(gaussian(np.arange(SMALL["n_agents"] * 9 + 1), SMALL["mu"], SMALL["sigma"]).max())
    assert 0.0 <= result["env_runners"]["episode_return_mean"] <= best  # agents' returns summed over the episode


def test_ppo_trains_one_shared_policy_on_battle_with_conv_filters():
    result = ppo_one_iteration(battle_v0.parallel_env, BATTLE, {"conv_filters": [[16, 3, 2], [32, 3, 2]]})
    # 10 agents, 20 steps: at least the step costs (-0.005 each), at most every agent killing every step
    assert 10 * 20 * -0.3 <= result["env_runners"]["episode_return_mean"] <= 10 * 5.0 * 5
