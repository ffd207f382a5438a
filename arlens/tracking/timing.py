"""Per-stage wall-clock timings of one tracker call, for benchmarks and logs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimes:
    """Milliseconds spent in each named stage during the latest call (stages add up when repeated)."""

    def __init__(self) -> None:
        self._ms: dict[str, float] = {}

    def start_call(self) -> None:
        """Forget the previous call's figures."""
        self._ms = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block under ``name``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._ms[name] = self._ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000.0

    def snapshot(self) -> dict[str, float]:
        """A copy of the latest call's stage -> milliseconds."""
        return dict(self._ms)
