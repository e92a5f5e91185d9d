"""Versions of the learned request classifier, stored in the database so every web server shares them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ClassifierVersion(models.Model):
    """One trained model: its artifact (the .npz bytes, see linli.insight.textclf), metrics and status.

    ``community`` empty means installation-wide (trained from a CSV file); a community's own
    active version, trained from its human-labelled cases, is preferred over it. The artifact never
    changes after creation, so its checksum identifies a loaded model in the in-process cache.
    """

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("candidate")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    community = models.ForeignKey("community.Community", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    artifact = models.BinaryField()
    checksum = models.CharField(max_length=64)  # sha256 of artifact
    metrics = models.JSONField(default=dict, blank=True)
    trained_on = models.PositiveIntegerField(_("trained on (messages)"), default=0)
    data_sha256 = models.CharField(max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=120, blank=True)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("classifier version")
        verbose_name_plural = _("classifier versions")
        ordering = ["community_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["community", "number"], condition=Q(community__isnull=False),
                                    name="classifier_version_number_unique"),
            models.UniqueConstraint(fields=["number"], condition=Q(community__isnull=True),
                                    name="classifier_version_number_unique_global"),
            models.UniqueConstraint(fields=["community"], condition=Q(status="active", community__isnull=False),
                                    name="classifier_one_active"),
            models.UniqueConstraint(fields=["status"], condition=Q(status="active", community__isnull=True),
                                    name="classifier_one_active_global"),
        ]

    def __str__(self):
        return f"v{self.number} ({self.get_status_display()})"


class HotIssue(models.Model):
    """A hot issue kept between runs: many residents, one problem, one place (linli.insight.hotissues).

    Rows are matched to each new grouping by their members, so an issue keeps its id (and its
    link in staff's bookmarks and notifications) while it grows.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("community"))
    title = models.CharField(_("title"), max_length=200)
    place = models.CharField(_("place"), max_length=200, blank=True)
    place_key = models.CharField(max_length=100, blank=True)
    first_at = models.DateTimeField(_("first report"))
    last_at = models.DateTimeField(_("last report"))
    heat = models.FloatField(_("heat"), default=0.0)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("hot issue")
        verbose_name_plural = _("hot issues")
        ordering = ["-heat", "-last_at", "id"]
        indexes = [models.Index(fields=["community", "status", "-heat"], name="hotissue_comm_status_heat")]

    def __str__(self):
        return self.title


class HotIssueMember(models.Model):
    """A case in a hot issue; a case belongs to one hot issue at most."""

    hot_issue = models.ForeignKey(HotIssue, on_delete=models.CASCADE, related_name="members")
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    affinity = models.FloatField(null=True, blank=True)  # set when attached at intake

    class Meta:
        ordering = ["hot_issue_id", "case_id"]


class JobCursor(models.Model):
    """How far a periodic job of this app has read (the attach job: cases submitted up to a time)."""

    name = models.CharField(max_length=60, unique=True)
    position = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class Alert(models.Model):
    """An unusual rise of one category's cases in one courtyard (or among cases without one).

    Raised by linli.insight.early_warning; one row per series and run of days: a rise that goes on
    extends its open alert instead of raising another.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLOSED = "closed", _("closed")

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("community"))
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("grid"))
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("category"))
    window_start = models.DateField(_("from"))
    window_end = models.DateField(_("to"))
    observed = models.PositiveIntegerField(_("cases"))
    expected = models.FloatField(_("expected"))
    p_value = models.FloatField(_("p-value"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="+")

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-window_end", "p_value", "id"]
        indexes = [models.Index(fields=["community", "status", "-window_end"], name="alert_comm_status_end")]
        constraints = [
            models.UniqueConstraint(fields=["community", "grid", "category", "window_start"],
                                    condition=Q(grid__isnull=False), name="alert_once_per_window"),
            models.UniqueConstraint(fields=["community", "category", "window_start"],
                                    condition=Q(grid__isnull=True), name="alert_once_per_window_no_grid"),
        ]

    def __str__(self):
        return f"{self.category} {self.window_start}–{self.window_end}"
