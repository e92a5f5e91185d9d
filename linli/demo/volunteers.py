"""The demo's two years of neighbours helping (issue 11): volunteers, the needs board, service
hours and the 睦邻积分 ledger.

:func:`seed_volunteers` writes, for the demo community and deterministic from the demo seed:

- **the points' setup** through linli.points' services: the earning rules and multipliers, the
  canteen and the barber (and a shop) as partners with a counter key each, their catalogue;
- **about one resident in 55 as a volunteer** (adults, a few minors with a guardian of their
  household who consented), with skills and half-days, in the four teams (党员先锋队 — party
  members first —, 楼栋长, 青年志愿队, 老年互助队), each with leaders; the ``resident`` sign-in
  is one of them;
- **the needs board**: needs proposed from the confirmed need tags (``needs_from_tags``), posted
  by residents and staff, handed over from cases; some planned, some closed, one declined;
- **two years of activities** up to two weeks ago, written in bulk (``linli.core.bulk``): weekly
  visits to elders living alone, escorts to the clinic, meal deliveries, cleanups, night patrols,
  homework help and events, with their sign-ups, check-ins by QR and some marked by hand, a few
  forgotten check-outs closed automatically, approvals by a worker other than the volunteer (a
  few rejected with a reason), a grant per approved record computed by the rules and capped by the
  policy (``points.ledger.post_bulk``: the database's triggers check every sum and move the
  balances), a few ratings; every move checked against the ``service_record`` and ``need``
  workflows and its event made by their factory; redemptions of meals and haircuts at the
  counter with the partner's key and online (also through ``post_bulk``);
- **the last two weeks through the real services**, at their moments (the replay clock):
  activities created, sign-ups, check-in and check-out by the rotating QR code, approvals;
  redemptions at the counter and online, gifts; records still waiting for approval; then the
  activities of the coming two weeks with free slots; expiry run once; the last months'
  summaries published on the board.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.cases.models import Case
from linli.community.models import Community, Grid, Household, HouseholdNeed, Resident, StaffRole
from linli.core import bulk, events
from linli.core.models import Event
from linli.points import catalogue, earning, expiry, gifts, ledger, partners, redeem
from linli.points.models import Account, Posting, Redemption, Transaction
from linli.volunteers import activities, hours, openness, qr, teams
from linli.volunteers import needs as vneeds
from linli.volunteers.activities import ACTIVITY
from linli.volunteers.models import Activity, Membership, Need, Rating, ServiceRecord, Signup, Volunteer
from linli.volunteers.skills import DAY_CODES, SKILL_CODES
from linli.volunteers.workflow import NEED
from linli.volunteers.workflow_hours import SERVICE_RECORD

from .books import staff
from .decide import _cosign_latest
from .disclosure import replay_clock

SHARE = 55                   # one resident in this many volunteers
MIN_VOLUNTEERS = 24
MINOR_SHARE = 0.03           # of the volunteers: 14–17, with a guardian's consent
HISTORY_DAYS = 750         # a little over two years: the oldest unspent points have expired
LIVE_DAYS = 7                # the last days written through the services
COMING_DAYS = 14
GRACE = dt.timedelta(minutes=30)
RESIDENT_MIN_BALANCE = 50

HALF_DAYS = [f"{day}_{half}" for day in DAY_CODES for half in ("am", "pm")]

# activity type → (title, place, weekday (None: any workday), start hour:minute, minutes, (min, max) helpers,
#                  slots, skills, multipliers)
KINDS = {
    "visit": ("探访独居老人", "老人家中", None, (10, 0), 60, (1, 2), 2, ["visiting"], []),
    "escort": ("陪同老人到社区卫生服务中心就诊", "社区卫生服务中心", None, (8, 30), 180, (1, 1), 1, ["escort"], []),
    "meal_delivery": ("长者食堂午餐送餐上门", "社区长者食堂", None, (11, 0), 90, (2, 3), 3, ["cooking"], []),
    "cleanup": ("院落环境整治", "院落", 5, (9, 0), 120, (5, 10), 12, ["cleaning"], ["hard"]),
    "patrol": ("夜间防火安全巡逻", "院落", None, (19, 30), 120, (2, 3), 4, [], ["night"]),
    "tutoring": ("四点半课堂作业辅导", "社区活动室", None, (16, 30), 90, (1, 2), 2, ["tutoring"], []),
    "event": ("邻里文化活动服务", "社区小广场", 5, (14, 0), 180, (4, 8), 10, ["events"], []),
}
# activities a week, per hundred volunteers, by type
WEEKLY = {"visit": 1.3, "escort": 0.22, "meal_delivery": 0.28, "cleanup": 0.08, "patrol": 0.2, "tutoring": 0.22,
          "event": 0.05}
TEAMS = (
    ("vanguard", "党员先锋队", "社区党员带头参与巡逻、环境整治和急难险重任务。"),
    ("building_leaders", "楼栋长志愿队", "各楼栋楼栋长，负责楼栋内的走访和信息传递。"),
    ("youth", "青年志愿队", "年轻居民利用周末和晚上参与作业辅导和活动服务。"),
    ("elders", "老年互助队", "低龄老人结对探访高龄、独居老人，互相照应。"),
)
RESIDENT_NEEDS = (
    ("帮忙更换楼道灯泡", "家里老人腿脚不便，楼道灯坏了够不着，想请志愿者帮忙换一下。", "other"),
    ("孩子放学后需要作业辅导", "父母下班晚，孩子放学后没人辅导作业，希望有志愿者帮忙。", "tutoring"),
    ("请人陪老人去医院复查", "老人下周要去复查，子女在外地，想请志愿者陪同。", "escort"),
    ("教老人用手机挂号", "家里老人想学用手机挂号和缴费，希望有人耐心教一教。", "other"),
)
STAFF_NEEDS = (
    ("汛期前疏通院落排水沟", "雨季前组织志愿者清理院落排水沟里的落叶和杂物。", "cleanup"),
    ("春节前走访慰问困难家庭", "春节前给困难家庭送去慰问品，了解他们的需要。", "visit"),
    ("秋季消防安全宣传", "在各院落张贴消防提示，入户发放宣传资料。", "event"),
)
CASE_NEED = ("独居老人家中需要定期有人看看", "工单转来：老人独自居住，家属希望有人每周上门看看。", "visit")
DECLINE_REASON = "该事项需要专业维修人员上门，已转物业公司处理。"
REJECT_REASONS = ("签到后未实际参加服务，经组织者核实不予确认。", "服务时间与活动记录不符，请与组织者核对后重新登记。")
RATING_COMMENTS = ("志愿者很耐心，谢谢！", "来得很准时，老人很高兴。", "服务很周到。", "")
PARTNERS = (
    ("canteen", "社区长者食堂", (("meal", "lunch", "长者食堂午餐一份", "两荤一素一汤，工作日中午供应。", 10, None),
                                  ("meal", "dumplings", "手工水饺一份", "每周三供应。", 8, None))),
    ("barber", "邻里理发店", (("haircut", "haircut", "理发一次", "洗剪吹，老人优先。", 20, None),)),
    ("shop", "便民超市", (("goods", "rice", "大米五公斤", "凭积分到店领取。", 40, 60),
                          ("goods", "soap", "洗衣皂两块", "凭积分到店领取。", 6, 200))),
)


@dataclass
class VolunteersResult:
    volunteers: int = 0
    minors: int = 0
    teams: int = 0
    members: int = 0
    needs: Counter = field(default_factory=Counter)         # status → needs
    activities: Counter = field(default_factory=Counter)    # status → activities
    signups: int = 0
    records: Counter = field(default_factory=Counter)       # status → service records
    manual: int = 0
    auto_closed: int = 0
    ratings: int = 0
    grants: int = 0
    granted: int = 0
    redemptions: Counter = field(default_factory=Counter)   # channel → redemptions
    settled: int = 0
    gifts: int = 0
    expired: int = 0
    summaries: int = 0
    resident_balance: int = 0
    events: int = 0
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)              # part → seconds
    cpu_seconds: float = 0.0   # this process's CPU time (the wall time counts a busy machine's waits)


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class _Helping:
    """The plan and its writing; one instance per seeding."""

    def __init__(self, community: Community, seed: int, clock, result: VolunteersResult):
        self.community, self.clock, self.result = community, clock, result
        self.rng = random.Random(f"linli-demo-volunteers-{seed}")
        now = timezone.now()
        # History stops before half an hour ago, as the other parts' does.
        self.latest = (now - dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
        self.today = timezone.localdate(self.latest)
        self.start = self.today - dt.timedelta(days=HISTORY_DAYS)
        self.live_from = self.today - dt.timedelta(days=LIVE_DAYS)
        self.admin, self.worker, self.secretary = staff("admin"), staff("worker"), staff("secretary")
        self.grids = {g.pk: g for g in Grid.objects.filter(community=community).order_by("pk")}
        self.grid_workers: dict[int, object] = {}
        for role in (StaffRole.objects.filter(community=community, role=StaffRole.Role.GRID_WORKER)
                     .select_related("user").prefetch_related("grids").order_by("pk")):
            for grid in role.grids.all():
                self.grid_workers.setdefault(grid.pk, role.user)
        self.staff_ids = set(StaffRole.objects.filter(community=community).values_list("user_id", flat=True))
        self.events: list[Event] = []

    def at(self, moment: dt.datetime) -> dt.datetime:
        """The replay clock answers ``moment`` (never later than half an hour ago)."""
        self.clock.at = min(moment, self.latest)
        return self.clock.at

    def event(self, ev: Event) -> None:
        self.events.append(ev)

    # -- the points' setup ------------------------------------------------------------------------

    def setup(self) -> None:
        """Rules, multipliers, the policy, partners with a counter key each and their catalogue,
        as the office set them up before the history began."""
        community, admin = self.community, self.admin
        self.at(_aware(self.start - dt.timedelta(days=20), 10))
        earning.rules_set(actor=admin, community=community, per_hour=dict(earning.DEFAULT_RULES))
        earning.multipliers_set(actor=admin, community=community, percents=dict(earning.DEFAULT_MULTIPLIERS))
        self.policy = earning.policy_set(actor=admin, community=community, daily_cap=40, yearly_cap=2000)
        self.per_hour, self.percents = earning.rates(community)
        self.items: dict[str, object] = {}
        self.partners: dict[str, object] = {}
        self.keys: dict[str, object] = {}
        for kind, name, items in PARTNERS:
            self.at(_aware(self.start - dt.timedelta(days=15), 10))
            partner = partners.partner_create(actor=admin, community=community, name=name, kind=kind)
            self.partners[kind] = partner
            self.keys[kind], _plaintext = partners.key_create(actor=admin, partner=partner, name=_("Counter terminal"))
            for item_kind, code, item_name, description, points, stock in items:
                self.items[code] = catalogue.item_create(
                    actor=admin, community=community, partner=partner, code=code, name=item_name, kind=item_kind,
                    points=points, stock=stock, description=description)
        self.issuance = ledger.issuance(community)
        self.partner_accounts = {p.pk: ledger.partner_account(p) for p in self.partners.values()}

    # -- volunteers and teams ---------------------------------------------------------------------

    def volunteers(self) -> None:
        """About one resident in 55 (adults of 18–75, a few of 14–17 with a guardian of their
        household), each with an account to scan with; the ``resident`` sign-in among them."""
        rng, year = self.rng, self.today.year
        rows = list(Resident.objects.filter(community=self.community, birth_year__gte=year - 75,
                                            birth_year__lte=year - 14)
                    .order_by("pk").values_list("pk", "household_id", "grid_id", "building_id", "birth_year",
                                                "is_party_member", "user_id"))
        signin = Resident.objects.filter(community=self.community, user__username="resident").values_list(
            "pk", flat=True).first()
        adults_of: dict[int, list[int]] = defaultdict(list)
        for pk, household, _g, _b, born, _p, user in rows:
            if born <= year - 19 and (user is None or user not in self.staff_ids):
                adults_of[household].append(pk)
        total = Resident.objects.filter(community=self.community).count()
        n = max(MIN_VOLUNTEERS, total // SHARE)
        adults = [r for r in rows if r[4] <= year - 19 and (r[6] is None or r[6] not in self.staff_ids)]
        minors = [r for r in rows if r[4] >= year - 17 and any(a != r[0] for a in adults_of.get(r[1], ()))]
        # Party members come forward first; then anyone.
        weights = [4 if r[5] else 1 for r in adults]
        chosen: dict[int, tuple] = {}
        if signin is not None:
            chosen[signin] = next(r for r in rows if r[0] == signin) if any(r[0] == signin for r in rows) else None
            if chosen[signin] is None:
                del chosen[signin]
        tries = 0
        while len(chosen) < n - max(1, int(n * MINOR_SHARE)) and tries < 20 * n and adults:
            r = rng.choices(adults, weights)[0]
            chosen.setdefault(r[0], r)
            tries += 1
        for r in rng.sample(minors, min(len(minors), max(1, int(n * MINOR_SHARE)))):
            chosen.setdefault(r[0], r)
        plan = sorted(chosen.values())
        self.signin_id = signin
        # Accounts to scan with: those who have none get one (no password, as decide's authors).
        User = get_user_model()
        unusable = make_password(None)
        need_user = [r for r in plan if r[6] is None]
        users = [User(username=f"zy{i + 1:04d}", password=unusable) for i in range(len(need_user))]
        User.objects.bulk_create(users)
        by_name = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk"))
        residents = {r.pk: r for r in Resident.objects.filter(pk__in=[r[0] for r in plan])}
        linked = []
        for r, u in zip(need_user, users):
            residents[r[0]].user_id = by_name[u.username]
            linked.append(residents[r[0]])
        bulk.update(Resident, linked, ["user"])
        self.user_of = {pk: res.user_id for pk, res in residents.items()}
        self.users = {u.pk: u for u in get_user_model().objects.filter(pk__in=list(self.user_of.values()))}
        self.residents = residents
        # The volunteers' rows: most joined before the history began, the rest during it.
        vols = []
        for pk, household, grid, building, born, party, _user in plan:
            if pk == signin or rng.random() < 0.7:
                joined = _aware(self.start - dt.timedelta(days=rng.randint(1, 400)), rng.choice((10, 15, 19)))
            else:
                joined = _aware(self.start + dt.timedelta(days=rng.randint(0, HISTORY_DAYS - LIVE_DAYS - 30)),
                                rng.choice((10, 15, 19)))
            age = year - born
            skills = rng.sample(SKILL_CODES, rng.randint(1, 3))
            if age >= 55 and "visiting" not in skills:
                skills.append("visiting")
            if age < 18:
                skills = ["tutoring", "events"][:rng.randint(1, 2)]
            availability = sorted(rng.sample(HALF_DAYS, rng.randint(3, 7)))
            if rng.random() < 0.4:
                availability.append("evenings")
            guardian = None
            if age < 18:
                guardian = rng.choice([a for a in adults_of[household] if a != pk])
            vols.append(Volunteer(
                community=self.community, resident_id=pk, grid_id=grid, skills=skills, availability=availability,
                status=Volunteer.Status.ACTIVE, guardian_id=guardian,
                guardian_consent_at=joined + dt.timedelta(days=2) if guardian else None,
                honour_opt_in=rng.random() < 0.35 or pk == signin, joined_at=joined))
        bulk.insert(Volunteer, vols)
        ids = dict(Volunteer.objects.filter(community=self.community).values_list("resident_id", "pk"))
        for v in vols:
            v.pk = v.id = ids[v.resident_id]
        # A few left during the history (not the sign-in, not a minor).
        leavers = [v for v in vols if v.resident_id != signin and not v.guardian_id and rng.random() < 0.04]
        for v in leavers:
            v.status = Volunteer.Status.LEFT
            v.left_at = max(v.joined_at + dt.timedelta(days=60),
                            _aware(self.today - dt.timedelta(days=rng.randint(LIVE_DAYS + 10, 300)), 20))
        bulk.update(Volunteer, leavers, ["status", "left_at"])
        for v in vols:
            grid = self.grids[v.grid_id]
            user = self._user(v)
            self.event(events.build(actor=user, verb="volunteers.joined", target=v, community=self.community,
                                    grid=grid, at=v.joined_at,
                                    data={"volunteer": v.pk, "skills": v.skills, "minor": v.guardian_id is not None,
                                          "again": False}))
            if v.guardian_id:
                self.event(events.build(actor=self.worker, verb="volunteers.guardian_consented", target=v,
                                        community=self.community, grid=grid, at=v.guardian_consent_at,
                                        data={"volunteer": v.pk, "by": "office"}))
            if v.status == Volunteer.Status.LEFT:
                self.event(events.build(actor=user, verb="volunteers.left", target=v, community=self.community,
                                        grid=grid, at=v.left_at, data={"volunteer": v.pk, "teams": []}))
        self.vols = vols
        self.by_id = {v.pk: v for v in vols}
        self.signin = next((v for v in vols if v.resident_id == signin), None)
        self.result.volunteers = len(vols)
        self.result.minors = sum(1 for v in vols if v.guardian_id)
        self.born = {r[0]: r[4] for r in plan}
        self.party = {r[0] for r in plan if r[5]}

    def _user(self, volunteer):
        """The volunteer's account, as an actor (by id and name: no query)."""
        return self._user_of_resident(volunteer.resident_id)

    def _user_of_resident(self, resident_id):
        user_id = self.user_of[resident_id]
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = get_user_model().objects.get(pk=user_id)
        return user

    def teams(self) -> None:
        """The four teams (through the service) and their members (in bulk, each with the event
        ``team_add`` writes): party members to the vanguard first, leaders of each."""
        rng, year = self.rng, self.today.year
        self.at(_aware(self.start - dt.timedelta(days=10), 9))
        created = {kind: teams.team_create(actor=self.secretary, community=self.community, name=name, kind=kind,
                                           description=description)
                   for kind, name, description in TEAMS}
        self.team_by_kind = created
        rows = []
        for v in self.vols:
            if v.status == Volunteer.Status.LEFT:
                continue
            age = year - self.born[v.resident_id]
            kinds = []
            if v.resident_id in self.party and age >= 18:
                kinds.append("vanguard")
            if 35 <= age <= 70 and rng.random() < 0.12:
                kinds.append("building_leaders")
            if 18 <= age <= 35 and rng.random() < 0.6:
                kinds.append("youth")
            if age >= 55 and rng.random() < 0.6:
                kinds.append("elders")
            for kind in kinds:
                rows.append((kind, v))
        leaders: dict[str, int] = Counter()
        memberships = []
        for kind, v in rows:
            team = created[kind]
            role = Membership.Role.MEMBER
            if leaders[kind] < 2 and self.born[v.resident_id] <= year - 25:
                role, leaders[kind] = Membership.Role.LEADER, leaders[kind] + 1
            at = max(v.joined_at, team.created_at) + dt.timedelta(days=rng.randint(1, 30))
            memberships.append(Membership(team=team, volunteer=v, role=role, joined_at=at))
            self.event(events.build(actor=self.secretary, verb="volunteers.team_member_added", target=team,
                                    community=self.community, at=at,
                                    data={"team": team.pk, "volunteer": v.pk, "role": role, "again": False}))
        bulk.insert(Membership, memberships)
        self.result.teams = len(created)
        self.result.members = len(memberships)

    # -- two years of activities, in bulk -----------------------------------------------------------

    def _organiser(self, grid_id):
        if grid_id is not None and grid_id in self.grid_workers:
            return self.grid_workers[grid_id]
        return self.rng.choice((self.worker, self.secretary))

    def _approver(self, activity):
        """Someone other than the volunteer who may approve: the courtyard's grid worker, else
        the office (no staff account is a volunteer here)."""
        if activity.grid_id is not None and activity.grid_id in self.grid_workers and self.rng.random() < 0.7:
            return self.grid_workers[activity.grid_id]
        return self.rng.choice((self.worker, self.secretary))

    def _can_serve(self, v, activity, day) -> bool:
        if v.joined_at > activity.starts_at - dt.timedelta(days=2):
            return False
        if v.left_at is not None and v.left_at < activity.starts_at:
            return False
        if v.guardian_id and activity.activity_type not in ("tutoring", "event", "cleanup"):
            return False
        return (v.pk, day) not in self.busy

    def _pick(self, activity, day, n: int) -> list:
        rng = self.rng
        half = f"{DAY_CODES[day.weekday()]}_{'am' if activity.starts_at.hour < 12 else 'pm'}"
        evening = activity.starts_at.hour >= 18
        wanted = set(activity.skills)
        scored, seen = [], set()
        for v in self.candidates(activity.grid_id):
            if v.pk in seen or not self._can_serve(v, activity, day):
                continue
            seen.add(v.pk)
            score = rng.random()
            if wanted & set(v.skills):
                score += 2
            if half in v.availability or (evening and "evenings" in v.availability):
                score += 1.5
            if activity.grid_id is not None and v.grid_id == activity.grid_id:
                score += 1
            if self.signin is not None and v.pk == self.signin.pk and day >= self.signin_next:
                score += 3    # the resident sign-in helps about once in three weeks: points to show
            scored.append((score, v.pk, v))
        scored.sort(reverse=True)
        return [v for _s, _pk, v in scored[:n]]

    def candidates(self, grid_id):
        """Volunteers of the courtyard first (a sample of the rest too), for speed."""
        near = self.by_grid.get(grid_id, []) if grid_id is not None else []
        others = self.rng.sample(self.vols, min(len(self.vols), 40))
        return near + others

    def history(self) -> None:
        rng = self.rng
        self.busy: set[tuple[int, dt.date]] = set()
        self.signin_next = self.start
        self.by_grid: dict[int, list] = defaultdict(list)
        for v in self.vols:
            self.by_grid[v.grid_id].append(v)
        per_week = {kind: rate * len(self.vols) / 100 for kind, rate in WEEKLY.items()}
        per_week["visit"] = max(1.0, per_week["visit"])
        grid_ids = sorted(self.grids)
        monday = self.start - dt.timedelta(days=self.start.weekday())
        plans = []   # (activity, helpers)
        while monday < self.live_from:
            for kind, rate in per_week.items():
                count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
                for _n in range(count):
                    title, place, weekday, (hour, minute), minutes, _span, slots, skills, mult = KINDS[kind]
                    if weekday is None:
                        weekday = rng.randint(0, 6 if kind == "patrol" else 4)
                    day = monday + dt.timedelta(days=weekday)
                    if not self.start <= day < self.live_from:
                        continue
                    grid_id = rng.choice(grid_ids) if kind in ("visit", "cleanup", "patrol") else None
                    starts = _aware(day, hour, minute)
                    multipliers = list(mult)
                    if kind in ("cleanup", "event") and rng.random() < 0.1:
                        multipliers.append("weather")
                    grid = self.grids.get(grid_id)
                    activity = Activity(
                        community=self.community, title=title, activity_type=kind, description="",
                        place=f"{grid.name}{place}" if grid is not None and place == "院落" else place,
                        grid=grid, latitude=grid.latitude if grid else None,
                        longitude=grid.longitude if grid else None, starts_at=starts,
                        ends_at=starts + dt.timedelta(minutes=minutes), slots=slots, skills=list(skills),
                        multipliers=multipliers, organiser=self._organiser(grid_id),
                        status=Activity.Status.DONE, qr_secret="%064x" % rng.getrandbits(256),
                        created_at=starts - dt.timedelta(days=rng.randint(3, 10), hours=rng.randint(0, 6)))
                    activity.team = self._team_for(kind)
                    activity.need = self._need_for(kind, day, grid_id)
                    if activity.need is not None:
                        activity.grid = activity.need.grid or activity.grid
                    if rng.random() < 0.03:
                        activity.status = Activity.Status.CANCELLED
                    plans.append(activity)
            monday += dt.timedelta(days=7)
        plans.sort(key=lambda a: (a.created_at, a.starts_at))
        bulk.insert_with_ids(Activity, plans)
        self.activities = plans
        self._people(plans)

    def _team_for(self, kind):
        wanted = {"patrol": "vanguard", "cleanup": "vanguard", "tutoring": "youth", "visit": "elders"}.get(kind)
        return self.team_by_kind.get(wanted) if wanted and self.rng.random() < 0.6 else None

    def _need_for(self, kind, day, grid_id):
        """The weekly visits answer the elders' needs planned by then (round robin)."""
        if kind != "visit":
            return None
        due = [n for n in self.visit_needs if n.planned_on <= day and (n.closed_on is None or day < n.closed_on)]
        if not due:
            return None
        self.visit_turn = getattr(self, "visit_turn", 0) + 1
        return due[self.visit_turn % len(due)]

    def _people(self, activities) -> None:
        """Sign-ups, service records (QR, by hand, closed automatically), decisions, grants and
        ratings of the history's activities; then their events, in bulk."""
        rng, result = self.rng, self.result
        signups, records = [], []
        for activity in activities:
            lo, hi = KINDS[activity.activity_type][5]
            day = timezone.localdate(activity.starts_at)
            helpers = self._pick(activity, day, min(activity.slots, rng.randint(lo, hi)) + 1)
            if not helpers:
                continue
            no_show = helpers.pop() if len(helpers) > lo and rng.random() < 0.15 else None
            if len(helpers) > hi:
                helpers = helpers[:hi]
            for v in helpers + ([no_show] if no_show else []):
                at = activity.created_at + dt.timedelta(hours=rng.randint(2, 60))
                signups.append(Signup(activity=activity, volunteer=v, status=Signup.Status.CONFIRMED,
                                      created_at=min(at, activity.starts_at - dt.timedelta(hours=1))))
            if activity.status == Activity.Status.CANCELLED:
                continue
            for v in helpers:
                self.busy.add((v.pk, day))
                records.append(self._record(activity, v))
                if self.signin is not None and v.pk == self.signin.pk:
                    self.signin_next = day + dt.timedelta(days=21)
        bulk.insert(Signup, signups)
        bulk.insert_with_ids(ServiceRecord, records)
        self._decide(records)
        bulk.update(ServiceRecord, records, ["status", "decided_by", "decided_at", "reason", "points"])
        result.signups += len(signups)
        for a in activities:
            result.activities[a.status] += 1
        self._activity_events(activities, signups, records)

    def _record(self, activity, v) -> ServiceRecord:
        rng = self.rng
        r = rng.random()
        check_in = activity.starts_at - dt.timedelta(minutes=rng.randint(0, 15))
        record = ServiceRecord(activity=activity, volunteer=v, check_in_at=check_in, source=ServiceRecord.Source.QR,
                               status="pending", created_at=check_in)
        if r < 0.03:      # forgot to check out: closed at the scheduled end by the job
            record.check_out_at = activity.ends_at
            record.closed_automatically = True
        elif r < 0.15:    # no phone at hand: the organiser entered the hours
            record.source = ServiceRecord.Source.MANUAL
            record.check_in_at = activity.starts_at
            record.check_out_at = activity.ends_at
            record.created_at = activity.ends_at + dt.timedelta(hours=rng.randint(1, 20))
        else:
            record.check_out_at = activity.ends_at + dt.timedelta(minutes=rng.randint(-10, 45))
        record.minutes = hours.counted_minutes(activity, record.check_in_at, record.check_out_at)
        return record

    def _decide(self, records) -> None:
        """Approve (a few rejected with a reason) a day or three after; points by the rules, cut to
        the caps as ``earning.grant`` does (the ledger's ``post_bulk`` writes the grants)."""
        rng = self.rng
        day_sum: Counter = Counter()
        year_sum: Counter = Counter()
        policy = self.policy
        self.drafts = []
        for record in sorted(records, key=lambda x: x.check_out_at):
            activity = record.activity
            record.decided_by = self._approver(activity)
            decided = _aware(timezone.localdate(record.check_out_at) + dt.timedelta(days=rng.randint(1, 3)),
                             rng.randint(9, 17), rng.randint(0, 59))
            record.decided_at = decided
            if rng.random() < 0.02:
                record.status = ServiceRecord.Status.REJECTED
                record.reason = rng.choice(REJECT_REASONS)
                continue
            record.status = ServiceRecord.Status.APPROVED
            asked = earning.compute_points(self.per_hour[activity.activity_type], record.minutes or 0,
                                           [self.percents[m] for m in activity.multipliers])
            resident_id = record.volunteer.resident_id
            day_key, year_key = (resident_id, timezone.localdate(decided)), (resident_id, timezone.localdate(decided).year)
            allowed = max(0, min(asked, policy.daily_cap - day_sum[day_key], policy.yearly_cap - year_sum[year_key]))
            record.points = allowed
            if asked > 0 and allowed < asked:
                record.reason = hours.CAP_REASON
            if allowed <= 0:
                continue
            day_sum[day_key] += allowed
            year_sum[year_key] += allowed
            memo = activity.title[:200]
            if allowed < asked:
                memo = (memo + " " + _("(cut to the cap: %(asked)s asked)") % {"asked": asked})[:200]
            self.drafts.append(ledger.Draft(
                kind="grant", lines=[(self.issuance, -allowed), (self.account[resident_id], allowed)], at=decided,
                memo=memo, source=(hours.SOURCE_TYPE, str(record.pk)), actor=record.decided_by))
            self.earned.append((decided, resident_id, allowed))
        self.records = records

    def _activity_events(self, activities, signups, records) -> None:
        """Each row's events, as the services and the workflows' factories make them."""
        community = self.community
        for a in activities:
            self.event(events.build(actor=a.organiser, verb="volunteers.activity_created", target=a,
                                    community=community, grid=a.grid, at=a.created_at,
                                    data={"activity": a.pk, "activity_type": a.activity_type, "slots": a.slots,
                                          "need": a.need.pk if a.need else None}))
            final = a.status
            a.status = final
            if final == Activity.Status.CANCELLED:
                self.event(ACTIVITY.event(a, "cancel", actor=a.organiser, before=Activity.Status.OPEN,
                                          at=a.starts_at - dt.timedelta(hours=self.rng.randint(3, 30))))
            else:
                self.event(ACTIVITY.event(a, "done", actor=a.organiser, before=Activity.Status.OPEN,
                                          at=a.ends_at + dt.timedelta(hours=self.rng.randint(1, 5))))
        for s in signups:
            self.event(events.build(actor=self._user(s.volunteer), verb="volunteers.signed_up", target=s,
                                    community=community, grid=s.activity.grid, at=s.created_at,
                                    data={"activity": s.activity.pk, "volunteer": s.volunteer.pk,
                                          "status": s.status}))
        result = self.result
        for r in records:
            a, v = r.activity, r.volunteer
            final = r.status
            places = {"community": community, "grid": a.grid}
            r.status = hours.PENDING
            if r.source == ServiceRecord.Source.MANUAL:
                self.event(SERVICE_RECORD.event(r, "mark", actor=a.organiser, before=hours.OPEN, at=r.created_at))
                result.manual += 1
            else:
                self.event(events.build(actor=self._user(v), verb="volunteers.checked_in", target=r,
                                        at=r.check_in_at, data={"activity": a.pk, "volunteer": v.pk,
                                                                "source": r.source}, **places))
                if r.closed_automatically:
                    self.event(SERVICE_RECORD.event(r, "close", actor=None, before=hours.OPEN,
                                                    at=a.ends_at + hours.GRACE + dt.timedelta(minutes=5)))
                    result.auto_closed += 1
                else:
                    self.event(SERVICE_RECORD.event(r, "check_out", actor=self._user(v), before=hours.OPEN,
                                                    at=r.check_out_at))
            r.status = final
            move = "approve" if final == ServiceRecord.Status.APPROVED else "reject"
            self.event(SERVICE_RECORD.event(r, move, actor=r.decided_by, before=hours.PENDING, at=r.decided_at))
            result.records[final] += 1

    def ratings(self) -> None:
        """A few services rated by their organiser (the person helped rates online, in the live part)."""
        rng = self.rng
        rows = []
        for r in self.records:
            if r.status != ServiceRecord.Status.APPROVED or rng.random() > 0.03:
                continue
            at = r.check_out_at + dt.timedelta(hours=rng.randint(2, 48))
            rating = Rating(record=r, stars=rng.choice((4, 5, 5, 5, 3)), comment=rng.choice(RATING_COMMENTS),
                            rated_by=r.activity.organiser, created_at=at)
            rows.append(rating)
        bulk.insert_with_ids(Rating, rows)
        for rating in rows:
            a = rating.record.activity
            self.event(events.build(actor=rating.rated_by, verb="volunteers.rated", target=rating, at=rating.created_at,
                                    community=self.community, grid=a.grid,
                                    data={"record": rating.record.pk, "stars": rating.stars}))
        self.result.ratings += len(rows)

    # -- the needs board ------------------------------------------------------------------------------

    def needs(self) -> None:
        """Needs proposed from confirmed need tags as the history began (as ``needs_from_tags``
        words them, one per tag, through ``need_post``): the elders living alone first, a weekly
        visit each; accompaniment to the clinic for a few households with a health tag. Some of
        the visits planned (in bulk, after the activities, each move checked against the ``need``
        workflow), one in five closed since; the others wait on the board. The daily job proposes
        the rest of the tags from here on."""
        rng = self.rng
        self.at(_aware(self.start - dt.timedelta(days=5), 9))
        k = max(1, int(WEEKLY["visit"] * len(self.vols) / 100) - 1)
        proposals = {p.category: p for p in vneeds.TAG_PROPOSALS if not p.fact_codes}
        alone = set(Household.objects.filter(community=self.community).annotate(n=Count("residents"))
                    .filter(n=1, residents__birth_year__lte=self.today.year - 70).values_list("pk", flat=True))
        tags = list(HouseholdNeed.objects.filter(community=self.community, status=HouseholdNeed.Status.CONFIRMED,
                                                 category__code="elderly-care")
                    .select_related("household", "category").order_by("pk"))
        tags.sort(key=lambda t: (t.household_id not in alone, t.pk))
        health = list(HouseholdNeed.objects.filter(community=self.community, status=HouseholdNeed.Status.CONFIRMED,
                                                   category__code="health")
                      .select_related("household", "category").order_by("pk")[:6])
        proposed = []
        for tag in tags[:k + max(4, k // 2)] + health:
            proposal = proposals[tag.category.code]
            proposed.append(vneeds.need_post(
                actor=self.worker, community=self.community, title=str(proposal.title),
                description=str(proposal.description), activity_type=proposal.activity_type, source="need_tag",
                household=tag.household, household_need=tag))
        visits = [n for n in proposed if n.activity_type == "visit"]
        chosen = visits[:k]
        span = (self.live_from - self.start).days
        for i, need in enumerate(chosen):
            need.planned_on = self.start + dt.timedelta(days=0 if i < len(chosen) // 2 else rng.randint(0, span // 2))
            need.closed_on = None
            if i % 5 == 4:    # the elder moved in with family: visits ended
                need.closed_on = need.planned_on + dt.timedelta(days=rng.randint(90, span // 2))
        self.visit_needs = chosen
        self.proposed = proposed

    def needs_written(self) -> None:
        """The planned needs' moves (after the activities that planned them have ids)."""
        first: dict[int, object] = {}
        for a in self.activities:
            if a.need is not None and a.need.pk not in first:
                first[a.need.pk] = a
        changed = []
        for need in self.visit_needs:
            a = first.get(need.pk)
            if a is None:
                continue
            need.status = Need.Status.PLANNED
            self.event(NEED.event(need, "plan", actor=a.organiser, before=Need.Status.OPEN, at=a.created_at))
            if need.closed_on is not None:
                need.status = Need.Status.CLOSED
                self.event(NEED.event(need, "close", actor=self.worker, before=Need.Status.PLANNED,
                                      at=_aware(need.closed_on, 16)))
            changed.append(need)
        bulk.update(Need, changed, ["status"])

    def more_needs(self) -> None:
        """Needs of the last weeks through the service: residents asking, the office, a case handed
        over; one declined with its reason, one closed."""
        rng = self.rng
        askers = list(Resident.objects.filter(community=self.community, user__isnull=False)
                      .exclude(user_id__in=self.staff_ids).exclude(user__username="resident")
                      .select_related("user", "household", "grid").order_by("pk")[:200])
        posted = []
        for n, (title, description, kind) in enumerate(RESIDENT_NEEDS):
            if not askers:
                break
            asker = rng.choice(askers)
            self.at(_aware(self.today - dt.timedelta(days=30 - 6 * n), 20, 15))
            posted.append(vneeds.need_post(actor=asker.user, community=self.community, title=title,
                                           description=description, activity_type=kind, source="resident"))
        for n, (title, description, kind) in enumerate(STAFF_NEEDS):
            self.at(_aware(self.today - dt.timedelta(days=20 - 5 * n), 10))
            posted.append(vneeds.need_post(actor=self.worker, community=self.community, title=title,
                                           description=description, activity_type=kind, source="staff"))
        case = (Case.objects.filter(community=self.community, household__isnull=False, status="closed")
                .order_by("-pk").first())
        if case is not None:
            self.at(_aware(self.today - dt.timedelta(days=12), 11))
            posted.append(vneeds.need_from_case(actor=self.worker, case=case, activity_type=CASE_NEED[2]))
        if posted:
            self.at(_aware(self.today - dt.timedelta(days=3), 15))
            vneeds.need_decline(actor=self.worker, need=posted[0], reason=DECLINE_REASON)
            if len(posted) > 4:
                vneeds.need_close(actor=self.worker, need=posted[4])
        for status, count in Counter(Need.objects.filter(community=self.community)
                                     .values_list("status", flat=True)).items():
            self.result.needs[status] = count

    # -- accounts, grants, redemptions ----------------------------------------------------------------

    def accounts(self) -> None:
        """Every volunteer's points account (as ``ledger.account_for`` makes it on first use)."""
        rows = [Account(community=self.community, kind=Account.Kind.RESIDENT, resident_id=v.resident_id,
                        created_at=v.joined_at) for v in self.vols]
        bulk.insert(Account, rows)
        self.account = {a.resident_id: a for a in Account.objects.filter(community=self.community,
                                                                           kind=Account.Kind.RESIDENT)}
        self.earned: list[tuple[dt.datetime, int, int]] = []

    def redemptions(self) -> None:
        """Meals and haircuts redeemed with the points as they were earned: most at the counter
        with its terminal key, some online by the resident; drafts for ``post_bulk`` in time order
        with the grants; the Redemption rows after, pointing at their transactions."""
        rng = self.rng
        balance: Counter = Counter()
        planned = []
        menu = [("lunch", 0.55), ("haircut", 0.3), ("dumplings", 0.15)]
        signin = self.signin.resident_id if self.signin else None
        for at, resident_id, points in sorted(self.earned):
            balance[resident_id] += points
            keep = 80 if resident_id == signin else 0
            if balance[resident_id] < 30 + keep or rng.random() > 0.35:
                continue
            code = rng.choices([c for c, _w in menu], [w for _c, w in menu])[0]
            item = self.items[code]
            if balance[resident_id] - item.points < keep:
                continue
            day = timezone.localdate(at) + dt.timedelta(days=rng.randint(1, 10))
            moment = _aware(day, 11, rng.randint(15, 50)) if item.kind == "meal" else _aware(day, 15, rng.randint(0, 59))
            if day >= self.live_from:
                continue
            balance[resident_id] -= item.points
            online = rng.random() < 0.25
            planned.append((moment, resident_id, item, "online" if online else "counter"))
        planned.sort(key=lambda p: p[0])
        self.planned_redemptions = planned
        for moment, resident_id, item, channel in planned:
            actor = self._user_of_resident(resident_id) if channel == "online" else None
            self.drafts.append(ledger.Draft(
                kind="redemption", at=moment, memo=f"{item.name} × 1"[:200], actor=actor,
                lines=[(self.account[resident_id], -item.points), (self.partner_accounts[item.partner_id], item.points)]))

    def post_history(self) -> None:
        self.drafts.sort(key=lambda d: d.at)
        written = ledger.post_bulk(community=self.community, drafts=self.drafts)
        self.result.grants += sum(1 for d in self.drafts if d.kind == "grant")
        self.result.granted += sum(d.lines[1][1] for d in self.drafts if d.kind == "grant")
        assert written == len(self.drafts)
        txns = list(Transaction.objects.filter(community=self.community, kind="redemption").order_by("pk")
                    .values_list("pk", flat=True))
        rows = []
        for tid, (moment, resident_id, item, channel) in zip(txns, self.planned_redemptions):
            key = self.keys[item.partner.kind] if channel == "counter" else None
            rows.append(Redemption(community=self.community, resident_id=resident_id, item=item, partner=item.partner,
                                   quantity=1, points=item.points, channel=channel, transaction_id=tid,
                                   status=Redemption.Status.REDEEMED, key=key, created_at=moment))
        bulk.insert_with_ids(Redemption, rows)
        for r in rows:
            actor = self._user_of_resident(r.resident_id) if r.channel == "online" else None
            self.event(events.build(actor=actor, verb="points.redeemed", target=r, community=self.community,
                                    at=r.created_at,
                                    data={"item": r.item.code, "quantity": 1, "points": r.points,
                                          "channel": r.channel, "transaction": r.transaction_id,
                                          "partner": r.partner_id}))
            self.result.redemptions[r.channel] += 1

    def settle(self) -> None:
        """The office settled each finished month of the last year with each partner (the last one
        still waits for the office: the settlement page has something to do)."""
        months = sorted({(r[0].year, r[0].month) for r in self.planned_redemptions})
        this_month = (self.today.year, self.today.month)
        previous = (self.today.year, self.today.month - 1) if self.today.month > 1 else (self.today.year - 1, 12)
        by_partner = {(p.pk, (m.year, m.month)) for m, _r, i, _c in self.planned_redemptions for p in (i.partner,)}
        first = (self.today.year - 1, self.today.month)   # the books' year: older months were settled on paper
        for year, month in months:
            if (year, month) in (this_month, previous) or (year, month) < first:
                continue
            next_day = dt.date(year + (month == 12), month % 12 + 1, 3)
            for kind, partner in self.partners.items():
                if (partner.pk, (year, month)) not in by_partner:
                    continue
                self.at(_aware(next_day, 10))
                redeem.settle_month(actor=self.admin, partner=partner, year=year, month=month)
                self.result.settled += 1

    # -- the last days and the coming ones, through the services ---------------------------------------

    def live(self) -> None:
        rng = self.rng
        community = self.community
        kinds = ["visit", "visit", "meal_delivery", "patrol", "tutoring", "escort", "visit", "cleanup"]
        day = self.live_from
        made = []
        while day < self.today + dt.timedelta(days=COMING_DAYS):
            kind = kinds[(day - self.live_from).days % len(kinds)]
            if KINDS[kind][2] is not None and day.weekday() != KINDS[kind][2]:
                kind = "visit"    # a cleanup is on Saturdays
            title, place, _weekday, (hour, minute), minutes, span, slots, skills, mult = KINDS[kind]
            hi = span[1]
            starts = _aware(day, hour, minute)
            grid_id = rng.choice(sorted(self.grids)) if kind in ("visit", "cleanup", "patrol") else None
            need = self._need_for(kind, day, grid_id) if kind == "visit" else None
            if need is not None and need.status == Need.Status.CLOSED:
                need = None
            grid = need.grid if need is not None and need.grid_id else self.grids.get(grid_id)
            organiser = self._organiser(grid.pk if grid else None)
            self.at(starts - dt.timedelta(days=4, hours=2))
            activity = activities.activity_create(
                actor=organiser, community=community, title=title, activity_type=kind, starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=minutes), slots=max(slots, 2), place=place if grid is None
                else f"{grid.name}{place}" if place == "院落" else place, skills=skills, multipliers=mult,
                need=need, team=self._team_for(kind), grid=grid,
                latitude=grid.latitude if grid else None, longitude=grid.longitude if grid else None)
            # Signed up through the service, now: only who is active today (a volunteer who has
            # since left or paused served in the history, not here).
            helpers = [v for v in self._pick(activity, day, hi + 2) if v.status == Volunteer.Status.ACTIVE][:hi]
            if starts > self.latest:
                helpers = helpers[:max(1, min(len(helpers), activity.slots - 1))]   # free slots left
            for n, v in enumerate(helpers):
                self.at(starts - dt.timedelta(days=3, hours=n))
                activities.signup(actor=self._user(v), activity=activity, volunteer=v)
                self.result.signups += 1
                self.busy.add((v.pk, day))
            made.append((activity, helpers))
            day += dt.timedelta(days=1)
        for activity, helpers in made:
            if activity.ends_at + hours.GRACE > self.latest:
                self.result.activities["open"] += 1
                continue
            for v in helpers:
                user = self._user(v)
                t_in = self.at(activity.starts_at - dt.timedelta(minutes=rng.randint(1, 12)))
                hours.check_in(actor=user, activity=activity, volunteer=v,
                               code=qr.code_for(activity, purpose="in", at=t_in), at=t_in)
                t_out = self.at(activity.ends_at + dt.timedelta(minutes=rng.randint(0, 15)))
                record = hours.check_out(actor=user, activity=activity, volunteer=v,
                                         code=qr.code_for(activity, purpose="out", at=t_out), at=t_out)
                decided = activity.ends_at + dt.timedelta(days=2, hours=1)
                if decided < self.latest - dt.timedelta(days=1):
                    self.at(decided)
                    record = hours.approve(actor=self._approver(activity), record=record)
                    self.result.grants += 1 if record.points else 0
                    self.result.granted += record.points or 0
                self.result.records[record.status] += 1
            if activity.ends_at + dt.timedelta(days=3) < self.latest:
                self.at(activity.ends_at + dt.timedelta(hours=2))
                activities.activity_done(actor=activity.organiser, activity=activity)
                self.result.activities["done"] += 1
            else:
                self.result.activities["open"] += 1

    def spend(self) -> None:
        """The last days' redemptions through the service (at the counter with the terminal's key, and
        online), a few gifts, the sign-in's meal; then expiry runs once."""
        rng = self.rng
        community = self.community
        rich = list(Account.objects.filter(community=community, kind="resident", balance__gte=60)
                    .exclude(resident_id=getattr(self.signin, "resident_id", None))
                    .select_related("resident").order_by("pk")[:40])
        for n, account in enumerate(rng.sample(rich, min(len(rich), 6))):
            item = self.items[("lunch", "haircut", "rice", "soap")[n % 4]]
            self.at(_aware(self.today - dt.timedelta(days=5 - n % 5), 11 if item.kind == "meal" else 15, 10 + n))
            key = self.keys[item.partner.kind]
            redeem.redeem(actor=None, resident=account.resident, item=item, channel="counter", key=key)
            self.result.redemptions["counter"] += 1
        if self.signin is not None:
            resident = self.residents[self.signin.resident_id]
            self.at(_aware(self.today - dt.timedelta(days=2), 11, 40))
            user = get_user_model().objects.get(pk=resident.user_id)
            if Account.objects.get(resident=resident).balance >= self.items["lunch"].points + RESIDENT_MIN_BALANCE:
                redeem.redeem(actor=user, resident=resident, item=self.items["lunch"], channel="online")
                self.result.redemptions["online"] += 1
        givers = rich[:4]
        for n, account in enumerate(givers):
            giver = account.resident
            to = None if n == 0 else givers[(n + 1) % len(givers)].resident
            if to is not None and to.pk == giver.pk:
                continue
            self.at(_aware(self.today - dt.timedelta(days=9 - n), 20, 5))
            user = get_user_model().objects.get(pk=giver.user_id)
            gifts.gift(actor=user, from_resident=giver, to_resident=to, points=10 + 5 * n,
                       note="谢谢你帮我照看孩子" if to is not None else "")
            self.result.gifts += 1
        self.clock.at = None
        self.result.expired = expiry.expire_due(community=community)

    def publish(self) -> None:
        """The last two finished months' summaries on the public board, as the demo runs."""
        self.clock.at = None
        y, m = self.today.year, self.today.month
        for back in (2, 1):
            year, month = (y, m - back) if m > back else (y - 1, m - back + 12)
            openness.publish_summary(actor=None, community=self.community, year=year, month=month)
            self.result.summaries += 1

    def analyze(self) -> None:
        """The history's tables, for the planner, before the services below query them (the events
        table was analysed after the case history, a hundred times what this part adds)."""
        bulk.analyze(Volunteer, Membership, Activity, Signup, ServiceRecord, Rating, Need, Account, Transaction,
                     Posting, Redemption)

    def write_events(self) -> None:
        self.events.sort(key=lambda e: e.created_at)
        self.result.events += bulk.insert(Event, self.events)
        self.events = []


def seed_volunteers(*, community: Community, seed: int) -> VolunteersResult:
    """The demo's two years of neighbours helping (see the module's docstring), in the
    installation's language. Raises what the services raise; the caller's transaction keeps it
    whole."""
    started, cpu = time.perf_counter(), time.process_time()
    result = VolunteersResult()
    with translation.override(settings.LANGUAGE_CODE), replay_clock() as clock:
        helping = _Helping(community, seed, clock, result)
        for part in (helping.setup, helping.volunteers, helping.teams, helping.accounts, helping.needs,
                     helping.history, helping.needs_written, helping.ratings, helping.redemptions,
                     helping.post_history, helping.write_events, helping.analyze, helping.settle, helping.more_needs,
                     helping.live, helping.spend, helping.publish):
            step = time.perf_counter()
            part()
            result.phases[part.__name__] = round(time.perf_counter() - step, 2)
        clock.at = None
    _cosign_latest(community)
    if helping.signin is not None:
        result.resident_balance = ledger.balance(ledger.account_for(helping.residents[helping.signin.resident_id]))
    result.seconds = round(time.perf_counter() - started, 2)
    result.cpu_seconds = round(time.process_time() - cpu, 2)
    return result


def summary_lines(result: VolunteersResult) -> list[str]:
    """What `linli seed-demo` says about the neighbours helping."""
    r = result.records
    return [
        _("Volunteers: %(volunteers)d (%(minors)d under 18 with a guardian's consent) in %(teams)d teams "
          "(%(members)d memberships); needs: %(open)d open, %(planned)d planned, %(closed)d closed, "
          "%(declined)d declined.") % {
            "volunteers": result.volunteers, "minors": result.minors, "teams": result.teams,
            "members": result.members, "open": result.needs.get("open", 0),
            "planned": result.needs.get("planned", 0), "closed": result.needs.get("closed", 0),
            "declined": result.needs.get("declined", 0)},
        _("Activities: %(done)d done, %(cancelled)d cancelled, %(open)d open; %(signups)d sign-ups; service "
          "records: %(approved)d approved, %(rejected)d rejected, %(pending)d waiting for approval (%(manual)d "
          "entered by hand, %(auto)d closed automatically); %(ratings)d ratings.") % {
            "done": result.activities.get("done", 0), "cancelled": result.activities.get("cancelled", 0),
            "open": result.activities.get("open", 0), "signups": result.signups,
            "approved": r.get("approved", 0), "rejected": r.get("rejected", 0), "pending": r.get("pending", 0),
            "manual": result.manual, "auto": result.auto_closed, "ratings": result.ratings},
        _("Neighbourhood points: %(grants)d grants (%(granted)s points), %(counter)d redemptions at the counter "
          "and %(online)d online, %(settled)d monthly settlements, %(gifts)d gifts, %(expired)d points expired; "
          "the resident sign-in holds %(balance)d points; in %(s).1f s.") % {
            "grants": result.grants, "granted": f"{result.granted:,}",
            "counter": result.redemptions.get("counter", 0), "online": result.redemptions.get("online", 0),
            "settled": result.settled, "gifts": result.gifts, "expired": result.expired,
            "balance": result.resident_balance, "s": result.seconds},
    ]


__all__ = ["seed_volunteers", "summary_lines", "VolunteersResult"]
