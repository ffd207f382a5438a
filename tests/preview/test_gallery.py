"""The gallery: well-formed HTML, every link and image there, prices and buy links, JSON-LD that reads back."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from arlens.catalog.jsonld import from_jsonld
from arlens.errors import InputError
from arlens.preview import PreviewOptions, preview_catalog

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Parses a page strictly enough for a test: every element closed in order, ids unique."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.refs: list[str] = []
        self.ids: list[str] = []
        self.jsonld: list[str] = []
        self.buy: list[str] = []
        self.prices: list[str] = []
        self._script = False
        self._price = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(a[key])
        if tag == "a" and a.get("class") == "buy":
            self.buy.append(a["href"])
        if tag == "script":
            self._script = a.get("type") == "application/ld+json"
        if tag == "div" and a.get("class") == "price":
            self._price = True
            self.prices.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "div":
            self._price = False
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script:
            self.jsonld.append(data)
        if self._price:
            self.prices[-1] += data


@pytest.fixture(scope="module")
def gallery(tmp_path_factory, portraits, catalog) -> Path:
    out = tmp_path_factory.mktemp("gallery")
    # page_size 2: three products make two pages
    report = preview_catalog(portraits, out, catalog=catalog, options=PreviewOptions(workers=2, page_size=2))
    assert report.gallery == out / "index.html"
    return out


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_pages_parse_and_every_local_reference_exists(gallery):
    pages = sorted(gallery.glob("index*.html"))
    assert [p.name for p in pages] == ["index-2.html", "index.html"]
    for path in pages:
        page = parse(path)
        assert page.errors == [] and page.stack == [], (path.name, page.errors, page.stack)
        assert len(page.ids) == len(set(page.ids))
        local = [r for r in page.refs if not urlparse(r).scheme and not r.startswith("#")]
        assert local, path.name
        for ref in local:
            assert (gallery / ref).is_file(), f"{path.name} links to missing {ref}"


def test_jsonld_round_trips_through_the_catalog_reader(gallery, catalog):
    seen = {}
    for path in gallery.glob("index*.html"):
        for text in parse(path).jsonld:
            product = from_jsonld(json.loads(text))
            seen[product.id] = product
    drawn = {"LIP-004", "LIP-012", "EYE-101"}  # NAIL-202 has no hand to be drawn on in the portraits
    assert set(seen) == drawn
    for pid in drawn:
        assert seen[pid] == catalog[pid]


def test_cards_show_prices_and_tagged_buy_links(gallery, catalog):
    page = parse(gallery / "index.html")
    assert len(page.buy) == 2 and len(page.prices) == 2
    for link, price in zip(page.buy, page.prices, strict=True):
        query = urlparse(link).query
        assert "utm_source=arlens" in query and "utm_content=" in query
        pid = query.split("utm_content=")[1].split("&")[0]
        assert str(catalog[pid].current_price) in price


def test_the_last_page_lists_the_photos_and_what_was_not_drawn(gallery):
    text = (gallery / "index-2.html").read_text()
    assert "astronaut" in text and "grace_hopper" in text
    assert "NAIL-202" in text and "no hand found" in text
    assert "sheets/photos/astronaut/lipstick.png" in text


def test_someone_elses_index_html_is_never_overwritten(tmp_path, portraits, catalog):
    (tmp_path / "index.html").write_text("<html><body>my shop</body></html>")
    with pytest.raises(InputError, match="refusing to overwrite"):
        preview_catalog(portraits, tmp_path, catalog=catalog, options=PreviewOptions(workers=1))
    assert (tmp_path / "index.html").read_text() == "<html><body>my shop</body></html>"
    assert not (tmp_path / "renders").exists()
