"""Numba set-up shared by the compiled kernels: fork-safe threads, a writable cache, a thread-count option.

Importing this module imports Numba but compiles nothing: every kernel is compiled (or loaded from the
on-disk cache) on its first call, so ``import mfenvs`` stays cheap and only environments that use
kernels (Battle) pay for them, once per installation.

* **Threading layer.** Numba's OpenMP layer aborts a child process that forks after a parallel kernel
  ran (SuperSuit's multiprocessing vector envs, arena workers). Unless ``NUMBA_THREADING_LAYER`` is
  set, the layer is ``"forksafe"``: TBB when the ``tbb`` package is installed, else Numba's built-in
  ``workqueue``. ``workqueue`` must not be entered by two Python threads at once, so every parallel
  kernel call holds ``KERNEL_LOCK`` (see ``threads``).
* **Cache.** Kernels use ``cache=True``: the machine code is written next to the module the first
  time. When that folder is read-only (a system site-packages) and ``NUMBA_CACHE_DIR`` is not set,
  the cache goes to ``$XDG_CACHE_HOME/mfzoo/numba`` (``~/.cache/...``), or a folder in the temporary
  directory if that is not writable either.
* **Threads.** ``threads(k)`` runs the kernels called inside it on ``k`` threads (``None``: Numba's
  current setting, all cores by default, or ``NUMBA_NUM_THREADS``). Kernels split their work into
  independent pieces (battles, agents), so results never depend on the thread count.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numba

KERNEL_LOCK = threading.RLock()
"""Held around every parallel kernel call (``workqueue`` is not safe for concurrent callers)."""


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _configure() -> None:
    if "NUMBA_THREADING_LAYER" not in os.environ:
        numba.config.THREADING_LAYER = "forksafe"
    if os.environ.get("NUMBA_CACHE_DIR") or numba.config.CACHE_DIR:
        return
    package = Path(__file__).resolve().parents[1]
    if os.access(package, os.W_OK | os.X_OK):
        return  # Numba writes __pycache__ next to each module
    home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mfzoo" / "numba"
    for folder in (home_cache, Path(tempfile.gettempdir()) / f"mfzoo-numba-{os.getuid() if hasattr(os, 'getuid') else 0}"):
        if _writable(folder):
            numba.config.CACHE_DIR = str(folder)
            return


_configure()


def kernel(function: Callable | None = None, *, parallel: bool = False) -> Callable:
    """``numba.njit`` with the package's options: cached, no GIL, ``parallel`` for ``prange`` loops.

    ``fastmath`` stays off: kernels must give the same bits as the rules they implement.
    """

    def decorate(f: Callable) -> Callable:
        return numba.njit(cache=True, nogil=True, parallel=parallel)(f)

    return decorate(function) if function is not None else decorate


def check_threads(threads: int | None) -> int | None:
    """Validate a ``threads`` option: ``None`` or ``1..numba.config.NUMBA_NUM_THREADS``."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int or None, got {threads!r}")
    if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"threads must be in [1, {numba.config.NUMBA_NUM_THREADS}] (this machine's cores), got {threads}")
    return threads


@contextmanager
def threads(count: int | None) -> Iterator[None]:
    """Run the kernels called inside on ``count`` threads (``None``: leave Numba's setting), holding ``KERNEL_LOCK``."""
    with KERNEL_LOCK:
        if count is None:
            yield
            return
        previous = numba.get_num_threads()
        if previous == count:
            yield
            return
        numba.set_num_threads(count)
        try:
            yield
        finally:
            numba.set_num_threads(previous)
