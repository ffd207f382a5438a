"""Helpers for catalog tests: sample feeds on disk and a small good row to vary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"

META_HEADER = [
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
    "color",
    "sale_price",
    "arlens_kind",
    "arlens_color",
    "arlens_finish",
    "arlens_opacity",
    "arlens_model",
    "arlens_frame_width_mm",
    "arlens_pattern",
    "arlens_palette",
]


def _good_row(**overrides: str) -> dict[str, str]:
    """A valid lipstick row in Meta column names, with ``overrides`` applied."""
    row = {
        "id": "SKU-1",
        "title": "Lipstick - Ruby",
        "description": "A red",
        "availability": "in stock",
        "condition": "new",
        "price": "19.00 USD",
        "link": "https://shop.example/p/sku-1",
        "image_link": "https://shop.example/img/sku-1.jpg",
        "brand": "Demo",
        "color": "Ruby",
        "sale_price": "",
        "arlens_kind": "lipstick",
        "arlens_color": "#A1122B",
        "arlens_finish": "satin",
        "arlens_opacity": "0.8",
        "arlens_model": "",
        "arlens_frame_width_mm": "",
        "arlens_pattern": "",
        "arlens_palette": "",
    }
    row.update(overrides)
    return row


def _csv_text(rows: list[dict[str, str]], header: list[str] = META_HEADER, delimiter: str = ",") -> str:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


@pytest.fixture
def write_feed(tmp_path: Path):
    """Write feed text (or bytes) to a file in ``tmp_path`` and return its path."""

    def write(content: str | bytes, name: str = "feed.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return write


@pytest.fixture
def good_row():
    """``good_row(**overrides)``: a valid lipstick row in Meta column names."""
    return _good_row


@pytest.fixture
def csv_text():
    """``csv_text(rows, header=META_HEADER, delimiter=",")``: rows as delimited feed text."""
    return _csv_text
