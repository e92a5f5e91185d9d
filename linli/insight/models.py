"""Versions of the learned request classifier, stored in the database so every web server shares them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ClassifierVersion(models.Model):
    """One trained model: its artifact (the .npz bytes, see linli.insight.textclf), metrics and status.

    ``community`` empty means installation-wide (trained from a CSV file); a community's own
    active version, trained from its confirmed cases, is preferred over it. The artifact never
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
