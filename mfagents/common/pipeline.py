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

from mfenvs.registration import EnvEntry, find

BATTLE_GAMES: tuple[str, ...] = ("battle", "battlefield")
"""Environments played on Battle's engine, by short name: teams ``red`` and ``blue``, Battle's observation layout,
end-of-episode infos and actions, so the same learners, scorer and scripted fighter serve them all."""

TRAINING_ENV_KWARGS: dict[str, dict[str, Any]] = {
    **{name: {"extra_features": True, "dead_agents": "absorb"} for name in BATTLE_GAMES},
    "combined_arms": {"dead_agents": "absorb"},  # the watch command's rows are a fixed agent set
    "tiger_deer": {"dead_agents": "absorb"},
}
"""Environment arguments the trainers set unless the user overrides them (by short name)."""

REQUIRED_ENV_KWARGS: dict[str, dict[str, Any]] = {
    name: {"dead_agents": "absorb"} for name in (*BATTLE_GAMES, "combined_arms", "tiger_deer")
}
"""Environment arguments the pipeline cannot work without (SuperSuit needs a fixed agent set)."""

TEAM_GROUPS: dict[str, tuple[str, ...]] = {
    **{name: ("red", "blue") for name in BATTLE_GAMES},
    "combined_arms": ("redmelee", "redranged", "bluemelee", "blueranged"),
    "tiger_deer": ("deer", "tiger"),
}
"""Environments whose agents form teams, by short name; an agent belongs to team T if its name starts ``T_``.
Combined arms' and tiger-deer's teams are MAgent2's groups, each with its own spaces (``PER_GROUP_SPACES``)."""

PER_GROUP_SPACES: dict[str, tuple[str, str, str]] = {
    "combined_arms": ("melee 9 actions, ranged 25", "CombinedArmsEnv", "COMBINED_ARMS"),
    "tiger_deer": ("deer 3 x 3 views and 5 actions, tigers 9 x 9 and 9", "TigerDeerEnv", "TIGER_DEER"),
}
"""Environments whose groups have different observation and action spaces, with what differs and their
TorchRL env and BenchMARL task. The watch command and the random, ``module:callable`` policies play them group
by group; the trainers, evaluation and arena, which build one learner shape per run, refuse them."""

ALL = "all"
"""The group name of environments without teams."""


class PerGroupSpacesError(ValueError):
    """An environment whose groups have different spaces (``PER_GROUP_SPACES``) where one shape is needed."""


def check_one_space_per_agent(entry: EnvEntry, what: str) -> None:
    """Raise ``PerGroupSpacesError`` for environments whose groups have different spaces: SuperSuit's vector
    env and the learners (one observation and action shape per run) cannot take them.

    Combined arms' melee units have 9 actions and its ranged 25 (and with ``extra_features`` observations of
    29 and 45 channels); tiger-deer's deer see 3 x 3 and have 5 actions, its tigers 9 x 9 and 9: training
    them means one learner per group, which the training loop does not do yet (per-group learners are being
    added to it separately). Play them with ``mfzoo watch <game> --policy random`` (or a ``module:callable``
    policy), TorchRL (``mfenvs.torchrl_env.CombinedArmsEnv``, ``TigerDeerEnv``) or BenchMARL
    (``mfagents.benchmarl_task.BattleTask.COMBINED_ARMS``, ``TIGER_DEER``).
    """
    if entry.short_name in PER_GROUP_SPACES:
        spaces, torchrl_env, task = PER_GROUP_SPACES[entry.short_name]
        raise PerGroupSpacesError(
            f"{what}: {entry.short_name} is not supported yet: its groups have different observation and action "
            f"spaces ({spaces}), so a side needs one learner per group, which mfzoo's training "
            f"loop does not build; use mfzoo watch {entry.short_name} --policy random (or module:callable), the "
            f"TorchRL env mfenvs.torchrl_env.{torchrl_env} or the BenchMARL task BattleTask.{task}"
        )


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
        (the one SuperSuit workaround of this package; see the module docstring).
    """
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
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
            auto-reset, the new episode's first observation).
        rewards: ``[n_rows]`` float32 reward of the step (zeros at reset).
        dones: ``[n_rows]`` bool, the row's episode ended at this step (terminated or truncated).
        mean_actions: ``[n_rows, n_actions]`` float32 mean action every row sees when it acts next.
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


class VecPipeline:
    """A registered environment as ``n_envs`` SuperSuit copies, stepped with one action array.

    Args:
        env_name: registered id or short name (``battle``, ``ising``, ``gaussian_squeeze``).
        env_kwargs: environment arguments; the trainers' defaults (``TRAINING_ENV_KWARGS``) are added.
        n_envs: number of environment copies.

    Attributes:
        entry: the registration entry of the environment.
        env_kwargs: the arguments every copy was created with.
        n_envs, agents_per_env, n_rows: copies, agents per copy, and ``n_envs * agents_per_env``.
        possible_agents: agent names of one copy, in row order.
        observation_space: one agent's observation space; ``n_actions``: its number of actions.
        groups: group name -> ``[n_group_rows]`` row indices (``red``/``blue`` for Battle, else ``all``),
            copy-major, in the order the learners see their rows.
        group_sizes: group name -> agents of the group in one copy.
        first_rows: ``[n_envs]`` the first row of every copy.
        vec_env: the SuperSuit vector env itself.
    """

    def __init__(self, env_name: str, env_kwargs: dict[str, Any] | None = None, n_envs: int = 1):
        self.entry = find(env_name)
        check_one_space_per_agent(self.entry, "the trainers, evaluation and arena")
        self.env_kwargs = training_env_kwargs(self.entry, env_kwargs)
        parallel_env = make_parallel_env(self.entry.env_id, self.env_kwargs)
        self.possible_agents: list[str] = list(parallel_env.possible_agents)
        self.observation_space = parallel_env.observation_space(self.possible_agents[0])
        action_space = parallel_env.action_space(self.possible_agents[0])
        if not isinstance(action_space, gymnasium.spaces.Discrete):
            raise TypeError(f"the trainers need a Discrete action space, {self.entry.env_id} has {action_space}")
        self.n_actions = int(action_space.n)
        self.vec_env = make_vec_env(parallel_env, n_envs)
        self.n_envs = n_envs
        self.agents_per_env = len(self.possible_agents)
        self.n_rows = self.n_envs * self.agents_per_env
        self.groups, self.group_sizes = self._group_rows()
        self.first_rows = np.arange(n_envs) * self.agents_per_env

    @property
    def copies(self) -> list[ParallelEnv]:
        """The parallel env of every copy, in row order (scripted policies read their state)."""
        return [vec.par_env for vec in self.vec_env.vec_envs]

    def _group_rows(self) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        teams = TEAM_GROUPS.get(self.entry.short_name)
        if teams is None:
            return {ALL: np.arange(self.n_rows)}, {ALL: self.agents_per_env}
        offsets = np.arange(self.n_envs)[:, None] * self.agents_per_env
        groups, sizes = {}, {}
        for team in teams:
            slots = np.array([i for i, name in enumerate(self.possible_agents) if name.startswith(f"{team}_")])
            groups[team] = (offsets + slots[None, :]).reshape(-1)
            sizes[team] = len(slots)
        return groups, sizes

    def reset(self, seed: int | None = None) -> VecStep:
        """Reset every copy (copy ``i`` gets ``seed + i``, SuperSuit's rule) and return the first rows."""
        observations, infos = self.vec_env.reset(seed=seed)
        zeros = np.zeros(self.n_rows, dtype=np.float32)
        return self._vec_step(observations, zeros, np.zeros(self.n_rows, dtype=bool), infos)

    def step(self, actions: np.ndarray) -> VecStep:
        """Step every copy with ``[n_rows]`` integer actions (actions of dead rows are ignored)."""
        actions = np.asarray(actions)
        if actions.shape != (self.n_rows,):
            raise ValueError(f"actions must have shape ({self.n_rows},), one per row, got {actions.shape}")
        observations, rewards, terminations, truncations, infos = self.vec_env.step(actions)
        dones = (terminations != 0) | (truncations != 0)
        return self._vec_step(observations, np.asarray(rewards, dtype=np.float32), dones, infos)

    def _vec_step(self, observations: np.ndarray, rewards: np.ndarray, dones: np.ndarray, infos: list[dict]) -> VecStep:
        mean_actions = np.stack([info["mean_action"] for info in infos]).astype(np.float32, copy=False)
        alive = np.fromiter((info.get("alive", True) for info in infos), dtype=bool, count=self.n_rows)
        finished = dones.reshape(self.n_envs, self.agents_per_env).all(axis=1)
        first_agent = self.possible_agents[0]
        # SuperSuit has already reset finished copies and merged the new episode's infos over the last
        # step's; the environments keep the last step's infos for that (``final_infos``).
        copy_infos = [
            copy.final_infos[first_agent] if done else infos[row]
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
