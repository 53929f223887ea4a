"""Confidence intervals and ratings for evaluation results: pure functions, checked by hand in the tests.

Example:
    >>> low, high = wilson_interval(5, 10)
    >>> round(low, 4), round(high, 4)
    (0.2366, 0.7634)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054
"""The two-sided 95 % quantile of the standard normal distribution."""


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default).

    Unlike the normal ("Wald") interval it stays inside [0, 1] and does not collapse to a point at
    0 or ``trials`` successes, which matters for win rates over a few dozen rounds.

    Args:
        successes: number of successes (e.g. rounds won), ``0 <= successes <= trials``.
        trials: number of trials (rounds played), ``>= 1``.
        z: standard-normal quantile of the interval (1.96 for 95 %).

    Returns:
        ``(low, high)``, both in [0, 1].

    Raises:
        ValueError: if ``trials < 1``, ``successes`` is outside ``[0, trials]`` or ``z <= 0``.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be an integer >= 1, got {trials!r}")
    if isinstance(successes, bool) or not isinstance(successes, int) or not 0 <= successes <= trials:
        raise ValueError(f"successes must be an integer in [0, trials={trials}], got {successes!r}")
    if not z > 0:
        raise ValueError(f"z must be > 0, got {z!r}")
    share = successes / trials
    z2_over_n = z * z / trials
    centre = (share + z2_over_n / 2) / (1 + z2_over_n)
    half_width = z / (1 + z2_over_n) * math.sqrt(share * (1 - share) / trials + z2_over_n / (4 * trials))
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def rate_with_interval(successes: int, trials: int) -> dict[str, float | list[float]]:
    """``{"rate": successes / trials, "ci95": [low, high]}`` with the Wilson 95 % interval."""
    low, high = wilson_interval(successes, trials)
    return {"rate": successes / trials, "ci95": [low, high]}


@dataclass(frozen=True)
class KillRecord:
    """Outcomes of Battle rounds from red's side: a round is won by more kills, drawn by equal kills.

    Example:
        >>> KillRecord.of(np.array([3, 1, 2]), np.array([1, 1, 4])).line("red")
        'red: W-D-L 1-1-1, win rate 0.33 (95% CI 0.06-0.79), kills per round 2.0 v 2.0'
    """

    wins: int
    draws: int
    losses: int
    red_kills: float
    blue_kills: float

    @classmethod
    def of(cls, red_kills: np.ndarray, blue_kills: np.ndarray) -> KillRecord:
        """The record of rounds with these final kill counts (one entry per round, at least one round)."""
        red, blue = np.asarray(red_kills), np.asarray(blue_kills)
        if red.shape != blue.shape or red.ndim != 1 or len(red) == 0:
            raise ValueError(f"need one red and one blue kill count per round, got shapes {red.shape} and {blue.shape}")
        wins, draws = int((red > blue).sum()), int((red == blue).sum())
        return cls(wins, draws, len(red) - wins - draws, float(red.mean()), float(blue.mean()))

    @property
    def rounds(self) -> int:
        return self.wins + self.draws + self.losses

    def line(self, name: str) -> str:
        """One line: W-D-L, the win rate with its Wilson 95 % interval, mean kills of both sides."""
        low, high = wilson_interval(self.wins, self.rounds)
        return (
            f"{name}: W-D-L {self.wins}-{self.draws}-{self.losses}, win rate {self.wins / self.rounds:.2f} "
            f"(95% CI {low:.2f}-{high:.2f}), kills per round {self.red_kills:.1f} v {self.blue_kills:.1f}"
        )


# == ratings ========================================================================================
ELO_SCALE = 400.0
"""Elo points per factor of 10 in the odds of winning: a player rated 400 higher wins 10 games to 1."""
ELO_BASE = 1500.0
"""Mean rating of a rating table."""


def elo_expected_score(rating: float, opponent_rating: float, scale: float = ELO_SCALE) -> float:
    """Expected score (win 1, draw 1/2, loss 0) of a player against an opponent under the Elo model.

    Example:
        >>> elo_expected_score(1500.0, 1500.0), round(elo_expected_score(1900.0, 1500.0), 4)
        (0.5, 0.9091)
    """
    return 1.0 / (1.0 + 10.0 ** ((opponent_rating - rating) / scale))


def bradley_terry(
    scores: np.ndarray,
    prior_games: float = 1.0,
    tolerance: float = 1e-12,
    max_iterations: int = 100_000,
) -> np.ndarray:
    """Bradley-Terry strengths from a matrix of game scores, by Hunter's (2004) MM iteration.

    The model: player i beats player j with probability ``p_i / (p_i + p_j)``. The strengths are the
    maximum-likelihood fit to every game at once, so, unlike sequential Elo updates, they do not
    depend on the order the games were played in.

    Args:
        scores: ``[K, K]`` array, ``scores[i, j]`` = points player i scored against player j (a win
            1, a draw 1/2 to each side); the games between i and j are ``scores[i, j] + scores[j, i]``.
            The diagonal is ignored.
        prior_games: virtual drawn games added between every pair (half a point to each side). This
            keeps a player who never lost (or never won) at a finite strength; 0 is the plain
            maximum-likelihood fit.
        tolerance: stop when no log-strength changes by more than this.
        max_iterations: upper bound on MM iterations.

    Returns:
        ``[K]`` positive strengths with geometric mean 1.

    Raises:
        ValueError: a non-square or negative matrix, fewer than 2 players, a negative prior, or (with
            ``prior_games=0``) a player with no win or no loss, whose strength would be 0 or infinite.
    """
    scores = np.array(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1] or scores.shape[0] < 2:
        raise ValueError(f"scores must be a [K, K] matrix with K >= 2, got shape {scores.shape}")
    if not np.isfinite(scores).all() or (scores < 0).any():
        raise ValueError("scores must be finite and >= 0")
    if not prior_games >= 0:
        raise ValueError(f"prior_games must be >= 0, got {prior_games}")
    np.fill_diagonal(scores, 0.0)
    scores = scores + prior_games / 2.0
    np.fill_diagonal(scores, 0.0)
    games = scores + scores.T
    points = scores.sum(axis=1)
    if prior_games == 0 and ((points <= 0).any() or (points >= games.sum(axis=1)).any()):
        raise ValueError("with prior_games=0 every player needs at least one win and one loss (else its strength is 0 or infinite)")
    strengths = np.ones(len(scores))
    for _ in range(max_iterations):
        # Hunter's MM step: p_i <- W_i / sum_j n_ij / (p_i + p_j)
        updated = points / (games / (strengths[:, None] + strengths[None, :])).sum(axis=1)
        updated /= np.exp(np.log(updated).mean())
        change = np.abs(np.log(updated) - np.log(strengths)).max()
        strengths = updated
        if change < tolerance:
            break
    return strengths


def elo_ratings(scores: np.ndarray, prior_games: float = 1.0, base: float = ELO_BASE, scale: float = ELO_SCALE) -> np.ndarray:
    """Bradley-Terry strengths on the Elo scale: ``base + scale * log10(strength)``, mean ``base``.

    Under this scale, ``elo_expected_score`` of two rated players is their Bradley-Terry win
    probability (draws counted as half a win).

    Args:
        scores: ``[K, K]`` points of i against j (see ``bradley_terry``).
        prior_games: virtual drawn games between every pair (see ``bradley_terry``).
        base: the mean rating.
        scale: Elo points per factor of 10 in the odds.

    Example:
        >>> ratings = elo_ratings([[0, 3], [1, 0]], prior_games=0)  # 3 wins to 1: odds 3
        >>> round(float(ratings[0] - ratings[1]), 2)  # 400 * log10(3)
        190.85
    """
    return base + scale * np.log10(bradley_terry(scores, prior_games))
