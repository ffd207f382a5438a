"""PersonSegmenter against Google's own MediaPipe SelfieSegmentation graph, and its API.

``tests/data/segmentation_reference.npz`` holds MediaPipe's masks (``model_selection=0``, the same .tflite
arlens converts) for the public-domain portraits as they are, mirrored and pasted into 1280x720 frames;
``tools/make_segmentation_reference.py`` made it and rebuilds the same images here.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.tracking.segmentation import PersonMask, PersonSegmenter, PersonSegmenterOptions
from tests.lenses.conftest import ROOT


def _tool():
    spec = importlib.util.spec_from_file_location("make_segmentation_reference",
                                                  ROOT / "tools" / "make_segmentation_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def segmenter():
    with PersonSegmenter() as seg:
        yield seg


def test_masks_agree_with_mediapipe(segmenter):
    """Every case within MediaPipe's own mask: the same pixels are person (IoU of the masks > 0.995) and
    the probabilities differ by a few thousandths on average (the reference is quantised to 1/255; ONNX
    Runtime's and XNNPACK's float sums differ in order, and the transpose convolution is rewritten)."""
    tool = _tool()
    ref = np.load(ROOT / "tests" / "data" / "segmentation_reference.npz")
    assert list(ref["cases"]) == list(tool.CASES)
    for i, name in enumerate(ref["cases"]):
        image = tool.build(str(name))
        got = segmenter.segment(image).full()
        expected = ref[f"mask_{i}"].astype(np.float32) / 255.0
        assert got.shape == expected.shape == image.shape[:2]
        a, b = got > 0.5, expected > 0.5
        iou = (a & b).sum() / max((a | b).sum(), 1)
        assert iou > 0.995, (name, iou)
        assert float(np.abs(got - expected).mean()) < 0.003, name
        assert b.any(), name  # a person is there


def test_crop_is_the_full_mask_cropped(segmenter):
    image = _tool().build("scene/astronaut_near")
    mask = segmenter.segment(image)
    assert isinstance(mask, PersonMask) and mask.low.shape == (256, 256) and mask.frame_shape == (720, 1280)
    full = mask.full()
    box = (500, 200, 780, 520)
    # the same bilinear sampling either way (OpenCV's float maps: within a few float32 ulps)
    np.testing.assert_allclose(mask.crop(box), full[200:520, 500:780], atol=1e-5)
    assert mask.crop((10, 10, 10, 40)).shape == (30, 0)
    assert not mask.low.flags.writeable


def test_background_is_not_person(segmenter):
    """The grey kiosk background of a scene is background; the face in it is person."""
    tool = _tool()
    image = tool.build("scene/astronaut_near")
    full = segmenter.segment(image).full()
    assert full[:40, :40].max() < 0.05 and full[340:380, 620:660].min() > 0.9


def test_bad_inputs_and_lifetime():
    with pytest.raises(InputError, match="options"):
        PersonSegmenter(options=object())
    with pytest.raises(InputError, match="runtime"):
        PersonSegmenterOptions(runtime="cpu")
    with pytest.raises(InputError, match="PersonMask"):
        PersonMask(np.zeros(5, np.float32), (10, 10))
    seg = PersonSegmenter()
    with pytest.raises(InputError, match="frame"):
        seg.segment(np.zeros((10, 10, 3), np.float32))
    assert seg.providers
    seg.close()
    with pytest.raises(InputError, match="closed"):
        seg.segment(np.zeros((10, 10, 3), np.uint8))
