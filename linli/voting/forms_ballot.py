"""The resident's ballot as a form (docs/voting.md, "What residents see").

One field per question, named ``q<question id>``: a radio group for a "choice" vote, check
boxes for an "approval" vote (a knapsack when the vote has a budget), the three ratings for
each criterion of a "rating" vote with an optional comment ``c<question id>``. The form turns
what was ticked into the ballot's canonical ``choices`` (contract: ``{"<question id>": [option
ids]}``, or ``{"<question id>": option id}`` for ratings, plus ``"comments"``), and asks
``linli.voting.ballots.validate`` — the one judge of a ballot — before anything is cast, so that
its errors show next to the question they concern. The booth's form can reuse it as it is.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _, ngettext

from linli.core.errors import InvalidInput

from .ballots import COMMENT_MAX, validate
from .models import Option, Vote

RATING_ORDER = {ref: n for n, ref in enumerate(Option.RATINGS)}


def question_field(question_id) -> str:
    return f"q{question_id}"


def comment_field(question_id) -> str:
    return f"c{question_id}"


class BallotForm(forms.Form):
    """``BallotForm(vote, data)``; ``questions`` lists what the template draws, in order."""

    def __init__(self, vote: Vote, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vote = vote
        self.ballot: dict | None = None  # the canonical ballot, once the form is valid
        self.questions = []
        for question in vote.questions.prefetch_related("options").order_by("order", "id"):
            options = list(question.options.all())
            if vote.kind == Vote.Kind.RATING:
                options.sort(key=lambda o: (RATING_ORDER.get(o.ref, len(RATING_ORDER)), o.order, o.pk))
            choices = [(str(o.pk), o.label) for o in options]
            name = question_field(question.pk)
            if vote.kind == Vote.Kind.APPROVAL:
                field = forms.MultipleChoiceField(label=question.text, choices=choices, required=False)
            elif vote.kind == Vote.Kind.RATING:
                # A criterion may be left unrated (someone one does not know); validate() wants one at least.
                field = forms.ChoiceField(label=question.text, choices=choices, required=False)
            else:
                field = forms.ChoiceField(label=question.text, choices=choices, required=True, error_messages={
                    "required": _("Choose one answer to this question.")})
            self.fields[name] = field
            comment = None
            if vote.kind == Vote.Kind.RATING:
                comment = comment_field(question.pk)
                self.fields[comment] = forms.CharField(
                    label=_("Your comment (optional)"), required=False, max_length=COMMENT_MAX,
                    widget=forms.Textarea(attrs={"rows": 2}),
                    help_text=_("Do not write names or phone numbers: comments are published without them."))
            self.questions.append({"question": question, "name": name, "comment": comment, "options": options})

    # --- what the template draws -------------------------------------------------------------

    def rows(self) -> list[dict]:
        """Each question with its bound field, its options (id, label, cost, ticked) and comment."""
        rows = []
        for item in self.questions:
            bound = self[item["name"]]
            value = bound.value()
            ticked = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v not in (None, "")}
            rows.append({
                "question": item["question"],
                "field": bound,
                "comment": self[item["comment"]] if item["comment"] else None,
                "options": [{"id": f"id_{item['name']}_{n}", "value": str(o.pk), "label": o.label,
                             "cost_fen": o.cost_fen, "rating": o.ref if o.ref in RATING_ORDER else "",
                             "ticked": str(o.pk) in ticked}
                            for n, o in enumerate(item["options"])],
            })
        return rows

    def limits_text(self) -> str:
        """How many options an approval ballot may tick, in words ("" when any number)."""
        vote = self.vote
        if vote.kind != Vote.Kind.APPROVAL:
            return ""
        low, high = vote.min_choices or 0, vote.max_choices
        if high and low:
            if low == high:
                return ngettext("Tick exactly %(n)d.", "Tick exactly %(n)d.", high) % {"n": high}
            return _("Tick at least %(low)d and at most %(high)d.") % {"low": low, "high": high}
        if high:
            return ngettext("Tick at most %(n)d.", "Tick at most %(n)d.", high) % {"n": high}
        if low:
            return ngettext("Tick at least %(n)d.", "Tick at least %(n)d.", low) % {"n": low}
        if vote.budget_fen is not None:
            return _("Tick the projects you support, within the budget.")
        return _("Tick as many as you support.")

    # --- validation --------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        vote = self.vote
        if vote.kind == Vote.Kind.APPROVAL:
            # The count per question next to its boxes; the budget and the rest: validate() below.
            for item in self.questions:
                ticked = len(cleaned.get(item["name"]) or [])
                if ticked < (vote.min_choices or 0) or (vote.max_choices and ticked > vote.max_choices):
                    self.add_error(item["name"], self.limits_text())
        if self.errors:
            return cleaned
        try:
            self.ballot = validate(vote, self.choices())
        except InvalidInput as exc:
            self.add_error(self.field_for(exc.field), forms.ValidationError(str(exc.message), code=exc.code))
        return cleaned

    def field_for(self, field) -> str | None:
        """The form field a ballot error names (a question id, "q17"; "choices" on a one-question
        ballot) or None (shown above the form)."""
        if field is None:
            return None
        text = str(field)
        if text == "choices" and len(self.questions) == 1:
            return self.questions[0]["name"]  # the ballot as a whole is its one question
        for candidate in (text, question_field(text)):
            if candidate in self.fields:
                return candidate
        return None

    # --- the ballot ----------------------------------------------------------------------------

    def choices(self) -> dict:
        """The canonical ballot (contract: choices keyed by question id as text, option ids as ints)."""
        data = self.cleaned_data
        choices: dict = {}
        comments: dict = {}
        for item in self.questions:
            key = str(item["question"].pk)
            value = data.get(item["name"])
            if self.vote.kind == Vote.Kind.RATING:
                if value:
                    choices[key] = int(value)
                text = (data.get(item["comment"]) or "").strip()
                if text:
                    comments[key] = text
            elif self.vote.kind == Vote.Kind.APPROVAL:
                choices[key] = sorted(int(v) for v in value or [])
            else:
                choices[key] = [int(value)] if value else []
        if comments:
            choices["comments"] = comments
        return choices

    def summary(self) -> list[dict]:
        """What the confirm step reads back: each question, the labels chosen, the comment."""
        data = self.cleaned_data
        lines = []
        for item in self.questions:
            value = data.get(item["name"])
            picked = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v}
            chosen = [o for o in item["options"] if str(o.pk) in picked]
            lines.append({
                "question": item["question"],
                "chosen": chosen,
                "cost_fen": sum(o.cost_fen for o in chosen),
                # The comment as it will be stored (spaces tidied, numbers masked by validate()).
                "comment": ((self.ballot or {}).get("comments") or {}).get(str(item["question"].pk), ""),
            })
        return lines

    def total_fen(self) -> int:
        return sum(line["cost_fen"] for line in self.summary())

    def carried(self) -> list[tuple[str, str]]:
        """The ticked values as (name, value) pairs, for the confirm step's hidden fields."""
        pairs = []
        stored_comments = (self.ballot or {}).get("comments") or {}
        comment_names = {item["comment"]: str(item["question"].pk) for item in self.questions if item["comment"]}
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if name in comment_names:  # what will be stored: numbers masked already
                value = stored_comments.get(comment_names[name], "")
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if v not in (None, ""):
                    pairs.append((name, str(v)))
        return pairs
