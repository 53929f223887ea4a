"""The one table of environments: it drives ``import mfenvs``, the CLI's short names and the tests."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "mfenvs"


@dataclass(frozen=True)
class EnvEntry:
    """One registered environment."""

    short_name: str
    """Name used by the command line, e.g. ``ising``."""
    version: int
    """The ``vN`` suffix; bumped on any rule change."""

    @property
    def env_id(self) -> str:
        """PettingZoo registry id, e.g. ``mfenvs/ising-v0``."""
        return f"{NAMESPACE}/{self.short_name}-v{self.version}"

    @property
    def module(self) -> str:
        """The PettingZoo-style module, e.g. ``mfenvs.ising_v0``."""
        return f"{NAMESPACE}.{self.short_name}_v{self.version}"


ENVIRONMENTS: tuple[EnvEntry, ...] = (
    EnvEntry("gaussian_squeeze", 0),
    EnvEntry("ising", 0),
    EnvEntry("battle", 0),
    EnvEntry("battlefield", 0),
    EnvEntry("combined_arms", 0),
    EnvEntry("tiger_deer", 0),
    EnvEntry("gather", 0),
    EnvEntry("adversarial_pursuit", 0),
)


def find(name: str) -> EnvEntry:
    """Look an environment up by short name (``ising``), module name (``ising_v0``) or id."""
    for entry in ENVIRONMENTS:
        if name in (entry.short_name, entry.env_id, entry.module, entry.module.split(".")[-1]):
            return entry
    known = ", ".join(e.short_name for e in ENVIRONMENTS)
    raise ValueError(f"unknown environment {name!r}; known: {known} (or their ids, e.g. {ENVIRONMENTS[0].env_id})")


def register_all() -> None:
    """Register every environment with PettingZoo's parallel and AEC registries (string entry points)."""
    from pettingzoo import parallel_registry, register

    for entry in ENVIRONMENTS:
        if entry.env_id in parallel_registry:
            continue
        register("parallel", entry.env_id, entry_point=f"{entry.module}:parallel_env")
        register("aec", entry.env_id, entry_point=f"{entry.module}:env")
