"""What the scene remembers from frame to frame of a video: the light and the colour models of each tracked
face, smoothed so that a still face does not flicker, without lagging a real change.

A single frame's estimates wobble: the light's direction is fitted to a few hundred skin samples under
landmarks that move by a pixel, and turns by several degrees from one frame to the next on a talking face
whose light has not moved (the gloss highlight would jump about); the lip and skin colour classes move
with the sensor's noise (the lips' edges would shimmer). Each is filtered per face track by an adaptive
exponential filter (:func:`follow`): a frame's change within the estimate's own noise moves the smoothed
value by a small step (``SceneMemoryOptions.rest``), a change several times the noise is taken at once,
and in between the step grows smoothly. So a still face holds steady, a light switched on or a face
turning into a shadow shows in the same frame, and a slow change (a cloud, the auto-exposure settling) is
followed within a few frames.

What is filtered, in which units and with which noise:

- the light's gains, per channel, in log units (``gain_noise``): colour and intensity;
- the light's spherical harmonics relative to their constant term (``direction_noise``): its direction
  and how directional it is;
- each colour class's mean and covariance (the mean's move measured by its Mahalanobis distance under
  the remembered covariance, ``color_noise``);
- the camera's look by the face (:class:`~arlens.render.camera_match.CameraLook`): its blur in pixels
  (``blur_noise``) and its grain in grey levels (``grain_noise``). A frame's blur estimate moves by 0.16 px
  (median) to 0.6 px (1 in 10) from one frame to the next on the talking-head clip, whose camera does not
  change: without the memory the liner, lashes and lipstick would sharpen and soften with it, and shimmer
  would flip between glints and the sheen they blur into.

A :class:`~arlens.scene.Scene` built with ``memory=`` reads and updates it, once per frame and face, when a
lens first asks for that face's light, colours or camera look; faces are told apart by ``Face.track_id``, and a track
not seen for ``forget_after`` scenes is forgotten. :class:`~arlens.session.TryOn` keeps one per session in
video mode. It is a stateful object with a lifetime, not a value: one per video stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arlens.errors import InputError
from arlens.render.camera_match import CameraLook
from arlens.scene.colors import ColorClass, ColorModel
from arlens.scene.light import Light


@dataclass(frozen=True)
class SceneMemoryOptions:
    """Settings of a :class:`SceneMemory`, validated when built.

    Attributes:
        rest: the share of a within-noise change taken per frame (0..1; smaller is steadier, 1 turns the
            memory off).
        jump: how many noise units of change are taken at once (> 1; between 1 and ``jump`` the share
            grows smoothly from ``rest`` to 1).
        gain_noise: a frame's noise in the light's gains (log units: 0.03 is 3%).
        direction_noise: a frame's noise in the light's spherical harmonics relative to their constant term.
        color_noise: a frame's noise in a colour class's mean (Mahalanobis units of the class).
        blur_noise: a frame's noise in the camera's blur by the face (pixels of Gaussian sigma).
        grain_noise: a frame's noise in the camera's grain by the face (grey levels).
        forget_after: scenes after which a face track not seen is forgotten.
    """

    rest: float = 0.2
    jump: float = 4.0
    gain_noise: float = 0.03
    direction_noise: float = 0.2
    color_noise: float = 0.5
    blur_noise: float = 0.3
    grain_noise: float = 0.5
    forget_after: int = 30

    def __post_init__(self) -> None:
        for name in ("rest", "jump", "gain_noise", "direction_noise", "color_noise", "blur_noise", "grain_noise"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"SceneMemoryOptions.{name}: expected a number, got {value!r}")
        if not 0.0 < self.rest <= 1.0:
            raise InputError(f"SceneMemoryOptions.rest: expected a number in (0, 1], got {self.rest!r}")
        if not self.jump > 1.0:
            raise InputError(f"SceneMemoryOptions.jump: expected a number > 1, got {self.jump!r}")
        for name in ("gain_noise", "direction_noise", "color_noise", "blur_noise", "grain_noise"):
            if not getattr(self, name) > 0:
                raise InputError(f"SceneMemoryOptions.{name}: expected a number > 0, got {getattr(self, name)!r}")
        if isinstance(self.forget_after, bool) or not isinstance(self.forget_after, int) or self.forget_after < 1:
            raise InputError(f"SceneMemoryOptions.forget_after: expected an integer >= 1, got {self.forget_after!r}")


def follow(previous: np.ndarray, current: np.ndarray, distance: float, options: SceneMemoryOptions) -> np.ndarray:
    """The smoothed value after a frame: ``previous`` moved toward ``current`` by a share that is
    ``options.rest`` while ``distance`` (the change in noise units) is at most 1, 1 from ``options.jump``
    on, and a smoothstep between."""
    t = min(max((distance - 1.0) / (options.jump - 1.0), 0.0), 1.0)
    share = options.rest + (1.0 - options.rest) * t * t * (3.0 - 2.0 * t)
    return previous + share * (current - previous)


@dataclass
class _Track:
    light: Light | None = None
    colors: ColorModel | None = None
    camera: CameraLook | None = None
    seen: int = 0
    scenes: set[int] = field(default_factory=set)


class SceneMemory:
    """The light, colour models and camera look of each face track, smoothed over a video's frames.

    Args:
        options: :class:`SceneMemoryOptions` (defaults when None).

    Pass one to every :class:`~arlens.scene.Scene` of a stream (``Scene(frame, faces, hands, memory=m)``);
    :meth:`reset` when the stream is cut.
    """

    def __init__(self, options: SceneMemoryOptions | None = None) -> None:
        self.options = options if options is not None else SceneMemoryOptions()
        if not isinstance(self.options, SceneMemoryOptions):
            raise InputError(f"options: expected SceneMemoryOptions, got {type(self.options).__name__}")
        self._tracks: dict[int, _Track] = {}
        self._scene = 0

    def __repr__(self) -> str:
        return f"SceneMemory(tracks={len(self._tracks)})"

    def reset(self) -> None:
        """Forget every face (a cut in the video, a new camera)."""
        self._tracks.clear()

    def new_scene(self) -> int:
        """Count a new frame and forget the tracks not seen for ``forget_after`` of them; returns its
        number (what a Scene passes back when it updates a face)."""
        self._scene += 1
        stale = [k for k, t in self._tracks.items() if self._scene - t.seen > self.options.forget_after]
        for k in stale:
            del self._tracks[k]
        return self._scene

    def _track(self, track_id: int, scene: int) -> _Track:
        track = self._tracks.get(track_id)
        if track is None:
            track = self._tracks[track_id] = _Track()
        track.seen = scene
        return track

    def _remember(self, track_id: int, scene: int, name: str, now: Any,
                  smooth: Callable[[_Track, Any, Any], Any]) -> Any:
        """Track ``track_id``'s value ``name`` after this frame's ``now``: ``now`` itself the first time, else
        ``smooth(track, before, now)``; remembered."""
        track = self._track(track_id, scene)
        before = getattr(track, name)
        value = now if before is None else smooth(track, before, now)
        setattr(track, name, value)
        return value

    def light(self, track_id: int, scene: int, light: Light) -> Light:
        """This frame's ``light`` of face ``track_id`` smoothed with what came before; remembered."""
        return self._remember(track_id, scene, "light", light, self._light)

    def _light(self, track: _Track, before: Light, light: Light) -> Light:
        o = self.options
        log_before = np.log(np.maximum(before.gains.astype(np.float64), 1e-6))
        log_now = np.log(np.maximum(light.gains.astype(np.float64), 1e-6))
        change = float(np.abs(log_now - log_before).max())  # the largest gain change, in log units
        log_gains = follow(log_before, log_now, change / o.gain_noise, o)
        gains = np.exp(log_gains)
        sh_before = _relative_sh(before.sh)
        sh_now = _relative_sh(light.sh)
        sh_rel = follow(sh_before, sh_now, float(np.linalg.norm(sh_now - sh_before)) / o.direction_noise, o)
        # a light that changed at once (switched on, a face into a shadow): the colours change with it
        if change > o.jump * o.gain_noise:
            track.colors = None
        return _light_from(gains, sh_rel, light)

    def colors(self, track_id: int, scene: int, colors: ColorModel) -> ColorModel:
        """This frame's colour model of face ``track_id`` smoothed with what came before; remembered."""
        return self._remember(track_id, scene, "colors", colors, lambda _, before, now: ColorModel(
            self._class(before.skin, now.skin), self._class(before.lip, now.lip), now.foreign, now.lip_coloured,
            now.grey))

    def camera_look(self, track_id: int, scene: int, look: CameraLook) -> CameraLook:
        """This frame's camera ``look`` by face ``track_id`` smoothed with what came before; remembered. Blur and
        grain are followed apart (each by its own change in its own noise)."""
        return self._remember(track_id, scene, "camera", look, self._camera)

    def _camera(self, _: _Track, before: CameraLook, look: CameraLook) -> CameraLook:
        o = self.options
        blur = follow(np.float64(before.blur_sigma_px), np.float64(look.blur_sigma_px),
                      abs(look.blur_sigma_px - before.blur_sigma_px) / o.blur_noise, o)
        grain = follow(np.float64(before.noise_sigma), np.float64(look.noise_sigma),
                       abs(look.noise_sigma - before.noise_sigma) / o.grain_noise, o)
        return CameraLook(float(blur), float(grain))

    def _class(self, before: ColorClass | None, now: ColorClass | None) -> ColorClass | None:
        if before is None or now is None:
            return now  # a class seen for the first time, or not at all this frame (covered): no memory
        d = (now.mean - before.mean).astype(np.float64)
        distance = math.sqrt(max(float(d @ before._precision[0].astype(np.float64) @ d), 0.0))
        share_distance = distance / self.options.color_noise
        mean = follow(before.mean.astype(np.float64), now.mean.astype(np.float64), share_distance, self.options)
        cov = follow(before.covariance.astype(np.float64), now.covariance.astype(np.float64), share_distance,
                     self.options)
        return ColorClass(mean.astype(np.float32), cov.astype(np.float32), now.count)


def _relative_sh(sh: np.ndarray) -> np.ndarray:
    """float64 (4,): log of the SH constant term, then the directional terms over it."""
    s = np.asarray(sh, dtype=np.float64)
    c = max(float(s[0]), 1e-6)
    return np.array([math.log(c), s[1] / c, s[2] / c, s[3] / c])


def _light_from(gains: np.ndarray, sh_rel: np.ndarray, light: Light) -> Light:
    """A :class:`Light` of ``gains`` (linear B, G, R) and relative SH ``sh_rel``; the white patch rescaled
    with the gains."""
    from arlens.scene.light import BGR_TO_Y, REFERENCE_WHITE

    c = math.exp(float(sh_rel[0]))
    sh = np.array([c, sh_rel[1] * c, sh_rel[2] * c, sh_rel[3] * c])
    norm = float(np.linalg.norm(sh[1:]))
    direction = sh[1:] / norm if norm > 1e-9 else np.array([0.0, 0.0, 1.0])
    y = float(gains @ BGR_TO_Y)
    color = gains / y if y > 1e-9 else np.ones(3)
    return Light(color=color, intensity=y, direction=direction, sh=sh, white=gains * REFERENCE_WHITE)
