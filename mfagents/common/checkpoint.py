"""Checkpoints: tensors in safetensors (no code runs on load) plus JSON metadata, in one file.

A checkpoint is one ``.safetensors`` file. Its header's ``__metadata__`` holds two strings:

* ``mfzoo``: the JSON metadata (algorithm, configs, environment id and arguments, step and round
  counters, RNG states, CSV log position: whatever the caller passes);
* ``sha256``: a digest of that JSON and of every tensor's name, dtype, shape and bytes.

Files are written atomically: to a temporary file in the same folder, flushed to disk, then moved
over the old file with ``os.replace``, so a run killed mid-write leaves the previous checkpoint
intact. Loading checks the header, the digest and (optionally) the tensor names the caller needs;
any problem raises ``CheckpointError`` naming the file.

Example:
    >>> import tempfile, torch
    >>> path = Path(tempfile.mkdtemp()) / "checkpoint.safetensors"
    >>> save_checkpoint(path, {"w": torch.ones(2)}, {"step": 3})
    >>> tensors, metadata = load_checkpoint(path, required=["w"])
    >>> tensors["w"].tolist(), metadata["step"]
    ([1.0, 1.0], 3)
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from torch import nn

FORMAT = "mfzoo-checkpoint-v1"
"""Value of the ``format`` metadata key; a file without it is not an mfzoo checkpoint."""
CHECKPOINT_NAME = "checkpoint.safetensors"
"""File name of the latest checkpoint inside a run directory."""
BEST_CHECKPOINT_NAME = "best.safetensors"
"""File name of the checkpoint with the best evaluation-panel score so far (``mfagents.training.loop.panel_score``)."""
_HEADER_LIMIT = 100_000_000
"""Largest header accepted (safetensors' own limit): a corrupt length prefix must not allocate gigabytes."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, tampered with, or lacks what the caller needs."""


def tensor_digest(tensors: Mapping[str, torch.Tensor], metadata_json: str) -> str:
    """SHA-256 of the metadata JSON and of every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256(metadata_json.encode())
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"\0{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]) -> None:
    """Write ``tensors`` and JSON-able ``metadata`` to ``path`` atomically.

    Args:
        path: the ``.safetensors`` file to write (its folder is created if needed).
        tensors: name -> tensor (copied to CPU, contiguous; tensors may share memory).
        metadata: JSON-able values (``format`` is added).

    Raises:
        TypeError: if ``metadata`` is not JSON-able or a value of ``tensors`` is not a tensor.
    """
    path = Path(path)
    cpu_tensors = {}
    for name, tensor in tensors.items():
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"checkpoint entry {name!r} must be a torch.Tensor, got {type(tensor).__name__}")
        cpu_tensors[name] = tensor.detach().to("cpu", copy=True).contiguous()
    metadata_json = json.dumps({"format": FORMAT, **metadata}, sort_keys=True)
    header = {"mfzoo": metadata_json, "sha256": tensor_digest(cpu_tensors, metadata_json)}
    payload = safetensors.torch.save(cpu_tensors, metadata=header)

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp's 0600 would hide runs from a cluster's other users
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a safetensors file, or ``CheckpointError`` naming the file."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            prefix = file.read(8)
            if len(prefix) < 8:
                raise CheckpointError(f"{path}: not a checkpoint (file is {len(prefix)} bytes, truncated or empty)")
            (length,) = struct.unpack("<Q", prefix)
            if length > _HEADER_LIMIT:
                raise CheckpointError(f"{path}: corrupt checkpoint header (claims {length} bytes)")
            raw = file.read(length)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint file not found") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file") from None
    if len(raw) < length:
        raise CheckpointError(f"{path}: truncated checkpoint (header cut after {len(raw)} of {length} bytes)")
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: corrupt checkpoint header ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt checkpoint header (not a JSON object)")
    return header


def load_checkpoint(
    path: str | os.PathLike, required: Iterable[str] = ()
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify a checkpoint written by ``save_checkpoint``.

    Args:
        path: the ``.safetensors`` file.
        required: tensor names that must be present.

    Returns:
        ``(tensors, metadata)``: CPU tensors and the JSON metadata.

    Raises:
        CheckpointError: the file is missing, truncated, not an mfzoo checkpoint, fails its digest
            check (changed after it was written), or lacks a required tensor; the message names the file.
    """
    path = Path(path)
    header = read_header(path)
    stored = header.get("__metadata__") or {}
    if not isinstance(stored, dict) or "mfzoo" not in stored or "sha256" not in stored:
        raise CheckpointError(f"{path}: not an mfzoo checkpoint (no mfzoo metadata in the safetensors header)")
    try:
        tensors = safetensors.torch.load(path.read_bytes())
    except Exception as error:  # safetensors raises its own SafetensorError (and others) on bad bytes
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({error})") from None
    metadata_json = stored["mfzoo"]
    if tensor_digest(tensors, metadata_json) != stored["sha256"]:
        raise CheckpointError(f"{path}: checkpoint digest mismatch: the file was changed or damaged after it was written")
    try:
        metadata = json.loads(metadata_json)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata ({error})") from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unsupported checkpoint format {metadata.get('format')!r} (expected {FORMAT!r})")
    missing = sorted(set(required) - tensors.keys())
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks tensor {missing[0]!r} ({len(missing)} missing)")
    return tensors, metadata


def resolve_checkpoint_path(spec: str | os.PathLike) -> Path:
    """A checkpoint file, or the latest checkpoint of a run directory.

    Raises:
        CheckpointError: if neither exists.
    """
    path = Path(spec)
    if path.is_dir():
        candidate = path / CHECKPOINT_NAME
        if not candidate.is_file():
            raise CheckpointError(f"{path}: run directory has no {CHECKPOINT_NAME}")
        return candidate
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    return path


# -- learner state as flat tensors (what ``Learner.state_dict`` returns and a checkpoint stores) ------
def module_tensors(prefix: str, module: nn.Module) -> dict[str, torch.Tensor]:
    """``module.state_dict()`` as detached CPU clones under ``prefix.``."""
    return {f"{prefix}.{key}": value.detach().cpu().clone() for key, value in module.state_dict().items()}


def load_module_tensors(prefix: str, module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load ``module`` from the ``prefix.`` entries of ``state``; raises KeyError/ValueError naming the entry."""
    own = module.state_dict()
    for key, value in own.items():
        name = f"{prefix}.{key}"
        if name not in state:
            raise KeyError(f"state is missing {name!r}")
        if tuple(state[name].shape) != tuple(value.shape):
            raise ValueError(f"state entry {name!r} has shape {tuple(state[name].shape)}, expected {tuple(value.shape)}")
    module.load_state_dict({key: state[f"{prefix}.{key}"] for key in own})


def optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """An optimiser's per-parameter state as ``prefix.<param index>.<key>`` tensors (hyper-parameters come from the config)."""
    flat = {}
    for index, values in optimizer.state_dict()["state"].items():
        for key, value in values.items():
            flat[f"{prefix}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().clone()
    return flat


def load_optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer, state: dict[str, torch.Tensor]) -> None:
    """Inverse of ``optimizer_tensors``: restore the per-parameter state (an absent index means "no step taken yet")."""
    current = optimizer.state_dict()
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    start = f"{prefix}."
    for name, value in state.items():
        if name.startswith(start):
            index, key = name[len(start) :].split(".", 1)
            per_param.setdefault(int(index), {})[key] = value.clone()
    n_params = sum(len(group["params"]) for group in current["param_groups"])
    unknown = sorted(index for index in per_param if index >= n_params)
    if unknown:
        raise ValueError(f"state has {prefix!r} entries for parameter {unknown[0]}, but the optimiser has {n_params} parameters")
    optimizer.load_state_dict({"state": per_param, "param_groups": current["param_groups"]})
