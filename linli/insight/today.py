"""Today's work from this app for the staff's first page (the ``community.today_work`` hook).

Two counts, each the size of the list its link opens: the early-warning alerts nobody has
looked at yet (open, in the account's area: ``early_warning.alerts_for``; the alert list opens
on the open ones), for accounts with an area (office, courtyards, street), and the open hot
issues with a case the account may see (``hotissues.hot_issues_for``; the list opens on the
open ones), for those and handling units. A building leader reaches neither: no tile.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.community.scope import scope_of

from . import early_warning, hotissues
from .models import Alert


def today_work(user) -> list[dict]:
    if not user.has_perm("community.use_console"):
        return []
    scope = scope_of(user)
    items = []
    if scope.office_communities or scope.grids or scope.streets:   # alerts are of an area
        alerts = early_warning.alerts_for(user).filter(status=Alert.Status.OPEN).count()
        items.append({"code": "alerts", "label": _("New alerts"), "count": alerts, "order": 50,
                      "url": reverse("insight:alerts"), "tone": "urgent" if alerts else ""})
    if scope.office_communities or scope.grids or scope.streets or scope.organisations:
        issues = hotissues.hot_issues_for(user).count()
        items.append({"code": "hot_issues", "label": _("Hot issues"), "count": issues, "order": 60,
                      "url": reverse("insight:hot_issues"), "tone": ""})
    return items
