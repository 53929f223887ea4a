"""``mfzoo demo``: the whole project in a few minutes on a laptop.

Battle (the default) trains a small MF-Q team (8 v 8 on a 16 x 16 map) against uniform random
play, evaluates it against ``random`` and ``scripted``, records a battle of the trained team, plots
its learning curve and prints the commands to go on (watch, train longer, arena). ``--quick`` does
the same at toy size in well under a minute (a smoke test: the quick team is barely trained).

``--env ising`` / ``--env gaussian_squeeze`` run one episode with a built-in policy that needs no
training (heat-bath spins; uniform random actions) and record it.

Every line printed is plain text, the last one the JSON summary (``mfagents.commands.cli``).
"""

from __future__ import annotations

import argparse
import csv
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from mfenvs.registration import find

Policy = Callable[[np.ndarray], np.ndarray]
"""Maps the ``[n_agents, obs_dim]`` observations of the agents in play to their ``[n_agents]`` actions."""
DEFAULT_DEMO = "battle"
DEFAULT_OUT = Path("runs/demo")


# == Battle: train, evaluate, record, plot ============================================================
@dataclass(frozen=True)
class BattleDemo:
    """The sizes and budget of a training demo."""

    env_kwargs: Mapping[str, Any]
    """The battle (map, teams, episode length)."""
    rounds: int
    """Training budget in rounds (episodes), summed over copies."""
    n_envs: int
    """Environment copies stepped together while training."""
    algo_kwargs: Mapping[str, Any]
    """MF-Q settings on top of the trainers' Battle defaults."""
    eval_rounds: int
    """Evaluation rounds against each opponent."""
    minutes: float = 0.0
    """Expected wall time on 2 idle cores, shown to the user."""
    description: str = ""
    """The battle in words, shown to the user."""


FRONTLINE = {
    "red": [(4, y) for y in range(2, 10)],
    "blue": [(6, y) for y in range(2, 10)],
}
"""Two lines of 8 facing each other one cell apart on a 12 x 12 map: contact from the first step."""

BATTLE_DEMOS: dict[str, BattleDemo] = {
    # 8 v 8 on a 16 x 16 map: the teams start 8 cells apart and must learn to close in, then to attack.
    # Measured (seed 0, after the blind-copy fix): the team first kills after ~60 rounds and beats random
    # in 40 of 40 greedy rounds (7.9 kills a round against 0.0); it loses every round to scripted.
    "full": BattleDemo(
        env_kwargs={"map_size": 16, "team_size": 8, "max_cycles": 80},
        rounds=200,
        n_envs=2,
        algo_kwargs={"learning_rate": 1e-3, "replay_ratio": 2.0, "batch_size": 128, "learning_starts": 500},
        eval_rounds=40,
        minutes=2.0,
        description="8 v 8 on a 16 x 16 map, teams 8 cells apart, 80-step rounds",
    ),
    # Two facing lines (contact at once), 30-step rounds: learns to attack in ~40 s of one core. Measured:
    # MF-Q seeds 0 and 1 beat random in 20 and 18 of 20 rounds (3.4 and 2.3 kills a round against 0.0;
    # random play against random makes 0.05), IL seed 0 in 20 of 20. The CI test of this demo fails if
    # the team stops killing (tests/test_cli.py).
    "quick": BattleDemo(
        env_kwargs={"map_size": 12, "positions": FRONTLINE, "max_cycles": 30},
        rounds=160,
        n_envs=4,
        algo_kwargs={"learning_rate": 1e-3, "replay_ratio": 2.0, "batch_size": 128, "learning_starts": 200},
        eval_rounds=10,
        minutes=1.0,
        description="two lines of 8 facing each other on a 12 x 12 map, 30-step rounds",
    ),
}
TRAINING_OPPONENT = "random"
"""The blue team while the MF-Q team learns."""
OPPONENTS = ("random", "scripted")
"""Built-in policies the trained team is evaluated against."""
VIDEO_OPPONENT = "random"
"""The opponent of the recorded battle."""
ALGO = "mfq"
ZOO_WATCH_COMMAND = "mfzoo watch battle --red zoo:mfq --blue zoo:il"
"""Printed last: two teams trained on the paper's 40 x 40, 64 v 64 battle, shipped with the package."""


def next_commands(run_dir: Path, demo: BattleDemo, seed: int) -> dict[str, str]:
    """The commands printed at the end: watch the trained team, train it longer, put it in the arena.

    The run directory remembers its settings (``config.json``), so none of them is retyped.
    """
    train = ["mfzoo", "train", "battle", "--out", str(run_dir), "--resume", "--rounds", str(demo.rounds * 10)]
    return {
        "watch": shlex.join(["mfzoo", "watch", "battle", "--red", str(run_dir), "--blue", VIDEO_OPPONENT]),
        "train": shlex.join(train),
        "arena": shlex.join(["mfzoo", "arena", "battle", str(run_dir), "--rounds", "20"]),
    }


def results_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """A markdown table of the trained team (red) against each opponent."""
    lines = [
        "| opponent | win | draw | loss | kills (trained : opponent) | team reward (trained : opponent) |",
        "|---|---|---|---|---|---|",
    ]
    for opponent, result in results.items():
        cells = []
        for key in ("red_win_rate", "draw_rate", "blue_win_rate"):
            low, high = result[f"{key}_ci95"]
            cells.append(f"{result[key]:.0%} ({low:.0%}-{high:.0%})")
        kills = f"{result['red_mean_kills']:.2f} : {result['blue_mean_kills']:.2f}"
        rewards = f"{result['red_mean_total_reward']:+.1f} : {result['blue_mean_total_reward']:+.1f}"
        lines.append(f"| {opponent} | {' | '.join(cells)} | {kills} | {rewards} |")
    lines.append("win / draw / loss rates of the trained team over the rounds, with Wilson 95 % intervals")
    return "\n".join(lines)


def plot_learning_curve(metrics_csv: Path, path: Path, title: str) -> Path:
    """Plot a run's ``metrics.csv``: win rate and kills per round, raw and smoothed, against training rounds.

    Raises:
        ValueError: if the log has no rows.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(metrics_csv, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        raise ValueError(f"{metrics_csv} has no rows to plot")

    def column(name: str) -> np.ndarray:
        return np.array([float(row[name]) if row.get(name) not in (None, "") else np.nan for row in rows])

    rounds = column("rounds")
    window = max(1, len(rows) // 15)
    figure, (win_axes, kill_axes) = plt.subplots(2, 1, figsize=(7, 5.5), dpi=120, sharex=True)
    for axes, name, label, colour in (
        (win_axes, "charts/win_rate", "win rate while training", "#0072B2"),
        (kill_axes, "charts/kills", "kills per round", "#D55E00"),
    ):
        values = column(name)
        axes.plot(rounds, values, color=colour, alpha=0.25, linewidth=1)
        smoothed = f"{label} (mean of the last {window} log rows)" if window > 1 else label
        axes.plot(rounds, _moving_average(values, window), color=colour, linewidth=2, label=smoothed)
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize=8)
    kill_axes.plot(rounds, column("charts/opponent_kills"), color="#555555", alpha=0.25, linewidth=1)
    kill_axes.plot(rounds, _moving_average(column("charts/opponent_kills"), window), color="#555555", linewidth=2, linestyle="--", label="opponent's kills")
    kill_axes.legend(loc="upper left", fontsize=8)
    win_axes.set_ylim(-0.05, 1.05)
    temperature = column("charts/temperature") if "charts/temperature" in rows[0] else None
    if temperature is not None:  # the team explores (Boltzmann) while training: its greedy play is better
        twin = win_axes.twinx()
        twin.plot(rounds, temperature, color="#777777", linewidth=1, linestyle=":")
        twin.set_ylabel("exploration temperature (dotted)", color="#555555", fontsize=8)
        twin.set_ylim(bottom=0.0)
    kill_axes.set_ylim(bottom=0.0, top=max(1.0, kill_axes.get_ylim()[1]))
    kill_axes.set_xlabel("training rounds")
    win_axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
    return path


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` points, ignoring NaNs (the first points average what exists)."""
    valid = ~np.isnan(values)
    sums = np.cumsum(np.where(valid, values, 0.0))
    counts = np.cumsum(valid)
    sums[window:] = sums[window:] - sums[:-window]
    counts[window:] = counts[window:] - counts[:-window]
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def run_battle_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Train, evaluate, record and plot (see the module docstring); return the JSON summary."""
    import mfagents
    from mfagents.commands.watch import WatchSession, record_episode

    demo = BATTLE_DEMOS["quick" if args.quick else "full"]
    seed = args.seed
    out = fresh_folder(args.out)
    if out != args.out:
        print(f"{args.out}/ holds an earlier demo (kept); this one goes to {out}/")
    run_dir = out / ALGO
    video_path = out / f"battle.{args.video}"
    curve_path = out / "learning_curve.png"
    env_text = demo.description
    start = time.perf_counter()
    print(f"demo: an MF-Q team learns Battle against {TRAINING_OPPONENT} play ({env_text}), {demo.rounds} rounds, seed {seed}")
    print(f"this takes about {demo.minutes:g} minute(s) on 2 cores; files go to {out}/")

    print(f"[1/4] training MF-Q (red) against {TRAINING_OPPONENT} (blue) -> {run_dir}", flush=True)
    training = mfagents.train(
        "battle", ALGO, seed=seed, out=run_dir, env_kwargs=demo.env_kwargs, algo_kwargs=demo.algo_kwargs,
        opponent=TRAINING_OPPONENT, rounds=demo.rounds, n_envs=demo.n_envs, progress_bar=not args.no_progress,
        tensorboard=False, eval_every=0,  # step [2/4] evaluates the trained team on more rounds
    )  # fmt: skip
    print(f"      {training['rounds']} rounds, {training['global_step']} steps in {training['wall_time_s']:.0f} s")

    print(f"[2/4] evaluating the trained team (red, greedy) against {' and '.join(OPPONENTS)}, {demo.eval_rounds} rounds each", flush=True)
    evaluation_start = time.perf_counter()
    evaluations = {
        opponent: mfagents.evaluate("battle", red=str(run_dir), blue=opponent, rounds=demo.eval_rounds, seed=seed + 1, env_kwargs=demo.env_kwargs)
        for opponent in OPPONENTS
    }
    evaluation_seconds = time.perf_counter() - evaluation_start
    print(results_table(evaluations))
    print(f"      {len(OPPONENTS) * demo.eval_rounds} rounds in {evaluation_seconds:.0f} s")
    verdict = team_verdict(evaluations)
    print(f"      verdict: {verdict}")

    print(f"[3/4] recording the trained team against {VIDEO_OPPONENT} -> {video_path}", flush=True)
    session = WatchSession("battle", {"red": str(run_dir), "blue": VIDEO_OPPONENT}, seed=seed + 2, env_kwargs=demo.env_kwargs)
    try:
        recording = record_episode(session, video_path, fps=10.0)
        video_result = session.results()
    finally:
        session.close()
    print(f"      {recording['steps']} steps: {battle_verdict(video_result)}")
    print(f"      playing took {recording['play_s']:.1f} s, drawing and encoding the {recording['frames']} frames {recording['record_s']:.1f} s")

    print(f"[4/4] plotting the learning curve -> {curve_path}", flush=True)
    plot_learning_curve(run_dir / "metrics.csv", curve_path, f"MF-Q against {TRAINING_OPPONENT} on Battle ({env_text}), seed {seed}")

    commands = next_commands(run_dir, demo, seed)
    elapsed = time.perf_counter() - start
    print(f"done in {elapsed:.0f} s. Next:")
    print(f"  watch it again:  {commands['watch']}")
    print(f"  train longer:    {commands['train']}")
    print(f"  run the arena:   {commands['arena']}")
    print(f"  watch the paper's battle, 64 v 64, between two shipped teams: {ZOO_WATCH_COMMAND}")
    print(f"files: {video_path} (video), {curve_path} (learning curve), {run_dir}/ (checkpoint.safetensors, metrics.csv)")
    return {
        "command": "demo",
        "env": "mfenvs/battle-v0",
        "env_kwargs": dict(demo.env_kwargs),
        "algo": ALGO,
        "seed": seed,
        "quick": bool(args.quick),
        "out": str(out),
        "training": {key: training[key] for key in ("rounds", "global_step", "wall_time_s", "win_rate") if key in training},
        "verdict": verdict,
        "evaluation": {
            opponent: {key: value for key, value in result.items() if key.endswith(("_rate", "_ci95", "_kills", "_reward"))}
            for opponent, result in evaluations.items()
        },
        "video": str(video_path),
        "frames": recording["frames"],
        "video_result": video_result,
        "learning_curve": str(curve_path),
        "run": str(run_dir),
        "next": commands,
        "wall_time_s": elapsed,
        "stage_s": {
            "train": training["wall_time_s"],
            "evaluate": evaluation_seconds,
            "record_play": recording["play_s"],
            "record_frames": recording["record_s"],
        },
    }


def team_verdict(evaluations: Mapping[str, Mapping[str, Any]]) -> str:
    """What the evaluation says the trained team (red) learnt, in plain words, e.g.
    "the trained team beats random in 40 of 40 rounds (7.9 kills a round against 0.0); loses to scripted in
    40 of 40 (3.7 kills a round against 8.0)"."""
    parts = []
    for opponent, result in evaluations.items():
        counts = {"beats": result["red_wins"], "draws with": result["draws"], "loses to": result["blue_wins"]}
        outcome = max(counts, key=counts.get)
        rounds = sum(counts.values())
        kills = f"{result['red_mean_kills']:.1f} kills a round against {result['blue_mean_kills']:.1f}"
        parts.append(f"{outcome} {opponent} in {counts[outcome]} of {rounds} rounds ({kills})")
    verdict = "the trained team " + "; ".join(parts)
    if all(result["red_mean_kills"] == 0 for result in evaluations.values()):
        verdict += ". It made no kill at all: it has not learnt to fight (train longer, or see the README)"
    return verdict


def fresh_folder(out: Path) -> Path:
    """``out`` if it holds no earlier demo, else the first of ``out-2``, ``out-3``... that does not exist yet."""
    if not (out / ALGO).exists():
        return out
    number = 2
    while out.with_name(f"{out.name}-{number}").exists():
        number += 1
    return out.with_name(f"{out.name}-{number}")


def battle_verdict(results: Mapping[str, Any]) -> str:
    """One line on who won a battle: the winner (more kills), the kills and the survivors."""
    score = f"kills red {results['red_kills']} : blue {results['blue_kills']}"
    survivors = f"survivors red {results['red_survivors']}, blue {results['blue_survivors']}"
    outcome = "draw" if results["winner"] == "draw" else f"{results['winner']} wins"
    return f"result: {outcome} ({score}; {survivors})"


# == Ising and Gaussian Squeeze: one recorded episode with a built-in policy ==========================
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


@dataclass(frozen=True)
class EpisodeDemo:
    """How ``mfzoo demo --env ising|gaussian_squeeze`` runs one episode."""

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


QUICK_STEPS = 8
"""Episode length of ``--quick`` episode demos."""
EPISODE_DEMOS: dict[str, EpisodeDemo] = {
    "ising": EpisodeDemo(
        make_policy=heat_bath_policy,
        policy_name="heat-bath spins at T = 1.5 (half the sites revise each step)",
        steps=150,
        result_keys=("xi", "energy"),
        env_kwargs={"size": 32},
        quick_kwargs={"size": 12},
    ),
    "gaussian_squeeze": EpisodeDemo(
        make_policy=uniform_random_policy,
        policy_name="uniform random actions",
        steps=50,
        result_keys=("x", "G", "G_opt"),
        quick_kwargs={"n_agents": 100},
    ),
}


def run_episode_demo(args: argparse.Namespace, short_name: str, env_id: str, module: str) -> dict[str, Any]:
    """Run one episode with the environment's built-in policy, record every frame, save the video and last frame."""
    import imageio.v3 as iio

    from render.record import VideoRecorder

    spec = EPISODE_DEMOS[short_name]
    steps = args.steps if args.steps is not None else (QUICK_STEPS if args.quick else spec.steps)
    env_kwargs = {**(spec.quick_kwargs if args.quick else spec.env_kwargs), "max_cycles": steps}

    env = import_module(module).parallel_env(render_mode="rgb_array", **env_kwargs)
    policy = spec.make_policy(env, np.random.default_rng(args.seed))
    video_path = args.out / f"{short_name}.{args.video}"
    frame_path = args.out / f"{short_name}.png"
    fps = env.metadata["render_fps"]
    print(f"demo: {env_id} {_format_kwargs(env_kwargs)}, {len(env.possible_agents)} agents, seed {args.seed}")
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
    print(f"wrote {video_path} ({recorder.n_frames} frames at {fps} fps)")
    print(f"wrote {frame_path} (last frame)")
    return {
        "command": "demo",
        "env": env_id,
        "env_kwargs": env_kwargs,
        "seed": args.seed,
        "steps": n_steps,
        "frames": recorder.n_frames,
        "video": str(video_path),
        "frame": str(frame_path),
        **results,
    }


def _format_kwargs(kwargs: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{key}={value}" for key, value in kwargs.items()) + ")"


def _format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# == command line =====================================================================================
DEMOS = (DEFAULT_DEMO, *EPISODE_DEMOS)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mfzoo demo``."""
    parser.add_argument(
        "--env", default=DEFAULT_DEMO, help=f"environment short name or id: {', '.join(DEMOS)} (default: {DEFAULT_DEMO})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of training, evaluation and the video (default: 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT}; if it holds an earlier demo, the next free {DEFAULT_OUT}-2, -3...)")
    parser.add_argument("--video", choices=("gif", "mp4"), default="gif", help="video format (default: gif)")
    parser.add_argument("--quick", action="store_true", help="toy sizes and budgets: the whole demo in about a minute (default: off, the full demo)")
    parser.add_argument("--steps", type=int, default=None, help="ising / gaussian_squeeze: episode length (default: per environment)")
    parser.add_argument("--no-progress", action="store_true", help="battle: hide the training progress bar (default: shown)")


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Run the demo of ``args.env``; return the JSON summary.

    Raises:
        mfagents.commands.errors.UsageError: an unknown environment or a bad ``--steps``.
    """
    from mfagents.commands.errors import UsageError

    try:
        entry = find(args.env)
    except ValueError as error:
        raise UsageError(f"--env: {error}") from None
    if entry.short_name not in DEMOS:
        raise UsageError(f"--env: no demo for {entry.short_name!r} yet; demos exist for: {', '.join(DEMOS)}")
    if entry.short_name == DEFAULT_DEMO:
        if args.steps is not None:
            raise UsageError("--steps sets the episode length of the ising / gaussian_squeeze demos; the battle demo trains")
        return run_battle_demo(args)
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    return run_episode_demo(args, entry.short_name, entry.env_id, entry.module)
