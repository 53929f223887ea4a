"""Tiger-deer's rules on hand-built placements (MAGENT2_GAMES.md section 2.5), its seeded random map, its
per-group spaces, views and infos, determinism over thread counts, copies and forks. MAgent2's own engine
is compared in tests/mfenvs/magent2."""

from __future__ import annotations

import copy
import pickle

import numba
import numpy as np
import pytest

from mfenvs import tiger_deer_v0
from mfenvs.common import jit
from mfenvs.tiger_deer import GROUPS, TigerDeerConfig, TigerDeerCore, place
from mfenvs.tiger_deer.game import random_cells

#: slots: deer 0 (5, 5), 1 (2, 9); tigers 2 (4, 5), 3 (6, 5), 4 (5, 4), 5 (9, 9)
POSITIONS = {"deer": [(5, 5), (2, 9)], "tiger": [(4, 5), (6, 5), (5, 4), (9, 9)]}
WALLS = [(7, 7), (8, 7)]
MOVE_RIGHT, STAY = 3, 2  # speed 1: (0, -1), (-1, 0), (0, 0), (1, 0), (0, 1)


def make_core(**changes) -> TigerDeerCore:
    core = TigerDeerCore(TigerDeerConfig(**{"map_size": 12, "positions": POSITIONS, "walls": WALLS, **changes}))
    core.reset(seed=0)
    return core


def attack(core: TigerDeerCore, slot: int, dx: int, dy: int) -> int:
    unit = core.game.types[core.tables.slot_type[slot]]
    return len(unit.move_offsets) + unit.attack_offsets.index((dx, dy))


def stays(core: TigerDeerCore) -> np.ndarray:
    return core.tables.stay[core.tables.slot_type].copy()


def test_units_are_magent2s():
    deer, tiger = make_core().game.types
    assert (deer.hp, deer.n_actions, deer.stay, deer.step_recover, deer.kill_supply, deer.dead_penalty) == (5, 5, 2, 0.2, 8, -1)
    assert deer.attack_offsets == () and deer.damage == 0
    assert (tiger.hp, tiger.n_actions, tiger.stay, tiger.damage, tiger.step_recover) == (10, 9, 2, 1, -0.1)
    assert tiger.attack_offsets == ((0, -1), (-1, 0), (1, 0), (0, 1))
    assert TigerDeerConfig().group_counts == (101, 20) and TigerDeerConfig().n_random_walls == 81


def test_each_tiger_earns_one_per_other_tiger_that_hit_the_same_deer():
    """MAgent2's (a attack c) & (b attack c) over ordered pairs: 3 tigers on one deer each get 2.0 (verified
    in MAgent2); the deer takes deer_attacked per hit; the lone tiger's miss earns nothing."""
    core = make_core()
    actions = stays(core)
    actions[2], actions[3], actions[4] = attack(core, 2, 1, 0), attack(core, 3, -1, 0), attack(core, 4, 0, 1)
    actions[5] = attack(core, 5, 1, 0)  # a miss
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0], [-0.3, 0.0, 2.0, 2.0, 2.0, 0.0], atol=1e-6)
    assert core.state.hp[0, 0] == pytest.approx(5 - 3 + 0.2)
    # two tigers: +1 each; one tiger alone: nothing
    actions[4] = STAY
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0, :5], [-0.2, 0.0, 1.0, 1.0, 0.0], atol=1e-6)
    actions[3] = STAY
    core.state.hp[0, 0] = 5.0  # 0.4 hp left: the next hit would kill
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0, :5], [-0.1, 0.0, 0.0, 0.0, 0.0], atol=1e-6)


def test_the_killing_blow_heals_the_tiger_and_pays_no_joint_reward():
    core = make_core()
    core.state.hp[0, 0] = 0.5  # one hit kills (0.5 - 1 < 0)
    core.state.hp[0, 2] = 1.0
    actions = stays(core)
    actions[2] = attack(core, 2, 1, 0)
    out = core.step(actions[None])
    assert not out.alive[0, 0] and out.terminated[0, 0]
    np.testing.assert_allclose(out.rewards[0, :3], [-1.0, 0.0, 0.0], atol=1e-6)
    assert core.state.hp[0, 2] == np.float32(np.float32(1.0 + 8.0) - np.float32(0.1))  # +8 hp, then starving
    assert core.state.occupant[0, 5, 5] == -1 and core.state.kill_table[0, 1, 0] == 1
    core.state.hp[0, 1] = 0.5
    core.state.positions[0, 1] = (8, 9)
    core.state.occupant[0, 9, 2], core.state.occupant[0, 9, 8] = -1, 1
    actions = stays(core)
    actions[5] = attack(core, 5, -1, 0)  # the last deer: full hp is capped at 10
    out = core.step(actions[None])
    assert core.state.hp[0, 5] == np.float32(10 - 0.1) and bool(out.done[0]) and not out.truncated[0]
    assert core.results(0)["winner"] == "tiger" and core.results(0)["tiger_kills"] == 2


def test_tigers_that_never_eat_starve_at_step_100_and_end_the_game():
    core = make_core()
    for step in range(1, 101):
        out = core.step(stays(core)[None])
        if step < 100:
            assert out.alive[0, 2:].all() and not out.done[0]
    assert not out.alive[0, 2:].any() and out.terminated[0].all() and out.done[0] and not out.truncated[0]
    np.testing.assert_array_equal(out.rewards[0], 0.0)  # tigers' dead_penalty is 0, deer are unhurt
    assert core.results(0)["winner"] == "deer" and core.results(0)["tiger_deaths"] == 4
    assert (core.state.occupant[0] >= 2).sum() == 0  # starved tigers leave the map


def test_deer_recover_0_2_a_step_up_to_5_and_tigers_cannot_hurt_tigers():
    core = make_core()
    core.state.hp[0, 0] = 4.5
    actions = stays(core)
    actions[4] = attack(core, 4, -1, 0)  # (4, 4): empty
    actions[2] = attack(core, 2, 0, -1)  # (4, 4): empty
    core.step(actions[None])
    assert core.state.hp[0, 0] == np.float32(4.7)
    core.state.positions[0, 4] = (4, 4)
    core.state.occupant[0, 4, 5], core.state.occupant[0, 4, 4] = -1, 4
    actions = stays(core)
    actions[2] = attack(core, 2, 0, -1)  # a tiger on (4, 4): same group, a miss
    out = core.step(actions[None])
    assert core.state.hp[0, 4] == core.state.hp[0, 3] and out.rewards[0, 2] == 0
    core.step(stays(core)[None])
    core.step(stays(core)[None])
    assert core.state.hp[0, 0] == 5.0


def test_walls_block_moves_and_are_in_every_view():
    core = make_core()
    core.state.positions[0, 5] = (6, 7)
    core.state.occupant[0, 9, 9], core.state.occupant[0, 7, 6] = -1, 5
    actions = stays(core)
    actions[5] = MOVE_RIGHT  # into the wall at (7, 7)
    out = core.step(actions[None])
    assert tuple(core.state.positions[0, 5]) == (6, 7)
    view = out.views[0, 5]  # 9 x 9, the tiger at (4, 4)
    assert view[4, 5, 0] == 1 and view[4, 6, 0] == 1 and view[4, 4, 0] == 0
    assert core.wall_maps[0, 7, 7] and core.wall_maps[0, 7, 8] and core.wall_maps[0].sum() == 4 * 11 + 2


def test_a_deer_sees_a_plus_in_3_by_3_at_the_centre_of_the_batched_view():
    core = make_core()
    out = core.observe()
    view = out.views[0, 0]  # deer at (5, 5): tigers left (4, 5), right (6, 5), above (5, 4)
    outside = np.ones((9, 9), dtype=bool)
    outside[3:6, 3:6] = False
    assert not view[outside].any()
    own = view[3:6, 3:6]
    np.testing.assert_array_equal(own[..., 1], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])  # itself (own group first)
    np.testing.assert_array_equal(own[..., 3], [[0, 1, 0], [1, 0, 1], [0, 0, 0]])  # the tigers in the plus
    env = tiger_deer_v0.parallel_env(map_size=12)
    assert env.observation_space("deer_0").shape == (3, 3, 5) and env.observation_space("tiger_0").shape == (9, 9, 5)


def test_random_map_counts_no_overlaps_walls_first_and_one_per_seed():
    config = TigerDeerConfig(map_size=30)
    core = TigerDeerCore(config, n_battles=3)
    core.reset(seed=5)
    n_walls = int(30 * 30 * 0.04)
    layouts = []
    for battle in range(3):
        walls = core.wall_maps[battle]
        assert walls.sum() == 4 * 29 + n_walls
        cells = core.state.positions[battle]
        assert len(cells) == sum(config.group_counts) == int(900 * 0.05) + int(900 * 0.01)
        assert len({tuple(c) for c in cells.tolist()}) == len(cells)  # no two agents on a cell
        assert not walls[cells[:, 1], cells[:, 0]].any()
        assert ((cells >= 1) & (cells <= 28)).all()
        layouts.append((walls.copy(), cells.copy()))
    assert not np.array_equal(layouts[0][1], layouts[1][1])  # each game its own map
    again = TigerDeerCore(config, n_battles=3)
    again.reset(seed=5)
    np.testing.assert_array_equal(again.wall_maps, core.wall_maps)
    np.testing.assert_array_equal(again.state.positions, core.state.positions)
    core.reset()  # no seed: the stream goes on, a new map (as MAgent2's reset)
    assert not np.array_equal(core.state.positions, again.state.positions)
    # walls first, then deer, then tigers, each drawn among the cells still free
    rng = np.random.default_rng(9)
    layout = place(config, np.random.default_rng(9))
    free = np.zeros((30, 30), dtype=bool)
    free[1:-1, 1:-1] = True
    np.testing.assert_array_equal(layout.walls, random_cells(free, n_walls, rng))
    for group, n in zip(layout.groups, config.group_counts):
        np.testing.assert_array_equal(group, random_cells(free, n, rng))


def test_each_group_has_its_own_spaces_and_mean_action():
    env = tiger_deer_v0.parallel_env(map_size=20, extra_features=True, minimap_mode=True, action_mask=True)
    observations, infos = env.reset(seed=3)
    assert env.possible_agents == [f"deer_{i}" for i in range(20)] + [f"tiger_{i}" for i in range(4)]  # 0.05 and 0.01 of 400
    for agent in env.agents:
        group = agent.split("_")[0]
        assert observations[agent].shape == ((3, 3, 25) if group == "deer" else (9, 9, 29))
        assert observations[agent] in env.observation_space(agent)
        n = 5 if group == "deer" else 9
        assert env.action_space(agent).n == n and infos[agent]["mean_action"].shape == (n,)
        assert infos[agent]["action_mask"].shape == (n,)
    assert env.state().shape == (20, 20, 5)
    assert set(GROUPS) == {agent.split("_")[0] for agent in env.agents}


def play(threads: int | None, steps: int = 30) -> list[np.ndarray]:
    core = TigerDeerCore(TigerDeerConfig(map_size=24, minimap_mode=True, tiger_step_recover=-0.3), n_battles=3, threads=threads)
    out = core.reset(seed=4)
    rng = np.random.default_rng(0)
    limits = core.tables.n_actions[core.tables.slot_type]
    arrays = []
    for _ in range(steps):
        out = core.step(rng.integers(0, limits, size=(3, core.n_agents)))
        core.reset_battles(out.done)
        arrays += [out.views, out.features, out.rewards, out.terminated, out.mean_actions, core.action_masks(), core.wall_maps.copy()]
    return arrays


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    reference = play(threads=1)
    for threads in sorted({2, numba.config.NUMBA_NUM_THREADS}):
        assert all(np.array_equal(a, b) for a, b in zip(play(threads), reference))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_env_plays_like_the_original_and_draws_the_same_next_map(how):
    copier = copy.deepcopy if how == "deepcopy" else (lambda env: pickle.loads(pickle.dumps(env)))
    original = tiger_deer_v0.parallel_env(map_size=16, extra_features=True, minimap_mode=True)
    original.reset(seed=2)
    copied = copier(original)
    rng = np.random.default_rng(0)
    for _ in range(40):
        if not original.agents:
            break
        actions = {agent: int(rng.integers(original.action_space(agent).n)) for agent in original.agents}
        a, b = original.step(actions), copied.step(actions)
        for mine, theirs in zip(a, b):
            assert mine.keys() == theirs.keys()
            for agent in mine:
                if isinstance(mine[agent], np.ndarray):
                    np.testing.assert_array_equal(mine[agent], theirs[agent])
                elif isinstance(mine[agent], dict):
                    np.testing.assert_array_equal(mine[agent]["mean_action"], theirs[agent]["mean_action"])
                else:
                    assert mine[agent] == theirs[agent]
    first, second = original.reset(), copied.reset()  # the generators were copied too
    np.testing.assert_array_equal(original.state(), copied.state())
    assert first[0].keys() == second[0].keys()


def test_bad_arguments():
    with pytest.raises(ValueError, match="map_size"):
        tiger_deer_v0.parallel_env(map_size=9)  # MAgent2's limit is 10
    with pytest.raises(ValueError, match="dead_agents"):
        tiger_deer_v0.parallel_env(dead_agents="drop")
    with pytest.raises(TypeError, match="tiger_step_recover"):
        tiger_deer_v0.parallel_env(tiger_step_recover="fast")
    with pytest.raises(ValueError, match="each of"):
        TigerDeerConfig(map_size=12, positions={"deer": [(1, 1)]})
    with pytest.raises(ValueError, match="one cell"):
        TigerDeerConfig(map_size=12, positions=POSITIONS, walls=[(5, 5)])
    with pytest.raises(ValueError, match="explicit positions"):
        TigerDeerConfig(walls=[(5, 5)])
    with pytest.raises(ValueError, match="inside the wall ring"):
        TigerDeerConfig(map_size=12, positions={**POSITIONS, "deer": [(0, 5)]})


def _play_in_child(queue) -> None:
    queue.put(play(threads=None, steps=8))


def test_a_process_forked_after_the_parallel_kernels_ran_plays_the_same(monkeypatch):
    """Fork safety (Battle's test in tests/mfenvs/battle/test_kernels.py, on tiger-deer's game)."""
    import multiprocessing

    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    expected = play(threads=None, steps=8)  # the parallel kernels have run in this process
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_play_in_child, args=(queue,))
    child.start()
    try:
        result = queue.get(timeout=300)
    finally:
        child.join(timeout=60)
    assert child.exitcode == 0
    assert all(np.array_equal(a, b) for a, b in zip(result, expected))


def test_human_mode_renders_without_returning_a_frame():
    env = tiger_deer_v0.parallel_env(map_size=16, render_mode="human")
    env.reset(seed=0)
    env.step({agent: 0 for agent in env.agents})
    assert env.render() is None
    env.close()


def test_rgb_frames_show_the_drawn_walls():
    env = tiger_deer_v0.parallel_env(map_size=16, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    env.reset(seed=1)
    assert first.shape == env.render().shape and not np.array_equal(first, env.render())  # another map, another picture


def test_a_tigers_largest_reward_stays_inside_its_observation_space():
    """Four tigers on one deer: each gets +3, tiled into its next observation with extra_features."""
    from mfenvs.tiger_deer.env import SingleTigerDeer

    positions = {"deer": [(5, 5), (2, 9)], "tiger": [(4, 5), (6, 5), (5, 4), (5, 6)]}
    game = SingleTigerDeer(TigerDeerConfig(map_size=12, positions=positions, extra_features=True))
    game.reset(seed=0)
    engine = game.engine
    actions = stays(engine)
    for slot, (dx, dy) in zip(range(2, 6), ((1, 0), (-1, 0), (0, 1), (0, -1))):
        actions[slot] = attack(engine, slot, dx, dy)
    out = game.step(actions)
    np.testing.assert_allclose(out.rewards, [-0.4, 0.0, 3.0, 3.0, 3.0, 3.0], atol=1e-6)
    for slot, observation in enumerate(out.observations):
        assert observation in game.observation_spaces[slot], slot
