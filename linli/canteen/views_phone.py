"""Orders taken by phone (docs/canteen.md, "Orders by phone").

Many elders order by calling the canteen or the office. ``canteen:phone_order``
(``/canteen/<code>/counter/phone/``) lets the community office find the caller in the registry (by full name, mobile or ID number: a POST, so none of it travels in a URL), see their
masked name, courtyard, age and whether meals may be delivered to them, and place the order through
:func:`linli.canteen.orders.order_place` with channel ``phone``: every rule of an online order holds
(cut-off, capacity, eligibility for delivery, one order per meal, subsidies). The resident pays in
cash or by mobile payment when the meal is served or delivered; points need the resident's own
consent, so a phone order does not spend them.

Only the office: the canteen's staff have no registry search (a phone number is not theirs to look
up); they serve residents by the QR code at the counter and pass phone calls to the office.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Resident
from linli.community.selectors import resident_search
from linli.core.errors import InvalidInput, LinliError
from linli.core.web import no_store

from . import eligibility, menus, orders as ordering, rules
from .models import Meal, Order
from .views_orders import _counter_canteen, _idempotency, _nonce, _who, _who_token, yuan

MAX_FOUND = 10


def phone_meals(canteen, *, now=None) -> list[Meal]:
    """The published meals of the next seven days still open for pre-orders (before their cut-off)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return list(Meal.objects.filter(canteen=canteen, status=Meal.Status.PUBLISHED, cutoff_at__gt=now,
                                    day__gte=today, day__lte=today + dt.timedelta(days=7))
                .order_by("starts_at"))


def _caller(request, canteen, resident: Resident) -> dict:
    today = timezone.localdate()
    allowed, reason = eligibility.delivery_allowed(canteen, resident, on=today)
    return {"resident": resident, "name": resident.name.masked, "grid": resident.grid.name,
            "age": resident.age(today), "delivery": allowed,
            "reason": "" if allowed else _("Meals are not delivered to them: they meet none of the canteen's "
                                           "criteria. The office can grant a delivery permit."),
            "token": _who_token(request, canteen, resident)}


def _meal_rows(canteen, meals) -> list[dict]:
    return [{"meal": m, "label": _("%(day)s %(meal)s, %(price)s — %(onsite)d places at the canteen, %(delivery)d "
                                   "for delivery, order by %(cutoff)s") % {
        "day": m.day.isoformat(), "meal": m.get_kind_display(), "price": yuan(m.price_fen),
        "onsite": menus.places_left(m, False), "delivery": menus.places_left(m, True),
        "cutoff": timezone.localtime(m.cutoff_at).strftime("%H:%M")}} for m in meals]


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def phone_order(request, code: str):
    canteen, choices = _counter_canteen(request, code)
    if not rules.is_office(request.user, canteen.community):
        raise Forbidden(_("Orders by phone are taken by the community office."))
    action = request.POST.get("action") if request.method == "POST" else None
    query, found, caller, error = "", [], None, None
    if action == "find":
        query = request.POST.get("query", "").strip()[:64]
        if query:
            found = [_caller(request, canteen, r) for r in resident_search(request.user, query=query)
                     .filter(community_id=canteen.community_id).select_related("grid")[:MAX_FOUND]]
    elif action in ("choose", "order"):
        try:
            caller = _caller(request, canteen, _who(request, canteen))
            if action == "order":
                meal = Meal.objects.filter(pk=request.POST.get("meal") or 0, canteen=canteen).first()
                if meal is None:
                    raise InvalidInput(_("Choose the meal."), code="meal", field="meal")
                payment = request.POST.get("payment")
                if payment not in (Order.Payment.CASH, Order.Payment.MOBILE):
                    raise InvalidInput(_("Choose how they will pay: cash or mobile payment."), code="payment",
                                       field="payment")
                quantity = request.POST.get("quantity", "")
                quantity = int(quantity) if quantity.isdigit() and len(quantity) < 3 else quantity
                order, _created = ordering.order_place(
                    actor=request.user, resident=caller["resident"], meal=meal,
                    quantity=quantity, delivery=request.POST.get("where") == "delivery",
                    payment=payment, channel=Order.Channel.PHONE,
                    idempotency=_idempotency(request, request.POST.get("nonce", "")))
                messages.success(request, _("Ordered for %(who)s: %(day)s %(meal)s × %(n)d, %(where)s; to pay "
                                            "%(pay)s.") % {
                    "who": caller["name"], "day": meal.day.isoformat(), "meal": meal.get_kind_display(),
                    "n": order.quantity, "pay": yuan(order.payable_fen),
                    "where": _("delivered") if order.delivery else _("at the canteen")})
                return redirect(reverse("canteen:phone_order", kwargs={"code": code}) + f"?canteen={canteen.pk}")
        except LinliError as exc:
            error = exc
    status = error.status if error is not None else 200
    return render(request, "canteen/phone_order.html", {
        "canteen": canteen, "canteens": choices, "community": canteen.community, "query": query,
        "searched": action == "find", "found": found, "caller": caller, "error": error,
        "meals": _meal_rows(canteen, phone_meals(canteen)) if caller else [],
        "quantities": range(1, int(canteen.max_quantity or 1) + 1), "nonce": _nonce(),
        "posted": request.POST if action == "order" else {},
    }, status=status)
