"""What several commands share: the JSON summary type, the user's cache folder, common options."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

Summary = dict[str, Any]


def user_cache_dir() -> Path:
    """mfzoo's folder in the user's cache: ``$XDG_CACHE_HOME/mfzoo`` or ``~/.cache/mfzoo`` (as Numba's cache)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mfzoo"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "mfzoo" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mfzoo"


def format_kwargs(kwargs: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{key}={value}" for key, value in kwargs.items()) + ")"


# == train / eval ===================================================================================
def add_env_kwarg_argument(parser: argparse.ArgumentParser, reads_runs: bool = True) -> None:
    remembered = " and the settings of the runs played (their config.json)" if reads_runs else ""
    parser.add_argument(
        "--env-kwarg", action="append", default=[], metavar="KEY=VALUE",
        help="environment argument (repeatable), a Python literal or a bare string, e.g. map_size=40 "
        f"mean_action_radius=None (default: the training defaults{remembered})",
    )  # fmt: skip
    if reads_runs:
        parser.add_argument(
            "--override-run-settings", action="store_true",
            help="let --env-kwarg values differ from the settings a run was trained with, e.g. a larger map "
            "(default: such a difference is an error)",
        )  # fmt: skip


def add_device_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--device", default="cpu", help=f"torch device of {what}: cpu, cuda, cuda:N, mps (default: cpu; checked first)")
