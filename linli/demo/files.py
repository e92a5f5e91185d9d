"""Files for the demo's board and books: one-page PDFs and drawn pictures, made here.

- :func:`pdf` writes a minimal, valid PDF 1.4 document (one A4 page, Helvetica — a font every
  PDF reader has built in, so nothing is embedded). A built-in font has no Chinese glyphs, so a
  demo PDF carries ASCII only: codes, dates, figures; the entry beside it has the words.
- :func:`meeting_photo` and :func:`receipt_photo` draw plain pictures with Pillow (a meeting
  room with its sign and table, a till receipt on a desk); :func:`chart_png` a bar chart. No
  photo is real and nothing is downloaded. The pictures' text is ASCII too, in Pillow's own
  font, so they look the same on every machine.

Everything is a function of its arguments (no clock, no randomness beyond the ``random.Random``
a caller passes), so a demo seed gives the same bytes.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFont

A4 = (595, 842)  # points


def _escape(text: str) -> str:
    text = text.encode("ascii", "replace").decode("ascii")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(lines: list[str], *, title: str = "", size: int = 10) -> bytes:
    """A one-page A4 PDF 1.4 of ``lines`` (ASCII; anything else becomes '?') in Courier under a
    Helvetica-Bold ``title``: a fixed-width font keeps a table's columns. At most 60 lines."""
    leading = size + 3
    ops = ["BT", f"/F2 14 Tf 56 {A4[1] - 64} Td ({_escape(title)}) Tj", "ET", "BT",
           f"/F1 {size} Tf {leading} TL 56 {A4[1] - 96} Td"]
    for line in lines[:60]:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
         "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>").encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode("ascii") + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").encode("ascii")
    return bytes(out)


def _font():
    return ImageFont.load_default()


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80, optimize=False)
    return buf.getvalue()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def meeting_photo(rng: random.Random, *, sign: str, people: int) -> bytes:
    """A drawn meeting room (JPEG, 640×420): the sign on the wall, a table, ``people`` heads round it."""
    wall = rng.choice(((236, 230, 214), (226, 232, 224), (232, 226, 232)))
    im = Image.new("RGB", (640, 420), wall)
    d = ImageDraw.Draw(im)
    d.rectangle((0, 300, 640, 420), fill=(150, 116, 84))                      # floor
    d.rectangle((150, 30, 490, 92), fill=(178, 34, 34))                       # the red banner
    d.text((170, 44), sign[:48], fill=(255, 236, 160), font=_font())
    d.text((170, 66), "MEETING IN PROGRESS", fill=(255, 236, 160), font=_font())
    d.rectangle((540, 120, 610, 300), fill=(120, 86, 56))                     # the door
    d.rectangle((40, 120, 120, 210), fill=(190, 214, 236), outline=(90, 90, 90), width=3)  # window
    d.rectangle((120, 250, 520, 300), fill=(110, 70, 40))                     # the table
    seats = max(2, min(people, 14))
    for i in range(seats):
        x = 140 + i * (360 // seats) + rng.randint(-4, 4)
        shirt = rng.choice(((40, 60, 120), (200, 200, 200), (90, 90, 90), (140, 40, 40), (60, 110, 70)))
        d.rectangle((x, 212, x + 22, 252), fill=shirt)
        d.ellipse((x + 1, 190, x + 21, 212), fill=(226, 190, 160))
        d.ellipse((x + 1, 188, x + 21, 200), fill=(30, 30, 30))
    for i in range(seats // 2):                                              # papers and cups
        x = 150 + i * (700 // seats)
        d.rectangle((x, 262, x + 26, 280), fill=(250, 250, 250))
        d.rectangle((x + 32, 258, x + 40, 272), fill=(240, 240, 255))
    return _jpeg(im)


def chart_png(title: str, labels: list[str], values: list[int]) -> bytes:
    """A bar chart (PNG, 640×400) of ``values`` with ASCII ``labels``."""
    im = Image.new("RGB", (640, 400), (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.text((20, 14), title[:80], fill=(20, 20, 20), font=_font())
    top = max(values) if values and max(values) > 0 else 1
    n = max(1, len(values))
    width = 560 // n
    d.line((50, 360, 620, 360), fill=(60, 60, 60), width=2)
    d.line((50, 40, 50, 360), fill=(60, 60, 60), width=2)
    for i, (label, value) in enumerate(zip(labels, values)):
        h = int(300 * value / top)
        x = 60 + i * width
        d.rectangle((x, 360 - h, x + width - 10, 360), fill=(46, 110, 160))
        d.text((x, 366), label[:8], fill=(20, 20, 20), font=_font())
        d.text((x, 346 - h), str(value), fill=(20, 20, 20), font=_font())
    return _png(im)


def receipt_photo(rng: random.Random, *, number: str, date: str, amount_fen: int, code: str) -> bytes:
    """A drawn till receipt lying on a desk (JPEG, 480×640), its figures in ASCII."""
    im = Image.new("RGB", (480, 640), rng.choice(((120, 88, 60), (96, 96, 104), (140, 110, 80))))
    d = ImageDraw.Draw(im)
    tilt = rng.randint(-12, 12)
    d.polygon([(110 + tilt, 40), (370 + tilt, 40 - tilt // 3), (372, 600), (108, 600 + tilt // 3)],
              fill=(248, 248, 240))
    y = 70
    for line in ("INVOICE / RECEIPT", f"No. {number}", f"Date {date}", f"Payee ref {code}", "-" * 26,
                 f"Amount CNY {amount_fen // 100:,}.{amount_fen % 100:02d}", "-" * 26, "PAID", "", "[seal]"):
        d.text((140, y), line, fill=(40, 40, 40), font=_font())
        y += 24
    d.ellipse((250, y - 40, 330, y + 40), outline=(200, 30, 30), width=4)
    return _jpeg(im)


__all__ = ["pdf", "meeting_photo", "chart_png", "receipt_photo"]
