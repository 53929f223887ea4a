"""Shared test setup: pygame runs headless (SDL's dummy video driver) unless a display is configured.

Environment fixtures (``env_case``, ``ENV_KWARG_SETS``...) live in ``tests/mfenvs/conftest.py``.
"""

import os

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
