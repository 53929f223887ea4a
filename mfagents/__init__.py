"""mfagents: mean-field reinforcement-learning agents for the mfenvs environments, and the ``mfzoo`` command.

The command line lives in ``mfagents.cli`` (``mfzoo demo``, ``python -m mfagents.cli demo``).
Importing this package loads nothing heavy: torch and pygame are imported by the modules that use them.
"""
