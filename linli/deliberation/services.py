"""Every write of 一月一议: keyword-only, atomic, one event each (docs/deliberation.md).

Each write first checks the phase that allows it (``linli.voting.phases.require``):

=====================================================  ==========================
action                                                  phase
=====================================================  ==========================
propose, add a topic (staff, hot issue, case), support  proposals
comment, put on the agenda, decline                     proposals or council
schedule the meeting                                    proposals or council
attendance, decisions, minutes, closing the meeting     council
tasks, progress, marking a decision done                execution
evaluate, publish the evaluation summary                evaluation (the summary also after)
=====================================================  ==========================

Moderation (hiding a comment) is allowed in every phase: abuse does not wait for a phase.
The meeting's closing publishes its minutes and each decision on the disclosure log
(``linli.disclosure.services.publish_as_server``, section "residential"); the texts are
scrubbed of phone and ID numbers, home doors and the names of the residents who took part.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.errors import InvalidInput, NotFound, PermissionDenied, RateLimited
from linli.core.masking import scrub

from . import rules
from .models import (
    Attendance, Comment, Decision, Evaluation, Meeting, Proposal, Round, Support, Task, Update, UpdatePhoto,
)
from .workflow import COMMENT, DECISION, MEETING, PROPOSAL

P = Proposal.State
D = Decision.State

# A resident may put forward at most this many proposals in any 24 hours (all months together).
PROPOSALS_PER_DAY = 3
PROPOSAL_WINDOW = dt.timedelta(hours=24)
# How long the QR sign-in link of a meeting stays valid after it is shown.
SIGN_IN_MAX_AGE = 3 * 3600
SIGN_IN_SALT = "linli.deliberation.sign-in"
TITLE_MAX = 200
BODY_MAX = 4000
COMMENT_MAX = 2000
REASON_MAX = 200


# --- helpers ------------------------------------------------------------------------------------


class AlreadyDone(InvalidInput):
    """A second support, evaluation or sign-in; a change to a closed meeting: HTTP 409."""

    status = 409


class TooManyProposals(RateLimited):
    code = "too_many_proposals"


def _require(process, keys, *, action: str, at=None):
    """The first of ``keys`` whose phase is current at ``at`` (now); PhaseClosed (naming the
    first key's phase) otherwise."""
    from linli.voting import phases

    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    for key in keys[1:]:
        try:
            return phases.require(process, key, action=action, at=at)
        except phases.PhaseClosed:
            continue
    return phases.require(process, keys[0], action=action, at=at)


def _move(workflow, obj, name: str, *, actor, apply=None, data=None, at=None):
    """``workflow.transition``; with ``at`` (history the demo writes through the services), the
    same checks under the same row lock, the event dated ``at`` (``Workflow.check_move`` and
    ``Workflow.event``, as docs/architecture.md describes for history)."""
    if at is None:
        return workflow.transition(obj, name, actor=actor, apply=apply, data=data)
    with transaction.atomic():
        move = workflow.move(name)
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        before = workflow.state_of(obj)
        workflow.check_move(name, before)
        if not workflow.actor_may(actor, obj, move.who):
            raise PermissionDenied(workflow.denied_message or _("You may not do this."))
        target = apply(obj, at) if apply else None
        setattr(obj, workflow.state_field, target or move.target or before)
        obj.save()
        workflow.event(obj, name, actor=actor, before=before, at=at, data=data).save()
    return obj


def _office(actor, community) -> None:
    """The office of the community; ``actor`` None is the server (the demo's seeding, commands)."""
    if actor is not None and not rules.may_run(actor, community):
        raise PermissionDenied(_("Only the community office runs the monthly deliberation."))


def _resident(actor, process, *, what: str):
    resident = rules.resident_of(actor)
    if resident is None:
        raise PermissionDenied(_("Only residents with an account can %(what)s.") % {"what": what})
    if not rules.in_scope(resident, process):
        raise PermissionDenied(_("This month's deliberation is for residents of another community or "
                                 "courtyard; you cannot %(what)s here.") % {"what": what})
    return resident


def _text(value, *, field: str, max_len: int, required_message) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(required_message, code=field, field=field)
    if len(text) > max_len:
        raise InvalidInput(_("At most %(n)d characters, please.") % {"n": max_len}, code=field, field=field)
    return text


def _places(obj) -> dict:
    return {"community": obj.community}


# --- a month ------------------------------------------------------------------------------------


def default_specs(year: int, month: int):
    """The usual layout of a month: proposals from the 1st, the council from the 11th, execution
    from the 16th, evaluation from the 1st two months on; the process ends a month later."""
    from linli.voting.phases import PhaseSpec

    tz = timezone.get_current_timezone()

    def day(y, m, d):
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        return dt.datetime(y, m, d, tzinfo=tz)

    specs = [
        PhaseSpec("proposals", _("Proposals and support"), day(year, month, 1)),
        PhaseSpec("council", _("Residents' council"), day(year, month, 11)),
        PhaseSpec("execution", _("Carrying out the decisions"), day(year, month, 16)),
        PhaseSpec("evaluation", _("Residents' evaluation"), day(year, month + 2, 1)),
    ]
    return specs, day(year, month + 3, 1)


def round_create(*, actor, community, year: int, month: int, support_threshold: int = 10, grids=(),
                 specs=None, ends_at=None, meeting_at=None, meeting_place: str = "") -> Round:
    """A month's 一月一议: its process (kind "deliberation", four phases), the round and its
    planned meeting. ``specs``/``ends_at`` default to :func:`default_specs`. ``actor`` None: the
    server (the demo's seeding)."""
    from linli.voting import services as voting

    if actor is not None:
        _office(actor, community)
    if not (1 <= int(month) <= 12) or not (2000 <= int(year) <= 2100):
        raise InvalidInput(_("Choose a month."), code="month", field="month")
    if not (1 <= int(support_threshold) <= 10000):
        raise InvalidInput(_("The support threshold is 1 to 10000."), code="threshold", field="support_threshold")
    if specs is None:
        specs, default_end = default_specs(int(year), int(month))
        ends_at = ends_at or default_end
    keys = [s.key for s in specs]
    if keys != ["proposals", "council", "execution", "evaluation"]:
        raise InvalidInput(_("A month's deliberation has the phases proposals, council, execution and "
                             "evaluation, in that order."), code="phases", field="phases")
    place = (meeting_place or "").strip()[:120] or _("Community service centre")
    with transaction.atomic():
        if Round.objects.filter(community=community, year=year, month=month).exists():
            raise InvalidInput(_("This month's deliberation exists already."), code="exists", field="month")
        title = _("Monthly deliberation %(year)d-%(month)02d") % {"year": int(year), "month": int(month)}
        process = voting.process_create(actor=actor, community=community, kind="deliberation", title=title,
                                        grids=grids, specs=specs, ends_at=ends_at)
        rnd = Round.objects.create(community=community, process=process, year=year, month=month,
                                   support_threshold=int(support_threshold))
        council = process.phases.get(key="council")
        Meeting.objects.create(round=rnd, community=community, place=place,
                               held_at=meeting_at or council.starts_at + dt.timedelta(hours=14),
                               sign_in_nonce=secrets.token_hex(8))
        events.record(actor=actor, verb="deliberation.round_created", target=rnd, community=community,
                      data={"year": int(year), "month": int(month), "process": process.pk,
                            "threshold": int(support_threshold)})
    return rnd


# --- topics -------------------------------------------------------------------------------------


def _clean_topic(title, body, place) -> dict:
    return {
        "title": _text(title, field="title", max_len=TITLE_MAX, required_message=_("Give the proposal a title.")),
        "body": _text(body, field="body", max_len=BODY_MAX, required_message=_("Say what should be done and why.")),
        "place": (place or "").strip()[:120],
    }


def _quota_lock(resident) -> None:
    """Serialise one resident's proposals until the transaction ends (the count and the write
    are one step): the resident's row under a lock (PostgreSQL); SQLite's transactions take
    the database's write lock already (settings: IMMEDIATE)."""
    from linli.community.models import Resident

    list(Resident.objects.select_for_update().filter(pk=resident.pk).values_list("pk", flat=True))


def propose(*, actor, round: Round, title: str, body: str, place: str = "", at=None) -> Proposal:
    """A resident's proposal, in the proposals phase; at most :data:`PROPOSALS_PER_DAY` a day.
    ``at``: when it happens (default now; the demo writes history)."""
    process = round.process
    _require(process, "proposals", action=_("put forward a proposal"), at=at)
    resident = _resident(actor, process, what=_("put forward a proposal"))
    fields = _clean_topic(title, body, place)
    fields["body"] = scrub(fields["body"])
    fields["title"] = scrub(fields["title"])
    with transaction.atomic():
        _quota_lock(resident)
        now = at or timezone.now()
        recent = list(Proposal.objects.filter(proposer_resident=resident, created_at__gte=now - PROPOSAL_WINDOW,
                                                            created_at__lte=now)
                      .order_by("created_at").values_list("created_at", flat=True))
        if len(recent) >= PROPOSALS_PER_DAY:
            wait = recent[len(recent) - PROPOSALS_PER_DAY] + PROPOSAL_WINDOW - now
            raise TooManyProposals(
                _("You have put forward %(n)d proposals in the last 24 hours, the most allowed. "
                  "Please try again tomorrow, or support a proposal that is already there.") % {"n": len(recent)},
                retry_after=max(1, int(wait.total_seconds()) + 1))
        proposal = Proposal.objects.create(round=round, community=round.community, source=Proposal.Source.RESIDENT,
                                           proposer_resident=resident, proposer_user=actor, created_at=now,
                                           **fields)
        events.record(actor=actor, verb="deliberation.proposal_submitted", target=proposal, at=now,
                      community=round.community, grid=resident.grid,
                      data={"round": round.pk, "source": proposal.source})
    return proposal


def topic_create(*, actor, round: Round, title: str, body: str, place: str = "", source: str = "staff",
                 source_ref: str = "", at=None) -> Proposal:
    """A topic the office puts forward (source staff, hotissue or case), in the proposals phase.
    ``actor`` None: the server (the demo)."""
    if actor is not None:
        _office(actor, round.community)
    _require(round.process, "proposals", action=_("add a topic"), at=at)
    if source not in Proposal.Source.values or source == Proposal.Source.RESIDENT:
        raise InvalidInput(_("Choose where the topic comes from."), code="source", field="source")
    fields = _clean_topic(title, body, place)
    fields = {k: scrub(v, doors=True) if k != "place" else v for k, v in fields.items()}
    with transaction.atomic():
        proposal = Proposal.objects.create(round=round, community=round.community, source=source,
                                           source_ref=(source_ref or "")[:40], proposer_user=actor,
                                           created_at=at or timezone.now(), **fields)
        events.record(actor=actor, verb="deliberation.topic_added", target=proposal, community=round.community, at=at,
                      data={"round": round.pk, "source": source, "ref": proposal.source_ref})
    return proposal


def topic_from_hotissue(*, actor, round: Round, hotissue_id: int, title: str = "", body: str = "") -> Proposal:
    """A topic from a hot issue the account may see (insight's hot-issue page links here)."""
    from linli.insight import hotissues

    issue = hotissues.hot_issues_for(actor, status=None).filter(pk=hotissue_id,
                                                                community=round.community).first()
    if issue is None:
        raise NotFound(_("No such hot issue in this community."))
    shown_title, place = hotissues.shown_for(actor, issue)
    members = hotissues.visible_members(actor, issue).count()
    body = body or _("Residents reported this %(n)d times between %(first)s and %(last)s.") % {
        "n": members, "first": timezone.localtime(issue.first_at).date(),
        "last": timezone.localtime(issue.last_at).date()}
    return topic_create(actor=actor, round=round, title=title or shown_title, body=body, place=place[:120],
                        source=Proposal.Source.HOTISSUE, source_ref=f"hotissue:{issue.pk}")


def topic_from_case(*, actor, round: Round, number: str, title: str = "") -> Proposal:
    """A topic from a (repeated) case the account may see, typed by its number."""
    from linli.cases import selectors as cases

    try:
        case = cases.case_get(actor, (number or "").strip())
    except NotFound:
        raise InvalidInput(_("No case with this number that you may see."), code="case", field="number")
    if case.community_id != round.community_id:
        raise InvalidInput(_("This case belongs to another community."), code="case", field="number")
    text = scrub(case.description, doors=True)
    place = case.grid.name if case.grid_id else ""
    return topic_create(actor=actor, round=round, title=title or text[:60], body=text, place=place,
                        source=Proposal.Source.CASE, source_ref=f"case:{case.number}"[:40])


def support(*, actor, proposal: Proposal, at=None) -> Proposal:
    """A resident supports a proposal (once: the database's unique constraint). Reaching the
    round's threshold puts it on the agenda (a second event, the system's)."""
    rnd = proposal.round
    _require(rnd.process, "proposals", action=_("support a proposal"), at=at)
    resident = _resident(actor, rnd.process, what=_("support a proposal"))
    try:
        with transaction.atomic():
            # Supports of one proposal queue on its row: the count and the threshold move are one step.
            locked = Proposal.objects.select_for_update().filter(pk=proposal.pk, state__in=(P.OPEN, P.AGENDA))
            if not list(locked.values_list("pk", flat=True)):
                raise InvalidInput(_("This proposal no longer collects support."), code="closed")
            Support.objects.create(proposal=proposal, resident=resident, created_at=at or timezone.now())
            Proposal.objects.filter(pk=proposal.pk).update(support_count=F("support_count") + 1)
            events.record(actor=actor, verb="deliberation.proposal_supported", target=proposal, at=at,
                          community=proposal.community, grid=resident.grid, data={"round": rnd.pk})
            proposal.refresh_from_db()
            if proposal.state == P.OPEN and proposal.support_count >= rnd.support_threshold:
                proposal = _move(PROPOSAL, proposal, "reach_threshold", actor=None, apply=_agenda_apply, at=at,
                                 data={"supports": proposal.support_count, "threshold": rnd.support_threshold})
    except IntegrityError:
        raise AlreadyDone(_("You support this proposal already; each resident supports a proposal once."),
                           code="already_supported")
    return proposal


def _agenda_apply(obj, now):
    obj.agenda_at = now


def put_on_agenda(*, actor, proposal: Proposal, at=None) -> Proposal:
    _require(proposal.round.process, ("proposals", "council"), action=_("put a proposal on the agenda"), at=at)
    return _move(PROPOSAL, proposal, "put_on_agenda", actor=actor, apply=_agenda_apply, at=at)


def decline(*, actor, proposal: Proposal, reason: str, at=None) -> Proposal:
    """Not taken up, with a reason the proposer reads on the proposal's page."""
    _require(proposal.round.process, ("proposals", "council"), action=_("decline a proposal"), at=at)
    reason = scrub(_text(reason, field="reason", max_len=300, required_message=_("Say why.")))

    def apply(obj, now):
        obj.state_reason = reason

    return _move(PROPOSAL, proposal, "decline", actor=actor, apply=apply, at=at)


# --- discussion ---------------------------------------------------------------------------------


def comment(*, actor, proposal: Proposal, body: str, at=None) -> Comment:
    """A resident of the scope or the office comments (proposals or council phase)."""
    process = proposal.round.process
    _require(process, ("proposals", "council"), action=_("comment"), at=at)
    body = scrub(_text(body, field="body", max_len=COMMENT_MAX, required_message=_("Write your comment.")))
    resident = None
    if not rules.may_run(actor, proposal.community):
        resident = _resident(actor, process, what=_("comment"))
    if Proposal.objects.filter(pk=proposal.pk, state__in=(P.DECLINED, P.DECIDED, P.DEFERRED)).exists():
        raise InvalidInput(_("The discussion of this proposal is closed."), code="closed")
    with transaction.atomic():
        item = Comment.objects.create(proposal=proposal, author_resident=resident, author_user=actor, body=body,
                                      created_at=at or timezone.now())
        events.record(actor=actor, verb="deliberation.commented", target=item, community=proposal.community, at=at,
                      data={"proposal": proposal.pk})
    return item


def hide_comment(*, actor, comment: Comment, reason: str, at=None) -> Comment:
    """Moderation: the comment is hidden from everyone but its author, who sees the reason."""
    reason = scrub(_text(reason, field="reason", max_len=REASON_MAX, required_message=_("Say why it is hidden.")))

    def apply(obj, now):
        obj.hidden_reason = reason
        obj.hidden_by = actor
        obj.hidden_at = now

    return _move(COMMENT, comment, "hide", actor=actor, apply=apply, data={"reason": "moderated"}, at=at)


# --- the meeting --------------------------------------------------------------------------------


def _planned(meeting: Meeting) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state != Meeting.State.PLANNED:
        raise AlreadyDone(_("The meeting is closed; its minutes and decisions can no longer be changed."),
                           code="meeting_closed")
    return meeting


def meeting_schedule(*, actor, meeting: Meeting, held_at, place: str) -> Meeting:
    _office(actor, meeting.community)
    _require(meeting.round.process, ("proposals", "council"), action=_("schedule the meeting"))
    place = _text(place, field="place", max_len=120, required_message=_("Say where the meeting is held."))
    if held_at is None:
        raise InvalidInput(_("Give the date and time."), code="held_at", field="held_at")
    with transaction.atomic():
        meeting = _planned(meeting)
        meeting.held_at, meeting.place = held_at, place
        meeting.save(update_fields=["held_at", "place"])
        events.record(actor=actor, verb="deliberation.meeting_scheduled", target=meeting,
                      community=meeting.community, data={"round": meeting.round_id})
    return meeting


def sign_in_token(meeting: Meeting) -> str:
    """The signed, expiring token of the meeting's QR sign-in link (valid
    :data:`SIGN_IN_MAX_AGE` seconds after it is made; it names the meeting and its random
    nonce, so a token of one meeting never opens another)."""
    return signing.TimestampSigner(salt=SIGN_IN_SALT).sign(f"{meeting.pk}.{meeting.sign_in_nonce}")


def _check_token(meeting: Meeting, token: str) -> None:
    try:
        value = signing.TimestampSigner(salt=SIGN_IN_SALT).unsign(token or "", max_age=SIGN_IN_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidInput(_("This sign-in code has expired; ask for the current one."), code="token_expired")
    except signing.BadSignature:
        raise InvalidInput(_("This sign-in code is not valid."), code="token_invalid")
    if value != f"{meeting.pk}.{meeting.sign_in_nonce}":
        raise InvalidInput(_("This sign-in code is not valid."), code="token_invalid")


def _attend(*, actor, meeting, role, user, resident, via, at=None) -> Attendance:
    _require(meeting.round.process, "council", action=_("sign in to the meeting"), at=at)
    try:
        with transaction.atomic():
            meeting = _planned(meeting)
            row = Attendance.objects.create(meeting=meeting, role=role, user=user, resident=resident, via=via,
                                            recorded_by=actor, created_at=at or timezone.now())
            events.record(actor=actor, verb="deliberation.attended", target=meeting, community=meeting.community, at=at,
                          data={"round": meeting.round_id, "role": role, "via": via})
    except IntegrityError:
        raise AlreadyDone(_("Already signed in to this meeting."), code="already_attending")
    return row


def attend_by_token(*, actor, meeting: Meeting, token: str) -> Attendance:
    """The attendee opened the QR link while signed in: a council member (an office account of
    the community) or a resident representative (a resident of the process's scope)."""
    _check_token(meeting, token)
    if rules.may_run(actor, meeting.community):
        return _attend(actor=actor, meeting=meeting, role=Attendance.Role.MEMBER, user=actor, resident=None,
                       via=Attendance.Via.QR)
    resident = _resident(actor, meeting.round.process, what=_("sign in to the meeting"))
    return _attend(actor=actor, meeting=meeting, role=Attendance.Role.REPRESENTATIVE, user=actor,
                   resident=resident, via=Attendance.Via.QR)


def attend_by_staff(*, actor, meeting: Meeting, role: str, user=None, resident=None, at=None) -> Attendance:
    """The office records an attendee: a member (an account) or a representative (a resident)."""
    _office(actor, meeting.community)
    if role not in Attendance.Role.values:
        raise InvalidInput(_("Choose the attendee's role."), code="role", field="role")
    if user is None and resident is None:
        raise InvalidInput(_("Choose who attended."), code="who", field="who")
    if resident is not None and resident.community_id != meeting.community_id:
        raise InvalidInput(_("This resident lives in another community."), code="who", field="who")
    return _attend(actor=actor, meeting=meeting, role=role, user=user, resident=resident, via=Attendance.Via.STAFF,
                   at=at)


def _counts(votes_for, votes_against, votes_abstain) -> tuple[int, int, int]:
    try:
        counts = tuple(int(v) for v in (votes_for, votes_against, votes_abstain))
    except (TypeError, ValueError):
        raise InvalidInput(_("Vote counts are whole numbers."), code="votes", field="votes_for")
    if any(c < 0 or c > 10000 for c in counts):
        raise InvalidInput(_("Vote counts are 0 to 10000."), code="votes", field="votes_for")
    if sum(counts) == 0:
        raise InvalidInput(_("Type the council's vote: for, against and abstained."), code="votes",
                           field="votes_for")
    return counts


def decision_save(*, actor, meeting: Meeting, proposal: Proposal, text: str, votes_for: int, votes_against: int,
                  votes_abstain: int, weighted: bool = False, at=None) -> Decision:
    """Write (or rewrite) the decision on an agenda proposal while the meeting is open: its text
    and the council's vote as the worker typed it. It is adopted or rejected when the meeting
    closes (adopted: more than half of the votes cast for)."""
    _office(actor, meeting.community)
    _require(meeting.round.process, "council", action=_("record a decision"), at=at)
    text = _text(text, field="text", max_len=BODY_MAX, required_message=_("Write the decision."))
    counts = _counts(votes_for, votes_against, votes_abstain)
    with transaction.atomic():
        meeting = _planned(meeting)
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.round_id != meeting.round_id or proposal.state != P.AGENDA:
            raise InvalidInput(_("Only a proposal on this meeting's agenda can be decided."), code="not_on_agenda",
                               field="proposal")
        decision, created = Decision.objects.get_or_create(
            proposal=proposal, defaults={"meeting": meeting, "community": meeting.community, "text": text,
                                         "created_at": at or timezone.now()})
        decision.text = text
        decision.votes_for, decision.votes_against, decision.votes_abstain = counts
        decision.weighted = bool(weighted)
        decision.save()
        events.record(actor=actor, verb="deliberation.decision_drafted", target=decision, at=at,
                      community=meeting.community,
                      data={"proposal": proposal.pk, "new": created, "for": counts[0], "against": counts[1],
                            "abstain": counts[2]})
    return decision


def _involved_names(rnd: Round) -> list[str]:
    """Names of the residents who took part in the round (proposers, commenters, supporters,
    representatives, evaluators): taken out of anything published."""
    from linli.community.models import Resident

    ids = set(Proposal.objects.filter(round=rnd).exclude(proposer_resident=None)
              .values_list("proposer_resident_id", flat=True))
    ids |= set(Comment.objects.filter(proposal__round=rnd).exclude(author_resident=None)
               .values_list("author_resident_id", flat=True))
    ids |= set(Support.objects.filter(proposal__round=rnd).values_list("resident_id", flat=True))
    ids |= set(Attendance.objects.filter(meeting__round=rnd).exclude(resident=None)
               .values_list("resident_id", flat=True))
    ids |= set(Evaluation.objects.filter(decision__meeting__round=rnd).values_list("resident_id", flat=True))
    names = []
    for resident in Resident.objects.filter(pk__in=ids):
        value = resident.name.reveal() if hasattr(resident.name, "reveal") else str(resident.name or "")
        if value:
            names.append(value)
    return names


def public_text(text: str, names) -> str:
    """What goes on the board: no phone or ID numbers, no doors, no residents' names."""
    return scrub(text or "", names=names, remove_names=True, doors=True)


def _publish(community, *, title: str, body: str, day: dt.date) -> int:
    from linli.disclosure import services as board

    entry = board.publish_as_server(community=community, section="residential", title=title[:200], body=body,
                                    period_start=day, period_end=day)
    return entry.log_index


def meeting_close(*, actor, meeting: Meeting, report: str, at=None) -> Meeting:
    """Close the meeting with its minutes: the report (required), the attendance (at least one),
    the decisions (each linked to its agenda proposal). Decisions are adopted or rejected by
    their vote; agenda proposals without one are deferred. The minutes and every decision are
    published on the board; after this nothing of the meeting changes."""
    _office(actor, meeting.community)
    _require(meeting.round.process, "council", action=_("close the meeting"), at=at)
    report = _text(report, field="report", max_len=8000,
                   required_message=_("The minutes are required to close the meeting: write the report."))
    from linli.core.models import Event

    with transaction.atomic():
        meeting = _planned(meeting)
        rnd = meeting.round
        present = meeting.attendance.count()
        if present == 0:
            raise InvalidInput(_("Record the attendance before closing the meeting."), code="no_attendance")
        decisions = list(meeting.decisions.select_related("proposal").order_by("id"))
        agenda = list(Proposal.objects.filter(round=rnd, state=P.AGENDA).order_by("id"))
        names = _involved_names(rnd)
        day = timezone.localtime(meeting.held_at).date()
        extra = {}

        def apply(obj, now):
            obj.report = report
            obj.attendance_count = present
            obj.closed_at = now
            lines = [public_text(report, names), "",
                     _("Attendance: %(n)d (council members %(m)d, resident representatives %(r)d).") % {
                         "n": present, "m": meeting.attendance.filter(role=Attendance.Role.MEMBER).count(),
                         "r": meeting.attendance.filter(role=Attendance.Role.REPRESENTATIVE).count()}, ""]
            for d in decisions:
                lines.append(_("Decision on “%(title)s”: %(text)s (for %(f)d, against %(a)d, abstained %(s)d: "
                               "%(outcome)s)") % {
                    "title": public_text(d.proposal.title, names), "text": public_text(d.text, names),
                    "f": d.votes_for, "a": d.votes_against, "s": d.votes_abstain,
                    "outcome": _("adopted") if d.passed else _("rejected")})
            title = _("Residents' council minutes %(year)d-%(month)02d") % {"year": rnd.year, "month": rnd.month}
            obj.log_index = _publish(obj.community, title=title, body="\n".join(lines).strip(), day=day)
            extra["log_index"] = obj.log_index

        meeting = _move(MEETING, meeting, "close", actor=actor, apply=apply, at=at,
                        data={"attendance": present, "decisions": len(decisions), **extra})
        now = meeting.closed_at
        made = []
        for d in decisions:
            move = "adopt" if d.passed else "reject"
            before = d.state
            d.state = D.ADOPTED if d.passed else D.REJECTED
            d.log_index = _publish(meeting.community, title=_("Council decision: %(title)s") % {
                "title": public_text(d.proposal.title, names)}, day=day, body=_(
                "%(text)s\n\nFor %(f)d, against %(a)d, abstained %(s)d: %(outcome)s.") % {
                "text": public_text(d.text, names), "f": d.votes_for, "a": d.votes_against, "s": d.votes_abstain,
                "outcome": _("adopted") if d.passed else _("rejected")})
            d.save(update_fields=["state", "log_index"])
            made.append(DECISION.event(d, move, actor=None, before=before, at=now,
                                       data={"log_index": d.log_index}))
        decided = {d.proposal_id for d in decisions}
        for p in agenda:
            move = "decide" if p.pk in decided else "defer"
            p.state = P.DECIDED if p.pk in decided else P.DEFERRED
            p.save(update_fields=["state"])
            made.append(PROPOSAL.event(p, move, actor=None, before=P.AGENDA, at=now))
        Event.objects.bulk_create(made)
    return meeting


# --- execution ----------------------------------------------------------------------------------


def _execution(decision: Decision, action: str, at=None) -> None:
    _require(decision.meeting.round.process, "execution", action=action, at=at)


def task_add(*, actor, decision: Decision, title: str, owner: str, due_date: dt.date, weight: int = 1,
             owner_user=None, at=None) -> Task:
    """A task carrying out an adopted decision: the first one starts its execution (the
    decision's ``start`` move); the others are ``deliberation.task_added``."""
    _office(actor, decision.community)
    _execution(decision, _("add a task"), at)
    title = _text(title, field="title", max_len=200, required_message=_("Say what is to be done."))
    owner = _text(owner, field="owner", max_len=80, required_message=_("Say who carries it out."))
    if not isinstance(due_date, dt.date):
        raise InvalidInput(_("Give the due date."), code="due_date", field="due_date")
    if not (1 <= int(weight) <= 100):
        raise InvalidInput(_("The weight is 1 to 100."), code="weight", field="weight")
    fields = {"title": title, "owner": owner, "due_date": due_date, "weight": int(weight), "owner_user": owner_user,
              "created_at": at or timezone.now()}
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.state == D.ADOPTED:
            made = {}

            def apply(obj, now):
                made["task"] = Task.objects.create(decision=obj, **fields)

            _move(DECISION, decision, "start", actor=actor, apply=apply, data={"task_title": title}, at=at)
            return made["task"]
        if decision.state != D.EXECUTING:
            raise InvalidInput(_("Tasks are set for an adopted decision that is not done yet."), code="not_executing")
        task = Task.objects.create(decision=decision, **fields)
        events.record(actor=actor, verb="deliberation.task_added", target=decision, community=decision.community,
                      data={"task": task.pk}, at=at)
    return task


def progress_update(*, actor, task: Task, progress: int, note: str, photos=(), at=None) -> Update:
    """Progress on a task (0–100 %) with what was done and up to four photos (checked, stripped
    of their metadata and re-encoded by ``linli.cases.photos``)."""
    from linli.cases import photos as photo_check

    decision = task.decision
    _office(actor, decision.community)
    _execution(decision, _("report progress"), at)
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        progress = -1
    if not 0 <= progress <= 100:
        raise InvalidInput(_("Progress is 0 to 100 %."), code="progress", field="progress")
    note = scrub(_text(note, field="note", max_len=2000, required_message=_("Say what was done.")), doors=True)
    photos = list(photos or ())
    if len(photos) > photo_check.MAX_PHOTOS:
        raise InvalidInput(_("At most %(n)d photos.") % {"n": photo_check.MAX_PHOTOS}, code="photos",
                           field="photos")
    cleaned = [photo_check.clean_image(p) for p in photos]
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.state != D.EXECUTING:
            raise InvalidInput(_("Progress is reported while the decision is being carried out."),
                               code="not_executing")
        task = Task.objects.get(pk=task.pk, decision=decision)
        row = Update.objects.create(task=task, progress=progress, note=note, author=actor, at=at or timezone.now())
        for image in cleaned:
            _store_photo(row, image)
        task.progress = progress
        task.save(update_fields=["progress"])
        events.record(actor=actor, verb="deliberation.progress_updated", target=decision, at=at,
                      community=decision.community, data={"task": task.pk, "progress": progress,
                                                          "photos": len(cleaned)})
    return row


def _store_photo(update: Update, image) -> UpdatePhoto:
    from django.core.files.base import ContentFile

    ext = "png" if image.content_type == "image/png" else "jpg"
    photo = UpdatePhoto(update=update, content_type=image.content_type, width=image.width, height=image.height,
                        sha256=image.sha256)
    photo.image.save(f"{secrets.token_hex(12)}.{ext}", ContentFile(image.content), save=True)
    return photo


@dataclass(frozen=True)
class Rollup:
    percent: int
    weighted: bool
    tasks: int
    done: int


def rollup(decision: Decision, tasks=None) -> Rollup:
    """The decision's progress: the tasks' average, or weighted by their weights."""
    tasks = list(tasks if tasks is not None else decision.tasks.all())
    if not tasks:
        return Rollup(0, decision.weighted, 0, 0)
    if decision.weighted:
        total = sum(t.weight for t in tasks)
        value = sum(t.progress * t.weight for t in tasks) / total
    else:
        value = sum(t.progress for t in tasks) / len(tasks)
    return Rollup(int(value), decision.weighted, len(tasks), sum(1 for t in tasks if t.progress >= 100))


def decision_complete(*, actor, decision: Decision, at=None) -> Decision:
    """Done once every task is at 100 %."""
    _execution(decision, _("mark a decision as done"), at)

    def apply(obj, now):
        if rollup(obj).percent < 100:
            raise InvalidInput(_("Every task must be at 100 % before the decision is done."), code="not_done")
        obj.done_at = now

    return _move(DECISION, decision, "complete", actor=actor, apply=apply, at=at)


# --- evaluation ---------------------------------------------------------------------------------


def evaluate(*, actor, decision: Decision, rating: str, comment: str = "", at=None) -> Evaluation:
    """A resident of the scope rates a done decision, once (the database's unique constraint)."""
    process = decision.meeting.round.process
    _require(process, "evaluation", action=_("evaluate a decision"), at=at)
    resident = _resident(actor, process, what=_("evaluate a decision"))
    if rating not in Evaluation.Rating.values:
        raise InvalidInput(_("Choose satisfied, basically satisfied or unsatisfied."), code="rating", field="rating")
    if not Decision.objects.filter(pk=decision.pk, state=D.DONE).exists():
        raise InvalidInput(_("Only a decision that is done can be evaluated."), code="not_done")
    comment = scrub((comment or "").strip()[:1000])
    try:
        with transaction.atomic():
            row = Evaluation.objects.create(decision=decision, resident=resident, rating=rating, comment=comment,
                                            created_at=at or timezone.now())
            events.record(actor=actor, verb="deliberation.evaluated", target=decision, community=decision.community,
                          at=at, data={"proposal": decision.proposal_id})
    except IntegrityError:
        raise AlreadyDone(_("You have evaluated this decision already; each resident evaluates once."),
                           code="already_evaluated")
    return row


def evaluation_counts(decision: Decision) -> dict[str, int]:
    counts = {value: 0 for value in Evaluation.Rating.values}
    for rating in decision.evaluations.values_list("rating", flat=True):
        counts[rating] += 1
    return counts


def publish_evaluation_summary(*, actor, decision: Decision, at=None) -> Decision:
    """The residents' verdict on a done decision, on the board (once). The office in the
    evaluation phase, or the job after it ends (actor None)."""
    from linli.voting import phases

    process = decision.meeting.round.process
    if actor is not None:
        _office(actor, decision.community)
        evaluation = process.phases.filter(key="evaluation").first()
        if evaluation is None or (at or timezone.now()) < evaluation.starts_at:
            phases.require(process, "evaluation", action=_("publish the evaluation summary"), at=at)
    with transaction.atomic():
        decision = Decision.objects.select_for_update().select_related("proposal", "meeting__round").get(
            pk=decision.pk)
        if decision.state != D.DONE:
            raise InvalidInput(_("Only a decision that is done has an evaluation."), code="not_done")
        if decision.summary_log_index is not None:
            raise InvalidInput(_("The evaluation summary is published already."), code="published")
        counts = evaluation_counts(decision)
        total = sum(counts.values())
        names = _involved_names(decision.meeting.round)
        comments = [public_text(c, names) for c in decision.evaluations.exclude(comment="")
                    .order_by("id").values_list("comment", flat=True)[:50]]
        body = _("%(total)d residents evaluated the outcome: satisfied %(s)d, basically satisfied %(b)d, "
                 "unsatisfied %(u)d.") % {"total": total, "s": counts["satisfied"], "b": counts["basic"],
                                         "u": counts["unsatisfied"]}
        if comments:
            body += "\n\n" + "\n".join(f"- {c}" for c in comments if c)
        day = timezone.localtime(at).date() if at else timezone.localdate()
        decision.summary_log_index = _publish(decision.community, title=_("Residents' evaluation: %(title)s") % {
            "title": public_text(decision.proposal.title, names)}, body=body, day=day)
        decision.save(update_fields=["summary_log_index"])
        events.record(actor=actor, verb="deliberation.evaluation_published", target=decision, at=at,
                      community=decision.community, data={"log_index": decision.summary_log_index, "total": total})
    return decision
