"""Import paths that moved in 0.2 (the rooms of ``mfagents``): the old path still works, with a ``DeprecationWarning``.

``import mfagents`` installs ``MovedModuleFinder``: importing an old path (``mfagents.config``,
``mfagents.reproduce.ising``...) returns the module at its new path, so both names are one module. The
old paths go in 0.3; ``python -m mfagents.cli`` keeps running the command line until then.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED: dict[str, str] = {
    "mfagents.buffers": "mfagents.algos.buffers",
    "mfagents.exploration": "mfagents.algos.exploration",
    "mfagents.nets": "mfagents.algos.nets",
    "mfagents.revision": "mfagents.algos.revision",
    "mfagents.schedules": "mfagents.algos.schedules",
    "mfagents.checkpoint": "mfagents.common.checkpoint",
    "mfagents.cluster": "mfagents.common.cluster",
    "mfagents.device": "mfagents.common.device",
    "mfagents.pipeline": "mfagents.common.pipeline",
    "mfagents.sb3_policy": "mfagents.policies.sb3",
    "mfagents.scripted": "mfagents.policies.scripted",
    "mfagents.zoo": "mfagents.policies.zoo",
    "mfagents.config": "mfagents.training.config",
    "mfagents.logger": "mfagents.training.logger",
    "mfagents.loop": "mfagents.training.loop",
    "mfagents.run_settings": "mfagents.training.run_settings",
    "mfagents.arena": "mfagents.evaluation.arena",
    "mfagents.stats": "mfagents.evaluation.stats",
    "mfagents.reproduce": "mfagents.experiments.reproduce",
    "mfagents.sweep": "mfagents.experiments.sweep",
    "mfagents.cli": "mfagents.commands.cli",
    "mfagents.demo": "mfagents.commands.demo",
    "mfagents.errors": "mfagents.commands.errors",
    "mfagents.helptext": "mfagents.commands.helptext",
    "mfagents.watch": "mfagents.commands.watch",
}
"""Old module path -> new module path; a submodule of an old package path moves with it."""
REMOVED_IN = "0.3"


def new_path(old: str) -> str | None:
    """The new path of ``old`` (a moved module or a submodule of a moved package), or None if it did not move."""
    for before, after in MOVED.items():
        if old == before or old.startswith(before + "."):
            return after + old[len(before) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands out the module at its new path under the old name (one module object, two names)."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{self.old} moved to {self.new}; the old import path goes in mfzoo {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module ran when it was imported at its new path."""

    def get_code(self, fullname: str):  # noqa: ANN201  (runpy: ``python -m OLD_PATH``)
        spec = importlib.util.find_spec(self.new)
        assert spec is not None and spec.loader is not None
        return spec.loader.get_code(self.new)  # type: ignore[union-attr]


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old import paths of ``MOVED``; every other name is left to the normal finders."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        new = new_path(fullname) if fullname.startswith("mfagents.") else None
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(fullname, new))


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
