"""一月一议's pages: residents' and the office's, each role, refusals shown in words with their status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.models import Event
from linli.deliberation import services
from linli.deliberation.models import Attendance, Decision, Evaluation, Meeting, Proposal, Round, Support
from linli.insight.models import HotIssue
from linli.transparency import keys

from test_deliberation_flow import at_phase, make_round


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "signing.key")


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_resident_proposes_supports_and_comments(world):
    rnd = make_round(world, threshold=2)
    c = client_for(world.users["resident"])
    page = c.get("/deliberation/Y/")
    assert page.status_code == 200 and rnd.process.title in page.content.decode()
    page = c.get(f"/deliberation/Y/r/{rnd.pk}/")
    assert page.status_code == 200 and "Put forward a proposal" in page.content.decode()
    assert c.get(f"/deliberation/Y/r/{rnd.pk}/propose").status_code == 200
    response = c.post(f"/deliberation/Y/r/{rnd.pk}/propose", {"title": "Shade for the bench", "body": "Too hot",
                                                               "place": "1号院"})
    proposal = Proposal.objects.get(title="Shade for the bench")
    assert response.status_code == 302 and response["Location"] == f"/deliberation/Y/p/{proposal.pk}/"
    page = c.get(f"/deliberation/Y/p/{proposal.pk}/")
    assert "I support this" in page.content.decode()
    assert c.post(f"/deliberation/Y/p/{proposal.pk}/support").status_code == 302
    assert Support.objects.filter(proposal=proposal).count() == 1
    again = c.post(f"/deliberation/Y/p/{proposal.pk}/support")
    assert again.status_code == 409 and "once" in again.content.decode()
    assert Support.objects.filter(proposal=proposal).count() == 1
    assert c.post(f"/deliberation/Y/p/{proposal.pk}/comment", {"body": "Agreed"}).status_code == 302
    assert "Agreed" in c.get(f"/deliberation/Y/p/{proposal.pk}/").content.decode()


def test_proposal_flood_answers_429_with_retry_after(world):
    rnd = make_round(world)
    c = client_for(world.users["resident"])
    for i in range(services.PROPOSALS_PER_DAY):
        c.post(f"/deliberation/Y/r/{rnd.pk}/propose", {"title": f"T{i}", "body": "B"})
    n = Proposal.objects.count()
    response = c.post(f"/deliberation/Y/r/{rnd.pk}/propose", {"title": "Flood", "body": "B"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "24 hours" in response.content.decode()
    assert Proposal.objects.count() == n


def test_an_action_outside_its_phase_answers_403_in_plain_words(world):
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Bench", body="Fix")
    at_phase(rnd, "council")
    c = client_for(world.users["resident"])
    response = c.post(f"/deliberation/Y/p/{proposal.pk}/support")
    text = response.content.decode()
    assert response.status_code == 403 and "support a proposal" in text and "Proposals" in text
    assert Support.objects.count() == 0
    response = c.post(f"/deliberation/Y/r/{rnd.pk}/propose", {"title": "Late", "body": "B"})
    assert response.status_code == 403 and Proposal.objects.count() == 1


def test_chinese_refusal_by_default(world):
    rnd = make_round(world)
    at_phase(rnd, "execution")
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users["resident"])
    response = c.post(f"/deliberation/Y/r/{rnd.pk}/propose", {"title": "Late", "body": "B"})
    assert response.status_code == 403


def test_other_communities_and_strangers_see_nothing(world):
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Bench", body="Fix")
    for who in ("z_worker", "nobody", "unit_staff"):
        c = client_for(world.users[who])
        assert c.get("/deliberation/Y/").status_code == 404
        assert c.get(f"/deliberation/Y/p/{proposal.pk}/").status_code == 404
    assert Client().get("/deliberation/Y/").status_code == 302  # to sign in


def test_office_pages_by_role(world):
    rnd = make_round(world)
    for who in ("worker", "admin", "secretary", "supervisor"):
        c = client_for(world.users[who])
        assert c.get("/deliberation/Y/office/").status_code == 200, who
        assert c.get(f"/deliberation/Y/office/r/{rnd.pk}/").status_code == 200, who
        assert c.get(f"/deliberation/Y/office/m/{rnd.meeting.pk}/").status_code == 200, who
    for who in ("resident", "nobody", "grid1", "unit_staff"):
        assert client_for(world.users[who]).get("/deliberation/Y/office/").status_code == 403, who
    assert client_for(world.users["z_worker"]).get("/deliberation/Y/office/").status_code == 404
    # Readers cannot write: 404, nothing changed.
    n = Event.objects.count()
    for who in ("secretary", "supervisor"):
        c = client_for(world.users[who])
        assert c.post("/deliberation/Y/office/", {"month": "2030-01", "support_threshold": 5}).status_code == 404
        assert c.post(f"/deliberation/Y/office/r/{rnd.pk}/", {"action": "topic", "topic-title": "X",
                                                              "topic-body": "Y"}).status_code == 404
    assert Event.objects.count() == n


def test_worker_opens_a_month_adds_topics_and_the_agenda(world):
    c = client_for(world.users["worker"])
    response = c.post("/deliberation/Y/office/", {"month": "2030-01", "support_threshold": 5})
    rnd = Round.objects.get(year=2030, month=1)
    assert response.status_code == 302 and rnd.support_threshold == 5
    at_phase(rnd, "proposals")
    url = f"/deliberation/Y/office/r/{rnd.pk}/"
    assert c.post(url, {"action": "topic", "topic-title": "Parking", "topic-body": "Rules"}).status_code == 302
    topic = Proposal.objects.get(title="Parking")
    assert c.post(url, {"action": "agenda", "proposal": topic.pk}).status_code == 302
    assert Proposal.objects.get(pk=topic.pk).state == "agenda"
    bad = c.post(url, {"action": "case", "case-number": "NO-SUCH"})
    assert bad.status_code == 400
    other = services.topic_create(actor=world.users["worker"], round=rnd, title="Pool", body="B")
    assert c.post(url, {"action": "decline", "proposal": other.pk, "reason": ""}).status_code == 400
    assert c.post(url, {"action": "decline", "proposal": other.pk, "reason": "Too costly"}).status_code == 302
    assert Proposal.objects.get(pk=other.pk).state == "declined"


def test_hot_issue_page_links_to_the_deliberation(world):
    from linli.cases import services as case_services
    from linli.insight.models import HotIssueMember

    rnd = make_round(world)
    case, _ = case_services.case_submit(actor=world.users["worker"], intake=case_services.Intake(
        community=world.community, channel="phone", description="Lamp out at the gate", reporter=world.residents[0],
        place="grid", grid=world.grids[0]))
    now = timezone.now()
    issue = HotIssue.objects.create(community=world.community, title="Lamp out", place="1号院", first_at=now,
                                    last_at=now, heat=2.0)
    HotIssueMember.objects.create(hot_issue=issue, case=case)
    c = client_for(world.users["worker"])
    from django.urls import reverse

    page = c.get(reverse("insight:hot_issue", kwargs={"pk": issue.pk}))
    link = f"/deliberation/Y/office/r/{rnd.pk}/hotissue/{issue.pk}"
    assert page.status_code == 200 and link in page.content.decode()
    assert c.get(link).status_code == 200
    response = c.post(link, {"title": "Lamp out at the gate"})
    topic = Proposal.objects.get(source="hotissue")
    assert response.status_code == 302 and topic.source_ref == f"hotissue:{issue.pk}"
    # The party secretary reads hot issues but does not run the deliberation: no link, 404.
    secretary = client_for(world.users["secretary"])
    page = secretary.get(reverse("insight:hot_issue", kwargs={"pk": issue.pk}))
    assert link not in page.content.decode()
    assert secretary.get(link).status_code == 404


def test_a_refused_close_keeps_the_minutes_the_worker_typed(world, key):
    # no attendance yet: closing is refused, and the page comes back with the minutes still in the box
    rnd = make_round(world, threshold=50)
    topic = services.topic_create(actor=world.users["worker"], round=rnd, title="Bench", body="Fix")
    services.put_on_agenda(actor=world.users["worker"], proposal=topic)
    at_phase(rnd, "council")
    meeting = Meeting.objects.get(round=rnd)
    worker = client_for(world.users["worker"])
    url = f"/deliberation/Y/office/m/{meeting.pk}/"
    refused = worker.post(url, {"action": "close", "m-report": "Forty minutes of careful minutes"})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "Forty minutes of careful minutes" in page and 'role="alert"' in page
    assert Meeting.objects.get(pk=meeting.pk).state == "planned"


def test_meeting_qr_sign_in_minutes_and_close(world, key):
    rnd = make_round(world, threshold=50)
    topic = services.topic_create(actor=world.users["worker"], round=rnd, title="Bench", body="Fix")
    services.put_on_agenda(actor=world.users["worker"], proposal=topic)
    at_phase(rnd, "council")
    meeting = Meeting.objects.get(round=rnd)
    worker = client_for(world.users["worker"])
    url = f"/deliberation/Y/office/m/{meeting.pk}/"
    page = worker.get(url).content.decode()
    assert "<svg" in page and "/sign-in/" in page
    sign_in = "/deliberation/Y/m/%d/sign-in/%s" % (meeting.pk, services.sign_in_token(meeting))
    resident = client_for(world.users["resident"])
    assert resident.get(sign_in).status_code == 200
    assert resident.post(sign_in).status_code == 200
    assert Attendance.objects.filter(meeting=meeting, role="representative").count() == 1
    assert resident.post(sign_in).status_code == 409
    assert resident.post(sign_in[:-3] + "abc").status_code == 400
    phone = world.residents[3].phone.reveal()
    assert worker.post(url, {"action": "attend", "a-role": "representative", "a-phone": phone}).status_code == 302
    assert Attendance.objects.filter(meeting=meeting, resident=world.residents[3]).exists()
    assert worker.post(url, {"action": "decision", "proposal": topic.pk, f"d{topic.pk}-text": "Fix by June",
                             f"d{topic.pk}-votes_for": 6, f"d{topic.pk}-votes_against": 0,
                             f"d{topic.pk}-votes_abstain": 1}).status_code == 302
    no_minutes = worker.post(url, {"action": "close", "m-report": ""})
    assert no_minutes.status_code == 400 and "minutes" in no_minutes.content.decode().lower()
    assert Meeting.objects.get(pk=meeting.pk).state == "planned"
    assert worker.post(url, {"action": "close", "m-report": "We met and decided."}).status_code == 302
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.state == "closed" and meeting.attendance_count == 2 and meeting.log_index is not None
    late = worker.post(url, {"action": "decision", "proposal": topic.pk, f"d{topic.pk}-text": "Changed",
                             f"d{topic.pk}-votes_for": 1, f"d{topic.pk}-votes_against": 0,
                             f"d{topic.pk}-votes_abstain": 0})
    assert late.status_code == 409
    assert Decision.objects.get(proposal=topic).text == "Fix by June"
    assert "/sign-in/" not in worker.get(url).content.decode()


def test_decision_pages_execution_and_evaluation(world, key):
    rnd = make_round(world, threshold=50)
    topic = services.topic_create(actor=world.users["worker"], round=rnd, title="Bench", body="Fix")
    services.put_on_agenda(actor=world.users["worker"], proposal=topic)
    at_phase(rnd, "council")
    meeting = Meeting.objects.get(round=rnd)
    services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="member", user=world.users["admin"])
    services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=topic, text="Fix", votes_for=3,
                           votes_against=0, votes_abstain=0)
    services.meeting_close(actor=world.users["worker"], meeting=meeting, report="Minutes")
    decision = Decision.objects.get(proposal=topic)
    at_phase(rnd, "execution")
    worker = client_for(world.users["worker"])
    url = f"/deliberation/Y/office/d/{decision.pk}/"
    due = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    assert worker.post(url, {"action": "task", "t-title": "Buy wood", "t-owner": "Property company",
                             "t-due_date": due, "t-weight": 1}).status_code == 302
    task = decision.tasks.get()
    assert worker.post(url, {"action": "progress", "task": task.pk, "progress": 100,
                             "note": "Done"}).status_code == 302
    assert worker.post(url, {"action": "complete"}).status_code == 302
    resident = client_for(world.users["resident"])
    page = resident.get(f"/deliberation/Y/d/{decision.pk}/").content.decode()
    assert "100 % done" in page and "Buy wood" in page
    early = resident.post(f"/deliberation/Y/d/{decision.pk}/evaluate", {"rating": "satisfied"})
    assert early.status_code == 403 and Evaluation.objects.count() == 0
    at_phase(rnd, "evaluation")
    page = resident.get(f"/deliberation/Y/d/{decision.pk}/").content.decode()
    assert "Send my evaluation" in page
    assert resident.post(f"/deliberation/Y/d/{decision.pk}/evaluate",
                         {"rating": "basic", "comment": "Fine"}).status_code == 302
    assert resident.post(f"/deliberation/Y/d/{decision.pk}/evaluate", {"rating": "satisfied"}).status_code == 409
    assert Evaluation.objects.get().rating == "basic"
    assert worker.post(url, {"action": "summary"}).status_code == 302
    assert Decision.objects.get(pk=decision.pk).summary_log_index is not None


def test_resident_home_shows_the_link(world):
    make_round(world)
    page = client_for(world.users["resident"]).get("/me/")
    assert "/deliberation/Y/" in page.content.decode()


@pytest.mark.parametrize("who", ["secretary", "supervisor", "grid1", "leader", "unit_staff", "resident", "z_worker",
                                 "nobody"])
def test_no_office_write_by_anyone_but_the_office(world, key, who):
    rnd = make_round(world, threshold=50)
    topic = services.topic_create(actor=world.users["worker"], round=rnd, title="Bench", body="Fix")
    item = services.comment(actor=world.users["resident"], proposal=topic, body="Yes")
    services.put_on_agenda(actor=world.users["worker"], proposal=topic)
    at_phase(rnd, "council")
    meeting = Meeting.objects.get(round=rnd)
    c = client_for(world.users[who])
    posts = [
        ("/deliberation/Y/office/", {"month": "2031-02", "support_threshold": 3}),
        (f"/deliberation/Y/office/r/{rnd.pk}/", {"action": "topic", "topic-title": "X", "topic-body": "Y"}),
        (f"/deliberation/Y/office/p/{topic.pk}/", {"comment": item.pk, "reason": "No"}),
        (f"/deliberation/Y/office/m/{meeting.pk}/", {"action": "attend", "a-role": "member",
                                                     "a-member": world.users["admin"].pk}),
        (f"/deliberation/Y/office/m/{meeting.pk}/", {"action": "close", "m-report": "Minutes"}),
    ]
    before = (Event.objects.count(), Attendance.objects.count(), Proposal.objects.count(), Round.objects.count())
    for url, data in posts:
        assert c.post(url, data).status_code in (403, 404), url
    assert (Event.objects.count(), Attendance.objects.count(), Proposal.objects.count(),
            Round.objects.count()) == before
    assert Meeting.objects.get(pk=meeting.pk).state == "planned"
