"""Schedules of a training run: a value moved from ``start`` to ``end`` over a share of the budget.

``progress`` is the share of the training budget spent (0..1), which every learner receives in
``set_progress``; temperatures, epsilons and learning rates follow it.
"""

from __future__ import annotations


def linear_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """``start`` -> ``end`` linearly over the first ``fraction`` of training, then ``end``."""
    if fraction <= 0.0:
        return end
    return start + (end - start) * min(max(progress, 0.0) / fraction, 1.0)


def exponential_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """``start`` -> ``end`` geometrically (a constant decay factor per unit of progress) over ``fraction``, then ``end``."""
    if fraction <= 0.0:
        return end
    return start * (end / start) ** min(max(progress, 0.0) / fraction, 1.0)
