"""Read-only admin views: every write goes through the app's services (one event each)."""

from django.contrib import admin

from .models import Activity, Need, Team


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(_ReadOnly):
    list_display = ("name", "community", "kind", "active")
    list_filter = ("community", "kind", "active")


@admin.register(Need)
class NeedAdmin(_ReadOnly):
    list_display = ("title", "community", "activity_type", "source", "status", "created_at")
    list_filter = ("community", "source", "status", "activity_type")


@admin.register(Activity)
class ActivityAdmin(_ReadOnly):
    list_display = ("title", "community", "activity_type", "starts_at", "status")
    list_filter = ("community", "status", "activity_type")
