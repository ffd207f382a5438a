"""``arlens serve`` as a real process on 127.0.0.1: a few hundred API requests four at a time while a slow client
holds an upload open, and the server's memory over them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.web.browser import free_port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not Path("/proc/self/status").exists():
        pytest.skip("reading a process's memory needs /proc (Linux)")
    port = free_port()
    tmp = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen([sys.executable, "-m", "arlens", "serve", "--port", str(port), "--workers", "2",
                             "--share-dir", str(tmp / "shares")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=tmp, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/v1/products", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            proc.kill()
            raise AssertionError(f"arlens serve did not start: {out}")
        time.sleep(0.2)
    yield proc, url, port
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_it_binds_to_this_machine_only_by_default(served):
    _, _, port = served
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for address in addresses - {"127.0.0.1"}:
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(1)
            s.connect((address, port))


def test_hundreds_of_requests_four_at_a_time_with_a_slow_client(served, portrait_jpeg, blank_png):
    proc, url, port = served
    files = {"image": ("p.jpg", portrait_jpeg, "image/jpeg")}

    def one(i: int) -> tuple[int, bool]:
        params = {"products": ("LIP-004" if i % 3 else "LIP-004,EYE-101")}
        if i % 10 == 0:
            r = httpx.post(f"{url}/v1/try-on", params=params, files={"image": ("b.png", blank_png, "image/png")},
                           timeout=60)
            return r.status_code, r.json()["drawn"] is False
        if i % 25 == 0:
            r = httpx.post(f"{url}/v1/try-on", params=params, files={"image": ("x.png", b"nope", "image/png")},
                           timeout=60)
            return r.status_code, r.json()["error"] == "not_an_image"
        r = httpx.post(f"{url}/v1/try-on", params={**params, "format": "jpeg"}, files=files, timeout=60)
        return r.status_code, r.headers["x-arlens-drawn"] == "true"

    with ThreadPoolExecutor(4) as pool:
        warm = list(pool.map(one, range(60)))  # ONNX Runtime's arenas and lens buffers grow at first
        before = rss_mb(proc.pid)
        # a slow client: sends the start of an upload and then stalls, holding its connection open
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /v1/try-on?products=LIP-004 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n")
        try:
            results = list(pool.map(one, range(60, 260)))
        finally:
            slow.close()
        after = rss_mb(proc.pid)
    statuses = [s for s, _ in warm + results]
    assert set(statuses) <= {200, 415}, sorted(set(statuses))
    assert statuses.count(415) == sum(1 for i in range(260) if i % 25 == 0 and i % 10)
    assert all(ok for _, ok in warm + results)
    # flat memory: after warm-up, 200 more requests may not grow the server by more than allocator noise
    assert after - before < 80, (before, after)
    assert proc.poll() is None


def test_a_page_that_stops_reading_does_not_hold_up_another(served, portrait_jpeg):
    from websockets.sync.client import connect

    from arlens.web.routes.stream import pack, unpack

    _, url, port = served
    ws_url = f"ws://127.0.0.1:{port}/ws?product=LIP-004"
    with connect(ws_url, max_size=None) as stalled, connect(ws_url, max_size=None) as live:
        # the stalled page keeps sending frames and never reads what comes back
        for seq in range(1, 41):
            stalled.send(pack({"seq": seq, "t": 1000.0 + 33 * seq}, portrait_jpeg))
        answered = []
        for seq in range(1, 11):
            live.send(pack({"seq": seq, "t": 1000.0 + 33 * seq}, portrait_jpeg))
            while True:
                message = live.recv(timeout=60)
                if isinstance(message, bytes):
                    meta, _ = unpack(message)
                    answered.append(meta["seq"])
                    break
        assert answered == list(range(1, 11))
        for seq in range(41, 61):  # and the stalled one is still being served, newest frame first
            stalled.send(pack({"seq": seq, "t": 1000.0 + 33 * seq}, portrait_jpeg))
        last = 0
        while last != 60:
            message = stalled.recv(timeout=60)
            if isinstance(message, bytes):
                last = unpack(message)[0]["seq"]
