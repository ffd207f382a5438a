"""The ``arlens`` command: try products on a photo or a video, run the kiosk mirror, check catalogs.

Commands (``arlens COMMAND --help`` for each)::

    arlens try IMAGE [IMAGE|FOLDER|GLOB ...] --product ID [--product ID ...] [--catalog FEED] -o OUT
    arlens video IN -o OUT --product ID [...] [--catalog FEED]
    arlens mirror [--camera N | --source FILE] [--catalog FEED] [--headless --frames N --record OUT] [--keys SCRIPT]
    arlens serve [--catalog FEED] [--host 127.0.0.1] [--port 8000] [--products ID ...]
    arlens catalog validate|list|jsonld [FEED]
    arlens lens validate BUNDLE
    arlens models verify
    arlens demo [-o DIR] [--portrait PHOTO ...] [--hand PHOTO ...] [--catalog FEED]
    arlens preview --photos DIR_OR_GLOB -o OUT [--catalog FEED] [--products ID ...] [--kind KIND ...]
                   [--engine local|ray] [--workers N] [--ray-address ADDRESS]

Exit codes:

    0  success
    1  runtime failure: models missing or corrupt, no OpenGL context, no display, a file that cannot
       be written, an unexpected error
    2  bad usage: unknown command or option, missing argument, bad output file name or key script
    3  bad input data: an image or video that cannot be read, a malformed catalog feed or lens bundle
    4  unknown product ID (or a product arlens cannot draw)
    5  nothing to draw on: a product found no face (or hand) to draw on in an input (try, video)

A reader that goes away (``arlens catalog list --json | head -1``) ends the command quietly with 141, as
for Unix tools killed by SIGPIPE. Errors are one line on stderr, ``arlens: error: ...``, without a
traceback (``-v`` adds it).
This package and :mod:`arlens.kiosk` are the only ones that print; the kiosk window is created only
by ``arlens mirror`` without ``--headless``, and the kiosk module is imported only by that command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from arlens.cli.common import (
    EPILOG,
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_NOTHING_DRAWN,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_UNKNOWN_PRODUCT,
    EXIT_USAGE,
    CliError,
    Once,
    first_line,
)
from arlens.cli.common import Formatter as _Formatter
from arlens.cli.common import Parser as _Parser

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INPUT", "EXIT_NOTHING_DRAWN", "EXIT_OK", "EXIT_RUNTIME", "EXIT_UNKNOWN_PRODUCT",
           "EXIT_USAGE", "CliError", "build_parser", "main"]

#: Modules of :mod:`arlens.cli` that add commands, in ``--help`` order; each has ``register(add)``.
COMMANDS = ("tryon", "mirror", "serve", "catalog", "demo", "preview")


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

    def add(name: str, help_: str, func: Any, parent: Any = None) -> argparse.ArgumentParser:
        p = (parent or sub).add_parser(name, help=help_, description=help_, epilog=EPILOG, formatter_class=fmt)
        p.set_defaults(func=func)
        return p

    for module in COMMANDS:
        importlib.import_module(f"arlens.cli.{module}").register(add)
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
    handler.addFilter(Once())  # a warning several components log (per model, per frame) is shown once
    root = logging.getLogger("arlens")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False
    _quiet_opencv(verbose)
    # Pillow warns about images over its own 89 MP threshold while arlens reads their header; arlens then
    # refuses them with its own one-line error (over DEFAULT_MAX_PIXELS), so the warning is only noise here.
    warnings.filterwarnings("ignore", message=r"Image size \(\d+ pixels\) exceeds limit")
    if not verbose:  # FFmpeg's own log ("moov atom not found") would precede the one-line error of a bad video
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read when OpenCV loads FFmpeg
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
        code = int(func(args) or 0)
        sys.stdout.flush()  # a reader that went away is found here, not at the interpreter's exit
        return code
    except CliError as exc:
        print(f"arlens: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("arlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    except BaseException as exc:  # noqa: BLE001 - the one place that turns errors into exit codes
        code = _exit_code(exc)
        from arlens.errors import ArlensError

        what = first_line(exc)
        if not isinstance(exc, ArlensError | OSError):
            what = f"unexpected {type(exc).__name__}: {what}" + ("" if verbose else " (run with -v for the traceback)")
        print(f"arlens: error: {what}", file=sys.stderr)
        if verbose:
            traceback.print_exc()
        return code


def _reader_gone() -> int:
    """stdout's reader went away (``| head``): stop quietly, as Unix tools do, with SIGPIPE's status.

    The rest of stdout goes to /dev/null so that the interpreter's final flush cannot fail again (Python's
    documented recipe; SIGPIPE itself is left alone, so a server started from this process keeps running
    when a client disconnects).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _quiet_opencv(verbose: bool) -> None:
    """OpenCV logs to stderr itself (``[ERROR:0@0.1] ... Camera index out of range``); arlens says what went
    wrong in its own words, so OpenCV's log is silenced unless ``-v`` asks for everything."""
    if verbose or "OPENCV_LOG_LEVEL" in os.environ:  # -v, or the user chose a level
        return
    os.environ["OPENCV_LOG_LEVEL"] = "SILENT"  # read when cv2 is first imported
    if "cv2" in sys.modules:  # already imported (main() called in-process): set the level directly
        cv_logging = getattr(getattr(sys.modules["cv2"], "utils", None), "logging", None)
        if cv_logging is not None:
            cv_logging.setLogLevel(cv_logging.LOG_LEVEL_SILENT)


def _entry() -> NoReturn:
    sys.exit(main())
