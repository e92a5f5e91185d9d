"""The demo's bookable services, the service centre's rooms and the activities for all ages
(issue 12).

:func:`seed_services` writes, for the demo community and deterministic from the demo seed:

- **the setup** through linli.services' services: five providers (the health centre's free
  clinic and dental checks — its organisation's staff are the ``clinic`` sign-in —, the
  neighbours' barbers, a law firm's legal aid, the social workers' counselling, a housekeeping
  co-operative) and their six services (义诊, 义剪, dental, 法律援助, counselling, housekeeping),
  with priority for residents whose household has a matching confirmed need; the service centre's
  rooms (the law theatre, the legal aid room, the memory hall, two activity rooms);
- **half a year of history** in bulk (``linli.core.bulk``): each service's weekly slots with their
  bookings — attended, a few no-shows, a few cancelled in time and late —, the slot's ``booked``
  counter equal to the bookings that hold a place (booked, attended, no-show); the rooms' past
  bookings (approved, one declined); two activities a month for children, elders and families,
  each with its room booked, its sign-ups (parties, a waiting list where it was full), check-ins
  and a summary; every event as the services' workflows make it;
- **the next four weeks through the services**: the slots of each service, bookings by phone, at
  the desk and online (a full slot with a waiting list; the ``resident`` sign-in's haircut), room
  requests (approved, one waiting for the office, one declined), and the coming activities with
  their sign-ups.
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

from linli.community.models import Community, HouseholdNeed, Organisation, Resident, StaffRole
from linli.core import bulk, events
from linli.core.errors import Conflict, PermissionDenied
from linli.core.models import Event as LogEvent
from linli.services import bookings, catalogue, events as activities, rooms
from linli.services.models import Booking, Event, EventSignup, Provider, Room, RoomBooking, Service, Slot

from .books import staff
from .disclosure import replay_clock

HISTORY_WEEKS = 26
AHEAD_WEEKS = 4
CLINIC_STAFF = "clinic"
CLINIC_ORGANISATION = "沙河源街道社区卫生服务中心"

# key → (name, organisation (None: the office runs it; "social": the community's social-work partner),
#        description)
PROVIDERS = {
    "health": ("社区卫生服务中心家庭医生团队", CLINIC_ORGANISATION, "每周到党群服务中心义诊，每月两次口腔检查。"),
    "barbers": ("邻里理发志愿队", None, "退休理发师和志愿者，每周四上午义剪，老人优先。"),
    "law": ("蓉法律师事务所", "蓉法律师事务所", "律师每周五下午在法律援助室值班，免费咨询。"),
    "social": ("乐邻社工心理服务", "social", "持证社工和心理咨询师，一对一倾听和疏导。"),
    "housekeeping": ("安心家政服务社", "安心家政服务社", "为高龄、独居和残疾居民上门保洁，每周六预约。"),
}
# code → (provider, name, kind, place, need categories, weekday, start, end, every minutes, capacity,
#         priority places, description)
SERVICES = (
    ("clinic", "health", "义诊：量血压、测血糖、看化验单", "clinic", "党群服务中心一楼健康小屋",
     ["health", "elderly-care"], 1, (9, 0), (11, 30), 30, 3, 1, "家庭医生坐诊，带上近期的化验单和药盒。"),
    ("haircut", "barbers", "义剪", "haircut", "党群服务中心一楼活动室（一）", ["elderly-care", "disability"], 3,
     (9, 0), (11, 0), 20, 2, 1, "洗剪吹，行动不便的老人可预约上门。"),
    ("dental", "health", "口腔检查", "dental", "党群服务中心一楼健康小屋", ["health"], 2, (14, 0), (16, 0), 30,
     2, 0, "牙医检查口腔，给出治疗建议；不做治疗。"),
    ("legal", "law", "法律援助咨询", "legal", "党群服务中心二楼法律援助室", [], 4, (14, 0), (17, 0), 60, 1, 0,
     "婚姻家庭、劳动争议、物业纠纷等免费咨询。"),
    ("counselling", "social", "心理咨询", "counselling", "党群服务中心二楼悄悄话室", [], 0, (15, 0), (17, 0), 60,
     1, 0, "一对一，严格保密。"),
    ("housekeeping", "housekeeping", "上门保洁", "housekeeping", "居民家中", ["elderly-care", "disability"], 5,
     (9, 0), (11, 0), 60, 2, 1, "两小时上门保洁，高龄独居老人优先。"),
)
# code → (name, capacity, floor area, needs approval, description)
ROOMS = (
    ("law-theatre", "法治剧场", 120, 260, True, "普法演出、讲座和居民大会。"),
    ("legal-aid", "法律援助室", 6, 24, True, "律师值班和调解。"),
    ("memory-hall", "社区记忆馆", 40, 180, True, "社区老照片和口述史展陈，可预约参观和讲解。"),
    ("activity-1", "活动室（一）", 30, 80, False, "书画、棋牌、手工，居民活动优先。"),
    ("activity-2", "活动室（二）", 25, 70, False, "舞蹈排练、亲子活动。"),
)
# title, audience, room, minutes, capacity, (min age, max age), description, summary
ACTIVITIES = (
    ("四点半课堂：科学小实验", "children", "activity-2", 90, 20, (6, 12), "放学后来做实验，家长可陪同。",
     "孩子们做了彩虹密度塔和小火箭，志愿者老师讲了背后的道理。"),
    ("长者智能手机课", "elders", "activity-1", 90, 25, (60, None), "教老人用手机挂号、视频通话、防诈骗。",
     "讲了手机挂号和识别诈骗电话，大学生志愿者一对一辅导。"),
    ("亲子手工：做灯笼", "families", "activity-2", 120, 24, (None, None), "一家人一起做灯笼，材料免费。",
     "二十多个家庭参加，做好的灯笼挂在了活动室门口。"),
    ("社区记忆馆讲解：老街坊的故事", "all", "memory-hall", 60, 40, (None, None), "老居民讲社区变迁。",
     "两位老居民讲了院落里几十年的变化，年轻人听得很认真。"),
    ("普法小剧场：防范养老诈骗", "elders", "law-theatre", 90, 120, (None, None), "律师和居民一起演情景剧。",
     "用情景剧讲了保健品骗局和投资诈骗，散场后律师现场答疑。"),
    ("书法兴趣班", "all", "activity-1", 120, 20, (None, None), "老师带着练毛笔字，笔墨纸砚现场提供。",
     "练习了楷书的基本笔画，大家约好下次继续。"),
)
ROOM_PURPOSES = (
    ("legal-aid", "律师值班", 4), ("activity-1", "老年合唱队排练", 25), ("activity-2", "广场舞队排练", 20),
    ("law-theatre", "居民议事会", 80), ("memory-hall", "小学生参观社区记忆馆", 35), ("activity-1", "楼栋长例会", 15),
)
DECLINE_REASON = "当天法治剧场已安排普法演出，请改到活动室（一）或换个时间。"


@dataclass
class ServicesResult:
    providers: int = 0
    services: int = 0
    slots: int = 0
    bookings: Counter = field(default_factory=Counter)       # status → bookings
    rooms: int = 0
    room_bookings: Counter = field(default_factory=Counter)  # status → room bookings
    activities: Counter = field(default_factory=Counter)     # status → activities (events)
    signups: int = 0
    events: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0   # this process's CPU time (the wall time counts a busy machine's waits)
    phases: dict = field(default_factory=dict)


def _aware(day: dt.date, hm: tuple) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(*hm)))


class _Services:
    def __init__(self, community: Community, seed: int, clock, result: ServicesResult):
        self.community, self.clock, self.result = community, clock, result
        self.rng = random.Random(f"linli-demo-services-{seed}")
        now = timezone.now()
        self.latest = (now - dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
        self.now = now
        self.today = timezone.localdate(self.latest)
        self.start = self.today - dt.timedelta(weeks=HISTORY_WEEKS)
        self.admin, self.worker = staff("admin"), staff("worker")
        self.events: list[LogEvent] = []

    def at(self, moment: dt.datetime) -> dt.datetime:
        self.clock.at = min(moment, self.latest)
        return self.clock.at

    def event(self, ev) -> None:
        self.events.append(ev)

    # -- setup ------------------------------------------------------------------------------------

    def setup(self) -> None:
        community, admin = self.community, self.admin
        self.at(_aware(self.start - dt.timedelta(days=20), (10, 0)))
        social = (Organisation.objects.filter(community=community, kind=Organisation.Kind.PARTNER)
                  .order_by("pk").first())
        organisations: dict[str, Organisation] = {}
        self.providers: dict[str, Provider] = {}
        for key, (name, org_name, description) in PROVIDERS.items():
            organisation = None
            if org_name == "social":
                organisation = social
            elif org_name is not None:
                organisation = organisations.get(org_name)
                if organisation is None:
                    # The registry's setup, as the demo writes its organisations (demo/community.py).
                    organisation = organisations[org_name] = Organisation.objects.create(
                        kind=Organisation.Kind.PARTNER, name=org_name, community=community,
                        street_id=community.street_id)
            self.providers[key] = catalogue.provider_create(actor=admin, community=community, name=name,
                                                           organisation=organisation, description=description)
        self.result.providers = len(self.providers)
        self.clinic_user = self._clinic_account(organisations.get(CLINIC_ORGANISATION))
        self.services: dict[str, Service] = {}
        self.plans = {}
        for (code, provider, name, kind, place, needs, weekday, start, end, every, capacity, held,
             description) in SERVICES:
            self.services[code] = catalogue.service_create(
                actor=admin, community=community, provider=self.providers[provider], code=code, name=name, kind=kind,
                place=place, description=description, need_categories=needs)
            self.plans[code] = (weekday, start, end, every, capacity, held)
        self.result.services = len(self.services)
        self.rooms: dict[str, Room] = {}
        for code, name, capacity, area, approval, description in ROOMS:
            self.rooms[code] = rooms.room_create(actor=admin, community=community, code=code, name=name,
                                                 capacity=capacity, needs_approval=approval, description=description,
                                                 floor_area=area)
        self.result.rooms = len(self.rooms)

    def _clinic_account(self, organisation):
        """The ``clinic`` sign-in: staff of the health centre (its services' slots, today's bookings
        with masked names, attended / no-show). The demo's password, its hash shared."""
        if organisation is None:
            return None
        user = get_user_model().objects.create(username=CLINIC_STAFF, password=self.admin.password)
        StaffRole.objects.create(user=user, role=StaffRole.Role.UNIT_STAFF, community=self.community,
                                 organisation=organisation)
        return user

    def people(self) -> None:
        """Who books: mostly elders, some younger neighbours; whose household has which confirmed
        needs (priority, as ``priority.matches`` decides it)."""
        rng, year = self.rng, self.today.year
        elders = list(Resident.objects.filter(community=self.community, birth_year__lte=year - 60)
                      .order_by("pk").values_list("pk", flat=True))
        adults = list(Resident.objects.filter(community=self.community, birth_year__gt=year - 60,
                                              birth_year__lte=year - 25).order_by("pk")
                      .values_list("pk", flat=True)[:5000])
        # Residents with an account of their own (the volunteers') book online now and then.
        online = list(Resident.objects.filter(community=self.community, user__isnull=False,
                                              user__staff_roles__isnull=True).exclude(user__username="resident")
                      .order_by("pk").values_list("pk", flat=True)[:400])
        ids = rng.sample(elders, min(len(elders), 150)) + rng.sample(adults, min(len(adults), 80))
        ids += [pk for pk in rng.sample(online, min(len(online), 40)) if pk not in set(ids)]
        self.signin = (Resident.objects.filter(community=self.community, user__username="resident")
                       .select_related("user").first())
        if self.signin is not None:
            ids = [pk for pk in ids if pk != self.signin.pk]
        self.residents = {r.pk: r for r in Resident.objects.filter(pk__in=ids).select_related("user")}
        self.pool = [pk for pk in ids if pk in self.residents]
        self.elders = [pk for pk in self.pool if self.residents[pk].birth_year <= year - 60]
        needs: dict[int, set] = defaultdict(set)
        for household, code, parent in (HouseholdNeed.objects.filter(community=self.community,
                                                                     status=HouseholdNeed.Status.CONFIRMED)
                                        .values_list("household_id", "category__code", "category__parent__code")):
            needs[household].update(c for c in (code, parent) if c)
        self.needs = needs

    def priority(self, service: Service, resident_id: int) -> bool:
        resident = self.residents[resident_id]
        return bool(set(service.need_categories or ()) & self.needs.get(resident.household_id, set()))

    # -- half a year of bookable services, in bulk ---------------------------------------------------------

    def history(self) -> None:
        rng = self.rng
        slots, by_day = [], []
        monday = self.start - dt.timedelta(days=self.start.weekday())
        while monday <= self.today:
            for code, service in self.services.items():
                weekday, start, end, every, capacity, held = self.plans[code]
                day = monday + dt.timedelta(days=weekday)
                if code == "dental" and (day.isocalendar()[1] % 2):
                    continue    # every other week
                first, last = _aware(day, start), _aware(day, end)
                if day < self.start or last + dt.timedelta(hours=2) > self.latest:
                    continue
                created = first - dt.timedelta(days=14, hours=rng.randint(0, 6))
                moment, series = first, []
                while moment + dt.timedelta(minutes=every) <= last:
                    series.append(Slot(service=service, starts_at=moment,
                                       ends_at=moment + dt.timedelta(minutes=every), capacity=capacity,
                                       priority_places=held,
                                       priority_until=(moment - bookings.PRIORITY_DEFAULT) if held else None,
                                       created_at=created))
                    moment += dt.timedelta(minutes=every)
                slots.extend(series)
                by_day.append((service, day, created, series))
            monday += dt.timedelta(days=7)
        bulk.insert_with_ids(Slot, slots)
        for service, day, created, series in by_day:
            weekday, start, end, every, capacity, held = self.plans[service.code]
            self.event(events.build(actor=self.worker, verb="services.slots_created", target=service,
                                    community=self.community, at=created,
                                    data={"service": service.pk, "day": day.isoformat(), "slots": len(series),
                                          "capacity": capacity, "priority_places": held}))
        self.result.slots += len(slots)
        self._bookings(slots)

    def _bookings(self, slots) -> None:
        """Most places taken a few days ahead; afterwards attended, a few no-shows; some cancelled
        in time (the place went back and was taken again) and a few late (counted as no-shows)."""
        rng = self.rng
        rows = []
        for slot in slots:
            service = slot.service
            wanted = min(slot.capacity, max(0, int(rng.gauss(slot.capacity * 0.8, 0.8) + 0.5)))
            people = self.elders if service.kind in ("clinic", "haircut", "housekeeping") else self.pool
            chosen = rng.sample(people, min(len(people), wanted + 1))
            booked = 0
            for n, pk in enumerate(chosen):
                if n == wanted and rng.random() < 0.85:
                    break
                resident = self.residents[pk]
                online = resident.user_id is not None and rng.random() < 0.5
                at = slot.starts_at - dt.timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 8))
                b = Booking(slot=slot, resident_id=pk, priority=self.priority(service, pk),
                            channel=Booking.Channel.ONLINE if online else Booking.Channel.PHONE,
                            booked_by=resident.user if online else self.worker, created_at=at)
                r = rng.random()
                if n == wanted or r < 0.04:
                    # Cancelled in time (by the office for a call, or online): the place went back.
                    b.status = Booking.Status.CANCELLED
                    b.cancelled_at = at + (slot.starts_at - dt.timedelta(hours=service.cancel_hours) - at) / 2
                elif r < 0.1 and online:
                    b.status = Booking.Status.LATE_CANCELLED
                    b.cancelled_at = slot.starts_at - dt.timedelta(minutes=rng.randint(20, 60))
                else:
                    if booked >= slot.capacity:
                        continue
                    booked += 1
                    b.status = Booking.Status.NO_SHOW if r > 0.92 else Booking.Status.ATTENDED
                    b.marked_at = slot.starts_at + dt.timedelta(minutes=rng.randint(5, 40))
                    b.marked_by = self.clinic_user if (service.provider.organisation_id and self.clinic_user
                                                       and service.kind in ("clinic", "dental")) else self.worker
                    b.reminded_at = slot.starts_at - dt.timedelta(hours=rng.randint(20, 23))
                rows.append(b)
            slot.booked = booked
        bulk.update(Slot, slots, ["booked"])
        rows.sort(key=lambda b: (b.created_at, b.slot.pk))
        bulk.insert_with_ids(Booking, rows)
        for b in rows:
            final = b.status
            self.event(events.build(actor=b.booked_by, verb="services.booked", target=b, community=self.community,
                                    at=b.created_at,
                                    data={"slot": b.slot.pk, "service": b.slot.service.pk, "channel": b.channel,
                                          "priority": b.priority, "status": Booking.Status.BOOKED}))
            if final in (Booking.Status.CANCELLED, Booking.Status.LATE_CANCELLED):
                move = "cancel" if final == Booking.Status.CANCELLED else "cancel_late"
                self.event(bookings.BOOKING.event(b, move, actor=b.booked_by, before=Booking.Status.BOOKED,
                                                  at=b.cancelled_at,
                                                  data={"by_staff": b.channel != Booking.Channel.ONLINE}))
            else:
                self.event(events.build(actor=None, verb="services.reminded", target=b, community=self.community,
                                        at=b.reminded_at, data={"slot": b.slot.pk, "service": b.slot.service.pk}))
                move = "attend" if final == Booking.Status.ATTENDED else "no_show"
                self.event(bookings.BOOKING.event(b, move, actor=b.marked_by, before=Booking.Status.BOOKED,
                                                  at=b.marked_at))
            self.result.bookings[final] += 1

    # -- rooms and activities of the past half year, in bulk ----------------------------------------------

    def rooms_history(self) -> None:
        rng = self.rng
        rows = []
        day = self.start
        while day < self.today - dt.timedelta(days=1):
            for code, purpose, attendees in ROOM_PURPOSES:
                if rng.random() > 0.12:
                    continue
                room = self.rooms[code]
                hour = rng.choice((9, 14, 15, 19))
                starts = _aware(day, (hour, 0))
                ends = starts + dt.timedelta(hours=2 if hour != 19 else 1, minutes=30 if hour == 19 else 0)
                if not rooms.is_open(room, starts, ends) or any(
                        b.room is room and b.starts_at < ends and starts < b.ends_at for b in rows):
                    continue
                requested = starts - dt.timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 5))
                by_office = rng.random() < 0.5
                b = RoomBooking(room=room, starts_at=starts, ends_at=ends, purpose=purpose,
                                attendees=min(attendees, room.capacity),
                                requested_by=self.worker if by_office else staff("leader"),
                                status=RoomBooking.Status.APPROVED, created_at=requested)
                if by_office or not room.needs_approval:
                    b.decided_by, b.decided_at = b.requested_by, requested
                else:
                    b.decided_by, b.decided_at = self.worker, requested + dt.timedelta(hours=rng.randint(1, 20))
                rows.append(b)
            day += dt.timedelta(days=1)
        self.past_room_bookings = rows
        self._activities_history(rows)
        rows.sort(key=lambda b: b.created_at)
        bulk.insert_with_ids(RoomBooking, rows)
        for b in rows:
            immediate = b.decided_at == b.created_at
            self.event(events.build(actor=b.requested_by, verb="services.room_requested", target=b,
                                    community=self.community, at=b.created_at,
                                    data={"room": b.room.pk, "status": RoomBooking.Status.APPROVED if immediate
                                          else RoomBooking.Status.REQUESTED, "attendees": b.attendees,
                                          "organisation": None}))
            if not immediate:
                self.event(rooms.ROOM_BOOKING.event(b, "approve", actor=b.decided_by,
                                                    before=RoomBooking.Status.REQUESTED, at=b.decided_at))
            self.result.room_bookings[b.status] += 1
        self._activities_written()

    def _activities_history(self, room_rows) -> None:
        """Two activities a month, each in its room (booked by the office, approved at once)."""
        rng = self.rng
        self.past_events = []
        day = self.start + dt.timedelta(days=3)
        n = 0
        while day < self.today - dt.timedelta(days=2):
            title, audience, room_code, minutes, capacity, (lo, hi), description, summary = ACTIVITIES[
                n % len(ACTIVITIES)]
            n += 1
            room = self.rooms[room_code]
            when = day + dt.timedelta(days=(5 - day.weekday()) % 7)     # a Saturday afternoon
            starts = _aware(when, (14, 30))
            ends = starts + dt.timedelta(minutes=minutes)
            day += dt.timedelta(days=rng.randint(13, 17))
            if when >= self.today - dt.timedelta(days=1) or any(
                    b.room is room and b.starts_at < ends and starts < b.ends_at for b in room_rows):
                continue
            created = starts - dt.timedelta(days=rng.randint(10, 20))
            booking = RoomBooking(room=room, starts_at=starts, ends_at=ends, purpose=title[:200],
                                  attendees=min(capacity, room.capacity), requested_by=self.worker,
                                  status=RoomBooking.Status.APPROVED, decided_by=self.worker, decided_at=created,
                                  created_at=created)
            room_rows.append(booking)
            event = Event(community=self.community, title=title, audience=audience, description=description,
                          place=room.name, room_booking=booking, starts_at=starts, ends_at=ends,
                          capacity=min(capacity, room.capacity), min_age=lo, max_age=hi, organiser=self.worker,
                          qr_secret="%064x" % rng.getrandbits(256), status=Event.Status.DONE, summary=summary,
                          summary_at=min(ends + dt.timedelta(hours=rng.randint(2, 30)), self.latest),
                          created_at=created)
            self.past_events.append(event)

    def _activities_written(self) -> None:
        rng, year = self.rng, self.today.year
        for e in self.past_events:
            e.room_booking_id = e.room_booking.pk
        bulk.insert_with_ids(Event, self.past_events)
        signups = []
        for e in self.past_events:
            fitting = [pk for pk in self.pool if self._age_fits(e, self.residents[pk], year)]
            if e.audience in ("children", "families"):
                fitting = [pk for pk in self.pool if year - self.residents[pk].birth_year < 50]
            taken, wanted = 0, int(e.capacity * rng.uniform(0.6, 1.1))
            for pk in rng.sample(fitting, min(len(fitting), 40)):
                party = rng.choice((2, 2, 3)) if e.audience in ("children", "families") else 1
                if taken >= wanted:
                    break
                at = e.created_at + dt.timedelta(hours=rng.randint(2, 200))
                at = min(at, e.starts_at - dt.timedelta(hours=3))
                s = EventSignup(event=e, resident_id=pk, party_size=party, created_at=at)
                if taken + party <= e.capacity:
                    taken += party
                    s.status = EventSignup.Status.ATTENDED if rng.random() < 0.9 else EventSignup.Status.CONFIRMED
                    if s.status == EventSignup.Status.ATTENDED:
                        s.checked_in_at = e.starts_at - dt.timedelta(minutes=rng.randint(0, 20))
                else:
                    s.status = EventSignup.Status.WAITING
                signups.append(s)
            e.taken = taken
        bulk.update(Event, self.past_events, ["taken"])
        bulk.insert_with_ids(EventSignup, signups)
        for e in self.past_events:
            self.event(events.build(actor=e.organiser, verb="services.event_created", target=e,
                                    community=self.community, at=e.created_at,
                                    data={"event": e.pk, "audience": e.audience, "capacity": e.capacity,
                                          "room": e.room_booking.room.pk, "staff_slots": 0}))
            self.event(activities.EVENT.event(e, "summarise", actor=e.organiser, before=Event.Status.OPEN,
                                              at=e.summary_at))
            self.result.activities[e.status] += 1
        for s in signups:
            taken = s.status != EventSignup.Status.WAITING
            verb = "services.signed_up" if taken else "services.signup_waiting"
            self.event(events.build(actor=self.worker, verb=verb, target=s, community=self.community, at=s.created_at,
                                    data={"event": s.event.pk, "party": s.party_size,
                                          "status": EventSignup.Status.CONFIRMED if taken else s.status}))
            if s.status == EventSignup.Status.ATTENDED:
                self.event(activities.SIGNUP.event(s, "check_in", actor=self.worker,
                                                   before=EventSignup.Status.CONFIRMED, at=s.checked_in_at,
                                                   data={"source": "manual"}))
        self.result.signups += len(signups)

    @staticmethod
    def _age_fits(event, resident, year) -> bool:
        age = year - resident.birth_year
        return (event.min_age is None or age >= event.min_age) and (event.max_age is None or age <= event.max_age)

    def write_events(self) -> None:
        self.events.sort(key=lambda e: e.created_at)
        self.result.events += bulk.insert(LogEvent, self.events)
        self.events = []

    def analyze(self) -> None:
        bulk.analyze(Slot, Booking, RoomBooking, Event, EventSignup)

    # -- the next four weeks, through the services -------------------------------------------------------

    def live(self) -> None:
        """The slots of the next four weeks; bookings by phone, at the desk and online (one slot
        full with a waiting list; the ``resident`` sign-in's haircut)."""
        rng = self.rng
        self.clock.at = None
        now = timezone.now()
        upcoming: dict[str, list[Slot]] = {}
        for code, service in self.services.items():
            weekday, start, end, every, capacity, held = self.plans[code]
            found = []
            for week in range(AHEAD_WEEKS + 1):
                day = self.today + dt.timedelta(days=(weekday - self.today.weekday()) % 7 + 7 * week)
                if day > self.today + dt.timedelta(weeks=AHEAD_WEEKS):
                    continue
                if code == "dental" and (day.isocalendar()[1] % 2):
                    continue
                if _aware(day, start) <= now:
                    continue
                actor = self.clinic_user if (code in ("clinic", "dental") and self.clinic_user) else self.worker
                found += catalogue.slots_create(actor=actor, service=service, day=day, start=dt.time(*start),
                                                end=dt.time(*end), every_minutes=every, capacity=capacity,
                                                priority_places=held)
            upcoming[code] = sorted(found, key=lambda s: s.starts_at)
            self.result.slots += len(found)
        # The resident's haircut: the next one they may take.
        if self.signin is not None and upcoming.get("haircut"):
            for slot in upcoming["haircut"]:
                booking, _created = bookings.book(actor=self.signin.user, slot=slot, resident=self.signin,
                                                  channel=Booking.Channel.ONLINE, waitlist=False) \
                    if bookings.places_left(slot, priority=False) > 0 else (None, False)
                if booking is not None:
                    self.result.bookings["booked"] += 1
                    break
        # Others, by phone, at the desk and online; the first clinic slot filled, with a waiting list.
        for code, slots in upcoming.items():
            for i, slot in enumerate(slots[:6]):
                fill = slot.capacity + 1 if (code == "clinic" and i == 0) else rng.randint(0, slot.capacity)
                people = self.elders if code != "legal" else self.pool
                for pk in rng.sample(people, min(fill, len(people))):
                    resident = self.residents[pk]
                    if resident.user_id is not None and rng.random() < 0.4:
                        actor, channel = resident.user, Booking.Channel.ONLINE
                    else:
                        actor, channel = self.worker, rng.choice((Booking.Channel.PHONE, Booking.Channel.WALK_IN))
                    try:
                        booking, _created = bookings.book(actor=actor, slot=slot, resident=resident, channel=channel)
                    except (Conflict, PermissionDenied) as exc:
                        # A rule refused this one (too many open bookings, too many no-shows): skipped.
                        if exc.code in ("too_many", "no_show_limit"):
                            continue
                        raise
                    self.result.bookings[booking.status] += 1

    def rooms_live(self) -> None:
        """Requests for the coming weeks: by the office (approved at once), by the building
        leader (one waiting for the office, one declined), by the health centre's staff."""
        self.clock.at = None
        leader = staff("leader")
        plans = (
            (self.worker, "law-theatre", 10, (14, 0), (16, 30), "居民议事会：加装电梯方案说明", 80, None),
            (leader, "memory-hall", 3, (9, 0), (11, 0), "楼栋长带新搬来的居民参观社区记忆馆", 12, None),
            (leader, "law-theatre", 12, (19, 0), (20, 30), "业余川剧队彩排", 40, DECLINE_REASON),
            (self.clinic_user, "activity-2", 6, (14, 0), (16, 0), "健康讲座：冬季心脑血管保健", 20, None),
            (self.worker, "memory-hall", 5, (9, 30), (11, 0), "小学生参观社区记忆馆", 35, None),
        )
        for actor, code, days, start, end, purpose, attendees, decline in plans:
            if actor is None:
                continue
            day = self.today + dt.timedelta(days=days)
            booking = rooms.request(actor=actor, room=self.rooms[code], starts_at=_aware(day, start),
                                    ends_at=_aware(day, end), purpose=purpose, attendees=attendees)
            if decline and booking.status == RoomBooking.Status.REQUESTED:
                booking = rooms.decline(actor=self.worker, booking=booking, reason=decline)
            self.result.room_bookings[booking.status] += 1

    def activities_live(self) -> None:
        """The coming activities (one staffed by volunteers, who earn points), with sign-ups."""
        rng, year = self.rng, self.today.year
        self.clock.at = None
        for n, spec in enumerate(ACTIVITIES):
            title, audience, room_code, minutes, capacity, (lo, hi), description, _summary = spec
            when = self.today + dt.timedelta(days=2 + 4 * n)
            starts = _aware(when, (14, 30) if when.weekday() >= 5 else (19, 0))
            ends = starts + dt.timedelta(minutes=minutes)
            room = self.rooms[room_code]
            if not rooms.is_open(room, starts, ends) or rooms.overlapping(room, starts, ends).exists():
                room = None
            event = activities.event_create(
                actor=self.worker, community=self.community, title=title, audience=audience, starts_at=starts,
                ends_at=ends, capacity=capacity if room is None else min(capacity, room.capacity),
                place="" if room is not None else self.rooms[room_code].name, room=room, min_age=lo, max_age=hi,
                staff_slots=3 if n == 0 else 0, description=description)
            self.result.activities[event.status] += 1
            family = audience in ("children", "families")
            fitting = [pk for pk in self.pool
                       if (year - self.residents[pk].birth_year < 50 if family
                           else self._age_fits(event, self.residents[pk], year))]
            for pk in rng.sample(fitting, min(len(fitting), rng.randint(3, 8))):
                resident = self.residents[pk]
                actor = resident.user if resident.user_id is not None else self.worker
                activities.signup(actor=actor, event=event, resident=resident,
                                  party_size=rng.choice((2, 3)) if family else 1)
                self.result.signups += 1


def seed_services(*, community: Community, seed: int) -> ServicesResult:
    """The demo's bookable services, rooms and activities (see the module's docstring), in the
    installation's language. Raises what the services raise; the caller's transaction keeps it whole."""
    started, cpu = time.perf_counter(), time.process_time()
    result = ServicesResult()
    with translation.override(settings.LANGUAGE_CODE), replay_clock() as clock:
        plan = _Services(community, seed, clock, result)
        for part in (plan.setup, plan.people, plan.history, plan.rooms_history, plan.write_events, plan.analyze,
                     plan.live, plan.rooms_live, plan.activities_live):
            step = time.process_time()
            part()
            result.phases[part.__name__] = round(time.process_time() - step, 2)   # CPU seconds
        clock.at = None
    result.seconds = round(time.perf_counter() - started, 2)
    result.cpu_seconds = round(time.process_time() - cpu, 2)
    return result


def summary_lines(result: ServicesResult) -> list[str]:
    """What `linli seed-demo` says about the services, rooms and activities."""
    b = result.bookings
    return [_(
        "Services: %(services)d services of %(providers)d providers, %(slots)s slots; bookings: %(attended)d "
        "attended, %(no_show)d no-shows, %(cancelled)d cancelled (%(late)d late), %(booked)d booked and "
        "%(waiting)d waiting for the coming weeks; %(rooms)d rooms with %(room_bookings)d bookings; "
        "%(done)d activities held and %(open)d coming (%(signups)d sign-ups); in %(s).2f s (%(cpu).2f s of CPU)."
    ) % {
        "services": result.services, "providers": result.providers, "slots": f"{result.slots:,}",
        "attended": b.get("attended", 0), "no_show": b.get("no_show", 0),
        "cancelled": b.get("cancelled", 0) + b.get("late_cancelled", 0), "late": b.get("late_cancelled", 0),
        "booked": b.get("booked", 0), "waiting": b.get("waiting", 0), "rooms": result.rooms,
        "room_bookings": sum(result.room_bookings.values()), "done": result.activities.get("done", 0),
        "open": result.activities.get("open", 0), "signups": result.signups, "s": result.seconds,
        "cpu": result.cpu_seconds}]


__all__ = ["ServicesResult", "seed_services", "summary_lines"]
