"""The eyewear lens: 3D frames placed on each face by its head pose, drawn by OpenGL in the scene's light.

A frame model (see :mod:`arlens.lenses.eyewear_asset` for the millimetre frame convention) is put on the
canonical face at the nose bridge (landmark 168's canonical position), scaled from millimetres to the canonical
face's centimetres, and carried into the camera by ``Face.pose``; the projection is the scene's camera
(:attr:`arlens.scene.Scene.camera`, the tracker's :class:`~arlens.tracking.camera.PerspectiveCamera`), so a
140 mm frame is drawn wider than a 125 mm one on the same face. For each face only the glasses' projected
bounding box is rendered:

1. **Occluders** into the depth buffer only: the face mesh (this face's landmarks at the posed canonical
   face's depth), an ellipsoid standing in for the skull behind it and one for each ear (pinna), placed from
   the face mesh's side landmarks and the pose and scaled to this face's width. So the far temple goes behind
   the head as it turns, the temples' ends go behind the head and the ears, and the nose hides the far lens's
   inner edge at large yaw. The temples are bent out or in to rest just outside this head (``fit_temples``).
2. **The frame**, opaque, shaded in the scene's light on this face (:attr:`arlens.scene.FaceScene.light`:
   colour, intensity, direction and how directional it is); metals reflect an environment made from the frame.
3. **The lenses** as optical filters (see :mod:`arlens.render.composite`): a clear lens keeps the eyes as they
   are but for a faint Fresnel reflection of that environment; a tinted one multiplies what is behind it.

What covers the face in front of the glasses (a hand: the scene's occluders) hides them. The region is then
given the camera's blur and grain (:mod:`arlens.render.camera_match`), a soft contact shadow of the frame and
pads is laid on the face (:mod:`arlens.render.shadow`), and the region is composited into the frame (a copy
with ``render``, in place with ``render_into``).
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError
from arlens.image import as_bgr, check_bgr
from arlens.lenses.eyewear_asset import (
    DEFAULT_MAX_TRIANGLES,
    EyewearAsset,
    ImportOptions,
    Material,
    import_eyewear,
)
from arlens.render.camera_match import CameraLook, NoiseTile, apply_camera_look, render_scale
from arlens.render.composite import composite_filtered, shade
from arlens.render.gl_thread import GLThread
from arlens.render.shadow import FAINTEST, ShadowStyle, contact_shade_small, working_scale
from arlens.scene import Scene
from arlens.scene.regions import intersect
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.results import Face

logger = logging.getLogger(__name__)

#: Frame convention (x wearer's right, y up, z into the face; mm) to canonical face (x wearer's
#: left, y up, z out of the face; cm): half a turn about y and a scale of 0.1.
FRAME_TO_CANONICAL = np.diag([-0.1, 0.1, -0.1, 1.0])

_NEAR_CM, _FAR_CM = 2.0, 2000.0
#: Most the glasses are moved from the pose's bridge to the image's nose-bridge landmark (cm).
MAX_ANCHOR_SHIFT_CM = 1.5

#: Reflectance at normal incidence of a lens by coating: uncoated glass or polycarbonate reflects about 4% per
#: surface, a multilayer anti-reflective coating under 1%, a flash or full mirror half or more.
COATING_REFLECTANCE = {"none": 0.04, "anti_reflective": 0.008, "mirror": 0.5}
_LUM = np.array([0.2126, 0.7152, 0.0722])

#: Anthropometric placement of the head and the ears on the canonical face (cm), from its side landmarks
#: (the three face-outline points furthest out on each side, by the tragus) and the nose bridge:
#: the skull's half-width at the ears is 0.53 of the face's width (bitragion breadth ~14 cm on a 13.8 cm
#: wide canonical face); the top of the ear's attachment, where a temple rests, is 2.3 cm behind the side
#: points and 4 mm below the bridge (the ear's top is about level with the brows, the attachment a centimetre
#: lower, near the Frankfort plane's porion-orbitale line plus 2 cm); the pinna hangs
#: 6 cm from there, stands 2 cm out at the back and is about 5 cm deep.
#: Opticians fit single-vision lenses with the pupils a little above the lens's middle; the glasses slide
#: along the nose (at most MAX_SLIDE_MM from where the pose puts them) to put them there.
FITTING_HEIGHT = 0.52
#: The contact shadow: how far the rims are from the skin they shade (cm), and how much of it reaches the
#: eyes, which lie deeper (0..255).
SHADOW_GAP_CM = 0.8
EYE_SHADOW_SHARE = 90
MAX_SLIDE_MM = 3.0
#: Most the glasses are moved forward to rest on the nose (cm). The canonical mesh's few points make the nose's
#: sides look higher than they are between them (its triangles span ridge to cheek); beyond this the occluders'
#: own push-back (``occluder_push_cm``) takes up the rest, and the lenses stay about 1.5 cm from the eyes.
MAX_REST_OFFSET_CM = 0.3
#: Most the temples are bent up or down to meet the ears, per mm behind the hinges (about 10 degrees).
MAX_TEMPLE_RISE = 0.18
HEAD_HALF_WIDTH = 0.53
HEAD_SQUARENESS = 2.6
EAR_TOP_BEHIND_SIDE_CM = 2.3
EAR_TOP_ABOVE_BRIDGE_CM = -0.4
_PINNA_RADII_CM = (0.55, 3.2, 2.5)
_PINNA_CENTRE_CM = (0.75, -2.4, -2.3)  # from the ear's top attachment: outward, down, back
_PINNA_FLARE_DEG = 22.0
#: Pieces each temple is cut into along its length to find where it lies on screen (the hull of each piece).
TEMPLE_PIECES = 6
#: Size (cm on the face) of the cells on which hair over the temples is looked for (about 5 px on a 720p webcam).
HAIR_CELL_CM = 0.5
#: Cells of hair above and below a temple (each about 5 mm) for the hair to count as falling over it.
HAIR_AROUND_CELLS = 2
#: Squared Mahalanobis distance from the face's hair colour (three degrees of freedom) within which a cell is this
#: hair, and beyond which it is not (chi-square 99% and 99.9%).
HAIR_LIKE = (11.3, 16.3)
#: Standard deviation of the grey levels inside a cell (the least over its neighbours) below which it is not hair,
#: and above which its texture does not doubt it (the clip's wall: 1-5 on 4-pixel cells; her hair: 8-18).
HAIR_TEXTURE = (5.0, 8.0)
#: Coverage (0..255) of a cell by a temple drawn outside the front for it to count; two such are looked at closer.
DRAWN_CELL = 64
#: Pieces the front is cut into across its width to find where it lies on screen.
FRONT_PIECES = 8


def _canonical_face() -> np.ndarray:
    """The canonical face (468, 3) float32 in centimetres, from the head-pose module."""
    from arlens.tracking.pose import canonical_face

    return np.asarray(canonical_face(), dtype=np.float32)


def _srgb_hex(value: str | tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if len(text) != 6:
            raise InputError(f"lens_tint: expected an sRGB hex colour like '#4A5A46', got {value!r}")
        try:
            return tuple(int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            raise InputError(f"lens_tint: expected an sRGB hex colour like '#4A5A46', got {value!r}") from None
    rgb = np.asarray(value, dtype=np.float64).reshape(-1)
    if rgb.shape != (3,) or not np.isfinite(rgb).all() or (rgb < 0).any() or (rgb > 1).any():
        raise InputError(f"lens_tint: expected three sRGB values in 0..1 or '#RRGGBB', got {value!r}")
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


@dataclass(frozen=True)
class LensOptics:
    """A lens as an optical element: what it lets through and what it reflects, linear RGB.

    Attributes:
        transmittance: per channel, at normal incidence, not counting the surface reflection.
        reflectance: per channel, at normal incidence (Fresnel's F0; it grows toward grazing angles).
    """

    transmittance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    reflectance: tuple[float, float, float] = (0.04, 0.04, 0.04)

    @classmethod
    def of_product(
        cls, transmission: float | None, tint: str | tuple[float, float, float] | None, coating: str | None
    ) -> LensOptics:
        """From a product's luminous ``transmission`` (1 clear .. 0.15 sunglasses, surface losses included),
        ``tint`` (the filter's hue, sRGB) and ``coating`` (none, anti_reflective, mirror)."""
        f0 = COATING_REFLECTANCE[str(coating or "none")]
        t = 1.0 if transmission is None else float(transmission)
        hue = np.ones(3)
        if tint is not None:
            lin = np.power(np.asarray(_srgb_hex(tint)), 2.2)
            hue = lin / max(float(lin @ _LUM), 1e-6)
        rgb = np.clip(hue * t / (1.0 - f0), 0.0, 1.0)
        return cls(tuple(float(c) for c in rgb), (f0, f0, f0))  # type: ignore[arg-type]

    @classmethod
    def of_material(cls, material: Material) -> LensOptics:
        """A model's own lens material read as a filter: colour ``c`` at opacity ``a`` keeps ``1 - a (1 - c)``
        of each channel (what alpha blending meant, without the haze), with uncoated reflections."""
        r, g, b, a = material.base_color
        rgb = 1.0 - a * (1.0 - np.array([r, g, b]))
        return cls(tuple(float(c) for c in np.clip(rgb, 0.0, 1.0)), (0.04, 0.04, 0.04))  # type: ignore[arg-type]


@dataclass(frozen=True)
class EyewearOptions:
    """Settings of an :class:`EyewearLens`, validated when the lens is built.

    Attributes:
        model: a file name in the packaged ``assets/eyewear`` (e.g. ``"round.glb"``) or a path to a
            GLB/glTF/OBJ file.
        frame_width_mm: the product's frame width (front, outside hinge to hinge) in mm.
        offset_mm: (x, y, z) shift of the frame from the nose bridge in the frame convention (mm);
            y > 0 raises it, z < 0 moves it away from the face.
        pantoscopic_tilt_deg: tilt of the front about x; positive brings the rims' bottom toward the cheeks.
        lens_transmission: the lenses' luminous transmittance (1 clear, 0.15 sunglasses); None keeps the
            model's own lens material.
        lens_tint: the lenses' hue, ``"#RRGGBB"`` or sRGB (r, g, b) in 0..1; None is neutral.
        lens_coating: ``"none"``, ``"anti_reflective"`` or ``"mirror"``; None is uncoated.
        samples: multisample anti-aliasing samples (clamped to the driver's maximum).
        head_proxy: hide the temples behind an ellipsoid standing in for the skull, not only behind the face mesh.
        ears: hide the temples' ends behind ellipsoids standing in for the ears.
        fit_temples: bend the temples so they rest just outside this face's head at the ears.
        hair_over_temples: hide the temples (never the front) where the image shows hair in front of them
            (its colour told from the face's skin and hair, connected to the hair above the forehead).
        occluder_push_cm: how far the occluders are pushed back from the face surface (cm), so the
            parts touching the skin (bridge, pads) are not eaten by tracking noise.
        contact_shadow: darkness of the frame's soft shadow on the face, 0 (none) .. 1.
        match_camera: give the glasses the frame's blur and grain (estimated around the face).
        match_resolution: with ``match_camera``, draw the glasses at the resolution the frame's blur leaves it
            (:func:`~arlens.render.camera_match.render_scale`: a coarser drawing upsampled, blurred less, looks
            the same), down to half the frame's; False draws at the frame's own resolution whatever its blur.
        margin_px: pixels added around the glasses' projected box before rendering it.
        reuse_px: draw a face's glasses again only when they, the ears or the face mesh move more
            than this many pixels on screen since they were last drawn for that face, or the light on
            them changes (by more than :data:`REUSE_LIGHT`); otherwise the last drawing is reused (the
            OpenGL passes are most of the lens's time on a CPU; a still shopper's smoothed face, in a
            camera's noise, moves a tenth to a third of a pixel a frame). What is laid over it from the
            frame (the camera's blur and grain, the contact shadow, a hand in front) is made anew every
            frame. 0: draw every frame.
        max_triangles: triangle budget of the model.
        backend: moderngl/glcontext backend of the headless context.
    """

    model: str | Path = "round.glb"
    frame_width_mm: float = 140.0
    offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pantoscopic_tilt_deg: float = 0.0
    lens_transmission: float | None = None
    lens_tint: str | tuple[float, float, float] | None = None
    lens_coating: str | None = None
    samples: int = 4
    head_proxy: bool = True
    ears: bool = True
    fit_temples: bool = True
    hair_over_temples: bool = True
    occluder_push_cm: float = 0.3
    contact_shadow: float = 1.0
    match_camera: bool = True
    match_resolution: bool = True
    margin_px: int = 4
    reuse_px: float = 0.5
    max_triangles: int = DEFAULT_MAX_TRIANGLES
    backend: str = field(default="egl")

    def __post_init__(self) -> None:
        object.__setattr__(self, "offset_mm", tuple(float(v) for v in self.offset_mm))
        self.import_options()  # validates width, offset, tilt and budget
        if not 0 <= self.samples <= 16:
            raise InputError(f"EyewearOptions.samples: expected 0..16, got {self.samples!r}")
        if not 0.0 <= self.occluder_push_cm <= 3.0:
            raise InputError(f"EyewearOptions.occluder_push_cm: expected 0..3 cm, got {self.occluder_push_cm!r}")
        if not 0 <= self.margin_px <= 256:
            raise InputError(f"EyewearOptions.margin_px: expected 0..256, got {self.margin_px!r}")
        if isinstance(self.reuse_px, bool) or not isinstance(self.reuse_px, int | float) or \
                not 0.0 <= self.reuse_px <= 2.0:
            raise InputError(f"EyewearOptions.reuse_px: expected 0..2 pixels, got {self.reuse_px!r}")
        if not 0.0 <= float(self.contact_shadow) <= 1.0:
            raise InputError(f"EyewearOptions.contact_shadow: expected 0..1, got {self.contact_shadow!r}")
        t = self.lens_transmission
        if t is not None and not (isinstance(t, int | float) and not isinstance(t, bool) and 0.0 <= t <= 1.0):
            raise InputError(f"EyewearOptions.lens_transmission: expected 0..1 or None, got {t!r}")
        if self.lens_tint is not None:
            _srgb_hex(self.lens_tint)
        coating = getattr(self.lens_coating, "value", self.lens_coating)
        if coating is not None and coating not in COATING_REFLECTANCE:
            raise InputError(
                f"EyewearOptions.lens_coating: expected one of {', '.join(COATING_REFLECTANCE)} or None, "
                f"got {self.lens_coating!r}"
            )
        object.__setattr__(self, "lens_coating", coating)

    def import_options(self) -> ImportOptions:
        """The importer settings these options imply."""
        return ImportOptions(
            frame_width_mm=self.frame_width_mm,
            offset_mm=self.offset_mm,  # type: ignore[arg-type]
            pantoscopic_tilt_deg=self.pantoscopic_tilt_deg,
            max_triangles=self.max_triangles,
        )

    @property
    def overrides_lenses(self) -> bool:
        """Whether the product describes its lenses (otherwise the model's lens material is used)."""
        return self.lens_transmission is not None or self.lens_tint is not None or self.lens_coating is not None


def _ellipsoid(
    center: np.ndarray, radii: np.ndarray, rings: int = 12, segments: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """A UV ellipsoid: float32 (N, 3) vertices and int32 (T, 3) triangles, counter-clockwise seen from outside."""
    theta = np.linspace(0, np.pi, rings + 1)
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], axis=-1).reshape(-1, 3)
    verts = center + unit * radii
    faces = []
    for i in range(rings):
        for j in range(segments):
            a, b = i * segments + j, i * segments + (j + 1) % segments
            c, d = a + segments, b + segments
            faces += [(a, b, c), (b, d, c)]
    return verts.astype(np.float32), np.array(faces, dtype=np.int32)


def side_points(canonical: np.ndarray) -> np.ndarray:
    """float (2, 3): the mean of the three face-outline points furthest out on the subject's right (x < 0)
    and left (x > 0), in the coordinates of ``canonical`` (468, 3): where the face meets the ears."""
    return outline_sides(np.asarray(canonical, dtype=np.float64)[np.array(L.face_oval())])


def outline_sides(outline: np.ndarray) -> np.ndarray:
    """float (2, 3): :func:`side_points` of the face outline's points alone (float (k, 3), in
    :func:`arlens.landmarks.face_oval`'s order), for a caller that has only those."""
    x = outline[:, 0]
    return np.stack([outline[np.argsort(x)[:3]].mean(axis=0), outline[np.argsort(-x)[:3]].mean(axis=0)])


def head_proxy(canonical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A solid standing in for the skull behind the canonical face, in canonical cm.

    A superellipsoid, flatter than an ellipsoid in its horizontal section (exponent
    :data:`HEAD_SQUARENESS`), so that it is as wide as a head just behind the eyes (the temples of the skull),
    not only at the ears: its front is 1.5 cm behind the nose bridge (behind the rims), its half-width is
    :data:`HEAD_HALF_WIDTH` of the face's width, it reaches 18.5 cm back. A temple on the far side of a turned
    head, and the temples' ends behind the ears, are hidden where the head is.
    """
    center, radii = _head_shape(canonical)
    v, f = _ellipsoid(np.zeros(3), np.ones(3), rings=12, segments=24)
    e = 2.0 / HEAD_SQUARENESS
    v = v.astype(np.float64)
    v[:, 0] = np.sign(v[:, 0]) * np.abs(v[:, 0]) ** e
    v[:, 2] = np.sign(v[:, 2]) * np.abs(v[:, 2]) ** e
    return (center + v * radii).astype(np.float32), f


def _head_shape(canonical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and radii (cm) of :func:`head_proxy`'s superellipsoid."""
    c = np.asarray(canonical, dtype=np.float64)
    width = float(c[:, 0].max() - c[:, 0].min())
    bridge = c[L.NOSE_BRIDGE]
    front, length = bridge[2] - 1.5, 18.5
    center = np.array([0.5 * (c[:, 0].max() + c[:, 0].min()), bridge[1] + 0.5, front - length / 2])
    return center, np.array([HEAD_HALF_WIDTH * width, 0.62 * width, length / 2])


def head_half_width(canonical: np.ndarray, z: float) -> float:
    """Half-width (cm) of :func:`head_proxy` at canonical depth ``z``, at its widest height."""
    center, radii = _head_shape(canonical)
    u = min(abs(z - center[2]) / radii[2], 1.0)
    return float(radii[0] * (1.0 - u**HEAD_SQUARENESS) ** (1.0 / HEAD_SQUARENESS))


def ear_tops(canonical: np.ndarray) -> np.ndarray:
    """float (2, 3): the top of each ear's attachment (where a temple rests), subject's right then left, cm:
    :data:`EAR_TOP_BEHIND_SIDE_CM` behind the face's side points, on the head's surface."""
    c = np.asarray(canonical, dtype=np.float64)
    sides = side_points(c)
    out = sides.copy()
    out[:, 1] = c[L.NOSE_BRIDGE, 1] + EAR_TOP_ABOVE_BRIDGE_CM
    out[:, 2] = sides[:, 2] - EAR_TOP_BEHIND_SIDE_CM
    centre_x = 0.5 * float(c[:, 0].max() + c[:, 0].min())
    for i in range(2):
        out[i, 0] = centre_x + np.sign(sides[i, 0] - centre_x) * head_half_width(c, float(out[i, 2]))
    return out


def ear_proxies(canonical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two flattened ellipsoids standing in for the ears (pinnae), in canonical cm: vertices and triangles.

    Each hangs from :func:`ear_tops`, set out from the head and turned so its back edge stands further out
    (the pinna's flare), so a temple running down behind the ear is hidden by it when the head is in profile.
    """
    verts, faces = [], []
    for k, top in enumerate(ear_tops(canonical)):
        out = -1.0 if top[0] < 0 else 1.0
        v, f = _ellipsoid(np.zeros(3), np.array(_PINNA_RADII_CM), rings=8, segments=16)
        a = math.radians(_PINNA_FLARE_DEG) * out  # turn about y: the back (-z) swings outward
        rot = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
        dx, dy, dz = _PINNA_CENTRE_CM
        centre = top + np.array([out * dx, dy, dz])
        verts.append(v.astype(np.float64) @ rot.T + centre)
        faces.append(f + k * len(v))
    return np.concatenate(verts).astype(np.float32), np.concatenate(faces).astype(np.int32)


def resting_offset(
    asset: EyewearAsset, canonical: np.ndarray, frame_to_canonical: np.ndarray, clearance_cm: float = 0.05
) -> float:
    """How far (cm, toward the camera) a frame placed by ``frame_to_canonical`` must move so that no part of
    its front (within 12 mm of the bridge: rims, bridge, nose pads) is inside the canonical face: where it
    comes to rest on the nose (0 when it already clears it).

    The face's surface height at each front vertex is interpolated on the canonical mesh's front-facing
    triangles (barycentric, in the x-y plane).
    """
    v = np.concatenate([p.vertices for p in asset.frame_parts] or [np.zeros((0, 3))]).astype(np.float64)
    v = v[v[:, 2] < 12.0]
    if len(v) == 0:
        return 0.0
    pts = np.c_[v, np.ones(len(v))] @ frame_to_canonical.T
    c = np.asarray(canonical, dtype=np.float64)
    tri = c[L.face_triangles()]
    normal_z = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])[:, 2]
    tri = tri[np.abs(normal_z) > 1e-9]
    a, b, cc = tri[:, 0, :2], tri[:, 1, :2], tri[:, 2, :2]
    v0, v1 = b - a, cc - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    needed = 0.0
    for chunk in np.array_split(pts[:, :3], max(1, len(pts) // 512)):
        d = chunk[:, None, :2] - a[None]
        u = (d[..., 0] * v1[None, :, 1] - v1[None, :, 0] * d[..., 1]) / den[None]
        w = (v0[None, :, 0] * d[..., 1] - d[..., 0] * v0[None, :, 1]) / den[None]
        inside = (u >= 0) & (w >= 0) & (u + w <= 1)
        z0, z1, z2 = tri[None, :, 0, 2], tri[None, :, 1, 2], tri[None, :, 2, 2]
        z = z0 + u * (z1 - z0) + w * (z2 - z0)
        surface = np.where(inside, z, -np.inf).max(axis=1)  # the face's front surface under each vertex
        needed = max(needed, float(np.max(surface + clearance_cm - chunk[:, 2], initial=0.0)))
    return needed


#: The landmarks the contact shadow's receiver is drawn from: the face's outline, then each eye's loop (the lens's
#: ``_oval`` and ``_eye_loops``), and where to split them.
_SHADOW_LOOPS = np.array([*L.face_oval(), *L.right_eye(), *L.left_eye()], dtype=np.intp)
_SHADOW_SPLITS = (len(L.face_oval()), len(L.face_oval()) + len(L.right_eye()))
#: A shadow factor's table: FAINTEST and up (less than 2% darker) to 255, unshaded; the rest as it is.
_UNSHADED_TAIL = np.where(np.arange(256) >= FAINTEST, 255, np.arange(256)).astype(np.uint8)


def _homogeneous(points: np.ndarray) -> np.ndarray:
    """float64 (N, 4): (N, 3) points with a column of ones (what ``np.c_[points, ones]`` gives, without its
    index machinery: a few of these a face)."""
    out = np.empty((len(points), 4))
    out[:, :3] = points
    out[:, 3] = 1.0
    return out


def _translation(offset: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = offset
    return m


def _width_scale_matrix(centre_x: float, scale: float) -> np.ndarray:
    m = np.eye(4)
    m[0, 0] = scale
    m[0, 3] = centre_x * (1.0 - scale)
    return m


#: Largest change of the light on a face for which a drawing of the glasses is reused, in linear units of what
#: it adds to a white surface (its SH terms, the key light's colour times each component of its direction, the
#: environment's SH; the colour behind the lenses in sRGB 0..1): two to three grey levels at mid grey. The light
#: estimated from the frame itself moves by 0.004 when a face's landmarks move a tenth of a pixel (grace_hopper):
#: a smaller bound would redraw a still face's glasses for that jitter alone.
REUSE_LIGHT = 1e-2


@dataclass(frozen=True)
class _RenderKey:
    """What one face's OpenGL drawing depends on, to tell whether the last one can be reused."""

    track_id: int
    region: tuple[int, int, int, int]  # where it was drawn (with a margin: still holds glasses moved by reuse_px)
    points: np.ndarray  # float64 (n, 2) pixels: the glasses' box corners and bent temple ends, ears, face mesh
    light: np.ndarray  # float64: SH, key direction and colour, environment SH, behind colour

    def close_to(self, other: _RenderKey, px: float) -> bool:
        return (self.track_id == other.track_id
                and float(np.abs(self.points - other.points).max()) <= px
                and float(np.abs(self.light - other.light).max()) <= REUSE_LIGHT)


@dataclass(frozen=True)
class _HairSample:
    """Where to look for hair over one face's temples: coarse cells around them (see ``_temple_hair_sample``)."""

    box: tuple[int, int, int, int]  # frame pixels, whole cells
    cell: int  # pixels per cell
    where: np.ndarray  # uint8 (rows, columns): the temples' cells outside the front
    face: Any  # the face's FaceScene (its skin class and landmarks)


@dataclass(frozen=True)
class _FacePlan:
    """What drawing one face's glasses needs, read from the frame before anything is drawn into it."""

    index: int
    face: Face
    model: np.ndarray
    region: tuple[int, int, int, int]
    lighting: Any
    look: CameraLook
    behind: tuple[float, float, float]
    scene_face: Any  # the face's FaceScene: what covers the glasses (read once they are drawn, see _occlusion)
    width_scale: float
    bend: tuple[float, float, float, float]
    hair: _HairSample | None  # where to look for hair in front of the temples
    key: _RenderKey | None  # what the drawing depends on (None: reuse is off)
    reuse: np.ndarray | None  # the last drawing of this face, still good for this frame (its region is kept)
    scale: float = 1.0  # the resolution it is drawn at, a fraction of the frame's (see render_scale)


@dataclass(frozen=True)
class _Prepared:
    """A drawing begun by :meth:`EyewearLens.prepare`: its scene and faces, their plans, the plan sent to OpenGL."""

    scene: Scene
    faces: tuple[Face, ...]
    plans: list[_FacePlan]
    issued: int | None  # the index in plans of the drawing handed to the GL thread (None: every face reuses one)
    drawing: Future[np.ndarray] | None  # that drawing, read back

    def matches(self, scene: Scene, faces: list[Face], camera: PerspectiveCamera | None) -> bool:
        """Whether :meth:`EyewearLens.render_into` was called for what was prepared."""
        return (scene is self.scene and camera in (None, scene.camera) and len(faces) == len(self.faces)
                and all(a is b for a, b in zip(faces, self.faces, strict=True)))


class EyewearLens:
    """Draws a pair of glasses on every face; a context manager holding an OpenGL context.

    Args:
        options: the model, its size and placement, its lenses, and rendering settings.

    Raises:
        AssetError: the model cannot be loaded or used.
        InputError: the options are invalid.
        RuntimeUnavailableError: no OpenGL context can be created (names the packages to install).
    """

    #: What this lens reads from a :class:`~arlens.scene.Scene`: the light on each face, what covers it (the
    #: session tracks hands for "occluders") and the camera's look.
    scene_uses = frozenset({"light", "occluders", "camera_look"})

    def __init__(self, options: EyewearOptions | None = None) -> None:
        from arlens.render.gl import GLRenderer, lens_keep_lut

        self.options = options or EyewearOptions()
        o = self.options
        self.asset: EyewearAsset = import_eyewear(o.model, o.import_options())
        canonical = _canonical_face()
        if canonical.shape != (468, 3):
            raise InputError(f"canonical face: expected (468, 3), got {canonical.shape}")
        self._canonical = canonical.astype(np.float64)
        self._anchor = np.eye(4)
        self._anchor[:3, 3] = self._canonical[L.NOSE_BRIDGE]
        self._frame_to_canonical = self._anchor @ FRAME_TO_CANONICAL
        # rest on the nose: forward until no part of the front (rims, bridge, pads) is inside the face
        rest = resting_offset(self.asset, self._canonical, self._frame_to_canonical)
        self.rest_offset_cm = min(rest, MAX_REST_OFFSET_CM)
        self._frame_to_canonical[2, 3] += self.rest_offset_cm
        lens_parts = self.asset.lens_parts
        if o.overrides_lenses:
            self.optics = LensOptics.of_product(o.lens_transmission, o.lens_tint, o.lens_coating)
        elif lens_parts:
            self.optics = LensOptics.of_material(lens_parts[0].material)
        else:
            self.optics = LensOptics()
        self._keep_lut = lens_keep_lut(self.optics.transmittance, self.optics.reflectance)
        c = self._canonical
        self._centre_x = 0.5 * float(c[:, 0].max() + c[:, 0].min())
        self._canonical_width = float(np.ptp(side_points(c)[:, 0]))
        self._ear_tops = ear_tops(c)
        self._temple_fit = self._temple_geometry()
        self._pieces, self._piece_spans, self._temple_count = self._temple_pieces()
        self._pieces = _homogeneous(self._pieces)  # homogeneous: bent and posed in place each render
        self._lens_boxes = []  # per lens: side (+1 wearer's right, -1 left, 0 unknown), plane z, bottom y, top y
        self._eye_corners = []
        for part in lens_parts:
            v = part.vertices.astype(np.float64)
            sign = float(np.sign(np.round(v[:, 0].mean(), 3)))
            self._lens_boxes.append((sign, float(np.median(v[:, 2])), float(v[:, 1].min()), float(v[:, 1].max())))
            right = (L.RIGHT_EYE_OUTER, L.RIGHT_EYE_INNER)
            self._eye_corners.append(right if sign > 0 else (L.LEFT_EYE_OUTER, L.LEFT_EYE_INNER))
        to_mm = np.linalg.inv(FRAME_TO_CANONICAL[:3, :3])
        ridge = to_mm @ (self._canonical[L.NOSE_RIDGE] - self._canonical[L.NOSE_BRIDGE])  # frame mm, down the ridge
        self._ridge_mm = ridge / max(-ridge[1], 1e-6)  # per mm down
        eyes = self._canonical[[*L.right_eye(), *L.left_eye()]].mean(axis=0)
        corner_idx = [L.RIGHT_EYE_OUTER, L.RIGHT_EYE_INNER, L.LEFT_EYE_OUTER, L.LEFT_EYE_INNER]
        corners = self._canonical[corner_idx].mean(axis=0)
        self._pupil_above_corners_mm = float(10.0 * (eyes[1] - corners[1]))
        self._eye_corner_idx = np.array([i for pair in self._eye_corners for i in pair], dtype=np.intp)
        self._lens_h = float(np.mean([b[3] - b[2] for b in self._lens_boxes])) if self._lens_boxes else 0.0
        self._eye_idx = np.array([*L.right_eye(), *L.left_eye()])
        self._oval = np.array(L.face_oval())
        self._eye_loops = (L.right_eye(), L.left_eye())
        self._noise = NoiseTile()
        # every OpenGL call is made on a thread of its own (see arlens.render.gl_thread): the context is made,
        # used and released there, and a drawing begun by prepare() is rasterised while the caller goes on
        self._gl = GLThread()
        try:
            self._renderer = self._gl.call(GLRenderer, samples=o.samples, backend=o.backend)
        except BaseException:
            self._gl.close()
            raise
        try:
            self._gl.call(self._upload, lens_parts)
        except BaseException:
            self._gl.call(self._renderer.close)
            self._gl.close()
            raise
        self._drawn: tuple[np.ndarray | None, ...] = ()
        self._renders: dict[int, tuple[_RenderKey, np.ndarray, float]] = {}  # per face slot: the last drawing
        #: How many faces' glasses were drawn by OpenGL so far (the rest reused a drawing: ``reuse_px``).
        self.gl_draws = 0
        self._pending: _Prepared | None = None  # what prepare() began
        corners = self._bounds = self.asset.bounds  # the asset works them out from every vertex when asked
        self._corners = np.array(
            [[corners[i, 0], corners[j, 1], corners[k, 2], 1.0] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
        )

    def _upload(self, lens_parts: Any) -> None:
        """Upload the frame's parts, the face mesh and the head and ear proxies (on the GL thread)."""
        from arlens.render.gl import SurfaceStyle

        o = self.options
        r = self._renderer
        self._parts = []
        for part in (*self.asset.frame_parts, *lens_parts):  # opaque first, then the filters
            mesh = r.mesh(part.vertices, part.faces, part.normals, part.uv, part.material.texture)
            m = part.material
            optics = self.optics if (o.overrides_lenses or not m.is_lens) else LensOptics.of_material(m)
            style = SurfaceStyle(
                m.base_color, m.metallic, m.roughness, m.is_lens, m.double_sided,
                optics.transmittance, optics.reflectance,
            )
            self._parts.append((mesh, style))
        self._face_faces = L.face_triangles()
        self._face_mesh = r.mesh(np.zeros((468, 3), np.float32), self._face_faces, dynamic=True)
        hv, hf = head_proxy(self._canonical)
        self._head_mesh = r.mesh(hv, hf)
        ev, ef = ear_proxies(self._canonical)
        self._ear_mesh = r.mesh(ev, ef)

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> EyewearLens:
        """A lens for a product with ``model`` and ``frame_width_mm`` (and optional ``offset_mm``,
        ``pantoscopic_tilt_deg``, ``lens_transmission``, ``lens_tint``, ``lens_coating``); ``overrides`` set
        any other :class:`EyewearOptions` field.

        Raises:
            InputError: the product lacks a model or a frame width.
        """
        model = getattr(product, "model", None)
        width = getattr(product, "frame_width_mm", None)
        if not model or width is None:
            raise InputError(
                f"product: expected 'model' and 'frame_width_mm' for eyewear, got model={model!r}, "
                f"frame_width_mm={width!r}"
            )
        kwargs: dict[str, Any] = {"model": model, "frame_width_mm": float(width)}
        offset = getattr(product, "offset_mm", None)
        if offset is not None:
            kwargs["offset_mm"] = tuple(offset)
        tilt = getattr(product, "pantoscopic_tilt_deg", None)
        if tilt is not None:
            kwargs["pantoscopic_tilt_deg"] = float(tilt)
        for name in ("lens_transmission", "lens_tint", "lens_coating"):
            value = getattr(product, name, None)
            if value is not None:
                kwargs[name] = getattr(value, "value", value)
        kwargs.update(overrides)
        return cls(EyewearOptions(**kwargs))

    # --- lifetime ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the OpenGL context and everything on it, and stop its thread; idempotent."""
        if not self._gl.closed:
            try:
                self._gl.call(self._renderer.close)
            finally:
                self._gl.close()

    def __enter__(self) -> EyewearLens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def drawn_boxes(self) -> tuple[np.ndarray | None, ...]:
        """Per face of the last ``render``/``render_into`` call (in the order given): float32 (4,) x0, y0, x1, y1
        around every pixel the glasses covered (frame, temples and tinted lenses, from the rendered coverage),
        or None where nothing was drawn. What a tap-to-buy target should cover."""
        return self._drawn

    # --- geometry ---------------------------------------------------------------------------------------------
    def model_matrix(self, face: Face, camera: PerspectiveCamera | None = None) -> np.ndarray:
        """4x4 from the frame convention (mm) to camera space (cm) for ``face``.

        With the ``camera`` the glasses are fitted to this face as it is in the image:

        - moved (at the pose's depth, by at most :data:`MAX_ANCHOR_SHIFT_CM`) so the bridge lands on the image's
          own nose-bridge landmark: the pose is a fit of an average face to the whole face, and on a turned or
          pitched face its bridge can be off by several millimetres, which puts the frame above or below the
          eyes; the landmark is where this nose is;
        - then slid along the nose's ridge (by at most :data:`MAX_SLIDE_MM`) so the eyes look through the
          lenses at :data:`FITTING_HEIGHT`, as glasses rest lower or higher on different noses. The eyes'
          centres are taken from their corners, which do not move with the gaze (glasses do not follow it).
        """
        pose = np.asarray(face.pose, dtype=np.float64)
        m = pose @ self._frame_to_canonical
        if camera is None:
            return m
        bridge = pose[:3, :3] @ self._canonical[L.NOSE_BRIDGE] + pose[:3, 3]
        target = camera.unproject(face.landmarks[L.NOSE_BRIDGE : L.NOSE_BRIDGE + 1, :2], -bridge[2])[0]
        shift = target - bridge
        norm = float(np.linalg.norm(shift))
        if np.isfinite(norm) and norm > MAX_ANCHOR_SHIFT_CM:
            shift *= MAX_ANCHOR_SHIFT_CM / norm
        if np.isfinite(shift).all():
            m[:3, 3] += shift
        slide = self._slide_mm(face, camera, m)
        if slide:
            m = m @ _translation(self._ridge_mm * slide)
        return m

    def _slide_mm(self, face: Face, camera: PerspectiveCamera, m: np.ndarray) -> float:
        """How far down the nose (mm, negative: up) to move the glasses for the fitting height."""
        if not self._lens_boxes:
            return 0.0
        try:
            inv = np.linalg.inv(m)
        except np.linalg.LinAlgError:
            return 0.0
        # every lens's eye-corner midpoint, unprojected together (elementwise: the same as one at a time)
        mids = face.landmarks[self._eye_corner_idx, :2].astype(np.float64).reshape(-1, 2, 2).mean(axis=1)
        rays = camera.unproject(mids, 1.0)
        heights = []
        _, oy, oz = inv[:3, 3].tolist()
        for ray, (sign, z_lens, y0, y1) in zip(rays, self._lens_boxes, strict=True):
            if sign == 0.0:
                continue
            _, dy, dz = (inv[:3, :3] @ ray).tolist()
            if abs(dz) < 1e-9:
                continue
            # the hit's height, in Python floats: the same double operations as numpy's on the whole vector
            hit_y = oy + dy * (z_lens - oz) / dz
            heights.append((hit_y + self._pupil_above_corners_mm - y0) / (y1 - y0))
        if not heights or not all(map(math.isfinite, heights)):
            return 0.0
        mean = heights[0] if len(heights) == 1 else float(np.mean(heights))
        return float(min(max((FITTING_HEIGHT - mean) * self._lens_h, -MAX_SLIDE_MM), MAX_SLIDE_MM))

    def frame_points(
        self, face: Face, points_mm: np.ndarray, camera: PerspectiveCamera | None = None
    ) -> np.ndarray:
        """Camera-space (cm) positions of (N, 3) points given in the frame convention (mm) (see
        :meth:`model_matrix` for what the ``camera`` adds)."""
        p = np.c_[np.asarray(points_mm, dtype=np.float64), np.ones(len(points_mm))]
        return (p @ self.model_matrix(face, camera).T)[:, :3]

    def width_scale(self, face: Face, camera: PerspectiveCamera) -> float:
        """This face's width over the canonical face's, measured between its side landmarks at the posed
        depth (0.85..1.2): what the head and ear proxies are scaled by."""
        pose = np.asarray(face.pose, dtype=np.float64)
        oval = self._oval  # the sides lie on the face's outline: unproject just that
        depth = -(self._canonical[oval] @ pose[2, :3] + pose[2, 3])
        pts = camera.unproject(face.landmarks[oval, :2], depth)
        local = (pts - pose[:3, 3]) @ pose[:3, :3]  # camera -> canonical frame
        width = float(np.ptp(outline_sides(local)[:, 0]))
        return min(max(width / self._canonical_width, 0.85), 1.2)

    def ear_points(self, face: Face, camera: PerspectiveCamera, width_scale: float | None = None) -> np.ndarray:
        """Camera-space (cm) float (2, 3) tops of the ears' attachment (subject's right, left) for ``face``."""
        if width_scale is None:
            width_scale = self.width_scale(face, camera)
        scale = _width_scale_matrix(self._centre_x, width_scale)
        p = _homogeneous(self._ear_tops) @ (np.asarray(face.pose, dtype=np.float64) @ scale).T
        return p[:, :3]

    def _temple_geometry(self) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]] | None:
        """Where the temples leave the front (z, mm) and, per side (wearer's right x > 0, then left), straight
        lines (slope, intercept in z) through the model's temple inner |x| and bottom y before they bend down;
        None for a model without temples."""
        v = np.concatenate([p.vertices for p in self.asset.frame_parts] or [np.zeros((0, 3))]).astype(np.float64)
        if len(v) == 0:
            return None
        z0 = float(self.asset.hinges[:, 2].max()) + 4.0
        lines = []
        for sign in (1.0, -1.0):
            side = v[(sign * v[:, 0] > 0) & (v[:, 2] > z0 + 5.0)]
            if len(side) < 12 or np.ptp(side[:, 2]) < 40.0:
                return None
            z1 = z0 + 5.0 + 0.6 * np.ptp(side[:, 2])  # the straight part, before the bend over the ear
            edges = np.linspace(z0 + 5.0, z1, 9)
            zs, xs, ys = [], [], []
            for a, b in zip(edges[:-1], edges[1:], strict=True):
                sel = side[(side[:, 2] >= a) & (side[:, 2] < b)]
                if len(sel):
                    zs.append(0.5 * (a + b))
                    xs.append(float(np.min(sign * sel[:, 0])))
                    ys.append(float(np.min(sel[:, 1])))
            if len(zs) < 3:
                return None
            lines.append((np.polyfit(zs, xs, 1), np.polyfit(zs, ys, 1)))
        return z0, lines

    def _temple_pieces(self) -> tuple[np.ndarray, list[tuple[int, int]], int]:
        """Where the temples and the front lie, as short overlapping pieces whose projected hulls cover them: frame
        mm points of every piece, one after another; each piece's (start, end) in them; how many pieces are the
        temples' (beyond the hinges, cut along z, per side), the rest the front's (the frame before the hinges and
        the lenses, cut along x). No pieces for a model without temples."""
        parts = self.asset.frame_parts
        v = np.concatenate([p.vertices for p in parts] or [np.zeros((0, 3))]).astype(np.float64)
        if len(v) == 0 or len(self.asset.hinges) == 0:
            return np.zeros((0, 3)), [], 0
        z0 = float(self.asset.hinges[:, 2].max()) + 4.0
        pieces = []

        def cut(points: np.ndarray, axis: int, n: int) -> None:
            edges = np.linspace(points[:, axis].min() - 1e-6, points[:, axis].max() + 1e-6, n + 1)
            for lo, hi in zip(edges[:-2], edges[2:], strict=True):  # two bins at a time: overlapping pieces
                sel = points[(points[:, axis] >= lo) & (points[:, axis] <= hi)]
                if len(sel) >= 3:
                    pieces.append(sel[:: max(1, len(sel) // 48)])

        for sign in (1.0, -1.0):
            side = v[(sign * v[:, 0] > 0) & (v[:, 2] > z0)]
            if len(side) < 12 or np.ptp(side[:, 2]) < 40.0:
                return np.zeros((0, 3)), [], 0
            cut(side, 2, TEMPLE_PIECES)
        temples = len(pieces)
        lenses = [p.vertices for p in self.asset.lens_parts]
        cut(np.concatenate([v[v[:, 2] <= z0], *lenses]).astype(np.float64), 0, FRONT_PIECES)
        ends = np.cumsum([len(p) for p in pieces])
        return np.concatenate(pieces), list(zip(ends - [len(p) for p in pieces], ends, strict=True)), temples

    def _temple_hair_sample(self, scene: Scene, face_scene: Any, camera: PerspectiveCamera, m: np.ndarray,
                            bend: tuple[float, float, float, float],
                            region: tuple[int, int, int, int]) -> _HairSample | None:
        """Where :meth:`_temple_hair` looks for hair: coarse cells around the temples and up to the band above
        the forehead beside them, and which of them the temples cover outside the front; None where no temple
        lies outside the front on screen (a face seen from the front) or the option is off.

        The temples are cut into pieces (``TEMPLE_PIECES`` per side) projected and bent as the renderer bends them,
        each covered by its hull; the front likewise across its width (``FRONT_PIECES``), a cell wider (the
        matte is brought back to full size by blending cells), is taken out.
        """
        if not self.options.hair_over_temples or not self._temple_count:
            return None
        fh, fw = scene.frame.shape[:2]
        z0, out_right, out_left, rise = bend
        p = self._pieces.copy()  # bent as the renderer bends them (the front lies before the bend); homogeneous
        behind = np.maximum(p[:, 2] - z0, 0.0)
        p[:, 0] += behind * np.where(p[:, 0] > 0, out_right, -out_left)
        p[:, 1] += behind * rise
        cam = p @ m.T
        if (cam[:, 2] > -_NEAR_CM).any():
            return None
        uv = camera.project(cam[:, :3]).astype(np.float32)
        temples = uv[: self._piece_spans[self._temple_count - 1][1]]
        tx0, ty0 = np.floor(temples.min(axis=0))
        tx1, ty1 = np.ceil(temples.max(axis=0))
        rx0, ry0, rx1, ry1 = region
        tx0, ty0, tx1, ty1 = max(int(tx0), rx0), max(int(ty0), ry0), min(int(tx1), rx1), min(int(ty1), ry1)
        if tx1 - tx0 < 2 or ty1 - ty0 < 2:
            return None
        px_per_cm = camera.focal_px / max(-float(face_scene.face.pose[2, 3]), _NEAR_CM)  # turned or not
        # around the temples, and up to the band above the forehead beside them (where the seeds are)
        reach = int(3.0 * px_per_cm)
        bx0, by0 = max(tx0 - reach, 0), max(ty0 - reach, 0)
        bx1, by1 = min(tx1 + reach, fw), min(ty1 + reach // 3, fh)
        # whole cells (the box loses less than one at its right and bottom), so the frame is reduced by exact block
        # means and the matte brought back by an exact integer scale
        cell = max(1, min(int(round(HAIR_CELL_CM * px_per_cm)), (bx1 - bx0) // 2, (by1 - by0) // 2))
        gw, gh = (bx1 - bx0) // cell, (by1 - by0) // cell
        bx1, by1 = bx0 + gw * cell, by0 + gh * cell
        # on the temples only, never the front: the pieces' hulls on the cells (in quarter cells: cv2's shift=2)
        q = np.round((uv - np.float32([bx0, by0])) * np.float32(4.0 / cell)).astype(np.int32)
        hulls = [cv2.convexHull(q[i:j]) for i, j in self._piece_spans]
        where = np.zeros((gh, gw), np.uint8)
        cv2.fillPoly(where, hulls[: self._temple_count], 1, shift=2)
        cover = np.zeros((gh, gw), np.uint8)
        cv2.fillPoly(cover, hulls[self._temple_count :], 1, shift=2)
        where = cv2.dilate(where, np.ones((3, 3), np.uint8))  # a temple thinner than a cell still counts
        where[cv2.dilate(cover, np.ones((3, 3), np.uint8)) > 0] = 0
        if not where.any():  # every temple behind the front on screen (a face seen from the front)
            return None
        return _HairSample((bx0, by0, bx1, by1), cell, where, face_scene)

    def _temple_hair(self, sample: _HairSample, rgba: np.ndarray, region: tuple[int, int, int, int],
                     scene: Scene) -> np.ndarray | None:
        """float32 over frame ``region``: how much hair covers the temples there (0 off the temples and on the
        front); None where none does, or where no temple is drawn outside the front (``rgba``: the drawing).
        Reads the frame (``scene.frame``): called before anything is drawn into it.

        The ear and skull proxies hide the temples where the head is; hair falling over a temple (long hair over
        the ears, a strand) is in front of it but in no proxy. It is found on the image, on the sample's cells
        (``HAIR_CELL_CM`` wide): the cells this face's skin does not explain and its hair does
        (:mod:`arlens.render.hair`, the hair's colour learned above the forehead; none learned: no hair) and that
        look like that hair (``HAIR_LIKE``: a deep skin tone's shadows, or skin redder than the face's, are not
        the skin either, but not its hair) and are textured as hair is (``HAIR_TEXTURE``), the scene's person mask
        taking out the background where it has one; of those only the ones connected to the hair above the forehead
        (at the temples the band reaches down to the eyes), and with hair ``HAIR_AROUND_CELLS`` above and below
        them (hair falling over the temple, not short hair ending at it, which it lies on).
        """
        from arlens.render.hair import hair_band_points, hair_class_of, hair_probability
        from arlens.scene.colors import to_features

        bx0, by0, bx1, by1 = sample.box
        rx0, ry0, rx1, ry1 = region
        cell, where = sample.cell, sample.where
        # is any temple drawn outside the front? (the drawing's coverage of the temples' cells, block means over
        # the cells' bounding box only)
        gx, gy, gw_, gh_ = cv2.boundingRect(where)
        px0, py0 = bx0 + gx * cell, by0 + gy * cell
        px1, py1 = px0 + gw_ * cell, py0 + gh_ * cell
        cx0, cy0, cx1, cy1 = max(px0, rx0), max(py0, ry0), min(px1, rx1), min(py1, ry1)
        if cx1 <= cx0 or cy1 <= cy0:
            return None
        alpha = np.zeros((py1 - py0, px1 - px0), np.uint8)
        alpha[cy0 - py0 : cy1 - py0, cx0 - px0 : cx1 - px0] = rgba[cy0 - ry0 : cy1 - ry0, cx0 - rx0 : cx1 - rx0, 3]
        drawn = cv2.resize(alpha, (gw_, gh_), interpolation=cv2.INTER_AREA)
        drawn[where[gy : gy + gh_, gx : gx + gw_] == 0] = 0
        if np.count_nonzero(drawn >= DRAWN_CELL) < 2:  # none, or a sliver beside the front: not worth a look
            return None
        frame = scene.frame
        skin = getattr(getattr(sample.face, "colors", None), "skin", None)
        band = hair_band_points(np.asarray(sample.face.face.landmarks), frame.shape)
        if skin is None or band is None or len(band) < 12:
            return None
        inside = (band[:, 0] >= bx0) & (band[:, 0] < bx1) & (band[:, 1] >= by0) & (band[:, 1] < by1)
        hair = hair_class_of(frame[band[:, 1].astype(np.intp), band[:, 0].astype(np.intp)], skin)
        if hair is None or not inside.any():
            return None
        gh, gw = where.shape
        small = cv2.resize(frame[by0:by1, bx0:bx1], (gw, gh), interpolation=cv2.INTER_AREA)
        p = hair_probability(small, skin, hair)
        if p is None:
            return None
        d2 = hair.mahalanobis2(to_features(small).reshape(-1, 3)).reshape(gh, gw)
        p *= np.clip((np.float32(HAIR_LIKE[1]) - d2) * np.float32(1.0 / (HAIR_LIKE[1] - HAIR_LIKE[0])), 0.0, 1.0)
        # and textured as hair is (strands): a flat wall, or smooth skin, of the hair's colour is not hair (a hair
        # colour learned partly from the background, as on a head in profile, would take it)
        grey = cv2.cvtColor(frame[by0:by1, bx0:bx1], cv2.COLOR_BGR2GRAY).astype(np.float32)
        mean = cv2.resize(grey, (gw, gh), interpolation=cv2.INTER_AREA)
        grey *= grey
        spread = cv2.resize(grey, (gw, gh), interpolation=cv2.INTER_AREA)
        spread -= mean * mean
        # the least of each cell's neighbourhood: a cell across an edge (the wall beside the head) is not textured
        texture = cv2.erode(np.sqrt(np.maximum(spread, 0.0)), np.ones((3, 3), np.uint8),
                            borderType=cv2.BORDER_REPLICATE)
        p *= np.clip((texture - np.float32(HAIR_TEXTURE[0])) * np.float32(1.0 / (HAIR_TEXTURE[1] - HAIR_TEXTURE[0])),
                     0.0, 1.0)
        if getattr(scene, "has_person_mask", False):
            person = scene.person(sample.box)
            if person is not None:
                p *= cv2.resize(person, (gw, gh), interpolation=cv2.INTER_AREA)
        # connected to the hair above the forehead
        _, labels = cv2.connectedComponents((p > np.float32(0.5)).astype(np.uint8), connectivity=8)
        seeds = np.clip(((band[inside] - (bx0, by0)) / cell).astype(np.intp), 0, (gw - 1, gh - 1))
        keep = np.zeros(int(labels.max()) + 1, np.float32)
        keep[labels[seeds[:, 1], seeds[:, 0]]] = 1.0
        keep[0] = 0.0
        if not keep.any():
            return None
        p *= keep[labels]
        p = cv2.erode(p, np.ones((2 * HAIR_AROUND_CELLS + 1, 1), np.uint8), borderType=cv2.BORDER_REPLICATE)
        # on the temples only (the temples' cells, a cell wider: not only where this drawing covers them)
        p *= sample.where
        if not (p > np.float32(0.02)).any():
            return None
        # back to full size where there is any, a cell more around it (upsampling blends toward the edge)
        x, y, w, h = cv2.boundingRect((p > np.float32(0.02)).astype(np.uint8))
        gx0, gy0, gx1, gy1 = max(x - 1, 0), max(y - 1, 0), min(x + w + 1, gw), min(y + h + 1, gh)
        fx0, fy0 = bx0 + gx0 * cell, by0 + gy0 * cell
        full = cv2.resize(p[gy0:gy1, gx0:gx1], ((gx1 - gx0) * cell, (gy1 - gy0) * cell),
                          interpolation=cv2.INTER_LINEAR)
        cx0, cy0 = max(fx0, rx0), max(fy0, ry0)
        cx1, cy1 = min(fx0 + full.shape[1], rx1), min(fy0 + full.shape[0], ry1)
        if cx1 <= cx0 or cy1 <= cy0:
            return None
        out = np.zeros((ry1 - ry0, rx1 - rx0), np.float32)
        out[cy0 - ry0 : cy1 - ry0, cx0 - rx0 : cx1 - rx0] = full[cy0 - fy0 : cy1 - fy0, cx0 - fx0 : cx1 - fx0]
        return out

    def _temple_bend(
        self, face: Face, camera: PerspectiveCamera, m: np.ndarray, width_scale: float
    ) -> tuple[float, float, float, float]:
        """How much the temples bend out (per side) and up, per mm behind the hinges, to rest on this head:
        just outside it, on the ears' tops. Worn glasses pivot on the nose and the ears; here the front keeps
        the product's tilt and the temples meet the ears (a frame's built-in pantoscopic angle)."""
        if not self.options.fit_temples or self._temple_fit is None:
            return 1e9, 0.0, 0.0, 0.0
        z0, lines = self._temple_fit
        try:
            ears = _homogeneous(self.ear_points(face, camera, width_scale)) @ np.linalg.inv(m).T  # frame mm
        except np.linalg.LinAlgError:
            return 1e9, 0.0, 0.0, 0.0
        outs, rises = [], []
        # in Python floats: the same double operations as on numpy's scalars, without their overhead
        for (ex, ey, z_e), (x_line, y_line) in zip(ears[:, :3].tolist(), lines, strict=True):  # subject's right =
            if not (math.isfinite(ex) and math.isfinite(ey) and math.isfinite(z_e)) or z_e <= z0 + 10.0:  # wearer's
                return 1e9, 0.0, 0.0, 0.0
            run = z_e - z0
            xa, xb = x_line.tolist()
            ya, yb = y_line.tolist()
            # the lines' values as np.polyval gives them ((0 * z + a) * z + b: the same float operations)
            outs.append(min(max((abs(ex) + 1.5 - (xa * z_e + xb)) / run, -0.12), 0.2))
            rises.append((ey - (ya * z_e + yb)) / run)
        rise = (rises[0] + rises[1]) / 2.0  # np.mean of the two: their sum halved
        return z0, outs[0], outs[1], min(max(rise, -MAX_TEMPLE_RISE), MAX_TEMPLE_RISE)

    def _region(self, camera: PerspectiveCamera, m: np.ndarray) -> tuple[int, int, int, int] | None:
        corners = (self._corners @ m.T)[:, :3]
        if (corners[:, 2] > -_NEAR_CM).any():  # partly behind the camera: draw the whole image
            return 0, 0, camera.width, camera.height
        uv = camera.project(corners)
        m = self.options.margin_px
        x0 = int(np.floor(max(uv[:, 0].min() - m, 0)))
        y0 = int(np.floor(max(uv[:, 1].min() - m, 0)))
        x1 = int(np.ceil(min(uv[:, 0].max() + m, camera.width)))
        y1 = int(np.ceil(min(uv[:, 1].max() + m, camera.height)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return x0, y0, x1, y1

    def _occluder_vertices(self, face: Face, camera: PerspectiveCamera, push_cm: float | None = None) -> np.ndarray:
        """The face mesh in camera space: landmark pixels unprojected at the posed canonical face's depth.

        The posed canonical face gives metric depth; the landmarks give this face's own outline, so
        the occluder's silhouette follows the image (jaw, cheeks) rather than an average face.
        """
        pose = np.asarray(face.pose, dtype=np.float64)
        posed = self._canonical @ pose[:3, :3].T + pose[:3, 3]
        push = self.options.occluder_push_cm if push_cm is None else push_cm
        depth = -posed[:, 2] + push
        return camera.unproject(face.landmarks[:468, :2], depth)

    # --- light and camera -------------------------------------------------------------------------------------
    @staticmethod
    def lighting(light: Any, environment: np.ndarray | None) -> Any:
        """The GL lighting for a scene's :class:`~arlens.scene.Light` on a face: its colour and intensity (a
        white surface of albedo 1 facing it looks like the frame's white patch), split between a soft
        ambient part (a little brighter from above, as rooms are) and a key from its direction by how
        directional it is; ``environment`` is what metals and lenses reflect."""
        from arlens.render.gl import Lighting
        from arlens.scene.light import REFERENCE_WHITE

        color = np.asarray(light.color, dtype=np.float64)[::-1]  # BGR -> RGB
        white = float(light.intensity) * REFERENCE_WHITE
        d = float(np.clip(light.directionality, 0.0, 1.5))
        ambient, key = white / (1.0 + d), white * d / (1.0 + d)
        sh = np.array([ambient * color, np.zeros(3), 0.2 * ambient * color, np.zeros(3)])
        return Lighting(sh, light.direction, key * color, environment)

    # --- drawing ----------------------------------------------------------------------------------------------
    def render(
        self,
        frame: np.ndarray,
        faces: Face | list[Face] | tuple[Face, ...],
        scene: Scene | PerspectiveCamera | None = None,
        *,
        camera: PerspectiveCamera | None = None,
    ) -> np.ndarray:
        """Draw the glasses on every face of ``frame`` and return a new image.

        Args:
            frame: uint8 BGR (H, W, 3) or another form :mod:`arlens.image` accepts (grey, BGRA); not modified.
            faces: tracked faces with their poses (``Face.pose``, canonical cm to camera cm).
            scene: the frame's :class:`~arlens.scene.Scene` (its camera projects the glasses, its light on
                each face shades them, what covers each face hides them); None builds one from the frame
                (without hands). A :class:`~arlens.tracking.camera.PerspectiveCamera` is accepted here too
                (as before the scene existed).
            camera: the camera by keyword (overrides the scene's).

        Returns:
            uint8 BGR (H, W, 3), a copy of ``frame`` with the glasses composited.

        Raises:
            InputError: bad frame, camera or scene of another size, or a face whose pose does not put it
                in front of the camera.
        """
        source = as_bgr(frame, "frame")
        out = source.copy() if source is frame else source
        # a scene this lens builds itself is built on the caller's frame, not on the copy drawn into: a scene and
        # its faces' scenes refer to each other, so it lives until the garbage collector runs, and the returned
        # frame, freed as soon as the caller drops it, can then be reused by the next frame's copy
        return self._render(out, faces, scene, camera, source)

    def render_into(
        self,
        out: np.ndarray,
        faces: Face | list[Face] | tuple[Face, ...],
        scene: Scene | PerspectiveCamera | None = None,
        *,
        camera: PerspectiveCamera | None = None,
    ) -> np.ndarray:
        """Draw the glasses on every face directly into ``out`` (uint8 BGR, modified); returns it.

        What :meth:`render` does without the copy, for pipelines that own their frame buffer. Without a
        scene, one is built from ``out`` and everything read from it is read before anything is drawn.

        Raises:
            InputError: as :meth:`render`, and when ``out`` is read-only.
        """
        return self._render(out, faces, scene, camera, None)

    def prepare(
        self,
        faces: Face | list[Face] | tuple[Face, ...],
        scene: Scene,
    ) -> None:
        """Start drawing the glasses of ``faces`` in ``scene`` before :meth:`render_into` is called with them.

        A hint for a caller that draws other lenses first: the first face's glasses are handed to the lens's
        OpenGL thread here, so a CPU rasteriser (Mesa's llvmpipe) draws them while the caller works on the
        other lenses, and the next :meth:`render_into` with this scene and these faces only waits for them.
        Anything else drops the drawing begun here. What is drawn is the same either way, pixel for pixel.

        Raises:
            InputError: as :meth:`render_into` does for ``faces`` and ``scene``.
        """
        if not isinstance(scene, Scene):
            raise InputError(f"scene: expected an arlens Scene, got {type(scene).__name__}")
        self._pending = None
        faces, _ = self._checked(faces, scene.frame.shape, None)
        camera = scene.camera
        plans = self._plans(faces, scene, camera)
        first = next((k for k, plan in enumerate(plans) if plan.reuse is None), None)
        drawing = None
        if first is not None:
            projection = camera.projection_matrix(_NEAR_CM, _FAR_CM)
            issued = threading.Event()
            drawing = self._gl_thread().submit(self._gl_draw, plans[first], camera, projection, issued)
            # moderngl holds the GIL while the draw calls are made (llvmpipe shades the vertices and bins the
            # triangles then): wait for them here, so that only the rasterising, which releases it, overlaps
            # the caller's work; otherwise the two threads take turns at the GIL and little overlaps
            while not issued.wait(0.05) and not drawing.done():
                pass
        self._pending = _Prepared(scene, tuple(faces), plans, first, drawing)

    def _checked(
        self, faces: Face | list[Face] | tuple[Face, ...], shape: tuple[int, ...], camera: PerspectiveCamera | None
    ) -> tuple[list[Face], PerspectiveCamera | None]:
        """``faces`` as a list and ``camera``, checked against a frame of ``shape``."""
        h, w = shape[:2]
        if camera is not None and not isinstance(camera, PerspectiveCamera):
            raise InputError(f"camera: expected a PerspectiveCamera, got {type(camera).__name__}")
        if camera is not None and (camera.width, camera.height) != (w, h):
            raise InputError(f"camera: expected a {w}x{h} camera for this frame, got {camera.width}x{camera.height}")
        faces = [faces] if isinstance(faces, Face) else list(faces)
        for face in faces:
            if not isinstance(face, Face):
                raise InputError(f"faces: expected arlens Face values, got {type(face).__name__}")
            if face.pose[2, 3] > -_NEAR_CM:
                raise InputError(
                    f"Face.pose: expected the face in front of the camera (translation z < -{_NEAR_CM} cm), got "
                    f"z = {face.pose[2, 3]:.2f}; faces need a head pose from the FaceTracker"
                )
        return faces, camera

    def _render(
        self,
        out: np.ndarray,
        faces: Face | list[Face] | tuple[Face, ...],
        scene: Scene | PerspectiveCamera | None,
        camera: PerspectiveCamera | None,
        source: np.ndarray | None,
    ) -> np.ndarray:
        """:meth:`render_into`; a scene built here is built on ``source`` (the same pixels as ``out``) if given."""
        out = check_bgr(out, "out", writeable=True)
        pending, self._pending = self._pending, None
        if isinstance(scene, PerspectiveCamera):
            camera, scene = camera or scene, None
        faces, camera = self._checked(faces, out.shape, camera)
        if scene is None:
            scene = Scene(out if source is None else source, faces, camera=camera)
        else:
            scene = Scene.ensure(scene, out)
        if pending is not None and not pending.matches(scene, faces, camera):
            pending = None  # begun for another frame: its drawing is cleared by the next one
        camera = camera or scene.camera
        if not faces:
            self._drawn = ()
            return out
        # everything read from the frame is read before anything is drawn into it (it may be the scene's)
        plans = pending.plans if pending is not None else self._plans(faces, scene, camera)
        begun = {pending.issued: pending.drawing} if pending is not None else {}
        projection = camera.projection_matrix(_NEAR_CM, _FAR_CM)
        drawn: list[np.ndarray | None] = [None] * len(faces)
        raws = [self._draw_gl(plan, camera, projection, begun.get(k)) for k, plan in enumerate(plans)]
        # given the camera's blur (it spreads the drawing: what covers the glasses is read where this is drawn)
        looked = [apply_camera_look(raw, plan.look, plan.scale) for plan, raw in zip(plans, raws, strict=True)]
        # what covers the glasses, and the hair over the temples where they are drawn outside the front: read
        # before anything is drawn into out
        occlusions = [self._occlusion(plan, raw, rgba, scene)
                      for plan, raw, rgba in zip(plans, raws, looked, strict=True)]
        hairs = [None if plan.hair is None else self._temple_hair(plan.hair, raw, plan.region, scene)
                 for plan, raw in zip(plans, raws, strict=True)]
        # grain that changes from frame to frame but not between two renders of one frame
        h, w = out.shape[:2]
        seed = int(scene.frame[:: max(h // 7, 1), :: max(w // 7, 1)].sum())
        # far faces first, so a nearer face's glasses are composited over a farther one's
        for k in sorted(range(len(plans)), key=lambda k: float(plans[k].face.pose[2, 3])):
            drawn[plans[k].index] = self._draw_face(out, plans[k], looked[k], occlusions[k], hairs[k], camera, seed)
        self._drawn = tuple(drawn)
        return out

    def _plans(self, faces: list[Face], scene: Scene, camera: PerspectiveCamera) -> list[_FacePlan]:
        """What drawing each face's glasses needs (faces whose glasses fall outside the frame have none)."""
        from arlens.render.gl import environment_from_frame

        environment = environment_from_frame(scene.frame)  # what metals and lenses reflect
        plans = []
        for i, face in enumerate(faces):
            m = self.model_matrix(face, camera)
            region = self._region(camera, m)
            if region is None:
                continue
            face_scene = scene.face(face)
            lighting = self.lighting(face_scene.light, environment)
            behind = self._behind(scene.frame, face)
            width_scale = self.width_scale(face, camera)
            bend = self._temple_bend(face, camera, m, width_scale)
            look = face_scene.camera_look if self.options.match_camera else CameraLook()
            scale = render_scale(look) if self.options.match_camera and self.options.match_resolution else 1.0
            key = reuse = None
            if self.options.reuse_px > 0:
                key = self._render_key(face, m, region, lighting, behind, camera, width_scale, bend)
                last = self._renders.get(i)
                if last is not None and key.close_to(last[0], self.options.reuse_px):
                    region, reuse, scale = last[0].region, last[1], last[2]  # the last drawing, as it was drawn
            plans.append(
                _FacePlan(
                    index=i,
                    face=face,
                    model=m,
                    region=region,
                    lighting=lighting,
                    look=look,
                    behind=behind,
                    scene_face=face_scene,
                    hair=self._temple_hair_sample(scene, face_scene, camera, m, bend, region),
                    width_scale=width_scale,
                    bend=bend,
                    key=key,
                    reuse=reuse,
                    scale=scale,
                )
            )
        return plans

    def _behind(self, frame: np.ndarray, face: Face) -> tuple[float, float, float]:
        """Mean sRGB (0..1, RGB) of the eyes' region: what the lenses' reflections are added to."""
        ex0, ey0, ex1, ey1 = self._eye_box(face, frame.shape)
        bgr = cv2.mean(frame[ey0:ey1, ex0:ex1])[:3] if ex1 > ex0 and ey1 > ey0 else (128.0,) * 3
        return (bgr[2] / 255.0, bgr[1] / 255.0, bgr[0] / 255.0)

    def _eye_box(self, face: Face, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        pts = face.landmarks[self._eye_idx, :2]
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        pad = max(2, int(0.15 * (x1 - x0)))
        h, w = shape[:2]
        return max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad, h)

    def _shadow_style(self, face: Face, camera: PerspectiveCamera, lighting: Any) -> ShadowStyle | None:
        strength = float(self.options.contact_shadow)
        if strength <= 0:
            return None
        px_per_cm = camera.focal_px / max(-float(face.pose[2, 3]), _NEAR_CM)
        key = np.asarray(lighting.key_dir, dtype=np.float64)
        key_power = float(np.asarray(lighting.key_color) @ _LUM)
        ambient = float(np.asarray(lighting.sh[0]) @ _LUM)
        share = key_power / max(key_power + ambient, 1e-6)  # how directional the light is
        gap_cm = SHADOW_GAP_CM
        lz = max(key[2], 0.25)
        offset = (-gap_cm * key[0] / lz * px_per_cm, gap_cm * key[1] / lz * px_per_cm)
        limit = 1.2 * gap_cm * px_per_cm
        offset = tuple(float(min(max(v, -limit), limit)) for v in offset)
        return ShadowStyle(
            offset_px=offset,  # type: ignore[arg-type]
            blur_px=0.45 * px_per_cm,  # a face-sized light a centimetre from the skin
            cast=0.3 * strength * share,
            occlusion_px=0.1 * px_per_cm,
            occlusion=0.22 * strength,
        )

    def _draw_gl(self, plan: _FacePlan, camera: PerspectiveCamera, projection: np.ndarray,
                 begun: Future[np.ndarray] | None = None) -> np.ndarray:
        """One face's glasses drawn by OpenGL over its region (or its last drawing reused): uint8 RGBA.
        ``begun``: the drawing :meth:`prepare` handed to the GL thread."""
        raw = plan.reuse
        if raw is None:
            if begun is None:
                begun = self._gl_thread().submit(self._gl_draw, plan, camera, projection)
            raw = begun.result()
            raw.setflags(write=False)  # kept for reuse: what follows makes new arrays
            self.gl_draws += 1
            if plan.key is not None:
                self._renders[plan.index] = (plan.key, raw, plan.scale)
        return raw

    def _gl_thread(self) -> GLThread:
        if self._gl.closed:
            raise InputError("EyewearLens: used after close()")
        return self._gl

    def _gl_draw(self, plan: _FacePlan, camera: PerspectiveCamera, projection: np.ndarray,
                 issued: threading.Event | None = None) -> np.ndarray:
        """Draw one face's glasses and read them back (on the GL thread); ``issued`` is set once the draw
        calls are made, when what is left is the driver's."""
        try:
            self._issue_gl(plan, camera, projection)
        except BaseException:
            if issued is not None:
                issued.set()
            raise
        return self._renderer.read_rgba8(None if issued is None else issued.set)

    def _issue_gl(self, plan: _FacePlan, camera: PerspectiveCamera, projection: np.ndarray) -> None:
        """Send one face's drawing to OpenGL (the occluders' depth, then the frame and lenses)."""
        r = self._renderer
        o = self.options
        face, modelview, region = plan.face, plan.model, plan.region
        clip = r.region_matrix((camera.width, camera.height), region) @ projection
        pose = np.asarray(face.pose, dtype=np.float64)
        scaled_pose = pose @ _width_scale_matrix(self._centre_x, plan.width_scale)
        x0, y0, x1, y1 = region
        r.set_lighting(plan.lighting)
        r.set_behind(plan.behind)
        r.set_temple_bend(*plan.bend)
        r.begin(x1 - x0, y1 - y0, plan.scale)
        self._face_mesh.update_positions(self._occluder_vertices(face, camera))
        r.draw_depth(self._face_mesh, clip)
        if o.head_proxy or o.ears:
            push = np.eye(4)
            push[2, 3] = -o.occluder_push_cm
            if o.head_proxy:
                r.draw_depth(self._head_mesh, clip @ push @ scaled_pose, cull=True)
            if o.ears:
                r.draw_depth(self._ear_mesh, clip @ scaled_pose, cull=True)
        mvp = clip @ modelview
        for mesh, style in self._parts:
            r.draw_lit(mesh, style, mvp, modelview)

    @staticmethod
    def _occlusion(plan: _FacePlan, raw: np.ndarray, rgba: np.ndarray, scene: Scene) -> np.ndarray:
        """float32 over the face's region: how much the hands and, where the glasses are drawn over the mouth's
        box, foreign objects in front of the mouth cover them. Objects are looked for only there (they lie in
        the mouth's box, and where nothing is drawn covering changes nothing): finding them needs the face's
        colour model, which the glasses do not need otherwise. Only where ``rgba`` (the drawing given the camera's
        look, what is composited) has any channel set is it read: the hands' refinement is told so (``need``),
        and may leave the rest at their silhouettes' values (multiplying nothing drawn, they change nothing)."""
        x0, y0, _, _ = plan.region
        h, w = raw.shape[:2]
        # the box of the pixels with any channel set (a clear lens's reflection may have no coverage byte)
        bx, by, bw, bh = cv2.boundingRect(raw.reshape(h, w * 4))
        drawn = (x0 + bx // 4, y0 + by, x0 + -(-(bx + bw) // 4), y0 + by + bh)

        def need() -> np.ndarray:
            if rgba.flags.c_contiguous:  # a pixel's four bytes as one word: set where any channel is (one pass)
                return rgba.view(np.uint32)[..., 0] != 0
            return cv2.max(cv2.max(rgba[..., 0], rgba[..., 1]), cv2.max(rgba[..., 2], rgba[..., 3])) > 0

        if bw and bh and intersect(plan.scene_face.mouth_box, drawn) is not None:
            return plan.scene_face.occlusion(plan.region, need)
        return scene.occlusion(plan.region, need=need)  # the hands only

    def _draw_face(self, out: np.ndarray, plan: _FacePlan, rgba: np.ndarray, occlusion: np.ndarray,
                   hair: np.ndarray | None, camera: PerspectiveCamera, seed: int) -> np.ndarray | None:
        """Composite one face's drawing (``rgba``, given the camera's look; what ``occlusion`` covers and
        ``hair`` over the temples hide it) into ``out``; the box of the pixels it covers (None: none)."""
        face, region = plan.face, plan.region
        x0, y0, x1, y1 = region
        if hair is not None:  # hair falling over a temple hides it
            occlusion = np.maximum(occlusion, hair)
        if occlusion.max() > 0.0:  # a hand in front of the face hides the glasses too
            visible = np.rint((1.0 - occlusion) * 255.0).astype(np.uint8)
            rgba = cv2.multiply(rgba, cv2.merge((visible,) * 4), scale=1.0 / 255.0)
        style = self._shadow_style(face, camera, plan.lighting)
        shadow_box = self._lay_shadow(out, face, rgba, region, style) if style is not None else None
        dst = out[y0:y1, x0:x1]
        composite_filtered(dst, rgba, self._keep_lut)
        if plan.look.noise_sigma >= 0.5:
            covered = cv2.threshold(rgba[..., 3], 24, 255, cv2.THRESH_BINARY)[1]
            self._noise.add(dst, covered, plan.look.noise_sigma, (seed % 251, (seed // 251) % 241))
        boxes = [] if shadow_box is None else [shadow_box]
        bx, by, bw, bh = cv2.boundingRect(np.ascontiguousarray(rgba[..., 3]))  # pixels with any coverage
        if bw and bh:
            boxes.append((x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh))
        if not boxes:
            return None
        b = np.array(boxes, np.float32)
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()], np.float32)

    def _render_key(self, face: Face, m: np.ndarray, region: tuple[int, int, int, int], lighting: Any,
                    behind: tuple[float, float, float], camera: PerspectiveCamera, width_scale: float,
                    bend: tuple[float, float, float, float]) -> _RenderKey:
        """What this face's drawing depends on: where the glasses (their box's corners and the ends of the
        temples as they are bent), the ears and the face mesh fall on screen (the occluders move with them),
        the light and what is behind the lenses."""
        from arlens.render.gl import environment_sh

        z0, out_right, out_left, rise = bend
        b = self._bounds  # frame mm, z into the face: the temples' ends at the largest z
        run = max(float(b[1, 2]) - z0, 0.0)  # how far the ends lie behind the hinges
        ends = np.array([[b[1, 0] + out_right * run, rise * run, b[1, 2], 1.0],
                         [b[0, 0] - out_left * run, rise * run, b[1, 2], 1.0]])
        corners = (np.vstack([self._corners, ends]) @ m.T)[:, :3]
        ears = self.ear_points(face, camera, width_scale)
        points = np.vstack([camera.project(np.vstack([corners, ears])),
                            np.asarray(face.landmarks[:468, :2], dtype=np.float64)])
        lit = lighting
        env = environment_sh(lit.environment) if lit.environment is not None else np.zeros((9, 3), np.float32)
        key = np.outer(lit.key_dir, lit.key_color)  # a direction matters as much as the light from it
        light = np.concatenate([np.ravel(lit.sh), np.ravel(key), np.ravel(env), np.asarray(behind)])
        return _RenderKey(int(face.track_id), region, points, light.astype(np.float64))

    def _lay_shadow(
        self, out: np.ndarray, face: Face, rgba: np.ndarray, region: tuple[int, int, int, int], style: ShadowStyle
    ) -> tuple[int, int, int, int] | None:
        """Darken the face under and around the glasses (before they are composited over it); the box of the
        pixels it darkened, or None."""
        x0, y0, x1, y1 = region
        h, w = out.shape[:2]
        # worked out k times smaller (see working_scale), on a canvas around the region whose corner lies a whole
        # number of small pixels from the region's, so the coverage is reduced by exact k x k block means
        k = working_scale(style)
        reach = -(-style.reach_px // k) * k
        sx0, sy0 = x0 - reach, y0 - reach
        rw, rh = -(-(x1 - x0) // k) * k, -(-(y1 - y0) // k) * k
        cw, ch = (rw + 2 * reach) // k, (rh + 2 * reach) // k
        alpha = np.zeros((ch, cw), np.uint8)
        cover = rgba[..., 3]
        if (rw, rh) != cover.shape[::-1]:
            cover = cv2.copyMakeBorder(cover, 0, rh - cover.shape[0], 0, rw - cover.shape[1], cv2.BORDER_CONSTANT)
        if k > 1:
            cover = cv2.resize(cover, (rw // k, rh // k), interpolation=cv2.INTER_AREA)
        alpha[reach // k : reach // k + rh // k, reach // k : reach // k + rw // k] = cover
        # where it falls: the face, the eyes fainter (they lie deeper behind the rims than the skin around
        # them), fading out inside the outline
        receiver = np.zeros((ch, cw), np.uint8)
        to_small = 4.0 / k  # cv2's shift=2: quarter pixels
        # the outline's and the eyes' points in one pass (elementwise: what each loop's own pass gives)
        q = np.round((face.landmarks[_SHADOW_LOOPS, :2] - (sx0, sy0)) * to_small).astype(np.int32)
        i0, i1 = _SHADOW_SPLITS
        cv2.fillPoly(receiver, [q[:i0]], 255, lineType=cv2.LINE_AA, shift=2)
        cv2.fillPoly(receiver, [q[i0:i1], q[i1:]], EYE_SHADOW_SHARE, lineType=cv2.LINE_AA, shift=2)
        soft = max(style.occlusion_px / k, 1.0)
        edge = np.ones((2 * int(np.ceil(2 * soft)) + 1,) * 2, np.uint8)
        receiver = cv2.GaussianBlur(cv2.erode(receiver, edge), (0, 0), soft)
        factor = contact_shade_small(alpha, receiver, style, k)
        # only where it darkens by 2% or more (FAINTEST), inside the frame, brought back to full size
        bx, by, bw, bh = cv2.boundingRect(cv2.compare(factor, FAINTEST, cv2.CMP_LT))
        if not (bw and bh):
            return None
        bx0, by0 = max(bx - 1, 0), max(by - 1, 0)  # a small pixel more: upsampling blends toward the edge
        bx1, by1 = min(bx + bw + 1, cw), min(by + bh + 1, ch)
        fx0, fy0 = sx0 + k * bx0, sy0 + k * by0
        fx1, fy1 = fx0 + k * (bx1 - bx0), fy0 + k * (by1 - by0)
        full = factor[by0:by1, bx0:bx1]
        if k > 1:
            full = cv2.resize(full, (fx1 - fx0, fy1 - fy0), interpolation=cv2.INTER_LINEAR)
        cx0, cy0, cx1, cy1 = max(fx0, 0), max(fy0, 0), min(fx1, w), min(fy1, h)
        if cx1 <= cx0 or cy1 <= cy0:
            return None
        full = full[cy0 - fy0 : cy1 - fy0, cx0 - fx0 : cx1 - fx0]
        full = cv2.LUT(full, _UNSHADED_TAIL)  # a tail under 2% is left unshaded (a new array: factor is kept)
        shade(out[cy0:cy1, cx0:cx1], full)
        bx, by, bw, bh = cv2.boundingRect(cv2.bitwise_not(full))  # where it is below 255
        return (cx0 + bx, cy0 + by, cx0 + bx + bw, cy0 + by + bh) if bw and bh else None
