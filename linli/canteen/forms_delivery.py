"""Forms of the delivery pages (docs/canteen.md, "Delivery")."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .delivery import MAX_NOTE


class StopForm(forms.Form):
    """One stop's outcome, from the round page: the button pressed, an optional photo and note."""

    outcome = forms.ChoiceField(choices=[("delivered", _("Delivered")), ("not_home", _("Not at home"))])
    photo = forms.FileField(label=_("Photo (optional)"), required=False)
    note = forms.CharField(label=_("Note (optional)"), max_length=MAX_NOTE, required=False)
    paid = forms.BooleanField(label=_("Paid on delivery"), required=False)


class PlanForm(forms.Form):
    """A new round: the meal, the courtyard (or all), who runs it."""

    meal = forms.IntegerField(widget=forms.HiddenInput)
    grid = forms.TypedChoiceField(label=_("Courtyard"), coerce=int, required=False, empty_value=None)
    volunteer = forms.TypedChoiceField(label=_("Volunteer"), coerce=int, required=False, empty_value=None)
    run_myself = forms.BooleanField(label=_("I run this round myself"), required=False)

    def __init__(self, *args, grids=(), volunteers=(), all_courtyards=True, **kwargs):
        super().__init__(*args, **kwargs)
        first = [("", _("All courtyards"))] if all_courtyards else []
        self.fields["grid"].choices = first + [(g.pk, g.name) for g in grids]
        self.fields["volunteer"].choices = [("", _("No volunteer"))] + [
            (v.pk, v.resident.name.masked) for v in volunteers]


class MonthForm(forms.Form):
    canteen = forms.IntegerField(required=False, widget=forms.HiddenInput)
