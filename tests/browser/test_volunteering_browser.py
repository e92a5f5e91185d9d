"""Neighbours who help, walked as people would in the browser (issue 11, "Done when").

1. An organiser (the party secretary) opens the activity's QR page on their phone at the site; the
   volunteer's phone opens the URL the QR carries and is checked in; later the organiser shows the
   check-out code and the volunteer checks out: the record waits for approval.
2. A resident opens the catalogue, redeems a meal online (with the confirm step) and sees the
   balance drop, on the catalogue and on their points page.
3. axe-core (WCAG 2.1 AA) finds nothing on the residents' pages — join, activities, an activity,
   my points, the catalogue, my QR — at the standard size and in large-text mode; nothing wider
   than a 360-px phone; the main content's tap targets 44 px.

The world is set up with services; everything the people do goes through the pages.
Screenshots: under each test's tmp dir (``volunteering-*.png``), to be looked at.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import segno
from django.urls import reverse
from django.utils import timezone

from factories import PASSWORD
from tests.browser.axe import describe, require_axe, violations
from tests.browser.test_accessibility_browser import SMALL_TARGETS

pytestmark = pytest.mark.browser

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


def _look(page, where, name: str, *, targets: bool = True) -> None:
    """A screenshot, Chinese, axe (WCAG 2.1 AA), nothing wider than the phone, 44-px targets."""
    page.screenshot(path=str(where / f"volunteering-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang").lower().startswith("zh"), f"{name}: not Chinese"
    found = violations(page)
    assert not found, f"{name}: axe found\n{describe(found)}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: wider than the phone"
    if targets:
        small = page.evaluate(SMALL_TARGETS)
        assert not small, f"{name}: tap targets under 44 px: {small}"


def _click(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _activity_soon(world, *, minutes=20):
    """An activity in G01 starting in ``minutes`` (check-in opens 30 minutes before), organised by
    the party secretary; the signed-in resident volunteers and is signed up."""
    from linli.volunteers import activities, volunteers

    now = timezone.now()
    u = world.users
    volunteer = volunteers.volunteer_join(actor=u["resident"], resident=world.residents[0], skills=["cleaning"],
                                          availability=["mon_am"])
    activity = activities.activity_create(
        actor=u["secretary"], community=world.community, title="院坝清扫", activity_type="cleanup",
        starts_at=now + dt.timedelta(minutes=minutes), ends_at=now + dt.timedelta(minutes=minutes + 120), slots=4,
        place="1号院院坝", grid=world.grids[0], description="带好手套。")
    activities.signup(actor=u["resident"], activity=activity, volunteer=volunteer)
    return activity, volunteer


PATH_D = re.compile(r'<path[^>]*class="qrline"[^>]*\sd="([^"]+)"')  # the dark modules


def _scan_url(page, base, activity, purpose: str) -> str:
    """The URL the QR on the organiser's page carries. No QR decoder is installed, so the scan URL
    of the current (or the previous) 30-second window is drawn with segno, as the contract names,
    and its modules compared with the code on the screen: equal modules, the same URL."""
    from linli.volunteers import qr

    shown = PATH_D.findall(page.locator("main .qr-box svg").first.evaluate("e => e.outerHTML"))
    assert shown, "no QR on the page"
    now = timezone.now()
    for at in (now, now - dt.timedelta(seconds=30)):
        code = qr.code_for(activity, purpose=purpose, at=at)
        candidate = base + reverse("volunteers:scan", args=[activity.pk, purpose, code])
        drawn = segno.make(candidate, error="m").svg_inline(scale=8, border=2)
        if PATH_D.findall(drawn) == shown:
            return candidate
    raise AssertionError("the QR on the page carries no scan URL of this activity's current code")


# --- 1. the organiser shows the QR, the volunteer checks in and out ------------------------------


def test_an_organiser_shows_the_qr_and_a_volunteer_checks_in_and_out(transactional_db, live_server, world,
                                                                     browser, tmp_path):
    require_axe()
    from linli.volunteers.models import ServiceRecord

    base = live_server.url
    activity, volunteer = _activity_soon(world)
    organiser, phone = _context(browser), _context(browser)
    try:
        page = organiser.new_page()
        _sign_in(page, base, "secretary")
        qr_url = reverse("volunteers:qr", kwargs=_kwargs("volunteers:qr", activity))
        page.goto(base + qr_url)
        assert page.locator("main .qr-box svg").count() == 1  # the code itself, drawn as SVG
        _look(page, tmp_path, "01-organiser-qr-in")
        scan = _scan_url(page, base, activity, "in")
        # The URL names the activity, the purpose and the code: nothing of the volunteer.
        assert volunteer.resident.name.reveal() not in scan and volunteer.resident.phone.reveal() not in scan

        mobile = phone.new_page()
        _sign_in(mobile, base, "resident")
        mobile.goto(scan)
        record = ServiceRecord.objects.get(activity=activity, volunteer=volunteer)
        assert (record.source, record.status, record.check_out_at) == ("qr", "open", None)
        _look(mobile, tmp_path, "02-volunteer-checked-in")
        page.reload()
        assert page.locator("#qr-count").inner_text().strip() == "1"  # the organiser sees one checked in

        # Later: the organiser switches to the check-out code; the volunteer scans it.
        _click(page, "nav.qr-switch a[href='?purpose=out']")
        _look(page, tmp_path, "03-organiser-qr-out")
        scan_out = _scan_url(page, base, activity, "out")
        assert scan_out != scan
        mobile.goto(scan_out)
        record.refresh_from_db()
        assert record.status == "pending" and record.check_out_at is not None and record.minutes is not None
        _look(mobile, tmp_path, "04-volunteer-checked-out")
        # The same check-in code scanned again is refused in words; nothing changes.
        response = mobile.goto(scan)
        assert response.status in (400, 409), response.status
        assert ServiceRecord.objects.filter(activity=activity).count() == 1
        _look(mobile, tmp_path, "05-volunteer-scans-again")
    finally:
        organiser.close()
        phone.close()


def _kwargs(name, *objects):
    from test_roles_volunteering import _params

    values = iter(objects)
    return {p: "Y" if p in ("code", "community") else next(values).pk for p in _params(name)}


# --- 2. a resident redeems a meal -------------------------------------------------------------------


@pytest.fixture
def canteen(world):
    from linli.points import catalogue, earning, partners

    u = world.users
    partner = partners.partner_create(actor=u["admin"], community=world.community, name="幸福食堂", kind="canteen")
    item = catalogue.item_create(actor=u["admin"], community=world.community, partner=partner, code="lunch",
                                 name="午餐一份", kind="meal", points=12, stock=5, description="两荤一素")
    earning.grant(actor=u["admin"], resident=world.residents[0], points=40, source=("tests.browser", "r0"),
                  memo="服务奖励")
    return item


def test_a_resident_redeems_a_meal_and_sees_the_balance_drop(transactional_db, live_server, world, canteen, browser,
                                                            tmp_path):
    require_axe()
    from linli.points import ledger
    from linli.points.models import Redemption

    base = live_server.url
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "resident")
        page.goto(base + reverse("points:mine"))
        assert "40" in page.locator("main").inner_text()
        _look(page, tmp_path, "10-my-points")
        page.goto(base + reverse("points:catalogue"))
        assert "午餐一份" in page.locator("main").inner_text()
        _look(page, tmp_path, "11-catalogue")
        _click(page, f"main form:has(input[name=item][value='{canteen.pk}']) button[value=confirm]")
        _look(page, tmp_path, "12-confirm")
        assert Redemption.objects.count() == 0  # a confirm step first
        _click(page, "main form button[value=redeem]")
        _look(page, tmp_path, "13-redeemed")
        [redemption] = Redemption.objects.all()
        assert (redemption.points, redemption.channel, redemption.resident_id) == (12, "online", world.residents[0].pk)
        assert ledger.balance(ledger.account_for(world.residents[0])) == 28
        canteen.refresh_from_db()
        assert canteen.stock == 4
        assert "28" in page.locator("main").inner_text()
        page.goto(base + reverse("points:mine"))
        assert "28" in page.locator("main").inner_text()
        _look(page, tmp_path, "14-my-points-after")
    finally:
        context.close()


# --- 3. axe on the residents' pages, both text sizes -------------------------------------------------


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large-text"])
def test_the_residents_pages_pass_axe_on_a_phone(transactional_db, live_server, world, canteen, browser, tmp_path,
                                                 large):
    require_axe()
    base = live_server.url
    activity, _volunteer = _activity_soon(world, minutes=60 * 24)
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "resident", large=large)
        pages = [("join", reverse("volunteers:join")), ("activities", reverse("volunteers:activities")),
                 ("activity", reverse("volunteers:activity", kwargs=_kwargs("volunteers:activity", activity))),
                 ("my-points", reverse("points:mine")), ("catalogue", reverse("points:catalogue")),
                 ("my-qr", reverse("points:my_qr"))]
        size = "large" if large else "standard"
        for name, address in pages:
            response = page.goto(base + address)
            assert response.status == 200, (name, response.status)
            if large:
                assert page.evaluate("document.documentElement.classList.contains('text-large')"), name
            _look(page, tmp_path, f"20-{size}-{name}")
        # The counter QR: an SVG code, refreshed by a small script, with a link that works without it.
        page.goto(base + reverse("points:my_qr"))
        assert page.locator("main svg").count() >= 1
        assert page.locator(f"main a[href*='{reverse('points:my_qr')}']").count() >= 1
    finally:
        context.close()
