"""The built-in patterns: every catalog name is drawn, zones peak at 1, left mirrors right, strokes sit on the mesh."""

from __future__ import annotations

import numpy as np
import pytest

from arlens.catalog.patterns import PATTERNS
from arlens.errors import InputError
from arlens.render import face_uv as F
from arlens.render import patterns as P


@pytest.mark.parametrize("name", list(PATTERNS))
def test_every_pattern_builds_with_its_zones(name):
    pat = P.pattern(name)
    assert pat.info is PATTERNS[name] and pat.zones == len(PATTERNS[name].zones)
    for side in pat.sides:
        assert side.texture is not None or side.strokes
        if side.texture is not None:
            zones = side.texture.zones
            assert zones.shape[2] == pat.zones and zones.dtype == np.float32
            assert np.allclose(zones.reshape(-1, pat.zones).max(axis=0), 1.0, atol=1e-3)  # each zone peaks at 1
            assert len(side.texture.triangles) > 0
        for strokes in side.strokes:
            assert strokes.located.inside.mean() > 0.97  # authored on the face mesh (a wing tip may overhang)


@pytest.mark.parametrize("name", ["eyeshadow/lid-crease-outer", "blush/lifted", "eyeliner/winged"])
def test_left_is_the_mirror_of_right(name):
    right, left = P.pattern(name).sides
    assert (right.side, left.side) == ("right", "left")
    if right.texture is not None:
        np.testing.assert_array_equal(left.texture.zones, right.texture.zones[:, ::-1])
        r_u0 = right.texture.origin[0]
        width = right.texture.zones.shape[1] / right.texture.texels
        assert abs(left.texture.origin[0] - (1.0 - r_u0 - width)) < 1e-9
    lay = F.layout()
    for rs, ls in zip(right.strokes, left.strokes, strict=True):
        r_uv = F.warp(rs.located, lay.uv)
        l_uv = F.warp(ls.located, lay.uv)
        np.testing.assert_allclose(np.sort(1.0 - r_uv[:, 0]), np.sort(l_uv[:, 0]), atol=1e-5)


@pytest.mark.parametrize(
    "name", ["contour/classic", "blush/apple", "highlighter/cheekbone", "eyeshadow/lid-crease-outer"])
def test_the_vertices_under_a_sides_zones(name):
    """Each side's zones read at the mesh vertices: the vertices whose UV the zones cover, weighted by the strongest
    zone there; left and right are each other's mirror images."""
    lay = F.layout()
    right, left = P.pattern(name).sides
    for side in (right, left):
        index, weight = side.texture.vertex_weights
        assert len(index) >= 4 and (weight > 0).all() and (weight <= 1.0 + 1e-6).all()
        uv = lay.uv[index].astype(np.float32)
        at = side.texture.sample(uv[None, :, 0].copy(), uv[None, :, 1].copy())[0].max(axis=1)
        np.testing.assert_allclose(at, weight, atol=1e-6)
        others = np.setdiff1d(np.arange(468), index)
        ouv = lay.uv[others].astype(np.float32)
        assert side.texture.sample(ouv[None, :, 0].copy(), ouv[None, :, 1].copy()).max() < 2.0 / 512
    mirrored = lay.mirror[right.texture.vertex_weights[0]]
    assert sorted(mirrored.tolist()) == sorted(left.texture.vertex_weights[0].tolist())


def test_right_side_patterns_stay_on_the_right_half():
    for name in PATTERNS:
        for side in P.pattern(name).sides:
            if side.side == "right" and side.texture is not None:
                t = side.texture
                u = t.origin[0] + (np.arange(t.zones.shape[1]) + 0.5) / t.texels
                assert t.zones[:, u > 0.5].max(initial=0.0) < 0.05, name


def test_unknown_pattern():
    with pytest.raises(InputError, match="expected one of"):
        P.pattern("eyeshadow/glitter-bomb")


def _lashes(strokes: P.Strokes) -> tuple[np.ndarray, np.ndarray]:
    """(bases, tips) in UV, float (n, 2) each, of the lash polygons among ``strokes`` (each a tapered spine's two
    sides: 12 vertices, the base's two corners first and last, the tip's in the middle)."""
    uv = F.warp(strokes.located, F.layout().uv).astype(np.float64)
    polys = [p for p in np.split(uv, strokes.ends[:-1]) if len(p) == 12]
    bases = np.array([(p[0] + p[-1]) / 2 for p in polys])
    tips = np.array([(p[5] + p[6]) / 2 for p in polys])
    return bases, tips


@pytest.mark.parametrize("name", ["mascara/natural", "mascara/volume"])
def test_lashes_are_irregular_not_a_comb(name):
    upper = P.pattern(name).sides[0].strokes[0]
    bases, tips = _lashes(upper)
    assert len(bases) >= 30
    order = np.argsort(bases[:, 0])
    bases, tips = bases[order], tips[order]
    gaps = np.linalg.norm(np.diff(bases, axis=0), axis=1)
    # an evenly spaced comb's gaps vary only with the lid's curve (a few percent; 0.11 when the roots were placed on
    # a grid of 120 points along the lid); roots moved by up to a third of the spacing vary by about a quarter
    assert gaps.std() / gaps.mean() > 0.18
    lengths = np.linalg.norm(tips - bases, axis=1)
    assert lengths.std() / lengths.mean() > 0.1


def test_volume_lower_lashes_are_a_lighter_fringe_of_their_own():
    right = P.pattern("mascara/volume").sides[0]
    upper, lower = right.strokes
    assert upper.opacity == 1.0 and lower.opacity == pytest.approx(P.LOWER_LASH_OPACITY) and lower.opacity < 1.0
    up_bases, up_tips = _lashes(upper)
    lo_bases, lo_tips = _lashes(lower)
    assert len(lo_bases) >= 20  # a fringe, not a dozen dots
    assert (lo_tips[:, 1] > lo_bases[:, 1]).all() and (up_tips[:, 1] < up_bases[:, 1]).all()  # down and up (v down)
    assert np.median(np.linalg.norm(lo_tips - lo_bases, axis=1)) < 0.5 * np.median(
        np.linalg.norm(up_tips - up_bases, axis=1))
    assert len(P.pattern("mascara/natural").sides[0].strokes) == 1  # natural: upper lashes only
