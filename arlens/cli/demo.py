"""``arlens demo``: every demo product on the sample portraits, as images, a contact sheet and a web page."""

from __future__ import annotations

import argparse

from arlens.cli.common import EXIT_OK, AddCommand


def cmd_demo(args: argparse.Namespace) -> int:
    """Render every demo product on the sample portraits; write images, a contact sheet and a web page."""
    from arlens.demo import run_demo

    report = run_demo(args.output)
    out = report.out_dir.resolve()
    print(f"arlens demo: {len(report.rendered)} products on {len(report.portraits)} portraits "
          f"in {report.seconds:.1f} s")
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
    p.add_argument("-o", "--output", default="arlens-demo", metavar="DIR", help="output folder (default ./arlens-demo)")
