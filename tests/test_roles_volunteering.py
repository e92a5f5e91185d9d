"""Every role of the test world against every page of issue 11's two apps — the 睦邻积分 points
(``/points/``) and the volunteers (``/volunteers/``), residents' pages, office pages, the partner's
counter, the public honour list — and every POST a role may not make.

The table below is the contract's "Who may" list (docs/roles.md, "Volunteers and points
(睦邻积分): who organises, who approves, who redeems") written as data: a change of who may do
what changes the docs and this table together. A refused POST changes nothing: every row of
both apps, the event log and the notifications is compared before and after.

URLs are reversed by their names (the contract's names), so a page moved to another path is
still found; the one object a URL names is filled in from the scene.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse
from django.utils import timezone

from factories import _role, _user
from linli.community.models import Organisation, StaffRole
from linli.core.models import Event

from planted import person_of, planted_text

# The accounts of the test world (tests/conftest.py), the canteen's own staff, a second resident
# with an account, and None for a visitor who is not signed in.
ROLES = ["admin", "worker", "secretary", "grid1", "grid2", "leader", "canteen", "unit_staff", "supervisor",
         "resident", "res2", "z_worker", "nobody", None]
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# --- the scene ----------------------------------------------------------------------------------


def resident_account(world, index: int):
    """The world's resident ``index`` with an account of their own (resident 0 has "resident")."""
    resident = world.residents[index]
    if resident.user_id is None:
        resident.user = _user(f"res{index}")
        resident.save(update_fields=["user"])
    world.users.setdefault(f"res{index}", resident.user)
    return resident.user


def build_scene(world, settings, tmp_path) -> dict:
    """Through the services, as the office, the volunteers and the canteen would:

    - the canteen (a partner, run by its own organisation, whose staff account is "canteen"),
      a meal on the catalogue, a terminal key;
    - two volunteers: the signed-in resident (resident 0) and resident 2 ("res2", honour list
      opt-in), in a vanguard team; resident 2's personal data is planted in a need, a gift note and
      a rating comment, and their numbers and door in an activity's description;
    - a need (grid G01) and two activities from it: one tomorrow, one starting in 20 minutes that
      both volunteers signed up for, checked in and out (pending records), and resident 2's record
      approved by the party secretary (points granted);
    - points: each resident holds points; resident 0 redeemed a meal online.
    """
    from linli.points import catalogue, earning, gifts, ledger, partners, redeem
    from linli.volunteers import activities, hours, needs, qr, teams, volunteers

    settings.MEDIA_ROOT = str(tmp_path / "media")
    u, y = world.users, world.community
    person = person_of(world)
    text = planted_text(person)
    now = timezone.now()
    s: dict = {"world": world, "person": person, "tmp": tmp_path}
    resident_account(world, 2)

    # The canteen and its staff.
    canteen_org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name="幸福食堂", community=y,
                                              street=world.street)
    u["canteen"] = _user("canteen")
    _role(u["canteen"], StaffRole.Role.UNIT_STAFF, community=y, organisation=canteen_org)
    partner = partners.partner_create(actor=u["admin"], community=y, name="幸福食堂", kind="canteen",
                                      organisation=canteen_org)
    item = catalogue.item_create(actor=u["admin"], community=y, partner=partner, code="lunch", name="午餐一份",
                                 kind="meal", points=10, stock=20, description="两荤一素")
    key, plaintext = partners.key_create(actor=u["admin"], partner=partner, name="收银台")
    s.update(partner=partner, item=item, partner_key=key, key_plaintext=plaintext)

    # Volunteers and a team.
    mine = volunteers.volunteer_join(actor=u["resident"], resident=world.residents[0], skills=["visiting"],
                                     availability=["mon_am", "evenings"])
    theirs = volunteers.volunteer_join(actor=u["res2"], resident=world.residents[2], skills=["visiting", "escort"],
                                       availability=["tue_pm"], honour_opt_in=True)
    team = teams.team_create(actor=u["secretary"], community=y, kind="vanguard", name="党员先锋队")
    teams.team_add(actor=u["secretary"], team=team, volunteer=theirs, role="leader")
    s.update(volunteer=mine, other_volunteer=theirs, team=team)

    # A need and two activities from it.
    need = needs.need_post(actor=u["worker"], community=y, title="独居老人每周探访",
                           description=f"请先联系{text}再上门。", activity_type="visit", source="staff",
                           household=world.residents[2].household, grid=world.grids[0])
    later = activities.activity_create(
        actor=u["secretary"], community=y, title="周末探访", activity_type="visit",
        starts_at=now + dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1, hours=2), slots=3,
        place="1号院活动室", need=need, team=team, grid=world.grids[0],
        description=f"上门前打电话{person['phone']}（身份证{person['id_number']}），地址{person['door']}")
    soon = activities.activity_create(
        actor=u["secretary"], community=y, title="院坝清扫", activity_type="cleanup",
        starts_at=now + dt.timedelta(minutes=20), ends_at=now + dt.timedelta(hours=2), slots=5,
        place="1号院院坝", grid=world.grids[0])
    activities.signup(actor=u["resident"], activity=later, volunteer=mine)
    for who, volunteer in (("resident", mine), ("res2", theirs)):
        activities.signup(actor=u[who], activity=soon, volunteer=volunteer)
        hours.check_in(actor=u[who], activity=soon, volunteer=volunteer, at=now,
                       code=qr.code_for(soon, purpose="in", at=now))
        out = now + dt.timedelta(minutes=1)
        hours.check_out(actor=u[who], activity=soon, volunteer=volunteer, at=out,
                        code=qr.code_for(soon, purpose="out", at=out))
    records = {r.volunteer_id: r for r in soon.records.all()}
    approved = hours.approve(actor=u["secretary"], record=records[theirs.pk])
    hours.rate(actor=u["secretary"], record=approved, stars=5, comment=f"谢谢{text}")
    s.update(need=need, activity=later, soon=soon, record=records[mine.pk], approved=approved)

    # Points: a grant each; resident 0 redeems a meal online; resident 2 gifts with a note.
    earning.grant(actor=u["admin"], resident=world.residents[0], points=60, source=("tests.grant", "r0"),
                  memo="开户奖励")
    earning.grant(actor=u["admin"], resident=world.residents[2], points=45, source=("tests.grant", "r2"),
                  memo="开户奖励")
    redemption, _created = redeem.redeem(actor=u["resident"], resident=world.residents[0], item=item,
                                         channel="online")
    gift = gifts.gift(actor=u["res2"], from_resident=world.residents[2], to_resident=None, points=5,
                      note=f"送给社区，{text}")
    s.update(redemption=redemption, gift=gift, account=ledger.account_for(world.residents[0]),
             other_account=ledger.account_for(world.residents[2]))
    return s


@pytest.fixture
def scene(world, settings, tmp_path):
    return build_scene(world, settings, tmp_path)


def client_for(scene, who) -> Client:
    """A client for ``who``; a server error answers 500 (named in the test's failure) instead of
    raising."""
    client = Client(raise_request_exception=False, **EN)
    if who is not None:
        client.force_login(scene["world"].users[who])
    return client


# --- URLs by name --------------------------------------------------------------------------------


def _params(name: str) -> list[str]:
    """The parameters of the named URL (``namespace:name``), in the pattern's order."""
    namespace, short = name.split(":")
    resolver = get_resolver().namespace_dict[namespace][1]
    for possibility, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(short):
        for _result, params in possibility:
            return list(params)
    raise NoReverseMatch(name)


def url(name: str, *objects) -> str:
    """The named URL: ``code`` is the community's code, the other parameters take ``objects``'
    primary keys in order."""
    values = iter(objects)
    kwargs = {}
    for param in _params(name):
        kwargs[param] = "Y" if param in ("code", "community") else getattr(next(values), "pk", None)
    return reverse(name, kwargs=kwargs)


def _urls(s) -> list[tuple[str, str]]:
    """(group, url) for every page of both apps."""
    return [
        # Points: the resident's own pages.
        ("resident_own", url("points:mine")),
        ("resident_own", url("points:my_qr")),
        ("resident_own", url("points:gift")),
        ("resident_own", url("points:catalogue")),
        # Points: the partner's counter and the settlement; the office.
        ("counter", url("points:counter")),
        ("counter", url("points:counter_cancel", s["redemption"])),
        ("counter", url("points:settlement")),
        ("points_office", url("points:office")),
        ("post_only", url("points:office_partner_create")),
        ("post_only", url("points:office_item_create")),
        ("post_only", url("points:office_item_update", s["item"])),
        ("post_only", url("points:office_key_create")),
        ("points_ledger", url("points:office_ledger")),
        ("points_rules", url("points:office_rules")),
        # Volunteers: the residents' pages.
        ("resident_own", url("volunteers:join")),
        ("own_records", url("volunteers:my_records")),
        ("volunteer_own", url("volunteers:my_certificate")),
        ("activity_list", url("volunteers:activities")),
        ("residents", url("volunteers:activity", s["activity"])),
        # Volunteers: the office.
        ("vol_office", url("volunteers:office")),
        ("vol_list", url("volunteers:office_volunteer", s["other_volunteer"])),
        ("vol_teams", url("volunteers:office_teams")),
        ("vol_teams", url("volunteers:office_team", s["team"])),
        ("vol_needs", url("volunteers:office_needs")),
        ("vol_need", url("volunteers:office_need", s["need"])),
        ("organise", url("volunteers:office_activities")),
        ("organise", url("volunteers:office_activity_new")),
        ("organiser", url("volunteers:office_activity", s["activity"])),
        ("organiser_hours", url("volunteers:qr", s["soon"])),
        ("organiser_hours", url("volunteers:office_hours", s["soon"])),
        ("approve", url("volunteers:office_records")),
        ("post_only", url("volunteers:office_record_decide", s["record"])),
        ("counts", url("volunteers:office_summary")),
        # The public honour list.
        ("public", url("volunteers:honour")),
    ]


OFFICE = {"admin", "worker"}
RESIDENTS = {"resident", "res2"}
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {None}

# docs/roles.md as a table: who gets 200 for a page of each group. Everyone else is refused:
# a visitor is sent to sign in (302 to the login page), a signed-in account gets 403 or 404.
ALLOWED_GET = {
    # A resident's own pages (their points, QR, gifts, the catalogue to redeem from, joining).
    "resident_own": RESIDENTS,
    # A volunteer's certificate (a staff account has none: not found).
    "volunteer_own": RESIDENTS,
    # Their own records: any signed-in account reads its own (an account without a volunteer
    # record reads an empty list).
    "own_records": SIGNED_IN,
    # The list of open activities: a resident reads their community's; any other account reads
    # the page without another community's activities (test below). One activity: residents of
    # its community.
    "activity_list": SIGNED_IN,
    "residents": RESIDENTS,
    # The counter and the settlement: the partner's own staff and the office.
    "counter": OFFICE | {"canteen"},
    # Catalogue, stock, partners, keys: the office alone.
    "points_office": OFFICE,
    # The ledger and its reversals: the community admin alone (docs/roles.md).
    "points_ledger": {"admin"},
    # Earning rules, multipliers, the policy: the office writes (the admin), the party secretary
    # and the street read.
    "points_rules": OFFICE | {"secretary", "supervisor"},
    # The volunteers' office home: whoever manages (office, secretary, grid workers), organises
    # (building leaders) or reads counts (the street); each sees their part.
    "vol_office": OFFICE | {"secretary", "grid1", "grid2", "leader", "supervisor"},
    # One volunteer (resident 2, courtyard G01), masked: the office, the secretary, G01's grid worker.
    "vol_list": OFFICE | {"secretary", "grid1"},
    # Teams: the office and the secretary create them; grid workers read them.
    "vol_teams": OFFICE | {"secretary", "grid1", "grid2"},
    # The needs board: the office, the secretary, grid workers (their grids' rows).
    "vol_needs": OFFICE | {"secretary", "grid1", "grid2"},
    # One need (G01): the office, the secretary, G01's grid worker.
    "vol_need": OFFICE | {"secretary", "grid1"},
    # Organising: the office, the secretary, grid workers, building leaders.
    "organise": OFFICE | {"secretary", "grid1", "grid2", "leader"},
    # The organiser's pages of an activity in G01: the office, the secretary, the grid worker of G01
    # and the building leader of a building in G01 (docs/roles.md: "organise activities in the grids
    # holding their buildings").
    "organiser": OFFICE | {"secretary", "grid1", "leader"},
    # Showing the activity's QR and its hours: as the organiser's page (see LEADER_HOURS below).
    "organiser_hours": OFFICE | {"secretary", "grid1", "leader"},
    # Records to approve: whoever approves (never a building leader).
    "approve": OFFICE | {"secretary", "grid1", "grid2"},
    # Counts and summaries: whoever manages (office, secretary, grid workers) and the street.
    "counts": OFFICE | {"secretary", "grid1", "grid2", "supervisor"},
    "public": EVERYONE,
}
# Forms that only take a POST answer a GET 405, whoever asks (a visitor is sent to sign in first
# where the view asks for it).
POST_ONLY = {"post_only"}



def _expected(group: str, who) -> str:
    if group in POST_ONLY:
        return "refused" if who is None else "405"
    if who in ALLOWED_GET[group]:
        return "200"
    return "refused"


def _got(response, who) -> str:
    status = response.status_code
    if who is None and status == 405:
        return "refused"
    if status in (200, 405):
        return str(status)
    if who is None and status == 302 and "login" in response.get("Location", ""):
        return "refused"
    if who is not None and status in (403, 404):
        return "refused"
    return str(status)


def test_every_role_gets_what_docs_roles_promises(scene):
    """One scene, every role in turn (a scene per role would take minutes)."""
    wrong = {}
    for who in ROLES:
        client = client_for(scene, who)
        for group, address in _urls(scene):
            got, want = _got(client.get(address), who), _expected(group, who)
            if got != want:
                wrong[(str(who), address)] = (got, want)
    assert wrong == {}


def test_the_activity_list_shows_another_community_nothing(scene):
    """Every signed-in account opens the list; only the community's residents find its activities
    on it."""
    titles = (scene["activity"].title, scene["soon"].title)
    for who in ("resident", "res2"):
        page = client_for(scene, who).get(url("volunteers:activities")).content.decode()
        assert all(t in page for t in titles), who
    for who in ("z_worker", "nobody", "unit_staff", "canteen", "supervisor"):
        page = client_for(scene, who).get(url("volunteers:activities")).content.decode()
        assert not any(t in page for t in titles), who


# --- the API -------------------------------------------------------------------------------------


def test_the_api_answers_the_signed_in_resident_and_a_partner_key_only(scene):
    balance = "/api/v1/points/balance"
    catalogue_url = "/api/v1/points/catalogue"
    mine = client_for(scene, "resident").get(balance)
    assert mine.status_code == 200 and mine.json()["balance"] == scene["account"].__class__.objects.get(
        pk=scene["account"].pk).balance
    assert mine.json()["account"] == scene["account"].pk
    theirs = client_for(scene, "res2").get(balance).json()
    assert theirs["account"] == scene["other_account"].pk and theirs["account"] != mine.json()["account"]
    for who in ("admin", "worker", "canteen", "supervisor", "nobody", None):
        assert client_for(scene, who).get(balance).status_code in (401, 403, 404), who
    assert Client().get(catalogue_url).status_code in (401, 403)
    assert Client().get(catalogue_url, HTTP_AUTHORIZATION="Bearer not-a-key").status_code in (401, 403)
    keyed = Client().get(catalogue_url, HTTP_AUTHORIZATION=f"Bearer {scene['key_plaintext']}")
    assert keyed.status_code == 200 and [i["code"] for i in keyed.json()["items"]] == ["lunch"]
    # A partner's key reads the catalogue and redeems; it has no balance of its own to read.
    assert Client().get(balance, HTTP_AUTHORIZATION=f"Bearer {scene['key_plaintext']}").status_code in (
        401, 403, 404)


# --- POSTs: what a role may not do changes nothing ----------------------------------------------


def _snapshot(s) -> dict:
    """Every row of both apps, the event log and the notifications."""
    state = {}
    for label in ("points", "volunteers"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    state["events"] = list(Event.objects.order_by("pk").values())
    notification = apps.get_model("notify", "Notification")
    state["notifications"] = list(notification.objects.order_by("pk").values())
    return state


# name -> (the POST, the roles docs/roles.md lets make it)
POSTS = {
    "join or edit": (lambda c, s: c.post(url("volunteers:join"), {
        "action": "save", "skills": ["cooking"], "availability": ["sat_am"],
        "grid": str(s["world"].grids[1].pk)}), {"resident", "res2"}),
    "sign up": (lambda c, s: c.post(url("volunteers:activity", s["activity"]), {"action": "signup"}), {"res2"}),
    "redeem online": (lambda c, s: c.post(url("points:catalogue"), {
        "item": str(s["item"].pk), "quantity": "1", "step": "redeem", "nonce": "n1"}), {"resident", "res2"}),
    "gift": (lambda c, s: c.post(url("points:gift"), {"to": "pool", "points": "3", "note": "谢谢", "step": "give"}),
             {"resident", "res2"}),
    "counter redeem": (lambda c, s: c.post(url("points:counter"), {
        "partner": str(s["partner"].pk), "resident_qr": _token(s), "item": str(s["item"].pk), "quantity": "1",
        "nonce": ""}), {"admin", "worker", "canteen"}),
    "approve": (lambda c, s: c.post(url("volunteers:office_record_decide", s["record"]), {"decision": "approve"}),
                {"admin", "worker", "secretary", "grid1"}),
    "new activity": (lambda c, s: c.post(url("volunteers:office_activity_new"), _activity_post(s)),
                     {"admin", "worker", "secretary", "grid1", "leader"}),
}


def _activity_post(s) -> dict:
    start = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    return {"title": "楼道清理", "activity_type": "cleanup", "description": "", "place": "1号院",
            "grid": str(s["world"].grids[0].pk), "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "slots": "4"}


def _token(s) -> str:
    from linli.points.tokens import resident_token

    return resident_token(s["world"].residents[0])


def test_posts_a_role_may_not_make_change_nothing(scene):
    changed, statuses = {}, {}
    for who in ROLES:
        client = client_for(scene, who)
        for name, (post, allowed) in POSTS.items():
            if who in allowed:
                continue
            before = _snapshot(scene)
            response = post(client, scene)
            after = _snapshot(scene)
            if before != after:
                changed[(str(who), name)] = sorted(k for k in before if before[k] != after[k])
            status = response.status_code
            # A visitor is sent to sign in; a refusal says so: no redirect that looks like success.
            if who is None and not (status == 302 and "login" in response["Location"]) and status != 405:
                statuses[(str(who), name)] = status
            if who is not None and status not in (400, 403, 404, 405, 409):
                statuses[(str(who), name)] = status
    assert changed == {}
    assert statuses == {}


ALLOWED = [(name, sorted(allowed, key=str)[0]) for name, (_post, allowed) in POSTS.items()]


@pytest.mark.parametrize("name, who", ALLOWED, ids=[f"{n}-{w}" for n, w in ALLOWED])
def test_the_posts_work_for_a_role_allowed(scene, name, who):
    """The other side of the table: the same POST by a role allowed does change something (so the
    refusals above are refusals, not broken requests)."""
    post, _allowed = POSTS[name]
    before = _snapshot(scene)
    response = post(client_for(scene, who), scene)
    assert response.status_code in (200, 302), (response.status_code, response.content.decode()[:800])
    assert _snapshot(scene) != before


# --- the crawl: every link a role is shown opens for that role ---------------------------------

APPS = ("/points/", "/volunteers/")
HREF = re.compile(r'(?:href|action)="(/(?:points|volunteers)/[^"#]*)"')


def starts(s) -> list[str]:
    return [address for _group, address in _urls(s)]


def crawl(client, first, limit=200) -> dict:
    """GET every page reachable from ``first`` by links and form actions under both apps; the
    responses by URL (a POST-only action answers 405 to the GET)."""
    seen: dict = {}
    queue = list(first)
    while queue and len(seen) < limit:
        address = html.unescape(queue.pop(0))
        if address in seen:
            continue
        response = client.get(address)
        seen[address] = response
        if response.status_code == 302 and response["Location"].startswith(APPS):
            queue.append(response["Location"])
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            queue += [a for a in HREF.findall(response.content.decode()) if html.unescape(a) not in seen]
    return seen


def test_every_link_a_role_is_shown_opens_for_it(scene):
    """Crawl from every page of both apps, following every link and form under them: a page the
    role may open never offers a link the role may not open (no 403, 404 or 500 past the first
    pages), and nothing reached is an office page for an account without an office."""
    first = starts(scene)
    broken, offices = {}, {}
    for who in ROLES:
        seen = crawl(client_for(scene, who), first)
        for a, r in seen.items():
            if r.status_code not in (200, 302, 405) and a not in first:
                broken[(str(who), a)] = r.status_code
        reached = {a for a, r in seen.items() if r.status_code == 200}
        if who not in OFFICE | {"secretary", "grid1", "grid2", "leader", "supervisor", "canteen"}:
            # Who runs Z's office reaches it, and nothing of Y's.
            mark = "/Y/office/" if who == "z_worker" else "/office/"
            offices[str(who)] = sorted(a for a in reached if mark in a)
    assert broken == {}
    assert {w: a for w, a in offices.items() if a} == {}
