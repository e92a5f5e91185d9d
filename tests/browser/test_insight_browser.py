"""The insight pages in the system's Chromium, at phone width, as a community worker finds them
from the menu: hot issues with their cases, an early-warning alert with the cases behind it,
the similar-cases box on a case, and households found by need tag (names masked).
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_cases_browser import PHONE, click_and_load, fits_the_phone, new_page, shot, sign_in
from tests.test_hot_issues import LAMP, raise_case
from tests.test_warnings import surge

pytestmark = pytest.mark.browser


@pytest.fixture
def insight_world(world):
    from django.utils import timezone

    from linli.cases.defaults import install_default_categories
    from linli.cases.models import Case, Category
    from linli.community.needs import needs_install_defaults, needs_recompute
    from linli.insight import early_warning, hotissues

    install_default_categories(actor=world.users["admin"], community=world.community)
    world.categories = {c.code: c for c in Category.objects.filter(community=world.community)}
    # A quiet past for the noise series, then a surge today; three reports of one broken lamp.
    today = timezone.localdate()
    Case.objects.bulk_create([
        Case(community=world.community, number=f"Y-{today - dt.timedelta(days=back):%Y%m%d}-9001",
             channel=Case.Channel.WEB, description="楼下音响太吵",
             category=world.categories["noise"], grid=world.grids[0],
             created_at=timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=back), dt.time(10))))
        for back in range(5, 90, 5)])
    surge(world, 8)
    world.lamp = [raise_case(world, text, resident=i) for i, text in enumerate(LAMP)]
    hotissues.refresh(world.community.pk)
    early_warning.scan(world.community.pk)
    needs_install_defaults(actor=None, community=world.community)
    needs_recompute(community=world.community)
    return world


def test_a_worker_reads_hot_issues_alerts_and_needs(transactional_db, live_server, insight_world, browser):
    w = insight_world
    context, page = new_page(browser, **PHONE)
    try:
        sign_in(page, live_server.url, "worker")
        click_and_load(page, "header nav a >> text=Hot issues")
        assert page.locator("main h1").inner_text() == "Hot issues"
        assert "幸福里" in page.inner_text("main")
        assert fits_the_phone(page)
        shot(page, "insight-01-phone-hot-issues")
        click_and_load(page, "main a:has-text('幸福里') >> nth=0")
        for case in w.lamp:
            assert case.number in page.inner_text("main")
        shot(page, "insight-02-phone-hot-issue")

        click_and_load(page, "header nav a >> text=Alerts")
        assert page.locator("main table tbody tr").count() >= 1
        shot(page, "insight-03-phone-alerts")
        click_and_load(page, "main a:has-text('Noise') >> nth=0")
        shot(page, "insight-04-phone-alert")
        assert page.locator("main a.num, main td a").count() >= 8  # the cases behind it
        assert fits_the_phone(page)

        page.goto(f"{live_server.url}/cases/console/{w.lamp[0].number}/")
        similar = page.locator("section.similar")
        assert w.lamp[1].number in similar.inner_text() or w.lamp[2].number in similar.inner_text()
        shot(page, "insight-05-phone-case-similar")

        click_and_load(page, "header nav a >> text=Needs")
        heads = page.locator("main .card dd, main td").all_inner_texts()
        masked = [t for t in heads if "*" in t]
        assert masked and all(len(t) <= 4 for t in masked)  # 刘**3: names masked, never whole
        assert fits_the_phone(page)
        shot(page, "insight-06-phone-needs")
    finally:
        context.close()
