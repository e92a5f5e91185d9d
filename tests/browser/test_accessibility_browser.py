"""The residents' pages against WCAG 2.1 AA with axe-core, in the system Chromium, on a phone,
in Chinese, at the standard size and in large-text mode (MIIT 适老化): no violation, nothing
wider than the screen, and every button and link of the page's own content a 44-px target.

Screenshots go to tests/artifacts/a11y-*.png (git-ignored) to be looked at.
"""

from __future__ import annotations

import pytest

from tests.browser.axe import describe, require_axe, violations
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)

# Tap targets: the main content's buttons and the links that stand alone (not inside a sentence or
# a table cell), which WCAG 2.5.5 and the MIIT guidelines ask to be large.
SMALL_TARGETS = """() => [...document.querySelectorAll(
  'main button, main a.button, main input[type=submit], main input[type=radio], main input[type=checkbox],'
  + ' header button, nav.main a')]
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect();
    const box = (e.type === 'radio' || e.type === 'checkbox') && e.labels && e.labels[0]
      ? e.labels[0].getBoundingClientRect() : r;
    return {text: (e.innerText || e.value || e.name || '').trim().slice(0, 30), w: box.width, h: box.height}; })
  .filter(t => t.h < 44 || t.w < 44)"""


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")


def check(page, name):
    page.screenshot(path=str(ARTIFACTS / f"a11y-{name}.png"), full_page=True)
    found = violations(page)
    assert not found, f"{name}: axe found\n{describe(found)}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: wider than the phone"
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"{name}: tap targets under 44 px: {small}"


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _own_request(world):
    from linli.cases import services
    from linli.cases.models import Case

    resident = world.residents[0]
    case, _ = services.case_submit(actor=world.users["resident"], intake=services.Intake(
        community=world.community, channel=Case.Channel.WEB, reporter=resident,
        description="楼道的灯坏了一个星期，晚上下楼看不清台阶。", place=Case.Place.HOME,
        household=resident.household))
    return case


@pytest.mark.parametrize("size", ["normal", "large"])
def test_residents_pages_pass_axe_at_both_sizes(transactional_db, live_server, world, browser, phone, size,
                                                 settings):
    require_axe()
    settings.LINLI_ANONYMOUS_INTAKE = True
    case = _own_request(world)
    base = live_server.url
    page = phone
    page.goto(f"{base}/accounts/login/")
    if size == "large":
        with page.expect_navigation():
            page.click("form.text-size button")
        assert page.evaluate("document.documentElement.classList.contains('text-large')")
    check(page, f"{size}-01-sign-in")
    page.goto(f"{base}/cases/report/")
    check(page, f"{size}-02-anonymous-report")
    sign_in(page, base, "resident")
    paths = ["/me/", "/cases/", "/cases/new/", f"/cases/{case.number}/", "/inbox/"]
    for n, path in enumerate(paths, start=3):
        page.goto(base + path)
        check(page, f"{size}-{n:02d}-{path.strip('/').split('/')[0]}-{n}")
    if size == "large":
        # Large text really is larger: the body's text is at least 20 px.
        assert float(page.evaluate("getComputedStyle(document.body).fontSize").rstrip("px")) >= 20
