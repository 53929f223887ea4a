"""Every environment in the one registration table is reachable every way a user can ask for it."""

import importlib
import importlib.resources

import pettingzoo
import pytest

import mfenvs
from mfenvs.registration import ENVIRONMENTS, find


@pytest.mark.parametrize("entry", ENVIRONMENTS, ids=lambda e: e.short_name)
def test_registered_for_parallel_and_aec(entry):
    assert entry.env_id in pettingzoo.parallel_registry
    assert entry.env_id in pettingzoo.aec_registry
    module = importlib.import_module(entry.module)
    assert isinstance(module.parallel_env(), pettingzoo.ParallelEnv)
    assert isinstance(module.raw_env(), pettingzoo.AECEnv)
    assert isinstance(module.env(), pettingzoo.AECEnv)
    assert module.parallel_env().metadata["name"] == entry.module.split(".")[-1]


@pytest.mark.parametrize("entry", ENVIRONMENTS, ids=lambda e: e.short_name)
def test_make_passes_keyword_arguments(entry):
    env = pettingzoo.make("parallel", entry.env_id, max_cycles=7)
    assert env.max_cycles == 7
    assert isinstance(pettingzoo.make("aec", entry.env_id), pettingzoo.AECEnv)


def test_ising_make_example_from_the_issue():
    env = pettingzoo.make("parallel", "mfenvs/ising-v0", size=32)
    env.reset(seed=0)
    assert len(env.agents) == 32 * 32


@pytest.mark.parametrize("entry", ENVIRONMENTS, ids=lambda e: e.short_name)
def test_find_accepts_every_spelling(entry):
    for name in (entry.short_name, entry.env_id, entry.module, entry.module.split(".")[-1]):
        assert find(name) is entry


def test_find_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown environment 'pong'"):
        find("pong")


def test_every_version_module_exists_in_the_package():
    names = {path.stem for path in importlib.resources.files(mfenvs).iterdir() if path.name.endswith("_v0.py")}
    assert names == {entry.module.split(".")[-1] for entry in ENVIRONMENTS}
