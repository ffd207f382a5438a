"""Read product feeds as brands already publish them: Meta, Google Merchant Center, arlens JSON.

Formats and how they are told apart
-----------------------------------
- **arlens JSON** (``*.json``, or any file whose first non-blank character is ``{``)::

      {"format": "arlens.catalog", "version": 1, "products": [{"id": ..., "price": "19.00 USD", ...}]}

  Product keys are the :class:`~arlens.catalog.product.Product` field names; ``price`` and
  ``sale_price`` are ``"19.00 USD"`` or ``{"amount": "19.00", "currency": "USD"}`` (never a float);
  ``offset_mm`` is a list of three numbers. Unknown keys are problems.
- **Meta commerce catalog** (Facebook / Instagram Shops) CSV or TSV, and **Google Merchant Center**
  TSV (Google also takes ``.txt``): both are delimited text with one header row. The delimiter is
  a tab if the header line holds one, otherwise a comma. Header names are read without case and
  without Google's ``g:`` prefix. The reported format is ``google`` for a tab-separated feed with
  Google-only columns (``identifier_exists``, ``g:`` prefixes, ...) or no Meta-only columns, and
  ``meta`` otherwise; both are read by the same rules, so the guess only labels the result.

Files are UTF-8, with or without a byte-order mark; fields may be quoted and hold commas, tabs
and newlines (RFC 4180 quoting, via the stdlib :mod:`csv` module). Rows whose first cell starts
with ``#`` are comments (Meta's templates carry a ``# Required | ...`` help row) and blank rows
are skipped. Line numbers in problems are the physical line where the row starts.

Columns read from tabular feeds
-------------------------------
Standard columns (Meta and Google spell them the same): ``id``, ``title``, ``description``,
``link``, ``image_link``, ``brand``, ``availability`` (``in stock`` or ``in_stock``, ...), ``price``
(``"19.00 USD"``), ``sale_price``, ``item_group_id`` and ``color``: a ``#RRGGBB`` value is the
swatch, any other text is the colour's name. Other platform columns (``condition``, ``gtin``,
``mpn``, ``google_product_category``, ``size``, ...) are allowed and ignored. An unknown column whose
name is close to one arlens reads (``prce``, ``colour``, ``image link``) is reported with the name it
probably meant: a problem when that column is required and missing, else a warning
(:attr:`FeedResult.warnings`, logged when a catalog is loaded), since its values would be dropped.

Try-on columns, added beside the platform's own (unknown ``arlens_*`` columns are problems, so a
typo does not silently drop a value):

==============================  ==============================================================
``arlens_kind``                 lipstick, lip_liner, eyeshadow, eyeliner, mascara, brow, blush, foundation,
                                contour, highlighter, nail_polish, eyewear
``arlens_color``                swatch as ``#RRGGBB`` sRGB hex (wins over a hex ``color``)
``arlens_finish``               matte, satin, gloss, metallic, shimmer
``arlens_opacity``              0 to 1
``arlens_model``                eyewear mesh, relative to the feed's folder (``eyewear/round.glb``)
``arlens_frame_width_mm``       eyewear frame width in millimetres
``arlens_offset_mm``            eyewear seat offset ``"x y z"`` in millimetres
``arlens_pantoscopic_tilt_deg`` eyewear frame tilt in degrees
``arlens_lens_transmission``    eyewear lens transmittance, 1 clear .. 0.15 sunglasses
``arlens_lens_tint``            eyewear lens tint as ``#RRGGBB`` sRGB hex
``arlens_lens_coating``         eyewear lens coating: none, anti_reflective, mirror
``arlens_pattern``              eye, brow, cheek and skin products: a named layout
                                (``eyeshadow/lid-crease-outer``, see :mod:`arlens.catalog.patterns`)
``arlens_palette``              its colours, one per zone of the pattern, separated by ``;``, each
                                ``#RRGGBB [finish] [intensity]`` (``"#D9B38C satin 0.5; #6B4226 matte 0.8"``;
                                finish matte, satin, shimmer or metallic; intensity 0 to 1)
==============================  ==============================================================

Required in every row: ``id``, ``title``, ``link``, ``price``; colour kinds also need a swatch (or a
palette, whose first colour is then the swatch) and eyewear needs ``arlens_model`` and
``arlens_frame_width_mm``. The try-on columns go into the feed the platform already reads (Meta and Google
ignore columns they do not know), keyed by the row's ``id`` like every other attribute; a palette whose size
does not match its pattern's zones is a problem of the ``arlens_palette`` cell.

arlens JSON holds the same values as keys (``"pattern"``, ``"palette": [{"color": "#D9B38C", "finish":
"satin", "intensity": 0.5}, ...]``, the text form is accepted too) and, beside ``products``, the catalog's
``looks`` (:mod:`arlens.catalog.looks`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from arlens.catalog.links import LinkPolicy
from arlens.catalog.looks import Look, read_looks
from arlens.catalog.product import (
    FIELD_RULES,
    PRODUCT_FIELDS,
    REQUIRED_FIELDS,
    Product,
    cross_field_problems,
)
from arlens.errors import CatalogError, InputError, Problem

JSON_FORMAT_NAME = "arlens.catalog"
JSON_FORMAT_VERSION = 1
MAX_FEED_BYTES = 256 * 1024 * 1024


class FeedFormat(StrEnum):
    """The kinds of feed :func:`read_feed` understands."""

    META = "meta"
    GOOGLE = "google"
    ARLENS_JSON = "arlens_json"


# tabular column -> Product field ("color" is special: hex is the swatch, text the name)
TABULAR_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "id": "id",
        "title": "title",
        "description": "description",
        "link": "link",
        "image_link": "image_link",
        "brand": "brand",
        "availability": "availability",
        "price": "price",
        "sale_price": "sale_price",
        "item_group_id": "item_group_id",
        "arlens_kind": "kind",
        "arlens_color": "color",
        "arlens_finish": "finish",
        "arlens_opacity": "opacity",
        "arlens_model": "model",
        "arlens_frame_width_mm": "frame_width_mm",
        "arlens_offset_mm": "offset_mm",
        "arlens_pantoscopic_tilt_deg": "pantoscopic_tilt_deg",
        "arlens_lens_transmission": "lens_transmission",
        "arlens_lens_tint": "lens_tint",
        "arlens_lens_coating": "lens_coating",
        "arlens_pattern": "pattern",
        "arlens_palette": "palette",
    }
)
_FIELD_COLUMNS = MappingProxyType({**{f: c for c, f in TABULAR_COLUMNS.items()}, "color_name": "color"})
_GOOGLE_ONLY = frozenset({"identifier_exists", "ads_redirect", "excluded_destination", "included_destination"})
_META_ONLY = frozenset({"fb_product_category", "quantity_to_sell_on_facebook", "rich_text_description", "inventory"})
#: Columns of Meta's and Google's feed specifications that arlens ignores: never taken for typos of its own.
PLATFORM_COLUMNS = frozenset({
    *_GOOGLE_ONLY, *_META_ONLY, "condition", "gtin", "mpn", "google_product_category", "product_type", "size",
    "gender", "age_group", "material", "pattern", "shipping", "shipping_weight", "shipping_label",
    "shipping_length", "shipping_width", "shipping_height", "additional_image_link", "lifestyle_image_link",
    "mobile_link", "sale_price_effective_date", "availability_date", "expiration_date", "video", "status",
    "visibility", "custom_label_0", "custom_label_1", "custom_label_2", "custom_label_3", "custom_label_4",
    "custom_number_0", "custom_number_1", "custom_number_2", "custom_number_3", "custom_number_4",
    "unit_pricing_measure", "unit_pricing_base_measure", "multipack", "is_bundle", "adult", "size_type",
    "size_system", "tax", "tax_category", "product_highlight", "product_detail", "cost_of_goods_sold",
    "return_policy_info", "origin_country", "importer_name", "manufacturer_info", "promotion_id", "pause",
})
#: How alike (difflib ratio) an unknown column name must be to a known one to be reported as a likely typo.
TYPO_CUTOFF = 0.8


def close_name(name: str, known: Iterable[str], cutoff: float = TYPO_CUTOFF) -> str | None:
    """The known name ``name`` is most likely a typo of (spaces and hyphens read as ``_``), or None."""
    import difflib

    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    found = difflib.get_close_matches(key, list(known), n=1, cutoff=cutoff)
    return found[0] if found else None


@dataclass(frozen=True)
class RejectedRow:
    """A feed row that was not loaded, with every reason.

    Attributes:
        line: the physical line (tabular) or the line of the product object (JSON) it starts on.
        id: the row's ``id`` if it had one.
        row: the raw values as read (column or key -> value).
        problems: every problem found in the row.
    """

    line: int | None
    id: str | None
    row: Mapping[str, Any]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class FeedResult:
    """What :func:`read_feed` found: good products in feed order, rejected rows, and (arlens JSON) looks."""

    source: str
    format: FeedFormat
    products: tuple[Product, ...]
    rejected: tuple[RejectedRow, ...]
    warnings: tuple[Problem, ...] = ()
    """Problems that lose nothing the feed needs but probably lose something meant: an unknown column
    named like an optional one arlens reads (its values are ignored)."""
    looks: tuple[Look, ...] = ()
    look_problems: tuple[Problem, ...] = ()

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every row problem, in feed order, then every problem of the looks left out."""
        return tuple(p for r in self.rejected for p in r.problems) + self.look_problems


def _file_error(source: str, message: str, line: int | None = None, column: str | None = None) -> CatalogError:
    return CatalogError(f"cannot read catalog {source}", [Problem(source, line, column, message)])


def _read_text(path: Path) -> str:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FEED_BYTES:
            raise _file_error(source, f"expected a feed of at most {MAX_FEED_BYTES} bytes, got {size}")
        data = path.read_bytes()
    except OSError as exc:
        raise _file_error(source, f"cannot open: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _file_error(source, f"expected UTF-8 text, got byte 0x{data[exc.start]:02x}", line) from None


def detect_format(path: str | Path, text: str) -> FeedFormat:
    """Tell the feed's format from its extension and content, as the module docstring describes."""
    stripped = text.lstrip()
    if Path(path).suffix.lower() == ".json" or stripped.startswith(("{", "[")):
        return FeedFormat.ARLENS_JSON
    if _delimiter(text) != "\t":
        return FeedFormat.META
    header = stripped.split("\n", 1)[0]
    names = {_normalise_header(h) for h in header.split("\t")}
    raw_names = {h.strip().lower() for h in header.split("\t")}
    if names & _GOOGLE_ONLY or any(n.startswith("g:") for n in raw_names):
        return FeedFormat.GOOGLE
    return FeedFormat.META if names & _META_ONLY else FeedFormat.GOOGLE


def read_feed(
    path: str | Path, *, format: FeedFormat | str | None = None, links: LinkPolicy | None = None
) -> FeedResult:
    """Read every row of a feed; good rows become products, bad ones are returned with reasons.

    Duplicate IDs are rejected after the first, naming the line of the first.

    Args:
        path: the feed file.
        format: force a :class:`FeedFormat` instead of detecting it.
        links: the buy-link policy (default: https only, any domain).

    Raises:
        CatalogError: problems that stop the whole file (cannot open, not UTF-8, not JSON, no
            header, a missing required column, duplicate column names).
    """
    path = Path(path)
    text = _read_text(path)
    fmt = FeedFormat(format) if format is not None else detect_format(path, text)
    warnings: list[Problem] = []
    if fmt is FeedFormat.ARLENS_JSON:
        rows = _json_rows(str(path), text)
    else:
        rows = _tabular_rows(str(path), text, warnings)
    products, rejected = load_rows(rows, links)
    if fmt is not FeedFormat.ARLENS_JSON:
        return FeedResult(str(path), fmt, products, rejected, tuple(warnings))
    looks, look_problems = read_looks(str(path), text, {p.id: p for p in products}, links)
    return FeedResult(str(path), fmt, products, rejected, tuple(warnings), looks, look_problems)


@dataclass
class _Row:
    """One row on its way to a Product: raw values by field, where each came from."""

    source: str
    line: int | None
    raw: Mapping[str, Any]
    values: dict[str, Any]
    columns: Mapping[str, str]
    problems: list[Problem]

    def problem(self, field: str, message: str) -> Problem:
        return Problem(self.source, self.line, self.columns.get(field, field), message)


def _build(row: _Row, policy: LinkPolicy) -> tuple[Product | None, list[Problem]]:
    problems = list(row.problems)
    if problems and not row.values and not row.raw:  # a row that could not be read: nothing more to say
        return None, problems
    clean: dict[str, Any] = {}
    for name in REQUIRED_FIELDS:
        if row.values.get(name) is None:
            problems.append(row.problem(name, f"missing required field '{name}'"))
    for name, raw in row.values.items():
        if raw is None:
            continue
        try:
            # the catalog's link policy is the link rule here: it is at least as strict as Product's
            clean[name] = policy.check(raw) if name == "link" else FIELD_RULES[name](raw)
        except InputError as exc:
            problems.append(row.problem(name, str(exc)))
    if not problems:
        problems += [row.problem(name, message) for name, message in cross_field_problems(clean)]
    if problems:
        return None, problems
    return Product(**clean), problems


# --- tabular (Meta CSV/TSV, Google TSV) ------------------------------------------------------


def _normalise_header(name: str) -> str:
    name = name.strip().lower()
    return name[2:] if name.startswith("g:") else name


def _delimiter(text: str) -> str:
    """Tab if the header line holds one, else comma."""
    return "\t" if "\t" in text.lstrip().split("\n", 1)[0] else ","


class _Lines:
    """The feed's physical lines for :mod:`csv`, keeping those of the record being read (to check its quotes)."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.record: list[str] = []
        self.done = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.done = True
            raise
        self.record.append(line)
        return line


@dataclass(frozen=True)
class _Record:
    """One record of a tabular feed: the line it starts on, its cells, what is wrong with how it was split."""

    line: int
    cells: list[str]
    problems: tuple[str, ...] = ()


def _records(text: str, delimiter: str) -> Iterator[_Record]:
    """Yield each non-blank, non-comment record, with the problems of its quoting.

    The csv module (RFC 4180) lets a quoted cell run over lines; an unbalanced quote then swallows the
    rows after it without a word. A record over several lines is therefore checked: a quote never closed
    (it ran to the end of the file), or a multi-line cell holding lines that look like rows of their own
    (as many delimiters as a row has), is a problem naming the line where the quote opened and the lines
    it swallowed. A cell over the csv module's 131,072-character limit is a problem of its row alone.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    start = 1
    ncols = 0
    while True:
        lines.record = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, start = start, reader.line_num + 1
            limit = csv.field_size_limit()
            why = (f"expected cells of at most {limit} characters, got a longer one" if "field limit" in str(exc)
                   else f"malformed row: {exc}")
            yield _Record(line, [], (why,))
            continue
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        ncols = ncols or len(cells)  # the header's
        problems = _quoting_problems(line, cells, lines, delimiter, ncols) if len(lines.record) > 1 else ()
        yield _Record(line, cells, problems)


def _quoting_problems(line: int, cells: list[str], lines: _Lines, delimiter: str, ncols: int) -> tuple[str, ...]:
    """Problems of a record read over several physical lines (see :func:`_records`)."""
    end = line + len(lines.record) - 1
    starts = []  # the line each cell starts on
    at = line
    for cell in cells:
        starts.append(at)
        at += len(cell.splitlines()) - 1 if cell else 0
    if lines.done and sum(chunk.count('"') for chunk in lines.record) % 2:
        opened = starts[-1]  # the quote ran to the end of the file: in the last cell
        return (f"a quote opened on line {opened} is never closed: lines {opened + 1}-{end} ({end - opened} lines) "
                f"were read as part of one cell (close the quote, or write a quote inside a quoted cell as \"\")",)
    for opened, cell in zip(starts, cells, strict=True):
        rest = cell.splitlines()[1:]
        rows = [i for i, text in enumerate(rest, start=opened + 1) if ncols > 1 and text.count(delimiter) >= ncols - 1]
        if rows:
            which = f"line {rows[0]}" if len(rows) == 1 else f"{len(rows)} lines, {rows[0]} to {rows[-1]}"
            return (f"the quoted cell opened on line {opened} runs to line {opened + len(rest)}, over what look like "
                    f"rows of their own ({which}): an unbalanced quote? Those rows were not loaded",)
    return ()


def _tabular_rows(source: str, text: str, warnings: list[Problem] | None = None) -> Iterator[_Row]:
    """The feed's rows; header problems raise, likely-typo warnings go into ``warnings``."""
    records = _records(text, _delimiter(text))
    first = next(records, None)
    if first is None:
        raise _file_error(source, "expected a header row, got an empty feed")
    line, header = first.line, first.cells
    if first.problems:
        raise _file_error(source, f"malformed header: {'; '.join(first.problems)}", line)
    names = [_normalise_header(h) for h in header]
    header_problems = []
    seen = set(names)
    read = (*TABULAR_COLUMNS, "color")
    typos: dict[str, str] = {}  # known column -> the header name that is probably a typo of it
    counted: set[str] = set()
    for raw_name, name in zip(header, names, strict=True):
        if name in counted:
            header_problems.append(Problem(source, line, raw_name, f"duplicate column {name!r}"))
        counted.add(name)
        if name in read or name in PLATFORM_COLUMNS:
            continue
        guess = close_name(name, [c for c in read if c not in seen])
        if name.startswith("arlens_"):
            known = ", ".join(c for c in TABULAR_COLUMNS if c.startswith("arlens_"))
            hint = f" (did you mean {guess!r}?)" if guess else ""
            header_problems.append(
                Problem(source, line, raw_name, f"unknown try-on column {name!r}{hint}, expected one of {known}")
            )
        elif guess is not None:
            typos.setdefault(guess, raw_name)
    for name in REQUIRED_FIELDS:
        if name not in seen:
            typo = typos.pop(name, None)
            if typo is not None:
                header_problems.append(Problem(
                    source, line, typo, f"missing required column '{name}': unknown column {typo!r}, did you mean "
                    f"{name!r}?"))
            else:
                header_problems.append(Problem(source, line, name, f"missing required column '{name}'"))
    if warnings is not None:
        for guess, typo in typos.items():
            warnings.append(Problem(source, line, typo, f"unknown column {typo!r} is ignored; did you mean {guess!r}?"))
    if header_problems:
        raise CatalogError(f"cannot read catalog {source}", header_problems)
    raw_by_name = dict(zip(names, header, strict=True))
    columns = {field: raw_by_name.get(column, column) for field, column in _FIELD_COLUMNS.items()}
    for record in records:
        yield _tabular_row(source, record, header, names, columns)


def _tabular_row(source: str, record: _Record, header: list[str], names: list[str], columns: Mapping[str, str]) -> _Row:
    line, cells = record.line, record.cells
    problems = [Problem(source, line, None, message) for message in record.problems]
    if record.problems and not cells:
        return _Row(source, line, {}, {}, columns, problems)  # unreadable: no values to check
    if len(cells) != len(names):
        problems.append(Problem(source, line, None, f"expected {len(names)} cells, got {len(cells)}"))
    raw = dict(zip(header, cells, strict=False))
    values: dict[str, Any] = {}
    for name, cell in zip(names, cells, strict=False):
        cell = cell.strip()
        if not cell:
            continue
        if name == "color":
            if cell.startswith("#"):
                values.setdefault("color", cell)
            else:
                values["color_name"] = cell
        elif name in TABULAR_COLUMNS:
            field = TABULAR_COLUMNS[name]
            if field == "color":
                values["color"] = cell  # arlens_color wins over a hex in `color`
            else:
                values[field] = cell
    return _Row(source, line, raw, values, columns, problems)


# --- arlens JSON -----------------------------------------------------------------------------

class JsonValueRefused:
    """A JSON value arlens does not read, left in place so that only the product holding it is rejected.

    Stands for an integer of more than :data:`MAX_JSON_INT_DIGITS` digits (Python's own limit, 4,300, made
    ``json`` raise ``ValueError`` for the whole feed) and for ``NaN`` / ``Infinity`` (not JSON).
    """

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return self.what


class JsonObject(dict):
    """A JSON object that repeated a key (``duplicates``): the last value won, and the object is refused."""

    __slots__ = ("duplicates",)

    def __init__(self, pairs: list[tuple[str, Any]], duplicates: tuple[str, ...]) -> None:
        super().__init__(pairs)
        self.duplicates = duplicates


#: Integers longer than this are refused (a product never needs more; prices are decimal strings).
MAX_JSON_INT_DIGITS = 30


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    duplicates = tuple(dict.fromkeys(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return JsonObject(pairs, duplicates)


def _int(text: str) -> int | JsonValueRefused:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        return JsonValueRefused(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


#: The feeds' JSON decoder: repeated keys marked, huge integers and NaN/Infinity kept as refused values.
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_int=_int,
                            parse_constant=lambda name: JsonValueRefused(f"{name} (not JSON)"))
_WHITESPACE = " \t\n\r"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _array_item_offsets(text: str, i: int) -> list[int]:
    """Offsets where the items of the JSON array starting at ``text[i] == '['`` begin."""
    offsets = []
    i = _skip_ws(text, i + 1)
    if text[i] == "]":
        return offsets
    while True:
        offsets.append(i)
        _, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == "]":
            return offsets
        i = _skip_ws(text, i + 1)  # the comma


def _key_offset(text: str, name: str) -> int | None:
    """Offset of the value of the top-level key ``name`` (the last one, like ``json.loads``; the document
    was parsed: it is well-formed)."""
    i = _skip_ws(text, 0)
    found = None
    i = _skip_ws(text, i + 1)
    while i < len(text) and text[i] != "}":
        key, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, _skip_ws(text, i) + 1)  # the colon
        if key == name:
            found = i
        _, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
    return found


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    """1-based line of each of the increasing ``offsets``, counting newlines once (it was from the start, per
    product: 200k products did not load in 15 minutes)."""
    out = []
    line, at = 1, 0
    for offset in offsets:
        line += text.count("\n", at, offset)
        at = offset
        out.append(line)
    return out


def _json_rows(source: str, text: str) -> Iterator[_Row]:
    try:
        doc = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _file_error(source, f"expected JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except RecursionError:
        raise _file_error(source, "expected JSON nested less deeply than Python's parser allows (about 1,000 "
                                  "levels), got deeper nesting") from None
    if not isinstance(doc, dict):
        raise _file_error(source, f"expected a JSON object with 'products', got {type(doc).__name__}", 1)
    problems = []
    if isinstance(doc, JsonObject):
        problems.append(Problem(source, 1, None, f"repeated key(s) {', '.join(map(repr, doc.duplicates))} (JSON "
                                                 f"objects must not repeat a key)"))
    unknown = sorted(set(doc) - {"format", "version", "products", "looks"})
    if unknown:
        problems.append(Problem(source, 1, None, f"unknown field(s) {', '.join(map(repr, unknown))}"))
    if doc.get("format") != JSON_FORMAT_NAME:
        problems.append(
            Problem(source, 1, "format", f"expected format {JSON_FORMAT_NAME!r}, got {doc.get('format')!r}")
        )
    if doc.get("version") != JSON_FORMAT_VERSION:
        problems.append(
            Problem(source, 1, "version", f"expected version {JSON_FORMAT_VERSION}, got {doc.get('version')!r}")
        )
    items = doc.get("products")
    if not isinstance(items, list):
        problems.append(Problem(source, 1, "products", f"expected a list of products, got {type(items).__name__}"))
    if problems:
        raise CatalogError(f"cannot read catalog {source}", problems)
    products_at = _key_offset(text, "products")
    assert products_at is not None  # the decoder found the key
    lines = _line_numbers(text, _array_item_offsets(text, products_at))
    for line, item in zip(lines, items, strict=True):
        yield product_row(source, line, item)


def _refused_values(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """``(key path, what)`` for every repeated key and refused value inside a product's value."""
    if isinstance(value, JsonValueRefused):
        yield path, f"expected a value arlens reads, got {value.what}"
    elif isinstance(value, dict):
        if isinstance(value, JsonObject):
            yield path, f"repeated key(s) {', '.join(map(repr, value.duplicates))} (JSON objects must not repeat a key)"
        if depth < 3:
            for key, inner in value.items():
                yield from _refused_values(inner, f"{path}/{key}", depth + 1)
    elif isinstance(value, list) and depth < 3:
        for i, inner in enumerate(value):
            yield from _refused_values(inner, f"{path}/{i}", depth + 1)


def product_row(source: str, line: int | None, item: Any, *, column_prefix: str = "") -> _Row:
    """A row from a JSON product object (used by catalogs and lens bundles).

    Problems name the offending key, prefixed with ``column_prefix`` (``"products/0/"``).
    """
    if not isinstance(item, dict):
        message = f"expected a product object, got {type(item).__name__}"
        return _Row(source, line, {}, {}, {}, [Problem(source, line, column_prefix or None, message)])
    columns = {name: column_prefix + name for name in PRODUCT_FIELDS} if column_prefix else {}
    problems = []
    if isinstance(item, JsonObject):
        message = f"repeated key(s) {', '.join(map(repr, item.duplicates))} (JSON objects must not repeat a key)"
        problems.append(Problem(source, line, column_prefix or None, message))
    refused = set()
    for key, value in item.items():
        for path, message in _refused_values(value, column_prefix + str(key)):
            problems.append(Problem(source, line, path, message))
            refused.add(key)
    for key in item:
        if key in PRODUCT_FIELDS:
            continue
        guess = close_name(str(key), [f for f in PRODUCT_FIELDS if f not in item])
        hint = f" (did you mean {guess!r}?)" if guess else ""
        expected = ", ".join(PRODUCT_FIELDS)
        message = f"unknown field {key!r}{hint}, expected one of {expected}"
        problems.append(Problem(source, line, column_prefix + key, message))
    values = {k: v for k, v in item.items() if k in PRODUCT_FIELDS and v is not None and v != "" and k not in refused}
    return _Row(source, line, item, values, columns, problems)


def load_rows(
    rows: Iterable[_Row], links: LinkPolicy | None = None
) -> tuple[tuple[Product, ...], tuple[RejectedRow, ...]]:
    """Turn rows into products in order; rows with problems (or a repeated ID) are rejected."""
    policy = links or LinkPolicy()
    products: list[Product] = []
    rejected: list[RejectedRow] = []
    first_line: dict[str, int | None] = {}
    for row in rows:
        product, problems = _build(row, policy)
        if product is not None and product.id in first_line:
            where = first_line[product.id]
            at = f" at line {where}" if where is not None else ""
            problems.append(row.problem("id", f"duplicate id {product.id!r}, first seen{at}"))
        if product is None or problems:
            row_id = row.values.get("id")
            rejected.append(
                RejectedRow(row.line, row_id if isinstance(row_id, str) else None, row.raw, tuple(problems))
            )
        else:
            first_line[product.id] = row.line
            products.append(product)
    return tuple(products), tuple(rejected)
