"""Pages of the console and the resident's home.

Each view parses the request, checks the permission, calls one selector or
service and renders. Scoping lives in ``selectors``, rules in ``rules``.
Personal values reach templates as ``Protected`` objects, whose ``str()`` is
the masked form; only the reveal response carries one plain value.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.core import registry
from linli.core import views as core_views
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.masking import scrub
from linli.core.web import no_store, staff_page

from . import needs, selectors, services
from .forms import EventFilterForm, RevealForm, ResidentSearchForm, protected_field_choices
from .models import Resident, StaffRole
from .rules import REVEAL_RIGHTS, SELF, revealable_fields
from .scope import scope_of

PAGE_SIZE = 50
# Hook point: links other apps add to the console's "What you can do" (fn(user) -> [(label, url)]).
CONSOLE_LINKS = "community.console_links"
# Hook point: today's work on the staff's first page. fn(user) -> [item, ...], each item a dict:
# "code" (a short name), "label", "url" (the list the count is the size of, already filtered),
# "count" (an int: a tile; None: a button, such as the grid worker's patrol report), "tone"
# ("urgent", "due", "primary" or ""), "order" (where it stands; lower first). Counts follow the
# account's scope: each app counts through its own scoped selectors.
TODAY_WORK = "community.today_work"
# Hook point: what other apps show on a resident's or a household's page (their requests …).
# fn(request, *, resident=None, household=None) -> rendered HTML, or None for nothing. Exactly one
# of resident and household is given, already fetched through the viewer's scope; the function
# shows only what the viewer may see of it.
PERSON_PANELS = "community.person_panels"
# Hook point: what a resident can do from their home page, first on the page ("raise a request").
# fn(user) -> [(label, url)]; the first link of the first app is the page's main button.
HOME_ACTIONS = "community.home_actions"
# What the event log keeps as the reason when residents reveal their own record on their home page.
OWN_RECORD_REASON = gettext_lazy("own record, opened by the resident")


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.has_perm("community.use_console"):
        return redirect("console")
    return redirect("my_home")


@staff_page("community.use_console")
def console_home(request):
    """The staff's first page: today's work first (counts that open their lists, from the
    community.today_work hook), then what they can do, their area's figures, their roles and
    what happened lately."""
    user = request.user
    today = [item for work_for in registry.hooks(TODAY_WORK) for item in (work_for(user) or ())]
    scope = scope_of(user)
    if scope.worker_communities or scope.grids:
        # This app's own item: households whose suggested need tags wait for a decision.
        waiting = needs.households_with_needs(user, waiting=True).count()
        today.append({"code": "needs", "label": _("Need tags to decide"), "count": waiting, "order": 70,
                      "url": reverse("needs_list") + "?waiting=1", "tone": "due" if waiting else ""})
    today.sort(key=lambda item: item.get("order", 100))
    roles = (
        StaffRole.objects.filter(user=user, active=True)
        .select_related("community", "street", "organisation")
        .prefetch_related("grids", "buildings")
    )
    communities = list(selectors.communities_for(user))
    context = {
        "today": [item for item in today if item.get("count") is not None],
        "today_actions": [item for item in today if item.get("count") is None],
        "roles": roles,
        # Links other apps add to "What you can do" (the cases desk …), through the
        # community.console_links hook: fn(user) -> [(label, url), ...].
        "app_links": [link for links_for in registry.hooks(CONSOLE_LINKS) for link in (links_for(user) or ())],
        "counts": selectors.registry_counts(user) if user.has_perm("community.search_registry") else None,
        "recent_events": _event_rows(user, selectors.events_for(user)[:10])
        if user.has_perm("core.browse_events") else None,
        "import_communities": [c for c in communities if user.has_perm("community.import_residents", c)],
        "import_url": reverse("import_upload"),
    }
    return render(request, "community/console_home.html", context)


@staff_page("community.search_registry")
@require_http_methods(["GET", "POST"])
def resident_search(request):
    page = None
    url_params = ""
    if request.method == "POST":
        form = ResidentSearchForm(request.user, request.POST)
        if form.is_valid():
            # Post/redirect/get: the query travels sealed, so back and reload work.
            params = form.url_params()
            return redirect(reverse("resident_search") + (f"?{params}" if params else ""))
    else:
        form = ResidentSearchForm.from_url(request.user, request.GET)
        if form.is_valid():
            url_params = form.url_params() if form.has_criteria else ""
            residents = (
                selectors.resident_search(request.user, **form.criteria())
                .select_related("household__building").prefetch_related("tags")
            )
            page = Paginator(residents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "community/resident_search.html", {
        "form": form, "page": page, "url_params": url_params,
    })


@staff_page("community.search_registry")
def household_detail(request, pk):
    try:
        household = selectors.household_get(request.user, pk)
    except NotFound:
        return core_views.not_found(request)
    members = list(
        selectors.residents_for(request.user).filter(household=household)
        .prefetch_related("tags").order_by("pk")
    )
    return render(request, "community/household_detail.html", {
        "household": household,
        "members": members,
        "tags": sorted({tag for member in members for tag in member.tags.all()}, key=lambda t: t.code),
        "panels": _person_panels(request, household=household),
    })


def _person_panels(request, **person) -> list[str]:
    """What other apps add to a resident's or household's page (community.person_panels)."""
    return [html for panel_for in registry.hooks(PERSON_PANELS) if (html := panel_for(request, **person))]


@staff_page("community.search_registry")
@require_http_methods(["GET", "POST"])
def resident_detail(request, pk):
    try:
        resident = selectors.resident_get(request.user, pk)
    except NotFound:
        return core_views.not_found(request)
    may_reveal = request.user.has_perm("community.reveal_resident", resident)
    posted, revealed = None, None
    if request.method == "POST":
        if not may_reveal:
            return core_views.forbidden(request)
        posted = RevealForm(request.POST, field_name=request.POST.get("field", ""))
        if posted.is_valid():
            try:
                value = services.resident_reveal(
                    actor=request.user, resident=resident,
                    field=posted.cleaned_data["field"], reason=posted.cleaned_data["reason"],
                )
            except PermissionDenied:
                return core_views.forbidden(request)
            except InvalidInput as exc:
                posted.add_error(exc.field if exc.field in posted.fields else None, str(exc.message))
            else:
                # Shown once, in this response only: not in the URL, the session or a message.
                revealed = {"field": posted.cleaned_data["field"], "value": value}
    allowed = revealable_fields(request.user, resident) if may_reveal else ()  # per field, per role
    rows = []
    for name, label in protected_field_choices():
        is_posted = posted is not None and posted.data.get("field") == name
        rows.append({
            "name": name,
            "label": label,
            "value": getattr(resident, name),
            "plain": revealed["value"] if revealed and revealed["field"] == name else None,
            "form": posted if is_posted and revealed is None else RevealForm(field_name=name),
            "may_reveal": may_reveal and name in allowed,
            "open": is_posted and revealed is None,
        })
    stray_errors = None
    if posted is not None and revealed is None and posted.data.get("field") not in Resident.PROTECTED_FIELDS:
        stray_errors = [message for messages in posted.errors.values() for message in messages]
    return render(request, "community/resident_detail.html", {
        "resident": resident,
        "rows": rows,
        "may_reveal": may_reveal,
        "revealed": revealed,
        "stray_errors": stray_errors,
        "panels": _person_panels(request, resident=resident),
    })


def _event_rows(user, events):
    links = user.has_perm("community.search_registry")
    field_labels = dict(protected_field_choices())
    field_labels.update({"contact_phone": _("contact phone"), "reporter_phone": _("reporter's phone")})
    events = list(events)
    places = selectors.place_names(events)
    # A resident's own account name can say who they are: readers outside the office of the
    # event's place (the street supervisor) read "resident" instead.
    scope = scope_of(user)
    residents = set(Resident.objects.filter(user_id__in={e.actor_id for e in events if e.actor_id})
                    .values_list("user_id", flat=True))
    rows = []
    for event in events:
        office = event.community_id in scope.office_communities or (
            event.grid_id is not None and event.grid_id in scope.grids)
        try:
            kind = apps.get_model(event.target_type)._meta.verbose_name if event.target_type else ""
        except (LookupError, ValueError):
            kind = event.target_type
        field = (event.data or {}).get("field")
        rows.append({
            "event": event,
            # Never the verb's code: an unregistered verb reads "other change" (tests/test_words.py).
            "verb_label": registry.event_label(event.verb) or _("other change"),
            "kind": kind,
            "field_label": field_labels.get(field, field) if field else "",
            # Scrubbed again where shown: events written before reasons were scrubbed at the source.
            # A registered reason code reads as its label (a classifier promoted "first").
            "reason": (registry.event_reason(event.verb, str((event.data or {}).get("reason", "")))
                       or scrub(str((event.data or {}).get("reason", "")), doors=True)),
            "actor": event.actor_label if office or event.actor_id not in residents else _("resident"),
            "place": (places.get(("grid", event.grid_id)) if event.grid_id
                      else places.get(("community", event.community_id), "")),
            "resident_link": links and event.target_type == "community.resident",
            "household_link": links and event.target_type == "community.household",
        })
    return rows


@staff_page("core.browse_events")
def event_list(request):
    form = EventFilterForm(request.GET)
    page, rows = None, []
    if form.is_valid():
        page = Paginator(selectors.events_for(request.user, **form.criteria()), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = _event_rows(request.user, page.object_list)
    return render(request, "community/event_list.html", {
        "form": form, "page": page, "rows": rows,
        "url_params": form.url_params() if form.is_valid() else "",
    })


@staff_page("community.view_street_overview")
def street_overview(request):
    return render(request, "community/street_overview.html", {
        "rows": selectors.street_overview(request.user),
        "age_bands": [label for _lo, _hi, label in selectors.AGE_BANDS],
    })


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def my_home(request):
    """The resident's home: the button to raise a request first, their household, and their own
    record, masked, with one button that shows it in full (docs/roles.md: a resident may reveal
    their own record; each field shown writes one ``resident.revealed`` event)."""
    scope = scope_of(request.user)
    context = {"resident": None, "actions": [
        link for links_for in registry.hooks(HOME_ACTIONS) for link in (links_for(request.user) or ())]}
    if scope.resident_id is None:
        if request.method == "POST":
            return core_views.forbidden(request)
        return render(request, "community/me.html", context)
    # Only ever the account's own record: nothing in the request names whom to reveal.
    resident = selectors.resident_get(request.user, scope.resident_id)
    labels = dict(protected_field_choices())
    # The rights a resident holds over their own record (REVEAL_RIGHTS' "self"), whatever else
    # the account may be: this page is the resident's, not the office's.
    fields = [name for name in revealable_fields(request.user, resident)
              if name in labels and SELF in REVEAL_RIGHTS[name]]
    plain = {}
    if request.method == "POST":
        try:
            with transaction.atomic():  # every field shown, each audited, or none
                for name in fields:
                    plain[name] = services.resident_reveal(actor=request.user, resident=resident, field=name,
                                                           reason=str(OWN_RECORD_REASON))
        except PermissionDenied:
            return core_views.forbidden(request)
    context.update(
        resident=resident,
        household=resident.household,
        members=selectors.residents_for(request.user)
        .filter(household_id=resident.household_id).prefetch_related("tags").order_by("pk"),
        may_reveal=bool(fields),
        revealed=bool(plain),
        # Shown once, in this response only: not in the URL, the session or a message.
        record=[{"name": name, "label": labels[name], "value": getattr(resident, name), "plain": plain.get(name)}
                for name in labels if name in fields],
    )
    return render(request, "community/me.html", context)
