"""Video-mode bookkeeping shared by the face and hand trackers.

Options built from keyword arguments, timestamps that must increase, and the set of tracked objects:
each with its ROI for the next frame, a stable id and its own smoothing filter, merged with new
detections by MediaPipe's association rule (:func:`arlens.tracking.roi.associate`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from arlens.errors import InputError
from arlens.tracking.roi import Roi, associate
from arlens.tracking.smoothing import OneEuroFilter, OneEuroOptions

O = TypeVar("O")  # noqa: E741


def build_options(cls: type[O], options: O | None, kwargs: dict[str, Any]) -> O:
    """``options`` (or ``cls(**kwargs)``) with keyword overrides; ``device``/``providers`` go to ``runtime``."""
    runtime_kwargs = {k: kwargs.pop(k) for k in ("device", "providers") if k in kwargs}
    if options is None:
        options = cls(**kwargs)
    elif kwargs:
        options = replace(options, **kwargs)
    if runtime_kwargs:
        options = replace(options, runtime=replace(options.runtime, **runtime_kwargs))  # type: ignore[attr-defined]
    return options


def check_timestamp(timestamp_ms: object, last: float | None) -> None:
    """Raise InputError unless ``timestamp_ms`` is a number greater than the previous frame's ``last``."""
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, (int, np.integer, float, np.floating)):
        raise InputError(f"timestamp_ms: expected a number of milliseconds, got {type(timestamp_ms).__name__}")
    if last is not None and timestamp_ms <= last:
        raise InputError(f"timestamp_ms: expected a value greater than the previous frame's {last}, got {timestamp_ms}")


@dataclass
class Track:
    """One tracked object: where to look next frame, its id, its smoothing filter."""

    roi: Roi
    track_id: int
    filter: OneEuroFilter


class Tracks:
    """The objects a tracker follows, in association order, with ids that never repeat."""

    def __init__(self, smoothing: OneEuroOptions):
        self._smoothing = smoothing
        self.items: list[Track] = []
        self._next_id = 1

    def __len__(self) -> int:
        return len(self.items)

    def reset(self) -> None:
        """Forget every track (ids keep counting up)."""
        self.items = []

    def merge(self, detected: list[Roi]) -> None:
        """Associate new detections with the tracks: overlapping ones collapse, new ones get fresh ids."""
        merged = []
        for roi, index in associate(detected, [t.roi for t in self.items]):
            if index is None:
                merged.append(Track(roi, self._next_id, OneEuroFilter(self._smoothing)))
                self._next_id += 1
            else:
                merged.append(self.items[index])
        self.items = merged

    def rois(self) -> list[Roi]:
        return [t.roi for t in self.items]
