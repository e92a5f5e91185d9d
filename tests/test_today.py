"""The staff's first page shows today's work (issue 8, C3), the cases console opens on what
needs action, and the grid worker reports from patrol without being asked for a caller.

Each role's first page counts only its own scope, and every count's link opens a list of
exactly those cases (or alerts, or hot issues).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from linli.cases import services
from linli.cases.models import Case, Category, TimeLimit
from linli.cases.today import due_today_q, mine_q
from linli.insight.models import Alert, HotIssue, HotIssueMember

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def desk(world):
    """Five cases of Y, their deadlines set by hand so that each falls in one queue:

    * ``waiting_g1`` (courtyard 1) and ``waiting_g2`` (courtyard 2): submitted, to accept;
    * ``late``: courtyard 1, accepted and dispatched to the property company by the worker,
      past its deadline;
    * ``today``: courtyard 2, accepted by grid worker 2, to resolve before midnight;
    * ``later``: courtyard 2, accepted by grid worker 2, due in five days.

    And one open alert and one open hot issue in courtyard 1.
    """
    y = world.community
    prop = Category.objects.create(community=y, code="property", name_zh="物业", name_en="Property",
                                   default_unit=world.property_company)
    TimeLimit.objects.create(category=prop, urgency="normal", response_amount=2, response_unit="hours",
                             resolve_amount=3, resolve_unit="working_days")
    resident = world.users["resident"]

    def submit(grid, text):
        case, _created = services.case_submit(actor=resident, intake=services.Intake(
            community=y, channel=Case.Channel.WEB, description=text, category=prop,
            reporter=world.residents[0], place=Case.Place.GRID, grid=grid))
        return case

    g1, g2 = world.grids
    cases = {
        "waiting_g1": submit(g1, "门口的灯不亮了"),
        "waiting_g2": submit(g2, "楼道里堆满了纸箱"),
        "late": submit(g1, "电梯一直停在三楼不动"),
        "today": submit(g2, "水管在滴水"),
        "later": submit(g2, "草坪该修剪了"),
    }
    services.case_accept(actor=world.users["worker"], case=cases["late"])
    services.case_dispatch(actor=world.users["worker"], case=cases["late"])
    for name in ("today", "later"):
        services.case_accept(actor=world.users["grid2"], case=cases[name])
    now = timezone.now()
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    midnight = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time()))
    dues = {
        "waiting_g1": (None, None, None), "waiting_g2": (None, None, None),
        "late": (now - dt.timedelta(hours=5), None, now - dt.timedelta(hours=1)),
        "today": (now - dt.timedelta(hours=1), now, now + (midnight - now) / 2),
        "later": (now - dt.timedelta(hours=1), now, now + dt.timedelta(days=5)),
    }
    for name, (response_due, contacted, resolve_due) in dues.items():
        Case.objects.filter(pk=cases[name].pk).update(response_due=response_due, first_contact_at=contacted,
                                                      resolve_due=resolve_due)
    today = timezone.localdate(now)
    alert = Alert.objects.create(community=y, grid=g1, category=prop, window_start=today - dt.timedelta(days=1),
                                 window_end=today, observed=5, expected=1.0, p_value=0.001)
    alert.cases.set([cases["waiting_g1"], cases["late"]])
    issue = HotIssue.objects.create(community=y, title="一号院夜里灯不亮", place=g1.name, first_at=now,
                                    last_at=now, heat=2.0)
    for name in ("waiting_g1", "late"):
        HotIssueMember.objects.create(hot_issue=issue, case=cases[name])
    for case in cases.values():
        case.refresh_from_db()
    return cases


def first_page(client, world, username):
    client.force_login(world.users[username])
    response = client.get("/console/", **EN)
    assert response.status_code == 200
    return response


def tiles(response) -> dict:
    return {item["code"]: item for item in response.context["today"]}


def listed(client, url) -> list[str]:
    """What the tile's link opens: the numbers of the cases (or the ids of the alerts / issues)."""
    response = client.get(url, **EN)
    assert response.status_code == 200, url
    page = response.context["page"]
    if "items" in response.context:  # hot issues
        return sorted(str(item["issue"].pk) for item in response.context["items"])
    return sorted(getattr(row, "number", None) or str(row.pk) for row in page.paginator.object_list)


EXPECTED = {
    # role: {tile: names of the cases it counts}; "alerts" and "hot_issues" count rows of insight.
    "worker": {"accept": {"waiting_g1", "waiting_g2"}, "overdue": {"late"}, "due_today": {"today"},
               "mine": {"late"}, "alerts": 1, "hot_issues": 1},
    "admin": {"accept": {"waiting_g1", "waiting_g2"}, "overdue": {"late"}, "due_today": {"today"},
              "mine": set(), "alerts": 1, "hot_issues": 1},
    "grid1": {"accept": {"waiting_g1"}, "overdue": {"late"}, "due_today": set(), "mine": set(),
              "alerts": 1, "hot_issues": 1},
    "grid2": {"accept": {"waiting_g2"}, "overdue": set(), "due_today": {"today"}, "mine": {"today", "later"},
              "alerts": 0, "hot_issues": 0},
    "secretary": {"accept": {"waiting_g1", "waiting_g2"}, "overdue": {"late"}, "due_today": {"today"},
                  "alerts": 1, "hot_issues": 1},
    # A unit: the hot issue holds a case that is with it; alerts are of an area, and it has none.
    "unit_staff": {"overdue": {"late"}, "due_today": set(), "mine": set(), "unit": {"late"},
                   "hot_issues": 1},
    # A building leader reaches no case, alert or hot issue: no tile at all.
    "leader": {},
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_lands_on_its_own_work_and_each_count_opens_its_list(client, world, desk, username):
    response = first_page(client, world, username)
    shown = tiles(response)
    expected = EXPECTED[username]
    # Need tags to decide: for those who may decide them (their counts: the test below).
    assert ("needs" in shown) is (username in ("worker", "admin", "grid1", "grid2"))
    # The board's overdue duties: for those who write on the community's board (docs/disclosure.md);
    # none are installed here, so the tile counts 0.
    assert ("disclosure_overdue" in shown) is (username in ("worker", "admin", "secretary"))
    if "disclosure_overdue" in shown:
        assert shown["disclosure_overdue"]["count"] == 0
    assert set(shown) - {"needs", "disclosure_overdue"} == set(expected)
    for code, want in expected.items():
        item = shown[code]
        if isinstance(want, set):
            assert item["count"] == len(want), code
            assert item["url"] == f"/cases/console/?queue={code}"
            assert listed(client, item["url"]) == sorted(desk[name].number for name in want), code
        else:
            assert item["count"] == want, code
            assert len(listed(client, item["url"])) == want, code
        assert f'href="{item["url"]}"' in response.content.decode()
    # The registry's figures are still there, below today's work.
    page = response.content.decode()
    if response.context["counts"] is not None and expected:
        assert page.index('id="today-h"') < page.index('id="counts-h"')
    if not expected:
        assert 'id="today-h"' not in page


def test_the_tiles_link_to_the_alert_and_hot_issue_lists(client, world, desk):
    shown = tiles(first_page(client, world, "worker"))
    assert urlsplit(shown["alerts"]["url"]).path == "/insight/alerts/"
    assert urlsplit(shown["hot_issues"]["url"]).path == "/insight/hot-issues/"
    assert shown["overdue"]["tone"] == "urgent" and shown["alerts"]["tone"] == "urgent"


def test_only_grid_workers_get_the_patrol_button(client, world, desk):
    for username, has_button in (("grid1", True), ("worker", False), ("secretary", False)):
        response = first_page(client, world, username)
        actions = [item["code"] for item in response.context["today_actions"]]
        assert actions == (["patrol"] if has_button else []), username
        assert ('href="/cases/console/new/?channel=patrol"' in response.content.decode()) is has_button
    client.force_login(world.users["grid1"])
    assert 'href="/cases/console/new/?channel=patrol"' in client.get("/cases/console/").content.decode()
    client.force_login(world.users["worker"])
    assert "?channel=patrol" not in client.get("/cases/console/").content.decode()


def test_a_supervisor_sees_the_streets_deadlines_but_no_acceptance_queue(client, world, desk):
    shown = tiles(first_page(client, world, "supervisor"))
    assert "accept" not in shown and "mine" not in shown
    assert shown["overdue"]["count"] == 1 and shown["due_today"]["count"] == 1


def test_need_tags_waiting_for_a_decision_are_counted_per_scope_and_open_their_list(client, world, desk):
    from linli.community import needs
    from linli.community.models import HouseholdNeed

    needs.needs_install_defaults(actor=None, community=world.community)
    needs.needs_recompute(community=world.community)
    suggested = HouseholdNeed.objects.filter(status=HouseholdNeed.Status.SUGGESTED)
    in_grid = {g.pk: set(suggested.filter(household__grid=g).values_list("household_id", flat=True))
               for g in world.grids}
    assert in_grid[world.grids[0].pk] and not in_grid[world.grids[1].pk]  # the world's elders living alone
    expected = {"worker": in_grid[world.grids[0].pk] | in_grid[world.grids[1].pk],
                "grid1": in_grid[world.grids[0].pk], "grid2": in_grid[world.grids[1].pk]}
    for username, households in expected.items():
        item = tiles(first_page(client, world, username))["needs"]
        assert item["count"] == len(households), username
        assert item["url"] == "/console/needs/?waiting=1"
        listing = client.get(item["url"], **EN)
        assert {h.pk for h in listing.context["page"].paginator.object_list} == households, username
    # A decision taken leaves the list.
    need = suggested.filter(household__grid=world.grids[0]).select_related("household").first()
    needs.household_need_confirm(actor=world.users["grid1"], need=need, reason="上门核实过")
    still = set(HouseholdNeed.objects.filter(status=HouseholdNeed.Status.SUGGESTED, household__grid=world.grids[0])
                .values_list("household_id", flat=True))
    assert tiles(first_page(client, world, "grid1"))["needs"]["count"] == len(still)


# --- the cases console opens on what needs action ------------------------------------------------

def test_the_console_opens_on_what_needs_action_and_all_cases_is_one_tap_away(client, world, desk):
    client.force_login(world.users["worker"])
    response = client.get("/cases/console/", **EN)
    assert response.context["current"] == "action"
    numbers = [c.number for c in response.context["page"].object_list]
    # Waiting to be accepted (no clock yet) first, then the nearest deadline; "later" waits on no one here.
    assert numbers == [desk["waiting_g1"].number, desk["waiting_g2"].number, desk["late"].number,
                       desk["today"].number]
    page = response.content.decode()
    assert 'href="/cases/console/?queue=all"' in page
    everything = client.get("/cases/console/?queue=all", **EN)
    assert everything.context["page"].paginator.count == 5
    # A filter without a queue (the rates' drill-down) still searches every case.
    assert client.get("/cases/console/?status=accepted").context["page"].paginator.count == 2


def test_the_grid_workers_action_queue_is_their_courtyards_and_their_own_cases(client, world, desk):
    client.force_login(world.users["grid2"])
    response = client.get("/cases/console/", **EN)
    assert sorted(c.number for c in response.context["page"].object_list) == sorted(
        desk[name].number for name in ("waiting_g2", "today", "later"))
    assert response.context["page"].paginator.count == {q["code"]: q["count"]
                                                         for q in response.context["queues"]}["action"]


def test_due_today_and_mine_are_unresolved_cases_only(world, desk):
    base = Case.objects.all()
    assert set(base.filter(due_today_q()).values_list("pk", flat=True)) == {desk["today"].pk}
    assert set(base.filter(mine_q(world.users["grid2"])).values_list("pk", flat=True)) == {
        desk["today"].pk, desk["later"].pk}
    Case.objects.filter(pk=desk["today"].pk).update(status=Case.Status.RESOLVED)
    assert not base.filter(due_today_q()).exists()
    assert set(base.filter(mine_q(world.users["grid2"])).values_list("pk", flat=True)) == {desk["later"].pk}


# --- the grid worker's patrol report -------------------------------------------------------------

def patrol_post(**overrides) -> dict:
    data = {"community": "", "channel": "patrol", "description": "一号院东门的井盖松了", "category": "",
            "urgency": "normal", "place": "grid", "grid": "", "latitude": "", "longitude": "", "address": "",
            "token": "p-1"}
    data.update(overrides)
    return {f"intake-{k}": v for k, v in data.items()}


def test_the_patrol_form_asks_for_no_caller_and_starts_at_the_grid_workers_courtyard(client, world, desk):
    client.force_login(world.users["grid1"])
    response = client.get("/cases/console/new/?channel=patrol", **EN)
    form = response.context["form"]
    assert "resident_phone" not in form.fields and "contact_name" not in form.fields
    assert form["channel"].value() == "patrol" and form["grid"].value() == world.grids[0].pk
    assert [value for value, _label in form.fields["place"].choices] == ["grid", "point"]
    page = response.content.decode()
    assert 'name="intake-resident_phone"' not in page
    assert 'action="/cases/console/new/?channel=patrol"' in page


def test_a_patrol_report_posts_without_a_phone_and_records_the_patrol_channel(client, world, desk):
    client.force_login(world.users["grid1"])
    before = set(Case.objects.values_list("pk", flat=True))
    response = client.post("/cases/console/new/?channel=patrol",
                           patrol_post(community=world.community.pk, grid=world.grids[0].pk))
    case = Case.objects.exclude(pk__in=before).get()
    assert response["Location"] == f"/cases/console/{case.number}/"
    assert (case.channel, case.reporter, case.contact_phone, case.grid, case.submitted_by) == (
        "patrol", None, None, world.grids[0], world.users["grid1"])
    # The patrol form takes no other channel: a call still goes through the full form.
    refused = client.post("/cases/console/new/?channel=patrol",
                          patrol_post(community=world.community.pk, grid=world.grids[0].pk, channel="phone",
                                      token="p-2"))
    assert "channel" in refused.context["form"].errors


def test_a_hotline_intake_still_asks_for_the_caller(client, world, desk):
    client.force_login(world.users["grid1"])
    page = client.get("/cases/console/new/", **EN).content.decode()
    assert 'name="intake-resident_phone"' in page
    response = client.post("/cases/console/new/", patrol_post(
        community=world.community.pk, grid=world.grids[0].pk, channel="phone"))
    assert "resident_phone" in response.context["form"].errors
