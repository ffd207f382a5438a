"""FaceDetector: MediaPipe's two BlazeFace face detectors, and a search over square tiles for small faces.

- ``"short"``: ``face_detection_short_range`` on the whole image letterboxed to 128x128, what MediaPipe's
  FaceMesh graph runs (and ``FaceDetection(model_selection=0)``). In a 1280x720 frame it finds faces
  down to about 90 px inter-ocular distance (outer eye corners), up to a face that fills the frame.
- ``"full"``: ``face_detection_full_range`` on the whole image letterboxed to 192x192, exactly MediaPipe's
  ``FaceDetection(model_selection=1)``: down to about 50 px in a 1280x720 frame.
- ``"auto"`` (default): the short-range detector on the whole image and, only when it finds fewer faces
  than wanted, the full-range detector on square tiles as tall as the image's short side, overlapping by
  at least a quarter, in one batched run (three tiles for 16:9; one, the whole image letterboxed, for
  images up to 4:3).
  A tile is seen 1.8x larger than in the 16:9 letterbox, which takes the full-range model down to about
  30 px. Measured on the shared stills pasted into 1280x720 frames at 3 places each
  (``tests/tracking/test_face_detector.py``, README): see the README's "Tracking in real scenes".

Short-range detections come first; full-range ones that overlap one of them (IoU above MediaPipe's NMS
threshold, 0.3) are the same face and dropped, so a face the short-range model sees keeps exactly the
detection (and landmark crop) of Google's FaceMesh graph. Full-range candidates of all tiles are merged
with MediaPipe's weighted NMS in image pixels (where one tile is the whole image, that is MediaPipe's
own NMS).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from arlens.errors import InputError
from arlens.image import as_bgr
from arlens.runtime import Model, RuntimeOptions
from arlens.tracking import detection as D
from arlens.tracking.tracks import build_options

DETECTORS = ("auto", "short", "full")
#: Least overlap of neighbouring tiles, as a fraction of the tile side.
TILE_OVERLAP = 0.25


#: Images no more elongated than this are searched whole (letterboxed), as one tile.
MAX_ASPECT_UNTILED = 4.0 / 3.0
#: The most tiles of one image (a 12:1 panorama needs 16). A strip more elongated than that is searched by
#: this many squares spread evenly along it: the tiles' count grew with the aspect ratio, and a 32,766 x 2
#: frame made 40,000 tiles (23 GB of tensors, issue #24).
MAX_TILES = 16


def square_tiles(width: int, height: int, overlap: float = TILE_OVERLAP) -> list[tuple[float, float, float]]:
    """Squares as tall as the image's short side covering the image, as (centre x, centre y, side).

    Evenly spaced along the long side, neighbours overlapping by at least ``overlap`` of the side (so a
    face up to that wide lies whole in some tile), at most :data:`MAX_TILES` of them. An image no more
    elongated than 4:3 is one tile, the whole image letterboxed (a tile would see its faces at most 1.33x
    larger).
    """
    side = min(width, height)
    long = max(width, height)
    if long <= side * MAX_ASPECT_UNTILED:
        return [(width / 2, height / 2, float(long))]
    n = min(math.ceil((long - side) / (side * (1.0 - overlap))) + 1, MAX_TILES)
    offsets = np.linspace(0.0, long - side, n)
    if width >= height:
        return [(float(o) + side / 2, height / 2, float(side)) for o in offsets]
    return [(width / 2, float(o) + side / 2, float(side)) for o in offsets]


def square_tile_at(image: np.ndarray, roi) -> int:
    """Index of the tile of ``image`` (:func:`square_tiles`) whose centre is nearest the centre of ``roi``."""
    tiles = square_tiles(image.shape[1], image.shape[0])
    return int(np.argmin([math.hypot(cx - roi.cx, cy - roi.cy) for cx, cy, _ in tiles]))


@dataclass(frozen=True)
class FaceDetectorOptions:
    """Settings of a :class:`FaceDetector`, validated once when it is built.

    Attributes:
        model: ``"auto"`` (default), ``"short"`` or ``"full"``: see the module docstring.
        min_detection_confidence: score threshold of both detectors; None (default) for each model's own
            in MediaPipe's graphs, 0.5 short-range and 0.6 full-range. (MediaPipe 0.10.21's legacy
            ``FaceDetection`` ignores its ``min_detection_confidence`` argument and always uses these.)
        max_faces: most detections returned per image, best first; None for all. In ``"auto"`` mode the
            full-range search runs only while the short-range detector found fewer than this.
        runtime: ONNX Runtime device, providers and threads.
    """

    model: str = "auto"
    min_detection_confidence: float | None = None
    max_faces: int | None = None
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self) -> None:
        if self.model not in DETECTORS:
            raise InputError(f"FaceDetectorOptions.model: expected one of {DETECTORS}, got {self.model!r}")
        if self.min_detection_confidence is not None and not 0.0 <= self.min_detection_confidence <= 1.0:
            raise InputError("FaceDetectorOptions.min_detection_confidence: expected a value in [0, 1], "
                             f"got {self.min_detection_confidence!r}")
        if self.max_faces is not None and (isinstance(self.max_faces, bool) or not isinstance(self.max_faces, int)
                                           or self.max_faces < 1):
            raise InputError(f"FaceDetectorOptions.max_faces: expected None or an int >= 1, got {self.max_faces!r}")


class FaceDetector:
    """Face boxes and six keypoints (eyes, nose tip, mouth, ear tragions) in still images.

    ``FaceTracker`` runs one to find where to put its landmark crops; on its own it is MediaPipe's
    ``FaceDetection`` (``model="short"`` or ``"full"``). Holds ONNX Runtime sessions: use it as a
    context manager or call :meth:`close`.
    """

    def __init__(self, options: FaceDetectorOptions | None = None, **kwargs):
        """Build from ``options`` or :class:`FaceDetectorOptions` keywords (plus ``device``, ``providers``)."""
        self.options = options = build_options(FaceDetectorOptions, options, kwargs)
        threshold = options.min_detection_confidence
        self._short = self._full = None
        if options.model in ("auto", "short"):
            self._short_opts = D.FACE_SHORT_RANGE if threshold is None else replace(D.FACE_SHORT_RANGE,
                                                                                     score_threshold=threshold)
            self._short_anchors = D.ssd_anchors(self._short_opts)
            self._short = Model("face_detection_short_range", options.runtime)
        if options.model in ("auto", "full"):
            self._full_opts = D.FACE_FULL_RANGE if threshold is None else replace(D.FACE_FULL_RANGE,
                                                                                   score_threshold=threshold)
            self._full_anchors = D.ssd_anchors(self._full_opts)
            self._full = Model("face_detection_full_range", options.runtime)
        self._closed = False

    @property
    def models(self) -> list[Model]:
        """The ONNX Runtime sessions this detector holds."""
        return [m for m in (self._short, self._full) if m is not None]

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the ONNX Runtime sessions; the detector cannot be used afterwards."""
        for model in self.models:
            model.close()
        self._closed = True

    def detect(self, image: np.ndarray) -> list[D.Detection]:
        """Faces in ``image`` (uint8 BGR/gray/BGRA), best first, in image pixels.

        Raises:
            InputError: not an image arlens accepts, or the detector is closed.
        """
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[D.Detection]]:
        """:meth:`detect` for several images, each detector stage run once for all of them.

        Raises:
            InputError: an image is not one arlens accepts (the message names its index), or closed.
        """
        if self._closed:
            raise InputError("FaceDetector: used after close()")
        if isinstance(images, np.ndarray) and images.ndim == 3:
            raise InputError("images: expected a sequence of images, got a single image (use detect())")
        frames = [as_bgr(im, "image" if len(images) == 1 else f"images[{i}]") for i, im in enumerate(images)]
        return self.detect_frames(frames)

    def detect_frames(self, frames: list[np.ndarray]) -> list[list[D.Detection]]:
        """:meth:`detect_batch` on frames already checked and converted to BGR."""
        found = self.whole(frames)
        limit = self.options.max_faces
        wanted = [k for k, dets in enumerate(found) if limit is None or len(dets) < limit]
        if self.tiled and wanted:
            extra = self.search_tiles([frames[k] for k in wanted])
            nms = D.FACE_FULL_RANGE.nms_threshold
            for k, more in zip(wanted, extra, strict=True):
                found[k] = found[k] + [e for e in more if all(_box_iou(e.box, s.box) <= nms for s in found[k])]
        return [dets[:limit] for dets in found]

    @property
    def tiled(self) -> bool:
        """Whether this detector searches square tiles with the full-range model (``model="auto"``)."""
        return self._short is not None and self._full is not None

    def whole(self, frames: list[np.ndarray]) -> list[list[D.Detection]]:
        """The first stage on whole frames: the short-range model, or the full-range one for ``model="full"``."""
        if not frames:
            return []
        model, opts, anchors = ((self._short, self._short_opts, self._short_anchors) if self._short is not None
                                else (self._full, self._full_opts, self._full_anchors))
        tensors = [[D.letterbox(f, opts.input_size, opts.input_range, rgb=True)] for f in frames]
        return self._run(model, opts, anchors, tensors)

    def search_tiles(self, frames: list[np.ndarray], tiles: Sequence[int] | None = None) -> list[list[D.Detection]]:
        """The full-range model on square tiles of each frame (:func:`square_tiles`), in one batched run.

        Args:
            frames: BGR frames.
            tiles: indices of the tiles to search (modulo each frame's number of tiles); default all.
                A video tracker searches one tile a frame, in turn.

        Returns per frame the detections of all searched tiles merged by weighted NMS; nothing unless
        :attr:`tiled`.
        """
        if not self.tiled or not frames:
            return [[] for _ in frames]
        opts = self._full_opts
        tensors = []
        for frame in frames:
            squares = square_tiles(frame.shape[1], frame.shape[0])
            chosen = squares if tiles is None else [squares[t % len(squares)] for t in dict.fromkeys(tiles)]
            tensors.append([D.square_tensor(frame, (cx, cy), side, opts.input_size, opts.input_range, rgb=True)
                            for cx, cy, side in chosen])
        return self._run(self._full, opts, self._full_anchors, tensors)

    def _run(self, model: Model, opts: D.SsdOptions, anchors: np.ndarray,
             tensors: list[list[tuple[np.ndarray, np.ndarray]]]) -> list[list[D.Detection]]:
        """One model run over every (tensor, back-projection) of every image; per image, merged detections."""
        batch = np.concatenate([t for per_image in tensors for t, _ in per_image])
        boxes, logits = model(batch)  # RGB: square_tensor swapped the channels on the bytes
        out = []
        k = 0
        limit = self.options.max_faces
        for per_image in tensors:
            values, scores = [], []
            for _, back in per_image:
                v, s = D.decode(boxes[k], logits[k], anchors, opts)
                values.append(_to_pixels(v, back))
                scores.append(s)
                k += 1
            merged = D.weighted_nms(np.concatenate(values), np.concatenate(scores), opts.nms_threshold, limit)
            out.append([D.Detection(box=m[:4].astype(np.float32), keypoints=m[4:].reshape(-1, 2).astype(np.float32),
                                    score=score) for m, score in merged])
        return out


def _to_pixels(values: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Decoded (N, 4 + 2K) boxes and keypoints, tensor-normalised, to image pixels (``back`` is axis-aligned)."""
    out = np.empty(values.shape, dtype=np.float64)
    out[:, 0::2] = values[:, 0::2] * back[0, 0] + back[0, 2]
    out[:, 1::2] = values[:, 1::2] * back[1, 1] + back[1, 2]
    return out


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
