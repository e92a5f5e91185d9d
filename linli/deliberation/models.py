"""Models of 一月一议 (docs/deliberation.md).

One :class:`Round` per community and month, on a ``voting.Process`` of kind "deliberation"
whose phases are proposals → council → execution → evaluation. Topics are :class:`Proposal`
rows (from residents, hot issues, cases or staff); residents :class:`Support` them (one each)
and discuss them in :class:`Comment`; the round's :class:`Meeting` (the 居民议事会) has its
:class:`Attendance`, minutes and :class:`Decision` rows; a decision is carried out by
:class:`Task` rows with :class:`Update` (and :class:`UpdatePhoto`); residents judge the outcome
in :class:`Evaluation`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PHASES = ("proposals", "council", "execution", "evaluation")


class Round(models.Model):
    """One month's 一月一议 in one community."""

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    process = models.OneToOneField("voting.Process", on_delete=models.PROTECT, related_name="deliberation_round")
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    support_threshold = models.PositiveSmallIntegerField(
        _("supports that put a proposal on the agenda"), default=10)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-month"]
        constraints = [models.UniqueConstraint(fields=["community", "year", "month"], name="delib_round_month")]

    def __str__(self):
        return f"{self.year}-{self.month:02d}"


class Proposal(models.Model):
    class Source(models.TextChoices):
        RESIDENT = "resident", _("a resident's proposal")
        HOTISSUE = "hotissue", _("a hot issue")
        CASE = "case", _("repeated requests")
        STAFF = "staff", _("the community office")

    class State(models.TextChoices):
        OPEN = "open", _("collecting support")
        AGENDA = "agenda", _("on the council's agenda")
        DECIDED = "decided", _("decided by the council")
        DEFERRED = "deferred", _("not decided at the meeting")
        DECLINED = "declined", _("not taken up")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="proposals")
    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("what and why"), max_length=4000)
    place = models.CharField(_("place"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.RESIDENT)
    source_ref = models.CharField(max_length=40, blank=True)
    proposer_resident = models.ForeignKey("community.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    proposer_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    state_reason = models.CharField(_("reason"), max_length=300, blank=True)
    support_count = models.PositiveIntegerField(default=0)
    agenda_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-support_count", "id"]
        indexes = [models.Index(fields=["proposer_resident", "created_at"], name="delib_prop_by_resident")]

    def __str__(self):
        return self.title


class Support(models.Model):
    """One resident's support of one proposal: the unique constraint is the one-support rule."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    resident = models.ForeignKey("community.Resident", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "resident"], name="delib_one_support")]


class Comment(models.Model):
    class State(models.TextChoices):
        VISIBLE = "visible", _("visible")
        HIDDEN = "hidden", _("hidden by the moderator")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author_resident = models.ForeignKey("community.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    body = models.TextField(_("comment"), max_length=2000)
    state = models.CharField(max_length=8, choices=State.choices, default=State.VISIBLE)
    hidden_reason = models.CharField(_("reason"), max_length=200, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class Meeting(models.Model):
    """The month's residents' council (居民议事会)."""

    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        CLOSED = "closed", _("closed with minutes")

    round = models.OneToOneField(Round, on_delete=models.PROTECT, related_name="meeting")
    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=120)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PLANNED)
    report = models.TextField(_("minutes"), blank=True, max_length=8000)
    attendance_count = models.PositiveIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    log_index = models.BigIntegerField(null=True, blank=True)
    sign_in_nonce = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class Attendance(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("council member")
        REPRESENTATIVE = "representative", _("resident representative")

    class Via(models.TextChoices):
        QR = "qr", _("signed in with the QR code")
        STAFF = "staff", _("recorded by staff")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    resident = models.ForeignKey("community.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    via = models.CharField(max_length=8, choices=Via.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], condition=models.Q(user__isnull=False),
                                    name="delib_attend_user_once"),
            models.UniqueConstraint(fields=["meeting", "resident"], condition=models.Q(resident__isnull=False),
                                    name="delib_attend_resident_once"),
        ]


class Decision(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("drafted, the meeting not yet closed")
        ADOPTED = "adopted", _("adopted")
        REJECTED = "rejected", _("rejected by the council")
        EXECUTING = "executing", _("being carried out")
        DONE = "done", _("done")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("decision"), max_length=4000)
    votes_for = models.PositiveSmallIntegerField(_("for"), default=0)
    votes_against = models.PositiveSmallIntegerField(_("against"), default=0)
    votes_abstain = models.PositiveSmallIntegerField(_("abstained"), default=0)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    weighted = models.BooleanField(_("weigh the tasks' progress by their weights"), default=False)
    log_index = models.BigIntegerField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    summary_log_index = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    @property
    def passed(self) -> bool:
        """More than half of the votes cast are for it (abstentions count as cast)."""
        return 2 * self.votes_for > self.votes_for + self.votes_against + self.votes_abstain


class Task(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    owner = models.CharField(_("who carries it out"), max_length=80)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    due_date = models.DateField(_("due date"))
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_date", "id"]


class Update(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="updates")
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    note = models.TextField(_("what was done"), max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class UpdatePhoto(models.Model):
    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="deliberation/%Y/%m/")
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]


class Evaluation(models.Model):
    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASIC = "basic", _("basically satisfied")
        UNSATISFIED = "unsatisfied", _("unsatisfied")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="evaluations")
    resident = models.ForeignKey("community.Resident", on_delete=models.CASCADE, related_name="+")
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices)
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "resident"], name="delib_one_evaluation")]
