"""The lens registry: built-in kinds, drawing order, plugins through entry points, misuse."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from arlens.catalog import Catalog, ProductKind
from arlens.errors import InputError
from arlens.lenses import registry as reg
from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec, UnknownKindError, default_registry

MAKEUP_ORDER = (
    "foundation", "contour", "highlighter", "blush", "eyeshadow", "eyeliner", "mascara", "brow", "lip_liner",
    "lipstick",
)


def test_builtin_kinds_in_drawing_order():
    r = LensRegistry(BUILTIN)
    assert r.kinds() == (*MAKEUP_ORDER, "eyewear", "nail_polish")
    assert r.kinds("hand") == ("nail_polish",)
    assert {k.value for k in ProductKind} == set(r.kinds())  # every kind a product may have is drawn
    assert not hasattr(r["eyewear"], "wants_camera")  # the scene carries the camera to every lens


def test_builds_the_lens_of_a_product():
    catalog = Catalog.default()
    product = next(p for p in catalog if p.kind is not None and p.kind.value == "lipstick")
    lens = LensRegistry(BUILTIN).build(product, catalog=catalog)
    from arlens.lenses.lipstick import LipstickLens

    assert isinstance(lens, LipstickLens)


def test_unknown_kind_lists_what_is_registered():
    partial = LensRegistry([s for s in BUILTIN if s.kind in ("lipstick", "eyewear")])
    with pytest.raises(UnknownKindError, match="expected one of lipstick, eyewear"):
        partial["blush"]


@pytest.mark.parametrize("kind", ["eyeshadow", "eyeliner", "mascara", "brow", "blush", "foundation", "contour",
                                  "highlighter"])
def test_every_makeup_kind_builds_a_makeup_lens(kind):
    from arlens.lenses.makeup import MakeupLens

    catalog = Catalog.default()
    product = next(p for p in catalog if p.kind is not None and p.kind.value == kind)
    lens = LensRegistry(BUILTIN).build(product, catalog=catalog)
    assert isinstance(lens, MakeupLens) and lens.kind == kind and lens.options.pattern == product.effective_pattern


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "", "factory": "a:b"}, "kind"),
        ({"kind": "x", "factory": "no_colon"}, "module:attribute"),
        ({"kind": "x", "factory": 3}, "module:attribute"),
        ({"kind": "x", "factory": "a:b", "target": "foot"}, "'face' or 'hand'"),
        ({"kind": "x", "factory": "a:b", "layer": 1.5}, "int"),
    ],
)
def test_bad_specs_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        LensSpec(**kwargs)


def test_a_taken_kind_needs_replace():
    r = LensRegistry(BUILTIN)
    spec = LensSpec("lipstick", "arlens.lenses.registry:lipstick_factory")
    with pytest.raises(InputError, match="already registered"):
        r.register(spec)
    r.register(spec, replace=True)
    assert r["lipstick"] is spec


def _entry_points(*pairs):
    eps = [EntryPoint(name=n, value=v, group=reg.ENTRY_POINT_GROUP) for n, v in pairs]
    return lambda group: [e for e in eps if e.group == group]


GLITTER = LensSpec("blush", f"{__name__}:glitter_factory", "face", layer=95)


class GlitterLens:
    """A third party's blush: paints one pixel per face white, where the first landmark is."""

    drawn = 0

    def __init__(self, product):
        self.product = product

    def render(self, frame, targets, scene=None):
        return self.render_into(frame.copy(), targets, scene)

    def render_into(self, out, targets, scene=None):
        for face in targets:
            x, y = (int(v) for v in face.landmarks[1, :2])
            out[y, x] = 255
            GlitterLens.drawn += 1
        return out


def glitter_factory(product, *, catalog=None, options=None):
    return GlitterLens(product)


def test_plugins_come_from_entry_points(monkeypatch, caplog):
    monkeypatch.setattr(
        reg,
        "entry_points",
        _entry_points(("glitter", f"{__name__}:GLITTER"), ("broken", "no_such_module_xyz:SPEC")),
    )
    with caplog.at_level("WARNING", logger="arlens.lenses.registry"):
        r = default_registry()
    assert r.kinds()[-5:] == ("lip_liner", "blush", "lipstick", "eyewear", "nail_polish")  # layer 95: after the liner
    assert r["blush"] is GLITTER
    assert any("broken" in rec.message for rec in caplog.records)


def test_a_session_draws_a_plugin_lens(monkeypatch, face_tracker):
    """A third-party package's entry point replaces the blush lens; TryOn builds and draws it like its own."""
    import cv2

    from arlens.session import TryOn
    from tests.support import DATA

    monkeypatch.setattr(reg, "entry_points", _entry_points(("glitter", f"{__name__}:GLITTER")))
    image = cv2.imread(str(DATA / "astronaut.png"))
    before = GlitterLens.drawn
    with TryOn(Catalog.default(), ["BLS-001", "LIP-004"], face_tracker=face_tracker) as session:
        assert [p.id for p in session.products] == ["BLS-001", "LIP-004"]  # the plugin's layer 95, under the lipstick
        result = session.process_image(image)
    assert GlitterLens.drawn == before + 1
    assert {h.product_id for h in result.hotspots} == {"BLS-001", "LIP-004"}
