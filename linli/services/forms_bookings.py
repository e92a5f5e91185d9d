"""Forms of the bookings pages (docs/services.md). They only parse input; the rules live in
catalogue.py and bookings.py, whose refusals the views show in words."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Service


class ProviderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    organisation = forms.ModelChoiceField(label=_("Organisation whose staff run it"), queryset=None,
                                          required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class ServiceForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=None)
    code = forms.SlugField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=Service.Kind.choices)
    place = forms.CharField(label=_("Place"), max_length=120)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    need_categories = forms.CharField(label=_("Priority for needs (codes, separated by commas)"), max_length=200,
                                      required=False)
    cancel_hours = forms.IntegerField(label=_("Free cancellation until (hours before)"), min_value=0,
                                      max_value=168, initial=2)
    max_active = forms.IntegerField(label=_("Open bookings a resident may hold"), min_value=1, max_value=20,
                                    initial=2)
    no_show_limit = forms.IntegerField(label=_("No-shows in 90 days before online booking stops"), min_value=1,
                                       max_value=50, initial=3)

    def __init__(self, *args, providers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers

    def clean_need_categories(self):
        return [c.strip() for c in self.cleaned_data["need_categories"].split(",") if c.strip()]


class SlotSeriesForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    every_minutes = forms.IntegerField(label=_("Minutes per slot"), min_value=5, max_value=480, initial=30)
    capacity = forms.IntegerField(label=_("Places per slot"), min_value=1, max_value=500, initial=4)
    priority_places = forms.IntegerField(label=_("Places held for residents with priority"), min_value=0,
                                         max_value=500, initial=0)


class SlotCancelForm(forms.Form):
    reason = forms.CharField(label=_("Why (residents are told the time is cancelled)"), max_length=200)


class BookForForm(forms.Form):
    resident = forms.IntegerField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("How"), choices=[("phone", _("by phone")), ("walk_in", _("walk-in"))])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
