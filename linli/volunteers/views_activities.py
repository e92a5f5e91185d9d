"""Pages of the activities (docs/volunteers.md, "Activities, sign-up and suggestions").

Residents (phone-sized, large-text aware, no script): the open activities of their community
(``volunteers:activities``) and one activity with sign-up / withdraw as plain POST forms
(``volunteers:activity``). The office, under ``<code>/office/activities/``: the list
(``volunteers:office_activities``), a new activity, optionally for a need
(``volunteers:office_activity_new``, ``?need=<id>``), and the organiser's page
(``volunteers:office_activity``: sign-ups, the waiting list, suggestions with their reasons,
invite, cancel, mark done). A refusal is shown in words with the error's status; nothing changes.
Names on the office pages are masked (the reveal-with-audit path is the registry's).
"""

from __future__ import annotations

import rules as django_rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Community, Grid, StaffRole
from linli.community.scope import scope_of
from linli.core.errors import LinliError
from linli.core.web import no_store, staff_page

from . import activities as svc
from . import rules, suggest
from . import skills as vocab
from .forms_activities import ActivityForm, InviteForm
from .models import Activity, Need, Signup, Volunteer

R = StaffRole.Role
ORGANISER_ROLES = {R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.PARTY_SECRETARY, R.GRID_WORKER, R.BUILDING_LEADER}
PERM = "volunteers.organise_activities"


@django_rules.predicate
def organises_anywhere(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return any(roles & ORGANISER_ROLES for roles in scope_of(user).roles.values())


django_rules.add_perm(PERM, organises_anywhere)


def _labels(table, codes) -> list[str]:
    return [str(vocab.label(table, c)) for c in codes]


def _annotated(qs):
    return qs.annotate(confirmed=Count("signups", filter=Q(signups__status=Signup.Status.CONFIRMED)),
                       waiting=Count("signups", filter=Q(signups__status=Signup.Status.WAITING)))


# --- residents -----------------------------------------------------------------------------------


def _volunteer_of(resident):
    return Volunteer.objects.filter(resident=resident).first() if resident is not None else None


@require_http_methods(["GET", "HEAD"])
@login_required
@no_store
def activity_list(request):
    resident = rules.resident_of(request.user)
    if resident is None:
        return render(request, "volunteers/activities.html", {"resident": None, "rows": []})
    volunteer = _volunteer_of(resident)
    now = timezone.now()
    items = list(_annotated(Activity.objects.filter(community_id=resident.community_id, status=Activity.Status.OPEN,
                                                    starts_at__gt=now))
                 .select_related("grid").order_by("starts_at", "id")[:100])
    mine = {}
    if volunteer is not None:
        mine = dict(Signup.objects.filter(volunteer=volunteer, activity__in=items).exclude(status=Signup.Status.WITHDRAWN)
                    .values_list("activity_id", "status"))
    rows = [{"activity": a, "left": max(0, a.slots - a.confirmed), "skills": _labels(vocab.SKILLS, a.skills),
             "type": vocab.label(vocab.ACTIVITY_TYPES, a.activity_type), "mine": mine.get(a.pk)} for a in items]
    return render(request, "volunteers/activities.html", {"resident": resident, "volunteer": volunteer, "rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def activity_detail(request, pk):
    resident = rules.resident_of(request.user)
    activity = Activity.objects.filter(pk=pk).select_related("grid", "community").first()
    if resident is None or activity is None or activity.community_id != resident.community_id:
        raise Http404
    volunteer = _volunteer_of(resident)
    error, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if volunteer is None:
                raise Http404
            if action == "signup":
                row = svc.signup(actor=request.user, activity=activity, volunteer=volunteer)
                messages.success(request, _("You are signed up.") if row.status == Signup.Status.CONFIRMED
                                 else _("The activity is full: you are on the waiting list and will be told "
                                        "if a place comes free."))
                return redirect(request.path)
            if action == "withdraw":
                row = Signup.objects.filter(activity=activity, volunteer=volunteer).first()
                if row is None:
                    raise Http404
                svc.withdraw(actor=request.user, signup=row)
                messages.success(request, _("You are no longer signed up. Thank you for telling us."))
                return redirect(request.path)
            raise Http404
        except LinliError as exc:
            error, status = exc.message, exc.status
            activity.refresh_from_db()
    mine = Signup.objects.filter(activity=activity, volunteer=volunteer).first() if volunteer else None
    if mine is not None and mine.status == Signup.Status.WITHDRAWN:
        mine = None
    left = svc.places_left(activity)
    now = timezone.now()
    return render(request, "volunteers/activity.html", {
        "activity": activity, "volunteer": volunteer, "mine": mine, "left": left, "error": error,
        "skills": _labels(vocab.SKILLS, activity.skills),
        "type": vocab.label(vocab.ACTIVITY_TYPES, activity.activity_type),
        "open": activity.status == Activity.Status.OPEN and activity.starts_at > now,
        "position": (Signup.objects.filter(activity=activity, status=Signup.Status.WAITING,
                                           created_at__lte=mine.created_at).count()
                     if mine is not None and mine.status == Signup.Status.WAITING else None),
    }, status=status)


# --- the office ----------------------------------------------------------------------------------


def _community(request, code) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None or not rules.may_organise(request.user, community):
        raise Http404
    return community


def _visible(user, community):
    """The activities this account may run in the community."""
    qs = Activity.objects.filter(community=community)
    grids = rules.office_grids(user, community)
    if grids is None:
        return qs
    places = rules.grids_of(user, community) | rules.building_grids_of(user, community)
    return qs.filter(Q(grid_id__in=places) | Q(organiser=user))


def _grids_for(user, community):
    grids = Grid.objects.filter(community=community).order_by("code")
    if rules.office_grids(user, community) is None:
        return grids
    return grids.filter(pk__in=rules.grids_of(user, community) | rules.building_grids_of(user, community))


@require_http_methods(["GET", "HEAD"])
@staff_page(PERM)
def office_activities(request, code):
    community = _community(request, code)
    show = request.GET.get("show", "open")
    qs = _annotated(_visible(request.user, community)).select_related("grid", "need")
    if show == "open":
        qs = qs.filter(status=Activity.Status.OPEN).order_by("starts_at", "id")
    else:
        show = "all"
        qs = qs.order_by("-starts_at", "-id")
    return render(request, "volunteers/office_activities.html", {
        "community": community, "activities": list(qs[:200]), "show": show, "here": "activities",
        "may_manage": rules.may_manage(request.user, community), "may_list": rules.may_see_volunteers(request.user, community),
        "may_organise": True})


def _need_of(request, community):
    raw = request.GET.get("need") or request.POST.get("need") or ""
    if not str(raw).isdigit():
        return None
    need = Need.objects.filter(community=community, pk=int(raw)).select_related("grid").first()
    if need is None or not rules.may_organise(request.user, community, need.grid_id):
        raise Http404
    return need


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_activity_new(request, code):
    community = _community(request, code)
    need = _need_of(request, community)
    grids, teams = _grids_for(request.user, community), svc.team_choices(community)
    status = 200
    if request.method == "POST":
        form = ActivityForm(request.POST, grids=grids, teams=teams)
        if form.is_valid():
            data = form.cleaned_data
            try:
                activity = svc.activity_create(
                    actor=request.user, community=community, title=data["title"], activity_type=data["activity_type"],
                    starts_at=data["starts_at"], ends_at=data["ends_at"], slots=data["slots"], place=data["place"],
                    skills=data["skills"], multipliers=data["multipliers"], need=need, team=data["team"],
                    grid=data["grid"], description=data["description"])
            except LinliError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("The activity is open for sign-up."))
                return redirect("volunteers:office_activity", code=community.code, pk=activity.pk)
        else:
            status = 400
    else:
        initial = {"slots": 2}
        if need is not None:
            initial.update(title=need.title, activity_type=need.activity_type, description=need.description,
                           grid=need.grid, need=need.pk,
                           skills=list(vocab.SKILLS_FOR_TYPE.get(need.activity_type, ())))
        form = ActivityForm(initial=initial, grids=grids, teams=teams)
    return render(request, "volunteers/office_activity_new.html",
                  {"community": community, "form": form, "need": need}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_activity(request, code, pk):
    community = _community(request, code)
    activity = Activity.objects.filter(community=community, pk=pk).select_related("grid", "need", "team").first()
    if activity is None or not rules.may_run_activity(request.user, activity):
        raise Http404
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "invite":
                form = InviteForm(request.POST)
                volunteer = (Volunteer.objects.filter(community=community, pk=form.cleaned_data["volunteer"]).first()
                             if form.is_valid() else None)
                if volunteer is None:
                    raise Http404
                svc.invite(actor=request.user, activity=activity, volunteer=volunteer)
                messages.success(request, _("The volunteer is invited and will be told."))
            elif action == "cancel":
                svc.activity_cancel(actor=request.user, activity=activity)
                messages.success(request, _("The activity is cancelled; its volunteers are told."))
            elif action == "done":
                svc.activity_done(actor=request.user, activity=activity)
                messages.success(request, _("The activity is marked as done."))
            else:
                raise Http404
            return redirect(request.path)
        except LinliError as exc:
            messages.error(request, str(exc.message))
            status = exc.status
            activity.refresh_from_db()
    signups = list(Signup.objects.filter(activity=activity).select_related("volunteer__resident", "volunteer__grid")
                   .order_by("created_at", "id"))
    groups = {s: [row for row in signups if row.status == s] for s in Signup.Status.values}
    is_open = activity.status == Activity.Status.OPEN
    suggestions = suggest.suggest(activity) if is_open and activity.starts_at > timezone.now() else []
    invited, listed = set(), set()
    if suggestions:
        listed = set(rules.volunteers_visible(request.user, community)
                     .filter(pk__in=[x.volunteer.pk for x in suggestions]).values_list("pk", flat=True))
        from linli.core.models import Event

        invited = {int(v) for v in Event.objects.filter(verb="volunteers.invited", target_type="volunteers.activity",
                                                           target_id=str(activity.pk))
                   .values_list("data__volunteer", flat=True) if v is not None}
    return render(request, "volunteers/office_activity.html", {
        "community": community, "activity": activity, "confirmed": groups[Signup.Status.CONFIRMED],
        "waiting": groups[Signup.Status.WAITING], "withdrawn": groups[Signup.Status.WITHDRAWN],
        "left": max(0, activity.slots - len(groups[Signup.Status.CONFIRMED])),
        # A suggested volunteer's (masked) name only for who may list the volunteers of their
        # courtyard (a building leader sees the courtyard and the reasons, and may invite).
        "suggestions": [{"s": s, "invited": s.volunteer.pk in invited,
                         "name": str(s.volunteer.resident.name) if s.volunteer.pk in listed else ""}
                        for s in suggestions],
        "skills": _labels(vocab.SKILLS, activity.skills), "multipliers": _labels(svc.MULTIPLIERS, activity.multipliers),
        "type": vocab.label(vocab.ACTIVITY_TYPES, activity.activity_type), "is_open": is_open,
        "new_url": reverse("volunteers:office_activity_new", kwargs={"code": community.code}),
    }, status=status)
