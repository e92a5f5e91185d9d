"""The Django admin shows the board's rows read-only: every change goes through the services
and the workflow (the office pages, ``linli disclosure``), each with its event, and a published
entry is never edited. Duties are edited on the office's duties page."""

from django.contrib import admin

from .models import Attachment, Duty, Entry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("name", "content_type", "size", "sha256")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("community", "section", "state", "log_index", "period_start", "published_at")
    list_filter = ("section", "state")
    search_fields = ("title",)
    inlines = [AttachmentInline]

    def has_change_permission(self, request, obj=None):  # the page opens, nothing is editable
        return False


@admin.register(Duty)
class DutyAdmin(ReadOnlyAdmin):
    list_display = ("community", "code", "section", "frequency", "days_allowed", "since", "active")
    list_filter = ("section", "frequency", "active")
