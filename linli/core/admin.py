from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The event log is append-only: readable here, never edited or deleted."""

    list_display = ("created_at", "actor_label", "verb", "target_type", "target_id", "community", "grid")
    list_filter = ("verb", "target_type", "community")
    search_fields = ("actor_label", "verb", "target_id")
    date_hierarchy = "created_at"
    list_select_related = ("community", "grid")
    fields = ("created_at", "actor", "actor_label", "verb", "target_type", "target_id",
              "street", "community", "grid", "data")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
