"""Reads of the community fund's calls and projects (docs/funds.md).

``call_instance`` and ``pabulib_payload`` are what the selection, the ``linli funds`` command
and ``recompute`` read; the ballots come from the call's voting ``Vote`` (options map back to
projects by ``ref = "project:<id>"``) or, for an imported call, from ``imported_votes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, Sum

from linli.books.models import VoucherLine
from linli.voting import phases
from linli.voting.models import Ballot, Option

from . import rules, selection
from .models import Call, Project

P = Project.State
# Projects a resident who is not the proposer may see: those on the ballot and after.
PUBLIC_STATES = (P.ELIGIBLE, P.SELECTED, P.NOT_SELECTED, P.IMPLEMENTING, P.ACCEPTED)


def calls(community):
    return Call.objects.filter(community=community).select_related("process").order_by("-year", "-id")


def latest_closed_call(community) -> Call | None:
    """The newest call whose selection is published (or imported)."""
    return (Call.objects.filter(community=community, state__in=(Call.State.SELECTED, Call.State.REPORTED))
            .exclude(result_sha256="").order_by("-year", "-id").first())


def closed_calls(community=None):
    qs = Call.objects.filter(state__in=(Call.State.SELECTED, Call.State.REPORTED)).exclude(result_sha256="")
    if community is not None:
        qs = qs.filter(community=community)
    return qs.order_by("community_id", "year", "id")


def ballot_projects(call: Call) -> list[Project]:
    """The projects that were on the call's ballot, by id."""
    if call.vote_id is None and not call.imported:
        return list(call.projects.filter(state=P.ELIGIBLE).order_by("pk"))
    if call.imported:
        return list(call.projects.order_by("pk"))
    refs = set(Option.objects.filter(question__vote_id=call.vote_id).values_list("ref", flat=True))
    ids = [int(r.split(":", 1)[1]) for r in refs if r.startswith("project:")]
    return list(call.projects.filter(pk__in=ids).order_by("pk"))


def approvals(call: Call) -> list[set[str]]:
    """One set of project ids (str) per stored ballot, in receipt-hash order."""
    if call.imported:
        return [set(ids) for ids in (call.imported_votes or [])]
    if call.vote_id is None:
        return []
    option_project = {str(pk): ref.split(":", 1)[1] for pk, ref in
                      Option.objects.filter(question__vote_id=call.vote_id, ref__startswith="project:")
                      .values_list("pk", "ref")}
    out = []
    for choices in Ballot.objects.filter(vote_id=call.vote_id).order_by("receipt_hash").values_list(
            "choices", flat=True).iterator(chunk_size=2000):
        chosen = set()
        for key, value in (choices or {}).items():
            if key == "comments":
                continue
            for option in (value if isinstance(value, list) else [value]):
                pid = option_project.get(str(option))
                if pid is not None:
                    chosen.add(pid)
        out.append(chosen)
    return out


def call_instance(call: Call):
    """``(Instance, approvals, min_votes, rule)`` from the stored ballots."""
    instance = selection.Instance(budget=call.budget_fen,
                                  costs={str(p.pk): p.cost_fen for p in ballot_projects(call)})
    return instance, approvals(call), call.min_votes, call.rule


def pabulib_payload(call: Call) -> tuple[dict, list[dict], list[dict]]:
    """The call as Pabulib's META, PROJECTS and VOTES (project ids: the Project primary key as a
    string; costs and budget in fen; voters numbered in the ballots' receipt-hash order, which
    says nothing of who they are)."""
    projects = ballot_projects(call)
    ballots = approvals(call)
    counts = selection.approval_counts(
        selection.Instance(budget=call.budget_fen, costs={str(p.pk): p.cost_fen for p in projects}), ballots)
    chosen = set(call.computed or [])
    meta = {
        "description": call.title, "country": "China", "unit": call.community.name, "instance": str(call.year),
        "year": str(call.year), "num_projects": str(len(projects)), "num_votes": str(len(ballots)),
        "budget": str(call.budget_fen), "currency": "CNY", "cost_unit": "fen", "vote_type": "approval", "rule": call.rule,
        "min_length": str(call.min_projects),
    }
    if call.max_projects is not None:
        meta["max_length"] = str(call.max_projects)
    if call.min_votes:
        meta["min_votes"] = str(call.min_votes)
    rows = [{"project_id": str(p.pk), "cost": str(p.cost_fen), "votes": str(counts.get(str(p.pk), 0)),
             "name": p.title, "selected": "1" if str(p.pk) in chosen else "0"} for p in projects]
    votes = [{"voter_id": str(i), "vote": ",".join(sorted(b, key=selection.tie_key))}
             for i, b in enumerate(ballots, start=1)]
    return meta, rows, votes


@dataclass(frozen=True)
class ProjectMoney:
    received: int
    spent: int
    pending: int

    @property
    def balance(self) -> int:
        return self.received - self.spent


def project_money(project: Project) -> ProjectMoney:
    """From the books: what the project's account received (credits) and spent (debits) on
    posted vouchers, and spending booked but not yet approved."""
    if project.account_id is None:
        return ProjectMoney(0, 0, 0)
    lines = VoucherLine.objects.filter(account_id=project.account_id)
    posted = lines.filter(voucher__status="approved").aggregate(d=Sum("debit"), c=Sum("credit"))
    pending = lines.filter(voucher__status__in=("draft", "submitted", "returned")).aggregate(d=Sum("debit"))
    return ProjectMoney(received=posted["c"] or 0, spent=posted["d"] or 0, pending=pending["d"] or 0)


def project_vouchers(project: Project):
    """The vouchers with a line on the project's account (its spending and allocations)."""
    if project.account_id is None:
        return []
    from linli.books.models import Voucher

    return list(Voucher.objects.filter(lines__account_id=project.account_id).distinct().order_by("date", "number"))


def visible_projects(user, call: Call):
    """The call's projects this account may see: the office all; others the ones on the ballot
    and after, and their own."""
    qs = call.projects.all().order_by("pk")
    if rules.reads_office(user, call.community):
        return qs
    q = Q(state__in=PUBLIC_STATES)
    if user is not None and getattr(user, "is_authenticated", False):
        q |= Q(proposer=user)
    return qs.filter(q)


def may_see_project(user, project: Project) -> bool:
    return (project.state in PUBLIC_STATES or rules.is_proposer(user, project)
            or rules.reads_office(user, project.call.community))


def current_phase(call: Call):
    return phases.current(call.process)
