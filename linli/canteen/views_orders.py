"""The residents' canteen pages and the counter (docs/canteen.md, "Orders" and "Counter").

Residents (phone-sized, no script needed, the large-text mode):

- ``canteen:week`` (``/canteen/``): this week's published menu of the resident's community as a
  list by day — dishes with their tags in words, the price in yuan and what the resident pays,
  places left, the cut-off spelled out, one big "Order" button per meal.
- ``canteen:meal`` (``/canteen/meal/<pk>/``): one meal's order form (at the canteen / delivered —
  only where allowed, otherwise why and how to ask the office —, portions, payment), then a
  check-and-confirm step, then the order.
- ``canteen:order`` (``/canteen/orders/<pk>/``): one order; ``canteen:mine`` (``/canteen/mine/``):
  upcoming and past orders with the delivery's status; ``canteen:cancel``
  (``/canteen/orders/<pk>/cancel/``): the confirm page.

The counter (``canteen:counter``, ``/canteen/<code>/counter/``), a tablet at the canteen: one big
input the QR scanner types into (the code and Enter); then the resident's masked name, today's
orders with one tap to serve each, and selling an on-site meal now. The resident found is carried
from one tap to the next in a signed, short-lived form field — never in the URL.

Views parse, authorise, call one service of :mod:`linli.canteen.orders` and render; a refusal
is shown in words with its status.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Community, Resident
from linli.core.errors import InvalidInput, LinliError, NotFound
from linli.core.web import no_store
from linli.points.models import Account

from . import menus, orders as ordering, payment as paying, rules
from .forms_orders import NONCE_LENGTH, LookupForm, OrderForm, SellForm
from .models import Canteen, Meal, Order

S = Order.Status
COUNTER_SALT = "linli.canteen.counter"
COUNTER_MAX_AGE = 15 * 60  # a resident found at the counter stays on the page this long
PAST_PER_PAGE = 20


# --- words ----------------------------------------------------------------------------------------


def yuan(fen: int) -> str:
    """``1200`` → ``"12.00 元"`` (in the user's language)."""
    return _("%(amount)s yuan") % {"amount": paying.yuan(fen)}


def date_words(day: dt.date) -> str:
    """"Wednesday, 12/9" (in Chinese "12月9日 星期三")."""
    return _("%(weekday)s, %(month)d/%(day)d") % {"weekday": WEEKDAYS[day.weekday()], "month": day.month,
                                                  "day": day.day}


def day_label(day: dt.date, today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    words = {0: _("Today"), 1: _("Tomorrow")}.get((day - today).days)
    return f"{words} · {date_words(day)}" if words else date_words(day)


def cutoff_text(meal: Meal, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    local = timezone.localtime(meal.cutoff_at)
    time = local.strftime("%H:%M")
    if now >= meal.cutoff_at:
        return _("Orders closed at %(time)s.") % {"time": time}
    days = (local.date() - timezone.localdate(now)).days
    if days == 0:
        return _("Order by %(time)s today.") % {"time": time}
    if days == 1:
        return _("Order by %(time)s tomorrow.") % {"time": time}
    return _("Order by %(time)s on %(day)s.") % {"time": time, "day": date_words(local.date())}


def status_words(order: Order) -> str:
    words = {
        S.ORDERED: _("Ordered"), S.SERVED: _("Served"), S.OUT: _("On the way to you"),
        S.DELIVERED: _("Delivered"), S.NOT_HOME: _("Nobody was at home"), S.CANCELLED: _("Cancelled"),
    }
    return str(words.get(order.status, order.get_status_display()))


def office_phone(canteen) -> str:
    """The number residents call about the canteen (``Canteen.phone``: the canteen's or the
    office's, a public number, not personal data); "" when the office has not set one."""
    return canteen.phone if canteen is not None else ""


def _times(meal: Meal) -> str:
    return f"{timezone.localtime(meal.starts_at):%H:%M}–{timezone.localtime(meal.ends_at):%H:%M}"


def _dishes(meal: Meal) -> list[dict]:
    return [{"name": item.dish.name, "tags": list(item.dish.tags or ()),
             "tag_labels": [t["label"] for t in menus.tag_labels(item.dish.tags)],
             "tag_items": menus.tag_labels(item.dish.tags)}
            for item in meal.items.all()]


def meal_cards(resident: Resident, meals: list[Meal], *, now: dt.datetime | None = None) -> list[dict]:
    """What a resident sees of each meal: dishes, places, what they pay for one portion, whether
    delivery is allowed, their order, the cut-off in words."""
    from . import eligibility, subsidies

    now = now or timezone.now()
    allowed: dict[tuple[int, dt.date], tuple[bool, str]] = {}
    mine = {o.meal_id: o for o in Order.objects.filter(resident=resident, meal__in=[m.pk for m in meals])
            .exclude(status=S.CANCELLED)}
    cards = []
    for meal in meals:
        key = (meal.canteen_id, meal.day)
        if key not in allowed:
            allowed[key] = eligibility.delivery_allowed(meal.canteen, resident, on=meal.day)
        subsidy = subsidies.subsidy_for(meal.canteen, resident, price_fen=meal.price_fen, quantity=1, on=meal.day)
        onsite_left, delivery_left = menus.places_left(meal, False), menus.places_left(meal, True)
        closed = now >= meal.cutoff_at
        cards.append({
            "meal": meal, "kind": meal.get_kind_display(), "dishes": _dishes(meal),
            "price": yuan(meal.price_fen), "pay": yuan(subsidy.payable_fen), "payable_fen": subsidy.payable_fen,
            "subsidy_fen": subsidy.subsidy_fen, "subsidised": subsidy.subsidy_fen > 0,
            "onsite_left": onsite_left, "delivery_left": delivery_left,
            "delivery_allowed": allowed[key][0], "order": mine.get(meal.pk),
            "cutoff": cutoff_text(meal, now), "closed": closed,
            "times": _times(meal),
            "may_order": not closed and meal.pk not in mine
            and (onsite_left > 0 or (allowed[key][0] and delivery_left > 0)),
        })
    return cards


# --- helpers --------------------------------------------------------------------------------------


def _nonce() -> str:
    return secrets.token_hex(NONCE_LENGTH // 2)


def _idempotency(request, nonce: str) -> tuple[str, str] | None:
    """A form's one-time number as the idempotency key: a double tap orders once."""
    nonce = (nonce or "").strip()
    if len(nonce) != NONCE_LENGTH or not all(c in "0123456789abcdef" for c in nonce):
        return None
    return f"{ordering.SCOPE}:{request.user.pk}", f"web-{nonce}"


def _office_index_url() -> str:
    try:
        return reverse("canteen:office_index")
    except NoReverseMatch:
        return "/"


def _not_resident(request):
    return render(request, "canteen/week.html", {"not_resident": True, "office_url": _office_index_url()},
                  status=403)


def _balance(resident) -> int:
    return Account.objects.filter(resident=resident).values_list("balance", flat=True).first() or 0


# --- the week's menu ------------------------------------------------------------------------------


@login_required
@no_store
def week(request):
    resident = ordering.own_resident(request.user)
    if resident is None:
        return _not_resident(request)
    today = timezone.localdate()
    this_monday = menus.monday_of(today)
    monday = this_monday
    if request.GET.get("week") == "next":
        monday = this_monday + dt.timedelta(days=7)
    canteens = list(Canteen.objects.filter(community_id=resident.community_id, active=True)
                    .select_related("community", "partner").order_by("name", "id"))
    blocks = []
    for canteen in canteens:
        days = []
        for day, meals in menus.week_menu(canteen, monday):
            if day < today:
                continue
            for meal in meals:
                meal.canteen = canteen
            days.append({"day": day, "label": day_label(day, today), "cards": meal_cards(resident, meals)})
        blocks.append({"canteen": canteen, "days": days})
    return render(request, "canteen/week.html", {
        "blocks": blocks, "next_week": monday == this_monday, "monday": monday, "resident": resident,
        "office_phone": office_phone(canteens[0] if canteens else None),
    })


# --- one meal: the order form, check, confirm ------------------------------------------------------


def _meal_for(resident, pk) -> Meal:
    meal = (Meal.objects.select_related("canteen__community", "canteen__partner")
            .filter(pk=pk, canteen__community_id=resident.community_id, status__in=(Meal.Status.PUBLISHED,
                                                                                   Meal.Status.CANCELLED)).first())
    if meal is None:
        raise Http404
    return meal


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def meal(request, pk: int):
    resident = ordering.own_resident(request.user)
    if resident is None:
        return _not_resident(request)
    meal = _meal_for(resident, pk)
    canteen = meal.canteen
    card = meal_cards(resident, [meal])[0]
    takes_points = paying.takes_points(canteen)
    form_args = {"max_quantity": int(canteen.max_quantity or 1), "delivery_allowed": card["delivery_allowed"],
                 "takes_points": takes_points}
    context = {"meal": meal, "card": card, "canteen": canteen, "office_phone": office_phone(canteen),
               "takes_points": takes_points, "balance": _balance(resident) if takes_points else None,
               "day": day_label(meal.day)}
    step = request.POST.get("step") if request.method == "POST" else None
    if step not in ("check", "order"):
        form = OrderForm(initial={"where": "onsite", "quantity": 1, "payment": Order.Payment.CASH}, **form_args)
        return render(request, "canteen/meal.html", {**context, "form": form})
    form = OrderForm(request.POST, **form_args)
    if not form.is_valid():
        return render(request, "canteen/meal.html", {**context, "form": form}, status=400)
    data = form.cleaned_data
    delivery = data["where"] == "delivery"
    if step == "check":
        from . import subsidies

        subsidy = subsidies.subsidy_for(canteen, resident, price_fen=meal.price_fen, quantity=data["quantity"],
                                        on=meal.day)
        points = paying.points_for(canteen, subsidy.payable_fen) if data["payment"] == Order.Payment.POINTS else 0
        return render(request, "canteen/order_confirm.html", {
            **context, "data": data, "delivery": delivery, "nonce": _nonce(),
            "total": yuan(meal.price_fen * data["quantity"]), "subsidy": yuan(subsidy.subsidy_fen),
            "subsidised": subsidy.subsidy_fen > 0, "pay": yuan(subsidy.payable_fen), "points": points,
            "payment_label": dict(form.fields["payment"].choices)[data["payment"]],
            "cutoff_time": timezone.localtime(meal.cutoff_at).strftime("%H:%M")})
    try:
        order, _created = ordering.order_place(
            actor=request.user, resident=resident, meal=meal, quantity=data["quantity"], delivery=delivery,
            payment=data["payment"], channel=Order.Channel.ONLINE,
            idempotency=_idempotency(request, request.POST.get("nonce", "")))
    except LinliError as error:
        return render(request, "canteen/meal.html", {**context, "form": OrderForm(
            initial={"where": data["where"], "quantity": data["quantity"], "payment": data["payment"]}, **form_args),
            "error": error}, status=error.status)
    messages.success(request, _("Your order is in."))
    return redirect("canteen:order", pk=order.pk)


# --- my orders ------------------------------------------------------------------------------------


def _row(user, order: Order, now) -> dict:
    return {"order": order, "day": day_label(order.meal.day), "kind": order.meal.get_kind_display(),
            "status": status_words(order), "pay": yuan(order.payable_fen), "price": yuan(order.unit_price_fen),
            "subsidy": yuan(order.subsidy_fen), "may_cancel": ordering.may_cancel(user, order, now=now),
            "cutoff": cutoff_text(order.meal, now),
            "times": _times(order.meal)}


def _own_order(request, pk) -> Order:
    resident = ordering.own_resident(request.user)
    order = (Order.objects.select_related("meal", "canteen__community", "canteen__partner", "resident")
             .filter(pk=pk).first())
    if resident is None or order is None or order.resident_id != resident.pk:
        raise Http404
    return order


@login_required
@no_store
def order_detail(request, pk: int):
    order = _own_order(request, pk)
    return render(request, "canteen/order.html", {
        "row": _row(request.user, order, timezone.now()), "order": order,
        "office_phone": office_phone(order.canteen)})


@login_required
@no_store
def mine(request):
    resident = ordering.own_resident(request.user)
    if resident is None:
        return _not_resident(request)
    now = timezone.now()
    upcoming, past = ordering.upcoming_and_past(resident, now=now)
    page = Paginator(past, PAST_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "canteen/mine.html", {
        "upcoming": [_row(request.user, o, now) for o in upcoming],
        "past": [_row(request.user, o, now) for o in page.object_list], "page": page})


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def cancel(request, pk: int):
    order = _own_order(request, pk)
    now = timezone.now()
    row = _row(request.user, order, now)
    if request.method == "POST":
        try:
            ordering.order_cancel(actor=request.user, order=order)
        except LinliError as error:
            return render(request, "canteen/cancel.html", {"row": row, "order": order, "error": error},
                          status=error.status)
        if order.points:
            messages.success(request, _("Your order is cancelled. %(points)d points went back to you.")
                             % {"points": order.points})
        else:
            messages.success(request, _("Your order is cancelled."))
        return redirect("canteen:mine")
    return render(request, "canteen/cancel.html", {"row": row, "order": order})


# --- the counter ----------------------------------------------------------------------------------


def _counter_canteen(request, code: str) -> tuple[Canteen, list[Canteen]]:
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    choices = [c for c in Canteen.objects.filter(community=community, active=True)
               .select_related("community", "partner").order_by("name", "id")
               if rules.may_work_counter(request.user, c)]
    if not choices:
        raise Forbidden(_("You do not work a canteen counter in this community."))
    wanted = request.POST.get("canteen") or request.GET.get("canteen")
    return next((c for c in choices if str(c.pk) == wanted), choices[0]), choices


def _who_token(request, canteen: Canteen, resident: Resident) -> str:
    return signing.dumps([resident.pk, canteen.pk], salt=f"{COUNTER_SALT}:{request.user.pk}", compress=True)


def _who(request, canteen: Canteen) -> Resident:
    try:
        resident_id, canteen_id = signing.loads(request.POST.get("who", ""), salt=f"{COUNTER_SALT}:{request.user.pk}",
                                                max_age=COUNTER_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidInput(_("Scan the resident's code again."), code="qr_expired", field="token") from None
    resident = Resident.objects.filter(pk=resident_id, community_id=canteen.community_id).first()
    if resident is None or canteen_id != canteen.pk:
        raise InvalidInput(_("Scan the resident's code again."), code="qr_wrong", field="token")
    return resident


def _sell_form(canteen: Canteen, data=None):
    meals = ordering.meals_on_sale(canteen)
    choices = [(m.pk, _("%(meal)s — %(left)d places left") % {"meal": m.get_kind_display(),
                                                              "left": menus.places_left(m, False)}) for m in meals]
    initial = {"quantity": 1, "payment": Order.Payment.CASH, "nonce": _nonce()}
    if len(choices) == 1:
        initial["meal"] = choices[0][0]
    return SellForm(data, initial=initial, meals=choices, max_quantity=int(canteen.max_quantity or 1),
                    takes_points=paying.takes_points(canteen)), meals


def _today_counts(canteen: Canteen) -> list[dict]:
    """Today's meals with their on-site orders to serve and served (counts, no names)."""
    rows = []
    for meal in Meal.objects.filter(canteen=canteen, day=timezone.localdate()).exclude(
            status=Meal.Status.DRAFT).order_by("starts_at"):
        live = Order.objects.filter(meal=meal, delivery=False)
        rows.append({"meal": meal, "kind": meal.get_kind_display(),
                     "to_serve": live.filter(status=S.ORDERED).count(),
                     "served": live.filter(status=S.SERVED).count(),
                     "left": menus.places_left(meal, False),
                     "delivery": Order.objects.filter(meal=meal, delivery=True).exclude(status=S.CANCELLED).count()})
    return rows


def _found(request, canteen: Canteen, resident: Resident) -> dict:
    orders = ordering.today_for(canteen, resident)
    return {"who": str(resident.name) if resident.name else "", "token": _who_token(request, canteen, resident),
            "orders": [{"order": o, "kind": o.meal.get_kind_display(), "status": status_words(o),
                        "pay": yuan(o.payable_fen),
                        "may_serve": o.status == S.ORDERED and not o.delivery} for o in orders]}


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def counter(request, code: str):
    canteen, choices = _counter_canteen(request, code)
    action = request.POST.get("action") if request.method == "POST" else None
    lookup_form = LookupForm()
    found = error = None
    done = ""
    sell_data = None
    if action == "lookup":
        lookup_form = LookupForm(request.POST)
        if lookup_form.is_valid():
            try:
                resident = ordering.counter_lookup(actor=request.user, canteen=canteen,
                                                   token=lookup_form.cleaned_data["token"])
                found = _found(request, canteen, resident)
            except LinliError as exc:
                error = exc
            lookup_form = LookupForm()
        else:
            error = InvalidInput(_("Scan the resident's code again."), code="qr_wrong", field="token")
    elif action in ("serve", "sell"):
        try:
            resident = _who(request, canteen)
            if action == "serve":
                order = Order.objects.filter(pk=request.POST.get("order") or 0, canteen=canteen,
                                             resident=resident).first()
                if order is None:
                    raise NotFound(_("No such order."), code="not_found")
                order = ordering.order_serve(actor=request.user, order=order)
                done = _("Served: %(meal)s × %(n)d for %(who)s.") % {
                    "meal": order.meal.get_kind_display(), "n": order.quantity, "who": str(resident.name)}
            else:
                sell_data = request.POST
                form, _meals = _sell_form(canteen, request.POST)
                if not form.is_valid():
                    raise InvalidInput(_("Choose the meal, the portions and the payment."), code="invalid")
                meal_row = Meal.objects.select_related("canteen").get(pk=form.cleaned_data["meal"])
                nonce = form.cleaned_data.get("nonce") or ""
                order, _created = ordering.counter_sell(
                    actor=request.user, canteen=canteen, resident=resident, meal=meal_row,
                    quantity=form.cleaned_data["quantity"], payment=form.cleaned_data["payment"],
                    idempotency=_idempotency(request, nonce))
                done = _("Sold and served: %(meal)s × %(n)d for %(who)s, %(pay)s.") % {
                    "meal": order.meal.get_kind_display(), "n": order.quantity, "who": str(resident.name),
                    "pay": yuan(order.payable_fen) if order.payment != Order.Payment.POINTS
                    else _("%(n)d points") % {"n": order.points}}
                sell_data = None
            found = _found(request, canteen, resident)
        except LinliError as exc:
            error = exc
            try:
                found = _found(request, canteen, _who(request, canteen))
            except LinliError:
                found = None
    if sell_data is not None:  # refused: the cashier's choices stay, with a new one-time number
        sell_data = sell_data.copy()
        sell_data["nonce"] = _nonce()
    sell_form, on_sale = _sell_form(canteen, sell_data)
    status = error.status if error is not None else 200
    return render(request, "canteen/counter.html", {
        "canteen": canteen, "canteens": choices, "community": canteen.community, "lookup_form": lookup_form,
        "found": found, "error": error, "done": done, "sell_form": sell_form, "on_sale": on_sale,
        "today": _today_counts(canteen), "today_label": day_label(timezone.localdate()),
        "may_phone": rules.is_office(request.user, canteen.community),
    }, status=status)
