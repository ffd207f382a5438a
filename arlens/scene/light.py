"""The light on a face: its colour and strength from the frame around the face, its direction from the
face's own shading on the posed face mesh.

Colour and intensity (the white patch, "max-RGB" colour constancy): the brightest surfaces near a face
are taken as white under the scene's light. Per channel, the 99th percentile of the linear sRGB values
of the face's neighbourhood (the face box widened by a face width each side, shrunk to about 48 px so
noise and single hot pixels do not count) is the light's gains. A per-channel percentile scales with
the light exactly: under gains ``g`` a frame's estimate becomes ``g`` times the estimate, which is what
makes a render in this light consistent (render(g · image) = g · render(image)).

Direction (first-order spherical harmonics of the face's shading): the posed canonical face mesh gives a
camera-space normal per vertex; the linear luminance of the skin under each visible vertex (not lips,
eyes, brows or the face's rim, not under a hand) is fitted as ``Y = sh[0] + sh[1:] . n`` by least squares
with two rounds of outlier down-weighting. ``sh[1:]`` points toward the light; its length over ``sh[0]``
says how directional the light is (0 for flat light).

Written here rather than taken from a library: OpenCV's ``xphoto`` white balancers return a corrected
image, not the estimate, and nothing maintained fits lighting to a face mesh.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError
from arlens.render.color import BGR_TO_Y, SRGB_TO_LINEAR_LUT
from arlens.scene.regions import Box, clip_box, every_kth_pixel, is_empty
from arlens.tracking.camera import PerspectiveCamera

#: Linear luminance of the white patch that counts as intensity 1: a well-exposed frame's brightest
#: surfaces near a face (the test portraits' white patches have luminance 0.67 to 0.92).
REFERENCE_WHITE = 0.8
#: Percentile of each channel that is taken as white.
WHITE_PERCENTILE = 99.0
#: Side (pixels) the neighbourhood is shrunk to before the percentile.
WHITE_SIDE = 32
#: The skin under a vertex is averaged over a 3x3 grid spaced the face's size over this.
SKIN_SIDE = 96
#: Weight of the ridge on the directional SH terms, relative to the samples' total weight.
RIDGE = 0.05
#: Vertices facing the camera less than this (normal's z) are not used for the direction.
MIN_FACING = 0.2


@dataclass(frozen=True)
class Light:
    """The light falling on one face.

    Attributes:
        color: float32 (3,) linear B, G, R of the light, scaled so its luminance is 1 (white light is
            (1, 1, 1); a warm light has R > G > B).
        intensity: the light's strength relative to a well-exposed frame (1), from the white patch's
            luminance over ``REFERENCE_WHITE``; 0.35 for a frame darkened to 35%.
        direction: float32 (3,) unit vector toward the light in camera space (x right, y up, z toward the
            viewer, the convention of :class:`~arlens.tracking.camera.PerspectiveCamera`); (0, 0, 1)
            when the face gives no direction.
        sh: float32 (4,) first-order spherical-harmonic fit of the skin's linear luminance over the face's
            normals n (camera space): ``Y(n) = sh[0] + sh[1] n_x + sh[2] n_y + sh[3] n_z``.
        white: float32 (3,) linear B, G, R of the white patch itself (``color * intensity * REFERENCE_WHITE``).
    """

    color: np.ndarray
    intensity: float
    direction: np.ndarray
    sh: np.ndarray
    white: np.ndarray

    def __post_init__(self) -> None:
        for name, size in (("color", 3), ("direction", 3), ("sh", 4), ("white", 3)):
            arr = np.asarray(getattr(self, name), dtype=np.float32).reshape(-1)
            if arr.shape != (size,) or not np.isfinite(arr).all():
                raise InputError(f"Light.{name}: expected {size} finite values, got {getattr(self, name)!r}")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if not np.isfinite(self.intensity) or self.intensity < 0:
            raise InputError(f"Light.intensity: expected a finite value >= 0, got {self.intensity!r}")
        object.__setattr__(self, "intensity", float(self.intensity))

    @classmethod
    def _estimated(cls, color: np.ndarray, intensity: float, direction: np.ndarray, sh: np.ndarray,
                   white: np.ndarray) -> Light:
        """A Light of an estimate's own (3,), (3,), (4,) and (3,) arrays: one finiteness test of all thirteen
        values instead of one per field (the per-field checks, with their message, when it fails)."""
        values = [np.asarray(v, dtype=np.float32).reshape(-1) for v in (color, direction, sh, white)]
        if not (np.isfinite(np.concatenate(values)).all() and math.isfinite(intensity) and intensity >= 0) or \
                [len(v) for v in values] != [3, 3, 4, 3]:
            return cls(color, intensity, direction, sh, white)  # raises, naming the field
        out = object.__new__(cls)
        for name, arr in zip(("color", "direction", "sh", "white"), values, strict=True):
            arr.setflags(write=False)
            object.__setattr__(out, name, arr)
        object.__setattr__(out, "intensity", float(intensity))
        return out

    @property
    def gains(self) -> np.ndarray:
        """float32 (3,) linear B, G, R gains of the light: what a white surface of albedo 1 looks like
        relative to a well-exposed white (``color * intensity``). A lens multiplies its product's linear
        colour by these to show it in this light."""
        return (self.color * np.float32(self.intensity)).astype(np.float32)

    @property
    def directionality(self) -> float:
        """How directional the light is: ``|sh[1:]| / sh[0]`` (0 flat, about 0.3-0.6 for a key light)."""
        return float(np.linalg.norm(self.sh[1:]) / max(float(self.sh[0]), 1e-6))

    @classmethod
    def neutral(cls) -> Light:
        """White light of intensity 1 from the camera's direction: what a lens assumes without a scene."""
        white = np.full(3, REFERENCE_WHITE, np.float32)
        return cls(np.ones(3, np.float32), 1.0, np.array([0, 0, 1], np.float32), np.array([1, 0, 0, 0], np.float32),
                   white)


def white_patch(frame: np.ndarray, box: Box) -> np.ndarray:
    """float32 (3,) linear B, G, R of the brightest surfaces in ``box`` (the per-channel 99th percentile).

    The box is first read every k-th pixel down to about twice ``WHITE_SIDE`` and then area-averaged
    to ``WHITE_SIDE``: the percentile sees local means, not single noisy pixels, at a cost independent
    of the face's size.
    """
    if is_empty(box):
        return np.full(3, REFERENCE_WHITE, np.float32)
    x0, y0, x1, y1 = box
    step = max(1, max(y1 - y0, x1 - x0) // (2 * WHITE_SIDE))
    region = every_kth_pixel(frame, box, step)
    scale = WHITE_SIDE / max(region.shape[:2])
    if scale < 1.0:
        size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    # channel by channel along contiguous rows (a partition along axis 0 of (n, 3) costs three times more)
    lin = np.ascontiguousarray(SRGB_TO_LINEAR_LUT[region.reshape(-1, 3)].T)
    n = lin.shape[1]
    k = (n - 1) * WHITE_PERCENTILE / 100.0
    lo = int(np.floor(k))
    part = np.partition(lin, (lo, min(lo + 1, n - 1)), axis=1)
    frac = np.float32(k - lo)
    return (part[:, lo] * (1 - frac) + part[:, min(lo + 1, n - 1)] * frac).astype(np.float32)


def neighbourhood(landmarks: np.ndarray, shape: tuple[int, ...]) -> Box:
    """The face box widened by a face width on each side, clipped to the frame: where the white patch is looked for."""
    pts = np.asarray(landmarks)[: L.NUM_MESH_LANDMARKS, :2]
    if not np.isfinite(pts).all():
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) == 0:
            return 0, 0, 0, 0
    # per coordinate along contiguous rows: numpy's axis-0 reduction of a (468, 2) view costs several times more
    cols = np.ascontiguousarray(pts.T)
    lo, hi = cols.min(axis=1).tolist(), cols.max(axis=1).tolist()
    size = max(hi[0] - lo[0], hi[1] - lo[1])
    h, w = int(shape[0]), int(shape[1])
    # far off-frame values are clipped before the int conversion (as box_around does)
    x0, y0 = (min(max(v - size, -1.0), lim + 1.0) for v, lim in zip(lo, (w, h), strict=True))
    x1, y1 = (min(max(v + size, -1.0), lim + 1.0) for v, lim in zip(hi, (w, h), strict=True))
    return clip_box((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), shape)


@functools.cache
def canonical_normals() -> np.ndarray:
    """float32 (468, 3) unit vertex normals of the canonical face, pointing out of the head (read-only)."""
    from arlens.tracking.pose import canonical_face

    v = canonical_face().astype(np.float64)
    tri = L.face_triangles()
    n = np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
    # orient each triangle away from a centre behind the face (the mesh is a mask, not a closed head)
    centre = v.mean(axis=0) - np.array([0.0, 0.0, 0.6 * np.ptp(v[:, 0])])
    outward = np.einsum("ij,ij->i", n, v[tri].mean(axis=1) - centre) < 0
    n[outward] *= -1
    normals = np.zeros_like(v)
    for k in range(3):
        np.add.at(normals, tri[:, k], n)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    out = normals.astype(np.float32)
    out.setflags(write=False)
    return out


@functools.cache
def skin_vertices() -> np.ndarray:
    """intp indices of the mesh vertices over plain skin: not near the lips, eyes, brows or the face's rim."""
    from arlens.tracking.pose import canonical_face

    v = canonical_face().astype(np.float64)
    keep = np.ones(len(v), dtype=bool)
    for group, radius in ((L.lips_outer(), 0.45), (L.right_eye(), 0.5), (L.left_eye(), 0.5),
                          (L.right_eyebrow(), 0.45), (L.left_eyebrow(), 0.45), (L.face_oval(), 0.6)):
        pts = v[list(group)]
        d = np.linalg.norm(v[:, None, :] - pts[None, :, :], axis=2).min(axis=1)
        keep &= d > radius
    # inside the lips too (the mouth opening): closer to the lip loop's centre than its half-width
    lips = v[list(L.lips_outer())]
    centre, half = lips.mean(axis=0), 0.6 * np.ptp(lips[:, 0])
    keep &= np.linalg.norm((v - centre)[:, :2] * [1.0, 2.0], axis=1) > half
    return np.flatnonzero(keep)


def posed_normals(pose: np.ndarray) -> np.ndarray:
    """float32 (468, 3) camera-space unit normals of the canonical face carried by ``pose`` (4x4)."""
    r = np.asarray(pose, dtype=np.float64)[:3, :3]
    return (_canonical_normals64() @ r.T).astype(np.float32)


@functools.cache
def _canonical_normals64() -> np.ndarray:
    """:func:`canonical_normals` in float64, made once (read-only)."""
    out = canonical_normals().astype(np.float64)
    out.setflags(write=False)
    return out


def face_pose(landmarks: np.ndarray, pose: np.ndarray, camera: PerspectiveCamera) -> np.ndarray:
    """``pose`` when it places the face in front of the camera, else one fitted now from the landmarks."""
    pose = np.asarray(pose, dtype=np.float64)
    if np.isfinite(pose).all() and pose[2, 3] < -1.0:
        return pose
    from arlens.tracking.pose import estimate_pose

    return np.asarray(estimate_pose(landmarks, camera), dtype=np.float64)


# ridge on the directional terms: the visible normals mostly face the camera, so the constant and n_z are
# nearly collinear; the ridge settles that in favour of the constant
_RIDGE = np.diag([0.0, RIDGE, RIDGE, RIDGE])
_RIDGE.setflags(write=False)


def fit_sh(normals: np.ndarray, luminance: np.ndarray) -> np.ndarray:
    """float64 (4,) ``Y = c0 + c . n`` fitted to (N, 3) normals and (N,) luminances, robustly.

    Weighted least squares by the normal equations (a 4x4 system: a few hundred samples need no SVD),
    then twice more with Cauchy weights on the residuals (a stray hair or a shadow of glasses does not
    pull the fit). Fewer than 8 samples give a flat fit at their median.
    """
    y = np.asarray(luminance, dtype=np.float64).reshape(-1)
    if len(y) < 8:
        return np.array([float(np.median(y)) if len(y) else 0.0, 0.0, 0.0, 0.0])
    a = np.empty((len(y), 4))
    a[:, 0] = 1.0
    a[:, 1:] = np.asarray(normals, dtype=np.float64)
    coef = np.zeros(4)
    half = len(y) // 2
    w: np.ndarray | None = None
    for i in range(3):
        # the first fit's weights are all 1: a copy of a, their sum the count (exact). A copy, not a itself:
        # numpy takes a.T @ a of one buffer as a symmetric product, rounded otherwise
        aw = a.copy() if w is None else a * w[:, None]
        coef = np.linalg.solve(aw.T @ a + _RIDGE * (float(len(y)) if w is None else w.sum()), aw.T @ y)
        if i == 2:
            break  # the last fit's residual weights would go unused
        r = y - a @ coef
        np.abs(r, out=r)
        scale = 1.4826 * float(np.partition(r, half)[half]) + 1e-6  # the (upper) median absolute residual
        r *= 1.0 / (2.0 * scale)
        r *= r
        r += 1.0
        w = 1.0 / r
    return coef


@dataclass(frozen=True, eq=False)
class SkinPatches:
    """The frame's pixels around some mesh vertices, gathered once for whoever samples the skin there (the light's
    shading fit and the colour model's skin reference read the same plain-skin vertices).

    Attributes:
        vertices: intp (n,) the mesh vertices.
        values: uint8 (9, n, 3) BGR: each vertex's 3x3 grid of pixels, offset by offset (row 4 is the pixel
            under the vertex itself), spaced about a hundredth of the face's size apart.
        inside: bool (n,): the whole grid lies in the frame (what the light samples).
        in_frame: bool (n,): the vertex's own pixel lies in the frame (row 4 holds it).
    """

    vertices: np.ndarray
    values: np.ndarray
    inside: np.ndarray
    in_frame: np.ndarray

    def linear_means(self) -> np.ndarray:
        """float32 (n, 3) linear B, G, R: the mean of each grid (meaningful where :attr:`inside`)."""
        # the mean over the first axis of (9, n, 3) adds the same nine values in the same order as over the middle
        # one of (n, 9, 3), at a sixth of the cost
        return SRGB_TO_LINEAR_LUT[self.values].mean(axis=0, dtype=np.float32)


def skin_patches(frame: np.ndarray, landmarks: np.ndarray, vertices: np.ndarray) -> SkinPatches:
    """:class:`SkinPatches` of mesh ``vertices`` (read directly from the frame: one gather of the 9 n pixels
    by flat index)."""
    pts = np.asarray(landmarks, dtype=np.float64)[vertices, :2]
    h, w = frame.shape[:2]
    finite = np.isfinite(pts).all(axis=1)
    all_finite = bool(finite.all())
    if not len(pts):  # every vertex asked for is covered (a hand over the whole face): an empty set of patches
        size = 0.0
        safe = pts
    elif all_finite:
        cols = np.ascontiguousarray(pts.T)  # np.ptp's value, without its wrappers and its slow axis-0 reduction
        size = float((cols.max(axis=1) - cols.min(axis=1)).max())
        safe = pts
    else:
        size = float(np.ptp(pts[finite], axis=0).max()) if finite.any() else 0.0
        safe = np.where(finite[:, None], pts, 0.0)
    r = max(1, round(size / SKIN_SIDE))
    margin = r + 0.5
    x, y = safe[:, 0], safe[:, 1]
    in_frame = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    inside = (x >= margin) & (x < w - margin) & (y >= margin) & (y < h - margin)
    if not all_finite:
        in_frame &= finite
        inside &= finite
    # a vertex off the frame reads the grid of pixel (r, r), one whose grid lies in the frame (masked out)
    flat = np.where(in_frame, np.floor(y) * w + np.floor(x), float(r * w + r)).astype(np.intp)
    offsets = (np.array([-r, 0, r], dtype=np.intp)[:, None] * w + np.array([-r, 0, r], dtype=np.intp)).reshape(-1)
    index = offsets[:, None] + flat[None, :]  # (9, n), offset by offset
    # a vertex by the frame's edge, or a frame too small for pixel (r, r)'s grid: the grids are clamped onto it
    if not (h > 2 * r and w > 2 * r and np.array_equal(inside, in_frame)):
        np.clip(index, 0, h * w - 1, out=index)
    if frame.flags.c_contiguous:
        values = np.take(frame.reshape(-1, 3), index.reshape(-1), axis=0)  # (9 n, 3)
    else:  # a view into a larger image: index it by rows and columns, without copying the frame
        rows, cols = np.divmod(index.reshape(-1), w)
        values = frame[rows, cols]
    return SkinPatches(np.asarray(vertices), values.reshape(9, len(pts), 3), inside, in_frame)


def sample_skin(
    frame: np.ndarray, landmarks: np.ndarray, vertices: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Linear B, G, R float32 (n, 3) of the skin under mesh ``vertices`` and a bool (n,) "inside the frame".

    Each sample is the mean of a 3x3 grid of pixels around its vertex, spaced about a hundredth of the
    face's size apart (the skin around the vertex, not one noisy pixel): :class:`SkinPatches`.
    """
    patches = skin_patches(frame, landmarks, vertices)
    return patches.linear_means(), patches.inside


def estimate_light(
    frame: np.ndarray,
    landmarks: np.ndarray,
    pose: np.ndarray,
    camera: PerspectiveCamera,
    occluded: np.ndarray | None = None,
    patches: SkinPatches | None = None,
) -> Light:
    """The light on one face.

    Args:
        frame: the unrendered uint8 BGR (H, W, 3) frame.
        landmarks: the face's float32 (478, 3) landmarks (pixels).
        pose: its 4x4 head pose (canonical cm -> camera cm); one is fitted when it is not in front of
            the camera (a Face built without a tracker has the identity).
        camera: the frame's camera.
        occluded: optional bool (468,) of mesh vertices covered by something (a hand); they are skipped.
        patches: :func:`skin_patches` of the :func:`skin_vertices` not ``occluded``, when the caller has them.

    Returns:
        The :class:`Light`.
    """
    lm = np.asarray(landmarks, dtype=np.float32)
    white = white_patch(frame, neighbourhood(lm, frame.shape))
    y_white = float(white @ BGR_TO_Y)
    if y_white <= 1e-6:
        color = np.ones(3, np.float32)
        intensity = 0.0
    else:
        color = white / np.float32(y_white)
        intensity = y_white / REFERENCE_WHITE
    sh = np.array([0.0, 0.0, 0.0, 0.0])
    direction = np.array([0.0, 0.0, 1.0])
    if np.isfinite(lm[: L.NUM_MESH_LANDMARKS]).all():
        normals = posed_normals(face_pose(lm, pose, camera))
        if patches is None:
            verts = skin_vertices()
            if occluded is not None:
                verts = verts[~np.asarray(occluded, dtype=bool)[verts]]
            patches = skin_patches(frame, lm, verts)
        samples = patches.linear_means()
        n = normals[patches.vertices]
        use = patches.inside & (n[:, 2] > MIN_FACING)
        sh = fit_sh(n[use], samples[use] @ BGR_TO_Y)
        norm = float(np.linalg.norm(sh[1:]))
        if norm > 1e-9:
            direction = sh[1:] / norm
    return Light._estimated(color, intensity, direction, sh, white)
