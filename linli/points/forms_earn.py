"""Forms of the resident's gift page and the office rules page (docs/points.md)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .earning import ACTIVITY_TYPES, MAX_PER_HOUR, MAX_PERCENT, MULTIPLIERS, POLICY_BOUNDS


class GiftForm(forms.Form):
    TO_CHOICES = (("pool", _("The community pool (for neighbours in need)")),
                  ("resident", _("A neighbour in this community")))

    to = forms.ChoiceField(label=_("Give to"), choices=TO_CHOICES, widget=forms.RadioSelect, initial="pool")
    phone = forms.CharField(label=_("The neighbour's mobile number"), max_length=16, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
                            help_text=_("Only when giving to a neighbour. They must live in your community."))
    points = forms.IntegerField(label=_("Points"), min_value=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    note = forms.CharField(label=_("A note (optional)"), max_length=120, required=False)

    def clean(self):
        data = super().clean()
        if data.get("to") == "resident" and not (data.get("phone") or "").strip():
            self.add_error("phone", _("Enter the neighbour's mobile number."))
        return data


class RulesForm(forms.Form):
    def __init__(self, *args, per_hour: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in ACTIVITY_TYPES:
            self.fields[f"rule_{code}"] = forms.IntegerField(
                label=label, min_value=0, max_value=MAX_PER_HOUR, initial=per_hour.get(code),
                help_text=_("points per hour"))

    def values(self) -> dict[str, int]:
        return {code: self.cleaned_data[f"rule_{code}"] for code, _label in ACTIVITY_TYPES}


class MultipliersForm(forms.Form):
    def __init__(self, *args, percents: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in MULTIPLIERS:
            self.fields[f"mult_{code}"] = forms.IntegerField(
                label=label, min_value=100, max_value=MAX_PERCENT, initial=percents.get(code),
                help_text=_("percent; 150 means one and a half times"))

    def values(self) -> dict[str, int]:
        return {code: self.cleaned_data[f"mult_{code}"] for code, _label in MULTIPLIERS}


POLICY_LABELS = {
    "daily_cap": _("Most points earned in a day"),
    "yearly_cap": _("Most points earned in a year"),
    "expiry_months": _("Months before points expire"),
    "expiry_notice_days": _("Days of notice before points expire"),
    "gift_max": _("Largest single gift"),
    "gift_month_max": _("Most points one resident may give in a month"),
}


class PolicyForm(forms.Form):
    def __init__(self, *args, policy, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in POLICY_LABELS.items():
            low, high = POLICY_BOUNDS[name]
            self.fields[name] = forms.IntegerField(label=label, min_value=low, max_value=high,
                                                   initial=getattr(policy, name))

    def values(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in POLICY_LABELS}
