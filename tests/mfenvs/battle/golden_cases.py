"""Golden Battle trajectories: cases, the recorder and the replayer of ``golden/trajectories.npz``.

The fixture was recorded from the pure-NumPy engine (commit 3747b5c) before the rules, views and mean
actions moved to Numba kernels (issue 11), so that the kernels are held to the same game, number for
number. Each case plays a seeded ``BattleCore`` (several battles, partial resets) or a ``battle_v0``
parallel env with actions that a fighting policy drew from the action masks (so agents die) and stores,
per step, the small arrays in full (positions, hp, alive, rewards, terminations, mean actions) and a
digest of the large ones (views, features, observations, action masks). The actions are stored too:
replaying them needs no policy, and the replay compares every array bit for bit.

Record (only when the game is meant to change, which bumps ``battle_v0``'s version)::

    python -m tests.mfenvs.battle.golden_cases
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mfenvs import battle_v0
from mfenvs.battle import BattleConfig, BattleCore

FIXTURE = Path(__file__).parent / "golden" / "trajectories.npz"

#: Alternating red and blue columns over the whole interior of a 12 x 12 map: deaths from the first step.
PACKED = {
    "red": [(x, y) for x in range(1, 11, 2) for y in range(1, 11)],
    "blue": [(x, y) for x in range(2, 11, 2) for y in range(1, 11)],
}
#: A wall across the middle of a 24 x 24 map, with a gap.
INTERIOR_WALLS = tuple((12, y) for y in range(3, 21) if y not in (11, 12))


def digest(array: np.ndarray) -> np.ndarray:
    """8 bytes that change with any bit, the dtype or the shape of ``array``."""
    array = np.ascontiguousarray(array)
    header = f"{array.dtype.str}{array.shape}".encode()
    return np.frombuffer(hashlib.blake2b(header + array.tobytes(), digest_size=8).digest(), dtype=np.uint8)


def fighting_actions(masks: np.ndarray, rng: np.random.Generator, attack_rate: float = 0.8) -> np.ndarray:
    """``[..., 21]`` masks -> an attack on an adjacent enemy when one is there (``attack_rate`` of the
    time), else a random action (moves into walls and teammates included)."""
    flat = masks.reshape(-1, masks.shape[-1])
    actions = rng.integers(0, 21, size=len(flat))
    for row, mask in enumerate(flat):
        attacks = np.flatnonzero(mask[13:]) + 13
        if len(attacks) and rng.random() < attack_rate:
            actions[row] = rng.choice(attacks)
    return actions.reshape(masks.shape[:-1])


# -- BattleCore cases ------------------------------------------------------------------------------
CORE_CASES: dict[str, dict[str, Any]] = {
    "core_walls_minimap_radius": dict(
        config=dict(map_size=24, team_size=16, walls=INTERIOR_WALLS, max_cycles=40), n_battles=3, steps=70, seed=11
    ),
    "core_packed_global_no_minimap": dict(
        config=dict(map_size=12, positions=PACKED, minimap_mode=False, mean_action_radius=None, max_cycles=25),
        n_battles=2,
        steps=45,
        seed=12,
    ),
    "core_one_a_side": dict(
        config=dict(map_size=6, positions={"red": [(2, 2)], "blue": [(3, 3)]}, mean_action_radius=2.5, max_cycles=30),
        n_battles=3,
        steps=40,
        seed=13,
    ),
    "core_map45_default": dict(config=dict(map_size=45, max_cycles=50), n_battles=2, steps=25, seed=14),
    "core_map250": dict(config=dict(map_size=250, max_cycles=50), n_battles=1, steps=4, seed=16),
    "core_spare_channels": dict(
        config=dict(map_size=20, team_size=9, mean_action_radius=3.5, random_sides=True),
        n_battles=2,
        steps=20,
        seed=15,
        spare_view_channels=3,
    ),
}


def run_core_case(case: dict[str, Any], actions: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Play one ``BattleCore`` case; ``actions`` ``[steps, B, N]`` replays, ``None`` draws them."""
    config = BattleConfig(**case["config"])
    core = BattleCore(config, n_battles=case["n_battles"], spare_view_channels=case.get("spare_view_channels", 0))
    policy_rng = np.random.default_rng(case["seed"] + 1000)
    out = core.reset(seed=case["seed"])
    record: dict[str, list[np.ndarray]] = {}

    def keep(**arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            record.setdefault(name, []).append(np.asarray(value).copy())

    def observe(out) -> None:
        state = core.state
        keep(
            positions=np.where(state.alive[..., None], state.positions, -1).astype(np.int16),
            hp=state.hp,
            alive=state.alive,
            kills=state.kills.astype(np.int16),
            mean_actions=out.mean_actions,
            views_digest=np.stack([digest(v) for v in out.views]),
            features_digest=np.stack([digest(f) for f in out.features]),
            masks_digest=np.stack([digest(m) for m in core.action_masks()]),
            state_map_digest=digest(core.state_map(0)),
            results_digest=digest(np.array([float(v) if not isinstance(v, str) else len(v) for v in core.results(0).values()])),
        )

    observe(out)
    played = []
    for t in range(case["steps"]):
        if actions is None:
            step_actions = fighting_actions(core.action_masks(), policy_rng)
        else:
            step_actions = actions[t]
        played.append(np.asarray(step_actions, dtype=np.int8))
        out = core.step(step_actions)
        keep(rewards=out.rewards, terminated=out.terminated, truncated=out.truncated, done=out.done)
        observe(out)
        if out.done.any() and t % 3 != 2:  # restart some finished battles at once, leave others finished a while
            core.reset_battles(out.done)
    record["actions"] = played
    return {name: np.stack(values) for name, values in record.items()}


# -- PettingZoo env cases -------------------------------------------------------------------------
ENV_CASES: dict[str, dict[str, Any]] = {
    "env_extra_features_masks_remove": dict(
        kwargs=dict(map_size=18, team_size=9, extra_features=True, action_mask=True, max_cycles=40), steps=60, seed=21
    ),
    "env_absorb_no_minimap_radius3": dict(
        kwargs=dict(
            map_size=12, positions=PACKED, minimap_mode=False, extra_features=True, mean_action_radius=3,
            dead_agents="absorb", action_mask=True, max_cycles=30,
        ),
        steps=40,
        seed=22,
    ),
    "env_global_mean_walls": dict(
        kwargs=dict(map_size=24, team_size=16, walls=INTERIOR_WALLS, mean_action_radius=None, action_mask=True, max_cycles=30),
        steps=35,
        seed=23,
    ),
}


def run_env_case(case: dict[str, Any], actions: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Play one parallel-env case (reset when the episode ends); ``actions`` ``[steps, n_agents]`` replays
    (-1 for agents not in ``env.agents``), ``None`` draws them from the action masks."""
    env = battle_v0.parallel_env(**case["kwargs"])
    names = env.possible_agents
    n = len(names)
    policy_rng = np.random.default_rng(case["seed"] + 1000)
    observations, infos = env.reset(seed=case["seed"])
    record: dict[str, list[np.ndarray]] = {}

    def keep(**arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            record.setdefault(name, []).append(np.asarray(value).copy())

    def column(mapping: dict, fill: Any, dtype: Any, get: Callable = lambda v: v) -> np.ndarray:
        return np.array([get(mapping[a]) if a in mapping else fill for a in names], dtype=dtype)

    def observe(observations: dict, infos: dict) -> None:
        keep(
            present=column(infos, False, bool, lambda _: True),
            observations_digest=np.stack([digest(observations[a]) if a in observations else np.zeros(8, np.uint8) for a in names]),
            mean_actions=np.stack([infos[a]["mean_action"] if a in infos else np.full(21, -1, np.float32) for a in names]),
            masks=np.stack([infos[a]["action_mask"] if a in infos else np.full(21, -1, np.int8) for a in names]),
            info_digest=digest(np.array([v for k, v in sorted(infos[names[0]].items()) if k not in ("mean_action", "action_mask")]))
            if names[0] in infos
            else np.zeros(8, np.uint8),
        )

    observe(observations, infos)
    played = []
    for t in range(case["steps"]):
        if actions is None:
            masks = np.stack([infos[a]["action_mask"] if a in env.agents else np.zeros(21, np.int8) for a in names])
            step_actions = np.where([a in env.agents for a in names], fighting_actions(masks.astype(bool), policy_rng), -1)
        else:
            step_actions = actions[t]
        played.append(np.asarray(step_actions, dtype=np.int8))
        observations, rewards, terminations, truncations, infos = env.step(
            {a: int(step_actions[i]) for i, a in enumerate(names) if a in env.agents}
        )
        keep(
            rewards=column(rewards, np.nan, np.float32),
            terminations=column(terminations, -1, np.int8),
            truncations=column(truncations, -1, np.int8),
        )
        observe(observations, infos)
        if not env.agents:
            observations, infos = env.reset()
            keep(reset_digest=np.stack([digest(observations[a]) for a in names]))
    record["actions"] = played
    record.setdefault("reset_digest", [np.zeros((n, 8), np.uint8)])
    return {name: np.stack(values) for name, values in record.items()}


def run(name: str, actions: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Play case ``name`` (a key of ``CORE_CASES`` or ``ENV_CASES``)."""
    if name in CORE_CASES:
        return run_core_case(CORE_CASES[name], actions)
    return run_env_case(ENV_CASES[name], actions)


def record() -> None:
    """Play every case with freshly drawn actions and write the fixture."""
    arrays = {}
    for name in [*CORE_CASES, *ENV_CASES]:
        for key, value in run(name).items():
            arrays[f"{name}/{key}"] = value
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FIXTURE, **arrays)
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size / 1e3:.0f} kB, {len(arrays)} arrays)")


if __name__ == "__main__":
    record()
