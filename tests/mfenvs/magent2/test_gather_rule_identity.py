"""Gather (MAgent2's ``gather_v5``) against MAgent2's own engine (issue 25): a passive food group, speed 3,
omnivores that hit each other, the attack-food rule and food's kill reward, no id bits, game over
when the food is gone, and MAgent's x-band move order on its 200 x 200 map.

The cases and the comparison are ``test_rule_identity``'s (``helpers.scripted_actions`` keeps the
actions clear of MAgent2's random attack order; the food is given its one action, stay).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import numpy as np
import pytest

from mfenvs.gather import GatherConfig, start_cells
from mfenvs.gather.game import unit_types as gather_unit_types
from tests.mfenvs.magent2.helpers import (
    REPLAY_SCRIPT,
    Episode,
    magent2_layout,
    magent2_python,
    make_core,
    needs_magent2,
    replay_in_magent2,
    replay_in_ours,
    scripted_actions,
)
from tests.mfenvs.magent2.test_rule_identity import assert_same_episode

pytestmark = needs_magent2

#: A 24 x 24 map: a 12 x 12 field of 2 x 2 food blocks (36 food) with omnivores in its aisles, beside
#: food and each other, and a ring of omnivores around it.
FIELD = {
    "food": [(x, y) for y in range(6, 18) for x in range(6, 18) if x % 4 >= 2 and y % 4 >= 2],
    "omnivore": [(x, y) for x in (8, 12, 16) for y in (6, 10, 14)]
    + [(x, 3) for x in range(3, 21, 3)]
    + [(x, 20) for x in range(3, 21, 3)]
    + [(3, y) for y in range(6, 20, 3)]
    + [(20, y) for y in range(6, 20, 3)],
}
#: Four food among eight omnivores on a 12 x 12 map: the food can all be eaten.
FEAST = {
    "food": [(5, 5), (6, 5), (5, 6), (6, 6)],
    "omnivore": [(4, 5), (7, 5), (4, 6), (7, 6), (5, 4), (6, 4), (5, 7), (6, 7)],
}


def small(positions=FIELD, map_size: int = 24, **changes) -> GatherConfig:
    return GatherConfig(map_size=map_size, positions=positions, max_cycles=10**6, **changes)


def own_map(**changes) -> GatherConfig:
    """MAgent2's own 200 x 200 map, as explicit cells (``start_cells``, checked against MAgent2's below)."""
    food, omnivores = start_cells()
    positions = {"food": [tuple(c) for c in food.tolist()], "omnivore": [tuple(c) for c in omnivores.tolist()]}
    return GatherConfig(positions=positions, max_cycles=10**6, **changes)


def check(tmp_path, config: GatherConfig, actions: np.ndarray, view_groups: list[int] | None = None) -> Episode:
    """Replay ``actions`` in both engines and compare (the views of ``view_groups`` only, if given)."""
    core = make_core(config)
    ours = replay_in_ours(config, actions, view_groups)
    theirs = replay_in_magent2(tmp_path, config, actions, view_groups)
    groups = range(core.n_groups) if view_groups is None else view_groups
    view_slots = np.concatenate([np.arange(core.group_starts[g], core.group_starts[g + 1]) for g in groups])
    n_actions = core.tables.n_actions[core.tables.slot_type]
    assert_same_episode(ours, theirs, config.minimap_mode, n_actions, id_bits=0, view_slots=view_slots)
    return ours


def events(config: GatherConfig, ours: Episode) -> dict[str, int]:
    """What the episode exercised: non-killing hits on food, food eaten, omnivores killed (by omnivores)."""
    n_food = config.group_counts[0]
    food, omnivores = slice(0, n_food), slice(n_food, None)
    rewards = ours.rewards[1:, omnivores]
    hit = config.attack_food_reward + config.attack_penalty + config.step_reward
    died = ours.alive[:-1] & ~ours.alive[1:]
    return {
        "food hits": int((np.abs(rewards - hit) < 1e-6).sum()),
        "food eaten": int(died[:, food].sum()),
        "omnivores killed": int(died[:, omnivores].sum()),
    }


@pytest.mark.parametrize("minimap_mode", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_gather_matches_magent2_in_a_food_field(tmp_path, minimap_mode, seed):
    """Omnivores among food: hits (+0.5), kills (+5), omnivores killing each other, 29 moves, the food's views."""
    config = small(minimap_mode=minimap_mode)
    actions = scripted_actions(config, 200, seed=seed, attack_share=0.5, focus=0.7, hunt=0.4)
    ours = check(tmp_path, config, actions)
    happened = events(config, ours)
    assert happened["food hits"] >= 50 and happened["food eaten"] >= 5 and happened["omnivores killed"] >= 5, happened


def test_gather_ends_when_the_food_is_eaten_as_magent2(tmp_path):
    """Every food eaten: the game is over for all (MAgent2's done: a group is empty)."""
    config = small(FEAST, map_size=12)
    actions = scripted_actions(config, 300, seed=0, attack_share=0.2, focus=0.95)
    ours = check(tmp_path, config, actions)
    assert ours.done[-1] and len(actions) < 300 and not ours.alive[-1][:4].any(), "the script should eat all the food"


def test_gather_with_other_reward_arguments_matches_magent2(tmp_path):
    """MAgent2's four reward arguments away from their defaults."""
    config = small(step_reward=-0.05, attack_penalty=-0.3, dead_penalty=-2.0, attack_food_reward=1.5)
    actions = scripted_actions(config, 150, seed=2, attack_share=0.5, focus=0.7, hunt=0.4)
    check(tmp_path, config, actions)


def test_gather_on_its_own_map_matches_magent2(tmp_path):
    """MAgent2's 200 x 200 map (2,272 food, 495 omnivores): x-band moves, hunting the food rings, fights
    (the omnivores' views compared; the food's are the small maps' business)."""
    config = own_map()
    actions = scripted_actions(config, 40, seed=1, attack_share=0.3, focus=0.9, hunt=0.7)
    ours = check(tmp_path, config, actions, view_groups=[1])
    happened = events(config, ours)
    assert happened["food hits"] >= 200 and happened["food eaten"] >= 10 and happened["omnivores killed"] >= 20, happened


def test_the_gather_large_map_test_sees_the_band_order(tmp_path, monkeypatch):
    """With the moves in plain slot order, the 200 x 200 episode above is not MAgent2's."""
    from mfenvs.gridworld.game import Game

    config = own_map()
    actions = scripted_actions(config, 40, seed=1, attack_share=0.3, focus=0.9, hunt=0.7)
    theirs = replay_in_magent2(tmp_path, config, actions, view_groups=[1])
    monkeypatch.setattr(Game, "move_bands", property(lambda self: (0, 0)))
    core = make_core(config)
    n_food = config.group_counts[0]
    view_slots = np.arange(n_food, core.n_agents)
    with pytest.raises(AssertionError, match="positions|alive|rewards|views"):
        ours = replay_in_ours(config, actions, view_groups=[1])
        assert_same_episode(ours, theirs, False, core.tables.n_actions[core.tables.slot_type], id_bits=0, view_slots=view_slots)


def _omnivores_spare_each_other(config):
    food, omnivore = gather_unit_types(config)
    return food, replace(omnivore, attack_in_group=False)


def _no_food_rule(config):
    return ()


def _no_kill_reward(config):
    food, omnivore = gather_unit_types(config)
    return replace(food, kill_reward=0.0), omnivore


@pytest.mark.parametrize(
    "name, patch, symptom",
    [
        ("unit_types", _omnivores_spare_each_other, "alive|rewards"),
        ("reward_rules", _no_food_rule, "rewards"),
        ("unit_types", _no_kill_reward, "rewards"),
    ],
)
def test_the_gather_tests_see_each_rule(tmp_path, monkeypatch, name, patch, symptom):
    """Our engine without same-group hits, the attack-food rule or food's kill reward is not MAgent2's."""
    from mfenvs.gather import game

    config = small()
    actions = scripted_actions(config, 200, seed=0, attack_share=0.5, focus=0.7, hunt=0.4)
    theirs = replay_in_magent2(tmp_path, config, actions)
    monkeypatch.setattr(game, name, patch)
    core = make_core(config)
    with pytest.raises(AssertionError, match=symptom):
        assert_same_episode(replay_in_ours(config, actions), theirs, False, core.tables.n_actions[core.tables.slot_type], id_bits=0)


def test_gather_layout_is_magent2s(tmp_path):
    """MAgent2's map after reset: its food and omnivores, cell for cell and in agent order, and no interior wall."""
    walls, (food, omnivores) = magent2_layout(tmp_path, "gather_v5", 200)
    expected_food, expected_omnivores = start_cells()
    np.testing.assert_array_equal(food, expected_food)
    np.testing.assert_array_equal(omnivores, expected_omnivores)
    assert (len(food), len(omnivores)) == GatherConfig().group_counts == (2272, 495)
    expected = np.zeros((200, 200), dtype=bool)
    expected[[0, -1], :] = expected[:, [0, -1]] = True
    np.testing.assert_array_equal(walls, expected)


def test_gather_spaces_are_magent2s(tmp_path):
    """Every agent's observation shape and action count, and the state's unless extra_features, under each flag."""
    from mfenvs import gather_v0

    out = tmp_path / "spaces.json"
    subprocess.run([magent2_python(), str(REPLAY_SCRIPT), "--spaces", "gather_v5", "200", str(out)], check=True)
    theirs = json.loads(out.read_text())
    for minimap_mode in (False, True):
        for extra_features in (False, True):
            env = gather_v0.parallel_env(minimap_mode=minimap_mode, extra_features=extra_features)
            expected = theirs[f"{minimap_mode},{extra_features}"]
            assert env.possible_agents == list(expected["observations"])
            assert {agent: list(env.observation_space(agent).shape) for agent in env.possible_agents} == expected["observations"]
            assert {agent: int(env.action_space(agent).n) for agent in env.possible_agents} == expected["actions"]
            if not extra_features:
                assert list(env.state_space.shape) == expected["state"]
