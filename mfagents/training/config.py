"""``RunConfig`` (what a training run is asked to do), resolved against the table of defaults.

``RunConfig`` mirrors ``mfzoo train``'s options; fields left ``None`` take the defaults of
``TRAINING_DEFAULTS`` (``mfagents.training.defaults``, also reachable here) for the environment (and algorithm). ``resolve`` turns it into a
``ResolvedRun`` where every value is explicit; that is what ``config.json`` in the run directory holds.

Example:
    >>> run = resolve(RunConfig(env="gaussian_squeeze", algo="mfq", rounds=3))
    >>> run.env_id, run.rounds, run.steps
    ('mfenvs/gaussian_squeeze-v0', 3, None)
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mfagents.common.pipeline import training_env_kwargs
from mfagents.training.defaults import (  # noqa: F401  (the tables stay reachable at their documented path)
    ALGO_ENVIRONMENTS,
    BATTLE_ACTOR_CRITIC,
    BATTLE_Q_LEARNING,
    DEFAULT_ALGO,
    PRESETS,
    SELF_PLAY,
    SQUEEZE_ACTOR_CRITIC,
    SQUEEZE_Q_LEARNING,
    TRAIN_PREFIX,
    TRAINING_DEFAULTS,
    EnvDefaults,
    algo_defaults,
)
from mfagents.training.opponent_pool import POOL_PREFIX, SNAPSHOT_MEMBER, parse_pool
from mfagents.training.run_settings import (
    CONFIG_NAME,
    OBSERVATION_KWARGS,
    check_env_kwargs,
    env_arguments,
    same_value,
    spec_env_kwargs,
)
from mfenvs.registration import find

SEED_LIMIT = 2**32
"""Run seeds are below this. With reset seeds ``seed + copy`` and ``derived_seed(...) + copy`` (< 2**32 + n_envs),
every training reset seed stays below 2**33, where ``mfagents.evaluation.panel``'s evaluation seeds start."""


@dataclass(frozen=True)
class RunConfig:
    """A training run as the command line or ``mfagents.train`` asks for it (``None`` = default)."""

    env: str
    """Registered id or short name (``battle``, ``ising``, ``gaussian_squeeze``)."""
    algo: str | None = None
    """Learner of the (first) group: a key of ``mfagents.algos.ALGORITHMS`` (None: ``DEFAULT_ALGO``, or the
    resumed run's)."""
    preset: str | None = None
    """Which table of ``PRESETS`` fills the defaults (``paper``: the paper's Battle budget; None: ``default``,
    or the resumed run's)."""
    seed: int | None = None
    """Seeds the learners, the opponents and the environment copies (None: 0, or the resumed run's)."""
    out: str | None = None
    """Run directory (config, CSV, TensorBoard events, checkpoints); None writes nothing to disk."""
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Environment arguments on top of the defaults."""
    algo_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Learner config overrides on top of the defaults (fields of ``MFQConfig``...); a second learner
    (``opponent="train:ALGO"``) gets them too, so both sides of a comparison share hyper-parameters."""
    opponent: str | None = None
    """Battle's blue team: ``self`` (self-play), ``train:ALGO`` (a second learner) or a policy SPEC."""
    steps: int | None = None
    """Budget in environment steps summed over copies (exclusive with ``rounds``)."""
    rounds: int | None = None
    """Budget in finished rounds (episodes) summed over copies (exclusive with ``steps``)."""
    n_envs: int | None = None
    """Environment copies stepped together."""
    device: str = "cpu"
    """Torch device of the learners (checked by ``resolve``: ``mfagents.common.device.check_device``)."""
    torch_threads: int = 1
    """CPU threads torch may use while training. One is fastest for these small networks, and on a
    busy 2-core machine more threads spin against each other (20x slower gradient steps measured)."""
    log_every_rounds: int | None = None
    """A CSV / TensorBoard row every this many rounds."""
    checkpoint_every_rounds: int | None = None
    """A checkpoint every this many rounds (and at the end); needs ``out``."""
    eval_every: int | None = None
    """Play the learner greedily against ``eval_panel`` every this many finished rounds and at the end (0: off)."""
    eval_panel: Sequence[str] | None = None
    """Policy SPECs of the evaluation panel (e.g. ``("random", "scripted")``)."""
    eval_rounds: int | None = None
    """Evaluation rounds per panel opponent."""
    resume: bool = False
    """Continue the run in ``out`` from its last checkpoint; settings left ``None`` (and the env kwargs, when
    none are given) are read from the run's ``config.json`` (``resume_config``)."""
    progress_bar: bool = True
    """Show a tqdm progress bar on stderr."""
    tensorboard: bool = True
    """Write TensorBoard events under ``out/tb``."""


@dataclass(frozen=True)
class ResolvedRun:
    """A ``RunConfig`` with every default filled in; ``config.json`` stores ``to_json()``."""

    env_id: str
    short_name: str
    algo: str
    preset: str
    seed: int
    out: str | None
    env_kwargs: dict[str, Any]
    algo_kwargs: dict[str, Any]
    opponent: str | None
    opponent_algo_kwargs: dict[str, Any]
    steps: int | None
    rounds: int | None
    n_envs: int
    device: str
    torch_threads: int
    log_every_rounds: int
    checkpoint_every_rounds: int
    progress_bar: bool
    tensorboard: bool
    eval_every: int = 0
    eval_panel: tuple[str, ...] = ()
    eval_rounds: int = 10

    def to_json(self) -> dict[str, Any]:
        """The run as JSON-able values."""
        return dataclasses.asdict(self)


def _check_positive(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def resolve(config: RunConfig) -> ResolvedRun:
    """Fill every ``None`` of ``config`` from ``TRAINING_DEFAULTS`` and check the values.

    With ``config.resume``, what is left ``None`` is first read from the run's ``config.json``.

    Raises:
        ValueError: unknown environment or algorithm, an algorithm that does not serve the environment,
            an environment argument the environment does not take (or the pipeline cannot use), both or a
            non-positive budget, a step budget that is not a multiple of ``n_envs``, an opponent on an
            environment without teams, a device torch cannot use here, or (resuming) a setting that
            disagrees with the run's.
    """
    from mfagents.algos import ALGORITHMS
    from mfagents.common.device import check_device

    entry = find(config.env)
    config = resume_config(config)
    algo = config.algo if config.algo is not None else DEFAULT_ALGO
    config = dataclasses.replace(
        config, algo=algo, seed=config.seed if config.seed is not None else 0, preset=config.preset or "default"
    )
    if config.algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {config.algo!r}; expected one of {sorted(ALGORITHMS)}")
    served = ALGO_ENVIRONMENTS.get(config.algo)
    if served is not None and entry.short_name not in served:
        raise ValueError(
            f"--algo {config.algo} serves {', '.join(served)} only, not {entry.short_name}; "
            f"for {entry.short_name} use one of {', '.join(a for a in sorted(ALGORITHMS) if a not in ALGO_ENVIRONMENTS)}"
        )
    check_env_kwargs(entry, config.env_kwargs)
    check_device(config.device)
    if config.steps is not None and config.rounds is not None:
        raise ValueError("give a budget in steps or in rounds, not both")
    for name in ("steps", "rounds", "n_envs", "torch_threads", "log_every_rounds", "checkpoint_every_rounds"):
        _check_positive(name, getattr(config, name))
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or not 0 <= config.seed < SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {config.seed!r}")
    if config.preset not in PRESETS:
        raise ValueError(f"unknown preset {config.preset!r}; expected one of {sorted(PRESETS)}")
    defaults = PRESETS[config.preset].get(entry.short_name, EnvDefaults(rounds=100))
    steps, rounds = config.steps, config.rounds
    if steps is None and rounds is None:
        steps, rounds = defaults.steps, defaults.rounds
        if steps is None and rounds is None:
            rounds = 100

    n_envs = config.n_envs if config.n_envs is not None else defaults.n_envs
    if steps is not None and steps % n_envs:
        lower, upper = steps - steps % n_envs, steps - steps % n_envs + n_envs
        raise ValueError(
            f"--steps {steps} is not a multiple of --n-envs {n_envs} (every step steps all {n_envs} copies): "
            f"use --steps {lower or upper}{f' or {upper}' if lower else ''}"
        )

    opponent = config.opponent if config.opponent is not None else defaults.default_opponent
    opponent_algo_kwargs: dict[str, Any] = {}
    if opponent is not None:
        if defaults.default_opponent is None:
            raise ValueError(f"--opponent: {entry.short_name} has no teams; opponents exist for team games (battle)")
        if opponent.startswith(TRAIN_PREFIX):
            second = opponent[len(TRAIN_PREFIX) :]
            if second not in ALGORITHMS:
                raise ValueError(f"--opponent {opponent!r}: unknown algorithm {second!r}; expected one of {sorted(ALGORITHMS)}")
            opponent_algo_kwargs = {**algo_defaults(defaults, second), **config.algo_kwargs}

    env_kwargs = training_env_kwargs(entry, {**defaults.env_kwargs, **config.env_kwargs})
    if opponent is not None and opponent.startswith(POOL_PREFIX):
        for member in parse_pool(opponent):
            if member.startswith((TRAIN_PREFIX, POOL_PREFIX)):
                raise ValueError(f"--opponent {opponent!r}: {member!r} cannot be a pool member (self, or a policy SPEC)")
            if member != SNAPSHOT_MEMBER:
                check_opponent_observations(entry, member, env_kwargs)
    elif opponent is not None and opponent != SELF_PLAY and not opponent.startswith(TRAIN_PREFIX):
        check_opponent_observations(entry, opponent, env_kwargs)

    eval_every, eval_panel, eval_rounds = resolve_eval_panel(config, defaults, entry, env_kwargs)

    return ResolvedRun(
        env_id=entry.env_id,
        short_name=entry.short_name,
        algo=config.algo,
        preset=config.preset,
        seed=config.seed,
        out=None if config.out is None else str(config.out),
        env_kwargs=env_kwargs,
        algo_kwargs={**algo_defaults(defaults, config.algo), **config.algo_kwargs},
        opponent=opponent,
        opponent_algo_kwargs=opponent_algo_kwargs,
        steps=steps,
        rounds=rounds,
        n_envs=n_envs,
        device=config.device,
        torch_threads=config.torch_threads,
        log_every_rounds=config.log_every_rounds or defaults.log_every_rounds,
        checkpoint_every_rounds=config.checkpoint_every_rounds or defaults.checkpoint_every_rounds,
        progress_bar=config.progress_bar,
        tensorboard=config.tensorboard,
        eval_every=eval_every,
        eval_panel=eval_panel,
        eval_rounds=eval_rounds,
    )


def resolve_eval_panel(config: RunConfig, defaults: EnvDefaults, entry: Any, env_kwargs: Mapping[str, Any]) -> tuple[int, tuple[str, ...], int]:
    """``(eval_every, eval_panel, eval_rounds)`` of ``config`` over the defaults, checked without loading a policy.

    Loading the SPECs (a run directory, ``zoo:``...) is ``mfagents.evaluation.panel``'s work, also before training starts.
    """
    eval_every = config.eval_every if config.eval_every is not None else defaults.eval_every_rounds
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 0:
        raise ValueError(f"--eval-every must be a non-negative integer (0: no evaluation), got {eval_every!r}")
    eval_rounds = config.eval_rounds if config.eval_rounds is not None else defaults.eval_rounds
    _check_positive("--eval-rounds", eval_rounds)
    panel = tuple(config.eval_panel) if config.eval_panel is not None else tuple(defaults.eval_panel)
    if defaults.default_opponent is None:  # no teams: nothing to play against
        if (config.eval_every or 0) > 0 or config.eval_panel:
            raise ValueError(
                f"--eval-every / --eval-panel: {entry.short_name} has no teams; the evaluation panel plays the "
                "learner against opponents in team games (battle)"
            )
        return 0, (), eval_rounds
    if eval_every and not panel:
        raise ValueError("--eval-panel is empty: give at least one policy SPEC (e.g. random,scripted) or --eval-every 0")
    for spec in panel:
        if not isinstance(spec, str) or not spec.strip():
            raise ValueError(f"--eval-panel: a policy SPEC must be a non-empty string, got {spec!r}")
        if spec == SELF_PLAY or spec.startswith((TRAIN_PREFIX, POOL_PREFIX)):
            raise ValueError(f"--eval-panel: {spec!r} is a training opponent mode, not a policy SPEC (e.g. random, scripted, zoo:il, a run directory)")
        check_opponent_observations(entry, spec, env_kwargs, option="--eval-panel")
    return eval_every, panel, eval_rounds


def check_opponent_observations(entry: Any, opponent: str, env_kwargs: Mapping[str, Any], option: str = "--opponent") -> None:
    """Raise ``ValueError`` naming the exact ``--env-kwarg`` when a policy SPEC opponent (an ``sb3:`` model
    trained without Battle's extra features...) was trained on observations of another shape than the run's."""
    needed = spec_env_kwargs(opponent, entry) or {}
    arguments = env_arguments(entry)
    for key in OBSERVATION_KWARGS.get(entry.short_name, ()):
        value = env_kwargs.get(key, arguments.get(key))
        if key in needed and not same_value(needed[key], value):
            raise ValueError(
                f"{option} {opponent} was trained with {key}={needed[key]!r}, this run has {key}={value!r}: "
                f"add --env-kwarg {key}={needed[key]!r}"
            )


def parse_key_values(pairs: Sequence[str], what: str = "--env-kwarg") -> dict[str, Any]:
    """``["map_size=40", "mean_action_radius=None"]`` -> ``{"map_size": 40, "mean_action_radius": None}``.

    Values are Python literals (numbers, ``True``/``False``/``None``, strings, lists, tuples, dicts);
    anything else is kept as a string, so ``dead_agents=absorb`` needs no quotes.

    Raises:
        ValueError: a pair without ``=`` or with an empty key, or a key given twice.
    """
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ValueError(f"{what} expects KEY=VALUE, got {pair!r}")
        if key in parsed:
            raise ValueError(f"{what}: {key!r} given twice")
        try:
            parsed[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed[key] = text
    return parsed


# == train --resume ==================================================================================
RESUMED_FIELDS = ("algo", "seed", "preset", "opponent", "n_envs")
"""``RunConfig`` fields a resumed run takes from ``config.json`` when left out, and that must agree when given."""
RESUMED_CADENCES = ("log_every_rounds", "checkpoint_every_rounds", "eval_every", "eval_panel", "eval_rounds")
"""Fields taken from ``config.json`` when left out, that may change when given."""


def resume_config(config: RunConfig) -> RunConfig:
    """``config`` with what the user left out taken from the run's ``config.json`` (``train --resume``).

    Without ``out`` or ``config.json`` the config is returned as is (training then reports the missing
    checkpoint). The budget is the run's unless ``steps`` or ``rounds`` is given.

    Raises:
        ValueError: an explicit setting that disagrees with the run's (both values named).
    """
    if not config.resume or config.out is None:
        return config
    path = Path(config.out) / CONFIG_NAME
    if not path.is_file():
        return config
    try:
        saved = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--resume: cannot read {path}: {error}") from None
    entry = find(config.env)

    def disagree(given: str, stored: str) -> ValueError:
        return ValueError(
            f"--resume: {given} disagrees with the run in {config.out}, started with {stored}; "
            "leave the option out (--resume reads the run's config.json) or choose another --out"
        )

    if saved.get("env_id") != entry.env_id:
        raise disagree(f"the environment {entry.env_id}", str(saved.get("env_id")))
    changes: dict[str, Any] = {}
    for name in RESUMED_FIELDS:
        given = getattr(config, name)
        if given is None:
            changes[name] = saved.get(name)
        elif name in saved and not same_value(given, saved[name]):
            raise disagree(f"--{name.replace('_', '-')} {given}", f"{saved[name]}")
    for name in RESUMED_CADENCES:
        if getattr(config, name) is None:
            changes[name] = saved.get(name)
    if config.steps is None and config.rounds is None:
        changes["steps"], changes["rounds"] = saved.get("steps"), saved.get("rounds")

    stored_env = saved.get("env_kwargs") or {}
    check_env_kwargs(entry, config.env_kwargs)
    arguments = env_arguments(entry)
    for key, value in config.env_kwargs.items():
        stored = stored_env.get(key, arguments.get(key))
        if not same_value(value, stored):
            raise disagree(f"--env-kwarg {key}={value!r}", f"{key}={stored!r}")
    changes["env_kwargs"] = stored_env

    # config.json holds the resolved learner settings; the overrides are what differs from the defaults
    algo, preset = changes.get("algo", config.algo), changes.get("preset", config.preset) or "default"
    defaults = algo_defaults(PRESETS.get(preset, PRESETS["default"]).get(entry.short_name, _no_defaults()), algo)
    stored_algo = saved.get("algo_kwargs") or {}
    for key, value in config.algo_kwargs.items():
        if key in stored_algo and not same_value(value, stored_algo[key]):
            raise disagree(f"--algo-kwarg {key}={value!r}", f"{key}={stored_algo[key]!r}")
    changes["algo_kwargs"] = {
        **{key: value for key, value in stored_algo.items() if key not in defaults or not same_value(value, defaults[key])},
        **config.algo_kwargs,
    }
    return dataclasses.replace(config, **changes)


def _no_defaults() -> EnvDefaults:
    return EnvDefaults()
