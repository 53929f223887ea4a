"""Checkpoint files: round trip, atomic replacement, and a clear error for every kind of damage."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.torch
import torch

from mfagents.common.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint, resolve_checkpoint_path, save_checkpoint


def sample_tensors() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(4, 3, generator=generator)
    return {
        "net/weight": weight,
        "net/weight_alias": weight,  # shared memory is fine
        "net/bias": torch.zeros(3, dtype=torch.float64),
        "counters/updates": torch.tensor(17, dtype=torch.int64),
        "rng/torch": torch.Generator().manual_seed(5).get_state(),
        "mask": torch.tensor([True, False]),
    }


def sample_metadata() -> dict:
    rng_state = np.random.default_rng(3).bit_generator.state  # 128-bit integers: JSON keeps them exact
    return {"algo": "mfq", "round": 12, "env_kwargs": {"map_size": 40, "mean_action_radius": None}, "rng": rng_state}


def test_round_trip_keeps_every_tensor_and_the_metadata(tmp_path):
    path = tmp_path / "run" / CHECKPOINT_NAME
    tensors, metadata = sample_tensors(), sample_metadata()
    save_checkpoint(path, tensors, metadata)
    loaded, loaded_metadata = load_checkpoint(path, required=["net/weight", "rng/torch"])
    assert loaded.keys() == tensors.keys()
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor)
    assert {key: loaded_metadata[key] for key in metadata} == metadata
    restored = np.random.default_rng()
    restored.bit_generator.state = loaded_metadata["rng"]
    assert restored.integers(1 << 60) == np.random.default_rng(3).integers(1 << 60)
    assert [p.name for p in path.parent.iterdir()] == [CHECKPOINT_NAME]  # no temporary file left behind


def test_saving_again_replaces_the_file(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, {"x": torch.ones(2)}, {"step": 1})
    save_checkpoint(path, {"x": torch.full((2,), 2.0)}, {"step": 2})
    tensors, metadata = load_checkpoint(path)
    assert tensors["x"].tolist() == [2.0, 2.0] and metadata["step"] == 2
    assert len(list(tmp_path.iterdir())) == 1


def test_a_checkpoint_gets_the_permissions_of_any_new_file(tmp_path):
    # the atomic write goes through mkstemp (mode 0600): a run on a shared cluster folder must stay readable
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, {"x": torch.ones(2)}, {"step": 1})
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


@pytest.mark.parametrize("keep", [0, 5, 8, 40, -1])
def test_truncated_file_is_rejected_naming_the_file(tmp_path, keep):
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, sample_tensors(), sample_metadata())
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:-7])
    with pytest.raises(CheckpointError, match=str(path).replace("\\", "\\\\")):
        load_checkpoint(path)


@pytest.mark.parametrize("where", ["tensor data", "metadata value", "header syntax"])
def test_tampered_file_is_rejected_naming_the_file(tmp_path, where):
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, {"w": torch.arange(64, dtype=torch.float32)}, {"round": 12})
    data = bytearray(path.read_bytes())
    if where == "tensor data":
        data[-10] ^= 0x40
        expected = "digest mismatch"
    elif where == "metadata value":
        at = data.index(b"12", data.index(b"round"))  # the round counter inside the JSON metadata string
        data[at : at + 2] = b"99"
        expected = "digest mismatch"
    else:
        data[8] = ord("[")  # the header JSON no longer parses
        expected = "corrupt"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=expected) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_missing_required_tensor_and_foreign_files_are_rejected(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, {"w": torch.zeros(2)}, {})
    with pytest.raises(CheckpointError, match="lacks tensor 'q/weight'"):
        load_checkpoint(path, required=["w", "q/weight"])
    foreign = tmp_path / "foreign.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not an mfzoo checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.safetensors")
    text = tmp_path / "notes.safetensors"
    text.write_text(json.dumps({"not": "a checkpoint"}))
    with pytest.raises(CheckpointError, match=str(text)):
        load_checkpoint(text)


def test_bad_inputs_to_save_are_type_errors(tmp_path):
    with pytest.raises(TypeError, match="'w' must be a torch.Tensor"):
        save_checkpoint(tmp_path / "a.safetensors", {"w": np.zeros(2)}, {})
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "b.safetensors", {}, {"bad": object()})
    assert not list(tmp_path.iterdir())


def test_resolve_checkpoint_path_accepts_a_run_directory_or_a_file(tmp_path):
    with pytest.raises(CheckpointError, match=f"has no {CHECKPOINT_NAME}"):
        resolve_checkpoint_path(tmp_path)
    save_checkpoint(tmp_path / CHECKPOINT_NAME, {"w": torch.zeros(1)}, {})
    assert resolve_checkpoint_path(tmp_path) == tmp_path / CHECKPOINT_NAME
    assert resolve_checkpoint_path(tmp_path / CHECKPOINT_NAME) == tmp_path / CHECKPOINT_NAME
    with pytest.raises(CheckpointError, match="not found"):
        resolve_checkpoint_path(tmp_path / "nope.safetensors")
