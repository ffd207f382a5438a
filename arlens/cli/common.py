"""What every ``arlens`` subcommand shares: exit codes, the one-line error type, input and output helpers."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol

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


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``arlens: error: ...``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        raise CliError(message + hint, EXIT_USAGE)


class Formatter(logging.Formatter):
    """Log lines for the terminal: tracebacks only with ``-v``."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("arlens: %(levelname)s: %(message)s")
        self.verbose = verbose

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        if self.verbose:
            return super().formatException(ei)
        return f"  ({ei[0].__name__}: {str(ei[1]).splitlines()[0] if str(ei[1]) else ''}; -v for the traceback)"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_catalog(path: str | None) -> Any:
    from arlens.catalog import Catalog
    from arlens.errors import CatalogError

    if path is None:
        return Catalog.default()
    if not Path(path).is_file():
        raise CliError(f"cannot read catalog {path}: no such file", EXIT_INPUT)
    try:
        return Catalog.load(path)
    except CatalogError as exc:
        raise CliError(f"{first_line(exc)}; run 'arlens catalog validate {path}' to list them", EXIT_INPUT) from None


def read_image(path: str) -> Any:
    """The image at ``path`` as uint8 BGR, through :func:`arlens.image.read_image` (pixel bound from the header)."""
    from arlens.errors import InputError
    from arlens.image import read_image as _read

    try:
        return _read(path)
    except InputError as exc:
        raise CliError(f"cannot read image {first_line(exc)}", EXIT_INPUT) from None


def check_output(path: str, suffixes: Sequence[str], what: str) -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CliError(f"-o {path}: expected {what} file ending in {', '.join(suffixes)}", EXIT_USAGE)
    if out.is_dir():
        raise CliError(f"-o {path}: is a folder, expected a file name", EXIT_USAGE)
    return out


def open_session(catalog: Any, products: Sequence[str], **kwargs: Any) -> Any:
    from arlens.session import TryOn

    return TryOn(catalog, products, **kwargs)


def product_line(product: Any, link: str) -> str:
    return f"{product.id}  {product.title}  {product.current_price}\n  buy: {link}"


def write_image(path: Path, image: Any) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix, image)
    if not ok:
        raise CliError(f"cannot encode {path}", EXIT_RUNTIME)
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}", EXIT_RUNTIME) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


class AddCommand(Protocol):
    """``add(name, help, func, parent=None)``: a subcommand parser of ``arlens`` (or of ``parent``'s subparsers)."""

    def __call__(
        self, name: str, help_: str, func: Callable[[argparse.Namespace], int] | None, parent: Any = None
    ) -> argparse.ArgumentParser: ...
