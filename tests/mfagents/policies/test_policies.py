"""Policy SPECs: random, scripted, module:callable and trained runs (checkpoint files and run directories)."""

from __future__ import annotations

import numpy as np
import pytest

from mfagents.api import train
from mfagents.common.checkpoint import CHECKPOINT_NAME, CheckpointError
from mfagents.common.pipeline import VecPipeline
from mfagents.policies.specs import (
    CallablePolicy,
    GroupContext,
    LearnerPolicy,
    RandomPolicy,
    ScriptedPolicy,
    load_learner,
    load_policy,
    split_learner_spec,
)
from mfagents.policies.scripted import nearest_enemy_actions

SQUEEZE = {"n_agents": 6, "max_cycles": 4}
BATTLE = {"map_size": 16, "team_size": 4, "max_cycles": 6}


def always_stay(observations, mean_actions, context):
    """A ``module:callable`` policy for the tests: every agent stays (Battle action 6)."""
    return np.full(len(observations), 6)


def wrong_length(observations, mean_actions, context):
    return np.zeros(len(observations) + 1, dtype=np.int64)


def out_of_range(observations, mean_actions, context):
    return np.full(len(observations), 99)


def context_for(pipeline: VecPipeline, group: str, step) -> GroupContext:
    rows = pipeline.groups[group]
    return GroupContext(pipeline, group, rows, step.alive[rows])


def act(policy, pipeline: VecPipeline, group: str, step) -> np.ndarray:
    rows = pipeline.groups[group]
    return policy(step.observations[rows], step.mean_actions[rows], context_for(pipeline, group, step))


def test_random_policy_is_seeded_and_in_range():
    pipeline = VecPipeline("gaussian_squeeze", SQUEEZE, n_envs=2)
    step = pipeline.reset(seed=0)
    first = act(load_policy("random", pipeline, "all", seed=3), pipeline, "all", step)
    again = act(load_policy("random", pipeline, "all", seed=3), pipeline, "all", step)
    other = act(RandomPolicy(10, seed=4), pipeline, "all", step)
    assert first.shape == (12,) and first.min() >= 0 and first.max() < 10
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_scripted_policy_answers_for_its_team_in_every_copy():
    pipeline = VecPipeline("battle", BATTLE, n_envs=2)
    step = pipeline.reset(seed=1)
    for _ in range(3):  # move a little so the copies differ
        step = pipeline.step(np.random.default_rng(0).integers(0, 21, size=pipeline.n_rows))
    policy = load_policy("scripted", pipeline, "blue")
    assert isinstance(policy, ScriptedPolicy)
    expected = np.concatenate([nearest_enemy_actions(env.unwrapped.core.engine)[4:] for env in pipeline.copies])
    np.testing.assert_array_equal(act(policy, pipeline, "blue", step), expected)


def test_scripted_policy_needs_battle():
    pipeline = VecPipeline("gaussian_squeeze", SQUEEZE)
    with pytest.raises(ValueError, match="scripted policy plays battle, battlefield only"):
        load_policy("scripted", pipeline, "all")


def test_module_callable_policy_is_imported_and_checked():
    pipeline = VecPipeline("battle", BATTLE)
    step = pipeline.reset(seed=0)
    policy = load_policy(f"{__name__}:always_stay", pipeline, "red")
    assert isinstance(policy, CallablePolicy)
    np.testing.assert_array_equal(act(policy, pipeline, "red", step), np.full(4, 6))
    with pytest.raises(ValueError, match="must return 4 integer actions"):
        act(load_policy(f"{__name__}:wrong_length", pipeline, "red"), pipeline, "red", step)
    with pytest.raises(ValueError, match="outside"):
        act(load_policy(f"{__name__}:out_of_range", pipeline, "red"), pipeline, "red", step)
    with pytest.raises(ValueError, match="cannot import"):
        load_policy(f"{__name__}:no_such_function", pipeline, "red")
    with pytest.raises(ValueError, match="cannot import"):
        load_policy("no_such_module_xyz:act", pipeline, "red")


@pytest.mark.parametrize("spec", ["", "greedy", "runs/does-not-exist"])
def test_unknown_specs_are_rejected(spec):
    pipeline = VecPipeline("gaussian_squeeze", SQUEEZE)
    with pytest.raises(ValueError):
        load_policy(spec, pipeline, "all")


def test_split_learner_spec():
    assert split_learner_spec("runs/a") == ("runs/a", "learner")
    assert split_learner_spec("runs/a#opponent") == ("runs/a", "opponent")
    assert split_learner_spec("runs/odd#name") == ("runs/odd#name", "learner")


def test_trained_run_loads_as_a_greedy_policy(tmp_path):
    train("gaussian_squeeze", "mfq", seed=0, out=tmp_path, rounds=2, env_kwargs=SQUEEZE, tensorboard=False)
    pipeline = VecPipeline("gaussian_squeeze", SQUEEZE, n_envs=2)
    step = pipeline.reset(seed=0)
    for spec in (str(tmp_path), str(tmp_path / CHECKPOINT_NAME)):
        policy = load_policy(spec, pipeline, "all")
        assert isinstance(policy, LearnerPolicy) and not policy.explore
        learner, metadata = load_learner(spec, pipeline.observation_space, pipeline.n_actions)
        assert metadata["learners"]["learner"]["algo"] == "mfq"
        expected = learner.act(step.observations, step.mean_actions, explore=False)
        np.testing.assert_array_equal(act(policy, pipeline, "all", step), expected)
    with pytest.raises(CheckpointError, match="no learner 'opponent'"):
        load_policy(f"{tmp_path}#opponent", pipeline, "all")
    battle = VecPipeline("battle", BATTLE)
    with pytest.raises(CheckpointError, match=r"trained on observations of shape \(3,\)"):
        load_policy(str(tmp_path), battle, "red")


def test_self_play_run_holds_the_learner_and_its_opponent(tmp_path):
    train("battle", "mfq", seed=0, out=tmp_path, rounds=1, env_kwargs=BATTLE, tensorboard=False)
    pipeline = VecPipeline("battle", BATTLE)
    step = pipeline.reset(seed=0)
    learner = load_policy(str(tmp_path), pipeline, "red")
    opponent = load_policy(f"{tmp_path}#opponent", pipeline, "blue")
    assert isinstance(learner, LearnerPolicy) and isinstance(opponent, LearnerPolicy)
    assert act(learner, pipeline, "red", step).shape == (4,) and act(opponent, pipeline, "blue", step).shape == (4,)


def test_sb3_model_is_a_policy_spec(tmp_path):
    from stable_baselines3 import PPO

    from mfagents.common.pipeline import make_parallel_env, make_vec_env

    pipeline = VecPipeline("battle", BATTLE)
    vec = make_vec_env(make_parallel_env("battle", pipeline.env_kwargs), 1, base_class="stable_baselines3")
    model = PPO("MlpPolicy", vec, n_steps=8, batch_size=32, n_epochs=1, device="cpu")  # seed=: SuperSuit vec envs lack seed()
    model.learn(total_timesteps=8 * vec.num_envs)
    model.save(tmp_path / "ppo.zip")
    policy = load_policy(f"sb3:{tmp_path / 'ppo.zip'}", pipeline, "red")
    step = pipeline.reset(seed=0)
    actions = act(policy, pipeline, "red", step)
    assert actions.shape == (4,) and actions.dtype == np.int64 and actions.max() < 21
    with pytest.raises(ValueError, match="does not exist"):
        load_policy(f"sb3:{tmp_path / 'missing.zip'}", pipeline, "red")
