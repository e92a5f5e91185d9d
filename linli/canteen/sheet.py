"""The printable daily delivery sheet (PDF) of a community's canteens (docs/canteen.md, "Delivery").

Drawn by reportlab with the CID font ``STSong-Light`` (as ``linli/volunteers/certificate.py``
does: nothing embedded). Per meal of the day and per round: the stops in walking order, each with
its number, the resident's **masked** name (王*华), the door, portions, the meal's dishes with
their tags (soft food, low salt …) and a tick box; then the meal's deliveries not yet on a round.
No phone number is on it. It is for the canteen's staff and the office only (the view checks).
"""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from . import delivery
from .menus import DISH_TAGS
from .models import Meal, Order

CJK = "STSong-Light"
PAGE_W, PAGE_H = A4
MARGIN = 40.0
LINE = 18.0
BOX = 11.0


def _fonts() -> None:
    if CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def _tag_labels() -> dict:
    return {code: str(label) for code, label in DISH_TAGS.items()}


def dishes_line(meal: Meal, labels: dict) -> str:
    parts = []
    for item in meal.items.all():
        tags = [labels.get(t, t) for t in (item.dish.tags or [])]
        parts.append(f"{item.dish.name}（{'、'.join(tags)}）" if tags else item.dish.name)
    return "、".join(parts)


def sheet_rows(canteens, day: dt.date) -> list[dict]:
    """``[{"meal", "title", "dishes", "rounds": [{"round", "label", "stops": [{"n", "name", "door",
    "quantity", "status"}]}], "unplanned": [...]}]`` for the day's published meals."""
    labels = _tag_labels()
    meals = (Meal.objects.filter(canteen__in=canteens, day=day, status=Meal.Status.PUBLISHED)
             .select_related("canteen").prefetch_related("items__dish").order_by("starts_at", "canteen_id", "pk"))
    out = []
    for meal in meals:
        rounds = []
        for round_ in meal.rounds.select_related("grid", "volunteer__resident").order_by("pk"):
            runner = (round_.volunteer.resident.name.masked if round_.volunteer_id else "")
            rounds.append({"round": round_, "label": _("Round %(n)s, %(place)s") % {
                "n": round_.pk, "place": round_.grid.name if round_.grid_id else _("all courtyards")},
                "runner": runner, "stops": [_stop(o) for o in delivery.stops_of(round_)]})
        unplanned = delivery.walking_order(delivery.planned_orders(meal))
        out.append({"meal": meal, "title": f"{meal.canteen.name} · {meal.day.isoformat()} {meal.get_kind_display()}",
                    "dishes": dishes_line(meal, labels), "note": meal.note, "rounds": rounds,
                    "unplanned": [_stop(o) for o in unplanned]})
    return out


def _stop(order: Order) -> dict:
    household = order.resident.household
    return {"n": order.stop_position or "", "name": order.resident.name.masked, "door": household.door,
            "courtyard": household.grid.name, "quantity": order.quantity, "status": order.get_status_display()}


class _Page:
    def __init__(self, c, title: str):
        self.c, self.title, self.y = c, title, 0.0
        self.new()

    def new(self):
        if self.y:
            self.c.showPage()
        self.y = PAGE_H - MARGIN
        self.c.setFont(CJK, 9)
        self.c.drawRightString(PAGE_W - MARGIN, self.y, self.title)
        self.y -= LINE

    def need(self, height: float):
        if self.y - height < MARGIN:
            self.new()

    def text(self, s: str, size: float = 11, x: float = MARGIN):
        self.need(LINE)
        self.c.setFont(CJK, size)
        self.c.drawString(x, self.y, s[:90])
        self.y -= LINE + (size - 11)


def _stops_table(page: _Page, stops: list[dict]) -> None:
    page.need(LINE * 2)
    c = page.c
    c.setFont(CJK, 9)
    cols = (MARGIN, MARGIN + 26, MARGIN + 96, MARGIN + 280, MARGIN + 330, PAGE_W - MARGIN - BOX)
    for x, head in zip(cols, (_("No."), _("Name"), _("Door"), _("Portions"), _("Status"), _("Done"))):
        c.drawString(x, page.y, head)
    page.y -= 4
    c.line(MARGIN, page.y, PAGE_W - MARGIN, page.y)
    page.y -= LINE - 4
    courtyard = None
    for stop in stops:
        if stop["courtyard"] != courtyard:
            courtyard = stop["courtyard"]
            page.need(LINE * 2)
            c.setFont(CJK, 10)
            c.drawString(MARGIN, page.y, f"— {courtyard} —")
            page.y -= LINE
        page.need(LINE)
        c.setFont(CJK, 11)
        c.drawString(cols[0], page.y, str(stop["n"]))
        c.drawString(cols[1], page.y, stop["name"])
        c.drawString(cols[2], page.y, stop["door"][:24])
        c.drawString(cols[3], page.y, str(stop["quantity"]))
        c.setFont(CJK, 9)
        c.drawString(cols[4], page.y, str(stop["status"])[:14])
        c.rect(cols[5], page.y - 2, BOX, BOX)
        page.y -= LINE


def sheet_pdf(canteens, day: dt.date, *, community_name: str = "") -> bytes:
    """The day's sheet as PDF bytes (at least one page, saying so when there is nothing)."""
    _fonts()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    title = _("Delivery sheet %(day)s") % {"day": day.isoformat()}
    c.setTitle(title)
    page = _Page(c, f"{community_name} · {title}" if community_name else title)
    page.text(title, size=18)
    rows = sheet_rows(canteens, day)
    if not rows:
        page.text(_("No meal is published for this day."))
    for meal in rows:
        page.need(LINE * 4)
        page.text(meal["title"], size=14)
        if meal["dishes"]:
            page.text(_("Dishes: %(dishes)s") % {"dishes": meal["dishes"]}, size=10)
        if meal["note"]:
            page.text(_("Note: %(note)s") % {"note": meal["note"]}, size=10)
        for round_ in meal["rounds"]:
            head = round_["label"] + (f" · {_('volunteer')} {round_['runner']}" if round_["runner"] else "")
            page.text(head, size=12)
            _stops_table(page, round_["stops"])
        if meal["unplanned"]:
            page.text(_("Not yet on a round"), size=12)
            _stops_table(page, meal["unplanned"])
        if not meal["rounds"] and not meal["unplanned"]:
            page.text(_("No deliveries."), size=10)
    page.need(LINE * 2)
    page.text(_("Printed %(when)s. Names are masked; phone numbers are never printed.") % {
        "when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, size=9)
    c.showPage()
    c.save()
    return buffer.getvalue()
