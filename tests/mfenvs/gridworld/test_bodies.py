"""Bodies wider than one cell and zero-damage attacks (issue 25, adversarial pursuit's 2 x 2 predators).

Hand-built placements on a small game: one 2 x 2 "big" type and a 1 x 1 "small" type, checked against
MAgent's rules as MAGENT2_GAMES.md sections 2.4 and 3 state them (tests/mfenvs/magent2 replays whole
episodes in MAgent2's engine).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from mfenvs.gridworld import AgentType, Game, GridCore, Group, RewardRule
from mfenvs.gridworld.game import body_range
from mfenvs.gridworld.observe import circle_half_widths
from mfenvs.gridworld.state import EMPTY

BIG = AgentType(hp=1, speed=1, view_radius=5, attack_radius=2, damage=0, step_recover=0, attack_penalty=-0.2, width=2)
SMALL = AgentType(hp=1, speed=1.5, view_radius=4, attack_radius=0, damage=0, step_recover=0)
#: MAgent2's predator attack index -> cell from its top-left (x, y) (MAGENT2_GAMES.md section 2.4, measured)
RING = ((0, -1), (1, -1), (-1, 0), (2, 0), (-1, 1), (2, 1), (0, 2), (1, 2))


def fixed_map(big: list, small: list, rng: np.random.Generator) -> list[np.ndarray]:
    return [np.array(big).reshape(-1, 2), np.array(small).reshape(-1, 2)]


def game_of(big: list, small: list, map_size: int = 12, walls: tuple = ()) -> Game:
    return Game(
        name="bodies", map_size=map_size, groups=(Group("big", BIG), Group("small", SMALL)), counts=(len(big), len(small)),
        generate_map=partial(fixed_map, big, small),  # picklable
        rules=(RewardRule("attack", "big", "small", 1.0), RewardRule("attack", "big", "small", -1.0, receiver="victim")),
        walls=walls,
    )  # fmt: skip


def core_of(big: list, small: list, **kwargs) -> GridCore:
    core = GridCore(game_of(big, small, **kwargs), max_cycles=1000)
    core.reset(seed=0)
    return core


def stays(core: GridCore) -> np.ndarray:
    return core.tables.stay[core.tables.slot_type][None].copy()


def move(dx: int, dy: int, unit: AgentType = BIG) -> int:
    return unit.move_offsets.index((dx, dy))


def test_the_attack_ring_is_magents_in_its_index_order():
    assert BIG.attack_offsets == RING == body_range(2, 1, 2)
    assert BIG.n_actions == 13 and SMALL.n_actions == 9 and BIG.stay == 2


def test_width_one_ranges_are_unchanged():
    for radius, inner in [(1, 0.5), (1.5, 0.5), (2, 0.5), (2, 0)]:
        assert body_range(radius, inner, 1) == AgentType(attack_radius=radius).attack_offsets or inner == 0


def test_an_even_view_is_magents_circle_around_the_body_centre():
    """10 x 10 for a 2 x 2 body of view radius 5: MAgent's CircleRange(5, 0, parity 0), brute force."""
    assert Game.type_view_size(BIG) == 10 and Game.type_view_size(SMALL) == 9
    half = circle_half_widths(5, 0)
    for row in range(10):
        inside = [col for col in range(10) if math.hypot(col - 4.5, row - 4.5) < 5 + 1e-8]
        assert inside == list(range(5 - half[row], 5 + half[row])), row


def test_a_body_fills_its_cells_and_is_seen_on_each_but_in_the_state_at_its_top_left():
    core = core_of([(3, 4)], [(6, 6)])
    assert np.array_equal(np.argwhere(core.state.occupant[0] == 0), [[4, 3], [4, 4], [5, 3], [5, 4]])
    out = core.observe()
    # the small agent at (6, 6) sees the body cells (3..4, 4..5) from its 9 x 9 window (offset 0 in the 10 x 10)
    seen = np.argwhere(out.views[0, 1, :9, :9, 3] > 0)  # the other group's presence, [row, col]
    assert np.array_equal(seen + [6 - 4, 6 - 4], [[4, 3], [4, 4], [5, 3], [5, 4]])
    # the body sees itself around its eye, top-left + (1, 1), at (5, 5) of its window: cells (4..5, 4..5)
    assert np.array_equal(np.argwhere(out.views[0, 0, :, :, 1] > 0), [[4, 4], [4, 5], [5, 4], [5, 5]])
    state = core.state_map(0)
    assert np.array_equal(np.argwhere(state[..., 1] > 0), [[4, 3]])


def test_a_body_moves_into_an_area_that_overlaps_itself_and_not_into_an_occupied_or_walled_one():
    core = core_of([(3, 4), (6, 3)], [(5, 6)], walls=((4, 3),))
    actions = stays(core)
    actions[0, 0] = move(1, 0)  # onto (4..5, 4..5): half of it is its own body
    actions[0, 1] = move(-1, 0)  # onto (5..6, 3..4): (5, 4) is the first body's since its move (slot order)
    actions[0, 2] = move(0, -1, SMALL)  # onto (5, 5): the first body's too
    core.step(actions)
    assert core.state.positions[0].tolist() == [[4, 4], [6, 3], [5, 6]]
    assert sorted(map(tuple, np.argwhere(core.state.occupant[0] == 0)[:, ::-1].tolist())) == [(4, 4), (4, 5), (5, 4), (5, 5)]
    assert (core.state.occupant[0] == 1).sum() == 4 and (core.state.occupant[0] == EMPTY).sum() == 144 - 9
    masks = core.action_masks()[0]
    assert not masks[0, move(0, -1)], "up would cover the wall at (4, 3)"
    assert masks[0, move(-1, 0)] and not masks[0, move(1, 0)] and not masks[0, move(0, 1)], "(6, 4) and (5, 6) are taken"
    actions = stays(core)
    actions[0, 0] = move(0, -1)
    core.step(actions)
    assert core.state.positions[0, 0].tolist() == [4, 4]


def test_tags_do_no_damage_and_pay_the_tagger_and_each_tag_to_the_tagged():
    """Two bodies tag one small agent from its two sides; a third tag misses (an empty ring cell)."""
    core = core_of([(2, 4), (5, 4), (8, 8)], [(4, 4)])
    actions = stays(core)
    actions[0, 0] = 5 + RING.index((2, 0))  # (2 + 2, 4 + 0) = (4, 4); attacks follow the 5 moves
    actions[0, 1] = 5 + RING.index((-1, 0))  # (5 - 1, 4) = (4, 4)
    actions[0, 2] = 5 + RING.index((0, -1))  # (8, 7): empty
    out = core.step(actions)
    np.testing.assert_allclose(out.rewards[0], [0.8, 0.8, -0.2, -2.0], atol=1e-6)
    assert out.alive[0].all() and core.state.hp[0].tolist() == [1, 1, 1, 1]
    assert core.state.last_hits[0].tolist() == [True, True, False, False]


def test_copies_and_pickles_of_a_core_with_bodies_play_alike():
    import copy
    import pickle

    core = core_of([(2, 4), (6, 6)], [(4, 4), (9, 2), (2, 9)])
    rng = np.random.default_rng(0)
    twins = [copy.deepcopy(core), pickle.loads(pickle.dumps(core))]
    for _ in range(30):
        actions = rng.integers(0, core.tables.n_actions[core.tables.slot_type])[None]
        outs = [c.step(actions) for c in [core, *twins]]
        for out in outs[1:]:
            np.testing.assert_array_equal(out.views, outs[0].views)
            np.testing.assert_array_equal(out.rewards, outs[0].rewards)
        for twin in twins:
            assert twin.state.equals(core.state)
