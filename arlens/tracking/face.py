"""FaceTracker: MediaPipe's face pipeline (BlazeFace, attention face mesh) re-created on ONNX Runtime.

Stages, as in MediaPipe's ``FaceLandmarkFrontCpu`` graph with ``refine_landmarks`` (FaceMesh's
``refine_landmarks=True``):

1. detection (still images, or when fewer faces are tracked than ``max_faces``): the frame letterboxed
   to 128x128, BlazeFace short-range, SSD decoding and weighted NMS; by default, when that finds fewer
   faces than ``max_faces``, also BlazeFace full-range on square tiles of the frame, for faces down to
   about 30 px inter-ocular distance (:mod:`arlens.tracking.face_detector`); the ROI is the detection box
   rotated by the eye keypoints, squared and enlarged 1.5x;
2. landmarks: the ROI warped to 192x192 (one warp) and one run of the attention mesh model, which gives
   the 468 mesh points, refined lips and eyes, the 10 iris points 468-477 and the face-presence score;
   the refinements are merged as MediaPipe's ``LandmarksRefinementCalculator`` does and the points
   projected back; in video mode the next frame's ROI comes from these landmarks;
   arlens departs from MediaPipe's loop where its crop is poor (:mod:`arlens.tracking.crop_check`): a
   stale crop gets a second mesh pass in the same frame, a turned head is cropped from a fresh
   detection, a lost face is looked for again in the same frame (``like_mediapipe()`` turns these off);
   all faces' crops go through the mesh model in one batched run;
3. smoothing (video mode, One Euro) and the metric head pose.

Without ``refine_iris`` the plain mesh model runs instead (468 points; 468-477 are the eye-contour centres).
The attention model's three refinement branches (lips, eyes, irises) cost about half of its time; a caller
that does not need some of them (a lipstick reads only the lips, glasses none) asks for fewer
(``refine=`` on each call, or ``FaceTrackerOptions.refinements``) and the model runs without them: the
points a skipped branch would refine keep the mesh's own positions (for the irises: the eye-contour
centres, as without ``refine_iris``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError
from arlens.image import as_bgr, rgb_planes
from arlens.runtime import Model, RuntimeOptions
from arlens.tracking import crop_check as C
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.face_detector import DETECTORS, FaceDetector, FaceDetectorOptions, square_tile_at
from arlens.tracking.pose import estimate_pose
from arlens.tracking.results import Face, bbox_of, usable_points
from arlens.tracking.roi import Roi, associate, roi_iou, rotation_from
from arlens.tracking.smoothing import OneEuroFilter, OneEuroOptions
from arlens.tracking.tracks import TrackerBase, build_options

logger = logging.getLogger(__name__)

LANDMARK_SIZE = 192
#: Video mode, ``detector="auto"``: while fewer faces are tracked than ``max_faces`` the full-range search
#: covers one square tile every frame when no face is tracked (an empty kiosk: the first shopper is
#: found within three frames), and one every this many frames while some are (a second shopper
#: within nine; the search costs about as much as the mesh on one face, so it is spread out).
TILE_INTERVAL_TRACKING = 3
FACE_ROI_SCALE = C.FACE_ROI_SCALE
#: Face-mesh indices of the points each attention-model output replaces, in its output order
#: (``indexes_mapping`` of MediaPipe's tensors_to_face_landmarks_with_attention.pbtxt): lips, then the
#: eye regions of the image-left eye (subject's right) and the image-right eye.
LIP_REFINEMENT_INDICES = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409, 78, 95, 88, 178, 87,
    14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415, 76, 77, 90, 180, 85, 16, 315, 404, 320,
    307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408, 62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292, 183, 42,
    41, 38, 12, 268, 271, 272, 407,
)
EYE_REFINEMENT_INDICES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173, 130, 25, 110, 24, 23, 22, 26, 112,
     243, 247, 30, 29, 27, 28, 56, 190, 226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221,
     189, 35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245, 156, 70, 63, 105, 66, 107, 55, 193),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398, 359, 255, 339, 254, 253, 252,
     256, 341, 463, 467, 260, 259, 257, 258, 286, 414, 446, 261, 448, 449, 450, 451, 452, 453, 464, 342, 445, 444,
     443, 442, 441, 413, 265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349, 350, 357, 465, 383, 300, 293,
     334, 296, 336, 285, 417),
)
#: How many of each eye's refined points are the eyelid contour: an iris's depth is their mean depth.
EYELID_POINTS = 16
_LIPS = np.array(LIP_REFINEMENT_INDICES)
_EYES = tuple(np.array(indices) for indices in EYE_REFINEMENT_INDICES)
#: Output tensors of the attention model, and of the plain mesh model (mesh, presence).
ATTENTION_OUTPUTS = ("output_mesh_identity", "output_lips", "output_left_eye", "output_right_eye",
                     "output_left_iris", "output_right_iris", "conv_faceflag")
MESH_OUTPUTS = ("conv2d_21", "conv2d_31")
#: The attention model's refinement branches, by name, and their outputs.
REFINEMENTS = ("lips", "eyes", "irises")
BRANCH_OUTPUTS = {"lips": ("output_lips",), "eyes": ("output_left_eye", "output_right_eye"),
                  "irises": ("output_left_iris", "output_right_iris")}


def refine_landmarks(points: np.ndarray, lips: np.ndarray | None, eyes: Sequence[np.ndarray] | None,
                     irises: Sequence[np.ndarray] | None) -> None:
    """Merge the attention model's refinements into (N, 478, 3) tensor-space points, in place.

    Lips and eyes replace x and y of their mesh points (depth stays the mesh's); each iris gets the mean
    depth of its eye's eyelid contour, as MediaPipe's ``LandmarksRefinementCalculator`` is configured.
    A refinement given as None was not computed: those points keep the mesh's positions, and the irises
    become the eye contours' centres (as the plain mesh model's points 468-477).
    """
    n = len(points)
    if lips is not None:
        points[:, _LIPS, :2] = lips.reshape(n, -1, 2)
    for k, (eye_points, first) in enumerate(zip(_EYES, (L.RIGHT_IRIS_CENTER, L.LEFT_IRIS_CENTER), strict=True)):
        if eyes is not None:
            points[:, eye_points, :2] = eyes[k].reshape(n, -1, 2)
        if irises is not None:
            points[:, first : first + 5, :2] = irises[k].reshape(n, -1, 2)
            points[:, first : first + 5, 2] = points[:, eye_points[:EYELID_POINTS], 2].mean(axis=1)[:, None]
        else:
            loop = list(L.right_eye() if first == L.RIGHT_IRIS_CENTER else L.left_eye())
            points[:, first : first + 5] = points[:, loop].mean(axis=1, keepdims=True)


@dataclass(frozen=True)
class FaceTrackerOptions:
    """Settings of a :class:`FaceTracker`, validated once when it is built.

    Attributes:
        max_faces: most faces to track (MediaPipe's ``max_num_faces``).
        min_detection_confidence: BlazeFace score threshold; None (default) for MediaPipe's, 0.5 for the
            short-range model and 0.6 for the full-range one.
        detector: which face detector finds new faces (:mod:`arlens.tracking.face_detector`): ``"auto"``
            (default: MediaPipe's short-range BlazeFace, and its full-range model on square tiles of the
            frame only when that finds fewer faces than ``max_faces``; faces from about 30 px
            inter-ocular distance in a 1280x720 frame up to one that fills it), ``"short"`` (exactly
            FaceMesh's detector) or ``"full"`` (exactly ``FaceDetection(model_selection=1)``).
        min_tracking_confidence: face-presence score under which a track is dropped (and the
            detector runs again).
        correct_stale_crops: when the landmarks found in a crop say the crop was off (the face's box is
            further from it than :mod:`arlens.tracking.crop_check` allows: in video mode a fast move,
            in stills a detector near the end of its range), run the mesh again at once on the crop
            recomputed from them; and in video mode, when a face is lost, look for it with the detector
            in the same frame. False: MediaPipe's graph, which uses its first crop.
        redetect_turned_deg: video mode: while a head is turned more than this (degrees of yaw), crop it
            from a fresh detection instead of from the previous frame's landmarks (which at such angles
            give a crop the mesh reads poorly: lips up to 20% of the inter-ocular distance off). None:
            always MediaPipe's landmark crop. With ``correct_stale_crops=False``,
            ``redetect_turned_deg=None`` and ``detector="short"``, tracking is exactly Google's graph.
        refine_iris: run MediaPipe's attention mesh model (FaceMesh's ``refine_landmarks=True``): irises
            468-477 and refined lips and eyes from one model run; without it the plain mesh model, with
            points 468-477 at the eye-contour centres.
        refinements: which of the attention model's branches run by default (``refine=`` on a call says
            otherwise): some of ``"lips"``, ``"eyes"``, ``"irises"`` (all: FaceMesh's refined graph). The
            model without a branch runs faster (all three are about half of its time); the points it
            would refine keep the mesh's positions (the irises: the eye-contour centres).
        smoothing: One Euro filter parameters for video mode (``OneEuroOptions(enabled=False)`` for none).
        fov_y_deg: vertical field of view of the camera the pose is expressed in.
        estimate_pose: fit ``Face.pose`` (identity when False).
        runtime: ONNX Runtime device, providers and threads.
    """

    max_faces: int = 1
    min_detection_confidence: float | None = None
    min_tracking_confidence: float = 0.5
    detector: str = "auto"
    correct_stale_crops: bool = True
    redetect_turned_deg: float | None = 30.0
    refine_iris: bool = True
    refinements: tuple[str, ...] = REFINEMENTS
    smoothing: OneEuroOptions = field(default_factory=OneEuroOptions)
    fov_y_deg: float = 63.0
    estimate_pose: bool = True
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    @classmethod
    def like_mediapipe(cls, **kwargs) -> FaceTrackerOptions:
        """Options under which tracking is Google's FaceMesh graph's: its short-range detector only and
        its tracking loop as is (no crop corrections). For comparisons with MediaPipe; ``kwargs`` set the
        other fields."""
        return cls(**{"detector": "short", "correct_stale_crops": False, "redetect_turned_deg": None, **kwargs})

    def __post_init__(self) -> None:
        if not isinstance(self.max_faces, int) or self.max_faces < 1:
            raise InputError(f"FaceTrackerOptions.max_faces: expected an int >= 1, got {self.max_faces!r}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if v is None and name == "min_detection_confidence":
                continue
            if not 0.0 <= v <= 1.0:
                raise InputError(f"FaceTrackerOptions.{name}: expected a value in [0, 1], got {v!r}")
        if self.detector not in DETECTORS:
            raise InputError(f"FaceTrackerOptions.detector: expected one of {DETECTORS}, got {self.detector!r}")
        if self.redetect_turned_deg is not None and not 0.0 < self.redetect_turned_deg <= 90.0:
            raise InputError("FaceTrackerOptions.redetect_turned_deg: expected None or a value in (0, 90], "
                             f"got {self.redetect_turned_deg!r}")
        if not 1.0 <= self.fov_y_deg <= 170.0:
            raise InputError(f"FaceTrackerOptions.fov_y_deg: expected a value in [1, 170], got {self.fov_y_deg!r}")
        object.__setattr__(self, "refinements", tuple(sorted(check_refinements(self.refinements,
                                                                                "FaceTrackerOptions.refinements"),
                                                             key=REFINEMENTS.index)))


def check_refinements(value: object, name: str = "refine") -> frozenset[str]:
    """``value`` (some of :data:`REFINEMENTS`) as a frozenset; InputError naming ``name`` otherwise."""
    if isinstance(value, str) or not isinstance(value, Collection) or not set(value) <= set(REFINEMENTS):
        raise InputError(f"{name}: expected some of {', '.join(REFINEMENTS)}, got {value!r}")
    return frozenset(value)


class FaceTracker(TrackerBase):
    """Finds faces and their 478 landmarks and head pose in still images or video frames.

    Use :meth:`detect` for unrelated images and :meth:`track` for consecutive frames of one stream.
    The tracker holds ONNX Runtime sessions: use it as a context manager or call :meth:`close`.

    Example:
        >>> with arlens.FaceTracker() as tracker:
        ...     faces = tracker.detect(cv2.imread("portrait.jpg"))
    """

    def __init__(self, options: FaceTrackerOptions | None = None, **kwargs):
        """Build from ``options`` or :class:`FaceTrackerOptions` keywords (plus ``device``, ``providers``)."""
        self.options = options = build_options(FaceTrackerOptions, options, kwargs)
        self._detector = FaceDetector(FaceDetectorOptions(
            model=options.detector, min_detection_confidence=options.min_detection_confidence,
            max_faces=options.max_faces, runtime=options.runtime))
        self._mesh = Model("face_landmark_with_attention" if options.refine_iris else "face_landmark",
                           options.runtime, nchw=True)
        super().__init__([*self._detector.models, self._mesh], options.smoothing)
        self._pruned: dict[frozenset[str], Model] = {}  # the attention model without some branches
        self._refine = frozenset(options.refinements)  # the branches the current call runs
        self._turned: set[int] = set()  # ids of tracks whose head was turned in the previous frame
        self._next_tile = 0  # video mode searches one detector tile at a time, in turn
        self._frames_since_tile = TILE_INTERVAL_TRACKING  # the first frame searches at once

    def reset(self) -> None:
        """Forget tracked faces and timestamps, to start a new video stream."""
        super().reset()
        self._turned = set()
        self._next_tile = 0
        self._frames_since_tile = TILE_INTERVAL_TRACKING  # the first frame searches at once

    # -- public API --------------------------------------------------------------------------------
    def detect(self, image: np.ndarray, *, refine: Collection[str] | None = None) -> list[Face]:
        """Faces in a still image (no state carried between calls), best first.

        Args:
            image: uint8 BGR/gray/BGRA image.
            refine: the attention model's branches to run (some of ``"lips"``, ``"eyes"``, ``"irises"``);
                None: ``options.refinements``.

        Raises:
            InputError: ``image`` is not a uint8 BGR/gray/BGRA image, or a bad ``refine``.
        """
        return self.detect_batch([image], refine=refine)[0]

    def detect_batch(self, images: Iterable[np.ndarray], *, refine: Collection[str] | None = None) -> list[list[Face]]:
        """Faces in each of several still images, with every model stage run once for the whole batch.

        The detector sees all images in one run and the mesh model all faces in one; the result for
        each image equals :meth:`detect` on it. This is the throughput path for previewing a catalog on
        many photos.

        Raises:
            InputError: ``images`` is not an iterable of images, an image is not a uint8 BGR/gray/BGRA
                image (the message names its index), or a bad ``refine`` (as :meth:`detect`).
        """
        self._set_refine(refine)
        self._start_call()
        if isinstance(images, np.ndarray) and images.ndim == 3:
            raise InputError("images: expected a sequence of images, got a single image (use detect())")
        if not isinstance(images, Iterable) or isinstance(images, str | bytes | dict):
            raise InputError(f"images: expected a sequence of images, got {type(images).__name__}")
        images = list(images)  # a generator is read once
        frames = [as_bgr(im, "image" if len(images) == 1 else f"images[{i}]") for i, im in enumerate(images)]
        rois = [[roi for roi, _ in associate(found, [])] for found in self._detect_rois(frames)]
        found = self._found_faces(frames, rois)
        if self._detector.tiled:  # faces the short-range detector missed (or whose crop the mesh rejected)
            wanted = [i for i, faces in enumerate(found) if len(faces) < self.options.max_faces]
            extra = self._tile_rois([frames[i] for i in wanted])
            new = [[roi for roi, index in associate(tiled, [C.mesh_roi(p) for p, _ in found[i]]) if index is None]
                   for i, tiled in zip(wanted, extra, strict=True)]
            for i, more in zip(wanted, self._found_faces([frames[i] for i in wanted], new), strict=True):
                found[i] = (found[i] + more)[: self.options.max_faces]
        out: list[list[Face]] = []
        for frame, faces in zip(frames, found, strict=True):
            camera = PerspectiveCamera(frame.shape[1], frame.shape[0], self.options.fov_y_deg)
            out.append([self._make_face(points, score, camera, track_id=0) for points, score in faces])
        return out

    def _found_faces(self, frames: list[np.ndarray], rois: list[list[Roi]]) -> list[list[tuple[np.ndarray, float]]]:
        """Landmarks in each frame's ROIs (one batched mesh run), keeping the faces the mesh confirms.

        With ``correct_stale_crops``, a face whose landmarks say the detection's crop was off (as a
        detector near the end of its range gives: see ``crop_check``) is run again, all such faces in a
        second batched run, on the crop recomputed from its landmarks; not a turned head, whose
        detection's crop is the better one (``redetect_turned_deg``).
        """
        jobs = [(i, roi) for i, found in enumerate(rois) for roi in found]
        results = self._landmarks([frames[i] for i, _ in jobs], [roi for _, roi in jobs])
        if self.options.correct_stale_crops:
            redo = {k: found for k, ((_, roi), result) in enumerate(zip(jobs, results, strict=True))
                    if result is not None and not self._turned_head(result[0])
                    and C.is_stale(roi, found := C.mesh_roi(result[0]))}
            if redo:
                with self._times.stage("second_pass"):
                    second = self._landmarks([frames[jobs[k][0]] for k in redo], list(redo.values()))
                for k, result in zip(redo, second, strict=True):
                    if result is not None:
                        results[k] = result
        out: list[list[tuple[np.ndarray, float]]] = [[] for _ in frames]
        for (i, _), result in zip(jobs, results, strict=True):
            if result is not None:
                out[i].append(result)
        return out

    def track(self, frame: np.ndarray, timestamp_ms: int, *, refine: Collection[str] | None = None) -> list[Face]:
        """Faces in the next frame of a video stream, with ids stable across frames.

        Args:
            frame: uint8 BGR image.
            timestamp_ms: the frame's time in milliseconds; must increase from call to call.
            refine: the attention model's branches to run in this frame (as :meth:`detect`; may change
                from frame to frame, e.g. with the products worn); None: ``options.refinements``.

        Raises:
            InputError: bad image, a timestamp not greater than the previous one, or a bad ``refine``.
        """
        self._set_refine(refine)
        image = self._start_frame(frame, timestamp_ms)
        camera = PerspectiveCamera(image.shape[1], image.shape[0], self.options.fov_y_deg)
        o = self.options
        # The detector runs while fewer faces are tracked than wanted (and, see crop_check, for turned or
        # lost heads); the association step runs every frame, so two tracks that drift onto one face
        # collapse into one, as in MediaPipe.
        searching = len(self._tracks) < o.max_faces
        turned = [k for k, tr in enumerate(self._tracks.items) if tr.track_id in self._turned]
        detected = self._detect_rois([image])[0] if searching or turned else None
        crops = self._tracks.rois()
        taken: set[int] = set()
        anchored = set()
        for k in turned:  # a turned head's crop comes from a fresh detection
            match = C.best_match(crops[k], detected, taken)
            if match is not None:
                taken.add(match)
                self._tracks.items[k].roi = detected[match]
                anchored.add(self._tracks.items[k].track_id)
        before = {tr.track_id for tr in self._tracks.items}
        self._tracks.merge([roi for k, roi in enumerate(detected) if k not in taken] if searching else [])
        anchored |= {tr.track_id for tr in self._tracks.items if tr.track_id not in before}
        results = self._correct(image, self._tracks.items, anchored, detected)
        faces, kept = self._keep(results, camera, timestamp_ms)
        self._frames_since_tile += 1
        interval = TILE_INTERVAL_TRACKING if kept else 1
        if searching and self._detector.tiled and len(kept) < o.max_faces and self._frames_since_tile >= interval:
            # Faces too small for the short-range detector: the full-range one on one tile, in turn, every
            # frame while no face is tracked, every TILE_INTERVAL_TRACKING frames while some are.
            self._frames_since_tile = 0
            before = {tr.track_id for tr in kept}
            self._tracks.items = kept
            self._tracks.merge(self._tile_rois([image], [self._next_tile])[0])
            self._next_tile += 1
            new = [tr for tr in self._tracks.items if tr.track_id not in before]
            more, added = self._keep(self._landmarks([image] * len(new), [tr.roi for tr in new]), camera,
                                     timestamp_ms, new)
            faces, kept = faces + more, kept + added
        self._tracks.items = kept
        return faces

    def _correct(self, image: np.ndarray, tracks: list, anchored: set[int],
                 detected: list[Roi] | None) -> list[tuple[np.ndarray, float] | None]:
        """Landmarks of every track in one mesh run, and the same-frame corrections of ``crop_check``.

        A turned head keeps a detection's crop: one found for it this frame (``anchored``) or, if it just
        turned, one looked for now; a lost face gets a detection's crop too. Any other face whose crop
        was stale (whether from landmarks or from a detection near the end of the detector's range)
        gets the crop recomputed from its landmarks. Each round of corrections is one batched mesh run
        whose results replace the earlier ones wherever they found the face; a second round only for
        faces the first gave a detection's crop that proved stale, so at most three runs in all.
        """
        o = self.options
        crops = [tr.roi for tr in tracks]
        results = self._landmarks([image] * len(tracks), crops)
        if not o.correct_stale_crops and o.redetect_turned_deg is None:
            return results
        redo: dict[int, Roi] = {}
        wants_detection = []
        for k, (tr, result) in enumerate(zip(tracks, results, strict=True)):
            if result is None:
                if o.correct_stale_crops:
                    wants_detection.append(k)
            elif self._turned_head(result[0]):
                if tr.track_id not in anchored:
                    wants_detection.append(k)
            elif o.correct_stale_crops and C.is_stale(crops[k], found := C.mesh_roi(result[0])):
                redo[k] = found
        if wants_detection:
            if detected is None:
                detected = self._detect_rois([image])[0]
            others = [crop for k, crop in enumerate(crops) if k not in wants_detection]
            unmatched = self._match(wants_detection, crops, results, detected, others, redo)
            if unmatched and self._detector.tiled:  # a small face: the tiles where it was
                tiles = [square_tile_at(image, crops[k]) for k in unmatched]
                self._match(unmatched, crops, results, self._tile_rois([image], tiles)[0], others, redo)
        from_detection = set(wants_detection) & set(redo)
        for _ in range(2):
            if not redo:
                break
            with self._times.stage("second_pass"):
                again = self._landmarks([image] * len(redo), list(redo.values()))
            crops_used, redo = redo, {}
            for k, result in zip(crops_used, again, strict=True):
                if result is None:
                    continue
                results[k] = result
                if (k in from_detection and o.correct_stale_crops and not self._turned_head(result[0])
                        and C.is_stale(crops_used[k], found := C.mesh_roi(result[0]))):
                    redo[k] = found
            from_detection = set()
        return results

    @staticmethod
    def _match(wanted: list[int], crops: list[Roi], results: list, detected: list[Roi], others: list[Roi],
               redo: dict[int, Roi]) -> list[int]:
        """Give each wanted track the detection of its face (into ``redo``); return those left without one.

        A turned head's face is the detection overlapping its landmarks' crop; a lost face's, the detection
        nearest to where it was (the face may have moved out of its crop). A detection that is another
        track's face (overlapping its crop as MediaPipe's association rule counts it) is no one else's.
        """
        taken = {j for j, roi in enumerate(detected) if any(roi_iou(roi, o) > 0.5 for o in others)}
        unmatched = []
        for k in wanted:
            match = (C.nearest(crops[k], detected, taken) if results[k] is None
                     else C.best_match(C.mesh_roi(results[k][0]), detected, taken))
            if match is None:
                unmatched.append(k)
            else:
                taken.add(match)
                redo[k] = detected[match]
        return unmatched

    def _keep(self, results: list[tuple[np.ndarray, float] | None], camera: PerspectiveCamera, timestamp_ms: float,
              tracks: list | None = None) -> tuple[list[Face], list]:
        """Faces of the tracks whose face was found (their next crop set from the landmarks), and those tracks."""
        faces, kept = [], []
        for tr, result in zip(self._tracks.items if tracks is None else tracks, results, strict=True):
            if result is None:
                self._turned.discard(tr.track_id)
                continue
            points, score = result
            tr.roi = C.mesh_roi(points)
            if self._turned_head(points):
                self._turned.add(tr.track_id)
            else:
                self._turned.discard(tr.track_id)
            kept.append(tr)
            faces.append(self._make_face(points, score, camera, tr.track_id, tr.filter, timestamp_ms / 1000.0))
        return faces, kept

    def _turned_head(self, points: np.ndarray) -> bool:
        limit = self.options.redetect_turned_deg
        return limit is not None and C.yaw_deg(points) > limit

    # -- stages ------------------------------------------------------------------------------------
    def _detect_rois(self, images: list[np.ndarray]) -> list[list[Roi]]:
        """The face detector on whole frames (short-range; full-range for ``detector="full"``), run once over
        all ``images``; per image, the crops of the best ``max_faces`` detections."""
        if not images:
            return []
        with self._times.stage("detection"):
            return [self._rois(found) for found in self._detector.whole(images)]

    def _tile_rois(self, images: list[np.ndarray], tiles: list[int] | None = None) -> list[list[Roi]]:
        """The full-range search of square tiles (``detector="auto"``), all or those indexed by ``tiles``."""
        if not images:
            return []
        with self._times.stage("detection_tiles"):
            return [self._rois(found) for found in self._detector.search_tiles(images, tiles)]

    def _rois(self, detections: list) -> list[Roi]:
        """Landmark crops of detections: the box rotated by the eye keypoints, squared and enlarged 1.5x
        (MediaPipe's ``face_detection_front_detection_to_roi``), whichever detector found the face."""
        return [Roi.from_box(det.box, rotation_from(det.keypoints[0], det.keypoints[1]))
                .transformed(FACE_ROI_SCALE, FACE_ROI_SCALE, square_long=True)
                for det in detections[: self.options.max_faces]]

    def _landmarks(self, images: list[np.ndarray], rois: list[Roi]) -> list[tuple[np.ndarray, float] | None]:
        """478 points in pixels and the presence score for the face in each (image, ROI), or None if absent.

        All crops go through the mesh model in one run.
        """
        if not rois:
            return []
        with self._times.stage("landmarks"):
            n = len(rois)
            crops = np.stack([roi.crop(image, LANDMARK_SIZE) for image, roi in zip(images, rois, strict=True)])
            if self.options.refine_iris:
                model, names = self._attention(self._refine)
                outputs = dict(zip(names, model(rgb_planes(crops), names), strict=True))
                presence = outputs["conv_faceflag"]
            else:
                mesh, presence = self._mesh(rgb_planes(crops), MESH_OUTPUTS)
                outputs = {"output_mesh_identity": mesh}
            points = np.empty((n, L.NUM_FACE_LANDMARKS, 3), dtype=np.float32)
            points[:, : L.NUM_MESH_LANDMARKS] = outputs["output_mesh_identity"].reshape(n, -1, 3)

            def branch(name: str) -> list[np.ndarray] | None:
                return [outputs[o] for o in BRANCH_OUTPUTS[name]] if BRANCH_OUTPUTS[name][0] in outputs else None

            lips = branch("lips")
            refine_landmarks(points, lips[0] if lips else None, branch("eyes"), branch("irises"))
            logits = np.clip(presence.reshape(n, -1)[:, 0].astype(np.float64), -100, 100)
            scores = 1.0 / (1.0 + np.exp(-logits))
            results: list[tuple[np.ndarray, float] | None] = []
            for k, roi in enumerate(rois):
                projected = roi.project(points[k], LANDMARK_SIZE)
                if scores[k] < self.options.min_tracking_confidence or not usable_points(projected):
                    results.append(None)
                else:
                    results.append((projected, float(scores[k])))
            return results

    def _set_refine(self, refine: Collection[str] | None) -> None:
        self._refine = frozenset(self.options.refinements) if refine is None else check_refinements(refine)

    def _attention(self, refine: frozenset[str]) -> tuple[Model, tuple[str, ...]]:
        """The attention model's session running the ``refine`` branches, and the outputs it gives."""
        names = ("output_mesh_identity", *(o for b in REFINEMENTS if b in refine for o in BRANCH_OUTPUTS[b]),
                 "conv_faceflag")
        if refine == frozenset(REFINEMENTS):
            return self._mesh, names
        model = self._pruned.get(refine)
        if model is None:  # built on first use (a fraction of a second), kept for the tracker's lifetime
            model = self._pruned[refine] = Model("face_landmark_with_attention", self.options.runtime,
                                                 outputs=names, nchw=True)
            self._models.append(model)
        return model, names

    def _make_face(self, points: np.ndarray, score: float, camera: PerspectiveCamera, track_id: int,
                   smoother: OneEuroFilter | None = None, t: float = 0.0) -> Face:
        if smoother is not None:
            with self._times.stage("smoothing"):
                iod = float(np.linalg.norm(points[L.RIGHT_EYE_OUTER, :2] - points[L.LEFT_EYE_OUTER, :2]))
                points = smoother(points, t, iod)
        with self._times.stage("pose"):
            pose = estimate_pose(points, camera) if self.options.estimate_pose else np.eye(4, dtype=np.float32)
        return Face(landmarks=points, score=score, bbox=bbox_of(points), pose=pose, track_id=track_id)

