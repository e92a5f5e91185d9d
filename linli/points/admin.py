"""The points ledger in Django's admin: read-only. Every write goes through the services
(linli/points/ledger.py and the parts built on it), each with its event; the database refuses
edits and deletions of transactions and postings anyway (docs/points.md). Residents' accounts are
listed by number: the admin is no place to browse a person's balance."""

from django.contrib import admin

from .models import Account, Item, Partner, Posting, Transaction


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PostingInline(ReadOnly, admin.TabularInline):
    model = Posting
    extra = 0
    fields = ("account", "amount", "created_at")
    readonly_fields = fields


@admin.register(Transaction)
class TransactionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "community", "kind", "effective_at", "posted", "reverses")
    list_filter = ("kind", "posted")
    inlines = [PostingInline]


@admin.register(Account)
class AccountAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "community", "kind")
    list_filter = ("kind",)
    fields = ("community", "kind", "created_at")


@admin.register(Partner)
class PartnerAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("name", "community", "kind", "active")
    list_filter = ("kind", "active")


@admin.register(Item)
class ItemAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("code", "name", "community", "partner", "points", "stock", "active")
    list_filter = ("kind", "active")
