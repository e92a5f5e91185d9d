"""The community's books: accounts, vouchers and their lines, attachments, budgets, closed months.

Every amount is an integer number of fen (BigIntegerField); pages show it as ¥1,234.56
(:mod:`linli.books.money`). Rows are written only through :mod:`linli.books.services`;
a voucher's state moves only through :data:`linli.books.workflow.VOUCHER`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.community.models import Community


class Account(models.Model):
    """One head of the chart of accounts (科目) of one community. ``parent``: the head a
    sub-account belongs to (社区保障资金 → one sub-account per project). Lines post only to
    heads without sub-accounts (末级科目); a head's balance includes its sub-accounts'."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("assets")
        LIABILITY = "liability", _("liabilities")
        NET_ASSETS = "net_assets", _("net assets")
        FUND = "fund", _("community fund")
        REVENUE = "revenue", _("revenue")
        EXPENSE = "expense", _("expenses")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="book_accounts")
    code = models.CharField(pgettext_lazy("books", "code"), max_length=20)
    name = models.CharField(pgettext_lazy("books", "name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent account"))
    active = models.BooleanField(pgettext_lazy("books", "active"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("books", "account")
        verbose_name_plural = _("accounts")
        ordering = ["community_id", "code"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="books_account_code_unique")]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow on the debit side; the others on the credit side."""
        return self.kind in (self.Kind.ASSET, self.Kind.EXPENSE)


class Voucher(models.Model):
    """A 记账凭证: numbered per community per year (记-0001), its lines balance. Posted
    (approved) vouchers are never edited; a reversal (红字冲销) is a new voucher with the
    lines negated, pointing at the one it reverses."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", pgettext_lazy("books", "submitted")
        APPROVED = "approved", _("posted")
        RETURNED = "returned", _("returned")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="vouchers")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    summary = models.CharField(pgettext_lazy("books", "summary"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("prepared by"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("submitted by"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("approved by"))
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    returned_reason = models.CharField(_("reason for returning"), max_length=300, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by", verbose_name=_("reverses"))

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["community_id", "date", "year", "number"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year", "number"], name="books_voucher_number_unique"),
        ]
        indexes = [models.Index(fields=["community", "status", "date"], name="books_voucher_posted_idx")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """记-0001 (the number within its year)."""
        return f"记-{self.number:04d}"

    @property
    def posted(self) -> bool:
        return self.status == self.Status.APPROVED


class VoucherLine(models.Model):
    """One line: an account and an amount on the debit or the credit side (the other is 0).
    Amounts are positive, except on a reversal's lines (red ink: the original's negated)."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    summary = models.CharField(_("line summary"), max_length=200, blank=True)
    debit = models.BigIntegerField(_("debit (fen)"), default=0)
    credit = models.BigIntegerField(_("credit (fen)"), default=0)

    class Meta:
        ordering = ["voucher_id", "position"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(debit=0) & ~models.Q(credit=0)) | (~models.Q(debit=0) & models.Q(credit=0)),
                name="books_line_one_side"),
            models.UniqueConstraint(fields=["voucher", "position"], name="books_line_position_unique"),
        ]


def _attachment_path(instance, filename):
    return f"books/{instance.voucher.community_id}/{instance.voucher.year}/{filename}"


class VoucherAttachment(models.Model):
    """A receipt or invoice scanned with a voucher: PDF, JPEG, PNG or WebP by content, at most
    20 MB, kept as uploaded (an accounting record), with its SHA-256."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(pgettext_lazy("books", "name"), max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=_attachment_path)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["voucher_id", "id"]


class Budget(models.Model):
    """The year's budget of one revenue or expense head, in fen."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("year"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="budgets")
    amount = models.BigIntegerField(_("amount (fen)"))

    class Meta:
        ordering = ["community_id", "year", "account__code"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year", "account"], name="books_budget_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="books_budget_not_negative"),
        ]


class ClosedMonth(models.Model):
    """A month whose books are closed (结账): no voucher dated in it is written or posted."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="closed_months")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["community_id", "year", "month"]
        constraints = [models.UniqueConstraint(fields=["community", "year", "month"], name="books_closed_month_unique")]
