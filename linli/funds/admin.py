"""The Django admin shows the fund's rows read-only: every change goes through the services and
the project workflow (the fund's pages, ``linli funds``), each with its event, and a published
selection changes only by a logged override."""

from django.contrib import admin

from .models import Acceptance, Call, Milestone, Project


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("title", "community", "year", "budget_fen", "rule", "state", "log_index")
    list_filter = ("state", "rule")


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "call", "cost_fen", "state", "votes", "progress")
    list_filter = ("state",)
    exclude = ("proposer",)


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ("project", "date", "title", "progress")


@admin.register(Acceptance)
class AcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("project", "date", "passed")
