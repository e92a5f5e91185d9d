"""Canteens and their meal times (docs/canteen.md, "Canteens and meal times").

The office (community admin / worker) creates a canteen and sets its times; ``actor=None`` is the
server's own rights (the demo, commands). A meal time's cut-off is a clock time on the SAME day,
before serving starts (a breakfast ordered the evening before is not supported); delivery starts
within the serving hours.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import InvalidInput, NotFound, PermissionDenied

from . import eligibility, rules
from .models import Canteen, MealKind, MealTime

EVENTS = {
    "canteen.canteen_created": gettext_lazy("opened a canteen"),
    "canteen.canteen_updated": gettext_lazy("changed a canteen's settings"),
    "canteen.mealtime_set": gettext_lazy("set a canteen's meal time"),
}

T = dt.time
DEFAULT_TIMES = {
    MealKind.LUNCH: {"serves_from": T(11, 0), "serves_until": T(13, 0), "cutoff": T(9, 30),
                     "delivery_from": T(11, 15)},
    MealKind.DINNER: {"serves_from": T(17, 0), "serves_until": T(18, 30), "cutoff": T(15, 0),
                      "delivery_from": T(17, 0)},
}
MAX_NAME = 80
MAX_PLACE = 120


def _require_office(actor, community):
    if actor is not None and not rules.is_office(actor, community):
        raise PermissionDenied(_("Only the community office manages the canteen."))


def check_times(kind: str, serves_from, serves_until, cutoff, delivery_from=None) -> None:
    """Refuse a meal time that cannot work (InvalidInput with the field)."""
    if kind not in MealKind.values:
        raise InvalidInput(_("Unknown meal."), code="kind", field="kind")
    for name, value in (("serves_from", serves_from), ("serves_until", serves_until), ("cutoff", cutoff)):
        if not isinstance(value, dt.time):
            raise InvalidInput(_("Give a time of day."), code="time", field=name)
    if serves_until <= serves_from:
        raise InvalidInput(_("Serving must end after it starts."), code="times_order", field="serves_until")
    if cutoff > serves_from:
        raise InvalidInput(_("Orders must close before serving starts, on the same day."), code="cutoff_late",
                           field="cutoff")
    if delivery_from is not None and not (serves_from <= delivery_from < serves_until):
        raise InvalidInput(_("Delivery starts within the serving hours."), code="delivery_time",
                           field="delivery_from")


PHONE_CHARS = set("0123456789-+ ()")


def _check_fields(*, name=None, place=None, phone=None, partner=None, grid=None, community=None, fen_per_point=None,
                  delivery_criteria=None, max_quantity=None) -> None:
    if name is not None and not (name.strip() and len(name.strip()) <= MAX_NAME):
        raise InvalidInput(_("Give the canteen a name (up to 80 characters)."), code="name", field="name")
    if place is not None and len(place) > MAX_PLACE:
        raise InvalidInput(_("Keep the place under 120 characters."), code="place", field="place")
    if phone is not None and (len(phone.strip()) > 20 or not set(phone.strip()) <= PHONE_CHARS):
        raise InvalidInput(_("Write the phone number with digits, spaces and dashes only (up to 20)."),
                           code="phone", field="phone")
    if partner is not None and partner.community_id != community.pk:
        raise InvalidInput(_("The points partner belongs to another community."), code="partner", field="partner")
    if grid is not None and grid.community_id != community.pk:
        raise InvalidInput(_("The courtyard belongs to another community."), code="grid", field="grid")
    if fen_per_point is not None and (isinstance(fen_per_point, bool) or not isinstance(fen_per_point, int)
                                      or not 1 <= fen_per_point <= 1000):
        raise InvalidInput(_("A point is worth 1 to 1000 fen."), code="fen_per_point", field="fen_per_point")
    if delivery_criteria is not None and not set(delivery_criteria) <= set(eligibility.CRITERIA):
        raise InvalidInput(_("Unknown criterion."), code="criterion", field="delivery_criteria")
    if max_quantity is not None and (isinstance(max_quantity, bool) or not isinstance(max_quantity, int)
                                     or not 1 <= max_quantity <= 10):
        raise InvalidInput(_("Between 1 and 10 portions per order."), code="max_quantity", field="max_quantity")


def canteen_create(*, actor, community, name: str, partner=None, place: str = "", grid=None,
                   times: dict | None = None) -> Canteen:
    """A canteen with its meal times (``times``: kind → {serves_from, serves_until, cutoff,
    delivery_from}; default: lunch and dinner as :data:`DEFAULT_TIMES`)."""
    _require_office(actor, community)
    _check_fields(name=name, place=place, partner=partner, grid=grid, community=community)
    times = DEFAULT_TIMES if times is None else times
    for kind, spec in times.items():
        check_times(kind, spec["serves_from"], spec["serves_until"], spec["cutoff"], spec.get("delivery_from"))
    with transaction.atomic():
        if partner is not None and Canteen.objects.filter(partner=partner).exists():
            raise InvalidInput(_("This points partner already has a canteen."), code="partner", field="partner")
        canteen = Canteen.objects.create(community=community, name=name.strip(), partner=partner,
                                         place=place.strip(), grid=grid)
        MealTime.objects.bulk_create([
            MealTime(canteen=canteen, kind=kind, serves_from=spec["serves_from"], serves_until=spec["serves_until"],
                     cutoff=spec["cutoff"], delivery_from=spec.get("delivery_from"))
            for kind, spec in times.items()])
        events.record(actor=actor, verb="canteen.canteen_created", target=canteen, community=community,
                      data={"canteen": canteen.pk, "times": sorted(times)})
    return canteen


UPDATABLE = ("name", "place", "phone", "grid", "partner", "latitude", "longitude", "fen_per_point", "delivery_criteria",
             "max_quantity", "active")


def canteen_update(*, actor, canteen: Canteen, **changes) -> Canteen:
    """Change the canteen's settings (names in :data:`UPDATABLE`). Existing orders keep their prices."""
    _require_office(actor, canteen.community)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise InvalidInput(_("Unknown setting."), code="field", field=sorted(unknown)[0])
    check = {k: v for k, v in changes.items() if k in ("name", "place", "phone", "partner", "grid", "fen_per_point",
                                                       "delivery_criteria", "max_quantity")}
    _check_fields(community=canteen.community, **check)
    with transaction.atomic():
        if changes.get("partner") is not None and Canteen.objects.filter(
                partner=changes["partner"]).exclude(pk=canteen.pk).exists():
            raise InvalidInput(_("This points partner already has a canteen."), code="partner", field="partner")
        for key, value in changes.items():
            if key in ("name", "place", "phone") and value is not None:
                value = value.strip()
            if key == "delivery_criteria":
                value = [c for c in eligibility.CRITERIA_ORDER if c in set(value)]
            setattr(canteen, key, value)
        canteen.save()
        events.record(actor=actor, verb="canteen.canteen_updated", target=canteen, community=canteen.community,
                      data={"canteen": canteen.pk, "fields": sorted(changes)})
    return canteen


def mealtime_set(*, actor, canteen: Canteen, kind: str, serves_from, serves_until, cutoff,
                 delivery_from=None) -> MealTime:
    """Create or change one meal time. Meals already planned keep their times."""
    _require_office(actor, canteen.community)
    check_times(kind, serves_from, serves_until, cutoff, delivery_from)
    with transaction.atomic():
        mealtime, created = MealTime.objects.update_or_create(
            canteen=canteen, kind=kind, defaults={"serves_from": serves_from, "serves_until": serves_until,
                                                  "cutoff": cutoff, "delivery_from": delivery_from})
        events.record(actor=actor, verb="canteen.mealtime_set", target=canteen, community=canteen.community,
                      data={"canteen": canteen.pk, "kind": kind, "created": created})
    return mealtime


def canteen_of(community, pk=None, *, active_only: bool = False) -> Canteen:
    """The community's canteen ``pk`` (or its first — active first — canteen); NotFound if none."""
    qs = Canteen.objects.filter(community=community).select_related("community", "partner", "grid")
    if active_only:
        qs = qs.filter(active=True)
    if pk not in (None, ""):
        try:
            canteen = qs.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            canteen = None
    else:
        canteen = qs.order_by("-active", "pk").first()
    if canteen is None:
        raise NotFound(_("No canteen here."))
    return canteen
