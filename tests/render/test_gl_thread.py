"""GLThread: one worker thread that owns an OpenGL context; calls run there in order."""

from __future__ import annotations

import threading

import pytest

from arlens.errors import InputError
from arlens.render.gl_thread import GLThread


def test_calls_run_in_order_on_one_thread_of_their_own():
    seen = []
    with GLThread(name="arlens-gl-test") as gl:
        futures = [gl.submit(lambda k=k: seen.append((k, threading.current_thread().name))) for k in range(20)]
        for f in futures:
            f.result()
        assert gl.call(lambda a, b=0: a + b, 2, b=3) == 5
    assert [k for k, _ in seen] == list(range(20))
    names = {name for _, name in seen}
    assert len(names) == 1 and names.pop().startswith("arlens-gl-test")
    assert threading.current_thread().name not in {name for _, name in seen}


def test_an_exception_reaches_the_caller_and_the_thread_goes_on():
    with GLThread() as gl:
        with pytest.raises(ZeroDivisionError):
            gl.call(lambda: 1 / 0)
        assert gl.call(lambda: "still running") == "still running"


def test_close_finishes_what_was_submitted_and_is_idempotent():
    gl = GLThread()
    done = threading.Event()
    gl.submit(done.wait, 5.0)
    gl.submit(done.set)  # queued behind the wait: close must not drop it
    late = gl.submit(lambda: "ran")
    threading.Timer(0.05, done.set).start()
    gl.close()
    assert late.result(timeout=0) == "ran" and gl.closed
    gl.close()
    with pytest.raises(InputError, match="GLThread: used after close"):
        gl.submit(lambda: None)
