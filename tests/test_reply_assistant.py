"""The reply assistant: scores and hints on crafted messages and drafts, the staff endpoint
/insight/reply-check, the `linli replies_check` command, and a sanity check over the real
official replies (skipped where ../shared/data is absent)."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.cases.services import Intake, case_submit
from linli.insight.replies import SHANGHAI, assess, times_in

REPLIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "complaints" / "replies.csv"

LIFT_TITLE = "关于小区电梯、垃圾站和维修基金的问题"
LIFT_TEXT = ("一、3栋电梯经常停运，老人下不了楼。二、小区垃圾站清运不及时，夏天臭味很大。"
             "三、希望物业公布维修基金的使用情况。")
FULL = ("您好！针对您反映的问题答复如下：一、物业已于3月5日更换3栋电梯控制板，停运的电梯已恢复运行；"
        "二、已责成保洁公司每日清运垃圾站两次，消除臭味；三、物业将在本周内于公告栏公布维修基金的使用情况。")
ONE = "您好！物业已于3月5日更换3栋电梯控制板，电梯已恢复运行。"


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, tzinfo=SHANGHAI)


# --- the assessment ------------------------------------------------------------------------------

def test_a_draft_answering_every_numbered_point_beats_one_answering_one():
    full = assess(LIFT_TITLE, LIFT_TEXT, FULL)
    one = assess(LIFT_TITLE, LIFT_TEXT, ONE)
    assert len(full.points) == 4  # the title and the three numbered items
    assert all(p.answered for p in full.points)
    assert "point" not in full.codes
    assert full.completeness > one.completeness
    unanswered = [p.text for p in one.points if not p.answered]
    assert any("垃圾站" in text for text in unanswered) and any("维修基金" in text for text in unanswered)
    assert one.codes.count("point") == len(unanswered)


def test_questions_and_demands_are_points_and_small_talk_is_not():
    text = "尊敬的领导您好！我家楼下的烧烤摊每晚营业到凌晨两点。油烟扰民能否管一管？谢谢！"
    result = assess("", text, "城管执法中队已约谈烧烤摊经营者，责令其晚上十点前收摊并加装油烟净化器。")
    assert [p.text for p in result.points] == ["油烟扰民能否管一管？"]


def test_action_and_time_hints_appear_and_disappear():
    vague = assess(LIFT_TITLE, LIFT_TEXT, "您反映的问题我们已收悉，会尽快处理。")
    assert "action" in vague.codes and "vague" in vague.codes and "time" not in vague.codes
    assert vague.vague == "尽快" and not vague.has_action and not vague.has_time
    silent = assess(LIFT_TITLE, LIFT_TEXT, "您反映的3栋电梯问题我们已收悉。")
    assert "time" in silent.codes and "vague" not in silent.codes
    concrete = assess(LIFT_TITLE, LIFT_TEXT, "我们将安排物业在3个工作日内维修3栋电梯。")
    assert concrete.has_action and concrete.has_time
    assert not {"action", "time", "vague"} & set(concrete.codes)
    assert concrete.completeness > silent.completeness > 0
    done = assess(LIFT_TITLE, LIFT_TEXT, "物业已更换3栋电梯控制板，电梯运行正常。")
    assert done.has_action and done.has_time  # a finished action needs no date
    negated = assess(LIFT_TITLE, LIFT_TEXT, "该电梯不予维修。")
    assert not negated.has_action


def test_the_signature_date_and_a_quoted_date_are_not_a_time():
    assert times_in("来信收到，谢谢您对此事的关心。2019年2月12日") == []
    assert times_in("您于3月2日反映的问题已收悉。") == []
    assert times_in("物业将于3月10日前完成维修。 A市住建局 2019年3月5日") == ["3月10日前"]
    assert times_in("请在5个工作日内答复，本周五前回访。") == ["5个工作日内", "本周五前"]


def test_timeliness_against_the_due_time():
    due = at(4)
    on_time = assess(LIFT_TITLE, LIFT_TEXT, FULL, received_at=at(1), now=at(3), response_due=due)
    assert on_time.timeliness == 1.0 and "late" not in on_time.codes and on_time.due == due
    a_day_late = assess(LIFT_TITLE, LIFT_TEXT, FULL, received_at=at(1), now=at(5), response_due=due)
    assert a_day_late.timeliness == pytest.approx(2 / 3, abs=0.001)
    assert "late" in a_day_late.codes and "2025-03-04 10:00" in a_day_late.missing[a_day_late.codes.index("late")]
    very_late = assess(LIFT_TITLE, LIFT_TEXT, FULL, received_at=at(1), now=at(20), response_due=due)
    assert very_late.timeliness == 0.0
    assert very_late.overall < on_time.overall


def test_timeliness_default_limit_vagueness_and_none():
    default = assess(LIFT_TITLE, LIFT_TEXT, FULL, received_at=at(1), now=at(10))
    assert default.due == at(16) and default.timeliness == 1.0
    assert "late" in assess(LIFT_TITLE, LIFT_TEXT, FULL, received_at=at(1), now=at(17)).codes
    vague = assess(LIFT_TITLE, LIFT_TEXT, "物业会尽快维修3栋电梯。", received_at=at(1), now=at(2))
    assert vague.timeliness == 0.75
    undated = assess(LIFT_TITLE, LIFT_TEXT, FULL)
    assert undated.timeliness is None and undated.due is None and "late" not in undated.codes


def test_relevance_is_low_for_an_unrelated_draft():
    related = assess(LIFT_TITLE, LIFT_TEXT, FULL)
    unrelated = assess(LIFT_TITLE, LIFT_TEXT, "关于学校食堂饭菜价格偏高的问题，教育局将于下周到校检查。")
    assert related.relevance > 0.6
    assert unrelated.relevance < 0.25 and "relevance" in unrelated.codes
    assert "relevance" not in related.codes


def test_an_empty_draft_scores_nothing():
    empty = assess(LIFT_TITLE, LIFT_TEXT, "   ")
    assert (empty.relevance, empty.completeness) == (0.0, 0.0)
    assert empty.codes == ["empty"] and empty.flagged


# --- the endpoint --------------------------------------------------------------------------------

URL = "/insight/reply-check"


@pytest.fixture
def case(world) -> Case:
    install_default_categories(actor=world.users["admin"], community=world.community)
    created, _ = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description=LIFT_TEXT,
        reporter=world.residents[0], place=Case.Place.HOME,
        category=Category.objects.get(community=world.community, code="property-lift")))
    return created


def as_user(world, name, **kwargs) -> Client:
    client = Client(**kwargs)
    if name:
        client.force_login(world.users[name])
    return client


def test_staff_who_see_the_case_get_scores_and_hints(world, case):
    response = as_user(world, "worker").post(URL, {"case": case.number, "draft": ONE})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer["scores"]) == {"relevance", "completeness", "timeliness", "overall"}
    assert answer["scores"]["timeliness"] == 1.0  # just submitted
    assert answer["missing"] and all(isinstance(hint, str) for hint in answer["missing"])
    assert "no-store" in response["Cache-Control"]
    better = as_user(world, "worker").post(URL, {"case": case.number, "draft": FULL}).json()
    assert better["scores"]["completeness"] > answer["scores"]["completeness"]
    assert len(better["missing"]) < len(answer["missing"])


def test_other_communities_residents_and_anonymous_are_refused(world, case):
    other = as_user(world, "z_worker").post(URL, {"case": case.number, "draft": FULL})
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert other.json()["field"] == "case"
    assert as_user(world, "resident").post(URL, {"case": case.number, "draft": FULL}).status_code == 403
    anonymous = as_user(world, None).post(URL, {"case": case.number, "draft": FULL})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert as_user(world, "worker").get(URL).status_code == 405


@pytest.mark.parametrize("data, status, code, field", [
    ({"draft": FULL}, 400, "required", "case"),
    ({"case": "Y-20990101-0001", "draft": FULL}, 404, "not_found", "case"),
    ({"case": "CASE", "draft": "   "}, 400, "required", "draft"),
    ({"case": "CASE", "draft": "好" * 4001}, 400, "too_long", "draft"),
])
def test_bad_input_gets_a_clear_error(world, case, data, status, code, field):
    data = {k: case.number if v == "CASE" else v for k, v in data.items()}
    response = as_user(world, "worker").post(URL, data)
    assert response.status_code == status
    answer = response.json()
    assert (answer["code"], answer["field"]) == (code, field) and answer["message"]


def test_the_check_needs_the_csrf_token(world, case):
    client = as_user(world, "worker", enforce_csrf_checks=True)
    assert client.post(URL, {"case": case.number, "draft": FULL}).status_code == 403
    client.get(f"/cases/console/{case.number}/")  # the case page sets the token cookie
    token = client.cookies["csrftoken"].value
    response = client.post(URL, {"case": case.number, "draft": FULL, "csrfmiddlewaretoken": token})
    assert response.status_code == 200


def test_the_button_partial_names_the_endpoint_and_the_case(world, case):
    html = render_to_string("insight/_reply_check.html", {"case": case})
    assert f'data-url="{URL}"' in html and f'data-case="{case.number}"' in html
    assert "reply_check.js" in html and "reply-check-button" in html and " hidden" in html


# --- the command ---------------------------------------------------------------------------------

HEADER = "id,title,text,created_at,reply,replied_at\n"
ROWS = (
    f'1,{LIFT_TITLE},{LIFT_TEXT},2025/3/1 10:00,"{FULL}",2025/3/3 09:00\n'
    f'2,{LIFT_TITLE},{LIFT_TEXT},2025/3/1 10:00,您好，留言已收悉。,2025/4/30 09:00\n'
)


def run(path, **options) -> str:
    from io import StringIO

    out = StringIO()
    call_command("replies_check", csv=str(path), stdout=out, **options)
    return out.getvalue()


def test_command_scores_each_reply_and_summarises(tmp_path):
    source = tmp_path / "replies.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8-sig")
    out = tmp_path / "scores.csv"
    printed = run(source, out=str(out))
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [r["id"] for r in rows] == ["1", "2"]
    good, bad = rows
    assert float(good["completeness"]) > float(bad["completeness"])
    assert good["flagged"] == "0" and bad["flagged"] == "1"
    assert "late" in bad["codes"].split() and "late" not in good["codes"].split()
    assert (good["points"], good["points_answered"]) == ("4", "4")
    assert "2" in printed and "50%" in printed  # one of two flagged


def test_command_reads_a_gbk_export(tmp_path):
    source = tmp_path / "gbk.csv"
    source.write_bytes((HEADER + ROWS).encode("gbk"))
    out = tmp_path / "scores.csv"
    run(source, out=str(out))
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 3


@pytest.mark.parametrize("content, words", [
    ("id,title,text,created_at,reply\n1,a,b,2025/3/1,c\n", "replied_at"),
    ("", "empty"),
    (HEADER + "1,t,x,2025/3/1 10:00,r,2025/3/1\n2,t,x,yesterday,r,2025/3/2\n", "Row 3"),
    (HEADER + "1,t,x,13/3/2025,r,2025/3/1\n2,t,x,3/13/2025,r,2025/3/2\n", "created_at"),
])
def test_command_refuses_bad_files_and_writes_nothing(tmp_path, content, words):
    source = tmp_path / "bad.csv"
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "scores.csv"
    with translation.override("en"), pytest.raises(CommandError) as error:
        run(source, out=str(out))
    assert words in str(error.value)
    assert not out.exists()


def test_command_refuses_a_bad_limit(tmp_path):
    source = tmp_path / "replies.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    with pytest.raises(CommandError):
        run(source, limit_days="0")


# --- the real replies ----------------------------------------------------------------------------

@pytest.mark.skipif(not REPLIES.is_file(), reason=f"no real data at {REPLIES} (it is not shipped)")
def test_real_official_replies_get_sane_scores():
    """Every fifth real reply: the scores spread, neither all flagged nor none, and the replies
    that merely acknowledge the message ("已收悉") score lower than those stating what was done."""
    from linli.insight.management.commands.replies_check import assess_rows, read_replies

    rows = read_replies(REPLIES)[::5]
    results = assess_rows(rows, limit=dt.timedelta(days=15))
    completeness = [r.completeness for r in results]
    assert 0.2 < statistics.fmean(completeness) < 0.95
    assert statistics.pstdev(completeness) > 0.1
    assert 0.05 < sum(r.flagged for r in results) / len(results) < 0.95
    assert 0.1 < statistics.fmean(r.relevance for r in results) < 0.9
    short = [r.completeness for row, r in zip(rows, results) if len(row["reply"]) < 40]
    long = [r.completeness for row, r in zip(rows, results) if len(row["reply"]) >= 200]
    assert short and long and statistics.fmean(short) < statistics.fmean(long)


def test_the_resolve_form_carries_the_check_through_the_cases_hook(world, case):
    from linli.core import registry

    extras = [fn(world.users["worker"], case, move) for fn in registry.hooks("cases.move_form_extras")
              for move in ("resolve", "accept")]
    assert {"template": "insight/_reply_check.html", "context": {}} in extras
    assert extras.count(None) == 1  # nothing beside the other moves' forms


# --- issue 8, C8: a short, specific reply to a long message is on topic --------------------------

DARK_PATH_TITLE = "小区东门外路灯坏了"
DARK_PATH = ("我家住在小区东门附近，东门外那段人行道上的两盏路灯从上个月中旬开始就不亮了。那条路是很多居民晚上散步、"
             "下晚班回家的必经之路，旁边还有一条排水沟，没有盖板，天黑以后完全看不清。前几天隔壁单元的一位老人晚上"
             "回家时差点踩进沟里。我们给物业打过两次电话，物业说路灯归市政管；打市政热线又说要先核实是不是小区的设施。"
             "来回推了半个多月也没人来看。希望社区能协调一下，尽快把灯修好，顺便把那段排水沟盖上。")


def test_a_short_concrete_reply_is_relevant_and_a_done_action():
    short = assess(DARK_PATH_TITLE, DARK_PATH, "路灯已更换，照明已恢复。")
    assert short.relevance >= 0.8 and "relevance" not in short.codes
    assert short.has_action and short.has_time          # done: no date needed
    # Stock replies stay off topic, however short.
    for stock in ("您反映的问题已收悉，我们会尽快处理。", "已转相关单位办理。", "感谢您对社区工作的支持，我们将认真研究您的意见。",
                  "我们已安排人员更换了设备，问题已经处理完毕。"):
        assert assess(DARK_PATH_TITLE, DARK_PATH, stock).relevance < 0.25, stock


def test_the_result_is_hints_beside_the_draft_in_words(world, case):
    from pathlib import Path

    html = render_to_string("insight/_reply_check.html", {"case": case})
    for attribute in ("data-hints=", "data-good=", "data-partly=", "data-weak="):
        assert attribute in html
    script = (Path(__file__).resolve().parent.parent / "linli" / "static" / "linli" / "reply_check.js").read_text()
    assert "reply-check-pair" in script and "reply-check-hint" in script   # the panel sits beside the draft
    assert "* 100" not in script and '+ "%"' not in script                  # scores in words, not percentages
