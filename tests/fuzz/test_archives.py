"""Fuzz: lens bundles (zip archives and their lens.json) and eyewear models (GLB, glTF JSON, OBJ): a loaded
value or BundleError / AssetError, within time and memory bounds, whatever the entries, sizes, compression,
manifest or mesh structure."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from arlens.catalog.bundle import BundleLimits, LensBundle
from arlens.errors import AssetError, BundleError
from arlens.lenses.eyewear_asset import ImportOptions, import_eyewear
from arlens.resources import assets_dir
from tests.fuzz.conftest import bounded, budget

GLB = (assets_dir() / "eyewear" / "round.glb").read_bytes()
NAMES = ["lens.json", "meshes/round.glb", "../evil", "/abs", "a\\b", "c:x", "dir/", "dir/../x", "x\x00y", "",
         ".", "__MACOSX/junk", "textures/t.png", "meshes/round.glb", "\u202e.glb", "a" * 300]


def manifest(mutate) -> bytes:
    doc = {"format": "arlens.lens", "version": 1, "name": "Round", "kind": "eyewear",
           "products": [{"id": "EYE-1", "title": "Round", "link": "https://shop.example/e", "price": "99.00 EUR",
                         "model": "meshes/round.glb", "frame_width_mm": 132}],
           "assets": [{"path": "meshes/round.glb", "role": "mesh"}]}
    mutate(doc)
    return json.dumps(doc).encode()


MUTATIONS = [
    lambda d: None,
    lambda d: d.pop("products"),
    lambda d: d.update(products=[{}]),
    lambda d: d.update(kind="eyewear" * 50),
    lambda d: d.update(version=2),
    lambda d: d["products"][0].update(price={"amount": "1e999999999", "currency": "EUR"}),
    lambda d: d["products"][0].update(link="https://[evil.example]/"),
    lambda d: d["products"][0].update(title="\ud800"),
    lambda d: d.update(render={"x": json.loads("[" * 40 + "]" * 40)}),
    lambda d: d.update(assets=[{"path": "meshes/round.glb", "role": "mesh", "sha256": "0" * 64}]),
    lambda d: d.update(assets=[{"path": "../x", "role": "mesh"}] * 3),
    lambda d: d.update(extra=1),
]


@st.composite
def zips(draw):
    """A zip's recipe (so a failing case prints short): entries with random names, sizes, compression, types
    and a possibly mutated lens.json; then damage: bytes flipped, flags or methods rewritten, the end record's
    counts changed, or the file cut short."""
    entries = []
    for _ in range(draw(st.integers(0, 6))):
        entries.append((draw(st.sampled_from(NAMES)), draw(st.integers(0, len(MUTATIONS) - 1)),
                        draw(st.sampled_from(["", "x", "zeros", "bytes"])),
                        draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                              zipfile.ZIP_LZMA])),
                        draw(st.sampled_from([0, 0o100644 << 16, 0o120777 << 16, 0o010644 << 16]))))
    damage = draw(st.sampled_from(["none", "none", "flip", "flags", "count", "truncate"]))
    detail = {"flip": lambda: draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                                            max_size=10)),
              "flags": lambda: (draw(st.sampled_from([1, 0x41, 8])), draw(st.sampled_from([99, 6, 8]))),
              "count": lambda: draw(st.sampled_from([0, 1, 0xFFFF, 300])),
              "truncate": lambda: draw(st.floats(0, 1)),
              "none": lambda: None}[damage]()
    return entries, damage, detail


def build_zip(recipe) -> bytes:
    entries, damage, detail = recipe
    payloads = {"": b"", "x": b"x", "zeros": b"\0" * 300_000, "bytes": bytes(range(256)) * 100}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, mutation, payload, method, attr in entries:
            if name == "lens.json":
                data = manifest(MUTATIONS[mutation])
            elif name.endswith(".glb"):
                data = GLB
            else:
                data = payloads[payload]
            info = zipfile.ZipInfo(name or "x")
            info.compress_type = method
            info.external_attr = attr
            try:
                zf.writestr(info, data)
            except (ValueError, OSError):
                pass
    data = bytearray(buf.getvalue())
    if damage == "flip" and data:
        for at, value in detail:
            data[at % len(data)] = value
    elif damage == "flags":  # encryption bit / unknown method on the first central entry
        at = data.find(b"PK\x01\x02")
        if at >= 0:
            struct.pack_into("<HH", data, at + 8, *detail)
    elif damage == "count":
        at = data.rfind(b"PK\x05\x06")
        if at >= 0:
            struct.pack_into("<HH", data, at + 8, detail, detail)
    elif damage == "truncate":
        data = data[: int(len(data) * detail)]
    return bytes(data)


@budget(examples=150, deadline_ms=10_000)
@given(zips())
@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zipfile, writing the recipe's repeated names
def test_a_zip_is_a_bundle_or_a_bundle_error(tmp_path_factory, recipe):
    path = tmp_path_factory.mktemp("bundle") / "b.zip"
    path.write_bytes(build_zip(recipe))
    limits = BundleLimits(max_entries=8, max_file_bytes=256 * 1024, max_total_bytes=1024 * 1024)
    with bounded(max_mb=32):
        try:
            bundle = LensBundle.load(path, limits=limits)
        except BundleError as exc:
            assert exc.problems
            return
    assert bundle.products and all(len(bundle.read(a.path)) == a.size for a in bundle.assets)


# --- eyewear models -----------------------------------------------------------------------------------------


def _glb_parts(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20 : 20 + n]), data[20 + n + 8 :]


def _glb(doc: dict, binary: bytes) -> bytes:
    body = json.dumps(doc).encode()
    body += b" " * (-len(body) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(body), 0x4E4F534A) + body + struct.pack("<II", len(binary), 0x004E4942) + binary
    return b"glTF" + struct.pack("<II", 2, 12 + len(chunks)) + chunks


DOC, BINARY = _glb_parts(GLB)
VALUES = [0, 1, -1, 2**31, 10**12, 0.5, None, "x", [], {}, [0, 0, 0], [0.0] * 16, [1e308] * 3, [float("nan")] * 4]


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:4]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


PATHS = list(_paths(DOC))


@st.composite
def models(draw):
    """A model's recipe (so a failing case prints short): the demo GLB with its JSON changed at random paths
    (counts, indices, transforms, modes, names, images), or bytes flipped, or cut short; or random OBJ lines."""
    kind = draw(st.sampled_from(["json", "json", "json", "bytes", "truncate", "obj"]))
    if kind == "obj":
        lines = draw(st.lists(st.sampled_from(["v 0 0 0", "v 1 0 0", "v 0 1 0", "v nan 0 0", "v 1e39 1 1",
                                               "f 1 2 3", "f 1 2 99", "f -1 -2 -3", "f 1 2", "vn 0 0 1", "usemtl x",
                                               "f 1/1/1 2/2/2 3/3/3", "o part", "g lens", "s 1", "#", "junk"]),
                              max_size=30))
        return kind, lines
    if kind == "bytes":
        return kind, draw(st.lists(st.tuples(st.integers(0, len(GLB) - 1), st.integers(0, 255)), min_size=1,
                                   max_size=30))
    if kind == "truncate":
        return kind, draw(st.integers(0, len(GLB)))
    return kind, draw(st.lists(st.tuples(st.integers(0, len(PATHS) - 1), st.integers(0, len(VALUES) - 1)),
                               min_size=1, max_size=4))


def build_model(recipe) -> tuple[str, bytes]:
    kind, detail = recipe
    if kind == "obj":
        return ".obj", "\n".join(detail).encode()
    if kind == "bytes":
        data = bytearray(GLB)
        for at, value in detail:
            data[at] = value
        return ".glb", bytes(data)
    if kind == "truncate":
        return ".glb", GLB[:detail]
    doc = json.loads(json.dumps(DOC))
    for path_index, value_index in detail:
        path, target = PATHS[path_index], doc
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = json.loads(json.dumps(VALUES[value_index]))
        except (KeyError, IndexError, TypeError):
            pass
    return ".glb", _glb(doc, BINARY)


@budget(examples=120, deadline_ms=20_000)
@given(models())
@example(("json", [(PATHS.index(("materials", 0, "name")), VALUES.index([]))]))  # ValueError: name = []
@pytest.mark.filterwarnings("ignore")  # trimesh and numpy warn about the broken data they are given
def test_a_model_file_is_an_asset_or_an_asset_error(tmp_path_factory, recipe):
    suffix, data = build_model(recipe)
    path = tmp_path_factory.mktemp("model") / f"m{suffix}"
    path.write_bytes(data)
    with bounded(max_mb=128):
        try:
            asset = import_eyewear(path, ImportOptions(frame_width_mm=135))
        except AssetError as exc:
            assert str(path) in str(exc)
            return
    assert asset.triangle_count <= 200_000
    for part in asset.parts:
        assert np.isfinite(part.vertices).all() and part.faces.max() < len(part.vertices)


def test_the_demo_model_survives_the_round_trip():
    """The fuzz's re-packing is faithful: the unmodified document loads."""
    path = Path(pytest.importorskip("tempfile").mkdtemp()) / "m.glb"
    path.write_bytes(_glb(DOC, BINARY))
    assert import_eyewear(path, ImportOptions(frame_width_mm=135)).triangle_count > 0
