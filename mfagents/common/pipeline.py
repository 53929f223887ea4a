"""The training pipeline: any registered environment as a SuperSuit vector env of agent rows.

Trainers consume the environments the way PettingZoo users do::

    vec = supersuit.pettingzoo_env_to_vec_env_v1(parallel_env)      # one row per agent
    vec = supersuit.concat_vec_envs_v1(vec, n_envs, num_cpus=0)     # n_envs copies, rows concatenated

``VecPipeline`` wraps that vector env and turns its per-row info dicts into arrays once per step.

Row layout. Rows are environment-copy-major and, within a copy, in ``possible_agents`` order:
row ``r`` is agent ``possible_agents[r % agents_per_env]`` of copy ``r // agents_per_env``. Battle's
``possible_agents`` are ``red_*`` then ``blue_*``, so the rows of a team are known by index
(``VecPipeline.groups``). Gaussian Squeeze and Ising have one group, ``"all"``.

Fixed agent set. SuperSuit's vector envs need every agent in every step. Battle is created with
``dead_agents="absorb"`` (dead agents stay, with zero observations and rewards and
``info["alive"] = False``) instead of SuperSuit's ``black_death_v3``, whose 3.11.0 release tests
"done" with AND where OR is meant and so steps a finished environment once more at a time limit
(REFERENCE.md section 5). Battle is also created with ``extra_features=True`` so the observation
carries the feature channels (id bits, last action, last reward, position) the paper's network reads.

What SuperSuit returns, measured on supersuit 3.11.0 (``tests/mfagents/common/test_pipeline.py`` checks it):

* ``terminations`` / ``truncations`` are ``uint8`` arrays; ``rewards`` ``float32``.
* When a copy's episode ends, ``MarkovVectorEnv`` resets that copy at once: the observations of its
  rows are the new episode's first observations, and each row's info is the terminal step's info
  updated with the reset info. Keys present in both (``mean_action``, ``alive``, Battle's results)
  hold the *reset* values, which is what the next action needs; the terminal step's infos are read
  from the environment copy's ``final_infos`` instead (``VecStep.copy_infos``).

Groups with different spaces (combined arms: melee 9 actions, ranged 25, and observations of 29 and 45
channels). SuperSuit's vector envs need one observation and one action space for all agents, so
``make_vec_env`` pads them (``mfagents.common.padding.PaddedSpaces``: SuperSuit's padding rules as one parallel
wrapper) and the pipeline keeps each group's true spaces (``GroupSpaces``: observation space, action count, view
channels). ``VecStep`` arrays are padded (mean actions, whose length is the group's action count, are
zero-padded to the longest); ``VecPipeline.group_inputs`` cuts a group's rows back to its own spaces, so a
policy sees its group's unpadded observations and mean actions and answers with its own actions, and
``VecPipeline.step`` refuses any action in the padding before a copy steps.

Sides. ``SIDES`` lists the groups of each side (Battle: ``red`` / ``blue``; combined arms: ``redmelee``,
``redranged`` / ``bluemelee``, ``blueranged``); the first side is the learner's, and the other sides list
their groups in the same order: where group ``k`` of every side has the same spaces (``mirrored_sides``),
self-play's frozen copies and a run played on the other side use that order.

The one workaround for SuperSuit lives in ``make_vec_env``: its vector envs predate Gymnasium 1.x's
``single_observation_space`` / ``single_action_space`` attributes and name the single-agent spaces
``observation_space`` / ``action_space``; ``make_vec_env`` adds the ``single_*`` names.

Example:
    >>> pipeline = VecPipeline("gaussian_squeeze", {"n_agents": 4}, n_envs=2)
    >>> step = pipeline.reset(seed=0)
    >>> step.observations.shape, step.mean_actions.shape, pipeline.groups["all"].tolist()
    ((8, 3), (8, 10), [0, 1, 2, 3, 4, 5, 6, 7])
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv
from supersuit import concat_vec_envs_v1, pettingzoo_env_to_vec_env_v1

from mfagents.common.padding import PaddedSpaces, has_one_space
from mfenvs.registration import EnvEntry, find

BATTLE_GAMES: tuple[str, ...] = ("battle", "battlefield")
"""Environments played on Battle's engine, by short name: teams ``red`` and ``blue``, Battle's observation layout,
end-of-episode infos and actions, so the same learners, scorer and scripted fighter serve them all."""

TRAINING_ENV_KWARGS: dict[str, dict[str, Any]] = {
    **{name: {"extra_features": True, "dead_agents": "absorb"} for name in BATTLE_GAMES},
    # as Battle: a fixed agent set, and the feature channels (id bits, last action, last reward) the learners read
    "combined_arms": {"extra_features": True, "dead_agents": "absorb"},
    "tiger_deer": {"extra_features": True, "dead_agents": "absorb"},  # as combined arms (issue 25)
    "gather": {"dead_agents": "absorb"},  # a fixed agent set (mfzoo watch plays its rows)
    "adversarial_pursuit": {"dead_agents": "absorb"},  # nothing dies there; as gather
}
"""Environment arguments the trainers set unless the user overrides them (by short name)."""

REQUIRED_ENV_KWARGS: dict[str, dict[str, Any]] = {
    name: {"dead_agents": "absorb"}
    for name in (*BATTLE_GAMES, "combined_arms", "tiger_deer", "gather", "adversarial_pursuit")
}
"""Environment arguments the pipeline cannot work without (SuperSuit needs a fixed agent set)."""

SIDES: dict[str, dict[str, tuple[str, ...]]] = {
    **{name: {"red": ("red",), "blue": ("blue",)} for name in BATTLE_GAMES},
    "combined_arms": {"red": ("redmelee", "redranged"), "blue": ("bluemelee", "blueranged")},
}
"""Environments whose agents form sides, by short name: side -> its groups (an agent belongs to group G if its
name starts ``G_``). The first side is the run's learner side. Sides list their groups in the same order: group
``k`` of one side mirrors group ``k`` of the other (same spaces: ``mirrored_sides``), which self-play and a run
played on the other side rely on. Combined arms' sides are MAgent2's four groups, two
per side, each with its own spaces."""

TEAM_GROUPS: dict[str, tuple[str, ...]] = {
    **{name: tuple(g for groups in sides.values() for g in groups) for name, sides in SIDES.items()},
    # tigers first: the predators are the run's learner side (the deer play ``--opponent``: random, a run, or a second
    # learner with ``train:ALGO``); issue 25
    "tiger_deer": ("tiger", "deer"),
    "gather": ("omnivore",),
    "adversarial_pursuit": ("predator", "prey"),
}
"""Every group of the environments with teams, in side order (``SIDES``); tiger-deer's and adversarial pursuit's
two groups are their sides (``sides_of``; tigers first), gather's one acting group (its food never acts) its only side."""

GROUP_SPACES_TEXT: dict[str, str] = {
    "combined_arms": "melee 9 actions, ranged 25",
    "tiger_deer": "deer 3 x 3 views and 5 actions, tigers 9 x 9 and 9",
    "adversarial_pursuit": "predators 10 x 10 views and 13 actions, prey 9 x 9 and 9",
}
"""Environments whose groups have different observation and action spaces, and how they differ."""

NOT_TRAINABLE: dict[str, tuple[str, str]] = {
    "gather": ("GatherEnv", "GATHER"),
    "adversarial_pursuit": ("AdversarialPursuitEnv", "ADVERSARIAL_PURSUIT"),
}
"""Environments the trainers, evaluation and arena cannot play yet, with their TorchRL env and BenchMARL task
(why: ``NOT_TRAINABLE_BECAUSE``)."""

NOT_TRAINABLE_BECAUSE: dict[str, str] = {
    "adversarial_pursuit": (
        f"its sides are different groups ({GROUP_SPACES_TEXT['adversarial_pursuit']}), and its evaluation, scoreboard and "
        "per-side options are not written yet (tiger-deer's are)"
    ),
    "gather": (
        "it has one acting side (the omnivores; its food never acts) and the trainers, evaluation and arena play "
        "two sides against each other"
    ),
}
"""Why each environment of ``NOT_TRAINABLE`` is not trainable yet."""

ALL = "all"
"""The group (and side) name of environments without teams."""


class PerGroupSpacesError(ValueError):
    """A policy that plays one observation and action shape (an SB3 model, a ``zoo:`` policy) on an environment
    whose groups have different spaces."""


def check_one_space_per_agent(entry: EnvEntry, what: str) -> None:
    """Raise ``PerGroupSpacesError`` for environments whose groups have different spaces (combined arms,
    tiger-deer), where ``what`` (SB3 models, ``zoo:`` policies) plays one observation and action shape only."""
    if entry.short_name in GROUP_SPACES_TEXT:
        raise PerGroupSpacesError(
            f"{what}: {entry.short_name} is not supported: its groups have different observation and action spaces "
            f"({GROUP_SPACES_TEXT[entry.short_name]}) and {what} play one shape; use a run directory trained on "
            f"{entry.short_name}, random or module:callable"
        )


def check_trainable(entry: EnvEntry) -> None:
    """Raise ``PerGroupSpacesError`` for an environment the trainers, evaluation and arena cannot play yet (``NOT_TRAINABLE``)."""
    if entry.short_name in NOT_TRAINABLE:
        torchrl_env, task = NOT_TRAINABLE[entry.short_name]
        reason = NOT_TRAINABLE_BECAUSE[entry.short_name]
        raise PerGroupSpacesError(
            f"{entry.short_name} is not supported yet by mfzoo's training, evaluation and arena: {reason}; "
            f"use mfzoo watch {entry.short_name} --policy random "
            f"(or module:callable), the TorchRL env mfenvs.torchrl_env.{torchrl_env} or the BenchMARL task BattleTask.{task}"
        )


PER_GROUP_SPACES: tuple[str, ...] = tuple(GROUP_SPACES_TEXT)
"""Environments whose groups have different observation and action spaces (MAgent2's combined arms and
tiger-deer). ``VecPipeline`` pads their spaces for SuperSuit and gives each group its own (``GroupSpaces``);
their checkpoints name learners by group."""


def training_env_kwargs(entry: EnvEntry, env_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The environment arguments of a training run: the trainers' defaults updated with ``env_kwargs``.

    Raises:
        ValueError: if ``env_kwargs`` overrides an argument the pipeline needs (Battle's ``dead_agents``).
    """
    resolved = {**TRAINING_ENV_KWARGS.get(entry.short_name, {}), **(env_kwargs or {})}
    for key, required in REQUIRED_ENV_KWARGS.get(entry.short_name, {}).items():
        if resolved[key] != required:
            raise ValueError(
                f"env kwarg {key}={resolved[key]!r} is not supported for training {entry.short_name}: "
                f"SuperSuit vector envs need a fixed agent set, so the trainers use {key}={required!r}"
            )
    return resolved


def make_parallel_env(env_name: str, env_kwargs: dict[str, Any] | None = None) -> ParallelEnv:
    """Create a registered environment (short name or id) with exactly ``env_kwargs``."""
    entry = find(env_name)
    return import_module(entry.module).parallel_env(**(env_kwargs or {}))


def make_vec_env(parallel_env: ParallelEnv, n_envs: int, base_class: str = "gymnasium") -> Any:
    """``n_envs`` copies of ``parallel_env`` as one SuperSuit vector env with one row per agent.

    Args:
        parallel_env: a PettingZoo parallel env with a fixed agent set; it is copied ``n_envs`` times.
        n_envs: number of environment copies (stepped in this process: ``num_cpus=0``).
        base_class: ``"gymnasium"`` or ``"stable_baselines3"`` (SuperSuit's names).

    Returns:
        SuperSuit's vector env, with ``single_observation_space`` / ``single_action_space`` added
        (the one SuperSuit workaround of this package; see the module docstring). Where the agents' spaces
        differ (combined arms), the copies are wrapped in ``PaddedSpaces`` first, as SuperSuit requires.
    """
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
    if not has_one_space(parallel_env):
        parallel_env = PaddedSpaces(parallel_env)
    vec_env = pettingzoo_env_to_vec_env_v1(parallel_env)
    vec_env = concat_vec_envs_v1(vec_env, n_envs, num_cpus=0, base_class=base_class)
    # Workaround: SuperSuit 3.11 vector envs lack Gymnasium 1.x's single_* space attributes.
    agent = parallel_env.possible_agents[0]
    for target in (vec_env, getattr(vec_env, "venv", None)):
        if target is not None:
            target.single_observation_space = parallel_env.observation_space(agent)
            target.single_action_space = parallel_env.action_space(agent)
    return vec_env


@dataclass
class VecStep:
    """One reset or step of all rows, as arrays (row layout: see the module docstring).

    Attributes:
        observations: ``[n_rows, *obs_shape]`` float32, what every row acts on next (after an
            auto-reset, the new episode's first observation); zero-padded where groups differ
            (``VecPipeline.group_inputs`` cuts a group's own observations out).
        rewards: ``[n_rows]`` float32 reward of the step (zeros at reset).
        dones: ``[n_rows]`` bool, the row's episode ended at this step (terminated or truncated).
        mean_actions: ``[n_rows, n_actions]`` float32 mean action every row sees when it acts next (over its
            own group; zero-padded beyond the group's own action count where groups differ).
        alive: ``[n_rows]`` bool, the row is a living agent that acts next (always True without teams).
        copy_infos: the info dict of each copy's first row (values shared by the copy: ``x``, ``G``,
            ``xi``, and Battle's ``red_won`` / ``blue_won`` / ``draw`` and ``red_kills``...).
        finished: ``[n_envs]`` bool, the copy's episode ended at this step (and it was reset).
    """

    observations: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    mean_actions: np.ndarray
    alive: np.ndarray
    copy_infos: list[dict[str, Any]]
    finished: np.ndarray


@dataclass(frozen=True)
class GroupSpaces:
    """One group's own spaces: what its policy sees and may answer, inside the vector env's (padded) ones.

    Attributes:
        observation_space: the group's observation space (the padding cut off).
        n_actions: the group's number of actions; its mean action is that long.
        view_channels: leading view channels of its HWC observation, for the learners' observation layout
            (``mfagents.algos.nets.observation_layout``); None where all groups share one space (Battle's layout
            is inferred there, so its learners and checkpoints are unchanged).
    """

    observation_space: gymnasium.spaces.Box
    n_actions: int
    view_channels: int | None = None

    @property
    def cells(self) -> tuple[slice, ...]:
        """Index of the group's observations in a ``[n, *padded_shape]`` array: every row, the padding cut off."""
        return (slice(None), *(slice(0, n) for n in self.observation_space.shape))


def group_rows(possible_agents: list[str], short_name: str, n_envs: int = 1) -> dict[str, np.ndarray]:
    """Group name -> its row indices over ``n_envs`` copies of ``possible_agents`` (copy-major; ``ALL`` without sides)."""
    agents_per_env = len(possible_agents)
    if short_name not in TEAM_GROUPS:
        return {ALL: np.arange(n_envs * agents_per_env)}
    offsets = np.arange(n_envs)[:, None] * agents_per_env
    groups = {}
    for group in TEAM_GROUPS[short_name]:
        slots = np.array([i for i, name in enumerate(possible_agents) if name.startswith(f"{group}_")])
        groups[group] = (offsets + slots[None, :]).reshape(-1)
    return groups


def group_spaces(parallel_env: ParallelEnv, groups: dict[str, np.ndarray]) -> dict[str, GroupSpaces]:
    """Group -> its own spaces in (unpadded) ``parallel_env`` (``groups``: the rows of one copy, ``group_rows``); where the groups' spaces differ, each gets the view
    channels of the environment's gridworld engine (``core.engine.game.n_view_channels``).

    Raises:
        TypeError: an action space that is not ``Discrete``. ValueError: a group whose agents' spaces differ.
    """
    agents = parallel_env.possible_agents
    spaces = {}
    for group, rows in groups.items():
        members = [agents[row] for row in rows]
        observation_space, action_space = parallel_env.observation_space(members[0]), parallel_env.action_space(members[0])
        if not isinstance(action_space, gymnasium.spaces.Discrete):
            raise TypeError(f"the trainers need a Discrete action space, {group} has {action_space}")
        if any(parallel_env.observation_space(a) != observation_space or parallel_env.action_space(a) != action_space for a in members):
            raise ValueError(f"the agents of group {group} have different spaces; a group's learner needs one")
        spaces[group] = GroupSpaces(observation_space, int(action_space.n))
    if not has_one_space(parallel_env):
        view_channels = int(parallel_env.unwrapped.core.engine.game.n_view_channels)
        spaces = {group: GroupSpaces(s.observation_space, s.n_actions, view_channels) for group, s in spaces.items()}
    return spaces


def sides_of(short_name: str) -> dict[str, tuple[str, ...]]:
    """Side -> its groups: ``SIDES``' entry; for teams without one (tiger-deer) each group is a side of its own;
    ``{"all": ("all",)}`` without teams."""
    if short_name in SIDES:
        return dict(SIDES[short_name])
    if short_name in TEAM_GROUPS:
        return {group: (group,) for group in TEAM_GROUPS[short_name]}
    return {ALL: (ALL,)}


def mirrored_sides(short_name: str, spaces: dict[str, GroupSpaces]) -> bool:
    """Group ``k`` of every side has the spaces of group ``k`` of the first side (Battle, combined arms; not
    tiger-deer, a game of predators and prey): what self-play's frozen copies need."""
    sides = list(sides_of(short_name).values())
    return all(len(groups) == len(sides[0]) and all(spaces[g] == spaces[m] for g, m in zip(groups, sides[0])) for groups in sides[1:])


class VecPipeline:
    """A registered environment as ``n_envs`` SuperSuit copies, stepped with one action array.

    Args:
        env_name: registered id or short name (``battle``, ``combined_arms``, ``ising``, ``gaussian_squeeze``).
        env_kwargs: environment arguments; the trainers' defaults (``TRAINING_ENV_KWARGS``) are added.
        n_envs: number of environment copies.

    Attributes:
        entry: the registration entry of the environment.
        env_kwargs: the arguments every copy was created with.
        n_envs, agents_per_env, n_rows: copies, agents per copy, and ``n_envs * agents_per_env``.
        possible_agents: agent names of one copy, in row order.
        observation_space, n_actions: the vector env's observation space and action count (padded where the
            groups' spaces differ: ``PaddedSpaces``); ``VecStep`` arrays have these shapes.
        sides: side name -> its groups (``SIDES``; ``{"all": ("all",)}`` without sides).
        groups: group name -> ``[n_group_rows]`` row indices (``red``/``blue`` for Battle, combined arms' four
            groups, else ``all``), copy-major, in the order the learners see their rows.
        group_spaces: group name -> its own spaces (``GroupSpaces``); ``group_inputs`` cuts a step to them.
        mirrored_sides: group ``k`` of every side has the spaces of group ``k`` of the first (``mirrored_sides``).
        per_group_spaces: the groups' spaces differ (the vector env's are padded; checkpoints name learners by group).
        group_sizes: group name -> agents of the group in one copy.
        first_rows: ``[n_envs]`` the first row of every copy.
        vec_env: the SuperSuit vector env itself.
    """

    def __init__(self, env_name: str, env_kwargs: dict[str, Any] | None = None, n_envs: int = 1):
        self.entry = find(env_name)
        check_trainable(self.entry)
        self.env_kwargs = training_env_kwargs(self.entry, env_kwargs)
        parallel_env = make_parallel_env(self.entry.env_id, self.env_kwargs)
        self.possible_agents: list[str] = list(parallel_env.possible_agents)
        self.per_group_spaces = not has_one_space(parallel_env)
        self.group_spaces = group_spaces(parallel_env, group_rows(self.possible_agents, self.entry.short_name))
        self.mirrored_sides = mirrored_sides(self.entry.short_name, self.group_spaces)
        self.vec_env = make_vec_env(parallel_env, n_envs)
        self.observation_space = self.vec_env.single_observation_space
        self.n_actions = int(self.vec_env.single_action_space.n)
        self.n_envs = n_envs
        self.agents_per_env = len(self.possible_agents)
        self.n_rows = self.n_envs * self.agents_per_env
        self.sides = sides_of(self.entry.short_name)
        self.groups = group_rows(self.possible_agents, self.entry.short_name, n_envs)
        self.group_sizes = {group: len(rows) // n_envs for group, rows in self.groups.items()}
        self.first_rows = np.arange(n_envs) * self.agents_per_env

    @property
    def copies(self) -> list[ParallelEnv]:
        """The parallel env of every copy, in row order (scripted policies read their state)."""
        return [vec.par_env for vec in self.vec_env.vec_envs]

    def group_inputs(self, step: VecStep, group: str) -> tuple[np.ndarray, np.ndarray]:
        """``group``'s observations and mean actions in ``step``, in the group's own spaces (the padding cut off)."""
        rows, space = self.groups[group], self.group_spaces[group]
        return step.observations[rows][space.cells], step.mean_actions[rows, : space.n_actions]

    def reset(self, seed: int | None = None) -> VecStep:
        """Reset every copy (copy ``i`` gets ``seed + i``, SuperSuit's rule) and return the first rows."""
        observations, infos = self.vec_env.reset(seed=seed)
        zeros = np.zeros(self.n_rows, dtype=np.float32)
        return self._vec_step(observations, zeros, np.zeros(self.n_rows, dtype=bool), infos)

    def step(self, actions: np.ndarray) -> VecStep:
        """Step every copy with ``[n_rows]`` integer actions (actions of dead rows are ignored).

        Raises:
            ValueError: a bad shape, or an action beyond its group's own count (a padding action).
        """
        actions = np.asarray(actions)
        if actions.shape != (self.n_rows,):
            raise ValueError(f"actions must have shape ({self.n_rows},), one per row, got {actions.shape}")
        if self.per_group_spaces:  # before any copy steps (PaddedSpaces checks it too, per agent)
            for group, rows in self.groups.items():
                n_actions = self.group_spaces[group].n_actions
                if (actions[rows] >= n_actions).any():
                    raise ValueError(f"group {group} has {n_actions} actions, got {actions[rows].max()}: padding actions are never sent")
        observations, rewards, terminations, truncations, infos = self.vec_env.step(actions)
        dones = (terminations != 0) | (truncations != 0)
        return self._vec_step(observations, np.asarray(rewards, dtype=np.float32), dones, infos)

    def _vec_step(self, observations: np.ndarray, rewards: np.ndarray, dones: np.ndarray, infos: list[dict]) -> VecStep:
        if self.per_group_spaces:  # each group's mean action is as long as its own action count: pad them to one length
            mean_actions = np.zeros((self.n_rows, self.n_actions), dtype=np.float32)
            for group, rows in self.groups.items():
                mean_actions[rows, : self.group_spaces[group].n_actions] = np.stack([infos[row]["mean_action"] for row in rows])
        else:
            mean_actions = np.stack([info["mean_action"] for info in infos]).astype(np.float32, copy=False)
        alive = np.fromiter((info.get("alive", True) for info in infos), dtype=bool, count=self.n_rows)
        finished = dones.reshape(self.n_envs, self.agents_per_env).all(axis=1)
        first_agent = self.possible_agents[0]
        # SuperSuit has already reset finished copies and merged the new episode's infos over the last
        # step's; the environments keep the last step's infos for that (``final_infos``).
        copy_infos = [
            copy.unwrapped.final_infos[first_agent] if done else infos[row]
            for copy, done, row in zip(self.copies, finished, self.first_rows)
        ]
        return VecStep(
            observations=np.asarray(observations, dtype=np.float32),
            rewards=rewards,
            dones=dones,
            mean_actions=mean_actions,
            alive=alive,
            copy_infos=copy_infos,
            finished=finished,
        )

    def close(self) -> None:
        """Close every copy."""
        self.vec_env.close()
