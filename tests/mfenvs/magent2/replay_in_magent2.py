"""Replay a scripted episode in MAgent2's own engine; run by MAgent2's Python (its own virtualenv).

Usage: ``python replay_in_magent2.py SPEC.json OUT.npz``, or ``python replay_in_magent2.py --layout GAME
MAP_SIZE OUT.npz`` for the walls (``[H, W]`` bool, indexed [y, x]) and each group's cells (``(x, y)``, in
agent id order) right after ``reset()`` of MAgent2's ``GAME`` environment (e.g. ``battlefield_v5``),
or ``--spaces GAME MAP_SIZE OUT.json`` for its agents' spaces under each flag. The spec gives the game (``"battle"``: MAgent2's
``battle.get_config``, which ``battlefield_v5`` imports too), the map size, the minimap flag, the
interior walls ``[(x, y)]``, each group's start cells ``[[(x, y)]]`` and the actions ``[steps][agents]``
(agent id order: group 0's agents, then group 1's, ...); ``"combined_arms"`` plays MAgent2's
``combined_arms.get_config`` with its four groups, ``"tiger_deer"`` its ``tiger_deer.get_config`` (deer and
tigers, each with its own view: the deer's 3 x 3 is recorded at the centre of the tigers' 9 x 9), ``"gather"``
its ``gather.get_config`` (food, given action 0, and omnivores; ``"view_groups"``: record only these groups'
views, in agent id order), ``"adversarial_pursuit"`` its ``adversarial_pursuit.get_config`` (2 x 2 predators
placed by their top-left cell, and prey; the prey's 9 x 9 view is recorded at offset 0 of the predators'
10 x 10, as our core's). The engine is driven as MAgent2's PettingZoo
wrapper drives it (``magent_env.step``): set each group's actions, ``step``, read the observations,
rewards and alive flags, then ``clear_dead``; but with every group's own actions from the first step
(the wrapper plays group 0's actions for every group on the first step after a reset, a bug).

Writes, per step ``t`` (0 = after placement, before any action), for every agent id (NaN / -1 / False
where the agent is gone): ``views[t]``, ``features[t]``, ``positions[t]`` ``(x, y)``, ``alive[t]``,
``rewards[t]`` (0 at t = 0), ``hp_share[t]`` (hp / max_hp, read at the centre of the agent's own view)
and ``done[t]`` (the engine's game over).
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main(spec_path: str, out_path: str) -> None:
    import importlib

    import magent2

    with open(spec_path) as file:
        spec = json.load(file)
    game = spec.get("game", "battle")
    get_config = importlib.import_module(f"magent2.environments.{game}.{game}").get_config
    if game == "tiger_deer":
        reward_args = {"tiger_step_recover": -0.1, "deer_attacked": -0.1}
    elif game == "gather":
        reward_args = {"step_reward": -0.01, "attack_penalty": -0.1, "dead_penalty": -1.0, "attack_food_reward": 0.5}
    elif game == "adversarial_pursuit":
        reward_args = {"tag_penalty": -0.2}
    else:
        reward_args = {"step_reward": -0.005, "dead_penalty": -0.1, "attack_penalty": -0.1, "attack_opponent_reward": 0.2}
    reward_args.update(spec.get("reward_args", {}))
    size = spec["map_size"]
    env = magent2.GridWorld(get_config(size, spec["minimap_mode"], spec.get("seed", 0), **reward_args), map_size=size)
    handles = env.get_handles()
    env.reset()
    if spec["walls"]:
        env.add_walls(method="custom", pos=[list(cell) for cell in spec["walls"]])
    for handle, cells in zip(handles, spec["positions"]):
        env.add_agents(handle, method="custom", pos=[[x, y, 0] for x, y in cells])
    counts = [len(cells) for cells in spec["positions"]]
    n_agents = sum(counts)
    actions = np.asarray(spec["actions"], dtype=np.int32).reshape(-1, n_agents)
    n_steps = len(actions)
    view_groups = spec.get("view_groups", list(range(len(handles))))  # whose views to record
    view_ids = np.concatenate([np.arange(sum(counts[:g]), sum(counts[: g + 1])) for g in view_groups])
    view_row = np.full(n_agents, -1, dtype=np.int64)
    view_row[view_ids] = np.arange(len(view_ids))

    # the largest group's view; smaller views at its centre, zeros around (as our engine's batched views)
    view_size = max(env.get_view_space(handle)[0] for handle in handles)
    n_channels = env.get_view_space(handles[0])[2]  # the same for every group of these games
    n_features = max(env.get_feature_space(handle)[0] for handle in handles)  # shorter rows: NaN-padded
    views = np.full((n_steps + 1, len(view_ids), view_size, view_size, n_channels), np.nan, dtype=np.float32)
    hp_share = np.full((n_steps + 1, n_agents), np.nan, dtype=np.float32)
    features = np.full((n_steps + 1, n_agents, n_features), np.nan, dtype=np.float32)
    positions = np.full((n_steps + 1, n_agents, 2), -1, dtype=np.int64)
    alive = np.zeros((n_steps + 1, n_agents), dtype=bool)
    rewards = np.zeros((n_steps + 1, n_agents), dtype=np.float32)
    done = np.zeros(n_steps + 1, dtype=bool)

    def record(t: int) -> None:
        for group, handle in enumerate(handles):
            ids = env.get_agent_id(handle)
            view, feature = env.get_observation(handle)
            size, centre = view.shape[1], view.shape[1] // 2
            offset = (view_size - size) // 2
            if group in view_groups:
                rows = view_row[ids]
                views[t, rows] = 0.0
                views[t, rows, offset : offset + size, offset : offset + size] = view
            hp_share[t, ids] = view[:, centre, centre, 2]  # the agent's own cell: its hp / max_hp
            features[t, ids, : feature.shape[1]] = feature
            positions[t, ids] = env.get_pos(handle)
            alive[t, ids] = env.get_alive(handle)
            if t > 0:
                rewards[t, ids] = env.get_reward(handle)

    record(0)
    for t in range(n_steps):
        for handle in handles:
            ids = env.get_agent_id(handle)  # the living agents of the group, in id order
            env.set_action(handle, np.ascontiguousarray(actions[t, ids], dtype=np.int32))
        done[t + 1] = env.step()
        record(t + 1)
        env.clear_dead()
        if done[t + 1]:
            views, features, positions, hp_share = views[: t + 2], features[: t + 2], positions[: t + 2], hp_share[: t + 2]
            alive, rewards, done = alive[: t + 2], rewards[: t + 2], done[: t + 2]
            break
    np.savez(
        out_path, views=views, features=features, positions=positions, alive=alive, rewards=rewards, done=done, hp_share=hp_share
    )


def layout(game: str, map_size: int, out_path: str) -> None:
    import importlib

    module = importlib.import_module(f"magent2.environments.{game}")
    env = module.parallel_env() if game.startswith("gather") else module.parallel_env(map_size=map_size)  # gather: 200, fixed
    env.reset(seed=0)
    engine = env.unwrapped.env
    walls = env.state()[:, :, 0].T > 0  # MAgent2's state is indexed [x, y]
    cells = {f"group{k}": np.asarray(engine.get_pos(handle)) for k, handle in enumerate(engine.get_handles())}
    np.savez(out_path, walls=walls, **cells)


def spaces(game: str, map_size: int, out_path: str) -> None:
    """Every agent's observation shape and action count, and the state shape, of MAgent2's ``game`` under
    each combination of ``minimap_mode`` and ``extra_features``, as JSON."""
    import importlib

    module = importlib.import_module(f"magent2.environments.{game}")
    result = {}
    for minimap_mode in (False, True):
        for extra_features in (False, True):
            size = {} if game.startswith("gather") else {"map_size": map_size}  # gather's map is fixed
            env = module.parallel_env(**size, minimap_mode=minimap_mode, extra_features=extra_features)
            result[f"{minimap_mode},{extra_features}"] = {
                "observations": {agent: list(env.observation_space(agent).shape) for agent in env.possible_agents},
                "actions": {agent: int(env.action_space(agent).n) for agent in env.possible_agents},
                "state": list(env.state_space.shape),
            }
    with open(out_path, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    if sys.argv[1] == "--spaces":
        spaces(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "--layout":
        layout(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main(sys.argv[1], sys.argv[2])
