"""arlens.stats: numpy's percentile from one partial sort."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.stats import median, percentile


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_percentile_equals_numpy(dtype):
    """The same value as np.percentile (linear interpolation) for every size, percentile and spread of values,
    ties and order statistics hit exactly included. Within one ULP, not bit for bit: numpy 2 interpolates in
    the array's precision as arlens does, numpy 1.x (still allowed by pyproject) with a float64 weight."""
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 4, 5, 17, 101, 400, 1001, 22_000):
        for spread in (1e-3, 100.0, 1e6):
            x = rng.uniform(0.0, spread, n).astype(dtype)
            if n > 4:
                x[: n // 4] = x[0]  # ties
            for q in (0.0, 1.0, 25.0, 50.0, 80.0, 90.0, 95.0, 99.9, 100.0, float(rng.uniform(0, 100))):
                got, want = percentile(x, q), np.percentile(x, q)
                np.testing.assert_array_max_ulp(np.asarray(got, dtype), np.asarray(want, dtype), maxulp=1)


def test_percentile_leaves_the_input_alone():
    x = np.array([5.0, 1.0, 4.0, 2.0, 3.0], np.float32)
    before = x.copy()
    assert percentile(x, 50.0) == 3.0
    assert np.array_equal(x, before)


@pytest.mark.parametrize(("x", "q", "message"), [
    (np.zeros(0, np.float32), 50.0, "non-empty 1-D"),
    (np.zeros((2, 2), np.float32), 50.0, "non-empty 1-D"),
    (np.zeros(3, np.float32), 100.5, "q in 0..100"),
    (np.zeros(3, np.float32), -1.0, "q in 0..100"),
])
def test_percentile_refuses_bad_input(x, q, message):
    with pytest.raises(InputError, match=message):
        percentile(x, q)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_equals_numpy(dtype):
    """Bit for bit np.median (the middle order statistic, or the two middle ones' sum in the array's precision
    halved: exact), for odd and even sizes, ties and wide spreads."""
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 4, 5, 6, 17, 100, 101, 400, 1001, 22_000):
        for spread in (1e-3, 1.0, 100.0, 1e6):
            for _ in range(5):
                x = rng.uniform(0.0, spread, n).astype(dtype)
                if n > 4:
                    x[: n // 4] = x[-1]  # ties
                before = x.copy()
                assert median(x) == float(np.median(x))
                assert np.array_equal(x, before)


def test_median_refuses_bad_input():
    with pytest.raises(InputError, match="non-empty 1-D"):
        median(np.zeros(0, np.float32))
    with pytest.raises(InputError, match="non-empty 1-D"):
        median(np.zeros((2, 2), np.float32))
