"""The friendship canteen (友谊食堂): menus, capacity, orders, subsidies, delivery rounds (docs/canteen.md).

A :class:`Canteen` belongs to one community (and, when it takes points, to a ``points.Partner``).
It serves meals at its :class:`MealTime` rows; each day's :class:`Meal` (lunch, dinner) holds its
set price, its :class:`MealDish` items and two capacities — on site and delivered — with counters
that only ever move by one conditional UPDATE (the database CHECKs are the backstop).
A :class:`SubsidyRule` says what share of the price the street pays for residents who meet a
criterion (codes in :mod:`linli.canteen.eligibility`); a :class:`DeliveryPermit` lets the office
have meals delivered to someone who meets none of the canteen's delivery criteria.
An :class:`Order` is one resident's place at one meal; delivered orders become the stops of a
:class:`DeliveryRound`.

Money is integer fen everywhere; dish tags are codes of :data:`linli.canteen.menus.DISH_TAGS`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def default_delivery_criteria():
    return ["age_80", "alone_elder", "disabled"]


class MealKind(models.TextChoices):
    BREAKFAST = "breakfast", _("breakfast")
    LUNCH = "lunch", _("lunch")
    DINNER = "dinner", _("dinner")


class Canteen(models.Model):
    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="canteens")
    partner = models.OneToOneField("points.Partner", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="canteen_profile", verbose_name=_("points partner"))
    name = models.CharField(_("name"), max_length=80)
    place = models.CharField(_("place"), max_length=120, blank=True)
    # A public number (the canteen's or the office's, not a person's): residents call it to ask for
    # delivery or to cancel after the cut-off.
    phone = models.CharField(_("phone for residents"), max_length=20, blank=True)
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("courtyard"))
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    fen_per_point = models.PositiveSmallIntegerField(_("fen per point"), default=10)
    delivery_criteria = models.JSONField(_("who may have meals delivered"), default=default_delivery_criteria,
                                         blank=True)
    max_quantity = models.PositiveSmallIntegerField(_("most portions per order"), default=3)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["community_id", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(fen_per_point__gt=0), name="canteen_fen_per_point_positive"),
            models.CheckConstraint(condition=Q(max_quantity__gte=1) & Q(max_quantity__lte=10),
                                   name="canteen_max_quantity_range"),
        ]

    def __str__(self):
        return self.name


class MealTime(models.Model):
    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="times")
    kind = models.CharField(_("meal"), max_length=10, choices=MealKind.choices)
    serves_from = models.TimeField(_("serves from"))
    serves_until = models.TimeField(_("serves until"))
    cutoff = models.TimeField(_("orders close at"))
    delivery_from = models.TimeField(_("delivery from"), null=True, blank=True)

    class Meta:
        ordering = ["canteen_id", "serves_from"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "kind"], name="canteen_mealtime_once"),
            models.CheckConstraint(condition=Q(serves_until__gt=F("serves_from")), name="canteen_mealtime_order"),
            models.CheckConstraint(condition=Q(cutoff__lte=F("serves_from")), name="canteen_mealtime_cutoff"),
        ]

    def __str__(self):
        return f"{self.kind} {self.serves_from:%H:%M}–{self.serves_until:%H:%M}"


class Dish(models.Model):
    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="dishes")
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=200, blank=True)
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    tags = models.JSONField(_("tags"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["canteen_id", "name", "id"]
        verbose_name_plural = "dishes"
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="canteen_dish_price_positive"),
        ]

    def __str__(self):
        return self.name


class Meal(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        CANCELLED = "cancelled", _("cancelled")

    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="meals")
    day = models.DateField(_("day"))
    kind = models.CharField(_("meal"), max_length=10, choices=MealKind.choices)
    starts_at = models.DateTimeField(_("serves from"))
    ends_at = models.DateTimeField(_("serves until"))
    cutoff_at = models.DateTimeField(_("orders close at"))
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    onsite_capacity = models.PositiveIntegerField(_("places on site"))
    delivery_capacity = models.PositiveIntegerField(_("places for delivery"))
    onsite_taken = models.PositiveIntegerField(default=0)
    delivery_taken = models.PositiveIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "starts_at", "id"]
        indexes = [models.Index(fields=["canteen", "status", "day"], name="canteen_meal_day")]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "day", "kind"], name="canteen_meal_once"),
            models.CheckConstraint(condition=Q(onsite_taken__lte=F("onsite_capacity")),
                                   name="canteen_meal_onsite_capacity"),
            models.CheckConstraint(condition=Q(delivery_taken__lte=F("delivery_capacity")),
                                   name="canteen_meal_delivery_capacity"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="canteen_meal_price_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="canteen_meal_ends_after"),
        ]

    def __str__(self):
        return f"{self.day} {self.kind}"


class MealDish(models.Model):
    meal = models.ForeignKey(Meal, on_delete=models.CASCADE, related_name="items")
    dish = models.ForeignKey(Dish, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["meal_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["meal", "dish"], name="canteen_mealdish_once")]


class SubsidyRule(models.Model):
    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="subsidy_rules")
    criterion = models.CharField(_("who"), max_length=24)
    percent = models.PositiveSmallIntegerField(_("share of the price paid by the subsidy (%)"))
    max_meals_per_day = models.PositiveSmallIntegerField(_("subsidised meals a day"), default=1)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["canteen_id", "-percent", "criterion"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "criterion"], name="canteen_subsidy_rule_once"),
            models.CheckConstraint(condition=Q(percent__lte=100), name="canteen_subsidy_percent_max"),
        ]

    def __str__(self):
        return f"{self.criterion} {self.percent}%"


class DeliveryPermit(models.Model):
    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="permits")
    resident = models.ForeignKey("community.Resident", on_delete=models.PROTECT, related_name="canteen_permits")
    reason = models.CharField(_("reason"), max_length=200)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    until = models.DateField(_("until"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["canteen", "resident"], name="canteen_permit_resident")]


class DeliveryRound(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("ready to go out")
        OUT = "out", _("out delivering")
        DONE = "done", _("done")

    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="rounds")
    meal = models.ForeignKey(Meal, on_delete=models.PROTECT, related_name="rounds")
    grid = models.ForeignKey("community.Grid", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("courtyard"))
    volunteer = models.ForeignKey("volunteers.Volunteer", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("volunteer"))
    runner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("runner"))
    activity = models.ForeignKey("volunteers.Activity", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PLANNED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meal_id", "id"]


class Order(models.Model):
    class Channel(models.TextChoices):
        ONLINE = "online", _("online")
        COUNTER = "counter", _("at the counter")
        PHONE = "phone", _("by phone")
        API = "api", _("app")

    class Status(models.TextChoices):
        ORDERED = "ordered", _("ordered")
        SERVED = "served", _("served")
        OUT = "out", _("out for delivery")
        DELIVERED = "delivered", _("delivered")
        NOT_HOME = "not_home", _("not at home")
        CANCELLED = "cancelled", _("cancelled")

    class Payment(models.TextChoices):
        CASH = "cash", _("cash")
        MOBILE = "mobile", _("mobile payment")
        POINTS = "points", _("points")

    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="orders")
    meal = models.ForeignKey(Meal, on_delete=models.PROTECT, related_name="orders")
    resident = models.ForeignKey("community.Resident", on_delete=models.PROTECT, related_name="canteen_orders")
    quantity = models.PositiveSmallIntegerField(_("portions"))
    delivery = models.BooleanField(_("delivered"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ORDERED)
    unit_price_fen = models.PositiveIntegerField()
    subsidy_fen = models.PositiveIntegerField(default=0)
    payable_fen = models.PositiveIntegerField()
    subsidy_criterion = models.CharField(max_length=24, blank=True)
    payment = models.CharField(_("payment"), max_length=8, choices=Payment.choices)
    paid = models.BooleanField(default=False)
    paid_at = models.DateTimeField(null=True, blank=True)
    points = models.PositiveIntegerField(default=0)
    points_transaction = models.OneToOneField("points.Transaction", null=True, blank=True,
                                              on_delete=models.PROTECT, related_name="+")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    round = models.ForeignKey(DeliveryRound, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="stops")
    stop_position = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.CharField(max_length=200, blank=True)
    photo = models.ImageField(upload_to="canteen/%Y/%m/", blank=True)
    welfare_case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["meal", "status"], name="canteen_order_meal_status"),
            models.Index(fields=["resident", "created_at"], name="canteen_order_resident"),
            models.Index(fields=["canteen", "status", "created_at"], name="canteen_order_canteen"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["meal", "resident"], condition=~Q(status="cancelled"),
                                    name="canteen_order_one_per_meal"),
            models.CheckConstraint(condition=Q(quantity__gte=1) & Q(quantity__lte=10),
                                   name="canteen_order_quantity_range"),
        ]

    def __str__(self):
        return f"order {self.pk}"
