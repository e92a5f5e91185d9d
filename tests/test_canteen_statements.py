"""The canteen's monthly statement: totals, published once on the board, the job from the 5th, no
names (docs/canteen.md, "Statements")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from linli.canteen import statements
from linli.cases.models import Case
from linli.cases.services import Intake, case_submit
from linli.core.errors import Conflict, PermissionDenied
from linli.core.masking import mask_name
from linli.disclosure.models import Entry
from linli.transparency import keys

from canteen_delivery_helpers import make_canteen, make_meal, order_for

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 10)


@pytest.fixture
def signing_key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")


@pytest.fixture
def march(world):
    """A March of orders: two served, three delivered, one not at home (a welfare check), one
    cancelled; and an April order that the March statement leaves out."""
    canteen = make_canteen(world)
    lunch = make_meal(canteen, day=MARCH)
    dinner = make_meal(canteen, day=MARCH, kind="dinner")
    r = world.residents
    order_for(lunch, r[0], delivery=False, status="served", subsidy_fen=600, criterion="age_80")
    order_for(lunch, r[1], delivery=False, status="served", quantity=2, payment="mobile")
    order_for(lunch, r[2], status="delivered", subsidy_fen=1200, criterion="low_income")
    order_for(lunch, r[3], status="delivered", payment="points", points=120)
    order_for(lunch, r[4], status="delivered")
    away = order_for(lunch, r[5], status="not_home")
    order_for(dinner, r[0], status="cancelled", payment="points", points=120)
    case, _ = case_submit(actor=None, intake=Intake(community=world.community, channel=Case.Channel.WELFARE,
                                                    description="送餐无人应门，请上门查看", place=Case.Place.HOME,
                                                    household=r[5].household))
    away.welfare_case = case
    away.save(update_fields=["welfare_case"])
    april = make_meal(canteen, day=dt.date(2026, 4, 2))
    order_for(april, r[6], status="delivered")
    return world, canteen


def test_the_months_totals(march):
    world, canteen = march
    s = statements.monthly_statement(canteen, 2026, 3)
    assert (s["served"], s["served_portions"], s["delivered"], s["delivered_portions"]) == (2, 3, 3, 3)
    assert s["not_home"] == 1 and s["welfare_checks"] == 1
    assert s["subsidy_fen"] == 1800
    assert {row["criterion"]: row["subsidy_fen"] for row in s["subsidies"]} == {"age_80": 600, "low_income": 1200}
    assert s["points"] == 120  # the cancelled order's points went back
    assert s["cash_fen"] == 600 + 0 + 1200 and s["mobile_fen"] == 2400
    assert statements.monthly_statement(canteen, 2026, 4)["delivered"] == 1


def test_yuan_is_exact():
    assert statements.yuan(0) == "0.00" and statements.yuan(1805) == "18.05" and statements.yuan(-7) == "-0.07"


def test_published_once_on_the_financial_board_with_no_names(march, signing_key):
    world, canteen = march
    with translation.override("en"):
        entry = statements.publish_statement(actor=world.users["worker"], canteen=canteen, year=2026, month=3)
    entry = Entry.objects.get(pk=entry.pk)
    assert entry.section == "finance" and entry.published_at is not None
    assert "2026-03" in entry.title and "Meals delivered to homes: 3 (3 portions)" in entry.body
    assert "18.00 yuan" in entry.body
    for resident in world.residents:
        name = resident.name.reveal()
        assert name not in entry.body and mask_name(name) not in entry.body and name not in entry.title
    with pytest.raises(Conflict) as again:
        statements.publish_statement(actor=world.users["worker"], canteen=canteen, year=2026, month=3)
    assert again.value.code == "already_published"
    with pytest.raises(PermissionDenied):
        statements.publish_statement(actor=world.users["cook"], canteen=canteen, year=2026, month=2)
    assert Entry.objects.count() == 1
    assert statements.published_entry_id(canteen, 2026, 3) == entry.pk


def test_a_month_not_over_is_not_published(march, signing_key):
    world, canteen = march
    today = timezone.localdate()
    with pytest.raises(Conflict) as refused:
        statements.publish_statement(actor=world.users["worker"], canteen=canteen, year=today.year, month=today.month)
    assert refused.value.code == "month_not_over"


def test_the_job_does_nothing_before_the_5th_then_publishes_last_month_once(march, signing_key, settings):
    world, canteen = march
    settings.LINLI_CANTEEN_STATEMENT_DAY = 5
    from linli.canteen import jobs

    assert jobs.publish_statements(now=timezone.make_aware(dt.datetime(2026, 4, 4, 23, 0))) == {"published": 0}
    assert not Entry.objects.exists()
    due = timezone.make_aware(dt.datetime(2026, 4, 5, 3, 0))
    assert jobs.publish_statements(now=due) == {"published": 1}
    assert jobs.publish_statements(now=due) == {"published": 0}  # safe to run twice
    assert Entry.objects.get().period_start == dt.date(2026, 3, 1)
    # A month without orders gets no empty statement.
    assert jobs.publish_statements(now=timezone.make_aware(dt.datetime(2026, 3, 6, 3, 0))) == {"published": 0}


def test_the_statement_page_and_its_publish_button(march, signing_key):
    world, canteen = march
    url = reverse("canteen:statement", args=["Y", 2026, 3])
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.users["worker"])
    page = c.get(url)
    assert page.status_code == 200 and b"Publish on the public board" in page.content
    assert c.post(url, {"canteen": canteen.pk}).status_code == 302 and Entry.objects.count() == 1
    assert b"This statement is on the public board." in c.get(url).content
    for who in ("resident", "cook", "grid1", "supervisor"):
        c.force_login(world.users[who])
        assert c.get(url).status_code == 404, who
