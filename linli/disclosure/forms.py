"""Forms of the board's back office. They parse; the services decide (linli.disclosure.services)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Duty, Section
from .services import TITLE_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class EntryForm(forms.Form):
    section = forms.ChoiceField(label=_("Section"), choices=Section.choices)
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=_("Shown as written, in a fixed-width font. Mask names, phone and ID "
                                       "numbers as the law requires (e.g. 张*, 138****1234)."))
    period_start = forms.DateField(label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"}))
    duty = forms.ModelChoiceField(label=_("Fulfils the duty"), queryset=Duty.objects.none(), required=False)
    files = MultipleFileField(label=_("Attach files"), required=False,
                              help_text=_("PDF or image (JPEG, PNG, WebP), at most 20 MB each."))

    def __init__(self, *args, community, sections=None, fixed_section=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duty"].queryset = Duty.objects.filter(community=community, active=True)
        if sections is not None:
            self.fields["section"].choices = [(v, label) for v, label in Section.choices if v in sections]
        if fixed_section:
            self.fields["section"].disabled = True
            self.fields["section"].initial = fixed_section

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The end of the period comes before its start."))
        return data


class NoteForm(forms.Form):
    note = forms.CharField(label=_("What should the author change?"), widget=forms.Textarea(attrs={"rows": 3}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the withdrawal"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the board's tombstone with the date, e.g. “personal data published by "
                    "mistake” or “removed by a court order”. No names or numbers."))
    confirm = forms.BooleanField(label=_("I understand that the words and files are erased for good."))


class DutyForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    section = forms.ChoiceField(label=_("Section"), choices=Section.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Duty.Frequency.choices)
    days_allowed = forms.IntegerField(label=_("Days allowed after the period"), min_value=0, max_value=366)
    since = forms.DateField(label=_("Owed from"), widget=forms.DateInput(attrs={"type": "date"}),
                            initial=dt.date.today)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class GenerateForm(forms.Form):
    KINDS = (("finance", _("Monthly finance statement (from the books)")),
             ("budget", _("Budget against actual, year to the month (from the books)")),
             ("rates", _("The month's three rates (from the cases)")))
    kind = forms.ChoiceField(label=_("Draft"), choices=KINDS)
    month = forms.CharField(label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}),
                            help_text=_("YYYY-MM"))

    def clean_month(self):
        value = self.cleaned_data["month"].strip()
        try:
            year, month = (int(part) for part in value.split("-"))
            dt.date(year, month, 1)
        except (ValueError, TypeError):
            raise ValidationError(_("Give the month as YYYY-MM."))
        return year, month
