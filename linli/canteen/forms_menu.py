"""Forms of the canteen's office pages (docs/canteen.md). Money is typed in yuan ("12.50") and held
in integer fen; no floats on the way."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from . import eligibility, menus
from .models import MealKind

_YUAN = re.compile(r"^\s*(\d{1,5})(?:[.,](\d{1,2}))?\s*$")


def yuan_text(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


class YuanField(forms.CharField):
    """A price in yuan with at most two decimals → integer fen (> 0)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("In yuan, for example 12.50."))
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off", "maxlength": "9"})

    def prepare_value(self, value):
        return yuan_text(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        match = _YUAN.match(value)
        if not match:
            raise forms.ValidationError(_("Write a price such as 12 or 12.50 (no minus sign)."), code="price")
        fen = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
        if fen <= 0:
            raise forms.ValidationError(_("The price must be more than 0."), code="price")
        return fen


class CanteenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    place = forms.CharField(label=_("Place"), max_length=120, required=False)
    phone = forms.CharField(label=_("Phone for residents"), max_length=20, required=False,
                            help_text=_("A public number residents call to ask for delivery or to cancel late."))
    grid = forms.ModelChoiceField(label=_("Courtyard where it stands"), queryset=None, required=False)
    partner = forms.ModelChoiceField(label=_("Points partner (pays in points)"), queryset=None, required=False)
    fen_per_point = forms.IntegerField(label=_("Fen one point pays"), min_value=1, max_value=1000, initial=10)
    max_quantity = forms.IntegerField(label=_("Most portions per order"), min_value=1, max_value=10, initial=3)
    delivery_criteria = forms.MultipleChoiceField(label=_("Who may have meals delivered"), required=False,
                                                  widget=forms.CheckboxSelectMultiple)
    active = forms.BooleanField(label=_("Open"), required=False, initial=True)

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        from linli.community.models import Grid
        from linli.points.models import Partner

        self.fields["grid"].queryset = Grid.objects.filter(community=community).order_by("name")
        self.fields["partner"].queryset = Partner.objects.filter(community=community, active=True).order_by("name")
        self.fields["delivery_criteria"].choices = eligibility.choices()


class NewCanteenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    place = forms.CharField(label=_("Place"), max_length=120, required=False)


class MealTimeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Meal"), choices=MealKind.choices)
    serves_from = forms.TimeField(label=_("Serves from"), widget=forms.TimeInput(attrs={"type": "time"}))
    serves_until = forms.TimeField(label=_("Serves until"), widget=forms.TimeInput(attrs={"type": "time"}))
    cutoff = forms.TimeField(label=_("Orders close at (same day)"), widget=forms.TimeInput(attrs={"type": "time"}))
    delivery_from = forms.TimeField(label=_("Delivery from"), required=False,
                                    widget=forms.TimeInput(attrs={"type": "time"}))


class DishForm(forms.Form):
    name = forms.CharField(label=_("Dish"), max_length=80)
    price_fen = YuanField(label=_("Price"))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    tags = forms.MultipleChoiceField(label=_("Tags"), required=False, widget=forms.CheckboxSelectMultiple,
                                     choices=menus.tag_choices)
    active = forms.BooleanField(label=_("On offer"), required=False, initial=True)


class MealForm(forms.Form):
    price_fen = YuanField(label=_("Set meal price"))
    onsite_capacity = forms.IntegerField(label=_("Places on site"), min_value=0, max_value=menus.MAX_CAPACITY)
    delivery_capacity = forms.IntegerField(label=_("Places for delivery"), min_value=0, max_value=menus.MAX_CAPACITY)
    dishes = forms.MultipleChoiceField(label=_("Dishes"), required=False, widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("Note for residents"), max_length=200, required=False)

    def __init__(self, *args, canteen, **kwargs):
        super().__init__(*args, **kwargs)
        self.dish_rows = list(canteen.dishes.filter(active=True).order_by("name"))
        self.fields["dishes"].choices = [(str(d.pk), d.name) for d in self.dish_rows]

    def clean_dishes(self):
        return [int(pk) for pk in self.cleaned_data["dishes"]]


class NewMealForm(MealForm):
    publish = forms.BooleanField(label=_("Publish at once"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (residents who ordered are told)"), max_length=200)


class RuleForm(forms.Form):
    criterion = forms.ChoiceField(label=_("Who"), choices=eligibility.choices)
    percent = forms.IntegerField(label=_("Share of the price the subsidy pays (%)"), min_value=0, max_value=100)
    max_meals_per_day = forms.IntegerField(label=_("Subsidised meals a day"), min_value=1, max_value=3, initial=1)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class PermitSearchForm(forms.Form):
    query = forms.CharField(label=_("Mobile number, ID number, full name or surname"), max_length=40)


class PermitForm(forms.Form):
    resident = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why meals are delivered"), max_length=200)
    until = forms.DateField(label=_("Until (empty: until revoked)"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
