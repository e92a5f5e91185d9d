"""Models of the volunteers app (docs/volunteers.md).

A :class:`Volunteer` is a resident who joined (a minor with a guardian's consent); volunteers
belong to :class:`Team` rows through :class:`Membership`. The needs board holds :class:`Need`
rows (from residents, staff, household need tags or cases); an :class:`Activity` answers a need
(or stands alone) and volunteers :class:`Signup` for it; a :class:`ServiceRecord` counts the
minutes one volunteer served at one activity (checked in and out by rotating QR codes), which
once approved earn 睦邻积分 points; the person helped may leave a :class:`Rating`.

Codes of skills, half-days and activity types live in :mod:`linli.volunteers.skills`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .skills import ACTIVITY_TYPES


def new_qr_secret():
    return secrets.token_hex(32)


class Volunteer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("taking a break")
        LEFT = "left", _("left")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    resident = models.OneToOneField("community.Resident", on_delete=models.PROTECT, related_name="volunteer")
    grid = models.ForeignKey("community.Grid", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("courtyard"))
    skills = models.JSONField(_("skills"), default=list, blank=True)
    availability = models.JSONField(_("when I can help"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    guardian = models.ForeignKey("community.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("guardian"))
    guardian_consent_at = models.DateTimeField(_("guardian consented at"), null=True, blank=True)
    honour_opt_in = models.BooleanField(_("show me on the honour list"), default=False)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["community", "status"], name="vol_volunteer_status")]

    def __str__(self):
        return f"volunteer {self.pk}"


class Team(models.Model):
    class Kind(models.TextChoices):
        VANGUARD = "vanguard", _("Party members' vanguard team")
        BUILDING_LEADERS = "building_leaders", _("Building leaders")
        YOUTH = "youth", _("Youth volunteers")
        ELDERS = "elders", _("Elders helping elders")
        OTHER = "other", _("Other team")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("leader")
        MEMBER = "member", _("member")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "-role", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="vol_membership_once")]


class Need(models.Model):
    class Source(models.TextChoices):
        RESIDENT = "resident", _("a resident asked")
        STAFF = "staff", _("the community office")
        NEED_TAG = "need_tag", _("a household's need")
        CASE = "case", _("a case")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PLANNED = "planned", _("activity planned")
        CLOSED = "closed", _("closed")
        DECLINED = "declined", _("declined")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    activity_type = models.SlugField(_("kind of help"), max_length=32, choices=ACTIVITY_TYPES)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    household = models.ForeignKey("community.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    household_need = models.ForeignKey("community.HouseholdNeed", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "status"], name="vol_need_status")]
        constraints = [
            # needs_from_tags proposes a need once per household need tag, ever.
            models.UniqueConstraint(fields=["household_need"], condition=Q(household_need__isnull=False),
                                    name="vol_need_once_per_tag"),
        ]

    def __str__(self):
        return self.title


class Activity(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open for sign-up")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    need = models.ForeignKey(Need, null=True, blank=True, on_delete=models.PROTECT, related_name="activities")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    title = models.CharField(_("title"), max_length=120)
    activity_type = models.SlugField(_("kind of help"), max_length=32, choices=ACTIVITY_TYPES)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120)
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    slots = models.PositiveSmallIntegerField(_("volunteers needed"))
    skills = models.JSONField(_("skills"), default=list, blank=True)
    multipliers = models.JSONField(_("point multipliers"), default=list, blank=True)
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    qr_secret = models.CharField(max_length=64, default=new_qr_secret, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["community", "status", "starts_at"], name="vol_activity_open")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="vol_activity_ends_after"),
        ]

    def __str__(self):
        return self.title


class Signup(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WAITING = "waiting", _("on the waiting list")
        WITHDRAWN = "withdrawn", _("withdrawn")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "volunteer"], name="vol_signup_once")]


class ServiceRecord(models.Model):
    class Source(models.TextChoices):
        QR = "qr", _("scanned QR code")
        MANUAL = "manual", _("marked by the organiser")
        IMPORT = "import", _("imported")

    class Status(models.TextChoices):
        OPEN = "open", _("checked in")
        PENDING = "pending", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="records")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="records")
    check_in_at = models.DateTimeField(_("checked in at"))
    check_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.QR)
    closed_automatically = models.BooleanField(_("closed automatically"), default=False)
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-check_in_at", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "status", "check_in_at"], name="vol_record_hours"),
            models.Index(fields=["status", "check_out_at"], name="vol_record_status"),
        ]
        constraints = [models.UniqueConstraint(fields=["activity", "volunteer"], name="vol_record_once")]


class Rating(models.Model):
    record = models.OneToOneField(ServiceRecord, on_delete=models.CASCADE, related_name="rating")
    stars = models.PositiveSmallIntegerField(_("stars"))
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="vol_rating_stars"),
        ]
