"""The friendship canteen, walked as people would in the browser (issue 12, "Done when").

1. An elder (83, living alone, delivery allowed, the 80+ rule pays half) on a 360-px phone in
   large-text mode opens this week's menu, orders a delivered lunch, sees what they pay after the
   subsidy, and finds it in "my orders".
2. The delivery volunteer on a phone opens today's round, marks the elder's stop delivered (with a
   photo) and another elder living alone not at home: a welfare check is opened at once; the grid
   worker of that courtyard signs in and finds it in today's work, the case list and the inbox.
3. axe-core (WCAG 2.1 AA) finds nothing on the residents' canteen pages — the week's menu, a meal's
   order form and its check step, my orders, an order, the cancel confirmation — at the standard size and in large-text mode;
   nothing wider than a 360-px phone, nothing sticking out of the main column; the main content's
   tap targets 44 px.

The world is set up with the apps' services; what the people do goes through the pages.
Screenshots: under each test's tmp dir (``canteen-*.png``), to be looked at.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from factories import PASSWORD, _user, make_id_number, make_phone
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
DESKTOP = dict(viewport={"width": 1280, "height": 860})
PRICE_FEN = 1500  # the set lunch: 15.00 yuan; the 80+ rule pays half, 7.50 yuan


def _context(browser, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **(options or PHONE))
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
    page.screenshot(path=str(where / f"canteen-{name}.png"), full_page=True)
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


def _words(function, *args) -> str:
    """What a page says in Chinese, by the pages' own wording (whatever the catalogue holds now)."""
    with translation.override("zh-hans"):
        return str(function(*args))


# --- the world: a canteen, today's lunch, two elders living alone, a delivery volunteer -----------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def elder(world):
    """An elder of 83 living alone in courtyard 1 (G01-1栋 1单元 201), signed in as ``elder``."""
    from linli.community.models import Unit
    from linli.community.services import ResidentFacts, household_get_or_create, resident_create

    unit = Unit.objects.get(building=world.buildings[0], number="1")
    household, _ = household_get_or_create(actor=None, unit=unit, room="201")
    birth = dt.date(timezone.localdate().year - 83, 3, 3)
    resident = resident_create(actor=None, household=household, tags=[world.tags["alone"]], facts=ResidentFacts.clean(
        name="周桂芳", id_number=make_id_number(birth, 777), phone=make_phone(777), relation="head"))
    resident.user = world.users["elder"] = _user("elder")
    resident.save(update_fields=["user"])
    return resident


@pytest.fixture
def canteen(world):
    """The friendship canteen of Y (in courtyard 1), its partner, the 80+ rule (half) and dishes."""
    from linli.canteen import canteens, menus, subsidies
    from linli.points import partners

    admin = world.users["admin"]
    partner = partners.partner_create(actor=admin, community=world.community, name="友谊食堂", kind="canteen")
    canteen = canteens.canteen_create(actor=admin, community=world.community, name="友谊食堂", partner=partner,
                                      place="1号院东侧", grid=world.grids[0])
    subsidies.rule_set(actor=admin, canteen=canteen, criterion="age_80", percent=50)
    dishes = [
        menus.dish_create(actor=admin, canteen=canteen, name="清蒸鲈鱼", price_fen=800, tags=["low_salt", "soft"]),
        menus.dish_create(actor=admin, canteen=canteen, name="南瓜小米粥", price_fen=300, tags=["low_sugar", "soft"]),
        menus.dish_create(actor=admin, canteen=canteen, name="清炒时蔬", price_fen=400, tags=["vegetarian"]),
    ]
    return canteen, dishes


@pytest.fixture
def lunch(world, canteen):
    """Today's lunch, published; its cut-off an hour away and its serving two hours away, whatever
    the clock says (the meal's datetimes are set by hand after the service made it)."""
    from linli.canteen import menus
    from linli.canteen.models import Meal

    canteen, dishes = canteen
    today = timezone.localdate()
    meal = menus.meal_create(actor=world.users["admin"], canteen=canteen, day=today,
                             kind="lunch", price_fen=PRICE_FEN, onsite_capacity=40, delivery_capacity=10,
                             dishes=dishes, publish=True)
    now = timezone.now()
    Meal.objects.filter(pk=meal.pk).update(cutoff_at=now + dt.timedelta(hours=1),
                                           starts_at=now + dt.timedelta(hours=2),
                                           ends_at=now + dt.timedelta(hours=4))
    meal.refresh_from_db()
    return meal


def _meal_url(meal) -> str:
    return reverse("canteen:meal", args=[meal.pk])


# --- 1. an elder orders a delivered lunch -----------------------------------------------------------


def test_an_elder_orders_a_delivered_lunch_on_a_phone_in_large_text(transactional_db, live_server, world, elder,
                                                                     lunch, browser, tmp_path):
    require_axe()
    from linli.canteen.models import Order

    base = live_server.url
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "elder", large=True)
        # From their home page ("我的家"), the canteen's action opens this week's menu.
        page.goto(base + reverse("my_home"))
        _click(page, f"main a[href='{reverse('canteen:week')}']")
        assert page.evaluate("document.documentElement.classList.contains('text-large')")
        text = _main(page)
        assert "清蒸鲈鱼" in text and "15.00" in text, text
        _look(page, tmp_path, "01-week")
        _click(page, f"main a[href='{_meal_url(lunch)}']")
        _look(page, tmp_path, "02-meal")
        assert "7.50" in _main(page), "the order form says what the elder pays after the subsidy"
        page.check("main input[name=where][value=delivery]")
        _click(page, "main form button[name=step][value=check]")
        _look(page, tmp_path, "03-check")
        text = _main(page)
        assert "7.50" in text and "15.00" in text, text  # the price, the subsidy and what is left to pay
        assert not Order.objects.exists()  # a check step first
        _click(page, "main form button[name=step][value=order]")
        _look(page, tmp_path, "04-ordered")
        [order] = Order.objects.all()
        assert (order.resident_id, order.delivery, order.quantity, order.channel) == (elder.pk, True, 1, "online")
        assert (order.unit_price_fen, order.subsidy_fen, order.payable_fen) == (1500, 750, 750)
        assert order.subsidy_criterion == "age_80" and order.status == "ordered"
        page.goto(base + reverse("canteen:mine"))
        text = _main(page)
        assert "7.50" in text, text
        assert page.locator(f"main a[href='{reverse('canteen:order', args=[order.pk])}']").count() == 1
        assert page.locator(f"main a[href='{reverse('canteen:cancel', args=[order.pk])}']").count() == 1
        _look(page, tmp_path, "05-my-orders")
    finally:
        context.close()


# --- 2. the delivery round: delivered, not at home, the welfare check reaches the grid worker ------------


@pytest.fixture
def round_(world, elder, lunch):
    """Two delivered lunches in courtyard 1 — the elder's and their neighbour's (77, living alone in
    G01-1栋 1单元 102) — on a round of courtyard 1 run by a volunteer (signed in as ``courier``)."""
    from linli.canteen import delivery, orders
    from linli.volunteers import volunteers

    u = world.users
    neighbour = world.residents[2]
    assert neighbour.household.residents.count() == 1 and neighbour.household.grid_id == world.grids[0].pk
    placed = {}
    for who in (elder, neighbour):
        placed[who.pk], _ = orders.order_place(actor=u["worker"], resident=who, meal=lunch, delivery=True,
                                               channel="phone")
    courier = world.residents[3]
    courier.user = u["courier"] = _user("courier")
    courier.save(update_fields=["user"])
    volunteer = volunteers.volunteer_join(actor=u["courier"], resident=courier, skills=["cleaning"],
                                          availability=["mon_am"])
    the_round = delivery.round_plan(actor=u["worker"], meal=lunch, grid=world.grids[0], volunteer=volunteer)
    return the_round, placed[elder.pk], placed[neighbour.pk]


def _stop_form(round_, order) -> str:
    return f"main form[action='{reverse('canteen:round_stop', args=[round_.pk, order.pk])}']"


def test_the_volunteer_delivers_and_a_not_at_home_elder_reaches_the_grid_worker(
        transactional_db, live_server, world, elder, round_, media, browser, tmp_path):
    require_axe()
    from linli.canteen.views_orders import status_words
    from linli.cases.models import Case
    from linli.notify.models import Notification
    from linli.notify.services import dispatch_new_events

    the_round, delivered, missed = round_
    photo = tmp_path / "at-the-door.jpg"
    Image.new("RGB", (640, 480), (180, 150, 120)).save(photo, format="JPEG")
    base = live_server.url
    phone, desk = _context(browser), _context(browser, **DESKTOP)
    try:
        page = phone.new_page()
        # The notify job (every minute in production) tells the volunteer of their round; from the inbox
        # they open it.
        dispatch_new_events(settle_seconds=0)
        _sign_in(page, base, "courier")
        page.goto(base + reverse("inbox"))
        _click(page, f"main a[href='{reverse('canteen:round', args=[the_round.pk])}']")
        text = _main(page)
        # The stops: doors and masked names, never a phone number or a whole name.
        assert "201" in text and "102" in text, text
        for who in (elder, missed.resident):
            assert who.name.reveal() not in text and who.phone.reveal() not in page.content()
        _look(page, tmp_path, "10-round")

        page.set_input_files(f"{_stop_form(the_round, delivered)} input[type=file]", str(photo))
        _click(page, f"{_stop_form(the_round, delivered)} button[value=delivered]")
        delivered.refresh_from_db()
        assert delivered.status == "delivered" and delivered.outcome_at is not None and delivered.photo
        assert delivered.welfare_case_id is None
        # The stop is done: greyed, with the time; its buttons are gone.
        done = page.locator(f"main #stop-{delivered.pk}")
        assert "done" in done.get_attribute("class")
        assert f"{timezone.localtime(delivered.outcome_at):%H:%M}" in done.inner_text()
        assert done.locator("button[value=not_home]").count() == 0
        _look(page, tmp_path, "11-delivered")

        _click(page, f"{_stop_form(the_round, missed)} button[value=not_home]")
        missed.refresh_from_db()
        assert missed.status == "not_home" and missed.welfare_case_id is not None
        case = Case.objects.get(pk=missed.welfare_case_id)
        assert (case.channel, case.urgency, case.household_id) == ("welfare", "urgent", missed.resident.household_id)
        assert case.response_due <= case.created_at + dt.timedelta(minutes=30)
        assert world.residents[2].name.reveal() not in case.description
        _look(page, tmp_path, "12-not-home")
        # The elder, on their own phone, sees the lunch delivered in "my orders".
        elder_phone = _context(browser)
        elder_page = elder_phone.new_page()
        _sign_in(elder_page, base, "elder")
        elder_page.goto(base + reverse("canteen:mine"))
        delivered.refresh_from_db()
        assert _words(status_words, delivered) in _main(elder_page), _main(elder_page)
        assert elder_page.locator(f"main a[href='{reverse('canteen:cancel', args=[delivered.pk])}']").count() == 0
        _look(elder_page, tmp_path, "13-elder-sees-delivered")
        elder_phone.close()

        # The grid worker of courtyard 1 signs in: the case is in today's work, the list, the inbox.
        office = desk.new_page()
        _sign_in(office, base, "grid1")
        office.goto(base + reverse("console"))
        office.screenshot(path=str(tmp_path / "canteen-14-grid-today.png"), full_page=True)
        # Today's work counts the new case as waiting for them (to categorise, or to accept where the
        # community has a welfare-check category); that tile opens a list that holds it.
        codes = [c for c in ("triage", "accept")
                 if office.locator(f"main ul.today a[data-today={c}]").count()
                 and office.locator(f"main ul.today a[data-today={c}] .n").inner_text().strip() == "1"]
        assert codes, office.locator("main ul.today").inner_text()
        _click(office, f"main ul.today a[data-today={codes[0]}]")
        assert case.number in _main(office), _main(office)
        office.goto(base + reverse("cases:staff_list"))
        assert case.number in _main(office), _main(office)
        office.screenshot(path=str(tmp_path / "canteen-15-grid-cases.png"), full_page=True)
        # The notify job turns the welfare check's event into the grid worker's message.
        dispatch_new_events(settle_seconds=0)
        office.goto(base + reverse("inbox"))
        assert case.number in _main(office), _main(office)
        office.screenshot(path=str(tmp_path / "canteen-16-grid-inbox.png"), full_page=True)
        _click(office, f"main a[href*='{case.number}']")
        assert "30" in _main(office)
        office.screenshot(path=str(tmp_path / "canteen-17-grid-case.png"), full_page=True)
        # The other courtyard's grid worker is not told.
        assert Notification.objects.filter(user=world.users["grid1"]).exists()
        assert not Notification.objects.filter(user=world.users["grid2"]).exists()
    finally:
        phone.close()
        desk.close()


# --- 3. axe on the residents' canteen pages, both text sizes ----------------------------------------


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large-text"])
def test_the_residents_canteen_pages_pass_axe_on_a_phone(transactional_db, live_server, world, elder, lunch,
                                                         browser, tmp_path, large):
    require_axe()
    from linli.canteen import orders

    base = live_server.url
    size = "large" if large else "standard"
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, "elder", large=large)

        def look(name, address=None):
            if address is not None:
                response = page.goto(base + address)
                assert response.status == 200, (name, response.status)
            if large:
                assert page.evaluate("document.documentElement.classList.contains('text-large')"), name
            _look(page, tmp_path, f"20-{size}-{name}")

        look("week", reverse("canteen:week"))
        look("meal", _meal_url(lunch))
        page.check("main input[name=where][value=delivery]")
        _click(page, "main form button[name=step][value=check]")
        look("check")
        order, _ = orders.order_place(actor=world.users["elder"], resident=elder, meal=lunch, delivery=True,
                                      channel="online")
        look("meal-ordered", _meal_url(lunch))
        look("mine", reverse("canteen:mine"))
        look("order", reverse("canteen:order", args=[order.pk]))
        look("cancel", reverse("canteen:cancel", args=[order.pk]))
    finally:
        context.close()
