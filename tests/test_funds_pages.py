"""The fund's pages: residents submit, edit, follow and see results; the office runs the phases,
reviews, records milestones, spending and acceptance; refusals show the plain reason."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from factories import PASSWORD
from linli.funds import services
from linli.funds.models import Call, Project

from test_funds_services import at_phase, cast_many, funded, key, media, new_call, run_to_vote, submit  # noqa: F401

P = Project.State


def client(world, who) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.login(username=world.users[who].username, password=PASSWORD)
    return c


def project_post(**extra):
    data = {"title": "Bench by the gate", "description": "A bench for elders waiting for the bus.",
            "place": "Gate of courtyard 1", "beneficiaries": "Elders of courtyard 1",
            "item_1": "Bench", "amount_1": "1,200.50", "item_2": "Fitting", "amount_2": "300",
            "own_contribution": "0", "proposer_kind": "resident", "proposer_name": ""}
    data.update(extra)
    return data


def test_a_resident_submits_on_the_page_and_sees_it(funded):
    call = new_call(funded)
    c = client(funded, "resident")
    page = c.get(reverse("funds:call", args=["Y", call.pk]))
    assert page.status_code == 200 and reverse("funds:project_new", args=["Y", call.pk]).encode() in page.content
    assert b'name="viewport"' in page.content
    response = c.post(reverse("funds:project_new", args=["Y", call.pk]), project_post())
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("funds:project", args=["Y", project.pk])
    assert project.cost_fen == 150_050 and project.proposer == funded.users["resident"]
    page = c.get(reverse("funds:project", args=["Y", project.pk]))
    assert b"Bench by the gate" in page.content and b"Change or withdraw" in page.content


def test_a_bad_basket_line_shows_the_form_again_with_the_error(funded):
    call = new_call(funded)
    c = client(funded, "resident")
    response = c.post(reverse("funds:project_new", args=["Y", call.pk]), project_post(amount_1="", item_2="",
                                                                                      amount_2=""))
    assert response.status_code == 400 and b"needs what it is and what it costs" in response.content
    response = c.post(reverse("funds:project_new", args=["Y", call.pk]), project_post(amount_1="99999"))
    assert response.status_code == 400 and b"more than the call" in response.content
    assert Project.objects.count() == 0


def test_submission_outside_its_phase_is_a_403_with_the_reason(funded):
    call = new_call(funded, key="call")
    c = client(funded, "resident")
    response = c.post(reverse("funds:project_new", args=["Y", call.pk]), project_post())
    assert response.status_code == 403 and b"submit a project" in response.content
    assert Project.objects.count() == 0


def test_an_edit_after_submission_closed_is_refused(funded):
    call = new_call(funded)
    project = submit(funded, call)
    c = client(funded, "resident")
    response = c.post(reverse("funds:project_edit", args=["Y", project.pk]), project_post(title="Changed"))
    assert response.status_code == 302 and Project.objects.get().title == "Changed"
    at_phase(call, "review")
    response = c.post(reverse("funds:project_edit", args=["Y", project.pk]), project_post(title="Again"))
    assert response.status_code == 403 and Project.objects.get().title == "Changed"
    # Someone else's project: not even found.
    assert client(funded, "worker").get(reverse("funds:project_edit", args=["Y", project.pk])).status_code == 404


def test_the_proposer_reads_the_review_note_others_do_not_see_an_ineligible_project(funded):
    call = new_call(funded)
    project = submit(funded, call)
    call = at_phase(call, "review")
    worker = client(funded, "worker")
    response = worker.post(reverse("funds:office_project_action", args=["Y", project.pk, "review"]),
                           {"eligible": "0", "reason": ""})
    assert response.status_code == 400 and b"Say why" in response.content
    response = worker.post(reverse("funds:office_project_action", args=["Y", project.pk, "review"]),
                           {"eligible": "0", "reason": "Private use, not for the community"})
    assert response.status_code == 302 and Project.objects.get().state == P.INELIGIBLE
    page = client(funded, "resident").get(reverse("funds:project", args=["Y", project.pk]))
    assert b"Private use, not for the community" in page.content
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.get(reverse("funds:project", args=["Y", project.pk])).status_code == 404
    assert b"Private use" not in anonymous.get(reverse("funds:call", args=["Y", call.pk])).content


@pytest.mark.parametrize("who,status", [("admin", 200), ("worker", 200), ("secretary", 200), ("supervisor", 200),
                                        ("resident", 403), ("z_worker", 404)])
def test_office_pages_by_role(funded, who, status):
    call = new_call(funded)
    assert client(funded, who).get(reverse("funds:office_call", args=["Y", call.pk])).status_code == status


def test_the_office_opens_a_call_on_the_page(funded):
    c = client(funded, "admin")
    assert c.get(reverse("funds:office_new", args=["Y"])).status_code == 200
    today = timezone.localdate()
    data = {"title": "Fund 2027", "description": "", "year": "2027", "budget": "8000", "rule": "equal-shares",
            "ballot_kind": "approval", "eligibility": "adults", "min_projects": "0", "max_projects": "3",
            "min_budget_share_percent": "0", "min_votes": "0", "ends": str(today.replace(year=today.year + 1))}
    for i, (k, _n) in enumerate(services.PHASES):
        data[f"start_{k}"] = str(today + timezone.timedelta(days=10 * i))
    response = c.post(reverse("funds:office_new", args=["Y"]), data)
    call = Call.objects.get()
    assert response.status_code == 302 and (call.budget_fen, call.rule, call.max_projects) == (800_000, "equal-shares", 3)
    data["budget"] = "900000"
    response = c.post(reverse("funds:office_new", args=["Y"]), data)
    assert response.status_code == 400 and b"not yet given to a project" in response.content
    assert Call.objects.count() == 1
    assert client(funded, "worker").get(reverse("funds:office_new", args=["Y"])).status_code == 404


def test_the_office_runs_vote_selection_override_and_residents_see_the_result(funded, key):
    call, (a, b, c_) = run_to_vote(funded)
    assert client(funded, "resident").get(reverse("funds:call", args=["Y", call.pk])).status_code == 200
    cast_many(funded, call, [[a, b], [a], [b]])
    call = at_phase(call, "selection")
    admin = client(funded, "admin")
    response = admin.post(reverse("funds:office_call_action", args=["Y", call.pk, "select"]), {})
    assert response.status_code == 302 and Call.objects.get().state == "selected"
    response = admin.post(reverse("funds:office_call_action", args=["Y", call.pk, "override"]),
                          {"selected": [str(a.pk), str(c_.pk)], "reason": ""})
    assert response.status_code == 400 and b"needs a reason" in response.content
    response = admin.post(reverse("funds:office_call_action", args=["Y", call.pk, "override"]),
                          {"selected": [str(a.pk), str(c_.pk)], "reason": "Project two was paid by a donor"})
    assert response.status_code == 302 and Call.objects.get().selected == [str(a.pk), str(c_.pk)]
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("funds:call", args=["Y", call.pk]))
    assert page.status_code == 200 and b"paid by a donor" in page.content and b"Selected projects" in page.content


def test_milestone_with_a_photo_spending_and_acceptance_on_the_office_page(funded, key, media):
    call, (a, b, c_) = run_to_vote(funded)
    cast_many(funded, call, [[a]])
    call = services.select(actor=funded.users["admin"], call=at_phase(call, "selection"))
    call = at_phase(call, "implementation")
    worker = client(funded, "worker")
    assert worker.post(reverse("funds:office_project_action", args=["Y", a.pk, "start"])).status_code == 302
    photo = io.BytesIO()
    Image.new("RGB", (30, 30), (1, 2, 3)).save(photo, format="JPEG")
    photo.name = "site.jpg"
    photo.seek(0)
    response = worker.post(reverse("funds:office_project_action", args=["Y", a.pk, "milestone"]),
                           {"title": "Frame built", "date": str(timezone.localdate()), "progress": "50", "note": "",
                            "photos": photo})
    assert response.status_code == 302
    project = Project.objects.get(pk=a.pk)
    assert project.progress == 50
    ph = project.milestones.get().photos.get()
    assert Client().get(reverse("funds:photo", args=["Y", ph.pk])).status_code == 200
    response = worker.post(reverse("funds:office_project_action", args=["Y", a.pk, "spending"]),
                           {"date": str(timezone.localdate()), "summary": "Timber", "amount": "500",
                            "paid_from": "1002"})
    assert response.status_code == 302
    page = worker.get(reverse("funds:office_project", args=["Y", a.pk]))
    assert b"Timber" in page.content
    # Acceptance outside its phase: 403; in it, the panel by registry numbers.
    members = [r.pk for r in funded.residents[1:4]]
    data = {"date": str(timezone.localdate()), "agree": ",".join(map(str, members)), "disagree": "",
            "note": "Looks good"}
    response = worker.post(reverse("funds:office_project_action", args=["Y", a.pk, "acceptance"]), data)
    assert response.status_code == 403
    at_phase(call, "acceptance")
    response = worker.post(reverse("funds:office_project_action", args=["Y", a.pk, "acceptance"]),
                           dict(data, agree=",".join(map(str, members[:2]))))
    assert response.status_code == 400 and b"at least 3" in response.content
    response = worker.post(reverse("funds:office_project_action", args=["Y", a.pk, "acceptance"]), data)
    assert response.status_code == 302 and Project.objects.get(pk=a.pk).state == P.ACCEPTED
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("funds:project", args=["Y", a.pk]))
    assert b"Acceptance by residents" in page.content and b"Frame built" in page.content


def test_the_menu_leads_the_office_to_its_community(funded):
    response = client(funded, "worker").get(reverse("funds:office_index"))
    assert response.status_code == 302 and response["Location"] == reverse("funds:office", args=["Y"])
    assert client(funded, "resident").get(reverse("funds:office_index")).status_code == 403


def test_hooks_link_the_resident_home_and_the_phase_notification_to_the_call(funded):
    from linli.funds import links

    assert links.home_actions(funded.users["resident"]) == []
    call = new_call(funded)
    assert [url for _label, url in links.home_actions(funded.users["resident"])] == [reverse("funds:calls",
                                                                                              args=["Y"])]
    assert links.process_url(call.process) == reverse("funds:call", args=["Y", call.pk])
    assert links.home_actions(funded.users["worker"]) == []


@pytest.mark.parametrize("who,status", [("resident", 403), ("secretary", 403), ("supervisor", 403),
                                        ("z_worker", 404), ("grid1", 403)])
def test_who_may_not_write_in_the_office_changes_nothing(funded, who, status):
    from linli.core.models import Event

    call = new_call(funded)
    project = submit(funded, call)
    at_phase(call, "review")
    events = Event.objects.count()
    c = client(funded, who)
    response = c.post(reverse("funds:office_project_action", args=["Y", project.pk, "review"]),
                      {"eligible": "1", "reason": ""})
    assert response.status_code == status
    response = c.post(reverse("funds:office_call_action", args=["Y", call.pk, "vote"]))
    assert response.status_code == status
    assert Project.objects.get().state == P.SUBMITTED and Event.objects.count() == events
