"""Grouping messages into hot issues: many residents raising the same problem about the same place,
close in time. (The hot issues a community keeps, built on these, are linli.insight.hotissues.)

Pure functions over `Message` values, so `linli hotspots`, the intake and the staff pages share them:

* `find_hot_issues(messages)` groups a batch and ranks the groups by heat;
* `attach(message, issues)` finds the open hot issue a new message belongs to (intake);
* `similar(message, candidates, k)` lists the messages staff may want to merge with one.

How two messages are compared (one scale, documented in docs/hotspots.md):

    affinity = cosine(meaning vectors) + PLACE_BONUS   if they name the same place
             = cosine - PLACE_CONFLICT                  if both name places, none in common
             = cosine                                   otherwise (one or both name no place)
    and 0 when they are more than `window_days` apart.

The meaning vector is TF-IDF over jieba words with the place names taken out, so "魅力之城" in
two messages does not make an oil-fume complaint look like a noise complaint about the same
estate. Two messages are linked when affinity >= LINK; each linked group is then cut by average
linkage at GROUP, so one loose link cannot chain two problems into one issue.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from linli.insight.places import (ESTATE, Place, Registry, city_of, extract_places, normalize_key, primary_places,
                                  tokenize)

PLACE_BONUS = 0.3      # same place: a cosine of 0.2 is enough to link (LINK - PLACE_BONUS)
SUBJECT_BONUS = 0.3      # same rare name in the titles (a company, a platform, a project), no place conflict
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
    head_text = re.sub(r"(?<=[A-Z]\d)\s+(?=[市区县])|(?<=[A-Z]\d\d)\s+(?=[市区县])", "", message.title + message.text[:PLACE_CHARS])
    cities = frozenset(re.findall(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}市", head_text)) | frozenset(
        city_of(d) for d in re.findall(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}[区县]", head_text))
    return Analysed(message=message, words=words, places=tuple(primary_places(places)), all_places=tuple(places),
                    title_words=title_words, cities=frozenset(c for c in cities if c))


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


# --- comparing messages ----------------------------------------------------------------------

def _vectors(analysed: Sequence[Analysed]):
    """TF-IDF rows (sublinear tf, smooth idf, l2 norm: scikit-learn's TfidfVectorizer defaults).

    Written out with scipy.sparse because the whole computation is ten lines, and importing
    scikit-learn alone costs a command-line run seconds.
    """
    from scipy.sparse import csr_matrix

    vocabulary: dict[str, int] = {}
    indptr, indices, counts = [0], [], []
    for a in analysed:
        row = Counter(vocabulary.setdefault(w, len(vocabulary)) for w in a.words)
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
    # One name, two cities: "滨江花园" in B市 is not "滨江花园" in A市.
    return not (a.city and b.city and a.city != b.city) and not (a.district and b.district and a.district != b.district)


def same_subject(a: Analysed, b: Analysed) -> bool:
    """They share a rare title term and name no different cities."""
    if not (a.subjects and b.subjects and a.subjects & b.subjects):
        return False
    return not (a.cities and b.cities and not a.cities & b.cities)


def _place_conflict(a: Analysed, b: Analysed, keys: dict[str, str]) -> bool:
    return bool(a.places and b.places) and not any(_same_place(pa, pb, keys) for pa in a.places for pb in b.places)


def place_relation(a: Analysed, b: Analysed, keys: dict[str, str] | None = None) -> int:
    """SUBJECT (2) same subject, +1 same place, -1 both name places but no common one, 0 otherwise."""
    keys = keys or {}
    if same_subject(a, b) and not _place_conflict(a, b, keys):
        return SUBJECT
    if not a.places or not b.places:
        return 0
    if any(_same_place(pa, pb, keys) for pa in a.places for pb in b.places):
        return 1
    if all(p.registered for p in (*a.places, *b.places)):
        return REGISTERED_CONFLICT   # two courtyards of the registry: never one issue, however alike the words
    return -1


def affinity(cosine: float, relation: int, gap_days: float, window_days: float) -> float:
    """The single score that decides links, groups, attachment and suggestions (see the module doc)."""
    if gap_days > window_days:
        return 0.0
    if relation == SUBJECT:
        return cosine + SUBJECT_BONUS
    if relation == REGISTERED_CONFLICT:
        return 0.0
    if relation > 0:
        return cosine + PLACE_BONUS
    if relation < 0:
        return cosine - PLACE_CONFLICT
    return cosine


def _gap_days(a: Message, b: Message) -> float:
    return abs((a.created_at - b.created_at).total_seconds()) / 86400


def _links(analysed: Sequence[Analysed], matrix, keys: dict[str, str], window_days: float):
    """Pairs (i, j, affinity) with affinity >= LINK, from a blockwise sparse product."""
    n = len(analysed)
    rows, cols, vals = [], [], []
    low = LINK - max(PLACE_BONUS, SUBJECT_BONUS)
    for start in range(0, n, 1000):
        block = (matrix[start:start + 1000] @ matrix.T).tocoo()
        keep = (block.data >= low) & (block.row + start < block.col)
        for i, j, cos in zip(block.row[keep] + start, block.col[keep], block.data[keep]):
            score = affinity(float(cos), place_relation(analysed[i], analysed[j], keys),
                             _gap_days(analysed[i].message, analysed[j].message), window_days)
            if score >= LINK:
                rows.append(i)
                cols.append(j)
                vals.append(score)
    return np.array(rows, dtype=int), np.array(cols, dtype=int), np.array(vals)


def _average_linkage(members: list[int], analysed, matrix, keys, window_days) -> list[list[int]]:
    """Split one linked group where its average affinity falls below GROUP."""
    if len(members) <= 2:
        return [members]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    cos = (matrix[members] @ matrix[members].T).toarray()
    size = len(members)
    distance = np.ones((size, size))
    for x in range(size):
        distance[x, x] = 0.0
        for y in range(x + 1, size):
            a, b = analysed[members[x]], analysed[members[y]]
            score = affinity(float(cos[x, y]), place_relation(a, b, keys), _gap_days(a.message, b.message),
                             window_days)
            distance[x, y] = distance[y, x] = max(0.0, 1.0 - min(score, 1.0))
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), t=1.0 - GROUP,
                      criterion="distance")
    groups: dict[int, list[int]] = {}
    for member, label in zip(members, labels):
        groups.setdefault(int(label), []).append(member)
    return list(groups.values())


# --- the batch -----------------------------------------------------------------------------

def find_hot_issues(messages: Iterable[Message], *, window_days: float = WINDOW_DAYS, top: int | None = None,
                    now: dt.datetime | None = None, registry: Registry | None = None) -> list[HotIssue]:
    """The hot issues of a batch, hottest first. `now` (default: the newest message) anchors recency."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    messages = list(messages)
    if not messages:
        return []
    analysed = mark_subjects([analyse(m, registry) for m in messages])
    matrix = _vectors(analysed)
    keys = canonical_keys(analysed)
    rows, cols, vals = _links(analysed, matrix, keys, window_days)
    n = len(analysed)
    graph = coo_matrix((vals, (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    components: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        components.setdefault(int(label), []).append(index)
    now = now or max(m.created_at for m in messages)
    issues = []
    for members in components.values():
        if len(members) < MIN_MEMBERS:
            continue
        for group in _average_linkage(members, analysed, matrix, keys, window_days):
            issue = _issue([analysed[i] for i in group], matrix[group], keys, now=now, window_days=window_days)
            if issue is not None:
                issues.append(issue)
    issues.sort(key=lambda issue: (-issue.heat, -issue.last_at.timestamp(), issue.ids))
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
    return HotIssue(title=title, place=place, place_key=key, first_at=messages[0].created_at,
                    last_at=messages[-1].created_at, ids=tuple(m.id for m in messages),
                    heat=heat(messages, reports=reports, now=now, window_days=window_days),
                    reports=reports, supports=supports, members=tuple(messages))


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
    keys = canonical_keys(analysed)
    new = analysed[-1]
    cos = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    best: tuple[float, int] | None = None
    offset = 0
    for index, issue in enumerate(issues):
        scores = [affinity(float(cos[offset + k]), place_relation(analysed[offset + k], new, keys),
                           _gap_days(m, message), window_days) for k, m in enumerate(issue.members)]
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
    keys = canonical_keys(analysed)
    cos = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    window = math.inf if window_days is None else window_days
    scored = []
    for index, candidate in enumerate(others):
        score = affinity(float(cos[index]), place_relation(analysed[index], analysed[-1], keys),
                         _gap_days(candidate, message), window)
        if score >= SUGGEST:
            scored.append((candidate, round(score, 3)))
    scored.sort(key=lambda pair: (-pair[1], pair[0].id))
    return scored[:k]

