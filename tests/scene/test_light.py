"""The light estimate: it scales with the light, turns with the face, and is neutral on the test portraits."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.scene import Light, Scene
from arlens.scene import light as S
from arlens.tracking.results import Face


@pytest.mark.parametrize("name", ["dim", "warm", "cool"])
def test_gains_follow_the_light(face_still, hard_scenes, name):
    """Under per-channel gains g the estimate becomes g times what it was (a percentile scales exactly; the
    slack is uint8 rounding and the shrinking's averages), and the direction stays."""
    _, image, face = face_still
    gains = np.asarray(hard_scenes.LIGHTS[name], dtype=np.float32)
    before = Scene(image, [face]).face(0).light
    after = Scene(hard_scenes.apply_light(image, tuple(gains)), [face]).face(0).light
    np.testing.assert_allclose(after.gains, gains * before.gains, rtol=0.04)
    assert float(after.direction @ before.direction) > 0.97


def test_portraits_are_lit_about_neutral(face_still):
    """The test portraits are ordinary exposures: light colour within 16% of white, intensity 0.8 to 1.2."""
    _, image, face = face_still
    light = Scene(image, [face]).face(0).light
    assert np.abs(light.color - 1).max() < 0.16, light.color
    assert 0.8 < light.intensity < 1.2
    assert abs(float(light.color @ S.BGR_TO_Y) - 1) < 1e-5


def test_direction_flips_with_a_mirrored_face(face_still, face_tracker):
    """Mirror the photo (and track it again): the light's x turns round, y and z stay."""
    _, image, _ = face_still
    mirrored = np.ascontiguousarray(image[:, ::-1])
    a = Scene(image, face_tracker.detect(image)[:1]).face(0).light.direction
    b = Scene(mirrored, face_tracker.detect(mirrored)[:1]).face(0).light.direction
    np.testing.assert_allclose(b, a * np.float32([-1, 1, 1]), atol=0.15)


def test_a_light_from_the_side_is_found(face_still):
    """Darken the face's left side and keep its right: the light comes from +x."""
    _, image, face = face_still
    w = image.shape[1]
    x0, _, x1, _ = face.bbox
    ramp = np.clip(0.35 + 0.65 * (np.arange(w, dtype=np.float32) - x0) / (x1 - x0), 0.35, 1.0)[None, :, None]
    lin = S.SRGB_TO_LINEAR_LUT[image] * ramp
    side = np.clip(np.rint(np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055) * 255), 0, 255)
    before = Scene(image, [face]).face(0).light.direction
    after = Scene(side.astype(np.uint8), [face]).face(0).light.direction
    assert after[0] > before[0] + 0.25


def test_normals_face_the_camera(face_still):
    _, image, face = face_still
    fs = Scene(image, [face]).face(0)
    n = fs.normals
    assert n.shape == (468, 3) and np.allclose(np.linalg.norm(n, axis=1), 1, atol=1e-5)
    assert n[1, 2] > 0.6  # the nose tip faces the camera on these frontal faces
    assert n[S.skin_vertices(), 2].mean() > 0.5
    canonical = S.canonical_normals()  # out of the head: the nose tip to +z, the cheeks' sides to -x and +x
    assert canonical[1, 2] > 0.8 and canonical[234, 0] < -0.8 and canonical[454, 0] > 0.8
    assert fs.pose[2, 3] < -10  # a pose was fitted (the reference faces carry none)


def test_sh_fit_is_robust_and_flat_without_samples():
    rng = np.random.default_rng(1)
    n = rng.normal(size=(200, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    y = 0.5 + n @ np.array([0.2, 0.1, 0.0])
    y[:20] = 5.0  # outliers
    coef = S.fit_sh(n, y)
    np.testing.assert_allclose(coef, [0.5, 0.2, 0.1, 0.0], atol=0.03)
    assert S.fit_sh(n[:3], y[:3])[1:].tolist() == [0, 0, 0]


def test_light_value_checks():
    light = Light.neutral()
    assert np.array_equal(light.gains, [1, 1, 1]) and light.directionality == 0
    with pytest.raises(InputError, match="color"):
        Light(np.ones(2), 1.0, np.ones(3), np.ones(4), np.ones(3))
    with pytest.raises(InputError, match="intensity"):
        Light(np.ones(3), -1.0, np.ones(3), np.ones(4), np.ones(3))
    assert not light.color.flags.writeable


def test_skin_patches_hold_the_pixels_under_the_vertices(face_still, palm):
    """The light's 3x3 grids and the colour model's skin reference read the same vertices once: row 4 of each
    grid is the pixel under its vertex, the grid's mean is the light's sample, and a face cut by the frame's
    edge keeps its vertices' own pixels (in the frame) but not their grids (not inside)."""
    from arlens.scene import colors as K

    _, image, face = face_still
    verts = S.skin_vertices()
    lm = face.landmarks.astype(np.float64)
    for frame in (image, np.ascontiguousarray(image[:, : int(np.median(lm[verts, 0]))])):  # whole, cut in half
        p = S.skin_patches(frame, face.landmarks, verts)
        x, y = lm[verts, 0], lm[verts, 1]
        in_frame = (x >= 0) & (x < frame.shape[1]) & (y >= 0) & (y < frame.shape[0])
        assert np.array_equal(p.in_frame, in_frame) and not (p.inside & ~in_frame).any()
        assert np.array_equal(p.values[4][in_frame], frame[y[in_frame].astype(int), x[in_frame].astype(int)])
        assert np.array_equal(K.skin_reference(frame, face.landmarks, patches=p),
                              K.skin_reference(frame, face.landmarks))
    assert not p.inside.all() and p.in_frame.any()
    # under a hand, the scene's patches leave out the covered vertices for both readers
    _, hand = palm
    scene = Scene(image, [face], [hand])
    fs = scene.face(0)
    left = verts[~fs.occluded_vertices[verts]]
    assert np.array_equal(fs.skin_patches.vertices, left)
    assert np.array_equal(K.skin_reference(image, face.landmarks, occluded_vertices=fs.occluded_vertices),
                          K.skin_reference(image, face.landmarks, patches=fs.skin_patches))


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 1, 3), (3, 5, 3), (2, 40, 3)])
def test_skin_patches_on_a_frame_smaller_than_their_grids(face_still, shape):
    """Found by tests/fuzz: on a frame smaller than a skin grid, the vertices off the frame (and those on it)
    read clamped grids, not pixels past its end; none counts as inside."""
    _, _, face = face_still
    frame = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    for lm in (face.landmarks, face.landmarks * np.float32([0.004, 0.004, 1.0])):  # off the frame, then on it
        p = S.skin_patches(frame, lm, S.skin_vertices())
        assert not p.inside.any()
        assert p.values.shape == (9, len(S.skin_vertices()), 3)
        assert Scene(frame, [Face(landmarks=lm, score=1.0, bbox=face.bbox)]).face(0).light is not None


def test_a_hand_over_every_skin_vertex(face_still, palm):
    """Found by fuzzing a look with hands: a hand over the whole face leaves no plain-skin vertex to sample, and
    the skin patches took the extent of an empty set (a ValueError from the light, the colour model and every lens
    that asked). No patches, and the light of no samples: finite, about neutral (white light is assumed)."""
    from arlens.tracking.results import Hand, bbox_of

    _, image, face = face_still
    _, hand = palm
    # the open palm moved and scaled so that its palm's centre is on the nose and it is three faces tall
    lm = hand.landmarks.astype(np.float64)
    palm_centre = lm[[0, 5, 9, 13, 17], :2].mean(axis=0)
    k = 3.0 * float(np.ptp(face.landmarks[:, 1])) / float(np.ptp(lm[:, 1]))
    lm[:, :2] = (lm[:, :2] - palm_centre) * k + face.landmarks[1, :2]
    lm[:, 2] *= k
    big = Hand(lm.astype(np.float32), hand.handedness, 1.0, bbox_of(lm.astype(np.float32)))
    fs = Scene(image, [face], [big]).face(0)
    assert fs.occluded_vertices[S.skin_vertices()].all()
    assert len(fs.skin_patches.vertices) == 0 and fs.skin_patches.values.shape == (9, 0, 3)
    light = fs.light
    assert np.isfinite(light.gains).all() and np.isfinite(light.sh).all()
    np.testing.assert_allclose(light.color, 1.0, atol=0.35)
    assert fs.colors is not None
