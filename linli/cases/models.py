"""Resident requests as cases (诉求/工单): what was asked, where, by whom, and the life of its handling.

The status changes only through ``linli.cases.workflow.transition``; the
fields below record the facts each transition leaves behind (times, unit,
ratings), so the three rates can be computed from the table alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from linli.core.fields import ProtectedField


class Category(models.Model):
    """One node of a community's category tree, with its default handling unit."""

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="case_categories")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The cold-start classifier: one keyword (or phrase) per line, edited by admins.
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("One keyword or phrase per line."))
    default_unit = models.ForeignKey(
        "community.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("default handling unit"),
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["community_id", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="case_category_code_unique")]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def service_code(self) -> str:
        """Open311's service_code: always a string."""
        return self.code


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    WORKING_DAYS = "working_days", _("working days")


class TimeLimit(models.Model):
    """How soon a case of this category and urgency must be answered and resolved."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="time_limits")
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices)
    response_amount = models.PositiveIntegerField(_("respond within"))
    response_unit = models.CharField(_("unit"), max_length=12, choices=TimeUnit.choices, default=TimeUnit.HOURS)
    resolve_amount = models.PositiveIntegerField(_("resolve within"))
    resolve_unit = models.CharField(_("unit"), max_length=12, choices=TimeUnit.choices,
                                    default=TimeUnit.WORKING_DAYS)

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        constraints = [models.UniqueConstraint(fields=["category", "urgency"], name="time_limit_unique")]

    def __str__(self):
        return f"{self.category} · {self.get_urgency_display()}"


class RoutingRule(models.Model):
    """Category × grid → handling unit; refines the category's default unit."""

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    grid = models.ForeignKey("community.Grid", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("community.Organisation", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("handling unit"))

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [models.UniqueConstraint(fields=["category", "grid"], name="routing_rule_unique")]


class Holiday(models.Model):
    """A day off on a weekday, or a make-up working day (调休) on a weekend.

    ``source`` says where the row came from: the official calendar package
    (``linli.cases.calendar``, replaced when the package's schedule changes) or an admin's
    hand (never overwritten by a load; an official day an admin removes stays as a
    hand-made ordinary day, so the next load does not bring it back)."""

    class Source(models.TextChoices):
        OFFICIAL = "official", _("official schedule")
        MANUAL = "manual", _("set by hand")

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(
        _("working day"), default=False, help_text=_("Tick for a weekend day that is worked (调休)."))
    name = models.CharField(_("name"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


class Case(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        DISPATCHED = "dispatched", _("dispatched")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved, awaiting rating")
        CLOSED = "closed", _("closed")
        MERGED = "merged", _("merged into another case")

    OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED)

    class CategorySource(models.TextChoices):
        NONE = "", _("not set")
        RESIDENT = "resident", _("the resident, when raising it")
        STAFF_INTAKE = "staff_intake", _("staff, when entering it")
        STAFF_ACCEPT = "staff_accept", _("staff, when accepting it")
        CLASSIFIER = "classifier", _("the learned classifier")
        KEYWORDS = "keywords", _("the keyword rules")
        PARTNER = "partner", _("another system")

    HUMAN_CATEGORY_SOURCES = (CategorySource.RESIDENT, CategorySource.STAFF_INTAKE, CategorySource.STAFF_ACCEPT)

    class Unresolved(models.TextChoices):
        """Why the office closed a case that could not be resolved (诉求无法实现, explained to
        the resident): the move ``close_unresolved`` (docs/cases.md)."""

        OWNERS = "owners", _("it needs the owners' decision")
        LAW = "law", _("the law or policy does not allow it")
        AUTHORITY = "authority", _("it is a court's or another authority's matter")
        WITHDRAWN = "withdrawn", _("the resident withdrew it")
        OTHER = "other", _("another reason")

    class Channel(models.TextChoices):
        WEB = "web", _("resident, on the web")
        PHONE = "phone", _("phone call")
        WALK_IN = "walk_in", _("walk-in")
        PATROL = "patrol", _("grid patrol")
        API = "api", _("API")
        OPEN311 = "open311", _("Open311")
        SENSOR = "sensor", _("sensor")
        WELFARE = "welfare", _("welfare check")

    class Place(models.TextChoices):
        HOME = "home", _("my home")
        GRID = "grid", _("a courtyard")
        POINT = "point", _("a point on the map")

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASIC = "basic", _("basically satisfied")
        UNSATISFIED = "unsatisfied", _("unsatisfied")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="cases")
    number = models.CharField(_("case number"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED,
                              db_index=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)

    description = models.TextField(_("description"), max_length=4000)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="cases", verbose_name=_("category"))
    suggested_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    suggestion_confidence = models.FloatField(null=True, blank=True)
    suggestion_source = models.CharField(max_length=40, blank=True)
    needs_triage = models.BooleanField(_("needs triage"), default=False, db_index=True)
    # Who or what set ``category`` (docs/classifier.md). Only a category a person chose or
    # confirmed (HUMAN_CATEGORY_SOURCES) is a label the learned classifier trains and validates on;
    # a category the classifier or the keyword rules set on their own never is.
    category_source = models.CharField(_("category set by"), max_length=16, blank=True, default="",
                                       choices=CategorySource.choices, db_index=True)

    # Who asked. A resident's own account, or staff entering on their behalf;
    # anonymous reports keep only a contact, sealed like all personal data.
    reporter = models.ForeignKey("community.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="cases", verbose_name=_("reporter"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    contact_name = ProtectedField(_("contact name"), kind="name")
    contact_phone = ProtectedField(_("contact phone"), kind="phone")
    anonymous = models.BooleanField(_("anonymous"), default=False)
    # Published on the public Open311 feed only when the channel or the reporter said so
    # (docs/open311.md); an anonymous case never is.
    public = models.BooleanField(
        _("public"), default=False,
        help_text=_("The reporter (or the channel's terms) agreed that the case may be published."))
    contact_email = ProtectedField(_("contact e-mail"), kind="text")

    place = models.CharField(_("place"), max_length=6, choices=Place.choices, default=Place.GRID)
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    building = models.ForeignKey("community.Building", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    household = models.ForeignKey("community.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    address = models.CharField(_("where"), max_length=200, blank=True)

    unit = models.ForeignKey("community.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="cases", verbose_name=_("handling unit"))
    first_unit = models.ForeignKey("community.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("first receiving unit"))
    master = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates")

    created_at = models.DateTimeField(_("submitted at"), db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_due = models.DateTimeField(null=True, blank=True, db_index=True)
    resolve_due = models.DateTimeField(null=True, blank=True, db_index=True)
    response_reminded = models.BooleanField(default=False)
    resolve_reminded = models.BooleanField(default=False)
    response_overdue = models.BooleanField(_("response overdue"), default=False)
    resolve_overdue = models.BooleanField(_("resolution overdue"), default=False)
    escalation = models.PositiveSmallIntegerField(
        _("escalation"), default=0, help_text=_("0: none, 1: community, 2: street"))
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returned by units"), default=0)

    reject_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    # Closed without being resolved (``close_unresolved``): why, and what the resident was told.
    # Such a case counts accepted, not resolved (linli.cases.rates).
    unresolved_kind = models.CharField(_("why it could not be resolved"), max_length=12, blank=True, default="",
                                       choices=Unresolved.choices)
    unresolved_explanation = models.TextField(_("explanation given to the resident"), blank=True,
                                              max_length=2000)
    resolution = models.TextField(_("result"), blank=True, max_length=4000)
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("resident request", "case")
        verbose_name_plural = pgettext_lazy("resident request", "cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "status", "created_at"], name="case_comm_status_time"),
            models.Index(fields=["unit", "status"], name="case_unit_status"),
            models.Index(fields=["grid", "created_at"], name="case_grid_time"),
            models.Index(fields=["community", "category", "created_at"], name="case_comm_cat_time"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def responded_at(self):
        """When the case was first responded to: accepted, rejected with a reason, or its
        resident contacted, whichever came first; None while nobody has. The same test in
        SQL: ``linli.cases.deadlines.responded_q`` (docs/cases.md, "Time limits")."""
        rejected = self.closed_at if self.status == self.Status.REJECTED else None
        moments = [m for m in (self.accepted_at, self.first_contact_at, rejected) if m is not None]
        return min(moments) if moments else None

    @property
    def expected_reply_by(self):
        """The reply date a resident is told on their case page: the response deadline, while
        the case is open and nobody has responded; None otherwise (see ``responded_at``)."""
        if not self.is_open or self.responded_at is not None:
            return None
        return self.response_due


class CasePhoto(models.Model):
    class Stage(models.TextChoices):
        INTAKE = "intake", _("with the request")
        RESOLUTION = "resolution", _("with the result")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    image = models.FileField(upload_to="cases/%Y/%m/")
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class CaseNote(models.Model):
    """A staff note on a case; internal notes are never shown to the resident."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=2000)
    internal = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key: a retried submission returns the case it first created."""

    scope = models.CharField(max_length=80)  # "apikey:<id>" or "user:<id>"
    key = models.CharField(max_length=200)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique")]


class ApiKey(models.Model):
    """A key for Open311 and the JSON API; only its hash is stored."""

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class ApiKeyUsage(models.Model):
    """Requests made with one API key in one fixed minute: the rate limit's counter.

    Kept in the database, one row per key and window, incremented with an atomic
    UPDATE, so the limit holds across processes and servers."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "window_start"], name="api_key_usage_unique")]


class CaseCounter(models.Model):
    """The last case number given out in one community on one local day.

    Intake increments it with ``UPDATE … SET last = last + 1`` inside the case's own
    transaction, so the row lock hands out each number once across processes and
    servers; reading the highest existing number instead collides under load."""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "day"], name="case_counter_unique")]


class CaseRollup(models.Model):
    """The three rates' counts per community, month of submission (local time) and one
    dimension's value: a courtyard, a handling unit or a category (``kind``); every case
    counts once under each kind. The dashboard sums a few rows a month instead of
    counting every case. See linli.cases.rollup and docs/cases.md.

    Each counter is a time-independent part of one measure; merged cases count
    nowhere. ``linli.cases.rollup.record`` keeps the rows right in the transaction
    of every change to a case; ``cases_rollup_rebuild`` recomputes them."""

    class Kind(models.TextChoices):
        GRID = "grid", "grid"
        UNIT = "unit", "unit"
        CATEGORY = "category", "category"

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the local month the cases were submitted in
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.BigIntegerField()  # the courtyard's, unit's or category's id; 0: none
    submitted = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)  # a response deadline, and responded (Case.responded_at)
    responded_in_time = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    unrated_closed = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "month", "kind", "value"],
                                               name="case_rollup_key")]
        indexes = [models.Index(fields=["kind", "month"], name="case_rollup_kind_month")]
