"""Every role of the test world against every page of issue 10's four apps — the voting engine
(``/votes/``), 一月一议 (``/deliberation/``), the community fund (``/funds/``) and the democratic
evaluation (``/evaluation/``), office and public — and every POST a role may not make.

The tables below are docs/roles.md ("Processes and votes", "The democratic evaluation",
"Community fund projects", "Monthly deliberation") written as data: a change of who may do what
changes the docs and these tables together. A refused POST changes nothing: every row of the
four apps, the board, the log, the event log and the notifications is compared before and after.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from linli.books import services as books
from linli.core.models import Event
from linli.deliberation import services as delib
from linli.deliberation.models import Meeting
from linli.evaluation import services as evaluation
from linli.evaluation.models import Evaluation
from linli.funds import services as funds
from linli.funds.models import Call
from linli.transparency import keys
from linli.voting import paper, phases, results, services as voting
from linli.voting.models import Option
from linli.voting.phases import PhaseSpec

from planted import person_of, planted_text

# The accounts of the test world (tests/conftest.py) and None for a visitor who is not signed in.
ROLES = ["admin", "worker", "secretary", "grid1", "leader", "unit_staff", "supervisor", "resident", "z_worker",
         "nobody", None]
POOL = 5_000_000  # the fund's money in the books, in fen
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

# --- the scene: one of everything, with a resident's personal data planted in the free text ------


def _relay(process, keys_, current: str) -> None:
    """Lay ``process``'s phases (in ``keys_`` order, one day each) so that ``current`` runs now."""
    now = timezone.now()
    at = keys_.index(current)
    specs = [PhaseSpec(k, k, now + dt.timedelta(days=i - at, hours=-1)) for i, k in enumerate(keys_)]
    phases.set_phases(actor=None, process=process, specs=specs, ends_at=specs[-1].starts_at + dt.timedelta(days=1))
    process.refresh_from_db()
    if hasattr(process, "_prefetched_objects_cache"):
        process._prefetched_objects_cache = {}


DELIB_KEYS = ("proposals", "council", "execution", "evaluation")
EVAL_KEYS = ("preparation", "voting", "results", "response")


def _fund_phase(call, key):
    now = timezone.now()
    index = funds.PHASE_KEYS.index(key)
    base = now - dt.timedelta(days=index, hours=1)
    starts = {k: base + dt.timedelta(days=i) for i, k in enumerate(funds.PHASE_KEYS)}
    phases.set_phases(actor=None, process=call.process, specs=funds.phase_specs(starts),
                      ends_at=base + dt.timedelta(days=len(funds.PHASE_KEYS)))
    return Call.objects.get(pk=call.pk)


def build_scene(world, settings, tmp_path) -> dict:
    """Through the services, as the office and residents would, with ``person`` planted in a
    proposal, a comment, a project's description, the minutes, an evaluation comment and a
    proxy reason:

    - 一月一议: this month's round taking proposals (a resident's proposal and comment); last
      month's round whose council met (a decision, minutes published).
    - the fund: a call taking projects (a resident's project).
    - the evaluation of this year, its ballot open (one rating ballot with a comment).
    - a vote taking ballots (a booth, paper codes issued, a proxy ballot) and a published one.
    """
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    u, y = world.users, world.community
    p = person_of(world)
    text = planted_text(p)
    today = timezone.localdate()
    s: dict = {"world": world, "person": p, "tmp": tmp_path}

    # 一月一议 ------------------------------------------------------------------------------------
    rnd = delib.round_create(actor=u["worker"], community=y, year=today.year, month=today.month,
                             support_threshold=2)
    _relay(rnd.process, DELIB_KEYS, "proposals")
    proposal = delib.propose(actor=u["resident"], round=rnd, title="楼下路灯不亮", body=f"请联系{text}，她知道情况。",
                             place="1号院")
    comment = delib.comment(actor=u["resident"], proposal=proposal, body=f"同意，可以问{text}")
    last = today.replace(day=1) - dt.timedelta(days=1)
    met = delib.round_create(actor=u["worker"], community=y, year=last.year, month=last.month)
    _relay(met.process, DELIB_KEYS, "proposals")
    topic = delib.topic_create(actor=u["worker"], round=met, title="车棚漏雨", body="车棚屋顶需要修补。")
    topic = delib.put_on_agenda(actor=u["worker"], proposal=topic)
    _relay(met.process, DELIB_KEYS, "council")
    meeting = Meeting.objects.get(round=met)
    delib.attend_by_staff(actor=u["worker"], meeting=meeting, role="member", user=u["admin"])
    delib.attend_by_staff(actor=u["worker"], meeting=meeting, role="representative", resident=world.residents[2])
    decision = delib.decision_save(actor=u["worker"], meeting=meeting, proposal=topic, text="下月前修好车棚",
                                   votes_for=5, votes_against=1, votes_abstain=0)
    meeting = delib.meeting_close(actor=u["worker"], meeting=meeting, report=f"议事会召开。{text}代表1号院发言。")
    decision.refresh_from_db()
    s.update(round=rnd, proposal=proposal, comment=comment, met=met, meeting=meeting, decision=decision)

    # The fund ------------------------------------------------------------------------------------
    books.install_chart(actor=None, community=y)
    accounts = books.accounts_by_code(y)
    books.post_vouchers(community=y, vouchers=[books.VoucherInput(
        date=dt.date(today.year, 1, 5), summary="街道拨付社区保障资金",
        lines=(books.LineInput(account=accounts["1002"], debit=POOL),
               books.LineInput(account=accounts["3102.00"], credit=POOL)))])
    now = timezone.now()
    base = now - dt.timedelta(days=funds.PHASE_KEYS.index("submission"), hours=1)
    starts = {k: base + dt.timedelta(days=i) for i, k in enumerate(funds.PHASE_KEYS)}
    call = funds.call_create(actor=u["admin"], community=y, year=today.year, title="社区微更新",
                             budget_fen=1_000_000, specs=funds.phase_specs(starts),
                             ends_at=base + dt.timedelta(days=len(funds.PHASE_KEYS)))
    project = funds.project_submit(actor=u["resident"], call=call, title="楼道加装扶手",
                                   description=f"老人上下楼不便。联系人{text}。", place="1号院",
                                   beneficiaries="1号院老人", budget_lines=[("扶手", 300_000)])
    s.update(call=call, project=project)

    # The evaluation ----------------------------------------------------------------------------
    ev = evaluation.evaluation_create(
        actor=u["admin"], community=y, year=today.year, preparation_starts=now - dt.timedelta(minutes=1),
        voting_starts=now + dt.timedelta(days=1), results_starts=now + dt.timedelta(days=2),
        response_starts=now + dt.timedelta(days=3), ends_at=now + dt.timedelta(days=4))
    evaluation.target_add(actor=u["worker"], evaluation=ev, kind="committee", label="居民委员会",
                          criteria=["服务态度", "办事效率"])
    ev = evaluation.ballot_prepare(actor=u["worker"], evaluation=ev)
    _relay(ev.process, EVAL_KEYS, "voting")
    ev = Evaluation.objects.get(pk=ev.pk)
    questions = list(ev.vote.questions.order_by("order", "id"))
    by_ref = {(o.question_id, o.ref): o.pk for o in Option.objects.filter(question__vote=ev.vote)}
    rating = {str(q.pk): by_ref[(q.pk, "basic")] for q in questions}
    rating["comments"] = {str(questions[0].pk): f"办事慢，{text}等了很久"}
    s["evaluation_receipt"] = voting.cast(vote=ev.vote, resident=world.residents[0], choices=rating,
                                          channel="web", actor=u["resident"])
    s["evaluation"] = ev
    s["next_evaluation"] = evaluation.evaluation_create(
        actor=u["admin"], community=y, year=today.year + 1, preparation_starts=now - dt.timedelta(minutes=1),
        voting_starts=now + dt.timedelta(days=1), results_starts=now + dt.timedelta(days=2),
        response_starts=now + dt.timedelta(days=3), ends_at=now + dt.timedelta(days=4))

    # Votes ---------------------------------------------------------------------------------------
    process = voting.process_create(actor=u["admin"], community=y, kind="vote", title="院内事务",
                                    specs=[PhaseSpec("voting", "投票", now - dt.timedelta(hours=1))],
                                    ends_at=now + dt.timedelta(days=5))
    vote = voting.vote_create(actor=u["admin"], process=process, title="栏杆刷成绿色", kind="choice",
                              eligibility="adults", rule="majority", questions=[("刷成绿色吗？", ["同意", "不同意"])],
                              phase_key="voting")
    vote = voting.vote_open(actor=u["admin"], vote=vote)
    booth = paper.booth_create(actor=u["worker"], vote=vote, name="服务中心", place="社区服务中心一楼")
    codes = paper.issue_codes(actor=u["worker"], vote=vote, booth=booth, count=3)
    yes = vote.questions.get().options.order_by("order", "id").first()
    proxy = voting.cast(vote=vote, resident=world.residents[3], choices={str(vote.questions.get().pk): [yes.pk]},
                        channel="proxy", actor=u["worker"], booth=booth, proxy_reason=f"行动不便，由{text}代为填写")
    done = voting.vote_create(actor=u["admin"], process=process, title="增设快递柜", kind="choice",
                              eligibility="adults", rule="majority", questions=[("增设吗？", ["同意", "不同意"])],
                              phase_key="voting")
    done = voting.vote_open(actor=u["admin"], vote=done)
    q = done.questions.get()
    booth_receipt = voting.cast(vote=done, resident=world.residents[5], channel="booth", actor=u["worker"],
                                choices={str(q.pk): [q.options.order_by("order", "id").first().pk]})
    done = results.publish(actor=u["admin"], vote=done)
    s.update(process=process, vote=vote, booth=booth, codes=codes, proxy=proxy, done=done,
             booth_receipt=booth_receipt)
    return s


@pytest.fixture
def scene(world, settings, tmp_path):
    return build_scene(world, settings, tmp_path)


def client_for(scene, who) -> Client:
    client = Client(**EN)
    if who is not None:
        client.force_login(scene["world"].users[who])
    return client


# --- who gets which status: docs/roles.md as a table ----------------------------------------------

def _urls(s) -> list[tuple[str, str]]:
    v, d, pc, b = s["vote"].pk, s["done"].pk, s["process"].pk, s["booth"].pk
    r0 = s["world"].residents[4].pk
    year = s["evaluation"].year
    rnd, met, prop, dec, meet = s["round"].pk, s["met"].pk, s["proposal"].pk, s["decision"].pk, s["meeting"].pk
    call, project = s["call"].pk, s["project"].pk
    return [
        # The voting engine: the office (processes, votes, booths, paper), the ballot, the results.
        ("votes_office_index", "/votes/office/"),
        ("votes_office", "/votes/Y/office/"),
        ("votes_office", f"/votes/Y/office/p/{pc}/"),
        ("votes_office", f"/votes/Y/office/v/{v}/"),
        ("votes_office", f"/votes/Y/office/v/{d}/"),
        ("votes_office", f"/votes/Y/office/v/{v}/paper/"),
        ("votes_run", f"/votes/Y/office/v/{v}/paper/b/{b}/desk"),
        ("votes_run", f"/votes/Y/office/v/{v}/paper/enter"),
        ("votes_run", "/votes/Y/office/new"),
        ("votes_run", f"/votes/Y/office/p/{pc}/phases"),
        ("votes_run", f"/votes/Y/office/p/{pc}/vote/new"),
        ("votes_run", f"/votes/Y/office/v/{v}/paper/b/{b}/r/{r0}"),
        ("votes_run", f"/votes/Y/office/v/{v}/paper/b/{b}/r/{r0}/ballot"),
        ("votes_run", f"/votes/Y/office/v/{v}/paper/b/{b}/codes"),
        ("votes_run", f"/votes/Y/office/v/{v}/paper/resolve"),
        ("votes_office", f"/votes/Y/office/v/{v}/paper/poster.pdf"),
        ("votes_home", "/votes/"),
        ("votes_mine", "/votes/Y/"),
        ("votes_ballot", f"/votes/Y/v/{v}/ballot"),
        ("public", f"/votes/Y/v/{d}/"),
        ("public", f"/votes/Y/v/{d}/receipt"),  # the form: the code is POSTed
        # 一月一议
        ("delib_office_index", "/deliberation/office/"),
        ("delib_office", "/deliberation/Y/office/"),
        ("delib_office", f"/deliberation/Y/office/r/{rnd}/"),
        ("delib_office", f"/deliberation/Y/office/r/{met}/"),
        ("delib_office", f"/deliberation/Y/office/p/{prop}/"),
        ("delib_office", f"/deliberation/Y/office/m/{meet}/"),
        ("delib_office", f"/deliberation/Y/office/d/{dec}/"),
        ("delib_residents", "/deliberation/Y/"),
        ("delib_residents", f"/deliberation/Y/r/{rnd}/"),
        ("delib_residents", f"/deliberation/Y/r/{met}/"),
        ("delib_residents", f"/deliberation/Y/p/{prop}/"),
        ("delib_residents", f"/deliberation/Y/d/{dec}/"),
        ("delib_propose", f"/deliberation/Y/r/{rnd}/propose"),
        # The fund
        ("funds_office_index", "/funds/office/"),
        ("funds_office", "/funds/Y/office/"),
        ("funds_office", f"/funds/Y/office/c/{call}/"),
        ("funds_office", f"/funds/Y/office/p/{project}/"),
        ("funds_admin", "/funds/Y/office/new"),
        ("public", "/funds/Y/"),
        ("public", f"/funds/Y/c/{call}/"),
        ("funds_project", f"/funds/Y/p/{project}/"),  # submitted, not yet reviewed
        ("funds_own_project", f"/funds/Y/p/{project}/edit"),
        ("funds_submit", f"/funds/Y/c/{call}/submit"),
        # The evaluation
        ("eval_office_index", "/evaluation/office/"),
        ("eval_office", "/evaluation/Y/office/"),
        ("eval_office", f"/evaluation/Y/office/{year}/"),
        ("public", "/evaluation/Y/"),
        ("public_missing", f"/evaluation/Y/{year}/"),  # not published yet
    ]


OFFICE = {"admin", "worker", "secretary"}
NO_OFFICE = {"grid1", "leader", "unit_staff", "resident", "nobody"}  # signed in, no office here


def _status(group: str, who: str | None) -> int:
    """The status docs/roles.md promises ``who`` for a page of ``group``."""
    if group == "public":
        return 200
    if group == "public_missing":
        return 404  # an evaluation not yet published has no public page
    if who is None:
        # Staff and residents' pages send a visitor to sign in; a project not on the ballot is
        # not found at all (its proposer and the office only).
        return 404 if group == "funds_project" else 302
    table = {
        # Processes and votes (docs/roles.md): the office (admin, worker) runs them and officiates;
        # the street reads the office pages (the pages that write, the booth desk and the sheet
        # entry included, answer it 404); the secretary, grid workers, building leaders and
        # handling units have no office here (403); another community's staff find nothing (404).
        "votes_office_index": {"admin": 302, "worker": 302, "supervisor": 200, "z_worker": 302},
        "votes_office": {"admin": 200, "worker": 200, "supervisor": 200, "z_worker": 404},
        "votes_run": {"admin": 200, "worker": 200, "supervisor": 404, "z_worker": 404},
        # The resident's own pages: only a resident has votes open to them; an account that is
        # neither staff nor resident has no community to go to.
        "votes_home": {"nobody": 403},
        "votes_mine": {"resident": 200},
        "votes_ballot": {"resident": 200},
        # 一月一议: the office runs it; the secretary and the street read; residents in scope
        # take part; grid workers, building leaders, handling units: 403 at the office, 404 on
        # the residents' pages; another community: 404.
        "delib_office_index": {"admin": 302, "worker": 302, "secretary": 302, "supervisor": 200, "z_worker": 302},
        "delib_office": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "z_worker": 404},
        "delib_residents": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "resident": 200},
        # The form is shown to whoever reads the round; the service refuses all but residents
        # in scope (see the POSTs below).
        "delib_propose": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "resident": 200},
        # The fund: the office (admin, worker), the secretary and the street read the office
        # pages; only the admin opens a call; a project not yet reviewed is its proposer's and
        # the office's; residents (and the office, for a group without an account) submit.
        "funds_office_index": {"admin": 302, "worker": 302, "secretary": 302, "supervisor": 302, "z_worker": 302},
        "funds_office": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "z_worker": 404},
        "funds_admin": {"admin": 200, "worker": 404, "secretary": 404, "supervisor": 404, "z_worker": 404},
        "funds_project": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "resident": 200},
        "funds_own_project": {"resident": 200},
        "funds_submit": {"admin": 200, "worker": 200, "resident": 200},
        # The evaluation: the office prepares, the secretary and the street read.
        "eval_office_index": {"admin": 302, "worker": 302, "secretary": 302, "supervisor": 200, "z_worker": 302},
        "eval_office": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "z_worker": 404},
    }
    row = table[group]
    if who in row:
        return row[who]
    fallback = {
        "votes_office_index": 403, "votes_office": 403, "votes_run": 403, "votes_home": 302, "votes_mine": 403,
        "votes_ballot": 403, "delib_office_index": 403, "delib_office": 403, "delib_residents": 404,
        "delib_propose": 404, "funds_office_index": 403, "funds_office": 403, "funds_admin": 403,
        "funds_project": 404, "funds_own_project": 404, "funds_submit": 403, "eval_office_index": 403,
        "eval_office": 403,
    }
    return fallback[group]


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_every_role_gets_what_docs_roles_promises(scene, who):
    client = client_for(scene, who)
    got, want = {}, {}
    for group, url in _urls(scene):
        got[url] = client.get(url).status_code
        want[url] = _status(group, who)
    assert got == want


# --- POSTs: what a role may not do changes nothing ----------------------------------------------

def _ballot(s, vote_key="vote"):
    vote = s[vote_key]
    question = vote.questions.get()
    return {"step": "cast", f"q{question.pk}": [str(question.options.order_by("order", "id").first().pk)]}


def _project_post(**extra):
    data = {"title": "院门口加长椅", "description": "等车的老人需要座位。", "place": "1号院门口",
            "beneficiaries": "1号院老人", "item_1": "长椅", "amount_1": "1200", "own_contribution": "0",
            "proposer_kind": "resident", "proposer_name": ""}
    data.update(extra)
    return data


def _vote(s, tail=""):
    return f"/votes/Y/office/v/{s['vote'].pk}/{tail}"


def _paper(s, tail=""):
    return _vote(s, f"paper/{tail}")


# name -> (the POST, the roles docs/roles.md lets make it)
POSTS = {
    # Processes and votes
    "vote close": (lambda c, s: c.post(_vote(s, "move"), {"move": "close"}), {"admin", "worker"}),
    "vote publish": (lambda c, s: c.post(_vote(s, "move"), {"move": "publish", "force_reason": "按时公布"}),
                     {"admin", "worker"}),
    "booth new": (lambda c, s: c.post(_paper(s, "booths/new"), {"name": "2号院", "place": "2号院门口"}),
                  {"admin", "worker"}),
    "paper codes": (lambda c, s: c.post(_paper(s, f"b/{s['booth'].pk}/codes"), {"count": "2"}),
                    {"admin", "worker"}),
    "paper marked": (lambda c, s: c.post(_paper(s, f"b/{s['booth'].pk}/r/{s['world'].residents[4].pk}"),
                                         {"action": "paper"}), {"admin", "worker"}),
    "paper spoiled": (lambda c, s: c.post(_paper(s, "spoil"), {"code": s["codes"][0], "reason": "印坏了"}),
                      {"admin", "worker"}),
    "web ballot": (lambda c, s: c.post(f"/votes/Y/v/{s['vote'].pk}/ballot", _ballot(s)), {"resident"}),
    # 一月一议
    "round new": (lambda c, s: c.post("/deliberation/Y/office/", {"month": "2030-01", "support_threshold": "5"}),
                  {"admin", "worker"}),
    "topic new": (lambda c, s: c.post(f"/deliberation/Y/office/r/{s['round'].pk}/", {
        "action": "topic", "topic-title": "电动车充电桩", "topic-body": "楼下需要充电桩。", "topic-place": ""}),
                  {"admin", "worker"}),
    "on the agenda": (lambda c, s: c.post(f"/deliberation/Y/office/r/{s['round'].pk}/", {
        "action": "agenda", "proposal": str(s["proposal"].pk)}), {"admin", "worker"}),
    "propose": (lambda c, s: c.post(f"/deliberation/Y/r/{s['round'].pk}/propose", {
        "title": "健身器材维修", "body": "器材松动了。", "place": ""}), {"resident"}),
    "comment": (lambda c, s: c.post(f"/deliberation/Y/p/{s['proposal'].pk}/comment", {"body": "赞成"}),
                {"admin", "worker", "resident"}),  # the office's comment is shown as the office's
    # The fund
    "project submit": (lambda c, s: c.post(f"/funds/Y/c/{s['call'].pk}/submit", _project_post()),
                       {"admin", "worker", "resident"}),
    "project edit": (lambda c, s: c.post(f"/funds/Y/p/{s['project'].pk}/edit", _project_post(title="改过的")),
                     {"resident"}),
    "project withdraw": (lambda c, s: c.post(f"/funds/Y/p/{s['project'].pk}/withdraw"), {"resident"}),
    # The evaluation (next year's, in preparation)
    "target add": (lambda c, s: c.post(f"/evaluation/Y/office/{s['next_evaluation'].year}/target-add", {
        "kind": "committee", "label": "居民委员会", "criteria": "服务态度\n办事效率"}), {"admin", "worker"}),
    "defaults": (lambda c, s: c.post(f"/evaluation/Y/office/{s['next_evaluation'].year}/defaults"),
                 {"admin", "worker"}),
}


def _snapshot(s) -> dict:
    """Every row of the four apps, the board, the log and the books, the event log and the
    notifications."""
    state = {}
    for label in ("voting", "deliberation", "funds", "evaluation", "disclosure", "transparency", "books"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    state["events"] = list(Event.objects.order_by("pk").values())
    notification = apps.get_model("notify", "Notification")
    state["notifications"] = list(notification.objects.order_by("pk").values())
    return state


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_posts_a_role_may_not_make_change_nothing(scene, who):
    client = client_for(scene, who)
    changed, statuses = {}, {}
    for name, (post, allowed) in POSTS.items():
        if who in allowed:
            continue
        before = _snapshot(scene)
        response = post(client, scene)
        after = _snapshot(scene)
        if before != after:
            changed[name] = sorted(k for k in before if before[k] != after[k])
        statuses[name] = response.status_code
        if who is None:
            assert response.status_code == 302 and "login" in response["Location"], name
    assert changed == {}
    # A refusal says so: no redirect that looks like success.
    if who is not None:
        assert {n: c for n, c in statuses.items() if c not in (400, 403, 404, 409)} == {}


ALLOWED = [(name, who) for name, (_post, allowed) in POSTS.items() for who in sorted(allowed)]


@pytest.mark.parametrize("name, who", ALLOWED, ids=[f"{n}-{w}" for n, w in ALLOWED])
def test_the_posts_work_for_the_roles_allowed(scene, name, who):
    """The other side of the table: the same POST by each role allowed does change something
    (so the refusals above are refusals, not broken requests)."""
    post, _allowed = POSTS[name]
    before = _snapshot(scene)
    response = post(client_for(scene, who), scene)
    assert response.status_code in (200, 302), (response.status_code, response.content.decode()[:800])
    assert _snapshot(scene) != before


# --- the crawl: every link a role is shown opens for that role ---------------------------------

APPS = ("/votes/", "/deliberation/", "/funds/", "/evaluation/")
HREF = re.compile(r'(?:href|action)="(/(?:votes|deliberation|funds|evaluation)/[^"#]*)"')
STARTS = ["/votes/", "/votes/office/", "/votes/Y/office/", "/deliberation/office/", "/deliberation/Y/office/",
          "/deliberation/Y/", "/funds/office/", "/funds/Y/office/", "/funds/Y/", "/evaluation/office/",
          "/evaluation/Y/office/", "/evaluation/Y/"]


def crawl(client, starts=STARTS, limit=300) -> dict:
    """GET every page reachable from ``starts`` by links and form actions under the four apps;
    the responses by URL (a POST-only action answers 405 to the GET)."""
    seen: dict = {}
    queue = list(starts)
    while queue and len(seen) < limit:
        url = html.unescape(queue.pop(0))
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if response.status_code == 302 and response["Location"].startswith(APPS):
            queue.append(response["Location"])
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            queue += [u for u in HREF.findall(response.content.decode()) if html.unescape(u) not in seen]
    return seen


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_every_link_a_role_is_shown_opens_for_it(scene, who):
    """Crawl from each app's first pages, following every link and form under the four apps:
    none answers 403, 404 or 500 (a page never offers what the role may not open), and what the
    crawl reaches stays within the role's part of docs/roles.md."""
    seen = crawl(client_for(scene, who))
    # The public evaluation page invites every reader to rate; the ballot tells anyone who is
    # not a resident of the community why not (403, in words).
    broken = {u: r.status_code for u, r in seen.items() if r.status_code not in (200, 302, 405)
              and u not in STARTS and not (u.endswith("/ballot") and r.status_code == 403 and who != "resident")}
    assert broken == {}
    reached = {u for u, r in seen.items() if r.status_code == 200}
    if who not in ("admin", "worker"):
        # The booth desk, the sheet entry and the issuing of codes are the officers' alone.
        assert not any(u.endswith(("/desk", "/codes", "/paper/enter")) for u in reached)
    if who not in ("admin", "worker", "secretary", "supervisor"):
        assert not any("/Y/office/" in u for u in reached)
        if who != "z_worker":  # who runs Z's office reaches it
            assert not any("/office/" in u for u in reached)
    else:
        assert any(u.startswith("/deliberation/Y/office/") for u in reached)
