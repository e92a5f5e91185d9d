"""A grid worker's day in the registry, in the system's Chromium (never a downloaded one).

Screenshots of every step go to tests/artifacts/ (git-ignored), so that people
can look at the pages as a phone and a desktop show them.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def new_page(browser, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def click_and_load(page, selector):
    """Click something that navigates, and wait until the new page (with its CSS) has loaded."""
    with page.expect_navigation():
        page.click(selector)


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    click_and_load(page, "form[action='/accounts/login/'] button[type=submit]")


def assert_no_plain(page, residents, except_value=None):
    text = page.content()
    for resident in residents:
        for value in (resident.phone, resident.id_number, resident.name):
            if value is not None and value.reveal() != except_value:
                assert value.reveal() not in text


def test_grid_worker_finds_reveals_and_sees_the_event(transactional_db, live_server, world, browser):
    from linli.core.models import Event

    base = live_server.url
    target = world.residents[0]  # 王小明1, grid G01, household 0
    household = world.households[0]
    phone = target.phone.reveal()
    context, page = new_page(browser, viewport={"width": 1280, "height": 860})
    try:
        page.goto(f"{base}/accounts/login/")
        assert page.locator("h1").inner_text() == "登录"
        shot(page, "01-login")
        sign_in(page, base, "grid1")
        assert page.url == f"{base}/console/"
        assert "网格员" in page.locator("header").inner_text()
        shot(page, "02-console-grid1")

        click_and_load(page, "nav.main >> text=居民")
        page.fill("#search_query", "王")
        click_and_load(page, "button.primary")
        assert "找到 1 位居民" in page.inner_text("main")
        assert str(target.name) in page.inner_text("main")  # 王**1
        assert_no_plain(page, world.residents)
        shot(page, "03-search-by-surname")

        click_and_load(page, f"a[href='/console/households/{household.pk}/']")
        assert page.locator("h1").inner_text() == household.door
        assert str(target.phone) in page.inner_text("main")
        assert_no_plain(page, world.residents)
        shot(page, "04-household")

        click_and_load(page, f"main a[href='/console/residents/{target.pk}/'] >> nth=0")
        assert page.locator("h1").inner_text() == str(target.name)
        shot(page, "05-resident-masked")

        page.click("#field-phone summary")
        page.fill("#field-phone input[name=reason]", "电话联系上门走访")
        shot(page, "06-reveal-form")
        click_and_load(page, "#field-phone button[type=submit]")
        assert page.locator("#field-phone .plain").inner_text() == phone
        assert "?" not in page.url and phone not in page.url
        assert_no_plain(page, world.residents, except_value=phone)
        shot(page, "07-phone-revealed")
        assert Event.objects.filter(verb="resident.revealed", actor=world.users["grid1"]).count() == 1

        page.goto(f"{base}/console/residents/{target.pk}/")
        assert phone not in page.content()

        page.goto(f"{base}/console/events/")
        row = page.locator("table.events tbody tr").first
        # The event in words; its code only in the tooltip (issue 8 C5).
        assert "查看了完整信息" in row.inner_text() and "resident.revealed" not in row.inner_text()
        assert "电话联系上门走访" in row.inner_text()
        assert "grid1" in row.inner_text()
        assert phone not in page.content()
        shot(page, "08-event-log")

        click_and_load(page, "header form.signout button")
        assert page.url.startswith(f"{base}/accounts/login/")

        sign_in(page, base, "grid2")
        response = page.goto(f"{base}/console/households/{household.pk}/")
        assert response.status == 404
        assert "页面不存在" in page.inner_text("main")
        assert household.door not in page.content()
        assert_no_plain(page, world.residents)
        assert str(target.name) not in page.content()
        shot(page, "09-grid2-not-found")
    finally:
        context.close()


def test_resident_search_on_a_phone(transactional_db, live_server, world, browser):
    base = live_server.url
    context, page = new_page(
        browser, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
    )
    try:
        sign_in(page, base, "grid1")
        page.goto(f"{base}/console/residents/")
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, "10-phone-search")
        page.click("details.filters summary")
        page.fill("#search_age_min", "70")
        page.fill("#search_age_max", "60")
        click_and_load(page, "button.primary")
        assert "最大年龄小于最小年龄" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "11-phone-filter-error.png"))
        page.fill("#search_age_min", "")
        page.fill("#search_age_max", "")
        page.fill("#search_query", world.residents[3].phone.reveal())
        click_and_load(page, "button.primary")
        assert "找到 1 位居民" in page.inner_text("main")
        assert world.residents[3].phone.reveal() not in page.url
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, "12-phone-results")
        results_url = page.url
        click_and_load(page, "form.lang button[value=en]")
        assert page.url == results_url  # same search, now in English
        assert page.locator("h1").inner_text() == "Residents"
        assert "1 resident found" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, "13-phone-results-english")
        click_and_load(page, "form.lang button[value=zh-hans]")
        assert page.locator("h1").inner_text() == "居民"
        page.goto(f"{base}/console/residents/{world.residents[3].pk}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, "14-phone-resident")
    finally:
        context.close()


def test_street_overview_and_my_home_on_a_phone(transactional_db, live_server, world, browser):
    base = live_server.url
    context, page = new_page(
        browser, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
    )
    try:
        sign_in(page, base, "supervisor")
        assert page.url == f"{base}/console/"
        page.goto(f"{base}/console/street/")
        assert "Y社区" in page.inner_text("main") and "Z社区" in page.inner_text("main")
        # The wide table scrolls inside its own box; the page itself does not.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert_no_plain(page, world.residents)
        shot(page, "15-phone-street-overview")
        click_and_load(page, "header form.signout button")

        sign_in(page, base, "resident")
        assert page.url == f"{base}/me/"
        assert str(world.residents[0].phone) in page.inner_text("main")
        assert_no_plain(page, world.residents)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, "16-phone-my-home")
        response = page.goto(f"{base}/console/residents/")
        assert response.status == 403
        shot(page, "17-phone-resident-forbidden")
    finally:
        context.close()
