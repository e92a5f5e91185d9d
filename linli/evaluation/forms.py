"""Forms of the evaluation's office pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Target


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if timezone.is_aware(value) \
                else value.strftime("%Y-%m-%dT%H:%M")
        return value


def _when(label):
    return forms.DateTimeField(label=label, widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class EvaluationForm(forms.Form):
    year = forms.IntegerField(label=_("Year evaluated"), min_value=2000, max_value=2100)
    voting_starts = _when(_("Voting starts"))
    results_starts = _when(_("Counting and responses start"))
    response_starts = _when(_("Publication starts"))
    ends_at = _when(_("The evaluation ends"))


class TargetForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Target.Kind.choices)
    label = forms.CharField(label=_("Name"), max_length=100,
                            help_text=_("Staff are rated by their post (e.g. “grid worker, courtyard 1”), never by name."))
    criteria = forms.CharField(label=_("Criteria"), widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("One per line."))


class ResponseForm(forms.Form):
    text = forms.CharField(label=_("The community's response"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))
