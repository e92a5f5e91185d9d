"""Need tags on households (linli.community.needs, docs/needs.md): the default tree, each
derivation rule, the recomputation, the staff decisions, who sees and changes what, the
pages, the export, and the privacy of reasons.

The world (tests/conftest.py): community Y, grids G01 (buildings 0, 1) and G02 (2, 3), two
households per building (room 101 of two people, room 102 of one); residents of one-person
households born before 1960 carry the 独居老人 tag, so households 1 and 3 (G01) are elders
living alone by the registry. Community Z has one household.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone, translation

from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.community import needs
from linli.community.models import (
    Household, HouseholdNeed, NeedCategory, Resident, Tag, Unit,
)
from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.core import registry
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition

from factories import make_id_number, make_phone

NOW = timezone.now()
YEAR = timezone.localdate(NOW).year
ROLES = ["admin", "worker", "grid1", "grid2", "secretary", "leader", "unit_staff", "supervisor",
         "z_worker", "resident", "nobody", "anonymous"]
# Who may tag, confirm or dismiss a household of G01 (building 0).
CHANGES_G01 = {"admin", "worker", "grid1"}
# Which of Y's households (by index in world.households) each role finds in need lists.
SEES = {
    "admin": range(8), "worker": range(8), "secretary": range(8), "grid1": range(4), "grid2": range(4, 8),
    "leader": range(2), "unit_staff": (), "supervisor": (), "z_worker": (), "resident": (), "nobody": (),
    "anonymous": (),
}


def user_of(world, role):
    return AnonymousUser() if role == "anonymous" else world.users[role]


_serial = [500]


def add_household(world, *, building=0, room="301", ages=(40,), tags=()):
    """A new household of the world's community with members of these ages."""
    unit = Unit.objects.get(building=world.buildings[building])
    household, _created = household_get_or_create(actor=None, unit=unit, room=room)
    for i, age in enumerate(ages):
        _serial[0] += 1
        birth = dt.date(YEAR - age, 6, 1)
        facts = ResidentFacts.clean(name=f"测试人{_serial[0]}", id_number=make_id_number(birth, _serial[0]),
                                    phone=make_phone(_serial[0]), relation="head" if i == 0 else "child")
        resident_create(actor=None, household=household, facts=facts, tags=tags)
    return household


def add_case(world, household, description, *, category="elderly", days_ago=10, status=Case.Status.SUBMITTED,
             at_home=True):
    """A case of the household: placed at it, or (at_home=False) reported by one of its residents."""
    install_default_categories(actor=None, community=world.community)
    _serial[0] += 1
    reporter = Resident.objects.filter(household=household).first()
    return Case.objects.create(
        community=world.community, number=f"Y-TEST-{_serial[0]:04d}", channel=Case.Channel.WEB,
        description=description, category=Category.objects.get(community=world.community, code=category),
        status=status, created_at=NOW - dt.timedelta(days=days_ago), reporter=reporter,
        household=household if at_home else None, grid=household.grid,
        place=Case.Place.HOME if at_home else Case.Place.GRID,
    )


def recompute(world, **kwargs):
    return needs.needs_recompute(community=world.community, now=NOW, **kwargs)


def tags_of(household) -> dict[str, HouseholdNeed]:
    return {n.category.code: n for n in HouseholdNeed.objects.filter(household=household).select_related("category")}


def subcategory(world, code, community=None) -> NeedCategory:
    return NeedCategory.objects.get(community=community or world.community, code=code)


def db_state():
    state = {}
    with connection.cursor() as cursor:
        for table in ("community_householdneed", "community_needcategory", "core_event"):
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")
            state[table] = cursor.fetchall()
    return state


def personal_strings(world) -> list[str]:
    values = []
    for r in Resident.objects.all():
        values += [v.reveal() for v in (r.name, r.phone, r.id_number) if v is not None]
    return values


# The tree -----------------------------------------------------------------------------

def test_default_tree_has_five_categories_and_eleven_subcategories(world):
    created = needs.needs_install_defaults(actor=None, community=world.community)
    tops = NeedCategory.objects.filter(community=world.community, parent__isnull=True)
    subs = NeedCategory.objects.filter(community=world.community, parent__isnull=False)
    assert [c.code for c in tops.order_by("position")] == ["service", "culture", "environment", "space", "industry"]
    assert subs.count() == 11 and len(created) == 16
    assert {c.code for c in subs} == {
        "elderly-care", "meals", "childcare", "hardship", "health", "activities", "learning", "sanitation",
        "repairs", "public-space", "employment"}
    assert all(c.name_zh and c.name_en for c in subs)
    assert subcategory(world, "meals").name_zh == "助餐配餐" and subcategory(world, "meals").parent.code == "service"
    events = Event.objects.filter(verb="needs.categories_installed")
    assert events.count() == 1
    # A second run adds nothing and writes nothing; what admins edited stays.
    NeedCategory.objects.filter(community=world.community, code="meals").update(name_zh="长者助餐")
    assert needs.needs_install_defaults(actor=None, community=world.community) == []
    assert events.count() == 1 and subcategory(world, "meals").name_zh == "长者助餐"


def test_the_migration_installs_the_same_tree_for_existing_communities(world):
    migration = importlib.import_module("linli.community.migrations.0002_needs")
    assert [(c, zh, en, tuple(k[0] for k in kids)) for c, zh, en, kids in migration.DEFAULT_TREE] == [
        (t.code, t.name_zh, t.name_en, tuple(k.code for k in t.children)) for t in needs.TREE]
    migration.install_default_tree(django_apps, None)
    for community in (world.community, world.other_community):
        assert NeedCategory.objects.filter(community=community).count() == 16
    migration.install_default_tree(django_apps, None)   # communities that have a tree are left alone
    assert NeedCategory.objects.count() == 32


@pytest.mark.parametrize("role", ["worker", "grid1", "secretary", "supervisor"])
def test_only_administrators_install_the_tree(world, role):
    with pytest.raises(PermissionDenied):
        needs.needs_install_defaults(actor=world.users[role], community=world.community)
    assert not NeedCategory.objects.exists()
    assert needs.needs_install_defaults(actor=world.users["admin"], community=world.community)


def test_a_subcategory_must_hang_under_a_top_category_of_its_own_community(world):
    from django.core.exceptions import ValidationError

    needs.needs_install_defaults(actor=None, community=world.community)
    needs.needs_install_defaults(actor=None, community=world.other_community)
    node = NeedCategory(community=world.community, code="x", name_zh="x", name_en="x",
                        parent=subcategory(world, "service", world.other_community))
    with pytest.raises(ValidationError):
        node.clean()
    node.parent = subcategory(world, "meals")
    with pytest.raises(ValidationError):
        node.clean()
    node.parent = subcategory(world, "service")
    node.clean()


# Registry rules ---------------------------------------------------------------------

def test_rule_elder_living_alone_needs_one_person_aged_80(world):
    old = add_household(world, room="301", ages=(85,))
    younger = add_household(world, room="302", ages=(79,))
    couple = add_household(world, room="303", ages=(85, 84))
    recompute(world)
    need = tags_of(old)["elderly-care"]
    assert need.source == "registry" and need.evidence == "rule:registry.elder-alone"
    assert need.status == "suggested" and "85" in need.reason.reveal()
    assert "elderly-care" not in tags_of(younger) and "elderly-care" not in tags_of(couple)


def test_rule_elder_fact_tag_from_the_registry_tag(world):
    recompute(world)
    tagged = [h for h in world.households if Resident.objects.filter(household=h, tags__code="alone-elder").exists()]
    assert len(tagged) == 2
    for household in world.households:
        has = "elderly-care" in tags_of(household)
        assert has == (household in tagged)
    need = tags_of(tagged[0])["elderly-care"]
    assert need.evidence == "rule:registry.elder-tag" and "独居老人" in need.reason.reveal()


def test_rule_infant_for_a_child_under_three(world):
    baby = add_household(world, room="301", ages=(30, 2))
    toddler = add_household(world, room="302", ages=(30, 3))
    recompute(world)
    assert tags_of(baby)["childcare"].evidence == "rule:registry.infant"
    assert "childcare" not in tags_of(toddler)


def test_rule_left_behind_child_matches_the_tag_by_name(world):
    tag = Tag.objects.create(community=world.community, code="t1a2b3", name="留守儿童")   # an imported tag's code
    household = add_household(world, room="301", ages=(70, 9), tags=[tag])
    recompute(world)
    assert tags_of(household)["childcare"].evidence == "rule:registry.left-behind-child"


def test_rule_hardship_from_low_income_or_disability_tags(world):
    low = Tag.objects.create(community=world.community, code="dibao", name="低保户")
    poor = add_household(world, room="301", ages=(50,), tags=[low])
    disabled = add_household(world, room="302", ages=(50,), tags=[world.tags["disabled"]])
    plain = add_household(world, room="303", ages=(50,))
    recompute(world)
    assert tags_of(poor)["hardship"].evidence == "rule:registry.hardship"
    assert "残疾人" in tags_of(disabled)["hardship"].reason.reveal()
    assert tags_of(plain) == {}


# Case rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [r for r in needs.CASE_RULES if r.words], ids=lambda r: r.code)
def test_each_word_rule_tags_the_household_that_asked(world, rule):
    household = add_household(world, room="301", ages=(45,))
    case = add_case(world, household, f"您好，想问一下{rule.words[0]}的事情，谢谢。", category="other", at_home=False)
    recompute(world)
    need = tags_of(household)[rule.need]
    assert need.source == "case" and need.evidence == f"case:{case.number}"
    assert case.number in need.reason.reveal() and rule.words[0] in need.reason.reveal()
    assert need.expires_at == case.created_at + dt.timedelta(days=needs.CASE_WINDOW_DAYS)


def test_meals_case_from_an_elder_living_alone_gives_both_tags(world):
    household = add_household(world, room="301", ages=(88,))
    add_case(world, household, "家里有一位88岁的独居老人，腿脚不便，想了解社区有没有助餐送餐服务")
    recompute(world)
    assert {"elderly-care", "meals"} <= set(tags_of(household))
    assert list(needs.households_with_needs(world.users["worker"], codes=["elderly-care", "meals"])) == [household]


def test_rejected_merged_and_old_cases_do_not_count(world):
    household = add_household(world, room="301", ages=(45,))
    add_case(world, household, "想了解助餐服务", status=Case.Status.REJECTED)
    add_case(world, household, "想了解助餐服务", status=Case.Status.MERGED)
    add_case(world, household, "想了解助餐服务", days_ago=needs.CASE_WINDOW_DAYS + 5)
    recompute(world)
    assert "meals" not in tags_of(household)


def test_repairs_need_two_repair_cases_at_home(world):
    household = add_household(world, room="301", ages=(45,))
    add_case(world, household, "卫生间漏水", category="property-repair", days_ago=100)
    recompute(world)
    assert "repairs" not in tags_of(household)
    second = add_case(world, household, "电梯又坏了", category="property-lift", days_ago=20)
    recompute(world)
    need = tags_of(household)["repairs"]
    assert need.evidence.endswith(second.number) and need.evidence.count(",") == 1
    # Reported from the courtyard, not at home: it does not count.
    other = add_household(world, room="302", ages=(45,))
    add_case(world, other, "楼道漏水", category="property-repair", at_home=False)
    add_case(world, other, "楼道又漏水", category="property-repair", at_home=False)
    recompute(world)
    assert "repairs" not in tags_of(other)


def test_service_sources_feed_tags(world):
    household = world.households[4]

    def canteen(community, now):
        if community == world.community:
            yield needs.Finding(household.pk, "meals", "每天中午在友邻食堂用餐", "canteen:7")

    needs.register_service_source("test-canteen", canteen)
    try:
        recompute(world)
    finally:
        needs.unregister_service_source("test-canteen")
    need = tags_of(household)["meals"]
    assert need.source == "service" and need.evidence == "canteen:7"
    recompute(world)   # the source is gone: so is the tag it alone gave
    assert "meals" not in tags_of(household)


def test_case_facts_come_from_the_hook_point_not_from_the_cases_app(world):
    """Community reads what residents asked for only through NEED_SIGNALS: a provider
    registered there feeds the case rules, oldest fact first, with the window's start."""
    household = world.households[4]
    asked = []

    def visits(community, since):
        asked.append((community, since))
        if community != world.community:
            return []
        return [needs.CaseFact("VISIT-2", household.pk, True, (), "想报名合唱团", NOW - dt.timedelta(days=1)),
                needs.CaseFact("VISIT-1", household.pk, True, (), "想了解助餐服务", NOW - dt.timedelta(days=3))]

    saved = registry.snapshot()
    try:
        registry.register_hook(needs.NEED_SIGNALS, "test-visits", visits)
        facts = needs.load_cases(world.community, NOW)
        recompute(world)
    finally:
        registry.restore(saved)
    assert [f.number for f in facts if f.number.startswith("VISIT-")] == ["VISIT-1", "VISIT-2"]
    assert (world.community, NOW - dt.timedelta(days=needs.CASE_WINDOW_DAYS)) in asked
    tags = tags_of(household)
    assert tags["meals"].evidence == "case:VISIT-1" and tags["activities"].evidence == "case:VISIT-2"
    assert tags["meals"].source == "case"


def test_the_cases_app_hands_its_cases_in_at_the_hook_point():
    from linli.cases.need_signals import case_signals

    assert case_signals in registry.hooks(needs.NEED_SIGNALS)


# Recomputation ------------------------------------------------------------------------

def _rows():
    return sorted((n.household_id, n.category_id, n.status, n.source, n.evidence, n.reason.reveal(), n.expires_at)
                  for n in HouseholdNeed.objects.all())


def test_recompute_is_idempotent_and_writes_one_summary_event(world):
    household = add_household(world, room="301", ages=(88,))
    add_case(world, household, "想了解助餐送餐服务")
    first = recompute(world)
    rows = _rows()
    assert first["added"] == len(rows) >= 4
    events = Event.objects.filter(verb="needs.recomputed")
    assert events.count() == 1
    second = recompute(world)
    assert (second["added"], second["updated"], second["removed"]) == (0, 0, 0)
    assert second["unchanged"] == len(rows)
    assert _rows() == rows and events.count() == 1
    data = events.get().data
    assert data["added"] == len(rows) and data["by_category"]["elderly-care"] == 3
    assert set(data) == {"added", "updated", "removed", "unchanged", "kept_confirmed", "kept_dismissed",
                         "by_category"}


def test_recompute_removes_tags_whose_evidence_is_gone_but_keeps_staff_decisions(world):
    a, b, c = world.households[1], world.households[3], add_household(world, room="301", ages=(85,))
    recompute(world)
    worker = world.users["worker"]
    needs.household_need_dismiss(actor=worker, need=tags_of(a)["elderly-care"], reason="已随子女搬走")
    needs.household_need_confirm(actor=worker, need=tags_of(b)["elderly-care"], reason="入户核实")
    # The evidence of all three goes away.
    for household in (a, b):
        for r in Resident.objects.filter(household=household):
            r.tags.clear()
    Resident.objects.filter(household=c).update(birth_year=YEAR - 60)
    counts = recompute(world)
    assert counts["removed"] == 1
    assert tags_of(a)["elderly-care"].status == "dismissed"
    assert tags_of(b)["elderly-care"].status == "confirmed"
    assert "elderly-care" not in tags_of(c)
    # Evidence back: the dismissed tag stays dismissed, nothing is added twice.
    Resident.objects.get(household=a).tags.add(world.tags["alone"])
    counts = recompute(world)
    assert counts["kept_dismissed"] == 1 and counts["added"] == 0
    assert tags_of(a)["elderly-care"].status == "dismissed"


def test_recompute_updates_a_reason_that_changed(world):
    household = add_household(world, room="301", ages=(85,))
    recompute(world)
    Resident.objects.filter(household=household).update(birth_year=YEAR - 86)
    assert recompute(world)["updated"] == 1
    assert "86" in tags_of(household)["elderly-care"].reason.reveal()


def test_a_deactivated_subcategory_loses_its_suggested_tags(world):
    recompute(world)
    NeedCategory.objects.filter(community=world.community, code="elderly-care").update(active=False)
    recompute(world)
    assert not HouseholdNeed.objects.filter(category__code="elderly-care").exists()


def test_recompute_all_covers_every_community_and_is_the_job(world):
    totals = needs.recompute_all()
    assert totals["communities"] == 2
    assert NeedCategory.objects.filter(community=world.other_community).count() == 16
    assert totals["added"] == HouseholdNeed.objects.count() > 0


@pytest.mark.parametrize("role", ["grid1", "secretary", "leader", "supervisor", "unit_staff", "z_worker"])
def test_only_community_workers_recompute_on_demand(world, role):
    with pytest.raises(PermissionDenied):
        recompute(world, actor=world.users[role])
    assert not HouseholdNeed.objects.exists()
    assert recompute(world, actor=world.users["worker"])["added"] > 0


# Privacy ------------------------------------------------------------------------------

def test_reasons_are_sealed_at_rest(world):
    household = add_household(world, room="301", ages=(87,))
    add_case(world, household, "老人一个人在家，想申请助餐送餐服务")
    recompute(world)
    need = tags_of(household)["meals"]
    needs.household_need_dismiss(actor=world.users["worker"], need=need, reason="老人已入住养老院")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason, decision_reason, evidence FROM community_householdneed")
        rows = cursor.fetchall()
    assert rows
    for reason, decision, evidence in rows:
        assert reason.startswith("v1.") and (decision is None or decision.startswith("v1."))
    text = repr(rows)
    plaintexts = [n.reason.reveal() for n in HouseholdNeed.objects.all()]
    assert any("助餐送餐" in p for p in plaintexts) and any("87" in p for p in plaintexts)
    for plain in [*plaintexts, "助餐送餐", "独居老人", "老人已入住养老院"]:
        assert plain not in text
    assert HouseholdNeed.objects.get(pk=need.pk).decision_reason.reveal() == "老人已入住养老院"


def test_events_of_needs_hold_no_personal_data(world):
    household = add_household(world, room="301", ages=(87,))
    add_case(world, household, "想申请助餐送餐服务")
    recompute(world)
    worker = world.users["worker"]
    needs.household_need_add(actor=worker, household=world.households[0], category=subcategory(world, "health"),
                             reason="张小明1需要陪诊")
    needs.household_need_dismiss(actor=worker, need=tags_of(household)["meals"], reason="家属已安排")
    needs.needs_export(actor=worker, households=needs.households_with_needs(worker), criteria={"needs": []})
    events = Event.objects.filter(verb__regex=r"^(needs|household_need)\.")
    assert {e.verb for e in events} == {"needs.categories_installed", "needs.recomputed", "household_need.added",
                                        "household_need.dismissed", "needs.exported"}
    text = repr([e.data for e in events])
    for plain in [*personal_strings(world), "陪诊", "家属已安排", "助餐送餐", "87"]:
        assert plain not in text


# Staff decisions --------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_adding_a_tag_is_allowed_to_office_workers_and_the_grid_worker_only(world, role):
    household = world.households[0]   # G01, building 0
    user = user_of(world, role)
    needs.needs_install_defaults(actor=None, community=world.community)
    before = db_state()
    if role in CHANGES_G01:
        need = needs.household_need_add(actor=user, household=household, category=subcategory(world, "health"),
                                        reason="需要定期陪同就医")
        assert (need.status, need.source, need.assigned_by) == ("confirmed", "staff", user)
        assert need.reason.reveal() == "需要定期陪同就医"
        event = Event.objects.get(verb="household_need.added")
        assert event.data == {"category": "health", "previous": ""} and event.grid_id == household.grid_id
    else:
        with pytest.raises(PermissionDenied):
            needs.household_need_add(actor=user, household=household, category=subcategory(world, "health"),
                                     reason="需要定期陪同就医")
        assert db_state() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["confirm", "dismiss"])
def test_confirm_and_dismiss_follow_the_same_rule(world, role, action):
    recompute(world)
    need = tags_of(world.households[1])["elderly-care"]   # G01, building 0
    user = user_of(world, role)
    service = needs.household_need_confirm if action == "confirm" else needs.household_need_dismiss
    before = db_state()
    if role in CHANGES_G01:
        service(actor=user, need=need, reason="入户核实过")
        need.refresh_from_db()
        assert need.status == ("confirmed" if action == "confirm" else "dismissed") and need.decided_by == user
        assert Event.objects.filter(verb=f"household_need.{action}ed", target_id=str(need.pk)).count() == 1
    else:
        with pytest.raises(PermissionDenied):
            service(actor=user, need=need, reason="入户核实过")
        assert db_state() == before


def test_bad_input_is_refused_and_changes_nothing(world):
    worker = world.users["worker"]
    household = world.households[0]
    needs.needs_install_defaults(actor=None, community=world.community)
    needs.needs_install_defaults(actor=None, community=world.other_community)
    recompute(world)
    before = db_state()
    for category, reason, code in (
        (subcategory(world, "health"), " ", "reason_required"),
        (subcategory(world, "health"), "x" * 201, "invalid"),
        (subcategory(world, "service"), "需要帮助", "invalid"),                          # a top category
        (subcategory(world, "health", world.other_community), "需要帮助", "invalid"),     # another community
    ):
        with pytest.raises(InvalidInput) as exc:
            needs.household_need_add(actor=worker, household=household, category=category, reason=reason)
        assert exc.value.code == code
    need = tags_of(world.households[1])["elderly-care"]
    with pytest.raises(InvalidInput):
        needs.household_need_dismiss(actor=worker, need=need, reason="")
    assert db_state() == before
    needs.household_need_confirm(actor=worker, need=need)
    with pytest.raises(InvalidInput):
        needs.household_need_confirm(actor=worker, need=need)
    with pytest.raises(InvalidInput):
        needs.household_need_add(actor=worker, household=world.households[1],
                                 category=subcategory(world, "elderly-care"), reason="重复")


def test_adding_a_dismissed_tag_again_restores_it_as_staffs(world):
    recompute(world)
    worker = world.users["worker"]
    need = tags_of(world.households[1])["elderly-care"]
    needs.household_need_dismiss(actor=worker, need=need, reason="搬走了")
    again = needs.household_need_add(actor=worker, household=world.households[1],
                                     category=subcategory(world, "elderly-care"), reason="又搬回来了")
    assert again.pk == need.pk and again.status == "confirmed" and again.source == "staff"
    assert Event.objects.get(verb="household_need.added").data["previous"] == "dismissed"


def test_each_staff_decision_is_one_move_of_the_need_workflow(world):
    recompute(world)
    worker = world.users["worker"]
    need = tags_of(world.households[1])["elderly-care"]
    before = Event.objects.count()
    needs.household_need_dismiss(actor=worker, need=need, reason="已搬走")
    needs.household_need_confirm(actor=worker, need=need, reason="又搬回来了")
    needs.household_need_dismiss(actor=worker, need=need, reason="核实有误")
    needs.household_need_add(actor=worker, household=world.households[1],
                             category=subcategory(world, "elderly-care"), reason="入户核实需要照护")
    moves = list(Event.objects.filter(target_id=str(need.pk), verb__startswith="household_need.")
                 .order_by("pk").values_list("verb", "data"))
    assert Event.objects.count() == before + 4
    assert [(verb, data["from"], data["to"], data["previous"], data["category"]) for verb, data in moves] == [
        ("household_need.dismissed", "suggested", "dismissed", "suggested", "elderly-care"),
        ("household_need.confirmed", "dismissed", "confirmed", "dismissed", "elderly-care"),
        ("household_need.dismissed", "confirmed", "dismissed", "confirmed", "elderly-care"),
        ("household_need.added", "dismissed", "confirmed", "dismissed", "elderly-care"),
    ]
    need.refresh_from_db()
    assert (need.status, need.source, need.decided_by) == ("confirmed", "staff", worker)


def test_the_need_workflow_refuses_moves_its_table_does_not_have(world):
    recompute(world)
    worker = world.users["worker"]
    need = tags_of(world.households[1])["elderly-care"]
    needs.household_need_dismiss(actor=worker, need=need, reason="已搬走")
    before = db_state()
    with pytest.raises(InvalidInput) as refused:
        needs.household_need_dismiss(actor=worker, need=need, reason="再说一次")
    assert refused.value.code == "unchanged"
    assert db_state() == before
    with pytest.raises(IllegalTransition):
        needs.NEED.check_move("dismiss", HouseholdNeed.Status.DISMISSED)
    assert needs.NEED.allowed(worker, HouseholdNeed.objects.get(pk=need.pk)) == ["add", "confirm"]
    assert needs.NEED.allowed(world.users["secretary"], HouseholdNeed.objects.get(pk=need.pk)) == []


def test_a_suggestion_the_recomputation_removed_cannot_be_decided(world):
    household = add_household(world, room="301", ages=(87,))
    recompute(world)
    need = tags_of(household)["elderly-care"]
    HouseholdNeed.objects.filter(pk=need.pk).delete()   # what the next recomputation does when the evidence goes
    with pytest.raises(NotFound):
        needs.household_need_confirm(actor=world.users["worker"], need=need)


def test_need_events_are_labelled_in_the_event_log(world):
    with translation.override("en"):
        assert str(registry.event_label("household_need.added")) == "tagged a household's need"
        assert str(registry.event_label("household_need.confirmed")) == "confirmed a household's need"
        assert str(registry.event_label("household_need.dismissed")) == "dismissed a household's need"
        assert str(registry.event_label("needs.recomputed")) == "recomputed need tags"


def test_the_recomputation_is_a_registered_job():
    (job,) = [j for j in registry.jobs() if j.name == "community.needs"]
    assert job.every_seconds == 3600 and registry.resolve_job(job) is needs.recompute_all


# Selectors ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_need_lists_are_scoped_like_the_registry(world, role):
    needs.needs_install_defaults(actor=None, community=world.community)
    for household in world.households:
        needs.household_need_add(actor=world.users["admin"], household=household,
                                 category=subcategory(world, "health"), reason="核实")
    user = user_of(world, role)
    expected = {world.households[i].pk for i in SEES[role]}
    assert set(needs.households_with_needs(user).values_list("pk", flat=True)) == expected
    # A filter never widens the scope.
    assert set(needs.households_with_needs(user, grid_id=world.grids[1].pk).values_list("pk", flat=True)) <= expected
    for household in world.households:
        if household.pk in expected:
            assert needs.household_need_get(user, tags_of(household).popitem()[1].pk)
        else:
            with pytest.raises(NotFound):
                needs.household_need_get(user, tags_of(household).popitem()[1].pk)


def test_combinations_all_and_any_and_registry_filters(world):
    needs.needs_install_defaults(actor=None, community=world.community)
    admin = world.users["admin"]
    h = world.households
    for household, codes in ((h[0], ["elderly-care", "meals"]), (h[1], ["elderly-care"]), (h[4], ["meals"])):
        for code in codes:
            needs.household_need_add(actor=admin, household=household, category=subcategory(world, code),
                                     reason="核实")
    worker = world.users["worker"]

    def found(**kw):
        return set(needs.households_with_needs(worker, **kw))

    assert found(codes=["elderly-care", "meals"]) == {h[0]}
    assert found(codes=["elderly-care", "meals"], match_all=False) == {h[0], h[1], h[4]}
    assert found(codes=["meals"], grid_id=world.grids[1].pk) == {h[4]}
    assert found(codes=["meals"], building_id=world.buildings[0].pk) == {h[0]}
    ages = {YEAR - r.birth_year for r in Resident.objects.filter(household=h[4])}
    band = next(i for i, (lo, hi, _l) in enumerate(needs_bands()) if any(lo <= a <= hi for a in ages))
    assert h[4] in found(codes=["meals"], age_band=band)
    assert found(codes=["meals"], age_band=0) == set()
    assert needs.need_counts(needs.households_with_needs(worker, codes=["meals"])) == {"elderly-care": 1, "meals": 2}
    assert needs.need_counts(needs.households_with_needs(world.users["grid2"])) == {"meals": 1}


def needs_bands():
    from linli.community.selectors import AGE_BANDS

    return AGE_BANDS


@pytest.mark.parametrize("role", ROLES)
def test_street_supervisors_get_counts_per_community_and_tag_only(world, role):
    recompute(world)
    needs.recompute_all()
    rows = needs.street_need_counts(user_of(world, role))
    if role != "supervisor":
        assert rows == []
        return
    assert [r["community"] for r in rows] == [world.community, world.other_community]
    y = rows[0]
    assert set(y) == {"community", "households", "counts"}
    assert y["counts"] == {"elderly-care": 2} and y["households"] == 2
    assert rows[1]["counts"] == {} and rows[1]["households"] == 0
    assert not needs.households_with_needs(user_of(world, role)).exists()


# Pages ------------------------------------------------------------------------------------

LIST = "/console/needs/"
EXPORT = "/console/needs/export.csv"


def household_url(household):
    return f"/console/households/{household.pk}/needs/"


def client_for(client, world, role):
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


PAGE_STATUS = {"unit_staff": 403, "resident": 403, "nobody": 403, "anonymous": 302}


@pytest.mark.parametrize("role", ROLES)
def test_the_needs_page_for_every_role(client, world, role):
    recompute(world)
    response = client_for(client, world, role).get(LIST)
    assert response.status_code == PAGE_STATUS.get(role, 200)
    if response.status_code != 200:
        return
    text = response.content.decode()
    assert response["Cache-Control"].count("no-store") == 1
    links = {h.pk for h in world.households if household_url(h) in text}
    tagged = {world.households[1].pk, world.households[3].pk}
    assert links == tagged & {world.households[i].pk for i in SEES[role]}
    for plain in personal_strings(world):
        assert plain not in text
    if role == "supervisor":
        assert "grid-table" in text and "Y社区" in text
    else:
        assert "grid-table" not in text


@pytest.mark.parametrize("role", ROLES)
def test_the_household_needs_page_for_every_role(client, world, role):
    recompute(world)
    household = world.households[1]   # G01, building 0, an elder living alone
    reason = tags_of(household)["elderly-care"].reason.reveal()
    response = client_for(client, world, role).get(household_url(household))
    expected = {"admin": 200, "worker": 200, "secretary": 200, "grid1": 200, "leader": 200,
                "grid2": 404, "z_worker": 404}.get(role, PAGE_STATUS.get(role, 403))
    assert response.status_code == expected
    if expected == 200:
        text = response.content.decode()
        assert reason in text
        assert ('name="action" value="dismiss"' in text) == (role in CHANGES_G01)


@pytest.mark.parametrize("role", ["admin", "grid1", "secretary", "leader", "grid2"])
def test_posting_on_the_household_page(client, world, role):
    recompute(world)
    household = world.households[1]
    need = tags_of(household)["elderly-care"]
    c = client_for(client, world, role)
    before = db_state()
    response = c.post(household_url(household), {"action": "dismiss", "need": need.pk, "reason": "已搬走"})
    if role in CHANGES_G01:
        assert response.status_code == 302
        assert tags_of(household)["elderly-care"].status == "dismissed"
        response = c.post(household_url(household), {"action": "add", "category": subcategory(world, "health").pk,
                                                     "reason": "需要陪诊"})
        assert response.status_code == 302 and tags_of(household)["health"].status == "confirmed"
        # A dismissal without a reason is refused on the page, nothing changes.
        state = db_state()
        response = c.post(household_url(household), {"action": "dismiss", "need": tags_of(household)["health"].pk,
                                                     "reason": ""})
        assert response.status_code == 200 and db_state() == state
    else:
        assert response.status_code in (403, 404)
        assert db_state() == before


def test_a_tag_of_another_household_cannot_be_decided_through_this_page(client, world):
    recompute(world)
    other = tags_of(world.households[3])["elderly-care"]   # G01 as well, building 1
    c = client_for(client, world, "grid1")
    before = db_state()
    response = c.post(household_url(world.households[1]), {"action": "dismiss", "need": other.pk, "reason": "错"})
    assert response.status_code == 404 and db_state() == before


def test_recompute_button_for_community_workers(client, world):
    c = client_for(client, world, "worker")
    assert c.post("/console/needs/recompute/", {"community": world.community.pk}).status_code == 302
    assert HouseholdNeed.objects.count() == 2
    c = client_for(client, world, "secretary")
    assert c.post("/console/needs/recompute/", {"community": world.community.pk}).status_code == 403


# Export -----------------------------------------------------------------------------------

def test_export_is_masked_and_audited(client, world):
    recompute(world)
    c = client_for(client, world, "worker")
    response = c.get(EXPORT + "?need=elderly-care")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 3
    for plain in personal_strings(world):
        assert plain not in body
    heads = {str(Resident.objects.get(household=h).name) for h in (world.households[1], world.households[3])}
    assert {row[5] for row in rows[1:]} == heads and all("*" in h for h in heads)
    event = Event.objects.get(verb="needs.exported")
    assert event.actor == world.users["worker"] and event.community_id == world.community.pk
    assert event.data == {"rows": 2, "criteria": {"needs": ["elderly-care"], "match": "all", "grid": None,
                                                  "building": None, "age_band": None}}


@pytest.mark.parametrize("role", ["supervisor", "unit_staff", "resident", "nobody"])
def test_export_is_denied_without_the_registry(client, world, role):
    recompute(world)
    response = client_for(client, world, role).get(EXPORT)
    assert response.status_code == 403
    assert not Event.objects.filter(verb="needs.exported").exists()
    with pytest.raises(PermissionDenied):
        needs.needs_export(actor=world.users[role], households=Household.objects.all(), criteria={})
