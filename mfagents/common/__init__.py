"""What every room below the commands shares: checkpoints on disk, the SuperSuit env pipeline, devices, Ray.

May import ``mfenvs`` and third-party libraries only; nothing else of ``mfagents``."""
