"""The Django admin shows processes and votes read-only: every change goes through the services
and the vote workflow, each with its event. Ballots and participations are not shown at all:
who voted and what was voted are read only through the engine's counts and the published list."""

from django.contrib import admin

from .models import Phase, Process, Question, Vote


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PhaseInline(ReadOnly, admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("order", "key", "name", "starts_at", "ends_at", "enabled", "opened_at")
    readonly_fields = fields


@admin.register(Process)
class ProcessAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("title", "kind", "community", "created_at")
    list_filter = ("kind",)
    inlines = [PhaseInline]


class QuestionInline(ReadOnly, admin.TabularInline):
    model = Question
    extra = 0
    fields = ("order", "text")
    readonly_fields = fields


@admin.register(Vote)
class VoteAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("title", "process", "kind", "eligibility", "rule", "state")
    list_filter = ("state", "kind", "rule")
    inlines = [QuestionInline]
