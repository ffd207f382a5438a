"""When a video frame's landmark crop cannot be trusted, and which crop to use instead.

MediaPipe's FaceMesh graph crops each video frame around the previous frame's landmarks and trusts
whatever the mesh model finds there. :class:`~arlens.tracking.face.FaceTracker` checks every crop
against what was found in it, in the same frame, and runs the mesh model a second time (all faces
that need it in one batched run) when:

- **the crop was stale**: the box of the landmarks found in it is far from it (its centre moved more
  than :data:`MAX_SHIFT` of the crop's side, its size changed more than :data:`MAX_SCALE` times, or it
  turned more than :data:`MAX_TURN_DEG` in the image plane). The second pass uses the crop recomputed
  from the first pass's landmarks, the crop MediaPipe would only use in the next frame. A detection's
  crop is checked the same way (a detector near the end of its range gives an off-centre box: at
  100 px inter-ocular distance in 1280x720, landmarks up to 9% of it off), except a turned head's.
- **the head is turned** beyond ``redetect_turned_deg`` (yaw from the landmarks' own depth, see
  :func:`yaw_deg`). There the crop MediaPipe computes from landmarks is itself a poor one: measured on
  ``talking_head.gif`` (frames 31-61, 35-55 degrees of yaw, head tipped), the mesh finds the lips a
  median 10% of the inter-ocular distance (up to 20%) away from where it finds them in the crop of a
  fresh detection, and drawn on the frames the detection's crop is the one that fits the lips. Staleness
  is not the cause there (the recomputed crop moves less than 4% between frames, and a second pass on
  it changes the lips by as much in either direction). So for a turned head the crop comes from the
  face detector, run on the whole frame, as long as the head stays turned.
- **the face was lost** (presence score under ``min_tracking_confidence``): the detector runs on the
  same frame and the face is picked up again at once, keeping its track id, instead of one frame later.
"""

from __future__ import annotations

import math

import numpy as np

from arlens import landmarks as L
from arlens.tracking.roi import Roi, normalize_radians, roi_from_points, roi_iou

#: MediaPipe's landmarks-to-ROI enlargement of the face mesh's box.
FACE_ROI_SCALE = 1.5
#: A crop is stale when the landmarks found in it give a crop whose centre is this far away (fraction of
#: the crop's side), ...
MAX_SHIFT = 0.10
#: ... whose size differs by more than this factor, ...
MAX_SCALE = 1.15
#: ... or whose in-plane rotation differs by more than this (degrees). On the talking-head clip the
#: largest values between consecutive ordinary frames are 0.05, 1.08 and 8 degrees.
MAX_TURN_DEG = 15.0
#: A detection is the same face as a crop when their boxes overlap by more than this IoU.
SAME_FACE_IOU = 0.3


def mesh_roi(points: np.ndarray) -> Roi:
    """MediaPipe's crop for the next frame from (>=468, 2+) landmarks: their box, rotated by the outer eye
    corners, squared and enlarged 1.5x (``face_landmarks_to_roi.pbtxt``)."""
    return roi_from_points(points[: L.NUM_MESH_LANDMARKS], L.RIGHT_EYE_OUTER, L.LEFT_EYE_OUTER, FACE_ROI_SCALE)


def is_stale(crop: Roi, found: Roi) -> bool:
    """Whether ``found`` (the crop recomputed from the landmarks found in ``crop``) is far from ``crop``."""
    shift = math.hypot(found.cx - crop.cx, found.cy - crop.cy) / max(crop.width, 1e-6)
    scale = max(found.width, 1e-6) / max(crop.width, 1e-6)
    turn = abs(normalize_radians(found.rotation - crop.rotation))
    return shift > MAX_SHIFT or not 1 / MAX_SCALE <= scale <= MAX_SCALE or turn > math.radians(MAX_TURN_DEG)


def yaw_deg(points: np.ndarray) -> float:
    """How far the head is turned left or right (degrees, 0 frontal), from the landmarks alone.

    The angle between the line through the outer eye corners (33 -> 263, x, y and the mesh's depth z,
    all in pixels) and the image plane. Within 1-8 degrees of the fitted head pose's yaw on the
    talking-head clip, and available without the pose.
    """
    v = np.asarray(points[L.LEFT_EYE_OUTER], dtype=np.float64) - np.asarray(points[L.RIGHT_EYE_OUTER], np.float64)
    return math.degrees(math.atan2(abs(v[2]), math.hypot(v[0], v[1])))


def best_match(crop: Roi, candidates: list[Roi], taken: set[int]) -> int | None:
    """Index of the candidate (not in ``taken``) that overlaps ``crop`` most, if by more than SAME_FACE_IOU."""
    best, best_iou = None, SAME_FACE_IOU
    for k, roi in enumerate(candidates):
        if k in taken:
            continue
        iou = roi_iou(crop, roi)
        if iou > best_iou:
            best, best_iou = k, iou
    return best


def nearest(crop: Roi, candidates: list[Roi], taken: set[int]) -> int | None:
    """Index of the candidate (not in ``taken``) whose centre is nearest ``crop``'s, if within its side."""
    best, best_d = None, crop.width
    for k, roi in enumerate(candidates):
        d = math.hypot(roi.cx - crop.cx, roi.cy - crop.cy)
        if k not in taken and d < best_d:
            best, best_d = k, d
    return best
