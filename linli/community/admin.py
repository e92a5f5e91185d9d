"""The Django admin for places, roles and organisations.

People are read-only here and always masked: residents are registered and
changed through the services (which validate, keep the blind indexes and write
events), and a full value is revealed only on the console, with a reason.

Staff roles, organisations and communities are edited here, through the
services: a role opens personal data, so every grant, change and revocation
writes an event, as do the edits of what roles point at.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    Building, Community, District, Grid, Household, ImportBatch, Organisation, Resident, StaffRole,
    Street, Tag, Unit,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by those with the view permission; nobody adds, changes or deletes here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "district")
    list_filter = ("district",)
    search_fields = ("code", "name")


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletes go through the model's services, which write the row and its event
    together: ``save_service(actor=, <target>=, changed=, **m2m)`` and
    ``delete_service(actor=, <target>=)``. ``m2m`` names the many-to-many fields the save
    service sets with the row, so that its event names them."""

    target: str
    save_service: staticmethod
    delete_service: staticmethod
    m2m: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        related = {name: form.cleaned_data[name] for name in self.m2m if name in form.cleaned_data}
        self.save_service(actor=request.user, changed=form.changed_data, **{self.target: obj}, **related)

    def save_related(self, request, form, formsets, change):
        # The service set the many-to-many fields with the row; inlines are saved as usual.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        self.delete_service(actor=request.user, **{self.target: obj})

    def delete_queryset(self, request, queryset):
        # "Delete selected": one event per row, all or none.
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(Community)
class CommunityAdmin(AuditedAdmin):
    list_display = ("code", "name", "street")
    list_filter = ("street",)
    search_fields = ("code", "name")
    target = "community"
    save_service = staticmethod(services.community_save)
    delete_service = staticmethod(services.community_delete)


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community")
    list_filter = ("community",)
    search_fields = ("code", "name")


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "grid", "community", "floors")
    list_filter = ("community", "grid")
    search_fields = ("name", "osm_id")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("number", "building", "community")
    list_filter = ("community",)
    list_select_related = ("building__grid", "community")


class MemberInline(admin.TabularInline):
    """Household members, masked, read-only."""

    model = Resident
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("masked_name", "relation", "gender", "birth_year")
    readonly_fields = fields

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return str(obj.name) if obj.name else "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    # Moving a household would leave its residents' copies of the place behind:
    # households change through the services only.
    list_display = ("door", "grid", "community", "created_at")
    list_filter = ("community", "grid")
    list_select_related = ("building", "unit", "grid", "community")
    fields = ("community", "grid", "building", "unit", "room", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [MemberInline]

    @admin.display(description=_("household"))
    def door(self, obj):
        return obj.door


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "community")
    list_filter = ("community",)
    search_fields = ("name", "code")


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "community", "street", "parent")
    list_filter = ("kind", "street", "community")
    search_fields = ("name",)
    filter_horizontal = ("grids",)
    target = "organisation"
    save_service = staticmethod(services.organisation_save)
    delete_service = staticmethod(services.organisation_delete)
    m2m = ("grids",)


@admin.register(StaffRole)
class StaffRoleAdmin(AuditedAdmin):
    list_display = ("user", "role", "community", "street", "organisation", "active")
    list_filter = ("role", "active", "community", "street")
    search_fields = ("user__username",)
    list_select_related = ("user", "community", "street", "organisation")
    filter_horizontal = ("grids", "buildings")
    raw_id_fields = ("user",)
    target = "role"
    save_service = staticmethod(services.staff_role_save)
    delete_service = staticmethod(services.staff_role_revoke)
    m2m = ("grids", "buildings")


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    """Masked values and the facts kept in clear; no search, since the personal fields are sealed."""

    list_display = ("masked_name", "gender", "birth_year", "relation", "grid", "building", "is_party_member")
    list_filter = ("community", "grid", "gender", "relation", "is_party_member", "tags")
    list_select_related = ("grid", "building__grid")
    fields = (
        "community", "household", "grid", "building",
        "masked_name", "masked_id_number", "masked_phone", "masked_address", "masked_birth_date",
        "masked_note", "gender", "birth_year", "relation", "is_party_member", "tags", "user",
        "created_at", "updated_at",
    )
    readonly_fields = fields

    def _masked(self, obj, field):
        value = getattr(obj, field)
        return str(value) if value is not None else "—"

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return self._masked(obj, "name")

    @admin.display(description=_("ID card number"))
    def masked_id_number(self, obj):
        return self._masked(obj, "id_number")

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj):
        return self._masked(obj, "phone")

    @admin.display(description=_("registered address"))
    def masked_address(self, obj):
        return self._masked(obj, "address")

    @admin.display(description=_("birth date"))
    def masked_birth_date(self, obj):
        return self._masked(obj, "birth_date")

    @admin.display(description=_("sensitive note"))
    def masked_note(self, obj):
        return self._masked(obj, "note")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    # The sealed file content is never shown.
    list_display = ("filename", "community", "status", "created_by", "created_at", "applied_at")
    list_filter = ("status", "community")
    fields = ("community", "filename", "sha256", "status", "summary", "errors", "created_by",
              "created_at", "applied_at")
    readonly_fields = fields

from . import admin_needs  # noqa: E402,F401  (the need tree's admin screens)
