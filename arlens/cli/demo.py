"""``arlens demo``: every demo product on the sample portraits, as images, a contact sheet and a web page."""

from __future__ import annotations

import argparse
from pathlib import Path

from arlens.cli.common import EXIT_INPUT, EXIT_OK, EXIT_USAGE, AddCommand, CliError, first_line, load_catalog


def cmd_demo(args: argparse.Namespace) -> int:
    """Render every product on the portraits (and hand photos); write images, a contact sheet and a web page."""
    from arlens.demo import read_photos, run_demo
    from arlens.errors import InputError

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {args.output}: is a file, but the demo writes a folder (images, a contact sheet and "
                       f"index.html); give a new or existing folder name, e.g. -o arlens-demo", EXIT_USAGE)
    try:  # the photos first: a typo in a path fails before the models load
        read_photos([*args.portrait, *args.hand])
    except InputError as exc:
        raise CliError(first_line(exc), EXIT_INPUT) from None
    catalog = load_catalog(args.catalog)
    try:
        report = run_demo(args.output, portraits=args.portrait, hands=args.hand, catalog=catalog)
    except InputError as exc:
        raise CliError(first_line(exc), EXIT_INPUT) from None
    out = report.out_dir.resolve()
    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    photos = count(len(report.portraits), "portrait") + (f" and {count(len(report.hands), 'hand photo')}"
                                                         if report.hands else "")
    print(f"arlens demo: {len(report.rendered)} products on {photos} in {report.seconds:.1f} s")
    print(f"  web page:      {report.index_html.resolve()}")
    print(f"  contact sheet: {report.contact_sheet.resolve()}")
    if report.sheets:
        print(f"  per kind/look: {out / 'sheets'} ({', '.join(sorted(report.sheets))})")
    if report.looks:
        print(f"  looks:         {', '.join(report.looks)}")
    print(f"  images:        {out / 'tryon'} ({len(report.images)} try-ons)")
    for what, why in report.skipped:
        print(f"  skipped {what}: {why}")
    print(f"open {report.index_html.resolve().as_uri()} in a browser")
    return EXIT_OK


def register(add: AddCommand) -> None:
    """Add this module's commands to the ``arlens`` parser."""
    p = add("demo", "Try every demo product on the sample portraits; write images, a contact sheet and a web page.",
            cmd_demo)
    p.description = (
        "Try every product of a catalog on portraits (and nail polish on hand photos); write the try-ons, a\n"
        "contact sheet and a web page (index.html: before and after, price, buy link and QR code per product).\n"
        "Default: the bundled demo catalog on the two bundled public-domain portraits. A product kind this\n"
        "machine cannot draw (eyewear without EGL) is reported once and the rest is still written."
    )
    p.add_argument("-o", "--output", default="arlens-demo", metavar="DIR",
                   help="output folder, created if needed (default ./arlens-demo)")
    p.add_argument("--portrait", action="append", default=[], metavar="PHOTO",
                   help="a photo with a face, instead of the bundled portraits (repeatable)")
    p.add_argument("--hand", action="append", default=[], metavar="PHOTO",
                   help="a photo of a hand with the nails showing, for the nail polish (repeatable)")
    p.add_argument("--catalog", "-c", metavar="FEED",
                   help="catalog feed (Meta CSV/TSV, Google TSV, arlens JSON); default: the bundled demo catalog")
