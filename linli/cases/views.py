"""Pages of the case loop: residents raise and rate, staff triage, dispatch and handle,
and the three-rates dashboard.

Views parse, authorise, call one selector or service, render. Every write goes
through ``linli.cases.services`` (and so ``workflow.transition``); every read
through ``linli.cases.selectors``, scoped to the account. Personal values
(contact name and phone) reach templates as ``Protected``: masked when shown.

Anonymous web intake (/cases/report/) is off unless the setting
``LINLI_ANONYMOUS_INTAKE`` is true (there is no per-community flag yet). It needs
a mobile number and is limited to ``ANONYMOUS_PER_HOUR`` cases per client
address and hour. The count lives in the database, not in a per-process cache:
each anonymous case is submitted with its form's token as Idempotency-Key under
the scope ``anon:<keyed hash of the address>``, and the limit counts those rows,
so it holds across processes and servers and no address is stored. The count and the
write are one step, in the intake's transaction under the client's lock
(``services.intake_quota_allows``): parallel posts pass exactly the limit. Behind a
reverse proxy, ``LINLI_CLIENT_IP_HEADER`` names the header carrying the client's
address (e.g. ``HTTP_X_REAL_IP``); otherwise REMOTE_ADDR is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from linli.community import selectors as community_selectors
from linli.community.models import Community, Grid, Organisation
from linli.community.scope import scope_of
from linli.core import registry, views as core_views
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.masking import scrub
from linli.core.models import Event
from linli.core.signin import client_address
from linli.core.viewed import viewed
from linli.core.web import json_error, no_store, staff_page

from . import classify, people, rates, rules, selectors, services, today
from .forms import (
    MOVE_FORMS, CaseFilterForm, ContactRevealForm, IntakeForm, NoteForm, RatesForm, RatingForm, StaffIntakeForm,
    add_service_error,
)
from .models import Case, Category
from .photos import clean_images
from .workflow import CASE, OTHER_EVENTS, allowed_moves, move_by_verb

# Extension point: panels other apps add to the staff case page. Each function takes
# (user, case) and returns None, or {"template": a template name, "context": a dict}; the
# template is rendered with that context and ``case``, after the request section, in the
# order the apps registered (linli.insight adds the cases that read alike).
STAFF_CASE_PANELS = "cases.staff_case_panels"
# Hook point: what other apps add inside one move's form on the staff case page (the reply
# assistant beside the resolution). fn(user, case, move_name) -> {"template", "context"} or None.
MOVE_FORM_EXTRAS = "cases.move_form_extras"

S = Case.Status
PAGE_SIZE = 30
CONSOLE = "community.use_console"

# Anonymous web intake: how many cases one client may submit in one hour.
ANONYMOUS_PER_HOUR = 5
ANONYMOUS_WINDOW = dt.timedelta(hours=1)


def _anonymous_intake_enabled() -> bool:
    return bool(getattr(settings, "LINLI_ANONYMOUS_INTAKE", False))


def _resident_of(user):
    return getattr(user, "resident", None) if user.is_authenticated else None


def _clean_photos(files):
    """Photos checked by content, EXIF stripped (``linli.cases.photos``); InvalidInput otherwise."""
    if not files:
        return []
    return clean_images(files)


def _photo_error(form, exc) -> None:
    field = exc.field if exc.field in form.fields else "photos"
    form.add_error(field, str(exc.message))


# --- the plain-words timeline --------------------------------------------------------------------

RATING_WORDS = dict(Case.Rating.choices)


def _case_events(case: Case):
    return list(Event.objects.filter(target_type="cases.case", target_id=str(case.pk)).order_by("created_at", "id"))


def _unit_names(events) -> dict:
    ids = {e.data.get("unit") for e in events if isinstance(e.data, dict) and e.data.get("unit")}
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def resident_timeline(case: Case) -> list[dict]:
    """What happened to the request, in sentences a resident understands.
    Internal notes, reminders and escalations are not shown."""
    events = _case_events(case)
    units = _unit_names(events)
    last_resolve = max((e.pk for e in events if e.verb == "case.resolved"), default=None)
    rows = []
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        unit = units.get(data.get("unit"), _("the handling unit"))
        rating = RATING_WORDS.get(data.get("rating"), "")
        verb = event.verb
        if verb == "case.submitted":
            text = _("We received your request.")
        elif verb == "case.accepted":
            text = _("Accepted by the community office.")
        elif verb == "case.rejected":
            text = _("Not accepted: %(reason)s") % {"reason": case.reject_reason}
        elif verb == "case.dispatched":
            text = _("Passed to %(unit)s to handle.") % {"unit": unit}
        elif verb == "case.transferred":
            text = _("Passed on to %(unit)s, which is responsible.") % {"unit": unit}
        elif verb == "case.returned":
            text = _("The unit handed it back to the community office, which is finding the right unit.")
        elif verb == "case.contacted":
            text = _("The handling unit contacted you.")
        elif verb == "case.started":
            text = _("Work has started.")
        elif verb == "case.resolved":
            text = (_("Done: %(result)s") % {"result": case.resolution}) if event.pk == last_resolve and \
                case.resolution else _("Done.")
        elif verb in ("case.rated", "case.visited_back"):
            if data.get("rating") == Case.Rating.UNSATISFIED:
                text = _("You were not satisfied, so the request was reopened and sent back to be handled again.")
            elif verb == "case.rated":
                text = _("You rated the handling: %(rating)s. The request is closed.") % {"rating": rating}
            else:
                text = _("At the visit-back call you rated the handling: %(rating)s. The request is closed.") % {
                    "rating": rating}
        elif verb == "case.closed_unrated":
            text = _("Closed without a rating.")
        elif verb == "case.closed_unresolved":
            # The case row keeps what the resident was told; the event only a scrubbed copy.
            kind = Case.Unresolved(data["kind"]).label if data.get("kind") in Case.Unresolved.values \
                else Case.Unresolved.OTHER.label
            text = _("Closed: this could not be resolved, because %(kind)s. %(explanation)s") % {
                "kind": kind, "explanation": case.unresolved_explanation}
            if rating:
                text += " " + _("You rated the handling: %(rating)s.") % {"rating": rating}
        elif verb == "case.merged":
            text = _("Joined with request %(number)s about the same problem; it is handled there.") % {
                "number": data.get("master", "")}
        else:
            continue  # internal: notes, reminders, overdue flags, escalations
        rows.append({"at": event.created_at, "text": text, "verb": verb})
    for note in case.notes.filter(internal=False):
        rows.append({"at": note.created_at, "text": _("Message from the community: %(text)s") % {"text": note.text},
                     "verb": "case.message"})
    rows.sort(key=lambda r: r["at"])
    return rows


def _event_label(verb: str):
    """How the staff history names an event: its move's label, the case's other events', or the
    verb's registered label; never the verb's code (an unregistered verb reads "other change")."""
    move = move_by_verb(verb)
    if move is not None:
        return move.label
    return OTHER_EVENTS.get(verb) or registry.event_label(verb) or _("other change")


DEADLINE_WORDS = {"response": gettext_lazy("contact with the resident"), "resolution": gettext_lazy("resolution")}
ESCALATION_WORDS = {1: gettext_lazy("to the community"), 2: gettext_lazy("to the street")}


CONTACT_REVEALED = gettext_lazy("contact number shown")


def staff_timeline(case: Case, view: str = rules.FULL) -> list[dict]:
    """Every event of the case, with who did it, and every note (internal ones marked).
    Outside the office (``rules.case_view``) free text is scrubbed of the case's people,
    numbers and doors, and the street supervisor sees no notes."""
    full = view == rules.FULL
    names = () if full else rules.case_names(case)

    def text(value: str) -> str:
        # ID and phone numbers are masked for every staff reader (the contact's phone has its
        # audited reveal); outside the office names and doors too.
        return scrub(value) if full else rules.scrub_for_outsiders(case, value, names)
    events = _case_events(case)
    units = _unit_names(events)
    # The resident's own account name can say who they are: outside the office it reads "resident".
    residents = {case.submitted_by_id, case.reporter.user_id if case.reporter_id else None} - {None}
    rows = []
    for event in events:
        if event.verb == "case.noted":
            continue  # the note itself is listed below, with its text
        data = event.data if isinstance(event.data, dict) else {}
        details = []
        if data.get("unit"):
            details.append(units.get(data["unit"], str(data["unit"])))
        if data.get("rating"):
            details.append(str(RATING_WORDS.get(data["rating"], data["rating"])))
        if data.get("master"):
            details.append(data["master"])
        if event.verb == "case.closed_unresolved" and full and case.unresolved_explanation:
            # The event keeps a scrubbed copy; the office reads what the resident was told.
            details.append(text(case.unresolved_explanation))
        elif data.get("reason"):
            details.append(text(str(data["reason"])))
        if data.get("deadline") in DEADLINE_WORDS:
            details.append(DEADLINE_WORDS[data["deadline"]])
        if event.verb == "case.escalated" and data.get("level") in ESCALATION_WORDS:
            details.append(ESCALATION_WORDS[data["level"]])
        if event.verb == "case.rejected" and case.reject_reason:
            details.append(text(case.reject_reason))
        label = CONTACT_REVEALED if event.verb == "case.contact_revealed" else _event_label(event.verb)
        actor = event.actor_label
        if event.actor_id is None and actor == "system":
            actor = _("system")  # a job's event: the stored label is a code, not a name
        if not full and event.actor_id in residents:
            actor = _("resident")
        rows.append({"at": event.created_at, "actor": actor,
                     "label": label, "details": " · ".join(map(str, details)),
                     "note": None})
    notes = case.notes.select_related("author") if view != rules.SCRUBBED else []
    for note in notes:
        rows.append({"at": note.created_at, "actor": note.author.get_username() if note.author else "",
                     "label": _("internal note") if note.internal else _("note shown to the resident"),
                     "details": text(note.text), "note": note})
    rows.sort(key=lambda r: r["at"])
    return rows


# --- resident pages ---------------------------------------------------------------------------------

@login_required
@no_store
def my_cases(request):
    scope = scope_of(request.user)
    own = Q(submitted_by_id=request.user.pk, channel=Case.Channel.WEB)
    if scope.resident_id:
        own |= Q(reporter_id=scope.resident_id)
    cases = selectors.cases_for(request.user).filter(own).select_related("category").order_by("-created_at", "-id")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/my_cases.html", {
        "page": page, "resident": _resident_of(request.user),
    })


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def case_new(request):
    resident = _resident_of(request.user)
    if resident is None:
        return render(request, "cases/not_linked.html", {"anonymous": _anonymous_intake_enabled()})
    community = resident.community
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, community=community, resident=resident)
        if form.is_valid():
            case = _submit(request, form, community, idempotency=("user:%d" % request.user.pk,
                                                                  form.cleaned_data["token"]))
            if case is not None:
                messages.success(request, _("Your request %(number)s was received.") % {"number": case.number})
                return redirect("cases:detail", number=case.number)
    else:
        form = IntakeForm(community=community, resident=resident)
    return render(request, "cases/new.html", {
        "form": form, "community": community, "resident": resident, "anonymous": False,
        "suggest_url": reverse("cases:suggest"),
    })


def _submit(request, form, community, *, idempotency, channel=Case.Channel.WEB, extra=None):
    """Photos, then the service; errors land on the form. Returns the case or None."""
    try:
        photos = _clean_photos(form.cleaned_data.get("photos"))
    except InvalidInput as exc:
        _photo_error(form, exc)
        return None
    intake = services.Intake(community=community, channel=channel, photos=photos,
                             **(extra if extra is not None else form.intake_kwargs()))
    try:
        case, _created = services.case_submit(actor=request.user if request.user.is_authenticated else None,
                                              intake=intake, idempotency=idempotency)
    except InvalidInput as exc:
        add_service_error(form, exc)
        return None
    return case


def _client_key(request) -> str:
    """A keyed hash of the client's address: counts submissions without storing the address.
    Behind a reverse proxy, set LINLI_CLIENT_IP_HEADER (e.g. "HTTP_X_REAL_IP") to the header it sets."""
    address = client_address(request)
    digest = hmac.new(settings.SECRET_KEY.encode(), f"anonymous-intake:{address}".encode(), hashlib.sha256)
    return "anon:" + digest.hexdigest()[:40]


@no_store
@require_http_methods(["GET", "POST"])
def case_report(request):
    """Anonymous intake, where the installation allows it (LINLI_ANONYMOUS_INTAKE)."""
    if not _anonymous_intake_enabled():
        return core_views.not_found(request)
    if _resident_of(request.user) is not None:
        return redirect("cases:new")
    communities = Community.objects.order_by("name")
    code = request.POST.get("community") or request.GET.get("community") or ""
    community = communities.filter(code=code).first() if code else None
    if community is None and communities.count() == 1:
        community = communities.first()
    if community is None:
        return render(request, "cases/report_choose.html", {"communities": communities})
    status = 200
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, community=community, resident=None)
        client_key = _client_key(request)
        valid = form.is_valid()
        case = None
        # Counted and written in one transaction, under the client's lock: N parallel posts
        # pass exactly ANONYMOUS_PER_HOUR times (services.intake_quota_allows).
        with transaction.atomic():
            if not services.intake_quota_allows(client_key, limit=ANONYMOUS_PER_HOUR, window=ANONYMOUS_WINDOW):
                form.add_error(None, _("Too many requests from your connection in the last hour. "
                                       "Please try again later, or call the community office."))
                status = 429
            elif valid:
                case = _submit(request, form, community, idempotency=(client_key, form.cleaned_data["token"]))
        if case is not None:
            request.session["linli_reported_case"] = case.number
            return redirect("cases:report_done")
    else:
        form = IntakeForm(community=community, resident=None)
    return render(request, "cases/new.html", {
        "form": form, "community": community, "resident": None, "anonymous": True,
        "suggest_url": reverse("cases:suggest"),
    }, status=status)


@no_store
def case_report_done(request):
    if not _anonymous_intake_enabled():
        return core_views.not_found(request)
    number = request.session.get("linli_reported_case")
    if not number:
        return redirect("cases:report")
    return render(request, "cases/report_done.html", {"number": number})


@require_POST
def suggest(request):
    """The category the classifier suggests for a description: {category, name, confidence, confident}."""
    text = (request.POST.get("description") or "")[:4000]
    community = _suggest_community(request)
    if community is None:
        return json_error(404, "not_found", _("Unknown community."), "community")
    categories = Category.objects.filter(community=community, active=True)
    suggestion = classify.suggest(text, categories) if len(text.strip()) >= services.MIN_DESCRIPTION else None
    response = {"category": None, "name": "", "confidence": 0.0, "confident": False}
    if suggestion is not None:
        category = categories.filter(pk=suggestion.category_id).first()
        if category is not None:
            response = {"category": category.pk, "name": category.name,
                        "confidence": suggestion.confidence,
                        "confident": suggestion.confidence >= classify.triage_threshold()}
    result = JsonResponse(response)
    result["Cache-Control"] = "no-store"
    return result


def _suggest_community(request):
    """The community whose categories are offered: the resident's own, one the staff
    member works in, or (anonymous intake on) the one named."""
    user = request.user
    code = request.POST.get("community") or ""
    resident = _resident_of(user)
    if user.is_authenticated:
        scope = scope_of(user)
        allowed = set(scope.staff_communities) | set(
            Grid.objects.filter(pk__in=scope.grids).values_list("community_id", flat=True))
        if code:
            match = Community.objects.filter(Q(code=code) | Q(pk=int(code) if code.isdigit() else -1)).first()
            if match is not None and (match.pk in allowed or (resident and resident.community_id == match.pk)):
                return match
        if resident is not None and not code:
            return resident.community
    if _anonymous_intake_enabled() and code:
        return Community.objects.filter(code=code).first()
    return None


@login_required
@no_store
def case_detail(request, number):
    """The resident's page of their own request: the timeline and, once resolved, the rating."""
    try:
        case = selectors.case_get(request.user, number)
    except NotFound:
        return core_views.not_found(request)
    if not rules.is_own(request.user, case):
        if request.user.has_perm(CONSOLE):
            return redirect("cases:staff_detail", number=case.number)
        return core_views.not_found(request)
    return _render_detail(request, case)


def _render_detail(request, case, rating_form=None, status=200):
    may_rate = "rate" in allowed_moves(request.user, case)
    if may_rate and rating_form is None:
        rating_form = RatingForm(case=case, move="rate")
    viewed(request.user, "cases.case", case.pk)  # its notifications are read now (linli/core/viewed.py)
    return render(request, "cases/detail.html", {
        "case": case, "timeline": resident_timeline(case), "photos": list(case.photos.all()),
        "rating_form": rating_form if may_rate else None,
        # "We will reply by …": while the office has not yet contacted the resident.
        "reply_due": case.response_due if case.is_open and case.first_contact_at is None else None,
    }, status=status)


@login_required
@no_store
@require_POST
def case_rate(request, number):
    try:
        case = selectors.case_get(request.user, number)
    except NotFound:
        return core_views.not_found(request)
    if not rules.is_own(request.user, case):
        return core_views.not_found(request)
    form = RatingForm(request.POST, case=case, move="rate")
    if form.is_valid():
        try:
            case = services.case_rate(actor=request.user, case=case, rating=form.cleaned_data["rating"],
                                      comment=form.cleaned_data["comment"])
        except PermissionDenied:
            return core_views.forbidden(request)
        except InvalidInput as exc:
            add_service_error(form, exc)
        else:
            if case.status == S.CLOSED:
                messages.success(request, CASE.table["rate"].message)
            else:
                messages.success(request, _("We are sorry. Your request was reopened and will be handled again."))
            return redirect("cases:detail", number=case.number)
    return _render_detail(request, case, rating_form=form, status=400)


# --- staff: the console list with its queues ----------------------------------------------------

def _queues(user) -> list[dict]:
    base = selectors.cases_for(user)
    now = timezone.now()
    queues = [
        # What waits on this account now (the console's default; linli.cases.today says what).
        ("action", _("Needs action"), today.queue_cases(user, "action", now)),
        ("triage", _("Triage"), selectors.triage_queue(user)),
        ("accept", _("To accept"), selectors.acceptance_queue(user)),
        ("unit", _("With my unit"), selectors.unit_queue(user)),
        ("mine", _("My cases"), today.queue_cases(user, "mine", now)),
        ("progress", _("In progress"), base.filter(status=S.IN_PROGRESS)),
        ("due_today", _("Due today"), today.queue_cases(user, "due_today", now)),
        ("overdue", _("Overdue"), selectors.overdue_queue(user, now=now)),
        ("rating", _("Awaiting rating"), base.filter(status=S.RESOLVED)),
    ]
    return [{"code": code, "label": label, "cases": qs} for code, label, qs in queues]


def _local_day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())


def _apply_filters(qs, c: dict):
    for name, field_name in (("community", "community_id"), ("grid", "grid_id"), ("unit", "unit_id"),
                             ("category", "category_id")):
        value = c.get(name, "")
        if value == "":
            continue
        qs = qs.filter(**{f"{field_name}__isnull": True}) if value is None else qs.filter(**{field_name: value})
    top = c.get("top_category", "")
    if top is None:
        qs = qs.filter(category__isnull=True)
    elif top != "":
        qs = qs.filter(Q(category_id=top, category__parent__isnull=True) | Q(category__parent_id=top))
    if c.get("date_from"):
        qs = qs.filter(created_at__gte=_local_day_start(c["date_from"]))
    if c.get("date_to"):
        qs = qs.filter(created_at__lt=_local_day_start(c["date_to"] + dt.timedelta(days=1)))
    return qs


def _filter_choices(user):
    base = selectors.cases_for(user)
    communities = list(Community.objects.filter(pk__in=base.values("community_id")).order_by("name"))
    categories = list(Category.objects.filter(community__in=communities).select_related("community")
                      .order_by("community_id", "position", "code"))
    if len(communities) > 1:
        for category in categories:
            category.label = f"{category.community.name} · {category.name}"
    grids = list(Grid.objects.filter(pk__in=base.values("grid_id")).select_related("community")
                 .order_by("community_id", "code"))
    units = list(Organisation.objects.filter(pk__in=base.values("unit_id")).order_by("name"))
    return {"categories": [_Labelled(c) for c in categories], "grids": grids, "units": units,
            "communities": communities}


class _Labelled:
    """A category shown with its community's name when the list spans several."""

    def __init__(self, obj):
        self.pk = obj.pk
        self.text = getattr(obj, "label", None) or obj.name

    def __str__(self):
        return self.text


@staff_page(CONSOLE)
def console(request):
    user = request.user
    queues = _queues(user)
    for queue in queues:
        queue["count"] = queue["cases"].count()
    all_count = selectors.cases_for(user).count()
    form = CaseFilterForm(request.GET or None, initial={"queue": "action"}, **_filter_choices(user))
    page, url_params, current = None, "", ""
    if not request.GET or form.is_valid():
        # Opened bare, the console lists what needs action; "All cases" is ?queue=all, and a
        # filter without a queue (the dashboard's drill-down) searches all cases too.
        c = form.cleaned_data if form.is_bound else {"queue": "action"}
        current = c.get("queue", "")
        qs = next((q["cases"] for q in queues if q["code"] == current), selectors.cases_for(user))
        measure = c.get("measure")
        if measure:
            # The cases behind one number of the dashboard: the same filter that counted it.
            try:
                qs = rates.cases_behind(qs, measure=measure, key=form.drill_key(),
                                        start=c.get("date_from"), end=c.get("date_to"))
            except InvalidInput as exc:
                form.add_error(None, str(exc.message))
                qs = qs.none()
        else:
            qs = _apply_filters(qs, c)
        if c.get("status"):
            qs = qs.filter(status=c["status"])
        if c.get("channel"):
            qs = qs.filter(channel=c["channel"])
        if c.get("number"):
            qs = qs.filter(number__iexact=c["number"].strip())
        qs = qs.select_related("category", "grid", "unit", "community", "reporter")
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        for case in page:
            # The line under each number: scrubbed for whoever does not see the case in full.
            case.summary = (scrub(case.description) if rules.case_view(user, case) == rules.FULL
                            else rules.scrub_for_outsiders(case, case.description))
        url_params = form.url_params() if form.is_bound else "queue=action"
    measure_label = ""
    if form.is_bound and form.is_valid() and form.cleaned_data.get("measure"):
        m = form.cleaned_data["measure"]
        measure_label = rates.RATE_LABELS[m] if m in rates.RATES else rates.MEASURE_LABELS.get(m, m)
    scope = scope_of(user)
    return render(request, "cases/console.html", {
        "queues": queues, "all_count": all_count, "form": form, "page": page, "url_params": url_params, "current": current,
        "measure_label": measure_label, "now": timezone.now(),
        "may_intake": bool(scope.worker_communities or scope.grids),
        "may_patrol": bool(scope.grids),
        "current_label": next((q["label"] for q in queues if q["code"] == current), _("All cases")),
        "open_filters": form.is_bound and (not form.is_valid() or form.has_filters),
    })


# --- staff: one case ---------------------------------------------------------------------------

def _staff_case(request, number):
    try:
        return selectors.case_get(request.user, number)
    except NotFound:
        return None


_PAGE_ORDER = list(MOVE_FORMS)  # the forms' order in linli.cases.forms is the page's


def _staff_form(move_name: str):
    """The form the staff case page offers for a move, or None (moves of the resident, or of
    the deadline job, have none there)."""
    move = CASE.table.get(move_name)
    cls = MOVE_FORMS.get(move.form) if move is not None and move.form else None
    return cls if cls is not None and cls.title else None


def _move_forms(user, case: Case, bound=None) -> tuple[dict, list]:
    """A form for each move this account may make now (the bound one kept as posted), in the
    order the page offers them."""
    moves = allowed_moves(user, case)
    similar = list(selectors.similar_open_cases(user, case)[:10]) if "merge" in moves else []
    offered = sorted((n for n in moves if _staff_form(n) is not None),
                     key=lambda n: _PAGE_ORDER.index(CASE.table[n].form))
    forms = {}
    for name in offered:
        if name == "merge" and not similar:
            continue
        if bound is not None and bound.move == name:
            forms[name] = bound
            continue
        forms[name] = _staff_form(name)(**_form_kwargs(case, name, similar))
    return forms, similar


def _form_kwargs(case: Case, name: str, similar) -> dict:
    kwargs = {"case": case, "move": name}
    if name == "dispatch":
        kwargs["routed"] = services.route(case)
    if name == "merge":
        kwargs["similar"] = similar
    return kwargs


def _panels(request, case: Case, point: str = STAFF_CASE_PANELS, *args) -> list[str]:
    """What other apps add at a hook point of the staff case page, rendered: each function
    takes (user, case, *args) and returns {"template", "context"} or None."""
    rendered = []
    for panel_for in registry.hooks(point):
        panel = panel_for(request.user, case, *args)
        if panel:
            rendered.append(render_to_string(panel["template"], {"case": case, **panel.get("context", {})},
                                             request=request))
    return rendered


def _shown(user, case: Case) -> dict:
    """What the staff case page shows of the request's personal data, by ``rules.case_view``:
    the office everything (masked); the handling unit the text scrubbed, no door, the contact
    only through the audited reveal (none for an anonymous case); everyone else (the street
    supervisor) scrubbed text, no person, no door, no photos."""
    view = rules.case_view(user, case)
    if view == rules.FULL:
        # The office sees names and the door (masked where they are fields); ID and phone
        # numbers typed into the text are masked like the registry's.
        return {"view": view, "full": True, "description": scrub(case.description),
                "resolution": scrub(case.resolution), "reject_reason": scrub(case.reject_reason),
                "rating_comment": scrub(case.rating_comment), "reporter": case.reporter, "contact": True,
                "door": True, "photos": True}
    names = rules.case_names(case)

    def text(value):
        return rules.scrub_for_outsiders(case, value, names)
    return {"view": view, "full": False, "description": text(case.description),
            "resolution": text(case.resolution), "reject_reason": text(case.reject_reason),
            "rating_comment": text(case.rating_comment), "address": text(case.address),
            "reporter": None, "contact": False,
            "door": False, "photos": view == rules.UNIT_VIEW}


def _render_staff_case(request, case, bound=None, note_form=None, status=200, reveal_form=None, revealed=None):
    user = request.user
    shown = _shown(user, case)
    forms, similar = _move_forms(user, case, bound)
    own_unit = case.unit_id is not None and case.unit_id in scope_of(user).organisations
    moves, behalf = [], []
    for name, form in forms.items():
        item = {"name": name, "form": form, "title": form.title, "button": form.button, "primary": form.primary,
                "extras": _panels(request, case, MOVE_FORM_EXTRAS, name)}
        # The unit's own work: office staff may do it on the unit's behalf, tucked away.
        (behalf if form.on_behalf and not own_unit else moves).append(item)
    may_note = rules.may_note(user, case)
    if may_note and note_form is None:
        note_form = NoteForm(case=case)
    now = timezone.now()
    overdue = case.status in selectors.WATCHED_STATUSES and bool(
        (case.responded_at is None and case.response_due and case.response_due < now)
        or (case.resolve_due and case.resolve_due < now))
    may_reveal = rules.may_reveal_contact(user, case) and (
        case.contact_phone is not None or (case.reporter_id is not None and case.reporter.phone is not None))
    viewed(user, "cases.case", case.pk)  # opened or acted on: its notifications are read
    return render(request, "cases/staff_detail.html", {
        "case": case, "forms": forms, "moves": moves, "behalf": behalf,
        "behalf_open": bound is not None and bound.move in {m["name"] for m in behalf},
        "similar": similar, "note_form": note_form if may_note else None,
        "timeline": staff_timeline(case, shown["view"]),
        "photos": list(case.photos.all()) if shown["photos"] else [],
        "shown": shown, "reporter": shown["reporter"], "overdue": overdue,
        "reveal_form": (reveal_form or ContactRevealForm()) if may_reveal else None,
        "revealed": revealed,
        # Other apps' panels quote other cases: only for those who see this one in full.
        "panels": _panels(request, case) if shown["full"] else [],
        # The reporter's and household's pages and earlier requests: the full view only (people.py).
        "people": people.case_people(user, case),
    }, status=status)


@staff_page(CONSOLE)
def staff_detail(request, number):
    case = _staff_case(request, number)
    if case is None:
        return core_views.not_found(request)
    return _render_staff_case(request, case)


NOTE_ADDED = gettext_lazy("Note added to case %(number)s.")


@staff_page(CONSOLE)
@require_POST
def staff_reveal_contact(request, number):
    """The contact's phone, in full, once, in this response only (not the URL, the session or a
    message), for the unit the case is with or its office; the reason is audited."""
    case = _staff_case(request, number)
    if case is None:
        return core_views.not_found(request)
    if not rules.may_reveal_contact(request.user, case):
        return core_views.forbidden(request)
    form = ContactRevealForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            revealed = services.case_contact_reveal(actor=request.user, case=case,
                                                    reason=form.cleaned_data["reason"])
        except PermissionDenied:
            return core_views.forbidden(request)
        except InvalidInput as exc:
            add_service_error(form, exc)
    return _render_staff_case(request, case, reveal_form=form, revealed=revealed,
                              status=200 if revealed is not None else 400)


@staff_page(CONSOLE)
@require_POST
def staff_move(request, number, move):
    case = _staff_case(request, number)
    if case is None:
        return core_views.not_found(request)
    user = request.user
    if move == "note":
        form = NoteForm(request.POST, case=case)
        if form.is_valid():
            try:
                services.case_note(actor=user, case=case, text=form.cleaned_data["text"],
                                   internal=not form.cleaned_data["public"])
            except PermissionDenied:
                return core_views.forbidden(request)
            except InvalidInput as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, NOTE_ADDED % {"number": case.number})
                return redirect("cases:staff_detail", number=case.number)
        return _render_staff_case(request, case, note_form=form, status=400)
    cls = _staff_form(move)
    if cls is None:
        return core_views.not_found(request)
    if move not in allowed_moves(user, case):
        # Someone else moved it first, or this account may not: say which, change nothing.
        if not CASE.actor_may(user, case, CASE.table[move].who):
            return core_views.forbidden(request)
        messages.error(request, _("This case is %(status)s now; the step “%(move)s” is not possible.") % {
            "status": case.get_status_display(), "move": CASE.table[move].label})
        return redirect("cases:staff_detail", number=case.number)
    similar = list(selectors.similar_open_cases(user, case)[:10]) if move == "merge" else []
    form = cls(request.POST, request.FILES, **_form_kwargs(case, move, similar))
    if form.is_valid():
        try:
            fields = form.move_input()
            if "photos" in fields:
                fields["photos"] = _clean_photos(fields["photos"])
            moved = services.case_move(actor=user, case=case, move=move, **fields)
        except PermissionDenied:
            return core_views.forbidden(request)
        except InvalidInput as exc:
            if move == "resolve" and exc.field in (None, "photos"):
                _photo_error(form, exc)
            else:
                add_service_error(form, exc)
        else:
            messages.success(request, CASE.table[move].message % {"number": moved.number})
            try:
                selectors.case_get(user, moved.pk)
            except NotFound:
                return redirect("cases:staff_list")  # handed back or moved out of this account's sight
            return redirect("cases:staff_detail", number=moved.number)
    case.refresh_from_db()
    return _render_staff_case(request, case, bound=form, status=400)


# --- staff: intake by phone, walk-in or patrol ------------------------------------------------

def _intake_places(user):
    scope = scope_of(user)
    grid_communities = set(Grid.objects.filter(pk__in=scope.grids).values_list("community_id", flat=True))
    communities = Community.objects.filter(pk__in=set(scope.worker_communities) | grid_communities).order_by("name")
    grids = (Grid.objects.filter(community_id__in=scope.worker_communities) | Grid.objects.filter(pk__in=scope.grids))
    return communities, grids.select_related("community").order_by("community_id", "code")


@staff_page(CONSOLE)
@require_http_methods(["GET", "POST"])
def staff_new(request):
    user = request.user
    communities, grids = _intake_places(user)
    if not communities.exists():
        return core_views.forbidden(request)
    # ?channel=patrol: the grid worker's patrol report (巡查上报), no caller asked for.
    patrol = request.GET.get("channel") == Case.Channel.PATROL
    options = {"communities": communities, "grids": grids, "patrol": patrol,
               "default_grid": grids.filter(pk__in=scope_of(user).grids).first() if patrol else None}
    if request.method == "POST":
        form = StaffIntakeForm(request.POST, request.FILES, **options)
        if form.is_valid():
            case = _staff_submit(request, form)
            if case is not None:
                messages.success(request, _("Case %(number)s was created.") % {"number": case.number})
                return redirect("cases:staff_detail", number=case.number)
    else:
        form = StaffIntakeForm(**options)
    return render(request, "cases/staff_new.html", {"form": form, "suggest_url": reverse("cases:suggest"),
                                                    "patrol": patrol})


def _staff_submit(request, form):
    c = form.cleaned_data
    community, phone, place = c["community"], c.get("resident_phone", ""), c["place"]
    reporter = None
    if phone:
        # Through the registry search: only residents this account may see are found.
        matches = list(community_selectors.resident_search(request.user, query=phone)
                       .filter(community=community)[:2])
        reporter = matches[0] if len(matches) == 1 else None
    if place == Case.Place.HOME and reporter is None:
        form.add_error("place", _("Only a registered resident's home can be chosen: give their mobile number, "
                                  "or choose the courtyard."))
        return None
    extra = {
        "description": c["description"], "category": c.get("category"), "urgency": c["urgency"],
        "reporter": reporter, "contact_name": c.get("contact_name", ""),
        "contact_phone": "" if reporter is not None else phone,
        "place": place, "address": c.get("address", ""),
        "household": reporter.household if place == Case.Place.HOME else None,
        "grid": c.get("grid") if place == Case.Place.GRID else None,
        "latitude": c.get("latitude") if place == Case.Place.POINT else None,
        "longitude": c.get("longitude") if place == Case.Place.POINT else None,
    }
    form.service_fields = {"contact_phone": "resident_phone"}
    return _submit(request, form, community, channel=c["channel"], extra=extra,
                   idempotency=("user:%d" % request.user.pk, c["token"]))


# --- the three rates --------------------------------------------------------------------------

def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _drill_url(measure: str, key: dict, start: dt.date, end: dt.date) -> str:
    params = {"measure": measure, "date_from": start.isoformat(), "date_to": end.isoformat()}
    for name, value in key.items():
        if name == "month":
            month_start = value
            month0 = month_start.year * 12 + month_start.month
            month_end = dt.date(month0 // 12, month0 % 12 + 1, 1) - dt.timedelta(days=1)
            params["date_from"] = max(start, month_start).isoformat()
            params["date_to"] = min(end, month_end).isoformat()
        else:
            params[name] = "none" if value is None else value
    return reverse("cases:staff_list") + "?" + urlencode(params)


def _rate_cells(row, start, end) -> list[dict]:
    cells = []
    for name, (numerator, denominator) in rates.RATES.items():
        cells.append({
            "name": name, "label": rates.RATE_LABELS[name], "pct": _pct(row.rate(name)), "value": row.rate(name),
            "numerator": row.counts[numerator], "denominator": row.counts[denominator],
            "numerator_url": _drill_url(numerator, row.key, start, end),
            "denominator_url": _drill_url(denominator, row.key, start, end),
        })
    return cells


@staff_page(CONSOLE)
def rates_dashboard(request):
    form = RatesForm(request.GET)
    context = {"form": form}
    if form.is_valid():
        start, end = form.period()
        by, rate = form.cleaned_data["by"], form.cleaned_data["rate"]
        cases = rates.reach_of(request.user)  # the cases_for(user) cases, summed from the rollup
        now = timezone.now()
        total = rates.three_rates(cases, start=start, end=end, now=now)[0]
        monthly = rates.three_rates(cases, by="month", start=start, end=end, now=now)
        ranked = rates.ranking(cases, by=by, rate=rate, start=start, end=end, now=now)
        rows = [{"row": row, "label": row.labels[by], "cells": _rate_cells(row, start, end),
                 "submitted_url": _drill_url("submitted", row.key, start, end)} for row in ranked]
        months = [{"label": row.labels["month"], "cells": _rate_cells(row, start, end),
                   "submitted": row.counts["submitted"],
                   "submitted_url": _drill_url("submitted", row.key, start, end)} for row in monthly]
        chart = {
            "labels": {name: str(label) for name, label in rates.RATE_LABELS.items()},
            "months": [m["label"] for m in months],
            "trend": {name: [_chart_value(m["cells"], name) for m in months] for name in rates.RATES},
            "trend_urls": {name: [_cell(m["cells"], name)["denominator_url"] for m in months] for name in rates.RATES},
            "ranking": {
                "rate": rate, "label": str(rates.RATE_LABELS[rate]),
                "groups": [str(r["label"]) for r in rows],
                "values": [_chart_value(r["cells"], rate) for r in rows],
                "urls": [_cell(r["cells"], rate)["denominator_url"] for r in rows],
            },
        }
        params = urlencode({"start": f"{form.cleaned_data['start']:%Y-%m}", "end": f"{form.cleaned_data['end']:%Y-%m}",
                            "by": by, "rate": rate})
        context.update({
            "start": start, "end": end, "by": by, "by_label": dict(RatesForm.BY)[by], "rate": rate,
            "rate_label": rates.RATE_LABELS[rate],
            "total": {"cells": _rate_cells(total, start, end), "submitted": total.counts["submitted"],
                      "submitted_url": _drill_url("submitted", {}, start, end)},
            "rows": rows, "months": months, "chart": chart, "params": params,
            "policy": rates.unrated_policy_setting(),
        })
    return render(request, "cases/rates.html", context)


def _cell(cells, name):
    return next(c for c in cells if c["name"] == name)


def _chart_value(cells, name):
    value = _cell(cells, name)["value"]
    return None if value is None else round(value * 100, 1)


@staff_page(CONSOLE)
def rates_export(request, fmt):
    form = RatesForm(request.GET)
    if not form.is_valid():
        return json_error(400, "invalid", _("Please correct the period."), "end")
    start, end = form.period()
    by = form.cleaned_data["by"]
    rows = rates.three_rates(rates.reach_of(request.user), by=by, start=start, end=end)
    name = f"three-rates-{by}-{start:%Y%m}-{end:%Y%m}"
    if fmt == "csv":
        response = HttpResponse(rates.rates_csv(rows, by=by).encode("utf-8-sig"),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(
            rates.rates_xlsx(rows, by=by),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
