"""Every write to notifications and webhooks.

The dispatcher reads the event log after its cursor and, in the transaction
that moves the cursor, writes the notifications and webhook deliveries each
event calls for: an event is handled exactly once, however many workers run
it, because the cursor row is locked (``select_for_update``; SQLite serialises
writers anyway). E-mails and webhook POSTs are sent later, outside any
transaction, from those rows.

Who is told what is decided by the apps that write the events: each registers
recipes (linli.core.registry) that turn its events into messages; notify knows
no app. docs/notifications.md has the table.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.community.models import Community
from linli.community.scope import scope_of
from linli.core import events, registry
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.mailer import NOT_CONFIGURED, email_configured
from linli.core.models import Event

from .models import Cursor, Notification, Webhook, WebhookDelivery

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
    """The rows the events of one batch call for (nothing written yet). Who hears of an event,
    in which words, is the business of the app that wrote it: its recipes
    (linli.core.registry.register_recipe) turn events into messages; notify stores them."""
    webhook_verbs = registry.webhook_verb_set()
    community_ids = {e.community_id for e in batch if e.verb in webhook_verbs and e.community_id}
    hooks: dict[int, list[Webhook]] = {}
    for hook in Webhook.objects.filter(community_id__in=community_ids, active=True).order_by("pk"):
        hooks.setdefault(hook.community_id, []).append(hook)
    now = timezone.now()
    deliveries = [WebhookDelivery(webhook=hook, event=event, next_attempt_at=now)
                  for event in batch for hook in hooks.get(event.community_id, ()) if hook.wants(event.verb)]
    notifications, seen = [], set()
    with translation.override(settings.LANGUAGE_CODE):
        for recipe in registry.recipes():
            matching = [e for e in batch if recipe.matches(e.verb)]
            if not matching:
                continue
            for event, message in recipe.messages(matching):
                for user_id in sorted(set(message.user_ids) - {event.actor_id}):
                    if (user_id, event.pk) in seen:
                        continue  # one message per person and event (the database says so too)
                    seen.add((user_id, event.pk))
                    notifications.append(Notification(
                        user_id=user_id,
                        community_id=message.community_id if message.community_id is not None else event.community_id,
                        event=event, verb=event.verb, target_type=event.target_type, target_id=event.target_id,
                        url=message.url[:300], title=str(message.title)[:200], body=str(message.body)[:1000],
                        created_at=event.created_at,
                    ))
    # Stored in event order, whichever recipe spoke first.
    notifications.sort(key=lambda n: n.event.pk)
    return notifications, deliveries


# The inbox ---------------------------------------------------------------------------

def mark_read(user, ids=None) -> int:
    """Mark the user's notifications read: those with these ids, or all with None.
    Others' notifications are never touched. Returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def mark_target_read(user, target_type: str, target_id: str) -> int:
    """The ``core.viewed`` hook: the account opened or acted on this target (a case …), so its
    unread notifications about that target are read. Only the account's own; no event (reading
    one's inbox is not an act on the record). Returns how many changed."""
    if not target_type or not target_id or user is None or not getattr(user, "pk", None):
        return 0
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True, target_type=target_type,
                                       target_id=str(target_id)).update(read_at=timezone.now())


def send_notification_emails(limit: int = 200) -> dict:
    """E-mail recent notifications to recipients who have an address.

    Each row is claimed (``emailed_at`` set) before its message is sent, so
    two workers never send the same one; a send that fails is released and
    tried on a later run, and the run stops there (the server is likely down).

    Without an e-mail host (linli.core.mailer) nothing is claimed or sent: the result and the
    log say "e-mail not configured".
    """
    now = timezone.now()
    waiting = (Notification.objects
               .filter(emailed_at__isnull=True, created_at__gte=now - EMAIL_HORIZON)
               .exclude(user__email=""))
    if not email_configured():
        # Nothing could be sent: claim nothing, so that emailed_at never says it was.
        count = waiting.count()
        if count:
            log.warning("%s: %s notification(s) not e-mailed (set LINLI_EMAIL_HOST)", NOT_CONFIGURED, count)
        return {"sent": 0, "failed": 0, "email": NOT_CONFIGURED}
    queue = waiting.select_related("user").order_by("pk")[:limit]
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
    allowed = registry.webhook_verb_set()
    bad = [v for v in verbs if v not in allowed]
    if bad:
        raise InvalidInput(_("Webhooks receive only these events: %(allowed)s. Not: %(verbs)s")
                           % {"allowed": ", ".join(sorted(allowed)), "verbs": ", ".join(bad)},
                           code="verbs", field="verbs")
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
    """What a webhook receives for one event (ids and verbs only, as the event log holds). The
    target is named by its model (``case``) and, where the event carries one, by the number
    people use for it rather than the row id."""
    target_type = event.target_type.rpartition(".")[2]
    target_id = (event.data or {}).get("number") or event.target_id
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
