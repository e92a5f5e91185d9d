"""The forms of the fund pages: they parse what was typed; the services check and refuse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.books.money import fen_from_text
from linli.core.errors import InvalidInput

from .models import Call, Project

LINE_ROWS = 5


class MoneyField(forms.CharField):
    """An amount in yuan as typed ("1,234.50"), cleaned to integer fen."""

    def __init__(self, *args, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            fen = fen_from_text(value)
        except InvalidInput as e:
            raise forms.ValidationError(str(e.message))
        return fen


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(label=_("What is to be done, and why"), widget=forms.Textarea(attrs={"rows": 5}),
                                  max_length=4000)
    place = forms.CharField(label=_("Where"), max_length=200)
    beneficiaries = forms.CharField(label=_("Who benefits"), max_length=300)
    own_contribution = MoneyField(label=_("Own contribution (yuan, money or work valued)"), required=False)
    proposer_kind = forms.ChoiceField(label=_("Proposed by"), choices=Project.ProposerKind.choices,
                                      widget=forms.RadioSelect, initial=Project.ProposerKind.RESIDENT)
    proposer_name = forms.CharField(label=_("Name of the group or organisation"), max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, LINE_ROWS + 1):
            self.fields[f"item_{i}"] = forms.CharField(label=_("Budget line %(n)d: what") % {"n": i},
                                                       max_length=100, required=False)
            self.fields[f"amount_{i}"] = MoneyField(label=_("Budget line %(n)d: cost (yuan)") % {"n": i},
                                                    required=False)

    def line_rows(self):
        return [(self[f"item_{i}"], self[f"amount_{i}"]) for i in range(1, LINE_ROWS + 1)]

    def budget_lines(self) -> list[tuple[str, int]]:
        lines = []
        for i in range(1, LINE_ROWS + 1):
            item, amount = self.cleaned_data.get(f"item_{i}") or "", self.cleaned_data.get(f"amount_{i}")
            if item or amount:
                if not item or amount is None:
                    raise InvalidInput(_("Each budget line needs what it is and what it costs."),
                                       field=f"item_{i}")
                lines.append((item, amount))
        return lines

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"title": d["title"], "description": d["description"], "place": d["place"],
                "beneficiaries": d["beneficiaries"], "budget_lines": self.budget_lines(),
                "own_contribution_fen": d.get("own_contribution") or 0,
                "proposer_kind": d["proposer_kind"], "proposer_name": d.get("proposer_name") or ""}

    @classmethod
    def initial_for(cls, project: Project) -> dict:
        from linli.books.money import yuan_text

        initial = {"title": project.title, "description": project.description, "place": project.place,
                   "beneficiaries": project.beneficiaries, "proposer_kind": project.proposer_kind,
                   "proposer_name": project.proposer_name,
                   "own_contribution": yuan_text(project.own_contribution_fen)}
        for i, line in enumerate(project.budget_lines[:LINE_ROWS], start=1):
            initial[f"item_{i}"] = line["item"]
            initial[f"amount_{i}"] = yuan_text(line["amount_fen"])
        return initial


class CallForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What the call is for"), widget=forms.Textarea(attrs={"rows": 4}),
                                  required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    budget = MoneyField(label=_("Budget (yuan)"))
    rule = forms.ChoiceField(label=_("Selection rule"), choices=Call.Rule.choices)
    ballot_kind = forms.ChoiceField(label=_("Ballot"), choices=Call.BallotKind.choices)
    eligibility = forms.ChoiceField(label=_("Who may vote"), choices=(
        ("adults", _("residents aged 18 or over")), ("households", _("one vote per household")),
        ("owners", _("owners (one vote per unit)"))))
    min_projects = forms.IntegerField(label=_("Fewest projects on a ballot"), min_value=0, initial=0)
    max_projects = forms.IntegerField(label=_("Most projects on a ballot (empty: no limit)"), min_value=1,
                                      required=False)
    min_budget_share_percent = forms.IntegerField(label=_("Least share of the budget a ballot uses (%)"),
                                                  min_value=0, max_value=100, initial=0)
    min_votes = forms.IntegerField(label=_("Fewest votes a project needs"), min_value=0, initial=0)
    ends = forms.DateField(label=_("The call ends on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from .services import PHASES

        super().__init__(*args, **kwargs)
        for key, name in PHASES:
            self.fields[f"start_{key}"] = forms.DateField(label=_("“%(phase)s” starts on") % {"phase": name},
                                                          widget=forms.DateInput(attrs={"type": "date"}))
            self.fields[f"off_{key}"] = forms.BooleanField(label=_("Skip this phase"), required=False)

    def phase_rows(self):
        from .services import PHASES

        return [(self[f"start_{k}"], self[f"off_{k}"]) for k, _n in PHASES]


class ReviewForm(forms.Form):
    eligible = forms.TypedChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                      choices=(("1", _("eligible")), ("0", _("not eligible"))),
                                      coerce=lambda v: v == "1")
    cost = MoneyField(label=_("Reviewed cost (yuan; empty: as proposed)"), required=False)
    reason = forms.CharField(label=_("Reason the proposer reads"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=1000, required=False)


class OverrideForm(forms.Form):
    selected = forms.MultipleChoiceField(label=_("Projects to carry out"), widget=forms.CheckboxSelectMultiple,
                                         required=False)
    reason = forms.CharField(label=_("Reason (published)"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=1000, required=False)

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["selected"].choices = [(str(p.pk), f"#{p.pk} {p.title}") for p in projects]


class SelectForm(forms.Form):
    force_reason = forms.CharField(label=_("Reason to publish although paper sheets are not reconciled"),
                                   max_length=500, required=False)


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("What was done"), max_length=120)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                           required=False)


class SpendingForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(label=_("What was paid for"), max_length=200)
    amount = MoneyField(label=_("Amount (yuan)"))
    paid_from = forms.CharField(label=_("Paid from (account code)"), max_length=20, initial="1002")


class AcceptanceForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    agree = forms.CharField(label=_("Registry numbers of the panel members who accept it, comma-separated"),
                            max_length=300, required=False)
    disagree = forms.CharField(label=_("Registry numbers of the panel members who do not, comma-separated"),
                               max_length=300, required=False)
    note = forms.CharField(label=_("The panel's findings"), widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=2000)

    def numbers(self, name) -> list[int]:
        raw = (self.cleaned_data.get(name) or "").replace("，", ",")
        out = []
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise InvalidInput(_("Registry numbers are whole numbers, comma-separated."), field=name)
            out.append(int(part))
        return out
