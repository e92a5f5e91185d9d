"""Read-only admin views of the evaluation (changes go through the services and their events)."""

from django.contrib import admin

from .models import Criterion, Evaluation, Response, Target


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnly):
    list_display = ("community", "year", "state", "results_log_index", "report_log_index")
    list_filter = ("state",)


@admin.register(Target)
class TargetAdmin(ReadOnly):
    list_display = ("evaluation", "kind", "label", "order")


@admin.register(Criterion)
class CriterionAdmin(ReadOnly):
    list_display = ("target", "text", "order")


@admin.register(Response)
class ResponseAdmin(ReadOnly):
    list_display = ("criterion", "written_at")
