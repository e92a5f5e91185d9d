"""Grouping messages into hot issues: many residents raising the same problem about the same place,
close in time. (The hot issues a community keeps, built on these, are linli.insight.hotissues.)

Pure functions over `Message` values, so `linli hotspots`, the intake and the staff pages share them:

* `find_hot_issues(messages)` groups a batch and ranks the groups by heat;
* `attach(message, issues)` finds the open hot issue a new message belongs to (intake);
* `similar(message, candidates, k)` lists the messages staff may want to merge with one.

How two messages are compared (one scale, documented in docs/hotspots.md):

    affinity = max(cosine, title cosine) + SUBJECT_BONUS
                                                        if they share a rare title name, or their titles
                                                        (character pairs) reach TITLE_LINK, with no
                                                        different cities and no conflicting stated places
             = cosine(meaning vectors) + PLACE_BONUS   if they name the same place (not a generic one)
             = cosine - PLACE_CONFLICT                  if both name places, none in common
             = cosine                                   otherwise (one or both name no place)
    and 0 when they are more than `window_days` apart.

The meaning vector is TF-IDF over jieba words with the place names taken out, so "魅力之城" in
two messages does not make an oil-fume complaint look like a noise complaint about the same
estate. Two messages are linked when affinity >= LINK; each linked group is then cut by average
linkage at GROUP, so one loose link cannot chain two problems into one issue. A second pass
(`merge_by_entities`) joins clusters that name one distinctive company, platform or project.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from linli.insight.places import (ESTATE, INSTITUTION, Place, Registry, city_of, extract_places, normalize_key, primary_places,
                                  tokenize)

PLACE_BONUS = 0.3      # same place: a cosine of 0.2 is enough to link (LINK - PLACE_BONUS)
SUBJECT_BONUS = 0.3      # same rare name in the titles (a company, a platform, a project), no place conflict
TITLE_LINK = 0.3       # titles this alike (character pairs weighted by rarity) are about one subject
GENERIC_PLACE = 0.002  # a place named by more than this share of a batch (and at least GENERIC_MIN) is generic
GENERIC_MIN = 6
SUBJECT = 2            # place_relation's answer for "same subject"
REGISTERED_CONFLICT = -2   # place_relation's answer for "two different places of the community's registry"
PLACE_CONFLICT = 0.35  # different places: only near-identical texts (cosine >= 0.85) link
LINK = 0.5             # affinity that links two messages
GROUP = 0.4            # average affinity a group keeps within itself
REPOST = 0.9           # cosine above which two members count as one report (a re-post)
SUGGEST = 0.3          # affinity from which `similar` proposes a message to staff
TEXT_CHARS = 600       # the start of the text is where the place and the problem are told
PLACE_CHARS = 400
WINDOW_DAYS = 60
MIN_MEMBERS = 2       # one message is not a hot issue; re-posts count, but weigh little in heat

# Words of every complaint: they say nothing about which problem it is.
_STOP_WORDS = frozenset("""
我们 你们 他们 我 你 他 她 它 这 那 这个 那个 这些 那些 这里 那里 这样 那样 什么 怎么 为什么 如何 哪里 哪些 一个 一些
没有 不是 就是 还是 但是 而且 并且 因为 所以 如果 虽然 可以 能够 已经 现在 目前 一直 还有 以及 或者 以后 之前 之后
问题 情况 希望 请求 要求 建议 反映 投诉 举报 咨询 解决 处理 相关 部门 领导 政府 有关 关于 进行 相关部门 有关部门
尊敬 您好 你好 谢谢 感谢 市长 书记 局长 同志 您 各位 恳请 恳求 请 望 盼 能否 是否 何时 为何 严重 非常 十分 特别
业主 居民 市民 群众 老百姓 百姓 大家 本人 小区 社区 街道 的 了 在 是 和 与 及 也 都 就 又 还 被 把 给 对 向 从 到
""".split())
_KEEP_TOKEN = re.compile(r"[\u4e00-\u9fa5]|[A-Za-z]{2,}")
_ADMIN_CODE = re.compile(r"^[A-Z]\d{0,2}[市区县]$")
_TITLE_FILLER = re.compile(r"^(?:关于|反映|投诉|举报|请求|要求|建议|咨询|强烈|紧急|恳请|希望|请|求|对|就|的|，|,|:|：|\s)+")


@dataclass(frozen=True)
class Message:
    """One citizen message: what `linli hotspots` reads from a CSV row, or a case at intake."""

    id: str
    title: str
    text: str
    created_at: dt.datetime
    supports: int = 0
    reporter: str = ""   # the sender where known; re-posts are told apart by text otherwise
    place: str = ""      # the registry's place of the sender (a case's courtyard) where known


@dataclass(frozen=True)
class Analysed:
    """A message with its words and places: computed once, compared many times."""

    message: Message
    words: tuple[str, ...]
    places: tuple[Place, ...]      # its primary places: what it is about
    all_places: tuple[Place, ...]
    title_words: frozenset[str] = frozenset()   # candidate subject terms of the title
    cities: frozenset[str] = frozenset()        # the cities it names ("A市"; a district's city)
    subjects: frozenset[str] = frozenset()      # its title terms that are rare in the batch (set by find_hot_issues)
    title_grams: tuple[str, ...] = ()           # character pairs of its title, without codes and fillers
    entities: frozenset[str] = frozenset()      # entity-like names of its title and text (a company, a platform)


@dataclass(frozen=True)
class HotIssue:
    title: str
    place: str
    place_key: str
    first_at: dt.datetime
    last_at: dt.datetime
    ids: tuple[str, ...]
    heat: float
    reports: int          # distinct reporters, re-posts counted once
    supports: int
    members: tuple[Message, ...] = field(repr=False, default=())
    cohesion: float = 0.0  # mean affinity of its members' pairs: how distinctly they share one problem (tie-break)


@dataclass(frozen=True)
class Attachment:
    """Where `attach` put a new message: the issue's position in the list given, and the issue with it."""

    index: int
    issue: HotIssue
    affinity: float


# --- words and places ------------------------------------------------------------------------

def analyse(message: Message, registry: Registry | None = None) -> Analysed:
    """Words (title twice: it is the message's own summary) and places of one message.

    Places come from the ``registry``'s own names first; a message that names no specific
    place is about its sender's registered place (``message.place``, a case's courtyard)."""
    title_tokens = tokenize(message.title)
    text_tokens = tokenize(message.text[:TEXT_CHARS])
    head, length = [], 0
    for token in text_tokens:
        if length >= PLACE_CHARS:
            break
        head.append(token)
        length += len(token)
    places = extract_places(message.title, message.text[:PLACE_CHARS], title_tokens=title_tokens,
                            text_tokens=head, registry=registry)
    if message.place and not any(p.specific for p in places):
        places = [Place(key=normalize_key(message.place), name=message.place, kind=ESTATE, registered=True), *places]
    place_chars = "".join(p.name for p in places)
    words = tuple(w for w in [*title_tokens, *title_tokens, *text_tokens] if _meaning_word(w, place_chars))
    title_words = frozenset(w for w in title_tokens if _meaning_word(w, place_chars) and not w.isdigit()
                            and w not in _SUBJECT_STOP and not _PLACE_LIKE.search(w) and _entity_like(w))
    # The cities a message is about: those its title names (a body mentions others in passing:
    # where the writer works, where a relative lives); a message without a title, its text's.
    head_text = re.sub(r"(?<=[A-Z]\d)\s+(?=[市区县])|(?<=[A-Z]\d\d)\s+(?=[市区县])", "",
                       message.title or message.text[:PLACE_CHARS])
    cities = frozenset(re.findall(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}市", head_text)) | frozenset(
        city_of(d) for d in re.findall(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[区县]", head_text))
    return Analysed(message=message, words=words, places=tuple(primary_places(places)), all_places=tuple(places),
                    title_words=title_words, cities=frozenset(c for c in cities if c),
                    title_grams=title_grams(message.title),
                    entities=entity_terms(title_tokens, head, places))


# --- entities: what messages about one company, platform or project share -----------------------

_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_ENTITY_SUFFIX = re.compile(r"(?:有限责任|股份有限|有限)?(?:公司|集团|平台|项目|学校|学院|医院|酒店|APP|App|app)$")
_OFFICIAL = re.compile(r"(?:书记|市长|局长|主任|县长|区长|镇长|省长|部长|处长|厅长|主席|领导|同志|先生|女士)$")
_LATIN_COMMON = frozenset({"app", "wifi", "www", "com", "http", "https", "ppp", "etc", "gps", "led", "cbd", "vip"})


_NO, _LATIN, _NAMED, _UNKNOWN, _COMMON, _COMMON_VERB = range(6)


@lru_cache(maxsize=200_000)
def _entity_word(raw: str) -> tuple[str, int]:
    """One word's form and kind for `entity_terms` (cached: a batch repeats its words): no name at
    all, a Latin brand, a proper noun by its tag, a word unknown to the dictionary, a common word
    (a name only before 公司 / 平台 …), a verb, adjective or adverb (never)."""
    from linli.insight.places import _tag_table

    word = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    if _LATIN_NAME.fullmatch(word):
        return (word.lower(), _LATIN) if word.lower() not in _LATIN_COMMON and not _PLACE_LIKE.search(word) else (word, _NO)
    if (len(word) < 2 or not _CJK.search(word) or word in _STOP_WORDS or word in _SUBJECT_STOP or word.isdigit()
            or _PLACE_LIKE.search(word) or _ADMIN_CODE.match(word) or _OFFICIAL.search(word)):
        return word, _NO
    tag = _tag_table().get(word)
    if tag is None:
        return word, _UNKNOWN
    if tag in _ENTITY_TAGS:
        return word, _NAMED
    return word, _COMMON_VERB if tag in ("v", "vn", "a", "d") else _COMMON


def entity_terms(title_tokens: Sequence[str], text_tokens: Sequence[str] = (),
                 places: Sequence[Place] = ()) -> frozenset[str]:
    """Entity-like names a message mentions: a word unknown to the dictionary or a proper noun by
    its tag (a company "通盛物流", a platform, a training school's brand), a Latin brand name, a word
    standing before 公司 / 集团 / 平台 / 项目 / App …, and the institutions among its places (a
    company, a project). Estates, roads and towns are places, not entities: they have their own
    rules. Whether a name is distinctive is decided over the batch (`distinctive_entities`).

    Word cutting makes unknown "words" of sentence fragments ("日至" of "21日至24日"): in the body
    an unknown word counts only with three characters or more, or written twice."""
    place_chars = "".join(p.name for p in places if p.kind != INSTITUTION)
    out: set[str] = set()
    tokens = [*title_tokens, *text_tokens]
    in_body = Counter(text_tokens)
    for index, raw in enumerate(tokens):
        if len(raw) < 2:
            continue   # a single character makes no name
        word, kind = _entity_word(raw)
        if kind == _NO or word in place_chars:
            continue
        if kind == _LATIN:
            out.add(word)
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if kind != _COMMON_VERB and _ENTITY_SUFFIX.search(following):
            out.add(word)   # the name before 公司 / 平台 / 项目 …
        elif kind == _NAMED or (kind == _UNKNOWN and (index < len(title_tokens) or len(word) >= 3 or in_body[raw] >= 2)):
            out.add(word)
    for p in places:
        if p.kind == INSTITUTION and len(p.key) >= 4:
            out.add(p.key)
    return frozenset(out)


# Title words that every kind of complaint uses: no evidence that two titles share a subject.
_TITLE_FILLERS = re.compile("|".join(sorted("""
问题 反映 关于 请求 要求 解决 投诉 举报 咨询 建议 希望 为什么 是否 何时 什么 怎么 政府 部门 相关 有关 严重
情况 领导 恳请 强烈 呼吁 请问 能否 可以 没有 一直 还是 谁来 市民 居民 业主 群众 我们 你们
""".split(), key=len, reverse=True)))
_TITLE_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[市区县]")


def title_grams(title: str) -> tuple[str, ...]:
    """Overlapping character pairs of a title, without anonymised codes, fillers and punctuation.

    Word cutting splits names it does not know ("酷骑" and "酷奇" into single characters), so
    titles are also compared by character pairs, weighted by how rare each pair is in the batch:
    "酷骑单车押金" and "酷奇单车押金" share 单车, 车押, 押金 (issue 8, B h)."""
    text = unicodedata.normalize("NFKC", title)
    text = _TITLE_FILLERS.sub("|", _TITLE_CODE.sub("|", text))
    grams: list[str] = []
    for part in re.split(r"[^\u4e00-\u9fa5A-Za-z]+", text):
        grams.extend(part[i:i + 2] for i in range(len(part) - 1))
    return tuple(grams)


# Title words too common in complaints to name what a message is about, however rare in a batch.
_SUBJECT_STOP = frozenset("""
怎么办 谁来管 何时 什么时候 为什么 是否 合理 合法 不合理 严重 影响 扰民 污染 解决 处理 办理 收费 乱收费 不作为
请问 咨询 建议 希望 呼吁 强烈 恳请 举报 反映 投诉 要求 请求 问题 事情 情况 没有 不能 可以 能否 一直 至今 多年
天天 每天 晚上 夜间 长期 经常 居民 业主 群众 老人 学生 孩子 家长 职工 工人 村民 工资 补贴 费用 政策 规定 部门
""".split())
_ENTITY_TAGS = frozenset({"nz", "nt", "nr", "nrt", "nrfg", "eng", "j"})


def _entity_like(word: str) -> bool:
    """A name, not a common word: unknown to the dictionary ("酷骑", a company, a brand) or a
    proper noun by its tag. Kinds of problem ("油烟", "停电", "传销") are common words: the same
    problem at two places stays two issues."""
    from linli.insight.places import _tag_table

    tag = _tag_table().get(word)
    return tag is None or tag in _ENTITY_TAGS


# A place or unit word is no subject: places have their own rule ("渌口区", "南洲镇").
_PLACE_LIKE = re.compile(r"[省市区县镇乡村路街巷]$|[A-Z]\d")
SUBJECT_RARE = 0.005   # a title term shared by at most this share of a batch's titles (and at least 2) is a subject
SUBJECT_TEXT_RARE = 0.008
SUBJECT_MIN_RARE = 4


def mark_subjects(analysed: Sequence[Analysed]) -> list[Analysed]:
    """Give each message the terms of its title that are rare in the batch: a company, a
    platform, a project, a kind of wrong ("酷骑", "城铁", "传销"). Two messages sharing one are
    about the same subject even where they name different estates (issue 8, B h)."""
    from dataclasses import replace

    df = Counter(w for a in analysed for w in a.title_words)
    limit = max(SUBJECT_MIN_RARE, int(SUBJECT_RARE * len(analysed)))
    # Rare in titles AND in the texts: a word every other message uses in its text ("物业",
    # "建筑", "涨价") is a common word, not the name of one subject.
    text_df = Counter(w for a in analysed for w in set(a.words))
    text_limit = max(SUBJECT_MIN_RARE, int(SUBJECT_TEXT_RARE * len(analysed)))
    return [replace(a, subjects=frozenset(w for w in a.title_words if 2 <= df[w] <= limit and text_df[w] <= text_limit))
            for a in analysed]


def _meaning_word(word: str, place_chars: str) -> bool:
    if len(word) < 2 or word in _STOP_WORDS or _ADMIN_CODE.match(word) or not _KEEP_TOKEN.search(word):
        return False
    return word not in place_chars


def canonical_keys(analysed: Sequence[Analysed]) -> dict[str, str]:
    """Map each place key to the shortest key of the batch it ends with ("规划图麒麟公馆" -> "麒麟公馆").

    Only keys of three characters or more absorb longer ones: "花园" must not swallow every garden.
    """
    keys = {p.key for a in analysed for p in a.places}
    mapping = {}
    for key in keys:
        shorter = (key[start:] for start in range(len(key) - 3, 0, -1))
        mapping[key] = next((tail for tail in shorter if tail in keys), key)
    return mapping


GENERIC_SPREAD = 0.1    # mean cosine below which the messages naming one place are unrelated


def mark_generic(analysed: Sequence[Analysed], matrix, keys: dict[str, str]) -> dict[str, str]:
    """Mark the batch's generic places: named by many messages (more than GENERIC_PLACE of the
    batch, at least GENERIC_MIN) that are unrelated to each other (their mean pairwise cosine is
    below GENERIC_SPREAD) -- a district's landmark, a town, a big estate every kind of complaint
    mentions. Such a place neither links two messages nor keeps them apart (issue 8, B h). A
    registry's place is never generic, and a real hot issue at one place is not: its messages
    are alike."""
    members: dict[str, list[int]] = {}
    for index, a in enumerate(analysed):
        for key in {keys.get(p.key, p.key) for p in a.places if not p.registered}:
            members.setdefault(key, []).append(index)
    limit = max(GENERIC_MIN, GENERIC_PLACE * len(analysed))
    marked = dict(keys)
    for key, rows in members.items():
        if len(rows) <= limit:
            continue
        total = np.asarray(matrix[rows].sum(axis=0)).ravel()
        count = len(rows)
        mean = (float(total @ total) - count) / (count * (count - 1))
        if mean < GENERIC_SPREAD:
            marked[_GENERIC_MARK + key] = key
            for original, canonical in keys.items():
                if canonical == key:
                    marked[_GENERIC_MARK + original] = key
    return marked


ENTITY_RARE = 0.002     # an entity named by at most this share of a batch (and at least ENTITY_MIN) is distinctive
ENTITY_MIN = 4
ENTITY_COS = 0.1        # two clusters sharing an entity merge only if their centroids are this alike


def distinctive_entities(analysed: Sequence[Analysed], matrix) -> dict[str, float]:
    """The batch's distinctive entities, with their idf: named by at least two messages, and either
    rare (at most ENTITY_RARE of the batch, at least ENTITY_MIN) or named by messages that are alike
    (mean pairwise cosine at least GENERIC_SPREAD) -- the rule that tells a generic place from a real
    issue's place: a word every kind of complaint uses ("社保", "顾客") is not an entity of one issue,
    a company a big issue's thirty messages all name is."""
    n = len(analysed)
    limit = max(ENTITY_MIN, ENTITY_RARE * n)
    counts = Counter(entity for a in analysed for entity in a.entities)
    frequent = {entity for entity, count in counts.items() if count > limit}
    rows: dict[str, list[int]] = {entity: [] for entity in frequent}
    for index, a in enumerate(analysed):
        for entity in a.entities & frequent if frequent else ():
            rows[entity].append(index)
    weights = {}
    for entity, count in counts.items():
        if count < 2:
            continue
        if entity in frequent:
            members = rows[entity]
            total = np.asarray(matrix[members].sum(axis=0)).ravel()
            if (float(total @ total) - count) / (count * (count - 1)) < GENERIC_SPREAD:
                continue
        weights[entity] = math.log((1 + n) / (1 + count)) + 1.0
    return weights


def merge_by_entities(groups: list[list[int]], analysed: Sequence[Analysed], matrix, keys: dict[str, str],
                      window_days: float) -> list[list[int]]:
    """Second pass (issue 8, B h): join clusters -- not two single messages -- that name a
    distinctive entity in common (`distinctive_entities`), with centroids alike (cosine >=
    ENTITY_COS), within the window, naming no different cities and no conflicting places (generic
    places aside, as in the first pass). One issue split by variants of a place name, or by how
    each writer words it, comes back together through the company, platform or project every part
    names. A cluster's entities are those at least half its members name. Pairs are merged best
    first (summed idf of the shared names, plus the cosine); a pair whose clusters were merged
    meanwhile is judged again on the merged clusters, so one shared word cannot chain unrelated
    clusters."""
    weights = distinctive_entities(analysed, matrix)
    if not weights:
        return groups
    window = dt.timedelta(days=window_days)

    def summary(members: list[int]):
        counts = Counter(e for i in members for e in analysed[i].entities if e in weights)
        entities = frozenset(e for e, c in counts.items() if 2 * c >= len(members))
        if not entities:
            return None
        times = [analysed[i].message.created_at for i in members]
        cities = frozenset().union(*(analysed[i].cities for i in members))
        return entities, members, min(times), max(times), cities

    vectors: dict[int, tuple] = {}

    def centroid(number: int):
        """The cluster's rows and the length of their sum (computed when a pair asks)."""
        members = current[number]
        if vectors.get(number, (None,))[0] is not members:
            rows = matrix[members]
            vectors[number] = (members, rows, math.sqrt(max(float((rows @ rows.T).sum()), 1e-12)))
        return vectors[number][1:]

    def score(x: int, y: int) -> float | None:
        """The merge score of two current clusters, None where they must stay apart."""
        if info[x] is None or info[y] is None:
            return None
        ex, _x, fx, lx, cityx = info[x]
        ey, _y, fy, ly, cityy = info[y]
        shared = ex & ey
        if not shared or fx - window > ly or fy - window > lx or (cityx and cityy and not cityx & cityy):
            return None
        (rows_x, norm_x), (rows_y, norm_y) = centroid(x), centroid(y)
        cos = float((rows_x @ rows_y.T).sum()) / (norm_x * norm_y)   # the cosine of the two centroids
        if cos < ENTITY_COS or _clusters_conflict(current[x], current[y], analysed, keys):
            return None
        return sum(weights[e] for e in shared) + cos

    current = {number: list(members) for number, members in enumerate(groups)}
    info = {number: summary(members) for number, members in current.items()}
    clusters: dict[str, list[int]] = {}
    singles: dict[str, list[int]] = {}
    for number, summed in info.items():
        for entity in (summed[0] if summed else ()):
            (clusters if len(current[number]) >= MIN_MEMBERS else singles).setdefault(entity, []).append(number)
    pairs = set()
    for entity, numbers in clusters.items():
        pairs.update((x, y) for at, x in enumerate(numbers) for y in numbers[at + 1:])
        pairs.update((x, y) for x in numbers for y in singles.get(entity, ()))
    scored = sorted(((value, x, y) for x, y in pairs if (value := score(x, y)) is not None), reverse=True)
    root = {number: number for number in current}

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for _value, x, y in scored:
        rx, ry = find(x), find(y)
        if rx == ry or ((rx, ry) != (x, y) and score(rx, ry) is None):
            continue
        current[rx] = current[rx] + current.pop(ry)
        root[ry] = rx
        info[rx] = summary(current[rx])
        info.pop(ry)
    return list(current.values())


def _clusters_conflict(xs: list[int], ys: list[int], analysed: Sequence[Analysed], keys: dict[str, str]) -> bool:
    """Two clusters are about conflicting places when the places they state (generic ones aside) have
    none in common, or two different places of the registry set their members apart. Companies and
    projects are what this pass compares, as entities, not places: "客万莱餐饮公司" and its
    misspelling are not two places."""
    px = [p for i in xs for p in _told_places(analysed[i], keys) if p.kind != INSTITUTION]
    py = [p for j in ys for p in _told_places(analysed[j], keys) if p.kind != INSTITUTION]
    if px and py and not any(_same_place(a, b, keys) for a in px for b in py):
        return True
    return any(place_relation(analysed[i], analysed[j], keys) == REGISTERED_CONFLICT for i in xs for j in ys)


# --- comparing messages ----------------------------------------------------------------------

def _vectors(analysed: Sequence[Analysed], *, titles: bool = False):
    """TF-IDF rows of the words, or with ``titles`` of the titles' character pairs (sublinear tf,
    smooth idf, l2 norm: scikit-learn's TfidfVectorizer defaults).

    Written out with scipy.sparse because the whole computation is ten lines, and importing
    scikit-learn alone costs a command-line run seconds.
    """
    from scipy.sparse import csr_matrix

    vocabulary: dict[str, int] = {}
    indptr, indices, counts = [0], [], []
    for a in analysed:
        row = Counter(vocabulary.setdefault(w, len(vocabulary)) for w in (a.title_grams if titles else a.words))
        indices.extend(row)
        counts.extend(row.values())
        indptr.append(len(indices))
    shape = (len(analysed), max(1, len(vocabulary)))
    tf = csr_matrix((1.0 + np.log(np.asarray(counts, dtype=float)), indices, indptr), shape=shape)
    df = np.bincount(np.asarray(indices, dtype=int), minlength=shape[1])
    idf = np.log((1.0 + shape[0]) / (1.0 + df)) + 1.0
    matrix = tf.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(matrix.multiply(1.0 / norms[:, None]))


def _same_place(a: Place, b: Place, keys: dict[str, str]) -> bool:
    if keys.get(a.key, a.key) != keys.get(b.key, b.key):
        return False
    if not a.registered and keys.get(_GENERIC_MARK + a.key):
        return False   # a place many unrelated messages name says nothing about which problem
    # One name, two cities: "滨江花园" in B市 is not "滨江花园" in A市.
    return not (a.city and b.city and a.city != b.city) and not (a.district and b.district and a.district != b.district)


_GENERIC_MARK = "\0generic:"   # keys[_GENERIC_MARK + key] is set for a generic place of the batch


def same_subject(a: Analysed, b: Analysed, title_cos: float = 0.0) -> bool:
    """They share a rare title term, or their titles are alike (``title_cos`` >= TITLE_LINK), and
    they name no different cities."""
    if not (a.subjects and b.subjects and a.subjects & b.subjects) and title_cos < TITLE_LINK:
        return False
    return not (a.cities and b.cities and not a.cities & b.cities)


def _told_places(a: Analysed, keys: dict[str, str]) -> list[Place]:
    """The places that can set a message apart from another: named in its title (a message
    without a title: its text) or the registry's, and not generic in the batch. Places found in
    the body of a titled message are too often fragments ("整片", "篮球项目") to forbid a link."""
    return [p for p in a.places if (p.in_title or p.registered or not a.message.title)
            and (p.registered or not keys.get(_GENERIC_MARK + p.key))]


def _place_conflict(a: Analysed, b: Analysed, keys: dict[str, str]) -> bool:
    pa, pb = _told_places(a, keys), _told_places(b, keys)
    return bool(pa and pb) and not any(_same_place(x, y, keys) for x in pa for y in pb)


def place_relation(a: Analysed, b: Analysed, keys: dict[str, str] | None = None, title_cos: float = 0.0) -> int:
    """SUBJECT (2) same subject, +1 same place, -1 both name places but no common one, 0 otherwise.

    Same place: any of their places (a generic one aside). Different places: only places they
    state (`_told_places`) count, so a fragment read out of a body does not keep two messages
    about one problem apart."""
    keys = keys or {}
    if same_subject(a, b, title_cos) and not _place_conflict(a, b, keys):
        return SUBJECT
    if not a.places or not b.places:
        return 0
    if any(_same_place(pa, pb, keys) for pa in a.places for pb in b.places):
        return 1
    if all(p.registered for p in (*a.places, *b.places)):
        return REGISTERED_CONFLICT   # two courtyards of the registry: never one issue, however alike the words
    return -1 if _place_conflict(a, b, keys) else 0


def affinity(cosine: float, relation: int, gap_days: float, window_days: float, title_cos: float = 0.0) -> float:
    """The single score that decides links, groups, attachment and suggestions (see the module doc)."""
    if gap_days > window_days:
        return 0.0
    if relation == SUBJECT:
        return max(cosine, title_cos) + SUBJECT_BONUS
    if relation == REGISTERED_CONFLICT:
        return 0.0
    if relation > 0:
        return cosine + PLACE_BONUS
    if relation < 0:
        return cosine - PLACE_CONFLICT
    return cosine


def _gap_days(a: Message, b: Message) -> float:
    return abs((a.created_at - b.created_at).total_seconds()) / 86400


def _links(analysed: Sequence[Analysed], matrix, titles, keys: dict[str, str], window_days: float):
    """Pairs (i, j, affinity) with affinity >= LINK, from blockwise sparse products (words and titles)."""
    n = len(analysed)
    rows, cols, vals = [], [], []
    low = min(LINK - max(PLACE_BONUS, SUBJECT_BONUS), TITLE_LINK)
    for start in range(0, n, 1000):
        words = (matrix[start:start + 1000] @ matrix.T).tocsr()
        heads = (titles[start:start + 1000] @ titles.T).tocsr()
        block = words.maximum(heads).tocoo()
        keep = (block.data >= low) & (block.row + start < block.col)
        local, others = block.row[keep], block.col[keep]
        word_cos = np.asarray(words[local, others]).ravel()
        title_cos = np.asarray(heads[local, others]).ravel()
        for i, j, cos, tcos in zip(local + start, others, word_cos.tolist(), title_cos.tolist()):
            score = affinity(cos, place_relation(analysed[i], analysed[j], keys, tcos),
                             _gap_days(analysed[i].message, analysed[j].message), window_days, tcos)
            if score >= LINK:
                rows.append(i)
                cols.append(j)
                vals.append(score)
    return np.array(rows, dtype=int), np.array(cols, dtype=int), np.array(vals)


def _average_linkage(members: list[int], analysed, matrix, titles, keys, window_days) -> list[list[int]]:
    """Split one linked group where its average affinity falls below GROUP."""
    if len(members) <= 2:
        return [members]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    cos = (matrix[members] @ matrix[members].T).toarray()
    tcos = (titles[members] @ titles[members].T).toarray()
    size = len(members)
    distance = np.ones((size, size))
    for x in range(size):
        distance[x, x] = 0.0
        for y in range(x + 1, size):
            a, b = analysed[members[x]], analysed[members[y]]
            score = affinity(float(cos[x, y]), place_relation(a, b, keys, float(tcos[x, y])),
                             _gap_days(a.message, b.message), window_days, float(tcos[x, y]))
            distance[x, y] = distance[y, x] = max(0.0, 1.0 - min(score, 1.0))
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), t=1.0 - GROUP,
                      criterion="distance")
    groups: dict[int, list[int]] = {}
    for member, label in zip(members, labels):
        groups.setdefault(int(label), []).append(member)
    return list(groups.values())


# --- the batch -----------------------------------------------------------------------------

def find_hot_issues(messages: Iterable[Message], *, window_days: float = WINDOW_DAYS, top: int | None = None,
                    now: dt.datetime | None = None, registry: Registry | None = None,
                    entity_merge: bool = True) -> list[HotIssue]:
    """The hot issues of a batch, hottest first (`rank_key`). `now` (default: the newest message)
    anchors recency; `entity_merge` runs the second pass (`merge_by_entities`)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    messages = list(messages)
    if not messages:
        return []
    analysed = mark_subjects([analyse(m, registry) for m in messages])
    matrix = _vectors(analysed)
    titles = _vectors(analysed, titles=True)
    keys = mark_generic(analysed, matrix, canonical_keys(analysed))
    rows, cols, vals = _links(analysed, matrix, titles, keys, window_days)
    n = len(analysed)
    graph = coo_matrix((vals, (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    components: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        components.setdefault(int(label), []).append(index)
    now = now or max(m.created_at for m in messages)
    groups = []
    for members in components.values():
        if len(members) < MIN_MEMBERS:
            groups.append(members)   # a single message may still join a cluster naming its entity
            continue
        groups.extend(_average_linkage(members, analysed, matrix, titles, keys, window_days))
    if entity_merge:
        groups = merge_by_entities(groups, analysed, matrix, keys, window_days)
    issues = []
    for group in groups:
        issue = _issue([analysed[i] for i in group], matrix[group], keys, now=now, window_days=window_days)
        if issue is not None:
            issues.append(issue)
    issues.sort(key=rank_key)
    return issues[:top] if top is not None else issues


def _issue(group: list[Analysed], vectors, keys, *, now, window_days) -> HotIssue | None:
    group = sorted(group, key=lambda a: (a.message.created_at, a.message.id))
    cos = (vectors @ vectors.T).toarray() if vectors.shape[0] == len(group) else None
    if len(group) < MIN_MEMBERS:
        return None
    reports = distinct_reports(group, cos)
    messages = [a.message for a in group]
    place, key = issue_place(group, keys)
    title = issue_title(group, cos, place)
    supports = sum(m.supports for m in messages)
    cohesion = 0.0
    if cos is not None:
        size = len(group)
        cohesion = round(float((cos.sum() - np.trace(cos)) / (size * (size - 1))), 4)
    return HotIssue(title=title, place=place, place_key=key, first_at=messages[0].created_at,
                    last_at=messages[-1].created_at, ids=tuple(m.id for m in messages),
                    heat=heat(messages, reports=reports, now=now, window_days=window_days),
                    reports=reports, supports=supports, members=tuple(messages), cohesion=cohesion)


def rank_key(issue: HotIssue):
    """Hottest first; at equal heat the bigger issue (more messages: re-posts weigh little in heat
    but still show a problem raised again), then the later, then the more cohesive (its members'
    words most alike), then by ids (issue 8, B h). Ordering by cohesion before recency and a
    bonus for a wave spread over weeks were tried and not kept (docs/hotspots.md, Heat)."""
    return (-issue.heat, -len(issue.ids), -issue.last_at.timestamp(), -issue.cohesion, issue.ids)


def distinct_reports(group: Sequence[Analysed], cos=None) -> int:
    """Reporters: distinct senders where every member names one, else members with re-posts merged."""
    messages = [a.message for a in group]
    if all(m.reporter for m in messages):
        return len({m.reporter for m in messages})
    if cos is None:
        matrix = _vectors(group)
        cos = (matrix @ matrix.T).toarray()
    parent = list(range(len(messages)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x in range(len(messages)):
        for y in range(x + 1, len(messages)):
            if cos[x, y] >= REPOST:
                parent[root(x)] = root(y)
    return len({root(x) for x in range(len(messages))})


def heat(messages: Sequence[Message], *, reports: int, now: dt.datetime, window_days: float = WINDOW_DAYS) -> float:
    """heat = reports + 0.25 (members - reports) + 0.5 ln(1 + supports) + recency + 0.5 growth.

    recency = exp(-days from the last member to `now` / window), in (0, 1];
    growth  = log2((1 + members in the last window) / (1 + members in the window before)), in [0, 2].
    Distinct reporters dominate: a problem many people raise outranks one person posting it
    often, and a hundred supports weigh about as much as two more reporters.
    """
    last = max(m.created_at for m in messages)
    age = max(0.0, (now - last).total_seconds() / 86400)
    recency = math.exp(-age / window_days)
    window = dt.timedelta(days=window_days)
    recent = sum(1 for m in messages if now - window < m.created_at <= now)
    before = sum(1 for m in messages if now - 2 * window < m.created_at <= now - window)
    growth = min(2.0, max(0.0, math.log2((1 + recent) / (1 + before))))
    supports = sum(max(0, m.supports) for m in messages)
    value = reports + 0.25 * (len(messages) - reports) + 0.5 * math.log1p(supports) + recency + 0.5 * growth
    return round(value, 3)


def issue_place(group: Sequence[Analysed], keys: dict[str, str]) -> tuple[str, str]:
    """The place most members name (its fullest written form), else their common district or city."""
    votes: Counter = Counter()
    forms: dict[str, Counter] = {}
    for a in group:
        for p in a.places:
            key = keys.get(p.key, p.key)
            votes[key] += 1
            forms.setdefault(key, Counter())[(p.city, p.district, p.name)] += 1
    if votes:
        key, count = votes.most_common(1)[0]
        if count >= 2 or len(votes) == 1:
            city, district, name = max(forms[key].items(), key=lambda item: (
                item[1] + 0.5 * bool(item[0][1]) + 0.25 * bool(item[0][0]), len(item[0][2])))[0]
            # The name as its own key writes it ("松柏路", not a fragment glued to it, "修松柏路"),
            # with the district and city the fullest form gives.
            clean = [(count, form[2]) for form, count in forms[key].items() if normalize_key(form[2]) == key]
            if clean:
                name = max(clean, key=lambda item: (item[0], len(item[1])))[1]
            city = city or next((p.city for a in group for p in a.all_places if p.city), "")
            return f"{city}{district}{name}", key
    admin: Counter = Counter()
    for a in group:
        codes = re.findall(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[市区县]", a.message.title + a.message.text[:PLACE_CHARS])
        district = next((c for c in codes if c[-1] in "区县"), "")
        if district:
            admin[f"{city_of(district)}{district}"] += 1
        elif codes:
            admin[codes[0]] += 1
    return (admin.most_common(1)[0][0], "") if admin else ("", "")


def issue_title(group: Sequence[Analysed], cos, place: str) -> str:
    """The place and a short problem phrase: the medoid member's title without its place words."""
    if cos is None or len(group) < 2:
        medoid = group[0]
    else:
        medoid = group[int(np.argmax(cos.sum(axis=1)))]
    phrase = medoid.message.title or medoid.message.text[:40]
    for p in sorted(medoid.all_places, key=lambda p: -len(p.display)):
        for form in (p.display, f"{p.district}{p.name}", p.name):
            if form and form in phrase:
                phrase = phrase.replace(form, "", 1)
                break
    phrase = re.sub(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[市区县]", "", phrase)
    bare = re.sub(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[市区县]", "", place)   # the issue's place as shown, once
    if len(bare) >= 2 and phrase.startswith(bare):
        phrase = phrase[len(bare):]
    phrase = _problem_phrase(phrase)
    phrase = _TITLE_FILLER.sub("", phrase).strip(" ，,。.！!？?：:；;、的")
    phrase = _shorten(phrase)
    return f"{place}{phrase}" if place else phrase


def title_and_place(messages: Sequence[Message], registry: Registry | None = None) -> tuple[str, str]:
    """The title and place a group of messages would get, built from these messages only:
    what a viewer who may see just some of an issue's members is shown."""
    messages = list(messages)
    if not messages:
        return "", ""
    analysed = [analyse(m, registry) for m in messages]
    vectors = _vectors(analysed)
    cos = (vectors @ vectors.T).toarray() if len(analysed) >= 2 else None
    place, _key = issue_place(analysed, canonical_keys(analysed))
    return issue_title(analysed, cos, place), place


def title_of(messages: Sequence[Message]) -> str:
    return title_and_place(messages)[0]


# Openings that say who called or how, or ask for help, not what the problem is: a title
# states the problem ("楼道灯坏了"), not "张大姐来电称" or "麻烦社区帮忙看一下".
_CHANNEL_OPENING = re.compile(r"^(?:【[^】]{1,10}】|(?:网格|日常)?巡查(?:时|中)?(?:发现)?[：:，,]?"
                              r"|(?:想|我想)?(?:反映|说|问)?(?:一|一下)?个(?:问题|事|情况)[：:，,。]?)")
_WHO_CALLED = re.compile(r"^[^，,。；;！!？?]{0,8}?(?:来电|来访|致电|打电话|电话)(?:称|反映|说|表示|投诉|咨询|求助)?[，,:：]?")
_COURTESY = re.compile(r"^(?:[^，,。！!？?]{0,3}(?:你好|您好|麻烦|劳驾|拜托|打扰|请问|谢谢|我是|我们是|本人是|我家是|我住)"
                       r"[^，,。！!？?]*[，,。！!？?]\s*)+")


def _problem_phrase(phrase: str) -> str:
    """The phrase without an opening about the caller or a courtesy clause (when the rest says something)."""
    for pattern in (_CHANNEL_OPENING, _WHO_CALLED, _COURTESY, _WHO_CALLED):
        rest = pattern.sub("", phrase, count=1)
        if len(rest.strip(" ，,。.！!？?：:；;、")) >= 4:
            phrase = rest
    return phrase


TITLE_LIMIT = 24
_CLAUSE_END = re.compile(r"(?<=[，,。！!？?；;])")
_ASIDE = re.compile(r"[（(][^（）()]*[）)]")


def _shorten(phrase: str, limit: int = TITLE_LIMIT) -> str:
    """At most ``limit`` characters, cut after a whole clause (a message's body has no title
    of its own): asides in brackets go first; a clause too long for the limit is cut and
    marked with an ellipsis."""
    phrase = _ASIDE.sub("", phrase).strip() or phrase
    if len(phrase) <= limit:
        return phrase
    kept = ""
    for clause in _CLAUSE_END.split(phrase):
        if len(kept) + len(clause) > limit:
            break
        kept += clause
    kept = kept.strip(" ，,。.！!？?：:；;、")
    return kept if len(kept) >= 6 else phrase[:limit - 1] + "…"


# --- intake and staff -----------------------------------------------------------------------

def attach(message: Message, issues: Sequence[HotIssue], *, window_days: float = WINDOW_DAYS,
           now: dt.datetime | None = None, registry: Registry | None = None) -> Attachment | None:
    """The open hot issue a new message belongs to, with the message added; None if none fits.

    It belongs where its average affinity to the issue's members reaches GROUP, the same rule
    that keeps a group together in `find_hot_issues`; the best such issue wins.
    """
    members = [m for issue in issues for m in issue.members]
    if not members:
        return None
    analysed = [analyse(m, registry) for m in members] + [analyse(message, registry)]
    matrix = _vectors(analysed)
    titles = _vectors(analysed, titles=True)
    keys = canonical_keys(analysed)
    new = analysed[-1]
    cos = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    tcos = (titles[:-1] @ titles[-1].T).toarray().ravel()
    best: tuple[float, int] | None = None
    offset = 0
    for index, issue in enumerate(issues):
        scores = [affinity(float(cos[offset + k]), place_relation(analysed[offset + k], new, keys, float(tcos[offset + k])),
                           _gap_days(m, message), window_days, float(tcos[offset + k]))
                  for k, m in enumerate(issue.members)]
        offset += len(issue.members)
        if scores and _near_in_time(issue, message, window_days):
            mean = sum(scores) / len(scores)
            if mean >= GROUP and (best is None or mean > best[0]):
                best = (mean, index)
    if best is None:
        return None
    issue = issues[best[1]]
    group = [a for a in analysed[:-1] if a.message in issue.members] + [new]
    rebuilt = _issue(group, _vectors(group), keys, now=now or max(message.created_at, issue.last_at),
                     window_days=window_days)
    return Attachment(index=best[1], issue=rebuilt or issue, affinity=round(best[0], 3))


def _near_in_time(issue: HotIssue, message: Message, window_days: float) -> bool:
    window = dt.timedelta(days=window_days)
    return issue.first_at - window <= message.created_at <= issue.last_at + window


def similar(message: Message, candidates: Sequence[Message], k: int = 5, *,
            window_days: float | None = None, registry: Registry | None = None) -> list[tuple[Message, float]]:
    """Up to k candidates staff may merge with `message`, most alike first, with their affinity.

    No time window unless one is given: an old open case about the same thing is worth showing.
    """
    others = [c for c in candidates if c.id != message.id]
    if not others or k <= 0:
        return []
    analysed = [analyse(c, registry) for c in others] + [analyse(message, registry)]
    matrix = _vectors(analysed)
    titles = _vectors(analysed, titles=True)
    keys = canonical_keys(analysed)
    cos = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    tcos = (titles[:-1] @ titles[-1].T).toarray().ravel()
    window = math.inf if window_days is None else window_days
    scored = []
    for index, candidate in enumerate(others):
        score = affinity(float(cos[index]), place_relation(analysed[index], analysed[-1], keys, float(tcos[index])),
                         _gap_days(candidate, message), window, float(tcos[index]))
        if score >= SUGGEST:
            scored.append((candidate, round(score, 3)))
    scored.sort(key=lambda pair: (-pair[1], pair[0].id))
    return scored[:k]

