"""Printable PDFs of a vote: the paper ballot sheets and the A4 poster (docs/voting.md).

Drawn by reportlab (a library, not hand-made PDF). Chinese text uses the Adobe CID font
``STSong-Light`` (``UnicodeCIDFont``): PDF readers bring its glyphs, so nothing is embedded
and a sheet stays a few kilobytes. Codes print in Courier Bold, where 0/O and 1/I never
meet anyway (the code alphabet has none of them: ``linli.voting.paper.ALPHABET``). QR codes
are made by segno and drawn as vector squares, sharp at any printer's resolution.

Both functions are pure over what they are given (no database writes) and return the PDF's
bytes; the views send them as downloads.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import segno
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from linli.core.errors import InvalidInput

CJK = "STSong-Light"
CODE_FONT = "Courier-Bold"
PAGE_W, PAGE_H = A4
MARGIN = 42.0
# Body type sizes tried for a sheet, largest first: 16 pt reads without glasses for most
# older voters; a long ballot (a fund call of many projects) steps down until it fits on
# one side of A4. Below the last size the sheet is refused rather than printed unreadable.
SHEET_SIZES = (16, 15, 14, 13, 12, 11, 10)
BOX = 1.25  # the side of a box to mark, times the type size: 7 mm at 16 pt, a shaky hand hits it
FOOTER_H = 170.0  # the code, its QR and the tear-off strip
QR_SIDE = 96.0


def _fonts() -> None:
    if CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def group_code(code: str) -> str:
    """``ABCDEFGHJK`` → ``ABC-DEF-GHJK``: three short groups to read out and type."""
    return f"{code[:3]}-{code[3:6]}-{code[6:]}" if len(code) == 10 else code


# Characters STSong-Light's CMap (UniGB-UCS2-H) has no glyph for, and what prints instead: the
# middle dot of "Y社区 · title" and the bullet become the katakana middle dot GB 2312 carries.
_SUBSTITUTES = str.maketrans({"\u00b7": "\u30fb", "\u2022": "\u30fb", "\u2027": "\u30fb"})


def printable(text) -> str:
    return str(text).translate(_SUBSTITUTES)


_TOKENS = re.compile(r" |[\u2e80-\U0010ffff]|[^ \u2e80-\U0010ffff]+")


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``: Chinese breaks between any two characters,
    Latin words at spaces (a word longer than a line is cut); ``\\n`` starts a new line."""
    _fonts()

    def fits(s: str) -> bool:
        return pdfmetrics.stringWidth(s, font, size) <= width

    lines: list[str] = []
    for paragraph in printable(text).split("\n"):
        line = ""
        for token in _TOKENS.findall(paragraph):
            if fits(line + token):
                line += token
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = "" if token == " " else token
            while not fits(line):  # one word wider than the line
                cut = len(line) - 1
                while cut > 1 and not fits(line[:cut]):
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def draw_qr(c: canvas.Canvas, data: str, x: float, y: float, side: float) -> None:
    """The QR code of ``data`` as black squares in the box (x, y, side), quiet zone included."""
    qr = segno.make(data, error="m", micro=False, boost_error=False)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    module = side / len(rows)
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    c.setStrokeColorRGB(0, 0, 0)
    c.setLineWidth(0)
    for r, row in enumerate(rows):
        top = y + side - (r + 1) * module
        start = None
        for col, dark in enumerate(row + [0]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                c.rect(x + start * module, top, (col - start) * module, module, stroke=0, fill=1)
                start = None
    c.restoreState()


# -- the ballot sheet ---------------------------------------------------------------------


@dataclass
class _Sheet:
    """A vote's questions, read once for all its sheets."""

    header: str
    title: str
    kind: str
    questions: list  # [(text, hint, [(number, label, cost_fen)])]
    rating_heads: list[str]


def _money(fen: int) -> str:
    yuan, cents = divmod(int(fen), 100)
    return f"¥{yuan:,}.{cents:02d}" if cents else f"¥{yuan:,}"


def _hint(vote, count: int) -> str:
    if vote.kind == "choice":
        return _("Mark one box.")
    if vote.kind == "rating":
        return ""
    low = vote.min_choices or 0
    high = vote.max_choices
    parts = []
    if high and low:
        parts.append(_("Mark between %(low)d and %(high)d boxes.") % {"low": low, "high": high})
    elif high:
        parts.append(ngettext("Mark at most %(high)d box.", "Mark at most %(high)d boxes.", high)
                     % {"high": high})
    elif low:
        parts.append(ngettext("Mark at least %(low)d box.", "Mark at least %(low)d boxes.", low)
                     % {"low": low})
    else:
        parts.append(_("Mark as many boxes as you support."))
    if vote.budget_fen:
        parts.append(_("The costs of what you mark may add up to %(budget)s at most.")
                     % {"budget": _money(vote.budget_fen)})
    return " ".join(parts)


def _read(vote, *, booth=None, grid_name: str = "") -> _Sheet:
    process = vote.process
    header = " · ".join(x for x in (process.community.name, process.title, grid_name,
                                    booth.name if booth else "") if x)
    questions = []
    for q in vote.questions.prefetch_related("options").order_by("order", "pk"):
        options = list(q.options.all())
        questions.append((q.text, _hint(vote, len(options)),
                          [(n, o.label, o.cost_fen) for n, o in enumerate(options, start=1)]))
    heads = [_("Satisfied"), _("Basically satisfied"), _("Unsatisfied")]
    return _Sheet(header=header, title=vote.title, kind=vote.kind, questions=questions, rating_heads=heads)


class _Layout:
    """Draws (or, with ``dry``, only measures) the question part of a sheet at one size."""

    def __init__(self, c: canvas.Canvas | None, sheet: _Sheet, size: float):
        self.c = c
        self.sheet = sheet
        self.size = size
        self.lead = size * 1.35
        self.side = size * BOX
        self.width = PAGE_W - 2 * MARGIN

    def text(self, x: float, y: float, line: str, size: float | None = None, font: str = CJK) -> None:
        if self.c is not None:
            self.c.setFont(font, size or self.size)
            self.c.drawString(x, y, line)

    def box(self, x: float, y: float) -> None:
        if self.c is not None:
            self.c.setLineWidth(1.4)
            self.c.rect(x, y, self.side, self.side, stroke=1, fill=0)

    def questions(self, top: float) -> float:
        """Draws from ``top`` down; returns the y where it ended."""
        y = top
        s = self.size
        if self.sheet.kind == "rating":
            return self._rating(y)
        for qn, (text, hint, options) in enumerate(self.sheet.questions, start=1):
            for line in wrap(f"{qn}. {text}", CJK, s + 1, self.width):
                y -= self.lead + 1
                self.text(MARGIN, y, line, s + 1)
            if hint:
                for line in wrap(hint, CJK, s - 2, self.width):
                    y -= (s - 2) * 1.35
                    self.text(MARGIN, y, line, s - 2)
            y -= s * 0.4
            box = self.side
            indent = MARGIN + box + 12
            for number, label, cost in options:
                label_text = f"{number}. {label}" + (f"  {_money(cost)}" if cost else "")
                lines = wrap(label_text, CJK, s, self.width - box - 12)
                height = max(box + 5, len(lines) * self.lead + 5)
                y -= height
                self.box(MARGIN, y + height - box - 3)
                for i, line in enumerate(lines):
                    self.text(indent, y + height - 3 - (i + 1) * self.lead + (self.lead - s) / 2 + 3, line)
            y -= s * 0.8
        return y

    def _rating(self, y: float) -> float:
        s = self.size
        col = 86.0
        text_w = self.width - 3 * col
        heads = self.sheet.rating_heads
        y -= self.lead * 2
        for i, head in enumerate(heads):
            for j, line in enumerate(wrap(head, CJK, s - 3, col - 4)):
                self.text(MARGIN + text_w + i * col + 2, y + self.lead - j * (s - 1), line, s - 3)
        for qn, (text, _hint_, _options) in enumerate(self.sheet.questions, start=1):
            lines = wrap(f"{qn}. {text}", CJK, s, text_w - 8)
            height = max(self.side + 10, len(lines) * self.lead + 8)
            y -= height
            for i, line in enumerate(lines):
                self.text(MARGIN, y + height - (i + 1) * self.lead, line)
            for i in range(3):
                self.box(MARGIN + text_w + i * col + (col - self.side) / 2, y + height - self.side - 4)
            if self.c is not None:
                self.c.setLineWidth(0.3)
                self.c.line(MARGIN, y, PAGE_W - MARGIN, y)
        return y - s * 0.8


def _head(c: canvas.Canvas, sheet: _Sheet) -> float:
    y = PAGE_H - MARGIN
    c.setFont(CJK, 11)
    for line in wrap(sheet.header, CJK, 11, PAGE_W - 2 * MARGIN):
        y -= 14
        c.drawString(MARGIN, y, line)
    for line in wrap(sheet.title, CJK, 22, PAGE_W - 2 * MARGIN):
        y -= 28
        c.setFont(CJK, 22)
        c.drawString(MARGIN, y, line)
    y -= 20
    c.setFont(CJK, 12)
    how = (_("For each criterion, mark one box with a tick or a cross.") if sheet.kind == "rating"
           else _("Mark the box in front of your choice with a tick or a cross."))
    for line in wrap(how + " " + _("Do not write your name on this sheet."), CJK, 12, PAGE_W - 2 * MARGIN):
        c.drawString(MARGIN, y, line)
        y -= 15
    return y - 4


def _head_height(sheet: _Sheet) -> float:
    c = canvas.Canvas(io.BytesIO(), pagesize=A4)
    return PAGE_H - _head(c, sheet)


def _footer(c: canvas.Canvas, code: str, *, check_url: str, place: str) -> None:
    grouped = group_code(code)
    top = MARGIN + FOOTER_H
    c.setLineWidth(0.8)
    c.line(MARGIN, top, PAGE_W - MARGIN, top)
    c.setFont(CJK, 11)
    c.drawString(MARGIN, top - 18, _("Sheet code"))
    c.setFont(CODE_FONT, 24)
    c.drawString(MARGIN, top - 46, grouped)
    c.setFont(CJK, 10)
    returns = (_("Put the sheet in the ballot box at %(place)s.") % {"place": place} if place
               else _("Put the sheet in the ballot box at the service centre."))
    y = top - 64
    for line in wrap(returns, CJK, 10, PAGE_W - 2 * MARGIN - QR_SIDE - 16):
        c.drawString(MARGIN, y, line)
        y -= 13
    draw_qr(c, code, PAGE_W - MARGIN - QR_SIDE, top - QR_SIDE - 4, QR_SIDE)
    # The strip the voter tears off and keeps: the same code, to check the ballot was counted.
    strip = MARGIN + 48
    c.saveState()
    c.setDash(4, 3)
    c.line(MARGIN, strip, PAGE_W - MARGIN - QR_SIDE - 12, strip)
    c.restoreState()
    c.setFont(CJK, 9)
    c.drawString(MARGIN, strip + 4, _("Tear off and keep this strip"))
    c.setFont(CODE_FONT, 14)
    c.drawString(MARGIN, strip - 18, grouped)
    c.setFont(CJK, 9)
    keep = (_("With this code you can check that your ballot was counted: %(url)s") % {"url": check_url}
            if check_url else _("With this code you can check that your ballot was counted."))
    y = strip - 32
    for line in wrap(keep, CJK, 9, PAGE_W - 2 * MARGIN - QR_SIDE - 16)[:2]:
        c.drawString(MARGIN, y, line)
        y -= 11


def sheet_size(vote, *, sheet: _Sheet | None = None) -> float:
    """The largest body size at which the vote's questions fit on one sheet;
    ``InvalidInput`` when even the smallest does not (split the vote, or print fewer options)."""
    sheet = sheet or _read(vote)
    room = PAGE_H - MARGIN - _head_height(sheet) - (MARGIN + FOOTER_H) - 8
    for size in SHEET_SIZES:
        used = room - _Layout(None, sheet, size).questions(room)
        if used <= room:
            return size
    raise InvalidInput(_("This vote has too many questions and options to print on one sheet."),
                       code="too_long_to_print")


def ballot_sheets(vote, codes: list[str], *, booth=None, grid_name: str = "", check_url: str = "") -> bytes:
    """One A4 sheet per code: the vote's questions with boxes to mark, in large type, and at
    the foot the code in letters and as a QR code, with a strip the voter keeps.

    ``booth``: the booth whose ballot box takes the sheets (printed); ``grid_name``: the
    courtyard the batch is for, printed on the sheet where the vote counts per courtyard;
    ``check_url``: the page where a voter checks their code (printed on the strip)."""
    _fonts()
    sheet = _read(vote, booth=booth, grid_name=grid_name)
    size = sheet_size(vote, sheet=sheet)
    place = (booth.place or booth.name) if booth else ""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(vote.title)
    c.setCreator("Linli")
    for code in codes:
        top = _head(c, sheet)
        _Layout(c, sheet, size).questions(top)
        _footer(c, code, check_url=check_url, place=place)
        c.showPage()
    c.save()
    return buf.getvalue()


# -- the poster ---------------------------------------------------------------------------

POSTER_SIZES = (18, 16, 14, 12)
POSTER_QR = 200.0


def poster(title: str, lines: list[str], url: str) -> bytes:
    """An A4 poster for a notice board: the title in large type, the lines, and a QR code
    of ``url`` with the address printed under it. Long text steps down in size; what still
    does not fit ends with "…" (the page behind the QR code has it all)."""
    _fonts()
    width = PAGE_W - 2 * MARGIN
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(title)
    c.setCreator("Linli")
    y = PAGE_H - MARGIN
    for line in wrap(title, CJK, 30, width):
        y -= 38
        c.setFont(CJK, 30)
        c.drawString(MARGIN, y, line)
    y -= 18
    floor = MARGIN + POSTER_QR + 40
    room = y - floor
    for size in POSTER_SIZES:
        wrapped = [w for text in lines for w in (wrap(text, CJK, size, width) + [""])]
        if len(wrapped) * size * 1.45 <= room:
            break
    else:
        fits = max(int(room // (size * 1.45)) - 1, 0)
        wrapped = wrapped[:fits] + ["…"]
    c.setFont(CJK, size)
    for line in wrapped:
        y -= size * 1.45
        if line:
            c.drawString(MARGIN, y, line)
    draw_qr(c, url, (PAGE_W - POSTER_QR) / 2, MARGIN + 34, POSTER_QR)
    c.setFont("Helvetica", 10)
    for i, line in enumerate(wrap(url, "Helvetica", 10, width)[:2]):
        c.drawCentredString(PAGE_W / 2, MARGIN + 20 - i * 12, line)
    c.showPage()
    c.save()
    return buf.getvalue()
