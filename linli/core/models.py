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


class SignInFailure(models.Model):
    """One refused sign-in (docs/operations.md, "Sign-in"). The rows are the throttle's counters:
    every web process counts them, so the limits hold across processes.

    Never the attempted password nor the typed account name: the account is a keyed hash of the
    normalised name (so attempts on names that do not exist count alike, and the table does not
    list them), linked to the user when the account exists; the address is a keyed hash for
    counting and a truncated form for people to read (203.0.113.x, 2001:db8:1::/48)."""

    WRONG = "wrong"          # wrong account or password: counts toward the locks
    LOCKED = "locked"        # refused, the account was locked (not counted again)
    THROTTLED = "throttled"  # refused, too many failures from the address (not counted again)
    KINDS = [
        (WRONG, _("wrong account or password")),
        (LOCKED, _("refused: account locked")),
        (THROTTLED, _("refused: too many attempts from the address")),
    ]

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("account"))
    account_key = models.CharField(_("account key"), max_length=40)
    address_key = models.CharField(_("address key"), max_length=40)
    address = models.CharField(_("address (truncated)"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=KINDS, default=WRONG)
    # Set when a successful sign-in or an admin's unlock stops the failure counting toward a lock.
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        ordering = ["-created_at", "-id"]
        permissions = [("unlock_account", _("Can unlock accounts locked after failed sign-ins"))]
        indexes = [
            models.Index(fields=["account_key", "-created_at"], name="signin_account_time"),
            models.Index(fields=["address_key", "-created_at"], name="signin_address_time"),
            models.Index(fields=["user", "-created_at"], name="signin_user_time"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.address}"
