"""QR codes of buy links decode back to the tagged link."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens.catalog import Catalog
from arlens.catalog.qr import product_qr, qr_image
from arlens.errors import InputError


def decode(image: np.ndarray) -> str:
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def test_product_qr_decodes_to_tagged_buy_link():
    product = Catalog.default()["LIP-004"]
    image = product_qr(product)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] == image.shape[1]
    text = decode(image)
    assert text == product.buy_link(None) + "?utm_source=arlens&utm_medium=qr&utm_content=LIP-004"


@pytest.mark.parametrize("module_px", [3, 8])
@pytest.mark.parametrize("error", ["l", "h"])
def test_sizes_and_levels_decode(module_px, error):
    url = "https://shop.example/p?x=1&utm_content=A"
    image = qr_image(url, module_px=module_px, error=error)
    assert decode(image) == url
    assert image.shape[0] % module_px == 0


def test_quiet_zone_is_light_and_sized():
    image = qr_image("https://shop.example/", module_px=5, quiet_zone=4, dark=(20, 0, 40))
    border = 4 * 5
    assert (image[:border] == 255).all() and (image[:, :border] == 255).all()
    assert (image[:, -border:] == 255).all() and (image[-border:] == 255).all()
    assert (image[border, border] == (20, 0, 40)).all()  # finder pattern corner, BGR as given


def test_qr_overlays_on_a_frame_and_still_decodes():
    frame = np.full((480, 640, 3), (40, 90, 160), np.uint8)
    code = qr_image("https://shop.example/p/9", module_px=6)
    h, w = code.shape[:2]
    frame[-h - 10 : -10, -w - 10 : -10] = code
    assert decode(frame) == "https://shop.example/p/9"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": ""}, "non-empty"),
        ({"data": "x", "module_px": 0}, "module_px"),
        ({"data": "x", "error": "z"}, "error level"),
        ({"data": "x", "dark": (0, 0, 256)}, "dark as three ints"),
        ({"data": "x" * 5000}, "fits in a QR code"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message):
        qr_image(**kwargs)
