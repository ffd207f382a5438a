"""``arlens mirror``: the webcam-mirror kiosk (a window, or headless for servers and tests)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from arlens.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_RUNTIME,
    AddCommand,
    CliError,
    add_device_option,
    check_output,
    load_catalog,
    open_session,
    positive_int,
    positive_seconds,
    resolve_products,
)


def _key_script(text: str) -> dict[int, list[str]]:
    from arlens.errors import InputError
    from arlens.kiosk import parse_key_script

    try:
        return parse_key_script(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_mirror(args: argparse.Namespace) -> int:
    """Run the webcam-mirror kiosk."""
    from arlens.kiosk import Kiosk, KioskOptions, SourceUnreadableError, open_source
    from arlens.lenses.registry import default_registry
    from arlens.session import TryOnOptions

    if not args.headless and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise CliError("no display to open the mirror window on (DISPLAY is not set); use --headless", EXIT_RUNTIME)
    if args.record is not None:
        from arlens.video import SUFFIXES

        check_output(args.record, SUFFIXES, "a video")
    if args.source is not None and not Path(args.source).is_file():
        raise CliError(f"cannot read video {args.source}: no such file", EXIT_INPUT)
    catalog = load_catalog(args.catalog)
    products = resolve_products(catalog, args.product or [], args.catalog)
    if not products and not args.look:
        registry = default_registry()
        first = next((p for p in catalog if p.kind is not None and p.kind.value in registry.kinds("face")), None)
        if first is None:
            raise CliError(f"catalog {args.catalog or '(default)'} has no product arlens can draw", EXIT_INPUT)
        products = [first.id]
    gestures = not args.no_gestures
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
        blur_background=args.blur_background,
        pipelined=args.pipelined,
        read_ahead=args.read_ahead,
    )
    try:
        options_ = TryOnOptions(gestures=gestures, max_faces=args.max_faces, device=args.device,
                                tracking_process=args.tracking_process)
        with open_session(catalog, products, options=options_, event_sink=sink) as session:
            if args.look:
                session.wear_look(args.look, keep_others=True)
            kiosk = Kiosk(
                session,
                (lambda: open_source(path=args.source)) if args.source else (lambda: open_source(camera=args.camera)),
                options,
                is_file=args.source is not None,
            )
            stats = kiosk.run()
    except SourceUnreadableError as exc:  # a file that is not a video: bad input, as in `arlens video`
        raise CliError(f"cannot read video {args.source}: {str(exc).split(': ', 1)[-1]}", EXIT_INPUT) from None
    finally:
        if sink is not None:
            sink.close()
    median = stats.process_ms.median
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


def register(add: AddCommand) -> None:
    """Add this module's commands to the ``arlens`` parser."""
    p = add("mirror", "Run the webcam mirror kiosk (full-screen window, or --headless).", cmd_mirror)
    p.description = (
        "Run the webcam mirror kiosk: a mirrored full-screen window with the product's name and price.\n"
        "keys: Left/Right or A/D = previous/next shade, K = next product kind, L = next look,\n"
        "      B = buy-link QR code,\n"
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
    p.add_argument("--look", "-l", metavar="ID", help="a look of the catalog worn at start (every product of it)")
    p.add_argument("--max-faces", type=positive_int, default=1, metavar="N",
                   help="most faces tracked and dressed at once (default 1: the kiosk's shopper)")
    add_device_option(p)
    p.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    p.add_argument("--frames", type=positive_int, metavar="N", help="stop after N frames")
    p.add_argument("--record", metavar="OUT",
                   help="record what the screen shows to a video a browser plays (.mp4 H.264, .webm VP9)")
    p.add_argument("--keys", type=_key_script, metavar="SCRIPT",
                   help="scripted key presses FRAME:KEY,... e.g. '10:d,20:b,30:s,40:q' "
                   "(keys a d k l b s q left right esc)")
    p.add_argument("--snapshots", default="arlens-snapshots", metavar="DIR",
                   help="folder for snapshots (default ./arlens-snapshots)")
    p.add_argument("--events", metavar="FILE", help="append try-on events to this JSON Lines file; "
                   "a summary is printed at the end")
    p.add_argument("--windowed", action="store_true", help="a normal window instead of full screen")
    p.add_argument("--idle-seconds", type=positive_seconds, default=4.0, metavar="S",
                   help="seconds without a face before the idle screen (default 4)")
    p.add_argument("--qr-seconds", type=positive_seconds, default=8.0, metavar="S",
                   help="seconds the QR code stays up (default 8)")
    p.add_argument("--no-gestures", action="store_true", help="keys only, even when hand tracking is installed")
    p.add_argument("--blur-background", action="store_true",
                   help="blur what is behind the shopper (person segmentation on every frame)")
    p.add_argument("--pipelined", action="store_true",
                   help="track each frame while the previous one is drawn (on two free cores a frame then costs "
                   "about the longer of the two; the screen shows it one frame later)")
    p.add_argument("--tracking-process", action="store_true",
                   help="track in a worker process instead of this one (with --pipelined the tracking and the "
                   "drawing then do not take turns at Python's GIL: faster on two cores; costs a second process)")
    p.add_argument("--read-ahead", action="store_true",
                   help="read and decode the next camera frame on a thread of its own while this one is tracked "
                   "and drawn (takes the read off the loop's critical path; the frame shown can be up to one loop "
                   "older)")
