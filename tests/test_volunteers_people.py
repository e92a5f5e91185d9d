"""Volunteers: joining (a minor with a guardian's consent), changing, leaving; teams; hours in
the last 90 days; the resident's and the office's pages (docs/volunteers.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.community.services import ResidentFacts, resident_create
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.volunteers import teams, volunteers as people
from linli.volunteers.models import Activity, Membership, ServiceRecord, Team, Volunteer

from factories import PASSWORD, _user, make_id_number, make_phone

SKILLS = ["visiting", "cooking"]
WHEN = ["sat_am", "evenings"]


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.login(username=user.username, password=PASSWORD)
    return c


def join(world, who="resident", resident=None, **kw):
    resident = resident or world.residents[0]
    return people.volunteer_join(actor=world.users[who], resident=resident, skills=kw.pop("skills", SKILLS),
                                 availability=kw.pop("availability", WHEN), **kw)


@pytest.fixture
def minor(world):
    """A 12-year-old in the first household (whose head is world.residents[0], an adult)."""
    household = world.residents[0].household
    year = timezone.localdate().year - 12
    child = resident_create(actor=None, household=household, facts=ResidentFacts.clean(
        name="张小宝", id_number=make_id_number(dt.date(year, 6, 1), 777), phone=make_phone(777),
        relation="child"))
    child.user = _user("kid")
    child.save(update_fields=["user"])
    world.users["kid"] = child.user
    return child


# --- joining -------------------------------------------------------------------------------------


def test_a_resident_joins_with_their_courtyard_and_one_event(world):
    volunteer = join(world, skills=["cooking", "visiting", "cooking"])
    resident = world.residents[0]
    assert volunteer.status == "active" and volunteer.grid_id == resident.grid_id
    assert volunteer.skills == ["visiting", "cooking"]   # the table's order, once each
    assert volunteer.community_id == world.community.pk
    event = Event.objects.get(verb="volunteers.joined")
    assert event.data["volunteer"] == volunteer.pk and "name" not in event.data
    with pytest.raises(Conflict) as exc:
        join(world)
    assert exc.value.code == "already_volunteer"


@pytest.mark.parametrize("skills,availability,code", [
    ([], WHEN, "no_skills"), (["juggling"], WHEN, "unknown_skill"),
    (SKILLS, [], "no_availability"), (SKILLS, ["mon_night"], "unknown_availability")])
def test_an_empty_or_unknown_offer_is_refused_and_nothing_written(world, skills, availability, code):
    with pytest.raises(InvalidInput) as exc:
        join(world, skills=skills, availability=availability)
    assert exc.value.code == code
    assert not Volunteer.objects.exists() and not Event.objects.filter(verb="volunteers.joined").exists()


def test_nobody_registers_someone_else_but_the_office_may(world):
    with pytest.raises(PermissionDenied):
        join(world, who="resident", resident=world.residents[1])
    with pytest.raises(PermissionDenied):
        join(world, who="secretary", resident=world.residents[1])
    with pytest.raises(PermissionDenied):
        join(world, who="z_worker", resident=world.residents[1])
    assert not Volunteer.objects.exists()
    assert join(world, who="worker", resident=world.residents[1]).resident == world.residents[1]


def test_a_courtyard_of_another_community_is_refused(world):
    other = world.other_resident.grid
    with pytest.raises(InvalidInput) as exc:
        join(world, grid=other)
    assert exc.value.code == "wrong_grid"


def test_update_pause_resume_leave_and_join_again(world):
    volunteer = join(world)
    team = teams.team_create(actor=world.users["secretary"], community=world.community, name="青年突击队",
                             kind="youth")
    teams.team_add(actor=world.users["secretary"], team=team, volunteer=volunteer)
    volunteer = people.volunteer_update(actor=world.users["resident"], volunteer=volunteer,
                                        skills=["repair"], grid=world.grids[1])
    assert volunteer.skills == ["repair"] and volunteer.grid == world.grids[1]
    assert Event.objects.get(verb="volunteers.updated").data["fields"] == ["grid", "skills"]
    people.volunteer_update(actor=world.users["resident"], volunteer=volunteer, status="paused")
    volunteer.refresh_from_db()
    assert volunteer.status == "paused" and Event.objects.filter(verb="volunteers.paused").count() == 1
    with pytest.raises(PermissionDenied) as exc:
        people.require_may_sign_up(volunteer)
    assert exc.value.code == "volunteer_inactive"
    with pytest.raises(PermissionDenied):
        people.volunteer_update(actor=world.users["grid1"], volunteer=volunteer, status="active")
    people.volunteer_leave(actor=world.users["resident"], volunteer=volunteer)
    volunteer.refresh_from_db()
    assert volunteer.status == "left" and volunteer.left_at and not Membership.objects.exists()
    with pytest.raises(Conflict):
        people.volunteer_leave(actor=world.users["resident"], volunteer=volunteer)
    again = join(world)
    assert again.pk == volunteer.pk and again.status == "active" and again.left_at is None
    assert Event.objects.filter(verb="volunteers.joined").count() == 2


# --- minors and their guardians ---------------------------------------------------------------------


def test_a_minor_needs_an_adult_guardian_of_the_same_household(world, minor):
    with pytest.raises(InvalidInput) as exc:
        join(world, who="kid", resident=minor)
    assert exc.value.code == "guardian_required"
    with pytest.raises(InvalidInput) as exc:
        join(world, who="kid", resident=minor, guardian=world.residents[3])  # another household
    assert exc.value.code == "guardian_invalid"
    assert people.guardians_for(minor) == [r for r in world.residents if r.household_id == minor.household_id]
    volunteer = join(world, who="kid", resident=minor, guardian=world.residents[0])
    assert volunteer.guardian == world.residents[0] and volunteer.guardian_consent_at is None
    assert people.needs_consent(volunteer)
    with pytest.raises(PermissionDenied) as exc:
        people.require_may_sign_up(volunteer)
    assert exc.value.code == "guardian_consent"


def test_only_the_guardian_or_the_office_consents(world, minor):
    volunteer = join(world, who="kid", resident=minor, guardian=world.residents[0])
    for who in ("kid", "secretary", "grid1", "z_worker", "nobody"):
        with pytest.raises(PermissionDenied) as exc:
            people.guardian_consent(actor=world.users[who], volunteer=volunteer)
        assert exc.value.code == "guardian_consent"
    volunteer.refresh_from_db()
    assert volunteer.guardian_consent_at is None
    people.guardian_consent(actor=world.users["resident"], volunteer=volunteer)  # residents[0]'s account
    volunteer.refresh_from_db()
    assert volunteer.guardian_consent_at is not None
    people.require_may_sign_up(volunteer)
    assert Event.objects.get(verb="volunteers.guardian_consented").data["by"] == "guardian"


def test_the_office_records_consent_and_a_new_guardian_must_consent_again(world, minor):
    second = next(r for r in world.residents if r.household_id == minor.household_id and r.pk != world.residents[0].pk)
    volunteer = join(world, who="kid", resident=minor, guardian=world.residents[0])
    people.guardian_consent(actor=world.users["worker"], volunteer=volunteer)
    assert Event.objects.get(verb="volunteers.guardian_consented").data["by"] == "office"
    volunteer = people.volunteer_update(actor=world.users["kid"], volunteer=volunteer, guardian=second)
    assert volunteer.guardian == second and volunteer.guardian_consent_at is None


def test_an_adult_names_no_guardian(world):
    volunteer = join(world, guardian=world.residents[1])
    assert volunteer.guardian is None
    people.require_may_sign_up(volunteer)


# --- teams --------------------------------------------------------------------------------------


def test_teams_with_leaders_and_members(world):
    a, b = join(world), join(world, who="worker", resident=world.residents[1])
    team = teams.team_create(actor=world.users["secretary"], community=world.community, name="党员先锋队",
                             kind="vanguard")
    with pytest.raises(Conflict):
        teams.team_create(actor=world.users["admin"], community=world.community, name="党员先锋队")
    teams.team_add(actor=world.users["secretary"], team=team, volunteer=a, role="leader")
    teams.team_add(actor=world.users["worker"], team=team, volunteer=b)
    assert set(team.memberships.values_list("volunteer_id", "role")) == {(a.pk, "leader"), (b.pk, "member")}
    teams.team_add(actor=world.users["worker"], team=team, volunteer=b, role="leader")
    assert team.memberships.get(volunteer=b).role == "leader"
    teams.team_remove(actor=world.users["worker"], team=team, volunteer=a)
    with pytest.raises(InvalidInput):
        teams.team_remove(actor=world.users["worker"], team=team, volunteer=a)
    assert list(team.memberships.values_list("volunteer_id", flat=True)) == [b.pk]
    assert Event.objects.filter(verb="volunteers.team_member_added").count() == 3


def test_a_volunteer_of_another_community_or_a_retired_team_is_refused(world):
    team = teams.team_create(actor=world.users["worker"], community=world.community, name="老年互助", kind="elders")
    z = people.volunteer_join(actor=world.users["z_worker"], resident=world.other_resident, skills=SKILLS,
                              availability=WHEN)
    with pytest.raises(InvalidInput):
        teams.team_add(actor=world.users["worker"], team=team, volunteer=z)
    teams.team_update(actor=world.users["worker"], team=team, active=False)
    with pytest.raises(Conflict):
        teams.team_add(actor=world.users["worker"], team=team, volunteer=join(world))


# --- hours ----------------------------------------------------------------------------------------


def test_minutes_served_counts_approved_records_of_the_last_90_days(world):
    v = join(world)
    now = timezone.now()

    def record(days_ago, minutes, status):
        start = now - dt.timedelta(days=days_ago)
        activity = Activity.objects.create(community=world.community, title="探访", activity_type="visit",
                                           place="1号院", starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                           slots=3, organiser=world.users["worker"])
        ServiceRecord.objects.create(activity=activity, volunteer=v, check_in_at=start,
                                     check_out_at=start + dt.timedelta(minutes=minutes), minutes=minutes,
                                     status=status)

    record(3, 60, "approved")
    record(30, 90, "approved")
    record(10, 120, "pending")
    record(120, 45, "approved")
    assert people.minutes_served([v.pk]) == {v.pk: 150}
    assert people.minutes_served([]) == {}


# --- pages ----------------------------------------------------------------------------------------


def test_the_join_page_preselects_the_courtyard_and_joins(world):
    c = client_for(world.users["resident"])
    page = c.get(reverse("volunteers:join"))
    assert page.status_code == 200 and b"Volunteer with us" in page.content
    assert f'value="{world.residents[0].grid_id}" selected'.encode() in page.content
    assert b'type="checkbox" name="skills"' in page.content and b"guardian" not in page.content.lower()
    r = c.post(reverse("volunteers:join"), {"action": "save", "skills": ["escort"], "availability": ["mon_am"],
                                            "grid": world.grids[1].pk})
    assert r.status_code == 302
    v = Volunteer.objects.get(resident=world.residents[0])
    assert v.skills == ["escort"] and v.grid == world.grids[1]
    page = c.get(reverse("volunteers:join"))
    assert b"My volunteering" in page.content
    c.post(reverse("volunteers:join"), {"action": "leave"})           # unconfirmed: nothing happens
    assert Volunteer.objects.get(pk=v.pk).status == "active"
    c.post(reverse("volunteers:join"), {"action": "leave", "confirm": "on"})
    assert Volunteer.objects.get(pk=v.pk).status == "left"


def test_the_join_page_without_a_choice_shows_the_error(world):
    c = client_for(world.users["resident"])
    page = c.post(reverse("volunteers:join"), {"action": "save", "availability": ["mon_am"],
                                               "grid": world.grids[0].pk})
    assert page.status_code == 200 and b"Choose at least one way you can help." in page.content
    assert not Volunteer.objects.exists()


def test_a_minor_sees_how_the_guardian_consents_and_the_guardian_does(world, minor):
    kid = client_for(world.users["kid"])
    page = kid.get(reverse("volunteers:join"))
    assert b"You are under 18" in page.content and b"Agree to a young volunteer" in page.content
    # The guardian list shows masked names only.
    assert str(world.residents[0].name.reveal()).encode() not in page.content
    kid.post(reverse("volunteers:join"), {"action": "save", "skills": ["events"], "availability": ["sat_pm"],
                                          "grid": minor.grid_id, "guardian": world.residents[0].pk})
    v = Volunteer.objects.get(resident=minor)
    assert b"Your guardian has not agreed yet" in kid.get(reverse("volunteers:join")).content
    guardian = client_for(world.users["resident"])
    page = guardian.get(reverse("volunteers:consent"))
    assert page.status_code == 200 and b"I agree" in page.content
    guardian.post(reverse("volunteers:consent"), {"volunteer": v.pk})
    v.refresh_from_db()
    assert v.guardian_consent_at is not None
    # Someone else's consent page lists nobody and cannot consent by id.
    other = _user("other_res")
    world.residents[2].user = other
    world.residents[2].save(update_fields=["user"])
    assert client_for(other).post(reverse("volunteers:consent"), {"volunteer": v.pk}).status_code == 404


def test_an_account_without_a_resident_cannot_join(world):
    page = client_for(world.users["worker"]).get(reverse("volunteers:join"))
    assert page.status_code == 403 and not Volunteer.objects.exists()


def test_the_home_actions_offer_volunteering_and_the_guardians_consent(world, minor):
    from django.utils import translation

    from linli.volunteers.links import home_actions

    with translation.override("en"):
        assert [str(a) for a, _u in home_actions(world.users["resident"])] == ["Volunteer with us"]
        join(world, who="kid", resident=minor, guardian=world.residents[0])
        labels = [str(a) for a, _u in home_actions(world.users["resident"])]
        assert labels == ["Volunteer with us", "Agree to a young volunteer"]
        assert home_actions(world.users["worker"]) == []


def test_the_office_list_shows_masked_names_skills_teams_and_hours(world):
    v = join(world)
    team = teams.team_create(actor=world.users["worker"], community=world.community, name="楼栋长队",
                             kind="building_leaders")
    teams.team_add(actor=world.users["worker"], team=team, volunteer=v, role="leader")
    page = client_for(world.users["secretary"]).get(reverse("volunteers:office", kwargs={"code": "Y"}))
    assert page.status_code == 200
    full = world.residents[0].name.reveal()
    assert full.encode() not in page.content
    assert str(world.residents[0].name).encode() in page.content   # masked: 张*1
    assert "楼栋长队".encode() in page.content and b"Visiting and chatting" in page.content
    detail = client_for(world.users["worker"]).get(reverse("volunteers:office_volunteer",
                                                           kwargs={"code": "Y", "pk": v.pk}))
    assert detail.status_code == 200 and full.encode() not in detail.content


def test_team_pages_create_and_add(world):
    v = join(world)
    c = client_for(world.users["secretary"])
    r = c.post(reverse("volunteers:office_teams", kwargs={"code": "Y"}), {"name": "青年队", "kind": "youth"})
    team = Team.objects.get(name="青年队")
    assert r.status_code == 302 and r["Location"].endswith(f"/teams/{team.pk}/")
    page = c.get(reverse("volunteers:office_team", kwargs={"code": "Y", "pk": team.pk}))
    assert str(world.residents[0].name).encode() in page.content
    c.post(reverse("volunteers:office_team", kwargs={"code": "Y", "pk": team.pk}),
           {"action": "add", "volunteer": v.pk, "role": "leader"})
    assert team.memberships.get().role == "leader"
    c.post(reverse("volunteers:office_team", kwargs={"code": "Y", "pk": team.pk}),
           {"action": "remove", "volunteer": v.pk})
    assert not team.memberships.exists()


def test_leaving_withdraws_future_signups_and_the_first_waiting_moves_up(world):
    from linli.volunteers import activities
    from linli.volunteers.models import Signup

    a = join(world)
    b = join(world, who="worker", resident=world.residents[1])
    start = timezone.now() + dt.timedelta(days=3)
    activity = activities.activity_create(actor=world.users["worker"], community=world.community, title="探访",
                                          activity_type="visit", starts_at=start,
                                          ends_at=start + dt.timedelta(hours=2), slots=1, place="1号院",
                                          grid=world.grids[0])
    first = activities.signup(actor=world.users["resident"], activity=activity, volunteer=a)
    second = activities.signup(actor=world.users["worker"], activity=activity, volunteer=b)
    assert (first.status, second.status) == ("confirmed", "waiting")
    people.volunteer_leave(actor=world.users["resident"], volunteer=a)
    assert Signup.objects.get(pk=first.pk).status == "withdrawn"
    assert Signup.objects.get(pk=second.pk).status == "confirmed"


def test_the_office_list_filters_by_skill(world):
    join(world, skills=["repair"])
    join(world, who="worker", resident=world.residents[1], skills=["cooking"])
    c = client_for(world.users["worker"])
    page = c.get(reverse("volunteers:office", kwargs={"code": "Y"}), {"skill": "repair"}).content
    assert str(world.residents[0].name).encode() in page and str(world.residents[1].name).encode() not in page


def test_the_residents_home_and_the_staff_console_link_here(world):
    home = client_for(world.users["resident"]).get(reverse("my_home"))
    assert home.status_code == 200 and reverse("volunteers:join").encode() in home.content
    console = client_for(world.users["secretary"]).get(reverse("console"))
    assert reverse("volunteers:office", kwargs={"code": "Y"}).encode() in console.content
