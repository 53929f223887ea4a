"""Exploration: how a learner turns action values or logits into the actions it plays.

Boltzmann sampling (the paper's MF-Q policy, Eq. 12: pi ~ exp(Q / T)), inverse-CDF categorical
sampling (also the MF-AC actor's), and epsilon-greedy (the paper's Gaussian Squeeze experiments).
Every draw takes an explicit ``np.random.Generator``, so a seeded learner acts reproducibly.
"""

from __future__ import annotations

import numpy as np


def boltzmann_probabilities(values: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise ``softmax(values / temperature)`` (the paper's Eq. 12, pi ~ exp(beta Q) with beta = 1 / T), float64."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    scaled = np.asarray(values, dtype=np.float64) / temperature
    weights = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_categorical(probabilities: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """One draw per row of ``[n, k]`` probabilities (inverse CDF, one uniform per row) -> ``[n]`` int64."""
    cumulative = np.cumsum(probabilities, axis=1)
    uniforms = generator.random(len(probabilities)) * cumulative[:, -1]
    choices = (uniforms[:, None] >= cumulative).sum(axis=1)
    return np.minimum(choices, probabilities.shape[1] - 1).astype(np.int64)


def epsilon_greedy(values: np.ndarray, epsilon: float, generator: np.random.Generator) -> np.ndarray:
    """Greedy actions of ``[n, k]`` values, each replaced by a uniform action with probability ``epsilon``."""
    actions = np.asarray(values).argmax(axis=1).astype(np.int64)
    explore = generator.random(len(actions)) < epsilon
    actions[explore] = generator.integers(0, values.shape[1], size=int(explore.sum()))
    return actions
