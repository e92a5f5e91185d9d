"""Who the earn part tells what (docs/points.md): the resident whose points expire soon
(``points.expiry_noticed``, written by :func:`linli.points.expiry.notify_expiring`). The words
carry the number of points and the day, never a name; the link is their own points page."""

from __future__ import annotations

from typing import Iterator

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.core.registry import Message

from .models import Account

VERBS = ("points.expiry_noticed",)


def messages(events: list) -> Iterator[tuple[object, Message]]:
    ids = {int(e.target_id) for e in events if e.target_type == "points.account" and e.target_id.isdigit()}
    accounts = Account.objects.select_related("resident").in_bulk(ids)
    for event in events:
        account = accounts.get(int(event.target_id)) if event.target_id.isdigit() else None
        if account is None or account.resident is None or not account.resident.user_id:
            continue
        data = event.data or {}
        yield event, Message(
            user_ids=[account.resident.user_id], title=_("Some of your points expire soon"),
            body=_("%(points)s of your points expire from %(day)s. Use them before then, or give them to a "
                   "neighbour.") % {"points": data.get("points", ""), "day": data.get("first", "")},
            url=reverse("points:mine"), community_id=account.community_id)


def register() -> None:
    """The earn part's events, jobs and recipe (called from ``PointsConfig.ready``)."""
    from django.utils.translation import gettext_lazy

    from linli.core import registry

    for verb, label in {
        "points.rules_changed": gettext_lazy("changed the points per hour"),
        "points.multipliers_changed": gettext_lazy("changed the points multipliers"),
        "points.policy_changed": gettext_lazy("changed the points caps, expiry or gift limits"),
        "points.expiry_noticed": gettext_lazy("told a resident that points expire soon"),
    }.items():
        registry.register_event(verb, label)
    registry.register_job(registry.Job("points.expire", 86400, "linli.points.expiry.expire_job",
                                       description="expire points older than the policy's months (FIFO)"))
    registry.register_job(registry.Job("points.expiry_notice", 86400, "linli.points.expiry.notice_job",
                                       description="tell residents whose points expire within the notice days"))
    registry.register_recipe(registry.Recipe("points_expiry", verbs=VERBS, messages=messages))
    # "My points (N)" on the resident's home (linli/points/views_earn.py).
    from linli.community.views import HOME_ACTIONS

    from .views_earn import home_actions

    registry.register_hook(HOME_ACTIONS, "points_mine", home_actions)
