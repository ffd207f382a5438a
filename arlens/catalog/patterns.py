"""Named makeup patterns: where on the face each colour of a product's palette goes.

A pattern is a layout, named ``<kind>/<name>`` (``eyeshadow/lid-crease-outer``, ``blush/apple``), with one
named zone per palette colour, in palette order. Products refer to patterns by name; the renderer
(:mod:`arlens.render.patterns`) draws every name listed here, authored once in arlens' own UV layout of the
face mesh and mirrored to both sides. This table is pure data, so a feed can be validated without
importing any rendering code.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class PatternInfo:
    """One named layout.

    Attributes:
        name: ``<kind>/<name>``.
        kind: the product kind it belongs to (a :class:`~arlens.catalog.ProductKind` value).
        zones: the zone of each palette colour, in palette order (a product's palette has exactly this many).
        description: what it looks like, for catalog authors.
    """

    name: str
    kind: str
    zones: tuple[str, ...]
    description: str


def _table(*infos: PatternInfo) -> MappingProxyType[str, PatternInfo]:
    return MappingProxyType({p.name: p for p in infos})


PATTERNS = _table(
    PatternInfo("eyeshadow/lid", "eyeshadow", ("lid",), "one colour washed over the lid up to the crease"),
    PatternInfo("eyeshadow/lid-crease", "eyeshadow", ("lid", "crease"), "a lid colour and a deeper crease"),
    PatternInfo(
        "eyeshadow/lid-crease-outer",
        "eyeshadow",
        ("lid", "crease", "outer"),
        "lid, a blended crease and a deep outer V at the outer corner",
    ),
    PatternInfo(
        "eyeshadow/smoky", "eyeshadow", ("lid", "smudge"), "a lid colour and a dark smudge along both lash lines"
    ),
    PatternInfo(
        "eyeshadow/halo",
        "eyeshadow",
        ("inner", "centre", "outer", "crease", "brow-bone"),
        "five colours: inner lid, lid centre, outer lid, crease and a brow-bone highlight",
    ),
    PatternInfo("eyeliner/natural", "eyeliner", ("line",), "a thin line along the upper lash line"),
    PatternInfo("eyeliner/winged", "eyeliner", ("line",), "an upper line that thickens outwards into a wing"),
    PatternInfo(
        "eyeliner/upper-lower", "eyeliner", ("line",), "upper and lower lash lines, meeting at the outer corner"
    ),
    PatternInfo("mascara/natural", "mascara", ("lashes",), "defined upper lashes"),
    PatternInfo("mascara/volume", "mascara", ("lashes",), "longer, denser upper lashes and defined lower lashes"),
    PatternInfo("brow/natural", "brow", ("brow",), "tints the brow hair in its own shape"),
    PatternInfo("brow/fill", "brow", ("brow",), "tints the brow hair and fills sparse brows with hair strokes"),
    PatternInfo("blush/apple", "blush", ("apple",), "a round flush on the apples of the cheeks"),
    PatternInfo("blush/lifted", "blush", ("cheekbone",), "swept up along the cheekbone towards the temple"),
    PatternInfo("blush/duo", "blush", ("apple", "cheekbone"), "a flush on the apples blended up along the cheekbone"),
    PatternInfo(
        "foundation/natural", "foundation", ("skin",), "the whole face, edges blended into the hairline and jaw"
    ),
    PatternInfo("contour/classic", "contour", ("shadow",), "under the cheekbones, the temples and along the jaw"),
    PatternInfo("contour/soft", "contour", ("shadow",), "a soft shadow under the cheekbones only"),
    PatternInfo("highlighter/cheekbone", "highlighter", ("glow",), "the tops of the cheekbones"),
    PatternInfo(
        "highlighter/glow", "highlighter", ("glow",), "cheekbones, nose bridge, brow bones and the cupid's bow"
    ),
)
"""Every built-in pattern by name."""

DEFAULT_PATTERNS = MappingProxyType(
    {
        "eyeshadow": "eyeshadow/lid",
        "eyeliner": "eyeliner/natural",
        "mascara": "mascara/natural",
        "brow": "brow/natural",
        "blush": "blush/apple",
        "foundation": "foundation/natural",
        "contour": "contour/classic",
        "highlighter": "highlighter/cheekbone",
    }
)
"""The pattern a product of each patterned kind gets when it names none."""

MAX_PALETTE = 5
"""Most colours a palette may hold."""


def patterns_of(kind: str) -> tuple[str, ...]:
    """Names of the patterns of ``kind`` (a ProductKind or its value), in table order."""
    kind = str(getattr(kind, "value", kind))
    return tuple(name for name, info in PATTERNS.items() if info.kind == kind)
