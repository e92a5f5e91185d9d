"""Two years of cases for the demo community: what residents asked, and how it went.

:func:`build_case_history` writes, for a community that has no cases yet, the
cases a community of its size receives over ``days`` days up to ``end``, with
every case's event rows, so that the case list, the three rates, the hot-issue
charts and a resident's timeline have a past to show.

How it is made:

* **Volume.** About 17 cases a day for Y社区's 14,789 households (scaled by the
  community's household count), drawn per day and theme from a Poisson law
  whose mean follows the season (water, power and heat in summer, noise on
  summer evenings, gas in winter), the week (fewer phone calls and walk-ins at
  weekends), the Spring Festival and National Day holidays (fewer), and a slow
  rise as more residents use the platform.
* **Texts.** Written for Linli, nothing copied: each theme has sentence
  templates with slots (courtyard, building, unit, spot, time, floor, parts…)
  wrapped in the way each channel words a request (a resident typing, a
  hotline summary "来电人反映：…", a walk-in note, a grid worker's patrol log,
  a 12345 hand-over), so thousands of cases read differently.
* **Life.** Each case is given a whole life the way the services would have
  lived it (accept or reject, merge of duplicates, dispatch, transfer or
  return, first contact, start, resolve, rating or visit-back, reopening when
  unsatisfied, closing unrated), at office or working hours, with deadlines
  from the category's :class:`~linli.cases.models.TimeLimit` through
  :func:`linli.cases.deadlines.due`. The life is then cut at ``end``: what
  happened later has not happened yet, so the last two weeks are still open
  in every state, and open cases past their deadlines are flagged overdue.
* **Rows.** Cases and their events (the same verbs and data as
  :func:`linli.cases.workflow.transition` writes) go in with ``bulk_create``;
  event times are then set to the historical moments (``Event.created_at`` is
  ``auto_now_add``). Deterministic: the same seed, community and ``end`` give
  the same cases.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community import demo_names
from linli.community.models import Building, Community, Grid, Household, Organisation, Resident, StaffRole
from linli.core.models import Event

from . import classify, deadlines, rollup
from .jobs import ESCALATION_TARGET, REMIND_SHARE, WORKING_STATUSES, visit_back_days
from .models import Case, Category, Holiday, RoutingRule, TimeLimit, TimeUnit, Urgency

S = Case.Status
CH = Case.Channel

# Y社区 (14,789 households) receives about this many cases a day on average.
REFERENCE_HOUSEHOLDS = 14_789
BATCH = 2000
MAX_DAYS = 3650

# 春节 (first day of the lunar year): fewer requests around it.
SPRING_FESTIVAL = {
    2018: dt.date(2018, 2, 16), 2019: dt.date(2019, 2, 5), 2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3), 2031: dt.date(2031, 1, 23), 2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31), 2034: dt.date(2034, 2, 19), 2035: dt.date(2035, 2, 8),
}


class HistoryError(Exception):
    """The history cannot be written here (the community already has cases, bad arguments)."""


# ---------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------
#
# Templates use these slots; every one is filled for every channel:
#   {yard} courtyard  {bld} building  {bld2} another building  {unit} unit no.
#   {door} = courtyard + building + unit  {spot} a place in the courtyard
#   {since} how long  {night} an evening time  {time} when it happened
#   {floor} a floor  {road} a street outside  {hours} a time of day
#   {age} an elder's age  {facility} a community service  {part} a lift part
#   {n} a small number  {home} "my home" / "其家中"  {we} "we" / "居民"
#   {I} "I" / "来电人"
# A template starting "S|" is used only in summer (June–September), "W|"
# only in winter (November–February).


@dataclass(frozen=True)
class Theme:
    code: str
    # Words that find this theme's category in a community's tree: tried
    # group by group, each against the category code and names.
    hints: tuple[tuple[str, ...], ...]
    per_day: float                    # mean cases a day at Y社区's size, before season and week
    texts: tuple[tuple[str, str], ...]    # (key, template): what residents say
    patrol: tuple[tuple[str, str], ...]   # (key, template): what a grid worker logs; empty: never on patrol
    resolutions: dict                 # key → what the unit writes when it is done
    units: tuple[str, ...]            # unit-name hints when the category has no unit
    urgent: float = 0.02
    reject: float = 0.02
    summer: float = 0.0               # extra at the height of summer: 0.8 → 1.8×
    winter: float = 0.0
    evening: float = 0.0              # share raised in the evening (more in summer)
    weekend: float = 1.0              # weekend factor
    on_site: bool = True              # handled at the place (else by phone or at the desk)
    channels: dict = field(default_factory=dict)   # channel weight overrides


THEMES: tuple[Theme, ...] = (
    Theme(
        code="lift", per_day=1.1, urgent=0.12, units=("物业",),
        hints=(("lift", "elevator", "电梯"), ("property", "物业")),
        texts=(
            ("breakdown", "{door}的电梯{since}老是出故障，经常停在半中间不动，{we}只能爬楼梯"),
            ("button", "{door}电梯的按钮失灵，按了没反应，有时候等十几分钟都不来"),
            ("noise", "{door}电梯运行的时候有很大的异响，轿厢晃得厉害，坐着心里发慌"),
            ("stopped", "{door}电梯{since}一直停运，楼上住的老人下不了楼，买菜看病都成了问题"),
            ("trapped", "{door}电梯{time}又困人了，被困了二十多分钟才有人来，希望彻底检修"),
            ("cert", "{door}电梯里张贴的年检合格证已经过期，不知道还能不能放心坐"),
            ("light", "{door}电梯轿厢里的灯坏了，晚上黑漆漆的，小孩子不敢一个人坐"),
            ("door", "{door}电梯门关得太快，{home}老人进出的时候被夹过一次"),
            ("level", "{door}电梯{since}平层不准，出电梯要跨一个台阶，已经有人绊倒"),
            ("fan", "S|{door}电梯里没有通风，夏天像蒸笼一样，风扇坏了一直没修"),
            ("protect", "{door}电梯经常被装修工人用来运建材，轿厢壁板都刮花了，也没有做保护"),
        ),
        patrol=(
            ("stopped", "{door}电梯停运，门口没有设置任何提示牌"),
            ("phone", "{door}电梯轿厢内的应急对讲电话无法接通"),
            ("cert", "{door}电梯维保记录已超期未签"),
        ),
        resolutions={
            "breakdown": ("已通知物业联系电梯维保单位上门检修，更换了{part}，试运行正常。",
                          "维保单位已到场排除故障，并对该梯做了一次全面保养，物业承诺加强日常巡检。"),
            "button": ("维保单位已更换按钮面板和召唤盒，电梯响应恢复正常。",),
            "noise": ("维保单位检查发现导靴磨损，已更换导靴并调整了钢丝绳张力，异响消除。",),
            "stopped": ("物业已在电梯口张贴维修公告，配件到货后完成更换，电梯已恢复运行。",
                        "维保单位更换了{part}，电梯已恢复运行；停运期间安排志愿者帮老人送菜上楼。"),
            "trapped": ("维保单位已对该梯全面检修，更换了{part}，经特种设备检验机构复检合格。",),
            "cert": ("已督促物业完成电梯年检，新的合格证已张贴在轿厢内。",),
            "light": ("已更换轿厢照明灯和应急照明电池。",),
            "door": ("维保单位已调慢关门速度，并检修了门光幕，夹人问题已解决。",),
            "level": ("维保单位调整了平层感应器，平层已恢复正常，后续每半月保养一次。",),
            "fan": ("已更换轿厢风扇，并在机房加装了通风设备。",),
            "protect": ("物业已要求装修运料时在轿厢内加装防护板，并约谈了相关装修户。",),
            "phone": ("已维修轿厢应急对讲电话，测试与监控中心通话正常。",),
        },
    ),
    Theme(
        code="building", per_day=1.0, units=("物业",), summer=0.4,
        hints=(("repair", "building", "house", "房屋", "维修"), ("property", "物业")),
        texts=(
            ("roof", "{door}楼顶的防水层老化了，一下雨顶楼就渗水，墙面都发霉了"),
            ("drainpipe", "{door}楼道里的排水管破了，污水顺着墙往下流，气味很大"),
            ("tiles", "{door}外墙的瓷砖松动，已经掉下来好几块，下面天天有人走，太危险了"),
            ("window", "{door}{floor}楼楼道窗户的玻璃碎了一直没换，下雨就往里飘"),
            ("gate", "{yard}{bld}{unit}单元的门禁坏了{since}，谁都能进，门也关不严"),
            ("stairlight", "{door}楼道灯{since}不亮，晚上上下楼全靠手机照明"),
            ("ceiling", "{home}卫生间天花板漏水，应该是楼上的管道有问题，物业说要等楼上配合"),
            ("plaster", "S|最近雨多，{door}楼道墙皮大片脱落，地上全是灰"),
            ("mailbox", "{door}的信报箱锈坏了，门都掉了，信件经常丢"),
            ("rail", "{door}楼梯扶手松了，老人上下楼扶着直晃"),
        ),
        patrol=(
            ("stairlight", "{door}楼道声控灯损坏{n}处"),
            ("gate", "{door}单元门闭门器损坏，门无法关闭"),
            ("tiles", "{door}外墙有瓷砖空鼓脱落，下方未设置警示"),
        ),
        resolutions={
            "roof": ("物业已安排维修人员对楼顶防水做局部修补，雨后复查未再渗漏。",
                     "已申请使用维修资金对楼顶防水层整体翻新，施工期间做好了临时遮挡。"),
            "drainpipe": ("已更换楼道破损的排水管，并对墙面做了清洗。",),
            "tiles": ("物业已清理松动的外墙瓷砖并拉设警戒线，现已完成修复。",),
            "window": ("已更换楼道破损的窗户玻璃。",),
            "gate": ("已维修单元门门禁，更换了电控锁和闭门器，门禁恢复使用。",),
            "stairlight": ("已更换楼道声控灯{n}盏，照明恢复正常。",),
            "ceiling": ("已协调楼上住户配合检修，更换了老化的下水管，楼下不再漏水。",),
            "plaster": ("已铲除楼道脱落的墙皮并重新粉刷。",),
            "mailbox": ("已更换单元信报箱。",),
            "rail": ("已加固楼梯扶手，更换了松动的固定件。",),
        },
    ),
    Theme(
        code="parking", per_day=1.5, units=("物业",), weekend=1.1,
        hints=(("parking", "vehicle", "停车", "车辆"), ("property", "物业")),
        channels={CH.PATROL: 20},
        texts=(
            ("fireway", "{yard}{spot}经常有外来车辆乱停，把消防通道都堵死了"),
            ("garage", "S|{yard}地下车库{since}积水，一下雨车都开不进去"),
            ("charger", "{yard}非机动车棚的充电桩坏了好几个，大家只好把电瓶提回家充"),
            ("zombie", "有辆车在{yard}{spot}停了大半年没动过，落满了灰，像是僵尸车"),
            ("fee", "{yard}停车费突然上调，没有公示也没有征求业主意见，{we}不认可"),
            ("barrier", "{yard}门口的道闸{since}识别不了车牌，进出要排很久的队"),
            ("bikes", "{yard}{spot}的共享单车堆了一大片，把人行道都占了"),
            ("lock", "{yard}{spot}有人用地锁占公共车位，还堆了杂物"),
            ("full", "{yard}晚上车位不够，车停满了主干道，救护车都进不来"),
        ),
        patrol=(
            ("fireway", "{yard}{spot}有机动车占用消防通道"),
            ("zombie", "{yard}{spot}有长期停放的废弃车辆{n}辆"),
            ("bikes", "{yard}{spot}共享单车堆放杂乱，占用人行道"),
        ),
        resolutions={
            "fireway": ("物业已张贴挪车通知并联系车主挪车，消防通道已恢复畅通，后续每天巡查。",
                        "已在消防通道施划禁停标线，外来车辆登记后方可进入。"),
            "garage": ("物业已检修车库排水泵，新增一台抽水泵，积水已排除。",),
            "charger": ("已联系充电桩运营商维修，损坏的充电桩已恢复使用。",),
            "zombie": ("已对废弃车辆张贴清理告示，期满后协调交警部门拖移。",),
            "fee": ("停车收费调整已暂停执行，物业将按程序征求业主意见后再公示。",),
            "barrier": ("已维修道闸识别系统，车辆进出恢复正常。",),
            "bikes": ("已联系共享单车运营企业清运车辆，并在{spot}划定了停放区。",),
            "lock": ("已拆除私装地锁，清理了杂物。",),
            "full": ("物业已重新规划车位，夜间安排保安疏导，保证主干道畅通。",),
        },
    ),
    Theme(
        code="sanitation", per_day=2.0, units=("物业",), summer=0.35,
        hints=(("waste", "rubbish", "garbage", "垃圾"), ("sanitation", "环境卫生", "卫生"), ("environment", "环境")),
        channels={CH.PATROL: 26},
        texts=(
            ("bins", "{yard}{spot}的垃圾桶{since}没人清运，已经堆满溢出来了"),
            ("smell", "S|天热了，{yard}{spot}的垃圾没有及时清运，臭气熏天，苍蝇到处飞"),
            ("hallway", "{door}楼道里堆满了纸箱和旧家具，清理了没几天又堆上了"),
            ("debris", "{yard}垃圾分类亭旁边经常有人乱扔装修垃圾，已经堆成了小山"),
            ("rats", "{yard}{spot}老鼠很多，晚上经常看到，希望做一次灭鼠"),
            ("junk", "{yard}{spot}有人长期在空地上堆放废品，味道大还招苍蝇"),
            ("cleaning", "{yard}的保洁{since}基本看不到人，落叶和烟头都没人扫"),
            ("truck", "{yard}的垃圾车每天早上六点不到就来收垃圾，哐哐响，吵得没法睡"),
        ),
        patrol=(
            ("bins", "{yard}{spot}垃圾未及时清运，有溢出"),
            ("hallway", "{door}楼道内堆放大量杂物"),
            ("debris", "{yard}{spot}有建筑垃圾乱堆乱放"),
        ),
        resolutions={
            "bins": ("物业已增派保洁人员，垃圾已全部清运，清运频次调整为每天两次。",),
            "smell": ("已清运积存垃圾，对垃圾桶进行了清洗消杀，夏季每天清运两次。",),
            "hallway": ("已清理楼道堆放的杂物，并张贴告示提醒住户不要在楼道堆物。",),
            "debris": ("已协调环卫部门清运装修垃圾，并在分类亭旁张贴了装修垃圾预约清运电话。",),
            "rats": ("已请有害生物防治公司在{yard}投放鼠药、设置鼠饵站，两周后复查。",),
            "junk": ("已劝导住户清理废品，空地已恢复整洁。",),
            "cleaning": ("已约谈物业保洁主管，增加了保洁频次，并公示了保洁排班。",),
            "truck": ("已协调环卫公司将收运时间调整到早上七点以后。",),
        },
    ),
    Theme(
        code="drains", per_day=0.45, units=("物业", "城市管理"), summer=0.6,
        hints=(("drain", "sewage", "下水", "污水"), ("sanitation", "环境卫生", "卫生")),
        channels={CH.PATROL: 20},
        texts=(
            ("sewer", "{yard}{spot}有个污水井往外冒水，地上全是污水，走路都要绕开"),
            ("septic", "{yard}{spot}的化粪池满了，味道很大"),
            ("backflow", "{door}一楼的下水道{since}反水，{home}卫生间地上全是脏水"),
            ("blocked", "S|一下大雨{yard}{spot}的下水道就堵，污水漫到了路上"),
        ),
        patrol=(
            ("sewer", "{yard}{spot}污水井冒溢"),
        ),
        resolutions={
            "sewer": ("已联系专业单位疏通污水井，冒水问题已解决，周边路面已冲洗。",),
            "septic": ("已安排抽运化粪池，并对周边进行了除臭消杀。",),
            "backflow": ("已疏通单元主排水管，并在一楼加装了止回阀，不再反水。",),
            "blocked": ("已用高压水车疏通排水管网，清掏了雨污水井。",),
        },
    ),
    Theme(
        code="greenery", per_day=0.8, units=("物业",), summer=0.6,
        hints=(("green", "绿化", "园林", "树木"), ("environment", "环境")),
        channels={CH.PATROL: 18},
        texts=(
            ("branches", "{yard}{spot}的大树枝伸到了{bld}窗户边上，挡光不说，刮风的时候拍得窗户砰砰响"),
            ("weeds", "S|{yard}{spot}绿化带里的杂草长得比人还高，蚊子特别多"),
            ("leaning", "{yard}{spot}有棵树歪得很厉害，看着随时会倒，下面还停着车"),
            ("veg", "{yard}中心花园的草坪被人开垦出来种菜，还浇粪水，味道很大"),
            ("pests", "S|{yard}{spot}的树上有很多毛毛虫，掉得满地都是，小孩子就在下面玩"),
            ("bare", "{yard}{spot}有一片绿地被车压坏了，成了裸土，一刮风就起灰"),
            ("mosquito", "S|天热了，{yard}{spot}蚊虫特别多，希望安排一次消杀"),
            ("lamp", "{yard}{spot}的树好久没修剪了，把路灯都挡住了"),
        ),
        patrol=(
            ("lamp", "{yard}{spot}树木枝条遮挡路灯"),
            ("veg", "{yard}{spot}绿地被毁种菜"),
            ("leaning", "{yard}{spot}有一棵树倾斜，存在倒伏隐患"),
        ),
        resolutions={
            "branches": ("物业已安排园林人员修剪了伸到窗边的树枝。",),
            "weeds": ("已清除绿化带杂草，并做了一次蚊虫消杀。",),
            "leaning": ("已对倾斜树木进行扶正加固，并清理了周边枯枝。",),
            "veg": ("已劝导住户恢复绿地，毁绿种菜区域已补种草皮。",),
            "pests": ("已对病虫害树木喷药防治，并清扫了掉落的虫子和落叶。",),
            "bare": ("已补种草皮并加装了隔离桩，防止车辆碾压。",),
            "mosquito": ("已对{yard}绿化带进行了蚊虫消杀，后续每周消杀一次。",),
            "lamp": ("已修剪遮挡路灯的树枝，路面照明恢复。",),
        },
    ),
    Theme(
        code="lighting", per_day=0.55, units=("城市管理", "城管", "物业"), winter=0.2,
        hints=(("lighting", "light", "lamp", "照明", "路灯"), ("road", "道路", "市政")),
        channels={CH.PATROL: 26},
        texts=(
            ("out", "{yard}{spot}的路灯{since}不亮，晚上一片漆黑，老人出门很不安全"),
            ("daytime", "{road}靠{yard}一侧的路灯白天也亮着，太浪费了"),
            ("flicker", "{yard}{spot}的路灯一闪一闪的，晚上晃得人眼花"),
            ("dark", "W|天黑得早，{yard}{spot}连一盏灯都没有，下班回来走路提心吊胆"),
            ("wires", "{yard}{spot}的景观灯坏了好几个，灯杆上的电线还露在外面"),
            ("blocked", "{road}靠{yard}那段的路灯被树枝挡住了，照不到路面"),
        ),
        patrol=(
            ("out", "{yard}{spot}路灯不亮{n}盏"),
            ("wires", "{yard}{spot}路灯灯杆电线外露"),
        ),
        resolutions={
            "out": ("已更换损坏的路灯灯具{n}套，照明恢复正常。", "已检修路灯线路，更换了老化的电缆接头，路灯已恢复。"),
            "daytime": ("已调整路灯的开关时间，并检修了光控开关。",),
            "flicker": ("已更换故障的镇流器和灯管，路灯恢复稳定。",),
            "dark": ("已在{spot}新增庭院灯{n}盏。",),
            "wires": ("已更换损坏的景观灯，并对外露电线做了绝缘包扎和穿管。",),
            "blocked": ("已修剪遮挡路灯的树枝。",),
        },
    ),
    Theme(
        code="roads", per_day=0.6, units=("城市管理", "城管", "物业"), summer=0.3,
        hints=(("surface", "pavement", "路面", "破损"), ("road", "道路", "市政")),
        channels={CH.PATROL: 26},
        texts=(
            ("potholes", "{yard}{spot}的路面坑坑洼洼，下雨就积水，电瓶车经过差点摔倒"),
            ("manhole", "{yard}{spot}有个井盖松动了，踩上去会翻，很危险"),
            ("pavers", "{yard}门口人行道的地砖翘起来好几块，老人很容易绊倒"),
            ("bumps", "{road}靠{yard}那段的减速带坏了，车开得飞快"),
            ("drain", "S|{yard}{spot}的雨水篦子被堵住了，一下雨门口就成了河"),
            ("tactile", "{yard}门口的盲道被占用，还断了好几截"),
            ("sinkhole", "{road}靠{yard}那段路面塌了一个坑，晚上看不见"),
        ),
        patrol=(
            ("manhole", "{yard}{spot}井盖破损"),
            ("sinkhole", "{road}靠{yard}路段路面塌陷"),
            ("pavers", "{yard}门口人行道地砖松动"),
        ),
        resolutions={
            "potholes": ("已对破损路面进行修补，积水问题已解决。",),
            "manhole": ("已更换松动的井盖，并加装了防坠网。",),
            "pavers": ("已重新铺设翘起的人行道地砖。",),
            "bumps": ("已修复减速带，并在路口增设了减速慢行标志。",),
            "drain": ("已疏通雨水篦子和排水管道，下雨后复查无积水。",),
            "tactile": ("已清理占用盲道的物品，修复了断开的盲道砖。",),
            "sinkhole": ("已设置围挡和警示灯，塌陷路面已回填修复。",),
        },
    ),
    Theme(
        code="water", per_day=0.9, urgent=0.08, units=("自来水", "供水"), summer=0.9,
        hints=(("water", "供水", "用水", "自来水"), ("utilit", "水电", "水电气")),
        texts=(
            ("pressure", "{yard}{since}水压很低，{floor}楼以上基本没水，做饭洗澡都困难"),
            ("yellow", "{home}水龙头放出来的水发黄，还有一股怪味，不敢喝"),
            ("cut", "{yard}{time}突然停水了，事先没有任何通知"),
            ("burst", "{yard}{spot}地下的供水管好像破了，地面一直在冒水"),
            ("tank", "{yard}二次供水的水箱很久没清洗了，希望公布一下水质检测结果"),
            ("meter", "{home}水表一直在走，但是家里没用水，怀疑哪里的管子漏了"),
            ("evening", "S|天太热用水多，{yard}{since}一到晚上就没水，洗澡都成问题"),
            ("heat", "S|高温天{yard}{time}停水，到现在还没来水，家里老人热得受不了"),
        ),
        patrol=(
            ("burst", "{yard}{spot}地下供水管道破裂漏水"),
            ("hydrant", "{yard}{spot}消火栓漏水"),
        ),
        resolutions={
            "pressure": ("已检修二次供水加压泵，高楼层水压恢复正常。",),
            "yellow": ("供水所上门检测，发黄是管道老化所致，已冲洗管道，后续纳入老旧管网改造计划。",),
            "cut": ("经与供水所核实为管道抢修临时停水，现已恢复供水，今后停水将提前一天张贴公告。",),
            "burst": ("供水所已派员抢修破裂管道，当天恢复供水并回填了路面。",),
            "tank": ("已对{yard}二次供水设施进行清洗消毒，水质检测合格，结果已在公示栏张贴。",),
            "meter": ("经检查为户内管道渗漏，已告知住户维修，并提供了维修师傅的联系方式。",),
            "evening": ("已调整加压泵运行参数，用水高峰增开一台水泵，晚间供水恢复正常。",),
            "heat": ("供水所已完成抢修恢复供水，停水期间社区为独居老人送去了饮用水。",),
            "hydrant": ("已关闭阀门并更换了消火栓密封件，不再漏水。",),
        },
    ),
    Theme(
        code="power", per_day=0.7, urgent=0.12, units=("供电",), summer=1.3,
        hints=(("power", "electric", "供电", "用电", "电力"), ("utilit", "水电", "水电气")),
        texts=(
            ("trips", "{yard}{since}频繁停电，一天跳好几次闸，冰箱里的东西都坏了"),
            ("outage", "{door}{time}停电了，到现在还没来电，家里有老人"),
            ("box", "{door}楼道的电表箱门坏了，里面的电线都露在外面"),
            ("sag", "{yard}{spot}电线杆上的线垂得很低，下雨天还冒火花"),
            ("voltage", "{home}电压不稳，灯一闪一闪的，空调都开不起来"),
            ("peak", "S|高温天{yard}{since}一到晚上用电高峰就停电，热得根本睡不着"),
            ("heat", "S|{yard}{time}又停电了，这么热的天，家里老人孩子受不了"),
        ),
        patrol=(
            ("box", "{door}电表箱门损坏，线路裸露"),
            ("sag", "{yard}{spot}电力线缆下垂"),
        ),
        resolutions={
            "trips": ("供电中心已派员检修，更换了烧坏的{part2}，线路运行正常。",),
            "outage": ("供电中心已派员抢修，当天恢复供电。",),
            "box": ("已更换损坏的电表箱门并整理了裸露线路。",),
            "sag": ("已对下垂线缆进行紧线处理，消除了安全隐患。",),
            "voltage": ("经检测为户内线路老化，已告知住户请电工检修，并讲解了安全用电知识。",
                        "已调整台区变压器分接头，电压恢复正常。"),
            "peak": ("已对{yard}的配电变压器进行增容改造，迎峰度夏期间安排专人值守。",),
            "heat": ("供电中心已抢修恢复供电，并对{yard}的低压线路进行了排查。",),
        },
    ),
    Theme(
        code="gas", per_day=0.35, urgent=0.45, units=("燃气",), winter=0.9,
        hints=(("gas", "燃气", "天然气"), ("utilit", "水电", "水电气")),
        texts=(
            ("smell", "{door}楼道里闻到一股燃气味，怀疑管道漏气"),
            ("meter", "{home}的燃气表{since}显示故障，没法充值"),
            ("rust", "{yard}{spot}的燃气管道外面锈得厉害，担心有隐患"),
            ("heater", "W|天冷了，{home}燃气热水器打不着火，燃气公司电话一直打不通"),
            ("trench", "{yard}燃气改造施工完，挖开的路面没有恢复，坑一直在那里"),
            ("pressure", "W|{yard}{since}燃气压力不够，灶上的火很小，做顿饭要很久"),
        ),
        patrol=(
            ("rust", "{door}楼道燃气管道锈蚀"),
            ("trench", "{yard}{spot}燃气施工后路面未恢复"),
        ),
        resolutions={
            "smell": ("燃气站已派员上门检测，紧固了泄漏接口，复测无泄漏。",),
            "meter": ("已更换故障燃气表，充值恢复正常。",),
            "rust": ("已对锈蚀的燃气立管做除锈防腐处理，并列入年度安检重点。",),
            "heater": ("燃气站已上门检查，为进气阀故障，维修后热水器恢复使用。",),
            "trench": ("已督促施工单位恢复路面。",),
            "pressure": ("已检修调压设施，燃气压力恢复正常。",),
        },
    ),
    Theme(
        code="noise", per_day=1.7, units=("城市管理", "综治", "物业"), summer=0.7, evening=0.45, weekend=1.25,
        hints=(("noise", "噪音", "噪声"),),
        channels={CH.PATROL: 6, CH.PHONE: 22},
        texts=(
            ("dance", "{night}{yard}{spot}有人跳广场舞，音响开得特别大，{we}根本没法休息"),
            ("renovation", "{door}楼上{since}天天装修，{hours}电钻声就没停过，周末也不休息"),
            ("bbq", "{yard}外面的烧烤摊{night}吵到很晚，喝酒划拳的声音很大"),
            ("site", "{yard}旁边的工地{night}还在施工，渣土车来来回回"),
            ("singing", "{door}{floor}楼有住户{night}大声唱歌放音乐，敲门也不理"),
            ("aircon", "S|{yard}{spot}有商铺的空调外机噪音很大，整晚嗡嗡响"),
            ("speaker", "{yard}{spot}有商铺用大喇叭循环播放促销广告，从早放到晚"),
            ("chatting", "S|{night}{yard}{spot}好多人乘凉聊天打牌，一直闹到半夜"),
            ("pump", "{yard}{spot}的水泵房{since}嗡嗡响，晚上特别明显"),
        ),
        patrol=(
            ("speaker", "{yard}{spot}商铺外放音响扰民"),
            ("site", "{yard}周边工地夜间施工"),
        ),
        resolutions={
            "dance": ("已与广场舞队负责人沟通，约定了音量和结束时间，晚上九点前结束。",),
            "renovation": ("已提醒装修户遵守装修时间规定，并在单元门张贴装修时间告示。",),
            "bbq": ("已联合城管对烧烤摊进行劝导，规范了经营时间。",),
            "site": ("已核实工地夜间施工许可，督促施工单位停止夜间高噪声作业。",),
            "singing": ("已上门劝导相关住户，住户表示会注意。",),
            "aircon": ("已要求商铺调整空调外机位置并加装减震垫，噪音明显降低。",),
            "speaker": ("已要求商铺撤除外放音响。",),
            "chatting": ("已在{spot}张贴文明纳凉提示，网格员晚间巡查劝导。",),
            "pump": ("物业已对水泵做减震处理，噪音明显降低。",),
        },
    ),
    Theme(
        code="neighbour", per_day=1.2, units=("综治", "社会工作", "物业"), reject=0.06, on_site=False,
        hints=(("neighbo", "dispute", "mediation", "邻里", "纠纷", "调解"),),
        channels={CH.PATROL: 2, CH.WALK_IN: 14},
        texts=(
            ("leak", "{door}楼上的住户{since}往下漏水，{home}天花板都泡坏了，协商了几次对方都不理"),
            ("hallway", "{door}邻居在楼道里堆杂物、装鞋柜，把公共通道占了一半"),
            ("camera", "{door}对门邻居在门口装了摄像头，正对着{home}大门，感觉隐私被侵犯"),
            ("aircon", "S|{door}楼上邻居的空调外机一直往{home}窗台上滴水，吵得睡不着"),
            ("dog", "{door}有邻居在楼道里养狗，狗屎没人清理"),
            ("balcony", "{door}隔壁住户把阳台往外扩建，占了公共区域，想请社区出面调解"),
            ("butts", "{door}楼上的住户往下扔烟头，{home}晾的衣服被烫了几个洞"),
            ("shed", "{door}楼下住户在公共花园里私自搭了棚子，说了也不听"),
        ),
        patrol=(
            ("hallway", "{door}住户在楼道堆放杂物占用公共通道"),
        ),
        resolutions={
            "leak": ("社区调解员已组织双方当面协商，楼上住户同意维修漏水管道并赔偿楼下损失。",),
            "hallway": ("已上门劝导住户清理楼道杂物，公共通道已恢复。",),
            "camera": ("已协调住户调整摄像头角度，不再对着邻居家门。",),
            "aircon": ("已协调楼上住户加装空调冷凝水管，不再滴水。",),
            "dog": ("已联合物业开展文明养犬宣传，并与养犬住户沟通，住户同意及时清理。",),
            "balcony": ("已请网格员和楼栋长一起调解，并告知违建由城管部门依法处理，双方达成一致意见。",),
            "butts": ("已上门提醒楼上住户，并在单元内张贴了禁止抛物的提示。",),
            "shed": ("已协调住户拆除私搭的棚子，恢复了公共花园。",),
        },
    ),
    Theme(
        code="fire", per_day=0.55, urgent=0.2, units=("应急", "综治", "物业"), winter=0.3,
        hints=(("fire", "消防"), ("safety", "安全")),
        channels={CH.PATROL: 30},
        texts=(
            ("charging", "{door}有人把电动车推进楼道里充电，电线从窗户拉出来，太危险了"),
            ("hydrant", "{yard}的消防栓被人拆了，里面的水带也不见了"),
            ("blocked", "{yard}{spot}的消防通道被杂物堵住了，消防车根本进不来"),
            ("extinguisher", "{door}楼道的灭火器过期好久了，也没人来换"),
            ("clutter", "{door}楼道里堆满了纸箱和旧沙发，万一着火跑都跑不出去"),
            ("heater", "W|{door}有住户在楼道里用电炉子烤火，电线乱拉"),
        ),
        patrol=(
            ("charging", "{door}楼道内电动车飞线充电"),
            ("blocked", "{yard}{spot}消防通道被占用"),
            ("extinguisher", "{door}楼道灭火器过期"),
            ("clutter", "{door}楼道堆放易燃杂物"),
        ),
        resolutions={
            "charging": ("已清理楼道内的电动车，在非机动车棚新增充电桩{n}个。",),
            "hydrant": ("已补齐消火栓设施和水带，并加装了防盗锁。",),
            "blocked": ("已清理消防通道杂物，设置了禁停标识。",),
            "extinguisher": ("已更换过期灭火器，并建立了月度检查记录。",),
            "clutter": ("已清理楼道易燃杂物，并上门开展了消防安全宣传。",),
            "heater": ("已上门劝导住户停止在楼道使用电炉，并讲解了冬季用电防火知识。",),
        },
    ),
    Theme(
        code="order", per_day=0.5, urgent=0.15, units=("综治", "应急"),
        hints=(("order", "治安", "security"), ("safety", "安全")),
        channels={CH.PATROL: 18},
        texts=(
            ("falling", "{yard}{spot}{since}经常有东西从楼上掉下来，{time}还砸到了车"),
            ("flyers", "{yard}{since}有陌生人在楼道里塞小广告，门禁形同虚设"),
            ("railing", "{yard}{spot}的护栏缺了一段，晚上看不清很容易摔下去"),
            ("cameras", "{yard}好几个监控摄像头坏了，上次电瓶车被偷也查不到"),
            ("theft", "{yard}非机动车棚{since}接连有电瓶被偷"),
            ("drinking", "{yard}{spot}晚上经常有人聚在一起喝酒，还打过架"),
        ),
        patrol=(
            ("railing", "{yard}{spot}护栏缺失"),
            ("cameras", "{yard}{spot}监控摄像头损坏"),
        ),
        resolutions={
            "falling": ("物业已在{yard}加装高空抛物监控，并逐户开展宣传，签订文明承诺书。",),
            "flyers": ("已督促物业加强门禁管理，清理了楼道小广告。",),
            "railing": ("已补装护栏并设置了警示标志。",),
            "cameras": ("已维修损坏的监控摄像头，并将画面接入小区监控中心。",),
            "theft": ("已联系派出所加强夜间巡逻，物业在车棚加装了监控和门禁。",),
            "drinking": ("已联系派出所加强夜间巡逻，物业增加了保安巡查频次。",),
        },
    ),
    Theme(
        code="elderly", per_day=0.65, units=("社会事务", "社会工作"), winter=0.25, on_site=False,
        hints=(("elder", "aged", "老年", "养老", "助老"), ("child", "儿童", "一老一小")),
        channels={CH.PATROL: 0, CH.WALK_IN: 22, CH.PHONE: 22},
        texts=(
            ("meals", "{home}有一位{age}岁的独居老人，腿脚不便，想了解社区有没有助餐送餐服务"),
            ("adapt", "{home}老人想申请居家适老化改造，卫生间想装几个扶手"),
            ("doctor", "{home}老人需要定期量血压，能不能安排家庭医生上门"),
            ("allowance", "{home}有位{age}岁的老人，想问一下高龄津贴怎么申请"),
            ("cool", "S|天太热了，{home}老人一个人在家，想问社区有没有纳凉点"),
            ("heater", "W|天冷了，{yard}有位独居老人家里的取暖器坏了，希望社区帮忙联系维修"),
            ("fitness", "{yard}{spot}的健身器材坏了几个，老人锻炼时差点摔倒"),
        ),
        patrol=(),
        resolutions={
            "meals": ("已为老人登记友邻食堂送餐服务，每天中午由志愿者送餐上门。",),
            "adapt": ("已上门评估适老化改造需求，纳入本年度改造名单，扶手已安装。",),
            "doctor": ("已协调社区卫生服务中心家庭医生签约，并定期上门随访。",),
            "allowance": ("已告知高龄津贴申请材料，网格员上门帮助老人完成了申请。",),
            "cool": ("已告知社区纳凉点的位置和开放时间，并安排志愿者每天电话问候。",),
            "heater": ("已联系志愿者上门为老人修好了取暖器，并送去了冬季慰问物资。",),
            "fitness": ("已联系物业维修健身器材，损坏部件已更换。",),
        },
    ),
    Theme(
        code="children", per_day=0.4, units=("社会事务", "社会工作", "物业"), summer=0.5,
        hints=(("child", "儿童", "教育"), ("elder", "一老一小")),
        channels={CH.PATROL: 6},
        texts=(
            ("slide", "{yard}{spot}的儿童滑梯有块板子裂开了，边缘很锋利"),
            ("afterschool", "{yard}附近没有托管班，双职工家庭的孩子放学后没人照顾，希望社区办个四点半课堂"),
            ("summer", "S|暑假孩子在家没人管，想问问社区有没有暑期托管班"),
            ("floor", "{yard}儿童游乐区的地面塑胶都翘起来了，孩子跑着跑着就绊倒"),
            ("swing", "{yard}{spot}的秋千链子生锈了，感觉随时会断"),
            ("school", "想问一下{home}孩子明年上小学，学区怎么划分，需要准备什么材料"),
        ),
        patrol=(
            ("slide", "{yard}{spot}儿童游乐设施损坏"),
        ),
        resolutions={
            "slide": ("已联系物业拆除损坏的滑梯板，并更换了新的配件。",),
            "afterschool": ("社区已在党群服务中心开设四点半课堂，已告知报名方式。",),
            "summer": ("已告知暑期托管班的开班时间和报名方式。",),
            "floor": ("已更换儿童游乐区破损的塑胶地垫。",),
            "swing": ("已更换秋千链条，并对游乐设施做了全面检查。",),
            "school": ("已告知入学政策咨询电话和所需材料。",),
        },
    ),
    Theme(
        code="social", per_day=1.0, units=("社会事务",), reject=0.05, on_site=False,
        hints=(("social", "welfare", "insurance", "社保", "社会保障", "民政", "就业"),),
        channels={CH.PATROL: 0, CH.WALK_IN: 24, CH.PHONE: 24},
        texts=(
            ("medical", "想咨询一下灵活就业人员的医保怎么续缴，网上一直提示失败"),
            ("pension", "{home}老人的养老金资格认证在手机上一直通不过，不知道要到哪里办"),
            ("job", "{I}{since}失业了，想问问社区有没有就业培训或者招聘信息"),
            ("dibao", "{home}想申请低保，不知道需要准备哪些材料"),
            ("residence", "孩子上学需要开居住证明，想问一下在社区能不能办"),
            ("disability", "{home}有残疾人，想了解残疾人两项补贴的申领条件"),
            ("newborn", "新生儿办医保参保，网上操作一直不成功，需要社区帮忙"),
            ("care", "{I}想给家里老人办理长期护理保险，不清楚流程"),
        ),
        patrol=(),
        resolutions={
            "medical": ("已电话告知医保续缴流程，并帮助完成线上缴费。",),
            "pension": ("已安排工作人员上门为老人完成养老金资格认证。",),
            "job": ("已推送街道就业服务站的招聘信息，并登记参加下月的技能培训。",),
            "dibao": ("已告知低保申请所需材料，网格员上门指导填写申请表。",),
            "residence": ("已告知居住证明的办理材料，可到社区服务中心当场办理。",),
            "disability": ("已告知残疾人补贴申领条件和材料，并协助提交了申请。",),
            "newborn": ("已协助在社区服务中心窗口完成新生儿参保。",),
            "care": ("已告知长期护理保险的申请条件和评估流程，并预约了上门评估。",),
        },
    ),
    Theme(
        code="pets", per_day=0.45, units=("物业", "综治"), summer=0.2,
        hints=(("pet", "animal", "dog", "宠物", "犬", "动物"), ("neighbo", "邻里"), ("sanitation", "卫生")),
        texts=(
            ("leash", "{yard}有人遛狗不牵绳，{spot}{since}已经有小孩被吓哭了"),
            ("mess", "{yard}{spot}到处是狗屎，主人也不清理"),
            ("cats", "{yard}的流浪猫越来越多，晚上叫个不停，还翻垃圾"),
            ("bigdog", "{door}有住户养了大型犬，坐电梯从来不戴嘴套"),
            ("strays", "{yard}{spot}有人投喂流浪狗，现在聚了好几条，晚上追着人叫"),
        ),
        patrol=(
            ("strays", "{yard}{spot}有流浪犬聚集"),
        ),
        resolutions={
            "leash": ("已联合物业开展文明养犬宣传，在{spot}张贴了牵绳提示。",),
            "mess": ("已清理犬只粪便，并在{spot}设置了宠物粪便收集箱和提示牌。",),
            "cats": ("已联系动物救助组织对流浪猫进行绝育和收容。",),
            "bigdog": ("已上门提醒大型犬主人乘电梯时给犬只戴嘴套、牵绳。",),
            "strays": ("已联系流浪动物救助站收容了流浪犬，并劝导投喂人员。",),
        },
    ),
    Theme(
        code="other", per_day=0.55, units=("社区发展治理", "社会事务", "物业"), reject=0.1, on_site=False,
        hints=(("other", "consult", "suggest", "其他", "咨询", "建议"),),
        channels={CH.PATROL: 2},
        texts=(
            ("activity", "社区的{facility}什么时候开放，想报个名"),
            ("lift", "想了解一下{yard}加装电梯的政策和流程"),
            ("renewal", "{yard}的老旧小区改造什么时候开始，业主们都很关心"),
            ("parcels", "快递员经常把快递放在{yard}{spot}就走，已经丢了好几次"),
            ("benches", "建议在{yard}{spot}增设几张休息座椅，老人走累了没地方坐"),
            ("notice", "{yard}的公示栏很久没更新了，希望及时公开物业费收支情况"),
            ("lockers", "{yard}{spot}的快递柜经常满，希望再加几个"),
        ),
        patrol=(
            ("notice", "{yard}公示栏信息未更新"),
        ),
        resolutions={
            "activity": ("已告知{facility}的开放时间和报名方式。",),
            "lift": ("已告知加装电梯的政策、补贴标准和申请流程，并提供了意见征集表。",),
            "renewal": ("已答复老旧小区改造的计划安排，改造方案将在公示栏公示。",),
            "parcels": ("已约谈快递网点，要求按地址投递或放入快递柜。",),
            "benches": ("已在{spot}新增休息座椅{n}张。",),
            "notice": ("已督促物业更新公示栏，公开了上一季度物业费收支情况。",),
            "lockers": ("已协调快递柜运营商在{spot}增设一组快递柜。",),
        },
    ),
)

# Every template has its resolution: checked once, at import.
for _theme in THEMES:
    for _key, _text in (*_theme.texts, *_theme.patrol):
        assert _key in _theme.resolutions, (_theme.code, _key)

SPOTS = (
    "东门", "南门口", "北门", "西门岗亭旁", "中心花园", "儿童游乐区", "健身器材旁边", "地下车库入口",
    "垃圾分类亭旁", "非机动车棚", "篮球场边上", "主干道上", "{bld}楼下", "{bld}后面的小路", "快递柜旁边",
    "门卫室旁边", "{bld}和{bld2}之间的空地", "围墙边", "凉亭附近", "消防通道口",
)
SINCE = ("这几天", "最近一周", "近半个月", "从上周开始", "连着好几天", "这个月以来", "最近", "从前天起",
         "两三个星期来", "这段时间")
NIGHT = ("每天晚上", "昨晚十点多", "夜里十一二点", "晚上九点以后", "最近几个晚上", "一到晚上", "周末晚上",
         "凌晨一点多")
WHEN = ("今天上午", "今天早上", "昨天下午", "昨晚", "今天中午", "前天晚上", "刚才", "今天一早")
HOURS = ("早上八点不到", "从早上八点到晚上", "中午午休时间", "一大早")
ROADS = ("门口的马路", "外面那条主路", "旁边的支路", "北侧的小街")
FACILITIES = ("老年大学书法班", "四点半课堂", "友邻食堂", "党群服务中心的阅览室", "法律援助咨询", "暑期托管班",
              "义诊活动", "免费理发服务")
PARTS = ("门机板", "主板", "平层感应器", "按钮面板", "门锁触点", "限速器开关", "轿厢照明")
POWER_PARTS = ("熔断器", "低压开关", "电缆接头", "变压器低压桩头")
TITLES = ("女士", "先生", "阿姨", "大爷", "大姐")

# Per channel: words for "my home", "we", "I", and how the text is framed.
VOICE = {
    "web": (("我家", "家里", "我们家"), ("我们", "住户们", "大家"), ("我", "本人")),
    "phone": (("其家中", "家中", "其家"), ("居民", "住户", "周边居民"), ("来电人",)),
    "walk_in": (("其家中", "家中"), ("居民", "住户"), ("该居民",)),
    "api": (("其家中", "家中"), ("居民", "市民"), ("市民",)),
}
WEB_OPEN = ("", "", "", "", "您好，", "你好，", "社区你好！", "麻烦社区帮忙看一下，", "我是{yard}的住户，",
            "反映个问题：", "打扰一下，", "我住{yard}，")
WEB_CLOSE = ("。", "。", "。", "，希望尽快处理。", "，麻烦尽快安排人来看看，谢谢！", "，请社区督促一下物业。",
             "，之前找过物业，一直没人管。", "，谢谢！", "，家里有老人小孩，真的很不方便。", "，希望能给个答复。",
             "，辛苦了！", "！！", "，已经不是第一次了。", "，请帮忙协调。")
PHONE_FRAME = ("来电人反映：{core}。{ask}", "来电反映，{core}。{ask}", "市民来电：{core}，{ask}",
               "{surname}{title}来电称，{core}。{ask}")
WALK_FRAME = ("居民到社区服务中心反映：{core}。{walk_ask}", "{surname}{title}到社区来访，反映{core}。{walk_ask}",
              "居民来访：{core}，{walk_ask}")
API_FRAME = ("【12345转办】市民反映：{core}。{ask}", "【市民热线】{core}。请社区核实处理。",
             "【网络理政转办】{core}，市民要求尽快处理。")
ASK = ("请尽快处理。", "要求相关部门尽快处理。", "请协调处理。", "希望尽快解决。", "来电人情绪较急，请尽快联系。",
       "已告知会尽快转办。", "")
WALK_ASK = ("请尽快处理。", "希望社区帮忙协调。", "已现场登记。", "居民希望有个答复。", "")
PATROL_FRAME = ("巡查发现：{p}。", "日常巡查时发现{p}，已现场拍照留存。", "巡查{yard}时发现{p}，请相关单位处理。",
                "网格巡查：{p}，已告知物业，需跟进。", "{p}，存在安全隐患，请尽快处置。")
# How a unit opens and closes its answer: on site, at the desk or by phone, and for patrol findings.
RESOLVE_OPEN = {
    "site": ("", "", "经现场核实，", "接单后已联系反映人，", "工作人员到场查看后，"),
    "desk": ("", "", "已与反映人电话沟通，", "接单后已联系反映人，"),
    "patrol": ("", "", "经现场核实，", "接单后，"),
}
RESOLVE_CLOSE = {
    "site": ("", "", "已电话回复反映人。", "反映人表示认可。", "后续将加强日常巡查。", "已将处理结果告知反映人。"),
    "desk": ("", "", "已电话回复反映人。", "反映人表示认可。", "已将办理结果告知反映人。"),
    "patrol": ("", "", "网格员已现场复核。", "后续将加强日常巡查。"),
}
REOPEN_OPEN = ("再次上门处理：", "根据反映人意见重新处理，", "二次核查后，")

COMMENTS = {
    Case.Rating.SATISFIED: ("处理很及时，谢谢！", "师傅态度很好，修得也快。", "感谢社区和物业！", "问题解决了，点赞。",
                            "比以前快多了。", "谢谢网格员跑前跑后。"),
    Case.Rating.BASIC: ("问题基本解决，就是时间拖得有点长。", "处理了，但希望以后能提前通知。", "还行，效果还要再看看。",
                        "解决了一部分，剩下的希望继续跟进。", "态度挺好，速度可以再快一点。"),
    Case.Rating.UNSATISFIED: ("根本没有修好，第二天又坏了。", "只是来看了一眼，问题还在。", "没有人联系我，就显示办结了。",
                              "对处理结果不满意，希望重新处理。", "说好的时间没来，等了一整天。",
                              "问题反复出现，治标不治本。"),
}
# Why a request is not taken on: (reason, which themes it fits: "any", "site" for problems
# at a place, "desk" for questions, "property" for matters of the owners, or a theme code).
REJECT_REASONS = (
    ("经核实，反映地点不属于本社区辖区，已告知向所属社区反映。", "any"),
    ("多次联系反映人未果，诉求内容不明确，无法核实。", "any"),
    ("经现场核实，未发现反映的问题。", "site"),
    ("该诉求属于业主大会自治事项，已引导通过业主委员会协商解决。", "property"),
    ("属于咨询类事项，已当场答复，无需派单。", "desk"),
    ("该事项已进入司法程序，已告知通过法律途径解决，并提供了法律援助中心的联系方式。", "neighbour"),
    ("属于个人消费纠纷，不在社区受理范围，已告知向市场监管部门反映。", "other"),
)
RETURN_REASONS = (
    "该事项不属于本单位职责范围，请重新派遣。",
    "地址不详，无法找到现场，请补充具体位置。",
    "属于业主自有设施，不在本单位服务范围。",
    "经核实需其他单位处理，请重新派遣。",
)
TRANSFER_REASONS = ("经核实不属于本单位职责，转{unit}处理。", "现场查看后需{unit}处置，已转办。",
                    "涉及{unit}管理的设施，转其处理。")


class _Slots(dict):
    """Slot values made on first use, so that a template draws only what it shows."""

    def __init__(self, makers):
        super().__init__()
        self.makers = makers

    def __missing__(self, key):
        value = self.makers[key]()
        self[key] = value
        return value


def _season_ok(template: str, month: int) -> str | None:
    if template.startswith("S|"):
        return template[2:] if 6 <= month <= 9 else None
    if template.startswith("W|"):
        return template[2:] if month in (11, 12, 1, 2) else None
    return template


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------

def _summer(day: dt.date) -> float:
    """0..1, highest in late July."""
    doy = day.timetuple().tm_yday
    return math.exp(-(((doy - 205) / 42) ** 2))


def _winter(day: dt.date) -> float:
    """0..1, highest in mid January."""
    doy = day.timetuple().tm_yday
    distance = min(abs(doy - 15), 365 - abs(doy - 15))
    return math.exp(-((distance / 38) ** 2))


def _festival(day: dt.date) -> float:
    """Fewer requests around the Spring Festival and in the National Day week."""
    for year in (day.year, day.year + 1):
        first = SPRING_FESTIVAL.get(year)
        if first is None:
            continue
        offset = (day - first).days
        if -2 <= offset <= 6:
            return 0.45
        if -7 <= offset <= -3 or 7 <= offset <= 14:
            return 0.8
    if day.month == 10 and day.day <= 7:
        return 0.75
    return 1.0


def _festival_off(day: dt.date) -> bool:
    first = SPRING_FESTIVAL.get(day.year)
    return first is not None and -1 <= (day - first).days <= 6


# Hour-of-day weights per channel (0..23).
HOURS_OF = {
    CH.WEB: (0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.4, 1.2, 2.5, 3, 3, 2.8, 2.2, 2, 2.4, 2.5, 2.4, 2.3, 2.2,
             2.8, 3.2, 3, 2.2, 1.1),
    CH.PHONE: (0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3, 3, 2.5, 1, 1.2, 2.8, 3, 2.8, 1.8, 0.3, 0, 0, 0, 0, 0),
    CH.WALK_IN: (0, 0, 0, 0, 0, 0, 0, 0, 0, 2.5, 3, 2, 0.3, 0.3, 2, 2.5, 2.5, 1.2, 0, 0, 0, 0, 0, 0),
    CH.PATROL: (0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3, 3, 2, 0.5, 0.5, 2, 3, 2.5, 1, 0, 0, 0, 0, 0, 0),
    CH.OPEN311: (0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2, 2.5, 2.5, 2.2, 2, 2, 2.2, 2.2, 2.2, 2, 2, 2.4,
                 2.6, 2.4, 1.8, 1),
    CH.API: (0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3, 3, 2.5, 1.5, 1.5, 2.8, 3, 2.8, 2, 0.6, 0.2, 0, 0, 0, 0),
}
EVENING_HOURS = (0.8, 0.3, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 2, 3.5, 3.5, 2.5)
CHANNEL_WEIGHTS = {CH.WEB: 52, CH.PHONE: 17, CH.WALK_IN: 8, CH.PATROL: 14, CH.OPEN311: 4, CH.API: 5}
WEEKEND_CHANNEL = {CH.WEB: 1.25, CH.PHONE: 0.45, CH.WALK_IN: 0.2, CH.PATROL: 0.4, CH.OPEN311: 1.1, CH.API: 0.5}


# ---------------------------------------------------------------------------
# The community as the generator sees it
# ---------------------------------------------------------------------------

@dataclass
class _Place:
    grid_id: int
    yard: str
    buildings: list  # (id, name, latitude, longitude)


@dataclass
class _Reporter:
    pk: int
    household_id: int
    grid_id: int
    building_id: int
    user_id: int | None
    user_label: str


@dataclass
class _Staff:
    office: list             # (user id, username): community admins and workers
    grid: dict               # grid id → [(user id, username)]
    unit: dict               # organisation id → [(user id, username)]


@dataclass
class _Draft:
    """One case before its life is lived: when, what, where, by whom."""

    at: dt.datetime
    theme: Theme
    channel: str
    description: str = ""
    place: str = Case.Place.GRID
    grid_id: int | None = None
    building_id: int | None = None
    household_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    reporter: _Reporter | None = None
    contact_name: str = ""
    contact_phone: str = ""
    anonymous: bool = False
    submitted_by: tuple | None = None   # (user id, username)
    urgent: bool = False
    key: str = ""                       # which complaint template: picks the matching resolution
    slots: dict | None = None
    master: "_Lived | None" = None


@dataclass
class _Step:
    at: dt.datetime
    move: str
    actor: tuple | None      # (user id or None, label)
    extra: dict = field(default_factory=dict)


@dataclass
class _Lived:
    draft: _Draft
    category: Category
    unit_id: int | None
    steps: list
    number: str = ""
    ends_at: dt.datetime | None = None   # its last step: closed, rejected or merged then
    urgency: str = Urgency.NORMAL
    limit: TimeLimit | None = None
    response_due: dt.datetime | None = None
    resolve_due: dt.datetime | None = None
    case: Case | None = None
    events: list = field(default_factory=list)


def _load_categories(community: Community) -> list[Category]:
    categories = list(Category.objects.filter(community=community, active=True).order_by("position", "code", "pk"))
    if categories:
        return categories
    try:
        from .defaults import install_default_categories
    except ImportError:   # the default tree is not installed in this build
        raise HistoryError(_("The community %(name)s has no case categories; add some first.")
                           % {"name": community.name}) from None
    install_default_categories(actor=None, community=community)
    categories = list(Category.objects.filter(community=community, active=True).order_by("position", "code", "pk"))
    if not categories:
        raise HistoryError(_("The community %(name)s has no case categories; add some first.")
                           % {"name": community.name})
    return categories


def _category_for(theme: Theme, categories: list[Category]) -> Category:
    """The community's category that this theme's requests belong to (a leaf where possible)."""
    parents = {c.parent_id for c in categories if c.parent_id}
    leaves = [c for c in categories if c.pk not in parents]

    def words(c: Category) -> str:
        return " ".join((c.code.lower(), (c.name_en or "").lower(), c.name_zh or "")).replace("-", "_")

    def score(c: Category, group) -> int:
        return sum(1 for hint in group if hint.lower() in words(c))

    for group in theme.hints:
        matched = [c for c in leaves if score(c, group)]
        if matched:
            return max(matched, key=lambda c: (score(c, group), -categories.index(c)))
        inner = [c for c in categories if c.pk in parents and score(c, group)]
        if inner:
            parent = max(inner, key=lambda c: (score(c, group), -categories.index(c)))
            children = [c for c in leaves if c.parent_id == parent.pk]
            general = [c for c in children if any(w in words(c) for w in ("other", "general", "其他", "综合"))]
            return (general or children or [parent])[0]
    # No hint matched: let the community's own keyword rules decide.
    sample = _season_ok(theme.texts[0][1], 7) or theme.texts[0][1][2:]
    suggestion = classify.suggest(sample, categories)
    if suggestion is not None:
        return next(c for c in categories if c.pk == suggestion.category_id)
    general = [c for c in leaves if any(w in words(c) for w in ("other", "其他"))]
    return (general or leaves or categories)[0]


def _time_limits(categories: list[Category]) -> dict:
    """(category id, urgency) → TimeLimit, falling back to the parent's, as the accept service does."""
    own = {(t.category_id, t.urgency): t for t in TimeLimit.objects.filter(category__in=categories)}
    out = {}
    for c in categories:
        for urgency in Urgency.values:
            limit = own.get((c.pk, urgency))
            if limit is None and c.parent_id:
                limit = own.get((c.parent_id, urgency))
            out[(c.pk, urgency)] = limit
    return out


def _handling_units(community: Community) -> list[Organisation]:
    """Units that may handle this community's cases (the dispatch service's own check)."""
    units = Organisation.objects.filter(street_id=community.street_id, kind__in=Organisation.HANDLING_KINDS)
    return [u for u in units.order_by("pk") if u.community_id in (None, community.pk)]


def _staff(community: Community) -> _Staff:
    R = StaffRole.Role
    roles = (StaffRole.objects.filter(community=community).select_related("user")
             .prefetch_related("grids").order_by("pk"))
    office, grid, unit = [], {}, {}
    for role in roles:
        who = (role.user_id, role.user.username)
        if role.role in (R.COMMUNITY_WORKER, R.COMMUNITY_ADMIN):
            office.append(who)
        elif role.role == R.GRID_WORKER:
            for g in role.grids.all():
                grid.setdefault(g.pk, []).append(who)
        elif role.role == R.UNIT_STAFF and role.organisation_id:
            unit.setdefault(role.organisation_id, []).append(who)
    # Workers first: they take most requests; admins step in.
    office.sort(key=lambda w: (0 if any(r.role == R.COMMUNITY_WORKER and r.user_id == w[0] for r in roles) else 1,
                               w[0]))
    return _Staff(office=office, grid=grid, unit=unit)


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------

class _History:
    def __init__(self, *, community: Community, seed: int, days: int, end: dt.datetime, per_day: float | None):
        self.community = community
        self.end = end
        self.tz = timezone.get_current_timezone()
        self.rng = random.Random(f"{seed}:case-history")
        self.text_rng = random.Random(f"{seed}:case-texts")
        local_end = timezone.localtime(end, self.tz)
        self.last_day = local_end.date()
        self.first_day = self.last_day - dt.timedelta(days=days - 1)

        self.categories = _load_categories(community)
        self.theme_category = {t.code: _category_for(t, self.categories) for t in THEMES}
        self.limits = _time_limits(self.categories)
        self.rules = {(r.category_id, r.grid_id): r.unit_id
                      for r in RoutingRule.objects.filter(community=community).order_by("pk")}
        self.units = _handling_units(community)
        if not self.units:
            raise HistoryError(_("The community %(name)s has no handling units to dispatch cases to.")
                               % {"name": community.name})
        self.unit_ids = {u.pk for u in self.units}
        self.unit_names = {u.pk: u.name for u in self.units}
        self.staff = _staff(community)
        if not self.staff.office:
            raise HistoryError(_("The community %(name)s has no community workers to handle cases.")
                               % {"name": community.name})
        self.calendar = dict(Holiday.objects.filter(
            date__gte=self.first_day, date__lte=self.last_day + dt.timedelta(days=120),
        ).values_list("date", "is_workday"))
        self._due_memo: dict = {}
        self._counting_ok = True
        self._working_days = self._working_index = None

        self.category_of = {c.pk: c for c in self.categories}
        self.visit_back_days = visit_back_days()
        self.places = self._places()
        if not self.places:
            raise HistoryError(_("The community %(name)s has no courtyards.") % {"name": community.name})
        self.place_of = {p.grid_id: p for p in self.places}
        self.reporters, self.account_reporters = self._reporters()
        # Reports without a known reporter come from courtyards in proportion to who lives there.
        adults = Counter(r.grid_id for r in self.reporters)
        self.place_weights = [adults.get(p.grid_id, 0) or len(p.buildings) for p in self.places]
        self.surnames = [s for s, _w in demo_names.SURNAMES]
        self.surname_weights = [w for _s, w in demo_names.SURNAMES]
        households = Household.objects.filter(community=community).count()
        self.per_day = per_day if per_day is not None else (
            sum(t.per_day for t in THEMES) * max(households, 1) / REFERENCE_HOUSEHOLDS)
        self.scale = self.per_day / sum(t.per_day for t in THEMES)
        self.number_seq: dict[str, int] = {}

    # --- the community -----------------------------------------------------------

    def _places(self) -> list[_Place]:
        by_grid: dict[int, list] = {}
        for b in Building.objects.filter(community=self.community).order_by("pk").values_list(
                "pk", "grid_id", "name", "latitude", "longitude"):
            by_grid.setdefault(b[1], []).append((b[0], b[2], b[3], b[4]))
        places = []
        for g in Grid.objects.filter(community=self.community).order_by("code", "pk"):
            buildings = by_grid.get(g.pk) or [(None, "1栋", g.latitude, g.longitude)]
            places.append(_Place(grid_id=g.pk, yard=g.name, buildings=buildings))
        return places

    def _reporters(self):
        adult_year = self.last_day.year - 18
        rows = (Resident.objects.filter(community=self.community, birth_year__lte=adult_year)
                .order_by("pk").values_list("pk", "household_id", "grid_id", "building_id", "user_id",
                                            "user__username"))
        everyone = [_Reporter(pk, hh, g, b, u, name or "") for pk, hh, g, b, u, name in rows]
        return everyone, [r for r in everyone if r.user_id]

    # --- time helpers -------------------------------------------------------------

    def _aware(self, day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)), self.tz)

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return timezone.localtime(moment, self.tz)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.calendar:
            return self.calendar[day]
        return day.weekday() < 5 and not _festival_off(day)

    def office_time(self, moment: dt.datetime, *, urgent: bool = False) -> dt.datetime:
        """When the community office acts on something that reached it at ``moment``:
        08:30–18:00 on working days; a duty worker covers part of weekends; urgent cases at once."""
        rng = self.rng
        if urgent:
            return moment + dt.timedelta(minutes=rng.randint(5, 40))
        local = self._local(moment)
        day = local.date()
        working = self.is_working_day(day)
        open_now = dt.time(8, 30) <= local.time() < dt.time(18, 0)
        if open_now and (working or rng.random() < 0.55):
            return moment + dt.timedelta(minutes=int(rng.lognormvariate(3.4, 0.9)))
        if local.time() >= dt.time(18, 0) or not working:
            day += dt.timedelta(days=1)
        while not self.is_working_day(day) and rng.random() < 0.6:
            day += dt.timedelta(days=1)
        minutes = int(rng.lognormvariate(3.6, 0.8))
        return max(self._aware(day, 8, 30) + dt.timedelta(minutes=min(minutes, 420)), moment + dt.timedelta(minutes=1))

    def work_time(self, moment: dt.datetime, not_before: dt.datetime) -> dt.datetime:
        """Handling units work 07:30–21:00 every day: a moment outside moves into those hours,
        earlier if that is still after ``not_before``."""
        local = self._local(moment)
        clock = local.time()
        if dt.time(7, 30) <= clock < dt.time(21, 0):
            return max(moment, not_before)
        rng = self.rng
        day = local.date() if clock >= dt.time(21, 0) else local.date() - dt.timedelta(days=1)
        evening = self._aware(day, 20, rng.randint(0, 55))
        if evening > not_before:
            return evening
        morning = self._aware(day + dt.timedelta(days=1), 7, 30) + dt.timedelta(minutes=rng.randint(0, 120))
        return max(morning, not_before + dt.timedelta(minutes=1))

    def due(self, moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """:func:`deadlines.due`, without a calendar query per case.

        A working-day deadline depends only on the local day (and its clock when that
        day is worked), so it is worked out once per (day, amount): counted on the
        holiday calendar with :func:`deadlines.is_working_day`, and checked against
        :func:`deadlines.due` itself for the first days and every 50th after; if the
        two ever differ, every deadline is asked of :func:`deadlines.due` instead.
        """
        if unit != TimeUnit.WORKING_DAYS:
            return deadlines.due(moment, amount, unit)
        local = self._local(moment)
        key = (local.date(), amount)
        hit = self._due_memo.get(key)
        if hit is None:
            hit = self._counted_due(*key) if self._counting_ok else None
            if hit is None or len(self._due_memo) < 30 or len(self._due_memo) % 50 == 0:
                asked = self._asked_due(*key)
                if hit is not None and hit != asked:
                    self._counting_ok = False
                hit = asked
            self._due_memo[key] = hit
        day, own_clock = hit
        clock = local.time().replace(tzinfo=None) if own_clock else deadlines.WORKDAY_START
        return timezone.make_aware(dt.datetime.combine(day, clock), self.tz)

    def _asked_due(self, day: dt.date, amount: int) -> tuple[dt.date, bool]:
        probe_clock = dt.time(12, 34, 56, 789)
        probe = timezone.make_aware(dt.datetime.combine(day, probe_clock), self.tz)
        result = self._local(deadlines.due(probe, amount, TimeUnit.WORKING_DAYS))
        return result.date(), result.time() == probe_clock

    def _counted_due(self, day: dt.date, amount: int) -> tuple[dt.date, bool] | None:
        if self._working_days is None:
            first, last = self.first_day - dt.timedelta(days=7), self.last_day + dt.timedelta(days=400)
            try:
                calendar = deadlines._calendar(first, last)
                days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
                self._working_days = [d for d in days if deadlines.is_working_day(d, calendar)]
            except (AttributeError, TypeError):   # the module changed: ask deadlines.due every time
                self._counting_ok = False
                return None
            self._working_index = {d: i for i, d in enumerate(self._working_days)}
        worked = day in self._working_index
        start = day
        while start not in self._working_index:
            start += dt.timedelta(days=1)
            if start > self._working_days[-1]:
                return None
        index = self._working_index[start] + amount
        if index >= len(self._working_days):
            return None
        return self._working_days[index], worked

    # --- volume --------------------------------------------------------------------

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        threshold, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def drafts(self) -> list[_Draft]:
        rng = self.rng
        total_days = (self.last_day - self.first_day).days + 1
        out = []
        for i in range(total_days):
            day = self.first_day + dt.timedelta(days=i)
            weekend = day.weekday() >= 5
            summer, winter = _summer(day), _winter(day)
            trend = 0.85 + 0.3 * i / max(total_days - 1, 1)
            common = self.scale * _festival(day) * trend * (0.85 if weekend else 1.06)
            for theme in THEMES:
                lam = theme.per_day * common * (1 + theme.summer * summer + theme.winter * winter)
                if weekend:
                    lam *= theme.weekend
                for _n in range(self._poisson(lam)):
                    channel = self._channel(theme, weekend)
                    at = self._moment(day, theme, channel, summer)
                    if at <= self.end:
                        out.append(_Draft(at=at, theme=theme, channel=channel))
        out.sort(key=lambda d: (d.at, d.theme.code, d.channel))
        return out

    def _channel(self, theme: Theme, weekend: bool) -> str:
        weights = dict(CHANNEL_WEIGHTS)
        weights.update(theme.channels)
        if not theme.patrol:
            weights[CH.PATROL] = 0
        if weekend:
            weights = {k: w * WEEKEND_CHANNEL[k] for k, w in weights.items()}
        names = list(weights)
        return self.rng.choices(names, weights=[weights[k] for k in names], k=1)[0]

    def _moment(self, day: dt.date, theme: Theme, channel: str, summer: float) -> dt.datetime:
        rng = self.rng
        hours = HOURS_OF[channel]
        if channel in (CH.WEB, CH.OPEN311) and theme.evening and rng.random() < theme.evening * (1 + summer):
            hours = EVENING_HOURS
        hour = rng.choices(range(24), weights=hours, k=1)[0]
        return self._aware(day, hour, rng.randrange(60), rng.randrange(60))

    # --- what, where, who --------------------------------------------------------

    def describe(self, draft: _Draft, recent: list) -> None:
        """Reporter, place and text of a draft; a few become duplicates of a recent open case."""
        rng = self.rng
        theme = draft.theme
        month = self._local(draft.at).month
        draft.urgent = rng.random() < theme.urgent
        if draft.channel != CH.PATROL and rng.random() < 0.035:
            draft.master = self._master_for(draft, recent)
        # Who.
        if draft.channel == CH.WEB:
            if rng.random() < 0.06 or not self.reporters:
                draft.anonymous = True
            else:
                draft.reporter = self._pick_reporter()
                if draft.reporter.user_id:
                    draft.submitted_by = (draft.reporter.user_id, draft.reporter.user_label)
        elif draft.channel in (CH.PHONE, CH.WALK_IN):
            if self.reporters and rng.random() < 0.55:
                draft.reporter = self._pick_reporter()
            draft.submitted_by = self._office_actor(None)
        # What: the template says whether it is about the reporter's own home.
        pool = theme.patrol if draft.channel == CH.PATROL else theme.texts
        if draft.master is not None:
            pool = [t for t in pool if "{home}" not in t[1]] or pool
        draft.key, template = self._template(pool, month)
        # Where.
        if draft.master is not None:
            m = draft.master.draft
            draft.grid_id, draft.building_id = m.grid_id, m.building_id
            draft.place = m.place if m.place != Case.Place.HOME else Case.Place.GRID
            draft.latitude, draft.longitude, draft.address = m.latitude, m.longitude, m.address
            place = self.place_of[m.grid_id]
        else:
            place = self._place_for(draft, at_home="{home}" in template)
        if draft.channel == CH.PATROL:
            workers = self.staff.grid.get(place.grid_id)
            draft.submitted_by = rng.choice(workers) if workers else self._office_actor(None)
        if draft.reporter is None and draft.channel != CH.PATROL:
            draft.contact_name = self._contact_name()
            draft.contact_phone = self._contact_phone()
        draft.slots = self._slots(draft, place)
        if draft.place != Case.Place.HOME and not draft.address:
            draft.address = f"{place.yard}{draft.slots['bld']}"
        draft.description = self._text(draft, template)

    def _pick_reporter(self) -> _Reporter:
        rng = self.rng
        # The demo's resident account raises about one request a month.
        if self.account_reporters and rng.random() < min(0.05, 1.2 / max(self.per_day * 30 * 0.5, 1)):
            return rng.choice(self.account_reporters)
        return rng.choice(self.reporters)

    def _master_for(self, draft: _Draft, recent: list) -> "_Lived | None":
        """A case of the same theme raised in the last three days, accepted or waiting, not a duplicate itself."""
        earliest = draft.at - dt.timedelta(days=3)
        for lived in reversed(recent):
            if lived.draft.at < earliest:
                break
            if (lived.draft.theme is draft.theme and lived.draft.master is None
                    and lived.steps[1].move == "accept"
                    and (lived.ends_at is None or lived.ends_at > draft.at + dt.timedelta(days=2))):
                return lived
        return None

    def _place_for(self, draft: _Draft, *, at_home: bool) -> _Place:
        rng = self.rng
        reporter = draft.reporter
        if reporter is not None:
            place = self.place_of[reporter.grid_id]
            draft.grid_id = reporter.grid_id
            if at_home:
                draft.place = Case.Place.HOME
                draft.household_id = reporter.household_id
                draft.building_id = reporter.building_id
                return place
            draft.building_id = reporter.building_id if rng.random() < 0.6 else rng.choice(place.buildings)[0]
        else:
            place = rng.choices(self.places, weights=self.place_weights, k=1)[0]
            draft.grid_id = place.grid_id
            draft.building_id = rng.choice(place.buildings)[0]
        building = next((b for b in place.buildings if b[0] == draft.building_id), place.buildings[0])
        if (draft.channel in (CH.OPEN311, CH.PATROL) or rng.random() < 0.12) and building[2] is not None \
                and building[3] is not None:
            draft.place = Case.Place.POINT
            draft.latitude = round(building[2] + rng.uniform(-0.0002, 0.0002), 6)
            draft.longitude = round(building[3] + rng.uniform(-0.0002, 0.0002), 6)
        return place

    def _contact_name(self) -> str:
        return self.text_rng.choices(self.surnames, weights=self.surname_weights, k=1)[0] + \
            self.text_rng.choice(TITLES)

    def _contact_phone(self) -> str:
        prefix = self.text_rng.choice(("138", "139", "135", "136", "137", "150", "151", "152", "158", "159",
                                       "182", "183", "187", "188", "133", "153", "180", "189", "130", "131",
                                       "132", "155", "156", "185", "186", "177", "199"))
        return prefix + f"{self.text_rng.randrange(10 ** 8):08d}"

    def _slots(self, draft: _Draft, place: _Place) -> _Slots:
        rng = self.text_rng
        building = next((b for b in place.buildings if b[0] == draft.building_id), place.buildings[0])
        others = [b for b in place.buildings if b[0] != building[0]] or place.buildings
        voice = VOICE.get(draft.channel, VOICE["web"])
        slots = _Slots({})
        fmt = lambda text: text.format_map(slots)  # noqa: E731 — spots name buildings
        slots.makers = {
            "yard": lambda: place.yard,
            "bld": lambda: building[1],
            "bld2": lambda: rng.choice(others)[1],
            "unit": lambda: f"{rng.choice((1, 1, 1, 2, 2, 3))}",
            "door": lambda: f"{slots['yard']}{slots['bld']}{slots['unit']}单元",
            "spot": lambda: fmt(rng.choice(SPOTS)),
            "since": lambda: rng.choice(SINCE),
            "night": lambda: rng.choice(NIGHT),
            "time": lambda: rng.choice(WHEN),
            "floor": lambda: str(rng.randint(3, 18)),
            "road": lambda: rng.choice(ROADS),
            "hours": lambda: rng.choice(HOURS),
            "age": lambda: str(rng.randint(78, 96)),
            "facility": lambda: rng.choice(FACILITIES),
            "part": lambda: rng.choice(PARTS),
            "part2": lambda: rng.choice(POWER_PARTS),
            "n": lambda: str(rng.randint(2, 6)),
            "home": lambda: rng.choice(voice[0]),
            "we": lambda: rng.choice(voice[1]),
            "I": lambda: rng.choice(voice[2]),
            "surname": lambda: (draft.contact_name or self._contact_name())[:1],
            "title": lambda: rng.choice(TITLES),
            "ask": lambda: rng.choice(ASK),
            "walk_ask": lambda: rng.choice(WALK_ASK),
        }
        return slots

    def _template(self, pool, month: int) -> tuple[str, str]:
        """(key, template) for this month: summer and winter templates only in their season."""
        usable = [(key, text) for key, text in ((k, _season_ok(t, month)) for k, t in pool) if text]
        return self.text_rng.choice(usable)

    def _text(self, draft: _Draft, template: str) -> str:
        rng = self.text_rng
        slots = draft.slots
        core = template.format_map(slots)
        yard = slots["yard"]
        if draft.channel == CH.PATROL:
            frame = rng.choice(PATROL_FRAME)
            if "{yard}" in frame and core.startswith(yard) and not core.startswith(yard + slots["bld"]):
                core = core[len(yard):]   # "巡查X时发现东门…", not "巡查X时发现X东门…"
            slots["p"] = core
            return frame.format_map(slots)
        if draft.master is not None and "core" in draft.master.draft.slots and rng.random() < 0.5:
            # A neighbour raising the same thing often words it the same way.
            core, draft.key = draft.master.draft.slots["core"], draft.master.draft.key
        slots["core"] = core
        if draft.channel == CH.PHONE:
            return rng.choice(PHONE_FRAME).format_map(slots).rstrip("，")
        if draft.channel == CH.WALK_IN:
            return rng.choice(WALK_FRAME).format_map(slots).rstrip("，")
        if draft.channel == CH.API:
            return rng.choice(API_FRAME).format_map(slots)
        opener = rng.choice(WEB_OPEN).format_map(slots)
        if yard in opener and core.startswith(yard) and not core.startswith(yard + slots["bld"]):
            core = core[len(yard):]   # "我是X的住户，东门…", not "我是X的住户，X东门…"
        closers = [c for c in WEB_CLOSE if "物业" not in c or draft.theme.units[0] == "物业"]
        if not draft.theme.on_site:
            closers = [c for c in closers if "老人小孩" not in c and "不是第一次" not in c]
        return f"{opener}{core}{rng.choice(closers)}"

    def _resolution(self, draft: _Draft, again: bool = False) -> str:
        """What the unit writes: the answer to this very request, worded as units word it."""
        rng = self.text_rng
        body = rng.choice(draft.theme.resolutions[draft.key]).format_map(draft.slots)
        if again:
            return rng.choice(REOPEN_OPEN) + body
        how = "patrol" if draft.channel == CH.PATROL else "site" if draft.theme.on_site else "desk"
        return rng.choice(RESOLVE_OPEN[how]) + body + rng.choice(RESOLVE_CLOSE[how])

    def _reject_reason(self, theme: Theme) -> str:
        fits = {"any", theme.code, "site" if theme.on_site else "desk"}
        if theme.units[0] == "物业":
            fits.add("property")
        return self.rng.choice([reason for reason, kind in REJECT_REASONS if kind in fits])

    # --- who acts ---------------------------------------------------------------

    def _office_actor(self, grid_id: int | None) -> tuple:
        rng = self.rng
        workers = self.staff.grid.get(grid_id) if grid_id else None
        if workers and rng.random() < 0.3:
            return rng.choice(workers)
        office = self.staff.office
        return office[0] if rng.random() < 0.7 else rng.choice(office)

    def _unit_actor(self, unit_id: int, grid_id: int | None) -> tuple:
        staff = self.staff.unit.get(unit_id)
        return self.rng.choice(staff) if staff else self._office_actor(grid_id)

    def _route(self, category: Category, grid_id: int | None, theme: Theme) -> int:
        """As the dispatch service routes (category × grid rule, else the category's unit);
        where the tree names no unit, the unit whose name fits the theme."""
        unit_id = self.rules.get((category.pk, grid_id))
        if unit_id is None and category.default_unit_id in self.unit_ids:
            unit_id = category.default_unit_id
        if unit_id is None:
            for hint in theme.units:
                unit_id = next((u.pk for u in self.units if hint in u.name), None)
                if unit_id is not None:
                    break
        if unit_id is None:
            property_companies = [u.pk for u in self.units if u.kind == Organisation.Kind.PROPERTY_COMPANY]
            unit_id = (property_companies or [self.units[0].pk])[0]
        return unit_id

    # --- a life ------------------------------------------------------------------

    def live(self, draft: _Draft) -> _Lived:
        """The whole life of one case, as people and the services would have lived it
        (not yet cut at ``end``; the deadline job's events are added when it is cut)."""
        rng = self.rng
        theme = draft.theme
        category = self.theme_category[theme.code]
        urgency = Urgency.URGENT if draft.urgent else Urgency.NORMAL
        unit_id = self._route(category, draft.grid_id, theme)
        steps = [_Step(draft.at, "submitted", draft.submitted_by)]
        lived = _Lived(draft=draft, category=category, unit_id=unit_id, steps=steps, urgency=urgency)
        office = self._office_actor(draft.grid_id)
        limit = self.limits.get((category.pk, urgency))
        lived.limit = limit

        def add(at, move, actor, **extra):
            at = max(at, steps[-1].at + dt.timedelta(minutes=1))
            steps.append(_Step(at, move, actor, extra))
            return at

        def accept(at):
            at = add(at, "accept", office)
            if limit is not None:
                lived.response_due = self.due(at, limit.response_amount, limit.response_unit)
                lived.resolve_due = self.due(at, limit.resolve_amount, limit.resolve_unit)
            return at

        t = self.office_time(draft.at, urgent=draft.urgent)
        # Duplicates are merged, most before they are accepted, while the first case is open.
        if draft.master is not None:
            accepted_first = rng.random() < 0.3
            merge_at = self.office_time(t + dt.timedelta(minutes=rng.randint(10, 300))) if accepted_first else t
            if draft.master.ends_at > merge_at + dt.timedelta(minutes=5):
                if accepted_first:
                    accept(t)
                add(merge_at, "merge", office, master=draft.master.number)
                lived.ends_at = steps[-1].at
                return lived
            draft.master = None
        if rng.random() < theme.reject:
            add(t, "reject", office, reason=self._reject_reason(theme))
            lived.ends_at = steps[-1].at
            return lived
        accepted = accept(t)
        response_window = (lived.response_due - accepted) if lived.response_due else dt.timedelta(hours=24)
        resolve_window = (lived.resolve_due - accepted) if lived.resolve_due else dt.timedelta(days=5)

        # Dispatched by the worker who accepted it, at once; now and then first to the
        # wrong unit, which returns it, or the office transfers it.
        t = accepted + dt.timedelta(minutes=1 + int(rng.lognormvariate(1.6, 0.8)))
        if not draft.urgent and rng.random() < 0.1:
            # Which unit? Asked around first, dispatched later in the day or the next; the
            # worker who accepted it calls the resident back meanwhile (首接负责).
            t = self.office_time(accepted + dt.timedelta(hours=rng.lognormvariate(0.3, 0.8)))
            called = accepted + response_window * rng.uniform(0.1, 0.7)
            if draft.channel != CH.PATROL and called < t - dt.timedelta(minutes=2):
                add(called, "contact", office)
        others = [u.pk for u in self.units if u.pk != unit_id]
        roll = rng.random()
        if others and roll < 0.025:
            wrong = rng.choice(others)
            t = add(t, "dispatch", office, unit=wrong)
            t = self.work_time(t + dt.timedelta(hours=rng.lognormvariate(0.5, 0.8)), t)
            t = add(t, "return", self._unit_actor(wrong, None), reason=rng.choice(RETURN_REASONS))
            t = self.office_time(t + dt.timedelta(minutes=rng.randint(5, 60)))
            t = add(t, "dispatch", office, unit=unit_id)
        elif others and roll < 0.055:
            wrong = rng.choice(others)
            t = add(t, "dispatch", office, unit=wrong)
            t = self.office_time(t + dt.timedelta(hours=rng.lognormvariate(0.8, 0.8)))
            reason = rng.choice(TRANSFER_REASONS).format(unit=self.unit_names[unit_id])
            t = add(t, "transfer", office, unit=unit_id, reason=reason)
        else:
            t = add(t, "dispatch", office, unit=unit_id)
        dispatched = t
        worker = self._unit_actor(unit_id, draft.grid_id)

        # First contact: within the response limit mostly, late now and then.
        # Urgent cases are answered at any hour; others in the units' working hours.
        hours = (lambda moment, not_before: max(moment, not_before)) if draft.urgent else self.work_time
        f = rng.random()
        fraction = (rng.uniform(1.05, 1.9) if f < 0.03 else rng.uniform(0.8, 0.97) if f < 0.08
                    else rng.uniform(0.05, 0.75))
        contact = max(accepted + response_window * fraction, dispatched + dt.timedelta(minutes=rng.randint(3, 20)))
        contact = hours(contact, dispatched)
        if rng.random() < 0.45:
            t = add(contact, "contact", worker)
            t = add(hours(t + dt.timedelta(hours=rng.lognormvariate(0.8, 0.9)), t), "start", worker)
        else:
            t = add(contact, "start", worker)

        g = rng.random()
        late = g < 0.04
        share = (rng.uniform(1.05, 1.8) if late else rng.uniform(0.85, 0.98) if g < 0.08
                 else rng.uniform(0.05, 0.85) ** 1.3)
        resolve_at = max(accepted + resolve_window * share, t + dt.timedelta(minutes=rng.randint(20, 240)))
        t = add(hours(resolve_at, t), "resolve", worker, resolution=self._resolution(draft))

        # Rating: a reporter with an account rates; the others are called back (回访);
        # patrol findings, and reporters nobody reaches, close unrated when the job says.
        cycles = 0
        while True:
            closes = t + dt.timedelta(days=self.visit_back_days, seconds=rng.randint(1, 59))
            # After a reopening the resident is always called back.
            if draft.channel == CH.PATROL or (not cycles and rng.random() < 0.05):
                add(closes, "close_unrated", None, after_days=self.visit_back_days)
                break
            bad = (0.2 if late else 0.07) if not cycles else (0.15 if cycles == 1 else 0.0)
            r = rng.random()
            rating = (Case.Rating.UNSATISFIED if r < bad else Case.Rating.BASIC if r < bad + 0.14
                      else Case.Rating.SATISFIED)
            comment_rate = {Case.Rating.SATISFIED: 0.3, Case.Rating.BASIC: 0.5, Case.Rating.UNSATISFIED: 0.9}
            comment = rng.choice(COMMENTS[rating]) if rng.random() < comment_rate[rating] else ""
            if draft.reporter is not None and draft.reporter.user_id:
                move, who = "rate", (draft.reporter.user_id, draft.reporter.user_label)
                at = t + dt.timedelta(hours=rng.lognormvariate(2.0, 1.0))
                local = self._local(at)
                if local.hour < 7:   # residents rate when they are up
                    at = self._aware(local.date(), 7, rng.randint(0, 59))
            else:
                move, who = "visit_back", self._office_actor(draft.grid_id)
                at = self.office_time(t + dt.timedelta(hours=rng.lognormvariate(2.8, 0.8)))
            if at >= closes and not cycles:
                add(closes, "close_unrated", None, after_days=self.visit_back_days)
                break
            t = add(at, move, who, rating=rating, comment=comment)
            if rating != Case.Rating.UNSATISFIED:
                break
            cycles += 1
            # Reopened to the same unit, with a fresh resolution deadline.
            reopened = t
            window = (self.due(reopened, limit.resolve_amount, limit.resolve_unit) - reopened) if limit \
                else dt.timedelta(days=5)
            t = add(self.work_time(reopened + dt.timedelta(hours=rng.lognormvariate(1.5, 0.8)), reopened),
                    "start", worker)
            again = max(reopened + window * rng.uniform(0.1, 0.8), t + dt.timedelta(minutes=rng.randint(30, 300)))
            t = add(self.work_time(again, t), "resolve", worker,
                    resolution=self._resolution(draft, again=True))
        lived.ends_at = steps[-1].at
        return lived

    # --- from a life to rows ------------------------------------------------------

    def number_for(self, at: dt.datetime) -> str:
        # As the intake service numbers: by the local day of submission.
        prefix = f"{self.community.code}-{self._local(at):%Y%m%d}-"
        seq = self.number_seq.get(prefix, 0) + 1
        self.number_seq[prefix] = seq
        return f"{prefix}{seq:04d}"

    def materialise(self, lived: _Lived) -> None:
        """The case row and event rows of the part of a life that happened by ``end``,
        with the deadline job's reminders, overdue flags and escalations."""
        draft, end = lived.draft, self.end
        category = lived.category
        # At intake: the resident's own choice, else the classifier's suggestion.
        staff_channel = draft.channel in (CH.PHONE, CH.WALK_IN, CH.PATROL)
        suggestion = classify.suggest(draft.description, self.categories)
        if staff_channel or (draft.channel == CH.WEB and self.rng.random() < 0.45):
            submitted_category, triage = category, False
        elif suggestion is not None and suggestion.confidence >= classify.triage_threshold():
            submitted_category, triage = self.category_of[suggestion.category_id], False
        else:
            submitted_category, triage = None, True
        case = Case(
            community=self.community, number=lived.number, channel=draft.channel, status=S.SUBMITTED,
            urgency=lived.urgency, description=draft.description,
            category=submitted_category, needs_triage=triage,
            suggested_category_id=suggestion.category_id if suggestion else None,
            suggestion_confidence=suggestion.confidence if suggestion else None,
            suggestion_source=suggestion.source if suggestion else "",
            reporter_id=draft.reporter.pk if draft.reporter else None,
            submitted_by_id=draft.submitted_by[0] if draft.submitted_by else None,
            contact_name=draft.contact_name or None, contact_phone=draft.contact_phone or None,
            anonymous=draft.anonymous, place=draft.place, grid_id=draft.grid_id, building_id=draft.building_id,
            household_id=draft.household_id, latitude=draft.latitude, longitude=draft.longitude,
            address=draft.address, created_at=draft.at,
        )
        events = []
        states = []        # (time, status, unit id) after each move
        cycles = []        # resolution deadlines: [start, due, met at]
        for step in lived.steps:
            if step.at > end:
                break
            before = case.status
            extra = {}
            move = step.move
            if move == "submitted":
                events.append((step.at, step.actor, "case.submitted", {
                    "number": case.number, "channel": case.channel, "needs_triage": triage,
                    "category": submitted_category.code if submitted_category else None}))
                states.append((step.at, case.status, None))
                continue
            if move == "accept":
                case.category = category
                case.needs_triage = False
                case.accepted_at = step.at
                case.response_due, case.resolve_due = lived.response_due, lived.resolve_due
                if case.resolve_due:
                    cycles.append([step.at, case.resolve_due, None])
                case.status = S.ACCEPTED
            elif move == "reject":
                case.reject_reason = step.extra["reason"]
                case.closed_at = step.at
                case.status = S.REJECTED
            elif move == "merge":
                case.master = draft.master.case
                case.closed_at = step.at
                case.status = S.MERGED
                extra = {"master": step.extra["master"]}
            elif move == "dispatch":
                case.unit_id = step.extra["unit"]
                case.first_unit_id = case.first_unit_id or step.extra["unit"]
                case.dispatched_at = step.at
                case.status = S.DISPATCHED
                extra = {"unit": step.extra["unit"]}
            elif move == "transfer":
                case.unit_id = case.first_unit_id = step.extra["unit"]
                case.dispatched_at = step.at
                case.status = S.DISPATCHED
                extra = {"unit": step.extra["unit"], "reason": step.extra["reason"]}
            elif move == "return":
                case.return_count += 1
                case.unit_id = None
                case.status = S.ACCEPTED
                extra = {"reason": step.extra["reason"]}
            elif move == "contact":
                case.first_contact_at = case.first_contact_at or step.at
            elif move == "start":
                case.first_contact_at = case.first_contact_at or step.at
                case.status = S.IN_PROGRESS
            elif move == "resolve":
                case.first_contact_at = case.first_contact_at or step.at
                case.resolution = step.extra["resolution"]
                case.resolved_at = step.at
                case.status = S.RESOLVED
                if cycles:
                    cycles[-1][2] = step.at
            elif move in ("rate", "visit_back"):
                rating = step.extra["rating"]
                case.rating, case.rating_comment, case.rated_at = rating, step.extra["comment"], step.at
                extra = {"rating": rating}
                if rating == Case.Rating.UNSATISFIED:
                    case.reopen_count += 1
                    case.resolved_at = None
                    case.dispatched_at = step.at
                    if lived.limit is not None:
                        case.resolve_due = self.due(step.at, lived.limit.resolve_amount, lived.limit.resolve_unit)
                        case.resolve_overdue = case.resolve_reminded = False
                        cycles.append([step.at, case.resolve_due, None])
                    case.status = S.DISPATCHED
                else:
                    case.closed_at = step.at
                    case.status = S.CLOSED
            elif move == "close_unrated":
                case.closed_at = step.at
                case.status = S.CLOSED
                extra = {"after_days": step.extra["after_days"]}
            states.append((step.at, case.status, case.unit_id))
            events.append((step.at, step.actor, f"case.{move}",
                           {"from": before, "to": case.status, "number": case.number, **extra}))
        events.extend(self._deadline_job(case, lived, states, cycles))
        lived.case = case
        lived.events = events

    def _deadline_job(self, case: Case, lived: _Lived, states: list, cycles: list) -> list:
        """What the minute-by-minute deadline job (linli.cases.jobs) would have done to this
        case by ``end``: reminders, overdue flags, escalations, with their events."""
        if case.accepted_at is None or lived.limit is None:
            return []
        rng, end, limit = self.rng, self.end, lived.limit

        def state_at(moment):
            found = None
            for at, status, unit in states:
                if at > moment:
                    break
                found = (status, unit)
            return found

        def job_tick(threshold):
            # The job runs every minute: it acts within a minute after the threshold.
            return threshold + dt.timedelta(seconds=rng.randint(1, 59))

        out, levels = [], []   # levels: (time, level, deadline)

        def watch(which, start, due, met, amount, unit, flag_prefix, final):
            """One deadline: remind at a quarter left, flag when passed, escalate (1 at the
            deadline, 2 once the same limit has passed again) while it stays unmet."""
            def open_at(moment):
                state = state_at(moment)
                return (moment <= end and state is not None and state[0] in WORKING_STATUSES
                        and (met is None or met > moment))
            if start < due:
                remind = job_tick(due - (due - start) * REMIND_SHARE)
                if open_at(remind):
                    out.append((remind, None, "case.reminder", {"number": case.number, "unit": state_at(remind)[1],
                                                                "deadline": which, "due": _iso(due)}))
                    if final:
                        setattr(case, f"{flag_prefix}_reminded", True)
            overdue = job_tick(due)
            if open_at(overdue):
                out.append((overdue, None, "case.overdue", {"number": case.number, "unit": state_at(overdue)[1],
                                                            "deadline": which, "due": _iso(due)}))
                if final:
                    setattr(case, f"{flag_prefix}_overdue", True)
                # Escalated in the same run of the job, just after the overdue flag.
                levels.append((overdue + dt.timedelta(milliseconds=20), 1, which))
                second = job_tick(self.due(due, amount, unit))
                if open_at(second):
                    levels.append((second, 2, which))

        if case.response_due:
            watch("response", case.accepted_at, case.response_due, case.first_contact_at,
                  limit.response_amount, limit.response_unit, "response", True)
        for n, (start, due, met) in enumerate(cycles):
            watch("resolution", start, due, met, limit.resolve_amount, limit.resolve_unit, "resolve",
                  n == len(cycles) - 1)
        level = 0
        for at, found, which in sorted(levels, key=lambda x: (x[0], x[1])):
            if found > level:
                level = found
                out.append((at, None, "case.escalated", {"number": case.number, "unit": state_at(at)[1],
                                                         "level": level, "to": ESCALATION_TARGET[level],
                                                         "deadline": which}))
        case.escalation = level
        return out


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

def _iso(moment: dt.datetime) -> str:
    """A deadline as the job writes it into an event: read back from the database, in UTC."""
    return moment.astimezone(dt.timezone.utc).isoformat()


def _insert_events(community: Community, rows: list) -> None:
    """Write the event rows with their historical times.

    ``Event.created_at`` is ``auto_now_add``: ``bulk_create`` would stamp every row
    with the present, and setting 90,000 times afterwards costs as much again. One
    plain INSERT per row (``executemany``), values prepared by the model's own
    fields, writes the same columns ``events.record`` fills."""
    meta = Event._meta
    fields = [meta.get_field(name) for name in (
        "created_at", "actor", "actor_label", "verb", "target_type", "target_id", "street", "community", "grid",
        "data")]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    created_at, data = fields[0], fields[-1]
    target_type = Case._meta.label_lower
    values = [
        (created_at.get_db_prep_value(at, connection), actor[0], actor[1] or "system", verb, target_type,
         str(case_id), community.street_id, community.pk, grid_id, data.get_db_prep_save(payload, connection))
        for at, case_id, _n, actor, verb, payload, grid_id in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(values), 5000):
            cursor.executemany(sql, values[start:start + 5000])


def _ensure_pks(model, rows, **filters) -> None:
    """Backends that cannot return ids from a bulk insert: read them back in insertion order."""
    if rows and rows[0].pk is None:
        pks = list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))[-len(rows):]
        for row, pk in zip(rows, pks):
            row.pk = pk


def build_case_history(*, community: Community, seed: int, days: int = 730, end: dt.datetime | None = None,
                       progress=None, per_day: float | None = None) -> dict:
    """Write ``days`` days of cases up to ``end`` (default: now) for a community that has none.

    ``per_day`` overrides the mean number of cases a day (default: about 17 for
    Y社区's 14,789 households, in proportion for other sizes). Returns counts:
    cases, events, seconds, one entry per status, and overdue / reopened / open.
    Raises :class:`HistoryError` (nothing written) where the community already
    has cases or lacks what cases need (categories, units, workers, courtyards).
    """
    started = time.perf_counter()
    if not 1 <= days <= MAX_DAYS:
        raise HistoryError(_("The history covers 1 to %(n)d days.") % {"n": MAX_DAYS})
    if seed < 0:
        raise HistoryError(_("The seed must be zero or a positive number."))
    if end is None:
        end = timezone.now()
    elif isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        end = timezone.make_aware(dt.datetime.combine(end, dt.time(18, 0)))
    elif timezone.is_naive(end):
        end = timezone.make_aware(end)
    if Case.objects.filter(community=community).exists():
        raise HistoryError(_("The community %(name)s already has cases; its history was not written.")
                           % {"name": community.name})
    with transaction.atomic():
        history = _History(community=community, seed=seed, days=days, end=end, per_day=per_day)
        drafts = history.drafts()
        if progress:
            progress.start(_("cases"), len(drafts))
        lives: list[_Lived] = []
        for n, draft in enumerate(drafts, 1):
            history.describe(draft, lives)
            lived = history.live(draft)
            lived.number = history.number_for(draft.at)
            lives.append(lived)
            if progress and n % 500 == 0:
                progress.update(n)
        # Masters are earlier in time than their duplicates: materialise in order,
        # so a merge step can point at its master's (unsaved) case.
        for lived in lives:
            history.materialise(lived)
        cases = [lived.case for lived in lives]
        masters = {}
        for case in cases:
            if case.master is not None:
                masters[case.number] = case.master
                case.master = None     # set after insert: the master needs its id first
        for start in range(0, len(cases), BATCH):
            Case.objects.bulk_create(cases[start:start + BATCH])
        _ensure_pks(Case, cases, community=community)
        merged = [c for c in cases if c.number in masters]
        for case in merged:
            case.master_id = masters[case.number].pk
        Case.objects.bulk_update(merged, ["master"], batch_size=500)

        # Events in time order, so that ids grow with time as they do in use.
        rows = []
        for lived in lives:
            case = lived.case
            for n, (at, actor, verb, data) in enumerate(lived.events):
                rows.append((at, case.pk, n, actor or (None, "system"), verb, data, case.grid_id))
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        _insert_events(community, rows)
        rollup.rebuild(community)  # the cases went in by bulk_create, past workflow.transition
        if progress:
            progress.finish(len(drafts))
    with connection.cursor() as cursor:
        for model in (Case, Event):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    counts = dict(Case.objects.filter(community=community).order_by().values_list("status")
                  .annotate(n=Count("pk")))
    result = {"cases": len(cases), "events": len(rows)}
    result.update({status: counts.get(status, 0) for status in S.values})
    result["open"] = sum(counts.get(s, 0) for s in Case.OPEN_STATUSES)
    result["overdue"] = sum(1 for c in cases if c.response_overdue or c.resolve_overdue)
    result["reopened"] = sum(1 for c in cases if c.reopen_count)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result
