"""The books' link to the board: fills ``books.statement_actions`` (linli.books.views), so that
the books' statement and budget pages offer to draft that month's statement for the public board.

The books sit below the board and never link to it themselves. The buttons POST to the back
office's ``office_generate`` (the same form as the office page's "generate a draft"), which makes
a finance draft through ``services.generate_finance_draft`` / ``generate_budget_draft`` and opens
it. Only an account that may write finance entries in that community (linli.disclosure.rules:
the community's admins and workers) sees them; the street supervisor, who reads the books'
statements, does not.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from . import rules
from .models import Section


def statement_actions(user, community, year: int, month: int) -> list[tuple]:
    """``[(label, url, fields)]`` for the month: the monthly statement and the budget against
    actual up to that month, each a POST of ``{"kind", "month": "YYYY-MM"}`` to office_generate."""
    if not rules.may_author(user, community.pk, Section.FINANCE):
        return []
    url = reverse("disclosure:office_generate", kwargs={"code": community.code})
    period = f"{int(year):04d}-{int(month):02d}"
    return [
        (_("Draft this statement for the public board"), url, {"kind": "finance", "month": period}),
        (_("Draft the budget against actual up to this month for the public board"), url,
         {"kind": "budget", "month": period}),
    ]
