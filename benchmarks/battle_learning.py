"""Battle learning with the defaults: every seed's team against random and scripted, and (two algorithms) cross-play.

For each algorithm and seed this runs ``mfzoo train battle --algo ALGO --seed SEED --out
RUNS/ALGO-sSEED`` (the paper's setup and the budget of ``mfagents.training.config.TRAINING_DEFAULTS``;
finished runs are skipped, stopped ones resumed), then plays every trained team greedily, as red,
against ``random`` and ``scripted`` on the paper's map, and finally, given two algorithms, the paper's
claim about them: every seed of the first against every seed of the second, on both sides,
``--cross-rounds`` rounds per pairing. All evaluation
seeds differ from the training seeds. Win rates carry 95 % Wilson intervals over the games (games of
one pair of seeds are not independent of each other, so the per-pair table is printed too).

A candidate recipe before it becomes the default: ``--opponent SPEC`` and ``--rounds N`` are passed to
``mfzoo train`` (and named in the table), ``--checkpoint best`` evaluates each run's ``best.safetensors`` (its
best evaluation while training, on the panel's seeds, not on the ones reported here). As a guard (issue 23),
``--guard 0.8`` exits with status 1 unless every seed's team wins at least that share of its rounds against
``scripted`` and every round against ``random``.

Run::

    python benchmarks/battle_learning.py                      # 3 seeds of MF-Q and IL: ~1 hour of one core per run
    python benchmarks/battle_learning.py --eval-only --write  # evaluate finished runs, update BENCHMARKS.md
    python benchmarks/battle_learning.py --algos mfac,ac --seeds 0,1 --write  # MF-AC and AC, their own section
    python benchmarks/battle_learning.py --opponent pool:scripted=2,self=2,random=1 --rounds 2000 \
        --algo-kwarg buffer_size=300000 --checkpoint best --guard 0.8     # the recipe candidate of issue 23
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS_DIR.parent))
sys.path.insert(0, str(BENCHMARKS_DIR))

from _timing import machine_description, publish  # noqa: E402
from battle_zoo import EVAL_SEED, train_command, train_run, wall_time_s  # noqa: E402

import mfagents  # noqa: E402
from mfagents.common.checkpoint import BEST_CHECKPOINT_NAME  # noqa: E402
from mfagents.evaluation.stats import wilson_interval  # noqa: E402
from mfagents.experiments.reproduce import mean_interval  # noqa: E402
from mfagents.training.config import parse_key_values  # noqa: E402

SECTION = "## Battle learning with the defaults (issue 10)"
"""The section of the default run (MF-Q and IL); other algorithm sets get their own (``section_title``)."""
LABELS = {"mfq": "MF-Q", "il": "IL", "mfac": "MF-AC", "ac": "AC"}
PAPER_WIN_RATES = {("mfq", "il"): 0.90, ("mfq", "mfac"): 0.99, ("mfq", "ac"): 0.98, ("il", "mfac"): 0.96, ("il", "ac"): 0.97, ("mfac", "ac"): 0.72}
"""The paper's cross-play win rates after 2000 rounds (row algorithm against column algorithm)."""


def section_title(algos: list[str]) -> str:
    """BENCHMARKS.md section of these algorithms: MF-Q and IL keep the original one."""
    if set(algos) == {"mfq", "il"}:
        return SECTION
    return f"## Battle learning with the defaults: {', '.join(LABELS.get(a, a) for a in algos)} (issue 10)"
OPPONENTS = ("random", "scripted")


def evaluate_team(run_dir: Path, opponent: str, rounds: int, seed: int) -> dict:
    """``run_dir`` (a run directory or checkpoint file) as red against ``opponent``, greedy."""
    result = mfagents.evaluate("battle", red=str(run_dir), blue=opponent, rounds=rounds, seed=seed)
    return {key: result[key] for key in ("red_wins", "draws", "blue_wins", "red_mean_kills", "blue_mean_kills")}


def cross_play(first: Path, second: Path, rounds: int, seed: int) -> dict:
    """``first`` against ``second``: ``rounds`` rounds as red, then ``rounds`` as blue; counts from ``first``'s side."""
    as_red = mfagents.evaluate("battle", red=str(first), blue=str(second), rounds=rounds, seed=seed)
    as_blue = mfagents.evaluate("battle", red=str(second), blue=str(first), rounds=rounds, seed=seed + 1)
    return {
        "wins": as_red["red_wins"] + as_blue["blue_wins"],
        "draws": as_red["draws"] + as_blue["draws"],
        "losses": as_red["blue_wins"] + as_blue["red_wins"],
        "kills": (as_red["red_mean_kills"] + as_blue["blue_mean_kills"]) / 2,
        "opponent_kills": (as_red["blue_mean_kills"] + as_blue["red_mean_kills"]) / 2,
    }


def rate_text(wins: int, games: int) -> str:
    low, high = wilson_interval(wins, games)
    return f"{wins / games:.2f} ({low:.2f}-{high:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", default="mfq,il", help="comma-separated algorithms (default: mfq,il)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds (default: 0,1,2)")
    parser.add_argument("--runs", type=Path, default=Path("runs/zoo"), help="folder of the training runs")
    parser.add_argument("--eval-rounds", type=int, default=20, help="rounds against each opponent (default: 20)")
    parser.add_argument("--cross-rounds", type=int, default=10, help="with two algorithms, cross-play rounds per pairing and side (default: 10)")
    parser.add_argument("--eval-only", action="store_true", help="do not train: evaluate finished runs")
    parser.add_argument("--opponent", default=None, metavar="SPEC", help="mfzoo train --opponent (default: the defaults')")
    parser.add_argument("--rounds", type=int, default=None, help="mfzoo train --rounds (default: the defaults')")
    parser.add_argument("--algo-kwarg", action="append", default=[], metavar="KEY=VALUE", help="mfzoo train --algo-kwarg (repeatable; default: the defaults')")
    parser.add_argument("--checkpoint", choices=("last", "best"), default="last", help="evaluate each run's last or best checkpoint (default: last)")
    parser.add_argument("--guard", type=float, default=None, metavar="RATE", help="exit 1 unless every seed wins >= RATE against scripted and every round against random")
    parser.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md")
    args = parser.parse_args()
    algos = [a for a in args.algos.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    runs = {(algo, seed): args.runs / f"{algo}-s{seed}" for algo in algos for seed in seeds}
    train_options = {"opponent": args.opponent, "rounds": args.rounds, "algo_kwargs": parse_key_values(args.algo_kwarg, "--algo-kwarg")}
    if not args.eval_only:
        for (algo, seed), run_dir in runs.items():
            train_run(algo, seed, run_dir, **train_options)
    played = {key: run_dir / BEST_CHECKPOINT_NAME if args.checkpoint == "best" else run_dir for key, run_dir in runs.items()}

    lines = [
        section_title(algos),
        "",
        f"Command: `python {' '.join(sys.argv)}`  ",
        f"Machine: {machine_description()}  ",
        "Training: `mfzoo train battle --algo ALGO --seed SEED` with " + (f"`{train_flags(train_options).strip()}`" if train_flags(train_options) else "no other flag") + " (the paper's 40 x 40,",
        "64 v 64, 400-step rounds, minimap and features; the defaults' opponent and budget unless named). Every seed that ran is listed.",
        f"Evaluation: greedy, as red, on the paper's map, seed {EVAL_SEED} (never a training seed), each run's "
        + ("`best.safetensors` (its best evaluation while training)" if args.checkpoint == "best" else "last checkpoint")
        + "; W-D-L, the win rate with its 95 % Wilson interval, and mean kills per round (trained team v opponent).",
        "",
        "| run | training time | vs random: W-D-L, win rate (CI), kills | vs scripted: W-D-L, win rate (CI), kills |",
        "|---|---|---|---|",
    ]
    win_rates: dict[str, dict[str, list[float]]] = {algo: {o: [] for o in OPPONENTS} for algo in algos}
    for (algo, seed), run_dir in runs.items():
        cells = []
        for opponent in OPPONENTS:
            r = evaluate_team(played[algo, seed], opponent, args.eval_rounds, EVAL_SEED)
            print(f"{algo} seed {seed} vs {opponent}: {json.dumps(r)}", flush=True)
            games = r["red_wins"] + r["draws"] + r["blue_wins"]
            win_rates[algo][opponent].append(r["red_wins"] / games)
            cells.append(
                f"{r['red_wins']}-{r['draws']}-{r['blue_wins']}, {rate_text(r['red_wins'], games)}, "
                f"{r['red_mean_kills']:.1f} v {r['blue_mean_kills']:.1f}"
            )
        minutes = wall_time_s(run_dir) / 60
        lines.append(f"| `{train_command(algo, seed, run_dir)}{train_flags(train_options)}` | {minutes:.0f} min | {cells[0]} | {cells[1]} |")
    lines += ["", "Seed level (mean of the per-seed win rates, Student-t 95 % interval over seeds):", ""]
    for algo in algos:
        parts = []
        for opponent in OPPONENTS:
            mean, low, high = mean_interval(win_rates[algo][opponent])
            parts.append(f"against {opponent} {mean:.2f} ({low:.2f}-{high:.2f})")
        lines.append(f"- {LABELS.get(algo, algo)}, {len(seeds)} seeds: {'; '.join(parts)}")

    if len(algos) == 2:
        first, second = algos
        name, other = LABELS.get(first, first), LABELS.get(second, second)
        lines += [
            "",
            f"{name} against {other}: every {name} seed against every {other} seed, {args.cross_rounds} rounds on each side.",
            "",
            f"| {name} seed | {other} seed | {name} W-D-L | {name} kills v {other} kills |",
            "|---|---|---|---|",
        ]
        total = {"wins": 0, "draws": 0, "losses": 0}
        for i, first_seed in enumerate(seeds):
            for j, second_seed in enumerate(seeds):
                pair = cross_play(runs[first, first_seed], runs[second, second_seed], args.cross_rounds, EVAL_SEED + 10 * i + 100 * j)
                print(f"{first} {first_seed} v {second} {second_seed}: {json.dumps(pair)}", flush=True)
                for key in total:
                    total[key] += pair[key]
                lines.append(
                    f"| {first_seed} | {second_seed} | {pair['wins']}-{pair['draws']}-{pair['losses']} | "
                    f"{pair['kills']:.1f} v {pair['opponent_kills']:.1f} |"
                )
        games = sum(total.values())
        paper = PAPER_WIN_RATES.get((first, second))
        lines += [
            "",
            f"**{name}'s win rate against {other}: {rate_text(total['wins'], games)}** over {games} games "
            f"({total['wins']}-{total['draws']}-{total['losses']})"
            + (f"; the paper reports {paper:.2f} after 2000 rounds." if paper is not None else "."),
        ]
    publish(section_title(algos), "\n".join(lines), args.write, BENCHMARKS_DIR.parent / "BENCHMARKS.md")
    if args.guard is not None:
        failing = [
            f"{algo}: scripted {min(rates['scripted']):.2f} < {args.guard}" if min(rates["scripted"]) < args.guard else f"{algo}: lost a round to random"
            for algo, rates in win_rates.items()
            if min(rates["scripted"]) < args.guard or min(rates["random"]) < 1.0
        ]
        if failing:
            print("GUARD FAILED: " + "; ".join(failing), file=sys.stderr)
            sys.exit(1)
        print(f"guard passed: every seed won >= {args.guard} against scripted and every round against random")


def train_flags(options: dict) -> str:
    """`` --opponent X --rounds N --algo-kwarg K=V`` for the options that were given."""
    flags = "".join(f" --{key} {value}" for key, value in options.items() if value is not None and key != "algo_kwargs")
    return flags + "".join(f" --algo-kwarg {key}={value}" for key, value in (options.get("algo_kwargs") or {}).items())


if __name__ == "__main__":
    main()
