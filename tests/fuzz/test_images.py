"""Fuzz: frames and views (as_bgr, check_bgr, compositing, lenses' render_into, the trackers) and encoded
images (decode_image, probe_image): a result or InputError, within time and memory bounds."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from arlens.errors import ImageTooLargeError, InputError
from arlens.image import MAX_SIDE, as_bgr, check_bgr, decode_image, over_premultiplied, probe_image
from tests.fuzz.conftest import bounded, budget

DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.float16, np.float32, np.float64, np.bool_, np.complex64]


@st.composite
def arrays(draw, max_side: int = 48):
    """Arrays of any dtype and 0-4 dimensions, sometimes a long thin strip past OpenCV's side limit, seen
    through a random view: a negative step, a stride, a transpose or Fortran order."""
    dtype = draw(st.sampled_from(DTYPES))
    ndim = draw(st.integers(0, 4))
    shape = [draw(st.integers(0, max_side)) for _ in range(ndim)]
    if ndim >= 2 and draw(st.integers(0, 9)) == 0:  # a strip: one side at or past OpenCV's remap limit
        shape[draw(st.integers(0, 1))] = draw(st.sampled_from([MAX_SIDE - 1, MAX_SIDE, 40_000]))
        shape = [s if s >= MAX_SIDE - 1 else min(s, 2) for s in shape]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = (rng.random(shape) * 300 - 20).astype(dtype) if shape else np.array(7, dtype)
    return view_of(draw, base)


def view_of(draw, base: np.ndarray) -> np.ndarray:
    kind = draw(st.sampled_from(["plain", "mirrored", "flipped", "strided", "fortran", "transposed", "readonly"]))
    if base.ndim < 2:
        return base
    if kind == "mirrored":
        return base[:, ::-1]
    if kind == "flipped":
        return base[::-1]
    if kind == "strided":
        return base[::2, ::3]
    if kind == "fortran":
        return np.asfortranarray(base)
    if kind == "transposed":
        return base.swapaxes(0, 1)
    if kind == "readonly":
        base.setflags(write=False)
    return base


@budget(examples=150, deadline_ms=2000)
@given(arrays())
def test_as_bgr_gives_a_bgr_frame_or_input_error(image):
    try:
        out = as_bgr(image, "frame")
    except InputError as exc:
        assert str(exc).startswith("frame: expected")
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert 0 < out.shape[0] < MAX_SIDE and 0 < out.shape[1] < MAX_SIDE
    assert out.shape[:2] == image.shape[:2]


@budget(examples=150, deadline_ms=2000)
@given(arrays(), st.booleans())
def test_check_bgr_passes_the_array_itself_or_input_error(image, writeable):
    try:
        out = check_bgr(image, "out", writeable=writeable)
    except InputError:
        return
    assert out is image and image.dtype == np.uint8 and image.shape[2:] == (3,)


@budget(examples=60, deadline_ms=3000)
@given(st.data())
def test_over_premultiplied_draws_through_any_view(data):
    h, w = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
    rgba = np.dstack([(rng.random((h, w, 3)) * alpha[..., None]).astype(np.uint8), alpha])
    expected = over_premultiplied(frame.copy(), rgba)
    kind = data.draw(st.sampled_from(["mirrored", "flipped", "fortran", "strided"]))
    from tests.lenses.test_nails import _view_of

    out, back = _view_of(frame, kind)
    over_premultiplied(out, rgba)
    np.testing.assert_array_equal(back(), expected)


# --- encoded images ----------------------------------------------------------------------------------------

SAMPLE = np.dstack([np.tile(np.arange(24, dtype=np.uint8) * 10, (18, 1))] * 3)
ENCODINGS = {ext: cv2.imencode(ext, SAMPLE)[1].tobytes() for ext in (".png", ".jpg", ".bmp", ".webp", ".tiff")}


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@st.composite
def encoded(draw):
    """Real small images, mutated: bytes flipped, cut short, junk appended, or the PNG header rewritten to
    declare any size (with a correct CRC, so both readers believe it), or random bytes."""
    kind = draw(st.sampled_from(["mutated", "truncated", "declared", "random", "empty-ish"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "empty-ish":
        return draw(st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"GIF89a", b"RIFF"]))
    data = bytearray(ENCODINGS[draw(st.sampled_from(sorted(ENCODINGS)))])
    if kind == "mutated":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "truncated":
        return bytes(data[: draw(st.integers(0, len(data)))])
    width = draw(st.one_of(st.integers(0, 64), st.integers(0, 2**31 - 1), st.sampled_from([8000, 16000, 100_000])))
    height = draw(st.one_of(st.integers(0, 64), st.integers(0, 2**31 - 1), st.sampled_from([7000, 16000])))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * draw(st.integers(0, 2000)))
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


@budget(examples=250, deadline_ms=5000)
@given(encoded(), st.sampled_from([50_000_000, 10_000, 1]))
@example(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16000, 16000, 8, 2, 0, 0, 0)), 50_000_000)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # Pillow on corrupt TIFF headers
def test_decode_image_gives_a_bounded_image_or_input_error(data, max_pixels):
    with bounded(max_mb=3 * min(max_pixels, 2_000_000) / 2**20 + 32):
        try:
            image = decode_image(data, name="upload", max_pixels=max_pixels)
        except ImageTooLargeError as exc:
            assert exc.pixels > exc.limit and exc.limit <= max_pixels
            return
        except InputError as exc:
            assert "upload" in str(exc)
            return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] * image.shape[1] <= max_pixels
    info = probe_image(data)
    assert (info.width, info.height) in (image.shape[1::-1], image.shape[:2])  # EXIF may turn it


# --- the trackers and lenses on hostile frames --------------------------------------------------------------


@st.composite
def frames(draw):
    """Frames a tracker may be given: tiny to a 32,766 px strip, noise, flat, gray or BGRA, through a view."""
    h = draw(st.one_of(st.integers(1, 64), st.sampled_from([1, 2, 3, 127, 480])))
    w = draw(st.one_of(st.integers(1, 64), st.sampled_from([1, 2, 3, 255, 640])))
    if draw(st.integers(0, 7)) == 0:
        h, w = draw(st.sampled_from([(1, MAX_SIDE - 1), (MAX_SIDE - 1, 2), (2, MAX_SIDE), (3, 40_000)]))
    channels = draw(st.sampled_from([None, 1, 3, 3, 3, 4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    fill = draw(st.sampled_from(["noise", "flat", "dark", "bright"]))
    shape = (h, w) if channels is None else (h, w, channels)
    if fill == "noise":
        base = rng.integers(0, 256, shape, dtype=np.uint8)
    else:
        base = np.full(shape, {"flat": 127, "dark": 0, "bright": 255}[fill], np.uint8)
    return view_of(draw, base)


@pytest.fixture(scope="module")
def trackers():
    import arlens
    from arlens.tracking.segmentation import PersonSegmenter

    with arlens.FaceTracker() as faces, arlens.HandTracker() as hands, PersonSegmenter() as person:
        yield faces, hands, person


@budget(examples=40, deadline_ms=20_000)
@given(frames())
def test_trackers_give_valid_results_or_input_error(trackers, frame):
    """Face and hand trackers and the person segmenter (with the kiosk's background blur over its mask)."""
    from arlens.image import as_bgr
    from arlens.render.background import blur_background

    faces_tracker, hands_tracker, segmenter = trackers
    with bounded(max_mb=frame.size * 8 / 2**20 + 64):
        try:
            faces = faces_tracker.detect(frame)
            hands = hands_tracker.detect(frame)
            mask = segmenter.segment(frame)
        except InputError as exc:
            assert "expected" in str(exc)
            return
    for found in (*faces, *hands):
        assert np.isfinite(found.landmarks).all()
    assert mask.frame_shape == frame.shape[:2]
    assert np.isfinite(mask.low).all() and mask.low.min() >= 0.0 and mask.low.max() <= 1.0
    bgr = as_bgr(frame, "frame")
    with bounded(max_mb=bgr.size * 16 / 2**20 + 64):
        blurred = blur_background(bgr, mask)
    assert blurred.shape == bgr.shape and blurred.dtype == np.uint8
