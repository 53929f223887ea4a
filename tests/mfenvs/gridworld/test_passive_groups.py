"""Passive groups (``Group(passive=True)``, MAgent2's gather food) and games without id bits (``Game(id_bits=0)``),
on a three-group game whose passive group sits between the two acting ones (gather's is first)."""

from __future__ import annotations

import numpy as np

from mfenvs.gridworld import AgentType, Game, GridCore, Group, RewardRule
from mfenvs.gridworld.single import SingleGame, observation_layout, reward_range

HUNTER = AgentType(hp=3, speed=1, view_radius=2, attack_radius=1, damage=1, step_recover=0.0)
FOOD = AgentType(hp=5, speed=0, view_radius=1, attack_radius=0, damage=0, step_recover=0.0)
#: slots: a 0 (2, 2), 1 (6, 6); food 2 (3, 2), 3 (7, 7); b 4 (2, 3)
CELLS = {"a": [(2, 2), (6, 6)], "food": [(3, 2), (7, 7)], "b": [(2, 3)]}


def place(rng):
    return [np.array(CELLS[name]) for name in ("a", "food", "b")]


def game(id_bits: int = 10) -> Game:
    return Game(
        name="test", map_size=10, groups=(Group("a", HUNTER), Group("food", FOOD, passive=True), Group("b", HUNTER)),
        counts=(2, 2, 1), generate_map=place, rules=(RewardRule("attack", "a", "food", 0.5),), id_bits=id_bits,
    )  # fmt: skip


class Scored(SingleGame):
    def scoreboard(self, done):
        return {}


def test_the_passive_slots_and_the_acting_ones():
    np.testing.assert_array_equal(game().passive_slots, [2, 3])
    np.testing.assert_array_equal(game().acting_slots, [0, 1, 4])


def test_single_game_leaves_the_passive_group_out_and_steps_it_with_its_stay():
    tiled, bounds = observation_layout(game(), extra_features=True, reward_range=reward_range([0.5, -1.0]))
    single = Scored(GridCore(game(), spare_view_channels=tiled.shape[1], tiled_features=tiled), bounds)
    assert single.agent_names == ("a_0", "a_1", "b_0") and list(single.group_slices) == ["a", "b"]
    out = single.reset(seed=0)
    assert len(out.observations) == 3 and out.observations[0].shape == (5, 5, 7 + 10 + 9 + 1)  # walls + 3 blocks, id bits, 9 actions, reward
    attack_east = len(HUNTER.move_offsets) + HUNTER.attack_offsets.index((1, 0))
    out = single.step(np.array([attack_east, HUNTER.stay, HUNTER.stay]))  # a_0 hits food 2
    np.testing.assert_array_equal(out.rewards, [0.5, 0.0, 0.0])
    engine = single.engine
    assert engine.state.hp[0, 2] == 4 and (engine.state.last_actions[0, [2, 3]] == 0).all()
    np.testing.assert_array_equal(engine.state.positions[0, [2, 3]], CELLS["food"])
    assert out.alive.tolist() == [True, True, True] and len(out.mean_actions) == 3


def test_passive_slots_get_no_mean_action_and_zero_views_unless_observed():
    plain, observed = GridCore(game(), mean_action_radius=None), GridCore(game(), mean_action_radius=None, observe_passive=True)
    for core in (plain, observed):
        core.reset(seed=0)
    actions = np.array([[HUNTER.stay, 0, 0, 0, 0]])
    first, second = plain.step(actions), observed.step(actions)
    assert not first.mean_actions[0, [2, 3]].any() and first.mean_actions[0, 0].any()  # a_0 sees a_1's stay
    assert not first.views[0, [2, 3]].any() and second.views[0, [2, 3]].any()
    np.testing.assert_array_equal(first.views[0, [0, 1, 4]], second.views[0, [0, 1, 4]])


def test_a_game_without_id_bits_starts_its_features_with_the_last_action():
    core = GridCore(game(id_bits=0))
    core.reset(seed=0)
    out = core.step(np.array([[1, HUNTER.stay, 0, 0, HUNTER.stay]]))
    assert core.game.n_features == 9 + 1 + 2  # the hunters' 9 actions, reward, position
    np.testing.assert_array_equal(out.features[0, 0, :9], np.eye(9)[1])
    assert out.features[0, 0, 10] == np.float32(core.state.positions[0, 0, 0] / 10)
    with_bits = GridCore(game())
    with_bits.reset(seed=0)
    assert with_bits.step(np.array([[1, HUNTER.stay, 0, 0, HUNTER.stay]])).features[0, 1, 0] == 1  # slot 1: bit 0
