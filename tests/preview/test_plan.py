"""Planning: which photos and products, and the hashes that decide what is stale."""

from __future__ import annotations

import dataclasses

import pytest

from arlens.catalog import Catalog
from arlens.errors import InputError
from arlens.lenses.registry import default_registry
from arlens.preview import PreviewOptions
from arlens.preview import plan as P


def test_photos_from_a_folder_a_glob_and_files(tmp_path):
    for name in ("b.jpg", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.jpg").write_bytes(b"x")
    assert [p.name for p in P.find_photos(tmp_path)] == ["a.png", "b.jpg"]  # images directly in it
    assert [p.name for p in P.find_photos(f"{tmp_path}/**/*.jpg")] == ["b.jpg", "c.jpg"]
    assert [p.name for p in P.find_photos([tmp_path / "b.jpg", f"{tmp_path}/*.jpg"])] == ["b.jpg"]  # no repeats


@pytest.mark.parametrize("bad", ["missing-folder", "*.nothing-matches", []])
def test_photos_that_are_not_there_are_an_input_error(tmp_path, bad):
    arg = bad if bad == [] else str(tmp_path / bad)
    with pytest.raises(InputError, match="photos"):
        P.find_photos(arg)


def test_empty_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no image files"):
        P.find_photos(tmp_path)


def test_names_are_file_safe_and_colliding_stems_get_a_stable_suffix():
    names = P.unique_names(["/a/x.jpg", "/b/x.png", "/c/y z.jpg"], ["x", "x", "y z"])
    assert names[2] == "y_z"
    assert names[0] != names[1] and all(n.startswith("x-") for n in names[:2])
    # the name of a photo does not depend on the others unless they collide
    assert P.unique_names(["/c/y z.jpg"], ["y z"]) == ["y_z"]
    assert P.unique_names(["/a/x.jpg", "/b/x.png"], ["x", "x"]) == names[:2]


def test_unreadable_and_empty_photos_get_a_reason_not_a_hash(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "ok.png").write_bytes(b"123")
    sources = {s.name: s for s in P.photo_sources([tmp_path / "empty.png", tmp_path / "ok.png"])}
    assert sources["empty"].error == "unreadable photo: the file is empty" and sources["empty"].sha256 == ""
    assert sources["ok"].error is None and len(sources["ok"].sha256) == 64


def test_selection_keeps_catalog_order_and_reports_unknown_and_undrawable():
    catalog = Catalog.default()
    registry = default_registry()
    sel = P.select_products(catalog, registry, ["EYE-101", "NOPE", "LIP-002", "EYE-101"])
    assert [p.id for p in sel.products] == ["LIP-002", "EYE-101"] and sel.unknown == ("NOPE",)
    sel = P.select_products(catalog, registry, kinds=["eyewear"])
    assert [p.id for p in sel.products] == ["EYE-101", "EYE-102", "EYE-103", "EYE-104"]
    with pytest.raises(InputError, match="expected one of"):
        P.select_products(catalog, registry, kinds=["eyeliner-pencil"])
    from arlens.lenses.registry import BUILTIN, LensRegistry

    blush = dataclasses.replace(catalog["LIP-001"], id="BL-1", kind="blush")
    no_blush = LensRegistry([s for s in BUILTIN if s.kind != "blush"])  # every built-in kind is drawn now
    sel = P.select_products(Catalog([blush]), no_blush)
    assert sel.products == () and sel.skipped[0][0] == "BL-1" and "no lens draws blush" in sel.skipped[0][1]


def test_product_hash_follows_what_the_lens_reads_not_the_price():
    catalog = Catalog.default()
    spec = default_registry()["lipstick"]
    red = catalog["LIP-004"]
    h = P.product_hash(red, spec, catalog)
    assert P.product_hash(dataclasses.replace(red, price="99.00 USD", title="Other"), spec, catalog) == h
    for change in ({"color": "#B3121E"}, {"finish": "gloss"}, {"opacity": 0.5}):
        assert P.product_hash(dataclasses.replace(red, **change), spec, catalog) != h, change


def test_makeup_hash_covers_the_pattern_and_the_palette():
    catalog = Catalog.default()
    spec = default_registry()["eyeshadow"]
    trio = catalog["EYS-002"]
    h = P.product_hash(trio, spec, catalog)
    assert P.product_hash(dataclasses.replace(trio, price="99.00 USD"), spec, catalog) == h
    darker = "#E6C19C shimmer 0.55; #B0694A matte 0.6; #3A2018 matte 0.75"
    assert P.product_hash(dataclasses.replace(trio, palette=darker), spec, catalog) != h
    duo = dataclasses.replace(trio, pattern="eyeshadow/lid-crease", palette=darker.rsplit(";", 1)[0])
    assert P.product_hash(duo, spec, catalog) != h


def test_eyewear_hash_covers_the_model_file(tmp_path):
    catalog = Catalog.default()
    spec = default_registry()["eyewear"]
    glasses = catalog["EYE-101"]
    h = P.product_hash(glasses, spec, catalog)
    (tmp_path / "eyewear").mkdir()
    model = tmp_path / "eyewear" / "round.glb"
    model.write_bytes(catalog.model_path(glasses).read_bytes())
    elsewhere = Catalog([glasses], base_dir=tmp_path)
    assert P.product_hash(glasses, spec, elsewhere) == h  # same bytes
    model.write_bytes(model.read_bytes() + b"\0")
    assert P.product_hash(glasses, spec, elsewhere) != h  # the model changed: its renders are stale


def test_settings_hash_changes_with_what_changes_pixels_only():
    base = P.settings_hash(PreviewOptions())
    assert P.settings_hash(PreviewOptions(workers=7, engine="ray", batch_size=3)) == base
    assert P.settings_hash(PreviewOptions(max_faces=2)) != base
    assert P.settings_hash(PreviewOptions(fov_y_deg=50)) != base


@pytest.mark.parametrize("field,value", [("engine", "spark"), ("workers", 0), ("batch_size", -1), ("fov_y_deg", 0),
                                         ("lipstick_backend", "gl"), ("thumb_size", 8), ("ray_address", "auto")])
def test_bad_options_are_refused_when_built(field, value):
    with pytest.raises(InputError, match=f"PreviewOptions.{field}"):
        PreviewOptions(**{field: value})


def test_importing_the_preview_loads_no_runtime_gl_or_ray():
    import subprocess
    import sys

    code = ("import sys, arlens, arlens.preview, arlens.cli.preview; "
            "print(sorted(m for m in ('ray', 'onnxruntime', 'moderngl', 'cv2', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_photos_inside_the_output_folder_are_left_out(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "out" / "renders" / "a").mkdir(parents=True)
    (tmp_path / "out" / "renders" / "a" / "LIP-001.png").write_bytes(b"x")
    found = P.find_photos(f"{tmp_path}/**/*.png")
    assert len(found) == 2
    assert [p.name for p in P.without_outputs(found, tmp_path / "out")] == ["a.png"]
    with pytest.raises(InputError, match="inside the output folder"):
        P.without_outputs(found[1:], tmp_path / "out")
