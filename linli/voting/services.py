"""Every write of the process and voting engine (docs/voting.md).

Keyword-only, atomic, one event each. Casting checks, in this order: the vote's phase is
current (:func:`linli.voting.phases.require`), the vote is open, the channel is allowed, the
actor may cast on that channel, the resident is eligible, the ballot is valid; then it
inserts the :class:`~linli.voting.models.Participation` and the
:class:`~linli.voting.models.Ballot` in one transaction. The participation's unique
``(vote, voter_key)`` is the one person one vote guarantee: a second vote by any channel
raises :class:`AlreadyVoted` and changes nothing. Ballots' events never carry the choices or
the receipt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.models import Event
from linli.core.errors import InvalidInput, PermissionDenied
from linli.disclosure.pii import holds_numbers

from . import ballots, eligibility, phases, rules
from .models import Ballot, Booth, Channel, Option, Participation, Phase, Process, Question, Vote
from .workflow import VOTE

# Receipt codes: no 0/O, 1/I/L; grouped by four for reading aloud.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 16


class AlreadyVoted(InvalidInput):
    code = "already_voted"
    status = 409


class VoteNotOpen(InvalidInput):
    code = "vote_not_open"
    status = 409


@dataclass(frozen=True)
class Receipt:
    """What the voter keeps: ``code`` (shown once, never stored) and its ``receipt_hash``,
    which the published ballot list carries beside the ballot."""

    code: str
    receipt_hash: str


def normalize_code(code: str) -> str:
    """A code as typed (any case, spaces or dashes between groups) in its one canonical form."""
    return "".join(ch for ch in str(code or "").upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    """SHA-256 hex of ``"linli-ballot:" + code`` (the code in its canonical form)."""
    return hashlib.sha256(("linli-ballot:" + normalize_code(code)).encode("utf-8")).hexdigest()


def new_code(length: int = RECEIPT_LENGTH) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return "-".join(raw[i:i + 4] for i in range(0, length, 4))


# --- processes --------------------------------------------------------------------------------


def process_create(*, actor, community, kind: str, title: str, description: str = "", grids=(),
                   specs: list[phases.PhaseSpec], ends_at: dt.datetime) -> Process:
    """A process with its phases (events ``voting.process_created`` and ``voting.phases_set``)."""
    if actor is not None and not rules.may_run(actor, community):
        raise PermissionDenied(_("You may not run processes in this community."))
    if kind not in Process.Kind.values:
        raise InvalidInput(_("Unknown kind of process."), field="kind")
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("A process needs a title."), field="title")
    grids = list(grids)
    if any(g.community_id != community.pk for g in grids):
        raise InvalidInput(_("A courtyard of another community was chosen."), field="grids")
    phases.arrange(list(specs), ends_at=ends_at)  # refuse before writing anything
    with transaction.atomic():
        process = Process.objects.create(community=community, kind=kind, title=title[:200],
                                         description=(description or "").strip(),
                                         created_by=actor if getattr(actor, "pk", None) else None)
        if grids:
            process.grids.set(grids)
        events.record(actor=actor, verb="voting.process_created", target=process, community=community,
                      data={"kind": kind, "grids": sorted(g.pk for g in grids)})
        phases.set_phases(actor=actor, process=process, specs=specs, ends_at=ends_at)
    return process


# --- votes ------------------------------------------------------------------------------------

VOTE_OPTIONS = ("quorum_percent", "min_choices", "max_choices", "budget_fen", "min_budget_share_percent",
                "channels", "breakdown_by_grid", "phase_key")


def rating_labels() -> list[tuple[str, str]]:
    """The three options of every rating criterion: (ref, label in the installation's language)."""
    return [(Option.SATISFIED, _("satisfied")), (Option.BASIC, _("basically satisfied")),
            (Option.UNSATISFIED, _("unsatisfied"))]


def _check_vote_fields(vote: Vote) -> None:
    if vote.kind not in Vote.Kind.values:
        raise InvalidInput(_("Unknown kind of vote."), field="kind")
    if vote.eligibility not in Vote.Eligibility.values:
        raise InvalidInput(_("Unknown electorate."), field="eligibility")
    if vote.rule not in Vote.Rule.values:
        raise InvalidInput(_("Unknown rule."), field="rule")
    if vote.rule in (Vote.Rule.OWNERS, Vote.Rule.OWNERS_SPECIAL) and vote.eligibility != Vote.Eligibility.OWNERS:
        raise InvalidInput(_("The owners' rules need a vote of owners."), field="rule")
    if vote.kind != Vote.Kind.CHOICE and vote.rule not in (Vote.Rule.TALLY,):
        raise InvalidInput(_("Approval and rating votes are counted only (rule “counts only”)."), field="rule")
    if not 0 < vote.quorum_percent <= 100:
        raise InvalidInput(_("The quorum is a percentage between 1 and 100."), field="quorum_percent")
    if vote.max_choices is not None and vote.max_choices < max(vote.min_choices, 1):
        raise InvalidInput(_("The most choices must be at least the fewest, and at least one."), field="max_choices")
    if vote.budget_fen is not None and (vote.kind != Vote.Kind.APPROVAL or vote.budget_fen <= 0):
        raise InvalidInput(_("A budget is for approval votes only, and must be more than zero."), field="budget_fen")
    if not 0 <= vote.min_budget_share_percent <= 100:
        raise InvalidInput(_("The least share of the budget is a percentage up to 100."),
                           field="min_budget_share_percent")
    channels = vote.channels
    if not isinstance(channels, list) or not channels or any(c not in Channel.values for c in channels):
        raise InvalidInput(_("Choose at least one way to vote."), field="channels")
    vote.channels = [c for c in Channel.values if c in channels]
    if not Phase.objects.filter(process_id=vote.process_id, key=vote.phase_key, enabled=True).exists():
        raise InvalidInput(_("The process has no enabled phase “%(key)s”.") % {"key": vote.phase_key},
                           field="phase_key")


def _refuse_numbers(text: str) -> None:
    """Questions and options are published with the result on the public board, which refuses
    text holding a mobile or ID-card number: refuse it here, before anyone votes on it."""
    if holds_numbers(text):
        raise InvalidInput(_("A question or option looks like it holds a mobile or ID-card number; "
                             "leave it out."), code="pii_held", field="questions")


def _store_questions(vote: Vote, questions) -> int:
    questions = list(questions or [])
    if not questions:
        raise InvalidInput(_("A vote needs at least one question."), field="questions")
    Question.objects.filter(vote=vote).delete()
    count = 0
    for q_order, (text, options) in enumerate(questions, start=1):
        text = " ".join(str(text or "").split())
        if not text:
            raise InvalidInput(_("Every question needs its words."), field="questions")
        _refuse_numbers(text)
        question = Question.objects.create(vote=vote, order=q_order, text=text[:300])
        if vote.kind == Vote.Kind.RATING:
            rows = [(label, 0, ref) for ref, label in rating_labels()]
        else:
            rows = []
            for option in options or []:
                if isinstance(option, str):
                    rows.append((option, 0, ""))
                else:
                    label, cost, ref = (list(option) + [0, ""])[:3]
                    rows.append((label, int(cost or 0), ref or ""))
            minimum = 2 if vote.kind == Vote.Kind.CHOICE else 1
            if len(rows) < minimum:
                raise InvalidInput(_("The question “%(q)s” needs more options.") % {"q": text}, field="questions")
        for o_order, (label, cost, ref) in enumerate(rows, start=1):
            label = " ".join(str(label or "").split())
            if not label:
                raise InvalidInput(_("Every option needs its words."), field="questions")
            if cost < 0:
                raise InvalidInput(_("A cost cannot be negative."), field="questions")
            _refuse_numbers(label)
            Option.objects.create(question=question, order=o_order, label=label[:200], cost_fen=cost,
                                  ref=str(ref)[:40])
            count += 1
        if vote.budget_fen is not None and any(c > vote.budget_fen for _l, c, _r in rows):
            raise InvalidInput(_("An option costs more than the whole budget."), field="questions")
    ballots.forget_structure(vote)
    return count


def vote_create(*, actor, process: Process, title: str, kind: str, eligibility: str, rule: str,
                questions: list, **options) -> Vote:
    """A draft vote with its questions and options (one event ``voting.vote_created``).

    ``questions``: ``[(text, [option, …]), …]``, an option either its label or
    ``(label, cost_fen, ref)``. A "rating" vote's options are always the three ratings (the
    given ones are ignored). ``options``: any of ``phase_key`` (default: the process's first
    enabled phase), ``quorum_percent``, ``min_choices``, ``max_choices``, ``budget_fen``,
    ``min_budget_share_percent``, ``channels``, ``breakdown_by_grid``.
    """
    unknown = set(options) - set(VOTE_OPTIONS)
    if unknown:
        raise TypeError(f"vote_create: unknown options {sorted(unknown)}")
    community = process.community
    if actor is not None and not rules.may_run(actor, community):
        raise PermissionDenied(_("You may not run processes in this community."))
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("A vote needs a title."), field="title")
    if "phase_key" not in options:
        first = process.phases.filter(enabled=True).order_by("order").first()
        options["phase_key"] = first.key if first else ""
    with transaction.atomic():
        vote = Vote(process=process, title=title[:200], kind=kind, eligibility=eligibility, rule=rule,
                    created_by=actor if getattr(actor, "pk", None) else None, **options)
        _check_vote_fields(vote)
        vote.save()
        n = _store_questions(vote, questions)
        events.record(actor=actor, verb="voting.vote_created", target=vote, community=community,
                      data={"process": process.pk, "kind": vote.kind, "questions": len(questions), "options": n})
    return vote


def vote_set_questions(*, actor, vote: Vote, questions: list) -> Vote:
    """Replace a draft vote's questions and options (one event ``voting.questions_set``).
    Refused once the vote is open: the ballot residents see does not change under them."""
    community = vote.process.community
    if actor is not None and not rules.may_run(actor, community):
        raise PermissionDenied(_("You may not run processes in this community."))
    with transaction.atomic():
        vote = Vote.objects.select_for_update(of=("self",)).select_related("process__community").get(pk=vote.pk)
        if vote.state != Vote.State.DRAFT:
            raise VoteNotOpen(_("The questions of a vote cannot change once it is open."))
        n = _store_questions(vote, questions)
        events.record(actor=actor, verb="voting.questions_set", target=vote, community=community,
                      data={"questions": len(questions), "options": n})
    return vote


def vote_open(*, actor, vote: Vote) -> Vote:
    shape = ballots.structure(vote)
    if not shape.questions:
        raise InvalidInput(_("A vote needs at least one question."), field="questions")
    return VOTE.transition(vote, "open", actor=actor)


def vote_close(*, actor, vote: Vote) -> Vote:
    return VOTE.transition(vote, "close", actor=actor)


# --- casting ----------------------------------------------------------------------------------


def _locked_open_vote(vote: Vote, *, action: str, at) -> Vote:
    # The row lock orders casts against the close move: a ballot is in before the vote closes,
    # or it is refused.
    vote = (Vote.objects.select_for_update(of=("self",)).select_related("process__community").get(pk=vote.pk))
    phases.require(vote.process, vote.phase_key, action=action, at=at)
    if vote.state != Vote.State.OPEN:
        raise VoteNotOpen(_("This vote is not open."))
    return vote


def _check_channel(vote: Vote, channel: str) -> None:
    if channel not in Channel.values or channel not in vote.channels:
        raise InvalidInput(_("This vote does not take ballots this way."), code="channel_closed", field="channel")


def _check_booth(vote: Vote, booth: Booth | None) -> None:
    if booth is not None and booth.vote_id != vote.pk:
        raise InvalidInput(_("That booth belongs to another vote."), field="booth")


def _check_voter(vote: Vote, resident, *, at) -> str:
    ok, reason = eligibility.eligible(vote, resident, today=(timezone.localdate(at) if at else None))
    if not ok:
        raise PermissionDenied(reason, code="not_eligible")
    key = eligibility.voter_key(vote, resident)
    if Participation.objects.filter(vote=vote, voter_key=key).exists():
        raise _already(vote)
    return key


def _already(vote: Vote) -> AlreadyVoted:
    if vote.eligibility == Vote.Eligibility.ADULTS:
        return AlreadyVoted(_("You have already voted in this vote (or taken a paper sheet)."))
    return AlreadyVoted(_("Your household has already voted in this vote (or taken a paper sheet)."))


def _participate(vote: Vote, *, key: str, resident, channel: str, booth, actor, proxy_reason: str = "") -> None:
    try:
        with transaction.atomic():  # a savepoint: the unique constraint decides races
            Participation.objects.create(
                vote=vote, voter_key=key, resident=resident, household_id=resident.household_id,
                channel=channel, booth=booth, recorded_by=actor if getattr(actor, "pk", None) else None,
                proxy_reason=proxy_reason)
    except IntegrityError:
        raise _already(vote) from None


def record_ballot(*, vote: Vote, choices: dict, receipt: str, grid=None,
                  weight_area: Decimal | None = None) -> Ballot:
    """Store one ballot (no event: the calling service records its own). ``choices`` must be
    canonical (:func:`linli.voting.ballots.validate`); ``receipt`` is the ``receipt_hash``.
    The grid is kept only when the vote reports per grid; never the channel or the booth, which
    could single out a lone proxy or booth voter. Used by :func:`cast` and by the paper sheets'
    entry (``linli.voting.paper``)."""
    return Ballot.objects.create(
        vote=vote, choices=choices, receipt_hash=receipt,
        grid=grid if vote.breakdown_by_grid else None,
        weight_area=weight_area if vote.eligibility == Vote.Eligibility.OWNERS else None)


def cast(*, vote: Vote, resident, choices: dict, channel: str = "web", actor, booth: Booth | None = None,
         proxy_reason: str = "", at: dt.datetime | None = None) -> Receipt:
    """Cast one ballot for ``resident`` (one event ``voting.cast``); the receipt is shown once.

    ``channel`` "web": ``actor`` is the resident's own account. "booth": an officer of the
    community who identified the resident. "proxy": an officer, with ``proxy_reason``. Paper
    sheets are not cast here: :func:`mark_paper` records that a resident took one, and the
    sheet is entered by two officers (``linli.voting.paper``). ``at``: the moment of casting
    (default now; history written by the demo passes its own).
    """
    if channel == Channel.PAPER:
        raise InvalidInput(_("Paper sheets are entered by two officers, not cast."), code="channel_closed",
                           field="channel")
    action = _("vote")
    proxy_reason = " ".join((proxy_reason or "").split())
    with transaction.atomic():
        vote = _locked_open_vote(vote, action=action, at=at)
        community = vote.process.community
        _check_channel(vote, channel)
        _check_booth(vote, booth)
        if channel == Channel.WEB:
            if actor is None or resident is None or resident.user_id is None or resident.user_id != actor.pk:
                raise PermissionDenied(_("Residents vote online for themselves only."))
        else:
            if actor is None or not rules.may_officiate(actor, community):
                raise PermissionDenied(_("Only an officer of the community may take a ballot at a booth or by proxy."))
            if channel == Channel.PROXY and not proxy_reason:
                raise InvalidInput(_("Say why the resident votes by proxy."), field="proxy_reason")
        key = _check_voter(vote, resident, at=at)
        canonical = ballots.validate(vote, choices)
        _participate(vote, key=key, resident=resident, channel=channel, booth=booth, actor=actor,
                     proxy_reason=proxy_reason[:200])
        code = new_code()
        digest = receipt_hash(code)
        record_ballot(vote=vote, choices=canonical, receipt=digest, grid=resident.grid, weight_area=resident.household.floor_area)
        events.record(actor=actor, verb="voting.cast", target=vote, community=community, at=at,
                      data={"channel": channel, "booth": booth.pk if booth else None})
    return Receipt(code=code, receipt_hash=digest)


def paper_allowed(vote: Vote) -> None:
    if Channel.PAPER not in (vote.channels or []):
        raise InvalidInput(_("This vote does not accept paper sheets."), code="channel_closed")
    if vote.eligibility == Vote.Eligibility.OWNERS:
        # An owners' ballot is weighed by the unit's floor area; an anonymous sheet carries none.
        raise InvalidInput(
            _("Owners' votes count each ballot by the unit's floor area, which an anonymous sheet "
              "cannot carry: owners vote online, at a booth or by proxy."), code="channel_closed")


def mark_paper(*, vote: Vote, resident, actor, booth: Booth | None = None, at: dt.datetime | None = None) -> None:
    """An officer records that the resident took a paper sheet (one event ``voting.paper_marked``):
    a participation with channel "paper", so the resident cannot vote again by any channel."""
    with transaction.atomic():
        vote = _locked_open_vote(vote, action=_("hand out a paper ballot"), at=at)
        community = vote.process.community
        _check_channel(vote, Channel.PAPER)
        paper_allowed(vote)  # not for owners' votes: a sheet cannot carry the floor area
        _check_booth(vote, booth)
        if actor is None or not rules.may_officiate(actor, community):
            raise PermissionDenied(_("Only an officer of the community may hand out paper ballots."))
        key = _check_voter(vote, resident, at=at)
        _participate(vote, key=key, resident=resident, channel=Channel.PAPER, booth=booth, actor=actor)
        events.record(actor=actor, verb="voting.paper_marked", target=vote, community=community, at=at,
                      data={"booth": booth.pk if booth else None})



@dataclass(frozen=True)
class BulkBallot:
    """One ballot of :func:`cast_many`: who, what, how (``proxy_reason`` for "proxy")."""

    resident: object
    choices: dict
    channel: str = "booth"
    proxy_reason: str = ""
    booth: Booth | None = None


def cast_many(*, vote: Vote, items: list[BulkBallot], actor=None, at: dt.datetime | None = None) -> list[Receipt]:
    """Cast many ballots at once, all or none (history written by the demo, an import of a
    count held on paper elsewhere): the same checks as :func:`cast` for each, the rows and the
    ``voting.cast`` events written with ``bulk_create``.

    ``actor``: an officer of the community, or None — the server, which may also write "web"
    ballots of the past (their events name the resident's own account as the actor, as a real
    web ballot's would). Paper sheets are not cast here either.
    """
    action = _("vote")
    with transaction.atomic():
        vote = _locked_open_vote(vote, action=action, at=at)
        community = vote.process.community
        if actor is not None and not rules.may_officiate(actor, community):
            raise PermissionDenied(_("Only an officer of the community may take a ballot at a booth or by proxy."))
        shape = ballots.structure(vote)
        today = timezone.localdate(at) if at else None
        keys: set[str] = set()
        participations, rows, built, receipts = [], [], [], []
        for item in items:
            resident, channel = item.resident, item.channel
            if channel == Channel.PAPER:
                raise InvalidInput(_("Paper sheets are entered by two officers, not cast."), code="channel_closed",
                                   field="channel")
            _check_channel(vote, channel)
            _check_booth(vote, item.booth)
            if channel == Channel.WEB and actor is not None:
                raise PermissionDenied(_("Residents vote online for themselves only."))
            reason = " ".join((item.proxy_reason or "").split())
            if channel == Channel.PROXY and not reason:
                raise InvalidInput(_("Say why the resident votes by proxy."), field="proxy_reason")
            ok, why = eligibility.eligible(vote, resident, today=today)
            if not ok:
                raise PermissionDenied(why, code="not_eligible")
            key = eligibility.voter_key(vote, resident)
            if key in keys:
                raise _already(vote)
            keys.add(key)
            canonical = ballots.validate(vote, item.choices, shape=shape)
            code = new_code()
            digest = receipt_hash(code)
            receipts.append(Receipt(code=code, receipt_hash=digest))
            participations.append(Participation(
                vote=vote, voter_key=key, resident=resident, household_id=resident.household_id, channel=channel,
                booth=item.booth, recorded_by=actor if getattr(actor, "pk", None) else None, proxy_reason=reason[:200]))
            rows.append(Ballot(
                vote=vote, choices=canonical, receipt_hash=digest,
                grid_id=resident.grid_id if vote.breakdown_by_grid else None,
                weight_area=resident.household.floor_area if vote.eligibility == Vote.Eligibility.OWNERS else None))
            who = actor if actor is not None else (resident.user if channel == Channel.WEB else None)
            built.append(events.build(actor=who, verb="voting.cast", target=vote, community=community, at=at,
                                      data={"channel": channel, "booth": item.booth.pk if item.booth else None}))
        if Participation.objects.filter(vote=vote, voter_key__in=keys).exists():
            raise _already(vote)
        secrets.SystemRandom().shuffle(rows)  # the ballots' insertion order says nothing of who came when
        try:
            with transaction.atomic():
                Participation.objects.bulk_create(participations)
        except IntegrityError:
            raise _already(vote) from None
        Ballot.objects.bulk_create(rows)
        if built:
            Event.objects.bulk_create(built)
    return receipts
