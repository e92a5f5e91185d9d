"""Bookable services: booking, every refusal, the waiting list, cancelling (late = a no-show),
the no-show limit, staff booking on a resident's behalf, marking, reminders and the no-show job
(linli/services/catalogue.py, bookings.py, notifications.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation
from django.test import Client
from django.utils import timezone

from linli.community.models import Resident
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.services import bookings, catalogue, notifications
from linli.services.models import Booking, Slot

pytestmark = pytest.mark.django_db
B = Booking.Status


def tomorrow_at(hour, minute=0):
    day = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def svc(world):
    admin = world.users["admin"]
    provider = catalogue.provider_create(actor=admin, community=world.community, name="社区卫生站义诊",
                                         organisation=world.property_company)
    service = catalogue.service_create(actor=admin, community=world.community, provider=provider, code="clinic",
                                       name="义诊", kind="clinic", place="服务中心一楼", need_categories=["health"])
    slots = catalogue.slots_create(actor=admin, service=service, day=timezone.localdate() + dt.timedelta(days=1),
                                   start=dt.time(9, 0), end=dt.time(10, 0), every_minutes=30, capacity=2)
    return {"provider": provider, "service": service, "slots": slots, "slot": slots[0]}


def link(world, i):
    """Give resident i an account (resident 0 already has "resident")."""
    from django.contrib.auth import get_user_model

    r = world.residents[i]
    if r.user_id is None:
        r.user = get_user_model().objects.create_user(username=f"r{i}", password="x" * 12)
        r.save(update_fields=["user"])
    return r, r.user


def book_as(world, i, slot, **kw):
    r, user = link(world, i)
    return bookings.book(actor=user, slot=slot, resident=r, channel="online", **kw)


def slot_of(slot):
    return Slot.objects.get(pk=slot.pk)


# --- booking and refusals ------------------------------------------------------------------------


def test_book_takes_a_place_and_records_an_event_without_names(world, svc):
    booking, created = book_as(world, 0, svc["slot"])
    assert created and booking.status == B.BOOKED and booking.channel == "online"
    assert slot_of(svc["slot"]).booked == 1
    event = Event.objects.get(verb="services.booked")
    assert event.data["slot"] == svc["slot"].pk
    assert world.residents[0].name.reveal() not in json.dumps(event.data)


def test_full_slot_puts_on_the_waiting_list_or_refuses_full(world, svc):
    slot = svc["slot"]
    book_as(world, 0, slot)
    book_as(world, 1, slot)
    waiting, created = book_as(world, 2, slot)
    assert created and waiting.status == B.WAITING
    assert Event.objects.filter(verb="services.waitlisted").count() == 1
    with pytest.raises(Conflict) as exc:
        book_as(world, 3, slot, waitlist=False)
    assert exc.value.code == "full"
    assert slot_of(slot).booked == 2
    assert not Booking.objects.filter(resident=world.residents[3]).exists()


def test_twice_is_refused_already_booked(world, svc):
    book_as(world, 0, svc["slot"])
    with pytest.raises(Conflict) as exc:
        book_as(world, 0, svc["slot"])
    assert exc.value.code == "already_booked"
    assert slot_of(svc["slot"]).booked == 1


def test_more_than_max_active_is_refused_too_many(world, svc):
    admin = world.users["admin"]
    more = catalogue.slots_create(actor=admin, service=svc["service"], day=timezone.localdate() + dt.timedelta(days=2),
                                  start=dt.time(9, 0), end=dt.time(9, 30), every_minutes=30, capacity=2)
    book_as(world, 0, svc["slots"][0])
    book_as(world, 0, svc["slots"][1])
    with pytest.raises(Conflict) as exc:
        book_as(world, 0, more[0])
    assert exc.value.code == "too_many"


def test_started_or_cancelled_slot_is_closed(world, svc):
    slot = svc["slot"]
    with pytest.raises(Conflict) as exc:
        book_as(world, 0, slot, at=slot.starts_at + dt.timedelta(minutes=1))
    assert exc.value.code == "closed"
    catalogue.slot_cancel(actor=world.users["admin"], slot=svc["slots"][1], reason="医生临时有事")
    with pytest.raises(Conflict) as exc:
        book_as(world, 0, svc["slots"][1])
    assert exc.value.code == "closed"


def test_another_community_and_other_people_are_refused(world, svc):
    z = world.other_resident
    from django.contrib.auth import get_user_model

    z.user = get_user_model().objects.create_user(username="z", password="x" * 12)
    z.save(update_fields=["user"])
    with pytest.raises(PermissionDenied):
        bookings.book(actor=z.user, slot=svc["slot"], resident=z, channel="online")
    # A resident books only for themselves.
    with pytest.raises(PermissionDenied) as exc:
        bookings.book(actor=world.users["resident"], slot=svc["slot"], resident=world.residents[1], channel="online")
    assert exc.value.code == "not_yours"
    # Staff channels need the office or the provider's staff.
    for name in ("resident", "grid1", "leader", "supervisor", "z_worker"):
        with pytest.raises(PermissionDenied):
            bookings.book(actor=world.users[name], slot=svc["slot"], resident=world.residents[1], channel="phone")
    with pytest.raises(InvalidInput):
        bookings.book(actor=world.users["admin"], slot=svc["slot"], resident=world.residents[1], channel="fax")
    assert slot_of(svc["slot"]).booked == 0


def test_staff_book_on_a_residents_behalf_and_the_resident_is_told(world, svc):
    staff = world.users["unit_staff"]  # staff of the provider's organisation
    booking, _ = bookings.book(actor=staff, slot=svc["slot"], resident=world.residents[0], channel="walk_in")
    assert booking.booked_by == staff and booking.channel == "walk_in"
    worker_booking, _ = bookings.book(actor=world.users["worker"], slot=svc["slot"], resident=world.residents[1],
                                      channel="phone")
    assert worker_booking.status == B.BOOKED
    events = list(Event.objects.filter(verb="services.booked").order_by("id"))
    told = list(notifications.messages(events))
    assert [m.user_ids for _, m in told][0] == [world.users["resident"].pk]
    # Resident 1 has no account: nobody to tell.
    assert len(told) == 1


def test_no_show_limit_refuses_online_and_routes_to_the_office(world, svc):
    service = svc["service"]
    service.no_show_limit = 1
    service.save()
    slot = svc["slot"]
    booking, _ = book_as(world, 0, slot)
    bookings.mark(actor=world.users["unit_staff"], booking=booking, attended=False,
                  at=slot.starts_at + dt.timedelta(minutes=5))
    with pytest.raises(PermissionDenied) as exc, translation.override("en"):
        book_as(world, 0, svc["slots"][1])
    assert exc.value.code == "no_show_limit"
    assert "office" in str(exc.value.message)
    # The office may still book for them.
    again, _ = bookings.book(actor=world.users["worker"], slot=svc["slots"][1], resident=world.residents[0],
                             channel="phone")
    assert again.status == B.BOOKED


def test_idempotency_same_key_same_result_other_body_conflict(world, svc):
    key = ("services.bookings:1", "abc-1")
    first, created = book_as(world, 0, svc["slot"], idempotency=key)
    again, created_again = book_as(world, 0, svc["slot"], idempotency=key)
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(Conflict) as exc:
        book_as(world, 0, svc["slots"][1], idempotency=key)
    assert exc.value.code == "idempotency_conflict"
    assert slot_of(svc["slot"]).booked == 1


# --- cancelling and the waiting list -------------------------------------------------------------


def test_cancel_early_gives_the_place_back_and_promotes_the_oldest(world, svc):
    slot = svc["slot"]
    first, _ = book_as(world, 0, slot)
    book_as(world, 1, slot)
    older, _ = book_as(world, 2, slot)
    newer, _ = book_as(world, 3, slot)
    _, user = link(world, 0)
    row = bookings.cancel(actor=user, booking=first)
    assert row.status == B.CANCELLED and row.cancelled_at
    assert Booking.objects.get(pk=older.pk).status == B.BOOKED
    assert Booking.objects.get(pk=newer.pk).status == B.WAITING
    assert slot_of(slot).booked == 2
    promoted = Event.objects.get(verb="services.promoted")
    (event, message), = list(notifications.messages([promoted]))
    assert message.user_ids == [world.residents[2].user_id]


def test_promotion_puts_priority_first(world, svc, health_need):
    slot = svc["slot"]
    first, _ = book_as(world, 0, slot)
    book_as(world, 1, slot)
    plain, _ = book_as(world, 2, slot)           # waiting first, no priority
    needy, _ = book_as(world, 4, slot)           # waiting later, with a confirmed health need
    assert needy.priority and not plain.priority
    bookings.cancel(actor=world.users["resident"], booking=first)
    assert Booking.objects.get(pk=needy.pk).status == B.BOOKED
    assert Booking.objects.get(pk=plain.pk).status == B.WAITING


def test_late_cancel_counts_as_a_no_show_and_the_page_says_so_first(world, svc):
    slot = svc["slot"]
    booking, _ = book_as(world, 0, slot)
    late = slot.starts_at - dt.timedelta(hours=1)   # cancel_hours is 2
    assert bookings.is_late(booking, late)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users["resident"])
    page = client.get(f"/services/booking/{booking.pk}/cancel/")
    assert page.status_code == 200 and "free" in page.content.decode()   # early: free
    row = bookings.cancel(actor=world.users["resident"], booking=booking, at=late)
    assert row.status == B.LATE_CANCELLED
    assert bookings.no_shows(world.residents[0], svc["service"], at=late) == 1
    assert slot_of(slot).booked == 0


def test_late_cancel_page_warns_before_confirming(world, svc, settings):
    service = svc["service"]
    service.cancel_hours = 48   # every time tomorrow is now "late"
    service.save()
    booking, _ = book_as(world, 0, svc["slot"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users["resident"])
    page = client.get(f"/services/booking/{booking.pk}/cancel/").content.decode()
    assert "counts as a no-show" in page
    assert Booking.objects.get(pk=booking.pk).status == B.BOOKED   # only a POST cancels
    client.post(f"/services/booking/{booking.pk}/cancel/")
    assert Booking.objects.get(pk=booking.pk).status == B.LATE_CANCELLED


def test_staff_cancel_is_never_late_and_the_resident_is_told(world, svc):
    svc["service"].cancel_hours = 48
    svc["service"].save()
    booking, _ = book_as(world, 0, svc["slot"])
    row = bookings.cancel(actor=world.users["worker"], booking=booking)
    assert row.status == B.CANCELLED
    event = Event.objects.get(verb="services.cancelled")
    (_, message), = list(notifications.messages([event]))
    assert message.user_ids == [world.users["resident"].pk]


def test_cancel_refusals(world, svc):
    booking, _ = book_as(world, 0, svc["slot"])
    _, other = link(world, 1)
    with pytest.raises(PermissionDenied):
        bookings.cancel(actor=other, booking=booking)
    with pytest.raises(Conflict) as exc:
        bookings.cancel(actor=world.users["resident"], booking=booking,
                        at=svc["slot"].starts_at + dt.timedelta(minutes=1))
    assert exc.value.code == "closed"
    bookings.cancel(actor=world.users["resident"], booking=booking)
    with pytest.raises(InvalidInput):
        bookings.cancel(actor=world.users["resident"], booking=booking)


def test_slot_cancel_cancels_bookings_and_tells_residents(world, svc):
    slot = svc["slot"]
    book_as(world, 0, slot)
    book_as(world, 1, slot)
    book_as(world, 2, slot)
    catalogue.slot_cancel(actor=world.users["unit_staff"], slot=slot, reason="停电")
    assert slot_of(slot).status == "cancelled" and slot_of(slot).booked == 0
    assert set(Booking.objects.filter(slot=slot).values_list("status", flat=True)) == {B.CANCELLED}
    with translation.override("en"):
        told = list(notifications.messages(list(Event.objects.filter(verb="services.cancelled"))))
    assert len(told) == 3 and all("will not take place" in m.body for _, m in told)
    with pytest.raises(PermissionDenied):
        catalogue.slot_cancel(actor=world.users["grid1"], slot=svc["slots"][1], reason="x")


def test_slots_series_and_overlap_refused(world, svc):
    admin = world.users["admin"]
    assert [timezone.localtime(s.starts_at).time() for s in svc["slots"]] == [dt.time(9, 0), dt.time(9, 30)]
    with pytest.raises(Conflict) as exc:
        catalogue.slots_create(actor=admin, service=svc["service"], day=timezone.localdate() + dt.timedelta(days=1),
                               start=dt.time(9, 45), end=dt.time(11, 0), every_minutes=15, capacity=2)
    assert exc.value.code == "overlap"
    with pytest.raises(InvalidInput) as exc:
        catalogue.slots_create(actor=admin, service=svc["service"], day=timezone.localdate() - dt.timedelta(days=1),
                               start=dt.time(9, 0), end=dt.time(10, 0), every_minutes=30, capacity=2)
    assert exc.value.code == "past"
    with pytest.raises(InvalidInput):
        catalogue.slots_create(actor=admin, service=svc["service"], day=timezone.localdate() + dt.timedelta(days=3),
                               start=dt.time(9, 0), end=dt.time(10, 0), every_minutes=30, capacity=0)
    with pytest.raises(PermissionDenied):
        catalogue.slots_create(actor=world.users["grid1"], service=svc["service"],
                               day=timezone.localdate() + dt.timedelta(days=3), start=dt.time(9, 0),
                               end=dt.time(10, 0), every_minutes=30, capacity=2)
    with pytest.raises(Conflict) as exc:
        catalogue.service_create(actor=admin, community=world.community, provider=svc["provider"], code="clinic",
                                 name="x", kind="clinic", place="y")
    assert exc.value.code == "code_taken"


# --- marking, the no-show job, reminders ---------------------------------------------------------


def test_mark_from_the_start_by_provider_staff_or_office(world, svc):
    slot = svc["slot"]
    booking, _ = book_as(world, 0, slot)
    with pytest.raises(Conflict) as exc:
        bookings.mark(actor=world.users["unit_staff"], booking=booking, attended=True)
    assert exc.value.code == "not_started"
    later = slot.starts_at + dt.timedelta(minutes=3)
    with pytest.raises(PermissionDenied):
        bookings.mark(actor=world.users["resident"], booking=booking, attended=True, at=later)
    with pytest.raises(PermissionDenied):
        bookings.mark(actor=world.users["grid1"], booking=booking, attended=True, at=later)
    row = bookings.mark(actor=world.users["unit_staff"], booking=booking, attended=True, at=later)
    assert row.status == B.ATTENDED and row.marked_by == world.users["unit_staff"]
    row = bookings.mark(actor=world.users["worker"], booking=booking, attended=False, at=later)
    assert row.status == B.NO_SHOW


def test_no_show_job_marks_bookings_two_hours_after_the_end(world, svc):
    slot = svc["slot"]
    booking, _ = book_as(world, 0, slot)
    attended, _ = book_as(world, 1, slot)
    bookings.mark(actor=world.users["worker"], booking=attended, attended=True, at=slot.starts_at)
    assert bookings.mark_no_shows(now=slot.ends_at + dt.timedelta(minutes=90)) == 0
    assert bookings.mark_no_shows(now=slot.ends_at + dt.timedelta(hours=2, minutes=1)) == 1
    assert Booking.objects.get(pk=booking.pk).status == B.NO_SHOW
    assert Booking.objects.get(pk=attended.pk).status == B.ATTENDED
    assert bookings.mark_no_shows(now=slot.ends_at + dt.timedelta(hours=3)) == 0


def test_reminders_once_the_day_before(world, svc):
    slot = svc["slot"]
    booking, _ = book_as(world, 0, slot)
    book_as(world, 1, slot)
    book_as(world, 2, slot)   # waiting: not reminded
    assert bookings.remind(now=slot.starts_at - dt.timedelta(hours=30)) == 0
    assert bookings.remind(now=slot.starts_at - dt.timedelta(hours=20)) == 2
    assert bookings.remind(now=slot.starts_at - dt.timedelta(hours=19)) == 0
    events = list(Event.objects.filter(verb="services.reminded"))
    assert len(events) == 2
    told = [m for _, m in notifications.messages(events)]
    assert [m.user_ids for m in told if m.user_ids == [world.users["resident"].pk]]


def test_jobs_are_registered(world):
    from linli.core import registry

    names = {job.name for job in registry.jobs()}
    assert {"services.mark_no_shows", "services.remind", "services.promote_waiting"} <= names


@pytest.fixture
def health_need(world):
    """Resident 4's household has a confirmed need under "health"."""
    from linli.community import needs
    from linli.community.models import NeedCategory

    needs.needs_install_defaults(actor=world.users["admin"], community=world.community)
    category = NeedCategory.objects.get(community=world.community, code="health")
    resident = world.residents[4]
    need = needs.household_need_add(actor=world.users["worker"], household=resident.household, category=category,
                                    reason="看病需要陪同")
    assert need.status == "confirmed"   # staff-added tags are confirmed at once
    assert not Resident.objects.filter(pk=world.residents[2].pk, household=resident.household).exists()
    return need


def test_rules_who_may(world, svc):
    from linli.services import rules

    u, y = world.users, world.community
    assert rules.resident_of(u["resident"]) == world.residents[0] and rules.resident_of(u["worker"]) is None
    assert rules.is_office(u["admin"], y) and rules.is_office(u["worker"], y) and not rules.is_office(u["secretary"], y)
    assert rules.may_manage(u["worker"], y) and not rules.may_manage(u["z_worker"], y)
    assert rules.is_provider_staff(u["unit_staff"], svc["provider"]) and not rules.is_provider_staff(u["worker"],
                                                                                                  svc["provider"])
    for name in ("admin", "secretary", "leader", "unit_staff"):
        assert rules.may_request_room(u[name], y), name
    for name in ("resident", "grid1", "supervisor", "z_worker", "nobody"):
        assert not rules.may_request_room(u[name], y), name
    for name in ("admin", "secretary", "supervisor", "unit_staff"):
        assert rules.may_read_counts(u[name], y), name
    for name in ("resident", "grid1", "leader", "z_worker", "nobody"):
        assert not rules.may_read_counts(u[name], y), name
    assert not rules.may_read_counts(None, y)
