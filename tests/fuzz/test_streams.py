"""Fuzz: timestamps into every video-mode boundary, and event logs under hostile lines and failing writes:
a result or InputError for each call, a tracker that keeps working after any refused call, and every
acknowledged event read back, in order, whatever else the log holds."""

from __future__ import annotations

import errno
import json
import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import arlens.events as E
from arlens.errors import InputError
from arlens.tracking.timestamps import MAX_TIMESTAMP_MS, check_timestamp
from tests.fuzz.conftest import budget

TIMESTAMPS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from([10**400, -(10**400), 2**53, 2**53 + 1, np.float32("nan"), np.int64(2**62), np.float64(1e300),
                     True, None, "100", [1], 1 + 2j]),
)


@budget(examples=500, deadline_ms=1000)
@given(TIMESTAMPS, st.one_of(st.none(), st.floats(-1e15, 1e15)))
def test_a_timestamp_is_a_finite_increasing_float_or_input_error(ts, last):
    try:
        out = check_timestamp(ts, last)
    except InputError as exc:
        assert str(exc).startswith("timestamp_ms: expected")
        return
    assert isinstance(out, float) and math.isfinite(out) and abs(out) <= MAX_TIMESTAMP_MS
    assert last is None or out > last


@pytest.fixture(scope="module")
def small_frame():
    import cv2

    from tests.support import read_image

    return cv2.resize(read_image("faces/astronaut.png"), (128, 128))


@budget(examples=25, deadline_ms=30_000)
@given(st.lists(TIMESTAMPS, min_size=1, max_size=6))
@example(stamps=[-2.2250738585e-313, 0.0])  # the longer run: a denormal step overflowed the smoothing's 1 / dt
def test_trackers_and_the_session_keep_working_after_any_timestamps(small_frame, stamps):
    """After a NaN, HandTracker returned NaN landmarks forever and FaceTracker raised LinAlgError; after +inf
    every later frame was refused until reset()."""
    import arlens
    from arlens.session import TryOn

    with arlens.FaceTracker() as faces, arlens.HandTracker() as hands, \
            TryOn(arlens.Catalog.default(), ["LIP-004"]) as session:
        accepted = -math.inf
        for ts in stamps:
            for call in (faces.track, hands.track, session.process):
                try:
                    call(small_frame, ts)
                except InputError:
                    continue
            try:
                accepted = max(accepted, check_timestamp(ts, None))
            except InputError:
                pass
        later = (accepted + 1000.0) if math.isfinite(accepted) and accepted < MAX_TIMESTAMP_MS - 2000 else None
        if later is None:
            return  # the stream reached the end of time: nothing later to ask
        found = faces.track(small_frame, later)
        hands.track(small_frame, later)
        result = session.process(small_frame, later)
        assert all(np.isfinite(f.landmarks).all() for f in (*found, *result.faces))


# --- event logs ---------------------------------------------------------------------------------------------

_REAL_WRITE = os.write
JUNK = [b'{"type": []}', b"[" * 3000 + b"]" * 3000, b'{"type": "lens_shown", "session_id": 1}', b"\xff\xfe",
        b'{"type": "dwell", "session_id": "s", "product_id": "P", "duration_s": ' + b"9" * 5000 + b"}",
        b"not json", b'"string"', b"{", b"x" * 70_000, b'{"type": "buy_link_shown", "via": "fax"}']


@st.composite
def log_scripts(draw):
    """What happens to a log: events emitted (some when the disk has only a few bytes left, or none), junk lines
    appended by another writer, the sink closed and reopened."""
    steps = []
    for n in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["emit", "emit", "emit", "full", "junk", "torn", "reopen"]))
        if kind == "full":
            steps.append((kind, n, draw(st.integers(0, 80))))
        elif kind in ("junk", "torn"):
            steps.append((kind, n, draw(st.integers(0, len(JUNK) - 1))))
        else:
            steps.append((kind, n, 0))
    return steps


def _event(n: int) -> E.TryOnEvent:
    kinds = [lambda: E.LensShown(session_id="s", product_id=f"P{n}", timestamp=float(n)),
             lambda: E.Dwell(session_id="s", product_id=f"P{n}", duration_s=n / 3, timestamp=float(n)),
             lambda: E.BuyLinkShown(session_id="t", product_id=f"P{n}", via="click", timestamp=float(n))]
    return kinds[n % 3]()


@budget(examples=150, deadline_ms=10_000)
@given(log_scripts())
def test_every_acknowledged_event_is_read_back_in_order(tmp_path_factory, monkeypatch_module, script):
    """A failed write's fragment swallowed the next acknowledged event; one hostile line lost the summary."""
    path = tmp_path_factory.mktemp("log") / "events.jsonl"
    real_write = _REAL_WRITE  # not os.write: from the second case on, that is the previous case's wrapper
    budget_left: dict[str, int | None] = {"bytes": None}

    def write(fd, data):
        if budget_left["bytes"] is None:
            return real_write(fd, data)
        if budget_left["bytes"] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), budget_left["bytes"])
        budget_left["bytes"] -= n
        return real_write(fd, bytes(data[:n]))

    monkeypatch_module.setattr(E.os, "write", write)
    acknowledged = []
    sink = E.JsonlEventSink(path, fsync="never")
    try:
        for kind, n, detail in script:
            if kind in ("emit", "full"):
                budget_left["bytes"] = detail if kind == "full" else None
                try:
                    sink.emit(_event(n))
                    acknowledged.append(_event(n))
                except E.EventNotStoredError:
                    pass
                budget_left["bytes"] = None
            elif kind in ("junk", "torn"):
                with open(path, "ab") as fh:  # another writer: a whole junk line, or one killed mid-line
                    fh.write(JUNK[detail] + (b"\n" if kind == "junk" else b""))
                if kind == "torn":
                    sink.close()
                    sink = E.JsonlEventSink(path, fsync="never")  # reopening mends the torn tail
            else:
                sink.close()
                sink = E.JsonlEventSink(path, fsync="never")
    finally:
        budget_left["bytes"] = None
        sink.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", E.EventLogWarning)
        skipped: list[int] = []
        events = list(E.read_events(path, skipped=skipped))
        summary = E.summarize(path)
    assert events == acknowledged
    assert summary.events == len(acknowledged) and summary.skipped_lines == len(skipped)
    json.dumps(summary.to_dict())


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()
