"""Errors the command line turns into one line and exit status 2 (no traceback)."""

from __future__ import annotations


class UsageError(Exception):
    """A bad command-line value found after parsing (unknown environment, ``--steps 0``...): exit status 2."""
