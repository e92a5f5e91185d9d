"""Hot issues kept in the database: refresh, attach after intake, scoping, the similar box and its merge.

Cases are raised through case_submit, as residents and workers raise them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.cases.services import Intake, case_submit
from linli.core.models import Event
from linli.insight import hotissues
from linli.insight.models import HotIssue, HotIssueMember, JobCursor

LAMP = [
    "幸福里小区3栋门口的路灯坏了，晚上一片漆黑，老人走路容易摔倒",
    "幸福里小区路灯坏了没人修，3栋门口晚上很黑",
    "幸福里小区3栋门口路灯坏了好几天，晚上一片漆黑，很不安全",
]
LAMP_AGAIN = "幸福里小区3栋的路灯还是坏的，晚上一片漆黑看不见路"
OTHER = ["锦绣花园楼下烧烤店油烟太大，熏得开不了窗", "希望社区组织老年人免费体检活动",
         "孩子上学的公交站台被拆了，能不能恢复"]


@pytest.fixture
def hw(world):
    install_default_categories(actor=world.users["admin"], community=world.community)
    world.categories = {c.code: c for c in Category.objects.filter(community=world.community)}
    return world


def raise_case(w, text: str, *, grid: int = 0, resident: int | None = None, category="roads-lighting") -> Case:
    """A phone case from a resident of courtyard G01 (grid 0) or G02 (grid 1), entered by the worker."""
    reporter = w.residents[resident if resident is not None else (0 if grid == 0 else 6)]
    case, _ = case_submit(actor=w.users["worker"], intake=Intake(
        community=w.community, channel=Case.Channel.PHONE, description=text, reporter=reporter,
        place=Case.Place.HOME, category=w.categories[category]))
    assert case.grid == w.grids[grid]
    return case


def lamp_issue(w) -> tuple[HotIssue, list[Case]]:
    cases = [raise_case(w, text, resident=i) for i, text in enumerate(LAMP)]
    for text in OTHER:
        raise_case(w, text, category="other")
    hotissues.refresh(w.community.pk)
    issue = HotIssue.objects.get(community=w.community)
    return issue, cases


def test_refresh_forms_one_issue_and_keeps_it_stable(hw):
    issue, cases = lamp_issue(hw)
    assert set(issue.members.values_list("case_id", flat=True)) == {c.pk for c in cases}
    assert "路灯" in issue.title and issue.place.startswith("幸福里")
    assert issue.first_at == cases[0].created_at and issue.last_at == cases[-1].created_at and issue.heat > 3
    result = hotissues.refresh(hw.community.pk)
    assert result == {"issues": 1, "formed": 0, "grew": 0, "closed": 0}
    assert list(HotIssue.objects.values_list("pk", flat=True)) == [issue.pk]
    assert Event.objects.filter(verb="hotissue.formed").count() == 1


def test_attach_job_attaches_a_new_similar_case_once(hw):
    issue, cases = lamp_issue(hw)
    new = raise_case(hw, LAMP_AGAIN, resident=4)
    unrelated = raise_case(hw, "小区门口的共享单车乱停乱放堵住了消防通道", category="other")
    totals = hotissues.attach_all()
    assert totals["attached"] == 1
    member = HotIssueMember.objects.get(case=new)
    assert member.hot_issue_id == issue.pk and member.affinity >= 0.4
    assert not HotIssueMember.objects.filter(case=unrelated).exists()
    issue.refresh_from_db()
    assert issue.last_at == new.created_at
    assert hotissues.attach_all()["attached"] == 0        # safe to run twice
    assert JobCursor.objects.get(name=hotissues.ATTACH_CURSOR).position is not None
    assert HotIssueMember.objects.filter(hot_issue=issue).count() == 4
    grew = Event.objects.filter(verb="hotissue.grew")
    assert grew.count() == 1
    # The next refresh regroups and keeps the same row with the attached case in it.
    hotissues.refresh(hw.community.pk)
    assert list(HotIssue.objects.values_list("pk", flat=True)) == [issue.pk]
    assert HotIssueMember.objects.filter(hot_issue=issue).count() == 4


def test_events_carry_no_personal_data(hw):
    lamp_issue(hw)
    raise_case(hw, LAMP_AGAIN, resident=4)
    hotissues.attach_all()
    names = [r.name.reveal() for r in hw.residents]
    phones = [r.phone.reveal() for r in hw.residents if r.phone]
    for event in Event.objects.filter(verb__startswith="hotissue."):
        text = repr(event.data)
        assert not any(part in text for part in ("路灯", "幸福里", *names, *phones))
        assert set(event.data) <= {"hot_issue", "members", "added", "heat", "number"}


def test_hot_issues_are_scoped_to_the_staff_area(hw, client):
    issue, cases = lamp_issue(hw)   # all in G01
    u = hw.users
    for name in ("admin", "worker", "grid1", "supervisor"):
        assert list(hotissues.hot_issues_for(u[name])) == [issue], name
    for name in ("grid2", "z_worker", "resident", "nobody"):
        assert not hotissues.hot_issues_for(u[name]).exists(), name
    client.force_login(u["grid1"])
    page = client.get(reverse("insight:hot_issues"))
    assert page.status_code == 200 and issue.title in page.content.decode()
    detail = client.get(reverse("insight:hot_issue", args=[issue.pk])).content.decode()
    assert all(c.number in detail for c in cases)
    client.force_login(u["grid2"])
    assert issue.title not in client.get(reverse("insight:hot_issues")).content.decode()
    assert client.get(reverse("insight:hot_issue", args=[issue.pk])).status_code == 404
    client.force_login(u["z_worker"])
    assert client.get(reverse("insight:hot_issue", args=[issue.pk])).status_code == 404
    client.force_login(u["resident"])
    assert client.get(reverse("insight:hot_issues")).status_code == 403


def test_members_shown_are_only_those_the_user_may_see(hw):
    issue, cases = lamp_issue(hw)
    far = raise_case(hw, LAMP_AGAIN, grid=1)       # the same words, from a G02 resident
    HotIssueMember.objects.create(hot_issue=issue, case=far)
    assert far not in hotissues.visible_members(hw.users["grid1"], issue)
    assert far in hotissues.visible_members(hw.users["admin"], issue)
    assert list(hotissues.visible_members(hw.users["grid2"], issue)) == [far]


def test_similar_box_lists_visible_cases_and_merges_through_case_merge(hw, client):
    first = raise_case(hw, LAMP[0], resident=0)
    twin_far = raise_case(hw, LAMP[1], grid=1)     # G02: grid1 may not see it
    twin_near = raise_case(hw, LAMP[2], resident=3)
    unrelated = raise_case(hw, OTHER[0], category="other")
    case = raise_case(hw, LAMP_AGAIN, resident=4)
    admin_box = hotissues.similar_box(hw.users["admin"], case)
    shown = [c for c, _score in admin_box["similar"]]
    assert {first, twin_far, twin_near} <= set(shown) and unrelated not in shown and case not in shown
    assert admin_box["may_merge"]
    grid_box = hotissues.similar_box(hw.users["grid1"], case)
    assert twin_far not in [c for c, _ in grid_box["similar"]]
    client.force_login(hw.users["grid1"])
    # Merging into a case the grid worker may not see is refused, and nothing changes.
    response = client.post(reverse("insight:similar_merge", args=[case.number]), {"master": twin_far.number})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED and case.master_id is None
    response = client.post(reverse("insight:similar_merge", args=[case.number]), {"master": first.number})
    assert response.status_code == 302 and response["Location"].endswith(f"/{first.number}/")
    case.refresh_from_db()
    assert (case.status, case.master_id) == (Case.Status.MERGED, first.pk)
    assert Event.objects.filter(verb="case.merged", target_id=str(case.pk)).count() == 1
    # The include renders the box for the case page.
    from django.template.loader import render_to_string

    from django.utils import translation

    with translation.override("en"):
        html = render_to_string("insight/_similar.html", {"box": hotissues.similar_box(hw.users["admin"], first)})
    assert twin_near.number in html and "Merge into this case" in html and unrelated.number not in html


def test_merge_through_the_box_refused_for_staff_outside_the_case(hw, client):
    case = raise_case(hw, LAMP[0])
    other = raise_case(hw, LAMP[1], resident=3)
    client.force_login(hw.users["z_worker"])
    response = client.post(reverse("insight:similar_merge", args=[case.number]), {"master": other.number})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED


def test_an_issue_gone_quiet_is_closed_by_the_workflow_with_one_event(hw):
    from django.utils import timezone

    from linli.core.errors import PermissionDenied
    from linli.core.workflow import IllegalTransition
    from linli.insight.workflows import HOT_ISSUE

    issue, _cases = lamp_issue(hw)
    # A person may not close a hot issue: only the refresh job does.
    with pytest.raises(PermissionDenied):
        HOT_ISSUE.transition(issue, "close", actor=hw.users["admin"])
    issue.refresh_from_db()
    assert issue.status == HotIssue.Status.OPEN and not Event.objects.filter(verb="hotissue.closed").exists()

    later = timezone.now() + dt.timedelta(days=hotissues.WINDOW_DAYS + 1)
    assert hotissues.refresh(hw.community.pk, now=later)["closed"] == 1
    issue.refresh_from_db()
    assert issue.status == HotIssue.Status.CLOSED
    closed = Event.objects.get(verb="hotissue.closed")
    assert (closed.target_id, closed.actor_id, closed.community_id) == (str(issue.pk), None, hw.community.pk)
    assert closed.data == {"from": "open", "to": "closed", "hot_issue": issue.pk}
    # A second run finds nothing open; closing again is not a move the table allows.
    assert hotissues.refresh(hw.community.pk, now=later)["closed"] == 0
    with pytest.raises(IllegalTransition):
        HOT_ISSUE.transition(issue, "close", actor=None)
    assert Event.objects.filter(verb="hotissue.closed").count() == 1


def test_the_case_page_panel_gives_the_similar_box_under_its_template_name(hw):
    from django.template.loader import render_to_string
    from django.utils import translation

    first = raise_case(hw, LAMP[0], resident=0)
    case = raise_case(hw, LAMP_AGAIN, resident=4)
    panel = hotissues.similar_panel(hw.users["admin"], case)
    assert panel["template"] == "insight/_similar.html"
    assert [c for c, _score in panel["context"]["box"]["similar"]] == [first]
    # Rendered as the case page renders a panel: the page's own names beside the panel's context.
    with translation.override("en"):
        html = render_to_string(panel["template"], {"case": case, "similar": [], **panel["context"]})
    assert first.number in html and "Merge into this case" in html
    assert hotissues.similar_panel(hw.users["z_worker"], case)["context"]["box"]["similar"] == []


def test_catch_up_leaves_what_the_jobs_would_have_left(hw):
    from linli.insight import jobs

    for i, text in enumerate(LAMP):
        raise_case(hw, text, resident=i)
    # Three reports of one lamp today, against a quiet past: one hot issue, and one rise.
    assert jobs.catch_up(hw.community.pk, days=30) == {"hot_issues": 1, "alerts": 1}
    assert HotIssue.objects.filter(community=hw.community, status=HotIssue.Status.OPEN).count() == 1
    assert Event.objects.filter(verb="alert.raised", community_id=hw.community.pk).count() == 1
    assert jobs.catch_up(hw.community.pk, days=30) == {"hot_issues": 0, "alerts": 0}     # safe to run twice


# --- issue 8: A6 (titles and merge suggestions stay in the viewer's courtyards), C2 (closing) ----

FAR_LAMP = "锦绣花园5栋门口的路灯坏了，晚上一片漆黑，走路看不见"


def test_a_viewer_who_sees_part_of_an_issue_reads_a_title_from_its_own_cases_only(hw, client):
    issue, cases = lamp_issue(hw)                  # G01's words: 幸福里 ...
    far = raise_case(hw, FAR_LAMP, grid=1)         # a G02 case in the same issue
    HotIssueMember.objects.create(hot_issue=issue, case=far)
    u = hw.users
    assert hotissues.title_for(u["admin"], issue) == issue.title        # sees every member
    own = hotissues.title_for(u["grid2"], issue)
    assert own and "幸福里" not in own and "锦绣花园" in own
    mine = hotissues.title_for(u["grid1"], issue)
    assert "锦绣花园" not in mine and "幸福里" in mine
    client.force_login(u["grid2"])
    listing = client.get(reverse("insight:hot_issues")).content.decode()
    detail = client.get(reverse("insight:hot_issue", args=[issue.pk])).content.decode()
    for page in (listing, detail):
        assert "幸福里" not in page and "锦绣花园" in page
    assert "幸福里" not in str(hotissues.similar_box(u["grid2"], far)["hot_issue_title"])


def test_stored_titles_hold_no_home_door(hw):
    texts = ["幸福里小区3栋2单元502室门口路灯坏了，晚上一片漆黑", "幸福里小区3栋2单元502室门口的路灯坏了很久",
             "幸福里小区3栋2单元502室门口路灯不亮，晚上很黑"]
    for i, text in enumerate(texts):
        raise_case(hw, text, resident=i)
    hotissues.refresh(hw.community.pk)
    title = HotIssue.objects.get(community=hw.community).title
    assert "502" not in title and "路灯" in title


def test_merge_suggestions_below_the_office_stay_in_the_cases_grid(hw):
    case = raise_case(hw, LAMP[0], resident=0)                 # G01
    near = raise_case(hw, LAMP[2], resident=3)                 # G01
    far = raise_case(hw, LAMP[1], grid=1)                      # G02
    office = [c for c, _s in hotissues.similar_open_cases(hw.users["worker"], case)]
    assert near in office and far in office                    # the community office sees both courtyards
    street = [c for c, _s in hotissues.similar_open_cases(hw.users["supervisor"], case)]
    assert near in street and far not in street


def test_an_issue_whose_cases_are_all_closed_is_closed_and_not_formed_again(hw):
    issue, cases = lamp_issue(hw)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(status=Case.Status.CLOSED)  # closed elsewhere
    assert hotissues.refresh(hw.community.pk)["closed"] == 1
    issue.refresh_from_db()
    assert issue.status == HotIssue.Status.CLOSED
    assert Event.objects.filter(verb="hotissue.closed").count() == 1
    hotissues.refresh(hw.community.pk)
    assert not HotIssue.objects.filter(status=HotIssue.Status.OPEN).exists()
