"""Kiosk scenes made from the shared stills: faces pasted at chosen sizes and places into a larger frame.

A shopper at kiosk distance is a small face in a 1280x720 frame; several shoppers are several faces of
different sizes. These scenes are built from the three portraits of ``../shared/testdata/faces`` by
scaling each so that its inter-ocular distance (outer eye corners, landmarks 33 and 263, as
``Face.interocular``) is a given number of pixels and pasting it onto a plain canvas with its face
centre at a given point. The scale and shift are known, so the full-size landmarks map exactly into
the scene.

For benchmarks and tests (``tests.support.benchmarks_module("kiosk_scenes")``), as ``hard_scenes``.
Plain numpy and OpenCV only (no arlens import): ``tools/make_detection_reference.py`` builds the same
scenes in MediaPipe's own virtual environment to record what Google's detectors find in them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Per still: image size (width, height), face centre (mean of the 468 mesh points) and inter-ocular
#: distance in pixels, the last two from Google's FaceMesh reference (``../shared/reference/<stem>.npz``).
STILL_GEOMETRY = {
    "astronaut.png": ((512, 512), (224.2, 122.8), 60.6),
    "grace_hopper.jpg": ((512, 600), (266.5, 233.6), 118.9),
    "frontal_smile.png": ((600, 600), (295.2, 330.8), 202.9),
}
FRAME_SIZE = (1280, 720)
BACKGROUND = 96


@dataclass(frozen=True)
class Placement:
    """One face in a scene: which still, its inter-ocular distance and where its face centre goes (pixels)."""

    still: str
    iod: float
    centre: tuple[float, float]

    def geometry(self) -> tuple[tuple[int, int], np.ndarray]:
        """The scaled still's size in whole pixels, and the 2x3 affine from the still's continuous pixel
        coordinates to the scene's (the per-axis scale of that whole-pixel size, a whole-pixel offset)."""
        (w, h), (cx, cy), iod = STILL_GEOMETRY[self.still]
        s = self.iod / iod
        size = (max(1, round(w * s)), max(1, round(h * s)))
        x0, y0 = round(self.centre[0] - s * cx), round(self.centre[1] - s * cy)
        return size, np.array([[size[0] / w, 0.0, x0], [0.0, size[1] / h, y0]])

    @property
    def key(self) -> str:
        return f"{self.still.split('.')[0]}_{self.iod:g}_{self.centre[0]:g}_{self.centre[1]:g}"


def paste(canvas: np.ndarray, image: np.ndarray, placement: Placement) -> np.ndarray:
    """Scale ``image`` (the still) as ``placement`` says and paste it into ``canvas`` in place.

    Downscaling uses area averaging (what a camera's larger pixels do), upscaling bilinear.
    """
    size, m = placement.geometry()
    if image.shape[1::-1] != STILL_GEOMETRY[placement.still][0]:
        raise ValueError(f"{placement.still}: expected size {STILL_GEOMETRY[placement.still][0]}, got {image.shape}")
    down = size[0] < image.shape[1]
    scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA if down else cv2.INTER_LINEAR)
    x0, y0 = int(m[0, 2]), int(m[1, 2])
    H, W = canvas.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size[0], W), min(y0 + size[1], H)
    if xa < xb and ya < yb:
        canvas[ya:yb, xa:xb] = scaled[ya - y0 : yb - y0, xa - x0 : xb - x0]
    return canvas


def scene(placements: list[Placement], stills: dict[str, np.ndarray], size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A (H, W, 3) uint8 scene with each placement's still pasted in order (later ones on top)."""
    canvas = np.full((size[1], size[0], 3), BACKGROUND, np.uint8)
    for p in placements:
        paste(canvas, stills[p.still], p)
    return canvas


def map_points(points: np.ndarray, placement: Placement) -> np.ndarray:
    """Full-size landmarks (N, >=2) of the still mapped into the scene (x, y scaled and shifted; z scaled)."""
    _, m = placement.geometry()
    out = np.array(points, dtype=np.float64)
    out[:, 0] = points[:, 0] * m[0, 0] + m[0, 2]
    out[:, 1] = points[:, 1] * m[1, 1] + m[1, 2]
    if out.shape[1] > 2:
        out[:, 2] = points[:, 2] * m[0, 0]  # MediaPipe's z is relative depth times the image width
    return out


#: Single faces at kiosk distances and close up: (inter-ocular distances) x (places in a 1280x720 frame).
SMALL_IODS = (30.0, 40.0, 60.0)
PLACES = ((640.0, 360.0), (220.0, 170.0), (1060.0, 560.0))
SINGLE_SCENES = [[Placement(still, iod, place)] for still in STILL_GEOMETRY for iod in SMALL_IODS for place in PLACES]
#: Three shoppers of different sizes in one frame (near, middle, far), in two arrangements.
GROUP_SCENES = [
    [Placement("frontal_smile.png", 150.0, (300.0, 380.0)), Placement("grace_hopper.jpg", 70.0, (760.0, 300.0)),
     Placement("astronaut.png", 32.0, (1080.0, 250.0))],
    [Placement("astronaut.png", 110.0, (980.0, 400.0)), Placement("frontal_smile.png", 45.0, (560.0, 420.0)),
     Placement("grace_hopper.jpg", 30.0, (200.0, 200.0))],
]
#: The square tiles (centre x, centre y, side) in which ``FaceDetector(model="auto")`` searches a 1280x720
#: frame with the full-range model; the reference tool records MediaPipe's detections on each.
TILES_1280x720 = ((360.0, 360.0, 720.0), (640.0, 360.0, 720.0), (920.0, 360.0, 720.0))
