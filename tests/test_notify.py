"""Notifications from the event log: recipients, exactly-once dispatch, the inbox,
e-mail, signed webhooks with retries, and the worker that runs the jobs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import signal
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from linli.cases.models import Case, Category, TimeLimit
from linli.cases.services import (
    Intake, case_accept, case_dispatch, case_rate, case_reject, case_resolve, case_return, case_submit,
    case_transfer,
)
from linli.community.models import Organisation, StaffRole
from linli.core import events, registry
from linli.core.models import Event
from linli.notify import services
from linli.notify.models import Cursor, Notification, Webhook, WebhookDelivery
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _english_and_no_settling(settings):
    # Messages are written in the installation's language; English msgids here.
    settings.LANGUAGE_CODE = "en"
    settings.LINLI_NOTIFY_SETTLE_SECONDS = 0


@pytest.fixture
def category(world):
    cat = Category.objects.create(community=world.community, code="property", name_zh="物业服务",
                                  name_en="Property services", default_unit=world.property_company)
    TimeLimit.objects.create(category=cat, urgency="normal", response_amount=2, response_unit="hours",
                             resolve_amount=3, resolve_unit="working_days")
    return cat


@pytest.fixture
def department(world):
    """A street office department (a second handling unit) with one staff account."""
    dept = Organisation.objects.create(kind=Organisation.Kind.STREET_DEPARTMENT, name="城管科",
                                       street=world.street)
    from tests.conftest import _role, _user
    user = _user("dept_staff")
    _role(user, StaffRole.Role.UNIT_STAFF, community=world.community, organisation=dept)
    world.users["dept_staff"] = user
    return dept


def submit(world, category, description="3号楼楼道灯坏了三天了，晚上很黑") -> Case:
    case, created = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description=description, category=category,
        reporter=world.residents[0], place=Case.Place.HOME))
    assert created
    return case


def full_loop(world, category) -> Case:
    """Submitted by the resident, accepted and dispatched by the worker, resolved by the unit, rated."""
    case = submit(world, category)
    case_accept(actor=world.users["worker"], case=case)
    case_dispatch(actor=world.users["worker"], case=case)
    case_resolve(actor=world.users["unit_staff"], case=case, resolution="已更换灯泡")
    case_rate(actor=world.users["resident"], case=case, rating=Case.Rating.SATISFIED)
    return case


def sent(case=None) -> list[tuple[str, str]]:
    qs = Notification.objects.all() if case is None else Notification.objects.filter(target_type="cases.case", target_id=str(case.pk))
    return sorted(qs.values_list("verb", "user__username"))


def drain():
    return services.dispatch_new_events()


# Who is told what -------------------------------------------------------------------

def test_the_closed_loop_tells_the_office_the_unit_and_the_resident(world, category):
    case = full_loop(world, category)
    counts = drain()
    assert counts["notifications"] == 7
    assert sent(case) == [
        ("case.accepted", "resident"),
        ("case.dispatched", "resident"),
        ("case.dispatched", "unit_staff"),
        ("case.resolved", "resident"),
        ("case.submitted", "admin"),
        ("case.submitted", "grid1"),
        ("case.submitted", "worker"),
    ]


def test_messages_are_plain_words_naming_the_case_number(world, category):
    case = full_loop(world, category)
    drain()
    n = case.number
    got = {(x.verb, x.user.username): (x.title, x.body)
           for x in Notification.objects.filter(target_type="cases.case", target_id=str(case.pk)).select_related("user")}
    assert got[("case.submitted", "admin")] == (
        f"New case {n}", "A new case was submitted in Y社区. Accept it, or reject it with a reason.")
    assert got[("case.accepted", "resident")] == (
        f"Your request {n} was accepted",
        "The community office accepted your request and will pass it to the unit that handles it.")
    assert got[("case.dispatched", "resident")] == (
        f"Your request {n} was sent to 安居物业",
        "安居物业 will handle your request. You will be told when it is resolved.")
    due = timezone.localtime(Case.objects.get(pk=case.pk).resolve_due).strftime("%Y-%m-%d %H:%M")
    assert got[("case.dispatched", "unit_staff")] == (
        f"Case {n} dispatched to 安居物业",
        f"A case is now with your unit. Contact the resident and resolve it by {due}.")
    assert got[("case.resolved", "resident")] == (
        f"Your request {n} was resolved",
        "The unit has finished handling your request. Please rate the handling: "
        "satisfied, basically satisfied or unsatisfied.")
    assert {x.community_id for x in Notification.objects.all()} == {world.community.pk}


def test_the_actor_is_not_told_about_their_own_move(world, category):
    # A grid worker's patrol report: the office hears of it, the reporting grid worker does not.
    case, _ = case_submit(actor=world.users["grid1"], intake=Intake(
        community=world.community, channel=Case.Channel.PATROL, description="井盖缺失，有安全隐患",
        category=category, grid=world.grids[0]))
    drain()
    assert sent(case) == [("case.submitted", "admin"), ("case.submitted", "worker")]


def test_a_case_in_the_other_grid_reaches_that_grids_worker(world, category):
    case, _ = case_submit(actor=world.users["worker"], intake=Intake(
        community=world.community, channel=Case.Channel.PHONE, description="二号院垃圾桶满了没人清",
        category=category, grid=world.grids[1], contact_phone="13800001111"))
    drain()
    assert sent(case) == [("case.submitted", "admin"), ("case.submitted", "grid2")]


def test_rejection_tells_the_resident_the_reason_with_numbers_masked(world, category):
    case = submit(world, category)
    case_reject(actor=world.users["worker"], case=case,
                reason="属于物业合同范围，请直接拨打13912345678联系物业")
    drain()
    n = Notification.objects.get(target_type="cases.case", target_id=str(case.pk), verb="case.rejected")
    assert n.user == world.users["resident"]
    assert (n.title, n.body) == (f"Your request {case.number} was not accepted",
                                 "Reason: 属于物业合同范围，请直接拨打139****5678联系物业")


def test_transfer_return_and_reopening_reach_whoever_holds_the_case(world, category, department):
    case = submit(world, category)
    case_accept(actor=world.users["worker"], case=case)
    case_dispatch(actor=world.users["worker"], case=case)
    case_transfer(actor=world.users["worker"], case=case, unit=department, reason="属于市政道路")
    case_return(actor=world.users["dept_staff"], case=case, reason="不在辖区")
    case_dispatch(actor=world.users["worker"], case=case, unit=world.property_company)
    case_resolve(actor=world.users["unit_staff"], case=case, resolution="已处理")
    case_rate(actor=world.users["resident"], case=case, rating=Case.Rating.UNSATISFIED)
    drain()
    assert [v for v in sent(case) if v[0] not in ("case.submitted", "case.accepted")] == [
        ("case.dispatched", "resident"),
        ("case.dispatched", "resident"),
        ("case.dispatched", "unit_staff"),
        ("case.dispatched", "unit_staff"),
        ("case.rated", "unit_staff"),
        ("case.resolved", "resident"),
        ("case.returned", "admin"),
        ("case.returned", "grid1"),
        ("case.returned", "worker"),
        ("case.transferred", "dept_staff"),
    ]
    assert Notification.objects.get(verb="case.transferred").title == f"Case {case.number} transferred to 城管科"
    assert Notification.objects.get(verb="case.returned", user=world.users["admin"]).body == (
        "The handling unit returned the case. Reason: 不在辖区")
    assert Notification.objects.get(verb="case.rated").title == f"Case {case.number} reopened"


def _job_event(case, verb, **data):
    with transaction.atomic():
        events.record(actor=None, verb=verb, target=case, community=case.community, grid=case.grid,
                      data={"number": case.number, **data})


def test_the_deadline_job_s_events_reach_the_community_admins_and_the_street(world, category):
    from linli.cases.jobs import run_tick

    case = submit(world, category)
    case_accept(actor=world.users["worker"], case=case)
    case_dispatch(actor=world.users["worker"], case=case)
    case = Case.objects.get(pk=case.pk)
    drain()
    report = run_tick(now=case.resolve_due + timedelta(days=30))
    # Accepting it was the response (its clock ran from receipt): only the resolution is late.
    assert (report.overdue, report.escalations) == (1, 1)
    drain()
    assert [v for v in sent(case) if v[0] in ("case.marked_overdue", "case.escalated")] == [
        ("case.escalated", "supervisor"), ("case.marked_overdue", "admin")]
    assert sorted(Notification.objects.filter(verb="case.marked_overdue").values_list("body", flat=True)) == [
        "The time limit for resolving it has passed."]


def test_reminders_overdue_and_escalation_reach_the_holder_the_community_then_the_street(world, category):
    with_office = submit(world, category)
    case_accept(actor=world.users["worker"], case=with_office)
    with_unit = submit(world, category, description="电梯经常停在半层，很危险")
    case_accept(actor=world.users["worker"], case=with_unit)
    case_dispatch(actor=world.users["worker"], case=with_unit)
    Cursor.objects.update_or_create(name=services.DISPATCH_CURSOR,
                                    defaults={"last_event_id": Event.objects.order_by("-pk")[0].pk})
    # As linli.cases.jobs writes them.
    _job_event(with_office, "case.reminded", deadline="response", due="2030-01-01T10:00:00+08:00")
    _job_event(with_unit, "case.reminded", deadline="resolution", due="2030-01-01T10:00:00+08:00")
    _job_event(with_unit, "case.marked_overdue", deadline="resolution", due="2030-01-01T10:00:00+08:00")
    _job_event(with_unit, "case.escalated", level=1, to="community", deadline="resolution")
    _job_event(with_unit, "case.escalated", level=2, to="street", deadline="resolution")
    drain()
    assert sent(with_office) == [("case.reminded", "admin"), ("case.reminded", "grid1"),
                                 ("case.reminded", "worker")]
    assert sent(with_unit) == [("case.escalated", "admin"), ("case.escalated", "supervisor"),
                               ("case.marked_overdue", "admin"), ("case.reminded", "unit_staff")]
    n = with_unit.number
    got = {(x.verb, x.user.username): (x.title, x.body) for x in Notification.objects.select_related("user")}
    due = timezone.localtime(Case.objects.get(pk=with_office.pk).response_due).strftime("%Y-%m-%d %H:%M")
    assert got[("case.reminded", "worker")] == (f"Case {with_office.number} is nearly due",
                                                f"Contact the resident by {due}.")
    assert got[("case.marked_overdue", "admin")] == (f"Case {n} is overdue",
                                              "The time limit for resolving it has passed.")
    assert got[("case.escalated", "supervisor")] == (
        f"Case {n} escalated to the street",
        "The case is overdue and has been escalated to the street for supervision.")


def test_no_personal_data_in_any_title_or_body(world, category):
    neighbour = world.residents[1]
    full_loop(world, category)
    other = submit(world, category, description=f"邻居{neighbour.name.reveal()}家装修噪音，电话{neighbour.phone.reveal()}")
    case_reject(actor=world.users["worker"], case=other, reason=f"请与邻居{neighbour.phone.reveal()}协商")
    case_accept(actor=world.users["worker"], case=submit(world, category))
    drain()
    plaintexts = ["3号楼楼道灯坏了三天了", "已更换灯泡", "装修噪音"]
    for r in world.residents:
        for field in ("name", "id_number", "phone", "address"):
            value = getattr(r, field)
            if value:
                plaintexts.append(value.reveal())
    texts = [f"{t} {b}" for t, b in Notification.objects.values_list("title", "body")]
    assert len(texts) == 15
    assert any(t.endswith("Reason: 请与邻居139****0002协商") for t in texts)
    leaks = [(p, t) for t in texts for p in plaintexts if p in t]
    assert leaks == []


# Exactly once ------------------------------------------------------------------------

def test_dispatching_twice_makes_each_notification_once(world, category):
    full_loop(world, category)
    first = drain()
    second = drain()
    assert first["notifications"] == 7 and first["events"] > 0
    assert second == {"events": 0, "notifications": 0, "deliveries": 0, "waiting": False}
    assert Notification.objects.count() == 7
    assert Cursor.objects.get(name=services.DISPATCH_CURSOR).last_event_id == Event.objects.order_by("-pk")[0].pk


def test_a_batch_moves_the_cursor_only_past_what_it_handled(world, category):
    full_loop(world, category)
    last = Event.objects.order_by("-pk")[0].pk
    total = 0
    while (counts := services.dispatch_new_events(batch=2))["events"]:
        total += counts["notifications"]
    assert total == 7 == Notification.objects.count()
    assert Cursor.objects.get(name=services.DISPATCH_CURSOR).last_event_id == last


def test_a_gap_in_event_ids_is_waited_for_until_it_has_settled(world, category, settings):
    settings.LINLI_NOTIFY_SETTLE_SECONDS = 30
    case = submit(world, category)
    drain_to = Event.objects.order_by("-pk")[0].pk
    Cursor.objects.update_or_create(name=services.DISPATCH_CURSOR, defaults={"last_event_id": drain_to})
    # An id taken by a transaction that has not committed (or rolled back): the next id is visible.
    with transaction.atomic():
        later = events.record(actor=world.users["worker"], verb="case.accepted", target=case,
                              community=case.community, data={"number": case.number})
    Event.objects.filter(pk=later.pk).update(id=drain_to + 2)
    assert services.dispatch_new_events() == {"events": 0, "notifications": 0, "deliveries": 0, "waiting": True}
    Event.objects.filter(pk=drain_to + 2).update(created_at=timezone.now() - timedelta(seconds=31))
    counts = services.dispatch_new_events()
    assert (counts["events"], counts["notifications"], counts["waiting"]) == (1, 1, False)


def _retrying(fn):
    """SQLite's shared in-memory test database answers "table is locked" at once where a
    database file waits (busy_timeout): wait here the same way. PostgreSQL never needs it."""
    for _ in range(1000):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.01)
    raise AssertionError("the database stayed locked")


@pytest.mark.parametrize("first_run", [True, False], ids=["first run", "cursor exists"])
def test_two_dispatchers_racing_make_no_duplicates(transactional_db, world, category, monkeypatch, first_run):
    full_loop(world, category)
    if not first_run:
        Cursor.objects.create(name=services.DISPATCH_CURSOR, last_event_id=0)
    real_plan = services._plan

    def slow_plan(batch):
        time.sleep(0.3)  # hold the cursor while the other dispatcher tries
        return real_plan(batch)

    monkeypatch.setattr(services, "_plan", slow_plan)
    barrier = threading.Barrier(2, timeout=60)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(_retrying(services.dispatch_new_events))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(r["notifications"] for r in results) == [0, 7]
    assert Notification.objects.count() == 7
    assert Cursor.objects.count() == 1


# The inbox ---------------------------------------------------------------------------

def test_the_inbox_shows_only_the_users_own_notifications_unread_first(client, world, category):
    case = full_loop(world, category)
    drain()
    Notification.objects.filter(user=world.users["resident"], verb="case.accepted").update(read_at=timezone.now())
    client.login(username="resident", password=PASSWORD)
    response = client.get("/inbox/")
    assert response.status_code == 200
    page = response.content.decode()
    titles = [f"Your request {case.number} was resolved", f"Your request {case.number} was sent to 安居物业",
              f"Your request {case.number} was accepted"]
    positions = [page.index(t) for t in titles]
    assert positions == sorted(positions)  # unread (newest first), then read
    assert f"New case {case.number}" not in page
    assert f"Case {case.number} dispatched" not in page
    assert 'id="inbox-unread">2</span>' in page
    assert f'<a href="/cases/{case.number}/">Your request {case.number} was resolved</a>' in page
    assert "no-store" in response["Cache-Control"]


def test_marking_read_changes_only_the_users_own_notifications(client, world, category):
    full_loop(world, category)
    drain()
    mine = list(Notification.objects.filter(user=world.users["resident"]).order_by("pk"))
    theirs = Notification.objects.filter(user=world.users["admin"]).get()
    client.login(username="resident", password=PASSWORD)
    response = client.post("/inbox/", {"id": [mine[0].pk, theirs.pk]})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert Notification.objects.get(pk=mine[0].pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert Notification.objects.filter(user=world.users["resident"], read_at__isnull=True).count() == 2
    client.post("/inbox/", {"all": "1"})
    assert Notification.objects.filter(user=world.users["resident"], read_at__isnull=True).count() == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert services.mark_read(world.users["admin"], [mine[1].pk]) == 0


def test_the_inbox_needs_a_signed_in_user(client):
    response = client.get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# E-mail ------------------------------------------------------------------------------

def test_notifications_are_emailed_once_to_users_with_an_address(world, category):
    resident = world.users["resident"]
    resident.email = "resident@example.org"
    resident.save(update_fields=["email"])
    case = full_loop(world, category)
    drain()
    assert services.send_notification_emails() == {"sent": 3, "failed": 0}
    assert services.send_notification_emails() == {"sent": 0, "failed": 0}
    assert [(m.subject, m.to) for m in mail.outbox] == [
        (f"Your request {case.number} was accepted", ["resident@example.org"]),
        (f"Your request {case.number} was sent to 安居物业", ["resident@example.org"]),
        (f"Your request {case.number} was resolved", ["resident@example.org"]),
    ]
    assert mail.outbox[0].body == (
        "The community office accepted your request and will pass it to the unit that handles it.\n\n"
        "Sign in to Linli to see the case and your other notifications.\n")
    assert mail.outbox[0].from_email == "linli@localhost"
    assert Notification.objects.filter(user=resident, emailed_at__isnull=True).count() == 0
    assert Notification.objects.exclude(user=resident).filter(emailed_at__isnull=False).count() == 0


def test_a_failed_email_is_tried_again_later(world, category, monkeypatch):
    world.users["resident"].email = "resident@example.org"
    world.users["resident"].save(update_fields=["email"])
    full_loop(world, category)
    drain()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services, "send_mail", refuse)
    assert services.send_notification_emails() == {"sent": 0, "failed": 1}
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 0
    monkeypatch.undo()
    assert services.send_notification_emails() == {"sent": 3, "failed": 0}


def test_without_an_email_host_nothing_is_marked_as_emailed(world, category, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"  # no LINLI_EMAIL_HOST
    world.users["resident"].email = "resident@example.org"
    world.users["resident"].save(update_fields=["email"])
    full_loop(world, category)
    drain()
    with caplog.at_level(logging.INFO):
        assert services.send_notification_emails() == {"sent": 0, "failed": 0, "email": "e-mail not configured"}
        call_command("worker", "--once")
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 0
    worker = [r.getMessage() for r in caplog.records if r.name == "linli.worker"]
    assert any(line.startswith("job notify.email done") and "e-mail not configured" in line for line in worker)
    assert "e-mail not configured: 3 notification(s) not e-mailed" in caplog.text
    assert "resident@example.org" not in caplog.text
    # Once a host is configured, the waiting ones go out.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.send_notification_emails() == {"sent": 3, "failed": 0}


# Webhooks ----------------------------------------------------------------------------

class Receiver:
    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []  # statuses to answer, in order; then 200
        self.url = ""


@pytest.fixture
def receiver(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = rec.answers.pop(0) if rec.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_port}/linli"
    yield rec
    server.shutdown()
    server.server_close()


SECRET = "s3cret-shared-with-the-receiver"


def verify(headers: dict, body: bytes, secret: str = SECRET) -> bool:
    """What a receiver does (docs/notifications.md)."""
    signed = headers["x-linli-timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-linli-signature"])


@pytest.fixture
def hook(world, receiver):
    webhook, secret = services.webhook_create(actor=world.users["admin"], community=world.community,
                                              name="12345 hotline", url=receiver.url, verbs=["case.accepted"],
                                              secret=SECRET)
    assert secret == SECRET
    return webhook


def test_a_webhook_receives_a_signed_post_of_the_event(world, category, receiver, hook):
    case = submit(world, category)
    case_accept(actor=world.users["worker"], case=case)
    assert drain()["deliveries"] == 1
    assert services.deliver_due_webhooks() == {"delivered": 1, "retry": 0, "failed": 0}
    [(headers, body)] = receiver.requests
    delivery = WebhookDelivery.objects.get()
    event = Event.objects.get(verb="case.accepted")
    assert json.loads(body) == {
        "id": event.pk, "verb": "case.accepted", "time": timezone.localtime(event.created_at).isoformat(),
        "community": "Y", "target": {"type": "case", "id": case.number},
        "data": {"from": "submitted", "to": "accepted", "number": case.number},
    }
    assert json.loads(body)["time"].endswith("+08:00")
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-linli-event"] == "case.accepted"
    assert headers["x-linli-delivery"] == str(delivery.pk)
    assert abs(int(headers["x-linli-timestamp"]) - time.time()) < 60
    assert verify(headers, body)
    assert not verify(headers, body, secret="another-secret-of-some-length")
    assert not verify(headers, body.replace(b"accepted", b"rejected"))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert services.deliver_due_webhooks() == {"delivered": 0, "retry": 0, "failed": 0}


def test_a_webhook_without_verbs_receives_every_case_event_of_its_community_only(world, category, receiver):
    services.webhook_create(actor=None, community=world.community, name="all", url=receiver.url)
    services.webhook_create(actor=None, community=world.other_community, name="Z", url=receiver.url)
    full_loop(world, category)
    drain()
    verbs = sorted(WebhookDelivery.objects.values_list("webhook__name", "event__verb"))
    assert verbs == [("all", v) for v in
                     ["case.accepted", "case.dispatched", "case.rated", "case.resolved", "case.submitted"]]


def test_a_failing_endpoint_is_retried_with_backoff_then_delivered(world, category, receiver, hook):
    case = submit(world, category)
    case_accept(actor=world.users["worker"], case=case)
    drain()
    receiver.answers = [500]
    now = timezone.now()
    assert services.deliver_due_webhooks(now=now) == {"delivered": 0, "retry": 1, "failed": 0}
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts, d.last_status_code, d.last_error) == ("pending", 1, 500, "HTTP 500")
    assert d.next_attempt_at == now + timedelta(minutes=1)
    assert services.deliver_due_webhooks(now=now + timedelta(seconds=59)) == {
        "delivered": 0, "retry": 0, "failed": 0}
    assert services.deliver_due_webhooks(now=now + timedelta(seconds=60)) == {
        "delivered": 1, "retry": 0, "failed": 0}
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_status_code, d.last_error) == ("delivered", 2, 200, "")
    assert len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]
    assert receiver.requests[0][0]["x-linli-delivery"] == receiver.requests[1][0]["x-linli-delivery"]


def test_a_webhook_fails_after_five_retries(world, category, receiver, hook):
    case = submit(world, category)
    case_accept(actor=world.users["worker"], case=case)
    drain()
    receiver.answers = [500, 503, 500, 502, 500, 500, 200]
    at = timezone.now()
    waits = []
    for _ in range(5):
        assert services.deliver_due_webhooks(now=at)["retry"] == 1
        d = WebhookDelivery.objects.get()
        waits.append(d.next_attempt_at - at)
        at = d.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                     timedelta(hours=12)]
    assert services.deliver_due_webhooks(now=at) == {"delivered": 0, "retry": 0, "failed": 1}
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts, d.next_attempt_at, d.last_status_code) == ("failed", 6, None, 500)
    assert services.deliver_due_webhooks(now=at + timedelta(days=7)) == {"delivered": 0, "retry": 0, "failed": 0}
    assert len(receiver.requests) == 6


def test_an_unreachable_endpoint_counts_as_a_failed_attempt(world, category, receiver):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    services.webhook_create(actor=None, community=world.community, name="down",
                            url=f"http://127.0.0.1:{closed_port}/x")
    submit(world, category)
    drain()
    now = timezone.now()
    assert services.deliver_due_webhooks(now=now) == {"delivered": 0, "retry": 1, "failed": 0}
    d = WebhookDelivery.objects.get()
    assert d.last_status_code is None and d.last_error.startswith("URLError: ")
    assert d.next_attempt_at == now + timedelta(minutes=1)


def test_webhook_create_checks_its_input_and_who_asks(world):
    from linli.core.errors import InvalidInput, PermissionDenied

    with pytest.raises(PermissionDenied):
        services.webhook_create(actor=world.users["worker"], community=world.community, name="x",
                                url="https://example.org/hook")
    with pytest.raises(PermissionDenied):
        services.webhook_create(actor=world.users["admin"], community=world.other_community, name="x",
                                url="https://example.org/hook")
    with pytest.raises(InvalidInput) as bad_url:
        services.webhook_create(actor=world.users["admin"], community=world.community, name="x",
                                url="ftp://example.org/hook")
    assert bad_url.value.as_dict()["field"] == "url"
    with pytest.raises(InvalidInput) as bad_verbs:
        services.webhook_create(actor=world.users["admin"], community=world.community, name="x",
                                url="https://example.org/hook", verbs=["resident.revealed"])
    assert bad_verbs.value.as_dict()["field"] == "verbs"
    assert Webhook.objects.count() == 0
    hook, secret = services.webhook_create(actor=world.users["admin"], community=world.community,
                                           name="hotline", url="https://example.org/hook")
    assert len(secret) >= 32 and hook.secret.reveal() == secret and str(hook.secret) == "******"
    event = Event.objects.get(verb="webhook.created")
    assert event.data == {"host": "example.org", "verbs": [], "active": True}
    assert secret not in json.dumps(event.data)


def test_the_secret_is_sealed_at_rest(world):
    hook, secret = services.webhook_create(actor=None, community=world.community, name="x",
                                           url="https://example.org/hook")
    raw = Webhook.objects.filter(pk=hook.pk).values_list("secret", flat=True)[0].token
    assert raw.startswith("v1.") and secret not in raw


def test_the_admin_never_shows_a_saved_secret(client, world, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(root)
    admin_client = client
    hook, secret = services.webhook_create(actor=None, community=world.community, name="x",
                                           url="https://example.org/hook")
    page = admin_client.get(f"/admin/notify/webhook/{hook.pk}/change/").content.decode()
    assert secret not in page and "******" in page
    response = admin_client.post(f"/admin/notify/webhook/{hook.pk}/change/", {
        "name": "renamed", "url": "https://example.org/hook2", "verbs": "[]", "active": "on", "new_secret": ""})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.secret.reveal()) == ("renamed", "https://example.org/hook2", secret)
    assert Event.objects.filter(verb="webhook.updated").get().data == {"fields": ["name", "url"]}
    assert admin_client.get("/admin/notify/notification/").status_code == 200


# The worker --------------------------------------------------------------------------

def test_worker_once_runs_every_job(world, category, receiver, hook, caplog):
    world.users["resident"].email = "resident@example.org"
    world.users["resident"].save(update_fields=["email"])
    full_loop(world, category)
    with caplog.at_level(logging.INFO, logger="linli.worker"):
        call_command("worker", "--once")
    assert Notification.objects.count() == 7
    assert len(mail.outbox) == 3
    assert WebhookDelivery.objects.get().status == "delivered" and len(receiver.requests) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "linli.worker"]
    assert [line.split(" ")[1] for line in lines] == [j.name for j in registry.jobs()]
    # Jobs run in the order the apps registered them, and every one of them ran: a job whose
    # path is wrong fails the worker (it is never "skipped").
    assert all(line.startswith(f"job {job.name} done in ") for line, job in zip(lines, registry.jobs()))


def test_every_registered_job_names_a_function_that_exists():
    for job in registry.jobs():
        assert callable(registry.resolve_job(job)), job.name


def only_jobs(monkeypatch, jobs: list) -> None:
    """The worker sees these jobs and no other (the registry as apps filled it comes back after)."""
    monkeypatch.setattr(registry, "_jobs", {job.name: job for job in jobs})


def test_a_missing_job_fails_the_worker_and_a_failing_job_stops_no_other(db, monkeypatch, caplog):
    ran = []

    def boom():
        raise RuntimeError("broken job")

    only_jobs(monkeypatch, [
        registry.Job("missing.module", 1, "linli.no_such_app.jobs.tick"),
        registry.Job("missing.function", 1, "linli.notify.jobs.no_such_function"),
        registry.Job("boom", 1, boom),
        registry.Job("fine", 1, lambda: ran.append("fine")),
    ])
    with caplog.at_level(logging.INFO, logger="linli.worker"), pytest.raises(CommandError, match="3 job"):
        call_command("worker", "--once")
    assert ran == ["fine"]
    records = [r for r in caplog.records if r.name == "linli.worker"]
    lines = [r.getMessage() for r in records]
    assert lines[0] == "job missing.module failed: linli.no_such_app.jobs.tick does not exist"
    assert lines[1] == "job missing.function failed: linli.notify.jobs.no_such_function does not exist"
    assert [r.levelno for r in records[:3]] == [logging.ERROR] * 3
    assert lines[2].startswith("job boom failed after ")
    assert lines[3].startswith("job fine done in ")


def test_sigterm_stops_the_worker_after_the_current_job(db, monkeypatch):
    ran = []

    def first():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the signal arrives while this job runs; it still finishes
        ran.append("first")

    only_jobs(monkeypatch, [registry.Job("first", 60, first),
                                       registry.Job("second", 60, lambda: ran.append("second"))])
    before = signal.getsignal(signal.SIGTERM)
    call_command("worker", "--interval", "0.01")
    assert ran == ["first"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_worker_loop_runs_jobs_when_they_are_due(db, monkeypatch):
    ran = []

    def count():
        ran.append(time.monotonic())
        if len(ran) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    only_jobs(monkeypatch, [registry.Job("every 0.05 s", 0.05, count)])
    call_command("worker", "--interval", "0.01")
    assert len(ran) == 3
    assert all(b - a >= 0.05 for a, b in zip(ran, ran[1:]))
