"""Harder scenes made from clean test photos, with known ground truth (for benchmarks, tests and demos).

- :func:`cutout`: the hand photos in the shared test data are shot on black; thresholding the
  brightness gives the hand's matte, so a hand can be pasted anywhere and where it is stays known.
- :func:`hand_over_mouth`: a hand (its photo, matte and landmarks) pasted over a face's mouth by a
  similarity transform sized from the face (a hand is about 1.5 interpupillary distances from wrist to
  knuckles), covering a chosen share of the lips; the pasted hand's matte is the truth.
- :func:`apply_light`: a photo under other light: per-channel gains applied in linear light
  (``LIGHTS``: dim, warm and cool).
- :func:`hand_sweep`: a clip of a hand moving across the mouth.
- :func:`hand_on_background`: a hand pasted on another background, for nail polish that must stay on
  the fingers.
- Scores: :func:`paint_on`, :func:`painted`, :func:`light_consistency`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.landmarks import HandLandmark as H
from arlens.render.color import SRGB_TO_LINEAR_LUT, bgr_to_lab
from arlens.tracking.results import Face, Hand, bbox_of

#: Per-channel linear gains (B, G, R) of the test lights.
LIGHTS: dict[str, tuple[float, float, float]] = {
    "dim": (0.35, 0.35, 0.35),
    "warm": (0.55, 0.78, 1.0),
    "cool": (1.0, 0.86, 0.68),
}
#: A pixel counts as painted when a channel moved by more than this many levels.
PAINT_LEVELS = 2
#: Hand size (wrist to middle knuckle) in interpupillary distances.
HAND_PER_IPD = 1.45


def apply_light(image: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """``image`` (uint8 BGR) under per-channel linear ``gains`` (B, G, R), re-encoded to sRGB uint8."""
    lin = SRGB_TO_LINEAR_LUT[image] * np.asarray(gains, dtype=np.float32)
    lin = np.clip(lin, 0.0, 1.0)
    enc = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(enc * 255.0), 0, 255).astype(np.uint8)


def cutout(image: np.ndarray, threshold: int = 45, erode: int = 2) -> np.ndarray:
    """The matte (float32 0..1) of the hand in a photo on a black background: its largest bright blob,
    holes filled, ``erode`` pixels of its dark rim (the hand's edge in shadow) taken off, the edge
    softened by a pixel."""
    bright = (image.max(axis=2) > threshold).astype(np.uint8)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright)
    if n <= 1:
        return np.zeros(image.shape[:2], np.float32)
    keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    blob = (labels == keep).astype(np.uint8)
    # fill holes: what the outside flood fill does not reach
    flood = blob.copy()
    pad = np.zeros((blob.shape[0] + 2, blob.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, pad, (0, 0), 2)
    blob[flood == 0] = 1
    if erode > 0:
        blob = cv2.erode(blob, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    return cv2.GaussianBlur(blob.astype(np.float32), (0, 0), 0.7)


@dataclass(frozen=True)
class Composite:
    """A pasted hand: the new frame, where the hand is (the truth) and its landmarks moved along."""

    image: np.ndarray
    truth: np.ndarray  # float32 (H, W) hand coverage
    hand: Hand  # the hand photo's reference landmarks carried by the paste


def _similarity(angle_deg: float, scale: float, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix rotating by ``angle_deg`` (counter-clockwise on screen), scaling, and taking ``src`` to ``dst``."""
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    m = np.array([[c, s, 0.0], [-s, c, 0.0]])
    m[:, 2] = dst - m[:, :2] @ src
    return m


def paste(background: np.ndarray, fg: np.ndarray, matte: np.ndarray, hand: Hand, m: np.ndarray) -> Composite:
    """Paste ``fg`` with ``matte`` over ``background`` through the 2x3 affine ``m``."""
    h, w = background.shape[:2]
    warped = cv2.warpAffine(fg, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha = cv2.warpAffine(matte, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    out = warped.astype(np.float32) * alpha[..., None] + background.astype(np.float32) * (1 - alpha[..., None])
    lm = np.asarray(hand.landmarks, dtype=np.float64).copy()
    lm[:, :2] = lm[:, :2] @ m[:, :2].T + m[:, 2]
    lm[:, 2] *= math.hypot(m[0, 0], m[0, 1])
    moved = Hand(lm.astype(np.float32), hand.handedness, hand.score, bbox_of(lm), hand.handedness_score)
    return Composite(np.clip(np.rint(out), 0, 255).astype(np.uint8), alpha, moved)


def lip_zone(shape: tuple[int, ...], face: Face, grow: float = 2.0) -> np.ndarray:
    """bool (H, W): the landmark lip outline (outer contour, mouth opening included) grown by ``grow`` px."""
    zone = np.zeros(shape[:2], np.uint8)
    pts = face.landmarks[list(L.lips_outer()), :2] - 0.5
    cv2.fillPoly(zone, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    if grow > 0:
        k = 2 * math.ceil(grow) + 1
        zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return zone > 0


def _ipd(face: Face) -> float:
    lm = face.landmarks
    return float(np.linalg.norm(lm[L.RIGHT_IRIS_CENTER, :2] - lm[L.LEFT_IRIS_CENTER, :2]))


def hand_over_mouth(
    image: np.ndarray,
    face: Face,
    hand_image: np.ndarray,
    hand: Hand,
    *,
    cover: float = 0.5,
    angle_deg: float = 90.0,
    side: float = 1.0,
    matte: np.ndarray | None = None,
) -> Composite:
    """A hand pasted over the mouth so that it covers ``cover`` of the lips' landmark area.

    The hand is turned so that its wrist -> middle-knuckle direction points ``angle_deg`` counter-clockwise
    from the image's +x axis (90: fingers up; 180: fingers pointing left), sized from the face, and slid
    along that direction (coming from ``side`` = +1, the far end of it, or -1) until it covers ``cover``
    of the lips (bisection on the pasted matte).
    """
    matte = cutout(hand_image) if matte is None else matte
    lm = np.asarray(hand.landmarks, dtype=np.float64)
    axis = lm[H.MIDDLE_FINGER_MCP, :2] - lm[H.WRIST, :2]
    current = math.degrees(math.atan2(-axis[1], axis[0]))
    scale = HAND_PER_IPD * _ipd(face) / float(np.linalg.norm(axis))
    zone = lip_zone(image.shape, face, grow=0.0)
    mouth = face.landmarks[list(L.lips_outer()), :2].mean(axis=0).astype(np.float64)
    direction = np.array([math.cos(math.radians(angle_deg)), -math.sin(math.radians(angle_deg))])
    anchor = lm[H.MIDDLE_FINGER_PIP, :2]

    def at(t: float) -> np.ndarray:
        return _similarity(angle_deg - current, scale, anchor, mouth + side * t * direction)

    def covered(t: float) -> float:
        alpha = cv2.warpAffine(matte, at(t), image.shape[1::-1], flags=cv2.INTER_LINEAR)
        return float((alpha[zone] > 0.5).mean())

    # the fingertips pass the mouth first: t from far (hand beyond, nothing covered) to the centre
    far = 3.0 * float(np.linalg.norm(axis)) * scale
    lo, hi = 0.0, far  # covered(lo) is large, covered(hi) ~ 0
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        if covered(mid) > cover:
            lo = mid
        else:
            hi = mid
    return paste(image, hand_image, matte, hand, at(0.5 * (lo + hi)))


def hand_sweep(
    image: np.ndarray, face: Face, hand_image: np.ndarray, hand: Hand, frames: int = 24, angle_deg: float = 90.0
) -> list[Composite]:
    """A clip: the hand (fingers along ``angle_deg``) crossing the mouth sideways, from one cheek to the other."""
    matte = cutout(hand_image)
    lm = np.asarray(hand.landmarks, dtype=np.float64)
    axis = lm[H.MIDDLE_FINGER_MCP, :2] - lm[H.WRIST, :2]
    current = math.degrees(math.atan2(-axis[1], axis[0]))
    scale = HAND_PER_IPD * _ipd(face) / float(np.linalg.norm(axis))
    mouth = face.landmarks[list(L.lips_outer()), :2].mean(axis=0).astype(np.float64)
    across = np.array([math.cos(math.radians(angle_deg - 90)), -math.sin(math.radians(angle_deg - 90))])
    span = 1.6 * _ipd(face)
    anchor = lm[H.MIDDLE_FINGER_PIP, :2]
    out = []
    for i in range(frames):
        t = -span + 2 * span * i / max(1, frames - 1)
        out.append(paste(image, hand_image, matte, hand, _similarity(angle_deg - current, scale, anchor,
                                                                      mouth + t * across)))
    return out


def hand_on_background(
    hand_image: np.ndarray, hand: Hand, background: np.ndarray, scale: float = 0.6, angle_deg: float = 0.0
) -> Composite:
    """The hand cut out of its black background and pasted, scaled and turned, at the centre of ``background``."""
    matte = cutout(hand_image)
    h, w = hand_image.shape[:2]
    bh, bw = background.shape[:2]
    m = _similarity(angle_deg, scale, np.array([w / 2, h / 2]), np.array([bw / 2, bh / 2]))
    return paste(background, hand_image, matte, hand, m)


def painted(before: np.ndarray, after: np.ndarray, levels: int = PAINT_LEVELS) -> np.ndarray:
    """bool (H, W): pixels a lens changed by more than ``levels`` in some channel."""
    return (np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > levels)


def paint_on(before: np.ndarray, after: np.ndarray, truth: np.ndarray, zone: np.ndarray | None = None) -> float:
    """Share of the truth's pixels (coverage > 0.5, inside ``zone`` when given) that were painted."""
    target = truth > 0.5
    if zone is not None:
        target &= zone
    n = int(target.sum())
    return float((painted(before, after) & target).sum() / n) if n else 0.0


def light_consistency(
    image: np.ndarray, render, gains: tuple[float, float, float]
) -> tuple[float, int]:
    """Median ΔE76 between ``render(light · image)`` and ``light · render(image)`` over the painted pixels.

    ``render(frame) -> frame`` draws the lens (tracking, if any, included). Returns (median ΔE76, pixels).
    """
    lit = apply_light(image, gains)
    a = render(lit)
    b = apply_light(render(image), gains)
    mask = painted(lit, a) | painted(lit, b)
    if not mask.any():
        return 0.0, 0
    de = np.linalg.norm(bgr_to_lab(a[mask]) - bgr_to_lab(b[mask]), axis=1)
    return float(np.median(de)), int(mask.sum())
