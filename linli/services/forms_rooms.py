"""Forms of the rooms' office pages (docs/services.md, "Rooms"). The services check everything
again; these forms only parse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

_DT = {"widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
       "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]}


class RoomForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32, help_text=_("Letters, digits and dashes, e.g. memory-hall."))
    name = forms.CharField(label=_("Name"), max_length=80)
    capacity = forms.IntegerField(label=_("People it holds"), min_value=1, max_value=2000)
    floor_area = forms.IntegerField(label=_("Floor area (m²)"), min_value=1, max_value=30000, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    opening = forms.CharField(label=_("Opening hours"), widget=forms.Textarea(attrs={"rows": 7}),
                              help_text=_("One line per day: mon 08:30-12:00 14:00-21:00. A day without periods "
                                          "is closed."))
    needs_approval = forms.BooleanField(label=_("Requests need the office's approval"), required=False,
                                        initial=True)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class RoomRequestForm(forms.Form):
    room = forms.ModelChoiceField(label=_("Room"), queryset=None, empty_label=None)
    starts_at = forms.DateTimeField(label=_("From"), **_DT)
    ends_at = forms.DateTimeField(label=_("Until"), **_DT)
    purpose = forms.CharField(label=_("What for"), max_length=200,
                              help_text=_("Shown on the rooms' week grid to the office and the other requesters."))
    attendees = forms.IntegerField(label=_("How many people"), min_value=1, max_value=32767)
    organisation = forms.ModelChoiceField(label=_("For the organisation"), queryset=None, required=False,
                                          empty_label=_("none (the community)"))

    def __init__(self, *args, rooms, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms
        self.fields["organisation"].queryset = organisations


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
