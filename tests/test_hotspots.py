"""Hot issues: place names, grouping by place and meaning, heat, intake helpers and `linli hotspots`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from linli.core.errors import InvalidInput
from linli.insight.clustering import Message, attach, find_hot_issues, heat, similar
from linli.insight.places import extract_places
from linli.insight.textio import SHANGHAI, parse_datetimes, read_csv


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English; the catalogue's Chinese is checked in test_translations."""
    with translation.override("en"):
        yield

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "complaints" / "unlabeled.csv"
T0 = dt.datetime(2019, 11, 1, 9, 0, tzinfo=SHANGHAI)


def msg(ident, title, text="", days=0, supports=0):
    return Message(id=str(ident), title=title, text=text, created_at=T0 + dt.timedelta(days=days), supports=supports)


FUMES = [
    msg(1, "A市A5区魅力之城小区临街门面油烟扰民", "魅力之城小区楼下的餐馆油烟直排，熏得业主不敢开窗。", 0),
    msg(2, "魅力之城小区一楼餐馆油烟太大", "A5区魅力之城小区临街餐馆油烟扰民，晚上还有噪音，请整治油烟。", 3),
    msg(3, "投诉A5区魅力之城小区餐饮油烟污染", "我是魅力之城业主，楼下门面烧烤油烟每天熏到家里，请求处理油烟。", 9),
]
FUMES_ELSEWHERE = [
    msg(11, "A市A2区丽发新城小区临街门面油烟扰民", "丽发新城小区楼下的餐馆油烟直排，熏得业主不敢开窗。", 1),
    msg(12, "丽发新城小区一楼餐馆油烟太大", "A2区丽发新城小区临街餐馆油烟扰民，请整治油烟。", 4),
]
PARKING = [
    msg(21, "A5区魅力之城小区开发商捆绑销售车位", "魅力之城开发商要求买房必须买车位，车位价格高，捆绑销售违法。", 2),
    msg(22, "魅力之城小区车位捆绑销售", "A5区魅力之城购房被要求捆绑购买车位，开发商强制捆绑销售车位。", 6),
]
SINGLES = [
    msg(31, "A7县星沙镇自来水浑浊", "最近自来水发黄浑浊，无法饮用。", 5),
    msg(32, "A市公交车空调不开", "夏天公交车不开空调，乘客很热。", 7),
]


# --- places ---------------------------------------------------------------------------------

@pytest.mark.parametrize("title, display, kind", [
    ("A市A5区魅力之城小区临街门面油烟扰民", "A市A5区魅力之城小区", "estate"),
    ("A2区丽发新城小区附近搅拌站噪音扰民", "A市A2区丽发新城小区", "estate"),
    ("A市经济学院寒假组织学生去工厂实习", "A市经济学院", "school"),
    ("A市十五中一学生因成绩录入错误无缘普高", "A市十五中", "school"),
    ("K市黄盖路路口的红绿灯一连三天不亮", "K市黄盖路", "road"),
    ("D6县檀桥村河边堆满了建筑垃圾", "D市D6县檀桥村", "village"),
])
def test_extract_places_finds_the_specific_place_with_its_district(title, display, kind):
    first = extract_places(title, "")[0]
    assert (first.display, first.kind) == (display, kind)


def test_place_key_drops_district_and_xiaoqu_so_variants_match():
    a = extract_places("A市A5区魅力之城小区油烟扰民", "")[0]
    b = extract_places("我是魅力之城小区的业主", "")[0]
    assert a.key == b.key == "魅力之城"


@pytest.mark.parametrize("title", [
    "小区物业乱收费", "我们县城的农村道路太差", "共享单车停得满街都是没人管", "A市931路公交车暖气都不开",
    "物业公司不作为", "离幼儿园16公里太远",
])
def test_extract_places_finds_nothing_in_generic_words(title):
    assert [p.display for p in extract_places(title, "") if p.specific] == []


# --- grouping -------------------------------------------------------------------------------

def _groups(issues):
    return sorted(sorted(issue.ids) for issue in issues)


def test_same_problem_at_two_places_is_two_issues():
    issues = find_hot_issues([*FUMES, *FUMES_ELSEWHERE, *SINGLES])
    assert _groups(issues) == [["1", "2", "3"], ["11", "12"]]
    assert {issue.place for issue in issues} == {"A市A5区魅力之城小区", "A市A2区丽发新城小区"}


def test_two_problems_at_one_place_are_two_issues():
    issues = find_hot_issues([*FUMES, *PARKING, *SINGLES])
    assert _groups(issues) == [["1", "2", "3"], ["21", "22"]]


def test_reposts_without_a_place_are_one_issue_and_single_messages_none():
    text = "共享单车乱停乱放，占用人行道和盲道，行人无法通行，希望管理部门尽快清理共享单车。"
    reposts = [msg(41, "共享单车乱停放占用人行道", text, 0), msg(42, "共享单车乱停放占用人行道！", text, 2)]
    issues = find_hot_issues([*reposts, *SINGLES])
    assert _groups(issues) == [["41", "42"]]
    assert issues[0].reports == 1   # the same words twice are one report, not two
    assert find_hot_issues(SINGLES) == []


def test_members_further_apart_than_the_window_are_not_grouped():
    far = [FUMES[0], msg(2, FUMES[1].title, FUMES[1].text, 200)]
    assert find_hot_issues(far, window_days=60) == []
    assert _groups(find_hot_issues(far, window_days=365)) == [["1", "2"]]


def test_issue_has_title_times_and_ids_in_time_order():
    issue = find_hot_issues([*FUMES, *SINGLES])[0]
    assert issue.title.startswith("A市A5区魅力之城小区") and "油烟" in issue.title
    assert (issue.first_at, issue.last_at, issue.ids) == (FUMES[0].created_at, FUMES[2].created_at, ("1", "2", "3"))


# --- heat -------------------------------------------------------------------------------------

def test_heat_grows_with_reporters_supports_and_recency():
    now = T0 + dt.timedelta(days=10)
    two = [msg(1, "a", days=9), msg(2, "b", days=9)]
    assert heat(two, reports=2, now=now) < heat([*two, msg(3, "c", days=9)], reports=3, now=now)
    assert heat(two, reports=2, now=now) < heat([msg(1, "a", days=9, supports=50), two[1]], reports=2, now=now)
    old = [msg(1, "a", days=-300), msg(2, "b", days=-300)]
    assert heat(old, reports=2, now=now) < heat(two, reports=2, now=now)


def test_hotter_issue_ranks_first():
    issues = find_hot_issues([*FUMES, *FUMES_ELSEWHERE])
    assert [len(issue.ids) for issue in issues] == [3, 2]
    assert issues[0].heat > issues[1].heat


# --- intake and staff helpers -----------------------------------------------------------------

def test_attach_puts_a_new_message_on_its_issue_and_leaves_others_alone():
    issues = find_hot_issues([*FUMES, *PARKING, *FUMES_ELSEWHERE])
    new = msg(50, "魅力之城小区楼下烧烤油烟熏人", "A5区魅力之城小区门面油烟直排，熏得不敢开窗。", 12)
    attached = attach(new, issues)
    assert issues[attached.index].place == "A市A5区魅力之城小区" and "1" in issues[attached.index].ids
    assert attached.issue.ids == ("1", "2", "3", "50")
    assert attach(msg(51, "A市公交车空调不开", "夏天公交车不开空调。", 12), issues) is None


def test_similar_lists_the_same_problem_at_the_same_place_first():
    candidates = [*FUMES[1:], *FUMES_ELSEWHERE, *PARKING, *SINGLES]
    found = similar(FUMES[0], candidates, k=3)
    ids = [m.id for m, _ in found]
    assert ids[0] == "2" and "3" in ids and not {"31", "32"} & set(ids)
    assert similar(FUMES[0], [FUMES[0]], k=3) == []


# --- reading files ----------------------------------------------------------------------------

def _write(tmp_path, text, encoding="utf-8", name="m.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_read_csv_reads_gbk_and_names_missing_columns(tmp_path):
    path = _write(tmp_path, "id,title,text,created_at\n1,魅力之城油烟,正文,2019/11/14 11:21:31\n", "gbk")
    assert read_csv(path, required=["id", "title", "text", "created_at"])[0]["title"] == "魅力之城油烟"
    with pytest.raises(InvalidInput, match="created_at"):
        read_csv(_write(tmp_path, "id,title,text\n1,a,b\n"), required=["id", "title", "text", "created_at"])


def test_read_csv_refuses_empty_and_undecodable_files(tmp_path):
    for content in (b"", b"id,title,text,created_at\n"):
        (tmp_path / "e.csv").write_bytes(content)
        with pytest.raises(InvalidInput) as error:
            read_csv(tmp_path / "e.csv", required=["id"])
        assert error.value.code == "empty"
    (tmp_path / "bad.csv").write_bytes(b"id,title\n1,\xff\xfe\xfd\xff\n")
    with pytest.raises(InvalidInput) as error:
        read_csv(tmp_path / "bad.csv", required=["id"])
    assert error.value.code == "encoding"


def test_dates_in_several_formats_are_read_and_a_bad_one_names_its_row():
    values = ["2019/11/14 11:21:31", "2019-11-14 11:21:31", "2019-11-14", "2019/1/8 9:05", "2019年11月14日",
              "14/11/2019", "43783.5", "2019-11-14T03:21:31Z"]
    got = parse_datetimes(values)
    assert got[0] == got[1] == dt.datetime(2019, 11, 14, 11, 21, 31, tzinfo=SHANGHAI)
    assert got[2] == got[4] == got[5] == dt.datetime(2019, 11, 14, tzinfo=SHANGHAI)
    assert got[3] == dt.datetime(2019, 1, 8, 9, 5, tzinfo=SHANGHAI)
    assert got[6] == dt.datetime(2019, 11, 14, 12, 0, tzinfo=SHANGHAI)
    assert got[7] == got[0]
    with pytest.raises(InvalidInput, match="Row 3"):
        parse_datetimes(["2019/11/14", "last tuesday"])
    with pytest.raises(InvalidInput) as error:
        parse_datetimes(["14/11/2019", "11/14/2019"])
    assert error.value.code == "mixed_dates"


# --- the command ------------------------------------------------------------------------------

def _csv(tmp_path, messages, *, encoding="utf-8", dates=None, supports=None):
    lines = ["id,title,text,created_at,supports"]
    for i, m in enumerate(messages):
        when = dates[i] if dates else m.created_at.strftime("%Y/%m/%d %H:%M:%S")
        sup = supports[i] if supports else str(m.supports)
        lines.append(f'{m.id},"{m.title}","{m.text}",{when},{sup}')
    return _write(tmp_path, "\n".join(lines) + "\n", encoding)


def test_command_writes_the_top_issues_in_rank_order(tmp_path):
    out = tmp_path / "hot.json"
    path = _csv(tmp_path, [*FUMES, *FUMES_ELSEWHERE, *PARKING, *SINGLES], encoding="gb18030")
    call_command("hotspots", csv=str(path), top="2", out=str(out))
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["rank"] for r in records] == [1, 2]
    assert set(records[0]) == {"rank", "title", "place", "first_at", "last_at", "heat", "ids"}
    assert records[0]["ids"] == [1, 2, 3] and records[0]["place"] == "A市A5区魅力之城小区"
    assert records[0]["first_at"] == "2019-11-01T09:00:00+08:00"
    assert records[0]["heat"] >= records[1]["heat"]


def test_command_reads_mixed_date_formats(tmp_path):
    out = tmp_path / "hot.json"
    dates = ["2019/11/01 09:00:00", "2019-11-04 09:00", "2019年11月10日"]
    call_command("hotspots", csv=str(_csv(tmp_path, FUMES, dates=dates)), top="5", out=str(out))
    assert json.loads(out.read_text(encoding="utf-8"))[0]["last_at"] == "2019-11-10T00:00:00+08:00"


@pytest.mark.parametrize("dates, supports, text", [
    (["2019/11/01", "someday", "2019/11/02"], None, "Row 3"),
    (None, ["1", "many", "2"], "Row 3"),
])
def test_command_refuses_bad_rows_and_writes_nothing(tmp_path, dates, supports, text):
    out = tmp_path / "hot.json"
    with pytest.raises(CommandError, match=text):
        call_command("hotspots", csv=str(_csv(tmp_path, FUMES, dates=dates, supports=supports)), top="5",
                     out=str(out))
    assert not out.exists()


def test_command_names_a_missing_column_and_refuses_a_bad_top(tmp_path):
    out = tmp_path / "hot.json"
    path = _write(tmp_path, "id,title,created_at\n1,a,2019/11/01\n")
    with pytest.raises(CommandError, match="text"):
        call_command("hotspots", csv=str(path), top="5", out=str(out))
    with pytest.raises(CommandError, match="--top"):
        call_command("hotspots", csv=str(_csv(tmp_path, FUMES)), top="zero", out=str(out))
    assert not out.exists()


def test_command_on_the_real_messages_gives_sane_issues(tmp_path):
    if not REAL.exists():
        pytest.skip(f"real data absent: {REAL}")
    out = tmp_path / "hot.json"
    call_command("hotspots", csv=str(REAL), top="10", out=str(out))
    records = json.loads(out.read_text(encoding="utf-8"))
    assert 1 <= len(records) <= 10
    for record in records:
        assert len(set(record["ids"])) >= 2 and record["place"] and record["title"]
        assert record["first_at"] <= record["last_at"]
    assert [r["heat"] for r in records] == sorted((r["heat"] for r in records), reverse=True)


@pytest.mark.parametrize("phrase,title", [
    ("路灯坏了", "路灯坏了"),
    ("3栋门口的路灯坏了，晚上一片漆黑，老人走路容易摔倒", "3栋门口的路灯坏了，晚上一片漆黑"),
    ("楼下广场舞音响声音太大，晚上吵得睡不着（第1次反映）", "楼下广场舞音响声音太大，晚上吵得睡不着"),
    ("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十", "一二三四五六七八九十一二三四五六七八九十一二三…"),
])
def test_titles_are_cut_after_a_whole_clause(phrase, title):
    from linli.insight.clustering import _shorten

    assert _shorten(phrase) == title


# --- issue 8, C2: places from the registry first, no fragments, titles that state the problem --

def test_registry_names_come_first_and_sentence_fragments_are_no_places():
    from linli.insight.places import Registry

    registry = Registry.of(estates=["荷塘月色", "沙河·翠竹苑"], roads=["驷马桥街道"])
    # Without the registry, a request or a time glued to a name is no part of it.
    assert [p.name for p in extract_places("", "麻烦社区帮忙看一下，楼道灯坏了")] == []
    assert all(not p.name.startswith("十点") for p in extract_places("", "昨晚十点多荷塘月色苑楼下很吵"))
    # With it, the registry's own name is the place, even written without its prefix.
    got = extract_places("", "昨晚十点多荷塘月色楼下很吵，麻烦社区管一管", registry=registry)
    assert [p.name for p in got] == ["荷塘月色"]
    assert [p.name for p in extract_places("", "翠竹苑2栋门口垃圾堆了三天", registry=registry)] == ["沙河·翠竹苑"]


def test_a_title_states_the_problem_not_the_caller_or_a_courtesy():
    from linli.insight.clustering import title_of

    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    calls = [Message(id="1", title="", text="李阿姨来电称，楼道的灯坏了一个星期，晚上上楼看不见", created_at=when),
             Message(id="2", title="", text="麻烦社区帮忙看一下，楼道的灯坏了一个星期没人修", created_at=when)]
    title = title_of(calls)
    assert "来电" not in title and "麻烦" not in title and "楼道的灯坏了" in title


def test_a_message_naming_no_place_is_about_its_courtyard():
    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    text = "楼下的垃圾桶满了好几天没人清运，臭味很大，苍蝇很多"
    east = [Message(id=f"e{i}", title="", text=text + "。" * i, created_at=when, place="东院") for i in range(3)]
    west = [Message(id=f"w{i}", title="", text=text.replace("好几天", "三天") + "。" * i, created_at=when,
                    place="西院") for i in range(3)]
    issues = find_hot_issues([*east, *west])
    assert sorted(sorted(i.ids) for i in issues) == [["e0", "e1", "e2"], ["w0", "w1", "w2"]]
    assert {i.place for i in issues} == {"东院", "西院"}


# --- issue 8, B h: a distinctive name shared by titles links messages worded differently --------

def _filler(i: int) -> list[Message]:
    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    topics = ["公交站台没有遮雨棚", "路边井盖松动", "公园厕所太脏", "菜市场门口占道经营", "学校门口接送拥堵",
              "夜市烧烤到凌晨", "河道漂浮垃圾", "小区健身器材坏了", "快递柜收费太高", "楼顶违建"]
    return [Message(id=f"f{i}-{k}", title=t, text=f"{t}，已经很久了，请尽快处理。", created_at=when)
            for k, t in enumerate(topics)]


def test_titles_sharing_a_rare_name_are_one_issue_but_not_across_places():
    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    app = [Message(id="a1", title="欧瑞米单车押金一直不退", text="注册后交了押金，申请退款一个月了还没到账。",
                   created_at=when),
           Message(id="a2", title="欧瑞米单车客服电话打不通", text="想找他们的客服，电话从来没人接，押金也退不回来。",
                   created_at=when + dt.timedelta(days=3))]
    groups = sorted(sorted(i.ids) for i in find_hot_issues([*app, *_filler(0), *_filler(1)]))
    assert ["a1", "a2"] in groups
    # The same name at two named estates does not override the places: two issues, or none.
    placed = [Message(id="p1", title="魅力之城小区欧瑞米单车乱停", text="魅力之城小区门口的欧瑞米单车堆成一片，挡住了人行道。", created_at=when),
              Message(id="p2", title="丽发新城小区欧瑞米单车乱停", text="丽发新城小区楼下的欧瑞米单车被扔进绿化带里。", created_at=when)]
    assert not any({"p1", "p2"} <= set(i.ids) for i in find_hot_issues([*placed, *_filler(0), *_filler(1)]))


def _bench():
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "hotspot_bench.py"
    spec = importlib.util.spec_from_file_location("hotspot_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_labels_hold_ids_only_and_score_every_member_of_a_cluster():
    bench = _bench()
    labels = bench.read_labels()
    assert len(set(labels.values())) >= 6
    assert all(i.isdigit() and issue.isascii() for i, issue in labels.items())   # never the data's text
    found = [{"ids": [1, 2, 3]}, {"ids": [5, 9]}, {"ids": [6, 7]}]
    rows = {r["issue"]: r for r in bench.labelled_scores(found, {"1": "a", "2": "a", "5": "b", "6": "b", "8": "c"})}
    assert rows["a"]["precision"] == pytest.approx(2 / 3) and rows["a"]["recall"] == 1.0 and rows["a"]["found"]
    assert rows["b"]["fragments"] == 2 and rows["b"]["recall"] == 0.5 and rows["b"]["precision"] == 0.5
    assert rows["c"]["rank"] is None and not rows["c"]["found"]


def test_the_same_words_at_two_registered_courtyards_are_two_issues():
    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    text = "【市民热线】门口的大树枝伸到了窗户边上，刮风的时候拍得窗户砰砰响。"
    east = [Message(id=f"e{i}", title="", text=text, created_at=when, place="东院") for i in range(2)]
    west = [Message(id=f"w{i}", title="", text=text, created_at=when, place="西院") for i in range(2)]
    issues = find_hot_issues([*east, *west])
    assert sorted(sorted(i.ids) for i in issues) == [["e0", "e1"], ["w0", "w1"]]
    assert all("市民热线" not in i.title and "大树枝" in i.title for i in issues)   # the problem, not the channel


@pytest.mark.parametrize("opening", ["打扰一下，", "反映个问题：", "【市民热线】", "网格巡查：", "王大爷来电称，", "麻烦社区帮忙看一下，"])
def test_a_title_drops_openings_that_are_no_problem(opening):
    from linli.insight.clustering import title_of

    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    calls = [Message(id=str(i), title="", text=opening + "西门旁的绿地被车压坏了一大片，泥水流到路上", created_at=when)
             for i in range(2)]
    assert title_of(calls).startswith("西门旁的绿地被车压坏了")


# --- issue 8, B h: place variants, shared names across generic places, generic places ------------

def test_place_name_variants_have_one_key():
    from linli.insight.places import normalize_key

    key = normalize_key("枫林绿洲小区")
    for variant in ("枫林绿洲花园", "枫林绿洲二期", "枫林绿洲小区3期", "枫林 绿洲", "枫林绿洲Ｃ区", "枫林·绿洲"):
        assert normalize_key(variant) == key, variant
    assert normalize_key("Ａ４区") == "A4区"
    assert normalize_key("滨江花园") != normalize_key("滨江小区")   # a two-character stem stays whole


def test_messages_naming_an_estate_in_two_variants_are_one_issue():
    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    leak = [Message(id="v1", title="枫林绿洲二期地下车库漏水", text="下雨天车库顶上一直滴水，车上全是泥点。",
                    created_at=when),
            Message(id="v2", title="枫林绿洲花园车库顶板渗水严重", text="地库好几处往下渗水，地面积水没人清理。",
                    created_at=when + dt.timedelta(days=4))]
    groups = [set(i.ids) for i in find_hot_issues([*leak, *_filler(0), *_filler(1)])]
    assert {"v1", "v2"} in groups


def _generic_fillers(place: str, prefix: str) -> list[Message]:
    """Unrelated complaints that all name one busy place: it tells nothing about the problem."""
    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    topics = ["路灯晚上不亮", "共享单车挡住盲道", "垃圾桶满了没人收", "流浪狗追着小孩", "下水道堵了发臭",
              "商铺音响声音太大", "停车场收费不公示", "台阶破损老人摔倒"]
    return [Message(id=f"{prefix}{k}", title=f"{place}{t}", text=f"{place}这边{t}，麻烦有关部门来看一下。",
                    created_at=when + dt.timedelta(days=k)) for k, t in enumerate(topics)]


def test_a_shared_company_name_links_messages_across_generic_places():
    when = dt.datetime(2025, 3, 10, 9, tzinfo=SHANGHAI)
    parcels = [Message(id="d1", title="星河广场鼎泰捷运代收点取件另收两元", text="网上买的东西包邮，去拿的时候被要求再交钱。",
                       created_at=when),
               Message(id="d2", title="东门市场鼎泰捷运取包裹乱收费", text="每拿一个包裹都要给钱，不给就不让拿走。",
                       created_at=when + dt.timedelta(days=5))]
    batch = [*parcels, *_generic_fillers("星河广场", "s"), *_generic_fillers("东门市场", "m"), *_filler(0)]
    groups = [set(i.ids) for i in find_hot_issues(batch)]
    assert {"d1", "d2"} in groups


def test_a_generic_place_alone_does_not_make_unrelated_problems_one_issue():
    batch = [*_generic_fillers("星河广场", "s"), *_filler(0), *_filler(1)]
    for issue in find_hot_issues(batch):
        assert not any(i.startswith("s") for i in issue.ids), issue.ids


def test_a_registered_courtyard_is_never_generic():
    from linli.insight.clustering import _GENERIC_MARK, _vectors, analyse, canonical_keys, mark_generic

    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    topics = ["路灯晚上不亮", "共享单车挡住盲道", "垃圾桶满了没人收", "流浪狗追着小孩", "下水道堵了发臭",
              "商铺音响声音太大", "停车场收费不公示", "台阶破损老人摔倒"]
    cases = [Message(id=str(k), title="", text=t, created_at=when, place="东院") for k, t in enumerate(topics)]
    analysed = [analyse(m) for m in cases]
    keys = mark_generic(analysed, _vectors(analysed), canonical_keys(analysed))
    assert not any(k.startswith(_GENERIC_MARK) for k in keys)


def test_the_bench_prefers_the_cluster_meeting_the_goal_and_splits_issues_in_halves():
    bench = _bench()
    # Issue "a": a big loose cluster holds more of it, a tight one meets the goal: the tight one counts.
    found = [{"ids": [1, 2, 3, 20, 21, 22, 23, 24]}, {"ids": [1, 2]}]
    rows = {r["issue"]: r for r in bench.labelled_scores(found, {"1": "a", "2": "a", "3": "a"})}
    assert rows["a"]["rank"] == 2 and rows["a"]["found"] and rows["a"]["precision"] == 1.0
    assert rows["a"]["fragments"] == 2
    names = ["c", "a", "b", "d"]
    assert [bench.half_of(n, names) for n in sorted(names)] == ["A", "B", "A", "B"]


def test_an_issue_is_placed_under_the_clean_name_not_a_fragment_glued_to_it():
    from dataclasses import replace

    from linli.insight.clustering import analyse, canonical_keys, issue_place
    from linli.insight.places import ROAD, Place

    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    glued = Place(key="修松柏路", name="修松柏路", kind=ROAD, city="A市", district="A5区")
    clean = Place(key="松柏路", name="松柏路", kind=ROAD)
    group = [replace(analyse(Message(id=str(k), title="", text="施工挖断了路", created_at=when)), places=(place,))
             for k, place in enumerate((glued, clean))]
    assert issue_place(group, canonical_keys(group)) == ("A市A5区松柏路", "松柏路")


# --- second pass: clusters that name one entity (issue 8, B h) --------------------------------

def _gym(prefix: str = "", city_b: str = "") -> list[Message]:
    """Two pairs of messages about one prepaid-card platform, each pair worded its own way."""
    when = dt.datetime(2025, 5, 1, 9, tzinfo=SHANGHAI)

    def m(ident, title, text, days):
        return Message(id=ident, title=title, text=text, created_at=when + dt.timedelta(days=days))

    return [
        m("a1", f"{prefix}充了会员卡的健身房突然关门", "我在蓝鲸优练平台办的年卡，健身房上周贴了停业通知，预付的钱退不回来。", 0),
        m("a2", f"{prefix}健身房突然关门会员卡作废", "蓝鲸优练平台卖的年卡，健身房停业后预付款没人退，客服也联系不上。", 2),
        m("b1", f"{city_b}预付费用要不回来怎么办", "去年在蓝鲸优练平台交了私教课的钱，现在门店人去楼空，要求退还预付款。", 9),
        m("b2", f"{city_b}私教课费用要不回来", "蓝鲸优练平台的私教课交了钱没上完，门店已经人去楼空，希望帮忙追回预付款。", 11),
    ]


def test_clusters_naming_one_distinctive_entity_are_merged_into_one_issue():
    assert sorted(_groups(find_hot_issues(_gym(), entity_merge=False))) == [["a1", "a2"], ["b1", "b2"]]
    assert _groups(find_hot_issues(_gym())) == [["a1", "a2", "b1", "b2"]]


def test_clusters_sharing_an_entity_in_different_cities_stay_apart():
    assert sorted(_groups(find_hot_issues(_gym(prefix="A市", city_b="B市")))) == [["a1", "a2"], ["b1", "b2"]]


def test_clusters_sharing_an_entity_at_conflicting_estates_stay_apart():
    batch = _gym(prefix="A5区枫香雅苑", city_b="A5区松涛公寓")
    assert sorted(_groups(find_hot_issues(batch))) == [["a1", "a2"], ["b1", "b2"]]


def test_single_messages_sharing_an_entity_are_not_joined_by_the_second_pass():
    a1, _a2, b1, _b2 = _gym()
    assert find_hot_issues([a1, b1, *SINGLES]) == []


def test_a_word_that_unrelated_messages_all_name_is_no_distinctive_entity():
    from linli.insight.clustering import _vectors, analyse, distinctive_entities

    when = dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    topics = ["路灯晚上不亮", "共享单车挡住盲道", "垃圾桶满了没人收", "流浪狗追着小孩", "下水道堵了发臭",
              "商铺音响声音太大", "停车场收费不公示", "台阶破损老人摔倒"]
    # Eight unrelated complaints all sent through one app: its name says nothing about the problem.
    batch = [Message(id=str(k), title=t, text=f"通过青柠办APP反映：{t}。", created_at=when) for k, t in enumerate(topics)]
    analysed = [analyse(m) for m in [*batch, *_gym()]]
    weights = distinctive_entities(analysed, _vectors(analysed))
    assert not any("青柠" in entity for entity in weights)
    assert any("优练" in entity for entity in weights)


def test_equal_heat_ranks_the_bigger_issue_first_then_the_later():
    from linli.insight.clustering import HotIssue, rank_key

    def issue(ids, last_day):
        last = T0 + dt.timedelta(days=last_day)
        return HotIssue(title="", place="", place_key="", first_at=T0, last_at=last, ids=ids, heat=2.0,
                        reports=2, supports=0)

    pair_late, three_early, pair_early = issue(("1", "2"), 9), issue(("3", "4", "5"), 1), issue(("6", "7"), 2)
    ranked = sorted([pair_early, pair_late, three_early], key=rank_key)
    assert ranked == [three_early, pair_late, pair_early]
