"""The 睦邻积分 ledger, its rules, the catalogue, partners and redemptions (docs/points.md).

The ledger is double-entry in integer points. Every movement is a :class:`Transaction` whose
:class:`Posting` s sum to zero; an account's ``balance`` is a cache moved only by the database's
own trigger when a transaction is posted (migration 0002), and the database refuses a balance
below zero for every account but the community's issuance account, which goes negative by
exactly the points outstanding. Postings are never updated or deleted; a transaction is never
deleted and only its ``posted`` flag may change, once, from false to true. Corrections are
reversals (``linli.points.ledger.reverse``).

Sign convention: a posting's ``amount`` > 0 raises its account's balance.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActivityType(models.TextChoices):
    """The kinds of service that earn points; the codes are shared with ``linli.volunteers``."""

    VISIT = "visit", _("elder visit")
    ESCORT = "escort", _("accompaniment")
    MEAL_DELIVERY = "meal_delivery", _("meal delivery")
    CLEANUP = "cleanup", _("clean-up")
    PATROL = "patrol", _("patrol")
    TUTORING = "tutoring", _("tutoring")
    EVENT = "event", _("event service")
    OTHER = "other", _("other service")


class Partner(models.Model):
    """A business or service where residents redeem points (the canteen, a barber, a shop)."""

    class Kind(models.TextChoices):
        CANTEEN = "canteen", _("canteen")
        BARBER = "barber", _("barber")
        SHOP = "shop", _("shop")
        SERVICE = "service", _("service")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="points_partners")
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The organisation whose unit_staff work this partner's counter and see its settlement.
    organisation = models.ForeignKey("community.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="points_partners", verbose_name=_("organisation"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """One account of the ledger. ``balance`` is changed only by the database trigger."""

    class Kind(models.TextChoices):
        ISSUANCE = "issuance", _("issuance")
        RESIDENT = "resident", _("resident")
        PARTNER = "partner", _("partner")
        EXPIRY = "expiry", _("expiry")
        POOL = "pool", _("community pool")

    SINGLE_KINDS = ("issuance", "expiry", "pool")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="points_accounts")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    resident = models.OneToOneField("community.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="points_account")
    partner = models.OneToOneField(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="account")
    balance = models.BigIntegerField(_("balance"), default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.UniqueConstraint(fields=["community", "kind"], condition=Q(kind__in=["issuance", "expiry", "pool"]),
                                    name="points_account_one_per_community"),
            models.CheckConstraint(condition=Q(balance__gte=0) | Q(kind="issuance"),
                                   name="points_account_not_negative"),
            models.CheckConstraint(
                condition=(Q(kind="resident", resident__isnull=False, partner__isnull=True)
                           | Q(kind="partner", partner__isnull=False, resident__isnull=True)
                           | Q(kind__in=["issuance", "expiry", "pool"], resident__isnull=True, partner__isnull=True)),
                name="points_account_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Transaction(models.Model):
    """One movement of points: its postings sum to zero. Never deleted; corrected by a reversal."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("grant")
        REDEMPTION = "redemption", _("redemption")
        GIFT = "gift", _("gift")
        EXPIRY = "expiry", _("expiry")
        REVERSAL = "reversal", _("reversal")
        SETTLEMENT = "settlement", _("settlement")
        ADJUSTMENT = "adjustment", _("adjustment")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT,
                                  related_name="points_transactions")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    source_type = models.CharField(max_length=64, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    posted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The moment the transaction counts for: created_at, unless the demo writes history.
    effective_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points transaction")
        verbose_name_plural = _("points transactions")
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_type", "source_id"], condition=~Q(source_type=""),
                                    name="points_transaction_one_per_source"),
        ]
        indexes = [models.Index(fields=["community", "effective_at"], name="points_txn_community_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Posting(models.Model):
    """One line of a transaction: ``amount`` > 0 raises the account's balance. Never changed."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="points_posting_not_zero")]


class IdempotencyKey(models.Model):
    """The stored answer to a request sent with an ``Idempotency-Key`` header."""

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="points_idempotency_unique")]


class Policy(models.Model):
    """A community's limits: caps on earning, expiry, gifts."""

    community = models.OneToOneField("community.Community", on_delete=models.PROTECT, related_name="points_policy")
    daily_cap = models.PositiveIntegerField(_("daily cap"), default=40)
    yearly_cap = models.PositiveIntegerField(_("yearly cap"), default=2000)
    expiry_months = models.PositiveSmallIntegerField(_("months before points expire"), default=24)
    expiry_notice_days = models.PositiveSmallIntegerField(_("days of notice before expiry"), default=30)
    gift_max = models.PositiveIntegerField(_("largest gift"), default=100)
    gift_month_max = models.PositiveIntegerField(_("gifts in a month"), default=300)

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")


class EarningRule(models.Model):
    """Points per hour of service of one activity type."""

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="points_rules")
    activity_type = models.SlugField(_("activity type"), max_length=32, choices=ActivityType.choices)
    points_per_hour = models.PositiveIntegerField(_("points per hour"))

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        constraints = [models.UniqueConstraint(fields=["community", "activity_type"], name="points_rule_unique")]


class Multiplier(models.Model):
    """A percentage applied to the points of a night, bad-weather or hard activity (150 = ×1.5)."""

    class Code(models.TextChoices):
        NIGHT = "night", _("night")
        WEATHER = "weather", _("bad weather")
        HARD = "hard", _("hard task")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="points_multipliers")
    code = models.CharField(_("code"), max_length=16, choices=Code.choices)
    percent = models.PositiveSmallIntegerField(_("percent"))

    class Meta:
        verbose_name = _("multiplier")
        verbose_name_plural = _("multipliers")
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="points_multiplier_unique")]


class Item(models.Model):
    """Something in the catalogue: a meal, a haircut, goods, priority booking."""

    class Kind(models.TextChoices):
        MEAL = "meal", _("meal")
        HAIRCUT = "haircut", _("haircut")
        GOODS = "goods", _("daily goods")
        PRIORITY = "priority", _("priority booking")
        OTHER = "other", _("other")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="points_items")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="items")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    points = models.PositiveIntegerField(_("points"))
    # None: unlimited.
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering = ["points", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="points_item_unique"),
            models.CheckConstraint(condition=Q(points__gt=0), name="points_item_points_positive"),
            models.CheckConstraint(condition=Q(stock__isnull=True) | Q(stock__gte=0), name="points_item_stock"),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerKey(models.Model):
    """A partner terminal's API key: only its prefix and hash are stored (as ``cases.ApiKey``)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="keys")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("partner key")
        verbose_name_plural = _("partner keys")


class Redemption(models.Model):
    """A resident's redemption of an item, online or at the partner's counter."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("online")
        COUNTER = "counter", _("at the counter")

    class Status(models.TextChoices):
        REDEEMED = "redeemed", _("redeemed")
        CANCELLED = "cancelled", _("cancelled")

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="points_redemptions")
    resident = models.ForeignKey("community.Resident", on_delete=models.PROTECT, related_name="points_redemptions")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="redemptions")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    points = models.PositiveIntegerField(_("points"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="redemption")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REDEEMED)
    key = models.ForeignKey(PartnerKey, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [models.Index(fields=["partner", "created_at"], name="points_redemption_partner_at")]


class NoticeSent(models.Model):
    """An expiry notice sent to an account for a period: sent once."""

    class Kind(models.TextChoices):
        EXPIRY = "expiry", _("expiry")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    period = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind", "period"], name="points_notice_once")]
