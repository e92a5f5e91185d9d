"""The Django admin for the case settings: the holiday calendar, routing rules, category
keywords and time limits. Saves and deletes go through the same services the settings
pages use (``linli.cases.calendar``, ``linli.cases.case_settings``), so each writes its
event and is refused for an account that may not edit that community's settings."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.core.errors import LinliError

from . import calendar, case_settings
from .models import Category, Holiday, RoutingRule, TimeLimit


class ServiceAdmin(admin.ModelAdmin):
    """``save_service(request, obj, form, change)`` and ``delete_service(request, obj)`` do the
    write; a service's refusal is raised as a form error where the form can show it."""

    def save_service(self, request, obj, form, change):  # pragma: no cover - every subclass sets it
        raise NotImplementedError

    def delete_service(self, request, obj):  # pragma: no cover - every subclass sets it
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        self.save_service(request, obj, form, change)

    def delete_model(self, request, obj):
        try:
            self.delete_service(request, obj)
        except LinliError as exc:
            messages.error(request, str(exc.message))

    def delete_queryset(self, request, queryset):
        # "Delete selected": one event per row, all or none.
        with transaction.atomic():
            for obj in queryset:
                self.delete_service(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_self = self

        class Checked(form):
            """Runs the service in ``clean`` (rolled back), so a refusal shows on the form, not as
            a server error; ``save_model`` then runs it for real."""

            def clean(inner):
                cleaned = super().clean()
                if inner.errors:
                    return cleaned
                try:
                    with transaction.atomic():
                        candidate = inner.instance
                        for name, value in cleaned.items():
                            if hasattr(candidate, name):
                                setattr(candidate, name, value)
                        admin_self.save_service(request, candidate, inner, candidate.pk is not None)
                        transaction.set_rollback(True)
                except LinliError as exc:
                    raise ValidationError({exc.field: str(exc.message)} if exc.field in inner.fields
                                          else str(exc.message)) from None
                finally:
                    if inner.instance.pk is not None and not (obj and obj.pk):
                        inner.instance.pk = None
                return cleaned

        return Checked


@admin.register(Holiday)
class HolidayAdmin(ServiceAdmin):
    list_display = ("date", "is_workday", "name", "source")
    list_filter = ("is_workday", "source")
    date_hierarchy = "date"
    readonly_fields = ("source",)

    def get_readonly_fields(self, request, obj=None):
        return ("date", "source") if obj else ("source",)

    def save_service(self, request, obj, form, change):
        if change:
            calendar.holiday_change(actor=request.user, holiday=obj, is_workday=obj.is_workday, name=obj.name)
        else:
            created = calendar.holiday_add(actor=request.user, date=obj.date, is_workday=obj.is_workday, name=obj.name)
            obj.pk = created.pk
            obj.source = created.source

    def delete_service(self, request, obj):
        calendar.holiday_remove(actor=request.user, holiday=obj)


@admin.register(RoutingRule)
class RoutingRuleAdmin(ServiceAdmin):
    list_display = ("category", "grid", "unit", "community")
    list_filter = ("community",)
    list_select_related = ("category", "grid", "unit", "community")

    def get_readonly_fields(self, request, obj=None):
        # One rule per category × grid: change the unit; for another pair, add a rule.
        return ("community", "category", "grid") if obj else ()

    def save_service(self, request, obj, form, change):
        rule = case_settings.routing_rule_set(actor=request.user, community=obj.community, category=obj.category,
                                              grid=obj.grid, unit=obj.unit)
        obj.pk = rule.pk

    def delete_service(self, request, obj):
        case_settings.routing_rule_remove(actor=request.user, rule=obj)


@admin.register(Category)
class CategoryAdmin(ServiceAdmin):
    """Only the keyword rules are edited here; the tree itself comes from
    ``linli cases-install-defaults``."""

    list_display = ("code", "name_zh", "name_en", "community", "active")
    list_filter = ("community", "active")
    search_fields = ("code", "name_zh", "name_en")
    fields = ("community", "parent", "code", "name_zh", "name_en", "keywords")
    readonly_fields = ("community", "parent", "code", "name_zh", "name_en")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_service(self, request, obj, form, change):
        case_settings.category_keywords_set(actor=request.user, category=obj, keywords=obj.keywords)

    def delete_service(self, request, obj):  # pragma: no cover - deleting is not offered
        raise LinliError(_("Categories are not deleted here."))


@admin.register(TimeLimit)
class TimeLimitAdmin(ServiceAdmin):
    list_display = ("category", "urgency", "response_amount", "response_unit", "resolve_amount", "resolve_unit")
    list_filter = ("urgency", "category__community")
    list_select_related = ("category",)

    def get_readonly_fields(self, request, obj=None):
        return ("category", "urgency") if obj else ()

    def save_service(self, request, obj, form, change):
        limit = case_settings.time_limit_set(
            actor=request.user, category=obj.category, urgency=obj.urgency,
            response_amount=obj.response_amount, response_unit=obj.response_unit,
            resolve_amount=obj.resolve_amount, resolve_unit=obj.resolve_unit)
        obj.pk = limit.pk

    def delete_service(self, request, obj):
        case_settings.time_limit_remove(actor=request.user, limit=obj)
