"""Policy SPECs: a trained run, a shipped ``zoo:`` policy, ``random``, ``scripted`` or ``module:callable`` -> a ``Policy``.

A ``Policy`` answers for one group of rows of a ``VecPipeline`` (a Battle team, or every agent):
``policy(observations, mean_actions, context) -> actions``, with ``[n, *obs_shape]`` observations,
``[n, n_actions]`` mean actions and ``[n]`` int64 actions. ``context`` (a ``GroupContext``) names
the group, its rows and the pipeline, for policies that read more than observations (the scripted
Battle policy reads each copy's engine).

SPECs (``load_policy``):

| SPEC | policy |
|---|---|
| a run directory or ``.safetensors`` file | the run's learner, greedy (``PATH#opponent``: the run's second learner) |
| ``zoo:NAME`` | a trained Battle policy shipped with the package (``mfagents.policies.zoo``: ``zoo:mfq``, ``zoo:il``...), greedy |
| ``sb3:PATH.zip`` | a Stable-Baselines3 PPO model (``mfagents.policies.sb3``; its ``.zip`` holds pickles: trusted files only) |
| ``random`` | uniform random actions from a seeded generator |
| ``scripted`` | Battle only: ``mfagents.policies.scripted.nearest_enemy_actions`` (attack the weakest adjacent enemy, else close in) |
| ``module:callable`` | ``callable(observations, mean_actions, context)`` imported from ``module`` |

Checkpoints hold one or two learners (``LEARNER`` and, for self-play or two learners, ``OPPONENT``):
tensors under ``"<name>/..."`` and metadata ``learners[<name>] = {algo, config, group, n_agents}``.
Where the groups' spaces differ (combined arms), a learner plays only its own group and a side has one learner
per group: checkpoints name them by group (``redmelee``, ``redranged``; the second side's ``bluemelee``...), and a
run directory is a SPEC for a whole side: ``PATH`` plays each group with the learner of the group at the same
place in the run's first side, ``PATH#opponent`` with its second side's (``checkpoint_names``, ``spec_learner_name``).
Tiger-deer's sides are different groups (no mirror): a run directory plays the tigers with its ``tiger`` learner and
the deer with its ``deer`` learner (a run trained with ``--opponent train:ALGO`` has both).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mfagents.common.checkpoint import (
    CheckpointError,
    load_checkpoint,
    resolve_checkpoint_path,
)
from mfagents.common.pipeline import BATTLE_GAMES, VecPipeline, check_one_space_per_agent, check_trainable
from mfagents.policies.zoo import POLICY_KIND, ZOO_PREFIX, zoo_path

LEARNER = "learner"
"""Checkpoint name of the run's (first) learner."""
OPPONENT = "opponent"
"""Checkpoint name of the second learner (self-play's frozen copy, or a learner trained alongside)."""
SB3_PREFIX = "sb3:"
"""SPEC prefix of a Stable-Baselines3 model file."""


@dataclass(frozen=True)
class GroupContext:
    """What a policy may read besides its observations and mean actions.

    Attributes:
        pipeline: the vector env the rows belong to (``pipeline.copies`` are the parallel envs).
        group: ``"red"`` / ``"blue"`` (Battle) or ``"all"``.
        rows: ``[n]`` row indices of the group in the pipeline.
        alive: ``[n]`` bool, the rows that are living agents (dead rows' actions are ignored).
    """

    pipeline: VecPipeline
    group: str
    rows: np.ndarray
    alive: np.ndarray


class Policy(Protocol):
    """Maps a group's observations and mean actions to its actions."""

    name: str

    def __call__(self, observations: np.ndarray, mean_actions: np.ndarray, context: GroupContext) -> np.ndarray: ...


class LearnerPolicy:
    """A learner acting for a group: greedy (``explore=False``, evaluation) or exploring (self-play opponent)."""

    def __init__(self, learner: Any, explore: bool = False, name: str | None = None):
        self.learner = learner
        self.explore = explore
        self.name = name or learner.name

    @property
    def rng(self) -> np.random.Generator:
        return self.learner.rng

    def __call__(self, observations: np.ndarray, mean_actions: np.ndarray, context: GroupContext) -> np.ndarray:
        """Actions of the group's rows; only living rows reach the network (dead rows' actions are ignored).

        With asynchronous revision (the learner remembers every row's last action) or an agent-id
        embedding (the row index is an input), the learner sees all rows.
        """
        alive = context.alive
        sees_every_row = not self.learner.revision.synchronous or getattr(self.learner.config, "agent_id_embedding", False)
        if alive.all() or sees_every_row:
            return self.learner.act(observations, mean_actions, explore=self.explore)
        actions = np.zeros(len(observations), dtype=np.int64)
        if alive.any():
            actions[alive] = self.learner.act(observations[alive], mean_actions[alive], explore=self.explore)
        return actions


class RandomPolicy:
    """Uniform random actions drawn from a seeded ``np.random.Generator``."""

    name = "random"

    def __init__(self, n_actions: int, seed: int):
        self.n_actions = n_actions
        self.rng = np.random.default_rng(seed)

    def __call__(self, observations: np.ndarray, mean_actions: np.ndarray, context: GroupContext) -> np.ndarray:
        return self.rng.integers(0, self.n_actions, size=len(observations))


class ScriptedPolicy:
    """Battle's nearest-enemy fighter (``mfagents.policies.scripted``), read from every copy's engine state."""

    name = "scripted"

    def __call__(self, observations: np.ndarray, mean_actions: np.ndarray, context: GroupContext) -> np.ndarray:
        from mfagents.policies.scripted import nearest_enemy_actions

        pipeline = context.pipeline
        every_row = np.concatenate([nearest_enemy_actions(env.unwrapped.core.engine) for env in pipeline.copies])
        return every_row[context.rows]


class CallablePolicy:
    """A user function ``fn(observations, mean_actions, context) -> actions``, checked on every call."""

    def __init__(self, function: Any, spec: str, n_actions: int):
        self.function = function
        self.name = spec
        self.n_actions = n_actions

    def __call__(self, observations: np.ndarray, mean_actions: np.ndarray, context: GroupContext) -> np.ndarray:
        actions = np.asarray(self.function(observations, mean_actions, context))
        if actions.shape != (len(observations),) or actions.dtype.kind not in "iu":
            raise ValueError(
                f"policy {self.name!r} must return {len(observations)} integer actions, got {actions.dtype} {actions.shape}"
            )
        if len(actions) and (actions.min() < 0 or actions.max() >= self.n_actions):
            raise ValueError(f"policy {self.name!r} returned an action outside [0, {self.n_actions})")
        return actions.astype(np.int64, copy=False)


def checkpoint_names(pipeline: VecPipeline) -> dict[str, str]:
    """Group -> the name of its learner in this environment's checkpoints.

    ``LEARNER`` for the first side's group and ``OPPONENT`` for the second's where every group has the same spaces
    (Battle's names, which any group can play); the group's own name where the groups' spaces differ.
    """
    if pipeline.per_group_spaces:
        return {group: group for group in pipeline.groups}
    sides = list(pipeline.sides.values())
    return {group: LEARNER if index == 0 else OPPONENT for index, groups in enumerate(sides) for group in groups}


def spec_learner_name(pipeline: VecPipeline, group: str, role: str) -> str:
    """The checkpoint learner that plays ``group`` for a run SPEC: ``role`` is ``LEARNER`` (``PATH``) or ``OPPONENT``
    (``PATH#opponent``), the run's first or second side; its group at ``group``'s place in its own side. Where the
    sides do not mirror each other (tiger-deer), a run plays each group with its learner of that group.

    Raises:
        ValueError: ``PATH#opponent`` where the sides do not mirror each other (the group names the learner there).
    """
    sides = list(pipeline.sides.values())
    if len(sides) < 2:
        return role
    if not pipeline.mirrored_sides:
        if role != LEARNER:
            raise ValueError(
                f"#{role}: {pipeline.entry.short_name}'s sides are different groups, so a run directory plays each group "
                f"with its own learner of that group ({group}); give the run without #{role}"
            )
        return group
    position = next(groups.index(group) for groups in sides if group in groups)
    return checkpoint_names(pipeline)[sides[0 if role == LEARNER else 1][position]]


def split_learner_spec(spec: str) -> tuple[str, str]:
    """``"runs/a#opponent"`` -> ``("runs/a", "opponent")``; without ``#`` the learner is ``LEARNER``."""
    path, separator, name = spec.rpartition("#")
    if separator and name in (LEARNER, OPPONENT):
        return path, name
    return spec, LEARNER


def load_learner(
    spec: str | os.PathLike,
    observation_space: Any,
    n_actions: int,
    seed: int = 0,
    device: str = "cpu",
    name: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Rebuild a learner from a run directory or checkpoint file (``PATH#opponent`` for the second one).

    ``name`` picks the checkpoint's learner instead of the SPEC's ``#`` part (a group's learner: ``redranged``).

    Returns:
        ``(learner, metadata)``.

    Raises:
        CheckpointError: the file is damaged, holds no such learner, or its learner does not fit the
            environment's observation space (the message names the file).
    """
    from mfagents.algos import make_learner

    path_text, role = split_learner_spec(str(spec))
    name = name or role
    path = resolve_checkpoint_path(path_text)
    tensors, metadata = load_checkpoint(path)
    learners = metadata.get("learners", {})
    if name not in learners:
        raise CheckpointError(f"{path}: checkpoint has no learner {name!r} (it has {sorted(learners) or 'none'})")
    info = learners[name]
    if "observation_shape" in info and tuple(info["observation_shape"]) != tuple(observation_space.shape):
        raise CheckpointError(
            f"{path}: learner {name!r} was trained on observations of shape {tuple(info['observation_shape'])}, "
            f"this environment has {tuple(observation_space.shape)}"
        )
    config = {key: value for key, value in info["config"].items() if key != "use_mean_action"}
    learner = make_learner(info["algo"], observation_space, n_actions, info["n_agents"], seed, device, **config)
    prefix = f"{name}/"
    state = {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
    policy_only = metadata.get("kind") == POLICY_KIND  # a shipped policy file: the acting network only
    try:
        if policy_only:
            learner.load_policy_state_dict(state)
        else:
            learner.load_state_dict(state)
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: learner {name!r} does not load: {error}") from None
    return learner, metadata


def load_policy(spec: str, pipeline: VecPipeline, group: str, seed: int = 0, device: str = "cpu") -> Policy:
    """Turn a policy SPEC (see the module docstring) into a ``Policy`` for ``group`` of ``pipeline``, which it plays in
    the group's own spaces (``pipeline.group_spaces[group]``: its observations and mean actions, its actions).

    Raises:
        ValueError: an unknown SPEC, ``scripted`` outside Battle, or a ``module:callable`` that does not import.
        CheckpointError: a damaged or unfitting checkpoint.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"policy SPEC must be a non-empty string, got {spec!r}")
    space = pipeline.group_spaces[group]  # the group's own spaces (combined arms' groups differ)
    n_actions = space.n_actions
    if spec == "random":
        return RandomPolicy(n_actions, seed)
    if spec == "scripted":
        if pipeline.entry.short_name not in BATTLE_GAMES:
            raise ValueError(f"the scripted policy plays {', '.join(BATTLE_GAMES)} only, not {pipeline.entry.short_name}")
        return ScriptedPolicy()
    if spec.startswith(SB3_PREFIX):
        from mfagents.policies.sb3 import load_sb3_policy

        check_one_space_per_agent(pipeline.entry, "SB3 policies")
        try:
            sb3_act = load_sb3_policy(spec[len(SB3_PREFIX) :])
        except FileNotFoundError as error:
            raise ValueError(f"policy SPEC {spec!r}: {error}") from None
        return CallablePolicy(lambda observations, mean_actions, context: sb3_act(observations), spec, n_actions)
    if spec.startswith(ZOO_PREFIX):
        check_one_space_per_agent(pipeline.entry, "zoo policies")
        learner, _ = load_learner(zoo_path(spec), space.observation_space, n_actions, seed, device)
        return LearnerPolicy(learner, explore=False, name=spec)
    path_text, role = split_learner_spec(spec)
    if Path(path_text).exists():
        check_trainable(pipeline.entry)  # no run of such a game exists to load
        name = spec_learner_name(pipeline, group, role)
        learner, _ = load_learner(path_text, space.observation_space, n_actions, seed, device, name=name)
        return LearnerPolicy(learner, explore=False, name=spec)
    module_name, separator, attribute = spec.partition(":")
    if separator and module_name and attribute:
        try:
            target: Any = import_module(module_name)
            for part in attribute.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"policy SPEC {spec!r}: cannot import {attribute!r} from {module_name!r} ({error})") from None
        if not callable(target):
            raise ValueError(f"policy SPEC {spec!r}: {attribute!r} is not callable")
        return CallablePolicy(target, spec, n_actions)
    raise ValueError(
        f"unknown policy SPEC {spec!r}: expected a run directory or checkpoint file (not found), "
        f"'zoo:NAME', 'random', 'scripted', 'sb3:PATH.zip' or 'module:callable'"
    )
