"""The Django admin for the need-tag tree (docs/needs.md): each community's categories
and subcategories, renamed, reordered, added or deactivated by its administrators.

Household tags are personal data and are not in the admin: they are seen and
decided on the console, scoped like the registry. Imported by ``admin.py``.
"""

from django.contrib import admin

from .models import NeedCategory


@admin.register(NeedCategory)
class NeedCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "parent", "community", "position", "active")
    list_editable = ("position", "active")
    list_filter = ("community", "active", "parent__code")
    list_select_related = ("parent", "community")
    search_fields = ("code", "name_zh", "name_en")
    ordering = ("community", "position", "code")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = NeedCategory.objects.filter(parent__isnull=True).select_related("community")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # A subcategory with tags stays (PROTECT); deactivate it instead.
        return super().has_delete_permission(request, obj) and (obj is None or not obj.household_needs.exists())
