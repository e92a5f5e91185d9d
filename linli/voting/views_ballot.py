"""The resident's voting pages (docs/voting.md, "What residents see").

Written for an old Android phone and a 78-year-old: one page per step, no script needed, big
targets, plain words. ``my_votes`` lists the community's open votes with, for each, the phase's
dates and whether this resident may vote — and why not, when not. ``ballot`` is the form (GET),
then a confirm step that reads the choices back ("a vote cannot be changed"), then the cast
(``services.cast``, channel "web") and the receipt code, shown once in that response only: never
in a URL, a message or the session. Whoever already voted, by any channel, sees when and how it
was recorded (from the participation), never what was voted.

Every check is the engine's: the phase (``phases.require``), the vote's state, eligibility and
the ballot (``ballots.validate``) are asked before the form is shown and again, by ``cast``
itself, when it is cast; the database's one-vote constraint has the last word.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from linli.community.models import Resident
from linli.community.scope import scope_of
from linli.core.errors import InvalidInput, LinliError, PermissionDenied
from linli.core.web import no_store

from . import phases, services
from .eligibility import eligible, voter_key
from .forms_ballot import BallotForm
from .models import Participation, Phase, Vote
from .web import refuse

# What the phase check names when it refuses (PhaseClosed's message: "… cannot <action> now").
CAST_ACTION = gettext_lazy("vote")
ALREADY_VOTED = "already_voted"
BALLOT_FIELD = "choices"  # the field the engine names for errors in the ballot itself (ballots.validate)


def _resident(request, code: str) -> Resident:
    """The signed-in account's own resident record, in the community of the URL (404 otherwise:
    a resident of another community learns nothing of this one's votes)."""
    scope = scope_of(request.user)
    if scope.resident_id is None:
        raise PermissionDenied(_("Only residents vote on these pages. Your account is not linked to a "
                                 "resident of this community; please ask your community office."),
                               code="not_a_resident")
    resident = (Resident.objects.select_related("community", "household", "grid")
                .filter(pk=scope.resident_id).first())
    if resident is None or resident.community.code != code:
        raise Http404
    return resident


def _participation(vote: Vote, resident: Resident) -> Participation | None:
    """The resident's (or, for a household or owners' vote, their household's) participation."""
    try:
        key = voter_key(vote, resident)
    except LinliError:
        return None
    return Participation.objects.select_related("booth").filter(vote=vote, voter_key=key).first()


def _url(name: str, *args) -> str:
    """A page of another part of the voting app, when it is installed (results, receipts)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _phase(vote: Vote) -> Phase | None:
    return Phase.objects.filter(process_id=vote.process_id, key=vote.phase_key).first()


def _row(vote: Vote, resident: Resident, now) -> dict:
    """One vote of the list: its phase's dates and what this resident can do about it."""
    phase = _phase(vote)
    row = {"vote": vote, "phase": phase, "status": "open", "reason": "", "participation": None,
           "household": vote.eligibility != Vote.Eligibility.ADULTS,
           "url": reverse("voting:ballot", args=[vote.process.community.code, vote.pk])}
    participation = _participation(vote, resident)
    if participation is not None:
        row.update(status="voted", participation=participation)
        return row
    ok, reason = eligible(vote, resident, today=timezone.localdate())
    if not ok:
        row.update(status="ineligible", reason=reason)
    elif phase is None or not phase.enabled or phase.ends_at <= now:
        row["status"] = "ended"
    elif phase.starts_at > now:
        row["status"] = "soon"
    elif "web" not in (vote.channels or ()):
        row["status"] = "offline"
    return row


@require_safe
@login_required
@no_store
def my_community(request):
    """``/votes/``: a resident goes to their community's votes, staff to the office."""
    scope = scope_of(request.user)
    if scope.resident_id is not None:
        resident = Resident.objects.select_related("community").filter(pk=scope.resident_id).first()
        if resident is not None:
            return redirect("voting:my_votes", code=resident.community.code)
    if request.user.has_perm("community.use_console"):
        return redirect("voting:office_index")
    return refuse(request, PermissionDenied(_("Only residents vote on these pages. Your account is not "
                                              "linked to a resident; please ask your community office."),
                                            code="not_a_resident"), back="/")


@require_safe
@login_required
@no_store
def my_votes(request, code: str):
    try:
        resident = _resident(request, code)
    except PermissionDenied as exc:
        return refuse(request, exc, back="/")
    now = timezone.now()
    votes = (Vote.objects.filter(process__community=resident.community, state=Vote.State.OPEN)
             .select_related("process__community").order_by("id"))
    rows = [_row(vote, resident, now) for vote in votes]
    rows.sort(key=lambda r: (r["phase"].ends_at if r["phase"] else now, r["vote"].pk))
    published = (Vote.objects.filter(process__community=resident.community, state=Vote.State.PUBLISHED)
                 .select_related("process").order_by("-id")[:10])
    return render(request, "voting/ballot/my_votes.html", {
        "community": resident.community,
        "open_rows": [r for r in rows if r["status"] == "open"],
        "voted_rows": [r for r in rows if r["status"] == "voted"],
        "soon_rows": [r for r in rows if r["status"] == "soon"],
        "other_rows": [r for r in rows if r["status"] in ("ineligible", "ended", "offline")],
        "published": [{"vote": v, "url": _url("voting:results", code, v.pk)} for v in published],
    })


def _already(request, vote: Vote, resident: Resident, participation: Participation, *, status: int = 200):
    """When and by which channel the vote was recorded; never what was voted."""
    return render(request, "voting/ballot/already.html", {
        "vote": vote, "community": resident.community, "participation": participation,
        "household": vote.eligibility != Vote.Eligibility.ADULTS,
        "own": participation.resident_id == resident.pk,
        "results_url": _url("voting:results", vote.process.community.code, vote.pk),
        "receipt_url": _url("voting:receipt", vote.process.community.code, vote.pk),
    }, status=status)


def _form_page(request, vote, resident, phase, form, *, status=200):
    knapsack = vote.kind == Vote.Kind.APPROVAL and vote.budget_fen is not None
    return render(request, "voting/ballot/ballot.html", {
        "vote": vote, "community": resident.community, "phase": phase, "form": form, "rows": form.rows(),
        "limits": form.limits_text(), "knapsack": knapsack,
        "min_share_fen": (vote.budget_fen * vote.min_budget_share_percent + 99) // 100
        if knapsack and vote.min_budget_share_percent else 0,
        "household": vote.eligibility != Vote.Eligibility.ADULTS,
    }, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@no_store
def ballot(request, code: str, vote_id: int):
    """GET: the ballot. POST ``step=confirm``: read the choices back; ``step=edit``: back to the
    form as ticked; ``step=cast``: cast it and show the receipt once."""
    try:
        resident = _resident(request, code)
    except PermissionDenied as exc:
        return refuse(request, exc, back="/")
    back = reverse("voting:my_votes", args=[code])
    vote = get_object_or_404(
        Vote.objects.select_related("process__community"), pk=vote_id, process__community=resident.community,
        state__in=(Vote.State.OPEN, Vote.State.CLOSED, Vote.State.PUBLISHED))
    participation = _participation(vote, resident)
    if participation is not None:
        return _already(request, vote, resident, participation)
    if vote.state != Vote.State.OPEN:
        return refuse(request, PermissionDenied(_("This vote has closed: no more ballots are taken."),
                                                code="vote_closed"), back=back)
    try:
        phase = phases.require(vote.process, vote.phase_key, action=str(CAST_ACTION))
    except PermissionDenied as exc:  # PhaseClosed
        return refuse(request, exc, back=back)
    ok, reason = eligible(vote, resident, today=timezone.localdate())
    if not ok:
        return refuse(request, PermissionDenied(reason, code="not_eligible"), back=back)
    if "web" not in (vote.channels or ()):
        return refuse(request, PermissionDenied(
            _("This vote is not taken online. Please vote at the booth in your community's service centre."),
            code="channel_closed"), back=back)
    if request.method == "GET":
        return _form_page(request, vote, resident, phase, BallotForm(vote))

    step = request.POST.get("step", "confirm")
    form = BallotForm(vote, request.POST)
    if step == "edit" or not form.is_valid():
        return _form_page(request, vote, resident, phase, form, status=200 if step == "edit" else 400)
    if step != "cast":
        summary = form.summary()
        return render(request, "voting/ballot/confirm.html", {
            "vote": vote, "community": resident.community, "summary": summary, "carried": form.carried(),
            "knapsack": vote.kind == Vote.Kind.APPROVAL and vote.budget_fen is not None,
            "total_fen": sum(line["cost_fen"] for line in summary),
            "household": vote.eligibility != Vote.Eligibility.ADULTS,
        })
    try:
        receipt = services.cast(vote=vote, resident=resident, choices=form.choices(), channel="web",
                                actor=request.user)
    except LinliError as exc:
        if exc.code == ALREADY_VOTED:
            participation = _participation(vote, resident)
            if participation is not None:
                return _already(request, vote, resident, participation, status=409)
            return refuse(request, exc, back=back)
        if isinstance(exc, InvalidInput) and (exc.field == BALLOT_FIELD or form.field_for(exc.field)):
            # What is wrong with the ballot itself: shown on the form, next to the question if it names one.
            form.add_error(form.field_for(exc.field), str(exc.message))
            return _form_page(request, vote, resident, phase, form, status=400)
        return refuse(request, exc, back=back)
    return render(request, "voting/ballot/receipt.html", {
        "vote": vote, "community": resident.community, "code": receipt.code,
        "receipt_url": _url("voting:receipt", code, vote.pk),
        "results_url": _url("voting:results", code, vote.pk),
        "phase": phase,
    })
