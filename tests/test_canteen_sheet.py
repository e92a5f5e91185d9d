"""The printable daily delivery sheet: a PDF that opens, stops in walking order, masked names only
(docs/canteen.md, "Delivery")."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from linli.canteen import delivery, sheet
from linli.canteen.models import MealDish
from linli.canteen.menus import dish_create

from canteen_delivery_helpers import make_canteen, make_meal, order_for

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _squeeze(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


@pytest.fixture
def day(world):
    canteen = make_canteen(world)
    meal = make_meal(canteen, note="今天加一份汤")
    dish = dish_create(actor=world.users["admin"], canteen=canteen, name="清蒸鲈鱼", price_fen=1200, tags=["soft"])
    MealDish.objects.create(meal=meal, dish=dish)
    orders = [order_for(meal, r) for r in world.residents]
    round_ = delivery.round_plan(actor=world.users["admin"], meal=meal, grid=world.grids[0])
    return world, canteen, meal, orders, round_


def test_the_sheet_opens_and_lists_the_stops_in_order_with_masked_names(day):
    world, canteen, meal, orders, round_ = day
    pdf = sheet.sheet_pdf([canteen], meal.day, community_name=world.community.name)
    assert pdf.startswith(b"%PDF")
    text = _squeeze(_text(pdf))
    stops = list(delivery.stops_of(round_))
    positions = [text.index(_squeeze(o.resident.name.masked)) for o in stops]
    assert positions == sorted(positions)
    # The courtyard not yet on a round follows, under its own heading.
    waiting = list(delivery.walking_order(delivery.planned_orders(meal)))
    assert len(waiting) == 6 and all(_squeeze(o.resident.name.masked) in text for o in waiting)
    assert text.index(_squeeze(stops[-1].resident.name.masked)) < text.index(_squeeze(waiting[0].resident.name.masked))
    for resident in world.residents:
        assert resident.name.reveal() not in text
        assert resident.phone.reveal() not in text and resident.id_number.reveal() not in text
    assert "清蒸鲈鱼" in text and "今天加一份汤" in text
    assert _squeeze(stops[0].resident.household.door) in text


def test_a_day_without_meals_still_gives_a_sheet(world):
    canteen = make_canteen(world)
    pdf = sheet.sheet_pdf([canteen], timezone.localdate())
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_the_sheet_is_for_the_office_and_the_canteens_staff_only(day):
    world, canteen, meal, orders, round_ = day
    url = reverse("canteen:sheet", args=["Y", meal.day.isoformat()])
    c = Client()
    for who in ("admin", "worker", "cook"):
        c.force_login(world.users[who])
        response = c.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", who
        assert "no-store" in response["Cache-Control"]
    for who in ("resident", "grid1", "unit_staff", "supervisor", "z_worker"):
        c.force_login(world.users[who])
        assert c.get(url).status_code == 404, who
    c.force_login(world.users["admin"])
    assert c.get(reverse("canteen:sheet", args=["Y", "2026-13-40"])).status_code == 404
