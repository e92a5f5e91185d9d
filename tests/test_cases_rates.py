"""The three rates on a hand-built set of cases, with exact expected values: by grid, unit,
category, period and date range; the unrated policy; rankings; drill-down to the cases behind
every number; CSV and Excel export. Then the rollup: random case lives driven through the
services must give, summed from the rollup, exactly the live count from the Case table.

The set (Y community; lift cases go to the property company, rubbish cases to the street's
city-management department):

    case  grid  category  month  what happened                                      unit
    A     G01   lift      Jan    accepted in time, resolved, rated satisfied        property
    B     G01   lift      Jan    accepted late, resolved, rated basic               property
    C     G01   rubbish   Jan    accepted late, dispatched, no contact              street dept
    D     G02   rubbish   Feb    accepted in time                                   none
    E     G02   lift      Feb    resolved, rated unsatisfied: reopened              property
    F     G02   rubbish   Feb    resolved, closed unrated by the tick               street dept
    G     G01   lift      Jan    submitted only, response deadline passed: late     none
    H     G01   rubbish   Feb    rejected in time (submitted 1 Feb 00:30 Chengdu)  none
    I     G01   lift      Jan    merged into C: never counted                      none
    J     G02   lift      Feb    resolved, awaiting rating                          property

Responded: accepted, rejected with a reason or the resident contacted, whichever came first,
against the response deadline counted from receipt. "Late" is simulated by moving a waiting
case's deadline an hour into the past before it is answered.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone, translation
from openpyxl import load_workbook

from linli.cases import jobs, rollup, selectors
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, CaseRollup, Category
from linli.cases.rates import (
    DIMENSIONS, MEASURES, UNRATED_POLICIES, RateRow, cases_behind, community_reach, period_label, ranking,
    rates_csv, rates_xlsx, reach_of, three_rates, three_rates_live,
)
from linli.cases.services import (
    Intake, case_accept, case_contact, case_dispatch, case_merge, case_rate, case_reject, case_resolve,
    case_return, case_start, case_submit, case_transfer, case_visit_back,
)
from linli.community.models import Organisation
from linli.core.errors import InvalidInput

CHENGDU = timezone.get_fixed_timezone(8 * 60)
JAN = dt.datetime(2025, 1, 15, 12, 0, tzinfo=CHENGDU)
FEB = dt.datetime(2025, 2, 10, 12, 0, tzinfo=CHENGDU)
FEB_FIRST_MINUTES = dt.datetime(2025, 2, 1, 0, 30, tzinfo=CHENGDU)  # still 31 January in UTC


class Set:
    pass


@pytest.fixture
def cases(world):
    """The ten cases above, built through the services; only times are set by hand."""
    y = world.community
    street_department = Organisation.objects.create(
        kind=Organisation.Kind.STREET_DEPARTMENT, name="驷马桥街道城市管理科", street=world.street)
    install_default_categories(actor=None, community=y)
    cat = {c.code: c for c in Category.objects.filter(community=y)}
    u = world.users
    g01_home, g02_home = world.households[0], world.households[4]

    def submit(category, household):
        case, _ = case_submit(actor=u["worker"], intake=Intake(
            community=y, channel=Case.Channel.PHONE, description="居民来电反映的问题，请处理",
            category=cat[category], household=household, place=Case.Place.HOME, contact_phone="13912345678"))
        return case

    def accepted(category, household):
        return case_accept(actor=u["worker"], case=submit(category, household))

    def dispatched(category, household):
        return case_dispatch(actor=u["worker"], case=accepted(category, household))

    def make_late(case):
        # Simulated time: the response deadline, counted from receipt, passed an hour ago.
        Case.objects.filter(pk=case.pk).update(response_due=timezone.now() - dt.timedelta(hours=1))
        return Case.objects.get(pk=case.pk)

    def resolve(case):
        return case_resolve(actor=u[unit_staff(case)], case=case, resolution="已处理完毕")

    def unit_staff(case):
        return "unit_staff" if case.unit_id == world.property_company.pk else "worker"

    s = Set()
    s.street_department, s.categories = street_department, cat
    s.A = resolve(case_start(actor=u["unit_staff"], case=dispatched("property-lift", g01_home)))
    s.A = case_visit(u, s.A, "satisfied")
    s.B = case_accept(actor=u["worker"], case=make_late(submit("property-lift", g01_home)))
    s.B = case_start(actor=u["unit_staff"], case=case_dispatch(actor=u["worker"], case=s.B))
    s.B = case_visit(u, resolve(s.B), "basic")
    s.C = case_accept(actor=u["worker"], case=make_late(submit("sanitation-waste", g01_home)))
    s.C = case_dispatch(actor=u["worker"], case=s.C)
    s.D = accepted("sanitation-waste", g02_home)
    s.E = case_visit(u, resolve(dispatched("property-lift", g02_home)), "unsatisfied")
    s.F = resolve(dispatched("sanitation-waste", g02_home))
    report = jobs.run_tick(now=s.F.resolved_at + dt.timedelta(days=8))
    assert report.closed == 1
    s.G = make_late(submit("property-lift", g01_home))
    s.H = case_reject(actor=u["worker"], case=submit("sanitation-waste", g01_home), reason="非本社区事务")
    s.I = case_merge(actor=u["worker"], case=submit("property-lift", g01_home), master=s.C)
    s.J = resolve(dispatched("property-lift", g02_home))
    for name, when in (("A", JAN), ("B", JAN), ("C", JAN), ("G", JAN), ("I", JAN),
                       ("D", FEB), ("E", FEB), ("F", FEB), ("J", FEB), ("H", FEB_FIRST_MINUTES)):
        Case.objects.filter(pk=getattr(s, name).pk).update(created_at=when)
    rollup.rebuild()  # the times above were set past the services
    s.world = world
    s.g01, s.g02 = world.grids
    s.all = Case.objects.filter(community=y)
    return s


def case_visit(u, case, rating):
    """The resident's rating, as recorded on the visit-back call (these cases came in by phone)."""
    return case_visit_back(actor=u["worker"], case=case, rating=rating)


def counts(**values) -> dict:
    base = dict.fromkeys(MEASURES, 0)
    base.update(values)
    base["satisfied_or_basic"] = base.pop("content", base["satisfied_or_basic"])
    return base


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_the_set_is_what_the_table_says(cases):
    stored = {name: Case.objects.get(pk=getattr(cases, name).pk) for name in "ABCDEFGHIJ"}
    assert [stored[n].status for n in "ABCDEFGHIJ"] == [
        "closed", "closed", "dispatched", "accepted", "dispatched", "closed", "submitted", "rejected",
        "merged", "resolved"]
    assert [stored[n].unit_id for n in "ABCDEFGHIJ"] == [cases.world.property_company.pk] * 2 + [
        cases.street_department.pk, None, cases.world.property_company.pk, cases.street_department.pk,
        None, None, None, cases.world.property_company.pk]
    assert (stored["E"].reopen_count, stored["E"].rating, stored["F"].rating) == (1, "unsatisfied", "")
    assert stored["B"].first_contact_at > stored["B"].accepted_at > stored["B"].response_due
    assert stored["C"].first_contact_at is None and stored["C"].accepted_at > stored["C"].response_due
    assert stored["D"].responded_at == stored["D"].accepted_at < stored["D"].response_due
    assert stored["G"].responded_at is None and stored["G"].response_due < timezone.now()
    assert stored["H"].responded_at == stored["H"].closed_at < stored["H"].response_due


def test_the_three_rates_of_the_whole_set(cases):
    [total] = three_rates(cases.all)
    assert total.key == {} and total.counts == counts(
        submitted=9, response_due=9, responded_in_time=6, accepted=7, resolved=4,
        rated=3, content=2, satisfied=1, basic=1, unsatisfied=1, unrated_closed=1)
    assert total.response_rate == 6 / 9
    assert total.resolution_rate == 4 / 7
    assert total.satisfaction_rate == 2 / 3


@pytest.mark.parametrize("policy,rated,content,rate", [
    ("exclude", 3, 2, 2 / 3),
    ("satisfied", 4, 3, 3 / 4),
    ("unsatisfied", 4, 2, 2 / 4),
])
def test_the_unrated_policy_decides_how_closed_unrated_cases_count(cases, settings, policy, rated, content, rate):
    [row] = three_rates(cases.all, unrated_policy=policy)
    assert (row.counts["rated"], row.counts["satisfied_or_basic"], row.satisfaction_rate) == (rated, content, rate)
    settings.LINLI_UNRATED_POLICY = policy
    [from_setting] = three_rates(cases.all)
    assert from_setting.satisfaction_rate == rate
    behind = cases_behind(cases.all, measure="satisfied_or_basic")
    assert ids(behind) == {cases.A.pk, cases.B.pk} | ({cases.F.pk} if policy == "satisfied" else set())


def test_an_unknown_unrated_policy_is_an_error(cases, settings):
    settings.LINLI_UNRATED_POLICY = "generous"
    with pytest.raises(InvalidInput):
        three_rates(cases.all)


def test_rates_by_grid(cases):
    g01, g02 = three_rates(cases.all, by="grid")
    assert (g01.key, g01.labels, g02.key) == ({"grid": cases.g01.pk}, {"grid": "1号院"}, {"grid": cases.g02.pk})
    assert g01.counts == counts(submitted=5, response_due=5, responded_in_time=2, accepted=3, resolved=2,
                                rated=2, content=2, satisfied=1, basic=1)
    assert g02.counts == counts(submitted=4, response_due=4, responded_in_time=4, accepted=4, resolved=2,
                                rated=1, unsatisfied=1, unrated_closed=1)
    assert (g01.response_rate, g01.resolution_rate, g01.satisfaction_rate) == (2 / 5, 2 / 3, 1.0)
    assert (g02.response_rate, g02.resolution_rate, g02.satisfaction_rate) == (1.0, 0.5, 0.0)


def test_rates_by_unit_keep_cases_without_a_unit_apart(cases):
    with translation.override("en"):
        rows = {row.key["unit"]: row for row in three_rates(cases.all, by="unit")}
    prop, street, none = rows[cases.world.property_company.pk], rows[cases.street_department.pk], rows[None]
    assert prop.counts == counts(submitted=4, response_due=4, responded_in_time=3, accepted=4, resolved=3,
                                 rated=3, content=2, satisfied=1, basic=1, unsatisfied=1)
    assert street.counts == counts(submitted=2, response_due=2, responded_in_time=1, accepted=2, resolved=1,
                                   unrated_closed=1)
    assert none.counts == counts(submitted=3, response_due=3, responded_in_time=2, accepted=1)
    assert (street.satisfaction_rate, none.response_rate, none.resolution_rate) == (None, 2 / 3, 0.0)
    assert none.labels["unit"] == "(none)"


def test_subcategories_count_under_their_top_category(cases):
    by_leaf = {row.key["category"]: row.counts["submitted"] for row in three_rates(cases.all, by="category")}
    assert by_leaf == {cases.categories["property-lift"].pk: 5, cases.categories["sanitation-waste"].pk: 4}
    with translation.override("en"):
        prop, sanitation = three_rates(cases.all, by="top_category")
    assert (prop.key, prop.labels) == ({"top_category": cases.categories["property"].pk},
                                       {"top_category": "Property management"})
    assert prop.counts == counts(submitted=5, response_due=5, responded_in_time=3, accepted=4, resolved=3,
                                 rated=3, content=2, satisfied=1, basic=1, unsatisfied=1)
    assert sanitation.counts == counts(submitted=4, response_due=4, responded_in_time=3, accepted=3, resolved=1,
                                       unrated_closed=1)


def test_rates_by_month_count_days_in_chengdu_time(cases):
    jan, feb = three_rates(cases.all, by="month")
    assert (jan.key, jan.labels, feb.key, feb.labels) == (
        {"month": dt.date(2025, 1, 1)}, {"month": "2025-01"}, {"month": dt.date(2025, 2, 1)}, {"month": "2025-02"})
    assert jan.counts == counts(submitted=4, response_due=4, responded_in_time=1, accepted=3, resolved=2,
                                rated=2, content=2, satisfied=1, basic=1)
    assert feb.counts == counts(submitted=5, response_due=5, responded_in_time=5, accepted=4, resolved=2,
                                rated=1, unsatisfied=1, unrated_closed=1)
    [quarter] = three_rates(cases.all, by="quarter")
    [year] = three_rates(cases.all, by="year")
    assert (quarter.labels["quarter"], quarter.counts["submitted"]) == ("2025-Q1", 9)
    assert (year.labels["year"], year.counts["submitted"]) == ("2025", 9)


def test_rates_by_grid_and_month(cases):
    rows = three_rates(cases.all, by=("grid", "month"))
    assert [(r.labels["grid"], r.labels["month"], r.counts["submitted"], r.counts["accepted"]) for r in rows] == [
        ("1号院", "2025-01", 4, 3), ("1号院", "2025-02", 1, 0), ("2号院", "2025-02", 4, 4)]


def test_a_date_range_includes_both_end_days(cases):
    [feb] = three_rates(cases.all, start=dt.date(2025, 2, 1), end=dt.date(2025, 2, 28))
    assert feb.counts["submitted"] == 5
    [one_day] = three_rates(cases.all, start=dt.date(2025, 1, 15), end=dt.date(2025, 1, 15))
    assert one_day.counts["submitted"] == 4
    [january] = three_rates(cases.all, end=dt.date(2025, 1, 31))
    assert january.counts["submitted"] == 4  # H came in at 00:30 on 1 February, Chengdu time
    with pytest.raises(InvalidInput):
        three_rates(cases.all, start=dt.date(2025, 2, 1), end=dt.date(2025, 1, 1))


def test_rates_only_count_the_cases_the_reader_may_see(cases):
    [grid2] = three_rates(selectors.cases_for(cases.world.users["grid2"]))
    assert (grid2.counts["submitted"], grid2.counts["accepted"], grid2.resolution_rate) == (4, 4, 0.5)
    [nothing] = three_rates(selectors.cases_for(cases.world.users["nobody"]))
    assert nothing.counts == counts() and nothing.response_rate is None


def test_an_unknown_grouping_or_measure_is_an_error(cases):
    for bad in ({"by": "street"}, {"by": ("grid", "grid")}):
        with pytest.raises(InvalidInput):
            three_rates(cases.all, **bad)
    with pytest.raises(InvalidInput):
        cases_behind(cases.all, measure="happiness")
    with pytest.raises(InvalidInput):
        ranking(cases.all, by="grid", rate="speed")


# --- drill-down ---------------------------------------------------------------------------------------


def test_drill_down_lists_the_cases_behind_a_number(cases):
    s = cases
    assert ids(cases_behind(s.all, measure="responded_in_time", key={"grid": s.g01.pk})) == {s.A.pk, s.H.pk}
    assert ids(cases_behind(s.all, measure="response", key={"grid": s.g01.pk})) == {
        s.A.pk, s.B.pk, s.C.pk, s.G.pk, s.H.pk}
    assert ids(cases_behind(s.all, measure="resolved", key={"month": dt.date(2025, 2, 1)})) == {s.F.pk, s.J.pk}
    assert ids(cases_behind(s.all, measure="resolved", key={"month": "2025-02-01"})) == {s.F.pk, s.J.pk}
    assert ids(cases_behind(s.all, measure="accepted", key={"unit": None})) == {s.D.pk}
    assert ids(cases_behind(s.all, measure="rated", key={"top_category": s.categories["property"].pk})) == {
        s.A.pk, s.B.pk, s.E.pk}
    assert ids(cases_behind(s.all, measure="unrated_closed")) == {s.F.pk}
    assert ids(cases_behind(s.all, measure="submitted", key={"month": dt.date(2025, 1, 1)})) == {
        s.A.pk, s.B.pk, s.C.pk, s.G.pk}  # I, merged, is never counted


@pytest.mark.parametrize("by", ["grid", "unit", "top_category", "category", ("grid", "month"), "quarter"])
def test_every_number_has_exactly_its_cases_behind_it(cases, by):
    for policy in ("exclude", "satisfied"):
        for row in three_rates(cases.all, by=by, unrated_policy=policy):
            for measure in MEASURES:
                behind = cases_behind(cases.all, measure=measure, key=row.key, unrated_policy=policy)
                assert behind.count() == row.counts[measure], (row.key, measure, policy)


# --- rankings -----------------------------------------------------------------------------------------


def test_ranking_sorts_best_first_with_case_counts(cases):
    ranked = ranking(cases.all, by="grid", rate="resolution")
    assert [(r.rank, r.labels["grid"], r.resolution_rate, r.counts["accepted"]) for r in ranked] == [
        (1, "1号院", 2 / 3, 3), (2, "2号院", 0.5, 4)]
    with translation.override("en"):  # "(none)" sorts before the department's name
        by_unit = ranking(cases.all, by="unit", rate="satisfaction")
    assert [(r.rank, r.key["unit"], r.counts["rated"]) for r in by_unit] == [
        (1, cases.world.property_company.pk, 3), (None, None, 0), (None, cases.street_department.pk, 0)]


def test_equal_rates_share_a_rank(world):
    install_default_categories(actor=None, community=world.community)
    lift = Category.objects.get(community=world.community, code="property-lift")
    u = world.users
    for household in (world.households[0], world.households[4], world.households[5]):
        case, _ = case_submit(actor=u["worker"], intake=Intake(
            community=world.community, channel=Case.Channel.PHONE, description="电梯坏了，请尽快修理",
            category=lift, household=household, place=Case.Place.HOME, contact_phone="13912345678"))
        case = case_dispatch(actor=u["worker"], case=case_accept(actor=u["worker"], case=case))
        if household != world.households[5]:
            case_resolve(actor=u["unit_staff"], case=case, resolution="已修好")
    # G01: 1 of 1 resolved; G02: 1 of 2.
    ranked = ranking(Case.objects.all(), by="grid", rate="resolution")
    assert [(r.rank, r.labels["grid"], r.resolution_rate) for r in ranked] == [(1, "1号院", 1.0), (2, "2号院", 0.5)]
    first = Case.objects.filter(grid=world.grids[1], resolved_at__isnull=True).get()
    case_resolve(actor=u["unit_staff"], case=first, resolution="已修好")
    ranked = ranking(Case.objects.all(), by="grid", rate="resolution")
    assert [(r.rank, r.labels["grid"], r.counts["accepted"]) for r in ranked] == [(1, "2号院", 2), (1, "1号院", 1)]


# --- export -------------------------------------------------------------------------------------------


def test_csv_export_of_a_rates_table(cases):
    with translation.override("en"):
        text = rates_csv(three_rates(cases.all, by="grid"), by="grid")
    assert text.splitlines() == [
        "grid,cases,response due,responded in time,accepted,resolved,rated,satisfied or basically satisfied,"
        "closed without rating,response rate,resolution rate,satisfaction rate",
        "1号院,5,5,2,3,2,2,2,0,40.0%,66.7%,100.0%",
        "2号院,4,4,4,4,2,1,0,1,100.0%,50.0%,0.0%",
    ]


def test_excel_export_keeps_numbers_as_numbers_and_rates_as_percentages(cases):
    with translation.override("en"):
        data = rates_xlsx(three_rates(cases.all, by="month"), by="month")
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert rows[0][:2] == ["month", "cases"] and rows[0][-1] == "satisfaction rate"
    assert rows[1] == ["2025-01", 4, 4, 1, 3, 2, 2, 2, 0, 1 / 4, 2 / 3, 1.0]
    assert rows[2] == ["2025-02", 5, 5, 5, 4, 2, 1, 0, 1, 1.0, 0.5, 0.0]
    assert sheet["J2"].number_format == "0.0%"


def test_an_empty_rate_is_an_empty_cell_and_formulas_stay_text(db):
    row = RateRow(key={"grid": 1}, labels={"grid": '=HYPERLINK("http://example.com","x")'},
                  counts=dict.fromkeys(MEASURES, 0))
    with translation.override("en"):
        text = rates_csv([row], by="grid")
        data = rates_xlsx([row], by="grid")
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://example.com"",""x"")",0,0,0,0,0,0,0,0,,,'
    sheet = load_workbook(io.BytesIO(data)).active
    assert (sheet["A2"].value, sheet["A2"].data_type) == ('=HYPERLINK("http://example.com","x")', "s")
    assert sheet["J2"].value is None


def test_period_labels():
    assert period_label("month", dt.date(2025, 3, 1)) == "2025-03"
    assert period_label("quarter", dt.date(2025, 10, 1)) == "2025-Q4"
    assert period_label("year", dt.date(2025, 1, 1)) == "2025"


# --- the rollup ---------------------------------------------------------------------------------------

def test_the_set_summed_from_the_rollup_is_the_same(cases):
    reach = community_reach(cases.world.community.pk)
    [total] = three_rates(reach)
    assert total.counts == counts(
        submitted=9, response_due=9, responded_in_time=6, accepted=7, resolved=4,
        rated=3, content=2, satisfied=1, basic=1, unsatisfied=1, unrated_closed=1)
    for by in [(), *DIMENSIONS, ("grid", "month")]:
        for policy in UNRATED_POLICIES:
            assert (rows(three_rates(reach, by=by, unrated_policy=policy))
                    == rows(three_rates_live(cases.all, by=by, unrated_policy=policy))), (by, policy)
    # Periods that cut months: H came in at 00:30 on 1 February, A..I in mid-January.
    for start, end in ((dt.date(2025, 2, 1), dt.date(2025, 2, 28)), (dt.date(2025, 1, 15), dt.date(2025, 1, 15)),
                       (None, dt.date(2025, 1, 31)), (dt.date(2025, 1, 16), None),
                       (dt.datetime(2025, 1, 15, 12, 0, tzinfo=CHENGDU),
                        dt.datetime(2025, 2, 1, 0, 45, tzinfo=CHENGDU))):
        assert (rows(three_rates(reach, by="grid", start=start, end=end))
                == rows(three_rates_live(cases.all, by="grid", start=start, end=end))), (start, end)
    assert ids(cases_behind(reach, measure="unrated_closed")) == {cases.F.pk}


def test_an_unanswered_case_counts_as_late_from_its_deadline_and_a_late_acceptance_stays_late(world):
    install_default_categories(actor=None, community=world.community)
    lift = Category.objects.get(community=world.community, code="property-lift")  # respond within 1 h
    case, _ = case_submit(actor=world.users["worker"], intake=Intake(
        community=world.community, channel=Case.Channel.PHONE, description="电梯停在半层，请尽快来人",
        category=lift, household=world.households[0], place=Case.Place.HOME, contact_phone="13912345678"))
    reach = community_reach(world.community.pk)

    def response(now):
        [summed] = three_rates(reach, now=now)
        [counted] = three_rates_live(Case.objects.all(), now=now)
        assert summed.counts == counted.counts
        return summed.counts["response_due"], summed.counts["responded_in_time"]

    assert response(case.created_at + dt.timedelta(minutes=30)) == (0, 0)   # still within its hour
    assert response(case.response_due + dt.timedelta(minutes=1)) == (1, 0)  # unanswered past it: late
    # Simulated time: answered two hours after receipt, an hour after its deadline.
    Case.objects.filter(pk=case.pk).update(created_at=case.created_at - dt.timedelta(hours=2),
                                           response_due=case.response_due - dt.timedelta(hours=2))
    rollup.rebuild()
    case = case_accept(actor=world.users["worker"], case=Case.objects.get(pk=case.pk))
    assert case.accepted_at > case.response_due
    assert response(timezone.now()) == (1, 0)
    assert rollup.verify() == []


def rows(result) -> list:
    return [(row.key, row.labels, row.counts) for row in result]


def stored_rollup() -> dict:
    """The rollup's rows with something counted, by key."""
    out = {}
    for row in CaseRollup.objects.values_list(*rollup.KEY_FIELDS, *rollup.COMPONENTS):
        counts = row[len(rollup.KEY_FIELDS):]
        if any(counts):
            out[row[:len(rollup.KEY_FIELDS)]] = counts
    return out


class Clock:
    """timezone.now for the services: moves forward as the test says."""

    def __init__(self, start):
        self.moment = start

    def __call__(self):
        return self.moment

    def advance(self, rng):
        self.moment += dt.timedelta(minutes=rng.choice((1, 5, 30, 90, 300, 1500, 4000, 12000)))


def drive(world, rng, clock, n_cases: int) -> None:
    """Random case lives through the real services, interleaved, over many months."""
    y = world.community
    u = world.users
    install_default_categories(actor=None, community=y)
    leaves = list(Category.objects.filter(community=y, parent__isnull=False).order_by("pk"))
    street_department = Organisation.objects.create(
        kind=Organisation.Kind.STREET_DEPARTMENT, name="驷马桥街道城市管理科", street=world.street)
    units = [world.property_company, street_department]
    z_worker, z_grid = u["z_worker"], world.other_resident.household.grid
    live: list[Case] = []

    def submit():
        who = rng.random()
        if who < 0.15:  # a resident on the web
            intake = Intake(community=y, channel=Case.Channel.WEB, description="我家楼下的路灯坏了，请修理",
                            reporter=world.residents[0], place=Case.Place.HOME)
            actor = u["resident"]
        elif who < 0.25:  # a grid worker's patrol, sometimes in the other courtyard
            intake = Intake(community=y, channel=Case.Channel.PATROL, description="巡查发现垃圾堆放",
                            category=rng.choice(leaves), grid=rng.choice(world.grids))
            actor = u["grid1"]
        elif who < 0.32:  # the other community
            intake = Intake(community=world.other_community, channel=Case.Channel.PATROL,
                            description="巡查发现井盖松动", grid=z_grid)
            actor = z_worker
        else:
            intake = Intake(community=y, channel=Case.Channel.PHONE, description="居民来电反映电梯故障",
                            category=rng.choice(leaves + [None]), grid=rng.choice(world.grids),
                            contact_phone="13912345678")
            actor = u["worker"]
        case, _ = case_submit(actor=actor, intake=intake)
        live.append(case)

    def office(case):
        return z_worker if case.community_id == world.other_community.pk else u["worker"]

    def move(case):
        case = Case.objects.get(pk=case.pk)
        actor, r = office(case), rng.random()
        if case.status == Case.Status.SUBMITTED:
            if rng.random() < 0.3:
                # Simulated time: the response deadline (from receipt) passed while nobody answered;
                # an unanswered case's counts do not read it, so the rollup stays right.
                Case.objects.filter(pk=case.pk).update(response_due=clock() - dt.timedelta(hours=1))
            if r < 0.65:
                category = None
                if case.community_id == y.pk and (case.category_id is None or rng.random() < 0.3):
                    category = rng.choice(leaves)  # chosen at acceptance, or changed
                if case.community_id != y.pk and case.category_id is None:
                    return  # the other community has no categories: it stays submitted
                case_accept(actor=actor, case=case, category=category)
            elif r < 0.8:
                case_reject(actor=actor, case=case, reason="不属于本社区事务")
            else:
                merge(case, actor)
        elif case.status == Case.Status.ACCEPTED:
            if r < 0.6:
                case_dispatch(actor=actor, case=case, unit=rng.choice(units))
            elif r < 0.75:
                case_contact(actor=actor, case=case)
            elif r < 0.85:
                merge(case, actor)
        elif case.status in (Case.Status.DISPATCHED, Case.Status.IN_PROGRESS):
            if r < 0.4:
                case_resolve(actor=actor, case=case, resolution="已处理完毕")
            elif r < 0.55 and case.status == Case.Status.DISPATCHED:
                case_start(actor=actor, case=case)
            elif r < 0.65:
                case_transfer(actor=actor, case=case, unit=next(x for x in units if x.pk != case.unit_id),
                              reason="职责不符")
            elif r < 0.75 and case.status == Case.Status.DISPATCHED:
                case_return(actor=actor, case=case, reason="不属于本单位")
            elif r < 0.85:
                case_contact(actor=actor, case=case)
        elif case.status == Case.Status.RESOLVED:
            rating = rng.choice(Case.Rating.values)
            if r < 0.35 and case.reporter_id == world.residents[0].pk:
                case_rate(actor=u["resident"], case=case, rating=rating)
            elif r < 0.7:
                case_visit_back(actor=actor, case=case, rating=rating)
            elif r < 0.8:
                jobs.run_tick(now=clock() + dt.timedelta(days=8))  # closes it unrated

    def merge(case, actor):
        masters = [c for c in Case.objects.filter(community_id=case.community_id,
                                                   status__in=Case.OPEN_STATUSES).exclude(pk=case.pk)]
        if masters:
            case_merge(actor=actor, case=case, master=rng.choice(masters))

    for step in range(n_cases * 6):
        clock.advance(rng)
        if len(live) < n_cases and (not live or rng.random() < 0.3):
            submit()
        else:
            move(rng.choice(live))


CHECK_USERS = ("worker", "grid1", "grid2", "unit_staff", "supervisor", "resident", "z_worker")


@pytest.mark.parametrize("seed", [1, 2])
def test_random_case_lives_sum_from_the_rollup_to_the_live_count(world, seed):
    rng = random.Random(seed)
    clock = Clock(dt.datetime(2025, 1, 20, 9, 0, tzinfo=CHENGDU))
    with mock.patch("django.utils.timezone.now", clock):
        drive(world, rng, clock, n_cases=40)
    cases = Case.objects.all()
    assert cases.count() == 40
    assert cases.exclude(status=Case.Status.MERGED).values("created_at__month").distinct().count() > 2
    assert {Case.Status.MERGED, Case.Status.CLOSED, Case.Status.REJECTED} <= set(cases.values_list("status", flat=True))
    end = clock.moment
    nows = (end, end + dt.timedelta(hours=3), end + dt.timedelta(days=40))
    assert rollup.verify() == []
    incremental = stored_rollup()
    rollup.rebuild()
    assert stored_rollup() == incremental

    users = world.users
    for name in CHECK_USERS:
        user = users[name]
        assert set(Case.objects.filter(reach_of(user).case_q()).values_list("pk", flat=True)) == set(
            selectors.cases_for(user).values_list("pk", flat=True)), name
    groupings = [(), *DIMENSIONS, ("grid", "month"), ("unit", "category"), ("community", "quarter")]
    for i, (name, by) in enumerate((n, b) for n in CHECK_USERS for b in groupings):
        user = users[name]
        # Every policy and moment for the street supervisor; the others take turns.
        pairs = ([(p, t) for p in UNRATED_POLICIES for t in nows] if name == "supervisor"
                 else [(UNRATED_POLICIES[i % 3], nows[i % len(nows)])])
        for policy, now in pairs:
            summed = three_rates(reach_of(user), by=by, now=now, unrated_policy=policy)
            counted = three_rates_live(selectors.cases_for(user), by=by, now=now, unrated_policy=policy)
            assert rows(summed) == rows(counted), (name, by, policy, now)
    # Periods: whole months, months cut at both ends, datetimes inside a day, open ends.
    first = Case.objects.order_by("created_at").first().created_at
    middle = first + (end - first) / 2
    periods = [(None, None), (first.date(), end.date()), (middle.date(), None), (None, middle.date()),
               (middle, end), (middle - dt.timedelta(days=3), middle), (dt.date(2025, 2, 1), dt.date(2025, 3, 31))]
    for name in ("supervisor", "grid1", "resident"):
        for start, stop in periods:
            for by in ((), "month", "grid"):
                summed = three_rates(reach_of(users[name]), by=by, start=start, end=stop, now=end)
                counted = three_rates_live(selectors.cases_for(users[name]), by=by, start=start, end=stop, now=end)
                assert rows(summed) == rows(counted), (name, by, start, stop)


def test_verify_reports_a_direct_write_and_rebuild_repairs_it(world):
    rng = random.Random(7)
    clock = Clock(dt.datetime(2025, 3, 3, 9, 0, tzinfo=CHENGDU))
    with mock.patch("django.utils.timezone.now", clock):
        drive(world, rng, clock, n_cases=12)
    assert rollup.verify() == []
    out = io.StringIO()
    with translation.override("en"):
        call_command("cases_rollup_rebuild", "--verify", stdout=out)
    assert "matches" in out.getvalue()
    case = Case.objects.exclude(status=Case.Status.MERGED).filter(rating="").first()
    Case.objects.filter(pk=case.pk).update(rating=Case.Rating.SATISFIED)  # past the services
    drift = rollup.verify()
    assert {(d.component, d.expected - d.stored) for d in drift} == {("rated", 1), ("satisfied", 1)} | (
        {("unrated_closed", -1)} if case.status == Case.Status.CLOSED else set())
    assert all(d.key[0] == case.community_id for d in drift)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("cases_rollup_rebuild", "--verify", "--community", case.community.code, stdout=out)
    assert exit_status.value.code == 1 and "satisfied: " in out.getvalue()
    before = stored_rollup()
    call_command("cases_rollup_rebuild", "--community", case.community.code, stdout=io.StringIO())
    assert rollup.verify() == [] and stored_rollup() != before
    with pytest.raises(CommandError):
        call_command("cases_rollup_rebuild", "--community", "NOPE", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("cases_rollup_rebuild", "--since", "March", stdout=io.StringIO())


def test_rebuild_since_a_month_keeps_the_months_before(world):
    rng = random.Random(11)
    clock = Clock(dt.datetime(2025, 1, 10, 9, 0, tzinfo=CHENGDU))
    with mock.patch("django.utils.timezone.now", clock):
        drive(world, rng, clock, n_cases=15)
    whole = stored_rollup()
    months = sorted({key[1] for key in whole})
    assert len(months) > 1
    CaseRollup.objects.filter(month__lt=months[1]).update(submitted=F("submitted") + 100)  # marked
    CaseRollup.objects.filter(month__gte=months[1]).delete()
    rollup.rebuild(since=months[1])
    after = stored_rollup()
    assert {k: v for k, v in after.items() if k[1] >= months[1]} == {
        k: v for k, v in whole.items() if k[1] >= months[1]}
    assert all(after[k][0] == v[0] + 100 for k, v in whole.items() if k[1] < months[1])


def test_the_demo_history_leaves_the_rollup_right(world):
    from linli.demo.case_writer import build_case_history

    install_default_categories(actor=None, community=world.community)
    build_case_history(community=world.community, seed=3, days=40, per_day=8,
                       end=timezone.make_aware(dt.datetime(2025, 7, 20, 16, 0)))
    assert CaseRollup.objects.exists() and rollup.verify() == []
    reach = community_reach(world.community.pk)
    for by in ((), "month", "top_category"):
        assert rows(three_rates(reach, by=by)) == rows(three_rates_live(Case.objects.all(), by=by))


# --- the dashboard page (issue 8 C9) ----------------------------------------------------------------

def test_the_month_not_over_yet_is_marked_and_every_number_is_labelled_for_phones(client, cases):
    """The current month's rates are partial: its row says "so far", is set apart, and a note
    says the numbers will change. Each number carries its column's name, so that the rows
    can be stacked on a phone instead of scrolling sideways."""
    import re

    world = cases.world
    y = world.community
    case_submit(actor=world.users["worker"], intake=Intake(
        community=y, channel=Case.Channel.PHONE, description="居民来电反映的问题，请处理",
        category=cases.categories["property-lift"], household=world.households[0], place=Case.Place.HOME,
        contact_phone="13912345678"))
    client.force_login(world.users["worker"])
    this_month = f"{timezone.localtime():%Y-%m}"
    page = client.get(f"/cases/console/rates/?start={JAN:%Y-%m}&end={this_month}",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    months = page[page.index('class="grid-table rates-table months"'):]
    months = months[:months.index("</table>")]
    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">.*?</tr>", months, re.S)
    partial = [r for r in rows if 'class="partial"' in r]
    assert len(partial) == 1 and this_month in partial[0] and "(so far)" in partial[0]
    assert all("(so far)" not in r for r in rows if r not in partial)
    assert f"{this_month} is not over yet" in page
    for table in re.findall(r'<table class="grid-table rates-table.*?</table>', page, re.S):
        body = table[table.index("<tbody>"):]
        cells = re.findall(r"<td[^>]*>", body)
        assert cells and all("data-label=" in c or "colspan" in c for c in cells), cells
