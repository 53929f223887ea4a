"""MF-AC / AC (mfagents.algos.mfac): critic target, actor loss, policy, soft updates and persistence."""

from __future__ import annotations

import copy
import math

import gymnasium
import numpy as np
import pytest
import torch

from mfagents.algos import make_learner
from mfagents.algos.mfac import MFAC, MFACConfig
from mfagents.algos.buffers import Batch

VECTOR_SPACE = gymnasium.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
BATTLE_SPACE = gymnasium.spaces.Box(0.0, 2.0, shape=(13, 13, 41), dtype=np.float32)




class Table(torch.nn.Module):
    """A hand-written network: out(s, .) = table[int(s[0])] (a trainable parameter; abar and rows ignored)."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.nn.Parameter(torch.tensor(table, dtype=torch.float32))

    def forward(self, obs, mean_actions=None, rows=None):
        return self.table[obs[:, 0].long()]


def hand_batch(actions, rewards, dones, next_states) -> Batch:
    n = len(actions)
    next_obs = torch.zeros(n, 3)
    next_obs[:, 0] = torch.tensor(next_states, dtype=torch.float32)
    return Batch(
        obs=torch.zeros(n, 3),
        actions=torch.tensor(actions, dtype=torch.int64),
        mean_actions=torch.zeros(n, 3),
        rewards=torch.tensor(rewards, dtype=torch.float32),
        next_obs=next_obs,
        next_mean_actions=torch.zeros(n, 3),
        dones=torch.tensor(dones, dtype=torch.float32),
        rows=torch.arange(n),
    )


# pi = softmax(logits / 0.5) = softmax([0, ln 3, 0]) = [1/5, 3/5, 1/5]; Q = [1, 2, 4]; sum_a pi Q = 2.2
LOGITS = [[0.0, 0.5 * math.log(3.0), 0.0]]
Q_TABLE = [[1.0, 2.0, 4.0]]


def hand_learner(**overrides) -> MFAC:
    learner = make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, actor_temperature=0.5, **overrides)
    learner.actor, learner.actor_target = Table(LOGITS), Table(LOGITS)
    learner.critic, learner.critic_target = Table(Q_TABLE), Table(Q_TABLE)
    return learner


def test_critic_target_hand_computed():
    learner = hand_learner(gamma=0.9)
    batch = hand_batch(actions=[0, 0], rewards=[1.0, -1.0], dones=[0, 1], next_states=[0, 0])
    torch.testing.assert_close(learner.td_target(batch), torch.tensor([1.0 + 0.9 * 2.2, -1.0]))


def test_actor_loss_advantage_and_entropy_hand_computed():
    learner = hand_learner(gamma=0.9)
    batch = hand_batch(actions=[1, 2], rewards=[1.0, 1.0], dones=[1, 1], next_states=[0, 0])
    terms = learner.losses(batch)
    # advantages: Q(1) - 2.2 = -0.2 and Q(2) - 2.2 = 1.8
    expected_actor = -(math.log(0.6) * -0.2 + math.log(0.2) * 1.8) / 2
    expected_entropy = -(2 * 0.2 * math.log(0.2) + 0.6 * math.log(0.6))
    expected_critic = ((2.0 - 1.0) ** 2 + (4.0 - 1.0) ** 2) / 2  # y = r at done
    assert terms["actor"].item() == pytest.approx(expected_actor, rel=1e-5)
    assert terms["entropy"].item() == pytest.approx(expected_entropy, rel=1e-5)
    assert terms["critic"].item() == pytest.approx(expected_critic, rel=1e-5)
    # one gradient step on the actor loss moves probability towards the positive-advantage action
    terms["actor"].backward()
    gradient = learner.actor.table.grad[0]
    assert gradient[2] < 0 < gradient[1]


def test_all_actions_actor_update_uses_every_action_and_not_the_replayed_one():
    # pi = [0.2, 0.6, 0.2], Q = [1, 2, 4]: A = Q - 2.2 = [-1.2, -0.2, 1.8]; the loss is -sum_b pi_b A_b (0 at
    # the current pi), its gradient w.r.t. the logits / T is -pi_b (A_b - sum_c pi_c A_c) = -pi_b A_b
    gradients = []
    for actions in ([1, 1], [0, 2]):
        learner = hand_learner(actor_update="all_actions")
        batch = hand_batch(actions=actions, rewards=[1.0, 1.0], dones=[1, 1], next_states=[0, 0])
        terms = learner.losses(batch)
        assert terms["actor"].item() == pytest.approx(0.0, abs=1e-6)
        terms["actor"].backward()
        gradients.append(learner.actor.table.grad[0].clone())
    torch.testing.assert_close(gradients[0], gradients[1])
    expected = -torch.tensor([0.2 * -1.2, 0.6 * -0.2, 0.2 * 1.8]) / 0.5  # d(logits / T) / d logits = 1 / T
    torch.testing.assert_close(gradients[0], expected)


def test_learning_rate_end_anneals_the_learning_rate_linearly():
    learner = make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, learning_rate=1e-3, learning_rate_end=1e-5)
    learner.set_progress(0.5)
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * (1e-3 + 1e-5))
    learner.set_progress(1.0)
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(1e-5)
    fixed = make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, learning_rate=1e-3)
    fixed.set_progress(1.0)
    assert fixed.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_entropy_coef_end_moves_the_entropy_weight_linearly():
    learner = make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, entropy_coef=0.1, entropy_coef_end=0.01, entropy_fraction=0.5)
    assert learner.entropy_coef == pytest.approx(0.1)
    learner.set_progress(0.25)
    assert learner.entropy_coef == pytest.approx(0.055)
    learner.set_progress(0.9)
    assert learner.entropy_coef == pytest.approx(0.01)
    assert make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, entropy_coef=0.1).entropy_coef == 0.1
    with pytest.raises(ValueError, match="entropy_coef_end"):
        MFACConfig(entropy_coef_end=-1.0)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_all_actions_actor_with_entropy_weight_alpha_converges_to_boltzmann_of_q(alpha):
    """The expected-gradient actor plus alpha * entropy has its optimum at pi = softmax(Q / alpha)."""
    learner = hand_learner(actor_update="all_actions", entropy_coef=alpha)
    batch = hand_batch(actions=[0, 1, 2], rewards=[0.0] * 3, dones=[1] * 3, next_states=[0] * 3)
    optimizer = torch.optim.Adam(learner.actor.parameters(), lr=0.05)
    for _ in range(600):
        terms = learner.losses(batch)
        optimizer.zero_grad()
        (terms["actor"] - learner.entropy_coef * terms["entropy"]).backward()
        optimizer.step()
    expected = torch.softmax(torch.tensor(Q_TABLE[0]) / alpha, dim=0).numpy()
    np.testing.assert_allclose(learner.policy(np.zeros((1, 3), np.float32))[0], expected, atol=1e-3)


def test_normalised_advantages_do_not_depend_on_the_reward_scale():
    batch = hand_batch(actions=[1, 2, 0], rewards=[0.0] * 3, dones=[1] * 3, next_states=[0] * 3)
    small, large = hand_learner(normalize_advantage=True), hand_learner(normalize_advantage=True)
    large.critic = Table([[100.0, 200.0, 400.0]])
    assert small.losses(batch)["actor"].item() == pytest.approx(large.losses(batch)["actor"].item(), rel=1e-4)


def test_policy_uses_the_actor_temperature_and_ignores_the_mean_action():
    learner = hand_learner()
    observations = np.zeros((40_000, 3), np.float32)
    np.testing.assert_allclose(learner.policy(observations[:1]), [[0.2, 0.6, 0.2]], rtol=1e-6)
    frequencies = np.bincount(learner.act(observations, None), minlength=3) / len(observations)
    np.testing.assert_allclose(frequencies, [0.2, 0.6, 0.2], atol=0.01)
    np.testing.assert_array_equal(learner.act(observations[:4], np.ones((4, 3)), explore=False), 1)


def test_mean_action_reaches_the_critic_of_mfac_only():
    rng = np.random.default_rng(0)
    packed = torch.as_tensor(rng.random((4, 3), dtype=np.float32))
    uniform, peaked = torch.full((4, 3), 1 / 3), torch.tensor([[0.0, 0.0, 1.0]] * 4)
    mfac = make_learner("mfac", VECTOR_SPACE, 3, 4, seed=0)
    ac = make_learner("ac", VECTOR_SPACE, 3, 4, seed=0)
    with torch.no_grad():
        assert not torch.allclose(mfac.critic(packed, uniform), mfac.critic(packed, peaked))
        torch.testing.assert_close(ac.critic(packed, uniform), ac.critic(packed, peaked))
    assert mfac.actor.mean_action_branch is None and ac.actor.mean_action_branch is None


def feed(learner: MFAC, steps: int, n: int = 6, seed: int = 0, space=VECTOR_SPACE, n_actions: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    metrics = []
    for t in range(steps):
        observations = rng.random((n, *space.shape), dtype=np.float32)
        abar = rng.dirichlet(np.ones(n_actions), size=n).astype(np.float32)
        actions = learner.act(observations, abar)
        learner.observe(observations, actions, abar, rng.random(n), np.full(n, t % 7 == 6), np.ones(n, bool))
        metrics.append(learner.update())
    return metrics


def test_update_steps_both_networks_and_soft_updates_both_targets():
    learner = make_learner("mfac", VECTOR_SPACE, 3, 6, seed=0, batch_size=6, learning_starts=30, critic_tau=0.1, actor_tau=0.2)
    assert feed(learner, 5) == [{}] * 5
    names = ("actor", "critic", "actor_target", "critic_target")
    old = {name: [p.detach().clone() for p in getattr(learner, name).parameters()] for name in names}
    metrics = feed(learner, 1, seed=1)[0]
    assert set(metrics) == {
        "losses/critic", "losses/actor", "losses/entropy", "losses/q_values", "charts/gradient_steps", "charts/entropy_coef",
        "charts/actor_temperature", "charts/nonzero_reward_batches", "charts/policy_mean_action",
    }  # fmt: skip
    for online, target, tau in (("actor", "actor_target", 0.2), ("critic", "critic_target", 0.1)):
        new = zip(getattr(learner, online).parameters(), getattr(learner, target).parameters())
        for old_online, old_target, (new_online, new_target) in zip(old[online], old[target], new):
            assert not torch.equal(old_online, new_online)
            torch.testing.assert_close(new_target, (1 - tau) * old_target + tau * new_online)


def test_state_dict_round_trip_and_determinism():
    original = make_learner("ac", VECTOR_SPACE, 3, 6, seed=1, batch_size=8, learning_starts=12)
    twin = make_learner("ac", VECTOR_SPACE, 3, 6, seed=1, batch_size=8, learning_starts=12)
    assert feed(original, 8) == feed(twin, 8)  # same seed, same run
    state = original.state_dict()
    resumed = make_learner("ac", VECTOR_SPACE, 3, 6, seed=7, batch_size=8, learning_starts=12)
    resumed.load_state_dict(state)
    for key, value in resumed.state_dict().items():
        assert torch.equal(value, state[key]), key
    resumed.buffer = copy.deepcopy(original.buffer)
    resumed.rng.bit_generator.state = original.rng.bit_generator.state
    assert feed(original, 3, seed=4) == feed(resumed, 3, seed=4)
    with pytest.raises(KeyError, match="critic_target"):
        resumed.load_state_dict({k: v for k, v in state.items() if not k.startswith("critic_target.")})


def test_config_checks_and_registry_names():
    assert make_learner("mfac", VECTOR_SPACE, 3, 1, seed=0).name == "mfac"
    assert make_learner("ac", VECTOR_SPACE, 3, 1, seed=0).name == "ac"
    with pytest.raises(ValueError, match="use 'ac'"):
        make_learner("mfac", VECTOR_SPACE, 3, 1, seed=0, use_mean_action=False)
    with pytest.raises(ValueError, match="actor_temperature"):
        MFACConfig(actor_temperature=0.0)
    defaults = MFACConfig()
    assert (defaults.actor_temperature, defaults.entropy_coef, defaults.value_coef) == (0.1, 0.08, 0.1)


def test_battle_observations_train_through_the_conv_nets():
    learner = make_learner("mfac", BATTLE_SPACE, 21, 4, seed=0, batch_size=8, learning_starts=8)
    metrics = feed(learner, 4, n=4, space=BATTLE_SPACE, n_actions=21)
    assert metrics[-1]["charts/gradient_steps"] >= 1
    assert all(math.isfinite(value) for value in metrics[-1].values())


def test_separate_actors_are_one_logit_row_per_agent():
    learner = make_learner(
        "mfac", VECTOR_SPACE, 4, 3, seed=0, actor_sharing="separate", actor_init_std=0.0, actor_init_bonus=2.0, actor_init_action=1
    )
    torch.testing.assert_close(learner.actor.logits.detach(), torch.tensor([[0.0, 2.0, 0.0, 0.0]] * 3))
    with torch.no_grad():
        learner.actor.logits.copy_(torch.tensor([[5.0, 0, 0, 0], [0, 5.0, 0, 0], [0, 0, 5.0, 0]]))
    observations = np.random.default_rng(0).random((6, 3), dtype=np.float32)  # two copies of the 3 agents
    assert learner.act(observations, None, explore=False).tolist() == [0, 1, 2, 0, 1, 2]  # row r is agent r % 3
    spread = make_learner("mfac", VECTOR_SPACE, 4, 500, seed=0, actor_sharing="separate", actor_init_std=2.0)
    assert spread.actor.logits.std().item() == pytest.approx(2.0, rel=0.05)  # each agent starts elsewhere


def test_separate_actors_learn_only_the_sampled_agents_at_their_own_rate():
    learner = make_learner(
        "mfac", VECTOR_SPACE, 3, 6, seed=0, actor_sharing="separate", batch_size=2, learning_starts=6, replay_ratio=0.2,
        learning_rate=1e-3, actor_learning_rate=1e-2, learning_rate_end=1e-4,
    )  # fmt: skip
    assert [group["lr"] for group in learner.optimizer.param_groups] == [1e-2, 1e-3]
    learner.set_progress(1.0)
    assert [group["lr"] for group in learner.optimizer.param_groups] == pytest.approx([1e-3, 1e-4])  # the same factor
    before = learner.actor.logits.detach().clone()
    feed(learner, 3, n=6)
    assert learner.gradient_steps == 1
    changed = (learner.actor.logits.detach() != before).any(dim=1)
    assert 1 <= int(changed.sum()) <= 2  # one 2-row minibatch reaches at most 2 of the 6 agents


def test_actor_temperature_end_moves_the_temperature_linearly():
    learner = make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, actor_temperature=1.0, actor_temperature_end=0.1, entropy_fraction=0.5)
    assert learner.actor_temperature == 1.0
    learner.set_progress(0.25)
    assert learner.actor_temperature == pytest.approx(0.55)
    learner.set_progress(0.8)
    assert learner.actor_temperature == pytest.approx(0.1)
    with torch.no_grad():
        learner.actor.head[-1].bias.copy_(torch.tensor([0.0, 0.1, 0.0]))
        learner.actor.head[-1].weight.zero_()
    policy = learner.policy(np.zeros((1, 3), np.float32))[0]
    assert policy[1] == pytest.approx(np.exp(1.0) / (2 + np.exp(1.0)))  # softmax(logits / 0.1)


def test_bad_separate_actor_settings_are_named():
    with pytest.raises(ValueError, match="actor_sharing"):
        MFACConfig(actor_sharing="pooled")
    with pytest.raises(ValueError, match="actor_init_action"):
        make_learner("mfac", VECTOR_SPACE, 3, 2, seed=0, actor_sharing="separate", actor_init_action=3)
    with pytest.raises(ValueError, match="actor_temperature_end"):
        MFACConfig(actor_temperature_end=0.0)
