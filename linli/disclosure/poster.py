"""The A4 poster of one entry for the courtyard notice board: the QR code and the short text.

The QR code is drawn here, as inline SVG, by segno (pure Python): no image service outside
the installation ever learns which entry a poster points at, and the code prints sharp at
any size. It encodes the absolute URL of the entry page, where the browser check runs
(``disclosure/_verify.html``) — the entry and its proof, one scan away.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno

# Error correction M (15 % of the code may be lost): a poster behind glass gets sun, rain
# and pins; a code of an entry URL stays small enough (version 3–5) to scan from a phone.
QR_ERROR = "m"

# A body longer than this is summarised on the poster ("full text at …"): an A4 sheet in
# the large type a courtyard board needs holds about this many characters of Chinese.
POSTER_BODY_LIMIT = 600
POSTER_BODY_LINES = 24
# A finance table (a monthly statement: about 40 rows of up to 115 columns) prints whole in the
# poster's small fixed-width type (poster.css, ``pre.body.table``); cutting it after a few rows,
# as the character limit above would, leaves a statement without its totals.
POSTER_TABLE_LIMIT = 6000
POSTER_TABLE_LINES = 44


def qr_code(url: str) -> segno.QRCode:
    """The QR code of ``url`` (never a Micro QR: phones' camera apps do not read those)."""
    return segno.make(url, error=QR_ERROR, micro=False, boost_error=False)


def qr_svg(url: str, *, title: str = "") -> str:
    """The QR code of ``url`` as an SVG element for HTML (no XML declaration, sized by CSS
    through its viewBox, four modules of quiet zone as the standard asks)."""
    return qr_code(url).svg_inline(border=4, omitsize=True, title=title or None, svgclass="qr",
                                   lineclass=None, dark="#000", light="#fff")


@dataclass(frozen=True)
class PosterText:
    body: str
    shortened: bool


def poster_text(body: str, *, limit: int | None = None, lines: int | None = None,
                table: bool = False) -> PosterText:
    """The body as the poster prints it: whole if it fits on the sheet, else its first lines
    up to ``limit`` characters (cut at a line end where one is near) and ``shortened``. A
    ``table`` (a finance body, printed fixed-width in small type) gets the table's limits."""
    if limit is None:
        limit = POSTER_TABLE_LIMIT if table else POSTER_BODY_LIMIT
    if lines is None:
        lines = POSTER_TABLE_LINES if table else POSTER_BODY_LINES
    text = body.strip("\n")
    kept = text.split("\n")
    if len(text) <= limit and len(kept) <= lines:
        return PosterText(text, False)
    cut = "\n".join(kept[:lines])[:limit]
    newline = cut.rfind("\n")
    if newline > limit // 2:
        cut = cut[:newline]
    return PosterText(cut.rstrip() + "\n…", True)
