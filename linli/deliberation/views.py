"""Residents' pages of 一月一议, under ``/deliberation/<code>/`` (docs/deliberation.md).

Phone-sized, large-text aware, no script needed. Reading: any signed-in resident of the
community and the office. Writing: residents of the process's scope, each write through one
service; a refusal (a closed phase, a second support, too many proposals) is the voting
engine's refusal page (``linli.voting.web.refuse``) with the error's status, nothing changed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from linli.community.models import Community
from linli.core.errors import LinliError
from linli.core.web import no_store
from linli.voting import phases
from linli.voting.web import refuse

from . import rules, selectors, services
from .forms import CommentForm, EvaluationForm, ProposalForm
from .models import Decision, Evaluation, Proposal, Support, UpdatePhoto


def _community(request, code) -> tuple[Community, object]:
    """The community, if the account lives there or works in its office; 404 otherwise."""
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    resident = rules.resident_of(request.user)
    if resident is not None and resident.community_id == community.pk:
        return community, resident
    if rules.may_read_office(request.user, community):
        return community, None
    raise Http404


def _phase_info(rnd) -> dict:
    return {"phase": phases.current(rnd.process), "next": phases.next_phase(rnd.process),
            "phases": list(rnd.process.phases.all())}


@require_safe
@login_required
@no_store
def home(request, code):
    community, resident = _community(request, code)
    rounds = list(selectors.rounds(community)[:12])
    active = [(rnd, phases.current(rnd.process)) for rnd in rounds]
    followed = list(selectors.decisions_of(community, states=(Decision.State.EXECUTING, Decision.State.DONE,
                                                              Decision.State.ADOPTED))[:20])
    return render(request, "deliberation/home.html", {
        "community": community, "resident": resident, "rounds": active, "decisions": followed})


def _round(community, pk):
    rnd = selectors.round_get(community, pk)
    if rnd is None:
        raise Http404
    return rnd


@require_safe
@login_required
@no_store
def round_view(request, code, pk):
    community, resident = _community(request, code)
    rnd = _round(community, pk)
    proposals = list(selectors.proposals_of(rnd))
    mine = set()
    if resident is not None:
        mine = set(Support.objects.filter(resident=resident, proposal__round=rnd).values_list("proposal_id", flat=True))
    return render(request, "deliberation/round.html", {
        "community": community, "round": rnd, "proposals": proposals, "supported": mine,
        "resident": resident, "can_take_part": resident is not None and rules.in_scope(resident, rnd.process),
        **_phase_info(rnd)})


@require_http_methods(["GET", "POST"])
@login_required
@no_store
def propose(request, code, pk):
    community, resident = _community(request, code)
    rnd = _round(community, pk)
    back = reverse("deliberation:round", kwargs={"code": code, "pk": rnd.pk})
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.propose(actor=request.user, round=rnd, **form.cleaned_data)
        except LinliError as exc:
            response = refuse(request, exc, back=back)
            for name, value in exc.headers().items():
                response[name] = value
            return response
        messages.success(request, _("Your proposal is published. Residents can support it now."))
        return redirect("deliberation:proposal", code=code, pk=proposal.pk)
    return render(request, "deliberation/propose.html", {"community": community, "round": rnd, "form": form,
                                                         "back": back, **_phase_info(rnd)})


def _proposal(community, pk) -> Proposal:
    proposal = selectors.proposal_get(community, pk)
    if proposal is None:
        raise Http404
    return proposal


@require_safe
@login_required
@no_store
def proposal_view(request, code, pk):
    community, resident = _community(request, code)
    proposal = _proposal(community, pk)
    rnd = proposal.round
    supported = resident is not None and Support.objects.filter(proposal=proposal, resident=resident).exists()
    decision = Decision.objects.filter(proposal=proposal).exclude(state=Decision.State.DRAFT).first()
    return render(request, "deliberation/proposal.html", {
        "community": community, "proposal": proposal, "round": rnd, "resident": resident,
        "supported": supported, "decision": decision,
        "is_proposer": proposal.proposer_user_id == request.user.pk,
        "comments": selectors.comments_for(proposal, request.user),
        "comment_form": CommentForm(), **_phase_info(rnd)})


@require_POST
@login_required
@no_store
def support(request, code, pk):
    community, _resident = _community(request, code)
    proposal = _proposal(community, pk)
    back = reverse("deliberation:proposal", kwargs={"code": code, "pk": proposal.pk})
    try:
        proposal = services.support(actor=request.user, proposal=proposal)
    except LinliError as exc:
        return refuse(request, exc, back=back)
    messages.success(request, _("Thank you: your support is counted."))
    if proposal.state == Proposal.State.AGENDA:
        messages.info(request, _("This proposal is on the residents' council's agenda."))
    return redirect(back)


@require_POST
@login_required
@no_store
def comment(request, code, pk):
    community, _resident = _community(request, code)
    proposal = _proposal(community, pk)
    back = reverse("deliberation:proposal", kwargs={"code": code, "pk": proposal.pk})
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your comment (at most 2000 characters)."))
        return redirect(back)
    try:
        services.comment(actor=request.user, proposal=proposal, body=form.cleaned_data["body"])
    except LinliError as exc:
        return refuse(request, exc, back=back)
    messages.success(request, _("Your comment is published."))
    return redirect(back + "#comments")


def _decision(community, pk) -> Decision:
    decision = selectors.decision_get(community, pk)
    if decision is None or decision.state == Decision.State.DRAFT:
        raise Http404
    return decision


@require_safe
@login_required
@no_store
def decision_view(request, code, pk):
    community, resident = _community(request, code)
    decision = _decision(community, pk)
    tasks = list(decision.tasks.all())
    mine = None
    if resident is not None:
        mine = Evaluation.objects.filter(decision=decision, resident=resident).first()
    return render(request, "deliberation/decision.html", {
        "community": community, "decision": decision, "tasks": tasks, "rollup": services.rollup(decision, tasks),
        "timeline": selectors.timeline(decision), "resident": resident, "mine": mine,
        "counts": services.evaluation_counts(decision), "form": EvaluationForm(),
        "round": decision.meeting.round, **_phase_info(decision.meeting.round)})


@require_POST
@login_required
@no_store
def evaluate(request, code, pk):
    community, _resident = _community(request, code)
    decision = _decision(community, pk)
    back = reverse("deliberation:decision", kwargs={"code": code, "pk": decision.pk})
    form = EvaluationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose satisfied, basically satisfied or unsatisfied."))
        return redirect(back)
    try:
        services.evaluate(actor=request.user, decision=decision, **form.cleaned_data)
    except LinliError as exc:
        return refuse(request, exc, back=back)
    messages.success(request, _("Thank you: your evaluation is counted."))
    return redirect(back)


@require_safe
@login_required
def photo(request, code, pk):
    community, _resident = _community(request, code)
    try:
        item = UpdatePhoto.objects.select_related("update__task__decision").get(
            pk=int(pk), update__task__decision__community=community)
        handle = item.image.open("rb")
    except (UpdatePhoto.DoesNotExist, ValueError, TypeError, OverflowError, FileNotFoundError):
        raise Http404
    response = FileResponse(handle, content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_http_methods(["GET", "POST"])
@login_required
@no_store
def sign_in(request, code, pk, token):
    """The QR link of a meeting: opened while signed in, one button signs the attendee in."""
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    from .models import Meeting

    meeting = Meeting.objects.filter(community=community, pk=pk).select_related("round__process").first()
    if meeting is None:
        raise Http404
    back = reverse("deliberation:home", kwargs={"code": code}) if rules.resident_of(request.user) else "/"
    if request.method == "POST":
        try:
            services.attend_by_token(actor=request.user, meeting=meeting, token=token)
        except LinliError as exc:
            return refuse(request, exc, back=back)
        messages.success(request, _("You are signed in to the meeting."))
        return render(request, "deliberation/signed_in.html", {"community": community, "meeting": meeting,
                                                               "done": True, "back": back})
    return render(request, "deliberation/signed_in.html", {"community": community, "meeting": meeting,
                                                           "done": False, "back": back})
