"""Battle episodes through ``battle_v0``: wipe-out and time-limit ends, results, dead agents, mean actions."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from mfenvs import battle_v0
from mfenvs.common.validation import EpisodeFinishedError
from tests.mfenvs.battle.helpers import DEATH, HIT, IDLE, KILL, MISS, attack, env, env_step, move, winner
from tests.mfenvs.conftest import STRIPES
from tests.mfenvs.test_pettingzoo_api import run_checker


def approx(value: float):
    return pytest.approx(value, abs=1e-5)


def kill_blue_0(battle, attacker: str = "red_0", direction: tuple[int, int] = (1, 0), **others: int) -> tuple:
    """Six hits on the still agent beside ``attacker``; returns the last step's outputs."""
    for _ in range(6):
        outputs = env_step(battle, {attacker: attack(*direction), **others})
    return outputs


# -- wipe-out -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dead_agents", ["remove", "absorb"])
def test_wipe_out_terminates_every_agent_and_reports_the_results(dead_agents):
    battle = env(red=[(4, 5), (8, 8)], blue=[(5, 5)], dead_agents=dead_agents)
    observations, rewards, terminations, truncations, infos = kill_blue_0(battle)
    assert terminations == {"red_0": True, "red_1": True, "blue_0": True}
    assert truncations == {"red_0": False, "red_1": False, "blue_0": False}
    assert rewards == {"red_0": approx(KILL), "red_1": approx(IDLE), "blue_0": approx(DEATH)}
    assert battle.agents == []
    expected = {
        "red_kills": 1,
        "blue_kills": 0,
        "red_survivors": 2,
        "blue_survivors": 0,
        "red_total_reward": approx(5 * HIT + KILL + 6 * IDLE),
        "blue_total_reward": approx(5 * IDLE + DEATH),
        "red_won": True,
        "blue_won": False,
        "draw": False,
    }
    for agent in ("red_0", "red_1", "blue_0"):
        assert {key: infos[agent][key] for key in expected} == expected
    assert observations["red_0"].any() and not observations["blue_0"].any()
    if dead_agents == "absorb":
        assert [infos[a]["alive"] for a in ("red_0", "red_1", "blue_0")] == [True, True, False]


def test_more_kills_wins_and_equal_kills_are_a_draw():
    # two duels: red_0 kills blue_0 and blue_1 kills red_1 in the same step; the episode is truncated
    duels = {"red": [(2, 2), (2, 6)], "blue": [(3, 2), (3, 6)]}
    battle = env(red=duels["red"], blue=duels["blue"], max_cycles=6)
    _, _, terminations, truncations, infos = kill_blue_0(battle, blue_1=attack(-1, 0))
    assert terminations == {"red_0": False, "red_1": True, "blue_0": True, "blue_1": False}
    assert all(truncations.values())
    assert (infos["red_0"]["red_kills"], infos["red_0"]["blue_kills"]) == (1, 1)
    assert winner(infos["red_0"]) == "draw"
    assert infos["red_0"]["red_total_reward"] == approx(infos["red_0"]["blue_total_reward"])

    battle = env(red=duels["red"], blue=duels["blue"], max_cycles=6)
    _, _, _, _, infos = kill_blue_0(battle, blue_1=attack(0, 1))  # blue_1 misses
    assert (infos["blue_1"]["red_kills"], infos["blue_1"]["blue_kills"]) == (1, 0)
    assert winner(infos["blue_1"]) == "red"

    battle = env(red=duels["red"], blue=duels["blue"], max_cycles=3)
    _, _, _, _, infos = env_step(battle)
    assert winner(infos["red_0"]) is None
    env_step(battle)
    _, _, _, truncations, infos = env_step(battle)
    assert all(truncations.values()) and winner(infos["red_0"]) == "draw"  # nobody killed anybody


@pytest.mark.parametrize("dead_agents", ["remove", "absorb"])
def test_max_cycles_truncates_every_agent(dead_agents):
    battle = env(red=[(4, 5), (8, 8)], blue=[(5, 5), (1, 1)], max_cycles=7, dead_agents=dead_agents)
    for _ in range(6):
        _, _, terminations, truncations, _ = env_step(battle, {"red_0": attack(1, 0)})
        assert not any(truncations.values())
    assert terminations["blue_0"] == (dead_agents == "remove")
    _, _, terminations, truncations, infos = env_step(battle)
    expected_agents = ["red_0", "red_1", "blue_1"] + (["blue_0"] if dead_agents == "absorb" else [])
    assert sorted(truncations) == sorted(expected_agents) and all(truncations.values())
    # absorb mode reports the dead agent as terminated when the episode ends
    assert terminations == dict.fromkeys(expected_agents, False) | ({"blue_0": True} if dead_agents == "absorb" else {})
    assert battle.agents == []
    assert infos["red_0"]["red_survivors"] == 2 and infos["red_0"]["blue_survivors"] == 1


@pytest.mark.parametrize("dead_agents", ["remove", "absorb"])
def test_a_wipe_out_on_the_last_step_is_both_terminated_and_truncated(dead_agents):
    battle = env(red=[(4, 5)], blue=[(5, 5)], max_cycles=6, dead_agents=dead_agents)
    _, rewards, terminations, truncations, infos = kill_blue_0(battle)
    assert all(terminations.values()) and all(truncations.values())
    assert rewards == {"red_0": approx(KILL), "blue_0": approx(DEATH)}
    assert winner(infos["red_0"]) == "red" and battle.agents == []


@pytest.mark.parametrize("dead_agents", ["remove", "absorb"])
def test_stepping_after_the_end_raises_and_reset_starts_again(dead_agents):
    battle = battle_v0.parallel_env(map_size=16, team_size=4, max_cycles=2, dead_agents=dead_agents)
    with pytest.raises(EpisodeFinishedError, match="reset"):
        battle.step({})
    first, _ = battle.reset(seed=3)
    for _ in range(2):
        env_step(battle)
    assert battle.agents == []
    with pytest.raises(EpisodeFinishedError, match="episode has ended"):
        battle.step({})
    with pytest.raises(EpisodeFinishedError):
        battle.step(dict.fromkeys(battle.possible_agents, 6))
    again, _ = battle.reset(seed=3)
    assert battle.agents == battle.possible_agents
    for agent in first:
        np.testing.assert_array_equal(first[agent], again[agent])
    _, rewards, _, _, _ = env_step(battle)
    assert rewards == dict.fromkeys(battle.possible_agents, approx(IDLE))


# -- absorb mode ----------------------------------------------------------------------------------
def test_absorb_mode_keeps_dead_agents_with_zero_observations_and_rewards():
    battle = env(red=[(4, 5)], blue=[(5, 5), (8, 2)], dead_agents="absorb", max_cycles=20)
    observations, rewards, terminations, _, infos = kill_blue_0(battle)
    assert rewards["blue_0"] == approx(DEATH)  # the step it dies
    assert terminations == dict.fromkeys(battle.possible_agents, False)  # the episode goes on
    assert battle.agents == battle.possible_agents
    assert not observations["blue_0"].any() and not infos["blue_0"]["alive"] and infos["blue_1"]["alive"]

    state = battle.state()
    # the dead agent's actions are ignored, whether given or left out
    observations, rewards, terminations, _, infos = env_step(battle, {"blue_0": move(-1, 0), "red_0": 6})
    assert rewards == {"red_0": approx(IDLE), "blue_0": 0.0, "blue_1": approx(IDLE)}
    assert not observations["blue_0"].any() and not infos["blue_0"]["alive"]
    assert not any(terminations.values())
    np.testing.assert_array_equal(battle.state(), state)
    _, rewards, _, _, _ = battle.step({"red_0": 6, "blue_1": 6})
    assert rewards["blue_0"] == 0.0
    np.testing.assert_array_equal(battle.state(), state)
    _, rewards, _, _, _ = env_step(battle, {"blue_0": attack(-1, 0)})  # would hit red_0 if it counted
    assert rewards["blue_0"] == 0.0 and battle.state()[5, 4, 2] == 1.0


def test_remove_mode_drops_the_dead_and_ignores_their_actions():
    battle = env(red=[(4, 5)], blue=[(5, 5), (8, 2)], dead_agents="remove")
    kill_blue_0(battle)
    assert battle.agents == ["red_0", "blue_1"]
    observations, rewards, terminations, truncations, infos = env_step(battle)
    for outputs in (observations, rewards, terminations, truncations, infos):
        assert list(outputs) == ["red_0", "blue_1"]
    _, rewards, _, _, _ = battle.step({"red_0": 6, "blue_0": 17, "blue_1": 6})  # TorchRL sends these
    assert list(rewards) == ["red_0", "blue_1"]


def test_rewards_of_a_whole_episode_add_up_to_the_reported_totals():
    rng = np.random.default_rng(0)
    battle = battle_v0.parallel_env(map_size=6, positions=STRIPES, max_cycles=60)
    battle.reset(seed=1)
    totals = {"red": 0.0, "blue": 0.0}
    while battle.agents:
        actions = {agent: int(rng.integers(13, 21)) for agent in battle.agents}
        _, rewards, _, _, infos = battle.step(actions)
        for agent, reward in rewards.items():
            totals[agent.split("_")[0]] += reward
    results = next(iter(infos.values()))
    assert results["red_kills"] + results["blue_kills"] > 0
    assert results["red_total_reward"] == approx(totals["red"])
    assert results["blue_total_reward"] == approx(totals["blue"])
    assert results["red_survivors"] == 8 - results["blue_kills"]
    assert results["blue_survivors"] == 8 - results["red_kills"]


# -- mean action ----------------------------------------------------------------------------------
@pytest.mark.parametrize("radius", [6, 2.5, None])
def test_mean_action_is_the_mean_one_hot_of_living_teammates_in_range(radius):
    # red_0 (2, 2), red_1 (4, 2) at distance 2, red_2 (2, 9) at distance 7; blue_0 beside red_0
    battle = env(red=[(2, 2), (4, 2), (2, 9)], blue=[(3, 3), (8, 8)], map_size=12, mean_action_radius=radius)
    _, infos = battle.reset(seed=0)
    for agent in battle.agents:
        assert infos[agent]["mean_action"].shape == (21,) and not infos[agent]["mean_action"].any()
    actions = {"red_0": attack(1, 1), "red_1": move(1, 0), "red_2": move(0, -1), "blue_0": 6, "blue_1": attack(0, 1)}
    _, _, _, _, infos = battle.step(actions)
    # after the step: red_0 (2, 2), red_1 (5, 2), red_2 (2, 8); distances 3 and 6
    neighbours = {
        6: {"red_0": ["red_1", "red_2"], "red_1": ["red_0"], "red_2": ["red_0"]},
        2.5: {"red_0": [], "red_1": [], "red_2": []},
        None: {"red_0": ["red_1", "red_2"], "red_1": ["red_0", "red_2"], "red_2": ["red_0", "red_1"]},
    }[radius]
    for agent, mates in neighbours.items():
        expected = np.zeros(21, np.float32)
        for mate in mates:
            expected[actions[mate]] += 1 / len(mates)
        np.testing.assert_allclose(infos[agent]["mean_action"], expected, atol=1e-6)
        assert infos[agent]["mean_action"].dtype == np.float32
    expected_blue = np.zeros(21, np.float32)
    if radius is None:
        expected_blue[6] = 1.0
    np.testing.assert_array_equal(infos["blue_1"]["mean_action"], expected_blue)  # blue_0 is 5 * sqrt(2) away


def test_dead_teammates_leave_the_mean_action():
    battle = env(red=[(4, 5)], blue=[(5, 5), (6, 5)], dead_agents="absorb", mean_action_radius=None)
    for _ in range(5):
        _, _, _, _, infos = env_step(battle, {"red_0": attack(1, 0), "blue_0": attack(-1, 0), "blue_1": move(0, 1)})
    assert infos["blue_1"]["mean_action"][attack(-1, 0)] == 1.0
    _, _, _, _, infos = env_step(battle, {"red_0": attack(1, 0), "blue_1": move(0, -1)})
    assert not infos["blue_1"]["mean_action"].any()  # its only teammate died this step
    assert not infos["blue_0"]["mean_action"].any()


# -- the paper's configuration --------------------------------------------------------------------
def test_default_configuration():
    battle = battle_v0.parallel_env()
    assert len(battle.possible_agents) == 128
    assert battle.possible_agents[:2] == ["red_0", "red_1"] and battle.possible_agents[64] == "blue_0"
    assert battle.observation_space("red_0").shape == (13, 13, 9)
    assert battle.action_space("blue_63").n == 21
    assert battle.state_space.shape == (40, 40, 5)
    assert battle.max_cycles == 400
    run_checker(parallel_api_test, battle_v0.parallel_env(max_cycles=5), num_cycles=5)


def test_attacks_on_teammates_do_not_count_as_kills():
    battle = env(red=[(4, 5), (5, 5)], blue=[(8, 8)], max_cycles=8)
    for _ in range(8):
        _, rewards, terminations, _, infos = env_step(battle, {"red_0": attack(1, 0)})
        assert rewards["red_0"] == approx(MISS) and not terminations["red_1"]
    assert infos["red_0"]["red_kills"] == 0 and infos["red_0"]["red_survivors"] == 2
