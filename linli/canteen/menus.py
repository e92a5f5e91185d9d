"""Dishes, meals and the week's menu; capacity on site and for delivery (docs/canteen.md, "Menus").

Who may: the office and the canteen's staff (:func:`linli.canteen.rules.may_plan_menus`);
``actor=None`` is the server's own rights (the demo). A meal's state changes only through
:data:`MEAL` (draft → published → cancelled). Capacity counters move only by conditional UPDATEs:
a capacity can never be set below the places already taken, even while orders come in.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.workflow import Move, Workflow

from . import rules
from .models import Dish, Meal, MealDish, MealKind, MealTime

# Dish tags: code → label. Icons are plain characters, always shown next to the word.
DISH_TAGS = {
    "low_salt": gettext_lazy("low salt"),
    "low_sugar": gettext_lazy("low sugar (diabetic-friendly)"),
    "soft": gettext_lazy("soft, easy to chew"),
    "vegetarian": gettext_lazy("vegetarian"),
    "halal": gettext_lazy("halal"),
    "spicy": gettext_lazy("spicy"),
}

EVENTS = {
    "canteen.dish_saved": gettext_lazy("saved a canteen dish"),
    "canteen.meal_created": gettext_lazy("planned a canteen meal"),
    "canteen.meal_updated": gettext_lazy("changed a canteen meal"),
    "canteen.week_copied": gettext_lazy("copied a week's canteen menu"),
}

MAX_PRICE_FEN = 100_000
MAX_CAPACITY = 5_000
MAX_DISHES = 12


def tag_choices() -> list[tuple[str, str]]:
    return list(DISH_TAGS.items())


def tag_labels(codes) -> list[dict]:
    """[{code, label}] for a dish's tags (unknown codes left out). Words, no emoji: phones
    without an emoji font (and the CI's Chromium) draw empty boxes."""
    return [{"code": c, "label": DISH_TAGS[c]} for c in codes or () if c in DISH_TAGS]


def _require_planner(actor, canteen):
    if actor is not None and not rules.may_plan_menus(actor, canteen):
        raise PermissionDenied(_("Only the community office and the canteen's staff plan the menus."))


def _int(value, *, field: str, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(message, code=field, field=field)
    return value


def _price(value) -> int:
    return _int(value, field="price_fen", low=1, high=MAX_PRICE_FEN,
                message=_("The price must be more than 0 and at most 1000 yuan."))


def _capacity(value, field: str) -> int:
    return _int(value, field=field, low=0, high=MAX_CAPACITY,
                message=_("A capacity is a whole number from 0 to 5000."))


# --- the meal's state machine ---------------------------------------------------------------------

S = Meal.Status


def _may(actor, meal, who: str) -> bool:
    return rules.may_plan_menus(actor, meal.canteen)


PLAN = "plan"
MEAL = Workflow(
    "canteen_meal", verb_prefix="canteen", model=Meal, may=_may, jobs_too=frozenset({PLAN}),
    places=lambda m: {"community": m.canteen.community},
    event_data=lambda m: {"meal": m.pk, "canteen": m.canteen_id, "day": m.day.isoformat(), "kind": m.kind},
    illegal_message=gettext_lazy("This meal is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("Only the community office and the canteen's staff plan the menus."),
    moves=[
        Move("publish", {S.DRAFT}, S.PUBLISHED, who=PLAN, label=gettext_lazy("Publish"), verb="meal_published",
             message=gettext_lazy("The meal is on the residents' menu."),
             event_label=gettext_lazy("published a canteen meal")),
        Move("cancel", {S.DRAFT, S.PUBLISHED}, S.CANCELLED, who=PLAN, label=gettext_lazy("Cancel the meal"),
             verb="meal_cancelled", form="reason", message=gettext_lazy("The meal is cancelled."),
             event_label=gettext_lazy("cancelled a canteen meal")),
    ],
)


# --- dishes ----------------------------------------------------------------------------------------


def _clean_tags(tags) -> list[str]:
    tags = list(dict.fromkeys(tags or ()))
    unknown = [t for t in tags if t not in DISH_TAGS]
    if unknown:
        raise InvalidInput(_("Unknown dish tag."), code="tags", field="tags")
    return [t for t in DISH_TAGS if t in tags]


def _clean_name(name: str, *, limit: int = 80) -> str:
    name = (name or "").strip()
    if not name or len(name) > limit:
        raise InvalidInput(_("Give a name of up to %(max)d characters.") % {"max": limit}, code="name", field="name")
    return name


def dish_create(*, actor, canteen, name: str, price_fen: int, tags=(), description: str = "") -> Dish:
    _require_planner(actor, canteen)
    name = _clean_name(name)
    price = _price(price_fen)
    tags = _clean_tags(tags)
    if len(description or "") > 200:
        raise InvalidInput(_("Keep the description under 200 characters."), code="description", field="description")
    with transaction.atomic():
        dish = Dish.objects.create(canteen=canteen, name=name, price_fen=price, tags=tags,
                                   description=(description or "").strip())
        events.record(actor=actor, verb="canteen.dish_saved", target=dish, community=canteen.community,
                      data={"canteen": canteen.pk, "dish": dish.pk, "created": True, "tags": tags})
    return dish


def dish_update(*, actor, dish: Dish, name=None, price_fen=None, tags=None, description=None, active=None) -> Dish:
    """Change a dish. Meals already planned keep their own set price."""
    canteen = dish.canteen
    _require_planner(actor, canteen)
    changed = []
    if name is not None:
        dish.name = _clean_name(name)
        changed.append("name")
    if price_fen is not None:
        dish.price_fen = _price(price_fen)
        changed.append("price_fen")
    if tags is not None:
        dish.tags = _clean_tags(tags)
        changed.append("tags")
    if description is not None:
        if len(description) > 200:
            raise InvalidInput(_("Keep the description under 200 characters."), code="description",
                               field="description")
        dish.description = description.strip()
        changed.append("description")
    if active is not None:
        dish.active = bool(active)
        changed.append("active")
    with transaction.atomic():
        dish.save()
        events.record(actor=actor, verb="canteen.dish_saved", target=dish, community=canteen.community,
                      data={"canteen": canteen.pk, "dish": dish.pk, "created": False, "fields": changed})
    return dish


# --- meals -------------------------------------------------------------------------------------


def _aware(day: dt.date, clock: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, clock))


def _dishes(canteen, dishes) -> list[Dish]:
    ids = [getattr(d, "pk", d) for d in dishes or ()]
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_DISHES:
        raise InvalidInput(_("At most %(max)d dishes in one meal.") % {"max": MAX_DISHES}, code="dishes",
                           field="dishes")
    found = {d.pk: d for d in Dish.objects.filter(canteen=canteen, pk__in=ids, active=True)}
    if len(found) != len(ids):
        raise InvalidInput(_("Choose active dishes of this canteen."), code="dishes", field="dishes")
    return [found[i] for i in ids]


def _set_items(meal, dishes: list[Dish]) -> None:
    MealDish.objects.filter(meal=meal).delete()
    MealDish.objects.bulk_create([MealDish(meal=meal, dish=d, position=i) for i, d in enumerate(dishes)])


def meal_create(*, actor, canteen, day: dt.date, kind: str, price_fen: int, onsite_capacity: int,
                delivery_capacity: int, dishes=(), note: str = "", publish: bool = False, at=None) -> Meal:
    """Plan one meal from the canteen's meal time of that kind. ``at`` (the demo's clock) defaults to
    now: a day in the past is refused."""
    _require_planner(actor, canteen)
    if kind not in MealKind.values:
        raise InvalidInput(_("Unknown meal."), code="kind", field="kind")
    mealtime = MealTime.objects.filter(canteen=canteen, kind=kind).first()
    if mealtime is None:
        raise InvalidInput(_("This canteen does not serve this meal; set its time first."), code="no_mealtime",
                           field="kind")
    today = timezone.localdate(at) if at is not None else timezone.localdate()
    if not isinstance(day, dt.date) or day < today:
        raise InvalidInput(_("Plan meals for today or later."), code="past", field="day")
    price = _price(price_fen)
    onsite = _capacity(onsite_capacity, "onsite_capacity")
    delivery = _capacity(delivery_capacity, "delivery_capacity")
    if len(note or "") > 200:
        raise InvalidInput(_("Keep the note under 200 characters."), code="note", field="note")
    chosen = _dishes(canteen, dishes)
    if publish and not chosen:
        raise InvalidInput(_("Choose the meal's dishes before publishing it."), code="no_dishes", field="dishes")
    with transaction.atomic():
        if Meal.objects.filter(canteen=canteen, day=day, kind=kind).exists():
            raise InvalidInput(_("This meal is already planned."), code="duplicate", field="kind")
        meal = Meal.objects.create(
            canteen=canteen, day=day, kind=kind, starts_at=_aware(day, mealtime.serves_from),
            ends_at=_aware(day, mealtime.serves_until), cutoff_at=_aware(day, mealtime.cutoff), price_fen=price,
            onsite_capacity=onsite, delivery_capacity=delivery, note=(note or "").strip())
        _set_items(meal, chosen)
        events.record(actor=actor, verb="canteen.meal_created", target=meal, community=canteen.community,
                      data={"meal": meal.pk, "canteen": canteen.pk, "day": day.isoformat(), "kind": kind,
                            "price_fen": price, "onsite_capacity": onsite, "delivery_capacity": delivery})
        if publish:
            meal = MEAL.transition(meal, "publish", actor=actor)
    return meal


def meal_update(*, actor, meal: Meal, price_fen=None, onsite_capacity=None, delivery_capacity=None, dishes=None,
                note=None) -> Meal:
    """Change a meal's price, capacities, dishes or note. A capacity below the places already taken
    is refused (checked in the same UPDATE that sets it); a price change never touches existing
    orders (each keeps its own unit price)."""
    canteen = meal.canteen
    _require_planner(actor, canteen)
    fields = {}
    if price_fen is not None:
        fields["price_fen"] = _price(price_fen)
    if onsite_capacity is not None:
        fields["onsite_capacity"] = _capacity(onsite_capacity, "onsite_capacity")
    if delivery_capacity is not None:
        fields["delivery_capacity"] = _capacity(delivery_capacity, "delivery_capacity")
    if note is not None:
        if len(note) > 200:
            raise InvalidInput(_("Keep the note under 200 characters."), code="note", field="note")
        fields["note"] = note.strip()
    chosen = _dishes(canteen, dishes) if dishes is not None else None
    with transaction.atomic():
        current = Meal.objects.filter(pk=meal.pk).values("status", "ends_at").first()
        if current["status"] == S.CANCELLED:
            raise InvalidInput(_("This meal is cancelled."), code="cancelled")
        if current["ends_at"] <= timezone.now():
            raise InvalidInput(_("This meal is over."), code="over")
        if chosen is not None and not chosen and current["status"] == S.PUBLISHED:
            raise InvalidInput(_("A published meal keeps at least one dish."), code="no_dishes", field="dishes")
        if fields:
            guard = {}
            if "onsite_capacity" in fields:
                guard["onsite_taken__lte"] = fields["onsite_capacity"]
            if "delivery_capacity" in fields:
                guard["delivery_taken__lte"] = fields["delivery_capacity"]
            if not Meal.objects.filter(pk=meal.pk, **guard).update(**fields):
                taken = Meal.objects.filter(pk=meal.pk).values("onsite_taken", "delivery_taken").first()
                field = ("onsite_capacity" if "onsite_capacity" in fields
                         and taken["onsite_taken"] > fields["onsite_capacity"] else "delivery_capacity")
                raise InvalidInput(
                    _("%(taken)d places are already taken: the capacity cannot be lower.")
                    % {"taken": taken["onsite_taken" if field == "onsite_capacity" else "delivery_taken"]},
                    code="below_taken", field=field)
        if chosen is not None:
            _set_items(meal, chosen)
        changed = sorted(fields) + (["dishes"] if chosen is not None else [])
        meal.refresh_from_db()
        events.record(actor=actor, verb="canteen.meal_updated", target=meal, community=canteen.community,
                      data={"meal": meal.pk, "canteen": canteen.pk, "fields": changed,
                            **{k: v for k, v in fields.items() if k != "note"}})
    return meal


def meal_publish(*, actor, meal: Meal) -> Meal:
    if not meal.items.exists():
        raise InvalidInput(_("Choose the meal's dishes before publishing it."), code="no_dishes", field="dishes")
    if meal.ends_at <= timezone.now():
        raise InvalidInput(_("This meal is over."), code="over")
    return MEAL.transition(meal, "publish", actor=actor)


def meal_cancel(*, actor, meal: Meal, reason: str) -> tuple[Meal, int]:
    """Cancel the meal and every live order of it (as ``orders.order_cancel`` does: places and points
    back, residents told). Returns (meal, how many orders were cancelled)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why, in a few words."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("Keep the reason under 200 characters."), code="reason_long", field="reason")
    _require_planner(actor, meal.canteen)
    if meal.ends_at <= timezone.now():
        raise InvalidInput(_("This meal is over."), code="over")
    from . import orders
    from .models import Order

    with transaction.atomic():
        count = 0
        for order in Order.objects.filter(meal=meal, status=Order.Status.ORDERED).select_related("meal", "canteen"):
            orders.order_cancel(actor=actor, order=order, reason=reason)
            count += 1
        meal = MEAL.transition(meal, "cancel", actor=actor, data={"orders_cancelled": count})
    return meal, count


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_copy(*, actor, canteen, from_monday: dt.date, to_monday: dt.date, at=None) -> list[Meal]:
    """Copy a week's meals (not the cancelled ones) to another week as drafts, day by day: same
    price, capacities, dishes (still active) and note. Meals already planned in the target week are
    kept; days already past are skipped. Returns the new meals."""
    _require_planner(actor, canteen)
    if from_monday.weekday() or to_monday.weekday():
        raise InvalidInput(_("A week starts on a Monday."), code="monday")
    if from_monday == to_monday:
        raise InvalidInput(_("Choose another week to copy to."), code="same_week")
    today = timezone.localdate(at) if at is not None else timezone.localdate()
    times = {t.kind: t for t in MealTime.objects.filter(canteen=canteen)}
    source = list(Meal.objects.filter(canteen=canteen, day__gte=from_monday, day__lt=from_monday + dt.timedelta(7))
                  .exclude(status=S.CANCELLED).prefetch_related("items__dish"))
    shift = to_monday - from_monday
    created: list[Meal] = []
    with transaction.atomic():
        taken = set(Meal.objects.filter(canteen=canteen, day__gte=to_monday, day__lt=to_monday + dt.timedelta(7))
                    .values_list("day", "kind"))
        for old in source:
            day = old.day + shift
            mealtime = times.get(old.kind)
            if (day, old.kind) in taken or day < today or mealtime is None:
                continue
            meal = Meal.objects.create(
                canteen=canteen, day=day, kind=old.kind, starts_at=_aware(day, mealtime.serves_from),
                ends_at=_aware(day, mealtime.serves_until), cutoff_at=_aware(day, mealtime.cutoff),
                price_fen=old.price_fen, onsite_capacity=old.onsite_capacity,
                delivery_capacity=old.delivery_capacity, note=old.note)
            _set_items(meal, [i.dish for i in old.items.all() if i.dish.active])
            created.append(meal)
        events.record(actor=actor, verb="canteen.week_copied", target=canteen, community=canteen.community,
                      data={"canteen": canteen.pk, "from": from_monday.isoformat(), "to": to_monday.isoformat(),
                            "meals": [m.pk for m in created]})
    return created


def week_publish(*, actor, canteen, monday: dt.date) -> int:
    """Publish every draft meal of the week that has dishes and is not over; how many."""
    _require_planner(actor, canteen)
    now = timezone.now()
    count = 0
    for meal in Meal.objects.filter(canteen=canteen, status=S.DRAFT, day__gte=monday,
                                    day__lt=monday + dt.timedelta(7), ends_at__gt=now, items__isnull=False).distinct():
        MEAL.transition(meal, "publish", actor=actor)
        count += 1
    return count


def week_menu(canteen, monday: dt.date, *, drafts: bool = False) -> list[tuple[dt.date, list[Meal]]]:
    """The week's meals by day (Monday first; every day listed, maybe empty). Residents see published
    meals only; ``drafts=True`` (the office) shows drafts and cancelled meals too."""
    qs = Meal.objects.filter(canteen=canteen, day__gte=monday, day__lt=monday + dt.timedelta(7))
    if not drafts:
        qs = qs.filter(status=S.PUBLISHED)
    qs = qs.prefetch_related(Prefetch("items", queryset=MealDish.objects.select_related("dish")))
    by_day: dict[dt.date, list[Meal]] = {monday + dt.timedelta(i): [] for i in range(7)}
    for meal in qs.order_by("day", "starts_at"):
        by_day[meal.day].append(meal)
    return list(by_day.items())


def places_left(meal: Meal, delivery: bool) -> int:
    if delivery:
        return max(0, meal.delivery_capacity - meal.delivery_taken)
    return max(0, meal.onsite_capacity - meal.onsite_taken)


def take_places(meal: Meal, *, delivery: bool, quantity: int) -> bool:
    """Take ``quantity`` places by ONE conditional UPDATE (call inside the writer's transaction).
    False when they are not there (the caller answers ``Conflict("full")``)."""
    if delivery:
        return bool(Meal.objects.filter(pk=meal.pk, delivery_taken__lte=F("delivery_capacity") - quantity)
                    .update(delivery_taken=F("delivery_taken") + quantity))
    return bool(Meal.objects.filter(pk=meal.pk, onsite_taken__lte=F("onsite_capacity") - quantity)
                .update(onsite_taken=F("onsite_taken") + quantity))


def give_places(meal: Meal, *, delivery: bool, quantity: int) -> None:
    """Give places back (in the cancellation's transaction)."""
    field = "delivery_taken" if delivery else "onsite_taken"
    Meal.objects.filter(pk=meal.pk, **{f"{field}__gte": quantity}).update(**{field: F(field) - quantity})
