"""Video-mode bookkeeping shared by the face and hand trackers.

Options built from keyword arguments, timestamps that must increase, and the set of tracked objects:
each with its ROI for the next frame, a stable id and its own smoothing filter, merged with new
detections by MediaPipe's association rule (:func:`arlens.tracking.roi.associate`); and
:class:`TrackerBase`, the lifecycle both trackers share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np

from arlens.errors import InputError
from arlens.image import as_bgr
from arlens.tracking.roi import Roi, associate
from arlens.tracking.smoothing import OneEuroFilter, OneEuroOptions
from arlens.tracking.timestamps import check_timestamp
from arlens.tracking.timing import StageTimes

if TYPE_CHECKING:
    from arlens.runtime import Model

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


class TrackerBase:
    """What FaceTracker and HandTracker share: their ONNX sessions' lifetime, stage timings, video state.

    Subclasses pass the models they hold (None for one they skip) and the smoothing for their tracks,
    and start every public call with :meth:`_start_call` or, in video mode, :meth:`_start_frame`.
    """

    def __init__(self, models: Sequence[Model | None], smoothing: OneEuroOptions) -> None:
        self._models = [m for m in models if m is not None]
        self._tracks = Tracks(smoothing)
        self._last_ts: float | None = None
        self._closed = False
        self._times = StageTimes()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the ONNX Runtime sessions; the tracker cannot be used afterwards."""
        for model in self._models:
            model.close()
        self._closed = True

    @property
    def timings(self) -> dict[str, float]:
        """Milliseconds per stage of the latest call, keyed by stage name (``detection``, ``landmarks``, ...)."""
        return self._times.snapshot()

    def reset(self) -> None:
        """Forget tracked objects and timestamps, to start a new video stream."""
        self._tracks.reset()
        self._last_ts = None

    def _start_call(self) -> None:
        """Refuse a closed tracker and start timing a call."""
        if self._closed:
            raise InputError(f"{type(self).__name__}: used after close()")
        self._times.start_call()

    def _start_frame(self, frame: np.ndarray, timestamp_ms: object) -> np.ndarray:
        """:meth:`_start_call` for a video frame: the frame as BGR, its timestamp checked and kept."""
        self._start_call()
        image = as_bgr(frame, "frame")
        self._last_ts = check_timestamp(timestamp_ms, self._last_ts)
        return image
