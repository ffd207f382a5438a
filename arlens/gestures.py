"""Hand gestures from landmarks: open palm, pinch, thumbs up, point and a horizontal swipe.

A :class:`GestureRecognizer` is fed the hands of consecutive video frames
(``update(hands, timestamp_ms)``, the :class:`~arlens.tracking.hand.HandTracker`'s output) and returns
the :class:`GestureEvent` values that *started* in that frame. Every distance is measured in hand
sizes (:attr:`Hand.size`, wrist to middle-finger MCP, in image pixels), so the thresholds hold at any
distance from the camera; every time in milliseconds of stream time.

Static poses (image-plane geometry, one pose per hand at a time):

- a finger (index, middle, ring, pinky) is *extended* when its tip is farther from the wrist than its
  PIP joint by ``extended_enter`` hand sizes, and *curled* when its tip is no farther than the PIP by more
  than ``curled_enter`` (the tip folds back toward the wrist);
- the thumb is *extended* when it is fairly straight (the MCP->IP and IP->tip directions agree, cosine
  at least ``thumb_straight``) and its tip is at least ``thumb_reach_enter`` hand sizes from the index
  MCP (a thumb tucked over a fist is not);
- ``"pinch"``: thumb tip to index tip closer than ``pinch_enter`` (0.25) hand sizes; it ends only when
  they are farther apart than ``pinch_exit`` (0.35);
- ``"thumbs_up"``: thumb extended and pointing up in the image (MCP->tip within ``thumb_up_enter``,
  as a cosine with straight up), the four fingers curled;
- ``"point"``: index extended, middle, ring and pinky curled (the thumb may do anything);
- ``"open_palm"``: all five fingers extended.

Priority when several hold: pinch, thumbs up, point, open palm.

Hysteresis, so that a gesture fires **once per performance**, never every frame:

1. each pose has an *enter* test and a looser *exit* test (the ``*_exit`` thresholds): the active pose
   stays while its exit test holds, a new pose must pass its enter test;
2. a new pose becomes active only after it has been seen in ``hold_frames`` consecutive frames, and only
   while the wrist moves slower than ``max_pose_speed`` hand sizes per second (a hand sweeping
   across the camera is swiping, not posing); the active pose is dropped after ``release_frames``
   consecutive frames without it;
3. the event fires when the pose becomes active. Holding a pose fires nothing more: an open palm held
   for a minute fires one ``"open_palm"``, when it starts. Releasing and re-forming the pose (or
   going to another pose and back) is a new performance and fires again.

Swipe: the wrist's track over the last ``swipe_window_ms`` (400 ms). When the largest horizontal
displacement from an earlier sample of the window to now is at least ``swipe_min_distance`` (1.5) hand
sizes, at an average speed of at least ``swipe_min_speed`` hand sizes per second, and mostly
horizontal (vertical displacement at most ``swipe_max_slope`` times the horizontal), a ``"swipe"`` fires
with ``direction`` ``"right"`` (wrist moving toward larger x) or ``"left"``, in image coordinates (a
mirrored display flips them) and its ``speed``. The hand's track is then cleared and no swipe fires for
``swipe_cooldown_ms``, so one sweep is one swipe.

Hands are matched across frames by ``track_id``; a hand whose id is 0 (still-image results) or not
distinct in its frame takes the state of the nearest previous hand not otherwise claimed (wrist within
``match_distance`` hand sizes), else starts a new one. A hand unseen for ``forget_ms`` is forgotten.

Example:
    >>> recognizer = GestureRecognizer()
    >>> for ts, frame in stream:  # doctest: +SKIP
    ...     for event in recognizer.update(tracker.track(frame, ts), ts):
    ...         print(event.name, event.direction)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from arlens.errors import InputError
from arlens.landmarks import FINGERS
from arlens.landmarks import HandLandmark as H
from arlens.tracking.results import Hand, as_hands
from arlens.tracking.timestamps import check_timestamp

__all__ = ["GESTURES", "GestureEvent", "GestureOptions", "GestureRecognizer"]

#: Every gesture name an event may carry.
GESTURES = ("open_palm", "pinch", "thumbs_up", "point", "swipe")
#: Static poses in priority order (the first that holds wins).
POSES = ("pinch", "thumbs_up", "point", "open_palm")
_LONG_FINGERS = ("index", "middle", "ring", "pinky")


@dataclass(frozen=True)
class GestureOptions:
    """Thresholds of a :class:`GestureRecognizer`, validated when built.

    Distances are in hand sizes (wrist to middle MCP), speeds in hand sizes per second, times in ms.

    Attributes:
        extended_enter: a finger's tip must be this much farther from the wrist than its PIP to count
            as extended (``extended_exit`` to stay extended in the active pose).
        curled_enter: a finger counts as curled when its tip is at most this much farther from the wrist
            than its PIP (``curled_exit``, larger, to stay curled).
        thumb_straight: least cosine between the thumb's MCP->IP and IP->tip directions when extended.
        thumb_reach_enter: least distance from thumb tip to index MCP for an extended thumb
            (``thumb_reach_exit`` to stay extended).
        thumb_up_enter: least cosine between the thumb's MCP->tip direction and image-up for a thumbs up
            (``thumb_up_exit`` to stay).
        pinch_enter: thumb tip to index tip distance under which a pinch starts; ``pinch_exit`` over
            which it ends.
        hold_frames: consecutive frames a new pose must be seen before it fires.
        release_frames: consecutive frames without the active pose before it is dropped.
        max_pose_speed: a new pose is only counted while the wrist is slower than this.
        swipe_window_ms: the stretch of the wrist's track a swipe is measured over.
        swipe_min_distance: least horizontal wrist displacement within the window.
        swipe_min_speed: least average horizontal speed of that displacement.
        swipe_max_slope: most vertical displacement per unit of horizontal displacement.
        swipe_cooldown_ms: time after a swipe during which that hand fires no other swipe.
        match_distance: how far (hand sizes) a hand without a distinct track id may be from the previous
            frame's hand whose state it takes.
        forget_ms: a hand unseen this long is forgotten.

    Raises:
        InputError: naming the field that is out of range or inconsistent.
    """

    extended_enter: float = 0.2
    extended_exit: float = 0.1
    curled_enter: float = 0.0
    curled_exit: float = 0.1
    thumb_straight: float = 0.5
    thumb_reach_enter: float = 0.5
    thumb_reach_exit: float = 0.4
    thumb_up_enter: float = 0.8
    thumb_up_exit: float = 0.6
    pinch_enter: float = 0.25
    pinch_exit: float = 0.35
    hold_frames: int = 3
    release_frames: int = 3
    max_pose_speed: float = 2.0
    swipe_window_ms: float = 400.0
    swipe_min_distance: float = 1.5
    swipe_min_speed: float = 3.0
    swipe_max_slope: float = 0.5
    swipe_cooldown_ms: float = 600.0
    match_distance: float = 2.0
    forget_ms: float = 500.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise InputError(f"GestureOptions.{f.name}: expected an int >= 1, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"GestureOptions.{f.name}: expected a finite number, got {value!r}")
        positive = ("pinch_enter", "max_pose_speed", "swipe_window_ms", "swipe_min_distance", "swipe_min_speed",
                    "match_distance", "forget_ms", "thumb_reach_exit")
        for name in positive:
            if getattr(self, name) <= 0:
                raise InputError(f"GestureOptions.{name}: expected a number > 0, got {getattr(self, name)!r}")
        for name in ("swipe_max_slope", "swipe_cooldown_ms"):
            if getattr(self, name) < 0:
                raise InputError(f"GestureOptions.{name}: expected a number >= 0, got {getattr(self, name)!r}")
        for name in ("thumb_straight", "thumb_up_enter", "thumb_up_exit"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"GestureOptions.{name}: expected a cosine in [-1, 1], got {getattr(self, name)!r}")
        # each exit threshold must be looser than its enter threshold, or the pose would flicker
        pairs = (("extended_exit", "extended_enter"), ("curled_enter", "curled_exit"),
                 ("thumb_reach_exit", "thumb_reach_enter"), ("thumb_up_exit", "thumb_up_enter"),
                 ("pinch_enter", "pinch_exit"))
        for lo, hi in pairs:
            if getattr(self, lo) > getattr(self, hi):
                raise InputError(f"GestureOptions.{lo}: expected at most {hi} ({getattr(self, hi)!r}) for "
                                 f"hysteresis, got {getattr(self, lo)!r}")


@dataclass(frozen=True)
class GestureEvent:
    """One recognised gesture.

    Attributes:
        name: one of :data:`GESTURES`.
        hand: the :class:`Hand` that performed it, in the frame where it fired.
        timestamp_ms: the frame's timestamp.
        direction: ``"left"`` or ``"right"`` (image coordinates) for a swipe, None otherwise.
        speed: a swipe's mean horizontal wrist speed in hand sizes per second, None otherwise.
    """

    name: str
    hand: Hand
    timestamp_ms: float
    direction: str | None = None
    speed: float | None = None


@dataclass
class _HandState:
    """What the recognizer remembers about one hand between frames."""

    last_ts: float
    wrist: np.ndarray
    size: float
    active: str | None = None
    candidate: str | None = None
    candidate_frames: int = 0
    missing_frames: int = 0
    cooldown_until: float = -math.inf
    track: deque = field(default_factory=deque)  # (ts, x, y, size)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.zeros_like(v)


class _Pose:
    """Pose measurements of one hand in one frame, in hand sizes."""

    def __init__(self, xy: np.ndarray, size: float) -> None:
        wrist = xy[H.WRIST]
        self.extension = {}
        for name in _LONG_FINGERS:
            tip, _, pip = FINGERS[name]
            self.extension[name] = (np.linalg.norm(xy[tip] - wrist) - np.linalg.norm(xy[pip] - wrist)) / size
        tip, ip, mcp = FINGERS["thumb"]
        self.thumb_straight = float(np.dot(_unit(xy[ip] - xy[mcp]), _unit(xy[tip] - xy[ip])))
        self.thumb_reach = float(np.linalg.norm(xy[tip] - xy[H.INDEX_FINGER_MCP])) / size
        self.thumb_up = float(-_unit(xy[tip] - xy[mcp])[1])  # cosine with image-up (y grows downward)
        self.pinch = float(np.linalg.norm(xy[tip] - xy[H.INDEX_FINGER_TIP])) / size

    def holds(self, pose: str, o: GestureOptions, staying: bool) -> bool:
        """Whether ``pose`` holds: with the exit (looser) thresholds when it is the active pose."""
        ext = o.extended_exit if staying else o.extended_enter
        curl = o.curled_exit if staying else o.curled_enter

        def extended(name: str) -> bool:
            return self.extension[name] >= ext

        def curled(name: str) -> bool:
            return self.extension[name] <= curl

        thumb_out = self.thumb_straight >= o.thumb_straight and self.thumb_reach >= (
            o.thumb_reach_exit if staying else o.thumb_reach_enter)
        if pose == "pinch":
            return self.pinch < (o.pinch_exit if staying else o.pinch_enter)
        if pose == "thumbs_up":
            up = self.thumb_up >= (o.thumb_up_exit if staying else o.thumb_up_enter)
            return thumb_out and up and all(curled(n) for n in _LONG_FINGERS)
        if pose == "point":
            return extended("index") and all(curled(n) for n in ("middle", "ring", "pinky"))
        if pose == "open_palm":
            return thumb_out and all(extended(n) for n in _LONG_FINGERS)
        raise ValueError(pose)  # pragma: no cover - POSES is closed


class GestureRecognizer:
    """Turns the hands of consecutive frames into gesture events, each fired once per performance.

    Args:
        options: thresholds; keyword arguments build :class:`GestureOptions` instead (or override
            fields of ``options``).

    Raises:
        InputError: when an option is out of range (raised here, once).
    """

    def __init__(self, options: GestureOptions | None = None, **kwargs: float) -> None:
        if options is None:
            options = GestureOptions(**kwargs)
        elif kwargs:
            options = replace(options, **kwargs)
        if not isinstance(options, GestureOptions):
            raise InputError(f"options: expected GestureOptions, got {type(options).__name__}")
        self.options = options
        self._states: dict[object, _HandState] = {}
        self._last_ts: float | None = None
        self._anonymous = 0

    def reset(self) -> None:
        """Forget every hand and the last timestamp (start of a new stream)."""
        self._states.clear()
        self._last_ts = None

    def update(self, hands: Sequence[Hand], timestamp_ms: float) -> list[GestureEvent]:
        """Feed one frame's hands; return the gestures that fired in it.

        Args:
            hands: the hands tracked in the frame (empty when there are none).
            timestamp_ms: the frame's stream time, greater than the previous call's.

        Returns:
            The events of this frame, in the order of ``hands`` (usually empty).

        Raises:
            InputError: when ``hands`` is not a list of :class:`Hand` or the timestamp does not increase.
        """
        hands = as_hands(hands)
        ts = check_timestamp(timestamp_ms, self._last_ts)
        self._last_ts = ts
        events: list[GestureEvent] = []
        for hand, key in zip(hands, self._match(hands), strict=True):
            events += self._update_hand(hand, key, ts)
        for key in [k for k, s in self._states.items() if ts - s.last_ts > self.options.forget_ms]:
            del self._states[key]
        return events

    # -- matching hands to states --------------------------------------------------------------------
    def _match(self, hands: list[Hand]) -> list[object]:
        ids = [h.track_id for h in hands]
        keys: list[object | None] = [
            ("track", i) if i != 0 and ids.count(i) == 1 else None for i in ids
        ]
        free = {k: s for k, s in self._states.items() if k not in keys}
        for n, hand in enumerate(hands):
            if keys[n] is not None:
                continue
            wrist = hand.landmarks[H.WRIST, :2]
            reach = self.options.match_distance * max(hand.size, 1e-6)
            near = [(float(np.linalg.norm(s.wrist - wrist)), k) for k, s in free.items()]
            dist, key = min(near, key=lambda dk: dk[0], default=(math.inf, None))
            if key is not None and dist <= reach:
                del free[key]
            else:
                self._anonymous += 1
                key = ("anonymous", self._anonymous)
            keys[n] = key
        return keys

    # -- one hand ------------------------------------------------------------------------------------
    def _update_hand(self, hand: Hand, key: object, ts: float) -> list[GestureEvent]:
        o = self.options
        xy = hand.landmarks[:, :2].astype(np.float64)
        size = hand.size
        if not size > 1e-6 or not np.isfinite(xy).all():
            return []  # a degenerate hand: nothing can be measured
        wrist = xy[H.WRIST].copy()
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _HandState(ts, wrist, size)
            speed = 0.0
        else:
            dt = (ts - state.last_ts) / 1000.0
            speed = float(np.linalg.norm(wrist - state.wrist)) / size / dt
            state.last_ts, state.wrist, state.size = ts, wrist, size
        events = []
        swipe = self._swipe(state, hand, ts)
        if swipe is not None:
            events.append(swipe)
        pose = self._pose(state, _Pose(xy, size))
        if pose is not None and pose != state.active and speed < o.max_pose_speed:
            state.candidate_frames = state.candidate_frames + 1 if pose == state.candidate else 1
            state.candidate = pose
            if state.candidate_frames >= o.hold_frames:
                state.active, state.candidate, state.candidate_frames = pose, None, 0
                events.append(GestureEvent(pose, hand, ts))
        else:
            state.candidate, state.candidate_frames = None, 0
        if pose == state.active:
            state.missing_frames = 0
        elif state.active is not None:
            state.missing_frames += 1
            if state.missing_frames >= o.release_frames:
                state.active, state.missing_frames = None, 0
        return events

    def _pose(self, state: _HandState, pose: _Pose) -> str | None:
        o = self.options
        if state.active is not None and pose.holds(state.active, o, staying=True):
            # the active pose keeps the hand unless a pose of higher priority clearly starts
            for name in POSES[: POSES.index(state.active)]:
                if pose.holds(name, o, staying=False):
                    return name
            return state.active
        for name in POSES:
            if pose.holds(name, o, staying=False):
                return name
        return None

    def _swipe(self, state: _HandState, hand: Hand, ts: float) -> GestureEvent | None:
        o = self.options
        track = state.track
        track.append((ts, float(state.wrist[0]), float(state.wrist[1]), state.size))
        while track and ts - track[0][0] > o.swipe_window_ms:
            track.popleft()
        if ts < state.cooldown_until or len(track) < 2:
            return None
        samples = np.array(track, dtype=np.float64)
        dx = samples[-1, 1] - samples[:-1, 1]
        i = int(np.argmax(np.abs(dx)))
        size = float(np.median(samples[:, 3]))
        dist = abs(float(dx[i])) / size
        dy = abs(float(samples[-1, 2] - samples[i, 2])) / size
        dt = (ts - samples[i, 0]) / 1000.0
        speed = dist / dt
        if dist < o.swipe_min_distance or speed < o.swipe_min_speed or dy > o.swipe_max_slope * dist:
            return None
        track.clear()
        state.cooldown_until = ts + o.swipe_cooldown_ms
        return GestureEvent("swipe", hand, ts, direction="right" if dx[i] > 0 else "left", speed=speed)
