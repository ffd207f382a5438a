"""Planning a preview: which photos and products, their content hashes, and what is left to render.

A render is identified by (photo name, product ID) and is up to date when the index holds it with the
same three hashes and its file is still there with the recorded size:

- the photo's sha256 (of the file's bytes: a retouched photo makes all its renders stale);
- the product's render hash (:func:`product_hash`: the fields a lens reads, the lens that draws the kind
  and, for eyewear, the model file's bytes; a changed title or price does not make a render stale);
- the settings hash (:func:`settings_hash`: what changes pixels, and arlens' version).
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arlens.errors import InputError
from arlens.runtime import file_sha256

if TYPE_CHECKING:
    from arlens.catalog import Catalog, Product
    from arlens.lenses.registry import LensRegistry, LensSpec
    from arlens.preview.options import PreviewOptions

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
#: Bumped when what the preview writes for a render changes (crop, encoding, what stage one hands the lenses).
#: 2: lenses get the photo's scene (hands as occluders, the scene's light).
PIPELINE_VERSION = 2
#: The product fields a lens reads; the same try-on fields the JSON-LD export carries as arlens: properties.
RENDER_FIELDS = ("kind", "color", "finish", "opacity", "model", "frame_width_mm", "offset_mm", "pantoscopic_tilt_deg")
MAX_PHOTO_BYTES = 256 * 1024 * 1024


def safe_name(text: str) -> str:
    """``text`` as a file name: letters, digits, ``.``, ``_`` and ``-`` kept, anything else ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]  # noqa: S324 - a name suffix, not security


def unique_names(keys: Sequence[str], stems: Sequence[str]) -> list[str]:
    """File-safe names for ``stems``; stems that collide get a suffix from their key (a path or an ID).

    The name of an item does not depend on which other items share the run unless they collide, so an
    added photo never renames (and so re-renders) the photos already done.
    """
    safe = [safe_name(s) for s in stems]
    counts: dict[str, int] = {}
    for s in safe:
        counts[s.lower()] = counts.get(s.lower(), 0) + 1
    return [s if counts[s.lower()] == 1 else f"{s}-{_short_hash(k)}" for s, k in zip(safe, keys, strict=True)]


@dataclass(frozen=True)
class PhotoSource:
    """One input photo.

    Attributes:
        name: its folder name under ``renders/`` (the file stem, made unique and file-safe).
        path: the file.
        sha256: hex digest of the file's bytes, or "" when it could not be read.
        error: why it cannot be read, or None.
    """

    name: str
    path: Path
    sha256: str = ""
    error: str | None = None


def find_photos(spec: str | Path | Iterable[str | Path]) -> list[Path]:
    """The photo files a ``--photos`` argument names: folders (their images), glob patterns, or files.

    A folder contributes the files directly in it with an image suffix (``.png``, ``.jpg``, ...); a glob
    (``shoot/*.jpg``, ``shoot/**/*.png``) every file it matches; a file itself. Order: sorted, no repeats.

    Raises:
        InputError: a folder or file that does not exist, or nothing found at all.
    """
    items = [spec] if isinstance(spec, str | Path) else list(spec)
    if not items:
        raise InputError("photos: expected a folder, a glob pattern or image files, got nothing")
    found: list[Path] = []
    for item in items:
        text = str(item)
        if any(c in text for c in "*?["):
            matches = [Path(m) for m in glob.glob(text, recursive=True)]
            files = [m for m in matches if m.is_file()]
            if not files:
                raise InputError(f"photos: the pattern {text!r} matches no files")
            found += sorted(files)
        elif Path(text).is_dir():
            files = sorted(p for p in Path(text).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise InputError(f"photos: no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {text}")
            found += files
        elif Path(text).exists():
            found.append(Path(text))
        else:
            raise InputError(f"photos: {text} is not a folder, a file or a glob pattern that matches files")
    seen: set[Path] = set()
    out = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def without_outputs(paths: Sequence[Path], out_dir: Path) -> list[Path]:
    """``paths`` without files inside the output folder (``-o shoot/previews`` with ``--photos 'shoot/**'``
    must not take its own renders for photos on the next run).

    Raises:
        InputError: nothing is left.
    """
    out = out_dir.resolve()
    kept = [p for p in paths if not p.resolve().is_relative_to(out)]
    if paths and not kept:
        raise InputError(f"photos: every file given is inside the output folder {out_dir}")
    return kept


def read_photo(path: Path) -> tuple[bytes | None, str | None]:
    """The file's bytes, or None and why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_PHOTO_BYTES:
            return None, f"unreadable photo: expected at most {MAX_PHOTO_BYTES // 2**20} MiB, got {size // 2**20} MiB"
        if size == 0:
            return None, "unreadable photo: the file is empty"
        return path.read_bytes(), None
    except OSError as exc:
        return None, f"unreadable photo: {exc.strerror or exc}"


def photo_sources(paths: Sequence[Path]) -> list[PhotoSource]:
    """Name and hash every photo (a file that cannot be read gets its reason instead of a hash)."""
    names = unique_names([str(p.resolve()) for p in paths], [p.stem for p in paths])
    out = []
    for name, path in zip(names, paths, strict=True):
        data, error = read_photo(path)
        digest = hashlib.sha256(data).hexdigest() if data is not None else ""
        out.append(PhotoSource(name, path, digest, error))
    return out


@dataclass(frozen=True)
class Selection:
    """The products of a run and what was left out of the request.

    Attributes:
        products: drawable products, in catalog order.
        unknown: requested IDs that are not in the catalog.
        skipped: (product ID, reason) for products of a kind no lens draws.
    """

    products: tuple[Product, ...]
    unknown: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def select_products(catalog: Catalog, registry: LensRegistry, ids: Sequence[str] | None = None,
                    kinds: Sequence[str] | None = None) -> Selection:
    """The products to render: ``ids`` (default: the whole catalog), only ``kinds`` if given.

    Raises:
        InputError: a kind that is not a product kind (the message lists them).
    """
    from arlens.catalog import ProductKind

    wanted_kinds = None
    if kinds:
        allowed = sorted({k.value for k in ProductKind} | set(registry.kinds()))
        bad = [k for k in kinds if str(k) not in allowed]
        if bad:
            raise InputError(f"kind: unknown product kind {bad[0]!r}, expected one of {', '.join(allowed)}")
        wanted_kinds = {str(k) for k in kinds}
    unknown: list[str] = []
    if ids:
        chosen = []
        for pid in dict.fromkeys(ids):
            product = catalog.get(pid)
            if product is None:
                unknown.append(pid)
            else:
                chosen.append(product)
        order = {pid: i for i, pid in enumerate(catalog.ids)}
        chosen.sort(key=lambda p: order[p.id])
    else:
        chosen = list(catalog)
    products = []
    skipped = []
    for p in chosen:
        kind = p.kind.value if p.kind is not None else None
        if wanted_kinds is not None and kind not in wanted_kinds:
            continue
        if kind is None:
            skipped.append((p.id, "not a try-on product (no kind)"))
        elif registry.get(kind) is None:
            skipped.append((p.id, f"no lens draws {kind} (registered: {', '.join(registry.kinds())})"))
        else:
            products.append(p)
    return Selection(tuple(products), tuple(unknown), tuple(skipped))


def _factory_name(spec: LensSpec) -> str:
    f = spec.factory
    return f if isinstance(f, str) else f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', repr(f))}"


def product_hash(product: Product, spec: LensSpec, catalog: Catalog | None) -> str:
    """sha256 of what a product's render depends on: its try-on fields, its lens, its model file's bytes."""
    values: dict[str, Any] = {}
    for name in RENDER_FIELDS:
        v = getattr(product, name)
        values[name] = list(v) if isinstance(v, tuple) else (str(v) if v is not None and not isinstance(
            v, int | float) else v)
    values["lens"] = [_factory_name(spec), spec.target]
    if product.kind is not None and product.kind.has_pattern:  # a make-up lens reads its pattern and palette too
        values["pattern"] = product.effective_pattern
        values["palette"] = [str(c) for c in product.effective_palette]
    if product.model:
        path = catalog.model_path(product) if catalog is not None and product.id in catalog else None
        if path is None or not path.is_file():
            from arlens.resources import assets_dir

            path = assets_dir() / product.model
        values["model_sha256"] = file_sha256(path) if path.is_file() else None
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def settings_hash(options: PreviewOptions) -> str:
    """sha256 of the settings that change a render's pixels (and arlens' version and the pipeline's)."""
    import arlens

    values = {
        "arlens": arlens.__version__,
        "pipeline": PIPELINE_VERSION,
        "max_faces": options.max_faces,
        "max_hands": options.max_hands,
        "fov_y_deg": float(options.fov_y_deg),
        "lipstick_backend": options.lipstick_backend,
        "thumb_size": options.thumb_size,
    }
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render_path(photo: str, product_file: str) -> str:
    """``renders/<photo>/<product>.png``, relative to the output folder (POSIX separators)."""
    return f"renders/{photo}/{product_file}.png"


def thumb_path(photo: str, product_file: str) -> str:
    """The render's close-up (JPEG), relative to the output folder."""
    return f"thumbs/{photo}/{product_file}.jpg"
