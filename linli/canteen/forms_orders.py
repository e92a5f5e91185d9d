"""The forms of the residents' order pages and the counter (docs/canteen.md, "Orders", "Counter")."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from linli.points import tokens

from .models import Order

NONCE_LENGTH = 32


class OrderForm(forms.Form):
    """One meal's order: where (on site / delivered), how many, how to pay. Built per meal: the
    delivered choice only when the resident may have it delivered, points only where the canteen
    takes them."""

    where = forms.ChoiceField(label=gettext_lazy("Where will you eat?"), widget=forms.RadioSelect)
    quantity = forms.TypedChoiceField(label=gettext_lazy("How many portions?"), coerce=int, widget=forms.RadioSelect)
    payment = forms.ChoiceField(label=gettext_lazy("How will you pay?"), widget=forms.RadioSelect)
    nonce = forms.CharField(widget=forms.HiddenInput, required=False, max_length=NONCE_LENGTH)

    def __init__(self, *args, max_quantity: int, delivery_allowed: bool, takes_points: bool, **kwargs):
        super().__init__(*args, **kwargs)
        where = [("onsite", gettext_lazy("At the canteen"))]
        if delivery_allowed:
            where.append(("delivery", gettext_lazy("Delivered to my home")))
        self.fields["where"].choices = where
        self.fields["quantity"].choices = [(n, str(n)) for n in range(1, max_quantity + 1)]
        payments = [(Order.Payment.CASH.value, gettext_lazy("Cash, when I get the meal")),
                    (Order.Payment.MOBILE.value, gettext_lazy("Mobile payment, when I get the meal"))]
        if takes_points:
            payments.append((Order.Payment.POINTS.value, gettext_lazy("Points (睦邻积分), now")))
        self.fields["payment"].choices = payments


class LookupForm(forms.Form):
    """The counter's one big input: the QR scanner types the code and Enter."""

    token = forms.CharField(
        label=gettext_lazy("Scan the resident's code"), max_length=tokens.MAX_TOKEN_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "class": "counter-scan",
                                      "autocapitalize": "off", "spellcheck": "false", "enterkeyhint": "go"}),
        help_text=gettext_lazy("The scanner types the code and presses Enter. You can also type it."))


class SellForm(forms.Form):
    """Sell an on-site meal now (and serve it)."""

    meal = forms.TypedChoiceField(label=gettext_lazy("Meal"), coerce=int, widget=forms.RadioSelect)
    quantity = forms.TypedChoiceField(label=gettext_lazy("Portions"), coerce=int, widget=forms.RadioSelect)
    payment = forms.ChoiceField(label=gettext_lazy("Payment"), widget=forms.RadioSelect)
    nonce = forms.CharField(widget=forms.HiddenInput, required=False, max_length=NONCE_LENGTH)

    def __init__(self, *args, meals, max_quantity: int, takes_points: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meal"].choices = meals
        self.fields["quantity"].choices = [(n, str(n)) for n in range(1, max_quantity + 1)]
        payments = [(Order.Payment.CASH.value, gettext_lazy("cash")),
                    (Order.Payment.MOBILE.value, gettext_lazy("mobile payment"))]
        if takes_points:
            payments.append((Order.Payment.POINTS.value, gettext_lazy("points")))
        self.fields["payment"].choices = payments
