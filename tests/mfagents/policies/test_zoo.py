"""Shipped Battle policies (``zoo:NAME``): policy files round-trip, load offline, and fight."""

from __future__ import annotations

import numpy as np
import pytest

import mfagents
from mfagents.algos import make_learner
from mfagents.common.checkpoint import load_checkpoint
from mfagents.common.pipeline import VecPipeline
from mfagents.policies.specs import load_learner
from mfagents.policies.zoo import ZOO_DIR, available, export_policy, zoo_path

SHIPPED = ("mfq", "il", "mfac", "ac")
"""Policies the package must ship (``benchmarks/battle_zoo.py`` trains and exports them)."""
SMALL = {"map_size": 16, "team_size": 8, "max_cycles": 60}


@pytest.mark.parametrize("algo", ["mfq", "mfac"])
def test_a_policy_file_acts_like_the_learner_it_came_from(tmp_path, algo):
    pipeline = VecPipeline("battle", SMALL, 1)
    learner = make_learner(algo, pipeline.observation_space, pipeline.n_actions, 8, seed=3)
    info = {"config": learner.config_dict(), "n_agents": 8, "observation_shape": list(pipeline.observation_space.shape)}
    path = tmp_path / "policy.safetensors"
    export_policy(learner, algo, info, path, {"command": "test"})
    tensors, metadata = load_checkpoint(path)
    assert metadata["kind"] == "policy" and metadata["provenance"] == {"command": "test"}
    assert all(t.dtype.is_floating_point is False or str(t.dtype) == "torch.float16" for t in tensors.values())
    loaded, _ = load_learner(path, pipeline.observation_space, pipeline.n_actions)
    step = pipeline.reset(seed=0)
    rows = pipeline.groups["red"]
    original = learner.act(step.observations[rows], step.mean_actions[rows], explore=False)
    again = loaded.act(step.observations[rows], step.mean_actions[rows], explore=False)
    assert (original == again).mean() >= 0.75  # float16 weights may break near-ties, not the policy
    pipeline.close()


def test_unknown_zoo_policy_names_the_shipped_ones():
    with pytest.raises(ValueError, match="no such zoo policy; shipped: "):
        zoo_path("zoo:nobody")
    with pytest.raises(ValueError, match="no such zoo policy"):
        mfagents.evaluate("battle", red="zoo:../checkpoint", blue="random", rounds=1, env_kwargs=SMALL)


def test_the_package_ships_its_policies():
    assert set(SHIPPED) <= set(available()), f"missing zoo policies in {ZOO_DIR}: run benchmarks/battle_zoo.py"
    sizes = [path.stat().st_size for path in ZOO_DIR.glob("*.safetensors")]
    assert sum(sizes) < 8 * 2**20


@pytest.mark.parametrize("name", SHIPPED)
def test_zoo_policies_fight_on_the_papers_map(name):
    # Random play makes ~0 kills; a trained team must kill many and win (3 rounds of 400 steps, 64 v 64).
    result = mfagents.evaluate("battle", red=f"zoo:{name}", blue="random", rounds=3, seed=99, n_envs=1)
    assert result["red_mean_kills"] >= 20 and result["red_wins"] >= 2, result
    assert result["red_mean_kills"] > 4 * max(result["blue_mean_kills"], 1.0), result
