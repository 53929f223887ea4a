"""Each Ising spin plays a Boltzmann best response to the mean action in its infos.

The environment hands every agent the mean one-hot action of its four neighbours
(``infos[agent]["mean_action"]``). A spin that expects its neighbours to keep that mean gets
expected reward ``coupling * a * 4 * (p_up - p_down) / 2`` for spin ``a``, and picks +1 with the
Boltzmann probability at ``--temperature``. Half the sites revise per step (all at once would flip
checkerboards). Below the critical temperature the lattice orders and xi grows.

    python examples/ising_mean_field_response.py --size 32 --steps 200 --temperature 1.0
"""

import argparse

import numpy as np

from mfenvs import ising_v0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    env = ising_v0.parallel_env(size=args.size, max_cycles=args.steps)
    observations, infos = env.reset(seed=args.seed)
    rng = np.random.default_rng(args.seed)
    print(f"start: xi = {infos[env.agents[0]]['xi']:.3f}")
    while env.agents:
        mean = np.stack([infos[agent]["mean_action"] for agent in env.agents])  # [N, 2]: P(down), P(up)
        own = np.array([observations[agent][0] for agent in env.agents]) > 0
        gain = 2.0 * (mean[:, 1] - mean[:, 0])  # reward(+1) - reward(-1) with coupling 1, 4 neighbours
        p_up = 1.0 / (1.0 + np.exp(-2.0 * gain / args.temperature))
        revise = rng.random(len(own)) < 0.5
        spins_up = np.where(revise, rng.random(len(own)) < p_up, own)
        observations, rewards, terminations, truncations, infos = env.step(dict(zip(env.agents, spins_up.astype(int).tolist())))
    final = next(iter(infos.values()))
    print(f"after {args.steps} steps: xi = {final['xi']:.3f}, energy per site = {final['energy']:.3f}")


if __name__ == "__main__":
    main()
