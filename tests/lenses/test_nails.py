"""NailPolishLens: nails only near fingertips that face the camera, in the shade's hue, input untouched."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from arlens.catalog import Finish
from arlens.errors import InputError
from arlens.landmarks import FINGERS
from arlens.lenses.nails import NailPolishLens, NailPolishOptions, nail_geometry
from arlens.render.color import bgr_to_lab, hex_to_lab, lab_to_lch
from arlens.tracking.results import Hand, bbox_of
from tests.lenses.conftest import ROOT
from tests.support import faint_per_strong, read_frames, read_image, reference

SHADE = "#1F5FBF"  # a blue far from any skin tone


def _hands(stem: str, frame: int = 0) -> list[Hand]:
    ref = reference(stem)
    return [
        Hand(ref["hands"][frame, k], str(ref["handedness"][frame, k]), 1.0, bbox_of(ref["hands"][frame, k]))
        for k in range(int(ref["hands_found"][frame]))
    ]


@pytest.fixture(scope="module")
def hard_scenes_module():
    from tests.support import benchmarks_module

    return benchmarks_module("hard_scenes")


@pytest.fixture(scope="module")
def pointing() -> tuple[np.ndarray, list[Hand]]:
    return read_image("hands/pointing.jpg"), _hands("pointing")


@pytest.fixture(scope="module")
def open_palm() -> tuple[np.ndarray, list[Hand]]:
    return read_image("hands/open_palm.jpg"), _hands("open_palm")


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).any(axis=-1)


def _near_tips(shape: tuple[int, ...], hands: list[Hand], radius_of_size: float) -> np.ndarray:
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    near = np.zeros(shape[:2], dtype=bool)
    for hand in hands:
        r = radius_of_size * hand.size
        for tip, _, _ in FINGERS.values():
            x, y = hand.landmarks[tip, :2]
            near |= (xs + 0.5 - x) ** 2 + (ys + 0.5 - y) ** 2 <= r * r
    return near


def test_pointing_paints_the_curled_fingers_only_near_their_tips(pointing):
    """pointing.jpg is seen palm-first: the curled middle, ring and pinky show their nails; index and thumb don't."""
    image, hands = pointing
    lens = NailPolishLens(color=SHADE, finish="gloss", opacity=1.0)
    assert [n.finger for n in lens.nails(hands[0])] == ["middle", "ring", "pinky"]
    out = lens.render(image, hands)
    changed = _changed(out, image)
    assert changed.sum() > 1500
    assert not (changed & ~_near_tips(image.shape, hands, 0.25)).any()


def test_palm_facing_the_camera_gets_no_nails(open_palm):
    image, hands = open_palm
    lens = NailPolishLens(color=SHADE)
    assert lens.nails(hands[0]) == []
    assert np.array_equal(lens.render(image, hands), image)


def test_back_of_the_hand_gets_five_nails(open_palm):
    """The open palm with the other handedness label is the same outline seen from the back: five nails."""
    image, hands = open_palm
    back = Hand(hands[0].landmarks, "Right", 1.0, hands[0].bbox)
    nails = nail_geometry(back)
    assert [n.finger for n in nails] == list(FINGERS)
    out = NailPolishLens(color=SHADE).render(image, [back])
    changed = _changed(out, image)
    assert not (changed & ~_near_tips(image.shape, [back], 0.25)).any()
    for nail in nails:  # every nail is on its finger, between the DIP and a bit past the tip
        tip, dip, _ = FINGERS[nail.finger]
        a, b = back.landmarks[dip, :2], back.landmarks[tip, :2]
        t = float(np.dot(nail.centre - a, b - a) / np.dot(b - a, b - a))
        assert 0.4 < t < 1.0, (nail.finger, t)
        if nail.facing > 0.1:  # the thumb's nail is seen nearly edge-on here (facing 0.01): hardly any shows
            assert changed[int(nail.centre[1]), int(nail.centre[0])], nail.finger


def test_colour_moves_to_the_shade_and_keeps_shading(pointing):
    image, hands = pointing
    out = NailPolishLens(color=SHADE, finish="matte", opacity=1.0).render(image, hands)
    changed = _changed(out, image)
    lch = lab_to_lch(bgr_to_lab(out[changed]))
    strong = lch[:, 1] > 15
    assert strong.mean() > 0.7
    shade_hue = float(lab_to_lch(hex_to_lab(SHADE))[2])
    diff = np.abs((lch[strong, 2] - shade_hue + 180) % 360 - 180)
    assert np.median(diff) < 15
    assert lch[:, 0].std() > 2.0  # shading survives, not a flat fill


def test_edges_are_anti_aliased(open_palm):
    """Partial coverage at the rim: pixels between the original and the fully painted colour."""
    image, hands = open_palm
    back = [Hand(hands[0].landmarks, "Right", 1.0, hands[0].bbox)]
    flat = np.full_like(image, 200)
    out = NailPolishLens(color="#000000", finish="matte", opacity=1.0).render(flat, back)
    values = np.unique(out[..., 1])
    assert len(values) > 20


def test_input_is_not_mutated_and_output_is_new(pointing):
    image, hands = pointing
    before = image.copy()
    out = NailPolishLens().render(image, hands)
    assert np.array_equal(image, before)
    assert out is not image and out.shape == image.shape and out.dtype == np.uint8


def test_single_hand_and_no_hands(pointing):
    image, hands = pointing
    lens = NailPolishLens(color=SHADE)
    assert np.array_equal(lens.render(image, hands[0]), lens.render(image, hands))
    assert np.array_equal(lens.render(image, []), image)


def test_opacity_zero_changes_nothing(pointing):
    image, hands = pointing
    # exact on any CPU: with weight 0 the blend returns each byte within 0.003 of itself (OpenCV's blend adds
    # 1e-5 to the weights' sum), far from a rounding boundary
    assert np.array_equal(NailPolishLens(color=SHADE, opacity=0.0).render(image, hands), image)


def test_hands_at_the_frame_border_are_clipped(pointing):
    image, hands = pointing
    shifted = Hand(hands[0].landmarks - np.float32([300, 0, 0]), "Left", 1.0, hands[0].bbox)
    out = NailPolishLens(color=SHADE).render(image, [shifted])
    assert out.shape == image.shape


def test_talking_head_frames(tmp_path):
    """Hands under the chin in the talking-head clip: the lens runs on every hand, painting near the tips."""
    frames = read_frames("faces/talking_head.gif")
    lens = NailPolishLens(color=SHADE, finish="shimmer")
    painted = 0
    for f in (12, 24, 36, 66):
        hands = _hands("talking_head", f)
        out = lens.render(frames[f], hands)
        changed = _changed(out, frames[f])
        painted += int(changed.any())
        assert not (changed & ~_near_tips(out.shape, hands, 0.35)).any()
    assert painted >= 3


@pytest.mark.parametrize("finish", list(Finish))
def test_every_finish_renders(pointing, finish):
    image, hands = pointing
    out = NailPolishLens(color=SHADE, finish=finish).render(image, hands)
    assert _changed(out, image).any()


def test_from_product():
    product = SimpleNamespace(color="#AA2233", finish=None, opacity=0.7, kind="nail_polish")
    lens = NailPolishLens.from_product(product)
    assert lens.options == NailPolishOptions(color="#AA2233", finish=Finish.GLOSS, opacity=0.7)
    assert NailPolishLens.from_product(SimpleNamespace(color="#AA2233", finish="matte", opacity=1.0)).options.finish \
        is Finish.MATTE
    with pytest.raises(InputError):
        NailPolishLens.from_product(SimpleNamespace(color=None, finish=None, opacity=1.0))


def test_catalog_nail_product():
    import arlens

    catalog = arlens.Catalog.default()
    nails = [p for p in catalog if getattr(p.kind, "value", None) == "nail_polish"]
    if not nails:
        pytest.skip("the default catalog has no nail polish")
    lens = NailPolishLens.from_product(nails[0])
    assert lens.options.color == nails[0].color


@pytest.mark.parametrize(
    "kwargs",
    [
        {"color": "red"},
        {"color": "#12345"},
        {"finish": "sparkly"},
        {"opacity": 1.5},
        {"opacity": -0.1},
        {"opacity": True},
        {"min_facing": 2.0},
        {"follow_image": "yes"},
        {"scene_light": 0},
        {"match_camera": "soft"},
    ],
)
def test_bad_options(kwargs):
    with pytest.raises(InputError):
        NailPolishOptions(**kwargs)
    with pytest.raises(InputError):
        NailPolishLens(**kwargs)


@pytest.mark.parametrize(
    "frame",
    [None, np.zeros((10, 10, 2), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((0, 10, 3), np.uint8),
     np.zeros((10, 10, 5), np.uint8)],
)
def test_bad_frames(frame, pointing):  # grey and BGRA are accepted: tests/test_image.py
    _, hands = pointing
    with pytest.raises(InputError):
        NailPolishLens().render(frame, hands)


def test_bad_hands(pointing):
    image, _ = pointing
    lens = NailPolishLens()
    with pytest.raises(InputError):
        lens.render(image, [np.zeros((21, 3))])
    with pytest.raises(InputError):
        lens.render(image, 42)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        NailPolishLens(options="red")  # type: ignore[arg-type]


def test_render_into_draws_in_place_what_render_returns(pointing):
    image, hands = pointing
    lens = NailPolishLens(color=SHADE)
    expected = lens.render(image, hands)
    out = image.copy()
    assert lens.render_into(out, hands) is out
    np.testing.assert_array_equal(out, expected)
    assert not np.array_equal(out, image)
    with pytest.raises(InputError, match="out: expected a uint8 BGR image"):
        lens.render_into(out[..., :2], hands)


@pytest.mark.parametrize("stem", ["pointing", "open_palm"])
def test_nothing_painted_off_the_finger(stem, hard_scenes_module):
    """On the hand photos' black backgrounds the hand's matte is known: no polish lands outside it.

    (open_palm is painted as the back of the hand, its handedness label flipped.) The landmark outlines
    alone put hundreds of pixels on the background there (Google's landmarks lie 2-3 px off the fingers).
    """
    image = read_image(f"hands/{stem}.jpg")
    hands = _hands(stem)
    if stem == "open_palm":
        hands = [Hand(hands[0].landmarks, "Right", 1.0, hands[0].bbox)]
    truth = hard_scenes_module.cutout(image, erode=0) > 0.5
    out = NailPolishLens(color=SHADE).render(image, hands)
    painted = hard_scenes_module.painted(image, out)
    assert painted.sum() > 1500
    assert not (painted & ~truth).any()


@pytest.mark.parametrize("stem", ["pointing", "open_palm"])
@pytest.mark.parametrize("background", ["astronaut", "skin"])
def test_nothing_painted_off_the_finger_on_skin(stem, background, hard_scenes_module):
    """The hands pasted on a face (the astronaut photo) and on flat skin colour: the hand's colour cannot
    tell the finger from what is behind it there, and the landmarks put nails 85-290 px over the open
    palm's fingers' edges. The finger's sides, found on the image, keep every nail on its finger."""
    image = read_image(f"hands/{stem}.jpg")
    hand = _hands(stem)[0]
    if stem == "open_palm":
        hand = Hand(hand.landmarks, "Right", 1.0, hand.bbox)
    if background == "astronaut":
        bg = cv2.resize(cv2.imread(str(ROOT / "tests" / "data" / "astronaut.png")), (700, 700))
    else:
        bg = np.full((700, 700, 3), (150, 175, 215), np.uint8)
    comp = hard_scenes_module.hand_on_background(image, hand, bg, scale=0.6)
    moved = Hand(comp.hand.landmarks, hand.handedness, 1.0, comp.hand.bbox)
    out = NailPolishLens(color=SHADE).render(comp.image, [moved])
    painted = hard_scenes_module.painted(comp.image, out)
    assert painted.sum() > 500
    assert not (painted & (comp.truth < 0.5)).any()


def test_old_polish_is_painted_over(pointing):
    """pointing.jpg wears dark red polish: every pixel of it near the tips is covered by the new shade."""
    image, hands = pointing
    lab = bgr_to_lab(image)
    polish = _near_tips(image.shape, hands, 0.25) & (lab[..., 1] > 18) & (lab[..., 0] < 45)
    assert polish.sum() > 500
    out = NailPolishLens(color=SHADE).render(image, hands)
    changed = np.abs(out.astype(int) - image).max(axis=2) > 2
    assert changed[polish].mean() > 0.99


#: The ring and pinky fingertips of pointing.jpg, drawn by hand on 8x crops of the photo (frame pixels, +-1 px):
#: each finger's skin and nail up to its edges against the finger in front of it and against the palm it is
#: curled onto.
_POINTING_RING_TIP = [(340, 705), (360, 708), (372, 716), (386, 727), (387, 735), (384, 744), (378, 752),
                      (368, 758), (355, 763), (340, 768)]
_POINTING_PINKY_TIP = [(275, 764), (300, 768), (318, 769), (324, 771), (321, 782), (313, 792), (301, 800),
                       (290, 806), (275, 812)]


@pytest.mark.parametrize("deep", [False, True])  # as is, and darkened to a deep skin tone (bench_nails' gains)
@pytest.mark.parametrize("color", ["#8E1B2E", "#F2C6C2"])  # a dark shade and NAIL-201's pale pink
def test_curled_fingers_polish_stays_off_the_palm(pointing, color, deep):
    """The curled ring and pinky show their (old-polished) nails at the tips, pressed onto the palm: the landmark
    outline of a curled finger's nail reaches past the tip onto the palm, which is the same hand's skin (the
    silhouette and the finger's ownership keep it). Near those tips (within a tenth of the hand's size: 35 px,
    short of the middle finger's nail), every pixel changed by more than 3 levels lies on the hand-drawn
    fingertips or within 2 px of them (the drawing's pixel and the polish's anti-aliased rim). The outline put
    hundreds of such pixels up to 14 px out on the palm."""
    image, hands = pointing
    if deep:
        image = np.clip(image.astype(np.float32) * np.float32((0.20, 0.28, 0.42)), 0, 255).astype(np.uint8)
    out = NailPolishLens(color=color, finish="gloss", opacity=1.0).render(image, hands)
    painted = np.abs(out.astype(int) - image).max(axis=2) > 3
    tips = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(tips, [np.array(_POINTING_RING_TIP, np.int32), np.array(_POINTING_PINKY_TIP, np.int32)], 1)
    off = cv2.distanceTransform(1 - tips, cv2.DIST_L2, 5) > 2.0
    hand = hands[0]
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    near = np.zeros(image.shape[:2], bool)
    for finger in ("ring", "pinky"):
        x, y = hand.landmarks[FINGERS[finger][0], :2]
        near |= (xs + 0.5 - x) ** 2 + (ys + 0.5 - y) ** 2 <= (0.1 * hand.size) ** 2
    assert (painted & near).sum() > 500  # both nails are painted
    assert not (painted & near & off).any(), int((painted & near & off).sum())


def test_a_finger_in_front_owns_the_overlap():
    """Two fingers crossing: the pixels where both lie belong to the one nearer the camera."""
    from arlens.render.nail_plates import finger_ownership

    lm = np.zeros((21, 3), np.float64)
    # index finger along x at y = 50 (near, z = -20), middle finger along y at x = 50 (far, z = +20)
    for k, x in zip((6, 7, 8), (10, 40, 70), strict=True):
        lm[k] = (x, 50, -20)
    for k, y in zip((10, 11, 12), (10, 40, 70), strict=True):
        lm[k] = (50, y, 20)
    for k in (2, 3, 4, 14, 15, 16, 18, 19, 20):  # the other fingers far away
        lm[k] = (500 + 10 * k, 500, 0)
    radii = {name: 8.0 for name in FINGERS}
    box = (30, 30, 70, 70)
    index = finger_ownership(lm, "index", radii, box)
    middle = finger_ownership(lm, "middle", radii, box)
    assert index[20, 20] == 1 and middle[20, 20] == 0  # the crossing (50, 50)
    assert middle[35, 20] == 1  # further along the middle finger, clear of the index


def test_a_hand_scaled_to_the_coordinate_bound_costs_what_the_frame_holds(open_palm):
    """The feather grows with the nail (3% of its width) and its blur with the feather; a hand whose
    landmarks reach the coordinate bound (1e6 px) made a blur of unbounded cost over the frame."""
    import tracemalloc

    from arlens.lenses.nails import MAX_FEATHER_PX
    from arlens.tracking.results import MAX_COORDINATE

    image, hands = open_palm
    lm = hands[0].landmarks.astype(np.float64)
    centre = lm[:, :2].mean(axis=0)
    scale = 0.9 * MAX_COORDINATE / np.abs(lm[:, :2] - centre).max()
    lm[:, :2] = (lm[:, :2] - centre) * scale + np.array([image.shape[1] / 2, image.shape[0] / 2])
    lm[:, 2] *= scale
    huge = Hand(lm.astype(np.float32), "Right", 1.0, bbox_of(lm))
    nails = nail_geometry(huge)
    assert nails and max(n.width for n in nails) * 0.03 > 100 * MAX_FEATHER_PX
    out = image.copy()
    tracemalloc.start()
    try:
        NailPolishLens(color=SHADE).render_into(out, [huge])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * image.nbytes, peak


@pytest.mark.parametrize("view", ["mirrored", "flipped", "fortran", "strided"])
def test_render_into_views_of_a_frame(pointing, view):
    """Views the lens is given are drawn through: the same pixels as drawing into a contiguous copy."""
    image, hands = pointing
    lens = NailPolishLens(color=SHADE)
    expected = lens.render(image, hands)
    out, back = _view_of(image, view)
    lens.render_into(out, hands)
    np.testing.assert_array_equal(back(), expected)


def _view_of(image: np.ndarray, view: str):
    """A writeable view showing ``image``, and a function returning what the view shows afterwards."""
    if view == "mirrored":
        store = np.ascontiguousarray(image[:, ::-1])
        return store[:, ::-1], lambda: np.ascontiguousarray(store[:, ::-1])
    if view == "flipped":
        store = np.ascontiguousarray(image[::-1])
        return store[::-1], lambda: np.ascontiguousarray(store[::-1])
    if view == "fortran":
        store = np.asfortranarray(image)
        return store, lambda: np.ascontiguousarray(store)
    store = np.zeros((image.shape[0], image.shape[1] * 2, 3), np.uint8)
    store[:, ::2] = image
    return store[:, ::2], lambda: np.ascontiguousarray(store[:, ::2])


def test_fast_helpers_equal_numpy():
    """The lens's own cross product, dot product, length and unit vector in plain floats (numpy's call overhead was
    most of their cost) give numpy's values: the cross product and the unit vector bit for bit (numpy's
    element-wise products and its axis reduction do the same operations in the same order; its percentile:
    tests/test_stats.py). The dot product and the length go through BLAS in numpy (``np.dot``, ``np.linalg.norm``
    of a vector), which may fuse the multiply-adds or reorder the three terms on another CPU: within four units
    in the last place of the sum of the terms' magnitudes (three roundings, and one more for a fused one)."""
    from arlens.lenses.nails import _cross, _dot, _norm, _unit

    eps = np.finfo(np.float64).eps
    rng = np.random.default_rng(7)
    for _ in range(2000):
        a, b = rng.normal(size=(2, 3)) * 10.0 ** rng.uniform(-4, 4, (2, 1))
        fa, fb = a.tolist(), b.tolist()
        assert np.array_equal(_cross(fa, fb), np.cross(a, b))
        assert abs(_dot(fa, fb) - float(np.dot(a, b))) <= 4 * eps * float(np.abs(a * b).sum())
        assert abs(_norm(fa) - float(np.linalg.norm(a))) <= 4 * eps * float(np.linalg.norm(a))
        assert np.array_equal(_unit(fa), a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9))


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_one_silhouette_per_hand_reads_as_one_per_nail(pointing, open_palm, scale):
    """The lens asks the scene for the hand's silhouette once, over the box around its nails, and reads each nail's
    part of it as ``> 0.5``: that is what a mask over the nail's own box gives, pixel for pixel (the argument in
    ``_silhouettes``), here on the nails' boxes and on boxes of all sizes around every fingertip."""
    from arlens.lenses.nails import _silhouettes
    from arlens.scene import Scene

    rng = np.random.default_rng(11)
    lens = NailPolishLens()
    used = 0
    for image, hands in (pointing, open_palm):
        if scale != 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            hands = [Hand(h.landmarks * np.float32(scale), h.handedness, 1.0, h.bbox * np.float32(scale))
                     for h in hands]
        for hand in hands:
            boxes = [at[0] for at in (lens._box(n, image.shape) for n in lens.nails(hand)) if at is not None]
            for tip in (4, 8, 12, 16, 20):
                x, y = hand.landmarks[tip, :2]
                for _ in range(4):
                    w, h = (int(v) for v in rng.integers(4, 60, 2))
                    x0 = int(np.clip(x - rng.integers(0, w), 0, image.shape[1] - 2))
                    y0 = int(np.clip(y - rng.integers(0, h), 0, image.shape[0] - 2))
                    boxes.append((x0, y0, min(x0 + w, image.shape[1]), min(y0 + h, image.shape[0])))
            hs = Scene(image, (), hands).hand(hand)
            get = _silhouettes(hs, boxes)
            used += get is not hs.mask
            for box in boxes:
                own = Scene(image, (), hands).hand(hand).mask(box)
                assert np.array_equal(get(box) > 0.5, own > 0.5), box
    assert used  # the shared silhouette was taken


def _face_and_hand(hard_scenes_module, blur: float, scale: float = 0.35):
    """The astronaut portrait with the pointing hand pasted beside her face (a kiosk's shopper showing her nails),
    the hand photo at ``scale``, the whole frame blurred by ``blur`` px as a soft webcam's: (frame, face, hand, the
    hand's matte)."""
    from arlens.tracking.results import Face

    portrait = read_image("faces/astronaut.png")
    ref = reference("astronaut")
    lm = ref["face_mesh_478"][0].astype(np.float32)
    image = read_image("hands/pointing.jpg")
    hand = _hands("pointing")[0]
    grow = max(scale, 1.0)
    comp = hard_scenes_module.hand_on_background(
        image, hand, np.full((round(512 * grow), round(400 * grow), 3), (200, 205, 210), np.uint8), scale=scale)
    rows = max(portrait.shape[0], comp.image.shape[0])
    frame = np.ascontiguousarray(np.hstack([np.pad(a, ((0, rows - a.shape[0]), (0, 0), (0, 0)))
                                            for a in (portrait, comp.image)]))
    moved = comp.hand.landmarks.copy()
    moved[:, 0] += portrait.shape[1]
    truth = np.pad(np.hstack([np.zeros((comp.truth.shape[0], portrait.shape[1]), np.float32), comp.truth]),
                   ((0, rows - comp.truth.shape[0]), (0, 0)))
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    face = Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))
    return frame, face, Hand(moved, hand.handedness, 1.0, bbox_of(moved)), truth


def test_polish_takes_the_camera_blur_of_the_face_beside_it(hard_scenes_module):
    """On a soft frame (blurred by 2 px) the polish is as soft as the fingers: the blur the face beside the hand shows
    (``HandScene.camera_look``, 1.6 px there) softens its edge (faint pixels per strong one 0.36 -> 1.28), and it
    stays on the finger. A hand's own edges are no measure of the camera (its rounded outline shades off gradually):
    in a frame without a face the polish is drawn as before."""
    from arlens.scene import Scene

    frame, face, hand, truth = _face_and_hand(hard_scenes_module, 2.0)
    scene = Scene(frame, [face], [hand])
    assert scene.hand(hand).camera_look.blur_sigma_px > 1.2
    sharp = NailPolishLens(color=SHADE, match_camera=False).render(frame, [hand], scene)
    soft = NailPolishLens(color=SHADE).render(frame, [hand], scene)
    assert faint_per_strong(soft, frame) > 1.8 * faint_per_strong(sharp, frame)
    painted = hard_scenes_module.painted(frame, soft)
    assert painted.sum() > 100
    assert not (painted & (truth < 0.5)).any()
    # no face in the frame: nothing to measure the camera by, the polish as sharp as before
    alone = Scene(frame, [], [hand])
    assert alone.hand(hand).camera_look.blur_sigma_px == 0.0
    np.testing.assert_array_equal(NailPolishLens(color=SHADE).render(frame, [hand], alone),
                                  NailPolishLens(color=SHADE, match_camera=False).render(frame, [hand], alone))


def test_gloss_and_glints_are_as_soft_as_the_plate(hard_scenes_module):
    """On the soft frame (camera blur 1.6 px by the face) the polish's gloss streak and shimmer glints get the camera's
    blur too (they were drawn sharp on the softened plate). On the small hand (nails about 12 px wide) the brightest
    gloss step over the matte finish falls from 272 to 193 levels summed over the channels (the streak spread over a
    wider band) and the glints, 2 px apart, merge into a sheen (a glint's step 324 -> 54). On the hand at full size
    the glints keep their peak (a glint is far brighter than white: a soft camera shows it larger, not dimmer, as the
    lipstick's, :func:`~arlens.render.camera_match.glint_gain`) and cover 4x the pixels at half of it. Without a face
    nothing changes (tested above)."""
    from arlens.scene import Scene

    def peak(finish: str, match: bool) -> tuple[float, int]:
        lens = {f: NailPolishLens(color="#8E1B2E", finish=f, match_camera=match) for f in (finish, "matte")}
        shiny, matte = (lens[f].render(frame, [hand], scene).astype(np.float32) for f in (finish, "matte"))
        step = np.abs(shiny - matte).sum(axis=2)
        return float(step.max()), int((step > 0.5 * step.max()).sum())

    frame, face, hand, truth = _face_and_hand(hard_scenes_module, 2.0)
    scene = Scene(frame, [face], [hand])
    assert peak("gloss", True)[0] <= 0.85 * peak("gloss", False)[0]
    assert peak("shimmer", True)[0] <= 0.5 * peak("shimmer", False)[0]
    assert peak("gloss", True)[0] > 60.0  # the streak is still there, only softer
    frame, face, hand, truth = _face_and_hand(hard_scenes_module, 2.0, scale=1.0)
    scene = Scene(frame, [face], [hand])
    (sharp, sharp_area), (soft, soft_area) = peak("shimmer", False), peak("shimmer", True)
    assert soft >= 0.8 * sharp and soft_area >= 2 * sharp_area
