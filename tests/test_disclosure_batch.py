"""Publishing many entries at once (linli.disclosure.services.publish_many) and the full check
(linli.disclosure.selectors.verify) streaming the board against its log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.disclosure import leaf, selectors, services
from linli.disclosure.models import Entry
from linli.transparency import keys, selectors as tlog
from linli.transparency.models import Checkpoint
from linli.transparency.verify import verify_log

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def files_dir(settings, tmp_path):
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    return tmp_path / "files"


@pytest.fixture
def key(settings, tmp_path, files_dir):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    return tmp_path / "signing.key"


def submitted(world, title, *, section="residential", who="worker", body="院落路灯已更换。", files=()):
    entry = services.create_draft(actor=world.users[who], community=world.community, section=section, title=title,
                                  body=body, period_start=MARCH[0], period_end=MARCH[1], files=files)
    return services.submit(actor=world.users[who], entry=entry)


def published_events():
    return Event.objects.filter(verb="disclosure.published")


# --- publish_many ---------------------------------------------------------------------------------


def test_publish_many_appends_every_leaf_in_order_and_signs_one_checkpoint(world, key):
    first = services.publish(actor=world.users["admin"], entry=submitted(world, "先发的一条"))
    assert Checkpoint.objects.count() == 1
    batch = [submitted(world, f"第{i}条", files=[PDF] if i == 1 else ()) for i in range(3)]
    done = services.publish_many(actor=world.users["admin"], entries=batch)

    assert [e.pk for e in done] == [e.pk for e in batch]
    assert [e.log_index for e in done] == [1, 2, 3]
    assert Checkpoint.objects.count() == 2 and tlog.latest_checkpoint(world.community).size == 4
    for entry in Entry.objects.filter(pk__in=[e.pk for e in batch]):
        assert entry.state == "published" and entry.approver == world.users["admin"]
        assert entry.approver_role == "community_admin" and entry.published_at is not None
        assert tlog.leaf(world.community, entry.log_index) == leaf.leaf_bytes(entry)
    # One event per entry, of the shape publish writes.
    single = published_events().get(target_id=str(first.pk))
    events = list(published_events().exclude(pk=single.pk).order_by("pk"))
    assert [e.target_id for e in events] == [str(e.pk) for e in batch]
    for event, entry in zip(events, done):
        assert event.actor == world.users["admin"] and event.community_id == world.community.pk
        assert event.data == {"from": "submitted", "to": "published", "section": "residential",
                              "log_index": entry.log_index}
        assert set(event.data) == set(single.data)
    assert verify_log(world.community).ok
    report = selectors.verify(world.community)
    assert report.ok and report.checked_entries == 4 and report.checked_attachments == 1


@pytest.mark.parametrize("spoil, refused", [
    ("draft", IllegalTransition),          # one entry was never submitted
    ("own", PermissionDenied),             # the approver wrote one of them
    ("party", PermissionDenied),           # the approver may not approve this section
    ("phone", InvalidInput),               # a number got in after it was submitted
])
def test_publish_many_is_all_or_nothing(world, key, spoil, refused):
    services.publish(actor=world.users["admin"], entry=submitted(world, "已公开"))
    good = [submitted(world, "甲"), submitted(world, "乙")]
    if spoil == "draft":
        bad = services.create_draft(actor=world.users["worker"], community=world.community, section="residential",
                                    title="草稿", body="", period_start=MARCH[0], period_end=MARCH[1])
    elif spoil == "own":
        bad = submitted(world, "管理员自己写的", who="admin")
    elif spoil == "party":
        bad = submitted(world, "支部会议记录", section="party")
    else:
        bad = submitted(world, "通知")
        Entry.objects.filter(pk=bad.pk).update(body="请联系 13912345678")
    entries = [good[0], bad, good[1]]
    events_before = Event.objects.count()
    with pytest.raises(refused):
        services.publish_many(actor=world.users["admin"], entries=entries)
    assert Entry.objects.filter(pk__in=[e.pk for e in entries], state="published").count() == 0
    assert not Entry.objects.filter(pk__in=[e.pk for e in entries], log_index__isnull=False).exists()
    assert tlog.size(world.community) == 1 and Checkpoint.objects.count() == 1
    assert Event.objects.count() == events_before
    assert selectors.verify(world.community).ok


def test_publish_many_refuses_a_correction_of_an_entry_in_the_same_batch(world, key):
    old = submitted(world, "三月收支")
    services.publish(actor=world.users["admin"], entry=old)
    fix = services.start_correction(actor=world.users["worker"], entry=Entry.objects.get(pk=old.pk))
    fix = services.submit(actor=world.users["worker"], entry=fix)
    other = submitted(world, "四月收支")
    done = services.publish_many(actor=world.users["admin"], entries=[other, fix])
    assert done[1].supersedes_id == old.pk
    assert tlog.leaf(world.community, done[1].log_index) == leaf.leaf_bytes(Entry.objects.get(pk=fix.pk))
    assert selectors.verify(world.community).ok


def test_publish_many_refuses_duplicates_and_other_communities_and_takes_nothing_for_nothing(world, key):
    a = submitted(world, "甲")
    with pytest.raises(InvalidInput):
        services.publish_many(actor=world.users["admin"], entries=[a, a])
    z = services.create_draft(actor=world.users["z_worker"], community=world.other_community,
                              section="residential", title="Z 社区通知", body="", period_start=MARCH[0],
                              period_end=MARCH[1])
    z = services.submit(actor=world.users["z_worker"], entry=z)
    with pytest.raises((InvalidInput, PermissionDenied)):
        services.publish_many(actor=world.users["admin"], entries=[a, z])
    assert services.publish_many(actor=world.users["admin"], entries=[]) == []
    assert tlog.size(world.community) == 0 and not published_events().exists()


# --- the full check, streamed ---------------------------------------------------------------------


def test_verify_checks_a_withdrawal_leaf_and_its_reason(world, key, files_dir):
    entries = services.publish_many(actor=world.users["admin"],
                                    entries=[submitted(world, "甲", files=[PDF]), submitted(world, "乙")])
    services.withdraw(actor=world.users["admin"], entry=entries[0], reason="误列了门牌号。")
    services.publish(actor=world.users["admin"], entry=submitted(world, "丙"))
    report = selectors.verify(world.community)
    assert report.ok, report.message
    assert report.checked_entries == 3 and tlog.size(world.community) == 4
    withdrawn = Entry.objects.get(pk=entries[0].pk)
    Entry.objects.filter(pk=withdrawn.pk).update(withdrawal_reason="另一个理由。")
    report = selectors.verify(world.community)
    assert not report.ok and report.first_bad_index == withdrawn.withdrawal_log_index


def test_verify_names_a_leaf_claimed_twice_and_an_index_outside_the_log(world, key):
    a, b, c = services.publish_many(actor=world.users["admin"],
                                    entries=[submitted(world, "甲"), submitted(world, "乙"), submitted(world, "丙")])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET withdrawal_log_index = %s WHERE id = %s", [a.log_index, c.pk])
    report = selectors.verify(world.community)
    assert not report.ok and report.first_bad_index == a.log_index
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET withdrawal_log_index = NULL, log_index = %s WHERE id = %s",
                       [7, c.pk])
    report = selectors.verify(world.community)
    # Leaf 2 is now nobody's and the entry claims an index the log does not have.
    assert not report.ok and report.first_bad_index == c.log_index
    assert any("7" in problem for problem in report.problems)


def test_verify_reads_in_pages_across_chunk_boundaries(world, key, monkeypatch):
    monkeypatch.setattr(selectors, "CHUNK", 2)
    entries = services.publish_many(actor=world.users["admin"],
                                    entries=[submitted(world, f"第{i}条") for i in range(7)])
    services.withdraw(actor=world.users["admin"], entry=entries[1], reason="重复公示。")
    report = selectors.verify(world.community)
    assert report.ok and report.checked_entries == 7, report.message
    Entry.objects.filter(pk=entries[5].pk).update(title="改过")
    report = selectors.verify(world.community)
    assert not report.ok and report.first_bad_index == entries[5].log_index


# --- the leaf's bytes, written out fast, are canonical JSON ---------------------------------------

TRICKY = ["", "plain", "引号\"和\\反斜杠", "换行\n回车\r制表\t", "\x00\x1f\x7f", "\u2028\u2029", "😀 emoji", "</script>",
          "a" * 300]


@pytest.mark.parametrize("text", TRICKY)
def test_header_and_words_bytes_equal_canonical_json(text):
    published = dt.datetime(2026, 3, 5, 1, 2, 3, 456789, tzinfo=dt.timezone.utc)
    values = dict(type_="entry", community="Y", section=text, period_start=MARCH[0], period_end=MARCH[1],
                  published=published, author_role=text, approver_role="community_admin",
                  content_sha256="ab" * 32, attachments=[{"sha256": "cd" * 32, "size": 12, "type": "application/pdf"}],
                  supersedes=3, withdraws=None)
    slow = leaf.canonical({
        "v": 1, "type": "entry", "community": "Y", "section": text, "period": ["2026-03-01", "2026-03-31"],
        "published": "2026-03-05T09:02:03+08:00", "author_role": text, "approver_role": "community_admin",
        "content_sha256": "ab" * 32, "attachments": [{"sha256": "cd" * 32, "size": 12, "type": "application/pdf"}],
        "supersedes": 3, "withdraws": None})
    assert leaf.header_bytes(**values) == slow
    values.update(attachments=[], supersedes=None, withdraws=7, type_="withdrawal")
    assert leaf.header_bytes(**values) == leaf.canonical({
        "v": 1, "type": "withdrawal", "community": "Y", "section": text, "period": ["2026-03-01", "2026-03-31"],
        "published": "2026-03-05T09:02:03+08:00", "author_role": text, "approver_role": "community_admin",
        "content_sha256": "ab" * 32, "attachments": [], "supersedes": None, "withdraws": 7})
    assert leaf.words_bytes(text, text[::-1]) == leaf.canonical({"title": text, "body": text[::-1]})


def test_an_entry_published_while_the_check_runs_is_no_fault(world, key, monkeypatch):
    from linli.transparency import selectors as tlog_selectors

    services.publish_many(actor=world.users["admin"], entries=[submitted(world, f"第{i}条") for i in range(3)])
    started = tlog_selectors.log_for(world.community)          # the log as the check reads it at its start
    late = services.publish(actor=world.users["admin"], entry=submitted(world, "检查期间公开"))
    monkeypatch.setattr(tlog_selectors, "log_for", lambda community: started)
    report = selectors.verify(world.community)
    assert started.size == 3 and late.log_index == 3
    assert report.ok, report.message
    # An index the log does not hold even at the end is a fault.
    Entry.objects.filter(pk=late.pk).update(log_index=9)
    report = selectors.verify(world.community)
    assert not report.ok and any("9" in problem for problem in report.problems)


@pytest.mark.django_db(transaction=True)
def test_verify_outside_a_transaction_reads_one_snapshot(world, key):
    """On PostgreSQL the check opens its own REPEATABLE READ transaction; on SQLite none."""
    services.publish_many(actor=world.users["admin"], entries=[submitted(world, "甲"), submitted(world, "乙")])
    assert not connection.in_atomic_block
    report = selectors.verify(world.community)
    assert report.ok and report.checked_entries == 2, report.message
    assert not connection.in_atomic_block
