"""Pages of the delivery part (docs/canteen.md, "Delivery" and "Statements").

- ``canteen:rounds`` (``/canteen/<code>/rounds/?date=YYYY-MM-DD``): the office's, the canteen
  staff's and a grid worker's list of a day's meals, their rounds and the deliveries not yet on a
  round per courtyard; plan a round (``canteen:round_plan``, POST).
- ``canteen:round`` (``/canteen/round/<pk>/``): the round for a phone, outdoors, one hand: stops in
  walking order grouped by courtyard and building, a big "Delivered" and a big "Not at home" per
  stop (each a POST form, ``canteen:round_stop``, with an optional photo straight from the camera
  and a note), done stops greyed with their time; start / finish (``canteen:round_move``). No
  script. Only the round's volunteer (on its day), its runner, the office, the canteen's staff
  and the courtyard's grid worker; anyone else gets 404.
- ``canteen:sheet`` (``/canteen/<code>/sheet/<date>.pdf``): the printable sheet, staff only.
- ``canteen:statement`` (``/canteen/<code>/office/statement/<year>/<month>/``): the month's
  statement and the "publish on the board" button (office).
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from linli.community.models import Community, Grid
from linli.core.errors import LinliError
from linli.core.web import no_store
from linli.volunteers import rules as vrules
from linli.volunteers.models import Volunteer

from . import delivery, orders, rules, sheet, statements
from .forms_delivery import PlanForm, StopForm
from .models import Canteen, DeliveryRound, Meal, Order

O = Order.Status


def _community(code) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    return community


def _refused(request, error: LinliError, *, back: str = ""):
    return render(request, "canteen/delivery_refused.html",
                  {"message": error.message, "code": error.code, "back": back or request.path}, status=error.status)


def _day(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Http404 from None


def _visible_canteens(user, community) -> list[Canteen]:
    return [c for c in Canteen.objects.filter(community=community).select_related("partner", "community")
            .order_by("-active", "name", "pk") if delivery.may_see_rounds(user, c)]


# --- the round list ----------------------------------------------------------------------------------


def _grids_for(user, canteen) -> tuple[list[Grid], bool]:
    """The courtyards this account may plan in, and whether "all courtyards" is offered."""
    if rules.may_work_counter(user, canteen):
        return list(Grid.objects.filter(community_id=canteen.community_id).order_by("code")), True
    mine = delivery.grid_worker_grids(user, canteen.community_id)
    return list(Grid.objects.filter(pk__in=mine).order_by("code")), False


def _volunteers_for(user, canteen, grids) -> list[Volunteer]:
    """Active volunteers the account may assign: the community's for the office (a round with a
    volunteer is a volunteers activity, which the office or a grid worker organises), those of the
    grid worker's courtyards for a grid worker, none for the canteen's staff."""
    if not vrules.may_organise(user, canteen.community):
        return []
    qs = Volunteer.objects.filter(community_id=canteen.community_id, status=Volunteer.Status.ACTIVE)
    scope = vrules.office_grids(user, canteen.community)
    if scope is not None:
        qs = qs.filter(grid_id__in=scope)
    return list(qs.select_related("resident").order_by("pk")[:300])


def _meal_block(user, meal: Meal, grids, volunteers, all_courtyards: bool) -> dict:
    grid_ids = {g.pk for g in grids}
    rounds = [r for r in meal.rounds.select_related("grid", "volunteer__resident").annotate(
        n_stops=Count("stops")).order_by("pk")
        if rules.may_work_counter(user, meal.canteen) or r.grid_id in grid_ids or r.runner_id == user.pk]
    waiting = (delivery.planned_orders(meal).order_by().values("resident__household__grid__name",
                                                                "resident__household__grid")
               .annotate(n=Count("pk")).order_by("resident__household__grid__name"))
    if not all_courtyards:
        waiting = waiting.filter(resident__household__grid__in=grid_ids)
    return {"meal": meal, "rounds": rounds, "waiting": list(waiting),
            "form": PlanForm(initial={"meal": meal.pk}, grids=grids, volunteers=volunteers,
                             all_courtyards=all_courtyards)}


@require_http_methods(["GET", "HEAD"])
@login_required
@no_store
def round_list(request, code):
    community = _community(code)
    canteens = _visible_canteens(request.user, community)
    if not canteens:
        raise Http404
    day = _day(request.GET.get("date"))
    blocks = []
    for canteen in canteens:
        grids, all_courtyards = _grids_for(request.user, canteen)
        volunteers = _volunteers_for(request.user, canteen, grids)
        meals = (Meal.objects.filter(canteen=canteen, day=day, status=Meal.Status.PUBLISHED)
                 .select_related("canteen").order_by("starts_at"))
        blocks.append({"canteen": canteen, "meals": [_meal_block(request.user, m, grids, volunteers, all_courtyards)
                                                     for m in meals],
                       "may_print": rules.may_work_counter(request.user, canteen)})
    return render(request, "canteen/rounds.html", {
        "community": community, "day": day, "blocks": blocks,
        "prev": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1)})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def round_plan(request, code):
    """POST: plan a round. GET: the plan forms are those of the round list."""
    if request.method != "POST":
        return round_list(request, code)
    community = _community(code)
    meal = get_object_or_404(Meal.objects.select_related("canteen__community", "canteen__partner"),
                             pk=request.POST.get("meal") or 0, canteen__community=community)
    canteen = meal.canteen
    if not delivery.may_see_rounds(request.user, canteen):
        raise Http404
    grids, all_courtyards = _grids_for(request.user, canteen)
    volunteers = _volunteers_for(request.user, canteen, grids)
    form = PlanForm(request.POST, grids=grids, volunteers=volunteers, all_courtyards=all_courtyards)
    back = reverse("canteen:rounds", args=[code]) + f"?date={meal.day.isoformat()}"
    if not form.is_valid():
        messages.error(request, _("Check the courtyard and the volunteer."))
        return redirect(back)
    grid = next((g for g in grids if g.pk == form.cleaned_data["grid"]), None)
    volunteer = next((v for v in volunteers if v.pk == form.cleaned_data["volunteer"]), None)
    runner = request.user if form.cleaned_data["run_myself"] else None
    try:
        round_ = delivery.round_plan(actor=request.user, meal=meal, grid=grid, volunteer=volunteer, runner=runner)
    except LinliError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, _("Round planned with %(n)d stops.") % {"n": round_.stops.count()})
    return redirect(back)


# --- the round page for a phone -----------------------------------------------------------------


def _round(request, pk) -> DeliveryRound:
    round_ = (DeliveryRound.objects.select_related("canteen__community", "canteen__partner", "meal", "grid",
                                                   "volunteer__resident", "activity__community")
              .filter(pk=pk).first())
    if round_ is None:
        raise Http404
    if not delivery.may_run(request.user, round_):
        if delivery.is_round_volunteer(request.user, round_):
            raise _WrongDay(round_)
        raise Http404
    return round_


class _WrongDay(Exception):
    def __init__(self, round_):
        self.round = round_


def _groups(stops: list[Order]) -> list[dict]:
    """Stops grouped by courtyard, then building, keeping the walking order."""
    out = []
    for (grid_name, building_name), rows in groupby(
            stops, key=lambda o: (o.resident.household.grid.name, o.resident.household.building.name)):
        if out and out[-1]["courtyard"] == grid_name:
            out[-1]["buildings"].append({"building": building_name, "stops": list(rows)})
        else:
            out.append({"courtyard": grid_name, "buildings": [{"building": building_name, "stops": list(rows)}]})
    return out


def _dishes(meal: Meal) -> list[dict]:
    from .menus import DISH_TAGS

    return [{"name": item.dish.name, "tags": [DISH_TAGS.get(t, t) for t in (item.dish.tags or [])]}
            for item in meal.items.select_related("dish").order_by("position", "pk")]


@require_safe
@login_required
@no_store
def round_page(request, pk):
    try:
        round_ = _round(request, pk)
    except _WrongDay as wrong:
        return render(request, "canteen/round_wrong_day.html", {"round": wrong.round}, status=403)
    stops = list(delivery.stops_of(round_))
    for stop in stops:
        stop.pay_yuan = statements.yuan(stop.payable_fen)
    done = sum(1 for s in stops if s.status in (O.DELIVERED, O.NOT_HOME))
    qr_url = ""
    if round_.activity_id and vrules.may_run_activity(request.user, round_.activity):
        qr_url = reverse("volunteers:qr", args=[round_.canteen.community.code, round_.activity_id])
    return render(request, "canteen/round.html", {
        "round": round_, "groups": _groups(stops), "total": len(stops), "done": done, "qr_url": qr_url,
        "dishes": _dishes(round_.meal), "moves": delivery.ROUND.allowed(request.user, round_),
        "form": StopForm(), "live": (O.ORDERED, O.OUT)})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def round_stop(request, pk, order):
    """GET: one stop on its own (a link to share with whoever takes it over); POST: its outcome."""
    try:
        round_ = _round(request, pk)
    except _WrongDay:
        raise Http404 from None
    stop = delivery.stops_of(round_).filter(pk=order).first()
    if stop is None:
        raise Http404
    if request.method != "POST":
        stop.pay_yuan = statements.yuan(stop.payable_fen)
        return render(request, "canteen/round_stop.html", {
            "round": round_, "stop": stop, "dishes": _dishes(round_.meal), "live": (O.ORDERED, O.OUT)})
    form = StopForm(request.POST, request.FILES)
    back = reverse("canteen:round", args=[round_.pk]) + f"#stop-{stop.pk}"
    if not form.is_valid():
        messages.error(request, _("Press “Delivered” or “Not at home”; a note has at most 200 characters."))
        return redirect(back)
    data = form.cleaned_data
    mark = delivery.mark_delivered if data["outcome"] == "delivered" else delivery.mark_not_home
    try:
        stop = mark(actor=request.user, order=stop, photo=data["photo"], note=data["note"])
    except LinliError as error:
        return _refused(request, error, back=back)
    if (data["paid"] and data["outcome"] == "delivered" and not stop.paid
            and stop.payment in (Order.Payment.CASH, Order.Payment.MOBILE)):
        try:  # the delivery stands even where the payment cannot be recorded by this account
            orders.order_mark_paid(actor=request.user, order=stop, method=stop.payment)
        except LinliError as error:
            messages.error(request, error.message)
    if stop.welfare_case_id:
        messages.warning(request, _("Nobody at home: a welfare check was opened and the grid worker is told. "
                                    "Thank you."))
    else:
        messages.success(request, _("Stop %(n)s marked.") % {"n": stop.stop_position})
    return redirect(reverse("canteen:round", args=[round_.pk]) + f"#stop-{stop.pk}")


@require_POST
@login_required
@no_store
def round_move(request, pk, move):
    try:
        round_ = _round(request, pk)
    except _WrongDay:
        raise Http404 from None
    action = {"start": delivery.round_start, "finish": delivery.round_finish}.get(move)
    if action is None:
        raise Http404
    try:
        action(actor=request.user, round=round_)
    except LinliError as error:
        return _refused(request, error, back=reverse("canteen:round", args=[round_.pk]))
    messages.success(request, delivery.ROUND.move(move).message)
    return redirect("canteen:round", pk=round_.pk)


# --- the sheet -----------------------------------------------------------------------------------


@require_safe
@login_required
@no_store
def sheet_pdf(request, code, date):
    community = _community(code)
    day = _day(date)
    canteens = [c for c in Canteen.objects.filter(community=community).select_related("partner")
                if rules.may_work_counter(request.user, c)]
    if not canteens:
        raise Http404
    response = HttpResponse(sheet.sheet_pdf(canteens, day, community_name=community.name),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="delivery-{day.isoformat()}.pdf"'
    return response


# --- the statement -------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def statement(request, code, year, month):
    community = _community(code)
    canteens = [c for c in Canteen.objects.filter(community=community).select_related("partner", "community")
                .order_by("-active", "name", "pk") if statements.may_read(request.user, c)]
    if not canteens:
        raise Http404
    wanted = request.POST.get("canteen") or request.GET.get("canteen")
    canteen = next((c for c in canteens if str(c.pk) == wanted), canteens[0])
    try:
        data = statements.monthly_statement(canteen, year, month)
    except LinliError:
        raise Http404 from None
    if request.method == "POST":
        try:
            statements.publish_statement(actor=request.user, canteen=canteen, year=year, month=month)
        except LinliError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The statement is on the public board."))
        return redirect(reverse("canteen:statement", args=[code, year, month]) + f"?canteen={canteen.pk}")
    title, body = statements.statement_text(data)
    first = dt.date(year, month, 1)
    prev = (first - dt.timedelta(days=1))
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return render(request, "canteen/statement.html", {
        "community": community, "canteen": canteen, "canteens": canteens, "s": data, "title": title,
        "body": body, "entry_id": statements.published_entry_id(canteen, year, month),
        "may_publish": statements.may_publish(request.user, canteen),
        "over": nxt <= timezone.localdate(), "prev": prev, "next": nxt,
        "yuan": {k: statements.yuan(data[k]) for k in ("subsidy_fen", "cash_fen", "mobile_fen")},
        "rows": [{**r, "yuan": statements.yuan(r["subsidy_fen"])} for r in data["subsidies"]]})

