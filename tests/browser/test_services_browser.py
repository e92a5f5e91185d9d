"""Bookable services and activities for all ages, walked as people would in the browser (issue 12).

1. A resident on a phone books a haircut — services → 义剪 → a slot → confirm — and finds it in "my
   bookings"; a second resident tries the same slot, now full, and is offered the waiting list.
2. axe-core (WCAG 2.1 AA) finds nothing on the residents' pages — the services index, a service, the
   booking confirmation, my bookings, cancelling one, the events calendar, an event, my sign-ups — at
   the standard size and in large-text mode; nothing wider than a 360-px phone, nothing sticking out
   of the main column; the main content's tap targets 44 px.

The world is set up with the apps' services; what the people do goes through the pages.
Screenshots: under each test's tmp dir (``services-*.png``), to be looked at.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from factories import PASSWORD, _user
from tests.browser.axe import describe, require_axe, violations
from tests.browser.test_accessibility_browser import SMALL_TARGETS

pytestmark = pytest.mark.browser

# Whatever sticks out of the main column's content box (past its padding): a chip, a table or a
# word that does not wrap spills over its card even where the page is not wider than the phone.
SPILLS = """() => { const m = document.querySelector('main'); if (!m) return [];
  const box = m.getBoundingClientRect(), pad = parseFloat(getComputedStyle(m).paddingRight) || 0;
  const edge = box.right - pad + 1;
  return [...m.querySelectorAll('*')].filter(e => e.getClientRects().length && e.offsetWidth > 0)
    .filter(e => e.getBoundingClientRect().right > edge)
    .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${(e.innerText || '').trim().slice(0, 30)}`); }"""

PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)


def _context(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    return context


def _sign_in(page, base, username, *, large=False):
    page.goto(f"{base}/accounts/login/")
    if large:
        with page.expect_navigation():
            page.click("form.text-size button")
        assert page.evaluate("document.documentElement.classList.contains('text-large')")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")


def _look(page, where, name: str) -> None:
    """A screenshot, Chinese, axe (WCAG 2.1 AA), nothing wider than the phone, 44-px targets."""
    page.screenshot(path=str(where / f"services-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang").lower().startswith("zh"), f"{name}: not Chinese"
    found = violations(page)
    assert not found, f"{name}: axe found\n{describe(found)}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: wider than the phone"
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"{name}: tap targets under 44 px: {small}"
    spills = page.evaluate(SPILLS)
    assert not spills, f"{name}: sticks out of the main column: {spills}"


def _click(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _main(page) -> str:
    return page.locator("main").inner_text()


# --- the world: haircuts tomorrow morning, one place of the first slot already taken ---------------


@pytest.fixture
def haircut(world):
    """义剪 of Y: tomorrow 09:00–10:00 in two slots of two places; the office has booked one place of
    the first slot for a resident by phone. A second resident signs in as ``neighbour``."""
    from linli.services import bookings, catalogue

    u = world.users
    y = world.community
    provider = catalogue.provider_create(actor=u["admin"], community=y, name="红枫理发志愿队",
                                         description="每月两次上门和到站理发")
    service = catalogue.service_create(actor=u["admin"], community=y, provider=provider, code="haircut",
                                       name="义剪", kind="haircut", place="党群服务中心一楼",
                                       description="老人优先，带上围布更方便")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    slots = catalogue.slots_create(actor=u["admin"], service=service, day=tomorrow, start=dt.time(9),
                                   end=dt.time(10), every_minutes=30, capacity=2)
    assert len(slots) == 2
    bookings.book(actor=u["worker"], slot=slots[0], resident=world.residents[5], channel="phone")
    neighbour = world.residents[4]
    neighbour.user = u["neighbour"] = _user("neighbour")
    neighbour.save(update_fields=["user"])
    return service, slots


@pytest.fixture
def family_event(world):
    """A families' afternoon of Y tomorrow, twenty places."""
    from linli.services import events

    start = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(15)))
    return events.event_create(actor=world.users["admin"], community=world.community, title="亲子手工课",
                               audience="families", starts_at=start, ends_at=start + dt.timedelta(hours=2),
                               capacity=20, place="党群服务中心二楼活动室", description="用旧纸盒做小房子。")


# --- 1. a haircut, then the waiting list ----------------------------------------------------------


def test_a_resident_books_a_haircut_and_the_next_one_is_offered_the_waiting_list(
        transactional_db, live_server, world, haircut, browser, tmp_path):
    require_axe()
    from linli.services.models import Booking

    service, slots = haircut
    first = slots[0]
    base = live_server.url
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "resident")
        # From their home page ("我的家"), "book a service" opens the services.
        page.goto(base + reverse("my_home"))
        _click(page, f"main a[href='{reverse('services:index')}']")
        assert "义剪" in _main(page)
        _look(page, tmp_path, "01-index")
        _click(page, f"main a[href='{reverse('services:service', args=[service.code])}']")
        assert "09:00" in _main(page) and "09:30" in _main(page), _main(page)
        _look(page, tmp_path, "02-service")
        _click(page, f"main a[href='{reverse('services:book', args=[first.pk])}']")
        _look(page, tmp_path, "03-confirm")
        assert page.locator("main .warn-box").count() == 0  # a place is left: no waiting list offered
        assert not Booking.objects.filter(resident=world.residents[0]).exists()  # a confirm step first
        _click(page, "main form button[type=submit]")
        _look(page, tmp_path, "04-booked")
        booking = Booking.objects.get(resident=world.residents[0])
        assert (booking.slot_id, booking.status, booking.channel) == (first.pk, "booked", "online")
        first.refresh_from_db()
        assert first.booked == first.capacity == 2
        page.goto(base + reverse("services:mine"))
        assert "义剪" in _main(page) and "09:00" in _main(page), _main(page)
        _look(page, tmp_path, "05-mine")
    finally:
        context.close()

    # A second resident: the first slot is full now; the confirm page offers the waiting list.
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "neighbour")
        page.goto(base + reverse("services:service", args=[service.code]))
        _look(page, tmp_path, "06-service-full")
        page.goto(base + reverse("services:book", args=[first.pk]))
        _look(page, tmp_path, "07-confirm-full")
        # Full: the page says so and offers the waiting list instead of a place.
        assert page.locator("main .warn-box").count() == 1
        assert page.locator("main form button[type=submit]").count() == 1
        _click(page, "main form button[type=submit]")
        _look(page, tmp_path, "08-waiting")
        booking = Booking.objects.get(resident=world.residents[4])
        assert (booking.slot_id, booking.status) == (first.pk, "waiting")
        first.refresh_from_db()
        assert first.booked == 2  # never over capacity
        page.goto(base + reverse("services:mine"))
        assert "义剪" in _main(page) and "09:00" in _main(page), _main(page)  # listed, with its place in line
        assert page.locator(f"main a[href='{reverse('services:cancel', args=[booking.pk])}']").count() == 1
        _look(page, tmp_path, "09-mine-waiting")
    finally:
        context.close()


# --- 2. axe on the residents' services pages, both text sizes --------------------------------------


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large-text"])
def test_the_residents_services_pages_pass_axe_on_a_phone(transactional_db, live_server, world, haircut,
                                                          family_event, browser, tmp_path, large):
    require_axe()
    from linli.services import bookings, events

    service, slots = haircut
    booking, _ = bookings.book(actor=world.users["resident"], slot=slots[1], resident=world.residents[0],
                               channel="online")
    events.signup(actor=world.users["resident"], event=family_event, resident=world.residents[0], party_size=2)
    base = live_server.url
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "resident", large=large)
        pages = [("index", reverse("services:index")), ("service", reverse("services:service", args=[service.code])),
                 ("book", reverse("services:book", args=[slots[0].pk])), ("mine", reverse("services:mine")),
                 ("cancel", reverse("services:cancel", args=[booking.pk])),
                 ("events", reverse("services:events")), ("event", reverse("services:event", args=[family_event.pk])),
                 ("my-events", reverse("services:my_events"))]
        size = "large" if large else "standard"
        for name, address in pages:
            response = page.goto(base + address)
            assert response.status == 200, (name, response.status)
            if large:
                assert page.evaluate("document.documentElement.classList.contains('text-large')"), name
            _look(page, tmp_path, f"20-{size}-{name}")
        page.goto(base + reverse("services:events"))
        assert "亲子手工课" in _main(page), _main(page)
        page.goto(base + reverse("services:mine"))  # my bookings and my sign-ups link both ways
        assert page.locator(f"main a[href='{reverse('services:my_events')}']").count() >= 1
    finally:
        context.close()
