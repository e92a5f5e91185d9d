"""The bookings pages: residents' (phone-sized, one button per action, large text) and the office
and provider staff's (masked names, attended / no-show, book for a resident, the dashboard)
(linli/services/views_bookings.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.views import TEXT_SIZE_COOKIE
from linli.services import bookings, catalogue
from linli.services.models import Booking, Provider, Service, Slot
from linli.services.views_bookings import dashboard_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def svc(world):
    admin = world.users["admin"]
    provider = catalogue.provider_create(actor=admin, community=world.community, name="法律援助站",
                                         organisation=world.property_company)
    service = catalogue.service_create(actor=admin, community=world.community, provider=provider, code="legal",
                                       name="法律咨询", kind="legal", place="法律援助室")
    slots = catalogue.slots_create(actor=admin, service=service, day=timezone.localdate() + dt.timedelta(days=1),
                                   start=dt.time(9, 0), end=dt.time(10, 0), every_minutes=30, capacity=1)
    return {"provider": provider, "service": service, "slots": slots, "slot": slots[0]}


def login(world, name, **extra) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **extra)
    client.force_login(world.users[name])
    return client


def test_resident_books_from_the_index_through_the_confirm_page(world, svc):
    client = login(world, "resident")
    client.cookies[TEXT_SIZE_COOKIE] = "large"
    index = client.get("/services/")
    html = index.content.decode()
    assert index.status_code == 200 and "法律咨询" in html and 'class="text-large"' in html
    assert f"/services/slot/{svc['slot'].pk}/book/" in html
    detail = client.get("/services/s/legal/").content.decode()
    assert "1 place left" in detail
    confirm = client.get(f"/services/slot/{svc['slot'].pk}/book/").content.decode()
    assert "Book this time" in confirm and "counts as a no-show" in confirm
    done = client.post(f"/services/slot/{svc['slot'].pk}/book/")
    assert done.status_code == 302 and done["Location"] == "/services/mine/"
    booking = Booking.objects.get(resident=world.residents[0])
    assert booking.status == "booked" and booking.channel == "online"
    mine = client.get("/services/mine/").content.decode()
    assert "法律咨询" in mine and f"/services/booking/{booking.pk}/cancel/" in mine


def test_full_time_offers_the_waiting_list_and_refusals_show_in_words(world, svc):
    bookings.book(actor=world.users["worker"], slot=svc["slot"], resident=world.residents[1], channel="phone")
    client = login(world, "resident")
    page = client.get(f"/services/slot/{svc['slot'].pk}/book/").content.decode()
    assert "Join the waiting list" in page
    client.post(f"/services/slot/{svc['slot'].pk}/book/")
    assert Booking.objects.get(resident=world.residents[0]).status == "waiting"
    again = client.post(f"/services/slot/{svc['slot'].pk}/book/")
    assert again.status_code == 409 and "already have a booking" in again.content.decode()


def test_residents_pages_refuse_other_people_and_communities(world, svc):
    booking, _ = bookings.book(actor=world.users["worker"], slot=svc["slot"], resident=world.residents[1],
                               channel="phone")
    client = login(world, "resident")
    assert client.get(f"/services/booking/{booking.pk}/cancel/").status_code == 404
    assert client.post(f"/services/booking/{booking.pk}/cancel/").status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == "booked"
    assert Client().get("/services/").status_code == 302   # sign in first
    staff = login(world, "worker").get("/services/").content.decode()
    assert "not linked to a resident" in staff


def test_office_pages_and_who_reaches_them(world, svc):
    code = world.community.code
    office = login(world, "worker")
    assert office.get(f"/services/{code}/office/").status_code == 200
    assert office.get(f"/services/{code}/office/service/{svc['service'].pk}/").status_code == 200
    assert office.get(f"/services/{code}/office/slot/{svc['slot'].pk}/").status_code == 200
    staff = login(world, "unit_staff")   # the provider's organisation
    assert staff.get(f"/services/{code}/office/slot/{svc['slot'].pk}/").status_code == 200
    for name in ("resident", "grid1", "leader", "z_worker"):
        assert login(world, name).get(f"/services/{code}/office/slot/{svc['slot'].pk}/").status_code in (403, 404), name
    # The street supervisor reads the dashboard (counts), not the day list.
    supervisor = login(world, "supervisor")
    assert supervisor.get(f"/services/{code}/office/dashboard/").status_code == 200
    assert supervisor.get(f"/services/{code}/office/slot/{svc['slot'].pk}/").status_code == 404


def test_office_adds_a_provider_a_service_and_a_series(world):
    code = world.community.code
    office = login(world, "admin")
    office.post(f"/services/{code}/office/", {"action": "provider", "p-name": "理发志愿队", "p-description": ""})
    provider = Provider.objects.get(name="理发志愿队")
    made = office.post(f"/services/{code}/office/", {
        "action": "service", "s-provider": provider.pk, "s-code": "cut", "s-name": "义剪", "s-kind": "haircut",
        "s-place": "活动室", "s-need_categories": "elderly-care", "s-cancel_hours": 2, "s-max_active": 2,
        "s-no_show_limit": 3})
    service = Service.objects.get(code="cut")
    assert made.status_code == 302 and service.need_categories == ["elderly-care"]
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    office.post(f"/services/{code}/office/service/{service.pk}/", {
        "action": "series", "day": day, "start": "14:00", "end": "16:00", "every_minutes": 30, "capacity": 3,
        "priority_places": 1})
    assert Slot.objects.filter(service=service).count() == 4
    # Provider staff may not add providers.
    assert login(world, "unit_staff").post(f"/services/{code}/office/", {"action": "provider", "p-name": "x"}
                                           ).status_code in (403, 404)


def test_day_list_masks_names_and_marks_attendance(world, svc):
    code = world.community.code
    slot = svc["slot"]
    booking, _ = bookings.book(actor=world.users["worker"], slot=slot, resident=world.residents[0], channel="phone")
    staff = login(world, "unit_staff")
    html = staff.get(f"/services/{code}/office/slot/{slot.pk}/").content.decode()
    full = world.residents[0].name.reveal()
    assert full not in html and world.residents[0].name.masked in html
    # Before the start there are no marking buttons; marking is refused in words.
    assert 'value="attended"' not in html
    Slot.objects.filter(pk=slot.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5),
                                           ends_at=timezone.now() + dt.timedelta(minutes=25))
    html = staff.get(f"/services/{code}/office/slot/{slot.pk}/").content.decode()
    assert 'value="attended"' in html and "Did not come" in html
    staff.post(f"/services/{code}/office/slot/{slot.pk}/", {"action": "attended", "booking": booking.pk})
    assert Booking.objects.get(pk=booking.pk).status == "attended"


def test_staff_book_a_walk_in_by_the_residents_code(world, svc):
    from linli.points import tokens

    code = world.community.code
    slot = svc["slots"][1]
    token = tokens.resident_token(world.residents[2])
    staff = login(world, "unit_staff")
    staff.post(f"/services/{code}/office/slot/{slot.pk}/", {"action": "book", "qr": token, "channel": "walk_in"})
    booking = Booking.objects.get(resident=world.residents[2])
    assert booking.channel == "walk_in" and booking.booked_by == world.users["unit_staff"]


def test_dashboard_counts_without_names(world, svc):
    code = world.community.code
    slot = svc["slot"]
    booking, _ = bookings.book(actor=world.users["worker"], slot=slot, resident=world.residents[0], channel="phone")
    bookings.mark(actor=world.users["worker"], booking=booking, attended=True, at=slot.starts_at)
    rows = dashboard_rows(world.community, now=slot.ends_at + dt.timedelta(hours=1))
    row = rows[0]
    assert row["offered"] == 2 and row["attended"] == 1 and row["used"] == 50
    html = login(world, "supervisor").get(f"/services/{code}/office/dashboard/").content.decode()
    assert "<svg" in html and "法律咨询" in html and world.residents[0].name.reveal() not in html


def test_office_nav_offers_only_sections_the_account_may_open(world, svc):
    code = world.community.code
    supervisor = login(world, "supervisor").get(f"/services/{code}/office/dashboard/").content.decode()
    assert f"/services/{code}/office/rooms/" not in supervisor and f"/services/{code}/office/events/" not in supervisor
    worker = login(world, "worker").get(f"/services/{code}/office/dashboard/").content.decode()
    assert f"/services/{code}/office/rooms/" in worker and f"/services/{code}/office/events/" in worker
