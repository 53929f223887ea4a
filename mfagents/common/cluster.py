"""Work spread over many processes or machines with Ray: a sweep's training runs, an arena's pairings.

Ray is an optional dependency (``pip install -e ".[ray]"``); nothing here imports it before it is needed.
Plain Ray tasks are enough: each item (a training run, an arena pairing) is an independent function call
whose result is a small dict, and resuming a run is the run directory's own business (its checkpoint), so
neither Ray Tune's trial search nor its checkpointing is wanted.

``address=None`` starts a private local Ray on this machine (as many CPUs as it has) and stops it at the
end; ``address="auto"`` or ``"ray://HOST:10001"`` / ``"HOST:6379"`` joins a running cluster, whose nodes
must have ``mfzoo`` installed and see the output folder (a shared file system) for sweeps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2
"""Object store of a private local Ray: results are small dicts, so Ray's default (30 % of RAM) is waste."""


def import_ray() -> Any:
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError('this needs Ray: pip install -e ".[ray]" (or pip install "ray>=2.40,<3")') from error
    return ray


@contextmanager
def ray_session(address: str | None = None) -> Iterator[Any]:
    """Ray connected to ``address`` (None: a private local instance) for the ``with`` block; yields ``ray``.

    A Ray this call did not start (already initialised by the caller) is left running.
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if address is None:
            options.update(num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        ray.init(address=address, **options)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


@dataclass(frozen=True)
class TaskOutcome:
    """What one task gave: its result, or the error it raised (``ok`` False), and its wall time."""

    index: int
    ok: bool
    value: Any
    error: str
    seconds: float


def run_tasks(
    function: Callable[..., Any],
    arguments: Sequence[tuple],
    *,
    address: str | None = None,
    cpus_per_task: float = 1.0,
    on_done: Callable[[TaskOutcome], None] | None = None,
) -> list[TaskOutcome]:
    """Call ``function(*args)`` for every entry of ``arguments`` as Ray tasks; outcomes in the input order.

    ``function`` must be importable by the workers (a module-level function of an installed package). A task
    that raises, or whose worker dies, becomes an outcome with ``ok`` False and the error's text; the other
    tasks go on. ``on_done`` is called in this process as each task finishes (for a progress display).
    """
    if cpus_per_task <= 0:
        raise ValueError(f"cpus_per_task must be > 0, got {cpus_per_task}")
    outcomes: list[TaskOutcome | None] = [None] * len(arguments)
    if not arguments:
        return []
    with ray_session(address) as ray:
        remote = ray.remote(num_cpus=cpus_per_task, max_retries=0)(_timed)
        start = time.perf_counter()
        pending = {remote.remote(function, *args): index for index, args in enumerate(arguments)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(done[0])
            try:
                value, seconds = ray.get(done[0])
                outcome = TaskOutcome(index, True, value, "", seconds)
            except Exception as error:  # noqa: BLE001 - a failed task is reported, the others go on
                outcome = TaskOutcome(index, False, None, _error_text(error), time.perf_counter() - start)
            outcomes[index] = outcome
            if on_done is not None:
                on_done(outcome)
    return [outcome for outcome in outcomes if outcome is not None]


def _timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def _error_text(error: BaseException) -> str:
    """The task's own exception as ``Type: message`` (Ray wraps it in a RayTaskError with the remote traceback)."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1] if lines else ''}"
