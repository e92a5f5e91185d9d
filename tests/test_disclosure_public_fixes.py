"""Fixes to the public board from the acceptance review: the daily check's failure shown on the
board, the own-tools command taking the poster's fingerprint, translated duty periods, and a
poster that warns instead of promising when its entry no longer matches the log."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import importlib.util
import re
import shlex
import sys
import types
import urllib.error
import urllib.parse
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from linli.core.models import Event
from linli.disclosure import duties, jobs, public_selectors, services
from linli.disclosure.models import Duty
from linli.transparency import keys

ROOT = Path(__file__).resolve().parent.parent
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    return tmp_path / "signing.key"


@pytest.fixture
def anon():
    return Client()


def publish(world, *, title="居委会公告", body="本月议事会决定：更换3号院路灯。", section="residential"):
    return services.publish_as_server(community=world.community, section=section, title=title, body=body,
                                      period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31))


def tamper_body(entry, body="改过的正文"):
    """Change the stored words behind Linli's back, as someone with the database's password could."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET body = %s WHERE id = %s", [body, entry.pk])


def board_url(world, path=""):
    return f"/disclosure/{world.community.code}/{path}"


@contextlib.contextmanager
def chinese():
    with translation.override("zh-hans"):
        yield


# --- 1. the daily check's failure on the board ---------------------------------------------------


def test_board_shows_the_daily_checks_failure_at_its_top(world, key, anon):
    kept = publish(world, title="第一条")
    changed = publish(world, title="第二条", body="支出 500 元")
    assert "verify-alarm" not in anon.get(board_url(world), **EN).content.decode()
    tamper_body(changed, "支出 50 元")
    # The entry page alone showed it before; the board's list said nothing.
    assert "verify-alarm" not in anon.get(board_url(world), **EN).content.decode()

    assert jobs.daily_verify() == {"checked": 1, "failed": 1}
    event = Event.objects.get(verb="disclosure.verify_failed")
    page = anon.get(board_url(world), **EN).content.decode()
    banner = re.search(r'<div class="alert check-failed verify-alarm" role="alert">(.*?)</div>', page, re.S)
    assert banner, page
    text = banner.group(1)
    found = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")
    assert f"The daily check of {found} found that log entry {changed.log_index} is the first" in text
    assert f'href="/disclosure/Y/e/{changed.log_index}/"' in text
    assert f'href="/disclosure/Y/e/{kept.log_index}/"' not in text
    # At the top: before the list and the filters, right under the page's one h1.
    assert page.index("verify-alarm") < page.index('role="search"') < page.index('id="entries-h"')
    assert page.index("<h1") < page.index("verify-alarm")
    headings = re.findall(r"<h([1-6])", page)
    assert headings[0] == "1" and headings.count("1") == 1

    # Chinese too; another community's board says nothing.
    with chinese():
        page = anon.get(board_url(world)).content.decode()
    assert "verify-alarm" in page and f"日志第 {changed.log_index} 条" in page
    assert "verify-alarm" not in anon.get("/disclosure/Z/").content.decode()
    # The feed and the entry pages are not where this banner goes.
    assert "verify-alarm" not in anon.get(board_url(world, "feed.atom")).content.decode()


def test_the_failure_stands_for_one_check_period_and_its_quiet_time(world, key):
    entry = publish(world)
    tamper_body(entry)
    jobs.daily_verify()
    event = Event.objects.get(verb="disclosure.verify_failed")
    window = public_selectors.alarm_window()
    assert window == dt.timedelta(hours=24) + jobs.QUIET + dt.timedelta(hours=1)
    alarm = public_selectors.verify_alarm(world.community, now=event.created_at + window - dt.timedelta(seconds=1))
    assert alarm is not None
    assert (alarm.index, alarm.entry_index, alarm.found_at) == (entry.log_index, entry.log_index, event.created_at)
    # A passing check records nothing: after the window the board assumes the failure is gone.
    later = event.created_at + window + dt.timedelta(seconds=1)
    assert public_selectors.verify_alarm(world.community, now=later) is None
    assert public_selectors.verify_alarm(world.community, now=event.created_at - dt.timedelta(seconds=1)) is None
    assert public_selectors.verify_alarm(world.other_community) is None


def test_a_failure_without_an_entry_says_the_log_does_not_verify(world, key, anon):
    publish(world)
    services.record_verify_failure(community=world.community, report=types.SimpleNamespace(first_bad_index=None))
    page = anon.get(board_url(world), **EN).content.decode()
    assert "verify-alarm" in page and "the signed log itself does not verify" in page
    assert "Open entry" not in page


def test_a_failure_at_a_withdrawals_record_links_the_withdrawn_entry(world, key, anon):
    entry = publish(world)
    services.withdraw(actor=world.users["admin"], entry=entry, reason="依法撤回")
    entry.refresh_from_db()
    services.record_verify_failure(community=world.community,
                                   report=types.SimpleNamespace(first_bad_index=entry.withdrawal_log_index))
    alarm = public_selectors.verify_alarm(world.community)
    assert (alarm.index, alarm.entry_index) == (entry.withdrawal_log_index, entry.log_index)
    page = anon.get(board_url(world), **EN).content.decode()
    assert f"log entry {entry.withdrawal_log_index} is the first" in page
    assert f'<a href="/disclosure/Y/e/{entry.log_index}/">Open entry {entry.log_index}</a>' in page


# --- 2. the own-tools command takes the poster's fingerprint -------------------------------------


def _tool():
    spec = importlib.util.spec_from_file_location("verify_disclosure_for_test", ROOT / "tools" / "verify_disclosure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


class _Answer:
    def __init__(self, data: bytes):
        self.data = data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self) -> bytes:
        return self.data


def _through(client):
    """urllib's urlopen answered by the Django test client (the tool's only way out)."""
    def urlopen(url, timeout=None):
        parts = urllib.parse.urlsplit(url)
        response = client.get(parts.path, dict(urllib.parse.parse_qsl(parts.query)))
        if response.status_code != 200:
            raise urllib.error.HTTPError(url, response.status_code, "", {}, None)
        return _Answer(response.content)
    return urlopen


def test_own_tools_command_asks_for_the_printed_fingerprint(world, key, anon):
    entry = publish(world)
    page = anon.get(board_url(world, f"e/{entry.log_index}/"), **EN).content.decode()
    own = re.search(r'<details class="own-tools">(.*?)</details>', page, re.S).group(1)
    command = html.unescape(re.search(r"<pre><code>(.*?)</code></pre>", own, re.S).group(1))
    words = shlex.split(command)
    assert words[:3] == ["python3", "tools/verify_disclosure.py", "http://testserver/disclosure/Y/log"]
    assert words[3:] == ["--fingerprint", "<the fingerprint printed on the paper notice>"]
    # Neither the page's key nor its fingerprint is offered to copy: the resident types the poster's.
    assert "--key" not in command and keys.verifier_key_text() not in command and keys.fingerprint() not in command
    assert "from the paper notice, not from this page" in own

    # The command, with the fingerprint the poster prints, checks the log; another one is refused.
    poster = anon.get(board_url(world, f"e/{entry.log_index}/poster/"), **EN).content.decode()
    printed = html.unescape(re.search(r'<dd class="fingerprint">(.*?)</dd>', poster).group(1))
    assert printed == keys.fingerprint()
    tool = _tool()
    with mock.patch.object(tool.urllib.request, "urlopen", _through(anon)):
        assert tool.main([words[2], "--fingerprint", printed]) == 0
        assert tool.main([words[2], "--fingerprint", "0000 0000 0000 0000 0000"]) == 1


# --- 3. duty periods in the reader's language ------------------------------------------------------


def test_period_labels_are_translated():
    day = dt.date(2026, 7, 1)
    with translation.override("en"):
        assert duties.period_label(Duty.Frequency.MONTHLY, dt.date(2026, 9, 1)) == "2026-09"
        assert duties.period_label(Duty.Frequency.QUARTERLY, day) == "2026-Q3"
        assert duties.period_label(Duty.Frequency.YEARLY, dt.date(2026, 1, 1)) == "2026"
    with chinese():
        assert duties.period_label(Duty.Frequency.MONTHLY, dt.date(2026, 9, 1)) == "2026年9月"
        assert duties.period_label(Duty.Frequency.QUARTERLY, day) == "2026年第3季度"
        assert duties.period_label(Duty.Frequency.YEARLY, dt.date(2026, 1, 1)) == "2026年"


def test_board_names_overdue_periods_in_the_readers_language(world, key, anon):
    services.install_default_duties(community=world.community, since=dt.date(2025, 1, 1))
    with translation.override("en"):
        assert duties.overdue(world.community, today=timezone.localdate())  # there is something to show
    english = anon.get(board_url(world), **EN).content.decode()
    assert re.search(r"</strong>: 20\d\d-Q[1-4]", english) and re.search(r"</strong>: 20\d\d-\d\d", english)
    with chinese():
        page = anon.get(board_url(world)).content.decode()
    assert re.search(r"</strong>: 20\d\d年第[1-4]季度", page) and re.search(r"</strong>: 20\d\d年\d{1,2}月", page)
    assert not re.search(r"</strong>: 20\d\d-(Q[1-4]|\d\d)", page)


# --- 4. the poster warns when its entry no longer matches the log ---------------------------------


def test_poster_of_a_tampered_entry_warns_instead_of_promising(world, key, anon):
    entry = publish(world, title="收支公告", body="支出 500 元")
    poster_url = board_url(world, f"e/{entry.log_index}/poster/")
    page = anon.get(poster_url, **EN).content.decode()
    assert "check-failed" not in page and "scan-failed" not in page
    assert "Scan to read this entry and check it against the community's signed public log." in page

    tamper_body(entry, "支出 50 元")
    page = anon.get(poster_url, **EN).content.decode()
    warning = re.search(r'<div class="check-failed" role="alert">(.*?)</div>', page, re.S)
    assert warning, page
    assert "does not match the community's signed public log" in warning.group(1)
    assert "The title or text shown here differs from what the log recorded." in warning.group(1)
    assert page.index("check-failed") < page.index("<h1")  # above the title, not in the small print
    assert "Scan to read this entry and check it against" not in page
    assert 'class="scan scan-failed"' in page and "Not verified" in page
    assert "<svg" in page  # the code still leads to the entry page, which shows the failure too
    with chinese():
        page = anon.get(poster_url).content.decode()
    assert "警告" in page and "check-failed" in page


def test_poster_without_a_signed_checkpoint_keeps_its_promise(world, key, anon, settings, tmp_path):
    entry = publish(world)
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "missing.key")  # nothing to check against
    page = anon.get(board_url(world, f"e/{entry.log_index}/poster/"), **EN).content.decode()
    assert "check-failed" not in page and "Scan to read this entry" in page
