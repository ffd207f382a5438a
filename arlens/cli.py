"""The ``arlens`` command: try products on a photo or a video, run the kiosk mirror, check catalogs.

Commands (``arlens COMMAND --help`` for each)::

    arlens try IMAGE --product ID [--product ID ...] [--catalog FEED] -o OUT
    arlens video IN -o OUT --product ID [...] [--catalog FEED]
    arlens mirror [--camera N | --source FILE] [--catalog FEED] [--headless --frames N --record OUT] [--keys SCRIPT]
    arlens catalog validate|list|jsonld [FEED]
    arlens lens validate BUNDLE
    arlens models verify
    arlens demo [-o DIR]

Exit codes:

    0  success
    1  runtime failure: models missing or corrupt, no OpenGL context, no display, a file that cannot
       be written, an unexpected error
    2  bad usage: unknown command or option, missing argument, bad output file name or key script
    3  bad input data: an image or video that cannot be read, a malformed catalog feed or lens bundle
    4  unknown product ID (or a product arlens cannot draw)

Errors are one line on stderr, ``arlens: error: ...``, without a traceback (``-v`` adds it).
This module and :mod:`arlens.kiosk` are the only ones that print; the kiosk window is created only
by ``arlens mirror`` without ``--headless``, and the kiosk module is imported only by that command.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_UNKNOWN_PRODUCT = 4

EPILOG = """exit codes:
  0  success
  1  runtime failure (models, OpenGL, display, writing output, unexpected errors)
  2  bad usage (unknown option, missing argument, bad output name or key script)
  3  bad input data (unreadable image or video, malformed catalog or lens bundle)
  4  unknown product ID (or a product arlens cannot draw)
"""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi")


class CliError(Exception):
    """A user-facing failure: one line of text and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``arlens: error: ...``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        raise CliError(message + hint, EXIT_USAGE)


class _Formatter(logging.Formatter):
    """Log lines for the terminal: tracebacks only with ``-v``."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("arlens: %(levelname)s: %(message)s")
        self.verbose = verbose

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        if self.verbose:
            return super().formatException(ei)
        return f"  ({ei[0].__name__}: {str(ei[1]).splitlines()[0] if str(ei[1]) else ''}; -v for the traceback)"


# --------------------------------------------------------------------------------------------------
# helpers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load_catalog(path: str | None) -> Any:
    from arlens.catalog import Catalog
    from arlens.errors import CatalogError

    if path is None:
        return Catalog.default()
    if not Path(path).is_file():
        raise CliError(f"cannot read catalog {path}: no such file", EXIT_INPUT)
    try:
        return Catalog.load(path)
    except CatalogError as exc:
        raise CliError(f"{_first_line(exc)}; run 'arlens catalog validate {path}' to list them", EXIT_INPUT) from None


def _read_image(path: str) -> Any:
    import cv2

    p = Path(path)
    if not p.is_file():
        raise CliError(f"cannot read image {path}: no such file", EXIT_INPUT)
    image = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if image is None:
        raise CliError(f"cannot read image {path}: not an image format OpenCV can decode", EXIT_INPUT)
    return image


def _check_output(path: str, suffixes: Sequence[str], what: str) -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CliError(f"-o {path}: expected {what} file ending in {', '.join(suffixes)}", EXIT_USAGE)
    if out.is_dir():
        raise CliError(f"-o {path}: is a folder, expected a file name", EXIT_USAGE)
    return out


def _session(catalog: Any, products: Sequence[str], **kwargs: Any) -> Any:
    from arlens.session import TryOn

    return TryOn(catalog, products, **kwargs)


def _product_line(product: Any, link: str) -> str:
    return f"{product.id}  {product.title}  {product.current_price}\n  buy: {link}"


# --------------------------------------------------------------------------------------------------
# commands


def cmd_try(args: argparse.Namespace) -> int:
    """Render the products on one image."""
    out = _check_output(args.output, IMAGE_SUFFIXES, "an image")
    image = _read_image(args.image)
    catalog = _load_catalog(args.catalog)
    with _session(catalog, args.product) as session:
        result = session.process_image(image)
        products = session.products
    _write_image(out, result.frame)
    if args.json:
        report = {
            "output": str(out),
            "faces": len(result.faces),
            "products": [
                {"id": p.id, "title": p.title, "price": str(p.current_price), "link": p.buy_link(),
                 "bbox": [[round(float(v), 1) for v in h.bbox] for h in result.hotspots if h.product_id == p.id]}
                for p in products
            ],
        }
        print(json.dumps(report, indent=2))
    else:
        for p in products:
            print(_product_line(p, p.buy_link()))
        print(f"wrote {out} ({len(result.faces)} face{'s' if len(result.faces) != 1 else ''})")
    if not result.faces:
        print(f"arlens: warning: no face found in {args.image}; the image was written unchanged", file=sys.stderr)
    return EXIT_OK


def _write_image(path: Path, image: Any) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix, image)
    if not ok:
        raise CliError(f"cannot encode {path}", EXIT_RUNTIME)
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}", EXIT_RUNTIME) from None


def cmd_video(args: argparse.Namespace) -> int:
    """Render the products on every frame of a video, keeping its frame rate and size."""
    import cv2
    from tqdm import tqdm

    out = _check_output(args.output, VIDEO_SUFFIXES, "a video")
    src = Path(args.input)
    if not src.is_file():
        raise CliError(f"cannot read video {args.input}: no such file", EXIT_INPUT)
    catalog = _load_catalog(args.catalog)
    cap = cv2.VideoCapture(str(src))
    ok, frame = cap.read() if cap.isOpened() else (False, None)
    if not ok or frame is None:
        cap.release()
        raise CliError(f"cannot read video {args.input}: no decodable frames", EXIT_INPUT)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not (fps == fps and 1.0 <= fps <= 1000.0):  # NaN or absurd: the container did not say
        fps = 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    h, w = frame.shape[:2]
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        cap.release()
        raise CliError(f"cannot write video {out}", EXIT_RUNTIME)
    frames = with_faces = 0
    start = time.perf_counter()
    try:
        with _session(catalog, args.product) as session, tqdm(
            total=total if total > 0 else None, unit="frame", desc=src.name, disable=args.quiet, file=sys.stderr,
            dynamic_ncols=True,
        ) as bar:
            products = session.products
            while frame is not None:
                if frame.shape[:2] != (h, w):  # a stream that changes size mid-way: keep the first size
                    frame = cv2.resize(frame, (w, h))
                result = session.process(frame, frames * 1000.0 / fps)
                writer.write(result.frame)
                frames += 1
                with_faces += bool(result.faces)
                bar.update(1)
                ok, frame = cap.read()
                if not ok:
                    frame = None
    finally:
        cap.release()
        writer.release()
    seconds = time.perf_counter() - start
    for p in products:
        print(_product_line(p, p.buy_link()))
    print(f"wrote {out}: {frames} frames, {w}x{h} at {fps:g} fps; faces in {with_faces} frames; "
          f"{frames / seconds if seconds > 0 else 0:.1f} frames/s")
    return EXIT_OK


def _key_script(text: str) -> dict[int, list[str]]:
    from arlens.errors import InputError
    from arlens.kiosk import parse_key_script

    try:
        return parse_key_script(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def cmd_mirror(args: argparse.Namespace) -> int:
    """Run the webcam-mirror kiosk."""
    from arlens.kiosk import Kiosk, KioskOptions, open_source
    from arlens.session import TryOnOptions, hand_modules_available

    if not args.headless and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise CliError("no display to open the mirror window on (DISPLAY is not set); use --headless", EXIT_RUNTIME)
    if args.record is not None:
        _check_output(args.record, VIDEO_SUFFIXES, "a video")
    if args.source is not None and not Path(args.source).is_file():
        raise CliError(f"cannot read video {args.source}: no such file", EXIT_INPUT)
    catalog = _load_catalog(args.catalog)
    products = list(args.product or [])
    if not products:
        from arlens.session import RENDERABLE_KINDS

        first = next((p for p in catalog if p.kind in RENDERABLE_KINDS and p.kind.value != "nail_polish"), None)
        if first is None:
            raise CliError(f"catalog {args.catalog or '(default)'} has no product arlens can draw", EXIT_INPUT)
        products = [first.id]
    available = hand_modules_available()
    gestures = not args.no_gestures and available["hand_tracker"] and available["gestures"]
    if not gestures and not args.no_gestures:
        logging.getLogger("arlens.kiosk").info("hand gestures off (hand modules not installed); keys only")
    sink = None
    if args.events:
        from arlens.events import JsonlEventSink

        try:
            Path(args.events).parent.mkdir(parents=True, exist_ok=True)
            sink = JsonlEventSink(args.events)
        except OSError as exc:
            raise CliError(f"cannot write events to {args.events}: {exc.strerror or exc}", EXIT_RUNTIME) from None
    options = KioskOptions(
        display=not args.headless,
        fullscreen=not args.windowed,
        frames=args.frames,
        idle_seconds=args.idle_seconds,
        qr_seconds=args.qr_seconds,
        snapshot_dir=Path(args.snapshots),
        record=Path(args.record) if args.record else None,
        key_script=args.keys or {},
        realtime=not args.headless and args.source is not None,
    )
    try:
        with _session(catalog, products, options=TryOnOptions(gestures=gestures), event_sink=sink) as session:
            kiosk = Kiosk(
                session,
                (lambda: open_source(path=args.source)) if args.source else (lambda: open_source(camera=args.camera)),
                options,
                is_file=args.source is not None,
            )
            stats = kiosk.run()
    finally:
        if sink is not None:
            sink.close()
    ms = sorted(stats.process_ms)
    median = ms[len(ms) // 2] if ms else 0.0
    print(f"mirror: {stats.frames} frames in {stats.seconds:.1f} s ({stats.fps:.1f} fps; session median "
          f"{median:.1f} ms/frame); faces in {stats.tracked_frames}; {stats.shade_changes} shade changes, "
          f"{stats.qr_shown} QR codes, {len(stats.snapshots)} snapshots, {stats.camera_lost} camera losses, "
          f"{stats.errors} errors")
    for path in stats.snapshots:
        print(f"  snapshot: {path} (+ {path.with_suffix('.json').name})")
    if args.record:
        print(f"  recorded: {args.record}")
    if args.events:
        from arlens.events import format_summary, summarize

        print(format_summary(summarize(args.events)))
    return EXIT_OK


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
        raise CliError(_first_line(exc), EXIT_INPUT) from None
    kinds: dict[str, int] = {}
    for p in catalog:
        key = p.kind.value if p.kind else "(no kind)"
        kinds[key] = kinds.get(key, 0) + 1
    detail = ", ".join(f"{n} {k}" for k, n in kinds.items())
    fmt = catalog.format.value if catalog.format is not None else "?"
    print(f"ok: {args.feed} ({fmt}): {len(catalog)} products ({detail})")
    return EXIT_OK


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
        "link": p.link,
        "buy_link": p.buy_link(),
    }


def cmd_catalog_list(args: argparse.Namespace) -> int:
    """List products, optionally of one kind."""
    from arlens.catalog import ProductKind

    catalog = _load_catalog(args.feed)
    if args.kind is not None:
        try:
            catalog = catalog.filter(kind=args.kind)
        except ValueError:
            kinds = ", ".join(k.value for k in ProductKind)
            raise CliError(f"--kind: expected one of {kinds}, got {args.kind!r}", EXIT_USAGE) from None
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

    catalog = _load_catalog(args.feed)
    if args.product is not None:
        if args.product not in catalog:
            raise CliError(f"unknown product {args.product!r}: not in catalog {args.feed or '(default)'}",
                           EXIT_UNKNOWN_PRODUCT)
        doc: Any = to_jsonld(catalog[args.product])
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
        raise CliError(_first_line(exc), EXIT_INPUT) from None
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


def cmd_demo(args: argparse.Namespace) -> int:
    """Render every demo product on the sample portraits; write images, a contact sheet and a web page."""
    from arlens.demo import run_demo

    report = run_demo(args.output)
    out = report.out_dir.resolve()
    print(f"arlens demo: {len(report.rendered)} products on {len(report.portraits)} portraits "
          f"in {report.seconds:.1f} s")
    print(f"  web page:      {report.index_html.resolve()}")
    print(f"  contact sheet: {report.contact_sheet.resolve()}")
    print(f"  images:        {out / 'tryon'} ({len(report.images)} try-ons)")
    for what, why in report.skipped:
        print(f"  skipped {what}: {why}")
    print(f"open {report.index_html.resolve().as_uri()} in a browser")
    return EXIT_OK


# --------------------------------------------------------------------------------------------------
# parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``arlens`` command."""
    from arlens import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="arlens",
        description="AR virtual try-on with shoppable lenses: try products on photos and videos, run a "
        "webcam mirror kiosk, check catalog feeds and lens bundles.",
        epilog=EPILOG,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"arlens {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def add(name: str, help_: str, func: Any, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_, description=help_, epilog=EPILOG, formatter_class=fmt)
        p.set_defaults(func=func)
        return p

    p = add("try", "Try products on one image and print each product, price and buy link.", cmd_try)
    p.add_argument("image", metavar="IMAGE", help="a photo with a face (PNG, JPEG, ...)")
    p.add_argument("--product", "-p", action="append", required=True, metavar="ID",
                   help="product ID to wear; repeat for several kinds (a lipstick and glasses)")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (Meta CSV/TSV, Google TSV, arlens JSON); "
                   "default: the bundled demo catalog")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the result (.png, .jpg)")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")

    p = add("video", "Try products on every frame of a video file (frame rate and size kept; no audio).", cmd_video)
    p.add_argument("input", metavar="IN", help="a video file")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output video (.mp4, .mov, .m4v, .avi; mp4v)")
    p.add_argument("--product", "-p", action="append", required=True, metavar="ID", help="product ID; repeatable")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (default: the bundled demo catalog)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = add("mirror", "Run the webcam mirror kiosk (full-screen window, or --headless).", cmd_mirror)
    p.description = (
        "Run the webcam mirror kiosk: a mirrored full-screen window with the product's name and price.\n"
        "keys: Left/Right or A/D = previous/next shade, K = next product kind, B = buy-link QR code,\n"
        "      S = snapshot (PNG + JSON sidecar), Q/Esc = quit\n"
        "gestures (when hand tracking is installed): swipe = shade, pinch = QR code, thumbs up = snapshot.\n"
        "An idle screen shows when nobody is in view; a lost camera is reopened with backoff."
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, metavar="N", help="camera index (default 0)")
    src.add_argument("--source", metavar="FILE", help="a video file instead of a camera (looped)")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (default: the bundled demo catalog)")
    p.add_argument("--product", "-p", action="append", metavar="ID",
                   help="product(s) worn at start (default: the catalog's first lipstick or frame)")
    p.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    p.add_argument("--frames", type=_positive_int, metavar="N", help="stop after N frames")
    p.add_argument("--record", metavar="OUT", help="record what the screen shows to a video (.mp4)")
    p.add_argument("--keys", type=_key_script, metavar="SCRIPT",
                   help="scripted key presses FRAME:KEY,... e.g. '10:d,20:b,30:s,40:q' "
                   "(keys a d k b s q left right esc)")
    p.add_argument("--snapshots", default="arlens-snapshots", metavar="DIR",
                   help="folder for snapshots (default ./arlens-snapshots)")
    p.add_argument("--events", metavar="FILE", help="append try-on events to this JSON Lines file; "
                   "a summary is printed at the end")
    p.add_argument("--windowed", action="store_true", help="a normal window instead of full screen")
    p.add_argument("--idle-seconds", type=float, default=4.0, metavar="S",
                   help="seconds without a face before the idle screen (default 4)")
    p.add_argument("--qr-seconds", type=float, default=8.0, metavar="S",
                   help="seconds the QR code stays up (default 8)")
    p.add_argument("--no-gestures", action="store_true", help="keys only, even when hand tracking is installed")

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

    lens = add("lens", "Check lens bundles.", None)
    lens_sub = lens.add_subparsers(dest="lens_command", metavar="ACTION", title="actions")
    p = add("validate", "Check a lens bundle (zip or folder): schema, products, assets, safety.", cmd_lens_validate,
            lens_sub)
    p.add_argument("bundle", metavar="BUNDLE", help="a .zip file or a folder with lens.json")

    models = add("models", "Check the bundled ONNX models.", None)
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION", title="actions")
    add("verify", "Check every model file against its sha256 in the manifest.", cmd_models_verify, models_sub)

    p = add("demo", "Try every demo product on the sample portraits; write images, a contact sheet and a web page.",
            cmd_demo)
    p.add_argument("-o", "--output", default="arlens-demo", metavar="DIR", help="output folder (default ./arlens-demo)")
    return parser


def _exit_code(exc: BaseException) -> int:
    from arlens.errors import (
        ArlensError,
        AssetError,
        BundleError,
        CatalogError,
        InputError,
        ModelError,
        RuntimeUnavailableError,
    )
    from arlens.session import ProductError

    if isinstance(exc, ProductError):
        return EXIT_UNKNOWN_PRODUCT
    if isinstance(exc, CatalogError | BundleError):
        return EXIT_INPUT
    if isinstance(exc, ModelError | RuntimeUnavailableError | AssetError):
        return EXIT_RUNTIME
    if isinstance(exc, InputError):
        return EXIT_INPUT
    if isinstance(exc, ArlensError):
        return EXIT_RUNTIME
    return EXIT_RUNTIME


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``arlens`` command; returns (and, as a script, exits with) the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(verbose))
    root = logging.getLogger("arlens")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:  # `arlens`, `arlens catalog`, ...: say what can follow
            target, prog = parser, "arlens"
            words = [a for a in argv if not a.startswith("-")]
            if words and parser._subparsers is not None:
                for action in parser._subparsers._group_actions:
                    choices = getattr(action, "choices", None) or {}
                    if words[0] in choices:
                        target, prog = choices[words[0]], f"arlens {words[0]}"
            names = [c for a in target._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices]
            what = "a command" if target is parser else "an action"
            print(f"arlens: error: expected {what} ({', '.join(names)}); see '{prog} --help'", file=sys.stderr)
            return EXIT_USAGE
        return int(func(args) or 0)
    except CliError as exc:
        print(f"arlens: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("arlens: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    except BaseException as exc:  # noqa: BLE001 - the one place that turns errors into exit codes
        code = _exit_code(exc)
        from arlens.errors import ArlensError

        what = _first_line(exc)
        if not isinstance(exc, ArlensError | OSError):
            what = f"unexpected {type(exc).__name__}: {what}" + ("" if verbose else " (run with -v for the traceback)")
        print(f"arlens: error: {what}", file=sys.stderr)
        if verbose:
            traceback.print_exc()
        return code


def _entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    _entry()
