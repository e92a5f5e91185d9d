"""The three rates on a hand-built set of cases, with exact expected values: by grid, unit,
category, period and date range; the unrated policy; rankings; drill-down to the cases behind
every number; CSV and Excel export.

The set (Y community; lift cases go to the property company, rubbish cases to the street's
city-management department):

    case  grid  category  month  what happened                                      unit
    A     G01   lift      Jan    contacted in time, resolved, rated satisfied       property
    B     G01   lift      Jan    contacted late, resolved, rated basic              property
    C     G01   rubbish   Jan    dispatched, response deadline passed, no contact   street dept
    D     G02   rubbish   Feb    accepted, response not yet due                     none
    E     G02   lift      Feb    resolved, rated unsatisfied: reopened              property
    F     G02   rubbish   Feb    resolved, closed unrated by the tick               street dept
    G     G01   lift      Jan    submitted only                                     none
    H     G01   rubbish   Feb    rejected (submitted 1 Feb 00:30 Chengdu time)     none
    I     G01   lift      Jan    merged into C: never counted                      none
    J     G02   lift      Feb    resolved, awaiting rating                          property
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from linli.cases import jobs, selectors
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.cases.rates import (
    MEASURES, RateRow, cases_behind, period_label, ranking, rates_csv, rates_xlsx, three_rates,
)
from linli.cases.services import (
    Intake, case_accept, case_dispatch, case_merge, case_reject, case_resolve, case_start, case_submit,
    case_visit_back,
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
        # Simulated time: the response deadline passed an hour ago.
        Case.objects.filter(pk=case.pk).update(response_due=timezone.now() - dt.timedelta(hours=1))

    def resolve(case):
        return case_resolve(actor=u[unit_staff(case)], case=case, resolution="已处理完毕")

    def unit_staff(case):
        return "unit_staff" if case.unit_id == world.property_company.pk else "worker"

    s = Set()
    s.street_department, s.categories = street_department, cat
    s.A = resolve(case_start(actor=u["unit_staff"], case=dispatched("property-lift", g01_home)))
    s.A = case_visit(u, s.A, "satisfied")
    s.B = accepted("property-lift", g01_home)
    make_late(s.B)
    s.B = case_start(actor=u["unit_staff"], case=case_dispatch(actor=u["worker"], case=s.B))
    s.B = case_visit(u, resolve(s.B), "basic")
    s.C = dispatched("sanitation-waste", g01_home)
    make_late(s.C)
    s.D = accepted("sanitation-waste", g02_home)
    s.E = case_visit(u, resolve(dispatched("property-lift", g02_home)), "unsatisfied")
    s.F = resolve(dispatched("sanitation-waste", g02_home))
    report = jobs.run_tick(now=s.F.resolved_at + dt.timedelta(days=8))
    assert report.closed == 1
    s.G = submit("property-lift", g01_home)
    s.H = case_reject(actor=u["worker"], case=submit("sanitation-waste", g01_home), reason="非本社区事务")
    s.I = case_merge(actor=u["worker"], case=submit("property-lift", g01_home), master=s.C)
    s.J = resolve(dispatched("property-lift", g02_home))
    for name, when in (("A", JAN), ("B", JAN), ("C", JAN), ("G", JAN), ("I", JAN),
                       ("D", FEB), ("E", FEB), ("F", FEB), ("J", FEB), ("H", FEB_FIRST_MINUTES)):
        Case.objects.filter(pk=getattr(s, name).pk).update(created_at=when)
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
    assert stored["B"].first_contact_at > stored["B"].response_due
    assert stored["C"].first_contact_at is None and stored["C"].response_due < timezone.now()
    assert stored["D"].response_due > timezone.now()


def test_the_three_rates_of_the_whole_set(cases):
    [total] = three_rates(cases.all)
    assert total.key == {} and total.counts == counts(
        submitted=9, response_due=6, responded_in_time=4, accepted=7, resolved=4,
        rated=3, content=2, satisfied=1, basic=1, unsatisfied=1, unrated_closed=1)
    assert total.response_rate == 4 / 6
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
    assert g01.counts == counts(submitted=5, response_due=3, responded_in_time=1, accepted=3, resolved=2,
                                rated=2, content=2, satisfied=1, basic=1)
    assert g02.counts == counts(submitted=4, response_due=3, responded_in_time=3, accepted=4, resolved=2,
                                rated=1, unsatisfied=1, unrated_closed=1)
    assert (g01.response_rate, g01.resolution_rate, g01.satisfaction_rate) == (1 / 3, 2 / 3, 1.0)
    assert (g02.response_rate, g02.resolution_rate, g02.satisfaction_rate) == (1.0, 0.5, 0.0)


def test_rates_by_unit_keep_cases_without_a_unit_apart(cases):
    with translation.override("en"):
        rows = {row.key["unit"]: row for row in three_rates(cases.all, by="unit")}
    prop, street, none = rows[cases.world.property_company.pk], rows[cases.street_department.pk], rows[None]
    assert prop.counts == counts(submitted=4, response_due=4, responded_in_time=3, accepted=4, resolved=3,
                                 rated=3, content=2, satisfied=1, basic=1, unsatisfied=1)
    assert street.counts == counts(submitted=2, response_due=2, responded_in_time=1, accepted=2, resolved=1,
                                   unrated_closed=1)
    assert none.counts == counts(submitted=3, accepted=1)
    assert (street.satisfaction_rate, none.response_rate, none.resolution_rate) == (None, None, 0.0)
    assert none.labels["unit"] == "(none)"


def test_subcategories_count_under_their_top_category(cases):
    by_leaf = {row.key["category"]: row.counts["submitted"] for row in three_rates(cases.all, by="category")}
    assert by_leaf == {cases.categories["property-lift"].pk: 5, cases.categories["sanitation-waste"].pk: 4}
    with translation.override("en"):
        prop, sanitation = three_rates(cases.all, by="top_category")
    assert (prop.key, prop.labels) == ({"top_category": cases.categories["property"].pk},
                                       {"top_category": "Property management"})
    assert prop.counts == counts(submitted=5, response_due=4, responded_in_time=3, accepted=4, resolved=3,
                                 rated=3, content=2, satisfied=1, basic=1, unsatisfied=1)
    assert sanitation.counts == counts(submitted=4, response_due=2, responded_in_time=1, accepted=3, resolved=1,
                                       unrated_closed=1)


def test_rates_by_month_count_days_in_chengdu_time(cases):
    jan, feb = three_rates(cases.all, by="month")
    assert (jan.key, jan.labels, feb.key, feb.labels) == (
        {"month": dt.date(2025, 1, 1)}, {"month": "2025-01"}, {"month": dt.date(2025, 2, 1)}, {"month": "2025-02"})
    assert jan.counts == counts(submitted=4, response_due=3, responded_in_time=1, accepted=3, resolved=2,
                                rated=2, content=2, satisfied=1, basic=1)
    assert feb.counts == counts(submitted=5, response_due=3, responded_in_time=3, accepted=4, resolved=2,
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
    assert ids(cases_behind(s.all, measure="responded_in_time", key={"grid": s.g01.pk})) == {s.A.pk}
    assert ids(cases_behind(s.all, measure="response", key={"grid": s.g01.pk})) == {s.A.pk, s.B.pk, s.C.pk}
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
        "1号院,5,3,1,3,2,2,2,0,33.3%,66.7%,100.0%",
        "2号院,4,3,3,4,2,1,0,1,100.0%,50.0%,0.0%",
    ]


def test_excel_export_keeps_numbers_as_numbers_and_rates_as_percentages(cases):
    with translation.override("en"):
        data = rates_xlsx(three_rates(cases.all, by="month"), by="month")
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert rows[0][:2] == ["month", "cases"] and rows[0][-1] == "satisfaction rate"
    assert rows[1] == ["2025-01", 4, 3, 1, 3, 2, 2, 2, 0, 1 / 3, 2 / 3, 1.0]
    assert rows[2] == ["2025-02", 5, 3, 3, 4, 2, 1, 0, 1, 1.0, 0.5, 0.0]
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
