"""The gridworld engine beyond Battle (issue 25): action sets from MAgent's ranges, several agent types,
more than two groups, kill rules, same-group attacks, game over when any group is empty.

Battle and Battlefield exercise one type and two groups (tests/mfenvs/battle, tests/mfenvs/magent2); a
three-group game with two types here checks what they do not, on hand-built placements.
"""

from __future__ import annotations

import copy
import inspect
import pickle

import numba
import numpy as np
import pytest

from mfenvs.battle.config import ATTACK_OFFSETS, MOVE_OFFSETS, STAY
from mfenvs.common import jit
from mfenvs.gridworld import AgentType, Game, GridCore, Group, JointAttackRule, RewardRule, circle_range, rules
from mfenvs.gridworld.game import Tables


# -- action sets: MAgent's CircleRange (MAGENT2_GAMES.md section 1.1) ------------------------------
@pytest.mark.parametrize(
    "speed, n_moves, stay", [(0, 1, 0), (1, 5, 2), (1.5, 9, 4), (2, 13, 6), (3, 29, 14)]
)
def test_move_sets_have_magents_sizes_and_centre_no_op(speed, n_moves, stay):
    unit = AgentType(speed=speed)
    assert len(unit.move_offsets) == n_moves and unit.stay == stay
    assert unit.move_offsets[stay] == (0, 0)


@pytest.mark.parametrize("radius, n_attacks", [(0, 0), (1, 4), (1.5, 8), (2, 12)])
def test_attack_sets_have_magents_sizes_and_exclude_the_own_cell(radius, n_attacks):
    offsets = AgentType(attack_radius=radius).attack_offsets
    assert len(offsets) == n_attacks and (0, 0) not in offsets


def test_battles_actions_are_the_small_types_ranges():
    assert circle_range(2, 0) == MOVE_OFFSETS and MOVE_OFFSETS.index((0, 0)) == STAY
    assert circle_range(1.5, 0.5) == ATTACK_OFFSETS


def test_ranges_are_row_major_with_y_outer():
    assert circle_range(1, 0) == ((0, -1), (-1, 0), (0, 0), (1, 0), (0, 1))


def test_step_battles_takes_the_tables_in_their_field_order():
    """``GridCore.step`` calls ``step_battles(*tables, ...)``: the parameters must follow ``Tables``."""
    parameters = list(inspect.signature(rules.step_battles.__wrapped__).parameters)
    renamed = {"recover": "recovery"}
    assert parameters[: len(Tables._fields)] == [renamed.get(name, name) for name in Tables._fields]


# -- a three-group, two-type game ------------------------------------------------------------------
MELEE = AgentType(hp=10, speed=1, attack_radius=1, damage=2, step_recover=0.0, step_reward=-0.01, attack_penalty=-0.1,
                  dead_penalty=-1.0, attack_in_group=True)  # fmt: skip
RANGED = AgentType(hp=3, speed=2, attack_radius=2, damage=2, step_recover=0.5, kill_reward=1.0, step_reward=-0.02,
                   attack_penalty=-0.2, dead_penalty=-2.0)  # fmt: skip
GROUPS = (Group("a", MELEE), Group("b", RANGED), Group("c", MELEE))
RULES = (
    RewardRule("attack", "a", "c", 0.25),
    RewardRule("attack", "a", "c", 0.5),  # rules on one pair add up
    RewardRule("kill", "a", "b", 3.0),
    RewardRule("attack", "b", "a", 0.125),
)
#: slots: a0 (2, 2), a1 (3, 2); b0 (2, 3), b1 (6, 6); c0 (4, 2)
CELLS = ([(2, 2), (3, 2)], [(2, 3), (6, 6)], [(4, 2)])
WALLS = ((5, 2),)


def place(rng: np.random.Generator) -> tuple[list, ...]:
    return CELLS


def three_groups(**changes) -> Game:
    fields = dict(name="three", map_size=9, groups=GROUPS, counts=(2, 2, 1), generate_map=place, rules=RULES,
                  walls=WALLS, minimap_mode=True)  # fmt: skip
    return Game(**{**fields, **changes})


def core_of(game: Game, **kwargs) -> GridCore:
    core = GridCore(game, max_cycles=50, **kwargs)
    core.reset(seed=0)
    return core


def melee_attack(dx: int, dy: int) -> int:
    return len(MELEE.move_offsets) + MELEE.attack_offsets.index((dx, dy))


def ranged_attack(dx: int, dy: int) -> int:
    return len(RANGED.move_offsets) + RANGED.attack_offsets.index((dx, dy))


def stay_all() -> np.ndarray:
    return np.array([MELEE.stay, MELEE.stay, RANGED.stay, RANGED.stay, MELEE.stay])


def test_tables_of_a_game():
    tables = three_groups().tables()
    assert tables.slot_type.tolist() == [0, 0, 1, 1, 0] and tables.slot_group.tolist() == [0, 0, 1, 1, 2]
    assert tables.n_actions.tolist() == [9, 25] and tables.stay.tolist() == [2, 6]
    assert tables.hit_reward[0, 2] == np.float32(0.75) and tables.kill_bonus[0, 1] == 3.0
    assert tables.hit_reward.sum() == np.float32(0.875)


def test_each_type_has_its_own_hp_and_action_count():
    core = core_of(three_groups())
    assert core.state.hp[0].tolist() == [10, 10, 3, 3, 10]
    actions = stay_all()
    actions[0] = 20  # a melee unit has 9 actions
    with pytest.raises(ValueError, match="actions must be in"):
        core.step(actions[None])
    actions[0] = MELEE.stay
    actions[2] = 24  # the last ranged action: attack (2, 0)
    core.step(actions[None])


def test_same_group_attacks_hit_with_no_reward_rule():
    core = core_of(three_groups())
    actions = stay_all()
    actions[0] = melee_attack(1, 0)  # a0 hits a1, its own group (attack_in_group)
    out = core.step(actions[None])
    assert core.state.hp[0, 1] == 8.0  # melee recovers nothing
    assert out.rewards[0, 0] == np.float32(np.float32(-0.01) + np.float32(-0.1))


def test_reward_rules_add_up_and_belong_to_the_attacker_group_pair():
    core = core_of(three_groups())
    actions = stay_all()
    actions[1] = melee_attack(1, 0)  # a1 hits c0: two attack rules, 0.25 + 0.5
    actions[2] = ranged_attack(0, -1)  # b0 hits a0: 0.125
    out = core.step(actions[None])
    expected_a1 = np.float32(np.float32(np.float32(-0.01) + np.float32(-0.1)) + np.float32(0.75))
    assert out.rewards[0, 1] == expected_a1
    assert out.rewards[0, 2] == np.float32(np.float32(np.float32(-0.02) + np.float32(-0.2)) + np.float32(0.125))
    assert core.state.hp[0].tolist() == [8.0, 10.0, 3.0, 3.0, 8.0]


def test_a_kill_pays_the_victim_types_kill_reward_plus_the_kill_rules():
    core = core_of(three_groups())
    actions = stay_all()
    actions[0] = melee_attack(0, 1)  # a0 hits b0 (hp 3): 1 left, recovers 0.5
    core.step(actions[None])
    assert core.state.hp[0, 2] == 1.5
    out = core.step(actions[None])  # 1.5 - 2 < 0: killed
    assert not out.alive[0, 2] and core.state.kills[0].tolist() == [1, 0, 0]
    step = np.float32(np.float32(-0.01) + np.float32(-0.1))
    assert out.rewards[0, 0] == np.float32(step + np.float32(np.float32(1.0) + np.float32(3.0)))
    assert out.rewards[0, 2] == np.float32(-2.0)  # the victim type's dead_penalty
    assert not out.done[0]  # group b still has b1


def test_game_over_when_any_group_is_empty():
    core = core_of(three_groups())
    actions = stay_all()
    actions[1] = melee_attack(1, 0)  # a1 hits c0, the only agent of group c, six times
    for _ in range(5):
        assert not core.step(actions[None]).done[0]
    out = core.step(actions[None])
    assert out.done[0] and not out.truncated[0]
    assert out.terminated[0].all()  # the survivors of every group end with it


def test_views_rotate_the_groups_so_the_observer_comes_first():
    """MAgent's group2channel: an observer of group g sees group (g + k) mod 3 in block k."""
    game = three_groups(minimap_mode=False)
    core = core_of(game)
    views = core.observe().views[0]
    assert views.shape == (5, 13, 13, 1 + 3 * 2)
    centre = 6

    def block_at(observer: int, cell: tuple[int, int]) -> int:
        x0, y0 = CELLS[0][0] if observer == 0 else CELLS[1][0]
        row, col = centre + cell[1] - y0, centre + cell[0] - x0
        present = [k for k in range(3) if views[observer, row, col, 1 + 2 * k] == 1.0]
        assert len(present) == 1
        return present[0]

    # observer a0 (group 0): a in block 0, b in block 1, c in block 2
    assert [block_at(0, cell) for cell in ((3, 2), (2, 3), (4, 2))] == [0, 1, 2]
    # observer b0 (group 1, slot 2): b in block 0, c in block 1, a in block 2
    views_b0 = views[2]
    for cell, block in (((6, 6), 0), ((4, 2), 1), ((3, 2), 2)):
        row, col = centre + cell[1] - 3, centre + cell[0] - 2
        assert views_b0[row, col, 1 + 2 * block] == 1.0 and views_b0[row, col, 2 + 2 * block] == 1.0  # full hp
    assert views[0, centre, centre + 3, 0] == 1.0  # the wall at (5, 2), three cells right of a0


def test_state_map_has_a_channel_pair_per_group_in_group_order():
    core = core_of(three_groups())
    state = core.state_map(0)
    assert state.shape == (9, 9, 7)
    for group, cells in enumerate(CELLS):
        for x, y in cells:
            assert state[y, x, 1 + 2 * group] == 1.0 and state[y, x, 2 + 2 * group] == 1.0
    assert state[2, 5, 0] == 1.0


def test_minimap_has_one_channel_per_group_rotated_like_the_blocks():
    core = core_of(three_groups())
    views = core.observe().views[0]
    assert views.shape[-1] == 1 + 3 * 3
    # the map is 9 cells, binned by ceil(9 / 13) = 1: bin = cell; +1 at the observer's own bin in every minimap
    a0 = views[0]
    assert a0[2, 2, 3] == np.float32(0.5) + 1  # group a (block 0): a0's own cell, 1 of 2 agents, +1
    assert a0[3, 2, 6] == np.float32(0.5)  # group b (block 1): b0 at (2, 3)
    assert a0[2, 4, 9] == 1.0  # group c (block 2): c0 at (4, 2), 1 of 1
    assert a0[6, 6, 9] == 0.0 and b1_own_bin_marked(views)
    b1 = views[3]
    assert b1[6, 6, 3] == np.float32(0.5) + 1 and b1[2, 4, 6] == 1.0 and b1[2, 2, 9] == np.float32(0.5)


def b1_own_bin_marked(views: np.ndarray) -> bool:
    """b1 (at (6, 6), where no a or c agent stands) gets MAgent2's +1 at its bin in every minimap."""
    return bool(views[3, 6, 6, 6] == 1.0 and views[3, 6, 6, 9] == 1.0)


def play(game: Game, threads: int | None, steps: int = 25) -> list[np.ndarray]:
    core = GridCore(game, n_battles=3, max_cycles=steps, threads=threads)
    rng = np.random.default_rng(2)
    core.reset(seed=4)
    limits = core.tables.n_actions[core.tables.slot_type]
    arrays = []
    for _ in range(steps):
        out = core.step(rng.integers(0, limits, size=(3, game.n_agents)))
        arrays += [out.views, out.features, out.rewards, out.terminated, out.mean_actions, core.action_masks()]
    return arrays


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    reference = play(three_groups(), threads=1)
    for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        assert all(np.array_equal(a, b) for a, b in zip(play(three_groups(), threads), reference))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_core_plays_like_the_original(how):
    copier = copy.deepcopy if how == "deepcopy" else (lambda core: pickle.loads(pickle.dumps(core)))
    game = three_groups()
    original = GridCore(game, n_battles=2, max_cycles=20)
    original.reset(seed=1)
    copied = copier(original)
    rng = np.random.default_rng(0)
    limits = original.tables.n_actions[original.tables.slot_type]
    for _ in range(20):
        actions = rng.integers(0, limits, size=(2, game.n_agents))
        a, b = original.step(actions), copied.step(actions)
        for name in ("views", "features", "rewards", "alive", "terminated", "done", "mean_actions"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_games_are_checked():
    with pytest.raises(ValueError, match="unknown group"):
        three_groups(rules=(RewardRule("attack", "a", "z", 1.0),))
    with pytest.raises(ValueError, match="distinct names"):
        three_groups(groups=(Group("a", MELEE), Group("a", RANGED), Group("c", MELEE)))
    with pytest.raises(ValueError, match="one agent count per group"):
        three_groups(counts=(2, 2))
    with pytest.raises(ValueError, match="event"):
        RewardRule("tag", "a", "b", 1.0)
    with pytest.raises(ValueError, match="receiver"):
        RewardRule("attack", "a", "b", 1.0, receiver="bystander")
    with pytest.raises(ValueError, match="dead_penalty"):
        RewardRule("kill", "a", "b", 1.0, receiver="victim")  # a killed agent's reward is its dead_penalty
    with pytest.raises(ValueError, match="kill_supply"):
        AgentType(kill_supply=-1.0)
    with pytest.raises(ValueError, match="rewards"):
        JointAttackRule("a", "b", (0.5,))
    with pytest.raises(ValueError, match="unknown group"):
        three_groups(rules=(JointAttackRule("z", "a", (0.5, 0.5)),))
    with pytest.raises(ValueError, match="generate_map gave"):
        GridCore(three_groups(counts=(2, 2, 2))).reset(seed=0)


# -- MAgent's large-map move order (MAGENT2_GAMES.md section 1.5) -----------------------------------
@pytest.mark.parametrize("map_size, bands", [(99, (0, 0)), (100, (8, 13)), (120, (8, 15)), (1001, (16, 63))])
def test_move_bands_above_99_by_99_cells(map_size, bands):
    assert three_groups(map_size=map_size).move_bands == bands


@pytest.mark.parametrize("map_size, winner", [(60, "red"), (120, "blue")])
def test_on_a_large_map_an_interior_agent_beats_a_boundary_agent_to_a_cell(map_size, winner):
    """Red (slot 0) at column 15, the first of band 1 (a boundary column at map 120: 15 % 15 = 0 < 4),
    and blue at column 19 (15 + 4: interior) both move to (17, 30): in slot order red gets there first;
    on a large map blue's band moves before every boundary column."""
    from mfenvs.battle import BattleConfig, BattleCore

    core = BattleCore(BattleConfig(map_size=map_size, positions={"red": [(15, 30)], "blue": [(19, 30)]}, random_sides=False))
    core.reset(seed=0)
    core.step(np.array([[MOVE_OFFSETS.index((2, 0)), MOVE_OFFSETS.index((-2, 0))]]))
    moved = 0 if winner == "red" else 1
    assert tuple(core.state.positions[0, moved]) == (17, 30)
    assert tuple(core.state.positions[0, 1 - moved]) == ((15, 30) if winner == "blue" else (19, 30))


def test_move_order_is_band_by_band_then_the_boundary_columns_in_slot_order():
    positions = np.array([[[2, 5], [110, 5], [50, 5], [14, 5], [20, 5], [11, 5]]])  # bandwidth 15 at map 120
    order = rules.move_order(0, positions, 8, 15)
    # interior: slot 5 (band 0, column 11), slot 4 (band 1), slot 2 (band 3), slot 1 (band 7); boundary: 0 (2), 3 (14)
    assert order.tolist() == [5, 4, 2, 1, 0, 3]


# -- per-type features (MAgent's get_feature_size: the one-hot is the type's own action set) -------
def test_features_follow_each_types_own_action_count():
    from mfenvs.gridworld.game import ID_BITS

    game = three_groups()
    core = core_of(game)
    actions = stay_all()
    actions[3] = ranged_attack(2, 0)  # b1 attacks an empty cell: -0.02 - 0.2
    out = core.step(actions[None])
    features = out.features[0]
    assert features.shape[1] == game.n_features == ID_BITS + 25 + 3
    assert [game.feature_size(t) for t in game.types] == [ID_BITS + 9 + 3, ID_BITS + 25 + 3]
    a0, b1 = features[0], features[3]
    assert a0[ID_BITS + MELEE.stay] == 1.0 and a0[ID_BITS : ID_BITS + 9].sum() == 1.0
    assert a0[ID_BITS + 9] == out.rewards[0, 0]  # the reward right after the melee one-hot
    assert a0[ID_BITS + 10] == np.float32(2 / 9) and a0[ID_BITS + 11] == np.float32(2 / 9)
    assert not a0[ID_BITS + 12 :].any()  # padding
    assert b1[ID_BITS + ranged_attack(2, 0)] == 1.0 and b1[ID_BITS + 25] == out.rewards[0, 3]
    assert b1[ID_BITS + 26] == np.float32(6 / 9)


def test_tiled_features_take_a_row_per_type():
    from mfenvs.gridworld.game import ID_BITS

    game = three_groups(minimap_mode=False)
    table = [[ID_BITS + 9, -1], [ID_BITS + 25, ID_BITS + 26]]  # each type's reward, then the ranged x
    core = core_of(game, spare_view_channels=2, tiled_features=table)
    out = core.step(stay_all()[None])
    views, rewards = out.views[0], out.rewards[0]
    n_view = game.n_view_channels
    assert (views[0, ..., n_view] == rewards[0]).all() and not views[0, ..., n_view + 1].any()
    assert (views[2, ..., n_view] == rewards[2]).all() and (views[2, ..., n_view + 1] == np.float32(2 / 9)).all()
    with pytest.raises(ValueError, match="per agent type"):
        GridCore(game, spare_view_channels=2, tiled_features=[[0, 1]])


# -- views buffers: reused only when nothing refers to them; a dead agent's zeros written once ------
def packed_combined_arms(**kwargs):
    from mfenvs.combined_arms import CombinedArmsConfig, CombinedArmsCore

    positions = {
        "redmelee": [(x, y) for x in (2, 6) for y in (2, 4, 6, 8)],
        "redranged": [(x, y) for x in (4, 8) for y in (2, 4, 6, 8)],
        "bluemelee": [(x, y) for x in (3, 7) for y in (3, 5, 7, 9)],
        "blueranged": [(x, y) for x in (5, 9) for y in (3, 5, 7, 9)],
    }
    core = CombinedArmsCore(CombinedArmsConfig(map_size=12, positions=positions, max_cycles=10**6), **kwargs)
    core.reset(seed=0)
    return core


def tiger_deer_den(**kwargs):
    """Tigers among deer on a 12 x 12 map with the minimap and every feature tiled: two view sizes, deaths,
    starvation (restarts draw new random maps: the explicit den only at the first reset)."""
    from mfenvs.tiger_deer import TigerDeerConfig, TigerDeerCore

    positions = {"deer": [(x, y) for x in (2, 4, 6, 8) for y in range(2, 10, 2)], "tiger": [(x, y) for x in (3, 7) for y in range(3, 11, 2)]}
    config = TigerDeerConfig(map_size=12, positions=positions, minimap_mode=True, tiger_step_recover=-0.5, max_cycles=10**6)
    tiled = [[*range(10 + 5 + 3), -1, -1, -1, -1], list(range(10 + 9 + 3))]
    core = TigerDeerCore(config, spare_view_channels=24, tiled_features=tiled, **kwargs)
    core.reset(seed=0)
    return core


@pytest.mark.parametrize("view_dtype", ["float32", "float16"])
@pytest.mark.parametrize("make", [packed_combined_arms, tiger_deer_den], ids=["combined_arms", "tiger_deer"])
def test_reused_views_buffers_give_the_views_of_fresh_ones(monkeypatch, view_dtype, make):
    """Outputs dropped at once (buffers reused, dead rows and the zeros outside each view left as they are)
    against a core that never reuses."""
    reusing, fresh = make(n_battles=2, view_dtype=view_dtype), make(n_battles=2, view_dtype=view_dtype)
    monkeypatch.setattr(fresh, "VIEW_BUFFERS", 0)
    fresh._view_buffers.clear()  # the reset's buffer: from here on every step writes a new one
    rng = np.random.default_rng(1)
    limits = reusing.tables.n_actions[reusing.tables.slot_type]
    storages = set()
    deaths = 0
    for _ in range(40):
        actions = rng.integers(0, limits, size=(2, reusing.n_agents))
        out = reusing.step(actions)
        views = out.views
        deaths += int((~out.alive).sum())
        storages.add(id(views if views.base is None else views.base))
        expected = fresh.step(actions)
        np.testing.assert_array_equal(views, expected.views)
        reusing.reset_battles(out.done)
        fresh.reset_battles(expected.done)
        del views, out
    assert deaths, "the test needs deaths"
    assert len(reusing._view_buffers) == 1 and len(fresh._view_buffers) == 0


def test_held_outputs_are_never_written_again():
    core = packed_combined_arms()
    rng = np.random.default_rng(2)
    limits = core.tables.n_actions[core.tables.slot_type]
    held = []
    for _ in range(12):  # more outputs held than the pool keeps buffers
        out = core.step(rng.integers(0, limits, size=(1, core.n_agents)))
        held.append((out, out.views.copy(), out.views[0, 3]))  # the output, its copy and a row view
    for out, copied, row in held:
        np.testing.assert_array_equal(out.views, copied)
        np.testing.assert_array_equal(row, copied[0, 3])
    assert all(not np.shares_memory(a[0].views, b[0].views) for a, b in zip(held, held[1:]))


def test_a_buffer_is_free_once_its_output_and_every_view_of_it_are_gone():
    core = packed_combined_arms()
    actions = core.tables.stay[core.tables.slot_type][None]
    first = core.step(actions)
    storage = first.views
    row = first.views[0, 0]
    del first
    assert not np.shares_memory(core.step(actions).views, storage)  # still referred to by storage and row
    del storage
    assert not np.shares_memory(core.step(actions).views, row)  # row keeps it alive
    del row
    second = core.step(actions).views
    assert any(np.shares_memory(second, buffer[0]) for buffer in core._view_buffers)
    assert len(core._view_buffers) <= GridCore.VIEW_BUFFERS
