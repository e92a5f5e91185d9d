"""Activities, sign-up, the waiting list, withdrawal, refusals (each in words, nothing changed),
reminders, invitations and the pages (docs/volunteers.md, "Activities, sign-up and suggestions")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.notify.models import Notification
from linli.notify.services import dispatch_new_events
from linli.volunteers import activities, jobs_activities, needs
from linli.volunteers.models import Activity, Need, Signup

from volunteer_activity_helpers import make_activity, minor_in, volunteer_for


@pytest.fixture
def vols(world):
    return [volunteer_for(r, skills=["visiting"]) for r in world.residents[:5]]


def snapshot():
    return (list(Signup.objects.order_by("id").values_list("id", "status", "created_at")),
            Event.objects.count(), list(Activity.objects.order_by("id").values_list("id", "status")))


def own(v):
    return v.resident.user


# --- creating --------------------------------------------------------------------------------------


def test_create_records_one_event_and_plans_the_need(world):
    need = needs.need_post(actor=world.users["worker"], community=world.community, title="独居老人每周探访",
                           description="", activity_type="visit", source="staff", grid=world.grids[0])
    a = make_activity(world, need=need, skills=["visiting", "nope"][:1], multipliers=["night"])
    assert a.status == "open" and a.organiser == world.users["worker"] and len(a.qr_secret) == 64
    assert a.skills == ["visiting"] and a.multipliers == ["night"]
    assert Event.objects.filter(verb="volunteers.activity_created", target_id=str(a.pk)).count() == 1
    need.refresh_from_db()
    assert need.status == "planned"
    # Cancelling its only activity opens the need again.
    activities.activity_cancel(actor=world.users["worker"], activity=a)
    need.refresh_from_db()
    assert need.status == "open"


@pytest.mark.parametrize("bad, code", [
    ({"title": " "}, "title_required"),
    ({"place": ""}, "place_required"),
    ({"activity_type": "karaoke"}, "activity_type"),
    ({"skills": ["flying"]}, "skills"),
    ({"multipliers": ["sunday"]}, "multipliers"),
    ({"slots": 0}, "slots"),
    ({"length_hours": -1}, "ends_before_start"),
])
def test_create_refuses_bad_input_and_writes_nothing(world, bad, code):
    before = (Activity.objects.count(), Event.objects.count())
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        make_activity(world, **bad)
    assert caught.value.code == code and str(caught.value.message)
    assert (Activity.objects.count(), Event.objects.count()) == before


def test_who_may_organise(world):
    # A building leader organises in the courtyard of their building, not elsewhere; a resident never.
    make_activity(world, who="leader", grid=world.grids[0])
    with pytest.raises(PermissionDenied):
        make_activity(world, who="leader", grid=world.grids[1])
    with pytest.raises(InvalidInput) as caught:
        make_activity(world, who="grid1", grid=None)
    assert caught.value.code == "grid_required"
    for who in ("resident", "unit_staff", "supervisor", "z_worker"):
        with pytest.raises(PermissionDenied):
            make_activity(world, who=who)


# --- sign-up, waiting list, withdrawal ---------------------------------------------------------------


def test_slots_then_waiting_list_then_moving_up_in_order(world, vols):
    a = make_activity(world, slots=2)
    rows = [activities.signup(actor=own(v), activity=a, volunteer=v) for v in vols[:4]]
    assert [r.status for r in rows] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert activities.places_left(a) == 0
    assert [e.data["status"] for e in Event.objects.filter(verb="volunteers.signed_up").order_by("id")] == \
        ["confirmed", "confirmed", "waiting", "waiting"]
    # A waiting volunteer withdrawing frees no place: nobody moves.
    activities.withdraw(actor=own(vols[3]), signup=rows[3])
    assert Signup.objects.get(pk=rows[2].pk).status == "waiting"
    # A confirmed one withdrawing: the first waiting one moves up, with an event the recipe tells.
    w = activities.withdraw(actor=own(vols[0]), signup=rows[0])
    assert w.status == "withdrawn" and w.withdrawn_at is not None
    assert Signup.objects.get(pk=rows[2].pk).status == "confirmed"
    moved = Event.objects.get(verb="volunteer_signup.moved_up")
    assert moved.target_id == str(rows[2].pk) and moved.actor_id is None
    # Signing up again after withdrawing goes to the back: full now, so waiting.
    again = activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    assert again.pk == rows[0].pk and again.status == "waiting"


def test_moved_up_volunteer_is_told(world, vols):
    a = make_activity(world, slots=1)
    first = activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    activities.signup(actor=own(vols[1]), activity=a, volunteer=vols[1])
    dispatch_new_events(settle_seconds=0)
    Notification.objects.all().delete()
    activities.withdraw(actor=own(vols[0]), signup=first)
    dispatch_new_events(settle_seconds=0)
    told = Notification.objects.get(user=own(vols[1]))
    # Written in the site's language (the recipient's account has no other).
    with translation.override(settings.LANGUAGE_CODE):
        assert told.title == translation.gettext("A place came free: you are confirmed")
    assert told.url == f"/volunteers/activities/{a.pk}/"
    assert not Notification.objects.filter(user=own(vols[0])).exists()


def test_withdraw_moves_up_the_first_who_can_still_come(world, vols):
    a = make_activity(world, slots=1)
    busy = make_activity(world, slots=5, hours_ahead=48.5)  # overlaps a
    first = activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    second = activities.signup(actor=own(vols[1]), activity=a, volunteer=vols[1])
    third = activities.signup(actor=own(vols[2]), activity=a, volunteer=vols[2])
    activities.signup(actor=own(vols[1]), activity=busy, volunteer=vols[1])  # vols[1] is now busy then
    activities.withdraw(actor=own(vols[0]), signup=first)
    assert Signup.objects.get(pk=second.pk).status == "waiting"
    assert Signup.objects.get(pk=third.pk).status == "confirmed"


def assert_refused(exc_type, code, fn):
    before = snapshot()
    with translation.override("en"), pytest.raises(exc_type) as caught:
        fn()
    assert caught.value.code == code, caught.value.code
    assert str(caught.value.message) and not str(caught.value.message).startswith("volunteer")
    assert snapshot() == before
    return caught.value


def test_overlapping_confirmed_activity_is_refused(world, vols):
    a = make_activity(world, slots=3)
    b = make_activity(world, slots=3, hours_ahead=49)  # starts an hour into a
    activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    err = assert_refused(Conflict, "overlap", lambda: activities.signup(actor=own(vols[0]), activity=b,
                                                                         volunteer=vols[0]))
    assert "another activity" in str(err.message)
    # Back to back is no overlap.
    c = make_activity(world, slots=3, hours_ahead=50)
    assert activities.signup(actor=own(vols[0]), activity=c, volunteer=vols[0]).status == "confirmed"


def test_minor_without_consent_is_refused_then_accepted(world):
    child = minor_in(world, 0)
    guardian = world.households[0].residents.exclude(pk=child.pk).first()
    v = volunteer_for(child, guardian=guardian, consent=False)
    a = make_activity(world)
    err = assert_refused(PermissionDenied, "guardian_consent",
                         lambda: activities.signup(actor=own(v), activity=a, volunteer=v))
    assert "guardian" in str(err.message)
    v.guardian_consent_at = timezone.now()
    v.save()
    assert activities.signup(actor=own(v), activity=a, volunteer=v).status == "confirmed"


def test_paused_or_left_volunteer_is_refused(world):
    a = make_activity(world)
    for status, r in (("paused", world.residents[1]), ("left", world.residents[2])):
        v = volunteer_for(r, status=status)
        assert_refused(PermissionDenied, "volunteer_inactive",
                       lambda v=v: activities.signup(actor=own(v), activity=a, volunteer=v))


def test_cancelled_done_or_started_activity_is_refused(world, vols):
    cancelled = make_activity(world)
    activities.activity_cancel(actor=world.users["worker"], activity=cancelled)
    err = assert_refused(Conflict, "activity_cancelled",
                         lambda: activities.signup(actor=own(vols[0]), activity=cancelled, volunteer=vols[0]))
    assert "cancelled" in str(err.message)
    done = make_activity(world, hours_ahead=72)
    activities.activity_done(actor=world.users["worker"], activity=done)
    assert_refused(Conflict, "activity_closed",
                   lambda: activities.signup(actor=own(vols[0]), activity=done, volunteer=vols[0]))
    started = make_activity(world, hours_ahead=96)
    row = activities.signup(actor=own(vols[1]), activity=started, volunteer=vols[1])
    Activity.objects.filter(pk=started.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    err = assert_refused(Conflict, "activity_started",
                         lambda: activities.signup(actor=own(vols[0]), activity=started, volunteer=vols[0]))
    assert "started" in str(err.message)
    assert_refused(Conflict, "activity_started", lambda: activities.withdraw(actor=own(vols[1]), signup=row))
    # Cancelling twice is an illegal move, in words.
    assert_refused(IllegalTransition, "illegal_transition",
                   lambda: activities.activity_cancel(actor=world.users["worker"], activity=cancelled))


def test_twice_and_other_people_are_refused(world, vols):
    a = make_activity(world)
    activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    assert_refused(Conflict, "already_signed_up",
                   lambda: activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0]))
    # Another resident may not sign someone up, nor withdraw them.
    assert_refused(PermissionDenied, "not_yours",
                   lambda: activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[1]))
    row = Signup.objects.get(activity=a, volunteer=vols[0])
    assert_refused(PermissionDenied, "permission_denied", lambda: activities.withdraw(actor=own(vols[1]), signup=row))
    # A volunteer of another community.
    other = volunteer_for(world.other_resident)
    assert_refused(PermissionDenied, "other_community",
                   lambda: activities.signup(actor=own(other), activity=a, volunteer=other))
    # The organiser may sign a volunteer up (after a phone call).
    assert activities.signup(actor=world.users["worker"], activity=a, volunteer=vols[1]).status == "confirmed"


def test_organiser_rights_on_moves(world, vols):
    a = make_activity(world, who="grid1", grid=world.grids[0])
    assert_refused(PermissionDenied, "permission_denied",
                   lambda: activities.activity_done(actor=world.users["grid2"], activity=a))
    assert_refused(PermissionDenied, "permission_denied",
                   lambda: activities.activity_cancel(actor=own(vols[0]), activity=a))
    assert activities.activity_done(actor=world.users["grid1"], activity=a).status == "done"
    assert Event.objects.filter(verb="volunteer_activity.completed", target_id=str(a.pk)).count() == 1


# --- invitations, reminders, cancellation notices ---------------------------------------------------


def test_invite_tells_the_volunteer(world, vols):
    a = make_activity(world)
    activities.invite(actor=world.users["worker"], activity=a, volunteer=vols[2])
    dispatch_new_events(settle_seconds=0)
    n = Notification.objects.get(user=own(vols[2]))
    with translation.override(settings.LANGUAGE_CODE):
        assert n.title == translation.gettext("You are invited to help")
    activities.signup(actor=own(vols[2]), activity=a, volunteer=vols[2])
    assert_refused(Conflict, "already_signed_up",
                   lambda: activities.invite(actor=world.users["worker"], activity=a, volunteer=vols[2]))
    assert_refused(PermissionDenied, "not_organiser",
                   lambda: activities.invite(actor=own(vols[0]), activity=a, volunteer=vols[3]))


def test_reminder_the_day_before_to_confirmed_only_once(world, vols):
    soon = make_activity(world, hours_ahead=20, slots=1)
    later = make_activity(world, hours_ahead=30, slots=1)
    activities.signup(actor=own(vols[0]), activity=soon, volunteer=vols[0])
    activities.signup(actor=own(vols[1]), activity=soon, volunteer=vols[1])  # waiting
    activities.signup(actor=own(vols[2]), activity=later, volunteer=vols[2])
    dispatch_new_events(settle_seconds=0)
    Notification.objects.all().delete()
    assert jobs_activities.remind() == {"reminded": 1}
    assert jobs_activities.remind() == {"reminded": 0}
    with translation.override("en"):
        dispatch_new_events(settle_seconds=0)
    assert list(Notification.objects.values_list("user_id", flat=True)) == [own(vols[0]).pk]
    assert Activity.objects.get(pk=soon.pk).reminded_at is not None
    assert Activity.objects.get(pk=later.pk).reminded_at is None
    # An hour's worker run later, 24 hours before the second: its turn.
    assert jobs_activities.remind(now=timezone.now() + dt.timedelta(hours=7)) == {"reminded": 1}


def test_cancellation_tells_confirmed_and_waiting(world, vols):
    a = make_activity(world, slots=1)
    for v in vols[:2]:
        activities.signup(actor=own(v), activity=a, volunteer=v)
    dispatch_new_events(settle_seconds=0)
    Notification.objects.all().delete()
    activities.activity_cancel(actor=world.users["worker"], activity=a)
    dispatch_new_events(settle_seconds=0)
    assert set(Notification.objects.values_list("user_id", flat=True)) == {own(vols[0]).pk, own(vols[1]).pk}


def test_event_data_has_no_personal_data(world, vols):
    a = make_activity(world)
    activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    activities.invite(actor=world.users["worker"], activity=a, volunteer=vols[1])
    name = vols[0].resident.name.reveal()
    for e in Event.objects.filter(verb__startswith="volunteer"):
        assert name not in str(e.data)


# --- pages -----------------------------------------------------------------------------------------


def client_for(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def test_resident_list_detail_signup_and_withdraw(world, vols):
    a = make_activity(world, slots=1, skills=["visiting"])
    c = client_for(own(vols[0]))
    page = c.get("/volunteers/activities/").content.decode()
    assert a.title in page and "1 of 1" in page and "Visiting and chatting" in page
    r = c.post(f"/volunteers/activities/{a.pk}/", {"action": "signup"})
    assert r.status_code == 302
    page = c.get(f"/volunteers/activities/{a.pk}/").content.decode()
    assert "You are signed up" in page and "withdraw" in page
    # Another volunteer: full, the waiting list.
    c2 = client_for(own(vols[1]))
    assert "waiting list" in c2.get(f"/volunteers/activities/{a.pk}/").content.decode()
    c2.post(f"/volunteers/activities/{a.pk}/", {"action": "signup"})
    assert "number 1" in c2.get(f"/volunteers/activities/{a.pk}/").content.decode()
    c.post(f"/volunteers/activities/{a.pk}/", {"action": "withdraw"})
    assert Signup.objects.get(activity=a, volunteer=vols[1]).status == "confirmed"


def test_resident_refusal_is_shown_in_words(world, vols):
    a = make_activity(world)
    b = make_activity(world, hours_ahead=49)
    activities.signup(actor=own(vols[0]), activity=a, volunteer=vols[0])
    c = client_for(own(vols[0]))
    r = c.post(f"/volunteers/activities/{b.pk}/", {"action": "signup"})
    assert r.status_code == 409 and "another activity at that time" in r.content.decode()
    assert not Signup.objects.filter(activity=b).exists()


def test_resident_sees_only_their_community(world, vols):
    a = make_activity(world)
    other = volunteer_for(world.other_resident)
    c = client_for(own(other))
    assert c.get(f"/volunteers/activities/{a.pk}/").status_code == 404
    assert a.title not in c.get("/volunteers/activities/").content.decode()


def test_office_pages(world, vols):
    need = needs.need_post(actor=world.users["worker"], community=world.community, title="周末清理楼道",
                           description="", activity_type="cleanup", source="staff", grid=world.grids[0])
    c = client_for(world.users["worker"])
    form = c.get(f"/volunteers/Y/office/activities/new?need={need.pk}").content.decode()
    assert "周末清理楼道" in form
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    r = c.post(f"/volunteers/Y/office/activities/new?need={need.pk}", {
        "title": "周末清理楼道", "activity_type": "cleanup", "place": "3号楼下", "grid": world.grids[0].pk,
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "slots": 2, "skills": ["cleaning"]})
    assert r.status_code == 302, r.content.decode()[:2000]
    a = Activity.objects.get(need=need)
    assert Need.objects.get(pk=need.pk).status == "planned"
    page = c.get(f"/volunteers/Y/office/activities/{a.pk}/").content.decode()
    assert "Suggested volunteers" in page and "Walking distance unknown" in page  # the grids have no map position
    # Names are masked on the office page.
    assert vols[0].resident.name.reveal() not in page
    r = c.post(f"/volunteers/Y/office/activities/{a.pk}/", {"action": "invite", "volunteer": vols[0].pk})
    assert r.status_code == 302
    assert Event.objects.filter(verb="volunteers.invited").count() == 1
    assert "invited" in c.get(f"/volunteers/Y/office/activities/{a.pk}/").content.decode()
    assert a.title in c.get("/volunteers/Y/office/activities/").content.decode()
    r = c.post(f"/volunteers/Y/office/activities/{a.pk}/", {"action": "cancel"})
    assert Activity.objects.get(pk=a.pk).status == "cancelled"
    r = c.post(f"/volunteers/Y/office/activities/{a.pk}/", {"action": "cancel"})
    assert r.status_code == 409


def test_office_pages_refuse_outsiders(world, vols):
    a = make_activity(world, who="grid1", grid=world.grids[0])
    assert client_for(world.users["resident"]).get("/volunteers/Y/office/activities/").status_code == 403
    assert client_for(world.users["z_worker"]).get("/volunteers/Y/office/activities/").status_code == 404
    assert client_for(world.users["grid2"]).get(f"/volunteers/Y/office/activities/{a.pk}/").status_code == 404
    assert client_for(world.users["grid1"]).get(f"/volunteers/Y/office/activities/{a.pk}/").status_code == 200


def test_suggestions_name_volunteers_only_for_who_may_list_them(world, vols):
    a = make_activity(world, who="leader", grid=world.grids[0])
    masked = str(vols[0].resident.name)
    assert masked != vols[0].resident.name.reveal()
    leader_page = client_for(world.users["leader"]).get(f"/volunteers/Y/office/activities/{a.pk}/").content.decode()
    assert "A volunteer" in leader_page and masked not in leader_page and "Invite" in leader_page
    worker_page = client_for(world.users["worker"]).get(f"/volunteers/Y/office/activities/{a.pk}/").content.decode()
    assert masked in worker_page and vols[0].resident.name.reveal() not in worker_page
