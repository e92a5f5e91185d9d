"""Forms of the activities' pages (docs/services.md, "Activities for all ages"). The services
check everything again; these forms only parse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .events import MAX_PARTY
from .models import Event

_DT = {"widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
       "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]}


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    audience = forms.ChoiceField(label=_("For whom"), choices=Event.Audience.choices)
    description = forms.CharField(label=_("What happens"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    room = forms.ModelChoiceField(label=_("Room of the service centre"), queryset=None, required=False,
                                  empty_label=_("no room (somewhere else)"),
                                  help_text=_("The room is booked for the activity's time."))
    place = forms.CharField(label=_("Place"), max_length=120, required=False,
                            help_text=_("Leave empty to use the room's name."))
    starts_at = forms.DateTimeField(label=_("Starts"), **_DT)
    ends_at = forms.DateTimeField(label=_("Ends"), **_DT)
    capacity = forms.IntegerField(label=_("Places (people)"), min_value=1, max_value=2000, initial=20)
    min_age = forms.IntegerField(label=_("Lowest age"), min_value=0, max_value=120, required=False)
    max_age = forms.IntegerField(label=_("Highest age"), min_value=0, max_value=120, required=False)
    signup_closes_at = forms.DateTimeField(label=_("Sign-up closes"), required=False, **_DT)
    staff_slots = forms.IntegerField(label=_("Volunteers to staff it"), min_value=0, max_value=100, initial=0,
                                     help_text=_("More than 0 opens a volunteers' activity: their hours earn points."))

    def __init__(self, *args, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms


class SignupForm(forms.Form):
    party_size = forms.TypedChoiceField(label=_("How many people come"), coerce=int, initial=1,
                                        choices=[(n, str(n)) for n in range(1, MAX_PARTY + 1)])


class SummaryForm(forms.Form):
    summary = forms.CharField(label=_("How it went"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=_("Residents read it on the activity's page. Do not name people: names, "
                                          "phone numbers and doors are hidden anyway."))


class PhotoForm(forms.Form):
    image = forms.FileField(label=_("Photo"))
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)
