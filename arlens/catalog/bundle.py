"""Lens bundles: a shareable lens as a zip file or a folder, loaded safely.

A bundle holds ``lens.json`` at its root (schema: ``arlens/catalog/lens.schema.json``, format
``arlens.lens`` version 1) naming the lens kind, the product(s) it shows (as in the arlens JSON
catalog), render parameters, and its asset files (meshes, textures)::

    {"format": "arlens.lens", "version": 1, "name": "Round frames", "kind": "eyewear",
     "products": [{"id": "EYE-01", "title": "Round", "link": "https://shop.example/eye-01",
                   "price": "129.00 EUR", "model": "meshes/round.glb", "frame_width_mm": 132}],
     "render": {"pantoscopic_tilt_deg": 8},
     "assets": [{"path": "meshes/round.glb", "role": "mesh"}]}

Bundles come from strangers, so loading treats them as hostile:

- Nothing is extracted to disk and nothing in a bundle is ever executed, imported or unpickled:
  ``lens.json`` is parsed as JSON (duplicate keys and ``NaN`` refused) and assets are returned as
  bytes, only for the data formats the schema lists.
- Every entry name is checked before anything is read: no absolute paths, drive letters, ``..``,
  backslashes, control characters, duplicates, symlinks (in zips and in folders) or special
  files (FIFOs, devices).
- :class:`BundleLimits` caps the entry count, each file's size, the total size and (for zips) the
  compression ratio, first on the sizes the archive declares, then on the bytes actually
  decompressed while reading, so an archive that lies about its sizes is caught too.
- Unknown fields anywhere in ``lens.json`` are refused with their names; then products get the
  same value checks as catalog rows, eyewear models must be listed assets, and listed assets
  must exist and match their ``sha256`` when one is given.

Every problem found is reported at once in one :class:`~arlens.errors.BundleError`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import itertools
import json
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from arlens.catalog.feeds import load_rows, product_row
from arlens.catalog.links import LinkPolicy
from arlens.catalog.product import Product, ProductKind
from arlens.errors import BundleError, Problem

MANIFEST = "lens.json"
FORMAT_NAME = "arlens.lens"
FORMAT_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("lens.schema.json")
_SMALL_ENTRY = 64 * 1024  # compression ratio is only judged above this size
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class BundleLimits:
    """Caps that keep a hostile bundle from exhausting memory or disk.

    Attributes:
        max_entries: files and folders in the bundle.
        max_file_bytes: one file, decompressed.
        max_total_bytes: all files together, decompressed.
        max_manifest_bytes: ``lens.json``.
        max_ratio: decompressed / compressed size of a zip entry above 64 KiB (zip bombs reach
            thousands; meshes and textures rarely pass 20).
    """

    max_entries: int = 256
    max_file_bytes: int = 32 * 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024
    max_manifest_bytes: int = 256 * 1024
    max_ratio: float = 100.0


@dataclass(frozen=True)
class BundleAsset:
    """A data file of a bundle, as listed in ``lens.json`` and checked on load."""

    path: str
    role: str
    size: int
    sha256: str


@dataclass(frozen=True)
class _Entry:
    name: str
    size: int
    compressed: int | None  # zip only
    kind: str  # "file", "dir", "symlink", "special"


@functools.cache
def schema() -> Mapping[str, Any]:
    """The JSON Schema of ``lens.json`` (read once from the package)."""
    return MappingProxyType(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _unsafe_name(name: str) -> str | None:
    """Why an entry name could escape the bundle or confuse a reader, or ``None`` if it is safe."""
    if not name:
        return "empty name"
    if "\\" in name:
        return "backslash in name"
    if ":" in name:
        return "colon (drive letter or stream) in name"
    if _CONTROL_CHARS.search(name):
        return "control character in name"
    if name.startswith("/"):
        return "absolute path"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "'..' escapes the bundle"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' path component"
    return None


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory: signature, disk numbers, entry counts, sizes
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


def zip_entry_count(path: Path) -> int | None:
    """The entry count a zip's end-of-central-directory record declares (zip64 aware), or None if not found.

    Read from the file's last 64 KiB before :class:`zipfile.ZipFile` builds an object per entry (a zip of
    1M empty entries cost 11.8 s and 768 MB before the entry limit refused it). Written here because
    :mod:`zipfile` exposes no way to read the count without building every entry.
    """
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        tail_at = max(0, size - (_EOCD.size + 0xFFFF))  # the record, then a comment of up to 64 KiB
        fh.seek(tail_at)
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return None
        count = _EOCD.unpack_from(tail, at)[4]
        locator_at = at - _EOCD64_LOCATOR.size
        if count == 0xFFFF and locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
            record_at = _EOCD64_LOCATOR.unpack_from(tail, locator_at)[2]
            if 0 <= record_at <= size - _EOCD64.size:
                fh.seek(record_at)
                record = fh.read(_EOCD64.size)
                if record[:4] == b"PK\x06\x06":
                    count = _EOCD64.unpack(record)[6]
        return count


#: Zip compression methods a bundle may use (what every zip tool writes); anything else is refused
#: up front (zipfile raised NotImplementedError when reading an entry that used one).
_COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


class _ZipSource:
    def __init__(self, path: Path, problem: Any, limits: BundleLimits) -> None:
        self.path = path
        try:
            declared = zip_entry_count(path)
        except OSError as exc:
            raise BundleError(f"cannot read lens bundle {path}",
                              [problem(None, f"not a readable zip: {exc}")]) from None
        if declared is not None and declared > limits.max_entries:
            raise BundleError(f"unsafe or invalid lens bundle {path}", [
                problem(None, f"expected at most {limits.max_entries} entries, the zip declares {declared}")])
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, struct.error) as exc:
            # NotImplementedError: a central entry claiming a zip version zipfile does not read (found by
            # tests/fuzz after a flipped byte)
            raise BundleError(
                f"cannot read lens bundle {path}", [problem(None, f"not a readable zip: {exc}")]
            ) from None

    def entries(self) -> Iterator[_Entry]:
        for info in self.zf.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                kind = "symlink"
            elif info.filename.endswith("/"):  # ZipInfo.is_dir() raised IndexError on an empty name (tests/fuzz)
                kind = "dir"
            elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # many zip tools leave the type bits 0
                kind = "special"
            elif info.flag_bits & 0x1:
                kind = "encrypted"  # zipfile raised RuntimeError ("password required") when it was read
            elif info.compress_type not in _COMPRESSIONS:
                kind = f"compressed with method {info.compress_type}"
            else:
                kind = "file"
            yield _Entry(info.filename, info.file_size, info.compress_size, kind)

    def read(self, name: str, cap: int) -> bytes:
        info = self.zf.getinfo(name)
        # Let zipfile read past the declared size, so that an entry lying about it shows up as
        # more bytes than declared instead of being silently cut at the declared length.
        # zipfile checks the CRC when it reaches the (probe's) size; with the size raised that
        # check would fire on a partial read, so the probe carries no CRC and it is checked here.
        probe = copy.copy(info)
        probe.file_size = cap + 1
        del probe.CRC
        with self.zf.open(probe) as fh:
            data = fh.read(cap + 1)
        if len(data) <= cap and zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
        return data

    def close(self) -> None:
        self.zf.close()


class _FolderSource:
    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> Iterator[_Entry]:
        for root, dirs, files in os.walk(self.path, followlinks=False):
            for name in sorted(dirs) + sorted(files):
                full = os.path.join(root, name)
                rel = Path(full).relative_to(self.path).as_posix()
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    kind = "symlink"
                elif stat.S_ISDIR(st.st_mode):
                    kind = "dir"
                elif stat.S_ISREG(st.st_mode):
                    kind = "file"
                else:
                    kind = "special"
                yield _Entry(rel + ("/" if kind == "dir" else ""), st.st_size, None, kind)

    def read(self, name: str, cap: int) -> bytes:
        # O_NOFOLLOW on the last component, and a regular-file check on the opened descriptor,
        # so a file swapped for a symlink or FIFO after listing is not followed or blocked on.
        fd = os.open(self.path / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise OSError(f"{name} is not a regular file")
            return fh.read(cap + 1)

    def close(self) -> None:
        pass


#: How deep ``lens.json`` may nest (its schema needs 4 levels; the parser and the schema validator recurse).
MAX_MANIFEST_DEPTH = 32


def _depth(doc: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), without recursion; it stops counting one past the limit."""
    deepest = 0
    stack = [(doc, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_MANIFEST_DEPTH:
                stack.extend((v, level) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"expected a finite number, got {name}")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _schema_problems(doc: Any, problem: Any) -> list[Problem]:
    import jsonschema  # imported here: only bundles need it

    validator = jsonschema.Draft202012Validator(dict(schema()))
    problems = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        where = "/".join(str(p) for p in error.absolute_path) or None
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            unknown = sorted(k for k in error.instance if k not in known)
            inside = f" in {where}" if where else ""
            message = f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}{inside}"
            message += f", expected only {', '.join(known)}"
        elif error.validator == "const" and where == "version":
            message = f"unsupported lens.json version {error.instance!r}, expected {FORMAT_VERSION}"
        else:
            message = error.message
        problems.append(problem(where, message))
    return problems


@dataclass(frozen=True, eq=False)
class LensBundle:
    """A loaded lens bundle: manifest values and asset bytes, all checked.

    Attributes:
        source: the path it was loaded from.
        name, description, author, license: from ``lens.json``.
        kind: the lens family.
        products: the products the lens shows, in manifest order.
        render: render parameters (read-only mapping), see the schema's ``render``.
        assets: the listed asset files, with their sizes and sha256.
    """

    source: str
    name: str
    kind: ProductKind
    products: tuple[Product, ...]
    render: Mapping[str, Any]
    assets: tuple[BundleAsset, ...]
    description: str = ""
    author: str = ""
    license: str = ""
    version: int = FORMAT_VERSION
    _data: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def product(self) -> Product:
        """The first (often the only) product."""
        return self.products[0]

    def read(self, path: str) -> bytes:
        """The bytes of a listed asset.

        Raises:
            KeyError: ``path`` is not a listed asset.
        """
        try:
            return self._data[path]
        except KeyError:
            raise KeyError(f"no asset {path!r} in lens bundle {self.source}") from None

    def open(self, path: str) -> io.BytesIO:
        """A listed asset as a binary file object (e.g. for ``trimesh.load(..., file_type="glb")``)."""
        return io.BytesIO(self.read(path))

    @classmethod
    def load(
        cls, path: str | Path, *, limits: BundleLimits | None = None, links: LinkPolicy | None = None
    ) -> LensBundle:
        """Load and check a bundle from a ``.zip`` file or a folder.

        Args:
            path: the zip file or folder.
            limits: size and count caps (defaults: :class:`BundleLimits`).
            links: buy-link policy for the products (default: https only).

        Raises:
            BundleError: every problem found (unsafe entries, limits, schema, product values,
                missing or mismatched assets), each naming the entry or field.
        """
        path = Path(path)
        limits = limits or BundleLimits()
        source = str(path)

        def problem(where: str | None, message: str) -> Problem:
            return Problem(source, None, where, message)

        if path.is_dir():
            reader: _ZipSource | _FolderSource = _FolderSource(path)
        elif path.is_file() and zipfile.is_zipfile(path):
            reader = _ZipSource(path, problem, limits)
        else:
            raise BundleError(f"cannot load lens bundle {source}", [problem(None, "expected a .zip file or a folder")])
        try:
            return cls._load(reader, source, limits, links, problem)
        finally:
            reader.close()

    @classmethod
    def _load(
        cls,
        reader: _ZipSource | _FolderSource,
        source: str,
        limits: BundleLimits,
        links: LinkPolicy | None,
        problem: Any,
    ) -> LensBundle:
        fail = functools.partial(BundleError, f"unsafe or invalid lens bundle {source}")
        entries = _check_entries(list(itertools.islice(reader.entries(), limits.max_entries + 1)), limits, problem)
        if isinstance(entries, list):
            raise fail(entries)
        budget = _Budget(limits, problem)
        if MANIFEST not in entries:
            raise fail([problem(MANIFEST, "missing lens.json at the bundle root")])
        raw = budget.read(reader, MANIFEST, entries[MANIFEST], limits.max_manifest_bytes)
        if raw is None:
            raise fail(budget.problems)
        try:
            doc = json.loads(
                raw.decode("utf-8-sig"), object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
            )
        except UnicodeDecodeError:
            raise fail([problem(MANIFEST, "expected UTF-8 text")]) from None
        except json.JSONDecodeError as exc:
            raise fail(
                [Problem(source, exc.lineno, MANIFEST, f"expected JSON: {exc.msg} (column {exc.colno})")]
            ) from None
        except ValueError as exc:
            raise fail([problem(MANIFEST, str(exc))]) from None
        except RecursionError:  # RecursionError before: a lens.json 120k levels deep
            raise fail([problem(MANIFEST, f"expected JSON nested at most {MAX_MANIFEST_DEPTH} levels deep, got "
                                          "deeper nesting than the parser takes")]) from None
        if _depth(doc) > MAX_MANIFEST_DEPTH:  # the schema validator recurses too: refuse before it does
            raise fail([problem(MANIFEST, f"expected JSON nested at most {MAX_MANIFEST_DEPTH} levels deep, got "
                                          "deeper nesting")])
        # Schema (structure) and value problems are all collected, so one run reports everything: the value
        # checks run on whatever parts of a schema-invalid manifest have the right shape.
        problems = _schema_problems(doc, problem)
        if not isinstance(doc, dict):
            raise fail(problems)
        structure_problems = bool(problems)
        kind = doc.get("kind") if doc.get("kind") in {k.value for k in ProductKind} else None
        items = [(i, item) for i, item in enumerate(_list(doc.get("products"))) if isinstance(item, dict)]
        rows = []
        for i, item in items:
            item = {"kind": kind, **item} if kind is not None else item
            row = product_row(source, None, item, column_prefix=f"products/{i}/")
            rows.append(row)
            if kind is not None and item["kind"] != kind:
                row.problems.append(row.problem("kind", f"expected kind {kind!r} like the lens, got {item['kind']!r}"))
        products, rejected = load_rows(rows, links)
        value_problems = [p for r in rejected for p in r.problems]
        if structure_problems:  # the schema already named unknown and missing fields and badly typed values
            reported = {p.column for p in problems}
            value_problems = [
                p for p in value_problems
                if p.column not in reported and not p.message.startswith(("unknown field", "missing required field"))
            ]
        problems += value_problems

        listed: dict[str, dict[str, Any]] = {}
        for i, asset in enumerate(_list(doc.get("assets"))):
            if not isinstance(asset, dict) or not isinstance(asset.get("path"), str):
                continue  # the schema reported it
            if asset["path"] in listed:
                problems.append(problem(f"assets/{i}/path", f"asset {asset['path']!r} listed twice"))
            elif asset["path"] not in entries:
                problems.append(problem(f"assets/{i}/path", f"asset {asset['path']!r} is not in the bundle"))
            listed[asset["path"]] = asset
        meshes = {p for p, a in listed.items() if a.get("role") == "mesh"}
        for i, item in items:
            model = item.get("model")
            if isinstance(model, str) and model not in meshes:
                problems.append(problem(f"products/{i}/model", f"model {model!r} is not listed as a mesh asset"))

        data: dict[str, bytes] = {}
        assets = []
        for asset_path, asset in listed.items():
            if asset_path not in entries:
                continue
            blob = budget.read(reader, asset_path, entries[asset_path], limits.max_file_bytes)
            if blob is None:
                continue
            digest = hashlib.sha256(blob).hexdigest()
            if asset.get("sha256", digest) != digest:
                budget.problems.append(problem(asset_path, f"expected sha256 {asset['sha256']}, got {digest}"))
            data[asset_path] = blob
            assets.append(BundleAsset(asset_path, asset.get("role"), len(blob), digest))
        problems += budget.problems
        if problems:
            raise fail(problems)
        return cls(
            source=source,
            name=doc["name"],
            kind=ProductKind(kind),
            products=products,
            render=MappingProxyType(dict(doc.get("render", {}))),
            assets=tuple(assets),
            description=doc.get("description", ""),
            author=doc.get("author", ""),
            license=doc.get("license", ""),
            version=doc["version"],
            _data=MappingProxyType(data),
        )


def _check_entries(entries: list[_Entry], limits: BundleLimits, problem: Any) -> dict[str, _Entry] | list[Problem]:
    """Check names, kinds and declared sizes of every entry; the files by name, or the problems."""
    problems = []
    if len(entries) > limits.max_entries:  # the listing stops one past the limit
        problems.append(problem(None, f"expected at most {limits.max_entries} entries, got more"))  # folders
    files: dict[str, _Entry] = {}
    seen: set[str] = set()
    total = 0
    for entry in entries:
        name = entry.name
        reason = _unsafe_name(name)
        if reason is None and PurePosixPath(name).parts[:1] == ("__MACOSX",):
            continue
        if reason is not None:
            problems.append(problem(name, f"unsafe entry name: {reason}"))
        elif name in seen:
            problems.append(problem(name, "duplicate entry name"))
        elif entry.kind in ("symlink", "special", "encrypted"):
            problems.append(problem(name, f"{entry.kind} entries are not allowed in a bundle"))
        elif entry.kind.startswith("compressed with"):
            methods = " or ".join(_COMPRESSIONS.values())
            problems.append(problem(name, f"expected a {methods} entry, got one {entry.kind}"))
        seen.add(name)
        if entry.kind != "file":
            continue
        total += entry.size
        if entry.size > limits.max_file_bytes:
            problems.append(problem(name, f"expected at most {limits.max_file_bytes} bytes, declared {entry.size}"))
        if entry.compressed is not None and entry.size > _SMALL_ENTRY:
            ratio = entry.size / max(entry.compressed, 1)
            if ratio > limits.max_ratio:
                problems.append(
                    problem(name, f"expected a compression ratio of at most {limits.max_ratio:g}, got {ratio:.0f}")
                )
        files[name] = entry
    if total > limits.max_total_bytes:
        problems.append(problem(None, f"expected at most {limits.max_total_bytes} bytes in all, declared {total}"))
    return problems or files


class _Budget:
    """Reads entries while counting the bytes that really come out, against the limits."""

    def __init__(self, limits: BundleLimits, problem: Any) -> None:
        self.left = limits.max_total_bytes
        self.problem = problem
        self.problems: list[Problem] = []

    def read(self, reader: _ZipSource | _FolderSource, name: str, entry: _Entry, cap: int) -> bytes | None:
        cap = min(cap, self.left)
        try:
            blob = reader.read(name, cap)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
            # zlib errors and CRC mismatches (sizes or data altered after packing) land here; encryption and
            # unknown methods were refused with the entries (RuntimeError, NotImplementedError are a backstop)
            self.problems.append(self.problem(name, f"cannot read entry: {exc}"))
            return None
        if len(blob) > cap:
            self.problems.append(self.problem(name, f"expected at most {cap} bytes, got more while reading"))
            return None
        if len(blob) != entry.size:
            self.problems.append(self.problem(name, f"declared {entry.size} bytes, read {len(blob)}"))
            return None
        self.left -= len(blob)
        return blob
