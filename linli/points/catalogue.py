"""The redemption catalogue: what a community's partners offer for points, and its stock
(docs/points.md, "Catalogue, partners and redemption").

Every write is a service of the office (admin, worker); residents read :func:`items_for`. Stock is
a count (None: unlimited) that only a conditional UPDATE lowers (``linli.points.redeem``), so it
never goes below zero however many redemptions arrive at once.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.errors import Conflict, InvalidInput

from .models import Item, Partner
from .partners import _require_manage

MAX_POINTS = 100_000
MAX_STOCK = 1_000_000
_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def items_for(community, *, include_inactive: bool = False):
    """The community's catalogue, cheapest first, with its partners."""
    items = Item.objects.filter(community=community).select_related("partner")
    if not include_inactive:
        items = items.filter(active=True, partner__active=True)
    return items.order_by("points", "name", "id")


def _points(points) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not (1 <= points <= MAX_POINTS):
        raise InvalidInput(_("Points are a whole number from 1 to %(n)d.") % {"n": MAX_POINTS},
                           code="points", field="points")
    return points


def _stock(stock) -> int | None:
    if stock is None:
        return None
    if isinstance(stock, bool) or not isinstance(stock, int) or not (0 <= stock <= MAX_STOCK):
        raise InvalidInput(_("Stock is a whole number from 0 to %(n)d, or empty for unlimited.") % {"n": MAX_STOCK},
                           code="stock", field="stock")
    return stock


def _text(value, *, field: str, max_length: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), code=field, field=field)
    if len(value) > max_length:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": max_length}, code=field, field=field)
    return value


@transaction.atomic
def item_create(*, actor, community, partner: Partner, code: str, name: str, kind: str, points: int,
                stock: int | None = None, description: str = "") -> Item:
    """A new catalogue item of ``partner`` (a partner of ``community``)."""
    _require_manage(actor, community)
    if partner.community_id != community.pk:
        raise InvalidInput(_("This partner is not in the community."), code="partner", field="partner")
    code = (code or "").strip().lower()
    if not _CODE_RE.match(code):
        raise InvalidInput(_("A code is 1 to 32 lowercase letters, digits, “-” or “_”."), code="code", field="code")
    if kind not in Item.Kind.values:
        raise InvalidInput(_("Choose the kind of item."), code="kind", field="kind")
    item = Item(community=community, partner=partner, code=code, kind=kind, points=_points(points),
                stock=_stock(stock), name=_text(name, field="name", max_length=80, required=True),
                description=_text(description, field="description", max_length=300, required=False))
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("The catalogue already has an item with this code."), code="code_taken", field="code")
    events.record(actor=actor, verb="points.item_created", target=item, community=community,
                  data={"code": code, "points": item.points, "stock": item.stock})
    return item


_UNSET = object()


@transaction.atomic
def item_update(*, actor, item: Item, name=_UNSET, description=_UNSET, kind=_UNSET, points=_UNSET,
                active=_UNSET, unlimited: bool = False) -> Item:
    """Change an item's words, price or availability; ``unlimited=True`` drops its stock count.
    Redemptions already made keep the points they cost."""
    item = Item.objects.select_for_update().select_related("community").get(pk=item.pk)
    _require_manage(actor, item.community)
    changed = []
    if name is not _UNSET:
        item.name = _text(name, field="name", max_length=80, required=True)
        changed.append("name")
    if description is not _UNSET:
        item.description = _text(description, field="description", max_length=300, required=False)
        changed.append("description")
    if kind is not _UNSET:
        if kind not in Item.Kind.values:
            raise InvalidInput(_("Choose the kind of item."), code="kind", field="kind")
        item.kind = kind
        changed.append("kind")
    if points is not _UNSET:
        item.points = _points(points)
        changed.append("points")
    if active is not _UNSET:
        item.active = bool(active)
        changed.append("active")
    if unlimited:
        item.stock = None
        changed.append("stock")
    if changed:
        item.save(update_fields=changed)
        events.record(actor=actor, verb="points.item_updated", target=item, community=item.community,
                      data={"code": item.code, "fields": sorted(changed), "points": item.points,
                            "active": item.active})
    return item


@transaction.atomic
def stock_add(*, actor, item: Item, quantity: int) -> Item:
    """Add ``quantity`` to the item's stock (a limited stock starts from 0 when it was unlimited)
    in one UPDATE, beside any redemption taking from it."""
    _require_manage(actor, item.community)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not (1 <= quantity <= MAX_STOCK):
        raise InvalidInput(_("Add a whole number from 1 to %(n)d.") % {"n": MAX_STOCK},
                           code="quantity", field="quantity")
    if not Item.objects.filter(pk=item.pk, stock__isnull=False).update(stock=F("stock") + quantity):
        Item.objects.filter(pk=item.pk, stock__isnull=True).update(stock=quantity)
    item.refresh_from_db(fields=["stock"])
    if item.stock > MAX_STOCK:
        raise InvalidInput(_("Stock is a whole number from 0 to %(n)d, or empty for unlimited.") % {"n": MAX_STOCK},
                           code="stock", field="quantity")
    events.record(actor=actor, verb="points.stock_added", target=item, community=item.community,
                  data={"code": item.code, "added": quantity, "stock": item.stock})
    return item
