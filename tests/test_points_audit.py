"""``linli points audit`` and the nightly job (linli/points/audit.py, jobs.py; docs/points.md "Audit").

Drift is planted by SQL that goes around the ledger's rules — writing a cached balance
directly, or switching a trigger off inside the test's transaction (both backends roll the DDL
back) — and the audit must name the first account or transaction that does not add up.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from linli.community.models import Community, District, StaffRole, Street
from linli.core.models import Event
from linli.points import jobs, ledger, notifications
from linli.points.models import Partner

from factories import _role, _user

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(db):
    """Two communities, each with a few posted transactions; an admin of the first."""
    district = District.objects.create(code="510197", name="测试区")
    street = Street.objects.create(district=district, code="510197001", name="测试街道")
    out = {}
    for code in ("A", "B"):
        community = Community.objects.create(street=street, code=code, name=f"{code}社区")
        partner = Partner.objects.create(community=community, name="理发店", kind="barber")
        pool, till = ledger.pool(community), ledger.partner_account(partner)
        grant = ledger.post(community=community, kind="grant", lines=[(ledger.issuance(community), -50), (pool, 50)])
        spend = ledger.post(community=community, kind="redemption", lines=[(pool, -20), (till, 20)])
        out[code] = {"community": community, "pool": pool, "till": till, "grant": grant, "spend": spend}
    out["admin"] = _user("ledger_admin")
    _role(out["admin"], StaffRole.Role.COMMUNITY_ADMIN, community=out["A"]["community"])
    return out


def run(*args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("points", "audit", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def bypass_posting_rules():
    """Switch off the posting rules for the rest of this test's transaction."""
    if connection.vendor == "sqlite":
        sql("DROP TRIGGER points_posting_only_unposted")
    else:
        sql("SET CONSTRAINTS ALL IMMEDIATE")  # run the pending deferred checks (they pass) first
        sql("ALTER TABLE points_posting DISABLE TRIGGER USER")
        sql("SET CONSTRAINTS ALL DEFERRED")


def test_a_clean_ledger_exits_0(books):
    code, out = run("--community", "A")
    assert code == 0
    assert "2 transactions, 4 postings, 3 accounts" in out and out.strip().endswith("ok")
    code, out = run()
    assert code == 0 and "4 transactions" in out
    assert ledger.audit().ok and ledger.audit(books["A"]["community"]).ok


def test_a_cached_balance_written_directly_is_named(books):
    till = books["A"]["till"]
    sql("UPDATE points_account SET balance = balance + 5 WHERE id = %s", [till.pk])
    code, out = run("--community", "A")
    assert code == 1
    assert f"#{till.pk}" in out and "25" in out and "20" in out
    result = ledger.audit(books["A"]["community"])
    assert not result.ok and result.culprit == ("account", till.pk)
    # The other community's ledger is not touched by it; the whole ledger is.
    assert run("--community", "B")[0] == 0
    assert run()[0] == 1


def test_a_posting_slipped_into_a_posted_transaction_is_named(books):
    spend = books["A"]["spend"]
    bypass_posting_rules()
    sql("INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, 5, %s)",
        [spend.pk, books["A"]["till"].pk, connection.ops.adapt_datetimefield_value(timezone.now())])
    code, out = run("--community", "A")
    assert code == 1 and f"#{spend.pk}" in out
    result = ledger.audit(books["A"]["community"])
    assert result.culprit == ("transaction", spend.pk)
    # The transaction is found before the account it also leaves out of step.
    assert "Transaction" in result.problem or "交易" in result.problem


def test_the_first_of_several_problems_is_named(books):
    a, b = books["A"], books["B"]
    sql("UPDATE points_account SET balance = balance + 1 WHERE id IN (%s, %s)", [a["till"].pk, b["till"].pk])
    first = min(a["till"].pk, b["till"].pk)
    assert ledger.audit().culprit == ("account", first)


def test_a_half_done_transfer_older_than_an_hour_is_named(books):
    community, pool, till = books["A"]["community"], books["A"]["pool"], books["A"]["till"]
    old = connection.ops.adapt_datetimefield_value(timezone.now() - dt.timedelta(hours=2))
    sql("INSERT INTO points_transaction (community_id, kind, memo, source_type, source_id, posted, created_at, "
        "effective_at) VALUES (%s, 'gift', '', '', '', %s, %s, %s)", [community.pk, False, old, old])
    from linli.points.models import Transaction

    txn = Transaction.objects.order_by("-pk").first()
    for account, amount in ((pool, -3), (till, 3)):
        sql("INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, %s, %s)",
            [txn.pk, account.pk, amount, old])
    result = ledger.audit(community)
    assert result.culprit == ("transaction", txn.pk)
    code, out = run("--community", "A")
    assert code == 1 and f"#{txn.pk}" in out


def test_an_unknown_community_is_an_error(books):
    with pytest.raises(CommandError):
        call_command("points", "audit", "--community", "NOPE")


def test_the_nightly_job_alerts_the_admins_once_a_day(books):
    assert jobs.audit_ledgers() == {"communities": 2, "failed": 0}
    assert not Event.objects.filter(verb="points.audit_failed").exists()
    till = books["A"]["till"]
    sql("UPDATE points_account SET balance = balance + 5 WHERE id = %s", [till.pk])
    with transaction.atomic():
        assert jobs.audit_ledgers() == {"communities": 2, "failed": 1}
    assert jobs.audit_ledgers()["failed"] == 1
    event = Event.objects.get(verb="points.audit_failed")  # once, though the job ran twice
    assert event.community_id == books["A"]["community"].pk
    assert event.data["culprit"] == "account" and event.data["culprit_id"] == till.pk
    [(matched, message)] = list(notifications.audit_messages([event]))
    assert list(message.user_ids) == [books["admin"].pk]
    assert message.url.endswith("/points/A/office/ledger/")
    assert f"#{till.pk}" in message.body


def test_a_transfer_under_way_is_not_a_problem(books):
    community, pool, till = books["A"]["community"], books["A"]["pool"], books["A"]["till"]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql("INSERT INTO points_transaction (community_id, kind, memo, source_type, source_id, posted, created_at, "
        "effective_at) VALUES (%s, 'gift', '', '', '', %s, %s, %s)", [community.pk, False, now, now])
    from linli.points.models import Transaction

    txn = Transaction.objects.order_by("-pk").first()
    for account, amount in ((pool, -3), (till, 3)):
        sql("INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, %s, %s)",
            [txn.pk, account.pk, amount, now])
    assert ledger.audit(community).ok
