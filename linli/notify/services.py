"""Every write to notifications and webhooks.

The dispatcher reads the event log after its cursor and, in the transaction
that moves the cursor, writes the notifications and webhook deliveries each
event calls for: an event is handled exactly once, however many workers run
it, because the cursor row is locked (``select_for_update``; SQLite serialises
writers anyway). E-mails and webhook POSTs are sent later, outside any
transaction, from those rows.

Who is told what is decided in :func:`_messages`; docs/notifications.md has
the table.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.cases.models import Case
from linli.community.models import Community, Organisation, StaffRole
from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.masking import mask_id_number, mask_phone
from linli.core.models import Event

from .models import ALERT_VERBS, Cursor, Notification, Webhook, WebhookDelivery

log = logging.getLogger("linli.notify")

DISPATCH_CURSOR = "notify.dispatch"
# On PostgreSQL, ids come from a sequence and transactions commit in any
# order: id 11 may be visible while id 10 is still being written. The
# dispatcher stops at a gap in the ids until the event after it is this old;
# by then the missing id was rolled back (or its transaction is very long).
DEFAULT_SETTLE_SECONDS = 30

# Webhooks: tried at once, then again after each of these delays; a delivery
# that fails once more after the last one is marked failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=12))
MAX_ATTEMPTS = 1 + len(BACKOFF)
WEBHOOK_TIMEOUT = 5  # seconds
# A claimed delivery is not picked up by another worker for this long.
WEBHOOK_LEASE = timedelta(seconds=60)
# E-mail copies are sent for notifications this recent (a long outage does
# not flood inboxes with stale news; the in-app inbox still has everything).
EMAIL_HORIZON = timedelta(days=1)

R = StaffRole.Role
S = Case.Status


# Reading the event log -------------------------------------------------------------

def dispatch_new_events(batch: int = 500, *, settle_seconds: int | None = None) -> dict:
    """Turn the next ``batch`` events into notifications and webhook deliveries.

    Returns counts: ``{"events", "notifications", "deliveries", "waiting"}``;
    ``waiting`` is true when it stopped at a gap in the event ids (see
    DEFAULT_SETTLE_SECONDS) and should be run again later.
    """
    if settle_seconds is None:
        settle_seconds = getattr(settings, "LINLI_NOTIFY_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS)
    counts = {"events": 0, "notifications": 0, "deliveries": 0, "waiting": False}
    with transaction.atomic():
        cursor = _locked_cursor(DISPATCH_CURSOR)
        pending = list(Event.objects.filter(pk__gt=cursor.last_event_id).order_by("pk")[:batch])
        horizon = timezone.now() - timedelta(seconds=settle_seconds)
        expected = cursor.last_event_id + 1
        ready = []
        for event in pending:
            if event.pk != expected and event.created_at > horizon:
                counts["waiting"] = True
                break
            ready.append(event)
            expected = event.pk + 1
        if not ready:
            return counts
        notifications, deliveries = _plan(ready)
        Notification.objects.bulk_create(notifications)
        WebhookDelivery.objects.bulk_create(deliveries)
        cursor.last_event_id = ready[-1].pk
        cursor.save(update_fields=["last_event_id", "updated_at"])
    counts.update(events=len(ready), notifications=len(notifications), deliveries=len(deliveries))
    return counts


def cursor_fast_forward() -> int:
    """Skip every event written so far (for a freshly generated demo history):
    later events are notified, earlier ones never. Returns the new position."""
    with transaction.atomic():
        cursor = _locked_cursor(DISPATCH_CURSOR)
        last = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        cursor.last_event_id = max(cursor.last_event_id, last)
        cursor.save(update_fields=["last_event_id", "updated_at"])
    return cursor.last_event_id


def _locked_cursor(name: str) -> Cursor:
    try:
        return Cursor.objects.select_for_update().get(name=name)
    except Cursor.DoesNotExist:
        try:
            with transaction.atomic():
                Cursor.objects.create(name=name)
        except IntegrityError:
            pass  # created by a concurrent first run; lock that one
        return Cursor.objects.select_for_update().get(name=name)


def _plan(batch: list[Event]) -> tuple[list[Notification], list[WebhookDelivery]]:
    """The rows the events of one batch call for (nothing written yet)."""
    case_ids = {int(e.target_id) for e in batch
                if e.verb.startswith("case.") and e.target_type == "cases.case" and e.target_id.isdigit()}
    cases = Case.objects.select_related("community", "reporter", "submitted_by", "unit").in_bulk(case_ids)
    community_ids = {e.community_id for e in batch
                     if (e.verb.startswith("case.") or e.verb in ALERT_VERBS) and e.community_id}
    hooks: dict[int, list[Webhook]] = {}
    for hook in Webhook.objects.filter(community_id__in=community_ids, active=True).order_by("pk"):
        hooks.setdefault(hook.community_id, []).append(hook)
    now = timezone.now()
    notifications, deliveries = [], []
    with translation.override(settings.LANGUAGE_CODE):
        for event in batch:
            for hook in hooks.get(event.community_id, ()):
                if hook.wants(event.verb):
                    deliveries.append(WebhookDelivery(webhook=hook, event=event, next_attempt_at=now))
            if event.verb == "alert.raised":
                notifications.extend(_alert_notifications(event))
                continue
            case = cases.get(int(event.target_id)) if event.target_id.isdigit() else None
            if case is None or not event.verb.startswith("case."):
                continue
            for user_ids, title, body in _messages(event, case):
                for user_id in sorted(set(user_ids) - {event.actor_id}):
                    notifications.append(Notification(
                        user_id=user_id, community_id=case.community_id, event=event, verb=event.verb,
                        case=case, title=title[:200], body=body[:1000], created_at=event.created_at,
                    ))
    return notifications, deliveries


# Who is told what -------------------------------------------------------------------

@dataclass(frozen=True)
class _Words:
    """The non-personal facts a message may name."""

    number: str
    unit: str = ""
    reason: str = ""
    due: str = ""


def _messages(event: Event, case: Case):
    """(recipient user ids, title, body) for each message this event calls for."""
    move = event.verb.removeprefix("case.")
    data = event.data or {}
    w = _Words(number=case.number)

    if move == "submitted":
        yield (_office(case), _("New case %(number)s") % vars(w),
               _("A new case was submitted in %(community)s. Accept it, or reject it with a reason.")
               % {"community": case.community.name})
    elif move == "accept":
        yield (_resident_user_ids(case), _("Your request %(number)s was accepted") % vars(w),
               _("The community office accepted your request and will pass it to the unit that handles it."))
    elif move == "reject":
        w = _Words(number=case.number, reason=scrub(case.reject_reason))
        yield (_resident_user_ids(case), _("Your request %(number)s was not accepted") % vars(w),
               _("Reason: %(reason)s") % vars(w))
    elif move in ("dispatch", "transfer"):
        unit = _unit(data.get("unit"), case)
        if unit is None:
            return
        w = _Words(number=case.number, unit=unit.name, due=_when(case.resolve_due))
        if move == "dispatch":
            yield (_resident_user_ids(case), _("Your request %(number)s was sent to %(unit)s") % vars(w),
                   _("%(unit)s will handle your request. You will be told when it is resolved.") % vars(w))
            title = _("Case %(number)s dispatched to %(unit)s") % vars(w)
        else:
            title = _("Case %(number)s transferred to %(unit)s") % vars(w)
        body = (_("A case is now with your unit. Contact the resident and resolve it by %(due)s.") % vars(w)
                if w.due else _("A case is now with your unit. Contact the resident and resolve it."))
        yield (_unit_staff(unit.pk), title, body)
    elif move == "return":
        w = _Words(number=case.number, reason=scrub(str(data.get("reason", ""))))
        yield (_office(case), _("Case %(number)s returned by the unit") % vars(w),
               _("The handling unit returned the case. Reason: %(reason)s") % vars(w))
    elif move == "resolve":
        yield (_resident_user_ids(case), _("Your request %(number)s was resolved") % vars(w),
               _("The unit has finished handling your request. Please rate the handling: "
                 "satisfied, basically satisfied or unsatisfied."))
    elif move in ("rate", "visit_back") and data.get("to") == S.DISPATCHED and case.unit_id:
        yield (_unit_staff(case.unit_id), _("Case %(number)s reopened") % vars(w),
               _("The resident was not satisfied with the result, so the case is back with your unit."))
    elif move == "reminder":
        response = _deadline_kind(data) == "response"
        w = _Words(number=case.number, due=_when(case.response_due if response else case.resolve_due))
        holders = (_unit_staff(case.unit_id) if case.unit_id and case.status in (S.DISPATCHED, S.IN_PROGRESS)
                   else _office(case))
        body = (_("Contact the resident by %(due)s.") if response else _("Resolve the case by %(due)s.")) % vars(w)
        yield (holders, _("Case %(number)s is nearly due") % vars(w), body)
    elif move == "overdue":
        response = _deadline_kind(data) == "response"
        yield (_community_admins(case), _("Case %(number)s is overdue") % vars(w),
               _("The time limit for the first contact has passed.") if response
               else _("The time limit for resolving it has passed."))
    elif move == "escalated":
        if _level(data) >= 2:
            yield (_street_supervisors(case), _("Case %(number)s escalated to the street") % vars(w),
                   _("The case is overdue and has been escalated to the street for supervision."))
        else:
            yield (_community_admins(case), _("Case %(number)s escalated to the community") % vars(w),
                   _("The case is overdue and has been escalated to the community office."))


def _alert_notifications(event: Event) -> list[Notification]:
    """An early-warning alert (linli.insight.warnings): the community office and the courtyard's
    grid workers. The event's data names the category, courtyard, days and counts."""
    data = event.data or {}
    q = Q(role__in=(R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER), community_id=event.community_id)
    if event.grid_id:
        q |= Q(role=R.GRID_WORKER, community_id=event.community_id, grids=event.grid_id)
    words = {"category": data.get("category_name") or data.get("category") or "",
             "where": data.get("grid_name") or _("cases without a courtyard"),
             "observed": data.get("observed", ""), "expected": f"{float(data.get('expected') or 0):.1f}",
             "start": data.get("window_start", ""), "end": data.get("window_end", "")}
    title = _("Unusual rise: %(category)s, %(where)s") % words
    body = _("%(observed)s cases from %(start)s to %(end)s, where about %(expected)s were expected. "
             "The cases behind it are listed under Alerts.") % words
    return [Notification(user_id=user_id, community_id=event.community_id, event=event, verb=event.verb,
                         title=title[:200], body=body[:1000], created_at=event.created_at)
            for user_id in sorted(set(_staff(q)) - {event.actor_id})]


def _deadline_kind(data: dict) -> str:
    kind = str(data.get("kind") or data.get("deadline") or "resolve")
    return "response" if kind.startswith("respon") else "resolve"


def _level(data: dict) -> int:
    for key in ("level", "escalation", "to"):
        try:
            return int(data[key])
        except (KeyError, TypeError, ValueError):
            continue
    return 1


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _unit(unit_id, case: Case) -> Organisation | None:
    if isinstance(unit_id, int):
        unit = Organisation.objects.filter(pk=unit_id, street_id=case.community.street_id).first()
        if unit is not None and unit.is_handling_unit:
            return unit
    return case.unit


def _staff(q: Q) -> list[int]:
    return list(StaffRole.objects.filter(q, active=True, user__is_active=True)
                .values_list("user_id", flat=True).distinct())


def _office(case: Case) -> list[int]:
    """Community workers and admins of the case's community, and its grid's workers."""
    q = Q(role__in=(R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER), community_id=case.community_id)
    if case.grid_id:
        q |= Q(role=R.GRID_WORKER, community_id=case.community_id, grids=case.grid_id)
    return _staff(q)


def _community_admins(case: Case) -> list[int]:
    return _staff(Q(role=R.COMMUNITY_ADMIN, community_id=case.community_id))


def _street_supervisors(case: Case) -> list[int]:
    return _staff(Q(role=R.STREET_SUPERVISOR, street_id=case.community.street_id))


def _unit_staff(unit_id: int) -> list[int]:
    return _staff(Q(role=R.UNIT_STAFF, organisation_id=unit_id))


def _resident_user_ids(case: Case) -> list[int]:
    """The reporter's own account, or whoever submitted it if that is not staff."""
    reporter_user = case.reporter.user if case.reporter_id and case.reporter.user_id else None
    if reporter_user is not None:
        return [reporter_user.pk] if reporter_user.is_active else []
    user = case.submitted_by
    if user is not None and user.is_active and not StaffRole.objects.filter(user=user, active=True).exists():
        return [user.pk]
    return []


_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def scrub(text: str) -> str:
    """Mask ID-card and mobile numbers in free text staff wrote for a resident."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text or "")
    return _MOBILE.sub(lambda m: mask_phone(m.group()), text).strip()


# The inbox ---------------------------------------------------------------------------

def mark_read(user, ids=None) -> int:
    """Mark the user's notifications read: those with these ids, or all with None.
    Others' notifications are never touched. Returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def send_notification_emails(limit: int = 200) -> dict:
    """E-mail recent notifications to recipients who have an address.

    Each row is claimed (``emailed_at`` set) before its message is sent, so
    two workers never send the same one; a send that fails is released and
    tried on a later run, and the run stops there (the server is likely down).
    """
    now = timezone.now()
    queue = (Notification.objects
             .filter(emailed_at__isnull=True, created_at__gte=now - EMAIL_HORIZON)
             .exclude(user__email="").select_related("user").order_by("pk")[:limit])
    sent = failed = 0
    for n in queue:
        if not Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue  # another worker has it
        try:
            send_mail(n.title, _email_text(n), None, [n.user.email], fail_silently=False)
        except Exception as exc:  # SMTP errors of every kind
            Notification.objects.filter(pk=n.pk).update(emailed_at=None)
            log.warning("e-mail for notification %s failed: %s", n.pk, exc.__class__.__name__)
            failed += 1
            break
        sent += 1
    return {"sent": sent, "failed": failed}


def _email_text(n: Notification) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        footer = _("Sign in to Linli to see the case and your other notifications.")
    return f"{n.body}\n\n{footer}\n"


# Webhooks ---------------------------------------------------------------------------

def _may_manage_webhooks(actor, community) -> bool:
    # Community admins, or Django admin users given the model permission.
    return (community.pk in scope_of(actor).admin_communities
            or actor.has_perm("notify.add_webhook") or actor.has_perm("notify.change_webhook"))


def _clean_webhook(*, url: str, verbs) -> tuple[str, list[str]]:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidInput(_("Enter a web address that starts with http:// or https://."), code="url", field="url")
    verbs = sorted({str(v).strip() for v in (verbs or []) if str(v).strip()})
    bad = [v for v in verbs if not (re.fullmatch(r"case\.[a-z_]+", v) or v in ALERT_VERBS)]
    if bad:
        raise InvalidInput(_("Webhooks receive case events, such as case.accept, and alert.raised only: %(verbs)s")
                           % {"verbs": ", ".join(bad)}, code="verbs", field="verbs")
    return url, verbs


@transaction.atomic
def webhook_create(*, actor, community, name: str, url: str, verbs=(), secret: str = "",
                   active: bool = True) -> tuple[Webhook, str]:
    """Register a webhook. Returns it and its signing secret (generated unless given),
    which is shown to the caller this once."""
    if actor is not None and not _may_manage_webhooks(actor, community):
        raise PermissionDenied(_("Only the community's administrators manage its webhooks."))
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput(_("Give the webhook a name of at most 80 characters."), code="name", field="name")
    url, verbs = _clean_webhook(url=url, verbs=verbs)
    secret = (secret or "").strip() or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise InvalidInput(_("A signing secret has at least 16 characters."), code="secret", field="secret")
    hook = Webhook.objects.create(community=community, name=name, url=url, verbs=verbs, secret=secret,
                                  active=active)
    events.record(actor=actor, verb="webhook.created", target=hook, community=community,
                  data={"host": urlsplit(url).hostname or "", "verbs": verbs, "active": active})
    return hook, secret


@transaction.atomic
def webhook_update(*, actor, webhook: Webhook, name: str | None = None, url: str | None = None,
                   verbs=None, active: bool | None = None, secret: str = "") -> Webhook:
    """Change a webhook; a non-empty ``secret`` replaces the signing secret."""
    if actor is not None and not _may_manage_webhooks(actor, webhook.community):
        raise PermissionDenied(_("Only the community's administrators manage its webhooks."))
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    changed = []
    if name is not None and name.strip() != hook.name:
        if not name.strip() or len(name.strip()) > 80:
            raise InvalidInput(_("Give the webhook a name of at most 80 characters."), code="name", field="name")
        hook.name = name.strip()
        changed.append("name")
    if url is not None or verbs is not None:
        clean_url, clean_verbs = _clean_webhook(url=hook.url if url is None else url,
                                                verbs=hook.verbs if verbs is None else verbs)
        if clean_url != hook.url:
            hook.url = clean_url
            changed.append("url")
        if clean_verbs != hook.verbs:
            hook.verbs = clean_verbs
            changed.append("verbs")
    if active is not None and active != hook.active:
        hook.active = active
        changed.append("active")
    if secret.strip():
        if len(secret.strip()) < 16:
            raise InvalidInput(_("A signing secret has at least 16 characters."), code="secret", field="secret")
        hook.secret = secret.strip()
        changed.append("secret")
    if changed:
        hook.save()
        events.record(actor=actor, verb="webhook.updated", target=hook, community=hook.community,
                      data={"fields": changed})
    return hook


def _community_code(community_id: int | None) -> str | None:
    if community_id is None:
        return None
    return Community.objects.filter(pk=community_id).values_list("code", flat=True).first()


def webhook_payload(event: Event) -> dict:
    """What a webhook receives for one event (ids and verbs only, as the event log holds)."""
    target_id = event.target_id
    target_type = event.target_type
    if target_type == "cases.case":
        target_type = "case"
        target_id = (event.data or {}).get("number") or target_id
    return {
        "id": event.pk,
        "verb": event.verb,
        "time": timezone.localtime(event.created_at).isoformat(),
        "community": _community_code(event.community_id),
        "target": {"type": target_type, "id": target_id},
        "data": event.data or {},
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """X-Linli-Signature: HMAC-SHA256 over "<timestamp>.<body>", hex, with a "sha256=" prefix."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without its body: treat a
    # redirect as the answer it is (not 2xx, so a failed attempt).
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None




def deliver_due_webhooks(now=None, limit: int = 100) -> dict:
    """POST every delivery that is due. Returns counts by outcome."""
    now = now or timezone.now()
    due = list(WebhookDelivery.objects
               .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, webhook__active=True)
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for pk in due:
        # Claim it: a concurrent worker sees it as not due for WEBHOOK_LEASE.
        claimed = (WebhookDelivery.objects
                   .filter(pk=pk, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
                   .update(next_attempt_at=now + WEBHOOK_LEASE, attempts=F("attempts") + 1))
        if not claimed:
            continue
        delivery = WebhookDelivery.objects.select_related("webhook", "event").get(pk=pk)
        code, error = _post(delivery)
        delivery.last_status_code = code
        delivery.last_error = error[:500]
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            counts["delivered"] += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            counts["failed"] += 1
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
            counts["retry"] += 1
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code",
                                     "last_error"])
    return counts


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One POST. Returns (HTTP status or None, error text without personal data)."""
    body = json.dumps(webhook_payload(delivery.event), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(delivery.webhook.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Linli-Webhooks/1",
        "X-Linli-Event": delivery.event.verb,
        "X-Linli-Delivery": str(delivery.pk),
        "X-Linli-Timestamp": timestamp,
        "X-Linli-Signature": sign(delivery.webhook.secret.reveal(), timestamp, body),
    })
    try:
        opener = urllib.request.build_opener(_NoRedirect)  # per call: proxy settings are read from the environment
        with opener.open(request, timeout=WEBHOOK_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{exc.__class__.__name__}: {reason}"
