"""arlens.image: the input rules every tracker applies, and the crops-to-tensor conversion."""

from __future__ import annotations

import re

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.image import as_bgr, rgb_tensor
from tests.support import read_image


def test_rgb_tensor_equals_the_plain_numpy_conversion():
    image = read_image("faces/grace_hopper.jpg")
    crops = np.stack([image[:192, :192], image[100:292, 50:242]])
    tensor = rgb_tensor(crops)
    assert tensor.dtype == np.float32 and tensor.shape == crops.shape
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
