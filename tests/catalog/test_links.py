"""Buy-link validation and UTM tagging."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from arlens.catalog.links import LinkPolicy, UtmTags, add_utm, validate_link
from arlens.errors import InputError

GOOD = [
    "https://shop.example/p/1",
    "https://SHOP.example:8443/p/1?x=1#top",
    "  https://shop.example/p/1  ",
    "https://xn--caf-dma.example/p",
]

BAD = [
    ("javascript:alert(1)", "got 'javascript:'"),
    ("JavaScript:alert(1)", "got 'javascript:'"),
    ("data:text/html;base64,PGI+", "got 'data:'"),
    ("file:///etc/passwd", "got 'file:'"),
    ("ftp://shop.example/p", "got 'ftp:'"),
    ("http://shop.example/p", "expected an https link, got 'http:'"),
    ("//shop.example/p", "got no scheme"),
    ("https://", "with a host"),
    ("https://user@shop.example/", "without credentials"),
    ("https://user:secret@shop.example/", "without credentials"),
    ("https://shop.example\\@evil.example/", "backslashes"),
    ("https://shop.example/a b", "without whitespace"),
    ("https://shop.example/\x00", "control characters"),
    ("https://shop.example:99999/", "valid port"),
    ("", "got an empty string"),
]


@pytest.mark.parametrize("url", GOOD)
def test_good_links(url):
    assert validate_link(url) == url.strip()


@pytest.mark.parametrize(("url", "message"), BAD)
def test_bad_links(url, message):
    with pytest.raises(InputError, match=re.escape(message)):
        validate_link(url)


def test_http_only_when_allowed():
    assert validate_link("http://shop.example/p", allow_http=True)
    with pytest.raises(InputError, match="got 'javascript:'"):
        validate_link("javascript:alert(1)", allow_http=True)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://shop.example/p", True),
        ("https://www.Shop.Example./p", True),
        ("https://a.b.shop.example/p", True),
        ("https://retail.example/p", True),
        ("https://evilshop.example/p", False),
        ("https://shop.example.evil.test/p", False),
    ],
)
def test_allow_list_includes_subdomains(url, ok):
    policy = LinkPolicy(allowed_domains=("shop.example", "RETAIL.example"))
    if ok:
        assert policy.check(url)
    else:
        with pytest.raises(InputError, match="expected a link to one of shop.example, retail.example"):
            policy.check(url)


def test_policy_rejects_non_domains():
    with pytest.raises(InputError, match="bare domain names"):
        LinkPolicy(allowed_domains=("https://shop.example",))


def test_utm_keeps_other_parameters_and_fragment():
    url = UtmTags(campaign="spring").apply("https://shop.example/p?color=red&size=&utm_source=feed#reviews", "SKU 1")
    parts = urlsplit(url)
    assert parts.fragment == "reviews"
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("color", "red"),
        ("size", ""),
        ("utm_source", "arlens"),
        ("utm_medium", "ar_tryon"),
        ("utm_campaign", "spring"),
        ("utm_content", "SKU 1"),
    ]


def test_utm_configurable():
    tags = UtmTags(source="kiosk-7", medium="qr", content_is_product_id=False, override=False, extra=(("ref", "x"),))
    url = tags.apply("https://shop.example/p?utm_source=newsletter", "SKU")
    assert parse_qsl(urlsplit(url).query) == [("utm_source", "newsletter"), ("utm_medium", "qr"), ("ref", "x")]
    assert add_utm("https://shop.example/", {"utm_source": "a"}) == "https://shop.example/?utm_source=a"


# --- hostile links (issue #24) ------------------------------------------------------------------------


@pytest.mark.parametrize("url, fragment", [
    ("https://[evil.example]/", "expected a link with a valid host"),  # urllib's ValueError leaked
    ("https://[::1/", "expected a link with a valid host"),
    ("https://sh\u043ep.example/buy", "expected an ASCII host name"),  # Cyrillic o: a homoglyph
    ("https://shop.example/\u202egnp.exe", "bidirectional-formatting"),
    ("https://shop.example/a\x85b", "control characters"),
    ("https://shop.example/" + "a" * 2000, "at most 2000 characters"),
])
def test_hostile_links_are_input_errors(url, fragment):
    with pytest.raises(InputError, match=re.escape(fragment)):
        validate_link(url)


def test_punycode_ipv6_and_unicode_paths_are_taken():
    assert validate_link("https://xn--80ak6aa92e.com/") == "https://xn--80ak6aa92e.com/"
    assert validate_link("https://[2001:db8::1]/p") == "https://[2001:db8::1]/p"
    assert validate_link("https://shop.example/caf\u00e9") == "https://shop.example/caf\u00e9"


def test_the_longest_link_with_its_tags_fits_a_qr_code():
    """100,000-character links were accepted and then the kiosk's QR code failed."""
    from arlens.catalog import Product
    from arlens.catalog.qr import product_qr

    link = "https://shop.example/" + "p" * (2000 - len("https://shop.example/"))
    product = Product(id="SKU-" + "9" * 40, title="T", link=link, price="1.00 USD")
    assert product_qr(product).shape[0] > 0
