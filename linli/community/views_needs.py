"""The need-tag pages of the console: find households by tag, export the list, and a
household's tags with their reasons. See docs/needs.md.

Scoping and rules live in ``linli.community.needs`` (selectors and services) and
``rules``; these views parse, check, call and render. Lists show masked names
only; a tag's reason, sealed at rest, is opened on the household's own page.
"""

from __future__ import annotations

import codecs
import csv
import io
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from linli.core import views as core_views
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.web import staff_page

from . import needs, selectors
from .models import HouseholdNeed, NeedCategory
from .views import PAGE_SIZE


def _age_band_choices():
    return [("", gettext_lazy("All ages"))] + [(str(i), label) for i, (_lo, _hi, label) in
                                               enumerate(selectors.AGE_BANDS)]


class NeedFilterForm(forms.Form):
    """Which households: tags (all or any of them) and the registry's filters. Nothing personal
    travels in the URL: tag codes and place ids only."""

    need = forms.MultipleChoiceField(label=gettext_lazy("Need tags"), required=False,
                                     widget=forms.CheckboxSelectMultiple)
    match = forms.ChoiceField(
        label=gettext_lazy("Households with"), required=False, initial="all",
        choices=[("all", gettext_lazy("all of the chosen tags")), ("any", gettext_lazy("any of the chosen tags"))],
    )
    grid = forms.ModelChoiceField(label=gettext_lazy("Grid"), queryset=None, required=False,
                                  empty_label=gettext_lazy("All grids"))
    building = forms.ModelChoiceField(label=gettext_lazy("Building"), queryset=None, required=False,
                                      empty_label=gettext_lazy("All buildings"))
    age = forms.ChoiceField(label=gettext_lazy("A member aged"), required=False, choices=_age_band_choices)
    waiting = forms.BooleanField(label=gettext_lazy("Only tags awaiting a decision (suggested, not yet confirmed)"),
                                 required=False)

    def __init__(self, user, *args, tree=None, **kwargs):
        kwargs.setdefault("auto_id", "needs_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tree = tree if tree is not None else needs.need_tree_for(user)
        self.fields["need"].choices = [(c.code, c.name) for g in self.tree for c in g.children]
        self.fields["grid"].queryset = selectors.grids_for(user).order_by("community_id", "code")
        self.fields["building"].queryset = selectors.buildings_for(user)

    @classmethod
    def from_url(cls, user, params, **kwargs) -> "NeedFilterForm":
        data = {name: params.get(name, "") for name in ("match", "grid", "building", "age", "waiting")}
        data["need"] = params.getlist("need")
        return cls(user, data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        grid, building = cleaned.get("grid"), cleaned.get("building")
        if grid and building and building.grid_id != grid.pk:
            self.add_error("building", forms.ValidationError(
                _("This building is not in the chosen grid."), code="building_grid"))
        return cleaned

    def criteria(self) -> dict:
        """Keyword arguments for needs.households_with_needs."""
        c = self.cleaned_data
        return {
            "codes": c["need"],
            "match_all": c["match"] != "any",
            "grid_id": c["grid"].pk if c["grid"] else None,
            "building_id": c["building"].pk if c["building"] else None,
            "age_band": int(c["age"]) if c["age"] != "" else None,
            "waiting": c["waiting"],
        }

    def audit_criteria(self) -> dict:
        """The same, for the export's event: codes and ids, nothing about a person."""
        c = self.criteria()
        return {"needs": list(c["codes"]), "match": "all" if c["match_all"] else "any", "grid": c["grid_id"],
                "building": c["building_id"], "age_band": c["age_band"],
                **({"waiting": True} if c["waiting"] else {})}

    def url_params(self) -> str:
        c = self.cleaned_data
        params = [("need", code) for code in c["need"]]
        if c["need"] and c["match"] == "any":
            params.append(("match", "any"))
        for name in ("grid", "building"):
            if c[name]:
                params.append((name, c[name].pk))
        if c["age"] != "":
            params.append(("age", c["age"]))
        if c["waiting"]:
            params.append(("waiting", "1"))
        return urlencode(params)


def _recompute_communities(user):
    return [c for c in selectors.communities_for(user) if user.has_perm("community.recompute_needs", c)]


@staff_page("community.view_needs")
def needs_list(request):
    user = request.user
    context = {"form": None, "page": None, "rows": [], "street_rows": None}
    if user.has_perm("community.search_registry"):
        form = NeedFilterForm.from_url(user, request.GET)
        counts: dict[str, int] | None = None   # per tag, once the form is valid
        if form.is_valid():
            now = timezone.now()
            households = needs.households_with_needs(user, now=now, **form.criteria())
            page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
            counts = needs.need_counts(households, now=now)
            context.update(page=page, rows=needs.household_rows(list(page.object_list), now=now),
                           url_params=form.url_params())
        chosen = set(request.GET.getlist("need"))
        context.update(form=form, groups=[
            {"category": g.category,
             "children": [{"category": c, "n": None if counts is None else counts.get(c.code, 0),
                           "chosen": c.code in chosen} for c in g.children]}
            for g in form.tree])
    if user.has_perm("community.view_street_overview"):
        street_rows = needs.street_need_counts(user)
        tree = needs.need_tree(r["community"].pk for r in street_rows)
        codes = [c for g in tree for c in g.children]
        context.update(
            street_codes=codes,
            street_rows=[{"community": r["community"], "households": r["households"],
                          "counts": [r["counts"].get(c.code, 0) for c in codes]} for r in street_rows],
        )
    context["recompute_communities"] = _recompute_communities(user)
    return render(request, "community/needs_list.html", context)


CSV_HEADER = ("社区/community", "网格/grid", "楼栋/building", "单元/unit", "房号/room", "户主/head (masked)",
              "人数/members", "需求标签/need tags")


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        h = row.household
        writer.writerow([_safe(h.community.name), _safe(h.grid.name), _safe(h.building.name), _safe(h.unit.number),
                         _safe(h.room), str(row.head) if row.head is not None else "", row.members,
                         "、".join(_safe(c.name) for c in row.needs)])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")   # a BOM, so that Excel reads UTF-8


def _safe(text) -> str:
    """A cell that Excel would run as a formula gets a leading apostrophe."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@staff_page("community.export_needs")
def needs_export(request):
    form = NeedFilterForm.from_url(request.user, request.GET)
    if not form.is_valid():
        return redirect(reverse("needs_list") + "?" + request.GET.urlencode())
    households = needs.households_with_needs(request.user, **form.criteria())
    try:
        rows = needs.needs_export(actor=request.user, households=households, criteria=form.audit_criteria())
    except PermissionDenied:
        return core_views.forbidden(request)
    except InvalidInput as exc:
        messages.error(request, str(exc.message))
        return redirect(reverse("needs_list") + "?" + form.url_params())
    response = HttpResponse(_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="needs-{timezone.localdate():%Y%m%d}.csv"'
    return response


@staff_page("community.view_needs")
@require_POST
def needs_recompute(request):
    allowed = {c.pk: c for c in _recompute_communities(request.user)}
    community = allowed.get(_int(request.POST.get("community")))
    if community is None:
        return core_views.forbidden(request)
    counts = needs.needs_recompute(community=community, actor=request.user)
    messages.success(request, _("Need tags of %(community)s recomputed: %(added)d added, %(updated)d updated, "
                                "%(removed)d removed.") % {"community": community.name, **counts})
    return redirect("needs_list")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class NeedAddForm(forms.Form):
    category = forms.ModelChoiceField(label=gettext_lazy("Need tag"), queryset=NeedCategory.objects.none(),
                                      empty_label=None)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, household, **kwargs):
        kwargs.setdefault("auto_id", "need_add_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = (NeedCategory.objects.filter(
            community_id=household.community_id, parent__isnull=False, active=True)
            .select_related("parent").order_by("parent__position", "position", "code"))
        self.fields["category"].label_from_instance = lambda c: f"{c.parent.name} › {c.name}"


class NeedDecisionForm(forms.Form):
    need = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))


@staff_page("community.search_registry")
@require_http_methods(["GET", "POST"])
def household_needs(request, pk):
    user = request.user
    try:
        household = selectors.household_get(user, pk)
        tags = needs.household_needs_for(user, household)
    except NotFound:
        return core_views.not_found(request)
    may_change = user.has_perm("community.change_household_needs", household)
    add_form = NeedAddForm(household=household)
    error_for = None   # the tag whose decision failed, to show its error there
    decision_error = ""
    if request.method == "POST":
        if not may_change:
            return core_views.forbidden(request)
        action = request.POST.get("action", "")
        try:
            if action == "add":
                add_form = NeedAddForm(request.POST, household=household)
                if add_form.is_valid():
                    need = needs.household_need_add(actor=user, household=household,
                                                    category=add_form.cleaned_data["category"],
                                                    reason=add_form.cleaned_data["reason"])
                    messages.success(request, needs.NEED.move("add").message % {"tag": need.category.name})
                    return redirect("household_needs", pk=household.pk)
            elif action in ("confirm", "dismiss"):
                decision = NeedDecisionForm(request.POST)
                if not decision.is_valid():
                    raise InvalidInput(_("Choose a need tag of this household."), field="need")
                error_for = decision.cleaned_data["need"]
                need = needs.household_need_get(user, error_for)
                if need.household_id != household.pk:
                    raise NotFound("household need")
                service = needs.household_need_confirm if action == "confirm" else needs.household_need_dismiss
                need = service(actor=user, need=need, reason=decision.cleaned_data["reason"])
                messages.success(request, needs.NEED.move(action).message % {"tag": need.category.name})
                return redirect("household_needs", pk=household.pk)
            else:
                raise InvalidInput(_("Unknown action."), field="action")
        except PermissionDenied:
            return core_views.forbidden(request)
        except NotFound:
            return core_views.not_found(request)
        except InvalidInput as exc:
            if action == "add" and exc.field in add_form.fields:
                add_form.add_error(exc.field, str(exc.message))
            else:
                decision_error = str(exc.message)
    return render(request, "community/needs_household.html", {
        "household": household,
        "active": [t for t in tags if t.counts],
        "inactive": [t for t in tags if not t.counts],
        "may_change": may_change,
        "add_form": add_form,
        "error_for": error_for,
        "decision_error": decision_error,
        "Status": HouseholdNeed.Status,
    })
