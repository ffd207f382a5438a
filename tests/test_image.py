"""arlens.image: the input rules every tracker applies, the crops-to-tensor conversion and compositing."""

from __future__ import annotations

import re

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.image import as_bgr, check_bgr, over_premultiplied, rgb_tensor
from tests.support import read_image


def test_rgb_tensor_equals_the_plain_numpy_conversion():
    image = read_image("faces/grace_hopper.jpg")
    crops = np.stack([image[:192, :192], image[100:292, 50:242]])
    tensor = rgb_tensor(crops)
    assert tensor.dtype == np.float32 and tensor.shape == crops.shape
    # exact by construction: both sides convert the byte exactly and do one IEEE float32 multiply by the
    # same float32 constant, which every CPU rounds the same way
    np.testing.assert_array_equal(tensor, crops[..., ::-1].astype(np.float32) * (1.0 / 255.0))
    assert tensor.min() >= 0.0 and tensor.max() <= 1.0


def test_rgb_tensor_of_no_crops_is_empty():
    assert rgb_tensor(np.zeros((0, 4, 4, 3), np.uint8)).shape == (0, 4, 4, 3)


@pytest.mark.parametrize("bad, what", [
    (np.zeros((4, 4, 3), np.float32), "dtype float32"),
    (np.zeros((4, 4, 2), np.uint8), "2 channels"),
    (np.zeros((0, 4, 3), np.uint8), "shape (0, 4, 3)"),
    ([[0, 0]], "got list"),
])
def test_as_bgr_names_what_is_wrong(bad, what):
    with pytest.raises(InputError, match=r"frame: expected a uint8 BGR image.*" + re.escape(what)):
        as_bgr(bad, "frame")


def test_as_bgr_converts_gray_and_bgra_and_passes_bgr_through():
    bgr = read_image("faces/astronaut.png")
    assert as_bgr(bgr) is bgr
    assert as_bgr(bgr[..., 0]).shape == bgr.shape
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])
    np.testing.assert_array_equal(as_bgr(bgra), bgr)


def _float_over(dst: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """The "over" operator in float, rounded once: what over_premultiplied must equal."""
    alpha = rgba[..., 3:4].astype(np.float64) / 255.0
    color = rgba[..., 2::-1].astype(np.float64)
    return np.clip(np.floor(dst * (1.0 - alpha) + color + 0.5), 0, 255).astype(np.uint8)


def test_over_premultiplied_equals_the_float_operator_in_place_on_a_view():
    rng = np.random.default_rng(3)
    frame = read_image("faces/grace_hopper.jpg")
    h, w = 40, 70
    alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
    alpha[:, :10], alpha[:, 10:20] = 0, 255  # fully clear and fully covered columns
    rgba = np.dstack([(rng.random((h, w, 3)) * alpha[..., None]).astype(np.uint8), alpha])
    expected = _float_over(frame[30:30 + h, 50:50 + w], rgba)
    out = frame.copy()
    result = over_premultiplied(out[30:30 + h, 50:50 + w], rgba)
    # exact on any CPU although the paths differ: dst * (255 - a) / 255 is never within 1/510 of a rounding
    # boundary (255 is odd), far more than the float32 error of OpenCV's scaled multiply (< 1e-4), and the
    # rest is integer arithmetic
    np.testing.assert_array_equal(out[30:30 + h, 50:50 + w], expected)  # written through the view
    assert np.shares_memory(result, out)
    np.testing.assert_array_equal(out[30:30 + h, 50:50 + 10], frame[30:30 + h, 50:50 + 10])  # alpha 0 keeps
    np.testing.assert_array_equal(out[30:30 + h, 60:70], rgba[:, 10:20, 2::-1])  # alpha 255 replaces
    outside = np.ones(out.shape[:2], bool)
    outside[30:30 + h, 50:50 + w] = False
    np.testing.assert_array_equal(out[outside], frame[outside])


@pytest.mark.parametrize("dst, rgba, what", [
    (np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 4), np.uint8), "dst: expected a uint8 BGR image"),
    (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 4), np.uint8), "rgba: expected uint8 (4, 4, 4)"),
    (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), "got uint8 (4, 4, 3)"),
])
def test_over_premultiplied_names_what_is_wrong(dst, rgba, what):
    with pytest.raises(InputError, match=re.escape(what)):
        over_premultiplied(dst, rgba)


def test_over_premultiplied_refuses_a_read_only_dst():
    dst = np.zeros((4, 4, 3), np.uint8)
    dst.setflags(write=False)
    with pytest.raises(InputError, match="dst: expected a writeable image"):
        over_premultiplied(dst, np.zeros((4, 4, 4), np.uint8))


def test_check_bgr_passes_views_through_and_refuses_conversions_and_read_only():
    image = read_image("faces/astronaut.png")
    view = image[10:50, 20:80]
    assert check_bgr(view) is view
    with pytest.raises(InputError, match="out: expected a uint8 BGR image.*got shape \\(4, 4\\)"):
        check_bgr(np.zeros((4, 4), np.uint8), "out")  # as_bgr converts gray; a lens must not draw on a copy
    view.setflags(write=False)
    assert check_bgr(view) is view
    with pytest.raises(InputError, match="out: expected a writeable image"):
        check_bgr(view, "out", writeable=True)


# -- encoded images: decode_image / read_image / probe_image ------------------------------------------

def _png(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` (RGB, 8 bit), with a tiny IDAT: a header-only bomb."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64) if idat is None else idat
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _encoded(ext: str, image: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel gets decoded: the refusal must come from the header alone."""
    import arlens.image

    def refuse(*args, **kwargs):
        raise AssertionError("cv2.imdecode was called")

    monkeypatch.setattr(arlens.image.cv2, "imdecode", refuse)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tiff"])
def test_decode_image_equals_opencvs_decoder(ext):
    from arlens.image import decode_image

    image = read_image("faces/astronaut.png")[:100, :150]
    data = _encoded(ext, image)
    import cv2

    expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    for form in (data, bytearray(data), memoryview(data)):
        out = decode_image(form)
        assert out.dtype == np.uint8 and out.shape == (100, 150, 3)
        np.testing.assert_array_equal(out, expected)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own, from 89 MP
def test_decode_image_refuses_an_over_large_header_before_decoding(no_decoding):
    from arlens.errors import ImageTooLargeError
    from arlens.image import DEFAULT_MAX_PIXELS, decode_image

    # 16000 x 16000 (Pillow's own warning band starts at 89 MP; its hard refusal at 179 MP) and 8000 x 7000
    for (w, h) in [(16000, 16000), (8000, 7000), (100_000, 100_000)]:
        with pytest.raises(ImageTooLargeError, match=r"upload: expected at most 50000000 pixels") as info:
            decode_image(_png(w, h), name="upload")
        assert info.value.pixels == w * h and info.value.limit == DEFAULT_MAX_PIXELS
        assert isinstance(info.value, InputError)
    with pytest.raises(ImageTooLargeError, match="at most 99 pixels, the header declares 10x10 = 100") as info:
        decode_image(_png(10, 10), max_pixels=99)
    assert (info.value.pixels, info.value.limit) == (100, 99)


@pytest.mark.parametrize("data, what", [
    (b"", "photo: expected an encoded image, got 0 bytes"),
    (bytearray(), "photo: expected an encoded image, got 0 bytes"),
    (b"this is not an image", "photo: expected an image (PNG, JPEG"),
    (b"\x89PNG\r\n\x1a\n", "photo: expected an image"),
    ("a string", "photo: expected the bytes of an encoded image, got str"),
    (None, "photo: expected the bytes of an encoded image, got NoneType"),
])
def test_decode_image_names_what_is_wrong(data, what):
    from arlens.image import decode_image

    with pytest.raises(InputError, match=re.escape(what)):
        decode_image(data, name="photo")


def test_decode_image_refuses_unsupported_formats_by_name(no_decoding):
    import io

    from PIL import Image

    from arlens.image import decode_image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "ICO")
    with pytest.raises(InputError, match="got ICO, a format arlens does not read"):
        decode_image(buf.getvalue())


def test_decode_image_refuses_a_corrupt_body_with_a_good_header():
    from arlens.image import decode_image

    data = _encoded(".png", np.zeros((40, 30, 3), np.uint8))
    with pytest.raises(InputError, match="image: cannot decode this PNG"):
        decode_image(data[: len(data) // 2] + b"\0" * 10)


def test_decode_image_checks_max_pixels():
    from arlens.image import decode_image

    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(InputError, match="max_pixels: expected a whole number >= 1"):
            decode_image(b"x", max_pixels=bad)


def test_probe_image_reads_the_header_only(no_decoding):
    from arlens.image import probe_image

    info = probe_image(_png(640, 480))
    assert (info.width, info.height, info.format, info.pixels) == (640, 480, "PNG", 640 * 480)


def test_read_image_reads_files_and_names_missing_ones(tmp_path):
    import cv2

    from arlens.image import read_image as arlens_read

    path = tmp_path / "face.jpg"
    cv2.imwrite(str(path), read_image("faces/astronaut.png"))
    np.testing.assert_array_equal(arlens_read(path), cv2.imread(str(path)))
    np.testing.assert_array_equal(arlens_read(str(path)), cv2.imread(str(path)))
    with pytest.raises(InputError, match=re.escape(f"{tmp_path / 'nope.png'}: no such file")):
        arlens_read(tmp_path / "nope.png")
    with pytest.raises(InputError, match="expected an image file, got a folder"):
        arlens_read(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InputError, match="empty.png: expected an encoded image, got an empty file"):
        arlens_read(tmp_path / "empty.png")


def test_read_image_refuses_an_over_large_header_before_decoding(tmp_path, no_decoding):
    from arlens.errors import ImageTooLargeError
    from arlens.image import read_image as arlens_read

    (tmp_path / "wide.png").write_bytes(_png(60_000, 1000))
    with pytest.raises(ImageTooLargeError, match="wide.png: expected at most 50000000 pixels"):
        arlens_read(tmp_path / "wide.png")


def test_as_bgr_refuses_sides_opencv_cannot_remap():
    """A strip 32767 px wide is within the pixel budget but past OpenCV's remap limit (cv2.error before)."""
    from arlens.image import MAX_SIDE

    as_bgr(np.zeros((2, MAX_SIDE - 1, 3), np.uint8))
    for shape in [(2, MAX_SIDE, 3), (MAX_SIDE + 5, 2), (2, 40000, 4)]:
        with pytest.raises(InputError, match=r"frame: expected width and height below 32767 px"):
            as_bgr(np.zeros(shape, np.uint8), "frame")


def _forms(bgr: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image in that form, the BGR image every entry point must treat it as)."""
    import cv2

    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    wide = np.zeros((bgr.shape[0], bgr.shape[1] * 2, 3), np.uint8)
    wide[:, ::2] = bgr
    return [
        ("grey (H, W)", grey, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)),
        ("grey (H, W, 1)", grey[:, :, None], cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)),
        ("BGRA", cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA), bgr),
        ("a strided view", wide[:, ::2], bgr),
    ]


def test_every_public_entry_point_accepts_the_same_image_forms(face_tracker):
    """The forms arlens.image documents, through every public entry point that reads an image.

    Each form is converted to exactly the BGR bytes of its reference (integer copies), so what follows is the
    same code on the same input: equal results, bit for bit.
    """
    import arlens
    from arlens import batch, interop

    portrait = read_image("faces/astronaut.png")
    hand_photo = read_image("hands/pointing.jpg")
    catalog = arlens.Catalog.default()
    lipstick = next(iter(catalog.filter(kind="lipstick")))
    with arlens.HandTracker() as hand_tracker, arlens.LipstickLens.from_product(lipstick) as lips, \
            arlens.NailPolishLens(color="#8E1B2E") as nails, arlens.TryOn(catalog, [lipstick.id]) as session:
        for name, image, reference in _forms(portrait):
            faces = face_tracker.detect(image)
            assert faces, name
            ref_faces = face_tracker.detect(reference)
            np.testing.assert_array_equal(faces[0].landmarks, ref_faces[0].landmarks, err_msg=name)
            assert np.array_equal(lips.render(image, faces), lips.render(reference, faces)), name
            out = lips.render(image, faces)
            assert out.shape == portrait.shape and out.dtype == np.uint8 and out is not image
            assert np.array_equal(session.process_image(image).frame, session.process_image(reference).frame), name
            assert np.array_equal(batch.try_on_images([image], lipstick, tracker=face_tracker)[0],
                                  batch.try_on_images([reference], lipstick, tracker=face_tracker)[0]), name
            sheet = batch.render_product_line(image, [lipstick], tracker=face_tracker, backend="numpy")
            assert np.array_equal(sheet.images[0], lips.render(reference, faces)), name
            shades = lips.render_shades(image, faces[0], [lipstick])
            assert np.array_equal(shades[0], lips.render(reference, faces)), name
            assert np.array_equal(interop.draw_landmarks(image, faces), interop.draw_landmarks(reference, faces)), name
        for name, image, reference in _forms(hand_photo):
            hands = hand_tracker.detect(image)
            assert hands, name
            np.testing.assert_array_equal(hands[0].landmarks, hand_tracker.detect(reference)[0].landmarks)
            assert np.array_equal(nails.render(image, hands), nails.render(reference, hands)), name


def test_eyewear_accepts_the_same_image_forms(face_tracker):
    import arlens

    portrait = read_image("faces/astronaut.png")
    faces = face_tracker.detect(portrait)
    frame_product = next(iter(arlens.Catalog.default().filter(kind="eyewear")))
    with arlens.EyewearLens.from_product(frame_product) as lens:
        for name, image, reference in _forms(portrait):
            out = lens.render(image, faces)
            assert out.shape == portrait.shape and out.dtype == np.uint8
            assert np.array_equal(out, lens.render(reference, faces)), name


def test_over_premultiplied_on_a_one_pixel_strided_view():
    """Found by tests/fuzz (shrunk): numpy calls a (1, 1, 3) view with a column stride contiguous, so
    np.ascontiguousarray returned it as is and OpenCV refused it (cv2.error)."""
    store = np.zeros((1, 2, 3), np.uint8)
    view = store[:, ::2]
    rgba = np.full((1, 1, 4), 255, np.uint8)
    over_premultiplied(view, rgba)
    assert store[0, 0].tolist() == [255, 255, 255] and store[0, 1].tolist() == [0, 0, 0]


def test_rgb_planes_are_rgb_tensor_channels_first():
    from arlens.image import rgb_planes

    image = read_image("faces/grace_hopper.jpg")
    crops = np.stack([image[:192, :192], image[100:292, 50:242]])
    planes = rgb_planes(crops)
    assert planes.dtype == np.float32 and planes.shape == (2, 3, 192, 192)
    np.testing.assert_array_equal(planes, rgb_tensor(crops).transpose(0, 3, 1, 2))  # same multiply, moved
    assert rgb_planes(np.zeros((0, 4, 4, 3), np.uint8)).shape == (0, 3, 4, 4)
