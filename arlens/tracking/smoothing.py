"""Temporal smoothing of landmarks: the One Euro filter (Casiez, Roussel and Vogel, CHI 2012).

A low-pass filter whose cutoff rises with speed: a still face is smoothed hard (no jitter), a moving
one lightly (little lag). Speeds are measured in object sizes per second (for example inter-ocular
distances), so the same parameters work for a face near or far from the camera.

One change from the per-value filter of the paper: the cutoff is set by the object's mean speed over
all its landmarks, not by each landmark's own. A face moves as a whole, and the mean over hundreds of
points tells motion from detector noise far better than one noisy point does, so a still face gets
smoothed hard while a moving one is followed without lag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arlens.errors import InputError


@dataclass(frozen=True)
class OneEuroOptions:
    """Parameters of the One Euro filter.

    Attributes:
        min_cutoff: cutoff frequency (Hz) at rest; lower is smoother and laggier.
        beta: how fast the cutoff rises with speed (per object-size per second).
        d_cutoff: cutoff (Hz) of the speed estimate.
        enabled: False passes values through unchanged.
    """

    min_cutoff: float = 0.2
    beta: float = 300.0
    d_cutoff: float = 1.0
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("min_cutoff", "d_cutoff"):
            if not getattr(self, name) > 0:
                raise InputError(f"OneEuroOptions.{name}: expected > 0, got {getattr(self, name)}")
        if self.beta < 0:
            raise InputError(f"OneEuroOptions.beta: expected >= 0, got {self.beta}")


#: The shortest time step the filter takes (seconds).
MIN_DT_S = 1e-6


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter over an array of values, for one tracked object."""

    def __init__(self, options: OneEuroOptions):
        self.options = options
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        """Forget the history (a new object, or tracking was lost)."""
        self._x = self._dx = self._t = None

    def __call__(self, values: np.ndarray, timestamp_s: float, scale: float) -> np.ndarray:
        """Filter ``values`` observed at ``timestamp_s``; ``scale`` is the object's size in the values' units."""
        if not self.options.enabled:
            return values
        x = np.asarray(values, dtype=np.float64)
        if self._x is None or self._t is None or timestamp_s <= self._t:
            self._x, self._dx, self._t = x, np.zeros_like(x), timestamp_s
            return values.astype(np.float32, copy=True)
        # frames closer than a microsecond are taken as a microsecond apart: a denormal difference (two
        # timestamps 2e-313 ms apart, found by tests/fuzz) overflowed 1 / dt into NaN landmarks
        dt = max(timestamp_s - self._t, MIN_DT_S)
        o = self.options
        dx = (x - self._x) / dt
        a_d = _alpha(o.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self._dx
        speed = float(np.abs(dx_hat).mean()) / max(scale, 1e-6)
        cutoff = o.min_cutoff + o.beta * speed
        a = _alpha(cutoff, dt)
        x_hat = a * x + (1 - a) * self._x
        self._x, self._dx, self._t = x_hat, dx_hat, timestamp_s
        return x_hat.astype(np.float32)
