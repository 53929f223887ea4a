"""Battle, Battlefield, combined arms, tiger-deer, gather and adversarial pursuit as BenchMARL tasks: IPPO, MAPPO, QMIX (any discrete-action BenchMARL algorithm) on ``BattleEnv``.

Needs the ``benchmarl`` extra (``pip install -e ".[benchmarl]"``: BenchMARL 1.5, which runs on torchrl
0.11); ``import mfagents`` does not load this module.

Example (the config line is the ``task=`` argument)::

    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models import MlpConfig
    from mfagents.benchmarl_task import BattleTask

    experiment = Experiment(
        task=BattleTask.BATTLE.get_task({"map_size": 12, "max_cycles": 100, "opponent": "scripted"}),
        algorithm_config=MappoConfig.get_from_yaml(), model_config=MlpConfig.get_from_yaml(),
        critic_model_config=MlpConfig.get_from_yaml(), seed=0, config=ExperimentConfig.get_from_yaml(),
    )
    experiment.run()

The task (``BattleTaskConfig``): the group ``red`` learns against a fixed blue team played inside the
environment (``opponent="scripted"``: ``mfagents.policies.scripted.team_actions``, the nearest-enemy fighter;
``"random"``: uniform random actions), as in ``examples/torchrl_mappo_battle.py``. A fixed opponent makes
returns comparable across algorithms and runs (self-play returns are not), which is what a benchmark
table needs. With ``opponent="none"`` both groups, ``red`` and ``blue``, are BenchMARL groups and learn
(each with its own policy).

Each agent's observation is one flat vector ``(group, "observation")``: its 13 x 13 view flattened, its
features and its neighbourhood mean action, concatenated (``BattleEnv``'s three entries). One key is
what BenchMARL's ``Mlp`` model and QMIX's mixer (which, with no global state, mixes over the group's
observations) accept. Dead agents keep ``done`` and zero observations until their battle restarts,
and their actions are ignored; BenchMARL's losses average over all agents, dead ones included.
``log_info`` adds the kills and win rate of the battles that ended in each collected batch.

``BattleTask.BATTLEFIELD`` is MAgent2's ``battlefield_v5`` (walls, a fixed 12 v 12 layout; ``BattlefieldEnv``)
the same way, with ``BattlefieldTaskConfig`` (its smallest map, 46, by default). The scripted fighter walks
straight at the nearest enemy and does not go around walls.

``BattleTask.COMBINED_ARMS`` is MAgent2's ``combined_arms_v6`` (``CombinedArmsEnv``, ``CombinedArmsTaskConfig``):
one BenchMARL group per MAgent2 group, each with its own policy and its own action count (melee 9,
ranged 25) and observation size; red's ``redmelee`` and ``redranged`` learn against blue's two groups
playing random actions (``opponent="random"``), or all four learn (``"none"``). Map 16 (3 per group) by
default; kills in ``log_info`` are each side's enemy kills.

``BattleTask.TIGER_DEER`` is MAgent2's ``tiger_deer_v4`` (``TigerDeerEnv``, ``TigerDeerTaskConfig``): the
groups ``deer`` (3 x 3 views, 5 actions) and ``tiger`` (9 x 9, 9), each with its own policy; the
``learner`` group learns against the other playing random actions (``opponent="random"``), or both learn
(``"none"``). Map 20 (20 deer, 4 tigers, 16 random walls) by default; ``log_info`` gives the deer eaten
per game and the share of games that ended with every deer eaten.

``BattleTask.GATHER`` is MAgent2's ``gather_v5`` (``GatherEnv``, ``GatherTaskConfig``): its one acting group,
``omnivore`` (495 omnivores on MAgent2's 200 x 200 map; the 2,272 food never act), learns alone: there is no
opponent. Each omnivore's observation is 15 x 15 x 5 + 36 features + 33 mean action = 1,194 numbers, so
algorithms with a centralised critic or mixer over the group's observations (MAPPO, QMIX) see 495 x
1,194 inputs: IPPO and the other decentralised ones are the practical choice. ``log_info`` gives the food
eaten per game and the omnivores alive at its end.

``BattleTask.ADVERSARIAL_PURSUIT`` is MAgent2's ``adversarial_pursuit_v4`` (``AdversarialPursuitEnv``,
``AdversarialPursuitTaskConfig``), the one MAgent2 game BenchMARL itself ships: the groups ``predator``
(2 x 2 bodies, 10 x 10 views, 13 actions) and ``prey`` (9 x 9, 9), each with its own policy. The defaults
are BenchMARL's ``conf/task/magent/adversarial_pursuit.yaml`` (map 45, ``max_cycles`` 500, ``tag_penalty``
-0.2, both groups learning: ``opponent="none"``); ``opponent="random"`` has ``learner``'s group learn
against random play. Nothing dies: every game runs ``max_cycles`` steps.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from benchmarl.environments import Task, TaskClass
from tensordict import TensorDictBase
from torchrl.data import Composite
from torchrl.envs import (
    CatTensors,
    Compose,
    EnvBase,
    FlattenObservation,
    TransformedEnv,
)

from mfagents.policies.scripted import team_actions
from mfenvs.common.validation import check_int
from mfenvs.torchrl_env import AdversarialPursuitEnv, BattleEnv, BattlefieldEnv, CombinedArmsEnv, GatherEnv, TigerDeerEnv

__all__ = [
    "BattleTask", "BattleTaskClass", "BattleTaskConfig", "BattlefieldTaskConfig", "CombinedArmsTaskConfig",
    "GatherTaskConfig", "TigerDeerTaskConfig", "AdversarialPursuitTaskConfig", "make_battle_env",
]  # fmt: skip

OPPONENTS = ("scripted", "random", "none")
PARTS = ("observation", "features", "mean_action")
"""``BattleEnv``'s per-agent observation entries, concatenated (in this order) into ``(group, "observation")``."""


@dataclass
class BattleTaskConfig:
    """The Battle task's settings (``BattleTask.BATTLE.get_task(config)`` takes them as a dict).

    Attributes:
        map_size: side of the square map; sets the team size with ``team_size=None`` (12: 5 v 5, 16: 10 v 10).
        team_size: agents per team (``None``: ``BattleConfig``'s default for the map).
        max_cycles: steps per battle (BenchMARL's ``max_steps``).
        opponent: ``"scripted"`` or ``"random"`` (blue is fixed, red learns), or ``"none"`` (both learn).
        random_sides: each battle draws which side of the map each team starts on.
    """

    map_size: int = 12
    team_size: int | None = None
    max_cycles: int = 100
    opponent: str = "scripted"
    random_sides: bool = True

    def __post_init__(self) -> None:
        if self.opponent not in OPPONENTS:
            raise ValueError(f"opponent must be one of {OPPONENTS}, got {self.opponent!r}")
        check_int("max_cycles", self.max_cycles, minimum=1)


@dataclass
class BattlefieldTaskConfig:
    """The Battlefield task's settings (``BattleTask.BATTLEFIELD.get_task(config)``).

    Attributes:
        map_size: side of the square map, at least 46 (MAgent2's default: 80); always 12 v 12.
        max_cycles: steps per battle (BenchMARL's ``max_steps``; MAgent2's default: 1000).
        opponent: ``"scripted"``, ``"random"`` or ``"none"``, as ``BattleTaskConfig``'s.
    """

    map_size: int = 46
    max_cycles: int = 200
    opponent: str = "scripted"

    def __post_init__(self) -> None:
        if self.opponent not in OPPONENTS:
            raise ValueError(f"opponent must be one of {OPPONENTS}, got {self.opponent!r}")
        check_int("max_cycles", self.max_cycles, minimum=1)


@dataclass
class CombinedArmsTaskConfig:
    """The combined arms task's settings (``BattleTask.COMBINED_ARMS.get_task(config)``).

    Attributes:
        map_size: side of the square map, at least 16 (MAgent2's default: 45, 162 agents; 16: 3 per group).
        max_cycles: steps per game (BenchMARL's ``max_steps``; MAgent2's default: 1000).
        opponent: ``"random"`` (blue's two groups play uniform random actions, red's two learn) or
            ``"none"`` (all four groups learn, each with its own policy). There is no scripted opponent.
    """

    map_size: int = 16
    max_cycles: int = 200
    opponent: str = "random"

    def __post_init__(self) -> None:
        if self.opponent not in ("random", "none"):
            raise ValueError(f"opponent must be 'random' or 'none', got {self.opponent!r}")
        check_int("max_cycles", self.max_cycles, minimum=1)


@dataclass
class TigerDeerTaskConfig:
    """The tiger-deer task's settings (``BattleTask.TIGER_DEER.get_task(config)``).

    Attributes:
        map_size: side of the square map, at least 10 (MAgent2's default: 45, 101 deer and 20 tigers; 20: 20 and 4).
        max_cycles: steps per game (BenchMARL's ``max_steps``; MAgent2's default: 300).
        opponent: ``"random"`` (the group other than ``learner`` plays uniform random actions) or ``"none"``
            (both groups learn, each with its own policy).
        learner: ``"tiger"`` or ``"deer"``: the group that learns against a random opponent.
    """

    map_size: int = 20
    max_cycles: int = 100
    opponent: str = "random"
    learner: str = "tiger"

    def __post_init__(self) -> None:
        if self.opponent not in ("random", "none"):
            raise ValueError(f"opponent must be 'random' or 'none', got {self.opponent!r}")
        if self.learner not in ("tiger", "deer"):
            raise ValueError(f"learner must be 'tiger' or 'deer', got {self.learner!r}")
        check_int("max_cycles", self.max_cycles, minimum=1)


@dataclass
class GatherTaskConfig:
    """The gather task's settings (``BattleTask.GATHER.get_task(config)``): MAgent2's ``gather_v5`` arguments
    and defaults (its map is 200 x 200, with no argument).

    Attributes:
        max_cycles: steps per game (BenchMARL's ``max_steps``; MAgent2's default: 500).
        step_reward, attack_penalty, dead_penalty, attack_food_reward: MAgent2's reward arguments.
    """

    max_cycles: int = 500
    step_reward: float = -0.01
    attack_penalty: float = -0.1
    dead_penalty: float = -1.0
    attack_food_reward: float = 0.5

    def __post_init__(self) -> None:
        check_int("max_cycles", self.max_cycles, minimum=1)


@dataclass
class AdversarialPursuitTaskConfig:
    """The adversarial-pursuit task's settings (``BattleTask.ADVERSARIAL_PURSUIT.get_task(config)``); the
    defaults are BenchMARL's own MAgent2 task's.

    Attributes:
        map_size: side of the square map, at least 7 (MAgent2's default: 45, 25 predators and 50 prey).
        max_cycles: steps per game (BenchMARL's ``max_steps``; MAgent2's default: 500).
        tag_penalty: a predator's reward per tag action (MAgent2's default: -0.2).
        opponent: ``"none"`` (both groups learn, each with its own policy, as BenchMARL's task) or
            ``"random"`` (the group other than ``learner`` plays uniform random actions).
        learner: ``"predator"`` or ``"prey"``: the group that learns against a random opponent.
    """

    map_size: int = 45
    max_cycles: int = 500
    tag_penalty: float = -0.2
    opponent: str = "none"
    learner: str = "predator"

    def __post_init__(self) -> None:
        if self.opponent not in ("random", "none"):
            raise ValueError(f"opponent must be 'random' or 'none', got {self.opponent!r}")
        if self.learner not in ("predator", "prey"):
            raise ValueError(f"learner must be 'predator' or 'prey', got {self.learner!r}")
        check_int("max_cycles", self.max_cycles, minimum=1)


TASK_CONFIGS: dict[str, type] = {
    "battle": BattleTaskConfig,
    "battlefield": BattlefieldTaskConfig,
    "combined_arms": CombinedArmsTaskConfig,
    "tiger_deer": TigerDeerTaskConfig,
    "gather": GatherTaskConfig,
    "adversarial_pursuit": AdversarialPursuitTaskConfig,
}
"""Task name (``BattleTask`` member, lower case) -> its config class."""


def make_battle_env(
    config: (
        BattleTaskConfig | BattlefieldTaskConfig | CombinedArmsTaskConfig | TigerDeerTaskConfig | GatherTaskConfig
        | AdversarialPursuitTaskConfig
    ),
    *,
    num_envs: int,
    seed: int | None,
    device: Any = "cpu",
) -> TransformedEnv:
    """``BattleEnv``, ``BattlefieldEnv``, ``CombinedArmsEnv``, ``TigerDeerEnv``, ``GatherEnv`` or ``AdversarialPursuitEnv``
    (kernels on one thread) with each group's observation entries concatenated into ``(group, "observation")``."""
    if isinstance(config, GatherTaskConfig):  # one acting group, no opponent, no map size
        env: EnvBase = GatherEnv(num_envs=num_envs, device=device, seed=seed, threads=1, **asdict(config))
        return TransformedEnv(env, Compose(*_flat_observation_transforms(env)))
    opponent = {"scripted": team_actions, "random": "random", "none": None}[config.opponent]
    common = dict(num_envs=num_envs, device=device, seed=seed, opponent=opponent, threads=1, map_size=config.map_size, max_cycles=config.max_cycles)
    if isinstance(config, AdversarialPursuitTaskConfig):
        env = AdversarialPursuitEnv(**common, learner=config.learner, tag_penalty=config.tag_penalty)
    elif isinstance(config, TigerDeerTaskConfig):
        env = TigerDeerEnv(**common, learner=config.learner)
    elif isinstance(config, CombinedArmsTaskConfig):
        env = CombinedArmsEnv(**common)
    elif isinstance(config, BattlefieldTaskConfig):
        env = BattlefieldEnv(**common)
    else:
        env = BattleEnv(**common, team_size=config.team_size, random_sides=config.random_sides)
    return TransformedEnv(env, Compose(*_flat_observation_transforms(env)))


def _flat_observation_transforms(env: EnvBase) -> list:
    """Per group: flatten the view, then concatenate it with the features and the mean action into ``observation``."""
    transforms = []
    for group in env.group_map:
        view = (group, "observation")
        transforms.append(FlattenObservation(-3, -1, in_keys=[view], out_keys=[view]))
        transforms.append(CatTensors([(group, part) for part in PARTS], out_key=(group, "observation"), del_keys=True, sort=False))
    return transforms


class BattleTaskClass(TaskClass):
    """BenchMARL's task class for Battle: builds the environments and names their specs for BenchMARL."""

    def __init__(self, name: str, config: dict[str, Any] | None):
        super().__init__(name, asdict(self.config_class(name)(**(config or {}))))

    @staticmethod
    def config_class(name: str) -> type:
        """The config dataclass of task ``name`` (``BATTLE`` or ``BATTLEFIELD``, any case)."""
        return TASK_CONFIGS[name.lower()]

    @property
    def task_config(self) -> BattleTaskConfig | BattlefieldTaskConfig:
        return self.config_class(self.name)(**self.config)

    def get_env_fun(self, num_envs: int, continuous_actions: bool, seed: int | None, device: Any) -> Callable[[], EnvBase]:
        if continuous_actions:
            raise ValueError("Battle has discrete actions only")
        config = copy.deepcopy(self.task_config)
        return lambda: make_battle_env(config, num_envs=num_envs, seed=seed, device=device)

    def supports_continuous_actions(self) -> bool:
        return False

    def supports_discrete_actions(self) -> bool:
        return True

    def has_render(self, env: EnvBase) -> bool:
        return False

    def max_steps(self, env: EnvBase) -> int:
        return self.config["max_cycles"]

    def group_map(self, env: EnvBase) -> dict[str, list[str]]:
        return env.group_map

    def observation_spec(self, env: EnvBase) -> Composite:
        """Each group's ``observation`` (``[n, d]``, unbatched); the living ``mask`` and the root ``kills`` are not inputs."""
        spec = env.full_observation_spec_unbatched
        return Composite(
            {group: Composite(observation=spec[group, "observation"].clone(), shape=spec[group].shape) for group in env.group_map},
            device=spec.device,
        )

    def action_spec(self, env: EnvBase) -> Composite:
        return env.full_action_spec_unbatched

    def state_spec(self, env: EnvBase) -> Composite | None:
        return None

    def action_mask_spec(self, env: EnvBase) -> Composite | None:
        return None

    def info_spec(self, env: EnvBase) -> Composite | None:
        return None

    @staticmethod
    def env_name() -> str:
        return "mfzoo"

    @staticmethod
    def log_info(batch: TensorDictBase) -> dict[str, float]:
        """Kills per battle (red, blue) and red's win rate over the battles that ended in ``batch`` (combined
        arms: each side's two groups' enemy kills summed; tiger-deer: deer eaten per game and the share of
        games in which every deer was eaten; gather: food eaten per game and the omnivores alive at its end;
        adversarial pursuit, where nothing dies: the games ended)."""
        done = batch.get(("next", "done")).squeeze(-1)
        kills = batch.get(("next", "kills"))[done].to(torch.float32)
        if not len(kills):
            return {}
        groups = set(batch.keys())
        if "omnivore" in groups:  # gather: the omnivores' kills of food, and the omnivores left
            alive = batch.get(("next", "omnivore", "mask"))[done].to(torch.float32)
            return {
                "gather/games_ended": float(len(kills)),
                "gather/food_eaten": kills[:, 1].mean().item(),
                "gather/omnivores_alive": alive.sum(dim=-1).mean().item(),
            }
        if groups & {"predator", "prey"}:  # adversarial pursuit: no kills; BenchMARL logs the groups' rewards
            return {"adversarial_pursuit/games_ended": float(len(kills))}
        if groups & {"deer", "tiger"}:  # tiger-deer: the tigers' kills are the deer eaten
            eaten = kills[:, 1]
            deer = batch.get(("next", "deer", "mask"))[done] if "deer" in groups else None
            result = {"tiger_deer/games_ended": float(len(kills)), "tiger_deer/deer_eaten": eaten.mean().item()}
            if deer is not None:
                result["tiger_deer/all_deer_eaten"] = (~deer.any(dim=-1)).to(torch.float32).mean().item()
            return result
        if kills.shape[-1] == 4:  # combined arms: redmelee, redranged, bluemelee, blueranged
            kills = torch.stack([kills[:, 0] + kills[:, 1], kills[:, 2] + kills[:, 3]], dim=-1)
        return {
            "battle/battles_ended": float(len(kills)),
            "battle/red_kills": kills[:, 0].mean().item(),
            "battle/blue_kills": kills[:, 1].mean().item(),
            "battle/red_win_rate": (kills[:, 0] > kills[:, 1]).to(torch.float32).mean().item(),
        }


class BattleTask(Task):
    """BenchMARL's task enum for Mean Field Zoo: ``BattleTask.BATTLE.get_task(config)``, ``BattleTask.BATTLEFIELD...``,
    ``BattleTask.COMBINED_ARMS...``, ``BattleTask.TIGER_DEER...``, ``BattleTask.GATHER...``,
    ``BattleTask.ADVERSARIAL_PURSUIT...``."""

    BATTLE = None
    BATTLEFIELD = None
    COMBINED_ARMS = None
    TIGER_DEER = None
    GATHER = None
    ADVERSARIAL_PURSUIT = None

    @staticmethod
    def associated_class() -> type[TaskClass]:
        return BattleTaskClass

    def get_from_yaml(self, path: str | None = None) -> TaskClass:
        """The task config's defaults, or the settings in the YAML file at ``path``."""
        if path is None:
            return self.get_task(config={})
        return super().get_from_yaml(path)
