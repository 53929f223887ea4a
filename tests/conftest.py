"""Shared test setup, applied before any test module imports pygame or torch.

- pygame runs headless (SDL's dummy video driver) unless a display is configured.
- torch uses one thread: the networks in the tests are tiny, and on a loaded 2-core machine (CI, or
  a developer running benchmarks beside the tests) its thread pool made them 5-50x slower.

Environment fixtures (``env_case``, ``ENV_KWARG_SETS``...) live in ``tests/mfenvs/conftest.py``.
"""

import os

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
