"""Case facts in words on staff pages: the case number, the classifier's confidence.

``{{ case|case_number }}`` (a case or its number) is how every page shows which case it is: the
whole number (``510106017001-20261205-0042``: community code, day received, the day's serial),
never the database id. docs/cases.md, "The case number, and the history in words", says why.

``{{ case.suggestion_confidence|confidence_words }}``: the classifier's calibrated probability as
"almost certain", "likely" or "unsure" (thresholds in docs/classifier.md, "Confidence in words");
the number stays in a title for analysts (``{{ value|confidence_title }}``).
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from linli.cases import classify

register = template.Library()

# A suggestion at least this probable reads "almost certain"; from the triage threshold
# (LINLI_TRIAGE_CONFIDENCE, default 0.5) up it reads "likely"; below it "unsure".
ALMOST_CERTAIN = 0.9


@register.filter(is_safe=True)
def case_number(value):
    """The case's number as staff and residents read it: whole, as one piece of text (find-in-page,
    copy and screen readers take it as one), marked not to be machine-translated."""
    number = str(getattr(value, "number", value) or "")
    if not number:
        return "—"
    return format_html('<span class="num case-number" translate="no">{}</span>', number)


def confidence_level(value) -> str:
    """"certain", "likely" or "unsure" for a probability (None: "")."""
    if value is None or value == "":
        return ""
    value = float(value)
    if value >= ALMOST_CERTAIN:
        return "certain"
    if value >= classify.triage_threshold():
        return "likely"
    return "unsure"


@register.filter
def confidence_words(value) -> str:
    level = confidence_level(value)
    return {"certain": _("almost certain"), "likely": _("likely"), "unsure": _("unsure")}.get(level, "")


@register.filter
def confidence_title(value) -> str:
    """The number behind the words, for a title attribute (analysts)."""
    if value is None or value == "":
        return ""
    return _("probability %(p)s") % {"p": f"{float(value):.2f}"}
