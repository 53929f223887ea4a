"""How a run is trained: run settings and their defaults, the training loop, the run logger.

May import ``mfagents.common``, ``mfagents.algos`` and ``mfagents.policies`` (opponents); never evaluation, experiments or commands."""
