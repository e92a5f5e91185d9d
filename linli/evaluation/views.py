"""The evaluation's pages (docs/evaluation.md). Views parse, authorise (linli.evaluation.rules),
call one service and redirect; a service's refusal is shown by the voting engine's
``refuse`` page (403 outside the phase, 400 for bad input, 409 for a conflict) and nothing
changes."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.community.models import Community
from linli.community.selectors import office_index_communities
from linli.core.errors import InvalidInput, LinliError, PermissionDenied
from linli.core.web import staff_page

from . import rules, selectors, services
from .forms import EvaluationForm, ResponseForm, TargetForm
from .models import Criterion, Evaluation, Target
from .workflow import EVALUATION

PERM = "evaluation.use_office"
S = Evaluation.State


def _refuse(request, exc: LinliError):
    from linli.voting.web import refuse

    return refuse(request, exc)


def _community(code: str) -> Community:
    community = Community.objects.select_related("street").filter(code=code).first()
    if community is None:
        raise Http404
    return community


def _office_community(request, code: str) -> Community:
    community = _community(code)
    if not rules.may_read(request.user, community):
        raise Http404
    return community


def _ballot_url(evaluation) -> str | None:
    if evaluation.vote_id is None or evaluation.state != S.VOTING:
        return None
    try:
        return reverse("voting:ballot", args=[evaluation.community.code, evaluation.vote_id])
    except NoReverseMatch:
        return None


def _phase(evaluation):
    from linli.voting import phases

    return phases.current(evaluation.process)


# --- public ------------------------------------------------------------------------------------


def public_index(request, code):
    community = _community(code)
    items = []
    for ev in selectors.evaluations(community):
        items.append({"evaluation": ev, "ballot_url": _ballot_url(ev), "phase": _phase(ev)})
    return render(request, "evaluation/public_index.html", {"community": community, "items": items})


def public_year(request, code, year):
    community = _community(code)
    evaluation = selectors.evaluation_at(community, year)
    if evaluation is None or evaluation.state != S.PUBLISHED:
        raise Http404
    before = selectors.previous(evaluation)
    return render(request, "evaluation/public_year.html", {
        "community": community, "evaluation": evaluation, "rows": selectors.rows(evaluation),
        "results": evaluation.results or {}, "before": before, "min_group": 10})


# --- office ------------------------------------------------------------------------------------


@staff_page(PERM)
def office_index(request):
    communities = office_index_communities(request.user, rules.office_communities(request.user))
    if len(communities) == 1:
        return redirect("evaluation:office", code=communities[0].code)
    return render(request, "evaluation/office/index.html", {"communities": communities})


@staff_page(PERM)
def office(request, code):
    community = _office_community(request, code)
    may_manage = rules.may_manage(request.user, community)
    form = EvaluationForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST":
        if not may_manage:
            return _refuse(request, PermissionDenied(
                _("You may not run the democratic evaluation of this community.")))
        if form.is_valid():
            data = form.cleaned_data
            try:
                ev = services.evaluation_create(actor=request.user, community=community, year=data["year"],
                                                voting_starts=data["voting_starts"],
                                                results_starts=data["results_starts"],
                                                response_starts=data["response_starts"], ends_at=data["ends_at"])
            except LinliError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                return redirect("evaluation:office_year", code=community.code, year=ev.year)
    return render(request, "evaluation/office/list.html", {
        "community": community, "evaluations": selectors.evaluations(community), "form": form,
        "may_manage": may_manage})


@staff_page(PERM)
def office_year(request, code, year):
    community = _office_community(request, code)
    evaluation = selectors.evaluation_at(community, year)
    if evaluation is None:
        raise Http404
    user = request.user
    rows = selectors.rows(evaluation) if evaluation.results else []
    notes = selectors.comments(evaluation) if evaluation.results else {}
    for row in rows:
        row.comments = notes.get(row.criterion.pk, [])
    return render(request, "evaluation/office/year.html", {
        "community": community, "evaluation": evaluation, "phase": _phase(evaluation),
        "phases": list(evaluation.process.phases.all()),
        "targets": selectors.targets(evaluation), "rows": rows,
        "missing": selectors.missing_responses(evaluation) if evaluation.results else [],
        "turnout": selectors.turnout(evaluation), "moves": EVALUATION.allowed(user, evaluation),
        "may_manage": rules.may_manage(user, community), "target_form": TargetForm(),
        "response_form": ResponseForm(), "ballot_url": _ballot_url(evaluation), "before": selectors.previous(evaluation),
    })


ACTIONS = ("defaults", "target-add", "target-remove", "prepare", "count", "respond", "publish")


@staff_page(PERM)
@require_POST
def office_action(request, code, year, action):
    community = _office_community(request, code)
    evaluation = selectors.evaluation_at(community, year)
    if evaluation is None or action not in ACTIONS:
        raise Http404
    user, post = request.user, request.POST
    back = redirect("evaluation:office_year", code=community.code, year=evaluation.year)
    try:
        if action == "defaults":
            added = services.defaults_install(actor=user, evaluation=evaluation)
            messages.success(request, _("Added %(n)d targets.") % {"n": len(added)})
        elif action == "target-add":
            form = TargetForm(post)
            if not form.is_valid():
                raise InvalidInput(_("Give the kind, the name and at least one criterion."),
                                            code="target")
            d = form.cleaned_data
            services.target_add(actor=user, evaluation=evaluation, kind=d["kind"], label=d["label"],
                                criteria=d["criteria"].splitlines())
        elif action == "target-remove":
            target = Target.objects.filter(evaluation=evaluation, pk=post.get("target") or 0).first()
            if target is None:
                raise Http404
            services.target_remove(actor=user, evaluation=evaluation, target=target)
        elif action == "prepare":
            services.ballot_prepare(actor=user, evaluation=evaluation)
            messages.success(request, _("The ballot is ready; residents can vote in the voting phase."))
        elif action == "count":
            services.count(actor=user, evaluation=evaluation)
            messages.success(request, _("Counted."))
        elif action == "respond":
            criterion = Criterion.objects.filter(target__evaluation=evaluation, pk=post.get("criterion") or 0).first()
            if criterion is None:
                raise Http404
            services.respond(actor=user, evaluation=evaluation, criterion=criterion, text=post.get("text", ""))
            messages.success(request, _("Response saved."))
        elif action == "publish":
            services.publish(actor=user, evaluation=evaluation)
            messages.success(request, _("Published on the public affairs board."))
    except LinliError as exc:
        return _refuse(request, exc)
    return back
