"""The needs board: needs from household need tags (once per tag), from a case ("Hand to
volunteers"), posted by staff or a resident, and the workflow's refusals (docs/volunteers.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.cases import services as case_services
from linli.community.models import NeedCategory
from linli.community.needs import household_need_add, needs_install_defaults
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.volunteers import needs
from linli.volunteers.models import Activity, Need

from factories import PASSWORD


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.login(username=user.username, password=PASSWORD)
    return c


def tag(world, household, code):
    needs_install_defaults(actor=None, community=world.community)
    category = NeedCategory.objects.get(community=world.community, code=code)
    return household_need_add(actor=world.users["worker"], household=household, category=category,
                              reason="入户走访时了解到")


def post(world, who="worker", **kw):
    args = {"title": "帮忙换灯泡", "description": "", "activity_type": "other", "source": "staff"}
    args.update(kw)
    return needs.need_post(actor=world.users[who] if who else None, community=world.community, **args)


# --- from tags ---------------------------------------------------------------------------------


def test_an_elders_care_tag_proposes_a_weekly_visit_once(world):
    household = world.households[1]
    t = tag(world, household, "elderly-care")
    made = needs.needs_from_tags(community=world.community)
    assert len(made) == 1
    need = made[0]
    assert (need.source, need.activity_type, need.household_need, need.household, need.grid) == (
        "need_tag", "visit", t, household, household.grid)
    assert need.status == "open" and need.requested_by is None
    # No names in the title or the description.
    for resident in household.residents.all():
        assert resident.name.reveal() not in need.title + need.description
    assert needs.needs_from_tags(community=world.community) == []
    needs.need_decline(actor=world.users["worker"], need=need, reason="家属已安排照护")
    assert needs.needs_from_tags(community=world.community) == []      # once per tag, ever
    assert Need.objects.count() == 1
    with pytest.raises(Conflict) as exc:
        post(world, source="need_tag", household_need=t, activity_type="visit")
    assert exc.value.code == "already_proposed"


def test_a_disability_proposes_accompaniment_and_hardship_alone_does_not(world):
    poor, disabled = world.households[2], world.households[3]
    tag(world, poor, "hardship")
    tag(world, disabled, "hardship")
    disabled.residents.first().tags.add(world.tags["disabled"])
    tag(world, world.households[4], "health")
    made = needs.needs_from_tags(community=world.community)
    assert sorted((n.household_id, n.activity_type) for n in made) == sorted(
        [(disabled.pk, "escort"), (world.households[4].pk, "escort")])


def test_suggested_and_dismissed_tags_and_other_categories_propose_nothing(world):
    tag(world, world.households[1], "repairs")
    needs_install_defaults(actor=None, community=world.community)
    from linli.community.needs import recompute_all

    recompute_all()   # the registry's rules suggest elderly care for the elders living alone
    assert needs.needs_from_tags(community=world.community) == []


def test_the_board_button_proposes_from_tags_for_the_office_only(world):
    tag(world, world.households[1], "meals")
    url = reverse("volunteers:office_needs", kwargs={"code": "Y"})
    assert client_for(world.users["grid1"]).post(url, {"action": "from_tags"}).status_code == 404
    assert not Need.objects.exists()
    r = client_for(world.users["worker"]).post(url, {"action": "from_tags"})
    assert r.status_code == 302 and Need.objects.get().activity_type == "meal_delivery"


# --- from a case -------------------------------------------------------------------------------


@pytest.fixture
def case(world):
    c, _created = case_services.case_submit(actor=world.users["resident"], intake=case_services.Intake(
        community=world.community, channel="web", description="家里老人行动不便，想请人陪同去医院复查，电话13912345678",
        reporter=world.residents[0], place="home", household=world.residents[0].household,
        grid=world.grids[0]))
    return c


def test_a_case_is_handed_to_volunteers_once(world, case):
    need = needs.need_from_case(actor=world.users["worker"], case=case, activity_type="escort")
    assert (need.source, need.case, need.household, need.grid) == ("case", case, case.household, world.grids[0])
    assert case.number in need.title and "13912345678" not in need.description
    with pytest.raises(Conflict) as exc:
        needs.need_from_case(actor=world.users["worker"], case=case)
    assert exc.value.code == "already_handed"
    needs.need_close(actor=world.users["worker"], need=need)
    assert needs.need_from_case(actor=world.users["grid1"], case=case).pk != need.pk


def test_only_who_manages_the_place_hands_a_case(world, case):
    for who in ("grid2", "leader", "unit_staff", "supervisor", "resident", "z_worker"):
        with pytest.raises(PermissionDenied):
            needs.need_from_case(actor=world.users[who], case=case)
    assert not Need.objects.exists()


def test_the_case_page_panel_hands_the_case(world, case):
    detail = reverse("cases:staff_detail", kwargs={"number": case.number})
    page = client_for(world.users["worker"]).get(detail)
    hand = reverse("volunteers:office_case_hand", kwargs={"code": "Y", "case_pk": case.pk})
    assert page.status_code == 200 and b"Hand to volunteers" in page.content and hand.encode() in page.content
    assert client_for(world.users["grid2"]).post(hand, {"activity_type": "escort"}).status_code == 404
    r = client_for(world.users["worker"]).post(hand, {"activity_type": "escort"})
    need = Need.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:office_need",
                                                             kwargs={"code": "Y", "pk": need.pk})
    page = client_for(world.users["worker"]).get(detail)
    assert hand.encode() not in page.content and b"This case is on the volunteers' needs board." in page.content


# --- posting -----------------------------------------------------------------------------------


def test_staff_post_needs_in_their_place(world):
    need = post(world, grid=world.grids[0], description="身份证510106199001011234")
    assert need.requested_by == world.users["worker"] and "510106199001011234" not in need.description
    assert Event.objects.get(verb="volunteers.need_posted").data["source"] == "staff"
    assert post(world, "grid1", grid=world.grids[0]).grid == world.grids[0]
    with pytest.raises(PermissionDenied):
        post(world, "grid1", grid=world.grids[1])
    with pytest.raises(PermissionDenied):
        post(world, "grid1")            # no grid: the whole community is not theirs
    for who in ("leader", "unit_staff", "supervisor", "z_worker"):
        with pytest.raises(PermissionDenied):
            post(world, who, grid=world.grids[0])
    assert Need.objects.count() == 2


def test_a_resident_asks_for_their_own_household(world):
    need = post(world, "resident", source="resident", activity_type="escort")
    assert need.household == world.residents[0].household and need.grid == world.residents[0].grid
    with pytest.raises(PermissionDenied):
        post(world, "resident", source="resident", household=world.households[3])
    with pytest.raises(PermissionDenied):
        post(world, "resident", source="staff")


@pytest.mark.parametrize("kw,code", [
    ({"title": " "}, "title_required"), ({"activity_type": "juggling"}, "unknown_activity_type"),
    ({"source": "rumour"}, "unknown_source"), ({"source": "need_tag"}, "tag_required"),
    ({"source": "case"}, "case_required")])
def test_bad_input_is_refused(world, kw, code):
    with pytest.raises(InvalidInput) as exc:
        post(world, **kw)
    assert exc.value.code == code and not Need.objects.exists()


def test_rows_of_another_community_are_refused(world):
    with pytest.raises(InvalidInput):
        post(world, grid=world.other_resident.grid)


# --- the workflow -------------------------------------------------------------------------------


def test_open_planned_closed_and_the_refusals(world):
    need = post(world, grid=world.grids[0])
    need = needs.need_planned(actor=world.users["leader"], need=need)    # organises in grid 1
    assert need.status == "planned"
    assert needs.need_planned(actor=world.users["worker"], need=need).status == "planned"  # no second move
    assert Event.objects.filter(verb="volunteers_need.planned").count() == 1
    with pytest.raises(IllegalTransition):
        needs.need_decline(actor=world.users["worker"], need=need, reason="不需要")
    with pytest.raises(PermissionDenied):
        needs.need_close(actor=world.users["leader"], need=need)          # organises, does not manage
    need = needs.need_reopen(actor=world.users["worker"], need=need)
    assert need.status == "open"
    need = needs.need_close(actor=world.users["grid1"], need=need)
    assert need.status == "closed"
    for move in (needs.need_close, needs.need_planned, needs.need_reopen):
        with pytest.raises(IllegalTransition):
            move(actor=world.users["worker"], need=need)
    need.refresh_from_db()
    assert need.status == "closed"


def test_decline_needs_a_reason_and_the_right_person(world):
    need = post(world, grid=world.grids[1])
    with pytest.raises(InvalidInput) as exc:
        needs.need_decline(actor=world.users["worker"], need=need, reason="  ")
    assert exc.value.code == "reason_required"
    for who in ("grid1", "leader", "supervisor", "resident"):
        with pytest.raises(PermissionDenied):
            needs.need_decline(actor=world.users[who], need=need, reason="不在本网格")
    need.refresh_from_db()
    assert need.status == "open" and need.reason == ""
    need = needs.need_decline(actor=world.users["secretary"], need=need, reason="物业已处理，电话13912345678")
    assert need.status == "declined" and "13912345678" not in need.reason
    assert Event.objects.filter(verb="volunteers_need.declined").count() == 1


def test_a_need_of_no_grid_is_planned_only_by_those_who_organise_everywhere(world):
    need = post(world)
    with pytest.raises(PermissionDenied):
        needs.need_planned(actor=world.users["grid1"], need=need)
    assert needs.need_planned(actor=world.users["secretary"], need=need).status == "planned"


# --- the board's pages -------------------------------------------------------------------------


def test_the_board_filters_and_the_detail_links_to_a_new_activity(world):
    a = post(world, grid=world.grids[0], activity_type="cleanup", title="清理楼道杂物")
    b = post(world, grid=world.grids[1], activity_type="visit", title="周末探访")
    needs.need_decline(actor=world.users["worker"], need=b, reason="重复")
    c = client_for(world.users["secretary"])
    url = reverse("volunteers:office_needs", kwargs={"code": "Y"})
    page = c.get(url).content.decode()
    assert "清理楼道杂物" in page and "周末探访" not in page          # default: open or planned
    page = c.get(url, {"status": "all", "activity_type": "visit"}).content.decode()
    assert "周末探访" in page and "清理楼道杂物" not in page
    page = c.get(url, {"status": "all", "grid": world.grids[0].pk}).content.decode()
    assert "清理楼道杂物" in page and "周末探访" not in page
    page = c.get(url, {"status": "all", "source": "case"}).content.decode()
    assert "清理楼道杂物" not in page
    grid2 = client_for(world.users["grid2"]).get(url, {"status": "all"}).content.decode()
    assert "周末探访" in grid2 and "清理楼道杂物" not in grid2
    detail = c.get(reverse("volunteers:office_need", kwargs={"code": "Y", "pk": a.pk}))
    new = reverse("volunteers:office_activity_new", kwargs={"code": "Y"}) + f"?need={a.pk}"
    assert new.encode() in detail.content and b"Make an activity" in detail.content
    assert client_for(world.users["grid2"]).get(
        reverse("volunteers:office_need", kwargs={"code": "Y", "pk": a.pk})).status_code == 404


def test_the_board_posts_closes_and_declines(world):
    c = client_for(world.users["worker"])
    url = reverse("volunteers:office_needs", kwargs={"code": "Y"})
    r = c.post(url, {"action": "post", "title": "帮忙搬家具", "activity_type": "other", "grid": world.grids[0].pk})
    need = Need.objects.get()
    assert r.status_code == 302 and need.source == "staff"
    detail = reverse("volunteers:office_need", kwargs={"code": "Y", "pk": need.pk})
    c.post(detail, {"action": "decline", "reason": ""})
    need.refresh_from_db()
    assert need.status == "open"
    c.post(detail, {"action": "close"})
    need.refresh_from_db()
    assert need.status == "closed"
    assert c.post(detail, {"action": "close"}).status_code == 409


def test_a_need_with_an_activity_lists_it(world):
    need = post(world, grid=world.grids[0])
    start = timezone.now() + dt.timedelta(days=2)
    Activity.objects.create(community=world.community, need=need, title="陪同就医", activity_type="escort",
                            place="社区医院", starts_at=start, ends_at=start + dt.timedelta(hours=2), slots=2,
                            organiser=world.users["worker"])
    page = client_for(world.users["worker"]).get(reverse("volunteers:office_need", kwargs={"code": "Y", "pk": need.pk}))
    assert "陪同就医".encode() in page.content


def test_the_daily_job_proposes_for_every_community_once(world):
    tag(world, world.households[1], "elderly-care")
    tag(world, world.households[2], "meals")
    assert needs.propose_from_tags() == {"needs": 2}
    assert needs.propose_from_tags() == {"needs": 0}
    assert set(Need.objects.values_list("activity_type", flat=True)) == {"visit", "meal_delivery"}
    from linli.core import registry

    assert "volunteers.needs_from_tags" in {job.name for job in registry.jobs()}


def test_a_resident_asks_on_their_page_and_sees_what_became_of_it(world):
    c = client_for(world.users["resident"])
    url = reverse("volunteers:ask")
    assert c.get(url).status_code == 200
    r = c.post(url, {"title": "周二想请人陪我去医院", "activity_type": "escort",
                     "description": "我的电话13912345678"})
    need = Need.objects.get()
    assert r.status_code == 302 and need.source == "resident" and need.requested_by == world.users["resident"]
    assert need.household == world.residents[0].household and "13912345678" not in need.description
    needs.need_decline(actor=world.users["worker"], need=need, reason="已联系家属陪同")
    page = c.get(url).content.decode()
    assert "周二想请人陪我去医院" in page and "已联系家属陪同" in page
    assert client_for(world.users["worker"]).get(url).status_code == 403
    neighbour = world.residents[3]
    neighbour.user = world.users["nobody"]
    neighbour.save(update_fields=["user"])
    assert "周二想请人陪我去医院" not in client_for(world.users["nobody"]).get(url).content.decode()
