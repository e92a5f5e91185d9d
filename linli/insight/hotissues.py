"""Hot issues kept in the database: the community's recent cases grouped by linli.insight.clustering.

Two jobs and two reads:

* ``refresh(community_id)`` regroups the community's cases of the last ``WINDOW_DAYS`` days with
  ``find_hot_issues`` and matches each group to the stored issue sharing most of its members, so
  an issue keeps its id while it grows; groups that match nothing become new issues, issues left
  without recent members are closed (the ``close`` move of linli.insight.workflows.HOT_ISSUE).
  Safe to run twice: a second run finds the same groups and
  changes nothing but heat (which decays with time).
* ``attach_new(community_id)`` puts cases submitted since its cursor into an open issue when
  ``clustering.attach`` says they belong there. It runs every minute, outside the intake
  transaction (intake stays as fast as before); a case that fits no issue waits for the next
  refresh. Safe to run twice: a case is a member of one issue at most (a unique row).
* ``hot_issues_for(user)`` and ``similar_open_cases(user, case)`` are the staff pages' reads,
  scoped like cases (``linli.cases.selectors``), staff areas only.

Events (``hotissue.formed``, ``hotissue.grew``, ``hotissue.closed``) carry counts and ids, never a
resident's words: the title is made from a resident's text, so it stays on the staff pages.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from linli.cases import selectors
from linli.cases.models import Case
from linli.cases.workflow import allowed_moves
from linli.community.models import Building, Community, Grid
from linli.community.scope import scope_of
from linli.core import events
from linli.core.masking import scrub

from . import clustering
from .places import Registry
from .models import HotIssue, HotIssueMember, JobCursor
from .workflows import HOT_ISSUE


WINDOW_DAYS = clustering.WINDOW_DAYS     # cases regrouped by a refresh, and the similar box's reach
MATCH = 0.5          # share of the smaller member set two groupings must share to be one issue
MAX_CASES = 3000     # a refresh reads at most the newest this many cases (about half a year of the demo)
SIMILAR_CANDIDATES = 400   # the similar box compares with at most the newest this many open cases
SIMILAR_K = 5
ATTACH_CURSOR = "insight.hotissues.attach"
# A case's created_at is set before its transaction commits: read this far back behind the
# cursor so that a slow commit is not skipped (members already attached are skipped).
ATTACH_OVERLAP = dt.timedelta(minutes=5)


# --- messages from cases ---------------------------------------------------------------------

def registry_of(community_id: int) -> Registry:
    """The community's own place names: its courtyards (grids), its buildings with a name of
    their own (not "3栋", which every courtyard has) and its street. Hot-issue places are taken
    from these first (issue 8, C2)."""
    community = Community.objects.select_related("street").filter(pk=community_id).first()
    if community is None:
        return Registry()
    grids = Grid.objects.filter(community_id=community_id).values_list("name", flat=True)
    buildings = [n for n in Building.objects.filter(community_id=community_id).values_list("name", flat=True)
                 if not _PLAIN_BUILDING.match(n or "")]
    return Registry.of(estates=[*grids, *buildings], roads=[community.street.name])


_PLAIN_BUILDING = re.compile(r"^[\w-]{0,6}?[\dA-Za-z一二三四五六七八九十]+\s*[栋幢号楼座]$")


def _courtyards(community_id: int) -> dict[int, str]:
    return dict(Grid.objects.filter(community_id=community_id).values_list("pk", "name"))


def message_of(case: Case, courtyards: dict[int, str] | None = None) -> clustering.Message:
    """The case as clustering sees it: its description, time, (as an opaque id) its reporter and,
    where known, its courtyard (the place of a case whose words name none)."""
    if case.reporter_id:
        reporter = f"r{case.reporter_id}"
    elif case.submitted_by_id and case.channel == Case.Channel.WEB:   # a resident's own account
        reporter = f"u{case.submitted_by_id}"
    else:
        reporter = ""   # a worker entering calls: told apart by their words (re-posts counted once)
    place = (courtyards or {}).get(case.grid_id, "") if case.grid_id else ""
    return clustering.Message(id=str(case.pk), title="", text=case.description, created_at=case.created_at,
                              reporter=reporter, place=place)


def _grouped_cases(community_id: int, now: dt.datetime) -> QuerySet[Case]:
    """Cases that may form an issue: the window's cases, rejected ones aside (not the community's to
    handle), merged duplicates included (another resident raising the same problem)."""
    since = now - dt.timedelta(days=WINDOW_DAYS)
    return (Case.objects.filter(community_id=community_id, created_at__gte=since, created_at__lte=now)
            .exclude(status=Case.Status.REJECTED)
            .only("pk", "description", "created_at", "reporter_id", "submitted_by_id", "channel", "grid_id")
            .order_by("-created_at", "-pk"))


def _clean_title(title: str) -> str:
    # Titles come from residents' words: mask any phone or ID-card number and any home door
    # (building, unit, room) they hold: a title is shown to staff beyond the resident's grid.
    return scrub(title, doors=True)[:200]


# --- refresh ---------------------------------------------------------------------------------

def refresh(community_id: int, *, now: dt.datetime | None = None) -> dict:
    """Regroup the community's recent cases and store the hot issues. Returns counts."""
    now = now or timezone.now()
    cases = list(_grouped_cases(community_id, now)[:MAX_CASES])
    yards = _courtyards(community_id)
    found = clustering.find_hot_issues([message_of(c, yards) for c in cases], now=now,
                                       registry=registry_of(community_id)) if cases else []
    window_ids = {c.pk for c in cases}
    with transaction.atomic():
        community = Community.objects.select_for_update().get(pk=community_id)  # one refresh at a time
        return _store(community, found, window_ids, now)


def _store(community: Community, found: list[clustering.HotIssue], window_ids: set[int], now) -> dict:
    counts = {"issues": len(found), "formed": 0, "grew": 0, "closed": 0}
    open_rows = {row.pk: row for row in HotIssue.objects.filter(community=community, status=HotIssue.Status.OPEN)}
    members: dict[int, set[int]] = {}
    for issue_id, case_id in HotIssueMember.objects.filter(hot_issue_id__in=list(open_rows)).values_list(
            "hot_issue_id", "case_id"):
        members.setdefault(issue_id, set()).add(case_id)
    groups = [{int(i) for i in issue.ids} for issue in found]
    pairs = []
    for g, ids in enumerate(groups):
        for row_id, old in members.items():
            shared = len(ids & old)
            if shared and shared >= MATCH * min(len(ids), len(old)):
                pairs.append((shared, -row_id, g, row_id))
    pairs.sort(reverse=True)
    matched: dict[int, int] = {}  # group index -> row id
    used = set()
    for _shared, _neg, g, row_id in pairs:
        if g not in matched and row_id not in used:
            matched[g] = row_id
            used.add(row_id)
    grouped = set().union(*groups) if groups else set()
    # Cases of the window that no group holds any more leave their open issue; older members stay
    # as the issue's history.
    HotIssueMember.objects.filter(hot_issue_id__in=list(open_rows), case_id__in=window_ids - grouped).delete()
    # A group none of whose cases is still open is no issue to work on (issue 8, C2): it forms
    # nothing, and the open issue it matches is closed below.
    still_open = set(Case.objects.filter(pk__in=grouped, status__in=Case.OPEN_STATUSES).values_list("pk", flat=True))
    for g, issue in enumerate(found):
        row = open_rows.get(matched.get(g))
        ids = groups[g]
        if not ids & still_open and row is None:
            continue
        # A case moves here from whatever issue held it before.
        moving = HotIssueMember.objects.filter(case_id__in=ids)
        (moving.exclude(hot_issue=row) if row else moving).delete()
        if row is None:
            row = HotIssue.objects.create(community=community, title=_clean_title(issue.title), place=issue.place[:200],
                                          place_key=issue.place_key[:100], first_at=issue.first_at,
                                          last_at=issue.last_at, heat=issue.heat)
            HotIssueMember.objects.bulk_create([HotIssueMember(hot_issue=row, case_id=i) for i in sorted(ids)])
            events.record(actor=None, verb="hotissue.formed", target=row, community=community,
                          data={"hot_issue": row.pk, "members": len(ids), "heat": issue.heat})
            counts["formed"] += 1
            continue
        new = ids - members.get(row.pk, set())
        if new:
            HotIssueMember.objects.bulk_create([HotIssueMember(hot_issue=row, case_id=i) for i in sorted(new)])
        _update_row(row, issue)
        if new:
            events.record(actor=None, verb="hotissue.grew", target=row, community=community,
                          data={"hot_issue": row.pk, "members": row.members.count(), "added": len(new),
                                "heat": issue.heat})
            counts["grew"] += 1
    for row_id, row in open_rows.items():
        stale = row_id not in used and not HotIssueMember.objects.filter(
            hot_issue_id=row_id, case__created_at__gte=now - dt.timedelta(days=WINDOW_DAYS)).exists()
        # Every member case closed (resolved, merged, rejected…): the issue is dealt with.
        done = not HotIssueMember.objects.filter(hot_issue_id=row_id, case__status__in=Case.OPEN_STATUSES).exists()
        if stale or done:
            HOT_ISSUE.transition(row, "close", actor=None)
            counts["closed"] += 1
    return counts


def _update_row(row: HotIssue, issue: clustering.HotIssue) -> None:
    """Title, place, times and heat from the latest grouping; the span covers older members too."""
    span = Case.objects.filter(pk__in=HotIssueMember.objects.filter(hot_issue=row).values("case_id"))
    times = sorted(span.values_list("created_at", flat=True))
    row.title = _clean_title(issue.title)
    row.place = issue.place[:200]
    row.place_key = issue.place_key[:100]
    row.first_at = min([issue.first_at, *times[:1]])
    row.last_at = max([issue.last_at, *times[-1:]])
    row.heat = issue.heat
    row.save(update_fields=["title", "place", "place_key", "first_at", "last_at", "heat", "updated_at"])


def refresh_all() -> dict:
    """The job: every community with cases in the window."""
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    totals = {"communities": 0, "formed": 0, "grew": 0, "closed": 0}
    for community_id in (Case.objects.filter(created_at__gte=since).values_list("community_id", flat=True)
                         .distinct().order_by("community_id")):
        result = refresh(community_id)
        totals["communities"] += 1
        for key in ("formed", "grew", "closed"):
            totals[key] += result[key]
    return totals


# --- attach at intake (a job, after the fact) ------------------------------------------------

def _open_issues(community_id: int, now: dt.datetime) -> tuple[list[HotIssue], list[clustering.HotIssue]]:
    """The community's open issues with their recent members, as clustering values."""
    rows = list(HotIssue.objects.filter(community_id=community_id, status=HotIssue.Status.OPEN))
    since = now - dt.timedelta(days=2 * WINDOW_DAYS)
    by_issue: dict[int, list[clustering.Message]] = {}
    member_cases = (Case.objects.filter(pk__in=HotIssueMember.objects.filter(hot_issue__in=rows).values("case_id"),
                                        created_at__gte=since)
                    .only("pk", "description", "created_at", "reporter_id", "submitted_by_id", "channel", "grid_id"))
    yards = _courtyards(community_id)
    owner = dict(HotIssueMember.objects.filter(hot_issue__in=rows).values_list("case_id", "hot_issue_id"))
    for case in member_cases:
        by_issue.setdefault(owner[case.pk], []).append(message_of(case, yards))
    kept, values = [], []
    for row in rows:
        messages = sorted(by_issue.get(row.pk, []), key=lambda m: (m.created_at, m.id))
        if not messages:
            continue
        kept.append(row)
        values.append(clustering.HotIssue(title=row.title, place=row.place, place_key=row.place_key,
                                        first_at=messages[0].created_at, last_at=messages[-1].created_at,
                                        ids=tuple(m.id for m in messages), heat=row.heat, reports=len(messages),
                                        supports=0, members=tuple(messages)))
    return kept, values


def attach_case(case: Case, rows: list[HotIssue], values: list[clustering.HotIssue], *, now) -> HotIssue | None:
    """Put one case into the open issue it belongs to (if any); updates ``values`` in place."""
    found = clustering.attach(message_of(case, _courtyards(case.community_id)), values, now=now,
                              registry=registry_of(case.community_id))
    if found is None:
        return None
    row = rows[found.index]
    with transaction.atomic():
        try:
            with transaction.atomic():
                HotIssueMember.objects.create(hot_issue=row, case=case, affinity=found.affinity)
        except IntegrityError:
            return None  # attached (or grouped) by another run meanwhile
        row.heat = found.issue.heat
        row.last_at = max(row.last_at, case.created_at)
        row.first_at = min(row.first_at, case.created_at)
        row.save(update_fields=["heat", "last_at", "first_at", "updated_at"])
        events.record(actor=None, verb="hotissue.grew", target=row, community=row.community,
                      data={"hot_issue": row.pk, "members": row.members.count(), "added": 1, "heat": row.heat,
                            "number": case.number})
    values[found.index] = found.issue
    return row


def attach_new(community_id: int, *, now: dt.datetime | None = None, since: dt.datetime | None = None) -> dict:
    """Attach the community's cases submitted since ``since`` (not yet in an issue). Returns counts."""
    now = now or timezone.now()
    since = since or now - dt.timedelta(minutes=10)
    fresh = list(Case.objects.filter(community_id=community_id, created_at__gt=since, created_at__lte=now)
                 .exclude(status=Case.Status.REJECTED)
                 .exclude(pk__in=HotIssueMember.objects.values("case_id"))
                 .order_by("created_at", "pk"))
    counts = {"checked": len(fresh), "attached": 0}
    if not fresh:
        return counts
    rows, values = _open_issues(community_id, now)
    if not rows:
        return counts
    for case in fresh:
        if attach_case(case, rows, values, now=now) is not None:
            counts["attached"] += 1
    return counts


def attach_all() -> dict:
    """The job (every minute): cases submitted since the cursor, in every community.

    The cursor is a time: the run reads from ``ATTACH_OVERLAP`` before it, so a case whose
    transaction committed late is still seen; members already attached are skipped.
    """
    now = timezone.now()
    cursor, _ = JobCursor.objects.get_or_create(name=ATTACH_CURSOR)
    since = (cursor.position or now - dt.timedelta(days=1)) - ATTACH_OVERLAP
    totals = {"communities": 0, "checked": 0, "attached": 0}
    communities = (Case.objects.filter(created_at__gt=since, created_at__lte=now)
                   .values_list("community_id", flat=True).distinct().order_by("community_id"))
    for community_id in communities:
        result = attach_new(community_id, now=now, since=since)
        totals["communities"] += 1
        totals["checked"] += result["checked"]
        totals["attached"] += result["attached"]
    JobCursor.objects.filter(pk=cursor.pk).update(position=now, updated_at=now)
    return totals


# --- reads for staff pages --------------------------------------------------------------------

def staff_cases(user) -> QuerySet[Case]:
    """The cases the account may see as staff (selectors.cases_for, without a resident's own cases)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    return selectors.cases_for(user).filter(scope_of(user).area_q(units=True, streets=True))


def hot_issues_for(user, *, status: str | None = HotIssue.Status.OPEN) -> QuerySet[HotIssue]:
    """Hot issues with at least one member the account may see, hottest first."""
    visible = staff_cases(user).values("pk")
    qs = HotIssue.objects.filter(pk__in=HotIssueMember.objects.filter(case_id__in=visible).values("hot_issue_id"))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("community").order_by("-heat", "-last_at", "id")


def visible_members(user, issue: HotIssue) -> QuerySet[Case]:
    """The issue's cases the account may see, oldest first."""
    return (staff_cases(user).filter(pk__in=HotIssueMember.objects.filter(hot_issue=issue).values("case_id"))
            .select_related("category", "grid").order_by("created_at", "pk"))


def shown_for(user, issue: HotIssue, visible: QuerySet[Case] | None = None) -> tuple[str, str]:
    """The issue's title and place as this account may read them.

    The stored title quotes one member's words (the medoid's) and the place is the members'
    commonest. An account that may see every member reads them as stored; one that sees only
    some (a grid worker whose courtyard holds part of an issue) reads a title and place built
    from the members it may see, so no other courtyard's case is quoted or named to it. Titles
    are scrubbed of phone and ID numbers and home doors either way."""
    visible = visible if visible is not None else staff_cases(user)
    member_ids = set(HotIssueMember.objects.filter(hot_issue=issue).values_list("case_id", flat=True))
    seen = list(visible.filter(pk__in=member_ids)
                .only("pk", "description", "created_at", "reporter_id", "submitted_by_id", "channel", "grid_id")
                .order_by("created_at", "pk"))
    if len(seen) == len(member_ids):
        return issue.title, issue.place
    if not seen:
        return "", ""
    yards = _courtyards(issue.community_id)
    title, place = clustering.title_and_place([message_of(c, yards) for c in seen], registry_of(issue.community_id))
    return _clean_title(title), place[:200]


def title_for(user, issue: HotIssue, visible: QuerySet[Case] | None = None) -> str:
    return shown_for(user, issue, visible)[0]


def hot_issue_of(case: Case) -> HotIssue | None:
    member = HotIssueMember.objects.filter(case=case).select_related("hot_issue").first()
    return member.hot_issue if member else None


def similar_open_cases(user, case: Case, *, k: int = SIMILAR_K, now: dt.datetime | None = None
                       ) -> list[tuple[Case, float]]:
    """Open cases of the case's community from the last WINDOW_DAYS days that read alike
    (``clustering.similar``), visible to the account, best first, with their affinity."""
    now = now or timezone.now()
    pool = staff_cases(user).filter(community_id=case.community_id)
    if case.grid_id and case.community_id not in scope_of(user).office_communities:
        # An account below the community office (a grid worker, a building leader, a unit) is
        # offered only cases of the case's own grid (courtyard): a merge suggestion quotes the
        # other case, and another courtyard's case is not its business (issue 8, A6).
        pool = pool.filter(grid_id=case.grid_id)
    candidates = list(pool.filter(
        status__in=Case.OPEN_STATUSES,
        created_at__gte=now - dt.timedelta(days=WINDOW_DAYS)).exclude(pk=case.pk)
        .select_related("category", "grid").order_by("-created_at", "-pk")[:SIMILAR_CANDIDATES])
    if not candidates:
        return []
    by_id = {str(c.pk): c for c in candidates}
    yards = _courtyards(case.community_id)
    found = clustering.similar(message_of(case, yards), [message_of(c, yards) for c in candidates], k,
                               registry=registry_of(case.community_id))
    return [(by_id[m.id], score) for m, score in found]


def similar_box(user, case: Case) -> dict:
    """What the case page's "similar open cases" box shows (insight/_similar.html): the similar
    open cases, whether this account may merge the case now, and its hot issue if visible."""
    issue = hot_issue_of(case)
    if issue is not None and not hot_issues_for(user, status=None).filter(pk=issue.pk).exists():
        issue = None
    return {"case": case, "similar": similar_open_cases(user, case), "hot_issue": issue,
            "hot_issue_title": title_for(user, issue) if issue is not None else "",
            "may_merge": case.is_open and "merge" in allowed_moves(user, case),
            # From this affinity up a case reads "very similar" (it would join a hot issue), below
            # it "similar" (clustering.SUGGEST is the floor of what is offered at all).
            "very_similar": clustering.LINK}



def similar_panel(user, case: Case) -> dict:
    """The case page's panel (the ``cases.staff_case_panels`` hook): the similar box, under the
    name ``box`` its template reads, so it cannot clash with the names of the case page."""
    return {"template": "insight/_similar.html", "context": {"box": similar_box(user, case)}}
