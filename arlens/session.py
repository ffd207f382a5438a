"""The try-on session: trackers, a stack of product lenses, hotspots and attribution events in one object.

:class:`TryOn` is what an app embeds. It owns a :class:`~arlens.tracking.face.FaceTracker` (and, when
hands are needed and the hand modules are installed, a ``HandTracker`` and a gesture recognizer),
keeps one current product per product kind (a lipstick, a lip liner and a pair of glasses can be worn
at once), builds each product's lens the first time it is drawn and keeps it for the session's
lifetime, and turns every frame into a :class:`TryOnResult`::

    with arlens.TryOn(products=["LIP-004", "EYE-101"]) as session:
        result = session.process(frame, timestamp_ms)    # video: consecutive frames of one stream
        result = session.process_image(photo)            # stills: unrelated images
        for spot in result.hotspots:
            print(spot.title, spot.price, spot.buy_link, spot.bbox)
        session.next("lipstick")                         # next shade, wrapping within the kind

Running modes are explicit: :meth:`TryOn.process` is for frames of one stream with increasing
timestamps (tracking and smoothing carry over), :meth:`TryOn.process_image` for unrelated stills.

Each frame gets one :class:`~arlens.scene.Scene`, built from the unrendered frame with its faces, hands
and camera and handed to every lens; what the lenses ask of it (occluders, light, colour models) is
computed once, when first asked.

Which kinds can be worn, what each is drawn on and in which order come from the lens registry
(:mod:`arlens.lenses.registry`): colour products on the face first (lip liner, lipstick, ...), then
eyewear on top, then nail polish on the hands.

Frames: the input is never modified and never kept; the result's ``frame`` is a new uint8 BGR array
of the input's height and width. The only way to keep a frame is :meth:`TryOn.snapshot`.

Events (:mod:`arlens.events`) are emitted as things happen:

- ``LensShown`` when a product's lens starts being drawn on someone (again after they were gone for
  ``TryOnOptions.shown_grace_ms`` of stream time);
- ``ShadeChanged`` when a product replaces another of the same kind (:meth:`TryOn.select`,
  :meth:`TryOn.next`, :meth:`TryOn.previous`);
- ``Dwell`` with the stream time a product was actually drawn on someone, when it is replaced or
  removed and on :meth:`TryOn.close` (video mode only; stills have no duration);
- ``BuyLinkShown`` from :meth:`TryOn.show_buy_link`, ``SnapshotTaken`` from :meth:`TryOn.snapshot`;
- ``LookApplied`` from :meth:`TryOn.wear_look` (its ``product_id`` is the look's ID).

I/O policy: :meth:`TryOn.process` never blocks on I/O. By default (``event_delivery="background"``)
events go into a bounded queue (``event_queue_size``) drained by one daemon thread that calls the
sink's ``emit``, so a durable sink's fsync (:class:`~arlens.events.JsonlEventSink` syncs every event by
default, milliseconds each on an SD card) never stalls a frame. Order is kept; if the sink falls so far
behind that the queue is full, new events are dropped and counted (:attr:`TryOn.dropped_events`, logged)
rather than blocking the camera loop. :meth:`TryOn.flush_events` waits for the queue to drain and
:meth:`TryOn.close` drains it before returning, so every event of a closed session has been handed to
the sink. ``event_delivery="inline"`` calls the sink on the caller's thread instead (for sinks that
only append to memory). The session never closes the sink: whoever made it owns it.

Pipelined (:meth:`TryOn.submit`, :meth:`TryOn.flush`): frame N is tracked on the session's own worker
thread while frame N-1 is drawn on the caller's, and each call returns the previous frame's result, the
same pixels :meth:`TryOn.process` gives; a kiosk's two cores then take about the longer of tracking and
drawing per frame instead of their sum, one frame later. On a worker thread the two still take turns at
Python's GIL; ``TryOnOptions(tracking_process=True)`` tracks in a worker process of the session's own
(:mod:`arlens.tracking_process`) instead, with the same results.

Not thread-safe: use a session from one thread (GL contexts of eyewear lenses are bound to it); the
worker thread of ``submit`` only tracks, and only while ``submit`` runs; the hand thread of
``TryOnOptions.parallel_tracking`` only tracks hands, and only while a frame is tracked.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from arlens import landmarks as L
from arlens.catalog import Catalog, Price, Product, ProductKind, UtmTags
from arlens.catalog.looks import Look
from arlens.errors import InputError
from arlens.events import (
    BuyLinkShown,
    Dwell,
    EventSink,
    LensShown,
    LookApplied,
    ShadeChanged,
    SnapshotTaken,
    TryOnEvent,
)
from arlens.image import as_bgr
from arlens.lenses.base import groups, takes_scene
from arlens.lenses.registry import LensRegistry, LensSpec, default_registry
from arlens.scene import Scene, SceneMemory, SceneOptions
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.results import Face, Hand
from arlens.tracking.timestamps import check_timestamp

logger = logging.getLogger(__name__)

QR_UTM = UtmTags(medium="qr")
"""Tags of buy links shown as a QR code (``utm_medium=qr``), as :mod:`arlens.catalog.qr` uses."""


class ProductError(InputError):
    """A product the session cannot wear: unknown, or of a kind no lens draws (an ``InputError``)."""


class UnknownProductError(ProductError):
    """A product ID that is not in the session's catalog."""


# --------------------------------------------------------------------------------------------------
# values


@dataclass(frozen=True)
class TryOnOptions:
    """Settings of a :class:`TryOn` session, validated once when it is built.

    Attributes:
        max_faces: most faces tracked (each gets every face lens).
        max_hands: most hands tracked when hands are on.
        hands: track hands: ``True``, ``False``, or ``None`` (default) for "when needed": a nail
            product is current, ``gestures`` is on, or a face is in view and a current lens reads
            occluders from the scene (the lipstick: a hand over the mouth is not painted). Needs the
            hand modules; without them the session runs on faces only and logs a warning once. When the
            hands are needed only as occluders, only hands near the faces are looked for and tracked
            (``HandTracker.track``'s ``region``: the faces' boxes widened by 1.5 face sizes to each side,
            one up and two down, :func:`occluder_region`).
        hand_search_interval: while fewer than ``max_hands`` hands are tracked, look for new ones (palm
            detection) on one frame in this many, and on the frame after a hand is lost
            (:class:`~arlens.tracking.hand.HandTrackerOptions` ``search_interval``). 1 is MediaPipe's
            graph (every frame, about half the cost of tracking one hand); the default, 3, picks a new
            hand up at most two frames (67 ms at 30 fps) later than that.
        hand_search_interval_tracking: the same while at least one hand is already tracked: how often a
            second hand is looked for (:class:`~arlens.tracking.hand.HandTrackerOptions`
            ``search_interval_tracking``; None: ``hand_search_interval``). The default, 6, picks a second hand
            up at most five frames (167 ms at 30 fps) after it comes into view, 2.5 frames on average
            (``benchmarks/bench_hands.py``), and takes the palm search off two frames in six of a shopper
            showing one hand: 0.89x-0.97x the time per frame of a kiosk frame with the tracking in its own
            process (``benchmarks/bench_kiosk.py``), where a palm search frame is one the drawing waits for.
            A first hand is still looked for every ``hand_search_interval`` frames.
        gestures: recognise hand gestures (swipe, pinch, thumbs up, ...) into ``TryOnResult.gestures``.
        refine_landmarks: ``"needed"`` (default): each video frame's faces (:meth:`TryOn.process`,
            :meth:`TryOn.submit`) are tracked with only the face mesh refinements (refined lips, eyes,
            irises) the current products' lenses read (their :class:`~arlens.lenses.registry.LensSpec`
            ``refinements``: the lipstick the lips, glasses none), which saves up to half of the mesh
            model's time; the faces in those results then have the mesh's own points where no refinement
            ran (irises at the eye contours' centres). ``"all"``: the face tracker's own setting on every
            frame (all three by default, FaceMesh's ``refine_landmarks=True``), for apps that read the
            irises or refined eyes themselves. Stills (:meth:`TryOn.process_image`) always get the tracker's
            own setting: a photo's render is the one a catalog preview makes of it.
        fov_y_deg: vertical field of view of the camera, shared by head pose and eyewear projection.
        device: ONNX Runtime device of the trackers, ``"cpu"``, ``"cuda"`` or ``"tensorrt"``.
        lipstick_backend: ``"numpy"`` (reference) or ``"onnx"`` for the lip lenses.
        utm: UTM tags of the buy links in hotspots and of ``show_buy_link(via="click")``.
        shown_grace_ms: how long (stream time) nobody may be in view before a product counts as no
            longer shown, so a dropped frame does not emit a second ``LensShown``.
        max_dwell_gap_ms: longest gap between two frames counted into dwell time (a stalled stream
            does not inflate it).
        event_delivery: ``"background"`` (default: a bounded queue and one thread, ``process`` never
            waits on the sink) or ``"inline"`` (the sink is called on the caller's thread).
        event_queue_size: capacity of the background queue.
        check_glasses: check whether each face already wears glasses (``Face.glasses`` in the result, about a
            third of a millisecond a face): ``True``, ``False``, or ``None`` (default) while a pair of glasses
            is worn, so an app can say "take your glasses off for the best fit".
        parallel_tracking: in video mode, while hands are tracked everywhere in the frame (a nail product,
            gestures, ``hands=True``), track them on a thread of their own while the faces are tracked (ONNX
            Runtime releases the GIL while a model runs): a frame's tracking then takes about the longer of
            the two on a machine with a core to spare, not their sum, with the same results. Hands wanted
            only around the faces (occluders) are tracked after them, as they need the faces' boxes.
        tracking_process: track every frame (video and stills) in a worker process of the session's own
            (:mod:`arlens.tracking_process`, started on the first frame) instead of in this one. With
            :meth:`TryOn.submit` the tracking of frame N then runs beside the drawing of frame N-1 without
            the two taking turns at Python's GIL: on two cores 0.92-0.98x the time per frame of the worker
            thread, and the kiosk loop 0.85x its sequential frame time (``benchmarks/bench_kiosk.py``),
            with the same results pixel for pixel. It costs a second Python process (about 280 MB resident
            with the face and hand models) and a copy of each frame into memory the two share;
            :meth:`TryOn.process` gains nothing from it. Trackers passed to :class:`TryOn` cannot move to
            another process: with them this must stay False.
    """

    max_faces: int = 1
    max_hands: int = 2
    hands: bool | None = None
    hand_search_interval: int = 3
    hand_search_interval_tracking: int | None = 6
    gestures: bool = False
    refine_landmarks: Literal["needed", "all"] = "needed"
    fov_y_deg: float = 63.0
    device: str = "cpu"
    lipstick_backend: str = "numpy"
    utm: UtmTags = field(default_factory=UtmTags)
    shown_grace_ms: float = 1500.0
    max_dwell_gap_ms: float = 1000.0
    event_delivery: Literal["background", "inline"] = "background"
    event_queue_size: int = 1024
    check_glasses: bool | None = None
    parallel_tracking: bool = True
    tracking_process: bool = False

    def __post_init__(self) -> None:
        for name in ("max_faces", "max_hands", "hand_search_interval", "event_queue_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"TryOnOptions.{name}: expected an int >= 1, got {v!r}")
        v = self.hand_search_interval_tracking
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise InputError(f"TryOnOptions.hand_search_interval_tracking: expected None or an int >= 1, got {v!r}")
        if self.hands not in (None, True, False):
            raise InputError(f"TryOnOptions.hands: expected True, False or None, got {self.hands!r}")
        if not 1.0 <= float(self.fov_y_deg) <= 170.0:
            raise InputError(f"TryOnOptions.fov_y_deg: expected a value in [1, 170], got {self.fov_y_deg!r}")
        if self.lipstick_backend not in ("numpy", "onnx"):
            raise InputError(
                f"TryOnOptions.lipstick_backend: expected 'numpy' or 'onnx', got {self.lipstick_backend!r}"
            )
        if not isinstance(self.utm, UtmTags):
            raise InputError(f"TryOnOptions.utm: expected UtmTags, got {type(self.utm).__name__}")
        for name in ("shown_grace_ms", "max_dwell_gap_ms"):
            if not float(getattr(self, name)) >= 0:
                raise InputError(f"TryOnOptions.{name}: expected >= 0, got {getattr(self, name)!r}")
        if self.refine_landmarks not in ("needed", "all"):
            raise InputError("TryOnOptions.refine_landmarks: expected 'needed' or 'all', "
                             f"got {self.refine_landmarks!r}")
        for name in ("parallel_tracking", "tracking_process"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"TryOnOptions.{name}: expected True or False, got {getattr(self, name)!r}")
        if self.check_glasses not in (None, True, False):
            raise InputError(f"TryOnOptions.check_glasses: expected True, False or None, got {self.check_glasses!r}")
        if self.event_delivery not in ("background", "inline"):
            raise InputError(
                f"TryOnOptions.event_delivery: expected 'background' or 'inline', got {self.event_delivery!r}"
            )


@dataclass(frozen=True)
class Hotspot:
    """Where a product is on screen and how to buy it: what an app draws a tap target or label for.

    Attributes:
        product_id, kind, title, brand: the product's.
        price: what a shopper pays now (the sale price when there is one).
        buy_link: the product link with the session's UTM tags (``utm_content`` = product ID).
        bbox: float32 (4,) x0, y0, x1, y1 in pixels of the result frame: the box around every pixel the
            product's lens drew on this face or hand (the lens reports it, ``drawn_boxes``: lips, the whole
            pair of glasses with its temples, the painted nails), clipped to the frame. Where the lens drew
            nothing there (no nail facing the camera) or reports no region (a plugin lens), the box of
            the landmarks it draws on: the lips, the eyes and brows widened to the temples, the hand.
        target: ``"face"`` or ``"hand"``.
        track_id: the face's or hand's track ID (0 in still images).
    """

    product_id: str
    kind: str
    title: str
    brand: str
    price: Price
    buy_link: str
    bbox: np.ndarray
    target: str
    track_id: int = 0

    def __post_init__(self) -> None:
        box = np.asarray(self.bbox, dtype=np.float32).reshape(-1)
        if box.shape != (4,):
            raise InputError(f"Hotspot.bbox: expected 4 values x0, y0, x1, y1, got shape {box.shape}")
        box.setflags(write=False)
        object.__setattr__(self, "bbox", box)

    @property
    def price_text(self) -> str:
        """The price as shown to shoppers, e.g. ``"24.00 USD"``."""
        return str(self.price)


@dataclass(frozen=True)
class TryOnResult:
    """What :meth:`TryOn.process` returns for one frame.

    Attributes:
        frame: uint8 BGR (H, W, 3), the input's height and width, with every current lens drawn; a new
            array (the input is never modified).
        faces: the faces tracked in the frame.
        hands: the hands tracked (empty when hands are off or unavailable).
        hotspots: one per applied product and face (or hand) it is drawn on.
        gestures: gesture events recognised in this frame (the recognizer's values: ``name``,
            ``timestamp_ms``, and e.g. ``direction`` for a swipe); empty without gestures.
        timestamp_ms: the frame's stream time, ``None`` for a still image.
        timings: milliseconds spent tracking (``faces``, ``hands``, ``gestures``) and drawing (``render``).
    """

    frame: np.ndarray
    faces: tuple[Face, ...] = ()
    hands: tuple[Hand, ...] = ()
    hotspots: tuple[Hotspot, ...] = ()
    gestures: tuple[Any, ...] = ()
    timestamp_ms: float | None = None
    timings: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frame = self.frame
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise InputError("TryOnResult.frame: expected a uint8 BGR image of shape (H, W, 3)")
        for name in ("faces", "hands", "hotspots", "gestures"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "timings", MappingProxyType(dict(self.timings)))

    @property
    def products(self) -> tuple[str, ...]:
        """IDs of the products drawn in this frame, without repeats, in drawing order."""
        return tuple(dict.fromkeys(h.product_id for h in self.hotspots))


@dataclass(frozen=True)
class Snapshot:
    """A kept frame with the products it shows (from :meth:`TryOn.snapshot`).

    Attributes:
        frame: uint8 BGR (H, W, 3), a copy owned by the snapshot.
        products: the products drawn in it.
        links: each product's buy link (same order), with the session's UTM tags.
        time: Unix time in seconds.
        session_id: the session that took it.
    """

    frame: np.ndarray
    products: tuple[Product, ...]
    links: tuple[str, ...]
    time: float
    session_id: str

    def metadata(self) -> dict[str, Any]:
        """The JSON sidecar: products (id, title, brand, kind, price, link), time (Unix and ISO 8601 UTC)."""
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.time)) + f".{int(self.time % 1 * 1000):03d}Z"
        return {
            "session_id": self.session_id,
            "time": self.time,
            "time_iso": iso,
            "width": int(self.frame.shape[1]),
            "height": int(self.frame.shape[0]),
            "products": [
                {
                    "id": p.id,
                    "title": p.title,
                    "brand": p.brand,
                    "kind": p.kind.value if p.kind else None,
                    "price": str(p.current_price),
                    "link": link,
                }
                for p, link in zip(self.products, self.links, strict=True)
            ],
        }

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write the frame as an image (``path``, e.g. ``shot.png``) and the sidecar beside it (``shot.json``).

        Returns:
            (image path, sidecar path).

        Raises:
            InputError: the image format is not one OpenCV can write.
            OSError: the files cannot be written.
        """
        import json

        import cv2

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(path.suffix or ".png", self.frame)
        if not ok:
            raise InputError(f"snapshot path: expected an image file name such as shot.png, got {str(path)!r}")
        image_path = path if path.suffix else path.with_suffix(".png")
        image_path.write_bytes(data.tobytes())
        sidecar = image_path.with_suffix(".json")
        meta = {"image": image_path.name, **self.metadata()}
        sidecar.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return image_path, sidecar


# --------------------------------------------------------------------------------------------------
# events off the frame path

_STOP = object()


class _EventDispatcher:
    """Hands events to a sink, on a background thread (bounded queue) or inline."""

    def __init__(self, sink: EventSink | None, delivery: str, maxsize: int) -> None:
        self._sink = sink
        self.dropped = 0
        self._queue: queue.Queue[Any] | None = None
        self._thread: threading.Thread | None = None
        if sink is not None and delivery == "background":
            self._queue = queue.Queue(maxsize)
            self._thread = threading.Thread(target=self._run, name="arlens-events", daemon=True)
            self._thread.start()

    def emit(self, event: TryOnEvent) -> None:
        if self._sink is None:
            return
        if self._queue is None:
            self._deliver(event)
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                logger.warning("event queue full (sink too slow): dropped %d event(s) so far", self.dropped)

    def _deliver(self, event: TryOnEvent) -> None:
        try:
            self._sink.emit(event)  # type: ignore[union-attr]
        except Exception:  # a failing sink must not take the try-on down with it
            logger.exception("event sink failed to store %s event", event.type)

    def _run(self) -> None:
        assert self._queue is not None
        while True:
            event = self._queue.get()
            try:
                if event is _STOP:
                    return
                self._deliver(event)
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        if self._queue is not None and self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def close(self) -> None:
        if self._queue is not None and self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)  # blocks only while a full queue drains
            self._thread.join()
        self._sink = None


# --------------------------------------------------------------------------------------------------
# the session


@dataclass
class _Lens:
    lens: Any
    spec: LensSpec
    takes_scene: bool = True


@dataclass
class _Showing:
    shown: bool = False
    last_seen_ms: float | None = None
    dwell_ms: float = 0.0


@dataclass
class _Tracked:
    """One frame between tracking and drawing: the unrendered frame, what was found, the products to draw."""

    image: np.ndarray
    ts: float | None
    faces: tuple[Face, ...]
    hands: tuple[Hand, ...]
    gestures: tuple[Any, ...]
    entries: list[tuple[Product, _Lens | None]]
    timings: dict[str, float]


@dataclass(frozen=True)
class TrackPlan:
    """What tracking one frame must find, worked out from the products worn: plain values, so that it can
    go to the tracking process (``TryOnOptions.tracking_process``).

    Attributes:
        refine: the face mesh refinements to run (None: the face tracker's own setting).
        glasses: check whether each face wears glasses.
        hands: track hands anywhere (True), not at all (False), or only around the faces where they may
            cover them (``"occluders"``, :func:`occluder_region`).
    """

    refine: tuple[str, ...] | None
    glasses: bool
    hands: bool | Literal["occluders"]


#: Where the palm of a hand that covers a face can be, in face sizes (the larger side of its box) beyond the
#: face's box: to either side, above, and below (a hand over the mouth has its palm under the chin).
OCCLUDER_REACH = {"side": 1.5, "up": 1.0, "down": 2.0}


def occluder_region(faces: Sequence[Face]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1): where the hands are that can cover one of ``faces``: each face's box widened by
    ``OCCLUDER_REACH``, all of them together."""
    boxes = np.array([np.asarray(f.bbox, dtype=np.float64) for f in faces])
    size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    r = OCCLUDER_REACH
    return (float((boxes[:, 0] - r["side"] * size).min()), float((boxes[:, 1] - r["up"] * size).min()),
            float((boxes[:, 2] + r["side"] * size).max()), float((boxes[:, 3] + r["down"] * size).max()))


def _kind_of(value: ProductKind | str) -> ProductKind:
    try:
        return ProductKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in ProductKind)
        raise InputError(f"kind: expected one of {kinds}, got {value!r}") from None


class TryOn:
    """A try-on session: trackers, one current product per kind, lenses, hotspots and events.

    Args:
        catalog: where product IDs are looked up (default: :meth:`arlens.Catalog.default`).
        products: the products worn from the start, as IDs or :class:`~arlens.catalog.Product` values
            (at most one per kind: a later one of the same kind replaces an earlier one).
        options: :class:`TryOnOptions`; keyword arguments build one or override its fields.
        event_sink: where events go (an :class:`~arlens.events.EventSink`), or None for no events.
        session_id: the events' session ID (default: a random one).
        face_tracker, hand_tracker, gesture_recognizer: use these instead of building them (they are
            then not closed by the session; for sharing trackers or testing).
        registry: which lens draws each kind (default: :func:`arlens.lenses.registry.default_registry`,
            arlens' own lenses and installed plugins).
        segmenter: a :class:`~arlens.tracking.segmentation.PersonSegmenter`: every frame's scene then has a
            person mask, computed when a lens asks (lipstick and nail polish keep off the background);
            not closed by the session. None (default): no segmentation.

    Raises:
        ProductError: a product that is unknown (:class:`UnknownProductError`) or of a kind no lens draws.
        InputError: bad options.
        ModelError: the tracking models are missing or corrupt.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        products: Iterable[str | Product] = (),
        *,
        options: TryOnOptions | None = None,
        event_sink: EventSink | None = None,
        session_id: str | None = None,
        face_tracker: Any | None = None,
        hand_tracker: Any | None = None,
        gesture_recognizer: Any | None = None,
        registry: LensRegistry | None = None,
        segmenter: Any | None = None,
        **option_kwargs: Any,
    ) -> None:
        if options is None:
            options = TryOnOptions(**option_kwargs)
        elif option_kwargs:
            options = replace(options, **option_kwargs)
        if not isinstance(options, TryOnOptions):
            raise InputError(f"options: expected TryOnOptions, got {type(options).__name__}")
        if isinstance(products, str | Product):
            products = [products]
        if event_sink is not None and not callable(getattr(event_sink, "emit", None)):
            raise InputError(f"event_sink: expected an EventSink (with emit), got {type(event_sink).__name__}")
        self.options = options
        self.registry = registry if registry is not None else default_registry()
        if not isinstance(self.registry, LensRegistry):
            raise InputError(f"registry: expected a LensRegistry, got {type(self.registry).__name__}")
        self.catalog = catalog if catalog is not None else Catalog.default()
        if not isinstance(self.catalog, Catalog):
            raise InputError(f"catalog: expected an arlens Catalog, got {type(self.catalog).__name__}")
        self.session_id = session_id or uuid.uuid4().hex
        self._extra: dict[str, Product] = {}  # products given as values, not in the catalog
        self._current: dict[ProductKind, Product] = {}
        self._focus: ProductKind | None = None
        self._look: Look | None = None
        self._lenses: dict[str, _Lens | None] = {}  # None: the lens could not be built (logged)
        self._showing: dict[str, _Showing] = {}
        self._last_ts: float | None = None
        self._pending: _Tracked | None = None  # submitted, not drawn yet
        self._worker: Any = None  # the tracking thread of submit(), made on first use
        self._hand_worker: Any = None  # the hand tracking thread of parallel_tracking, made on first use
        self._warned: set[str] = set()
        self._closed = False
        self._scene_options = SceneOptions(fov_y_deg=options.fov_y_deg)
        # video mode: each face track's light and colours smoothed over its frames (no flicker on a still face)
        self._scene_memory = SceneMemory()
        self._segmenter = segmenter
        self._scene_camera: PerspectiveCamera | None = None
        initial = [self._resolve(p) for p in products]

        self._owned: list[Any] = []
        self._remote: Any = None  # TryOnOptions.tracking_process: the tracking process's end in this one
        if options.tracking_process:
            given = [name for name, value in (("face_tracker", face_tracker), ("hand_tracker", hand_tracker),
                                              ("gesture_recognizer", gesture_recognizer)) if value is not None]
            if given:
                raise InputError(f"TryOnOptions.tracking_process: a {given[0]} passed to TryOn cannot move to the "
                                 "tracking process; leave it out or set tracking_process=False")
            from arlens.tracking_process import TrackingProcess

            self._remote = TrackingProcess(options)
            self._owned.append(self._remote)
        elif face_tracker is None:
            from arlens.tracking.face import FaceTracker

            face_tracker = FaceTracker(max_faces=options.max_faces, fov_y_deg=options.fov_y_deg, device=options.device)
            self._owned.append(face_tracker)
        self._face_tracker = face_tracker
        self._hand_tracker = hand_tracker
        self._gestures = gesture_recognizer
        self._events = _EventDispatcher(event_sink, options.event_delivery, options.event_queue_size)
        for product in initial:
            self._set(product, emit_change=False)

    # -- lifetime -----------------------------------------------------------------------------------
    def __enter__(self) -> TryOn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Emit the pending dwell events, hand every queued event to the sink, release trackers and lenses.

        A frame given to :meth:`submit` and not collected with :meth:`flush` is dropped. Idempotent. The
        sink itself is not closed.
        """
        if self._closed:
            return
        self._closed = True
        self._pending = None
        for worker in (self._worker, self._hand_worker):
            if worker is not None:
                worker.shutdown(wait=True)
        self._worker = self._hand_worker = None
        try:
            for product in list(self._current.values()):
                self._emit_dwell(product)
            self._events.close()
        finally:
            for entry in self._lenses.values():
                if entry is not None and hasattr(entry.lens, "close"):
                    try:
                        entry.lens.close()
                    except Exception:
                        logger.exception("closing a lens failed")
            self._lenses.clear()
            for obj in self._owned:
                try:
                    obj.close()
                except Exception:
                    logger.exception("closing %s failed", type(obj).__name__)
            self._owned.clear()

    def flush_events(self) -> None:
        """Wait until every event emitted so far has been handed to the sink."""
        self._events.flush()

    @property
    def dropped_events(self) -> int:
        """Events dropped because the background queue was full (0 unless the sink stalls)."""
        return self._events.dropped

    # -- products -----------------------------------------------------------------------------------
    @property
    def products(self) -> tuple[Product, ...]:
        """The current products, in drawing order."""
        order = {kind: i for i, kind in enumerate(self.registry.kinds())}
        return tuple(sorted(self._current.values(), key=lambda p: order[p.kind.value]))  # type: ignore[union-attr]

    @property
    def kinds(self) -> tuple[ProductKind, ...]:
        """Kinds the catalog has products of that this session can draw, in catalog order."""
        seen = dict.fromkeys(p.kind for p in self.catalog if p.kind is not None and p.kind in self.registry)
        return tuple(seen)  # type: ignore[arg-type]

    @property
    def focus(self) -> ProductKind | None:
        """The kind :meth:`next` and :meth:`previous` change when called without one (the last selected)."""
        return self._focus

    def product(self, product_id: str) -> Product:
        """The product with this ID.

        Raises:
            UnknownProductError: no such product in the catalog (nor given to the session).
        """
        if not isinstance(product_id, str):
            raise InputError(f"product_id: expected a product ID string, got {type(product_id).__name__}")
        found = self.catalog.get(product_id) or self._extra.get(product_id)
        if found is None:
            source = f" {self.catalog.source}" if self.catalog.source else ""
            hint = self.catalog.unknown_id_hint(product_id)
            raise UnknownProductError(f"unknown product {product_id!r}: not in catalog{source}{hint}")
        return found

    def current(self, kind: ProductKind | str) -> Product | None:
        """The product worn for ``kind``, or None."""
        return self._current.get(_kind_of(kind))

    def select(self, product: str | Product) -> Product:
        """Wear ``product`` (an ID or a Product), replacing the current one of its kind.

        Emits ``Dwell`` for the replaced product and ``ShadeChanged``. Returns the product.

        Raises:
            UnknownProductError: the ID is not in the catalog.
            ProductError: the product has no kind arlens can draw.
        """
        self._check_open()
        resolved = self._resolve(product)
        self._set(resolved, emit_change=True)
        return resolved

    def wear_look(self, look: str | Look, *, keep_others: bool = False) -> tuple[Product, ...]:
        """Wear every product of a look (stacked in make-up order), replacing the current ones of their kinds.

        Each product keeps its own hotspot and buy link; the set's total and link come from the
        :class:`~arlens.catalog.looks.Look`. Emits ``LookApplied`` (and ``ShadeChanged`` / ``Dwell`` for what it
        replaces).

        Args:
            look: a look ID of the catalog, or a Look of its products.
            keep_others: keep wearing products of kinds the look does not have (default: take them off, so
                what is worn is the look).

        Returns:
            The look's products.

        Raises:
            UnknownProductError: no such look, or one of its products is not in the catalog.
            ProductError: one of its products has a kind no lens draws.
        """
        self._check_open()
        if isinstance(look, str):
            try:
                look = self.catalog.look(look)
            except KeyError:
                source = f" {self.catalog.source}" if self.catalog.source else ""
                raise UnknownProductError(f"unknown look {look!r}: not in catalog{source}") from None
        if not isinstance(look, Look):
            raise InputError(f"look: expected a look ID or Look, got {type(look).__name__}")
        products = tuple(self._resolve(pid) for pid in look.product_ids)  # all checked before any change
        if not keep_others:
            worn = {p.kind for p in products}
            for kind in [k for k in self._current if k not in worn]:
                self.remove(kind)
        for product in products:
            self._set(product, emit_change=True)
        self._look = look
        self._emit(LookApplied, look.id, products=",".join(look.product_ids)[:256])
        return products

    @property
    def look(self) -> Look | None:
        """The look last put on with :meth:`wear_look`, while every one of its products is still worn."""
        look = self._look
        if look is None:
            return None
        worn = {p.id for p in self._current.values()}
        return look if worn.issuperset(look.product_ids) else None

    def remove(self, kind: ProductKind | str) -> Product | None:
        """Stop wearing the product of ``kind`` (emits its ``Dwell``); returns it, or None."""
        self._check_open()
        old = self._current.pop(_kind_of(kind), None)
        if old is not None:
            self._emit_dwell(old)
            self._showing.pop(old.id, None)
        return old

    def next(self, kind: ProductKind | str | None = None) -> Product:
        """Wear the next product of ``kind`` in catalog order, wrapping (default kind: :attr:`focus`).

        Raises:
            InputError: no kind given and none selected yet, or the catalog has no product of the kind.
        """
        return self._step(kind, +1)

    def previous(self, kind: ProductKind | str | None = None) -> Product:
        """Wear the previous product of ``kind`` in catalog order, wrapping (default kind: :attr:`focus`)."""
        return self._step(kind, -1)

    def _step(self, kind: ProductKind | str | None, step: int) -> Product:
        self._check_open()
        if kind is None:
            if self._focus is None:
                raise InputError("kind: expected a product kind (no product selected yet to take it from)")
            k = self._focus
        else:
            k = _kind_of(kind)
        choices = [p for p in self.catalog if p.kind is k]
        if not choices:
            raise InputError(f"kind: the catalog has no {k.value} products")
        current = self._current.get(k)
        ids = [p.id for p in choices]
        if current is None or current.id not in ids:
            chosen = choices[0] if step > 0 else choices[-1]
        else:
            chosen = choices[(ids.index(current.id) + step) % len(choices)]
        self._set(chosen, emit_change=True)
        return chosen

    def _resolve(self, product: str | Product) -> Product:
        if isinstance(product, Product):
            if product.id not in self.catalog:
                self._extra[product.id] = product
        else:
            product = self.product(product)
        if product.kind is None or product.kind not in self.registry:
            what = product.kind.value if product.kind else "no kind"
            drawable = ", ".join(self.registry.kinds())
            raise ProductError(f"product {product.id!r} ({what}): expected a kind arlens can draw ({drawable})")
        return product

    def _set(self, product: Product, emit_change: bool) -> None:
        kind = product.kind
        assert kind is not None
        self._focus = kind
        old = self._current.get(kind)
        if old is not None and old.id == product.id:
            return
        if old is not None:
            self._emit_dwell(old)
            self._showing.pop(old.id, None)
        self._current[kind] = product
        self._showing[product.id] = _Showing()
        if emit_change and old is not None:
            self._emit(ShadeChanged, product.id, previous_product_id=old.id)

    # -- frames -------------------------------------------------------------------------------------
    def process(self, frame: np.ndarray, timestamp_ms: float) -> TryOnResult:
        """Track and draw the next frame of a video stream.

        Args:
            frame: uint8 BGR (H, W, 3) (grayscale and BGRA are converted); not modified, not kept.
            timestamp_ms: the frame's stream time in milliseconds, greater than the previous call's.

        Returns:
            The rendered frame with faces, hands, hotspots and gestures.

        Raises:
            InputError: bad frame or timestamp, or a frame given to :meth:`submit` not collected yet.
            RuntimeUnavailableError, AssetError: the first time a product's lens cannot be built (GL
                context, eyewear model); afterwards that product is skipped (logged once).
        """
        self._check_open()
        if self._pending is not None:
            raise InputError("TryOn.process: a frame given to submit() has not been drawn yet; call flush() first")
        image, ts = self._video_frame(frame, timestamp_ms)
        entries = self._entries()
        tracked = self._track(image, ts, entries)
        self._tracked(tracked)
        return self._draw(tracked)

    def submit(self, frame: np.ndarray, timestamp_ms: float) -> TryOnResult | None:
        """:meth:`process` pipelined over two threads: track this frame while the previous one is drawn.

        The frame's faces and hands are tracked on the session's worker thread while the frame submitted
        before it is drawn on the caller's thread (ONNX Runtime and OpenCV release the GIL while they
        run), and that previous frame's result is returned: ``None`` for the first frame, and the last
        frame's result comes from :meth:`flush`. On a machine with a core to spare a frame then costs
        about the longer of tracking and drawing instead of their sum, and each result arrives one
        call later than from :meth:`process`.

        The results are those :meth:`process` gives for the same frames and timestamps, pixel for pixel:
        each frame is drawn with the products current when it was submitted, and events (``LensShown``,
        dwell time) are accounted when a frame is submitted, as ``process`` does. The frame is copied
        when it is submitted (the caller may reuse its buffer). Switch back to :meth:`process` only
        after :meth:`flush`.

        Raises:
            InputError: bad frame or timestamp (nothing is submitted then).
            RuntimeUnavailableError, AssetError: as for :meth:`process` (nothing is submitted then).
        """
        self._check_open()
        image, ts = self._video_frame(frame, timestamp_ms)
        if np.shares_memory(image, frame):  # kept until the next call draws it
            image = image.copy()
        entries = self._entries()
        if self._worker is None:
            from concurrent.futures import ThreadPoolExecutor

            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arlens-track")
        job = self._worker.submit(self._track, image, ts, entries)
        previous, self._pending = self._pending, None
        try:
            return self._draw(previous) if previous is not None else None
        finally:
            tracked = job.result()  # waits even when drawing failed; a tracking error drops this frame
            self._tracked(tracked)
            self._pending = tracked

    def flush(self) -> TryOnResult | None:
        """The result of the frame last given to :meth:`submit` (drawn now), or None when none is waiting."""
        self._check_open()
        pending, self._pending = self._pending, None
        return self._draw(pending) if pending is not None else None

    def process_image(self, image: np.ndarray) -> TryOnResult:
        """Detect and draw on a still image, unrelated to any other (no tracking state, no dwell time).

        Raises:
            InputError: bad image.
            RuntimeUnavailableError, AssetError: as for :meth:`process`.
        """
        self._check_open()
        image = as_bgr(image, "image")
        entries = self._entries()
        tracked = self._track(image, None, entries)
        self._tracked(tracked)
        return self._draw(tracked)

    def _video_frame(self, frame: np.ndarray, timestamp_ms: float) -> tuple[np.ndarray, float]:
        """The frame as BGR and its timestamp, checked (greater than the previous frame's)."""
        image = as_bgr(frame, "frame")
        return image, check_timestamp(timestamp_ms, self._last_ts)  # finite, within +-2**53 ms, increasing

    def _entries(self) -> list[tuple[Product, _Lens | None]]:
        """The current products in drawing order with their lenses (built here, on the caller's thread)."""
        return [(product, self._lens_for(product)) for product in self.products]

    def _track(self, image: np.ndarray, ts: float | None, entries: list[tuple[Product, _Lens | None]]) -> _Tracked:
        """Faces, hands and gestures of one frame (``ts`` None: a still), as ``entries``' products need them.
        Reads no session state but the trackers and ``entries``, so it may run on the worker thread while
        the caller draws; with ``TryOnOptions.tracking_process`` the tracking runs in that process."""
        plan = self._plan(entries, ts)
        if self._remote is not None:
            faces, hands, gestures, timings = self._remote.track(image, ts, plan)
        else:
            faces, hands, gestures, timings = self._track_planned(image, ts, plan)
        return _Tracked(image, ts, faces, hands, gestures, entries, timings)

    def _plan(self, entries: Sequence[tuple[Product, _Lens | None]], ts: float | None) -> TrackPlan:
        """What tracking a frame must find for the products of ``entries`` (``ts`` None: a still)."""
        return TrackPlan(refine=self._refinements(entries) if ts is not None else None,  # stills: every one
                         glasses=self._glasses_wanted(entries), hands=self._hands_plan(entries))

    def _track_planned(self, image: np.ndarray, ts: float | None, plan: TrackPlan) -> tuple[
            tuple[Face, ...], tuple[Hand, ...], tuple[Any, ...], dict[str, float]]:
        """Track one frame by ``plan`` with this process's trackers: faces, hands, gestures and the stages'
        milliseconds. With ``parallel_tracking``, hands wanted everywhere in a video frame are tracked on
        their own thread while the faces are."""
        timings: dict[str, float] = {}
        hand_job = None
        if ts is not None and self.options.parallel_tracking and plan.hands is True:
            if self._hand_worker is None:
                from concurrent.futures import ThreadPoolExecutor

                self._hand_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arlens-hands")
            self._hand_tracker_or_new()  # made here, on the calling thread
            hand_job = self._hand_worker.submit(self._track_hands, image, ts, True)
        try:
            t0 = time.perf_counter()
            extra = {} if plan.refine is None else {"refine": plan.refine}
            tracker = self._face_tracker
            faces = tuple(tracker.detect(image, **extra) if ts is None else tracker.track(image, ts, **extra))
            t1 = time.perf_counter()
            timings["faces"] = (t1 - t0) * 1000
            if faces and plan.glasses:
                from arlens.tracking.glasses import glasses_probability

                faces = tuple(replace(f, glasses=glasses_probability(image, f)) for f in faces)
                timings["glasses"] = (time.perf_counter() - t1) * 1000
        finally:  # the hand thread is done with this frame before anything else happens, even on an error
            tracked_hands = hand_job.result() if hand_job is not None else None
        hands: tuple[Hand, ...] = ()
        gestures: tuple[Any, ...] = ()
        if tracked_hands is None:
            wanted = (occluder_region(faces) if faces else False) if plan.hands == "occluders" else plan.hands
            tracked_hands = self._track_hands(image, ts, wanted) if wanted else None
        if tracked_hands is not None:
            hands, timings["hands"] = tracked_hands
            if self.options.gestures and ts is not None:
                t1 = time.perf_counter()
                gestures = tuple(self._gesture_recognizer_or_new().update(list(hands), ts))
                timings["gestures"] = (time.perf_counter() - t1) * 1000
        return faces, hands, gestures, timings

    def _track_hands(self, image: np.ndarray, ts: float | None,
                     wanted: bool | tuple[float, float, float, float]) -> tuple[tuple[Hand, ...], float]:
        """The hands of one frame (everywhere, or in the region ``wanted``) and the milliseconds it took."""
        from arlens.tracking.hand import HandTracker

        t0 = time.perf_counter()
        tracker = self._hand_tracker_or_new()
        if ts is None:
            hands = tuple(tracker.detect(image))
        elif isinstance(wanted, tuple) and isinstance(tracker, HandTracker):
            hands = tuple(tracker.track(image, ts, region=wanted))
        else:
            hands = tuple(tracker.track(image, ts))
        return hands, (time.perf_counter() - t0) * 1000

    def _tracked(self, tracked: _Tracked) -> None:
        """After tracking a frame, on the caller's thread: shown state, dwell time, the stream's time."""
        self._account(tracked)
        if tracked.ts is not None:
            self._last_ts = tracked.ts

    def _draw(self, tracked: _Tracked) -> TryOnResult:
        """Draw a tracked frame's lenses (the products current when it was tracked) into a copy of it."""
        t0 = time.perf_counter()
        image, faces, hands = tracked.image, tracked.faces, tracked.hands
        # one scene per frame, of the unrendered frame, shared by every lens (it computes what they ask for)
        scene = Scene(image, faces, hands, camera=self._camera(image.shape), options=self._scene_options,
                      memory=self._scene_memory if tracked.ts is not None else None, segmenter=self._segmenter)
        # the one copy of the frame: every lens draws into it, the scene keeps reading the unrendered one
        out = image.copy()
        hotspots: list[Hotspot] = []
        # the lenses with something to draw on, each with its targets (the hands or the faces)
        drawable: list[tuple[Product, _Lens, Sequence[Face] | Sequence[Hand]]] = [
            (product, entry, targets) for product, entry in tracked.entries if entry is not None
            and (targets := hands if entry.spec.target == "hand" else faces)]
        # consecutive lenses of a class that draws several at once (the make-up line) are drawn in one call
        runs = groups([(e.lens, targets) for _, e, targets in drawable if e.takes_scene])
        # lenses that draw off this thread (the glasses, on a CPU rasteriser's threads) start now, so their
        # drawing overlaps the lenses drawn before them
        for _, entry, targets in drawable:
            prepare = getattr(entry.lens, "prepare", None) if entry.takes_scene else None
            if prepare is not None:
                prepare(list(targets), scene)
        for product, entry, targets in drawable:
            run = runs.get(id(entry.lens))
            if run is not None:
                if run[0] is entry.lens:
                    type(entry.lens).render_group(run, out, list(targets), scene=scene)
            elif entry.takes_scene:
                entry.lens.render_into(out, list(targets), scene=scene)
            else:
                entry.lens.render_into(out, list(targets))
            link = product.buy_link(self.options.utm)
            drawn = tuple(getattr(entry.lens, "drawn_boxes", ()) or ())
            for i, target in enumerate(targets):
                box = drawn[i] if len(drawn) == len(targets) else None
                hotspots.append(self._hotspot(product, link, target, out.shape, box))
        timings = {**tracked.timings, "render": (time.perf_counter() - t0) * 1000}
        return TryOnResult(out, faces, hands, tuple(hotspots), tracked.gestures, tracked.ts, timings)

    def _camera(self, shape: tuple[int, ...]) -> PerspectiveCamera:
        """The frame's camera (kept while the frame size stays the same)."""
        h, w = int(shape[0]), int(shape[1])
        camera = self._scene_camera
        if camera is None or (camera.width, camera.height) != (w, h):
            camera = self._scene_camera = PerspectiveCamera(w, h, self.options.fov_y_deg)
        return camera

    def _glasses_wanted(self, entries: Sequence[tuple[Product, _Lens | None]]) -> bool:
        if self.options.check_glasses is not None:
            return self.options.check_glasses
        return any(product.kind is ProductKind.EYEWEAR for product, _ in entries)

    def _refinements(self, entries: Sequence[tuple[Product, _Lens | None]]) -> tuple[str, ...] | None:
        """The face mesh refinements the lenses of ``entries`` read (None: the face tracker's own setting)."""
        from arlens.tracking.face import FaceTracker

        default = self._remote is not None or isinstance(self._face_tracker, FaceTracker)  # the worker's is
        if self.options.refine_landmarks == "all" or not default:
            return None
        needed: set[str] = set()
        for _, entry in entries:
            if entry is None:  # not drawn
                continue
            if entry.spec.refinements is None:
                return None
            needed.update(entry.spec.refinements)
        return tuple(sorted(needed))

    def _hands_plan(self, entries: Sequence[tuple[Product, _Lens | None]]) -> bool | Literal["occluders"]:
        """Whether to track hands in this frame: True (anywhere), False, or ``"occluders"``: only in the region
        around the faces where hands may cover them (:func:`occluder_region`), when the face lenses need
        them only as occluders."""
        if self.options.hands is not None:
            return self.options.hands
        if self.options.gestures or any(
            product.kind in self.registry and self.registry[product.kind].target == "hand" for product, _ in entries
        ):
            return True
        # a face lens that reads occluders from the scene needs the hands in front of the faces
        if any(entry is not None and "occluders" in getattr(entry.lens, "scene_uses", ()) for _, entry in entries):
            return "occluders"
        return False

    def _hand_tracker_or_new(self) -> Any:
        if self._hand_tracker is None:
            from arlens.tracking.hand import HandTracker

            self._hand_tracker = HandTracker(max_hands=self.options.max_hands, device=self.options.device,
                                             search_interval=self.options.hand_search_interval,
                                             search_interval_tracking=self.options.hand_search_interval_tracking)
            self._owned.append(self._hand_tracker)
        return self._hand_tracker

    def _gesture_recognizer_or_new(self) -> Any:
        if self._gestures is None:
            from arlens.gestures import GestureRecognizer

            self._gestures = GestureRecognizer()
        return self._gestures

    def _lens_for(self, product: Product) -> _Lens | None:
        if product.id in self._lenses:
            return self._lenses[product.id]
        try:
            entry = self._build_lens(product)
        except Exception as exc:
            # raised to the caller, which reports it (logging it here too printed the reason twice)
            self._lenses[product.id] = None
            logger.debug("cannot build the lens of %s (%s); it will not be drawn in this session", product.id,
                         str(exc).splitlines()[0] if str(exc) else type(exc).__name__, exc_info=True)
            raise
        self._lenses[product.id] = entry
        return entry

    def _build_lens(self, product: Product) -> _Lens:
        spec = self.registry[product.kind]
        lens = spec.build(product, catalog=self.catalog, options=self.options)
        return _Lens(lens, spec, takes_scene(lens, "render_into"))

    def _hotspot(
        self, product: Product, link: str, target: Face | Hand, shape: tuple[int, ...], drawn: np.ndarray | None
    ) -> Hotspot:
        h, w = shape[:2]
        if drawn is not None:  # the lens says where it drew: the box is exactly that
            box = np.asarray(drawn, dtype=np.float64)
        elif isinstance(target, Face):
            pts = target.landmarks[:, :2]
            if product.kind is ProductKind.EYEWEAR:
                idx = (*L.right_eye(), *L.left_eye(), *L.right_eyebrow(), *L.left_eyebrow(), L.NOSE_BRIDGE)
                x0, y0 = pts[list(idx)].min(axis=0)
                x1, y1 = pts[list(idx)].max(axis=0)
                pad = 0.12 * (x1 - x0)
                box = np.array([x0 - pad, y0, x1 + pad, y1 + 0.25 * (y1 - y0)])
            elif product.kind in (ProductKind.LIPSTICK, ProductKind.LIP_LINER):
                sel = pts[list(L.lips_outer())]
                box = np.r_[sel.min(axis=0), sel.max(axis=0)]
            else:
                box = np.asarray(target.bbox, dtype=np.float64)
        else:
            box = np.asarray(target.bbox, dtype=np.float64)
        box = np.clip(box, [0, 0, 0, 0], [w, h, w, h])
        return Hotspot(
            product_id=product.id,
            kind=product.kind.value if product.kind else "",
            title=product.title,
            brand=product.brand,
            price=product.current_price,
            buy_link=link,
            bbox=box,
            target="face" if isinstance(target, Face) else "hand",
            track_id=int(getattr(target, "track_id", 0)),
        )

    # -- attribution --------------------------------------------------------------------------------
    def _account(self, tracked: _Tracked) -> None:
        """Update shown state and dwell time for each product of a tracked frame; emit ``LensShown``."""
        ts, faces, hands = tracked.ts, tracked.faces, tracked.hands
        gap = None if ts is None or self._last_ts is None else min(ts - self._last_ts, self.options.max_dwell_gap_ms)
        for product, entry in tracked.entries:
            state = self._showing.setdefault(product.id, _Showing())
            targets = hands if entry is not None and entry.spec.target == "hand" else faces
            visible = entry is not None and bool(targets)
            if visible:
                if state.shown and gap is not None:
                    state.dwell_ms += gap
                if not state.shown:
                    state.shown = True
                    self._emit(LensShown, product.id, kind=product.kind.value if product.kind else None)
                state.last_seen_ms = ts
            elif state.shown and ts is not None:
                if state.last_seen_ms is None or ts - state.last_seen_ms > self.options.shown_grace_ms:
                    state.shown = False

    def _emit_dwell(self, product: Product) -> None:
        state = self._showing.get(product.id)
        if state is not None and state.dwell_ms > 0:
            self._emit(Dwell, product.id, duration_s=state.dwell_ms / 1000.0)
            state.dwell_ms = 0.0

    def _emit(self, cls: type[TryOnEvent], product_id: str, **fields: Any) -> None:
        try:
            event = cls(session_id=self.session_id, product_id=product_id, **fields)
        except InputError:
            logger.exception("could not make a %s event for %s", cls.__name__, product_id)
            return
        self._events.emit(event)

    def show_buy_link(self, product: str | Product | Look | None = None, *, via: str = "qr") -> str:
        """Record that a buy link was shown (as a QR code) or clicked, and return the link to show.

        Args:
            product: an ID or Product (default: the current product of :attr:`focus`), or a look (its ID or
                :class:`~arlens.catalog.looks.Look`) with a link of its own: the set's link.
            via: ``"qr"`` (link tagged ``utm_medium=qr``) or ``"click"`` (the session's UTM tags).

        Raises:
            InputError: no product given and none current, unknown product, a look without a link of its own,
                or a bad ``via``.
        """
        self._check_open()
        if via not in ("qr", "click"):
            raise InputError(f"via: expected 'qr' or 'click', got {via!r}")
        if isinstance(product, str) and product not in self.catalog and product not in self._extra:
            product = next((lk for lk in self.catalog.looks if lk.id == product), product)  # type: ignore[assignment]
        if isinstance(product, Look):
            tags = QR_UTM if via == "qr" else self.options.utm
            link = product.buy_link(replace(tags, campaign=self.options.utm.campaign) if via == "qr" else tags)
            if link is None:
                raise InputError(f"look {product.id!r} has no link of its own: show its products' links")
            self._emit(BuyLinkShown, product.id, via=via)
            return link
        if product is None:
            chosen = self._current.get(self._focus) if self._focus is not None else None
            if chosen is None:
                raise InputError("product: expected a product ID (no product is selected)")
        elif isinstance(product, Product):
            chosen = product
        else:
            chosen = self.product(product)
        tags = QR_UTM if via == "qr" else self.options.utm
        link = chosen.buy_link(replace(tags, campaign=self.options.utm.campaign) if via == "qr" else tags)
        self._emit(BuyLinkShown, chosen.id, via=via)
        return link

    def snapshot(self, result: TryOnResult, path: str | Path | None = None) -> Snapshot:
        """Keep ``result``'s frame with its products' tags, emit ``SnapshotTaken`` per product, optionally save it.

        Args:
            result: a result of this session.
            path: if given, write the image there and a JSON sidecar beside it (see :meth:`Snapshot.save`);
                this is file I/O on the caller's thread, as asked.

        Raises:
            InputError: ``result`` is not a TryOnResult, or the image format is unknown.
            OSError: the files cannot be written.
        """
        self._check_open()
        if not isinstance(result, TryOnResult):
            raise InputError(f"result: expected a TryOnResult, got {type(result).__name__}")
        products = []
        for pid in result.products:
            try:
                products.append(self.product(pid))
            except UnknownProductError:
                continue
        snap = Snapshot(
            frame=result.frame.copy(),
            products=tuple(products),
            links=tuple(p.buy_link(self.options.utm) for p in products),
            time=time.time(),
            session_id=self.session_id,
        )
        if path is not None:
            snap.save(path)
        for p in products:
            self._emit(SnapshotTaken, p.id)
        return snap

    # -- helpers ------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise InputError("TryOn: the session is closed; make a new one")

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)

    def __repr__(self) -> str:
        ids = ", ".join(p.id for p in self.products)
        return f"TryOn(session_id={self.session_id!r}, products=[{ids}])"
