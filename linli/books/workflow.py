"""The voucher's state machine: draft → submitted → approved (posted), or returned to be fixed.

Preparers (the community's administrators and workers) submit; a second person — a community
administrator or the party secretary who neither prepared nor submitted it — approves, which
posts the voucher to the ledger, or returns it with a reason. A posted voucher never moves again:
it is corrected by a reversal (:func:`linli.books.services.voucher_reverse`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import Move, Workflow

from . import rules
from .models import Voucher

S = Voucher.Status

VOUCHER = Workflow(
    "voucher",
    model=Voucher,
    moves=[
        Move("submit", {S.DRAFT, S.RETURNED}, S.SUBMITTED, who="prepare", verb="submitted",
             label=_("submit for approval"), message=_("Voucher submitted for approval."),
             event_label=_("submitted a voucher")),
        Move("approve", {S.SUBMITTED}, S.APPROVED, who="approve", verb="approved",
             label=_("approve and post"), message=_("Voucher approved and posted."),
             event_label=_("approved and posted a voucher")),
        Move("return", {S.SUBMITTED}, S.RETURNED, who="approve", verb="returned", form="return",
             label=_("return to the preparer"), message=_("Voucher returned to the preparer."),
             event_label=_("returned a voucher")),
    ],
    may=rules.voucher_may,
    places=lambda v: {"community": v.community},
    event_data=lambda v: {"number": v.label, "year": v.year},
    illegal_message=_("This voucher is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this voucher (the approver is never its preparer)."),
)


def allowed_moves(user, voucher) -> list[str]:
    return VOUCHER.allowed(user, voucher)
