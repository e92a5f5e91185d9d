"""Delivery rounds (送餐到家): planning, the walking order, delivered / not at home (docs/canteen.md,
"Delivery").

- :func:`walking_order`: a meal's delivered orders as one walk — courtyard by courtyard (the
  courtyards in a nearest-neighbour walk from the canteen), inside a courtyard building by
  building (nearest-neighbour again, from where the walker stands), then unit and door. Distances
  are haversine metres on the grid's / building's coordinates; places without coordinates come
  after those with, by name. Ties go by name, then id: the same orders always give the same walk.
- :func:`round_plan`: a meal's live delivery orders (of one courtyard, or all) not on another
  round become the stops of a new round, numbered in walking order. A round run by a volunteer
  is a ``volunteers.Activity`` of type "meal_delivery" (one place, the meal's delivery window),
  the volunteer signed up to it: hours are checked in / out by its QR or entered by the office,
  approved and granted as points by the volunteers app's rules.
- :func:`round_start`, :func:`mark_delivered`, :func:`mark_not_home`, :func:`round_finish`:
  the round's and its stops' moves (workflow ``canteen``: ``canteen.round_started``,
  ``canteen.delivered``, ``canteen.not_home``, ``canteen.round_finished``). Not at home for an
  elder living alone opens a welfare check in the same transaction (:mod:`.welfare`).

Who: see :func:`may_plan` and :func:`may_run`. No name is put into an event.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.cases.photos import clean_image
from linli.community.models import Grid, StaffRole
from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.workflow import Move, Workflow
from linli.volunteers import activities as volunteer_activities
from linli.volunteers.models import Volunteer

from . import rules, welfare
from .models import DeliveryRound, Meal, MealTime, Order

R = DeliveryRound.Status
O = Order.Status

ROUND_TYPE = "meal_delivery"
MAX_NOTE = 200

# Events that are not workflow moves (registered in apps.py).
EVENTS = {
    "canteen.round_planned": gettext_lazy("planned a meal delivery round"),
}

# Rule names of the workflows below.
RUN = "run"


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


# --- who ---------------------------------------------------------------------------------------------


def grid_worker_grids(user, community_id: int) -> set[int]:
    """The grid worker's grids in this community (empty for anyone else)."""
    if not _active(user):
        return set()
    if not StaffRole.objects.filter(user=user, role=StaffRole.Role.GRID_WORKER, active=True,
                                    community_id=community_id).exists():
        return set()
    mine = scope_of(user).grids
    if not mine:
        return set()
    return set(Grid.objects.filter(pk__in=mine, community_id=community_id).values_list("pk", flat=True))


def may_plan(user, canteen, grid=None) -> bool:
    """Plan a round: the office and the canteen's staff anywhere; a grid worker in their courtyards
    (``grid`` given and theirs)."""
    if not _active(user) or canteen is None:
        return False
    if rules.may_work_counter(user, canteen):
        return True
    gid = getattr(grid, "pk", grid)
    return gid is not None and gid in grid_worker_grids(user, canteen.community_id)


def may_see_rounds(user, canteen) -> bool:
    """The round list of a canteen: the office, the canteen's staff, a grid worker (their rounds)."""
    return may_plan(user, canteen) or bool(canteen is not None and grid_worker_grids(user, canteen.community_id))


def is_round_volunteer(user, round_: DeliveryRound) -> bool:
    if not _active(user) or round_.volunteer_id is None:
        return False
    return Volunteer.objects.filter(pk=round_.volunteer_id, resident__user_id=user.pk).exists()


def may_run(user, round_: DeliveryRound, *, today: dt.date | None = None) -> bool:
    """See a round's stops and mark them: its runner, the office, the canteen's staff, a grid
    worker of its courtyard, and its volunteer — the volunteer only on the round's day."""
    if not _active(user):
        return False
    canteen = round_.canteen
    if rules.may_work_counter(user, canteen):
        return True
    if round_.runner_id == user.pk:
        return True
    if round_.grid_id is not None and round_.grid_id in grid_worker_grids(user, canteen.community_id):
        return True
    if is_round_volunteer(user, round_):
        return (today or timezone.localdate()) == round_.meal.day
    return False


def _may(actor, obj, who: str) -> bool:
    if who != RUN:
        return False
    round_ = obj if isinstance(obj, DeliveryRound) else obj.round
    return round_ is not None and may_run(actor, round_)


def _round_places(obj) -> dict:
    return {"community": obj.canteen.community, "grid": obj.grid}


def _stop_places(obj) -> dict:
    return {"community": obj.canteen.community, "grid": obj.resident.household.grid}


# Its events read ``canteen.*`` (verb_prefix), as the contract names them.
ROUND = Workflow(
    "canteen_round", verb_prefix="canteen", model=DeliveryRound, may=_may, places=_round_places,
    event_data=lambda r: {"round": r.pk, "meal": r.meal_id},
    illegal_message=gettext_lazy("This round is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not run this delivery round."),
    moves=[
        Move("start", {R.PLANNED}, R.OUT, who=RUN, label=gettext_lazy("Start the round"), verb="round_started",
             message=gettext_lazy("The round is under way."),
             event_label=gettext_lazy("started a meal delivery round")),
        Move("finish", {R.OUT}, R.DONE, who=RUN, label=gettext_lazy("Finish the round"), verb="round_finished",
             message=gettext_lazy("The round is finished."),
             event_label=gettext_lazy("finished a meal delivery round")),
    ],
)

STOP = Workflow(
    "canteen_stop", verb_prefix="canteen", model=Order, may=_may, places=_stop_places,
    event_data=lambda o: {"order": o.pk, "round": o.round_id, "meal": o.meal_id},
    illegal_message=gettext_lazy("This delivery is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not mark the stops of this round."),
    moves=[
        # A second try after "not at home" may still find them in.
        Move("deliver", {O.ORDERED, O.OUT, O.NOT_HOME}, O.DELIVERED, who=RUN, label=gettext_lazy("Delivered"),
             verb="delivered", message=gettext_lazy("Marked as delivered."),
             event_label=gettext_lazy("delivered a meal")),
        Move("not_home", {O.ORDERED, O.OUT}, O.NOT_HOME, who=RUN, label=gettext_lazy("Not at home"),
             verb="not_home", message=gettext_lazy("Marked as not at home."),
             event_label=gettext_lazy("found nobody at home with a meal")),
    ],
)


# --- the walking order -------------------------------------------------------------------------------


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (latitude, longitude) points on a sphere of the Earth's mean radius."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))


def natural_key(text: str) -> tuple:
    """"2" before "10", "1-2" before "1-10": digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|\D+", text or ""))


def _point(lat, lon):
    return (lat, lon) if lat is not None and lon is not None else None


def _mean(points):
    points = [p for p in points if p is not None]
    if not points:
        return None
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _nearest_walk(items: list, start, *, point, name) -> list:
    """Items in a nearest-neighbour walk from ``start`` (a point or None). Items without a point
    come last, by name; with no start, the walk begins at the first item by name."""
    placed = sorted((i for i in items if point(i) is not None), key=lambda i: (natural_key(name(i)), i.pk))
    unplaced = sorted((i for i in items if point(i) is None), key=lambda i: (natural_key(name(i)), i.pk))
    walk, here = [], start
    while placed:
        if here is None:
            nxt = placed[0]
        else:
            nxt = min(placed, key=lambda i: (round(haversine_m(here, point(i)), 3), natural_key(name(i)), i.pk))
        placed.remove(nxt)
        walk.append(nxt)
        here = point(nxt)
    return walk + unplaced


def start_point(canteen):
    """Where a round starts: the canteen's own coordinates, else its courtyard's, else None."""
    here = _point(canteen.latitude, canteen.longitude)
    if here is None and canteen.grid_id is not None:
        here = _grid_point(canteen.grid, [])
    return here


def _grid_point(grid, buildings):
    return _point(grid.latitude, grid.longitude) or _mean(_point(b.latitude, b.longitude) for b in buildings)


def walking_order(orders) -> list[Order]:
    """The orders as one walk (see the module's docstring). ``orders``: Orders of one canteen."""
    orders = list(orders)
    if not orders:
        return []
    rows = {o.pk: o for o in Order.objects.filter(pk__in=[o.pk for o in orders]).select_related(
        "canteen__grid", "resident__household__grid", "resident__household__building",
        "resident__household__unit")}
    orders = [rows[o.pk] for o in orders]
    canteen = orders[0].canteen
    by_grid: dict[int, dict[int, list[Order]]] = {}
    grids, buildings = {}, {}
    for order in orders:
        household = order.resident.household
        grids[household.grid_id] = household.grid
        buildings[household.building_id] = household.building
        by_grid.setdefault(household.grid_id, {}).setdefault(household.building_id, []).append(order)
    grid_points = {gid: _grid_point(g, [buildings[b] for b in by_grid[gid]]) for gid, g in grids.items()}
    walk: list[Order] = []
    here = start_point(canteen)
    for grid in _nearest_walk(list(grids.values()), here, point=lambda g: grid_points[g.pk], name=lambda g: g.name):
        in_grid = [buildings[b] for b in by_grid[grid.pk]]
        entry = here if here is not None else grid_points[grid.pk]
        for building in _nearest_walk(in_grid, entry, point=lambda b: _point(b.latitude, b.longitude),
                                      name=lambda b: b.name):
            stops = sorted(by_grid[grid.pk][building.pk], key=lambda o: (
                natural_key(o.resident.household.unit.number), natural_key(o.resident.household.room), o.pk))
            walk.extend(stops)
            here = _point(building.latitude, building.longitude) or here
        here = here or grid_points[grid.pk]
    return walk


# --- planning ------------------------------------------------------------------------------------


LIVE_FOR_ROUND = (O.ORDERED,)


def delivery_window(meal: Meal) -> tuple[dt.datetime, dt.datetime]:
    """When the meal's deliveries go out: from the meal time's ``delivery_from`` (else the meal's
    start) to the meal's end (at least an hour)."""
    starts = meal.starts_at
    time = MealTime.objects.filter(canteen_id=meal.canteen_id, kind=meal.kind).first()
    if time is not None and time.delivery_from is not None:
        starts = timezone.make_aware(dt.datetime.combine(meal.day, time.delivery_from))
    ends = max(meal.ends_at, starts + dt.timedelta(hours=1))
    return starts, ends


def planned_orders(meal: Meal, grid=None):
    """The meal's live delivery orders not yet on a round (of one courtyard, when given)."""
    qs = Order.objects.filter(meal=meal, delivery=True, status__in=LIVE_FOR_ROUND, round__isnull=True)
    if grid is not None:
        qs = qs.filter(resident__household__grid=grid)
    return qs


def _check_runner(canteen, runner, grid) -> None:
    if runner is None:
        return
    if not (rules.may_work_counter(runner, canteen)
            or (grid is not None and grid.pk in grid_worker_grids(runner, canteen.community_id))):
        raise InvalidInput(_("A round is run by the canteen's staff, the office or the courtyard's grid worker."),
                           code="runner", field="runner")


def _round_activity(*, actor, meal, grid, volunteer, stops: int):
    starts, ends = delivery_window(meal)
    now = timezone.now()
    if starts <= now:  # planned late: sign-up closes at an activity's start
        starts = now + dt.timedelta(minutes=1)
        ends = max(ends, starts + dt.timedelta(hours=1))
    canteen = meal.canteen
    title = (_("Meal delivery, %(day)s %(meal)s, %(place)s") % {
        "day": meal.day.isoformat(), "meal": meal.get_kind_display(),
        "place": grid.name if grid is not None else _("all courtyards")})[:120]
    activity = volunteer_activities.activity_create(
        actor=actor, community=canteen.community, title=title, activity_type=ROUND_TYPE, starts_at=starts,
        ends_at=ends, slots=1, place=(canteen.place or canteen.name)[:120], grid=grid,
        description=_("%(n)d stops.") % {"n": stops})
    volunteer_activities.signup(actor=actor, activity=activity, volunteer=volunteer)
    return activity


def round_plan(*, actor, meal, grid=None, volunteer=None, runner=None) -> DeliveryRound:
    """A new round of the meal's delivery orders (of ``grid``, or every courtyard) not on another
    round, numbered in walking order. ``volunteer`` (an active volunteer of the community) or
    ``runner`` (an account of the staff) runs it, or neither yet (the canteen's staff)."""
    canteen = meal.canteen
    if not may_plan(actor, canteen, grid):
        raise PermissionDenied(_("You may not plan delivery rounds here."), code="not_planner")
    if grid is None and not rules.may_work_counter(actor, canteen):
        raise InvalidInput(_("Pick the courtyard of the round."), code="grid_required", field="grid")
    if grid is not None and grid.community_id != canteen.community_id:
        raise InvalidInput(_("This courtyard is not in the canteen's community."), code="other_community",
                           field="grid")
    if volunteer is not None and runner is not None:
        raise InvalidInput(_("A round has one volunteer or one runner, not both."), code="two_runners")
    if volunteer is not None:
        if volunteer.community_id != canteen.community_id:
            raise InvalidInput(_("This volunteer is of another community."), code="other_community",
                               field="volunteer")
        if volunteer.status != Volunteer.Status.ACTIVE:
            raise InvalidInput(_("This volunteer is not active."), code="volunteer_inactive", field="volunteer")
    _check_runner(canteen, runner, grid)
    with transaction.atomic():
        meal = Meal.objects.select_for_update(of=("self",)).select_related("canteen__community").get(pk=meal.pk)
        if meal.status != Meal.Status.PUBLISHED:
            raise Conflict(_("Only a published meal is delivered."), code="not_open")
        orders = list(planned_orders(meal, grid).select_for_update(of=("self",)))
        if not orders:
            raise Conflict(_("There are no deliveries left to plan for this meal here."), code="no_stops")
        walk = walking_order(orders)
        round_ = DeliveryRound.objects.create(canteen=meal.canteen, meal=meal, grid=grid, volunteer=volunteer,
                                              runner=runner)
        for position, order in enumerate(walk, start=1):
            Order.objects.filter(pk=order.pk).update(round=round_, stop_position=position)
        if volunteer is not None:
            round_.activity = _round_activity(actor=actor, meal=meal, grid=grid, volunteer=volunteer,
                                              stops=len(walk))
            round_.save(update_fields=["activity"])
        events.record(actor=actor, verb="canteen.round_planned", target=round_, community=canteen.community,
                      grid=grid, data={"round": round_.pk, "meal": meal.pk, "stops": len(walk),
                                       "volunteer": volunteer is not None, "runner": runner is not None})
    return round_


# --- running -------------------------------------------------------------------------------------


def stops_of(round_: DeliveryRound):
    """The round's stops in walking order (cancelled orders left out)."""
    return (Order.objects.filter(round=round_).exclude(status=O.CANCELLED)
            .select_related("resident__household__grid", "resident__household__building",
                            "resident__household__unit", "meal")
            .prefetch_related("meal__items__dish").order_by("stop_position", "pk"))


def round_start(*, actor, round) -> DeliveryRound:  # noqa: A002 (the contract's name)
    """The round goes out: its stops still ordered are "out"."""
    def apply(obj, now):
        obj.started_at = now
        Order.objects.filter(round=obj, status=O.ORDERED).update(status=O.OUT)

    return ROUND.transition(round, "start", actor=actor, apply=apply)


def round_finish(*, actor, round) -> DeliveryRound:  # noqa: A002
    """The round is back. Stops nobody marked stay as they are, for the office to see."""
    def apply(obj, now):
        obj.finished_at = now

    return ROUND.transition(round, "finish", actor=actor, apply=apply)


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE}, code="note_long",
                           field="note")
    return note


def _checked(order: Order, photo, note: str):
    if order.round_id is None:
        raise Conflict(_("This order is not on a delivery round."), code="no_round")
    return (clean_image(photo) if photo else None), _clean_note(note)


def _apply_outcome(at, image, note):
    def apply(obj, now):
        obj.outcome_at = at or now
        obj.outcome_note = note
        if image is not None:
            ext = "png" if image.content_type == "image/png" else "jpg"
            obj.photo.save(f"{secrets.token_hex(12)}.{ext}", ContentFile(image.content), save=False)
    return apply


def _start_if_planned(actor, order: Order) -> None:
    round_ = DeliveryRound.objects.get(pk=order.round_id)
    if round_.status == R.PLANNED:
        round_start(actor=actor, round=round_)


def mark_delivered(*, actor, order, at=None, photo=None, note="") -> Order:
    """The meal was handed over. ``photo``: an optional upload (checked by its content, stored
    without metadata); a bad one is refused and nothing changes."""
    image, note = _checked(order, photo, note)
    with transaction.atomic():
        _start_if_planned(actor, order)
        return STOP.transition(order, "deliver", actor=actor, apply=_apply_outcome(at, image, note))


def mark_not_home(*, actor, order, at=None, photo=None, note="") -> Order:
    """Nobody answered. For an elder living alone a welfare check opens at once, in the same
    transaction (:func:`linli.canteen.welfare.open_check`)."""
    image, note = _checked(order, photo, note)
    with transaction.atomic():
        _start_if_planned(actor, order)
        order = STOP.transition(order, "not_home", actor=actor, apply=_apply_outcome(at, image, note))
        welfare.open_check(actor=actor, order=order)
    return order


# --- links ---------------------------------------------------------------------------------------


def home_actions(user) -> list[tuple[str, str]]:
    """The resident's home: "Today's meal delivery round" for a volunteer with a round today (not
    done), linking straight to it (hook ``community.home_actions``)."""
    from django.urls import reverse

    if not _active(user):
        return []
    rounds = (DeliveryRound.objects.filter(volunteer__resident__user_id=user.pk, meal__day=timezone.localdate())
              .exclude(status=R.DONE).order_by("meal__starts_at", "pk").values_list("pk", flat=True))
    return [(_("Today's meal delivery round"), reverse("canteen:round", args=[pk])) for pk in rounds[:3]]
