"""The shared PettingZoo adapter over every registered environment: what its dicts hand to users."""

from __future__ import annotations

import numpy as np


def test_every_agent_gets_its_own_info_dict(env_case):
    env = env_case.parallel_env()
    _, infos = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        assert len({id(info) for info in infos.values()}) == len(infos)
        first, *others = infos.values()
        first["mutated by the user"] = True
        assert not any("mutated by the user" in info for info in others)
        if not env.agents:
            break
        actions = {agent: int(rng.integers(env.action_space(agent).n)) for agent in env.agents}
        *_, infos = env.step(actions)
        assert not any("mutated by the user" in info for info in infos.values())
