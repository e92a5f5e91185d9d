"""Closing a case that cannot be resolved (诉求无法实现, issue 8 C7): the office explains why to the
resident and closes it. Who may, from which states, what it needs, what others read of the
explanation, how the three rates count it (accepted, not resolved; rated only when rated), and
what the resident's page says."""

from __future__ import annotations

import json

import pytest

from factories import move_case_to
from linli.cases import rates, rollup
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.cases.services import (
    Intake, case_close_unresolved, case_rate, case_submit,
)
from linli.cases.workflow import IllegalTransition, allowed_moves
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event

S = Case.Status
U = Case.Unresolved
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# What the office told the resident, with a phone number and the reporter's name in it (masked or
# removed for readers outside the office).
PHONE = "13912345678"


def reporter_name(case: Case) -> str:
    name = case.reporter.name
    return str(name.reveal() if hasattr(name, "reveal") else name)


def explanation(case: Case) -> str:
    return f"已电话告知{reporter_name(case)}（{PHONE}）：加装电梯需本楼业主表决同意，社区可协助召开业主会议。"


@pytest.fixture
def lift(world):
    install_default_categories(actor=None, community=world.community)
    return Category.objects.get(community=world.community, code="property-lift")


def submit(world, lift) -> Case:
    case, _created = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description="想给我们楼加装一部电梯",
        reporter=world.residents[0], place=Case.Place.HOME, category=lift))
    return case


def bring_to(world, lift, state: str) -> Case:
    return move_case_to(submit(world, lift), state, world.users, resolution="已答复")


def close(world, case, who="worker", **extra) -> Case:
    return case_close_unresolved(actor=world.users[who], case=case, kind=extra.pop("kind", U.OWNERS),
                                 explanation=extra.pop("explanation", explanation(case)), **extra)


# --- the move -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "worker", "grid1"])
@pytest.mark.parametrize("state", ["accepted", "dispatched", "in_progress"])
def test_the_office_closes_a_case_it_cannot_resolve_with_one_event(world, lift, who, state):
    case = bring_to(world, lift, state)
    assert "close_unresolved" in allowed_moves(world.users[who], case)
    told = explanation(case)
    moved = close(world, case, who, explanation=told)
    assert (moved.status, moved.unresolved_kind, moved.unresolved_explanation) == (S.CLOSED, U.OWNERS, told)
    assert moved.closed_at is not None and moved.resolved_at is None and moved.rating == ""
    [event] = Event.objects.filter(verb="case.closed_unresolved", target_id=str(case.pk))
    assert event.actor == world.users[who]
    assert (event.data["from"], event.data["to"], event.data["kind"]) == (state, S.CLOSED, U.OWNERS)
    # The event keeps a scrubbed copy: the office's full text stays on the row.
    assert PHONE not in event.data["reason"] and "业主表决" in event.data["reason"]


def test_a_reopened_case_may_be_closed_unresolved_and_keeps_its_unsatisfied_rating(world, lift):
    u = world.users
    case = bring_to(world, lift, "resolved")
    case = case_rate(actor=u["resident"], case=case, rating=Case.Rating.UNSATISFIED)
    assert case.status == S.DISPATCHED
    moved = close(world, case, kind=U.LAW)
    assert (moved.status, moved.rating) == (S.CLOSED, Case.Rating.UNSATISFIED)
    # A rating the resident gives on the call replaces it.
    other = bring_to(world, lift, "in_progress")
    moved = close(world, other, rating=Case.Rating.BASIC, comment="理解")
    assert (moved.rating, moved.rating_comment) == (Case.Rating.BASIC, "理解") and moved.rated_at is not None
    event = Event.objects.get(verb="case.closed_unresolved", target_id=str(other.pk))
    assert event.data["rating"] == Case.Rating.BASIC


@pytest.mark.parametrize("who", ["unit_staff", "supervisor", "resident", "secretary", "grid2", "z_worker", "nobody"])
def test_others_may_not_close_a_case_unresolved(world, lift, who):
    case = bring_to(world, lift, "in_progress")
    assert "close_unresolved" not in allowed_moves(world.users[who], case)
    with pytest.raises(PermissionDenied):
        close(world, case, who)
    assert Case.objects.get(pk=case.pk).status == S.IN_PROGRESS
    assert not Event.objects.filter(verb="case.closed_unresolved").exists()


@pytest.mark.parametrize("state", ["submitted", "resolved", "closed"])
def test_it_is_refused_from_another_state(world, lift, state):
    case = bring_to(world, lift, state)
    with pytest.raises(IllegalTransition) as raised:
        close(world, case)
    assert raised.value.status == 409
    assert Case.objects.get(pk=case.pk).unresolved_kind == ""
    assert not Event.objects.filter(verb="case.closed_unresolved").exists()


@pytest.mark.parametrize("kind,told", [("", "需业主表决"), ("maybe", "需业主表决"), (U.OTHER, " "), (U.OTHER, "")])
def test_a_reason_kind_and_an_explanation_are_required(world, lift, kind, told):
    case = bring_to(world, lift, "in_progress")
    with pytest.raises(InvalidInput) as raised:
        close(world, case, kind=kind, explanation=told)
    assert raised.value.field == ("kind" if kind not in U.values else "explanation")
    assert Case.objects.get(pk=case.pk).status == S.IN_PROGRESS
    assert not Event.objects.filter(verb="case.closed_unresolved").exists()


# --- the pages and the API ------------------------------------------------------------------------


def url(case: Case) -> str:
    return f"/cases/console/{case.number}/close_unresolved/"


def form(case: Case, kind=U.AUTHORITY) -> dict:
    return {"close_unresolved-kind": kind, "close_unresolved-explanation": explanation(case),
            "close_unresolved-rating": ""}


def test_the_staff_page_offers_the_move_to_the_office_only(client, world, lift):
    case = bring_to(world, lift, "in_progress")
    client.defaults.update(EN)
    client.force_login(world.users["worker"])
    assert "Close as not resolvable" in client.get(f"/cases/console/{case.number}/").content.decode()
    client.force_login(world.users["unit_staff"])
    assert "Close as not resolvable" not in client.get(f"/cases/console/{case.number}/").content.decode()


def test_the_office_closes_it_on_the_staff_page_and_others_get_403(client, world, lift):
    case = bring_to(world, lift, "in_progress")
    client.defaults.update(EN)
    for who in ("unit_staff", "supervisor", "resident"):
        client.force_login(world.users[who])
        assert client.post(url(case), form(case)).status_code == 403, who
    client.force_login(world.users["worker"])
    response = client.post(url(case), {**form(case), "close_unresolved-kind": ""})
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).status == S.IN_PROGRESS
    response = client.post(url(case), form(case))
    assert response.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.unresolved_kind) == (S.CLOSED, U.AUTHORITY)
    assert Event.objects.filter(verb="case.closed_unresolved", target_id=str(case.pk)).count() == 1


def test_the_unit_and_the_street_read_the_explanation_scrubbed(client, world, lift):
    case = bring_to(world, lift, "in_progress")
    told = explanation(case)
    close(world, case, explanation=told)
    name = reporter_name(case)
    assert name in told
    client.defaults.update(EN)
    client.force_login(world.users["worker"])
    page = client.get(f"/cases/console/{case.number}/").content.decode()
    assert "could not be resolved" in page and "业主表决" in page
    assert "Closed as not resolvable" in page and "it needs the owners&#x27; decision" in page
    assert name in page  # the office's history holds what the resident was told, as written
    for who in ("unit_staff", "supervisor"):
        client.force_login(world.users[who])
        page = client.get(f"/cases/console/{case.number}/").content.decode()
        assert "业主表决" in page, who
        assert PHONE not in page and name not in page, who


def test_the_api_closes_it_and_answers_409_from_a_wrong_state(client, world, lift):
    case = bring_to(world, lift, "in_progress")
    client.force_login(world.users["worker"])
    body = {"action": "close_unresolved", "kind": "owners", "explanation": "需业主表决，已向居民说明"}
    path = f"/api/v1/cases/{case.number}/transitions"
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).status == S.CLOSED
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 409
    other = bring_to(world, lift, "in_progress")
    response = client.post(f"/api/v1/cases/{other.number}/transitions", content_type="application/json",
                           data=json.dumps({"action": "close_unresolved", "explanation": "需业主表决"}))
    assert response.status_code in (400, 422)
    assert Case.objects.get(pk=other.pk).status == S.IN_PROGRESS


def test_the_residents_page_says_it_could_not_be_resolved_and_why(client, world, lift):
    case = bring_to(world, lift, "in_progress")
    told = explanation(case)
    close(world, case, kind=U.OWNERS, explanation=told)
    client.defaults.update(EN)
    client.force_login(world.users["resident"])
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "Closed: this could not be resolved, because it needs the owners&#x27; decision." in page
    assert "业主表决" in page
    # No rating form: the office took the resident's view when it explained.
    assert 'id="rate"' not in page


# --- the three rates ------------------------------------------------------------------------------


def test_it_counts_accepted_not_resolved_and_in_satisfaction_only_when_rated(world, lift):
    u = world.users
    closed = bring_to(world, lift, "in_progress")
    close(world, closed)                                             # unrated, never resolved
    reopened = case_rate(actor=u["resident"], case=bring_to(world, lift, "resolved"),
                         rating=Case.Rating.UNSATISFIED)
    close(world, reopened, kind=U.LAW)                                # rated unsatisfied before
    bring_to(world, lift, "closed")                                   # resolved and satisfied
    reach = rates.community_reach(world.community.pk)
    for policy in rates.UNRATED_POLICIES:
        [live] = rates.three_rates_live(Case.objects.all(), unrated_policy=policy)
        [summed] = rates.three_rates(reach, unrated_policy=policy)
        assert summed.counts == live.counts, policy
        assert (live.counts["accepted"], live.counts["resolved"]) == (3, 1), policy
        assert (live.counts["rated"], live.counts["satisfied_or_basic"], live.counts["unrated_closed"]) == (
            2, 1, 0), policy
    assert set(rates.cases_behind(reach, measure="resolved")) == {Case.objects.get(status=S.CLOSED, rating="satisfied")}
    assert rollup.verify() == []
    rollup.rebuild()
    assert rollup.verify() == []
    assert rates.three_rates(reach)[0].counts == rates.three_rates_live(Case.objects.all())[0].counts


def test_the_resident_and_the_unit_are_told(world, lift):
    from django.utils import translation

    from linli.cases.notifications import case_messages

    case = bring_to(world, lift, "in_progress")
    close(world, case, explanation=f"需业主表决，已电话告知（{PHONE}）")
    event = Event.objects.get(verb="case.closed_unresolved", target_id=str(case.pk))
    with translation.override("en"):
        told = {tuple(m.user_ids): (m.title, m.body) for _event, m in case_messages([event])}
    assert told[(world.users["resident"].pk,)] == (
        f"Your request {case.number} was closed: it could not be resolved", "Why: 需业主表决，已电话告知（139****5678）")
    assert told[(world.users["unit_staff"].pk,)][0] == f"Case {case.number} closed by the community office"
