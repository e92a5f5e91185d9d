"""Who to ask for an activity: volunteers ranked by skill, walking distance, availability and
fairness (docs/volunteers.md, "Activities, sign-up and suggestions").

:func:`suggest` reads the rows once (the community's active volunteers not yet signed up, their
courtyards' centres, their minutes served in the last 90 days) and hands plain values to
:func:`rank`, which is pure: the same facts give the same order. The score is a weighted sum of
four parts, each between 0 and 1:

- **skill**: the share of the activity's skills the volunteer has (the activity's own list,
  else the skills that suit its type, ``skills.SKILLS_FOR_TYPE``; none asked: everyone matches);
- **distance**: walking minutes from the volunteer's courtyard (its centre) to the activity,
  ``haversine × 1.3`` at 80 m a minute; 0 minutes scores 1, 30 minutes or more 0; unknown
  (no coordinates) scores as 15 minutes;
- **availability**: 1 when the volunteer said they are free in the activity's half-day
  (``skills.half_day``), else 0;
- **fairness**: ``1 / (1 + hours / 10)`` of the hours served in the last 90 days, so the work
  spreads: someone who served less comes first, other things equal.

Each part only moves the score one way (more skills, a shorter walk, being free, fewer recent
hours: never a lower score); ties go to the volunteer who joined first, then the lower id.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import skills as vocab

# Weights of the four parts (they sum to 100: a score reads as points out of 100).
W_SKILL = 40
W_DISTANCE = 25
W_AVAILABLE = 20
W_FAIRNESS = 15

WALK_FACTOR = 1.3          # streets are not straight lines
WALK_METRES_PER_MINUTE = 80
FAR_MINUTES = 30           # this far or further scores nothing for distance
UNKNOWN_MINUTES = 15       # no coordinates: neither near nor far
FAIRNESS_WINDOW_DAYS = 90
FAIRNESS_HALF_HOURS = 10   # served this many hours: half the fairness part
EARTH_RADIUS_M = 6_371_000


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def walking_minutes(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    """Minutes on foot between two (latitude, longitude) points; None when either is unknown."""
    if a is None or b is None or None in a or None in b:
        return None
    return haversine_m(a[0], a[1], b[0], b[1]) * WALK_FACTOR / WALK_METRES_PER_MINUTE


@dataclass(frozen=True)
class Facts:
    """What :func:`rank` knows of one candidate: plain values only."""

    key: object                       # what the caller wants back (the Volunteer row)
    skills: frozenset = frozenset()
    walk_minutes: float | None = None
    available: bool = False
    recent_minutes: int = 0
    order: tuple = ()                 # tie-break: (joined_at, id)


@dataclass
class Suggestion:
    volunteer: object
    score: float
    reasons: list[str] = field(default_factory=list)


def skill_part(wanted: frozenset, has: frozenset) -> float:
    if not wanted:
        return 1.0
    return len(wanted & has) / len(wanted)


def distance_part(minutes: float | None) -> float:
    if minutes is None:
        minutes = UNKNOWN_MINUTES
    return max(0.0, 1.0 - max(0.0, minutes) / FAR_MINUTES)


def fairness_part(recent_minutes: int) -> float:
    return 1.0 / (1.0 + max(0, recent_minutes) / 60 / FAIRNESS_HALF_HOURS)


def score(*, wanted: frozenset, facts: Facts) -> float:
    """The candidate's score out of 100 (rounded to 0.1)."""
    total = (W_SKILL * skill_part(wanted, facts.skills)
             + W_DISTANCE * distance_part(facts.walk_minutes)
             + W_AVAILABLE * (1.0 if facts.available else 0.0)
             + W_FAIRNESS * fairness_part(facts.recent_minutes))
    return round(total, 1)


def reasons(*, wanted: frozenset, facts: Facts, half_day_label) -> list[str]:
    """The score's parts in words, for the organiser (no personal data)."""
    out = []
    matched = [str(vocab.label(vocab.SKILLS, c)) for c in vocab.SKILL_CODES if c in wanted & facts.skills]
    if not wanted:
        out.append(_("No particular skill is asked for."))
    elif matched:
        out.append(_("Has the skills asked for: %(skills)s.") % {"skills": ", ".join(matched)})
    else:
        out.append(_("Has none of the skills asked for."))
    if facts.walk_minutes is None:
        out.append(_("Walking distance unknown (no map position)."))
    else:
        minutes = max(1, round(facts.walk_minutes))
        out.append(ngettext("About %(n)d minute's walk away.", "About %(n)d minutes' walk away.", minutes)
                   % {"n": minutes})
    if facts.available:
        out.append(_("Usually free then (%(when)s).") % {"when": half_day_label})
    else:
        out.append(_("Did not say they are free then (%(when)s).") % {"when": half_day_label})
    hours = facts.recent_minutes // 60
    if facts.recent_minutes == 0:
        out.append(_("Has not served in the last 90 days."))
    else:
        out.append(ngettext("Served about %(n)d hour in the last 90 days.",
                            "Served about %(n)d hours in the last 90 days.", max(1, hours)) % {"n": max(1, hours)})
    return out


def rank(*, wanted, candidates: list[Facts], limit: int = 10, half_day_label="") -> list[Suggestion]:
    """The best ``limit`` candidates, highest score first. Pure: plain values in, the order out."""
    wanted = frozenset(wanted)
    scored = [(score(wanted=wanted, facts=f), f) for f in candidates]
    scored.sort(key=lambda pair: (-pair[0], pair[1].order))
    return [Suggestion(volunteer=f.key, score=s, reasons=reasons(wanted=wanted, facts=f, half_day_label=half_day_label))
            for s, f in scored[:max(0, limit)]]


def wanted_skills(activity) -> frozenset:
    """The skills an activity asks for: its own list, else those that suit its type."""
    own = frozenset(activity.skills or ())
    return own or frozenset(vocab.SKILLS_FOR_TYPE.get(activity.activity_type, ()))


def activity_point(activity) -> tuple[float, float] | None:
    if activity.latitude is not None and activity.longitude is not None:
        return (activity.latitude, activity.longitude)
    grid = activity.grid
    if grid is not None and grid.latitude is not None and grid.longitude is not None:
        return (grid.latitude, grid.longitude)
    return None


def recent_minutes(volunteer_ids, *, now=None) -> dict[int, int]:
    """Minutes served per volunteer in the last 90 days (records not rejected, counted minutes)."""
    from django.db.models import Sum

    from .models import ServiceRecord

    since = (now or timezone.now()) - dt.timedelta(days=FAIRNESS_WINDOW_DAYS)
    rows = (ServiceRecord.objects.filter(volunteer_id__in=list(volunteer_ids), check_in_at__gte=since,
                                         minutes__isnull=False)
            .exclude(status="rejected").values("volunteer_id").annotate(total=Sum("minutes")))
    return {row["volunteer_id"]: int(row["total"] or 0) for row in rows}


def candidates_for(activity):
    """The volunteers who could be asked: active, of the activity's community, not already
    signed up (a withdrawn one may be asked again), a minor only with their guardian's consent."""
    from django.db.models import Q

    from .models import Signup, Volunteer

    taken = Signup.objects.filter(activity=activity).exclude(status="withdrawn").values("volunteer_id")
    return (Volunteer.objects.filter(community_id=activity.community_id, status="active")
            .exclude(pk__in=taken)
            .filter(Q(guardian__isnull=True) | Q(guardian_consent_at__isnull=False))
            .select_related("grid", "resident"))


def suggest(activity, *, limit: int = 10, now=None) -> list:
    """Suggested volunteers for ``activity``, best first, each with its score and reasons."""
    volunteers = list(candidates_for(activity))
    served = recent_minutes([v.pk for v in volunteers], now=now)
    where = activity_point(activity)
    when = vocab.half_day(activity.starts_at)
    facts = []
    for v in volunteers:
        grid = v.grid
        home = (grid.latitude, grid.longitude) if grid is not None and grid.latitude is not None else None
        facts.append(Facts(key=v, skills=frozenset(v.skills or ()), walk_minutes=walking_minutes(home, where),
                           available=when in (v.availability or ()), recent_minutes=served.get(v.pk, 0),
                           order=(v.joined_at, v.pk)))
    return rank(wanted=wanted_skills(activity), candidates=facts, limit=limit,
                half_day_label=str(vocab.label(vocab.AVAILABILITY, when)))
