"""The reply assistant: how well a draft reply answers a resident's message, and what it lacks.

`assess(title, text, draft, received_at=..., now=..., response_due=...)` scores a draft from 0 to 1
on three things a resident notices, and lists short hints a worker can act on:

* relevance: does the draft talk about the resident's problem at all? Cosine similarity of
  TF-IDF vectors of message and draft, over jieba words (two or more characters) and the
  character bigrams of each run of Chinese characters (bigrams catch what the segmenter cuts
  differently in the two texts). The IDF table is jieba's own (jieba/analyse/idf.txt, fitted
  on general Chinese text); features it lacks, bigrams that are not words among them, get its
  median weight. Raw cosines of real, on-topic replies are small (the reply
  adds its own stock phrases), so the score is the cosine over RELEVANCE_FULL, capped at 1 — or,
  when higher, the draft's *concreteness* over CONCRETE_FULL: the IDF-weighted share of its
  content words that are the message's own subject words or words of what was done. A short,
  specific reply to a long message ("路灯已更换，照明已恢复") is on topic by the second measure,
  which the message's length does not dilute; a stock reply names no subject word and scores 0.
* completeness: the points the resident raised (the title, numbered items, questions, demands)
  are each looked for in the draft by their key terms, and the draft must say what is done
  (an action verb with an object) and when (a date, "3个工作日内", "本周", "月底前"; a completed
  action "已更换…" needs no date). Weights: points 0.6, action 0.2, time 0.2.
* timeliness: the reply against its due time (response_due, else received_at + DEFAULT_LIMIT):
  1 on time, then falling linearly to 0 at one more limit late. A promise of "尽快" with no date
  is vague and costs a quarter of it.

The scores are heuristics of words, not of meaning: a draft can name every key term and still
say no. docs/reply_assistant.md has the check against real official replies and known limits.
Everything runs offline; jieba is loaded once per process.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

# Found without importing jieba.analyse, which would load the table once more at import.
IDF_FILE = Path(importlib.util.find_spec("jieba").origin).resolve().parent / "analyse" / "idf.txt"
SHANGHAI = ZoneInfo("Asia/Shanghai")

DEFAULT_LIMIT = dt.timedelta(days=15)  # a reply is due 15 days after the message unless told otherwise
RELEVANCE_FULL = 0.30        # a cosine this high (typical of a reply on the subject) scores 1
CONCRETE_FULL = 0.6          # a draft whose content words are this much the message's own (or what was done) scores 1
CONTENT_IDF = 5.0            # words more common than this (jieba's IDF) are not content words
RELEVANCE_LOW = 0.25         # below this relevance score the draft gets the "off topic" hint
POINT_FULL = 0.4             # share of a point's key terms (IDF-weighted) that counts as answered
MAX_POINTS = 8               # a long letter: its first eight points are checked
KEY_TERMS = 5                # key terms per point, the rarest first
WEIGHTS = {"relevance": 0.3, "completeness": 0.5, "timeliness": 0.2}
FLAG_BELOW = 0.5             # a draft whose completeness or overall score is below this is flagged
POINT_WORDS = 24             # characters of a point quoted in a hint

CJK = re.compile(r"[\u4e00-\u9fff]+")
CHINESE_ONLY = re.compile(r"^[\u4e00-\u9fff]+$")
SPACE = re.compile(r"\s+")

# --- the resident's points ------------------------------------------------------------------------

_NUMBERED = re.compile(r"(?:^|(?<=[\s。！？!?；;：:，,]))(?:[一二三四五六七八九十]{1,2}[、.．]|[（(][一二三四五六七八九十\d]{1,2}[）)]"
                       r"|[①-⑳]|\d{1,2}[、．](?!\d)|\d{1,2}\.(?!\d)|第[一二三四五六七八九十]{1,2}[，,、是])")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
_QUESTION = re.compile(r"[？?]|[吗呢][\s。！!]*$|如何|能否|是否|可否|怎么|怎样|为什么|为何|何时|什么时候|多久|"
                       r"哪里|能不能|是不是|有没有|可不可以|会不会")
_DEMAND = re.compile(r"希望|要求|建议|(?<![申邀])请|恳请|恳求|呼吁|盼望|期盼|期望|务必")

# Words that carry no subject: salutations, the board's stock phrases, and the words of asking itself.
STOP_WORDS = frozenset("""
尊敬 领导 书记 市长 县长 区长 局长 主任 您好 你好 谢谢 感谢 万分 非常 十分 真诚 诚恳 百忙之中 百忙 恳请 恳求
希望 要求 建议 请求 呼吁 盼望 期盼 期望 务必 能够 可以 能否 是否 可否 如何 怎么 怎样 为什么 为何 何时
什么 时候 多久 哪里 能不能 是不是 有没有 一下 我们 你们 他们 自己 大家 这个 那个 这些 那些 这样 那样
相关 有关 部门 政府 单位 问题 情况 事情 反映 反应 关注 重视 解决 处理 尽快 及时 给予 帮助 支持 理解 回复
答复 留言 来信 收悉 网友 市民 群众 百姓 老百姓 居民 业主 现在 目前 已经 一直 还是 但是 因为 所以 如果
没有 不能 不是 就是 还有 而且 并且 以及 或者 然后 同时 其中 一些 一个 很多 多次 现将 如下 特此 此致 敬礼
投诉 举报 因此 不得不 一样 应该 不要 可能 严重 真是 知道 听说 发生 出现 存在 导致 造成 根本 实在 确实 不可以
经常 总是 老是 每天 特别 很大 不了 不到 不好 不会
""".split())

# --- actions and times in the draft ---------------------------------------------------------------

_ACTION_VERBS = ("安排|责成|维修|修复|修缮|抢修|清理|清运|清除|清扫|整改|整治|核实|核查|调查|约谈|处罚|罚款|查处|"
                 "协调|督促|拆除|更换|安装|加装|增设|设置|疏通|修建|新建|建设|铺设|硬化|取缔|关停|立案|回访|"
                 "上门|派员|派人|组织|开展|落实|办理|补发|发放|退还|退费|赔偿|调整|优化|启动|恢复|检测|检查|"
                 "巡查|执法|处置|封堵|补种|补办|移交|转交|转办|改造|治理|打击|制止|下达|通知|督办|跟踪|"
                 "设立|实施|出台|制定|建立|推出|开通|增加|查勘|公示|投入|施工")
_ACTION = re.compile(r"(?P<done>已经?|现已|均已|目前已|已于[^，。；]{0,14})?(?:将|正在|立即|马上|会|拟|计划)?"
                     r"(?:对[^，。；]{1,20})?(?P<verb>" + _ACTION_VERBS + r")(?P<object>[\u4e00-\u9fffA-Za-z0-9]{1,})")
# "路灯已更换", "照明已恢复": the thing first, then what was done to it (a short, concrete reply).
_DONE_AFTER_OBJECT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,12}?(?:已经?|均已|现已|都已)(?:全部|完成|重新)?(?:"
                                + _ACTION_VERBS + r")")
_ACTION_WORD = re.compile(_ACTION_VERBS)
# Words of the office, not of a resident's problem: naming them is no sign of answering it.
_NO_SUBJECT = frozenset("社区 小区 物业 街道 工作 意见 建议 人员 工作人员 设备 设施 情况 事项 群众 同志 认真 研究".split())
_RESULT_WORDS = frozenset("照明 正常 畅通 通行 亮灯 通水 通电 供水 供电 到位 完好 干净 整洁 运行 使用 修好 换新".split())
_NEGATED = re.compile(r"(?:不|未|没|无法|暂不|尚未|不再|不予|不能|难以)[\u4e00-\u9fff]{0,2}$")
_FINISHED = re.compile(r"^(?:完毕|完成|到位|结束)|[\u4e00-\u9fff]{0,12}(?:完毕|完成|到位)")

_NUM = r"[\d一二三四五六七八九十两半]+"
_TIME = re.compile(
    r"\d{4}年\d{1,2}月(?:\d{1,2}[日号])?(?:前|之前|底|初|中旬|上旬|下旬)?"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|(?<!\d)\d{1,2}月(?:\d{1,2}[日号])?(?:前|之前|底|初|中旬|上旬|下旬|以前)?"
    r"|(?<![\d月])\d{1,2}[日号](?:前|之前|以前)"
    r"|" + _NUM + r"个?(?:工作日|日|天|周|星期|个月|小时)(?:内|之内|以内|前|后)"
    r"|(?:本|这|下个?)(?:周|星期|月)[一二三四五六日天末]?(?:内|前|底)?"
    r"|月底|年底|月内|年内|今年内|春节前|节前|今天|明天|后天|今日|明日|当天|当日"
    r"|(?:上午|下午|晚上|早上)\s*\d{1,2}\s*[点时:：]")
_SIGNATURE_DATE = re.compile(r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[\s。.]*$")
_QUOTED_TIME = re.compile(r"^[^。；，]{0,10}(?:反映|留言|来信|来电|提出|咨询|投诉|发帖|所提)")
_VAGUE = re.compile(r"尽快|尽早|及时|近期|适时|择机|下一步|逐步|抓紧|早日|尽力")


class Token(NamedTuple):
    word: str
    start: int
    end: int


@dataclass(frozen=True)
class Point:
    """One thing the resident raised, its key terms, and how much of it the draft covers (0..1)."""

    text: str
    terms: tuple[str, ...]
    coverage: float

    @property
    def answered(self) -> bool:
        return self.coverage >= POINT_FULL


@dataclass
class Assessment:
    relevance: float
    completeness: float
    timeliness: float | None
    overall: float
    points: list[Point]
    has_action: bool
    has_time: bool
    vague: str            # the vague phrase ("尽快") where the draft gives no date, else ""
    due: dt.datetime | None
    missing: list[str] = field(default_factory=list)   # translated hints, most important first
    codes: list[str] = field(default_factory=list)     # point, relevance, action, time, vague, late

    @property
    def flagged(self) -> bool:
        return self.completeness < FLAG_BELOW or self.overall < FLAG_BELOW

    def scores(self) -> dict:
        return {"relevance": self.relevance, "completeness": self.completeness,
                "timeliness": self.timeliness, "overall": self.overall}

    def as_dict(self) -> dict:
        return {"scores": self.scores(), "missing": list(self.missing), "flagged": self.flagged,
                "points": [{"text": p.text, "answered": p.answered} for p in self.points],
                "action": self.has_action, "time": self.has_time,
                "due": self.due.isoformat() if self.due else None}


# --- words ----------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[Token]:
    """jieba's words of `text` with their character offsets (spaces dropped)."""
    return [Token(w, s, e) for w, s, e in _jieba().tokenize(text) if w.strip()]


def features(text: str, words: list[Token]) -> list[str]:
    """The features of a text: its words of two or more characters and its Chinese bigrams."""
    out = [t.word for t in words if len(t.word) >= 2]
    for run in CJK.findall(text):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's own IDF table (jieba/analyse/idf.txt, 270,000 words, MIT-licensed, fitted
    by jieba's authors on general Chinese text) and the weight of a feature it lacks:
    its median, as jieba.analyse does. Nothing derived from the complaint data ships."""
    idf: dict[str, float] = {}
    with open(IDF_FILE, encoding="utf-8") as lines:
        for line in lines:
            word, _, value = line.strip().partition(" ")
            if word and value:
                idf[word] = float(value)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]


def _vector(feats: list[str]) -> dict[str, float]:
    idf, unseen = idf_table()
    return {f: (1 + math.log(n)) * idf.get(f, unseen) for f, n in Counter(feats).items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


# --- points ---------------------------------------------------------------------------------------

def _clauses(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`, a numbered item starting a new one."""
    cuts = {0, len(text)}
    cuts.update(m.end() for m in _SENTENCE_END.finditer(text))
    cuts.update(m.start() for m in _NUMBERED.finditer(text))
    edges = sorted(cuts)
    return [(a, b) for a, b in zip(edges, edges[1:]) if text[a:b].strip()]


def _key_terms(words: list[Token], start: int, end: int, limit: int = KEY_TERMS) -> tuple[str, ...]:
    idf, unseen = idf_table()
    seen: dict[str, float] = {}
    for t in words:
        if t.start >= start and t.end <= end and len(t.word) >= 2 and CHINESE_ONLY.match(t.word) \
                and t.word not in STOP_WORDS:
            seen[t.word] = idf.get(t.word, unseen)
    return tuple(sorted(seen, key=lambda w: -seen[w])[:limit])


def _raised(text: str) -> bool:
    return bool(_QUESTION.search(text) or _DEMAND.search(text) or _NUMBERED.match(text))


def points_of(title: str, text: str, words: list[Token]) -> list[tuple[str, tuple[str, ...]]]:
    """The points of a message: (quote, key terms) of the title, then of each numbered item,
    question or demand of the text; the whole text where it has none and there is no title.
    `words` are the tokens of `title + "\\n" + text`."""
    found: list[tuple[str, tuple[str, ...]]] = []
    seen_terms: set[tuple[str, ...]] = set()

    def add(quote: str, start: int, end: int, limit: int = KEY_TERMS) -> None:
        terms = _key_terms(words, start, end, limit)
        if terms and terms not in seen_terms and len(found) < MAX_POINTS:
            seen_terms.add(terms)
            found.append((quote, terms))

    if title.strip():
        add(title.strip(), 0, len(title))
    offset = len(title) + 1
    for a, b in _clauses(text):
        clause = text[a:b].strip()
        if len(clause) >= 4 and _raised(clause):
            add(clause, offset + a, offset + b)
    if not found and text.strip():
        add(text.strip(), offset, offset + len(text), limit=KEY_TERMS + 3)
    return found


def coverage(terms: tuple[str, ...], draft: str, draft_bigrams: set[str]) -> float:
    """The IDF-weighted share of the terms found in the draft; a longer term whose pieces are
    there (公交线路 → 公交, 线路) counts half."""
    idf, unseen = idf_table()
    total = found = 0.0
    for term in terms:
        weight = idf.get(term, unseen)
        total += weight
        if term in draft:
            found += weight
        elif len(term) >= 3 and any(term[i:i + 2] in draft_bigrams for i in range(len(term) - 1)):
            found += weight / 2
    return found / total if total else 0.0


# --- actions and times --------------------------------------------------------------------------

def concreteness(message: str, draft_words: list[Token]) -> float:
    """How much of a draft is about this message: the IDF-weighted share of its content words
    that are either the message's own subject words or words of what was done (更换, 恢复 …).

    The cosine of a long message and a short reply is small however specific the reply ("路灯已
    更换，照明已恢复" to a page about a dark path): the message's many other words weigh on it.
    This share does not depend on the message's length. It is 0 unless the draft names at least
    one subject word of the message (stock phrases such as 收悉, 尽快, 处理 are no subject), so a
    reply that only says "received" or "passed on" stays off topic."""
    idf, unseen = idf_table()
    weight = named = 0.0
    total = 0.0
    for token in draft_words:
        word = token.word
        if len(word) < 2 or not CHINESE_ONLY.match(word) or word in STOP_WORDS or word in _NO_SUBJECT:
            continue
        w = idf.get(word, unseen)
        if w < CONTENT_IDF:
            continue          # a function word or a very common one
        total += w
        if word in message:
            weight += w
            named += w
        elif _ACTION_WORD.fullmatch(word) or word in _RESULT_WORDS:
            weight += w
    return weight / total if total and named else 0.0


def actions_in(draft: str) -> tuple[bool, bool]:
    """(an action is stated, an action is stated as done)."""
    stated = done = False
    for m in _ACTION.finditer(draft):
        if _NEGATED.search(draft[max(0, m.start() - 6):m.start("verb")]):
            continue
        stated = True
        if m.group("done") or _FINISHED.match(draft[m.end("verb"):m.end("verb") + 14]):
            done = True
    if _DONE_AFTER_OBJECT.search(draft):
        stated = done = True
    return stated, done


def times_in(draft: str) -> list[str]:
    """Concrete times of the draft: not the date it is signed with, nor the date of the message it quotes."""
    body = _SIGNATURE_DATE.sub("", draft.rstrip())
    return [m.group(0) for m in _TIME.finditer(body) if not _QUOTED_TIME.match(body[m.end():m.end() + 14])]


# --- the assessment -------------------------------------------------------------------------------

def assess(message_title: str, message_text: str, draft: str, *, received_at: dt.datetime | None = None,
           now: dt.datetime | None = None, response_due: dt.datetime | None = None) -> Assessment:
    """Score `draft` as the reply to the message (title may be empty); see the module docstring."""
    title = SPACE.sub(" ", message_title or "").strip()
    text = (message_text or "").strip()
    reply = SPACE.sub(" ", draft or "").strip()
    message = f"{title}\n{text}"
    message_words = tokens(message)
    draft_words = tokens(reply) if reply else []
    draft_bigrams = {run[i:i + 2] for run in CJK.findall(reply) for i in range(len(run) - 1)}

    relevance = min(1.0, max(cosine(_vector(features(message, message_words)),
                                    _vector(features(reply, draft_words))) / RELEVANCE_FULL,
                             concreteness(message, draft_words) / CONCRETE_FULL))
    points = [Point(quote, terms, coverage(terms, reply, draft_bigrams))
              for quote, terms in points_of(title, text, message_words)]
    has_action, done = actions_in(reply)
    times = times_in(reply)
    has_time = bool(times) or done
    vague_match = None if times else _VAGUE.search(reply)
    vague = vague_match.group(0) if vague_match else ""

    point_score = (sum(min(1.0, p.coverage / POINT_FULL) for p in points) / len(points)) if points else \
        (1.0 if reply else 0.0)
    completeness = 0.6 * point_score + 0.2 * has_action + 0.2 * has_time if reply else 0.0

    due, timeliness = _timeliness(received_at, now, response_due)
    if timeliness is not None and vague:
        timeliness *= 0.75
    available = {"relevance": relevance, "completeness": completeness, "timeliness": timeliness}
    weights = {k: w for k, w in WEIGHTS.items() if available[k] is not None}
    overall = sum(available[k] * w for k, w in weights.items()) / sum(weights.values())

    result = Assessment(relevance=round(relevance, 3), completeness=round(completeness, 3),
                        timeliness=None if timeliness is None else round(timeliness, 3),
                        overall=round(overall, 3), points=points, has_action=has_action, has_time=has_time,
                        vague=vague, due=due)
    _hint_all(result, reply, now if now is not None else dt.datetime.now(tz=SHANGHAI))
    return result


def _timeliness(received_at, now, response_due) -> tuple[dt.datetime | None, float | None]:
    """(the due time, the score): 1 until due, then linearly to 0 at one more limit late."""
    if received_at is None and response_due is None:
        return None, None
    now = now if now is not None else dt.datetime.now(tz=SHANGHAI)
    due = response_due if response_due is not None else received_at + DEFAULT_LIMIT
    limit = (due - received_at) if received_at is not None and due > received_at else DEFAULT_LIMIT
    late = (now - due) / limit
    return due, 1.0 if late <= 0 else max(0.0, 1.0 - late)


def _hint(result: Assessment, code: str, text: str) -> None:
    result.codes.append(code)
    result.missing.append(text)


def _hint_all(result: Assessment, reply: str, now: dt.datetime) -> None:
    if not reply:
        _hint(result, "empty", _("The draft is empty: write what was done and by when."))
        return
    if result.relevance < RELEVANCE_LOW:
        _hint(result, "relevance", _("The draft says little about the resident's message: answer the "
                                     "problem they raised, in their words."))
    for point in result.points:
        if not point.answered:
            _hint(result, "point", _("The resident raised “%(point)s”; the draft does not answer it.")
                  % {"point": _quote(point.text)})
    if not result.has_action:
        _hint(result, "action", _("Say what will be done and by whom (for example: repaired, cleared, "
                                  "inspected, the company told to fix it)."))
    if result.vague:
        _hint(result, "vague", _("“%(phrase)s” is vague: give a date or a number of working days.")
              % {"phrase": result.vague})
    elif not result.has_time:
        _hint(result, "time", _("Say by when: give a date or a number of working days."))
    if result.due is not None and now > result.due:
        _hint(result, "late", _("The reply is late: it was due on %(due)s.")
              % {"due": result.due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")})


def _quote(text: str) -> str:
    text = SPACE.sub(" ", text).strip().rstrip("。！？!?；;，, ")
    return text if len(text) <= POINT_WORDS else text[:POINT_WORDS] + "…"
