"""FaceTracker: MediaPipe's face pipeline (BlazeFace, attention face mesh) re-created on ONNX Runtime.

Stages, as in MediaPipe's ``FaceLandmarkFrontCpu`` graph with ``refine_landmarks`` (FaceMesh's
``refine_landmarks=True``):

1. detection (still images, or when fewer faces are tracked than ``max_faces``): the frame letterboxed
   to 128x128, BlazeFace short-range, SSD decoding and weighted NMS; the ROI is the detection box rotated
   by the eye keypoints, squared and enlarged 1.5x;
2. landmarks: the ROI warped to 192x192 (one warp) and one run of the attention mesh model, which gives
   the 468 mesh points, refined lips and eyes, the 10 iris points 468-477 and the face-presence score;
   the refinements are merged as MediaPipe's ``LandmarksRefinementCalculator`` does and the points
   projected back; in video mode the next frame's ROI comes from these landmarks;
3. smoothing (video mode, One Euro) and the metric head pose.

Without ``refine_iris`` the plain mesh model runs instead (468 points; 468-477 are the eye-contour centres).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError
from arlens.image import as_bgr, rgb_tensor
from arlens.runtime import Model, RuntimeOptions
from arlens.tracking import detection as D
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.pose import estimate_pose
from arlens.tracking.results import Face, bbox_of, usable_points
from arlens.tracking.roi import Roi, associate, roi_from_points, rotation_from
from arlens.tracking.smoothing import OneEuroFilter, OneEuroOptions
from arlens.tracking.tracks import TrackerBase, build_options

logger = logging.getLogger(__name__)

LANDMARK_SIZE = 192
FACE_ROI_SCALE = 1.5
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


def refine_landmarks(points: np.ndarray, lips: np.ndarray, eyes: Sequence[np.ndarray],
                     irises: Sequence[np.ndarray]) -> None:
    """Merge the attention model's refinements into (N, 478, 3) tensor-space points, in place.

    Lips and eyes replace x and y of their mesh points (depth stays the mesh's); each iris gets the mean
    depth of its eye's eyelid contour, as MediaPipe's ``LandmarksRefinementCalculator`` is configured.
    """
    n = len(points)
    points[:, _LIPS, :2] = lips.reshape(n, -1, 2)
    for eye_points, first, eye, iris in zip(_EYES, (L.RIGHT_IRIS_CENTER, L.LEFT_IRIS_CENTER), eyes, irises,
                                            strict=True):
        points[:, eye_points, :2] = eye.reshape(n, -1, 2)
        points[:, first : first + 5, :2] = iris.reshape(n, -1, 2)
        points[:, first : first + 5, 2] = points[:, eye_points[:EYELID_POINTS], 2].mean(axis=1)[:, None]


@dataclass(frozen=True)
class FaceTrackerOptions:
    """Settings of a :class:`FaceTracker`, validated once when it is built.

    Attributes:
        max_faces: most faces to track (MediaPipe's ``max_num_faces``).
        min_detection_confidence: BlazeFace score threshold.
        min_tracking_confidence: face-presence score under which a track is dropped (and the
            detector runs again).
        refine_iris: run MediaPipe's attention mesh model (FaceMesh's ``refine_landmarks=True``): irises
            468-477 and refined lips and eyes from one model run; without it the plain mesh model, with
            points 468-477 at the eye-contour centres.
        smoothing: One Euro filter parameters for video mode (``OneEuroOptions(enabled=False)`` for none).
        fov_y_deg: vertical field of view of the camera the pose is expressed in.
        estimate_pose: fit ``Face.pose`` (identity when False).
        runtime: ONNX Runtime device, providers and threads.
    """

    max_faces: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    refine_iris: bool = True
    smoothing: OneEuroOptions = field(default_factory=OneEuroOptions)
    fov_y_deg: float = 63.0
    estimate_pose: bool = True
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self) -> None:
        if not isinstance(self.max_faces, int) or self.max_faces < 1:
            raise InputError(f"FaceTrackerOptions.max_faces: expected an int >= 1, got {self.max_faces!r}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"FaceTrackerOptions.{name}: expected a value in [0, 1], got {v!r}")
        if not 1.0 <= self.fov_y_deg <= 170.0:
            raise InputError(f"FaceTrackerOptions.fov_y_deg: expected a value in [1, 170], got {self.fov_y_deg!r}")


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
        self._detector_opts = replace(D.FACE_SHORT_RANGE, score_threshold=options.min_detection_confidence)
        self._anchors = D.ssd_anchors(self._detector_opts)
        self._detector = Model("face_detection_short_range", options.runtime)
        self._mesh = Model("face_landmark_with_attention" if options.refine_iris else "face_landmark",
                           options.runtime)
        super().__init__([self._detector, self._mesh], options.smoothing)

    # -- public API --------------------------------------------------------------------------------
    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a still image (no state carried between calls), best first.

        Raises:
            InputError: ``image`` is not a uint8 BGR/gray/BGRA image.
        """
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Iterable[np.ndarray]) -> list[list[Face]]:
        """Faces in each of several still images, with every model stage run once for the whole batch.

        The detector sees all images in one run and the mesh model all faces in one; the result for
        each image equals :meth:`detect` on it. This is the throughput path for previewing a catalog on
        many photos.

        Raises:
            InputError: ``images`` is not an iterable of images, or an image is not a uint8 BGR/gray/BGRA
                image (the message names its index).
        """
        self._start_call()
        if isinstance(images, np.ndarray) and images.ndim == 3:
            raise InputError("images: expected a sequence of images, got a single image (use detect())")
        if not isinstance(images, Iterable) or isinstance(images, str | bytes | dict):
            raise InputError(f"images: expected a sequence of images, got {type(images).__name__}")
        images = list(images)  # a generator is read once
        frames = [as_bgr(im, "image" if len(images) == 1 else f"images[{i}]") for i, im in enumerate(images)]
        rois = [[roi for roi, _ in associate(found, [])] for found in self._detect_rois(frames)]
        jobs = [(i, roi) for i, found in enumerate(rois) for roi in found]
        results = self._landmarks([frames[i] for i, _ in jobs], [roi for _, roi in jobs])
        out: list[list[Face]] = [[] for _ in frames]
        for (i, _), result in zip(jobs, results, strict=True):
            if result is None:
                continue
            points, score = result
            camera = PerspectiveCamera(frames[i].shape[1], frames[i].shape[0], self.options.fov_y_deg)
            out[i].append(self._make_face(points, score, camera, track_id=0))
        return out

    def track(self, frame: np.ndarray, timestamp_ms: int) -> list[Face]:
        """Faces in the next frame of a video stream, with ids stable across frames.

        Args:
            frame: uint8 BGR image.
            timestamp_ms: the frame's time in milliseconds; must increase from call to call.

        Raises:
            InputError: bad image, or a timestamp not greater than the previous one.
        """
        image = self._start_frame(frame, timestamp_ms)
        camera = PerspectiveCamera(image.shape[1], image.shape[0], self.options.fov_y_deg)
        # The detector runs only while fewer faces are tracked than wanted; the association step runs
        # every frame, so two tracks that drift onto one face collapse into one, as in MediaPipe.
        self._tracks.merge(self._detect_rois([image])[0] if len(self._tracks) < self.options.max_faces else [])
        results = self._landmarks([image] * len(self._tracks), self._tracks.rois())
        faces = []
        kept = []
        for tr, result in zip(self._tracks.items, results, strict=True):
            if result is None:
                continue
            points, score = result
            tr.roi = roi_from_points(points[: L.NUM_MESH_LANDMARKS], L.RIGHT_EYE_OUTER, L.LEFT_EYE_OUTER,
                                     FACE_ROI_SCALE)
            kept.append(tr)
            faces.append(self._make_face(points, score, camera, tr.track_id, tr.filter, timestamp_ms / 1000.0))
        self._tracks.items = kept
        return faces

    # -- stages ------------------------------------------------------------------------------------
    def _detect_rois(self, images: list[np.ndarray]) -> list[list[Roi]]:
        """Run BlazeFace once over all ``images``; per image, ROIs of the best ``max_faces`` detections."""
        if not images:
            return []
        with self._times.stage("detection"):
            opts = self._detector_opts
            boxed = [D.letterbox(image, opts.input_size, opts.input_range) for image in images]
            tensor = np.ascontiguousarray(np.concatenate([t for t, _ in boxed])[..., ::-1])  # BGR -> RGB, small
            boxes, logits = self._detector(tensor)
            out = []
            for k, (_, back) in enumerate(boxed):
                values, scores = D.decode(boxes[k], logits[k], self._anchors, opts)
                rois = []
                for merged, score in D.weighted_nms(values, scores, opts.nms_threshold, self.options.max_faces):
                    det = D.to_pixels(merged, score, back, opts.num_keypoints)
                    rot = rotation_from(det.keypoints[0], det.keypoints[1])
                    roi = Roi.from_box(det.box, rot)
                    rois.append(roi.transformed(FACE_ROI_SCALE, FACE_ROI_SCALE, square_long=True))
                out.append(rois)
            return out

    def _landmarks(self, images: list[np.ndarray], rois: list[Roi]) -> list[tuple[np.ndarray, float] | None]:
        """478 points in pixels and the presence score for the face in each (image, ROI), or None if absent.

        All crops go through the mesh model in one run.
        """
        if not rois:
            return []
        with self._times.stage("landmarks"):
            n = len(rois)
            crops = np.stack([roi.crop(image, LANDMARK_SIZE) for image, roi in zip(images, rois, strict=True)])
            outputs = self._mesh(rgb_tensor(crops), ATTENTION_OUTPUTS if self.options.refine_iris else MESH_OUTPUTS)
            points = np.empty((n, L.NUM_FACE_LANDMARKS, 3), dtype=np.float32)
            points[:, : L.NUM_MESH_LANDMARKS] = outputs[0].reshape(n, -1, 3)
            if self.options.refine_iris:
                lips, left_eye, right_eye, left_iris, right_iris = outputs[1:6]
                refine_landmarks(points, lips, (left_eye, right_eye), (left_iris, right_iris))
            else:
                for first, loop in ((L.RIGHT_IRIS_CENTER, L.right_eye()), (L.LEFT_IRIS_CENTER, L.left_eye())):
                    points[:, first : first + 5] = points[:, list(loop)].mean(axis=1, keepdims=True)
            logits = np.clip(outputs[-1].reshape(n, -1)[:, 0].astype(np.float64), -100, 100)
            scores = 1.0 / (1.0 + np.exp(-logits))
            results: list[tuple[np.ndarray, float] | None] = []
            for k, roi in enumerate(rois):
                projected = roi.project(points[k], LANDMARK_SIZE)
                if scores[k] < self.options.min_tracking_confidence or not usable_points(projected):
                    results.append(None)
                else:
                    results.append((projected, float(scores[k])))
            return results

    def _make_face(self, points: np.ndarray, score: float, camera: PerspectiveCamera, track_id: int,
                   smoother: OneEuroFilter | None = None, t: float = 0.0) -> Face:
        if smoother is not None:
            with self._times.stage("smoothing"):
                iod = float(np.linalg.norm(points[L.RIGHT_EYE_OUTER, :2] - points[L.LEFT_EYE_OUTER, :2]))
                points = smoother(points, t, iod)
        with self._times.stage("pose"):
            pose = estimate_pose(points, camera) if self.options.estimate_pose else np.eye(4, dtype=np.float32)
        return Face(landmarks=points, score=score, bbox=bbox_of(points), pose=pose, track_id=track_id)

