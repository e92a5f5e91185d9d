"""The canteen's meals and orders API, ``/api/v1/canteen/`` (docs/canteen.md, "Orders").

Signed in with the web app's session (CSRF-checked on POST), as a resident:

* ``GET meals?date=YYYY-MM-DD`` — the published meals of the resident's community that day, with
  their dishes and tags, places left on site and for delivery, the cut-off, whether delivery is
  allowed for this resident and what they would pay for one portion.
* ``POST orders`` ``{"meal", "delivery", "quantity", "payment"}`` → 201 ``{"id", "status",
  "payable_fen", "subsidy_fen", "points"}``. 409 ``full`` / ``already_ordered`` / ``cut_off`` /
  ``not_open`` / ``insufficient_points`` / ``idempotency_conflict``; 400 ``quantity`` /
  ``not_eligible`` / ``payment``; 403 another community's meal. ``Idempotency-Key`` honoured: the
  same key and body again answer 200 with the first order; scope ``canteen.orders:<user id>``.
* ``GET orders`` — mine, newest meal first; ``POST orders/{id}/cancel``.

Money is integer fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

import pydantic
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from linli.cases.api import SessionWithCsrf
from linli.core.api import ERRORS
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.points.api_redeem import _idempotency

from . import orders as ordering
from .models import Meal, Order

router = Router(auth=SessionWithCsrf(), tags=["canteen"])


# --- schemas -------------------------------------------------------------------------------------


class DishOut(Schema):
    name: str
    tags: list[str] = Field(..., description="Tag codes: low_salt, low_sugar, soft, vegetarian, halal, spicy.")
    tag_labels: list[str] = Field(..., description="The tags in the user's language.")


class MealOut(Schema):
    id: int
    canteen: str
    day: str
    kind: str
    starts_at: str
    ends_at: str
    cutoff_at: str
    price_fen: int = Field(..., description="The set meal's price for one portion, in fen.")
    payable_fen: int = Field(..., description="What this resident pays for one portion (after any subsidy).")
    subsidy_fen: int
    dishes: list[DishOut]
    onsite_left: int = Field(..., description="Places left to eat at the canteen.")
    delivery_left: int = Field(..., description="Places left for home delivery.")
    delivery_allowed: bool = Field(..., description="Whether this resident may have this meal delivered.")
    ordered: Optional[int] = Field(None, description="The resident's live order for this meal, if any.")


class MealsOut(Schema):
    date: str
    meals: list[MealOut]


class MealsQuery(Schema):
    date: Optional[str] = Field(None, description="YYYY-MM-DD; today when left out.")


class OrderIn(Schema):
    """Order a meal; ``payment`` defaults to cash (paid at the counter or on delivery)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    meal: pydantic.StrictInt
    delivery: pydantic.StrictBool = False
    quantity: pydantic.StrictInt = Field(1, description="Portions: 1 to the canteen's limit (usually 3).")
    payment: Literal["cash", "mobile", "points"] = "cash"


class OrderCreatedOut(Schema):
    id: int
    status: str
    payable_fen: int
    subsidy_fen: int
    points: int


class OrderOut(Schema):
    id: int
    meal: int
    day: str
    kind: str
    status: str
    quantity: int
    delivery: bool
    unit_price_fen: int
    subsidy_fen: int
    payable_fen: int
    payment: str
    paid: bool
    points: int
    may_cancel: bool


class OrdersOut(Schema):
    orders: list[OrderOut]


# --- helpers -------------------------------------------------------------------------------------


def _resident(request):
    resident = ordering.own_resident(request.auth)
    if resident is None:
        raise PermissionDenied(_("Canteen orders belong to residents: this account is not linked to one."),
                               code="not_resident")
    return resident


def _day(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Give the date as YYYY-MM-DD."), code="date", field="date") from None


def _order_out(user, order: Order) -> dict:
    return {"id": order.pk, "meal": order.meal_id, "day": order.meal.day.isoformat(), "kind": order.meal.kind,
            "status": order.status, "quantity": order.quantity, "delivery": order.delivery,
            "unit_price_fen": order.unit_price_fen, "subsidy_fen": order.subsidy_fen,
            "payable_fen": order.payable_fen, "payment": order.payment, "paid": order.paid,
            "points": order.points, "may_cancel": ordering.may_cancel(user, order)}


def _created_out(order: Order) -> dict:
    return {"id": order.pk, "status": order.status, "payable_fen": order.payable_fen,
            "subsidy_fen": order.subsidy_fen, "points": order.points}


# --- endpoints -----------------------------------------------------------------------------------


@router.get("/meals", response={200: MealsOut, **ERRORS}, summary="The published meals of a day")
def meals(request, filters: Query[MealsQuery]):
    from . import views_orders

    resident = _resident(request)
    day = _day(filters.date)
    rows = (Meal.objects.filter(canteen__community_id=resident.community_id, canteen__active=True, day=day,
                                status=Meal.Status.PUBLISHED)
            .select_related("canteen").prefetch_related("items__dish").order_by("starts_at", "canteen_id"))
    cards = views_orders.meal_cards(resident, list(rows))
    return {"date": day.isoformat(), "meals": [{
        "id": c["meal"].pk, "canteen": c["meal"].canteen.name, "day": c["meal"].day.isoformat(),
        "kind": c["meal"].kind, "starts_at": c["meal"].starts_at.isoformat(), "ends_at": c["meal"].ends_at.isoformat(),
        "cutoff_at": c["meal"].cutoff_at.isoformat(), "price_fen": c["meal"].price_fen,
        "payable_fen": c["payable_fen"], "subsidy_fen": c["subsidy_fen"],
        "dishes": [{"name": d["name"], "tags": d["tags"], "tag_labels": [str(t) for t in d["tag_labels"]]}
                   for d in c["dishes"]],
        "onsite_left": c["onsite_left"], "delivery_left": c["delivery_left"],
        "delivery_allowed": c["delivery_allowed"], "ordered": c["order"].pk if c["order"] else None,
    } for c in cards]}


@router.post("/orders", response={200: OrderCreatedOut, 201: OrderCreatedOut, **ERRORS}, summary="Order a meal",
             description="201 with the order. 409 ``full``, ``already_ordered``, ``cut_off``, ``not_open``, "
                         "``insufficient_points`` or ``idempotency_conflict``; 400 ``quantity``, ``not_eligible`` "
                         "(ask the community office to arrange delivery) or ``payment``. With ``Idempotency-Key`` "
                         "the same request again answers 200 with the first order.")
def order_create(request, payload: OrderIn,
                 idempotency_key: Optional[str] = Header(None, alias="Idempotency-Key")):
    resident = _resident(request)
    meal = Meal.objects.select_related("canteen").filter(pk=payload.meal).first()
    if meal is None:
        raise InvalidInput(_("There is no such meal."), code="unknown_meal", field="meal")
    order, created = ordering.order_place(
        actor=request.auth, resident=resident, meal=meal, quantity=payload.quantity, delivery=payload.delivery,
        payment=payload.payment, channel=Order.Channel.API,
        idempotency=_idempotency(f"{ordering.SCOPE}:{request.auth.pk}", idempotency_key))
    return Status(201 if created else 200, _created_out(order))


@router.get("/orders", response={200: OrdersOut, **ERRORS}, summary="My canteen orders, newest first")
def order_list(request):
    resident = _resident(request)
    return {"orders": [_order_out(request.auth, o) for o in ordering.orders_of(resident)[:100]]}


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, **ERRORS}, summary="Cancel my order",
             description="Until the meal's cut-off. 409 ``cut_off`` after it, ``not_cancellable`` once served, "
                         "out or cancelled; points paid come back.")
def order_cancel(request, order_id: int):
    resident = _resident(request)
    order = Order.objects.filter(pk=order_id, resident=resident).first()
    if order is None:
        raise NotFound(_("No such order."), code="not_found")
    order = ordering.order_cancel(actor=request.auth, order=order)
    return _order_out(request.auth, ordering.order_for(request.auth, order.pk))

