"""The lens registry: built-in kinds, drawing order, plugins through entry points, misuse."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from arlens.catalog import Catalog
from arlens.errors import InputError
from arlens.lenses import registry as reg
from arlens.lenses.registry import BUILTIN, LensRegistry, LensSpec, UnknownKindError, default_registry


def test_builtin_kinds_in_drawing_order():
    r = LensRegistry(BUILTIN)
    assert r.kinds() == ("lip_liner", "lipstick", "eyewear", "nail_polish")
    assert r.kinds("hand") == ("nail_polish",)
    assert not hasattr(r["eyewear"], "wants_camera")  # the scene carries the camera to every lens


def test_builds_the_lens_of_a_product():
    catalog = Catalog.default()
    product = next(p for p in catalog if p.kind is not None and p.kind.value == "lipstick")
    lens = LensRegistry(BUILTIN).build(product, catalog=catalog)
    from arlens.lenses.lipstick import LipstickLens

    assert isinstance(lens, LipstickLens)


def test_unknown_kind_lists_what_is_registered():
    with pytest.raises(UnknownKindError, match="expected one of lip_liner, lipstick, eyewear, nail_polish"):
        LensRegistry(BUILTIN)["blush"]


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


GLITTER = LensSpec("blush", "arlens.lenses.registry:lipstick_factory", "face", layer=40)


def test_plugins_come_from_entry_points(monkeypatch, caplog):
    monkeypatch.setattr(
        reg,
        "entry_points",
        _entry_points(("glitter", f"{__name__}:GLITTER"), ("broken", "no_such_module_xyz:SPEC")),
    )
    with caplog.at_level("WARNING", logger="arlens.lenses.registry"):
        r = default_registry()
    assert r.kinds()[:2] == ("blush", "lip_liner")  # layer 40 draws before the lip products
    assert r["blush"] is GLITTER
    assert any("broken" in rec.message for rec in caplog.records)
