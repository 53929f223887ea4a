"""Rule identity against MAgent2's own engine (issue 25): scripted episodes replayed in both.

Each case places agents (and walls) the same way in MAgent2's engine (``magent2`` 0.3.4, from its own
virtualenv: see ``helpers``) and in ours, plays the same scripted actions (random, biased to attacks,
with kills; ``helpers.scripted_actions`` keeps them clear of MAgent2's random attack order) and
compares, step by step: who is alive, positions, hp, rewards, views (every channel: walls, presence, hp,
minimaps), the features and the engine's game over. Float values to 1e-6 (MAgent2 sums a step's
rewards in another order). The features differ only where our documentation says so: MAgent2's
show the reward of the step before last, ours the last step's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mfenvs.adversarial_pursuit import AdversarialPursuitConfig
from mfenvs.adversarial_pursuit.game import reward_rules as pursuit_reward_rules
from mfenvs.adversarial_pursuit.game import unit_types as pursuit_unit_types
from mfenvs.battle import BattleConfig
from mfenvs.battle.config import ID_BITS, N_ACTIONS
from mfenvs.battlefield import battlefield_config, start_cells as battlefield_start_cells, wall_cells
from mfenvs.combined_arms import GROUPS as COMBINED_ARMS_GROUPS
from mfenvs.combined_arms import CombinedArmsConfig, start_cells
from mfenvs.tiger_deer import TigerDeerConfig
from mfenvs.tiger_deer.game import unit_types as tiger_deer_unit_types
from tests.mfenvs.magent2.helpers import (
    Episode,
    magent2_layout,
    make_core,
    needs_magent2,
    replay_in_magent2,
    replay_in_ours,
    scripted_actions,
)

pytestmark = needs_magent2

#: Two interleaved columns per team on a 12 x 12 map: every agent starts next to enemies.
INTERLEAVED = {
    "red": [(x, y) for x in (3, 5) for y in range(2, 10, 2)],
    "blue": [(x, y) for x in (4, 6) for y in range(3, 11, 2)],
}
#: The same on a 16 x 12 map with an interior wall segment through the fight and a pillar.
WALLED = {
    "red": [(x, y) for x in (3, 5) for y in range(2, 10, 2)],
    "blue": [(x, y) for x in (4, 6) for y in range(3, 11, 2)],
}
WALLS = [(8, y) for y in range(1, 9)] + [(4, 10), (5, 10), (2, 5)]
#: Battlefield's map at 80 with both teams packed in the corridor between its left and right walls.
CORRIDOR = {
    "red": [(x, y) for x in (37, 39, 41) for y in range(30, 50, 3)],
    "blue": [(x, y) for x in (38, 40, 42) for y in range(31, 51, 3)],
}


def assert_same_episode(
    ours: Episode, theirs: Episode, minimap: bool, n_actions: np.ndarray | None = None, id_bits: int = ID_BITS,
    view_slots: np.ndarray | None = None,
) -> None:  # fmt: skip
    """``n_actions``: ``[N]`` each slot's action count, which places its features' last reward (Battle's 21 if None);
    ``id_bits``: the features' id bits (gather's 0); ``view_slots``: the slots whose views were recorded (all if None)."""
    assert len(ours.alive) == len(theirs.alive), "the episodes end at different steps"
    n_actions = np.full(ours.alive.shape[1], N_ACTIONS) if n_actions is None else np.asarray(n_actions)
    view_slots = np.arange(ours.alive.shape[1]) if view_slots is None else view_slots
    for t in range(len(ours.alive)):
        alive = theirs.alive[t]
        np.testing.assert_array_equal(ours.alive[t], alive, err_msg=f"alive, step {t}")
        np.testing.assert_array_equal(ours.positions[t][alive], theirs.positions[t][alive], err_msg=f"positions, step {t}")
        np.testing.assert_allclose(ours.rewards[t], theirs.rewards[t], atol=1e-6, err_msg=f"rewards, step {t}")
        seen = alive[view_slots]
        np.testing.assert_allclose(ours.views[t][seen], theirs.views[t][seen], atol=1e-6, err_msg=f"views, step {t}")
        np.testing.assert_allclose(ours.hp_share[t][alive], theirs.hp_share[t][alive], atol=1e-6, err_msg=f"hp, step {t}")
        for n in np.unique(n_actions):  # each agent type's features: its own action one-hot, then the reward
            rows, reward = alive & (n_actions == n), id_bits + n
            # id bits and last action one-hot; MAgent2's reward lags one step; (x, y) with the minimap
            np.testing.assert_array_equal(ours.features[t][rows, :reward], theirs.features[t][rows, :reward], err_msg=f"features, step {t}")
            lagged = ours.features[t - 1][rows, reward] if t > 0 else np.zeros(rows.sum(), np.float32)
            np.testing.assert_allclose(theirs.features[t][rows, reward], lagged, atol=1e-6, err_msg=f"feature reward, step {t}")
            if minimap:
                np.testing.assert_allclose(ours.features[t][rows, reward + 1 : reward + 3], theirs.features[t][rows, reward + 1 : reward + 3], atol=1e-6)
        assert ours.done[t] == theirs.done[t], f"game over, step {t}"


def check(tmp_path, config, actions: np.ndarray, min_kills: int = 0) -> Episode:
    """Replay ``actions`` in both engines and compare; returns our episode."""
    ours = replay_in_ours(config, actions)
    kills = int((ours.rewards > 4).sum())
    assert kills >= min_kills, f"the script was meant to kill at least {min_kills} agents, it killed {kills}"
    core = make_core(config)
    n_actions = core.tables.n_actions[core.tables.slot_type]
    assert_same_episode(ours, replay_in_magent2(tmp_path, config, actions), config.minimap_mode, n_actions)
    return ours


@pytest.mark.parametrize("minimap_mode", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_battle_matches_magent2_with_attacks_and_kills(tmp_path, minimap_mode, seed):
    config = BattleConfig(map_size=12, positions=INTERLEAVED, random_sides=False, minimap_mode=minimap_mode, max_cycles=10**6)
    actions = scripted_actions(config, 300, seed=seed)
    check(tmp_path, config, actions, min_kills=10)


def test_battle_ends_with_a_wipe_out_as_magent2(tmp_path):
    config = BattleConfig(map_size=12, positions=INTERLEAVED, random_sides=False, minimap_mode=False, max_cycles=10**6)
    actions = scripted_actions(config, 400, seed=0, focus=0.8)
    ours = replay_in_ours(config, actions)
    assert ours.done[-1] and len(actions) < 400, "the script should wipe a team out"
    assert_same_episode(ours, replay_in_magent2(tmp_path, config, actions), minimap=False)


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_interior_walls_match_magent2(tmp_path, minimap_mode):
    """Walls in the views, moves into walls and attacks on walls (misses), on a non-square-looking layout."""
    config = BattleConfig(
        map_size=16, positions=WALLED, walls=WALLS, random_sides=False, minimap_mode=minimap_mode, max_cycles=10**6
    )
    actions = scripted_actions(config, 300, seed=3, advance=0.2)
    check(tmp_path, config, actions, min_kills=5)


@pytest.mark.parametrize("map_size", [46, 80, 100])
def test_battlefield_layout_is_magent2s(tmp_path, map_size):
    walls, (red, blue) = magent2_layout(tmp_path, "battlefield_v5", map_size)
    config = battlefield_config(map_size)
    expected = np.zeros((map_size, map_size), dtype=bool)
    expected[[0, -1], :] = expected[:, [0, -1]] = True
    for x, y in wall_cells(map_size):
        expected[y, x] = True
    np.testing.assert_array_equal(walls, expected)
    cells = battlefield_start_cells(map_size)
    np.testing.assert_array_equal(red, cells["red"])
    np.testing.assert_array_equal(blue, cells["blue"])
    assert config.team_counts == (len(red), len(blue))


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_battlefield_matches_magent2_from_its_start(tmp_path, minimap_mode):
    """Battlefield's own map and placement at 80, marching towards each other round the walls."""
    config = battlefield_config(80, minimap_mode=minimap_mode, max_cycles=10**6)
    actions = scripted_actions(config, 300, seed=0, advance=0.3)
    check(tmp_path, config, actions)


def test_battlefield_walls_with_a_fight_match_magent2(tmp_path):
    """Battlefield's walls at 80 with both teams packed in the corridor between them: fights by the walls."""
    walls = wall_cells(80)
    config = BattleConfig(map_size=80, positions=CORRIDOR, walls=walls, random_sides=False, minimap_mode=True, max_cycles=10**6)
    actions = scripted_actions(config, 300, seed=2, focus=0.6, advance=0.1)
    check(tmp_path, config, actions, min_kills=8)


# -- large maps: MAgent's x-band move order above 99 x 99 cells (MAGENT2_GAMES.md section 1.5) --------
def blocks(map_size: int) -> dict[str, list[tuple[int, int]]]:
    """Battle's two starting blocks (MAgent's placement), red on the left, as explicit cells."""
    from mfenvs.battle.spawn import block_cells

    n = int(map_size**2 * 0.04)
    return {"red": block_cells(map_size, n, left=True), "blue": block_cells(map_size, n, left=False)}


@pytest.mark.parametrize("map_size", [100, 120])
def test_battle_on_a_large_map_moves_in_magents_x_band_order(tmp_path, map_size):
    """Crowded blocks with random moves contest cells across band boundaries; MAgent moves band by band."""
    config = BattleConfig(map_size=map_size, positions=blocks(map_size), random_sides=False, minimap_mode=False, max_cycles=10**6)
    actions = scripted_actions(config, 12, seed=5, attack_share=0.1, focus=0.0)
    check(tmp_path, config, actions)


def test_the_large_map_test_sees_the_band_order(tmp_path, monkeypatch):
    """With the moves in plain slot order, the large-map episode above is not MAgent2's."""
    from mfenvs.gridworld.game import Game

    config = BattleConfig(map_size=120, positions=blocks(120), random_sides=False, minimap_mode=False, max_cycles=10**6)
    actions = scripted_actions(config, 12, seed=5, attack_share=0.1, focus=0.0)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(Game, "move_bands", property(lambda self: (0, 0)))
    with pytest.raises(AssertionError, match="positions"):
        assert_same_episode(replay_in_ours(config, actions), theirs, minimap=False)


def test_battlefield_on_a_large_map_matches_magent2(tmp_path):
    config = battlefield_config(120, max_cycles=10**6)
    actions = scripted_actions(config, 200, seed=1, advance=0.3)
    check(tmp_path, config, actions)


# -- combined arms (MAgent2's combined_arms_v6): two types, four groups, kill rules, friendly fire ----
#: The four groups in interleaved columns on a 16 x 16 map: every agent starts within reach of
#: enemies, of its own group and of its side's other group (friendly fire lands across groups too).
COMBINED = {
    "redmelee": [(x, y) for x in (3, 7) for y in range(2, 14, 2)],
    "redranged": [(x, y) for x in (5, 9) for y in range(2, 14, 2)],
    "bluemelee": [(x, y) for x in (4, 8) for y in range(3, 15, 2)],
    "blueranged": [(x, y) for x in (6, 10) for y in range(3, 15, 2)],
}


def combined_config(**changes) -> CombinedArmsConfig:
    return CombinedArmsConfig(**{"map_size": 16, "positions": COMBINED, "max_cycles": 10**6, **changes})


@pytest.mark.parametrize("map_size", [16, 45, 80, 120])
def test_combined_arms_layout_is_magent2s(tmp_path, map_size):
    walls, groups = magent2_layout(tmp_path, "combined_arms_v6", map_size)
    expected = np.zeros((map_size, map_size), dtype=bool)
    expected[[0, -1], :] = expected[:, [0, -1]] = True
    np.testing.assert_array_equal(walls, expected)
    cells = start_cells(map_size)
    assert len(groups) == 4
    for group, theirs in zip(COMBINED_ARMS_GROUPS, groups):
        np.testing.assert_array_equal(theirs, cells[group], err_msg=group)
    assert CombinedArmsConfig(map_size=map_size).group_counts == tuple(len(g) for g in groups)


@pytest.mark.parametrize("minimap_mode", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_combined_arms_matches_magent2_with_attacks_kills_and_friendly_fire(tmp_path, minimap_mode, seed):
    config = combined_config(minimap_mode=minimap_mode)
    actions = scripted_actions(config, 300, seed=seed, attack_share=0.25, focus=0.2)
    ours = check(tmp_path, config, actions, min_kills=5)
    assert len(actions) >= 50, "the episode should last a while"
    friendly = friendly_fire_hits(config, actions, ours)
    assert friendly >= 50, f"the script should hit its own side, it did {friendly} times"


def friendly_fire_hits(config: CombinedArmsConfig, actions: np.ndarray, ours: Episode) -> int:
    """Attacks that hit an agent of the attacker's own side (its group or the side's other group)."""
    core = make_core(config)
    core.reset(seed=0)
    hits = 0
    for step_actions in actions:
        state = core.state
        kinds = core.tables.slot_type
        for slot in np.flatnonzero(state.alive[0] & (step_actions >= core.tables.n_moves[kinds])):
            x = state.positions[0, slot, 0] + core.tables.action_dx[kinds[slot], step_actions[slot]]
            y = state.positions[0, slot, 1] + core.tables.action_dy[kinds[slot], step_actions[slot]]
            if 0 <= x < config.map_size and 0 <= y < config.map_size:
                victim = state.occupant[0, y, x]
                hits += bool(victim >= 0 and core.teams[victim] == core.teams[slot])
        core.step(step_actions[None])
    return hits


def test_combined_arms_ends_when_one_group_is_wiped_out_as_magent2(tmp_path):
    """Four blue ranged units among many: the game is over for all when they are gone (MAgent2#20)."""
    positions = dict(COMBINED, blueranged=COMBINED["blueranged"][:4])
    config = combined_config(positions=positions)
    actions = scripted_actions(config, 400, seed=0, focus=0.9)
    ours = replay_in_ours(config, actions)
    assert ours.done[-1] and len(actions) < 400, "the script should wipe a group out"
    counts = config.group_counts
    groups_alive = [ours.alive[-1][start : start + n].any() for start, n in zip(np.cumsum((0,) + counts[:-1]), counts)]
    assert not all(groups_alive) and any(groups_alive)
    check(tmp_path, config, actions)


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_combined_arms_matches_magent2_from_its_start(tmp_path, minimap_mode):
    """MAgent2's own map at its default size (45: 162 agents), marching into each other."""
    config = CombinedArmsConfig(minimap_mode=minimap_mode, max_cycles=10**6, positions=start_cells(45))
    actions = scripted_actions(config, 120, seed=0, attack_share=0.3, advance=0.4)
    check(tmp_path, config, actions, min_kills=3)


def test_combined_arms_on_a_large_map_matches_magent2(tmp_path):
    """MAgent2's map at 120 (1,152 agents): moves in MAgent's x-band order, then the fight."""
    config = CombinedArmsConfig(map_size=120, max_cycles=10**6, positions=start_cells(120))
    actions = scripted_actions(config, 40, seed=1, attack_share=0.2, focus=0.3, advance=0.5)
    check(tmp_path, config, actions)


def test_the_combined_arms_large_map_test_sees_the_band_order(tmp_path, monkeypatch):
    """With the moves in plain slot order, the large-map combined arms episode above is not MAgent2's."""
    from mfenvs.gridworld.game import Game

    config = CombinedArmsConfig(map_size=120, max_cycles=10**6, positions=start_cells(120))
    actions = scripted_actions(config, 40, seed=1, attack_share=0.2, focus=0.3, advance=0.5)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(Game, "move_bands", property(lambda self: (0, 0)))
    core = make_core(config)
    with pytest.raises(AssertionError, match="positions|alive|rewards|views"):
        assert_same_episode(replay_in_ours(config, actions), theirs, False, core.tables.n_actions[core.tables.slot_type])


@pytest.mark.parametrize("map_size", [16, 45])
def test_combined_arms_spaces_are_magent2s(tmp_path, map_size):
    """Every agent's observation shape and action count under each flag; the state's unless extra_features
    (ours never carries the features, a documented difference)."""
    import json
    import subprocess

    from mfenvs import combined_arms_v0
    from tests.mfenvs.magent2.helpers import REPLAY_SCRIPT, magent2_python

    out = tmp_path / "spaces.json"
    subprocess.run([magent2_python(), str(REPLAY_SCRIPT), "--spaces", "combined_arms_v6", str(map_size), str(out)], check=True)
    theirs = json.loads(out.read_text())
    for minimap_mode in (False, True):
        for extra_features in (False, True):
            env = combined_arms_v0.parallel_env(map_size=map_size, minimap_mode=minimap_mode, extra_features=extra_features)
            expected = theirs[f"{minimap_mode},{extra_features}"]
            assert env.possible_agents == list(expected["observations"])
            assert {agent: list(env.observation_space(agent).shape) for agent in env.possible_agents} == expected["observations"]
            assert {agent: int(env.action_space(agent).n) for agent in env.possible_agents} == expected["actions"]
            if not extra_features:
                assert list(env.state_space.shape) == expected["state"]


# -- tiger-deer (MAgent2's tiger_deer_v4): random map, starvation, heal-on-kill, the joint-attack rule ----
def tiger_deer_from_magent2(tmp_path, map_size: int, **changes) -> TigerDeerConfig:
    """A config with MAgent2's own walls and start cells after its ``reset(seed=0)`` at ``map_size``."""
    walls, (deer, tigers) = magent2_layout(tmp_path, "tiger_deer_v4", map_size)
    interior = walls.copy()
    interior[[0, -1], :] = interior[:, [0, -1]] = False
    ys, xs = np.nonzero(interior)
    positions = {"deer": [tuple(c) for c in deer.tolist()], "tiger": [tuple(c) for c in tigers.tolist()]}
    return TigerDeerConfig(map_size=map_size, positions=positions, walls=list(zip(xs.tolist(), ys.tolist())), max_cycles=10**6, **changes)


def tiger_deer_events(config: TigerDeerConfig, actions: np.ndarray, ours: Episode) -> dict[str, int]:
    """What the episode exercised: deer eaten, tigers starved, joint-attack rewards, heals on kills."""
    deer = slice(0, config.group_counts[0])
    tigers = slice(config.group_counts[0], None)
    died = ours.alive[:-1] & ~ours.alive[1:]
    share_change = np.diff(ours.hp_share, axis=0)[:, tigers]
    return {
        "deer eaten": int(died[:, deer].sum()),
        "tigers starved": int(died[:, tigers].sum()),
        "joint rewards": int((ours.rewards[:, tigers] >= 1.0 - 1e-6).sum()),
        "heals": int((share_change > 0.05).sum()),  # +8 hp - 0.1 (capped), never from the -0.1 alone
        "deer hit": int((np.abs(ours.rewards[:, deer] - config.deer_attacked) < 1e-6).sum()),
    }


#: Tigers among deer on a 12 x 12 map with a wall segment: every tiger starts next to deer.
DEN = {
    "deer": [(x, y) for x in (2, 4, 6, 8) for y in range(2, 10, 2)],
    "tiger": [(x, y) for x in (3, 7) for y in range(3, 11, 2)],
}
DEN_WALLS = [(10, y) for y in range(1, 7)] + [(5, 10)]


@pytest.mark.parametrize("map_size", [10, 45, 120])
def test_tiger_deer_random_map_has_magent2s_counts(tmp_path, map_size):
    """MAgent2's map after reset: as many interior walls, deer and tigers as ours draws (the cells are random)."""
    from mfenvs.tiger_deer import TigerDeerCore

    walls, groups = magent2_layout(tmp_path, "tiger_deer_v4", map_size)
    config = TigerDeerConfig(map_size=map_size)
    core = TigerDeerCore(config)
    core.reset(seed=0)
    assert [len(g) for g in groups] == list(config.group_counts)
    assert int(walls.sum()) == int(core.wall_maps[0].sum())


@pytest.mark.parametrize("minimap_mode", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_tiger_deer_matches_magent2_in_a_den(tmp_path, minimap_mode, seed):
    """Tigers among deer: joint hits (+1 per partner), deer_attacked, kills that heal, starvation, walls."""
    config = TigerDeerConfig(map_size=12, positions=DEN, walls=DEN_WALLS, minimap_mode=minimap_mode, max_cycles=10**6)
    actions = scripted_actions(config, 250, seed=seed, attack_share=0.6, focus=0.8, hunt=0.5)
    ours = check(tmp_path, config, actions)
    events = tiger_deer_events(config, actions, ours)
    assert events["deer eaten"] >= 4 and events["joint rewards"] >= 10 and events["heals"] >= 4, events
    assert events["deer hit"] >= 20, events


def test_tiger_deer_tigers_starve_and_end_the_game_as_magent2(tmp_path):
    """Tigers that never catch a deer die at step 100; the empty tiger group ends the game (MAgent2's done)."""
    config = TigerDeerConfig(map_size=12, positions=DEN, walls=DEN_WALLS, max_cycles=10**6)
    actions = scripted_actions(config, 300, seed=2, attack_share=0.0, focus=0.0)
    ours = check(tmp_path, config, actions)
    assert ours.done[-1] and len(actions) == 100, "every tiger should starve at step 100"
    assert tiger_deer_events(config, actions, ours)["tigers starved"] == len(DEN["tiger"])


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_tiger_deer_matches_magent2_on_its_own_map(tmp_path, minimap_mode):
    """MAgent2's own random map at its default size (81 walls, 101 deer, 20 tigers), tigers hunting."""
    config = tiger_deer_from_magent2(tmp_path, 45, minimap_mode=minimap_mode)
    actions = scripted_actions(config, 200, seed=0, attack_share=0.3, focus=0.9, hunt=0.7)
    ours = check(tmp_path, config, actions)
    events = tiger_deer_events(config, actions, ours)
    assert events["deer eaten"] >= 20 and events["joint rewards"] >= 20 and events["heals"] >= 20, events
    assert events["tigers starved"] >= 3, events


def test_tiger_deer_on_a_large_map_matches_magent2(tmp_path):
    """MAgent2's map at 120 (576 walls, 720 deer, 144 tigers): moves in MAgent's x-band order, hunts, starvation."""
    config = tiger_deer_from_magent2(tmp_path, 120)
    actions = scripted_actions(config, 120, seed=1, attack_share=0.3, focus=0.9, hunt=0.7)
    ours = check(tmp_path, config, actions)
    events = tiger_deer_events(config, actions, ours)
    assert events["deer eaten"] >= 100 and events["joint rewards"] >= 50 and events["tigers starved"] >= 5, events


def test_tiger_deer_with_other_arguments_matches_magent2(tmp_path):
    """MAgent2's two arguments away from their defaults: faster starvation, a larger deer_attacked."""
    config = TigerDeerConfig(
        map_size=12, positions=DEN, walls=DEN_WALLS, max_cycles=10**6, tiger_step_recover=-0.25, deer_attacked=-0.3
    )
    actions = scripted_actions(config, 250, seed=4, attack_share=0.4, focus=0.5, hunt=0.3)
    ours = check(tmp_path, config, actions)
    assert tiger_deer_events(config, actions, ours)["tigers starved"] >= 1


def _without_joint_rule(config):
    from mfenvs.gridworld import RewardRule

    return (RewardRule("attack", "tiger", "deer", config.deer_attacked, receiver="victim"),)


def _without_heal(config):
    deer, tiger = tiger_deer_unit_types(config)
    return replace(deer, kill_supply=0.0), tiger


def _without_starvation(config):
    deer, tiger = tiger_deer_unit_types(config)
    return deer, replace(tiger, step_recover=0.0)


@pytest.mark.parametrize(
    "name, patch, symptom",
    [
        ("reward_rules", _without_joint_rule, "rewards"),
        ("unit_types", _without_heal, "hp|views"),
        ("unit_types", _without_starvation, "hp|views"),
    ],
)
def test_the_tiger_deer_tests_see_each_rule(tmp_path, monkeypatch, name, patch, symptom):
    """Our engine without the joint-attack rule, heal-on-kill or starvation is not MAgent2's on the den episode."""
    import mfenvs.tiger_deer.game as game

    config = TigerDeerConfig(map_size=12, positions=DEN, walls=DEN_WALLS, max_cycles=10**6)
    actions = scripted_actions(config, 250, seed=0, attack_share=0.6, focus=0.8, hunt=0.5)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(game, name, patch)
    core = make_core(config)
    with pytest.raises(AssertionError, match=symptom):
        assert_same_episode(replay_in_ours(config, actions), theirs, False, core.tables.n_actions[core.tables.slot_type])


def test_the_tiger_deer_large_map_test_sees_the_band_order(tmp_path, monkeypatch):
    """With the moves in plain slot order, the large-map tiger-deer episode above is not MAgent2's."""
    from mfenvs.gridworld.game import Game

    config = tiger_deer_from_magent2(tmp_path, 120)
    actions = scripted_actions(config, 120, seed=1, attack_share=0.3, focus=0.9, hunt=0.7)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(Game, "move_bands", property(lambda self: (0, 0)))
    core = make_core(config)
    with pytest.raises(AssertionError, match="positions|alive|rewards|views|hp"):
        assert_same_episode(replay_in_ours(config, actions), theirs, False, core.tables.n_actions[core.tables.slot_type])


@pytest.mark.parametrize("map_size", [10, 45])
def test_tiger_deer_spaces_are_magent2s(tmp_path, map_size):
    """Every agent's observation shape and action count, and the state's unless extra_features, under each flag."""
    import json
    import subprocess

    from mfenvs import tiger_deer_v0
    from tests.mfenvs.magent2.helpers import REPLAY_SCRIPT, magent2_python

    out = tmp_path / "spaces.json"
    subprocess.run([magent2_python(), str(REPLAY_SCRIPT), "--spaces", "tiger_deer_v4", str(map_size), str(out)], check=True)
    theirs = json.loads(out.read_text())
    for minimap_mode in (False, True):
        for extra_features in (False, True):
            env = tiger_deer_v0.parallel_env(map_size=map_size, minimap_mode=minimap_mode, extra_features=extra_features)
            expected = theirs[f"{minimap_mode},{extra_features}"]
            assert env.possible_agents == list(expected["observations"])
            assert {agent: list(env.observation_space(agent).shape) for agent in env.possible_agents} == expected["observations"]
            assert {agent: int(env.action_space(agent).n) for agent in env.possible_agents} == expected["actions"]
            if not extra_features:
                assert list(env.state_space.shape) == expected["state"]


# -- adversarial pursuit (MAgent2's adversarial_pursuit_v4): 2 x 2 predators, zero-damage tags, random map ----
def pursuit_from_magent2(tmp_path, map_size: int, **changes) -> AdversarialPursuitConfig:
    """A config with MAgent2's own walls and start cells (a predator's: its top-left) after its ``reset(seed=0)``."""
    walls, (predators, prey) = magent2_layout(tmp_path, "adversarial_pursuit_v4", map_size)
    interior = walls.copy()
    interior[[0, -1], :] = interior[:, [0, -1]] = False
    ys, xs = np.nonzero(interior)
    positions = {"predator": [tuple(c) for c in predators.tolist()], "prey": [tuple(c) for c in prey.tolist()]}
    return AdversarialPursuitConfig(
        map_size=map_size, positions=positions, walls=list(zip(xs.tolist(), ys.tolist())), max_cycles=10**6, **changes
    )


def pursuit_events(config: AdversarialPursuitConfig, ours: Episode) -> dict[str, int]:
    """What the episode exercised: tags (a predator's +1 - 0.2), prey tagged by one and by several
    predators at once, misses, predators' and prey's moves, and blocked predator moves."""
    n_predators = config.group_counts[0]
    predator_rewards, prey_rewards = ours.rewards[1:, :n_predators], ours.rewards[1:, n_predators:]
    moved = np.any(ours.positions[1:] != ours.positions[:-1], axis=2)
    return {
        "tags": int((np.abs(predator_rewards - (1 + config.tag_penalty)) < 1e-6).sum()),
        "misses": int((np.abs(predator_rewards - config.tag_penalty) < 1e-6).sum()),
        "prey tagged": int((prey_rewards < -0.5).sum()),
        "prey tagged twice": int((prey_rewards < -1.5).sum()),
        "predator moves": int(moved[:, :n_predators].sum()),
        "prey moves": int(moved[:, n_predators:].sum()),
    }


#: Predators (2 x 2, by their top-left cells) among prey on a 14 x 14 map with a wall segment: every
#: predator starts with prey in its ring, and some prey between two predators.
PACK = {
    "predator": [(2, 2), (6, 2), (2, 7), (6, 7), (10, 4)],
    "prey": [(4, 2), (5, 3), (2, 4), (3, 5), (8, 3), (9, 5), (4, 7), (5, 8), (2, 9), (8, 8), (12, 6), (11, 11), (4, 11)],
}
PACK_WALLS = [(12, y) for y in range(1, 4)] + [(7, 11), (8, 11), (1, 6)]


@pytest.mark.parametrize("minimap_mode", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_pursuit_matches_magent2_in_a_pack(tmp_path, minimap_mode, seed):
    """Predators among prey: tags (+0.8, the prey -1 per tagger), misses (-0.2), 2 x 2 moves and collisions, walls."""
    config = AdversarialPursuitConfig(map_size=14, positions=PACK, walls=PACK_WALLS, minimap_mode=minimap_mode, max_cycles=10**6)
    actions = scripted_actions(config, 200, seed=seed, attack_share=0.4, focus=0.6, hunt=0.4)
    assert len(actions) == 200, "nothing dies in adversarial pursuit: the script plays every step"
    ours = check(tmp_path, config, actions)
    events = pursuit_events(config, ours)
    assert events["tags"] >= 50 and events["misses"] >= 50 and events["prey tagged twice"] >= 1, events
    assert events["predator moves"] >= 50 and events["prey moves"] >= 200, events


@pytest.mark.parametrize("minimap_mode", [False, True])
def test_pursuit_matches_magent2_on_its_own_map(tmp_path, minimap_mode):
    """MAgent2's own random map at its default size (60 walls, 25 predators, 50 prey), predators hunting."""
    config = pursuit_from_magent2(tmp_path, 45, minimap_mode=minimap_mode)
    actions = scripted_actions(config, 150, seed=0, attack_share=0.3, focus=0.9, hunt=0.7)
    ours = check(tmp_path, config, actions)
    events = pursuit_events(config, ours)
    assert events["tags"] >= 30 and events["predator moves"] >= 300, events


def test_pursuit_on_a_large_map_matches_magent2(tmp_path):
    """MAgent2's map at 120 (432 walls, 180 predators, 360 prey): moves in MAgent's x-band order, tags."""
    config = pursuit_from_magent2(tmp_path, 120)
    actions = scripted_actions(config, 100, seed=1, attack_share=0.3, focus=0.9, hunt=0.7)
    ours = check(tmp_path, config, actions)
    events = pursuit_events(config, ours)
    assert events["tags"] >= 50 and events["predator moves"] >= 1000, events


def test_pursuit_with_another_tag_penalty_matches_magent2(tmp_path):
    """MAgent2's one reward argument away from its default."""
    config = AdversarialPursuitConfig(map_size=14, positions=PACK, walls=PACK_WALLS, tag_penalty=-0.7, max_cycles=10**6)
    actions = scripted_actions(config, 60, seed=3, attack_share=0.5, focus=0.5, hunt=0.3)
    check(tmp_path, config, actions)


def _predators_of_width_one(config):
    predator, prey = pursuit_unit_types(config)
    return replace(predator, width=1), prey


def _without_the_prey_rule(config):
    return pursuit_reward_rules(config)[:1]


@pytest.mark.parametrize(
    "name, patch, symptom",
    [("unit_types", _predators_of_width_one, "positions|views|rewards|hp"), ("reward_rules", _without_the_prey_rule, "rewards")],
)
def test_the_pursuit_tests_see_each_rule(tmp_path, monkeypatch, name, patch, symptom):
    """Our engine with 1 x 1 predators, or without the prey's -1, is not MAgent2's on the pack episode."""
    from mfenvs.adversarial_pursuit import game

    config = AdversarialPursuitConfig(map_size=14, positions=PACK, walls=PACK_WALLS, max_cycles=10**6)
    actions = scripted_actions(config, 100, seed=0, attack_share=0.4, focus=0.6, hunt=0.4)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(game, name, patch)
    core = make_core(config)
    with pytest.raises(AssertionError, match=symptom):
        assert_same_episode(replay_in_ours(config, actions), theirs, False, core.tables.n_actions[core.tables.slot_type])


def test_the_pursuit_large_map_test_sees_the_band_order(tmp_path, monkeypatch):
    """With the moves in plain slot order, the large-map pursuit episode above is not MAgent2's."""
    from mfenvs.gridworld.game import Game

    config = pursuit_from_magent2(tmp_path, 120)
    actions = scripted_actions(config, 100, seed=1, attack_share=0.3, focus=0.9, hunt=0.7)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(Game, "move_bands", property(lambda self: (0, 0)))
    core = make_core(config)
    with pytest.raises(AssertionError, match="positions|alive|rewards|views|hp"):
        assert_same_episode(replay_in_ours(config, actions), theirs, False, core.tables.n_actions[core.tables.slot_type])


@pytest.mark.parametrize("map_size", [9, 45, 120])
def test_pursuit_random_map_has_magent2s_counts(tmp_path, map_size):
    """MAgent2's map after reset: as many interior walls, predators and prey as ours draws (the cells are random)."""
    from mfenvs.adversarial_pursuit import AdversarialPursuitCore

    walls, groups = magent2_layout(tmp_path, "adversarial_pursuit_v4", map_size)
    config = AdversarialPursuitConfig(map_size=map_size)
    core = AdversarialPursuitCore(config)
    core.reset(seed=0)
    assert [len(g) for g in groups] == list(config.group_counts)
    assert int(walls.sum()) == int(core.wall_maps[0].sum())


@pytest.mark.parametrize("map_size", [9, 45])
def test_pursuit_spaces_are_magent2s(tmp_path, map_size):
    """Every agent's observation shape and action count, and the state's unless extra_features, under each flag."""
    import json
    import subprocess

    from mfenvs import adversarial_pursuit_v0
    from tests.mfenvs.magent2.helpers import REPLAY_SCRIPT, magent2_python

    out = tmp_path / "spaces.json"
    subprocess.run([magent2_python(), str(REPLAY_SCRIPT), "--spaces", "adversarial_pursuit_v4", str(map_size), str(out)], check=True)
    theirs = json.loads(out.read_text())
    for minimap_mode in (False, True):
        for extra_features in (False, True):
            env = adversarial_pursuit_v0.parallel_env(map_size=map_size, minimap_mode=minimap_mode, extra_features=extra_features)
            expected = theirs[f"{minimap_mode},{extra_features}"]
            assert env.possible_agents == list(expected["observations"])
            assert {agent: list(env.observation_space(agent).shape) for agent in env.possible_agents} == expected["observations"]
            assert {agent: int(env.action_space(agent).n) for agent in env.possible_agents} == expected["actions"]
            if not extra_features:
                assert list(env.state_space.shape) == expected["state"]
