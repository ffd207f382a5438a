"""The ``arlens`` command, run as a real subprocess: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import logging
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
    (d / "notavideo.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 and then nothing a decoder can use" * 10)
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
    assert "5  nothing to draw on" in run.stdout  # the code a script tells apart from success


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


def test_try_without_a_face_says_so_and_exits_5(tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160, 3), 90, np.uint8))
    run = arlens("try", blank, "-p", "LIP-001", "-o", tmp_path / "o.png")
    assert run.returncode == 5, (run.stdout, run.stderr)
    assert "no face found in" in run.stderr and "LIP-001 (lipstick) is worn on a face" in run.stderr
    assert "Traceback" not in run.stderr
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
    # far pixels differ only by a second lossy encoding (mp4v in, H.264 4:2:0 at CRF 18 out: the 99th percentile
    # of the change is 8 levels on this clip, from chroma subsampling at sharp colour edges)
    assert changed > 0.2 and far <= 10


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
        (["mirror", "--headless", "--idle-seconds", "-1"], 2, "--idle-seconds: expected a finite number of seconds"),
        (["mirror", "--headless", "--idle-seconds", "nan"], 2, "expected a finite number of seconds > 0, got nan"),
        (["mirror", "--headless", "--qr-seconds", "0"], 2, "--qr-seconds: expected a finite number of seconds > 0"),
        (["mirror", "--headless", "--qr-seconds", "inf"], 2, "expected a finite number of seconds > 0"),
        (["serve", "--max-upload-mb", "inf"], 2, "--max-upload-mb: expected a finite number of MiB > 0, got inf"),
        (["serve", "--max-megapixels", "lots"], 2, "--max-megapixels: expected a number of megapixels, got 'lots'"),
        (["serve", "--share-ttl-hours", "0"], 2, "--share-ttl-hours: expected a finite number of hours > 0, got 0"),
        (["mirror", "--headless", "--source", "{w}/notavideo.mp4", "--frames", "5"], 3,
         "notavideo.mp4: the source file cannot be opened as a video"),
        (["mirror", "--headless", "--source", "{w}/notavideo.mp4"], 3, "cannot read video"),
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
        (["try", "{w}/face.png", "-p", "LIP-04", "-o", "{t}/o.png"], 4, "(did you mean LIP-"),
        (["try", "{w}/face.png", "-p", "LIP-001", "-p", "lip-004", "-o", "{t}/o.png"], 2,
         "-p LIP-001 -p LIP-004: all lipstick; one product of each kind is worn at a time"),
        (["try", "{w}/face.png", "{w}/face.png", "-p", "LIP-001", "-o", "{t}/o.png"], 2, "need an output folder"),
        (["try", "{w}/nothing-*.png", "-p", "LIP-001", "-o", "{t}/o"], 3, "no files match"),
        (["try", "{w}/face.png", "-p", "LIP-001", "--max-faces", "0", "-o", "{t}/o.png"], 2, "--max-faces"),
        (["video", "{w}/clip.mp4", "-p", "LIP-001", "--max-faces", "x", "-o", "{t}/o.mp4"], 2, "--max-faces"),
        (["video", "{w}/clip.mp4", "-p", "LIP-001", "-o", "{t}/o.avi"], 2, "expected a video file ending in .mp4"),
        (["mirror", "--headless", "--max-faces", "0"], 2, "--max-faces"),
        (["catalog", "list", "--kind", "lipstik"], 2, "(did you mean 'lipstick'?)"),
        (["catalog", "jsonld", "-p", "EYE-1O1"], 4, "did you mean EYE-101"),
        (["demo", "-o", "{w}/face.png"], 2, "is a file, but the demo writes a folder"),
        (["demo", "--hand", "{w}/missing.jpg", "-o", "{t}/d"], 3, "cannot read image"),
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
    from arlens.catalog import Catalog

    demo = Catalog.default()
    assert run.returncode == 0 and run.stdout.startswith("ok:")
    assert f"{len(demo)} products, {len(demo.looks)} looks" in run.stdout
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


def test_mirror_summarizes_an_event_log_with_hostile_lines(work, tmp_path):
    """One hostile line ({"type": []}) lost the summary and made ``arlens mirror --events LOG`` exit 1."""
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": []}\n' + '{"type": "lens_shown", "session_id": "s", "product_id": "P", "n": ' +
                      "9" * 5000 + "}\n")
    run = arlens("mirror", "--source", work / "clip.mp4", "--headless", "--frames", "3", "--events", events)
    assert run.returncode == 0, run.stderr
    assert "(2 unreadable lines skipped)" in run.stdout


def test_mirror_blurs_the_background(work, tmp_path):
    run = arlens("mirror", "--source", work / "clip.mp4", "--headless", "--frames", "3", "--blur-background",
                 "--keys", "2:s", "--snapshots", tmp_path / "snaps")
    assert run.returncode == 0, run.stderr
    assert "mirror: 3 frames" in run.stdout and "0 errors" in run.stdout
    (png,) = (tmp_path / "snaps").glob("*.png")
    shot = cv2.imread(str(png))
    sharp = cv2.flip(cv2.imread(str(work / "face.png")), 1)  # the snapshot is mirrored
    assert shot.shape == sharp.shape
    # the background (the shuttle, left of the mirrored portrait) has lost its detail
    region = (slice(20, 230), slice(40, 140))
    detail = [float(np.abs(cv2.Laplacian(cv2.cvtColor(im[region], cv2.COLOR_BGR2GRAY), cv2.CV_32F)).mean())
              for im in (shot, sharp)]
    assert detail[0] < 0.4 * detail[1], detail


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
    from arlens.catalog import Catalog

    demo = Catalog.default()
    on_faces = [p for p in demo if p.kind is not None and p.kind.value != "nail_polish"]
    assert len(images) == 2 * (len(on_faces) + len(demo.looks))
    for kind in ("foundation", "eyeshadow", "brow", "blush", "looks"):
        assert cv2.imread(str(out / "sheets" / f"{kind}.png")) is not None, kind
    for look in demo.looks:
        assert f'id="{look.id}"' in page and str(look.total_price(demo)) in page
    assert '"@type": "ProductCollection"' in page
    qr = cv2.imread(str(out / "qr" / "LIP-004.png"))
    assert "utm_content=LIP-004" in cv2.QRCodeDetector().detectAndDecode(qr)[0]


# --- every product kind from the command line ----------------------------------------------------------------


@pytest.fixture(scope="module")
def hand_photo(work) -> Path:
    path = work / "hand.jpg"
    cv2.imwrite(str(path), read_image("hands/pointing.jpg"))
    return path


def test_try_nail_polish_reports_the_hands_it_found(hand_photo, tmp_path):
    out = tmp_path / "nails.png"
    run = arlens("try", hand_photo, "-p", "nail-202", "-o", out)  # IDs match without regard to case
    assert run.returncode == 0, run.stderr
    assert "NAIL-202" in run.stdout and f"wrote {out} (1 hand): NAIL-202 on 1 hand" in run.stdout
    assert "no face" not in run.stderr and run.stderr == ""
    changed = np.abs(cv2.imread(str(out)).astype(int) - cv2.imread(str(hand_photo))).max(axis=2) > 10
    assert changed.sum() > 300  # the nails are painted
    report = json.loads(arlens("try", hand_photo, "-p", "NAIL-202", "-o", out, "--json").stdout)
    assert report["hands"] == 1 and report["products"][0]["drawn_on"] == 1 and report["nothing_to_draw_on"] == []


def test_try_a_hand_product_on_a_face_says_which_target_it_needed(work, tmp_path):
    run = arlens("try", work / "face.png", "-p", "LIP-004", "-p", "NAIL-201", "-o", tmp_path / "o.png", "--json")
    assert run.returncode == 5, run.stderr
    assert "no hand found in" in run.stderr and "NAIL-201 (nail polish) is worn on a hand; written without it" \
        in run.stderr
    report = json.loads(run.stdout)
    assert (report["faces"], report["hands"], report["nothing_to_draw_on"]) == (1, 0, ["NAIL-201"])
    assert [p["drawn_on"] for p in report["products"]] == [1, 0]


def test_try_several_images_folders_and_globs(work, hand_photo, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), read_image("faces/grace_hopper.jpg"))
    cv2.imwrite(str(folder / "b.jpg"), read_image("faces/astronaut.png"))
    (folder / "notes.txt").write_text("not an image")  # a folder gives its images only
    out = tmp_path / "out"
    run = arlens("try", folder, work / "face.png", str(work / "hand.*"), "-p", "LIP-004", "-p", "NAIL-201",
                 "-o", out, "--json")
    assert run.returncode == 5, run.stderr  # the hand has no face and the faces no hand
    reports = json.loads(run.stdout)
    assert [Path(r["input"]).name for r in reports] == ["a.png", "b.jpg", "face.png", "hand.jpg"]
    assert [Path(r["output"]).name for r in reports] == ["a.png", "b.jpg", "face.png", "hand.jpg"]
    assert [(r["faces"], r["hands"]) for r in reports] == [(1, 0), (1, 0), (1, 0), (0, 1)]
    for r in reports:
        assert cv2.imread(r["output"]) is not None
    # the same without --json: one line per input
    text = arlens("try", folder, "-p", "LIP-004", "-o", out).stdout
    assert text.count("wrote ") == 2 and "(1 face): LIP-004 on 1 face" in text
    # an input that cannot be read is reported, the others are written, the exit code says so
    (folder / "broken.png").write_bytes(b"not a png")
    run = arlens("try", folder, "-p", "LIP-004", "-o", tmp_path / "out2")
    assert run.returncode == 3 and "cannot read image" in run.stderr and run.stdout.count("wrote ") == 2


def test_try_max_faces(portrait, tmp_path):
    # two close-ups side by side (two whole portraits side by side make faces too small for the short-range
    # detector's 128 px input)
    close = portrait[30:230, 125:325]
    pair = tmp_path / "pair.png"
    cv2.imwrite(str(pair), np.concatenate([close, close[:, ::-1]], axis=1))
    one = json.loads(arlens("try", pair, "-p", "LIP-004", "-o", tmp_path / "a.png", "--json").stdout)
    two = json.loads(arlens("try", pair, "-p", "LIP-004", "--max-faces", "2", "-o", tmp_path / "b.png",
                            "--json").stdout)
    assert one["faces"] == 1 and two["faces"] == 2 and two["products"][0]["drawn_on"] == 2


def test_video_is_h264_a_browser_plays_and_reports_the_size_written(work, portrait, tmp_path):
    import av

    odd = tmp_path / "odd.mkv"  # lossless FFV1 keeps an odd size (OpenCV's writers crop it to even)
    with av.open(str(odd), "w") as container:
        stream = container.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 327, 301, "bgr0"
        frame = av.VideoFrame.from_ndarray(cv2.resize(portrait, (327, 301)), format="bgr24")
        for _ in range(5):
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    assert cv2.VideoCapture(str(odd)).read()[1].shape == (301, 327, 3)
    for suffix, codec in ((".mp4", "h264"), (".webm", "vp9")):
        out = tmp_path / f"out{suffix}"
        run = arlens("video", odd, "-o", out, "-p", "LIP-004", "--max-faces", "2", "-q")
        assert run.returncode == 0, run.stderr
        assert "5 frames, 326x300 (cropped from 327x301" in run.stdout
        with av.open(str(out)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == codec and stream.codec_context.pix_fmt == "yuv420p"
            assert (stream.width, stream.height) == (326, 300)
            assert sum(1 for _ in container.decode(video=0)) == 5
    data = (tmp_path / "out.mp4").read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # the index first: playback starts while downloading


def test_video_with_nothing_to_draw_on_exits_5(work, tmp_path):
    run = arlens("video", work / "clip.mp4", "-o", tmp_path / "o.mp4", "-p", "NAIL-201", "-q")
    assert run.returncode == 5, run.stderr
    assert "no hand found in any frame" in run.stderr and "hands in 0 frames" in run.stdout


def test_catalog_list_into_a_closed_pipe_ends_quietly(tmp_path):
    products = [{"id": f"P-{i:05d}", "title": f"Shade {i}", "link": f"https://shop.example/p/{i}", "price": "9.00 USD",
                 "kind": "lipstick", "color": "#A01020"} for i in range(3000)]
    feed = tmp_path / "big.json"
    feed.write_text(json.dumps({"format": "arlens.catalog", "version": 1, "products": products}))
    command = " ".join(f"'{c}'" for c in COMMAND)
    for extra in ("--json", ""):
        run = subprocess.run(["bash", "-c", f"set -o pipefail; {command} catalog list '{feed}' {extra} | head -1"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 141, (run.returncode, run.stderr)  # as a Unix tool killed by SIGPIPE
        assert run.stderr == "" and len(run.stdout.splitlines()) == 1


def test_catalog_validate_warns_about_products_no_lens_draws(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text("id,title,link,price,arlens_kind,arlens_color,colour\n"
                    "SH-1,Smoky,https://shop.example/sh1,9.00 USD,eyeshadow,#333333,grey\n"
                    "BL-1,Peach,https://shop.example/bl1,9.00 USD,blush,#F0A080,peach\n"
                    "LIP-1,Red,https://shop.example/l1,9.00 USD,lipstick,#AA0000,red\n")
    run = arlens("catalog", "validate", feed)
    assert run.returncode == 0 and run.stdout.startswith("ok:")
    warnings = run.stderr.strip().splitlines()
    assert "[colour]: unknown column 'colour' is ignored; did you mean 'color'?" in warnings[0]
    assert "cannot be tried on" not in run.stderr  # every built-in kind has a lens (eyeshadow and blush too)
    typo = tmp_path / "typo.csv"
    typo.write_text("id,title,link,prce\nA,Red,https://shop.example/a,9.00 USD\n")
    run = arlens("catalog", "validate", typo)
    assert run.returncode == 3 and "unknown column 'prce', did you mean 'price'?" in run.stdout


def test_catalog_validate_warns_about_kinds_the_installed_lenses_lack(monkeypatch, capsys):
    """With a registry that lacks a kind (a plugin setup, or an older arlens), validate names its products."""
    from arlens.catalog import Catalog
    from arlens.cli import catalog as cli_catalog
    from arlens.lenses import registry as reg

    partial = reg.LensRegistry([s for s in reg.BUILTIN if s.kind not in ("eyeshadow", "blush")])
    monkeypatch.setattr(reg, "default_registry", lambda: partial)
    cli_catalog._warn_undrawable(Catalog.default())
    err = capsys.readouterr().err
    assert "6 eyeshadow products (EYS-001, EYS-002, EYS-003, EYS-004, EYS-005 and 1 more) cannot be tried on" in err
    assert "4 blush products" in err and "lipstick" not in err.split("lenses installed")[0]


def test_lens_validate_reports_schema_and_value_problems_in_one_run(tmp_path):
    bundle = tmp_path / "lens"
    (bundle / "meshes").mkdir(parents=True)
    (bundle / "meshes" / "round.glb").write_bytes(b"glTF" + bytes(64))
    (bundle / "lens.json").write_text(json.dumps({
        "format": "arlens.lens", "version": 1, "name": "Round", "kind": "eyewear", "colour": "red",
        "products": [{"id": "E-1", "title": "Round", "link": "https://shop.example/e1", "price": "99.00 XYZ",
                      "model": "meshes/round.glb", "frame_width_mm": 130}],
        "assets": [{"path": "meshes/round.glb", "role": "mesh"}],
    }))
    run = arlens("lens", "validate", bundle)
    assert run.returncode == 3
    assert "unknown field 'colour'" in run.stdout  # schema
    assert "products/0/price" in run.stdout and "XYZ" in run.stdout  # value
    assert "Traceback" not in run.stderr


def test_mirror_output_is_in_arlens_words(tmp_path):
    """No camera 97: OpenCV's own "[ERROR:0@0.1] ... Camera index out of range" lines stay out of the output,
    and each warning is printed once."""
    run = arlens("mirror", "--headless", "--camera", "97", "--frames", "3", "--max-faces", "2",
                 "--snapshots", tmp_path / "snaps")
    assert run.returncode == 0, run.stderr
    assert "mirror: 3 frames" in run.stdout
    lines = run.stderr.strip().splitlines()
    assert lines and all(line.startswith("arlens: ") for line in lines), run.stderr
    assert "camera" in run.stderr and "OpenCV" not in run.stderr and "[ERROR" not in run.stderr
    assert len(lines) == len(set(lines))


def test_a_missing_opengl_is_reported_once(monkeypatch, capsys, tmp_path, work):
    """Without EGL: the mirror says so once and runs on; the demo skips eyewear as one item and writes the rest."""
    from arlens.cli import main
    from arlens.errors import RuntimeUnavailableError
    from arlens.render import gl

    def no_egl(*args, **kwargs):
        raise RuntimeUnavailableError("could not create a headless OpenGL 3.3 context through 'egl' (test)")

    monkeypatch.setattr(gl, "create_context", no_egl)
    # main() sets up the "arlens" logger for a terminal and OpenCV's log level: restore both afterwards
    logger = logging.getLogger("arlens")
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setenv("OPENCV_LOG_LEVEL", os.environ.get("OPENCV_LOG_LEVEL", "INFO"))
    code = main(["mirror", "--headless", "--source", str(work / "clip.mp4"), "--frames", "6", "-p", "EYE-101",
                 "--snapshots", str(tmp_path / "snaps")])
    err = capsys.readouterr().err
    assert code == 0 and err.count("OpenGL") == 1, err
    assert err.startswith("arlens: warning: a product cannot be drawn on this machine")
    code = main(["demo", "-o", str(tmp_path / "demo"), "--portrait", str(work / "face.png")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count("OpenGL") == 1 and "skipped eyewear (EYE-101, EYE-102, EYE-103, EYE-104): cannot be drawn" in out
    assert "LIP-001" in (tmp_path / "demo" / "index.html").read_text()


def test_demo_with_own_photos_and_feed_covers_every_kind(work, hand_photo, tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "id,title,link,price,arlens_kind,arlens_color,arlens_finish,arlens_model,arlens_frame_width_mm\n"
        "L-1,Ruby Lipstick,https://shop.example/l1,19.00 USD,lipstick,#9E1B32,satin,,\n"
        "N-1,Berry Polish,https://shop.example/n1,9.00 USD,nail_polish,#6B1E3A,gloss,,\n"
        "E-1,Round Frames,https://shop.example/e1,99.00 USD,eyewear,,,round.glb,138\n"
    )
    portrait = tmp_path / "my_portrait-1.png"
    cv2.imwrite(str(portrait), read_image("faces/grace_hopper.jpg"))
    out = tmp_path / "demo"
    run = arlens("demo", "-o", out, "--portrait", portrait, "--hand", hand_photo, "--catalog", feed, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "3 products on 1 portrait and 1 hand photo" in run.stdout and "skipped" not in run.stdout
    page = (out / "index.html").read_text()
    for pid in ("L-1", "N-1", "E-1"):
        assert f'id="{pid}"' in page
    assert "<figcaption>My portrait 1</figcaption>" in page and "<figcaption>Hand</figcaption>" in page
    assert page.count("<span>Before</span>") == page.count("<span>After</span>") == 3
    assert (out / "tryon" / "hand" / "N-1.png").is_file() and (out / "tryon" / "hand" / "original_face.png").is_file()


def test_demo_page_fits_a_phone(tmp_path, work, hand_photo):
    """At 420 px wide (a phone) the page must not scroll sideways and every QR code must be on screen."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium to lay the page out (apt-get install chromium)")
    out = tmp_path / "demo"
    run = arlens("demo", "-o", out, "--portrait", work / "face.png", "--portrait", work / "face.png", "--hand",
                 hand_photo)  # two portraits side by side were what overflowed
    assert run.returncode == 0, run.stderr
    # the page in a 420 px wide frame (Chromium's own window has a minimum width above that)
    (out / "probe.html").write_text(
        '<!doctype html><html><body style="margin:0"><iframe id="f" src="index.html" '
        'style="width:420px;height:900px;border:0"></iframe><script>'
        "document.getElementById('f').addEventListener('load',()=>{"
        "const d=document.getElementById('f').contentDocument.documentElement;document.title=JSON.stringify("
        "{scroll:d.scrollWidth,client:d.clientWidth,qr:[...d.querySelectorAll('.qr img')].map(i=>{"
        "const r=i.getBoundingClientRect();return [r.left,r.right,r.width]})})})</script></body></html>"
    )
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=5000", "--dump-dom", (out / "probe.html").as_uri()],
                         capture_output=True, text=True, timeout=120)
    title = run.stdout.split("<title>", 1)[1].split("</title>", 1)[0]
    layout = json.loads(title.replace("&quot;", '"'))
    assert layout["client"] <= 420 and layout["scroll"] <= layout["client"], layout  # no sideways scroll
    assert layout["qr"] and all(0 <= left and right <= layout["client"] and width >= 140
                                for left, right, width in layout["qr"]), layout


def test_cuda_fallback_is_one_warning(work, tmp_path):
    """Without onnxruntime-gpu, --device cuda runs on the CPU and says so once (not once per model)."""
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this ONNX Runtime has CUDA: there is no fallback to report")
    run = arlens("try", work / "face.png", "-p", "LIP-004", "--device", "cuda", "-o", tmp_path / "o.png")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("arlens: warning: ONNX Runtime providers CUDAExecutionProvider")
    assert "arlens[gpu]" in lines[0]


def test_try_a_look_and_its_errors(work, tmp_path):
    out = tmp_path / "look.png"
    run = arlens("try", work / "face.png", "--look", "LOOK-GLAM", "--product", "EYE-101", "-o", out, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    from arlens.catalog import Catalog

    look = Catalog.default().look("LOOK-GLAM")
    ids = [p["id"] for p in report["products"]]
    assert set(ids) == {*look.product_ids, "EYE-101"} and ids[-1] == "EYE-101"  # make-up first, glasses on top
    assert report["look"]["id"] == "LOOK-GLAM" and report["look"]["total"] == str(look.total_price(Catalog.default()))
    assert all(p["bbox"] for p in report["products"])  # every product has its hotspot
    assert cv2.imread(str(out)).shape == read_image("faces/astronaut.png").shape
    assert_one_line_error(arlens("try", work / "face.png", "--look", "NOPE", "-o", out), 4, "unknown look 'NOPE'")
    assert_one_line_error(arlens("try", work / "face.png", "-o", out), 2, "--product ID or --look ID")


def test_catalog_jsonld_of_a_look():
    run = arlens("catalog", "jsonld", "--look", "LOOK-DAY")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["@type"] == "ProductCollection" and len(doc["includesObject"]) == 7
    assert_one_line_error(arlens("catalog", "jsonld", "--look", "NOPE"), 4, "unknown look")


def test_mirror_headless_puts_on_looks(work, tmp_path):
    events = tmp_path / "events.jsonl"
    run = arlens("mirror", "--source", work / "clip.mp4", "--headless", "--frames", "12", "--look", "LOOK-DAY",
                 "--keys", "4:l,8:k", "--events", events, "--no-gestures")
    assert run.returncode == 0, run.stderr
    assert "0 errors" in run.stdout
    applied = [json.loads(line) for line in events.read_text().splitlines()
               if json.loads(line)["type"] == "look_applied"]
    assert [e["product_id"] for e in applied] == ["LOOK-DAY", "LOOK-GLAM"]


@pytest.mark.parametrize("extra", [(), ("--tracking-process",), ("--tracking-process", "--read-ahead")],
                         ids=["thread", "process", "process-read-ahead"])
def test_mirror_pipelined(work, tmp_path, extra):
    run = arlens("mirror", "--source", work / "clip.mp4", "--headless", "--frames", "8", "--pipelined", *extra,
                 "-p", "LIP-001", "--snapshots", tmp_path / "snaps")
    assert run.returncode == 0, run.stderr
    assert "mirror: 8 frames" in run.stdout and "0 errors" in run.stdout
