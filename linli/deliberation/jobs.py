"""The periodic job of 一月一议 (docs/deliberation.md).

``publish_evaluations`` (hourly): once a round's evaluation phase has ended, the residents'
evaluation of each of its done decisions goes on the board, unless the office published it
already. Without a signing key nothing is published and the next run tries again.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from linli.core.errors import InvalidInput

from . import services
from .models import Decision

log = logging.getLogger(__name__)


def publish_evaluations(now=None) -> dict:
    now = now or timezone.now()
    published = failed = 0
    due = (Decision.objects.filter(state=Decision.State.DONE, summary_log_index__isnull=True,
                                   meeting__round__process__phases__key="evaluation",
                                   meeting__round__process__phases__ends_at__lte=now)
           .select_related("meeting__round__process").order_by("id"))
    for decision in due:
        try:
            services.publish_evaluation_summary(actor=None, decision=decision)
            published += 1
        except InvalidInput as exc:
            failed += 1
            log.warning("deliberation: evaluation of decision %s not published (%s)", decision.pk, exc.code)
    return {"published": published, "failed": failed}
