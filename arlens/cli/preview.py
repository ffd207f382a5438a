"""``arlens preview``: a catalog's products on many photos, on this machine or a Ray cluster, resumable."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arlens.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_UNKNOWN_PRODUCT,
    EXIT_USAGE,
    AddCommand,
    CliError,
    positive_int,
)

EXIT_INTERRUPTED = 130
MAX_DETAILS = 10


class TqdmProgress:
    """The job's progress as a tqdm bar on stderr: count, throughput and ETA (hidden when stderr is no terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def start(self, phase: str, total: int) -> None:
        from tqdm import tqdm

        self.close()
        unit = "render" if phase == "renders" else "sheet"
        self._bar = tqdm(total=total, desc=phase, unit=unit, file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
                         disable=None if self.enabled else True)

    def advance(self, n: int) -> None:
        if self._bar is not None and n:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _details(report: Any) -> list[str]:
    lines = []
    for title, problems in (("failed", report.failed), ("unreadable photo", report.bad_photos),
                            ("skipped product", report.skipped_products)):
        for p in problems[:MAX_DETAILS]:
            lines.append(f"  {title}: {p}")
        if len(problems) > MAX_DETAILS:
            lines.append(f"  ... and {len(problems) - MAX_DETAILS} more {title}s (see index.json)")
    for pid in report.unknown_products[:MAX_DETAILS]:
        lines.append(f"  unknown product: {pid} (not in the catalog)")
    by_reason: dict[str, set[str]] = {}
    for p in report.not_drawn:
        by_reason.setdefault(p.reason, set()).add(p.photo)
    for reason, photos in by_reason.items():
        names = sorted(photos)
        lines.append(f"  not drawn ({reason}): {len(names)} photo(s): {', '.join(names[:8])}"
                     + (" ..." if len(names) > 8 else ""))
    return lines


def cmd_preview(args: argparse.Namespace) -> int:
    """Render products on photos into OUT: renders, sheets, index.json and a gallery."""
    import logging

    from arlens.errors import CatalogError
    from arlens.preview import PreviewInterrupted, PreviewOptions, preview_catalog

    if args.ray_address and args.engine != "ray":
        raise CliError("--ray-address joins a Ray cluster: use it with --engine ray", EXIT_USAGE)
    options = PreviewOptions(
        engine=args.engine, workers=args.workers, ray_address=args.ray_address, cpus_per_worker=args.cpus_per_worker,
        batch_size=args.batch_size, max_faces=args.max_faces, title=args.title, force=args.force,
    )
    progress = TqdmProgress(enabled=not args.no_progress)
    try:
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm(loggers=[logging.getLogger("arlens")]):
            report = preview_catalog(args.photos, args.output, catalog=args.catalog, products=args.products,
                                     kinds=args.kind, options=options, progress=progress)
    except CatalogError as exc:  # every located problem of the feed, before any work was done
        print(f"arlens: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except PreviewInterrupted as stop:
        progress.close()
        print(f"arlens preview: {stop.report.summary()}")
        print(f"  everything finished is recorded in {stop.report.index}; run the same command again to continue")
        return EXIT_INTERRUPTED
    finally:
        progress.close()
    print(f"arlens preview: {report.summary()}")
    for line in _details(report):
        print(line)
    if report.gallery is not None:
        print(f"  gallery: {report.gallery.resolve().as_uri()}")
    print(f"  index:   {report.index.resolve()}")
    if report.failed:
        return EXIT_RUNTIME
    if report.bad_photos:
        return EXIT_INPUT
    if report.unknown_products:
        return EXIT_UNKNOWN_PRODUCT
    return EXIT_OK


def _engine(text: str) -> str:
    if text not in ("local", "ray"):
        raise argparse.ArgumentTypeError(f"expected 'local' or 'ray', got {text!r}")
    return text


def register(add: AddCommand) -> None:
    """Add ``arlens preview`` to the ``arlens`` parser."""
    p = add("preview", "Render catalog products on many photos (resumable; a process pool or a Ray cluster): "
                       "renders, contact sheets, index.json and an HTML gallery.", cmd_preview)
    p.add_argument("--catalog", metavar="FEED", help="product feed (Meta CSV, Google TSV, arlens JSON); default: "
                                                     "the bundled demo catalog")
    p.add_argument("--photos", required=True, nargs="+", metavar="DIR_OR_GLOB",
                   help="a folder of images, a quoted glob ('shoot/**/*.jpg') or image files")
    p.add_argument("--products", nargs="+", action="extend", metavar="ID", help="only these product IDs")
    p.add_argument("--kind", nargs="+", action="extend", metavar="KIND", help="only products of these kinds")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder (created; a re-run resumes)")
    p.add_argument("--engine", type=_engine, default="local", metavar="local|ray",
                   help="a process pool on this machine (default) or Ray actors (pip install 'arlens[ray]')")
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="worker processes or Ray actors (default: one per CPU)")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="join this Ray cluster ('auto', 'ray://head:10001'); default: start a local Ray")
    p.add_argument("--cpus-per-worker", type=positive_int, default=1, metavar="N",
                   help="CPUs per Ray actor; its ONNX Runtime threads follow (default 1)")
    p.add_argument("--batch-size", type=positive_int, default=16, metavar="N", help="renders per task (default 16)")
    p.add_argument("--max-faces", type=positive_int, default=1, metavar="N", help="faces per photo (default 1)")
    p.add_argument("--title", metavar="TEXT", help="the gallery's heading")
    p.add_argument("--force", action="store_true", help="render everything again, even what is up to date")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

