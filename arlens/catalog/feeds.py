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


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(start line, cells)`` for each non-blank, non-comment record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        yield line, cells


def _tabular_rows(source: str, text: str, warnings: list[Problem] | None = None) -> Iterator[_Row]:
    """The feed's rows; header problems raise, likely-typo warnings go into ``warnings``."""
    records = _records(text, _delimiter(text))
    try:
        line, header = next(records)
    except StopIteration:
        raise _file_error(source, "expected a header row, got an empty feed") from None
    except csv.Error as exc:
        raise _file_error(source, f"malformed header: {exc}", 1) from None
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
    while True:
        try:
            line, cells = next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _file_error(source, f"malformed row: {exc}") from None
        yield _tabular_row(source, line, header, names, cells, columns)


def _tabular_row(
    source: str, line: int, header: list[str], names: list[str], cells: list[str], columns: Mapping[str, str]
) -> _Row:
    problems = []
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

_DECODER = json.JSONDecoder()
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
    """Offset of the value of the top-level key ``name`` (the last one, like ``json.loads``)."""
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


def _json_rows(source: str, text: str) -> Iterator[_Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _file_error(source, f"expected JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    if not isinstance(doc, dict):
        raise _file_error(source, f"expected a JSON object with 'products', got {type(doc).__name__}", 1)
    problems = []
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
    assert products_at is not None  # json.loads found the key
    lines = [text.count("\n", 0, offset) + 1 for offset in _array_item_offsets(text, products_at)]
    for line, item in zip(lines, items, strict=True):
        yield product_row(source, line, item)


def product_row(source: str, line: int | None, item: Any, *, column_prefix: str = "") -> _Row:
    """A row from a JSON product object (used by catalogs and lens bundles).

    Problems name the offending key, prefixed with ``column_prefix`` (``"products/0/"``).
    """
    if not isinstance(item, dict):
        message = f"expected a product object, got {type(item).__name__}"
        return _Row(source, line, {}, {}, {}, [Problem(source, line, column_prefix or None, message)])
    columns = {name: column_prefix + name for name in PRODUCT_FIELDS} if column_prefix else {}
    problems = []
    for key in item:
        if key in PRODUCT_FIELDS:
            continue
        guess = close_name(str(key), [f for f in PRODUCT_FIELDS if f not in item])
        hint = f" (did you mean {guess!r}?)" if guess else ""
        expected = ", ".join(PRODUCT_FIELDS)
        message = f"unknown field {key!r}{hint}, expected one of {expected}"
        problems.append(Problem(source, line, column_prefix + key, message))
    values = {k: v for k, v in item.items() if k in PRODUCT_FIELDS and v is not None and v != ""}
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
