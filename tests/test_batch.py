"""Batch try-on: a product line on one photo and one product on many photos, equal to one-by-one."""

from __future__ import annotations

import numpy as np
import pytest

import arlens
from arlens import batch
from tests.support import read_image


@pytest.fixture(scope="module")
def catalog():
    return arlens.Catalog.default()


def test_product_line_equals_one_lens_per_shade(face_tracker, catalog):
    image = read_image("faces/grace_hopper.jpg")
    lips = list(catalog.filter(kind="lipstick"))[:5]
    sheet = batch.render_product_line(image, lips, tracker=face_tracker, backend="numpy")
    assert sheet.images.shape == (5, *image.shape) and sheet.product_ids == tuple(p.id for p in lips)
    face = face_tracker.detect(image)[0]
    for k, product in enumerate(lips):
        with arlens.LipstickLens.from_product(product) as lens:
            single = lens.render(image, [face])
        assert np.abs(sheet.images[k].astype(int) - single).max() <= 2
    onnx = batch.render_product_line(image, lips, tracker=face_tracker, backend="onnx")
    assert np.abs(onnx.images.astype(int) - sheet.images).max() <= 2


def test_product_line_without_a_face_returns_the_photo(face_tracker, catalog):
    blank = np.full((120, 160, 3), 128, np.uint8)
    lips = list(catalog.filter(kind="lipstick"))[:2]
    sheet = batch.render_product_line(blank, lips, tracker=face_tracker)
    assert sheet.face is None and (sheet.images == blank).all()


def test_product_line_rejects_other_kinds(catalog):
    frame_product = next(iter(catalog.filter(kind="eyewear")))
    with pytest.raises(arlens.InputError, match=frame_product.id):
        batch.render_product_line(read_image("faces/astronaut.png"), [frame_product])


def test_try_on_images_draws_on_every_face_and_keeps_order(face_tracker, catalog):
    portrait = read_image("faces/astronaut.png")
    blank = np.zeros((80, 90, 3), np.uint8)
    shade = next(iter(catalog.filter(kind="lipstick")))
    out = batch.try_on_images([portrait, blank, portrait[:, ::-1]], shade, tracker=face_tracker)
    assert [o.shape for o in out] == [portrait.shape, blank.shape, portrait.shape]
    assert out.face_counts == (1, 0, 1) and len(out) == 3 and out[0] is out.images[0]
    assert all(isinstance(f, arlens.Face) for faces in out.faces for f in faces)
    assert (out[1] == blank).all()
    assert (out[0] != portrait).any() and (out[2] != portrait[:, ::-1]).any()
    with pytest.raises(arlens.InputError, match=r"images\[1\]"):
        batch.try_on_images([portrait, portrait.astype(np.float64)], shade, tracker=face_tracker)
    nails = next(iter(catalog.filter(kind="nail_polish")))
    with pytest.raises(arlens.InputError, match="nail_polish"):
        batch.try_on_images([portrait], nails, tracker=face_tracker)


def test_makeup_line_equals_one_lens_per_product(face_tracker, catalog):
    image = read_image("faces/astronaut.png")
    line = [p for p in catalog if p.kind is not None and p.kind.value in ("eyeshadow", "blush", "foundation")][:8]
    line += list(catalog.filter(kind="lipstick"))[:2]
    sheet = batch.render_product_line(image, line, tracker=face_tracker, backend="numpy")
    face = face_tracker.detect(image)[0]
    for k, product in enumerate(line):
        if product.kind.value == "lipstick":
            continue
        single = arlens.MakeupLens.from_product(product).render(image, [face])
        assert np.array_equal(sheet.images[k], single), product.id  # the shared scene changes nothing
    assert all((sheet.images[k] != image).any() for k in range(len(line)))


def test_try_on_images_draws_makeup(face_tracker, catalog):
    portrait = read_image("faces/astronaut.png")
    out = batch.try_on_images([portrait, portrait[:, ::-1]], catalog["BLS-003"], tracker=face_tracker)
    assert out.face_counts == (1, 1) and (out[0] != portrait).any() and (out[1] != portrait[:, ::-1]).any()
