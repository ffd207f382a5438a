"""Background blur behind the person: the person stays sharp, the background loses its detail."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from arlens.errors import InputError
from arlens.render.background import blur_background
from arlens.tracking.segmentation import PersonMask
from tests.support import read_image


def _detail(image: np.ndarray) -> float:
    return float(np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F)).mean())


def test_person_sharp_background_blurred():
    """A known mask (left half person): the right half loses most of its detail, the left keeps every pixel
    away from the edge (the mask's bilinear ramp is a few pixels wide)."""
    image = read_image("faces/astronaut.png")
    low = np.zeros((256, 256), np.float32)
    low[:, :128] = 1.0
    out = blur_background(image, PersonMask(low, image.shape[:2]), strength=0.03)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.abs(out[:, :240].astype(int) - image[:, :240]).max() <= 1
    assert _detail(out[:, 280:]) < 0.35 * _detail(image[:, 280:])
    everything = blur_background(image, PersonMask(np.ones((256, 256), np.float32), image.shape[:2]))
    np.testing.assert_array_equal(everything, image)


def test_bad_inputs():
    image = read_image("faces/astronaut.png")
    mask = PersonMask(np.ones((256, 256), np.float32), image.shape[:2])
    with pytest.raises(InputError, match="person"):
        blur_background(image, PersonMask(np.ones((256, 256), np.float32), (10, 10)))
    with pytest.raises(InputError, match="strength"):
        blur_background(image, mask, strength=0.0)
    with pytest.raises(InputError, match="frame"):
        blur_background(image.astype(np.float32), mask)
