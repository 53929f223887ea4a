"""Run scripted episodes in MAgent2's engine (from its own virtualenv) and in ours, side by side.

MAgent2 replaces pygame with pygame-ce, so it lives in a separate virtualenv, outside the source
tree: ``$MFZOO_MAGENT2_PYTHON``, else ``~/.cache/mfzoo/venv-magent2/bin/python`` (the one
``benchmarks/battle_speed.py`` builds; or ``python -m venv ~/.cache/mfzoo/venv-magent2 &&
~/.cache/mfzoo/venv-magent2/bin/pip install magent2==0.3.4``). Tests that need it skip when it is absent.

Scripted episodes avoid what MAgent2 decides with its own random generator, the order of the step's
attacks: no agent that can die in a step attacks in it, and an agent that can die is attacked by one
agent only. Everything else (several hits on one agent that survives them, misses, attacks on
teammates and walls, moves into walls and occupied cells, kills) is left to the engines.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from mfenvs.adversarial_pursuit import GROUPS as ADVERSARIAL_PURSUIT_GROUPS
from mfenvs.adversarial_pursuit import AdversarialPursuitConfig, AdversarialPursuitCore
from mfenvs.battle import BattleConfig, BattleCore
from mfenvs.combined_arms import GROUPS as COMBINED_ARMS_GROUPS
from mfenvs.combined_arms import CombinedArmsConfig, CombinedArmsCore
from mfenvs.gather import GROUPS as GATHER_GROUPS
from mfenvs.gather import GatherConfig, GatherCore
from mfenvs.gridworld import GridCore
from mfenvs.gridworld.state import EMPTY
from mfenvs.tiger_deer import GROUPS as TIGER_DEER_GROUPS
from mfenvs.tiger_deer import TigerDeerConfig, TigerDeerCore

Config = BattleConfig | CombinedArmsConfig | TigerDeerConfig | GatherConfig | AdversarialPursuitConfig
"""A game these helpers replay: Battle (and Battlefield, Battle's game on its map), combined arms, tiger-deer,
gather or adversarial pursuit."""

REPLAY_SCRIPT = Path(__file__).with_name("replay_in_magent2.py")


@cache
def magent2_python() -> str | None:
    """The Python of MAgent2's virtualenv, or None if there is none with ``magent2`` importable."""
    candidates = [os.environ.get("MFZOO_MAGENT2_PYTHON")]
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    candidates.append(str(cache_home / "mfzoo" / "venv-magent2" / "bin" / "python"))
    for python in filter(None, candidates):
        if Path(python).exists():
            check = subprocess.run([python, "-c", "import magent2.environments.battle.battle"], capture_output=True)
            if check.returncode == 0:
                return python
    return None


needs_magent2 = pytest.mark.skipif(
    magent2_python() is None,
    reason="MAgent2 is not installed (set MFZOO_MAGENT2_PYTHON, or make ~/.cache/mfzoo/venv-magent2 with magent2==0.3.4)",
)


@dataclass
class Episode:
    """One engine's record of a scripted episode: per step t (0 = start), per agent slot."""

    views: np.ndarray  # [T + 1, N, V, V, C] float32 (V: the largest view; smaller ones centred), NaN where the agent is gone
    # (with ``view_groups``, [T + 1, n, V, V, C]: the agents of those groups only, in slot order)
    features: np.ndarray  # [T + 1, N, F] (F: the longest type's; MAgent2's shorter rows NaN-padded)
    positions: np.ndarray  # [T + 1, N, 2] (x, y)
    alive: np.ndarray  # [T + 1, N]
    rewards: np.ndarray  # [T + 1, N]
    done: np.ndarray  # [T + 1] game over (a team wiped out)
    hp_share: np.ndarray  # [T + 1, N] hp / max_hp (MAgent2's: read at the centre of the agent's own view)


def make_core(config: Config) -> GridCore:
    """Our engine on ``config``: a ``BattleCore``, a ``CombinedArmsCore``, a ``TigerDeerCore``, a ``GatherCore``
    or an ``AdversarialPursuitCore``."""
    if isinstance(config, GatherConfig):
        return GatherCore(config, observe_passive=True)  # the food's views too, to compare them
    if isinstance(config, AdversarialPursuitConfig):
        return AdversarialPursuitCore(config)
    if isinstance(config, TigerDeerConfig):
        return TigerDeerCore(config)
    return BattleCore(config) if isinstance(config, BattleConfig) else CombinedArmsCore(config)


def groups_of(config: Config) -> tuple[str, ...]:
    if isinstance(config, GatherConfig):
        return GATHER_GROUPS
    if isinstance(config, AdversarialPursuitConfig):
        return ADVERSARIAL_PURSUIT_GROUPS
    if isinstance(config, TigerDeerConfig):
        return TIGER_DEER_GROUPS
    return ("red", "blue") if isinstance(config, BattleConfig) else COMBINED_ARMS_GROUPS


def game_of(config: Config) -> str:
    """MAgent2's ``get_config`` module of ``config``'s game."""
    if isinstance(config, GatherConfig):
        return "gather"
    if isinstance(config, AdversarialPursuitConfig):
        return "adversarial_pursuit"
    if isinstance(config, TigerDeerConfig):
        return "tiger_deer"
    return "battle" if isinstance(config, BattleConfig) else "combined_arms"


def replay_in_magent2(tmp_path: Path, config: Config, actions: np.ndarray, view_groups: list[int] | None = None) -> Episode:
    """Replay ``actions`` ``[T, N]`` on ``config``'s placement and walls in MAgent2's engine (its
    ``battle.get_config``, ``combined_arms.get_config``, ``tiger_deer.get_config``, ``gather.get_config`` or
    ``adversarial_pursuit.get_config``).

    ``view_groups``: record the views of these groups' agents only (gather's 2,272 food on its 200 x 200
    map would take 12 MB a step); every group's if None."""
    spec = {
        "game": game_of(config),
        "map_size": config.map_size,
        "minimap_mode": config.minimap_mode,
        "walls": [list(cell) for cell in getattr(config, "walls", ())],
        "positions": [[list(cell) for cell in config.positions[group]] for group in groups_of(config)],
        "actions": np.asarray(actions).tolist(),
    }
    if isinstance(config, TigerDeerConfig):
        spec["reward_args"] = {"tiger_step_recover": config.tiger_step_recover, "deer_attacked": config.deer_attacked}
    if isinstance(config, GatherConfig):
        names = ("step_reward", "attack_penalty", "dead_penalty", "attack_food_reward")
        spec["reward_args"] = {name: getattr(config, name) for name in names}
    if isinstance(config, AdversarialPursuitConfig):
        spec["reward_args"] = {"tag_penalty": config.tag_penalty}
    if view_groups is not None:
        spec["view_groups"] = list(view_groups)
    spec_path, out_path = tmp_path / "spec.json", tmp_path / "magent2.npz"
    spec_path.write_text(json.dumps(spec))
    subprocess.run([magent2_python(), str(REPLAY_SCRIPT), str(spec_path), str(out_path)], check=True, capture_output=True)
    with np.load(out_path) as data:
        return Episode(**{key: data[key] for key in data.files})


def magent2_layout(tmp_path: Path, game: str, map_size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(walls [H, W] bool indexed [y, x], [each group's (x, y) cells in id order])`` after MAgent2's ``game`` resets."""
    out_path = tmp_path / "layout.npz"
    command = [magent2_python(), str(REPLAY_SCRIPT), "--layout", game, str(map_size), str(out_path)]
    subprocess.run(command, check=True, capture_output=True)
    with np.load(out_path) as data:
        groups = sorted((key for key in data.files if key.startswith("group")), key=lambda key: int(key[5:]))
        return data["walls"], [data[key] for key in groups]


def advance_actions(core: GridCore) -> np.ndarray:
    """``[N]`` each slot's longest straight move towards the other side (red, side 0, starts on the left)."""
    moves = []
    for slot in range(core.n_agents):
        offsets = core.game.types[core.tables.slot_type[slot]].move_offsets
        ahead = max(dx for dx, dy in offsets if dy == 0)
        moves.append(offsets.index((ahead if core.teams[slot] == 0 else -ahead, 0)))
    return np.array(moves)


def scripted_actions(
    config: Config, n_steps: int, seed: int, attack_share: float = 0.5, focus: float = 0.5, advance: float = 0.0,
    hunt: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """``[T, N]`` random actions made order-independent step by step: ``attack_share`` of them attacks;
    besides, an agent with an agent it can hit next to it (an enemy; in combined arms a friend too:
    friendly fire) attacks one of them with probability ``focus``, and otherwise moves straight
    towards the other side with probability ``advance``.

    ``hunt``: the probability that an agent that can attack (tiger-deer's tigers) moves towards the
    nearest agent of another group instead (``hunting_moves``).

    The episode is played in our engine as the actions are made (no side swap: ``config`` has
    explicit positions). Each step, an agent that can die this step (its hp minus the damage of the
    attacks on it below 0) does not attack, and only its first attacker (in slot order) does; an agent
    that starves this step (hp plus a negative ``step_recover`` below 0) does not attack either (our
    engine gives a dying agent its ``dead_penalty`` alone, MAgent2 adds the reward rules of its hits).
    The list stops when a group is wiped out.
    """
    core = make_core(config)
    core.reset(seed=seed)
    rng = np.random.default_rng(seed)
    n, tables = core.n_agents, core.tables
    kinds = tables.slot_type
    n_moves, n_actions, stays = tables.n_moves[kinds], tables.n_actions[kinds], tables.stay[kinds]
    damage, recover = tables.damage[kinds], tables.recover[kinds]
    ahead = advance_actions(core) if advance > 0 else np.zeros(n, dtype=np.int64)
    armed = n_actions > n_moves
    steps = []
    for _ in range(n_steps):
        state = core.state
        alive, positions, hp = state.alive[0], state.positions[0], state.hp[0]
        attacks = (rng.random(n) < attack_share) & armed
        actions = np.where(attacks, rng.integers(n_moves, np.maximum(n_actions, n_moves + 1)), rng.integers(0, n_moves))
        marching = rng.random(n) < advance
        actions[marching] = ahead[marching]
        if hunt > 0:
            hunting = np.flatnonzero(alive & armed & (rng.random(n) < hunt))
            actions[hunting] = hunting_moves(core, hunting)
        masks = core.action_masks()[0]
        for slot in np.flatnonzero(alive & (rng.random(n) < focus)):
            targets = np.flatnonzero(masks[slot, n_moves[slot] : n_actions[slot]])
            if len(targets):
                actions[slot] = n_moves[slot] + rng.choice(targets)
        attackers: dict[int, list[int]] = {}
        for slot in np.flatnonzero(alive & (actions >= n_moves)):
            kind = kinds[slot]
            x = positions[slot, 0] + tables.action_dx[kind, actions[slot]]
            y = positions[slot, 1] + tables.action_dy[kind, actions[slot]]
            if not (0 <= x < config.map_size and 0 <= y < config.map_size):
                continue
            victim = state.occupant[0, y, x]
            if victim != EMPTY and (tables.slot_group[victim] != tables.slot_group[slot] or tables.attack_in_group[kind]):
                attackers.setdefault(int(victim), []).append(int(slot))
        for victim, slots in sorted(attackers.items()):
            if hp[victim] - damage[slots].sum(dtype=np.float32) < 0:
                actions[slots[1:]] = stays[slots[1:]]
                if actions[victim] >= n_moves[victim]:
                    actions[victim] = stays[victim]
        starving = alive & (recover < 0) & (hp + recover < 0) & (actions >= n_moves)
        actions[starving] = stays[starving]
        steps.append(actions)
        out = core.step(actions)
        if out.done[0]:
            break
    return np.array(steps)


def hunting_moves(core: GridCore, slots: np.ndarray) -> np.ndarray:
    """Each of ``slots``' move towards the nearest living agent of another group (first of the closest
    moves in action order; its stay if no other group is alive)."""
    state, tables = core.state, core.tables
    alive, positions = state.alive[0], state.positions[0]
    moves = []
    for slot in slots:
        kind = tables.slot_type[slot]
        prey = positions[alive & (tables.slot_group != tables.slot_group[slot])]
        offsets = np.asarray(core.game.types[kind].move_offsets)
        if len(prey) == 0:
            moves.append(tables.stay[kind])
            continue
        target = prey[np.argmin(np.abs(prey - positions[slot]).sum(axis=1))]
        distance = np.abs(positions[slot] + offsets - target).sum(axis=1)
        moves.append(int(np.argmin(distance)))
    return np.array(moves, dtype=np.int64)


def replay_in_ours(config: Config, actions: np.ndarray, view_groups: list[int] | None = None) -> Episode:
    """Replay ``actions`` in our engine; the same record as ``replay_in_magent2``'s."""
    core = make_core(config)
    groups = range(core.n_groups) if view_groups is None else view_groups
    starts = core.group_starts
    view_slots = np.concatenate([np.arange(starts[g], starts[g + 1]) for g in groups])
    outputs = [core.reset(seed=0)]
    max_hp = core.tables.max_hp[core.tables.slot_type]
    positions = [core.state.positions[0].copy()]
    hp_share = [core.state.hp[0] / max_hp]
    for step_actions in actions:
        outputs.append(core.step(step_actions[None, :]))
        positions.append(core.state.positions[0].copy())
        hp_share.append(core.state.hp[0] / max_hp)
    return Episode(
        views=np.stack([out.views[0, view_slots] for out in outputs]),
        features=np.stack([out.features[0] for out in outputs]),
        positions=np.stack(positions),
        alive=np.stack([out.alive[0] for out in outputs]),
        rewards=np.stack([out.rewards[0] for out in outputs]),
        done=np.array([bool(out.done[0] and not out.truncated[0]) for out in outputs]),
        hp_share=np.stack(hp_share),
    )
