"""Combined arms' rules on hand-built placements (MAGENT2_GAMES.md section 2.2), its per-group spaces,
infos and mean actions, determinism over thread counts and copies. MAgent2's own engine is compared in
tests/mfenvs/magent2."""

from __future__ import annotations

import copy
import pickle

import numba
import numpy as np
import pytest

from mfenvs import combined_arms_v0
from mfenvs.combined_arms import GROUPS, CombinedArmsConfig, CombinedArmsCore, start_cells
from mfenvs.common import jit

#: slots: redmelee 0 (3, 3), 1 (3, 4); redranged 2 (4, 3); bluemelee 3 (5, 3); blueranged 4 (9, 9), 5 (9, 10)
POSITIONS = {
    "redmelee": [(3, 3), (3, 4)],
    "redranged": [(4, 3)],
    "bluemelee": [(5, 3)],
    "blueranged": [(9, 9), (9, 10)],
}
STEP, ATTACK = np.float32(-0.005), np.float32(-0.1)


def make_core(**changes) -> CombinedArmsCore:
    core = CombinedArmsCore(CombinedArmsConfig(**{"map_size": 12, "positions": POSITIONS, **changes}))
    core.reset(seed=0)
    return core


def attack(core: CombinedArmsCore, slot: int, dx: int, dy: int) -> int:
    unit = core.game.types[core.tables.slot_type[slot]]
    return len(unit.move_offsets) + unit.attack_offsets.index((dx, dy))


def stays(core: CombinedArmsCore) -> np.ndarray:
    return core.tables.stay[core.tables.slot_type].copy()


def test_units_are_magent2s():
    core = make_core()
    melee, ranged = core.game.types
    assert (melee.hp, len(melee.move_offsets), len(melee.attack_offsets), melee.stay) == (10, 5, 4, 2)
    assert (ranged.hp, len(ranged.move_offsets), len(ranged.attack_offsets), ranged.stay) == (3, 13, 12, 6)
    assert melee.attack_in_group and ranged.attack_in_group
    assert core.state.hp[0].tolist() == [10, 10, 3, 10, 3, 3]


def test_a_hit_on_an_enemy_pays_0_095_and_a_kill_4_895():
    """MAGENT2_GAMES.md: a hit gives +0.095 (-0.005 - 0.1 + 0.2), the killing hit +4.895 (+5 from the kill rule)."""
    core = make_core()
    actions = stays(core)
    actions[2] = attack(core, 2, 1, 0)  # redranged hits bluemelee (10 hp) next to it
    out = core.step(actions[None])
    assert out.rewards[0, 2] == np.float32(np.float32(STEP + ATTACK) + np.float32(0.2))
    assert abs(out.rewards[0, 2] - 0.095) < 1e-6
    core = make_core()
    actions = stays(core)
    actions[3] = attack(core, 3, -1, 0)  # bluemelee hits redranged (3 hp): 1 left, recovers to 1.1
    core.step(actions[None])
    out = core.step(actions[None])  # 1.1 - 2 < 0: killed
    assert not out.alive[0, 2] and abs(out.rewards[0, 3] - 4.895) < 1e-6
    assert out.rewards[0, 2] == np.float32(-0.1)
    results = core.results()
    assert results["bluemelee_kills"] == 1 and results["blue_kills"] == 1 and results["red_friendly_kills"] == 0


def test_friendly_fire_lands_within_the_group_and_across_the_side_without_a_bonus():
    """MAgent2: melee damaged a friendly melee and a friendly ranged unit, with no bonus and -0.105."""
    core = make_core()
    actions = stays(core)
    actions[0] = attack(core, 0, 0, 1)  # redmelee 0 hits redmelee 1 (own group)
    out = core.step(actions[None])
    assert core.state.hp[0, 1] == np.float32(8.1)
    assert out.rewards[0, 0] == np.float32(STEP + ATTACK)
    core = make_core()
    actions = stays(core)
    actions[0] = attack(core, 0, 1, 0)  # redmelee 0 hits redranged (the side's other group)
    core.step(actions[None])
    assert core.state.hp[0, 2] == np.float32(1.1)
    out = core.step(actions[None])  # and kills it: a friendly kill, no kill reward
    assert not out.alive[0, 2] and out.rewards[0, 0] == np.float32(STEP + ATTACK)
    results = core.results()
    assert results["redmelee_friendly_kills"] == 1 and results["redmelee_kills"] == 0 and results["red_kills"] == 0


def test_the_game_is_over_when_any_group_is_wiped_out():
    """MAgent2#20: killing redranged's only agent ends the game for every group."""
    core = make_core()
    actions = stays(core)
    actions[3] = attack(core, 3, -1, 0)
    assert not core.step(actions[None]).done[0]
    out = core.step(actions[None])
    assert out.done[0] and not out.truncated[0] and out.terminated[0].all()


def test_start_cells_are_magent2s_map():
    cells = start_cells(45)
    assert [len(cells[group]) for group in GROUPS] == [45, 36, 45, 36]
    assert cells["redmelee"][:2] == [(1, 13), (1, 15)] and cells["redranged"][0] == (3, 13)
    assert cells["bluemelee"][0] == (25, 13) and cells["blueranged"][-1] == (39, 29)
    assert {x for x, _ in cells["redmelee"]} == {1, 5, 9, 13, 17}
    assert [len(start_cells(16)[group]) for group in GROUPS] == [3, 3, 3, 3]  # red's columns start at 1, not -1


def test_each_group_has_its_own_spaces_and_mean_action():
    env = combined_arms_v0.parallel_env(map_size=16, extra_features=True, action_mask=True, mean_action_radius=None)
    observations, infos = env.reset(seed=0)
    shapes = {group: (env.observation_space(f"{group}_0").shape, env.action_space(f"{group}_0").n) for group in GROUPS}
    assert shapes == {
        "redmelee": ((13, 13, 29), 9),
        "redranged": ((13, 13, 45), 25),
        "bluemelee": ((13, 13, 29), 9),
        "blueranged": ((13, 13, 45), 25),
    }
    rng = np.random.default_rng(0)
    actions = {agent: int(rng.integers(env.action_space(agent).n)) for agent in env.agents}
    observations, rewards, _, _, infos = env.step(actions)
    alive = dict(zip(env.possible_agents, env.unwrapped.core.engine.state.alive[0]))
    for group in GROUPS:
        members = [agent for agent in env.possible_agents if agent.startswith(f"{group}_")]
        n_actions = env.action_space(members[0]).n
        for agent in members:
            if alive[agent]:  # the other living group mates' actions (within the group, never the other group)
                mates = [actions[other] for other in members if alive[other] and other != agent]
                expected = np.bincount(mates, minlength=n_actions) / max(len(mates), 1)
                np.testing.assert_allclose(infos[agent]["mean_action"], expected, rtol=1e-6)
            assert infos[agent]["action_mask"].shape == (n_actions,)
            assert observations[agent].shape == env.observation_space(agent).shape
            assert env.observation_space(agent).contains(observations[agent])
            # the tiled features: the agent's own last action one-hot and its reward
            view = 9
            assert observations[agent][0, 0, view + 10 + actions[agent]] == 1.0
            assert observations[agent][0, 0, view + 10 + n_actions] == np.float32(rewards[agent])
    with pytest.raises(ValueError, match=r"out of range \[0, 9\)"):
        env.step({**{agent: 0 for agent in env.agents}, "redmelee_0": 12})  # a ranged action for a melee unit


def test_views_rotate_so_that_a_ranged_agent_sees_its_group_first():
    """MAgent2 (verified): a redranged agent sees redranged, bluemelee, blueranged, redmelee."""
    core = make_core()
    views = core.observe().views[0]
    ranged = views[2]  # redranged at (4, 3): redmelee at (3, 3) in block 3, bluemelee at (5, 3) in block 1
    assert ranged[6, 6, 1] == 1.0  # itself, block 0
    assert ranged[6, 5, 1 + 2 * 3] == 1.0 and ranged[6, 7, 1 + 2 * 1] == 1.0


def play(threads: int | None, steps: int = 30) -> list[np.ndarray]:
    config = CombinedArmsConfig(map_size=20, max_cycles=steps, minimap_mode=True)
    core = CombinedArmsCore(config, n_battles=3, threads=threads)
    core.reset(seed=1)
    rng = np.random.default_rng(3)
    limits = core.tables.n_actions[core.tables.slot_type]
    arrays = []
    for _ in range(steps):
        out = core.step(rng.integers(0, limits, size=(3, core.n_agents)))
        arrays += [out.views, out.features, out.rewards, out.terminated, out.mean_actions, core.action_masks(), core.state.kill_table.copy()]
    return arrays


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    reference = play(threads=1)
    for threads in sorted({2, numba.config.NUMBA_NUM_THREADS}):
        assert all(np.array_equal(a, b) for a, b in zip(play(threads), reference))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_env_plays_like_the_original(how):
    copier = copy.deepcopy if how == "deepcopy" else (lambda env: pickle.loads(pickle.dumps(env)))
    original = combined_arms_v0.parallel_env(map_size=16, extra_features=True, minimap_mode=True)
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


def test_bad_arguments():
    with pytest.raises(ValueError, match="map_size"):
        combined_arms_v0.parallel_env(map_size=15)  # MAgent2's limit is 16
    with pytest.raises(ValueError, match="dead_agents"):
        combined_arms_v0.parallel_env(dead_agents="drop")
    with pytest.raises(ValueError, match="each of"):
        CombinedArmsConfig(map_size=12, positions={"redmelee": [(1, 1)]})
    with pytest.raises(ValueError, match="one cell"):
        CombinedArmsConfig(map_size=12, positions={**POSITIONS, "bluemelee": [(3, 3)]})


def _play_in_child(queue) -> None:
    queue.put(play(threads=None, steps=8))


def test_a_process_forked_after_the_parallel_kernels_ran_plays_the_same(monkeypatch):
    """Fork safety (Battle's test in tests/mfenvs/battle/test_kernels.py, on combined arms' game)."""
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
    env = combined_arms_v0.parallel_env(map_size=16, render_mode="human")
    env.reset(seed=0)
    env.step({agent: 0 for agent in env.agents})
    assert env.render() is None
    env.close()
