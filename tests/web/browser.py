"""A real browser for the end-to-end tests: Debian's chromium driven by Playwright, and a real uvicorn server.

Chromium's fake camera plays a Y4M clip written here from a test face (numpy and OpenCV). Tests skip, saying
why, only where chromium or Playwright is absent; ``.ci/run`` installs both.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_browser():
    """Playwright's sync API, or skip naming what is missing."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright); .ci/run installs it")
    return sync_playwright


def camera_args(y4m: Path) -> list[str]:
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}"]


def write_y4m(path: Path, face: np.ndarray, width: int, height: int, frames: int = 30, stamp: bool = False) -> Path:
    """A looping fake-camera clip: ``face`` centred on grey, drifting a few pixels (4:2:0, 30 fps)."""
    scale = 0.95 * height / face.shape[0]
    face = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    fh, fw = face.shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            frame = np.full((height, width, 3), 90, np.uint8)
            x0 = (width - fw) // 2 + int(round(4 * np.sin(2 * np.pi * i / frames)))
            y0 = (height - fh) // 2
            frame[y0:y0 + fh, max(x0, 0):x0 + fw] = face[:, max(-x0, 0):fw - max(0, x0 + fw - width)]
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An app under a real uvicorn on 127.0.0.1, in a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def screenshot(page) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(page.screenshot(), np.uint8), cv2.IMREAD_COLOR)


def element_image(page, selector: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(page.locator(selector).screenshot(), np.uint8), cv2.IMREAD_COLOR)


def frames_shown(page) -> int:
    """How many rendered frames the page has put on screen so far."""
    return page.evaluate("window.arlensStats ? window.arlensStats.shown : 0")


def frames_after(page, n: int, timeout_ms: int = 30000, since: int | None = None) -> None:
    """Wait until ``n`` more rendered frames than ``since`` (by default, than now) have been put on screen.

    Pass ``since`` (read with :func:`frames_shown` before the action) when the action itself shows the frames
    to wait for: a photo is one frame, which may already be on screen when this is called.
    """
    shown = frames_shown(page) if since is None else since
    page.wait_for_function(f"window.arlensStats && window.arlensStats.shown >= {shown + n}", timeout=timeout_ms)
