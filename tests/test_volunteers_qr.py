"""Rotating QR codes for check-in and check-out (docs/volunteers.md, "Service hours")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from linli.core.errors import InvalidInput
from linli.volunteers import hours, qr
from linli.volunteers.models import Activity, ServiceRecord, Signup, Volunteer

T0 = timezone.make_aware(dt.datetime(2026, 5, 9, 9, 0, 0))  # a window boundary (divisible by 30 s)


@pytest.fixture
def site(world):
    resident = world.residents[0]
    volunteer = Volunteer.objects.create(community=world.community, resident=resident, grid=resident.grid)
    make = dict(community=world.community, title="Tidy the courtyard", activity_type="cleanup", place="1号院",
                grid=world.grids[0], starts_at=T0, ends_at=T0 + dt.timedelta(hours=2), slots=5,
                organiser=world.users["leader"])
    activity = Activity.objects.create(**make)
    other = Activity.objects.create(**make)
    Signup.objects.create(activity=activity, volunteer=volunteer, status="confirmed")
    return world, activity, other, volunteer


def test_code_is_valid_in_its_window_and_the_next_only(site):
    _w, activity, _o, _v = site
    code = qr.code_for(activity, purpose="in", at=T0)
    qr.check(activity, code, "in", at=T0)
    qr.check(activity, code, "in", at=T0 + dt.timedelta(seconds=59))
    with pytest.raises(InvalidInput) as e:
        qr.check(activity, code, "in", at=T0 + dt.timedelta(seconds=60))
    assert e.value.code == "qr_expired"


def test_codes_rotate_every_30_seconds(site):
    _w, activity, _o, _v = site
    assert qr.code_for(activity, purpose="in", at=T0) == qr.code_for(activity, purpose="in", at=T0 + dt.timedelta(seconds=29))
    assert qr.code_for(activity, purpose="in", at=T0) != qr.code_for(activity, purpose="in", at=T0 + dt.timedelta(seconds=30))
    assert qr.seconds_left(T0 + dt.timedelta(seconds=10)) == 20


@pytest.mark.parametrize("case", ["other_activity", "wrong_purpose", "tampered", "garbage", "future"])
def test_wrong_codes_are_refused(site, case):
    _w, activity, other, _v = site
    code = {
        "other_activity": qr.code_for(other, purpose="in", at=T0),
        "wrong_purpose": qr.code_for(activity, purpose="out", at=T0),
        "tampered": qr.code_for(activity, purpose="in", at=T0)[:-1] + "0",
        "garbage": "hello",
        "future": qr.code_for(activity, purpose="in", at=T0 + dt.timedelta(minutes=5)),
    }[case]
    if case == "tampered" and code == qr.code_for(activity, purpose="in", at=T0):
        code = code[:-1] + "1"
    with pytest.raises(InvalidInput) as e:
        qr.check(activity, code, "in", at=T0)
    assert e.value.code == "qr_wrong"


@pytest.mark.parametrize("case", ["expired", "reused_later", "other_activity", "wrong_purpose"])
def test_check_in_with_a_bad_code_is_refused_in_words_and_changes_nothing(site, case):
    world, activity, other, volunteer = site
    actor = world.users["resident"]
    at = T0 + dt.timedelta(minutes=5)
    code = {
        "expired": qr.code_for(activity, purpose="in", at=at - dt.timedelta(minutes=2)),
        "reused_later": qr.code_for(activity, purpose="in", at=at - dt.timedelta(seconds=61)),
        "other_activity": qr.code_for(other, purpose="in", at=at),
        "wrong_purpose": qr.code_for(activity, purpose="out", at=at),
    }[case]
    from linli.core.models import Event

    events_before = Event.objects.count()
    with translation.override("en"), pytest.raises(InvalidInput) as e:
        hours.check_in(actor=actor, activity=activity, volunteer=volunteer, code=code, at=at)
    assert e.value.code == ("qr_expired" if case in ("expired", "reused_later") else "qr_wrong")
    assert "Scan the code the organiser is showing now" in str(e.value.message)
    assert not ServiceRecord.objects.exists()
    assert Event.objects.count() == events_before


def test_error_words_are_translated(site):
    _w, activity, _o, _v = site
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as e:
        qr.check(activity, "nonsense", "in", at=T0)
    assert e.value.code == "qr_wrong"


def test_the_same_code_twice_checks_in_once(site):
    world, activity, _o, volunteer = site
    at = T0 + dt.timedelta(minutes=1)
    code = qr.code_for(activity, purpose="in", at=at)
    hours.check_in(actor=world.users["resident"], activity=activity, volunteer=volunteer, code=code, at=at)
    from linli.core.errors import Conflict

    with pytest.raises(Conflict) as e:
        hours.check_in(actor=world.users["resident"], activity=activity, volunteer=volunteer, code=code,
                       at=at + dt.timedelta(seconds=5))
    assert e.value.code == "already_checked_in"
    assert ServiceRecord.objects.count() == 1


def test_a_code_carries_nothing_personal(site):
    _w, activity, _o, volunteer = site
    code = qr.code_for(activity, purpose="in", at=T0)
    window, mac = code.split("-")
    assert window.isdigit() and len(mac) == 16
    assert activity.qr_secret not in code


# --- pages: the organiser's QR, the volunteer's scan ---------------------------------------------

from django.test import Client  # noqa: E402

from factories import PASSWORD  # noqa: E402


def _client(username):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.login(username=username, password=PASSWORD)
    return c


@pytest.fixture
def running(world):
    """An activity running now (started 10 minutes ago), the resident signed up."""
    resident = world.residents[0]
    volunteer = Volunteer.objects.create(community=world.community, resident=resident, grid=resident.grid)
    now = timezone.now()
    activity = Activity.objects.create(
        community=world.community, title="Tidy the courtyard", activity_type="cleanup", place="1号院",
        grid=world.grids[0], starts_at=now - dt.timedelta(minutes=10), ends_at=now + dt.timedelta(hours=1),
        slots=5, organiser=world.users["leader"])
    Signup.objects.create(activity=activity, volunteer=volunteer, status="confirmed")
    return world, activity, volunteer


def test_organiser_qr_page_shows_a_code_that_opens_the_scan_page(running):
    world, activity, _v = running
    c = _client("leader")
    r = c.get(f"/volunteers/Y/office/activity/{activity.pk}/qr/?purpose=in")
    page = r.content.decode()
    assert r.status_code == 200 and "<svg" in page and "Show the next code" in page
    assert "volunteers/qr.js" in page and "Checked in now" in page
    state = c.get(f"/volunteers/Y/office/activity/{activity.pk}/qr.json?purpose=out").json()
    assert "<svg" in state["svg"] and state["checked_in"] == 0 and 1 <= state["seconds"] <= 30
    # Not the organiser: not found.
    assert _client("resident").get(f"/volunteers/Y/office/activity/{activity.pk}/qr/").status_code == 404
    assert _client("grid2").get(f"/volunteers/Y/office/activity/{activity.pk}/qr/").status_code == 404
    assert _client("grid1").get(f"/volunteers/Y/office/activity/{activity.pk}/qr/").status_code == 200


def test_scanning_checks_in_and_out_in_big_words(running):
    world, activity, _v = running
    c = _client("resident")
    code = qr.code_for(activity, purpose="in")
    r = c.get(f"/volunteers/scan/{activity.pk}/in/{code}/")
    page = r.content.decode()
    assert r.status_code == 200 and "Checked in at" in page
    assert ServiceRecord.objects.get().status == "open"
    # The organiser's count goes up.
    assert _client("leader").get(f"/volunteers/Y/office/activity/{activity.pk}/qr.json").json()["checked_in"] == 1
    code = qr.code_for(activity, purpose="out")
    r = c.get(f"/volunteers/scan/{activity.pk}/out/{code}/")
    assert r.status_code == 200 and "Checked out at" in r.content.decode()
    assert ServiceRecord.objects.get().status == "pending"


def test_scanning_an_expired_code_says_why_and_changes_nothing(running):
    world, activity, _v = running
    old = qr.code_for(activity, purpose="in", at=timezone.now() - dt.timedelta(minutes=3))
    r = _client("resident").get(f"/volunteers/scan/{activity.pk}/in/{old}/")
    assert r.status_code == 400 and "expired" in r.content.decode()
    assert not ServiceRecord.objects.exists()


def test_scanning_needs_sign_in_and_a_volunteer(running):
    world, activity, _v = running
    code = qr.code_for(activity, purpose="in")
    r = Client().get(f"/volunteers/scan/{activity.pk}/in/{code}/")
    assert r.status_code == 302 and "login" in r["Location"]
    r = _client("nobody").get(f"/volunteers/scan/{activity.pk}/in/{code}/")
    assert r.status_code == 403
    assert not ServiceRecord.objects.exists()
