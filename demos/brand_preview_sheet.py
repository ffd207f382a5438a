"""A brand's preview sheet: every product of a catalog feed tried on portraits, as a contact sheet and a web page.

Usage::

    python demos/brand_preview_sheet.py FEED [--portrait IMAGE ...] [--kind lipstick ...] [-o DIR]

FEED is a Meta (CSV/TSV), Google Merchant Center (TSV) or arlens JSON feed with the try-on columns
(``docs/catalog.md``); without ``--portrait`` the bundled sample portraits are used. The sheet
(``DIR/contact_sheet.png``) shows each product as a face close-up with its name and price; ``DIR/index.html``
puts every try-on beside its product card, buy link and QR code. Products that cannot be drawn (nail
polish on a portrait, kinds without a lens) are listed as skipped. Exit status 1 with one line on errors.

This is :func:`arlens.demo.render_catalog`, the function behind ``arlens demo``, pointed at your feed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

import arlens
from arlens.catalog import UtmTags
from arlens.demo import render_catalog, sample_portraits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feed", help="catalog feed file")
    parser.add_argument("--portrait", action="append", help="a portrait photo (repeatable)")
    parser.add_argument("--kind", action="append", help="only these product kinds (repeatable)")
    parser.add_argument("--campaign", help="utm_campaign of the buy links")
    parser.add_argument("-o", "--output", default="preview-sheet", help="output folder")
    args = parser.parse_args()
    try:
        catalog = arlens.Catalog.load(args.feed)
        portraits = sample_portraits()
        if args.portrait:
            portraits = []
            for path in args.portrait:
                image = cv2.imread(path)
                if image is None:
                    raise arlens.InputError(f"cannot read portrait {path}")
                portraits.append((Path(path).stem, image))
        report = render_catalog(catalog, portraits, args.output, kinds=args.kind,
                                utm=UtmTags(campaign=args.campaign, medium="preview"))
    except arlens.ArlensError as exc:
        print(f"brand_preview_sheet: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"{len(report.rendered)} products on {len(report.portraits)} portraits in {report.seconds:.1f} s")
    print(f"sheet: {report.contact_sheet}\npage:  {report.index_html}")
    for what, why in report.skipped:
        print(f"skipped {what}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
