"""Feed readers: real-shaped Meta and Google feeds, arlens JSON, encodings, and every bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from arlens.catalog import Availability, Catalog, FeedFormat, Finish, LinkPolicy, Price, ProductKind
from arlens.catalog.feeds import detect_format, read_feed
from arlens.errors import CatalogError

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"


# --- real-shaped platform feeds ---------------------------------------------------------------


def test_meta_csv_with_bom_crlf_help_row_and_quoted_newlines():
    catalog = Catalog.load(FEEDS / "meta_catalog.csv")
    assert catalog.format is FeedFormat.META
    assert catalog.ids == ("ML-100", "ML-101", "ML-102", "ML-200", "ML-300", "ML-900")
    scarlet = catalog["ML-100"]
    assert scarlet.price == Price(Decimal("22.00"), "USD")
    assert scarlet.color == "#B0121F"  # normalised to upper case
    assert scarlet.color_name == "Scarlet"
    assert scarlet.finish is Finish.MATTE and scarlet.opacity == 0.9
    assert scarlet.description == "Our bestselling matte, in a bold, blue-based red.\nTransfer-resistant, 8-hour wear."
    assert scarlet.link == "https://shop.example/p/ml-100?ref=catalog"
    rosewood = catalog["ML-101"]
    assert rosewood.sale_price == Price(Decimal("18.00"), "USD") and rosewood.current_price.amount == Decimal("18.00")
    assert '"rosewood"' in rosewood.description
    petal = catalog["ML-102"]
    assert petal.color == "#E8A0A8" and petal.color_name is None  # hex in `color` is the swatch
    assert petal.availability is Availability.OUT_OF_STOCK
    frame = catalog["ML-300"]
    assert frame.kind is ProductKind.EYEWEAR and frame.model == "eyewear/round.glb"
    assert frame.frame_width_mm == 134.0 and frame.pantoscopic_tilt_deg == 7.0
    assert frame.availability is Availability.BACKORDER  # Meta's "available for order"
    assert catalog["ML-900"].kind is None  # products that cannot be tried on still load
    assert catalog.model_path("ML-300") == FEEDS.resolve() / "eyewear" / "round.glb"


def test_google_merchant_tsv():
    catalog = Catalog.load(FEEDS / "google_merchant.tsv")
    assert catalog.format is FeedFormat.GOOGLE
    assert [p.kind for p in catalog] == [
        ProductKind.LIPSTICK,
        ProductKind.LIPSTICK,
        ProductKind.EYESHADOW,
        ProductKind.BLUSH,
        ProductKind.EYEWEAR,
    ]
    fig = catalog["GM-1"]
    assert fig.title == "Satin Lip Colour – Fig" and "café" in fig.description
    assert fig.price == Price(Decimal("24.00"), "EUR") and fig.brand == "Maison Vert"
    assert catalog["GM-2"].description == "Warm coral\twith a tab inside quotes"
    assert catalog["GM-2"].sale_price == Price(Decimal("19.90"), "EUR")
    assert catalog["GM-3"].availability is Availability.BACKORDER
    assert catalog["GM-5"].offset_mm == (0.0, 1.5, -2.0)


def test_google_g_prefixed_headers(write_feed):
    text = "g:id\tg:title\tg:link\tg:price\tg:availability\nA1\tThing\thttps://shop.example/a1\t5.00 GBP\tin_stock\n"
    path = write_feed(text, "feed.txt")
    assert detect_format(path, text) is FeedFormat.GOOGLE
    catalog = Catalog.load(path)
    assert catalog["A1"].price == Price(Decimal("5.00"), "GBP")


def test_lens_columns_of_sunglasses(write_feed, good_row, csv_text):
    lens = ["arlens_lens_transmission", "arlens_lens_tint", "arlens_lens_coating"]
    header = ["id", "title", "price", "link", "arlens_kind", "arlens_model", "arlens_frame_width_mm", *lens]
    base = {k: good_row()[k] for k in ("title", "price", "link")}
    eyewear = {"arlens_kind": "eyewear", "arlens_model": "eyewear/round.glb", "arlens_frame_width_mm": "140"}
    rows = [
        {"id": "SUN-1", **base, **eyewear, "arlens_lens_transmission": "0.15", "arlens_lens_tint": "#4a5a46",
         "arlens_lens_coating": "mirror"},
        {"id": "CLR-1", **base, **eyewear, "arlens_lens_transmission": "", "arlens_lens_tint": "",
         "arlens_lens_coating": "anti reflective"},
        {"id": "BAD-1", **base, **eyewear, "arlens_lens_transmission": "15%", "arlens_lens_tint": "",
         "arlens_lens_coating": ""},
    ]
    catalog = Catalog.load(write_feed(csv_text(rows, header)), strict=False)
    sun, clear = catalog["SUN-1"], catalog["CLR-1"]
    assert (sun.lens_transmission, sun.lens_tint, sun.lens_coating.value) == (0.15, "#4A5A46", "mirror")
    assert clear.lens_transmission is None and clear.lens_coating.value == "anti_reflective"
    (row,) = catalog.rejected
    (problem,) = row.problems
    assert problem.line == 4 and problem.column == "arlens_lens_transmission"
    assert "expected a lens transmission (1 clear, 0.15 sunglasses) as a number, got '15%'" in problem.message


def test_meta_tsv_is_detected_by_meta_columns(write_feed, good_row, csv_text):
    header = ["id", "title", "price", "link", "fb_product_category"]
    row = {k: good_row()[k] for k in header[:-1]} | {"fb_product_category": "makeup"}
    path = write_feed(csv_text([row], header, "\t"), "feed.tsv")
    assert Catalog.load(path).format is FeedFormat.META


def test_arlens_json_reports_product_lines(write_feed):
    doc = {
        "format": "arlens.catalog",
        "version": 1,
        "products": [
            {"id": "A", "title": "A", "link": "https://shop.example/a", "price": "1.00 USD"},
            {"id": "B", "title": "B", "link": "https://shop.example/b", "price": {"amount": "2.50", "currency": "eur"}},
            {"id": "C", "title": "C", "link": "https://shop.example/c", "price": "3.00 USD", "colour": "#FFFFFF"},
        ],
    }
    path = write_feed(json.dumps(doc, indent=2), "feed.json")
    with pytest.raises(CatalogError) as info:
        Catalog.load(path)
    [problem] = info.value.problems
    text = path.read_text()
    assert problem.line == text[: text.index('"id": "C"')].count("\n")  # the line of the object's '{'
    assert problem.column == "colour" and "unknown field 'colour'" in problem.message
    catalog = Catalog.load(path, strict=False)
    assert catalog.ids == ("A", "B") and catalog["B"].price == Price(Decimal("2.50"), "EUR")


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('{"format": "arlens.catalog", "version": 1, "products": [}', "expected JSON", 1),
        ('{"format": "other", "version": 1, "products": []}', "expected format 'arlens.catalog'", 1),
        ('{"format": "arlens.catalog", "version": 2, "products": []}', "expected version 1", 1),
        ('{"format": "arlens.catalog", "version": 1, "products": {}}', "expected a list of products", 1),
        ("[1, 2]", "expected a JSON object", 1),
    ],
)
def test_json_file_level_errors(write_feed, content, message, line):
    with pytest.raises(CatalogError, match=message) as info:
        Catalog.load(write_feed(content, "feed.json"), strict=False)
    assert info.value.problems[0].line == line


def test_price_as_float_in_json_is_refused(write_feed):
    doc = {
        "format": "arlens.catalog",
        "version": 1,
        "products": [{"id": "A", "title": "A", "link": "https://x.example/"}],
    }
    doc["products"][0]["price"] = {"amount": 1.1, "currency": "USD"}
    with pytest.raises(CatalogError, match="floats are not decimal-exact"):
        Catalog.load(write_feed(json.dumps(doc), "f.json"))


# --- encodings and quoting --------------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_and_without_bom(write_feed, good_row, csv_text, bom):
    text = csv_text([good_row(title="Rouge à lèvres, “Cerise”")])
    catalog = Catalog.load(write_feed(bom + text.encode("utf-8")))
    assert catalog["SKU-1"].title == "Rouge à lèvres, “Cerise”"
    assert catalog.ids == ("SKU-1",)  # the BOM did not end up in the first header name


def test_quoted_commas_and_newlines_keep_line_numbers(write_feed, good_row, csv_text):
    rows = [
        good_row(id="A", description="line one\nline two, with a comma\nline three"),
        good_row(id="B", price="nineteen"),
    ]
    with pytest.raises(CatalogError) as info:
        Catalog.load(write_feed(csv_text(rows)))
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (5, "price")  # header 1, row A spans 2-4, row B on 5


def test_not_utf8_names_the_line(write_feed, good_row, csv_text):
    data = csv_text([good_row(), good_row(id="SKU-2")]).encode("utf-8").replace(b"A red", b"Caf\xe9", 1)
    with pytest.raises(CatalogError, match="expected UTF-8") as info:
        Catalog.load(write_feed(data), strict=False)
    assert info.value.problems[0].line == 2


def test_comment_and_blank_rows_are_skipped(write_feed, good_row, csv_text):
    text = csv_text([good_row()]).replace("\n", "\n# a help row,,,\n\n", 1)
    assert Catalog.load(write_feed(text)).ids == ("SKU-1",)


# --- bad input: one table, each problem with its message and column ----------------------------


BAD_ROWS = [
    ({"title": ""}, "title", "missing required field 'title'"),
    ({"id": "  "}, "id", "missing required field 'id'"),
    ({"price": "19,00 USD"}, "price", "expected a price like '19.00 USD', got '19,00 USD'"),
    ({"price": "USD"}, "price", "expected a price like '19.00 USD'"),
    ({"price": "-3.00 USD"}, "price", "expected a price like '19.00 USD'"),
    ({"price": "19.00 XYZ"}, "price", "unknown currency 'XYZ', expected an ISO 4217 code"),
    ({"sale_price": "15.00 EUR"}, "sale_price", "expected sale_price in USD, got EUR"),
    ({"arlens_color": "red"}, "arlens_color", "expected an sRGB hex colour like '#A1122B', got 'red'"),
    ({"arlens_color": "#12345"}, "arlens_color", "expected an sRGB hex colour"),
    ({"arlens_color": "#GG0000"}, "arlens_color", "expected an sRGB hex colour"),
    ({"arlens_color": "", "color": "Ruby"}, "arlens_color", "missing required field 'color' for lipstick"),
    ({"arlens_finish": "glossy"}, "arlens_finish", "unknown finish 'glossy', expected one of matte, satin, gloss"),
    ({"arlens_kind": "bronzer"}, "arlens_kind", "unknown kind 'bronzer'"),
    ({"arlens_opacity": "1.5"}, "arlens_opacity", "expected opacity between 0 and 1, got 1.5"),
    ({"arlens_opacity": "half"}, "arlens_opacity", "expected opacity as a number"),
    ({"availability": "maybe"}, "availability", "unknown availability 'maybe'"),
    ({"link": "javascript:alert(1)"}, "link", "expected an https link, got 'javascript:'"),
    ({"link": "data:text/html,<b>hi</b>"}, "link", "got 'data:'"),
    ({"link": "file:///etc/passwd"}, "link", "got 'file:'"),
    ({"link": "http://shop.example/p"}, "link", "expected an https link, got 'http:'"),
    ({"link": "https://user:pw@shop.example/p"}, "link", "without credentials"),
    ({"link": "https:///p"}, "link", "expected a link with a host"),
    ({"link": "shop.example/p"}, "link", "got no scheme"),
    ({"image_link": "javascript:void(0)"}, "image_link", "got 'javascript:'"),
    ({"arlens_kind": "eyewear", "arlens_color": ""}, "arlens_model", "missing required field 'model' for eyewear"),
    (
        {"arlens_kind": "eyewear", "arlens_model": "../../etc/x.glb", "arlens_frame_width_mm": "130"},
        "arlens_model",
        "expected a relative model path without '..'",
    ),
    (
        {"arlens_kind": "eyewear", "arlens_model": "a.glb", "arlens_frame_width_mm": "30"},
        "arlens_frame_width_mm",
        "expected a frame width in millimetres between 80 and 200, got 30",
    ),
    ({"arlens_pattern": "eyeshadow/lid"}, "arlens_pattern", "lipstick products take no pattern"),
    ({"arlens_kind": "blush", "arlens_pattern": "blush/sparkly"}, "arlens_pattern", "unknown pattern 'blush/sparkly'"),
    ({"arlens_kind": "blush", "arlens_pattern": "eyeshadow/lid"}, "arlens_pattern", "expected a blush/... pattern"),
    (
        {"arlens_kind": "eyeshadow", "arlens_pattern": "eyeshadow/lid-crease", "arlens_palette": "#C9A27E"},
        "arlens_palette",
        "pattern eyeshadow/lid-crease takes 2 colour(s) (lid, crease), got 1",
    ),
    ({"arlens_kind": "blush", "arlens_palette": "#C9A27E glitter"}, "arlens_palette", "unknown finish 'glitter'"),
    ({"arlens_kind": "blush", "arlens_palette": "#C9A27E gloss"}, "arlens_palette", "unknown palette finish 'gloss'"),
    ({"arlens_kind": "blush", "arlens_palette": "#C9A27E matte 1.5"}, "arlens_palette", "palette colour 1: expected"),
    ({"arlens_kind": "blush", "arlens_palette": "C9A27E"}, "arlens_palette", "expected an sRGB hex colour"),
    ({"arlens_kind": "blush", "arlens_palette": "; ".join(["#C9A27E"] * 6)}, "arlens_palette", "1 to 5 palette"),
]


@pytest.mark.parametrize(("overrides", "column", "message"), BAD_ROWS)
def test_each_bad_input_is_reported_with_line_column_and_message(
    write_feed, good_row, csv_text, overrides, column, message
):
    path = write_feed(csv_text([good_row(id="OK-1"), good_row(**overrides)]))
    with pytest.raises(CatalogError) as info:
        Catalog.load(path)
    problems = info.value.problems
    assert any(p.column == column and message in p.message and p.line == 3 for p in problems), problems
    assert all(p.source == str(path) for p in problems)
    assert message in str(info.value)
    lenient = Catalog.load(path, strict=False)
    assert lenient.ids == ("OK-1",)
    [rejected] = lenient.rejected
    assert rejected.line == 3 and rejected.problems == problems


def test_patterns_and_palettes_in_meta_and_google_columns(write_feed, good_row, csv_text):
    palette = "#E3C3A8 shimmer 0.5; #9C6B53 matte 0.7; #4A2C2A metallic 0.9"
    rows = [
        good_row(id="EYE-1", arlens_kind="eyeshadow", arlens_color="", arlens_finish="", arlens_opacity="",
                 arlens_pattern="eyeshadow/lid-crease-outer", arlens_palette=palette),
        good_row(id="BLU-1", arlens_kind="blush", arlens_color="#D77A7A", arlens_finish="satin", arlens_opacity="0.4"),
    ]
    for text in (csv_text(rows), csv_text(rows, delimiter="\t")):
        catalog = Catalog.load(write_feed(text, "feed.tsv" if "\t" in text.split("\n", 1)[0] else "feed.csv"))
        eye, blush = catalog["EYE-1"], catalog["BLU-1"]
        assert eye.pattern == "eyeshadow/lid-crease-outer" and eye.color == "#E3C3A8"  # the swatch: first colour
        assert [str(c) for c in eye.palette] == ["#E3C3A8 shimmer 0.5", "#9C6B53 matte 0.7", "#4A2C2A metallic 0.9"]
        assert eye.palette[2].finish is Finish.METALLIC and eye.palette[1].intensity == 0.7
        assert blush.pattern is None and blush.effective_pattern == "blush/apple"
        assert [str(c) for c in blush.effective_palette] == ["#D77A7A satin 0.4"]


def test_duplicate_id_names_the_first_line(write_feed, good_row, csv_text):
    path = write_feed(csv_text([good_row(), good_row(id="SKU-2"), good_row(title="again")]))
    with pytest.raises(CatalogError) as info:
        Catalog.load(path)
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (4, "id")
    assert problem.message == "duplicate id 'SKU-1', first seen at line 2"
    lenient = Catalog.load(path, strict=False)
    assert lenient["SKU-1"].title == "Lipstick - Ruby"  # the first one wins


def test_all_problems_are_reported_in_one_pass(write_feed, good_row, csv_text):
    rows = [
        good_row(id="A", price="19,00 USD", arlens_color="crimson"),  # line 2
        good_row(id="B", description="two\nlines"),  # lines 3-4, good
        good_row(id="C", title="", arlens_finish="velvet"),  # line 5
        good_row(id="A", price="1.00 ZZZ"),  # line 6
        good_row(id="B"),  # line 7: duplicate
        good_row(id="D", link="javascript:alert(document.cookie)"),  # line 8
    ]
    with pytest.raises(CatalogError) as info:
        Catalog.load(write_feed(csv_text(rows)))
    found = [(p.line, p.column) for p in info.value.problems]
    assert found == [
        (2, "price"),
        (2, "arlens_color"),
        (5, "title"),
        (5, "arlens_finish"),
        (6, "price"),
        (7, "id"),
        (8, "link"),
    ]
    assert "(7 problems)" in str(info.value)
    lenient = Catalog.load(write_feed(csv_text(rows)), strict=False)
    assert lenient.ids == ("B",)
    assert [r.line for r in lenient.rejected] == [2, 5, 6, 7, 8]
    assert [r.id for r in lenient.rejected] == ["A", "C", "A", "B", "D"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["id", "title", "link"], "missing required column 'price'"),
        (["id", "title", "link", "price", "arlens_colour"],
         r"unknown try-on column 'arlens_colour' \(did you mean 'arlens_color'\?\)"),
        (["id", "title", "link", "prce"],
         r"missing required column 'price': unknown column 'prce', did you mean 'price'"),
        (["id", "Titel", "link", "price"], r"missing required column 'title': unknown column 'Titel', did you mean"),
        (["id", "title", "link", "price", "ID"], "duplicate column 'id'"),
    ],
)
def test_header_problems_stop_the_file_in_both_modes(write_feed, header, message):
    path = write_feed(",".join(header) + "\n" + ",".join("x" for _ in header) + "\n")
    for strict in (True, False):
        with pytest.raises(CatalogError, match=message) as info:
            Catalog.load(path, strict=strict)
        assert info.value.problems[0].line == 1


def test_empty_and_missing_files(write_feed, tmp_path):
    with pytest.raises(CatalogError, match="expected a header row"):
        Catalog.load(write_feed(""))
    with pytest.raises(CatalogError, match="cannot open"):
        Catalog.load(tmp_path / "nope.csv")


def test_short_row_is_reported(write_feed, good_row, csv_text):
    text = csv_text([good_row()]) + "SKU-9,Title only\n"
    with pytest.raises(CatalogError, match="expected 19 cells, got 2") as info:
        Catalog.load(write_feed(text))
    assert info.value.problems[0].line == 3


def test_link_policy_allow_list_and_http(write_feed, good_row, csv_text):
    rows = [
        good_row(id="A", link="https://www.shop.example/a"),
        good_row(id="B", link="https://evil.example/b"),
        good_row(id="C", link="http://shop.example/c"),
    ]
    path = write_feed(csv_text(rows))
    strict_policy = Catalog.load(path, strict=False, links=LinkPolicy(allowed_domains=("shop.example",)))
    assert strict_policy.ids == ("A",)
    assert "expected a link to one of shop.example" in strict_policy.rejected[0].problems[0].message
    relaxed = Catalog.load(path, links=LinkPolicy(allow_http=True))
    assert relaxed.ids == ("A", "B", "C")


def test_read_feed_result_lists_products_and_problems(write_feed, good_row, csv_text):
    result = read_feed(write_feed(csv_text([good_row(), good_row(id="X", price="")])))
    assert [p.id for p in result.products] == ["SKU-1"]
    assert [p.message for p in result.problems] == ["missing required field 'price'"]


def test_unknown_columns_named_like_optional_ones_are_warned_about(write_feed, caplog):
    """A typo'd optional column loses its values: a warning with the name it probably meant (and a log line)."""
    import logging

    header = ["id", "title", "link", "price", "colour", "image link", "sale_price_effective_date", "gtin", "notes"]
    path = write_feed(",".join(header) + "\nA,Ruby,https://shop.example/a,19.00 USD,red,https://x.example/a.jpg,,1,\n")
    with caplog.at_level(logging.WARNING, logger="arlens.catalog"):
        catalog = Catalog.load(path)
    assert catalog.ids == ("A",)
    messages = [(w.column, w.message) for w in catalog.warnings]
    assert messages == [
        ("colour", "unknown column 'colour' is ignored; did you mean 'color'?"),
        ("image link", "unknown column 'image link' is ignored; did you mean 'image_link'?"),
    ]  # platform columns (sale_price_effective_date, gtin) and unrelated ones (notes) are not typos
    assert all(w.line == 1 for w in catalog.warnings)
    assert "did you mean 'color'" in caplog.text
    assert read_feed(path).warnings == catalog.warnings
    # a known column that is present is not "meant" by a look-alike
    path = write_feed("id,title,link,price,color,colour\nA,Ruby,https://shop.example/a,19.00 USD,red,red\n")
    assert Catalog.load(path).warnings == ()


def test_json_unknown_fields_suggest_the_field(write_feed):
    doc = {"format": "arlens.catalog", "version": 1,
           "products": [{"id": "A", "title": "Ruby", "link": "https://shop.example/a", "prce": "19.00 USD"}]}
    with pytest.raises(CatalogError, match=r"unknown field 'prce' \(did you mean 'price'\?\)"):
        Catalog.load(write_feed(json.dumps(doc), name="feed.json"))
