"""Read-only admin views of the canteen: every write goes through the app's services (one event each).
No personal data in the lists (orders show ids, not names)."""

from django.contrib import admin

from .models import Canteen, DeliveryRound, Dish, Meal, MealTime, Order, SubsidyRule


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Canteen)
class CanteenAdmin(_ReadOnly):
    list_display = ("name", "community", "partner", "active", "created_at")
    list_filter = ("community", "active")


@admin.register(MealTime)
class MealTimeAdmin(_ReadOnly):
    list_display = ("canteen", "kind", "serves_from", "serves_until", "cutoff", "delivery_from")


@admin.register(Dish)
class DishAdmin(_ReadOnly):
    list_display = ("name", "canteen", "price_fen", "active")
    list_filter = ("canteen", "active")


@admin.register(Meal)
class MealAdmin(_ReadOnly):
    list_display = ("day", "kind", "canteen", "status", "price_fen", "onsite_taken", "onsite_capacity",
                    "delivery_taken", "delivery_capacity")
    list_filter = ("canteen", "status", "kind")
    date_hierarchy = "day"


@admin.register(SubsidyRule)
class SubsidyRuleAdmin(_ReadOnly):
    list_display = ("canteen", "criterion", "percent", "max_meals_per_day", "active")


@admin.register(DeliveryRound)
class DeliveryRoundAdmin(_ReadOnly):
    list_display = ("pk", "canteen", "meal", "grid", "status", "started_at", "finished_at")
    list_filter = ("canteen", "status")


@admin.register(Order)
class OrderAdmin(_ReadOnly):
    list_display = ("pk", "canteen", "meal", "resident_id", "quantity", "delivery", "status", "payable_fen",
                    "subsidy_fen", "payment", "paid")
    list_filter = ("canteen", "status", "delivery", "payment")
    exclude = ("photo",)
