"""``arlens catalog``, ``arlens lens`` and ``arlens models``: check and export feeds, lens bundles and models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from arlens.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_UNKNOWN_PRODUCT,
    EXIT_USAGE,
    AddCommand,
    CliError,
    first_line,
    load_catalog,
    resolve_product_id,
    warn,
)


def cmd_catalog_validate(args: argparse.Namespace) -> int:
    """Check a feed; list every problem."""
    from arlens.catalog import Catalog
    from arlens.errors import CatalogError

    if not Path(args.feed).is_file():
        raise CliError(f"cannot read catalog {args.feed}: no such file", EXIT_INPUT)
    try:
        catalog = Catalog.load(args.feed)
    except CatalogError as exc:
        for problem in exc.problems:
            print(problem)
        raise CliError(first_line(exc), EXIT_INPUT) from None
    kinds: dict[str, int] = {}
    for p in catalog:
        key = p.kind.value if p.kind else "(no kind)"
        kinds[key] = kinds.get(key, 0) + 1
    detail = ", ".join(f"{n} {k}" for k, n in kinds.items())
    fmt = catalog.format.value if catalog.format is not None else "?"
    looks = f", {len(catalog.looks)} looks" if catalog.looks else ""
    print(f"ok: {args.feed} ({fmt}): {len(catalog)} products{looks} ({detail})")
    _warn_undrawable(catalog)
    return EXIT_OK


def _warn_undrawable(catalog: Any) -> None:
    """Warn about products of kinds the feed format knows but no installed lens draws (``try`` would exit 4)."""
    from arlens.lenses.registry import default_registry

    registry = default_registry()
    by_kind: dict[str, list[str]] = {}
    for p in catalog:
        if p.kind is not None and p.kind not in registry:
            by_kind.setdefault(p.kind.value, []).append(p.id)
    for kind, ids in by_kind.items():
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        warn(f"{len(ids)} {kind} product{'s' if len(ids) != 1 else ''} ({shown}) cannot be tried on with this "
             f"version of arlens: no lens draws {kind} (lenses installed: {', '.join(registry.kinds())})")


def _product_dict(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "brand": p.brand,
        "kind": p.kind.value if p.kind else None,
        "price": str(p.price),
        "sale_price": str(p.sale_price) if p.sale_price else None,
        "availability": p.availability.value,
        "color": p.color,
        "color_name": p.color_name,
        "finish": p.finish.value if p.finish else None,
        "opacity": p.opacity,
        "model": p.model,
        "frame_width_mm": p.frame_width_mm,
        "pattern": p.effective_pattern,
        "palette": [str(c) for c in p.effective_palette] if p.effective_pattern else None,
        "link": p.link,
        "buy_link": p.buy_link(),
    }


def cmd_catalog_list(args: argparse.Namespace) -> int:
    """List products, optionally of one kind."""
    from arlens.errors import InputError

    catalog = load_catalog(args.feed)
    if args.kind is not None:
        try:
            catalog = catalog.filter(kind=args.kind)
        except InputError as exc:  # names the kinds, and the closest to a typo
            raise CliError(f"--{first_line(exc)}", EXIT_USAGE) from None
    if args.json:
        print(json.dumps([_product_dict(p) for p in catalog], indent=2, ensure_ascii=False))
        return EXIT_OK
    rows = [(p.id, p.kind.value if p.kind else "-", p.title, str(p.current_price), p.color or "-",
             p.finish.value if p.finish else "-") for p in catalog]
    header = ("ID", "KIND", "TITLE", "PRICE", "COLOR", "FINISH")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def cmd_catalog_jsonld(args: argparse.Namespace) -> int:
    """Print schema.org Product JSON-LD."""
    from arlens.catalog.jsonld import to_jsonld

    catalog = load_catalog(args.feed)
    if args.look is not None:
        from arlens.catalog.jsonld import look_to_jsonld

        if args.look not in {lk.id for lk in catalog.looks}:
            raise CliError(f"unknown look {args.look!r}: not in catalog {args.feed or '(default)'}",
                           EXIT_UNKNOWN_PRODUCT)
        print(json.dumps(look_to_jsonld(catalog.look(args.look), catalog), indent=2, ensure_ascii=False))
        return EXIT_OK
    if args.product is not None:
        doc: Any = to_jsonld(catalog[resolve_product_id(catalog, args.product, args.feed)])
    else:
        doc = [to_jsonld(p) for p in catalog]
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_lens_validate(args: argparse.Namespace) -> int:
    """Check a lens bundle (zip or folder)."""
    from arlens.catalog.bundle import LensBundle
    from arlens.errors import BundleError

    if not Path(args.bundle).exists():
        raise CliError(f"cannot read lens bundle {args.bundle}: no such file or folder", EXIT_INPUT)
    try:
        bundle = LensBundle.load(args.bundle)
    except BundleError as exc:
        for problem in exc.problems:
            print(problem)
        raise CliError(first_line(exc), EXIT_INPUT) from None
    ids = ", ".join(p.id for p in bundle.products)
    print(f"ok: {args.bundle}: lens {bundle.name!r} ({bundle.kind.value}), products {ids}, "
          f"{len(bundle.assets)} asset{'s' if len(bundle.assets) != 1 else ''}")
    return EXIT_OK


def cmd_models_verify(args: argparse.Namespace) -> int:
    """Check the ONNX models against their sha256 manifest."""
    from arlens.runtime import verify_models

    models = verify_models()
    for name, path in models.items():
        print(f"ok  {name}  {path}")
    print(f"{len(models)} models verified")
    return EXIT_OK


def register(add: AddCommand) -> None:
    """Add this module's commands to the ``arlens`` parser."""
    cat = add("catalog", "Check, list or export a catalog feed.", None)
    cat_sub = cat.add_subparsers(dest="catalog_command", metavar="ACTION", title="actions")
    p = add("validate", "Check a feed and list every problem (file, line, column).", cmd_catalog_validate, cat_sub)
    p.add_argument("feed", metavar="FEED", help="Meta CSV/TSV, Google Merchant TSV or arlens JSON feed")
    p = add("list", "List a feed's products (default: the bundled demo catalog).", cmd_catalog_list, cat_sub)
    p.add_argument("feed", metavar="FEED", nargs="?", help="feed file (default: the bundled demo catalog)")
    p.add_argument("--kind", "-k", metavar="K", help="only this kind (lipstick, eyewear, nail_polish, ...)")
    p.add_argument("--json", action="store_true", help="JSON output for scripts")
    p = add("jsonld", "Print schema.org Product JSON-LD for a feed's products.", cmd_catalog_jsonld, cat_sub)
    p.add_argument("feed", metavar="FEED", nargs="?", help="feed file (default: the bundled demo catalog)")
    p.add_argument("--product", "-p", metavar="ID", help="only this product (one object instead of a list)")
    p.add_argument("--look", metavar="ID", help="a look of the catalog, as a schema.org ProductCollection")

    lens = add("lens", "Check lens bundles.", None)
    lens_sub = lens.add_subparsers(dest="lens_command", metavar="ACTION", title="actions")
    p = add("validate", "Check a lens bundle (zip or folder): schema, products, assets, safety.", cmd_lens_validate,
            lens_sub)
    p.add_argument("bundle", metavar="BUNDLE", help="a .zip file or a folder with lens.json")

    models = add("models", "Check the bundled ONNX models.", None)
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION", title="actions")
    add("verify", "Check every model file against its sha256 in the manifest.", cmd_models_verify, models_sub)
