"""TryOn session: stacked lenses, hotspots, product stepping, events, snapshots and misuse."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

import arlens
from arlens.events import BuyLinkShown, Dwell, LensShown, MemoryEventSink, ShadeChanged, SnapshotTaken
from arlens.session import (
    Hotspot,
    ProductError,
    TryOn,
    TryOnOptions,
    TryOnResult,
    UnknownProductError,
)
from tests.support import read_image


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    return read_image("faces/astronaut.png")


@pytest.fixture(scope="module")
def catalog():
    return arlens.Catalog.default()


def _lip_mask(result: TryOnResult) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the lip hotspot box and of everything far (> 40 px) from the face."""
    h, w = result.frame.shape[:2]
    lips = next(s for s in result.hotspots if s.kind == "lipstick")
    x0, y0, x1, y1 = lips.bbox.astype(int)
    inside = np.zeros((h, w), bool)
    inside[y0:y1, x0:x1] = True
    fx0, fy0, fx1, fy1 = result.faces[0].bbox.astype(int)
    far = np.ones((h, w), bool)
    far[max(fy0 - 40, 0) : fy1 + 40, max(fx0 - 40, 0) : fx1 + 40] = False
    return inside, far


def test_options_are_validated_once():
    with pytest.raises(arlens.InputError, match="max_faces"):
        TryOnOptions(max_faces=0)
    with pytest.raises(arlens.InputError, match="event_delivery"):
        TryOnOptions(event_delivery="sometimes")  # type: ignore[arg-type]
    with pytest.raises(arlens.InputError, match="lipstick_backend"):
        TryOnOptions(lipstick_backend="cuda")


def test_unknown_product_is_named(catalog):
    with pytest.raises(UnknownProductError, match="'NOPE-1'"):
        TryOn(catalog, ["NOPE-1"])


def test_process_image_applies_stacked_lenses(portrait, catalog):
    before = portrait.copy()
    with TryOn(catalog, ["LIP-004", "EYE-101"]) as session:
        result = session.process_image(portrait)
    assert np.array_equal(portrait, before), "the input frame was modified"
    assert result.frame.shape == portrait.shape and result.frame.dtype == np.uint8
    assert result.frame is not portrait
    assert len(result.faces) == 1
    assert [h.product_id for h in result.hotspots] == ["LIP-004", "EYE-101"]  # lips first, glasses on top
    inside, far = _lip_mask(result)
    diff = np.abs(result.frame.astype(int) - portrait.astype(int)).max(axis=2)
    assert (diff[inside] > 10).mean() > 0.2, "the lips were not painted"
    assert diff[far].max() == 0, "pixels far from the face changed"
    lips, glasses = result.hotspots
    assert isinstance(lips, Hotspot) and lips.price_text == "24.00 USD"
    assert "utm_content=LIP-004" in lips.buy_link and "utm_source=arlens" in lips.buy_link
    assert lips.title == catalog["LIP-004"].title and lips.target == "face"
    # the glasses' box is above the lips' and wider
    assert glasses.bbox[3] < lips.bbox[1] and glasses.bbox[2] - glasses.bbox[0] > lips.bbox[2] - lips.bbox[0]


def test_no_face_no_hotspots_and_untouched_frame(catalog):
    blank = np.full((240, 320, 3), 127, np.uint8)
    with TryOn(catalog, ["LIP-001"]) as session:
        result = session.process_image(blank)
    assert result.faces == () and result.hotspots == ()
    assert np.array_equal(result.frame, blank) and result.frame is not blank


def test_gray_input_gives_bgr_of_the_same_size(portrait, catalog):
    gray = portrait[..., 1].copy()
    with TryOn(catalog, ["LIP-001"]) as session:
        result = session.process_image(gray)
    assert result.frame.shape == (*gray.shape, 3)


def test_next_previous_wrap_within_kind(catalog):
    lips = [p.id for p in catalog.filter(kind="lipstick")]
    frames = [p.id for p in catalog.filter(kind="eyewear")]
    with TryOn(catalog, [lips[-1], frames[0]]) as session:
        assert session.next("lipstick").id == lips[0]  # wraps
        assert session.previous("lipstick").id == lips[-1]
        assert session.current("eyewear").id == frames[0]  # other kinds untouched
        assert session.next("eyewear").id == frames[1]
        assert session.focus is arlens.ProductKind.EYEWEAR
        assert session.next().id == frames[2]  # default kind: the last one changed
        assert [p.id for p in session.products] == [lips[-1], frames[2]]
        session.select(lips[3])
        assert session.current("lipstick").id == lips[3]
        assert session.remove("eyewear").id == frames[2]
        assert session.current("eyewear") is None


def test_kind_errors(catalog):
    with TryOn(catalog) as session:
        with pytest.raises(arlens.InputError, match="kind"):
            session.next()  # nothing selected yet
        with pytest.raises(arlens.InputError, match="expected one of"):
            session.next("hats")
        assert session.next("lipstick").id == "LIP-001"


def test_product_without_lens_is_refused(catalog):
    from arlens.lenses.registry import BUILTIN, LensRegistry

    shadow = arlens.Product(
        id="SH-1", title="Shadow", link="https://shop.example/sh", price=arlens.Price("9.00", "USD"),
        kind="eyeshadow", color="#443322",
    )
    no_eyes = LensRegistry([s for s in BUILTIN if s.kind != "eyeshadow"])
    with TryOn(catalog, registry=no_eyes) as session, pytest.raises(ProductError, match="SH-1"):
        session.select(shadow)


def test_video_mode_events_and_dwell(portrait, catalog):
    sink = MemoryEventSink()
    with TryOn(catalog, ["LIP-001"], event_sink=sink, session_id="s1") as session:
        for i in range(5):
            result = session.process(portrait, i * 100)
        assert result.timestamp_ms == 400
        session.next("lipstick")
        session.process(portrait, 500)
        session.process(portrait, 600)
        link = session.show_buy_link()
        snap = session.snapshot(session.process(portrait, 700))
        with pytest.raises(arlens.InputError, match="greater than the previous"):
            session.process(portrait, 700)
    events = sink.events
    kinds = [(type(e).__name__, e.product_id) for e in events]
    assert kinds == [
        ("LensShown", "LIP-001"),
        ("Dwell", "LIP-001"),
        ("ShadeChanged", "LIP-002"),
        ("LensShown", "LIP-002"),
        ("BuyLinkShown", "LIP-002"),
        ("SnapshotTaken", "LIP-002"),
        ("Dwell", "LIP-002"),  # on close
    ]
    assert all(e.session_id == "s1" for e in events)
    dwell = [e for e in events if isinstance(e, Dwell)]
    assert dwell[0].duration_s == pytest.approx(0.4) and dwell[1].duration_s == pytest.approx(0.2)
    assert next(e for e in events if isinstance(e, ShadeChanged)).previous_product_id == "LIP-001"
    assert next(e for e in events if isinstance(e, BuyLinkShown)).via == "qr"
    assert "utm_medium=qr" in link and "utm_content=LIP-002" in link
    assert [p.id for p in snap.products] == ["LIP-002"] and snap.frame.shape == portrait.shape
    assert isinstance(events[0], LensShown) and isinstance(events[5], SnapshotTaken)


def test_lens_shown_again_only_after_the_face_was_gone(portrait, catalog):
    blank = np.zeros_like(portrait)
    sink = MemoryEventSink()
    with TryOn(catalog, ["LIP-001"], event_sink=sink, event_delivery="inline", shown_grace_ms=1000) as session:
        session.process(portrait, 0)
        session.process(blank, 100)  # one dropped frame: still "shown"
        session.process(portrait, 200)
        session.process(blank, 1000)
        session.process(blank, 2500)  # gone for > 1 s
        session.process(portrait, 2600)
    shown = [e for e in sink.events if isinstance(e, LensShown)]
    assert len(shown) == 2


class _SlowSink(MemoryEventSink):
    """A sink whose writes take 50 ms (an fsync on a slow card)."""

    def emit(self, event):
        time.sleep(0.05)
        super().emit(event)


def test_process_never_waits_for_a_slow_sink(portrait, catalog):
    sink = _SlowSink()
    with TryOn(catalog, ["LIP-001"], event_sink=sink) as session:
        session.process(portrait, 0)  # warm up (lens build)
        start = time.perf_counter()
        for i in range(10):
            session.next("lipstick")  # emits Dwell/ShadeChanged
            session.process(portrait, (i + 1) * 33)  # emits LensShown
        elapsed = time.perf_counter() - start
        assert threading.active_count() >= 2
    # 10 ShadeChanged + 10 LensShown + Dwell events at 50 ms each would take > 1 s inline
    assert elapsed < 1.0, f"process waited for the sink ({elapsed:.2f} s)"
    assert len([e for e in sink.events if isinstance(e, ShadeChanged)]) == 10  # all delivered on close


def test_queue_overflow_drops_and_counts(catalog):
    gate = threading.Event()

    class Blocked(MemoryEventSink):
        def emit(self, event):
            gate.wait(5)
            super().emit(event)

    sink = Blocked()
    session = TryOn(catalog, ["LIP-001"], event_sink=sink, event_queue_size=2)
    for _ in range(10):
        session.show_buy_link()
    assert session.dropped_events >= 7
    gate.set()
    session.close()
    assert 1 <= len(sink.events) <= 3


def test_snapshot_saves_png_and_sidecar(portrait, catalog, tmp_path):
    with TryOn(catalog, ["LIP-004"]) as session:
        result = session.process_image(portrait)
        snap = session.snapshot(result, tmp_path / "shot.png")
    meta = json.loads((tmp_path / "shot.json").read_text())
    assert meta["image"] == "shot.png" and meta["products"][0]["id"] == "LIP-004"
    assert meta["products"][0]["price"] == "24.00 USD" and "utm_content=LIP-004" in meta["products"][0]["link"]
    assert meta["time_iso"].endswith("Z")
    import cv2

    assert cv2.imread(str(tmp_path / "shot.png")).shape == portrait.shape
    assert snap.frame is not result.frame


def test_misuse_is_a_clear_error(portrait, catalog):
    session = TryOn(catalog, ["LIP-001"])
    with pytest.raises(arlens.InputError, match="timestamp_ms"):
        session.process(portrait, "now")  # type: ignore[arg-type]
    with pytest.raises(arlens.InputError, match="frame"):
        session.process(np.zeros((4, 4), np.float32), 1)
    for ts in (10**400, float("inf"), 2**60):  # 10**400 raised OverflowError
        with pytest.raises(arlens.InputError, match="timestamp_ms: expected a finite number of milliseconds"):
            session.process(portrait, ts)
    with pytest.raises(arlens.InputError, match="below 32767 px"):  # cv2.error before
        session.process(np.zeros((2, 32767, 3), np.uint8), 1)
    with pytest.raises(arlens.InputError, match="TryOnResult"):
        session.snapshot(portrait)  # type: ignore[arg-type]
    session.close()
    session.close()  # idempotent
    with pytest.raises(arlens.InputError, match="closed"):
        session.process_image(portrait)


def test_results_are_frozen(portrait, catalog):
    with TryOn(catalog, ["LIP-001"]) as session:
        result = session.process_image(portrait)
    with pytest.raises(AttributeError):
        result.frame = None  # type: ignore[misc]
    assert not result.hotspots[0].bbox.flags.writeable


def test_the_registry_decides_what_can_be_worn(portrait, catalog):
    """A session asks its registry: a kind left out of it cannot be worn, a registered factory draws."""
    from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec

    no_nails = LensRegistry(s for s in BUILTIN if s.kind != "nail_polish")
    with pytest.raises(ProductError, match="nail_polish"):
        TryOn(catalog, ["NAIL-202"], registry=no_nails)

    class Stamp:
        """Paints the face's box grey: a third party's lens."""

        def render_into(self, out, faces):
            for face in faces:
                x0, y0, x1, y1 = face.bbox.astype(int)
                out[y0:y1, x0:x1] = 128
            return out

    made = []

    def factory(product, *, catalog, options):
        made.append((product.id, catalog, options))
        return Stamp()

    registry = LensRegistry([*BUILTIN, LensSpec("lipstick", factory, "face", layer=100)])
    with TryOn(catalog, ["LIP-001"], registry=registry) as session:
        result = session.process_image(portrait)
    x0, y0, x1, y1 = result.faces[0].bbox.astype(int)
    assert (result.frame[y0:y1, x0:x1] == 128).all()
    assert made == [("LIP-001", session.catalog, session.options)]
    assert [h.product_id for h in result.hotspots] == ["LIP-001"]

def test_with_a_hand_tracker_and_recognizer_given(portrait, catalog):
    """Injected hand tracker and recognizer: their hands and gestures come back in the result."""
    from arlens.tracking.results import Hand

    pts = np.c_[np.linspace(10, 60, 21), np.linspace(10, 80, 21), np.zeros(21)].astype(np.float32)
    hand = Hand(pts, "Left", 0.9, np.array([10, 10, 60, 80], np.float32))

    class FakeHands:
        def track(self, frame, ts):
            return [hand]

        def detect(self, image):
            return [hand]

        def close(self):
            pass

    class FakeGestures:
        def update(self, hands, ts):
            return [type("G", (), {"name": "pinch", "timestamp_ms": ts})()] if ts == 33 else []

    with TryOn(catalog, ["LIP-001"], gestures=True, hand_tracker=FakeHands(),
               gesture_recognizer=FakeGestures()) as session:
        session.process(portrait, 0)
        result = session.process(portrait, 33)
    assert result.hands == (hand,)
    assert [g.name for g in result.gestures] == ["pinch"]


def _inside_fraction(result: TryOnResult, source: np.ndarray, spot: Hotspot) -> float:
    """Share of the pixels the lens changed that lie inside the hotspot's box."""
    changed = np.abs(result.frame.astype(int) - source).max(axis=2) > 0
    assert changed.sum() > 50, f"{spot.product_id}: nothing was drawn"
    x0, y0, x1, y1 = np.floor(spot.bbox[:2]).astype(int).tolist() + np.ceil(spot.bbox[2:]).astype(int).tolist()
    inside = np.zeros_like(changed)
    inside[y0:y1, x0:x1] = True
    return float((changed & inside).sum() / changed.sum())


@pytest.mark.parametrize("name", ["faces/astronaut.png", "faces/grace_hopper.jpg", "faces/frontal_smile.png"])
def test_every_hotspot_box_holds_what_its_lens_drew(catalog, name):
    """A tap target must cover the product: >= 95% of the pixels each lens changed lie in its hotspot's box
    (the box is the lens's own record of where it drew, so all of them do). The eyewear's old landmark box
    (eyes and brows widened) left 17-45% of the frames, temples and bridge outside it."""
    image = read_image(name)
    frames = [p.id for p in catalog.filter(kind="eyewear")]
    lips = [p.id for p in catalog.filter(kind="lipstick")][:2]
    for product_id in frames + lips:
        with TryOn(catalog, [product_id]) as session:
            result = session.process_image(image)
        (spot,) = result.hotspots
        assert _inside_fraction(result, image, spot) >= 0.95, (name, product_id)


def test_nail_hotspot_holds_the_painted_nails(catalog):
    image = read_image("hands/pointing.jpg")
    polish = next(iter(catalog.filter(kind="nail_polish")))
    with TryOn(catalog, [polish.id]) as session:
        result = session.process_image(image)
    (spot,) = result.hotspots
    assert spot.target == "hand"
    assert _inside_fraction(result, image, spot) >= 0.95
    hand = result.hands[0]
    # the box is the nails', not the whole hand's: much smaller than the hand's box
    area = float(np.prod(spot.bbox[2:] - spot.bbox[:2]))
    assert area < 0.5 * float(np.prod(hand.bbox[2:] - hand.bbox[:2]))


def test_summary_counts_each_exposure_once(portrait, catalog):
    """Swiping through shades emits shade_changed and lens_shown for each; the summary counts the exposure once.

    Shades: LIP-001 at the start, swipe to LIP-002 and LIP-003, back to LIP-001 (a second exposure of it),
    and a swipe made while nobody is in view (LIP-002 again: selected, never shown)."""
    from arlens.events import summarize

    blank = np.zeros_like(portrait)
    sink = MemoryEventSink()
    with TryOn(catalog, ["LIP-001"], event_sink=sink, event_delivery="inline", shown_grace_ms=500) as session:
        ts = 0
        for step in ("LIP-002", "LIP-003", "LIP-001"):
            for _ in range(3):
                session.process(portrait, ts)
                ts += 100
            session.select(step)
        for _ in range(3):
            session.process(portrait, ts)
            ts += 100
        for _ in range(8):  # the person leaves
            session.process(blank, ts)
            ts += 100
        session.select("LIP-002")
        session.process(blank, ts)
    summary = summarize(sink.events)
    counts = {p.product_id: (p.shown, p.selected) for p in summary.products}
    assert counts == {"LIP-001": (2, 1), "LIP-002": (1, 2), "LIP-003": (1, 1)}
    assert summary["LIP-002"].sessions == 1


def test_one_scene_per_frame_shared_by_every_lens(portrait, catalog):
    """Every lens gets the same Scene: of the unrendered input frame, with the faces, hands and camera."""
    from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec
    from arlens.scene import Scene
    from arlens.tracking.results import Hand

    seen = []

    class Recorder:
        scene_uses = frozenset({"occluders"})

        def __init__(self, value):
            self.value = value

        def render_into(self, out, faces, scene=None):
            seen.append((self.value, scene, scene.frame.copy()))
            out[:4, :4] = self.value  # drawing must not reach the scene's frame
            return out

    def factory(value):
        return lambda product, *, catalog, options: Recorder(value)

    pts = np.c_[np.linspace(10, 60, 21), np.linspace(10, 80, 21), np.zeros(21)].astype(np.float32)
    hand = Hand(pts, "Left", 0.9, np.array([10, 10, 60, 80], np.float32))

    class FakeHands:
        def detect(self, image):
            return [hand]

        def close(self):
            pass

    registry = LensRegistry([*BUILTIN, LensSpec("lipstick", factory(50), "face", layer=100),
                             LensSpec("eyewear", factory(200), "face", layer=200)])
    with TryOn(catalog, ["LIP-001", "EYE-101"], registry=registry, fov_y_deg=50, hand_tracker=FakeHands()) as session:
        result = session.process_image(portrait)
        session.process_image(portrait)
    assert [v for v, _, _ in seen] == [50, 200, 50, 200]
    first, second = seen[0][1], seen[1][1]
    assert isinstance(first, Scene) and first is second and seen[2][1] is not first
    assert np.array_equal(seen[1][2], portrait)  # the second lens still reads the unrendered frame
    assert first.faces == result.faces and first.hands == (hand,)  # hands tracked for a lens using occluders
    assert (first.camera.width, first.camera.height, first.camera.fov_y_deg) == (512, 512, 50)
    assert (result.frame[:4, :4] == 200).all()


def test_consecutive_lenses_of_a_class_that_draws_several_at_once_are_drawn_in_one_call(portrait, catalog):
    """A run of lenses whose class has ``render_group`` (the make-up line) is handed to it once, in drawing order; a
    lens of another class between them ends the run; every product keeps its hotspot from its own drawn box."""
    from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec

    calls = []

    class Grouped:
        scene_uses = frozenset()

        def __init__(self, value):
            self.value = value
            self.drawn_boxes = ()

        def render_into(self, out, faces, scene=None):
            calls.append(("alone", self.value))
            return out

        @classmethod
        def render_group(cls, lenses, out, faces, scene=None):
            calls.append(("group", tuple(lens.value for lens in lenses), scene is not None))
            for lens in lenses:
                out[lens.value : lens.value + 2, :2] = lens.value
                lens.drawn_boxes = (np.array([0, lens.value, 2, lens.value + 2], np.float32),) * len(faces)
            return out

    def factory(value):
        return lambda product, *, catalog, options: Grouped(value)

    registry = LensRegistry([*BUILTIN, LensSpec("foundation", factory(10), "face", layer=10),
                             LensSpec("blush", factory(20), "face", layer=40),
                             LensSpec("eyeshadow", factory(30), "face", layer=50)])
    with TryOn(catalog, ["FDN-330", "BLS-001", "EYS-001", "LIP-001"], registry=registry) as session:
        result = session.process_image(portrait)
    assert calls == [("group", (10, 20, 30), True)]  # one call, in make-up order, with the frame's scene
    assert (result.frame[10:12, :2] == 10).all() and (result.frame[30:32, :2] == 30).all()
    boxes = {h.product_id: h.bbox for h in result.hotspots}
    assert tuple(boxes["BLS-001"]) == (0, 20, 2, 22) and "LIP-001" in boxes


# --- looks: a named set of products, stacked in make-up order, shoppable item by item and as a set ---------


def test_a_look_is_stacked_in_makeup_order_with_a_hotspot_per_product(portrait, catalog, face_tracker):
    from arlens.events import LookApplied

    sink = MemoryEventSink()
    look = catalog.look("LOOK-GLAM")
    with TryOn(catalog, ["EYE-101", "NAIL-201"], event_sink=sink, event_delivery="inline",
               face_tracker=face_tracker) as session:
        worn = session.wear_look("LOOK-GLAM")
        assert [p.id for p in worn] == list(look.product_ids)
        order = [p.kind.value for p in session.products]
        assert order == ["foundation", "contour", "highlighter", "blush", "eyeshadow", "eyeliner", "mascara", "brow",
                         "lipstick"]  # make-up order; the glasses and nails came off: the look is what is worn
        assert session.look is look
        result = session.process_image(portrait)
        assert result.products == tuple(p.id for p in session.products)
        spots = {h.product_id: h for h in result.hotspots}
        face = result.faces[0].bbox
        for pid in look.product_ids:
            spot = spots[pid]
            assert spot.buy_link.startswith(catalog[pid].link) and "utm_content=" + pid in spot.buy_link
            x0, y0, x1, y1 = spot.bbox
            assert x1 > x0 and y1 > y0 and x0 >= face[0] - 20 and x1 <= face[2] + 20  # on the face
        eye_box, lip_box = spots["EYS-002"].bbox, spots["LIP-009"].bbox
        assert eye_box[3] < lip_box[1]  # the eyeshadow's hotspot is above the lipstick's
        assert spots["FDN-330"].bbox[3] - spots["FDN-330"].bbox[1] > 2 * (eye_box[3] - eye_box[1])  # the whole face
        link = session.show_buy_link("LOOK-GLAM")
        assert link.startswith(look.link) and "utm_medium=qr" in link and "utm_content=LOOK-GLAM" in link
        with pytest.raises(arlens.InputError, match="no link of its own"):
            session.show_buy_link("LOOK-NIGHT")
        session.next("lipstick")
        assert session.look is None  # no longer the whole look
    applied = [e for e in sink.events if isinstance(e, LookApplied)]
    assert [(e.product_id, e.products) for e in applied] == [("LOOK-GLAM", ",".join(look.product_ids))]
    assert any(isinstance(e, BuyLinkShown) and e.product_id == "LOOK-GLAM" for e in sink.events)


def test_a_look_can_keep_other_products_and_bad_looks_are_refused(catalog, face_tracker):
    with TryOn(catalog, ["EYE-101"], face_tracker=face_tracker) as session:
        session.wear_look(catalog.look("LOOK-DAY"), keep_others=True)
        assert "EYE-101" in [p.id for p in session.products]
        with pytest.raises(UnknownProductError, match="unknown look 'NOPE'"):
            session.wear_look("NOPE")
        with pytest.raises(arlens.InputError, match="look"):
            session.wear_look(3)  # type: ignore[arg-type]


def test_every_kind_of_the_demo_catalog_is_drawn(portrait, catalog, face_tracker):
    with TryOn(catalog, face_tracker=face_tracker) as session:
        kinds = {k.value for k in session.kinds}
        assert kinds >= {"foundation", "contour", "highlighter", "blush", "eyeshadow", "eyeliner", "mascara", "brow",
                         "lipstick", "eyewear", "nail_polish"}


def test_a_face_already_wearing_glasses_is_reported(catalog):
    """While a pair of glasses is worn the session says whether each face already wears some (Grace Hopper
    does), so an app can ask for them to be taken off; without eyewear it does not look."""
    grace, astronaut = read_image("faces/grace_hopper.jpg"), read_image("faces/astronaut.png")
    with TryOn(catalog, ["EYE-101"]) as session:
        assert session.process_image(grace).faces[0].wears_glasses is True
        assert session.process_image(astronaut).faces[0].wears_glasses is False
    with TryOn(catalog, ["LIP-001"]) as session:
        assert session.process_image(grace).faces[0].glasses is None
    with TryOn(catalog, ["LIP-001"], check_glasses=True) as session:
        assert session.process_image(grace).faces[0].glasses >= 0.5


def test_several_shoppers_each_wear_the_current_products(catalog):
    """Three faces of different sizes (30-110 px inter-ocular distance) in a 1280x720 kiosk frame: each keeps
    its track id across frames, each gets the lipstick and the glasses, and a hotspot of its own per product."""
    from tests.support import benchmarks_module

    scenes = benchmarks_module("kiosk_scenes")
    stills = {name: read_image(f"faces/{name}") for name in scenes.STILL_GEOMETRY}
    frame = scenes.scene(scenes.GROUP_SCENES[1], stills)
    with TryOn(catalog, ["LIP-004", "EYE-101"], max_faces=3) as session:
        results = [session.process(frame, t * 33) for t in range(10)]
    ids = [sorted(f.track_id for f in r.faces) for r in results[7:]]  # all found within seven frames
    assert ids[0] == ids[1] == ids[2] and len(set(ids[0])) == 3
    last = results[-1]
    diff = np.abs(last.frame.astype(int) - frame.astype(int)).max(axis=2)
    for face in last.faces:
        spots = {h.product_id: h for h in last.hotspots if h.track_id == face.track_id}
        assert set(spots) == {"LIP-004", "EYE-101"}
        x0, y0, x1, y1 = spots["LIP-004"].bbox.astype(int)
        lips = face.landmarks[list(arlens.landmarks.lips_outer()), :2].mean(axis=0)
        assert x0 <= lips[0] <= x1 and y0 <= lips[1] <= y1
        assert diff[y0 : y1 + 1, x0 : x1 + 1].max() > 10, f"face {face.track_id}: nothing drawn on the lips"


def test_a_segmenter_gives_every_scene_a_person_mask():
    """TryOn(segmenter=...): the lipstick asks each frame's scene for the person mask over the lips (once
    a frame), and the session leaves the segmenter open."""
    from arlens.tracking.segmentation import PersonSegmenter

    image = read_image("faces/astronaut.png")

    class Counting(PersonSegmenter):
        calls = 0

        def segment(self, frame):
            Counting.calls += 1
            return super().segment(frame)

    seg = Counting()
    with TryOn(products=["LIP-001"], segmenter=seg) as session:
        session.process(image, 0.0)
        session.process(image, 33.0)
    assert Counting.calls == 2
    assert seg.segment(image).low.shape == (256, 256)  # still open
    seg.close()


def test_lenses_that_prepare_start_before_any_lens_draws(portrait, catalog):
    """A lens offering ``prepare`` (the glasses' drawing, overlapped with the lenses before them) is handed the
    frame's scene and its targets before the first lens draws, then drawn in its turn with the same ones."""
    from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec

    calls = []

    class Plain:
        scene_uses = frozenset()

        def render_into(self, out, faces, scene=None):
            calls.append(("draw", "lips", scene))
            return out

    class Prepared(Plain):
        def prepare(self, faces, scene):
            calls.append(("prepare", tuple(faces), scene))

        def render_into(self, out, faces, scene=None):
            calls.append(("draw", tuple(faces), scene))
            return out

    registry = LensRegistry([*BUILTIN, LensSpec("lipstick", lambda p, **_: Plain(), "face", layer=100),
                             LensSpec("eyewear", lambda p, **_: Prepared(), "face", layer=200)])
    with TryOn(catalog, ["LIP-001", "EYE-101"], registry=registry) as session:
        result = session.process_image(portrait)
        assert result.faces
        calls_with_faces = list(calls)
        calls.clear()
        session.process_image(np.zeros_like(portrait))  # no face: nothing prepared or drawn
    assert [c[0] for c in calls_with_faces] == ["prepare", "draw", "draw"]
    (_, prepared_faces, scene), lips, glasses = calls_with_faces
    assert prepared_faces == result.faces == glasses[1] and lips[2] is scene is glasses[2]
    assert calls == []
