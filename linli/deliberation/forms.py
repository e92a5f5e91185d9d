"""Forms of 一月一议's pages: they parse; the services check and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Attendance, Evaluation


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("What should be done, and why"), max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    place = forms.CharField(label=_("Where (optional)"), max_length=120, required=False,
                            help_text=_("A courtyard or a place everyone knows; not your door."))


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Your comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown to the author)"), max_length=300)


class EvaluationForm(forms.Form):
    rating = forms.ChoiceField(label=_("How satisfied are you with the outcome?"), choices=Evaluation.Rating.choices,
                               widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment (optional)"), max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


class RoundForm(forms.Form):
    month = forms.CharField(label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}),
                            help_text=_("e.g. 2026-03"))
    support_threshold = forms.IntegerField(label=_("Supports that put a proposal on the agenda"), min_value=1,
                                           max_value=10000, initial=10)

    def clean_month(self):
        text = (self.cleaned_data["month"] or "").strip()
        try:
            year, month = (int(part) for part in text.split("-")[:2])
        except ValueError:
            raise forms.ValidationError(_("Write the month as 2026-03."))
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise forms.ValidationError(_("Write the month as 2026-03."))
        return (year, month)


class TopicForm(ProposalForm):
    pass


class CaseTopicForm(forms.Form):
    number = forms.CharField(label=_("Case number"), max_length=32)


class ScheduleForm(forms.Form):
    held_at = forms.DateTimeField(label=_("Date and time"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    place = forms.CharField(label=_("Place"), max_length=120)


class AttendanceForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Attendance.Role.choices)
    member = forms.ChoiceField(label=_("Council member (an office account)"), required=False)
    phone = forms.CharField(label=_("Or the resident representative's mobile number"), max_length=20, required=False,
                            help_text=_("Looked up in the registry; the number is not stored with the attendance."))

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "—")] + [(str(u.pk), u.get_full_name() or u.username)
                                                       for u in members]


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("The decision"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    votes_for = forms.IntegerField(label=_("For"), min_value=0, max_value=10000)
    votes_against = forms.IntegerField(label=_("Against"), min_value=0, max_value=10000)
    votes_abstain = forms.IntegerField(label=_("Abstained"), min_value=0, max_value=10000)
    weighted = forms.BooleanField(label=_("Weigh the tasks' progress by their weights"), required=False)


class MinutesForm(forms.Form):
    report = forms.CharField(label=_("Minutes: the report of the meeting"), max_length=8000,
                             widget=forms.Textarea(attrs={"rows": 8}),
                             help_text=_("Published on the public board. Residents' names, phone and ID "
                                         "numbers and doors are taken out."))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    owner = forms.CharField(label=_("Who carries it out"), max_length=80,
                            help_text=_("A unit or a role, e.g. the property company."))
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=100, initial=1)


class ProgressForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
