"""The demo's two years of neighbours helping (linli.demo.volunteers): volunteers, needs,
activities, service hours and the 睦邻积分 ledger.

A small demo (300 households, its history) is seeded once, with a signing key in a temporary
data dir (seeding is most of the time: the checks share one seeding); the checks read what the
bulk writer and the services wrote.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone, translation

from linli.community.models import Community, Resident
from linli.core.models import Event
from linli.demo import community as demo
from linli.points import ledger
from linli.points.models import Account, Item, Partner, Redemption, Transaction
from linli.volunteers.models import Activity, Membership, Need, Rating, ServiceRecord, Signup, Team, Volunteer

PERSONAL_KEYS = {"name", "phone", "id_number", "address", "door", "birth_date", "username"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def seeded(db, tmp_path, settings):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "disclosure-signing.key")
    out = io.StringIO()
    call_command("seed_demo", "--households", "300", "--seed", "11", stdout=out, stderr=io.StringIO())
    return Community.objects.get(code=demo.COMMUNITY_CODE), out.getvalue()


def _keys(data) -> set:
    if isinstance(data, dict):
        return set(data).union(*(_keys(v) for v in data.values()))
    if isinstance(data, (list, tuple)):
        return set().union(*(_keys(v) for v in data))
    return set()


def _two_years_of_neighbours_helping(seeded):
    community, out = seeded
    assert "Volunteers:" in out and "Neighbourhood points:" in out

    # Volunteers: adults, a few minors with a guardian who consented; all in the community.
    volunteers = Volunteer.objects.filter(community=community)
    assert volunteers.count() >= 24
    today = timezone.localdate()
    for v in volunteers.filter(guardian__isnull=False).select_related("resident", "guardian"):
        assert v.resident.age(today) < 18 and v.guardian_consent_at is not None
        assert v.guardian.household_id == v.resident.household_id and v.guardian.age(today) >= 18
    # The four teams, each with a leader; the vanguard holds party members.
    teams = {t.kind: t for t in Team.objects.filter(community=community)}
    assert set(teams) == {"vanguard", "building_leaders", "youth", "elders"}
    assert not Membership.objects.filter(team=teams["vanguard"], volunteer__resident__is_party_member=False).exists()
    assert Membership.objects.filter(team__community=community, role="leader").exists()

    # Needs: some open, some planned (from the need tags), one declined with its reason.
    needs = Need.objects.filter(community=community)
    assert needs.filter(status="open").exists()
    assert needs.filter(source="need_tag").exists()
    declined = needs.filter(status="declined")
    assert declined.count() >= 1 and all(n.reason for n in declined)
    assert needs.filter(source="resident").exists() and needs.filter(source="staff").exists()

    # Activities over two years, done ones in the past, open ones coming with free slots.
    acts = Activity.objects.filter(community=community)
    first = acts.order_by("starts_at").first()
    assert (today - timezone.localdate(first.starts_at)).days > 600
    coming = acts.filter(status="open", starts_at__gt=timezone.now())
    assert coming.exists()
    assert any(a.signups.filter(status="confirmed").count() < a.slots for a in coming)

    # Records: QR and by hand, a few closed automatically, approved / rejected (with a reason) / pending.
    records = ServiceRecord.objects.filter(activity__community=community)
    assert records.filter(source="qr").exists() and records.filter(source="manual").exists()
    assert records.filter(status="pending").exists()
    assert records.filter(status="approved").count() > 50
    for r in records.filter(status="rejected"):
        assert r.reason
    # Nobody approved their own record.
    decided = records.filter(decided_by__isnull=False)
    assert decided.exists()
    assert not decided.filter(volunteer__resident__user_id=F("decided_by_id")).exists()
    # Every signed-up record has a confirmed sign-up; ratings stay 1–5.
    assert Signup.objects.filter(activity__community=community).exists()
    assert all(1 <= s <= 5 for s in Rating.objects.values_list("stars", flat=True))


def _the_ledger_is_balanced_and_every_approval_has_one_grant(seeded):
    community, _out = seeded
    audit = ledger.audit(community)
    assert audit.ok, audit.problem
    approved = ServiceRecord.objects.filter(activity__community=community, status="approved", points__gt=0)
    grants = (Transaction.objects.filter(community=community, kind="grant", source_type="volunteers.servicerecord")
              .values("source_id").annotate(n=Count("pk")))
    by_record = {g["source_id"]: g["n"] for g in grants}
    assert approved.exists()
    for record in approved:
        assert by_record.get(str(record.pk)) == 1
    # No grant for a record that was not approved.
    assert set(by_record) <= {str(pk) for pk in approved.values_list("pk", flat=True)}
    # Balances never negative (the database refuses), issuance owes exactly what is out.
    accounts = Account.objects.filter(community=community)
    assert not accounts.exclude(kind="issuance").filter(balance__lt=0).exists()
    assert sum(accounts.values_list("balance", flat=True)) == 0


def _the_resident_sign_in_has_points_and_things_to_redeem(seeded):
    community, _out = seeded
    resident = Resident.objects.get(community=community, user__username="resident")
    assert Volunteer.objects.filter(resident=resident).exists()
    assert ledger.balance(ledger.account_for(resident)) >= 50
    items = Item.objects.filter(community=community, active=True).filter(Q(stock__isnull=True) | Q(stock__gt=0))
    assert items.filter(points__lte=50).exists()
    # Redemptions at the canteen and the barber: at the counter with the terminal's key, and online.
    redemptions = Redemption.objects.filter(community=community)
    assert redemptions.filter(channel="counter", key__isnull=False).exists()
    assert redemptions.filter(channel="online").exists()
    # Each redemption's transaction moved its points from that resident to that partner.
    for r in redemptions.select_related("transaction").prefetch_related("transaction__postings__account"):
        lines = {(p.account.resident_id, p.account.partner_id, p.amount) for p in r.transaction.postings.all()}
        assert lines == {(r.resident_id, None, -r.points), (None, r.partner_id, r.points)}
        assert r.transaction.kind == "redemption" and r.transaction.posted
    kinds = set(redemptions.values_list("partner__kind", flat=True))
    assert {"canteen", "barber"} <= kinds
    assert Partner.objects.filter(community=community).count() >= 2
    assert Transaction.objects.filter(community=community, kind="gift").exists()
    assert Transaction.objects.filter(community=community, kind="settlement").exists()


def _no_personal_data_in_the_events(seeded):
    community, _out = seeded
    verbs = ("volunteers.", "volunteer_", "service_record.", "points.")
    q = Q()
    for prefix in verbs:
        q |= Q(verb__startswith=prefix)
    rows = list(Event.objects.filter(q).values_list("data", flat=True))
    assert len(rows) > 100
    names = {p.reveal() for p in Resident.objects.filter(community=community, volunteer__isnull=False)
             .values_list("name", flat=True)[:50]}
    for data in rows:
        assert not PERSONAL_KEYS & _keys(data)
        text = str(data)
        assert not any(name and name in text for name in names)


def test_the_demo_of_neighbours_helping(seeded):
    _two_years_of_neighbours_helping(seeded)
    _the_ledger_is_balanced_and_every_approval_has_one_grant(seeded)
    _the_resident_sign_in_has_points_and_things_to_redeem(seeded)
    _no_personal_data_in_the_events(seeded)
    print(seeded[1])
