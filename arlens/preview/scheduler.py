"""The driver's loop, the same for every engine: stage one per photo, then stage-two batches, with retries.

Order of work: stage-two tasks first (they free photos' contexts), then stage one for the next photo,
with at most ``max_live_photos`` contexts held at once. A photo's renders are batched with those of the
photos prepared just before it (up to ``photos_per_task`` photos per task) so a task builds each of its
products' lenses once for several photos.

A worker that dies under a call (:class:`~arlens.preview.engines.WorkerLost`) gets each of the call's
items retried once on their own; an item whose retry dies again is recorded as failed. On an engine
where one death can take other calls down with it (the local process pool), the retries run one at a
time, so the second death is charged to the item that caused it and to no other.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from arlens.preview.engines import Call, WorkerLost, WorkerSetupError
from arlens.preview.stages import PhotoTask, RenderItem, SheetTask

logger = logging.getLogger(__name__)

DIED_TWICE = "worker died twice"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run; everything finished before it was recorded."""


class Sink(Protocol):
    """Where the scheduler reports what happened (the job: journal, report, progress)."""

    def photo(self, name: str, summary: dict[str, Any] | None, reason: str | None, sha256: str) -> None: ...

    def rendered(self, records: list[dict[str, Any]], photo_sha: dict[str, str]) -> None: ...

    def failed(self, items: Sequence[RenderItem], reason: str) -> None: ...

    def not_drawn(self, items: Sequence[RenderItem], reason: str) -> None: ...

    def bad_photo(self, items: Sequence[RenderItem], name: str, reason: str) -> None: ...


@dataclass
class PhotoJob:
    """A photo with renders to do: its name, how to read it, what to track, and its pending items.

    ``targets`` maps each item's product to ``"face"`` or ``"hand"``.
    """

    name: str
    read: Callable[[], tuple[bytes | None, str | None]]
    items: list[RenderItem]
    targets: dict[str, str]
    track_hands: bool = False


@dataclass(eq=False)
class _Work:
    kind: str  # "prepare" | "render" | "sheet"
    photo: str = ""
    items: list[RenderItem] = field(default_factory=list)
    sheet: SheetTask | None = None
    attempt: int = 1


@dataclass
class _Live:
    job: PhotoJob
    sha256: str = ""
    context: Any = None
    tasks: int = 0  # stage-two tasks that still need the context
    flushed: bool = False


class Scheduler:
    """Runs a preview's calls on an engine and reports to a sink."""

    def __init__(self, engine: Any, sink: Sink, *, batch_size: int, photos_per_task: int,
                 max_live_photos: int | None = None, poll_seconds: float = 0.25,
                 advance: Callable[[int], None] | None = None) -> None:
        self.engine = engine
        self.sink = sink
        self.batch_size = batch_size
        self.photos_per_task = photos_per_task
        self.max_live = max_live_photos or 4 * max(1, engine.workers)
        self.poll_seconds = poll_seconds
        self.advance = advance or (lambda n: None)
        self._queue: deque[_Work] = deque()  # stage two and retries, in order
        self._suspects: deque[_Work] = deque()  # retries that must run alone
        self._isolating = False
        self._photos: deque[PhotoJob] = deque()
        self._live: dict[str, _Live] = {}
        self._buffer: list[str] = []  # prepared photos not yet batched
        self._in_flight = 0
        self._prepares_in_flight = 0
        self.sheet_results: list[tuple[SheetTask, dict[str, Any] | None, str | None]] = []

    # -- public -----------------------------------------------------------------------------------------
    def run(self, jobs: Sequence[PhotoJob]) -> None:
        """Stage one and two for ``jobs``; returns when every item is recorded one way or another.

        Raises:
            Interrupted: Ctrl-C; the calls in flight were finished and recorded first.
            WorkerSetupError: the workers cannot start (nothing can run).
        """
        total = sum(len(j.items) for j in jobs)
        if total:
            self.batch_size = max(1, min(self.batch_size, math.ceil(total / (2 * max(1, self.engine.workers)))))
        self._photos.extend(j for j in jobs if j.items)
        self._loop()

    def run_sheets(self, tasks: Sequence[SheetTask]) -> list[tuple[SheetTask, dict[str, Any] | None, str | None]]:
        """Compose ``tasks`` on the workers; returns (task, result or None, error or None) for each."""
        self.sheet_results = []
        self._queue.extend(_Work("sheet", sheet=t) for t in tasks)
        self._loop()
        return self.sheet_results

    # -- the loop ---------------------------------------------------------------------------------------
    def _busy(self) -> bool:
        return bool(self._in_flight or self._queue or self._suspects or self._photos or self._buffer)

    def _loop(self) -> None:
        try:
            while self._busy():
                self._fill()
                if not self._in_flight and self.engine.free() > 0:
                    if self._busy():  # nothing could be submitted yet nothing runs: a bug, not a hang
                        raise RuntimeError("preview scheduler stalled with work left")
                    break
                for call, result, error in self.engine.poll(self.poll_seconds):
                    self._in_flight -= 1
                    self._done(call.tag, result, error)
        except KeyboardInterrupt:
            self._drain()
            raise Interrupted() from None

    def _drain(self) -> None:
        """After Ctrl-C: submit nothing new, record what is in flight (a second Ctrl-C stops at once)."""
        self._queue.clear()
        self._suspects.clear()
        self._photos.clear()
        self._buffer.clear()
        try:
            while self._in_flight:
                for call, result, error in self.engine.poll(self.poll_seconds):
                    self._in_flight -= 1
                    if isinstance(call.tag, _Work) and call.tag.kind == "render" and error is None:
                        self._done(call.tag, result, error)
        except KeyboardInterrupt:
            logger.warning("stopping now: renders in flight are not recorded and will be redone")
            self.engine.kill()
            self._in_flight = 0

    def _submit(self, work: _Work) -> None:
        if work.kind == "prepare":
            live = self._live[work.photo]
            data, error = live.job.read()
            if data is None:
                self._photo_unreadable(work.photo, error or "unreadable photo")
                return
            import hashlib

            live.sha256 = hashlib.sha256(data).hexdigest()
            task = PhotoTask(work.photo, data, track_faces=True, track_hands=live.job.track_hands)
            call = Call("prepare", (task,), work)
            self._prepares_in_flight += 1
        elif work.kind == "render":
            contexts = [self._live[name].context for name in dict.fromkeys(i.photo for i in work.items)]
            call = Call("render", (work.items, *contexts), work)
        else:
            call = Call("sheet", (work.sheet,), work)
        self.engine.submit(call)
        self._in_flight += 1

    def _fill(self) -> None:
        while self.engine.free() > 0:
            if self._isolating and not self._in_flight:
                self._isolating = False
            if self._suspects or self._isolating:
                # retries after a pool death run alone, so a second death is charged to the right item
                if self._in_flight:
                    return
                self._isolating = True
                self._submit(self._suspects.popleft())
                return
            if len(self._queue) < self.engine.workers:
                self._flush(force=not self._photos and not self._prepares_in_flight)
            if self._queue:
                self._submit(self._queue.popleft())
            elif self._photos and len(self._live) < self.max_live:
                job = self._photos.popleft()
                self._live[job.name] = _Live(job)
                self._submit(_Work("prepare", photo=job.name))
            elif self._buffer:
                self._flush(force=True)
                if not self._queue:
                    return
            else:
                return

    def _flush(self, force: bool) -> None:
        """Batch prepared photos' items into stage-two tasks: full groups of ``photos_per_task`` photos, and
        with ``force`` the rest too."""
        while self._buffer and (force or len(self._buffer) >= self.photos_per_task):
            group, self._buffer = self._buffer[: self.photos_per_task], self._buffer[self.photos_per_task :]
            items = [it for name in group for it in self._live[name].job.items]
            order = {pid: i for i, pid in enumerate(dict.fromkeys(it.product for it in items))}
            items.sort(key=lambda it: (order[it.product], group.index(it.photo)))
            for start in range(0, len(items), self.batch_size):
                chunk = items[start : start + self.batch_size]
                for name in dict.fromkeys(i.photo for i in chunk):
                    self._live[name].tasks += 1
                self._queue.append(_Work("render", items=chunk))
            for name in group:
                self._live[name].flushed = True
                self._release(name)

    def _release(self, name: str) -> None:
        live = self._live.get(name)
        if live is not None and live.flushed and live.tasks == 0:
            del self._live[name]  # drops the context (or its object-store reference)

    # -- results ----------------------------------------------------------------------------------------
    def _done(self, work: _Work, result: Any, error: BaseException | None) -> None:
        if isinstance(error, WorkerSetupError):
            raise error
        if work.kind == "prepare":
            self._prepares_in_flight -= 1
            self._prepared(work, result, error)
        elif work.kind == "render":
            self._rendered(work, result, error)
        else:
            self._sheet_done(work, result, error)

    def _retry(self, works: list[_Work]) -> None:
        for w in works:
            w.attempt += 1
        if self.engine.exact_attribution:
            self._queue.extendleft(reversed(works))
        else:
            self._suspects.extend(works)

    def _prepared(self, work: _Work, result: Any, error: BaseException | None) -> None:
        live = self._live[work.photo]
        if isinstance(error, WorkerLost):
            if work.attempt < 2:
                self._retry([work])
                return
            self._photo_failed(work.photo, f"{DIED_TWICE} tracking the photo")
            return
        if error is not None:
            self._photo_failed(work.photo, f"stage one failed: {type(error).__name__}: {_first_line(error)}")
            return
        summary, context = self.engine.context_handle(result)
        if context is None or summary.get("reason"):
            self._photo_unreadable(work.photo, summary.get("reason") or "unreadable photo")
            return
        self.sink.photo(work.photo, summary, None, live.sha256)
        faces, hands = int(summary.get("faces", 0)), int(summary.get("hands", 0))
        drawable, missing_face, missing_hand = [], [], []
        for it in live.job.items:
            target = live.job.targets.get(it.product, "face")
            if target == "hand" and not hands:
                missing_hand.append(it)
            elif target == "face" and not faces:
                missing_face.append(it)
            else:
                drawable.append(it)
        if missing_face:
            self.sink.not_drawn(missing_face, "no face found in the photo")
        if missing_hand:
            self.sink.not_drawn(missing_hand, "no hand found in the photo")
        self.advance(len(missing_face) + len(missing_hand))
        live.job.items = drawable
        live.context = context
        if drawable:
            self._buffer.append(work.photo)
        else:
            live.flushed = True
            self._release(work.photo)

    def _photo_unreadable(self, name: str, reason: str) -> None:
        live = self._live.pop(name)
        self.sink.photo(name, None, reason, live.sha256)
        self.sink.bad_photo(live.job.items, name, reason)
        self.advance(len(live.job.items))

    def _photo_failed(self, name: str, reason: str) -> None:
        live = self._live.pop(name)
        self.sink.photo(name, None, reason, live.sha256)
        self.sink.failed(live.job.items, reason)
        self.advance(len(live.job.items))

    def _rendered(self, work: _Work, result: Any, error: BaseException | None) -> None:
        photos = list(dict.fromkeys(i.photo for i in work.items))
        try:
            if isinstance(error, WorkerLost):
                logger.info("a worker died under %d render(s) (attempt %d): %s", len(work.items), work.attempt, error)
                if work.attempt < 2:
                    singles = [_Work("render", items=[it], attempt=work.attempt) for it in work.items]
                    for w in singles:
                        self._live[w.items[0].photo].tasks += 1
                    self._retry(singles)
                    return
                self.sink.failed(work.items, f"{DIED_TWICE} rendering it")
                self.advance(len(work.items))
                return
            if error is not None:
                self.sink.failed(work.items, f"{type(error).__name__}: {_first_line(error)}")
                self.advance(len(work.items))
                return
            done = [r for r in result if "error" not in r]
            shas = {name: self._live[name].sha256 for name in photos}
            if done:
                self.sink.rendered(done, shas)
            by_key = {(i.photo, i.product): i for i in work.items}
            for r in result:
                if "error" in r:
                    self.sink.failed([by_key[(r["photo"], r["product"])]], r["error"])
            self.advance(len(work.items))
        finally:
            for name in photos:
                live = self._live.get(name)
                if live is not None:
                    live.tasks -= 1
                    self._release(name)

    def _sheet_done(self, work: _Work, result: Any, error: BaseException | None) -> None:
        assert work.sheet is not None
        if isinstance(error, WorkerLost) and work.attempt < 2:
            self._retry([work])
            return
        if error is not None:
            reason = f"{DIED_TWICE} composing it" if isinstance(error, WorkerLost) else _first_line(error)
            self.sheet_results.append((work.sheet, None, reason))
        else:
            self.sheet_results.append((work.sheet, result, None))
        self.advance(1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
