"""The batched ``BattleCore``: output shapes, independent battles, partial resets, frozen finished battles.

The battles of one core share a random generator, so battle ``b`` of a batch does not replay a
single-battle core with the same seed; the tests below only rely on rules whose outcome does not
depend on the random order (one attacker per victim).
"""

from __future__ import annotations

import numpy as np
import pytest

from mfenvs.battle import BattleConfig, BattleCore, BattleState
from tests.mfenvs.battle.helpers import STAY, attack, config, core

DUEL = {"red": [(4, 5), (2, 2)], "blue": [(5, 5)]}
"""red_0 beside blue_0 (slot 2); red_1 out of reach."""


def duel(n_battles: int, seed: int = 0, **kwargs) -> BattleCore:
    return core(DUEL["red"], DUEL["blue"], n_battles=n_battles, seed=seed, **kwargs)


def hit_in(battles: list[int], n_battles: int, n_agents: int = 3) -> np.ndarray:
    """Actions: red_0 hits blue_0 in the listed battles; everybody else stays."""
    actions = np.full((n_battles, n_agents), STAY)
    actions[battles, 0] = attack(1, 0)
    return actions


@pytest.mark.parametrize(("minimap_mode", "n_channels"), [(True, 7), (False, 5)])
def test_output_shapes_and_dtypes(minimap_mode, n_channels):
    battle = BattleCore(BattleConfig(map_size=16, team_size=4, minimap_mode=minimap_mode), n_battles=3)
    assert battle.n_agents == 8
    assert battle.agent_names == tuple([f"red_{i}" for i in range(4)] + [f"blue_{i}" for i in range(4)])
    for out in (battle.reset(seed=0), battle.step(np.random.default_rng(0).integers(0, 21, (3, 8)))):
        shapes = {
            "views": ((3, 8, 13, 13, n_channels), np.float32),
            "features": ((3, 8, 34), np.float32),
            "rewards": ((3, 8), np.float32),
            "alive": ((3, 8), np.bool_),
            "terminated": ((3, 8), np.bool_),
            "truncated": ((3,), np.bool_),
            "done": ((3,), np.bool_),
            "mean_actions": ((3, 8, 21), np.float32),
        }
        for name, (shape, dtype) in shapes.items():
            value = getattr(out, name)
            assert value.shape == shape and value.dtype == dtype, name
    assert battle.action_masks().shape == (3, 8, 21)
    assert battle.state_map(2).shape == (16, 16, 5)


def test_spare_view_channels_are_zero_channels_after_the_view():
    battle = BattleCore(BattleConfig(map_size=16, team_size=4), spare_view_channels=3)
    views = battle.reset(seed=0).views
    assert views.shape == (1, 8, 13, 13, 10)
    assert not views[..., 7:].any()


def test_battles_are_independent():
    # battle 0 plays random actions; battle 1 plays the same scripted duel as a one-battle core
    rng = np.random.default_rng(1)
    batch, single = duel(2, seed=5), duel(1, seed=9)
    for t in range(8):
        actions = hit_in([1], 2)
        actions[0] = rng.integers(0, 21, 3)
        out = batch.step(actions)
        reference = single.step(hit_in([0], 1))
        assert batch.state.battle(1).equals(single.state), t
        np.testing.assert_array_equal(out.views[1], reference.views[0])
        np.testing.assert_array_equal(out.rewards[1], reference.rewards[0])
    assert batch.state.kills[1].tolist() == [1, 0] and not batch.state.alive[1, 2]  # the duel was fought out
    assert not np.array_equal(batch.state.last_actions[0], batch.state.last_actions[1])


def test_random_sides_are_drawn_per_battle():
    battle = BattleCore(BattleConfig(map_size=16, team_size=4), n_battles=16)
    battle.reset(seed=0)
    red_on_left = battle.state.positions[:, 0, 0] < 8
    assert red_on_left.any() and not red_on_left.all()


def test_reset_battles_resets_only_the_selected_battles():
    battle = duel(3)
    start = battle.state.copy()
    for _ in range(3):
        battle.step(hit_in([0, 1, 2], 3))
    before = battle.state.copy()
    battle.reset_battles(np.array([True, False, True]))
    for index in (0, 2):
        assert battle.state.battle(index).equals(start.battle(index))
    assert battle.state.battle(1).equals(before.battle(1))
    out = battle.step(hit_in([0, 1, 2], 3))
    assert battle.state.steps.tolist() == [1, 4, 1]
    np.testing.assert_allclose(battle.state.hp[:, 2], [8.1, 2.4, 8.1], atol=1e-5)
    assert out.rewards.shape == (3, 3)


FROZEN_FIELDS = ("positions", "hp", "alive", "occupant", "last_actions", "steps", "kills", "total_rewards", "done")
"""What a finished battle keeps until it is reset (the per-step ``last_*`` records are cleared)."""


def test_finished_battles_stay_frozen_until_reset():
    battle = duel(2, max_cycles=10)
    for _ in range(6):
        out = battle.step(hit_in([0], 2))  # blue_0 dies in battle 0 only: a wipe-out
    assert out.done.tolist() == [True, False]
    assert out.terminated[0].tolist() == [True, True, True] and not out.terminated[1].any()
    frozen = battle.state.battle(0)
    for _ in range(3):
        out = battle.step(np.random.default_rng(0).integers(0, 21, (2, 3)))
        for name in FROZEN_FIELDS:
            np.testing.assert_array_equal(getattr(battle.state, name)[0], getattr(frozen, name)[0], err_msg=name)
        assert not out.rewards[0].any() and not out.terminated[0].any() and not out.truncated[0]
        assert out.done[0]
    assert battle.state.steps.tolist() == [6, 9]
    out = battle.step(hit_in([], 2))
    assert out.truncated.tolist() == [False, True] and out.done.tolist() == [True, True]

    battle.reset_battles(out.done)
    assert not battle.state.done.any() and battle.state.alive.all()
    assert battle.state.steps.tolist() == [0, 0]


def test_battles_reset_at_different_times_truncate_at_different_times():
    battle = duel(2, max_cycles=5)
    for _ in range(2):
        battle.step(hit_in([], 2))
    battle.reset_battles(np.array([True, False]))
    truncated_at = {}
    for t in range(1, 6):
        out = battle.step(hit_in([], 2))
        for index in np.flatnonzero(out.truncated):
            truncated_at[int(index)] = t
    assert truncated_at == {1: 3, 0: 5}


def test_state_copy_and_equality():
    battle = duel(2)
    snapshot = battle.state.copy()
    assert isinstance(snapshot, BattleState) and snapshot.equals(battle.state)
    battle.step(hit_in([1], 2))
    assert not snapshot.equals(battle.state)
    np.testing.assert_array_equal(snapshot.hp[0], battle.state.hp[0])
    assert snapshot.hp[1, 2] != battle.state.hp[1, 2]
    snapshot.hp[:] = 0.0  # a deep copy
    assert battle.state.hp.all()


def test_same_seed_same_batch_trajectory():
    cfg = config(red=[(3, 3), (4, 4), (3, 5)], blue=[(4, 3), (5, 4), (4, 5)], map_size=8)
    outputs = []
    for _ in range(2):
        battle = BattleCore(cfg, n_battles=4)
        battle.reset(seed=11)
        rng = np.random.default_rng(3)
        states = []
        for _ in range(20):
            battle.step(rng.integers(13, 21, (4, 6)))
            states.append(battle.state.copy())
        outputs.append(states)
    assert all(a.equals(b) for a, b in zip(*outputs))
    assert outputs[0][-1].kills.sum() > 0


def test_mean_actions_are_those_of_their_step_when_read_later():
    battles = BattleCore(BattleConfig(map_size=20, team_size=9, random_sides=False), n_battles=2)
    battles.reset(seed=3)
    rng = np.random.default_rng(3)
    first = battles.step(rng.integers(0, 21, (2, 18)))
    expected = battles.mean_actions()
    assert expected[first.alive].sum() > 0
    later = battles.step(rng.integers(0, 21, (2, 18)))  # moves agents and changes the last actions
    assert not np.array_equal(battles.mean_actions(), expected)
    np.testing.assert_array_equal(first.mean_actions, expected)
    np.testing.assert_array_equal(later.mean_actions, battles.mean_actions())
    assert first.mean_actions is first.mean_actions  # computed once
