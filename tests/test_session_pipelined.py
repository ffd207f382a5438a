"""TryOn.submit / flush: the pipelined session gives the frames, results and events of TryOn.process."""

from __future__ import annotations

import numpy as np
import pytest

import arlens
from arlens.events import MemoryEventSink
from arlens.session import TryOn, TryOnOptions
from tests import support

PRODUCTS = ["LIP-001", "EYE-101", "NAIL-201"]


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """Faces drifting with a hand beside them at 1280x720 (the kiosk benchmark's clip), 4 frames a face."""
    return support.face_hand_clip(4)


_same = support.assert_same_result


def _events(sink: MemoryEventSink) -> list[tuple]:
    return [(e.type, e.product_id, round(getattr(e, "duration_s", 0.0), 6)) for e in sink.events]


def test_submit_gives_the_frames_of_process(clip):
    options = TryOnOptions(event_delivery="inline")
    seq_sink, pipe_sink = MemoryEventSink(), MemoryEventSink()
    with TryOn(products=PRODUCTS, options=options, event_sink=seq_sink) as seq, \
            TryOn(products=PRODUCTS, options=options, event_sink=pipe_sink) as pipe:
        expected, got = [], []
        for i, frame in enumerate(clip):
            ts = 1000 + 33 * i
            expected.append(seq.process(frame, ts))
            out = pipe.submit(frame, ts)
            if i == 0:
                assert out is None, "the first submit has nothing to return yet"
            else:
                got.append(out)
            if i == 5:  # a shade change between frames applies from the next frame on, in both
                seq.next("lipstick")
                pipe.next("lipstick")
        got.append(pipe.flush())
        assert pipe.flush() is None
    assert len(got) == len(expected) == len(clip)
    for a, b in zip(expected, got, strict=True):
        _same(a, b)
    assert any(r.hands for r in expected) and all(r.faces for r in expected), "the clip lost its face or hand"
    assert {h.product_id for r in expected[6:] for h in r.hotspots} >= {"EYE-101", "NAIL-201"}
    assert expected[6].products[0] != expected[5].products[0], "the shade change did not show"
    assert _events(seq_sink) == _events(pipe_sink)


def test_submit_copies_the_frame_it_keeps(clip):
    """The caller may reuse its buffer: the frame kept for drawing in the next call is a copy."""
    buffer = clip[0].copy()
    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline")) as pipe, \
            TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline")) as seq:
        assert pipe.submit(buffer, 0) is None
        buffer[:] = 0  # overwritten before the frame is drawn
        first = pipe.submit(clip[1], 33)
        _same(seq.process(clip[0], 0), first)


def test_misuse_is_refused(clip):
    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline")) as session:
        assert session.flush() is None
        session.submit(clip[0], 0)
        with pytest.raises(arlens.InputError, match="flush"):
            session.process(clip[1], 33)
        with pytest.raises(arlens.InputError, match="timestamp"):
            session.submit(clip[1], 0)  # not after the pending frame's
        with pytest.raises(arlens.InputError, match="frame"):
            session.submit(np.zeros((4, 4), np.float32), 40)
        assert session.flush().timestamp_ms == 0.0  # the pending frame survived the refused calls
        session.process(clip[1], 33)  # sequential again after flush
    with pytest.raises(arlens.InputError, match="closed"):
        session.submit(clip[2], 66)


def test_close_drops_a_pending_frame_and_stops_the_worker(clip):
    session = TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline"))
    session.submit(clip[0], 0)
    worker = session._worker
    session.close()
    assert session._worker is None and worker._shutdown


def test_parallel_tracking_gives_the_frames_of_tracking_in_turn(clip):
    """Hands tracked on their own thread while the faces are (the default with a nail product): the same
    frames, faces and hands as tracking one after the other, and the thread ends with the session."""
    with TryOn(products=PRODUCTS, options=TryOnOptions(event_delivery="inline")) as parallel, \
            TryOn(products=PRODUCTS, options=TryOnOptions(event_delivery="inline", parallel_tracking=False)) as turn:
        for i, frame in enumerate(clip):
            _same(turn.process(frame, 33 * i), parallel.process(frame, 33 * i))
        worker = parallel._hand_worker
        assert worker is not None and turn._hand_worker is None
    assert parallel._hand_worker is None and worker._shutdown
    with pytest.raises(arlens.InputError, match="parallel_tracking"):
        TryOnOptions(parallel_tracking=1)
