"""Train one SB3 PPO policy for every Battle agent through SuperSuit, save it, and play it against baselines.

Parameter sharing: SuperSuit turns each agent of each environment copy into one row of an SB3 vector
env, so a single PPO model learns from (and plays) both teams. The environment keeps dead agents
(``dead_agents="absorb"``) because SuperSuit's vector envs need a fixed agent set. The saved ``.zip``
is a policy SPEC for the command line: ``sb3:runs/sb3_ppo_battle.zip``.

    python examples/sb3_ppo_battle.py                              # 500k agent-steps, about 4 minutes on 2 cores
    python examples/sb3_ppo_battle.py --timesteps 1 --episodes 1  # smoke test (one rollout)

With the defaults (10 v 10 on a 16 x 16 map) the policy wins about half its games against uniform
random play and none against the scripted nearest-enemy fighter: a baseline to beat, not a strong player.
"""

import argparse
from pathlib import Path

import numpy as np
import supersuit as ss
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import set_random_seed

from mfagents.policies.sb3 import load_sb3_policy
from mfagents.policies.scripted import nearest_enemy_actions
from mfenvs import battle_v0


def play(env, red_policy, blue: str, rng: np.random.Generator, seed: int) -> dict:
    """One episode: red acts with ``red_policy`` on its stacked observations; blue is ``random`` or ``scripted``."""
    observations, infos = env.reset(seed=seed)
    slot_of = {agent: slot for slot, agent in enumerate(env.possible_agents)}
    while env.agents:
        red = [agent for agent in env.agents if agent.startswith("red_")]
        blue_agents = [agent for agent in env.agents if agent.startswith("blue_")]
        actions = dict(zip(red, red_policy(np.stack([observations[a] for a in red])).tolist())) if red else {}
        if blue == "scripted":
            scripted = nearest_enemy_actions(env.unwrapped.core.engine)
            actions.update({agent: int(scripted[slot_of[agent]]) for agent in blue_agents})
        else:
            actions.update(zip(blue_agents, rng.integers(0, 21, size=len(blue_agents)).tolist()))
        observations, _, _, _, infos = env.step(actions)
    return next(iter(infos.values()))  # every agent's final info carries the results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=500_000, help="agent-steps of training (PPO's budget)")
    parser.add_argument("--map-size", type=int, default=16, help="16: 10 v 10 agents")
    parser.add_argument("--max-cycles", type=int, default=100)
    parser.add_argument("--copies", type=int, default=2, help="environment copies in SB3's vector env")
    parser.add_argument("--episodes", type=int, default=10, help="evaluation episodes per baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/sb3_ppo_battle.zip"))
    args = parser.parse_args()
    env_kwargs = {"map_size": args.map_size, "max_cycles": args.max_cycles}

    # -- train: one PPO model for every agent ------------------------------------------------------
    vec = ss.pettingzoo_env_to_vec_env_v1(battle_v0.parallel_env(**env_kwargs, dead_agents="absorb"))
    vec = ss.concat_vec_envs_v1(vec, args.copies, num_cpus=0, base_class="stable_baselines3")
    set_random_seed(args.seed)
    vec.venv.reset(seed=args.seed)  # PPO(seed=...) fails: SuperSuit's ConcatVecEnv has no seed()
    n_steps = 64
    batch_size = n_steps * vec.num_envs // 4  # four minibatches per epoch
    model = PPO("MlpPolicy", vec, n_steps=n_steps, batch_size=batch_size, ent_coef=0.01, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default logger makes a folder in /tmp
    print(f"training PPO on {vec.num_envs} agent rows ({args.copies} battles) for {args.timesteps} agent-steps")
    model.learn(total_timesteps=args.timesteps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    vec.close()
    print(f"saved {args.out} after {model.num_timesteps} agent-steps; as a policy SPEC it is sb3:{args.out}, e.g.")
    print(  # mfzoo reads the model's observation shape and plays without the extra features it lacks
        f"  mfzoo eval battle --red sb3:{args.out} --blue scripted --env-kwarg map_size={args.map_size}"
    )

    # -- evaluate: the saved policy plays red against built-in baselines --------------------------
    policy = load_sb3_policy(args.out)
    rng = np.random.default_rng(args.seed)
    env = battle_v0.parallel_env(**env_kwargs)
    for blue in ("random", "scripted"):
        results = [play(env, policy, blue, rng, seed=args.seed + 1000 + episode) for episode in range(args.episodes)]
        wins = sum(result["red_won"] for result in results)
        kills = np.mean([result["red_kills"] for result in results])
        losses = np.mean([result["blue_kills"] for result in results])
        print(f"PPO (red) vs {blue} (blue): won {wins}/{len(results)}, kills {kills:.1f}, losses {losses:.1f} per game")


if __name__ == "__main__":
    main()
