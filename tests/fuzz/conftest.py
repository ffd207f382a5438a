"""The fuzz suite's budget: how many cases each property tries, and the contract every property asserts.

Every property in ``tests/fuzz`` states the same contract for one public boundary: given random and
extreme input, arlens returns a result or raises its own error (:class:`arlens.errors.ArlensError`),
within a time bound (Hypothesis' ``deadline`` per case) and a memory bound (:func:`bounded`), and loses
nothing it acknowledged.

Budget: CI runs each property ``max_examples`` cases, derandomized (the same cases on every run, so a
red build is never luck), sized so the whole suite adds about two minutes on a 2-core machine.
``ARLENS_FUZZ_SCALE=N`` multiplies every property's case count and draws fresh random cases (the
longer run quoted in issue #24's closing note used ``ARLENS_FUZZ_SCALE=25``), e.g.::

    ARLENS_FUZZ_SCALE=25 python -m pytest tests/fuzz -q --hypothesis-show-statistics

Shrunk failing cases are kept as explicit regression tests (``@example`` on the property, or a test
of their own in the boundary's test module).
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("ARLENS_FUZZ_SCALE", "1")))
LONG_RUN = SCALE > 1

settings.register_profile(
    "arlens-fuzz",
    derandomize=not LONG_RUN,
    database=None,  # no .hypothesis folder in the tree; failures are kept as explicit examples instead
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

F = TypeVar("F", bound=Callable[..., Any])


def budget(examples: int, deadline_ms: int) -> Callable[[F], F]:
    """Hypothesis settings for one property: ``examples`` cases in CI (times ARLENS_FUZZ_SCALE), each within
    ``deadline_ms`` (generous: 10-100x the normal cost, so only a hang or a blow-up trips it)."""
    return settings(settings.get_profile("arlens-fuzz"), max_examples=examples * SCALE, deadline=deadline_ms)


@contextmanager
def bounded(max_mb: float):
    """Assert that the block allocates at most ``max_mb`` MiB at its peak (numpy's and OpenCV's arrays are
    traced: both allocate through Python's allocator hooks)."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= max_mb * 2**20, f"peak {peak / 2**20:.1f} MiB > {max_mb} MiB"
