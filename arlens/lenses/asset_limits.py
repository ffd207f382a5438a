"""Budgets of an eyewear model checked from the file's headers, before any mesh is built.

trimesh builds every triangle and decodes every texture of a file before arlens could count them, so
a 2M-triangle GLB or a texture that declares 16000x16000 pixels cost seconds and gigabytes before the
budget refused it. These checks read only what the formats declare up front:

- **glTF / GLB**: the JSON chunk's accessors give each primitive's index (or vertex) count, the nodes
  say how often each mesh is instanced, and each image's header (its buffer view, a ``data:`` URI or
  a file beside the ``.gltf``) gives its size (:func:`arlens.image.probe_image`);
- **OBJ**: the ``f`` lines, each at least one triangle, counted in the bytes.

Written here rather than taken from a library because the one glTF reader arlens has (trimesh) offers
no header-only pass; this is a walk over the JSON the glTF 2.0 specification defines, nothing more.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arlens.errors import AssetError, InputError

#: The largest model file read (a 200,000-triangle GLB with normals and UVs is about 10 MB).
MAX_MODEL_BYTES = 100 * 1024 * 1024
#: The most nodes a glTF scene may hold (a pair of glasses has a handful).
MAX_NODES = 10_000
#: The most pixels a texture may declare: 4096 x 4096.
MAX_TEXTURE_PIXELS = 4096 * 4096

_GLB_MAGIC = b"glTF"
_JSON_CHUNK = 0x4E4F534A
_BIN_CHUNK = 0x004E4942
_TRIANGLE_MODES = {4: "list", 5: "strip", 6: "fan"}  # glTF primitive modes that make triangles (default 4)


def check_model_file(path: Path, max_triangles: int) -> None:
    """Refuse a model file over the size, triangle, node or texture budget, from its headers alone.

    Raises:
        AssetError: saying which budget and what the file declares.
    """
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise AssetError(f"{path}: expected a model file of at most {MAX_MODEL_BYTES} bytes, got {size}")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".obj":
        faces = data.count(b"\nf ") + data.startswith(b"f ")
        if faces > max_triangles:
            raise AssetError(f"{path}: expected at most {max_triangles} triangles (the configured budget), the file "
                             f"has {faces} faces; decimate the model or raise max_triangles")
        return
    if suffix == ".glb":
        doc, binary = _glb_chunks(path, data)
    else:
        doc, binary = _json(path, data), None
    _check_gltf(path, doc, binary, max_triangles)


def _json(path: Path, data: bytes | memoryview) -> dict[str, Any]:
    try:
        doc = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AssetError(f"{path}: malformed glTF: its JSON does not parse ({exc})") from None
    except RecursionError:
        raise AssetError(f"{path}: malformed glTF: its JSON is nested too deeply") from None
    if not isinstance(doc, dict):
        raise AssetError(f"{path}: malformed glTF: expected a JSON object, got {type(doc).__name__}")
    return doc


def _glb_chunks(path: Path, data: bytes) -> tuple[dict[str, Any], memoryview | None]:
    """The JSON and BIN chunks of a GLB (glTF 2.0 binary container)."""
    if len(data) < 20 or data[:4] != _GLB_MAGIC:
        raise AssetError(f"{path}: malformed GLB: expected the 'glTF' magic and a 12-byte header")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise AssetError(f"{path}: expected a glTF 2.0 GLB, got version {version}")
    if length > len(data):
        raise AssetError(f"{path}: malformed GLB: the header declares {length} bytes, the file has {len(data)}")
    view = memoryview(data)[:length]
    chunks: dict[int, memoryview] = {}
    at = 12
    while at + 8 <= length:
        size, kind = struct.unpack_from("<II", view, at)
        if at + 8 + size > length:
            raise AssetError(f"{path}: malformed GLB: a chunk of {size} bytes at byte {at} runs past the end")
        chunks.setdefault(kind, view[at + 8 : at + 8 + size])
        at += 8 + size + (-size % 4)
    if _JSON_CHUNK not in chunks:
        raise AssetError(f"{path}: malformed GLB: no JSON chunk")
    return _json(path, chunks[_JSON_CHUNK]), chunks.get(_BIN_CHUNK)


def _check_gltf(path: Path, doc: dict[str, Any], binary: memoryview | None, max_triangles: int) -> None:
    try:
        nodes = _list(doc, "nodes")
        if len(nodes) > MAX_NODES:
            raise AssetError(f"{path}: expected at most {MAX_NODES} nodes, the file declares {len(nodes)}")
        meshes = _list(doc, "meshes")
        accessors = _list(doc, "accessors")
        per_mesh = [sum(_primitive_triangles(p, accessors) for p in _list(m, "primitives")) for m in meshes]
        instances = [n["mesh"] for n in nodes if isinstance(n, dict) and "mesh" in n]
        total = sum(per_mesh[_index(i, per_mesh)] for i in instances) if instances else sum(per_mesh)
        if total > max_triangles:
            raise AssetError(f"{path}: expected at most {max_triangles} triangles (the configured budget), the file "
                             f"declares {total}; decimate the model or raise max_triangles")
        for where, data in _images(path, doc, binary):
            _check_texture(path, where, data)
    except AssetError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise AssetError(f"{path}: malformed glTF: {type(exc).__name__} ({exc}) where the specification expects "
                         "an index or a count") from None


def _list(obj: Any, key: str) -> list[Any]:
    value = obj.get(key, []) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        raise TypeError(f"'{key}' is not a list")
    return value


def _index(value: Any, items: list[Any]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(items):
        raise IndexError(f"index {value!r} out of range 0..{len(items) - 1}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"count {value!r} is not a whole number")
    return value


def _primitive_triangles(primitive: Any, accessors: list[Any]) -> int:
    if not isinstance(primitive, dict):
        raise TypeError("a primitive is not an object")
    mode = primitive.get("mode", 4)
    if mode not in _TRIANGLE_MODES:
        return 0  # points and lines: no triangles
    if "indices" in primitive:
        count = _count(accessors[_index(primitive["indices"], accessors)]["count"])
    else:
        count = _count(accessors[_index(primitive["attributes"]["POSITION"], accessors)]["count"])
    return count // 3 if mode == 4 else max(count - 2, 0)


def _images(path: Path, doc: dict[str, Any], binary: memoryview | None) -> Iterator[tuple[str, bytes | memoryview]]:
    """``(where, encoded bytes)`` of each image the file holds (buffer view, data URI or a file beside it)."""
    views = _list(doc, "bufferViews")
    for k, image in enumerate(_list(doc, "images")):
        where = f"image {k}"
        if not isinstance(image, dict):
            raise TypeError(f"{where} is not an object")
        if "bufferView" in image:
            view = views[_index(image["bufferView"], views)]
            if view.get("buffer", 0) != 0 or binary is None:
                continue  # in an external buffer: trimesh reads it; its size is checked when decoded
            start = _count(view.get("byteOffset", 0))
            yield where, binary[start : start + _count(view["byteLength"])]
        elif isinstance(image.get("uri"), str):
            uri = image["uri"]
            if uri.startswith("data:"):
                yield where, base64.b64decode(uri.partition(",")[2], validate=False)
            else:
                file = path.parent / uri
                if file.is_file() and file.stat().st_size <= MAX_MODEL_BYTES:
                    yield f"{where} ({uri})", file.read_bytes()


def _check_texture(path: Path, where: str, data: bytes | memoryview) -> None:
    from arlens.errors import ImageTooLargeError
    from arlens.image import probe_image

    try:
        probe_image(data, name=f"{path} [{where}]", max_pixels=MAX_TEXTURE_PIXELS)
    except ImageTooLargeError as exc:
        raise AssetError(f"{path}: expected textures of at most {MAX_TEXTURE_PIXELS} pixels (4096 x 4096), "
                         f"{where} declares {exc.pixels}") from None
    except InputError:
        pass  # not an image Pillow can size: trimesh decodes or ignores it, the colour still works
