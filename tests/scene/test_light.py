"""The light estimate: it scales with the light, turns with the face, and is neutral on the test portraits."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.scene import Light, Scene
from arlens.scene import light as S


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
