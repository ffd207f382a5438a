"""The lipstick lens: lip-only, shade fidelity, backends, batches, stability, bad inputs."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from arlens import landmarks as named
from arlens.errors import InputError
from arlens.lenses.base import Lens
from arlens.lenses.lipstick import LipstickLens, LipstickOptions
from arlens.render import color as C
from arlens.render import mask as M
from arlens.render.camera_match import added_blur
from arlens.scene import Scene
from arlens.tracking.results import Face

from .conftest import TESTDATA, load_still

#: Light, dark, warm and cool shades with enough chroma for a hue angle to mean something.
FIDELITY_SHADES = [
    "#B3172B",  # classic red (warm, mid)
    "#8E1026",  # ruby (dark)
    "#E8604C",  # coral (warm, light)
    "#E8A0B4",  # pale pink (cool, light)
    "#C2185B",  # fuchsia (cool)
    "#7B1E3C",  # berry (cool, dark)
    "#5E2750",  # plum (cool, dark)
    "#9B3A2A",  # brick (warm)
    "#E0401E",  # orange red (warm)
    "#4A0F1D",  # deep wine (very dark)
    "#C77D72",  # rose nude (light, warm)
    "#9E4B8E",  # orchid (cool)
]


def _frame_mask(shape, geom: M.LipGeometry, local: np.ndarray) -> np.ndarray:
    full = np.zeros(shape[:2], dtype=local.dtype)
    x0, y0, x1, y1 = geom.box
    full[y0:y1, x0:x1] = local
    return full


def _hard_mask(image, face) -> np.ndarray:
    geom = M.lip_geometry(face.landmarks, image.shape)
    return _frame_mask(image.shape, geom, M.hard_lip_mask(geom).astype(np.uint8))


def _outline(image, face) -> np.ndarray:
    """uint8 0/1: the outer lip outline's polygon, mouth opening included."""
    outer = np.zeros(image.shape[:2], np.uint8)
    pts = face.landmarks[list(named.lips_outer()), :2] - 0.5
    cv2.fillPoly(outer, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return outer


def _far_from_the_lips(image, face, beyond: float = 2.0) -> np.ndarray:
    """More than ``beyond`` px outside the outer lip outline (the mouth opening is not "far": the lip's real edge
    can lie inside it, up to the teeth)."""
    return cv2.distanceTransform(1 - _outline(image, face), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > beyond


def _camera_blur(image, face) -> float:
    """The blur a lens matching the camera gives its paint on ``image`` (Gaussian sigma, px)."""
    return added_blur(Scene(image, [face]).face(0).camera_look)


def _teeth(image, face) -> np.ndarray:
    """Teeth: pixels inside the inner mouth contour shrunk by 2 px that are brighter than the lips by 8 L."""
    inner = np.zeros(image.shape[:2], np.uint8)
    pts = face.landmarks[list(named.lips_inner()), :2] - 0.5
    cv2.fillPoly(inner, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    opening = cv2.distanceTransform(inner, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > 2
    lips_l = np.median(C.bgr_to_lab(image[_lip_core(image, face)])[:, 0])
    return opening & (C.bgr_to_lab(image)[..., 0] > lips_l + 8)


def _lip_core(image, face) -> np.ndarray:
    geom = M.lip_geometry(face.landmarks, image.shape)
    return _frame_mask(image.shape, geom, M.lip_mask(geom)) > 0.98


def test_is_a_lens():
    assert isinstance(LipstickLens(), Lens)


@pytest.mark.parametrize("finish", [f.value for f in C.Finish])
def test_paints_only_the_lips(still, finish):
    name, image, face = still
    # the mask's placement: as sharp as a crisp photo's (the camera's blur is tested on its own below)
    lens = LipstickLens(color="#4A0F1D", finish=finish, opacity=1.0, liner_color="#200008", liner_width=0.04,
                        match_camera=False)
    before = image.copy()
    out = lens.render(image, [face])
    assert np.array_equal(image, before), "the input frame was modified"
    assert out.shape == image.shape and out.dtype == np.uint8 and out is not image
    diff = np.abs(out.astype(int) - image).max(axis=2)
    hard = _hard_mask(image, face)
    far = _far_from_the_lips(image, face)
    assert diff[far].max() <= 1, f"{name}: skin changed by {diff[far].max()} levels more than 2 px off the lips"
    teeth = _teeth(image, face)
    if teeth.any():
        # the refined edge is smoothed by a guided filter: at most a trace of paint where it meets a tooth
        assert diff[teeth].max() <= 3 and (diff[teeth] > 0).mean() < 0.02, f"{name}: teeth changed"
    assert diff[hard > 0].mean() > 10, "the lips were not painted"


@pytest.mark.parametrize("shade", ["#4A0F1D", "#E8A0B4"])
def test_talking_head_teeth_not_painted(shade):
    """The talking-head clip's first frame at 720p (its 300 rows scaled 2.4x, as bench_lipstick's ``fill``
    scene): sepia, lips the skin's colour, the lower teeth's edge at the inner-lip landmarks. Teeth (inside
    the inner contour shrunk by 2 px, brighter than the lips by 8 L and of less than half their chroma) stay
    within the still test's bound."""
    from .conftest import REFERENCE

    path, ref = TESTDATA / "faces" / "talking_head.gif", REFERENCE / "talking_head.npz"
    if not path.is_file() or not ref.is_file():
        pytest.skip(f"{path} or {ref} not found (set ARLENS_TESTDATA / ARLENS_REFERENCE)")
    cap = cv2.VideoCapture(str(path))
    ok, frame = cap.read()
    assert ok, f"cannot decode {path}"
    with np.load(ref) as data:
        lm = data["face_mesh_478"][0].astype(np.float32)
    s = 720 / frame.shape[0]
    image = cv2.resize(frame, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    face = Face(landmarks=lm * np.float32(s), score=1.0, bbox=np.zeros(4, np.float32))
    lab = C.bgr_to_lab(image)
    lips = lab[_lip_core(image, face)]
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    teeth = _teeth(image, face) & (chroma < 0.5 * np.median(np.hypot(lips[:, 1], lips[:, 2])))
    assert teeth.sum() > 300, "the frame's teeth were not found: the test would check nothing"
    out = LipstickLens(color=shade, opacity=1.0, match_camera=False).render(image, [face])
    diff = np.abs(out.astype(int) - image).max(axis=2)
    assert diff[teeth].max() <= 3 and (diff[teeth] > 0).mean() < 0.02, (
        f"{(diff[teeth] > 3).sum()} tooth pixels changed, by up to {diff[teeth].max()} levels")
    assert diff[_hard_mask(image, face) > 0].mean() > 10, "the lips were not painted"



def _lower_lip_edge_width(image, out, face) -> float:
    """The 90%-to-10% width (px) of the paint's change below the lower lip's lowest landmark (17), down the
    middle seven columns."""
    x, y = int(round(face.landmarks[17, 0])), int(face.landmarks[17, 1])
    d = np.abs(out.astype(float) - image).sum(axis=2)[y - 8 : y + 14, x - 3 : x + 4].mean(axis=1)
    d /= d.max()
    top = int(np.argmax(d))
    below = d[top:]
    return float(np.argmax(below < 0.1) - np.argmax(below < 0.9))


def test_the_paint_is_as_soft_as_the_camera():
    """A webcam's lips are blurred by the camera; sharp paint on them reads as a sticker. The paint's change is
    blurred as the frame is (Grace Hopper, sharp, blurred by 1 and 2.5 px): its edge widens with the frame's blur,
    stays where the blur can reach (2 px plus 3 sigma outside the lips), and its colour on the lips is the sharp
    paint's (the blur moves paint across the edge, not the shade)."""
    image, face = load_still("grace_hopper", "grace_hopper.jpg")
    lens, sharp = LipstickLens(color="#B3172B", opacity=1.0), LipstickLens(color="#B3172B", opacity=1.0,
                                                                           match_camera=False)
    widths = []
    for sigma in (1.0, 2.5):
        frame = cv2.GaussianBlur(image, (0, 0), sigma)
        blur = _camera_blur(frame, face)
        assert blur > 0.5, "the frame's blur was not measured: the test would check nothing"
        out, plain = lens.render(frame, [face]), sharp.render(frame, [face])
        widths.append((_lower_lip_edge_width(frame, plain, face), _lower_lip_edge_width(frame, out, face)))
        far = _far_from_the_lips(frame, face, 2.0 + 3.0 * blur)
        assert np.abs(out.astype(int) - frame)[far].max() <= 1
        core = _lip_core(frame, face)
        eroded = cv2.erode(core.view(np.uint8), np.ones((5, 5), np.uint8)) > 0  # away from the edge the blur moves
        shift = np.abs(C.bgr_to_lab(out[eroded]).mean(axis=0) - C.bgr_to_lab(plain[eroded]).mean(axis=0))
        assert np.linalg.norm(shift) < 2.0, (sigma, shift)
    (sharp1, soft1), (sharp2, soft2) = widths
    assert soft1 > sharp1 and soft2 >= soft1 + 2, widths


def test_a_sharp_frame_is_painted_as_without_the_camera():
    """Grace Hopper's portrait is crisp (the camera's blur within a sharp frame's): nothing is blurred, the render
    is the one without the camera."""
    image, face = load_still("grace_hopper", "grace_hopper.jpg")
    assert _camera_blur(image, face) == 0.0
    out = LipstickLens(color="#B3172B", finish="shimmer").render(image, [face])
    plain = LipstickLens(color="#B3172B", finish="shimmer", match_camera=False).render(image, [face])
    assert np.array_equal(out, plain)


def test_shimmer_glints_keep_their_sparkle_on_a_soft_frame():
    """On a frame blurred by 2 px, the shimmer's glints are blurred as the frame is but keep their peak (a flake is
    brighter than white): the brightest glints stand out of the lips by at least 45% of what sharp glints do on
    the same frame (57% measured; their peak is kept, the metric's 7 px median sees a wider glint as less of a
    spike); blurred as the frame is without the gain, they stood out by 5%."""
    image, face = load_still("frontal_smile", "frontal_smile.png")
    frame = cv2.GaussianBlur(image, (0, 0), 2.0)
    core = cv2.erode(_lip_core(frame, face).view(np.uint8), np.ones((5, 5), np.uint8)) > 0

    def sparkle(out) -> float:  # the glints' lightness over the lips' local median, their 99.5th percentile
        lightness = C.bgr_to_lab(out)[..., 0].astype(np.float32)
        local = cv2.medianBlur(np.clip(lightness * 2.55, 0, 255).astype(np.uint8), 7).astype(np.float32) / 2.55
        return float(np.percentile((lightness - local)[core], 99.5))

    kw = dict(color="#C77D72", finish="shimmer", opacity=1.0)
    soft = sparkle(LipstickLens(**kw).render(frame, [face]))
    crisp = sparkle(LipstickLens(**kw, match_camera=False).render(frame, [face]))
    satin = sparkle(LipstickLens(**{**kw, "finish": "satin"}).render(frame, [face]))
    assert crisp > satin + 5, "no glints to measure"
    assert soft - satin >= 0.45 * (crisp - satin), (soft, crisp, satin)

def test_frontal_smile_teeth_region_is_large():
    """frontal_smile.png shows teeth: the teeth test above must be checking a real area."""
    image, face = load_still("frontal_smile", "frontal_smile.png")
    assert _teeth(image, face).sum() > 1000


def test_the_gap_to_the_teeth_is_closed():
    """frontal_smile.png: the inner-lip landmarks sit below the lower teeth's edge, leaving bare lip in the
    mouth opening; lip-coloured pixels there (redder than the teeth, not dark) get painted with the refined
    edges and not with the landmark outline."""
    image, face = load_still("frontal_smile", "frontal_smile.png")
    inner = np.zeros(image.shape[:2], np.uint8)
    pts = face.landmarks[list(named.lips_inner()), :2] - 0.5
    cv2.fillPoly(inner, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    near = (inner > 0) & (cv2.distanceTransform(inner, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= 5)
    lab = C.bgr_to_lab(image)
    lip_like = near & (lab[..., 1] > 30) & (lab[..., 0] > 30)  # the lips' redness (a* 36), not the cavity
    assert lip_like.sum() > 150
    shade = dict(color="#1F5FBF", opacity=1.0, match_camera=False)  # the mask's edge, not the camera's blur
    landmark = np.abs(LipstickLens(refine_edges=False, **shade).render(image, [face]).astype(int) - image).max(2)
    refined = np.abs(LipstickLens(**shade).render(image, [face]).astype(int) - image).max(2)
    assert (refined[lip_like] > 20).mean() > 0.6
    assert (landmark[lip_like] > 20).mean() < 0.3


@pytest.mark.parametrize("shade", FIDELITY_SHADES)
def test_shade_fidelity(all_stills, shade):
    swatch = C.lab_to_lch(C.hex_to_lab(shade))
    lens = LipstickLens(color=shade, finish="satin", opacity=1.0)
    for name, image, face in all_stills:
        out = lens.render(image, [face])
        lab = np.median(C.bgr_to_lab(out[_lip_core(image, face)]), axis=0)
        lip = C.lab_to_lch(lab)
        hue_error = abs((lip[2] - swatch[2] + 180) % 360 - 180)
        assert hue_error <= 6, f"{name} {shade}: hue {lip[2]:.1f} vs swatch {swatch[2]:.1f}"
        assert abs(lip[1] - swatch[1]) <= 0.2 * swatch[1], f"{name} {shade}: chroma {lip[1]:.1f} vs {swatch[1]:.1f}"


def test_fidelity_covers_light_dark_warm_and_cool():
    lch = np.array([C.lab_to_lch(C.hex_to_lab(s)) for s in FIDELITY_SHADES])
    assert len(FIDELITY_SHADES) >= 10
    assert lch[:, 0].min() < 25 and lch[:, 0].max() > 70  # dark and light
    assert (lch[:, 2] > 25).any() and (lch[:, 2] < 5).any() | (lch[:, 2] > 340).any()  # warm and cool


@pytest.mark.parametrize("finish", [f.value for f in C.Finish])
def test_numpy_and_onnx_lens_agree(all_stills, finish):
    opts = LipstickOptions(color="#9E1B32", finish=finish, opacity=0.9, liner_color="#5A0F1E", liner_width=0.03)
    numpy_lens = LipstickLens(opts)
    onnx_lens = LipstickLens(opts, backend="onnx", providers=("CPUExecutionProvider",))
    for _, image, face in all_stills:
        a = numpy_lens.render(image, [face]).astype(int)
        b = onnx_lens.render(image, [face]).astype(int)
        assert np.abs(a - b).max() <= 2


@pytest.mark.parametrize("backend", ["numpy", "onnx"])
def test_render_shades_equals_one_by_one(all_stills, backend):
    shades = [
        LipstickOptions(color="#B3172B", finish="gloss", opacity=0.9),
        "#E8A0B4",
        SimpleNamespace(color="#5E2750", finish="metallic", opacity=1.0, kind="lipstick"),
        LipstickOptions(color="#C77D72", finish="shimmer", opacity=0.8),
    ]
    lens = LipstickLens(finish="matte", opacity=0.95, backend=backend)
    name, image, face = all_stills[0]
    batch = lens.render_shades(image, face, shades)
    assert batch.shape == (len(shades),) + image.shape
    singles = [
        LipstickLens(shades[0], backend=backend),
        LipstickLens(lens.options, color="#E8A0B4"),
        LipstickLens.from_product(shades[2], backend=backend),
        LipstickLens(shades[3], backend=backend),
    ]
    for i, single in enumerate(singles):
        expected = single.render(image, [face]).astype(int)
        # numpy: exact by construction (the batch paints each shade with the per-shade code on the same pixels).
        # ONNX: the batch is one (N, n) run against a (1, n) run, which ONNX Runtime's kernels may split and
        # vectorise differently (a float32 ULP, so one level on a rare pixel); shade 1 also takes the
        # lens's liner settings from another path, measured at most 2 levels apart
        tolerance = 0 if backend == "numpy" else (1 if i != 1 else 2)
        assert np.abs(batch[i].astype(int) - expected).max() <= tolerance


def test_several_faces_each_get_the_lens(all_stills):
    _, image, face = all_stills[0]
    h, w = image.shape[:2]
    wide = np.concatenate([image, image], axis=1)
    moved = Face(landmarks=face.landmarks + np.float32([w, 0, 0]), score=1.0, bbox=face.bbox + np.float32([w, 0, w, 0]))
    lens = LipstickLens(color="#B3172B", opacity=1.0)
    out = lens.render(wide, [face, moved])
    # each face as the lens paints it alone in this frame (its light and pose are the frame's)
    assert np.array_equal(out[:, :w], lens.render(wide, [face])[:, :w])
    assert np.array_equal(out[:, w:], lens.render(wide, [moved])[:, w:])
    assert not np.array_equal(out[:, :w], image) and not np.array_equal(out[:, w:], image)
    single = lens.render(image, [face])
    assert np.array_equal(lens.render(image, face), single)  # a single Face is accepted
    assert np.array_equal(lens.render(image, []), image)


def test_face_partly_outside_the_frame(all_stills):
    _, image, face = all_stills[0]
    lips = face.landmarks[list(named.lips_outer()), :2]
    cut = image[: int(lips[:, 1].mean())]  # the frame ends across the mouth
    out = LipstickLens(color="#B3172B").render(cut, [face])
    assert out.shape == cut.shape


def test_shimmer_pattern_is_stable_and_follows_a_translated_face(all_stills):
    """The same frame renders the same; the glints stay on the same spots of the lips when the face moves
    (for the same light and head pose: which flakes flash depends on those, see test_shimmer_twinkles)."""
    _, image, face = all_stills[0]
    lens = LipstickLens(color="#C77D72", finish="shimmer", opacity=1.0)
    assert np.array_equal(lens.render(image, [face]), lens.render(image, [face]))
    dx, dy = 21, 11
    moved = Face(landmarks=face.landmarks + np.float32([dx, dy, 0]), score=1.0, bbox=face.bbox)
    half = (0.1, 0.2, 0.97)
    a = M.lip_pixels(M.lip_geometry(face.landmarks, image.shape), half=half)
    b = M.lip_pixels(M.lip_geometry(moved.landmarks, image.shape), half=half)
    assert np.array_equal(a.index, b.index)
    assert np.abs(a.maps[:, M.SPARKLE] - b.maps[:, M.SPARKLE]).max() < 1e-3


def test_shimmer_twinkles_and_gloss_follows_the_light(all_stills):
    """Turning the half vector (the light against the head) flashes other flakes and slides the gloss."""
    _, image, face = max(all_stills, key=lambda s: M.lip_geometry(s[2].landmarks, s[1].shape).width)
    geom = M.lip_geometry(face.landmarks, image.shape)
    front = M.lip_pixels(geom, half=M.FRONTAL)
    above = M.lip_pixels(geom, half=(0.0, 0.35, 0.94))
    side = M.lip_pixels(geom, half=(0.35, 0.0, 0.94))
    flash_front = front.maps[:, M.SPARKLE] > 0.4
    flash_above = above.maps[:, M.SPARKLE] > 0.4
    assert flash_front.sum() > 20 and flash_above.sum() > 20
    assert (flash_front & flash_above).sum() < 0.5 * flash_front.sum()  # mostly other flakes
    assert np.array_equal(front.maps[:, M.SPARKLE] > 0, above.maps[:, M.SPARKLE] > 0)  # in the same places
    u, v = geom.local_uv(front.index)

    def peak(p):
        i = int(np.argmax(p.maps[:, M.GLOSS]))
        return float(u[i]), float(v[i])

    assert peak(above)[1] < peak(front)[1]  # light from above: the highlight moves up the lower lip
    assert peak(side)[0] > peak(front)[0] + 0.05  # from the subject's left: toward that side


def _frame_to_frame_change(frames: list[np.ndarray], region: np.ndarray) -> float:
    diffs = [np.abs(b[region].astype(np.float32) - a[region]).mean() for a, b in zip(frames, frames[1:], strict=False)]
    return float(np.mean(diffs))


@pytest.mark.parametrize("finish", [f.value for f in C.Finish])
def test_stable_on_a_noisy_still(all_stills, finish):
    """A still fed as 60 noisy frames: the rendered lips change no more than the input noise explains."""
    rng = np.random.default_rng(7)
    lens = LipstickLens(color="#E8A0B4", finish=finish, opacity=1.0)
    for name, image, face in all_stills:
        noisy = [np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8) for _ in range(60)]
        rendered = [lens.render(f, [face]) for f in noisy]
        lips = _lip_core(image, face)
        change_in = _frame_to_frame_change(noisy, lips)
        change_out = _frame_to_frame_change(rendered, lips)
        assert change_out <= 1.25 * change_in, f"{name}: {change_out:.2f} vs input {change_in:.2f}"


def test_stable_with_the_video_tracker():
    """As above, with landmarks from arlens.FaceTracker in video mode."""
    from arlens.tracking.face import FaceTracker

    image, _ = load_still("frontal_smile", "frontal_smile.png")
    rng = np.random.default_rng(3)
    noisy = [np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8) for _ in range(60)]
    lens = LipstickLens(color="#B3172B", finish="satin", opacity=1.0)
    with FaceTracker() as tracker:
        tracked = [tracker.track(f, timestamp_ms=33 * i) for i, f in enumerate(noisy)]
    assert all(len(faces) == 1 for faces in tracked)
    rendered = [lens.render(f, faces) for f, faces in zip(noisy, tracked, strict=True)]
    lips = _lip_core(image, tracked[-1][0])
    change_in = _frame_to_frame_change(noisy[10:], lips)
    change_out = _frame_to_frame_change(rendered[10:], lips)
    assert change_out <= 1.5 * change_in, f"{change_out:.2f} vs input {change_in:.2f}"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"color": "#12345"}, "color"),
        ({"color": "crimson"}, "color"),
        ({"opacity": 1.2}, "opacity"),
        ({"opacity": -0.5}, "opacity"),
        ({"opacity": "0.5"}, "opacity"),
        ({"finish": "velvet"}, "finish"),
        ({"liner_color": "#GG0000"}, "liner_color"),
        ({"liner_width": 0.5}, "liner_width"),
        ({"backend": "webgl"}, "backend"),
        ({"providers": "CPUExecutionProvider"}, "providers"),
    ],
)
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(InputError, match=field):
        LipstickOptions(**kwargs)
    with pytest.raises(InputError, match=field):
        LipstickLens(**kwargs)


@pytest.mark.parametrize(
    "frame",
    [np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 2), np.uint8), np.zeros((0, 64, 3), np.uint8), [[0]]],
)
def test_bad_frame_names_the_field(frame, all_stills):  # grey and BGRA are accepted: tests/test_image.py
    _, _, face = all_stills[0]
    with pytest.raises(InputError, match="frame"):
        LipstickLens().render(frame, [face])


def test_bad_face():
    with pytest.raises(InputError, match="faces"):
        LipstickLens().render(np.zeros((64, 64, 3), np.uint8), [object()])


def test_from_product_duck_typed_and_catalog():
    @dataclass(frozen=True)
    class Product:
        color: str
        finish: str | None
        opacity: float
        kind: str

    lens = LipstickLens.from_product(Product("#B3172B", "gloss", 0.7, "lipstick"))
    assert lens.options.color == "#B3172B" and lens.options.finish is C.Finish.GLOSS
    assert lens.options.opacity == pytest.approx(0.7)
    assert LipstickLens.from_product(Product("#B3172B", None, 1.0, "lipstick")).options.finish is C.Finish.SATIN
    liner = LipstickLens.from_product(Product("#5A0F1E", "matte", 1.0, "lip_liner")).options
    assert liner.opacity == 0 and liner.liner_color == "#5A0F1E" and liner.liner_width > 0
    with pytest.raises(InputError, match="kind"):
        LipstickLens.from_product(Product("#B3172B", "gloss", 0.7, "eyewear"))
    with pytest.raises(InputError, match="opacity"):
        LipstickLens.from_product(Product("#B3172B", "gloss", 3.0, "lipstick"))


def test_from_arlens_product():
    from arlens.catalog import Product

    fields = {"id": "ls-1", "title": "Ruby", "link": "https://example.com/p/ls-1", "price": "19.00 USD",
              "kind": "lipstick", "color": "#8E1026", "finish": "matte", "opacity": 0.9}
    product = Product(**fields)
    lens = LipstickLens.from_product(product)
    assert lens.options.color.upper() == "#8E1026" and lens.options.finish is C.Finish.MATTE


def test_talking_head_frames_render():
    """Every tracked frame of the clip renders with the reference landmarks (mask stays in the box)."""
    path = TESTDATA / "faces" / "talking_head.gif"
    from .conftest import REFERENCE

    ref = REFERENCE / "talking_head.npz"
    if not path.is_file() or not ref.is_file():
        pytest.skip(f"{path} or {ref} not found (set ARLENS_TESTDATA / ARLENS_REFERENCE)")
    cap = cv2.VideoCapture(str(path))
    data = np.load(ref)
    lens = LipstickLens(color="#B3172B", finish="gloss")
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        lm = data["face_mesh_478"][i]
        if not data["face_found"][i] or not np.isfinite(lm).all():
            with pytest.raises(InputError, match="Face.landmarks: expected finite values"):
                Face(landmarks=lm, score=1.0, bbox=np.zeros(4, np.float32))  # no such Face can be made
            assert np.array_equal(lens.render(frame, []), frame)  # no face: the frame passes through
        else:
            face = Face(landmarks=lm, score=1.0, bbox=np.zeros(4, np.float32))
            out = lens.render(frame, [face])
            far = _far_from_the_lips(frame, face, 2.0 + 3.0 * _camera_blur(frame, face))  # (blurred as the frame)
            assert np.abs(out.astype(int) - frame)[far].max() <= 1
        i += 1
    assert i == 69


def test_render_into_draws_in_place_what_render_returns(all_stills):
    _, image, face = all_stills[0]
    lens = LipstickLens(color="#C2185B")
    expected = lens.render(image, [face])
    out = image.copy()
    assert lens.render_into(out, [face]) is out
    np.testing.assert_array_equal(out, expected)
    assert not np.array_equal(out, image)


def test_render_into_checks_every_face_before_drawing(all_stills):
    _, image, face = all_stills[0]
    out = image.copy()
    with pytest.raises(InputError, match="faces"):
        LipstickLens().render_into(out, [face, object()])
    np.testing.assert_array_equal(out, image)  # the good face was not painted either
    read_only = image.copy()
    read_only.setflags(write=False)
    with pytest.raises(InputError, match="out: expected a writeable image"):
        LipstickLens().render_into(read_only, [face])


@pytest.mark.parametrize("which", ["open_palm", "pointing"])
def test_a_hand_over_the_mouth_is_not_painted(all_stills, which):
    """A hand pasted over half the mouth (its landmarks known): with the scene, paint stays off it.

    The landmark lens (no scene, landmark outline) paints 40-90% of the hand's pixels inside the lip
    outline (the figure the issue reports); with the hand as an occluder and the edges refined on the
    image, at most the few pixels at its outline.
    """
    from tests.scene.conftest import reference_hand
    from tests.support import benchmarks_module, read_image

    hs = benchmarks_module("hard_scenes")
    hand_image, hand = read_image(f"hands/{which}.jpg"), reference_hand(which)
    lens = LipstickLens(color="#B3172B", opacity=1.0)
    for name, image, face in all_stills:
        angle, side = (170, -1) if which == "open_palm" else (90, -1)
        comp = hs.hand_over_mouth(image, face, hand_image, hand, cover=0.5, angle_deg=angle, side=side)
        zone = hs.lip_zone(image.shape, face)
        landmark = LipstickLens(color="#B3172B", opacity=1.0, refine_edges=False, scene_light=False,
                                occluders=False, match_camera=False)
        before = hs.paint_on(comp.image, landmark.render(comp.image, [face]), comp.truth, zone)
        scene = Scene(comp.image, [face], [comp.hand])
        after = hs.paint_on(comp.image, lens.render(comp.image, [face], scene), comp.truth, zone)
        assert before > 0.35, (name, before)
        assert after < 0.01, (name, after)


def test_scene_of_another_frame_is_refused(all_stills):
    _, image, face = all_stills[0]
    with pytest.raises(InputError, match="scene"):
        LipstickLens().render(image, [face], Scene(image[:50]))


def _lip_lab(image, face, out):
    geom = M.lip_geometry(face.landmarks, image.shape)
    x0, y0, x1, y1 = geom.box
    hard = M.hard_lip_mask(geom)
    return C.bgr_to_lab(out[y0:y1, x0:x1][hard])


def test_finishes_can_be_told_apart(all_stills):
    """On every face: shimmer differs visibly (ΔE76 > 5) from satin on over 8% of the lips, in glints of
    several pixels; gloss has a highlight satin lacks; matte's highlights are lower than satin's; metallic's
    highlight keeps the shade's colour (tinted: chroma well above a white highlight's)."""
    for name, image, face in all_stills:
        def lab(image=image, face=face, **kw):
            return _lip_lab(image, face, LipstickLens(opacity=0.9, **kw).render(image, [face]))

        satin, shimmer = lab(color="#C77D72", finish="satin"), lab(color="#C77D72", finish="shimmer")
        assert (np.linalg.norm(satin - shimmer, axis=1) > 5).mean() > 0.08, name
        red = {f: lab(color="#9E1B32", finish=f) for f in ("matte", "satin", "gloss")}
        painted = np.abs(red["satin"] - _lip_lab(image, face, image)).max(axis=1) > 5  # not the teeth
        top = {f: np.percentile(v[painted, 0], 99) for f, v in red.items()}
        assert top["gloss"] > top["satin"] + 5 and top["matte"] <= top["satin"], (name, top)
        metal = lab(color="#7A3B5E", finish="metallic")
        bright = metal[:, 0] >= np.percentile(metal[:, 0], 98)
        assert np.hypot(metal[bright, 1], metal[bright, 2]).mean() > 12, name


@pytest.mark.parametrize("style", ["ombre", "two_tone"])
def test_two_colour_styles(all_stills, style):
    """An ombre puts the second colour in the middle of the lips, a two-tone on the upper lip."""
    name, image, face = all_stills[-1]
    lens = LipstickLens(color="#1F5FBF", secondary_color="#D02020", style=style, opacity=1.0, finish="matte")
    out = lens.render(image, [face])
    geom = M.lip_geometry(face.landmarks, image.shape)
    x0, y0, x1, y1 = geom.box
    hard = M.hard_lip_mask(geom)
    lab = C.bgr_to_lab(out[y0:y1, x0:x1])
    red, blue = lab[..., 1] > 25, lab[..., 2] < -25  # the secondary red against the blue
    painted = hard & (red | blue)
    u, v = geom.local_uv()
    if style == "two_tone":
        upper = painted & (v < 0)
        lower = painted & (v > 0.05)
        assert red[upper].mean() > 0.6 and red[lower].mean() < 0.1, name
    else:
        outer = np.zeros(geom.shape, np.uint8)
        cv2.fillPoly(outer, [np.round(geom.outer * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        d_edge = cv2.distanceTransform(outer, cv2.DIST_L2, 3)
        edge = painted & (d_edge <= 1.5)
        inner = painted & (d_edge >= np.percentile(d_edge[painted], 60))
        assert red[inner].mean() > red[edge].mean() + 0.3, name


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"style": "stripes", "secondary_color": "#FFFFFF"}, "style"),
        ({"style": "ombre"}, "secondary_color"),
        ({"style": "ombre", "secondary_color": "#12"}, "secondary_color"),
        ({"style": "two_tone", "secondary_color": "#FFFFFF", "liner_color": "#000000", "liner_width": 0.03},
         "liner_color"),
        ({"refine_edges": "yes"}, "refine_edges"),
        ({"scene_light": 1}, "scene_light"),
    ],
)
def test_bad_style_options(kwargs, field):
    with pytest.raises(InputError, match=field):
        LipstickOptions(**kwargs)


def test_light_shades_keep_deep_lips_depth():
    """A shade much lighter than the lips lifts them only part of the way (no chalky sticker); darker
    shades and shades close to the lips' lightness are untouched."""
    from arlens.lenses.lipstick import keep_depth

    params = np.stack([C.shade_params(c) for c in ("#F2C6B0", "#4A0F1D", "#B3172B")])
    kept = keep_depth(params, 40.0)
    lifted = 40.0 + kept[0, C.P_FOLLOW] * (params[0, C.P_L] - 40.0)
    assert 55 < lifted < params[0, C.P_L] - 10
    np.testing.assert_array_equal(kept[1:], params[1:])  # darker, or within DEPTH_FREE
    np.testing.assert_array_equal(keep_depth(params, 85.0), params)


# -- hostile geometry: cost follows the pixels drawn (frame ∩ lips), not the landmarks' extent ----------

def _traced_peak(fn) -> int:
    """Peak bytes allocated through Python's allocators while ``fn`` runs (numpy's and OpenCV's arrays)."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _scaled_mouth(face: Face, width: float, centre: tuple[float, float]) -> Face:
    """``face`` scaled about its mouth so the mouth is ``width`` px wide, the mouth centred at ``centre``."""
    from arlens.tracking.results import bbox_of

    lips = face.landmarks[list(named.lips_outer()), :2]
    s = np.float32(width / np.ptp(lips[:, 0]))
    lm = face.landmarks.copy()
    lm[:, :2] = (lm[:, :2] - lips.mean(axis=0)) * s + np.float32(centre)
    lm[:, 2] *= s
    return Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))


@pytest.mark.parametrize("backend", ["numpy", "onnx"])
@pytest.mark.parametrize("x", [100_000.0, 600_000.0])
def test_a_lip_point_far_off_frame_costs_no_more_than_the_frame(all_stills, backend, x):
    """Lip point 0 at x = 600,000 px segfaulted (both backends); at 100,000 it took 2.2 GB and minutes."""
    from arlens.tracking.results import bbox_of

    _, image, face = all_stills[1]
    lm = face.landmarks.copy()
    lm[named.lips_outer()[0], 0] = x
    far = Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))
    with LipstickLens(color="#A4161A", finish="shimmer", backend=backend, providers=("CPUExecutionProvider",)) as lens:
        out = image.copy()
        peak = _traced_peak(lambda: lens.render_into(out, [far]))
    assert peak < 20 * image.nbytes, peak
    assert out.shape == image.shape


@pytest.mark.parametrize("width", [2800.0, 11000.0])
def test_close_up_mouths_cost_what_the_frame_holds(all_stills, width):
    """Close-ups took 0.47 s (2,800 px mouth) to 75 s (11,000 px), rasterising and blurring the whole mouth
    at 4x4 samples however little of it the frame held; memory now follows the painted pixels."""
    _, image, face = all_stills[1]
    frame = np.ascontiguousarray(cv2.resize(image, (1200, 900)))
    big = _scaled_mouth(face, width, (600.0, 450.0))
    with LipstickLens(color="#A4161A", finish="shimmer", liner_color="#401010", liner_width=0.03) as lens:
        out = frame.copy()
        peak = _traced_peak(lambda: lens.render_into(out, [big]))
    painted = int((out != frame).any(axis=2).sum())
    assert painted > 0.2 * frame.shape[0] * frame.shape[1]  # the lips fill much of the frame
    assert peak < 250 * frame.shape[0] * frame.shape[1], peak  # ~170 bytes per painted pixel
