"""QR codes of buy links, as images to overlay on a kiosk frame.

Encoding is done by `segno <https://segno.readthedocs.io>`_ (a maintained, pure-Python QR
encoder); this module only turns its module matrix into an arlens frame: ``uint8`` BGR,
``H x W x 3``, square, with the quiet zone (light border) the QR standard asks for.
"""

from __future__ import annotations

import numpy as np
import segno

from arlens.catalog.links import UtmTags, validate_link
from arlens.catalog.product import Product
from arlens.errors import InputError

QR_UTM = UtmTags(medium="qr")
"""Default tags for QR buy links: ``utm_medium=qr`` tells kiosk scans from in-app clicks."""

_ERROR_LEVELS = ("l", "m", "q", "h")


def qr_image(
    data: str,
    *,
    module_px: int = 8,
    quiet_zone: int = 4,
    error: str = "m",
    dark: tuple[int, int, int] = (0, 0, 0),
    light: tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """Render ``data`` as a QR code image.

    Args:
        data: the text to encode (usually a buy link).
        module_px: pixels per QR module (>= 1); 6 to 10 scans well from a phone at arm's length.
        quiet_zone: light border in modules; the standard asks for 4, fewer may not scan.
        error: error-correction level ``"l"``, ``"m"``, ``"q"`` or ``"h"``.
        dark, light: BGR colours of dark and light modules; keep strong contrast, dark on light.

    Returns:
        ``uint8`` array of shape ``(S, S, 3)``, BGR, where ``S = (modules + 2 * quiet_zone) * module_px``.

    Raises:
        InputError: empty data, a bad size, level or colour, or data too long for a QR code.
    """
    if not isinstance(data, str) or not data:
        raise InputError(f"expected non-empty text to encode, got {data!r}")
    if not isinstance(module_px, int) or not 1 <= module_px <= 64:
        raise InputError(f"expected module_px between 1 and 64, got {module_px!r}")
    if not isinstance(quiet_zone, int) or not 0 <= quiet_zone <= 16:
        raise InputError(f"expected quiet_zone between 0 and 16 modules, got {quiet_zone!r}")
    if not isinstance(error, str) or error.lower() not in _ERROR_LEVELS:
        raise InputError(f"expected error level one of {', '.join(_ERROR_LEVELS)}, got {error!r}")
    for name, colour in (("dark", dark), ("light", light)):
        if len(colour) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in colour):
            raise InputError(f"expected {name} as three ints 0..255 (BGR), got {colour!r}")
    try:
        code = segno.make_qr(data, error=error.lower(), boost_error=False)
    except segno.DataOverflowError as exc:
        raise InputError(f"expected data that fits in a QR code, got {len(data)} characters: {exc}") from None
    modules = np.array([list(row) for row in code.matrix], dtype=bool)
    modules = np.pad(modules, quiet_zone, constant_values=False)
    pixels = np.repeat(np.repeat(modules, module_px, axis=0), module_px, axis=1)
    return np.where(pixels[..., None], np.array(dark, np.uint8), np.array(light, np.uint8))


def product_qr(
    product: Product, *, tags: UtmTags | None = QR_UTM, allow_http: bool = False, **options: object
) -> np.ndarray:
    """A QR code image of a product's buy link, tagged for attribution.

    Args:
        product: the product whose :attr:`~arlens.catalog.product.Product.link` to encode.
        tags: UTM tags (default ``utm_medium=qr``, ``utm_content`` = product ID); ``None`` for the bare link.
        allow_http: accept an ``http`` link (a kiosk QR is https only by default).
        options: passed to :func:`qr_image` (``module_px``, ``quiet_zone``, ``error``, colours).

    Raises:
        InputError: the link breaks the link rules, or an option is bad.
    """
    link = validate_link(product.buy_link(tags), allow_http=allow_http, max_length=None)  # the link was bounded
    return qr_image(link, **options)  # type: ignore[arg-type]
