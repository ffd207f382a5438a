"""``arlens try`` and ``arlens video``: products on photos and on every frame of a video."""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arlens.cli.common import (
    EXIT_INPUT,
    EXIT_NOTHING_DRAWN,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    IMAGE_SUFFIXES,
    AddCommand,
    CliError,
    add_device_option,
    check_output,
    first_line,
    load_catalog,
    open_session,
    positive_int,
    product_line,
    read_image,
    resolve_products,
    warn,
    write_image,
)

_GLOB_CHARS = frozenset("*?[")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def expand_inputs(arguments: Sequence[str]) -> tuple[list[Path], bool]:
    """The image files named by ``arguments`` (files, folders, quoted globs), and whether they are "several".

    A folder gives its image files (by suffix, sorted, not recursive); an argument that does not exist
    but holds ``*``, ``?`` or ``[`` is a glob (for shells that pass it through quoted). With more than one
    argument, or any folder or glob, the output is a folder.

    Raises:
        CliError: (exit 3) a missing file, an empty folder, a glob that matches nothing.
    """
    paths: list[Path] = []
    several = len(arguments) > 1
    for arg in arguments:
        p = Path(arg)
        if p.is_dir():
            several = True
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise CliError(f"no images in folder {arg} (expected files ending in {', '.join(IMAGE_SUFFIXES)})",
                               EXIT_INPUT)
            paths += found
        elif p.exists():
            paths.append(p)
        elif _GLOB_CHARS & set(arg):
            several = True
            found = sorted(Path(m) for m in glob.glob(arg) if Path(m).is_file())
            if not found:
                raise CliError(f"no files match {arg}", EXIT_INPUT)
            paths += found
        else:
            raise CliError(f"cannot read image {arg}: no such file", EXIT_INPUT)
    return list(dict.fromkeys(paths)), several


def _output_paths(inputs: list[Path], output: str, several: bool) -> list[Path]:
    """Where each input's result goes: ``-o`` itself, or one file per input in the ``-o`` folder."""
    if not several:
        return [check_output(output, IMAGE_SUFFIXES, "an image")]
    folder = Path(output)
    if folder.suffix.lower() in IMAGE_SUFFIXES or folder.is_file():
        raise CliError(f"-o {output}: {len(inputs)} inputs need an output folder (one image per input), "
                       f"got a file name", EXIT_USAGE)
    outs: list[Path] = []
    taken: set[str] = set()
    for src in inputs:
        suffix = src.suffix.lower() if src.suffix.lower() in IMAGE_SUFFIXES else ".png"
        name, n = f"{src.stem}{suffix}", 1
        while name.lower() in taken:  # photos/a.png and more/a.png: a.png, a-2.png
            n += 1
            name = f"{src.stem}-{n}{suffix}"
        taken.add(name.lower())
        out = folder / name
        if out.resolve() == src.resolve():
            raise CliError(f"-o {output}: would overwrite the input {src}; choose another output folder", EXIT_USAGE)
        outs.append(out)
    return outs


def _targets(session: Any) -> dict[str, str]:
    """Product ID -> what its lens draws on ("face" or "hand")."""
    return {p.id: session.registry[p.kind].target for p in session.products}


def _report(src: Path, out: Path, result: Any, products: Sequence[Any], targets: dict[str, str]) -> dict[str, Any]:
    """What one input gave: counts of faces and hands, what each product drew on, what found nothing."""
    drawn: dict[str, list[list[float]]] = {p.id: [] for p in products}
    for spot in result.hotspots:
        drawn[spot.product_id].append([round(float(v), 1) for v in spot.bbox])
    report: dict[str, Any] = {"input": str(src), "output": str(out), "faces": len(result.faces)}
    if "hand" in targets.values():
        report["hands"] = len(result.hands)
    report["products"] = [
        {"id": p.id, "title": p.title, "kind": p.kind.value if p.kind else None, "target": targets[p.id],
         "price": str(p.current_price), "link": p.buy_link(), "drawn_on": len(drawn[p.id]), "bbox": drawn[p.id]}
        for p in products
    ]
    report["nothing_to_draw_on"] = [p.id for p in products if not drawn[p.id]]
    return report


def _summary_line(report: dict[str, Any]) -> str:
    counts = [_plural(report["faces"], "face")] if any(p["target"] == "face" for p in report["products"]) else []
    if "hands" in report:
        counts.append(_plural(report["hands"], "hand"))
    parts = []
    for p in report["products"]:
        if p["drawn_on"]:
            parts.append(f"{p['id']} on {_plural(p['drawn_on'], p['target'])}")
        else:
            parts.append(f"{p['id']}: no {p['target']} to draw on")
    return f"wrote {report['output']} ({', '.join(counts)}): {'; '.join(parts)}"


def _warn_nothing_drawn(report: dict[str, Any]) -> None:
    for p in report["products"]:
        if not p["drawn_on"]:
            kind = (p["kind"] or "product").replace("_", " ")
            others = [q for q in report["products"] if q["drawn_on"]]
            written = "written without it" if others else "the image was written unchanged"
            warn(f"no {p['target']} found in {report['input']}: {p['id']} ({kind}) is worn on a {p['target']}; "
                 f"{written}")


def _products_or_look(catalog: Any, args: argparse.Namespace) -> list[str]:
    """The ``--product`` IDs, resolved; a usage error when there is neither a product nor a ``--look``."""
    if not args.product and not args.look:
        raise CliError(f"expected --product ID or --look ID (see 'arlens {args.command} --help')", EXIT_USAGE)
    return resolve_products(catalog, args.product or [], args.catalog)


def _wear_look(session: Any, look_id: str | None) -> dict[str, Any] | None:
    """Put on ``--look`` over the ``--product`` items (its products replace theirs of the same kind); the set's
    report: ID, title, total price, its own link (None: bought item by item) and its products."""
    if not look_id:
        return None
    look = session.catalog.look(look_id) if look_id in {lk.id for lk in session.catalog.looks} else look_id
    session.wear_look(look, keep_others=True)  # an unknown look: UnknownProductError, exit 4
    look = session.look
    return {"id": look.id, "title": look.title, "total": str(look.total_price(session.catalog)),
            "link": look.buy_link(), "products": list(look.product_ids)}


def _look_line(look: dict[str, Any]) -> str:
    return f"{look['id']}  {look['title']} (the set)  {look['total']}\n  buy: {look['link'] or 'item by item, above'}"


def cmd_try(args: argparse.Namespace) -> int:
    """Render the products on each image; one output per input."""
    from arlens.session import TryOnOptions

    inputs, several = expand_inputs(args.image)
    outputs = _output_paths(inputs, args.output, several)
    first = None if several else read_image(str(inputs[0]))  # one input: a bad image fails before models load
    catalog = load_catalog(args.catalog)
    product_ids = _products_or_look(catalog, args)
    reports: list[dict[str, Any]] = []
    failed = 0
    options = TryOnOptions(max_faces=args.max_faces, device=args.device)
    with open_session(catalog, product_ids, options=options) as session:
        look = _wear_look(session, args.look)
        products = session.products
        targets = _targets(session)
        if not args.json:
            for p in products:
                print(product_line(p, p.buy_link()))
            if look is not None:
                print(_look_line(look))
        for src, out in zip(inputs, outputs, strict=True):
            try:
                image = first if first is not None else read_image(str(src))
            except CliError as exc:  # one of several: say so, go on with the others, exit 3 at the end
                print(f"arlens: error: {exc}", file=sys.stderr)
                failed += 1
                continue
            result = session.process_image(image)
            write_image(out, result.frame)
            report = _report(src, out, result, products, targets)
            if look is not None:
                report["look"] = look
            reports.append(report)
            if not args.json:
                print(_summary_line(report))
            _warn_nothing_drawn(report)
    if args.json:
        print(json.dumps(reports if several else reports[0], indent=2))
    if failed:
        warn(f"{_plural(failed, 'input')} of {len(inputs)} could not be read (listed above)")
        return EXIT_INPUT
    return EXIT_NOTHING_DRAWN if any(r["nothing_to_draw_on"] for r in reports) else EXIT_OK


def cmd_video(args: argparse.Namespace) -> int:
    """Render the products on every frame of a video, keeping its frame rate and size (cropped to even)."""
    import cv2
    from tqdm import tqdm

    from arlens.session import TryOnOptions
    from arlens.video import SUFFIXES, VideoWriter

    out = check_output(args.output, SUFFIXES, "a video")
    src = Path(args.input)
    if not src.is_file():
        raise CliError(f"cannot read video {args.input}: no such file", EXIT_INPUT)
    catalog = load_catalog(args.catalog)
    product_ids = _products_or_look(catalog, args)
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
    frames = 0
    with_target = {"face": 0, "hand": 0}
    drawn: dict[str, int] = {}
    look = None
    start = time.perf_counter()
    try:
        writer = VideoWriter(out, fps, w, h)
    except OSError as exc:
        cap.release()
        raise CliError(f"cannot write video {out}: {exc.strerror or first_line(exc)}", EXIT_RUNTIME) from None
    except BaseException:
        cap.release()
        raise
    try:
        options = TryOnOptions(max_faces=args.max_faces, device=args.device)
        with writer, open_session(catalog, product_ids, options=options) as session, \
                tqdm(total=total if total > 0 else None, unit="frame", desc=src.name, disable=args.quiet,
                     file=sys.stderr, dynamic_ncols=True) as bar:
            look = _wear_look(session, args.look)
            products = session.products
            targets = _targets(session)
            drawn = {p.id: 0 for p in products}
            while frame is not None:
                if frame.shape[:2] != (h, w):  # a stream that changes size mid-way: keep the first size
                    frame = cv2.resize(frame, (w, h))
                result = session.process(frame, frames * 1000.0 / fps)
                writer.write(result.frame)
                frames += 1
                with_target["face"] += bool(result.faces)
                with_target["hand"] += bool(result.hands)
                for pid in result.products:
                    drawn[pid] += 1
                bar.update(1)
                ok, frame = cap.read()
                if not ok:
                    frame = None
    finally:
        cap.release()
    seconds = time.perf_counter() - start
    for p in products:
        print(product_line(p, p.buy_link()))
    if look is not None:
        print(_look_line(look))
    ww, wh = writer.size
    size = f"{ww}x{wh}"
    if (ww, wh) != (w, h):
        size += f" (cropped from {w}x{h}: {writer.codec_name} needs even sides)"
    seen = [f"{t}s in {with_target[t]} frames" for t in ("face", "hand") if t in targets.values()]
    print(f"wrote {out}: {frames} frames, {size}, {writer.codec_name} at {fps:g} fps; {'; '.join(seen)}; "
          f"{frames / seconds if seconds > 0 else 0:.1f} frames/s")
    missing = [p for p in products if not drawn[p.id]]
    for p in missing:
        kind = p.kind.value.replace("_", " ") if p.kind else "product"
        warn(f"no {targets[p.id]} found in any frame of {args.input}: {p.id} ({kind}) was never drawn")
    return EXIT_NOTHING_DRAWN if missing else EXIT_OK


def register(add: AddCommand) -> None:
    """Add this module's commands to the ``arlens`` parser."""
    from arlens.video import SUFFIXES

    p = add("try", "Try products on images and print each product, price and buy link.", cmd_try)
    p.description = (
        "Try products on images and print each product, price and buy link.\n"
        "Products of different kinds stack (-p LIP-004 -p EYE-101: lipstick and glasses); IDs match without\n"
        "regard to case. One image gives one output file (-o OUT.png); several images, a folder or a quoted\n"
        "glob give one output per input in the folder -o OUT (named like the inputs). A product with no face\n"
        "(or hand) to draw on in an input is reported, that input is written without it, and the exit code\n"
        "is 5."
    )
    p.add_argument("image", metavar="IMAGE", nargs="+",
                   help="photos (PNG, JPEG, ...), folders of photos, or quoted globs ('shots/*.jpg')")
    p.add_argument("--product", "-p", action="append", metavar="ID",
                   help="product ID to wear; repeat for several kinds (a lipstick and glasses)")
    p.add_argument("--look", "-l", metavar="ID", help="a look of the catalog: every product of it at once "
                   "(over any --product of the same kind)")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (Meta CSV/TSV, Google TSV, arlens JSON); "
                   "default: the bundled demo catalog")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the result image (.png, .jpg) for one input; a folder for several")
    p.add_argument("--max-faces", type=positive_int, default=1, metavar="N",
                   help="most faces to find and draw on in each image (default 1)")
    add_device_option(p)
    p.add_argument("--json", action="store_true",
                   help="print a JSON report (an object; a list of them for several inputs) instead of text")

    p = add("video", "Try products on every frame of a video file (frame rate kept; no audio).", cmd_video)
    p.add_argument("input", metavar="IN", help="a video file")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help=f"output video: {', '.join(s for s in SUFFIXES if s != '.webm')} (H.264) or .webm (VP9), "
                   "both play in browsers; odd sizes are cropped by a pixel")
    p.add_argument("--product", "-p", action="append", metavar="ID", help="product ID; repeatable")
    p.add_argument("--look", "-l", metavar="ID", help="a look of the catalog: every product of it at once")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (default: the bundled demo catalog)")
    p.add_argument("--max-faces", type=positive_int, default=1, metavar="N",
                   help="most faces to track and draw on (default 1)")
    add_device_option(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
