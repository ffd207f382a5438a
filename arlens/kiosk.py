"""The webcam-mirror kiosk behind ``arlens mirror``: a full-screen try-on mirror that runs all day in a shop.

One loop (:class:`Kiosk`) reads a frame, runs the :class:`~arlens.session.TryOn` session, draws the
screen and handles input, with or without a window:

- **Mirror**: tracking and lenses run on the camera's own (unmirrored) frame, so landmarks,
  handedness and head pose mean what the models were trained on; the rendered frame is then flipped
  left-right for display (the selfie view a shopper expects), and everything drawn on top of it (name,
  price, QR code, messages) is drawn after the flip so text reads the right way. A hand swipe is
  reported in camera coordinates, so its direction is flipped too: a swipe toward the shopper's right
  moves right on screen and means "next".
- **Screen**: the current product's name, price and swatch in a bar at the bottom with the key hints;
  the buy link's QR code for ``qr_seconds`` after B / pinch; a flash and "Saved" after a snapshot;
  an idle (attract) screen when nobody has been in view for ``idle_seconds``; a "camera unavailable"
  screen while the camera is gone.
- **Keys** (and gestures when the hand modules are installed): Left/Right arrows or A/D (swipe) =
  previous/next shade; K = next product kind (foundation, blush, eyeshadow, ..., lipstick, eyewear); L = next
  look of the catalog (every product of it at once); B (pinch) = buy-link QR code;
  S (thumbs up) = snapshot, a PNG of the mirrored try-on without the on-screen text plus a JSON sidecar
  with products, links and time; Q or Esc = quit.
- **Never crash**: an exception while handling a frame is logged and the loop goes on with the next;
  when the camera's read fails it is released and reopened with exponential backoff (``0.5 s`` doubling
  to ``reconnect_max_s``), the screen saying so meanwhile; a video file that ends is rewound.
- **Headless** (``display=False``): the same loop with no window, for tests and servers; ``frames``
  stops it after N frames, ``record`` writes what the screen would show to a video, and ``key_script``
  feeds key presses at given frame numbers (``"10:d,20:b,30:s"``).

This is the one module besides :mod:`arlens.cli` that owns the screen: it alone creates OpenCV
windows, and only when ``display`` is on, so importing it opens nothing.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from arlens.catalog import Product
from arlens.errors import AssetError, InputError, RuntimeUnavailableError
from arlens.session import TryOn, TryOnResult

logger = logging.getLogger(__name__)

WINDOW = "arlens mirror"

#: Key names accepted in key scripts and what they do.
ACTIONS = ("next", "previous", "kind", "look", "buy", "snapshot", "quit")
_CHAR_ACTIONS = {"d": "next", "a": "previous", "k": "kind", "l": "look", "b": "buy", "s": "snapshot", "q": "quit"}
_NAMED_KEYS = {"right": "next", "left": "previous", "esc": "quit", "escape": "quit"}
# waitKeyEx codes of the arrow keys: X11/GTK/Qt on Linux, Windows, macOS
_ARROWS = {65361: "previous", 65363: "next", 2424832: "previous", 2555904: "next", 63234: "previous", 63235: "next"}
_GESTURES = {"pinch": "buy", "thumbs_up": "snapshot"}


class FrameSource(Protocol):
    """Where frames come from: a camera or a file (``cv2.VideoCapture`` fits), or a test double."""

    def read(self) -> tuple[bool, np.ndarray | None]:
        """The next frame, or ``(False, None)`` when none can be read."""
        ...

    def release(self) -> None:
        """Let the device or file go."""
        ...


class ReadAhead:
    """A frame source whose next frame is read on a thread of its own while the caller works on the last one.

    ``cv2.VideoCapture.read`` releases the GIL while it waits for the camera and decodes the frame (a
    1280x720 Motion-JPEG frame, what a USB webcam sends, takes a few milliseconds to decode), so the kiosk
    loop can show frame N while frame N+1 is read. Frames come out once each, in the source's order; a
    read that fails or raises is reported by the :meth:`read` that would have returned its frame, and no
    read is started after it (the kiosk then releases the source and reopens it).
    """

    def __init__(self, source: FrameSource) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._source = source
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arlens-camera")
        self._next: Any = None  # the read under way (a Future), if any

    def read(self) -> tuple[bool, np.ndarray | None]:
        """The next frame, or ``(False, None)``; raises what the source's read raised."""
        job, self._next = self._next or self._pool.submit(self._source.read), None
        ok, frame = job.result()
        if ok and frame is not None:
            self._next = self._pool.submit(self._source.read)
        return ok, frame

    def release(self) -> None:
        """Wait for a read under way (its frame is dropped), stop the thread, release the source."""
        job, self._next = self._next, None
        if job is not None:
            try:
                job.result()
            except Exception:
                logger.debug("a read ahead failed while the source was released", exc_info=True)
        self._pool.shutdown(wait=True)
        self._source.release()


def key_action(key: int) -> str | None:
    """The action of a ``cv2.waitKeyEx`` code (arrows, letters, Esc), or None."""
    if key < 0:
        return None
    if key in _ARROWS:
        return _ARROWS[key]
    if key == 27:
        return "quit"
    if key < 256:
        return _CHAR_ACTIONS.get(chr(key).lower())
    return None


def parse_key_script(script: str) -> dict[int, list[str]]:
    """Parse ``"10:d,20:b,30:s,40:right,50:q"`` into frame number -> actions.

    Keys are the letters of the key bindings (a, d, k, l, b, s, q), ``left``, ``right`` or ``esc``.

    Raises:
        InputError: a pair that is not ``FRAME:KEY`` with a known key and a frame number >= 0.
    """
    out: dict[int, list[str]] = {}
    for item in (s.strip() for s in script.split(",")):
        if not item:
            continue
        frame, sep, key = item.partition(":")
        key = key.strip().lower()
        action = _NAMED_KEYS.get(key) or (_CHAR_ACTIONS.get(key) if len(key) == 1 else None)
        if not sep or not frame.strip().isdigit() or action is None:
            raise InputError(
                f"key script: expected FRAME:KEY pairs like '10:d,20:b' with keys a, d, k, l, b, s, q, left, right, "
                f"esc; got {item!r}"
            )
        out.setdefault(int(frame), []).append(action)
    return out


@dataclass(frozen=True)
class KioskOptions:
    """Settings of the kiosk loop.

    Attributes:
        display: show a window (False: headless).
        fullscreen: make the window full screen (otherwise a resizable window).
        frames: stop after this many frames (None: until quit).
        idle_seconds: nobody in view this long shows the attract screen.
        qr_seconds: how long the buy-link QR code stays up.
        reconnect_max_s: longest wait between attempts to reopen a lost camera.
        snapshot_dir: where snapshots go.
        record: a video file recording what the screen shows, or None: H.264 in ``.mp4``/``.mov``/``.m4v``/
            ``.mkv``, VP9 in ``.webm`` (:class:`arlens.video.VideoWriter`, encoding in its realtime mode).
        fps: frame rate of a source that does not report one (cameras), for timestamps and recording.
        key_script: frame number -> actions, fed as if the keys were pressed (tests, demos).
        attract_text: the idle screen's call to action.
        realtime: pace a file source at its frame rate (a window showing a video); off when headless.
        blur_background: blur what is behind the shopper (MediaPipe's selfie segmentation on each frame,
            :class:`~arlens.tracking.segmentation.PersonSegmenter`): the shop behind does not distract
            from the product; snapshots and recordings show it too.
        blur_strength: the background blur's sigma as a fraction of the frame's width (0 < s <= 0.2).
        pipelined: track each frame while the previous one is drawn (:meth:`TryOn.submit`): on two cores
            a frame costs about the longer of tracking and drawing instead of their sum, and the screen
            shows each frame one loop later. With the session's ``TryOnOptions.tracking_process`` the
            tracking runs in a worker process, so the two do not take turns at Python's GIL.
        read_ahead: read the next camera frame on a thread of its own while this one is tracked and
            drawn (:class:`ReadAhead`): the read and decode leave the loop's critical path.
    """

    display: bool = True
    fullscreen: bool = True
    frames: int | None = None
    idle_seconds: float = 4.0
    qr_seconds: float = 8.0
    reconnect_max_s: float = 8.0
    snapshot_dir: Path = Path("arlens-snapshots")
    record: Path | None = None
    fps: float = 30.0
    key_script: Mapping[int, list[str]] = field(default_factory=dict)
    attract_text: str = "Step closer to try on"
    realtime: bool = False
    blur_background: bool = False
    blur_strength: float = 0.02
    pipelined: bool = False
    read_ahead: bool = False

    def __post_init__(self) -> None:
        for name in ("pipelined", "read_ahead"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"KioskOptions.{name}: expected True or False, got {getattr(self, name)!r}")
        if not isinstance(self.blur_background, bool):
            raise InputError(f"KioskOptions.blur_background: expected True or False, got {self.blur_background!r}")
        s = self.blur_strength
        if isinstance(s, bool) or not isinstance(s, int | float) or not 0.0 < float(s) <= 0.2:
            raise InputError(f"KioskOptions.blur_strength: expected a number in (0, 0.2], got {s!r}")
        if self.frames is not None and (isinstance(self.frames, bool) or self.frames < 1):
            raise InputError(f"KioskOptions.frames: expected an int >= 1 or None, got {self.frames!r}")
        for name in ("idle_seconds", "qr_seconds", "reconnect_max_s", "fps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise InputError(f"KioskOptions.{name}: expected a finite number > 0, got {value!r}")
        if self.record is not None:
            from arlens.video import SUFFIXES

            if Path(self.record).suffix.lower() not in SUFFIXES:
                raise InputError(f"KioskOptions.record: expected a video file ending in {', '.join(SUFFIXES)}, "
                                 f"got {str(self.record)!r}")


class SourceUnreadableError(InputError):
    """A video file given as the kiosk's source yields no frame: bad input, not a lost camera."""


class LatencySample:
    """Milliseconds per frame, in bounded memory: exact count, mean and extremes, percentiles from a sample.

    A kiosk runs all day: keeping one float per frame grew by 41 MB per million frames. This keeps a
    uniform random sample of at most ``size`` values (reservoir sampling, Vitter's algorithm R, seeded so a
    run is repeatable), from which :meth:`percentile` reads; iterating yields the sample.
    """

    def __init__(self, size: int = 4096, seed: int = 0) -> None:
        self.size = size
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf
        self._sample: list[float] = []
        self._rng = random.Random(seed)

    def append(self, ms: float) -> None:
        """Record one frame's milliseconds."""
        self.count += 1
        self.total += ms
        self.min = min(self.min, ms)
        self.max = max(self.max, ms)
        if len(self._sample) < self.size:
            self._sample.append(ms)
        else:
            k = self._rng.randrange(self.count)
            if k < self.size:
                self._sample[k] = ms

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[float]:
        return iter(self._sample)

    @property
    def mean(self) -> float:
        """Exact mean over every frame (0 before the first)."""
        return self.total / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0..100) of the sample (exact while fewer than ``size`` frames); 0 if empty."""
        if not self._sample:
            return 0.0
        return float(np.percentile(self._sample, q))

    @property
    def median(self) -> float:
        return self.percentile(50)


@dataclass
class KioskStats:
    """What a kiosk run did (returned by :meth:`Kiosk.run`)."""

    frames: int = 0
    tracked_frames: int = 0
    errors: int = 0
    camera_lost: int = 0
    reconnects: int = 0
    snapshots: list[Path] = field(default_factory=list)
    qr_shown: int = 0
    shade_changes: int = 0
    seconds: float = 0.0
    process_ms: LatencySample = field(default_factory=LatencySample)
    """``TryOn.process`` milliseconds per frame (bounded: see :class:`LatencySample`)."""
    screens: dict[str, int] = field(default_factory=dict)
    """Frames shown per screen: ``live`` (try-on), ``idle`` (attract), ``lost`` (camera unavailable)."""

    @property
    def fps(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def open_source(camera: int | None = None, path: str | Path | None = None) -> Any:
    """A ``cv2.VideoCapture`` for a camera index or a video file (not checked: reads may fail)."""
    if path is not None:
        return cv2.VideoCapture(str(path))
    return cv2.VideoCapture(int(camera or 0))


class Kiosk:
    """The mirror loop: a session, a frame source and a screen (see the module docstring).

    Args:
        session: the try-on session (the kiosk does not close it).
        open_source: makes (or remakes, after a failure) the frame source; called with no arguments.
        options: :class:`KioskOptions`.
        is_file: the source is a video file: rewind at its end instead of reconnecting, and take
            timestamps from its frame rate rather than the clock.
        clock: seconds, monotonic (for tests).
        sleep: how to wait (for tests).
    """

    def __init__(
        self,
        session: TryOn,
        open_source: Callable[[], FrameSource],
        options: KioskOptions | None = None,
        *,
        is_file: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.options = options or KioskOptions()
        self._open_source = open_source
        self._is_file = is_file
        self._clock = clock
        self._sleep = sleep
        self._source: FrameSource | None = None
        self._fps = self.options.fps
        self._writer: Any = None
        self._window = False
        self._qr: tuple[np.ndarray, float, Product] | None = None  # image, until (stream seconds), product
        self._flash_until = -1.0
        self._message: tuple[str, float] | None = None
        self._last_face_s: float | None = None
        self._lost_since: float | None = None
        self._next_retry = 0.0
        self._backoff = 0.5
        self._frame_size = (720, 1280)
        self._file_frames = 0  # frames read from a file source (none ever: it is not a video)
        self.state = "live"
        self.stats = KioskStats()
        self._segmenter: Any = None
        if self.options.blur_background:
            from arlens.runtime import RuntimeOptions
            from arlens.tracking.segmentation import PersonSegmenter, PersonSegmenterOptions

            device = getattr(getattr(session, "options", None), "device", "cpu")  # the session's trackers' device
            self._segmenter = PersonSegmenter(PersonSegmenterOptions(RuntimeOptions(device=device)))

    # -- source ---------------------------------------------------------------------------------------
    def _ensure_source(self) -> FrameSource | None:
        if self._source is not None:
            return self._source
        now = self._clock()
        if now < self._next_retry:
            return None
        try:
            source = self._open_source()
            opened = getattr(source, "isOpened", lambda: True)()
        except Exception:
            logger.exception("opening the camera failed")
            source, opened = None, False
        if not opened and self._is_file and not self._file_frames:
            raise SourceUnreadableError("cannot read video: the source file cannot be opened as a video")
        if not opened:
            if self._lost_since is None:
                self._lost_since = now
                self.stats.camera_lost += 1
            if source is not None:
                try:
                    source.release()
                except Exception:
                    logger.debug("release after a failed open failed", exc_info=True)
            self._next_retry = now + self._backoff
            logger.warning("camera unavailable; next attempt in %.1f s", self._backoff)
            self._backoff = min(self._backoff * 2, self.options.reconnect_max_s)
            return None
        if self._lost_since is not None:
            self.stats.reconnects += 1
            logger.info("camera back after %.1f s", now - self._lost_since)
        self._lost_since = None
        self._backoff = 0.5
        fps = getattr(source, "get", None)
        if fps is not None:
            try:
                value = float(source.get(cv2.CAP_PROP_FPS))  # type: ignore[attr-defined]
                if np.isfinite(value) and 1.0 <= value <= 240.0:
                    self._fps = value
            except Exception:
                logger.debug("source has no usable fps", exc_info=True)
        self._source = ReadAhead(source) if self.options.read_ahead else source
        return self._source

    def _drop_source(self) -> None:
        if self._source is not None:
            try:
                self._source.release()
            except Exception:
                logger.debug("release failed", exc_info=True)
        self._source = None

    def _read(self) -> np.ndarray | None:
        source = self._ensure_source()
        if source is None:
            return None
        try:
            ok, frame = source.read()
        except Exception:
            logger.exception("camera read raised")
            ok, frame = False, None
        if ok and frame is not None:
            self._file_frames += 1
            return frame
        if self._is_file and not self._file_frames:  # not a lost camera: a file with no frame to show
            self._drop_source()
            raise SourceUnreadableError("cannot read video: the source file has no frame OpenCV can decode")
        if self._is_file:  # end of the file: rewind by reopening, once
            self._drop_source()
            source = self._ensure_source()
            if source is not None:
                ok, frame = source.read()
                if ok and frame is not None:
                    return frame
        if self._lost_since is None:
            self._lost_since = self._clock()
            self.stats.camera_lost += 1
            logger.warning("camera read failed; reconnecting")
        self._drop_source()
        self._next_retry = self._clock() + self._backoff
        self._backoff = min(self._backoff * 2, self.options.reconnect_max_s)
        return None

    # -- loop -----------------------------------------------------------------------------------------
    def run(self) -> KioskStats:
        """Run until quit (Q/Esc, a script's q, the window closed) or ``frames`` frames; returns the stats.

        Raises:
            SourceUnreadableError: a file source (``is_file``) cannot be opened or yields no frame (an
                :class:`~arlens.errors.InputError`; a lost camera is retried instead).
        """
        start = self._clock()
        frame_no = 0
        ts_ms = 0.0
        try:
            while self.options.frames is None or frame_no < self.options.frames:
                tick = self._clock()
                actions = list(self.options.key_script.get(frame_no, []))
                screen = None
                try:
                    frame = self._read()
                    ts_ms = self._timestamp(ts_ms)
                    if frame is None:
                        self.state = "lost"
                        self._drop_pending()
                        screen = self._lost_screen()
                    else:
                        screen, gesture_actions = self._frame(frame, ts_ms)
                        actions += gesture_actions
                except SourceUnreadableError:
                    raise  # bad input: nothing to go on with
                except (RuntimeUnavailableError, AssetError) as exc:  # a lens this machine cannot draw (no EGL)
                    self.stats.errors += 1
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    logger.warning("a product cannot be drawn on this machine and is left out: %s", reason)
                except Exception:
                    self.stats.errors += 1
                    logger.exception("frame %d failed; going on", frame_no)
                if screen is None:
                    screen = np.zeros((*self._frame_size, 3), np.uint8)
                self.stats.screens[self.state] = self.stats.screens.get(self.state, 0) + 1
                self.stats.frames = frame_no + 1
                for action in actions:
                    if self._act(action, ts_ms) == "quit":
                        return self.stats
                key_actions = self._show(screen)
                for action in key_actions:
                    if self._act(action, ts_ms) == "quit":
                        return self.stats
                frame_no += 1
                self._pace(tick)
            return self.stats
        finally:
            self.stats.seconds = self._clock() - start
            self._close()

    def _timestamp(self, previous: float) -> float:
        """Stream time: the file's frame times, or the clock for a camera (always increasing)."""
        if self._is_file:
            return previous + 1000.0 / self._fps
        return max(previous + 1.0, self._clock() * 1000.0)

    def _pace(self, tick: float) -> None:
        if self._source is None:
            self._sleep(0.05)  # waiting for the camera: keep the window alive without spinning
        elif self.options.realtime and self._is_file:
            wait = 1.0 / self._fps - (self._clock() - tick)
            if wait > 0:
                self._sleep(wait)

    def _frame(self, frame: np.ndarray, ts_ms: float) -> tuple[np.ndarray | None, list[str]]:
        t0 = time.perf_counter()
        if self.options.pipelined:
            found = self.session.submit(frame, ts_ms)  # the previous frame, drawn while this one was tracked
            if found is None:  # the first frame: nothing drawn yet
                self.stats.process_ms.append((time.perf_counter() - t0) * 1000)
                return None, []
            result = found
        else:
            result = self.session.process(frame, ts_ms)
        if self._segmenter is not None:
            from arlens.render.background import blur_background

            # the rendered frame's own mask (pipelined, it is the previous camera frame): a lens does not
            # change what is person and what is background
            shown = blur_background(result.frame, self._segmenter.segment(result.frame), self.options.blur_strength)
            result = replace(result, frame=shown)
        self.stats.process_ms.append((time.perf_counter() - t0) * 1000)
        self._last_result = result
        self._frame_size = result.frame.shape[:2]
        now_s = ts_ms / 1000.0
        if result.faces or result.hands:
            self._last_face_s = now_s
            self.stats.tracked_frames += 1
        actions = [a for g in result.gestures if (a := self._gesture_action(g)) is not None]
        mirrored = cv2.flip(result.frame, 1)
        idle = self._last_face_s is None or now_s - self._last_face_s > self.options.idle_seconds
        self.state = "idle" if idle else "live"
        screen = self._idle_screen(mirrored) if idle else self._hud(mirrored, result, now_s)
        return screen, actions

    @staticmethod
    def _gesture_action(gesture: Any) -> str | None:
        name = str(getattr(gesture, "name", gesture)).lower()
        if name == "swipe":
            direction = str(getattr(gesture, "direction", "")).lower()
            # directions are in camera coordinates; the screen is mirrored
            return {"left": "next", "right": "previous"}.get(direction)
        return _GESTURES.get(name)

    def _act(self, action: str, ts_ms: float) -> str | None:
        now_s = ts_ms / 1000.0
        try:
            if action == "quit":
                return "quit"
            if action in ("next", "previous"):
                kind = self._focus_kind()
                if kind is None:
                    return None
                product = self.session.next(kind) if action == "next" else self.session.previous(kind)
                self.stats.shade_changes += 1
                self._qr = None  # the code on screen was for the previous shade
                self._say(product.title, now_s)
            elif action == "kind":
                kinds = self.session.kinds
                if kinds:
                    current = self._focus_kind()
                    i = (kinds.index(current) + 1) % len(kinds) if current in kinds else 0
                    product = self.session.current(kinds[i]) or self.session.next(kinds[i])
                    self.session.select(product)
                    self._qr = None
                    self._say(f"{kinds[i].value.replace('_', ' ')}: {product.title}", now_s)
            elif action == "look":
                looks = self.session.catalog.looks
                if looks:
                    ids = [lk.id for lk in looks]
                    current = self.session.look
                    look = looks[(ids.index(current.id) + 1) % len(looks)] if current is not None else looks[0]
                    self.session.wear_look(look, keep_others=True)
                    self._qr = None
                    self._say(f"look: {look.title} ({look.total_price(self.session.catalog)})", now_s)
            elif action == "buy":
                product = self._focus_product()
                if product is not None:
                    from arlens.catalog.qr import qr_image

                    link = self.session.show_buy_link(product, via="qr")
                    self._qr = (qr_image(link, module_px=6), now_s + self.options.qr_seconds, product)
                    self.stats.qr_shown += 1
            elif action == "snapshot":
                self._snapshot(now_s)
        except Exception:
            self.stats.errors += 1
            logger.exception("action %s failed; going on", action)
        return None

    def _focus_kind(self) -> Any:
        return self.session.focus or (self.session.kinds[0] if self.session.kinds else None)

    def _focus_product(self) -> Product | None:
        kind = self._focus_kind()
        return self.session.current(kind) if kind is not None else None

    def _snapshot(self, now_s: float) -> None:
        result: TryOnResult | None = getattr(self, "_last_result", None)
        if result is None:
            return
        mirrored = TryOnResult(cv2.flip(result.frame, 1), result.faces, result.hands, result.hotspots)
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{len(self.stats.snapshots) + 1:03d}"
        path = Path(self.options.snapshot_dir) / f"arlens-{stamp}.png"
        self.session.snapshot(mirrored, path)
        self.stats.snapshots.append(path)
        self._flash_until = now_s + 0.25
        self._say("Saved! " + path.name, now_s)
        logger.info("snapshot %s", path)

    def _say(self, text: str, now_s: float, seconds: float = 2.0) -> None:
        self._message = (text, now_s + seconds)

    # -- drawing --------------------------------------------------------------------------------------
    def _hud(self, screen: np.ndarray, result: TryOnResult, now_s: float) -> np.ndarray:
        h, w = screen.shape[:2]
        scale = max(h / 720.0, 0.45)
        product = self._focus_product()
        bar_h = int(96 * scale)
        _shade(screen, (0, h - bar_h, w, h), 0.55)
        x = int(24 * scale)
        if product is not None:
            if product.color:
                r = int(22 * scale)
                c = (x + r, h - bar_h // 2)
                bgr = tuple(int(product.color[i : i + 2], 16) for i in (5, 3, 1))
                cv2.circle(screen, c, r, bgr, -1, cv2.LINE_AA)
                cv2.circle(screen, c, r, (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
                x += 2 * r + int(16 * scale)
            _text(screen, product.title, (x, h - bar_h // 2 - int(4 * scale)), 1.0 * scale, 2)
            _text(screen, f"{product.current_price}   {product.brand}", (x, h - bar_h // 2 + int(30 * scale)),
                  0.7 * scale, 1, (220, 220, 220))
        text_end = x
        if product is not None:
            for line, size in ((product.title, 1.0), (f"{product.current_price}   {product.brand}", 0.7)):
                text_end = max(text_end, x + _text_width(line, size * scale, 2))
        hint = "<- -> shade   K product   L look   B buy   S photo   Q quit"
        hint_scale = 0.5 * scale
        hint_w = _text_width(hint, hint_scale, 1)
        margin = int(20 * scale)
        if w - hint_w - margin > text_end + margin:  # beside the product, in the bar
            _text(screen, hint, (w - hint_w - margin, h - int(14 * scale)), hint_scale, 1, (200, 200, 200))
        elif hint_w < w:  # a thin strip of its own above the bar
            strip = int(26 * scale)
            _shade(screen, (0, h - bar_h - strip, w, h - bar_h), 0.45)
            _text(screen, hint, ((w - hint_w) // 2, h - bar_h - int(8 * scale)), hint_scale, 1, (210, 210, 210))
            bar_h += strip
        if self._qr is not None:
            image, until, qr_product = self._qr
            if now_s <= until:
                self._draw_qr(screen, image, qr_product, scale, self._face_side(result, w), bar_h)
            else:
                self._qr = None
        if self._message is not None:
            text, until = self._message
            if now_s <= until:
                tw = _text_width(text, 0.9 * scale, 2)
                th = int(22 * scale)
                org = ((w - tw) // 2, h - bar_h - int(24 * scale))
                _shade(screen, (org[0] - 14, org[1] - th - 12, org[0] + tw + 14, org[1] + 14), 0.5)
                _text(screen, text, org, 0.9 * scale, 2)
            else:
                self._message = None
        if now_s <= self._flash_until:
            cv2.addWeighted(screen, 0.4, np.full_like(screen, 255), 0.6, 0, dst=screen)
        return screen

    @staticmethod
    def _face_side(result: TryOnResult, width: int) -> str:
        """Which half of the mirrored screen the first face is on ("left" or "right")."""
        if not result.faces:
            return "left"
        x0, _, x1, _ = (float(v) for v in result.faces[0].bbox)
        return "right" if width - (x0 + x1) / 2 > width / 2 else "left"

    def _draw_qr(
        self, screen: np.ndarray, image: np.ndarray, product: Product, scale: float, face_side: str, bar_h: int
    ) -> None:
        """The buy-link QR code on a white card, on the side of the screen away from the face."""
        h, w = screen.shape[:2]
        pad = int(12 * scale)
        label_h = int(40 * scale)
        margin = int(20 * scale)
        side = int(min(h * 0.45, w / 2 - 2 * margin - 2 * pad, h - bar_h - 2 * margin - label_h - 2 * pad))
        if side < 64:
            return
        qr = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
        card_w = side + 2 * pad
        x0 = margin if face_side == "right" else w - margin - card_w
        y0 = margin
        y1 = y0 + side + 2 * pad + label_h
        cv2.rectangle(screen, (x0, y0), (x0 + card_w, y1), (255, 255, 255), -1)
        screen[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side] = qr
        label = f"Scan to buy - {product.current_price}"
        size = 0.62 * scale
        while _text_width(label, size, 2) > card_w - 2 * pad and size > 0.3:
            size *= 0.9
        _text(screen, label, (x0 + pad, y1 - int(14 * scale)), size, 2, (30, 30, 30), shadow=False)

    def _idle_screen(self, screen: np.ndarray) -> np.ndarray:
        h, w = screen.shape[:2]
        scale = max(h / 720.0, 0.45)
        out = cv2.GaussianBlur(screen, (0, 0), 12)
        out = (out * 0.38).astype(np.uint8)
        how = "Swipe to change shade, pinch to buy" if self.session.options.gestures else \
            "Press <- -> to change shade, B to buy"
        lines = [self.options.attract_text, how]
        brand = self._focus_product().brand if self._focus_product() is not None else ""
        if brand:
            lines.insert(0, brand)
        y = h // 2 - int(40 * scale) * (len(lines) - 1)
        for i, line in enumerate(lines):
            big = 1.4 if line == self.options.attract_text else 0.8
            size = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, big * scale, 2)[0]
            _text(out, line, ((w - size[0]) // 2, y), big * scale, 2 if big > 1 else 1)
            y += int((70 if i == 0 else 56) * scale)
        return out

    def _lost_screen(self) -> np.ndarray:
        h, w = self._frame_size
        scale = max(h / 720.0, 0.45)
        screen = np.full((h, w, 3), 24, np.uint8)
        lines = ["Camera unavailable", "Reconnecting..."]
        if self._next_retry > self._clock():
            lines[1] = f"Reconnecting in {self._next_retry - self._clock():.0f} s"
        for i, line in enumerate(lines):
            big = 1.3 if i == 0 else 0.8
            size = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, big * scale, 2)[0]
            _text(screen, line, ((w - size[0]) // 2, h // 2 + i * int(60 * scale)), big * scale, 2 if i == 0 else 1)
        return screen

    # -- output ---------------------------------------------------------------------------------------
    def _show(self, screen: np.ndarray) -> list[str]:
        if self.options.record is not None:
            self._record(screen)
        if not self.options.display:
            return []
        if not self._window:
            cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
            if self.options.fullscreen:
                cv2.setWindowProperty(WINDOW, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
                size = _x11_screen_size()
                if size is not None:  # without a window manager (a bare X kiosk) fullscreen alone does nothing
                    cv2.moveWindow(WINDOW, 0, 0)
                    cv2.resizeWindow(WINDOW, *size)
            self._window = True
            logger.info("window %r created (%s)", WINDOW, "full screen" if self.options.fullscreen else "windowed")
        cv2.imshow(WINDOW, screen)
        key = cv2.waitKeyEx(1)
        actions = [a] if (a := key_action(key)) is not None else []
        try:
            if cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                actions.append("quit")  # the window was closed
        except cv2.error:
            actions.append("quit")
        return actions

    def _record(self, screen: np.ndarray) -> None:
        h, w = screen.shape[:2]
        if self._writer is None:
            path = Path(self.options.record)  # type: ignore[arg-type]
            path.parent.mkdir(parents=True, exist_ok=True)
            from arlens.video import VideoWriter

            # a browser plays it (OpenCV's writer made mp4v, which none does)
            self._writer = VideoWriter(path, self._fps, w, h, realtime=True)
            self._record_size = (w, h)
        if (w, h) != self._record_size:
            screen = cv2.resize(screen, self._record_size)
        self._writer.write(screen)

    def _drop_pending(self) -> None:
        """Forget a frame submitted to a pipelined session (the camera went away: it would show stale)."""
        if self.options.pipelined:
            try:
                self.session.flush()
            except Exception:
                logger.exception("dropping the pending frame failed")

    def _close(self) -> None:
        self._drop_pending()  # the session is the caller's: leave it ready for process()
        self._drop_source()
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._window:
            try:
                cv2.destroyWindow(WINDOW)
                cv2.waitKey(1)
            except cv2.error:
                logger.debug("destroying the window failed", exc_info=True)
            self._window = False


def _x11_screen_size() -> tuple[int, int] | None:
    """The X display's screen size through libX11 (None off X11 or when it cannot be asked)."""
    import ctypes
    import ctypes.util
    import os

    if not os.environ.get("DISPLAY"):
        return None
    try:
        name = ctypes.util.find_library("X11")
        if name is None:
            return None
        x11 = ctypes.CDLL(name)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = x11.XDefaultScreen(display)
            return int(x11.XDisplayWidth(display, screen)), int(x11.XDisplayHeight(display, screen))
        finally:
            x11.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None


def _text_width(text: str, scale: float, thickness: int) -> int:
    return cv2.getTextSize(text.encode("ascii", "replace").decode("ascii"), cv2.FONT_HERSHEY_SIMPLEX, scale,
                           thickness)[0][0]


def _shade(img: np.ndarray, box: tuple[int, int, int, int], alpha: float) -> None:
    """Darken a box of ``img`` in place (a translucent panel behind text)."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    if x1 > x0 and y1 > y0:
        # a 256-entry table of the float32 product, truncated as before: a twentieth of the per-pixel float
        # arithmetic's time (1.1 ms a frame for the bar at 1280x720), the same bytes
        lut = (np.arange(256, dtype=np.float32) * (1.0 - alpha)).astype(np.uint8)
        img[y0:y1, x0:x1] = cv2.LUT(img[y0:y1, x0:x1], lut)


def _text(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    scale: float,
    thickness: int = 1,
    color: tuple[int, int, int] = (255, 255, 255),
    shadow: bool = True,
) -> None:
    """Anti-aliased text with a soft shadow; non-ASCII characters become '?' (Hershey fonts are ASCII)."""
    text = text.encode("ascii", "replace").decode("ascii")
    if shadow:
        # same thickness as the text: OpenCV 5's built-in font widens its glyphs with the weight
        offset = max(1, int(round(2 * scale)))
        cv2.putText(img, text, (org[0] + offset, org[1] + offset), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    thickness, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)
