"""The demo's year of 三务公开: the books behind it and the board on its signed log.

:func:`seed_disclosure` replays, for the demo community, the twelve complete months before the
current one (the last year of the case history) as the office lived them, one step at a time
and each at its own day and hour, through the services of linli.books, linli.disclosure and
linli.transparency:

- the books (:mod:`linli.demo.books`): each month's vouchers posted the day after it ends and
  the month closed a few days later; the budgets at each year's start;
- the board: every entry written by the office worker, submitted, and approved by the section's
  approver (the party secretary for party affairs, the community admin for residential and
  financial affairs) at their weekly sitting on Friday afternoon, where everything waiting is
  approved together (:func:`linli.disclosure.services.publish_many`: the leaves appended in
  one call, one signed checkpoint per sitting); an entry needed soon after (a month's
  statement, the list that is withdrawn, the correction) is approved two hours after it is
  submitted, with whatever else waits for that approver.
  Party affairs: the 12 branches' monthly meeting records and quarterly party lectures
  (三会一课), the committee's monthly activities, quarterly dues totals, member development
  stages. Residential affairs: the council's monthly decisions, notices, allowance lists with
  masked names (:func:`linli.core.masking.mask_name`: the minimum living allowance monthly, the
  high-age and the disability allowances quarterly), the yearly service commitments and the
  monthly three rates (the board's generator, from the case history). Financial affairs: the
  monthly statements and the quarterly budget against actual (the board's generators, from the
  demo ledger), the yearly budget, public revenue, the fund's allocations and donations;
- one correction: a repair booked as office expenses is found after its month's statement was
  published; the month is reopened, the voucher reversed and entered again, and a corrected
  statement supersedes the first;
- one withdrawal: an allowance list published with the households' door numbers, withdrawn by
  the admin the next day (the tombstone keeps the reason) and published again without them;
- at the end, work for the office: entries awaiting approval, one held for a phone number,
  one quarter's party dues not published (an overdue duty), and one voucher waiting;
- attachments, through the board's own checks and services (files from :mod:`linli.demo.files`,
  ASCII figures, drawn pictures): each month's statement (and the corrected one) a PDF of it,
  each allowance list a PDF of its rows without names, each quarter's party dues a chart, about
  one branch meeting in five a photo of the meeting room;
- the street office's witness, named as residents know it (:func:`witness_name`: the street's
  name + 街道办事处): a witness key in the data dir, registered as the log's witness, and its
  cosignature of the latest checkpoint through the cosignature service.

The services take the time from ``django.utils.timezone.now``; while a step runs, the replay
clock (:func:`replay_clock`) answers with the step's time, so that the entries, checkpoints,
vouchers and events carry the dates they would have had. Nothing else is faked: every row is
written by the service that writes it in use, with its checks and its events.

The signing key: the installation's (``LINLI_DISCLOSURE_KEY_FILE``) when there is one, else
one is generated with :func:`linli.transparency.keys.keygen` in the data dir (the summary
says so). Texts are written for the demo, in Chinese; amounts and names are drawn from the
demo seed.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.community.models import Community, Organisation, Resident
from linli.core import signednote
from linli.core.masking import mask_name
from linli.disclosure import attachments, services as board
from linli.disclosure.models import Duty, Entry
from linli.transparency import cosign, keys, selectors as log_selectors
from linli.transparency import witness as street_witness

from . import files as demo_files
from .books import (
    DONATIONS, FUND_PROJECTS, SHARED, DemoBooks, month_end, staff,
)

E = Entry.State
WITNESS_KEY_NAME = "street-witness.key"
CN_DIGITS = "〇一二三四"


# ----------------------------------------------------------------------------------------------
# The replay clock


@contextmanager
def replay_clock():
    """While active, ``django.utils.timezone.now()`` answers ``clock.at`` (when set): the demo's
    steps run at the times they would have run. Restored on leaving, whatever happens."""
    original = timezone.now

    class Clock:
        at: dt.datetime | None = None

    clock = Clock()

    def now():
        return clock.at if clock.at is not None else original()

    timezone.now = now
    try:
        yield clock
    finally:
        timezone.now = original


def _at(day: dt.date, hour: int, minute: int = 0, *, workday: bool = True) -> dt.datetime:
    while workday and day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _quarter(month: int) -> int:
    return (month - 1) // 3 + 1


def _quarter_bounds(year: int, q: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 3 * q - 2, 1), month_end(year, 3 * q)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _width(text: str) -> int:
    """Columns on a fixed-width board: two for a Chinese character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _yuan_text(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


# ----------------------------------------------------------------------------------------------
# What the summary says


@dataclass
class BoardResult:
    books: DemoBooks
    sections: Counter = field(default_factory=Counter)   # published (and withdrawn) entries
    waiting: Counter = field(default_factory=Counter)    # state → entries the office still has
    correction: Entry | None = None
    withdrawn: Entry | None = None
    overdue: int = 0
    log_size: int = 0
    checkpoints: int = 0
    witness: str = ""
    attachments: int = 0   # files attached to board entries (a withdrawal deletes its entry's)
    key_generated: Path | None = None
    key_fingerprint: str = ""
    seconds: float = 0.0

    @property
    def entries(self) -> int:
        return sum(self.sections.values())


# ----------------------------------------------------------------------------------------------
# Texts


MEETING_PLACES = ("社区党群服务中心二楼会议室", "网格党群服务站", "社区新时代文明实践站", "院落议事亭")
MEETING_TOPICS = (
    "集中学习党章有关条款，交流学习体会",
    "通报本网格上月居民诉求办理情况，逐件对照回访结果",
    "讨论院落环境整治的分工和时间安排",
    "组织党员认领楼栋服务岗，明确联系户",
    "交流在职党员回社区报到服务情况",
    "研究困难党员和老党员走访慰问安排",
    "开展批评与自我批评，查找服务群众方面的不足",
    "布置下月志愿服务和文明劝导值守",
    "讨论垃圾分类督导值守排班",
    "学习安全用电和防汛防火知识",
    "通报本季度党费收缴情况",
    "听取入党积极分子思想汇报",
    "讨论院落停车秩序整治的意见建议",
    "总结上月主题党日活动，评议党员参与情况",
)
MEETING_DECISIONS = (
    "每名党员本月至少参加一次院落志愿服务",
    "由支部组织委员牵头整理居民意见，报社区党委",
    "对独居老人实行党员结对联系，每周至少问候一次",
    "下月主题党日结合院落清洁行动开展",
    "对行动不便的老党员送学上门",
    "协助物业排查楼道堆物，限期清理",
    "推荐两名群众代表列席下次支部会议",
    "将议定事项在院落公示栏同步张贴",
)
LECTURE_TOPICS = (
    "在为民服务中践行初心使命", "新时代社区治理中的党员责任", "从身边小事做起，当好楼栋“红管家”",
    "学习身边榜样，传承优良作风", "廉洁自律与作风建设", "弘扬志愿服务精神，共建幸福家园",
    "依法有序参与社区协商", "守护“一老一小”，党员在行动",
)
LECTURERS = ("支部书记", "社区党委书记", "社区党委委员", "老党员代表", "街道党工委联系领导")
PARTY_ACTIVITIES = {
    1: "新春走访慰问老党员和困难党员", 2: "“我为群众办实事”新春志愿服务", 3: "学雷锋志愿服务月启动",
    4: "清明节缅怀革命先烈主题活动", 5: "“五四”青年党员座谈会", 6: "迎“七一”党员先锋岗评选",
    7: "庆祝建党纪念日主题党日", 8: "在职党员回社区报到集中服务日", 9: "党员志愿者助力开学季",
    10: "重阳敬老党员志愿服务", 11: "冬季消防安全党员巡查", 12: "年度党员民主评议准备会",
}
COUNCIL_TOPICS = (
    ("院落公共区域增设电动自行车集中充电点", "在两个院落试点，费用由公共收益列支，物业负责日常管理"),
    ("调整公共车位夜间停放时段", "试行三个月后再议"),
    ("院落绿化补植及认养方案", "由居民志愿者认养，社区提供苗木"),
    ("老旧楼道照明改造的先后顺序", "按居民报修数量和老人户比例排序"),
    ("社区活动室开放时间延长至晚上九点", "由志愿者轮值看管"),
    ("长者助餐点菜价调整", "维持现价，差额由助餐补贴承担"),
    ("院落快递柜选址", "设于两个院落之间的公共空地，避开消防通道"),
    ("暑期四点半课堂招募志愿者", "面向辖区大学生和退休教师招募"),
    ("公共收益使用计划", "优先用于楼道维修和适老化改造"),
    ("院落宠物文明饲养公约", "修订后在各院落张贴，由楼栋长宣传"),
    ("垃圾分类投放点调整", "减少一个投放点，延长督导时段"),
    ("居民公约修订", "征求意见十五天后提交居民会议表决"),
)
NOTICES = {
    1: ("春节期间社区值班安排", "春节假期社区服务中心安排人员值班，急事可到服务中心或通过平台留言，网格员将及时回复。"),
    2: ("春季流感防护提示", "近期气温变化大，请居民注意通风保暖，老人和儿童尽量少去人员密集场所。社区卫生服务站可提供健康咨询。"),
    3: ("城乡居民医保缴费提醒", "本年度城乡居民医疗保险缴费已开始，请尚未缴费的居民按时办理，行动不便的老人可请网格员协助。"),
    4: ("院落二次供水水箱清洗停水通知", "供水单位将分院落清洗二次供水水箱，清洗期间暂停供水约六小时，请提前储水。具体时间以各院落张贴为准。"),
    5: ("防汛安全提示", "汛期将至，请居民检查阳台排水，不在低洼处停放车辆；社区已在各院落备好沙袋和雨具。"),
    6: ("电梯年度检验安排", "物业公司将配合检验机构对各院落电梯进行年度检验，检验期间电梯暂停使用约两小时。"),
    7: ("高温天气防暑提示", "近期持续高温，请老人减少午间外出，社区活动室开放为纳凉点，提供饮用水。"),
    8: ("燃气安全入户检查通知", "燃气公司将入户进行安全检查，工作人员佩戴工作证，不收取任何费用，请居民注意识别。"),
    9: ("国庆假期社区值班安排", "国庆假期社区服务中心安排人员值班，平台留言照常受理。"),
    10: ("秋冬季消防安全检查通知", "社区将联合物业对楼道堆物和电动自行车违规充电进行检查，请居民提前清理。"),
    11: ("冬季取暖用电安全提示", "请勿私拉电线，离家时关闭取暖设备电源；独居老人家中如需检查线路，可联系网格员预约。"),
    12: ("年度居民满意度测评通知", "社区将开展年度服务满意度测评，居民可通过平台或纸质问卷参与，意见将汇总后公开。"),
}
COMMITMENTS = (
    "社区服务中心工作日全天开放，午间不断档；",
    "居民诉求当日受理，一般事项五个工作日内答复；",
    "独居、高龄老人每月至少走访一次；",
    "低保、高龄津贴等事项一次告知、材料齐全当场受理；",
    "三务公开按月更新，财务收支每月十日前公布；",
    "网格员每周巡查所负责院落不少于三次；",
    "对居民评价为不满意的事项逐件回访、限期整改。",
)
DEVELOPMENT_STAGES = (
    ("入党积极分子确定", "经党员推荐、支部委员会研究，拟确定以下同志为入党积极分子"),
    ("发展对象确定", "经过一年以上培养考察，拟将以下同志列为发展对象"),
    ("拟接收预备党员", "经支部委员会审查、社区党委预审，拟接收以下同志为中共预备党员"),
    ("预备党员拟转正", "以下同志预备期满，经支部党员大会讨论，拟按期转为中共正式党员"),
)


class _Texts:
    """The demo's board texts, drawn from the seed."""

    def __init__(self, community: Community, rng: random.Random, books: DemoBooks):
        self.community, self.rng, self.books = community, rng, books
        self.branches = list(Organisation.objects.filter(community=community, kind=Organisation.Kind.PARTY_BRANCH)
                             .order_by("pk").values_list("name", flat=True))
        self.committee = (Organisation.objects.filter(community=community, kind=Organisation.Kind.PARTY_COMMITTEE)
                          .values_list("name", flat=True).first() or f"中共{community.name}委员会")
        year = timezone.localdate().year
        by_grid = dict(Resident.objects.filter(community=community, is_party_member=True, birth_year__gt=year - 80)
                       .order_by().values_list("grid__name").annotate(n=Count("pk")))
        retired = Resident.objects.filter(community=community, is_party_member=True, birth_year__lte=year - 80).count()
        # Branch i serves courtyard i; the last one, the retirees' branch, the members aged 80 and over.
        self.members = [max(by_grid.get(name.removesuffix("网格党支部"), 0), 3) for name in self.branches[:-1]]
        self.members.append(max(retired, 3))

    def _people(self, n: int, **filters) -> list[Resident]:
        ids = list(Resident.objects.filter(community=self.community, **filters).order_by("pk")
                   .values_list("pk", flat=True))
        chosen = sorted(self.rng.sample(ids, min(n, len(ids))))
        return list(Resident.objects.filter(pk__in=chosen).select_related("grid", "household__unit__building")
                    .order_by("pk"))

    # -- party ----------------------------------------------------------------------------------

    def meeting(self, b: int, day: dt.date) -> tuple[str, str]:
        rng, members = self.rng, self.members[b]
        absent = min(rng.randint(0, max(1, members // 8)), members - 1)
        topics = rng.sample(MEETING_TOPICS, rng.randint(2, 3))
        decisions = rng.sample(MEETING_DECISIONS, rng.randint(1, 2))
        title = f"{self.branches[b]}{day.year}年{day.month}月支部党员大会及主题党日记录"
        lines = [f"时间：{_cn_date(day)} {rng.choice(('上午9:30', '下午2:30', '下午3:00', '晚上7:30'))}",
                 f"地点：{rng.choice(MEETING_PLACES)}",
                 f"应到党员{members}名，实到{members - absent}名" + (f"，请假{absent}名（会后由支部组织补学）。" if absent else "。"),
                 "主持：支部书记　记录：支部组织委员", "", "议题："]
        lines += [f"{'一二三'[i]}、{t}。" for i, t in enumerate(topics)]
        lines += ["", "议定事项："] + [f"{i + 1}. {d}。" for i, d in enumerate(decisions)]
        return title, "\n".join(lines)

    def lecture(self, b: int, day: dt.date) -> tuple[str, str]:
        rng, members = self.rng, self.members[b]
        topic = rng.choice(LECTURE_TOPICS)
        title = f"{self.branches[b]}{day.year}年第{_quarter(day.month)}季度党课记录"
        body = "\n".join([
            f"时间：{_cn_date(day)}", f"主讲：{rng.choice(LECTURERS)}", f"题目：{topic}",
            f"参加党员{members - min(rng.randint(0, 2), members - 1)}名，入党积极分子和群众代表列席。", "",
            "内容摘要：结合本网格近期居民反映较多的问题，讲述党员在服务群众中的做法和体会；"
            "与会党员围绕如何把“小事”办实办好进行了交流。",
        ])
        return title, body

    def activity(self, year: int, month: int) -> tuple[str, str]:
        name = PARTY_ACTIVITIES[month]
        n = sum(self.members) // self.rng.randint(4, 7)
        return (f"{self.committee}{year}年{month}月主题活动：{name}",
                f"{year}年{month}月，社区党委组织开展“{name}”活动，各支部共{n}名党员参加。"
                f"活动由各网格党支部分片组织，党员按认领的楼栋服务岗开展服务，活动情况已在各院落公示栏同步公布。")

    def dues(self, year: int, q: int) -> tuple[str, str]:
        rng = self.rng
        width = max(_width(b) for b in self.branches)
        rows, total = [], 0
        for name, members in zip(self.branches, self.members):
            fen = sum(rng.choice((20, 50, 100, 200, 300, 500, 800, 1500, 3000)) for _m in range(members)) * 3
            total += fen
            rows.append(f"{name}{' ' * (width - _width(name))}  党员{members:>4}名  实交{_yuan_text(fen):>12}元")
        title = f"{self.committee}{year}年第{q}季度党费收缴情况公示"
        body = "\n".join([f"{year}年第{q}季度各支部党费收缴情况如下（单位：元）：", "", *rows, "",
                          f"合计：{sum(self.members)}名党员，实交{_yuan_text(total)}元，已全额上缴街道党工委。",
                          "党员对本人交纳情况有疑问的，可向所在支部组织委员查询。"])
        return title, body

    def development(self, stage: int, day: dt.date) -> tuple[str, str]:
        label, intro = DEVELOPMENT_STAGES[stage]
        people = self._people(self.rng.randint(2, 4), birth_year__gt=day.year - 45,
                              birth_year__lte=day.year - 20, is_party_member=False)
        rows = [f"{mask_name(p.name.reveal())}，{p.get_gender_display()}，{day.year - p.birth_year}岁，{p.grid.name}"
                for p in people]
        end = day + dt.timedelta(days=7)
        title = f"{self.committee}{label}公示（{_cn_date(day)}）"
        body = "\n".join([f"{intro}：", "", *rows, "",
                          f"公示期：{_cn_date(day)}至{_cn_date(end)}。公示期间，党员和群众可以来访、来信方式"
                          "向社区党委反映意见，反映问题应实事求是。"])
        return title, body

    # -- residential ----------------------------------------------------------------------------

    def council(self, year: int, month: int, extra: tuple[str, str] | None) -> tuple[str, str]:
        rng = self.rng
        topics = rng.sample(COUNCIL_TOPICS, 2)
        if extra:
            topics.insert(0, extra)
        seats = rng.randint(28, 36)
        day = dt.date(year, month, rng.randint(10, 20))
        lines = [f"{_cn_date(day)}，{self.community.name}居民议事会召开会议，应到代表{seats + 3}名，"
                 f"实到{seats}名，符合议事规则。会议议定事项如下：", ""]
        for i, (topic, how) in enumerate(topics):
            yes = seats - rng.randint(0, 4)
            no = rng.randint(0, seats - yes)
            lines.append(f"{'一二三'[i]}、{topic}。表决结果：同意{yes}票，反对{no}票，弃权{seats - yes - no}票，通过。{how}。")
        lines += ["", "以上事项自公示之日起执行，居民如有意见可在七日内向居委会反映。"]
        return f"{year}年{month}月居民议事会议定事项公示", "\n".join(lines)

    def notice(self, month: int) -> tuple[str, str]:
        title, body = NOTICES[month]
        title = title if title.endswith(("通知", "提示")) else f"关于{title}的通知"
        return title, f"各位居民：\n\n{body}\n\n特此通知。\n{self.community.name}居民委员会"

    def allowance(self, year: int, month: int, people: list[Resident], *, doors: bool = False) -> tuple[str, str]:
        rng = random.Random(f"{year}-{month}-{len(people)}")
        rows, total = [], 0
        for i, p in enumerate(people, 1):
            persons = 1 + p.pk % 3
            fen = (rng.randrange(320, 1_460) // 10 * 10) * 100
            total += fen
            where = p.grid.name
            if doors:
                unit = p.household.unit
                where += f" {unit.building.name}{unit.number}单元{p.household.room}"
            rows.append(f"{i:>2}. {mask_name(p.name.reveal())}  {where}  保障人数{persons}人  月保障金{_yuan_text(fen)}元")
        title = f"{year}年{month}月城乡居民最低生活保障对象公示"
        body = "\n".join([f"经入户调查、民主评议和街道审核，{year}年{month}月享受最低生活保障的家庭如下：", "",
                          *rows, "", f"共{len(people)}户，月保障金合计{_yuan_text(total)}元。",
                          "公示期七天。对公示对象有异议的，可向社区居委会或街道社会事务科反映。"])
        return title, body

    def elders(self, year: int, q: int, people: list[Resident]) -> tuple[str, str]:
        rows = [f"{mask_name(p.name.reveal())}  {p.grid.name}  {year - p.birth_year}岁" for p in people]
        title = f"{year}年第{q}季度新增高龄津贴对象公示"
        body = "\n".join(["以下老人本季度年满八十周岁或以上，经核实符合高龄津贴发放条件，自下月起按月发放：", "",
                          *rows, "", f"共{len(people)}人。公示期七天，如有异议请向社区居委会反映。"])
        return title, body

    def disability(self, year: int, q: int, people: list[Resident]) -> tuple[str, str]:
        rng = random.Random(f"disability-{year}-{q}")
        rows = []
        for p in people:
            kinds = rng.choice(("困难残疾人生活补贴", "重度残疾人护理补贴", "两项补贴"))
            rows.append(f"{mask_name(p.name.reveal())}  {p.grid.name}  {kinds}")
        title = f"{year}年第{q}季度残疾人两项补贴发放对象公示"
        body = "\n".join([f"经本人申请、社区初审和区残联审核，{year}年第{q}季度享受残疾人两项补贴的对象如下：", "",
                          *rows, "", f"共{len(people)}人，补贴按月发放至本人账户。公示期七天，如有异议请向社区居委会反映。"])
        return title, body

    def commitments(self, year: int) -> tuple[str, str]:
        return (f"{self.community.name}{year}年度服务承诺",
                "\n".join([f"{self.community.name}党群服务中心向全体居民承诺：", "", *COMMITMENTS, "",
                           "欢迎居民监督，对未兑现的承诺可在平台留言或到社区服务中心反映。"]))

    # -- finance --------------------------------------------------------------------------------

    def budget(self, year: int) -> tuple[str, str]:
        lines = self.books.budget_lines(year)
        width = max(_width(name) for _c, name, _a in lines)
        rows = [f"{code} {name}{' ' * (width - _width(name))}  {_yuan_text(amount):>12}" for code, name, amount in lines]
        first = self.books.first
        scope = (f"{year}年度社区收支预算如下" if year != first.year or first.month == 1 else
                 f"{year}年{first.month}月至12月（社区账簿自{first.month}月起在本平台记账）的收支预算如下")
        return (f"{self.community.name}{year}年度收支预算",
                "\n".join([f"经居民议事会审议、街道审核，{scope}（单位：元）：", "", *rows, "",
                           "预算执行情况每季度公布一次（见“预算执行情况”）。"]))

    def revenue(self, year: int, month: int) -> tuple[str, str]:
        lines = [line for v in self.books.by_month[(year, month)] for line in v.lines
                 if line.account.code == SHARED]
        rows = [f"{line.summary}：{_yuan_text(line.credit)}元" for line in lines]
        total = sum(line.credit for line in lines)
        return (f"{year}年{month}月公共收益收入公示",
                "\n".join([f"{year}年{month}月，利用小区共有部分取得的公共收益如下：", "", *rows, "",
                           f"合计{_yuan_text(total)}元，已全部存入社区公共收益账户，使用须经居民议事会决定。"]))

    def allocation(self, n: int, year: int, month: int, amount: int) -> tuple[str, str]:
        shares = [amount * share // 100 for _n, share in FUND_PROJECTS]
        shares[0] += amount - sum(shares)
        rows = [f"{name}：{_yuan_text(s)}元" for (name, _p), s in zip(FUND_PROJECTS, shares)]
        return (f"社区保障资金第{n}批拨付及项目分配公示",
                "\n".join([f"{year}年{month}月，收到街道拨付的社区保障资金{_yuan_text(amount)}元。"
                           "按居民议事会议定的项目分配如下：", "", *rows, "",
                           "各项目的支出逐月列入财务收支情况表“社区保障资金分项目情况”。"]))

    def donation(self, year: int, month: int) -> tuple[str, str] | None:
        lines = [(v, line) for v in self.books.by_month[(year, month)] for line in v.lines
                 if line.account.code == DONATIONS]
        if not lines:
            return None
        v, line = lines[0]
        who = v.summary.removesuffix("定向捐赠")
        return (f"{year}年{month}月接受捐赠公示",
                f"{_cn_date(v.date)}，社区收到{who}捐赠款{_yuan_text(line.credit)}元，"
                "用于辖区困难家庭帮扶。捐赠款的使用情况将在帮扶结束后公布。感谢爱心人士和单位的支持！")


# ----------------------------------------------------------------------------------------------
# Attachments: the PDFs and pictures an office would put beside the words (linli.demo.files;
# ASCII figures and codes only, the entry has the words)


def _fen(fen: int) -> str:
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def statement_pdf(community: Community, year: int, month: int, *, corrected: bool = False) -> tuple[str, bytes]:
    """The month's statement as printed for the file: account codes and figures."""
    from linli.books import statements

    st = statements.monthly_statement(community, year, month)
    lines = [f"Community {st.community_code}   period {st.start.isoformat()} to {st.end.isoformat()}"
             + ("   CORRECTED" if corrected else ""), "",
             f"{'Account':<10}{'Opening':>16}{'Debit':>16}{'Credit':>16}{'Closing':>16}", "-" * 74]
    lines += [f"{'  ' * (r.level - 1) + r.code:<10}{_fen(r.opening):>16}{_fen(r.debit):>16}{_fen(r.credit):>16}"
              f"{_fen(r.closing):>16}" for r in st.rows[:40] if r.opening or r.debit or r.credit or r.closing]
    t = st.totals
    lines += ["-" * 74, f"{'Total':<10}{_fen(t.opening_debit - t.opening_credit):>16}{_fen(t.debit):>16}"
              f"{_fen(t.credit):>16}{_fen(t.closing_debit - t.closing_credit):>16}", "",
              f"Revenue this month (CNY)  {_fen(st.revenue):>16}", f"Expenses this month (CNY) {_fen(st.expense):>16}"]
    name = f"statement-{year}-{month:02d}{'-corrected' if corrected else ''}.pdf"
    return name, demo_files.pdf(lines, title=f"Monthly statement {year}-{month:02d} (CNY)")


ALLOWANCE_ROW = re.compile(r"^\s*(\d+)\. .*?(\d+)人\s+\S*?([\d,]+\.\d\d)元$")


def allowance_pdf(community: Community, year: int, month: int, body: str) -> tuple[str, bytes]:
    """The allowance list as signed off by the street: row, household size, amount — no names."""
    rows = [m.groups() for m in map(ALLOWANCE_ROW.match, body.splitlines()) if m]
    lines = [f"Community {community.code}   month {year}-{month:02d}", "",
             f"{'No.':<6}{'Persons':>10}{'Monthly (CNY)':>18}", "-" * 34]
    lines += [f"{n:<6}{persons:>10}{amount:>18}" for n, persons, amount in rows]
    lines += ["-" * 34, f"Households {len(rows)}", "", "Names are on the notice board; this sheet carries the figures."]
    return f"allowance-{year}-{month:02d}.pdf", demo_files.pdf(lines, title=f"Minimum living allowance {year}-{month:02d}")


DUES_ROW = re.compile(r"党员\s*\d+名\s+实交\s*([\d,]+)\.\d\d元")


def dues_chart(year: int, q: int, body: str) -> tuple[str, bytes]:
    """The quarter's party dues per branch as a bar chart (whole yuan)."""
    values = [int(m.group(1).replace(",", "")) for m in map(DUES_ROW.search, body.splitlines()) if m]
    return f"party-dues-{year}-q{q}.png", demo_files.chart_png(
        f"Party dues {year} Q{q} by branch (CNY)", [f"B{i + 1}" for i in range(len(values))], values)


# ----------------------------------------------------------------------------------------------
# The timeline


class _Board:
    def __init__(self, community: Community, seed: int, clock, result: BoardResult, today: dt.date):
        self.community, self.clock, self.result, self.today = community, clock, result, today
        self.rng = random.Random(f"linli-demo-board-{seed}")
        self.files_rng = random.Random(f"linli-demo-board-files-{seed}")
        self.books = result.books
        self.texts = _Texts(community, self.rng, self.books)
        self.worker, self.admin, self.secretary = staff("worker"), staff("admin"), staff("secretary")
        self.duties = {d.code: d for d in Duty.objects.filter(community=community)}
        self.steps: list[tuple[dt.datetime, int, object]] = []
        self.statement: dict[tuple[int, int], Entry] = {}
        # What each approver has still to approve: (submitted entry, what to do once published).
        self.waiting: dict[int, list] = {self.secretary.pk: [], self.admin.pk: []}

    def approver(self, section: str):
        return self.secretary if section == "party" else self.admin

    def at(self, when: dt.datetime, fn) -> None:
        self.steps.append((when, len(self.steps), fn))

    def run(self) -> None:
        """Every step in time order, none later than a few minutes ago."""
        now = timezone.now()
        steps = sorted(self.steps, key=lambda s: (s[0], s[1]))
        for i, (when, _n, fn) in enumerate(steps):
            latest = now - dt.timedelta(minutes=30) - dt.timedelta(seconds=10 * (len(steps) - i))
            self.clock.at = min(when, latest)
            fn()
        # Whatever was submitted after the last weekly sitting is approved now (half an hour ago).
        self.clock.at = now - dt.timedelta(minutes=30)
        for approver in (self.secretary, self.admin):
            self.sitting(approver)
        self.clock.at = None

    def _go(self, entry: Entry, *, publish: bool = True, keep=None) -> Entry:
        """Submit; unless ``publish`` is False, the entry waits for its approver's next sitting
        (``keep`` is called with the published entry then)."""
        entry = board.submit(actor=self.worker, entry=entry)
        if entry.state != E.SUBMITTED:
            raise RuntimeError(f"demo entry held: {entry.title}")
        if publish:
            self.waiting[self.approver(entry.section).pk].append((entry, keep))
        elif keep:
            keep(entry)
        return entry

    def sitting(self, approver) -> None:
        """The approver approves everything waiting for them in one go
        (:func:`linli.disclosure.services.publish_many`: one checkpoint for the sitting)."""
        waiting, self.waiting[approver.pk] = self.waiting[approver.pk], []
        if not waiting:
            return
        published = board.publish_many(actor=approver, entries=[entry for entry, _keep in waiting])
        for entry, (_submitted, keep) in zip(published, waiting):
            self.result.sections[entry.section] += 1
            if keep:
                keep(entry)

    def sitting_at(self, when: dt.datetime, section: str) -> None:
        self.at(when, lambda approver=self.approver(section): self.sitting(approver))

    def entry(self, when, section, text, start, end, duty=None, *, publish=True, keep=None, files=None):
        """``files``: None, or called with (title, body) for the attachments (name, bytes)."""
        def step():
            title, body = text() if callable(text) else text
            attached = [attachments.check_file(content, name=name) for name, content in files(title, body)] \
                if files else ()
            draft = board.create_draft(actor=self.worker, community=self.community, section=section, title=title,
                                       body=body, period_start=start, period_end=end,
                                       duty=self.duties.get(duty) if duty else None, files=attached)
            self.result.attachments += len(attached)
            self._go(draft, publish=publish, keep=keep)
        self.at(when, step)
        if keep and publish:   # needed soon after (a withdrawal): approved later that day
            self.sitting_at(when + dt.timedelta(hours=2), section)

    def generated(self, when, make, keep=None, section="finance", files=None):
        """``files``: None, or called with nothing for the attachments (name, bytes), added to the
        generated draft with :func:`linli.disclosure.services.update_draft` as the worker would."""
        def step():
            draft = make()
            if files:
                draft = self.attach(draft, files())
            self._go(draft, keep=keep)
        self.at(when, step)
        if keep:
            self.sitting_at(when + dt.timedelta(hours=2), section)

    def meeting_photo(self, b: int, year: int, month: int) -> tuple[str, bytes]:
        members = self.texts.members[b]
        return f"meeting-{year}-{month:02d}.jpg", demo_files.meeting_photo(
            self.files_rng, sign=f"BRANCH {b + 1:02d} PARTY MEETING {year}-{month:02d}",
            people=members - self.files_rng.randint(0, max(1, members // 8)))

    def attach(self, draft: Entry, named: list[tuple[str, bytes]]) -> Entry:
        attached = [attachments.check_file(content, name=name) for name, content in named]
        self.result.attachments += len(attached)
        return board.update_draft(actor=self.worker, entry=draft, title=draft.title, body=draft.body,
                                  period_start=draft.period_start, period_end=draft.period_end, duty=draft.duty,
                                  files=attached)

    def weekly_sittings(self) -> None:
        """Every Friday afternoon, the party secretary and then the community admin approve what
        waits for them; the last sitting is at the end of the replay (:meth:`run`)."""
        day = self.books.first + dt.timedelta(days=(4 - self.books.first.weekday()) % 7)
        while day < self.today:
            self.sitting_at(_at(day, 16), "party")
            self.sitting_at(_at(day, 16, 30), "finance")
            day += dt.timedelta(days=7)

    # -- the plan -------------------------------------------------------------------------------

    def plan(self) -> None:
        books, texts, rng, c = self.books, self.texts, self.rng, self.community
        months = books.months
        first = books.first
        years = sorted({y for y, _m in months})
        # Each year's budget, and its entries, at its start (or the window's).
        for year in years:
            start = max(first, dt.date(year, 1, 1))
            self.at(_at(start, 9), lambda y=year: books.set_budgets(y))
            self.entry(_at(start + dt.timedelta(days=1), 10), "finance", lambda y=year: texts.budget(y),
                       dt.date(year, 1, 1), dt.date(year, 12, 31), "annual-budget")
            self.entry(_at(start + dt.timedelta(days=1), 11), "residential", texts.commitments(year),
                       dt.date(year, 1, 1), dt.date(year, 12, 31), "service-commitments")
        fund_n = 0
        for mi, (year, month) in enumerate(months):
            m_start, m_end = dt.date(year, month, 1), month_end(year, month)
            after = m_end + dt.timedelta(days=1)
            # The books: posted the day after, closed three days later; the board follows.
            self.at(_at(after, 9, 30), lambda y=year, m=month: books.post_month(y, m))
            closing = _at(after + dt.timedelta(days=3), 16)
            self.at(closing, lambda y=year, m=month: books.close_month(y, m))
            after = closing.date() - dt.timedelta(days=4)   # the board's days count from the closing
            self.generated(_at(after + dt.timedelta(days=5), 9, 30),
                           lambda y=year, m=month: board.generate_finance_draft(
                               actor=self.worker, community=c, year=y, month=m),
                           keep=lambda e, y=year, m=month: self.statement.__setitem__((y, m), e),
                           files=lambda y=year, m=month: [statement_pdf(c, y, m)])
            self.entry(_at(after + dt.timedelta(days=5), 10), "finance", lambda y=year, m=month: texts.revenue(y, m),
                       m_start, m_end)
            self.generated(_at(after + dt.timedelta(days=6), 9, 30),
                           lambda y=year, m=month: board.generate_rates_draft(
                               actor=self.worker, community=c, year=y, month=m), section="residential")
            if month % 3 == 0:
                self.generated(_at(after + dt.timedelta(days=8), 10),
                               lambda y=year, m=month: board.generate_budget_draft(
                                   actor=self.worker, community=c, year=y, upto_month=m))
            for (fy, fm), amount in books.fund_given:
                if (fy, fm) == (year, month):
                    fund_n += 1
                    self.entry(_at(dt.date(year, month, 22), 10), "finance",
                               texts.allocation(fund_n, year, month, amount), m_start, m_end)
            donation = texts.donation(year, month)
            if donation:
                self.entry(_at(m_end - dt.timedelta(days=2), 15), "finance", donation, m_start, m_end)
            # Party affairs: each branch's meeting, the quarter's lecture, the committee's activity.
            for b in range(len(texts.branches)):
                day = _at(dt.date(year, month, rng.randint(5, 22)), 9).date()
                publish = _at(day + dt.timedelta(days=rng.randint(2, 6)), 10 + b % 6, rng.randint(0, 59))
                photo = None
                if self.files_rng.random() < 0.2:   # about one meeting in five has a photo
                    photo = lambda _t, _b, b=b, y=year, m=month: [self.meeting_photo(b, y, m)]  # noqa: E731
                self.entry(publish, "party", lambda b=b, d=day: texts.meeting(b, d), m_start, m_end, "branch-meetings",
                           files=photo)
                if month % 3 == 2:
                    lday = _at(dt.date(year, month, rng.randint(10, 26)), 9).date()
                    self.entry(_at(lday + dt.timedelta(days=3), 14, b * 4), "party",
                               lambda b=b, d=lday: texts.lecture(b, d), m_start, m_end, "branch-meetings")
            self.entry(_at(dt.date(year, month, 25), 16), "party", texts.activity(year, month), m_start, m_end)
            if mi in (1, 4, 7, 10):
                stage = (1, 3, 0, 2)[(mi - 1) // 3]
                day = _at(dt.date(year, month, 12), 9).date()
                self.entry(_at(day, 9, 30), "party", lambda s=stage, d=day: texts.development(s, d), day,
                           day + dt.timedelta(days=7))
            # Residential affairs.
            extra = None
            if (year, month) in {m for m, _a in books.fund_given}:
                extra = ("社区保障资金项目分配方案", "按" + "、".join(f"{n}{s}%" for n, s in FUND_PROJECTS) + "的比例分配")
            self.entry(_at(dt.date(year, month, 23), 11), "residential",
                       lambda y=year, m=month, x=extra: texts.council(y, m, x), m_start, m_end)
            self.entry(_at(dt.date(year, month, 3), 10), "residential", texts.notice(month), m_start, m_end)
            self.allowance(mi, year, month)
            if month % 3 == 0:
                q = _quarter(month)
                q_start, q_end = _quarter_bounds(year, q)
                self.entry(_at(q_end - dt.timedelta(days=3), 15), "residential",
                           lambda y=year, q=q: texts.elders(y, q, texts._people(self.rng.randint(6, 14),
                                                                                birth_year=y - 80)),
                           q_start, q_end)
                self.entry(_at(q_end - dt.timedelta(days=6), 10), "residential",
                           lambda y=year, q=q: texts.disability(y, q, texts._people(self.rng.randint(5, 9),
                                                                                    birth_year__lte=y - 18)),
                           q_start, q_end)
        self.party_dues()
        self.correction()
        self.office_work()
        self.weekly_sittings()

    def allowance(self, mi: int, year: int, month: int) -> None:
        m_start, m_end = dt.date(year, month, 1), month_end(year, month)
        if not hasattr(self, "_poor"):
            self._poor = self.texts._people(22, birth_year__lte=self.today.year - 18, relation="head")
        rng = random.Random(f"allowance-{year}-{month}")
        people = sorted(rng.sample(self._poor, len(self._poor) - rng.randint(2, 5)), key=lambda p: p.pk)
        when = _at(dt.date(year, month, 8), 15)
        listed = lambda _t, body: [allowance_pdf(self.community, year, month, body)]  # noqa: E731
        if mi != 6:
            self.entry(when, "residential", self.texts.allowance(year, month, people), m_start, m_end, files=listed)
            return
        # The list that went out with the households' door numbers: withdrawn the next working
        # day by the admin, and published again without them.
        def keep(entry):
            self.withdrawn_entry = entry
        self.entry(when, "residential", self.texts.allowance(year, month, people, doors=True), m_start, m_end,
                   keep=keep, files=listed)

        def withdraw():
            self.result.withdrawn = board.withdraw(
                actor=self.admin, entry=self.withdrawn_entry,
                reason="名单误列了受助家庭的楼栋、单元和房号，超出公示需要，属于个人信息，予以撤回；"
                       "已删去门牌信息后重新公示。")
        self.at(_at(when.date() + dt.timedelta(days=1), 9), withdraw)
        self.entry(_at(when.date() + dt.timedelta(days=1), 11), "residential",
                   self.texts.allowance(year, month, people), m_start, m_end, files=listed)

    def party_dues(self) -> None:
        """Each complete quarter's dues — all but the latest one already overdue (left for the office)."""
        duty = self.duties.get("party-dues")
        quarters = sorted({(y, _quarter(m)) for y, m in self.books.months if m % 3 == 0})
        overdue = [(y, q) for y, q in quarters
                   if _quarter_bounds(y, q)[1] + dt.timedelta(days=duty.days_allowed if duty else 15) < self.today]
        skip = overdue[-1] if overdue else None
        for y, q in quarters:
            if (y, q) == skip:
                continue
            q_start, q_end = _quarter_bounds(y, q)
            self.entry(_at(q_end + dt.timedelta(days=10), 10), "party", lambda y=y, q=q: self.texts.dues(y, q),
                       q_start, q_end, "party-dues", files=lambda _t, body, y=y, q=q: [dues_chart(y, q, body)])

    def correction(self) -> None:
        """The wrong voucher found after its month's statement: reopened, reversed, re-entered,
        and a corrected statement that supersedes the first."""
        year, month = self.books.wrong_month
        after = month_end(year, month) + dt.timedelta(days=1)
        self.at(_at(after + dt.timedelta(days=12), 15), self.books.fix_wrong_voucher)

        def correct():
            from linli.books import statements

            old = self.statement[(year, month)]
            title, body = statements.render_statement(statements.monthly_statement(self.community, year, month))
            note = ("更正说明：本月原表将“活动室门窗维修费”误记入办公费。经复核，该凭证已红字冲销，"
                    "并重新记入维修费；收支总额不变。本表更正并替代原表。")
            draft = board.start_correction(actor=self.worker, entry=old)
            draft = board.update_draft(actor=self.worker, entry=draft, title=f"{title}（更正）",
                                       body=f"{note}\n\n{body}", period_start=old.period_start,
                                       period_end=old.period_end, duty=old.duty)
            draft = self.attach(draft, [statement_pdf(self.community, year, month, corrected=True)])
            self._go(draft, keep=lambda entry: setattr(self.result, "correction", entry))
        when = _at(after + dt.timedelta(days=13), 10)
        self.at(when, correct)
        self.sitting_at(when + dt.timedelta(hours=2), "finance")

    def office_work(self) -> None:
        """What waits for the office today: two entries for approval, one held, one voucher."""
        today = self.today
        start = today.replace(day=1)
        last = timezone.now() - dt.timedelta(hours=1)
        self.entry(last - dt.timedelta(hours=3), "party", lambda: self.texts.meeting(0, max(start, today - dt.timedelta(days=2))),
                   start, month_end(today.year, today.month), "branch-meetings", publish=False)
        self.entry(last - dt.timedelta(hours=2), "residential", self.texts.notice(today.month), start,
                   month_end(today.year, today.month), publish=False)

        def held():
            number = "1" + str(self.rng.choice((39, 58, 86))) + "".join(str(self.rng.randrange(10)) for _i in range(8))
            draft = board.create_draft(
                actor=self.worker, community=self.community, section="residential",
                title="关于招募院落志愿者的通知",
                body=f"社区招募院落清洁和助老志愿者，有意者请与网格员联系（{number}）。",
                period_start=start, period_end=month_end(today.year, today.month))
            board.submit(actor=self.worker, entry=draft)
        self.at(last - dt.timedelta(hours=1), held)
        self.at(last, self.books.leave_one_waiting)


# ----------------------------------------------------------------------------------------------
# The key and the witness


def _signing_key(result: BoardResult) -> None:
    path = keys.key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keys.keygen(keys.default_key_name(), path)
        result.key_generated = path
    result.key_fingerprint = keys.fingerprint()


def witness_key_file() -> Path:
    """The street office's witness key, next to the signing key (the data dir by default)."""
    return keys.key_file().parent / WITNESS_KEY_NAME


def witness_name(community: Community) -> str:
    """The witness's key name as residents know the office: the street's name + 街道办事处
    (a note's key name may be any UTF-8 without spaces or '+'; those are dropped)."""
    street = "".join(ch for ch in community.street.name if not ch.isspace() and ch != "+")
    street = street.removesuffix("街道办事处").removesuffix("街道办").removesuffix("街道")
    return f"{street}街道办事处"


def _witness(community: Community, result: BoardResult) -> None:
    """The street's witness: a key of its own, registered for the log, and its cosignature of the
    latest checkpoint (checked against the log's key first), through the cosignature service."""
    path = witness_key_file()
    if not path.exists():
        keys.keygen(witness_name(community), path)
    signer = street_witness.witness_signer(path)
    cosign.add_witness(actor=None, community=community, name=signer.name, verifier_key=str(signer.verifier))
    checkpoint = log_selectors.latest_checkpoint(community)
    note = signednote.open_note(checkpoint.note.encode("utf-8"), [keys.verifier()])
    line = signednote.cosign(note.text, signer, timestamp=int(time.time())).line()
    cosign.accept_cosignature(community=community, line=line, size=checkpoint.size)
    result.witness = signer.name


# ----------------------------------------------------------------------------------------------


def seed_disclosure(*, community: Community, seed: int, today: dt.date | None = None) -> BoardResult:
    """The demo's year of books and board (see the module's docstring), in the installation's
    language. Raises what the services raise; the caller's transaction keeps it whole."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        result = BoardResult(books=DemoBooks(community=community, seed=seed, today=today))
        _signing_key(result)
        board.install_default_duties(community=community, since=result.books.first)
        with replay_clock() as clock:
            timeline = _Board(community, seed, clock, result, today)
            timeline.plan()
            timeline.run()
        _witness(community, result)
    from linli.disclosure import duties

    result.waiting = Counter(Entry.objects.filter(community=community, state__in=(E.SUBMITTED, E.HELD, E.DRAFT))
                             .values_list("state", flat=True))
    result.overdue = len(duties.overdue(community, today=today))
    result.log_size = log_selectors.size(community)
    from linli.transparency.models import Checkpoint

    result.checkpoints = Checkpoint.objects.filter(log__community=community).count()
    result.seconds = round(time.perf_counter() - started, 2)
    return result


def summary_lines(result: BoardResult) -> list[str]:
    """What `linli seed-demo` says about the books and the board."""
    books = result.books
    lines = [_(
        "Books: %(vouchers)s vouchers from %(first)s to %(last)s (one reversed and entered again; "
        "%(receipts)d with a scanned receipt), budgets for %(years)s, %(closed)d months closed, in %(s).1f s."
    ) % {"vouchers": f"{books.vouchers:,}", "receipts": books.receipts, "first": f"{books.first:%Y-%m}", "last": f"{books.last:%Y-%m}",
         "years": ", ".join(str(y) for y in sorted({y for y, _m in books.months})), "closed": books.closed,
         "s": books.seconds}]
    s = result.sections
    lines.append(_(
        "Public board: %(n)s entries (party %(party)s, residential %(residential)s, finance %(finance)s), "
        "%(files)s attachments, 1 correction, 1 withdrawal; log of %(size)s leaves in %(checkpoints)s signed checkpoints, "
        "witnessed by %(witness)s; in %(s).1f s."
    ) % {"n": f"{result.entries:,}", "party": s["party"], "residential": s["residential"], "finance": s["finance"],
         "files": f"{result.attachments:,}",
         "size": f"{result.log_size:,}", "checkpoints": f"{result.checkpoints:,}", "witness": result.witness,
         "s": result.seconds})
    waiting = result.waiting
    lines.append(_(
        "For the office: entries awaiting approval %(submitted)d, held for personal data %(held)d, "
        "overdue duties %(overdue)d; one voucher awaiting approval."
    ) % {"submitted": waiting.get(E.SUBMITTED, 0), "held": waiting.get(E.HELD, 0), "overdue": result.overdue})
    if result.key_generated is not None:
        lines.append(_("No signing key was configured: generated one at %(path)s (fingerprint %(fp)s); "
                       "keep it like the data key.") % {"path": result.key_generated, "fp": result.key_fingerprint})
    else:
        lines.append(_("Checkpoints signed with the configured key (fingerprint %(fp)s).")
                     % {"fp": result.key_fingerprint})
    lines.append(_("The street's witness key is at %(path)s: “linli disclosure witness” cosigns again with it.")
                 % {"path": witness_key_file()})
    return lines


def board_counts(community: Community) -> dict[str, int]:
    """Public entries (published or withdrawn) per section."""
    return dict(Entry.objects.filter(community=community, state__in=(E.PUBLISHED, E.WITHDRAWN))
                .order_by().values_list("section").annotate(n=Count("pk")))


__all__ = ["seed_disclosure", "summary_lines", "board_counts", "replay_clock", "witness_key_file", "witness_name", "BoardResult"]
