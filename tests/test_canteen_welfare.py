"""Welfare checks: not at home for an elder living alone opens one urgent case for the grid worker
(docs/canteen.md, "Delivery"); the cases part's WELFARE channel and ``Intake.respond_within``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.canteen import delivery, welfare
from linli.canteen.models import Order
from linli.cases import selectors as case_selectors
from linli.cases.models import Case, Category
from linli.cases.services import Intake, case_submit
from linli.core.workflow import IllegalTransition
from linli.core.models import Event
from linli.notify.models import Notification
from linli.notify.services import dispatch_new_events

from canteen_delivery_helpers import make_canteen, make_meal, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(world):
    canteen = make_canteen(world)
    meal = make_meal(canteen)
    # residents[2]: alone in G01-1栋 102, born 1949 (tagged 独居老人); residents[0]: a household of two.
    alone = order_for(meal, world.residents[2])
    with_spouse = order_for(meal, world.residents[0])
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal, runner=world.users["cook"])
    return world, canteen, meal, round_, Order.objects.get(pk=alone.pk), Order.objects.get(pk=with_spouse.pk)


def test_not_home_for_an_elder_alone_opens_one_urgent_case_due_in_30_minutes(site):
    world, _canteen, _meal, _round, alone, _other = site
    before = timezone.now()
    order = delivery.mark_not_home(actor=world.users["cook"], order=alone, note="敲门三次")
    case = Case.objects.get(pk=order.welfare_case_id)
    assert case.channel == Case.Channel.WELFARE and case.urgency == "urgent"
    assert case.household_id == world.residents[2].household_id and case.grid_id == world.grids[0].pk
    assert case.place == Case.Place.HOME and case.reporter_id is None and case.submitted_by_id is None
    assert before + dt.timedelta(minutes=29) < case.response_due <= timezone.now() + dt.timedelta(minutes=30)
    # The door and the time, never the name.
    assert world.residents[2].household.door in case.description
    assert world.residents[2].name.reveal() not in case.description
    assert Case.objects.filter(channel=Case.Channel.WELFARE).count() == 1
    opened = Event.objects.get(verb="canteen.welfare_check_opened")
    assert opened.data["case"] == case.pk and opened.grid_id == world.grids[0].pk
    assert Event.objects.filter(verb="canteen.not_home", target_id=str(order.pk)).count() == 1


def test_the_grid_worker_of_the_courtyard_is_told_and_sees_the_case(site):
    world, _canteen, _meal, _round, alone, _other = site
    order = delivery.mark_not_home(actor=world.users["cook"], order=alone)
    dispatch_new_events(settle_seconds=0)
    told = Notification.objects.filter(verb="canteen.welfare_check_opened")
    assert set(told.values_list("user_id", flat=True)) == {world.users["grid1"].pk}
    note = told.get()
    assert order.welfare_case.number in note.title and world.residents[2].name.reveal() not in note.body
    assert case_selectors.cases_for(world.users["grid1"]).filter(pk=order.welfare_case_id).exists()
    assert not case_selectors.cases_for(world.users["grid2"]).filter(pk=order.welfare_case_id).exists()
    # The volunteer or cook who knocked is not made the case's submitter.
    assert not case_selectors.cases_for(world.users["resident"]).filter(pk=order.welfare_case_id).exists()


def test_without_a_grid_worker_the_office_is_told(site):
    world, _canteen, _meal, _round, alone, _other = site
    world.users["grid1"].staff_roles.update(active=False)
    delivery.mark_not_home(actor=world.users["cook"], order=alone)
    dispatch_new_events(settle_seconds=0)
    told = set(Notification.objects.filter(verb="canteen.welfare_check_opened").values_list("user_id", flat=True))
    assert told == {world.users["admin"].pk, world.users["worker"].pk}


def test_not_home_for_someone_not_living_alone_opens_no_case(site):
    world, _canteen, _meal, _round, _alone, other = site
    order = delivery.mark_not_home(actor=world.users["cook"], order=other)
    assert order.status == "not_home" and order.welfare_case_id is None
    assert not Case.objects.exists()
    assert not Event.objects.filter(verb="canteen.welfare_check_opened").exists()


def test_marking_twice_opens_no_second_case(site):
    world, _canteen, _meal, _round, alone, _other = site
    delivery.mark_not_home(actor=world.users["cook"], order=alone)
    with pytest.raises(IllegalTransition):
        delivery.mark_not_home(actor=world.users["cook"], order=Order.objects.get(pk=alone.pk))
    assert Case.objects.count() == 1
    assert Event.objects.filter(verb="canteen.welfare_check_opened").count() == 1


def test_a_second_meal_of_the_day_joins_the_open_case(site):
    world, canteen, _meal, _round, alone, _other = site
    delivery.mark_not_home(actor=world.users["cook"], order=alone)
    dinner = make_meal(canteen, kind="dinner")
    second = order_for(dinner, world.residents[2])
    delivery.round_plan(actor=world.users["cook"], meal=dinner, runner=world.users["cook"])
    second = delivery.mark_not_home(actor=world.users["cook"], order=Order.objects.get(pk=second.pk))
    assert Case.objects.count() == 1 and second.welfare_case_id == Order.objects.get(pk=alone.pk).welfare_case_id
    assert Event.objects.get(verb="canteen.welfare_check_opened", data__order=second.pk).data["joined"] is True


def test_the_welfare_check_category_is_used_when_the_community_has_it(site):
    world, _canteen, _meal, _round, alone, _other = site
    category = Category.objects.create(community=world.community, code="welfare-check", name_zh="探视",
                                       name_en="Welfare check")
    order = delivery.mark_not_home(actor=world.users["cook"], order=alone)
    case = order.welfare_case
    assert case.category_id == category.pk and not case.needs_triage


def test_delivered_after_not_home_keeps_the_case(site):
    world, _canteen, _meal, _round, alone, _other = site
    delivery.mark_not_home(actor=world.users["cook"], order=alone)
    order = delivery.mark_delivered(actor=world.users["cook"], order=Order.objects.get(pk=alone.pk))
    assert order.status == "delivered" and order.welfare_case_id is not None


def test_lives_alone_reads_the_registry(world):
    today = dt.date(2026, 6, 1)  # a fixed day: residents[8] (born 1967) turns 60 in 2027
    assert welfare.lives_alone(world.residents[2], on=today)
    assert not welfare.lives_alone(world.residents[0], on=today)
    assert not welfare.lives_alone(world.residents[8], on=today)  # alone, but under 60 and untagged


# --- the cases part: the WELFARE channel and respond_within ---------------------------------------


def test_intake_respond_within_brings_the_response_due_forward(world):
    intake = Intake(community=world.community, channel=Case.Channel.WELFARE, description="上门看看老人是否安好",
                    urgency="urgent", place=Case.Place.HOME, household=world.households[1],
                    respond_within=dt.timedelta(minutes=30))
    case, created = case_submit(actor=None, intake=intake)
    assert created and case.channel == "welfare"
    assert case.response_due <= case.created_at + dt.timedelta(minutes=30)
    usual, _ = case_submit(actor=None, intake=Intake(
        community=world.community, channel=Case.Channel.WELFARE, description="上门看看老人是否安好",
        urgency="urgent", place=Case.Place.HOME, household=world.households[1]))
    assert usual.response_due > usual.created_at + dt.timedelta(minutes=30)


def test_a_welfare_case_needs_no_contact_but_a_web_case_does(world):
    from linli.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        case_submit(actor=None, intake=Intake(community=world.community, channel=Case.Channel.WEB,
                                              description="路灯坏了很久了", place=Case.Place.GRID,
                                              grid=world.grids[0]))
    case, _ = case_submit(actor=None, intake=Intake(community=world.community, channel=Case.Channel.WELFARE,
                                                    description="上门看看老人是否安好", place=Case.Place.HOME,
                                                    household=world.households[1]))
    assert case.channel == Case.Channel.WELFARE
