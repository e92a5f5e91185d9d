from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The event log is append-only: readable here, never edited or deleted."""

    list_display = ("created_at", "actor_label", "verb", "target_type", "target_id", "community_id", "grid_id")
    list_filter = ("verb", "target_type")
    search_fields = ("actor_label", "verb", "target_id")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor", "actor_label", "verb", "target_type", "target_id",
              "street_id", "community_id", "grid_id", "data")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
