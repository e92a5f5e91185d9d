"""The event log: one row for every change any service makes.

Events carry ids, verbs and non-personal facts only (a field *name* that was
revealed, never its value), so the log can feed notifications, dashboards and
the public disclosure board without leaking personal data.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    # Set by linli.core.events (now, or a historical moment for bulk-written history).
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("actor"),
    )
    # Kept when the account is later removed; a username, never a real name.
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    verb = models.CharField(_("verb"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    # Where it happened, by id: the event log is the lowest layer and points at places
    # (linli.community) without depending on them. Rows are scoped by these columns.
    street_id = models.BigIntegerField(_("street"), null=True, blank=True, db_index=True)
    community_id = models.BigIntegerField(_("community"), null=True, blank=True, db_index=True)
    grid_id = models.BigIntegerField(_("grid"), null=True, blank=True, db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community_id", "-created_at"], name="event_community_time"),
            models.Index(fields=["target_type", "target_id"], name="event_target"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb} {self.target_type}#{self.target_id}"
