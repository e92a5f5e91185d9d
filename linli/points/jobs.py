"""The ledger's nightly job: audit every community's ledger (docs/points.md, "Audit").

``points.audit`` (daily, :func:`audit_ledgers`): :func:`linli.points.audit.audit` for each
community that has points accounts. A failure records one event ``points.audit_failed``
(webhook: partners' monitoring may subscribe) that the recipe in
:mod:`linli.points.notifications` turns into an alert for the community's admins. Run twice in
a day (or by two workers), a failure is recorded once that day.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from linli.community.models import Community
from linli.core import events
from linli.core.models import Event

from .audit import audit
from .models import Account
from .notifications import AUDIT_FAILED


def audit_ledgers(now=None) -> dict:
    now = now or timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    communities = Community.objects.filter(
        pk__in=Account.objects.values("community_id")).order_by("pk")
    checked = failed = 0
    for community in communities:
        checked += 1
        result = audit(community)
        if result.ok:
            continue
        failed += 1
        with transaction.atomic():
            # Two workers at once: the community's row lock makes the second see the first's event.
            Community.objects.select_for_update().filter(pk=community.pk).exists()
            if Event.objects.filter(verb=AUDIT_FAILED, community_id=community.pk, created_at__gte=day_start).exists():
                continue
            kind, pk = result.culprit or ("", None)
            events.record(actor=None, verb=AUDIT_FAILED, target=community, community=community, at=now,
                          data={"culprit": kind, "culprit_id": pk, "transactions": result.transactions,
                                "postings": result.postings, "accounts": result.accounts})
    return {"communities": checked, "failed": failed}
