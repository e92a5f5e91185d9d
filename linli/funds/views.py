"""The fund's pages (namespace ``funds``, mounted at ``/funds/``; docs/funds.md, "Pages").

Residents' pages (phone-sized, no script needed): the community's calls, a call with its
phases, its projects on the ballot, the result and the projects' progress; submitting, editing
and withdrawing one's own project; a project's page (its review note for its proposer, its
milestones with photos, its money from the books, its acceptance). Staff pages under
``office/``: new call, a call's phases and actions, a project's review, start, milestones,
spending and acceptance. Views parse, authorise, call one service and render; a refused
action renders ``voting/refused.html`` with its status (``linli.voting.web.refuse``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from linli.books.money import format_fen
from linli.community.models import Community, Resident
from linli.core.errors import InvalidInput, LinliError, PermissionDenied
from linli.core.masking import scrub
from linli.core.web import no_store, staff_page
from linli.voting import phases
from linli.voting.web import refuse

from . import rules, selectors, services
from .forms import (AcceptanceForm, CallForm, MilestoneForm, OverrideForm, ProjectForm, ReviewForm, SelectForm,
                    SpendingForm)
from .models import Call, MilestonePhoto, Project
from .workflow import PROJECT

P = Project.State


def _community(code: str) -> Community:
    return get_object_or_404(Community, code=code)


def _call(community, call_id) -> Call:
    return get_object_or_404(Call.objects.select_related("process", "community"), pk=call_id, community=community)


def _project(community, project_id) -> Project:
    return get_object_or_404(Project.objects.select_related("call__process", "call__community"),
                             pk=project_id, call__community=community)


def _form_error(form, error: InvalidInput) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


def _ballot_url(call) -> str:
    if call.vote_id is None:
        return ""
    try:
        return reverse("voting:ballot", args=[call.community.code, call.vote_id])
    except NoReverseMatch:
        return ""


def _results_url(call) -> str:
    if call.vote_id is None:
        return ""
    try:
        return reverse("voting:results", args=[call.community.code, call.vote_id])
    except NoReverseMatch:
        return ""


def _phase_rows(call):
    now = timezone.now()
    current = phases.current(call.process, now)
    return [{"phase": p, "current": current is not None and p.pk == current.pk, "past": p.ends_at <= now}
            for p in call.process.phases.all() if p.enabled], current


def _proposer_names(p: Project) -> list[str]:
    """The proposer's own name, from the registry: a proposer is shown as "a resident", never by
    name (docs/roles.md), so it is taken out of the words others read, where they typed it."""
    resident = Resident.objects.filter(user_id=p.proposer_id).first() if p.proposer_id else None
    name = resident.name.reveal() if resident is not None and hasattr(resident.name, "reveal") else ""
    return [name] if name else []


def _others_read(text: str, names) -> str:
    """Free text of a project as everyone but its proposer reads it: ID and phone numbers
    masked, doors and the proposer's name removed."""
    return scrub(text, names=names, remove_names=True, doors=True)


def _public_project(p: Project) -> dict:
    """What a resident who is not its proposer reads of a project (free text scrubbed)."""
    names = _proposer_names(p)
    return {"p": p, "title": _others_read(p.title, names), "place": _others_read(p.place, names),
            "beneficiaries": _others_read(p.beneficiaries, names),
            "cost": format_fen(p.cost_fen), "by": (scrub(p.proposer_name) if p.proposer_name
                                                     else p.get_proposer_kind_display())}


# ----------------------------------------------------------------------------------------------
# Residents' pages


@require_safe
def calls(request, code):
    community = _community(code)
    rows = []
    for call in selectors.calls(community).prefetch_related("process__phases"):
        rows.append({"call": call, "phase": phases.current(call.process), "budget": format_fen(call.budget_fen)})
    return render(request, "funds/calls.html", {"community": community, "rows": rows})


@require_safe
@no_store
def call_detail(request, code, call_id):
    community = _community(code)
    call = _call(community, call_id)
    phase_rows, current = _phase_rows(call)
    visible = list(selectors.visible_projects(request.user, call))
    mine = [p for p in visible if rules.is_proposer(request.user, p)]
    public = [_public_project(p) for p in visible if p.state in selectors.PUBLIC_STATES]
    chosen = [str(s) for s in call.selected]
    selected = sorted((r for r in public if str(r["p"].pk) in chosen), key=lambda r: chosen.index(str(r["p"].pk)))
    resident = rules.resident_of(request.user, call)
    return render(request, "funds/call.html", {
        "community": community, "call": call, "phase_rows": phase_rows, "current": current,
        "budget": format_fen(call.budget_fen), "mine": mine, "public": public, "selected": selected,
        "may_submit": current is not None and current.key == "submission" and resident is not None,
        "ballot_url": _ballot_url(call) if current is not None and current.key == "vote" else "",
        "results_url": _results_url(call), "office": rules.reads_office(request.user, community),
    })


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def project_new(request, code, call_id):
    community = _community(code)
    call = _call(community, call_id)
    back = reverse("funds:call", args=[code, call.pk])
    try:
        phases.require(call.process, "submission", action=gettext_lazy("submit a project"))
        if rules.resident_of(request.user, call) is None and not rules.works_calls(request.user, community):
            raise PermissionDenied(_("Only residents of the call's community (and courtyards) may "
                                              "submit projects."))
    except LinliError as e:
        return refuse(request, e, back=back)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_submit(actor=request.user, call=call, **form.service_kwargs())
        except InvalidInput as e:
            _form_error(form, e)
        except LinliError as e:
            return refuse(request, e, back=back)
        else:
            return redirect("funds:project", code, project.pk)
    return render(request, "funds/project_form.html", {"community": community, "call": call, "form": form,
                                                       "status": 400 if request.method == "POST" else 200},
                  status=400 if request.method == "POST" else 200)


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def project_edit(request, code, project_id):
    community = _community(code)
    project = _project(community, project_id)
    if not rules.is_proposer(request.user, project):
        raise Http404
    back = reverse("funds:project", args=[code, project.pk])
    form = ProjectForm(request.POST or None, initial=ProjectForm.initial_for(project))
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(actor=request.user, project=project, **form.service_kwargs())
        except InvalidInput as e:
            if e.code == "illegal_transition":
                return refuse(request, e, back=back)
            _form_error(form, e)
        except LinliError as e:
            return refuse(request, e, back=back)
        else:
            return redirect(back)
    elif request.method == "GET":
        try:
            phases.require(project.call.process, "submission", action=gettext_lazy("change a project"))
        except LinliError as e:
            return refuse(request, e, back=back)
    return render(request, "funds/project_form.html", {"community": community, "call": project.call,
                                                       "form": form, "project": project},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def project_withdraw(request, code, project_id):
    community = _community(code)
    project = _project(community, project_id)
    if not rules.is_proposer(request.user, project):
        raise Http404
    try:
        services.project_withdraw(actor=request.user, project=project)
    except LinliError as e:
        return refuse(request, e, back=reverse("funds:project", args=[code, project.pk]))
    return redirect("funds:call", code, project.call_id)


@require_safe
@no_store
def project_detail(request, code, project_id):
    community = _community(code)
    project = _project(community, project_id)
    if not selectors.may_see_project(request.user, project):
        raise Http404
    own = rules.is_proposer(request.user, project)
    office = rules.reads_office(request.user, community)
    money = selectors.project_money(project)
    milestones = [{"date": m.date, "progress": m.progress, "photos": list(m.photos.all()),
                   "title": scrub(m.title, doors=True), "note": scrub(m.note, doors=True)}
                  for m in project.milestones.prefetch_related("photos").order_by("date", "id")]
    acceptance = project.acceptances.order_by("-id").first()
    current = phases.current(project.call.process)
    return render(request, "funds/project.html", {
        "community": community, "call": project.call, "project": project, "view": _public_project(project),
        "own": own, "office": office, "show_review": own or office,
        "description": project.description if own else _others_read(project.description, _proposer_names(project)),
        "lines": [(scrub(line["item"], doors=True), format_fen(line["amount_fen"])) for line in project.budget_lines],
        "own_contribution": format_fen(project.own_contribution_fen),
        "received": format_fen(money.received), "spent": format_fen(money.spent),
        "milestones": milestones, "acceptance": acceptance,
        "acceptance_note": scrub(acceptance.note, doors=True) if acceptance else "",
        "may_edit": own and project.state == P.SUBMITTED and current is not None and current.key == "submission",
    })


@require_safe
def photo(request, code, photo_id):
    community = _community(code)
    item = get_object_or_404(MilestonePhoto.objects.select_related("milestone__project__call"), pk=photo_id,
                             milestone__project__call__community=community)
    if not selectors.may_see_project(request.user, item.milestone.project):
        raise Http404
    response = FileResponse(item.image.open("rb"), content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ----------------------------------------------------------------------------------------------
# Staff pages


def _office_community(request, code) -> Community:
    community = _community(code)
    if not rules.reads_office(request.user, community):
        raise Http404
    return community


@staff_page("funds.use_office")
@require_safe
def office_index(request):
    """The menu's link: the fund office of the account's (first) community."""
    from linli.community.scope import scope_of

    scope = scope_of(request.user)
    ids = scope.office_communities or set(Community.objects.filter(street_id__in=scope.streets)
                                          .values_list("pk", flat=True))
    community = Community.objects.filter(pk__in=ids).order_by("code").first()
    if community is None:
        raise Http404
    return redirect("funds:office", community.code)


@staff_page("funds.use_office")
@require_safe
def office(request, code):
    community = _office_community(request, code)
    rows = [{"call": c, "phase": phases.current(c.process), "budget": format_fen(c.budget_fen),
             "projects": c.projects.count()} for c in selectors.calls(community).prefetch_related("process__phases")]
    return render(request, "funds/office/calls.html", {
        "community": community, "rows": rows, "may_create": rules.runs_calls(request.user, community),
        "available": services.available_fen(community),
    })


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


@staff_page("funds.use_office")
@require_http_methods(["GET", "POST"])
def office_new(request, code):
    community = _office_community(request, code)
    if not rules.runs_calls(request.user, community):
        raise Http404
    today = timezone.localdate()
    initial = {"year": today.year, "ends": today + dt.timedelta(days=365)}
    for i, (key, _name) in enumerate(services.PHASES):
        initial[f"start_{key}"] = today + dt.timedelta(days=14 * i)
    form = CallForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            specs = services.phase_specs({k: _aware(d[f"start_{k}"]) for k, _n in services.PHASES},
                                         disabled=[k for k, _n in services.PHASES if d.get(f"off_{k}")])
            call = services.call_create(
                actor=request.user, community=community, year=d["year"], title=d["title"],
                description=d["description"], budget_fen=d["budget"], rule=d["rule"], ballot_kind=d["ballot_kind"],
                eligibility=d["eligibility"], min_votes=d["min_votes"], min_projects=d["min_projects"],
                max_projects=d["max_projects"], min_budget_share_percent=d["min_budget_share_percent"],
                specs=specs, ends_at=_aware(d["ends"]))
        except InvalidInput as e:
            _form_error(form, e)
        except LinliError as e:
            return refuse(request, e, back=reverse("funds:office", args=[code]))
        else:
            return redirect("funds:office_call", code, call.pk)
    return render(request, "funds/office/call_new.html", {
        "community": community, "form": form, "available": format_fen(services.available_fen(community) or 0)},
        status=400 if request.method == "POST" else 200)


@staff_page("funds.use_office")
@require_safe
def office_call(request, code, call_id):
    community = _office_community(request, code)
    call = _call(community, call_id)
    phase_rows, current = _phase_rows(call)
    projects = list(call.projects.order_by("pk"))
    on_ballot = [p for p in projects if p.state in (P.SELECTED, P.NOT_SELECTED)]
    return render(request, "funds/office/call.html", {
        "community": community, "call": call, "phase_rows": phase_rows, "current": current,
        "projects": projects, "budget": format_fen(call.budget_fen),
        "admin": rules.runs_calls(request.user, community),
        "override_form": OverrideForm(projects=on_ballot, initial={"selected": [str(s) for s in call.selected]}),
        "select_form": SelectForm(), "results_url": _results_url(call),
        "counts": {s: sum(1 for p in projects if p.state == s) for s in P.values},
    })


@staff_page("funds.use_office")
@require_POST
def office_call_action(request, code, call_id, action):
    community = _office_community(request, code)
    call = _call(community, call_id)
    back = reverse("funds:office_call", args=[code, call.pk])
    try:
        if action == "vote":
            services.vote_prepare(actor=request.user, call=call)
        elif action == "select":
            form = SelectForm(request.POST)
            form.is_valid()
            services.select(actor=request.user, call=call, force_reason=form.cleaned_data.get("force_reason", ""))
        elif action == "override":
            on_ballot = call.projects.filter(state__in=(P.SELECTED, P.NOT_SELECTED))
            form = OverrideForm(request.POST, projects=on_ballot)
            if not form.is_valid():
                raise InvalidInput(_("Choose among the projects that were on the ballot."), field="selected")
            services.override(actor=request.user, call=call, selected=form.cleaned_data["selected"],
                              reason=form.cleaned_data["reason"])
        elif action == "report":
            services.report_publish(actor=request.user, call=call)
        else:
            raise Http404
    except LinliError as e:
        return refuse(request, e, back=back)
    return redirect(back)


@staff_page("funds.use_office")
@require_safe
def office_project(request, code, project_id):
    community = _office_community(request, code)
    project = _project(community, project_id)
    return _office_project_page(request, community, project)


def _office_project_page(request, community, project, *, forms=None, status=200):
    forms = forms or {}
    money = selectors.project_money(project)
    current = phases.current(project.call.process)
    key = current.key if current is not None else ""
    today = timezone.localdate()
    proposed = sum(line["amount_fen"] for line in project.budget_lines)
    return render(request, "funds/office/project.html", {
        "community": community, "call": project.call, "project": project,
        "lines": [(line["item"], format_fen(line["amount_fen"])) for line in project.budget_lines],
        "proposed": format_fen(proposed), "cost": format_fen(project.cost_fen),
        "own_contribution": format_fen(project.own_contribution_fen),
        "money": {"received": format_fen(money.received), "spent": format_fen(money.spent),
                  "pending": format_fen(money.pending)},
        "vouchers": selectors.project_vouchers(project),
        "milestones": list(project.milestones.prefetch_related("photos")),
        "acceptances": list(project.acceptances.prefetch_related("members")),
        "works": rules.works_calls(request.user, community),
        "phase_key": key,
        "review_form": forms.get("review") or ReviewForm(initial={"eligible": "1"}),
        "milestone_form": forms.get("milestone") or MilestoneForm(initial={"date": today}),
        "spending_form": forms.get("spending") or SpendingForm(initial={"date": today}),
        "acceptance_form": forms.get("acceptance") or AcceptanceForm(initial={"date": today}),
        "may_review": key == "review" and project.state in PROJECT.move("review").sources,
        "may_start": key == "implementation" and project.state == P.SELECTED,
        "implementing": key == "implementation" and project.state == P.IMPLEMENTING,
        "may_accept": key == "acceptance" and project.state == P.IMPLEMENTING,
    }, status=status)


@staff_page("funds.use_office")
@require_POST
def office_project_action(request, code, project_id, action):
    community = _office_community(request, code)
    project = _project(community, project_id)
    back = reverse("funds:office_project", args=[code, project.pk])
    forms_by_action = {"review": ReviewForm, "milestone": MilestoneForm, "spending": SpendingForm,
                       "acceptance": AcceptanceForm}
    if action not in forms_by_action and action != "start":
        raise Http404
    form = forms_by_action[action](request.POST, request.FILES) if action != "start" else None
    try:
        if form is not None and not form.is_valid():
            return _office_project_page(request, community, project, forms={action: form}, status=400)
        d = form.cleaned_data if form is not None else {}
        if action == "review":
            services.project_review(actor=request.user, project=project, eligible=d["eligible"],
                                    reason=d.get("reason") or "", cost_fen=d.get("cost"))
        elif action == "start":
            services.project_start(actor=request.user, project=project)
        elif action == "milestone":
            services.milestone_record(actor=request.user, project=project, title=d["title"], date=d["date"],
                                      progress=d["progress"], note=d.get("note") or "",
                                      photos=request.FILES.getlist("photos"))
        elif action == "spending":
            services.spending_record(actor=request.user, project=project, date=d["date"], summary=d["summary"],
                                     amount_fen=d["amount"], paid_from=d["paid_from"])
        elif action == "acceptance":
            ids = {i: True for i in form.numbers("agree")}
            for i in form.numbers("disagree"):
                if i in ids:
                    raise InvalidInput(_("A resident sits on the panel once."), field="agree")
                ids[i] = False
            residents = {r.pk: r for r in Resident.objects.filter(pk__in=ids, community=community)}
            if len(residents) != len(ids):
                raise InvalidInput(_("Every member of the panel is a resident of the community."),
                                   field="agree")
            services.acceptance_record(actor=request.user, project=project, note=d["note"], date=d["date"],
                                       panel=[(residents[i], agrees) for i, agrees in ids.items()])
    except InvalidInput as e:
        if form is not None and e.code != "illegal_transition":
            _form_error(form, e)
            return _office_project_page(request, community, project, forms={action: form}, status=400)
        return refuse(request, e, back=back)
    except LinliError as e:
        return refuse(request, e, back=back)
    return redirect(back)
