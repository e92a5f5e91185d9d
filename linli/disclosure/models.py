"""The public affairs board (三务公开): entries, their attachments and the duties to publish.

An :class:`Entry` is written as a draft, submitted, approved by a second person and then
published: publishing appends its leaf (:mod:`linli.disclosure.leaf`) to the community's
transparency log. A published entry is never edited. A correction is a new entry whose
``supersedes`` points at the one it corrects; a withdrawal erases the words and the
attachment bytes and keeps a tombstone (reason, date, the withdrawal leaf's index).

The state changes only through ``linli.disclosure.workflow.ENTRY``; see docs/disclosure.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Section(models.TextChoices):
    PARTY = "party", _("party affairs")
    RESIDENTIAL = "residential", _("residential affairs")
    FINANCE = "finance", _("financial affairs")


class Duty(models.Model):
    """An item a community must publish every period (a monthly finance statement, the
    quarterly party dues …). ``days_allowed``: how many days after the period ends the entry
    may still appear before the duty counts as overdue."""

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", _("monthly")
        QUARTERLY = "quarterly", _("quarterly")
        YEARLY = "yearly", _("yearly")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT,
                                  related_name="disclosure_duties")
    code = models.SlugField(_("code"), max_length=40)
    section = models.CharField(_("section"), max_length=12, choices=Section.choices)
    title = models.CharField(_("title"), max_length=120)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    days_allowed = models.PositiveSmallIntegerField(
        _("days allowed"), default=10,
        help_text=_("Days after the period ends before the item counts as overdue."))
    since = models.DateField(_("owed from"), help_text=_("The first period owed is the one holding this day."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("disclosure duty")
        verbose_name_plural = _("disclosure duties")
        ordering = ["community_id", "section", "code"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="disclosure_duty_code_unique")]

    def __str__(self):
        return self.title


class Entry(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("awaiting approval")
        HELD = "held", _("held: personal data to mask")
        PUBLISHED = "published", _("published")
        WITHDRAWN = "withdrawn", _("withdrawn")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT,
                                  related_name="disclosure_entries")
    section = models.CharField(_("section"), max_length=12, choices=Section.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)

    # Who: accounts (null when the system wrote it: ``linli disclosure publish``, the demo),
    # and the role each acted in — the roles, not the names, go into the leaf.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    author_role = models.CharField(_("author's role"), max_length=24, blank=True)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("approver"))
    approver_role = models.CharField(_("approver's role"), max_length=24, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    # A note for the author: why it was returned, or why it is held.
    note = models.TextField(_("note"), blank=True)

    # Set when published: the leaf's index in the community's log and the content's hash.
    log_index = models.BigIntegerField(_("log index"), null=True, blank=True)
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64, blank=True)

    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="corrections", verbose_name=_("corrects"))
    duty = models.ForeignKey(Duty, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries",
                             verbose_name=_("duty"))

    # Withdrawal: the tombstone.
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("withdrawn by"))
    withdrawer_role = models.CharField(_("withdrawn in the role"), max_length=24, blank=True)
    withdrawal_log_index = models.BigIntegerField(_("withdrawal's log index"), null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure entry")
        verbose_name_plural = _("disclosure entries")
        ordering = ["-published_at", "-created_at"]
        indexes = [
            models.Index(fields=["community", "state", "section"], name="disclosure_entry_board"),
            models.Index(fields=["community", "period_start"], name="disclosure_entry_period"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["community", "log_index"], name="disclosure_entry_index_unique",
                                    condition=models.Q(log_index__isnull=False)),
            models.UniqueConstraint(fields=["community", "withdrawal_log_index"],
                                    name="disclosure_withdrawal_index_unique",
                                    condition=models.Q(withdrawal_log_index__isnull=False)),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")),
                                   name="disclosure_entry_period_order"),
        ]

    def __str__(self):
        return self.title or f"#{self.log_index}"

    @property
    def kind(self) -> str:
        """``entry`` or ``correction`` (the leaf's type)."""
        return "correction" if self.supersedes_id else "entry"

    @property
    def is_public(self) -> bool:
        return self.state in (self.State.PUBLISHED, self.State.WITHDRAWN)


class Attachment(models.Model):
    """A PDF or image attached to an entry, checked by content, stored content-addressed
    under the data dir (``path`` relative to it). After a withdrawal the row stays (its hash,
    size and type are in the leaf) while the name and bytes are gone (``path`` empty)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    path = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["entry_id", "position", "pk"]
        indexes = [models.Index(fields=["sha256"], name="disclosure_attachment_sha")]

    def __str__(self):
        return self.name or self.sha256[:12]
