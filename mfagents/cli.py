"""The ``mfzoo`` command line: ``mfzoo <command> [options]``.

Every command prints what it does in plain lines and ends with one JSON line summarising the result,
so scripts can read the last line (``json.loads(output.splitlines()[-1])``).

Commands:
    demo: run one episode with a built-in policy that needs no training and record it as a video.

Each command is a pair of small functions in ``COMMANDS``: one adds its arguments to an argparse
sub-parser, the other runs it and returns the JSON summary. New commands (train, eval, watch, arena)
are added to that table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from mfenvs.registration import find

Summary = dict[str, Any]


class UsageError(Exception):
    """A bad command-line value found after parsing (unknown environment, ``--steps 0``...): exit status 2."""


Policy = Callable[[np.ndarray], np.ndarray]
"""Maps the ``[n_agents, obs_dim]`` observations of the agents in play to their ``[n_agents]`` actions."""


def use_dummy_video_driver_when_headless() -> None:
    """Let pygame run without a screen: default ``SDL_VIDEODRIVER`` to ``dummy`` when no display is set."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


# == demo ==========================================================================================
def heat_bath_policy(env: Any, rng: np.random.Generator, temperature: float = 1.5, revise: float = 0.5) -> Policy:
    """Ising: each site picks +1 with the heat-bath (Glauber) probability of its observed neighbours.

    P(+1) = 1 / (1 + exp(-2 (h + lambda * neighbour_sum) / T)), the Boltzmann policy over the site's
    local field. T = 1.5 is below the critical 2.27, so domains grow and xi rises. Only a random
    ``revise`` share of sites acts on it each step; the others repeat their spin, because sites that
    all update at once flip whole checkerboard patterns back and forth instead of ordering.
    """
    config = env.unwrapped.core.config

    def act(observations: np.ndarray) -> np.ndarray:
        own, neighbour_sum = observations[:, 0], observations[:, 1:5].sum(axis=1)
        field_ = config.h + config.coupling * neighbour_sum
        p_up = 1.0 / (1.0 + np.exp(-2.0 * field_ / temperature))
        heat_bath = rng.random(len(own)) < p_up
        keep = rng.random(len(own)) >= revise
        return np.where(keep, own > 0, heat_bath).astype(np.int64)

    return act


def uniform_random_policy(env: Any, rng: np.random.Generator) -> Policy:
    """Every agent draws its action uniformly: the untrained baseline (about 0 % of G* at N = 1000)."""
    n_actions = int(env.action_space(env.possible_agents[0]).n)

    def act(observations: np.ndarray) -> np.ndarray:
        return rng.integers(0, n_actions, size=len(observations))

    return act


def scripted_vs_random_policy(env: Any, rng: np.random.Generator) -> Policy:
    """Battle: red fights with ``mfagents.scripted.nearest_enemy_actions``, blue acts uniformly at random.

    The scripted side reads the engine's state rather than the observations, so the returned policy
    answers for the agents of ``env.agents`` at the time of the call (the ones whose observations it gets).
    """
    from mfagents.scripted import nearest_enemy_actions

    engine = env.unwrapped.core.engine
    n_actions = int(env.action_space(env.possible_agents[0]).n)
    slot_of = {name: slot for slot, name in enumerate(env.possible_agents)}
    is_red = engine.teams == 0

    def act(observations: np.ndarray) -> np.ndarray:
        slots = np.array([slot_of[name] for name in env.agents], dtype=np.intp)
        if len(slots) != len(observations):
            raise ValueError(f"got {len(observations)} observations for the {len(slots)} agents in play")
        random_actions = rng.integers(0, n_actions, size=len(is_red))
        return np.where(is_red, nearest_enemy_actions(engine), random_actions)[slots]

    return act


def battle_verdict(results: dict[str, Any]) -> str:
    """One line on who won a Battle demo: the winner (more kills), the kills and the survivors."""
    score = f"kills red {results['red_kills']} : blue {results['blue_kills']}"
    survivors = f"survivors red {results['red_survivors']}, blue {results['blue_survivors']}"
    outcome = "draw" if results["winner"] == "draw" else f"{results['winner']} wins"
    return f"result: {outcome} ({score}; {survivors})"


@dataclass(frozen=True)
class DemoSpec:
    """How ``mfzoo demo`` runs one environment."""

    make_policy: Callable[[Any, np.random.Generator], Policy]
    """Builds the policy from the environment and the run's generator."""
    policy_name: str
    """One line shown to the user."""
    steps: int
    """Default episode length."""
    result_keys: tuple[str, ...]
    """Keys of the shared step infos reported at the end (e.g. ``xi``)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Environment arguments of the full demo."""
    quick_kwargs: dict[str, Any] = field(default_factory=dict)
    """Environment arguments of ``--quick`` (small and fast, for smoke tests)."""
    verdict: Callable[[dict[str, Any]], str] | None = None
    """Optional one-line reading of the results (e.g. who won), printed after them."""


QUICK_STEPS = 8
DEFAULT_DEMO = "battle"
DEMOS: dict[str, DemoSpec] = {
    "battle": DemoSpec(
        make_policy=scripted_vs_random_policy,
        policy_name="red: scripted (attack the weakest adjacent enemy, else close in on the nearest); blue: uniform random",
        steps=150,
        result_keys=("winner", "red_kills", "blue_kills", "red_survivors", "blue_survivors"),
        env_kwargs={"map_size": 24, "team_size": 16},
        quick_kwargs={"map_size": 16, "team_size": 4},
        verdict=battle_verdict,
    ),
    "ising": DemoSpec(
        make_policy=heat_bath_policy,
        policy_name="heat-bath spins at T = 1.5 (half the sites revise each step)",
        steps=150,
        result_keys=("xi", "energy"),
        env_kwargs={"size": 32},
        quick_kwargs={"size": 12},
    ),
    "gaussian_squeeze": DemoSpec(
        make_policy=uniform_random_policy,
        policy_name="uniform random actions",
        steps=50,
        result_keys=("x", "G", "G_opt"),
        quick_kwargs={"n_agents": 100},
    ),
}


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo demo``."""
    parser.add_argument(
        "--env", default=DEFAULT_DEMO, help=f"environment short name or id: {', '.join(DEMOS)} (default: {DEFAULT_DEMO})"
    )
    parser.add_argument("--steps", type=int, default=None, help="episode length (default: per environment; 8 with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environment and the policy (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default: runs/demo)")
    parser.add_argument("--video", choices=("gif", "mp4"), default="gif", help="video format (default: gif)")
    parser.add_argument("--quick", action="store_true", help="a small environment and a few steps (smoke test)")


def run_demo(args: argparse.Namespace) -> Summary:
    """Run one episode of ``args.env`` with its built-in policy, record every frame, save the video and last frame."""
    import imageio.v3 as iio

    from render.record import VideoRecorder

    try:
        entry = find(args.env)
    except ValueError as error:
        raise UsageError(f"--env: {error}") from None
    spec = DEMOS.get(entry.short_name)
    if spec is None:
        raise UsageError(f"--env: no demo policy for {entry.short_name!r} yet; demos exist for: {', '.join(DEMOS)}")
    steps = args.steps if args.steps is not None else (QUICK_STEPS if args.quick else spec.steps)
    if steps < 1:
        raise UsageError(f"--steps must be >= 1, got {steps}")
    env_kwargs = {**(spec.quick_kwargs if args.quick else spec.env_kwargs), "max_cycles": steps}

    env = import_module(entry.module).parallel_env(render_mode="rgb_array", **env_kwargs)
    policy = spec.make_policy(env, np.random.default_rng(args.seed))
    video_path = args.out / f"{entry.short_name}.{args.video}"
    frame_path = args.out / f"{entry.short_name}.png"
    fps = env.metadata["render_fps"]
    print(f"demo: {entry.env_id} {_format_kwargs(env_kwargs)}, {len(env.possible_agents)} agents, seed {args.seed}")
    print(f"policy: {spec.policy_name}")

    observations, infos = env.reset(seed=args.seed)
    n_steps = 0
    frame = env.render()
    with VideoRecorder(video_path, fps=fps) as recorder:
        recorder.add_frame(frame)
        while env.agents:
            agents = env.agents
            actions = policy(np.stack([observations[agent] for agent in agents]))
            observations, _, _, _, infos = env.step(dict(zip(agents, actions.tolist())))
            n_steps += 1
            frame = env.render()
            recorder.add_frame(frame)
    env.close()
    iio.imwrite(frame_path, frame)

    shared = next(iter(infos.values()))
    results = {key: shared[key] for key in spec.result_keys}
    print(f"ran {n_steps} steps: " + ", ".join(f"{key} = {_format_value(value)}" for key, value in results.items()))
    if spec.verdict is not None:
        print(spec.verdict(results))
    print(f"wrote {video_path} ({recorder.n_frames} frames at {fps} fps)")
    print(f"wrote {frame_path} (last frame)")
    return {
        "command": "demo",
        "env": entry.env_id,
        "env_kwargs": env_kwargs,
        "seed": args.seed,
        "steps": n_steps,
        "frames": recorder.n_frames,
        "video": str(video_path),
        "frame": str(frame_path),
        **results,
    }


def _format_kwargs(kwargs: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{key}={value}" for key, value in kwargs.items()) + ")"


def _format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# == command table and entry point =================================================================
@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, its argument setup and its handler (returns the JSON summary)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Summary]


COMMANDS: dict[str, Command] = {
    "demo": Command("run one episode with a built-in policy and record it (no training needed)", add_demo_arguments, run_demo),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``mfzoo`` parser with one sub-parser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(prog="mfzoo", description="Mean Field Zoo: many-agent environments and mean-field RL agents.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mfzoo`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Bad arguments exit with status 2 and a message on stderr, as argparse does.
    """
    use_dummy_video_driver_when_headless()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        summary = COMMANDS[args.command].run(args)
    except UsageError as error:
        parser.exit(2, f"mfzoo {args.command}: error: {error}\n")
    print(json.dumps(summary, default=_json_default))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the JSON summary")


if __name__ == "__main__":
    sys.exit(main())
