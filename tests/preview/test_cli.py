"""``arlens preview`` as a real subprocess: kill -9 and Ctrl-C mid-run, then a re-run that completes; feed
errors, bad photos and unknown products with their exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2

from tests.support import ROOT

COMMAND = [sys.executable, "-m", "arlens"]
FACE_PRODUCTS = [f"LIP-{i:03d}" for i in range(1, 6)] + ["EYE-101"]


def arlens(*args, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([*COMMAND, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, start_new_session=True)


def wait_for_renders(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> int:
    """Block until the journal lists ``n`` renders (the run is mid-way); returns how many it lists."""
    journal = out / "index.journal"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if journal.is_file():
            count = sum('"type":"render"' in line for line in journal.read_text().splitlines())
            if count >= n:
                return count
        time.sleep(0.05)
    raise AssertionError(f"no {n} renders within {timeout} s")


def check_complete(out: Path, photos: int) -> dict:
    index = json.loads((out / "index.json").read_text())
    found = {(r["photo"], r["product"]): r for r in index["renders"]}
    assert len(found) == photos * len(FACE_PRODUCTS)
    for rec in found.values():
        data = (out / rec["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == rec["sha256"]
        assert cv2.imread(str(out / rec["path"])) is not None
    assert not any((out / ".tmp").iterdir())
    return found


def test_kill_9_mid_run_then_a_rerun_completes_with_every_image_readable(tmp_path, portraits):
    out = tmp_path / "out"
    args = ["preview", "--photos", portraits, "-o", out, "--products", *FACE_PRODUCTS, "--no-progress"]
    proc = start(*args, "--workers", "1", "--batch-size", "1")
    wait_for_renders(out, 4, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker, mid-run
    proc.wait(timeout=30)
    recorded = sum('"type":"render"' in line for line in (out / "index.journal").read_text().splitlines())
    # whatever is on disk under its final name is whole: written under a temporary name, then renamed
    for png in (out / "renders").rglob("*.png"):
        assert cv2.imread(str(png)) is not None, png
    assert not list((out / "renders").rglob("*.tmp"))

    rerun = arlens(*args, "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    summary = rerun.stdout.splitlines()[0]
    done, up_to_date = (int(summary.split(word)[0].split()[-1]) for word in (" rendered", " up to date"))
    assert up_to_date >= recorded >= 4  # nothing recorded before the kill is rendered again
    assert done + up_to_date == 2 * len(FACE_PRODUCTS)
    check_complete(out, photos=2)


def test_ctrl_c_records_what_is_done_and_a_rerun_continues(tmp_path, portraits):
    out = tmp_path / "out"
    args = ["preview", "--photos", portraits, "-o", out, "--products", *FACE_PRODUCTS, "--no-progress"]
    proc = start(*args, "--workers", "1", "--batch-size", "1")
    wait_for_renders(out, 3, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stdout.startswith("arlens preview: interrupted: ")
    index = json.loads((out / "index.json").read_text())  # folded into the index on the way out
    assert index["run"]["interrupted"] is True and len(index["renders"]) >= 3
    assert (out / "index.journal").read_text() == ""

    rerun = arlens(*args, "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(index['renders'])} up to date" in rerun.stdout
    check_complete(out, photos=2)


def test_a_feed_error_stops_before_any_work_with_every_located_problem(tmp_path, portraits):
    feed = tmp_path / "feed.csv"
    feed.write_text("id,title,link,price,arlens_kind,arlens_color\n"
                    "A1,Red,https://shop.example/a,abc,lipstick,#AA0000\n"
                    "A2,Rose,javascript:alert(1),9.00 USD,lipstick,#CC8888\n"
                    "A3,Blue,https://shop.example/c,9.00 USD,lipstick,blue\n")
    out = tmp_path / "out"
    run = arlens("preview", "--catalog", feed, "--photos", portraits, "-o", out)
    assert run.returncode == 3
    assert "3 problems" in run.stderr
    for where in (f"{feed}:2 [price]", f"{feed}:3 [link]", f"{feed}:4 [arlens_color]"):
        assert where in run.stderr, run.stderr
    assert not out.exists()


def test_bad_photo_and_unknown_product_are_reported_in_the_summary(tmp_path, portraits):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "astronaut.png").write_bytes((portraits / "astronaut.png").read_bytes())
    (photos / "notes.png").write_text("not an image")
    out = tmp_path / "out"
    run = arlens("preview", "--photos", f"{photos}/*.png", "-o", out, "--products", "LIP-004", "NOPE-9",
                 "--workers", "1")
    assert run.returncode == 3, run.stderr  # a photo could not be read
    lines = run.stdout.splitlines()
    assert lines[0].startswith("arlens preview: 1 rendered, 0 up to date, 2 skipped (unknown product; unreadable "
                               "photo), 0 failed, ") and "images/s" in lines[0]
    assert any(line.startswith("  unreadable photo: notes: unreadable photo: expected an image") for line in lines)
    assert "  unknown product: NOPE-9 (not in the catalog)" in lines
    assert (out / "renders/astronaut/LIP-004.png").is_file()
    assert "unknown product NOPE-9" in run.stderr


def test_usage_errors(tmp_path, portraits):
    run = arlens("preview", "--photos", portraits, "-o", tmp_path / "o", "--ray-address", "auto")
    assert run.returncode == 2 and "--engine ray" in run.stderr
    run = arlens("preview", "--photos", portraits, "-o", tmp_path / "o", "--engine", "spark")
    assert run.returncode == 2 and "expected 'local' or 'ray'" in run.stderr
    run = arlens("preview", "--photos", portraits, "-o", tmp_path / "o", "--products", "NOPE")
    assert run.returncode == 4 and "NOPE" in run.stderr
    run = arlens("preview", "--photos", tmp_path / "none", "-o", tmp_path / "o")
    assert run.returncode == 3 and "photos" in run.stderr
    assert not (tmp_path / "o").exists()


def test_the_ray_engine_without_ray_names_the_extra(tmp_path, portraits):
    hide = tmp_path / "no-ray" / "ray"  # a package named ray that fails to import, first on the path
    hide.mkdir(parents=True)
    (hide / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hide.parent), str(ROOT)])}
    args = ["preview", "--photos", str(portraits), "-o", str(tmp_path / "o"), "--engine", "ray"]
    run = subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 1 and "pip install 'arlens[ray]'" in run.stderr, run.stderr


def test_an_unreachable_ray_cluster_is_one_clear_error(tmp_path, portraits):
    """ray.init retried an unreachable head for over two minutes, logging every few seconds."""
    import socket

    with socket.socket() as s:  # a port nothing listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = arlens("preview", "--photos", portraits, "-o", tmp_path / "o", "--products", "LIP-004", "--engine", "ray",
                 "--ray-address", f"127.0.0.1:{port}", timeout=60)
    assert run.returncode == 1, run.stderr
    assert f"cannot join the Ray cluster at '127.0.0.1:{port}': nothing answers at 127.0.0.1:{port}" in run.stderr
    assert not (tmp_path / "o" / "renders").exists()
