"""Engines run the workers' calls: a process pool on this machine, or Ray actors (:mod:`arlens.preview.ray_engine`).

An engine knows nothing of photos or products. It starts ``workers`` workers, each holding one
:class:`~arlens.preview.stages.PreviewWorker`, runs calls (a method name and its arguments) on them, at
most one per worker at a time, and reports each call's result, the exception its method raised, or
:class:`WorkerLost` when the worker process died under it. What to do then (retry, record a failure) is
the scheduler's business (:mod:`arlens.preview.scheduler`), shared by both engines.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from arlens.errors import ArlensError

logger = logging.getLogger(__name__)


class WorkerLost(ArlensError):
    """The worker process running a call died (killed, out of memory, crashed in native code)."""


class WorkerSetupError(ArlensError):
    """A worker could not be started (models, OpenGL, a broken install); no call can run on it."""


@dataclass(eq=False)
class Call:
    """One call of a worker method; ``tag`` is the scheduler's, carried through untouched."""

    method: str
    args: tuple[Any, ...]
    tag: Any = None
    handle: Any = field(default=None, repr=False)


class Engine(Protocol):
    """What the scheduler needs from an engine."""

    name: str
    #: True when a dead worker loses only the call it was running (Ray actors); False when a death can
    #: take other calls down with it (a broken process pool), so suspects are retried one at a time.
    exact_attribution: bool

    @property
    def workers(self) -> int: ...

    def start(self, setup: Any) -> None: ...

    def free(self) -> int:
        """How many more calls can be submitted now."""
        ...

    def submit(self, call: Call) -> None: ...

    def poll(self, timeout: float | None) -> list[tuple[Call, Any, BaseException | None]]:
        """Finished calls (call, result, error), waiting up to ``timeout`` seconds for the first one."""
        ...

    def context_handle(self, result: Any) -> tuple[dict[str, Any], Any]:
        """Split a ``prepare`` result into (summary, a handle to pass to ``render`` calls for the context)."""
        ...

    def worker_stats(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------------
# the local engine: one PreviewWorker per process of a ProcessPoolExecutor

_worker: Any = None
_setup_error: BaseException | None = None


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the driver dies (kill -9 leaves no orphans writing files)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def quiet_third_party_logs() -> None:
    """Worker processes have no log handler of their own; keep libraries' routine warnings off the terminal.

    trimesh logs a warning with a traceback every time it falls back from scipy's sparse matrices (scipy is
    not an arlens dependency); the fallback is exact, so it is noise in a progress display.
    """
    logging.getLogger("trimesh").setLevel(logging.ERROR)


def _init_local(setup: Any) -> None:
    global _worker, _setup_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's: it finishes what is in flight
    _die_with_parent()
    quiet_third_party_logs()
    try:
        from arlens.preview.stages import PreviewWorker

        _worker = PreviewWorker(setup)
    except Exception as exc:  # reported on the first call, with the reason, instead of a broken pool
        _setup_error = exc


def _run_local(method: str, args: tuple[Any, ...]) -> Any:
    if _setup_error is not None:
        raise WorkerSetupError(f"a preview worker could not start: {type(_setup_error).__name__}: {_setup_error}")
    return getattr(_worker, method)(*args)


def _ping_local(seconds: float) -> int:
    """Wait a moment and return this worker's pid (how the engine sees that every worker is up)."""
    import time

    if _setup_error is not None:
        raise WorkerSetupError(f"a preview worker could not start: {type(_setup_error).__name__}: {_setup_error}")
    time.sleep(seconds)
    return os.getpid()


def peak_rss_of(pid: int) -> float | None:
    """Peak resident memory of process ``pid`` in MiB (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


class LocalEngine:
    """A process pool (``spawn`` start method: no inherited threads or GL state) of ``workers`` processes."""

    name = "local"
    exact_attribution = False

    def __init__(self, workers: int | None = None) -> None:
        self._workers = int(workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._setup: Any = None
        self._running: dict[Future, Call] = {}
        self.restarts = 0

    @property
    def workers(self) -> int:
        return self._workers

    def start(self, setup: Any) -> None:
        """Start the pool and wait until every worker process is up (imports and setup done).

        Raises:
            WorkerSetupError: the workers cannot be set up (the reason is in the message).
        """
        self._setup = setup
        self._pool = self._new_pool()
        seen: set[int] = set()
        for _ in range(20):  # each round keeps every worker busy for a moment, so the pool starts them all
            futures = [self._pool.submit(_ping_local, 0.05) for _ in range(self._workers)]
            seen.update(f.result() for f in futures)
            if len(seen) >= self._workers:
                break

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_local, initargs=(self._setup,))

    def free(self) -> int:
        return self._workers - len(self._running)

    def submit(self, call: Call) -> None:
        assert self._pool is not None, "engine not started"
        try:
            future = self._pool.submit(_run_local, call.method, call.args)
        except BrokenProcessPool:
            self._restart()
            future = self._pool.submit(_run_local, call.method, call.args)
        call.handle = future
        self._running[future] = call

    def poll(self, timeout: float | None) -> list[tuple[Call, Any, BaseException | None]]:
        if not self._running:
            return []
        done, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
        out: list[tuple[Call, Any, BaseException | None]] = []
        broken = False
        for future in done:
            call = self._running.pop(future)
            exc = future.exception()
            if isinstance(exc, BrokenProcessPool):
                broken = True
                out.append((call, None, WorkerLost(f"a worker process died while running {call.method}")))
            else:
                out.append((call, None if exc else future.result(), exc))
        if broken:
            # every call still running went down with the pool
            for future, call in list(self._running.items()):
                with contextlib.suppress(Exception):
                    future.exception(timeout=5)
                out.append((call, None, WorkerLost(f"a worker process died while running {call.method}")))
            self._running.clear()
            self._restart()
        return out

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1
        logger.warning("a preview worker process died; starting a new pool (restart %d)", self.restarts)
        self._pool = self._new_pool()

    def context_handle(self, result: Any) -> tuple[dict[str, Any], Any]:
        summary, context = result  # the context itself, pickled to each stage-two task that needs it
        return summary, context

    def _processes(self) -> list[Any]:
        # ProcessPoolExecutor has no public list of its processes; ``_processes`` (pid -> Process) has been
        # there since Python 3.2. Only these processes are ever read or terminated, never other children.
        return list((getattr(self._pool, "_processes", None) or {}).values()) if self._pool is not None else []

    def worker_stats(self) -> list[dict[str, Any]]:
        """Peak memory of each live pool process (read from /proc, not by a call, so each is seen once)."""
        out = []
        for proc in self._processes():
            rss = peak_rss_of(proc.pid) if proc.pid else None
            if rss is not None:
                out.append({"pid": proc.pid, "peak_rss_mb": rss})
        return out

    def close(self) -> None:
        """Stop the workers; calls still queued are dropped, running ones are waited for."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()

    def kill(self) -> None:
        """Stop now: terminate the worker processes (a second Ctrl-C)."""
        for proc in self._processes():
            with contextlib.suppress(Exception):
                proc.terminate()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._running.clear()


def make_engine(options: Any) -> Any:
    """The engine ``options.engine`` names (Ray is imported only for ``"ray"``)."""
    if options.engine == "ray":
        from arlens.preview.ray_engine import RayEngine

        return RayEngine(options.workers, address=options.ray_address, cpus_per_worker=options.cpus_per_worker)
    return LocalEngine(options.workers)
