"""Confidence intervals and ratings of ``mfagents.evaluation.stats`` against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfagents.evaluation.stats import KillRecord, bradley_terry, elo_expected_score, elo_ratings, rate_with_interval, wilson_interval


def test_wilson_interval_by_hand():
    # 5 of 10, z = 1.96: centre 0.5, half width 1.96 / (1 + 0.38416) * sqrt(0.025 + 0.0096040) = 0.26338
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    # 0 of 4: the interval starts at 0 and reaches z^2 / (n + z^2) = 3.8415 / 7.8415
    low, high = wilson_interval(0, 4)
    assert low == 0.0 and high == pytest.approx(3.8414588 / 7.8414588, abs=1e-6)
    assert rate_with_interval(3, 4)["rate"] == 0.75


def test_elo_expected_score_by_hand():
    assert elo_expected_score(1500, 1500) == 0.5
    assert elo_expected_score(1900, 1500) == pytest.approx(10 / 11)  # 400 points: odds 10 to 1
    assert elo_expected_score(1500, 1900) == pytest.approx(1 / 11)
    assert elo_expected_score(1700, 1500) + elo_expected_score(1500, 1700) == pytest.approx(1.0)


def test_two_players_without_prior_give_the_log_odds():
    # A won 3 of 4 games against B: p_A / p_B = 3, so the ratings differ by 400 log10(3)
    ratings = elo_ratings([[0, 3], [1, 0]], prior_games=0)
    assert ratings[0] - ratings[1] == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert ratings.mean() == pytest.approx(1500.0)


def test_the_prior_counts_as_one_drawn_game_per_pair():
    # 3 wins of 4 plus one virtual draw: 3.5 points of 5, odds 3.5 / 1.5
    ratings = elo_ratings([[0, 3], [1, 0]], prior_games=1)
    assert ratings[0] - ratings[1] == pytest.approx(400 * math.log10(3.5 / 1.5), abs=1e-6)
    # an unbeaten player stays finite: 4 of 4 plus the draw, odds 4.5 / 0.5 = 9
    ratings = elo_ratings([[0, 4], [0, 0]], prior_games=1)
    assert ratings[0] - ratings[1] == pytest.approx(400 * math.log10(9), abs=1e-6)


def test_three_players_whose_results_match_the_model_exactly():
    # strengths 1 : 2 : 4 and 15 games per pair with exactly the expected wins
    # (2 beats 1 in 2/3, 4 beats 2 in 2/3, 4 beats 1 in 4/5): the fit returns those strengths
    scores = np.array([[0, 5, 3], [10, 0, 5], [12, 10, 0]])
    strengths = bradley_terry(scores, prior_games=0)
    np.testing.assert_allclose(strengths / strengths[0], [1.0, 2.0, 4.0], rtol=1e-8)
    assert np.prod(strengths) == pytest.approx(1.0)  # geometric mean 1
    ratings = elo_ratings(scores, prior_games=0)
    np.testing.assert_allclose(np.diff(ratings), 400 * math.log10(2), rtol=1e-8)
    # and the expected scores of the ratings reproduce the win shares
    assert elo_expected_score(ratings[2], ratings[0]) == pytest.approx(12 / 15)


def test_draws_count_half_and_all_draws_rate_everybody_equal():
    draws_only = np.full((3, 3), 2.0)  # every pair drew 4 games: 2 points each way
    np.testing.assert_allclose(elo_ratings(draws_only, prior_games=0), 1500.0)
    # one win and two draws against B: 2 points of 3, odds 2 : 1
    ratings = elo_ratings([[0, 2], [1, 0]], prior_games=0)
    assert ratings[0] - ratings[1] == pytest.approx(400 * math.log10(2), abs=1e-6)


def test_ratings_do_not_depend_on_the_order_of_the_players():
    scores = np.array([[0, 7, 2, 9], [3, 0, 4, 6], [8, 6, 0, 5], [1, 4, 5, 0]])
    ratings = elo_ratings(scores)
    order = np.array([2, 0, 3, 1])
    np.testing.assert_allclose(elo_ratings(scores[np.ix_(order, order)]), ratings[order], rtol=1e-9)


@pytest.mark.parametrize(
    "scores, prior, message",
    [
        ([[0, 1]], 1, "K >= 2"),
        ([[0]], 1, "K >= 2"),
        ([[0, -1], [1, 0]], 1, ">= 0"),
        ([[0, 1], [1, 0]], -1, "prior_games"),
        ([[0, 4], [0, 0]], 0, "at least one win and one loss"),
    ],
)
def test_bad_score_matrices_raise(scores, prior, message):
    with pytest.raises(ValueError, match=message):
        bradley_terry(np.array(scores), prior_games=prior)


# -- kill records ------------------------------------------------------------------------------------
def test_kill_record_counts_rounds_from_reds_side():
    record = KillRecord.of(np.array([3, 1, 2, 0]), np.array([1, 1, 4, 0]))
    assert (record.wins, record.draws, record.losses, record.rounds) == (1, 2, 1, 4)
    assert record.red_kills == pytest.approx(1.5) and record.blue_kills == pytest.approx(1.5)
    low, high = wilson_interval(1, 4)
    assert record.line("red") == (
        f"red: W-D-L 1-2-1, win rate 0.25 (95% CI {low:.2f}-{high:.2f}), kills per round 1.5 v 1.5"
    )


@pytest.mark.parametrize("red, blue", [([], []), ([1, 2], [1]), ([[1]], [[2]])])
def test_kill_record_needs_one_count_per_round_on_each_side(red, blue):
    with pytest.raises(ValueError, match="one red and one blue kill count per round"):
        KillRecord.of(np.array(red), np.array(blue))
