"""How a canteen order is paid (docs/canteen.md, "Orders").

Three methods, recorded on the order:

* ``cash`` and ``mobile`` (an external mobile payment, recorded as such: Linli moves no money):
  paid when the meal is served at the counter or delivered (:func:`linli.canteen.orders.order_mark_paid`),
  or at once when the counter sells the meal.
* ``points``: the resident's 睦邻积分 move to the canteen partner's ledger account when the order
  is placed, in the same database transaction — ``ceil(payable_fen / canteen.fen_per_point)``
  points, kind ``redemption``, source ``("canteen.order", <order id>)``. The ledger's own CHECK
  refuses a balance below zero (``insufficient_points``); nothing here reads the balance first.
  A cancelled order's points come back by :func:`linli.points.ledger.reverse`.

Money is integer fen; points are integers.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput
from linli.points import ledger
from linli.points.models import Transaction

SOURCE = "canteen.order"


def yuan(fen: int) -> str:
    """``1250`` → ``"12.50"`` (no float on the way)."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def points_for(canteen, payable_fen: int) -> int:
    """The points that pay ``payable_fen`` at this canteen: rounded up to a whole point."""
    per = int(canteen.fen_per_point or 0)
    if per <= 0:
        raise InvalidInput(_("This canteen does not take points."), code="payment", field="payment")
    return -(-int(payable_fen) // per)


def takes_points(canteen) -> bool:
    """Whether residents may pay this canteen with points (it has a points partner)."""
    return canteen.partner_id is not None and bool(canteen.fen_per_point)


def charge(*, actor, order, points: int) -> Transaction:
    """Move ``points`` from the resident to the canteen partner for ``order`` (in the caller's
    transaction). Raises ``Conflict(code="insufficient_points")`` from the ledger."""
    canteen = order.canteen
    return ledger.post(
        community=canteen.community, kind=Transaction.Kind.REDEMPTION,
        lines=[(ledger.account_for(order.resident), -points), (ledger.partner_account(canteen.partner), points)],
        actor=actor, memo=f"{canteen.name} {order.meal.day:%Y-%m-%d} × {order.quantity}"[:200],
        source=(SOURCE, str(order.pk)))


def refund(*, actor, order, reason: str) -> Transaction | None:
    """Give an order's points back (its ledger transaction reversed); None when it took none."""
    if order.points_transaction_id is None:
        return None
    return ledger.reverse(actor=actor, transaction=order.points_transaction,
                          reason=(reason or _("Canteen order cancelled")).strip()[:200])
