"""Draw every picture of the documentation site from the code and the committed results.

    python docs/scripts/make_figures.py            # all figures into docs/_static/figures/
    python docs/scripts/make_figures.py speed      # only some: battle, battlefield, combined_arms, tiger_deer, gather, adversarial_pursuit, ising, gaussian_squeeze, speed

- ``battle.gif``: one battle played by two shipped policies (``zoo:mfq`` red, ``zoo:il`` blue), drawn by
  Battle's own renderer (``render.battle`` through ``mfzoo watch``'s recorder), seed 0;
- ``battlefield.png``: ``env.render()`` of Battlefield at reset: MAgent2's map with its walls and the fixed
  12 v 12 start (every episode starts the same);
- ``combined_arms.png``: ``env.render()`` of combined arms at MAgent2's map 45 after 10 steps of a charge (every
  agent attacks the first enemy in its reach, else moves straight at the other side);
- ``tiger_deer.png``: ``env.render()`` of tiger-deer at MAgent2's map 45 (random walls) after 30 steps of a
  hunt (each tiger attacks a deer next to it, else steps towards the nearest deer; the deer wander at random);
- ``gather.png``: ``env.render()`` of gather (MAgent2's 200 x 200 map) after 40 steps in which every omnivore
  attacks the first food or omnivore next to it, else steps towards the nearest food (the same ``hunt``);
- ``adversarial_pursuit.png``: ``env.render()`` of adversarial pursuit at MAgent2's map 45 (random walls, 2 x 2
  predators) after 30 steps of a chase (``hunt``: each predator tags a prey on its ring, else steps towards the
  nearest prey; the prey wander at random);
- ``ising.gif``: a 32 x 32 Ising lattice, every site best-responding to its four neighbours with
  probability 0.1 per step (the others keep their spin), drawn by ``render.ising``;
- ``gaussian_squeeze.png``: ``env.render()`` of Gaussian Squeeze (N = 1000) after one round of random play;
- ``speed.png``: agent-steps/s of Battle and of MAgent2 by map size and setting, read from the tables of
  BENCHMARKS.md's section "Battle on Numba kernels vs MAgent2" (``benchmarks/battle_speed.py``).

The pictures are deterministic given the code (seeded); rerun this script when the renderers, the shipped
policies or the benchmark tables change, and commit its output.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "_static" / "figures"
FIGURES = (
    "battle", "battlefield", "combined_arms", "tiger_deer", "gather", "adversarial_pursuit", "ising", "gaussian_squeeze", "speed",
)  # fmt: skip
SPEED_SECTION = "## Battle on Numba kernels vs MAgent2"
SPEED_TABLES = {"All cores (2 threads)": "all cores", "One thread": "one thread"}
"""The subsections of ``SPEED_SECTION`` drawn, and their panel titles."""


def battle(out: Path = OUT) -> Path:
    """One battle, ``zoo:mfq`` (red) against ``zoo:il`` (blue), 120 steps, as an animated GIF."""
    import torch

    from mfagents.commands.watch import WatchSession, record_episode

    torch.set_num_threads(1)
    session = WatchSession("battle", {"red": "zoo:mfq", "blue": "zoo:il"}, seed=0, max_steps=80)
    try:
        record_episode(session, out / "battle.gif", fps=12, size=(360, 400))
    finally:
        session.close()
    return out / "battle.gif"


def battlefield(out: Path = OUT) -> Path:
    """Battlefield's own drawing at reset: MAgent2's walls and the fixed 12 v 12 start."""
    import imageio.v3 as iio

    from mfenvs import battlefield_v0

    env = battlefield_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    iio.imwrite(out / "battlefield.png", env.render())
    env.close()
    return out / "battlefield.png"


def charge(core) -> np.ndarray:
    """``[N]`` actions of combined arms' game 0: each living agent attacks the first enemy in its reach (its
    type's attack order), else takes its longest straight move towards the other side."""
    tables, state = core.tables, core.state
    kinds = tables.slot_type
    positions, occupant = state.positions[0], state.occupant[0]
    size = occupant.shape[0]
    actions = np.arange(tables.action_dx.shape[1])[None, :]
    x = positions[:, 0, None] + tables.action_dx[kinds]
    y = positions[:, 1, None] + tables.action_dy[kinds]
    inside = (x >= 0) & (x < size) & (y >= 0) & (y < size)
    target = np.where(inside, occupant[np.clip(y, 0, size - 1), np.clip(x, 0, size - 1)], -1)
    is_attack = (actions >= tables.n_moves[kinds, None]) & (actions < tables.n_actions[kinds, None])
    enemy = is_attack & (target >= 0) & (core.teams[np.maximum(target, 0)] != core.teams[:, None])
    forward = np.where(core.teams == 0, 1, -1) * np.where(tables.n_moves[kinds] == 5, 1, 2)  # speed 1 or 2
    moves = [core.game.types[kind].move_offsets.index((int(dx), 0)) for kind, dx in zip(kinds, forward)]
    return np.where(enemy.any(axis=1), enemy.argmax(axis=1), moves)


def combined_arms(out: Path = OUT, steps: int = 10) -> Path:
    """Combined arms' own drawing at map 45 after ``steps`` steps of both sides charging (``charge``)."""
    import imageio.v3 as iio

    from mfenvs import combined_arms_v0

    env = combined_arms_v0.parallel_env(render_mode="rgb_array", dead_agents="absorb")
    env.reset(seed=0)
    core = env.unwrapped.core.engine
    for _ in range(steps):
        env.step(dict(zip(env.agents, charge(core).tolist())))
    iio.imwrite(out / "combined_arms.png", env.render())
    env.close()
    return out / "combined_arms.png"


def hunt(core, rng: np.random.Generator, hunters: int = 1) -> np.ndarray:
    """``[N]`` actions of tiger-deer's game 0: each living tiger attacks the first deer next to it (its attack
    order), else takes the move that brings it closest to the nearest deer; deer move at random.
    ``hunters``: the hunting group (tigers: 1; adversarial pursuit's predators: 0), the other the hunted."""
    tables, state = core.tables, core.state
    kinds, positions, alive = tables.slot_type, state.positions[0], state.alive[0]
    actions = rng.integers(0, tables.n_moves[kinds])
    deer = positions[alive & (tables.slot_group == 1 - hunters)]
    masks = core.action_masks()[0]
    for slot in np.flatnonzero(alive & (tables.slot_group == hunters)):
        kind = kinds[slot]
        attacks = np.flatnonzero(masks[slot, tables.n_moves[kind] : tables.n_actions[kind]])
        if len(attacks):
            actions[slot] = tables.n_moves[kind] + attacks[0]
        elif len(deer):
            target = deer[np.argmin(np.abs(deer - positions[slot]).sum(axis=1))]
            offsets = np.asarray(core.game.types[kind].move_offsets)
            actions[slot] = int(np.argmin(np.abs(positions[slot] + offsets - target).sum(axis=1)))
    return actions


def adversarial_pursuit(out: Path = OUT, steps: int = 30) -> Path:
    """Adversarial pursuit's own drawing at map 45 after ``steps`` steps of a chase (``hunt`` with the predators hunting)."""
    import imageio.v3 as iio

    from mfenvs import adversarial_pursuit_v0

    env = adversarial_pursuit_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    core = env.unwrapped.core.engine
    rng = np.random.default_rng(0)
    for _ in range(steps):
        env.step(dict(zip(env.agents, hunt(core, rng, hunters=0).tolist())))
    iio.imwrite(out / "adversarial_pursuit.png", env.render())
    env.close()
    return out / "adversarial_pursuit.png"


def tiger_deer(out: Path = OUT, steps: int = 30) -> Path:
    """Tiger-deer's own drawing at map 45 after ``steps`` steps of a hunt (``hunt``)."""
    import imageio.v3 as iio

    from mfenvs import tiger_deer_v0

    env = tiger_deer_v0.parallel_env(render_mode="rgb_array", dead_agents="absorb")
    env.reset(seed=0)
    core = env.unwrapped.core.engine
    rng = np.random.default_rng(0)
    for _ in range(steps):
        env.step(dict(zip(env.agents, hunt(core, rng).tolist())))
    iio.imwrite(out / "tiger_deer.png", env.render())
    env.close()
    return out / "tiger_deer.png"


def gather(out: Path = OUT, steps: int = 40) -> Path:
    """Gather's own drawing on MAgent2's map after ``steps`` steps of ``hunt`` (its group 0, the food, is the
    prey; the food never acts: the env gives it no agents)."""
    import imageio.v3 as iio

    from mfenvs import gather_v0

    env = gather_v0.parallel_env(render_mode="rgb_array", dead_agents="absorb")
    env.reset(seed=0)
    core = env.unwrapped.core.engine
    rng = np.random.default_rng(0)
    acting = core.game.acting_slots
    for _ in range(steps):
        env.step(dict(zip(env.agents, hunt(core, rng)[acting].tolist())))
    iio.imwrite(out / "gather.png", env.render())
    env.close()
    return out / "gather.png"


def ising(out: Path = OUT, size: int = 32, steps: int = 40, rate: float = 0.1) -> Path:
    """Domains forming: each site plays its best response to its neighbours with probability ``rate``."""
    from mfenvs import ising_v0
    from render.record import VideoRecorder

    env = ising_v0.parallel_env(size=size, max_cycles=steps, render_mode="rgb_array")
    observations, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    with VideoRecorder(out / "ising.gif", fps=8) as recorder:
        recorder.add_frame(_shrink(env.render(), 2))
        while env.agents:
            actions = {}
            for agent in env.agents:
                own, neighbours = observations[agent][0], observations[agent][1:].sum()
                best = own if neighbours == 0 else np.sign(neighbours)
                spin = best if rng.random() < rate else own
                actions[agent] = int(spin > 0)
            observations, *_ = env.step(actions)
            recorder.add_frame(_shrink(env.render(), 2))
    env.close()
    return out / "ising.gif"


def gaussian_squeeze(out: Path = OUT) -> Path:
    """Gaussian Squeeze's own drawing after one round of uniform random play (N = 1000)."""
    import imageio.v3 as iio

    from mfenvs import gaussian_squeeze_v0

    env = gaussian_squeeze_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    env.step({agent: int(rng.integers(env.action_space(agent).n)) for agent in env.agents})
    iio.imwrite(out / "gaussian_squeeze.png", env.render())
    env.close()
    return out / "gaussian_squeeze.png"


def _shrink(frame: np.ndarray, factor: int) -> np.ndarray:
    """Every ``factor``-th pixel (the drawings are crisp cells, so nearest-neighbour keeps them crisp)."""
    return np.ascontiguousarray(frame[::factor, ::factor])


# == speed against MAgent2 ===========================================================================
def markdown_tables(text: str) -> list[list[dict[str, str]]]:
    """Every pipe table in ``text``, as a list of rows keyed by the header cells."""
    tables, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-| :]+\|$", lines[i + 1]):
            header = [cell.strip() for cell in lines[i].strip("|").split("|")]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(dict(zip(header, (cell.strip() for cell in lines[i].strip("|").split("|")))))
                i += 1
            tables.append(rows)
        else:
            i += 1
    return tables


def subsection(text: str, section: str, title: str) -> str:
    """The text of ``### title`` inside ``section`` (a ``## `` heading's start), up to the next heading."""
    start = text.index(section)
    start = text.index(f"### {title}\n", start)
    end = re.search(r"^#{2,3} ", text[start + 4 :], flags=re.MULTILINE)
    return text[start : start + 4 + end.start()] if end else text[start:]


def rate(value: str) -> float:
    """``'386.36 k'`` -> 386360.0; ``'3.79 M'`` -> 3790000.0."""
    number, *unit = value.replace(",", "").split()
    return float(number) * {"": 1, "k": 1e3, "M": 1e6}[unit[0] if unit else ""]


def speed_rows(benchmarks: Path) -> dict[str, dict[str, list[dict[str, str]]]]:
    """``{panel: {"parallel": rows, "batched": rows}}`` from BENCHMARKS.md."""
    text = benchmarks.read_text()
    panels = {}
    for title, name in SPEED_TABLES.items():
        tables = [t for t in markdown_tables(subsection(text, SPEED_SECTION, title)) if t and "ours agent-steps/s" in t[0]]
        if len(tables) != 2:
            raise ValueError(f"BENCHMARKS.md, {title!r}: expected the parallel and the batched table, found {len(tables)}")
        panels[name] = {"parallel": tables[0], "batched": tables[1]}
    return panels


def speed(out: Path = OUT, benchmarks: Path = ROOT / "BENCHMARKS.md") -> Path:
    """Agent-steps/s, ours beside MAgent2's, by map (agents) and minimap; PettingZoo API and batched core."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = speed_rows(benchmarks)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.2), sharey="row")
    apis = {"parallel": "PettingZoo parallel API", "batched": "batched: BattleCore vs MAgent2's group API"}
    for column, (threads, tables) in enumerate(panels.items()):
        for row, (api, rows) in enumerate(tables.items()):
            ax = axes[row, column]
            labels = [f"map {r['map']}\n{r['agents']} agents\nminimap {r['minimap']}" for r in rows]
            ours = np.array([rate(r["ours agent-steps/s"]) for r in rows]) / 1e6
            theirs = np.array([rate(r["MAgent2 agent-steps/s"]) for r in rows]) / 1e6
            x = np.arange(len(rows))
            ax.bar(x - 0.2, ours, 0.4, label="mfzoo", color="#0072B2")
            ax.bar(x + 0.2, theirs, 0.4, label="MAgent2 0.3.4", color="#E69F00")
            for xi, o, t in zip(x, ours, theirs):
                ax.text(xi - 0.2, o, f"{o / t:.1f}x", ha="center", va="bottom", fontsize=7)
            ax.set_xticks(x, labels, fontsize=6.5)
            ax.set_title(f"{apis[api]}\n(ours on {threads})", fontsize=9)
            if column == 0:
                ax.set_ylabel("million agent-steps / s")
            ax.margins(y=0.15)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Battle, random actions, 2-core AMD EPYC (BENCHMARKS.md, issue 11); label: ours / MAgent2", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "speed.png", dpi=100)
    plt.close(fig)
    return out / "speed.png"


def main(argv: list[str]) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    names = argv or list(FIGURES)
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; known: {', '.join(FIGURES)}")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = globals()[name]()
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(sys.argv[1:])
