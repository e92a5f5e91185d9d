"""Helpers the menu part's tests share (test_canteen_menus/eligibility/subsidies/office): a canteen
through the real service with a points partner whose organisation's staff are the canteen's staff,
residents with a chosen birth year, household and tags, and orders written straight to the database
(ordering has its own tests)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from linli.canteen import canteens
from linli.canteen.models import Meal, Order
from linli.community.models import Building, Organisation, StaffRole, Tag, Unit
from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.points.models import Partner

from factories import _role, _user, make_id_number, make_phone

_serial = itertools.count(500)


def make_canteen(world, *, name="友谊食堂", staff="chef"):
    org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name=f"{name}运营", community=world.community,
                                      street=world.street)
    partner = Partner.objects.create(community=world.community, name=name, kind=Partner.Kind.CANTEEN,
                                     organisation=org)
    world.users[staff] = _user(staff)
    _role(world.users[staff], StaffRole.Role.UNIT_STAFF, community=world.community, organisation=org)
    return canteens.canteen_create(actor=world.users["admin"], community=world.community, name=name,
                                   partner=partner, place="服务中心一楼")


def tag(world, code, name):
    return Tag.objects.get_or_create(community=world.community, code=code, defaults={"name": name})[0]


def household(world, room=None):
    building = Building.objects.filter(community=world.community).first()
    unit, _ = Unit.objects.get_or_create(community=world.community, building=building, number="9")
    hh, _ = household_get_or_create(actor=None, unit=unit, room=room or f"9{next(_serial)}")
    return hh


def person(world, *, born: int, hh=None, tags=(), relation="head"):
    """A resident born 1 March of ``born``, alone in a new household unless ``hh`` is given."""
    n = next(_serial)
    hh = hh or household(world)
    facts = ResidentFacts.clean(name=f"孙测{n}", id_number=make_id_number(dt.date(born, 3, 1), n),
                                phone=make_phone(n), relation=relation)
    return resident_create(actor=None, household=hh, facts=facts, tags=list(tags))


def meal(canteen, *, day, kind="lunch", price_fen=1200, status="published", onsite=50, delivery=20):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(11, 0)))
    return Meal.objects.create(canteen=canteen, day=day, kind=kind, starts_at=start,
                               ends_at=start + dt.timedelta(hours=2), cutoff_at=start - dt.timedelta(hours=1),
                               price_fen=price_fen, onsite_capacity=onsite, delivery_capacity=delivery, status=status)


def order(m, resident, *, delivery=False, quantity=1, status="ordered", subsidy_fen=0, criterion=""):
    field = "delivery_taken" if delivery else "onsite_taken"
    Meal.objects.filter(pk=m.pk).update(**{field: getattr(m, field) + quantity})
    m.refresh_from_db()
    total = m.price_fen * quantity
    return Order.objects.create(canteen=m.canteen, meal=m, resident=resident, quantity=quantity, delivery=delivery,
                                channel="online", status=status, unit_price_fen=m.price_fen, subsidy_fen=subsidy_fen,
                                payable_fen=total - subsidy_fen, subsidy_criterion=criterion, payment="cash")
