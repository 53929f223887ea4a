"""The training loop: collect -> learn -> log -> checkpoint, over a SuperSuit vector env.

``train(run)`` reads top to bottom like a CleanRL main block. Every step it

1. **collects**: asks each group's policy for actions (the learners explore; Battle's other team is
   driven by the opponent), steps every environment copy, and hands each learner its rows
   (obs_t, a_t, abar_t, r_t, done_t, active_t);
2. **learns**: ``learner.update()`` on the learner's own schedule, ``set_progress`` for its schedules;
3. **logs** every ``log_every_rounds`` finished rounds: returns, win rate (Battle), G / G* (Gaussian
   Squeeze), late-time order parameter (Ising), losses, and throughput (``perf/``);
4. **evaluates** every ``eval_every`` rounds and at the end, when the run has an evaluation panel: the
   ``evaluator`` handed to ``train`` (``mfagents.evaluation.panel.EvalPanel``, built by ``mfagents.api``:
   evaluation is a floor above training) plays the learner against fixed opponents; its ``eval/...`` metrics
   join that step's log row (a row is written then even between ``log_every_rounds``) and the progress bar,
   and the run's best evaluation so far is kept as ``best.safetensors`` (``panel_score``), as SB3's
   ``EvalCallback`` keeps its best model;
5. **checkpoints** every ``checkpoint_every_rounds`` rounds and at the end.

Battle modes (``opponent``): ``self`` (default, the paper's self-play: blue is a frozen copy of the
learner, replaced by the learner's current parameters whenever the learner wins a round),
``train:ALGO`` (blue is a second learner trained at the same time, e.g. MF-Q vs IL), or a fixed
policy SPEC (``random``, ``scripted``, a run directory...). The learner always plays red; the sides
red and blue start on are random every round (Battle's ``random_sides``), so this favours neither.

Tiger-deer (issue 25): the learner side is the tigers (the predators; ``TEAM_GROUPS``), the other side the deer,
played by ``run.opponent``: ``random`` by default, ``train:ALGO`` (the deer learn too), a policy SPEC (a tiger-deer run
directory: its ``deer`` learner) or a pool of SPECs. The sides do not mirror each other, so ``self`` and pool
snapshots are refused. Rounds are scored by ``TigerDeerScorer``: a tiger "win" eats every deer, and the log gets
the scoreboard (``charts/deer_eaten``, ``tigers_alive``, ``tigers_starved``...) besides each learner's metrics
(``charts/tiger_temperature``, ``losses/deer_q``...).

Sides of several groups (combined arms: ``redmelee`` + ``redranged`` against ``bluemelee`` + ``blueranged``, whose
spaces differ): every group of the learner side gets its own learner of ``run.algo``, which sees only its group's
observations and mean actions (``VecPipeline.group_inputs``) and answers with its group's actions. ``self`` makes
each blue group a frozen copy of the red group at the same place (bluemelee of redmelee, blueranged of
redranged), and all copies are refreshed together when red wins a round (the env's ``red_won``: at the end of
the round red's two groups killed more enemies than blue's); ``train:ALGO`` trains a learner per blue group; a
policy SPEC plays every blue group (a run directory: its learner of that group). Checkpoints name these learners
by group (``mfagents.policies.specs.checkpoint_names``). Sides that do not mirror each other (a game of
predators and prey) train with ``train:ALGO`` or against a policy SPEC; self-play refuses them.

Counting: a *round* is one finished episode of one copy; ``global_step`` counts environment steps
summed over copies (CleanRL's convention); ``agent_steps`` counts rows stepped (every agent of every
copy, dead absorbed agents included), the unit SB3 counts for the same vector env.

Resume: the checkpoint holds the learners (networks, optimisers, counters), the RNG states, the
loop's counters and the CSV position. The replay buffer is not saved (hundreds of MB for Battle):
a resumed learner refills it before it trains again, and episodes in flight at the checkpoint are
restarted, so a resumed run continues the same run but is not bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from mfagents.common.checkpoint import (
    BEST_CHECKPOINT_NAME,
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from mfagents.common.pipeline import BATTLE_GAMES, VecPipeline, VecStep
from mfagents.policies.specs import (
    LEARNER,
    GroupContext,
    LearnerPolicy,
    Policy,
    checkpoint_names,
    load_policy,
)
from mfagents.training.config import SELF_PLAY, TRAIN_PREFIX, ResolvedRun
from mfagents.training.opponent_pool import POOL_PREFIX, SNAPSHOT_MEMBER, OpponentPool, parse_pool
from mfagents.training.logger import RunLogger
from mfagents.training.run_settings import CONFIG_NAME

RESUME_KEYS = ("env_id", "algo", "seed", "env_kwargs", "algo_kwargs", "opponent", "n_envs")
"""Run settings a resumed run must share with the run it continues (budgets may change)."""


# == per-environment scores ==========================================================================
class Scorer:
    """Per-round results of one environment; subclasses know what ``copy_infos`` and actions mean."""

    charts: ClassVar[dict[str, str]] = {}
    """Round results logged as means per log row: chart name (``charts/NAME``) -> key of ``on_finish``'s result."""

    def __init__(self, pipeline: VecPipeline):
        self.pipeline = pipeline

    def on_step(self, actions: np.ndarray, step: VecStep) -> None:
        """Called after every step with the actions that produced it."""

    def on_finish(self, copy: int, step: VecStep) -> dict[str, Any]:
        """The finished round of ``copy`` (called after ``on_step`` of its last step)."""
        return {}


class LateMeanScorer(Scorer):
    """A measure per step of every copy; a round reports its mean over the second half of the round (the
    first half lets the joint action settle) and its value at the last step, under ``keys``."""

    keys: tuple[str, str]

    def __init__(self, pipeline: VecPipeline):
        super().__init__(pipeline)
        self.history: list[list[float]] = [[] for _ in range(pipeline.n_envs)]

    def measure(self, actions: np.ndarray, step: VecStep) -> np.ndarray:
        """``[n_envs]`` this step's measure of every copy."""
        raise NotImplementedError

    def on_step(self, actions: np.ndarray, step: VecStep) -> None:
        for copy, value in enumerate(self.measure(actions, step)):
            self.history[copy].append(float(value))

    def on_finish(self, copy: int, step: VecStep) -> dict[str, Any]:
        values = self.history[copy]
        self.history[copy] = []
        late, last = self.keys
        return {late: float(np.mean(values[len(values) // 2 :])), last: values[-1]}


class SqueezeScorer(LateMeanScorer):
    """Gaussian Squeeze: G / G* per step (every agent is paid G, so the reward of a copy's first row is G).

    ``G_ratio``: the mean over the second half of the round (with asynchronous revision a few agents change
    their action per step); ``G_ratio_last``: the last step.
    """

    keys = ("G_ratio", "G_ratio_last")

    def measure(self, actions: np.ndarray, step: VecStep) -> np.ndarray:
        return step.rewards[self.pipeline.first_rows] / np.array([info["G_opt"] for info in step.copy_infos])


class IsingScorer(LateMeanScorer):
    """Ising: the order parameter xi = abs(N_up - N_down) / N of the spins the actions set, late-time mean per round."""

    keys = ("xi_late", "xi_final")

    def measure(self, actions: np.ndarray, step: VecStep) -> np.ndarray:
        return np.abs((2 * actions.reshape(self.pipeline.n_envs, -1) - 1).mean(axis=1))


class BattleScorer(Scorer):
    """Battle: the end-of-episode infos (winner, kills, total reward per side), which survive the auto-reset."""

    KEYS = ("red_kills", "blue_kills", "red_total_reward", "blue_total_reward", "red_survivors", "blue_survivors")

    def on_finish(self, copy: int, step: VecStep) -> dict[str, Any]:
        info = step.copy_infos[copy]
        winner = next((name for name in ("red", "blue") if info[f"{name}_won"]), "draw")
        return {"winner": winner, **{key: info[key] for key in self.KEYS}}


class TigerDeerScorer(Scorer):
    """Tiger-deer: the end-of-episode scoreboard (``SingleTigerDeer.scoreboard``), which survives the auto-reset.

    ``winner``: ``tiger`` when every deer was eaten, ``deer`` when every tiger starved, else ``draw`` (the round
    reached ``max_cycles``). ``tiger_kills`` are the deer eaten (deer never kill); a tiger's only death is
    starvation, so ``tiger_deaths`` are the tigers starved.
    """

    KEYS = tuple(f"{group}_{key}" for group in ("tiger", "deer") for key in ("kills", "deaths", "survivors", "total_reward"))
    charts: ClassVar[dict[str, str]] = {
        "deer_eaten": "tiger_kills",
        "deer_alive": "deer_survivors",
        "tigers_alive": "tiger_survivors",
        "tigers_starved": "tiger_deaths",
        "tiger_total_reward": "tiger_total_reward",
        "deer_total_reward": "deer_total_reward",
    }

    def on_finish(self, copy: int, step: VecStep) -> dict[str, Any]:
        info = step.copy_infos[copy]
        winner = next((name for name in ("tiger", "deer") if info[f"{name}_won"]), "draw")
        return {"winner": winner, **{key: info[key] for key in self.KEYS}}


SCORERS: dict[str, type[Scorer]] = {
    "gaussian_squeeze": SqueezeScorer,
    "ising": IsingScorer,
    **dict.fromkeys((*BATTLE_GAMES, "combined_arms"), BattleScorer),
    "tiger_deer": TigerDeerScorer,
}
"""Scorer by short name. Combined arms reports Battle's keys per side (its ``red_won`` / ``blue_won``: at the end, the
side whose two groups killed more enemies wins, equal kills draw; ``red_kills``... count kills of enemies only)."""


def make_scorer(pipeline: VecPipeline) -> Scorer:
    return SCORERS.get(pipeline.entry.short_name, Scorer)(pipeline)


# == the run's state outside the learners ============================================================
@dataclass
class Counters:
    """Everything the loop counts; saved in checkpoints."""

    global_step: int = 0
    rounds: int = 0
    agent_steps: int = 0
    csv_rows: int = 0
    opponent_refreshes: int = 0
    rounds_at_last_log: int = 0
    rounds_at_last_checkpoint: int = 0
    rounds_at_last_eval: int = 0
    global_step_at_last_eval: int = 0
    best_panel_score: float = float("-inf")
    rounds_at_best_panel_score: int = -1


class RoundStats:
    """Round results and learner metrics gathered between two log rows.

    Learner metrics named ``losses/...`` are averaged over the reports since the last row; the others
    (``charts/temperature``, ``charts/gradient_steps``...) are states or counters: the latest value is kept.
    """

    def __init__(self, charts: dict[str, str] | None = None) -> None:
        self.charts = dict(charts or {})  # the scorer's ``charts``: chart name -> round result key
        self.clear()

    def clear(self) -> None:
        self.rounds: list[dict[str, Any]] = []
        self.metric_sums: dict[str, float] = defaultdict(float)
        self.metric_counts: dict[str, int] = defaultdict(int)

    def add_metrics(self, prefix: str, metrics: dict[str, float]) -> None:
        """Add one ``learner.update()`` report; ``prefix`` (e.g. ``opponent``) renames ``losses/q`` to ``losses/opponent_q``."""
        for key, value in metrics.items():
            name = key if not prefix else f"{key.split('/', 1)[0]}/{prefix}_{key.split('/', 1)[-1]}"
            if name.startswith("losses/"):
                self.metric_sums[name] += value
                self.metric_counts[name] += 1
            else:
                self.metric_sums[name], self.metric_counts[name] = value, 1

    def summary(self, learner_side: str, other_side: str | None = None) -> dict[str, float]:
        """Means over the rounds and metric reports since the last call (``learner_side``: whose wins and kills
        count, ``red``; ``other_side``: the opponents', ``blue``); then forget them."""
        out: dict[str, float] = {}
        if self.rounds:
            out["charts/episodic_return"] = float(np.mean([r["return"] for r in self.rounds]))
            out["charts/episode_length"] = float(np.mean([r["length"] for r in self.rounds]))
            if "winner" in self.rounds[0]:
                other = other_side
                winners = [r["winner"] for r in self.rounds]
                out["charts/win_rate"] = winners.count(learner_side) / len(winners)
                out["charts/draw_rate"] = winners.count("draw") / len(winners)
                out["charts/kills"] = float(np.mean([r[f"{learner_side}_kills"] for r in self.rounds]))
                out["charts/opponent_kills"] = float(np.mean([r[f"{other}_kills"] for r in self.rounds]))
                out["charts/total_reward"] = float(np.mean([r[f"{learner_side}_total_reward"] for r in self.rounds]))
            for key in ("G_ratio", "G_ratio_last", "xi_late", "xi_final"):
                if key in self.rounds[0]:
                    out[f"charts/{key}"] = float(np.mean([r[key] for r in self.rounds]))
            for chart, key in self.charts.items():
                out[f"charts/{chart}"] = float(np.mean([r[key] for r in self.rounds]))
        for name, total in sorted(self.metric_sums.items()):
            out[name] = total / self.metric_counts[name]
        self.clear()
        return out


# == players: who acts for each group ===============================================================
class RunSetupError(ValueError):
    """A training run cannot start: bad environment or learner settings, a bad opponent SPEC, no checkpoint."""


@dataclass
class Players:
    """The acting policy of every group, and which of them learn or are saved in checkpoints.

    A side is one group (Battle's ``red``, every agent ``all``) or several (combined arms' ``redmelee`` and
    ``redranged``); every group of the learner side gets its own learner of the run's algorithm.

    Attributes:
        learner_side: the side of the run's learners: ``red`` for Battle and combined arms, ``tiger`` for tiger-deer,
            else ``all``.
        other_side: the opponents' side (``blue``, ``deer``), None without sides.
        learner_groups: the groups of that side, each with its own learner.
        policies: group -> the policy acting for it (learners explore).
        learners: group -> learner trained by this run (the learner side's, and the other side's with ``train:ALGO``).
        names: group -> checkpoint name (``learner`` / ``opponent``, or the group's name: ``checkpoint_names``).
        algos: checkpoint name -> algorithm, for every learner-backed policy.
        self_play: the other side's groups are frozen copies of the learners, refreshed when the learner side wins a round.
        frozen: self-play: frozen group -> the learner group it copies (group ``k`` of the other side copies group ``k``).
        pool: the other side's opponent pool (``--opponent pool:...``), None otherwise.
    """

    learner_side: str
    other_side: str | None
    learner_groups: tuple[str, ...]
    policies: dict[str, Policy]
    learners: dict[str, Any]
    names: dict[str, str]
    algos: dict[str, str]
    self_play: bool
    frozen: dict[str, str] = field(default_factory=dict)
    pool: OpponentPool | None = None

    @property
    def saved(self) -> dict[str, Any]:
        """Checkpoint name -> learner of every learner-backed policy (trained, frozen or loaded)."""
        return {self.names[g]: p.learner for g, p in self.policies.items() if isinstance(p, LearnerPolicy)}

    def refresh_frozen_copies(self) -> None:
        """Self-play: every frozen copy takes its learner's current parameters (all together)."""
        for frozen, group in self.frozen.items():
            self.policies[frozen].learner.load_state_dict(self.learners[group].state_dict())

    def metrics_prefix(self, group: str) -> str:
        """How a learner's metrics are named: ``losses/q`` for Battle's learner, ``losses/opponent_q`` for its
        opponent, ``losses/redmelee_q`` where learners are named by group."""
        return "" if self.names[group] == LEARNER else self.names[group]


GROUP_SEED_TAG = 0x47524F55
"""Mixed into the seeds of a side's second and later groups (``"GROU"`` in ASCII)."""


def group_seed(side_seed: int, position: int) -> int:
    """The seed of group ``position`` of a side seeded ``side_seed``: the side's own for its first group (so Battle's
    one-group sides keep their seeds), a mix of both for the others."""
    return side_seed if position == 0 else derived_seed(side_seed, GROUP_SEED_TAG, position)


def build_learner(algo: str, pipeline: VecPipeline, group: str, seed: int, device: str, overrides: dict[str, Any]) -> Any:
    """A registered learner for ``group`` of ``pipeline``, in the group's own spaces (and its view channels where
    the groups' spaces differ)."""
    from mfagents.algos import make_learner

    space = pipeline.group_spaces[group]
    if space.view_channels is not None:
        overrides = {**overrides, "view_channels": space.view_channels}
    return make_learner(algo, space.observation_space, space.n_actions, pipeline.group_sizes[group], seed, device, **overrides)


def setup_players(run: ResolvedRun, pipeline: VecPipeline) -> Players:
    """Build the learners and the opponents of ``run``: a learner per group of the first side; the other side's
    groups as ``run.opponent`` says (self-play copies, second learners, or a policy SPEC per group).

    Raises:
        RunSetupError: a bad learner setting (unknown config field, invalid value) or opponent SPEC, self-play
            between sides that do not mirror each other, or a pool against a side of several groups.
    """
    sides = list(pipeline.sides.items())
    learner_side, learner_groups = sides[0]
    other_groups = sides[1][1] if len(sides) > 1 else ()
    names = checkpoint_names(pipeline)
    try:
        learners = {
            group: build_learner(run.algo, pipeline, group, group_seed(run.seed, k), run.device, run.algo_kwargs)
            for k, group in enumerate(learner_groups)
        }
        players = Players(
            learner_side=learner_side,
            other_side=sides[1][0] if len(sides) > 1 else None,
            learner_groups=tuple(learner_groups),
            policies={group: LearnerPolicy(learner, explore=True) for group, learner in learners.items()},
            learners=dict(learners),
            names={group: names[group] for group in learner_groups},
            algos={names[group]: run.algo for group in learner_groups},
            self_play=run.opponent == SELF_PLAY,
        )
        if not other_groups:
            return players
        players.names.update({group: names[group] for group in other_groups})
        opponent_seed = derived_seed(run.seed, 1)
        if players.self_play:  # frozen copies that explore like the learners
            if not pipeline.mirrored_sides:
                raise RunSetupError(
                    f"--opponent self: {pipeline.entry.short_name}'s sides have different groups, so no side can play "
                    "a copy of the other; use --opponent train:ALGO or a policy SPEC (random)"
                )
            for k, (group, mirror) in enumerate(zip(other_groups, learner_groups, strict=True)):
                frozen = build_learner(run.algo, pipeline, group, group_seed(opponent_seed, k), run.device, run.algo_kwargs)
                frozen.load_state_dict(learners[mirror].state_dict())
                players.policies[group] = LearnerPolicy(frozen, explore=True, name="self-play copy")
                players.algos[names[group]] = run.algo
                players.frozen[group] = mirror
        elif run.opponent.startswith(POOL_PREFIX):
            if len(other_groups) != 1 or len(learner_groups) != 1:
                raise RunSetupError(
                    f"--opponent pool:...: opponent pools play sides of one group (battle), not {pipeline.entry.short_name}'s "
                    "sides of several groups; use self, train:ALGO or a policy SPEC"
                )
            if SNAPSHOT_MEMBER in parse_pool(run.opponent) and not pipeline.mirrored_sides:
                raise RunSetupError(
                    f"--opponent {run.opponent}: {SNAPSHOT_MEMBER} (snapshots of the learner) cannot play "
                    f"{pipeline.entry.short_name}'s {other_groups[0]}, a group unlike the learner's {learner_groups[0]}; "
                    "pool policy SPECs only (random, run directories)"
                )
            players.pool = build_pool(run, pipeline, other_groups[0], opponent_seed, learners[learner_groups[0]])
            players.policies[other_groups[0]] = players.pool
        elif run.opponent.startswith(TRAIN_PREFIX):
            second_algo = run.opponent[len(TRAIN_PREFIX) :]
            for k, group in enumerate(other_groups):
                second = build_learner(second_algo, pipeline, group, group_seed(opponent_seed, k), run.device, run.opponent_algo_kwargs)
                players.learners[group] = second
                players.policies[group] = LearnerPolicy(second, explore=True)
                players.algos[names[group]] = second_algo
        else:
            for k, group in enumerate(other_groups):
                opponent = load_policy(run.opponent, pipeline, group, group_seed(opponent_seed, k), run.device)
                players.policies[group] = opponent
                if isinstance(opponent, LearnerPolicy):
                    players.algos[names[group]] = opponent.learner.name
        return players
    except CheckpointError:
        raise
    except RunSetupError:
        raise
    except (ValueError, TypeError) as error:
        raise RunSetupError(str(error)) from error


def build_pool(run: ResolvedRun, pipeline: VecPipeline, group: str, seed: int, learner: Any) -> OpponentPool:
    """The opponent pool of ``run.opponent``: its fixed members loaded, snapshots copied from ``learner``."""
    probabilities = parse_pool(run.opponent)
    fixed = {
        member: load_policy(member, pipeline, group, derived_seed(seed, index), run.device)
        for index, member in enumerate(probabilities)
        if member != SNAPSHOT_MEMBER
    }

    def snapshot() -> LearnerPolicy:
        copy = build_learner(run.algo, pipeline, group, seed, run.device, run.algo_kwargs)
        copy.load_state_dict(learner.state_dict())
        return LearnerPolicy(copy, explore=True, name="snapshot")

    return OpponentPool(probabilities, fixed, snapshot, pipeline.n_envs, pipeline.agents_per_env, np.random.default_rng(seed))


def resident_mib() -> float:
    """This process's resident memory now, in MiB (Linux ``/proc/self/statm``; NaN where it cannot be read):
    a healthy run's stays flat once the replay buffer is full."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def derived_seed(*values: int) -> int:
    """A 32-bit seed mixed from integers (seeds of the opponent, of a resumed environment...)."""
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(1)[0])


# == checkpoints =====================================================================================
def checkpoint_metadata(run: ResolvedRun, players: Players, pipeline: VecPipeline, counters: Counters) -> dict[str, Any]:
    """JSON metadata of a checkpoint: the run, every saved learner, the counters and the RNG states."""
    learners = {}
    for group, policy in players.policies.items():
        if isinstance(policy, LearnerPolicy):
            name = players.names[group]
            learners[name] = {
                "algo": players.algos[name],
                "config": policy.learner.config_dict(),
                "group": group,
                "n_agents": pipeline.group_sizes[group],
                "observation_shape": list(pipeline.group_spaces[group].observation_space.shape),
            }
    rng = {players.names[g]: p.rng.bit_generator.state for g, p in players.policies.items() if hasattr(p, "rng")}
    return {"run": run.to_json(), "learners": learners, "counters": asdict(counters), "rng": rng}


def write_checkpoint(path: Path, run: ResolvedRun, players: Players, pipeline: VecPipeline, counters: Counters) -> None:
    """Save every learner's state, the counters and the RNG states to ``path`` (atomically)."""
    tensors = {f"{name}/{key}": value for name, learner in players.saved.items() for key, value in learner.state_dict().items()}
    save_checkpoint(path, tensors, checkpoint_metadata(run, players, pipeline, counters))


def restore_checkpoint(path: Path, run: ResolvedRun, players: Players) -> Counters:
    """Load the learners and RNG states saved at ``path``; return the saved counters.

    Raises:
        CheckpointError: a damaged file, or a learner that does not load (the message names the file).
        RunSetupError: the checkpoint belongs to a run with other settings.
    """
    tensors, metadata = load_checkpoint(path)
    saved_run = metadata.get("run", {})
    for key in RESUME_KEYS:
        if saved_run.get(key) != run.to_json()[key]:
            raise RunSetupError(
                f"--resume: {path} was written by a run with {key}={saved_run.get(key)!r}, not {run.to_json()[key]!r}; "
                "resume with the options the run was started with (only --steps / --rounds may change)"
            )
    for name, learner in players.saved.items():
        prefix = f"{name}/"
        try:
            learner.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        except (KeyError, ValueError, RuntimeError) as error:
            raise CheckpointError(f"{path}: learner {name!r} does not load: {error}") from None
    for group, policy in players.policies.items():
        state = metadata["rng"].get(players.names[group])
        if state is not None and hasattr(policy, "rng"):
            policy.rng.bit_generator.state = state
    return Counters(**metadata["counters"])


# == evaluation while training =======================================================================
class Evaluator(Protocol):
    """What the loop calls every ``run.eval_every`` rounds: ``mfagents.evaluation.panel.EvalPanel`` (a floor above)."""

    def __call__(self, learners: dict[str, Any]) -> dict[str, float]:
        """Evaluate the learner side's current policies (group -> learner; without changing them); metrics named ``eval/...``."""
        ...

    def close(self) -> None: ...


def eval_due(run: ResolvedRun, counters: Counters, fraction: float) -> bool:
    """An evaluation is due: a multiple of ``eval_every`` rounds was passed since the last one (the schedule
    counts from round 0, so a resumed run keeps it), or training has ended since the last one."""
    if not run.eval_every:
        return False
    passed = counters.rounds // run.eval_every > counters.rounds_at_last_eval // run.eval_every
    return passed or (fraction >= 1.0 and counters.global_step > counters.global_step_at_last_eval)


def panel_score(metrics: dict[str, float]) -> float:
    """One number per evaluation, to keep the best checkpoint: the mean win rate over the panel's opponents, ties
    broken by the mean kill margin (kills - opponent kills, weighted 1e-6: a tie-breaker, below one round's win
    for panels of up to ~1000 rounds of teams up to ~500)."""
    results = panel_results(metrics, 0)
    wins = [r["win_rate"] for r in results.values()]
    margins = [r["kills"] - r["opponent_kills"] for r in results.values()]
    return float(np.mean(wins) + 1e-6 * np.mean(margins))


def panel_results(metrics: dict[str, float], rounds_per_opponent: int) -> dict[str, dict[str, float]]:
    """``{"eval/scripted/win_rate": ...}`` -> ``{"scripted": {"win_rate": ..., "rounds": 10}}`` for the summary."""
    results: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if key.startswith("eval/") and key.count("/") == 2:
            _, name, field = key.split("/")
            results.setdefault(name, {"rounds": rounds_per_opponent})[field] = value
    return results


# == the loop ========================================================================================
def train(run: ResolvedRun, resume: bool = False, evaluator: Evaluator | None = None) -> dict[str, Any]:
    """Train as ``run`` says; return the JSON summary (also printed last by ``mfzoo train``).

    torch runs on ``run.torch_threads`` CPU threads during training (restored afterwards).

    Args:
        run: a resolved run (``mfagents.training.config.resolve``).
        resume: continue from ``run.out``'s checkpoint instead of starting afresh.
        evaluator: the run's evaluation panel, needed when ``run.eval_every`` > 0 (``mfagents.api.train``
            builds it); it is closed when training ends.

    Raises:
        RunSetupError: bad learner or opponent settings, ``resume`` without ``out``, a checkpoint of a run
            with other settings, or ``run.eval_every`` without an ``evaluator``.
        CheckpointError: a missing or damaged checkpoint when resuming.
    """
    if run.eval_every and evaluator is None:
        raise RunSetupError(f"the run evaluates every {run.eval_every} rounds but no evaluator was given: train through mfagents.api.train")
    try:
        with torch_threads(run.torch_threads):
            return _train(run, resume, evaluator)
    finally:
        if evaluator is not None:
            evaluator.close()


@contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run the block with torch limited to ``n_threads`` CPU threads, then restore the previous count.

    These networks are small: on a 2-core machine with other work, torch's thread pool made each call
    5-50x slower than one thread.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _train(run: ResolvedRun, resume: bool, evaluator: Evaluator | None) -> dict[str, Any]:
    if resume and run.out is None:
        raise RunSetupError("--resume needs --out, the run directory to continue")
    out = None if run.out is None else Path(run.out)
    if out is not None and out.exists() and not out.is_dir():
        raise RunSetupError(f"--out {out} is a file, not a run directory; choose a directory (it is created if missing)")
    # bad arguments first (the user can fix them at once), then the state of the run directory
    try:
        pipeline = VecPipeline(run.env_id, run.env_kwargs, run.n_envs)
    except (ValueError, TypeError) as error:
        raise RunSetupError(str(error)) from error
    try:
        players = setup_players(run, pipeline)
    except BaseException:
        pipeline.close()
        raise
    if not resume and out is not None and (out / CHECKPOINT_NAME).exists():
        pipeline.close()
        raise RunSetupError(f"{out} already holds a run ({CHECKPOINT_NAME}); continue it with --resume or choose another --out")
    learner_side = players.learner_side
    counters = Counters()
    if resume:
        counters = restore_checkpoint(out / CHECKPOINT_NAME, run, players)
        if players.pool is not None:
            players.pool.restart_snapshots()  # snapshots are not saved: start again from the resumed learner
        env_seed = derived_seed(run.seed, counters.global_step)  # episodes in flight were lost: start new ones
        if progress_fraction(counters, run) >= 1.0:  # nothing to do: leave the run's files as they are
            pipeline.close()
            return {**run_summary(run, counters, resume, 0.0, 0), "budget_met": True}
        (out / CONFIG_NAME).write_text(json.dumps(run.to_json(), indent=2) + "\n")  # the new budget, for the next --resume
    else:
        env_seed = run.seed
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / CONFIG_NAME).write_text(json.dumps(run.to_json(), indent=2) + "\n")
    budget_unit, budget = ("rounds", run.rounds) if run.rounds is not None else ("steps", run.steps)
    try:
        logger = RunLogger(
            out,
            total=budget,
            unit=budget_unit,
            keep_rows=counters.csv_rows if resume else None,
            purge_step=counters.global_step if resume else None,
            tensorboard=run.tensorboard,
            progress_bar=run.progress_bar,
        )
    except (OSError, ValueError) as error:  # resuming without the run's metrics.csv, or a shorter one
        raise RunSetupError(f"cannot continue the log: {error}") from error

    scorer = make_scorer(pipeline)
    stats = RoundStats(scorer.charts)
    returns = np.zeros(pipeline.n_rows, dtype=np.float64)
    lengths = np.zeros(pipeline.n_envs, dtype=np.int64)
    learner_rows = np.sort(np.concatenate([pipeline.groups[group] for group in players.learner_groups]))
    rows_per_copy = pipeline.agents_per_env
    last_metrics: dict[str, float] = {}
    last_eval: dict[str, float] = {}
    eval_seconds = log_eval_seconds = 0.0  # time spent evaluating, left out of the training rates
    start_time = log_time = time.perf_counter()
    start_agent_steps = log_agent_steps = counters.agent_steps

    step = pipeline.reset(seed=env_seed)
    fraction = progress_fraction(counters, run)
    while fraction < 1.0:
        # -- collect ---------------------------------------------------------------------------------
        for learner in players.learners.values():
            learner.set_progress(fraction)
        for group in players.frozen:
            players.policies[group].learner.set_progress(fraction)
        if players.pool is not None:
            players.pool.set_progress(fraction)
        inputs = {group: pipeline.group_inputs(step, group) for group in pipeline.groups}  # each in its own spaces
        actions = np.empty(pipeline.n_rows, dtype=np.int64)
        for group, rows in pipeline.groups.items():
            context = GroupContext(pipeline, group, rows, step.alive[rows])
            actions[rows] = players.policies[group](*inputs[group], context)
        next_step = pipeline.step(actions)
        for group, policy in players.policies.items():  # learners that act but do not observe (frozen copies)
            if group not in players.learners and isinstance(policy, (LearnerPolicy, OpponentPool)):
                (policy if isinstance(policy, OpponentPool) else policy.learner).end_episodes(next_step.dones[pipeline.groups[group]])
        for group, learner in players.learners.items():
            rows = pipeline.groups[group]
            observations, mean_actions = inputs[group]
            learner.observe(
                observations,
                actions[rows],
                mean_actions,
                next_step.rewards[rows],
                next_step.dones[rows],
                step.alive[rows],
            )
        counters.global_step += pipeline.n_envs
        counters.agent_steps += pipeline.n_rows
        returns += next_step.rewards
        lengths += 1
        scorer.on_step(actions, next_step)

        # rounds that ended this step (their copies were reset by SuperSuit); with a budget in rounds, rounds
        # that several copies finish at once beyond the budget are not counted (the budget is exact)
        won = lost = 0
        for copy in np.flatnonzero(next_step.finished):
            result = scorer.on_finish(copy, next_step)
            copy_rows = learner_rows[learner_rows // rows_per_copy == copy]
            result.update({"return": float(returns[copy_rows].mean()), "length": int(lengths[copy])})
            returns[copy * rows_per_copy : (copy + 1) * rows_per_copy] = 0.0
            lengths[copy] = 0
            if players.pool is not None:
                players.pool.round_finished(copy)
            if run.rounds is not None and counters.rounds >= run.rounds:
                continue
            stats.rounds.append(result)
            counters.rounds += 1
            won += result.get("winner") == learner_side
            lost += result.get("winner") not in (learner_side, "draw", None)
        if players.self_play and won > lost:  # the paper's self-play: the opponent catches up when beaten
            players.refresh_frozen_copies()
            counters.opponent_refreshes += 1
        step = next_step
        fraction = progress_fraction(counters, run)

        # -- learn ------------------------------------------------------------------------------------
        for group, learner in players.learners.items():
            stats.add_metrics(players.metrics_prefix(group), learner.update())

        # -- evaluate ---------------------------------------------------------------------------------
        eval_metrics: dict[str, float] = {}
        if evaluator is not None and eval_due(run, counters, fraction):
            eval_start = time.perf_counter()
            eval_metrics = evaluator({group: players.learners[group] for group in players.learner_groups})
            eval_metrics["perf/eval_time_s"] = time.perf_counter() - eval_start
            eval_seconds += eval_metrics["perf/eval_time_s"]
            counters.rounds_at_last_eval, counters.global_step_at_last_eval = counters.rounds, counters.global_step
            last_eval = eval_metrics
            score = panel_score(eval_metrics)
            if out is not None and score > counters.best_panel_score:  # SB3 EvalCallback's best model
                counters.best_panel_score, counters.rounds_at_best_panel_score = score, counters.rounds
                write_checkpoint(out / BEST_CHECKPOINT_NAME, run, players, pipeline, counters)

        # -- log --------------------------------------------------------------------------------------
        log_due = counters.rounds - counters.rounds_at_last_log >= run.log_every_rounds
        if (stats.rounds and (log_due or fraction >= 1.0)) or eval_metrics:
            now = time.perf_counter()
            metrics = stats.summary(learner_side, players.other_side)
            if players.self_play:
                metrics["charts/opponent_refreshes"] = float(counters.opponent_refreshes)
            if players.pool is not None:
                metrics.update(players.pool.metrics())
            training_seconds = now - log_time - (eval_seconds - log_eval_seconds)
            metrics["perf/agent_steps_per_s"] = (counters.agent_steps - log_agent_steps) / max(training_seconds, 1e-9)
            metrics["perf/wall_time_s"] = now - start_time
            metrics["perf/resident_mib"] = resident_mib()
            metrics.update(eval_metrics)
            logger.log(counters.global_step, counters.rounds, counters.agent_steps, metrics)
            counters.csv_rows, counters.rounds_at_last_log = logger.rows_written, counters.rounds
            log_time, log_agent_steps, log_eval_seconds, last_metrics = now, counters.agent_steps, eval_seconds, metrics
        logger.progress(counters.rounds if budget_unit == "rounds" else counters.global_step, progress_postfix(counters, last_metrics, last_eval))

        # -- checkpoint -------------------------------------------------------------------------------
        if out is not None and counters.rounds - counters.rounds_at_last_checkpoint >= run.checkpoint_every_rounds:
            counters.rounds_at_last_checkpoint = counters.rounds
            write_checkpoint(out / CHECKPOINT_NAME, run, players, pipeline, counters)
            logger.flush()

    if out is not None:
        counters.rounds_at_last_checkpoint = counters.rounds
        write_checkpoint(out / CHECKPOINT_NAME, run, players, pipeline, counters)
    logger.close()
    pipeline.close()
    elapsed = time.perf_counter() - start_time
    summary = run_summary(run, counters, resume, elapsed, counters.agent_steps - start_agent_steps, eval_seconds)
    summary.update({key.split("/", 1)[1]: value for key, value in last_metrics.items() if key.startswith("charts/")})
    if last_eval:  # the panel at the end of training (an evaluation is always due then)
        summary["eval"] = panel_results(last_eval, run.eval_rounds)
    if out is not None and counters.rounds_at_best_panel_score >= 0:
        summary["best"] = {
            "checkpoint": str(out / BEST_CHECKPOINT_NAME),
            "rounds": counters.rounds_at_best_panel_score,
            "panel_score": counters.best_panel_score,
        }
    return summary


def run_summary(run: ResolvedRun, counters: Counters, resume: bool, elapsed: float, agent_steps: int, eval_seconds: float = 0.0) -> dict[str, Any]:
    """The JSON summary of a training run (``agent_steps``: those stepped by this process in ``elapsed`` s, of which
    ``eval_seconds`` were spent evaluating: ``agent_steps_per_s`` is the training rate, evaluation left out)."""
    return {
        "command": "train",
        "env": run.env_id,
        "algo": run.algo,
        "opponent": run.opponent,
        "seed": run.seed,
        "out": run.out,
        "rounds": counters.rounds,
        "global_step": counters.global_step,
        "agent_steps": counters.agent_steps,
        "wall_time_s": elapsed,
        "eval_time_s": eval_seconds,
        "agent_steps_per_s": agent_steps / max(elapsed - eval_seconds, 1e-9),
        "checkpoint": None if run.out is None else str(Path(run.out) / CHECKPOINT_NAME),
        "resumed": resume,
    }


def progress_fraction(counters: Counters, run: ResolvedRun) -> float:
    """Share of the budget spent (0..1): finished rounds or environment steps."""
    if run.rounds is not None:
        return min(1.0, counters.rounds / run.rounds)
    return min(1.0, counters.global_step / run.steps)


def progress_postfix(counters: Counters, metrics: dict[str, float], eval_metrics: dict[str, float] | None = None) -> dict[str, Any]:
    """What the progress bar shows next to the count: rounds, agent-steps/s, return, win rate, G / G*, xi, and the
    latest evaluation's win rate against each panel opponent (``scripted win``)."""
    postfix: dict[str, Any] = {"rounds": counters.rounds, "agent-steps/s": metrics.get("perf/agent_steps_per_s", 0.0)}
    for key, label in (("charts/episodic_return", "return"), ("charts/win_rate", "win"), ("charts/G_ratio", "G/G*"), ("charts/xi_late", "xi")):
        if key in metrics:
            postfix[label] = metrics[key]
    for name, result in panel_results(eval_metrics or {}, 0).items():
        postfix[f"{name} win"] = result["win_rate"]
    return postfix
