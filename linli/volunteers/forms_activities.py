"""Forms of the activities' office pages (docs/volunteers.md)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import skills as vocab
from .activities import MAX_SLOTS, MULTIPLIERS

_DT = {"widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
       "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]}


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    activity_type = forms.ChoiceField(label=_("Kind of help"), choices=vocab.ACTIVITY_TYPES)
    description = forms.CharField(label=_("What the volunteers will do"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    place = forms.CharField(label=_("Place"), max_length=120,
                            help_text=_("Where volunteers meet (no home address: it is shown to every volunteer)."))
    grid = forms.ModelChoiceField(label=_("Courtyard"), queryset=None, required=False,
                                  empty_label=_("the whole community"))
    starts_at = forms.DateTimeField(label=_("Starts"), **_DT)
    ends_at = forms.DateTimeField(label=_("Ends"), **_DT)
    slots = forms.IntegerField(label=_("Volunteers needed"), min_value=1, max_value=MAX_SLOTS, initial=2)
    skills = forms.MultipleChoiceField(label=_("Skills that help"), choices=vocab.SKILLS, required=False,
                                       widget=forms.CheckboxSelectMultiple)
    multipliers = forms.MultipleChoiceField(label=_("Point multipliers"), choices=MULTIPLIERS, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("no team"))
    need = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, grids, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids
        self.fields["team"].queryset = teams

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("Pick a time in the future."))
        return value


class InviteForm(forms.Form):
    volunteer = forms.IntegerField(widget=forms.HiddenInput)
