"""mfagents.algos.nets: observation packing, the network builder, policies and parameter plumbing."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest
import torch

from mfagents.common.checkpoint import (
    load_module_tensors,
    load_optimizer_tensors,
    module_tensors,
    optimizer_tensors,
)
from mfagents.algos.exploration import (
    boltzmann_probabilities,
    epsilon_greedy,
    sample_categorical,
)
from mfagents.algos.nets import (
    BranchedNet,
    battle_view_channels,
    build_network,
    build_q_network,
    observation_layout,
    soft_update,
)
from mfagents.algos.revision import ActionRevision
from mfagents.algos.schedules import exponential_schedule, linear_schedule
from mfenvs import battle_v0

BATTLE_SPACE = gymnasium.spaces.Box(0.0, 2.0, shape=(13, 13, 41), dtype=np.float32)
VECTOR_SPACE = gymnasium.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)




def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def tiled_battle_observations(n: int, rng: np.random.Generator) -> np.ndarray:
    """Random Battle-layout observations: 7 view channels, 34 feature channels repeated over the window."""
    view = rng.random((n, 13, 13, 7), dtype=np.float32)
    features = rng.random((n, 34), dtype=np.float32)
    return np.concatenate([view, np.broadcast_to(features[:, None, None, :], (n, 13, 13, 34))], axis=3)


@pytest.mark.parametrize("channels, view", [(5, 5), (9, 7), (37, 5), (41, 7)])
def test_battle_view_channels_matches_every_battle_layout(channels, view):
    assert battle_view_channels(channels) == view


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(extra_features=True), dict(minimap_mode=False), dict(minimap_mode=False, extra_features=True)]
)
def test_view_channels_agree_with_the_battle_env(kwargs):
    env = battle_v0.parallel_env(map_size=12, team_size=2, **kwargs)
    channels = env.observation_space("red_0").shape[2]
    assert battle_view_channels(channels) == (7 if kwargs.get("minimap_mode", True) else 5)


def test_unknown_channel_count_asks_for_view_channels():
    with pytest.raises(ValueError, match="view_channels"):
        battle_view_channels(12)
    space = gymnasium.spaces.Box(0, 1, shape=(8, 8, 12), dtype=np.float32)
    assert observation_layout(space, view_channels=4).n_features == 8


def test_observation_layout_rejects_bad_spaces():
    with pytest.raises(TypeError, match="Box"):
        observation_layout(gymnasium.spaces.Discrete(3))
    with pytest.raises(ValueError, match="1-D"):
        observation_layout(gymnasium.spaces.Box(0, 1, shape=(2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="view_channels"):
        observation_layout(BATTLE_SPACE, view_channels=42)


def test_battle_packing_keeps_the_view_and_one_copy_of_the_features():
    layout = observation_layout(BATTLE_SPACE)
    observations = tiled_battle_observations(4, np.random.default_rng(0))
    packed = layout.pack(observations)
    assert packed.shape == (4, 13 * 13 * 7 + 34) == (4, layout.packed_size)
    assert packed.dtype == np.float32
    np.testing.assert_array_equal(packed[:, : 13 * 13 * 7].reshape(4, 13, 13, 7), observations[..., :7])
    np.testing.assert_array_equal(packed[:, 13 * 13 * 7 :], observations[:, 6, 6, 7:])
    with pytest.raises(ValueError, match="shape"):
        layout.pack(observations[:, :, :, :40])


def test_vector_packing_is_the_identity():
    layout = observation_layout(VECTOR_SPACE)
    observations = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(layout.pack(observations), observations)
    assert layout.packed_size == 3


def test_mean_action_reaches_the_network_only_with_the_branch():
    layout = observation_layout(BATTLE_SPACE)
    packed = torch.as_tensor(layout.pack(tiled_battle_observations(5, np.random.default_rng(1))))
    abar_a = torch.zeros(5, 21)
    abar_b = torch.zeros(5, 21)
    abar_b[:, 13] = 1.0
    with_branch = build_network(layout, 21, True, generator())
    without = build_network(layout, 21, False, generator())
    assert with_branch(packed, abar_a).shape == (5, 21)
    assert not torch.allclose(with_branch(packed, abar_a), with_branch(packed, abar_b))
    torch.testing.assert_close(without(packed, abar_a), without(packed, abar_b))
    with pytest.raises(ValueError, match="mean_actions"):
        with_branch(packed)


def test_battle_encoder_reads_the_features():
    layout = observation_layout(BATTLE_SPACE)
    observations = tiled_battle_observations(3, np.random.default_rng(2))
    net = build_network(layout, 21, False, generator())
    changed = observations.copy()
    changed[..., 20] += 1.0  # one feature channel (a last-action bit)
    before = net(torch.as_tensor(layout.pack(observations)))
    after = net(torch.as_tensor(layout.pack(changed)))
    assert not torch.allclose(before, after)


def test_agent_id_embedding_distinguishes_rows_modulo_n_agents():
    layout = observation_layout(VECTOR_SPACE)
    net = build_network(layout, 4, False, generator(), n_agent_ids=3)
    packed = torch.zeros(6, 3)
    out = net(packed, None, torch.arange(6))
    torch.testing.assert_close(out[:3], out[3:])  # row r is agent r % 3
    assert not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError, match="rows"):
        net(packed)


def test_initialisation_follows_the_generator_only():
    def parameters(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(1234 + seed)  # the global RNG must not matter
        return [p.detach().clone() for p in build_q_network(VECTOR_SPACE, 10, True, generator(seed)).parameters()]

    first, again, other = parameters(0), parameters(0), parameters(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_zero_output_ties_every_output_and_keeps_the_other_layers_random():
    net = build_network(observation_layout(VECTOR_SPACE), 5, True, generator(0), zero_output=True)
    outputs = net(torch.rand(16, 3), torch.rand(16, 5))
    assert torch.equal(outputs, torch.zeros(16, 5))
    assert torch.count_nonzero(net.head[0].weight) > 0 and torch.count_nonzero(net.encoder[0].weight) > 0
    default = build_network(observation_layout(VECTOR_SPACE), 5, True, generator(0))
    assert torch.count_nonzero(default.head[-1].weight) > 0


def test_paper_battle_network_sizes():
    net = build_q_network(BATTLE_SPACE, 21, True, generator())
    assert isinstance(net, BranchedNet)
    convs = [m for m in net.encoder.conv if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(7, 32, (3, 3)), (32, 32, (3, 3))]
    linears = [m.out_features for m in net.head if isinstance(m, torch.nn.Linear)]
    assert linears == [128, 64, 21] and net.head[0].in_features == 256 + 32 + 32  # view, features, mean action


def test_paper_battle_network_parameters_are_unchanged_by_the_small_view_path():
    """Battle's 13 x 13 view keeps the paper's unpadded convolutions: every parameter shape, hence the count, as
    before the padded path for views narrower than 5 cells existed (issue 25)."""
    net = build_q_network(BATTLE_SPACE, 21, True, generator())
    assert [c.padding for c in net.encoder.conv if isinstance(c, torch.nn.Conv2d)] == [(0, 0), (0, 0)]
    shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    assert shapes["encoder.conv.0.weight"] == (32, 7, 3, 3) and shapes["encoder.conv.2.weight"] == (32, 32, 3, 3)
    assert shapes["encoder.view_dense.0.weight"] == (256, 32 * 9 * 9)  # 13 - 2 - 2 cells a side
    assert shapes["encoder.feature_dense.0.weight"] == (32, 34)
    # conv 7*32*9+32 + 32*32*9+32, view 2592*256+256, features 34*32+32, mean action 21*64+64 + 64*32+32,
    # head 320*128+128 + 128*64+64 + 64*21+21
    assert sum(p.numel() for p in net.parameters()) == 730_421


def test_a_3_by_3_view_is_encoded_through_padded_convolutions():
    """A deer's 3 x 3 view (tiger-deer with extra features: 5 view channels, 16 feature channels) keeps its 9 cells
    through two zero-padded convolutions, and every cell reaches the output; a tiger's 9 x 9 shrinks to 5 x 5."""
    deer = gymnasium.spaces.Box(0.0, 1.0, shape=(3, 3, 21), dtype=np.float32)
    layout = observation_layout(deer, view_channels=5)
    net = build_q_network(deer, 5, True, generator(), view_channels=5)
    assert [c.padding for c in net.encoder.conv if isinstance(c, torch.nn.Conv2d)] == [(1, 1), (1, 1)]
    assert net.encoder.view_dense[0].in_features == 32 * 3 * 3
    observations = np.random.default_rng(0).random((4, 3, 3, 21), dtype=np.float32)
    mean_actions = torch.full((4, 5), 0.2)
    q = net(torch.as_tensor(layout.pack(observations)), mean_actions)
    assert q.shape == (4, 5) and torch.isfinite(q).all()
    for row, col in ((0, 0), (2, 2), (1, 1)):  # corners as well as the centre
        changed = observations.copy()
        changed[:, row, col, 3] += 1.0  # the other group's presence there
        assert not torch.allclose(net(torch.as_tensor(layout.pack(changed)), mean_actions), q)
    tiger = gymnasium.spaces.Box(0.0, 1.0, shape=(9, 9, 25), dtype=np.float32)
    assert build_q_network(tiger, 9, True, generator(), view_channels=5).encoder.view_dense[0].in_features == 32 * 5 * 5


def test_soft_update_math():
    online = torch.nn.Linear(2, 2)
    target = torch.nn.Linear(2, 2)
    with torch.no_grad():
        online.weight.fill_(1.0)
        online.bias.fill_(2.0)
        target.weight.fill_(-1.0)
        target.bias.fill_(0.0)
    soft_update(target, online, 0.25)
    torch.testing.assert_close(target.weight, torch.full((2, 2), 0.25 * 1.0 + 0.75 * -1.0))
    torch.testing.assert_close(target.bias, torch.full((2,), 0.25 * 2.0))
    soft_update(target, online, 1.0)
    torch.testing.assert_close(target.weight, online.weight)


def test_schedules():
    assert linear_schedule(1.0, 0.1, 0.8, 0.0) == 1.0
    assert linear_schedule(1.0, 0.1, 0.8, 0.4) == pytest.approx(0.55)
    assert linear_schedule(1.0, 0.1, 0.8, 0.9) == pytest.approx(0.1)
    assert linear_schedule(1.0, 0.1, 0.0, 0.0) == 0.1
    assert exponential_schedule(2.0, 0.5, 0.8, 0.4) == pytest.approx(1.0)  # geometric midpoint
    assert exponential_schedule(2.0, 0.5, 0.8, 1.0) == pytest.approx(0.5)


def test_boltzmann_probabilities_hand_computed():
    values = np.array([[0.0, math.log(3.0)], [5.0, 5.0]])
    np.testing.assert_allclose(boltzmann_probabilities(values, 1.0), [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(boltzmann_probabilities(values, 0.5)[0], [0.1, 0.9])  # exp(2 log 3) = 9
    np.testing.assert_allclose(boltzmann_probabilities(np.array([[1000.0, 0.0]]), 0.01), [[1.0, 0.0]])  # no overflow
    with pytest.raises(ValueError, match="temperature"):
        boltzmann_probabilities(values, 0.0)


def test_sample_categorical_frequencies_and_determinism():
    probabilities = np.tile([0.2, 0.0, 0.5, 0.3], (40_000, 1))
    draws = sample_categorical(probabilities, np.random.default_rng(0))
    frequencies = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(frequencies, [0.2, 0.0, 0.5, 0.3], atol=0.01)
    np.testing.assert_array_equal(draws, sample_categorical(probabilities, np.random.default_rng(0)))
    assert draws.dtype == np.int64
    np.testing.assert_array_equal(sample_categorical(np.array([[0.0, 0.0, 1.0]] * 5), np.random.default_rng(1)), 2)


def test_epsilon_greedy():
    values = np.tile([0.0, 3.0, 1.0], (20_000, 1))
    np.testing.assert_array_equal(epsilon_greedy(values, 0.0, np.random.default_rng(0)), 1)
    frequencies = np.bincount(epsilon_greedy(values, 0.3, np.random.default_rng(0)), minlength=3) / 20_000
    np.testing.assert_allclose(frequencies, [0.1, 0.8, 0.1], atol=0.015)


def test_module_and_optimizer_tensors_round_trip():
    net = build_q_network(VECTOR_SPACE, 4, True, generator(0))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    loss = net(torch.rand(8, 3), torch.rand(8, 4)).pow(2).mean()
    loss.backward()
    optimizer.step()
    state = {**module_tensors("q", net), **optimizer_tensors("opt", optimizer)}
    assert all(isinstance(value, torch.Tensor) for value in state.values())

    copy = build_q_network(VECTOR_SPACE, 4, True, generator(1))
    copy_optimizer = torch.optim.Adam(copy.parameters(), lr=1e-2)
    load_module_tensors("q", copy, state)
    load_optimizer_tensors("opt", copy_optimizer, state)
    for a, b in zip(net.parameters(), copy.parameters()):
        assert torch.equal(a, b)
    original, restored = optimizer.state_dict()["state"], copy_optimizer.state_dict()["state"]
    assert original.keys() == restored.keys()
    for index in original:
        for key in original[index]:
            assert torch.equal(torch.as_tensor(original[index][key]), torch.as_tensor(restored[index][key]))

    with pytest.raises(KeyError, match="q.head"):
        load_module_tensors("q", copy, {k: v for k, v in state.items() if not k.startswith("q.head")})
    bad = dict(state)
    bad["q.head.0.bias"] = torch.zeros(3)
    with pytest.raises(ValueError, match="q.head.0.bias"):
        load_module_tensors("q", copy, bad)


# -- asynchronous revision ------------------------------------------------------------------------------
def test_revision_keeps_previous_actions_except_for_the_revising_share():
    revision, rng = ActionRevision(0.3), np.random.default_rng(0)
    n = 20_000
    first = revision.revising(n, rng)
    assert first.all()  # no previous action yet: every row acts on its policy
    np.testing.assert_array_equal(revision.apply(first, np.full(n, 2)), 2)
    revising = revision.revising(n, rng)
    assert revising.mean() == pytest.approx(0.3, abs=0.015)
    actions = revision.apply(revising, np.full(n, 5))
    np.testing.assert_array_equal(actions, np.where(revising, 5, 2))
    assert actions.dtype == np.int64
    again = revision.revising(n, rng)
    assert again.mean() == pytest.approx(0.3, abs=0.015) and np.mean(again == revising) < 0.65  # fresh draws
    np.testing.assert_array_equal(revision.apply(again, np.full(n, 7)), np.where(again, 7, actions))


def test_revision_rows_whose_episode_ended_act_freely():
    revision, rng = ActionRevision(0.1), np.random.default_rng(1)
    revision.apply(revision.revising(1_000, rng), np.zeros(1_000, dtype=np.int64))
    ended = np.arange(1_000) < 400
    revision.end_episodes(ended)
    revising = revision.revising(1_000, rng)
    assert revising[ended].all() and revising[~ended].mean() < 0.2
    revision.end_episodes(np.ones(7, dtype=bool))  # another set of rows: the memory starts over
    assert revision.revising(1_000, rng).all()


def test_revision_initial_action_is_the_previous_action_of_a_new_episode():
    revision, rng = ActionRevision(0.25, initial_action=0), np.random.default_rng(2)
    revising = revision.revising(8_000, rng)
    assert revising.mean() == pytest.approx(0.25, abs=0.02)
    np.testing.assert_array_equal(revision.apply(revising, np.full(8_000, 3)), np.where(revising, 3, 0))
    revision.end_episodes(np.ones(8_000, dtype=bool))
    np.testing.assert_array_equal(revision.previous, 0)


def test_revision_rate_anneals_within_each_episode():
    revision, rng = ActionRevision(0.1, initial_action=0, start_rate=0.5, anneal_steps=4), np.random.default_rng(4)
    n, shares = 40_000, []
    for step in range(6):
        revising = revision.revising(n, rng)
        shares.append(revising.mean())
        revision.apply(revising, np.ones(n, dtype=np.int64))
    np.testing.assert_allclose(shares, [0.5, 0.4, 0.3, 0.2, 0.1, 0.1], atol=0.01)
    ended = np.arange(n) < n // 2
    revision.end_episodes(ended)
    np.testing.assert_allclose(revision.rates(), np.where(ended, 0.5, 0.1))
    np.testing.assert_array_equal(revision.previous[ended], 0)
    assert not ActionRevision(1.0, start_rate=0.5, anneal_steps=3).synchronous
    assert ActionRevision(1.0, start_rate=0.5, anneal_steps=0).synchronous  # no anneal: the rate throughout


def test_revision_rate_one_draws_nothing_and_remembers_nothing():
    revision, rng = ActionRevision(1.0), np.random.default_rng(3)
    state = rng.bit_generator.state
    assert revision.revising(50, rng) is None and rng.bit_generator.state == state
    policy_actions = np.arange(50)
    assert revision.apply(None, policy_actions) is policy_actions and revision.previous is None


def test_revision_is_deterministic_given_the_generator():
    def run(seed: int) -> list[np.ndarray]:
        revision, rng = ActionRevision(0.5), np.random.default_rng(seed)
        return [revision.apply(revision.revising(100, rng), np.full(100, t)) for t in range(5)]

    assert all(np.array_equal(a, b) for a, b in zip(run(0), run(0)))
    assert not all(np.array_equal(a, b) for a, b in zip(run(0), run(1)))


@pytest.mark.parametrize("rate", [0.0, -0.1, 1.5, True])
def test_revision_rate_must_be_a_probability(rate):
    with pytest.raises(ValueError, match="revision_rate"):
        ActionRevision(rate)
    with pytest.raises(ValueError, match="revision_rate_start"):
        ActionRevision(0.5, start_rate=rate if rate != 0.0 else 2.0, anneal_steps=3)
    with pytest.raises(ValueError, match="revision_initial_action"):
        ActionRevision(0.5, initial_action=-1)
    with pytest.raises(ValueError, match=r"revision_initial_action.*\[0, 3\)"):
        ActionRevision(0.5, initial_action=3, n_actions=3)
    with pytest.raises(ValueError, match="revision_anneal_steps"):
        ActionRevision(0.5, start_rate=0.9, anneal_steps=-1)
