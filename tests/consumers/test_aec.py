"""Tianshou's ``PettingZooEnv`` (an AEC consumer) on ``env()``: collected episodes checked against the environment.

Tianshou wraps the AEC environment (``name_v0.env()``), gives one agent's observation per step and
ends the episode as soon as the agent to act is done. Every episode here runs to ``max_cycles``, so
Battle is created with ``dead_agents="absorb"``; with ``"remove"`` Tianshou ends the episode at the
first death (the last test pins that pitfall, documented in docs/mean_action.md, "Many-agent pitfalls").

One shared policy acts for every agent (parameter sharing): Tianshou's random policy over the action
mask its wrapper builds. The actions it took are replayed in a twin parallel environment with the
same seed; the rewards Tianshou stored must be that environment's.
"""

from __future__ import annotations

import numpy as np
import pytest
from tianshou.algorithm.random import MARLRandomDiscreteMaskedOffPolicyAlgorithm
from tianshou.data import Collector, ReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.env.pettingzoo_env import PettingZooEnv

from mfenvs import battle_v0, gaussian_squeeze_v0, ising_v0
from tests.consumers.helpers import CROWDED_BATTLE

SEED = 4  # with this seed (and its seeding of NumPy for Tianshou) agents die in Battle
CASES = {
    "gaussian_squeeze": (gaussian_squeeze_v0, {"n_agents": 6, "mu": 20.0, "sigma": 10.0, "max_cycles": 4}),
    "ising": (ising_v0, {"size": 3, "h": 0.2, "max_cycles": 4}),
    "battle": (battle_v0, {**CROWDED_BATTLE, "max_cycles": 20, "dead_agents": "absorb"}),
}


def collect_one_episode(module, kwargs):
    """One episode collected by Tianshou from ``reset(seed=SEED)``; returns (the buffer's batch, the wrapper)."""
    wrapper = PettingZooEnv(module.env(**kwargs))
    envs = DummyVectorEnv([lambda: wrapper])
    policy = MARLRandomDiscreteMaskedOffPolicyAlgorithm.Policy(wrapper.action_space)
    # One env, so a plain ReplayBuffer: a VectorReplayBuffer JIT-compiles numba code for 10 s first.
    collector = Collector(policy, envs, ReplayBuffer(10_000))
    np.random.seed(SEED)  # Tianshou's random policy draws from NumPy's global generator
    collector.reset(gym_reset_kwargs={"seed": SEED})
    collector.collect(n_episode=1)
    batch, _ = collector.buffer.sample(0)  # everything, in order
    return batch, wrapper


@pytest.mark.parametrize("name", CASES)
def test_collected_episode_matches_the_parallel_environment(name):
    module, kwargs = CASES[name]
    batch, wrapper = collect_one_episode(module, kwargs)
    agents = wrapper.agents  # possible_agents, in order
    n, cycles = len(agents), kwargs["max_cycles"]

    assert len(batch) == n * cycles  # every agent acts once per cycle until max_cycles
    assert batch.obs.agent_id.tolist() == agents * cycles
    assert batch.obs.obs.shape == (n * cycles, *wrapper.observation_space.shape)
    assert batch.obs.mask.shape == (n * cycles, wrapper.action_space.n) and batch.obs.mask.all()
    assert batch.rew.shape == (n * cycles, n)
    assert batch.done.tolist() == [False] * (n * cycles - 1) + [True]  # the episode ends after its last agent-step
    assert batch.truncated[-1] and not batch.terminated[:-1].any()  # the last agent-step ends the episode
    assert batch.info.mean_action.shape == (n * cycles, wrapper.action_space.n)  # the next agent's info

    twin = module.parallel_env(**kwargs)
    twin.reset(seed=SEED)
    actions = batch.act.reshape(cycles, n)
    rewards = batch.rew.reshape(cycles, n, n)
    for cycle in range(cycles):
        _, expected, terminations, _, infos = twin.step(dict(zip(agents, actions[cycle].tolist())))
        # the AEC wrapper publishes a cycle's rewards after its last agent has acted, and clears them in between
        np.testing.assert_allclose(rewards[cycle, -1], [expected[agent] for agent in agents], rtol=1e-6)
        np.testing.assert_array_equal(rewards[cycle, :-1], 0.0)
    assert not twin.agents
    if name == "battle":  # agents died (and stayed), and the results of the last step reach Tianshou's buffer
        assert not batch.info.alive.all()
        for key in ("red_won", "blue_won", "draw", "red_kills", "blue_kills"):
            assert batch.info[key][-1] == infos[agents[0]][key]
        assert batch.terminated[-1] == (terminations[agents[-1]] or not infos[agents[-1]]["alive"])


def test_with_removed_agents_tianshou_ends_the_episode_at_the_first_death():
    kwargs = {**CASES["battle"][1], "dead_agents": "remove"}
    batch, wrapper = collect_one_episode(battle_v0, kwargs)
    n = len(wrapper.agents)
    assert len(batch) < n * kwargs["max_cycles"]  # cut short
    assert batch.done[-1] and batch.terminated[-1] and not batch.truncated[-1]
    assert not (batch.info.red_won.any() or batch.info.blue_won.any() or batch.info.draw.any())  # the battle went on
