"""Processes, their phases, and votes (issue 10; see docs/voting.md).

A :class:`Process` is one decision residents take part in (a monthly 一月一议, a fund call,
the annual evaluation, a plain vote), cut into :class:`Phase` s that follow each other
without gap or overlap (``linli.voting.phases``). A :class:`Vote` belongs to a process and
accepts ballots only while its ``phase_key`` phase is current.

Secrecy: who took part (:class:`Participation`, one row per voter, unique per vote — the one
person one vote guarantee) and what was voted (:class:`Ballot`, no timestamp, no link to the
participation, a random key) are stored apart. A ballot can be found again only by the
receipt code its voter holds (``receipt_hash``). The random key is also the row's physical
identity on SQLite (its rowid), so not even the order rows were written in lines ballots up with
participations there; docs/voting.md says what remains on PostgreSQL.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_salt() -> str:
    """64 random hex characters: the salt of a vote's paper codes."""
    return secrets.token_hex(32)


def random_key() -> int:
    """A random positive 62-bit integer: a ballot's key (collisions are as likely as guessing
    a 62-bit secret; the insert would fail loudly, never overwrite)."""
    return secrets.randbits(62) + 1


class RandomKeyField(models.BigIntegerField):
    """A primary key drawn at random (:func:`random_key`), never from a sequence.

    On SQLite the column is declared ``integer``, which makes it an alias of the table's rowid:
    otherwise SQLite keeps a hidden row number counting insertions, and the n-th ballot could be
    matched to the n-th participation. 64-bit on every backend."""

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


def default_channels() -> list[str]:
    return ["web", "booth", "paper", "proxy"]


class Process(models.Model):
    class Kind(models.TextChoices):
        DELIBERATION = "deliberation", _("monthly deliberation")
        FUND = "fund", _("community fund")
        EVALUATION = "evaluation", _("annual evaluation")
        VOTE = "vote", _("vote")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT,
                                  related_name="processes")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    grids = models.ManyToManyField("community.Grid", blank=True, related_name="processes",
                                   verbose_name=_("grids"),
                                   help_text=_("None chosen: the whole community."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("process")
        verbose_name_plural = _("processes")
        ordering = ["community_id", "-created_at", "-id"]
        indexes = [models.Index(fields=["community", "kind"], name="process_comm_kind")]

    def __str__(self):
        return self.title


class Phase(models.Model):
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="phases")
    key = models.SlugField(_("key"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    enabled = models.BooleanField(_("enabled"), default=True)
    opened_at = models.DateTimeField(_("opening announced"), null=True, blank=True)

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["process", "order"]
        constraints = [models.UniqueConstraint(fields=["process", "key"], name="phase_key_unique")]

    def __str__(self):
        return self.name


class Channel(models.TextChoices):
    WEB = "web", _("online")
    BOOTH = "booth", _("at a booth")
    PAPER = "paper", _("paper sheet")
    PROXY = "proxy", _("by proxy")


class Vote(models.Model):
    class Kind(models.TextChoices):
        CHOICE = "choice", _("one choice")
        APPROVAL = "approval", _("approval")
        RATING = "rating", _("rating")

    class Eligibility(models.TextChoices):
        ADULTS = "adults", _("residents aged 18 or over")
        HOUSEHOLDS = "households", _("one vote per household")
        OWNERS = "owners", _("owners (one vote per unit)")

    class Rule(models.TextChoices):
        MAJORITY = "majority", _("simple majority")
        QUORUM = "quorum", _("majority with a quorum")
        OWNERS = "owners", _("owners' common matter (Civil Code art. 278)")
        OWNERS_SPECIAL = "owners_special", _("owners' major matter (Civil Code art. 278, three quarters)")
        TALLY = "tally", _("counts only")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        PUBLISHED = "published", _("published")

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="votes")
    phase_key = models.SlugField(_("phase"), max_length=32,
                                 help_text=_("Ballots are accepted only while this phase is current."))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    eligibility = models.CharField(_("who may vote"), max_length=12, choices=Eligibility.choices)
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (%)"), default=50)
    min_choices = models.PositiveSmallIntegerField(_("fewest choices"), default=0)
    max_choices = models.PositiveSmallIntegerField(_("most choices"), null=True, blank=True)
    budget_fen = models.BigIntegerField(_("budget (fen)"), null=True, blank=True)
    min_budget_share_percent = models.PositiveSmallIntegerField(_("least share of the budget (%)"), default=0)
    channels = models.JSONField(_("channels"), default=default_channels)
    breakdown_by_grid = models.BooleanField(_("results per grid"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    paper_salt = models.CharField(max_length=64, default=new_salt, editable=False)
    result = models.JSONField(_("result"), null=True, blank=True)
    result_sha256 = models.CharField(_("result SHA-256"), max_length=64, blank=True)
    log_index = models.BigIntegerField(_("log index"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["process_id", "id"]

    def __str__(self):
        return self.title

    @property
    def community_id(self):
        return self.process.community_id


class Question(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("question"), max_length=300)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["vote", "order", "id"]

    def __str__(self):
        return self.text


class Option(models.Model):
    # The three options of every criterion of a "rating" vote, by their ``ref``.
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"
    RATINGS = (SATISFIED, BASIC, UNSATISFIED)

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    label = models.CharField(_("option"), max_length=200)
    cost_fen = models.BigIntegerField(_("cost (fen)"), default=0)
    ref = models.CharField(_("reference"), max_length=40, blank=True,
                           help_text=_('What the option stands for elsewhere, e.g. "project:17".'))

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["question", "order", "id"]

    def __str__(self):
        return self.label


class Booth(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="booths")
    name = models.CharField(_("name"), max_length=80)
    place = models.CharField(_("place"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("booth")
        verbose_name_plural = _("booths")
        ordering = ["vote", "id"]

    def __str__(self):
        return self.name


class Participation(models.Model):
    """That a voter took part (or took a paper sheet): never what they voted."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="participations")
    voter_key = models.CharField(max_length=40)
    resident = models.ForeignKey("community.Resident", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    household = models.ForeignKey("community.Household", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    booth = models.ForeignKey(Booth, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    proxy_reason = models.CharField(_("reason for the proxy"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [models.UniqueConstraint(fields=["vote", "voter_key"], name="participation_one_per_voter")]


class Ballot(models.Model):
    """What was voted. No timestamp and no link to the participation, on purpose."""

    id = RandomKeyField(primary_key=True, default=random_key, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="ballots")
    choices = models.JSONField(_("choices"))
    receipt_hash = models.CharField(max_length=64)
    # No channel and no booth: a lone proxy vote, or the only ballot of a booth, would point at its
    # voter through the participation that names them. Turnout by channel and the paper sheets'
    # reconciliation per booth are read from participations and paper codes instead.
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    weight_area = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["vote", "receipt_hash"]
        constraints = [models.UniqueConstraint(fields=["vote", "receipt_hash"], name="ballot_receipt_unique")]


class PaperCode(models.Model):
    class State(models.TextChoices):
        ISSUED = "issued", _("issued")
        ENTERED = "entered", _("entered")
        COUNTED = "counted", _("counted")
        SPOILED = "spoiled", _("spoiled")

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="paper_codes")
    booth = models.ForeignKey(Booth, null=True, blank=True, on_delete=models.PROTECT, related_name="paper_codes")
    code_hash = models.CharField(max_length=64)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ISSUED)

    class Meta:
        verbose_name = _("paper code")
        verbose_name_plural = _("paper codes")
        constraints = [models.UniqueConstraint(fields=["vote", "code_hash"], name="papercode_unique")]


class SheetEntry(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="sheet_entries")
    code_hash = models.CharField(max_length=64)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choices = models.JSONField(_("choices"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sheet entry")
        verbose_name_plural = _("sheet entries")
        ordering = ["vote", "code_hash", "created_at"]
        constraints = [models.UniqueConstraint(fields=["vote", "code_hash", "officer"],
                                               name="sheetentry_one_per_officer")]
