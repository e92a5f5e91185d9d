"""Every write to cases. Intake here; every later move goes through workflow.transition."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Community, Grid, Household, Organisation, Resident
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.validators import validate_phone

from . import classify, deadlines, rollup, rules
from .models import Case, CaseCounter, CaseNote, Category, IdempotencyKey, RoutingRule, Urgency
from .places import grid_at
from .workflow import IllegalTransition, transition

MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 5


@dataclass
class Intake:
    """What a resident, a worker or another system says when raising a case."""

    community: Community
    channel: str
    description: str
    category: Category | None = None
    urgency: str = Urgency.NORMAL
    reporter: Resident | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""   # a way to reply where there is no phone (Open311's email); sealed
    anonymous: bool = False
    public: bool = False      # the reporter or the channel agreed it may be published (Open311)
    place: str = Case.Place.GRID
    grid: Grid | None = None
    household: Household | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    photos: list = field(default_factory=list)  # validated images (linli.cases.photos.CleanImage)
    # For staff only, written as an internal note with the case (what another system sent that
    # has no field of its own, such as an Open311 media_url). Not part of the request's hash.
    internal_note: str = ""
    # A tighter response limit than the category's (a welfare check: 30 minutes): the response is
    # due at the earlier of the usual deadline and receipt plus this. Not part of the request's hash.
    respond_within: dt.timedelta | None = None


def _next_number(community: Community, now) -> str:
    """``<community code>-<local day>-<sequence>``, the sequence from the day's
    :class:`CaseCounter` row. Call inside the case's transaction: the row stays
    locked until it commits, and a rolled-back intake gives its number back."""
    day = timezone.localtime(now).date()  # the local day, not UTC's
    prefix = f"{community.code}-{day:%Y%m%d}-"
    seq = _count_up(community, day)
    if seq is None:
        # The day's first case. Start after any number already given out today (cases
        # from before counters existed, or imported ones), then count as usual.
        last = (Case.objects.filter(number__startswith=prefix).order_by("-number")
                .values_list("number", flat=True).first())
        first = (int(last.rsplit("-", 1)[1]) if last else 0) + 1
        try:
            with transaction.atomic():
                CaseCounter.objects.create(community=community, day=day, last=first)
            seq = first
        except IntegrityError:  # another intake opened the day first
            seq = _count_up(community, day)
    return f"{prefix}{seq:04d}"


def _count_up(community: Community, day) -> int | None:
    """The day's counter plus one, written and read in one statement (UPDATE …
    RETURNING); None when the day has no counter yet."""
    connection = connections[CaseCounter.objects.db]
    table = connection.ops.quote_name(CaseCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {table} SET "last" = "last" + 1 WHERE "community_id" = %s AND "day" = %s '
                       'RETURNING "last"', [community.pk, connection.ops.adapt_datefield_value(day)])
        row = cursor.fetchone()
    return row[0] if row else None


def _request_hash(intake: Intake) -> str:
    """The request as the client sent it: computed before validation fills in
    the grid or normalises the phone, so a retry hashes the same."""
    body = {"d": intake.description, "c": intake.category.pk if intake.category else None,
            "lat": intake.latitude, "lon": intake.longitude, "ch": intake.channel,
            "u": intake.urgency, "p": intake.place, "g": intake.grid.pk if intake.grid else None,
            "h": intake.household.pk if intake.household else None,
            "r": intake.reporter.pk if intake.reporter else None, "cp": intake.contact_phone,
            "ce": intake.contact_email, "an": intake.anonymous, "a": intake.address, "pub": intake.public}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _validate(intake: Intake) -> None:
    text = (intake.description or "").strip()
    if len(text) < MIN_DESCRIPTION:
        raise InvalidInput(_("Describe the problem in a few words."), code="description_short", field="description")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(_("A description has at most %(n)d characters.") % {"n": MAX_DESCRIPTION},
                           code="description_long", field="description")
    if intake.urgency not in Urgency.values:
        raise InvalidInput(_("Choose normal or urgent."), code="urgency", field="urgency")
    if intake.category is not None and (intake.category.community_id != intake.community.pk
                                        or not intake.category.active):
        raise InvalidInput(_("Unknown category."), code="category", field="category")
    if intake.grid is not None and intake.grid.community_id != intake.community.pk:
        raise InvalidInput(_("This courtyard is not in this community."), code="place", field="grid")
    if intake.household is not None and intake.household.community_id != intake.community.pk:
        raise InvalidInput(_("This home is not in this community."), code="place", field="household")
    if (intake.place == Case.Place.HOME and intake.household is None and intake.reporter is not None
            and intake.reporter.community_id != intake.community.pk):
        raise InvalidInput(_("This home is not in this community."), code="place", field="household")
    if intake.contact_phone:
        try:
            intake.contact_phone = validate_phone(intake.contact_phone)
        except Exception:
            raise InvalidInput(_("A mobile number has 11 digits and starts with 13 to 19."),
                               code="contact_phone", field="contact_phone")
    if intake.reporter is None and not intake.contact_phone and not intake.contact_email and intake.channel not in (
            Case.Channel.PATROL, Case.Channel.SENSOR, Case.Channel.WELFARE):
        raise InvalidInput(_("Leave a phone number so that we can reply."), code="contact_required",
                           field="contact_phone")
    if (intake.latitude is None) != (intake.longitude is None):
        raise InvalidInput(_("Give both latitude and longitude."), code="place", field="lat")
    if intake.latitude is not None:
        if not (-90 <= intake.latitude <= 90 and -180 <= intake.longitude <= 180):
            raise InvalidInput(_("This point is not on the map."), code="place", field="lat")
        grid = grid_at(intake.community, intake.latitude, intake.longitude)
        if grid is None:
            raise InvalidInput(_("This point is outside the community."), code="place_outside", field="lat")
        intake.grid = intake.grid or grid


@transaction.atomic
def case_submit(*, actor, intake: Intake, idempotency: tuple[str, str] | None = None) -> tuple[Case, bool]:
    """Receive a case. Returns (case, created). With ``idempotency=(scope, key)``, a
    retried submission returns the case it first created and writes nothing."""
    request_hash = _request_hash(intake)
    if idempotency:
        # No look-up first: retries are rare, so every first attempt would pay for it.
        # The key's row is written right after the case, in a savepoint; a retry (or a
        # concurrent twin that won the race) fails there on the key's unique constraint,
        # its case is undone before any photo is stored, and the first case is returned.
        try:
            with transaction.atomic():
                return _submit(actor, intake, idempotency, request_hash), True
        except (IntegrityError, InvalidInput):
            # An invalid retry (say, its category has since been withdrawn) still gets
            # the case its first attempt created.
            existing = _idempotent_replay(idempotency, request_hash)
            if existing is None:
                raise
            return existing, False
    return _submit(actor, intake, None, request_hash), True


class IdempotencyConflict(InvalidInput):
    """An Idempotency-Key sent again with another request (409 in the API)."""

    code = "idempotency_conflict"
    status = 409


def _idempotent_replay(idempotency: tuple[str, str], request_hash: str) -> Case | None:
    found = (IdempotencyKey.objects.filter(scope=idempotency[0], key=idempotency[1])
             .values_list("case_id", "request_hash").first())
    if found is None:
        return None
    if found[1] != request_hash:
        raise IdempotencyConflict(_("This Idempotency-Key was used for a different request."))
    return Case.objects.get(pk=found[0])


def _submit(actor, intake: Intake, idempotency, request_hash: str) -> Case:
    _validate(intake)
    now = timezone.now()
    if intake.household is not None:
        intake.grid = intake.household.grid
    elif intake.place == Case.Place.HOME and intake.reporter is not None:
        intake.household = intake.reporter.household
        intake.grid = intake.household.grid
    categories = Category.objects.filter(community=intake.community, active=True).only("community_id", "code", "name_zh", "keywords")
    suggestion = classify.suggest(intake.description, categories)
    case = Case(
        community=intake.community, channel=intake.channel, urgency=intake.urgency,
        description=intake.description.strip(), category=intake.category,
        reporter=intake.reporter, submitted_by=actor if getattr(actor, "pk", None) else None,
        contact_name=intake.contact_name.strip() or None, contact_phone=intake.contact_phone or None,
        contact_email=intake.contact_email.strip() or None,
        # Never published anonymously: the consent to publish cannot outrank the wish to stay unknown.
        public=intake.public and not intake.anonymous,
        anonymous=intake.anonymous, place=intake.place, grid=intake.grid,
        building=intake.household.building if intake.household else None, household=intake.household,
        latitude=intake.latitude, longitude=intake.longitude, address=intake.address.strip()[:200],
        created_at=now,
    )
    if suggestion is not None:
        case.suggested_category_id = suggestion.category_id
        case.suggestion_confidence = suggestion.confidence
        case.suggestion_source = suggestion.source
    if case.category is None:
        confident = suggestion is not None and suggestion.confidence >= classify.triage_threshold()
        case.category_id = suggestion.category_id if confident else None
        case.needs_triage = not confident
        # A machine's category is never a label: it waits for staff to confirm it on acceptance.
        case.category_source = machine_category_source(suggestion) if confident else Case.CategorySource.NONE
    else:
        case.category_source = INTAKE_CATEGORY_SOURCE.get(case.channel, Case.CategorySource.PARTNER)
    # The response clock starts now, at receipt, on every channel (docs/cases.md, "Time limits").
    case.response_due = deadlines.response_due_for(case)
    if intake.respond_within is not None:
        case.response_due = min(case.response_due, now + intake.respond_within)
    case.number = _next_number(intake.community, now)
    case.save()
    rollup.record(None, case)
    if idempotency:
        IdempotencyKey.objects.create(scope=idempotency[0], key=idempotency[1], case=case,
                                      request_hash=request_hash)
    for image in intake.photos:
        image.attach(case, stage="intake")
    if intake.internal_note:
        CaseNote.objects.create(case=case, author=None, internal=True, text=intake.internal_note[:2000])
    events.record(actor=actor, verb="case.submitted", target=case, community=case.community, grid=case.grid,
                  data={"number": case.number, "channel": case.channel, "needs_triage": case.needs_triage,
                        "category": case.category.code if case.category else None})
    return case


# Who chose a category given at intake, by channel: the resident on the web or in an Open311
# client (the reporter picked the service), staff taking a call, a visit or a patrol; what a
# partner system or a sensor sends may be its own machine's guess, so it is not a label.
INTAKE_CATEGORY_SOURCE = {
    Case.Channel.WEB: Case.CategorySource.RESIDENT,
    Case.Channel.OPEN311: Case.CategorySource.RESIDENT,
    Case.Channel.PHONE: Case.CategorySource.STAFF_INTAKE,
    Case.Channel.WALK_IN: Case.CategorySource.STAFF_INTAKE,
    Case.Channel.PATROL: Case.CategorySource.STAFF_INTAKE,
}


def machine_category_source(suggestion) -> str:
    return Case.CategorySource.KEYWORDS if suggestion.source == "keywords" else Case.CategorySource.CLASSIFIER


def route(case: Case) -> Organisation | None:
    """The unit a case goes to: category × grid rule, else the category's default unit."""
    if case.category_id is None:
        return None
    if case.grid_id:
        rule = RoutingRule.objects.filter(category_id=case.category_id, grid_id=case.grid_id).select_related("unit").first()
        if rule:
            return rule.unit
    return case.category.default_unit


time_limit_for = deadlines.time_limit_for


def _start_response_clock(case: Case) -> None:
    """A case received before the response clock ran at receipt (an old row the tick has not
    reached yet) gets its deadline from receipt when it is answered, so the rates count it."""
    if case.response_due is None:
        case.response_due = deadlines.response_due_for(case)


def _set_resolve_deadline(case: Case, start) -> None:
    """The resolution clock starts at acceptance (docs/cases.md: as 12345 counts a handling
    unit's time from when it takes the order); the response clock ran from receipt."""
    limit = time_limit_for(case)
    if limit is None:
        return
    case.resolve_due = deadlines.due(start, limit.resolve_amount, limit.resolve_unit)
    case.resolve_reminded = False


def case_accept(*, actor, case: Case, category: Category | None = None, urgency: str | None = None) -> Case:
    def apply(c, now):
        if category is not None:
            if category.community_id != c.community_id:
                raise InvalidInput(_("Unknown category."), field="category")
            c.category = category
            # Staff chose or confirmed the category (the accept form always shows it): a label.
            c.category_source = Case.CategorySource.STAFF_ACCEPT
        if urgency:
            if urgency not in Urgency.values:
                raise InvalidInput(_("Choose normal or urgent."), code="urgency", field="urgency")
            c.urgency = urgency
        if c.category_id is None:
            raise InvalidInput(_("Choose a category before accepting."), code="category_required",
                               field="category")
        c.needs_triage = False
        # Accepting is the response; its deadline, counted from receipt, is not moved by the
        # category or urgency chosen now (the resident was told it; docs/cases.md).
        _start_response_clock(c)
        c.accepted_at = now
        _set_resolve_deadline(c, now)
    return transition(case, "accept", actor=actor, apply=apply)


def case_reject(*, actor, case: Case, reason: str) -> Case:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput(_("Say why the case is rejected; the resident will read it."), field="reason")

    def apply(c, now):
        _start_response_clock(c)  # a rejection with its reason is the response
        c.reject_reason = reason[:500]
        c.closed_at = now
    return transition(case, "reject", actor=actor, apply=apply)


def scrub_reason(case: Case, reason: str) -> str:
    """A free-text reason as events keep it: ID and phone numbers, the case's reporter's and
    contact's names and home doors masked (the event log is read by the street supervisor and
    goes to partners' webhooks; the case row keeps the full text for the office)."""
    return rules.scrub_for_outsiders(case, " ".join((reason or "").split())[:200])


def _check_unit(case: Case, unit: Organisation) -> None:
    if not unit.is_handling_unit or unit.street_id != case.community.street_id or (
            unit.community_id not in (None, case.community_id)):
        raise InvalidInput(_("This unit cannot handle cases of this community."), field="unit")


def case_dispatch(*, actor, case: Case, unit: Organisation | None = None) -> Case:
    facts = {}  # filled in by apply, read by transition when it writes the event

    def apply(c, now):
        target = unit or route(c)  # routed from the locked, current row
        if target is None:
            raise InvalidInput(_("Choose the handling unit."), code="unit_required", field="unit")
        _check_unit(c, target)
        c.unit = target
        c.first_unit = c.first_unit or target  # 首接负责: the first unit owns it until transferred
        c.dispatched_at = now
        facts["unit"] = target.pk
    return transition(case, "dispatch", actor=actor, apply=apply, data=facts)


def case_transfer(*, actor, case: Case, unit: Organisation, reason: str) -> Case:
    if not (reason or "").strip():
        raise InvalidInput(_("Say why the case is transferred."), field="reason")

    def apply(c, now):
        _check_unit(c, unit)
        if unit.pk == c.unit_id:
            raise InvalidInput(_("The case is already with this unit."), field="unit")
        c.unit = unit
        c.first_unit = unit  # a formal transfer moves ownership
        c.dispatched_at = now
    return transition(case, "transfer", actor=actor, apply=apply,
                      data={"unit": unit.pk, "reason": scrub_reason(case, reason)})


def case_return(*, actor, case: Case, reason: str) -> Case:
    if not (reason or "").strip():
        raise InvalidInput(_("Say why the case is returned."), field="reason")

    def apply(c, now):
        c.return_count = F("return_count") + 1
        c.unit = None
    case = transition(case, "return", actor=actor, apply=apply, data={"reason": scrub_reason(case, reason)})
    case.refresh_from_db()
    return case


def _contact(c, now):
    if c.first_contact_at is None:
        c.first_contact_at = now


def case_contact(*, actor, case: Case) -> Case:
    return transition(case, "contact", actor=actor, apply=_contact)


def case_start(*, actor, case: Case) -> Case:
    return transition(case, "start", actor=actor, apply=_contact)


def case_resolve(*, actor, case: Case, resolution: str, photos=()) -> Case:
    resolution = (resolution or "").strip()
    if len(resolution) < 2:
        raise InvalidInput(_("Write what was done; the resident will read it."), field="resolution")
    if len(resolution) > MAX_DESCRIPTION:
        raise InvalidInput(_("A description has at most %(n)d characters.") % {"n": MAX_DESCRIPTION},
                           field="resolution")

    def apply(c, now):
        _contact(c, now)
        c.resolution = resolution
        c.resolved_at = now
    case = transition(case, "resolve", actor=actor, apply=apply)
    for image in photos:
        image.attach(case, stage="resolution")
    return case


def _rating_apply(rating: str, comment: str):
    if rating not in Case.Rating.values:
        raise InvalidInput(_("Choose satisfied, basically satisfied or unsatisfied."), field="rating")

    def apply(c, now):
        c.rating = rating
        c.rating_comment = (comment or "").strip()[:500]
        c.rated_at = now
        if rating == Case.Rating.UNSATISFIED:
            # Reopened to its unit, with a fresh resolution deadline.
            c.reopen_count = (c.reopen_count or 0) + 1
            c.resolved_at = None
            c.dispatched_at = now
            limit = time_limit_for(c)
            if limit:
                c.resolve_due = deadlines.due(now, limit.resolve_amount, limit.resolve_unit)
                c.resolve_overdue = False
                c.resolve_reminded = False
            return Case.Status.DISPATCHED
        c.closed_at = now
        return Case.Status.CLOSED
    return apply


def case_rate(*, actor, case: Case, rating: str, comment: str = "") -> Case:
    return transition(case, "rate", actor=actor, apply=_rating_apply(rating, comment),
                      data={"rating": rating})


def case_visit_back(*, actor, case: Case, rating: str, comment: str = "") -> Case:
    """Staff record the resident's rating from a visit-back call (回访)."""
    return transition(case, "visit_back", actor=actor, apply=_rating_apply(rating, comment),
                      data={"rating": rating})


def case_merge(*, actor, case: Case, master: Case) -> Case:
    if master.pk == case.pk or master.community_id != case.community_id:
        raise InvalidInput(_("Choose another open case of this community."), field="master")
    if master.status == Case.Status.MERGED or not master.is_open:
        raise InvalidInput(_("Choose another open case of this community."), field="master")

    def apply(c, now):
        c.master = master
        c.closed_at = now
    return transition(case, "merge", actor=actor, apply=apply, data={"master": master.number})


def case_close_unresolved(*, actor, case: Case, kind: str, explanation: str, rating: str = "",
                          comment: str = "") -> Case:
    """The office closes a case that cannot be resolved (诉求无法实现), having explained why to
    the resident: it counts accepted, not resolved (docs/cases.md, "Closed, not resolved").
    ``rating``: the resident's view, when the office asked for it on that call; an earlier
    rating (unsatisfied, before a reopening) stays when none is given."""
    if kind not in Case.Unresolved.values:
        raise InvalidInput(_("Choose why the case cannot be resolved."), field="kind")
    explanation = (explanation or "").strip()
    if len(explanation) < 2:
        raise InvalidInput(_("Write what the resident was told; they read it."), field="explanation")
    if len(explanation) > 2000:
        raise InvalidInput(_("An explanation has at most %(n)d characters.") % {"n": 2000}, field="explanation")
    if rating and rating not in Case.Rating.values:
        raise InvalidInput(_("Choose satisfied, basically satisfied or unsatisfied."), field="rating")

    def apply(c, now):
        c.unresolved_kind = kind
        c.unresolved_explanation = explanation
        c.closed_at = now
        if rating:
            c.rating, c.rating_comment, c.rated_at = rating, (comment or "").strip()[:500], now
    data = {"kind": kind, "reason": scrub_reason(case, explanation)}
    if rating:
        data["rating"] = rating
    return transition(case, "close_unresolved", actor=actor, apply=apply, data=data)


# The service of each move people make (the deadline job makes close_unrated itself).
MOVE_SERVICES = {
    "accept": case_accept, "reject": case_reject, "dispatch": case_dispatch, "transfer": case_transfer,
    "return": case_return, "start": case_start, "contact": case_contact, "resolve": case_resolve,
    "rate": case_rate, "visit_back": case_visit_back, "merge": case_merge,
    "close_unresolved": case_close_unresolved,
}


def case_move(*, actor, case: Case, move: str, **fields) -> Case:
    """Make the move named in the workflow table (linli.cases.workflow.CASE) with its input:
    for callers that take the move's name from a request (the staff page's forms)."""
    service = MOVE_SERVICES.get(move)
    if service is None:
        raise IllegalTransition(_("Unknown action."))
    return service(actor=actor, case=case, **fields)


@transaction.atomic
def case_note(*, actor, case: Case, text: str, internal: bool = True) -> CaseNote:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write the note."), field="text")
    if len(text) > 2000:
        raise InvalidInput(_("A note has at most %(n)d characters.") % {"n": 2000}, field="text")
    if not rules.may_note(actor, case):
        raise PermissionDenied(_("You may not do this with this case."))
    note = CaseNote.objects.create(case=case, author=actor, text=text, internal=internal)
    events.record(actor=actor, verb="case.noted", target=case, community=case.community, grid=case.grid,
                  data={"number": case.number, "internal": internal})
    return note


# --- the contact, revealed to whoever calls the resident back -----------------------------------

@transaction.atomic
def case_contact_reveal(*, actor, case: Case, reason: str) -> str:
    """The phone to call the resident back on (or, where a report left only one, the e-mail
    address), in full, for the unit the case is with or its
    office (``rules.may_reveal_contact``), with the reason audited: one ``case.contact_revealed``
    event naming the field and the reason (scrubbed), never the value. The value is for the
    response that asked, shown once. An anonymous case's contact is never revealed to a unit:
    the office relays."""
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise InvalidInput(_("Say why you need to see this value."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("A reason has at most 200 characters."), field="reason")
    if not rules.may_reveal_contact(actor, case):
        raise PermissionDenied(_("You may not see this case's contact."))
    phone, field_name = case.contact_phone, "contact_phone"
    if phone is None and case.reporter_id is not None:
        phone, field_name = case.reporter.phone, "reporter_phone"
    if phone is None and case.contact_email is not None:
        phone, field_name = case.contact_email, "contact_email"  # an Open311 report may leave only an e-mail
    if phone is None:
        raise InvalidInput(_("This case has no phone number to call."), code="no_contact", field="reason")
    events.record(actor=actor, verb="case.contact_revealed", target=case, community=case.community,
                  grid=case.grid, data={"number": case.number, "field": field_name,
                                        "reason": scrub_reason(case, reason)})
    return phone.reveal()


# --- anonymous intake: a limit per client, counted and checked atomically ------------------------

def intake_quota_lock(client_key: str) -> None:
    """Serialise the anonymous intakes of one client until the caller's transaction ends, so
    that counting its recent cases and writing the next one are one step: N parallel posts
    pass exactly ``limit`` times. PostgreSQL: a transaction-scoped advisory lock on the key.
    SQLite: the settings open every transaction IMMEDIATE (the database's write lock), which
    serialises all writers already; the statement below takes it where they do not."""
    connection = connections[IdempotencyKey.objects.db]
    if not connection.in_atomic_block:
        raise RuntimeError("the intake quota is checked inside the intake's transaction")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            key = int.from_bytes(hashlib.sha256(client_key.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        else:
            table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
            cursor.execute(f'UPDATE {table} SET "scope" = "scope" WHERE 1 = 0')


def intake_quota_used(client_key: str, window) -> int:
    """The client's intakes in the window: one IdempotencyKey row each (scope = its key)."""
    since = timezone.now() - window
    return IdempotencyKey.objects.filter(scope=client_key, created_at__gte=since).count()


def intake_quota_allows(client_key: str, *, limit: int, window) -> bool:
    """Call inside the intake's transaction, before the case is written: locks the client's
    quota, then counts. Whether one more intake is allowed."""
    intake_quota_lock(client_key)
    return intake_quota_used(client_key, window) < limit
