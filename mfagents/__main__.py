"""``python -m mfagents``: the ``mfzoo`` command line."""

from mfagents.commands.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
