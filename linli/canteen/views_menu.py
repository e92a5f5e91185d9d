"""The canteen's office pages (docs/canteen.md, "Office pages"), under ``/canteen/<code>/office/``.

Who may (linli/canteen/rules.py): the community office everything; the canteen's staff the menus and
dishes of their canteen; the street supervisor the dashboard and the claim's totals. A community
outside the account's reach answers 404; an action the account may not take answers the refusal
page with 403 and changes nothing. A community with several canteens picks one by ``?c=<id>``.
Names appear only masked (张*明), on the permits page.
"""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Community
from linli.core.errors import LinliError, NotFound, PermissionDenied
from linli.core.web import staff_page

from . import canteens as canteen_service
from . import dashboard as dashboard_service
from . import eligibility, menus, rules, subsidies
from .forms_menu import (
    CanteenForm, DishForm, MealForm, MealTimeForm, NewCanteenForm, NewMealForm, PermitForm, PermitSearchForm,
    ReasonForm, RuleForm, yuan_text,
)
from .models import Dish, Meal, MealKind

PERM = rules.OFFICE_PERM


def refuse(request, error: LinliError, *, back: str | None = None, status: int | None = None):
    return render(request, "canteen/office_refused.html", {
        "message": error.message, "code": error.code, "back": back or request.get_full_path(),
    }, status=status or error.status)


def _community(request, code: str) -> Community:
    community = Community.objects.filter(code=code).select_related("street").first()
    if community is None or not rules.may_use_office(request.user, community):
        raise Http404
    return community


def _canteen(request, community):
    try:
        return canteen_service.canteen_of(community, request.GET.get("c") or request.POST.get("c"))
    except NotFound:
        return None


def _url(name: str, community, canteen=None, **kwargs) -> str:
    url = reverse(f"canteen:{name}", kwargs={"code": community.code, **kwargs})
    return f"{url}?c={canteen.pk}" if canteen is not None else url


def _optional_url(name: str, **kwargs) -> str | None:
    """Another part's page, if it is mounted (the counter, the rounds)."""
    try:
        return reverse(f"canteen:{name}", kwargs=kwargs)
    except NoReverseMatch:
        return None


def _base(request, community, canteen, here: str) -> dict:
    user = request.user
    return {
        "community": community, "canteen": canteen, "here": here,
        "canteens": list(rules.canteens_for(user, community)),
        "may_manage": canteen is not None and rules.may_manage(user, canteen),
        "may_plan": canteen is not None and rules.may_plan_menus(user, canteen),
        "may_counts": rules.may_read_counts(user, community),
        "is_office": rules.is_office(user, community),
    }


def _denied(message=None) -> PermissionDenied:
    return PermissionDenied(message or _("You may not do this here."))


def _last_month() -> dt.date:
    return timezone.localdate().replace(day=1) - dt.timedelta(days=1)


def _parse_day(value, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


# --- index ------------------------------------------------------------------------------------------


@staff_page(PERM)
def office_index(request):
    communities = rules.office_communities(request.user)
    if len(communities) == 1:
        return redirect("canteen:office", code=communities[0].code)
    return render(request, "canteen/office_index.html", {"communities": communities})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office(request, code):
    """The canteen's settings and meal times (the office); links to every canteen page."""
    community = _community(request, code)
    canteen = _canteen(request, community)
    context = _base(request, community, canteen, "office")
    office_user = context["is_office"]
    new_form = NewCanteenForm(request.POST if request.POST.get("action") == "create" else None)
    settings_form = times_form = None
    if canteen is not None:
        settings_form = CanteenForm(request.POST if request.POST.get("action") == "settings" else None,
                                    community=community, initial={
                                        "name": canteen.name, "place": canteen.place, "phone": canteen.phone, "grid": canteen.grid_id,
                                        "partner": canteen.partner_id, "fen_per_point": canteen.fen_per_point,
                                        "max_quantity": canteen.max_quantity, "active": canteen.active,
                                        "delivery_criteria": canteen.delivery_criteria})
        times_form = MealTimeForm(request.POST if request.POST.get("action") == "time" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if not office_user:
                raise _denied(_("Only the community office manages the canteen."))
            if action == "create" and new_form.is_valid():
                created = canteen_service.canteen_create(actor=request.user, community=community,
                                                         name=new_form.cleaned_data["name"],
                                                         place=new_form.cleaned_data["place"])
                messages.success(request, _("The canteen is open, with lunch and dinner times."))
                return redirect(_url("office", community, created))
            if action == "settings" and canteen is not None and settings_form.is_valid():
                data = settings_form.cleaned_data
                canteen_service.canteen_update(
                    actor=request.user, canteen=canteen, name=data["name"], place=data["place"], phone=data["phone"], grid=data["grid"],
                    partner=data["partner"], fen_per_point=data["fen_per_point"],
                    max_quantity=data["max_quantity"], delivery_criteria=data["delivery_criteria"],
                    active=data["active"])
                messages.success(request, _("The settings are saved."))
                return redirect(_url("office", community, canteen))
            if action == "time" and canteen is not None and times_form.is_valid():
                data = times_form.cleaned_data
                canteen_service.mealtime_set(actor=request.user, canteen=canteen, kind=data["kind"],
                                             serves_from=data["serves_from"], serves_until=data["serves_until"],
                                             cutoff=data["cutoff"], delivery_from=data["delivery_from"])
                messages.success(request, _("The meal time is saved. Meals already planned keep their times."))
                return redirect(_url("office", community, canteen))
            if action not in ("create", "settings", "time"):
                raise Http404
        except LinliError as exc:
            form = {"create": new_form, "settings": settings_form, "time": times_form}.get(action)
            if form is not None and exc.field and exc.field in form.fields and exc.status == 400:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=_url("office", community, canteen))
    context.update({
        "new_form": new_form, "settings_form": settings_form, "times_form": times_form,
        "times": list(canteen.times.all()) if canteen is not None else [],
        "counter_url": _optional_url("counter", code=community.code),
        "rounds_url": _optional_url("rounds", code=community.code),
        "statement_url": _optional_url("statement", code=community.code, year=_last_month().year,
                                       month=_last_month().month) if office_user else None,
    })
    return render(request, "canteen/office.html", context)


# --- the week's menu ----------------------------------------------------------------------------------


def _planner(request, code):
    community = _community(request, code)
    canteen = _canteen(request, community)
    if canteen is None:
        raise Http404
    return community, canteen


def _not_a_planner(request, community):
    """The refusal of a menu page to an account that may not plan this canteen's menus."""
    return refuse(request, _denied(_("Only the community office and the canteen's staff plan the menus.")),
                  back=reverse("canteen:office", kwargs={"code": community.code}))


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_menu(request, code):
    """One week: days × meals, with price, capacities, places taken, status; copy last week; publish."""
    community, canteen = _planner(request, code)
    may_plan = rules.may_plan_menus(request.user, canteen)
    if not may_plan:
        return _not_a_planner(request, community)
    today = timezone.localdate()
    monday = menus.monday_of(_parse_day(request.GET.get("week") or request.POST.get("week"), today))
    back = _url("office_menu", community, canteen) + f"&week={monday.isoformat()}"
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "copy":
                made = menus.week_copy(actor=request.user, canteen=canteen, from_monday=monday - dt.timedelta(7),
                                       to_monday=monday)
                messages.success(request, _("%(n)d meals copied from last week, as drafts.") % {"n": len(made)})
            elif action == "publish":
                n = menus.week_publish(actor=request.user, canteen=canteen, monday=monday)
                messages.success(request, _("%(n)d meals published.") % {"n": n})
            else:
                raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=back)
        return redirect(back)
    kinds = [k for k in MealKind.values if canteen.times.filter(kind=k).exists()]
    week = menus.week_menu(canteen, monday, drafts=True)
    rows = []
    for day, meals in week:
        by_kind = {m.kind: m for m in meals}
        cells = []
        for kind in kinds:
            meal = by_kind.get(kind)
            cell = {"kind": kind, "label": MealKind(kind).label, "meal": meal}
            if meal is not None:
                cell["dishes"] = [{"name": i.dish.name, "tags": menus.tag_labels(i.dish.tags)} for i in meal.items.all()]
                cell["price"] = yuan_text(meal.price_fen)
            cell["new_url"] = (_url("office_meal_new", community, canteen) + f"&day={day.isoformat()}&kind={kind}"
                               if meal is None and day >= today else None)
            cells.append(cell)
        rows.append({"day": day, "cells": cells, "past": day < today})
    return render(request, "canteen/office_menu.html", {
        **_base(request, community, canteen, "menu"), "monday": monday, "rows": rows, "kinds": kinds,
        "kind_labels": [MealKind(k).label for k in kinds],
        "previous": monday - dt.timedelta(7), "next": monday + dt.timedelta(7), "today": today,
        "drafts": any(c["meal"] is not None and c["meal"].status == Meal.Status.DRAFT for r in rows
                      for c in r["cells"]),
    })


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_meal_new(request, code):
    community, canteen = _planner(request, code)
    if not rules.may_plan_menus(request.user, canteen):
        return _not_a_planner(request, community)
    today = timezone.localdate()
    day = _parse_day(request.GET.get("day") or request.POST.get("day"), today)
    kind = request.GET.get("kind") or request.POST.get("kind") or MealKind.LUNCH
    if kind not in MealKind.values:
        raise Http404
    last = Meal.objects.filter(canteen=canteen, kind=kind).exclude(status=Meal.Status.CANCELLED).order_by("-day").first()
    initial = {"price_fen": last.price_fen if last else None,
               "onsite_capacity": last.onsite_capacity if last else 40,
               "delivery_capacity": last.delivery_capacity if last else 10}
    form = NewMealForm(request.POST or None, canteen=canteen, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meal = menus.meal_create(actor=request.user, canteen=canteen, day=day, kind=kind,
                                     price_fen=data["price_fen"], onsite_capacity=data["onsite_capacity"],
                                     delivery_capacity=data["delivery_capacity"], dishes=data["dishes"],
                                     note=data["note"], publish=data["publish"])
        except LinliError as exc:
            if exc.field and exc.field in form.fields and exc.status == 400:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=_url("office_menu", community, canteen))
        else:
            messages.success(request, _("The meal is planned."))
            return redirect(_url("office_menu", community, canteen) + f"&week={menus.monday_of(meal.day).isoformat()}")
    return render(request, "canteen/office_meal.html", {
        **_base(request, community, canteen, "menu"), "form": form, "day": day, "kind": MealKind(kind).label,
        "kind_code": kind, "meal": None,
    })


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_meal(request, code, pk):
    community = _community(request, code)
    meal = get_object_or_404(Meal.objects.select_related("canteen__community", "canteen__partner"), pk=pk,
                             canteen__community=community)
    canteen = meal.canteen
    if not rules.may_plan_menus(request.user, canteen):
        return _not_a_planner(request, community)
    back = _url("office_meal", community, canteen, pk=meal.pk)
    week_url = _url("office_menu", community, canteen) + f"&week={menus.monday_of(meal.day).isoformat()}"
    action = request.POST.get("action")
    form = MealForm(request.POST if action == "save" else None, canteen=canteen, initial={
        "price_fen": meal.price_fen, "onsite_capacity": meal.onsite_capacity,
        "delivery_capacity": meal.delivery_capacity, "note": meal.note,
        "dishes": [str(i.dish_id) for i in meal.items.all()]})
    cancel_form = ReasonForm(request.POST if action == "cancel" else None)
    if request.method == "POST":
        try:
            if action == "save":
                if form.is_valid():
                    data = form.cleaned_data
                    menus.meal_update(actor=request.user, meal=meal, price_fen=data["price_fen"],
                                      onsite_capacity=data["onsite_capacity"],
                                      delivery_capacity=data["delivery_capacity"], dishes=data["dishes"],
                                      note=data["note"])
                    messages.success(request, _("The meal is saved. Orders already placed keep their price."))
                    return redirect(back)
            elif action == "publish":
                menus.meal_publish(actor=request.user, meal=meal)
                messages.success(request, _("The meal is on the residents' menu."))
                return redirect(back)
            elif action == "cancel":
                if cancel_form.is_valid():
                    _meal, n = menus.meal_cancel(actor=request.user, meal=meal,
                                                 reason=cancel_form.cleaned_data["reason"])
                    messages.success(request, _("The meal is cancelled; %(n)d orders were cancelled and refunded.")
                                     % {"n": n})
                    return redirect(back)
            else:
                raise Http404
        except LinliError as exc:
            target = form if action == "save" else cancel_form
            if exc.field and exc.field in target.fields and exc.status == 400:
                target.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=back)
    meal.refresh_from_db()
    return render(request, "canteen/office_meal.html", {
        **_base(request, community, canteen, "menu"), "form": form, "cancel_form": cancel_form, "meal": meal,
        "day": meal.day, "kind": meal.get_kind_display(), "week_url": week_url,
        "onsite_left": menus.places_left(meal, False), "delivery_left": menus.places_left(meal, True),
        "price": yuan_text(meal.price_fen), "over": meal.ends_at <= timezone.now(),
        "dishes": [{"name": i.dish.name, "tags": menus.tag_labels(i.dish.tags)}
                   for i in meal.items.select_related("dish")],
    })


# --- dishes -------------------------------------------------------------------------------------------


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_dishes(request, code):
    community, canteen = _planner(request, code)
    may_plan = rules.may_plan_menus(request.user, canteen)
    if not may_plan:
        return _not_a_planner(request, community)
    form = DishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            menus.dish_create(actor=request.user, canteen=canteen, name=data["name"], price_fen=data["price_fen"],
                              tags=data["tags"], description=data["description"])
        except LinliError as exc:
            if exc.field and exc.field in form.fields and exc.status == 400:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=_url("office_dishes", community, canteen))
        else:
            messages.success(request, _("The dish is saved."))
            return redirect(_url("office_dishes", community, canteen))
    dishes = [{"dish": d, "price": yuan_text(d.price_fen), "tags": menus.tag_labels(d.tags)}
              for d in canteen.dishes.order_by("-active", "name")]
    return render(request, "canteen/office_dishes.html", {
        **_base(request, community, canteen, "dishes"), "form": form, "dishes": dishes})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_dish(request, code, pk):
    community = _community(request, code)
    dish = get_object_or_404(Dish.objects.select_related("canteen__community", "canteen__partner"), pk=pk,
                             canteen__community=community)
    canteen = dish.canteen
    if not rules.may_plan_menus(request.user, canteen):
        return _not_a_planner(request, community)
    form = DishForm(request.POST or None, initial={"name": dish.name, "price_fen": dish.price_fen,
                                                   "description": dish.description, "tags": dish.tags,
                                                   "active": dish.active})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            menus.dish_update(actor=request.user, dish=dish, name=data["name"], price_fen=data["price_fen"],
                              tags=data["tags"], description=data["description"], active=data["active"])
        except LinliError as exc:
            if exc.field and exc.field in form.fields and exc.status == 400:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=_url("office_dishes", community, canteen))
        else:
            messages.success(request, _("The dish is saved. Meals already planned keep their set price."))
            return redirect(_url("office_dishes", community, canteen))
    return render(request, "canteen/office_dish.html", {
        **_base(request, community, canteen, "dishes"), "form": form, "dish": dish})


# --- subsidy rules, permits, claim ---------------------------------------------------------------------


def _manager(request, code):
    community, canteen = _planner(request, code)
    if not rules.may_manage(request.user, canteen):
        return community, canteen, refuse(
            request, _denied(_("Only the community office manages subsidies and delivery permits.")),
            back=reverse("canteen:office", kwargs={"code": community.code}))
    return community, canteen, None


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_rules(request, code):
    community, canteen, refused = _manager(request, code)
    if refused:
        return refused
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subsidies.rule_set(actor=request.user, canteen=canteen, criterion=data["criterion"],
                               percent=data["percent"], max_meals_per_day=data["max_meals_per_day"],
                               active=data["active"])
        except LinliError as exc:
            if exc.field and exc.field in form.fields and exc.status == 400:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=_url("office_rules", community, canteen))
        else:
            messages.success(request, _("The rule is saved. Orders already placed keep their subsidy."))
            return redirect(_url("office_rules", community, canteen))
    rows = [{"rule": r, "label": eligibility.label(r.criterion)} for r in canteen.subsidy_rules.all()]
    return render(request, "canteen/office_rules.html", {
        **_base(request, community, canteen, "rules"), "form": form, "rules": rows})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_permits(request, code):
    """Delivery permits: the live ones (masked names), grant one to a resident found by the registry
    search (within the account's scope), revoke."""
    community, canteen, refused = _manager(request, code)
    if refused:
        return refused
    back = _url("office_permits", community, canteen)
    # The search is POSTed: a name, mobile or ID number never travels in a URL (nor in the logs).
    search = PermitSearchForm(request.POST if request.POST.get("action") == "find" else None)
    grant = PermitForm(request.POST if request.POST.get("action") == "grant" else None)
    if request.method == "POST" and request.POST.get("action") != "find":
        action = request.POST.get("action")
        try:
            if action == "grant":
                if grant.is_valid():
                    from linli.community.models import Resident

                    resident = Resident.objects.filter(pk=grant.cleaned_data["resident"],
                                                       community=community).first()
                    if resident is None:
                        raise Http404
                    eligibility.permit_grant(actor=request.user, canteen=canteen, resident=resident,
                                             reason=grant.cleaned_data["reason"], until=grant.cleaned_data["until"])
                    messages.success(request, _("Meals may now be delivered to this resident."))
                    return redirect(back)
                messages.error(request, _("Give a reason (and a valid end date, if any)."))
                return redirect(back)
            if action == "revoke":
                permit = get_object_or_404(canteen.permits, pk=request.POST.get("permit") or 0)
                eligibility.permit_revoke(actor=request.user, permit=permit)
                messages.success(request, _("The permit is revoked."))
                return redirect(back)
            raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=back)
    found = []
    if search.is_bound and search.is_valid():
        from linli.community.selectors import resident_search

        today = timezone.localdate()
        for resident in resident_search(request.user, query=search.cleaned_data["query"]).filter(
                community=community)[:20]:
            allowed, reason = eligibility.delivery_allowed(canteen, resident, on=today)
            found.append({"resident": resident, "name": resident.name.masked, "age": resident.age(today),
                          "grid": resident.grid.name, "allowed": allowed,
                          "reason": eligibility.label(reason) if allowed and reason != "permit" else ""})
    permits = [{"permit": p, "name": p.resident.name.masked, "grid": p.resident.grid.name}
               for p in eligibility.live_permits(canteen, on=timezone.localdate())
               .select_related("resident__grid")]
    return render(request, "canteen/office_permits.html", {
        **_base(request, community, canteen, "permits"), "search": search, "found": found, "permits": permits,
        "grant_form": PermitForm(),
    })


@staff_page(PERM)
def office_claim(request, code):
    """The month's subsidy claim: totals by criterion (office and street supervisor); the CSV of its
    orders (office only; resident ids, no names)."""
    community = _community(request, code)
    canteen = _canteen(request, community)
    if canteen is None:
        raise Http404
    if not rules.may_read_counts(request.user, community):
        return refuse(request, _denied())
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in (request.GET.get("month") or "").split("-"))
        first, _last = subsidies.month_range(year, month)
    except (ValueError, LinliError):
        year, month = today.year, today.month
    data = subsidies.claim(canteen, year, month)
    if request.GET.get("format") == "csv":
        if not rules.may_manage(request.user, canteen):
            return refuse(request, _denied(_("Only the community office downloads the claim's orders.")))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="canteen-claim-{year}-{month:02d}.csv"'
        response["Cache-Control"] = "no-store"
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(subsidies.CLAIM_COLUMNS)
        for row in data["rows"]:
            writer.writerow([row[0], row[1].isoformat(), *row[2:]])
        return response
    previous = dt.date(year, month, 1) - dt.timedelta(days=1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return render(request, "canteen/office_claim.html", {
        **_base(request, community, canteen, "claim"), "claim": data, "total": yuan_text(data["subsidy_fen"]),
        "by": [{**b, "yuan": yuan_text(b["subsidy_fen"])} for b in data["by_criterion"]],
        "previous": f"{previous.year}-{previous.month:02d}", "following": f"{following.year}-{following.month:02d}",
        "month_label": f"{year}-{month:02d}",
    })


@staff_page(PERM)
def office_dashboard(request, code):
    community = _community(request, code)
    canteen = _canteen(request, community)
    if canteen is None:
        raise Http404
    if not rules.may_read_counts(request.user, community):
        return refuse(request, _denied())
    data = dashboard_service.dashboard(canteen)
    return render(request, "canteen/office_dashboard.html", {
        **_base(request, community, canteen, "dashboard"), "d": data, "subsidy": yuan_text(data["subsidy_fen"]),
    })
