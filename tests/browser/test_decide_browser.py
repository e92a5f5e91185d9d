"""Residents deciding, walked as people would in the browser (issue 10, "Done when").

Three walks, each through the pages only (the world is set up with services):

1. Two residents on their phones (360 px, Chinese; the first in large-text mode): the first
   proposes a topic in the month's 一月一议 and supports it, the second supports it and the
   threshold puts it on the council's agenda; the first comments, then votes in the community
   fund's knapsack ballot, writes down the receipt code, and after the selection is published
   finds their ballot in the published list with it. axe-core (WCAG 2.1 AA) on every page they
   visit; nothing wider than the phone; the main content's targets 44 px.
2. Two officers, each in their own browser, type in the same paper sheet: it counts. A second
   sheet they read differently does not, and the reconciliation page says so in words.
   (axe on the officers' pages too.)
3. A worker runs the residents' council: attendance (an office account, a representative by
   mobile number, a resident signing in with the QR link on their own phone), closing without
   minutes is refused in plain words, then a decision on each agenda proposal, the minutes, and
   the meeting closes; the proposer's page links to the decision.

The resident's ballot pages alone are walked (every kind, both sizes) by
tests/test_voting_ballot_pages.py; this file walks the whole way around them.
Screenshots: tests/artifacts/decide-*.png (git-ignored), to be looked at.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from factories import PASSWORD, _role, _user
from linli.community.models import StaffRole
from linli.deliberation import services as deliberation
from linli.deliberation.models import Attendance, Comment, Decision, Meeting, Proposal, Support
from linli.funds import services as funds
from linli.funds.models import Call
from linli.voting import paper, phases, results
from linli.voting import services as voting
from linli.voting.models import Ballot, Participation, SheetEntry
from linli.voting.phases import PhaseSpec
from test_deliberation_flow import resident_user
from test_funds_services import at_phase as call_at_phase
from test_funds_services import funded, key, run_to_vote  # noqa: F401  (fixtures)
from test_voting_paper import make_vote
from tests.browser.axe import describe, require_axe, violations
from tests.browser.test_accessibility_browser import SMALL_TARGETS
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
DESK = dict(viewport={"width": 1280, "height": 900})


# --- helpers ------------------------------------------------------------------------------------


def _context(browser, **size):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **size)
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


def _zh(msgid: str, **values) -> str:
    """A msgid as a Chinese page shows it (whatever the catalogue holds today)."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    return text % values if values else text


def _look(page, name: str, *, resident: bool = True) -> None:
    """A screenshot, Chinese, and axe (WCAG 2.1 AA) on every page; for a resident's page (a
    phone) also nothing wider than the screen and the main content's 44-px targets."""
    page.screenshot(path=str(ARTIFACTS / f"decide-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang").lower().startswith("zh"), f"{name}: not Chinese"
    found = violations(page)
    assert not found, f"{name}: axe found\n{describe(found)}"
    if not resident:
        return
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: wider than the phone"
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"{name}: tap targets under 44 px: {small}"


def _round_at(rnd, phase: str) -> None:
    """Lay the month's phases out, under the names the month was opened with, so that ``phase``
    runs now (started an hour ago; a day each)."""
    rows = list(rnd.process.phases.order_by("order"))
    k = [p.key for p in rows].index(phase)
    now = timezone.now()
    specs = [PhaseSpec(p.key, p.name, now + dt.timedelta(days=i - k, hours=-1)) for i, p in enumerate(rows)]
    phases.set_phases(actor=None, process=rnd.process, specs=specs, ends_at=specs[-1].starts_at + dt.timedelta(days=1))


def _month(world, *, threshold: int):
    today = timezone.localdate()
    rnd = deliberation.round_create(actor=world.users["worker"], community=world.community, year=today.year,
                                    month=today.month, support_threshold=threshold)
    _round_at(rnd, "proposals")
    return rnd


def _click(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


# --- 1. a resident proposes, is supported, comments, votes and checks the receipt ------------------


def test_residents_propose_support_comment_vote_and_check_the_receipt(
        transactional_db, live_server, funded, key, browser):  # noqa: F811
    require_axe()
    world = funded
    base = live_server.url
    rnd = _month(world, threshold=2)
    call, projects = run_to_vote(world, ballot_kind="knapsack")
    vote = call.vote
    resident_user(world, 2)  # the second resident's account: "res2" (another household)
    first, second = _context(browser, **PHONE), _context(browser, **PHONE)
    try:
        # The first resident, in large text, finds the month from their home page.
        page = first.new_page()
        _sign_in(page, base, "resident", large=True)
        page.goto(f"{base}/me/")
        _look(page, "01-home")
        _click(page, "main a[href='/deliberation/Y/']")
        _look(page, "02-deliberation")
        _click(page, f"a[href='/deliberation/Y/r/{rnd.pk}/']")
        _look(page, "03-month")
        _click(page, f"a[href='/deliberation/Y/r/{rnd.pk}/propose']")
        _look(page, "04-propose")
        page.fill("#id_title", "二号院门口加装遮阳棚")
        page.fill("#id_body", "夏天下午门口的长椅晒得没法坐，老人等车没有阴凉，建议加一个遮阳棚。")
        page.fill("#id_place", "2号院门口")
        _click(page, "main form button[type=submit]")
        proposal = Proposal.objects.get(title="二号院门口加装遮阳棚")
        assert page.url == f"{base}/deliberation/Y/p/{proposal.pk}/"
        assert proposal.proposer_resident_id == world.residents[0].pk and proposal.state == "open"
        with translation.override("zh-hans"):
            source = f"{translation.gettext('Source')}: {proposal.get_source_display()}"
        assert source in page.locator("main").inner_text()  # where it came from, not a date ("From")
        _look(page, "05-proposal")
        _click(page, f"form[action='/deliberation/Y/p/{proposal.pk}/support'] button")
        assert Support.objects.filter(proposal=proposal).count() == 1
        assert Proposal.objects.get(pk=proposal.pk).state == "open"  # 1 of 2
        _look(page, "06-supported")

        # The second resident, at the standard size, supports it: the threshold is reached.
        other = second.new_page()
        _sign_in(other, base, "res2")
        other.goto(f"{base}/deliberation/Y/r/{rnd.pk}/")
        _click(other, f"a[href='/deliberation/Y/p/{proposal.pk}/']")
        _look(other, "07-second-resident")
        _click(other, f"form[action='/deliberation/Y/p/{proposal.pk}/support'] button")
        proposal.refresh_from_db()
        assert (proposal.state, proposal.support_count) == ("agenda", 2)
        assert other.locator("span.state.agenda").inner_text().strip() == proposal.get_state_display()
        _look(other, "08-on-the-agenda")

        # The first resident comments.
        page.reload()
        assert page.locator("span.state.agenda").is_visible()
        page.fill("#id_body", "同意，最好在七月前装好。")
        _click(page, f"form[action='/deliberation/Y/p/{proposal.pk}/comment'] button")
        assert Comment.objects.filter(proposal=proposal, author_resident=world.residents[0]).count() == 1
        assert "同意，最好在七月前装好。" in page.locator("ul.comments").inner_text()
        _look(page, "09-commented")

        # Then the community fund: the knapsack ballot, from the call's page.
        page.goto(f"{base}/me/")
        _click(page, "main a[href='/funds/Y/']")
        _look(page, "10-fund-calls")
        _click(page, f"a[href='/funds/Y/c/{call.pk}/']")
        _look(page, "11-fund-call")
        _click(page, f"a[href='/votes/Y/v/{vote.pk}/ballot']")
        _look(page, "12-ballot")
        question = vote.questions.get()
        options = {o.ref: o for o in question.options.all()}
        ticked = [options[f"project:{projects[0].pk}"], options[f"project:{projects[1].pk}"]]
        for option in ticked:
            page.check(f"input[name=q{question.pk}][value='{option.pk}']")
        _click(page, "form.ballot button[type=submit]")
        _look(page, "13-confirm")
        _click(page, "button[value=cast]")
        code = page.locator(".receipt-code strong").inner_text().strip()
        assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code), code
        assert code.replace("-", "") not in page.url
        _look(page, "14-receipt")
        [ballot] = Ballot.objects.filter(vote=vote)
        assert ballot.choices == {str(question.pk): sorted(o.pk for o in ticked)}
        assert Participation.objects.get(vote=vote).resident_id == world.residents[0].pk

        # Others vote at the booth; the vote ends and the selection is published on the board.
        for resident, basket in ((world.residents[3], [projects[0]]), (world.residents[5], [projects[2]])):
            voting.cast(vote=vote, resident=resident, channel="booth", actor=world.users["worker"],
                        choices={str(question.pk): [options[f"project:{p.pk}"].pk for p in basket]})
        call = call_at_phase(call, "selection")
        call = funds.select(actor=world.users["admin"], call=call)
        vote.refresh_from_db()
        assert vote.state == "published" and Call.objects.get(pk=call.pk).state == "selected"

        # The resident checks their receipt on the results page: found, with what it says.
        page.goto(f"{base}/votes/Y/v/{vote.pk}/")
        outcome = page.locator("section.outcome").inner_text()
        assert outcome.count(_zh("Counts only: this vote decides nothing by itself.")) == 1
        assert _zh("This vote counts only; it decides nothing by itself.") not in outcome  # said once
        _look(page, "15-results")
        _click(page, f"main a[href='/votes/Y/v/{vote.pk}/receipt']")
        _look(page, "16-receipt-check")
        page.fill("#receipt-code", code.lower())  # as typed on a phone: lower case still checks
        _click(page, f"form[action='/votes/Y/v/{vote.pk}/receipt'] button[type=submit]")
        line = results.receipt_line(vote, code)
        assert line is not None
        status = page.locator("section[role=status]").inner_text()
        assert _zh("Your ballot is in the published list at line %(n)s.", n=line) in status
        for option in ticked:
            assert option.label in status
        assert code.lower() not in page.url and code not in page.url
        _look(page, "17-receipt-found")
        assert float(page.evaluate("getComputedStyle(document.body).fontSize").rstrip("px")) >= 20
    finally:
        first.close()
        second.close()


# --- 2. two officers type in the same paper sheet; a third sheet they read differently --------------


@pytest.fixture
def second_worker(world):
    user = _user("worker2")
    _role(user, StaffRole.Role.COMMUNITY_WORKER, community=world.community)
    return user


def _type_sheet(page, base, vote, code: str, option_pk: int) -> str:
    """Type one reading of a sheet on the entry page; the outcome's words."""
    page.goto(f"{base}/votes/Y/office/v/{vote.pk}/paper/enter")
    page.fill("#id_code", code)
    page.check(f"input[name=q{vote.questions.get().pk}][value='{option_pk}']")
    _click(page, "form.sheet-entry button[type=submit]")
    return page.locator("div.alert[class*='outcome-'] p").inner_text().strip()


def test_two_officers_type_the_same_sheet_and_a_disagreement_shows_on_reconciliation(
        transactional_db, live_server, world, browser, second_worker):
    require_axe()
    base = live_server.url
    vote = make_vote(world, questions=[("院坝栏杆刷成绿色？", ["同意", "不同意"])])
    booth = paper.booth_create(actor=world.users["worker"], vote=vote, name="服务中心", place="社区服务中心一楼")
    agree, disagree = vote.questions.get().options.order_by("order", "id")
    codes = paper.issue_codes(actor=world.users["worker"], vote=vote, booth=booth, count=3)
    for resident in (world.residents[1], world.residents[3], world.residents[5]):
        voting.mark_paper(vote=vote, resident=resident, actor=world.users["worker"], booth=booth)
    one, two = _context(browser, **DESK), _context(browser, **DESK)
    try:
        a, b = one.new_page(), two.new_page()
        _sign_in(a, base, "worker")
        _sign_in(b, base, "worker2")

        # The same sheet, typed by each: waiting, then counted (the code typed with its dashes by
        # one, in lower case without them by the other).
        printed = f"{codes[0][:3]}-{codes[0][3:6]}-{codes[0][6:]}"
        said = _type_sheet(a, base, vote, printed, agree.pk)
        assert said == _zh("First entry saved. Put the sheet on the pile for the second entry by another officer.")
        _look(a, "20-first-entry", resident=False)
        assert Ballot.objects.filter(vote=vote).count() == 0
        said = _type_sheet(b, base, vote, codes[0].lower(), agree.pk)
        assert said == _zh("Both entries agree: the sheet is counted.")
        _look(b, "21-second-entry-counted", resident=False)
        [ballot] = Ballot.objects.filter(vote=vote)
        assert ballot.choices == {str(vote.questions.get().pk): [agree.pk]}
        assert ballot.receipt_hash == voting.receipt_hash(codes[0])

        # The second sheet: they read it differently. Neither reading counts.
        _type_sheet(a, base, vote, codes[1], agree.pk)
        said = _type_sheet(b, base, vote, codes[1], disagree.pk)
        assert said.startswith(_zh("The two entries differ: the sheet does not count yet. Put it on the pile for "
                                   "a third officer, who settles it on the paper page."))
        assert b.locator(".alert.outcome-mismatch[role=alert]").is_visible()
        _look(b, "22-mismatch", resident=False)
        assert Ballot.objects.filter(vote=vote).count() == 1
        assert SheetEntry.objects.filter(vote=vote).count() == 4

        # The reconciliation page, from the officer's menu: the disagreement in words, the sheet
        # still to come in as a gap, both officers named against the disputed sheet.
        b.goto(f"{base}/votes/Y/office/v/{vote.pk}/paper/")
        state = b.locator("main p.meta").first.inner_text()
        assert _zh("Voting open") in state and _zh("open") not in state  # not a case's "open" (未处理)
        row = b.locator("table.reconcile tbody tr").first
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        assert cells[:5] == ["3", "1", "0", "1", "0"], cells  # marked, counted, waiting, differ, void
        difference = row.locator("td").nth(5).inner_text()
        assert _zh("Entries differ: to settle") in difference
        with translation.override("zh-hans"):
            gap = translation.ngettext("Gap: %(n)s sheet taken but not typed in",
                                       "Gap: %(n)s sheets taken but not typed in", 1) % {"n": 1}
        assert gap in difference
        disputed = b.locator("ul.disputed").inner_text()
        assert "worker" in disputed and "worker2" in disputed
        assert b.locator(f"a[href='/votes/Y/office/v/{vote.pk}/paper/resolve']").is_visible()
        _look(b, "23-reconciliation", resident=False)
        assert not paper.is_reconciled(vote)
    finally:
        one.close()
        two.close()


# --- 3. a worker runs the council meeting -------------------------------------------------------------


def test_a_worker_runs_the_council_meeting_and_closes_it_with_minutes(
        transactional_db, live_server, world, browser, key):  # noqa: F811
    require_axe()
    base = live_server.url
    rnd = _month(world, threshold=50)
    worker_user = world.users["worker"]
    proposal = deliberation.propose(actor=world.users["resident"], round=rnd, title="楼道声控灯维修",
                                    body="三栋二单元的声控灯坏了很久，晚上上下楼看不见。", place="1号院")
    proposal = deliberation.put_on_agenda(actor=worker_user, proposal=proposal)
    topic = deliberation.topic_create(actor=worker_user, round=rnd, title="垃圾分类督导志愿者排班", body="每周两次。")
    topic = deliberation.put_on_agenda(actor=worker_user, proposal=topic)
    _round_at(rnd, "council")
    meeting = Meeting.objects.get(round=rnd)
    url = f"/deliberation/Y/office/m/{meeting.pk}/"
    desk, phone = _context(browser, **DESK), _context(browser, **PHONE)
    try:
        page = desk.new_page()
        _sign_in(page, base, "worker")
        page.goto(f"{base}/deliberation/Y/office/r/{rnd.pk}/")
        _click(page, f"a[href='{url}']")
        _look(page, "30-meeting", resident=False)

        # Attendance: a council member (an office account) and a representative by mobile number.
        page.select_option("#id_a-role", "member")
        page.select_option("#id_a-member", str(world.users["admin"].pk))
        _click(page, "form:has(input[name=action][value=attend]) button[type=submit]")
        page.select_option("#id_a-role", "representative")
        page.fill("#id_a-phone", world.residents[3].phone.reveal())
        _click(page, "form:has(input[name=action][value=attend]) button[type=submit]")
        assert world.residents[3].phone.reveal() not in page.url
        # A representative signs in with the QR's link on their own phone.
        sign_in_url = page.locator(".qr small").inner_text().strip()
        assert f"/deliberation/Y/m/{meeting.pk}/sign-in/" in sign_in_url
        resident_user(world, 2)
        mobile = phone.new_page()
        _sign_in(mobile, base, "res2")
        mobile.goto(sign_in_url)
        _look(mobile, "31-qr-sign-in")
        _click(mobile, "main form button[type=submit]")
        _look(mobile, "32-qr-signed-in")
        assert Attendance.objects.filter(meeting=meeting).count() == 3
        assert Attendance.objects.filter(meeting=meeting, resident=world.residents[2], via="qr").exists()
        page.reload()
        assert page.locator("table.plain tbody tr").count() == 3

        # Closing without minutes: the browser holds an empty box back (the field is required);
        # minutes of blanks reach the server, which refuses in plain words. Nothing changes.
        page.fill("#id_m-report", "")
        page.click("form:has(input[name=action][value=close]) button[type=submit]")
        assert page.evaluate("document.querySelector('#id_m-report').validity.valueMissing")
        assert page.url == base + url and Meeting.objects.get(pk=meeting.pk).state == "planned"
        page.fill("#id_m-report", "   ")
        with page.expect_navigation() as navigation:
            page.click("form:has(input[name=action][value=close]) button[type=submit]")
        assert navigation.value.status == 400
        refusal = page.locator("main").inner_text()
        assert _zh("The minutes are required to close the meeting: write the report.") in refusal
        _look(page, "33-close-refused", resident=False)
        assert Meeting.objects.get(pk=meeting.pk).state == "planned"

        # A decision on each agenda proposal, then the minutes; the meeting closes.
        page.goto(base + url)
        for item, (text, votes) in ((proposal, ("由物业在两周内更换声控灯。", (7, 1, 1))),
                                    (topic, ("暂缓，下月再议。", (2, 5, 2)))):
            form = page.locator(f"form:has(input[name=proposal][value='{item.pk}'])")
            form.locator(f"#id_d{item.pk}-text").fill(text)
            for name, value in zip(("votes_for", "votes_against", "votes_abstain"), votes):
                form.locator(f"#id_d{item.pk}-{name}").fill(str(value))
            with page.expect_navigation():
                form.locator("button[type=submit]").click()
        assert Decision.objects.filter(meeting=meeting).count() == 2
        page.fill("#id_m-report", "居民议事会于本月召开，讨论了两项议题，表决结果见各项决定。")
        _look(page, "34-before-closing", resident=False)
        _click(page, "form:has(input[name=action][value=close]) button[type=submit]")
        meeting.refresh_from_db()
        assert meeting.state == "closed" and meeting.attendance_count == 3 and meeting.log_index is not None
        adopted = Decision.objects.get(proposal=proposal)
        rejected = Decision.objects.get(proposal=topic)
        assert (adopted.state, rejected.state) == ("adopted", "rejected")
        assert adopted.log_index is not None and rejected.log_index is not None
        assert Proposal.objects.get(pk=proposal.pk).state == "decided"
        assert page.locator("form:has(input[name=action][value=close])").count() == 0
        assert "居民议事会于本月召开" in page.locator("main").inner_text()
        _look(page, "35-closed", resident=False)

        # The proposer's page now leads to the council's decision.
        mine = phone.new_page()
        phone.clear_cookies()
        _sign_in(mine, base, "resident")
        mine.goto(f"{base}/deliberation/Y/p/{proposal.pk}/")
        _click(mine, f"a[href='/deliberation/Y/d/{adopted.pk}/']")
        assert "由物业在两周内更换声控灯。" in mine.locator("main").inner_text()
        _look(mine, "36-decision")
    finally:
        desk.close()
        phone.close()
