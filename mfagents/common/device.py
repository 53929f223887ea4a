"""Checking a ``--device`` before any work starts: one clear line instead of a torch traceback (issue 14).

``torch.device("cuda")`` succeeds on a CPU build of torch; the failure comes later, deep in the first
tensor copy, as a 50-line ``AssertionError``. ``check_device`` asks torch what this machine has.

Example:
    >>> check_device("cpu")
    'cpu'
"""

from __future__ import annotations


def available_devices() -> list[str]:
    """The torch devices this process can use: ``cpu``, then ``cuda`` / ``cuda:N`` and ``mps`` if present."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        devices += ["cuda"] + [f"cuda:{index}" for index in range(count)]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def check_device(device: str) -> str:
    """Return ``device`` if torch can use it here.

    Raises:
        ValueError: not a device name torch knows, or a device this machine (or this torch build) lacks;
            the message lists the available ones.
    """
    import torch

    available = available_devices()
    listing = f"available here: {', '.join(available)}"
    if not isinstance(device, str) or not device:
        raise ValueError(f"--device must be a torch device name, got {device!r}; {listing}")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1, mps); {listing}") from None
    if parsed.type == "cpu":
        return device
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            why = "is a CPU-only build" if torch.version.cuda is None else "sees no CUDA device"
            raise ValueError(f"--device {device!r}: this torch ({torch.__version__}) {why}; {listing}")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(f"--device {device!r}: there is no CUDA device {parsed.index}; {listing}")
        return device
    if device in available:
        return device
    raise ValueError(f"--device {device!r} is not available; {listing}")
