"""Reproduce the paper's Ising experiment (appendix C.2): the phase diagram of tabular MF-Q against Metropolis.

What is measured: the late-time mean order parameter xi = abs(N_up - N_down) / N on the paper's 20 x 20 torus
(h = 0, coupling 1), at physical temperatures T from about 0.5 T_c to 1.6 T_c (plus T = 4, the paper's
last point), for tabular MF-Q (``--algo tabular_mfq``, seeds 0, 1, 2) and for the Metropolis sampler of
``mfenvs.ising.metropolis``, measured the same way.

Convention: a Boltzmann policy at temperature tau over the exact Q(abar, a) = a (n_up - 2) is heat-bath
dynamics at physical temperature T = 2 tau (REFERENCE.md section 4), so a run at T trains with
``temperature_end = T / 2``; the paper's axis is tau, and its points are drawn at T = 2 tau.

How MF-Q is run (what makes it match the sampler; the paper's settings do not, see ``REPRODUCTION.md``):

* **asynchronous revision**: each step only ``REVISION_RATE`` (10 %) of the sites act on their policy, the
  others repeat their spin, so that neighbours rarely change together (near single-site heat-bath
  dynamics); ``MAX_CYCLES * REVISION_RATE`` = 150 revisions per site per round, the unit the sampler's
  sweeps are counted in;
* **ordered start**: every round starts from the all-up lattice (env ``initial="up"``, learner
  ``revision_initial_action=1``), the start of the Metropolis reference; from random spins a quenched
  20 x 20 torus below T_c often sits in stripe states (xi near 0) far longer than a round;
* **temperature**: from ``TEMPERATURE_START`` geometrically to tau = T / 2 over rounds 1-5, then held
  at tau for round 6;
* **concurrent pairing** (``mean_action_input="concurrent"``): r_t is credited to the neighbours' actions
  of the same step, so the learned Q is exact and the policy is heat-bath (see ``mfagents.algos.tabular_mfq``);
* **late-time mean**: a round's value is the mean of xi over its second half of steps (the loop's
  ``xi_late``); the run's value is the loop's last logged window (round 6, at tau).

The Metropolis reference is measured identically: per (temperature, seed), ``MCMC_ROUNDS_PER_SEED`` rounds from
all-up of ``MAX_CYCLES * REVISION_RATE`` sweeps each, each scored by its mean abs(m) over the second half of
its sweeps; a long chain (``LONG_CHAIN_SWEEPS``) gives the 20 x 20 equilibrium value for comparison.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mfagents.experiments.sweep import RunSpec
from mfenvs.ising import metropolis

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
"""Onsager's critical temperature of the 2-D Ising model (J = 1, k_B = 1): 2.269."""

SIZE = 20
SEEDS = (0, 1, 2)
TEMPERATURES = (1.2, 1.6, 2.0, 2.2, 2.3, 2.4, 2.5, 2.6, 2.8, 3.0, 3.6, 4.0)
"""Physical temperatures T of the full run (0.53 T_c to 1.76 T_c; 4.0 is the paper's tau = 2.0)."""
QUICK_TEMPERATURES = (1.4, 3.6)
ROUNDS = 6
"""Rounds per run: 5 while the temperature decays to tau, then 1 at tau, alone in the loop's last log row
(the loop logs every 5 rounds and at the end)."""
MAX_CYCLES = 1500
"""Steps per round: 150 revisions per site at 10 % revision, to relax from all-up near T_c."""
REVISION_RATE = 0.1
TEMPERATURE_START = 2.0
"""Policy temperature at the start of training (physical T = 4, disordered: every configuration is visited)."""
TEMPERATURE_FRACTION = 0.8
"""Rounds 1-5 start below 0.8 of the budget (decaying temperature); round 6 starts at 5/6, at tau."""
PAPER_ROUNDS, PAPER_MAX_CYCLES = 15, 4000
"""``preset="paper"``: five times the budget (rounds 11-15 measured, twice as long each), for a cluster."""
QUICK_ROUNDS, QUICK_MAX_CYCLES = 6, 100
MCMC_ROUNDS_PER_SEED = 10
"""Metropolis rounds per (temperature, seed): the sampler is cheap, so its estimate gets more rounds than MF-Q's."""
LONG_CHAIN_SWEEPS = 20_000
QUICK_LONG_CHAIN_SWEEPS = 500
MCMC_SEED_OFFSET = 10_000
"""Metropolis chains are seeded ``MCMC_SEED_OFFSET + 1000 * seed + round`` (no overlap with training seeds)."""
SNAPSHOT_TEMPERATURES = (1.6, 2.3, 3.0)
PAPER_POINTS = (
    # (policy temperature tau, paper's MCMC xi, paper's MF-Q xi), read off the paper's figure
    (1.0, 0.95, 0.98),
    (1.1, 0.80, 0.95),
    (1.2, 0.40, 0.28),
    (1.3, 0.29, 0.25),
    (1.5, 0.08, 0.11),
    (2.0, 0.07, 0.11),
)
TARGET_MEAN_GAP = 0.08
TARGET_CROSSING_GAP = 0.10
COMMAND = """export PYTHONPATH=$PWD OMP_NUM_THREADS=1
for half in 0 1; do  # two processes, each running every other run
  nice -n 10 python -c "
from mfagents.experiments.reproduce import ising
from mfagents.experiments.sweep import run_one
for spec in ising.runs(quick=False)[$half::2]:
    run_one(spec, 'runs/reproduce/ising')
" &
done; wait
python -c "
from pathlib import Path
from mfagents.experiments.reproduce import ising
print(ising.analyse(Path('runs/reproduce/ising'), Path('results/ising'), quick=False))
\""""
"""The command that produced the committed results (``mfzoo reproduce ising`` runs the same)."""


def onsager(temperature: float) -> float:
    """Spontaneous magnetisation of the infinite lattice: (1 - sinh(2 / T)^-4)^(1/8) below T_c, 0 above."""
    if temperature >= T_C:
        return 0.0
    return (1.0 - math.sinh(2.0 / temperature) ** -4) ** 0.125


def _budget(quick: bool, preset: str | None) -> tuple[int, int]:
    if preset not in (None, "default", "paper"):
        raise ValueError(f"preset must be None, 'default' or 'paper', got {preset!r}")
    if quick:
        return QUICK_ROUNDS, QUICK_MAX_CYCLES
    return (PAPER_ROUNDS, PAPER_MAX_CYCLES) if preset == "paper" else (ROUNDS, MAX_CYCLES)


def runs(quick: bool, preset: str | None = None) -> list[RunSpec]:
    """The MF-Q training runs: one per (physical temperature, seed), trained at policy temperature T / 2.

    Args:
        quick: two temperatures, seed 0, two rounds of 100 steps (seconds in all).
        preset: None / ``default`` (the committed budget) or ``paper`` (four times it; for a cluster).
    """
    rounds, max_cycles = _budget(quick, preset)
    temperatures = QUICK_TEMPERATURES if quick else TEMPERATURES
    seeds = SEEDS[:1] if quick else SEEDS
    return [
        RunSpec(
            env="ising",
            algo="tabular_mfq",
            seed=seed,
            env_kwargs={"size": SIZE, "max_cycles": max_cycles, "initial": "up"},
            algo_kwargs={
                "revision_rate": REVISION_RATE,
                "revision_initial_action": 1,
                "mean_action_input": "concurrent",
                "temperature_start": TEMPERATURE_START,
                "temperature_end": round(temperature / 2, 6),
                "temperature_fraction": TEMPERATURE_FRACTION,
            },
            rounds=rounds,
        )
        for temperature in temperatures
        for seed in seeds
    ]


# == reading the runs ===============================================================================
def read_run(run_dir: Path) -> dict[str, Any]:
    """A finished run's late-time xi: the last metrics row (mean over its window of rounds), its window and wall time.

    Raises:
        FileNotFoundError: the run has no ``metrics.csv`` / ``config.json`` (not run yet).
        ValueError: the run is unfinished or its last window was not at the final temperature.
    """
    for name in ("config.json", "metrics.csv"):
        if not (run_dir / name).exists():
            raise FileNotFoundError(f"{run_dir}: no {name}; run the experiment's training runs first")
    config = json.loads((run_dir / "config.json").read_text())
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or int(rows[-1]["rounds"]) < config["rounds"]:
        raise ValueError(f"{run_dir}: unfinished ({rows[-1]['rounds'] if rows else 0} of {config['rounds']} rounds)")
    last = rows[-1]
    tau = float(config["algo_kwargs"]["temperature_end"])
    if not math.isclose(float(last["charts/temperature"]), tau, rel_tol=1e-6):
        raise ValueError(f"{run_dir}: the last window ended at temperature {last['charts/temperature']}, not tau = {tau}")
    first_round = int(rows[-2]["rounds"]) + 1 if len(rows) > 1 else 1
    return {
        "tau": tau,
        "seed": int(config["seed"]),
        "xi_late": float(last["charts/xi_late"]),
        "window": (first_round, int(last["rounds"])),
        "wall_time_s": float(last["perf/wall_time_s"]),
        "max_cycles": int(config["env_kwargs"]["max_cycles"]),
        "revision_rate": float(config["algo_kwargs"]["revision_rate"]),
        "rounds": int(config["rounds"]),
    }


def _present_specs(runs_dir: Path, quick: bool) -> list[RunSpec]:
    """The spec list (default or paper preset) whose runs are all in ``runs_dir``."""
    for preset in (None, "paper"):
        specs = runs(quick, preset)
        if all((runs_dir / spec.name / "metrics.csv").exists() for spec in specs):
            return specs
    missing = [spec.name for spec in runs(quick) if not (runs_dir / spec.name / "metrics.csv").exists()]
    raise FileNotFoundError(f"{runs_dir}: {len(missing)} runs missing (e.g. {missing[0]}); run ising.runs() first")


# == the Metropolis reference =======================================================================
def metropolis_window(temperature: float, seed: int, window_rounds: int, sweeps: int) -> float:
    """The sampler scored like a MF-Q run: ``window_rounds`` rounds from all-up of ``sweeps`` sweeps, each the
    mean abs(m) over its second half, averaged."""
    values = [
        float(np.abs(metropolis(SIZE, temperature, sweeps, seed=MCMC_SEED_OFFSET + 1000 * seed + r)[sweeps // 2 :]).mean())
        for r in range(window_rounds)
    ]
    return float(np.mean(values))


def crossing_temperature(temperatures: Sequence[float], xi: Sequence[float], level: float = 0.5) -> float:
    """The first temperature where ``xi`` falls through ``level`` (linear interpolation); NaN if it never does."""
    for (t0, x0), (t1, x1) in zip(zip(temperatures, xi), zip(temperatures[1:], xi[1:])):
        if x0 >= level > x1:
            return t0 + (x0 - level) * (t1 - t0) / (x0 - x1)
    return float("nan")


# == snapshots: the learned policy replayed from the all-up lattice ================================
def _mfq_snapshot(run_dir: Path, steps: int, seed: int) -> np.ndarray:
    """The lattice after ``steps`` steps of the run's learned Q table acting at its final temperature."""
    from mfagents.algos.tabular_mfq import make_tabular_mfq
    from mfagents.common.checkpoint import load_checkpoint
    from mfenvs.ising import IsingConfig, IsingCore

    config = json.loads((run_dir / "config.json").read_text())
    core = IsingCore(IsingConfig(**{k: v for k, v in config["env_kwargs"].items() if k != "max_cycles"}, max_cycles=steps))
    tensors, _ = load_checkpoint(run_dir / "checkpoint.safetensors", required=["learner/q_table"])
    learner = make_tabular_mfq(core.observation_space, 2, core.config.n_sites, seed, **config["algo_kwargs"])
    learner.load_policy_state_dict({"q_table": tensors["learner/q_table"]})
    learner.set_progress(1.0)
    out = core.reset(seed=seed)
    for _ in range(steps):
        out = core.step(learner.act(out.observations, out.mean_actions, explore=True))
    return core.state()


def _metropolis_snapshot(temperature: float, sweeps: int, seed: int) -> np.ndarray:
    """A Metropolis lattice after ``sweeps`` sweeps from all-up (same single-site rule, sequential order)."""
    rng = np.random.default_rng(seed)
    spins = np.ones((SIZE, SIZE), dtype=np.int8)
    for _ in range(sweeps):
        for site in rng.integers(0, SIZE * SIZE, SIZE * SIZE):
            y, x = divmod(int(site), SIZE)
            s = spins[(y - 1) % SIZE, x] + spins[(y + 1) % SIZE, x] + spins[y, (x - 1) % SIZE] + spins[y, (x + 1) % SIZE]
            d_e = 2.0 * spins[y, x] * s
            if d_e <= 0 or rng.random() < math.exp(-d_e / temperature):
                spins[y, x] = -spins[y, x]
    return spins


# == analysis =======================================================================================
def analyse(runs_dir: Path, results_dir: Path, quick: bool, address: str | None = None) -> str:
    """Read the runs, compute the Metropolis reference, write CSVs and plots, return the REPRODUCTION.md section.

    ``address`` is unused: the analysis runs here in seconds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    started = time.perf_counter()
    runs_dir, results_dir = Path(runs_dir), Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    specs = _present_specs(runs_dir, quick)
    records = []
    for spec in specs:
        record = read_run(runs_dir / spec.name)
        records.append({"name": spec.name, "T": round(2 * record["tau"], 6), **record})
    temperatures = sorted({r["T"] for r in records})
    seeds = sorted({r["seed"] for r in records})
    first = records[0]
    window_rounds = first["window"][1] - first["window"][0] + 1
    sweeps = int(round(first["max_cycles"] * first["revision_rate"]))
    long_sweeps = QUICK_LONG_CHAIN_SWEEPS if quick else LONG_CHAIN_SWEEPS
    mcmc_rounds = max(window_rounds, MCMC_ROUNDS_PER_SEED)

    table = []
    for temperature in temperatures:
        mfq = [r["xi_late"] for seed in seeds for r in records if r["T"] == temperature and r["seed"] == seed]
        mcmc = [metropolis_window(temperature, seed, mcmc_rounds, sweeps) for seed in seeds]
        chain = np.abs(metropolis(SIZE, temperature, long_sweeps, seed=MCMC_SEED_OFFSET - 1))[long_sweeps // 10 :]
        table.append(
            {
                "T": temperature,
                "tau": temperature / 2,
                "T_over_Tc": temperature / T_C,
                "xi_mfq_mean": float(np.mean(mfq)),
                "xi_mfq_std": float(np.std(mfq, ddof=1)) if len(mfq) > 1 else 0.0,
                **{f"xi_mfq_s{seed}": value for seed, value in zip(seeds, mfq)},
                "xi_mcmc_mean": float(np.mean(mcmc)),
                "xi_mcmc_std": float(np.std(mcmc, ddof=1)) if len(mcmc) > 1 else 0.0,
                **{f"xi_mcmc_s{seed}": value for seed, value in zip(seeds, mcmc)},
                "xi_mcmc_long_chain": float(chain.mean()),
                "onsager": onsager(temperature),
            }
        )
    gaps = np.array([abs(row["xi_mfq_mean"] - row["xi_mcmc_mean"]) for row in table])
    per_seed_gaps = [float(np.mean([abs(row[f"xi_mfq_s{s}"] - row[f"xi_mcmc_s{s}"]) for row in table])) for s in seeds]
    t_mfq = crossing_temperature(temperatures, [row["xi_mfq_mean"] for row in table])
    t_mcmc = crossing_temperature(temperatures, [row["xi_mcmc_mean"] for row in table])
    crossing_gap = abs(t_mfq - t_mcmc) / t_mcmc if math.isfinite(t_mfq) and math.isfinite(t_mcmc) else float("nan")
    seed_crossings = [crossing_temperature(temperatures, [row[f"xi_mfq_s{s}"] for row in table]) for s in seeds]

    _write_csv(results_dir / "phase_diagram.csv", table)
    _write_csv(
        results_dir / "runs.csv",
        [{k: r[k] for k in ("name", "T", "tau", "seed", "xi_late", "wall_time_s")} | {"window_rounds": f"{r['window'][0]}-{r['window'][1]}"} for r in records],
    )
    _write_csv(results_dir / "paper_points.csv", [{"tau": t, "T": 2 * t, "xi_mcmc_paper": a, "xi_mfq_paper": b} for t, a, b in PAPER_POINTS])
    _plot_phase_diagram(plt, results_dir / "phase_diagram.png", table, seeds, t_mfq, t_mcmc)
    snapshot_temperatures = [t for t in temperatures if t in SNAPSHOT_TEMPERATURES] or temperatures[:: max(1, len(temperatures) // 2)]
    snapshot_steps = first["max_cycles"]
    _plot_snapshots(plt, results_dir / "snapshots.png", runs_dir, records, snapshot_temperatures, snapshot_steps, sweeps, seeds[0])
    analysis_s = time.perf_counter() - started

    return _section(table, records, seeds, gaps, per_seed_gaps, t_mfq, t_mcmc, crossing_gap, seed_crossings, window_rounds, mcmc_rounds, sweeps, long_sweeps, analysis_s, quick)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in row.items()})


def _plot_phase_diagram(plt: Any, path: Path, table: list[dict[str, Any]], seeds: list[int], t_mfq: float, t_mcmc: float) -> None:
    temperatures = np.array([row["T"] for row in table])
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    fine = np.linspace(min(temperatures.min(), 1.0), max(temperatures.max(), 4.2), 400)
    ax.plot(fine, [onsager(t) for t in fine], color="0.35", lw=1.5, label="Onsager (infinite lattice)")
    ax.plot(temperatures, [row["xi_mcmc_long_chain"] for row in table], color="0.6", ls=":", lw=1.5, label="Metropolis, long chain (20x20 equilibrium)")
    ax.errorbar(temperatures, [row["xi_mcmc_mean"] for row in table], yerr=[row["xi_mcmc_std"] for row in table], color="#0072B2", marker="s", ms=5, capsize=3, lw=1.5, label="Metropolis, same window as MF-Q")
    ax.errorbar(temperatures, [row["xi_mfq_mean"] for row in table], yerr=[row["xi_mfq_std"] for row in table], color="#D55E00", marker="o", ms=5, capsize=3, lw=1.5, label=f"tabular MF-Q (mean, sd over {len(seeds)} seeds)")
    for seed in seeds:
        ax.plot(temperatures, [row[f"xi_mfq_s{seed}"] for row in table], ls="none", marker=".", ms=4, color="#D55E00", alpha=0.45)
    paper_t = [2 * t for t, _, _ in PAPER_POINTS]
    ax.plot(paper_t, [a for _, a, _ in PAPER_POINTS], ls="none", marker="s", mfc="none", mec="#0072B2", ms=8, mew=1.5, label="paper: MCMC (at T = 2 tau)")
    ax.plot(paper_t, [b for _, _, b in PAPER_POINTS], ls="none", marker="^", mfc="none", mec="#D55E00", ms=8, mew=1.5, label="paper: MF-Q (at T = 2 tau)")
    ax.axvline(T_C, color="0.5", ls="--", lw=1)
    ax.text(T_C + 0.03, 1.02, "T_c", color="0.4")
    ax.axhline(0.5, color="0.8", lw=0.8)
    ax.set_xlabel("physical temperature T (policy temperature tau = T / 2)")
    ax.set_ylabel("late-time order parameter xi = |N_up - N_down| / N")
    ax.set_ylim(-0.02, 1.08)
    ax.set_title(f"Ising 20x20: crossing of xi = 0.5 at T = {t_mfq:.2f} (MF-Q), {t_mcmc:.2f} (Metropolis)")
    top = ax.secondary_xaxis("top", functions=(lambda t: t / 2, lambda tau: 2 * tau))
    top.set_xlabel("policy temperature tau")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_snapshots(plt: Any, path: Path, runs_dir: Path, records: list[dict[str, Any]], temperatures: Sequence[float], steps: int, sweeps: int, seed: int) -> None:
    fig, axes = plt.subplots(2, len(temperatures), figsize=(2.6 * len(temperatures), 6.0), dpi=100, squeeze=False, layout="constrained")
    for column, temperature in enumerate(temperatures):
        record = next(r for r in records if r["T"] == temperature and r["seed"] == seed)
        lattices = (
            ("MF-Q", _mfq_snapshot(runs_dir / record["name"], steps, seed)),
            ("Metropolis", _metropolis_snapshot(temperature, sweeps, MCMC_SEED_OFFSET + seed)),
        )
        for row, (label, spins) in enumerate(lattices):
            ax = axes[row, column]
            ax.imshow(spins, cmap="cividis", vmin=-1, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{label}, T = {temperature:g}\nxi = {abs(spins.mean()):.2f}", fontsize=9)
    fig.suptitle(f"One round from all-up, seed {seed}\nMF-Q: {steps} steps at 10 % revision; Metropolis: {sweeps} sweeps", fontsize=9)
    fig.savefig(path)
    plt.close(fig)


def _rounds_text(window: tuple[int, int]) -> str:
    return f"round {window[0]}" if window[0] == window[1] else f"rounds {window[0]}-{window[1]}"


def _verdict(value: float, target: float) -> str:
    if not math.isfinite(value):
        return "**miss** (no crossing)"
    return f"**pass** ({target - value:.3f} under the target)" if value <= target else f"**miss** (by {value - target:.3f})"


def _section(table, records, seeds, gaps, per_seed_gaps, t_mfq, t_mcmc, crossing_gap, seed_crossings, window_rounds, mcmc_rounds, sweeps, long_sweeps, analysis_s, quick) -> str:
    rounds, max_cycles = records[0]["rounds"], records[0]["max_cycles"]
    train_s = sum(r["wall_time_s"] for r in records)
    lines = [
        "## Ising",
        "",
        "Phase diagram of the 20 x 20 Ising lattice (h = 0, coupling 1): late-time order parameter xi = |N_up - N_down| / N "
        f"of tabular MF-Q against the Metropolis sampler, at {len(table)} physical temperatures, seeds {', '.join(map(str, seeds))}"
        + (" (**quick run**: tiny budget, not the committed results)." if quick else "."),
        "",
        "![phase diagram](results/ising/phase_diagram.png)",
        "",
        "![snapshots](results/ising/snapshots.png)",
        "",
        "**Convention.** The policy temperature tau relates to the physical temperature by **T = 2 tau**: a Boltzmann policy "
        "at tau over the exact Q(n_up, a) = a (n_up - 2) is heat-bath dynamics at T = 2 tau (the reward of Eq. 33 counts "
        "each bond with weight 1/2). Onsager's T_c = 2.269 is tau = 1.13, the paper's \"critical temperature near 1.2\". "
        "The paper's points (tau 1.0 ... 2.0) are drawn at T = 2 tau.",
        "",
        "**Measure (same for both).** Every round starts from the all-up lattice; a round's value is the mean of xi over "
        f"its second half. MF-Q: {max_cycles} steps per round with 10 % of the sites revising per step ({sweeps} revisions "
        f"per site); a run's value is its last logged window, {_rounds_text(records[0]['window'])} of {rounds} (at tau), one value "
        f"per seed. Metropolis: rounds of {sweeps} sweeps, {mcmc_rounds} per seed (seeded per temperature, seed and round; "
        "the sampler is cheap, so it gets more rounds, same expectation, less noise). "
        f"The dotted curve is one {long_sweeps}-sweep Metropolis chain per "
        "temperature (the 20 x 20 equilibrium value, for reference). The ordered start is chosen because a 20 x 20 torus "
        "quenched below T_c from random spins often stays in stripe states (xi near 0) for longer than a round, for "
        "the sampler and MF-Q alike; from all-up both measure the ordered phase.",
        "",
        "| T | tau | T / T_c | MF-Q xi (mean +- sd) | MF-Q per seed | Metropolis xi (same window) | Metropolis long chain | Onsager | abs. gap |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row, gap in zip(table, gaps):
        per_seed = " / ".join(f"{row[f'xi_mfq_s{s}']:.3f}" for s in seeds)
        lines.append(
            f"| {row['T']:g} | {row['tau']:g} | {row['T_over_Tc']:.2f} | {row['xi_mfq_mean']:.3f} +- {row['xi_mfq_std']:.3f} | {per_seed} "
            f"| {row['xi_mcmc_mean']:.3f} +- {row['xi_mcmc_std']:.3f} | {row['xi_mcmc_long_chain']:.3f} | {row['onsager']:.3f} | {gap:.3f} |"
        )
    seed_text = ", ".join(f"seed {s}: {g:.3f}" for s, g in zip(seeds, per_seed_gaps))
    crossing_text = ", ".join(f"seed {s}: {t:.2f}" for s, t in zip(seeds, seed_crossings))
    lines += [
        "",
        "**Targets.**",
        "",
        f"- Mean |xi_MFQ - xi_MCMC| over the {len(table)} temperatures (seed means): **{gaps.mean():.3f}** (target <= {TARGET_MEAN_GAP}): "
        f"{_verdict(float(gaps.mean()), TARGET_MEAN_GAP)}; per seed against the sampler's same seed: {seed_text}; largest gap {gaps.max():.3f} "
        f"at T = {table[int(gaps.argmax())]['T']:g}.",
        f"- Temperature where xi crosses 0.5: MF-Q **{t_mfq:.3f}**, Metropolis **{t_mcmc:.3f}**, relative difference "
        f"**{100 * crossing_gap:.1f} %** (target <= {100 * TARGET_CROSSING_GAP:.0f} %): {_verdict(crossing_gap, TARGET_CROSSING_GAP)}; "
        f"MF-Q per seed: {crossing_text}.",
        "",
        "**Paper's points** (its figure, tau -> xi):",
        "",
        "| tau (T = 2 tau) | paper MCMC | paper MF-Q | this MF-Q at the same T | this Metropolis |",
        "|---|---|---|---|---|",
    ]
    by_t = {row["T"]: row for row in table}
    for tau, mc, mf in PAPER_POINTS:
        row = by_t.get(round(2 * tau, 6))
        ours = (f"{row['xi_mfq_mean']:.3f}", f"{row['xi_mcmc_mean']:.3f}") if row else ("-", "-")
        lines.append(f"| {tau:g} ({2 * tau:g}) | {mc:.2f} | {mf:.2f} | {ours[0]} | {ours[1]} |")
    lines += [
        "",
        "**Differences from the paper, and why.**",
        "",
        "- *Asynchronous revision* (10 % of the sites per step) instead of the paper's synchronous updates: when every "
        "site moves at once, neighbours flip together, the learned Q collapses to a global-majority bias and order "
        "survives far above T_c (a Curie-Weiss transition near T = 4; REFERENCE.md section 4). The project's defaults "
        "(synchronous, 100 rounds) measured a mean gap of about 0.34 (MF-Q 0.77 against 0.13 at T = 3.0).",
        "- *Concurrent pairing* (`mean_action_input=\"concurrent\"`): r_t updates Q at the neighbour configuration of "
        "the same step (the one r_t is computed from), not the one the agent acted on (the paper's \"abar from the last "
        "time step\"). The observed pairing learns the neighbours' drift toward the majority as a bias (a small field) "
        "that kept the lattice ordered above T_c even with asynchronous revision (tuning seed 100, T = 2.4: MF-Q 0.75 "
        "against the sampler's 0.41); the concurrent pairing learns Q(n_up, a) = a (n_up - 2) exactly.",
        "- *Late-time mean* of xi, not the maximum over the run that the original script reported.",
        "- Settings were chosen on seeds 100 and 101 only (revision rate 0.1 against 0.2, round length, pairing); "
        "the reported runs are seeds 0, 1, 2, every one of them in the table.",
        "- *Ordered start* every round for both MF-Q and the sampler (see the measure above); the paper does not say.",
        "- *Temperature schedule*: from tau = 2 (T = 4) geometrically to the target over the rounds before the measured "
        "one(s), then held at the target; the paper decays its exploration temperature without saying to what.",
        "- *Budget*: far below the paper's (one measured round per seed, so the seeds scatter near T_c, where one round of a 20 x 20 lattice fluctuates strongly); the paper's budget is not stated.",
        "- The paper's sampler reads 0.40 at tau = 1.2 (T = 2.4) and 0.29 at tau = 1.3, higher than Onsager's 0 for the "
        "infinite lattice: finite-size order of a 20 x 20 lattice, which our long chain shows too. Its MF-Q points at "
        "tau = 1.5 and 2.0 (0.11) are the finite-size noise floor of xi (about 0.04-0.1 on 400 spins).",
        "",
        f"**Budget and run times.** {len(records)} runs ({len(table)} temperatures x {len(seeds)} seeds), {rounds} rounds x {max_cycles} "
        f"steps each, 400 agents; training wall time {train_s / 60:.1f} min in all ({train_s / len(records):.0f} s per run, in two processes "
        f"under `nice -n 10` on a 2-core machine shared with other jobs); analysis (Metropolis reference, plots, snapshots) {analysis_s:.0f} s.",
        "",
        "Command: `mfzoo reproduce ising` (the runs go through the Ray sweep, as many at once as there are cores; "
        "a rerun skips finished runs). The committed results were trained before that command existed, by the "
        "same runs and analysis called directly:",
        "",
        "```bash",
        COMMAND,
        "```",
        "",
        "Files: `results/ising/phase_diagram.csv` (per temperature), `results/ising/runs.csv` (per run), "
        "`results/ising/paper_points.csv`, `results/ising/phase_diagram.png`, `results/ising/snapshots.png`.",
        "",
    ]
    return "\n".join(lines)
