"""The Django admin for the transparency log: witnesses are registered and retired here (through
``cosign.add_witness`` / ``cosign.deactivate_witness``, each with its event); logs, checkpoints
and cosignatures are read-only (the database refuses edits anyway)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from linli.core import signednote
from linli.core.errors import LinliError

from . import cosign
from .models import Checkpoint, Cosignature, Log, Witness


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Log)
class LogAdmin(ReadOnlyAdmin):
    list_display = ("origin", "community", "size", "created_at")
    search_fields = ("origin",)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("log", "size", "signed_at")
    list_filter = ("log",)
    fields = ("log", "size", "note", "signed_at")


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ("checkpoint", "witness", "timestamp", "received_at")
    fields = ("checkpoint", "witness", "line", "timestamp", "received_at")


class WitnessForm(forms.ModelForm):
    class Meta:
        model = Witness
        fields = ("log", "name", "verifier_key", "active")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("verifier_key"):
            try:
                verifier = signednote.parse_verifier(data["verifier_key"].strip())
            except signednote.NoteError:
                raise forms.ValidationError({"verifier_key": _("This is not a valid verifier key.")}) from None
            if verifier.alg != signednote.ALG_COSIGNATURE_V1 or verifier.name != data.get("name"):
                raise forms.ValidationError({"verifier_key": _(
                    "A witness needs a cosignature key (type 0x04) whose name is the witness's name.")})
        return data


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin):
    form = WitnessForm
    list_display = ("name", "log", "active", "created_at")
    list_filter = ("active",)

    def get_readonly_fields(self, request, obj=None):
        return ("log", "name", "verifier_key") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # a witness's cosignatures stay: retire it instead

    def save_model(self, request, obj, form, change):
        community = obj.log.community
        try:
            if not change or obj.active:
                saved = cosign.add_witness(actor=request.user, community=community, name=obj.name,
                                           verifier_key=obj.verifier_key)
            else:
                saved = cosign.deactivate_witness(actor=request.user, community=community, name=obj.name)
        except LinliError as exc:
            messages.error(request, str(exc.message))
            return
        obj.pk = saved.pk
        messages.info(request, _("Saved, with its event in the event log."))
