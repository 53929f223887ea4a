"""``mfzoo watch``: play policies in a window (``render.viewer``) or record an episode to MP4 / GIF.

Policies are the SPECs of ``mfzoo eval`` (``mfagents.policies.specs``): a run directory or checkpoint,
``random``, ``scripted`` (Battle), ``module:callable``. They act exactly as in evaluation
(learners greedy), on one environment created with the trainers' arguments, so a learner sees the
observations it was trained on.

The environment is stepped directly rather than through SuperSuit's vector env (``VecPipeline``),
which resets a finished episode inside the step that ends it: the viewer would never see a battle's
last state. ``OneCopyPipeline`` gives the policies the attributes of a one-copy ``VecPipeline``
(``copies``, ``groups``...) over that environment.

Environment arguments: the trainers' defaults (``mfagents.training.config.TRAINING_DEFAULTS``), then those
the SPECs were trained with (a run's ``config.json``, so a learner trained on a small map is watched on
that map), then ``--env-kwarg``, which may not disagree with a run's unless ``--override-run-settings``
(``mfagents.training.run_settings.merge_env_kwargs``, as ``mfzoo eval`` and ``mfzoo arena``).

Example:
    >>> session = WatchSession("battle", {"red": "scripted", "blue": "random"}, env_kwargs={"map_size": 16, "team_size": 4})
    >>> session.reset()
    >>> while not session.done:
    ...     session.step()
    >>> session.results()["winner"] in ("red", "blue", "draw")
    True
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mfagents.common.pipeline import (
    ALL,
    BATTLE_GAMES,
    PER_GROUP_SPACES,
    TEAM_GROUPS,
    group_rows,
    group_spaces,
    has_one_space,
    make_parallel_env,
    mirrored_sides,
    sides_of,
    training_env_kwargs,
)
from mfagents.training.config import parse_key_values
from mfenvs.registration import EnvEntry, find

if TYPE_CHECKING:  # mfagents.policies.specs imports torch: loaded when a session starts, not by ``mfzoo --help``
    from mfagents.policies.specs import Policy

DEFAULT_BATTLE_SPECS = {"red": "scripted", "blue": "random"}
"""What ``mfzoo watch battle`` plays when no SPEC is given (combined arms: ``random`` for both sides)."""
DEFAULT_SPEC = "random"
"""What ``mfzoo watch ising`` / ``gaussian_squeeze`` plays when no SPEC is given."""
RECORD_FRAME_SIZE = (640, 720)
"""Width and height of recorded frames: the drawing above, the HUD strip below (both even, for H.264)."""
RESULT_KEYS: dict[str, tuple[str, ...]] = {
    "ising": ("xi", "energy"),
    "gaussian_squeeze": ("x", "G", "G_opt"),
}
"""Shared step infos reported at the end of an episode, by short name (Battle reads its engine's results)."""
from mfagents.commands.shared import add_env_kwarg_argument


class WatchError(ValueError):
    """Bad ``watch`` settings: SPECs that do not fit the environment, a bad ``--max-steps``..."""


# == environment and policies =========================================================================
class OneCopyPipeline:
    """A one-copy, never auto-resetting stand-in for ``VecPipeline`` that policies can read.

    Row ``r`` is agent ``possible_agents[r]`` (Battle: red rows first), as in a ``VecPipeline`` with
    ``n_envs=1``; the environment is created with the trainers' arguments (Battle absorbs its dead
    agents, so every row exists until the episode ends).

    Attributes:
        entry, env_kwargs, possible_agents, n_envs, agents_per_env, n_rows, sides, groups, group_spaces,
        group_sizes, per_group_spaces, mirrored_sides, first_rows: as ``VecPipeline``'s (nothing is padded here:
        every group's observations and mean actions are its own).
        env: the PettingZoo parallel env.
    """

    def __init__(self, entry: EnvEntry, env_kwargs: Mapping[str, Any]):
        self.entry = entry
        self.env_kwargs = training_env_kwargs(entry, dict(env_kwargs))
        self.env = make_parallel_env(entry.env_id, self.env_kwargs)
        self.possible_agents: list[str] = list(self.env.possible_agents)
        self.n_envs = 1
        self.agents_per_env = self.n_rows = len(self.possible_agents)
        self.first_rows = np.zeros(1, dtype=np.int64)
        self.sides = sides_of(entry.short_name)
        self.groups = group_rows(self.possible_agents, entry.short_name)
        self.group_sizes = {group: len(rows) for group, rows in self.groups.items()}
        self.group_spaces = group_spaces(self.env, self.groups)
        self.per_group_spaces = not has_one_space(self.env)
        self.mirrored_sides = mirrored_sides(entry.short_name, self.group_spaces)

    @property
    def copies(self) -> list[Any]:
        """The one parallel env (scripted policies read its engine)."""
        return [self.env]

    def close(self) -> None:
        self.env.close()


def policy_specs(
    entry: EnvEntry,
    red: str | None = None,
    blue: str | None = None,
    policy: str | None = None,
    tiger: str | None = None,
    deer: str | None = None,
) -> dict[str, str]:
    """Side -> SPEC: ``red`` / ``blue`` (Battle's games, combined arms) or ``tiger`` / ``deer`` (tiger-deer);
    ``policy`` sets every side (defaults: Battle's scripted vs random, else random), else ``all``.

    Raises:
        WatchError: a side option on an environment without that side, or both kinds of options.
    """
    sides = list(sides_of(entry.short_name))
    given = {"red": red, "blue": blue, "tiger": tiger, "deer": deer}
    if sides == [ALL]:
        if any(spec is not None for spec in given.values()):
            raise WatchError(f"{entry.short_name} has no teams: give --policy SPEC (not --red / --blue)")
        return {ALL: policy or DEFAULT_SPEC}
    misplaced = [f"--{name}" for name, spec in given.items() if spec is not None and name not in sides]
    options = " / ".join(f"--{side}" for side in sides)
    if misplaced:
        raise WatchError(f"{entry.short_name}'s sides are {' and '.join(sides)}: give {options} SPECs (not {', '.join(misplaced)})")
    if policy is not None and any(given.get(side) is not None for side in sides):
        raise WatchError(f"give --policy SPEC (both teams) or {options} SPECs, not both")
    if policy is not None:
        return {side: policy for side in sides}
    defaults = DEFAULT_BATTLE_SPECS if entry.short_name in BATTLE_GAMES else dict.fromkeys(sides, DEFAULT_SPEC)
    return {side: given.get(side) or defaults[side] for side in sides}


def policy_label(policy: Policy, spec: str) -> str:
    """The name the HUD shows: ``"mfq (runs/demo/run)"`` for a learner, else the SPEC."""
    from mfagents.policies.specs import LearnerPolicy

    if isinstance(policy, LearnerPolicy):
        return f"{policy.learner.name} ({spec})"
    return spec


class WatchSession:
    """An environment and one policy per group, stepped one step at a time (a ``render.viewer.EpisodeSource``).

    Args:
        env_name: registered id or short name.
        specs: side -> policy SPEC (``policy_specs``; a side's SPEC plays each of its groups, as in
            ``mfagents.evaluate``), or group -> policy SPEC.
        seed: episode ``k`` (0, 1, ... over restarts) is reset with ``seed + k``; policies get
            ``seed``, ``seed + 1``... in side order (the groups of a side: ``group_seed``), as in ``mfagents.evaluate``.
        env_kwargs: ``--env-kwarg`` values (on top of the defaults; see the module docstring).
        max_steps: end an episode after this many steps (None: when the environment ends it).
        device: torch device of learner policies.
        override_run_settings: let ``env_kwargs`` differ from the settings a run was trained with.

    Raises:
        WatchError: SPEC groups that do not match the environment, or ``max_steps < 1``.
        ValueError, CheckpointError: a bad SPEC (from ``mfagents.policies.specs.load_policy``).
    """

    def __init__(
        self,
        env_name: str,
        specs: Mapping[str, str],
        seed: int = 0,
        env_kwargs: Mapping[str, Any] | None = None,
        max_steps: int | None = None,
        device: str = "cpu",
        override_run_settings: bool = False,
    ):
        from mfagents.common.device import check_device
        from mfagents.policies.specs import load_policy
        from mfagents.training.loop import group_seed
        from mfagents.training.run_settings import merge_env_kwargs

        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
            raise WatchError(f"max_steps must be a positive integer, got {max_steps!r}")
        check_device(device)
        self.entry = find(env_name)
        kwargs = merge_env_kwargs(self.entry, specs, env_kwargs, override=override_run_settings)
        self.pipeline = OneCopyPipeline(self.entry, kwargs)
        sides = self.pipeline.sides
        if set(specs) == set(sides):  # a side's SPEC plays each of its groups
            seeds = {group: group_seed(seed + index, k) for index, side in enumerate(sides) for k, group in enumerate(sides[side])}
            specs = {group: specs[side] for side in sides for group in sides[side]}
        elif set(specs) == set(self.pipeline.groups):
            seeds = {group: seed + index for index, group in enumerate(self.pipeline.groups)}
        else:
            raise WatchError(f"{self.entry.short_name} needs SPECs for {sorted(sides)} (or {sorted(self.pipeline.groups)}), got {sorted(specs)}")
        self.specs = {group: specs[group] for group in self.pipeline.groups}
        self.policies = {group: load_policy(spec, self.pipeline, group, seeds[group], device) for group, spec in self.specs.items()}
        self.policy_names = {group: policy_label(self.policies[group], spec) for group, spec in self.specs.items()}
        self.seed = seed
        self.max_steps = max_steps
        self.episodes = 0
        self.episode_steps = 0
        self._finished = True
        self._infos: dict[str, dict[str, Any]] = {}
        self._observations: dict[str, np.ndarray] = {}
        self._mean_actions: dict[str, np.ndarray] = {}
        self._alive = np.zeros(0, dtype=bool)

    @property
    def env(self) -> Any:
        """The PettingZoo parallel env."""
        return self.pipeline.env

    @property
    def core(self) -> Any:
        """The environment's core, which the draw functions and the HUD read."""
        return self.env.unwrapped.core

    @property
    def done(self) -> bool:
        """The episode ended (by the environment's rules or ``max_steps``)."""
        return self._finished or (self.max_steps is not None and self.episode_steps >= self.max_steps)

    def reset(self) -> None:
        """Start the next episode (seed ``seed + episodes``)."""
        from mfagents.policies.specs import LearnerPolicy

        for group, policy in self.policies.items():  # learners that repeat actions (revision_rate < 1) start afresh
            if isinstance(policy, LearnerPolicy):
                policy.learner.end_episodes(np.ones(len(self.pipeline.groups[group]), dtype=bool))
        observations, infos = self.env.reset(seed=self.seed + self.episodes)
        self.episodes += 1
        self.episode_steps = 0
        self._finished = False
        self._store(observations, infos)

    def step(self) -> None:
        """Every group's policy acts on its rows; the environment steps once.

        Raises:
            WatchError: if the episode is over.
        """
        from mfagents.policies.specs import GroupContext

        if self.done:
            raise WatchError("step() called after the episode ended; call reset() first")
        actions = np.zeros(self.pipeline.n_rows, dtype=np.int64)
        for group, rows in self.pipeline.groups.items():
            context = GroupContext(self.pipeline, group, rows, self._alive[rows])
            actions[rows] = self.policies[group](self._observations[group], self._mean_actions[group], context)
        # every possible agent is in play until the end (Battle absorbs its dead), so rows are agents
        observations, _, _, _, infos = self.env.step(dict(zip(self.env.agents, actions.tolist())))
        self.episode_steps += 1
        self._finished = not self.env.agents
        self._store(observations, infos)

    def _store(self, observations: dict[str, Any], infos: dict[str, dict[str, Any]]) -> None:
        agents = self.pipeline.possible_agents
        self._infos = infos
        # by group: groups may have observations and mean actions of different shapes (combined arms)
        self._observations = {
            group: np.stack([observations[agents[row]] for row in rows]).astype(np.float32, copy=False)
            for group, rows in self.pipeline.groups.items()
        }
        self._mean_actions = {
            group: np.stack([infos[agents[row]]["mean_action"] for row in rows]).astype(np.float32, copy=False)
            for group, rows in self.pipeline.groups.items()
        }
        self._alive = np.fromiter((infos[agent].get("alive", True) for agent in agents), dtype=bool, count=len(agents))

    def results(self) -> dict[str, Any]:
        """The episode so far: Battle's winner, kills, survivors and rewards per team; xi / energy; x, G, G*."""
        if self.entry.short_name in BATTLE_GAMES or self.entry.short_name in PER_GROUP_SPACES or self.entry.short_name in TEAM_GROUPS:
            return dict(self.core.engine.results(0))
        shared = self._infos[self.pipeline.possible_agents[0]]
        return {key: shared[key] for key in RESULT_KEYS.get(self.entry.short_name, ()) if key in shared}

    def draw_function(self) -> Any:
        """The environment's pure ``draw(core, surface)`` function (``env.draw_function``)."""
        module_name, function_name = type(self.env.unwrapped).draw_function.split(":")
        return getattr(import_module(module_name), function_name)

    def close(self) -> None:
        self.pipeline.close()


# == window and recording =============================================================================
def watch_in_window(session: WatchSession, steps_per_second: float, max_frames: int | None = None) -> dict[str, Any]:
    """Play ``session`` in the interactive window (``render.viewer.Viewer``) until the user quits.

    Returns:
        Frames drawn, steps played, episodes started, and whether the user quit.
    """
    from render.hud import Hud
    from render.viewer import Viewer

    title = f"mfzoo watch {session.entry.short_name}: " + " vs ".join(session.policy_names.values())
    viewer = Viewer(session, session.draw_function(), Hud(session.policy_names), steps_per_second, title)
    result = viewer.run(max_frames)
    return {"frames": result.frames, "steps": result.steps, "episodes": result.episodes, "quit": result.quit}


def record_episode(
    session: WatchSession, path: str | os.PathLike, fps: float, size: tuple[int, int] = RECORD_FRAME_SIZE
) -> dict[str, Any]:
    """Play one episode of ``session`` headless and write every state (the first included) as a frame.

    Each frame is the environment's drawing above the HUD strip (``render.hud.compose_frame``).

    Returns:
        ``video`` path, ``frames`` written, ``steps`` played, and the seconds spent playing
        (``play_s``: policies and environment) and recording (``record_s``: drawing, conversion, encoding).
    """
    import pygame

    from render.hud import Hud, compose_frame
    from render.record import VideoRecorder
    from render.window import surface_to_array

    pygame.font.init()
    draw = session.draw_function()
    hud = Hud(session.policy_names)
    surface = pygame.Surface(size)
    clock = _Stopwatch()
    with clock.timing("play"):
        session.reset()
    with VideoRecorder(path, fps=fps) as recorder:
        while True:
            with clock.timing("record"):
                hud.update(session.core)
                compose_frame(surface, draw, session.core, hud)
                recorder.add_frame(surface_to_array(surface))
            if session.done:
                break
            with clock.timing("play"):
                session.step()
        with clock.timing("record"):
            recorder.close()  # GIF: all of the encoding; MP4: the frames still queued for ffmpeg
    return {
        "video": str(recorder.path),
        "frames": recorder.n_frames,
        "steps": session.episode_steps,
        "play_s": clock.seconds["play"],
        "record_s": clock.seconds["record"],
    }


class _Stopwatch:
    """Seconds spent in named activities: ``with stopwatch.timing("play"): ...``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"play": 0.0, "record": 0.0}

    @contextmanager
    def timing(self, activity: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[activity] = self.seconds.get(activity, 0.0) + time.perf_counter() - start


# == command line =====================================================================================
def display_available() -> bool:
    """Whether pygame can open a window (``mfzoo`` selects SDL's dummy driver when there is no display)."""
    return os.environ.get("SDL_VIDEODRIVER", "") not in ("dummy", "offscreen")


def add_watch_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo watch``."""
    from mfagents.commands.helptext import spec_forms

    parser.add_argument("env", help="environment short name or id: battle, battlefield, combined_arms, tiger_deer, ising, gaussian_squeeze")
    parser.add_argument("--red", default=None, metavar="SPEC", help=f"battle, combined_arms: red side's policy (default: battle {DEFAULT_BATTLE_SPECS['red']}, combined_arms random)")
    parser.add_argument("--blue", default=None, metavar="SPEC", help=f"battle, combined_arms: blue side's policy (default: {DEFAULT_BATTLE_SPECS['blue']})")
    parser.add_argument("--tiger", default=None, metavar="SPEC", help=f"tiger_deer: the tigers' policy (a run directory: its tiger learner; default: {DEFAULT_SPEC})")
    parser.add_argument("--deer", default=None, metavar="SPEC", help=f"tiger_deer: the deer's policy (a run directory: its deer learner; default: {DEFAULT_SPEC})")
    parser.add_argument(
        "--policy", default=None, metavar="SPEC",
        help=f"every agent's policy (battle: both teams; default for ising / gaussian_squeeze: {DEFAULT_SPEC}). {spec_forms()}",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode and of random policies (default: 0)")
    add_env_kwarg_argument(parser)
    parser.add_argument(
        "--record", type=Path, default=None, metavar="FILE",
        help="write one episode to FILE.mp4 or FILE.gif without opening a window (default: play in a window)",
    )  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=None, metavar="N", help="end each episode after N steps (default: when the episode ends)")
    parser.add_argument(
        "--fps", type=float, default=None, metavar="F",
        help="steps per second at 1x (window) or frames per second (video); default: the environment's render_fps",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="torch device of trained policies: cpu, cuda, cuda:N, mps (default: cpu; checked first)")


def run_watch(args: argparse.Namespace) -> dict[str, Any]:
    """Watch in a window, or record with ``--record``; return the JSON summary.

    Raises:
        mfagents.commands.errors.UsageError: no display and no ``--record``, a bad ``--fps`` / ``--max-steps``,
            an unknown environment or a bad SPEC (exit status 2).
    """
    from mfagents.commands.errors import UsageError

    try:
        return watch(args)
    except WatchError as error:
        raise UsageError(str(error)) from None


def watch(args: argparse.Namespace) -> dict[str, Any]:
    """``run_watch`` raising ``WatchError`` for bad settings."""
    from mfagents.common.checkpoint import CheckpointError
    from mfagents.common.device import check_device

    try:
        check_device(args.device)
    except ValueError as error:
        raise WatchError(str(error)) from None
    if args.fps is not None and not args.fps > 0:
        raise WatchError(f"--fps must be > 0, got {args.fps}")
    if args.record is not None and args.record.suffix.lower() not in (".mp4", ".gif"):
        raise WatchError(f"--record must name a .mp4 or .gif file, got {str(args.record)!r}")
    if args.record is None and not display_available():
        raise WatchError("no display to open a window on; pass --record FILE.mp4 (or .gif) to write a video instead")
    import torch

    # learners act on small batches: one thread is fastest, and many spin against each other on a busy machine
    torch.set_num_threads(1)
    try:
        entry = find(args.env)
        specs = policy_specs(entry, args.red, args.blue, args.policy, args.tiger, args.deer)
        session = WatchSession(
            entry.env_id, specs, seed=args.seed, env_kwargs=parse_key_values(args.env_kwarg, "--env-kwarg"),
            max_steps=args.max_steps, device=args.device, override_run_settings=args.override_run_settings,
        )  # fmt: skip
    except (ValueError, TypeError, CheckpointError, FileNotFoundError) as error:
        raise WatchError(str(error)) from None
    fps = args.fps if args.fps is not None else float(session.env.metadata["render_fps"])
    sides = ", ".join(f"{group}: {name}" for group, name in session.policy_names.items())
    print(f"watch: {entry.env_id} ({len(session.pipeline.possible_agents)} agents), {sides}, seed {args.seed}")
    summary: dict[str, Any] = {
        "command": "watch",
        "env": entry.env_id,
        "env_kwargs": session.pipeline.env_kwargs,
        "seed": args.seed,
        **session.specs,
        "fps": fps,
    }
    try:
        if args.record is not None:
            recording = record_episode(session, args.record, fps)
            summary.update(recording)
            print(f"played {recording['steps']} steps in {recording['play_s']:.1f} s; recording took {recording['record_s']:.1f} s")
            print(f"wrote {recording['video']} ({recording['frames']} frames at {fps:g} fps)")
        else:
            print("keys: space pause, right arrow step, +/- speed, r restart, q or Esc quit")
            summary.update(watch_in_window(session, fps))
        summary["results"] = session.results()
    finally:
        session.close()
    return summary

