"""The annual democratic evaluation (民主评议): see docs/evaluation.md.

An :class:`Evaluation` is one community's evaluation of one year. It owns a voting
``Process`` (kind "evaluation", phases preparation → voting → results → response) and, once
the ballot is prepared, one ``Vote`` (kind "rating", one ballot per household, results per
courtyard). Its :class:`Target` s are what residents rate — the residents' committee, staff
posts (by post, never by a person's name) and party branches — each with its
:class:`Criterion` s; each criterion is one question of the vote. The counted figures are
kept in ``results``; a criterion rated under 80 % satisfied needs the community's written
:class:`Response` before the results may be published.

Nothing here points at a ballot or at who voted: the voting engine keeps those apart.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Evaluation(models.Model):
    class State(models.TextChoices):
        SETUP = "setup", _("being prepared")
        VOTING = "voting", _("ballot open")
        COUNTED = "counted", _("counted")
        PUBLISHED = "published", _("published")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT,
                                  related_name="evaluations")
    year = models.PositiveSmallIntegerField(_("year evaluated"))
    process = models.OneToOneField("voting.Process", on_delete=models.PROTECT, related_name="evaluation")
    vote = models.OneToOneField("voting.Vote", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="evaluation")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SETUP)
    # The counted figures (selectors.tally_ballots + suppression), frozen when counted.
    results = models.JSONField(_("results"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    results_log_index = models.BigIntegerField(_("results' log index"), null=True, blank=True)
    report_log_index = models.BigIntegerField(_("annual report's log index"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("democratic evaluation")
        verbose_name_plural = _("democratic evaluations")
        ordering = ["community_id", "-year"]
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="evaluation_one_per_year")]

    def __str__(self):
        return f"{self.year}"


class Target(models.Model):
    """What residents rate. Staff are rated by their post (``label``: e.g. "grid worker,
    courtyard 1"), never by name: the results are public and stay on the log for good, and a
    post can be compared year on year while its holder changes."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("residents' committee")
        POST = "post", _("staff post")
        BRANCH = "branch", _("party branch")

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("name"), max_length=100)
    organisation = models.ForeignKey("community.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("organisation"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("evaluation target")
        verbose_name_plural = _("evaluation targets")
        ordering = ["evaluation", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "kind", "label"], name="evaluation_target_unique")]

    def __str__(self):
        return self.label


class Criterion(models.Model):
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="criteria")
    text = models.CharField(_("criterion"), max_length=150)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    # The vote's question for this criterion, set when the ballot is prepared.
    question = models.OneToOneField("voting.Question", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["target", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["target", "text"], name="evaluation_criterion_unique")]

    def __str__(self):
        return self.text


class Response(models.Model):
    """The community's written response to a criterion rated under 80 % satisfied."""

    criterion = models.OneToOneField(Criterion, on_delete=models.CASCADE, related_name="response")
    text = models.TextField(_("response"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    written_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self):
        return self.text[:40]
