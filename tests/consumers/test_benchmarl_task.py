"""``mfagents.benchmarl_task``: Battle as a BenchMARL task; IPPO, MAPPO and QMIX train on it for a few iterations.

Needs the ``benchmarl`` extra (part of ``test``: CI runs these).
"""

from __future__ import annotations

import pytest

pytest.importorskip("benchmarl")
import torch
from benchmarl.algorithms import IppoConfig, MappoConfig, QmixConfig
from benchmarl.experiment import Experiment, ExperimentConfig
from benchmarl.models import MlpConfig
from torchrl.envs.utils import check_env_specs

from mfagents.benchmarl_task import BattleTask, BattleTaskClass, BattleTaskConfig, make_battle_env
from mfenvs.battle import BattleConfig
from mfenvs.battle.config import N_ACTIONS
from mfenvs.torchrl_env import BattleEnv

#: 5 v 5 on a 12 x 12 map, short battles
SMALL = {"map_size": 12, "max_cycles": 15}
N_RED = BattleConfig(map_size=12).team_counts[0]


def build(config: dict, num_envs: int = 2, seed: int = 0):
    task = BattleTask.BATTLE.get_task(config)
    return task, task.get_env_fun(num_envs, False, seed, "cpu")()


def test_task_defaults_and_config_checks():
    task = BattleTask.BATTLE.get_task()  # no YAML: BattleTaskConfig's defaults
    assert isinstance(task, BattleTaskClass)
    assert task.config == {"map_size": 12, "team_size": None, "max_cycles": 100, "opponent": "scripted", "random_sides": True}
    assert BattleTask.env_name() == "mfzoo"
    assert task.supports_discrete_actions() and not task.supports_continuous_actions()
    with pytest.raises(TypeError, match="map_sise"):
        BattleTask.BATTLE.get_task({"map_sise": 12})
    with pytest.raises(ValueError, match="opponent must be one of"):
        BattleTask.BATTLE.get_task({"opponent": "greedy"})
    with pytest.raises(ValueError, match="discrete actions only"):
        task.get_env_fun(1, True, 0, "cpu")


def test_task_from_a_yaml_file(tmp_path):
    path = tmp_path / "battle.yaml"
    path.write_text("map_size: 16\nmax_cycles: 50\nopponent: random\n")
    with pytest.warns(UserWarning, match="TaskConfig python dataclass not found"):  # BenchMARL looks in its own package
        task = BattleTask.BATTLE.get_from_yaml(str(path))
    assert task.config == {"map_size": 16, "team_size": None, "max_cycles": 50, "opponent": "random", "random_sides": True}
    path.write_text("map_size: 16\nopponent: nobody\n")
    with pytest.raises(ValueError, match="opponent must be one of"), pytest.warns(UserWarning):
        BattleTask.BATTLE.get_from_yaml(str(path))


@pytest.mark.parametrize("opponent, groups", [("scripted", ["red"]), ("random", ["red"]), ("none", ["red", "blue"])])
def test_specs_match_the_env(opponent, groups):
    task, env = build({**SMALL, "opponent": opponent}, num_envs=3)
    check_env_specs(env)
    assert list(task.group_map(env)) == groups
    assert task.max_steps(env) == 15 and not task.has_render(env)
    assert task.state_spec(env) is None and task.action_mask_spec(env) is None and task.info_spec(env) is None
    observation, action = task.observation_spec(env), task.action_spec(env)
    base = env.base_env.observation_spec
    for group in groups:
        names = task.group_map(env)[group]
        assert len(names) == N_RED
        # one flat input per agent: the 13 x 13 view, the features and the mean action; no mask, no batch dimension
        width = base[group, "observation"].shape[2:].numel() + base[group, "features"].shape[-1] + N_ACTIONS
        assert list(observation[group].keys()) == ["observation"]
        assert observation[group, "observation"].shape == (N_RED, width)
        assert env.observation_spec[group, "observation"].shape == (3, N_RED, width)
        assert action[group, "action"].shape == (N_RED,) and action[group, "action"].space.n == N_ACTIONS
    assert list(observation.keys()) == groups  # the root kills are not a model input


def test_observation_is_the_env_entries_concatenated():
    """The task's env steps like ``BattleEnv`` with the same seed and actions; its observation is the concatenation."""
    config = BattleTaskConfig(**SMALL, opponent="random")
    env = make_battle_env(config, num_envs=2, seed=4)
    plain = BattleEnv(num_envs=2, seed=4, opponent="random", threads=1, **SMALL)
    td, expected = env.reset(), plain.reset()
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        red = expected["red"]
        parts = [red["observation"].flatten(-3), red["features"], red["mean_action"]]
        torch.testing.assert_close(td["red", "observation"], torch.cat(parts, dim=-1), rtol=0, atol=0)
        assert torch.equal(td["red", "mask"], red["mask"]) and torch.equal(td["red", "done"], red["done"])
        actions = torch.randint(0, N_ACTIONS, (2, N_RED), generator=generator)
        td = env.step(td.set(("red", "action"), actions))["next"]
        expected = plain.step(expected.set(("red", "action"), actions))["next"]
        assert torch.equal(td["red", "reward"], expected["red", "reward"])
        if expected["done"].any():
            break


def test_log_info_counts_finished_battles():
    task, env = build({**SMALL, "opponent": "scripted"}, num_envs=4, seed=1)
    batch = env.rollout(40, break_when_any_done=False)  # random red: battles end by wipe-out or at step 15
    done = batch["next", "done"].squeeze(-1)
    kills = batch["next", "kills"][done].float()
    assert len(kills) >= 4
    info = task.log_info(batch)
    assert info["battle/battles_ended"] == len(kills)
    assert info["battle/red_kills"] == pytest.approx(kills[:, 0].mean().item())
    assert info["battle/blue_kills"] == pytest.approx(kills[:, 1].mean().item())
    assert info["battle/red_win_rate"] == pytest.approx((kills[:, 0] > kills[:, 1]).float().mean().item())
    assert task.log_info(batch[:, :1]) == {}  # no battle ended in the first step


def tiny_experiment(task, algorithm, tmp_path) -> Experiment:
    """Two iterations of 2 battles x 20 steps, a gradient step or two each; no loggers, evaluation or checkpoints."""
    config = ExperimentConfig.get_from_yaml()
    config.max_n_iters, config.max_n_frames = 2, None
    config.on_policy_collected_frames_per_batch = config.off_policy_collected_frames_per_batch = 40
    config.on_policy_n_envs_per_worker = config.off_policy_n_envs_per_worker = 2
    config.on_policy_n_minibatch_iters, config.on_policy_minibatch_size = 1, 20
    config.off_policy_n_optimizer_steps, config.off_policy_train_batch_size, config.off_policy_memory_size = 2, 20, 1000
    config.evaluation, config.render, config.loggers, config.create_json = False, False, [], False
    config.save_folder = str(tmp_path)
    return Experiment(
        task=task, algorithm_config=algorithm.get_from_yaml(), model_config=MlpConfig.get_from_yaml(),
        critic_model_config=MlpConfig.get_from_yaml(), seed=0, config=config,
    )  # fmt: skip


@pytest.mark.parametrize(
    "algorithm, opponent",
    [(IppoConfig, "scripted"), (MappoConfig, "random"), (QmixConfig, "scripted"), (IppoConfig, "none")],
    ids=["ippo", "mappo", "qmix", "ippo-both-groups-learn"],
)
def test_algorithms_train_a_few_iterations(algorithm, opponent, tmp_path):
    torch.set_num_threads(1)
    task = BattleTask.BATTLE.get_task({**SMALL, "opponent": opponent})
    experiment = tiny_experiment(task, algorithm, tmp_path)
    groups = ["red"] if opponent != "none" else ["red", "blue"]
    assert list(experiment.group_map) == groups
    before = {group: [p.detach().clone() for p in experiment.losses[group].parameters()] for group in groups}
    experiment.run()
    assert experiment.n_iters_performed == 2 and experiment.total_frames == 80
    for group in groups:  # every group's networks were trained
        after = list(experiment.losses[group].parameters())
        assert any(not torch.equal(old, new) for old, new in zip(before[group], after)), group
    # the trained collection policy acts on the task's env
    env = task.get_env_fun(2, False, 1, "cpu")()
    td = experiment.policy(env.reset())
    for group in groups:
        action = td[group, "action"]
        assert action.shape == (2, N_RED) and 0 <= action.min() and action.max() < N_ACTIONS


def test_battlefield_task_builds_battlefield_and_trains(tmp_path):
    torch.set_num_threads(1)
    task = BattleTask.BATTLEFIELD.get_task({"max_cycles": 10})
    assert task.config == {"map_size": 46, "max_cycles": 10, "opponent": "scripted"}
    with pytest.raises(TypeError, match="team_size"):
        BattleTask.BATTLEFIELD.get_task({"team_size": 5})  # Battlefield's layout is always 12 v 12
    env = task.get_env_fun(2, False, 0, "cpu")()
    check_env_specs(env)
    assert env.base_env.__class__.__name__ == "BattlefieldEnv"
    assert env.reset()["red", "observation"].shape[:2] == (2, 12)
    experiment = tiny_experiment(task, MappoConfig, tmp_path)
    before = [p.detach().clone() for p in experiment.losses["red"].parameters()]
    experiment.run()
    assert any(not torch.equal(old, new) for old, new in zip(before, experiment.losses["red"].parameters()))


@pytest.mark.parametrize("algorithm, opponent", [(MappoConfig, "random"), (IppoConfig, "none")], ids=["mappo-red-learns", "ippo-all-four-learn"])
def test_combined_arms_task_trains_a_policy_per_magent2_group(algorithm, opponent, tmp_path):
    torch.set_num_threads(1)
    task = BattleTask.COMBINED_ARMS.get_task({"max_cycles": 10, "opponent": opponent})
    assert task.config == {"map_size": 16, "max_cycles": 10, "opponent": opponent}
    with pytest.raises(ValueError, match="opponent"):
        BattleTask.COMBINED_ARMS.get_task({"opponent": "scripted"})  # no scripted fighter for combined arms
    env = task.get_env_fun(2, False, 0, "cpu")()
    check_env_specs(env)
    assert env.base_env.__class__.__name__ == "CombinedArmsEnv"
    groups = ["redmelee", "redranged"] + (["bluemelee", "blueranged"] if opponent == "none" else [])
    assert list(env.group_map) == groups
    n_actions = {"redmelee": 9, "redranged": 25, "bluemelee": 9, "blueranged": 25}
    experiment = tiny_experiment(task, algorithm, tmp_path)
    before = {group: [p.detach().clone() for p in experiment.losses[group].parameters()] for group in groups}
    experiment.run()
    for group in groups:  # every group's own networks were trained
        assert any(not torch.equal(old, new) for old, new in zip(before[group], experiment.losses[group].parameters())), group
    td = experiment.policy(env.reset())
    for group in groups:
        action = td[group, "action"]
        assert action.shape == (2, 3) and 0 <= action.min() and action.max() < n_actions[group]


@pytest.mark.parametrize(
    "algorithm, opponent, learner",
    [(MappoConfig, "random", "tiger"), (IppoConfig, "random", "deer"), (IppoConfig, "none", "tiger")],
    ids=["mappo-tigers-learn", "ippo-deer-learn", "ippo-both-learn"],
)
def test_tiger_deer_task_trains_a_policy_per_magent2_group(algorithm, opponent, learner, tmp_path):
    torch.set_num_threads(1)
    task = BattleTask.TIGER_DEER.get_task({"max_cycles": 10, "opponent": opponent, "learner": learner})
    assert task.config == {"map_size": 20, "max_cycles": 10, "opponent": opponent, "learner": learner}
    with pytest.raises(ValueError, match="learner"):
        BattleTask.TIGER_DEER.get_task({"learner": "wolf"})
    env = task.get_env_fun(2, False, 0, "cpu")()
    check_env_specs(env)
    assert env.base_env.__class__.__name__ == "TigerDeerEnv"
    groups = ["deer", "tiger"] if opponent == "none" else [learner]
    assert list(env.group_map) == groups
    n_actions, n_agents = {"deer": 5, "tiger": 9}, {"deer": 20, "tiger": 4}
    sizes = {"deer": 3 * 3 * 5 + 18 + 5, "tiger": 9 * 9 * 5 + 22 + 9}  # view, features, mean action
    experiment = tiny_experiment(task, algorithm, tmp_path)
    before = {group: [p.detach().clone() for p in experiment.losses[group].parameters()] for group in groups}
    experiment.run()
    for group in groups:  # every group's own networks were trained
        assert any(not torch.equal(old, new) for old, new in zip(before[group], experiment.losses[group].parameters())), group
    td = experiment.policy(env.reset())
    for group in groups:
        assert td[group, "observation"].shape == (2, n_agents[group], sizes[group])
        action = td[group, "action"]
        assert action.shape == (2, n_agents[group]) and 0 <= action.min() and action.max() < n_actions[group]


def test_tiger_deer_log_info_counts_the_deer_eaten():
    task = BattleTask.TIGER_DEER.get_task({"map_size": 12, "max_cycles": 200, "opponent": "none"})
    env = task.get_env_fun(3, False, 0, "cpu")()
    batch = env.rollout(120, break_when_any_done=False)  # random tigers starve at step 100: every game ends
    done = batch["next", "done"].squeeze(-1)
    info = task.log_info(batch)
    assert info["tiger_deer/games_ended"] == float(done.sum())
    eaten = batch["next", "kills"][done][:, 1].to(torch.float32).mean().item()
    assert info["tiger_deer/deer_eaten"] == pytest.approx(eaten)
    assert 0.0 <= info["tiger_deer/all_deer_eaten"] <= 1.0


def test_gather_task_trains_the_omnivores_alone(tmp_path):
    """Gather's one acting group learns with IPPO (no opponent; the food never acts); log_info counts the food eaten."""
    torch.set_num_threads(1)
    task = BattleTask.GATHER.get_task({"max_cycles": 10})
    assert task.config == {"max_cycles": 10, "step_reward": -0.01, "attack_penalty": -0.1, "dead_penalty": -1.0, "attack_food_reward": 0.5}
    with pytest.raises(TypeError, match="map_size"):
        BattleTask.GATHER.get_task({"map_size": 100})  # MAgent2's gather has no map size
    env = task.get_env_fun(2, False, 0, "cpu")()
    check_env_specs(env)
    assert env.base_env.__class__.__name__ == "GatherEnv" and list(env.group_map) == ["omnivore"]
    experiment = tiny_experiment(task, IppoConfig, tmp_path)
    before = [p.detach().clone() for p in experiment.losses["omnivore"].parameters()]
    experiment.run()
    assert any(not torch.equal(old, new) for old, new in zip(before, experiment.losses["omnivore"].parameters()))
    td = experiment.policy(env.reset())
    assert td["omnivore", "observation"].shape == (2, 495, 15 * 15 * 5 + 36 + 33)  # view, features, mean action
    action = td["omnivore", "action"]
    assert action.shape == (2, 495) and 0 <= action.min() and action.max() < 33
    batch = env.rollout(12, break_when_any_done=False)  # every game is truncated at step 10
    done = batch["next", "done"].squeeze(-1)
    info = task.log_info(batch)
    assert info["gather/games_ended"] == float(done.sum()) == 2.0
    assert info["gather/food_eaten"] == pytest.approx(batch["next", "kills"][done][:, 1].to(torch.float32).mean().item())
    assert 0 < info["gather/omnivores_alive"] <= 495


@pytest.mark.parametrize(
    "algorithm, opponent, learner",
    [(MappoConfig, "none", "predator"), (IppoConfig, "random", "prey")],
    ids=["mappo-both-learn", "ippo-prey-learn"],
)
def test_adversarial_pursuit_task_trains_a_policy_per_magent2_group(algorithm, opponent, learner, tmp_path):
    torch.set_num_threads(1)
    assert BattleTask.ADVERSARIAL_PURSUIT.get_task().config == {
        "map_size": 45, "max_cycles": 500, "tag_penalty": -0.2, "opponent": "none", "learner": "predator",
    }  # fmt: skip  (BenchMARL's own conf/task/magent/adversarial_pursuit.yaml)
    with pytest.raises(ValueError, match="learner"):
        BattleTask.ADVERSARIAL_PURSUIT.get_task({"learner": "wolf"})
    task = BattleTask.ADVERSARIAL_PURSUIT.get_task({"map_size": 20, "max_cycles": 10, "opponent": opponent, "learner": learner})
    env = task.get_env_fun(2, False, 0, "cpu")()
    check_env_specs(env)
    assert env.base_env.__class__.__name__ == "AdversarialPursuitEnv"
    groups = ["predator", "prey"] if opponent == "none" else [learner]
    assert list(env.group_map) == groups
    n_actions, n_agents = {"predator": 13, "prey": 9}, {"predator": 5, "prey": 10}
    sizes = {"predator": 10 * 10 * 5 + 26 + 13, "prey": 9 * 9 * 5 + 22 + 9}  # view, features, mean action
    experiment = tiny_experiment(task, algorithm, tmp_path)
    before = {group: [p.detach().clone() for p in experiment.losses[group].parameters()] for group in groups}
    experiment.run()
    for group in groups:  # every group's own networks were trained
        assert any(not torch.equal(old, new) for old, new in zip(before[group], experiment.losses[group].parameters())), group
    td = experiment.policy(env.reset())
    for group in groups:
        assert td[group, "observation"].shape == (2, n_agents[group], sizes[group])
        action = td[group, "action"]
        assert action.shape == (2, n_agents[group]) and 0 <= action.min() and action.max() < n_actions[group]
    batch = env.rollout(12, break_when_any_done=False)  # every game is truncated at step 10
    assert task.log_info(batch) == {"adversarial_pursuit/games_ended": 2.0}
