from django.contrib import admin, messages
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import signin
from .models import Event, SignInFailure
from .signin import AdminSignInForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are written by services only: readable in the admin, never added, edited
    or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The event log is append-only: readable here, never edited or deleted."""

    list_display = ("created_at", "actor_label", "verb", "target_type", "target_id", "community_id", "grid_id")
    list_filter = ("verb", "target_type")
    search_fields = ("actor_label", "verb", "target_id")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor", "actor_label", "verb", "target_type", "target_id",
              "street_id", "community_id", "grid_id", "data")
    readonly_fields = fields


# Sign-in: the admin's own sign-in form is throttled like the site's (linli/core/signin.py).
admin.site.login_form = AdminSignInForm


@admin.register(SignInFailure)
class SignInFailureAdmin(ReadOnlyAdmin):
    """Failed sign-ins: read-only. An admin with ``core.unlock_account`` may unlock the accounts
    of selected rows (a service that writes a ``signin.unlocked`` event)."""

    list_display = ("created_at", "user", "kind", "address", "locked_until", "cleared_at")
    list_filter = ("kind", "created_at")
    search_fields = ("user__username",)
    date_hierarchy = "created_at"
    fields = ("created_at", "user", "kind", "address", "cleared_at")
    readonly_fields = fields
    actions = ["unlock_accounts"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description=_("account locked until"))
    def locked_until(self, obj):
        if obj.user_id is None:
            return "—"
        until = signin.user_locked_until(obj.user)
        return formats.date_format(timezone.localtime(until), "Y-m-d H:i") if until else "—"

    def has_unlock_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("core.unlock_account")

    @admin.action(description=_("Unlock the accounts of the selected failed sign-ins"), permissions=["unlock"])
    def unlock_accounts(self, request, queryset):
        users = {row.user for row in queryset.select_related("user") if row.user_id is not None}
        for user in users:
            signin.unlock_account(actor=request.user, user=user)
        self.message_user(request, ngettext("Unlocked %(count)d account.", "Unlocked %(count)d accounts.",
                                            len(users)) % {"count": len(users)}, messages.SUCCESS)
