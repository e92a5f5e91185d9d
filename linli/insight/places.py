"""Place names in Chinese citizen messages: which estate, road, school or company a message is about.

Hot issues are "the same problem at the same place", so the place is the first key of the
grouping. Names are found where a word ends with a telling suffix (小区, 苑, 路, 学校, 公司 …):
the words just before it are taken into the name while they look like a name (nouns, unknown
words, codes) and stop at verbs, pronouns, particles and the words that usually stand before a
place in a complaint (业主, 附近, 我们 …). Precision matters more than recall: a wrong place glues
two unrelated complaints together, a missed one only leaves a message to be grouped by meaning.

Administrative parts (A市, A5区, …街道, …社区) are kept apart: they are shown with the place
("A市A5区魅力之城小区") but not used to match it, since one message writes "A5区魅力之城" and the
next only "魅力之城小区".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

# Kinds, most specific first: the order ranks the places of one message.
ESTATE, SCHOOL, INSTITUTION, ROAD, VILLAGE, COMMUNITY, TOWN = (
    "estate", "school", "institution", "road", "village", "community", "town")
SPECIFIC_KINDS = (ESTATE, SCHOOL, INSTITUTION, ROAD, VILLAGE)
_KIND_RANK = {k: i for i, k in enumerate((ESTATE, SCHOOL, INSTITUTION, ROAD, VILLAGE, COMMUNITY, TOWN))}

# (suffix, kind, shortest name before it). Longest suffixes are tried first, so 幼儿园 wins over 园
# and 街道 over 街. A one-character suffix needs a longer name: "县城", "主城" are not estates.
_SUFFIXES: tuple[tuple[str, str, int], ...] = tuple(sorted((
    ("小区", ESTATE, 2), ("花园", ESTATE, 2), ("家园", ESTATE, 2), ("公寓", ESTATE, 2), ("新村", ESTATE, 2),
    ("山庄", ESTATE, 2), ("新城", ESTATE, 2), ("公馆", ESTATE, 2), ("苑", ESTATE, 2), ("城", ESTATE, 3),
    ("府", ESTATE, 2), ("里", ESTATE, 3), ("院", ESTATE, 3), ("园", ESTATE, 2), ("湾", ESTATE, 2),
    ("幼儿园", SCHOOL, 2), ("小学", SCHOOL, 2), ("中学", SCHOOL, 2), ("大学", SCHOOL, 2), ("学校", SCHOOL, 2),
    ("学院", SCHOOL, 2), ("职校", SCHOOL, 2),
    ("公司", INSTITUTION, 2), ("项目", INSTITUTION, 2), ("工地", INSTITUTION, 2), ("广场", INSTITUTION, 2),
    ("医院", INSTITUTION, 2), ("市场", INSTITUTION, 2), ("搅拌站", INSTITUTION, 1), ("厂", INSTITUTION, 2),
    ("大道", ROAD, 2), ("路", ROAD, 2), ("街", ROAD, 2), ("巷", ROAD, 2),
    ("大桥", ROAD, 2), ("村", VILLAGE, 2), ("社区", COMMUNITY, 2), ("街道", TOWN, 2), ("镇", TOWN, 2),
    ("乡", TOWN, 2),
), key=lambda s: -len(s[0])))

# Words that stand before a place but are no part of its name, or make a "name" generic.
_STOP_WORDS = frozenset("""
我 我们 本人 你们 他们 大家 业主 居民 市民 住户 村民 家长 学生 老师 员工 群众 网友 广大 全体
附近 周边 周围 旁边 对面 门口 楼下 楼上 里面 外面 内 旁 边 前 后 左右 一带 区域 片区 范围 以及
该 此 这 这个 这些 那 那个 那些 本 其 各 每 某 某个 整个 所在 所有 其他 其它 多个 几个 一个 两个 个
小区 楼盘 物业 开发商 开发 政府 部门 有关 相关 问题 情况 事情 事件 现象 关于 反映 投诉 举报 咨询 建议
位于 住在 来到 居住 购买 购房 入住 处 地 的 和 与 及 或 是 在 到 从 对 向 给 把 被 让 由 为 于 已 还 都
麻烦 帮忙 帮助 希望 恳请 拜托 谢谢 请问 你好 您好
地点 地址 位置 很多 许多 一些 不少 部分 大量 下称 简称 即 称 叫 名叫 名为 所谓 包括 例如 比如 如 像
老 新 大 小 原 现 旧 高档 普通 城市 全市 全县 全区 全省 本市 本县 本区 省 市 县 区 镇 乡 村 社区 街道
""".split())

# Names that are a class of place, not one place: "农村", "县城", "物业公司".
_GENERIC_NAMES = frozenset("""
农村 乡村 新农村 县城 主城 全城 满城 省城 京城 环城 绕城 文明 文明城 宜居 卫生 县里 城里 村里 家里 这里 那里 哪里
公里 夜里 心里 手里 院里 安置 安置房 棚改 棚户区 商品房 还建 回迁 拆迁 住宅 保障房 廉租房 公租房 经适房 工业
物业 自来水 供水 燃气 天然气 供电 电力 电信 移动 联通 快递 搬家 房地产 地产 置业 投资 建设 建筑 开发 保险 银行
公交 客运 出租 出租车 网约车 城铁 地铁 高速 高速公路 人民 中心 第一 第二 第三 第四 第五 实验 公立 民办 私立
农贸 菜 菜市 集贸 批发 施工 建筑工地 在建 医疗 卫生院 幼儿 中小 中小学 大中专 高等 职业 技工 培训 驾驶 驾校
公路 道路 马路 铁路 出路 线路 水路 一路 沿路 走路 修路 网路 思路 小路 山路 土路 街 大街 老街 商业 步行 商业街
乡镇 城镇 村镇 城乡 集镇 小镇 全镇 全乡 全村 本村 我村 该村 各村 邻村 同村 外村 村村 一村 新村 家园 花园 公园
校园 家乡 庄园 田园 果园 茶园 菜园 墓园 陵园 游乐园 动物园 产业园 工业园 科技园 创业园 物流园
水泥路 水泥 必经之路 必经 村级公路 村级 公办学校 公办幼儿园 公办 大街小巷 工程项目 工程 职业技术学院 职业技术
学校 大学 中学 小学 公司 项目 工地 广场 医院 市场 中心 政府 法院 检察院 研究院 设计院 科学院 电影院 养老院 敬老院 福利院
""".split())

# A name ending like this is an organisation, a distance or a phrase, not a place to visit.
_NON_PLACE_ENDINGS = (
    "法院", "检察院", "研究院", "设计院", "科学院", "国务院", "电影院", "剧院", "戏院", "卫生院", "福利院", "养老院",
    "敬老院", "住院", "出院", "入院", "政府", "委员会", "办公室", "局", "所", "队", "处", "科",
    "公里", "村里", "城里", "家里", "这里", "那里", "哪里", "夜里", "心里", "手里", "院里", "县里", "区里", "市里",
    "镇里", "乡里", "校里", "店里", "屋里", "楼里", "园里", "厂里", "局里", "眼里", "田里", "地里", "山里", "河里",
    "水里", "嘴里", "梦里", "窝里", "百里", "千里", "万里",
    "进城", "出城", "入城", "回城", "县城", "主城", "省城", "全城", "满城", "京城", "环城", "绕城", "老城", "山城",
    "文明城", "卫生城", "园林城", "森林城", "宜居城", "旅游城", "融城",
    "道路", "出路", "线路", "思路", "走路", "修路", "沿路", "网路", "一路", "小路", "山路", "土路", "马路", "水路",
    "乡镇", "城镇", "村镇", "集镇", "小镇", "农村", "乡村", "本村", "全村", "该村", "我村", "各村", "邻村", "外村",
    "校园", "家园里", "公园", "花园里", "建厂", "工厂", "办厂", "设厂", "全厂", "本厂", "该厂",
)
# Leading characters of an unknown word that belong to the sentence, not the name: "把富兴嘉城".
_LEADING_NOISE = "把在从到对向给被让由为于是和与及或的了将往距临至等请说就也都又还住近离经"
_TOWN_INSIDE = re.compile(r"^.*?(?:街道|社区|镇)(?=..)")

# A time glued before a name by the word cutter ("十点多水韵天府") is no part of it.
_TIME_LEAD = re.compile(r"^(?:[零一二两三四五六七八九十\d]+点(?:多|半|钟|左右)?|今天|昨天|前天|昨晚|今晚|每天|"
                        r"晚上|早上|上午|下午|中午|凌晨|夜里|半夜|周末)+")
_ADMIN = re.compile(r"(?<![A-Za-z0-9])([A-Z]\d{0,2})(市|区|县)")
_REAL_ADMIN = re.compile(r"([\u4e00-\u9fa5]{2,4}?)(省|市|区|县)")
_CJK_OR_CODE = re.compile(r"^[\u4e00-\u9fa5A-Za-z0-9·]+$")
_CODE = re.compile(r"^[A-Za-z0-9]+$")
_NAME_TAGS = frozenset({"n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "ng", "j", "l", "x", "eng", "m", "a", "b", "s",
                        "an", "i", "z"})
_MAX_NAME_CHARS = 10


@dataclass(frozen=True)
class Place:
    """One place a message names: `key` matches variants, `display` is what a reader sees."""

    key: str          # the name without administrative prefix or 小区: "魅力之城"
    name: str         # the name as written, suffix included: "魅力之城小区"
    kind: str         # estate, school, institution, road, village, community, town
    city: str = ""    # "A市"
    district: str = ""  # "A5区"
    in_title: bool = False
    registered: bool = False   # one of the community registry's own places (a courtyard, a street)

    @property
    def display(self) -> str:
        return f"{self.city}{self.district}{self.name}"

    @property
    def specific(self) -> bool:
        return self.kind in SPECIFIC_KINDS


@lru_cache(maxsize=1)
def _tag_table() -> dict[str, str]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba.posseg.dt.word_tag_tab


_BREAK_AFTER = re.compile(r"((?<![A-Za-z0-9])[A-Z]\d{0,2}[市区县]|街道|社区|镇(?![政府长委党]))")


def tokenize(text: str) -> list[str]:
    """jieba words of `text`, spaces dropped; an anonymised code ("A5区") is one word.

    jieba's new-word discovery glues a district or town to the next name ("区丽发", "镇鑫顺"):
    a space after each administrative unit keeps the name clean.
    """
    import jieba

    _tag_table()
    words = jieba.lcut(_BREAK_AFTER.sub(r"\1 ", text))
    out: list[str] = []
    for word in words:
        if not word.strip():
            continue
        if out and word in ("市", "区", "县") and re.fullmatch(r"[A-Z]\d{0,2}", out[-1]):
            out[-1] += word
        else:
            out.append(word)
    return out


def normalize_key(name: str) -> str:
    """The matching form of a place name, so that its variants meet (issue 8, B h).

    Full-width characters become half-width (NFKC: "Ａ４区" is "A4区"); middle dots, spaces,
    dashes and 的 go; ASCII is upper-cased; a phase or section written after the name
    ("二期", "3期", "E4区", "C区") and the estate words 小区 / 花园 / 家园 at its end go, while a
    name of at least three characters is left (two before 小区, as before): "魅力之城小区",
    "魅力之城二期" and "魅力 之城" are one key, "枫林绿洲花园" and "枫林绿洲小区" too; "滨江花园" stays
    whole (a two-character stem is too common to stand alone)."""
    key = re.sub(r"[\s·•・.\-—_]", "", unicodedata.normalize("NFKC", name)).upper()
    for _ in range(3):
        short = _KEY_TAIL.sub("", key)
        if short == key or len(short) < (2 if key.endswith("小区") else 3):
            break
        key = short
    return key


# What a key drops from its end: a phase ("二期", "3期"), a section ("E4区", "C区"), 小区 / 花园 / 家园.
_KEY_TAIL = re.compile(r"(?:[一二三四五六七八九十\d]+期(?:工程)?|(?<=[\u4e00-\u9fa5])[A-Z]\d{0,2}区|小区|花园|家园)$")


_SUFFIXES_BY_LAST: dict[str, tuple[tuple[str, str, int], ...]] = {}
for _entry in _SUFFIXES:
    _SUFFIXES_BY_LAST[_entry[0][-1]] = (*_SUFFIXES_BY_LAST.get(_entry[0][-1], ()), _entry)


def _suffix_of(token: str) -> tuple[str, str, int] | None:
    for suffix, kind, min_len in _SUFFIXES_BY_LAST.get(token[-1:], ()):
        if token.endswith(suffix):
            return suffix, kind, min_len
    return None


def _name_like(token: str) -> bool:
    if token in _STOP_WORDS or not _CJK_OR_CODE.match(token):
        return False
    if len(token) >= 2 and token.endswith(("省", "市", "区", "县")):
        return False   # "成北区", "景区", "小区": a unit or an area, never the start of a name
    if _CODE.match(token):
        return True
    tag = _tag_table().get(token)
    return tag is None or tag[:2] in _NAME_TAGS or tag[:1] in {"n"}


def _name_part(token: str) -> bool:
    """A word that can be inside a name: name-like, or an estate word before 小区 ("幸福" "里" "小区")."""
    if _name_like(token):
        return True
    hit = _suffix_of(token)
    return bool(hit) and hit[1] == ESTATE and len(hit[0]) == 1 and token not in _STOP_WORDS


def _admin_token(token: str) -> bool:
    return bool(_ADMIN.fullmatch(token)) or token in {"市", "区", "县"}


def _generic(stem: str, name: str, kind: str) -> bool:
    if re.search(r"[个的及]|\d+[年月日号]|[年月日]\d", stem):
        return True
    if stem in _GENERIC_NAMES or name in _GENERIC_NAMES or stem in _STOP_WORDS:
        return True
    if name.endswith(_NON_PLACE_ENDINGS):
        return True
    # The stem is made only of generic words: "物业服务", "自来水供水" are classes, not places.
    if kind == INSTITUTION and all(part in _GENERIC_NAMES or part in _STOP_WORDS
                                   for part in re.findall(r"..", stem) if part):
        return True
    if kind == INSTITUTION:
        core = re.sub(r"有限|股份|责任|集团|控股|分公司|子公司", "", stem)
        if len(core) < 2 or core in _GENERIC_NAMES:
            return True
    if re.fullmatch(r"[\d一二三四五六七八九十百零第]+", stem) and kind != SCHOOL:
        return True   # "931路" is a bus line, "3栋" a building
    return False


def _admin_before(tokens: list[str], end: int) -> tuple[str, str]:
    """City and district written just before position `end` ("A市A5区…", "长沙市雨花区…")."""
    city = district = ""
    i = end - 1
    text = ""
    while i >= 0 and len(text) < 16:
        tok = tokens[i]
        if not (_CODE.match(tok) or tok in {"市", "区", "县", "省"} or tok.endswith(("市", "区", "县", "省"))):
            break
        text = tok + text
        i -= 1
    for code, unit in _ADMIN.findall(text):
        if unit == "市":
            city = code + unit
        else:
            district = code + unit
    return city, district


def _message_admin(text: str) -> tuple[str, str]:
    """The city and the only district a text names, for places written without them."""
    cities = [c + u for c, u in _ADMIN.findall(text) if u == "市"]
    districts = list(dict.fromkeys(c + u for c, u in _ADMIN.findall(text) if u != "市"))
    city = cities[0] if cities else ""
    district = districts[0] if len(districts) == 1 else ""
    return city, district


def city_of(district: str) -> str:
    """Anonymised districts carry their city's letter: A5区 is in A市."""
    m = re.fullmatch(r"([A-Z])\d+[区县]", district)
    return f"{m.group(1)}市" if m else ""


def places_in_tokens(tokens: list[str], *, in_title: bool = False,
                     default_admin: tuple[str, str] = ("", "")) -> list[Place]:
    """Places named in a run of jieba tokens, in the order they occur (repeats kept)."""
    found: list[Place] = []
    n = len(tokens)
    i = 0
    while i < n:
        tok = tokens[i]
        hit = _suffix_of(tok)
        # 小区 after a place word belongs to it ("魅力之城" "小区"): let the longer name win.
        if hit and i + 1 < n and tokens[i + 1] == "小区" and hit[1] == ESTATE and hit[0] != "小区":
            hit = None
        if not hit or not _CJK_OR_CODE.match(tok):
            i += 1
            continue
        suffix, kind, min_len = hit
        stem = tok[: -len(suffix)]
        j = i - 1
        while j >= 0 and len(stem) < _MAX_NAME_CHARS and _name_part(tokens[j]) and not _admin_token(tokens[j]) \
                and tokens[j] not in ("之",) and not _suffix_of_admin(tokens[j]):
            stem = tokens[j] + stem
            j -= 1
        # "魅力之城": 之 joins two name words.
        while j >= 1 and tokens[j] == "之" and _name_like(tokens[j - 1]) and not _admin_token(tokens[j - 1]):
            stem = tokens[j - 1] + "之" + stem
            j -= 2
        first = tokens[j + 1] if j + 1 < i else tok
        if first not in _tag_table() and first[:1] in _LEADING_NOISE and len(stem) > min_len:
            stem = stem[1:]
        stem = _TOWN_INSIDE.sub("", stem)
        stem = _TIME_LEAD.sub("", stem)
        if kind != SCHOOL and not _CODE.match(stem):
            stem = stem.lstrip("0123456789")
        name = stem + suffix
        if len(stem) >= min_len and not _generic(stem, name, kind):
            city, district = _admin_before(tokens, j + 1)
            if not (city or district):
                city, district = default_admin
            city = city or city_of(district)
            found.append(Place(key=normalize_key(name), name=name, kind=kind, city=city, district=district,
                               in_title=in_title))
        i += 1
    return found


def _suffix_of_admin(token: str) -> bool:
    """Tokens that end a town or community name stop an estate name: "青竹湖镇太阳山小区"."""
    hit = _suffix_of(token)
    return bool(hit) and hit[1] in (COMMUNITY, TOWN) and len(token) > len(hit[0])


@dataclass(frozen=True)
class Registry:
    """The names a community's own registry gives its places: courtyards (grids), distinctive
    building names and its street. A message that names one of them is about that place, and
    the suffix rules are not asked (they cut fragments such as "麻烦社区" out of sentences)."""

    names: tuple[tuple[str, str], ...] = ()   # (name as registered, kind), longest first

    @classmethod
    def of(cls, estates=(), roads=()) -> "Registry":
        pairs = {(n.strip(), ESTATE) for n in estates if n and len(n.strip()) >= 2}
        pairs |= {(n.strip(), ROAD) for n in roads if n and len(n.strip()) >= 2}
        return cls(tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0]))))

    def find(self, title: str, text: str) -> list[Place]:
        found, taken = [], ""
        for in_title, part in ((True, title), (False, text)):
            plain = re.sub(r"[\s·•・.]", "", part)
            for name, kind in self.names:
                written = re.sub(r"[\s·•・.]", "", name)
                short = re.split(r"[·•・.]", name)[-1].strip()   # "沙河·源上金府" is said "源上金府"
                if (written in plain or (len(short) >= 3 and short in plain)) and written not in taken:
                    taken += written + "|"
                    found.append(Place(key=normalize_key(name), name=name, kind=kind, in_title=in_title,
                                       registered=True))
        return found


def extract_places(title: str, text: str = "", *, title_tokens: list[str] | None = None,
                   text_tokens: list[str] | None = None, registry: Registry | None = None) -> list[Place]:
    """All places of a message, title first, most specific and most mentioned first, one per key.

    With a ``registry``, the registry's own names come first: when a message names any of
    them, those are its places and the suffix rules are not asked."""
    if registry is not None and registry.names:
        known = registry.find(title, text)
        if known:
            return rank_places(known)
    title_tokens = tokenize(title) if title_tokens is None else title_tokens
    text_tokens = tokenize(text) if text_tokens is None else text_tokens
    admin = _message_admin(f"{title} {text[:300]}")
    occurrences = _numbered_schools(title, in_title=True)
    occurrences += places_in_tokens(title_tokens, in_title=True, default_admin=admin)
    occurrences += _numbered_schools(text)
    occurrences += places_in_tokens(text_tokens, default_admin=admin)
    return rank_places(occurrences)


_NUMBERED_SCHOOL = re.compile(
    r"((?:(?<![A-Za-z0-9])[A-Z]\d{0,2}[市县区])+)(第?[一二三四五六七八九十\d]{1,3}[中小])(?![心国文药医级等学型部期共])")


def _numbered_schools(text: str, *, in_title: bool = False) -> list[Place]:
    """"A市十五中", "A7县一中": numbered schools, taken only with their city or county (else generic)."""
    found = []
    for admin, school in _NUMBERED_SCHOOL.findall(text):
        city = district = ""
        for code, unit in _ADMIN.findall(admin):
            if unit == "市":
                city = code + unit
            else:
                district = code + unit
        city = city or city_of(district)
        found.append(Place(key=normalize_key(f"{district or city}{school}"), name=school, kind=SCHOOL, city=city,
                           district=district, in_title=in_title))
    return found


def rank_places(occurrences: list[Place]) -> list[Place]:
    """One place per key, ordered: named in the title, specific kind, mentioned often, first seen."""
    counts = Counter(p.key for p in occurrences)
    best: dict[str, Place] = {}
    order: dict[str, int] = {}
    for index, place in enumerate(occurrences):
        order.setdefault(place.key, index)
        current = best.get(place.key)
        if current is None or _more_complete(place, current):
            best[place.key] = Place(key=place.key, name=place.name, kind=place.kind, city=place.city,
                                    district=place.district,
                                    in_title=place.in_title or bool(current and current.in_title),
                                    registered=place.registered)
        elif place.in_title and not current.in_title:
            best[place.key] = Place(key=current.key, name=current.name, kind=current.kind, city=current.city,
                                    district=current.district, in_title=True, registered=current.registered)
    # A key contained in a longer key of the same message is the same place written short.
    keys = list(best)
    for short in keys:
        for long in keys:
            if short != long and short in long and best.get(short) and best.get(long) \
                    and best[short].kind == best[long].kind:
                counts[long] += counts.pop(short, 0)
                best[long] = _with_title(best[long], best[short].in_title)
                del best[short]
                break
    return sorted(best.values(), key=lambda p: (not p.in_title, _KIND_RANK[p.kind], -counts[p.key], order[p.key]))


def _with_title(place: Place, in_title: bool) -> Place:
    if in_title and not place.in_title:
        return Place(key=place.key, name=place.name, kind=place.kind, city=place.city, district=place.district,
                     in_title=True, registered=place.registered)
    return place


def _more_complete(new: Place, old: Place) -> bool:
    """Prefer the written form with more administrative context, then the longer name."""
    return (bool(new.district), bool(new.city), len(new.name)) > (bool(old.district), bool(old.city), len(old.name))


def primary_places(places: list[Place], limit: int = 3) -> list[Place]:
    """The places a message is about: its specific places, or failing those its community or town."""
    specific = [p for p in places if p.specific]
    if specific:
        titled = [p for p in specific if p.in_title]
        return (titled or specific)[:limit]
    return [p for p in places if p.kind in (COMMUNITY, TOWN)][:1]
