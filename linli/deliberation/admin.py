from django.contrib import admin

from .models import Round


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    """Read-only: every write goes through linli.deliberation.services (one event each)."""

    list_display = ("community", "year", "month", "support_threshold")
    list_filter = ("community",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
