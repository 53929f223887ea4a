"""MF-Q / IL (mfagents.algos.mfq) and the learner registry: targets, policy, persistence, and learning."""

from __future__ import annotations

import copy
import json
import math

import gymnasium
import numpy as np
import pytest
import torch

from mfagents.algos import ALGORITHMS, Learner, make_learner
from mfagents.algos.mfq import MFQ, MFQConfig, mean_field_value
from mfagents.algos.buffers import Batch
from mfagents.algos.exploration import boltzmann_probabilities, sample_categorical
from mfenvs import gaussian_squeeze_v0

VECTOR_SPACE = gymnasium.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
BATTLE_SPACE = gymnasium.spaces.Box(0.0, 2.0, shape=(13, 13, 41), dtype=np.float32)




class TableQ(torch.nn.Module):
    """A hand-written Q function: Q(s, .) = table[int(s[0])] (mean action and rows ignored)."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.tensor(table, dtype=torch.float32)

    def forward(self, obs, mean_actions=None, rows=None):
        return self.table[obs[:, 0].long()]


def hand_batch(next_states, rewards, dones, n_actions: int = 3) -> Batch:
    n = len(rewards)
    next_obs = torch.zeros(n, 3)
    next_obs[:, 0] = torch.tensor(next_states, dtype=torch.float32)
    return Batch(
        obs=torch.zeros(n, 3),
        actions=torch.zeros(n, dtype=torch.int64),
        mean_actions=torch.zeros(n, n_actions),
        rewards=torch.tensor(rewards, dtype=torch.float32),
        next_obs=next_obs,
        next_mean_actions=torch.zeros(n, n_actions),
        dones=torch.tensor(dones, dtype=torch.float32),
        rows=torch.arange(n),
    )


def random_step(rng: np.random.Generator, n: int, space=VECTOR_SPACE, n_actions: int = 3):
    obs = rng.random((n, *space.shape), dtype=np.float32)
    abar = rng.dirichlet(np.ones(n_actions), size=n).astype(np.float32)
    return obs, abar


# -- registry --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_registered_learner_follows_the_protocol(name):
    space = gymnasium.spaces.Box(-1.0, 1.0, shape=(5,), dtype=np.float32)
    learner = make_learner(name, space, 2, 4, seed=0)
    assert isinstance(learner, Learner)
    assert learner.name == name
    assert learner.uses_mean_action == (name in ("mfq", "mfac", "tabular_mfq"))
    config = learner.config_dict()
    rebuilt = make_learner(name, space, 2, 4, seed=0, **json.loads(json.dumps(config)))
    assert rebuilt.config_dict() == config
    assert all(isinstance(value, torch.Tensor) for value in learner.state_dict().values())
    observations = np.zeros((8, 5), dtype=np.float32)
    mean_actions = np.tile(np.array([[0.5, 0.5]], dtype=np.float32), (8, 1))
    actions = learner.act(observations, mean_actions)
    assert actions.shape == (8,) and actions.dtype == np.int64 and set(actions.tolist()) <= {0, 1}
    learner.observe(observations, actions, mean_actions, np.ones(8), np.zeros(8, bool), np.ones(8, bool))
    assert isinstance(learner.update(), dict)


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown algorithm 'dqn'"):
        make_learner("dqn", VECTOR_SPACE, 3, 2, seed=0)
    with pytest.raises(TypeError, match="no field 'learning_rte'.*learning_rate"):
        make_learner("mfq", VECTOR_SPACE, 3, 2, seed=0, learning_rte=0.1)
    with pytest.raises(ValueError, match="use 'mfq'"):
        make_learner("il", VECTOR_SPACE, 3, 2, seed=0, use_mean_action=True)
    with pytest.raises(ValueError, match="use 'il'"):
        make_learner("mfq", VECTOR_SPACE, 3, 2, seed=0, use_mean_action=False)
    with pytest.raises(ValueError, match="exploration"):
        MFQConfig(exploration="greedy")
    with pytest.raises(ValueError, match="gamma"):
        MFQConfig(gamma=1.5)


# -- targets and policy against hand-computed numbers ------------------------------------------------------
def test_mean_field_value_hand_computed():
    q = torch.tensor([[1.0, 2.0, 3.0]])
    # softmax([1, 2, 3]) = [0.09003057, 0.24472847, 0.66524096]
    torch.testing.assert_close(mean_field_value(q, 1.0), torch.tensor([2.5752104]))
    torch.testing.assert_close(mean_field_value(q, 1e-3), torch.tensor([3.0]))  # cold: the max
    torch.testing.assert_close(mean_field_value(q, 1e6), torch.tensor([2.0]), atol=1e-5, rtol=0)  # hot: the mean


@pytest.mark.parametrize(
    "backup, expected",
    [
        # v(0) = softmax([2, 4, 6]) . [1, 2, 3] = 2.8509371; v(1) = softmax([0, 0, 12]) . [0, 0, 6] = 5.9999263
        ("boltzmann", [1 + 0.9 * 2.8509371, -1 + 0.9 * 5.9999263, 2.0]),
        ("max", [1 + 0.9 * 3.0, -1 + 0.9 * 6.0, 2.0]),
    ],
)
def test_td_target_hand_computed(backup, expected):
    cold = dict(temperature_start=0.5, temperature_end=0.5)
    learner = make_learner("mfq", VECTOR_SPACE, 3, 3, seed=0, gamma=0.9, backup=backup, **cold)
    learner.q_target = TableQ([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    batch = hand_batch(next_states=[0, 1, 1], rewards=[1.0, -1.0, 2.0], dones=[0, 0, 1])
    torch.testing.assert_close(learner.td_target(batch), torch.tensor(expected))


def test_target_uses_the_scheduled_temperature():
    schedule = dict(temperature_start=1.0, temperature_end=0.5, temperature_fraction=1.0)
    learner = make_learner("mfq", VECTOR_SPACE, 3, 3, seed=0, gamma=1.0, **schedule)
    learner.q_target = TableQ([[1.0, 2.0, 3.0]])
    batch = hand_batch(next_states=[0], rewards=[0.0], dones=[0])
    torch.testing.assert_close(learner.td_target(batch), torch.tensor([2.5752104]))  # T = 1
    learner.set_progress(1.0)
    torch.testing.assert_close(learner.td_target(batch), torch.tensor([2.8509371]))  # T = 0.5


def test_boltzmann_policy_is_sampled_at_the_scheduled_temperature():
    schedule = dict(temperature_start=1.0, temperature_end=0.5, temperature_fraction=0.8)
    learner = make_learner("mfq", VECTOR_SPACE, 3, 1, seed=0, **schedule)
    learner.q = TableQ([[0.0, math.log(2.0), math.log(5.0)]])
    observations, mean_actions = np.zeros((40_000, 3), np.float32), np.zeros((40_000, 3), np.float32)

    def frequencies():
        return np.bincount(learner.act(observations, mean_actions), minlength=3) / len(observations)

    np.testing.assert_allclose(frequencies(), [1 / 8, 2 / 8, 5 / 8], atol=0.01)  # T = 1: weights 1, 2, 5
    learner.set_progress(0.9)
    assert learner.temperature == pytest.approx(0.5)
    np.testing.assert_allclose(frequencies(), [1 / 30, 4 / 30, 25 / 30], atol=0.01)  # T = 0.5: weights 1, 4, 25
    np.testing.assert_array_equal(learner.act(observations[:5], mean_actions[:5], explore=False), 2)


def test_epsilon_greedy_variant():
    schedule = dict(epsilon_start=0.6, epsilon_end=0.0, epsilon_fraction=0.5)
    learner = make_learner("mfq", VECTOR_SPACE, 3, 1, seed=0, exploration="epsilon", **schedule)
    learner.q = TableQ([[0.0, 1.0, 0.5]])
    observations, mean_actions = np.zeros((30_000, 3), np.float32), np.zeros((30_000, 3), np.float32)
    frequencies = np.bincount(learner.act(observations, mean_actions), minlength=3) / 30_000
    np.testing.assert_allclose(frequencies, [0.2, 0.6, 0.2], atol=0.015)  # 0.6 explores uniformly
    learner.set_progress(0.5)
    np.testing.assert_array_equal(learner.act(observations, mean_actions), 1)


def test_mean_action_reaches_the_network_for_mfq_not_il():
    rng = np.random.default_rng(0)
    observations, _ = random_step(rng, 4)
    uniform = np.full((4, 3), 1 / 3, dtype=np.float32)
    peaked = np.tile(np.array([[1.0, 0.0, 0.0]], dtype=np.float32), (4, 1))
    mfq = make_learner("mfq", VECTOR_SPACE, 3, 4, seed=0)
    il = make_learner("il", VECTOR_SPACE, 3, 4, seed=0)
    assert not np.allclose(mfq.q_values(observations, uniform), mfq.q_values(observations, peaked))
    np.testing.assert_array_equal(il.q_values(observations, uniform), il.q_values(observations, peaked))
    np.testing.assert_array_equal(il.q_values(observations, None), il.q_values(observations, peaked))
    with pytest.raises(ValueError, match="mean_actions"):
        mfq.act(observations, uniform[:, :2])


# -- asynchronous revision ---------------------------------------------------------------------------------
def lattice_inputs(n: int, state: int) -> tuple[np.ndarray, np.ndarray]:
    """Observations whose first entry selects a ``TableQ`` row, and mean actions valid for every learner
    (two actions, counts over 4 neighbours, as tabular MF-Q needs)."""
    observations = np.zeros((n, 3), dtype=np.float32)
    observations[:, 0] = state
    return observations, np.tile(np.array([[0.5, 0.5]], dtype=np.float32), (n, 1))


def prefer(learner, action: int) -> None:
    """Make ``action`` (of two) the overwhelming choice of ``learner``'s policy, exploring or greedy."""
    values = [[0.0, 0.0]]
    values[0][action] = 40.0
    if learner.name == "tabular_mfq":
        learner.q_table[:] = np.array(values[0])
    elif learner.name in ("mfac", "ac"):
        learner.actor = TableQ(values)
    else:
        learner.q = TableQ(values)


@pytest.mark.parametrize("explore", [True, False])
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_learner_revises_a_share_of_rows_and_repeats_the_others(name, explore):
    n, rate = 4_000, 0.25
    learner = make_learner(name, VECTOR_SPACE, 2, 4, seed=0, revision_rate=rate)
    observations, mean_actions = lattice_inputs(n, 0)
    prefer(learner, 1)
    np.testing.assert_array_equal(learner.act(observations, mean_actions, explore), 1)  # no previous action: all act
    prefer(learner, 0)
    second = learner.act(observations, mean_actions, explore)
    assert np.mean(second == 0) == pytest.approx(rate, abs=0.03)  # the revising share; the others repeat 1
    ended = np.arange(n) < n // 2
    learner.observe(observations, second, mean_actions, np.zeros(n), ended, np.ones(n, dtype=bool))
    third = learner.act(observations, mean_actions, explore)
    np.testing.assert_array_equal(third[ended], 0)  # their episode ended: they act freely
    kept = ~ended & (second == 1)
    assert np.mean(third[kept] == 0) == pytest.approx(rate, abs=0.04)
    np.testing.assert_array_equal(third[~ended & (second == 0)], 0)
    learner.end_episodes(np.ones(n, dtype=bool))  # evaluation's way of ending episodes
    prefer(learner, 1)
    np.testing.assert_array_equal(learner.act(observations, mean_actions, explore), 1)


def test_revision_rate_one_is_the_synchronous_policy_draw_for_draw():
    learner = make_learner("mfq", VECTOR_SPACE, 3, 1, seed=5, temperature_start=1.0, temperature_end=1.0)
    assert learner.config.revision_rate == 1.0
    learner.q = TableQ([[0.0, math.log(2.0), math.log(5.0)], [1.0, 0.0, 0.0]])
    shadow = np.random.default_rng(5)
    for state in (0, 1, 0):
        observations = np.full((500, 3), state, dtype=np.float32)
        probabilities = boltzmann_probabilities(learner.q.table[state].numpy()[None].repeat(500, 0), 1.0)
        mean_actions = np.zeros((500, 3), np.float32)
        np.testing.assert_array_equal(learner.act(observations, mean_actions), sample_categorical(probabilities, shadow))
        np.testing.assert_array_equal(learner.act(observations, mean_actions, explore=False), np.argmax(learner.q.table[state].numpy()))
    assert learner.rng.bit_generator.state == shadow.bit_generator.state


def test_revision_is_deterministic_per_seed():
    def actions(seed: int) -> list[np.ndarray]:
        learner = make_learner("mfq", VECTOR_SPACE, 3, 4, seed=seed, revision_rate=0.3, exploration="epsilon")
        rng = np.random.default_rng(0)
        out = []
        for t in range(6):
            observations, abar = random_step(rng, 40)
            out.append(learner.act(observations, abar, explore=t % 2 == 0))
            learner.observe(observations, out[-1], abar, np.zeros(40), np.full(40, t == 3), np.ones(40, bool))
        return out

    assert all(np.array_equal(a, b) for a, b in zip(actions(1), actions(1)))
    assert not all(np.array_equal(a, b) for a, b in zip(actions(1), actions(2)))


def test_zero_init_head_starts_greedy_at_action_zero_and_learning_rate_end_anneals():
    learner = make_learner("mfq", VECTOR_SPACE, 4, 2, seed=0, zero_init_head=True, learning_rate=1e-3, learning_rate_end=1e-5)
    observations, abar = random_step(np.random.default_rng(0), 10, n_actions=4)
    np.testing.assert_array_equal(learner.q_values(observations, abar), 0.0)
    np.testing.assert_array_equal(learner.act(observations, abar, explore=False), 0)
    learner.set_progress(0.5)
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * (1e-3 + 1e-5))
    learner.set_progress(1.0)
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="revision_rate"):
        MFQConfig(revision_rate=1.5)


@pytest.mark.parametrize("algo", ["mfq", "il"])
def test_greedy_play_can_read_the_target_network_and_exploring_play_never_does(algo):
    cold = {"temperature_start": 0.05, "temperature_end": 0.05}
    online = make_learner(algo, VECTOR_SPACE, 3, 6, seed=0, **cold)
    target = make_learner(algo, VECTOR_SPACE, 3, 6, seed=0, greedy_network="target", **cold)
    for learner in (online, target):
        learner.q = TableQ([[1.0, 0.5, 0.0]])  # the online network prefers action 0...
        learner.q_target = TableQ([[0.0, 0.5, 1.0]])  # ...its target network action 2
    observations, abar = random_step(np.random.default_rng(0), 50)
    observations[:, 0] = 0.0
    np.testing.assert_array_equal(online.act(observations, abar, explore=False), 0)
    np.testing.assert_array_equal(target.act(observations, abar, explore=False), 2)
    exploring = target.act(observations, abar)  # Boltzmann over the online Q: mostly action 0
    np.testing.assert_array_equal(exploring, online.act(observations, abar))  # same seed, same draws
    assert (exploring == 0).mean() > 0.9
    with pytest.raises(ValueError, match="greedy_network"):
        MFQConfig(greedy_network="average")


# -- learning mechanics ----------------------------------------------------------------------------------
def feed(learner: MFQ, steps: int, n: int = 6, seed: int = 0, space=VECTOR_SPACE, n_actions: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    metrics = []
    for t in range(steps):
        observations, abar = random_step(rng, n, space, n_actions)
        actions = learner.act(observations, abar)
        learner.observe(observations, actions, abar, rng.random(n), np.full(n, t % 7 == 6), np.ones(n, bool))
        metrics.append(learner.update())
    return metrics


def test_update_waits_for_learning_starts_then_steps_the_target_softly():
    learner = make_learner("mfq", VECTOR_SPACE, 3, 6, seed=0, batch_size=6, learning_starts=30, tau=0.1)
    metrics = feed(learner, 5)
    assert metrics == [{}] * 5  # 30 transitions stored, 24 sampleable
    before_online = [p.detach().clone() for p in learner.q.parameters()]
    before_target = [p.detach().clone() for p in learner.q_target.parameters()]
    result = feed(learner, 1, seed=1)[0]
    assert set(result) == {"losses/q", "losses/q_values", "charts/temperature", "charts/gradient_steps"}
    assert result["charts/gradient_steps"] == 1.0 and math.isfinite(result["losses/q"])
    after = zip(learner.q.parameters(), learner.q_target.parameters())
    for old_online, old_target, (online, target) in zip(before_online, before_target, after):
        torch.testing.assert_close(target, 0.9 * old_target + 0.1 * online)  # soft update after the Adam step
        assert not torch.equal(online, old_online)


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        learner = make_learner("mfq", VECTOR_SPACE, 3, 6, seed=3, batch_size=8, learning_starts=12)
        runs.append((feed(learner, 12), [p.detach().clone() for p in learner.q.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_state_dict_round_trip_resumes_the_same_run():
    original = make_learner("mfq", VECTOR_SPACE, 3, 6, seed=0, batch_size=8, learning_starts=12)
    feed(original, 10)
    original.set_progress(0.3)
    state = original.state_dict()
    resumed = make_learner("mfq", VECTOR_SPACE, 3, 6, seed=99, batch_size=8, learning_starts=12)
    resumed.load_state_dict(state)
    assert resumed.gradient_steps == original.gradient_steps and resumed.progress == pytest.approx(0.3)
    for key, value in resumed.state_dict().items():
        assert torch.equal(value, state[key]), key
    # with the same replay contents and generator state, both continue identically (Adam moments restored)
    resumed.buffer = copy.deepcopy(original.buffer)
    resumed.rng.bit_generator.state = original.rng.bit_generator.state
    assert feed(original, 3, seed=5) == feed(resumed, 3, seed=5)
    with pytest.raises(KeyError, match="counters.progress"):
        resumed.load_state_dict({k: v for k, v in state.items() if k != "counters.progress"})
    with pytest.raises(ValueError, match="shape"):
        make_learner("mfq", VECTOR_SPACE, 3, 6, seed=0, hidden=(32,)).load_state_dict(state)


def test_concurrent_mean_action_input_pairs_abar_of_the_next_step():
    learner = make_learner("mfq", VECTOR_SPACE, 3, 2, seed=0, mean_action_input="concurrent")
    batch = hand_batch(next_states=[0, 0], rewards=[0.0, 0.0], dones=[0, 1])
    seen_at_t, seen_at_t1 = torch.tensor([[1.0, 0, 0]] * 2), torch.tensor([[0, 1.0, 0]] * 2)
    batch = batch._replace(mean_actions=seen_at_t, next_mean_actions=seen_at_t1)
    torch.testing.assert_close(learner.input_mean_actions(batch), torch.tensor([[0, 1.0, 0], [1.0, 0, 0]]))
    observed = make_learner("mfq", VECTOR_SPACE, 3, 2, seed=0)
    torch.testing.assert_close(observed.input_mean_actions(batch), batch.mean_actions)


def test_battle_observations_train_through_the_conv_net():
    learner = make_learner("mfq", BATTLE_SPACE, 21, 4, seed=0, batch_size=8, learning_starts=8)
    metrics = feed(learner, 4, n=4, space=BATTLE_SPACE, n_actions=21)
    assert metrics[-1]["charts/gradient_steps"] >= 1
    assert learner.buffer.obs.shape[-1] == 13 * 13 * 7 + 34


# -- learning --------------------------------------------------------------------------------------------
def test_mfq_learns_gaussian_squeeze():
    """N = 200 agents, paper's mu = 400, sigma = 200: uniform play scores G / G* = 0.004; MF-Q gets above 0.8.

    Through the PettingZoo env and its infos (mean action seen when acting). About 200,000 agent-steps.
    """
    n_agents, steps = 200, 1000
    env = gaussian_squeeze_v0.parallel_env(n_agents=n_agents, max_cycles=100)
    learner = make_learner(
        "mfq", env.observation_space("agent_0"), 10, n_agents, seed=0,
        gamma=0.5, learning_rate=1e-3, batch_size=256, replay_ratio=2.0, learning_starts=500,
        temperature_start=3.0, temperature_end=3.0,
    )  # fmt: skip
    agents = env.possible_agents
    observations, infos = env.reset(seed=0)
    ratios = []
    for t in range(steps):
        learner.set_progress(t / steps)
        obs = np.stack([observations[a] for a in agents])
        abar = np.stack([infos[a]["mean_action"] for a in agents])
        actions = learner.act(obs, abar)
        observations, rewards, terminations, truncations, infos = env.step(dict(zip(agents, actions.tolist())))
        dones = np.array([terminations[a] or truncations[a] for a in agents])
        learner.observe(obs, actions, abar, np.array([rewards[a] for a in agents]), dones, np.ones(n_agents, bool))
        learner.update()
        ratios.append(infos[agents[0]]["G"] / infos[agents[0]]["G_opt"])
        if dones.all():
            observations, infos = env.reset()
    assert np.mean(ratios[:50]) < 0.1
    assert np.mean(ratios[-100:]) > 0.8
