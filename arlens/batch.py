"""Batch try-on: a whole product line on one photo, or one product on many photos, per call.

This is the throughput path for brands previewing a catalog. The face models run once per batch
(:meth:`FaceTracker.detect_batch`: all images through the detector together, all faces through the
mesh model, all eyes through the iris model) and the lipstick lens composites every shade of a line
in one ONNX Runtime run (:meth:`LipstickLens.render_shades`). Eye, brow, cheek and skin make-up shares one
scene and one face space (the face's UV map, its erase masks) across the whole line, so each further product
costs only its own compositing. Eyewear is drawn image by image through its GL renderer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import Any

import numpy as np

from arlens.errors import InputError
from arlens.image import as_bgr
from arlens.tracking.face import FaceTracker
from arlens.tracking.results import Face

LIP_KINDS = ("lipstick", "lip_liner")
#: Kinds a product line may be of (what :func:`render_product_line` paints on one face).
LINE_KINDS = ("lipstick", "lip_liner", "eyeshadow", "eyeliner", "mascara", "brow", "blush", "foundation", "contour",
              "highlighter")


def _kind(product: Any) -> str:
    kind = getattr(product, "kind", None)
    return str(getattr(kind, "value", kind))


@dataclass(frozen=True)
class ShadeSheet:
    """One photo in every shade of a line.

    Attributes:
        images: uint8 (N, H, W, 3), the photo once per product, in the order given.
        product_ids: the N products' ids.
        face: the face the shades were painted on (the most prominent one), or None if none was found
            (then every image is the unchanged photo).
    """

    images: np.ndarray
    product_ids: tuple[str, ...]
    face: Face | None


def render_product_line(image: np.ndarray, products: Sequence[Any], *, tracker: FaceTracker | None = None,
                        backend: str = "onnx") -> ShadeSheet:
    """Paint the face in ``image`` with every product of a line, one image per product.

    Lip products go through one compositing run (:meth:`LipstickLens.render_shades`); eye, brow, cheek and
    skin products share one scene and the face's UV map and erase masks.

    Args:
        image: uint8 BGR photo.
        products: products of :data:`LINE_KINDS` (``arlens.Product``, or for lip products anything with ``id``,
            ``kind``, ``color``, ``finish``, ``opacity``).
        tracker: a FaceTracker to reuse (one is built and closed otherwise).
        backend: the lip products' "onnx" (all shades in one ONNX Runtime run) or "numpy".

    Raises:
        InputError: a bad image, or a product of a kind not painted on a face (named by id).
    """
    from arlens.lenses.lipstick import LipstickLens

    frame = as_bgr(image)
    for p in products:
        if _kind(p) not in LINE_KINDS:
            raise InputError(f"products: expected products of the kinds {', '.join(LINE_KINDS)}, got {p.id!r} of "
                             f"kind {_kind(p)!r}")
    faces = _detect([frame], tracker)[0]
    ids = tuple(str(p.id) for p in products)
    images = np.repeat(frame[None], len(products), axis=0)
    if not faces or not products:
        return ShadeSheet(images, ids, faces[0] if faces else None)
    face = faces[0]
    lips = [i for i, p in enumerate(products) if _kind(p) in LIP_KINDS]
    if lips:
        with LipstickLens.from_product(products[lips[0]], backend=backend) as lens:
            images[lips] = lens.render_shades(frame, face, [products[i] for i in lips])
    others = [i for i in range(len(products)) if i not in set(lips)]
    if others:
        from arlens.lenses.makeup import MakeupLens
        from arlens.scene import Scene

        scene = Scene(frame, [face])
        for i in others:
            MakeupLens.from_product(products[i]).render_into(images[i], [face], scene)
    return ShadeSheet(images, ids, face)


@dataclass(frozen=True, eq=False)
class ImagesTryOn(SequenceABC):
    """One product on many photos: the images, and the faces found in each.

    It is also the sequence of its images (``len``, indexing and iteration give the images), so
    ``for image in try_on_images(...)`` reads as before.

    Attributes:
        images: uint8 BGR (H, W, 3) per input, in the input order; an image without a face is an unchanged copy.
        faces: the faces found (and drawn on) in each image, same order.
    """

    images: tuple[np.ndarray, ...]
    faces: tuple[tuple[Face, ...], ...]

    @property
    def face_counts(self) -> tuple[int, ...]:
        """How many faces each image had."""
        return tuple(len(f) for f in self.faces)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: Any) -> Any:
        return self.images[index]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.images)


def try_on_images(images: Sequence[np.ndarray], product: Any, *, tracker: FaceTracker | None = None) -> ImagesTryOn:
    """Render one product of a kind drawn on faces (lip, eye, brow, cheek and skin make-up, eyewear) on every
    face of every image; the lens comes from the lens registry.

    Returns the new images in the input order, with the faces found in each (an image without a face
    comes back unchanged, a copy, with no faces).

    Raises:
        InputError: a bad image (named by index) or a product kind without a face lens.
    """
    from arlens.lenses.registry import default_registry

    kind = _kind(product)
    spec = default_registry().get(kind)
    if spec is None or spec.target != "face":
        raise InputError(f"product: expected a product of a kind drawn on faces, got kind {kind!r}")
    frames = [as_bgr(im, f"images[{i}]") for i, im in enumerate(images)]
    found = _detect(frames, tracker)
    lens = spec.build(product)
    try:
        out = tuple(lens.render(f, faces) if faces else f.copy() for f, faces in zip(frames, found, strict=True))
    finally:
        close = getattr(lens, "close", None)
        if close is not None:
            close()
    return ImagesTryOn(out, tuple(tuple(faces) for faces in found))


def _detect(frames: list[np.ndarray], tracker: FaceTracker | None) -> list[list[Face]]:
    if tracker is not None:
        return tracker.detect_batch(frames)
    with FaceTracker() as own:
        return own.detect_batch(frames)
