"""HandTracker: MediaPipe's hand pipeline (BlazePalm, hand landmarks) re-created on ONNX Runtime.

Stages, as in MediaPipe's ``HandLandmarkTrackingCpu`` graph:

1. palm detection (still images, or in video mode while fewer hands are tracked than ``max_hands``, on
   every frame as MediaPipe does or on one in ``search_interval``): the frame letterboxed to 192x192 (or
   only the square around a ``region`` the caller cares about), BlazePalm, SSD decoding and weighted
   NMS; the ROI is the palm box
   rotated so wrist -> middle-finger MCP points up, shifted half a box toward the fingers, squared and
   enlarged 2.6x (``palm_detection_detection_to_roi.pbtxt``);
2. landmarks: the ROI warped to 224x224 (one warp), 21 points projected back, hand presence, and
   handedness (``Left``/``Right`` exactly as MediaPipe labels the same image);
3. video mode: the next ROI comes from the landmarks (``HandLandmarksToRectCalculator``: the box of
   the points in the hand's own rotated frame, enlarged 2x and shifted 0.1 toward the fingers); new palm
   detections that overlap a tracked hand are dropped, as MediaPipe's association step does; One Euro
   smoothing scaled by the hand's size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from arlens.errors import InputError
from arlens.image import as_bgr, rgb_planes
from arlens.landmarks import HandLandmark as H
from arlens.runtime import Model, RuntimeOptions
from arlens.tracking import detection as D
from arlens.tracking.results import Hand, bbox_of, usable_points
from arlens.tracking.roi import Roi, associate, normalize_radians, rotation_from
from arlens.tracking.smoothing import OneEuroOptions
from arlens.tracking.tracks import TrackerBase, build_options

logger = logging.getLogger(__name__)

LANDMARK_SIZE = 224
#: TensorsToLandmarksCalculator's ``normalize_z`` for the hand model.
Z_NORMALIZATION = 0.4
PALM_ROI = {"scale_x": 2.6, "scale_y": 2.6, "shift_y": -0.5}
LANDMARK_ROI = {"scale_x": 2.0, "scale_y": 2.0, "shift_y": -0.1}
#: Palm keypoints: 0 is the wrist centre, 2 the middle finger's MCP.
PALM_WRIST, PALM_MIDDLE_MCP = 0, 2
#: The palm and finger-base points MediaPipe's HandLandmarksToRectCalculator boxes (its "partial"
#: landmarks: wrist, thumb CMC..IP, and the MCP and PIP joints of the four fingers).
ROI_POINTS = (H.WRIST, H.THUMB_CMC, H.THUMB_MCP, H.THUMB_IP, H.INDEX_FINGER_MCP, H.INDEX_FINGER_PIP,
              H.MIDDLE_FINGER_MCP, H.MIDDLE_FINGER_PIP, H.RING_FINGER_MCP, H.RING_FINGER_PIP, H.PINKY_MCP, H.PINKY_PIP)
#: Label order of the handedness output (MediaPipe's handedness.txt): the score is P(first label).
HANDEDNESS_LABELS = ("Left", "Right")


@dataclass(frozen=True)
class HandTrackerOptions:
    """Settings of a :class:`HandTracker`, validated once when it is built.

    Attributes:
        max_hands: most hands to track (MediaPipe's ``max_num_hands``).
        min_detection_confidence: BlazePalm score threshold.
        min_tracking_confidence: hand-presence score under which a track is dropped.
        search_interval: video mode: while fewer than ``max_hands`` hands are tracked, palm detection runs
            on one frame in this many (and on the frame after a tracked hand is lost). 1 (default): every
            frame, MediaPipe's graph. The palm detector costs about what the landmark model costs on one
            hand, so a larger interval saves most of it while no new hand comes, and picks a new hand
            up at most ``search_interval - 1`` frames later.
        search_interval_tracking: the same while at least one hand is tracked (a shopper's second hand);
            None (default): ``search_interval``. With none tracked the search keeps ``search_interval``,
            so a first hand is found as quickly; a second one waits up to ``search_interval_tracking - 1``
            frames.
        parallel_search: video mode: on a frame that looks for new palms while some hands are tracked, run the
            palm detector on a thread of its own while the landmark model runs on the tracked hands (ONNX
            Runtime releases the GIL), instead of one after the other. The results are the same: a tracked
            hand's crop never gives way to a detection (:func:`~arlens.tracking.roi.associate`), and when a
            new hand is found all hands go through the landmark model in one batch again, as without it.
        smoothing: One Euro filter for video mode (``OneEuroOptions(enabled=False)`` for none).
        runtime: ONNX Runtime device, providers and threads.
    """

    max_hands: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    search_interval: int = 1
    search_interval_tracking: int | None = None
    parallel_search: bool = False
    smoothing: OneEuroOptions = field(default_factory=OneEuroOptions)
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self) -> None:
        for name in ("max_hands", "search_interval", "search_interval_tracking"):
            v = getattr(self, name)
            if v is None and name == "search_interval_tracking":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"HandTrackerOptions.{name}: expected an int >= 1, got {v!r}")
        if not isinstance(self.parallel_search, bool):
            raise InputError("HandTrackerOptions.parallel_search: expected True or False, "
                             f"got {self.parallel_search!r}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"HandTrackerOptions.{name}: expected a value in [0, 1], got {v!r}")




def _check_region(region: Sequence[float]) -> tuple[float, float, float, float]:
    """``region`` as four floats x0 <= x1, y0 <= y1; InputError when malformed."""
    try:
        x0, y0, x1, y1 = (float(v) for v in region)
    except (TypeError, ValueError):
        raise InputError(f"region: expected (x0, y0, x1, y1) pixels, got {region!r}") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 < x0 or y1 < y0:
        raise InputError(f"region: expected finite x0 <= x1 and y0 <= y1, got {region!r}")
    return x0, y0, x1, y1


def _clip_region(region: tuple[float, float, float, float], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``region`` as whole pixels inside a frame of ``shape`` (empty where they do not meet)."""
    x0, y0, x1, y1 = region
    h, w = shape[:2]
    cx0, cy0 = min(max(math.floor(x0), 0), w), min(max(math.floor(y0), 0), h)
    return cx0, cy0, max(cx0, min(math.ceil(x1), w)), max(cy0, min(math.ceil(y1), h))


def _overlaps(roi: Roi, box: tuple[int, int, int, int]) -> bool:
    """Whether the axis-aligned box of ``roi`` meets ``box`` (x0, y0, x1, y1)."""
    r = 0.5 * math.hypot(roi.width, roi.height)  # the rotated ROI lies within this of its centre
    return roi.cx + r > box[0] and roi.cx - r < box[2] and roi.cy + r > box[1] and roi.cy - r < box[3]


def roi_from_hand(points: np.ndarray) -> Roi:
    """MediaPipe's landmarks-to-ROI for a hand: the box of the palm and finger bases in the hand's frame.

    The box is rotated so that the wrist points at the mean of the index, middle and ring MCPs (the
    middle one counted twice), then enlarged 2x and shifted 0.1 toward the fingers.
    """
    xy = np.asarray(points, dtype=np.float64)[list(ROI_POINTS), :2]
    full = np.asarray(points, dtype=np.float64)[:, :2]
    aim = ((full[H.INDEX_FINGER_MCP] + full[H.RING_FINGER_MCP]) / 2 + full[H.MIDDLE_FINGER_MCP]) / 2
    rotation = rotation_from(full[H.WRIST], aim, target_deg=90.0)
    centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
    back = normalize_radians(-rotation)
    c, s = math.cos(back), math.sin(back)
    d = xy - centre
    projected = np.stack([d[:, 0] * c - d[:, 1] * s, d[:, 0] * s + d[:, 1] * c], axis=1)
    lo, hi = projected.min(axis=0), projected.max(axis=0)
    pc = (lo + hi) / 2
    c, s = math.cos(rotation), math.sin(rotation)
    cx = pc[0] * c - pc[1] * s + centre[0]
    cy = pc[0] * s + pc[1] * c + centre[1]
    roi = Roi(cx, cy, hi[0] - lo[0], hi[1] - lo[1], rotation)
    return roi.transformed(**LANDMARK_ROI, square_long=True)


class HandTracker(TrackerBase):
    """Finds hands, their 21 landmarks and handedness in still images or video frames.

    Use :meth:`detect` for unrelated images and :meth:`track` for consecutive frames of one stream.
    The tracker holds ONNX Runtime sessions: use it as a context manager or call :meth:`close`.
    """

    def __init__(self, options: HandTrackerOptions | None = None, **kwargs):
        """Build from ``options`` or :class:`HandTrackerOptions` keywords (plus ``device``, ``providers``)."""
        self.options = options = build_options(HandTrackerOptions, options, kwargs)
        self._detector_opts = replace(D.PALM_FULL, score_threshold=options.min_detection_confidence)
        self._anchors = D.ssd_anchors(self._detector_opts)
        self._detector = Model("palm_detection_full", options.runtime)
        self._model = Model("hand_landmark_full", options.runtime, nchw=True)
        super().__init__([self._detector, self._model], options.smoothing)
        self._wait = 0  # video mode: frames left before palm detection may run again
        self._seen: set[int] = set()  # ids of the hands found in the previous frame
        self._search_thread: Any = None  # parallel_search: a one-thread pool for the palm detector

    def close(self) -> None:
        """Release the ONNX Runtime sessions (and the search thread); the tracker cannot be used afterwards."""
        if self._search_thread is not None:
            self._search_thread.shutdown(wait=True)
            self._search_thread = None
        super().close()

    def reset(self) -> None:
        """Forget tracked hands and timestamps, to start a new video stream."""
        super().reset()
        self._wait = 0
        self._seen = set()

    def detect(self, image: np.ndarray) -> list[Hand]:
        """Hands in a still image (no state carried between calls), best first; [] when there are none.

        Raises:
            InputError: ``image`` is not a uint8 BGR/gray/BGRA image.
        """
        self._start_call()
        frame = as_bgr(image)
        rois = [roi for roi, _ in associate(self._detect_rois(frame), [])]
        return [self._make_hand(points, score, label, lscore, 0)
                for result in self._landmarks(frame, rois) if result is not None
                for points, score, label, lscore in [result]]

    def track(self, frame: np.ndarray, timestamp_ms: int, *, region: Sequence[float] | None = None) -> list[Hand]:
        """Hands in the next frame of a video stream, with ids stable across frames.

        Args:
            frame: uint8 BGR image.
            timestamp_ms: the frame's time in milliseconds; must increase from call to call.
            region: (x0, y0, x1, y1) pixels: only hands there matter (around the faces, for hands that may
                cover them). Palm detection then sees the square around the region (larger, so small
                hands near it are found more easily) and a tracked hand whose crop leaves the region is
                dropped, so hands elsewhere cost nothing. None: the whole frame (MediaPipe's graph).

        Raises:
            InputError: bad image, timestamp not greater than the previous one, or a malformed region.
        """
        wanted = None if region is None else _check_region(region)  # refused before any state changes
        image = self._start_frame(frame, timestamp_ms)
        box = None if wanted is None else _clip_region(wanted, image.shape)
        if box is not None:
            self._tracks.items = [tr for tr in self._tracks.items if _overlaps(tr.roi, box)]
        # Palms are looked for only while fewer hands are tracked than wanted, on one frame in search_interval;
        # the association step runs every frame, so two tracks that drift onto the same hand collapse into
        # one, as in MediaPipe.
        searching = len(self._tracks) < self.options.max_hands and self._wait <= 0 and (
            box is None or (box[2] > box[0] and box[3] > box[1]))
        interval = self.options.search_interval
        if self._tracks.items and self.options.search_interval_tracking is not None:
            interval = self.options.search_interval_tracking
        self._wait = interval - 1 if searching else self._wait - 1
        if searching and self.options.parallel_search and self._tracks.items:
            results = self._search_beside_landmarks(image, box)
        else:
            self._tracks.merge(self._detect_rois(image, box) if searching else [])
            results = self._landmarks(image, self._tracks.rois())
        hands, kept = [], []
        for tr, result in zip(self._tracks.items, results, strict=True):
            if result is None:
                continue
            points, score, label, lscore = result
            tr.roi = roi_from_hand(points)
            kept.append(tr)
            with self._times.stage("smoothing"):
                size = float(np.linalg.norm(points[H.WRIST, :2] - points[H.MIDDLE_FINGER_MCP, :2]))
                points = tr.filter(points, timestamp_ms / 1000.0, size)
            hands.append(self._make_hand(points, score, label, lscore, tr.track_id))
        if any(tr.track_id in self._seen and tr not in kept for tr in self._tracks.items):
            self._wait = 0  # a tracked hand was lost: look for it again on the next frame, as MediaPipe does
        self._seen = {tr.track_id for tr in kept}
        self._tracks.items = kept
        return hands

    def _search_beside_landmarks(self, image: np.ndarray, box: tuple[int, int, int, int] | None
                                 ) -> list[tuple[np.ndarray, float, str, float] | None]:
        """Palm detection on the search thread while the tracked hands that survive association go through the
        landmark model here; then the association with the palms found, as :meth:`track` does it. The
        tracks that survive are the same with or without detections (detections come first in
        :func:`associate`: they never evict a track), so the landmarks computed meanwhile are the ones
        wanted unless a new hand was found; then all hands are run again in one batch, as without the
        search thread (the same batches, so the same numbers)."""
        if self._search_thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._search_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arlens-palms")
        survivors = [self._tracks.items[i] for _, i in associate([], self._tracks.rois())]
        job = self._search_thread.submit(self._detect_rois, image, box)
        try:
            early = self._landmarks(image, [tr.roi for tr in survivors])
        finally:
            detected = job.result()  # waits even when the landmarks failed
        self._tracks.merge(detected)
        if [id(tr) for tr in self._tracks.items] == [id(tr) for tr in survivors]:
            return early
        return self._landmarks(image, self._tracks.rois())

    def _detect_rois(self, image: np.ndarray, region: tuple[int, int, int, int] | None = None) -> list[Roi]:
        """Run BlazePalm on the frame (or the square around ``region``); ROIs of the best ``max_hands``
        palms (MediaPipe clips before association)."""
        with self._times.stage("detection"):
            opts = self._detector_opts
            if region is None:
                tensor, back = D.letterbox(image, opts.input_size, opts.input_range, rgb=True)
            else:
                x0, y0, x1, y1 = region
                tensor, back = D.square_tensor(image, ((x0 + x1) / 2, (y0 + y1) / 2), max(x1 - x0, y1 - y0),
                                               opts.input_size, opts.input_range, rgb=True)
            boxes, logits = self._detector(tensor)
            values, scores = D.decode(boxes[0], logits[0], self._anchors, opts)
            rois: list[Roi] = []
            for merged, score in D.weighted_nms(values, scores, opts.nms_threshold, self.options.max_hands):
                det = D.to_pixels(merged, score, back, opts.num_keypoints)
                rot = rotation_from(det.keypoints[PALM_WRIST], det.keypoints[PALM_MIDDLE_MCP], target_deg=90.0)
                rois.append(Roi.from_box(det.box, rot).transformed(**PALM_ROI, square_long=True))
            return rois

    def _landmarks(self, image: np.ndarray, rois: Sequence[Roi]) -> list[tuple[np.ndarray, float, str, float] | None]:
        """Per ROI: 21 points in pixels, presence, handedness label and its score; None where no hand."""
        if not rois:
            return []
        with self._times.stage("landmarks"):
            crops = np.stack([roi.crop(image, LANDMARK_SIZE) for roi in rois])
            raw, presence, handedness, _world = self._model(rgb_planes(crops))
            out: list[tuple[np.ndarray, float, str, float] | None] = []
            for k, roi in enumerate(rois):
                score = float(presence.reshape(len(rois), -1)[k, 0])
                if score < self.options.min_tracking_confidence:
                    out.append(None)
                    continue
                points = roi.project(raw[k].reshape(-1, 3), LANDMARK_SIZE)
                points[:, 2] /= Z_NORMALIZATION
                if not usable_points(points):
                    out.append(None)
                    continue
                p_first = float(handedness.reshape(len(rois), -1)[k, 0])
                label = HANDEDNESS_LABELS[0] if p_first > 0.5 else HANDEDNESS_LABELS[1]
                out.append((points, score, label, max(p_first, 1.0 - p_first)))
            return out

    @staticmethod
    def _make_hand(points: np.ndarray, score: float, label: str, label_score: float, track_id: int) -> Hand:
        return Hand(landmarks=points, handedness=label, score=score, bbox=bbox_of(points),
                    handedness_score=label_score, track_id=track_id)
