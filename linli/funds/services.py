"""Every write of the community fund's calls and projects (docs/funds.md).

Keyword-only, atomic, one event of this app each (services of the apps below that are called
on the way — the voting process, the books' fund account and vouchers, the disclosure log —
record their own). Every write that belongs to a phase first calls
``linli.voting.phases.require``: outside its phase it raises ``PhaseClosed`` and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.books import chart as books_chart
from linli.books import services as books
from linli.books.models import Account, VoucherLine
from linli.books.money import format_fen
from linli.cases.photos import clean_images
from linli.community.models import Resident
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied, RateLimited
from linli.core.masking import scrub
from linli.disclosure import services as disclosure
from linli.voting import phases
from linli.voting import services as voting
from linli.voting.models import Process, Vote

from . import rules, selection
from .models import Acceptance, Call, Milestone, MilestonePhoto, PanelMember, Project
from .workflow import PROJECT

P = Project.State

# The phases of a call, in order (keys are binding: the services require them).
PHASES = (
    ("call", gettext_lazy("Call announced")),
    ("submission", gettext_lazy("Projects submitted")),
    ("review", gettext_lazy("Eligibility and cost review")),
    ("vote", gettext_lazy("Residents' vote")),
    ("selection", gettext_lazy("Selection")),
    ("implementation", gettext_lazy("Implementation")),
    ("acceptance", gettext_lazy("Acceptance by residents")),
    ("report", gettext_lazy("Final report")),
)
PHASE_KEYS = tuple(k for k, _n in PHASES)
REQUIRED_PHASES = ("submission", "review", "vote", "selection")
MAX_PROJECTS_PER_PROPOSER = 5
MAX_BUDGET_LINES = 20
MIN_PANEL = 3
ELIGIBILITIES = ("adults", "households", "owners")


def phase_specs(starts: dict[str, dt.datetime], *, disabled=()) -> list[phases.PhaseSpec]:
    """The call's eight phases with their starts (``{key: start}``) in the installation's words."""
    missing = [k for k in PHASE_KEYS if k not in starts]
    if missing:
        raise InvalidInput(_("Give a start for every phase of the call."), field="phases")
    return [phases.PhaseSpec(key=k, name=str(name), starts_at=starts[k], enabled=k not in disabled)
            for k, name in PHASES]


# ----------------------------------------------------------------------------------------------
# Small checks


def _text(value, field: str, max_length: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field=field)
    if len(value) > max_length:
        raise InvalidInput(_("At most %(max)d characters.") % {"max": max_length}, field=field)
    return value


def _fen(value, field: str, *, positive: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("Enter an amount in fen, a whole number."), field=field)
    if value < 0 or (positive and value == 0):
        raise InvalidInput(_("Enter an amount above zero.") if positive else _("Enter an amount of zero or more."),
                           field=field)
    if value > 10**13:
        raise InvalidInput(_("This amount is too large."), field=field)
    return value


def _percent(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput(_("Enter a whole percentage from 0 to 100."), field=field)
    return value


def _require_admin(actor, community):
    if actor is not None and not rules.runs_calls(actor, community):
        raise PermissionDenied(_("Only an administrator of this community may do this with its fund calls."))


def _require_office(actor, community):
    if actor is None or not rules.works_calls(actor, community):
        raise PermissionDenied(_("Only the community's office may do this with its fund projects."))


def canonical(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def result_payload(call: Call, selected: list[str]) -> dict:
    """What the result's hash covers: ``{"call", "rule", "selected"}`` (as ``linli funds result``)."""
    return {"call": call.pk, "rule": call.rule, "selected": [str(s) for s in selected]}


def result_hash(call: Call, selected: list[str]) -> str:
    return hashlib.sha256(canonical(result_payload(call, selected)).encode()).hexdigest()


def _money(fen: int) -> str:
    return format_fen(fen)


# ----------------------------------------------------------------------------------------------
# The budget and the books


def pool_balance(community) -> int | None:
    """What the community fund holds and has not given to a project (3102.00, posted vouchers
    only, credit less debit); None when the books have no chart."""
    pool = Account.objects.filter(community=community, code=books_chart.FUND_POOL_CODE).first()
    if pool is None:
        return None
    totals = VoucherLine.objects.filter(account=pool, voucher__status="approved").aggregate(
        d=Sum("debit"), c=Sum("credit"))
    return (totals["c"] or 0) - (totals["d"] or 0)


def available_fen(community, *, excluding: Call | None = None) -> int | None:
    """The pool less the budgets of the community's calls still open (each reserves its own)."""
    pool = pool_balance(community)
    if pool is None:
        return None
    reserved = Call.objects.filter(community=community, state=Call.State.OPEN, imported=False)
    if excluding is not None:
        reserved = reserved.exclude(pk=excluding.pk)
    return pool - (reserved.aggregate(s=Sum("budget_fen"))["s"] or 0)


def _check_budget(community, budget_fen: int, excluding: Call | None = None):
    available = available_fen(community, excluding=excluding)
    if available is None:
        raise InvalidInput(_("Install the chart of accounts first: the call's budget is drawn from the books."),
                           field="budget_fen")
    if budget_fen > available:
        raise InvalidInput(
            _("The community fund holds %(available)s not yet given to a project or reserved by another call; "
              "the budget may not be more.") % {"available": _money(max(available, 0))}, field="budget_fen")


def _check_settings(*, budget_fen, rule, ballot_kind, eligibility, min_votes, min_projects, max_projects,
                    min_budget_share_percent) -> None:
    _fen(budget_fen, "budget_fen")
    if rule not in Call.Rule.values:
        raise InvalidInput(_("Choose the selection rule."), field="rule")
    if ballot_kind not in Call.BallotKind.values:
        raise InvalidInput(_("Choose the kind of ballot."), field="ballot_kind")
    if eligibility not in ELIGIBILITIES:
        raise InvalidInput(_("Choose who may vote."), field="eligibility")
    if isinstance(min_votes, bool) or not isinstance(min_votes, int) or min_votes < 0:
        raise InvalidInput(_("Enter a whole number of votes, zero or more."), field="min_votes")
    if isinstance(min_projects, bool) or not isinstance(min_projects, int) or min_projects < 0:
        raise InvalidInput(_("Enter a whole number of projects, zero or more."), field="min_projects")
    if max_projects is not None and (isinstance(max_projects, bool) or not isinstance(max_projects, int)
                                     or max_projects < 1 or max_projects < min_projects):
        raise InvalidInput(_("The most projects on a ballot must be at least one and not fewer than the fewest."),
                           field="max_projects")
    _percent(min_budget_share_percent, "min_budget_share_percent")
    if min_budget_share_percent and ballot_kind != Call.BallotKind.KNAPSACK:
        raise InvalidInput(_("A least share of the budget applies only to a ballot within the budget."),
                           field="min_budget_share_percent")


# ----------------------------------------------------------------------------------------------
# Calls


def call_create(*, actor, community, year: int, title: str, budget_fen: int, specs, ends_at: dt.datetime,
                description: str = "", rule: str = "greedy", ballot_kind: str = "approval",
                eligibility: str = "adults", min_votes: int = 0, min_projects: int = 0,
                max_projects: int | None = None, min_budget_share_percent: int = 0, grids=()) -> Call:
    """A yearly call: a voting process of kind "fund" with the call's phases, and its budget,
    checked against what the community fund holds in the books (docs/funds.md, "Budget")."""
    _require_admin(actor, community)
    title = _text(title, "title", 200)
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput(_("Enter a year between 2000 and 2100."), field="year")
    _check_settings(budget_fen=budget_fen, rule=rule, ballot_kind=ballot_kind, eligibility=eligibility,
                    min_votes=min_votes, min_projects=min_projects, max_projects=max_projects,
                    min_budget_share_percent=min_budget_share_percent)
    specs = list(specs)
    keys = [s.key for s in specs]
    if keys != list(PHASE_KEYS):
        raise InvalidInput(_("A call has the phases call, submission, review, vote, selection, implementation, "
                             "acceptance and report, in this order."), field="phases")
    if any(not s.enabled for s in specs if s.key in REQUIRED_PHASES):
        raise InvalidInput(_("Submission, review, vote and selection cannot be switched off."), field="phases")
    with transaction.atomic():
        # The budget is checked under the fund account's row lock: two calls at once cannot
        # both reserve the same money.
        Account.objects.select_for_update().filter(community=community, code=books_chart.FUND_POOL_CODE).exists()
        _check_budget(community, budget_fen)
        process = voting.process_create(actor=actor, community=community, kind=Process.Kind.FUND, title=title,
                                        description=description or "", grids=grids, specs=specs, ends_at=ends_at)
        call = Call.objects.create(
            community=community, process=process, year=year, title=title, budget_fen=budget_fen, rule=rule,
            ballot_kind=ballot_kind, eligibility=eligibility, min_votes=min_votes, min_projects=min_projects,
            max_projects=max_projects, min_budget_share_percent=min_budget_share_percent, created_by=actor)
        events.record(actor=actor, verb="funds.call_created", target=call, community=community,
                      data={"year": year, "budget_fen": budget_fen, "rule": rule, "process": process.pk})
    return call


def call_update(*, actor, call: Call, budget_fen: int, rule: str, ballot_kind: str, min_votes: int = 0,
                min_projects: int = 0, max_projects: int | None = None,
                min_budget_share_percent: int = 0) -> Call:
    """Change the call's budget and rules: only while the call is announced (phase "call"),
    before anyone has submitted under them."""
    _require_admin(actor, call.community)
    phases.require(call.process, "call", action=_("change the call's budget and rules"))
    _check_settings(budget_fen=budget_fen, rule=rule, ballot_kind=ballot_kind, eligibility=call.eligibility,
                    min_votes=min_votes, min_projects=min_projects, max_projects=max_projects,
                    min_budget_share_percent=min_budget_share_percent)
    with transaction.atomic():
        Account.objects.select_for_update().filter(community=call.community,
                                                   code=books_chart.FUND_POOL_CODE).exists()
        call = Call.objects.select_for_update().get(pk=call.pk)
        _check_budget(call.community, budget_fen, excluding=call)
        call.budget_fen, call.rule, call.ballot_kind = budget_fen, rule, ballot_kind
        call.min_votes, call.min_projects, call.max_projects = min_votes, min_projects, max_projects
        call.min_budget_share_percent = min_budget_share_percent
        call.save()
        events.record(actor=actor, verb="funds.call_changed", target=call, community=call.community,
                      data={"budget_fen": budget_fen, "rule": rule, "ballot_kind": ballot_kind})
    return call


# ----------------------------------------------------------------------------------------------
# Projects


def _budget_lines(lines) -> list[dict]:
    out = []
    for line in lines or ():
        if isinstance(line, dict):
            item, amount = line.get("item"), line.get("amount_fen")
        else:
            item, amount = line
        item = _text(item, "budget_lines", 100)
        amount = _fen(amount, "budget_lines")
        out.append({"item": item, "amount_fen": amount})
    if not out:
        raise InvalidInput(_("Give at least one budget line: what it is and what it costs."), field="budget_lines")
    if len(out) > MAX_BUDGET_LINES:
        raise InvalidInput(_("At most %(n)d budget lines.") % {"n": MAX_BUDGET_LINES}, field="budget_lines")
    return out


def _project_fields(call, *, title, description, place, beneficiaries, budget_lines, own_contribution_fen,
                    proposer_kind, proposer_name) -> dict:
    lines = _budget_lines(budget_lines)
    cost = sum(line["amount_fen"] for line in lines)
    if cost > call.budget_fen:
        raise InvalidInput(_("The project costs %(cost)s, more than the call's whole budget of %(budget)s.")
                           % {"cost": _money(cost), "budget": _money(call.budget_fen)}, field="budget_lines")
    if proposer_kind not in Project.ProposerKind.values:
        raise InvalidInput(_("Say who proposes the project."), field="proposer_kind")
    proposer_name = _text(proposer_name, "proposer_name", 120,
                          required=proposer_kind != Project.ProposerKind.RESIDENT)
    if proposer_kind == Project.ProposerKind.RESIDENT:
        proposer_name = ""
    return {
        "title": _text(title, "title", 120),
        "description": _text(description, "description", 4000),
        "place": _text(place, "place", 200),
        "beneficiaries": _text(beneficiaries, "beneficiaries", 300),
        "budget_lines": lines, "cost_fen": cost,
        "own_contribution_fen": _fen(own_contribution_fen, "own_contribution_fen", positive=False),
        "proposer_kind": proposer_kind, "proposer_name": proposer_name,
    }


def _may_propose(actor, call) -> None:
    if rules.resident_of(actor, call) is None and not rules.works_calls(actor, call.community):
        raise PermissionDenied(_("Only residents of the call's community (and courtyards) may submit projects."))


def project_submit(*, actor, call: Call, title: str, description: str, place: str, beneficiaries: str,
                   budget_lines, own_contribution_fen: int = 0, proposer_kind: str = "resident",
                   proposer_name: str = "") -> Project:
    """A resident (for themself, a group or an organisation) submits a project while submission
    is open; the office may submit one for a group or organisation without an account."""
    phases.require(call.process, "submission", action=_("submit a project"))
    _may_propose(actor, call)
    fields = _project_fields(call, title=title, description=description, place=place,
                             beneficiaries=beneficiaries, budget_lines=budget_lines,
                             own_contribution_fen=own_contribution_fen, proposer_kind=proposer_kind,
                             proposer_name=proposer_name)
    with transaction.atomic():
        Call.objects.select_for_update().filter(pk=call.pk).exists()
        mine = Project.objects.filter(call=call, proposer=actor).exclude(state=P.WITHDRAWN).count()
        if mine >= MAX_PROJECTS_PER_PROPOSER and not rules.works_calls(actor, call.community):
            raise RateLimited(_("You have submitted %(n)d projects to this call; that is the most one account may.")
                              % {"n": MAX_PROJECTS_PER_PROPOSER}, retry_after=0)
        project = Project.objects.create(call=call, proposer=actor, **fields)
        events.record(actor=actor, verb="funds.project_submitted", target=project, community=call.community,
                      data={"call": call.pk, "project": project.pk, "cost_fen": project.cost_fen})
    return project


def project_update(*, actor, project: Project, title: str, description: str, place: str, beneficiaries: str,
                   budget_lines, own_contribution_fen: int = 0, proposer_kind: str = "resident",
                   proposer_name: str = "") -> Project:
    """The proposer edits their project while submission is open and it is not yet reviewed."""
    call = project.call
    phases.require(call.process, "submission", action=_("change a project"))
    if not rules.is_proposer(actor, project):
        raise PermissionDenied(_("Only the proposer may change a project."))
    fields = _project_fields(call, title=title, description=description, place=place,
                             beneficiaries=beneficiaries, budget_lines=budget_lines,
                             own_contribution_fen=own_contribution_fen, proposer_kind=proposer_kind,
                             proposer_name=proposer_name)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.state != P.SUBMITTED:
            raise InvalidInput(_("This project is %(state)s; it can no longer be changed.")
                               % {"state": project.get_state_display()}, code="illegal_transition")
        for name, value in fields.items():
            setattr(project, name, value)
        project.save()
        events.record(actor=actor, verb="funds.project_changed", target=project, community=call.community,
                      data={"call": call.pk, "project": project.pk, "cost_fen": project.cost_fen})
    return project


def project_withdraw(*, actor, project: Project) -> Project:
    phases.require(project.call.process, "submission", action=_("withdraw a project"))
    return PROJECT.transition(project, "withdraw", actor=actor)


def project_review(*, actor, project: Project, eligible: bool, reason: str = "",
                   cost_fen: int | None = None) -> Project:
    """The eligibility and cost review: eligible or not, with a reason the proposer sees (required
    when not eligible or when the cost is changed). ``cost_fen``: the reviewed cost, if the
    office finds the proposed one wrong. May be made again while the review phase lasts."""
    call = project.call
    phases.require(call.process, "review", action=_("review a project"))
    reason = _text(reason, "reason", 1000, required=False)
    if not eligible and not reason:
        raise InvalidInput(_("Say why the project is not eligible: the proposer reads it."), field="reason")
    proposed = sum(line["amount_fen"] for line in project.budget_lines)
    if cost_fen is not None:
        cost_fen = _fen(cost_fen, "cost_fen")
        if cost_fen > call.budget_fen:
            raise InvalidInput(_("The reviewed cost may not be more than the call's budget."), field="cost_fen")
        if cost_fen != proposed and not reason:
            raise InvalidInput(_("Say why the cost is changed: the proposer reads it."), field="reason")

    def apply(obj, now):
        obj.review_reason = reason
        obj.reviewed_cost_fen = cost_fen if cost_fen is not None and cost_fen != proposed else None
        obj.cost_fen = cost_fen if cost_fen is not None else proposed
        obj.reviewed_by, obj.reviewed_at = actor, now
        return P.ELIGIBLE if eligible else P.INELIGIBLE

    return PROJECT.transition(project, "review", actor=actor, apply=apply,
                              data={"eligible": bool(eligible), "cost_fen": cost_fen or proposed})


# ----------------------------------------------------------------------------------------------
# The residents' vote


def vote_prepare(*, actor, call: Call) -> Vote:
    """Open the residents' vote: one approval question whose options are the eligible projects
    (``ref = "project:<id>"``, their reviewed cost), with the call's fewest/most projects, and for
    a ballot within the budget, the budget and its least share. Made in the vote phase, once
    every project is reviewed."""
    _require_admin(actor, call.community)
    phases.require(call.process, "vote", action=_("open the residents' vote"))
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.vote_id is not None:
            raise InvalidInput(_("The vote of this call is already open."), code="illegal_transition")
        if call.projects.filter(state=P.SUBMITTED).exists():
            raise InvalidInput(_("Review every submitted project first."), code="not_reviewed")
        eligible = list(call.projects.filter(state=P.ELIGIBLE).order_by("pk"))
        if not eligible:
            raise InvalidInput(_("No project is eligible: there is nothing to vote on."), code="nothing_to_vote")
        if call.min_projects > len(eligible):
            raise InvalidInput(_("Fewer projects are eligible than a ballot must choose."), field="min_projects")
        knapsack = call.ballot_kind == Call.BallotKind.KNAPSACK
        vote = voting.vote_create(
            actor=actor, process=call.process, title=call.title, kind=Vote.Kind.APPROVAL,
            eligibility=call.eligibility, rule=Vote.Rule.TALLY,
            # Labels are shown to every voter and published with the result: scrubbed.
            questions=[(call.title, [(scrub(p.title, doors=True)[:200], p.cost_fen, p.ref) for p in eligible])],
            phase_key="vote", min_choices=call.min_projects, max_choices=call.max_projects,
            budget_fen=call.budget_fen if knapsack else None,
            min_budget_share_percent=call.min_budget_share_percent if knapsack else 0)
        vote = voting.vote_open(actor=actor, vote=vote)
        call.vote = vote
        call.save(update_fields=["vote"])
        events.record(actor=actor, verb="funds.vote_prepared", target=call, community=call.community,
                      data={"vote": vote.pk, "projects": len(eligible)})
    return vote


# ----------------------------------------------------------------------------------------------
# Selection, override


def _publish(call: Call, title: str, body: str) -> int:
    today = timezone.localdate()
    start = dt.date(call.year, 1, 1)
    entry = disclosure.publish_as_server(community=call.community, section="finance", title=title[:200], body=body,
                                         period_start=min(start, today), period_end=max(today, start))
    return entry.log_index


def _project_line(p: Project, mark: str) -> str:
    return _("%(mark)s #%(id)s %(title)s: cost %(cost)s, %(votes)s votes") % {
        "mark": mark, "id": p.pk, "title": scrub(p.title, doors=True), "cost": _money(p.cost_fen),
        "votes": p.votes if p.votes is not None else 0}


def _result_body(call: Call, projects: list[Project], selected: list[str], ballots: int, digest: str) -> str:
    chosen = set(selected)
    lines = [
        _("Rule: %(rule)s. Budget: %(budget)s. Least votes a project needs: %(min)d. Ballots: %(n)d.") % {
            "rule": call.get_rule_display(), "budget": _money(call.budget_fen), "min": call.min_votes, "n": ballots},
        _("Selected (in the rule's order):"),
    ]
    by_id = {str(p.pk): p for p in projects}
    lines += [_project_line(by_id[pid], "✓") for pid in selected]
    lines.append(_("Not selected:"))
    lines += [_project_line(p, "✗") for p in projects if str(p.pk) not in chosen]
    lines.append(_("Total of the selected: %(total)s.") % {
        "total": _money(sum(by_id[pid].cost_fen for pid in selected))})
    lines.append(_("Result SHA-256 (of %(payload)s): %(digest)s") % {
        "payload": canonical(result_payload(call, selected)), "digest": digest})
    return "\n".join(lines)


def select(*, actor, call: Call, force_reason: str = "") -> Call:
    """Close and count the residents' vote (the voting engine publishes its ballot list), select
    by the call's rule (``selection.select`` with its least votes), store the result with its
    hash, move every eligible project to selected or not selected, and publish the result on
    the log (section "finance")."""
    from linli.voting import results

    _require_admin(actor, call.community)
    phases.require(call.process, "selection", action=_("publish the selection"))
    if call.state != Call.State.OPEN or call.result_sha256:
        raise InvalidInput(_("The selection of this call is already published."), code="illegal_transition")
    if call.vote_id is None:
        raise InvalidInput(_("This call had no residents' vote."), code="no_vote")
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.vote.state != Vote.State.PUBLISHED:
            # Unreconciled paper sheets stop it unless ``force_reason`` says why (published).
            results.publish(actor=actor, vote=call.vote, force_reason=force_reason)
        instance, approvals, min_votes, rule = _instance(call)
        chosen = selection.select(rule, instance, approvals, min_votes=min_votes)
        counts = selection.approval_counts(instance, approvals)
        projects = list(Project.objects.filter(call=call, state=P.ELIGIBLE).order_by("pk"))
        for project in projects:
            project.votes = counts.get(str(project.pk), 0)
            Project.objects.filter(pk=project.pk).update(votes=project.votes)
            PROJECT.transition(project, "select" if str(project.pk) in chosen else "not_select", actor=actor,
                               data={"votes": project.votes})
        digest = result_hash(call, chosen)
        call.computed, call.selected, call.result_sha256 = chosen, chosen, digest
        call.log_index = _publish(call, _("Community fund %(year)d: projects selected by the residents' vote")
                                  % {"year": call.year},
                                  _result_body(call, projects, chosen, len(approvals), digest))
        call.state = Call.State.SELECTED
        call.save()
        events.record(actor=actor, verb="funds.selection_published", target=call, community=call.community,
                      data={"selected": chosen, "result_sha256": digest, "log_index": call.log_index})
    return call


def override(*, actor, call: Call, selected, reason: str) -> Call:
    """An administrator changes the selection, only with a reason, published on the log beside
    the rule's result (which stays as published: ``computed`` and its hash do not change)."""
    _require_admin(actor, call.community)
    if actor is None:
        raise PermissionDenied(_("Only an administrator of this community may do this with its fund calls."))
    phases.require(call.process, "selection", action=_("override the selection"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("An override needs a reason; it is published with it."), field="reason")
    reason = _text(reason, "reason", 1000)
    if call.state != Call.State.SELECTED:
        raise InvalidInput(_("Publish the rule's selection first."), code="illegal_transition")
    wanted = [str(s) for s in selected]
    projects = {str(p.pk): p for p in call.projects.filter(state__in=(P.SELECTED, P.NOT_SELECTED))}
    unknown = [s for s in wanted if s not in projects]
    if unknown or len(set(wanted)) != len(wanted):
        raise InvalidInput(_("Choose among the projects that were on the ballot."), field="selected")
    if sum(projects[s].cost_fen for s in wanted) > call.budget_fen:
        raise InvalidInput(_("The chosen projects cost more than the call's budget."), field="selected")
    if set(wanted) == set(call.selected):
        raise InvalidInput(_("This is the selection as it stands."), field="selected")
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        for pid, project in sorted(projects.items()):
            target = P.SELECTED if pid in wanted else P.NOT_SELECTED
            if project.state != target:
                PROJECT.transition(project, "reselect", actor=actor, apply=lambda obj, now, t=target: t,
                                   data={"reason": "override"})
        added = [s for s in wanted if s not in call.selected]
        dropped = [s for s in call.selected if s not in wanted]
        body = "\n".join([
            _("The administrators changed the selection the rule made. Reason: %(reason)s")
            % {"reason": scrub(reason, doors=True)},
            _("Added: %(ids)s") % {"ids": ", ".join(f"#{s} {scrub(projects[s].title)}" for s in added) or "—"},
            _("Dropped: %(ids)s") % {"ids": ", ".join(f"#{s} {scrub(projects[s].title)}" for s in dropped) or "—"},
            _("The rule's result stays as published (SHA-256 %(digest)s).") % {"digest": call.result_sha256},
        ])
        call.override_log_index = _publish(call, _("Community fund %(year)d: the selection changed by an override")
                                           % {"year": call.year}, body)
        call.selected, call.override_reason = wanted, reason
        call.overridden_by, call.overridden_at = actor, timezone.now()
        call.save()
        events.record(actor=actor, verb="funds.selection_overridden", target=call, community=call.community,
                      data={"added": added, "dropped": dropped, "log_index": call.override_log_index})
    return call


# ----------------------------------------------------------------------------------------------
# Implementation, spending, acceptance, report


def project_start(*, actor, project: Project) -> Project:
    """The work starts: the project gets its sub-account of the community fund in the books
    (3102.NN, opened by the system on the office's behalf), where its money is booked."""
    phases.require(project.call.process, "implementation", action=_("start a project's work"))

    def apply(obj, now):
        obj.account = books.fund_project_create(actor=None, community=obj.call.community,
                                                name=_text(obj.title, "title", 120)[:60])

    return PROJECT.transition(project, "start", actor=actor, apply=apply)


def milestone_record(*, actor, project: Project, title: str, date: dt.date, progress: int, note: str = "",
                     photos=()) -> Milestone:
    """A dated step with the progress reached (0–100 %) and up to four photos, cleaned of their
    metadata as a case's photos are (``linli.cases.photos``)."""
    phases.require(project.call.process, "implementation", action=_("record a milestone"))
    _require_office(actor, project.call.community)
    title = _text(title, "title", 120)
    note = _text(note, "note", 2000, required=False)
    if not isinstance(date, dt.date):
        raise InvalidInput(_("Enter the date."), field="date")
    if date > timezone.localdate():
        raise InvalidInput(_("A milestone cannot be dated in the future."), field="date")
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise InvalidInput(_("Enter a whole percentage from 0 to 100."), field="progress")
    cleaned = clean_images(photos)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.state != P.IMPLEMENTING:
            raise InvalidInput(_("Milestones are recorded while a project is being carried out."),
                               code="illegal_transition")
        milestone = Milestone.objects.create(project=project, title=title, note=note, date=date,
                                             progress=progress, recorded_by=actor)
        for image in cleaned:
            _attach(milestone, image)
        project.progress = progress
        project.save(update_fields=["progress", "updated_at"])
        events.record(actor=actor, verb="funds.milestone_recorded", target=project,
                      community=project.call.community,
                      data={"project": project.pk, "progress": progress, "photos": len(cleaned)})
    return milestone


def _attach(milestone, image) -> MilestonePhoto:
    import secrets

    from django.core.files.base import ContentFile

    photo = MilestonePhoto(milestone=milestone, content_type=image.content_type, width=image.width,
                           height=image.height, sha256=image.sha256)
    ext = "png" if image.content_type == "image/png" else "jpg"
    photo.image.save(f"{secrets.token_hex(12)}.{ext}", ContentFile(image.content), save=True)
    return photo


def spending_record(*, actor, project: Project, date: dt.date, summary: str, amount_fen: int,
                    paid_from: str = "1002"):
    """Book a payment for the project: a draft voucher Dr 3102.NN (the project's account) / Cr
    ``paid_from`` (the bank by default), which a second person approves in the books as any
    voucher. Returns the voucher (the books record its event)."""
    phases.require(project.call.process, "implementation", action=_("book spending on a project"))
    _require_office(actor, project.call.community)
    amount_fen = _fen(amount_fen, "amount_fen")
    if project.state != P.IMPLEMENTING or project.account_id is None:
        raise InvalidInput(_("Spending is booked while a project is being carried out."), code="illegal_transition")
    source = Account.objects.filter(community=project.call.community, code=paid_from).first()
    if source is None:
        raise InvalidInput(_("There is no such account in the books."), field="paid_from")
    summary = _text(summary, "summary", 200)
    return books.voucher_create(actor=actor, community=project.call.community, date=date, summary=summary, lines=[
        books.LineInput(account=project.account, debit=amount_fen, credit=0, summary=summary),
        books.LineInput(account=source, debit=0, credit=amount_fen, summary=summary),
    ])


@dataclass(frozen=True)
class PanelVote:
    resident: Resident
    agrees: bool


def acceptance_record(*, actor, project: Project, panel, note: str, date: dt.date) -> Acceptance:
    """验收: a panel of at least three residents of the community (not the proposer) looked at the
    finished project; each agrees or not; it is accepted when more than half agree. Recorded by
    the office; a failed acceptance leaves the project being carried out."""
    phases.require(project.call.process, "acceptance", action=_("record an acceptance"))
    _require_office(actor, project.call.community)
    note = _text(note, "note", 2000)
    if not isinstance(date, dt.date) or date > timezone.localdate():
        raise InvalidInput(_("Enter the date of the acceptance, not in the future."), field="date")
    members = [m if isinstance(m, PanelVote) else PanelVote(*m) for m in panel]
    ids = [m.resident.pk for m in members]
    if len(set(ids)) != len(ids):
        raise InvalidInput(_("A resident sits on the panel once."), field="panel")
    if len(members) < MIN_PANEL:
        raise InvalidInput(_("An acceptance panel has at least %(n)d residents.") % {"n": MIN_PANEL}, field="panel")
    for m in members:
        if m.resident.community_id != project.call.community_id:
            raise InvalidInput(_("Every member of the panel is a resident of the community."), field="panel")
        if project.proposer_id is not None and m.resident.user_id == project.proposer_id:
            raise InvalidInput(_("The proposer may not sit on the panel that accepts their own project."),
                               field="panel")
    passed = sum(1 for m in members if m.agrees) * 2 > len(members)
    holder = {}

    def apply(obj, now):
        acc = Acceptance.objects.create(project=obj, passed=passed, note=note, date=date, recorded_by=actor)
        PanelMember.objects.bulk_create([PanelMember(acceptance=acc, resident=m.resident, agrees=bool(m.agrees))
                                         for m in members])
        holder["acceptance"] = acc
        if passed:
            obj.progress = 100

    PROJECT.transition(project, "accept" if passed else "acceptance_failed", actor=actor, apply=apply,
                       data={"panel": len(members), "agree": sum(1 for m in members if m.agrees)})
    return holder["acceptance"]


def report_publish(*, actor, call: Call) -> Call:
    """The call's final report on the log (section "finance"): each selected project with its
    cost, what the books show it received and spent, its progress and its acceptance."""
    from . import selectors

    _require_admin(actor, call.community)
    phases.require(call.process, "report", action=_("publish the final report"))
    if call.state != Call.State.SELECTED:
        raise InvalidInput(_("The final report follows the published selection, once."), code="illegal_transition")
    lines = [_("Budget %(budget)s; rule: %(rule)s; selection published at log index %(index)s.") % {
        "budget": _money(call.budget_fen), "rule": call.get_rule_display(), "index": call.log_index}]
    if call.override_reason:
        lines.append(_("The selection was changed by an override (log index %(index)s).")
                     % {"index": call.override_log_index})
    for project in call.projects.filter(state__in=(P.SELECTED, P.IMPLEMENTING, P.ACCEPTED)).order_by("pk"):
        money = selectors.project_money(project)
        last = project.acceptances.order_by("-id").first()
        verdict = (_("accepted by a panel of %(n)d residents on %(date)s") % {
            "n": last.members.count(), "date": last.date.isoformat()}) if project.state == P.ACCEPTED else (
            _("not accepted yet"))
        lines.append(_("#%(id)s %(title)s: cost %(cost)s; received %(received)s, spent %(spent)s; "
                       "progress %(progress)d%%; %(verdict)s.") % {
            "id": project.pk, "title": scrub(project.title, doors=True), "cost": _money(project.cost_fen),
            "received": _money(money.received), "spent": _money(money.spent), "progress": project.progress,
            "verdict": verdict})
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.state != Call.State.SELECTED:
            raise InvalidInput(_("The final report follows the published selection, once."),
                               code="illegal_transition")
        call.report_log_index = _publish(call, _("Community fund %(year)d: final report") % {"year": call.year},
                                         "\n".join(lines))
        call.state = Call.State.REPORTED
        call.save(update_fields=["report_log_index", "state"])
        events.record(actor=actor, verb="funds.report_published", target=call, community=call.community,
                      data={"log_index": call.report_log_index})
    return call


# ----------------------------------------------------------------------------------------------
# Recompute, import


def _instance(call: Call):
    from .selectors import call_instance

    return call_instance(call)


def recompute(call: Call) -> tuple[bool, str]:
    """Select again from the stored ballots by the call's rule and compare the result's hash
    with the published one. ``(True, message)`` when they agree."""
    if not call.result_sha256:
        return False, _("Call %(id)d has no published result.") % {"id": call.pk}
    instance, approvals, min_votes, rule = _instance(call)
    chosen = selection.select(rule, instance, approvals, min_votes=min_votes)
    digest = result_hash(call, chosen)
    if digest == call.result_sha256:
        return True, _("Call %(id)d: the stored ballots give the published result (%(digest)s).") % {
            "id": call.pk, "digest": digest}
    return False, _("Call %(id)d: the stored ballots give %(mine)s, the published result is %(theirs)s.") % {
        "id": call.pk, "mine": digest, "theirs": call.result_sha256}


def _meta_int(meta: dict, key: str, default=None):
    value = meta.get(key, default)
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidInput(_("META %(key)s is not a whole number.") % {"key": key}, field=key)


def import_pabulib(*, community, meta: dict, projects: list[dict], votes: list[dict]) -> Call:
    """A closed call from a Pabulib file (approval votes): its projects, its ballots (kept on the
    call, ``imported_votes``) and the selection by META's ``rule``, with its hash. Its phases
    are laid out in the past (the process is over). Made by the server (the command)."""
    rule = (meta.get("rule") or "").strip()
    if rule not in Call.Rule.values:
        raise InvalidInput(_("META rule must be greedy or equal-shares."), field="rule")
    if (meta.get("vote_type") or "approval").strip() != "approval":
        raise InvalidInput(_("Only approval votes can be imported."), field="vote_type")
    budget = _meta_int(meta, "budget")
    if budget is None or budget <= 0:
        raise InvalidInput(_("META budget must be a whole number above zero."), field="budget")
    min_votes = _meta_int(meta, "min_votes", 0) or 0
    max_length = _meta_int(meta, "max_length")
    min_length = _meta_int(meta, "min_length", 0) or 0
    title = " ".join(str(meta.get("description") or meta.get("instance") or _("Imported fund call")).split())[:200]
    year = _meta_int(meta, "year") or timezone.localdate().year
    if not projects:
        raise InvalidInput(_("The file has no projects."), field="projects")
    rows = []
    seen = set()
    for p in projects:
        pid = str(p.get("project_id", "")).strip()
        if not pid or pid in seen:
            raise InvalidInput(_("Every project needs its own project_id."), field="projects")
        seen.add(pid)
        try:
            cost = int(str(p.get("cost")).strip())
        except (TypeError, ValueError):
            raise InvalidInput(_("Project %(id)s has no whole-number cost.") % {"id": pid}, field="projects")
        if cost <= 0:
            raise InvalidInput(_("Project %(id)s has no whole-number cost.") % {"id": pid}, field="projects")
        name = (str(p.get("name") or p.get("title") or "").strip() or _("Project %(id)s") % {"id": pid})[:120]
        rows.append((pid, cost, name, str(p.get("description") or "").strip()))
    ballots = []
    for v in votes:
        raw = v.get("vote", "")
        ids = [s.strip() for s in (raw.split(",") if isinstance(raw, str) else raw) if str(s).strip()]
        ids = [str(s) for s in ids]
        if any(s not in seen for s in ids):
            raise InvalidInput(_("A vote names a project the file does not list."), field="votes")
        ballots.append(ids)
    now = timezone.now()
    starts = {k: now - dt.timedelta(days=len(PHASE_KEYS) - i + 1) for i, k in enumerate(PHASE_KEYS)}
    with transaction.atomic():
        process = voting.process_create(actor=None, community=community, kind=Process.Kind.FUND, title=title,
                                        specs=phase_specs(starts), ends_at=now - dt.timedelta(days=1))
        call = Call.objects.create(community=community, process=process, year=year, title=title, budget_fen=budget,
                                   rule=rule, min_votes=min_votes, min_projects=min_length,
                                   max_projects=max_length, imported=True)
        created = {}
        for pid, cost, name, description in rows:
            created[pid] = Project.objects.create(
                call=call, title=name, description=description or name, place="—", beneficiaries="—",
                budget_lines=[{"item": name, "amount_fen": cost}], cost_fen=cost, state=P.ELIGIBLE)
        call.imported_votes = [[str(created[s].pk) for s in ids] for ids in ballots]
        call.save(update_fields=["imported_votes"])
        instance, approvals, mv, rl = _instance(call)
        chosen = selection.select(rl, instance, approvals, min_votes=mv)
        counts = selection.approval_counts(instance, approvals)
        for project in created.values():
            project.votes = counts.get(str(project.pk), 0)
            project.state = P.SELECTED if str(project.pk) in chosen else P.NOT_SELECTED
            project.save(update_fields=["votes", "state"])
        call.computed = call.selected = chosen
        call.result_sha256 = result_hash(call, chosen)
        call.state = Call.State.SELECTED
        call.save()
        events.record(actor=None, verb="funds.call_imported", target=call, community=community,
                      data={"projects": len(created), "votes": len(ballots), "rule": rule,
                            "result_sha256": call.result_sha256,
                            "ids": [[pid, created[pid].pk] for pid in created]})
    return call
