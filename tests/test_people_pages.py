"""The case page and the people behind it, and the resident's own pages (issue 8, C4 and C6).

* The staff case page links to the reporter's and household's pages and lists their earlier
  requests for the full view only, each link only where the viewer's registry scope reaches.
* The resident's and household's staff pages show their request history, scoped.
* The resident's home opens with the "raise a request" button and lets the resident open their
  own record in full (audited), never anyone else's.
* A resident's case page says what the request is, when the reply is due, and never prints a
  latitude or longitude; nor does the staff page.
* Opening (or acting on) a case marks its notifications read.

Examples are made up; pages are read in English (the msgids).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from linli.cases import services
from linli.cases.models import Case, Category, TimeLimit
from linli.community.services import resident_reveal
from linli.core.errors import PermissionDenied
from linli.core.models import Event
from linli.notify.models import Notification

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LAT, LON = 30.712345, 104.056789


def get(client, user, url):
    client.force_login(user)
    return client.get(url, **EN)


def visible_text(html: str) -> str:
    """What a reader sees: the page without its tags (and so without attributes) and scripts."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def submit(world, category, reporter, *, description="楼道的灯不亮了", **extra) -> Case:
    user = reporter.user or world.users["worker"]
    channel = Case.Channel.WEB if reporter.user else Case.Channel.PHONE
    fields = {"place": Case.Place.HOME, **extra}
    case, _ = services.case_submit(actor=user, intake=services.Intake(
        community=world.community, channel=channel, description=description, reporter=reporter,
        category=category, **fields))
    return case


@pytest.fixture
def cat(world):
    category = Category.objects.create(community=world.community, code="property", name_zh="物业",
                                       name_en="Property", default_unit=world.property_company)
    TimeLimit.objects.create(category=category, urgency="normal", response_amount=2, resolve_amount=3)
    return category


@pytest.fixture
def history(world, cat):
    """Requests of the resident (G01, household 0) and of their household: an earlier one at
    home, one of the spouse, an anonymous one, one in the other courtyard (G02), one of a
    neighbour in another household, and the newest one at home, whose page is read."""
    me, spouse, neighbour = world.residents[0], world.residents[1], world.residents[2]
    assert me.household_id == spouse.household_id != neighbour.household_id
    earlier = submit(world, cat, me, description="门口的下水道堵了")
    of_spouse = submit(world, cat, spouse, description="电梯按钮坏了")
    anonymous = submit(world, cat, me, description="有人在楼道堆放杂物", anonymous=True)
    in_g02 = submit(world, cat, me, description="二号院的路灯不亮", place=Case.Place.GRID, grid=world.grids[1])
    of_neighbour = submit(world, cat, neighbour, description="邻居家漏水")
    newest = submit(world, cat, me)
    return {"me": me, "earlier": earlier, "spouse": of_spouse, "anonymous": anonymous, "g02": in_g02,
            "neighbour": of_neighbour, "newest": newest}


def numbers(cases) -> set[str]:
    return {c.number for c in cases}


# --- C4: the case page and the people behind it ------------------------------------------------

@pytest.mark.parametrize("username", ["worker", "admin", "grid1"])
def test_the_full_view_links_to_the_resident_and_the_household(client, world, history, username):
    h = history
    response = get(client, world.users[username], f"/cases/console/{h['newest'].number}/")
    assert response.status_code == 200
    people = response.context["people"]
    html = response.content.decode()
    assert f'href="/console/residents/{h["me"].pk}/"' in html
    assert f'href="/console/households/{h["me"].household_id}/"' in html
    # Each link opens for this viewer: a link never leads to "not found".
    assert get(client, world.users[username], people["resident_url"]).status_code == 200
    assert get(client, world.users[username], people["household_url"]).status_code == 200
    listed = numbers(people["earlier"])
    assert {h["earlier"].number, h["spouse"].number} <= listed
    assert h["newest"].number not in listed                      # not itself
    assert h["anonymous"].number not in listed                   # never tied to a person
    assert h["neighbour"].number not in listed                   # another household
    assert people["earlier_count"] == len(listed)


def test_earlier_requests_stay_within_the_viewers_courtyards(client, world, history):
    h = history
    office = get(client, world.users["worker"], f"/cases/console/{h['newest'].number}/").context["people"]
    grid1 = get(client, world.users["grid1"], f"/cases/console/{h['newest'].number}/").context["people"]
    assert h["g02"].number in numbers(office["earlier"])
    assert h["g02"].number not in numbers(grid1["earlier"])


def test_no_link_where_the_viewers_scope_does_not_reach(client, world, history):
    """The G02 grid worker sees the resident's case in G02 in full, but the resident lives in G01:
    no link to a page that would answer "not found", and only G02's requests listed."""
    h = history
    response = get(client, world.users["grid2"], f"/cases/console/{h['g02'].number}/")
    assert response.status_code == 200
    people = response.context["people"]
    assert people["resident_url"] == "" and people["household_url"] == ""
    html = response.content.decode()
    assert not re.search(r"/console/(residents|households)/\d+/", html)
    assert numbers(people["earlier"]) == set()


@pytest.mark.parametrize("username", ["unit_staff", "supervisor"])
def test_no_people_for_the_unit_or_the_supervisor(client, world, history, username):
    h = history
    worker = world.users["worker"]
    services.case_accept(actor=worker, case=h["newest"])
    services.case_dispatch(actor=worker, case=Case.objects.get(pk=h["newest"].pk))
    response = get(client, world.users[username], f"/cases/console/{h['newest'].number}/")
    assert response.status_code == 200
    assert response.context["people"] is None
    html = response.content.decode()
    assert not re.search(r"/console/(residents|households)/\d+/", html)
    assert h["earlier"].number not in html and "Earlier requests" not in html


def test_no_people_for_an_anonymous_case(client, world, history):
    response = get(client, world.users["worker"], f"/cases/console/{history['anonymous'].number}/")
    assert response.status_code == 200
    assert response.context["people"] is None
    assert "Earlier requests" not in response.content.decode()


def test_the_resident_page_lists_their_requests_within_scope(client, world, history):
    h = history
    me = h["me"]
    office = get(client, world.users["worker"], f"/console/residents/{me.pk}/").content.decode()
    assert "Their requests" in office
    for key in ("earlier", "g02", "newest"):
        assert h[key].number in office
    for key in ("anonymous", "spouse", "neighbour"):
        assert h[key].number not in office
    grid1 = get(client, world.users["grid1"], f"/console/residents/{me.pk}/").content.decode()
    assert h["earlier"].number in grid1 and h["g02"].number not in grid1
    # A building leader sees the registry of their building but no case: no section at all.
    leader = get(client, world.users["leader"], f"/console/residents/{me.pk}/")
    assert leader.status_code == 200
    assert "Their requests" not in leader.content.decode()


def test_the_household_page_lists_the_households_requests(client, world, history):
    h = history
    html = get(client, world.users["worker"], f"/console/households/{h['me'].household_id}/").content.decode()
    assert "Requests from this household" in html
    for key in ("earlier", "spouse", "g02", "newest"):
        assert h[key].number in html
    assert h["neighbour"].number not in html and h["anonymous"].number not in html


# --- C6: the resident's pages ----------------------------------------------------------------------

def test_the_residents_home_opens_with_the_raise_a_request_button(client, world, cat):
    html = get(client, world.users["resident"], "/me/").content.decode()
    content = html[html.index("<main"):] if "<main" in html else html
    first_link = re.search(r'<a class="button([^"]*)" href="([^"]+)"', content)
    assert first_link is not None
    assert first_link.group(2) == "/cases/new/" and "big" in first_link.group(1)
    assert "I have a request" in content
    assert content.index("I have a request") < content.index("My record")


def test_the_resident_opens_their_own_record_audited(client, world):
    me = world.residents[0]
    user = world.users["resident"]
    client.force_login(user)
    masked = client.get("/me/", **EN).content.decode()
    assert me.phone.reveal() not in masked and me.id_number.reveal() not in masked
    assert "Show my full details" in masked
    other = world.residents[1]  # the spouse, in the same household
    response = client.post("/me/", {"resident": other.pk, "field": "phone"}, **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert me.phone.reveal() in html and me.id_number.reveal() in html
    assert other.phone.reveal() not in html and other.id_number.reveal() not in html
    events = Event.objects.filter(verb="resident.revealed")
    assert {e.target_id for e in events} == {str(me.pk)}
    assert {e.actor_id for e in events} == {user.pk}
    assert {e.data["field"] for e in events} == {"name", "id_number", "phone", "address", "birth_date"}
    # Nothing in the URL or the next page keeps the value.
    assert me.phone.reveal() not in client.get("/me/", **EN).content.decode()


def test_a_resident_can_reveal_no_one_else(client, world):
    user = world.users["resident"]
    other = world.residents[1]
    with pytest.raises(PermissionDenied):
        resident_reveal(actor=user, resident=other, field="phone", reason="just looking")
    client.force_login(user)
    assert client.post(f"/console/residents/{other.pk}/", {"field": "phone", "reason": "x y"}).status_code == 403
    assert not Event.objects.filter(verb="resident.revealed").exists()


def test_the_case_page_says_what_the_request_is(client, world, cat):
    case = submit(world, cat, world.residents[0], description="小区东门的路灯一直不亮，晚上很黑")
    html = get(client, world.users["resident"], f"/cases/{case.number}/").content.decode()
    h1 = re.search(r"<h1>(.*?)</h1>", html, flags=re.S).group(1)
    assert "Property" in h1 and "小区东门的路灯" in h1
    assert case.number.rsplit("-", 1)[0] not in h1  # the number is shown small, not as the title
    assert case.number.rsplit("-", 1)[0] in html


def test_a_request_without_a_category_is_named_by_its_day(client, world):
    case = submit(world, None, world.residents[0], description="有件事想问问社区")
    Case.objects.filter(pk=case.pk).update(category=None, created_at=dt.datetime(2026, 12, 5, 9, tzinfo=dt.timezone.utc))
    html = get(client, world.users["resident"], f"/cases/{case.number}/").content.decode()
    h1 = re.search(r"<h1>(.*?)</h1>", html, flags=re.S).group(1)
    assert "My request of December 5" in h1


def test_the_expected_reply_date_is_shown_and_nothing_without_one(client, world, cat):
    case = submit(world, cat, world.residents[0])
    due = timezone.make_aware(dt.datetime(2026, 12, 8, 17, 0))
    Case.objects.filter(pk=case.pk).update(response_due=due)
    html = get(client, world.users["resident"], f"/cases/{case.number}/").content.decode()
    assert "We will reply by Tue December 8 17:00." in html
    Case.objects.filter(pk=case.pk).update(response_due=None)
    html = get(client, world.users["resident"], f"/cases/{case.number}/").content.decode()
    assert "We will reply by" not in html


def test_no_coordinates_on_the_resident_or_staff_case_page(client, world, cat):
    grid = world.grids[0]
    grid.boundary = [[30.70, 104.05], [30.70, 104.06], [30.72, 104.06], [30.72, 104.05]]
    grid.save()
    case = submit(world, cat, world.residents[0], place=Case.Place.POINT, grid=world.grids[0],
                  latitude=LAT, longitude=LON)
    for user, url in ((world.users["resident"], f"/cases/{case.number}/"),
                      (world.users["worker"], f"/cases/console/{case.number}/"),
                      (world.users["grid1"], f"/cases/console/{case.number}/")):
        response = get(client, user, url)
        assert response.status_code == 200
        shown = visible_text(response.content.decode())
        for digits in ("30.71", "104.05", "30.7123", "104.0568"):
            assert digits not in shown, (url, digits)
        assert f"a point on the map near {world.grids[0].name}" in shown


def _notify(user, case, **extra):
    return Notification.objects.create(user=user, verb="case.accepted", target_type="cases.case",
                                       target_id=str(case.pk), url=f"/cases/{case.number}/", title="t", **extra)


def test_opening_a_case_marks_its_notifications_read(client, world, cat):
    mine = submit(world, cat, world.residents[0])
    another = submit(world, cat, world.residents[0], description="楼下的垃圾桶满了没人清")
    resident, worker = world.users["resident"], world.users["worker"]
    about_mine, about_another = _notify(resident, mine), _notify(resident, another)
    workers = _notify(worker, mine)
    assert get(client, resident, f"/cases/{mine.number}/").status_code == 200
    for n in (about_mine, about_another, workers):
        n.refresh_from_db()
    assert about_mine.read_at is not None
    assert about_another.read_at is None   # another target
    assert workers.read_at is None         # another account's
    # Staff: the notification's link (the resident's URL) redirects to the staff page, which marks it.
    client.force_login(worker)
    assert client.get(workers.url, follow=True, **EN).status_code == 200
    workers.refresh_from_db()
    assert workers.read_at is not None


def test_acting_on_a_case_marks_its_notifications_read(client, world, cat):
    case = submit(world, cat, world.residents[0])
    worker = world.users["worker"]
    n = _notify(worker, case)
    client.force_login(worker)
    response = client.post(f"/cases/console/{case.number}/accept/",
                           {"accept-category": cat.pk, "accept-urgency": "normal"}, follow=True, **EN)
    assert response.status_code == 200
    n.refresh_from_db()
    assert n.read_at is not None
