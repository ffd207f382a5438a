"""A try-on session's tracking in a worker process of its own (``TryOnOptions.tracking_process``).

:meth:`arlens.TryOn.submit` tracks frame N while it draws frame N-1. On a worker thread the two take turns
at Python's GIL: the drawing is many small numpy and OpenCV calls, the tracking's Python between its ONNX
Runtime runs waits for them, and on two cores a frame cost about 1.5 cores' worth of time. In a process of
its own the tracking needs the GIL of nobody else.

The worker is a fresh interpreter (``python -m arlens.tracking_process``), not a ``multiprocessing`` child:
a spawned child would import the app's main module again (scripts without a ``__main__`` guard, notebooks)
and a forked one would inherit the app's threads and GL contexts. It runs a :class:`~arlens.TryOn` of its
own with no products, whose trackers do exactly what the session's would (``TryOn._track_planned``): the
same code, models and ONNX Runtime settings, so the same landmarks. Frames cross in a file mapped into
both processes (in ``/dev/shm`` where there is one, unlinked once both have it open, so nothing is left
behind whatever happens to either process); the plan and the results cross a pair of pipes as pickles
(``multiprocessing.connection``: a few kilobytes a frame).

Written here rather than with ``concurrent.futures.ProcessPoolExecutor``: a pool cannot keep the trackers'
state (smoothing, tracks) in one known worker, nor share the frame's memory instead of pickling it.
"""

from __future__ import annotations

import logging
import mmap
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import numpy as np

from arlens.errors import ArlensError, RuntimeUnavailableError

if TYPE_CHECKING:
    from arlens.session import TrackPlan, TryOnOptions

logger = logging.getLogger(__name__)

#: How long the worker may take to start (import arlens, load the models) before the session gives up.
START_TIMEOUT_S = 120.0
#: How long one frame's tracking may take before the worker counts as hung (and is killed): a frame takes
#: tens of milliseconds; this only keeps a kiosk from waiting forever on a worker that will never answer.
FRAME_TIMEOUT_S = 60.0
#: How long a worker whose pipes have closed is given to finish exiting, so its exit code can be reported.
_EXIT_WAIT_S = 2.0


def _shared_dir() -> str | None:
    """Where the frame's file goes: ``/dev/shm`` (memory, never the disk) where it exists, else the temp folder."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class TrackingProcess:
    """The session's end of its tracking process: :meth:`track` sends a frame and waits for its faces, hands,
    gestures and timings. Started on the first call; if the process dies, that call raises
    :class:`~arlens.errors.RuntimeUnavailableError` and the next one starts a new process (whose trackers
    start afresh, as after a cut in the stream). Used from one thread at a time."""

    def __init__(self, options: TryOnOptions) -> None:
        self._options = replace(options, tracking_process=False, event_delivery="inline")
        self._proc: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._map: mmap.mmap | None = None
        self._closed = False

    # -- the process -----------------------------------------------------------------------------------
    def _start(self) -> None:
        if sys.platform == "win32":
            raise RuntimeUnavailableError("TryOnOptions.tracking_process: not available on Windows (it hands the "
                                          "worker its pipes by file descriptor)")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "arlens.tracking_process", str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._send = Connection(to_child_w, readable=False)
        self._recv = Connection(from_child_r, writable=False)
        try:
            self._post("start", self._options)
            self._reply(START_TIMEOUT_S)  # the trackers are made: their errors (missing models) come back here
        except BaseException:
            self._stop(kill=True)
            raise
        logger.info("tracking process %d started", self._proc.pid)

    def _post(self, kind: str, value: Any) -> None:
        """Send the worker a message (an error like :meth:`_reply`'s when it is gone)."""
        assert self._send is not None
        try:
            self._send.send((kind, value))
        except OSError as exc:
            raise self._gone() from exc

    def _gone(self) -> RuntimeUnavailableError:
        """The worker has exited: stop what is left of it; the error to raise."""
        code = None
        if self._proc is not None:
            # its pipes close before its exit status can be read (the kernel closes a process's files before
            # it becomes a zombie): wait a moment for the status rather than report "None"
            try:
                code = self._proc.wait(timeout=_EXIT_WAIT_S)
            except subprocess.TimeoutExpired:  # a worker that closed its pipes and lives on is killed below
                pass
        self._stop(kill=True)
        logger.warning("the tracking process exited (exit code %s)", code)
        return RuntimeUnavailableError(
            f"the tracking process exited (exit code {code}); the next frame starts a new one")

    def _reply(self, timeout: float | None = None) -> Any:
        """The worker's answer to the last message: its value, or its error raised here."""
        assert self._recv is not None and self._proc is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._recv.poll(0.5):
                if self._proc.poll() is not None:
                    raise EOFError
                if deadline is not None and time.monotonic() > deadline:
                    pid = self._proc.pid
                    self._stop(kill=True)
                    logger.warning("tracking process %d gave no answer in %.0f s: killed", pid, timeout)
                    raise RuntimeUnavailableError(f"the tracking process gave no answer in {timeout:.0f} s "
                                                  "(killed; the next frame starts a new one)")
            status, value = self._recv.recv()
        except (EOFError, OSError) as exc:
            raise self._gone() from exc
        if status == "error":
            raise value
        return value

    def _stop(self, kill: bool = False) -> None:
        """End the process (asked to, then killed if it does not go) and free the frame's memory."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if not kill and self._send is not None:
                try:
                    self._send.send(("close", None))
                    proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    kill = True
            if kill or proc.poll() is None:
                proc.kill()
                proc.wait()
        for conn in (self._send, self._recv):
            if conn is not None:
                conn.close()
        self._send = self._recv = None
        if self._map is not None:
            self._map.close()
            self._map = None

    def _share(self, nbytes: int) -> mmap.mmap:
        """A mapping of at least ``nbytes`` that the worker maps too (a new one when a frame outgrows it)."""
        if self._map is not None and len(self._map) >= nbytes:
            return self._map
        if self._map is not None:
            self._map.close()
            self._map = None
        fd, path = tempfile.mkstemp(prefix="arlens-frame-", dir=_shared_dir())
        try:
            os.ftruncate(fd, nbytes)
            mapped = mmap.mmap(fd, nbytes)
            try:
                self._post("map", (path, nbytes))
                self._reply()
            except BaseException:
                mapped.close()
                raise
        finally:  # both have it open now (or the worker is gone): the name is not needed any more
            os.close(fd)
            os.unlink(path)
        self._map = mapped
        return mapped

    # -- the session's calls ------------------------------------------------------------------------
    def track(self, image: np.ndarray, ts: float | None, plan: TrackPlan) -> tuple[Any, Any, Any, dict[str, float]]:
        """Faces, hands, gestures and the stages' milliseconds of ``image`` (``ts`` None: a still), as
        ``TryOn`` tracks them itself."""
        if self._closed:
            raise ArlensError("TrackingProcess: closed")
        if self._proc is None:
            self._start()
        t0 = time.perf_counter()
        mapped = self._share(image.nbytes)
        np.copyto(np.frombuffer(mapped, np.uint8, image.nbytes).reshape(image.shape), image)
        self._post("track", (image.shape, ts, plan))
        faces, hands, gestures, timings = self._reply(FRAME_TIMEOUT_S)
        timings["tracking_process"] = (time.perf_counter() - t0) * 1000  # with the copy and the messages
        return faces, hands, gestures, timings

    def close(self) -> None:
        """Stop the worker process. Idempotent."""
        if not self._closed:
            self._closed = True
            self._stop()


# -- the worker -----------------------------------------------------------------------------------------
def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip, else an ArlensError with its text (what the session raises)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ArlensError(f"{type(exc).__name__}: {exc}")


def _unmap(mapped: mmap.mmap | None) -> None:
    """Close a mapping, unless something still holds a view of it (a library that keeps an exception with its
    traceback keeps that call's frame too): then it goes when the last view does."""
    if mapped is not None:
        try:
            mapped.close()
        except BufferError:
            pass


def _track(session: Any, mapped: mmap.mmap, shape: tuple[int, ...], ts: float | None, plan: TrackPlan) -> Any:
    """One frame tracked from the shared memory (the view on it ends with this call, so the mapping can be
    closed or replaced afterwards)."""
    image = np.frombuffer(mapped, np.uint8, int(np.prod(shape))).reshape(shape)
    return session._track_planned(image, ts, plan)


def serve(recv: Connection, send: Connection) -> None:
    """The worker's loop: make a session's trackers, then track each frame the session sends until told to
    stop or the session's end of the pipes closes."""
    import cv2

    from arlens.session import TryOn

    # this process is arlens' own: its two tracking threads (faces, hands) are its parallelism, and OpenCV's
    # pool beside them only spread each resize and warp over threads that wait on the same cores
    cv2.setNumThreads(1)
    session = None
    mapped: mmap.mmap | None = None
    try:
        while True:
            try:
                kind, value = recv.recv()
            except EOFError:  # the session is gone
                return
            try:
                if kind == "close":
                    return
                if kind == "start":
                    session = TryOn(options=value)
                    reply: Any = None
                elif kind == "map":
                    path, nbytes = value
                    _unmap(mapped)
                    with open(path, "r+b") as f:
                        mapped = mmap.mmap(f.fileno(), nbytes)
                    reply = None
                elif kind == "track":
                    shape, ts, plan = value
                    assert session is not None and mapped is not None
                    reply = _track(session, mapped, shape, ts, plan)
                else:
                    raise ArlensError(f"tracking process: unknown message {kind!r}")
            except Exception as exc:  # back to the session, which raises it; the worker carries on
                send.send(("error", _picklable(exc)))
            else:
                send.send(("ok", reply))
    finally:
        if session is not None:
            session.close()
        _unmap(mapped)


def main(argv: list[str] | None = None) -> int:
    """``python -m arlens.tracking_process READ_FD WRITE_FD``: what :class:`TrackingProcess` starts."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not all(a.isdigit() for a in args):
        sys.stderr.write("usage: python -m arlens.tracking_process READ_FD WRITE_FD (started by arlens.TryOn "
                         "with TryOnOptions(tracking_process=True), not by hand)\n")
        return 2
    # Ctrl-C in a terminal reaches the whole process group: the session decides when the worker stops (it
    # closes the pipes, or says "close"), so a KeyboardInterrupt here would only kill it under the session
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(Connection(int(args[0]), writable=False), Connection(int(args[1]), readable=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
