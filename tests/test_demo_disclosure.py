"""The demo's year of books and 三务公开 (linli.demo.books, linli.demo.disclosure).

A small demo (300 households, its two years of cases) is seeded with a signing key in a
temporary data dir; the board it gets is the full one (it does not shrink with the households).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone, translation

from linli.books import statements
from linli.books.models import Voucher, VoucherLine
from linli.community.models import Community
from linli.core.masking import scrub
from linli.core.models import Event
from linli.demo import community as demo
from linli.demo.disclosure import WITNESS_KEY_NAME, replay_clock
from linli.disclosure import duties, leaf
from linli.disclosure.models import Entry
from linli.transparency import keys, selectors as log_selectors
from linli.transparency.models import Checkpoint, Cosignature, Witness
from linli.transparency.verify import verify_log

E = Entry.State


@pytest.fixture(autouse=True)
def _english():
    """The command's summary is asserted in English, whatever catalogue is compiled."""
    with translation.override("en"):
        yield


@pytest.fixture
def key_dir(tmp_path, settings):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "disclosure-signing.key")
    return tmp_path


@pytest.fixture
def seeded(db, key_dir):
    out = io.StringIO()
    call_command("seed_demo", "--households", "300", "--seed", "11", stdout=out, stderr=io.StringIO())
    return Community.objects.get(code=demo.COMMUNITY_CODE), out.getvalue()


def test_replay_clock_answers_its_time_and_is_restored():
    real = timezone.now
    when = timezone.make_aware(dt.datetime(2025, 3, 4, 10, 0))
    with replay_clock() as clock:
        clock.at = when
        assert timezone.now() == when
        assert timezone.localdate() == dt.date(2025, 3, 4)
        clock.at = None
        assert abs(timezone.now() - real()) < dt.timedelta(seconds=5)
    assert timezone.now is real
    with pytest.raises(ZeroDivisionError), replay_clock() as clock:
        clock.at = when
        1 / 0
    assert timezone.now is real


def test_a_year_of_board_on_a_verified_witnessed_log(seeded, key_dir):
    community, out = seeded
    public = Entry.objects.filter(community=community, state__in=(E.PUBLISHED, E.WITHDRAWN))
    assert public.count() >= 300
    by_section = {s: public.filter(section=s).count() for s in ("party", "residential", "finance")}
    assert min(by_section.values()) >= 20, by_section
    assert by_section["party"] >= 12 * 12   # the 12 branches' monthly meetings

    # Every public entry went through a second person with the section's approving role (the
    # entries issue 10's services publish as the server — minutes, decisions, results — aside).
    for entry in public.filter(author__isnull=False).select_related("author", "approver"):
        assert entry.author.username == "worker"
        assert entry.approver.username == ("secretary" if entry.section == "party" else "admin")
        assert entry.log_index is not None and entry.content_sha256
    # A year of history, in time order on the log.
    times = list(public.order_by("log_index").values_list("published_at", flat=True))
    assert times == sorted(times)
    assert times[-1] - times[0] > dt.timedelta(days=300)
    assert times[-1] < timezone.now()

    # The log verifies, and so does every entry against its leaf.
    report = verify_log(community)
    assert report.ok, report.message
    assert report.checked_entries == log_selectors.size(community) == public.count() + 1  # + the withdrawal leaf
    for entry in public.filter(state=E.PUBLISHED):
        assert log_selectors.leaf(community, entry.log_index) == leaf.leaf_bytes(entry)

    # The correction supersedes the month's first statement; both stay public, linked.
    correction = public.get(supersedes__isnull=False)
    old = correction.supersedes
    assert old.state == E.PUBLISHED and old.section == correction.section == "finance"
    assert list(old.corrections.all()) == [correction] and correction.log_index > old.log_index
    assert (old.period_start, old.period_end) == (correction.period_start, correction.period_end)
    # A voucher of that month was reversed and entered again.
    reversal = Voucher.objects.get(community=community, reverses__isnull=False)
    assert reversal.status == Voucher.Status.APPROVED
    assert old.period_start <= reversal.reverses.date <= old.period_end

    # The withdrawal: a tombstone with its reason and its own leaf; the list published again.
    withdrawn = public.get(state=E.WITHDRAWN)
    assert withdrawn.title == "" and withdrawn.body == "" and withdrawn.withdrawal_reason
    assert withdrawn.withdrawal_log_index > withdrawn.log_index
    assert public.filter(section="residential", period_start=withdrawn.period_start,
                         published_at__gt=withdrawn.published_at, title__contains="最低生活保障").exists()
    assert Event.objects.filter(verb="disclosure.withdrawn").count() == 1

    # No public word holds a phone or ID number.
    for title, body in public.values_list("title", "body"):
        assert scrub(title) == title.strip() and scrub(body) == body.strip()

    # Witnessed by the street: its key in the data dir, registered, and a cosignature of the latest
    # checkpoint, served with it.
    assert (key_dir / WITNESS_KEY_NAME).exists() and (key_dir / "disclosure-signing.key").exists()
    witness = Witness.objects.get(log__community=community)
    latest = log_selectors.latest_checkpoint(community)
    assert Cosignature.objects.filter(witness=witness, checkpoint=latest).exists()
    assert witness.name in log_selectors.served_checkpoint(community)
    # Approved at weekly sittings (publish_many): about one checkpoint per sitting, signed in time order.
    signed = list(Checkpoint.objects.filter(log__community=community).order_by("size")
                  .values_list("signed_at", flat=True))
    assert 50 < len(signed) < public.count() / 2
    assert all(a < b for a, b in zip(signed, signed[1:]))

    # Work for the office.
    assert Entry.objects.filter(community=community, state=E.SUBMITTED).count() >= 2
    assert Entry.objects.filter(community=community, state=E.HELD).count() == 1
    assert len(duties.overdue(community)) >= 1
    assert Voucher.objects.filter(community=community, status=Voucher.Status.SUBMITTED).count() == 1

    assert "Public board:" in out and "generated one at" in out
    assert str(keys.key_file()) in out


def test_the_demo_board_and_office_pages_open(seeded):
    community, _out = seeded
    code = community.code
    visitor = Client()
    assert visitor.get(f"/disclosure/{code}/").status_code == 200
    assert visitor.get(f"/disclosure/{code}/?section=party").status_code == 200
    correction = Entry.objects.get(community=community, supersedes__isnull=False)
    withdrawn = Entry.objects.get(community=community, state=E.WITHDRAWN)
    for entry in (correction, correction.supersedes, withdrawn):
        assert visitor.get(f"/disclosure/{code}/e/{entry.log_index}/").status_code == 200
    assert visitor.get(f"/disclosure/{code}/e/{withdrawn.log_index}/content").status_code == 410
    assert visitor.get(f"/disclosure/{code}/log/checkpoint").content.decode().count("\n— ") == 2  # log + street
    office = Client()
    office.force_login(get_user_model().objects.get(username="admin"))
    page = office.get(f"/disclosure/{code}/office/")
    assert page.status_code == 200


def test_the_ledger_balances_and_the_statements_match_it(seeded):
    community, _out = seeded
    posted = VoucherLine.objects.filter(voucher__community=community, voucher__status=Voucher.Status.APPROVED)
    totals = posted.aggregate(d=Sum("debit"), c=Sum("credit"))
    assert totals["d"] == totals["c"] > 0
    for voucher in Voucher.objects.filter(community=community).prefetch_related("lines"):
        lines = list(voucher.lines.all())
        assert sum(x.debit for x in lines) == sum(x.credit for x in lines) != 0
    assert Voucher.objects.filter(community=community, status=Voucher.Status.APPROVED).count() >= 100
    assert Voucher.objects.filter(community=community).exclude(prepared_by=None).exclude(
        approved_by=None).filter(prepared_by=models_f("approved_by")).count() == 0

    finance = Entry.objects.filter(community=community, section="finance", state=E.PUBLISHED)
    current = finance.filter(corrections__isnull=True)
    statements_seen = 0
    with translation.override(django_settings.LANGUAGE_CODE):
        for entry in current:
            start = entry.period_start
            if start.day != 1 or entry.period_end.day == 1:
                continue
            title, body = statements.render_statement(statements.monthly_statement(community, start.year, start.month))
            if entry.title.startswith(title):
                assert body in entry.body, entry.title
                statements_seen += 1
    assert statements_seen == 12
    # The superseded statement no longer matches the ledger (that is why it was corrected).
    old = finance.get(corrections__isnull=False)
    with translation.override(django_settings.LANGUAGE_CODE):
        _t, body = statements.render_statement(
            statements.monthly_statement(community, old.period_start.year, old.period_start.month))
    assert body != old.body


def models_f(name):
    from django.db.models import F

    return F(name)


def test_attachments_and_receipts_in_the_demo(seeded):
    from linli.books.models import VoucherAttachment
    from linli.disclosure import attachments
    from linli.disclosure.models import Attachment
    from linli.disclosure.selectors import verify as board_verify

    community, out = seeded
    files = Attachment.objects.filter(entry__community=community, entry__state=E.PUBLISHED)
    types = set(files.values_list("content_type", flat=True))
    assert {"application/pdf", "image/jpeg"} <= types   # a PNG without transparency is stored as JPEG
    assert files.filter(name__startswith="party-dues-").count() >= 2   # the dues charts
    # Every month's statement has its PDF; the allowance lists too; some meetings a photo.
    statements_with_pdf = files.filter(entry__section="finance", content_type="application/pdf",
                                       name__startswith="statement-").values("entry").distinct().count()
    assert statements_with_pdf >= 13   # twelve months and the corrected one
    assert files.filter(name__startswith="allowance-").count() >= 12
    assert files.filter(entry__section="party", content_type="image/jpeg").count() >= 10
    for a in files:
        data = attachments.read_bytes(a)
        assert data is not None and leaf.sha256_hex(data) == a.sha256
        if a.content_type == "application/pdf":
            assert attachments.is_pdf(data) and data.startswith(b"%PDF-1.4")
        header = leaf.leaf_bytes(a.entry)
        assert a.sha256.encode() in header
    # The withdrawn list's files are gone with its words.
    withdrawn = Entry.objects.get(community=community, state=E.WITHDRAWN)
    assert all(not a.path for a in withdrawn.attachments.all())
    # Everything verifies, files included.
    report = board_verify(community)
    assert report.ok, report.message
    # Receipts: some vouchers carry a scanned invoice, the one waiting for approval too.
    receipts = VoucherAttachment.objects.filter(voucher__community=community)
    assert receipts.count() >= 10
    waiting = Voucher.objects.get(community=community, status=Voucher.Status.SUBMITTED)
    assert waiting.attachments.exists()
    assert "with a scanned receipt" in out and "attachments" in out


def test_the_witness_has_the_street_offices_name_and_the_tool_verifies_the_demo_log(seeded, monkeypatch):
    """The street's witness is named as residents know it (non-ASCII key name), the board says
    so, and tools/verify_disclosure.py checks the demo's log, words and files with its key."""
    import importlib.util
    import sys
    import urllib.error
    from pathlib import Path

    community, _out = seeded
    witness = Witness.objects.get(log__community=community)
    assert witness.name == f"{community.street.name.removesuffix('街道')}街道办事处"
    assert not witness.name.isascii()
    page = Client().get(f"/disclosure/{community.code}/").content.decode()
    assert witness.name in page

    path = Path(__file__).resolve().parents[1] / "tools" / "verify_disclosure.py"
    spec = importlib.util.spec_from_file_location("verify_disclosure_demo", path)
    tool = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, tool)   # its dataclasses look their module up
    spec.loader.exec_module(tool)
    client = Client()

    class Answer:
        def __init__(self, status, body):
            self.status, self.body = status, body

        def read(self):
            return self.body

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(url, timeout=None):
        response = client.get(url.removeprefix("http://testserver"))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if response.status_code != 200:
            raise urllib.error.HTTPError(url, response.status_code, "", {}, None)
        return Answer(200, body)

    monkeypatch.setattr(tool.urllib.request, "urlopen", urlopen)
    key = tool.parse_key(keys.verifier_key_text(), tool.ALG_ED25519)
    street = tool.parse_key(witness.verifier_key, tool.ALG_COSIGNATURE_V1)
    lines = []
    cp = tool.check(f"http://testserver/disclosure/{community.code}/log", key, witnesses=[street],
                    proofs=False, content=True, out=lines.append)
    assert cp.size == log_selectors.size(community)
    assert any(line.startswith(f"  cosigned by {witness.name} at") for line in lines), lines
    assert any("withdrawn" in line for line in lines), lines
