"""Named landmark groups in MediaPipe's index order, built from the mediapipe package's tables.

Renderers ask for groups by name (``lips_outer()``, ``HandLandmark.INDEX_FINGER_TIP``) instead of bare
index numbers. The face groups are derived from ``FaceLandmarksConnections`` (an edge list) by chaining
the edges into ordered loops; importing mediapipe's tables takes about a second, so they are loaded on
first use and cached.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import cache

import numpy as np

NUM_FACE_LANDMARKS = 478
NUM_MESH_LANDMARKS = 468
NUM_HAND_LANDMARKS = 21

#: Iris centres, as MediaPipe numbers them (468 is the subject's right eye, on the image's left).
RIGHT_IRIS_CENTER = 468
LEFT_IRIS_CENTER = 473
#: Outer eye corners used for the inter-ocular distance.
RIGHT_EYE_OUTER = 33
LEFT_EYE_OUTER = 263
#: Inner eye corners (by the nose).
RIGHT_EYE_INNER = 133
LEFT_EYE_INNER = 362
#: Nose bridge between the eyes, where eyewear rests.
NOSE_BRIDGE = 168
#: On the nose's ridge below the bridge, at the eyes' height.
NOSE_RIDGE = 6


class HandLandmark(enum.IntEnum):
    """The 21 hand landmarks, as in MediaPipe's ``HandLandmark``."""

    WRIST = 0
    THUMB_CMC = 1
    THUMB_MCP = 2
    THUMB_IP = 3
    THUMB_TIP = 4
    INDEX_FINGER_MCP = 5
    INDEX_FINGER_PIP = 6
    INDEX_FINGER_DIP = 7
    INDEX_FINGER_TIP = 8
    MIDDLE_FINGER_MCP = 9
    MIDDLE_FINGER_PIP = 10
    MIDDLE_FINGER_DIP = 11
    MIDDLE_FINGER_TIP = 12
    RING_FINGER_MCP = 13
    RING_FINGER_PIP = 14
    RING_FINGER_DIP = 15
    RING_FINGER_TIP = 16
    PINKY_MCP = 17
    PINKY_PIP = 18
    PINKY_DIP = 19
    PINKY_TIP = 20


@cache
def _face_connections():
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections

    return FaceLandmarksConnections


@cache
def _hand_connections():
    from mediapipe.tasks.python.vision.hand_landmarker import HandLandmarksConnections

    return HandLandmarksConnections


def _edges(connections: Iterable) -> list[tuple[int, int]]:
    return [(int(c.start), int(c.end)) for c in connections]


def _loops(edges: list[tuple[int, int]]) -> list[tuple[int, ...]]:
    """Chain an undirected edge list whose vertices all have degree 2 into closed ordered loops."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen: set[int] = set()
    loops = []
    for start in neighbours:  # dict order follows the table, so the result is deterministic
        if start in seen:
            continue
        loop = [start]
        seen.add(start)
        prev, cur = None, start
        while True:
            nxt = [n for n in neighbours[cur] if n != prev and (n not in seen or n == start)]
            if not nxt or nxt[0] == start:
                break
            prev, cur = cur, nxt[0]
            loop.append(cur)
            seen.add(cur)
        loops.append(tuple(loop))
    return loops


@cache
def _lip_loops() -> tuple[tuple[int, ...], tuple[int, ...]]:
    loops = _loops(_edges(_face_connections().FACE_LANDMARKS_LIPS))
    if len(loops) != 2:
        raise RuntimeError(f"expected the lips table to form 2 loops, got {len(loops)}")
    outer, inner = sorted(loops, key=lambda lp: 61 not in lp)  # the mouth corners 61/291 are on the outer
    return outer, inner


def lips_outer() -> tuple[int, ...]:
    """Ordered closed loop of the outer lip contour (20 points)."""
    return _lip_loops()[0]


def lips_inner() -> tuple[int, ...]:
    """Ordered closed loop of the inner lip contour, the mouth opening (20 points)."""
    return _lip_loops()[1]


def _single_loop(connections: Iterable) -> tuple[int, ...]:
    loops = _loops(_edges(connections))
    return max(loops, key=len)


@cache
def right_eye() -> tuple[int, ...]:
    """Ordered loop around the subject's right eye (image left), 16 points."""
    return _single_loop(_face_connections().FACE_LANDMARKS_RIGHT_EYE)


@cache
def left_eye() -> tuple[int, ...]:
    """Ordered loop around the subject's left eye (image right), 16 points."""
    return _single_loop(_face_connections().FACE_LANDMARKS_LEFT_EYE)


@cache
def right_iris() -> tuple[int, ...]:
    """The right iris: centre 468 then its four rim points."""
    rim = sorted({i for e in _edges(_face_connections().FACE_LANDMARKS_RIGHT_IRIS) for i in e})
    return (RIGHT_IRIS_CENTER, *rim)


@cache
def left_iris() -> tuple[int, ...]:
    """The left iris: centre 473 then its four rim points."""
    rim = sorted({i for e in _edges(_face_connections().FACE_LANDMARKS_LEFT_IRIS) for i in e})
    return (LEFT_IRIS_CENTER, *rim)


@cache
def face_oval() -> tuple[int, ...]:
    """Ordered closed loop of the face outline (36 points)."""
    return _single_loop(_face_connections().FACE_LANDMARKS_FACE_OVAL)


@cache
def right_eyebrow() -> tuple[int, ...]:
    """Points of the subject's right eyebrow."""
    return tuple(sorted({i for e in _edges(_face_connections().FACE_LANDMARKS_RIGHT_EYEBROW) for i in e}))


@cache
def left_eyebrow() -> tuple[int, ...]:
    """Points of the subject's left eyebrow."""
    return tuple(sorted({i for e in _edges(_face_connections().FACE_LANDMARKS_LEFT_EYEBROW) for i in e}))


def _chains(edges: list[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """Chain an edge list of open paths (inner vertices of degree 2) into ordered paths, in table order."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen: set[int] = set()
    chains = []
    for start in neighbours:
        if start in seen or len(neighbours[start]) != 1:
            continue
        chain, prev, cur = [start], None, start
        while True:
            nxt = [n for n in neighbours[cur] if n != prev]
            if not nxt:
                break
            prev, cur = cur, nxt[0]
            chain.append(cur)
        seen.update(chain)
        chains.append(tuple(chain))
    return tuple(chains)


@cache
def right_eyebrow_rows() -> tuple[tuple[int, ...], ...]:
    """The subject's right eyebrow as its table's two rows of 5 points (its upper and lower edge), unordered."""
    return _chains(_edges(_face_connections().FACE_LANDMARKS_RIGHT_EYEBROW))


@cache
def left_eyebrow_rows() -> tuple[tuple[int, ...], ...]:
    """The subject's left eyebrow as its table's two rows of 5 points (its upper and lower edge), unordered."""
    return _chains(_edges(_face_connections().FACE_LANDMARKS_LEFT_EYEBROW))


@cache
def tesselation() -> np.ndarray:
    """The face mesh's 2556 edges as an int32 (2556, 2) array."""
    return np.array(_edges(_face_connections().FACE_LANDMARKS_TESSELATION), dtype=np.int32)


@cache
def face_triangles() -> np.ndarray:
    """The 852 triangles of the 468-point face mesh, int32 (852, 3), with MediaPipe's winding.

    The tesselation table lists each triangle as its three directed edges a->b, b->c, c->a, one after
    another, so the triangles are read off it in order (rather than guessed from 3-cliques of the edge
    graph, which adds two that are not faces).
    """
    edges = tesselation().reshape(-1, 3, 2)
    if not (np.array_equal(edges[:, 0, 1], edges[:, 1, 0]) and np.array_equal(edges[:, 1, 1], edges[:, 2, 0])
            and np.array_equal(edges[:, 2, 1], edges[:, 0, 0])):  # pragma: no cover - the table's layout
        raise RuntimeError("expected the face tesselation as consecutive triangle edges")
    return np.ascontiguousarray(edges[:, :, 0]).astype(np.int32)


@cache
def hand_connections() -> np.ndarray:
    """The hand skeleton's edges as an int32 (E, 2) array."""
    return np.array(_edges(_hand_connections().HAND_CONNECTIONS), dtype=np.int32)


#: Fingertip, DIP and PIP joints of each finger (thumb uses TIP, IP, MCP), for nail lenses.
FINGERS: dict[str, tuple[HandLandmark, HandLandmark, HandLandmark]] = {
    "thumb": (HandLandmark.THUMB_TIP, HandLandmark.THUMB_IP, HandLandmark.THUMB_MCP),
    "index": (HandLandmark.INDEX_FINGER_TIP, HandLandmark.INDEX_FINGER_DIP, HandLandmark.INDEX_FINGER_PIP),
    "middle": (HandLandmark.MIDDLE_FINGER_TIP, HandLandmark.MIDDLE_FINGER_DIP, HandLandmark.MIDDLE_FINGER_PIP),
    "ring": (HandLandmark.RING_FINGER_TIP, HandLandmark.RING_FINGER_DIP, HandLandmark.RING_FINGER_PIP),
    "pinky": (HandLandmark.PINKY_TIP, HandLandmark.PINKY_DIP, HandLandmark.PINKY_PIP),
}
