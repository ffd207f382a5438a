"""TryOnOptions.tracking_process: the tracking in a worker process gives the frames of the in-process session,
and a worker that fails or dies is reported, never hangs the session, and is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from arlens.errors import ArlensError, InputError, ModelError, RuntimeUnavailableError
from arlens.session import TryOn, TryOnOptions
from arlens.tracking.face import FaceTracker
from tests import support

PRODUCTS = ["LIP-001", "EYE-101", "NAIL-201"]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the tracking process needs POSIX pipes")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """Faces drifting with a hand beside them at 1280x720 (the kiosk benchmark's clip), 3 frames a face."""
    return support.face_hand_clip(3)


_same = support.assert_same_result


def _worker(session: TryOn) -> subprocess.Popen:
    proc = session._remote._proc
    assert proc is not None, "no tracking process running"
    return proc


def test_tracking_process_gives_the_frames_of_the_session_itself(clip):
    """The same trackers and ONNX Runtime settings in another process: the same landmarks and pixels, in
    process(), submit() and process_image(), and for a frame of another size (a new shared mapping)."""
    small = np.ascontiguousarray(clip[-1][::2, ::2])
    with TryOn(products=PRODUCTS, options=TryOnOptions(event_delivery="inline")) as local, \
            TryOn(products=PRODUCTS, options=TryOnOptions(event_delivery="inline", tracking_process=True)) as remote:
        assert remote._face_tracker is None, "the session made trackers of its own beside the worker's"
        expected = [local.process(frame, 33 * i) for i, frame in enumerate(clip)]
        got = [out for i, frame in enumerate(clip) if (out := remote.submit(frame, 33 * i)) is not None]
        got.append(remote.flush())
        for a, b in zip(expected, got, strict=True):
            _same(a, b)
        assert all(r.faces for r in expected) and any(r.hands for r in expected), "the clip lost its face or hand"
        assert "tracking_process" in got[-1].timings and "faces" in got[-1].timings
        n = len(clip)
        _same(local.process(clip[0], 33 * n), remote.process(clip[0], 33 * n))  # process() goes there too
        _same(local.process(small, 33 * (n + 1)), remote.process(small, 33 * (n + 1)))
        _same(local.process_image(clip[1]), remote.process_image(clip[1]))
        worker = _worker(remote)
    assert worker.poll() is not None, "closing the session left its tracking process running"


def test_a_dead_worker_is_reported_and_replaced(clip):
    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline", tracking_process=True)) as s:
        assert s.process(clip[0], 0).faces
        worker = _worker(s)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        with pytest.raises(RuntimeUnavailableError, match="tracking process exited"):
            s.process(clip[1], 33)
        again = s.process(clip[2], 66)  # a new worker, tracking afresh
        assert again.faces and _worker(s).pid != worker.pid


def test_a_hung_worker_is_killed_not_waited_for(clip, monkeypatch):
    """A worker that stops answering (here: stopped by SIGSTOP) is killed after FRAME_TIMEOUT_S, that frame
    raises, and the next one gets a new worker: a kiosk never waits forever."""
    from arlens import tracking_process as tp

    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline", tracking_process=True)) as s:
        assert s.process(clip[0], 0).faces
        worker = _worker(s)
        monkeypatch.setattr(tp, "FRAME_TIMEOUT_S", 1.0)
        os.kill(worker.pid, signal.SIGSTOP)
        with pytest.raises(RuntimeUnavailableError, match="no answer in 1 s"):
            s.process(clip[1], 33)
        assert worker.poll() is not None, "the hung worker was left behind"
        monkeypatch.undo()  # the new worker's first frame may take more than a second on a loaded machine
        assert s.process(clip[2], 66).faces and _worker(s).pid != worker.pid


def test_an_error_in_the_worker_comes_back_and_the_worker_carries_on(clip):
    """An error raised in the worker is raised in the session as itself, and the worker keeps its trackers."""
    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline", tracking_process=True)) as s:
        assert s.process(clip[0], 0).faces
        worker = _worker(s)
        s._remote._send.send(("no such message", None))
        with pytest.raises(ArlensError, match="unknown message"):
            s._remote._reply()
        assert s.process(clip[1], 33).faces and _worker(s) is worker


def test_a_worker_that_cannot_start_is_reported(clip, monkeypatch):
    """A worker that exits at once (here: an interpreter that is not Python) is an error, not a hang; the
    next frame tries again."""
    with TryOn(products=["LIP-001"], options=TryOnOptions(event_delivery="inline", tracking_process=True)) as s:
        monkeypatch.setattr(sys, "executable", "/bin/false")
        with pytest.raises(RuntimeUnavailableError, match="exit code 1"):
            s.process(clip[0], 0)
        assert s._remote._proc is None
        monkeypatch.undo()
        assert s.process(clip[1], 33).faces


def test_trackers_passed_in_cannot_move_to_the_worker():
    tracker = FaceTracker()
    try:
        with pytest.raises(InputError, match="tracking_process"):
            TryOn(products=["LIP-001"], face_tracker=tracker, tracking_process=True)
    finally:
        tracker.close()
    with pytest.raises(InputError, match="tracking_process"):
        TryOnOptions(tracking_process="yes")


def test_the_worker_refuses_to_run_by_hand():
    out = subprocess.run([sys.executable, "-m", "arlens.tracking_process"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "started by arlens.TryOn" in out.stderr


def test_model_error_type_is_kept_across_the_pipe():
    from arlens.tracking_process import _picklable

    err = ModelError("face model missing: /x/face.onnx")
    back = _picklable(err)
    assert back is err

    class Local(Exception):  # a class pickle cannot find by name
        pass

    replaced = _picklable(Local("boom"))
    assert type(replaced).__name__ == "ArlensError" and "Local: boom" in str(replaced)
