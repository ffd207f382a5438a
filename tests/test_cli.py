"""The ``arlens`` command, run as a real subprocess: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support import DATA, ROOT, read_image

ARLENS = shutil.which("arlens")
COMMAND = [ARLENS] if ARLENS else [sys.executable, "-m", "arlens"]


def arlens(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 300):
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def assert_one_line_error(run, code: int, fragment: str) -> None:
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("arlens: error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    return read_image("faces/astronaut.png")


@pytest.fixture(scope="module")
def work(tmp_path_factory, portrait) -> Path:
    """A folder with the portrait, a short video made from it, a malformed feed and an unreadable image."""
    d = tmp_path_factory.mktemp("cli")
    cv2.imwrite(str(d / "face.png"), portrait)
    h, w = portrait.shape[:2]
    writer = cv2.VideoWriter(str(d / "clip.mp4"), cv2.VideoWriter.fourcc(*"mp4v"), 12, (w, h))
    for i in range(12):
        m = np.float32([[1, 0, 2 * np.sin(i / 3)], [0, 1, 0]])
        writer.write(cv2.warpAffine(portrait, m, (w, h), borderMode=cv2.BORDER_REPLICATE))
    writer.release()
    (d / "bad.csv").write_text(
        "id,title,link,price\n"
        "A1,Red,https://shop.example/a,abc\n"  # price
        "A2,Rose,https://shop.example/b,9.00 USD\n"
        "A2,Rose,https://shop.example/c,9.00 USD\n"  # duplicate id
        "A3,Blue,javascript:alert(1),9.00 USD\n"  # link
    )
    (d / "garbage.png").write_bytes(b"this is not an image")
    from tests.test_image import _png

    (d / "bomb.png").write_bytes(_png(10_000, 10_000))  # 100 MP declared in 80 bytes
    cv2.imwrite(str(d / "strip.png"), np.zeros((2, 40_000, 3), np.uint8))  # past OpenCV's remap limit
    (d / "notes.txt").write_text("not a video")
    return d


def _lips_and_far(portrait: np.ndarray, out: np.ndarray, q: float = 100) -> tuple[float, float]:
    """Share of lip-box pixels changed, and the ``q``-th percentile of the change far from the face."""
    from arlens import FaceTracker
    from arlens import landmarks as L

    with FaceTracker() as tracker:
        face = tracker.detect(portrait)[0]
    lips = face.landmarks[list(L.lips_outer()), :2]
    x0, y0 = np.floor(lips.min(axis=0)).astype(int)
    x1, y1 = np.ceil(lips.max(axis=0)).astype(int)
    diff = np.abs(out.astype(int) - portrait.astype(int)).max(axis=2)
    far = np.ones(diff.shape, bool)
    fx0, fy0, fx1, fy1 = face.bbox.astype(int)
    far[max(fy0 - 40, 0) : fy1 + 40, max(fx0 - 40, 0) : fx1 + 40] = False
    return float((diff[y0:y1, x0:x1] > 10).mean()), float(np.percentile(diff[far], q))


def test_executable_and_module_entry_points():
    assert ARLENS is not None, "the arlens console script is not installed"
    run = subprocess.run([sys.executable, "-m", "arlens", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("arlens ")


@pytest.mark.parametrize(
    "command",
    [[], ["try"], ["video"], ["mirror"], ["catalog"], ["catalog", "validate"], ["catalog", "list"],
     ["catalog", "jsonld"], ["lens", "validate"], ["models", "verify"], ["demo"]],
)
def test_help_for_every_command(command):
    run = arlens(*command, "--help")
    assert run.returncode == 0, run.stderr
    assert "usage: arlens" in run.stdout and "exit codes:" in run.stdout


def test_try_renders_and_prints_product(work, portrait, tmp_path):
    out = tmp_path / "out" / "tryon.png"
    run = arlens("try", work / "face.png", "--product", "LIP-004", "--product", "EYE-102", "-o", out)
    assert run.returncode == 0, run.stderr
    assert "Classic Red Lipstick" in run.stdout and "24.00 USD" in run.stdout
    assert "utm_content=LIP-004" in run.stdout and "Meridian Rectangular Frames" in run.stdout
    image = cv2.imread(str(out))
    assert image is not None and image.shape == portrait.shape
    changed, far = _lips_and_far(portrait, image)
    assert changed > 0.2 and far == 0


def test_try_json_report(work, tmp_path):
    run = arlens("try", work / "face.png", "-p", "LIP-009", "-o", tmp_path / "o.jpg", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["faces"] == 1 and report["products"][0]["id"] == "LIP-009"
    x0, y0, x1, y1 = report["products"][0]["bbox"][0]
    assert 150 < x0 < x1 < 300 and 100 < y0 < y1 < 200  # the astronaut's lips


def test_try_without_a_face_warns(tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160, 3), 90, np.uint8))
    run = arlens("try", blank, "-p", "LIP-001", "-o", tmp_path / "o.png")
    assert run.returncode == 0 and "no face found" in run.stderr
    assert np.array_equal(cv2.imread(str(tmp_path / "o.png")), cv2.imread(str(blank)))


def test_video_keeps_rate_and_size(work, portrait, tmp_path):
    out = tmp_path / "out.mp4"
    run = arlens("video", work / "clip.mp4", "-o", out, "--product", "LIP-012")
    assert run.returncode == 0, run.stderr
    assert "frame/s" in run.stderr or "frames/s" in run.stderr  # tqdm's rate
    assert "12 frames" in run.stdout and "Fuchsia Pop" in run.stdout
    cap = cv2.VideoCapture(str(out))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(12, abs=0.01)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    assert len(frames) == 12 and frames[0].shape == portrait.shape
    src = cv2.VideoCapture(str(work / "clip.mp4")).read()[1]
    changed, far = _lips_and_far(src, frames[0], q=99)
    assert changed > 0.2 and far <= 6  # far pixels differ only by a second pass through the lossy codec


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["try", "{w}/face.png", "-p", "LIP-001"], 2, "required: -o/--output"),
        (["try", "{w}/face.png", "-p", "LIP-001", "-o", "{t}/o.png", "--frobnicate"], 2, "unrecognized arguments"),
        (["nonsense"], 2, "invalid choice"),
        ([], 2, "expected a command"),
        (["catalog"], 2, "expected an action"),
        (["try", "{w}/face.png", "-p", "LIP-001", "-o", "{t}/o.gif"], 2, "expected an image file"),
        (["mirror", "--headless", "--keys", "5:z"], 2, "FRAME:KEY"),
        (["mirror", "--headless", "--frames", "0"], 2, "expected a number >= 1"),
        (["try", "{w}/garbage.png", "-p", "LIP-001", "-o", "{t}/o.png"], 3, "cannot read image"),
        (["try", "{w}/missing.png", "-p", "LIP-001", "-o", "{t}/o.png"], 3, "no such file"),
        (["try", "{w}/bomb.png", "-p", "LIP-001", "-o", "{t}/o.png"], 3, "expected at most 50000000 pixels"),
        (["try", "{w}/strip.png", "-p", "LIP-001", "-o", "{t}/o.png"], 3, "below 32767 px"),
        (["video", "{w}/notes.txt", "-p", "LIP-001", "-o", "{t}/o.mp4"], 3, "cannot read video"),
        (["try", "{w}/face.png", "-p", "LIP-001", "--catalog", "{w}/bad.csv", "-o", "{t}/o.png"], 3,
         "invalid catalog"),
        (["catalog", "validate", "{w}/bad.csv"], 3, "invalid catalog"),
        (["catalog", "list", "{w}/missing.csv"], 3, "no such file"),
        (["lens", "validate", "{w}"], 3, "lens bundle"),
        (["try", "{w}/face.png", "-p", "NOPE-9", "-o", "{t}/o.png"], 4, "unknown product 'NOPE-9'"),
        (["video", "{w}/clip.mp4", "-p", "NOPE-9", "-o", "{t}/o.mp4"], 4, "unknown product 'NOPE-9'"),
        (["catalog", "jsonld", "-p", "NOPE-9"], 4, "unknown product 'NOPE-9'"),
        (["try", "{w}/face.png", "-p", "NAIL-201", "-p", "NOPE-9", "-o", "{t}/o.png"], 4, "NOPE-9"),
    ],
)
def test_errors_are_one_line_with_documented_codes(work, tmp_path, args, code, fragment):
    run = arlens(*[a.format(w=work, t=tmp_path) for a in args])
    assert_one_line_error(run, code, fragment)
    assert not (tmp_path / "o.png").exists()


def test_catalog_validate_lists_every_problem(work):
    run = arlens("catalog", "validate", work / "bad.csv")
    assert run.returncode == 3
    problems = run.stdout.strip().splitlines()
    assert len(problems) >= 3 and all("bad.csv:" in p for p in problems)  # price, duplicate id, link
    assert "price" in run.stdout and "duplicate" in run.stdout and "link" in run.stdout


def test_catalog_validate_list_and_jsonld_on_good_feeds():
    feed = ROOT / "assets" / "catalog.json"
    run = arlens("catalog", "validate", feed)
    assert run.returncode == 0 and run.stdout.startswith("ok:") and "23 products" in run.stdout
    meta = DATA / "feeds" / "meta_catalog.csv"
    if meta.is_file():
        assert arlens("catalog", "validate", meta).returncode == 0
    run = arlens("catalog", "list", "--kind", "eyewear", "--json")
    assert run.returncode == 0, run.stderr
    items = json.loads(run.stdout)
    assert [i["id"] for i in items] == ["EYE-101", "EYE-102", "EYE-103", "EYE-104"]
    assert items[0]["price"] == "139.00 USD" and "utm_content=EYE-101" in items[0]["buy_link"]
    run = arlens("catalog", "list")
    assert run.returncode == 0 and "LIP-001" in run.stdout and "NAIL-204" in run.stdout
    run = arlens("catalog", "jsonld", "--product", "LIP-004")
    doc = json.loads(run.stdout)
    assert doc["@type"] == "Product" and doc["sku"] == "LIP-004" and doc["offers"]["priceCurrency"] == "USD"


def test_models_verify():
    run = arlens("models", "verify")
    assert run.returncode == 0, run.stderr
    assert "face_landmark" in run.stdout and "models verified" in run.stdout


def test_mirror_headless_records_snapshots_and_events(work, tmp_path):
    events = tmp_path / "events.jsonl"
    run = arlens(
        "mirror", "--source", work / "clip.mp4", "--headless", "--frames", "30", "--record", tmp_path / "rec.mp4",
        "--keys", "4:d,8:b,12:s,16:right", "--snapshots", tmp_path / "snaps", "--events", events,
    )
    assert run.returncode == 0, run.stderr
    assert "mirror: 30 frames" in run.stdout and "2 shade changes" in run.stdout and "1 snapshots" in run.stdout
    pngs = list((tmp_path / "snaps").glob("*.png"))
    assert len(pngs) == 1 and pngs[0].with_suffix(".json").is_file()
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    types = [e["type"] for e in lines]
    assert types.count("shade_changed") == 2 and "buy_link_shown" in types and "snapshot_taken" in types
    cap = cv2.VideoCapture(str(tmp_path / "rec.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 30


def test_mirror_window_without_a_display_is_a_clear_error(work):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    run = arlens("mirror", "--source", work / "clip.mp4", "--frames", "3", env=env)
    assert_one_line_error(run, 1, "--headless")


def test_demo_writes_images_sheet_and_page(tmp_path):
    out = tmp_path / "demo"
    run = arlens("demo", "-o", out, timeout=600)
    assert run.returncode == 0, run.stderr
    assert str((out / "index.html").resolve()) in run.stdout and "contact_sheet.png" in run.stdout
    assert "skipped NAIL-201" in run.stdout
    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[0] > 1000
    page = (out / "index.html").read_text()
    for pid in ("LIP-001", "LIP-015", "EYE-101", "EYE-103"):
        assert f'id="{pid}"' in page and f"utm_content={pid}" in page
        assert (out / "qr" / f"{pid}.png").is_file()
        full = cv2.imread(str(out / "tryon" / "sample_portrait" / f"{pid}.png"))
        assert full is not None and full.shape == (512, 512, 3)
    assert 'type="application/ld+json"' in page
    images = [p for p in (out / "tryon").rglob("*.png") if not p.stem.endswith("_face") and p.stem != "original"]
    assert len(images) == 2 * 18
    qr = cv2.imread(str(out / "qr" / "LIP-004.png"))
    assert "utm_content=LIP-004" in cv2.QRCodeDetector().detectAndDecode(qr)[0]
