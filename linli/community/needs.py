"""Need tags (需求标签): the default tree, the rules that derive tags, and their recomputation.

The paper builds "五大类11小类" community-governance tags on services, culture,
environment, space and industry. Linli keeps them as each community's
:class:`~linli.community.models.NeedCategory` tree (the default below, editable in
the admin) and puts subcategories on households as
:class:`~linli.community.models.HouseholdNeed` rows, each with a sealed reason.

Tags come from three kinds of source, each a function returning
:class:`Finding` values (household, subcategory code, reason, evidence):

* **registry facts** (:data:`REGISTRY_RULES`): ages, who lives with whom, and
  the residents' fact tags (独居老人, 低保户, 残疾人…);
* **cases** (:data:`CASE_RULES`): what a household asked for in the last year, as
  :class:`CaseFact` values the apps above this one hand in at the hook point
  :data:`NEED_SIGNALS` (linli.cases registers its cases there: this app never
  imports it);
* **service use** (:func:`register_service_source`): other apps (the canteen,
  home care) register a function that says which households used which service.

:func:`needs_recompute` runs them all for one community and brings the tags in
line in bulk: new findings become ``suggested`` tags, changed ones are updated,
suggested tags whose evidence is gone are removed, and tags staff confirmed or
dismissed keep their status. It is idempotent and writes one summary event
(counts only) when something changed.

What staff decide about one tag (add it, confirm it, dismiss it) is a move of
the :data:`NEED` workflow (linli.core.workflow): one table of moves, one
``transition()`` that checks the tag's state and the actor and writes exactly
one event. See docs/needs.md.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple

import rules
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_lazy

from linli.core import events, registry
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.workflow import IllegalTransition, Move, Workflow

from .models import Community, Household, HouseholdNeed, NeedCategory, Resident
from .scope import scope_of

Source = HouseholdNeed.Source
Status = HouseholdNeed.Status

# ---------------------------------------------------------------------------
# The default tree
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedSpec:
    code: str
    name_zh: str
    name_en: str
    children: tuple["NeedSpec", ...] = ()


# Five categories, eleven subcategories. The paper names the five; the eleven are
# ours, chosen as the services a community office actually targets (docs/needs.md).
TREE: tuple[NeedSpec, ...] = (
    NeedSpec("service", "社区服务", "Services", (
        NeedSpec("elderly-care", "养老照护", "Elderly care"),
        NeedSpec("meals", "助餐配餐", "Meal assistance"),
        NeedSpec("childcare", "儿童托育", "Childcare"),
        NeedSpec("hardship", "困难帮扶", "Hardship support"),
        NeedSpec("health", "就医助医", "Help with health care"),
    )),
    NeedSpec("culture", "社区文化", "Culture", (
        NeedSpec("activities", "文体活动", "Culture and sports activities"),
        NeedSpec("learning", "教育学习", "Education and learning"),
    )),
    NeedSpec("environment", "社区环境", "Environment", (
        NeedSpec("sanitation", "环境卫生", "Clean surroundings"),
        NeedSpec("repairs", "设施维修", "Repairs at home and in the building"),
    )),
    NeedSpec("space", "社区空间", "Space", (
        NeedSpec("public-space", "公共空间与出行", "Public space and getting about"),
    )),
    NeedSpec("industry", "社区产业", "Industry", (
        NeedSpec("employment", "就业创业", "Jobs and enterprise"),
    )),
)


def default_codes() -> list[str]:
    """Every code of the default tree, categories before their subcategories."""
    return [code for top in TREE for code in (top.code, *(c.code for c in top.children))]


@transaction.atomic
def needs_install_defaults(*, actor, community: Community) -> list[NeedCategory]:
    """Add the default need categories this community lacks (matched by code).

    Never changes what admins edited; a second run adds nothing and writes no
    event. ``actor`` None is the system (migration, seed, job); an account must
    be an administrator of the community.
    """
    if actor is not None and community.pk not in scope_of(actor).admin_communities:
        raise PermissionDenied(_("Only the community's administrators may change its need categories."))
    existing = {c.code: c for c in NeedCategory.objects.filter(community=community)}
    created: list[NeedCategory] = []
    for position, top in enumerate(TREE, start=1):
        parent = existing.get(top.code)
        if parent is None:
            parent = NeedCategory.objects.create(community=community, code=top.code, name_zh=top.name_zh,
                                                 name_en=top.name_en, position=position * 10)
            created.append(parent)
        for index, spec in enumerate(top.children, start=1):
            if spec.code not in existing:
                created.append(NeedCategory.objects.create(
                    community=community, parent=parent, code=spec.code, name_zh=spec.name_zh,
                    name_en=spec.name_en, position=position * 10 + index))
    if created:
        events.record(actor=actor, verb="needs.categories_installed", target=community, community=community,
                      data={"categories": [c.code for c in created]})
    return created


# ---------------------------------------------------------------------------
# Findings and the facts rules read
# ---------------------------------------------------------------------------


class Finding(NamedTuple):
    """One rule's conclusion: this household needs this subcategory, because…"""

    household_id: int
    code: str            # a subcategory code of the tree
    reason: str          # personal (an age, a case's words): sealed when stored
    evidence: str        # a reference without personal data: "rule:…", "case:<number>"
    source: str = Source.REGISTRY
    expires_at: dt.datetime | None = None


@dataclass
class Facts:
    """What the registry rules read, loaded once per community in a few queries."""

    year: int
    # household id → [(birth year, relation)], every resident of the community
    members: dict[int, list[tuple[int, str]]]
    # household id → [(tag code, tag name)] of its residents' fact tags
    tags: dict[int, list[tuple[str, str]]]


def load_facts(community: Community, today: dt.date) -> Facts:
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for household_id, birth_year, relation in (
        Resident.objects.filter(community=community).order_by().values_list("household_id", "birth_year", "relation")
    ):
        members[household_id].append((birth_year, relation))
    tags: dict[int, list[tuple[str, str]]] = defaultdict(list)
    through = Resident.tags.through
    for household_id, code, name in (
        through.objects.filter(resident__community=community).order_by()
        .values_list("resident__household_id", "tag__code", "tag__name")
    ):
        tags[household_id].append((code, name))
    return Facts(year=today.year, members=members, tags=tags)


def _has_fact(tags: list[tuple[str, str]], codes: set[str], names: set[str]) -> str:
    """The name of the first tag matching by code or by name, '' if none.

    Tags made by an import get a code derived from their name, so the names
    communities actually use (低保户, 低保) are matched too."""
    for code, name in tags:
        if code in codes or name in names:
            return name
    return ""


# ---------------------------------------------------------------------------
# Registry rules: (facts) → findings
# ---------------------------------------------------------------------------

ELDER_ALONE_AGE = 80
INFANT_AGE = 3


def rule_elder_living_alone(facts: Facts) -> Iterable[Finding]:
    """registry.elder-alone → 养老照护: a household of one person aged 80 or over.

    The paper's first target group; the age counts by birth year, as the registry does."""
    for household_id, people in facts.members.items():
        if len(people) == 1 and facts.year - people[0][0] >= ELDER_ALONE_AGE:
            age = facts.year - people[0][0]
            yield Finding(household_id, "elderly-care",
                          _("Lives alone, aged %(age)d.") % {"age": age}, "rule:registry.elder-alone")


ELDER_TAG_CODES = {"alone-elder", "over-80", "empty-nest", "disabled-elder"}
ELDER_TAG_NAMES = {"独居老人", "高龄老人", "空巢老人", "失能老人", "失独老人"}


def rule_elder_fact_tag(facts: Facts) -> Iterable[Finding]:
    """registry.elder-tag → 养老照护: a resident tagged 独居老人, 高龄老人, 空巢老人 or 失能老人.

    Staff put these tags on after a visit; they are the registry's own word that care is needed."""
    for household_id, tags in facts.tags.items():
        name = _has_fact(tags, ELDER_TAG_CODES, ELDER_TAG_NAMES)
        if name:
            yield Finding(household_id, "elderly-care",
                          _("A member is registered as %(tag)s.") % {"tag": name}, "rule:registry.elder-tag")


def rule_infant(facts: Facts) -> Iterable[Finding]:
    """registry.infant → 儿童托育: a child under 3 (托育 is for ages 0–3)."""
    for household_id, people in facts.members.items():
        ages = sorted(facts.year - year for year, _relation in people if facts.year - year < INFANT_AGE)
        if ages:
            yield Finding(household_id, "childcare",
                          _("A child aged %(age)d lives here.") % {"age": ages[0]}, "rule:registry.infant")


LEFT_BEHIND_CODES = {"left-behind-child"}
LEFT_BEHIND_NAMES = {"留守儿童", "困境儿童"}


def rule_left_behind_child(facts: Facts) -> Iterable[Finding]:
    """registry.left-behind-child → 儿童托育: a child tagged 留守儿童 or 困境儿童 needs care after school."""
    for household_id, tags in facts.tags.items():
        name = _has_fact(tags, LEFT_BEHIND_CODES, LEFT_BEHIND_NAMES)
        if name:
            yield Finding(household_id, "childcare",
                          _("A member is registered as %(tag)s.") % {"tag": name},
                          "rule:registry.left-behind-child")


HARDSHIP_CODES = {"low-income", "disabled", "dibao", "tekun"}
HARDSHIP_NAMES = {"低保户", "低保", "低收入", "低收入户", "特困", "特困人员", "残疾人", "残疾"}


def rule_hardship_tag(facts: Facts) -> Iterable[Finding]:
    """registry.hardship → 困难帮扶: a resident tagged 低保, 低收入, 特困 or 残疾人."""
    for household_id, tags in facts.tags.items():
        name = _has_fact(tags, HARDSHIP_CODES, HARDSHIP_NAMES)
        if name:
            yield Finding(household_id, "hardship",
                          _("A member is registered as %(tag)s.") % {"tag": name}, "rule:registry.hardship")


REGISTRY_RULES: tuple[Callable[[Facts], Iterable[Finding]], ...] = (
    rule_elder_living_alone, rule_elder_fact_tag, rule_infant, rule_left_behind_child, rule_hardship_tag,
)


# ---------------------------------------------------------------------------
# Case rules: what a household asked for in the last year
# ---------------------------------------------------------------------------

CASE_WINDOW_DAYS = 365
SNIPPET = 14   # characters of the case's words either side of the matched word


@dataclass(frozen=True)
class CaseRule:
    """Cases of the household in the window that match give the subcategory.

    ``words``: the description mentions one of them (any, when empty).
    ``categories``: the case's category or its parent has one of these codes (any, when empty).
    ``at_home``: only cases placed at the household itself (not the reporter's
    courtyard complaints). ``min_cases``: how many matching cases it takes.
    """

    code: str
    need: str
    why: str
    words: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    at_home: bool = False
    min_cases: int = 1


CASE_RULES: tuple[CaseRule, ...] = (
    CaseRule("case.meals", "meals", "asked about meals: 助餐, 送餐, 吃饭, 老年食堂…",
             words=("助餐", "送餐", "配餐", "吃饭", "做饭", "老年食堂", "长者食堂", "友邻食堂")),
    CaseRule("case.elderly-care", "elderly-care", "asked for care at home for an elder",
             words=("独居", "适老化", "扶手", "高龄", "护理", "失能", "陪护", "助浴", "居家养老", "日间照料")),
    CaseRule("case.health", "health", "asked for help with health care",
             words=("家庭医生", "量血压", "血压", "就医", "看病", "陪诊", "体检", "义诊", "慢性病", "上门随访")),
    CaseRule("case.childcare", "childcare", "asked for childcare",
             words=("托管", "托育", "四点半课堂", "没人照顾", "幼儿园", "看孩子")),
    CaseRule("case.learning", "learning", "asked about schooling or classes",
             words=("入学", "上小学", "学区", "老年大学", "书法", "阅览室", "兴趣班")),
    CaseRule("case.activities", "activities", "wants to join community activities",
             words=("报个名", "报名", "文体活动", "文艺", "合唱", "志愿活动")),
    CaseRule("case.hardship", "hardship", "asked for hardship support",
             words=("低保", "残疾", "救助", "特困", "生活困难")),
    CaseRule("case.employment", "employment", "asked about work",
             words=("失业", "找工作", "招聘", "创业", "就业培训", "技能培训")),
    CaseRule("case.public-space", "public-space", "asked about access and public space",
             words=("加装电梯", "无障碍", "坡道", "座椅", "充电桩")),
    CaseRule("case.repairs", "repairs", "two or more repair cases at home in a year",
             categories=("property-repair", "property-lift", "utilities-water", "utilities-power",
                         "utilities-gas", "sanitation-drains"),
             at_home=True, min_cases=2),
    CaseRule("case.sanitation", "sanitation", "two or more sanitation cases in a year",
             categories=("sanitation", "sanitation-waste"), min_cases=2),
)


@dataclass(frozen=True)
class CaseFact:
    """One thing a household asked for, as the case rules read it (handed in at :data:`NEED_SIGNALS`)."""

    number: str                   # the case's number: the tag's evidence names it
    household_id: int             # where it was placed, or the reporter's household
    at_home: bool                 # placed at the household itself
    categories: tuple[str, ...]   # the case's category code and its parent's
    description: str
    created_at: dt.datetime


# The hook point where apps above this one hand in what residents asked for
# (linli.core.registry.register_hook). Each function takes ``(community, since)`` and
# returns :class:`CaseFact` values of that community created at or after ``since``,
# oldest first, that can speak for a household: placed at it, or reported by one of
# its residents, and not turned away (rejected or merged). linli.cases registers its
# cases (linli/cases/need_signals.py) from CasesConfig.ready().
NEED_SIGNALS = "community.need_signals"


def load_cases(community: Community, now: dt.datetime) -> list[CaseFact]:
    """What households of the community asked for in the window, from every app that
    registered at :data:`NEED_SIGNALS`, oldest first."""
    since = now - dt.timedelta(days=CASE_WINDOW_DAYS)
    facts = [fact for signals in registry.hooks(NEED_SIGNALS) for fact in signals(community, since)]
    # Stable: facts of one moment keep the order their app gave them.
    facts.sort(key=lambda fact: fact.created_at)
    return facts


def _snippet(text: str, word: str) -> str:
    at = text.find(word)
    start, end = max(0, at - SNIPPET), min(len(text), at + len(word) + SNIPPET)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _case_matches(rule: CaseRule, case: CaseFact) -> str | None:
    """The matched word ('' when the rule has none), or None when the case does not match."""
    if rule.at_home and not case.at_home:
        return None
    if rule.categories and not set(rule.categories) & set(case.categories):
        return None
    if not rule.words:
        return ""
    for word in rule.words:
        if word in case.description:
            return word
    return None


def case_rule_findings(rule: CaseRule, cases: list[CaseFact]) -> Iterable[Finding]:
    """Apply one case rule: per household, its matching cases, newest last."""
    matched: dict[int, list[tuple[CaseFact, str]]] = defaultdict(list)
    for case in cases:
        word = _case_matches(rule, case)
        if word is not None:
            matched[case.household_id].append((case, word))
    for household_id, hits in matched.items():
        if len(hits) < rule.min_cases:
            continue
        latest, word = hits[-1]
        # Evidence the rule needs stops counting when its oldest case needed leaves the window.
        expires = hits[-rule.min_cases][0].created_at + dt.timedelta(days=CASE_WINDOW_DAYS)
        numbers = [case.number for case, _word in hits[-3:]]
        if word:
            reason = _("Case %(number)s of %(date)s: “%(words)s”") % {
                "number": latest.number, "date": timezone.localdate(latest.created_at).isoformat(),
                "words": _snippet(latest.description, word)}
        else:
            reason = _("%(n)d cases in the last %(days)d days, the latest %(number)s of %(date)s.") % {
                "n": len(hits), "days": CASE_WINDOW_DAYS, "number": latest.number,
                "date": timezone.localdate(latest.created_at).isoformat()}
        yield Finding(household_id, rule.need, reason, "case:" + ",".join(numbers), Source.CASE, expires)


# ---------------------------------------------------------------------------
# Service use: other apps register their sources here
# ---------------------------------------------------------------------------

ServiceSource = Callable[[Community, dt.datetime], Iterable[Finding]]
_SERVICE_SOURCES: dict[str, ServiceSource] = {}


def register_service_source(name: str, source: ServiceSource) -> ServiceSource:
    """Let an app feed need tags from the use of its services.

    ``source(community, now)`` returns :class:`Finding` values with
    ``source=HouseholdNeed.Source.SERVICE`` and an evidence reference of its own
    ("canteen:<enrolment id>"); the canteen registers, from its AppConfig.ready(),
    a source saying which households take meals. Registering the same name again
    replaces the source. Returns the source, so it can decorate a function.
    """
    _SERVICE_SOURCES[name] = source
    return source


def unregister_service_source(name: str) -> None:
    _SERVICE_SOURCES.pop(name, None)


def service_findings(community: Community, now: dt.datetime) -> Iterable[Finding]:
    for name in sorted(_SERVICE_SOURCES):
        for finding in _SERVICE_SOURCES[name](community, now):
            yield finding._replace(source=Source.SERVICE)


# ---------------------------------------------------------------------------
# Recomputation
# ---------------------------------------------------------------------------

MAX_REASON = 500
MAX_EVIDENCE = 200
BATCH = 1000


def derive(community: Community, now: dt.datetime) -> list[Finding]:
    """Every finding of every rule and source for the community, reasons in the site's language."""
    today = timezone.localdate(now)
    with translation.override(settings.LANGUAGE_CODE):
        facts = load_facts(community, today)
        findings = [f for rule in REGISTRY_RULES for f in rule(facts)]
        cases = load_cases(community, now)
        for rule in CASE_RULES:
            findings.extend(case_rule_findings(rule, cases))
        findings.extend(service_findings(community, now))
    return findings


def _merge(findings: list[Finding], categories: dict[str, int], households: set[int]) -> dict:
    """One finding per (household, subcategory): reasons and evidence joined, first source kept,
    the latest expiry (none if any finding does not expire). Unknown households, codes and
    inactive subcategories are dropped."""
    merged: dict[tuple[int, int], Finding] = {}
    for f in findings:
        category_id = categories.get(f.code)
        if category_id is None or f.household_id not in households:
            continue
        key = (f.household_id, category_id)
        have = merged.get(key)
        if have is None:
            merged[key] = f
            continue
        expires = None if have.expires_at is None or f.expires_at is None else max(have.expires_at, f.expires_at)
        merged[key] = have._replace(
            reason=have.reason if f.reason in have.reason else f"{have.reason} {f.reason}",
            evidence=have.evidence if f.evidence in have.evidence.split(" ") else f"{have.evidence} {f.evidence}",
            expires_at=expires,
        )
    return {k: f._replace(reason=f.reason[:MAX_REASON], evidence=f.evidence[:MAX_EVIDENCE])
            for k, f in merged.items()}


def needs_recompute(*, community: Community, actor=None, now: dt.datetime | None = None) -> dict:
    """Bring the community's derived need tags in line with its registry, cases and services.

    Idempotent: a second run changes nothing and writes no event. New findings
    become suggested tags; a suggested tag whose reason or evidence changed is
    updated; one whose evidence is gone is removed; confirmed and dismissed tags
    keep their status (a dismissed tag stays dismissed however often the rules
    find it again). Installs the default tree the first time. Returns counts.
    ``actor`` None is the job; an account must be a community admin or worker.
    """
    if actor is not None and not rules.has_perm("community.recompute_needs", actor, community):
        raise PermissionDenied(_("You may not recompute this community's need tags."))
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        if not NeedCategory.objects.filter(community=community).exists():
            needs_install_defaults(actor=None, community=community)
        categories = dict(
            NeedCategory.objects.filter(community=community, active=True, parent__isnull=False)
            .values_list("code", "pk")
        )
        households = set(Household.objects.filter(community=community).values_list("pk", flat=True))
        findings = _merge(derive(community, now), categories, households)
        counts = _apply(community, findings, now)
        if counts["added"] or counts["updated"] or counts["removed"]:
            by_category = dict(
                HouseholdNeed.objects.filter(community=community, status__in=HouseholdNeed.ACTIVE_STATUSES)
                .order_by().values_list("category__code").annotate(n=Count("pk"))
            )
            events.record(actor=actor, verb="needs.recomputed", target=community, community=community,
                          data={**counts, "by_category": by_category})
    counts["seconds"] = round(time.perf_counter() - started, 3)
    return counts


def _apply(community: Community, findings: dict, now: dt.datetime) -> dict:
    existing = {
        (n.household_id, n.category_id): n
        for n in HouseholdNeed.objects.filter(community=community).only(
            "pk", "household_id", "category_id", "status", "source", "reason", "evidence", "expires_at")
    }
    new, changed, seen = [], [], []
    kept_dismissed = kept_confirmed = 0
    for key, f in findings.items():
        need = existing.get(key)
        if need is None:
            new.append(HouseholdNeed(
                community=community, household_id=key[0], category_id=key[1], source=f.source, reason=f.reason,
                evidence=f.evidence, status=Status.SUGGESTED, assigned_at=now, last_seen_at=now,
                expires_at=f.expires_at))
        elif need.status == Status.DISMISSED:
            kept_dismissed += 1
        elif need.status == Status.CONFIRMED:
            kept_confirmed += 1
            seen.append(need.pk)
        elif (need.source, need.evidence, need.expires_at) != (f.source, f.evidence, f.expires_at) or (
                need.reason is None or need.reason.reveal() != f.reason):
            need.source, need.reason, need.evidence = f.source, f.reason, f.evidence
            need.expires_at, need.last_seen_at = f.expires_at, now
            changed.append(need)
        else:
            seen.append(need.pk)
    gone = [n.pk for key, n in existing.items() if key not in findings and n.status == Status.SUGGESTED]
    # Conditional writes: a tag staff decide on meanwhile is neither overwritten nor removed.
    HouseholdNeed.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)
    HouseholdNeed.objects.bulk_update(changed, ["source", "reason", "evidence", "expires_at", "last_seen_at"],
                                      batch_size=BATCH)
    for start in range(0, len(seen), BATCH):
        HouseholdNeed.objects.filter(pk__in=seen[start:start + BATCH]).update(last_seen_at=now)
    for start in range(0, len(gone), BATCH):
        HouseholdNeed.objects.filter(pk__in=gone[start:start + BATCH], status=Status.SUGGESTED).delete()
    return {"added": len(new), "updated": len(changed), "removed": len(gone),
            "unchanged": len(seen) - kept_confirmed, "kept_confirmed": kept_confirmed,
            "kept_dismissed": kept_dismissed}


def recompute_all() -> dict:
    """The periodic job (registered in CommunityConfig.ready()): every community, one transaction each."""
    totals: dict[str, float] = defaultdict(int)
    for community in Community.objects.order_by("pk"):
        for key, value in needs_recompute(community=community).items():
            totals[key] += value
    totals["communities"] = Community.objects.count()
    return dict(totals)


_SPACES = re.compile(r"\s+")


def clean_reason(reason: str, *, required: bool = True) -> str:
    """A staff reason: one line, 2 to 200 characters (the reveal's rule)."""
    reason = _SPACES.sub(" ", reason or "").strip()
    if required and len(reason) < 2:
        raise InvalidInput(_("Say why, in a few words."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("A reason has at most 200 characters."), field="reason")
    return reason


# ---------------------------------------------------------------------------
# Staff decisions: the NEED workflow and its services
# ---------------------------------------------------------------------------

# The ``who`` of every staff move: the community's workers and the grid's worker
# (rules: community.change_household_needs).
CHANGE = "change"


def may_change(actor, need: HouseholdNeed, who: str) -> bool:
    # The rule itself, not actor.has_perm(): superusers get no shortcut to personal data.
    return who == CHANGE and rules.has_perm("community.change_household_needs", actor, need.household)


# A tag's life. The hourly recomputation creates and removes ``suggested`` tags in
# bulk (they are the rules' findings, not anyone's decision); every change a person
# makes to a tag that exists is one of these moves. A tag staff add where there was
# none is created by household_need_add with the same event as the move "add".
NEED = Workflow(
    "household_need", model=HouseholdNeed, may=may_change,
    places=lambda need: {"community": need.community, "grid": need.household.grid},
    event_data=lambda need: {"category": need.category.code},
    moves=[
        # Staff's own tag over the rules' suggestion, or over a tag they dismissed earlier.
        Move("add", {Status.SUGGESTED, Status.DISMISSED}, Status.CONFIRMED, CHANGE, gettext_lazy("Add"), "added",
             form="NeedAddForm", message=gettext_lazy("Need tag %(tag)s added."),
             event_label=gettext_lazy("tagged a household's need")),
        Move("confirm", {Status.SUGGESTED, Status.DISMISSED}, Status.CONFIRMED, CHANGE, gettext_lazy("Confirm"),
             "confirmed", form="NeedDecisionForm", message=gettext_lazy("Need tag %(tag)s confirmed."),
             event_label=gettext_lazy("confirmed a household's need")),
        Move("dismiss", {Status.SUGGESTED, Status.CONFIRMED}, Status.DISMISSED, CHANGE, gettext_lazy("Dismiss"),
             "dismissed", form="NeedDecisionForm", message=gettext_lazy("Need tag %(tag)s dismissed."),
             event_label=gettext_lazy("dismissed a household's need")),
    ],
)


def _require_change(actor, household: Household) -> None:
    # Checked before the input, so that an account without the right learns nothing from
    # the answers; the workflow checks it again on the locked row.
    if actor is None or not rules.has_perm("community.change_household_needs", actor, household):
        raise PermissionDenied(_("You may not change this household's need tags."))


def _locked(need: HouseholdNeed) -> HouseholdNeed:
    """The row as it is now, locked: the recomputation may have touched it since it was read."""
    try:
        return HouseholdNeed.objects.select_for_update().get(pk=need.pk)
    except HouseholdNeed.DoesNotExist:
        raise NotFound("household need")


def _move(need: HouseholdNeed, move: str, *, actor, apply, already: str) -> HouseholdNeed:
    """One move of the NEED workflow on a locked tag (the caller's transaction). ``already``:
    the refusal when the tag is in the move's target state (the only state a staff move may not
    start from). The event keeps the log's "previous" beside the workflow's "from"."""
    try:
        need = NEED.transition(need, move, actor=actor, apply=apply, data={"previous": need.status})
    except IllegalTransition:
        raise InvalidInput(already, code="unchanged")
    # Pages and messages read these of the tag the service returns.
    return (HouseholdNeed.objects.select_related("category", "household__grid", "household__community")
            .get(pk=need.pk))


@transaction.atomic
def household_need_add(*, actor, household: Household, category: NeedCategory, reason: str) -> HouseholdNeed:
    """Staff tag a household: a confirmed tag with their reason (sealed).

    A suggested or dismissed tag of the same subcategory becomes this staff tag (the
    move "add"); a tag that is already confirmed is refused (confirm it, or dismiss it first)."""
    _require_change(actor, household)
    if (category is None or category.community_id != household.community_id or category.parent_id is None
            or not category.active):
        raise InvalidInput(_("Choose one of the need tags of this household's community."), field="category")
    reason = clean_reason(reason)

    def staff_tag(need: HouseholdNeed, now) -> None:
        need.source, need.reason, need.evidence = Source.STAFF, reason, ""
        need.assigned_at, need.assigned_by = now, actor
        need.decided_at, need.decided_by, need.decision_reason = now, actor, None
        need.expires_at, need.last_seen_at = None, None

    already = _("This household already has this need tag.")
    need = HouseholdNeed.objects.select_for_update().filter(household=household, category=category).first()
    if need is not None and need.status == Status.CONFIRMED:
        raise InvalidInput(already, code="duplicate", field="category")
    if need is not None:
        return _move(need, "add", actor=actor, apply=staff_tag, already=already)
    # No tag yet: created confirmed, with the event the move "add" writes.
    need = HouseholdNeed(community_id=household.community_id, household=household, category=category,
                         status=Status.CONFIRMED)
    staff_tag(need, timezone.now())
    need.save()
    events.record(actor=actor, verb=NEED.verb("add"), target=need, community=household.community,
                  grid=household.grid, at=need.assigned_at, data={"category": category.code, "previous": ""})
    return need


@transaction.atomic
def household_need_confirm(*, actor, need: HouseholdNeed, reason: str = "") -> HouseholdNeed:
    """Staff agree with a suggested (or earlier dismissed) tag: it stays whatever the rules find later."""
    _require_change(actor, need.household)
    reason = clean_reason(reason, required=False)

    def confirm(need: HouseholdNeed, now) -> None:
        need.decided_at, need.decided_by, need.decision_reason = now, actor, reason or None
        need.expires_at = None   # staff own it now: it no longer ages out with its evidence

    return _move(_locked(need), "confirm", actor=actor, apply=confirm,
                 already=_("This need tag is already confirmed."))


@transaction.atomic
def household_need_dismiss(*, actor, need: HouseholdNeed, reason: str) -> HouseholdNeed:
    """Staff say a tag is wrong: it stays dismissed on every recomputation until staff add it again."""
    _require_change(actor, need.household)
    reason = clean_reason(reason)

    def dismiss(need: HouseholdNeed, now) -> None:
        need.decided_at, need.decided_by, need.decision_reason = now, actor, reason

    return _move(_locked(need), "dismiss", actor=actor, apply=dismiss,
                 already=_("This need tag is already dismissed."))


# ---------------------------------------------------------------------------
# Reads (selectors): scoped exactly like the registry
# ---------------------------------------------------------------------------

def active_q(now: dt.datetime, prefix: str = "") -> Q:
    """Tags that count: suggested or confirmed, of an active subcategory, not past their evidence."""
    return (Q(**{f"{prefix}status__in": HouseholdNeed.ACTIVE_STATUSES, f"{prefix}category__active": True})
            & (Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})))


def staff_households(user):
    """Households the account sees as staff: the registry's scope without a resident's own
    household (a resident does not see how the office tags them)."""
    return Household.objects.filter(scope_of(user).area_q(buildings=True))


def registry_communities(user) -> set[int]:
    """Communities whose registry (some of it) the account sees."""
    from .models import Building, Grid

    scope = scope_of(user)
    return (set(scope.office_communities)
            | set(Grid.objects.filter(pk__in=scope.grids).values_list("community_id", flat=True))
            | set(Building.objects.filter(pk__in=scope.buildings).values_list("community_id", flat=True)))


@dataclass
class NeedGroup:
    category: NeedCategory
    children: list[NeedCategory]


def need_tree(community_ids: Iterable[int]) -> list[NeedGroup]:
    """The active tree of these communities, one node per code (the first community's names)."""
    nodes = list(NeedCategory.objects.filter(community_id__in=list(community_ids), active=True)
                 .order_by("community_id", "position", "code"))
    tops: dict[str, NeedGroup] = {}
    codes_of = {n.pk: n.code for n in nodes}
    for node in nodes:
        if node.parent_id is None and node.code not in tops:
            tops[node.code] = NeedGroup(node, [])
    seen: set[str] = set()
    for node in nodes:
        parent_code = codes_of.get(node.parent_id)
        if node.parent_id is not None and parent_code in tops and node.code not in seen:
            tops[parent_code].children.append(node)
            seen.add(node.code)
    return [g for g in tops.values() if g.children]


def need_tree_for(user) -> list[NeedGroup]:
    return need_tree(registry_communities(user))


def households_with_needs(user, *, codes: Iterable[str] = (), match_all: bool = True, grid_id=None,
                          building_id=None, age_band: int | None = None, today: dt.date | None = None,
                          now: dt.datetime | None = None, waiting: bool = False):
    """Households the account sees that carry the tags: all of ``codes`` (or any of them);
    with no code, every household with at least one tag. ``waiting``: only tags the rules
    suggested that no one has confirmed or dismissed yet (the decisions waiting on staff).
    Registry filters narrow it; none widens the scope."""
    from .selectors import AGE_BANDS

    now = now or timezone.now()
    active = HouseholdNeed.objects.filter(active_q(now))
    if waiting:
        active = active.filter(status=Status.SUGGESTED)
    qs = staff_households(user)
    codes = [c for c in dict.fromkeys(codes) if c]
    if not codes:
        qs = qs.filter(pk__in=active.values("household_id"))
    elif match_all:
        for code in codes:
            qs = qs.filter(pk__in=active.filter(category__code=code).values("household_id"))
    else:
        qs = qs.filter(pk__in=active.filter(category__code__in=codes).values("household_id"))
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    if building_id:
        qs = qs.filter(building_id=building_id)
    if age_band is not None:
        lo, hi, _label = AGE_BANDS[age_band]
        year = (today or timezone.localdate(now)).year
        qs = qs.filter(pk__in=Resident.objects.filter(birth_year__lte=year - lo, birth_year__gte=year - hi)
                       .values("household_id"))
    return qs.select_related("grid", "building", "unit", "community").order_by("grid_id", "building_id",
                                                                                "unit_id", "room", "pk")


def need_counts(households, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Households per tag code among these (already scoped) households."""
    now = now or timezone.now()
    return dict(
        HouseholdNeed.objects.filter(active_q(now), household__in=households.order_by().values("pk"))
        .order_by().values_list("category__code").annotate(n=Count("household_id", distinct=True))
    )


def household_needs_for(user, household: Household, *, now: dt.datetime | None = None) -> list[HouseholdNeed]:
    """Every tag of a household the account may see (dismissed ones too, marked), for its page."""
    if not rules.has_perm("community.view_household_needs", user, household):
        raise NotFound("household")
    now = now or timezone.now()
    needs = list(HouseholdNeed.objects.filter(household=household).select_related("category__parent",
                                                                                   "assigned_by", "decided_by")
                 .order_by("category__parent__position", "category__position", "pk"))
    for need in needs:
        need.counts = need.is_active and need.category.active and (need.expires_at is None or need.expires_at > now)
    return needs


def household_need_get(user, pk) -> HouseholdNeed:
    """A tag of a household in the account's scope; NotFound otherwise (existence is not leaked)."""
    try:
        return (HouseholdNeed.objects.filter(household__in=staff_households(user).values("pk"))
                .select_related("category", "household__grid", "household__community").get(pk=pk))
    except (HouseholdNeed.DoesNotExist, ValueError, TypeError):
        raise NotFound("household need")


def street_need_counts(user, *, now: dt.datetime | None = None) -> list[dict]:
    """For street supervisors: per community of their streets, households per tag. Counts only."""
    now = now or timezone.now()
    scope = scope_of(user)
    communities = list(Community.objects.filter(street_id__in=scope.streets).order_by("code"))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for community_id, code, n in (
        HouseholdNeed.objects.filter(active_q(now), community__in=communities).order_by()
        .values_list("community_id", "category__code").annotate(n=Count("household_id", distinct=True))
    ):
        counts[community_id][code] = n
    tagged = dict(
        HouseholdNeed.objects.filter(active_q(now), community__in=communities).order_by()
        .values_list("community_id").annotate(n=Count("household_id", distinct=True))
    )
    return [{"community": c, "households": tagged.get(c.pk, 0), "counts": counts.get(c.pk, {})}
            for c in communities]


# ---------------------------------------------------------------------------
# Lists and their export
# ---------------------------------------------------------------------------


@dataclass
class HouseholdRow:
    household: Household
    head: object            # the head's name as a Protected value (its str() is masked), or None
    members: int
    needs: list[NeedCategory]


def household_rows(households: list[Household], *, now: dt.datetime | None = None) -> list[HouseholdRow]:
    """What a list shows of each household: place, the head's masked name, its active tags."""
    now = now or timezone.now()
    ids = [h.pk for h in households]
    heads: dict[int, object] = {}
    members: dict[int, int] = defaultdict(int)
    for resident in (Resident.objects.filter(household_id__in=ids).only("pk", "household_id", "relation", "name")
                     .order_by("household_id", "pk")):
        members[resident.household_id] += 1
        if resident.household_id not in heads or resident.relation == Resident.Relation.HEAD:
            heads[resident.household_id] = resident.name
    tags: dict[int, list[NeedCategory]] = defaultdict(list)
    for need in (HouseholdNeed.objects.filter(active_q(now), household_id__in=ids).select_related("category")
                 .order_by("category__position", "category__code")):
        tags[need.household_id].append(need.category)
    return [HouseholdRow(h, heads.get(h.pk), members[h.pk], tags[h.pk]) for h in households]


EXPORT_MAX = 20_000


@transaction.atomic
def needs_export(*, actor, households, criteria: dict) -> list[HouseholdRow]:
    """The rows of a need list for a CSV file (masked), with one ``needs.exported`` event per
    community in it: how many rows and which filters, never who."""
    if actor is None or not rules.has_perm("community.export_needs", actor):
        raise PermissionDenied(_("You may not export need lists."))
    households = list(households[:EXPORT_MAX + 1])
    if len(households) > EXPORT_MAX:
        raise InvalidInput(_("The list has more than %(n)s households; narrow it down first.")
                           % {"n": f"{EXPORT_MAX:,}"}, code="too_many")
    rows = household_rows(households)
    per_community: dict[int, int] = defaultdict(int)
    communities = {}
    for h in households:
        per_community[h.community_id] += 1
        communities[h.community_id] = h.community
    for community_id in sorted(per_community):
        events.record(actor=actor, verb="needs.exported", target=communities[community_id],
                      community=communities[community_id],
                      data={"rows": per_community[community_id], "criteria": criteria})
    return rows
