"""Activities for all ages: capacity counted in people (party sizes), the waiting list moving up
where the party fits, the age range, check-in by the rotating QR (an expired code refused), a
staffed event whose volunteers' approved hours become points, photos validated, the summary
after the end shown scrubbed, and the residents' pages (docs/services.md, "Activities for all ages")."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from linli.community.services import ResidentFacts, resident_create
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event as LogEvent
from linli.services import events, jobs_events, notifications_events, rooms
from linli.services.models import Event, EventPhoto, EventSignup, RoomBooking
from linli.volunteers import activities, hours, qr
from linli.volunteers.models import Activity, Volunteer

from factories import make_id_number, make_phone
from volunteer_activity_helpers import volunteer_for


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _event(world, *, hours_ahead=48, length=2, capacity=10, who="worker", **kw):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=hours_ahead)
    params = dict(title="亲子手工课", audience="families", place="活动室", capacity=capacity)
    params.update(kw)
    return events.event_create(actor=world.users[who], community=world.community, starts_at=start,
                               ends_at=start + dt.timedelta(hours=length), **params)


def _user_for(resident):
    from django.contrib.auth import get_user_model

    if resident.user_id is None:
        resident.user = get_user_model().objects.create_user(username=f"r{resident.pk}", password="x")
        resident.save(update_fields=["user"])
    return resident.user


def _sign(world, event, resident, party=1):
    return events.signup(actor=_user_for(resident), event=event, resident=resident, party_size=party)


def _shift(event, *, starts_at, length=dt.timedelta(hours=2)):
    """Move an event in time (tests of what happens once it has started or ended)."""
    Event.objects.filter(pk=event.pk).update(starts_at=starts_at, ends_at=starts_at + length)
    event.refresh_from_db()
    return event


def _child(world, age=8, serial=[800]):
    serial[0] += 1
    birth = dt.date(timezone.localdate().year - age, 3, 3)
    return resident_create(actor=None, household=world.households[0], facts=ResidentFacts.clean(
        name=f"小朋友{serial[0]}", id_number=make_id_number(birth, serial[0]), phone=make_phone(serial[0]),
        relation="grandchild"))


# --- capacity and the waiting list -----------------------------------------------------------------


def test_places_are_people_and_the_waiting_list_moves_up_where_the_party_fits(world):
    event = _event(world, capacity=5)
    a, b, c, d = world.residents[:4]
    assert _sign(world, event, a, 3).status == "confirmed"
    assert _sign(world, event, b, 3).status == "waiting"      # 2 left: a party of 3 waits
    assert _sign(world, event, c, 2).status == "confirmed"    # but a party of 2 fits
    assert _sign(world, event, d, 1).status == "waiting"
    event.refresh_from_db()
    assert event.taken == 5 and events.places_left(event) == 0
    assert LogEvent.objects.filter(verb="services.signed_up").count() == 2
    assert LogEvent.objects.filter(verb="services.signup_waiting").count() == 2

    # c cancels: 2 places free. b (3, first in line) does not fit; d (1) moves up.
    events.cancel_signup(actor=c.user, signup=EventSignup.objects.get(event=event, resident=c))
    assert EventSignup.objects.get(event=event, resident=b).status == "waiting"
    promoted = EventSignup.objects.get(event=event, resident=d)
    assert promoted.status == "confirmed" and promoted.promoted_at is not None
    event.refresh_from_db()
    assert event.taken == 4

    # a cancels: 4 free now, b's party of 3 fits.
    events.cancel_signup(actor=a.user, signup=EventSignup.objects.get(event=event, resident=a))
    assert EventSignup.objects.get(event=event, resident=b).status == "confirmed"
    event.refresh_from_db()
    assert event.taken == 4
    assert LogEvent.objects.filter(verb="services.signup_promoted").count() == 2
    # The promoted residents are told.
    batch = list(LogEvent.objects.filter(verb="services.signup_promoted").order_by("id"))
    told = [set(m.user_ids) for _e, m in notifications_events.messages(batch)]
    assert told == [{d.user_id}, {b.user_id}]


def test_a_waiting_sign_up_gives_back_nothing(world):
    event = _event(world, capacity=1)
    a, b = world.residents[:2]
    _sign(world, event, a)
    waiting = _sign(world, event, b)
    events.cancel_signup(actor=b.user, signup=waiting)
    event.refresh_from_db()
    assert event.taken == 1
    assert EventSignup.objects.get(pk=waiting.pk).status == "cancelled"
    assert _sign(world, event, b).status == "waiting"  # may sign up again, at the back


@pytest.mark.parametrize("case, error, code", [
    ("twice", Conflict, "already_signed_up"),
    ("party_zero", InvalidInput, "party_size"),
    ("party_seven", InvalidInput, "party_size"),
    ("bigger_than_the_event", InvalidInput, "too_many"),
    ("someone_else", PermissionDenied, "not_yours"),
    ("other_community", PermissionDenied, "other_community"),
    ("cancelled", Conflict, "event_cancelled"),
    ("started", Conflict, "started"),
    ("signup_closed", Conflict, "closed"),
])
def test_refused_sign_ups_change_nothing(world, case, error, code):
    event = _event(world, capacity=4)
    resident, actor, party = world.residents[1], _user_for(world.residents[1]), 1
    if case == "twice":
        _sign(world, event, resident)
    elif case == "party_zero":
        party = 0
    elif case == "party_seven":
        party = 7
    elif case == "bigger_than_the_event":
        party = 5
    elif case == "someone_else":
        actor = world.users["resident"]
    elif case == "other_community":
        resident = world.other_resident
        actor = _user_for(resident)
    elif case == "cancelled":
        events.event_cancel(actor=world.users["worker"], event=event)
    elif case == "started":
        _shift(event, starts_at=timezone.now() - dt.timedelta(minutes=5))
    elif case == "signup_closed":
        Event.objects.filter(pk=event.pk).update(signup_closes_at=timezone.now() - dt.timedelta(minutes=1))
    before = (EventSignup.objects.count(), Event.objects.get(pk=event.pk).taken)
    with pytest.raises(error) as err:
        events.signup(actor=actor, event=event, resident=resident, party_size=party)
    assert err.value.code == code
    assert (EventSignup.objects.count(), Event.objects.get(pk=event.pk).taken) == before


def test_the_office_signs_up_on_a_residents_behalf(world):
    event = _event(world)
    row = events.signup(actor=world.users["worker"], event=event, resident=world.residents[2], party_size=2)
    assert row.status == "confirmed"
    with pytest.raises(PermissionDenied):
        events.signup(actor=world.users["leader"], event=event, resident=world.residents[3])


# --- age range -------------------------------------------------------------------------------------


def test_the_age_range_applies_to_someone_signing_up_alone(world):
    event = _event(world, audience="children", min_age=6, max_age=12, title="周六少儿绘画")
    grandmother = world.residents[0]  # born in the 1940s
    with pytest.raises(InvalidInput) as err:
        _sign(world, event, grandmother, 1)
    assert err.value.code == "age"
    # With her grandson: a party of two is welcome.
    assert _sign(world, event, grandmother, 2).status == "confirmed"
    child = _child(world, age=8)
    assert _sign(world, event, child, 1).status == "confirmed"
    toddler = _child(world, age=3)
    with pytest.raises(InvalidInput):
        _sign(world, event, toddler, 1)
    with pytest.raises(InvalidInput) as err:
        _event(world, min_age=12, max_age=6)
    assert err.value.code == "age_range"


# --- check-in --------------------------------------------------------------------------------------


def test_check_in_by_the_rotating_qr_and_an_expired_code_refused(world):
    event = _event(world, hours_ahead=48)
    resident = world.residents[0]
    _sign(world, event, resident, 2)
    event = _shift(event, starts_at=timezone.now() - dt.timedelta(minutes=10))
    old = qr.code_for(event, purpose="in", at=timezone.now() - dt.timedelta(minutes=3))
    with pytest.raises(InvalidInput) as err:
        events.check_in(actor=resident.user, event=event, resident=resident, code=old)
    assert err.value.code == "qr_expired"
    other = _event(world)
    with pytest.raises(InvalidInput) as err:
        events.check_in(actor=resident.user, event=event, resident=resident, code=qr.code_for(other, purpose="in"))
    assert err.value.code == "qr_wrong"
    assert EventSignup.objects.get(event=event, resident=resident).status == "confirmed"
    row = events.check_in(actor=resident.user, event=event, resident=resident, code=qr.code_for(event, purpose="in"))
    assert row.status == "attended" and row.checked_in_at is not None
    assert LogEvent.objects.filter(verb="services.checked_in", target_id=str(row.pk)).get().data["source"] == "qr"
    with pytest.raises(Conflict) as err:
        events.check_in(actor=resident.user, event=event, resident=resident, code=qr.code_for(event, purpose="in"))
    assert err.value.code == "already_checked_in"


def test_the_organiser_checks_in_by_hand_and_nobody_else_for_someone(world):
    event = _event(world)
    a, b = world.residents[:2]
    _sign(world, event, a)
    _sign(world, event, b)
    with pytest.raises(InvalidInput) as err:
        events.check_in(actor=world.users["worker"], event=event, resident=a)
    assert err.value.code == "too_early"
    event = _shift(event, starts_at=timezone.now() - dt.timedelta(minutes=10))
    assert events.check_in(actor=world.users["worker"], event=event, resident=a).status == "attended"
    with pytest.raises(PermissionDenied):  # someone else's code scan for b
        events.check_in(actor=a.user, event=event, resident=b, code=qr.code_for(event, purpose="in"))
    with pytest.raises(InvalidInput) as err:
        events.check_in(actor=world.users["worker"], event=event, resident=world.residents[4])
    assert err.value.code == "not_signed_up"


def test_the_scan_page_checks_the_resident_in(client, world):
    event = _event(world)
    resident = world.residents[0]
    _sign(world, event, resident)
    event = _shift(event, starts_at=timezone.now() - dt.timedelta(minutes=5))
    client.force_login(world.users["resident"])
    page = client.get(reverse("services:event_scan", args=[event.pk, qr.code_for(event, purpose="in")]),
                      HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Checked in at" in page.content.decode()
    assert EventSignup.objects.get(event=event, resident=resident).status == "attended"
    stale = qr.code_for(event, purpose="in", at=timezone.now() - dt.timedelta(minutes=5))
    page = client.get(reverse("services:event_scan", args=[event.pk, stale]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400 and "expired" in page.content.decode()


def test_the_qr_page_for_the_organiser(client, world):
    event = _shift(_event(world), starts_at=timezone.now() - dt.timedelta(minutes=5))
    client.force_login(world.users["worker"])
    page = client.get(reverse("services:event_qr", args=["Y", event.pk]))
    assert page.status_code == 200 and b"<svg" in page.content
    state = client.get(reverse("services:event_qr_state", args=["Y", event.pk])).json()
    assert set(state) == {"svg", "checked_in", "seconds"}
    client.force_login(world.users["resident"])
    assert client.get(reverse("services:event_qr", args=["Y", event.pk])).status_code == 403


# --- staff: volunteers earn points -----------------------------------------------------------------


def test_a_staffed_event_makes_a_volunteers_activity_whose_approved_hours_become_points(world):
    event = _event(world, staff_slots=2, title="重阳敬老茶话会", audience="elders")
    activity = event.staff_activity
    assert activity is not None
    assert (activity.activity_type, activity.slots, activity.starts_at, activity.ends_at) == (
        "event", 2, event.starts_at, event.ends_at)
    assert LogEvent.objects.filter(verb="volunteers.activity_created", target_id=str(activity.pk)).exists()
    volunteer = volunteer_for(world.residents[5])
    activities.signup(actor=volunteer.resident.user, activity=activity, volunteer=volunteer)
    start = timezone.now() - dt.timedelta(hours=3)
    Activity.objects.filter(pk=activity.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=2))
    activity.refresh_from_db()
    record = hours.mark(actor=world.users["worker"], activity=activity, volunteer=volunteer,
                        check_in_at=start, check_out_at=start + dt.timedelta(hours=2))
    record = hours.approve(actor=world.users["secretary"], record=record)
    assert record.status == "approved" and record.points > 0
    assert Volunteer.objects.get(pk=volunteer.pk).resident.points_account.balance == record.points


def test_cancelling_an_event_frees_its_room_and_its_staff_activity(world):
    room = rooms.room_create(actor=world.users["admin"], community=world.community, code="hall", name="多功能厅",
                             capacity=60, opening={d: [["00:00", "24:00"]] for d in rooms.DAYS})
    event = _event(world, room=room, staff_slots=1, capacity=30, place="")
    assert event.place == "多功能厅" and event.room_booking.status == "approved"
    with pytest.raises(Conflict):
        rooms.request(actor=world.users["leader"], room=room, starts_at=event.starts_at, ends_at=event.ends_at,
                      purpose="x", attendees=3)
    _sign(world, event, world.residents[0])
    events.event_cancel(actor=world.users["worker"], event=event)
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert RoomBooking.objects.get(pk=event.room_booking_id).status == "cancelled"
    assert Activity.objects.get(pk=event.staff_activity_id).status == "cancelled"
    batch = list(LogEvent.objects.filter(verb="services.event_cancelled"))
    assert [set(m.user_ids) for _e, m in notifications_events.messages(batch)] == [{world.users["resident"].pk}]


def test_an_event_with_a_room_too_big_for_it_is_refused(world):
    room = rooms.room_create(actor=world.users["admin"], community=world.community, code="small", name="小会议室",
                             capacity=8, opening={d: [["00:00", "24:00"]] for d in rooms.DAYS})
    with pytest.raises(InvalidInput) as err:
        _event(world, room=room, capacity=20)
    assert err.value.code == "too_many_people"
    assert not Event.objects.exists() and not RoomBooking.objects.exists()


def test_who_may_create_events_and_bad_input(world):
    with pytest.raises(PermissionDenied):
        _event(world, who="leader")
    with pytest.raises(PermissionDenied):
        _event(world, who="z_worker")
    assert _event(world, who="secretary").organiser == world.users["secretary"]
    for kw, code in (({"length": -1}, "ends_before_start"), ({"hours_ahead": -3}, "past"),
                     ({"capacity": 0}, "capacity"), ({"audience": "pets"}, "audience"), ({"title": " "}, "title")):
        with pytest.raises(InvalidInput) as err:
            _event(world, **kw)
        assert err.value.code == code
    assert Event.objects.count() == 1


# --- photos and the summary ------------------------------------------------------------------------


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")


def test_photos_are_validated(world):
    event = _event(world)
    with pytest.raises(InvalidInput) as err:
        events.add_photo(actor=world.users["worker"], event=event, image=_png())
    assert err.value.code == "not_started"
    event = _shift(event, starts_at=timezone.now() - dt.timedelta(hours=3))
    with pytest.raises(InvalidInput) as err:
        events.add_photo(actor=world.users["worker"], event=event,
                         image=SimpleUploadedFile("x.jpg", b"not a picture at all", content_type="image/jpeg"))
    assert err.value.code == "photo_not_image"
    with pytest.raises(PermissionDenied):
        events.add_photo(actor=world.users["leader"], event=event, image=_png())
    photo = events.add_photo(actor=world.users["worker"], event=event, image=_png(), caption="大家一起做灯笼")
    assert EventPhoto.objects.count() == 1 and photo.image.name.startswith("services/events/")
    assert LogEvent.objects.filter(verb="services.photo_added").count() == 1


def test_the_summary_after_the_end_is_shown_scrubbed(client, world):
    event = _event(world)
    resident = world.residents[0]
    _sign(world, event, resident)
    name = resident.name.reveal()
    with pytest.raises(InvalidInput) as err:
        events.summarise(actor=world.users["worker"], event=event, summary="还没开始")
    assert err.value.code == "not_over"
    event = _shift(event, starts_at=timezone.now() - dt.timedelta(hours=3))
    text = f"二十位家长和孩子参加，{name}带来了剪纸作品，有事请打13812345678。"
    event = events.summarise(actor=world.users["worker"], event=event, summary=text)
    assert event.status == "done" and event.summary == text and event.summary_at is not None
    shown = events.shown_summary(event)
    assert name not in shown and "13812345678" not in shown and "剪纸作品" in shown
    events.add_photo(actor=world.users["worker"], event=event, image=_png())
    client.force_login(world.users["resident"])
    page = client.get(reverse("services:event", args=[event.pk]), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200 and "How it went" in body and "剪纸作品" in body
    assert name not in body and "13812345678" not in body
    photo = EventPhoto.objects.get()
    assert client.get(reverse("services:event_photo", args=[photo.pk])).status_code == 200
    client.force_login(world.users["z_worker"])
    assert client.get(reverse("services:event_photo", args=[photo.pk])).status_code == 404


# --- residents' pages ------------------------------------------------------------------------------


def test_the_calendar_by_day_with_audience_and_places_left(client, world):
    kids = _event(world, hours_ahead=30, audience="children", title="少儿科学实验", capacity=12, min_age=6, max_age=12)
    _event(world, hours_ahead=54, audience="elders", title="太极拳入门", capacity=20)
    _event(world, hours_ahead=24 * 40, audience="all", title="很远的活动")  # beyond four weeks
    _sign(world, kids, world.residents[1], 2)
    client.force_login(world.users["resident"])
    page = client.get(reverse("services:events"), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200
    assert "少儿科学实验" in body and "太极拳入门" in body and "很远的活动" not in body
    assert "For children" in body and "ages 6 to 12" in body and "10 of 12" in body and "Sign up" in body
    page = client.get(reverse("services:events") + "?audience=elders", HTTP_ACCEPT_LANGUAGE="en")
    assert "太极拳入门" in page.content.decode() and "少儿科学实验" not in page.content.decode()


def test_signing_up_and_cancelling_on_the_event_page(client, world):
    event = _event(world, capacity=3)
    client.force_login(world.users["resident"])
    url = reverse("services:event", args=[event.pk])
    assert client.post(url, {"action": "signup", "party_size": "2"}).status_code == 302
    row = EventSignup.objects.get(event=event)
    assert (row.resident, row.party_size, row.status) == (world.residents[0], 2, "confirmed")
    page = client.post(url, {"action": "signup", "party_size": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 409 and "already signed up" in page.content.decode()
    assert EventSignup.objects.count() == 1
    page = client.get(reverse("services:my_events"), HTTP_ACCEPT_LANGUAGE="en")
    assert event.title in page.content.decode()
    assert client.post(url, {"action": "cancel"}).status_code == 302
    assert EventSignup.objects.get(pk=row.pk).status == "cancelled"
    client.force_login(_user_for(world.other_resident))
    assert client.get(url).status_code == 404


def test_the_office_event_page_masks_names(client, world):
    event = _event(world)
    resident = world.residents[0]
    _sign(world, event, resident, 2)
    client.force_login(world.users["worker"])
    page = client.get(reverse("services:office_event", args=["Y", event.pk]), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200 and str(resident.name) in body and resident.name.reveal() not in body
    new = client.post(reverse("services:office_event_new", args=["Y"]), {
        "title": "读书会", "audience": "all", "place": "图书角", "capacity": 10,
        "starts_at": (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (timezone.localtime() + dt.timedelta(days=3, hours=-1)).strftime("%Y-%m-%dT%H:%M"),
        "staff_slots": 0}, HTTP_ACCEPT_LANGUAGE="en")
    assert new.status_code == 400 and "must end after it starts" in new.content.decode()


def test_the_reminder_job_tells_once(world):
    event = _event(world, hours_ahead=20)
    _sign(world, event, world.residents[0])
    _event(world, hours_ahead=60)
    assert jobs_events.remind() == {"reminded": 1}
    assert jobs_events.remind() == {"reminded": 0}
    batch = list(LogEvent.objects.filter(verb="services.event_reminded"))
    assert [set(m.user_ids) for _e, m in notifications_events.messages(batch)] == [{world.users["resident"].pk}]
