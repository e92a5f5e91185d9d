"""The people pages (docs/volunteers.md): a resident's "Volunteer with us" page and a guardian's
consent page; the office's volunteers list, teams and needs board under
``/volunteers/<code>/office/``.

Who may: linli/volunteers/rules.py. A community outside the account's reach, or a row outside
the account's grids, answers 404; a refused service is the refusal page with its status.
Names are masked everywhere here (张*明); the office opens a name through the registry's
audited reveal on the resident's page, never here.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from linli.community.models import Community, Grid
from linli.core.errors import LinliError
from linli.core.masking import scrub
from linli.core.web import no_store, staff_page
from linli.voting.web import refuse

from . import needs as needs_service
from . import rules, teams as teams_service
from . import volunteers as people
from .forms_people import (
    AskForm, CaseHandForm, JoinForm, LeaveForm, MemberForm, NeedFilterForm, NeedForm, ReasonForm, TeamForm,
)
from .models import Membership, Need, Team, Volunteer
from .skills import ACTIVITY_TYPES, AVAILABILITY, SKILLS, label
from .workflow import NEED

PERM = rules.OFFICE_PERM
PAGE_SIZE = 50


def _labels(table, codes):
    return [label(table, code) for code in codes or ()]


# --- residents ------------------------------------------------------------------------------------


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def join(request):
    """Join, or change one's offer; pause, resume or leave. Only for an account of a resident."""
    resident = rules.resident_of(request.user)
    if resident is None:
        return render(request, "volunteers/join_no_resident.html", status=403)
    volunteer = Volunteer.objects.filter(resident=resident).select_related("grid", "guardian").first()
    active = volunteer is not None and volunteer.status != Volunteer.Status.LEFT
    minor = people.is_minor(resident)
    guardians = people.guardians_for(resident) if minor else []
    initial = {"grid": resident.grid_id}
    if active:
        initial = {"skills": volunteer.skills, "availability": volunteer.availability, "grid": volunteer.grid_id,
                   "honour_opt_in": volunteer.honour_opt_in, "guardian": volunteer.guardian_id}
    form = JoinForm(request.POST if request.POST.get("action") == "save" else None, initial=initial,
                    resident=resident, minor=minor, guardians=guardians)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "save":
                if form.is_valid():
                    data = form.cleaned_data
                    if active:
                        people.volunteer_update(actor=request.user, volunteer=volunteer, skills=data["skills"],
                                                availability=data["availability"], grid=data["grid"],
                                                guardian=data.get("guardian"), honour_opt_in=data["honour_opt_in"])
                        messages.success(request, _("Your offer is saved. Thank you."))
                    else:
                        people.volunteer_join(actor=request.user, resident=resident, skills=data["skills"],
                                              availability=data["availability"], grid=data["grid"],
                                              guardian=data.get("guardian"), honour_opt_in=data["honour_opt_in"])
                        messages.success(request, _("Welcome! You are a volunteer of your community."))
                    return redirect("volunteers:join")
            elif action in ("pause", "resume") and active:
                new = Volunteer.Status.PAUSED if action == "pause" else Volunteer.Status.ACTIVE
                people.volunteer_update(actor=request.user, volunteer=volunteer, status=new)
                messages.success(request, _("You are taking a break.") if action == "pause"
                                 else _("Welcome back."))
                return redirect("volunteers:join")
            elif action == "leave" and active:
                leave = LeaveForm(request.POST)
                if leave.is_valid():
                    people.volunteer_leave(actor=request.user, volunteer=volunteer)
                    messages.success(request, _("You have left the volunteers. You are welcome back any time."))
                    return redirect("volunteers:join")
                messages.error(request, _("Tick the box to confirm that you want to stop."))
                return redirect("volunteers:join")
            else:
                raise Http404
        except LinliError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=reverse("volunteers:join"))
    minutes = people.minutes_served([volunteer.pk]).get(volunteer.pk, 0) if active else 0
    return render(request, "volunteers/join.html", {
        "form": form, "volunteer": volunteer if active else None, "resident": resident, "minor": minor,
        "guardians": guardians, "needs_consent": active and people.needs_consent(volunteer),
        "leave_form": LeaveForm(), "hours": round(minutes / 60, 1),
        "teams": list(volunteer.memberships.select_related("team")) if active else [],
        "skill_labels": _labels(SKILLS, volunteer.skills) if active else [],
    })


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def consent(request):
    """A guardian's page: the young volunteers of their household who wait for their consent."""
    resident = rules.resident_of(request.user)
    if resident is None:
        raise Http404
    waiting = list(Volunteer.objects.filter(guardian=resident).exclude(status=Volunteer.Status.LEFT)
                   .select_related("resident").order_by("id"))
    if request.method == "POST":
        raw = request.POST.get("volunteer") or ""
        volunteer = next((v for v in waiting if raw.isdigit() and v.pk == int(raw)), None)
        if volunteer is None:
            raise Http404
        try:
            people.guardian_consent(actor=request.user, volunteer=volunteer)
        except LinliError as exc:
            return refuse(request, exc, back=reverse("volunteers:consent"))
        messages.success(request, _("Thank you: your consent is recorded."))
        return redirect("volunteers:consent")
    rows = [{"volunteer": v, "name": str(v.resident.name or ""), "skills": _labels(SKILLS, v.skills),
             "availability": _labels(AVAILABILITY, v.availability)} for v in waiting]
    return render(request, "volunteers/join_consent.html", {"rows": rows})


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def ask(request):
    """A resident asks neighbours for help: a need of source "resident" for their household, on
    the office's board; they see their own requests and what became of them."""
    resident = rules.resident_of(request.user)
    if resident is None:
        return render(request, "volunteers/join_no_resident.html", status=403)
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            needs_service.need_post(actor=request.user, community=resident.community, source=Need.Source.RESIDENT,
                                    **form.cleaned_data)
        except LinliError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=reverse("volunteers:ask"))
        else:
            messages.success(request, _("Your request is with the community office. Thank you."))
            return redirect("volunteers:ask")
    mine = Need.objects.filter(requested_by=request.user, source=Need.Source.RESIDENT).order_by("-created_at")[:20]
    return render(request, "volunteers/needs_ask.html", {
        "form": form, "mine": [{"need": n, "type": label(ACTIVITY_TYPES, n.activity_type)} for n in mine]})


# --- the office -----------------------------------------------------------------------------------


def _community(request, code, allowed=rules.may_use_office) -> Community:
    community = Community.objects.select_related("street").filter(code=code).first()
    if community is None or not allowed(request.user, community):
        raise Http404
    return community


def _grids(user, community):
    scope = rules.office_grids(user, community)
    qs = Grid.objects.filter(community=community).order_by("code")
    return qs if scope is None else qs.filter(pk__in=scope)


def _nav(user, community) -> dict:
    return {"community": community, "may_manage": rules.may_manage(user, community),
            "may_teams": rules.may_manage_teams(user, community),
            "may_list": rules.may_see_volunteers(user, community),
            "may_organise": rules.may_organise(user, community)}


def _counts(community) -> dict:
    return {
        "volunteers": Volunteer.objects.filter(community=community, status=Volunteer.Status.ACTIVE).count(),
        "paused": Volunteer.objects.filter(community=community, status=Volunteer.Status.PAUSED).count(),
        "teams": Team.objects.filter(community=community, active=True).count(),
        "open_needs": Need.objects.filter(community=community, status=Need.Status.OPEN).count(),
        "planned_needs": Need.objects.filter(community=community, status=Need.Status.PLANNED).count(),
    }


@staff_page(PERM)
def office_index(request):
    communities = rules.office_communities(request.user)
    if len(communities) == 1:
        return redirect("volunteers:office", code=communities[0].code)
    return render(request, "volunteers/office_index.html", {"communities": communities})


@staff_page(PERM)
def office(request, code):
    """The volunteers: counts for everyone who reaches the office; the list (masked names,
    skills, teams, hours in the last 90 days) for those who may see volunteers."""
    community = _community(request, code)
    context = {**_nav(request.user, community), "counts": _counts(community)}
    if context["may_list"]:
        qs = (rules.volunteers_visible(request.user, community).exclude(status=Volunteer.Status.LEFT)
              .select_related("resident", "grid")
              .prefetch_related(Prefetch("memberships", queryset=Membership.objects.select_related("team")))
              .order_by("grid__code", "id"))
        skill = request.GET.get("skill", "")
        if skill in dict(SKILLS):
            if _json_contains():
                qs = qs.filter(skills__contains=[skill])
            else:  # SQLite: pick the ids by their lists, before paging
                qs = qs.filter(pk__in=[pk for pk, codes in qs.values_list("pk", "skills") if skill in (codes or ())])
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        minutes = people.minutes_served(v.pk for v in rows)
        context.update({
            "page": page, "skill": skill, "skills": SKILLS,
            "url_params": f"skill={skill}" if skill else "",
            "rows": [{"volunteer": v, "name": str(v.resident.name or "—"), "skills": _labels(SKILLS, v.skills),
                      "teams": [m for m in v.memberships.all()], "hours": round(minutes.get(v.pk, 0) / 60, 1),
                      "consent": people.needs_consent(v)} for v in rows],
        })
    return render(request, "volunteers/office.html", context)


def _json_contains() -> bool:
    """Whether the database filters JSON lists by containment (PostgreSQL; SQLite does not)."""
    from django.db import connection

    return connection.features.supports_json_field_contains


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_volunteer(request, code, pk):
    community = _community(request, code, rules.may_see_volunteers)
    volunteer = (rules.volunteers_visible(request.user, community).filter(pk=pk)
                 .select_related("resident", "grid", "guardian").first())
    if volunteer is None:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") != "consent" or not rules.is_office(request.user, community):
            raise Http404
        try:
            people.guardian_consent(actor=request.user, volunteer=volunteer)
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
        messages.success(request, _("The guardian's consent is recorded."))
        return redirect(request.path)
    minutes = people.minutes_served([volunteer.pk]).get(volunteer.pk, 0)
    return render(request, "volunteers/office_volunteer.html", {
        **_nav(request.user, community), "volunteer": volunteer, "name": str(volunteer.resident.name or "—"),
        "skills": _labels(SKILLS, volunteer.skills), "availability": _labels(AVAILABILITY, volunteer.availability),
        "hours": round(minutes / 60, 1), "minor": people.is_minor(volunteer.resident),
        "needs_consent": people.needs_consent(volunteer), "may_consent": rules.is_office(request.user, community),
        "memberships": list(volunteer.memberships.select_related("team")),
        "resident_url": _resident_url(request.user, volunteer.resident),
    })


def _resident_url(user, resident):
    """The registry's page of the resident (where the audited reveal is), if the viewer sees it."""
    from linli.community.rules import may_reveal_resident

    if not may_reveal_resident(user, resident):
        return ""
    return reverse("resident_detail", kwargs={"pk": resident.pk})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_teams(request, code):
    community = _community(request, code, rules.may_see_volunteers)
    may_teams = rules.may_manage_teams(request.user, community)
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        if not may_teams:
            raise Http404
        if form.is_valid():
            try:
                team = teams_service.team_create(actor=request.user, community=community, **form.cleaned_data)
            except LinliError as exc:
                if exc.field in form.fields:
                    form.add_error(exc.field, str(exc.message))
                else:
                    return refuse(request, exc, back=request.path)
            else:
                messages.success(request, _("The team is created."))
                return redirect("volunteers:office_team", code=code, pk=team.pk)
    teams = (Team.objects.filter(community=community).annotate(members=Count("memberships"))
             .prefetch_related(Prefetch("memberships", queryset=Membership.objects.filter(role="leader")
                                        .select_related("volunteer__resident"), to_attr="leaders"))
             .order_by("-active", "name"))
    rows = [{"team": t, "leaders": [str(m.volunteer.resident.name or "—") for m in t.leaders]} for t in teams]
    return render(request, "volunteers/team_list.html", {**_nav(request.user, community), "rows": rows,
                                                            "form": form})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_team(request, code, pk):
    community = _community(request, code, rules.may_see_volunteers)
    team = Team.objects.filter(community=community, pk=pk).first()
    if team is None:
        raise Http404
    may_teams = rules.may_manage_teams(request.user, community)
    visible = rules.volunteers_visible(request.user, community)
    candidates = [(v, f"{v.resident.name or '—'} · {v.grid.name}") for v in
                  visible.filter(status=Volunteer.Status.ACTIVE).exclude(memberships__team=team)
                  .select_related("resident", "grid").order_by("grid__code", "id")[:500]]
    form = MemberForm(request.POST if request.POST.get("action") == "add" else None, volunteers=candidates)
    if request.method == "POST":
        if not may_teams:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "add":
                if form.is_valid():
                    volunteer = visible.get(pk=form.cleaned_data["volunteer"])
                    teams_service.team_add(actor=request.user, team=team, volunteer=volunteer,
                                           role=form.cleaned_data["role"])
                    messages.success(request, _("The volunteer is in the team."))
                    return redirect(request.path)
            elif action in ("remove", "leader", "member"):
                raw = request.POST.get("volunteer") or ""
                volunteer = visible.filter(pk=int(raw)).first() if raw.isdigit() else None
                if volunteer is None:
                    raise Http404
                if action == "remove":
                    teams_service.team_remove(actor=request.user, team=team, volunteer=volunteer)
                    messages.success(request, _("The volunteer is no longer in the team."))
                else:
                    teams_service.team_add(actor=request.user, team=team, volunteer=volunteer, role=action)
                    messages.success(request, _("The role is changed."))
                return redirect(request.path)
            elif action in ("retire", "revive"):
                teams_service.team_update(actor=request.user, team=team, active=action == "revive")
                return redirect(request.path)
            else:
                raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
    members = list(team.memberships.select_related("volunteer__resident", "volunteer__grid")
                   .order_by("-role", "id"))
    return render(request, "volunteers/team_detail.html", {
        **_nav(request.user, community), "team": team, "form": form,
        "members": [{"m": m, "name": str(m.volunteer.resident.name or "—")} for m in members]})


def _needs_visible(user, community):
    qs = Need.objects.filter(community=community)
    scope = rules.office_grids(user, community)
    if scope is None:
        return qs
    return qs.filter(grid_id__in=scope) if scope else qs.none()


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_needs(request, code):
    """The needs board: filters (source, status, grid, kind of help), a new need, proposals
    from the confirmed household need tags."""
    community = _community(request, code, rules.may_manage)
    grids = list(_grids(request.user, community))
    whole = rules.office_grids(request.user, community) is None
    form = NeedForm(request.POST if request.POST.get("action") == "post" else None,
                    grids=_grids(request.user, community))
    if not whole:
        form.fields["grid"].required = True
        form.fields["grid"].empty_label = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "post":
                if form.is_valid():
                    need = needs_service.need_post(actor=request.user, community=community, source=Need.Source.STAFF,
                                                   **form.cleaned_data)
                    messages.success(request, _("The need is on the board."))
                    return redirect("volunteers:office_need", code=code, pk=need.pk)
            elif action == "from_tags" and whole:
                made = needs_service.needs_from_tags(community=community, actor=request.user)
                messages.success(request, ngettext("%(n)d new need from household need tags.",
                                                   "%(n)d new needs from household need tags.",
                                                   len(made)) % {"n": len(made)})
                return redirect(request.path)
            else:
                raise Http404
        except LinliError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, str(exc.message))
            else:
                return refuse(request, exc, back=request.path)
    filters = NeedFilterForm(request.GET or None, grids=grids)
    qs = _needs_visible(request.user, community).select_related("grid")
    status = ""
    if filters.is_valid():
        data = filters.cleaned_data
        status = data.get("status") or ""
        if data.get("source"):
            qs = qs.filter(source=data["source"])
        if data.get("grid"):
            qs = qs.filter(grid_id=data["grid"])
        if data.get("activity_type"):
            qs = qs.filter(activity_type=data["activity_type"])
    if status == "":
        qs = qs.filter(status__in=(Need.Status.OPEN, Need.Status.PLANNED))
    elif status != "all":
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "volunteers/needs_board.html", {
        **_nav(request.user, community), "form": form, "filters": filters, "page": page, "whole": whole,
        "url_params": params.urlencode(),
        "rows": [{"need": n, "type": label(ACTIVITY_TYPES, n.activity_type)} for n in page.object_list]})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_need(request, code, pk):
    community = _community(request, code, rules.may_manage)
    need = _needs_visible(request.user, community).filter(pk=pk).select_related("grid", "case").first()
    if need is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "close":
                needs_service.need_close(actor=request.user, need=need)
                messages.success(request, _("The need is closed."))
            elif action == "decline":
                reason = ReasonForm(request.POST)
                if not reason.is_valid():
                    messages.error(request, _("Say why, in a few words."))
                    return redirect(request.path)
                needs_service.need_decline(actor=request.user, need=need, reason=reason.cleaned_data["reason"])
                messages.success(request, _("The need is declined; the reason is kept with it."))
            else:
                raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
        return redirect(request.path)
    moves = NEED.allowed(request.user, need)
    may_plan = need.status == Need.Status.OPEN and NEED.actor_may(request.user, need, "organise")
    return render(request, "volunteers/needs_detail.html", {
        **_nav(request.user, community), "need": need, "type": label(ACTIVITY_TYPES, need.activity_type),
        "description": scrub(need.description, doors=True), "moves": moves, "reason_form": ReasonForm(),
        "may_plan": may_plan, "activities": list(need.activities.order_by("starts_at")),
        "new_activity_url": (reverse("volunteers:office_activity_new", kwargs={"code": code}) + f"?need={need.pk}")
        if may_plan else ""})


@staff_page(PERM)
@require_POST
def office_case_hand(request, code, case_pk):
    """"Hand to volunteers" from the staff case page (the case panel, linli/volunteers/links.py)."""
    community = _community(request, code, rules.may_manage)
    from linli.cases.models import Case

    case = Case.objects.filter(community=community, pk=case_pk).select_related("community", "household").first()
    if case is None or not rules.may_manage(request.user, community, case.grid_id) or (
            case.grid_id is None and rules.office_grids(request.user, community) is not None):
        raise Http404
    form = CaseHandForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        need = needs_service.need_from_case(actor=request.user, case=case,
                                            activity_type=form.cleaned_data["activity_type"])
    except LinliError as exc:
        return refuse(request, exc, back=request.META.get("HTTP_REFERER") or reverse("volunteers:office_needs",
                                                                                   kwargs={"code": code}))
    messages.success(request, _("The case is on the volunteers' needs board."))
    return redirect("volunteers:office_need", code=code, pk=need.pk)
