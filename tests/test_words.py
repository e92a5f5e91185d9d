"""Staff pages say things in words (issue 8, C5): no event codes, no reason codes, no database ids
for cases, no p-values or raw scores as the primary text; statuses in the reader's language.

A small community (tests/conftest.py's world) gets cases that went through most moves, an
early-warning alert, a classifier promotion and the notifications they call for; then the staff
pages are crawled as community worker, grid worker, street supervisor, handling unit (and the
admin, for the event log), in English and in Chinese.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone, translation

from linli.cases import services
from linli.cases.models import Case, Category, TimeLimit, Urgency
from linli.cases.templatetags.case_words import case_number, confidence_words
from linli.core import events, registry
from linli.insight.models import Alert
from linli.notify import services as notify_services

ROOT = pathlib.Path(__file__).resolve().parent.parent
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

# Every verb a module records: events.record(verb="…"), Event(verb="…"), the deadline job's
# _record(case, "…"), and "a.b" if … else "c.d" choices; a workflow's moves register themselves.
_VERB_IN_SOURCE = re.compile(
    r"""verb\s*=\s*["']([a-z_]+\.[a-z_]+)["']"""
    r"""|_record\([^,()]+,\s*["']([a-z_]+\.[a-z_]+)["']"""
    r"""|["']([a-z_]+\.[a-z_]+)["']\s+if\s""")
_REASON_IN_SOURCE = re.compile(r"""_activate\([^)]*reason=["']([a-z_]+)["']""")


def recorded_verbs() -> set[str]:
    found = set()
    for path in (ROOT / "linli").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for match in _VERB_IN_SOURCE.finditer(path.read_text(encoding="utf-8")):
            found.add(next(group for group in match.groups() if group))
    return found


def test_every_verb_an_app_records_has_a_label():
    verbs = recorded_verbs()
    assert {"case.submitted", "classifier.trained", "residents.imported"} <= verbs  # the scan works
    unlabelled = sorted(verb for verb in verbs if not registry.event_label(verb))
    assert unlabelled == []
    # The workflows' moves too (their verbs are built, not written out).
    from linli.core.workflow import _workflows
    moves = {flow.verb(move.name) for flow in _workflows.values() for move in flow.moves}
    assert moves and all(registry.event_label(verb) for verb in moves)


def test_every_promotion_reason_has_a_label():
    source = (ROOT / "linli/insight/services.py").read_text(encoding="utf-8")
    reasons = set(_REASON_IN_SOURCE.findall(source))
    assert {"first", "not_worse"} <= reasons
    assert all(registry.event_reason("classifier.promoted", reason) for reason in reasons)
    assert registry.event_reason("classifier.promoted", "free text a person wrote") is None


def test_case_number_tag_shows_the_whole_number_as_one_text():
    html = case_number("510106017001-20261205-0042")
    assert html == '<span class="num case-number" translate="no">510106017001-20261205-0042</span>'
    assert case_number(None) == "—"


def test_confidence_in_words(settings):
    settings.LINLI_TRIAGE_CONFIDENCE = 0.5
    with translation.override("en"):
        assert [confidence_words(p) for p in (0.95, 0.9, 0.7, 0.5, 0.3)] == [
            "almost certain", "almost certain", "likely", "likely", "unsure"]
        assert confidence_words(None) == ""


# --- the crawl -------------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def history(world, settings):
    """Cases through many moves, an alert, a classifier promotion, and their notifications."""
    settings.LINLI_NOTIFY_SETTLE_SECONDS = 0
    y, u = world.community, world.users
    category = Category.objects.create(community=y, code="light", name_zh="照明", name_en="Lighting",
                                       default_unit=world.property_company, keywords="灯")
    TimeLimit.objects.create(category=category, urgency="normal", response_amount=2, resolve_amount=3)

    def submit(text, resident):
        case, _ = services.case_submit(actor=u["worker"], intake=services.Intake(
            community=y, channel=Case.Channel.PHONE, description=text, reporter=resident,
            place=Case.Place.HOME, category=None))
        return case

    first = submit("楼道的灯坏了，晚上看不见台阶", world.residents[0])
    first = services.case_accept(actor=u["worker"], case=first, category=category)
    first = services.case_dispatch(actor=u["worker"], case=first)
    first = services.case_return(actor=u["unit_staff"], case=first, reason="不归我们管")
    first = services.case_dispatch(actor=u["worker"], case=first)
    first = services.case_start(actor=u["unit_staff"], case=first)
    services.case_note(actor=u["worker"], case=first, text="下午再去看一次")
    second = submit("楼道灯又不亮了，台阶很黑", world.residents[1])
    second = services.case_accept(actor=u["worker"], case=second, category=category)
    second = services.case_dispatch(actor=u["worker"], case=second)
    second = services.case_resolve(actor=u["unit_staff"], case=second, resolution="换了新灯泡，已经亮了")
    third = submit("单元门的门禁坏了关不上", world.residents[2])
    # The classifier's suggestion, as intake stores it.
    Case.objects.filter(pk=third.pk).update(suggested_category=category, suggestion_confidence=0.95)
    today = timezone.localdate()
    alert = Alert.objects.create(community=y, grid=world.grids[0], category=category,
                                 window_start=today - dt.timedelta(days=2), window_end=today,
                                 observed=6, expected=0.8, p_value=6.1e-05)
    alert.cases.set([first, second])
    events.record(actor=None, verb="alert.raised", target=alert, community=y, grid=world.grids[0], data={
        "alert": alert.pk, "category": category.code, "category_name": category.name_zh,
        "grid": world.grids[0].code, "grid_name": world.grids[0].name,
        "window_start": alert.window_start.isoformat(), "window_end": alert.window_end.isoformat(),
        "observed": 6, "expected": 0.8, "p_value": 6.1e-05})
    # A promotion as the daily job writes it (reason code "first").
    events.record(actor=None, verb="classifier.promoted", target=None, community=y,
                  data={"reason": "first", "number": 1})
    notify_services.dispatch_new_events(settle_seconds=0)
    return {"cases": [first, second, third], "alert": alert, "category": category}


def staff_pages(h) -> list[str]:
    first, _second, third = h["cases"]
    return ["/console/", "/cases/console/", "/cases/console/?queue=all",
            f"/cases/console/{first.number}/", f"/cases/console/{third.number}/",
            "/console/events/", "/insight/alerts/", f"/insight/alerts/{h['alert'].pk}/",
            "/insight/hot-issues/", "/inbox/", "/cases/console/rates/", "/console/needs/",
            f"/console/residents/{first.reporter_id}/", f"/console/households/{first.household_id}/"]


def crawl(client, user, urls, lang=EN) -> dict[str, str]:
    client.force_login(user)
    pages = {}
    for url in urls:
        response = client.get(url, **lang)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages[url] = response.content.decode()
    return pages


ROLES = ("worker", "grid1", "supervisor", "unit_staff", "admin")
VERB_LIKE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
REASON_CODES = ("first", "manual", "no_validation_cases", "not_worse")


def test_staff_pages_show_no_codes_ids_or_raw_statistics(client, world, history):
    verbs = {e.verb for e in registry.event_types()}
    seen = set()
    for role in ROLES:
        for url, html in crawl(client, world.users[role], staff_pages(history)).items():
            seen.add(url)
            text = visible(html)
            where = f"{role} {url}"
            assert not [m for m in VERB_LIKE.findall(text) if m in verbs], where
            assert not re.search(r"#\d+", text), where
            assert "p = " not in html and not re.search(r"\de-0\d", text), where
            assert not re.search(r"\b0\.\d\d\b", text), where  # no raw confidence or similarity
            assert not re.search(r"(reason|原因)\W+(%s)\b" % "|".join(REASON_CODES), text), where
    # The crawl reached the pages it is about.
    assert {"/console/events/", "/inbox/", f"/insight/alerts/{history['alert'].pk}/",
            f"/cases/console/{history['cases'][0].number}/"} <= seen


def test_the_words_that_replace_them(client, world, history):
    first, _second, third = history["cases"]
    pages = crawl(client, world.users["worker"], [f"/cases/console/{third.number}/",
                                                  f"/insight/alerts/{history['alert'].pk}/"])
    assert "suggested: Lighting, almost certain" in visible(pages[f"/cases/console/{third.number}/"])
    alert = visible(pages[f"/insight/alerts/{history['alert'].pk}/"])
    assert "More than usual: about 0.8 expected, 6 seen." in alert
    log = visible(crawl(client, world.users["admin"], ["/console/events/"])["/console/events/"])
    assert "promoted a classifier version" in log and "the first version of its scope" in log
    assert first.number in log  # the case is named by its number
    detail = crawl(client, world.users["worker"], [f"/cases/console/{first.number}/"])[
        f"/cases/console/{first.number}/"]
    assert f'<span class="num case-number" translate="no">{first.number}</span>' in detail


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_english_pages_show_english_statuses(client, world, history):
    first, second, third = history["cases"]
    for role in ("worker", "unit_staff"):
        pages = crawl(client, world.users[role], [f"/cases/console/{first.number}/", "/cases/console/?queue=all"])
        for url, html in pages.items():
            statuses = re.findall(r'<span class="status status-[a-z_]+">([^<]*)</span>', html)
            assert statuses, (role, url)
            assert not [s for s in statuses if CJK.search(s)], (role, url, statuses)
    with translation.override("en"):
        assert first.get_status_display() in visible(
            crawl(client, world.users["worker"], [f"/cases/console/{first.number}/"])[
                f"/cases/console/{first.number}/"])



def test_chinese_pages_carry_no_english_labels(client, world, history):
    """In Chinese, the statuses, channels and event labels the pages show are Chinese: none of
    their English words (those the catalogue translates) is left on a staff page."""
    labels = [label for choices in (Case.Status.choices, Case.Channel.choices, Urgency.choices)
              for _value, label in choices] + [e.label for e in registry.event_types()]
    english = set()
    for label in labels:
        with translation.override("en"):
            en = str(label)
        with translation.override("zh-hans"):
            zh = str(label)
        if en != zh and len(en) > 3:
            english.add(en)
    assert "in progress" in english  # the catalogue is loaded
    with translation.override("zh-hans"):
        system_zh = translation.gettext("system")
    for role in ("worker", "grid1", "unit_staff", "admin"):
        for url, html in crawl(client, world.users[role], staff_pages(history), ZH).items():
            text = visible(html)
            # A label stands alone (a status, an action); English inside a longer sentence is a
            # message the catalogue has yet to translate (tests/test_translations.py's business).
            runs = {run.strip() for run in re.findall(r"[A-Za-z][A-Za-z ,'()-]*[A-Za-z)]", text)}
            left = sorted(runs & english)
            assert not left, (role, url, left)
            if system_zh != "system":  # a job's events: "系统" (once the catalogue has it)
                assert "system" not in text.split(), (role, url)




def test_a_verb_no_app_registered_reads_other_change_not_its_code(client, world, history):
    first = history["cases"][0]
    events.record(actor=None, verb="case.unheard_of", target=first, community=world.community,
                  grid=first.grid, data={"number": first.number})
    for role, url in (("worker", f"/cases/console/{first.number}/"), ("admin", "/console/events/")):
        text = visible(crawl(client, world.users[role], [url])[url])
        assert "case.unheard_of" not in text and "other change" in text, (role, url)


def test_raw_choice_codes_are_not_shown(client, world, history):
    codes = [value for value, _label in Case.Status.choices + Case.Channel.choices if "_" in value]
    for role in ("worker", "unit_staff"):
        for url, html in crawl(client, world.users[role], staff_pages(history)).items():
            text = visible(html)
            assert not [code for code in codes if re.search(r"\b%s\b" % code, text)], (role, url)


def test_the_inbox_speaks_the_reader_s_language(client, world, history):
    """Stored in Chinese (the installation's language), read in English by an English reader."""
    worker = world.users["worker"]
    assert worker.notifications.exists()
    english = visible(crawl(client, worker, ["/inbox/"], EN)["/inbox/"])
    # Names are data: the community, the courtyard, the reason a person wrote, and the category's
    # name the alert's event keeps (its Chinese name).
    assert not CJK.search(english.replace(world.community.name, "").replace(world.grids[0].name, "")
                          .replace("简体中文", "").replace("不归我们管", "").replace("照明", "")), english
    assert f"Case {history['cases'][0].number} returned by the unit" in english
    chinese = visible(crawl(client, worker, ["/inbox/"], ZH)["/inbox/"])
    assert f"工单 {history['cases'][0].number}" in chinese


def test_the_event_log_s_kinds_of_record_are_named_in_chinese(client, world, history):
    from linli.community.forms import event_target_choices
    with translation.override("zh-hans"):
        names = [str(label) for value, label in event_target_choices() if value]
    # ("Webhook" is the loanword Chinese uses too; "case counter" was a class name in English.)
    assert names and not [name for name in names if re.fullmatch(r"[a-z]+( [a-z]+)+", name)]

