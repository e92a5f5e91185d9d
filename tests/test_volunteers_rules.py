"""Who may: each role of the contract against each people page and action of the volunteers
app — allowed, or refused with nothing changed (docs/roles.md, "Volunteers and points")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.core.errors import PermissionDenied
from linli.core.models import Event
from linli.volunteers import needs, rules, teams, volunteers as people
from linli.volunteers.models import Activity, Need, ServiceRecord, Team, Volunteer

from factories import PASSWORD, _user

ROLES = ("admin", "worker", "secretary", "grid1", "grid2", "leader", "unit_staff", "supervisor", "z_worker",
         "resident", "nobody", "anonymous")


def client_for(world, who) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    if who != "anonymous":
        c.login(username=world.users[who].username, password=PASSWORD)
    return c


@pytest.fixture
def setup(world):
    v1 = people.volunteer_join(actor=world.users["resident"], resident=world.residents[0], skills=["visiting"],
                               availability=["sat_am"])  # grid 1
    v2 = people.volunteer_join(actor=world.users["worker"], resident=world.residents[6], skills=["repair"],
                               availability=["sun_pm"])
    assert v2.grid == world.grids[1]
    team = teams.team_create(actor=world.users["worker"], community=world.community, name="先锋队", kind="vanguard")
    n1 = needs.need_post(actor=world.users["worker"], community=world.community, title="清理一号院",
                         description="", activity_type="cleanup", source="staff", grid=world.grids[0])
    n2 = needs.need_post(actor=world.users["worker"], community=world.community, title="二号院探访",
                         description="", activity_type="visit", source="staff", grid=world.grids[1])
    return {"v1": v1, "v2": v2, "team": team, "n1": n1, "n2": n2}


def status(world, who, name, **kw):
    return client_for(world, who).get(reverse(f"volunteers:{name}", kwargs=kw)).status_code


# What each role gets on each page (200, 403: no office at all / not a resident, 404: not theirs,
# 302: sign in first).
PAGES = {
    #            office  needs  teams  vol1  vol2  need1 need2 team
    "admin":      (200,   200,   200,   200,  200,  200,  200,  200),
    "worker":     (200,   200,   200,   200,  200,  200,  200,  200),
    "secretary":  (200,   200,   200,   200,  200,  200,  200,  200),
    "grid1":      (200,   200,   200,   200,  404,  200,  404,  200),
    "grid2":      (200,   200,   200,   404,  200,  404,  200,  200),
    "leader":     (200,   404,   404,   404,  404,  404,  404,  404),
    "unit_staff": (403,   403,   403,   403,  403,  403,  403,  403),
    "supervisor": (200,   404,   404,   404,  404,  404,  404,  404),
    "z_worker":   (404,   404,   404,   404,  404,  404,  404,  404),
    "resident":   (403,   403,   403,   403,  403,  403,  403,  403),
    "nobody":     (403,   403,   403,   403,  403,  403,  403,  403),
    "anonymous":  (302,   302,   302,   302,  302,  302,  302,  302),
}


@pytest.mark.parametrize("who", ROLES)
def test_each_role_on_each_office_page(world, setup, who):
    s = setup
    got = (
        status(world, who, "office", code="Y"),
        status(world, who, "office_needs", code="Y"),
        status(world, who, "office_teams", code="Y"),
        status(world, who, "office_volunteer", code="Y", pk=s["v1"].pk),
        status(world, who, "office_volunteer", code="Y", pk=s["v2"].pk),
        status(world, who, "office_need", code="Y", pk=s["n1"].pk),
        status(world, who, "office_need", code="Y", pk=s["n2"].pk),
        status(world, who, "office_team", code="Y", pk=s["team"].pk),
    )
    assert got == PAGES[who]


def test_the_street_supervisor_sees_counts_and_no_names(world, setup):
    page = client_for(world, "supervisor").get(reverse("volunteers:office", kwargs={"code": "Y"}))
    assert b"active volunteers" in page.content
    for resident in (world.residents[0], world.residents[6]):
        assert str(resident.name).encode() not in page.content


def test_a_grid_worker_lists_only_their_grids_volunteers(world, setup):
    page = client_for(world, "grid1").get(reverse("volunteers:office", kwargs={"code": "Y"})).content
    assert str(world.residents[0].name).encode() in page and str(world.residents[6].name).encode() not in page


def test_the_join_page_is_for_residents(world):
    assert status(world, "resident", "join") == 200
    assert status(world, "worker", "join") == 403
    assert status(world, "anonymous", "join") == 302


@pytest.mark.parametrize("who,allowed", [
    ("admin", True), ("worker", True), ("secretary", True), ("grid1", False), ("leader", False),
    ("unit_staff", False), ("supervisor", False), ("z_worker", False), ("resident", False)])
def test_who_creates_a_team_by_page_and_by_service(world, who, allowed):
    r = client_for(world, who).post(reverse("volunteers:office_teams", kwargs={"code": "Y"}),
                                    {"name": f"队{who}", "kind": "other"})
    assert Team.objects.filter(name=f"队{who}").exists() == allowed
    assert (r.status_code == 302) == allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            teams.team_create(actor=world.users[who], community=world.community, name="x")
        assert not Event.objects.filter(verb="volunteers.team_created").exists()


@pytest.mark.parametrize("who", ["grid1", "grid2"])
def test_a_grid_worker_reads_teams_and_changes_nothing(world, setup, who):
    url = reverse("volunteers:office_team", kwargs={"code": "Y", "pk": setup["team"].pk})
    volunteer = setup["v1"] if who == "grid1" else setup["v2"]
    assert client_for(world, who).post(url, {"action": "add", "volunteer": volunteer.pk,
                                             "role": "leader"}).status_code == 404
    assert not setup["team"].memberships.exists()


@pytest.mark.parametrize("who,grid,allowed", [
    ("admin", 0, True), ("worker", None, True), ("secretary", 1, True), ("grid1", 0, True), ("grid1", 1, False),
    ("grid2", 0, False), ("leader", 0, False), ("unit_staff", 0, False), ("supervisor", 0, False),
    ("z_worker", 0, False), ("resident", 0, False)])
def test_who_posts_a_need_on_the_board(world, who, grid, allowed):
    data = {"action": "post", "title": f"需要{who}", "activity_type": "other"}
    if grid is not None:
        data["grid"] = world.grids[grid].pk
    client_for(world, who).post(reverse("volunteers:office_needs", kwargs={"code": "Y"}), data)
    assert Need.objects.filter(title=f"需要{who}").exists() == allowed


@pytest.mark.parametrize("who,need,allowed", [
    ("admin", "n1", True), ("worker", "n2", True), ("secretary", "n1", True), ("grid1", "n1", True),
    ("grid1", "n2", False), ("grid2", "n1", False), ("leader", "n1", False), ("supervisor", "n1", False),
    ("resident", "n1", False), ("z_worker", "n1", False)])
def test_who_closes_a_need(world, setup, who, need, allowed):
    target = setup[need]
    client_for(world, who).post(reverse("volunteers:office_need", kwargs={"code": "Y", "pk": target.pk}),
                                {"action": "close"})
    target.refresh_from_db()
    assert (target.status == "closed") == allowed


@pytest.mark.parametrize("who,grid,allowed", [
    ("admin", 0, True), ("secretary", 1, True), ("grid1", 0, True), ("grid1", 1, False), ("leader", 0, True),
    ("leader", 1, False), ("unit_staff", 0, False), ("supervisor", 0, False), ("resident", 0, False),
    ("z_worker", 0, False)])
def test_who_organises_where(world, who, grid, allowed):
    assert rules.may_organise(world.users[who], world.community, world.grids[grid]) == allowed


@pytest.fixture
def record(world, setup):
    """An activity in grid 1 and a pending record of volunteer 1 (the resident's own)."""
    start = timezone.now() - dt.timedelta(hours=3)
    activity = Activity.objects.create(community=world.community, title="探访", activity_type="visit",
                                       place="1号院", grid=world.grids[0], starts_at=start,
                                       ends_at=start + dt.timedelta(hours=2), slots=3,
                                       organiser=world.users["leader"])
    return ServiceRecord.objects.create(activity=activity, volunteer=setup["v1"], check_in_at=start,
                                        check_out_at=start + dt.timedelta(hours=2), minutes=120, status="pending")


@pytest.mark.parametrize("who,allowed", [
    ("admin", True), ("worker", True), ("secretary", True), ("grid1", True), ("grid2", False),
    ("leader", False), ("unit_staff", False), ("supervisor", False), ("resident", False), ("z_worker", False),
    ("nobody", False)])
def test_who_approves_a_record(world, record, who, allowed):
    assert rules.may_approve(world.users[who], record) == allowed


def test_nobody_approves_their_own_record(world, record):
    """A worker who is also the volunteer may approve others' records, never their own."""
    worker = world.users["worker"]
    resident = world.residents[0]
    resident.user = worker
    resident.save(update_fields=["user"])
    assert rules.is_own_record(worker, record)
    assert not rules.may_approve(worker, record)
    assert rules.may_approve(world.users["admin"], record)


def test_the_resident_of_an_account(world):
    assert rules.resident_of(world.users["resident"]) == world.residents[0]
    assert rules.resident_of(world.users["worker"]) is None
    from django.contrib.auth.models import AnonymousUser

    assert rules.resident_of(AnonymousUser()) is None
    assert not rules.is_office(AnonymousUser(), world.community)


def test_an_inactive_account_may_nothing(world):
    admin = world.users["admin"]
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    assert not rules.is_office(admin, world.community) and not rules.may_organise(admin, world.community)


def test_the_consent_of_a_guardian_is_refused_to_others_and_nothing_changes(world):
    from linli.community.services import ResidentFacts, resident_create

    from factories import make_id_number, make_phone

    household = world.residents[0].household
    child = resident_create(actor=None, household=household, facts=ResidentFacts.clean(
        name="张小宝", id_number=make_id_number(dt.date(timezone.localdate().year - 10, 3, 3), 555),
        phone=make_phone(555), relation="child"))
    v = people.volunteer_join(actor=world.users["worker"], resident=child, skills=["events"],
                              availability=["sat_am"], guardian=world.residents[0])
    url = reverse("volunteers:office_volunteer", kwargs={"code": "Y", "pk": v.pk})
    for who in ("secretary", "grid1"):
        assert client_for(world, who).post(url, {"action": "consent"}).status_code == 404
    assert Volunteer.objects.get(pk=v.pk).guardian_consent_at is None
    client_for(world, "worker").post(url, {"action": "consent"})
    assert Volunteer.objects.get(pk=v.pk).guardian_consent_at is not None


def test_the_menu_and_console_links_follow_the_office(world):
    from linli.volunteers.links import console_links

    assert rules.reaches_office(world.users["secretary"]) and rules.reaches_office(world.users["supervisor"])
    assert rules.reaches_office(world.users["leader"])                    # organises activities
    assert not rules.reaches_office(world.users["unit_staff"]) and not rules.reaches_office(world.users["resident"])
    assert [u for _l, u in console_links(world.users["z_worker"])] == [
        reverse("volunteers:office", kwargs={"code": "Z"})]
    assert console_links(world.users["resident"]) == []
    other = _user("someone")
    assert not rules.reaches_office(other)
