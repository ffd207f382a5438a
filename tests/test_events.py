"""Try-on events: scalar-only values, durable JSON Lines sink, crash recovery and summaries."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.events import (
    EVENT_TYPES,
    BuyLinkShown,
    Dwell,
    EventLogWarning,
    EventSink,
    JsonlEventSink,
    LensShown,
    MemoryEventSink,
    ShadeChanged,
    SnapshotTaken,
    TryOnEvent,
    event_from_dict,
    format_summary,
    read_events,
    summarize,
)

REPO = Path(__file__).resolve().parent.parent


def sample_events() -> list[TryOnEvent]:
    return [
        LensShown(session_id="s1", product_id="LIP-1", timestamp=1.0, kind="lipstick"),
        Dwell(session_id="s1", product_id="LIP-1", timestamp=4.0, duration_s=3.0),
        ShadeChanged(session_id="s1", product_id="LIP-2", previous_product_id="LIP-1", timestamp=4.0),
        LensShown(session_id="s1", product_id="LIP-2", timestamp=4.0, kind="lipstick"),  # as TryOn emits them
        Dwell(session_id="s1", product_id="LIP-2", timestamp=9.5, duration_s=5.5),
        BuyLinkShown(session_id="s1", product_id="LIP-2", via="qr", timestamp=9.6),
        BuyLinkShown(session_id="s1", product_id="LIP-2", via="click", timestamp=9.7),
        SnapshotTaken(session_id="s1", product_id="LIP-2", timestamp=9.8),
        LensShown(session_id="s2", product_id="LIP-2", timestamp=20.0),
        Dwell(session_id="s2", product_id="LIP-2", timestamp=22.0, duration_s=2.0),
    ]


# --- event values -----------------------------------------------------------------------------


def test_round_trip_through_dicts_and_json():
    for event in sample_events():
        data = json.loads(json.dumps(event.to_dict()))
        assert data["type"] == event.type and event_from_dict(data) == event
    assert set(EVENT_TYPES) == {
        "lens_shown", "shade_changed", "dwell", "buy_link_shown", "snapshot_taken", "look_applied"
    }


def test_a_look_is_counted_like_a_product():
    from arlens.events import LookApplied

    events = [
        LookApplied(session_id="s1", product_id="LOOK-DAY", products="FDN-220,LIP-001", timestamp=1.0),
        BuyLinkShown(session_id="s1", product_id="LOOK-DAY", via="qr", timestamp=2.0),
        LookApplied(session_id="s2", product_id="LOOK-DAY", products="FDN-220,LIP-001", timestamp=3.0),
    ]
    for event in events:
        assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event
    look = summarize(events)["LOOK-DAY"]
    assert (look.shown, look.qr, look.sessions, look.buy_intent_rate) == (2, 1, 2, 0.5)


def test_timestamp_defaults_to_now():
    import time

    before = time.time()
    event = LensShown(session_id="s", product_id="p")
    assert before <= event.timestamp <= time.time()


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": np.zeros((468, 3), np.float32)},  # landmarks
        {"kind": b"\xff\xd8\xff\xe0 jpeg bytes"},  # an image
        {"kind": [0.1, 0.2]},
        {"kind": {"face": 1}},
        {"kind": "x" * 1000},  # a base64 image would not fit
        {"timestamp": math.nan},
        {"timestamp": "yesterday"},
        {"session_id": ""},
        {"product_id": 7},
    ],
    ids=lambda d: f"{next(iter(d))}:{type(next(iter(d.values()))).__name__}",
)
def test_only_short_plain_scalars_are_accepted(bad):
    values = {"session_id": "s", "product_id": "p", **bad}
    with pytest.raises(InputError, match="expected"):
        LensShown(**values)


def test_numpy_scalars_become_plain_floats():
    event = Dwell(session_id="s", product_id="p", duration_s=np.float64(2.5), timestamp=np.float32(3.0))
    assert type(event.duration_s) is float and type(event.timestamp) is float


def test_event_types_cannot_declare_non_scalar_fields():
    with pytest.raises(TypeError, match="must be str, int, float, bool or None, got bytes"):

        @dataclass(frozen=True, kw_only=True)
        class WithImage(TryOnEvent):
            image: bytes = b""

    with pytest.raises(TypeError, match="got None | np.ndarray"):

        @dataclass(frozen=True, kw_only=True)
        class WithLandmarks(TryOnEvent):
            landmarks: np.ndarray | None = None


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Dwell(session_id="s", product_id="p", duration_s=-1), "duration_s >= 0"),
        (lambda: BuyLinkShown(session_id="s", product_id="p", via="email"), "via 'qr' or 'click'"),
        (lambda: event_from_dict({"type": "purchase"}), "unknown event type 'purchase'"),
        (lambda: event_from_dict({"type": "dwell", "session_id": "s", "product_id": "p", "face": 1}), "face"),
        (lambda: event_from_dict({"type": "dwell", "session_id": "s"}), "bad dwell event"),
    ],
)
def test_bad_events(factory, message):
    with pytest.raises(InputError, match=message):
        factory()


# --- sinks ------------------------------------------------------------------------------------


def test_memory_sink():
    sink = MemoryEventSink()
    assert isinstance(sink, EventSink)
    for event in sample_events():
        sink.emit(event)
    assert sink.events == tuple(sample_events())
    with pytest.raises(InputError):
        sink.emit({"type": "dwell"})  # type: ignore[arg-type]


@pytest.mark.parametrize("fsync", ["always", "interval", "never"])
def test_jsonl_sink_writes_one_line_per_event(tmp_path, fsync):
    path = tmp_path / "events.jsonl"
    with JsonlEventSink(path, fsync=fsync) as sink:
        assert isinstance(sink, EventSink)
        for event in sample_events():
            sink.emit(event)
            # flushed per event: the line is in the file before the sink is closed
            assert path.read_bytes().endswith(b"\n")
    lines = path.read_text().splitlines()
    assert len(lines) == len(sample_events())
    assert list(read_events(path)) == sample_events()
    with pytest.raises(ValueError, match="closed"):
        sink.emit(sample_events()[0])
    sink.close()  # twice is harmless


def test_jsonl_sink_appends_across_reopen(tmp_path):
    path = tmp_path / "events.jsonl"
    events = sample_events()
    with JsonlEventSink(path) as sink:
        sink.emit(events[0])
    with JsonlEventSink(path) as sink:
        sink.emit(events[1])
    assert list(read_events(path)) == events[:2]


def test_bad_fsync_policy(tmp_path):
    with pytest.raises(InputError, match="expected fsync"):
        JsonlEventSink(tmp_path / "e.jsonl", fsync="sometimes")  # type: ignore[arg-type]


def test_threads_share_a_sink(tmp_path):
    path = tmp_path / "events.jsonl"
    with JsonlEventSink(path, fsync="never") as sink:

        def work(t: int) -> None:
            for i in range(200):
                sink.emit(LensShown(session_id=f"t{t}", product_id=f"p{i}"))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(list(read_events(path))) == 8 * 200


def test_torn_last_line_is_skipped_and_reopen_keeps_earlier_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    events = sample_events()
    with JsonlEventSink(path) as sink:
        for event in events[:3]:
            sink.emit(event)
    good = path.read_bytes()
    full_line = json.dumps(events[3].to_dict()).encode()
    path.write_bytes(good + full_line[:25])  # a writer killed inside its write

    with pytest.warns(EventLogWarning, match=r"events.jsonl:4: skipped unreadable event \(torn last line\)"):
        assert list(read_events(path)) == events[:3]

    with JsonlEventSink(path) as sink:  # reopening after the crash
        sink.emit(events[4])
    assert path.read_bytes().startswith(good)  # earlier lines untouched
    with pytest.warns(EventLogWarning, match="events.jsonl:4: skipped unreadable event"):
        assert list(read_events(path)) == [*events[:3], events[4]]


WRITER = """
import sys
from arlens.events import JsonlEventSink, LensShown
sink = JsonlEventSink(sys.argv[1], fsync=sys.argv[2])
i = 0
while True:
    sink.emit(LensShown(session_id="kill-test", product_id=f"P{i:07d}", kind="lipstick"))
    print(i, flush=True)  # acknowledged: emit has returned
    i += 1
"""


@pytest.mark.parametrize("fsync", ["never", "always"])
def test_sigkill_mid_stream_loses_no_acknowledged_event(tmp_path, fsync):
    path = tmp_path / "events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), fsync], stdout=subprocess.PIPE, env=env, cwd=tmp_path
    )
    acknowledged = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= 300:
                break
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writer is still looping
        acknowledged += [int(line) for line in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 300

    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = list(read_events(path))
    # at most the line being written when the kill landed may be torn, and only the last one
    assert len(caught) <= 1
    ids = [e.product_id for e in events]
    assert ids == [f"P{i:07d}" for i in range(len(ids))]  # in order, none missing, none corrupted
    assert {f"P{i:07d}" for i in acknowledged} <= set(ids)

    with JsonlEventSink(path) as sink:  # the log stays usable after the crash
        sink.emit(LensShown(session_id="after", product_id="AFTER"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventLogWarning)
        assert [e.product_id for e in read_events(path)][-1] == "AFTER"


# --- summaries --------------------------------------------------------------------------------


def test_summarize_counts_dwell_and_intent():
    summary = summarize(sample_events())
    assert summary.events == 10 and summary.sessions == 2
    assert [p.product_id for p in summary.products] == ["LIP-1", "LIP-2"]
    lip1, lip2 = summary["LIP-1"], summary["LIP-2"]
    assert (lip1.shown, lip1.selected, lip1.dwell_s, lip1.buy_links, lip1.buy_intent_rate) == (1, 0, 3.0, 0, 0.0)
    # LIP-2 was swiped to in s1 (shade_changed, then its lens_shown) and shown in s2: two exposures, not three
    assert (lip2.shown, lip2.selected, lip2.dwell_s, lip2.qr, lip2.clicks, lip2.snapshots) == (2, 1, 7.5, 1, 1, 1)
    assert lip2.sessions == 2 and lip2.buy_intent_rate == 0.5  # bought-intent in s1, not in s2
    with pytest.raises(KeyError):
        summary["nope"]
    assert json.loads(json.dumps(summary.to_dict()))["products"][1]["buy_intent_rate"] == 0.5


def test_summarize_a_log_file(tmp_path):
    path = tmp_path / "events.jsonl"
    with JsonlEventSink(path, fsync="never") as sink:
        for event in sample_events():
            sink.emit(event)
    assert summarize(path) == summarize(sample_events()) == summarize(str(path))
    text = format_summary(summarize(path))
    assert "LIP-2" in text and "50%" in text and "10 events in 2 sessions" in text


# --- hostile conditions (issue #24): a full disk, hostile lines ------------------------------------------

FULL_DISK_WRITER = """
import json, resource, signal, sys
from arlens.events import EventNotStoredError, JsonlEventSink, LensShown
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the size limit a write fails (EFBIG) instead of killing
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), hard))  # a disk that fills up mid-line
sink = JsonlEventSink(sys.argv[1], fsync="never")
acked, failed = [], []
for i in range(400):
    if i == 300:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
    try:
        sink.emit(LensShown(session_id="disk", product_id=f"P{i:04d}", timestamp=1.0))  # lines of one length
        acked.append(i)
    except EventNotStoredError as exc:
        assert isinstance(exc, OSError) and "was not stored" in str(exc), exc
        failed.append(i)
sink.close()
print(json.dumps({"acked": acked, "failed": failed}))
"""


def test_after_a_full_disk_the_next_acknowledged_event_is_stored_whole(tmp_path):
    """A failed write left a partial line and the next event was appended onto it: 197 acknowledged, 196
    readable on a full tmpfs. The fragment is now ended before the next event, and the caller told."""
    path = tmp_path / "events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    line = len(json.dumps(LensShown(session_id="disk", product_id="P0000", timestamp=1.0).to_dict(),
                          separators=(",", ":"))) + 1  # and its newline
    limit = 150 * line + line // 2  # the limit falls in the middle of event 150's line (the lines' lengths fixed:
    # with the clock's timestamps it fell anywhere, on a line's end or just before its newline, now and then)
    run = subprocess.run([sys.executable, "-c", FULL_DISK_WRITER, str(path), str(limit)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["failed"] == list(range(150, 300)) and result["acked"][-1] == 399
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stored = [int(e.product_id[1:]) for e in read_events(path)]
    assert stored == result["acked"]  # every acknowledged event, in order; no failed one
    assert len(caught) == 1  # the one fragment the failed write left, on a line of its own


def _disk_that_fills(monkeypatch, room: int) -> dict:
    """Make the event sink's ``os.write`` take ``room`` more bytes, then fail with ENOSPC (a partial write where
    the room ends) until the returned dict's ``"bytes"`` is set to None (room again)."""
    import errno

    import arlens.events as E

    real_write = os.write
    budget = {"bytes": room}

    def write(fd, data):
        if budget["bytes"] is None:
            return real_write(fd, data)
        if budget["bytes"] == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), budget["bytes"])
        budget["bytes"] -= n
        return real_write(fd, bytes(data[:n]))

    monkeypatch.setattr(E.os, "write", write)
    return budget


def test_a_failed_write_whose_newline_also_fails_is_mended_before_the_next_event(tmp_path, monkeypatch):
    import errno

    import arlens.events as E

    path = tmp_path / "events.jsonl"
    budget = _disk_that_fills(monkeypatch, 30)  # 30 more bytes, then nothing, until room is made
    sink = JsonlEventSink(path, fsync="never")
    with pytest.raises(E.EventNotStoredError, match="lens_shown event for 'A' was not stored") as info:
        sink.emit(LensShown(session_id="s", product_id="A"))
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(E.EventNotStoredError):
        sink.emit(LensShown(session_id="s", product_id="B"))  # still full: the fragment is still open
    budget["bytes"] = None  # room again
    sink.emit(LensShown(session_id="s", product_id="C"))
    sink.close()
    with pytest.warns(EventLogWarning, match="events.jsonl:1: skipped unreadable event"):
        assert [e.product_id for e in read_events(path)] == ["C"]


def test_a_failed_write_that_left_all_but_the_newline_is_not_stored(tmp_path, monkeypatch):
    """The disk filled up just before an event's newline: the event was reported not stored, yet the newline
    that ended its fragment later made it a whole line, read back as stored (test_after_a_full_disk_... failed
    when the size limit fell there, ~1 run in 150 as the timestamps' lengths vary)."""
    import arlens.events as E

    path = tmp_path / "events.jsonl"
    event = LensShown(session_id="s", product_id="A", timestamp=1.0)
    line = (json.dumps(event.to_dict(), separators=(",", ":")) + "\n").encode()
    budget = _disk_that_fills(monkeypatch, len(line) - 1)  # all of the line but its newline, then nothing
    sink = JsonlEventSink(path, fsync="never")
    with pytest.raises(E.EventNotStoredError, match="lens_shown event for 'A' was not stored"):
        sink.emit(event)
    budget["bytes"] = None  # room again
    sink.emit(LensShown(session_id="s", product_id="B"))
    sink.close()
    with pytest.warns(EventLogWarning, match="events.jsonl:1: skipped unreadable event"):
        assert [e.product_id for e in read_events(path)] == ["B"]


def test_a_killed_writers_event_missing_only_its_newline_stays_unacknowledged(tmp_path):
    path = tmp_path / "events.jsonl"
    events = sample_events()
    path.write_bytes(json.dumps(events[0].to_dict()).encode())  # killed before its newline went out
    with JsonlEventSink(path) as sink:
        sink.emit(events[1])
    with pytest.warns(EventLogWarning, match="events.jsonl:1: skipped unreadable event"):
        assert list(read_events(path)) == [events[1]]


HOSTILE_LINES = [
    b'{"type": []}',  # aborted read_events with TypeError
    b'{"type": "lens_shown", "session_id": "s", "product_id": "P", "timestamp": ' + b"9" * 5000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,  # deep nesting: RecursionError (and over MAX_LINE_BYTES)
    b"[" * 5000 + b"]" * 5000,
    b'{"type": {"a": 1}, "session_id": "s"}',
    b'"just a string"',
    b"\xff\xfe not utf-8",
    b'{"type": "lens_shown", "session_id": ["s"], "product_id": "P"}',
]


def test_one_hostile_line_costs_only_itself(tmp_path):
    """{"type": []}, a 5,000-digit integer or deep nesting each lost the whole summary (and made
    ``arlens mirror --events LOG`` exit 1)."""
    path = tmp_path / "events.jsonl"
    good = [json.dumps(e.to_dict()).encode() for e in sample_events()]
    lines = [good[0], *HOSTILE_LINES[:4], *good[1:5], *HOSTILE_LINES[4:], *good[5:]]
    path.write_bytes(b"\n".join(lines) + b"\n")
    skipped: list[int] = []
    with pytest.warns(EventLogWarning) as caught:
        events = list(read_events(path, skipped=skipped))
    assert events == sample_events()
    hostile_lines = [i + 1 for i, line in enumerate(lines) if line in HOSTILE_LINES]
    assert skipped == hostile_lines
    assert [str(w.message).split(": skipped")[0] for w in caught] == [f"{path}:{n}" for n in hostile_lines]
    with pytest.warns(EventLogWarning):
        summary = summarize(path)
    assert summary.events == len(sample_events()) and summary.skipped_lines == len(HOSTILE_LINES)
    assert summary.to_dict()["skipped_lines"] == len(HOSTILE_LINES)
    assert f"({len(HOSTILE_LINES)} unreadable lines skipped)" in format_summary(summary)


def test_a_huge_line_is_skipped_without_being_held(tmp_path):
    from arlens.events import MAX_LINE_BYTES

    path = tmp_path / "events.jsonl"
    good = json.dumps(sample_events()[0].to_dict()).encode()
    path.write_bytes(good + b"\n" + b"x" * (20 * MAX_LINE_BYTES) + b"\n" + good + b"\n")
    with pytest.warns(EventLogWarning, match=f"events.jsonl:2: skipped expected a line of at most {MAX_LINE_BYTES}"):
        assert len(list(read_events(path))) == 2
