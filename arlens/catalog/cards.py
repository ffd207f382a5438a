"""A product's facts as HTML pieces, for the pages that show product cards (``arlens demo``'s contact-sheet
page and ``arlens preview``'s gallery): the price (a sale's regular price struck through) and the
definition-list rows (kind, shade swatch, finish, frame width, product ID). Every value is escaped."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arlens.catalog.product import Product


def price_html(p: Product) -> str:
    """The current price, and on sale the regular price in ``<s>``."""
    e = html.escape
    text = e(str(p.current_price))
    if p.sale_price is not None:
        text += f"<s>{e(str(p.price))}</s>"
    return text


def detail_rows(p: Product) -> list[tuple[str, str]]:
    """(label, HTML) rows of what a card lists about ``p``: kind, shade (a swatch), finish, frame width, ID."""
    e = html.escape
    rows = [("Kind", e(p.kind.value.replace("_", " ") if p.kind else ""))]
    if p.color:
        name = f" {e(p.color_name)}" if p.color_name else ""
        rows.append(("Shade", f'<span class="swatch" style="background:{e(p.color)}"></span>{e(p.color)}{name}'))
    if p.finish:
        rows.append(("Finish", e(p.finish.value)))
    if p.frame_width_mm:
        rows.append(("Frame width", f"{p.frame_width_mm:g} mm"))
    rows.append(("Product ID", e(p.id)))
    return rows
