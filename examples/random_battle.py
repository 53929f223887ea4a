"""Play one Battle with random actions through the PettingZoo parallel API and print the result.

    python examples/random_battle.py --map-size 40 --seed 0
"""

import argparse

import numpy as np

from mfenvs import battle_v0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map-size", type=int, default=40)
    parser.add_argument("--max-cycles", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    env = battle_v0.parallel_env(map_size=args.map_size, max_cycles=args.max_cycles)
    observations, infos = env.reset(seed=args.seed)
    rng = np.random.default_rng(args.seed)
    print(f"{len(env.agents)} agents, observation {env.observation_space(env.agents[0]).shape}")
    while env.agents:
        actions = dict(zip(env.agents, rng.integers(0, 21, len(env.agents)).tolist()))
        observations, rewards, terminations, truncations, infos = env.step(actions)
    result = next(iter(infos.values()))  # every agent's final info carries the results
    print({key: value for key, value in result.items() if key != "mean_action"})


if __name__ == "__main__":
    main()
