"""Forms of the books' pages. Amounts are typed in yuan ("1234.56") and parsed to fen exactly."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.errors import InvalidInput

from .money import fen_from_text
from .services import LineInput

BLANK_LINES = 8  # the voucher form without JavaScript: this many lines to fill


class VoucherForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(label=_("Summary"), max_length=200)


class LineForm(forms.Form):
    account = forms.ChoiceField(label=pgettext_lazy("books", "Account"), required=False)
    summary = forms.CharField(label=_("Line summary"), max_length=200, required=False)
    debit = forms.CharField(label=_("Debit (yuan)"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "amount"}))
    credit = forms.CharField(label=_("Credit (yuan)"), max_length=20, required=False,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "amount"}))

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["account"].choices = [("", "—")] + [(str(a.pk), f"{a.code} {a.name}") for a in accounts]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("account") or data.get("debit", "").strip() or data.get("credit", "").strip())

    def line(self) -> LineInput:
        data = self.cleaned_data
        account = self.accounts.get(data.get("account") or "")
        if account is None:
            raise InvalidInput(_("Choose an account."), field="account")
        debit = fen_from_text(data["debit"], field="debit") if data.get("debit", "").strip() else 0
        credit = fen_from_text(data["credit"], field="credit") if data.get("credit", "").strip() else 0
        return LineInput(account=account, debit=debit, credit=credit, summary=data.get("summary", ""))


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=50, absolute_max=50, validate_max=True)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why it goes back"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ReceiptForm(forms.Form):
    file = forms.FileField(label=_("Receipt (PDF or image, at most 20 MB)"))


class AccountForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20)
    name = forms.CharField(label=pgettext_lazy("books", "Name"), max_length=60)
    parent = forms.ChoiceField(label=_("Sub-account of"), required=False)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["parent"].choices = [("", _("— a head of its own —"))] + [
            (str(a.pk), f"{a.code} {a.name}") for a in accounts]


class FundProjectForm(forms.Form):
    name = forms.CharField(label=_("Project"), max_length=60)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
