"""``mfzoo arena``: every pair of Battle policies plays N rounds on each side; win rates, ratings, heat map.

Schedule. For entrants ``E_0 .. E_{K-1}`` (policy SPECs, as ``mfzoo eval`` takes them), every pair
``i < j`` plays ``rounds`` rounds with ``E_i`` as red and ``E_j`` as blue, and ``rounds`` rounds the
other way round: ``2 * rounds`` games per pair. Each of these *pairings* is one
``mfagents.evaluate`` call with its own seed, derived from ``(seed, i, j)``, so the results do not
depend on how many worker processes play them, nor in which order they finish.

Outputs (``--out``, default ``runs/arena``):

| file | content |
|---|---|
| ``pairs.csv`` | one row per (entrant, opponent), both orders: games, wins / draws / losses with rates and Wilson 95 % intervals, mean kills and team rewards of both sides |
| ``ratings.csv`` | entrants ranked by an Elo-scale Bradley-Terry rating fitted to all games (``mfagents.evaluation.stats.elo_ratings``), with each entrant's overall score |
| ``arena.json`` | all of the above, the win-rate matrix, and every pairing's raw result |
| ``win_rates.png`` | heat map of the win-rate matrix (row entrant's win rate against the column entrant), best rated first |

Built-in entrants ``random`` and ``scripted`` (Battle's games only) join every arena as reference points unless
``--no-builtins`` is given (or they are named already). Combined arms plays too: an entrant plays all groups of
its side (a run directory: its learner of each group, ``mfagents.policies.specs``).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mfagents.evaluation.stats import elo_ratings, rate_with_interval, wilson_interval

BUILTIN_ENTRANTS = ("random", "scripted")


DEFAULT_OUT = Path("runs/arena")


PAIRS_CSV = "pairs.csv"


RATINGS_CSV = "ratings.csv"


ARENA_JSON = "arena.json"


HEATMAP_PNG = "win_rates.png"


RATING_PRIOR_GAMES = 1.0
"""Virtual drawn games between every pair in the rating fit, so an unbeaten entrant gets a finite rating."""


class ArenaError(ValueError):
    """Bad arena settings: fewer than two entrants, duplicates, an environment without teams..."""


@dataclass(frozen=True)
class Pairing:
    """One ``evaluate`` call of the schedule: ``red`` plays ``blue`` for ``rounds`` rounds.

    Attributes:
        red, blue: indices of the entrants.
        red_spec, blue_spec: their SPECs.
        rounds: rounds to play.
        seed: the seed of these rounds (environments and random policies).
        env: environment id.
        env_kwargs: environment arguments.
    """

    red: int
    blue: int
    red_spec: str
    blue_spec: str
    rounds: int
    seed: int
    env: str
    env_kwargs: Mapping[str, Any]


def pairing_seed(seed: int, red: int, blue: int) -> int:
    """The seed of the pairing (red, blue): a 32-bit mix of the arena seed and both indices."""
    return int(np.random.SeedSequence([seed, red, blue]).generate_state(1)[0])


def schedule(entrants: Sequence[str], rounds: int, seed: int, env: str, env_kwargs: Mapping[str, Any]) -> list[Pairing]:
    """Every ordered pair of distinct entrants, ``(i, j)`` before ``(j, i)``, in a fixed order."""
    pairings = []
    for i in range(len(entrants)):
        for j in range(i + 1, len(entrants)):
            for red, blue in ((i, j), (j, i)):
                pairings.append(
                    Pairing(red, blue, entrants[red], entrants[blue], rounds, pairing_seed(seed, red, blue), env, dict(env_kwargs))
                )
    return pairings


def play_pairing(pairing: Pairing) -> dict[str, Any]:
    """Play one pairing with ``mfagents.evaluate`` (a top-level function, so spawned workers can run it).

    Returns:
        Counts (``red_wins``, ``draws``, ``blue_wins``) and each side's mean kills and total reward.
    """
    from mfagents.evaluation.rounds import (
        evaluate,  # one torch thread per worker process (evaluate sets it)
    )

    result = evaluate(
        pairing.env,
        red=pairing.red_spec,
        blue=pairing.blue_spec,
        rounds=pairing.rounds,
        seed=pairing.seed,
        env_kwargs=pairing.env_kwargs,
        override_run_settings=True,  # run_arena merged the entrants' settings (merge_env_kwargs) already
    )
    counts = {key: round(result[rate] * pairing.rounds) for key, rate in (("red_wins", "red_win_rate"), ("draws", "draw_rate"), ("blue_wins", "blue_win_rate"))}
    if sum(counts.values()) != pairing.rounds:
        raise RuntimeError(f"evaluate's rates do not add up to {pairing.rounds} rounds: {counts}")
    return {
        **counts,
        "red_mean_kills": result["red_mean_kills"],
        "blue_mean_kills": result["blue_mean_kills"],
        "red_mean_reward": result["red_mean_total_reward"],
        "blue_mean_reward": result["blue_mean_total_reward"],
    }


def play_all(pairings: Sequence[Pairing], workers: int = 1, address: str | None = None) -> list[dict[str, Any]]:
    """Play every pairing, in this process (``workers=1``), in ``workers`` spawned processes, or as Ray tasks on
    the cluster at ``address`` (``mfagents.common.cluster``); results in schedule order, the same whichever way."""
    if address is not None:
        from mfagents.common.cluster import run_tasks

        outcomes = run_tasks(play_pairing, [(pairing,) for pairing in pairings], address=address)
        failed = [(pairings[o.index], o.error) for o in outcomes if not o.ok]
        if failed:
            pairing, error = failed[0]
            raise RuntimeError(f"{len(failed)} pairing(s) failed on the cluster; {pairing.red_spec} v {pairing.blue_spec}: {error}")
        return [outcome.value for outcome in outcomes]
    if workers == 1 or len(pairings) <= 1:
        return [play_pairing(pairing) for pairing in pairings]
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix; spawn behaves alike on every OS
    with ProcessPoolExecutor(max_workers=min(workers, len(pairings)), mp_context=context) as pool:
        return list(pool.map(play_pairing, pairings))


@dataclass(frozen=True)
class Matchup:
    """An entrant's record against one opponent, over both sides (one row of ``pairs.csv``)."""

    entrant: str
    opponent: str
    games: int
    wins: int
    draws: int
    losses: int
    win_rate: float
    win_ci95: tuple[float, float]
    draw_rate: float
    draw_ci95: tuple[float, float]
    loss_rate: float
    loss_ci95: tuple[float, float]
    mean_kills: float
    mean_opponent_kills: float
    mean_reward: float
    mean_opponent_reward: float


def tabulate(entrants: Sequence[str], pairings: Sequence[Pairing], results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Combine the pairings' results per pair, from each entrant's point of view, and rate everybody.

    Returns:
        ``matchups`` (list of ``Matchup``, every ordered pair), ``wins`` / ``draws`` / ``games``
        ``[K, K]`` matrices (row entrant against column entrant), ``win_rates`` (NaN on the
        diagonal), and ``ratings`` (one dict per entrant, best first).
    """
    size = len(entrants)
    wins = np.zeros((size, size), dtype=np.int64)
    draws = np.zeros((size, size), dtype=np.int64)
    games = np.zeros((size, size), dtype=np.int64)
    kills = np.zeros((size, size))
    rewards = np.zeros((size, size))
    for pairing, result in zip(pairings, results):
        red, blue, rounds = pairing.red, pairing.blue, pairing.rounds
        wins[red, blue] += result["red_wins"]
        wins[blue, red] += result["blue_wins"]
        for a, b in ((red, blue), (blue, red)):
            draws[a, b] += result["draws"]
            games[a, b] += rounds
        kills[red, blue] += result["red_mean_kills"] * rounds
        kills[blue, red] += result["blue_mean_kills"] * rounds
        rewards[red, blue] += result["red_mean_reward"] * rounds
        rewards[blue, red] += result["blue_mean_reward"] * rounds

    matchups = []
    for a in range(size):
        for b in range(size):
            if a == b:
                continue
            n = int(games[a, b])
            counts = {"win": int(wins[a, b]), "draw": int(draws[a, b]), "loss": int(wins[b, a])}
            rates = {key: rate_with_interval(count, n) for key, count in counts.items()}
            matchups.append(
                Matchup(
                    entrant=entrants[a],
                    opponent=entrants[b],
                    games=n,
                    wins=counts["win"],
                    draws=counts["draw"],
                    losses=counts["loss"],
                    win_rate=rates["win"]["rate"],
                    win_ci95=tuple(rates["win"]["ci95"]),
                    draw_rate=rates["draw"]["rate"],
                    draw_ci95=tuple(rates["draw"]["ci95"]),
                    loss_rate=rates["loss"]["rate"],
                    loss_ci95=tuple(rates["loss"]["ci95"]),
                    mean_kills=float(kills[a, b] / n),
                    mean_opponent_kills=float(kills[b, a] / n),
                    mean_reward=float(rewards[a, b] / n),
                    mean_opponent_reward=float(rewards[b, a] / n),
                )
            )

    scores = wins + draws / 2.0
    ratings = elo_ratings(scores, prior_games=RATING_PRIOR_GAMES)
    order = np.argsort(-ratings, kind="stable")
    table = []
    for rank, index in enumerate(order, start=1):
        played = int(games[index].sum())
        points = float(scores[index].sum())
        # the score's interval counts a draw as half a win: Wilson on the rounded-down points
        low, high = wilson_interval(int(np.floor(points)), played)
        table.append(
            {
                "rank": rank,
                "entrant": entrants[index],
                "elo": float(ratings[index]),
                "games": played,
                "wins": int(wins[index].sum()),
                "draws": int(draws[index].sum()),
                "losses": int(wins[:, index].sum()),
                "score": points / played,
                "score_ci95": [low, high],
            }
        )
    win_rates = np.where(games > 0, wins / np.maximum(games, 1), np.nan)
    return {"matchups": matchups, "wins": wins, "draws": draws, "games": games, "win_rates": win_rates, "ratings": table}


# == files ============================================================================================
def write_pairs_csv(path: Path, matchups: Sequence[Matchup]) -> None:
    """``pairs.csv``: one row per matchup; intervals as ``*_ci_low`` / ``*_ci_high`` columns."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([
            "entrant", "opponent", "games", "wins", "draws", "losses",
            "win_rate", "win_ci_low", "win_ci_high", "draw_rate", "draw_ci_low", "draw_ci_high",
            "loss_rate", "loss_ci_low", "loss_ci_high",
            "mean_kills", "mean_opponent_kills", "mean_reward", "mean_opponent_reward",
        ])  # fmt: skip
        for m in matchups:
            writer.writerow([
                m.entrant, m.opponent, m.games, m.wins, m.draws, m.losses,
                m.win_rate, *m.win_ci95, m.draw_rate, *m.draw_ci95, m.loss_rate, *m.loss_ci95,
                m.mean_kills, m.mean_opponent_kills, m.mean_reward, m.mean_opponent_reward,
            ])  # fmt: skip


def write_ratings_csv(path: Path, ratings: Sequence[Mapping[str, Any]]) -> None:
    """``ratings.csv``: rank, entrant, Elo, record and overall score with its interval."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["rank", "entrant", "elo", "games", "wins", "draws", "losses", "score", "score_ci_low", "score_ci_high"])
        for row in ratings:
            writer.writerow([row["rank"], row["entrant"], row["elo"], row["games"], row["wins"], row["draws"], row["losses"], row["score"], *row["score_ci95"]])


def short_label(spec: str, width: int = 18) -> str:
    """An entrant's SPEC shortened for plot labels (the end of a path is the informative part)."""
    return spec if len(spec) <= width else "..." + spec[-(width - 3) :]


def plot_win_rates(path: Path, entrants: Sequence[str], win_rates: np.ndarray, games: np.ndarray) -> None:
    """Heat map of the win-rate matrix: row entrant's win rate against the column entrant, with the rate in each cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = len(entrants)
    figure, axes = plt.subplots(figsize=(2.2 + 1.1 * size, 1.6 + 1.0 * size), dpi=120)
    # PuOr: a diverging map that stays readable under common colour-vision deficiencies; 0.5 is white
    image = axes.imshow(np.ma.masked_invalid(win_rates), cmap="PuOr", vmin=0.0, vmax=1.0)
    axes.set_facecolor("#d9d9d9")
    for row in range(size):
        for column in range(size):
            if row == column:
                axes.text(column, row, "-", ha="center", va="center", color="#555555")
                continue
            rate = win_rates[row, column]
            colour = "white" if abs(rate - 0.5) > 0.3 else "black"
            axes.text(column, row, f"{rate:.0%}\n({games[row, column]})", ha="center", va="center", color=colour, fontsize=9)
    labels = [short_label(spec) for spec in entrants]
    axes.set_xticks(range(size), labels, rotation=30, ha="right")
    axes.set_yticks(range(size), labels)
    axes.set_xlabel("opponent")
    axes.set_ylabel("entrant")
    axes.set_title("win rate of the row entrant (games)")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="win rate")
    figure.tight_layout()
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def format_tables(entrants: Sequence[str], tables: Mapping[str, Any]) -> str:
    """The ratings table and the win-rate matrix as markdown, for the terminal."""
    lines = ["| rank | entrant | Elo | games | W-D-L | score (95 % CI) |", "|---|---|---|---|---|---|"]
    for row in tables["ratings"]:
        low, high = row["score_ci95"]
        lines.append(
            f"| {row['rank']} | {row['entrant']} | {row['elo']:.0f} | {row['games']} | "
            f"{row['wins']}-{row['draws']}-{row['losses']} | {row['score']:.2f} ({low:.2f}-{high:.2f}) |"
        )
    lines += ["", "win rate of the row entrant against the column entrant (best first):", ""]
    ranked = [list(entrants).index(row["entrant"]) for row in tables["ratings"]]
    lines.append("| | " + " | ".join(short_label(entrants[i]) for i in ranked) + " |")
    lines.append("|---" * (len(entrants) + 1) + "|")
    for index in ranked:
        cells = ["-" if index == other else f"{tables['win_rates'][index, other]:.0%}" for other in ranked]
        lines.append(f"| {short_label(entrants[index])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# == the whole arena ==================================================================================
def check_arena_env(short_name: str) -> None:
    """Raise ``ArenaError`` unless ``short_name`` is a game of two mirrored sides (Battle's games, combined arms),
    where every entrant can play either side; tiger-deer's sides are different groups (tigers, deer)."""
    from mfagents.common.pipeline import SIDES, sides_of

    if short_name not in SIDES:
        sides = list(sides_of(short_name))
        hint = ""
        if len(sides) == 2:  # tiger-deer: a tiger policy cannot play the deer
            options = " ".join(f"--{side} SPEC" for side in sides)
            hint = f": its sides are different groups ({', '.join(sides)}), so no entrant plays both; compare policies with mfzoo eval {short_name} {options}"
        raise ArenaError(f"the arena plays team games of mirrored sides (battle, combined_arms), not {short_name}{hint}")


def entrant_list(specs: Sequence[str], builtins: bool = True, scripted: bool = True) -> list[str]:
    """The SPECs followed by the built-in entrants not among them (with ``builtins``; ``scripted`` only where
    ``scripted``: Battle's games).

    Raises:
        ArenaError: a SPEC named twice, or fewer than two entrants.
    """
    entrants = list(specs)
    duplicates = sorted({spec for spec in entrants if entrants.count(spec) > 1})
    if duplicates:
        raise ArenaError(f"entrant {duplicates[0]!r} is named more than once")
    if builtins:
        entrants += [spec for spec in BUILTIN_ENTRANTS if spec not in entrants and (scripted or spec != "scripted")]
    if len(entrants) < 2:
        raise ArenaError(f"an arena needs at least two entrants, got {entrants}")
    return entrants


def run_arena(
    env: str,
    specs: Sequence[str],
    rounds: int = 10,
    seed: int = 0,
    out: str | Path = DEFAULT_OUT,
    workers: int = 1,
    env_kwargs: Mapping[str, Any] | None = None,
    builtins: bool = True,
    override_run_settings: bool = False,
    address: str | None = None,
) -> dict[str, Any]:
    """Play the arena and write its files; the Python side of ``mfzoo arena``.

    Args:
        env: a registered environment with two teams (``battle``).
        specs: entrant SPECs (``mfzoo eval``'s); ``random`` and ``scripted`` are added with ``builtins``.
        rounds: rounds per pair and side (each pair plays ``2 * rounds`` games).
        seed: the arena seed (every pairing's seed derives from it).
        out: output folder.
        workers: processes playing pairings at once (1: this process).
        env_kwargs: environment arguments on top of the training defaults and of the settings the entrants
            were trained with (a run's ``config.json``; ``mfagents.training.run_settings.merge_env_kwargs``): every
            pairing plays on the same settings.
        builtins: add the built-in entrants.
        override_run_settings: let ``env_kwargs`` differ from the settings a run was trained with.
        address: play the pairings as Ray tasks on this cluster (``auto``, ``ray://HOST:10001``) instead of
            ``workers`` local processes; the entrants' SPECs must resolve on every node.

    Returns:
        The JSON summary (entrants, ratings, file paths).

    Raises:
        ArenaError: bad settings; ``ValueError`` from ``evaluate`` for a bad SPEC.
    """
    from mfagents.common.pipeline import BATTLE_GAMES
    from mfagents.training.run_settings import merge_env_kwargs
    from mfenvs.registration import find

    entry = find(env)
    check_arena_env(entry.short_name)
    for name, value in (("rounds", rounds), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ArenaError(f"{name} must be a positive integer, got {value!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ArenaError(f"--out {out} is a file, not a folder; choose a folder (it is created if missing)")
    entrants = entrant_list(specs, builtins, scripted=entry.short_name in BATTLE_GAMES)
    env_kwargs = merge_env_kwargs(entry, {spec: spec for spec in entrants}, env_kwargs, override=override_run_settings)
    pairings = schedule(entrants, rounds, seed, entry.env_id, env_kwargs)
    results = play_all(pairings, workers, address)
    tables = tabulate(entrants, pairings, results)

    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / filename for name, filename in (("pairs_csv", PAIRS_CSV), ("ratings_csv", RATINGS_CSV), ("json", ARENA_JSON), ("heatmap", HEATMAP_PNG))}
    write_pairs_csv(files["pairs_csv"], tables["matchups"])
    write_ratings_csv(files["ratings_csv"], tables["ratings"])
    ranked = [entrants.index(row["entrant"]) for row in tables["ratings"]]  # the heat map reads best first
    by_rank = np.ix_(ranked, ranked)
    plot_win_rates(files["heatmap"], [entrants[i] for i in ranked], tables["win_rates"][by_rank], tables["games"][by_rank])
    report = {
        "env": entry.env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "rounds_per_side": rounds,
        "seed": seed,
        "entrants": entrants,
        "ratings": tables["ratings"],
        "matchups": [asdict(m) for m in tables["matchups"]],
        "win_rate_matrix": [[None if np.isnan(v) else float(v) for v in row] for row in tables["win_rates"]],
        "pairings": [{**asdict(p), **r} for p, r in zip(pairings, results)],
    }
    files["json"].write_text(json.dumps(report, indent=2) + "\n")
    return {
        "command": "arena",
        "env": entry.env_id,
        "entrants": entrants,
        "rounds_per_side": rounds,
        "seed": seed,
        "workers": workers,
        "address": address,
        "ratings": [{key: row[key] for key in ("rank", "entrant", "elo", "score")} for row in tables["ratings"]],
        "files": {name: str(path) for name, path in files.items()},
        "tables": format_tables(entrants, tables),
    }
