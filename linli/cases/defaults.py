"""The default category tree of a community: names in Chinese and English, keyword rules
for the cold-start classifier, time limits and a default handling unit.

``install_default_categories`` only adds what is missing (matched by code), so it
may run again after an upgrade; it never changes what admins have edited.
Keywords live on the most specific category they point to: a general word on a
parent, a specific one on its subcategory, none on two categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from linli.community.models import Community, Organisation
from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import PermissionDenied

from . import calendar
from .models import Category, TimeLimit, TimeUnit, Urgency

H, WD = TimeUnit.HOURS, TimeUnit.WORKING_DAYS
K = Organisation.Kind

# Street departments, found by words in their names (the demo street's five, and
# the usual names elsewhere); the first that matches is the default unit.
CITY_MANAGEMENT = ("城市管理", "城管", "市政", "环卫")
SOCIAL_AFFAIRS = ("社会事务", "民政", "社会保障", "社保", "公共服务")
PUBLIC_ORDER = ("综治", "综合治理", "平安", "治安", "司法")
EMERGENCY = ("应急", "安全生产", "消防")
DEVELOPMENT = ("社区发展", "发展治理", "党群")


@dataclass(frozen=True)
class Limit:
    respond: int
    respond_unit: str
    resolve: int
    resolve_unit: str


@dataclass(frozen=True)
class Spec:
    code: str
    name_zh: str
    name_en: str
    keywords: tuple[str, ...]
    normal: Limit
    urgent: Limit
    unit_kind: str | None = K.STREET_DEPARTMENT
    unit_words: tuple[str, ...] = ()
    children: tuple["Spec", ...] = field(default=())


def L(respond, respond_unit, resolve, resolve_unit) -> Limit:
    return Limit(respond, respond_unit, resolve, resolve_unit)


STANDARD = L(2, H, 5, WD)
STANDARD_URGENT = L(1, H, 24, H)
# The response limit of a case whose category is not known yet (it waits in triage) or has no
# limit of its own: the standard one, by urgency. Its response clock runs from receipt like
# any other (linli.cases.deadlines.response_limit; docs/cases.md, "Time limits").
TRIAGE = {Urgency.NORMAL: STANDARD, Urgency.URGENT: STANDARD_URGENT}

TREE: tuple[Spec, ...] = (
    Spec("property", "物业管理", "Property management",
         ("物业", "物业费", "物业公司", "物业服务", "保安", "门禁", "门禁卡", "单元门", "楼道灯", "楼道",
          "公共区域", "维修基金", "业委会", "业主委员会", "小区大门", "对讲"),
         STANDARD, STANDARD_URGENT, K.PROPERTY_COMPANY, children=(
             Spec("property-lift", "电梯", "Lifts",
                  ("电梯", "电梯故障", "电梯坏", "电梯停运", "电梯异响", "困人", "关在电梯", "电梯维保"),
                  L(1, H, 2, WD), L(1, H, 4, H), K.PROPERTY_COMPANY),
             Spec("property-repair", "房屋漏水与维修", "Leaks and repairs",
                  ("漏水", "渗水", "房顶漏", "楼顶漏", "屋顶", "外墙", "墙皮脱落", "防水", "房屋维修", "天花板",
                   "墙面开裂"),
                  STANDARD, STANDARD_URGENT, K.PROPERTY_COMPANY),
             Spec("property-parking", "停车管理", "Parking",
                  ("停车", "车位", "乱停", "乱停车", "地下车库", "停车场", "充电桩", "僵尸车", "堵车库"),
                  L(4, H, 5, WD), STANDARD_URGENT, K.PROPERTY_COMPANY),
         )),
    Spec("sanitation", "环境卫生", "Sanitation",
         ("卫生", "脏乱差", "清扫", "保洁", "蚊虫", "老鼠", "蟑螂", "小广告", "牛皮癣", "油烟", "异味",
          "狗屎", "宠物粪便", "灭鼠", "消杀"),
         L(2, H, 3, WD), STANDARD_URGENT, unit_words=CITY_MANAGEMENT, children=(
             Spec("sanitation-waste", "垃圾清运", "Rubbish collection",
                  ("垃圾", "垃圾桶", "垃圾堆", "垃圾清运", "垃圾分类", "建筑垃圾", "装修垃圾", "大件垃圾",
                   "垃圾站", "垃圾房", "没人收垃圾", "臭味"),
                  L(2, H, 2, WD), L(1, H, 12, H), unit_words=CITY_MANAGEMENT),
             Spec("sanitation-drains", "下水道与污水", "Drains and sewage",
                  ("下水道", "堵塞", "下水堵", "污水", "化粪池", "窨井", "反水", "冒水", "管道堵", "排水沟",
                   "疏通"),
                  L(2, H, 3, WD), L(1, H, 12, H), unit_words=CITY_MANAGEMENT),
         )),
    Spec("greenery", "绿化园林", "Greenery",
         ("绿化", "树木", "修剪", "修枝", "树枝", "枯树", "大树", "树倒", "倒伏", "草坪", "草地", "花坛",
          "毁绿", "种菜", "杂草", "砍树", "挡光", "落叶", "白蚁", "树根"),
         L(4, H, 10, WD), L(1, H, 24, H), unit_words=CITY_MANAGEMENT),
    Spec("roads", "道路与照明", "Roads and lighting",
         ("道路", "马路", "占道", "占道经营", "摆摊", "交通", "红绿灯", "斑马线", "减速带", "路障"),
         L(4, H, 10, WD), L(1, H, 48, H), unit_words=CITY_MANAGEMENT, children=(
             Spec("roads-lighting", "路灯照明", "Street lights",
                  ("路灯", "路灯不亮", "路灯坏", "灯不亮", "照明", "太黑", "没有灯", "景观灯"),
                  L(4, H, 5, WD), L(2, H, 48, H), unit_words=CITY_MANAGEMENT),
             Spec("roads-surface", "路面破损", "Damaged roads and pavements",
                  ("路面", "坑洼", "坑", "破损", "井盖", "人行道", "地砖", "积水", "盲道", "台阶", "护栏",
                   "塌陷"),
                  L(4, H, 10, WD), L(1, H, 48, H), unit_words=CITY_MANAGEMENT),
         )),
    Spec("utilities", "水电气", "Water, power and gas",
         ("水电气", "缴费", "抄表", "欠费"),
         L(1, H, 3, WD), L(1, H, 12, H), K.UTILITY, children=(
             Spec("utilities-water", "供水", "Water supply",
                  ("停水", "没水", "水压", "水压低", "水小", "水质", "自来水", "水管爆", "爆管", "水管破裂",
                   "水表", "水浑浊", "黄水", "二次供水"),
                  L(1, H, 2, WD), L(1, H, 12, H), K.UTILITY, unit_words=("水",)),
             Spec("utilities-power", "供电", "Power supply",
                  ("停电", "断电", "没电", "跳闸", "电压不稳", "电表", "电线", "供电", "变压器", "电缆"),
                  L(1, H, 2, WD), L(1, H, 8, H), K.UTILITY, unit_words=("电",)),
             Spec("utilities-gas", "燃气", "Gas",
                  ("燃气", "天然气", "煤气", "漏气", "燃气味", "燃气表", "停气", "燃气管", "打不着火"),
                  L(1, H, 1, WD), L(1, H, 4, H), K.UTILITY, unit_words=("燃气", "气")),
         )),
    Spec("noise", "噪音扰民", "Noise",
         ("噪音", "噪声", "扰民", "广场舞", "楼上噪音", "装修噪音", "施工噪音", "夜间施工", "半夜施工", "音响",
          "喇叭", "吵闹", "太吵", "狗叫", "打麻将", "唱歌", "鸣笛"),
         L(2, H, 3, WD), L(1, H, 24, H), unit_words=CITY_MANAGEMENT),
    Spec("disputes", "邻里纠纷", "Neighbour disputes",
         ("邻里纠纷", "纠纷", "邻居", "矛盾", "吵架", "调解", "堆放杂物", "杂物", "私搭乱建", "违建",
          "占用公共", "遛狗不牵绳", "养鸡", "漏水到楼下", "协商不成"),
         L(24, H, 10, WD), L(2, H, 3, WD), unit_words=PUBLIC_ORDER),
    Spec("safety", "治安安全", "Safety",
         ("安全", "安全隐患", "隐患", "高空抛物", "坠物", "危房", "危险", "裂缝", "防汛"),
         STANDARD, STANDARD_URGENT, unit_words=PUBLIC_ORDER, children=(
             Spec("safety-fire", "消防安全", "Fire safety",
                  ("消防", "消防通道", "灭火器", "消防栓", "消火栓", "飞线充电", "电动车充电", "电瓶车上楼",
                   "电动车上楼", "火灾", "着火", "烟雾", "冒烟"),
                  L(1, H, 3, WD), L(1, H, 4, H), unit_words=EMERGENCY),
             Spec("safety-order", "社会治安", "Public order",
                  ("小偷", "被盗", "盗窃", "偷东西", "诈骗", "可疑人员", "陌生人", "打架", "监控", "摄像头",
                   "传销", "赌博", "报警"),
                  STANDARD, STANDARD_URGENT, unit_words=PUBLIC_ORDER),
         )),
    Spec("elderly", "养老与助老", "Care for the elderly",
         ("老人", "老年人", "独居", "空巢", "助餐", "送餐", "养老", "居家养老", "高龄补贴", "老年食堂",
          "助浴", "失能", "陪护", "适老化", "扶手", "老年卡", "日间照料", "摔倒"),
         L(4, H, 5, WD), L(1, H, 24, H), unit_words=SOCIAL_AFFAIRS),
    Spec("children", "儿童与教育", "Children and education",
         ("儿童", "孩子", "小孩", "学校", "幼儿园", "入学", "托管", "四点半课堂", "游乐设施", "滑梯",
          "秋千", "未成年人", "学位", "课后", "托育"),
         L(24, H, 10, WD), L(2, H, 3, WD), unit_words=SOCIAL_AFFAIRS),
    Spec("social-security", "社会保障", "Social security",
         ("低保", "社保", "医保", "养老保险", "残疾", "残疾人", "救助", "临时救助", "困难", "补贴", "就业",
          "失业", "退休", "开证明", "证明", "廉租房", "公租房", "低收入"),
         L(24, H, 10, WD), L(4, H, 5, WD), unit_words=SOCIAL_AFFAIRS),
    Spec("other", "其他", "Other",
         ("建议", "咨询", "表扬", "感谢"),
         L(24, H, 10, WD), L(4, H, 5, WD), unit_words=DEVELOPMENT),
)


def default_specs() -> list[Spec]:
    """Every category of the default tree, parents before their children."""
    return [spec for top in TREE for spec in (top, *top.children)]


def _units(community: Community) -> list[Organisation]:
    """Handling units that may take this community's cases: its own and its street's."""
    return list(Organisation.objects.filter(street_id=community.street_id, kind__in=Organisation.HANDLING_KINDS)
                .filter(Q(community=community) | Q(community__isnull=True))
                .order_by("community_id", "kind", "name", "pk"))


def _default_unit(spec: Spec, units: list[Organisation], community: Community) -> Organisation | None:
    candidates = [u for u in units if u.kind == spec.unit_kind]
    # The community's own unit first (its property company), then the street's.
    candidates.sort(key=lambda u: (u.community_id != community.pk, u.name, u.pk))
    for word in spec.unit_words:
        for unit in candidates:
            if word in unit.name:
                return unit
    return candidates[0] if candidates else None


@transaction.atomic
def install_default_categories(*, actor, community: Community, holidays: bool = True) -> list[Category]:
    """Add the default categories this community lacks (matched by code), with keywords,
    time limits for normal and urgent cases, and default units; with ``holidays``, also load
    this year's and next year's official holidays (:func:`install_holidays`). Returns the
    categories added; a second run adds none and writes no event."""
    if actor is not None and community.pk not in scope_of(actor).admin_communities:
        raise PermissionDenied(_("Only the community's administrators may change its categories."))
    existing = {c.code: c for c in Category.objects.filter(community=community)}
    units = _units(community)
    created: list[Category] = []
    limits_added = 0
    position = 0
    for top in TREE:
        position += 10
        parent = _install(top, community, None, position, units, existing, created)
        limits_added += _install_limits(top, parent)
        for index, child_spec in enumerate(top.children, start=1):
            child = _install(child_spec, community, parent, index, units, existing, created)
            limits_added += _install_limits(child_spec, child)
    if created or limits_added:
        events.record(actor=actor, verb="cases.categories_installed", target=community, community=community,
                      data={"categories": [c.code for c in created], "time_limits": limits_added})
    if holidays:
        install_holidays(actor=actor, community=community)
    return created


def install_holidays(*, actor, community: Community | None = None) -> calendar.LoadResult:
    """The holiday calendar working-day limits count against: this year's and next year's
    official days off and make-up working days, as far as the package has them
    (``linli.cases.calendar.load_official``: idempotent, keeps days set by hand, one
    ``holidays.loaded`` event when anything changed)."""
    return calendar.load_official(actor=actor, years=calendar.this_and_next_year(), community=community)


def _install(spec: Spec, community, parent, position, units, existing, created) -> Category:
    category = existing.get(spec.code)
    if category is not None:
        return category
    category = Category.objects.create(
        community=community, parent=parent, code=spec.code, name_zh=spec.name_zh, name_en=spec.name_en,
        keywords="\n".join(spec.keywords), default_unit=_default_unit(spec, units, community),
        position=position,
    )
    existing[spec.code] = category
    created.append(category)
    return category


def _install_limits(spec: Spec, category: Category) -> int:
    have = set(TimeLimit.objects.filter(category=category).values_list("urgency", flat=True))
    added = 0
    for urgency, limit in ((Urgency.NORMAL, spec.normal), (Urgency.URGENT, spec.urgent)):
        if urgency in have:
            continue
        TimeLimit.objects.create(category=category, urgency=urgency,
                                 response_amount=limit.respond, response_unit=limit.respond_unit,
                                 resolve_amount=limit.resolve, resolve_unit=limit.resolve_unit)
        added += 1
    return added
