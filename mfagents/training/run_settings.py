"""Environment settings that commands read instead of asking the user to retype them (issue 14).

A trained policy only plays the environment it was trained on: a run directory remembers its settings
in ``config.json`` (and its checkpoint), a shipped ``zoo:`` policy and an ``sb3:`` model know their
observation shape. The commands that play policies (``eval``, ``arena``, ``watch``) and ``train --resume``
read those settings, so nothing has to be retyped:

* ``merge_env_kwargs``: the environment arguments of a game between policy SPECs: the training
  defaults, then what each SPEC needs (a run's ``env_kwargs``; for a model that knows only its
  observation shape, Battle's ``minimap_mode`` / ``extra_features`` that give that shape), then the
  explicit ``--env-kwarg`` values. An explicit value that disagrees with a run's is an error naming both
  (``override=True``, ``--override-run-settings``, plays the explicit value anyway).
* ``resume_config``: ``train --resume`` takes every setting the user left out from the run's
  ``config.json``; an explicit option that disagrees is an error naming both values.
* ``check_env_kwargs``: an unknown ``--env-kwarg`` is an error listing the arguments the environment takes.
"""

from __future__ import annotations

import inspect
import json
import zipfile
from collections.abc import Mapping
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from mfagents.common.pipeline import BATTLE_GAMES
from mfenvs.registration import EnvEntry

CONFIG_NAME = "config.json"
"""The run directory's file of resolved settings (``ResolvedRun.to_json()``)."""
OBSERVATION_KWARGS: dict[str, tuple[str, ...]] = {name: ("minimap_mode", "extra_features") for name in BATTLE_GAMES}
"""Boolean environment arguments that change the observation shape, by short name: a model that knows
only its observation shape (``sb3:``, ``zoo:``) gets the combination that yields it."""
OBSERVATION_PROBE: dict[str, dict[str, Any]] = {"battle": {"map_size": 12}, "battlefield": {"map_size": 46}}
"""Small settings to build an environment with only to read its observation shape (which the map does not change)."""
OVERRIDE_FLAG = "--override-run-settings"


# == the environment's arguments =====================================================================
def env_arguments(entry: EnvEntry) -> dict[str, Any]:
    """Argument name -> default of the environment's constructor (``inspect.Parameter.empty``: required)."""
    signature = inspect.signature(import_module(entry.module).parallel_env)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: parameter.default for name, parameter in signature.parameters.items() if parameter.kind in kinds}


def check_env_kwargs(entry: EnvEntry, env_kwargs: Mapping[str, Any], what: str = "--env-kwarg") -> None:
    """Raise ``ValueError`` for a keyword the environment does not take, listing the ones it takes."""
    accepted = env_arguments(entry)
    for key in env_kwargs:
        if key not in accepted:
            raise ValueError(f"{what} {key}: {entry.short_name} takes no argument {key!r}; it takes {', '.join(accepted)}")


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values (``config.json`` stores tuples as lists)."""
    return _as_json(a) == _as_json(b)


def _as_json(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return value


# == what a policy SPEC needs ========================================================================
def read_run(path: str | Path) -> dict[str, Any] | None:
    """The resolved settings of a run directory (its ``config.json``) or checkpoint file; None if unreadable."""
    from mfagents.common.checkpoint import (
        CheckpointError,
        read_header,
        resolve_checkpoint_path,
    )

    path = Path(path)
    if path.is_dir() and (path / CONFIG_NAME).is_file():
        try:
            return json.loads((path / CONFIG_NAME).read_text())
        except (OSError, json.JSONDecodeError):
            return None
    try:
        stored = read_header(resolve_checkpoint_path(path)).get("__metadata__") or {}
        return json.loads(stored.get("mfzoo", "{}")).get("run") or None
    except (CheckpointError, json.JSONDecodeError, AttributeError):
        return None  # loading the policy reports the damaged file


@cache
def _shape_settings(short_name: str) -> tuple[tuple[tuple[int, ...], tuple[tuple[str, Any], ...]], ...]:
    """(observation shape, the arguments that give it) for each combination of ``OBSERVATION_KWARGS``."""
    from itertools import product

    from mfagents.common.pipeline import make_parallel_env

    names = OBSERVATION_KWARGS.get(short_name, ())
    table = []
    for values in product((True, False), repeat=len(names)):
        settings = tuple(zip(names, values))
        env = make_parallel_env(short_name, {**dict(settings), **OBSERVATION_PROBE.get(short_name, {})})
        table.append((tuple(env.observation_space(env.possible_agents[0]).shape), settings))
        env.close()
    return tuple(table)


def settings_for_shape(entry: EnvEntry, shape: tuple[int, ...]) -> dict[str, Any] | None:
    """The ``OBSERVATION_KWARGS`` values that give observations of ``shape``; None if none does."""
    if entry.short_name not in OBSERVATION_KWARGS:
        return None
    for candidate, settings in _shape_settings(entry.short_name):
        if candidate == tuple(shape):
            return dict(settings)
    return None


def sb3_observation_shape(path: str | Path) -> tuple[int, ...] | None:
    """The observation shape an SB3 model was trained on, read from its ``data`` JSON (no unpickling)."""
    path = Path(path)
    if not path.is_file() and path.with_name(path.name + ".zip").is_file():
        path = path.with_name(path.name + ".zip")
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
        return tuple(int(n) for n in data["observation_space"]["_shape"])
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return None  # loading the policy reports the bad file


def spec_env_kwargs(spec: str, entry: EnvEntry) -> dict[str, Any] | None:
    """The environment settings the policy of ``spec`` was trained with, as far as it knows them.

    A run directory or checkpoint of ``entry``: the run's ``env_kwargs``; ``sb3:`` and ``zoo:``: the
    ``OBSERVATION_KWARGS`` of their observation shape; anything else (``random``...): None.
    """
    from mfagents.policies.specs import SB3_PREFIX, split_learner_spec
    from mfagents.policies.zoo import ZOO_PREFIX

    if spec.startswith(SB3_PREFIX):
        shape = sb3_observation_shape(spec[len(SB3_PREFIX) :])
        return None if shape is None else settings_for_shape(entry, shape)
    if spec.startswith(ZOO_PREFIX):
        from mfagents.common.checkpoint import CheckpointError, load_checkpoint
        from mfagents.policies.zoo import zoo_path

        try:
            learner = load_checkpoint(zoo_path(spec))[1]["learners"]["learner"]
        except (ValueError, CheckpointError, KeyError):
            return None
        return settings_for_shape(entry, tuple(learner.get("observation_shape", ())))
    path_text, _ = split_learner_spec(spec)
    if not Path(path_text).exists():
        return None
    run = read_run(path_text)
    if not run or run.get("env_id") != entry.env_id:
        return None
    return dict(run.get("env_kwargs") or {})


def merge_env_kwargs(
    entry: EnvEntry, specs: Mapping[str, str], env_kwargs: Mapping[str, Any] | None = None, override: bool = False
) -> dict[str, Any]:
    """The environment arguments of a game between ``specs`` (label -> SPEC); see the module docstring.

    Raises:
        ValueError: an argument the environment does not take; two SPECs that need different values;
            an explicit value that disagrees with a SPEC's (unless ``override``). Messages name both values.
    """
    from mfagents.training.defaults import TRAINING_DEFAULTS

    explicit = dict(env_kwargs or {})
    check_env_kwargs(entry, explicit)
    defaults = TRAINING_DEFAULTS.get(entry.short_name)
    needed: dict[str, tuple[Any, str]] = {}  # key -> (value, the SPEC that needs it)
    for spec in specs.values():
        for key, value in (spec_env_kwargs(spec, entry) or {}).items():
            if key in needed and not same_value(needed[key][0], value) and key not in explicit:
                other_value, other = needed[key]
                raise ValueError(
                    f"{other} was trained with {key}={other_value!r} but {spec} with {key}={value!r}; "
                    f"choose one with --env-kwarg {key}=VALUE {OVERRIDE_FLAG}"
                )
            needed.setdefault(key, (value, spec))
    if not override:
        for key, value in explicit.items():
            if key in needed and not same_value(needed[key][0], value):
                trained, spec = needed[key]
                raise ValueError(
                    f"--env-kwarg {key}={value!r} disagrees with {spec}, trained with {key}={trained!r}; "
                    f"leave it out (the run's settings are read), or add {OVERRIDE_FLAG} to play {key}={value!r}"
                )
    kwargs = dict(defaults.env_kwargs) if defaults else {}
    kwargs.update({key: value for key, (value, _) in needed.items()})
    kwargs.update(explicit)
    return kwargs
