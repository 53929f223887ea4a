"""Numba set-up shared by the compiled kernels: fork-safe threads, a writable cache, a thread-count option.

Importing this module imports Numba but compiles nothing: every kernel is compiled (or loaded from the
on-disk cache) on its first call, so ``import mfenvs`` stays cheap and only environments that use
kernels (Battle) pay for them, once per installation.

* **Threading layer.** Numba's OpenMP layer aborts a child process that forks after a parallel kernel
  ran (SuperSuit's multiprocessing vector envs, arena workers). Unless ``NUMBA_THREADING_LAYER`` is
  set, the layer is ``"forksafe"``: TBB when it loads (the ``tbb`` wheel is a dependency on Linux
  x86-64; ``load_tbb`` makes its library visible to Numba), else Numba's built-in ``workqueue``.
  ``workqueue`` must not be entered by two Python threads at once, so every parallel kernel call holds
  ``KERNEL_LOCK`` (see ``threads``). Starting a parallel region costs ~100 us with ``workqueue`` and
  far less with TBB, so ``PARALLEL_MIN_WORK``, the step size from which the parallel kernels run, is
  set by the layer (BENCHMARKS.md, "Where the second core pays").
* **Cache.** Kernels use ``cache=True``: the machine code is written next to the module the first
  time. When that folder is read-only (a system site-packages) and ``NUMBA_CACHE_DIR`` is not set,
  the cache goes to ``$XDG_CACHE_HOME/mfzoo/numba`` (``~/.cache/...``), or a folder in the temporary
  directory if that is not writable either.
* **Threads.** ``threads(k)`` runs the kernels called inside it on ``k`` threads (``None``: Numba's
  current setting, all cores by default, or ``NUMBA_NUM_THREADS``). Kernels split their work into
  independent pieces (battles, agents), so results never depend on the thread count.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import sys
import tempfile
import threading
import types
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


def load_tbb() -> bool:
    """Whether Numba's TBB threading layer can load, after making the ``tbb`` wheel's library visible to it.

    Numba's TBB extension links ``libtbb.so.12`` by name only, and pip installs the ``tbb`` wheel's copy
    in ``<prefix>/lib``, where the dynamic loader does not look: loading that file first, by its path and
    with global symbols, lets the extension find it. A TBB the loader finds anyway (a system or conda
    one) needs nothing.
    """
    try:
        from numba.np.ufunc import tbbpool  # noqa: F401
        return True
    except ImportError:
        pass
    if not sys.platform.startswith("linux"):
        return False
    try:
        files = importlib.metadata.files("tbb") or []
    except importlib.metadata.PackageNotFoundError:
        return False
    for file in sorted((f for f in files if f.name.startswith("libtbb.so.")), key=lambda f: len(f.name)):
        try:
            ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
            from numba.np.ufunc import tbbpool  # noqa: F401, F811
            return True
        except (OSError, ImportError):
            continue
    return False


TBB = numba.config.THREADING_LAYER in ("forksafe", "threadsafe", "default", "tbb") and load_tbb()
"""Whether the parallel kernels run on TBB (every layer setting but ``workqueue`` and ``omp`` tries it first)."""


def kernel(function: Callable | None = None, *, parallel: bool = False) -> Callable:
    """``numba.njit`` with the package's options: cached, no GIL; ``fastmath`` off (kernels must give
    the same bits as the rules they implement).

    ``parallel=True`` (for kernels with ``prange`` loops) returns a ``ParallelKernel``: a parallel and a
    serial compilation of the same source, the serial one used on one thread or for small work, where
    starting the thread pool costs more than the loop (tens of microseconds per call).
    """

    def decorate(f: Callable) -> Callable:
        return ParallelKernel(f) if parallel else numba.njit(cache=True, nogil=True)(f)

    return decorate(function) if function is not None else decorate


class _Mode(threading.local):
    parallel = False


_mode = _Mode()

PARALLEL_MIN_WORK = 512 if TBB else 4096
"""Agents (summed over battles) below which a step runs its kernels serially even with several threads:
where the second thread starts to pay on 2 cores, ~500 agents with TBB, ~2500-5000 with ``workqueue``."""


class ParallelKernel:
    """A kernel compiled twice, ``parallel`` and ``serial``; calls go to the one ``threads()`` chose."""

    def __init__(self, function: Callable):
        self.parallel = numba.njit(cache=True, nogil=True, parallel=True)(function)
        # a copy under another name, so the two compilations get separate cache entries
        serial = types.FunctionType(function.__code__, function.__globals__, function.__name__ + "_serial", function.__defaults__, function.__closure__)
        serial.__qualname__ = function.__qualname__ + "_serial"
        serial.__module__ = function.__module__
        self.serial = numba.njit(cache=True, nogil=True)(serial)
        self.__doc__, self.__name__, self.__wrapped__ = function.__doc__, function.__name__, function

    def __call__(self, *args):
        return (self.parallel if _mode.parallel else self.serial)(*args)


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
def threads(count: int | None, work: int = PARALLEL_MIN_WORK) -> Iterator[None]:
    """Run the kernels called inside on ``count`` threads (``None``: Numba's setting), holding ``KERNEL_LOCK``.

    ``work`` (agents summed over battles) below ``PARALLEL_MIN_WORK`` runs them serially.
    """
    with KERNEL_LOCK:
        previous_mode = _mode.parallel
        # small work never asks Numba for its thread count (a call that costs more than a small kernel)
        _mode.parallel = work >= PARALLEL_MIN_WORK and (numba.get_num_threads() if count is None else count) > 1
        try:
            if count is None or not _mode.parallel or numba.get_num_threads() == count:
                yield
                return
            previous = numba.get_num_threads()
            numba.set_num_threads(count)
            try:
                yield
            finally:
                numba.set_num_threads(previous)
        finally:
            _mode.parallel = previous_mode
