"""A thread of its own for an OpenGL context: every call to the context is made there.

Mesa's llvmpipe (the CPU rasteriser a machine without a GPU draws with) rasterises a drawing on threads of
its own, but its ``glFlush`` and ``glFinish`` block the calling thread until the drawing is done (2-3 ms a
pair of glasses at 720p, measured on bench_kiosk's clip). A lens whose context lives on this thread hands it
a drawing and goes on: the caller draws other lenses while the glasses are rasterised, then waits for the
result. An EGL context is current on one thread at a time, so it is made, used and released here only.

A standard-library :class:`~concurrent.futures.ThreadPoolExecutor` with one worker does the queueing; this
class only names the pattern and makes closing idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from arlens.errors import InputError

T = TypeVar("T")


class GLThread:
    """One worker thread that owns an OpenGL context; a context manager (closing stops the thread).

    Args:
        name: the thread's name prefix (seen in profilers and thread dumps).
    """

    def __init__(self, name: str = "arlens-gl") -> None:
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on the thread after what was submitted before; its future.

        Raises:
            InputError: the thread was closed.
        """
        if self._executor is None:
            raise InputError("GLThread: used after close()")
        return self._executor.submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the thread and return its result (or raise its exception)."""
        return self.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        """Finish what was submitted and stop the thread; idempotent."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    @property
    def closed(self) -> bool:
        return self._executor is None

    def __enter__(self) -> GLThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
