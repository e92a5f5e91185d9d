"""The activities' pages (docs/services.md, "Activities for all ages").

Residents (phone-sized, large-text aware, no script needed):

- ``services:events`` (``/services/events/?audience=children``): the next four weeks by day,
  each activity with its audience in words, the age range, places left, and one big
  "Sign up" button to its page;
- ``services:event``: the activity; sign up with the party size, cancel; after it, photos and
  the summary (scrubbed);
- ``services:my_events``: the resident's sign-ups, coming and past;
- ``services:event_scan``: the rotating QR code's landing, which checks the signed-in resident in
  (opening it is the act, as the volunteers' scan);
- ``services:event_photo``: one photo's file, for the community's residents and staff.

The office (``<code>/office/events/``): the list (``services:office_events``), a new activity
(``services:office_event_new``), the organiser's page (``services:office_event``: sign-ups with
masked names, the waiting list, check-in by hand, photos, the summary, cancel) and the check-in
QR (``services:event_qr``; ``services:event_qr_state`` feeds ``volunteers/qr.js``, which swaps
the code every 30 s; without a script the page's link reloads it).
"""

from __future__ import annotations

import itertools

import rules as django_rules
import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from linli.community.models import Community, StaffRole
from linli.community.scope import scope_of
from linli.core.errors import InvalidInput, LinliError
from linli.core.web import no_store, staff_page
from linli.volunteers import qr
from linli.volunteers.rules import resident_of

from . import events as svc
from .forms_events import EventForm, PhotoForm, SignupForm, SummaryForm
from .models import Event, EventPhoto, EventSignup, Room

R = StaffRole.Role
PERM = "services.run_events"
RUNNER_ROLES = {R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.PARTY_SECRETARY}
S = EventSignup.Status


@django_rules.predicate
def runs_events_anywhere(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return any(roles & RUNNER_ROLES for roles in scope_of(user).roles.values())


django_rules.add_perm(PERM, runs_events_anywhere)


def audience_words(code) -> dict:
    return {"code": code, "label": Event.Audience(code).label}


def _viewer_community(user):
    """Whose calendar the account reads: the resident's community, or for staff without a home
    here (building leaders, workers) the one community they serve."""
    resident = resident_of(user)
    if resident is not None:
        return resident, resident.community
    staff = sorted(scope_of(user).staff_communities)
    if staff:
        return None, Community.objects.filter(pk=staff[0]).first()
    return None, None


def _rows(events, resident):
    mine = {}
    if resident is not None:
        mine = dict(EventSignup.objects.filter(resident=resident, event__in=events, status__in=svc.ACTIVE)
                    .values_list("event_id", "status"))
    return [{"event": e, "left": svc.places_left(e), "audience": audience_words(e.audience),
             "ages": svc.age_range_text(e), "mine": mine.get(e.pk)} for e in events]


# --- residents -------------------------------------------------------------------------------------


@require_safe
@login_required
@no_store
def calendar(request):
    resident, community = _viewer_community(request.user)
    audience = request.GET.get("audience") or ""
    if audience not in Event.Audience.values:
        audience = ""
    days = []
    if community is not None:
        events = list(svc.upcoming(community, audience=audience or None)[:300])
        rows = _rows(events, resident)
        for day, group in itertools.groupby(rows, key=lambda r: timezone.localtime(r["event"].starts_at).date()):
            days.append({"day": day, "rows": list(group)})
    filters = [{"code": "", "label": _("All")}] + [audience_words(c) for c in Event.Audience.values]
    return render(request, "services/calendar.html", {
        "community": community, "resident": resident, "days": days, "audience": audience, "filters": filters,
        "today": timezone.localdate()})


def _event_for(request, pk):
    resident, community = _viewer_community(request.user)
    event = Event.objects.filter(pk=pk).select_related("community", "room_booking__room").first()
    if event is None or community is None or event.community_id != community.pk:
        raise Http404
    return resident, event


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def event_detail(request, pk):
    resident, event = _event_for(request, pk)
    error, status = None, 200
    form = SignupForm()
    if request.method == "POST":
        if resident is None:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "signup":
                form = SignupForm(request.POST)
                if not form.is_valid():
                    raise InvalidInput(_("Sign up for 1 to 6 people."), code="party_size", field="party_size")
                row = svc.signup(actor=request.user, event=event, resident=resident,
                                 party_size=form.cleaned_data["party_size"])
                messages.success(request, _("You are signed up. Come to the place at the time shown.")
                                 if row.status == S.CONFIRMED else
                                 _("The activity is full: you are on the waiting list and will be told if places "
                                   "come free."))
                return redirect(request.path)
            if action == "cancel":
                row = svc.active_signup(event, resident)
                if row is None:
                    raise Http404
                svc.cancel_signup(actor=request.user, signup=row)
                messages.success(request, _("Your sign-up is cancelled. Thank you for telling us."))
                return redirect(request.path)
            raise Http404
        except LinliError as exc:
            error, status = exc.message, exc.status
            event.refresh_from_db()
    now = timezone.now()
    mine = svc.active_signup(event, resident)
    position = None
    if mine is not None and mine.status == S.WAITING:
        position = EventSignup.objects.filter(event=event, status=S.WAITING, created_at__lte=mine.created_at).count()
    open_ = (event.status == Event.Status.OPEN and event.starts_at > now
             and (event.signup_closes_at is None or event.signup_closes_at > now))
    return render(request, "services/event.html", {
        "event": event, "resident": resident, "mine": mine, "position": position, "form": form, "error": error,
        "left": svc.places_left(event), "audience": audience_words(event.audience), "ages": svc.age_range_text(event),
        "open": open_, "over": event.ends_at <= now,
        "photos": list(event.photos.all()) if event.starts_at <= now else [],
        "summary": svc.shown_summary(event) if event.summary else "",
    }, status=status)


@require_safe
@login_required
@no_store
def my_events(request):
    resident = resident_of(request.user)
    rows = []
    if resident is not None:
        rows = list(EventSignup.objects.filter(resident=resident).select_related("event")
                    .order_by("-event__starts_at", "-id")[:100])
    now = timezone.now()
    return render(request, "services/events_mine.html", {
        "resident": resident, "coming": [r for r in rows if r.event.ends_at > now][::-1],
        "past": [r for r in rows if r.event.ends_at <= now]})


@require_safe
@login_required
@no_store
def event_scan(request, pk, code):
    """Check in with a scanned code, on the resident's own phone."""
    event = Event.objects.select_related("community").filter(pk=pk).first()
    resident = resident_of(request.user)
    context = {"event": event}
    status = 200
    if event is None:
        context["error"] = _("This code does not belong to an activity. Scan the code the organiser is showing now.")
        status = 404
    elif resident is None or resident.community_id != event.community_id:
        context["error"] = _("This activity is for residents of another community.")
        status = 403
    else:
        try:
            row = svc.check_in(actor=request.user, event=event, resident=resident, code=code)
            context["done_at"] = row.checked_in_at
        except LinliError as exc:
            context["error"] = exc.message
            status = exc.status
    return render(request, "services/event_scan.html", context, status=status)


@require_safe
@login_required
def event_photo(request, pk):
    photo = EventPhoto.objects.select_related("event").filter(pk=pk).first()
    if photo is None:
        raise Http404
    _resident, community = _viewer_community(request.user)
    if community is None or community.pk != photo.event.community_id:
        if not svc.may_run_event(request.user, photo.event):
            raise Http404
    try:
        handle = photo.image.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    name = photo.image.name.lower()
    response = FileResponse(handle, content_type="image/png" if name.endswith(".png") else "image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the office ------------------------------------------------------------------------------------


def _office_community(request, code) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None or not svc.may_create(request.user, community):
        raise Http404
    return community


def _office_event(request, code, pk) -> Event:
    community = _office_community(request, code)
    event = (Event.objects.filter(community=community, pk=pk)
             .select_related("community", "room_booking__room", "staff_activity").first())
    if event is None or not svc.may_run_event(request.user, event):
        raise Http404
    return event


@require_safe
@staff_page(PERM)
def office_events(request, code):
    community = _office_community(request, code)
    show = request.GET.get("show", "coming")
    qs = Event.objects.filter(community=community)
    if show == "coming":
        qs = qs.filter(ends_at__gt=timezone.now()).order_by("starts_at", "id")
    else:
        show = "all"
        qs = qs.order_by("-starts_at", "-id")
    events = list(qs[:200])
    waiting = dict(EventSignup.objects.filter(event__in=events, status=S.WAITING).values("event_id")
                   .annotate(n=Count("id")).values_list("event_id", "n"))
    rows = [{"event": e, "audience": audience_words(e.audience), "waiting": waiting.get(e.pk, 0)} for e in events]
    return render(request, "services/events_office.html", {"community": community, "rows": rows, "show": show})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_event_new(request, code):
    community = _office_community(request, code)
    room_qs = Room.objects.filter(community=community, active=True).order_by("name", "id")
    status = 200
    if request.method == "POST":
        form = EventForm(request.POST, rooms=room_qs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = svc.event_create(
                    actor=request.user, community=community, title=data["title"], audience=data["audience"],
                    starts_at=data["starts_at"], ends_at=data["ends_at"], capacity=data["capacity"],
                    place=data["place"], room=data["room"], min_age=data["min_age"], max_age=data["max_age"],
                    staff_slots=data["staff_slots"] or 0, description=data["description"],
                    signup_closes_at=data["signup_closes_at"])
            except LinliError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("The activity is on the residents' calendar."))
                return redirect("services:office_event", code=community.code, pk=event.pk)
        else:
            status = 400
    else:
        form = EventForm(rooms=room_qs)
    return render(request, "services/event_new.html", {"community": community, "form": form}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_event(request, code, pk):
    event = _office_event(request, code, pk)
    status = 200
    summary_form = SummaryForm(initial={"summary": event.summary})
    photo_form = PhotoForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "check_in":
                signup = EventSignup.objects.filter(event=event, pk=request.POST.get("signup") or 0).first()
                if signup is None:
                    raise Http404
                svc.check_in(actor=request.user, event=event, resident=signup.resident)
                messages.success(request, _("Checked in."))
            elif action == "cancel_signup":
                signup = EventSignup.objects.filter(event=event, pk=request.POST.get("signup") or 0).first()
                if signup is None:
                    raise Http404
                svc.cancel_signup(actor=request.user, signup=signup)
                messages.success(request, _("The sign-up is cancelled; the waiting list moved up where places allow."))
            elif action == "cancel":
                svc.event_cancel(actor=request.user, event=event)
                messages.success(request, _("The activity is cancelled; everyone signed up is told."))
            elif action == "summary":
                summary_form = SummaryForm(request.POST)
                svc.summarise(actor=request.user, event=event,
                              summary=summary_form.cleaned_data["summary"] if summary_form.is_valid()
                              else request.POST.get("summary", ""))
                messages.success(request, _("The summary is saved and shown on the activity's page."))
            elif action == "photo":
                photo_form = PhotoForm(request.POST, request.FILES)
                if not photo_form.is_valid():
                    raise InvalidInput(_("Pick a photo to upload."), code="photo_required", field="image")
                svc.add_photo(actor=request.user, event=event, image=photo_form.cleaned_data["image"],
                              caption=photo_form.cleaned_data["caption"])
                messages.success(request, _("The photo is added."))
            else:
                raise Http404
            return redirect(request.path)
        except LinliError as exc:
            messages.error(request, exc.message)
            status = exc.status
            event.refresh_from_db()
    signups = list(EventSignup.objects.filter(event=event).select_related("resident").order_by("created_at", "id"))
    now = timezone.now()
    return render(request, "services/event_office.html", {
        "community": event.community, "event": event, "audience": audience_words(event.audience),
        "ages": svc.age_range_text(event), "left": svc.places_left(event),
        "confirmed": [s for s in signups if s.status in (S.CONFIRMED, S.ATTENDED)],
        "waiting": [s for s in signups if s.status == S.WAITING],
        "cancelled": [s for s in signups if s.status == S.CANCELLED],
        "people_in": sum(s.party_size for s in signups if s.status == S.ATTENDED),
        "photos": list(event.photos.all()), "summary_form": summary_form, "photo_form": photo_form,
        "started": event.starts_at <= now, "over": event.ends_at <= now,
        "checkin_open": event.status == Event.Status.OPEN and event.starts_at - svc.CHECK_IN_EARLY <= now <= event.ends_at,
        "summary": svc.shown_summary(event) if event.summary else "",
    }, status=status)


def _qr_context(event, request) -> dict:
    code = qr.code_for(event, purpose="in")
    url = request.build_absolute_uri(reverse("services:event_scan", args=[event.pk, code]))
    return {
        "svg": segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff",
                                                     title=_("Scan to check in")),
        "checked_in": EventSignup.objects.filter(event=event, status=S.ATTENDED).count(),
        "seconds": qr.seconds_left(),
    }


@require_safe
@staff_page(PERM)
def event_qr(request, code, pk):
    event = _office_event(request, code, pk)
    context = _qr_context(event, request)
    context.update({"event": event, "state_url": reverse("services:event_qr_state", args=[code, pk])})
    return render(request, "services/event_qr.html", context)


@require_safe
@staff_page(PERM)
def event_qr_state(request, code, pk):
    event = _office_event(request, code, pk)
    return JsonResponse(_qr_context(event, request))

