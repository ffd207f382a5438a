"""The bounded render pool: a few threads, each keeping its own warm ONNX sessions and lenses.

A :class:`TryOn` session is used by one thread at a time (its trackers and lenses keep each stream's state from
frame to frame), so the pool is made of *lanes*: one thread each, with

- a still-image session for the HTTP API, built when the service starts and kept (its trackers' ONNX
  sessions and the lenses of every product drawn so far stay warm: nothing is built per request);
- spare trackers for mirror pages: a page's session borrows a face and a hand tracker when it opens and
  gives them back, reset, when it closes, so ONNX sessions are built once per concurrent page, not per page.

A mirror page is pinned to the lane with the fewest pages for its whole life; an API request goes to the
lane with the least work waiting. At most ``max_queue`` jobs wait in all; beyond that
:meth:`RenderPool.lane_for_request` raises :class:`PoolBusy` (the API answers 503), so a burst cannot
pile up unbounded memory or latency.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from arlens.errors import ArlensError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class PoolBusy(ArlensError):
    """Every render worker is busy and the wait queue is full."""


@dataclass
class Trackers:
    """A face and a hand tracker lent to one mirror session."""

    face: Any
    hand: Any

    def reset(self) -> None:
        self.face.reset()
        self.hand.reset()

    def close(self) -> None:
        for tracker in (self.face, self.hand):
            try:
                tracker.close()
            except Exception:
                logger.exception("closing a tracker failed")


def _new_trackers() -> Trackers:
    from arlens.tracking.face import FaceTracker
    from arlens.tracking.hand import HandTracker

    return Trackers(FaceTracker(), HandTracker())


class Lane:
    """One render thread and what lives on it (see the module docstring)."""

    def __init__(self, index: int, make_trackers: Callable[[], Trackers] = _new_trackers, spare_max: int = 4) -> None:
        self.index = index
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"arlens-render-{index}")
        self.streams = 0  # mirror pages pinned here (changed on the event loop only)
        self.still: Any = None  # the API's session, made and used on this lane's thread only
        self._make_trackers = make_trackers
        self._spare: list[Trackers] = []  # touched on this lane's thread only
        self._spare_max = spare_max
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished."""
        return self._pending

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on this lane's thread and await its result.

        If the awaiting task is cancelled the job still finishes (the session stays consistent).
        """
        with self._lock:
            self._pending += 1
        try:
            future = self.executor.submit(functools.partial(fn, *args, **kwargs))
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def submit(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on this lane's thread without waiting for it; an exception is logged."""

        def call() -> None:
            try:
                fn()
            except Exception:
                logger.exception("lane %d: %s failed", self.index, getattr(fn, "__qualname__", fn))

        try:
            future = self.executor.submit(call)
        except RuntimeError:  # the pool is shut down (the service is stopping): close_all ran or will
            logger.debug("lane %d is shut down; %s not run", self.index, fn)
            return
        with self._lock:
            self._pending += 1
        future.add_done_callback(self._done)

    def _done(self, _: Any) -> None:
        with self._lock:
            self._pending -= 1

    # -- on the lane's thread ---------------------------------------------------------------------
    def borrow_trackers(self) -> Trackers:
        """A spare tracker set, or a new one (call on this lane's thread)."""
        return self._spare.pop() if self._spare else self._make_trackers()

    def give_back(self, trackers: Trackers) -> None:
        """Reset ``trackers`` and keep them for the next page, or close them if enough are spare."""
        if len(self._spare) < self._spare_max:
            trackers.reset()
            self._spare.append(trackers)
        else:
            trackers.close()

    def close_all(self) -> None:
        """Close the still session and spare trackers (call on this lane's thread)."""
        if self.still is not None:
            try:
                self.still.close()
            except Exception:
                logger.exception("closing the still session of lane %d failed", self.index)
            self.still = None
        while self._spare:
            self._spare.pop().close()


class RenderPool:
    """``size`` lanes; see the module docstring.

    Args:
        size: lanes (render threads).
        max_queue: jobs that may wait across lanes before API requests are refused.
        make_still: builds a lane's still-image session (called on the lane's thread).
        make_trackers: builds a tracker set for a mirror page (called on a lane's thread).
    """

    def __init__(self, size: int, max_queue: int, make_still: Callable[[], Any],
                 make_trackers: Callable[[], Trackers] = _new_trackers) -> None:
        self.lanes = [Lane(i, make_trackers) for i in range(size)]
        self.max_queue = max_queue
        self._make_still = make_still

    async def start(self) -> None:
        """Build every lane's still session (models loaded, ready for the first request)."""

        def build(lane: Lane) -> None:
            lane.still = self._make_still()

        await asyncio.gather(*(lane.run(build, lane) for lane in self.lanes))

    def lane_for_request(self) -> Lane:
        """The lane with the least work waiting.

        Raises:
            PoolBusy: ``max_queue`` jobs are already waiting beyond the ones running.
        """
        waiting = sum(max(0, lane.pending - 1) for lane in self.lanes)
        if waiting >= self.max_queue:
            raise PoolBusy(f"all {len(self.lanes)} render workers are busy and {waiting} renders are waiting; "
                           "retry shortly")
        return min(self.lanes, key=lambda lane: (lane.pending, lane.streams))

    def lane_for_stream(self) -> Lane:
        """The lane with the fewest mirror pages (then the least work)."""
        return min(self.lanes, key=lambda lane: (lane.streams, lane.pending))

    async def close(self) -> None:
        """Close every lane's sessions and trackers on their threads, then stop the threads."""
        await asyncio.gather(*(lane.run(lane.close_all) for lane in self.lanes), return_exceptions=True)
        for lane in self.lanes:
            lane.executor.shutdown(wait=True)
