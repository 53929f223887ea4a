"""Help texts several commands share: the policy SPEC forms and the per-environment training defaults.

Built from the tables they describe (``mfagents.training.config.TRAINING_DEFAULTS``, the shipped ``zoo:`` files), so
``--help`` cannot drift from the code. Nothing here imports torch: ``mfzoo --help`` stays fast.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path


def zoo_names() -> list[str]:
    """Names of the shipped ``zoo:`` policies, read from the package folder without importing it (torch)."""
    spec = find_spec("mfagents.policies.zoo")
    folders = list(spec.submodule_search_locations or []) if spec else []
    return sorted({path.stem for folder in folders for path in Path(folder).glob("*.safetensors")})


def spec_forms(battle: bool = True) -> str:
    """Every policy SPEC form, for the help of options that take a SPEC."""
    names = zoo_names()
    zoo = f"zoo:NAME (a shipped Battle policy: {', '.join('zoo:' + name for name in names)})" if names else "zoo:NAME (a shipped Battle policy)"
    forms = [
        "a run directory or checkpoint file (greedy; DIR#opponent: the run's second learner)",
        zoo,
        "random",
        *(["scripted (nearest-enemy fighter)"] if battle else []),
        "sb3:PATH.zip (an SB3 PPO model)",
        "module:callable",
    ]
    return "SPEC: " + ", ".join(forms)


def per_env(field: str, unit: str = "") -> str:
    """``battle 250, gaussian_squeeze 100, ising 100`` for a field of ``TRAINING_DEFAULTS``."""
    from mfagents.training.defaults import PRESETS, TRAINING_DEFAULTS

    parts = []
    for name, defaults in TRAINING_DEFAULTS.items():
        value = getattr(defaults, field)
        paper = getattr(PRESETS["paper"].get(name, defaults), field)
        parts.append(f"{name} {value}{unit}" + (f" ({paper} with --preset paper)" if paper != value else ""))
    return ", ".join(sorted(parts))


def default_panels() -> str:
    """``battle random,scripted`` (and ``none elsewhere``): the default evaluation panels of ``TRAINING_DEFAULTS``."""
    from mfagents.training.defaults import TRAINING_DEFAULTS

    panels = [f"{name} {','.join(d.eval_panel)}" for name, d in sorted(TRAINING_DEFAULTS.items()) if d.eval_panel]
    return ", ".join(panels) + ("; none elsewhere" if len(panels) < len(TRAINING_DEFAULTS) else "")


def per_env_actor_sharing() -> str:
    """Where MF-AC and AC keep separate actors and where one shared actor, from the training defaults."""
    from mfagents.training.defaults import TRAINING_DEFAULTS, algo_defaults

    separate = [name for name, defaults in TRAINING_DEFAULTS.items() if algo_defaults(defaults, "mfac").get("actor_sharing") == "separate"]
    shared = [name for name in TRAINING_DEFAULTS if name not in separate]
    return f"{', '.join(separate) or 'no environment'} and one shared actor on {', '.join(shared)} (actor_sharing)"
