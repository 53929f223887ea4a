"""Gather's rules on hand-built placements (MAGENT2_GAMES.md section 2.3), MAgent2's map, the passive food
group (never an agent, always in the views and the state), the spaces and infos, determinism over
thread counts, copies and forks. MAgent2's own engine is compared in tests/mfenvs/magent2."""

from __future__ import annotations

import copy
import pickle

import numba
import numpy as np
import pytest

from mfenvs import gather_v0
from mfenvs.common import jit
from mfenvs.gather import GROUPS, GatherConfig, GatherCore, start_cells
from mfenvs.gather.env import SingleGather

#: slots: food 0 (5, 5), 1 (8, 8); omnivores 2 (4, 5), 3 (6, 5), 4 (5, 4), 5 (8, 9)
POSITIONS = {"food": [(5, 5), (8, 8)], "omnivore": [(4, 5), (6, 5), (5, 4), (8, 9)]}
STAY = 14  # speed 3: 29 moves, (0, 0) the 15th


def make_core(**changes) -> GatherCore:
    core = GatherCore(GatherConfig(**{"map_size": 12, "positions": POSITIONS, **changes}))
    core.reset(seed=0)
    return core


def attack(core: GatherCore, slot: int, dx: int, dy: int) -> int:
    unit = core.game.types[core.tables.slot_type[slot]]
    return len(unit.move_offsets) + unit.attack_offsets.index((dx, dy))


def stays(core: GatherCore) -> np.ndarray:
    return core.tables.stay[core.tables.slot_type].copy()


def test_units_are_magent2s():
    food, omnivore = make_core().game.types
    assert (food.hp, food.n_actions, food.stay, food.damage, food.kill_reward, food.step_recover) == (25, 1, 0, 0, 5, 0)
    assert (omnivore.hp, omnivore.n_actions, omnivore.stay, omnivore.damage, omnivore.attack_in_group) == (3, 33, STAY, 6, True)
    assert omnivore.attack_offsets == ((0, -1), (-1, 0), (1, 0), (0, 1))
    assert (omnivore.step_reward, omnivore.attack_penalty, omnivore.dead_penalty) == (-0.01, -0.1, -1.0)
    assert make_core().game.view_size == 15 and make_core().game.n_features == 33 + 1 + 2  # no id bits


def test_food_pays_0_39_a_hit_and_4_89_for_the_fifth_that_kills_it():
    """Verified in MAgent2: 0.5 - 0.1 - 0.01 a non-killing hit; the 5th hit (25 hp, 6 damage) kills: 5 - 0.1 - 0.01."""
    core = make_core()
    actions = stays(core)
    actions[2] = attack(core, 2, 1, 0)  # on food 0
    for hit in range(4):
        out = core.step(actions[None])
        np.testing.assert_allclose(out.rewards[0, 2:], [0.39, -0.01, -0.01, -0.01], atol=1e-6)
        assert core.state.hp[0, 0] == 25 - 6 * (hit + 1)
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0, 2:], [4.89, -0.01, -0.01, -0.01], atol=1e-6)
    assert not out.alive[0, 0] and core.results(0)["food_eaten"] == 1 and not out.done[0]


def test_an_omnivore_kills_another_in_one_hit():
    """Two omnivores hitting one food both get 0.39; attack_in_group: an omnivore's hit kills another
    (3 hp), the killer gets -0.11, the victim -1 (verified in MAgent2)."""
    core = make_core()
    actions = stays(core)
    actions[4] = attack(core, 4, 0, 1)  # (5, 4) hits (5, 5): the food
    actions[3] = attack(core, 3, -1, 0)  # (6, 5) hits the food too
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0, [3, 4]], [0.39, 0.39], atol=1e-6)
    positions = {"food": [(9, 9)], "omnivore": [(4, 5), (5, 5)]}
    core = GatherCore(GatherConfig(map_size=12, positions=positions))
    core.reset(seed=0)
    actions = stays(core)
    actions[1] = attack(core, 1, 1, 0)
    out = core.step(actions[None])
    np.testing.assert_allclose(out.rewards[0, 1:], [-0.11, -1.0], atol=1e-6)
    assert not out.alive[0, 2] and core.results(0)["omnivores_killed"] == 1


def test_the_game_ends_when_the_food_is_eaten():
    positions = {"food": [(5, 5)], "omnivore": [(4, 5), (9, 9)]}
    core = GatherCore(GatherConfig(map_size=12, positions=positions))
    core.reset(seed=0)
    actions = stays(core)
    actions[1] = attack(core, 1, 1, 0)
    for _ in range(4):
        assert not core.step(actions[None]).done[0]
    out = core.step(actions[None])
    assert out.done[0] and not out.truncated[0] and out.terminated[0, 1:].all()
    assert core.results(0)["winner"] == "omnivore"


def test_food_never_moves_and_omnivores_move_up_to_3():
    core = make_core()
    actions = stays(core)
    offsets = core.game.types[1].move_offsets
    actions[5] = offsets.index((-3, 0))  # (8, 9) -> (5, 9)
    core.step(actions[None])
    np.testing.assert_array_equal(core.state.positions[0, 5], (5, 9))
    np.testing.assert_array_equal(core.state.positions[0, :2], POSITIONS["food"])
    with pytest.raises(ValueError, match="actions"):
        bad = stays(core)
        bad[0] = 1  # food has one action
        core.step(bad[None])


def test_magent2s_map_and_its_counts():
    food, omnivores = start_cells()
    assert (len(food), len(omnivores)) == (2272, 495) == GatherConfig().group_counts
    cells = np.concatenate([food, omnivores])
    assert len({tuple(c) for c in cells.tolist()}) == len(cells)  # no two on one cell
    assert cells.min() >= 1 and cells.max() <= 198
    core = GatherCore(GatherConfig())
    core.reset(seed=0)
    first = core.state.positions.copy()
    core.reset(seed=5)
    np.testing.assert_array_equal(core.state.positions, first)  # the same map whatever the seed
    assert core.game.move_bands == (8, 25)  # MAgent's x-band move order on 200 x 200


def test_food_is_no_agent_but_is_in_the_views_and_the_state():
    env = gather_v0.parallel_env(extra_features=True, minimap_mode=True, action_mask=True)
    observations, infos = env.reset(seed=3)
    assert env.possible_agents == [f"omnivore_{i}" for i in range(495)]
    for agent in env.agents[:20]:
        assert observations[agent].shape == (15, 15, 43) and observations[agent] in env.observation_space(agent)
        assert env.action_space(agent).n == 33 and infos[agent]["mean_action"].shape == (33,)
        assert infos[agent]["action_mask"].shape == (33,)
    state = env.state()
    assert state.shape == (200, 200, 5) and state[..., 1].sum() == 2272 and state[..., 3].sum() == 495
    # with the minimap: wall, omnivores (presence, hp, minimap), food (presence 4, hp 5, minimap 6); the
    # innermost ring's omnivores see food at full hp, and every omnivore's food minimap shows the field
    seeing = [agent for agent in env.agents if observations[agent][..., 4].sum() > 0]
    assert seeing and all(np.array_equal(observations[agent][..., 4], observations[agent][..., 5]) for agent in seeing)
    assert all(observations[agent][..., 6].sum() > 0 for agent in env.agents)
    assert {agent.split("_")[0] for agent in env.agents} == {GROUPS[1]}


def test_every_omnivore_acts_and_the_food_stays():
    env = gather_v0.parallel_env(max_cycles=3)
    env.reset(seed=0)
    core = env.core.engine
    food_before = core.state.positions[0, :2272].copy()
    rng = np.random.default_rng(0)
    while env.agents:
        env.step({agent: int(rng.integers(33)) for agent in env.agents})
    np.testing.assert_array_equal(core.state.positions[0, :2272], food_before)
    assert (core.state.last_actions[0, :2272] == 0).all() and core.state.steps[0] == 3


def test_mean_action_is_over_the_other_omnivores_in_range():
    config = GatherConfig(map_size=20, positions={"food": [(1, 1)], "omnivore": [(5, 5), (6, 5), (15, 15)]}, mean_action_radius=3)
    game = SingleGather(config)
    game.reset(seed=0)
    out = game.step(np.array([0, 1, 2]))
    np.testing.assert_array_equal(out.mean_actions[0], np.eye(33, dtype=np.float32)[1])
    np.testing.assert_array_equal(out.mean_actions[1], np.eye(33, dtype=np.float32)[0])
    assert not out.mean_actions[2].any()  # nobody in range


def play(threads: int | None, steps: int = 20) -> list[np.ndarray]:
    core = GatherCore(GatherConfig(minimap_mode=True), n_battles=2, threads=threads)
    out = core.reset(seed=4)
    rng = np.random.default_rng(0)
    limits = core.tables.n_actions[core.tables.slot_type]
    arrays = []
    for _ in range(steps):
        out = core.step(rng.integers(0, limits, size=(2, core.n_agents)))
        core.reset_battles(out.done)
        arrays += [out.views, out.features, out.rewards, out.terminated, out.mean_actions, core.action_masks(), core.state.positions.copy()]
    return arrays


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    reference = play(threads=1)
    for threads in sorted({2, numba.config.NUMBA_NUM_THREADS}):
        assert all(np.array_equal(a, b) for a, b in zip(play(threads), reference))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_env_plays_like_the_original(how):
    copier = copy.deepcopy if how == "deepcopy" else (lambda env: pickle.loads(pickle.dumps(env)))
    original = gather_v0.parallel_env(extra_features=True, max_cycles=30)
    original.reset(seed=2)
    copied = copier(original)
    rng = np.random.default_rng(0)
    for _ in range(30):
        if not original.agents:
            break
        actions = {agent: int(rng.integers(33)) for agent in original.agents}
        a, b = original.step(actions), copied.step(actions)
        for mine, theirs in zip(a, b):
            assert mine.keys() == theirs.keys()
            for agent in mine:
                if isinstance(mine[agent], np.ndarray):
                    np.testing.assert_array_equal(mine[agent], theirs[agent])
                elif isinstance(mine[agent], dict):
                    np.testing.assert_array_equal(mine[agent]["mean_action"], theirs[agent]["mean_action"])
                    assert {k: v for k, v in mine[agent].items() if k != "mean_action"} == {
                        k: v for k, v in theirs[agent].items() if k != "mean_action"
                    }
                else:
                    assert mine[agent] == theirs[agent]
    np.testing.assert_array_equal(original.state(), copied.state())


def test_bad_arguments():
    with pytest.raises(TypeError):
        gather_v0.parallel_env(map_size=100)  # MAgent2's gather has no map_size
    with pytest.raises(ValueError, match="explicit positions"):
        GatherConfig(map_size=100)
    with pytest.raises(ValueError, match="dead_agents"):
        gather_v0.parallel_env(dead_agents="drop")
    with pytest.raises(TypeError, match="attack_food_reward"):
        gather_v0.parallel_env(attack_food_reward="lots")
    with pytest.raises(ValueError, match="each of"):
        GatherConfig(map_size=12, positions={"food": [(1, 1)]})
    with pytest.raises(ValueError, match="one cell"):
        GatherConfig(map_size=12, positions={"food": [(1, 1)], "omnivore": [(1, 1)]})
    with pytest.raises(ValueError, match="inside the wall ring"):
        GatherConfig(map_size=12, positions={"food": [(0, 5)], "omnivore": [(2, 2)]})


def _play_in_child(queue) -> None:
    queue.put(play(threads=None, steps=5))


def test_a_process_forked_after_the_parallel_kernels_ran_plays_the_same(monkeypatch):
    """Fork safety (Battle's test in tests/mfenvs/battle/test_kernels.py, on gather's game)."""
    import multiprocessing

    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    expected = play(threads=None, steps=5)
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


def test_rgb_frames_show_food_and_omnivores_in_their_colours():
    from render import palette

    env = gather_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    colours = {tuple(c) for c in frame.reshape(-1, 3).tolist()}
    assert palette.GROUP_COLOURS["food"] in colours and palette.GROUP_COLOURS["omnivore"] in colours
    env.close()


def test_the_largest_rewards_stay_inside_the_observation_space():
    """A food kill (+4.89) and a death (-1), tiled into the next observations with extra_features."""
    positions = {"food": [(5, 5)], "omnivore": [(4, 5), (7, 7), (8, 7)]}
    game = SingleGather(GatherConfig(map_size=12, positions=positions, extra_features=True))
    game.reset(seed=0)
    engine = game.engine
    engine.state.hp[0, 0] = 1.0  # the next hit kills the food
    actions = np.array([attack(engine, 1, 1, 0), STAY, attack(engine, 3, -1, 0)])
    out = game.step(actions)
    np.testing.assert_allclose(out.rewards, [4.89, -1.0, -0.11], atol=1e-6)
    assert out.done  # the food is gone
    for slot, observation in enumerate(out.observations):
        assert observation in game.observation_spaces[slot], slot


def test_the_food_views_are_made_only_when_asked_and_change_nothing_else():
    """No env hands out a food's view (MAgent2's wrapper never observes the food): the core leaves them zero
    unless ``observe_passive``; every other output is the same either way."""
    config = GatherConfig(map_size=12, positions=POSITIONS)
    plain, full = GatherCore(config), GatherCore(config, observe_passive=True)
    outputs = [plain.reset(seed=0), full.reset(seed=0)]
    actions = stays(plain)
    actions[2] = attack(plain, 2, 1, 0)
    for _ in range(2):
        assert not outputs[0].views[0, :2].any() and outputs[1].views[0, :2].any()
        np.testing.assert_array_equal(outputs[0].views[:, 2:], outputs[1].views[:, 2:])
        np.testing.assert_array_equal(outputs[0].features, outputs[1].features)
        np.testing.assert_array_equal(outputs[0].rewards, outputs[1].rewards)
        outputs = [plain.step(actions[None]), full.step(actions[None])]
    # a food's 3 x 3 view at the centre of the 15 x 15 window: the omnivore west of food 0 and its own cell
    view = outputs[1].views[0, 0]
    assert view[7, 6, 3] == 1 and view[7, 7, 1] == 1 and view[7, 7, 2] == pytest.approx((25 - 12) / 25)
