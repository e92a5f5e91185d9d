"""Every write of the democratic evaluation: keyword-only, atomic, one event each.

Each write first asks the voting engine whether its phase is current
(``linli.voting.phases.require``): targets and criteria are set in "preparation", the ballot is
prepared and opened in "preparation" and taken in "voting" (the engine's pages), the ballot
is closed and counted in "results", responses are written in "results" or "response", and
the results with the annual report are published in "response". ``at`` (default now): the
moment the phase is checked against, for history written by the demo (a past year's
evaluation, each step inside its own phase).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.models import Grid, Organisation, StaffRole
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import rules, selectors
from .models import Criterion, Evaluation, Response, Target
from .workflow import EVALUATION

S = Evaluation.State
PREPARATION, VOTING, RESULTS, RESPONSE = "preparation", "voting", "results", "response"
RESPONSE_MAX = 2000

PHASE_NAMES = {
    PREPARATION: gettext_lazy("Preparation"),
    VOTING: gettext_lazy("Voting"),
    RESULTS: gettext_lazy("Counting and responses"),
    RESPONSE: gettext_lazy("Publication and response"),
}

RATING_LABELS = (("satisfied", gettext_lazy("satisfied")), ("basic", gettext_lazy("basically satisfied")),
                 ("unsatisfied", gettext_lazy("unsatisfied")))

DEFAULT_CRITERIA = {
    Target.Kind.COMMITTEE: (gettext_lazy("Serving residents"), gettext_lazy("Openness of community affairs"),
                            gettext_lazy("Handling residents' requests"), gettext_lazy("Work style and integrity")),
    Target.Kind.POST: (gettext_lazy("Attitude towards residents"), gettext_lazy("Diligence and competence"),
                       gettext_lazy("Integrity")),
    Target.Kind.BRANCH: (gettext_lazy("Party members setting an example"),
                         gettext_lazy("Openness of party affairs"), gettext_lazy("Staying close to residents")),
}

# The posts the defaults propose, in this order, when the community has someone in them.
DEFAULT_POSTS = (StaffRole.Role.PARTY_SECRETARY, StaffRole.Role.COMMUNITY_ADMIN, StaffRole.Role.COMMUNITY_WORKER)


def _require(evaluation, key, action, at=None):
    from linli.voting import phases

    return phases.require(evaluation.process, key, action=action, at=at)


def _manager(actor, community):
    if not rules.may_manage(actor, community):
        raise PermissionDenied(_("You may not run the democratic evaluation of this community."))


def _editable(evaluation):
    if evaluation.state != S.SETUP:
        raise InvalidInput(_("The ballot is already prepared: targets and criteria can no longer change."),
                           code="ballot_prepared")


# --- the evaluation and its phases ---------------------------------------------------------------


def evaluation_create(*, actor, community, year: int, voting_starts: dt.datetime, results_starts: dt.datetime,
                      response_starts: dt.datetime, ends_at: dt.datetime,
                      preparation_starts: dt.datetime | None = None, grids=()) -> Evaluation:
    """A year's evaluation: its process (kind "evaluation") with the four phases, back to back."""
    from linli.voting import phases, services as voting

    _manager(actor, community)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput(_("Give the year the evaluation covers."), code="year", field="year")
    if Evaluation.objects.filter(community=community, year=year).exists():
        raise InvalidInput(_("This community already has an evaluation for %(year)s.") % {"year": year},
                           code="year_taken", field="year")
    grids = list(grids)
    if any(g.community_id != community.pk for g in grids):
        raise InvalidInput(_("Choose courtyards of this community."), code="grids", field="grids")
    starts = preparation_starts or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        specs = [phases.PhaseSpec(PREPARATION, str(PHASE_NAMES[PREPARATION]), starts),
                 phases.PhaseSpec(VOTING, str(PHASE_NAMES[VOTING]), voting_starts),
                 phases.PhaseSpec(RESULTS, str(PHASE_NAMES[RESULTS]), results_starts),
                 phases.PhaseSpec(RESPONSE, str(PHASE_NAMES[RESPONSE]), response_starts)]
        title = _("Democratic evaluation %(year)s") % {"year": year}
        description = _("Once a year every household rates the residents' committee, the staff posts and "
                        "the party branches: satisfied, basically satisfied or unsatisfied. The ballot is secret.")
    with transaction.atomic():
        process = voting.process_create(actor=actor, community=community, kind="evaluation", title=title,
                                        description=description, grids=grids, specs=specs, ends_at=ends_at)
        evaluation = Evaluation.objects.create(community=community, year=year, process=process, created_by=actor)
        events.record(actor=actor, verb="evaluation.created", target=evaluation, community=community,
                      data={"year": year, "process": process.pk})
    return evaluation


# --- targets and criteria ------------------------------------------------------------------------


def _clean_criteria(texts) -> list[str]:
    out = []
    for text in texts:
        text = " ".join((text or "").split())
        if not text:
            continue
        if len(text) > 150:
            raise InvalidInput(_("A criterion may be at most 150 characters."), code="criterion", field="criteria")
        if text not in out:
            out.append(text)
    return out


def _add_target(evaluation, *, kind, label, criteria, organisation=None) -> Target:
    order = (evaluation.targets.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    target = Target.objects.create(evaluation=evaluation, kind=kind, label=label, organisation=organisation,
                                   order=order)
    Criterion.objects.bulk_create([Criterion(target=target, text=text, order=i)
                                   for i, text in enumerate(criteria, start=1)])
    return target


def target_add(*, actor, evaluation, kind: str, label: str, criteria, organisation=None,
               at: dt.datetime | None = None) -> Target:
    """Add one target with its criteria (one per line). Staff are named by their post."""
    _manager(actor, evaluation.community)
    _require(evaluation, PREPARATION, _("set the targets of the evaluation"), at)
    _editable(evaluation)
    if kind not in Target.Kind.values:
        raise InvalidInput(_("Choose what kind of target this is."), code="kind", field="kind")
    label = " ".join((label or "").split())
    if not label or len(label) > 100:
        raise InvalidInput(_("Name the target (at most 100 characters)."), code="label", field="label")
    if organisation is not None and organisation.community_id != evaluation.community_id:
        raise InvalidInput(_("Choose an organisation of this community."), code="organisation", field="organisation")
    criteria = _clean_criteria(criteria)
    if not criteria:
        raise InvalidInput(_("Give at least one criterion."), code="criteria", field="criteria")
    if evaluation.targets.filter(kind=kind, label=label).exists():
        raise InvalidInput(_("This target is already on the ballot."), code="target_taken", field="label")
    with transaction.atomic():
        target = _add_target(evaluation, kind=kind, label=label, criteria=criteria, organisation=organisation)
        events.record(actor=actor, verb="evaluation.target_added", target=evaluation,
                      community=evaluation.community, data={"kind": kind, "criteria": len(criteria)})
    return target


def target_remove(*, actor, evaluation, target: Target, at: dt.datetime | None = None) -> None:
    _manager(actor, evaluation.community)
    _require(evaluation, PREPARATION, _("set the targets of the evaluation"), at)
    _editable(evaluation)
    if target.evaluation_id != evaluation.pk:
        raise InvalidInput(_("This target is not on this evaluation."), code="target")
    with transaction.atomic():
        kind = target.kind
        target.delete()
        events.record(actor=actor, verb="evaluation.target_removed", target=evaluation,
                      community=evaluation.community, data={"kind": kind})


def default_targets(community) -> list[tuple[str, str, Organisation | None]]:
    """What the defaults propose: the residents' committee, each post someone holds (a grid
    worker's post per courtyard) and each party branch of the community; labels in the
    community's language."""
    with translation.override(settings.LANGUAGE_CODE):
        out: list[tuple[str, str, Organisation | None]] = []
        committee = Organisation.objects.filter(community=community,
                                                kind=Organisation.Kind.RESIDENTS_COMMITTEE).order_by("id").first()
        out.append((Target.Kind.COMMITTEE, committee.name if committee else str(_("residents' committee")), committee))
        roles = StaffRole.objects.filter(community=community, active=True)
        held = set(roles.values_list("role", flat=True))
        for role in DEFAULT_POSTS:
            if role in held:
                out.append((Target.Kind.POST, str(StaffRole.Role(role).label), None))
        grid_ids = set(roles.filter(role=StaffRole.Role.GRID_WORKER).values_list("grids", flat=True))
        for grid in Grid.objects.filter(pk__in=grid_ids - {None}).order_by("code", "id"):
            out.append((Target.Kind.POST, f"{StaffRole.Role.GRID_WORKER.label} · {grid.name}", None))
        for branch in Organisation.objects.filter(community=community,
                                                  kind=Organisation.Kind.PARTY_BRANCH).order_by("name", "id"):
            out.append((Target.Kind.BRANCH, branch.name, branch))
    return out


def defaults_install(*, actor, evaluation, at: dt.datetime | None = None) -> list[Target]:
    """Add the default targets with the default criteria (those not on the ballot yet)."""
    _manager(actor, evaluation.community)
    _require(evaluation, PREPARATION, _("set the targets of the evaluation"), at)
    _editable(evaluation)
    have = set(evaluation.targets.values_list("kind", "label"))
    added = []
    with translation.override(settings.LANGUAGE_CODE):
        wanted = [(kind, label[:100], org, [str(t) for t in DEFAULT_CRITERIA[kind]])
                  for kind, label, org in default_targets(evaluation.community) if (kind, label[:100]) not in have]
    with transaction.atomic():
        for kind, label, org, criteria in wanted:
            added.append(_add_target(evaluation, kind=kind, label=label, criteria=criteria, organisation=org))
        events.record(actor=actor, verb="evaluation.defaults_installed", target=evaluation,
                      community=evaluation.community, data={"targets": len(added)})
    return added


# --- the ballot ----------------------------------------------------------------------------------


def ballot_prepare(*, actor, evaluation, at: dt.datetime | None = None) -> Evaluation:
    """Build the vote from the targets and criteria (one question per criterion, each with
    satisfied / basically satisfied / unsatisfied) and open it; ballots are taken in the
    phase "voting" through the voting engine's pages and channels (paper included)."""
    from linli.voting import services as voting

    _manager(actor, evaluation.community)
    _require(evaluation, PREPARATION, _("prepare the ballot"), at)
    rows = selectors.criteria(evaluation)
    if not rows:
        raise InvalidInput(_("Add at least one target with its criteria first."), code="no_criteria")
    with translation.override(settings.LANGUAGE_CODE):
        # The engine gives every rating question the three options itself; named here as well.
        options = [(str(label), 0, code) for code, label in RATING_LABELS]
        questions = [(f"{c.target.label} · {c.text}"[:300], list(options)) for c in rows]
        title = _("Democratic evaluation %(year)s") % {"year": evaluation.year}

    def apply(obj, now):
        with translation.override(settings.LANGUAGE_CODE):  # the options' labels are stored
            vote = voting.vote_create(actor=actor, process=obj.process, title=title, kind="rating",
                                      eligibility="households", rule="tally", questions=questions,
                                      phase_key=VOTING, breakdown_by_grid=True)
        made = list(vote.questions.order_by("order", "id"))
        if len(made) != len(rows):
            raise InvalidInput(_("The ballot could not be built."), code="ballot")
        for criterion, question in zip(rows, made):
            Criterion.objects.filter(pk=criterion.pk).update(question=question)
        obj.vote = voting.vote_open(actor=actor, vote=vote)

    return EVALUATION.transition(evaluation, "prepare", actor=actor, apply=apply,
                                 data={"criteria": len(rows)})


def count(*, actor, evaluation, at: dt.datetime | None = None) -> Evaluation:
    """Close the ballot (if open) and count it: the figures are stored already suppressed.
    May be made again while not published (paper sheets typed in late)."""
    from linli.voting import services as voting
    from linli.voting.models import Vote

    _manager(actor, evaluation.community)
    _require(evaluation, RESULTS, _("count the evaluation"), at)

    def apply(obj, now):
        vote = obj.vote
        if vote.state == Vote.State.OPEN:
            vote = voting.vote_close(actor=actor, vote=vote)
            obj.vote = vote
        obj.results = selectors.count_ballots(obj)
        obj.counted_at = now

    evaluation = EVALUATION.transition(evaluation, "count", actor=actor, apply=apply)
    return evaluation


def respond(*, actor, evaluation, criterion: Criterion, text: str, at: dt.datetime | None = None) -> Response:
    """The community's written response to one criterion (required under 80 % satisfied)."""
    from linli.disclosure import pii
    from linli.voting.phases import PhaseClosed

    _manager(actor, evaluation.community)
    try:
        _require(evaluation, RESULTS, _("write a response"), at)
    except PhaseClosed:
        _require(evaluation, RESPONSE, _("write a response"), at)
    if evaluation.state != S.COUNTED:
        raise InvalidInput(_("Responses are written after counting and before publishing."), code="not_counted")
    if criterion.target.evaluation_id != evaluation.pk:
        raise InvalidInput(_("This criterion is not on this evaluation."), code="criterion")
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(_("Write the response."), code="response", field="text")
    if len(text) > RESPONSE_MAX:
        raise InvalidInput(_("A response may be at most %(n)d characters.") % {"n": RESPONSE_MAX},
                           code="response", field="text")
    if pii.holds_numbers(text):
        raise InvalidInput(_("The response is published: leave out phone and ID numbers."),
                           code="pii_held", field="text")
    with transaction.atomic():
        response, _created = Response.objects.update_or_create(
            criterion=criterion, defaults={"text": text, "written_by": actor, "written_at": timezone.now()})
        events.record(actor=actor, verb="evaluation.responded", target=evaluation,
                      community=evaluation.community, data={"criterion": criterion.pk})
    return response


def publish(*, actor, evaluation, force_reason: str = "", at: dt.datetime | None = None) -> Evaluation:
    """Publish on the public affairs board: the vote's ballot list (the voting engine's
    ``results.publish``, so each voter can check their receipt), then the annual report built
    from the year's logged records and the results with the responses. Refused while a
    criterion under 80 % has no response."""
    from linli.disclosure import services as board
    from linli.voting import results as vote_results
    from linli.voting.models import Vote

    if not rules.may_publish(actor, evaluation.community):
        raise PermissionDenied(_("Only the community's administrator publishes the evaluation."))
    _require(evaluation, RESPONSE, _("publish the results"), at)
    if evaluation.state == S.COUNTED:
        missing = selectors.missing_responses(evaluation)
        if missing:
            names = "; ".join(f"{c.target.label} · {c.text}" for c in missing)
            raise InvalidInput(
                _("Write the community's response to every criterion under 80%% satisfied before publishing. "
                  "Still missing: %(criteria)s.") % {"criteria": names}, code="responses_missing")
    start, end = selectors.year_bounds(evaluation.year)
    extra: dict = {}

    def apply(obj, now):
        vote = obj.vote
        if vote.state != Vote.State.PUBLISHED:
            kwargs = {"force_reason": force_reason} if force_reason else {}
            obj.vote = vote_results.publish(actor=actor, vote=vote, **kwargs)
        title, body, _counts = selectors.annual_report(obj.community, obj.year)
        report = board.publish_as_server(community=obj.community, section="residential", title=title, body=body,
                                         period_start=start, period_end=end)
        title, body = selectors.results_text(obj)
        entry = board.publish_as_server(community=obj.community, section="residential", title=title, body=body,
                                        period_start=start, period_end=end)
        obj.report_log_index, obj.results_log_index = report.log_index, entry.log_index
        obj.published_at = now
        extra.update(report_log_index=report.log_index, results_log_index=entry.log_index,
                     ballots_log_index=obj.vote.log_index)

    with transaction.atomic():
        return EVALUATION.transition(evaluation, "publish", actor=actor, apply=apply, data=extra)
