"""Notifications: the in-app inbox (and its e-mail copies), and signed webhooks.

Both are driven by the event log (``linli.core.models.Event``): the dispatcher
in ``services`` reads events after its :class:`Cursor` and writes
notifications and webhook deliveries in the same transaction that moves the
cursor, so each event is handled exactly once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core import registry
from linli.core.fields import ProtectedField


class Notification(models.Model):
    """One message to one account. Title and body are plain words without personal data."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             verbose_name=_("recipient"))
    community = models.ForeignKey("community.Community", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("community"))
    event = models.ForeignKey("core.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(_("verb"), max_length=64)
    # What the message is about, as the event names it, and where the inbox links to: notify
    # knows no app, so the recipe that wrote the message decided both.
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox"),
            models.Index(fields=["target_type", "target_id"], name="notification_target"),
            models.Index(fields=["emailed_at", "created_at"], name="notification_email_queue"),
        ]
        constraints = [
            # The dispatcher's cursor already makes this impossible; the
            # database says so too.
            models.UniqueConstraint(fields=["user", "event"], name="notification_once_per_event"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Cursor(models.Model):
    """How far a reader of the event log has got: the last event id it handled."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("event log cursor")
        verbose_name_plural = _("event log cursors")

    def __str__(self):
        return f"{self.name} @ {self.last_event_id}"


class Webhook(models.Model):
    """An outside system told about a community's events (cases, alerts …) by signed HTTP POSTs."""

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="webhooks",
                                  verbose_name=_("community"))
    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=500)
    # Needed in clear to sign, so sealed at rest like personal data (and
    # re-encrypted by `linli rotate-data-key`); shown as ****** everywhere.
    secret = ProtectedField(_("signing secret"), kind="text")
    active = models.BooleanField(_("active"), default=True)
    verbs = models.JSONField(
        _("events"), default=list, blank=True,
        help_text=_("Event verbs to send, such as case.accepted or alert.raised; "
                    "empty sends every event a webhook may receive."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["community_id", "name"]

    def __str__(self):
        return self.name

    def wants(self, verb: str) -> bool:
        """Whether this webhook is sent ``verb``: one the apps declared fit for webhooks
        (linli.core.registry.register_event(..., webhook=True)), and one it asked for."""
        if verb not in registry.webhook_verb_set():
            return False
        return not self.verbs or verb in self.verbs


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("core.Event", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self):
        return f"{self.webhook} · {self.event_id} · {self.status}"
