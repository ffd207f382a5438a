"""What every ``arlens`` subcommand shares: exit codes, the one-line error type, input and output helpers."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_UNKNOWN_PRODUCT = 4
EXIT_NOTHING_DRAWN = 5
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a Unix tool whose reader went away

EPILOG = """exit codes:
  0  success
  1  runtime failure (models, OpenGL, display, writing output, unexpected errors)
  2  bad usage (unknown option, missing argument, bad output name or key script,
     two products of one kind)
  3  bad input data (unreadable image or video, malformed catalog or lens bundle)
  4  unknown product ID (or a product arlens cannot draw)
  5  nothing to draw on: a product found no face (or hand) it is worn on in an
     input; the output was written without it (try, video)
"""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
#: What ``arlens mirror --record`` writes (OpenCV's writer); ``arlens video`` writes :data:`arlens.video.SUFFIXES`.


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
    """Log lines for the terminal, ``arlens: warning: ...``: tracebacks only with ``-v``."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("arlens: %(levelname)s: %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = record.levelname.lower()
        return super().format(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        if self.verbose:
            return super().formatException(ei)
        return f"  ({ei[0].__name__}: {str(ei[1]).splitlines()[0] if str(ei[1]) else ''}; -v for the traceback)"


class Once(logging.Filter):
    """Lets each distinct message through once: a warning that several components log (one per model, one
    per frame) reaches the screen one time."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


def warn(message: str) -> None:
    """One warning line on stderr, in the form the log lines have."""
    print(f"arlens: warning: {message}", file=sys.stderr)


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


def resolve_product_id(catalog: Any, product_id: str, source: str | None = None) -> str:
    """The catalog's ID for ``product_id``: itself, or the one ID that differs from it only in case.

    Raises:
        CliError: (exit 4) no such product, with the closest IDs as suggestions; or several IDs that
            differ only in case, listed.
    """
    if product_id in catalog:
        return product_id
    folded = [i for i in catalog.ids if i.casefold() == product_id.casefold()]
    where = f"catalog {source}" if source else "the catalog"
    if len(folded) == 1:
        return folded[0]
    if len(folded) > 1:
        raise CliError(f"unknown product {product_id!r}: {where} has {', '.join(folded)}, which differ only in "
                       f"case; give one exactly", EXIT_UNKNOWN_PRODUCT)
    hint = catalog.unknown_id_hint(product_id)
    raise CliError(f"unknown product {product_id!r}: not in {where}{hint}; 'arlens catalog list"
                   f"{' ' + source if source else ''}' lists them", EXIT_UNKNOWN_PRODUCT)


def resolve_products(catalog: Any, product_ids: Sequence[str], source: str | None = None) -> list[str]:
    """Each ID resolved (:func:`resolve_product_id`), once; two products of the same kind are refused.

    ``TryOn`` wears one product per kind, so ``-p LIP-001 -p LIP-004`` could only keep the last; saying
    so is better than silently dropping one.

    Raises:
        CliError: an unknown ID (exit 4) or two products of one kind (exit 2).
    """
    ids = list(dict.fromkeys(resolve_product_id(catalog, p, source) for p in product_ids))
    by_kind: dict[str, list[str]] = {}
    for pid in ids:
        kind = catalog[pid].kind
        by_kind.setdefault(kind.value if kind is not None else "(no kind)", []).append(pid)
    for kind, same in by_kind.items():
        if len(same) > 1:
            flags = " ".join(f"-p {pid}" for pid in same)
            raise CliError(f"{flags}: all {kind}; one product of each kind is worn at a time (products of "
                           f"different kinds stack), so try them one per run", EXIT_USAGE)
    return ids


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


def positive_number(unit: str) -> Callable[[str], float]:
    """An argparse type for a finite number of ``unit`` > 0 (``-1``, ``0``, ``nan`` and ``inf`` are bad usage, exit 2:
    ``inf`` would otherwise reach an ``int()`` or a timer as an OverflowError or a wait that never ends)."""
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of {unit}, got {text!r}") from None
        if not 0 < value < math.inf:
            raise argparse.ArgumentTypeError(f"expected a finite number of {unit} > 0, got {text}")
        return value

    parse.__name__ = f"positive {unit}"
    return parse


#: A finite number of seconds > 0, for argparse.
positive_seconds = positive_number("seconds")


def add_device_option(parser: argparse.ArgumentParser) -> None:
    """``--device``: where the tracking models run."""
    parser.add_argument("--device", choices=("cpu", "cuda", "tensorrt"), default="cpu",
                        help="where the tracking models run (default cpu; cuda and tensorrt need arlens[gpu], "
                        "and fall back to the CPU with one warning without it)")


class AddCommand(Protocol):
    """``add(name, help, func, parent=None)``: a subcommand parser of ``arlens`` (or of ``parent``'s subparsers)."""

    def __call__(
        self, name: str, help_: str, func: Callable[[argparse.Namespace], int] | None, parent: Any = None
    ) -> argparse.ArgumentParser: ...
