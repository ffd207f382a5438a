"""Batch try-on: a whole product line on one photo, or one product on many photos, per call.

This is the throughput path for brands previewing a catalog. The face models run once per batch
(:meth:`FaceTracker.detect_batch`: all images through the detector together, all faces through the
mesh model, all eyes through the iris model) and the lipstick lens composites every shade of a line
in one ONNX Runtime run (:meth:`LipstickLens.render_shades`). Eyewear is drawn image by image through
its GL renderer.
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
    """Paint the face in ``image`` with every lip product of ``products`` in one compositing run.

    Args:
        image: uint8 BGR photo.
        products: lipstick / lip-liner products (``arlens.Product`` or anything with ``id``, ``kind``,
            ``color``, ``finish``, ``opacity``).
        tracker: a FaceTracker to reuse (one is built and closed otherwise).
        backend: "onnx" (all shades in one ONNX Runtime run) or "numpy".

    Raises:
        InputError: a bad image, or a product that is not a lip product (named by id).
    """
    from arlens.lenses.lipstick import LipstickLens

    frame = as_bgr(image)
    for p in products:
        if _kind(p) not in LIP_KINDS:
            raise InputError(f"products: expected lip products ({', '.join(LIP_KINDS)}), got {p.id!r} of kind "
                             f"{_kind(p)!r}")
    faces = _detect([frame], tracker)[0]
    ids = tuple(str(p.id) for p in products)
    if not faces or not products:
        return ShadeSheet(np.repeat(frame[None], len(products), axis=0), ids, faces[0] if faces else None)
    with LipstickLens.from_product(products[0], backend=backend) as lens:
        images = lens.render_shades(frame, faces[0], list(products))
    return ShadeSheet(images, ids, faces[0])


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
    """Render one product (lipstick, lip liner or eyewear) on every face of every image.

    Returns the new images in the input order, with the faces found in each (an image without a face
    comes back unchanged, a copy, with no faces).

    Raises:
        InputError: a bad image (named by index) or a product kind without a face lens.
    """
    kind = _kind(product)
    if kind in LIP_KINDS:
        from arlens.lenses.lipstick import LipstickLens as lens_class
    elif kind == "eyewear":
        from arlens.lenses.eyewear import EyewearLens as lens_class
    else:
        raise InputError(f"product: expected a lipstick, lip liner or eyewear product, got kind {kind!r}")
    frames = [as_bgr(im, f"images[{i}]") for i, im in enumerate(images)]
    found = _detect(frames, tracker)
    with lens_class.from_product(product) as lens:
        out = tuple(lens.render(f, faces) if faces else f.copy() for f, faces in zip(frames, found, strict=True))
    return ImagesTryOn(out, tuple(tuple(faces) for faces in found))


def _detect(frames: list[np.ndarray], tracker: FaceTracker | None) -> list[list[Face]]:
    if tracker is not None:
        return tracker.detect_batch(frames)
    with FaceTracker() as own:
        return own.detect_batch(frames)
