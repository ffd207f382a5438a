"""Bytes in and out of the web service: image decoding with a pixel bound, JPEG/PNG encoding, data URLs.

Decoding goes through :func:`arlens.image.decode_image`, the one place where arlens reads image bytes:
it checks the header's width x height against a limit before decoding, so a small file that claims
a huge size cannot make the server allocate gigabytes.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np

from arlens.errors import InputError

MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}


def decode(data: bytes | bytearray | memoryview, *, name: str, max_pixels: int) -> np.ndarray:
    """uint8 BGR pixels of an encoded image.

    Raises:
        InputError: empty or not an image; ``ImageTooLargeError`` (an InputError) over ``max_pixels``.
    """
    from arlens.image import decode_image

    return decode_image(data, name=name, max_pixels=max_pixels)


def encode(image: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> bytes:
    """``image`` (uint8 BGR) as JPEG or PNG bytes.

    Raises:
        InputError: an unknown format.
    """
    if fmt == "jpeg":
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    elif fmt == "png":
        ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    else:
        raise InputError(f"format: expected one of {', '.join(MEDIA_TYPES)}, got {fmt!r}")
    if not ok:  # pragma: no cover - OpenCV encodes every uint8 BGR image
        raise InputError(f"could not encode a {image.shape} image as {fmt}")
    return buf.tobytes()


def data_url(data: bytes, fmt: str) -> str:
    """``data:image/...;base64,...`` for an <img> element."""
    return f"data:{MEDIA_TYPES[fmt]};base64,{base64.b64encode(data).decode('ascii')}"
