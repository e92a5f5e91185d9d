"""Helpers the delivery part's tests share: a canteen through the real service (with a points
partner whose organisation's staff are the canteen's staff), a published meal of today, and
delivery orders made straight in the database (ordering has its own tests; its cut-off would make
these depend on the clock)."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from PIL import Image

from linli.canteen import canteens
from linli.canteen.models import Meal, MealTime, Order
from linli.community.models import Organisation, StaffRole
from linli.points.models import Partner

from factories import _role, _user


def make_canteen(world, **kw):
    org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name="友谊食堂后厨", community=world.community,
                                      street=world.street)
    partner = Partner.objects.create(community=world.community, name="友谊食堂", kind=Partner.Kind.CANTEEN,
                                     organisation=org)
    world.users["cook"] = _user("cook")
    _role(world.users["cook"], StaffRole.Role.UNIT_STAFF, community=world.community, organisation=org)
    canteen = canteens.canteen_create(actor=world.users["admin"], community=world.community, name="友谊食堂",
                                      partner=partner, place="社区服务中心一楼", **kw)
    # The delivery window is the meal's own (not a clock time that a test run may be before or after).
    MealTime.objects.filter(canteen=canteen).update(delivery_from=None)
    return canteen


def make_meal(canteen, *, day=None, kind="lunch", price_fen=1200, status="published", note=""):
    now = timezone.now()
    return Meal.objects.create(canteen=canteen, day=day or timezone.localdate(), kind=kind,
                               starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1),
                               cutoff_at=now - dt.timedelta(hours=2), price_fen=price_fen, onsite_capacity=50,
                               delivery_capacity=20, status=status, note=note)


def order_for(meal, resident, *, delivery=True, quantity=1, status="ordered", payment="cash", subsidy_fen=0,
              criterion="", points=0):
    Meal.objects.filter(pk=meal.pk).update(delivery_taken=meal.delivery_taken + (quantity if delivery else 0))
    meal.refresh_from_db()
    total = meal.price_fen * quantity
    return Order.objects.create(canteen=meal.canteen, meal=meal, resident=resident, quantity=quantity,
                                delivery=delivery, channel="online", status=status, unit_price_fen=meal.price_fen,
                                subsidy_fen=subsidy_fen, payable_fen=total - subsidy_fen, subsidy_criterion=criterion,
                                payment=payment, points=points)


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buf, "JPEG")
    return buf.getvalue()
