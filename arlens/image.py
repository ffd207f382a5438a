"""Input frames: one place for the rules every tracker and lens applies, and the byte-level helpers they share.

The image forms arlens accepts
------------------------------
Every public entry point that reads an image (``FaceTracker.detect``/``track``/``detect_batch``,
``HandTracker``, every lens's ``render`` and ``LipstickLens.render_shades``, ``TryOn.process`` and
``process_image``, :mod:`arlens.batch`, :func:`arlens.interop.draw_landmarks`) takes the same forms,
through :func:`as_bgr`:

- uint8 BGR (H, W, 3), OpenCV's convention: used as it is;
- uint8 grayscale (H, W) or (H, W, 1): converted to BGR;
- uint8 BGRA (H, W, 4) (``cv2.IMREAD_UNCHANGED`` of a PNG with alpha): the alpha is dropped;
- any of these as a non-contiguous view (a crop, ``frame[:, ::2]``, a channel of a bigger array).

Images that come back (a lens's ``render``, ``TryOnResult.frame``) are new uint8 BGR (H, W, 3) arrays of
the input's height and width; the input is never modified. Anything else
(another dtype, shape or channel count, an empty image, not an array) raises
:class:`~arlens.errors.InputError` saying what was received and what is expected.

The one exception is ``render_into(out, ...)``, which draws into the caller's own array: ``out`` must be
a writeable uint8 BGR (H, W, 3) array (a view is fine), since a grey or BGRA buffer cannot hold the
colours drawn (:func:`check_bgr`).

Encoded images (files, uploads) come in through :func:`decode_image` / :func:`read_image`, which read the
width and height from the file's header (with Pillow, lazily: no pixel is decoded) and refuse an image
over ``max_pixels`` before OpenCV decodes it, so a 0.7 MB PNG that declares 16000x16000 costs nothing.
"""

from __future__ import annotations

import functools
import io
import os
import re
from dataclasses import dataclass
from typing import BinaryIO

import cv2
import numpy as np

from arlens.errors import ImageTooLargeError, InputError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_SIDE",
    "SUPPORTED_FORMATS",
    "ImageInfo",
    "ImageTooLargeError",
    "as_bgr",
    "check_bgr",
    "decode_image",
    "opencv_writable",
    "over_premultiplied",
    "probe_image",
    "read_image",
    "rgb_planes",
    "rgb_tensor",
]

EXPECTED = "a uint8 BGR image of shape (H, W, 3) (grayscale (H, W) or BGRA (H, W, 4) are converted)"

#: The most pixels :func:`decode_image` decodes by default: 50 megapixels. The largest stills that phones
#: and consumer cameras write (48-50 MP sensors: 8000x6000, 8160x6120) fit; decoded as BGR that is 150 MB,
#: and a tracker or lens never needs more (the models see 128-256 px crops). A caller that really wants
#: more passes ``max_pixels``.
DEFAULT_MAX_PIXELS = 50_000_000

#: Frames whose width or height reaches this are refused by the trackers: OpenCV's ``remap`` (the trackers'
#: crops) asserts both sides of its source are below ``SHRT_MAX`` (32767). Such a frame within the pixel
#: budget is a strip at least 21:1, never a camera frame, so it is refused rather than downscaled.
MAX_SIDE = 32767

#: Formats decoded (Pillow's names for identifying them; OpenCV decodes them). Anything else is refused
#: before decoding, because only for these are both libraries reading the same header.
SUPPORTED_FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF", "PPM", "JPEG2000", "AVIF")


def as_bgr(image: object, name: str = "image") -> np.ndarray:
    """Validate ``image`` and return it as a uint8 (H, W, 3) BGR array (the input itself when it already is)."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: expected {EXPECTED}, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"{name}: expected {EXPECTED}, got dtype {image.dtype}")
    if image.ndim not in (2, 3) or image.size == 0 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"{name}: expected {EXPECTED}, got shape {image.shape}")
    if image.shape[0] >= MAX_SIDE or image.shape[1] >= MAX_SIDE:
        raise InputError(f"{name}: expected width and height below {MAX_SIDE} px (OpenCV's limit for the "
                         f"trackers' crops), got {image.shape[1]}x{image.shape[0]}")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(image.reshape(image.shape[:2])), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    if image.shape[2] != 3:
        raise InputError(f"{name}: expected {EXPECTED}, got {image.shape[2]} channels (shape {image.shape})")
    return image


def bgr_copy(image: object, name: str = "image") -> np.ndarray:
    """:func:`as_bgr`, always a new array the caller may draw into (what a lens's ``render`` starts from)."""
    bgr = as_bgr(image, name)
    return bgr.copy() if bgr is image else bgr


def check_bgr(image: object, name: str = "frame", writeable: bool = False) -> np.ndarray:
    """``image`` itself if it is a non-empty uint8 (H, W, 3) BGR array (a view is fine), else InputError.

    For the lenses, which draw on exactly what they are given: no conversion, unlike :func:`as_bgr`.
    ``writeable`` also requires that it can be drawn into (not a read-only array).
    """
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: expected a uint8 BGR image of shape (H, W, 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"{name}: expected a uint8 BGR image of shape (H, W, 3), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"{name}: expected a uint8 BGR image of shape (H, W, 3), got shape {image.shape}")
    if writeable and not image.flags.writeable:
        raise InputError(f"{name}: expected a writeable image to draw into, got a read-only array")
    return image


def rgb_tensor(crops: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 BGR crops as the landmark models' input: float32 RGB in [0, 1], same shape.

    Equal, value for value, to ``crops[..., ::-1].astype(np.float32) * (1 / 255)`` at an eighth of its cost
    on a 192x192 crop (OpenCV swaps the channels; numpy's reversed-stride read was the slow part).
    """
    rgb = np.empty_like(crops)
    for src, dst in zip(crops, rgb, strict=True):
        cv2.cvtColor(src, cv2.COLOR_BGR2RGB, dst=dst)
    return np.multiply(rgb, np.float32(1.0 / 255.0), dtype=np.float32)


def rgb_planes(crops: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 BGR crops as channels-first model input: float32 (N, 3, H, W), R, G, B planes in [0, 1].

    :func:`rgb_tensor`'s values laid out planar, for models fed channels first (:func:`arlens.runtime.
    channels_first`): OpenCV splits the channels and each plane gets the same one float32 multiply, so the
    values are those of ``rgb_tensor(crops).transpose(0, 3, 1, 2)`` bit for bit, for about the same cost.
    """
    n, h, w = crops.shape[:3]
    out = np.empty((n, 3, h, w), dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    for crop, planes in zip(crops, out, strict=True):
        b, g, r = cv2.split(crop)
        np.multiply(r, scale, out=planes[0])
        np.multiply(g, scale, out=planes[1])
        np.multiply(b, scale, out=planes[2])
    return out


def over_premultiplied(dst: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Composite premultiplied RGBA (as OpenGL reads it back) over a BGR image, in place; returns ``dst``.

    ``dst``: uint8 (H, W, 3) BGR, a view into the frame is fine; ``rgba``: uint8 (H, W, 4) premultiplied
    RGBA of the same height and width. Each channel becomes ``round(dst * (255 - a) / 255) + colour``
    (saturated), which equals rounding the float "over" operator once because the colour is an integer;
    OpenCV does it in the bytes, ten times faster than going through float32.

    Raises:
        InputError: wrong dtype or shape, a read-only ``dst``, or a size mismatch (both shapes are named).
    """
    check_bgr(dst, "over_premultiplied: dst", writeable=True)
    if not isinstance(rgba, np.ndarray) or rgba.dtype != np.uint8 or rgba.shape != (*dst.shape[:2], 4):
        got = f"{rgba.dtype} {rgba.shape}" if isinstance(rgba, np.ndarray) else type(rgba).__name__
        want = (*dst.shape[:2], 4)
        raise InputError(f"over_premultiplied: rgba: expected uint8 {want} premultiplied RGBA, got {got}")
    rgba = np.ascontiguousarray(rgba)
    color = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    keep = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(rgba, 3)), cv2.COLOR_GRAY2BGR)  # 255 - alpha
    # OpenCV writes into rows of packed pixels only: a mirrored, flipped, Fortran-ordered or column-strided
    # view is composited in a copy and written back through the view
    # (a copy, not np.ascontiguousarray: numpy calls a (1, 1, 3) view with a column stride contiguous and
    # returns it as is, which OpenCV then refuses: found by tests/fuzz)
    target = dst if opencv_writable(dst) else dst.copy()
    cv2.add(cv2.multiply(target, keep, scale=1.0 / 255.0), color, dst=target)
    if target is not dst:
        dst[...] = target
    return dst


def opencv_writable(image: np.ndarray) -> bool:
    """Whether OpenCV can write into ``image`` in place (an (H, W, C) view whose rows are packed pixels)."""
    s = image.strides
    return s[-1] == image.itemsize and s[1] == image.shape[2] * image.itemsize and s[0] >= s[1] * image.shape[1]


@dataclass(frozen=True)
class ImageInfo:
    """What an encoded image's header declares: its size and format (Pillow's name, e.g. ``"PNG"``)."""

    width: int
    height: int
    format: str

    @property
    def pixels(self) -> int:
        return self.width * self.height


_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def _probe(stream: BinaryIO, name: str, max_pixels: int) -> ImageInfo:
    """Header of the image in ``stream`` (read lazily by Pillow), checked against ``max_pixels``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(stream, formats=_pillow_formats()) as im:
            width, height, fmt = int(im.size[0]), int(im.size[1]), str(im.format)
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit (2 * Image.MAX_IMAGE_PIXELS) struck first; its message holds the pixel count.
        found = _BOMB_PIXELS.search(str(exc))
        limit = min(max_pixels, 2 * int(Image.MAX_IMAGE_PIXELS or 0)) or max_pixels
        pixels = int(found.group(1)) if found else limit + 1
        raise ImageTooLargeError(f"{name}: expected at most {limit} pixels, the header declares {pixels}",
                                 pixels, limit) from None
    except UnidentifiedImageError:
        raise InputError(f"{name}: expected an image ({', '.join(SUPPORTED_FORMATS)}), got "
                         f"{_what_else(stream)}") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's header parsers raise many types on malformed headers
        raise InputError(f"{name}: expected an image, got a malformed header ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from None
    if width <= 0 or height <= 0:
        raise InputError(f"{name}: expected an image of positive size, the header declares {width}x{height}")
    if width * height > max_pixels:
        raise ImageTooLargeError(f"{name}: expected at most {max_pixels} pixels, the header declares "
                                 f"{width}x{height} = {width * height}", width * height, max_pixels)
    return ImageInfo(width, height, fmt)


@functools.cache
def _pillow_formats() -> tuple[str, ...]:
    """:data:`SUPPORTED_FORMATS` that this Pillow can identify (its AVIF plugin is recent)."""
    from PIL import Image

    known = set(Image.registered_extensions().values())
    return tuple(f for f in SUPPORTED_FORMATS if f in known)


def _what_else(stream: BinaryIO) -> str:
    """A name for data that is none of the supported formats: another image format Pillow knows, or not one."""
    from PIL import Image

    try:
        stream.seek(0)
        with Image.open(stream) as im:
            return f"{im.format}, a format arlens does not read"
    except Exception:  # noqa: BLE001 - only naming what it is not
        return "data that is not an image format arlens reads"


def _check_max_pixels(max_pixels: object) -> int:
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int | np.integer) or max_pixels < 1:
        raise InputError(f"max_pixels: expected a whole number >= 1, got {max_pixels!r}")
    return int(max_pixels)


def _as_buffer(data: object, name: str) -> memoryview:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"{name}: expected the bytes of an encoded image, got {type(data).__name__}")
    view = memoryview(data)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    if view.nbytes == 0:
        raise InputError(f"{name}: expected an encoded image, got 0 bytes")
    return view


def probe_image(data: bytes | bytearray | memoryview, *, name: str = "image",
                max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Width, height and format from an encoded image's header, without decoding a pixel.

    Raises:
        InputError: empty data, not an image, a malformed header or an unsupported format (names ``name``).
        ImageTooLargeError: the header declares more than ``max_pixels`` pixels.
    """
    limit = _check_max_pixels(max_pixels)
    return _probe(io.BytesIO(_as_buffer(data, name)), name, limit)


def _decode(buffer: memoryview, info: ImageInfo, name: str, limit: int) -> np.ndarray:
    try:
        image = cv2.imdecode(np.frombuffer(buffer, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise InputError(f"{name}: cannot decode this {info.format} ({str(exc).strip().splitlines()[-1]})") from None
    if image is None:
        raise InputError(f"{name}: cannot decode this {info.format} (corrupt or truncated, or a variant of "
                         f"{info.format} that OpenCV does not read)")
    if image.shape[0] * image.shape[1] > limit:  # the header read by Pillow disagreed with OpenCV's decoder
        raise ImageTooLargeError(f"{name}: expected at most {limit} pixels, decoded {image.shape[1]}x"
                                 f"{image.shape[0]}", image.shape[0] * image.shape[1], limit)
    return image


def decode_image(data: bytes | bytearray | memoryview, *, name: str = "image",
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an encoded image (PNG, JPEG, WebP, ...: :data:`SUPPORTED_FORMATS`) into uint8 BGR (H, W, 3).

    The header's width * height is checked against ``max_pixels`` before any pixel is decoded, so an
    upload cannot make the caller allocate more than ``3 * max_pixels`` bytes. Decoding is OpenCV's
    (``cv2.imdecode``, colour, EXIF orientation applied; the first frame of an animation).

    Args:
        data: the file's bytes.
        name: what to call the data in error messages (a file or form field name).
        max_pixels: the most pixels allowed (:data:`DEFAULT_MAX_PIXELS`, 50 MP, by default).

    Raises:
        InputError: empty data, not an image, an unsupported format, or corrupt data (names ``name``).
        ImageTooLargeError: the header declares more than ``max_pixels`` pixels (an ``InputError``).
    """
    limit = _check_max_pixels(max_pixels)
    buffer = _as_buffer(data, name)
    info = _probe(io.BytesIO(buffer), name, limit)
    return _decode(buffer, info, name, limit)


def read_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as uint8 BGR (H, W, 3), with the same checks as :func:`decode_image`.

    The header is read (and the pixel bound checked) before the rest of the file.

    Raises:
        InputError: no such file, not a regular file, unreadable, or as for :func:`decode_image`.
        ImageTooLargeError: the header declares more than ``max_pixels`` pixels.
    """
    limit = _check_max_pixels(max_pixels)
    name = os.fspath(path)
    if not os.path.exists(name):
        raise InputError(f"{name}: no such file")
    if not os.path.isfile(name):
        raise InputError(f"{name}: expected an image file, got {'a folder' if os.path.isdir(name) else 'not a file'}")
    try:
        with open(name, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise InputError(f"{name}: expected an encoded image, got an empty file")
            info = _probe(f, name, limit)
            f.seek(0)
            buffer = memoryview(f.read())
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return _decode(buffer, info, name, limit)
