"""Sign-in throttling (linli/core/signin.py): per account and per address, locks that end when
they say, every failure recorded for the user and the admins, no account enumeration."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from linli.core import signin
from linli.core.models import Event, SignInFailure

PASSWORD = "a-long-Secret-42"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password=PASSWORD)


def attempt(client, username, password, address="198.51.100.7"):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def errors(response) -> str:
    """The form's message, without anything that varies per account."""
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def age_rows(**delta):
    SignInFailure.objects.update(created_at=timezone.now() - timedelta(**delta))


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, alice):
    for _ in range(30):
        response = attempt(client, "alice", "wrong")
        assert response.status_code == 200 and not signed_in(client)
    response = attempt(client, "alice", PASSWORD)
    assert not signed_in(client)
    assert "Too many failed sign-ins for this account. Try again after" in errors(response)
    # Five counted failures locked it; the other attempts were refused without counting.
    assert SignInFailure.objects.filter(kind=SignInFailure.WRONG).count() == 5
    assert SignInFailure.objects.filter(kind=SignInFailure.LOCKED).count() == 26
    assert set(SignInFailure.objects.values_list("user", flat=True)) == {alice.pk}


def test_the_message_names_when_to_try_again(client, alice):
    for _ in range(5):
        response = attempt(client, "alice", "wrong")
    until = timezone.localtime(SignInFailure.objects.latest("created_at").created_at + timedelta(minutes=15))
    assert f"Try again after {until:%Y-%m-%d %H:%M}" in errors(response)


def test_a_lock_ends_after_its_period_and_the_right_password_then_works(client, alice):
    for _ in range(5):
        attempt(client, "alice", "wrong")
    attempt(client, "alice", PASSWORD)
    assert not signed_in(client)
    age_rows(minutes=14)
    attempt(client, "alice", PASSWORD)
    assert not signed_in(client)
    age_rows(minutes=16)
    attempt(client, "alice", PASSWORD)
    assert signed_in(client)
    # The success cleared the failures from the count, and left them on record.
    assert SignInFailure.objects.filter(kind=SignInFailure.WRONG, cleared_at__isnull=False).count() == 5


def test_failures_spread_out_do_not_lock(client, alice):
    for _ in range(4):
        attempt(client, "alice", "wrong")
    age_rows(minutes=20)
    for _ in range(4):
        attempt(client, "alice", "wrong")
    attempt(client, "alice", PASSWORD)
    assert signed_in(client)


def test_a_day_of_slow_guessing_locks_for_a_day(client, alice):
    for round_ in range(5):
        for _ in range(4):
            attempt(client, "alice", "wrong")
        SignInFailure.objects.filter(created_at__gte=timezone.now() - timedelta(minutes=1)).update(
            created_at=timezone.now() - timedelta(hours=5 - round_))
    attempt(client, "alice", PASSWORD)
    assert not signed_in(client)


def test_one_address_is_throttled_across_accounts(client, db):
    for n in range(21):
        User.objects.create_user(f"user{n}", password=PASSWORD)
    for n in range(20):  # one password tried on many accounts
        attempt(client, f"user{n}", "123456")
    response = attempt(client, "user20", PASSWORD)
    assert not signed_in(client)
    assert "Too many failed sign-ins from your network" in errors(response)
    assert SignInFailure.objects.filter(kind=SignInFailure.THROTTLED).count() == 1
    # Another address signs in to the same account.
    other = Client()
    attempt(other, "user20", PASSWORD, address="203.0.113.9")
    assert signed_in(other)
    # And the throttle ends.
    age_rows(minutes=16)
    attempt(client, "user20", PASSWORD)
    assert signed_in(client)


def test_ipv6_clients_are_counted_per_64_network(db):
    same = {signin.address_key("2001:db8:1:2::1"), signin.address_key("2001:db8:1:2:ffff::9")}
    assert len(same) == 1
    assert signin.address_key("2001:db8:1:3::1") not in same
    assert signin.address_key("::ffff:198.51.100.7") == signin.address_key("198.51.100.7")


def test_the_proxy_header_names_the_address(client, settings, alice):
    settings.LINLI_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client.post("/accounts/login/", {"username": "alice", "password": "x"},
                REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="198.51.100.77")
    assert SignInFailure.objects.get().address == "198.51.100.x"


def test_messages_do_not_tell_whether_an_account_exists(client, alice):
    answers = {}
    for name in ("alice", "nobody-here"):
        seen = []
        for _ in range(7):
            response = attempt(Client(), name, "wrong", address=f"192.0.2.{len(answers) + 1}")
            seen.append(re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME", errors(response)))
        answers[name] = seen
    assert answers["alice"] == answers["nobody-here"]
    assert "Please enter a correct" in answers["alice"][0]
    assert "Too many failed sign-ins for this account" in answers["alice"][-1]
    # The unknown name locked alike, and its rows name no account.
    assert SignInFailure.objects.filter(user__isnull=True).count() == 7


def test_no_password_name_or_full_address_is_stored_or_logged(client, alice, caplog):
    with caplog.at_level(logging.DEBUG):
        attempt(client, "alice", "Hunter2-secret", address="198.51.100.123")
        attempt(client, "Mallory-guess", "Hunter2-secret", address="2001:db8:abcd:12::1")
    rows = list(SignInFailure.objects.values())
    text = repr(rows) + caplog.text
    for secret in ("Hunter2-secret", "Mallory", "mallory", "198.51.100.123", "2001:db8:abcd:12::1"):
        assert secret not in text
    assert sorted(r["address"] for r in rows) == ["198.51.100.x", "2001:db8:abcd::/48"]


def test_the_user_sees_their_recent_failed_sign_ins(client, alice):
    bob = User.objects.create_user("bob", password=PASSWORD)
    attempt(Client(), "alice", "wrong", address="198.51.100.7")
    attempt(Client(), "bob", "wrong", address="203.0.113.5")
    client.force_login(alice)
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    section = page[page.index('id="failed-signins"'):]
    assert "198.51.100.x" in section and "wrong account or password" in section
    assert "203.0.113.x" not in section  # bob's
    client.force_login(bob)
    assert "203.0.113.x" in client.get("/me/").content.decode()


def test_the_user_is_told_when_their_account_is_locked(client, alice):
    for _ in range(5):
        attempt(Client(), "alice", "wrong")
    client.force_login(alice)
    assert "your account is locked until" in client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_admin_unlocks_through_a_service_that_writes_an_event(client, alice):
    for _ in range(5):
        attempt(Client(), "alice", "wrong")
    assert signin.user_locked_until(alice) is not None
    clerk = User.objects.create_user("clerk", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        signin.unlock_account(actor=clerk, user=alice)
    assert not Event.objects.filter(verb="signin.unlocked").exists()
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert signin.unlock_account(actor=root, user=alice) == 5
    assert signin.user_locked_until(alice) is None
    event = Event.objects.get(verb="signin.unlocked")
    assert (event.target_type, event.target_id, event.data) == ("auth.user", str(alice.pk), {"failures_cleared": 5})
    attempt(client, "alice", PASSWORD)
    assert signed_in(client)


def test_the_admin_lists_failures_read_only_and_unlocks_with_an_action(client, alice):
    for _ in range(5):
        attempt(Client(), "alice", "wrong")
    root = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    listing = client.get("/admin/core/signinfailure/")
    assert listing.status_code == 200 and "198.51.100.x" in listing.content.decode()
    row = SignInFailure.objects.first()
    assert client.get(f"/admin/core/signinfailure/{row.pk}/change/").status_code == 200  # a read-only view
    assert client.get("/admin/core/signinfailure/add/").status_code == 403
    assert client.post(f"/admin/core/signinfailure/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post("/admin/core/signinfailure/", {"action": "unlock_accounts", "_selected_action": [row.pk]})
    assert Event.objects.filter(verb="signin.unlocked", target_id=str(alice.pk)).count() == 1
    assert signin.user_locked_until(alice) is None
    assert SignInFailure.objects.count() == 5  # still on record


def test_the_admin_sign_in_is_throttled_too(client, db):
    User.objects.create_superuser("root", password=PASSWORD)
    for _ in range(6):
        client.post("/admin/login/", {"username": "root", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD},
                           REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200 and not signed_in(client)
    assert SignInFailure.objects.filter(kind=SignInFailure.LOCKED).count() == 2


def test_old_failures_are_purged_by_the_daily_job(alice):
    attempt(Client(), "alice", "wrong")
    attempt(Client(), "alice", "wrong")
    SignInFailure.objects.filter(pk=SignInFailure.objects.first().pk).update(
        created_at=timezone.now() - timedelta(days=91))
    assert signin.purge_old() == {"deleted": 1}
    assert SignInFailure.objects.count() == 1


@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "the in-memory shared-cache SQLite test database answers 'table is locked' in the middle of an "
    "attempt, and a retried attempt writes its row again; on a real SQLite file the settings open "
    "every transaction IMMEDIATE, which serialises attempts; the PostgreSQL run checks the race"))
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_cannot_pass_the_limit():
    """Each attempt writes its row before it counts, so parallel guesses cannot all see a count
    under the limit (as a count-then-write would let them)."""
    User.objects.create_user("alice", password=PASSWORD)
    barrier = threading.Barrier(8, timeout=60)
    problems = []

    def guess():
        try:
            barrier.wait()
            for _ in range(1000):  # SQLite's shared in-memory test database answers "locked" at once
                try:
                    attempt(Client(), "alice", "wrong")
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        except Exception as exc:  # reported below
            problems.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert problems == []
    assert SignInFailure.objects.filter(kind=SignInFailure.WRONG).count() <= 5
    assert SignInFailure.objects.count() >= 8
