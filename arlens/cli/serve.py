"""``arlens serve``: the web try-on service (mirror page, share pages, ``/v1`` HTTP API) under uvicorn."""

from __future__ import annotations

import argparse
from pathlib import Path

from arlens.cli.common import (
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    AddCommand,
    CliError,
    load_catalog,
    positive_int,
    positive_number,
)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web service until interrupted."""
    try:
        import uvicorn

        from arlens.web import app as web_app
    except ImportError as exc:
        raise CliError(f"arlens serve needs the web extra ({exc.name} is missing): pip install 'arlens[web]'",
                       EXIT_RUNTIME) from None
    from arlens.errors import InputError
    from arlens.web.options import MB, WebOptions

    catalog = load_catalog(args.catalog)
    products = tuple(p.strip() for value in (args.products or []) for p in value.split(",") if p.strip())
    try:
        options = WebOptions(
            products=products, max_streams=args.max_streams,
            max_upload_bytes=int(args.max_upload_mb * MB), max_pixels=int(args.max_megapixels * 1_000_000),
            share_dir=Path(args.share_dir), share_ttl_s=args.share_ttl_hours * 3600.0,
            cors_origins=tuple(args.cors_origin or ()), public_url=args.public_url,
            events=Path(args.events) if args.events else None,
            hands={"auto": None, "on": True, "off": False}[args.hands],
            **({"workers": args.workers} if args.workers else {}),
        )
    except InputError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    app = web_app.create_app(options, catalog=catalog)  # ProductError: exit 4 (unknown product)
    where = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(f"serve: {where}/ (mirror page), {where}/docs (API); {len(catalog)} products, "
          f"{options.workers} render workers; Ctrl+C stops", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if args.verbose else "warning",
                ws_max_size=options.max_frame_bytes, timeout_graceful_shutdown=5)
    return EXIT_OK


def _port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port 1-65535, got {value}")
    return value


def register(add: AddCommand) -> None:
    """Add this module's commands to the ``arlens`` parser."""
    p = add("serve", "Run the web try-on service: mirror page, share pages and the /v1 HTTP API.", cmd_serve)
    p.description = (
        "Run the web try-on service (needs: pip install 'arlens[web]').\n"
        "  GET /             the mirror page (browser camera; ?product=ID starts with that product on)\n"
        "  GET /s/ID         a shared snapshot's page (OpenGraph + schema.org Product JSON-LD)\n"
        "  POST /v1/try-on   products drawn on an uploaded photo;  GET /v1/products: the catalog\n"
        "  GET /docs         the API's OpenAPI documentation\n"
        "It listens on 127.0.0.1 unless --host says otherwise; CORS is off unless --cors-origin is given."
    )
    p.add_argument("--catalog", "-c", metavar="FEED", help="catalog feed (default: the bundled demo catalog)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--products", "-p", action="append", metavar="ID[,ID]",
                   help="products a new mirror page wears (default: the catalog's first lipstick or frame)")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="render threads (default: CPU cores, at most 4)")
    p.add_argument("--max-streams", type=positive_int, default=8, metavar="N",
                   help="mirror pages served at once (default 8)")
    p.add_argument("--max-upload-mb", type=positive_number("MiB"), default=20.0, metavar="MB",
                   help="largest upload in MiB (default 20; 413 beyond)")
    p.add_argument("--max-megapixels", type=positive_number("megapixels"), default=40.0, metavar="MP",
                   help="largest image in megapixels (default 40; 413 beyond)")
    p.add_argument("--share-dir", default="arlens-shares", metavar="DIR",
                   help="folder of shared snapshots, written only when a shopper shares (default ./arlens-shares)")
    p.add_argument("--share-ttl-hours", type=positive_number("hours"), default=24.0, metavar="H",
                   help="hours a shared snapshot lives (default 24)")
    p.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                   help="allow browser calls from this origin, e.g. https://shop.example (repeatable; default: none)")
    p.add_argument("--public-url", metavar="URL", help="the address shoppers reach the service at, for share links "
                   "(default: the Host of each request)")
    p.add_argument("--hands", choices=("auto", "on", "off"), default="auto",
                   help="track hands: auto (default: for nail polish and the lipstick's hand occlusion), on, or "
                   "off (faster on a small CPU; no nail polish, a hand over the mouth gets painted)")
    p.add_argument("--events", metavar="FILE", help="append the mirror pages' try-on events to this JSON Lines file")

