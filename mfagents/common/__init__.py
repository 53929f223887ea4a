"""What every room below the commands shares: checkpoints on disk, the SuperSuit env pipeline
(and its padding of groups with different spaces), devices, Ray.

May import ``mfenvs`` and third-party libraries only; nothing else of ``mfagents``."""
