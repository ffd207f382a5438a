"""Try-on events for attribution: what was shown, for how long, and whether a buy link followed.

Events are small frozen dataclasses of plain scalars: ``timestamp`` (Unix seconds), ``session_id``,
``product_id`` and a few event-specific fields. Privacy is enforced, not promised: an event type
may only declare ``str``, ``int``, ``float``, ``bool`` or ``None`` fields (checked when the class
is defined), values are type-checked when an event is made, and strings are capped at
:data:`MAX_TEXT` characters, so no image, landmark array or face data can ride along.

Sinks take events one by one (:class:`EventSink`). :class:`JsonlEventSink` appends one JSON
line per event to a file and :class:`MemoryEventSink` keeps them in a list; :func:`read_events`
reads a JSON Lines file back and :func:`summarize` turns events into per-product numbers.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType, TracebackType, UnionType
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from arlens.errors import InputError

logger = logging.getLogger(__name__)

MAX_TEXT = 256
"""Longest string an event field may hold: IDs and labels fit, an encoded image does not."""

_SCALAR_ANNOTATIONS = frozenset({"str", "int", "float", "bool", "None"})


def _type_names(annotation: Any) -> set[str]:
    """Names in a field annotation: ``"str | None"`` (postponed) or ``str | None`` (evaluated)."""
    if isinstance(annotation, str):
        return {t.strip() for t in annotation.split("|")}
    if isinstance(annotation, UnionType):
        return set().union(*(_type_names(a) for a in annotation.__args__))
    if annotation is type(None):
        return {"None"}
    return {getattr(annotation, "__name__", repr(annotation))}


class EventLogWarning(UserWarning):
    """A line of an event log could not be read (usually the torn last line of a killed writer)."""


class EventNotStoredError(OSError):
    """:meth:`JsonlEventSink.emit` could not write the event (disk full, I/O error): it is not in the log.

    An ``OSError`` (``errno`` and ``strerror`` are the failed write's). The sink stays usable: a line the
    failed write left half-written is ended before the next event, so that event is stored whole.
    """


MAX_LINE_BYTES = 64 * 1024
"""Longest event-log line read: an event is a few hundred bytes (strings are capped at :data:`MAX_TEXT`);
a longer line is skipped unread, so a hostile log cannot make :func:`read_events` hold gigabytes."""


@dataclass(frozen=True, kw_only=True)
class TryOnEvent:
    """Base of all try-on events: when, in which session, about which product.

    Attributes:
        session_id: the try-on session (an opaque ID, never a person's identity).
        product_id: the product the event is about.
        timestamp: Unix time in seconds (defaults to now).

    Raises:
        InputError: on creation, a field holds something other than its scalar type, an empty ID,
            a string longer than :data:`MAX_TEXT`, or a non-finite number.
    """

    type: ClassVar[str] = ""
    session_id: str
    product_id: str
    timestamp: float = field(default_factory=time.time)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            names = _type_names(annotation)
            if not names <= _SCALAR_ANNOTATIONS:
                got = " | ".join(sorted(names))
                raise TypeError(f"event field {cls.__name__}.{name} must be str, int, float, bool or None, got {got}")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            allowed = _type_names(f.type)
            if value is None and "None" in allowed:
                continue
            if isinstance(value, bool):
                ok = "bool" in allowed
            elif isinstance(value, numbers.Integral) and "int" in allowed:
                ok = True
                object.__setattr__(self, f.name, int(value))  # numpy integers become plain ints
            elif isinstance(value, numbers.Real):
                ok = "float" in allowed and math.isfinite(value)
                object.__setattr__(self, f.name, float(value))  # ints and numpy floats become plain floats
            elif isinstance(value, str):
                ok = "str" in allowed and len(value) <= MAX_TEXT
            else:
                ok = False
            if not ok:
                shown = (
                    repr(value)
                    if isinstance(value, str | numbers.Real) and len(repr(value)) < 80
                    else type(value).__name__
                )
                raise InputError(
                    f"expected {f.name} of {type(self).__name__} as {' | '.join(sorted(allowed))}"
                    f" (finite, short), got {shown}"
                )
        if not self.session_id or not self.product_id:
            raise InputError(
                f"expected non-empty session_id and product_id, got {self.session_id!r}, {self.product_id!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict, with its ``type`` first."""
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class LensShown(TryOnEvent):
    """A lens showing ``product_id`` started rendering on the shopper."""

    type: ClassVar[str] = "lens_shown"
    kind: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShadeChanged(TryOnEvent):
    """The shopper switched to ``product_id`` from ``previous_product_id``."""

    type: ClassVar[str] = "shade_changed"
    previous_product_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Dwell(TryOnEvent):
    """The shopper wore ``product_id`` for ``duration_s`` seconds (emitted when they move on)."""

    type: ClassVar[str] = "dwell"
    duration_s: float

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.duration_s < 0:
            raise InputError(f"expected duration_s >= 0, got {self.duration_s}")


@dataclass(frozen=True, kw_only=True)
class BuyLinkShown(TryOnEvent):
    """A buy link for ``product_id`` was shown as a QR code or clicked (``via`` is ``"qr"`` or ``"click"``)."""

    type: ClassVar[str] = "buy_link_shown"
    via: str = "qr"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.via not in ("qr", "click"):
            raise InputError(f"expected via 'qr' or 'click', got {self.via!r}")


@dataclass(frozen=True, kw_only=True)
class SnapshotTaken(TryOnEvent):
    """The shopper took a picture wearing ``product_id``; the event never holds the picture."""

    type: ClassVar[str] = "snapshot_taken"
    shared: bool = False


@dataclass(frozen=True, kw_only=True)
class LookApplied(TryOnEvent):
    """The shopper put on a whole look: ``product_id`` is the look's ID, ``products`` its products' IDs, comma
    separated (each product also gets its own events as it is shown)."""

    type: ClassVar[str] = "look_applied"
    products: str = ""


EVENT_TYPES: Mapping[str, type[TryOnEvent]] = MappingProxyType(
    {cls.type: cls for cls in (LensShown, ShadeChanged, Dwell, BuyLinkShown, SnapshotTaken, LookApplied)}
)
"""Event classes by their ``type`` string, as written in event logs."""


def event_from_dict(data: Mapping[str, Any], types: Mapping[str, type[TryOnEvent]] = EVENT_TYPES) -> TryOnEvent:
    """Rebuild an event from :meth:`TryOnEvent.to_dict` output.

    Raises:
        InputError: unknown ``type``, unknown or missing fields, or bad values.
    """
    kind = data.get("type", "")
    cls = types.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InputError(f"unknown event type {data.get('type')!r}, expected one of {', '.join(types)}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names - {"type"})
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(unknown)} for event {cls.type}")
    try:
        return cls(**{k: v for k, v in data.items() if k != "type"})
    except TypeError as exc:
        raise InputError(f"bad {cls.type} event: {exc}") from None


@runtime_checkable
class EventSink(Protocol):
    """Where try-on events go. ``emit`` returns once the event is stored as the sink promises."""

    def emit(self, event: TryOnEvent) -> None:
        """Store one event."""
        ...

    def close(self) -> None:
        """Release what the sink holds; later ``emit`` calls raise."""
        ...


class MemoryEventSink:
    """Keeps events in memory, in order (for tests, and apps that batch events themselves)."""

    def __init__(self) -> None:
        self._events: list[TryOnEvent] = []
        self._lock = threading.Lock()

    def emit(self, event: TryOnEvent) -> None:
        """Append ``event``.

        Raises:
            InputError: ``event`` is not a :class:`TryOnEvent`.
        """
        if not isinstance(event, TryOnEvent):
            raise InputError(f"expected a TryOnEvent, got {type(event).__name__}")
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> tuple[TryOnEvent, ...]:
        """The events so far, oldest first."""
        with self._lock:
            return tuple(self._events)

    def close(self) -> None:
        """Nothing to release."""


FsyncPolicy = Literal["always", "interval", "never"]


#: What ends the fragment a failed write left: a byte no JSON text can end with, then the newline. The line is
#: then unreadable whatever the fragment held (written again in full if only its first byte got through).
_SPOIL = b"#\n"


class JsonlEventSink:
    """Appends events to a JSON Lines file, one line per event, durable when ``emit`` returns.

    Durability: each event is written with a single unbuffered ``os.write`` on a file opened
    with ``O_APPEND``, so when :meth:`emit` returns the line is in the operating system's hands
    and survives the process being killed (SIGKILL, crash, OOM), whatever the fsync policy.
    The policy decides what survives a power cut or kernel crash:

    - ``"always"`` (default): ``fsync`` after every event; nothing acknowledged is lost. Costs a
      disk flush per event (a few ms on SD cards), fine at try-on event rates.
    - ``"interval"``: ``fsync`` at most every ``fsync_interval_s`` seconds and on close; a power
      cut may lose the last interval.
    - ``"never"``: leave flushing to the OS (typically within 30 s on Linux).

    Reopening after a crash is safe: if the file does not end in a newline (the writer was killed
    inside a write), the torn fragment is ended first (``#`` and a newline, so that even a fragment
    holding all of an event but its newline stays unreadable: that event was never acknowledged) and
    stays on a line of its own, which :func:`read_events` skips with a warning; earlier lines are never
    rewritten. A write that fails part-way (disk full) is ended the same way.
    Several sinks (threads or processes) may append to one file; each line is one write.
    """

    def __init__(self, path: str | Path, *, fsync: FsyncPolicy = "always", fsync_interval_s: float = 1.0) -> None:
        """Open (or create) the log for appending.

        Raises:
            InputError: unknown ``fsync`` policy or a non-positive interval.
            OSError: the file cannot be opened.
        """
        if fsync not in ("always", "interval", "never"):
            raise InputError(f"expected fsync 'always', 'interval' or 'never', got {fsync!r}")
        if not fsync_interval_s > 0:
            raise InputError(f"expected fsync_interval_s > 0, got {fsync_interval_s}")
        self.path = Path(path)
        self.fsync = fsync
        self.fsync_interval_s = fsync_interval_s
        self._lock = threading.Lock()
        self._last_sync = time.monotonic()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._torn = False  # a failed write left a line unfinished: end it before the next event
        self._mend_torn_tail()

    def _mend_torn_tail(self) -> None:
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
        logger.warning("event log %s ends in a torn line (writer killed mid-write); starting a new line", self.path)
        self._write(_SPOIL)  # the killed writer's event was never acknowledged, even if all but its newline got out

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _append_line(self, line: bytes) -> None:
        """Write ``line`` whole after ending any line a failed write left unfinished.

        A write that fails part-way (disk full) leaves a fragment; the next event appended onto it would be
        one unreadable line with it, and lost. So the fragment is ended at once, or, if that fails too, before
        the next line is written (it stays on a line of its own, skipped when read). It is ended with
        :data:`_SPOIL`, not a bare newline: a fragment can be the whole event but its newline, and a newline
        alone would then store the event the caller was told was not stored (and may send again).
        """
        if self._torn:
            self._write(_SPOIL)
            self._torn = False
        assert self._fd is not None
        view = memoryview(line)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError:
            if len(view) < len(line):
                self._torn = True
                try:
                    self._torn = os.write(self._fd, _SPOIL) != len(_SPOIL)
                except OSError:
                    pass
            raise

    def emit(self, event: TryOnEvent) -> None:
        """Append ``event`` as one line; returns once it is written (and fsynced, per policy).

        Raises:
            InputError: ``event`` is not a :class:`TryOnEvent`.
            ValueError: the sink is closed.
            EventNotStoredError: the write failed (disk full, ...): the event is not stored (the next one
                will be, whole, once there is room).
            OSError: the fsync failed (the event was written; whether it reached the disk is unknown).
        """
        if not isinstance(event, TryOnEvent):
            raise InputError(f"expected a TryOnEvent, got {type(event).__name__}")
        line = json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
        with self._lock:
            if self._fd is None:
                raise ValueError(f"event sink {self.path} is closed")
            try:
                self._append_line(line.encode("utf-8"))
            except OSError as exc:
                raise EventNotStoredError(
                    exc.errno, f"{event.type} event for {event.product_id!r} was not stored in {self.path}: "
                    f"{exc.strerror or exc}") from exc
            now = time.monotonic()
            if self.fsync == "always" or (self.fsync == "interval" and now - self._last_sync >= self.fsync_interval_s):
                os.fsync(self._fd)
                self._last_sync = now

    def close(self) -> None:
        """Fsync (unless the policy is ``"never"``) and close the file; closing twice is harmless."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if self.fsync != "never":
                    os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> JsonlEventSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_events(
    path: str | Path, types: Mapping[str, type[TryOnEvent]] = EVENT_TYPES, *, skipped: list[int] | None = None
) -> Iterator[TryOnEvent]:
    """Yield the events of a JSON Lines log in file order.

    A line that does not hold a good event is skipped with an :class:`EventLogWarning` naming it (and its
    number appended to ``skipped`` when given): the torn last line of a killed writer, a fragment a failed
    write left, a hostile line (``{"type": []}``, a 5,000-digit integer, deep nesting, a line over
    :data:`MAX_LINE_BYTES`). Blank lines are skipped silently. One bad line never costs the others.

    Raises:
        OSError: the file cannot be opened.
    """
    with open(path, "rb") as fh:
        number = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:  # skip the rest of the line unread
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(MAX_LINE_BYTES)
                _skip(path, number, f"expected a line of at most {MAX_LINE_BYTES} bytes, got a longer one", skipped)
                continue
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
                if not isinstance(data, dict):
                    raise InputError(f"expected a JSON object, got {type(data).__name__}")
                event = event_from_dict(data, types)
            except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, InputError, int limit
                torn = "" if raw.endswith(b"\n") else " (torn last line)"
                _skip(path, number, f"unreadable event{torn}: {type(exc).__name__}: {str(exc)[:200]}", skipped)
                continue
            yield event


def _skip(path: str | Path, number: int, why: str, skipped: list[int] | None) -> None:
    if skipped is not None:
        skipped.append(number)
    warnings.warn(f"{path}:{number}: skipped {why}", EventLogWarning, stacklevel=3)


@dataclass(frozen=True)
class ProductSummary:
    """Per-product totals over a set of events.

    Definitions (what :class:`~arlens.session.TryOn` emits, and so what each number counts):

    - an *exposure* is a product's lens being drawn on someone who is in view: it starts when the lens
      starts being drawn on a person (at the start, after a shade change, or when someone comes back
      after ``TryOnOptions.shown_grace_ms`` with nobody in view) and the session emits one ``lens_shown``
      for it. A swipe to a shade emits ``shade_changed`` *and*, once the shade is drawn on the person,
      that exposure's ``lens_shown``: the swipe is counted in ``selected``, the exposure once in ``shown``.

    Attributes:
        product_id: the product.
        shown: exposures: ``lens_shown`` events (each exposure of the product to a person counts once,
            however it was reached).
        selected: ``shade_changed`` events that switched to it (chosen by a swipe, a key or the app); a
            selection made while nobody was in view is not an exposure.
        dwell_s: total seconds worn on someone (sum of ``dwell`` durations).
        buy_links: ``buy_link_shown`` events, of which ``qr`` and ``clicks``.
        snapshots: ``snapshot_taken`` events.
        sessions: sessions in which it was shown (at least one exposure).
        buy_intent_rate: share of those sessions with a buy link shown for it (0 if never shown).
    """

    product_id: str
    shown: int = 0
    selected: int = 0
    dwell_s: float = 0.0
    buy_links: int = 0
    qr: int = 0
    clicks: int = 0
    snapshots: int = 0
    sessions: int = 0
    buy_intent_rate: float = 0.0


@dataclass(frozen=True)
class EventSummary:
    """Totals over a set of events: per product (in order of first appearance) and overall."""

    products: tuple[ProductSummary, ...]
    events: int
    sessions: int
    skipped_lines: int = 0
    """Lines of the event log that held no readable event (each was warned about, naming the line)."""

    def __getitem__(self, product_id: str) -> ProductSummary:
        for p in self.products:
            if p.product_id == product_id:
                return p
        raise KeyError(f"no events for product {product_id!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the CLI and dashboards)."""
        return {"events": self.events, "sessions": self.sessions, "skipped_lines": self.skipped_lines,
                "products": [asdict(p) for p in self.products]}


def summarize(events: Iterable[TryOnEvent] | str | Path) -> EventSummary:
    """Per-product counts, dwell time and buy-intent rate of events, or of an event log file.

    What each number counts is defined in :class:`ProductSummary`: ``shown`` counts exposures
    (``lens_shown``) once each; ``shade_changed`` counts as a selection, never as a second exposure.
    Buy-intent rate is counted per session: of the sessions where a product was shown, the share
    where a buy link for it was also shown (QR or click), so a shopper who scans the same code
    three times counts once.
    """
    skipped: list[int] = []
    if isinstance(events, str | Path):
        events = read_events(events, skipped=skipped)
    counts: dict[str, dict[str, Any]] = {}
    shown_in: dict[str, set[str]] = {}
    bought_in: dict[str, set[str]] = {}
    all_sessions: set[str] = set()
    total = 0
    for event in events:
        total += 1
        all_sessions.add(event.session_id)
        c = counts.setdefault(
            event.product_id, {"shown": 0, "selected": 0, "dwell_s": 0.0, "qr": 0, "clicks": 0, "snapshots": 0}
        )
        if isinstance(event, LensShown | LookApplied):  # one per exposure (see ProductSummary)
            c["shown"] += 1
            shown_in.setdefault(event.product_id, set()).add(event.session_id)
        elif isinstance(event, ShadeChanged):  # a selection, not an exposure: its lens_shown follows
            c["selected"] += 1
        elif isinstance(event, Dwell):
            c["dwell_s"] += event.duration_s
        elif isinstance(event, BuyLinkShown):
            c["qr" if event.via == "qr" else "clicks"] += 1
            bought_in.setdefault(event.product_id, set()).add(event.session_id)
        elif isinstance(event, SnapshotTaken):
            c["snapshots"] += 1
    products = []
    for product_id, c in counts.items():
        shown = shown_in.get(product_id, set())
        intent = len(shown & bought_in.get(product_id, set())) / len(shown) if shown else 0.0
        products.append(
            ProductSummary(
                product_id,
                buy_links=c["qr"] + c["clicks"],
                sessions=len(shown),
                buy_intent_rate=intent,
                **c,
            )
        )
    return EventSummary(tuple(products), total, len(all_sessions), len(skipped))


def format_summary(summary: EventSummary) -> str:
    """A plain-text table of a summary, for the command line."""
    rows = [f"{'product':<20} {'shown':>6} {'picked':>6} {'dwell_s':>9} {'qr':>4} {'click':>5} {'snap':>5} "
            f"{'intent':>7}"]
    for p in summary.products:
        rows.append(
            f"{p.product_id:<20} {p.shown:>6} {p.selected:>6} {p.dwell_s:>9.1f} {p.qr:>4} {p.clicks:>5} "
            f"{p.snapshots:>5} {p.buy_intent_rate:>6.0%}"
        )
    skipped = f" ({summary.skipped_lines} unreadable lines skipped)" if summary.skipped_lines else ""
    rows.append(f"{summary.events} events in {summary.sessions} sessions{skipped}")
    return "\n".join(rows)
