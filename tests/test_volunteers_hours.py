"""Service hours: check in and out, the window, forgotten check-outs, manual marking, approval,
points granted once and within the caps (docs/volunteers.md, "Service hours")."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone, translation

from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.points.models import Policy, Transaction
from linli.volunteers import hours, qr
from linli.volunteers.jobs_hours import close_forgotten
from linli.volunteers.models import Activity, Rating, ServiceRecord, Signup, Volunteer
from linli.volunteers.workflow_hours import SERVICE_RECORD

NOW = timezone.now().replace(microsecond=0)


def _activity(world, *, start, length=dt.timedelta(hours=2), **extra):
    values = dict(community=world.community, title="Visit an elder", activity_type="visit", place="1号院",
                  grid=world.grids[0], starts_at=start, ends_at=start + length, slots=5,
                  organiser=world.users["leader"])
    values.update(extra)
    return Activity.objects.create(**values)


@pytest.fixture
def site(world):
    resident = world.residents[0]  # the account "resident"
    volunteer = Volunteer.objects.create(community=world.community, resident=resident, grid=resident.grid)
    # Started an hour ago, ends in an hour.
    activity = _activity(world, start=NOW - dt.timedelta(hours=1))
    Signup.objects.create(activity=activity, volunteer=volunteer, status="confirmed")
    return world, activity, volunteer


def _scan_in(world, activity, volunteer, at):
    return hours.check_in(actor=world.users["resident"], activity=activity, volunteer=volunteer,
                          code=qr.code_for(activity, purpose="in", at=at), at=at)


def _scan_out(world, activity, volunteer, at):
    return hours.check_out(actor=world.users["resident"], activity=activity, volunteer=volunteer,
                           code=qr.code_for(activity, purpose="out", at=at), at=at)


def test_check_in_and_out_by_qr(site):
    world, activity, volunteer = site
    t_in = activity.starts_at + dt.timedelta(minutes=2)
    record = _scan_in(world, activity, volunteer, t_in)
    assert (record.status, record.source, record.check_in_at) == ("open", "qr", t_in)
    assert Event.objects.filter(verb="volunteers.checked_in", target_id=str(record.pk)).count() == 1
    record = _scan_out(world, activity, volunteer, t_in + dt.timedelta(minutes=50))
    assert (record.status, record.minutes) == ("pending", 50)
    event = Event.objects.get(verb="service_record.checked_out")
    assert event.data["from"] == "open" and event.data["to"] == "pending"
    assert "name" not in str(event.data)


def test_check_out_by_the_in_code_is_refused(site):
    world, activity, volunteer = site
    at = activity.starts_at + dt.timedelta(minutes=2)
    _scan_in(world, activity, volunteer, at)
    with pytest.raises(InvalidInput) as e:
        hours.check_out(actor=world.users["resident"], activity=activity, volunteer=volunteer,
                        code=qr.code_for(activity, purpose="in", at=at), at=at)
    assert e.value.code == "qr_wrong"
    assert ServiceRecord.objects.get().status == "open"


@pytest.mark.parametrize("offset, code", [(-dt.timedelta(minutes=31), "too_early"),
                                          (dt.timedelta(hours=2, minutes=1), "too_late")])
def test_check_in_outside_the_window_is_refused(site, offset, code):
    world, activity, volunteer = site
    at = activity.starts_at + offset
    with translation.override("en"), pytest.raises(InvalidInput) as e:
        _scan_in(world, activity, volunteer, at)
    assert e.value.code == code
    assert "heck-in" in str(e.value.message)
    assert not ServiceRecord.objects.exists()


def test_check_in_30_minutes_early_is_allowed(site):
    world, activity, volunteer = site
    record = _scan_in(world, activity, volunteer, activity.starts_at - dt.timedelta(minutes=30))
    assert record.status == "open"


def test_check_in_needs_a_confirmed_signup(site):
    world, activity, volunteer = site
    Signup.objects.filter(activity=activity).update(status="waiting")
    with pytest.raises(PermissionDenied) as e:
        _scan_in(world, activity, volunteer, activity.starts_at)
    assert e.value.code == "not_signed_up"


def test_someone_else_cannot_scan_for_a_volunteer(site):
    world, activity, volunteer = site
    with pytest.raises(PermissionDenied):
        hours.check_in(actor=world.users["grid2"], activity=activity, volunteer=volunteer,
                       code=qr.code_for(activity, purpose="in", at=activity.starts_at), at=activity.starts_at)
    assert not ServiceRecord.objects.exists()


def test_minutes_are_min_of_actual_and_scheduled_plus_grace(site):
    _world, activity, _v = site
    start = activity.starts_at
    assert hours.counted_minutes(activity, start, start + dt.timedelta(minutes=75)) == 75
    # Two hours scheduled: at most 150 minutes count.
    assert hours.counted_minutes(activity, start - dt.timedelta(minutes=30), start + dt.timedelta(hours=5)) == 150
    assert hours.counted_minutes(activity, start, start + dt.timedelta(minutes=150)) == 150
    assert hours.counted_minutes(activity, start, start - dt.timedelta(minutes=5)) == 0


def test_forgotten_check_out_is_closed_by_the_job(world):
    resident = world.residents[0]
    volunteer = Volunteer.objects.create(community=world.community, resident=resident, grid=resident.grid)
    # The job reads the clock: times from now, not from the module's import (a slow run imports
    # this file many minutes before the test, and "recent" had then passed its grace).
    now = timezone.now()
    # Ended 31 minutes ago: past the grace.
    activity = _activity(world, start=now - dt.timedelta(hours=2, minutes=31))
    recent = _activity(world, start=now - dt.timedelta(hours=2, minutes=20), title="recent")
    for a in (activity, recent):
        Signup.objects.create(activity=a, volunteer=volunteer, status="confirmed")
        _scan_in(world, a, volunteer, a.starts_at + dt.timedelta(minutes=10))
    assert close_forgotten() == {"closed": 1}
    record = ServiceRecord.objects.get(activity=activity)
    assert record.status == "pending" and record.closed_automatically
    assert record.check_out_at == activity.ends_at
    assert record.minutes == 110
    assert ServiceRecord.objects.get(activity=recent).status == "open"  # still within the grace
    assert Event.objects.filter(verb="service_record.closed_automatically", actor=None).count() == 1
    assert close_forgotten() == {"closed": 0}


def test_manual_marking_by_the_organiser(site):
    world, activity, volunteer = site
    start = activity.starts_at
    record = hours.mark(actor=world.users["leader"], activity=activity, volunteer=volunteer,
                        check_in_at=start, check_out_at=start + dt.timedelta(minutes=45))
    assert (record.status, record.source, record.minutes) == ("pending", "manual", 45)
    assert Event.objects.filter(verb="service_record.marked").count() == 1


def test_manual_marking_is_refused_to_others_and_bad_times(site):
    world, activity, volunteer = site
    start = activity.starts_at
    with pytest.raises(PermissionDenied):
        hours.mark(actor=world.users["resident"], activity=activity, volunteer=volunteer,
                   check_in_at=start, check_out_at=start + dt.timedelta(minutes=45))
    with pytest.raises(InvalidInput):
        hours.mark(actor=world.users["leader"], activity=activity, volunteer=volunteer,
                   check_in_at=start, check_out_at=start - dt.timedelta(minutes=1))
    with pytest.raises(InvalidInput):
        hours.mark(actor=world.users["leader"], activity=activity, volunteer=volunteer,
                   check_in_at=start - dt.timedelta(hours=3), check_out_at=start)
    assert not ServiceRecord.objects.exists()


def _pending(world, activity, volunteer, minutes=60):
    start = activity.starts_at
    return hours.mark(actor=world.users["leader"], activity=activity, volunteer=volunteer,
                      check_in_at=start, check_out_at=start + dt.timedelta(minutes=minutes))


def test_approval_by_someone_else_grants_points_once(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer, minutes=60)
    record = hours.approve(actor=world.users["secretary"], record=record)
    assert record.status == "approved" and record.points == 10  # visit: 10 an hour
    assert record.decided_by == world.users["secretary"]
    tx = Transaction.objects.get(kind="grant")
    assert (tx.source_type, tx.source_id) == ("volunteers.servicerecord", str(record.pk))
    assert volunteer.resident.points_account.balance == 10
    with pytest.raises(IllegalTransition):
        hours.approve(actor=world.users["worker"], record=record)
    assert Transaction.objects.filter(kind="grant").count() == 1


def test_approving_ones_own_record_is_refused(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    # The volunteer is also a community worker: still not their own hours.
    from factories import _role
    from linli.community.models import StaffRole

    _role(world.users["resident"], StaffRole.Role.COMMUNITY_WORKER, community=world.community)
    with translation.override("en"), pytest.raises(PermissionDenied) as e:
        hours.approve(actor=world.users["resident"], record=record)
    assert e.value.code == "own_record"
    assert "own hours" in str(e.value.message)
    record.refresh_from_db()
    assert record.status == "pending" and not Transaction.objects.exists()


def test_building_leader_organises_but_cannot_approve(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    with pytest.raises(PermissionDenied):
        hours.approve(actor=world.users["leader"], record=record)
    with pytest.raises(PermissionDenied):  # another grid's worker
        hours.approve(actor=world.users["grid2"], record=record)
    record = hours.approve(actor=world.users["grid1"], record=record)
    assert record.status == "approved"


def test_rejection_needs_a_reason(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    with pytest.raises(InvalidInput) as e:
        hours.reject(actor=world.users["worker"], record=record, reason="  ")
    assert e.value.code == "reason"
    record.refresh_from_db()
    assert record.status == "pending"
    record = hours.reject(actor=world.users["worker"], record=record, reason="Not at the site")
    assert (record.status, record.reason, record.points) == ("rejected", "Not at the site", None)
    assert not Transaction.objects.exists()


def test_caps_cut_the_points(site):
    world, activity, volunteer = site
    Policy.objects.create(community=world.community, daily_cap=7)
    record = hours.approve(actor=world.users["worker"], record=_pending(world, activity, volunteer, minutes=60))
    assert record.points == 7 and record.reason == hours.CAP_REASON  # 10 asked, 7 allowed
    other = _activity(world, start=activity.starts_at, title="again")
    record2 = hours.approve(actor=world.users["worker"], record=_pending(world, other, volunteer, minutes=60))
    assert record2.status == "approved" and record2.points == 0 and record2.reason == hours.CAP_REASON
    assert volunteer.resident.points_account.balance == 7


def test_multipliers_raise_the_points(site):
    world, activity, volunteer = site
    Activity.objects.filter(pk=activity.pk).update(multipliers=["night"])
    activity.refresh_from_db()
    record = hours.approve(actor=world.users["worker"], record=_pending(world, activity, volunteer, minutes=60))
    assert record.points == 15


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_grant_once(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    outcomes = []
    barrier = threading.Barrier(2)

    def approve(user):
        try:
            barrier.wait()
            hours.approve(actor=user, record=record)
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001 - any refusal counts as "not twice"
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(world.users[n],)) for n in ("worker", "secretary")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert Transaction.objects.filter(kind="grant").count() == 1
    record.refresh_from_db()
    assert record.status == "approved" and record.points == 10


def test_the_demo_can_check_moves_and_build_events(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    SERVICE_RECORD.check_move("approve", "pending")
    with pytest.raises(IllegalTransition):
        SERVICE_RECORD.check_move("approve", "open")
    event = SERVICE_RECORD.event(record, "approve", actor=None, before="pending", at=NOW)
    assert event.verb == "service_record.approved" and event.pk is None


def test_rating_by_the_person_helped_or_the_organiser(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    with pytest.raises(PermissionDenied):
        hours.rate(actor=world.users["grid2"], record=record, stars=5)
    with pytest.raises(InvalidInput):
        hours.rate(actor=world.users["leader"], record=record, stars=6)
    rating = hours.rate(actor=world.users["leader"], record=record, stars=5, comment="Kind, call 13912345678")
    assert rating.stars == 5
    assert "13912345678" not in hours.shown_comment(rating)
    with pytest.raises(Conflict):
        hours.rate(actor=world.users["leader"], record=record, stars=4)
    assert Rating.objects.count() == 1


# --- pages: records to approve, the activity's hours, my records, rating -------------------------

from django.test import Client  # noqa: E402

from factories import PASSWORD  # noqa: E402


def _client(username):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.login(username=username, password=PASSWORD)
    return c


def test_records_page_approves_and_rejects_with_a_reason(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    c = _client("worker")
    page = c.get("/volunteers/Y/office/records/").content.decode()
    assert "Visit an elder" in page and volunteer.resident.name.masked in page
    assert volunteer.resident.name.reveal() not in page
    r = c.post(f"/volunteers/Y/office/records/{record.pk}/", {"decision": "reject", "reason": ""})
    assert r.status_code == 400 and "reason" in r.content.decode()
    record.refresh_from_db()
    assert record.status == "pending"
    r = c.post(f"/volunteers/Y/office/records/{record.pk}/", {"decision": "approve"})
    assert r.status_code == 302
    record.refresh_from_db()
    assert record.status == "approved" and record.points == 10
    # A resident or a building leader does not reach the page.
    assert _client("resident").get("/volunteers/Y/office/records/").status_code == 404
    assert _client("leader").get("/volunteers/Y/office/records/").status_code == 404


def test_own_record_is_refused_on_the_page(site):
    world, activity, volunteer = site
    record = _pending(world, activity, volunteer)
    from factories import _role
    from linli.community.models import StaffRole

    _role(world.users["resident"], StaffRole.Role.COMMUNITY_WORKER, community=world.community)
    c = _client("resident")
    assert f"/volunteers/Y/office/records/{record.pk}/" not in c.get("/volunteers/Y/office/records/").content.decode()
    r = c.post(f"/volunteers/Y/office/records/{record.pk}/", {"decision": "approve"})
    assert r.status_code == 403 and "own hours" in r.content.decode()
    record.refresh_from_db()
    assert record.status == "pending"


def test_organiser_marks_hours_on_the_activity_page(site):
    world, activity, volunteer = site
    c = _client("leader")
    url = f"/volunteers/Y/office/activity/{activity.pk}/hours/"
    page = c.get(url).content.decode()
    assert "Enter hours by hand" in page and "Show the check-in code" in page
    start = timezone.localtime(activity.starts_at)
    r = c.post(url, {"volunteer": volunteer.pk, "check_in_at": start.strftime("%Y-%m-%dT%H:%M"),
                     "check_out_at": (start + dt.timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302
    record = ServiceRecord.objects.get()
    assert (record.source, record.status, record.minutes) == ("manual", "pending", 40)
    assert _client("resident").get(url).status_code == 404


def test_my_records_shows_only_my_own(site):
    world, activity, volunteer = site
    other_resident = world.residents[1]
    other = Volunteer.objects.create(community=world.community, resident=other_resident, grid=other_resident.grid)
    _pending(world, activity, volunteer)
    second = _activity(world, start=activity.starts_at, title="Someone else's walk")
    _pending(world, second, other)
    page = _client("resident").get("/volunteers/me/records/").content.decode()
    assert "Visit an elder" in page and "awaiting approval" in page
    assert "Someone else" not in page


def test_the_person_helped_rates_on_the_page(site):
    world, activity, volunteer = site
    from linli.volunteers.models import Need

    helped = world.residents[3]  # a single household (room 102)
    helped.user = world.users["nobody"]
    helped.save(update_fields=["user"])
    need = Need.objects.create(community=world.community, title="Weekly visit", activity_type="visit",
                               source="staff", household=helped.household)
    Activity.objects.filter(pk=activity.pk).update(need=need)
    record = _pending(world, activity, volunteer)
    c = _client("nobody")
    assert f"/volunteers/me/rate/{record.pk}/" in c.get("/volunteers/me/records/").content.decode()
    r = c.post(f"/volunteers/me/rate/{record.pk}/", {"stars": "5", "comment": "Very kind, call me on 13912345678"})
    assert r.status_code == 302 and Rating.objects.get().stars == 5
    page = _client("leader").get(f"/volunteers/Y/office/activity/{activity.pk}/hours/").content.decode()
    assert "Rated 5 stars" in page and "Very kind" in page and "13912345678" not in page
    assert _client("grid2").get(f"/volunteers/me/rate/{record.pk}/").status_code == 404
