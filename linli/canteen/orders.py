"""Canteen orders: placing, cancelling, serving at the counter, payment (docs/canteen.md, "Orders"
and "Counter").

Capacity is exact under concurrency. An order takes its places by ONE conditional UPDATE of the
meal's counter inside the order's transaction::

    Meal.objects.filter(pk=…, status="published", onsite_taken__lte=F("onsite_capacity") - q)
                .update(onsite_taken=F("onsite_taken") + q)

— 0 rows: ``Conflict(code="full")``. Nothing reads a count and then inserts: on SQLite the
IMMEDIATE transaction queues the writers, on PostgreSQL the UPDATE re-checks the row after a
concurrent commit; the table's CHECK (``onsite_taken <= onsite_capacity``) is the backstop. One
live order per resident and meal is the conditional UNIQUE ``canteen_order_one_per_meal``
(``already_ordered``). A cancellation gives the places back (``F - q``) and the points back
(:func:`linli.canteen.payment.refund`) in the same transaction.

Every refusal is a :mod:`linli.core.errors` error with a code and a translated message, and
changes nothing: no order, no places taken, no points moved.

The order's price is copied from the meal when it is placed (``unit_price_fen``, ``subsidy_fen``,
``payable_fen``): a later change of the meal's price does not touch it.

Status changes go through :data:`ORDER` (a :class:`linli.core.workflow.Workflow` named
``canteen``, whose verbs are ``canteen.order_cancelled`` and ``canteen.order_served``).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.models import Resident
from linli.core import events
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linli.core.workflow import Move, Workflow
from linli.points import tokens
from linli.points.models import IdempotencyKey
from . import payment as paying
from . import rules
from .models import Canteen, Meal, Order

S = Order.Status
LIVE = (S.ORDERED, S.SERVED, S.OUT, S.DELIVERED, S.NOT_HOME)
SCOPE = "canteen.orders"
CANCEL_REASON_MAX = 200

EVENTS = {
    "canteen.order_placed": gettext_lazy("placed a canteen order"),
    "canteen.order_paid": gettext_lazy("recorded a canteen order's payment"),
    "canteen.counter_lookup": gettext_lazy("looked up a resident at the canteen counter"),
}


# --- who may -------------------------------------------------------------------------------------


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)


def is_canteen_staff(user, canteen: Canteen) -> bool:
    """Staff of the canteen's points partner organisation (``unit_staff``), not the office."""
    return rules.is_canteen_staff(user, canteen)


def may_work_counter(user, canteen: Canteen) -> bool:
    """The counter page, serving and selling: the community's office or the canteen's staff."""
    return rules.may_work_counter(user, canteen)


def _is_own(user, resident: Resident) -> bool:
    return _signed_in(user) and resident.user_id is not None and resident.user_id == user.pk


def _may_place(actor, resident: Resident, canteen: Canteen, channel: str) -> bool:
    if channel in (Order.Channel.ONLINE, Order.Channel.API):
        return _is_own(actor, resident) or rules.is_office(actor, canteen.community)
    if channel == Order.Channel.PHONE:
        return rules.is_office(actor, canteen.community) or is_canteen_staff(actor, canteen)
    if channel == Order.Channel.COUNTER:
        return may_work_counter(actor, canteen)
    return False


def _may(actor, order: Order, who: str) -> bool:
    canteen = order.canteen
    if who == "owner_or_staff":
        return _is_own(actor, order.resident) or may_work_counter(actor, canteen)
    if who == "counter":
        return may_work_counter(actor, canteen)
    return False


ORDER = Workflow(
    "canteen_order", verb_prefix="canteen", model=Order, may=_may,
    places=lambda o: {"community": o.canteen.community, "grid": None},
    event_data=lambda o: {"order": o.pk, "meal": o.meal_id, "quantity": o.quantity, "delivery": o.delivery},
    illegal_message=gettext_lazy("This order is %(status)s; “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not change this order."),
    moves=[
        Move("cancel", {S.ORDERED}, S.CANCELLED, who="owner_or_staff", label=gettext_lazy("Cancel the order"),
             verb="order_cancelled", message=gettext_lazy("The order is cancelled."),
             event_label=gettext_lazy("cancelled a canteen order")),
        Move("serve", {S.ORDERED}, S.SERVED, who="counter", label=gettext_lazy("Serve"),
             verb="order_served", message=gettext_lazy("Served."),
             event_label=gettext_lazy("served a canteen order")),
    ],
)


# --- reading -------------------------------------------------------------------------------------


def live_order(meal: Meal, resident: Resident) -> Order | None:
    """The resident's live (not cancelled) order for this meal, if any."""
    return Order.objects.filter(meal=meal, resident=resident).exclude(status=S.CANCELLED).first()


def orders_of(resident: Resident):
    """The resident's orders, newest meal first."""
    return (Order.objects.filter(resident=resident).select_related("meal", "canteen")
            .order_by("-meal__day", "-meal__starts_at", "-id"))


def upcoming_and_past(resident: Resident, *, now: dt.datetime | None = None) -> tuple[list[Order], list[Order]]:
    """(orders whose meal has not ended, oldest first; the rest, newest first)."""
    now = now or timezone.now()
    rows = orders_of(resident)
    upcoming = list(rows.filter(meal__ends_at__gt=now).order_by("meal__starts_at", "id"))
    past = rows.filter(meal__ends_at__lte=now)
    return upcoming, past


def today_for(canteen: Canteen, resident: Resident, *, day: dt.date | None = None) -> list[Order]:
    """The resident's live orders at this canteen today, earliest meal first (the counter)."""
    day = day or timezone.localdate()
    return list(Order.objects.filter(canteen=canteen, resident=resident, meal__day=day)
                .exclude(status=S.CANCELLED).select_related("meal").order_by("meal__starts_at", "id"))


def meals_on_sale(canteen: Canteen, *, now: dt.datetime | None = None) -> list[Meal]:
    """Today's published meals the counter may still sell on site (until they end)."""
    now = now or timezone.now()
    return list(Meal.objects.filter(canteen=canteen, status=Meal.Status.PUBLISHED, day=timezone.localdate(now),
                                    ends_at__gt=now).order_by("starts_at"))


def may_cancel(actor, order: Order, *, now: dt.datetime | None = None) -> bool:
    """Whether :func:`order_cancel` would take it now for this actor."""
    now = now or timezone.now()
    if order.status != S.ORDERED:
        return False
    if may_work_counter(actor, order.canteen):
        return now < order.meal.ends_at
    return _is_own(actor, order.resident) and now < order.meal.cutoff_at


# --- checks --------------------------------------------------------------------------------------


def clean_quantity(quantity, canteen: Canteen) -> int:
    most = int(canteen.max_quantity or 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not (1 <= quantity <= most):
        raise InvalidInput(_("Choose how many portions: a whole number from 1 to %(n)d.") % {"n": most},
                           code="quantity", field="quantity")
    return quantity


def not_eligible_message(reason: str = "") -> str:
    return _("Meals can be delivered only to residents who need it (aged 80 or more, living alone, or with "
             "a disability). Ask the community office to arrange delivery for you (office phone on the page).")


def _request_hash(resident, meal, quantity, delivery, payment, channel) -> str:
    text = f"{resident.pk}|{meal.pk}|{quantity!r}|{int(bool(delivery))}|{payment}|{channel}"
    return hashlib.sha256(text.encode()).hexdigest()


def _check(actor, resident: Resident, meal: Meal, quantity, delivery, payment, channel, now) -> int:
    """Everything that can be refused before a row is touched; returns the quantity."""
    canteen = meal.canteen
    if channel not in Order.Channel.values:
        raise InvalidInput(_("Unknown way of ordering."), code="channel", field="channel")
    if resident.community_id != canteen.community_id:
        raise PermissionDenied(_("This canteen serves another community."), code="other_community")
    if not _may_place(actor, resident, canteen, channel):
        raise PermissionDenied(_("You may order only for yourself."), code="not_own")
    quantity = clean_quantity(quantity, canteen)
    if payment not in Order.Payment.values:
        raise InvalidInput(_("Choose how to pay: cash, mobile payment or points."), code="payment", field="payment")
    if payment == Order.Payment.POINTS and not paying.takes_points(canteen):
        raise InvalidInput(_("This canteen does not take points."), code="payment", field="payment")
    if meal.status != Meal.Status.PUBLISHED or not canteen.active:
        raise Conflict(_("This meal is not open for orders."), code="not_open")
    if now >= meal.ends_at:
        raise Conflict(_("This meal is over."), code="cut_off")
    on_site_at_counter = channel == Order.Channel.COUNTER and not delivery
    if now >= meal.cutoff_at and not on_site_at_counter:
        raise Conflict(_("Orders for this meal closed at %(time)s. You can still eat at the canteen if places "
                         "are left: ask at the counter.") % {"time": timezone.localtime(meal.cutoff_at)
                                                            .strftime("%H:%M")}, code="cut_off")
    if delivery:
        from . import eligibility

        allowed, reason = eligibility.delivery_allowed(canteen, resident, on=meal.day)
        if not allowed:
            raise InvalidInput(not_eligible_message(reason), code="not_eligible", field="delivery")
    return quantity


# --- placing -------------------------------------------------------------------------------------


def order_place(*, actor, resident: Resident, meal: Meal, quantity=1, delivery: bool = False, payment: str = "cash",
                channel: str, idempotency: tuple[str, str] | None = None,
                at: dt.datetime | None = None) -> tuple[Order, bool]:
    """Order ``quantity`` portions of ``meal`` for ``resident``; returns (order, created).

    Refused, nothing changed: ``not_open`` (draft or cancelled meal), ``cut_off`` (after the
    meal's cut-off for pre-orders and deliveries; the counter sells on-site places until the meal
    ends), ``quantity`` (not a whole number in 1..``canteen.max_quantity``), ``not_eligible``
    (delivery not allowed: the message names the route to the office), ``already_ordered``,
    ``full``, ``insufficient_points`` (the ledger), ``PermissionDenied`` (another community's
    resident, or an actor ordering for someone else). With ``idempotency=(scope, key)`` a retry
    returns the first order (created False); the key with another request is
    ``Conflict(code="idempotency_conflict")``."""
    delivery = bool(delivery)
    now = at or timezone.now()
    # The request as sent (before any check): what an Idempotency-Key's retry must repeat.
    request_hash = _request_hash(resident, meal, quantity, delivery, payment, channel)
    # Everything — the key's row, the checks, the places — in ONE transaction: on SQLite the
    # IMMEDIATE transaction makes the writers queue before they read anything they will write.
    if idempotency is None:
        with transaction.atomic():
            return _place(actor, resident, meal, quantity, delivery, payment, channel, None, request_hash, now), True
    try:
        with transaction.atomic():
            return (_place(actor, resident, meal, quantity, delivery, payment, channel, idempotency, request_hash,
                           now), True)
    except IntegrityError:
        found = (IdempotencyKey.objects.filter(scope=idempotency[0], key=idempotency[1])
                 .values_list("request_hash", "response").first())
        if found is None:
            raise
        if found[0] != request_hash:
            raise Conflict(_("This Idempotency-Key was used for a different request."), code="idempotency_conflict")
        return Order.objects.select_related("meal", "canteen").get(pk=found[1]["id"]), False


def _full(delivery: bool) -> Conflict:
    if delivery:
        return Conflict(_("Sorry, no places for delivery are left for this meal."), code="full")
    return Conflict(_("Sorry, this meal is full."), code="full")


def _place(actor, resident, meal, quantity, delivery, payment, channel, idempotency, request_hash, now) -> Order:
    stored = None
    if idempotency is not None:
        # First, so that a twin with the same key waits here until this one commits, then fails.
        stored = IdempotencyKey.objects.create(scope=idempotency[0], key=idempotency[1],
                                               request_hash=request_hash, status=0, response={})
    meal = Meal.objects.select_related("canteen__community", "canteen__partner").get(pk=meal.pk)
    quantity = _check(actor, resident, meal, quantity, delivery, payment, channel, now)
    if live_order(meal, resident) is not None:
        raise Conflict(_("You have already ordered this meal. See “My orders”."), code="already_ordered")
    taken, capacity = ("delivery_taken", "delivery_capacity") if delivery else ("onsite_taken", "onsite_capacity")
    try:
        with transaction.atomic():
            moved = (Meal.objects.filter(pk=meal.pk, status=Meal.Status.PUBLISHED,
                                         **{f"{taken}__lte": F(capacity) - quantity})
                     .update(**{taken: F(taken) + quantity}))
    except IntegrityError as exc:  # the CHECK, the backstop
        raise _full(delivery) from exc
    if not moved:
        current = Meal.objects.filter(pk=meal.pk).values_list("status", flat=True).first()
        if current != Meal.Status.PUBLISHED:
            raise Conflict(_("This meal is not open for orders."), code="not_open")
        raise _full(delivery)
    # The price as it is now, read after the places are taken (the row is this transaction's).
    price_fen = Meal.objects.values_list("price_fen", flat=True).get(pk=meal.pk)
    from . import subsidies

    subsidy = subsidies.subsidy_for(meal.canteen, resident, price_fen=price_fen, quantity=quantity, on=meal.day)
    payable = int(subsidy.payable_fen)
    points = paying.points_for(meal.canteen, payable) if payment == Order.Payment.POINTS else 0
    paid_now = payable == 0 or channel == Order.Channel.COUNTER
    try:
        with transaction.atomic():
            order = Order.objects.create(
                canteen=meal.canteen, meal=meal, resident=resident, quantity=quantity, delivery=delivery,
                channel=channel, status=S.ORDERED, unit_price_fen=price_fen, subsidy_fen=int(subsidy.subsidy_fen),
                payable_fen=payable, subsidy_criterion=subsidy.criterion or "", payment=payment,
                paid=paid_now or points > 0, paid_at=now if (paid_now or points > 0) else None, points=points,
                placed_by=actor if getattr(actor, "pk", None) else None, created_at=now)
    except IntegrityError as exc:
        if "canteen_order_one_per_meal" in str(exc) or "UNIQUE" in str(exc).upper():
            raise Conflict(_("You have already ordered this meal. See “My orders”."),
                           code="already_ordered") from exc
        raise
    if points > 0:
        order.meal = meal
        order.points_transaction = paying.charge(actor=actor, order=order, points=points)
        order.save(update_fields=["points_transaction"])
    if stored is not None:
        stored.status = 201
        stored.response = {"id": order.pk}
        stored.save(update_fields=["status", "response"])
    events.record(actor=actor, verb="canteen.order_placed", target=order, community=meal.canteen.community, at=now,
                  data={"meal": meal.pk, "quantity": quantity, "delivery": delivery, "channel": channel,
                        "payment": payment, "payable_fen": payable, "subsidy_fen": int(subsidy.subsidy_fen),
                        "points": points})
    return order


# --- cancelling ----------------------------------------------------------------------------------


def order_cancel(*, actor, order: Order, reason: str = "", at: dt.datetime | None = None) -> Order:
    """Cancel a live order that is not yet served or out: the resident until the meal's cut-off
    (later: ``Conflict(code="cut_off")``), the office or the canteen's staff until the meal ends
    (later: ``Conflict(code="meal_over")``). The places go back and points paid come back, in the
    same transaction. Event ``canteen.order_cancelled``."""
    reason = (reason or "").strip()
    if len(reason) > CANCEL_REASON_MAX:
        raise InvalidInput(_("The reason is at most %(n)d characters long.") % {"n": CANCEL_REASON_MAX},
                           code="reason", field="reason")
    now = at or timezone.now()
    with transaction.atomic():
        return _cancel(actor, order, reason, now)


def _cancel(actor, order: Order, reason: str, now) -> Order:
    order = Order.objects.select_related("meal", "canteen__community", "canteen__partner", "resident").get(pk=order.pk)
    staff = may_work_counter(actor, order.canteen)

    def apply(row, _now):
        if staff:
            if now >= order.meal.ends_at and order.meal.status != Meal.Status.CANCELLED:
                raise Conflict(_("This meal is over: its orders can no longer be cancelled."), code="meal_over")
        elif now >= order.meal.cutoff_at:
            raise Conflict(_("Orders for this meal closed at %(time)s: it can no longer be cancelled online. "
                             "Please call the canteen or the community office.")
                           % {"time": timezone.localtime(order.meal.cutoff_at).strftime("%H:%M")}, code="cut_off")
        row.cancelled_at = now
        row.cancel_reason = reason
        return S.CANCELLED

    if not (staff or _is_own(actor, order.resident)):
        raise PermissionDenied(_("You may not change this order."), code="not_own")
    if order.status != S.ORDERED:
        raise Conflict(_("This order is %(status)s: it can no longer be cancelled.")
                       % {"status": order.get_status_display()}, code="not_cancellable")
    row = ORDER.transition(order, "cancel", actor=actor, apply=apply, data={"by_staff": staff, "points": order.points})
    taken = "delivery_taken" if row.delivery else "onsite_taken"
    Meal.objects.filter(pk=row.meal_id, **{f"{taken}__gte": row.quantity}).update(**{taken: F(taken) - row.quantity})
    row.meal = order.meal
    row.canteen = order.canteen
    row.resident = order.resident
    if row.points_transaction_id is not None:
        paying.refund(actor=actor, order=row, reason=reason or _("Canteen order cancelled"))
    return row


# --- the counter ---------------------------------------------------------------------------------


def _require_counter(actor, canteen: Canteen) -> None:
    if not may_work_counter(actor, canteen):
        raise PermissionDenied(_("You do not work this canteen's counter."), code="not_counter")


def order_serve(*, actor, order: Order, at: dt.datetime | None = None) -> Order:
    """Serve an on-site order at the counter (office or canteen staff): status served; cash and
    mobile orders are paid now. Only the meal's own day. Event ``canteen.order_served``."""
    now = at or timezone.now()
    with transaction.atomic():
        order = (Order.objects.select_related("meal", "canteen__community", "canteen__partner", "resident")
                 .get(pk=order.pk))
        _require_counter(actor, order.canteen)
        if order.delivery:
            raise Conflict(_("This order is for delivery: it is handed over on the delivery round."),
                           code="delivery_order")
        if timezone.localdate(now) != order.meal.day:
            raise Conflict(_("This order is for another day."), code="not_today")

        def apply(row, _now):
            row.served_at = now
            if not row.paid:
                row.paid = True
                row.paid_at = now
            return None

        return ORDER.transition(order, "serve", actor=actor, apply=apply, data={"payment": order.payment})


def _runs_round_of(actor, order: Order) -> bool:
    """The volunteer or runner of the delivery round the order is a stop of."""
    if order.round_id is None or not _signed_in(actor):
        return False
    from .models import DeliveryRound

    found = (DeliveryRound.objects.filter(pk=order.round_id)
             .values_list("runner_id", "volunteer__resident__user_id").first())
    return found is not None and actor.pk in found


@transaction.atomic
def order_mark_paid(*, actor, order: Order, method: str, at: dt.datetime | None = None) -> Order:
    """Record that a cash or mobile order was paid (the counter, the delivery round). Points
    orders are paid when placed. Event ``canteen.order_paid``."""
    order = (Order.objects.select_for_update(of=("self",)).select_related("canteen__community", "canteen__partner")
             .get(pk=order.pk))
    if not (may_work_counter(actor, order.canteen) or _runs_round_of(actor, order)):
        raise PermissionDenied(_("You may not record payments for this canteen."), code="not_counter")
    if method not in (Order.Payment.CASH, Order.Payment.MOBILE):
        raise InvalidInput(_("Choose cash or mobile payment."), code="payment", field="method")
    if order.status == S.CANCELLED:
        raise Conflict(_("This order is cancelled."), code="cancelled")
    if order.payment == Order.Payment.POINTS:
        raise Conflict(_("This order was paid with points."), code="already_paid")
    if order.paid:
        raise Conflict(_("This order is already paid."), code="already_paid")
    now = at or timezone.now()
    order.payment, order.paid, order.paid_at = method, True, now
    order.save(update_fields=["payment", "paid", "paid_at"])
    events.record(actor=actor, verb="canteen.order_paid", target=order, community=order.canteen.community, at=now,
                  data={"order": order.pk, "method": method, "payable_fen": order.payable_fen})
    return order


@transaction.atomic
def counter_lookup(*, actor, canteen: Canteen, token: str, at: dt.datetime | None = None) -> Resident:
    """The resident whose QR code (card or phone) ``token`` is, for the canteen's counter (office or
    canteen staff). ``qr_wrong`` / ``qr_expired`` come from :func:`linli.points.tokens.resident_from_token`.
    Event ``canteen.counter_lookup`` (no names, no resident)."""
    _require_counter(actor, canteen)
    resident = tokens.resident_from_token(canteen.community, token, at=at)
    events.record(actor=actor, verb="canteen.counter_lookup", target=canteen, community=canteen.community,
                  data={"canteen": canteen.pk})
    return resident


def counter_sell(*, actor, canteen: Canteen, resident: Resident, meal: Meal, quantity=1, payment: str = "cash",
                 idempotency: tuple[str, str] | None = None, at: dt.datetime | None = None) -> tuple[Order, bool]:
    """Sell an on-site meal at the counter now and serve it, in one transaction: the order
    (channel ``counter``, paid at once) and its serving. Refusals as :func:`order_place`."""
    _require_counter(actor, canteen)
    if meal.canteen_id != canteen.pk:
        raise InvalidInput(_("This meal is not served at this canteen."), code="meal", field="meal")
    with transaction.atomic():
        order, created = order_place(actor=actor, resident=resident, meal=meal, quantity=quantity, delivery=False,
                                     payment=payment, channel=Order.Channel.COUNTER, idempotency=idempotency, at=at)
        if created:
            order = order_serve(actor=actor, order=order, at=at)
    return order, created


# --- for the pages and the API -------------------------------------------------------------------


def order_for(user, pk) -> Order:
    """An order the account may read: its resident's, or the counter's (office, canteen staff)."""
    order = Order.objects.select_related("meal", "canteen__community", "canteen__partner", "resident").filter(
        pk=pk).first()
    if order is None or not (_is_own(user, order.resident) or may_work_counter(user, order.canteen)):
        raise NotFound(_("No such order."), code="not_found")
    return order


def own_resident(user) -> Resident | None:
    return rules.resident_of(user)


# --- who hears of it (the ``canteen_orders`` recipe of linli.notify, registered in apps.py) --------

NOTIFY_VERBS = ("canteen.order_cancelled",)


def notify_messages(events: list):
    """A resident whose order someone else cancelled (the office, the canteen's staff, a cancelled
    meal) is told: which meal, and that points paid came back. No names in the words; the link is
    the order's page."""
    from django.urls import reverse

    from linli.core.registry import Message

    ids = {int(e.target_id) for e in events if e.verb in NOTIFY_VERBS and str(e.target_id).isdigit()}
    rows = Order.objects.select_related("meal", "resident", "canteen").in_bulk(ids)
    for event in events:
        order = rows.get(int(event.target_id)) if str(event.target_id).isdigit() else None
        if order is None or order.resident.user_id is None or order.resident.user_id == event.actor_id:
            continue
        body = _("Your %(meal)s order for %(day)s is cancelled by the canteen.") % {
            "meal": order.meal.get_kind_display(), "day": order.meal.day.strftime("%m-%d")}
        if order.cancel_reason:
            from linli.core.masking import scrub

            body += " " + _("Reason: %(reason)s") % {"reason": scrub(order.cancel_reason)}
        if order.points:
            body += " " + _("The %(n)d points you paid came back to you.") % {"n": order.points}
        yield event, Message(user_ids=[order.resident.user_id], title=_("Your canteen order is cancelled"),
                             body=body, url=reverse("canteen:order", kwargs={"pk": order.pk}),
                             community_id=order.canteen.community_id)
