"""``mfenvs.torchrl_env.GaussianSqueezeEnv`` / ``IsingEnv``: batched TorchRL envs checked against the PettingZoo envs.

Rollouts of random actions over several short episodes (copies restart on their own) are replayed,
copy by copy, in the PettingZoo environment reset with the same seed (copy ``i``: ``seed + i``):
observations, mean actions, rewards, truncations, ``state()`` and the info values must be its own.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs, step_mdp

from mfenvs import gaussian_squeeze_v0, ising_v0
from mfenvs.gaussian_squeeze import GaussianSqueezeConfig
from mfenvs.torchrl_env import GaussianSqueezeEnv, IsingEnv
from tests.consumers.helpers import gaussian

SQUEEZE = {"n_agents": 6, "n_actions": 10, "mu": 20.0, "sigma": 10.0, "max_cycles": 3}
ISING = {"size": 3, "h": 0.3, "coupling": 1.0, "max_cycles": 4}
CASES = {
    "gaussian_squeeze": (GaussianSqueezeEnv, gaussian_squeeze_v0, SQUEEZE, ["x", "G", "G_opt"]),
    "ising": (IsingEnv, ising_v0, ISING, ["xi", "energy"]),
}
B, SEED, STEPS = 3, 11, 10


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("categorical_actions", [True, False])
def test_check_env_specs(name, categorical_actions):
    env_type, module, kwargs, info_keys = CASES[name]
    env = env_type(num_envs=B, categorical_actions=categorical_actions, seed=SEED, **kwargs)
    check_env_specs(env, seed=SEED)
    pz_env = module.parallel_env(**kwargs)
    agent = pz_env.possible_agents[0]
    n, n_actions = len(pz_env.possible_agents), pz_env.action_space(agent).n
    assert env.group_map == {"agents": pz_env.possible_agents}
    assert env.observation_spec["agents", "observation"].shape == (B, n, *pz_env.observation_space(agent).shape)
    assert env.observation_spec["agents", "mean_action"].shape == (B, n, n_actions)
    assert env.observation_spec["state"].shape == (B, *pz_env.state_space.shape)
    assert sorted(env.observation_spec["info"].keys()) == sorted(info_keys)
    action_shape = (B, n) if categorical_actions else (B, n, n_actions)
    assert env.full_action_spec["agents", "action"].shape == action_shape
    assert env.full_done_spec["agents", "truncated"].shape == (B, n, 1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rollout_matches_the_pettingzoo_env_across_restarts(name):
    env_type, module, kwargs, info_keys = CASES[name]
    env = env_type(num_envs=B, seed=SEED, **kwargs)
    torch.manual_seed(SEED)
    rollout = env.rollout(STEPS, break_when_any_done=False)
    assert rollout.batch_size == (B, STEPS)
    assert rollout["next", "agents", "reward"].dtype == torch.float32
    names = env.group_map["agents"]
    max_cycles = kwargs["max_cycles"]
    for i in range(B):
        pz_env = module.parallel_env(**kwargs)
        observations, infos = pz_env.reset(seed=SEED + i)
        for t in range(STEPS):
            step = rollout[i, t]
            np.testing.assert_array_equal(step["agents", "observation"].numpy(), np.stack([observations[a] for a in names]))
            np.testing.assert_array_equal(step["agents", "mean_action"].numpy(), np.stack([infos[a]["mean_action"] for a in names]))
            np.testing.assert_array_equal(step["state"].numpy(), pz_env.state())
            actions = dict(zip(names, step["agents", "action"].tolist()))
            observations, rewards, terminations, truncations, infos = pz_env.step(actions)
            after = step["next"]
            np.testing.assert_array_equal(after["agents", "observation"].numpy(), np.stack([observations[a] for a in names]))
            np.testing.assert_array_equal(after["agents", "reward"].squeeze(-1).numpy(), np.array([rewards[a] for a in names], np.float32))
            np.testing.assert_array_equal(after["agents", "mean_action"].numpy(), np.stack([infos[a]["mean_action"] for a in names]))
            np.testing.assert_array_equal(after["agents", "truncated"].squeeze(-1).numpy(), [truncations[a] for a in names])
            assert not after["agents", "terminated"].any() and not any(terminations.values())
            np.testing.assert_array_equal(after["state"].numpy(), pz_env.state())
            for key in info_keys:
                assert after["info", key].item() == pytest.approx(infos[names[0]][key], rel=1e-6)
            episode_over = (t + 1) % max_cycles == 0
            assert after["truncated"].item() is episode_over and after["done"].item() is episode_over
            if episode_over:  # TorchRL restarted this copy; the PettingZoo env restarts from its own generator
                observations, infos = pz_env.reset()
    assert rollout["next", "done"].sum() == B * (STEPS // max_cycles)


def test_gaussian_squeeze_rewards_are_g_of_each_copys_load():
    env = GaussianSqueezeEnv(num_envs=B, seed=SEED, **SQUEEZE)
    td = env.reset()
    actions = torch.arange(B * 6).reshape(B, 6) % 10
    td["agents", "action"] = actions
    after = env.step(td)["next"]
    loads = actions.sum(1).numpy()
    expected = gaussian(loads, SQUEEZE["mu"], SQUEEZE["sigma"]).astype(np.float32)
    np.testing.assert_allclose(after["agents", "reward"][..., 0].numpy(), np.repeat(expected[:, None], 6, 1), rtol=1e-6)
    np.testing.assert_array_equal(after["info", "x"].numpy(), loads)


def test_ising_seeds_and_partial_resets():
    env = IsingEnv(num_envs=B, seed=SEED, **ISING)
    first = env.reset()["state"]
    for i in range(B):  # copy i starts from the spins of seed + i
        pz_env = ising_v0.parallel_env(**ISING)
        pz_env.reset(seed=SEED + i)
        np.testing.assert_array_equal(first[i].numpy(), pz_env.state())
    assert not (first[0] == first[1]).all()
    assert (IsingEnv(num_envs=B, **ISING).reset(seed=SEED)["state"] == first).all()  # reset(seed=...) seeds too

    td = env.reset()  # unseeded: every copy draws on from its own generator
    assert not (td["state"] == first).all()
    td["agents", "action"] = torch.ones(B, 9, dtype=torch.int64)  # every spin up
    td = step_mdp(env.step(td))
    assert (td["state"] == 1).all() and [core.steps for core in env.cores] == [1, 1, 1]
    which = torch.tensor([[False], [True], [False]])
    td = env.reset(td.set("_reset", which))
    assert [core.steps for core in env.cores] == [1, 0, 1]
    assert (td["state"][[0, 2]] == 1).all() and not (td["state"][1] == 1).all()  # only copy 1 restarted
    kept = env.reset(td.clone().set("_reset", torch.zeros(B, 1, dtype=torch.bool)))  # nothing selected
    assert (kept.exclude("_reset") == td.exclude("_reset")).all() and [core.steps for core in env.cores] == [1, 0, 1]


def test_bad_arguments_give_clear_errors():
    with pytest.raises(TypeError, match="not both"):
        GaussianSqueezeEnv(GaussianSqueezeConfig(), n_agents=5)
    with pytest.raises(TypeError, match="config must be a IsingConfig"):
        IsingEnv(GaussianSqueezeConfig())
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        IsingEnv(num_envs=0, **ISING)
    with pytest.raises(ValueError, match="size must be >= 3"):
        IsingEnv(size=2)
    env = GaussianSqueezeEnv(num_envs=2, seed=0, **SQUEEZE)
    with pytest.raises(RuntimeError, match="reset"):
        env.rand_step()
    td = env.reset()
    td["agents", "action"] = torch.full((2, 6), 10)
    with pytest.raises(ValueError, match=r"actions must be in \[0, 10\), got \[10\]"):
        env.step(td)
