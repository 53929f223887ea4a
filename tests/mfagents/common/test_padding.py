"""Groups with different spaces through SuperSuit: padded for the vector env, cut back to each group's own spaces."""

from __future__ import annotations

import numpy as np
import pytest
import supersuit

from mfagents.common.padding import PaddedSpaces, has_one_space
from mfagents.common.pipeline import VecPipeline, make_parallel_env
from mfenvs import combined_arms_v0

SMALL = {"map_size": 16, "max_cycles": 12}
GROUPS = ("redmelee", "redranged", "bluemelee", "blueranged")


def random_actions(rng: np.random.Generator, n_actions: dict[str, int]) -> dict[str, int]:
    return {agent: int(rng.integers(n)) for agent, n in n_actions.items()}


def test_padded_spaces_are_supersuits_and_keep_every_observation():
    env = combined_arms_v0.parallel_env(extra_features=True, dead_agents="absorb", **SMALL)
    assert not has_one_space(env)
    padded = PaddedSpaces(combined_arms_v0.parallel_env(extra_features=True, dead_agents="absorb", **SMALL))
    reference = supersuit.pad_action_space_v0(supersuit.pad_observations_v0(combined_arms_v0.parallel_env(extra_features=True, dead_agents="absorb", **SMALL)))
    for agent in env.possible_agents:
        assert padded.observation_space(agent) == reference.observation_space(agent)  # (13, 13, 45) for all
        assert padded.action_space(agent) == reference.action_space(agent)  # Discrete(25)
    assert has_one_space(padded)
    n_actions = {agent: int(env.action_space(agent).n) for agent in env.possible_agents}
    rng = np.random.default_rng(0)
    observations, _ = env.reset(seed=4)
    padded_observations, _ = padded.reset(seed=4)
    for step in range(6):
        for agent, observation in observations.items():
            cells = tuple(slice(0, n) for n in observation.shape)
            assert np.array_equal(padded_observations[agent][cells], observation)
            rest = np.ones(padded_observations[agent].shape, dtype=bool)
            rest[cells] = False
            assert not padded_observations[agent][rest].any()  # zeros beyond the agent's own channels
        actions = random_actions(rng, n_actions)
        observations, *_ = env.step(actions)
        padded_observations, *_ = padded.step(actions)


def test_a_padding_action_is_refused_before_any_copy_steps():
    env = PaddedSpaces(combined_arms_v0.parallel_env(dead_agents="absorb", **SMALL))
    env.reset(seed=0)
    actions = {agent: 0 for agent in env.possible_agents}
    actions["redmelee_0"] = 9  # melee units have 9 actions; SuperSuit's padding would play action 0 instead
    with pytest.raises(ValueError, match="redmelee_0 is a padding action"):
        env.step(actions)
    pipeline = VecPipeline("combined_arms", SMALL, n_envs=2)
    pipeline.reset(seed=0)
    actions = np.zeros(pipeline.n_rows, dtype=np.int64)
    actions[pipeline.groups["bluemelee"][-1]] = 24  # a ranged action for a melee row of the second copy
    with pytest.raises(ValueError, match="group bluemelee has 9 actions, got 24"):
        pipeline.step(actions)
    assert [int(copy.unwrapped.core.engine.state.steps[0]) for copy in pipeline.copies] == [0, 0]  # no copy stepped
    actions[pipeline.groups["bluemelee"][-1]] = 8
    pipeline.step(actions)  # the group's last own action is fine
    pipeline.close()


def test_each_group_gets_its_own_unpadded_observations_and_mean_actions():
    """Two copies through SuperSuit against two plain envs stepped with the same actions, past an episode end."""
    kwargs = {**SMALL, "max_cycles": 4}
    pipeline = VecPipeline("combined_arms", kwargs, n_envs=2)
    plain = [make_parallel_env("combined_arms", pipeline.env_kwargs) for _ in range(2)]
    assert pipeline.observation_space.shape == (13, 13, 45) and pipeline.n_actions == 25
    spaces = {group: (space.observation_space.shape, space.n_actions, space.view_channels) for group, space in pipeline.group_spaces.items()}
    assert spaces == {
        "redmelee": ((13, 13, 29), 9, 9), "redranged": ((13, 13, 45), 25, 9),
        "bluemelee": ((13, 13, 29), 9, 9), "blueranged": ((13, 13, 45), 25, 9),
    }  # fmt: skip
    assert pipeline.per_group_spaces and pipeline.mirrored_sides
    assert pipeline.sides == {"red": ("redmelee", "redranged"), "blue": ("bluemelee", "blueranged")}
    step = pipeline.reset(seed=7)
    outputs = [env.reset(seed=7 + i) for i, env in enumerate(plain)]
    rng = np.random.default_rng(1)
    agents = pipeline.possible_agents
    for t in range(7):  # the copies end (and restart) after 4 steps
        for group in GROUPS:
            observations, mean_actions = pipeline.group_inputs(step, group)
            for index, row in enumerate(pipeline.groups[group]):
                copy, agent = divmod(int(row), pipeline.agents_per_env)
                own_observations, own_infos = outputs[copy][0], outputs[copy][-1]
                assert np.array_equal(observations[index], own_observations[agents[agent]])
                assert np.array_equal(mean_actions[index], own_infos[agents[agent]]["mean_action"])
            assert mean_actions.shape[1] == pipeline.group_spaces[group].n_actions
        # the padded mean actions are zero beyond the group's own count
        assert not step.mean_actions[pipeline.groups["redmelee"], 9:].any()
        actions = np.zeros(pipeline.n_rows, dtype=np.int64)
        for group, rows in pipeline.groups.items():
            actions[rows] = rng.integers(0, pipeline.group_spaces[group].n_actions, len(rows))
        step = pipeline.step(actions)
        for copy, env in enumerate(plain):
            rows = slice(copy * pipeline.agents_per_env, (copy + 1) * pipeline.agents_per_env)
            result = env.step(dict(zip(agents, actions[rows].tolist())))
            assert step.finished[copy] == (not env.agents) == (t % 4 == 3)
            outputs[copy] = env.reset(seed=None) if not env.agents else (result[0], result[-1])  # SuperSuit's auto-reset
    pipeline.close()


def test_battle_keeps_one_space_unpadded():
    pipeline = VecPipeline("battle", {"map_size": 16, "team_size": 4}, n_envs=1)
    assert not pipeline.per_group_spaces and pipeline.mirrored_sides
    assert pipeline.group_spaces["red"].view_channels is None  # the learners infer Battle's layout, as before
    assert pipeline.group_spaces["red"].observation_space == pipeline.observation_space
    step = pipeline.reset(seed=0)
    observations, mean_actions = pipeline.group_inputs(step, "blue")
    assert np.array_equal(observations, step.observations[pipeline.groups["blue"]])
    assert np.array_equal(mean_actions, step.mean_actions[pipeline.groups["blue"]])
    pipeline.close()
