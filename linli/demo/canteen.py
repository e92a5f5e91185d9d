"""The demo's friendship canteen (友谊食堂, issue 12): a year of meals, orders, delivery rounds
and welfare checks, and the days around today through the canteen's own services.

:func:`seed_canteen` writes, for the demo community and deterministic from the demo seed:

- **the setup** through linli.canteen's services: the canteen on the points app's canteen
  partner (its organisation gets the ``canteen`` staff sign-in), the default meal times,
  25 dishes with their tags, the subsidy rules (80+ pay half, 低保 free, disabled pay half);
- **a year of history up to three days ago**, written in bulk (``linli.core.bulk``): lunch every
  day and dinner on weekdays, each meal's dishes, orders on site (pre-ordered or sold at the
  counter, served) and delivered (a daily round in walking order, run by the volunteer of that
  day's meal-delivery activity or by the canteen's staff), the subsidy of each order by the
  rules (the best rule met, one subsidised meal a person a day, rounded down to the fen), points
  payments through ``points.ledger.post_bulk`` (only where the resident's balance covered them
  from that moment on), and a few deliveries a month where nobody answered: for an elder living
  alone each opened a welfare check (a case, channel welfare, urgent, answered by the grid
  worker within the half hour and resolved), written through ``CASE.event`` as
  ``case_writer`` does. The meals' counters equal their live orders' portions;
- **the last days, today and the week ahead through the services**: meals published, orders
  placed and served, rounds planned, started, delivered (one elder not at home: a welfare check
  opened by the service), today's lunch round planned for the ``courier`` sign-in; the
  ``resident`` sign-in's lunch tomorrow; last month's statement on the public board.

The paper's figures (3,500 meals served on site, 1,200 delivered) are read as a year's.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.canteen import canteens, delivery, eligibility, menus, orders, payment, statements, subsidies, welfare
from linli.canteen.models import Canteen, DeliveryRound, Meal, MealDish, MealTime, Order
from linli.cases import classify, deadlines, rollup
from linli.cases import services as case_services
from linli.cases.models import Case, Category
from linli.cases.workflow import CASE
from linli.community.models import Community, Grid, Organisation, Resident, StaffRole
from linli.core import bulk, events
from linli.core.models import Event
from linli.points import ledger
from linli.points.models import Account, Partner, Posting, Transaction
from linli.volunteers.models import Activity, ServiceRecord, Volunteer

from .books import staff
from .decide import _cosign_latest
from .disclosure import replay_clock

CANTEEN_NAME = "友谊食堂"
CANTEEN_PHONE = "028-8000 0000"
CANTEEN_PLACE = "党群服务中心一楼"
ORGANISATION_NAME = "友谊食堂餐饮服务部"
HISTORY_DAYS = 365
LIVE_DAYS = 2            # yesterday and today: through the services
AHEAD_DAYS = 7           # the menus of the week ahead, published
ONSITE_A_YEAR = 3500     # the paper's figures, read as a year's
DELIVERED_A_YEAR = 1200
NOT_HOME_A_MONTH = 4     # deliveries where nobody answered
PRICES = {"lunch": 1500, "dinner": 1200}
CAPACITY = {"lunch": (60, 20), "dinner": (40, 0)}    # (on site, delivered)
POINTS_SHARE = 0.3       # of the on-site orders of residents holding points
RULES = (("age_80", 50), ("low_income", 100), ("disabled", 50))
COURIER, CANTEEN_STAFF = "courier", "canteen"

# name, description, price in fen (à la carte), tags
DISHES = (
    ("清蒸鲈鱼", "少油少盐，刺少肉嫩。", 1200, ["low_salt", "soft"]),
    ("番茄炒蛋", "家常味道。", 600, ["soft", "vegetarian"]),
    ("红烧肉", "肥瘦相间，每周一次。", 1400, []),
    ("清炒时蔬", "当季青菜。", 400, ["low_salt", "vegetarian", "low_sugar"]),
    ("土豆烧鸡块", "", 1000, []),
    ("肉末蒸蛋", "老人孩子都爱吃。", 600, ["soft", "low_salt"]),
    ("麻婆豆腐", "川味，微辣。", 600, ["spicy", "soft"]),
    ("白灼虾", "", 1500, ["low_salt", "low_sugar"]),
    ("冬瓜排骨汤", "", 800, ["low_salt", "soft"]),
    ("紫菜蛋花汤", "", 300, ["vegetarian", "low_salt", "soft"]),
    ("杂粮饭", "糙米、燕麦、小米。", 200, ["low_sugar", "vegetarian"]),
    ("白米饭", "", 100, ["vegetarian", "soft"]),
    ("清炖牛肉", "炖得软烂。", 1500, ["soft", "halal"]),
    ("宫保鸡丁", "", 1000, ["spicy"]),
    ("蒜蓉西兰花", "", 500, ["vegetarian", "low_salt", "low_sugar"]),
    ("香菇青菜", "", 500, ["vegetarian", "low_salt"]),
    ("鱼香肉丝", "", 900, ["spicy"]),
    ("蒸南瓜", "不加糖。", 300, ["vegetarian", "soft"]),
    ("凉拌黄瓜", "", 300, ["vegetarian", "low_sugar"]),
    ("豆腐脑", "", 300, ["soft", "vegetarian"]),
    ("小米粥", "", 200, ["soft", "vegetarian", "low_salt"]),
    ("肉包子", "两个。", 400, []),
    ("手工水饺", "每周三供应，一份十五个。", 1000, []),
    ("芹菜炒香干", "", 500, ["vegetarian", "low_sugar"]),
    ("萝卜炖羊肉", "冬季供应。", 1600, ["halal", "soft"]),
)
WELFARE_RESOLUTIONS = (
    "网格员上门，老人在楼下邻居家串门，没听见敲门，身体无恙，已把饭送到。",
    "网格员电话联系上老人，老人去社区卫生服务中心复查了，午饭改为晚上热了吃。",
    "网格员与楼栋长一起上门，老人午睡没听见，已确认安全，提醒以后把助听器戴上。",
    "网格员联系上老人的女儿，老人临时去了女儿家，下周恢复送餐。",
)
NOT_HOME_NOTES = ("敲门三次无人应答。", "电话无人接听。", "")


@dataclass
class CanteenResult:
    canteen: Canteen | None = None
    dishes: int = 0
    meals: int = 0
    onsite: int = 0          # portions served on site over the history and the live days
    delivered: int = 0       # portions delivered
    not_home: int = 0
    welfare_checks: int = 0
    rounds: int = 0
    cancelled: int = 0
    subsidy_fen: int = 0
    points_orders: int = 0
    upcoming: int = 0        # orders for meals still to come
    statements: int = 0
    events: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0   # this process's CPU time (the wall time counts a busy machine's waits)
    phases: dict = field(default_factory=dict)


def _aware(day: dt.date, t: dt.time | tuple) -> dt.datetime:
    if isinstance(t, tuple):
        t = dt.time(*t)
    return timezone.make_aware(dt.datetime.combine(day, t))


class _Canteen:
    """The plan and its writing; one instance per seeding."""

    def __init__(self, community: Community, seed: int, clock, result: CanteenResult):
        self.community, self.clock, self.result = community, clock, result
        self.rng = random.Random(f"linli-demo-canteen-{seed}")
        now = timezone.now()
        self.latest = (now - dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
        self.today = timezone.localdate(self.latest)
        self.start = self.today - dt.timedelta(days=HISTORY_DAYS)
        self.live_from = self.today - dt.timedelta(days=LIVE_DAYS - 1)
        self.admin, self.worker = staff("admin"), staff("worker")
        self.grids = {g.pk: g for g in Grid.objects.filter(community=community).order_by("pk")}
        self.grid_worker: dict[int, object] = {}
        for role in (StaffRole.objects.filter(community=community, role=StaffRole.Role.GRID_WORKER)
                     .select_related("user").prefetch_related("grids").order_by("pk")):
            for grid in role.grids.all():
                self.grid_worker.setdefault(grid.pk, role.user)
        self.events: list[Event] = []

    def at(self, moment: dt.datetime) -> dt.datetime:
        self.clock.at = min(moment, self.latest)
        return self.clock.at

    # -- the setup, through the services ---------------------------------------------------------

    def setup(self) -> None:
        """The canteen on the points partner (its organisation's staff: the ``canteen`` sign-in),
        its meal times, dishes and subsidy rules, as the office set them up a year ago."""
        community, admin = self.community, self.admin
        self.at(_aware(self.start - dt.timedelta(days=30), (10, 0)))
        partner = (Partner.objects.filter(community=community, kind=Partner.Kind.CANTEEN, active=True)
                   .order_by("pk").first())
        organisation = None
        if partner is not None:
            organisation = partner.organisation
            if organisation is None:
                # The registry's setup, as the demo writes its organisations (demo/community.py);
                # the partner is pointed at it as the office would on the partner's page.
                organisation = Organisation.objects.create(
                    kind=Organisation.Kind.PARTNER, name=ORGANISATION_NAME, community=community,
                    street_id=community.street_id)
                Partner.objects.filter(pk=partner.pk).update(organisation=organisation)
                partner.organisation = organisation
                events.record(actor=admin, verb="points.partner_updated", target=partner, community=community,
                              data={"organisation": organisation.pk})
        self.partner = partner
        self.organisation = organisation
        grid = self.grids[min(self.grids)] if self.grids else None
        self.canteen = canteens.canteen_create(actor=admin, community=community, name=CANTEEN_NAME, partner=partner,
                                               place=CANTEEN_PLACE, grid=grid)
        # The canteen's public number for residents (delivery, late cancelling): made up, the demo's own.
        canteens.canteen_update(actor=admin, canteen=self.canteen, phone=CANTEEN_PHONE)
        self.result.canteen = self.canteen
        self.times = {t.kind: t for t in MealTime.objects.filter(canteen=self.canteen)}
        self.dishes = []
        for name, description, price, tags in DISHES:
            self.dishes.append(menus.dish_create(actor=admin, canteen=self.canteen, name=name, description=description,
                                                 price_fen=price, tags=list(tags)))
        self.result.dishes = len(self.dishes)
        for criterion, percent in RULES:
            subsidies.rule_set(actor=admin, canteen=self.canteen, criterion=criterion, percent=percent)
        self.rules = {c: p for c, p in RULES}
        self.canteen_user = self._staff_account()

    def _staff_account(self):
        """The ``canteen`` sign-in: staff of the canteen's organisation (its counter, today's orders,
        the rounds and the sheet). The password is the demo's, its hash shared with the others."""
        if self.organisation is None:
            return self.worker
        User = get_user_model()
        user = User.objects.create(username=CANTEEN_STAFF, password=self.admin.password)
        StaffRole.objects.create(user=user, role=StaffRole.Role.UNIT_STAFF, community=self.community,
                                 organisation=self.organisation)
        return user

    # -- who eats here -----------------------------------------------------------------------------

    def people(self) -> None:
        """The regulars: elders who lunch here, a few younger neighbours, the ``resident`` sign-in
        now and then; the delivery-eligible elders who have lunch brought home (those living
        alone first). Their criteria from the registry, as the services read them."""
        rng, year = self.rng, self.today.year
        adults = list(Resident.objects.filter(community=self.community, birth_year__lte=year - 20)
                      .order_by("pk").values_list("pk", "birth_year"))
        rows = [pk for pk, born in adults if born <= year - 55]
        younger = [pk for pk, born in adults if born > year - 55][:4000]
        eligible = list(eligibility.eligible_residents(self.canteen, on=self.today).order_by("pk")
                        .values_list("pk", flat=True))
        delivery_ids = rng.sample(eligible, min(len(eligible), 24))
        taken = set(delivery_ids)
        diners = [pk for pk in rng.sample(rows, min(len(rows), 160)) if pk not in taken][:140]
        diners += rng.sample(younger, min(len(younger), 25))
        # Volunteers with points to spend eat here too (some pay with them).
        savers = list(Account.objects.filter(community=self.community, kind=Account.Kind.RESIDENT, balance__gte=60)
                      .exclude(resident__user__username="resident").order_by("pk")
                      .values_list("resident_id", flat=True)[:12])
        diners += [pk for pk in savers if pk not in taken and pk not in set(diners)]
        signin = (Resident.objects.filter(community=self.community, user__username="resident")
                  .select_related("user").first())
        self.signin = signin
        ids = set(diners) | taken | ({signin.pk} if signin else set())
        residents = {r.pk: r for r in Resident.objects.filter(pk__in=ids).select_related(
            "community", "household__building", "household__unit", "household__grid")}
        self.residents = residents
        users = [r.user_id for r in residents.values() if r.user_id]
        self.users = {u.pk: u for u in get_user_model().objects.filter(pk__in=users)}
        # Criteria as the services compute them (``eligibility.criterion_q``, age by the birth year:
        # one set a calendar year), a query a criterion for the whole pool.
        self.criteria: dict[tuple[int, int], set] = defaultdict(set)
        wanted = {c for c, _p in RULES} | {welfare.CRITERION}
        for on in (dt.date(year - 1, 12, 31), self.today):
            for code in sorted(wanted):
                if on.year < year and not (code.startswith("age_") or code == welfare.CRITERION):
                    continue
                for pk in Resident.objects.filter(eligibility.criterion_q(code, self.community.pk, on),
                                                  pk__in=list(ids)).values_list("pk", flat=True):
                    self.criteria[(pk, on.year)].add(code)
        for pk in ids:   # last year, the criteria that do not depend on age are this year's
            if (pk, year - 1) in self.criteria or (pk, year) in self.criteria:
                self.criteria[(pk, year - 1)] |= {c for c in self.criteria[(pk, year)]
                                                  if not (c.startswith("age_") or c == welfare.CRITERION)}
        alone = [pk for pk in delivery_ids if "alone_elder" in self.criteria[(pk, year)]]
        self.delivery_ids = alone + [pk for pk in delivery_ids if pk not in set(alone)]
        self.alone = set(alone)
        self.diner_ids = [pk for pk in diners if pk in residents]
        self.signin_id = signin.pk if signin else None
        order = {code: i for i, code in enumerate(eligibility.CRITERIA_ORDER)}
        self.rule_order = sorted(self.rules.items(), key=lambda cp: (-cp[1], order[cp[0]]))

    def user(self, user_id):
        if user_id is None:
            return None
        found = self.users.get(user_id)
        if found is None:
            found = self.users[user_id] = get_user_model().objects.get(pk=user_id)
        return found

    def criteria_of(self, resident_id: int, day: dt.date) -> set:
        return self.criteria.get((resident_id, day.year), set())

    def walk(self, live: list[Order]) -> list[Order]:
        """The stops in walking order, as ``delivery.walking_order`` numbers them, from the rows
        already in memory (the service reads them again: a query a round)."""
        by_grid: dict[int, dict[int, list[Order]]] = {}
        grids, buildings = {}, {}
        for order in live:
            household = self.residents[order.resident_id].household
            grids[household.grid_id] = household.grid
            buildings[household.building_id] = household.building
            by_grid.setdefault(household.grid_id, {}).setdefault(household.building_id, []).append(order)
        grid_points = {gid: delivery._grid_point(g, [buildings[b] for b in by_grid[gid]]) for gid, g in grids.items()}
        walk: list[Order] = []
        here = self.start_point
        for grid in delivery._nearest_walk(list(grids.values()), here, point=lambda g: grid_points[g.pk],
                                           name=lambda g: g.name):
            in_grid = [buildings[b] for b in by_grid[grid.pk]]
            entry = here if here is not None else grid_points[grid.pk]
            for building in delivery._nearest_walk(in_grid, entry,
                                                   point=lambda b: delivery._point(b.latitude, b.longitude),
                                                   name=lambda b: b.name):
                stops = sorted(by_grid[grid.pk][building.pk], key=lambda o: (
                    delivery.natural_key(self.residents[o.resident_id].household.unit.number),
                    delivery.natural_key(self.residents[o.resident_id].household.room), o.pk))
                walk.extend(stops)
                here = delivery._point(building.latitude, building.longitude) or here
            here = here or grid_points[grid.pk]
        return walk

    def _subsidies(self, planned) -> None:
        """Each order's subsidy as ``subsidies.subsidy_for`` gave it when it was placed: the best
        active rule met (highest percent, then the criteria's order), on at most one live order a
        person a day (``max_meals_per_day``), of one portion's price, rounded down to the fen."""
        live: dict[tuple[int, dt.date], list[Order]] = defaultdict(list)
        for o in sorted(planned, key=lambda x: x.created_at):
            key = (o.resident_id, o.meal.day)
            o.unit_price_fen = o.meal.price_fen
            total = o.unit_price_fen * o.quantity
            rule = next(((c, p) for c, p in self.rule_order if c in self.criteria_of(*key)), None)
            held = sum(1 for x in live[key] if x.subsidy_fen > 0 and (x.cancelled_at is None or
                                                                         x.cancelled_at > o.created_at))
            if rule is None or held >= 1:
                o.subsidy_criterion, o.subsidy_fen, o.payable_fen = "", 0, total
            else:
                sub = o.unit_price_fen * rule[1] // 100
                o.subsidy_criterion, o.subsidy_fen, o.payable_fen = rule[0], sub, total - sub
            live[key].append(o)
            if o.payable_fen == 0:   # nothing to pay: paid when placed
                o.paid, o.paid_at = True, o.created_at

    # -- a year of history, in bulk ------------------------------------------------------------------

    def history(self) -> None:
        rng = self.rng
        canteen, community = self.canteen, self.community
        meals = []
        day = self.start
        while day < self.live_from:
            for kind in ("lunch", "dinner"):
                if kind == "dinner" and day.weekday() >= 5:
                    continue
                t = self.times[kind]
                onsite_cap, delivery_cap = CAPACITY[kind]
                meal = Meal(canteen=canteen, day=day, kind=kind, starts_at=_aware(day, t.serves_from),
                            ends_at=_aware(day, t.serves_until), cutoff_at=_aware(day, t.cutoff),
                            price_fen=PRICES[kind], onsite_capacity=onsite_cap, delivery_capacity=delivery_cap,
                            status=Meal.Status.DRAFT,
                            created_at=_aware(day - dt.timedelta(days=3 + day.weekday()), (15, rng.randint(0, 59))))
                meals.append(meal)
            day += dt.timedelta(days=1)
        bulk.insert_with_ids(Meal, meals)
        items = []
        for meal in meals:
            for position, dish in enumerate(rng.sample(self.dishes, 4)):
                items.append(MealDish(meal=meal, dish=dish, position=position))
        bulk.insert(MealDish, items)
        # The office copied each week's menu from the week before and published it (``week_copy``,
        # ``week_publish``): one event a week, then one a meal.
        weeks: dict[dt.date, list[Meal]] = defaultdict(list)
        for meal in meals:
            weeks[meal.day - dt.timedelta(days=meal.day.weekday())].append(meal)
        for monday in sorted(weeks):
            week = weeks[monday]
            at = min(m.created_at for m in week)
            for m in week:
                m.created_at = at
            self.event(events.build(actor=self.admin, verb="canteen.week_copied", target=canteen, community=community,
                                    at=at, data={"canteen": canteen.pk,
                                                 "from": (monday - dt.timedelta(days=7)).isoformat(),
                                                 "to": monday.isoformat(), "meals": [m.pk for m in week]}))
            for m in week:
                self.event(menus.MEAL.event(m, "publish", actor=self.admin, before=Meal.Status.DRAFT,
                                            at=at + dt.timedelta(minutes=5)))
                m.status = Meal.Status.PUBLISHED
        bulk.update(Meal, meals, ["status", "created_at"])
        self.meals = meals
        self.result.meals += len(meals)
        self._orders(meals)

    def _orders(self, meals) -> None:
        rng, year_days = self.rng, (self.live_from - self.start).days
        lunches = [m for m in meals if m.kind == "lunch"]
        dinners = [m for m in meals if m.kind == "dinner"]
        # Portions a meal: the year's figures spread over the meals (lunch twice dinner's share).
        onsite_share = ONSITE_A_YEAR * year_days / 365 / (2 * len(lunches) + len(dinners))
        delivered_per_lunch = DELIVERED_A_YEAR * year_days / 365 / max(1, len(lunches))
        planned: list[Order] = []
        by_meal: dict[int, list[Order]] = defaultdict(list)
        half = len(self.delivery_ids) // 2
        weights = [3 if i < half else 1 for i in range(len(self.delivery_ids))]
        for meal in meals:
            wanted = onsite_share * (2 if meal.kind == "lunch" else 1)
            n = max(0, int(rng.gauss(wanted, wanted * 0.2) + 0.5))
            diners = rng.sample(self.diner_ids, min(n, len(self.diner_ids)))
            if (self.signin_id and meal.kind == "lunch" and meal.day.weekday() == 5 and rng.random() < 0.5
                    and self.signin_id not in diners):
                diners.append(self.signin_id)
            for pk in diners:
                by_meal[meal.pk].append(self._onsite(meal, pk))
            if meal.kind == "lunch" and self.delivery_ids:
                k = max(0, int(rng.gauss(delivered_per_lunch, 1.0) + 0.5))
                k = min(k, meal.delivery_capacity, len(self.delivery_ids))
                chosen: list[int] = []
                while len(chosen) < k:
                    pk = rng.choices(self.delivery_ids, weights)[0]
                    if pk not in chosen:
                        chosen.append(pk)
                for pk in chosen:
                    by_meal[meal.pk].append(self._delivered(meal, pk))
        for meal in meals:
            planned.extend(by_meal.get(meal.pk, ()))
        # A few pre-orders cancelled before the cut-off (the place went back).
        for order in planned:
            if order.channel != Order.Channel.COUNTER and rng.random() < 0.02:
                order.status = Order.Status.CANCELLED
                order.cancelled_at = order.created_at + (order.meal.cutoff_at - order.created_at) / 2
                order.paid, order.paid_at, order.served_at = False, None, None
        self._subsidies(planned)
        self._points(planned)
        # The counters: exactly the live orders' portions.
        for meal in meals:
            live = [o for o in by_meal.get(meal.pk, ()) if o.status != Order.Status.CANCELLED]
            meal.onsite_taken = sum(o.quantity for o in live if not o.delivery)
            meal.delivery_taken = sum(o.quantity for o in live if o.delivery)
            if meal.onsite_taken > meal.onsite_capacity or meal.delivery_taken > meal.delivery_capacity:
                raise AssertionError("the demo's canteen history would exceed a meal's capacity")
        bulk.update(Meal, meals, ["onsite_taken", "delivery_taken"])
        planned.sort(key=lambda o: (o.created_at, o.meal.pk, o.resident_id))
        bulk.insert_with_ids(Order, planned)
        self._rounds(lunches, by_meal)
        self._post_points()
        self._order_events(planned)
        self._welfare(planned)

    def _onsite(self, meal, resident_id: int) -> Order:
        rng = self.rng
        quantity = 2 if rng.random() < 0.06 else 1
        minutes = int((meal.ends_at - meal.starts_at).total_seconds() // 60) - 5
        served = meal.starts_at + dt.timedelta(minutes=rng.randint(0, minutes))
        resident = self.residents[resident_id]
        if rng.random() < 0.7 and resident_id != self.signin_id:
            # Sold at the counter (the resident's QR card): paid there and then.
            channel, created, placed_by = Order.Channel.COUNTER, served - dt.timedelta(minutes=1), self.canteen_user
            paid = True
        else:
            online = resident.user_id is not None
            channel = Order.Channel.ONLINE if online else Order.Channel.PHONE
            placed_by = self.user(resident.user_id) if online else self.canteen_user
            created = meal.cutoff_at - dt.timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59))
            paid = False
        payment = Order.Payment.MOBILE if rng.random() < 0.55 else Order.Payment.CASH
        return Order(canteen=self.canteen, meal=meal, resident_id=resident_id, quantity=quantity, delivery=False,
                     channel=channel, status=Order.Status.SERVED, payment=payment, paid=True,
                     paid_at=created if paid else served, placed_by=placed_by, created_at=created, served_at=served)

    def _delivered(self, meal, resident_id: int) -> Order:
        rng = self.rng
        resident = self.residents[resident_id]
        if resident.user_id is not None and rng.random() < 0.3:
            channel, placed_by = Order.Channel.ONLINE, self.user(resident.user_id)
        else:
            channel, placed_by = Order.Channel.PHONE, rng.choice((self.worker, self.canteen_user))
        created = meal.cutoff_at - dt.timedelta(hours=rng.randint(1, 40), minutes=rng.randint(0, 59))
        payment = Order.Payment.CASH if rng.random() < 0.7 else Order.Payment.MOBILE
        return Order(canteen=self.canteen, meal=meal, resident_id=resident_id, quantity=1, delivery=True,
                     channel=channel, status=Order.Status.DELIVERED, payment=payment, paid=True,
                     placed_by=placed_by, created_at=created)

    def _delivery_activities(self) -> dict:
        """The volunteers' meal-delivery activities of the history, by day: the volunteer who
        served that day ran the canteen's round (the hours and points are the activity's)."""
        found = {}
        for record in (ServiceRecord.objects.filter(activity__community=self.community,
                                                    activity__activity_type="meal_delivery",
                                                    activity__status=Activity.Status.DONE,
                                                    activity__starts_at__gte=_aware(self.start, (0, 0)))
                       .select_related("activity", "volunteer__resident").order_by("activity__starts_at", "pk")):
            day = timezone.localdate(record.activity.starts_at)
            found.setdefault(day, (record.activity, record.volunteer))
        return found

    def _rounds(self, lunches, by_meal) -> None:
        """A round a lunch with deliveries: stops in walking order (``delivery.walking_order``),
        out at the delivery time, each stop delivered or not at home a few minutes apart."""
        rng = self.rng
        activities = self._delivery_activities()
        rounds, stops = [], []
        months: dict[tuple[int, int], list[Order]] = defaultdict(list)
        t = self.times["lunch"]
        self.start_point = delivery.start_point(Canteen.objects.select_related("grid").get(pk=self.canteen.pk))
        for meal in lunches:
            live = [o for o in by_meal.get(meal.pk, ()) if o.delivery and o.status != Order.Status.CANCELLED]
            if not live:
                continue
            walk = self.walk(live)
            out = _aware(meal.day, t.delivery_from or t.serves_from) + dt.timedelta(minutes=rng.randint(0, 10))
            activity, volunteer = activities.get(meal.day, (None, None))
            rnd = DeliveryRound(canteen=self.canteen, meal=meal, grid=None, volunteer=volunteer,
                                runner=None if volunteer else self.canteen_user, activity=activity,
                                status=DeliveryRound.Status.DONE, started_at=out,
                                created_at=meal.cutoff_at + dt.timedelta(minutes=rng.randint(5, 40)))
            moment = out
            for position, o in enumerate(walk, 1):
                moment += dt.timedelta(minutes=rng.randint(3, 8))
                o.stop_position, o.outcome_at = position, moment
                if o.payable_fen:     # cash or mobile, paid on the doorstep
                    o.paid_at = moment
                months[(meal.day.year, meal.day.month)].append(o)
            rnd.finished_at = moment + dt.timedelta(minutes=rng.randint(5, 15))
            rnd.walk = walk
            rounds.append(rnd)
        # A few a month where nobody answered; most of them elders living alone.
        for key in sorted(months):
            month = months[key]
            alone = [o for o in month if o.resident_id in self.alone]
            others = [o for o in month if o.resident_id not in self.alone]
            picked = (rng.sample(alone, min(len(alone), NOT_HOME_A_MONTH - 1))
                      + rng.sample(others, min(len(others), 1)))
            for o in picked:
                o.status = Order.Status.NOT_HOME
                o.outcome_note = rng.choice(NOT_HOME_NOTES)
                if o.payable_fen:
                    o.paid, o.paid_at = False, None
        bulk.insert_with_ids(DeliveryRound, rounds)
        for rnd in rounds:
            for o in rnd.walk:
                o.round = rnd
                stops.append(o)
        bulk.update(Order, stops, ["round", "stop_position", "outcome_at", "status", "paid", "paid_at",
                                   "outcome_note"])
        self.rounds = rounds
        self.result.rounds += len(rounds)

    # -- points ---------------------------------------------------------------------------------------

    def _points(self, planned) -> None:
        """Some pre-ordered and counter meals paid with points (``payment.points_for``): only
        where the resident's points covered them from that moment on, so that no balance of the
        history goes below zero on the way."""
        self.points_orders = []
        if self.partner is None:
            return
        accounts = {a.resident_id: a for a in Account.objects.filter(community=self.community,
                                                                      kind=Account.Kind.RESIDENT,
                                                                      resident_id__in=list(self.residents))}
        wanted = [o for o in planned if not o.delivery and o.resident_id in accounts
                  and o.status != Order.Status.CANCELLED and o.payable_fen > 0 and o.resident_id != self.signin_id]
        if not wanted:
            return
        moves: dict[int, list] = defaultdict(list)
        for account_id, at, amount in (Posting.objects.filter(account_id__in=[a.pk for a in accounts.values()],
                                                              transaction__posted=True)
                                       .values_list("account_id", "transaction__effective_at", "amount")
                                       .order_by("transaction__effective_at", "pk")):
            moves[account_id].append((at, amount))
        for o in sorted(wanted, key=lambda x: x.created_at):
            if self.rng.random() > POINTS_SHARE:
                continue
            account = accounts[o.resident_id]
            cost = payment.points_for(self.canteen, o.payable_fen)
            history = moves[account.pk]
            running, low = 0, None
            for at, amount in history:
                if at >= o.created_at and low is None:
                    low = running
                running += amount
                if at >= o.created_at:
                    low = min(low, running)
            if low is None:
                low = running
            if low < cost:
                continue
            history.append((o.created_at, -cost))
            history.sort(key=lambda m: m[0])
            o.payment, o.points, o.paid, o.paid_at = Order.Payment.POINTS, cost, True, o.created_at
            o.account = account
            self.points_orders.append(o)
        self.result.points_orders += len(self.points_orders)

    def _post_points(self) -> None:
        chosen = sorted(self.points_orders, key=lambda x: x.created_at)
        if not chosen:
            return
        partner_account = ledger.partner_account(self.partner)
        drafts = [ledger.Draft(
            kind=Transaction.Kind.REDEMPTION, at=o.created_at, actor=o.placed_by,
            memo=f"{self.canteen.name} {o.meal.day:%Y-%m-%d} × {o.quantity}"[:200],
            lines=[(o.account, -o.points), (partner_account, o.points)], source=(payment.SOURCE, str(o.pk)))
            for o in chosen]
        ledger.post_bulk(community=self.community, drafts=drafts)
        by_source = dict(Transaction.objects.filter(community=self.community, source_type=payment.SOURCE)
                         .values_list("source_id", "pk"))
        for o in chosen:
            o.points_transaction_id = by_source[str(o.pk)]
        bulk.update(Order, chosen, ["points_transaction"])

    # -- events ---------------------------------------------------------------------------------------

    def event(self, ev: Event) -> None:
        self.events.append(ev)

    def _order_events(self, planned) -> None:
        community = self.community
        for o in planned:
            o.resident = self.residents[o.resident_id]
            self.event(events.build(actor=o.placed_by, verb="canteen.order_placed", target=o, community=community,
                                    at=o.created_at,
                                    data={"meal": o.meal.pk, "quantity": o.quantity, "delivery": o.delivery,
                                          "channel": o.channel, "payment": o.payment, "payable_fen": o.payable_fen,
                                          "subsidy_fen": o.subsidy_fen, "points": o.points}))
            if o.status == Order.Status.CANCELLED:
                self.event(orders.ORDER.event(o, "cancel", actor=o.placed_by, before=Order.Status.ORDERED,
                                              at=o.cancelled_at, data={"by_staff": o.placed_by == self.canteen_user,
                                                                       "points": o.points}))
                self.result.cancelled += 1
                continue
            self.result.subsidy_fen += o.subsidy_fen
            if o.status == Order.Status.SERVED:
                self.event(orders.ORDER.event(o, "serve", actor=self.canteen_user, before=Order.Status.ORDERED,
                                              at=o.served_at, data={"payment": o.payment}))
                self.result.onsite += o.quantity
        for rnd in self.rounds:
            actor = self.user(rnd.volunteer.resident.user_id) if rnd.volunteer else rnd.runner
            self.event(events.build(actor=self.worker, verb="canteen.round_planned", target=rnd, community=community,
                                    at=rnd.created_at,
                                    data={"round": rnd.pk, "meal": rnd.meal.pk, "stops": len(rnd.walk),
                                          "volunteer": rnd.volunteer is not None, "runner": rnd.runner is not None}))
            rnd.status = DeliveryRound.Status.OUT
            self.event(delivery.ROUND.event(rnd, "start", actor=actor, before=DeliveryRound.Status.PLANNED,
                                            at=rnd.started_at))
            for o in rnd.walk:
                final = o.status
                o.status = Order.Status.OUT if final == Order.Status.DELIVERED else Order.Status.NOT_HOME
                if final == Order.Status.DELIVERED:
                    o.status = final
                    self.event(delivery.STOP.event(o, "deliver", actor=actor, before=Order.Status.OUT,
                                                   at=o.outcome_at))
                    if o.payable_fen:
                        self.event(events.build(actor=actor, verb="canteen.order_paid", target=o, community=community,
                                                at=o.paid_at, data={"order": o.pk, "method": o.payment,
                                                                    "payable_fen": o.payable_fen}))
                    self.result.delivered += o.quantity
                else:
                    self.event(delivery.STOP.event(o, "not_home", actor=actor, before=Order.Status.OUT,
                                                   at=o.outcome_at))
                    self.result.not_home += 1
            rnd.status = DeliveryRound.Status.DONE
            self.event(delivery.ROUND.event(rnd, "finish", actor=actor, before=DeliveryRound.Status.OUT,
                                            at=rnd.finished_at))

    # -- welfare checks -------------------------------------------------------------------------------

    def _welfare(self, planned) -> None:
        """Each not-at-home of an elder living alone opened a welfare check (``welfare.open_check``):
        a case to the courtyard's grid worker, urgent, due within 30 minutes; the grid worker
        answered it at once (accepted under the elderly-care category), dispatched it to the
        category's unit and, having found the elder, resolved it on the unit's behalf; the office
        recorded the visit-back. Rows and events as the case services and ``CASE`` make them."""
        rng = self.rng
        intake_category = welfare.category_for(self.community)
        category = intake_category or Category.objects.filter(community=self.community, code="elderly",
                                                              active=True).first()
        categories = list(Category.objects.filter(community=self.community, active=True)
                          .only("community_id", "code", "name_zh", "keywords"))
        chosen = [o for o in planned if o.status == Order.Status.NOT_HOME
                  and welfare.CRITERION in self.criteria_of(o.resident_id, o.meal.day)]
        if not chosen:
            return
        numbers = self._numbers({timezone.localdate(o.outcome_at) for o in chosen})
        lives = []
        for o in sorted(chosen, key=lambda x: x.outcome_at):
            resident = self.residents[o.resident_id]
            household = resident.household
            at = o.outcome_at
            day = timezone.localdate(at)
            numbers[day] += 1
            grid = household.grid
            worker = self.grid_worker.get(grid.pk, self.worker)
            description = welfare.description_for(o, at)
            case = Case(community=self.community, number=f"{self.community.code}-{day:%Y%m%d}-{numbers[day]:04d}",
                        channel=Case.Channel.WELFARE, status=Case.Status.SUBMITTED, urgency="urgent",
                        description=description, category=intake_category, place=Case.Place.HOME, grid=grid,
                        building=household.building, household=household, created_at=at)
            suggestion = classify.suggest(description, categories)
            if suggestion is not None:
                case.suggested_category_id = suggestion.category_id
                case.suggestion_confidence = suggestion.confidence
                case.suggestion_source = suggestion.source
            if intake_category is None:
                confident = suggestion is not None and suggestion.confidence >= classify.triage_threshold()
                case.category_id = suggestion.category_id if confident else None
                case.needs_triage = not confident
                case.category_source = (case_services.machine_category_source(suggestion) if confident
                                        else Case.CategorySource.NONE)
            else:
                case.category_source = Case.CategorySource.PARTNER
            case.response_due = min(deadlines.response_due_for(case), at + welfare.RESPOND_WITHIN)
            rows = [events.build(actor=None, verb="case.submitted", target=case, at=at, community=self.community,
                                 grid=grid, data={"number": case.number, "channel": case.channel,
                                                  "needs_triage": case.needs_triage,
                                                  "category": case.category.code if case.category else None})]
            accepted = at + dt.timedelta(minutes=rng.randint(4, 18))
            steps = [("accept", accepted, worker)]
            unit = category.default_unit if category is not None else None
            if unit is not None:
                steps += [("dispatch", accepted + dt.timedelta(minutes=1), worker),
                          ("resolve", accepted + dt.timedelta(minutes=rng.randint(10, 50)), worker),
                          ("visit_back", accepted + dt.timedelta(days=1, hours=rng.randint(0, 4)), self.worker)]
            for move, when, actor in steps:
                before = case.status
                target = CASE.check_move(move, before).target
                extra = {}
                if move == "accept":
                    case.category = case.category or category
                    case.category_source = Case.CategorySource.STAFF_ACCEPT
                    case.needs_triage = False
                    case.accepted_at = when
                    limit = deadlines.time_limit_for(case)
                    if limit is not None:
                        case.resolve_due = deadlines.due(when, limit.resolve_amount, limit.resolve_unit)
                elif move == "dispatch":
                    case.unit = case.first_unit = unit
                    case.dispatched_at = when
                    extra = {"unit": unit.pk}
                elif move == "resolve":
                    case.first_contact_at = case.first_contact_at or when
                    case.resolution = rng.choice(WELFARE_RESOLUTIONS)
                    case.resolved_at = when
                elif move == "visit_back":
                    case.rating, case.rating_comment, case.rated_at = Case.Rating.SATISFIED, "", when
                    case.closed_at = when
                    target = Case.Status.CLOSED
                case.status = target or before
                rows.append(CASE.event(case, move, actor=actor, before=before, at=when, data=extra))
            lives.append((case, rows, o))
        bulk.insert_with_ids(Case, [case for case, _rows, _o in lives])
        for case, rows, o in lives:
            o.welfare_case = case
            for ev in rows:
                ev.target_id = str(case.pk)
                self.event(ev)
            self.event(events.build(actor=self._round_actor(o), verb=welfare.OPEN_VERB, target=o,
                                    community=self.community, grid=case.grid, at=case.created_at,
                                    data={"order": o.pk, "round": o.round.pk, "case": case.pk, "number": case.number,
                                          "joined": False}))
            rollup.record(None, case)
        bulk.update(Order, [o for _c, _r, o in lives], ["welfare_case"])
        self.result.welfare_checks += len(lives)

    def _round_actor(self, order):
        rnd = order.round
        return self.user(rnd.volunteer.resident.user_id) if rnd.volunteer else rnd.runner

    def _numbers(self, days) -> Counter:
        """The last case number given out on each day (the history's cases are numbered too)."""
        last: Counter = Counter()
        for day in days:
            prefix = f"{self.community.code}-{day:%Y%m%d}-"
            number = (Case.objects.filter(number__startswith=prefix).order_by("-number")
                      .values_list("number", flat=True).first())
            last[day] = int(number.rsplit("-", 1)[1]) if number else 0
        return last

    def write_events(self) -> None:
        self.events.sort(key=lambda e: e.created_at)
        self.result.events += bulk.insert(Event, self.events)
        self.events = []

    def analyze(self) -> None:
        bulk.analyze(Meal, MealDish, Order, DeliveryRound, Case, Transaction, Posting)

    # -- the last days, today and the week ahead, through the services -------------------------------

    def courier(self):
        """The ``courier`` sign-in: an active volunteer who lives here (not the ``resident`` one);
        their account (made for the volunteers' history) gets the demo's name and password."""
        volunteer = (Volunteer.objects.filter(community=self.community, status=Volunteer.Status.ACTIVE,
                                              guardian__isnull=True, resident__user__isnull=False)
                     .exclude(resident__user__username="resident")
                     .exclude(resident__user__staff_roles__isnull=False)
                     .filter(resident__user__username__startswith="zy")
                     .select_related("resident__user").order_by("pk").first())
        if volunteer is None:
            return None
        user = volunteer.resident.user
        get_user_model().objects.filter(pk=user.pk).update(username=COURIER, password=self.admin.password)
        user.username, user.password = COURIER, self.admin.password
        self.courier_volunteer, self.courier_user = volunteer, user
        return volunteer

    def live(self) -> None:
        """Meals of the last days and the week ahead published; the last days' orders placed
        before the cut-off and served or delivered; one elder not at home (the service opens the
        welfare check); today's lunch round planned for the courier."""
        rng, canteen, admin = self.rng, self.canteen, self.admin
        volunteer = self.courier()
        day = self.live_from
        live_meals = []
        while day <= self.today + dt.timedelta(days=AHEAD_DAYS):
            for kind in ("lunch", "dinner"):
                if kind == "dinner" and day.weekday() >= 5:
                    continue
                self.at(_aware(day - dt.timedelta(days=3), (15, 0)))
                onsite_cap, delivery_cap = CAPACITY[kind]
                meal = menus.meal_create(actor=admin, canteen=canteen, day=day, kind=kind, price_fen=PRICES[kind],
                                         onsite_capacity=onsite_cap, delivery_capacity=delivery_cap,
                                         dishes=rng.sample(self.dishes, 4), publish=True)
                live_meals.append(meal)
            day += dt.timedelta(days=1)
        self.result.meals += len(live_meals)
        for meal in live_meals:
            if meal.day > self.today:
                continue
            diners = rng.sample(self.diner_ids, min(len(self.diner_ids), 2))
            diners = [pk for pk in diners if pk != self.signin_id]
            takers = []
            if meal.kind == "lunch":
                takers = [pk for pk in self.delivery_ids[:8] if pk not in diners][:4]
            placed = []
            for n, pk in enumerate(takers + diners):
                self.at(meal.cutoff_at - dt.timedelta(hours=14, minutes=n))
                order, _created = orders.order_place(actor=self.worker, resident=self.residents[pk], meal=meal,
                                                     quantity=1, delivery=pk in takers, payment="cash",
                                                     channel="phone")
                placed.append(order)
            if meal.starts_at <= self.latest:
                for order in placed:
                    if not order.delivery:
                        self.at(meal.starts_at + dt.timedelta(minutes=rng.randint(5, 60)))
                        orders.order_serve(actor=self.canteen_user, order=order)
                        self.result.onsite += order.quantity
            if meal.kind != "lunch" or not takers:
                continue
            if meal.day == self.today:
                # Today's round: planned for the courier, who delivers it in the demo.
                self.at(meal.cutoff_at + dt.timedelta(minutes=10))
                delivery.round_plan(actor=self.worker, meal=meal, volunteer=volunteer)
                self.result.rounds += 1
                self.result.upcoming += len(takers)
                continue
            self.at(meal.cutoff_at + dt.timedelta(minutes=10))
            rnd = delivery.round_plan(actor=self.worker, meal=meal, runner=self.canteen_user)
            self.result.rounds += 1
            t = self.times["lunch"]
            start = self.at(_aware(meal.day, t.delivery_from or t.serves_from))
            delivery.round_start(actor=self.canteen_user, round=rnd)
            stops = list(Order.objects.filter(round=rnd).order_by("stop_position"))
            nobody_yet = meal.day == self.today - dt.timedelta(days=1)
            for n, order in enumerate(stops):
                moment = self.at(start + dt.timedelta(minutes=5 * (n + 1)))
                if nobody_yet and order.resident_id in self.alone:
                    # Yesterday an elder living alone did not answer: the service opened the check.
                    nobody_yet = False
                    order = delivery.mark_not_home(actor=self.canteen_user, order=order, at=moment,
                                                   note=NOT_HOME_NOTES[0])
                    self.result.not_home += 1
                    self.result.welfare_checks += 1 if order.welfare_case_id else 0
                else:
                    delivery.mark_delivered(actor=self.canteen_user, order=order, at=moment)
                    self.result.delivered += order.quantity
            self.at(start + dt.timedelta(minutes=5 * len(stops) + 10))
            delivery.round_finish(actor=self.canteen_user, round=rnd)
        self.live_meals = live_meals

    def signin_order(self) -> None:
        """The ``resident`` sign-in's lunch tomorrow, on site, through the service, now."""
        self.clock.at = None
        if self.signin is None:
            return
        tomorrow = self.today + dt.timedelta(days=1)
        meal = next((m for m in self.live_meals if m.day == tomorrow and m.kind == "lunch"), None)
        if meal is None:
            return
        user = get_user_model().objects.get(pk=self.signin.user_id)
        orders.order_place(actor=user, resident=self.signin, meal=meal, quantity=1, delivery=False, payment="cash",
                           channel="online")
        self.result.upcoming += 1

    def publish(self) -> None:
        """Last month's statement on the public board."""
        self.clock.at = None
        y, m = self.today.year, self.today.month
        year, month = (y, m - 1) if m > 1 else (y - 1, 12)
        statements.publish_statement(actor=self.admin, canteen=self.canteen, year=year, month=month)
        self.result.statements += 1


def seed_canteen(*, community: Community, seed: int) -> CanteenResult:
    """The demo's friendship canteen (see the module's docstring), in the installation's language.
    Raises what the services raise; the caller's transaction keeps it whole."""
    started, cpu = time.perf_counter(), time.process_time()
    result = CanteenResult()
    with translation.override(settings.LANGUAGE_CODE), replay_clock() as clock:
        plan = _Canteen(community, seed, clock, result)
        for part in (plan.setup, plan.people, plan.history, plan.write_events, plan.analyze, plan.live,
                     plan.signin_order, plan.publish):
            step = time.process_time()
            part()
            result.phases[part.__name__] = round(time.process_time() - step, 2)   # CPU seconds
        clock.at = None
    # The statement went on the log: the street's witness cosigns the new checkpoint, as after
    # every part of the demo that publishes.
    _cosign_latest(community)
    result.seconds = round(time.perf_counter() - started, 2)
    result.cpu_seconds = round(time.process_time() - cpu, 2)
    return result


def summary_lines(result: CanteenResult) -> list[str]:
    """What `linli seed-demo` says about the canteen."""
    return [_(
        "Canteen: %(meals)d meals, %(onsite)s portions served on site and %(delivered)s delivered over the year "
        "(%(rounds)d rounds, %(not_home)d not at home, %(welfare)d welfare checks), %(subsidy)s yuan of "
        "subsidies, %(points)d orders paid with points, %(upcoming)d orders for meals to come, %(statements)d "
        "statement published; in %(s).2f s (%(cpu).2f s of CPU)."
    ) % {
        "meals": result.meals, "onsite": f"{result.onsite:,}", "delivered": f"{result.delivered:,}",
        "rounds": result.rounds, "not_home": result.not_home, "welfare": result.welfare_checks,
        "subsidy": f"{result.subsidy_fen / 100:,.2f}", "points": result.points_orders, "upcoming": result.upcoming,
        "statements": result.statements, "s": result.seconds, "cpu": result.cpu_seconds}]


__all__ = ["CanteenResult", "seed_canteen", "summary_lines"]
