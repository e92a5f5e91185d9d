"""A certificate of hours served, as PDF (docs/volunteers.md, "Service hours, approval and points").

Drawn by reportlab with the CID font ``STSong-Light`` (as ``linli/voting/pdf.py`` does: nothing
embedded, a few kilobytes). It counts **approved** records only: pending, rejected and open
ones are left out. Hours are shown by activity type, for one year or for all years. It is made
for the volunteer themself (their own page), so it carries their full name.
"""

from __future__ import annotations

import datetime as dt
import io

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .models import ServiceRecord
from .skills import ACTIVITY_TYPES

CJK = "STSong-Light"
PAGE_W, PAGE_H = A4
MARGIN = 56.0


def _fonts() -> None:
    if CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def hours_by_type(volunteer, year: int | None = None) -> list[tuple[str, int, int]]:
    """``[(activity type label, minutes, services)]`` of approved records, most minutes first."""
    qs = ServiceRecord.objects.filter(volunteer=volunteer, status="approved")
    if year:
        start = timezone.make_aware(dt.datetime(year, 1, 1))
        qs = qs.filter(check_in_at__gte=start, check_in_at__lt=start.replace(year=year + 1))
    labels = dict(ACTIVITY_TYPES)
    rows = qs.values("activity__activity_type").annotate(minutes=Sum("minutes"), services=Count("id"))
    out = [(str(labels.get(r["activity__activity_type"], r["activity__activity_type"])), int(r["minutes"] or 0),
            r["services"]) for r in rows]
    return sorted(out, key=lambda row: (-row[1], row[0]))


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def certificate_pdf(volunteer, year: int | None = None) -> bytes:
    """The certificate's bytes (one A4 page)."""
    _fonts()
    rows = hours_by_type(volunteer, year)
    total = sum(m for _label, m, _n in rows)
    resident = volunteer.resident
    community = volunteer.community
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(_("Certificate of volunteer service"))
    y = PAGE_H - MARGIN - 20
    c.setFont(CJK, 24)
    c.drawCentredString(PAGE_W / 2, y, _("Certificate of volunteer service"))
    y -= 48
    c.setFont(CJK, 14)
    period = str(year) if year else _("all years")
    intro = _("%(name)s served as a volunteer of %(community)s (%(period)s):") % {
        "name": resident.name.reveal(), "community": community.name, "period": period}
    c.drawString(MARGIN, y, intro)
    y -= 36
    c.setFont(CJK, 12)
    c.drawString(MARGIN, y, _("Kind of help"))
    c.drawRightString(PAGE_W - MARGIN - 110, y, _("Services"))
    c.drawRightString(PAGE_W - MARGIN, y, _("Hours"))
    y -= 6
    c.line(MARGIN, y, PAGE_W - MARGIN, y)
    y -= 20
    for label, minutes, services in rows:
        c.drawString(MARGIN, y, label)
        c.drawRightString(PAGE_W - MARGIN - 110, y, str(services))
        c.drawRightString(PAGE_W - MARGIN, y, _hours(minutes))
        y -= 20
        if y < MARGIN + 120:
            c.showPage()
            c.setFont(CJK, 12)
            y = PAGE_H - MARGIN
    c.line(MARGIN, y + 14, PAGE_W - MARGIN, y + 14)
    c.setFont(CJK, 14)
    c.drawString(MARGIN, y - 6, _("Total approved hours: %(hours)s") % {"hours": _hours(total)})
    y -= 48
    c.setFont(CJK, 10)
    c.drawString(MARGIN, y, _("Only hours approved by the community are counted."))
    y -= 16
    c.drawString(MARGIN, y, _("Issued on %(date)s by %(community)s.") % {
        "date": timezone.localdate().isoformat(), "community": community.name})
    c.showPage()
    c.save()
    return buffer.getvalue()
