"""Order statistics of small 1-D arrays without numpy's per-call overhead.

``np.percentile`` and ``np.quantile`` spend 20-100 us a call on argument handling and a general
N-dimensional path; the lenses ask for one value of a few thousand samples every frame. This computes
the same value from one ``np.partition``: numpy's default method (linear interpolation between the two
order statistics around ``(n - 1) * q``) with numpy's own rounding (its two-sided lerp), written here
because numpy has no cheaper public entry point for it.
"""

from __future__ import annotations

import math

import numpy as np

from arlens.errors import InputError


def percentile(x: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` of a non-empty 1-D array of finite floats, ``q`` in 0..100: the same value (numpy 2
    interpolates with the weight in the array's precision, as here; numpy 1.x in float64, within an ULP).

    Raises:
        InputError: ``x`` empty or not 1-D, or ``q`` outside 0..100.
    """
    if x.ndim != 1 or x.shape[0] == 0:
        raise InputError(f"percentile: expected a non-empty 1-D array, got shape {x.shape}")
    if not 0.0 <= q <= 100.0:
        raise InputError(f"percentile: expected q in 0..100, got {q!r}")
    n = x.shape[0]
    v = (n - 1) * (q / 100.0)
    lo = math.floor(v)
    hi = min(lo + 1, n - 1)
    part = np.partition(x, [lo, hi] if hi != lo else lo)
    a, b = part[lo], part[hi]
    g = v - lo
    if g == 0.0:  # an order statistic itself (numpy takes it without interpolating)
        return float(a)
    d = b - a
    return float(b - d * (1 - g) if g >= 0.5 else a + d * g)


def median(x: np.ndarray) -> float:
    """``np.median(x)`` of a non-empty 1-D array of finite floats: the same value (the middle order statistic, or the
    mean of the two middle ones summed in the array's precision, as numpy does) from one ``np.partition``.

    Raises:
        InputError: ``x`` empty or not 1-D.
    """
    if x.ndim != 1 or x.shape[0] == 0:
        raise InputError(f"median: expected a non-empty 1-D array, got shape {x.shape}")
    n = x.shape[0]
    k = n // 2
    if n % 2:
        return float(np.partition(x, k)[k])
    part = np.partition(x, [k - 1, k])
    return float(part[k - 1] + part[k]) / 2.0  # a sum in x's precision, halved exactly
