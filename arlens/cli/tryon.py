"""``arlens try`` and ``arlens video``: products on photos and on every frame of a video."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from arlens.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    AddCommand,
    CliError,
    check_output,
    load_catalog,
    open_session,
    product_line,
    read_image,
    write_image,
)


def _session(catalog: Any, args: argparse.Namespace, **kwargs: Any) -> Any:
    """The session wearing ``--product`` items and, over them, ``--look``'s products."""
    if not args.product and not args.look:
        raise CliError(f"expected --product ID or --look ID (see 'arlens {args.command} --help')", EXIT_USAGE)
    session = open_session(catalog, args.product or [], **kwargs)
    if args.look:
        try:
            session.wear_look(args.look, keep_others=True)
        except BaseException:
            session.close()
            raise
    return session


def _look_report(session: Any) -> dict[str, Any] | None:
    look = session.look
    if look is None:
        return None
    return {"id": look.id, "title": look.title, "total": str(look.total_price(session.catalog)),
            "link": look.buy_link(), "products": list(look.product_ids)}


def _look_line(look: dict[str, Any] | None) -> str | None:
    if look is None:
        return None
    return f"{look['id']}  {look['title']} (the set)  {look['total']}\n  buy: {look['link'] or 'item by item, above'}"


def cmd_try(args: argparse.Namespace) -> int:
    """Render the products on one image."""
    out = check_output(args.output, IMAGE_SUFFIXES, "an image")
    image = read_image(args.image)
    catalog = load_catalog(args.catalog)
    with _session(catalog, args) as session:
        result = session.process_image(image)
        products = session.products
        look = _look_report(session)
    write_image(out, result.frame)
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
        if look is not None:
            report["look"] = look
        print(json.dumps(report, indent=2))
    else:
        for p in products:
            print(product_line(p, p.buy_link()))
        if look is not None:
            print(_look_line(look))
        print(f"wrote {out} ({len(result.faces)} face{'s' if len(result.faces) != 1 else ''})")
    if not result.faces:
        print(f"arlens: warning: no face found in {args.image}; the image was written unchanged", file=sys.stderr)
    return EXIT_OK


def cmd_video(args: argparse.Namespace) -> int:
    """Render the products on every frame of a video, keeping its frame rate and size."""
    import cv2
    from tqdm import tqdm

    out = check_output(args.output, VIDEO_SUFFIXES, "a video")
    src = Path(args.input)
    if not src.is_file():
        raise CliError(f"cannot read video {args.input}: no such file", EXIT_INPUT)
    catalog = load_catalog(args.catalog)
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
        with _session(catalog, args) as session, tqdm(
            total=total if total > 0 else None, unit="frame", desc=src.name, disable=args.quiet, file=sys.stderr,
            dynamic_ncols=True,
        ) as bar:
            products = session.products
            look = _look_report(session)
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
        print(product_line(p, p.buy_link()))
    if look is not None:
        print(_look_line(look))
    print(f"wrote {out}: {frames} frames, {w}x{h} at {fps:g} fps; faces in {with_faces} frames; "
          f"{frames / seconds if seconds > 0 else 0:.1f} frames/s")
    return EXIT_OK


def register(add: AddCommand) -> None:
    """Add this module's commands to the ``arlens`` parser."""
    p = add("try", "Try products on one image and print each product, price and buy link.", cmd_try)
    p.add_argument("image", metavar="IMAGE", help="a photo with a face (PNG, JPEG, ...)")
    p.add_argument("--product", "-p", action="append", metavar="ID",
                   help="product ID to wear; repeat for several kinds (a lipstick and glasses)")
    p.add_argument("--look", "-l", metavar="ID", help="a look of the catalog: every product of it at once "
                   "(over any --product of the same kind)")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (Meta CSV/TSV, Google TSV, arlens JSON); "
                   "default: the bundled demo catalog")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the result (.png, .jpg)")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")

    p = add("video", "Try products on every frame of a video file (frame rate and size kept; no audio).", cmd_video)
    p.add_argument("input", metavar="IN", help="a video file")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output video (.mp4, .mov, .m4v, .avi; mp4v)")
    p.add_argument("--product", "-p", action="append", metavar="ID", help="product ID; repeatable")
    p.add_argument("--look", "-l", metavar="ID", help="a look of the catalog: every product of it at once")
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (default: the bundled demo catalog)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
