"""The office's pages of 一月一议, under ``/deliberation/<code>/office/`` (docs/deliberation.md).

One page per phase: the month (phases, topics, the agenda), a proposal (moderation), the
meeting (schedule, attendance with the QR sign-in, decisions, minutes and closing) and a
decision (tasks, progress with photos, done, the residents' evaluation). Admins and workers of
the community write; the party secretary and the street supervisor read. A community outside
the account's reach answers 404; a refusal of a service is the voting engine's refusal page.
"""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Community, StaffRole
from linli.community.selectors import office_index_communities
from linli.core.errors import InvalidInput, LinliError
from linli.core.web import staff_page
from linli.voting import phases
from linli.voting.web import refuse

from . import rules, selectors, services
from .forms import (
    AttendanceForm, CaseTopicForm, DecisionForm, MinutesForm, ProgressForm, ReasonForm, RoundForm, ScheduleForm,
    TaskForm, TopicForm,
)
from .models import Comment, Meeting, Proposal, Task

PERM = "deliberation.use_office"


def _community(request, code, *, write=False) -> Community:
    community = Community.objects.select_related("street").filter(code=code).first()
    allowed = rules.may_run if write else rules.may_read_office
    if community is None or not allowed(request.user, community):
        raise Http404
    return community


def _round(community, pk):
    rnd = selectors.round_get(community, pk)
    if rnd is None:
        raise Http404
    return rnd


@staff_page(PERM)
def index(request):
    from linli.community.scope import scope_of

    ids = rules.office_community_ids(request.user) | scope_of(request.user).office_communities
    communities = office_index_communities(request.user, ids)
    if len(communities) == 1:
        return redirect("deliberation:office", code=communities[0].code)
    return render(request, "deliberation/office/index.html", {"communities": communities})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office(request, code):
    community = _community(request, code)
    may_run = rules.may_run(request.user, community)
    form = RoundForm(request.POST or None)
    if request.method == "POST":
        if not may_run:
            raise Http404
        if form.is_valid():
            year, month = form.cleaned_data["month"]
            try:
                rnd = services.round_create(actor=request.user, community=community, year=year, month=month,
                                            support_threshold=form.cleaned_data["support_threshold"])
            except LinliError as exc:
                return refuse(request, exc, back=request.path)
            messages.success(request, _("The month's deliberation is open."))
            return redirect("deliberation:office_round", code=code, pk=rnd.pk)
    rounds = [(rnd, phases.current(rnd.process)) for rnd in selectors.rounds(community)[:24]]
    return render(request, "deliberation/office/rounds.html", {
        "community": community, "rounds": rounds, "form": form, "may_run": may_run})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_round(request, code, pk):
    community = _community(request, code)
    rnd = _round(community, pk)
    may_run = rules.may_run(request.user, community)
    topic_form = TopicForm(prefix="topic")
    case_form = CaseTopicForm(prefix="case")
    if request.method == "POST":
        if not may_run:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "topic":
                topic_form = TopicForm(request.POST, prefix="topic")
                if topic_form.is_valid():
                    services.topic_create(actor=request.user, round=rnd, source="staff", **topic_form.cleaned_data)
                    messages.success(request, _("The topic is added."))
                    return redirect(request.path)
            elif action == "case":
                case_form = CaseTopicForm(request.POST, prefix="case")
                if case_form.is_valid():
                    services.topic_from_case(actor=request.user, round=rnd, number=case_form.cleaned_data["number"])
                    messages.success(request, _("The topic is added."))
                    return redirect(request.path)
            elif action in ("agenda", "decline"):
                proposal = Proposal.objects.filter(round=rnd, pk=request.POST.get("proposal") or 0).first() \
                    if (request.POST.get("proposal") or "").isdigit() else None
                if proposal is None:
                    raise Http404
                if action == "agenda":
                    services.put_on_agenda(actor=request.user, proposal=proposal)
                    messages.success(request, _("The proposal is on the council's agenda."))
                else:
                    services.decline(actor=request.user, proposal=proposal, reason=request.POST.get("reason", ""))
                    messages.success(request, _("The proposal is not taken up; the proposer sees why."))
                return redirect(request.path)
            else:
                raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
    return render(request, "deliberation/office/round.html", {
        "community": community, "round": rnd, "may_run": may_run,
        "proposals": list(Proposal.objects.filter(round=rnd).order_by("state", "-support_count", "id")),
        "topic_form": topic_form, "case_form": case_form, "phase": phases.current(rnd.process),
        "phases": list(rnd.process.phases.all()), "meeting": getattr(rnd, "meeting", None)})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_hotissue(request, code, pk, hid):
    """From insight's hot-issue page (hook ``insight.hotissue_actions``): confirm, then add."""
    community = _community(request, code, write=True)
    rnd = _round(community, pk)
    from linli.insight import hotissues

    issue = hotissues.hot_issues_for(request.user, status=None).filter(pk=hid, community=community).first()
    if issue is None:
        raise Http404
    title, place = hotissues.shown_for(request.user, issue)
    if request.method == "POST":
        try:
            proposal = services.topic_from_hotissue(actor=request.user, round=rnd, hotissue_id=issue.pk,
                                                    title=request.POST.get("title", "").strip())
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
        messages.success(request, _("The hot issue is a topic of this month's deliberation."))
        return redirect("deliberation:office_proposal", code=code, pk=proposal.pk)
    return render(request, "deliberation/office/hotissue.html", {
        "community": community, "round": rnd, "issue": issue, "title": title, "place": place})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_proposal(request, code, pk):
    community = _community(request, code)
    proposal = Proposal.objects.filter(community=community, pk=pk).select_related("round__process").first()
    if proposal is None:
        raise Http404
    may_run = rules.may_run(request.user, community)
    if request.method == "POST":
        if not may_run:
            raise Http404
        item = Comment.objects.filter(proposal=proposal, pk=request.POST.get("comment") or 0).first() \
            if (request.POST.get("comment") or "").isdigit() else None
        if item is None:
            raise Http404
        try:
            services.hide_comment(actor=request.user, comment=item, reason=request.POST.get("reason", ""))
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
        messages.success(request, _("The comment is hidden; its author sees why."))
        return redirect(request.path)
    return render(request, "deliberation/office/proposal.html", {
        "community": community, "proposal": proposal, "may_run": may_run, "reason_form": ReasonForm(),
        "comments": selectors.comments_for(proposal, request.user, office=True)})


def _members(community):
    users = get_user_model().objects.filter(
        staff_roles__community=community, staff_roles__active=True,
        staff_roles__role__in=(StaffRole.Role.COMMUNITY_ADMIN, StaffRole.Role.COMMUNITY_WORKER,
                               StaffRole.Role.PARTY_SECRETARY)).distinct().order_by("username")
    return list(users)


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                 title=_("QR code to sign in to the meeting"))


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_meeting(request, code, pk):
    community = _community(request, code)
    meeting = Meeting.objects.filter(community=community, pk=pk).select_related("round__process").first()
    if meeting is None:
        raise Http404
    rnd = meeting.round
    may_run = rules.may_run(request.user, community)
    members = _members(community)
    schedule_form = ScheduleForm(prefix="s", initial={"held_at": meeting.held_at, "place": meeting.place})
    attendance_form = AttendanceForm(prefix="a", members=members)
    minutes_form = MinutesForm(prefix="m", initial={"report": meeting.report})
    status = 200
    if request.method == "POST":
        if not may_run:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "schedule":
                schedule_form = ScheduleForm(request.POST, prefix="s")
                if schedule_form.is_valid():
                    services.meeting_schedule(actor=request.user, meeting=meeting, **schedule_form.cleaned_data)
                    return redirect(request.path)
            elif action == "attend":
                attendance_form = AttendanceForm(request.POST, prefix="a", members=members)
                if attendance_form.is_valid():
                    data = attendance_form.cleaned_data
                    user = next((u for u in members if str(u.pk) == data["member"]), None)
                    resident = None
                    if data["phone"]:
                        from linli.community.selectors import resident_search

                        resident = resident_search(request.user, query=data["phone"]).filter(
                            community=community).first()
                        if resident is None:
                            attendance_form.add_error("phone", _("No resident of this community has this number."))
                    if attendance_form.is_valid():
                        services.attend_by_staff(actor=request.user, meeting=meeting, role=data["role"],
                                                 user=None if resident else user, resident=resident)
                        messages.success(request, _("Attendance recorded."))
                        return redirect(request.path)
            elif action == "decision":
                proposal = Proposal.objects.filter(round=rnd, pk=request.POST.get("proposal") or 0).first() \
                    if (request.POST.get("proposal") or "").isdigit() else None
                form = DecisionForm(request.POST, prefix=f"d{proposal.pk}" if proposal else "d")
                if proposal is None:
                    raise Http404
                if form.is_valid():
                    services.decision_save(actor=request.user, meeting=meeting, proposal=proposal,
                                           **form.cleaned_data)
                    messages.success(request, _("The decision is recorded."))
                    return redirect(request.path)
                messages.error(request, _("Write the decision and the three vote counts."))
            elif action == "close":
                minutes_form = MinutesForm(request.POST, prefix="m")
                report = request.POST.get("m-report", "")
                try:
                    services.meeting_close(actor=request.user, meeting=meeting, report=report)
                except InvalidInput as exc:
                    # Refused (no minutes, no attendance, …): the page again, with what the worker
                    # typed kept in the box and the reason beside it, not a page that loses it.
                    minutes_form.is_valid()
                    minutes_form.add_error(None, str(exc.message))
                    status = 400
                else:
                    messages.success(request, _("The meeting is closed; its minutes and decisions are published."))
                    return redirect(request.path)
            else:
                raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
    agenda = list(Proposal.objects.filter(round=rnd, state__in=(Proposal.State.AGENDA, Proposal.State.DECIDED,
                                                                 Proposal.State.DEFERRED)).order_by("id"))
    decisions = {d.proposal_id: d for d in meeting.decisions.all()}
    items = []
    for proposal in agenda:
        d = decisions.get(proposal.pk)
        initial = ({"text": d.text, "votes_for": d.votes_for, "votes_against": d.votes_against,
                    "votes_abstain": d.votes_abstain, "weighted": d.weighted} if d else {})
        items.append({"proposal": proposal, "decision": d, "form": DecisionForm(prefix=f"d{proposal.pk}",
                                                                                initial=initial)})
    sign_in_url = qr = ""
    if meeting.state == Meeting.State.PLANNED and may_run:
        sign_in_url = request.build_absolute_uri(reverse("deliberation:sign_in", kwargs={
            "code": code, "pk": meeting.pk, "token": services.sign_in_token(meeting)}))
        qr = _qr_svg(sign_in_url)
    return render(request, "deliberation/office/meeting.html", {
        "community": community, "meeting": meeting, "round": rnd, "may_run": may_run, "items": items,
        "attendance": list(meeting.attendance.select_related("user", "resident").order_by("id")),
        "schedule_form": schedule_form, "attendance_form": attendance_form, "minutes_form": minutes_form,
        "sign_in_url": sign_in_url, "qr": qr, "phase": phases.current(rnd.process),
        "open": meeting.state == Meeting.State.PLANNED,
        # The minutes as the office wrote them (numbers and doors masked on screen); the readers
        # (party secretary, street) read them as the board does, without the residents' names.
        "report": meeting.report if may_run else services.public_text(meeting.report,
                                                                      services._involved_names(rnd))},
        status=status)


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def office_decision(request, code, pk):
    community = _community(request, code)
    decision = selectors.decision_get(community, pk)
    if decision is None:
        raise Http404
    may_run = rules.may_run(request.user, community)
    task_form = TaskForm(prefix="t")
    if request.method == "POST":
        if not may_run:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "task":
                task_form = TaskForm(request.POST, prefix="t")
                if task_form.is_valid():
                    services.task_add(actor=request.user, decision=decision, **task_form.cleaned_data)
                    messages.success(request, _("The task is set."))
                    return redirect(request.path)
            elif action == "progress":
                form = ProgressForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Give the progress (0 to 100 %) and what was done."))
                    return redirect(request.path)
                task = Task.objects.filter(decision=decision, pk=form.cleaned_data["task"]).first()
                if task is None:
                    raise Http404
                services.progress_update(actor=request.user, task=task, progress=form.cleaned_data["progress"],
                                         note=form.cleaned_data["note"], photos=request.FILES.getlist("photos"))
                messages.success(request, _("Progress reported."))
                return redirect(request.path)
            elif action == "complete":
                services.decision_complete(actor=request.user, decision=decision)
                messages.success(request, _("The decision is done; residents may now evaluate it."))
                return redirect(request.path)
            elif action == "summary":
                services.publish_evaluation_summary(actor=request.user, decision=decision)
                messages.success(request, _("The residents' evaluation is published."))
                return redirect(request.path)
            else:
                raise Http404
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
    tasks = list(decision.tasks.all())
    return render(request, "deliberation/office/decision.html", {
        "community": community, "decision": decision, "tasks": tasks, "may_run": may_run, "task_form": task_form,
        "rollup": services.rollup(decision, tasks), "timeline": selectors.timeline(decision),
        "counts": services.evaluation_counts(decision), "round": decision.meeting.round,
        "phase": phases.current(decision.meeting.round.process),
    })
