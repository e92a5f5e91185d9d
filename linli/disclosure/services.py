"""Every write of the board's back office: keyword-only, atomic, one event each.

State changes go through ``linli.disclosure.workflow.ENTRY``. Publishing (``publish``,
``publish_many``, ``publish_as_server``) and withdrawing append leaves to the community's
transparency log and sign a checkpoint in the same transaction
(``linli.transparency.services.append_and_sign``; ``publish_many``: all its leaves in one append
and one checkpoint): if no signing key is configured they are refused with a clear message and
nothing changes.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.masking import scrub

from . import attachments, leaf, pii, rules
from .models import Attachment, Duty, Entry, Section
from .workflow import ENTRY

E = Entry.State
EDITABLE = (E.DRAFT, E.HELD)
TITLE_MAX = 200


# --- checks -------------------------------------------------------------------------------------


def no_key_message() -> str:
    return _("Publishing needs the installation's signing key, and none is configured: run "
             "“linli disclosure keygen” on the server (docs/disclosure.md). Nothing was published.")


def _signing_key_ready() -> None:
    from linli.transparency import keys

    try:
        keys.signer()
    except keys.SigningKeyMissing as exc:
        raise InvalidInput(no_key_message(), code="no_signing_key") from exc


def _append(community, leaves: list[bytes]) -> list[int]:
    from linli.transparency import keys, services as log

    try:
        indexes, _checkpoint = log.append_and_sign(community=community, leaves=leaves)
    except keys.SigningKeyMissing as exc:
        raise InvalidInput(no_key_message(), code="no_signing_key") from exc
    return indexes


def _clean_fields(*, section, title, body, period_start, period_end) -> dict:
    if section not in Section.values:
        raise InvalidInput(_("Choose a section."), code="section", field="section")
    title = (title or "").strip()
    if not title:
        raise InvalidInput(_("Give the entry a title."), code="title", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(_("A title may be at most %(n)d characters.") % {"n": TITLE_MAX}, code="title",
                           field="title")
    body = (body or "").replace("\r\n", "\n").strip("\n")
    if not isinstance(period_start, dt.date) or not isinstance(period_end, dt.date):
        raise InvalidInput(_("Give the period the entry covers."), code="period", field="period_start")
    if period_end < period_start:
        raise InvalidInput(_("The end of the period comes before its start."), code="period", field="period_end")
    return {"section": section, "title": title, "body": body, "period_start": period_start,
            "period_end": period_end}


def _check_duty(duty, community, section):
    if duty is None:
        return None
    if duty.community_id != community.pk or duty.section != section:
        raise InvalidInput(_("This duty belongs to another community or section."), code="duty", field="duty")
    return duty


def _add_files(entry, checked: list) -> None:
    if not checked:
        return
    position = entry.attachments.count()
    if position + len(checked) > attachments.MAX_FILES:
        raise attachments.too_many()
    for item in checked:
        path = attachments.store(item)
        Attachment.objects.create(entry=entry, name=item.name, content_type=item.content_type, size=item.size,
                                  sha256=item.sha256, path=path, position=position)
        position += 1


def _places(entry) -> dict:
    return {"community": entry.community}


# --- drafts -------------------------------------------------------------------------------------


def create_draft(*, actor, community, section, title, body, period_start, period_end, duty=None, files=(),
                 supersedes=None) -> Entry:
    """A new draft (``actor`` None: written by the server, for generators and imports)."""
    fields = _clean_fields(section=section, title=title, body=body, period_start=period_start,
                           period_end=period_end)
    role = rules.SYSTEM_ROLE
    if actor is not None:
        role = rules.author_role(actor, community.pk, section)
        if not role:
            raise PermissionDenied(_("You may not write entries in this section."))
    checked = attachments.check_files(files)
    with transaction.atomic():
        entry = Entry.objects.create(community=community, author=actor, author_role=role,
                                     duty=_check_duty(duty, community, section), supersedes=supersedes,
                                     **fields)
        _add_files(entry, checked)
        events.record(actor=actor, verb="disclosure.drafted", target=entry, community=community,
                      data={"section": entry.section, "supersedes": supersedes.log_index if supersedes else None,
                            "attachments": len(checked)})
    return entry


def update_draft(*, actor, entry, title, body, period_start, period_end, duty=None, files=(),
                 remove=()) -> Entry:
    """Edit a draft or a held entry: its words, period, duty and attachments (``remove``: ids)."""
    checked = attachments.check_files(files)
    with transaction.atomic():
        entry = Entry.objects.select_for_update().select_related("community").get(pk=entry.pk)
        if entry.state not in EDITABLE:
            raise InvalidInput(_("Only a draft or a held entry can be edited."), code="not_editable")
        if actor is not None and not rules.may_author(actor, entry.community_id, entry.section):
            raise PermissionDenied(_("You may not write entries in this section."))
        fields = _clean_fields(section=entry.section, title=title, body=body, period_start=period_start,
                               period_end=period_end)
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.duty = _check_duty(duty, entry.community, entry.section)
        entry.save()
        gone = list(entry.attachments.filter(pk__in=[int(pk) for pk in remove or ()]))
        for item in gone:
            sha = item.sha256
            item.delete()
            transaction.on_commit(lambda sha=sha: attachments.delete_unless_used(sha))
        _add_files(entry, checked)
        events.record(actor=actor, verb="disclosure.edited", target=entry, community=entry.community,
                      data={"section": entry.section, "added": len(checked), "removed": len(gone)})
    return entry


def start_correction(*, actor, entry) -> Entry:
    """A draft correcting a published entry: a copy of its words, period and duty that
    supersedes it once published (both stay on the board, linked both ways). Attachments are
    added anew."""
    if entry.state != E.PUBLISHED:
        raise InvalidInput(_("Only a published entry can be corrected."), code="not_published")
    return create_draft(actor=actor, community=entry.community, section=entry.section, title=entry.title,
                        body=entry.body, period_start=entry.period_start, period_end=entry.period_end,
                        duty=entry.duty, supersedes=entry)


# --- moves --------------------------------------------------------------------------------------


def submit(*, actor, entry) -> Entry:
    """Submit for approval; held instead when the words look like they hold a phone or ID number."""

    def apply(obj, now):
        obj.submitted_at = now
        if pii.entry_holds_numbers(title=obj.title, body=obj.body):
            obj.note = _("The text looks like it holds a mobile or ID-card number. Mask it "
                         "(e.g. 138****1234) and submit again.")
            return E.HELD
        obj.note = ""
        return E.SUBMITTED

    return ENTRY.transition(entry, "submit", actor=actor, apply=apply)


def return_to_author(*, actor, entry, note: str) -> Entry:
    note = scrub((note or "").strip())
    if not note:
        raise InvalidInput(_("Say what the author should change."), code="note", field="note")

    def apply(obj, now):
        obj.note = note

    return ENTRY.transition(entry, "return", actor=actor, apply=apply)


def _approve(obj, actor, role: str, now) -> None:
    """The checks every publication makes of one entry, then its approval's fields (all but the
    log index): shared by :func:`publish_many` (and so :func:`publish`) and :func:`publish_as_server`."""
    if pii.entry_holds_numbers(title=obj.title, body=obj.body):
        raise InvalidInput(_("The text looks like it holds a mobile or ID-card number; mask it first."),
                           code="pii_held")
    if obj.supersedes_id:
        old = Entry.objects.get(pk=obj.supersedes_id)
        if old.state != E.PUBLISHED or old.log_index is None:
            raise InvalidInput(_("The entry this corrects is no longer published."), code="not_published")
    obj.approver = actor
    obj.approver_role = role
    obj.published_at = now.replace(microsecond=0)
    obj.content_sha256 = leaf.content_sha256(obj)
    obj.note = ""


def _publish_apply(actor, role: str):
    def apply(obj, now):
        _approve(obj, actor, role, now)
        obj.log_index = _append(obj.community, [leaf.leaf_bytes(obj)])[0]
    return apply


# What the approval changes (publish_many saves only these).
PUBLISHED_FIELDS = ["state", "approver", "approver_role", "published_at", "content_sha256", "note", "log_index",
                    "updated_at"]


def publish(*, actor, entry) -> Entry:
    """The approval: a second person with the section's approving role publishes the entry
    (:func:`publish_many` of one entry)."""
    return publish_many(actor=actor, entries=[entry])[0]


def publish_many(*, actor, entries) -> list[Entry]:
    """Approve and publish submitted entries of one community in one transaction, in the order
    given: each entry checked as :func:`publish` checks it (the workflow's ``publish`` move from
    ``submitted``, an approver of the section who is not the author, no number held, the entry
    it corrects still published), one ``disclosure.published`` event each, their leaves appended
    in one call and ONE checkpoint signed over them all. If any entry fails, nothing is written.
    All share one publication time. Returns the entries as saved."""
    from linli.core.models import Event
    from linli.core.workflow import IllegalTransition

    entries = list(entries)
    if not entries:
        return []
    _signing_key_ready()
    pks = [entry.pk for entry in entries]
    if len(set(pks)) != len(pks):
        raise InvalidInput(_("An entry is listed twice."), code="duplicate")
    move = ENTRY.move("publish")
    with transaction.atomic():
        # Re-read under row locks, as the workflow's transition does: two approvers make one move.
        locked = {obj.pk: obj for obj in Entry.objects.select_for_update().filter(pk__in=pks)
                  .prefetch_related("attachments")}
        missing = [pk for pk in pks if pk not in locked]
        if missing:
            raise Entry.DoesNotExist(f"no entry {missing[0]}")
        rows = [locked[pk] for pk in pks]
        if len({obj.community_id for obj in rows}) > 1:
            raise InvalidInput(_("Entries of one community only are published together."), code="communities")
        community = rows[0].community
        for obj in rows:
            obj.community = community   # read once, not once per entry
        now = timezone.now()
        before = []
        for obj in rows:
            before.append(obj.state)
            if obj.state not in move.sources:
                raise IllegalTransition(ENTRY.illegal_message % {"status": ENTRY.state_label(obj),
                                                                 "move": move.label})
            if not ENTRY.actor_may(actor, obj, move.who):
                raise PermissionDenied(ENTRY.denied_message)
            role = rules.approver_role(actor, obj.community_id, obj.section) if actor is not None else ""
            _approve(obj, actor, role, now)
        indexes = _append(community, [leaf.leaf_bytes(obj) for obj in rows])
        for obj, index in zip(rows, indexes):
            obj.log_index = index
            obj.state = move.target
            obj.save(update_fields=PUBLISHED_FIELDS)
        Event.objects.bulk_create([ENTRY.event(obj, "publish", actor=actor, before=state, at=now)
                                   for obj, state in zip(rows, before)])
    return rows


def publish_as_server(*, community, section, title, body, period_start, period_end, files=(),
                      duty=None) -> Entry:
    """``linli disclosure publish``: write and publish in one step, as the system. Whoever runs
    the command on the server approves what it imports; the event says so."""
    _signing_key_ready()
    fields = _clean_fields(section=section, title=title, body=body, period_start=period_start,
                           period_end=period_end)
    if pii.entry_holds_numbers(title=fields["title"], body=fields["body"]):
        raise InvalidInput(_("The text looks like it holds a mobile or ID-card number; mask it first."),
                           code="pii_held")
    checked = attachments.check_files(files)
    with transaction.atomic():
        entry = Entry.objects.create(community=community, author=None, author_role=rules.SYSTEM_ROLE,
                                     duty=_check_duty(duty, community, section), **fields)
        _add_files(entry, checked)
        return ENTRY.transition(entry, "publish_as_server", actor=None,
                                apply=_publish_apply(None, rules.SYSTEM_ROLE),
                                data={"approved_by": "server operator", "via": "linli disclosure publish"})


def withdraw(*, actor, entry, reason: str) -> Entry:
    """Withdraw a published entry: its words and attachment bytes are erased, a tombstone (reason,
    date) stays and a withdrawal leaf is appended. The old leaf still verifies."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the withdrawal."), code="reason", field="reason")
    if pii.holds_numbers(reason):
        raise InvalidInput(_("The reason is shown on the board: leave out phone and ID numbers."),
                           code="pii_held", field="reason")
    _signing_key_ready()
    extra: dict = {}
    freed: list[str] = []

    def apply(obj, now):
        obj.withdrawn_at = now.replace(microsecond=0)
        obj.withdrawal_reason = reason
        obj.withdrawn_by = actor
        obj.withdrawer_role = (rules.StaffRole.Role.COMMUNITY_ADMIN if actor is not None else rules.SYSTEM_ROLE)
        obj.withdrawal_log_index = _append(obj.community, [leaf.withdrawal_leaf_bytes(obj)])[0]
        obj.title = ""
        obj.body = ""
        for item in obj.attachments.all():
            freed.append(item.sha256)
        obj.attachments.update(name="", path="")
        extra["withdrawal_log_index"] = obj.withdrawal_log_index

    with transaction.atomic():
        entry = ENTRY.transition(entry, "withdraw", actor=actor, apply=apply, data=extra)
        for sha in freed:
            transaction.on_commit(lambda sha=sha: attachments.delete_unless_used(sha))
    return entry


# --- duties -------------------------------------------------------------------------------------


def install_default_duties(*, community, actor=None, since: dt.date | None = None) -> list[Duty]:
    """The default duties (duties.default_duties), those the community lacks; returns the new ones."""
    from . import duties

    if actor is not None and not rules.is_admin_of(actor, community.pk):
        raise PermissionDenied(_("Only a community admin edits the duties."))
    since = since or timezone.localdate()
    with transaction.atomic():
        have = set(Duty.objects.filter(community=community).values_list("code", flat=True))
        made = [Duty.objects.create(community=community, since=since, **spec)
                for spec in duties.default_duties() if spec["code"] not in have]
        events.record(actor=actor, verb="disclosure.duties_installed", community=community,
                      data={"installed": len(made)})
    return made


def save_duty(*, actor, community, duty=None, code, section, title, frequency, days_allowed, since,
              active=True) -> Duty:
    """Add a duty or change one (community admins)."""
    if actor is not None and not rules.is_admin_of(actor, community.pk):
        raise PermissionDenied(_("Only a community admin edits the duties."))
    title = (title or "").strip()
    if not title:
        raise InvalidInput(_("Give the duty a title."), code="title", field="title")
    if section not in Section.values:
        raise InvalidInput(_("Choose a section."), code="section", field="section")
    if frequency not in Duty.Frequency.values:
        raise InvalidInput(_("Choose how often."), code="frequency", field="frequency")
    if not (0 <= int(days_allowed) <= 366):
        raise InvalidInput(_("Days allowed: 0 to 366."), code="days_allowed", field="days_allowed")
    with transaction.atomic():
        if duty is None:
            if Duty.objects.filter(community=community, code=code).exists():
                raise InvalidInput(_("A duty with this code exists already."), code="code", field="code")
            duty = Duty(community=community, code=code)
            verb = "disclosure.duty_added"
        else:
            duty = Duty.objects.select_for_update().get(pk=duty.pk, community=community)
            verb = "disclosure.duty_changed"
        duty.section, duty.title, duty.frequency = section, title, frequency
        duty.days_allowed, duty.since, duty.active = int(days_allowed), since, bool(active)
        duty.save()
        events.record(actor=actor, verb=verb, target=duty, community=community,
                      data={"code": duty.code, "active": duty.active})
    return duty


# --- generated drafts ---------------------------------------------------------------------------


def _month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    end = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return start, end


def _duty(community, code):
    return Duty.objects.filter(community=community, code=code, active=True).first()


def generate_finance_draft(*, actor, community, year: int, month: int) -> Entry:
    """A finance draft: the month's statement from the community's books (linli.books)."""
    from linli.books import statements

    statement = statements.monthly_statement(community, year, month)
    title, body = statements.render_statement(statement)
    start, end = _month_bounds(year, month)
    return create_draft(actor=actor, community=community, section=Section.FINANCE, title=title, body=body,
                        period_start=start, period_end=end, duty=_duty(community, "finance-statement"))


def generate_budget_draft(*, actor, community, year: int, upto_month: int) -> Entry:
    """A finance draft: the year's budget against actual up to the month (linli.books)."""
    from linli.books import statements

    report = statements.budget_vs_actual(community, year, upto_month)
    title, body = statements.render_budget(report)
    start = dt.date(year, 1, 1)
    _s, end = _month_bounds(year, upto_month)
    duty = _duty(community, "budget-vs-actual") if upto_month % 3 == 0 else None
    if duty is not None:  # the quarter's item: its period is the quarter
        start = dt.date(year, upto_month - 2, 1)
    return create_draft(actor=actor, community=community, section=Section.FINANCE, title=title, body=body,
                        period_start=start, period_end=end, duty=duty)


def generate_rates_draft(*, actor, community, year: int, month: int) -> Entry:
    """A residential draft: the month's three rates of residents' requests (linli.cases.rates)."""
    from .selectors import rates_text

    start, end = _month_bounds(year, month)
    title, body = rates_text(community, start, end)
    return create_draft(actor=actor, community=community, section=Section.RESIDENTIAL, title=title, body=body,
                        period_start=start, period_end=end, duty=_duty(community, "three-rates"))


# --- checking -----------------------------------------------------------------------------------


def record_verify_failure(*, community, report) -> None:
    """The daily check failed: one event (the recipe tells the community admins and the street)."""
    with transaction.atomic():
        events.record(actor=None, verb="disclosure.verify_failed", community=community,
                      data={"first_bad_index": report.first_bad_index, "reason": "verify_failed"})
