"""Shared settings of the consumer tests: small environments where things happen in a few steps."""

from __future__ import annotations

import numpy as np

#: Battle start cells on a 6 x 6 map (4 x 4 interior): alternating red and blue rows, no free cell,
#: so that random attacks kill agents within a few steps.
STRIPES = {
    "red": [(x, y) for y in (1, 3) for x in (1, 2, 3, 4)],
    "blue": [(x, y) for y in (2, 4) for x in (1, 2, 3, 4)],
}
#: A crowded 8 v 8 Battle without the minimap (observations 13 x 13 x 5): deaths come early.
CROWDED_BATTLE = {"map_size": 6, "positions": STRIPES, "minimap_mode": False}


def gaussian(load: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """Gaussian Squeeze's reward G(x) = x exp(-(x - mu)^2 / sigma^2), computed independently of mfenvs."""
    load = np.asarray(load, dtype=np.float64)
    return load * np.exp(-((load - mu) ** 2) / sigma**2)
