"""The demo's books: a year of Y社区's public money, through linli.books' own services.

:func:`plan_books` installs the chart and the fund's projects and plans, for the demo community, the twelve complete months before the
current one (the last year of the case history): the balances brought forward, every month's
vouchers — public revenue from shared
parts (advertising, parking), the street's working allocation, the community fund
(社区保障资金, about ¥200,000 a year, given to projects and spent by them), donations, and the
expense heads (activities, the elders' meals subsidy, repairs, office, volunteers' insurance,
bank charges) — and the budgets of each year the window touches. The steps are run by
:mod:`linli.demo.disclosure` on the board's timeline, each at its day: a month's vouchers are
posted (:meth:`DemoBooks.post_month`, through :func:`linli.books.services.post_vouchers`, the bulk
path: the same checks, numbers and events as one by one, prepared by the office worker and
approved by the community admin) and the month closed (结账) a few days after it ends; one
voucher booked to the wrong head is found after its month's statement was published, so the
admin reopens the month, the worker reverses it in red ink (红字冲销) and enters it again, and
the month is closed again (:meth:`DemoBooks.fix_wrong_voucher`); one voucher of the current
month waits for approval (:meth:`DemoBooks.leave_one_waiting`). Each month's largest payment to a
contractor, the re-entered voucher and the waiting one carry a scanned invoice
(:meth:`DemoBooks.receipt`, made by :mod:`linli.demo.files`), added with
:func:`linli.books.services.attachment_add` before approval. Amounts are integer fen drawn from ``random.Random`` seeded by the demo seed, so a
seed gives the same books.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time

from django.contrib.auth import get_user_model
from django.utils import timezone

from linli.books import chart, services
from linli.books.models import Voucher
from linli.books.services import LineInput, VoucherInput
from linli.community.models import Community

from . import files

# The fund's projects this year (name, share of the year's fund in percent).
FUND_PROJECTS = (
    ("老旧院落微更新", 34),
    ("长者助餐与上门探访", 22),
    ("儿童托管与四点半课堂", 16),
    ("邻里文化活动", 14),
    ("应急物资储备与演练", 14),
)

BANK, CASH, NET = "1002", "1001", chart.SURPLUS_CODE
POOL = chart.FUND_POOL_CODE
DONATIONS, GOVERNMENT, SHARED, OTHER_REVENUE = "4101", "4401", "4501", "4901"
ACTIVITIES, ELDERS, REPAIRS, OFFICE, OTHER = "5101", "5102", "5103", "5201", "5901"

ACTIVITIES_BY_MONTH = {
    1: ("元旦迎新游园会", "写春联送福字"), 2: ("元宵节猜灯谜", "春节走访困难家庭慰问品"),
    3: ("学雷锋志愿服务日", "三八妇女节插花活动"), 4: ("清明文明祭扫宣传", "春季趣味运动会"),
    5: ("母亲节亲子手作", "防灾减灾宣传周"), 6: ("端午包粽子活动", "六一儿童节游园"),
    7: ("暑期青少年夏令营", "建党节主题活动"), 8: ("暑期安全课堂", "七夕邻里故事会"),
    9: ("中秋邻里宴", "开学季文具捐赠"), 10: ("重阳节敬老宴", "国庆文艺汇演"),
    11: ("消防安全演练", "冬季健康讲座"), 12: ("冬至包饺子活动", "年终志愿者表彰会"),
}
REPAIRS_LIST = (
    "3号院化粪池疏通", "5号院单元门禁维修", "1号院路灯更换", "7号院雨棚加固", "2号院下水管道更换",
    "9号院围墙修补", "公共楼道扶手维修", "活动室空调维修",
)
FUND_WORKS = {
    0: ("院落路面修补", "楼道照明改造", "休闲座椅更换", "晾晒区改造"),
    1: ("长者助餐点食材补贴", "高龄独居老人上门探访", "助餐点餐具添置"),
    2: ("四点半课堂志愿教师补贴", "托管教室图书添置", "暑期托管耗材"),
    3: ("社区合唱队排练场地", "邻里节物料", "书画展布展"),
    4: ("应急物资采购", "防汛沙袋与雨具", "应急演练物料"),
}
DONORS = ("辖区爱心企业", "居民自发募捐", "共建单位", "社会组织")


WRONG_SUMMARY = "活动室门窗维修费"
BUDGETS = {GOVERNMENT: 126_000_00, SHARED: 125_000_00, DONATIONS: 20_000_00, OTHER_REVENUE: 600_00,
           ACTIVITIES: 62_000_00, ELDERS: 66_000_00, REPAIRS: 28_000_00, OFFICE: 15_000_00, OTHER: 4_800_00}


def demo_months(today: dt.date | None = None) -> list[tuple[int, int]]:
    """The twelve complete months before ``today``'s month, oldest first."""
    today = today or timezone.localdate()
    m0 = today.year * 12 + today.month - 1
    return [((m0 - k) // 12, (m0 - k) % 12 + 1) for k in range(12, 0, -1)]


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _day(rng: random.Random, year: int, month: int, lo: int = 1, hi: int = 28) -> dt.date:
    return dt.date(year, month, rng.randint(lo, min(hi, month_end(year, month).day)))


def _yuan(rng: random.Random, lo: int, hi: int, step: int = 100) -> int:
    """A round amount in fen between lo and hi yuan (``step`` fen: 100 = whole yuan)."""
    return rng.randrange(lo * 100, hi * 100 + 1, step)


def staff(username: str):
    return get_user_model().objects.get(username=username)


def _timed(fn):
    """Adds the step's time to the books' ``seconds``."""
    @functools.wraps(fn)
    def run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(self, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
    return run


class DemoBooks:
    """The demo's year of books, planned at once and written step by step (see the module)."""

    def __init__(self, *, community: Community, seed: int, today: dt.date | None = None):
        self.community = community
        self.rng = random.Random(f"linli-demo-books-{seed}")
        self.today = today or timezone.localdate()
        self.months = demo_months(self.today)
        self.first = dt.date(*self.months[0], 1)
        self.last = month_end(*self.months[-1])
        self.worker, self.admin = staff("worker"), staff("admin")
        self.vouchers = 0          # posted, reversal and re-entry included
        self.budgets = 0
        self.closed = 0
        self.wrong: Voucher | None = None
        self.reversal: Voucher | None = None
        self.waiting: Voucher | None = None
        self.receipts = 0          # vouchers entered with a scanned invoice
        self.seed = seed
        self.seconds = 0.0
        started = time.perf_counter()
        services.install_chart(actor=None, community=community)
        self.projects = [services.fund_project_create(actor=None, community=community, name=name)
                         for name, _share in FUND_PROJECTS]
        self.acc = services.accounts_by_code(community)
        self.project_codes = {p.code for p in self.projects}
        self.by_month: dict[tuple[int, int], list[VoucherInput]] = {m: [] for m in self.months}
        self._plan()
        self.seconds += time.perf_counter() - started

    # -- the plan --------------------------------------------------------------------------------

    def _v(self, date, summary, *lines) -> None:
        self.by_month[(date.year, date.month)].append(VoucherInput(date=date, summary=summary, lines=tuple(
            LineInput(account=self.acc[code], debit=d, credit=c, summary=s) for code, d, c, s in lines)))

    def _plan(self) -> None:
        rng, v, months, first = self.rng, self._v, self.months, self.first
        # Balances brought forward from the paper books, on the first day.
        bank0, cash0 = _yuan(rng, 150_000, 190_000, 1), _yuan(rng, 3_000, 5_000)
        v(first, "上期账簿余额结转（纸质账簿转入）", (BANK, bank0, 0, "银行存款期初余额"),
          (CASH, cash0, 0, "库存现金期初余额"), (NET, 0, bank0 + cash0, "非限定性净资产期初余额"))
        self.fund_year = _yuan(rng, 190_000, 210_000, 100_00)
        tranches = {months[1]: self.fund_year // 2, months[7]: self.fund_year - self.fund_year // 2}
        self.fund_given: list[tuple[tuple[int, int], int]] = []
        balance = [0] * len(self.projects)
        repairs = 0
        for mi, (year, month) in enumerate(months):
            # Public revenue from shared parts: advertising in the lifts, parking fees.
            ads, parking = _yuan(rng, 2_400, 3_600), _yuan(rng, 6_200, 9_400)
            v(_day(rng, year, month, 3, 8), f"{month}月电梯广告位公共收益",
              (BANK, ads, 0, "广告公司转入"), (SHARED, 0, ads, "电梯广告"))
            v(_day(rng, year, month, 5, 12), f"{month}月公共车位停车收益",
              (BANK, parking, 0, "物业公司代收转入"), (SHARED, 0, parking, "停车收益"))
            # The street's working allocation, each quarter's first month.
            if month in (1, 4, 7, 10):
                grant = _yuan(rng, 28_000, 34_000, 1000_00)
                v(_day(rng, year, month, 8, 15), f"街道拨付第{(month - 1) // 3 + 1}季度社区工作经费",
                  (BANK, grant, 0, "财政拨款"), (GOVERNMENT, 0, grant, "社区工作经费"))
            # The community fund: two tranches, given to the projects as the council decided.
            if (year, month) in tranches:
                amount = tranches[(year, month)]
                day = _day(rng, year, month, 10, 20)
                v(day, "收到社区保障资金（分批拨付）", (BANK, amount, 0, "财政拨款"),
                  (POOL, 0, amount, "社区保障资金待分配"))
                shares = [amount * share // 100 for _n, share in FUND_PROJECTS]
                shares[0] += amount - sum(shares)
                lines = [(POOL, amount, 0, "按居民议事会决议分配")]
                for i, share in enumerate(shares):
                    lines.append((self.projects[i].code, 0, share, FUND_PROJECTS[i][0]))
                    balance[i] += share
                v(day + dt.timedelta(days=3), "社区保障资金按项目分配", *lines)
                self.fund_given.append(((year, month), amount))
            # The projects spend, one or two payments a month once the money is there.
            if mi >= 2:
                for _k in range(rng.choice((1, 2, 2))):
                    i = rng.randrange(len(self.projects))
                    spend = min(balance[i], _yuan(rng, 3_000, 16_000))
                    if spend <= 0:
                        continue
                    balance[i] -= spend
                    work = rng.choice(FUND_WORKS[i])
                    v(_day(rng, year, month, 10, 28), f"{FUND_PROJECTS[i][0]}：{work}",
                      (self.projects[i].code, spend, 0, work), (BANK, 0, spend, "对公转账"))
            # The elders' meals subsidy, monthly.
            meals = _yuan(rng, 4_200, 6_400)
            v(_day(rng, year, month, 20, 28), f"{month}月长者助餐补贴",
              (ELDERS, meals, 0, "助餐点结算"), (BANK, 0, meals, "对公转账"))
            # Two activities a month; the small second one paid from petty cash.
            for n, name in enumerate(ACTIVITIES_BY_MONTH[month]):
                cost = _yuan(rng, 600, 4_800)
                pay = (CASH, 0, cost, "现金支付") if n == 1 and cost < 1_500_00 else (BANK, 0, cost, "对公转账")
                v(_day(rng, year, month), f"{name}活动物资及场地", (ACTIVITIES, cost, 0, name), pay)
            office = _yuan(rng, 700, 1_600)
            v(_day(rng, year, month, 15, 25), f"{month}月办公用品及打印",
              (OFFICE, office, 0, "办公用品"), (BANK, 0, office, "对公转账"))
            fee = rng.randrange(1_500, 4_500)
            v(month_end(year, month), f"{month}月银行账户管理费", (OTHER, fee, 0, "银行手续费"),
              (BANK, 0, fee, "银行扣收"))
            if month in (3, 7, 11):
                draw = _yuan(rng, 2_000, 3_000, 1000_00)
                v(_day(rng, year, month, 1, 5), "提取备用金", (CASH, draw, 0, "备用金"), (BANK, 0, draw, "现金支票"))
            if mi % 3 == 1:
                repair = _yuan(rng, 1_800, 9_500)
                name = REPAIRS_LIST[(mi // 3 + repairs) % len(REPAIRS_LIST)]
                repairs += 1
                v(_day(rng, year, month), f"{name}维修费", (REPAIRS, repair, 0, name), (BANK, 0, repair, "对公转账"))
            if mi in (1, 5, 10):
                gift = _yuan(rng, 2_000, 12_000, 500_00)
                v(_day(rng, year, month), f"{DONORS[mi % len(DONORS)]}定向捐赠",
                  (BANK, gift, 0, "捐赠款"), (DONATIONS, 0, gift, "用于困难家庭帮扶"))
            if mi == 3:
                insurance = _yuan(rng, 3_000, 4_200)
                v(_day(rng, year, month), "社区志愿者意外伤害保险（全年）",
                  (OTHER, insurance, 0, "志愿者保险"), (BANK, 0, insurance, "对公转账"))
            if month in (3, 6, 9, 12):
                interest = rng.randrange(8_000, 26_000)
                v(dt.date(year, month, 21), "银行存款利息", (BANK, interest, 0, "结息"),
                  (OTHER_REVENUE, 0, interest, "利息收入"))
        # One voucher booked to the wrong head: a repair entered as office expenses (found later).
        self.wrong_month = months[4]
        self.wrong_amount = _yuan(rng, 2_200, 4_800)
        self.wrong_day = _day(rng, *self.wrong_month, 3, 12)
        v(self.wrong_day, WRONG_SUMMARY, (OFFICE, self.wrong_amount, 0, "门窗维修"),
          (BANK, 0, self.wrong_amount, "对公转账"))

    # -- the steps -------------------------------------------------------------------------------

    @_timed
    def set_budgets(self, year: int) -> None:
        """The year's budget of every revenue and expense head; the first year's for the months
        from the window's start (the books moved to Linli then)."""
        n = 13 - self.first.month if year == self.first.year else 12
        for code, amount in BUDGETS.items():
            services.budget_set(actor=self.admin, community=self.community, year=year, account=self.acc[code],
                                amount=amount * n // 12 // 100 * 100)
            self.budgets += 1

    def budget_lines(self, year: int) -> list[tuple[str, str, int]]:
        """(code, name, amount in fen) of the year's budgets, for the board's annual budget entry."""
        from linli.books.models import Budget

        return [(b.account.code, b.account.name, b.amount) for b in
                Budget.objects.filter(community=self.community, year=year).select_related("account")
                .order_by("account__code")]

    def _contractor(self, v: VoucherInput) -> int:
        """What a voucher pays a contractor (repairs, the fund's projects), in fen; 0 for others."""
        return sum(line.debit for line in v.lines
                   if line.account.code == REPAIRS or line.account.code in self.project_codes)

    def receipt(self, v: VoucherInput) -> tuple[str, bytes]:
        """The scanned invoice of a voucher: a one-page PDF or a photo of the till receipt, in ASCII
        figures (drawn from the seed and the voucher, so a seed gives the same bytes)."""
        rng = random.Random(f"{self.seed}-receipt-{v.date.isoformat()}-{v.summary}")
        amount = sum(line.debit for line in v.lines)
        number = f"{rng.randrange(10**7, 10**8)}"
        code = next(line.account.code for line in v.lines if line.debit)
        if rng.random() < 0.5:
            return "invoice.pdf", files.pdf(
                [f"Invoice number   {number}", f"Date             {v.date.isoformat()}",
                 f"Payer            {self.community.code}", f"Account          {code}", "",
                 f"Amount (CNY)     {amount // 100:,}.{amount % 100:02d}", "", "Paid by bank transfer."],
                title="VAT invoice (scan)")
        return "receipt.jpg", files.receipt_photo(rng, number=number, date=v.date.isoformat(), amount_fen=amount,
                                                  code=code)

    def _post_one_with_receipt(self, v: VoucherInput) -> Voucher:
        voucher = services.voucher_create(actor=self.worker, community=self.community, date=v.date,
                                          summary=v.summary, lines=list(v.lines))
        name, content = self.receipt(v)
        services.attachment_add(actor=self.worker, voucher=voucher, name=name, content=content)
        services.voucher_submit(actor=self.worker, voucher=voucher)
        self.receipts += 1
        return services.voucher_approve(actor=self.admin, voucher=voucher)

    @_timed
    def post_month(self, year: int, month: int) -> list[Voucher]:
        """The month's vouchers, prepared by the worker and approved by the admin, in date order:
        the month's largest payment to a contractor one by one (created, its scanned invoice added
        with :func:`linli.books.services.attachment_add`, submitted, approved: a posted voucher's
        receipts are fixed, and the bulk path takes none), the runs before and after it in one
        call of the bulk path each, so the numbers still follow the dates."""
        posted: list[Voucher] = []
        run: list[VoucherInput] = []
        planned = self.by_month[(year, month)]
        # The month's largest payment to a contractor is entered with its invoice.
        largest = max(planned, key=self._contractor, default=None)
        with_receipt = largest if largest is not None and self._contractor(largest) else None

        def flush():
            if run:
                posted.extend(services.post_vouchers(community=self.community, vouchers=run,
                                                     preparer=self.worker, approver=self.admin))
                run.clear()
        for v in sorted(planned, key=lambda v: v.date):
            if v is with_receipt:
                flush()
                posted.append(self._post_one_with_receipt(v))
            else:
                run.append(v)
        flush()
        self.vouchers += len(posted)
        if (year, month) == self.wrong_month:
            self.wrong = next(p for p in posted if p.summary == WRONG_SUMMARY)
        return posted

    @_timed
    def close_month(self, year: int, month: int) -> None:
        services.month_close(actor=self.admin, community=self.community, year=year, month=month)
        self.closed += 1

    @_timed
    def fix_wrong_voucher(self) -> Voucher:
        """Reopen the wrong voucher's month, reverse it, enter it again under repairs, close it."""
        year, month = self.wrong_month
        services.month_reopen(actor=self.admin, community=self.community, year=year, month=month)
        fix_day = min(self.wrong_day + dt.timedelta(days=9), month_end(year, month))
        reversal = services.voucher_reverse(actor=self.worker, voucher=self.wrong, date=fix_day)
        self.reversal = services.voucher_approve(actor=self.admin, voucher=reversal)
        again = services.voucher_create(
            actor=self.worker, community=self.community, date=fix_day, summary=f"{WRONG_SUMMARY}（更正科目）",
            lines=[LineInput(account=self.acc[REPAIRS], debit=self.wrong_amount, summary="门窗维修"),
                   LineInput(account=self.acc[BANK], credit=self.wrong_amount, summary="对公转账")])
        name, content = self.receipt(VoucherInput(date=fix_day, summary=again.summary, lines=(
            LineInput(account=self.acc[REPAIRS], debit=self.wrong_amount),)))
        services.attachment_add(actor=self.worker, voucher=again, name=name, content=content)
        self.receipts += 1
        services.voucher_submit(actor=self.worker, voucher=again)
        services.voucher_approve(actor=self.admin, voucher=again)
        self.vouchers += 2
        services.month_close(actor=self.admin, community=self.community, year=year, month=month)
        return self.reversal

    @_timed
    def leave_one_waiting(self) -> Voucher:
        """This month's voucher, prepared and submitted, waiting for the admin's approval."""
        amount = _yuan(self.rng, 2_000, 3_500)
        day = max(self.today - dt.timedelta(days=1), self.today.replace(day=1))
        voucher = services.voucher_create(
            actor=self.worker, community=self.community, date=day, summary="困难家庭慰问品采购",
            lines=[LineInput(account=self.acc[ACTIVITIES], debit=amount, summary="慰问品"),
                   LineInput(account=self.acc[BANK], credit=amount, summary="对公转账")])
        name, content = self.receipt(VoucherInput(date=day, summary=voucher.summary, lines=(
            LineInput(account=self.acc[ACTIVITIES], debit=amount),)))
        services.attachment_add(actor=self.worker, voucher=voucher, name=name, content=content)
        self.receipts += 1
        self.waiting = services.voucher_submit(actor=self.worker, voucher=voucher)
        return self.waiting
