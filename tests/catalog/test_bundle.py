"""Lens bundles: good zips and folders load; hostile ones are refused with named problems."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile
from pathlib import Path

import jsonschema
import pytest

import arlens
from arlens.catalog import ProductKind
from arlens.catalog.bundle import SCHEMA_FILE, BundleLimits, LensBundle
from arlens.errors import BundleError

MESH = b"glTF\x02\x00\x00\x00" + bytes(range(256)) * 4


def manifest(**overrides):
    doc = {
        "format": "arlens.lens",
        "version": 1,
        "name": "Round frames",
        "kind": "eyewear",
        "products": [
            {
                "id": "EYE-1",
                "title": "Round",
                "link": "https://shop.example/eye-1",
                "price": "129.00 EUR",
                "model": "meshes/round.glb",
                "frame_width_mm": 132,
            }
        ],
        "render": {"pantoscopic_tilt_deg": 8, "scale": 1.0},
        "assets": [{"path": "meshes/round.glb", "role": "mesh", "sha256": hashlib.sha256(MESH).hexdigest()}],
    }
    doc.update(overrides)
    return doc


def make_zip(path: Path, files: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def make_folder(path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return path


def good_files(**overrides) -> dict[str, bytes]:
    return {"lens.json": json.dumps(manifest(**overrides)).encode(), "meshes/round.glb": MESH}


def problems_of(path, **kwargs) -> list[str]:
    with pytest.raises(BundleError) as info:
        LensBundle.load(path, **kwargs)
    return [f"{p.column}: {p.message}" for p in info.value.problems]


def test_schema_file_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_good_bundle_loads(tmp_path, form):
    files = good_files()
    path = make_zip(tmp_path / "lens.zip", files) if form == "zip" else make_folder(tmp_path / "lens", files)
    bundle = arlens.LensBundle.load(path)
    assert bundle.name == "Round frames" and bundle.kind is ProductKind.EYEWEAR and bundle.version == 1
    assert bundle.product.id == "EYE-1" and bundle.product.kind is ProductKind.EYEWEAR  # kind from the lens
    assert bundle.product.frame_width_mm == 132.0
    assert dict(bundle.render) == {"pantoscopic_tilt_deg": 8, "scale": 1.0}
    assert bundle.read("meshes/round.glb") == MESH and bundle.open("meshes/round.glb").read(4) == b"glTF"
    [asset] = bundle.assets
    assert (asset.path, asset.role, asset.size) == ("meshes/round.glb", "mesh", len(MESH))
    with pytest.raises(KeyError):
        bundle.read("lens.json")


def test_multi_product_colour_bundle(tmp_path):
    products = [
        {
            "id": f"L{i}",
            "title": f"Shade {i}",
            "link": f"https://shop.example/l{i}",
            "price": "20.00 USD",
            "color": color,
            "finish": "matte",
        }
        for i, color in enumerate(["#a1122b", "#5A1E36"])
    ]
    path = make_zip(
        tmp_path / "l.zip",
        {
            "lens.json": json.dumps(
                {
                    "format": "arlens.lens",
                    "version": 1,
                    "name": "Reds",
                    "kind": "lipstick",
                    "products": products,
                    "render": {"opacity": 0.8, "gloss": 0.2},
                }
            ).encode()
        },
    )
    bundle = LensBundle.load(path)
    assert [p.color for p in bundle.products] == ["#A1122B", "#5A1E36"] and bundle.assets == ()


# --- path escapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.glb", "'..' escapes the bundle"),
        ("meshes/../../evil.glb", "'..' escapes the bundle"),
        ("/etc/evil.glb", "absolute path"),
        ("..\\evil.glb", "backslash"),
        ("C:/evil.glb", "colon"),
        ("meshes/a\nb.glb", "control character"),
        ("meshes//x.glb", "empty or '.' path component"),
        ("./x.glb", "empty or '.' path component"),
    ],
)
def test_zip_slip_names_are_refused(tmp_path, name, reason):
    files = good_files() | {name: b"pwned"}
    found = problems_of(make_zip(tmp_path / "b.zip", files))
    [found] = found
    assert found.startswith(f"{name}: unsafe entry name: ") and reason in found
    assert not (tmp_path.parent / "evil.glb").exists()


def test_asset_paths_in_manifest_cannot_escape(tmp_path):
    doc = manifest(assets=[{"path": "../../etc/passwd.png", "role": "texture"}])
    found = problems_of(make_zip(tmp_path / "b.zip", {"lens.json": json.dumps(doc).encode(), "meshes/round.glb": MESH}))
    assert any(f.startswith("assets/0/path:") and "does not match" in f for f in found), found


def test_symlink_entry_in_zip_is_refused(tmp_path):
    path = make_zip(tmp_path / "b.zip", good_files())
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo("meshes/link.glb")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    assert problems_of(path) == ["meshes/link.glb: symlink entries are not allowed in a bundle"]


def test_symlinks_in_folder_are_refused(tmp_path):
    folder = make_folder(tmp_path / "lens", good_files())
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, folder / "meshes" / "stolen.png")
    os.symlink(tmp_path, folder / "up")
    found = problems_of(folder)
    assert found == [
        "up: symlink entries are not allowed in a bundle",
        "meshes/stolen.png: symlink entries are not allowed in a bundle",
    ]


def test_manifest_itself_as_symlink_is_refused(tmp_path):
    folder = make_folder(tmp_path / "lens", {"meshes/round.glb": MESH})
    (tmp_path / "elsewhere.json").write_text(json.dumps(manifest()))
    os.symlink(tmp_path / "elsewhere.json", folder / "lens.json")
    assert "lens.json: symlink entries are not allowed in a bundle" in problems_of(folder)


def test_fifo_in_folder_is_refused_without_blocking(tmp_path):
    folder = make_folder(tmp_path / "lens", good_files())
    os.mkfifo(folder / "meshes" / "pipe.glb")
    assert problems_of(folder) == ["meshes/pipe.glb: special entries are not allowed in a bundle"]


# --- zip bombs and limits -------------------------------------------------------------------


def test_too_many_entries(tmp_path):
    files = good_files() | {f"textures/t{i}.png": b"x" for i in range(300)}
    found = problems_of(make_zip(tmp_path / "b.zip", files))
    assert found == ["None: expected at most 256 entries, the zip declares 302"]  # from its end record


def test_declared_size_over_limits(tmp_path):
    files = good_files() | {"textures/big.png": os.urandom(300_000)}
    found = problems_of(
        make_zip(tmp_path / "b.zip", files), limits=BundleLimits(max_file_bytes=200_000, max_total_bytes=250_000)
    )
    declared = 300_000 + len(files["lens.json"]) + len(MESH)
    assert found == [
        "textures/big.png: expected at most 200000 bytes, declared 300000",
        f"None: expected at most 250000 bytes in all, declared {declared}",
    ]


def test_compression_ratio_bomb(tmp_path):
    files = good_files() | {"textures/zeros.png": bytes(20 * 1024 * 1024)}  # ~20 KB compressed
    [found] = problems_of(make_zip(tmp_path / "b.zip", files))
    assert found.startswith("textures/zeros.png: expected a compression ratio of at most 100, got ")


def _lie_about_size(path: Path, name: str, declared: int) -> None:
    """Rewrite the uncompressed size of ``name`` in its local header and central directory entry."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    local = data.index(b"PK\x03\x04" + b"", 0)
    while data[local + 30 : local + 30 + len(encoded)] != encoded:
        local = data.index(b"PK\x03\x04", local + 4)
    struct.pack_into("<I", data, local + 22, declared)
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(encoded)] != encoded:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def test_entry_lying_about_its_size_is_caught_while_reading(tmp_path):
    real = os.urandom(64) * 2000  # 128 KB, compresses to ~ratio 2000, so allow a high ratio here
    files = good_files(assets=[{"path": "meshes/round.glb", "role": "mesh"}]) | {"meshes/round.glb": real}
    path = make_zip(tmp_path / "b.zip", files)
    _lie_about_size(path, "meshes/round.glb", 1000)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("meshes/round.glb").file_size == 1000  # the archive really declares 1000
    [found] = problems_of(path, limits=BundleLimits(max_ratio=1e9))
    assert found == f"meshes/round.glb: declared 1000 bytes, read {len(real)}"


def test_actual_size_bomb_stops_at_the_limit(tmp_path):
    files = good_files(assets=[{"path": "meshes/round.glb", "role": "mesh"}])
    files["meshes/round.glb"] = bytes(8 * 1024 * 1024)
    path = make_zip(tmp_path / "b.zip", files)
    _lie_about_size(path, "meshes/round.glb", 1000)  # declared size and ratio both look harmless
    limits = BundleLimits(max_file_bytes=1024 * 1024, max_ratio=1e9)
    [found] = problems_of(path, limits=limits)
    assert found == "meshes/round.glb: expected at most 1048576 bytes, got more while reading"


def test_corrupt_entry_is_a_bundle_error(tmp_path):
    path = make_zip(tmp_path / "b.zip", good_files(), compression=zipfile.ZIP_STORED)
    data = path.read_bytes()
    at = data.index(MESH) + 100
    path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    [found] = problems_of(path)
    assert found.startswith("meshes/round.glb: cannot read entry:") and "CRC" in found


def test_huge_manifest(tmp_path):
    files = good_files(description=os.urandom(150_000).hex())  # random: passes the ratio check
    [found] = problems_of(make_zip(tmp_path / "b.zip", files))
    assert found == "lens.json: expected at most 262144 bytes, got more while reading"


# --- manifest validation ----------------------------------------------------------------------


def test_unknown_fields_are_named(tmp_path):
    doc = manifest(script="import os; os.system('rm -rf /')")
    doc["render"]["opacitty"] = 0.5
    doc["render"]["shader"] = "x"
    doc["products"][0]["colour"] = "#FFFFFF"
    found = problems_of(make_zip(tmp_path / "b.zip", {"lens.json": json.dumps(doc).encode(), "meshes/round.glb": MESH}))
    assert found[0].startswith("None: unknown field 'script', expected only format, version")
    assert found[1].startswith("products/0: unknown field 'colour' in products/0, expected only id, title")
    assert found[2].startswith("render: unknown fields 'opacitty', 'shader' in render, expected only opacity")
    assert len(found) == 3


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"version": 2}, "version: unsupported lens.json version 2, expected 1"),
        ({"format": "something"}, "format: 'arlens.lens' was expected"),
        ({"kind": "hat"}, "kind: 'hat' is not one of"),
        ({"products": []}, "products: [] should be non-empty"),
        ({"render": {"opacity": 3}}, "render/opacity: 3 is greater than the maximum of 1"),
        (
            {"assets": [{"path": "meshes/round.glb", "role": "mesh", "sha256": "0" * 64}]},
            "meshes/round.glb: expected sha256 " + "0" * 64,
        ),
        (
            {"assets": [{"path": "meshes/other.glb", "role": "mesh"}]},
            "assets/0/path: asset 'meshes/other.glb' is not in the bundle",
        ),
        (
            {"assets": [{"path": "meshes/round.glb", "role": "texture"}]},
            "products/0/model: model 'meshes/round.glb' is not listed as a mesh asset",
        ),
        ({"assets": [{"path": "meshes/run.py", "role": "mesh"}]}, "assets/0/path: 'meshes/run.py' does not match"),
    ],
)
def test_manifest_problems(tmp_path, overrides, expected):
    found = problems_of(make_zip(tmp_path / "b.zip", good_files(**overrides)))
    assert any(f.startswith(expected) for f in found), found


def test_product_values_checked_like_catalog_rows(tmp_path):
    doc = manifest()
    doc["products"][0].update(price="129.00 ABC", link="javascript:alert(1)", kind="lipstick")
    found = problems_of(make_zip(tmp_path / "b.zip", {"lens.json": json.dumps(doc).encode(), "meshes/round.glb": MESH}))
    assert "products/0/kind: expected kind 'eyewear' like the lens, got 'lipstick'" in found
    assert any(f.startswith("products/0/link: expected an https link") for f in found)
    assert any(f.startswith("products/0/price: unknown currency 'ABC'") for f in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"format": "arlens.lens", "format": "x"}', "lens.json: duplicate key 'format'"),
        (b'{"version": NaN}', "lens.json: expected a finite number, got NaN"),
        (b'{"format": ', "lens.json: expected JSON"),
        (b"\xff\xfe{}", "lens.json: expected UTF-8 text"),
    ],
)
def test_manifest_must_be_plain_json(tmp_path, text, expected):
    [found] = problems_of(make_zip(tmp_path / "b.zip", {"lens.json": text}))
    assert found.startswith(expected)


def test_not_a_bundle(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    assert problems_of(tmp_path / "x.txt") == ["None: expected a .zip file or a folder"]
    assert problems_of(make_zip(tmp_path / "e.zip", {"meshes/round.glb": MESH})) == [
        "lens.json: missing lens.json at the bundle root"
    ]


def test_schema_and_value_problems_are_reported_in_one_run(tmp_path):
    """A manifest with a structure problem (an unknown field) and value problems (a bad currency, a javascript:
    link, a missing asset, a wrong sha256) gets all of them at once, each once."""
    doc = manifest(script="x")
    doc["products"][0].update(price="129.00 ABC", link="javascript:alert(1)", colour="#FFFFFF")
    doc["assets"].append({"path": "meshes/gone.glb", "role": "mesh"})
    doc["assets"][0]["sha256"] = "0" * 64
    found = problems_of(make_zip(tmp_path / "b.zip", {"lens.json": json.dumps(doc).encode(), "meshes/round.glb": MESH}))
    assert any(f.startswith("None: unknown field 'script'") for f in found)
    assert any(f.startswith("products/0: unknown field 'colour'") for f in found)
    assert any(f.startswith("products/0/price: unknown currency 'ABC'") for f in found)
    assert any(f.startswith("products/0/link: expected an https link") for f in found)
    assert "assets/1/path: asset 'meshes/gone.glb' is not in the bundle" in found
    assert any(f.startswith("meshes/round.glb: expected sha256 " + "0" * 64) for f in found)
    assert len(found) == 6, found  # the unknown 'colour' is not reported a second time by the value checks


# --- hostile archives (issue #24) -----------------------------------------------------------------------


def _patch_entry(path: Path, name: str, *, flags: int | None = None, method: int | None = None) -> None:
    """Rewrite an entry's general-purpose flags or compression method in its local and central headers."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, flag_at, method_at, name_len_at, name_at in ((b"PK\x03\x04", 6, 8, 26, 30),
                                                                 (b"PK\x01\x02", 8, 10, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            n = struct.unpack_from("<H", data, at + name_len_at)[0]
            if bytes(data[at + name_at : at + name_at + n]) == encoded:
                if flags is not None:
                    struct.pack_into("<H", data, at + flag_at, flags)
                if method is not None:
                    struct.pack_into("<H", data, at + method_at, method)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_million_entries_are_refused_from_the_end_record(tmp_path, monkeypatch):
    """A zip of 1M empty entries cost 11.8 s and 768 MB before the 256-entry limit refused it."""
    path = make_zip(tmp_path / "b.zip", good_files())
    data = bytearray(path.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 0xFFFF, 0xFFFF)  # "see the zip64 record", which declares 1M
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1_000_000, 1_000_000, 0, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    path.write_bytes(bytes(data[:eocd] + record + locator + data[eocd:]))

    def refuse(*args, **kwargs):
        raise AssertionError("zipfile.ZipFile was built")

    monkeypatch.setattr("arlens.catalog.bundle.zipfile.ZipFile", refuse)
    assert problems_of(path) == ["None: expected at most 256 entries, the zip declares 1000000"]


def test_the_end_record_count_of_real_zips(tmp_path):
    from arlens.catalog.bundle import zip_entry_count

    small = make_zip(tmp_path / "s.zip", {f"f{i}": b"" for i in range(300)})
    assert zip_entry_count(small) == 300
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as zf:  # a trailing archive comment
        zf.comment = b"x" * 60_000
        zf.writestr("a", b"1")
    assert zip_entry_count(tmp_path / "c.zip") == 1
    with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_STORED) as zf:  # past 65,535: a zip64 record
        for i in range(66_000):
            zf.writestr(zipfile.ZipInfo(f"{i}"), b"")
    assert zip_entry_count(tmp_path / "big.zip") == 66_000
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    assert zip_entry_count(tmp_path / "junk.zip") is None


def test_encrypted_entries_are_refused(tmp_path):
    """They raised RuntimeError ('password required') when read."""
    path = make_zip(tmp_path / "b.zip", good_files())
    _patch_entry(path, "meshes/round.glb", flags=0x1)
    assert problems_of(path) == ["meshes/round.glb: encrypted entries are not allowed in a bundle"]


def test_an_entry_without_a_name_is_refused(tmp_path):
    """zipfile's ZipInfo.is_dir() raised IndexError on it (a flipped byte in fuzzing's longer run)."""
    files = good_files()
    path = make_zip(tmp_path / "b.zip", files)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(zipfile.ZipInfo(""), b"x")
    assert problems_of(path) == [": unsafe entry name: empty name"]


@pytest.mark.parametrize("method", [99, 12, 14])
def test_unknown_compression_methods_are_refused(tmp_path, method):
    """AES (99) raised NotImplementedError when read; bzip2 and LZMA are refused as well (not what zip tools
    write by default, and not what the size and ratio checks were tuned on)."""
    path = make_zip(tmp_path / "b.zip", good_files())
    _patch_entry(path, "meshes/round.glb", method=method)
    assert problems_of(path) == [
        f"meshes/round.glb: expected a stored or deflated entry, got one compressed with method {method}"]


@pytest.mark.parametrize("depth, fragment", [
    (120_000, "got deeper nesting than the parser takes"),  # RecursionError before
    (400, "got deeper nesting"),  # parses, but the schema validator recurses per level
    (33, "got deeper nesting"),
])
def test_deep_lens_json_is_refused(tmp_path, depth, fragment):
    text = json.dumps(manifest(render={"x": None})).replace("null", "[" * (depth - 2) + "]" * (depth - 2))
    files = good_files() | {"lens.json": text.encode()}
    path = make_zip(tmp_path / "b.zip", files, compression=zipfile.ZIP_STORED)
    found = problems_of(path, limits=BundleLimits(max_manifest_bytes=512 * 1024))
    assert found == [f"lens.json: expected JSON nested at most 32 levels deep, {fragment}"]


def test_folders_stop_listing_past_the_entry_limit(tmp_path):
    folder = make_folder(tmp_path / "lens", good_files() | {f"t/{i}.png": b"" for i in range(40)})
    assert problems_of(folder, limits=BundleLimits(max_entries=10)) == ["None: expected at most 10 entries, got more"]


def test_a_zip_version_zipfile_does_not_read_is_a_bundle_error(tmp_path):
    """Found by tests/fuzz (shrunk): a central entry claiming "version needed 6.4" made zipfile raise
    NotImplementedError from ZipFile() itself."""
    path = make_zip(tmp_path / "b.zip", good_files())
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, data.find(b"PK\x01\x02") + 6, 64)
    path.write_bytes(bytes(data))
    assert problems_of(path) == ["None: not a readable zip: zip file version 6.4"]
