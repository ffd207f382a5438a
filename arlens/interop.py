"""MediaPipe interop: arlens results as the MediaPipe Tasks types a MediaPipe user's code consumes, and back.

arlens runs MediaPipe's own models, so its :class:`~arlens.Face` and :class:`~arlens.Hand` hold the very
landmarks MediaPipe's ``FaceLandmarker`` and ``HandLandmarker`` return, only in pixels and as numpy
arrays. An app that already has code written against the Tasks API (drawing, gesture rules, exporters)
can feed it arlens' results, and an app that runs MediaPipe itself can hand its results to arlens'
lenses::

    from arlens import interop

    result = interop.face_landmarker_result(faces, frame.shape)   # a mediapipe FaceLandmarkerResult
    my_mediapipe_code(result.face_landmarks[0])                   # list[NormalizedLandmark]
    annotated = interop.draw_landmarks(frame, faces, hands)       # MediaPipe's drawing_utils and styles

    faces = interop.faces_from_result(mp_result, frame.shape)     # back: arlens Faces, with head poses
    lens.render(frame, faces)

The conventions are MediaPipe's: ``x`` and ``y`` normalised by the image width and height, ``z`` by the
width; ``Face.pose`` is MediaPipe's facial transformation matrix (canonical face in centimetres to a
camera looking down -z with a 63 degree vertical field of view); a hand's handedness is a ``Category``
with index 0 ``"Left"`` and 1 ``"Right"`` (MediaPipe's label map). arlens does not estimate metric hand
landmarks, so ``hand_world_landmarks`` holds an empty list per hand.

The ``mediapipe`` package (a dependency of arlens for exactly these types, its landmark connection
tables and its drawing helpers) is imported on first use: ``import arlens`` stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from arlens.errors import InputError
from arlens.tracking.results import Face, Hand, as_hands, bbox_of

__all__ = [
    "HANDEDNESS_INDEX",
    "draw_landmarks",
    "face_landmarker_result",
    "faces_from_result",
    "hand_landmarker_result",
    "hands_from_result",
    "normalized_landmarks",
    "points_from_landmarks",
]

#: MediaPipe's handedness label map: the ``Category.index`` of each label.
HANDEDNESS_INDEX = {"Left": 0, "Right": 1}


def _size(image_shape: Sequence[int]) -> tuple[int, int]:
    """(width, height) from an image's ``shape`` (H, W[, C])."""
    try:
        h, w = int(image_shape[0]), int(image_shape[1])
    except (TypeError, ValueError, IndexError):
        raise InputError(f"image_shape: expected an image's shape (H, W[, C]), got {image_shape!r}") from None
    if h <= 0 or w <= 0:
        raise InputError(f"image_shape: expected a positive height and width, got {h}x{w}")
    return w, h


def normalized_landmarks(points: np.ndarray, image_shape: Sequence[int]) -> list[Any]:
    """(N, 3) pixel landmarks (an arlens ``Face.landmarks`` or ``Hand.landmarks``) as MediaPipe ``NormalizedLandmark``.

    x / width, y / height, z / width: what MediaPipe returns for the same image.
    """
    from mediapipe.tasks.python.components.containers.landmark import NormalizedLandmark

    w, h = _size(image_shape)
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise InputError(f"points: expected (N, 3) pixel landmarks, got shape {p.shape}")
    scaled = p / np.array([w, h, w], dtype=np.float64)
    return [NormalizedLandmark(x=float(x), y=float(y), z=float(z)) for x, y, z in scaled]


def points_from_landmarks(landmarks: Iterable[Any], image_shape: Sequence[int]) -> np.ndarray:
    """MediaPipe (normalised) landmarks as float32 (N, 3) pixels, arlens' convention (the inverse of the above)."""
    w, h = _size(image_shape)
    try:
        xyz = np.array([[lm.x, lm.y, lm.z if lm.z is not None else 0.0] for lm in landmarks], dtype=np.float64)
    except (AttributeError, TypeError, ValueError):
        raise InputError("landmarks: expected MediaPipe landmarks with x, y and z") from None
    if xyz.size == 0:
        raise InputError("landmarks: expected at least one landmark, got none")
    return (xyz * np.array([w, h, w], dtype=np.float64)).astype(np.float32)


def face_landmarker_result(faces: Iterable[Face], image_shape: Sequence[int]) -> Any:
    """arlens faces as a MediaPipe ``FaceLandmarkerResult``.

    ``face_landmarks`` holds the 478 landmarks of each face, ``facial_transformation_matrixes`` each
    face's ``pose`` (float32 4x4) and ``face_blendshapes`` is empty (arlens computes none).
    """
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarkerResult

    faces = list(faces)
    for i, face in enumerate(faces):
        if not isinstance(face, Face):
            raise InputError(f"faces[{i}]: expected an arlens Face, got {type(face).__name__}")
    return FaceLandmarkerResult(
        face_landmarks=[normalized_landmarks(f.landmarks, image_shape) for f in faces],
        face_blendshapes=[],
        facial_transformation_matrixes=[np.array(f.pose, dtype=np.float32) for f in faces],
    )


def hand_landmarker_result(hands: Iterable[Hand], image_shape: Sequence[int]) -> Any:
    """arlens hands as a MediaPipe ``HandLandmarkerResult`` (handedness, landmarks; no world landmarks)."""
    from mediapipe.tasks.python.components.containers.category import Category
    from mediapipe.tasks.python.vision.hand_landmarker import HandLandmarkerResult

    hands = as_hands(hands)
    return HandLandmarkerResult(
        handedness=[
            [Category(index=HANDEDNESS_INDEX[h.handedness], score=h.handedness_score, display_name=h.handedness,
                      category_name=h.handedness)]
            for h in hands
        ],
        hand_landmarks=[normalized_landmarks(h.landmarks, image_shape) for h in hands],
        hand_world_landmarks=[[] for _ in hands],
    )


def faces_from_result(result: Any, image_shape: Sequence[int], *, fov_y_deg: float = 63.0) -> list[Face]:
    """The faces of a MediaPipe ``FaceLandmarkerResult`` as arlens :class:`~arlens.Face` values, for the lenses.

    Each needs MediaPipe's 478 landmarks (``FaceLandmarker`` returns them). The pose is the result's facial
    transformation matrix when it has one (``output_facial_transformation_matrixes=True``), else it is fitted
    from the landmarks with a camera of ``fov_y_deg`` (what :class:`~arlens.FaceTracker` does).

    Raises:
        InputError: not a face landmarker result, or a face without 478 landmarks.
    """
    from arlens.tracking.camera import PerspectiveCamera
    from arlens.tracking.pose import estimate_pose

    all_landmarks = getattr(result, "face_landmarks", None)
    if all_landmarks is None:
        raise InputError(f"result: expected a MediaPipe FaceLandmarkerResult, got {type(result).__name__}")
    matrices = list(getattr(result, "facial_transformation_matrixes", None) or [])
    w, h = _size(image_shape)
    camera = None
    faces = []
    for i, landmarks in enumerate(all_landmarks):
        points = points_from_landmarks(landmarks, image_shape)
        if points.shape[0] != 478:
            raise InputError(f"result.face_landmarks[{i}]: expected 478 landmarks (mesh and irises), "
                             f"got {points.shape[0]}")
        if i < len(matrices):
            pose = np.asarray(matrices[i], dtype=np.float32).reshape(4, 4)
        else:
            camera = camera or PerspectiveCamera(w, h, fov_y_deg)
            pose = estimate_pose(points, camera)
        faces.append(Face(landmarks=points, score=1.0, bbox=bbox_of(points), pose=pose))
    return faces


def hands_from_result(result: Any, image_shape: Sequence[int]) -> list[Hand]:
    """The hands of a MediaPipe ``HandLandmarkerResult`` (or ``GestureRecognizerResult``) as arlens hands.

    Raises:
        InputError: not a hand landmarker result, or a hand without 21 landmarks or a handedness label.
    """
    all_landmarks = getattr(result, "hand_landmarks", None)
    if all_landmarks is None:
        raise InputError(f"result: expected a MediaPipe HandLandmarkerResult, got {type(result).__name__}")
    handedness = list(getattr(result, "handedness", None) or [])
    hands = []
    for i, landmarks in enumerate(all_landmarks):
        points = points_from_landmarks(landmarks, image_shape)
        if points.shape[0] != 21:
            raise InputError(f"result.hand_landmarks[{i}]: expected 21 landmarks, got {points.shape[0]}")
        if i >= len(handedness) or not handedness[i]:
            raise InputError(f"result.handedness[{i}]: expected a 'Left' or 'Right' category, got none")
        best = handedness[i][0]
        label = best.category_name or best.display_name
        if label not in HANDEDNESS_INDEX:
            raise InputError(f"result.handedness[{i}]: expected 'Left' or 'Right', got {label!r}")
        score = float(best.score) if best.score is not None else 1.0
        hands.append(Hand(landmarks=points, handedness=label, score=1.0, bbox=bbox_of(points),
                          handedness_score=score))
    return hands


def draw_landmarks(image: np.ndarray, faces: Iterable[Face] = (), hands: Iterable[Hand] = ()) -> np.ndarray:
    """A copy of ``image`` with faces (tesselation, contours, irises) and hands drawn by MediaPipe's own
    ``drawing_utils`` in its default styles: the picture a MediaPipe user knows, for checking tracking.

    Args:
        image: a frame in any form :func:`arlens.image.as_bgr` accepts.
        faces, hands: arlens results for that frame.

    Returns:
        uint8 BGR (H, W, 3), a new array.
    """
    from mediapipe.tasks.python.vision import drawing_styles, drawing_utils
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections
    from mediapipe.tasks.python.vision.hand_landmarker import HandLandmarksConnections

    from arlens.image import as_bgr

    frame = as_bgr(image, "image")
    out = frame.copy() if frame is image else frame
    shape = out.shape
    conn = FaceLandmarksConnections
    iris = drawing_styles.get_default_face_mesh_iris_connections_style()
    face_styles = (
        (conn.FACE_LANDMARKS_TESSELATION, drawing_styles.get_default_face_mesh_tesselation_style()),
        (conn.FACE_LANDMARKS_CONTOURS, drawing_styles.get_default_face_mesh_contours_style()),
        (conn.FACE_LANDMARKS_LEFT_IRIS, iris),
        (conn.FACE_LANDMARKS_RIGHT_IRIS, iris),
    )
    for i, face in enumerate(faces):
        if not isinstance(face, Face):
            raise InputError(f"faces[{i}]: expected an arlens Face, got {type(face).__name__}")
        landmarks = normalized_landmarks(face.landmarks, shape)
        for connections, style in face_styles:
            drawing_utils.draw_landmarks(out, landmarks, connections, landmark_drawing_spec=None,
                                         connection_drawing_spec=style)
    for hand in as_hands(hands):
        drawing_utils.draw_landmarks(
            out, normalized_landmarks(hand.landmarks, shape), HandLandmarksConnections.HAND_CONNECTIONS,
            drawing_styles.get_default_hand_landmarks_style(), drawing_styles.get_default_hand_connections_style(),
        )
    return out
