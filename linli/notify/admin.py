"""The Django admin for webhooks (through the services) and, read-only, notifications and deliveries.

A webhook's signing secret is write-only: the add form offers a fresh random
one to copy to the receiving system; after saving it is shown as ****** and
can only be replaced.
"""

import secrets

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from linli.core.admin import ReadOnlyAdmin
from linli.core.errors import LinliError
from linli.core.mailer import email_configured

from . import services
from .models import Notification, Webhook, WebhookDelivery


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "verb", "title", "read_at", "e_mail")
    list_filter = ("verb", "community")
    search_fields = ("title", "user__username")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    fields = ("created_at", "user", "community", "verb", "target_type", "target_id", "url", "event", "title", "body",
              "read_at", "emailed_at")
    readonly_fields = fields

    @admin.display(description=_("e-mailed at"), ordering="emailed_at")
    def e_mail(self, notification):
        """When the copy was e-mailed; without an e-mail host, says so instead of a blank."""
        if notification.emailed_at is None and not email_configured():
            return _("e-mail not configured")
        return notification.emailed_at


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    new_secret = forms.CharField(
        label=_("signing secret"), required=False, strip=True, min_length=16,
        help_text=_("Copy it to the receiving system now: it is never shown again. "
                    "When changing a webhook, leave it empty to keep the current secret."),
    )

    class Meta:
        model = Webhook
        fields = ("community", "name", "url", "verbs", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["new_secret"].widget = forms.PasswordInput(render_value=False)
        else:
            self.fields["new_secret"].required = True
            self.fields["new_secret"].initial = secrets.token_urlsafe(32)

    def clean(self):
        data = super().clean()
        if "url" in data:
            try:
                data["url"], data["verbs"] = services._clean_webhook(url=data["url"], verbs=data.get("verbs"))
            except LinliError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return data


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("name", "community", "url", "active", "created_at")
    list_filter = ("active", "community")
    search_fields = ("name", "url")
    readonly_fields = ("masked_secret", "created_at")

    def get_fields(self, request, obj=None):
        base = ["community", "name", "url", "verbs", "active"]
        return base + (["masked_secret", "new_secret", "created_at"] if obj else ["new_secret"])

    def get_readonly_fields(self, request, obj=None):
        # The community of an existing webhook does not change: make a new one.
        return ("community", "masked_secret", "created_at") if obj else ()

    @admin.display(description=_("current secret"))
    def masked_secret(self, obj):
        return str(obj.secret) if obj.secret else "—"

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        try:
            if change:
                hook = services.webhook_update(
                    actor=request.user, webhook=obj, name=cd["name"], url=cd["url"], verbs=cd["verbs"],
                    active=cd["active"], secret=cd.get("new_secret") or "")
            else:
                hook, _secret = services.webhook_create(
                    actor=request.user, community=cd["community"], name=cd["name"], url=cd["url"],
                    verbs=cd["verbs"], secret=cd["new_secret"], active=cd["active"])
        except LinliError as exc:
            messages.error(request, str(exc.message))
            raise
        obj.pk = hook.pk
        obj._state.adding = False
        obj.secret = hook.secret


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "webhook", "event", "status", "attempts", "next_attempt_at", "last_status_code",
                    "delivered_at")
    list_filter = ("status", "webhook")
    list_select_related = ("webhook", "event")
    fields = ("webhook", "event", "status", "attempts", "next_attempt_at", "last_status_code", "last_error",
              "delivered_at", "created_at")
    readonly_fields = fields
