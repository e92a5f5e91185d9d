"""The printed PDFs of a vote (docs/voting.md, "Booth and paper"): ballot sheets (one A4 page per
code, the code in letters that a text extract finds, the questions and options, Chinese text) and
the poster (title, lines, the address of its QR code), read back with pypdf."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from django.utils.translation import override
from pypdf import PdfReader

from linli.core.errors import InvalidInput
from linli.voting import paper, pdf, services
from linli.voting.phases import PhaseSpec

pytestmark = pytest.mark.django_db


def make_vote(world, *, kind="choice", questions=None, **options):
    now = timezone.now()
    admin = world.users["admin"]
    process = services.process_create(
        actor=admin, community=world.community, kind="vote", title="院落议事",
        specs=[PhaseSpec("voting", "Voting", now - dt.timedelta(hours=1))], ends_at=now + dt.timedelta(days=5))
    questions = questions or [("是否把二号院的栏杆刷成绿色？", ["同意", "不同意"])]
    return services.vote_create(actor=admin, process=process, title="栏杆刷漆", kind=kind, eligibility="adults",
                                rule="majority" if kind == "choice" else "tally", questions=questions,
                                phase_key="voting", **options)


def pages(body: bytes) -> list[str]:
    assert body.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def compact(text: str) -> str:
    return "".join(text.split())


def test_one_page_per_code_with_the_code_and_the_questions(world):
    vote = make_vote(world)
    codes = [paper.new_code() for _ in range(3)]
    with override("en"):
        texts = pages(pdf.ballot_sheets(vote, codes, check_url="https://linli.example/votes/Y/v/1/receipt"))
    assert len(texts) == 3
    for code, text in zip(codes, texts):
        assert pdf.group_code(code) in text  # the code as printed, twice (sheet and strip)
        assert text.count(pdf.group_code(code)) == 2
        assert "栏杆刷漆" in text and "同意" in compact(text) and "不同意" in compact(text)
        assert "Sheet code" in text and "Do not write your name" in text
        assert "Y社区" in text and "院落议事" in text
    # Each page carries only its own code.
    assert pdf.group_code(codes[1]) not in texts[0]


def test_sheets_in_chinese(world):
    vote = make_vote(world)
    with override("zh-hans"):
        text = pages(pdf.ballot_sheets(vote, ["ABCDEFGHJK"]))[0]
    assert "ABC-DEF-GHJK" in text and "栏杆刷漆" in text


def test_approval_sheet_prints_costs_and_the_budget_rule(world):
    vote = make_vote(world, kind="approval",
                     questions=[("选择资助的项目", [("楼道照明", 300000, "project:1"), ("健身器材", 450000, "project:2"),
                                                  ("花园改造", 800000, "project:3")])],
                     budget_fen=1000000, max_choices=2)
    with override("en"):
        text = pages(pdf.ballot_sheets(vote, ["ABCDEFGHJK"], booth=None))[0]
    flat = compact(text)
    assert "¥3,000" in flat and "¥4,500" in flat and "¥8,000" in flat
    assert "1.楼道照明" in flat and "3.花园改造" in flat  # options numbered for typing in
    assert "Mark at most 2 boxes." in text
    assert "¥10,000" in flat


def test_rating_sheet_has_the_three_answers(world):
    vote = make_vote(world, kind="rating", questions=[("居委会的工作", []), ("网格员的服务", [])])
    with override("en"):
        text = pages(pdf.ballot_sheets(vote, ["ABCDEFGHJK"]))[0]
    flat = compact(text)
    assert "Satisfied" in flat and "Basicallysatisfied" in flat and "Unsatisfied" in flat
    assert "居委会的工作" in compact(text) and "网格员的服务" in compact(text)


def test_booth_and_courtyard_printed(world):
    vote = make_vote(world)
    booth = paper.booth_create(actor=world.users["worker"], vote=vote, name="服务中心一号台", place="社区服务中心一楼")
    with override("en"):
        text = pages(pdf.ballot_sheets(vote, ["ABCDEFGHJK"], booth=booth, grid_name="1号院"))[0]
    assert "服务中心一号台" in text and "1号院" in text and "社区服务中心一楼" in compact(text)


def test_long_ballot_steps_down_the_type_and_a_huge_one_is_refused(world):
    many = make_vote(world, kind="approval", questions=[("项目", [f"第{i}个项目，内容说明较长的一段文字" for i in range(22)])])
    assert pdf.sheet_size(many) < pdf.SHEET_SIZES[0]
    text = pages(pdf.ballot_sheets(many, ["ABCDEFGHJK"]))[0]
    assert "第21个项目" in compact(text)
    huge = make_vote(world, kind="approval", questions=[("项目", [f"第{i}个项目" for i in range(90)])])
    with pytest.raises(InvalidInput) as refused:
        pdf.ballot_sheets(huge, ["ABCDEFGHJK"])
    assert refused.value.code == "too_long_to_print"


def test_qr_code_is_drawn(world):
    vote = make_vote(world)
    body = pdf.ballot_sheets(vote, ["ABCDEFGHJK"])
    content = PdfReader(io.BytesIO(body)).pages[0].get_contents().get_data().decode("latin-1")
    # Vector squares: a QR code of version 1 or more has far more than a hundred dark runs.
    assert content.count(" re") > 100


def test_poster(world):
    lines = ["投票时间：十二月一日至十五日", "地点：社区服务中心一楼", "Bring your ID card."]
    url = "https://linli.example/votes/Y/"
    texts = pages(pdf.poster("社区基金项目投票", lines, url))
    assert len(texts) == 1
    assert "社区基金项目投票" in texts[0] and url in texts[0]
    assert "十二月一日至十五日" in compact(texts[0]) and "Bring your ID card." in texts[0]


def test_poster_cuts_what_does_not_fit(world):
    lines = [f"第{i}条说明，写得很长很长很长很长很长很长很长很长很长很长很长很长很长很长" for i in range(80)]
    texts = pages(pdf.poster("公告", lines, "https://linli.example/"))
    assert len(texts) == 1
    assert "…" in texts[0]
    assert "第0条" in compact(texts[0]) and "第79条" not in compact(texts[0])


def test_wrap_keeps_every_character_and_the_width():
    text = "Hello world, a long English sentence 以及一句很长很长的中文句子需要在中间换行 done"
    lines = pdf.wrap(text, pdf.CJK, 12, 90)
    assert len(lines) > 2
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    from reportlab.pdfbase import pdfmetrics

    assert all(pdfmetrics.stringWidth(line, pdf.CJK, 12) <= 90 for line in lines)
    assert pdf.wrap("averyveryverylongwordwithoutspaces", pdf.CJK, 12, 40)[0]


def test_group_code():
    assert pdf.group_code("ABCDEFGHJK") == "ABC-DEF-GHJK"


def test_characters_without_a_glyph_in_the_cid_font_are_replaced(world):
    # U+00B7 and U+2022 have no glyph through STSong-Light's CMap: they print as U+30FB.
    assert pdf.printable("Y社区 · 投票 • 一") == "Y社区 ・ 投票 ・ 一"
    text = pages(pdf.poster("Y社区 · 投票", ["第一 • 第二"], "https://linli.example/"))[0]
    assert "·" not in text and "•" not in text and "・" in text
