"""Head pose in metric camera space: the canonical face and a weighted Procrustes fit.

The canonical face is arlens' own: the 468 points of the mesh model's 3D output on frontal faces,
aligned, averaged, centred and scaled to centimetres with the mean adult interpupillary distance
(``assets/make_canonical_face.py`` makes it). Its frame: x toward the subject's left (image right for
a frontal face), y up, z out of the face toward the camera, origin at the mean of the points.

The pose is fitted as MediaPipe's face-geometry pipeline does it, on the rigid part of the face only
(forehead, nose, cheekbones; never lips, eyelids, brows or jaw): a scaled orthographic fit gives the
face's depth, the landmarks are unprojected through the perspective camera at that depth, and a
weighted Procrustes fit in centimetres is repeated while the depth estimate converges.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from arlens import landmarks as L
from arlens.errors import ModelError
from arlens.resources import assets_dir
from arlens.tracking.camera import PerspectiveCamera

#: Mean adult interpupillary distance in centimetres, which sets the canonical face's scale.
MEAN_IPD_CM = 6.3
#: Landmark at the tip of the nose and the one below it where the nose meets the lip.
NOSE_TIP = 1
SUBNASALE = 2

CANONICAL_FILE = "canonical_face.npz"


@cache
def canonical_face() -> np.ndarray:
    """The canonical face, float32 (468, 3) in centimetres (read-only)."""
    path = assets_dir() / CANONICAL_FILE
    try:
        with np.load(path) as data:
            points = data["points"].astype(np.float32)
    except FileNotFoundError:
        raise ModelError(f"canonical face missing: expected {path} (made by assets/make_canonical_face.py)") from None
    if points.shape != (L.NUM_MESH_LANDMARKS, 3):
        raise ModelError(f"canonical face {path}: expected shape (468, 3), got {points.shape}")
    points.setflags(write=False)
    return points


@cache
def rigid_weights() -> np.ndarray:
    """Procrustes weights (468,): 1 on the rigid face (above the nose base), 0 on eyes, brows, lips and jaw."""
    canon = canonical_face()
    w = (canon[:, 1] >= canon[SUBNASALE, 1]).astype(np.float64)
    for group in (L.right_eye(), L.left_eye(), L.right_eyebrow(), L.left_eyebrow(), L.lips_outer(), L.lips_inner()):
        w[list(group)] = 0.0
    w.setflags(write=False)
    return w


@cache
def _rigid_indices() -> np.ndarray:
    return np.flatnonzero(rigid_weights() > 0)


def procrustes(src: np.ndarray, dst: np.ndarray, weights: np.ndarray, with_scale: bool) -> tuple[
    np.ndarray, float, np.ndarray
]:
    """Weighted similarity (or rigid) fit ``dst ~ s R src + t`` (Umeyama). Returns R (3x3), s, t (3,)."""
    w = weights / weights.sum()
    mu_s = w @ src
    mu_d = w @ dst
    a = src - mu_s
    b = dst - mu_d
    r, trace = _rotation_from_covariance((b * w[:, None]).T @ a)
    s = trace / float(w @ (a**2).sum(axis=1)) if with_scale else 1.0
    t = mu_d - s * r @ mu_s
    return r, s, t


def _rotation_from_covariance(cov: np.ndarray) -> tuple[np.ndarray, float]:
    """Umeyama's rotation for a 3x3 (dst x src) covariance, never a reflection, and the trace of
    ``diag(sig) @ fix`` that the scale is made of."""
    u, sig, vt = np.linalg.svd(cov)
    r = u @ vt
    a, b, c, d, e, f, g, h, i = r.ravel().tolist()
    if a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g) < 0:  # det -1: flip the weakest axis
        return (u * [1.0, 1.0, -1.0]) @ vt, float(sig[0] + sig[1] - sig[2])
    return r, float(sig[0] + sig[1] + sig[2])


@cache
def _canonical_fit() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """What :func:`procrustes` computes from the canonical side alone, once: rigid indices, normalised
    weights, the weighted canonical mean, the centred canonical points times their weights, and their
    weighted variance."""
    rigid = _rigid_indices()
    src = canonical_face()[rigid].astype(np.float64)
    w = rigid_weights()[rigid] / rigid_weights()[rigid].sum()
    mu_s = w @ src
    a = src - mu_s
    return rigid, w, mu_s, a * w[:, None], float(w @ (a**2).sum(axis=1))


def _fit_canonical(dst: np.ndarray, with_scale: bool) -> tuple[np.ndarray, float, np.ndarray]:
    """:func:`procrustes` from the rigid canonical points to ``dst`` with the canonical side precomputed.

    The weighted centred canonical points sum to zero, so ``dst`` needs no centring for the covariance.
    """
    _, w, mu_s, aw, var_s = _canonical_fit()
    r, trace = _rotation_from_covariance(dst.T @ aw)
    s = trace / var_s if with_scale else 1.0
    t = w @ dst - s * r @ mu_s
    return r, s, t


def estimate_pose(
    landmarks: np.ndarray, camera: PerspectiveCamera, iterations: int = 3, tolerance: float = 1e-9
) -> np.ndarray:
    """4x4 float32 transform from the canonical face (cm) to camera space (cm) for pixel landmarks (>=468, 3).

    The depth is refined at most ``iterations`` times and no longer once a fit's scale is within
    ``tolerance`` of 1 (on faces it is after the first: 1.05, then 1 to 10 digits), which spares two of
    the five fits a frame; ``tolerance=0`` runs every iteration.
    """
    rigid = _canonical_fit()[0]
    p = np.asarray(landmarks, dtype=np.float64)[rigid]  # zero-weight points would add nothing to the fits
    f = camera.focal_px
    cx, cy = camera.width / 2, camera.height / 2
    x, y, z = (p[:, 0] - cx) / f, -(p[:, 1] - cy) / f, p[:, 2]
    # Scaled orthographic fit: pixels per centimetre at the face, hence its depth.
    _, s, _ = _fit_canonical(np.stack([x * f, y * f, -z], axis=1), with_scale=True)
    depth = f / s
    metric = np.empty_like(p)
    for step in range(iterations + 1):
        # Unproject each landmark at its own depth (MediaPipe's z grows away from the camera).
        d = depth + z / s
        metric[:, 0], metric[:, 1], metric[:, 2] = x * d, y * d, -d
        if step == iterations:  # the last unprojection feeds the final rigid fit
            break
        _, scale, _ = _fit_canonical(metric, with_scale=True)
        if abs(scale - 1.0) <= tolerance:  # converged: unprojecting again would move no point measurably
            break
        depth /= scale
        s = f / depth
    r, _, t = _fit_canonical(metric, with_scale=False)
    pose = np.eye(4, dtype=np.float32)
    pose[:3, :3] = r
    pose[:3, 3] = t
    return pose
