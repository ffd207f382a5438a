"""relight.light_luts: the tables composite_in_light applies, worked out once for several pixel sets."""

import numpy as np

from arlens.render.relight import composite_in_light, light_luts


def _darken(px: np.ndarray) -> np.ndarray:
    return (px // 2)[None]


def test_tables_given_give_what_the_gains_give():
    rng = np.random.default_rng(3)
    gains = np.float32([0.55, 0.8, 1.3])
    luts = light_luts(gains, 3)
    assert luts is not None
    for n in (1, 17, 500):
        px = rng.integers(0, 256, (n, 3), dtype=np.uint8)
        expected = composite_in_light(px, gains, _darken)
        # the same tables, the same result: the one path with tables given is the path that makes them
        assert np.array_equal(composite_in_light(px, np.ones(3, np.float32), _darken, luts), expected)
    # and the light is really taken out and put back: not the plain composite
    assert not np.array_equal(expected, _darken(px))


def test_white_light_has_no_tables():
    assert light_luts(np.ones(3, np.float32), 3) is None
    assert light_luts(np.float32([1.0, 1.0005, 0.9995]), 3) is None
    assert light_luts(np.float32([1.0, 1.0, 0.9]), 3) is not None
