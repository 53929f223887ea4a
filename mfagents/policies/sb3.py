"""Stable-Baselines3 PPO models as ``mfzoo`` policies: ``load_sb3_policy("ppo_battle.zip")``.

A PPO model trained with parameter sharing through SuperSuit (``examples/sb3_ppo_battle.py``) is
one network for every agent. The policy returned here acts for a whole group at once: it maps the
stacked observations ``[n, *obs_shape]`` of the group's agents to their ``[n]`` actions, for
``mfzoo eval`` and ``mfzoo arena`` (SPEC ``sb3:PATH.zip``). The observations must have the shape the
model was trained on (for Battle: the same ``minimap_mode`` and ``extra_features``).

Only load files you trust: an SB3 ``.zip`` stores its observation and action spaces as pickles,
which run code when loaded. The network weights themselves are read with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np

_CONSTANT_SCHEDULE_STANDINS = {"lr_schedule": 0.0, "clip_range": 0.0}
"""Replace the pickled training schedules, which inference never reads, so that loading does not
unpickle closures (they break across Python and SB3 versions)."""


def load_sb3_policy(path: str | Path, deterministic: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """Load an SB3 PPO ``.zip`` as a group policy ``observations [n, *obs_shape] -> actions [n]``.

    Args:
        path: the ``.zip`` written by ``PPO.save`` (the ``.zip`` suffix may be left out, as in SB3).
        deterministic: take the most likely action (``True``, for evaluation) or sample one.

    Returns:
        A function from the stacked observations of ``n`` agents, ``float32 [n, *obs_shape]``, to
        their ``int64 [n]`` actions. It raises ``ValueError`` when the observations do not have the
        shape the model was trained on.

    Raises:
        FileNotFoundError: ``path`` (and ``path.zip``) do not exist.
        ValueError: the file is not an SB3 PPO model (not a zip, truncated, another algorithm), or
            the model does not act in a ``Discrete`` action space.
    """
    from stable_baselines3 import PPO

    path = Path(path)
    if not path.is_file() and not path.with_name(path.name + ".zip").is_file():
        raise FileNotFoundError(f"SB3 model {str(path)!r} does not exist (nor {str(path) + '.zip'!r})")
    try:
        model = PPO.load(path, device="cpu", custom_objects=_CONSTANT_SCHEDULE_STANDINS)
    except Exception as error:  # SB3 raises ValueError, KeyError, RuntimeError... for a bad archive
        raise ValueError(f"{str(path)!r} is not a readable SB3 PPO model ({type(error).__name__}: {error})") from error
    if not isinstance(model.action_space, gymnasium.spaces.Discrete):
        raise ValueError(
            f"SB3 model {str(path)!r} acts in {model.action_space}; mfzoo policies need a Discrete action space"
        )
    obs_shape = tuple(model.observation_space.shape)

    def act(observations: np.ndarray) -> np.ndarray:
        observations = np.asarray(observations, dtype=np.float32)
        if observations.shape[1:] != obs_shape or observations.ndim != len(obs_shape) + 1:
            raise ValueError(
                f"SB3 model {path.name} expects observations of shape [n, {', '.join(map(str, obs_shape))}], "
                f"got {list(observations.shape)}"
            )
        if len(observations) == 0:
            return np.zeros(0, dtype=np.int64)
        actions, _ = model.predict(observations, deterministic=deterministic)
        return np.asarray(actions, dtype=np.int64).reshape(len(observations))

    return act
