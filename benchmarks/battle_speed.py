"""Battle against MAgent2's battle_v4: agent-steps/s on the same machine, measured side by side.

Two comparisons, each on the same map sizes, agent counts and settings for both engines:

* ``parallel``: the PettingZoo parallel API, ``battle_v0.parallel_env`` against
  ``magent2.environments.battle_v4.parallel_env`` (both with red on the left, as MAgent2 always has).
* ``batched``: our ``BattleCore`` stepping B independent battles per call (observations are always
  computed) against one MAgent2 engine driven through its raw group API, with ``get_observation``
  for both groups on every step. ``BattleCore`` computes the neighbourhood mean action only when
  it is read (MAgent2 has none); ``--mean-actions`` reads it on every step, as a mean-field trainer does.

``--game battlefield`` runs the same comparisons on Battlefield: ``battlefield_v0`` / battlefield's
``BattleCore`` config against MAgent2's ``battlefield_v5`` (its map, walls and 12 v 12 layout; default map 80).
``--game combined_arms``: ``combined_arms_v0`` / ``CombinedArmsCore`` against MAgent2's ``combined_arms_v6``
(its map and four groups; default maps 45, 162 agents, and 120, 1,152 agents); each agent draws from its own
action set (melee 9, ranged 25) on both sides. ``--game tiger_deer``: ``tiger_deer_v0`` / ``TigerDeerCore``
against MAgent2's ``tiger_deer_v4`` (random walls and spawns, each side from its own generator; deer 5
actions, tigers 9; default maps 45, 121 agents, and 120, 864 agents). Random tigers starve at step 100, so
games restart every 100 steps on both sides (a new random map each time). ``--game gather``: ``gather_v0`` /
``GatherCore`` against MAgent2's ``gather_v5`` on its one map, 200 x 200 (495 omnivores acting, 33 actions,
and 2,272 food that never act); both sides observe and act for the omnivores only, as MAgent2's wrapper
does (its group-API loop drives the wrapper's handles, ``handles[1:]``; our core computes every slot's
view, food included), and an agent-step is an omnivore's. Its episodes are truncated at MAgent2's default
``max_cycles``, 500, on both sides (``EPISODE_CYCLES``). ``--game adversarial_pursuit``:
``adversarial_pursuit_v0`` / ``AdversarialPursuitCore`` against MAgent2's ``adversarial_pursuit_v4`` (2 x 2
predators with 13 actions, prey with 9; random walls and spawns; default maps 45, 75 agents, and 120, 540
agents). Nothing dies there, so games never end before ``max_cycles``.

Our views are float32, as MAgent2's, unless ``--view-dtype float16`` asks for our opt-in float16 views
(half the bytes written per agent-step; MAgent2's side is unchanged). Those rows are a lever of their
own, not the headline: every table title then says so.

Random actions (uniform over the 21 actions) are drawn in blocks from a seeded ``np.random.Generator``;
``max_cycles`` is very large, a battle restarts when a team is wiped out, and an agent-step is one
agent acting in one step. Random play kills agents slowly, so throughput depends on how many are
still alive: the mean number of living agents per battle is reported beside every rate (the faster
engine gets further into its battles in the same time, so its mean is a little lower).

Every measurement runs in its own worker process (``--worker``), ours and MAgent2's alternating, so
that both are timed by the same code, a slow patch of a shared machine hits both alike, and the
peak resident memory (``ru_maxrss``) of each worker is its own. MAgent2 replaces pygame with
pygame-ce, so it runs from a separate virtualenv in the user's cache folder (``~/.cache/mfzoo/venv-magent2``,
or under ``$XDG_CACHE_HOME``), which is created on first use (``python -m venv`` + ``pip install magent2``,
quietly: pip's output is shown only if it fails).

Run::

    python benchmarks/battle_speed.py                         # all maps, about 7 minutes
    python benchmarks/battle_speed.py --seconds 3 --repeats 2 # shorter
    python benchmarks/battle_speed.py --maps 45 --seconds 0.5 --repeats 1 --minimap ""  # smoke test
    python benchmarks/battle_speed.py --no-magent2            # ours only (no virtualenv needed)
    python benchmarks/battle_speed.py --view-dtype float16    # our float16 views (their own rows)
    python benchmarks/battle_speed.py --game battlefield      # Battlefield vs battlefield_v5 (map 80)
    python benchmarks/battle_speed.py --game combined_arms    # combined arms vs combined_arms_v6 (maps 45, 120)
    python benchmarks/battle_speed.py --game tiger_deer       # tiger-deer vs tiger_deer_v4 (maps 45, 120)
    python benchmarks/battle_speed.py --game gather           # gather vs gather_v5 (its 200 x 200 map)
    python benchmarks/battle_speed.py --game adversarial_pursuit  # adversarial pursuit vs adversarial_pursuit_v4 (maps 45, 120)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(BENCHMARKS_DIR))

from _timing import format_rate, machine_description  # noqa: E402

SIDES = ("ours", "magent2")
APIS = ("parallel", "batched")
N_ACTIONS = 21
MAX_CYCLES = 10**7
"""Large enough that no run is truncated: battles end only by a wipe-out."""
EPISODE_CYCLES = {"gather": 500}
"""Games whose episodes are truncated in the measurements (at MAgent2's default ``max_cycles``), on both sides:
gather's random omnivores kill each other off and never finish the food, so without it an engine's mean
number of living agents would depend on how far it got in the time (MAgent2's group-API loop counts its steps)."""
ACTION_BLOCK = 64
"""Steps of random actions drawn per call to the generator."""
WARMUP_STEPS = 3
SPEEDUP_GOAL = 1.5
DEFAULT_MAPS = (45, 80, 250)
DEFAULT_MINIMAP_MAPS = (45, 80)
DEFAULT_BATCH = {45: 16, 80: 4, 250: 1}
GAMES = ("battle", "battlefield", "combined_arms", "tiger_deer", "gather", "adversarial_pursuit")
MAGENT2_GAMES = {
    "battle": "battle_v4", "battlefield": "battlefield_v5", "combined_arms": "combined_arms_v6", "tiger_deer": "tiger_deer_v4",
    "gather": "gather_v5", "adversarial_pursuit": "adversarial_pursuit_v4",
}  # fmt: skip
FIXED_MAP_GAMES = {"gather": 200}
"""Games with one map and no ``map_size`` argument (MAgent2's gather): the only map they can be measured on."""
"""MAgent2's module of each game."""
GAME_DEFAULTS = {
    "battlefield": {"maps": (80,), "minimap": (80,), "batch": {80: 32}},
    "combined_arms": {"maps": (45, 120), "minimap": (45,), "batch": {45: 16, 120: 2}},
    "tiger_deer": {"maps": (45, 120), "minimap": (45,), "batch": {45: 16, 120: 2}},
    "gather": {"maps": (200,), "minimap": (200,), "batch": {200: 2}},
    "adversarial_pursuit": {"maps": (45, 120), "minimap": (45,), "batch": {45: 16, 120: 2}},
}
"""Default maps, minimap maps and batch sizes of the games other than Battle (battlefield's 24 agents: B = 32;
combined arms: MAgent2's default 45, 162 agents, and a large map, 120: 1,152 agents in MAgent's x-band order;
tiger-deer: 45, 121 agents and 81 random walls, and 120, 864 agents and 576 walls; gather: its one map, 200, 495
omnivores and 2,272 food; adversarial pursuit: 45, 25 predators and 50 prey, and 120, 180 and 360)."""
BATCHED_CORES = {
    "battle": "BattleCore", "battlefield": "BattleCore", "combined_arms": "CombinedArmsCore", "tiger_deer": "TigerDeerCore",
    "gather": "GatherCore", "adversarial_pursuit": "AdversarialPursuitCore",
}  # fmt: skip
"""Our batched core of each game (the table titles)."""
VIEW_DTYPES = ("float32", "float16")
"""Our ``view_dtype`` choices (``BattleCore`` / ``battle_v0``); MAgent2's views are always float32."""


def user_cache_dir() -> Path:
    """mfzoo's folder in the user's cache: ``$XDG_CACHE_HOME/mfzoo`` or ``~/.cache/mfzoo`` (as Numba's cache).

    The same folder as ``mfagents.commands.shared.user_cache_dir``, written out here because this script also runs in
    MAgent2's virtualenv, where mfzoo is not installed.
    """
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mfzoo"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "mfzoo" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mfzoo"


DEFAULT_VENV = user_cache_dir() / "venv-magent2"
"""MAgent2's virtualenv: in the user's cache, not the source tree (it is ~150 MB)."""


# ---------------------------------------------------------------------------------------------
# Worker side: one measurement in this process, printed as one JSON line.
# ---------------------------------------------------------------------------------------------
class RandomActions:
    """Uniform random actions of a fixed shape, drawn ``ACTION_BLOCK`` steps at a time (int32, C order);
    ``limits``: the number of actions (21), or an array of each agent's (the shape's last axis: combined arms)."""

    def __init__(self, shape: tuple[int, ...], seed: int, limits: int | np.ndarray = N_ACTIONS):
        self.rng = np.random.default_rng(seed)
        self.limits = limits
        self.shape = shape
        self.block = np.zeros((0, *shape), dtype=np.int32)
        self.row = 0

    def next(self) -> np.ndarray:
        """The actions of the next step."""
        if self.row == len(self.block):
            self.block = self.rng.integers(0, self.limits, size=(ACTION_BLOCK, *self.shape), dtype=np.int32)
            self.row = 0
        self.row += 1
        return self.block[self.row - 1]


class SteppingLoop(Protocol):
    """One workload: ``step()`` advances every battle once and returns how many agents acted."""

    battles: int
    n_agents: int
    """Agents per battle at the start of an episode."""
    episodes: int
    view_dtype: str
    """The dtype of the views the engine returned (read from them, not assumed)."""

    def step(self) -> int: ...


class ParallelApiLoop:
    """A PettingZoo parallel env with random actions, reset when the episode ends (either engine)."""

    battles = 1

    def __init__(self, env, seed: int):
        self.env = env
        observations, _ = self.env.reset(seed=seed)
        self.view_dtype = np.asarray(next(iter(observations.values()))).dtype.name
        self.n_agents = len(env.agents)
        limits = np.array([env.action_space(agent).n for agent in env.possible_agents])
        #: agents' action sets differ (combined arms): each living agent takes its own column
        self.per_agent = not (limits == limits[0]).all()
        self.slot_of = {agent: slot for slot, agent in enumerate(env.possible_agents)}
        self.actions = RandomActions((self.n_agents,), seed, limits if self.per_agent else int(limits[0]))
        self.episodes = 0

    def step(self) -> int:
        env = self.env
        agents = env.agents
        actions = self.actions.next()
        if self.per_agent and len(agents) < len(actions):
            actions = actions[[self.slot_of[agent] for agent in agents]]
        env.step(dict(zip(agents, actions[: len(agents)].tolist())))
        if not env.agents:  # stepping MAgent2's env after the end crashes the process, so reset at once
            env.reset()
            self.episodes += 1
        return len(agents)


class OursBatchedLoop:
    """``BattleCore`` stepping ``n_battles`` battles per call; finished battles restart at once."""

    def __init__(
        self,
        map_size: int,
        minimap: bool,
        n_battles: int,
        seed: int,
        read_mean_actions: bool = False,
        view_dtype: str = "float32",
        game: str = "battle",
    ):
        from mfenvs.battle import BattleConfig, BattleCore
        from mfenvs.battlefield import battlefield_config
        from mfenvs.combined_arms import CombinedArmsConfig, CombinedArmsCore
        from mfenvs.adversarial_pursuit import AdversarialPursuitConfig, AdversarialPursuitCore
        from mfenvs.gather import GatherConfig, GatherCore
        from mfenvs.tiger_deer import TigerDeerConfig, TigerDeerCore

        limits: int | np.ndarray = N_ACTIONS
        if game == "gather":
            config = GatherConfig(minimap_mode=minimap, max_cycles=EPISODE_CYCLES[game])
            self.core = GatherCore(config, n_battles=n_battles, view_dtype=view_dtype)
            limits = self.core.tables.n_actions[self.core.tables.slot_type]  # food 1 (stay), omnivores 33
        elif game == "adversarial_pursuit":
            config = AdversarialPursuitConfig(map_size=map_size, minimap_mode=minimap, max_cycles=MAX_CYCLES)
            self.core = AdversarialPursuitCore(config, n_battles=n_battles, view_dtype=view_dtype)
            limits = self.core.tables.n_actions[self.core.tables.slot_type]  # predators 13, prey 9
        elif game == "tiger_deer":
            config = TigerDeerConfig(map_size=map_size, minimap_mode=minimap, max_cycles=MAX_CYCLES)
            self.core = TigerDeerCore(config, n_battles=n_battles, view_dtype=view_dtype)
            limits = self.core.tables.n_actions[self.core.tables.slot_type]  # deer 5, tigers 9
        elif game == "combined_arms":
            config = CombinedArmsConfig(map_size=map_size, minimap_mode=minimap, max_cycles=MAX_CYCLES)
            self.core = CombinedArmsCore(config, n_battles=n_battles, view_dtype=view_dtype)
            limits = self.core.tables.n_actions[self.core.tables.slot_type]  # melee 9, ranged 25
        else:
            if game == "battlefield":
                config = battlefield_config(map_size=map_size, minimap_mode=minimap, max_cycles=MAX_CYCLES)
            else:
                config = BattleConfig(map_size=map_size, minimap_mode=minimap, max_cycles=MAX_CYCLES, random_sides=False)
            self.core = BattleCore(config, n_battles=n_battles, view_dtype=view_dtype)
        first = self.core.reset(seed=seed)
        self.alive = first.alive
        self.view_dtype = first.views.dtype.name
        #: the slots that act (all but gather's food): the agents counted
        self.acting = self.core.game.acting_slots
        self.n_agents = len(self.acting)
        self.actions = RandomActions((n_battles, self.core.n_agents), seed, limits)
        self.battles = n_battles
        self.episodes = 0
        self.read_mean_actions = read_mean_actions

    def step(self) -> int:
        acting = int(self.alive.sum()) if self.n_agents == self.core.n_agents else int(self.alive[:, self.acting].sum())
        out = self.core.step(self.actions.next())
        if self.read_mean_actions:
            out.mean_actions  # noqa: B018 (computed on first access)
        self.alive = out.alive
        if out.done.any():
            self.core.reset_battles(out.done)
            self.alive = out.alive | out.done[:, None]  # restarted battles are at full strength
            self.episodes += int(out.done.sum())
        return acting


class Magent2EngineLoop:
    """One MAgent2 ``GridWorld`` driven through the group API, observations read every step.

    Per step and group: ``get_num``, ``get_observation``, ``set_action``; then ``step``,
    ``get_reward`` and ``get_alive`` per group and ``clear_dead``. The starting blocks come from
    game's own ``generate_map`` (battle_v4's, or battlefield_v5's). The groups are those its PettingZoo
    wrapper drives (``handles``: every group but gather's food, which never acts).
    """

    battles = 1

    def __init__(self, map_size: int, minimap: bool, seed: int, game: str = "battle"):
        import importlib

        module = importlib.import_module(f"magent2.environments.{MAGENT2_GAMES[game]}")
        size = {} if game in FIXED_MAP_GAMES else {"map_size": map_size}
        self.max_cycles = EPISODE_CYCLES.get(game, MAX_CYCLES)
        self.game = module.parallel_env(**size, minimap_mode=minimap, max_cycles=self.max_cycles, seed=seed).unwrapped
        self.engine = self.game.env
        self.handles = list(self.game.handles)  # the wrapper's: all but gather's food
        self.engine.set_seed(seed)
        self._restart()
        counts = [self.engine.get_num(handle) for handle in self.handles]
        self.n_agents = sum(counts)
        self.view_dtype = self.engine.get_observation(self.handles[0])[0].dtype.name
        n_actions = [self.engine.get_action_space(handle)[0] for handle in self.handles]
        #: each group's first column in the action block: its agents' actions come from its own columns
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
        per_group = len(set(n_actions)) > 1  # combined arms: melee 9, ranged 25
        limits = np.repeat(n_actions, counts) if per_group else int(n_actions[0])
        self.actions = RandomActions((self.n_agents,), seed, limits)
        self.episodes = 0

    def _restart(self) -> None:
        self.engine.reset()
        self.game.generate_map()
        self.steps = 0

    def step(self) -> int:
        engine = self.engine
        actions = self.actions.next()
        acting = 0
        for handle, start in zip(self.handles, self.starts):
            count = engine.get_num(handle)
            engine.get_observation(handle)
            engine.set_action(handle, actions[start : start + count])
            acting += count
        done = engine.step()
        for handle in self.handles:
            engine.get_reward(handle)
            engine.get_alive(handle)
        engine.clear_dead()
        self.steps += 1
        if done or self.steps >= self.max_cycles:
            self._restart()
            self.episodes += 1
        return acting


def build_loop(
    side: str,
    api: str,
    map_size: int,
    minimap: bool,
    n_battles: int,
    seed: int,
    mean_actions: bool = False,
    view_dtype: str = "float32",
    game: str = "battle",
) -> SteppingLoop:
    """The workload of one side of one comparison (``view_dtype``: ours only; MAgent2's views are float32)."""
    if side == "ours":
        sys.path.insert(0, str(REPO_ROOT))  # measure this checkout, whatever is installed
        if api == "parallel":
            if game in ("battlefield", "combined_arms", "tiger_deer", "gather", "adversarial_pursuit"):
                import importlib

                module = importlib.import_module(f"mfenvs.{game}_v0")
                size = {} if game in FIXED_MAP_GAMES else {"map_size": map_size}
                env = module.parallel_env(**size, minimap_mode=minimap, max_cycles=EPISODE_CYCLES.get(game, MAX_CYCLES), view_dtype=view_dtype)
            else:
                from mfenvs import battle_v0

                env = battle_v0.parallel_env(
                    map_size=map_size, minimap_mode=minimap, random_sides=False, max_cycles=MAX_CYCLES, view_dtype=view_dtype
                )
            return ParallelApiLoop(env, seed)
        return OursBatchedLoop(map_size, minimap, n_battles, seed, mean_actions, view_dtype, game)
    if api == "parallel":
        import importlib

        module = importlib.import_module(f"magent2.environments.{MAGENT2_GAMES[game]}")
        size = {} if game in FIXED_MAP_GAMES else {"map_size": map_size}
        env = module.parallel_env(**size, minimap_mode=minimap, max_cycles=EPISODE_CYCLES.get(game, MAX_CYCLES))
        return ParallelApiLoop(env, seed)
    return Magent2EngineLoop(map_size, minimap, seed, game)


def measure(loop: SteppingLoop, seconds: float) -> dict[str, float | str]:
    """Step ``loop`` for ``seconds`` (after a short warm-up) and return counts, time, peak memory and the view dtype."""
    for _ in range(WARMUP_STEPS):
        loop.step()
    episodes_before = loop.episodes
    agent_steps = calls = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    deadline = start + seconds
    while True:
        agent_steps += loop.step()
        calls += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    return {
        "n_agents": loop.n_agents,
        "agent_steps": agent_steps,
        "env_steps": calls * loop.battles,
        "seconds": now - start,
        "cpu_seconds": time.process_time() - cpu_start,
        "episodes": loop.episodes - episodes_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "view_dtype": loop.view_dtype,
    }


def worker_main(argv: Sequence[str]) -> None:
    """``--worker SIDE --api API --map N [--minimap] --batch B --seconds S --seed K [--view-dtype D]``: print one JSON line."""
    parser = argparse.ArgumentParser(prog="battle_speed.py --worker", description="one measurement (internal)")
    parser.add_argument("--worker", choices=SIDES, required=True)
    parser.add_argument("--api", choices=APIS, required=True)
    parser.add_argument("--map", type=int, required=True)
    parser.add_argument("--minimap", action="store_true")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mean-actions", action="store_true")
    parser.add_argument("--view-dtype", choices=VIEW_DTYPES, default="float32")
    parser.add_argument("--game", choices=GAMES, default="battle")
    args = parser.parse_args(argv)
    loop = build_loop(
        args.worker, args.api, args.map, args.minimap, args.batch, args.seed, args.mean_actions, args.view_dtype, args.game
    )
    print(json.dumps(measure(loop, args.seconds)))


# ---------------------------------------------------------------------------------------------
# Parent side: build the MAgent2 virtualenv, alternate the workers, print the tables.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One comparison: API, map size, minimap mode and, for our batched core, the number of battles;
    ``view_dtype`` is that of our views (MAgent2's are float32)."""

    api: str
    map_size: int
    minimap: bool
    batch: int
    mean_actions: bool = False
    view_dtype: str = "float32"
    game: str = "battle"

    @property
    def label(self) -> str:
        minimap = "minimap" if self.minimap else "no minimap"
        batch = f", B={self.batch}" if self.api == "batched" else ""
        mean_actions = " + mean actions" if self.mean_actions and self.api == "batched" else ""
        views = f", our views {self.view_dtype}" if self.view_dtype != "float32" else ""
        game = f"{self.game} " if self.game != "battle" else ""
        return f"{game}{self.api} map {self.map_size} {minimap}{batch}{mean_actions}{views}"


@dataclass(frozen=True)
class Summary:
    """The measurements of one side of one case."""

    runs: tuple[dict[str, float | str], ...]

    @property
    def agent_rate(self) -> float:
        return statistics.median(run["agent_steps"] / run["seconds"] for run in self.runs)

    @property
    def cpu_agent_rate(self) -> float:
        """Agent-steps per second of the worker's own CPU time: robust to other load on a shared machine."""
        return statistics.median(run["agent_steps"] / run["cpu_seconds"] for run in self.runs)

    @property
    def env_rate(self) -> float:
        return statistics.median(run["env_steps"] / run["seconds"] for run in self.runs)

    @property
    def mean_alive(self) -> float:
        return sum(run["agent_steps"] for run in self.runs) / sum(run["env_steps"] for run in self.runs)

    @property
    def n_agents(self) -> int:
        return int(self.runs[0]["n_agents"])

    @property
    def peak_rss_mib(self) -> float:
        return max(run["peak_rss_mib"] for run in self.runs)

    @property
    def view_dtype(self) -> str:
        """The dtype of the views the worker's engine returned (the same in every run)."""
        dtypes = {run["view_dtype"] for run in self.runs}
        if len(dtypes) != 1:
            raise RuntimeError(f"runs of one case returned views of different dtypes: {sorted(dtypes)}")
        return dtypes.pop()


def ensure_magent2(venv: Path) -> Path:
    """The Python of ``venv``, creating the virtualenv and installing magent2 into it if needed.

    pip runs quietly; its output is shown only when a step fails.

    Raises:
        RuntimeError: the virtualenv could not be built (the message ends with the failing step's output).
    """
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import magent2.environments.battle_v4"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"Creating {venv} with magent2 (once, about a minute)...", file=sys.stderr, flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "magent2"]
    for command in ([sys.executable, "-m", "venv", str(venv)], pip, check):
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as error:
            raise RuntimeError(f"could not build a virtualenv with magent2 in {venv}: {error}") from None
        if result.returncode != 0:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"could not build a virtualenv with magent2 in {venv} ({command[2]} {command[-1]} failed: {tail})")
    return python


def run_worker(
    python: Path | str, side: str, case: Case, seconds: float, seed: int, threads: int | None = None
) -> dict[str, float | str]:
    """Run one measurement in a fresh process and return its JSON result (ours on ``threads`` threads,
    with views of ``case.view_dtype``)."""
    command = [
        str(python), str(Path(__file__).resolve()), "--worker", side, "--api", case.api,
        "--map", str(case.map_size), "--batch", str(case.batch), "--seconds", str(seconds), "--seed", str(seed),
    ]  # fmt: skip
    if case.minimap:
        command.append("--minimap")
    if case.mean_actions:
        command.append("--mean-actions")
    if side == "ours":
        command += ["--view-dtype", case.view_dtype]
    command += ["--game", case.game]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    if side == "ours" and threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    if completed.returncode != 0:
        raise RuntimeError(
            f"{side} worker for {case.label} failed (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def parse_map_list(text: str) -> tuple[int, ...]:
    """``"45,80"`` -> ``(45, 80)``; ``""`` -> ``()``."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated map sizes like 45,80, got {text!r}") from None


def parse_batch(text: str) -> dict[int, int]:
    """``"45=16,80=4"`` -> ``{45: 16, 80: 4}``."""
    try:
        pairs = [part.split("=") for part in text.split(",") if part.strip()]
        sizes = {int(map_size): int(batch) for map_size, batch in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MAP=B pairs like 45=16,80=4, got {text!r}") from None
    if any(batch < 1 for batch in sizes.values()):
        raise argparse.ArgumentTypeError(f"batch sizes must be >= 1, got {text!r}")
    return sizes


def build_cases(
    apis: Sequence[str],
    maps: Sequence[int],
    minimap_maps: Sequence[int],
    batch: dict[int, int],
    mean_actions: bool = False,
    view_dtype: str = "float32",
    game: str = "battle",
) -> list[Case]:
    """Every (API, map, minimap) combination asked for; minimap_mode=True only on ``minimap_maps``."""
    return [
        Case(api, map_size, minimap, batch.get(map_size, 1) if api == "batched" else 1, mean_actions, view_dtype, game)
        for api in apis
        for map_size in maps
        for minimap in ((False, True) if map_size in minimap_maps else (False,))
    ]


def markdown_tables(cases: Sequence[Case], summaries: dict[tuple[Case, str], Summary], sides: Sequence[str]) -> str:
    """One table per API: rates, ratio of medians (and range of side-by-side ratios), alive agents, memory."""
    with_magent2 = "magent2" in sides
    game = cases[0].game if cases else "battle"
    titles = {
        "parallel": f"(a) PettingZoo parallel API: `{game}_v0.parallel_env` vs `{MAGENT2_GAMES[game]}.parallel_env`",
        "batched": f"(b) Batched: `{BATCHED_CORES[game]}` ({game}) with B battles per step vs MAgent2's group API with `get_observation`",
    }
    if any(case.mean_actions for case in cases):
        titles["batched"] += " (ours also reads the mean actions every step)"
    view_dtypes = sorted({summaries[case, "ours"].view_dtype for case in cases})
    if view_dtypes != ["float32"]:  # the opt-in float16 rows must not pass for the float32 headline
        for api in titles:
            titles[api] += f"; **our views {' / '.join(view_dtypes)}** (opt-in, not the float32 headline)"
    blocks = []
    for api in APIS:
        api_cases = [case for case in cases if case.api == api]
        if not api_cases:
            continue
        batch_head = "B | " if api == "batched" else ""
        steps = "battle-steps/s" if api == "batched" else "env-steps/s"
        if with_magent2:
            head = (
                f"| map | agents | minimap | {batch_head}ours agent-steps/s | MAgent2 agent-steps/s | ours / MAgent2 "
                f"| pairs min-max | ours / MAgent2 per CPU second | >= {SPEEDUP_GOAL}x | ours {steps} | MAgent2 {steps} | mean alive ours / MAgent2 "
                f"| peak RSS MiB ours / MAgent2 |"
            )
        else:
            head = f"| map | agents | minimap | {batch_head}ours agent-steps/s | ours {steps} | mean alive "
            head += "| peak RSS MiB |"
        lines = [f"{titles[api]}", "", head, "|" + "---|" * (head.count("|") - 1)]
        for case in api_cases:
            ours = summaries[case, "ours"]
            agents = {summaries[case, side].n_agents for side in sides}
            agents_text = " / ".join(map(str, sorted(agents)))  # one number unless the engines disagree
            start = f"| {case.map_size} | {agents_text} | {'on' if case.minimap else 'off'} | "
            start += f"{case.batch} | " if api == "batched" else ""
            if not with_magent2:
                lines.append(
                    f"{start}{format_rate(ours.agent_rate)} | {format_rate(ours.env_rate)} | "
                    f"{ours.mean_alive:.0f} | {ours.peak_rss_mib:.0f} |"
                )
                continue
            theirs = summaries[case, "magent2"]
            ratio = ours.agent_rate / theirs.agent_rate
            cpu_ratio = ours.cpu_agent_rate / theirs.cpu_agent_rate
            pairs = [
                (a["agent_steps"] / a["seconds"]) / (b["agent_steps"] / b["seconds"])
                for a, b in zip(ours.runs, theirs.runs)
            ]
            lines.append(
                f"{start}{format_rate(ours.agent_rate)} | {format_rate(theirs.agent_rate)} | **{ratio:.2f}x** | "
                f"{min(pairs):.2f}-{max(pairs):.2f} | {cpu_ratio:.2f}x | {'yes' if cpu_ratio >= SPEEDUP_GOAL else 'no'} | "
                f"{format_rate(ours.env_rate)} | {format_rate(theirs.env_rate)} | "
                f"{ours.mean_alive:.0f} / {theirs.mean_alive:.0f} | "
                f"{ours.peak_rss_mib:.0f} / {theirs.peak_rss_mib:.0f} |"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------------------------------
# Bytes written, first use, phases
# ---------------------------------------------------------------------------------------------
def observation_bytes(case: Case, side: str, view_dtype: str = "float32") -> int:
    """Bytes of observations written per agent-step: the 13 x 13 x C view of ``view_dtype``, plus the
    float32 feature vector.

    Both engines write the view (C = 7 with the minimap, else 5). Through the parallel API MAgent2 tiles
    its features into the view (battle_v4: 2 channels with the minimap, none without); our env writes
    the view alone with the same 2 channels. In the batched comparison each engine also writes its
    feature vector once per agent: ours 34 floats, MAgent2's 34 with the minimap and 32 without.
    """
    view_item = np.dtype(view_dtype).itemsize
    view = 13 * 13 * (7 if case.minimap else 5)
    if case.api == "parallel":
        return view_item * (view + (13 * 13 * 2 if case.minimap else 0))
    features = 34 if side == "ours" or case.minimap else 32
    return view_item * view + 4 * features


def memory_bandwidth(megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes per second one core writes when copying a large float32 array (the best of ``repeats``)."""
    source = np.ones(megabytes * 2**20 // 4, dtype=np.float32)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return source.nbytes / best


def bandwidth_table(cases: Sequence[Case], summaries: dict[tuple[Case, str], Summary], sides: Sequence[str]) -> str:
    """Bytes of observations written per agent-step and the share of one core's copy bandwidth each engine reaches."""
    bandwidth = memory_bandwidth()
    view_dtypes = {side: sorted({summaries[case, side].view_dtype for case in cases}) for side in sides}
    lines = [
        f"Observation bytes written per agent-step (views "
        + ", ".join(f"{side} {' / '.join(dtypes)}" for side, dtypes in view_dtypes.items())
        + "; features float32), and the write rate as a share of this machine's measured "
        f"single-core copy bandwidth ({bandwidth / 1e9:.1f} GB/s written, `np.copyto` of 256 MiB):",
        "",
        "| comparison | " + " | ".join(f"{side} bytes / agent-step | {side} GB/s | {side} share" for side in sides) + " |",
        "|---|" + "---|---|---|" * len(sides),
    ]
    for case in cases:
        cells = []
        for side in sides:
            summary = summaries[case, side]
            per_agent_step = observation_bytes(case, side, summary.view_dtype)
            written = per_agent_step * summary.agent_rate
            cells.append(f"{per_agent_step:,} | {written / 1e9:.2f} | {written / bandwidth:.0%}")
        lines.append(f"| {case.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


FIRST_USE = """
import time
start = time.perf_counter()
import mfenvs
from mfenvs import battle_v0
env = battle_v0.parallel_env(map_size=20, team_size=9, minimap_mode={minimap})
observations, infos = env.reset(seed=0)
env.step({{agent: 6 for agent in env.agents}})
print(time.perf_counter() - start)
"""


def first_use_table() -> str:
    """Seconds from ``import mfenvs`` to the first Battle step in a fresh process: JIT cache cold, then warm."""
    import tempfile

    rows = ["| minimap | cold cache s | warm cache s |", "|---|---|---|"]
    for minimap in (True, False):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SDL_VIDEODRIVER": "dummy"}
            times = []
            for _ in range(2):  # the first run compiles and writes the cache, the second loads it
                code = FIRST_USE.format(minimap=minimap)
                completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=True)
                times.append(float(completed.stdout.strip().splitlines()[-1]))
        rows.append(f"| {'on' if minimap else 'off'} | {times[0]:.1f} | {times[1]:.2f} |")
    return "First use: seconds from `import mfenvs` to the end of the first `step` (map 20), JIT cache cold and warm.\n\n" + "\n".join(rows)


def phase_table(
    maps: Sequence[int], batch: dict[int, int], threads: int | None, steps: int = 40, view_dtype: str = "float32"
) -> str:
    """Microseconds per agent-step of each phase of ``BattleCore.step`` (random actions, no restarts)."""
    sys.path.insert(0, str(REPO_ROOT))
    from mfenvs.battle import BattleConfig, BattleCore, observe, rules
    from mfenvs.common import jit

    lines = ["| map | minimap | B | rules | views + features | mean actions | whole step (with views) |", "|---|---|---|---|---|---|---|"]
    for map_size in maps:
        for minimap in (True, False):
            n_battles = batch.get(map_size, 1)
            config = BattleConfig(map_size=map_size, minimap_mode=minimap, max_cycles=MAX_CYCLES, random_sides=False)
            core = BattleCore(config, n_battles, threads=threads, view_dtype=view_dtype)
            core.reset(seed=0)
            actions = RandomActions((n_battles, core.n_agents), 0)
            state, timings = core.state, {"rules": 0.0, "views": 0.0, "mean": 0.0, "step": 0.0}
            for step in range(steps + WARMUP_STEPS):
                a = actions.next().astype(np.int64)
                start = time.perf_counter()
                out = core.step(a)
                middle = time.perf_counter()
                out.mean_actions  # noqa: B018
                end = time.perf_counter()
                with jit.threads(core.threads, core._work):
                    view_start = time.perf_counter()
                    observe.observations(state, core.game, core.tables, core._half_widths, core._pictures, core._drawn)
                    view_end = time.perf_counter()
                if step >= WARMUP_STEPS:
                    timings["step"] += middle - start
                    timings["mean"] += end - middle
                    timings["views"] += view_end - view_start
            timings["rules"] = timings["step"] - timings["views"]  # the step is rules + observations + bookkeeping
            per = 1e6 / (steps * n_battles * core.n_agents)
            lines.append(
                f"| {map_size} | {'on' if minimap else 'off'} | {n_battles} | {timings['rules'] * per:.3f} | "
                f"{timings['views'] * per:.3f} | {timings['mean'] * per:.3f} | {timings['step'] * per:.3f} |"
            )
    del rules
    return (
        f"Microseconds per agent-step of each phase of `BattleCore.step` ({threads or 'all'} thread(s), {view_dtype} views); "
        "rules = the step minus its observations (attacks, recovery, moves, bookkeeping).\n\n" + "\n".join(lines)
    )



def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--worker" in argv:
        worker_main(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", choices=GAMES, default="battle", help="battle (default), battlefield (vs battlefield_v5), combined_arms (vs combined_arms_v6), tiger_deer (vs tiger_deer_v4), gather (vs gather_v5) or adversarial_pursuit (vs adversarial_pursuit_v4)")
    parser.add_argument("--maps", type=parse_map_list, default=None, help="map sizes (default 45,80,250; battlefield 80; combined_arms, tiger_deer and adversarial_pursuit 45,120; gather 200, its only one)")
    parser.add_argument(
        "--minimap",
        type=parse_map_list,
        default=None,
        help="maps also measured with minimap_mode=True (default 45,80; battlefield 80; combined_arms, tiger_deer and adversarial_pursuit 45; '' for none); minimap_mode=False always runs",
    )
    parser.add_argument(
        "--api", type=lambda text: tuple(text.split(",")), default=APIS, help="parallel,batched (default both)"
    )
    parser.add_argument(
        "--batch",
        type=parse_batch,
        default=None,
        help="battles per BattleCore step, per map (default 45=16,80=4,250=1, battlefield 80=32, combined_arms, tiger_deer and adversarial_pursuit 45=16,120=2, gather 200=2; other maps 1)",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per run (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side and case, interleaved (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--mean-actions", action="store_true", help="our batched core also reads the mean actions every step"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of our kernels (NUMBA_NUM_THREADS; default all cores)"
    )
    parser.add_argument(
        "--first-use", action="store_true", help="only time import mfenvs -> first Battle step, cold and warm JIT cache"
    )
    parser.add_argument(
        "--phases", action="store_true", help="only time BattleCore's phases per agent-step (rules, views, mean actions)"
    )
    parser.add_argument(
        "--view-dtype",
        choices=VIEW_DTYPES,
        default="float32",
        help="dtype of our views (default float32, the headline; float16 is opt-in and gets its own rows); MAgent2's stay float32",
    )
    parser.add_argument("--no-magent2", action="store_true", help="measure ours only (no virtualenv needed)")
    parser.add_argument(
        "--venv", type=Path, default=DEFAULT_VENV, help=f"virtualenv with magent2, made if missing (default: {DEFAULT_VENV})"
    )
    args = parser.parse_args(argv)
    if unknown := set(args.api) - set(APIS):
        parser.error(f"--api: unknown API {sorted(unknown)[0]!r}; choose from {', '.join(APIS)}")
    if args.seconds <= 0 or args.repeats < 1:
        parser.error(f"--seconds must be > 0 and --repeats >= 1, got {args.seconds} and {args.repeats}")

    defaults = GAME_DEFAULTS.get(args.game, {"maps": DEFAULT_MAPS, "minimap": DEFAULT_MINIMAP_MAPS, "batch": DEFAULT_BATCH})
    args.maps = defaults["maps"] if args.maps is None else args.maps
    args.minimap = defaults["minimap"] if args.minimap is None else args.minimap
    args.batch = defaults["batch"] if args.batch is None else args.batch
    if args.game in FIXED_MAP_GAMES and not set(args.maps) | set(args.minimap) <= {FIXED_MAP_GAMES[args.game]}:
        parser.error(f"--game {args.game} has one map, {FIXED_MAP_GAMES[args.game]} (MAgent2 has no map_size for it)")
    if args.game != "battle" and (args.first_use or args.phases):
        parser.error("--first-use and --phases time Battle only")

    if args.first_use:
        print(first_use_table())
        return
    if args.phases:
        print(phase_table(args.maps, args.batch, args.threads, view_dtype=args.view_dtype))
        return
    sides = ("ours",) if args.no_magent2 else SIDES
    pythons = {"ours": sys.executable}
    if not args.no_magent2:
        try:
            pythons["magent2"] = ensure_magent2(args.venv)
        except RuntimeError as error:
            raise SystemExit(f"{error}; rerun with --no-magent2") from None
    cases = build_cases(
        [api for api in APIS if api in args.api], args.maps, args.minimap, args.batch, args.mean_actions, args.view_dtype,
        args.game,
    )
    load_before = os.getloadavg()
    runs: dict[tuple[Case, str], list[dict[str, float]]] = {(case, side): [] for case in cases for side in sides}
    total = len(cases) * len(sides) * args.repeats
    done = 0
    for repeat in range(args.repeats):  # repeats outermost, sides alternating: ours, MAgent2, ours, MAgent2...
        for case in cases:
            for side in sides:
                result = run_worker(pythons[side], side, case, args.seconds, args.seed + repeat, args.threads)
                runs[case, side].append(result)
                done += 1
                rate = result["agent_steps"] / result["seconds"]
                alive = result["agent_steps"] / result["env_steps"]
                print(
                    f"[{done}/{total}] {case.label:40s} {side:8s} {format_rate(rate)} agent-steps/s, "
                    f"mean alive {alive:.0f}, {result['peak_rss_mib']:.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
    summaries = {key: Summary(tuple(value)) for key, value in runs.items()}

    command = " ".join(["python", "benchmarks/battle_speed.py", *argv])
    print(f"Command: `{command}`  ")
    print(f"Date: {datetime.date.today().isoformat()}  ")
    print(f"Machine: {machine_description()}; load average {load_before[0]:.1f} at start  ")
    print(
        f"Our kernels on {args.threads or 'all'} thread(s) (NUMBA_NUM_THREADS), our views {args.view_dtype}"
        f"{' (opt-in; MAgent2 float32)' if args.view_dtype != 'float32' else ''}. "
        f"Median of {args.repeats} runs of {args.seconds:g} s per side, each in its own process, ours and MAgent2 "
        "alternating; pairs min-max = range of the ratios of runs made side by side. Random actions, "
        f"max_cycles={EPISODE_CYCLES.get(args.game, MAX_CYCLES):g}, restart on wipe-out (and truncation). "
        "Mean alive = agents acting per step of one battle.\n"
    )
    print(markdown_tables(cases, summaries, sides))
    if args.game in ("battle", "battlefield"):  # observation_bytes models Battle's 13 x 13 x 5 (or 7) views only
        print()
        print(bandwidth_table(cases, summaries, sides))


if __name__ == "__main__":
    main()
