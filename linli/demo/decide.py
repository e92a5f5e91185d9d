"""The demo's year of residents deciding (issue 10): 一月一议, the community fund, 民主评议.

:func:`seed_decide` writes, for the demo community and deterministic from the demo seed, the
last twelve months up to the demo's "today" as the office and residents lived them, through
the services of linli.deliberation, linli.funds, linli.evaluation and linli.voting, each step
at its own moment (the replay clock of :mod:`linli.demo.disclosure`, and each service's
``at`` where it takes one):

- **residents' accounts**: the residents who take part online (proposals, supports, comments,
  evaluations, web ballots) need an account linked to their record. The registry's demo build
  writes people in bulk (:mod:`linli.demo.community`); the same way, about one adult in
  ninety (at least 60) gets an account here (username ``nbNNNN``, no password: they are
  authors of history, not sign-ins). The ``resident`` sign-in is one of them;
- **一月一议**: twelve monthly rounds (the current month's still collecting proposals), each with
  3–8 proposals (residents', the office's, one from a hot issue now and then), supports (some
  reach the round's threshold and go on the agenda by themselves), comments (one a month hidden
  by moderation with its reason), a proposal declined with a reason, the council meeting with
  attendance, decisions with their vote counts, the minutes, tasks, progress, decisions done,
  in progress and overdue, residents' evaluations and their published summaries;
- **the community fund**: the street's transfer for the residents' projects booked into the
  fund's pool (3102.00) in the books' open month (the months before are closed), then the call
  of the last four months (equal shares, approval ballot of 1–5 projects), fifteen projects
  (three found not eligible, with reasons; one cost reduced by the review), the residents' vote
  with 300+ ballots — online, at two booths, by proxy (``voting.services.cast_many``, the
  engine's bulk path with every check of ``cast``) and paper sheets handed out at a booth and
  typed in twice (``voting.paper``, one handed in blank) —; its vote closed twelve days ago,
  the selection by the call's rule is published as the demo runs, and the two projects voted
  highest start then: their sub-accounts, the allocation and a first payment booked and
  approved in the books, first milestones;
- **last year's 民主评议**: the evaluation of the previous year held in January–February, with
  the households' ballots (about 3 % of the households, at most 1,500: online, at the booth,
  by proxy and on paper), counted per courtyard, a written response to each criterion under
  80 %, published with the annual report.

Everything is written by the service that writes it in use, with its checks and its events.
The board entries these services publish are appended to the log after the year of 三务公开
(:mod:`linli.demo.disclosure`): the steps that publish run "as the demo runs" (half an hour ago
and on, a few seconds apart; the phase checks still use the step's own ``at``), so that the
log's checkpoints stay signed in time order; an entry's period is its meeting's day or year.
The street's witness cosigns the latest checkpoint again at the end.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.books import services as books
from linli.books.models import Account
from linli.community.models import Community, Grid, Resident
from linli.deliberation import services as delib
from linli.deliberation.models import Attendance, Decision, Proposal, Round
from linli.evaluation import selectors as eval_selectors, services as evaluation_services
from linli.funds import services as funds
from linli.funds.models import Project
from linli.insight.models import HotIssue
from linli.transparency import cosign, keys, selectors as log_selectors
from linli.transparency import witness as street_witness
from linli.core import bulk, signednote
from linli.voting import paper
from linli.voting.models import Ballot, Option, Participation
from linli.voting.services import BulkBallot, cast_many, mark_paper

from .books import staff
from .disclosure import replay_clock, witness_key_file

ACCOUNT_SHARE = 90           # one adult in this many takes part online
ACCOUNT_MIN = 60
SUPPORT_THRESHOLD = 5        # supports that put a proposal on the agenda (the community's setting)
FUND_BALLOTS = 330           # ballots cast online, at the booths and by proxy
FUND_BUDGET = 200_000_00     # fen: the call's budget
FUND_PAPER = 8               # paper sheets handed out and typed in
EVALUATION_TURNOUT = 0.03    # households that rate the community's year
EVALUATION_MAX = 1_500
EVALUATION_PAPER = 4

# ----------------------------------------------------------------------------------------------
# Texts (written for the demo)

# (title, body, place: None for the community, "grid" for the proposer's courtyard)
PROPOSALS = (
    ("院内增设带靠背的休息座椅", "院子里老人多，散步走一圈没有地方歇脚，建议在花坛边和单元门口各放两张带靠背的长椅。", "grid"),
    ("楼道感应灯坏了好几盏", "晚上上下楼黑漆漆的，老人提着菜很不方便，希望统一检查更换成声光控灯。", "grid"),
    ("电动自行车集中充电棚扩容", "现有充电桩经常排队，有人又开始从楼上拉线充电，建议增加充电口并加装雨棚。", "grid"),
    ("在小广场划定跳舞时间和音量", "晚上跳舞音乐太大声，影响学生写作业，希望大家商量出时间段和音量上限。", "grid"),
    ("给独居老人装紧急呼叫按钮", "院里独居的老人不少，摔倒了没人知道，能否给有需要的老人家里装一键呼叫。", None),
    ("开设周末儿童阅读角", "活动室周末大多空着，可以放些绘本，请家长志愿者轮流看护，给孩子们一个看书的地方。", None),
    ("规范共享单车停放区域", "院门口单车乱停，轮椅和婴儿车过不去，建议画线并请运维公司定时清理。", "grid"),
    ("修补院内破损路面", "主干道有几处坑洼，下雨积水，老人容易滑倒，希望尽快修补。", "grid"),
    ("增加垃圾分类投放点的洗手池", "扔完厨余垃圾没地方洗手，夏天味道也大，建议投放点旁边装一个洗手池。", "grid"),
    ("组织一次邻里百家宴", "很多邻居住了几年互不认识，建议中秋前后办一次百家宴，每家带一个菜。", None),
    ("楼顶违规种菜影响防水", "有住户在楼顶堆土种菜，顶楼已经漏水，希望社区和物业一起劝导清理。", "grid"),
    ("健身器材老化需要更换", "院里的健身器材生锈松动，有的已经不能用了，担心伤到人。", "grid"),
    ("夜间院门口照明不足", "院门口到公交站这段路很暗，下晚班回来不安全，建议加装两盏路灯。", "grid"),
    ("设立旧衣物和旧书交换点", "家里旧衣服、旧书扔了可惜，可以在服务中心设一个交换点，每月开放一次。", None),
    ("宠物粪便清理提醒", "草坪上狗粪较多，孩子在草地玩很不卫生，建议设置提示牌和拾便袋取用点。", "grid"),
    ("消防通道被私家车占用", "院内消防通道常年停车，万一有事消防车进不来，建议画黄线并加强劝离。", "grid"),
    ("为老年人开设智能手机课", "很多老人不会用手机挂号、缴费，建议请志愿者每周开一次手机课。", None),
    ("单元门禁经常失灵", "门禁坏了大半个月，外来人员随意进出，希望物业尽快维修并公布报修进度。", "grid"),
    ("雨水管堵塞导致一楼返水", "大雨时一楼卫生间返水，应该是院内雨水管堵了，请组织疏通。", "grid"),
    ("增设快递代收点", "上班族收快递不方便，快递堆在门口容易丢，希望引进一个代收点。", None),
    ("绿化带改成居民认养小花园", "部分绿化带长期荒着，可以分给愿意打理的居民认养，种花不种菜。", "grid"),
    ("暑期青少年志愿服务岗位", "放暑假的中学生可以参加社区服务，建议社区设置一些适合他们的岗位。", None),
    ("楼道堆放杂物清理", "楼道里堆了旧家具和纸箱，既挡路又有火灾隐患，请统一清理一次。", "grid"),
    ("公共区域增设无障碍坡道", "服务中心门口只有台阶，坐轮椅的居民进不去，建议加一条坡道和扶手。", None),
)
STAFF_TOPICS = (
    ("年度居民公约修订征求意见", "居民公约施行已有几年，部分条款与现在的情况不符，请居民议事会讨论修订方向。"),
    ("院落公共收益使用计划", "各院落广告位和停车收入的使用计划，请议事会审议优先顺序。"),
    ("冬季防火巡查安排", "入冬后用火用电增多，拟组织志愿者分院落开展夜间防火巡查，请议事会讨论排班。"),
    ("汛期应急预案演练", "拟在汛期前组织一次院落应急演练，请议事会讨论时间和参与方式。"),
)
COMMENTS = (
    "赞成，我们单元也有这个问题。", "建议先做个调查，看看大家的意见再定。", "这个事情拖了很久了，希望这次能落实。",
    "费用从哪里出？建议先公布预算。", "可以请物业一起来商量，单靠社区不够。", "我愿意报名当志愿者。",
    "最好能分步骤做，先在一个院子试点。", "附议，老人和孩子都受益。", "希望做完之后有人定期维护。",
    "同意，但要注意不要影响一楼住户。", "上次也提过，能不能说明一下当时为什么没做成？", "支持！",
)
HIDDEN_COMMENT = "一楼那家人素质太差了，就是他们家搞的，大家去他家门口堵他！"
HIDE_REASONS = ("针对个人的攻击性言论，不符合议事规则", "煽动对特定住户的对立情绪")
DECLINE_REASONS = (
    "该事项属于物业服务合同范围，已转物业公司按合同处理，处理结果将在院落公示栏公布。",
    "该事项涉及市政道路，已转街道城市管理科，不在社区议事范围内。",
    "本月已有相同议题上会，合并到该议题一并讨论。",
)
DECISION_TEXTS = (
    "同意实施。由社区牵头、物业配合，一个月内拿出具体方案并在院落公示，费用从院落公共收益中列支。",
    "同意先在一个院落试点，试点期两个月，期满后由议事会根据居民反馈决定是否推广。",
    "同意实施，由网格员负责组织，楼栋长协助摸底，志愿者参与，完成后向居民通报。",
    "原则同意，请社区工作人员会同物业核算费用，下次议事会前公示预算后实施。",
)
REJECT_TEXT = "暂不实施。经讨论，多数成员认为目前条件不成熟，待征求更多院落意见后再议。"
TASKS = (
    ("摸底调查并形成方案", "网格员"), ("联系施工单位询价", "社区工作人员"), ("组织施工并现场监督", "物业公司"),
    ("院落公示和居民通报", "社区工作人员"), ("招募并培训志愿者", "社区社会组织"), ("采购所需物资", "社区工作人员"),
    ("完工验收并回访居民", "网格员"),
)
PROGRESS_NOTES = {
    60: ("已完成入户摸底，方案经楼栋长讨论后确定，正在按方案推进。", "施工单位已进场，完成了大半。",
         "物资已采购到位，正在分批安装。", "志愿者已招募完毕，完成了第一次培训，开始上岗。"),
    100: ("已全部完成，并在院落公示栏公布了结果。", "已完工，网格员回访了部分居民，反映良好。", "已完成验收，相关资料已归档。"),
}
MINUTES = (
    "本次居民议事会由社区党委书记主持。会议听取了本月居民提议的汇总情况，逐项讨论了列入议程的议题，"
    "与会成员和居民代表充分发表了意见，现场进行了表决。会议要求各项决定在院落公示栏和平台同步公开，"
    "执行情况在下月议事会上通报。",
    "本次居民议事会由居委会主任主持。会上，工作人员通报了上月决定的执行进度；与会人员围绕本月议题"
    "进行了讨论，对费用来源、实施主体和完成时限提出了具体意见，随后逐项表决。",
    "本次居民议事会在院落议事亭召开，部分居民旁听。会议先由提议人说明情况，再由物业和网格员介绍现状，"
    "与会人员讨论后逐项表决。会议决定的事项由社区工作人员跟进并按月通报。",
)
MEETING_PLACES = ("社区党群服务中心二楼会议室", "院落议事亭", "社区新时代文明实践站")
EVALUATION_COMMENTS = {
    "satisfied": ("做得不错，效果明显。", "办得快，给社区点赞。", "很实用，谢谢大家。", ""),
    "basic": ("基本解决了，但还有细节要改进。", "效果还行，希望后面有人维护。", ""),
    "unsatisfied": ("做完没多久又坏了。", "进度太慢，拖了很久。", ""),
}

FUND_PROJECTS = (
    # (title, description, place: "grid" or a place, beneficiaries, budget lines (item, yuan), popularity)
    ("院落适老化扶手加装", "在老旧楼栋的楼道和单元门口加装扶手和防滑条，方便老人上下楼。", "grid",
     "老旧院落的老年居民", (("不锈钢扶手材料", 18_000), ("安装人工", 9_500), ("防滑条", 3_200)), 9),
    ("社区长者食堂餐桌椅更新", "长者食堂的桌椅使用多年，部分已经松动，更换为适合老人使用的桌椅。", "社区长者食堂",
     "在食堂就餐的老年人", (("桌椅采购", 21_000), ("运输安装", 1_500)), 7),
    ("四点半课堂图书和学具添置", "为放学后在社区学习的孩子添置图书、台灯和学具。", "社区活动室",
     "放学后无人照看的小学生", (("图书", 6_000), ("护眼台灯", 3_600), ("学具", 2_400)), 8),
    ("院落雨污管网疏通", "对积水严重的院落雨水管网进行疏通和局部改造，解决一楼返水问题。", "grid",
     "低洼院落的一楼住户", (("管网疏通", 16_000), ("局部改管", 22_000)), 6),
    ("楼道照明改造", "将老旧楼道的白炽灯更换为声光控节能灯。", "grid",
     "老旧楼栋居民", (("节能灯具", 12_800), ("电工人工", 6_400)), 8),
    ("邻里文化节", "举办一次邻里文化节，包括才艺展示、手工市集和百家宴。", "社区小广场",
     "全体居民", (("场地布置", 5_000), ("活动物料", 7_000), ("宣传印刷", 1_500)), 4),
    ("共享工具屋", "设立一个共享工具屋，居民可以借用梯子、电钻等工具，由志愿者管理。", "社区服务中心",
     "全体居民", (("工具采购", 8_500), ("储物柜", 3_000)), 5),
    ("儿童游乐区地面翻新", "将游乐区的水泥地面改为塑胶地面，减少孩子摔伤。", "grid",
     "院内儿童及家长", (("塑胶地面", 28_000), ("旧地面清理", 4_000)), 6),
    ("独居老人智能呼叫设备", "为有需要的独居老人安装一键呼叫设备，接入社区值班电话。", "社区",
     "独居老人", (("呼叫设备", 15_000), ("安装调试", 3_000), ("一年通信费", 2_400)), 7),
    ("小区微型消防站器材补充", "为微型消防站补充灭火器、水带和应急照明。", "社区微型消防站",
     "全体居民", (("消防器材", 11_000), ("应急照明", 2_600)), 5),
    ("院落垃圾分类亭改造", "为垃圾分类亭加装雨棚、洗手池和照明。", "grid",
     "院落居民", (("雨棚", 9_000), ("洗手池和管线", 6_500), ("照明", 1_800)), 6),
    ("居民健身步道", "沿院落围墙铺设一条健身步道，标注距离。", "grid",
     "喜欢散步锻炼的居民", (("步道铺设", 35_000), ("标识牌", 2_000)), 5),
    ("社区志愿者服装和保险", "为常年服务的志愿者统一购置服装并购买意外保险。", "社区",
     "社区志愿者", (("服装", 4_500), ("意外保险", 3_800)), 3),
    ("院门口停车棚建设", "在院门口搭建非机动车停车棚，解决乱停乱放。", "grid",
     "骑车出行的居民", (("停车棚", 42_000), ("地面划线", 1_200)), 4),
    ("楼顶花园", "在楼顶建设屋顶花园，供居民休闲。", "grid",
     "部分楼栋居民", (("花园建设", 60_000), ("防水加固", 25_000)), 3),
)
INELIGIBLE = {
    13: "停车棚建设涉及规划审批，院门口属于消防通道范围，不能在本年度资金项目中实施。",
    14: "屋顶属于全体业主共有部分，改变用途须经业主共同决定，且费用超出社区资金可承担范围。",
    12: "志愿者保险已由街道统一购买，本项目与现有保障重复。",
}
ORG_PROPOSERS = {5: ("organisation", "金牛区乐邻社会工作服务中心"), 9: ("group", "微型消防站志愿队"),
                 2: ("group", "四点半课堂家长志愿者")}
MILESTONES = (
    ("开工准备", 5, "实施单位已确定，材料清单经居民代表核对，施工方案在院落公示栏张贴。"),
    ("首批材料到场", 10, "首批材料已到场，居民代表和网格员一起查验了数量和规格。"),
)
RATING_RESPONSES = (
    "我们认真分析了居民的意见，问题主要集中在办事等候时间长、回复不及时。下一步将实行首问负责和限时回复，"
    "每季度在院落公示栏通报整改进展，欢迎居民继续监督。",
    "感谢居民提出的意见。我们将增加入户走访频次，对居民反映的问题建立台账、逐件回访，"
    "并在下一年度评议前向居民报告整改情况。",
    "针对评议中反映的不足，社区已召开专题会议，明确了责任人和整改时限，整改结果将在平台和公示栏同步公开。",
)


# ----------------------------------------------------------------------------------------------
# What the summary says


@dataclass
class DecideResult:
    accounts: int = 0
    rounds: int = 0
    proposals: int = 0
    supports: int = 0
    comments: int = 0
    hidden: int = 0
    meetings: int = 0
    decisions: Counter = field(default_factory=Counter)   # state → decisions
    overdue: int = 0
    evaluations: int = 0
    summaries: int = 0
    call_id: int | None = None
    projects: Counter = field(default_factory=Counter)    # state → projects
    fund_ballots: Counter = field(default_factory=Counter)  # channel → ballots
    fund_selected: list = field(default_factory=list)
    evaluation_year: int | None = None
    evaluation_ballots: int = 0
    evaluation_households: int = 0
    responses: int = 0
    seconds: dict = field(default_factory=dict)


def _step(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _month_add(year: int, month: int, n: int) -> tuple[int, int]:
    m = year * 12 + month - 1 + n
    return m // 12, m % 12 + 1


class _Decide:
    def __init__(self, community: Community, seed: int, clock, today: dt.date, result: DecideResult):
        self.community, self.clock, self.today, self.result = community, clock, today, result
        self.rng = random.Random(f"linli-demo-decide-{seed}")
        now = timezone.now()
        # History stops at the hour before half an hour ago: two seeds in the same hour agree.
        self.latest = (now - dt.timedelta(minutes=30)).replace(minute=0, second=0, microsecond=0)
        # Board entries are published as the demo runs (the log is append-only and its
        # checkpoints are signed in time order): after the year of 三务公开, a few seconds apart.
        self.published_from = now - dt.timedelta(minutes=25)
        self.publications = 0
        self.worker, self.admin = staff("worker"), staff("admin")
        self.grids = {g.pk: g for g in Grid.objects.filter(community=community)}

    # -- the clock ----------------------------------------------------------------------------

    def when(self, moment: dt.datetime) -> dt.datetime:
        """The step's moment (never later than half an hour ago); the replay clock answers it."""
        moment = min(moment, self.latest)
        self.clock.at = moment
        return moment

    @contextmanager
    def publishing(self):
        """A step that publishes on the board: it runs at its moment after the year of 三务公开,
        the clock moving on a microsecond at each reading, so that entries and checkpoints
        published by one service call (minutes and decisions, results and report) are signed
        one after the other, in order."""
        self.publications += 1
        start = self.published_from + dt.timedelta(seconds=5 * self.publications)
        self.clock.at = start
        installed = timezone.now
        ticks = itertools.count(1)
        timezone.now = lambda: start + dt.timedelta(microseconds=next(ticks))
        try:
            yield
        finally:
            timezone.now = installed

    # -- residents ----------------------------------------------------------------------------

    def accounts(self) -> None:
        """Accounts for the residents who take part online: adults of every courtyard."""
        cutoff = self.today.year - 18
        adults = list(Resident.objects.filter(community=self.community, birth_year__lt=cutoff,
                                              birth_year__gte=self.today.year - 82)
                      .order_by("pk").values_list("pk", "user_id"))
        linked = [pk for pk, user in adults if user is not None]
        free = [pk for pk, user in adults if user is None]
        n = max(ACCOUNT_MIN, len(adults) // ACCOUNT_SHARE)
        chosen = sorted(self.rng.sample(free, min(len(free), n)))
        User = get_user_model()
        unusable = make_password(None)
        users = [User(username=f"nb{i + 1:04d}", password=unusable) for i in range(len(chosen))]
        User.objects.bulk_create(users)
        if users and users[0].pk is None:
            by_name = dict(User.objects.filter(username__in=[u.username for u in users])
                           .values_list("username", "pk"))
            for u in users:
                u.pk = u.id = by_name[u.username]
        rows = list(Resident.objects.filter(pk__in=chosen).order_by("pk"))
        for resident, user in zip(rows, users):
            resident.user = user
        bulk.update(Resident, rows, ["user"])
        self.result.accounts = len(rows)
        members = (Resident.objects.filter(pk__in=chosen + linked).select_related("user", "household", "grid")
                   .order_by("pk"))
        self.online = list(members)
        self.online_by_grid: dict[int, list[Resident]] = {}
        for r in self.online:
            self.online_by_grid.setdefault(r.grid_id, []).append(r)
        self.resident_signin = next((r for r in self.online if r.user.username == "resident"), None)

    def pick(self, n: int, grid_id: int | None = None, exclude=()) -> list[Resident]:
        pool = self.online_by_grid.get(grid_id, []) if grid_id else self.online
        pool = [r for r in pool if r.pk not in exclude]
        if len(pool) < n:
            pool = pool + [r for r in self.online if r.pk not in exclude and r not in pool]
        return self.rng.sample(pool, min(n, len(pool)))

    # -- 一月一议 -------------------------------------------------------------------------------

    def deliberation(self) -> None:
        rng = self.rng
        y, m = self.today.year, self.today.month
        months = [_month_add(y, m, -k) for k in range(11, -1, -1)]
        topics = list(PROPOSALS)
        rng.shuffle(topics)
        self.topic_cursor = 0
        issues = list(HotIssue.objects.filter(community=self.community).order_by("-heat", "pk")
                      .values_list("pk", "first_at"))
        used_issues: set[int] = set()
        for index, (year, month) in enumerate(months):
            self.month(index, year, month, topics, issues, used_issues)

    def next_topic(self, topics):
        """The next topic; once all were raised, they come back as raised again."""
        title, body, place = topics[self.topic_cursor % len(topics)]
        again = self.topic_cursor >= len(topics)
        self.topic_cursor += 1
        if again:
            return f"再次提议：{title}", f"{body}之前提过一次，问题还在，希望这次能议一议。", place
        return title, body, place

    def month(self, index: int, year: int, month: int, topics, issues, used_issues) -> None:
        rng, result = self.rng, self.result
        first = dt.date(year, month, 1)
        self.when(_step(first - dt.timedelta(days=3), 10))
        rnd = delib.round_create(actor=None, community=self.community, year=year, month=month,
                                 support_threshold=SUPPORT_THRESHOLD,
                                 meeting_at=_step(dt.date(year, month, 13), 15),
                                 meeting_place=MEETING_PLACES[index % len(MEETING_PLACES)])
        # One read of the month's phases, reused by every step's phase check.
        rnd = (Round.objects.select_related("process", "meeting").prefetch_related("process__phases")
               .get(pk=rnd.pk))
        result.rounds += 1
        current = index == 11
        proposals: list[Proposal] = []
        # Residents' proposals over the first week.
        for k in range(rng.randint(3, 6)):
            title, body, place = self.next_topic(topics)
            author = self.resident_signin if (current and k == 0 and self.resident_signin) else self.pick(1)[0]
            moment = _step(first + dt.timedelta(days=rng.randint(0, 6)), rng.randint(8, 21), rng.randint(0, 59))
            if moment > self.latest:
                continue
            at = self.when(moment)
            place_text = self.grids[author.grid_id].name if place == "grid" else ""
            proposals.append(delib.propose(actor=author.user, round=rnd, title=title, body=body,
                                           place=place_text, at=at))
        # The office's topic; one from a hot issue every other month.
        if index % 3 == 1:
            title, body = STAFF_TOPICS[(index // 3) % len(STAFF_TOPICS)]
            at = self.when(_step(first + dt.timedelta(days=2), 10))
            proposals.append(delib.topic_create(actor=self.worker, round=rnd, title=title, body=body, at=at))
        if (index % 2 == 0 or index >= 9) and len(used_issues) < 4:
            moment = _step(first + dt.timedelta(days=3), 11)
            issue = next((pk for pk, first_at in issues if pk not in used_issues and first_at < moment), None)
            if issue is not None and moment <= self.latest:
                used_issues.add(issue)
                self.when(moment)
                proposals.append(delib.topic_from_hotissue(actor=self.worker, round=rnd, hotissue_id=issue))
        result.proposals += len(proposals)
        # Supports: some proposals reach the threshold; the office puts one more on the agenda.
        for p in proposals:
            popular = rng.random() < 0.35
            n = rng.randint(SUPPORT_THRESHOLD, SUPPORT_THRESHOLD + 1) if popular else rng.choice((0, 0, 1, 2))
            base = p.created_at
            for r in self.pick(n, exclude={p.proposer_resident_id}):
                moment = base + dt.timedelta(hours=rng.randint(2, 150))
                if moment >= _step(first + dt.timedelta(days=10), 0) or moment > self.latest:
                    continue
                at = self.when(moment)
                p = delib.support(actor=r.user, proposal=p, at=at)
                p.round = rnd
                result.supports += 1
            # Comments.
            for r in self.pick(rng.choice((0, 0, 0, 0, 1, 1, 2)), exclude={p.proposer_resident_id}):
                moment = base + dt.timedelta(hours=rng.randint(1, 200))
                if moment >= _step(first + dt.timedelta(days=15), 0) or moment > self.latest:
                    continue
                at = self.when(moment)
                delib.comment(actor=r.user, proposal=p, body=rng.choice(COMMENTS), at=at)
                result.comments += 1
        if proposals and index % 3 == 2:
            p = rng.choice(proposals)
            at = self.when(p.created_at + dt.timedelta(hours=5))
            if at > p.created_at:
                bad = delib.comment(actor=self.pick(1, exclude={p.proposer_resident_id})[0].user, proposal=p,
                                    body=HIDDEN_COMMENT, at=at)
                result.comments += 1
                at = self.when(at + dt.timedelta(hours=2))
                if at > bad.created_at:
                    delib.hide_comment(actor=self.worker, comment=bad, reason=rng.choice(HIDE_REASONS), at=at)
                    result.hidden += 1
        if current:
            return
        proposals = list(Proposal.objects.filter(round=rnd).order_by("pk"))
        for p in proposals:
            p.round = rnd
        open_ones = [p for p in proposals if p.state == Proposal.State.OPEN]
        agenda_at = _step(dt.date(year, month, 10), 16)
        if open_ones:
            self.when(agenda_at)
            chosen = max(open_ones, key=lambda p: (p.support_count, -p.pk))
            delib.put_on_agenda(actor=self.worker, proposal=chosen, at=agenda_at)
            rest = [p for p in open_ones if p.pk != chosen.pk]
            if rest and rng.random() < 0.6:
                delib.decline(actor=self.worker, proposal=rest[0], reason=rng.choice(DECLINE_REASONS),
                              at=agenda_at + dt.timedelta(minutes=20))
        # The council meets on the 13th.
        meeting = rnd.meeting
        held = _step(dt.date(year, month, 13), 15)
        self.when(held)
        for user in (self.admin, self.worker):
            delib.attend_by_staff(actor=self.worker, meeting=meeting, role=Attendance.Role.MEMBER, user=user, at=held)
        for r in self.pick(rng.randint(2, 4)):
            delib.attend_by_staff(actor=self.worker, meeting=meeting, role=Attendance.Role.REPRESENTATIVE,
                                  resident=r, at=held)
        agenda = list(Proposal.objects.filter(round=rnd, state=Proposal.State.AGENDA).order_by("pk"))
        for k, p in enumerate(agenda):
            rejected = rng.random() < 0.1
            delib.decision_save(actor=self.worker, meeting=meeting, proposal=p,
                                text=REJECT_TEXT if rejected else rng.choice(DECISION_TEXTS),
                                votes_for=rng.randint(1, 3) if rejected else rng.randint(6, 9),
                                votes_against=rng.randint(4, 6) if rejected else rng.randint(0, 2),
                                votes_abstain=rng.randint(0, 1), at=held + dt.timedelta(minutes=20 + 10 * k))
        closed = self.when(held + dt.timedelta(hours=2))
        with self.publishing():
            delib.meeting_close(actor=self.worker, meeting=meeting, report=rng.choice(MINUTES), at=closed)
        self.result.meetings += 1
        self.execution(index, rnd, year, month)

    def execution(self, index: int, rnd, year: int, month: int) -> None:
        rng, result = self.rng, self.result
        decisions = list(Decision.objects.filter(meeting__round=rnd).select_related("meeting", "proposal")
                         .order_by("pk"))
        start = dt.date(year, month, 16)
        ey, em = _month_add(year, month, 2)
        evaluation_start = dt.date(ey, em, 1)
        for d in decisions:
            if d.state != Decision.State.ADOPTED:
                result.decisions[d.state] += 1
                continue
            d.meeting.round = rnd
            # How far it got: the last two months' decisions are still being carried out; of the
            # older ones most are done, a few stalled past their due date.
            if index >= 10:
                fate = "running"
            else:
                fate = "stalled" if rng.random() < 0.15 else "done"
            tasks = []
            for k in range(rng.choice((1, 1, 2))):
                title, owner = TASKS[(index + k + d.pk) % len(TASKS)]
                at = self.when(_step(start + dt.timedelta(days=k), 10))
                due = start + dt.timedelta(days=rng.randint(20, 40))
                task = delib.task_add(actor=self.worker, decision=d, title=title, owner=owner, due_date=due, at=at)
                task.decision = d
                tasks.append(task)
            day = start + dt.timedelta(days=5)
            for step in (60, 100):
                if fate == "stalled" and step == 100:
                    break
                for t in tasks:
                    at = _step(day + dt.timedelta(days=rng.randint(0, 3)), rng.randint(9, 17))
                    if at > self.latest or at.date() >= evaluation_start:
                        continue
                    if fate == "running" and at.date() >= self.today - dt.timedelta(days=2):
                        continue
                    self.when(at)
                    delib.progress_update(actor=self.worker, task=t, progress=step,
                                          note=rng.choice(PROGRESS_NOTES[step]), at=at)
                day += dt.timedelta(days=12)
            if fate == "done":
                at = self.when(_step(day, 16))
                delib.decision_complete(actor=self.worker, decision=d, at=at)
            state = Decision.objects.filter(pk=d.pk).values_list("state", flat=True).get()
            result.decisions[state] += 1
            if state == Decision.State.EXECUTING and any(t.due_date < self.today for t in tasks):
                result.overdue += 1
            if state == Decision.State.DONE:
                self.evaluate(d, rnd, evaluation_start)

    def evaluate(self, decision, rnd, evaluation_start: dt.date) -> None:
        rng = self.rng
        if evaluation_start > self.today:
            return
        for r in self.pick(rng.randint(2, 4)):
            at = _step(evaluation_start + dt.timedelta(days=rng.randint(0, 20)), rng.randint(8, 21))
            if at > self.latest:
                continue
            self.when(at)
            rating = rng.choices(("satisfied", "basic", "unsatisfied"), weights=(6, 3, 1))[0]
            delib.evaluate(actor=r.user, decision=decision, rating=rating,
                           comment=rng.choice(EVALUATION_COMMENTS[rating]), at=at)
            self.result.evaluations += 1
        ends = next(p for p in rnd.process.phases.all() if p.key == "evaluation").ends_at
        at = ends + dt.timedelta(hours=1)
        if at <= self.latest:
            with self.publishing():
                delib.publish_evaluation_summary(actor=None, decision=decision, at=at)
            self.result.summaries += 1

    # -- the community fund --------------------------------------------------------------------

    def fund(self) -> None:
        rng, result, today = self.rng, self.result, self.today
        # The call ran over the last four months: its vote closed twelve days ago, its selection
        # is published as the demo runs (on the board, after the rest) and the work starts then.
        anchor = _step(today, 9)
        begun = self.published_from + dt.timedelta(minutes=15)
        starts = {
            "call": anchor - dt.timedelta(days=130), "submission": anchor - dt.timedelta(days=118),
            "review": anchor - dt.timedelta(days=80), "vote": anchor - dt.timedelta(days=55),
            "selection": anchor - dt.timedelta(days=12), "implementation": begun,
            "acceptance": anchor + dt.timedelta(days=100), "report": anchor + dt.timedelta(days=130),
        }
        ends_at = anchor + dt.timedelta(days=160)
        year = starts["vote"].year
        budget = FUND_BUDGET
        self.receive(budget, year)
        self.when(starts["call"] + dt.timedelta(hours=1))
        call = funds.call_create(
            actor=self.admin, community=self.community, year=year,
            title=f"{year}年度社区保障资金项目征集", budget_fen=budget,
            specs=funds.phase_specs(starts), ends_at=ends_at, rule="equal-shares", ballot_kind="approval",
            eligibility="adults", min_projects=1, max_projects=5,
            description="面向全体居民征集本年度社区保障资金项目，经资格和费用审核后由居民投票，按平等份额法选出项目。")
        result.call_id = call.pk
        # Submission.
        projects: list[Project] = []
        proposers = self.pick(len(FUND_PROJECTS))
        for i, (title, description, place, beneficiaries, lines, _pop) in enumerate(FUND_PROJECTS):
            at = self.when(starts["submission"] + dt.timedelta(days=1 + i * 2, hours=rng.randint(1, 10)))
            kind, name = ORG_PROPOSERS.get(i, ("resident", ""))
            proposer = proposers[i]
            actor = self.worker if kind == "organisation" else proposer.user
            place_text = self.grids[proposer.grid_id].name if place == "grid" else place
            projects.append(funds.project_submit(
                actor=actor, call=call, title=title, description=description, place=place_text,
                beneficiaries=beneficiaries, budget_lines=[(item, yuan * 100) for item, yuan in lines],
                proposer_kind=kind, proposer_name=name))
        # Review.
        for i, p in enumerate(projects):
            self.when(starts["review"] + dt.timedelta(days=2 + i, hours=3))
            if i in INELIGIBLE:
                funds.project_review(actor=self.worker, project=p, eligible=False, reason=INELIGIBLE[i])
            elif i == 3:
                funds.project_review(actor=self.worker, project=p, eligible=True, cost_fen=34_000_00,
                                     reason="经现场查看，局部改管的长度比申报的短，费用核减。")
            else:
                funds.project_review(actor=self.worker, project=p, eligible=True)
        # The vote.
        self.when(starts["vote"] + dt.timedelta(hours=1))
        vote = funds.vote_prepare(actor=self.admin, call=call)
        booths = [paper.booth_create(actor=self.worker, vote=vote, name="服务中心投票点", place="社区党群服务中心一楼"),
                  paper.booth_create(actor=self.worker, vote=vote, name="院落流动投票点", place="各院落轮流设置")]
        question = vote.questions.get()
        options = list(question.options.order_by("order", "pk"))
        index_of = {f"project:{p.pk}": i for i, p in enumerate(projects)}
        popularity = {o.pk: FUND_PROJECTS[index_of[o.ref]][5] for o in options}

        def basket() -> dict:
            k = rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 4, 2, 1))[0]
            picked: set[int] = set()
            while len(picked) < min(k, len(options)):
                picked.add(rng.choices(list(popularity), weights=list(popularity.values()))[0])
            return {str(question.pk): sorted(picked)}

        online = [r for r in self.online if r.birth_year < starts["vote"].year - 18]
        rng.shuffle(online)
        web = online[: FUND_BALLOTS * 2 // 5]
        offline = [pk for pk, _h, user in self._adults(starts["vote"].year - 18) if user is None]
        offline = rng.sample(offline, min(len(offline), FUND_BALLOTS - len(web) + FUND_PAPER))
        in_person = self._load(offline[: FUND_BALLOTS - len(web)])
        paper_voters = self._load(offline[len(in_person):])
        vote_days = [starts["vote"] + dt.timedelta(days=d) for d in (1, 3, 6, 9, 13, 17)]
        for n, day in enumerate(vote_days):
            batch = web[n::len(vote_days)]
            if batch:
                at = self.when(day + dt.timedelta(hours=11))
                cast_many(vote=vote, items=[BulkBallot(resident=r, choices=basket(), channel="web") for r in batch],
                          actor=None, at=at)
                result.fund_ballots["web"] += len(batch)
            items = []
            for r in in_person[n::len(vote_days)]:
                if rng.random() < 0.08:
                    items.append(BulkBallot(resident=r, choices=basket(), channel="proxy",
                                            proxy_reason="行动不便，委托网格员入户代为登记"))
                else:
                    items.append(BulkBallot(resident=r, choices=basket(), channel="booth", booth=booths[n % 2]))
            if items:
                at = self.when(day + dt.timedelta(hours=15))
                cast_many(vote=vote, items=items, actor=self.worker, at=at)
                result.fund_ballots.update(i.channel for i in items)
        # Paper: sheets printed for the courtyard booth, handed out, typed in twice.
        self.when(starts["vote"] + dt.timedelta(hours=2))
        codes = paper.issue_codes(actor=self.worker, vote=vote, booth=booths[1], count=FUND_PAPER + 4)
        for n, r in enumerate(paper_voters):
            self.when(vote_days[n % len(vote_days)] + dt.timedelta(hours=10))
            mark_paper(vote=vote, resident=r, actor=self.worker, booth=booths[1])
        self.when(starts["selection"] - dt.timedelta(hours=20))
        for n, code in enumerate(codes[: len(paper_voters)]):
            sheet = None if n == 0 else basket()  # one sheet handed in blank
            paper.enter_sheet(actor=self.worker, vote=vote, code=code, choices=sheet)
            paper.enter_sheet(actor=self.admin, vote=vote, code=code, choices=sheet)
            if sheet is not None:
                result.fund_ballots["paper"] += 1
        for code in codes[len(paper_voters):]:
            paper.spoil_code(actor=self.worker, vote=vote, code=code, reason="未发出，作废")
        # Selection.
        call.refresh_from_db()
        with self.publishing():
            call = funds.select(actor=self.admin, call=call)
        result.fund_selected = list(call.selected)
        # Two selected projects start.
        started = [p for p in Project.objects.filter(call=call, state=Project.State.SELECTED).order_by("-votes", "pk")][:2]
        moment = begun
        for k, p in enumerate(started):
            moment += dt.timedelta(seconds=30)
            self.clock.at = moment
            p = funds.project_start(actor=self.admin, project=p)
            for title, progress, note in MILESTONES[: 2 - k]:
                moment += dt.timedelta(seconds=30)
                self.clock.at = moment
                funds.milestone_record(actor=self.worker, project=p, title=title, date=timezone.localdate(moment),
                                       progress=progress, note=note)
            moment = self.money(p, moment)
        for state, n in Counter(Project.objects.filter(call=call).values_list("state", flat=True)).items():
            result.projects[state] += n

    def open_day(self) -> dt.date:
        """The first day of the books' months still open (the months before are closed)."""
        day = self.today - dt.timedelta(days=40)
        while day < self.today and books.is_closed(self.community, day):
            day += dt.timedelta(days=1)
        return day

    def receive(self, amount: int, year: int) -> None:
        """The street's transfer for the residents' projects, booked into the fund's pool
        (3102.00) in the books' open month: a call may budget only what the pool holds."""
        day = self.open_day()
        self.when(_step(day, 9))
        pool = Account.objects.get(community=self.community, code="3102.00")
        bank = Account.objects.get(community=self.community, code="1002")
        voucher = books.voucher_create(
            actor=self.worker, community=self.community, date=day,
            summary=f"街道拨付{year}年度社区保障资金（居民投票项目）",
            lines=[books.LineInput(account=bank, debit=amount, credit=0, summary="街道拨款到账"),
                   books.LineInput(account=pool, debit=0, credit=amount, summary="待按居民投票结果分配")])
        self.when(_step(day, 15))
        self._post(voucher)

    def money(self, project: Project, moment: dt.datetime) -> dt.datetime:
        """The allocation from the fund and the first payment, the day the work starts."""
        day = timezone.localdate(moment)
        pool = Account.objects.get(community=self.community, code="3102.00")
        project.refresh_from_db()
        allocation = books.voucher_create(
            actor=self.worker, community=self.community, date=day, summary=f"社区保障资金拨付：{project.title}",
            lines=[books.LineInput(account=pool, debit=project.cost_fen, credit=0, summary="按居民投票结果拨付"),
                   books.LineInput(account=project.account, debit=0, credit=project.cost_fen, summary=project.title)])
        self._post(allocation)
        voucher = funds.spending_record(actor=self.worker, project=project, date=day,
                                        summary=f"{project.title}：首期款（开工预付）", amount_fen=project.cost_fen * 30 // 100)
        self._post(voucher)
        return moment + dt.timedelta(seconds=30)

    def _post(self, voucher) -> None:
        """Submitted by the worker, approved (posted) by the admin: the books' second person."""
        voucher = books.voucher_submit(actor=self.worker, voucher=voucher)
        books.voucher_approve(actor=self.admin, voucher=voucher)

    def _adults(self, cutoff_year: int) -> list[tuple[int, int, int | None]]:
        """(resident, household, account) of the residents born before ``cutoff_year``."""
        return list(Resident.objects.filter(community=self.community, birth_year__lt=cutoff_year)
                    .order_by("pk").values_list("pk", "household_id", "user_id"))

    def _load(self, pks) -> list[Resident]:
        """The residents, in the order given, with what casting reads."""
        found = Resident.objects.filter(pk__in=list(pks)).select_related("household", "user").in_bulk()
        return [found[pk] for pk in pks]

    # -- last year's 民主评议 ----------------------------------------------------------------------

    def evaluation(self) -> None:
        rng, result, today = self.rng, self.result, self.today
        held = today.year if today >= dt.date(today.year, 3, 10) else today.year - 1
        year = held - 1
        prep = _step(dt.date(held, 1, 6), 9)
        voting_starts, results_starts = _step(dt.date(held, 1, 12), 8), _step(dt.date(held, 1, 26), 8)
        response_starts, ends_at = _step(dt.date(held, 2, 9), 8), _step(dt.date(held, 3, 1), 0)
        self.when(prep)
        ev = evaluation_services.evaluation_create(
            actor=self.admin, community=self.community, year=year, preparation_starts=prep,
            voting_starts=voting_starts, results_starts=results_starts, response_starts=response_starts,
            ends_at=ends_at)
        result.evaluation_year = year
        at = self.when(prep + dt.timedelta(hours=1))
        evaluation_services.defaults_install(actor=self.admin, evaluation=ev, at=at)
        at = self.when(prep + dt.timedelta(days=1))
        ev = evaluation_services.ballot_prepare(actor=self.admin, evaluation=ev, at=at)
        vote = ev.vote
        criteria = eval_selectors.criteria(ev)
        # What each courtyard's households rate: the committee and the posts of the whole
        # community, and their own courtyard's grid worker and branch (and the retirees' branch).
        grids = list(self.grids.values())
        common, local = [], {g.pk: [] for g in grids}
        for c in criteria:
            own = [g.pk for g in grids if g.name in c.target.label]
            if own and c.target.kind != "committee":
                for pk in own:
                    local[pk].append(c)
            else:
                common.append(c)
        # How residents feel about each criterion: mostly content, a few criteria less so.
        mood = {}
        for c in criteria:
            low = rng.random() < 0.12
            mood[c.pk] = (0.45, 0.27, 0.28) if low else (rng.uniform(0.55, 0.75), 0.2, rng.uniform(0.03, 0.1))
        options: dict[int, dict[str, int]] = {}
        for question, ref, pk in Option.objects.filter(question__vote=vote).values_list("question_id", "ref", "pk"):
            options.setdefault(question, {})[ref] = pk
        rated_by_option = {c.pk: options[c.question_id] for c in criteria}

        def ballot(grid_id: int, elder: bool) -> dict:
            choices = {}
            rows = common + local.get(grid_id, [])
            for c in rows:
                if c.target.kind == "branch" and not (grid_id and c in local.get(grid_id, [])) and not elder:
                    continue
                if rng.random() < 0.06:
                    continue  # left unrated: cannot judge it
                s, b, u = mood[c.pk]
                ref = rng.choices(("satisfied", "basic", "unsatisfied"), weights=(s, b, u))[0]
                choices[str(c.question_id)] = rated_by_option[c.pk][ref]
            if not choices:
                c = rows[0]
                choices[str(c.question_id)] = rated_by_option[c.pk]["satisfied"]
            return choices

        households: dict[int, int] = {}
        for pk, household, _user in self._adults(year - 17):
            households.setdefault(household, pk)
        heads = list(households.values())
        rng.shuffle(heads)
        n = min(EVALUATION_MAX, max(20, round(len(heads) * EVALUATION_TURNOUT)))
        voters = self._load(heads[:n])
        paper_voters = self._load(heads[n: n + min(EVALUATION_PAPER, max(0, len(heads) - n))])
        days = [voting_starts + dt.timedelta(days=d) for d in (1, 5, 10)]
        booth = paper.booth_create(actor=self.worker, vote=vote, name="服务中心评议点", place="社区党群服务中心一楼")
        for k, day in enumerate(days):
            web, desk = [], []
            for r in voters[k::len(days)]:
                choices = ballot(r.grid_id, r.birth_year <= year - 60)
                if r.user_id is not None:
                    web.append(BulkBallot(resident=r, choices=choices, channel="web"))
                elif rng.random() < 0.05:
                    desk.append(BulkBallot(resident=r, choices=choices, channel="proxy",
                                           proxy_reason="高龄卧床，网格员入户代为登记"))
                else:
                    desk.append(BulkBallot(resident=r, choices=choices, channel="booth", booth=booth))
            if web:
                cast_many(vote=vote, items=web, actor=None, at=self.when(day + dt.timedelta(hours=12)))
            if desk:
                cast_many(vote=vote, items=desk, actor=self.worker, at=self.when(day + dt.timedelta(hours=15)))
        if paper_voters:
            self.when(voting_starts - dt.timedelta(hours=20))
            sheets = []
            by_grid: dict[int, list[Resident]] = {}
            for r in paper_voters:
                by_grid.setdefault(r.grid_id, []).append(r)
            for r in paper_voters:
                self.when(days[len(sheets) % len(days)] + dt.timedelta(hours=10))
                mark_paper(vote=vote, resident=r, actor=self.worker, booth=booth)
                sheets.append(r)
            self.when(voting_starts + dt.timedelta(hours=1))
            codes = paper.issue_codes(actor=self.worker, vote=vote, booth=booth, count=len(sheets))
            self.when(results_starts - dt.timedelta(hours=6))
            for code, r in zip(codes, sheets):
                choices = ballot(r.grid_id, r.birth_year <= year - 60)
                paper.enter_sheet(actor=self.worker, vote=vote, code=code, choices=choices, grid=r.grid_id)
                paper.enter_sheet(actor=self.admin, vote=vote, code=code, choices=choices, grid=r.grid_id)
        at = self.when(results_starts + dt.timedelta(hours=2))
        ev = evaluation_services.count(actor=self.admin, evaluation=ev, at=at)
        for k, c in enumerate(eval_selectors.missing_responses(ev)):
            at = self.when(results_starts + dt.timedelta(days=3 + k % 5, hours=k // 5))
            evaluation_services.respond(actor=self.admin, evaluation=ev, criterion=c,
                                        text=RATING_RESPONSES[k % len(RATING_RESPONSES)], at=at)
            result.responses += 1
        at = self.when(response_starts + dt.timedelta(hours=3))
        with self.publishing():
            ev = evaluation_services.publish(actor=self.admin, evaluation=ev, at=at)
        result.evaluation_ballots = Ballot.objects.filter(vote=vote).count()
        result.evaluation_households = Participation.objects.filter(vote=vote).count()


# ----------------------------------------------------------------------------------------------


def _cosign_latest(community: Community) -> None:
    """The street's witness cosigns the log's latest checkpoint (its key, made by the board's
    seeding, is in the data dir); nothing when the witness is not set up."""
    path = witness_key_file()
    if not path.exists():
        return
    signer = street_witness.witness_signer(path)
    checkpoint = log_selectors.latest_checkpoint(community)
    if checkpoint is None:
        return
    note = signednote.open_note(checkpoint.note.encode("utf-8"), [keys.verifier()])
    line = signednote.cosign(note.text, signer, timestamp=int(time.time())).line()
    cosign.accept_cosignature(community=community, line=line, size=checkpoint.size)


def seed_decide(*, community: Community, seed: int, today: dt.date | None = None) -> DecideResult:
    """The demo's year of residents deciding (see the module's docstring), in the installation's
    language. Raises what the services raise; the caller's transaction keeps it whole."""
    today = today or timezone.localdate()
    result = DecideResult()
    with translation.override(settings.LANGUAGE_CODE), replay_clock() as clock:
        timeline = _Decide(community, seed, clock, today, result)
        for name, part in (("accounts", timeline.accounts), ("evaluation", timeline.evaluation),
                           ("deliberation", timeline.deliberation), ("fund", timeline.fund)):
            started = time.perf_counter()
            part()
            result.seconds[name] = round(time.perf_counter() - started, 2)
        clock.at = None
    _cosign_latest(community)
    return result


def summary_lines(result: DecideResult) -> list[str]:
    """What `linli seed-demo` says about the year of residents deciding."""
    s = result.seconds
    d = result.decisions
    lines = [_(
        "Monthly deliberation: %(rounds)d months, %(proposals)d proposals, %(supports)d supports, %(comments)d "
        "comments (%(hidden)d hidden by moderation), %(meetings)d council meetings; decisions: %(done)d done, "
        "%(executing)d being carried out (%(overdue)d overdue), %(adopted)d adopted without tasks yet, "
        "%(rejected)d rejected; %(evaluations)d evaluations, %(summaries)d summaries published; in %(s).1f s."
    ) % {"rounds": result.rounds, "proposals": result.proposals, "supports": result.supports,
         "comments": result.comments, "hidden": result.hidden, "meetings": result.meetings,
         "done": d.get("done", 0), "executing": d.get("executing", 0), "overdue": result.overdue,
         "adopted": d.get("adopted", 0), "rejected": d.get("rejected", 0), "evaluations": result.evaluations,
         "summaries": result.summaries, "s": s.get("deliberation", 0.0)}]
    b = result.fund_ballots
    p = result.projects
    lines.append(_(
        "Community fund: call #%(call)s with %(projects)d projects (%(ineligible)d not eligible), %(ballots)d "
        "ballots (online %(web)d, booth %(booth)d, proxy %(proxy)d, paper %(paper)d), %(selected)d selected by "
        "equal shares, %(implementing)d being carried out; in %(s).1f s."
    ) % {"call": result.call_id, "projects": sum(p.values()), "ineligible": p.get("ineligible", 0),
         "ballots": sum(b.values()), "web": b.get("web", 0), "booth": b.get("booth", 0), "proxy": b.get("proxy", 0),
         "paper": b.get("paper", 0), "selected": len(result.fund_selected),
         "implementing": p.get("implementing", 0), "s": s.get("fund", 0.0)})
    lines.append(_(
        "Democratic evaluation %(year)s: %(ballots)d ballots from %(households)d households, %(responses)d "
        "responses to criteria under 80%%, published; in %(s).1f s."
    ) % {"year": result.evaluation_year, "ballots": result.evaluation_ballots,
         "households": result.evaluation_households, "responses": result.responses, "s": s.get("evaluation", 0.0)})
    lines.append(_("Residents' accounts for taking part online: %(n)d (no password; authors of the history), "
                   "in %(s).1f s.") % {"n": result.accounts, "s": s.get("accounts", 0.0)})
    return lines


__all__ = ["seed_decide", "summary_lines", "DecideResult"]
