"""``mfzoo arena``: a consistent win-rate matrix, rates that add up, intervals around them, worker-count independence, files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mfagents.commands import cli
from mfagents.evaluation.arena import play_pairing, run_arena, schedule, tabulate
from mfagents.evaluation.stats import elo_ratings

TINY = {"map_size": 14, "team_size": 3, "max_cycles": 15}
ENTRANTS = ["random", "scripted", "tests.mfagents.evaluation.test_arena:stay_in_place"]
ROUNDS = 3


def stay_in_place(observations, mean_actions, context):
    """An entrant that never moves nor attacks (action 6 is 'stay')."""
    return np.full(len(observations), 6, dtype=np.int64)


@pytest.fixture(scope="module")
def arena_one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("arena1")
    return out, run_arena("battle", ENTRANTS, rounds=ROUNDS, seed=11, out=out, workers=1, env_kwargs=TINY, builtins=False)


def read_pairs(out) -> dict[tuple[str, str], dict[str, str]]:
    with open(out / "pairs.csv", newline="") as file:
        return {(row["entrant"], row["opponent"]): row for row in csv.DictReader(file)}


def test_the_schedule_plays_every_pair_on_both_sides_with_its_own_seed():
    pairings = schedule(["a", "b", "c"], rounds=4, seed=0, env="battle", env_kwargs={})
    assert [(p.red, p.blue) for p in pairings] == [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]
    assert len({p.seed for p in pairings}) == 6
    assert schedule(["a", "b", "c"], 4, 0, "battle", {}) == pairings  # seeds depend on (seed, red, blue) only


def test_wins_of_a_against_b_are_the_losses_of_b_against_a(arena_one_worker):
    out, _ = arena_one_worker
    pairs = read_pairs(out)
    assert len(pairs) == len(ENTRANTS) * (len(ENTRANTS) - 1)
    for (entrant, opponent), row in pairs.items():
        mirror = pairs[(opponent, entrant)]
        assert row["wins"] == mirror["losses"] and row["losses"] == mirror["wins"] and row["draws"] == mirror["draws"]
        assert row["games"] == mirror["games"] == str(2 * ROUNDS)
        assert row["mean_kills"] == mirror["mean_opponent_kills"] and row["mean_reward"] == mirror["mean_opponent_reward"]


def test_rates_sum_to_one_and_their_intervals_contain_them(arena_one_worker):
    out, _ = arena_one_worker
    for row in read_pairs(out).values():
        rates = [float(row[f"{k}_rate"]) for k in ("win", "draw", "loss")]
        assert sum(rates) == pytest.approx(1.0)
        assert int(row["wins"]) + int(row["draws"]) + int(row["losses"]) == int(row["games"])
        for kind in ("win", "draw", "loss"):
            low, rate, high = float(row[f"{kind}_ci_low"]), float(row[f"{kind}_rate"]), float(row[f"{kind}_ci_high"])
            assert 0.0 <= low <= rate <= high <= 1.0 and high - low > 0


def test_the_scripted_entrant_beats_random_and_tops_the_ratings(arena_one_worker):
    out, summary = arena_one_worker
    pairs = read_pairs(out)
    assert float(pairs[("scripted", "random")]["win_rate"]) > 0.5
    assert summary["ratings"][0]["entrant"] == "scripted"
    report = json.loads((out / "arena.json").read_text())
    # the ratings are the Bradley-Terry fit of the win/draw matrix in the report
    matrix = np.array([[0 if v is None else v for v in row] for row in report["win_rate_matrix"]])
    games = 2 * ROUNDS
    draws = np.array([[0] * 3] * 3, dtype=float)
    for m in report["matchups"]:
        draws[ENTRANTS.index(m["entrant"]), ENTRANTS.index(m["opponent"])] = m["draws"]
    expected = elo_ratings(matrix * games + draws / 2)
    rated = {row["entrant"]: row["elo"] for row in report["ratings"]}
    np.testing.assert_allclose([rated[e] for e in ENTRANTS], expected)


def test_the_files_are_written(arena_one_worker):
    out, summary = arena_one_worker
    assert set(summary["files"]) == {"pairs_csv", "ratings_csv", "json", "heatmap"}
    assert (out / "win_rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "ratings.csv", newline="") as file:
        ratings = list(csv.DictReader(file))
    assert [row["rank"] for row in ratings] == ["1", "2", "3"] and {row["entrant"] for row in ratings} == set(ENTRANTS)
    report = json.loads((out / "arena.json").read_text())
    assert len(report["pairings"]) == 6 and report["entrants"] == ENTRANTS


def test_two_workers_give_the_same_results_as_one(arena_one_worker, tmp_path):
    out, _ = arena_one_worker
    run_arena("battle", ENTRANTS, rounds=ROUNDS, seed=11, out=tmp_path, workers=2, env_kwargs=TINY, builtins=False)
    assert (tmp_path / "pairs.csv").read_text() == (out / "pairs.csv").read_text()
    assert (tmp_path / "ratings.csv").read_text() == (out / "ratings.csv").read_text()


def test_tabulate_combines_both_sides_of_a_pair():
    pairings = schedule(["a", "b"], rounds=4, seed=0, env="battle", env_kwargs={})
    results = [
        {"red_wins": 3, "draws": 1, "blue_wins": 0, "red_mean_kills": 2.0, "blue_mean_kills": 1.0, "red_mean_reward": 4.0, "blue_mean_reward": -1.0},
        {"red_wins": 1, "draws": 0, "blue_wins": 3, "red_mean_kills": 1.0, "blue_mean_kills": 3.0, "red_mean_reward": 0.0, "blue_mean_reward": 2.0},
    ]  # a as red: 3-1-0; then b as red: b 1 win, a 3 wins
    tables = tabulate(["a", "b"], pairings, results)
    a_vs_b = next(m for m in tables["matchups"] if m.entrant == "a")
    assert (a_vs_b.wins, a_vs_b.draws, a_vs_b.losses, a_vs_b.games) == (6, 1, 1, 8)
    assert a_vs_b.mean_kills == pytest.approx((2.0 * 4 + 3.0 * 4) / 8)
    assert a_vs_b.mean_reward == pytest.approx((4.0 * 4 + 2.0 * 4) / 8)
    assert tables["ratings"][0]["entrant"] == "a" and tables["ratings"][0]["score"] == pytest.approx(6.5 / 8)


def test_play_pairing_counts_add_up_to_the_rounds():
    pairing = schedule(["scripted", "random"], rounds=2, seed=3, env="battle", env_kwargs=TINY)[0]
    result = play_pairing(pairing)
    assert result["red_wins"] + result["draws"] + result["blue_wins"] == 2


def test_the_command_adds_the_builtins_prints_the_table_and_ends_with_json(tmp_path, capsys):
    argv = ["arena", "battle", "tests.mfagents.evaluation.test_arena:stay_in_place", "--rounds", "1", "--out", str(tmp_path)]
    argv += [f"--env-kwarg={key}={value}" for key, value in TINY.items()]
    assert cli.main(argv) == 0
    output = capsys.readouterr().out
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["command"] == "arena" and summary["entrants"] == [ENTRANTS[2], "random", "scripted"]
    assert "| rank | entrant | Elo |" in output and f"wrote {tmp_path / 'win_rates.png'}" in output


@pytest.mark.parametrize(
    "argv, message",
    [
        (["arena", "battle", "random", "--no-builtins"], "at least two entrants"),
        (["arena", "battle", "random", "random"], "more than once"),
        (["arena", "ising", "random"], "team games"),
        (["arena", "battle", "--rounds", "0"], "rounds must be a positive integer"),
        (["arena", "battle", "--workers", "0"], "workers must be a positive integer"),
        (["arena", "battle", "nobody", "--rounds", "1", "--env-kwarg", "map_size=14", "--env-kwarg", "team_size=3"], "unknown policy SPEC"),
    ],
)
def test_bad_arena_arguments_exit_with_status_2(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
