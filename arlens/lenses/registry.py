"""The lens registry: one table from a product kind to the lens that draws it.

The session, the CLI, the demo and the outer shells ask it which kinds can be drawn, on what (a face
or a hand), in which order, and to build a product's lens; nothing else guesses class names. A
third-party package adds a lens (or replaces a built-in one) without touching arlens by declaring an
entry point in the ``arlens.lenses`` group whose object is a :class:`LensSpec` (or a list of them)::

    # pyproject.toml of the plugin
    [project.entry-points."arlens.lenses"]
    glitter = "arlens_glitter:SPEC"

``SPEC = LensSpec(kind="lipstick", factory="arlens_glitter:make_lens", target="face", layer=100)``, where
``make_lens(product, catalog=..., options=...)`` returns an object with ``render(frame, targets, scene=None)``
and ``render_into(out, targets, scene=None)``, as :class:`arlens.lenses.base.Lens` describes (the session
hands every lens the frame's :class:`~arlens.scene.Scene`, camera included; a lens whose ``render_into``
takes no ``scene`` is called without one). A plugin that fails to
load is logged and skipped: a broken plugin never takes a kiosk down.

Built-in layers (make-up order): foundation 10, contour 20, highlighter 30, blush 40, eyeshadow 50,
eyeliner 60, mascara 70, brow 80, lip liner 90, lipstick 100, eyewear 200, nail polish 300. A lens may also
have ``region(target, frame_shape)`` returning the (x0, y0, x1, y1) box it draws in, which the session uses
as the product's hotspot.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal

from arlens.errors import InputError

if TYPE_CHECKING:
    from arlens.catalog import Catalog, Product

logger = logging.getLogger(__name__)

#: The entry-point group third-party lenses are declared in.
ENTRY_POINT_GROUP = "arlens.lenses"

#: ``factory(product, *, catalog, options)``: ``catalog`` is the session's (for files beside the feed, or None)
#: and ``options`` the session's :class:`~arlens.session.TryOnOptions` (or None outside a session).
LensFactory = Callable[..., Any]


class UnknownKindError(InputError):
    """A kind no registered lens draws; the message lists the kinds that are registered."""


@dataclass(frozen=True)
class LensSpec:
    """How one product kind is drawn.

    Attributes:
        kind: the product kind's value (``"lipstick"``, ``"eyewear"``, ...).
        factory: ``"module:attribute"`` (imported when first needed, so ``import arlens`` stays light) or a
            callable; called as ``factory(product, catalog=catalog, options=options)`` and returning the lens.
        target: what the lens draws on, ``"face"`` or ``"hand"``.
        layer: drawing order within a frame, smaller first (foundation under blush under lipstick, eyewear
            over make-up, hands last).
        refinements: which of the face mesh's refined landmarks the lens reads (some of ``"lips"``,
            ``"eyes"``, ``"irises"``; :class:`~arlens.tracking.face.FaceTrackerOptions`); None (default): all
            of them. A session tracks faces with only the refinements its current lenses need (each left
            out saves part of the mesh model's time), so a lens that reads refined eye contours or irises
            must say so, or keep the default.
    """

    kind: str
    factory: str | LensFactory
    target: Literal["face", "hand"] = "face"
    layer: int = 100
    refinements: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        kind = getattr(self.kind, "value", self.kind)
        if not isinstance(kind, str) or not kind:
            raise InputError(f"LensSpec.kind: expected a product kind name, got {self.kind!r}")
        object.__setattr__(self, "kind", kind)
        if isinstance(self.factory, str):
            module, _, attr = self.factory.partition(":")
            if not module or not attr:
                raise InputError(f"LensSpec.factory: expected 'module:attribute' or a callable, got {self.factory!r}")
        elif not callable(self.factory):
            raise InputError(f"LensSpec.factory: expected 'module:attribute' or a callable, got {self.factory!r}")
        if self.target not in ("face", "hand"):
            raise InputError(f"LensSpec.target: expected 'face' or 'hand', got {self.target!r}")
        if isinstance(self.layer, bool) or not isinstance(self.layer, int):
            raise InputError(f"LensSpec.layer: expected an int, got {self.layer!r}")
        if self.refinements is not None:
            names = ("lips", "eyes", "irises")
            if isinstance(self.refinements, str) or not set(self.refinements) <= set(names):
                raise InputError(f"LensSpec.refinements: expected None or some of {names}, got {self.refinements!r}")
            object.__setattr__(self, "refinements", tuple(n for n in names if n in self.refinements))

    def load(self) -> LensFactory:
        """The factory itself (imports its module the first time)."""
        if callable(self.factory):
            return self.factory
        module, _, attr = self.factory.partition(":")
        value: Any = importlib.import_module(module)
        for part in attr.split("."):
            value = getattr(value, part)
        return value

    def build(self, product: Product, *, catalog: Catalog | None = None, options: Any = None) -> Any:
        """The lens that draws ``product`` (of this spec's kind)."""
        return self.load()(product, catalog=catalog, options=options)


# --------------------------------------------------------------------------------------------------
# the built-in lenses (factories take the session's catalog and options; see LensFactory)


def lipstick_factory(product: Product, *, catalog: Catalog | None = None, options: Any = None) -> Any:
    """A lipstick or lip liner lens, on the session's ``lipstick_backend``."""
    from arlens.lenses.lipstick import LipstickLens

    backend = getattr(options, "lipstick_backend", None) or "numpy"
    return LipstickLens.from_product(product, backend=backend)


def eyewear_factory(product: Product, *, catalog: Catalog | None = None, options: Any = None) -> Any:
    """An eyewear lens; the model file beside the catalog's feed when it is there.

    Otherwise the lens resolves the product's own model name, which also finds the bundled demo frames.
    """
    from arlens.lenses.eyewear import EyewearLens

    model = catalog.model_path(product) if catalog is not None and product.id in catalog else None
    overrides = {"model": model} if model is not None and model.is_file() else {}
    return EyewearLens.from_product(product, **overrides)


def nail_polish_factory(product: Product, *, catalog: Catalog | None = None, options: Any = None) -> Any:
    """A nail polish lens."""
    from arlens.lenses.nails import NailPolishLens

    return NailPolishLens.from_product(product)


def makeup_factory(product: Product, *, catalog: Catalog | None = None, options: Any = None) -> Any:
    """An eye, brow, cheek or skin make-up lens (the product's pattern and palette)."""
    from arlens.lenses.makeup import MakeupLens

    return MakeupLens.from_product(product)


#: Make-up goes on in this order (foundation first, brows after the eyes, lips last), then eyewear, then hands.
#: What each reads of the refined landmarks: make-up the eye contours and brows (the eye branch refines both)
#: and the lips (paint is kept off the eyes, brows and mouth), no irises; the lipstick the lips; the glasses sit
#: by the head pose (fitted on the rigid face), the mesh's outline and nose; nails are on hands.
_MAKEUP = ("lips", "eyes")
BUILTIN: tuple[LensSpec, ...] = (
    LensSpec("foundation", makeup_factory, "face", layer=10, refinements=_MAKEUP),
    LensSpec("contour", makeup_factory, "face", layer=20, refinements=_MAKEUP),
    LensSpec("highlighter", makeup_factory, "face", layer=30, refinements=_MAKEUP),
    LensSpec("blush", makeup_factory, "face", layer=40, refinements=_MAKEUP),
    LensSpec("eyeshadow", makeup_factory, "face", layer=50, refinements=_MAKEUP),
    LensSpec("eyeliner", makeup_factory, "face", layer=60, refinements=_MAKEUP),
    LensSpec("mascara", makeup_factory, "face", layer=70, refinements=_MAKEUP),
    LensSpec("brow", makeup_factory, "face", layer=80, refinements=_MAKEUP),
    LensSpec("lip_liner", lipstick_factory, "face", layer=90, refinements=("lips",)),
    LensSpec("lipstick", lipstick_factory, "face", layer=100, refinements=("lips",)),
    LensSpec("eyewear", eyewear_factory, "face", layer=200, refinements=()),
    LensSpec("nail_polish", nail_polish_factory, "hand", layer=300, refinements=()),
)


class LensRegistry:
    """Kind -> :class:`LensSpec`. Iterates in drawing order (layer, then registration order)."""

    def __init__(self, specs: Iterable[LensSpec] = ()) -> None:
        self._specs: dict[str, LensSpec] = {}
        for spec in specs:
            self.register(spec, replace=True)

    def register(self, spec: LensSpec, *, replace: bool = False) -> None:
        """Add ``spec``; with ``replace`` it may take over a kind that is already registered.

        Raises:
            InputError: not a LensSpec, or its kind is taken and ``replace`` is false.
        """
        if not isinstance(spec, LensSpec):
            raise InputError(f"register: expected a LensSpec, got {type(spec).__name__}")
        if spec.kind in self._specs and not replace:
            raise InputError(f"register: a lens for {spec.kind!r} is already registered (pass replace=True)")
        self._specs[spec.kind] = spec

    def get(self, kind: object) -> LensSpec | None:
        """The spec of ``kind`` (a ProductKind or its value), or None."""
        return self._specs.get(getattr(kind, "value", kind))  # type: ignore[arg-type]

    def __getitem__(self, kind: object) -> LensSpec:
        spec = self.get(kind)
        if spec is None:
            name = getattr(kind, "value", kind)
            raise UnknownKindError(f"no lens draws {name!r}: expected one of {', '.join(self.kinds()) or '(none)'}")
        return spec

    def __contains__(self, kind: object) -> bool:
        return self.get(kind) is not None

    def __iter__(self) -> Iterator[LensSpec]:
        order = {k: i for i, k in enumerate(self._specs)}
        return iter(sorted(self._specs.values(), key=lambda s: (s.layer, order[s.kind])))

    def __len__(self) -> int:
        return len(self._specs)

    def kinds(self, target: str | None = None) -> tuple[str, ...]:
        """Registered kinds in drawing order, optionally only those drawn on ``target`` (``"face"``/``"hand"``)."""
        return tuple(s.kind for s in self if target is None or s.target == target)

    def build(self, product: Product, *, catalog: Catalog | None = None, options: Any = None) -> Any:
        """The lens for ``product``.

        Raises:
            UnknownKindError: no lens is registered for the product's kind.
        """
        return self[product.kind].build(product, catalog=catalog, options=options)


def plugin_specs() -> list[LensSpec]:
    """The specs third-party packages declare in the ``arlens.lenses`` entry-point group (bad ones logged)."""
    specs: list[LensSpec] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            value = ep.load()
            value = value() if callable(value) and not isinstance(value, LensSpec) else value
            found = [value] if isinstance(value, LensSpec) else list(value)
            if not all(isinstance(s, LensSpec) for s in found):
                raise TypeError("expected a LensSpec or a list of LensSpec")
        except Exception as exc:  # a broken plugin must not stop the others (or the kiosk)
            logger.warning("lens plugin %s (%s) skipped: %s", ep.name, ep.value, exc)
            continue
        specs.extend(found)
    return specs


def default_registry() -> LensRegistry:
    """A new registry with arlens' own lenses and every installed plugin (plugins may replace built-ins)."""
    registry = LensRegistry(BUILTIN)
    for spec in plugin_specs():
        if spec.kind in registry:
            logger.info("lens plugin replaces the %s lens", spec.kind)
        registry.register(spec, replace=True)
    return registry
