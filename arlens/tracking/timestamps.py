"""Stream timestamps: the one rule every video-mode call applies (trackers, gestures, the session)."""

from __future__ import annotations

import math

import numpy as np

from arlens.errors import InputError

__all__ = ["MAX_TIMESTAMP_MS", "check_timestamp"]

#: The largest timestamp magnitude taken, in milliseconds: 2**53 (about 285,000 years), beyond which float64
#: cannot tell consecutive milliseconds apart and the smoothing filters' time steps would be zero.
MAX_TIMESTAMP_MS = float(2**53)


def check_timestamp(timestamp_ms: object, last: float | None) -> float:
    """``timestamp_ms`` as a float, or InputError unless it is a finite number of milliseconds within
    +-MAX_TIMESTAMP_MS and greater than the previous frame's ``last``.

    NaN and infinities are refused here: taken in, NaN made the smoothing filters return NaN forever
    and +inf made every later frame "not greater" until ``reset()``.
    """
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int | np.integer | float | np.floating):
        raise InputError(f"timestamp_ms: expected a number of milliseconds, got {type(timestamp_ms).__name__}")
    if isinstance(timestamp_ms, int | np.integer) and abs(int(timestamp_ms)) > MAX_TIMESTAMP_MS:
        ts = math.inf  # a 400-digit integer does not fit a float: refused below, without OverflowError
    else:
        ts = float(timestamp_ms)
    if not abs(ts) <= MAX_TIMESTAMP_MS:
        shown = f"an integer of {len(str(abs(int(timestamp_ms))))} digits" if ts == math.inf and isinstance(
            timestamp_ms, int | np.integer) else repr(timestamp_ms)
        raise InputError(f"timestamp_ms: expected a finite number of milliseconds within +-2**53, got {shown}")
    if last is not None and ts <= last:
        raise InputError(f"timestamp_ms: expected a value greater than the previous frame's {last:g}, got {ts:g}")
    return ts
