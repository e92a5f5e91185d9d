"""The points API's balance, catalogue and redemptions (``/api/v1/points/``; docs/points.md,
"Catalogue, partners and redemption").

Authentication, tried in this order:

* ``Authorization: Bearer <key>``: a partner terminal's key (``pk_…``), made on the office page.
  A key reads its partner's catalogue and redeems its partner's items for the resident whose
  counter code (``resident_qr``) it sends. A key that is unknown, wrong or revoked is a 401: it
  never falls through to the session.
* the web app's session (CSRF-checked on POST): a resident reads their own balance and their
  community's catalogue and redeems online; the office or the partner's staff may redeem at the
  counter with a ``resident_qr``.

``POST redemptions`` honours ``Idempotency-Key``: a retry of the same request returns the first
redemption (201, the same ``id``); the same key with another body is a 409
``idempotency_conflict``. Every refusal leaves stock and balances as they were.
"""

from __future__ import annotations

import re
from typing import Optional

import pydantic
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from linli.cases.api import SessionWithCsrf
from linli.community.scope import scope_of
from linli.core.api import ERRORS
from linli.core.errors import InvalidInput, PermissionDenied

from . import catalogue, expiry, partners, tokens
from .models import Account, Item, PartnerKey, Redemption
from .redeem import KeyClient, balance_of, redeem

IDEMPOTENCY_KEY_MAX = 200
_IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


class PartnerBearer(HttpBearer):
    """A partner terminal's key; a key presented is valid or the request is a 401."""

    def authenticate(self, request, token):
        if not token:
            return None
        key = partners.authenticate(token.strip())
        if key is None:
            raise AuthenticationError()
        return KeyClient(key)


router = Router(auth=[PartnerBearer(), SessionWithCsrf()], tags=["points"])


# --- schemas ------------------------------------------------------------------------------------


class ExpiringOut(Schema):
    date: str = Field(..., description="The day these points expire (ISO 8601).")
    points: int


class BalanceOut(Schema):
    balance: int = Field(..., description="The signed-in resident's points now.")
    expiring: list[ExpiringOut] = Field(..., description="Points that will expire, soonest first.")
    account: Optional[int] = Field(None, description="The resident's ledger account (none before any points).")


class ItemOut(Schema):
    code: str
    name: str
    points: int = Field(..., description="Points for one.")
    stock: Optional[int] = Field(None, description="How many are left; null: unlimited.")
    partner: str = Field(..., description="The partner's name (the canteen, the barber …).")
    kind: str


class CatalogueOut(Schema):
    items: list[ItemOut]


class RedemptionIn(Schema):
    """Redeem ``quantity`` of the item ``item`` (its code). A partner's terminal, or staff at the
    counter, adds ``resident_qr``: the code on the resident's phone."""

    model_config = pydantic.ConfigDict(extra="forbid")

    item: str = Field(..., max_length=32)
    quantity: int = Field(1, description="1 to 20.")
    resident_qr: Optional[str] = Field(None, max_length=tokens.MAX_TOKEN_LENGTH)


class RedemptionOut(Schema):
    id: int
    balance: int = Field(..., description="The resident's balance after the redemption.")
    points: int = Field(..., description="Points this redemption cost.")


# --- helpers ------------------------------------------------------------------------------------


def _key(request) -> PartnerKey | None:
    return request.auth.key if isinstance(request.auth, KeyClient) else None


def _own_resident(request):
    if _key(request) is not None:
        raise PermissionDenied(_("This needs a resident's account, not a partner's key."), code="account_required")
    resident = getattr(request.auth, "resident", None)
    if resident is None or scope_of(request.auth).resident_id is None:
        raise PermissionDenied(_("Points belong to residents: this account is not linked to one."),
                               code="not_resident")
    return resident


def _idempotency(scope: str, key: str | None) -> tuple[str, str] | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidInput(_("An Idempotency-Key is 1 to %(n)d printable characters without spaces.")
                           % {"n": IDEMPOTENCY_KEY_MAX}, code="idempotency_key", field="Idempotency-Key")
    return scope, key


# --- endpoints ----------------------------------------------------------------------------------


@router.get("/balance", response={200: BalanceOut, **ERRORS}, summary="The signed-in resident's points")
def balance(request):
    resident = _own_resident(request)
    account = Account.objects.filter(resident=resident).first()
    soon = expiry.expiring(account) if account is not None else []
    return {"balance": account.balance if account else 0, "account": account.pk if account else None,
            "expiring": [{"date": day.isoformat(), "points": points} for day, points in soon]}


@router.get("/catalogue", response={200: CatalogueOut, **ERRORS}, summary="What points can be redeemed for")
def catalogue_list(request):
    key = _key(request)
    if key is not None:
        items = catalogue.items_for(key.partner.community).filter(partner=key.partner)
    else:
        items = catalogue.items_for(_own_resident(request).community)
    return {"items": [{"code": i.code, "name": i.name, "points": i.points, "stock": i.stock,
                       "partner": i.partner.name, "kind": i.kind} for i in items]}


@router.post("/redemptions", response={201: RedemptionOut, **ERRORS}, summary="Redeem points",
             description="201 with the redemption and the balance after. 409 ``insufficient_points``, "
                         "``out_of_stock`` or ``idempotency_conflict``; 400 an unknown or withdrawn item, a "
                         "quantity outside 1–20, a missing, expired or wrong ``resident_qr``.")
def redemption_create(request, payload: RedemptionIn,
                      idempotency_key: Optional[str] = Header(None, alias="Idempotency-Key")):
    key = _key(request)
    user = request.auth if key is None else None
    if key is not None:
        community = key.partner.community
    elif payload.resident_qr:
        community = None  # staff at the counter: the item names the community
    else:
        community = _own_resident(request).community
    item_query = Item.objects.select_related("partner__community")
    if community is not None:
        item_query = item_query.filter(community=community)
    if key is not None:
        item_query = item_query.filter(partner=key.partner)
    elif payload.resident_qr:
        item_query = item_query.filter(partner__in=partners.counter_partners(user))
    item = item_query.filter(code=payload.item.strip().lower(), active=True, partner__active=True).first()
    if item is None:
        raise InvalidInput(_("There is no such item in the catalogue."), code="unknown_item", field="item")
    if key is not None or payload.resident_qr:
        if not payload.resident_qr:
            raise InvalidInput(_("Scan or type the resident's code."), code="resident_qr", field="resident_qr")
        resident = tokens.resident_from_token(item.community, payload.resident_qr)
        channel = Redemption.Channel.COUNTER
    else:
        resident = _own_resident(request)
        channel = Redemption.Channel.ONLINE
    scope = f"points.redemptions:key:{key.pk}" if key is not None else f"points.redemptions:user:{user.pk}"
    redemption, _created = redeem(actor=request.auth, resident=resident, item=item, quantity=payload.quantity,
                                  channel=channel, key=key,
                                  idempotency=_idempotency(scope, idempotency_key))
    return Status(201, {"id": redemption.pk, "balance": balance_of(resident), "points": redemption.points})
