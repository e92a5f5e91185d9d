"""Community fund projects (资金项目征集): a yearly call, its projects, milestones, acceptance.

A :class:`Call` is a voting ``Process`` of kind "fund" (its phases: call → submission → review
→ vote → selection → implementation → acceptance → report, see docs/funds.md) with a budget
drawn from the community's books. Residents, groups and organisations submit :class:`Project` s;
the office reviews them (eligible or not, with a reason the proposer sees); the eligible ones
are the options of the call's residents' vote (``Option.ref = "project:<id>"``); the call's
rule selects; the selected projects get a sub-account of the community fund in the books
(3102.NN), where their spending is booked; :class:`Milestone` s with photos report progress;
an :class:`Acceptance` by a panel of at least three residents (验收) closes each project.

Every amount is integer fen. Rows are written only through :mod:`linli.funds.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Call(models.Model):
    class Rule(models.TextChoices):
        GREEDY = "greedy", _("greedy by votes")
        EQUAL_SHARES = "equal-shares", _("method of equal shares")

    class BallotKind(models.TextChoices):
        APPROVAL = "approval", _("approve up to a number of projects")
        KNAPSACK = "knapsack", _("choose projects within the budget")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        SELECTED = "selected", _("selection published")
        REPORTED = "reported", _("final report published")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="fund_calls")
    process = models.OneToOneField("voting.Process", on_delete=models.PROTECT, related_name="fund_call")
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    budget_fen = models.BigIntegerField(_("budget (fen)"))
    rule = models.CharField(_("selection rule"), max_length=16, choices=Rule.choices, default=Rule.GREEDY)
    min_votes = models.PositiveIntegerField(_("fewest votes a project needs"), default=0)
    ballot_kind = models.CharField(_("ballot"), max_length=10, choices=BallotKind.choices,
                                   default=BallotKind.APPROVAL)
    eligibility = models.CharField(_("who may vote"), max_length=12, default="adults")
    min_projects = models.PositiveSmallIntegerField(_("fewest projects on a ballot"), default=0)
    max_projects = models.PositiveSmallIntegerField(_("most projects on a ballot"), null=True, blank=True)
    min_budget_share_percent = models.PositiveSmallIntegerField(_("least share of the budget (%)"), default=0)
    vote = models.ForeignKey("voting.Vote", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    # The rule's result, as published: project ids (str), in the rule's order.
    computed = models.JSONField(_("selected by the rule"), default=list, blank=True)
    # What is carried out: the rule's result, or an administrator's override of it.
    selected = models.JSONField(_("selected"), default=list, blank=True)
    result_sha256 = models.CharField(_("result SHA-256"), max_length=64, blank=True)
    log_index = models.BigIntegerField(_("log index"), null=True, blank=True)
    override_reason = models.TextField(_("reason for the override"), blank=True)
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    overridden_at = models.DateTimeField(null=True, blank=True)
    override_log_index = models.BigIntegerField(null=True, blank=True)
    report_log_index = models.BigIntegerField(null=True, blank=True)
    imported = models.BooleanField(_("imported from Pabulib"), default=False)
    # An imported call's approval ballots (lists of project ids as str); a call run here keeps
    # its ballots in its voting Vote instead.
    imported_votes = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fund call")
        verbose_name_plural = _("fund calls")
        ordering = ["community_id", "-year", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(budget_fen__gt=0), name="funds_call_budget_positive"),
        ]

    def __str__(self):
        return self.title


class Project(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        WITHDRAWN = "withdrawn", _("withdrawn")
        ELIGIBLE = "eligible", _("eligible")
        INELIGIBLE = "ineligible", _("not eligible")
        SELECTED = "selected", _("selected")
        NOT_SELECTED = "not_selected", _("not selected")
        IMPLEMENTING = "implementing", _("being carried out")
        ACCEPTED = "accepted", _("accepted")

    class ProposerKind(models.TextChoices):
        RESIDENT = "resident", _("a resident")
        GROUP = "group", _("a group of residents")
        ORGANISATION = "organisation", _("an organisation")

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    place = models.CharField(_("place"), max_length=200)
    beneficiaries = models.CharField(_("who benefits"), max_length=300)
    # [{"item": str, "amount_fen": int}, …]; cost_fen is their sum (or the reviewed cost).
    budget_lines = models.JSONField(_("budget lines"), default=list)
    cost_fen = models.BigIntegerField(_("cost to the fund (fen)"))
    own_contribution_fen = models.BigIntegerField(_("own contribution (fen)"), default=0)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    proposer_kind = models.CharField(_("proposed by"), max_length=12, choices=ProposerKind.choices,
                                     default=ProposerKind.RESIDENT)
    proposer_name = models.CharField(_("name of the group or organisation"), max_length=120, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SUBMITTED)
    review_reason = models.TextField(_("review note"), blank=True)
    reviewed_cost_fen = models.BigIntegerField(_("cost after review (fen)"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    votes = models.PositiveIntegerField(_("votes"), null=True, blank=True)
    account = models.ForeignKey("books.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("fund project")
        verbose_name_plural = _("fund projects")
        ordering = ["call_id", "id"]
        indexes = [models.Index(fields=["call", "state"], name="funds_project_call_state")]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost_fen__gt=0), name="funds_project_cost_positive"),
            models.CheckConstraint(condition=models.Q(own_contribution_fen__gte=0),
                                   name="funds_project_own_not_negative"),
        ]

    def __str__(self):
        return self.title

    @property
    def community_id(self):
        return self.call.community_id

    @property
    def ref(self) -> str:
        """The voting option's reference (``Option.ref``)."""
        return f"project:{self.pk}"


def _photo_path(instance, filename):
    return f"funds/{instance.milestone.project.call_id}/{filename}"


class Milestone(models.Model):
    """A dated step of a project's implementation, with the progress reached and photos."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField(_("title"), max_length=120)
    note = models.TextField(_("note"), blank=True)
    date = models.DateField(_("date"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["project_id", "date", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="funds_milestone_pct")]


class MilestonePhoto(models.Model):
    """A photo of a milestone, checked and re-encoded without metadata (cases/photos.py)."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=_photo_path)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["milestone_id", "id"]


class Acceptance(models.Model):
    """验收: a panel of at least three residents looked at the finished project; recorded by staff."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="acceptances")
    passed = models.BooleanField(_("accepted"))
    note = models.TextField(_("the panel's findings"))
    date = models.DateField(_("date"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("acceptance")
        verbose_name_plural = _("acceptances")
        ordering = ["project_id", "id"]


class PanelMember(models.Model):
    acceptance = models.ForeignKey(Acceptance, on_delete=models.CASCADE, related_name="members")
    resident = models.ForeignKey("community.Resident", on_delete=models.PROTECT, related_name="+")
    agrees = models.BooleanField(_("agrees"))

    class Meta:
        ordering = ["acceptance_id", "id"]
        constraints = [models.UniqueConstraint(fields=["acceptance", "resident"], name="funds_panel_once")]
