"""Every bad input raises a clear ``ValueError``/``TypeError`` naming the problem and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from mfenvs import gaussian_squeeze_v0, ising_v0
from mfenvs.common.validation import EpisodeFinishedError

MAX_CYCLES = 3


def random_actions(env, seed: int) -> dict[str, int]:
    # each agent's own action count (groups differ in tiger-deer and adversarial pursuit)
    highs = [int(env.action_space(agent).n) for agent in env.agents]
    rng = np.random.default_rng(seed)
    return dict(zip(env.agents, rng.integers(0, highs, size=len(env.agents)).tolist()))


def with_first(actions: dict[str, Any], value: Any) -> dict[str, Any]:
    """``actions`` with the first agent's action replaced by ``value``."""
    first = next(iter(actions))
    return {**actions, first: value}


# Each maker returns (bad actions, exception type, regex the message must match) for a valid dict.
BadActions = Callable[[dict[str, int], int], tuple[Any, type[Exception], str]]


def first_agent(actions: dict[str, int]) -> str:
    return re.escape(repr(next(iter(actions))))


BAD_ACTIONS: dict[str, BadActions] = {
    "unknown agent": lambda a, n: ({**a, "nope": 0}, ValueError, r"unknown agent 'nope'"),
    "unknown agent instead of a live one": lambda a, n: (
        {**dict(list(a.items())[:-1]), "nope": 0},
        ValueError,
        r"unknown agent 'nope'",
    ),
    "not a dict": lambda a, n: (list(a.values()), TypeError, r"actions must be a dict"),
    "missing agent": lambda a, n: (
        dict(list(a.items())[:-1]),
        ValueError,
        rf"live agent {re.escape(repr(list(a)[-1]))} is missing",
    ),
    "negative": lambda a, n: (with_first(a, -1), ValueError, rf"action -1 of agent {first_agent(a)} is out of range"),
    "too large": lambda a, n: (with_first(a, n), ValueError, rf"action {n} of agent {first_agent(a)} is out of range"),
    "beyond int64": lambda a, n: (with_first(a, 2**70), ValueError, rf"action {2**70} of agent {first_agent(a)}"),
    "float": lambda a, n: (with_first(a, 1.0), TypeError, rf"action of agent {first_agent(a)} must be an integer"),
    "numpy float": lambda a, n: (
        with_first(a, np.float32(0)),
        TypeError,
        rf"action of agent {first_agent(a)} must be an integer",
    ),
    "str": lambda a, n: (with_first(a, "1"), TypeError, rf"action of agent {first_agent(a)} must be an integer"),
    "None": lambda a, n: (with_first(a, None), TypeError, rf"action of agent {first_agent(a)} must be an integer"),
    "bool": lambda a, n: (with_first(a, True), TypeError, rf"action of agent {first_agent(a)} must be an integer"),
    "list": lambda a, n: (with_first(a, [1]), TypeError, rf"action of agent {first_agent(a)} must be an integer"),
    "array": lambda a, n: (
        with_first(a, np.array([1])),
        TypeError,
        rf"action of agent {first_agent(a)} must be an integer",
    ),
}


def snapshot(env) -> tuple:
    return list(env.agents), env.state()


@pytest.mark.parametrize("bad", BAD_ACTIONS, ids=str)
def test_bad_actions_are_rejected_and_change_nothing(env_case, bad):
    env, twin = env_case.parallel_env(max_cycles=MAX_CYCLES), env_case.parallel_env(max_cycles=MAX_CYCLES)
    n_actions = int(env.action_space(env.possible_agents[0]).n)
    assert data_equivalence(env.reset(seed=0), twin.reset(seed=0))
    first = random_actions(env, 1)
    env.step(first)
    twin.step(first)

    before = snapshot(env)
    actions, error, message = BAD_ACTIONS[bad](random_actions(env, 2), n_actions)
    with pytest.raises(error, match=message):
        env.step(actions)
    assert data_equivalence(snapshot(env), before, exact=True)

    # The rejected call did not count: the env goes on exactly like its twin and ends on time.
    for seed in (3, 4):
        actions = random_actions(env, seed)
        assert data_equivalence(env.step(actions), twin.step(actions), exact=True)
    assert env.agents == twin.agents == []


def test_unknown_agent_in_spaces(env_case):
    env = env_case.parallel_env()
    with pytest.raises(ValueError, match="unknown agent 'nope'"):
        env.observation_space("nope")
    with pytest.raises(ValueError, match="unknown agent 'nope'"):
        env.action_space("nope")
    agent = env.possible_agents[0]
    assert env.observation_space(agent) is env.observation_space(agent)


def test_step_and_state_before_reset(env_case):
    env = env_case.parallel_env()
    with pytest.raises(EpisodeFinishedError, match=r"reset\(\) has not been called"):
        env.step({})
    with pytest.raises(EpisodeFinishedError, match=r"before reset\(\)"):
        env.state()
    assert issubclass(EpisodeFinishedError, ValueError)
    env.reset(seed=0)
    env.step(random_actions(env, 0))  # still usable


def test_step_after_the_episode_ended(env_case):
    env = env_case.parallel_env(max_cycles=2)
    env.reset(seed=0)
    for seed in range(2):
        env.step(random_actions(env, seed))
    assert env.agents == []
    final_state = env.state()
    for actions in ({}, {env.possible_agents[0]: 0}):
        with pytest.raises(EpisodeFinishedError, match="the episode has ended"):
            env.step(actions)
    assert data_equivalence(env.state(), final_state, exact=True)
    env.reset(seed=0)
    assert env.agents == env.possible_agents
    env.step(random_actions(env, 0))


def test_bad_render_mode(env_case):
    with pytest.raises(ValueError, match="render_mode must be one of"):
        env_case.parallel_env(render_mode="bogus")


def test_unknown_constructor_argument(env_case):
    with pytest.raises(TypeError, match="not_an_argument"):
        env_case.parallel_env(not_an_argument=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_agents": 0}, ValueError, "n_agents must be >= 1"),
        ({"n_agents": -3}, ValueError, "n_agents must be >= 1"),
        ({"n_agents": 2.5}, TypeError, "n_agents must be an integer"),
        ({"n_agents": "5"}, TypeError, "n_agents must be an integer"),
        ({"n_agents": True}, TypeError, "n_agents must be an integer"),
        ({"n_actions": 1}, ValueError, "n_actions must be >= 2"),
        ({"sigma": 0.0}, ValueError, "sigma must be > 0"),
        ({"sigma": -1.0}, ValueError, "sigma must be > 0"),
        ({"sigma": float("nan")}, ValueError, "sigma must be finite"),
        ({"mu": "400"}, TypeError, "mu must be a real number"),
        ({"mu": float("inf")}, ValueError, "mu must be finite"),
        ({"max_cycles": 0}, ValueError, "max_cycles must be >= 1"),
    ],
)
def test_bad_gaussian_squeeze_arguments(kwargs, error, message):
    with pytest.raises(error, match=f"^{message}"):
        gaussian_squeeze_v0.parallel_env(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": 2}, ValueError, "size must be >= 3"),
        ({"size": 0}, ValueError, "size must be >= 3"),
        ({"size": -4}, ValueError, "size must be >= 3"),
        ({"size": 4.0}, TypeError, "size must be an integer"),
        ({"size": "4"}, TypeError, "size must be an integer"),
        ({"h": "0.1"}, TypeError, "h must be a real number"),
        ({"h": float("nan")}, ValueError, "h must be finite"),
        ({"coupling": float("inf")}, ValueError, "coupling must be finite"),
        ({"coupling": None}, TypeError, "coupling must be a real number"),
        ({"max_cycles": 0}, ValueError, "max_cycles must be >= 1"),
        ({"max_cycles": 1.0}, TypeError, "max_cycles must be an integer"),
        ({"initial": "down"}, ValueError, "initial must be one of"),
    ],
)
def test_bad_ising_arguments(kwargs, error, message):
    with pytest.raises(error, match=f"^{message}"):
        ising_v0.parallel_env(**kwargs)


# == the AEC API (``env()``): the same contract, one action at a time (issue 14) ======================
def play_aec_cycle(env, seed: int) -> None:
    """Step every agent of the current cycle once with a valid action (``None`` for done agents)."""
    rng = np.random.default_rng(seed)
    for _ in range(len(env.agents)):
        _, _, terminated, truncated, _ = env.last()
        n_actions = int(env.action_space(env.agent_selection).n)  # the acting agent's own action count
        env.step(None if terminated or truncated else int(rng.integers(n_actions)))


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (10_000, ValueError), (1.5, TypeError), (True, TypeError), (None, TypeError)])
@pytest.mark.parametrize("position", ["first", "last"])
def test_aec_rejects_a_bad_action_in_its_own_step_and_stays_usable(env_case, bad, error, position):
    env = env_case.env()
    env.reset(seed=0)
    if position == "last":  # the action that used to be accepted, then raise inside the parallel step
        for _ in range(len(env.agents) - 1):
            env.step(0)
    agent = env.agent_selection
    with pytest.raises(error, match=re.escape(repr(agent))):
        env.step(bad)
    assert env.agent_selection == agent  # nothing was stored: the same agent acts again
    env.step(0)
    play_aec_cycle(env, 1)  # and the cycles go on
    assert env.agents


def test_aec_step_after_the_end_raises_episode_finished(env_case):
    for make in (env_case.env, lambda **extra: env_case.module.raw_env(**{**env_case.kwargs, **extra})):
        env = make(max_cycles=2)
        env.reset(seed=0)
        for cycle in range(2):
            play_aec_cycle(env, cycle)
        while env.agents:  # the done agents leave with None steps, as in PettingZoo
            env.step(None)
        with pytest.raises(EpisodeFinishedError, match="the episode has ended"):
            env.step(0)
        with pytest.raises(EpisodeFinishedError):
            env.step(None)
        env.reset(seed=0)
        play_aec_cycle(env, 0)
        assert env.agents


def test_aec_done_agent_stepped_with_an_action_names_it(env_case):
    env = env_case.env(max_cycles=1)
    env.reset(seed=0)
    play_aec_cycle(env, 0)
    agent = env.agent_selection
    with pytest.raises(ValueError, match=re.escape(repr(agent)) + ".*None"):
        env.step(0)
    env.step(None)  # the agent leaves normally afterwards
    assert agent not in env.agents
