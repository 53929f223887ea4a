"""Train one SB3 PPO policy for every Gaussian Squeeze agent through SuperSuit and report G / G_opt.

Every agent is one row of SB3's vector env and all rows share one network (parameter sharing); each
agent sees its identity ``i / (N-1)`` and last round's load and payoff, and every agent is paid
G(x) for the total load x. Uniform random play overloads the resource (x = 4.5 N): at N = 150 it
gets about a quarter of G_opt, and the agents must learn to hold back together.

    python examples/sb3_ppo_gaussian_squeeze.py               # 1M agent-steps, 1-2 minutes on 2 cores
    python examples/sb3_ppo_gaussian_squeeze.py --timesteps 1  # smoke test (one rollout)

With the defaults G / G_opt goes from 0.26 (uniform random) to about 0.98. With more agents the
shared payoff of random play is close to 0 (at N = 200 it is 0.006) and so is its gradient: PPO with
parameter sharing then learns nothing in this budget (try ``--n-agents 200``).
"""

import argparse

import numpy as np
import supersuit as ss
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import set_random_seed

from mfenvs import gaussian_squeeze_v0


def mean_payoff_share(policy, env_kwargs: dict, episodes: int, seed: int) -> float:
    """Mean G / G_opt over the rounds of ``episodes`` episodes; ``policy`` maps stacked observations to actions."""
    env = gaussian_squeeze_v0.parallel_env(**env_kwargs)
    shares = []
    for episode in range(episodes):
        observations, _ = env.reset(seed=seed + episode)
        while env.agents:
            agents = env.agents
            actions = policy(np.stack([observations[a] for a in agents]))
            observations, _, _, _, infos = env.step(dict(zip(agents, actions.tolist())))
            info = infos[agents[0]]
            shares.append(info["G"] / info["G_opt"])
    return float(np.mean(shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=1_000_000, help="agent-steps of training (PPO's budget)")
    parser.add_argument("--n-agents", type=int, default=150)
    parser.add_argument("--max-cycles", type=int, default=25)
    parser.add_argument("--episodes", type=int, default=3, help="evaluation episodes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    env_kwargs = {"n_agents": args.n_agents, "max_cycles": args.max_cycles}

    vec = ss.pettingzoo_env_to_vec_env_v1(gaussian_squeeze_v0.parallel_env(**env_kwargs))
    vec = ss.concat_vec_envs_v1(vec, 1, num_cpus=0, base_class="stable_baselines3")
    set_random_seed(args.seed)
    vec.venv.reset(seed=args.seed)  # PPO(seed=...) fails: SuperSuit's ConcatVecEnv has no seed()
    n_steps = args.max_cycles  # one episode per rollout
    model = PPO("MlpPolicy", vec, n_steps=n_steps, batch_size=n_steps * vec.num_envs // 4, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default logger makes a folder in /tmp
    rng = np.random.default_rng(args.seed)
    n_actions = vec.action_space.n
    uniform = mean_payoff_share(lambda obs: rng.integers(0, n_actions, len(obs)), env_kwargs, args.episodes, args.seed)
    print(f"N = {args.n_agents}: G / G_opt = {uniform:.3f} with uniform random actions")
    print(f"training PPO on {vec.num_envs} agent rows for {args.timesteps} agent-steps")
    model.learn(total_timesteps=args.timesteps)

    def trained(observations: np.ndarray) -> np.ndarray:
        return model.predict(observations, deterministic=True)[0]

    share = mean_payoff_share(trained, env_kwargs, args.episodes, args.seed)
    print(f"G / G_opt = {share:.3f} with the trained policy ({model.num_timesteps} agent-steps)")
    vec.close()


if __name__ == "__main__":
    main()
