"""Adversarial pursuit's rules on hand-built placements (MAGENT2_GAMES.md section 2.4), its seeded random
map with 2 x 2 predators, its per-group spaces, views and infos, determinism over thread counts, copies
and forks. MAgent2's own engine is compared in tests/mfenvs/magent2."""

from __future__ import annotations

import copy
import pickle

import numba
import numpy as np
import pytest

from mfenvs import adversarial_pursuit_v0
from mfenvs.adversarial_pursuit import (
    GROUPS,
    AdversarialPursuitConfig,
    AdversarialPursuitCore,
    place,
)
from mfenvs.adversarial_pursuit.game import random_bodies
from mfenvs.common import jit
from mfenvs.tiger_deer.game import random_cells

#: slots: predators 0 (2, 4) covering (2..3, 4..5), 1 (5, 4), 2 (8, 8); prey 3 (4, 4), 4 (4, 6), 5 (10, 2)
POSITIONS = {"predator": [(2, 4), (5, 4), (8, 8)], "prey": [(4, 4), (4, 6), (10, 2)]}
WALLS = [(7, 2), (8, 2)]
RING = ((0, -1), (1, -1), (-1, 0), (2, 0), (-1, 1), (2, 1), (0, 2), (1, 2))
STAY = 2  # a predator's speed 1: (0, -1), (-1, 0), (0, 0), (1, 0), (0, 1)


def make_core(**changes) -> AdversarialPursuitCore:
    core = AdversarialPursuitCore(AdversarialPursuitConfig(**{"map_size": 12, "positions": POSITIONS, "walls": WALLS, **changes}))
    core.reset(seed=0)
    return core


def tag(dx: int, dy: int) -> int:
    """A predator's tag of the ring cell (dx, dy) from its top-left."""
    return 5 + RING.index((dx, dy))


def stays(core: AdversarialPursuitCore) -> np.ndarray:
    return core.tables.stay[core.tables.slot_type].copy()


def test_units_are_magent2s():
    predator, prey = (core_type for core_type in make_core().game.types)
    assert (predator.width, predator.hp, predator.damage, predator.attack_penalty) == (2, 1, 0, pytest.approx(-0.2))
    assert (predator.n_actions, prey.n_actions, predator.stay, prey.stay) == (13, 9, 2, 4)
    assert predator.attack_offsets == RING and prey.attack_offsets == ()
    assert AdversarialPursuitConfig().group_counts == (25, 50) and AdversarialPursuitConfig().n_random_walls == 60


def test_tags_pay_the_predator_and_each_tag_costs_the_prey_and_nobody_is_hurt():
    core = make_core()
    actions = stays(core)
    actions[0] = tag(2, 0)  # (4, 4): prey 3
    actions[1] = tag(-1, 0)  # (4, 4): prey 3 again
    actions[2] = tag(0, -1)  # (8, 7): empty, a miss
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0], [0.8, 0.8, -0.2, -2.0, 0.0, 0.0], atol=1e-6)
    assert out.alive.all() and (core.state.hp == 1).all() and core.results()["predator_tags"] == 2
    actions = stays(core)
    actions[0] = tag(2, 1)  # (4, 5): nobody; prey 4 is at (4, 6)
    actions[1] = tag(0, 2)  # (5, 6): nobody
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0], [-0.2, -0.2, 0.0, 0.0, 0.0, 0.0], atol=1e-6)
    assert core.results()["predator_tags"] == 2


def test_a_predator_tagging_a_predator_misses():
    core = make_core(positions={"predator": [(2, 4), (4, 4)], "prey": [(9, 9)]})
    actions = stays(core)
    actions[0] = tag(2, 0)  # (4, 4): the other predator's top-left
    actions[1] = tag(-1, 1)  # (3, 5): the first predator's bottom-right
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0], [-0.2, -0.2, 0.0], atol=1e-6)
    assert not core.state.last_hits.any()


def test_episodes_always_run_to_max_cycles():
    core = AdversarialPursuitCore(AdversarialPursuitConfig(map_size=20, max_cycles=25), n_battles=2)
    core.reset(seed=1)
    rng = np.random.default_rng(0)
    limits = core.tables.n_actions[core.tables.slot_type]
    for step in range(25):
        out = core.step(rng.integers(0, limits, size=(2, core.n_agents)))
        assert out.alive.all()
        assert out.done.tolist() == [step == 24] * 2 and out.truncated.tolist() == [step == 24] * 2
    assert not out.terminated.any()


def test_walls_block_a_predator_and_every_predator_cell_is_seen():
    core = make_core(positions={"predator": [(7, 3)], "prey": [(9, 6)]})
    actions = stays(core)
    actions[0] = 0  # up: (7..8, 2..3) holds the walls
    core.step(actions[None])
    assert core.state.positions[0, 0].tolist() == [7, 3]
    out = core.observe()
    # prey at (9, 6) sees the predator's four cells (7..8, 3..4) in its 9 x 9 window (rows and columns 0-8)
    seen = {(int(x) + 9 - 4, int(y) + 6 - 4) for y, x in np.argwhere(out.views[0, 1, :9, :9, 3] > 0)}
    assert seen == {(7, 3), (8, 3), (7, 4), (8, 4)}
    assert (out.views[0, 1, 9, :, :] == 0).all() and (out.views[0, 1, :, 9, :] == 0).all()
    walls_seen = {(int(x) + 7 + 1 - 5, int(y) + 3 + 1 - 5) for y, x in np.argwhere(out.views[0, 0, :, :, 0] > 0)}
    assert {(7, 2), (8, 2)} <= walls_seen
    assert np.argwhere(core.state_map(0)[..., 1] > 0).tolist() == [[3, 7]]  # state: top-left only, [y, x]


def test_random_map_counts_no_overlaps_walls_first_and_one_per_seed():
    config = AdversarialPursuitConfig(map_size=30)
    core = AdversarialPursuitCore(config, n_battles=3)
    core.reset(seed=5)
    n_walls = int(30 * 30 * 0.03)
    n_predators, n_prey = config.group_counts
    assert (n_predators, n_prey) == (int(900 * 0.0125), int(900 * 0.025))
    layouts = []
    for battle in range(3):
        walls = core.wall_maps[battle]
        assert walls.sum() == 4 * 29 + n_walls
        occupant = core.state.occupant[battle]
        assert (occupant >= 0).sum() == 4 * n_predators + n_prey  # bodies do not overlap
        assert not (walls & (occupant >= 0)).any()
        for slot in range(n_predators):
            x, y = core.state.positions[battle, slot]
            assert (occupant[y : y + 2, x : x + 2] == slot).all()
        layouts.append(core.state.positions[battle].copy())
    assert not np.array_equal(layouts[0], layouts[1])  # each game its own map
    again = AdversarialPursuitCore(config, n_battles=3)
    again.reset(seed=5)
    np.testing.assert_array_equal(again.wall_maps, core.wall_maps)
    np.testing.assert_array_equal(again.state.positions, core.state.positions)
    core.reset()  # no seed: the stream goes on, a new map (as MAgent2's reset)
    assert not np.array_equal(core.state.positions, again.state.positions)
    # walls first, then predators (2 x 2 areas), then prey, each drawn among the cells still free
    rng = np.random.default_rng(9)
    layout = place(config, np.random.default_rng(9))
    free = np.zeros((30, 30), dtype=bool)
    free[1:-1, 1:-1] = True
    np.testing.assert_array_equal(layout.walls, random_cells(free, n_walls, rng))
    np.testing.assert_array_equal(layout.groups[0], random_bodies(free, n_predators, 2, rng))
    np.testing.assert_array_equal(layout.groups[1], random_cells(free, n_prey, rng))


def test_a_full_map_is_an_error_not_a_hang():
    free = np.zeros((6, 6), dtype=bool)
    free[1:3, 1:3] = True
    rng = np.random.default_rng(0)
    assert random_bodies(free, 1, 2, rng).tolist() == [[1, 1]]
    with pytest.raises(ValueError, match="no free 2 x 2 area"):
        random_bodies(free, 1, 2, rng)


def test_each_group_has_its_own_spaces_and_mean_action():
    env = adversarial_pursuit_v0.parallel_env(map_size=20, extra_features=True, minimap_mode=True, action_mask=True)
    observations, infos = env.reset(seed=3)
    assert env.possible_agents == [f"predator_{i}" for i in range(5)] + [f"prey_{i}" for i in range(10)]
    for agent in env.agents:
        group = agent.split("_")[0]
        assert observations[agent].shape == ((10, 10, 33) if group == "predator" else (9, 9, 29))
        assert observations[agent] in env.observation_space(agent)
        n = 13 if group == "predator" else 9
        assert env.action_space(agent).n == n and infos[agent]["mean_action"].shape == (n,)
        assert infos[agent]["action_mask"].shape == (n,)
    assert env.state().shape == (20, 20, 5)
    assert set(GROUPS) == {agent.split("_")[0] for agent in env.agents}


def test_the_mean_action_is_over_the_own_group_in_radius():
    """Radius 3 between positions after the step (a predator's: its top-left cell); prey never count predators."""
    core = make_core(mean_action_radius=3)
    actions = stays(core)
    actions[0], actions[1] = tag(2, 0), 3  # predator 1 moves right, to (6, 4): 4 cells from predator 0
    actions[4] = 7  # prey 4 moves (0, 1), to (4, 7): 3 cells below prey 3, which stays (4) at (4, 4)
    out = core.step(actions[None])
    means = out.mean_actions[0]
    assert core.state.positions[0, [1, 3, 4]].tolist() == [[6, 4], [4, 4], [4, 7]]
    assert not means[[0, 1, 2, 5]].any()  # nobody of their own group in range
    expected_3, expected_4 = np.zeros(13, np.float32), np.zeros(13, np.float32)
    expected_3[7], expected_4[4] = 1.0, 1.0
    np.testing.assert_array_equal(means[3], expected_3)
    np.testing.assert_array_equal(means[4], expected_4)


def play(threads: int | None, steps: int = 30) -> list[np.ndarray]:
    core = AdversarialPursuitCore(AdversarialPursuitConfig(map_size=24, minimap_mode=True, max_cycles=12), n_battles=3, threads=threads)
    out = core.reset(seed=4)
    rng = np.random.default_rng(0)
    limits = core.tables.n_actions[core.tables.slot_type]
    arrays = []
    for _ in range(steps):
        out = core.step(rng.integers(0, limits, size=(3, core.n_agents)))
        core.reset_battles(out.done)
        arrays += [out.views, out.features, out.rewards, out.mean_actions, core.action_masks(), core.wall_maps.copy(), core.tags.copy()]
    return arrays


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    reference = play(threads=1)
    for threads in sorted({2, numba.config.NUMBA_NUM_THREADS}):
        assert all(np.array_equal(a, b) for a, b in zip(play(threads), reference))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_env_plays_like_the_original_and_draws_the_same_next_map(how):
    copier = copy.deepcopy if how == "deepcopy" else (lambda env: pickle.loads(pickle.dumps(env)))
    original = adversarial_pursuit_v0.parallel_env(map_size=16, extra_features=True, minimap_mode=True, max_cycles=30)
    original.reset(seed=2)
    copied = copier(original)
    rng = np.random.default_rng(0)
    for _ in range(30):
        actions = {agent: int(rng.integers(original.action_space(agent).n)) for agent in original.agents}
        a, b = original.step(actions), copied.step(actions)
        for mine, theirs in zip(a, b):
            assert mine.keys() == theirs.keys()
            for agent in mine:
                if isinstance(mine[agent], np.ndarray):
                    np.testing.assert_array_equal(mine[agent], theirs[agent])
                elif isinstance(mine[agent], dict):
                    np.testing.assert_array_equal(mine[agent]["mean_action"], theirs[agent]["mean_action"])
                    assert mine[agent]["predator_tags"] == theirs[agent]["predator_tags"]
                else:
                    assert mine[agent] == theirs[agent]
    assert not original.agents
    first, second = original.reset(), copied.reset()  # the generators were copied too
    np.testing.assert_array_equal(original.state(), copied.state())
    assert first[0].keys() == second[0].keys()


def test_bad_arguments():
    with pytest.raises(ValueError, match="map_size"):
        adversarial_pursuit_v0.parallel_env(map_size=6)  # MAgent2's limit is 7
    with pytest.raises(ValueError, match="dead_agents"):
        adversarial_pursuit_v0.parallel_env(dead_agents="drop")
    with pytest.raises(TypeError, match="tag_penalty"):
        adversarial_pursuit_v0.parallel_env(tag_penalty="high")
    with pytest.raises(ValueError, match="each of"):
        AdversarialPursuitConfig(map_size=12, positions={"prey": [(1, 1)]})
    with pytest.raises(ValueError, match="one cell"):
        AdversarialPursuitConfig(map_size=12, positions=POSITIONS, walls=[(3, 5)])  # under predator 0's body
    with pytest.raises(ValueError, match="one cell"):
        AdversarialPursuitConfig(map_size=12, positions={**POSITIONS, "prey": [(6, 5)]})  # under predator 1's body
    with pytest.raises(ValueError, match="explicit positions"):
        AdversarialPursuitConfig(walls=[(5, 5)])
    with pytest.raises(ValueError, match="inside the wall ring"):
        AdversarialPursuitConfig(map_size=12, positions={**POSITIONS, "predator": [(10, 5)]})  # its body reaches x = 11


def test_below_map_9_there_is_no_predator_and_the_game_ends_after_one_step_as_magent2():
    env = adversarial_pursuit_v0.parallel_env(map_size=7)
    env.reset(seed=0)
    assert env.agents == ["prey_0"]
    _, _, terminations, _, _ = env.step({"prey_0": 4})
    assert terminations == {"prey_0": True} and not env.agents


def _play_in_child(queue) -> None:
    queue.put(play(threads=None, steps=8))


def test_a_process_forked_after_the_parallel_kernels_ran_plays_the_same(monkeypatch):
    """Fork safety (Battle's test in tests/mfenvs/battle/test_kernels.py, on adversarial pursuit's game)."""
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
    env = adversarial_pursuit_v0.parallel_env(map_size=16, render_mode="human")
    env.reset(seed=0)
    env.step({agent: 0 for agent in env.agents})
    assert env.render() is None
    env.close()


def test_a_prey_tagged_by_four_predators_stays_inside_its_observation_space():
    """Four predators around one prey, one on each side: it gets -4, tiled into its next observation."""
    from mfenvs.adversarial_pursuit.env import SingleAdversarialPursuit

    # prey at (5, 5); predators on its left (3, 5), right (6, 4), above (4, 3) and below (5, 6), each with it on its ring
    positions = {"predator": [(3, 5), (6, 4), (4, 3), (5, 6)], "prey": [(5, 5), (1, 1)]}
    game = SingleAdversarialPursuit(AdversarialPursuitConfig(map_size=12, positions=positions, extra_features=True))
    game.reset(seed=0)
    engine = game.engine
    actions = stays(engine)
    for slot, (x, y) in enumerate(positions["predator"]):
        actions[slot] = tag(5 - x, 5 - y)
    out = game.step(actions)
    np.testing.assert_allclose(out.rewards, [0.8, 0.8, 0.8, 0.8, -4.0, 0.0], atol=1e-6)
    for slot, observation in enumerate(out.observations):
        assert observation in game.observation_spaces[slot], slot


def test_rgb_frames_draw_each_predator_as_a_2_by_2_block_and_show_the_walls():
    from render import palette
    from render.battle import body_cells, map_layout

    env = adversarial_pursuit_v0.parallel_env(map_size=16, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    engine = env.unwrapped.core.engine
    layout = map_layout((frame.shape[1], frame.shape[0]), 16)
    n_predators = engine.group_counts[0]
    cells, owners = body_cells(engine.state.positions[0], engine.tables.widths[engine.tables.slot_type])
    assert len(cells) == 4 * n_predators + engine.group_counts[1]
    for (x, y), owner in zip(cells.tolist(), owners.tolist()):
        centre = frame[layout.top + y * layout.cell + layout.cell // 2, layout.left + x * layout.cell + layout.cell // 2]
        assert tuple(centre) == (palette.VERMILLION if owner < n_predators else palette.SKY_BLUE), (x, y, owner)
    env.reset(seed=1)
    assert frame.shape == env.render().shape and not np.array_equal(frame, env.render())  # another map, another picture


def test_body_cells_expand_wide_bodies_row_major():
    from render.battle import body_cells

    cells, owners = body_cells(np.array([[3, 4], [7, 1], [5, 5]]), np.array([2, 1, 2]))
    assert cells.tolist() == [[3, 4], [4, 4], [3, 5], [4, 5], [7, 1], [5, 5], [6, 5], [5, 6], [6, 6]]
    assert owners.tolist() == [0, 0, 0, 0, 1, 2, 2, 2, 2]
