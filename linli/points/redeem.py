"""Redeeming points online or at a partner's counter, cancelling, and the partners' monthly
settlement (docs/points.md, "Catalogue, partners and redemption").

A redemption is one database transaction: the item's stock is lowered by a conditional UPDATE
(``stock >= quantity``), then the resident's points move to the partner's account through
``linli.points.ledger.post``, whose balance check is the database's own (a CHECK that no
resident account goes below zero). Nothing here reads a balance and decides on it in Python: a
hundred redemptions at once against one balance succeed exactly as often as the balance allows.

With ``idempotency=(scope, key)`` the key's row is written first: a retry (or a twin racing the
first) waits on, then fails against, the unique (scope, key) and gets the first redemption back.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Resident
from linli.core import events
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

from . import ledger
from .models import Account, IdempotencyKey, Item, Partner, PartnerKey, Redemption, Transaction
from .partners import may_manage, may_work_counter

MAX_QUANTITY = 20
SETTLEMENT_SOURCE = "points.settlement"


@dataclass(frozen=True)
class KeyClient:
    """The actor a partner terminal's key acts as: the event log names the key, never a person."""

    key: PartnerKey

    pk = None
    is_authenticated = False
    is_active = False

    @property
    def username(self) -> str:
        return f"partnerkey:{self.key.prefix}"


def _request_hash(resident, item, quantity, channel, key) -> str:
    text = f"{resident.pk}|{item.pk}|{quantity}|{channel}|{key.pk if key else ''}"
    return hashlib.sha256(text.encode()).hexdigest()


def _check_actor(actor, resident: Resident, item: Item, channel: str, key: PartnerKey | None) -> None:
    if channel == Redemption.Channel.ONLINE:
        if key is not None or not getattr(actor, "pk", None) or resident.user_id != actor.pk:
            raise PermissionDenied(_("Only the resident may redeem their own points online."), code="not_own")
        return
    if channel != Redemption.Channel.COUNTER:
        raise InvalidInput(_("Choose online or at the counter."), code="channel", field="channel")
    if key is not None:
        if key.partner_id != item.partner_id or key.revoked_at is not None:
            raise PermissionDenied(_("This terminal belongs to another partner."), code="other_partner")
        return
    if not may_work_counter(actor, item.partner):
        raise PermissionDenied(_("You do not work this partner's counter."), code="not_counter")


def _quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not (1 <= quantity <= MAX_QUANTITY):
        raise InvalidInput(_("The quantity is a whole number from 1 to %(n)d.") % {"n": MAX_QUANTITY},
                           code="quantity", field="quantity")
    return quantity


def redeem(*, actor, resident: Resident, item: Item, quantity: int = 1, channel: str, key: PartnerKey | None = None,
           idempotency: tuple[str, str] | None = None) -> tuple[Redemption, bool]:
    """Spend the resident's points on ``quantity`` of ``item``. Returns (redemption, created).

    Refused, nothing changed: ``out_of_stock`` and ``insufficient_points`` (409), an inactive item
    or partner or another community's item (400), an actor who may not (403), and with
    ``idempotency`` the same key sent with another request (409 ``idempotency_conflict``)."""
    quantity = _quantity(quantity)
    if item.community_id != resident.community_id:
        raise InvalidInput(_("This item is not offered in your community."), code="wrong_community", field="item")
    _check_actor(actor, resident, item, channel, key)
    request_hash = _request_hash(resident, item, quantity, channel, key)
    if idempotency is None:
        with transaction.atomic():
            return _redeem(actor, resident, item, quantity, channel, key, None, request_hash), True
    try:
        with transaction.atomic():
            return _redeem(actor, resident, item, quantity, channel, key, idempotency, request_hash), True
    except IntegrityError:
        found = (IdempotencyKey.objects.filter(scope=idempotency[0], key=idempotency[1])
                 .values_list("request_hash", "response").first())
        if found is None:
            raise
        if found[0] != request_hash:
            raise Conflict(_("This Idempotency-Key was used for a different request."), code="idempotency_conflict")
        return Redemption.objects.select_related("item", "partner").get(pk=found[1]["id"]), False


def _redeem(actor, resident, item, quantity, channel, key, idempotency, request_hash) -> Redemption:
    stored = None
    if idempotency is not None:
        # First, so that a twin with the same key waits here until this one commits, then fails.
        stored = IdempotencyKey.objects.create(scope=idempotency[0], key=idempotency[1],
                                               request_hash=request_hash, status=0, response={})
    item = Item.objects.select_related("partner", "community").get(pk=item.pk)
    if not item.active or not item.partner.active:
        raise InvalidInput(_("This item is no longer offered."), code="item_inactive", field="item")
    taken = Item.objects.filter(pk=item.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
    if not taken and not Item.objects.filter(pk=item.pk, stock__isnull=True).exists():
        raise Conflict(_("Sorry, this item is out of stock."), code="out_of_stock", field="item")
    points = item.points * quantity
    account = ledger.account_for(resident)
    txn = ledger.post(community=resident.community, kind=Transaction.Kind.REDEMPTION,
                      lines=[(account, -points), (ledger.partner_account(item.partner), points)],
                      actor=actor, memo=f"{item.name} × {quantity}"[:200])
    redemption = Redemption.objects.create(
        community=resident.community, resident=resident, item=item, partner=item.partner, quantity=quantity,
        points=points, channel=channel, transaction=txn, key=key)
    if stored is not None:
        stored.status = 201
        stored.response = {"id": redemption.pk}
        stored.save(update_fields=["status", "response"])
    events.record(actor=actor, verb="points.redeemed", target=redemption, community=resident.community,
                  data={"item": item.code, "quantity": quantity, "points": points, "channel": channel,
                        "transaction": txn.pk, "partner": item.partner_id})
    return redemption


def balance_of(resident: Resident) -> int:
    """The resident's balance as the database holds it now (0 without an account)."""
    return Account.objects.filter(resident=resident).values_list("balance", flat=True).first() or 0


# --- cancelling ---------------------------------------------------------------------------------


@transaction.atomic
def cancel(*, actor, redemption: Redemption, reason: str) -> Redemption:
    """Undo a redemption: the ledger reverses its transaction, the stock comes back. Only the
    office or the partner's counter staff; not once the month is settled; once."""
    redemption = (Redemption.objects.select_for_update().select_related("partner__community", "item", "transaction")
                  .get(pk=redemption.pk))
    if not may_work_counter(actor, redemption.partner):
        raise PermissionDenied(_("You do not work this partner's counter."), code="not_counter")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason."), code="reason", field="reason")
    if redemption.status == Redemption.Status.CANCELLED:
        raise Conflict(_("This redemption is already cancelled."), code="already_cancelled")
    if _month_settled(redemption):
        raise Conflict(_("This month is settled with the partner: the redemption can no longer be cancelled."),
                       code="settled")
    ledger.reverse(actor=actor, transaction=redemption.transaction, reason=reason[:200])
    if redemption.item.stock is not None:
        Item.objects.filter(pk=redemption.item_id, stock__isnull=False).update(stock=F("stock") + redemption.quantity)
    redemption.status = Redemption.Status.CANCELLED
    redemption.save(update_fields=["status"])
    events.record(actor=actor, verb="points.redemption_cancelled", target=redemption,
                  community=redemption.community, data={"points": redemption.points, "item": redemption.item.code})
    return redemption


# --- the monthly settlement ---------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    partner: Partner
    year: int
    month: int
    redemptions: list          # this month's redemptions, oldest first (not cancelled)
    count: int
    total: int                 # points owed to the partner for the month
    transaction: Transaction | None   # the settlement, once posted

    @property
    def settled(self) -> bool:
        return self.transaction is not None


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise InvalidInput(_("Choose a month."), code="month", field="month")
    start = timezone.make_aware(dt.datetime(year, month, 1))
    end = start + dt.timedelta(days=calendar.monthrange(year, month)[1])
    return start, timezone.make_aware(dt.datetime(end.year, end.month, 1))


def _source_id(partner: Partner, year: int, month: int) -> str:
    return f"{partner.pk}:{year:04d}-{month:02d}"


def is_settled(partner: Partner, year: int, month: int) -> bool:
    return Transaction.objects.filter(kind=Transaction.Kind.SETTLEMENT, source_type=SETTLEMENT_SOURCE,
                                      source_id=_source_id(partner, year, month)).exists()


def settlement(partner: Partner, year: int, month: int) -> Settlement:
    """The partner's redemptions of the month, their total, and the settlement if posted."""
    start, end = month_bounds(year, month)
    rows = (Redemption.objects.filter(partner=partner, status=Redemption.Status.REDEEMED,
                                      created_at__gte=start, created_at__lt=end)
            .select_related("item").order_by("created_at", "id"))
    totals = rows.aggregate(n=Count("id"), total=Sum("points"))
    txn = Transaction.objects.filter(kind=Transaction.Kind.SETTLEMENT, source_type=SETTLEMENT_SOURCE,
                                     source_id=_source_id(partner, year, month)).first()
    return Settlement(partner=partner, year=year, month=month, redemptions=list(rows), count=totals["n"] or 0,
                      total=totals["total"] or 0, transaction=txn)


@transaction.atomic
def settle_month(*, actor, partner: Partner, year: int, month: int) -> Transaction:
    """Close a finished month with the partner: one ``settlement`` transaction moves the month's
    points from the partner's account back to issuance (the community pays the partner for them).
    A second time is refused (``already_posted``, from the ledger's one-per-source rule)."""
    if not may_manage(actor, partner.community):
        raise PermissionDenied(_("Only the community's office settles with partners."), code="not_office")
    start, end = month_bounds(year, month)
    if end > timezone.now():
        raise Conflict(_("A month can be settled only after it has ended."), code="month_open")
    result = settlement(partner, year, month)
    if result.settled:
        raise Conflict(_("This month is already settled."), code="already_posted")
    if result.total <= 0:
        raise InvalidInput(_("Nothing was redeemed at this partner in that month."), code="nothing_to_settle")
    txn = ledger.post(community=partner.community, kind=Transaction.Kind.SETTLEMENT,
                      lines=[(ledger.partner_account(partner), -result.total),
                             (ledger.issuance(partner.community), result.total)],
                      actor=actor, memo=f"{partner.name} {year:04d}-{month:02d}"[:200],
                      source=(SETTLEMENT_SOURCE, _source_id(partner, year, month)))
    events.record(actor=actor, verb="points.month_settled", target=partner, community=partner.community,
                  data={"year": year, "month": month, "total": result.total, "count": result.count,
                        "transaction": txn.pk})
    return txn


def redemption_for(user, pk) -> Redemption:
    """A redemption the account may act on at a counter or the office, or NotFound."""
    redemption = Redemption.objects.select_related("partner__community", "item").filter(pk=pk).first()
    if redemption is None or not may_work_counter(user, redemption.partner):
        raise NotFound(_("No such redemption."), code="not_found")
    return redemption


def may_cancel_now(redemption: Redemption) -> bool:
    """Whether :func:`cancel` would take it, as far as the redemption goes (not cancelled, its month
    not settled); who may cancel is :func:`partners.may_work_counter`."""
    return redemption.status != Redemption.Status.CANCELLED and not _month_settled(redemption)


def _month_settled(redemption: Redemption) -> bool:
    """Whether the partner's month (local time) of the redemption is settled."""
    local = timezone.localtime(redemption.created_at)
    return is_settled(redemption.partner, local.year, local.month)


def recent_at_counter(partner: Partner, limit: int = 10):
    """The partner's latest redemptions, newest first (masked on the page)."""
    return (Redemption.objects.filter(partner=partner).select_related("item", "resident")
            .order_by("-created_at", "-id")[:limit])

