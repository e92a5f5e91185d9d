"""The case settings pages, under /cases/console/settings/: the holiday calendar, routing
rules, category keywords and time limits (docs/cases.md, "Case settings").

Community administrators only (``rules.may_edit_case_settings``, the permission
``cases.edit_settings``): other staff get 403, a community outside the admin's scope 404.
Views parse the form, call one service of ``linli.cases.calendar`` or
``linli.cases.case_settings`` (each writes one event) and redirect; a service's
``InvalidInput`` is shown beside its field and nothing changes.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from linli.community.models import Community, Grid, Organisation
from linli.core.errors import InvalidInput
from linli.core.web import staff_page

from . import calendar, case_settings
from .models import Category, Holiday, RoutingRule, TimeLimit, TimeUnit, Urgency

CONSOLE = "community.use_console"
PERM = "cases.edit_settings"


def _communities(user):
    return [c for c in Community.objects.order_by("name", "pk") if user.has_perm(PERM, c)]


def _community(request, pk: int) -> Community:
    """The community in the URL, if the account administers it: 404 for one it does not see,
    403 for an account that edits no settings at all."""
    if not request.user.has_perm(PERM):
        raise DjangoPermissionDenied
    community = Community.objects.select_related("street").filter(pk=pk).first()
    if community is None or not request.user.has_perm(PERM, community):
        raise Http404
    return community


def _error(form: forms.Form, exc: InvalidInput) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, forms.ValidationError(str(exc.message)))


def _context(community, section, **more) -> dict:
    return {"community": community, "section": section, **more}


@staff_page(CONSOLE)
def index(request):
    if not request.user.has_perm(PERM):
        raise DjangoPermissionDenied
    communities = _communities(request.user)
    if len(communities) == 1:
        return redirect("cases:settings_holidays", community=communities[0].pk)
    return render(request, "cases/settings_index.html", {"communities": communities})


# --- the holiday calendar ----------------------------------------------------------------------

KIND_OFF, KIND_WORK = "off", "work"
KINDS = ((KIND_OFF, gettext_lazy("day off")), (KIND_WORK, gettext_lazy("working day (调休)")))


class HolidayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=KINDS)
    name = forms.CharField(label=gettext_lazy("Holiday name"), required=False, max_length=calendar.NAME_MAX)


class HolidayChangeForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=KINDS)
    name = forms.CharField(label=gettext_lazy("Holiday name"), required=False, max_length=calendar.NAME_MAX)


def _year(request) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, calendar.FIRST_YEAR), calendar.LAST_YEAR)


def _holiday_rows(year: int) -> list[dict]:
    rows = []
    for h in Holiday.objects.filter(date__year=year).order_by("date"):
        rows.append({"holiday": h, "ordinary": calendar.is_ordinary(h), "weekend": h.date.weekday() >= 5})
    return rows


def _render_holidays(request, community, year, form, status=200):
    official = calendar.official_years()
    return render(request, "cases/settings_holidays.html", _context(
        community, "holidays", year=year, rows=_holiday_rows(year), form=form,
        has_official=year in official, official_first=official[0] if official else None,
        official_last=official[-1] if official else None, package=calendar.PACKAGE,
        package_version=calendar.package_version(), load_years=calendar.this_and_next_year(),
        previous_year=year - 1, next_year=year + 1), status=status)


@staff_page(CONSOLE)
@require_http_methods(["GET", "POST"])
def holidays(request, community):
    community = _community(request, community)
    year = _year(request)
    form = HolidayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                added = calendar.holiday_add(actor=request.user, date=data["date"],
                                             is_workday=data["kind"] == KIND_WORK, name=data["name"],
                                             community=community)
            except InvalidInput as exc:
                _error(form, exc)
            else:
                messages.success(request, _("%(date)s added to the calendar.") % {"date": added.date.isoformat()})
                return redirect(f"{reverse('cases:settings_holidays', args=[community.pk])}?year={added.date.year}")
        return _render_holidays(request, community, year, form, status=400)
    return _render_holidays(request, community, year, form)


@staff_page(CONSOLE)
@require_POST
def holidays_load(request, community):
    community = _community(request, community)
    years = calendar.this_and_next_year()
    result = calendar.load_official(actor=request.user, years=years, community=community)
    if result.loaded:
        messages.success(request, _(
            "Official days of %(years)s: %(added)d added, %(updated)d updated, %(removed)d removed, "
            "%(kept)d kept as set by hand.") % {
            "years": ", ".join(str(y) for y in result.loaded), "added": result.added,
            "updated": result.updated, "removed": result.removed, "kept": result.kept_by_hand})
    if result.unavailable:
        messages.warning(request, ngettext(
            "The calendar package has no official schedule for %(years)s yet: add that year's days off and "
            "working days by hand from the State Council's notice when it is published.",
            "The calendar package has no official schedule for %(years)s yet: add those years' days off and "
            "working days by hand from the State Council's notice when it is published.",
            len(result.unavailable)) % {"years": ", ".join(str(y) for y in result.unavailable)})
    return redirect(f"{reverse('cases:settings_holidays', args=[community.pk])}?year={years[0]}")


def _holiday(pk) -> Holiday:
    holiday = Holiday.objects.filter(pk=pk).first()
    if holiday is None:
        raise Http404
    return holiday


@staff_page(CONSOLE)
@require_http_methods(["GET", "POST"])
def holiday(request, community, pk):
    community = _community(request, community)
    day = _holiday(pk)
    initial = {"kind": KIND_WORK if day.is_workday else KIND_OFF, "name": day.name}
    form = HolidayChangeForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                calendar.holiday_change(actor=request.user, holiday=day, community=community,
                                        is_workday=form.cleaned_data["kind"] == KIND_WORK,
                                        name=form.cleaned_data["name"])
            except InvalidInput as exc:
                _error(form, exc)
            else:
                messages.success(request, _("%(date)s saved.") % {"date": day.date.isoformat()})
                return redirect(f"{reverse('cases:settings_holidays', args=[community.pk])}?year={day.date.year}")
        status = 400
    return render(request, "cases/settings_holiday.html",
                  _context(community, "holidays", holiday=day, form=form), status=status)


@staff_page(CONSOLE)
@require_POST
def holiday_remove(request, community, pk):
    community = _community(request, community)
    day = _holiday(pk)
    kept = calendar.holiday_remove(actor=request.user, holiday=day, community=community)
    if kept is not None:
        messages.success(request, _("%(date)s is an ordinary day again; loading the official days will not bring "
                                    "it back.") % {"date": day.date.isoformat()})
    else:
        messages.success(request, _("%(date)s removed from the calendar.") % {"date": day.date.isoformat()})
    return redirect(f"{reverse('cases:settings_holidays', args=[community.pk])}?year={day.date.year}")


# --- routing rules -----------------------------------------------------------------------------

class RoutingForm(forms.Form):
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), queryset=Category.objects.none())
    grid = forms.ModelChoiceField(label=gettext_lazy("Grid"), queryset=Grid.objects.none())
    unit = forms.ModelChoiceField(label=gettext_lazy("Handling unit"), queryset=Organisation.objects.none())

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(community=community, active=True)
        self.fields["grid"].queryset = Grid.objects.filter(community=community).order_by("code")
        self.fields["unit"].queryset = case_settings.handling_units(community)


@staff_page(CONSOLE)
@require_http_methods(["GET", "POST"])
def routing(request, community):
    community = _community(request, community)
    form = RoutingForm(request.POST if request.method == "POST" else None, community=community)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case_settings.routing_rule_set(actor=request.user, community=community, **form.cleaned_data)
            except InvalidInput as exc:
                _error(form, exc)
            else:
                messages.success(request, _("Routing rule saved."))
                return redirect("cases:settings_routing", community=community.pk)
        status = 400
    rules = (RoutingRule.objects.filter(community=community)
             .select_related("category", "grid", "unit").order_by("category__position", "category__code", "grid__code"))
    return render(request, "cases/settings_routing.html", _context(community, "routing", rules=rules, form=form),
                  status=status)


@staff_page(CONSOLE)
@require_POST
def routing_remove(request, community, pk):
    community = _community(request, community)
    rule = RoutingRule.objects.filter(pk=pk, community=community).select_related("community", "grid",
                                                                                  "category").first()
    if rule is None:
        raise Http404
    case_settings.routing_rule_remove(actor=request.user, rule=rule)
    messages.success(request, _("Routing rule removed."))
    return redirect("cases:settings_routing", community=community.pk)


# --- keywords ----------------------------------------------------------------------------------

class KeywordsForm(forms.Form):
    keywords = forms.CharField(
        label=gettext_lazy("Keywords"), required=False, widget=forms.Textarea(attrs={"rows": 16}),
        help_text=gettext_lazy("One keyword or short phrase per line. A new case whose description contains "
                               "one is suggested this category when no learned classifier is sure."))


def _categories(community) -> list[Category]:
    """The community's categories as a tree: each top-level category followed by its children."""
    categories = list(Category.objects.filter(community=community).select_related("parent")
                      .order_by("position", "code", "pk"))
    children: dict[int, list[Category]] = {}
    for c in categories:
        if c.parent_id:
            children.setdefault(c.parent_id, []).append(c)
    ordered = []
    for c in categories:
        if not c.parent_id:
            ordered += [c, *children.pop(c.pk, [])]
    return ordered + [c for rest in children.values() for c in rest]


def _category(community, pk) -> Category:
    category = Category.objects.filter(pk=pk, community=community).select_related("community", "parent").first()
    if category is None:
        raise Http404
    return category


@staff_page(CONSOLE)
def keywords(request, community):
    community = _community(request, community)
    rows = [{"category": c, "count": len([w for w in (c.keywords or "").splitlines() if w.strip()])}
            for c in _categories(community)]
    return render(request, "cases/settings_keywords.html", _context(community, "keywords", rows=rows))


@staff_page(CONSOLE)
@require_http_methods(["GET", "POST"])
def keyword(request, community, category):
    community = _community(request, community)
    category = _category(community, category)
    form = KeywordsForm(request.POST if request.method == "POST" else None, initial={"keywords": category.keywords})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case_settings.category_keywords_set(actor=request.user, category=category,
                                                    keywords=form.cleaned_data["keywords"])
            except InvalidInput as exc:
                _error(form, exc)
            else:
                messages.success(request, _("Keywords of %(category)s saved.") % {"category": category.name})
                return redirect("cases:settings_keywords", community=community.pk)
        status = 400
    return render(request, "cases/settings_keyword.html",
                  _context(community, "keywords", category=category, form=form), status=status)


# --- time limits -------------------------------------------------------------------------------

class LimitForm(forms.Form):
    response_amount = forms.IntegerField(label=gettext_lazy("Respond within"), min_value=1)
    response_unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=TimeUnit.choices)
    resolve_amount = forms.IntegerField(label=gettext_lazy("Resolve within"), min_value=1)
    resolve_unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=TimeUnit.choices)


@staff_page(CONSOLE)
def limits(request, community):
    community = _community(request, community)
    categories = _categories(community)
    have = {(t.category_id, t.urgency): t for t in TimeLimit.objects.filter(category__community=community)}
    rows = []
    for category in categories:
        cells = []
        for urgency, label in Urgency.choices:
            own = have.get((category.pk, urgency))
            inherited = None if own or not category.parent_id else have.get((category.parent_id, urgency))
            cells.append({"urgency": urgency, "label": label, "limit": own, "inherited": inherited})
        rows.append({"category": category, "cells": cells})
    return render(request, "cases/settings_limits.html", _context(community, "limits", rows=rows))


@staff_page(CONSOLE)
@require_http_methods(["GET", "POST"])
def limit(request, community, category, urgency):
    community = _community(request, community)
    category = _category(community, category)
    if urgency not in Urgency.values:
        raise Http404
    current = TimeLimit.objects.filter(category=category, urgency=urgency).first()
    if current is None and category.parent_id:
        base = TimeLimit.objects.filter(category_id=category.parent_id, urgency=urgency).first()
    else:
        base = current
    initial = ({"response_amount": base.response_amount, "response_unit": base.response_unit,
                "resolve_amount": base.resolve_amount, "resolve_unit": base.resolve_unit} if base else {})
    form = LimitForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                if current is None:
                    raise Http404
                case_settings.time_limit_remove(actor=request.user, limit=current)
                messages.success(request, _("%(category)s now uses its parent category's time limit.") % {
                    "category": category.name})
                return redirect("cases:settings_limits", community=community.pk)
            if form.is_valid():
                case_settings.time_limit_set(actor=request.user, category=category, urgency=urgency,
                                             **form.cleaned_data)
                messages.success(request, _("Time limit of %(category)s saved.") % {"category": category.name})
                return redirect("cases:settings_limits", community=community.pk)
        except InvalidInput as exc:
            _error(form, exc)
        status = 400
    return render(request, "cases/settings_limit.html", _context(
        community, "limits", category=category, urgency=Urgency(urgency), current=current, form=form),
        status=status)

