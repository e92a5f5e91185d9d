"""The books in Django's admin: read-only (every write goes through linli.books.services)."""

from django.contrib import admin

from .models import Account, Budget, ClosedMonth, Voucher, VoucherLine


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineInline(admin.TabularInline):
    model = VoucherLine
    extra = 0
    fields = ("position", "account", "summary", "debit", "credit")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(_ReadOnly):
    list_display = ("community", "code", "name", "kind", "active")
    list_filter = ("kind", "active")


@admin.register(Voucher)
class VoucherAdmin(_ReadOnly):
    list_display = ("community", "year", "number", "date", "summary", "status")
    list_filter = ("status",)
    inlines = [LineInline]


@admin.register(Budget)
class BudgetAdmin(_ReadOnly):
    list_display = ("community", "year", "account", "amount")


@admin.register(ClosedMonth)
class ClosedMonthAdmin(_ReadOnly):
    list_display = ("community", "year", "month", "closed_at")
