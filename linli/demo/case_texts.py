"""The words of the demo's cases: what residents ask, how units answer, why a case is refused.

Written for Linli, nothing copied. Each :class:`Theme` has sentence templates
with slots (courtyard, building, unit, spot, time, floor, parts…);
:class:`Texts` fills them and wraps them in the way each channel words a
request (a resident typing in the app, in the first person; staff's
third-person note of a call "来电人反映：…" or of a visit, naming the caller
only when no registered resident is known; a grid worker's patrol log; a 12345
hand-over), so thousands of cases read differently and each reads as its
channel and reporter would word it (docs/cases.md, "The demo's history"). The simulator (:mod:`linli.demo.case_lives`) decides what happens
to a case; this module only says it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.utils import timezone

from linli.cases.models import Case

from . import names

CH = Case.Channel

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
# A web or app request is the resident's own words, in the first person: where the sentence
# itself does not say "I" or "my home", one of these openers does.
# ({mybld}: the reporter's own building.) Questions (themes handled at the desk) get the plain ones.
FIRST_PERSON_OPEN = ("我是{yard}的住户，", "我住{yard}{mybld}，", "我是{mybld}的业主，", "您好，我是{yard}的居民，")
FIRST_PERSON_SEEN = FIRST_PERSON_OPEN + (
    "我家住在{mybld}，", "我想反映个问题：", "我每天上下班都从这里过，", "我们{mybld}的几户邻居托我反映一下，",
    "我早上出门看到，", "我带孩子下楼的时候发现，", "我已经在业主群里说过几次了，")
# Hotline and desk notes are staff's words about the resident, in the third person. Frames
# naming the caller ({caller}: the contact given, "李阿姨") are used only where one was given.
PHONE_FRAME = ("来电人反映：{core}。{ask}", "来电反映，{core}。{ask}", "居民来电反映：{core}，{ask}",
               "{caller}来电称，{core}。{ask}", "{yard}居民来电，称{core}。{ask}",
               "{caller}来电反映，{core}。{ask}")
WALK_FRAME = ("居民到社区服务中心反映：{core}。{walk_ask}", "{caller}到社区来访，反映{core}。{walk_ask}",
              "居民来访：{core}，{walk_ask}", "{yard}的居民到窗口反映，{core}。{walk_ask}")
API_FRAME = ("【12345转办】市民反映：{core}。{ask}", "【市民热线】{core}。请社区核实处理。",
             "【网络理政转办】{core}，市民要求尽快处理。")
ASK = ("请尽快处理。", "要求相关部门尽快处理。", "请协调处理。", "希望尽快解决。", "来电人情绪较急，请尽快联系。",
       "已告知会尽快转办。", "")
WALK_ASK = ("请尽快处理。", "希望社区帮忙协调。", "已现场登记。", "居民希望有个答复。", "")
PATROL_FRAME = ("巡查发现：{p}。", "日常巡查时发现{p}，已现场拍照留存。", "巡查{yard}时发现{p}，请相关单位处理。",
                "网格巡查：{p}，已告知物业，需跟进。", "巡查中发现{p}，存在安全隐患，请尽快处置。",
                "{halfday}巡查{yard}，发现{p}，已拍照上报。")
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
# What the office tells a resident when it closes a request that cannot be met (诉求无法实现),
# by the reason's kind (Case.Unresolved), with how often each kind comes up among such cases.
UNRESOLVED = {
    "owners": (0.35, (
        "经与物业和业委会核实，此项维修须动用专项维修资金，要经本楼业主表决通过才能实施；已向居民说明表决流程，社区可协助召集业主会议。",
        "该改造涉及全体业主的共有部分，须由业主大会决定，目前尚未形成决议；已向居民解释，并告知可通过业委会提出议案。",
        "维修费用需由本单元业主分摊，部分业主暂不同意，目前无法实施；已向居民说明，业主协商一致后可再次反映。",
    )),
    "law": (0.2, (
        "经核实，所提要求不符合现行规划和有关规定，无法按要求办理；已向居民说明依据。",
        "按现行政策，该事项不符合办理条件，相关部门无法按居民要求处理；已当面解释，并告知条件变化后可重新申请。",
    )),
    "authority": (0.25, (
        "该纠纷已由双方诉至法院，社区无权处理；已告知居民通过司法途径解决，并提供了法律援助的联系方式。",
        "此事由市级主管部门审批，社区和街道无权决定；已向居民说明，并告知主管部门的咨询渠道。",
        "涉及的管线属于产权单位，改造须列入其年度计划，社区已转告产权单位；已向居民说明本次无法办理。",
    )),
    "withdrawn": (0.08, (
        "回访时居民表示已与邻居协商好，不再需要处理，同意办结。",
        "居民来电表示自行处理，撤回诉求，社区已记录并办结。",
    )),
    "other": (0.12, (
        "多次协调后各方仍无法达成一致，暂不具备解决条件；已向居民说明进展，条件具备后可重新受理。",
        "受场地条件限制，目前无法按居民的要求实施；已向居民解释原因，并说明了替代办法。",
    )),
}


class Slots(dict):
    """Slot values made on first use, so that a template draws only what it shows."""

    def __init__(self, makers):
        super().__init__()
        self.makers = makers

    def __missing__(self, key):
        value = self.makers[key]()
        self[key] = value
        return value


def season_ok(template: str, month: int) -> str | None:
    if template.startswith("S|"):
        return template[2:] if 6 <= month <= 9 else None
    if template.startswith("W|"):
        return template[2:] if month in (11, 12, 1, 2) else None
    return template


# ---------------------------------------------------------------------------
# Filling the templates
# ---------------------------------------------------------------------------

class Texts:
    """Makes a case's words from its draft (channel, theme, place, reporter).

    ``rng`` is the history's text stream, apart from the stream that decides the
    lives, so that rewording a template does not change what happens to a case."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = [s for s, _w in names.SURNAMES]
        self.surname_weights = [w for _s, w in names.SURNAMES]

    def contact_name(self) -> str:
        return self.rng.choices(self.surnames, weights=self.surname_weights, k=1)[0] + \
            self.rng.choice(TITLES)

    def contact_phone(self) -> str:
        prefix = self.rng.choice(("138", "139", "135", "136", "137", "150", "151", "152", "158", "159",
                                  "182", "183", "187", "188", "133", "153", "180", "189", "130", "131",
                                  "132", "155", "156", "185", "186", "177", "199"))
        return prefix + f"{self.rng.randrange(10 ** 8):08d}"

    def slots(self, draft, place) -> Slots:
        rng = self.rng
        building = next((b for b in place.buildings if b[0] == draft.building_id), place.buildings[0])
        others = [b for b in place.buildings if b[0] != building[0]] or place.buildings
        voice = VOICE.get(draft.channel, VOICE["web"])
        slots = Slots({})
        fmt = lambda text: text.format_map(slots)  # noqa: E731 — spots name buildings
        slots.makers = {
            "yard": lambda: place.yard,
            "bld": lambda: building[1],
            "bld2": lambda: rng.choice(others)[1],
            # The reporter's own building, where they say where they live.
            "mybld": lambda: next((b[1] for b in place.buildings
                                   if draft.reporter is not None and b[0] == draft.reporter.building_id), building[1]),
            "unit": lambda: f"{rng.choice((1, 1, 1, 2, 2, 3))}",
            "door": lambda: f"{slots['yard']}{slots['bld']}{slots['unit']}单元",
            "spot": lambda: fmt(rng.choice(SPOTS)),
            "since": lambda: rng.choice(SINCE),
            "night": lambda: rng.choice(NIGHT),
            "time": lambda: rng.choice(WHEN),
            "floor": lambda: str(rng.randint(3, 18)),
            "road": lambda: rng.choice(ROADS),
            "hours": lambda: rng.choice(HOURS),
            # When a grid worker walked round: the morning or the afternoon of the report.
            "halfday": lambda: "上午" if timezone.localtime(draft.at).hour < 12 else "下午",
            "age": lambda: str(rng.randint(78, 96)),
            "facility": lambda: rng.choice(FACILITIES),
            "part": lambda: rng.choice(PARTS),
            "part2": lambda: rng.choice(POWER_PARTS),
            "n": lambda: str(rng.randint(2, 6)),
            "home": lambda: rng.choice(voice[0]),
            "we": lambda: rng.choice(voice[1]),
            "I": lambda: rng.choice(voice[2]),
            "caller": lambda: draft.contact_name or rng.choice(("一位居民", "一位老人", "一名住户")),
            "ask": lambda: rng.choice(ASK),
            "walk_ask": lambda: rng.choice(WALK_ASK),
        }
        return slots

    def template(self, pool, month: int) -> tuple[str, str]:
        """(key, template) for this month: summer and winter templates only in their season."""
        usable = [(key, text) for key, text in ((k, season_ok(t, month)) for k, t in pool) if text]
        return self.rng.choice(usable)

    def text(self, draft, template: str) -> str:
        rng = self.rng
        slots = draft.slots
        core = template.format_map(slots)
        yard = slots["yard"]
        if draft.channel == CH.PATROL:
            frame = rng.choice(PATROL_FRAME)
            if "{yard}" in frame and core.startswith(yard) and not core.startswith(yard + slots["bld"]):
                core = core[len(yard):]   # "巡查X时发现东门…", not "巡查X时发现X东门…"
            slots["p"] = core
            return frame.format_map(slots)
        if (draft.master is not None and "core" in draft.master.draft.slots and rng.random() < 0.5
                and VOICE.get(draft.master.draft.channel, VOICE["web"]) is VOICE.get(draft.channel, VOICE["web"])):
            # A neighbour raising the same thing often words it the same way.
            core, draft.key = draft.master.draft.slots["core"], draft.master.draft.key
        slots["core"] = core
        if draft.channel in (CH.PHONE, CH.WALK_IN):
            frames = PHONE_FRAME if draft.channel == CH.PHONE else WALK_FRAME
            if not draft.contact_name:     # a known resident: staff do not write their name in
                frames = [f for f in frames if "{caller}" not in f]
            frame = rng.choice(frames)
            if "{yard}" in frame and core.startswith(yard) and not core.startswith(yard + "的"):
                # "X居民来电，称东门…", not "X居民来电，称X东门…" (the whole sentence is kept for duplicates)
                slots["core"] = core[len(yard):]
                text = frame.format_map(slots).rstrip("，")
                slots["core"] = core
                return text
            return frame.format_map(slots).rstrip("，")
        if draft.channel == CH.API:
            return rng.choice(API_FRAME).format_map(slots)
        raw = rng.choice(WEB_OPEN if "我" in core else FIRST_PERSON_SEEN if draft.theme.on_site
                         else FIRST_PERSON_OPEN)
        opener = raw.format_map(slots)
        bld = slots["bld"]
        own_building = "{mybld}" in raw and slots["mybld"] == bld
        if ("{yard}" in raw or "{mybld}" in raw) and core.startswith(yard) and not core.startswith(yard + "的"):
            core = core[len(yard):]   # "我是X的住户，东门…", not "我是X的住户，X东门…"
            if own_building and core.startswith(bld) and core[len(bld):len(bld) + 3].endswith("单元"):
                core = core[len(bld):]   # "我住X1栋，1单元…", not "我住X1栋，X1栋1单元…"
        closers = [c for c in WEB_CLOSE if "物业" not in c or draft.theme.units[0] == "物业"]
        if not draft.theme.on_site:
            closers = [c for c in closers if "老人小孩" not in c and "不是第一次" not in c]
        return f"{opener}{core}{rng.choice(closers)}"

    def resolution(self, draft, again: bool = False) -> str:
        """What the unit writes: the answer to this very request, worded as units word it."""
        rng = self.rng
        body = rng.choice(draft.theme.resolutions[draft.key]).format_map(draft.slots)
        if again:
            return rng.choice(REOPEN_OPEN) + body
        how = "patrol" if draft.channel == CH.PATROL else "site" if draft.theme.on_site else "desk"
        return rng.choice(RESOLVE_OPEN[how]) + body + rng.choice(RESOLVE_CLOSE[how])

    # Reasons and comments are drawn from the lives' stream (``rng``): they come with a move
    # the simulator has just decided.

    def reject_reason(self, theme: Theme, rng: random.Random) -> str:
        fits = {"any", theme.code, "site" if theme.on_site else "desk"}
        if theme.units[0] == "物业":
            fits.add("property")
        return rng.choice([reason for reason, kind in REJECT_REASONS if kind in fits])

    def return_reason(self, rng: random.Random) -> str:
        return rng.choice(RETURN_REASONS)

    def transfer_reason(self, unit_name: str, rng: random.Random) -> str:
        return rng.choice(TRANSFER_REASONS).format(unit=unit_name)

    def unresolved(self, theme: Theme, rng: random.Random) -> tuple[str, str]:
        """Why a request cannot be met and what the resident is told: (kind, explanation).
        Matters of the owners come up more for the property company's themes."""
        kinds = list(UNRESOLVED)
        weights = [UNRESOLVED[k][0] * (2 if k == "owners" and theme.units[0] == "物业" else 1) for k in kinds]
        kind = rng.choices(kinds, weights)[0]
        return kind, rng.choice(UNRESOLVED[kind][1])

    def comment(self, rating: str, rng: random.Random) -> str:
        return rng.choice(COMMENTS[rating])
