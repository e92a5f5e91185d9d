"""A community's case settings, edited by its administrators: routing rules (category ×
grid → handling unit), the keyword rules of each category and the time limits per
category × urgency. (The holiday calendar is ``linli.cases.calendar``.)

Every write is a service: keyword-only, atomic, checks ``rules.may_edit_case_settings``
(through the permission ``cases.edit_settings``) before it reads the input, refuses bad
input with ``InvalidInput`` before anything changes, and writes one event:
``routing_rule.added`` / ``.changed`` / ``.removed``, ``category.keywords_changed``,
``time_limit.added`` / ``.changed`` / ``.removed``. The pages (``views_settings``) and the
Django admin (``admin``) call these, so both leave the same trail.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from linli.community.models import Community, Grid, Organisation
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from .models import Category, RoutingRule, TimeLimit, TimeUnit, Urgency

KEYWORD_MAX = 30      # characters in one keyword or phrase
KEYWORDS_MAX = 200    # keywords on one category
LIMIT_MAX = {TimeUnit.HOURS: 24 * 30, TimeUnit.WORKING_DAYS: 60}


def check(actor, community: Community | None = None) -> None:
    """Commands and jobs (no actor) may; an account must be a community administrator (of
    ``community`` when given). The holiday calendar's services check the same way."""
    if actor is None:
        return
    if not actor.has_perm("cases.edit_settings", community):
        raise PermissionDenied(_("Only a community's administrators may change the case settings."))


def handling_units(community: Community):
    """The units a rule of this community may send cases to: its own and its street's."""
    return (Organisation.objects.filter(street_id=community.street_id, kind__in=Organisation.HANDLING_KINDS)
            .filter(Q(community=community) | Q(community__isnull=True)).order_by("kind", "name", "pk"))


# --- routing rules -----------------------------------------------------------------------------

def _rule_data(rule: RoutingRule, **more) -> dict:
    return {"category": rule.category.code, "grid": rule.grid_id, "unit": rule.unit_id, **more}


@transaction.atomic
def routing_rule_set(*, actor, community: Community, category: Category, grid: Grid,
                     unit: Organisation) -> RoutingRule:
    """Send this category's cases from this grid to ``unit``: adds the rule, or changes the
    unit of the one there is (one rule per category × grid)."""
    check(actor, community)
    if category is None or category.community_id != community.pk:
        raise InvalidInput(_("Choose a category of this community."), field="category")
    if grid is None or grid.community_id != community.pk:
        raise InvalidInput(_("Choose a grid of this community."), field="grid")
    if unit is None or not handling_units(community).filter(pk=unit.pk).exists():
        raise InvalidInput(_("Choose a handling unit of this community or its street."), field="unit")
    rule = RoutingRule.objects.select_for_update().filter(category=category, grid=grid).first()
    if rule is None:
        rule = RoutingRule.objects.create(community=community, category=category, grid=grid, unit=unit)
        events.record(actor=actor, verb="routing_rule.added", target=rule, community=community, grid=grid,
                      data=_rule_data(rule))
        return rule
    if rule.unit_id == unit.pk:
        return rule
    before = rule.unit_id
    rule.unit = unit
    rule.save(update_fields=["unit"])
    events.record(actor=actor, verb="routing_rule.changed", target=rule, community=community, grid=grid,
                  data=_rule_data(rule, was_unit=before))
    return rule


@transaction.atomic
def routing_rule_remove(*, actor, rule: RoutingRule) -> None:
    """Remove a rule: the category's default unit takes this grid's cases again."""
    check(actor, rule.community)
    events.record(actor=actor, verb="routing_rule.removed", target=rule, community=rule.community,
                  grid=rule.grid, data=_rule_data(rule))
    rule.delete()


# --- keywords ----------------------------------------------------------------------------------

def clean_keywords(text: str) -> list[str]:
    """One keyword or phrase per line: blanks dropped, repeats dropped, order kept."""
    seen: dict[str, None] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        word = line.strip()
        if not word:
            continue
        if len(word) > KEYWORD_MAX:
            raise InvalidInput(_("Line %(line)d is longer than %(n)d characters: one keyword or short phrase "
                                 "per line.") % {"line": number, "n": KEYWORD_MAX}, field="keywords")
        seen.setdefault(word, None)
    if len(seen) > KEYWORDS_MAX:
        raise InvalidInput(_("At most %(n)d keywords per category.") % {"n": KEYWORDS_MAX}, field="keywords")
    return list(seen)


@transaction.atomic
def category_keywords_set(*, actor, category: Category, keywords: str) -> Category:
    """Replace a category's keyword rules (what the cold-start classifier matches)."""
    check(actor, category.community)
    words = clean_keywords(keywords)
    category = Category.objects.select_for_update().get(pk=category.pk)
    before = [w.strip() for w in (category.keywords or "").splitlines() if w.strip()]
    if words == before:
        return category
    category.keywords = "\n".join(words)
    category.save(update_fields=["keywords"])
    events.record(actor=actor, verb="category.keywords_changed", target=category, community=category.community,
                  data={"category": category.code, "keywords": len(words),
                        "added": len(set(words) - set(before)), "removed": len(set(before) - set(words))})
    return category


# --- time limits -------------------------------------------------------------------------------

def _clean_amount(value, unit, field: str) -> tuple[int, str]:
    if unit not in TimeUnit.values:
        raise InvalidInput(_("Choose hours or working days."), field=f"{field}_unit")
    try:
        amount = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("Enter a whole number."), field=f"{field}_amount") from None
    if not 1 <= amount <= LIMIT_MAX[unit]:
        raise InvalidInput(_("Enter a number from 1 to %(n)d.") % {"n": LIMIT_MAX[unit]}, field=f"{field}_amount")
    return amount, unit


def _limit_data(limit: TimeLimit, **more) -> dict:
    return {"category": limit.category.code, "urgency": limit.urgency,
            "response": [limit.response_amount, limit.response_unit],
            "resolve": [limit.resolve_amount, limit.resolve_unit], **more}


@transaction.atomic
def time_limit_set(*, actor, category: Category, urgency: str, response_amount, response_unit,
                   resolve_amount, resolve_unit) -> TimeLimit:
    """Set how soon cases of this category and urgency are answered and resolved. New limits
    apply to cases accepted (or reopened) from now on; running deadlines stay."""
    check(actor, category.community)
    if urgency not in Urgency.values:
        raise InvalidInput(_("Choose normal or urgent."), field="urgency")
    response = _clean_amount(response_amount, response_unit, "response")
    resolve = _clean_amount(resolve_amount, resolve_unit, "resolve")
    if response[1] == resolve[1] and resolve[0] < response[0]:
        raise InvalidInput(_("The time to resolve cannot be shorter than the time to respond."),
                           field="resolve_amount")
    if response[1] == TimeUnit.WORKING_DAYS and resolve[1] == TimeUnit.HOURS:
        raise InvalidInput(_("Give the time to resolve in working days when the time to respond is in "
                             "working days."), field="resolve_unit")
    limit = TimeLimit.objects.select_for_update().filter(category=category, urgency=urgency).first()
    values = {"response_amount": response[0], "response_unit": response[1],
              "resolve_amount": resolve[0], "resolve_unit": resolve[1]}
    if limit is None:
        limit = TimeLimit.objects.create(category=category, urgency=urgency, **values)
        events.record(actor=actor, verb="time_limit.added", target=limit, community=category.community,
                      data=_limit_data(limit))
        return limit
    before = {name: getattr(limit, name) for name in values}
    if before == values:
        return limit
    for name, value in values.items():
        setattr(limit, name, value)
    limit.save(update_fields=list(values))
    events.record(actor=actor, verb="time_limit.changed", target=limit, community=category.community,
                  data=_limit_data(limit, was={"response": [before["response_amount"], before["response_unit"]],
                                               "resolve": [before["resolve_amount"], before["resolve_unit"]]}))
    return limit


@transaction.atomic
def time_limit_remove(*, actor, limit: TimeLimit) -> None:
    """Remove a subcategory's own limit: its cases use the parent category's again. A
    top-level category keeps its limits (without one its cases would have no deadline)."""
    category = limit.category
    check(actor, category.community)
    if category.parent_id is None:
        raise InvalidInput(_("A top-level category keeps its time limits; change them instead."), field="urgency")
    events.record(actor=actor, verb="time_limit.removed", target=limit, community=category.community,
                  data=_limit_data(limit))
    limit.delete()

