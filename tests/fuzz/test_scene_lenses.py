"""Fuzz the lenses as a session draws them: one scene per frame with faces *and* hands, the make-up look in one
pass (``render_group``), the lipstick and the nails on it. The per-lens property in ``test_values.py`` draws each
lens alone, without hands; the shared scene's paths (hands over the face, every skin vertex covered, a face a few
pixels across, a 4K close-up's shimmer) are only reached together. Found here: a hand over every skin vertex
(the light's skin patches took the extent of an empty set), one to four shimmer glints (OpenCV's arithmetic took
the 1-D arrays for a scalar) and over 32,767 of them (wider than OpenCV's remap takes a row)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from arlens.tracking.results import Face, Hand, bbox_of
from tests.fuzz.conftest import bounded, budget
from tests.fuzz.test_values import DATA, lens_frames, poses, raw_points
from tests.lenses.conftest import REFERENCE


@pytest.fixture(scope="module")
def session_lenses():
    """The "Golden Hour Glam" look's make-up lenses (in make-up order), a gloss lipstick and a shimmer polish."""
    import arlens
    from arlens.lenses.lipstick import LipstickLens
    from arlens.lenses.makeup import MAKEUP_KINDS, MakeupLens
    from arlens.lenses.nails import NailPolishLens
    from arlens.lenses.registry import default_registry

    catalog = arlens.Catalog.default()
    order = default_registry().kinds()
    products = sorted((catalog[pid] for pid in catalog.look("LOOK-GLAM").product_ids),
                      key=lambda p: order.index(p.kind.value))
    look = [MakeupLens.from_product(p) for p in products if p.kind.value in MAKEUP_KINDS]
    return look, LipstickLens(color="#A4161A", finish="gloss"), NailPolishLens(color="#1F5FBF", finish="shimmer")


def draw_session(lenses, frame: np.ndarray, faces: list[Face], hands: list[Hand]) -> np.ndarray:
    """One frame as a session draws it: a scene, the look in one pass, the lipstick, the nails."""
    from arlens.lenses.makeup import MakeupLens
    from arlens.scene import Scene

    look, lipstick, nails = lenses
    scene = Scene(frame, faces, hands)
    out = np.array(frame)
    MakeupLens.render_group(look, out, faces, scene=scene)
    lipstick.render_into(out, faces, scene)
    nails.render_into(out, hands, scene)
    return out


@budget(examples=100, deadline_ms=30_000)
@given(st.data())
def test_a_session_frame_draws_any_valid_geometry(session_lenses, data):
    """Any valid faces and hands (extreme but finite points, any pose) on any frame: drawn, nothing raised."""
    frame = np.ascontiguousarray(data.draw(lens_frames()))
    faces = [Face(landmarks=data.draw(raw_points(478, valid=True)), score=1.0, bbox=np.zeros(4),
                  pose=data.draw(poses(valid=True))) for _ in range(data.draw(st.integers(0, 2)))]
    sides = st.sampled_from(["Left", "Right"])
    hands = [Hand(landmarks=data.draw(raw_points(21, valid=True)), handedness=data.draw(sides), score=1.0,
                  bbox=np.zeros(4)) for _ in range(data.draw(st.integers(0, 2)))]
    with bounded(max_mb=200 * frame.shape[0] * frame.shape[1] / 2**20 + 64):
        out = draw_session(session_lenses, frame, faces, hands)
    assert out.shape == frame.shape and out.dtype == np.uint8
    event(f"{len(faces)} faces, {len(hands)} hands")


def _moved(points: np.ndarray, scale: float, angle_deg: float, x: float, y: float) -> np.ndarray:
    """``points`` (n, 3) turned by ``angle_deg`` and scaled about their mean, which is moved to (x, y)."""
    a = math.radians(angle_deg)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    p = np.asarray(points, dtype=np.float64)
    out = p.copy()
    out[:, :2] = (p[:, :2] - p[:, :2].mean(axis=0)) @ r.T * scale + (x, y)
    out[:, 2] *= scale
    return out.astype(np.float32)


@budget(examples=150, deadline_ms=30_000)
@given(st.data())
def test_a_real_face_and_hand_at_any_size_and_place(session_lenses, data):
    """Google's landmarks of a real face (Grace Hopper) and hand (the open palm) scaled from a few pixels to several
    frames across, turned and placed anywhere on and off frames from 1x1 to 1080p, the portrait behind them: the
    geometry a session meets (a shopper far from the kiosk, a close-up, a hand over the face), drawn without error."""
    ref = REFERENCE / "open_palm.npz"
    if not ref.is_file():
        pytest.skip(f"{ref} not found (set ARLENS_REFERENCE): the open palm's reference landmarks")
    with np.load(ref) as d:
        palm = d["hands"][0, 0].astype(np.float32)
    with np.load(DATA / "grace_hopper.npz") as d:
        face = d["face_mesh_478"][0].astype(np.float32)
    portrait = cv2.imread(str(DATA / "grace_hopper.jpg"))
    h = data.draw(st.sampled_from([1, 2, 7, 16, 33, 90, 240, 480, 720, 1080]))
    w = data.draw(st.sampled_from([1, 3, 9, 20, 64, 320, 640, 1280, 1920]))
    frame = cv2.resize(portrait, (w, h), interpolation=cv2.INTER_AREA)

    def place(points: np.ndarray, size: float) -> np.ndarray:
        scale = 2.0 ** (data.draw(st.integers(-36, 10)) / 4) * min(h, w) / size
        return _moved(points, scale, 10.0 * data.draw(st.integers(-18, 18)),
                      data.draw(st.integers(-5, 15)) / 10 * w, data.draw(st.integers(-5, 15)) / 10 * h)

    faces = [Face(landmarks=(lm := place(face, 300.0)), score=1.0, bbox=bbox_of(lm))
             for _ in range(data.draw(st.integers(1, 2)))]
    hands = [Hand(lm := place(palm, 500.0), data.draw(st.sampled_from(["Left", "Right"])), 1.0, bbox_of(lm))
             for _ in range(data.draw(st.integers(0, 2)))]
    out = draw_session(session_lenses, frame, faces, hands)
    assert out.shape == frame.shape and out.dtype == np.uint8
    event(f"frame {h}x{w}, {len(hands)} hands")
