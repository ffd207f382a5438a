"""Buy links: validation at the catalog boundary and UTM tagging for attribution.

A buy link ends up behind a QR code on a kiosk or a button in an app, so it is checked once,
when a product enters arlens:

- the scheme is ``https`` (``http`` only with ``allow_http=True``); ``javascript:``, ``data:``,
  ``file:`` and every other scheme are refused;
- there is a host, and no ``user:password@`` credentials;
- no whitespace, control characters or backslashes (browsers read ``\\`` as ``/``, which turns
  ``https://shop.example\\@evil.example`` into a link to another host);
- optionally the host is one of an allow-list of retailer domains or a subdomain of one;
- at most :data:`MAX_LINK_LENGTH` characters;
- the host is ASCII (an international domain in its punycode ``xn--`` form), and no character is a
  Unicode control or bidirectional-formatting one (an RTL override makes a link read as another).

Homoglyph hosts: a non-ASCII host (``shop.exаmple`` with a Cyrillic ``а``) is refused, so a look-alike
must show itself as ``xn--`` punycode, as browsers show it. An all-ASCII look-alike (``shop-example.com``)
cannot be told from a real domain by rule: a kiosk or app that shows links to shoppers should set
``LinkPolicy.allowed_domains`` to the retailer's own domains.

UTM parameters (``utm_source``, ``utm_medium``, ``utm_campaign``, ``utm_content`` = the product
ID) tell the retailer's analytics that a sale came from the try-on; every other query parameter
of the link is kept as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from arlens.errors import InputError

_FORBIDDEN_CHARS = re.compile(r"[\s\x00-\x1f\x7f\\]")
#: C1 controls, the bidirectional embedding/override/isolate marks, line and paragraph separators, lone
#: surrogates: never part of a link, and able to make one display as another.
_INVISIBLE_CHARS = re.compile("[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
#: The longest buy link taken: the 2,048 characters browsers and sitemaps reliably handle, rounded down, so
#: that with its UTM tags it still fits a QR code (2,331 bytes at error-correction level M).
MAX_LINK_LENGTH = 2000


def _normalise_domain(domain: str) -> str:
    return domain.strip().lower().rstrip(".")


@dataclass(frozen=True)
class LinkPolicy:
    """Which buy links a catalog accepts.

    Attributes:
        allow_http: also accept plain ``http`` links (off by default: a kiosk should not send
            shoppers over an unencrypted connection).
        allowed_domains: if not empty, the link's host must be one of these domains or a
            subdomain of one (``shop.example`` allows ``www.shop.example``), compared without case.
    """

    allow_http: bool = False
    allowed_domains: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        domains = tuple(_normalise_domain(d) for d in self.allowed_domains)
        if any(not d or "/" in d or ":" in d for d in domains):
            raise InputError(f"expected bare domain names in allowed_domains, got {self.allowed_domains!r}")
        object.__setattr__(self, "allowed_domains", domains)

    def check(self, url: str) -> str:
        """Return ``url`` stripped of surrounding whitespace if it is an acceptable buy link.

        Raises:
            InputError: naming what is wrong with the link.
        """
        return validate_link(url, allow_http=self.allow_http, allowed_domains=self.allowed_domains)


def validate_link(
    url: str,
    *,
    allow_http: bool = False,
    allowed_domains: tuple[str, ...] | list[str] = (),
    max_length: int | None = MAX_LINK_LENGTH,
) -> str:
    """Check a buy link against the rules in the module docstring; return it stripped.

    ``max_length`` bounds the link as a feed gives it; a link with arlens' UTM tags added may be longer
    (``None``: no bound).

    Raises:
        InputError: the link is not a string, is too long, has a refused scheme, no host or a malformed
            one (``https://[evil.example]/``), a non-ASCII host, credentials, forbidden characters, a bad
            port, or a host outside ``allowed_domains``.
    """
    if not isinstance(url, str):
        raise InputError(f"expected a link as a string, got {type(url).__name__}")
    url = url.strip()
    if not url:
        raise InputError("expected a link, got an empty string")
    if max_length is not None and len(url) > max_length:
        raise InputError(f"expected a link of at most {max_length} characters, got {len(url)}")
    if _FORBIDDEN_CHARS.search(url) or _INVISIBLE_CHARS.search(url):
        raise InputError(f"expected a link without whitespace, control characters, bidirectional-formatting "
                         f"characters or backslashes, got {url!r}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # urllib: "Invalid IPv6 URL" for https://[evil.example]/ and the like
        raise InputError(f"expected a link with a valid host, got {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_http else ("https",)
    if scheme not in allowed:
        shown = f"'{scheme}:'" if scheme else "no scheme"
        raise InputError(f"expected an {' or '.join(allowed)} link, got {shown} in {url!r}")
    if parts.username is not None or parts.password is not None:
        raise InputError(f"expected a link without credentials (user:password@), got {url!r}")
    if not host:
        raise InputError(f"expected a link with a host, got {url!r}")
    if not host.isascii():
        raise InputError(f"expected an ASCII host name (an international domain as punycode, xn--...), got host "
                         f"{host!r} in {url!r}")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise InputError(f"expected a link with a valid port, got {url!r}") from exc
    if allowed_domains:
        host = _normalise_domain(host)
        domains = [_normalise_domain(d) for d in allowed_domains]
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise InputError(f"expected a link to one of {', '.join(domains)} (or a subdomain), got host {host!r}")
    return url


@dataclass(frozen=True)
class UtmTags:
    """UTM parameters added to buy links so a sale can be traced back to the try-on.

    Attributes:
        source: ``utm_source``, who sent the shopper.
        medium: ``utm_medium``, the channel (``"ar_tryon"``; use ``"qr"`` for kiosk codes).
        campaign: ``utm_campaign``, or ``None`` to leave it out.
        content_is_product_id: set ``utm_content`` to the product ID.
        override: replace ``utm_*`` parameters already in the link (the try-on is what sent the
            shopper, so by default its tags win); with ``False`` existing ones are kept.
    """

    source: str = "arlens"
    medium: str = "ar_tryon"
    campaign: str | None = None
    content_is_product_id: bool = True
    override: bool = True
    extra: tuple[tuple[str, str], ...] = field(default=())

    def params(self, product_id: str | None) -> dict[str, str]:
        """The parameters this tagging adds, in a stable order."""
        out = {"utm_source": self.source, "utm_medium": self.medium}
        if self.campaign:
            out["utm_campaign"] = self.campaign
        if self.content_is_product_id and product_id:
            out["utm_content"] = product_id
        out.update(self.extra)
        return out

    def apply(self, url: str, product_id: str | None = None) -> str:
        """Return ``url`` with the UTM parameters added; other query parameters are kept in order."""
        return add_utm(url, self.params(product_id), override=self.override)


def add_utm(url: str, params: dict[str, str], *, override: bool = True) -> str:
    """Merge ``params`` into the query of ``url``, keeping its other parameters and fragment.

    With ``override`` a parameter already in the link is replaced in place; without it the
    link's own value is kept.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    if override:
        query = [(k, params[k]) if k in params else (k, v) for k, v in query]
    query += [(k, v) for k, v in params.items() if k not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))
