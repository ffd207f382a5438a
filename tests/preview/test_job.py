"""preview_catalog end to end on the local engine: outputs, index, resume, bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from arlens.catalog import Catalog
from arlens.errors import CatalogError, InputError
from arlens.preview import PreviewOptions, preview_catalog
from arlens.session import UnknownProductError
from tests.preview.conftest import PRODUCT_IDS, small
from tests.support import DATA

FAST = PreviewOptions(workers=2, batch_size=4)


def load_index(out: Path) -> dict:
    return json.loads((out / "index.json").read_text())


def renders(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["photo"], r["product"]): r for r in load_index(out)["renders"]}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, photo_dir, catalog):
    """One run on every test photo, plus a photo without a face, an unreadable file and an unknown product."""
    photos = tmp_path_factory.mktemp("in")
    for p in photo_dir.iterdir():
        (photos / p.name).write_bytes(p.read_bytes())
    astronaut = cv2.imread(str(DATA / "astronaut.png"))
    cv2.imwrite(str(photos / "suit.png"), small(astronaut[300:, 250:]))  # her space suit: no face, no hand
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path_factory.mktemp("out")
    report = preview_catalog(photos, out, catalog=catalog, products=[*PRODUCT_IDS, "NOPE-1"], options=FAST)
    return photos, out, report


def test_every_face_product_is_rendered_on_every_portrait(first_run, catalog):
    photos, out, report = first_run
    index = load_index(out)
    faces = {p["photo"]: p for p in index["photos"]}
    found = renders(out)
    portraits = [name for name, rec in faces.items() if rec.get("faces")]
    assert {"astronaut", "grace_hopper"} <= set(portraits)
    for photo in portraits:
        for pid in ("LIP-004", "LIP-012", "EYE-101"):
            rec = found[(photo, pid)]
            assert rec["path"] == f"renders/{photo}/{pid}.png"
            data = (out / rec["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == rec["sha256"] and len(data) == rec["bytes"]
            assert rec["faces"] == faces[photo]["faces"] >= 1
            assert rec["seconds"] > 0 and rec["time"].endswith("Z")
    assert report.rendered == len(found)
    assert report.up_to_date == 0 and not report.failed


def test_a_render_changes_the_lips_and_nothing_far_from_the_face(first_run):
    photos, out, _ = first_run
    index = load_index(out)
    box = next(p for p in index["photos"] if p["photo"] == "astronaut")["face_boxes"][0]
    original = cv2.imread(str(photos / "astronaut.png"))
    red = cv2.imread(str(out / "renders/astronaut/LIP-004.png"))
    assert red.shape == original.shape
    changed = np.any(red != original, axis=2)
    ys, xs = np.nonzero(changed)
    assert len(ys) > 50  # lips painted
    x0, y0, x1, y1 = box
    assert xs.min() >= x0 - 2 and xs.max() <= x1 + 2 and ys.min() >= y0 and ys.max() <= y1 + 2
    assert ys.mean() > (y0 + y1) / 2  # the lower half of the face: the mouth


def test_photos_without_a_face_are_listed_with_the_reason(first_run):
    _, out, report = first_run
    photos = {p["photo"]: p for p in load_index(out)["photos"]}
    assert photos["suit"]["faces"] == 0 and photos["suit"]["reason"] == "no face found in the photo"
    assert not (out / "renders" / "suit").exists()
    not_drawn = {(p.photo, p.product) for p in report.not_drawn}
    assert {("suit", "LIP-004"), ("suit", "EYE-101")} <= not_drawn
    assert ("astronaut", "NAIL-202") in not_drawn  # a portrait shows no hand


def test_nail_polish_is_drawn_on_the_hand_photo(first_run):
    _, out, _ = first_run
    photos = {p["photo"]: p for p in load_index(out)["photos"]}
    if "open_palm" not in photos:
        pytest.skip("hands/open_palm.jpg not in the shared test data (set ARLENS_TESTDATA)")
    assert photos["open_palm"]["hands"] >= 1
    assert ("open_palm", "NAIL-202") in renders(out)
    assert ("open_palm", "LIP-004") not in renders(out)


def test_bad_photo_and_unknown_product_are_reported_and_skipped(first_run):
    _, out, report = first_run
    assert [p.photo for p in report.bad_photos] == ["broken"]
    assert report.bad_photos[0].reason.startswith("unreadable photo: expected an image")
    assert report.unknown_products == ("NOPE-1",)
    index = load_index(out)
    assert next(p for p in index["photos"] if p["photo"] == "broken")["reason"].startswith("unreadable photo")
    assert index["run"]["unknown_products"] == ["NOPE-1"]
    assert not report.ok
    line = report.summary()
    assert "unknown product" in line and "unreadable photo" in line and "images/s" in line


def test_sheets_per_product_and_per_photo_kind(first_run):
    _, out, _ = first_run
    found = renders(out)
    sheet = cv2.imread(str(out / "sheets/products/LIP-004.png"))
    n = sum(1 for (_, pid) in found if pid == "LIP-004")
    assert sheet is not None and sheet.shape[1] >= min(n, 6) * 240
    lips = cv2.imread(str(out / "sheets/photos/astronaut/lipstick.png"))
    assert lips is not None and lips.shape[1] >= 3 * 240  # as shot + two shades
    assert (out / "sheets/photos/astronaut/eyewear.png").is_file()
    index = load_index(out)
    sheets = {s["path"] for s in index["sheets"]}
    assert {"sheets/products/LIP-004.png", "sheets/photos/astronaut/lipstick.png"} <= sheets


def test_a_second_run_renders_nothing(first_run, catalog, tmp_path):
    photos, first_out, _ = first_run
    # on a copy: the other tests read the first run's index, which a second run would rewrite (in another order
    # the unknown product the first run reported was gone)
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    before = renders(out)
    report = preview_catalog(photos, out, catalog=catalog, products=list(PRODUCT_IDS), options=FAST)
    assert report.rendered == 0 and report.up_to_date == len(before)
    assert renders(out) == before


def test_resume_renders_exactly_the_missing_and_the_stale(tmp_path, portraits, catalog):
    out = tmp_path / "out"
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in portraits.iterdir():
        (photos / p.name).write_bytes(p.read_bytes())
    first = preview_catalog(photos, out, catalog=catalog, options=FAST)
    before = renders(out)
    assert first.rendered == len(before) == 6  # 2 portraits x (2 lipsticks + glasses)

    (out / before[("astronaut", "EYE-101")]["path"]).unlink()  # missing
    recoloured = [p if p.id != "LIP-012" else _with(p, color="#2255AA") for p in catalog]  # stale on both photos
    repriced = [p if p.id != "LIP-004" else _with(p, price="99.00 USD") for p in recoloured]  # not stale
    grace = cv2.imread(str(photos / "grace_hopper.jpg"))
    cv2.imwrite(str(photos / "grace_hopper.jpg"), cv2.convertScaleAbs(grace, alpha=0.8))  # a retouched photo

    second = preview_catalog(photos, out, catalog=Catalog(repriced), options=FAST)
    after = renders(out)
    redone = {k for k in after if after[k]["time"] != before[k]["time"]}
    assert redone == {("astronaut", "EYE-101"), ("astronaut", "LIP-012"), ("grace_hopper", "LIP-004"),
                      ("grace_hopper", "LIP-012"), ("grace_hopper", "EYE-101")}
    assert second.rendered == 5 and second.up_to_date == 1
    blue = cv2.imread(str(out / "renders/astronaut/LIP-012.png"))
    old_pink = cv2.imread(str(out / before[("astronaut", "LIP-004")]["path"]))
    assert blue is not None and old_pink is not None


def _with(product, **changes):
    import dataclasses

    return dataclasses.replace(product, **changes)


def test_a_feed_error_stops_before_any_work(tmp_path, portraits):
    feed = tmp_path / "bad.csv"
    feed.write_text("id,title,link,price\nA1,Red,https://shop.example/a,abc\nA2,Rose,javascript:x,9.00 USD\n")
    out = tmp_path / "out"
    with pytest.raises(CatalogError) as err:
        preview_catalog(portraits, out, catalog=feed, options=FAST)
    assert len(err.value.problems) == 2 and {p.line for p in err.value.problems} == {2, 3}
    assert not out.exists()


def test_bad_requests_fail_before_any_work(tmp_path, portraits, catalog):
    out = tmp_path / "out"
    with pytest.raises(UnknownProductError, match="NOPE"):
        preview_catalog(portraits, out, catalog=catalog, products=["NOPE"], options=FAST)
    with pytest.raises(InputError, match="kind"):
        preview_catalog(portraits, out, catalog=catalog, kinds=["paint"], options=FAST)
    with pytest.raises(InputError, match="photos"):
        preview_catalog(tmp_path / "nowhere", out, catalog=catalog, options=FAST)
    with pytest.raises(InputError, match="workers"):
        preview_catalog(portraits, out, catalog=catalog, workers=0)
    assert not out.exists()
