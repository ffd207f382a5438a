"""The eyewear lens: 3D frames placed on each face by its head pose and drawn by OpenGL.

A frame model (see :mod:`arlens.lenses.eyewear_asset` for the millimetre frame convention) is put
on the canonical face at the nose bridge (landmark 168's canonical position), scaled from millimetres
to the canonical face's centimetres, and carried into the camera by ``Face.pose``; the projection is
the scene's camera (:attr:`arlens.scene.Scene.camera`, the tracker's
:class:`~arlens.tracking.camera.PerspectiveCamera`), so a 140 mm frame is drawn wider
than a 125 mm one on the same face. For each face, only the glasses' projected bounding box is
rendered: first the occluders into the depth buffer only (the face mesh, posed, and an ellipsoid
standing in for the skull behind it, so the temples vanish behind the head and ears when it turns),
then the opaque frame, lit, then the tinted lenses blended over the eyes, with multisample
anti-aliasing; the region is then composited over the frame (a copy with ``render``, in place with ``render_into``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from arlens.errors import InputError
from arlens.image import bgr_copy, check_bgr, over_premultiplied
from arlens.landmarks import NOSE_BRIDGE, face_triangles
from arlens.lenses.eyewear_asset import (
    DEFAULT_MAX_TRIANGLES,
    EyewearAsset,
    ImportOptions,
    import_eyewear,
)
from arlens.scene import Scene
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.results import Face

logger = logging.getLogger(__name__)

#: Frame convention (x wearer's right, y up, z into the face; mm) to canonical face (x wearer's
#: left, y up, z out of the face; cm): half a turn about y and a scale of 0.1.
FRAME_TO_CANONICAL = np.diag([-0.1, 0.1, -0.1, 1.0])

_NEAR_CM, _FAR_CM = 2.0, 2000.0


def _canonical_face() -> np.ndarray:
    """The canonical face (468, 3) float32 in centimetres, from the head-pose module."""
    from arlens.tracking.pose import canonical_face

    return np.asarray(canonical_face(), dtype=np.float32)


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
        samples: multisample anti-aliasing samples (clamped to the driver's maximum).
        head_proxy: hide the temples behind an ellipsoid standing in for the skull, not only behind the face mesh.
        occluder_push_cm: how far the occluders are pushed back from the face surface (cm), so the
            parts touching the skin (bridge, pads) are not eaten by tracking noise.
        margin_px: pixels added around the glasses' projected box before rendering it.
        max_triangles: triangle budget of the model.
        backend: moderngl/glcontext backend of the headless context.
    """

    model: str | Path = "round.glb"
    frame_width_mm: float = 140.0
    offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pantoscopic_tilt_deg: float = 0.0
    samples: int = 4
    head_proxy: bool = True
    occluder_push_cm: float = 0.3
    margin_px: int = 4
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

    def import_options(self) -> ImportOptions:
        """The importer settings these options imply."""
        return ImportOptions(
            frame_width_mm=self.frame_width_mm,
            offset_mm=self.offset_mm,  # type: ignore[arg-type]
            pantoscopic_tilt_deg=self.pantoscopic_tilt_deg,
            max_triangles=self.max_triangles,
        )


def _ellipsoid(
    center: np.ndarray, radii: np.ndarray, rings: int = 12, segments: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """A UV ellipsoid: float32 (N, 3) vertices and int32 (T, 3) triangles."""
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
            faces += [(a, c, b), (b, c, d)]
    return verts.astype(np.float32), np.array(faces, dtype=np.int32)


def head_proxy(canonical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An ellipsoid standing in for the skull behind the canonical face, in canonical cm.

    Its half-width is 42% of the face's width (narrower than the frame, so the temples stay visible
    beside a frontal face), it reaches from just behind the nose bridge to about 19 cm behind it,
    so a temple on the far side of a turned head is hidden where the head is.
    """
    c = np.asarray(canonical, dtype=np.float64)
    width = float(c[:, 0].max() - c[:, 0].min())
    bridge = c[NOSE_BRIDGE]
    center = np.array([0.5 * (c[:, 0].max() + c[:, 0].min()), bridge[1] + 0.5, bridge[2] - 10.5])
    radii = np.array([0.42 * width, 0.62 * width, 9.5])
    return _ellipsoid(center, radii)


class EyewearLens:
    """Draws a pair of glasses on every face; a context manager holding an OpenGL context.

    Args:
        options: the model, its size and placement, and rendering settings.

    Raises:
        AssetError: the model cannot be loaded or used.
        InputError: the options are invalid.
        RuntimeUnavailableError: no OpenGL context can be created (names the packages to install).
    """

    def __init__(self, options: EyewearOptions | None = None) -> None:
        from arlens.render.gl import GLRenderer, SurfaceStyle

        self.options = options or EyewearOptions()
        self.asset: EyewearAsset = import_eyewear(self.options.model, self.options.import_options())
        canonical = _canonical_face()
        if canonical.shape != (468, 3):
            raise InputError(f"canonical face: expected (468, 3), got {canonical.shape}")
        self._canonical = canonical.astype(np.float64)
        self._anchor = np.eye(4)
        self._anchor[:3, 3] = self._canonical[NOSE_BRIDGE]
        self._frame_to_canonical = self._anchor @ FRAME_TO_CANONICAL
        self._renderer = GLRenderer(samples=self.options.samples, backend=self.options.backend)
        try:
            r = self._renderer
            self._parts = []
            for part in (*self.asset.frame_parts, *self.asset.lens_parts):  # opaque first, then blended
                mesh = r.mesh(part.vertices, part.faces, part.normals, part.uv, part.material.texture)
                m = part.material
                style = SurfaceStyle(m.base_color, m.metallic, m.roughness, m.is_lens, m.double_sided)
                self._parts.append((mesh, style))
            self._face_faces = face_triangles()
            self._face_mesh = r.mesh(np.zeros((468, 3), np.float32), self._face_faces, dynamic=True)
            hv, hf = head_proxy(self._canonical)
            self._head_mesh = r.mesh(hv, hf)
        except BaseException:
            self._renderer.close()
            raise
        self._drawn: tuple[np.ndarray | None, ...] = ()
        corners = self.asset.bounds
        self._corners = np.array(
            [[corners[i, 0], corners[j, 1], corners[k, 2], 1.0] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
        )

    @classmethod
    def from_product(cls, product: Any, **overrides: Any) -> EyewearLens:
        """A lens for a product with ``model`` and ``frame_width_mm`` (and optional ``offset_mm``,
        ``pantoscopic_tilt_deg``); ``overrides`` set any other :class:`EyewearOptions` field.

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
        kwargs.update(overrides)
        return cls(EyewearOptions(**kwargs))

    # --- lifetime ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the OpenGL context and everything on it; idempotent."""
        self._renderer.close()

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
    def model_matrix(self, face: Face) -> np.ndarray:
        """4x4 from the frame convention (mm) to camera space (cm) for ``face``."""
        return np.asarray(face.pose, dtype=np.float64) @ self._frame_to_canonical

    def frame_points(self, face: Face, points_mm: np.ndarray) -> np.ndarray:
        """Camera-space (cm) positions of (N, 3) points given in the frame convention (mm)."""
        p = np.c_[np.asarray(points_mm, dtype=np.float64), np.ones(len(points_mm))]
        return (p @ self.model_matrix(face).T)[:, :3]

    def _region(self, face: Face, camera: PerspectiveCamera) -> tuple[int, int, int, int] | None:
        corners = (self._corners @ self.model_matrix(face).T)[:, :3]
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

    def _occluder_vertices(self, face: Face, camera: PerspectiveCamera) -> np.ndarray:
        """The face mesh in camera space: landmark pixels unprojected at the posed canonical face's depth.

        The posed canonical face gives metric depth; the landmarks give this face's own outline, so
        the occluder's silhouette follows the image (jaw, cheeks) rather than an average face.
        """
        pose = np.asarray(face.pose, dtype=np.float64)
        posed = self._canonical @ pose[:3, :3].T + pose[:3, 3]
        depth = -posed[:, 2] + self.options.occluder_push_cm
        return camera.unproject(face.landmarks[:468, :2], depth)

    # --- drawing ----------------------------------------------------------------------------------------------
    def render(
        self,
        frame: np.ndarray,
        faces: list[Face] | tuple[Face, ...],
        scene: Scene | PerspectiveCamera | None = None,
        *,
        camera: PerspectiveCamera | None = None,
    ) -> np.ndarray:
        """Draw the glasses on every face of ``frame`` and return a new image.

        Args:
            frame: uint8 BGR (H, W, 3) or another form :mod:`arlens.image` accepts (grey, BGRA); not modified.
            faces: tracked faces with their poses (``Face.pose``, canonical cm to camera cm).
            scene: the frame's :class:`~arlens.scene.Scene`, whose ``camera`` projects the glasses; a
                :class:`~arlens.tracking.camera.PerspectiveCamera` is accepted here too (as before the
                scene existed); default ``PerspectiveCamera(W, H)``.
            camera: the camera by keyword (overrides the scene's).

        Returns:
            uint8 BGR (H, W, 3), a copy of ``frame`` with the glasses composited.

        Raises:
            InputError: bad frame, camera or scene of another size, or a face whose pose does not put it
                in front of the camera.
        """
        return self.render_into(bgr_copy(frame, "frame"), faces, scene, camera=camera)

    def render_into(
        self,
        out: np.ndarray,
        faces: list[Face] | tuple[Face, ...],
        scene: Scene | PerspectiveCamera | None = None,
        *,
        camera: PerspectiveCamera | None = None,
    ) -> np.ndarray:
        """Draw the glasses on every face directly into ``out`` (uint8 BGR, modified); returns it.

        What :meth:`render` does without the copy, for pipelines that own their frame buffer.

        Raises:
            InputError: as :meth:`render`, and when ``out`` is read-only.
        """
        out = check_bgr(out, "out", writeable=True)
        h, w = out.shape[:2]
        if camera is None:
            if isinstance(scene, PerspectiveCamera):
                camera = scene
            elif scene is not None:
                camera = Scene.ensure(scene, out).camera
            else:
                camera = PerspectiveCamera(w, h)
        if not isinstance(camera, PerspectiveCamera):
            raise InputError(f"camera: expected a PerspectiveCamera, got {type(camera).__name__}")
        if (camera.width, camera.height) != (w, h):
            raise InputError(f"camera: expected a {w}x{h} camera for this frame, got {camera.width}x{camera.height}")
        faces = [faces] if isinstance(faces, Face) else list(faces)
        if not faces:
            self._drawn = ()
            return out
        for face in faces:
            if not isinstance(face, Face):
                raise InputError(f"faces: expected arlens Face values, got {type(face).__name__}")
            if face.pose[2, 3] > -_NEAR_CM:
                raise InputError(
                    f"Face.pose: expected the face in front of the camera (translation z < -{_NEAR_CM} cm), got "
                    f"z = {face.pose[2, 3]:.2f}; faces need a head pose from the FaceTracker"
                )
        projection = camera.projection_matrix(_NEAR_CM, _FAR_CM)
        drawn: list[np.ndarray | None] = [None] * len(faces)
        with self._renderer.current():
            # far faces first, so a nearer face's glasses are composited over a farther one's
            for i in sorted(range(len(faces)), key=lambda k: float(faces[k].pose[2, 3])):
                region = self._region(faces[i], camera)
                if region is None:
                    continue
                drawn[i] = self._draw_face(out, faces[i], camera, projection, region)
        self._drawn = tuple(drawn)
        return out

    def _draw_face(
        self,
        out: np.ndarray,
        face: Face,
        camera: PerspectiveCamera,
        projection: np.ndarray,
        region: tuple[int, int, int, int],
    ) -> np.ndarray | None:
        """Draw one face's glasses into ``out``; the box of the pixels they cover (None: none)."""
        r = self._renderer
        x0, y0, x1, y1 = region
        clip = r.region_matrix((camera.width, camera.height), region) @ projection
        pose = np.asarray(face.pose, dtype=np.float64)
        r.begin(x1 - x0, y1 - y0)
        self._face_mesh.update_positions(self._occluder_vertices(face, camera))
        r.draw_depth(self._face_mesh, clip)
        if self.options.head_proxy:
            push = np.eye(4)
            push[2, 3] = -self.options.occluder_push_cm
            r.draw_depth(self._head_mesh, clip @ push @ pose)
        modelview = self.model_matrix(face)
        mvp = clip @ modelview
        for mesh, style in self._parts:
            r.draw_lit(mesh, style, mvp, modelview)
        rgba = r.read_rgba8()
        over_premultiplied(out[y0:y1, x0:x1], rgba)
        bx, by, bw, bh = cv2.boundingRect(np.ascontiguousarray(rgba[..., 3]))  # pixels with any coverage
        if bw == 0 or bh == 0:
            return None
        return np.array([x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh], np.float32)
