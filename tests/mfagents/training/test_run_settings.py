"""``mfagents.training.run_settings``: the environment settings commands read from runs, models and shipped policies."""

from __future__ import annotations

import json

import pytest

from mfagents.training import run_settings
from mfagents.training.run_settings import merge_env_kwargs, settings_for_shape
from mfenvs.registration import find

BATTLE = find("battle")


def fake_run(folder, env_kwargs, env_id="mfenvs/battle-v0"):
    """A run directory as far as settings go: its ``config.json``."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"env_id": env_id, "env_kwargs": env_kwargs}))
    return str(folder)


def test_a_run_setting_is_read_and_an_explicit_one_must_agree(tmp_path):
    run = fake_run(tmp_path / "a", {"map_size": 16, "positions": {"red": [(1, 1)], "blue": [(3, 3)]}})
    kwargs = merge_env_kwargs(BATTLE, {"red": run, "blue": "random"})
    assert kwargs["map_size"] == 16 and kwargs["positions"] == {"red": [[1, 1]], "blue": [[3, 3]]}
    same = {"map_size": 16, "positions": {"red": [(1, 1)], "blue": [(3, 3)]}}  # tuples vs JSON lists: the same
    assert merge_env_kwargs(BATTLE, {"red": run, "blue": "random"}, same)["map_size"] == 16
    with pytest.raises(ValueError, match=r"map_size=20 disagrees with .*a, trained with map_size=16"):
        merge_env_kwargs(BATTLE, {"red": run, "blue": "random"}, {"map_size": 20})
    assert merge_env_kwargs(BATTLE, {"red": run, "blue": "random"}, {"map_size": 20}, override=True)["map_size"] == 20


def test_two_runs_that_disagree_are_named_and_a_choice_settles_it(tmp_path):
    a, b = fake_run(tmp_path / "a", {"map_size": 16}), fake_run(tmp_path / "b", {"map_size": 20})
    with pytest.raises(ValueError, match=r"a was trained with map_size=16 but .*b with map_size=20"):
        merge_env_kwargs(BATTLE, {"red": a, "blue": b})
    assert merge_env_kwargs(BATTLE, {"red": a, "blue": b}, {"map_size": 20}, override=True)["map_size"] == 20


def test_runs_of_another_environment_and_builtin_specs_need_nothing(tmp_path):
    squeeze = fake_run(tmp_path / "s", {"n_agents": 5}, env_id="mfenvs/gaussian_squeeze-v0")
    assert merge_env_kwargs(BATTLE, {"red": squeeze, "blue": "scripted"}) == {"map_size": 40}


def test_observation_shapes_map_to_battle_settings():
    assert settings_for_shape(BATTLE, (13, 13, 9)) == {"minimap_mode": True, "extra_features": False}
    assert settings_for_shape(BATTLE, (13, 13, 41)) == {"minimap_mode": True, "extra_features": True}
    assert settings_for_shape(BATTLE, (13, 13, 5)) == {"minimap_mode": False, "extra_features": False}
    assert settings_for_shape(BATTLE, (7,)) is None and settings_for_shape(find("ising"), (5,)) is None


def test_zoo_policies_bring_their_observation_settings(tmp_path, monkeypatch):
    import mfagents.policies.zoo as zoo
    from mfagents.common.checkpoint import save_checkpoint

    import torch

    metadata = {"kind": zoo.POLICY_KIND, "learners": {"learner": {"algo": "mfq", "observation_shape": [13, 13, 5]}}}
    save_checkpoint(tmp_path / "tiny.safetensors", {"learner/w": torch.zeros(1)}, metadata)
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    assert run_settings.spec_env_kwargs("zoo:tiny", BATTLE) == {"minimap_mode": False, "extra_features": False}
    with pytest.raises(ValueError, match="extra_features=True disagrees with zoo:tiny"):
        merge_env_kwargs(BATTLE, {"red": "zoo:tiny", "blue": "random"}, {"extra_features": True})


def test_unknown_environment_arguments_are_listed():
    with pytest.raises(ValueError, match="battle takes no argument 'mapsize'; it takes map_size, team_size"):
        merge_env_kwargs(BATTLE, {"red": "random", "blue": "random"}, {"mapsize": 16})
