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


#: Objects pasted over a mouth by :func:`object_over_mouth`: (shape, BGR colour, texture). Shapes: ``cup``
#: (a mug's body and rim rising from below the chin), ``mic`` (a microphone's round head on its shaft,
#: from below), ``straw``... textures: ``flat`` (shaded only), ``noise`` (a printed pattern), ``mesh`` (a
#: microphone grille's grid).
OBJECTS: dict[str, tuple[str, tuple[int, int, int], str]] = {
    "white_cup": ("cup", (235, 238, 240), "flat"),
    "blue_cup": ("cup", (170, 90, 40), "noise"),
    "black_mic": ("mic", (45, 45, 48), "mesh"),
    "green_cup": ("cup", (70, 150, 60), "flat"),
    "beige_cup": ("cup", (150, 175, 215), "flat"),
    "red_cup": ("cup", (40, 40, 190), "flat"),
}


def _object_matte(
    kind: str, shape: tuple[int, int], centre: np.ndarray, size: float, angle_deg: float, s: int = 8
) -> np.ndarray:
    """float32 (H, W) coverage of an object of ``kind`` whose top edge's centre is at ``centre`` (pixels),
    ``size`` pixels wide, tilted by ``angle_deg``; drawn ``s`` x supersampled and averaged (anti-aliased)."""
    h, w = shape
    big = np.zeros((h * s, w * s), np.uint8)
    c = np.asarray(centre, dtype=np.float64) * s
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    def poly(points: np.ndarray) -> np.ndarray:
        return np.round((points * size * s) @ rot.T + c).astype(np.int32)

    if kind == "cup":
        # a mug's body (wider than tall, its top edge an ellipse: the rim seen from a little above)
        body = np.array([[-0.5, 0.0], [0.5, 0.0], [0.46, 1.6], [-0.46, 1.6]])
        cv2.fillPoly(big, [poly(body)], 1, cv2.LINE_8)
        t = np.linspace(0, 2 * math.pi, 64, endpoint=False)
        rim = np.stack([0.5 * np.cos(t), 0.09 * np.sin(t)], axis=1)
        cv2.fillPoly(big, [poly(rim)], 1, cv2.LINE_8)
    elif kind == "mic":
        t = np.linspace(0, 2 * math.pi, 64, endpoint=False)
        head = np.stack([0.5 * np.cos(t), 0.5 + 0.55 * np.sin(t)], axis=1)
        cv2.fillPoly(big, [poly(head)], 1, cv2.LINE_8)
        shaft = np.array([[-0.16, 0.9], [0.16, 0.9], [0.2, 2.6], [-0.2, 2.6]])
        cv2.fillPoly(big, [poly(shaft)], 1, cv2.LINE_8)
    else:
        raise ValueError(f"kind: expected cup or mic, got {kind!r}")
    return cv2.resize(big.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def object_over_mouth(
    image: np.ndarray, face: Face, name: str, *, cover: float = 0.5, angle_deg: float = 0.0, seed: int = 0
) -> Composite:
    """An object of :data:`OBJECTS` pasted over the mouth from below so that it covers ``cover`` of the
    lips' landmark area: a Composite whose ``truth`` is the object's coverage (its ``hand`` is None).

    The object is as wide as 1.3 mouths, shaded (lit from above, darker toward its sides, as a cylinder),
    and textured as :data:`OBJECTS` says; its top edge rises from below the chin (bisection on the cover).
    """
    kind, colour, texture = OBJECTS[name]
    h, w = image.shape[:2]
    lips = face.landmarks[list(L.lips_outer()), :2].astype(np.float64)
    width = float(np.ptp(lips[:, 0]))
    size = 1.3 * width
    zone = lip_zone(image.shape, face, grow=0.0)
    mouth = lips.mean(axis=0)
    down = np.array([-math.sin(math.radians(angle_deg)), math.cos(math.radians(angle_deg))])

    def matte_at(t: float, s: int = 8) -> np.ndarray:
        return _object_matte(kind, (h, w), mouth + t * down, size, angle_deg, s)

    lo, hi = -0.6 * width, 1.5 * width  # covered(lo) ~ all, covered(hi) ~ none
    for _ in range(14):  # to a hundredth of a pixel on a 100 px mouth; the search needs no anti-aliasing
        mid = 0.5 * (lo + hi)
        if float((matte_at(mid, 1)[zone] > 0.5).mean()) > cover:
            lo = mid
        else:
            hi = mid
    alpha = matte_at(0.5 * (lo + hi))
    # the object's look: its colour, shaded as a cylinder across it and a little darker downward
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    top = mouth + 0.5 * (lo + hi) * down
    across = ((xs - top[0]) * math.cos(math.radians(angle_deg)) + (ys - top[1]) * math.sin(math.radians(angle_deg)))
    along = -(xs - top[0]) * math.sin(math.radians(angle_deg)) + (ys - top[1]) * math.cos(math.radians(angle_deg))
    u = np.clip(across / (0.5 * size), -1, 1)
    shade = (0.55 + 0.45 * np.sqrt(np.clip(1 - u * u, 0, 1))) * (1.0 - 0.15 * np.clip(along / (2 * size), 0, 1))
    look = np.asarray(colour, dtype=np.float64)[None, None, :] * shade[..., None]
    rng = np.random.default_rng(seed)
    if texture == "noise":  # a printed pattern: blotches of a second tone
        blot = cv2.GaussianBlur(rng.normal(size=(h, w)), (0, 0), max(1.0, 0.04 * width))
        blot = blot / (blot.std() + 1e-9)
        look = look * (1.0 + 0.25 * np.clip(blot, -2, 2))[..., None]
    elif texture == "mesh":  # a grille: a fine grid of dark and light lines
        period = max(3.0, 0.05 * width)
        grid = 0.5 + 0.5 * np.cos(2 * math.pi * across / period) * np.cos(2 * math.pi * along / period)
        look = look * (0.75 + 0.5 * grid)[..., None]
    look += rng.normal(scale=2.0, size=look.shape)  # sensor noise
    out = look * alpha[..., None] + image.astype(np.float64) * (1 - alpha[..., None])
    return Composite(np.clip(np.rint(out), 0, 255).astype(np.uint8), alpha.astype(np.float32), None)  # type: ignore[arg-type]


def deep_skin(image: np.ndarray, face: Face, gains: tuple[float, float, float] = (0.05, 0.065, 0.11)) -> np.ndarray:
    """The portrait with its face and neck as a deep skin tone: inside the face's outline grown downward
    (soft-edged), linear light scaled by ``gains`` (B, G, R: darker and warmer), the lips with it (deep
    skin's lips are deep too), the background and clothes as they were. For looking at makeup on a deep
    skin tone when no such photo may be used; not a model of any real skin."""
    h, w = image.shape[:2]
    oval = face.landmarks[list(L.face_oval()), :2].astype(np.float64)
    centre = oval.mean(axis=0)
    grown = centre + (oval - centre) * 1.05
    mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(mask, [np.round(grown * 4).astype(np.int32)], 1.0, cv2.LINE_AA, 2)
    # the neck: the lower half of the outline carried down by half a face height
    below = grown[grown[:, 1] > centre[1]]
    height = float(np.ptp(oval[:, 1]))
    neck = np.vstack([below, below[::-1] + [0.0, 0.5 * height]])
    hull = cv2.convexHull(np.round(neck * 4).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0, cv2.LINE_AA, 2)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.02 * height))[..., None]
    lin = SRGB_TO_LINEAR_LUT[image]
    dark = lin * np.asarray(gains, dtype=np.float32)
    mixed = lin * (1 - mask) + dark * mask
    enc = np.where(mixed <= 0.0031308, mixed * 12.92, 1.055 * np.clip(mixed, 0, 1) ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(enc * 255.0), 0, 255).astype(np.uint8)
