"""The needs board: what neighbours could help with (docs/volunteers.md).

A :class:`~linli.volunteers.models.Need` comes from a resident asking for help, from the office,
from a confirmed household need tag (:func:`needs_from_tags`, once per tag, ever) or from a case
("Hand to volunteers" on the staff case page, :func:`need_from_case`). Its life is the
``volunteers_need`` workflow (linli/volunteers/workflow.py): open → planned (an activity is made
for it, :func:`need_planned`) → closed, or declined with a reason.

Titles and descriptions name nobody: proposals from tags and cases are written in general words
("a weekly visit", "case 2026…"); text typed by people is stored with ID and phone numbers masked
(:func:`linli.core.masking.scrub`) and shown with doors removed to anyone but the office.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.masking import scrub

from . import rules
from .models import Need
from .skills import ACTIVITY_TYPE_CODES
from .workflow import NEED

EVENTS = {
    "volunteers.need_posted": gettext_lazy("posted a need on the volunteers' board"),
}

S = Need.Status
SRC = Need.Source


@dataclass(frozen=True)
class TagProposal:
    """What a confirmed household need tag proposes: the kind of help, a title in general words.
    ``fact_codes`` / ``fact_names``: when set, only households with a member tagged so."""

    category: str
    activity_type: str
    title: object
    description: object
    fact_codes: frozenset = frozenset()
    fact_names: frozenset = frozenset()


# Which confirmed tags propose which help (community.needs' subcategory codes).
DISABLED_CODES = frozenset({"disabled", "disabled-elder"})
DISABLED_NAMES = frozenset({"残疾人", "残疾", "失能老人"})
TAG_PROPOSALS = (
    TagProposal("elderly-care", "visit", gettext_lazy("A weekly visit to an elder"),
                gettext_lazy("An elder of this household would welcome a neighbour's visit once a week.")),
    TagProposal("health", "escort", gettext_lazy("Accompaniment to the clinic"),
                gettext_lazy("Someone of this household needs company on the way to the clinic.")),
    TagProposal("hardship", "escort", gettext_lazy("Accompaniment to the clinic"),
                gettext_lazy("A member of this household with a disability needs company to the clinic."),
                fact_codes=DISABLED_CODES, fact_names=DISABLED_NAMES),
    TagProposal("meals", "meal_delivery", gettext_lazy("Meals brought home"),
                gettext_lazy("This household would welcome meals brought to the door.")),
)

MAX_TITLE = 120
MAX_DESCRIPTION = 2000


def _clean(title, description, activity_type):
    title = scrub((title or "").strip())
    if not title:
        raise InvalidInput(_("Say in a few words what help is needed."), code="title_required", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(_("The title is too long."), code="too_long", field="title")
    description = scrub((description or "").strip())
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(_("The description is too long."), code="too_long", field="description")
    if activity_type not in ACTIVITY_TYPE_CODES:
        raise InvalidInput(_("Choose the kind of help."), code="unknown_activity_type", field="activity_type")
    return title, description


def _check_places(community, household, household_need, case, grid):
    for row in (household, household_need, case, grid):
        if row is not None and row.community_id != community.pk:
            raise InvalidInput(_("This belongs to another community."), code="wrong_community")
    if household_need is not None and household is not None and household_need.household_id != household.pk:
        raise InvalidInput(_("The tag belongs to another household."), code="wrong_household")
    if household is None and household_need is not None:
        household = household_need.household
    if household is None and case is not None and case.household_id:
        household = case.household
    if grid is None and household is not None:
        grid = household.grid
    if grid is None and case is not None and case.grid_id:
        grid = case.grid
    return household, grid


def _may_post(actor, community, source, household, grid) -> bool:
    if source == SRC.RESIDENT:
        resident = rules.resident_of(actor)
        return (resident is not None and resident.community_id == community.pk
                and (household is None or household.pk == resident.household_id))
    if actor is None:  # the server: proposals from tags, the demo
        return True
    if grid is None:  # a need of the whole community: only those who manage all of it
        return rules.office_grids(actor, community) is None
    return rules.may_manage(actor, community, grid)


@transaction.atomic
def need_post(*, actor, community, title, description, activity_type, source, household=None,
              household_need=None, case=None, grid=None, at=None) -> Need:
    """Put a need on the board (``volunteers.need_posted``).

    ``source`` "resident": the actor's own resident asks (for their household; the courtyard is
    theirs); "staff", "need_tag", "case": whoever manages needs where the need is (the office,
    the party secretary, the grid worker of its grid), or the server (actor None). The grid
    defaults to the household's, then the case's. A household need tag gives one need, ever:
    a second raises ``Conflict(code="already_proposed")``."""
    if source not in SRC.values:
        raise InvalidInput(_("Unknown source."), code="unknown_source", field="source")
    title, description = _clean(title, description, activity_type)
    if source == SRC.RESIDENT:
        resident = rules.resident_of(actor)
        if resident is not None and household is None:
            household = resident.household
        if resident is not None and grid is None:
            grid = resident.grid
    household, grid = _check_places(community, household, household_need, case, grid)
    if not _may_post(actor, community, source, household, grid):
        raise PermissionDenied(_("You may not post needs here."))
    if source == SRC.NEED_TAG and household_need is None:
        raise InvalidInput(_("Name the household need tag."), code="tag_required")
    if source == SRC.CASE and case is None:
        raise InvalidInput(_("Name the case."), code="case_required")
    now = at or timezone.now()
    need = Need(community=community, title=title, description=description, activity_type=activity_type,
                source=source, household=household, household_need=household_need, case=case, grid=grid,
                requested_by=actor if getattr(actor, "pk", None) else None, created_at=now)
    try:
        with transaction.atomic():
            need.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This household need already has a need on the board."),
                       code="already_proposed") from None
    events.record(actor=actor, verb="volunteers.need_posted", target=need, community=community, grid=grid, at=now,
                  data={"need": need.pk, "source": source, "activity_type": activity_type,
                        "household_need": getattr(household_need, "pk", None), "case": getattr(case, "pk", None)})
    return need


def _has_member_tag(household, codes, names) -> bool:
    from linli.community.models import Resident

    through = Resident.tags.through
    return through.objects.filter(resident__household=household).filter(
        models_q(codes, names)).exists()


def models_q(codes, names):
    from django.db.models import Q

    return Q(tag__code__in=codes) | Q(tag__name__in=names)


def needs_from_tags(*, community, actor=None) -> list[Need]:
    """Propose needs from the community's confirmed household need tags (``TAG_PROPOSALS``): an
    elder's care → a weekly visit; health, or hardship with a member who has a disability →
    accompaniment to the clinic; meals → meals brought home. Once per tag, ever (a declined or
    closed proposal is not made again). Returns the new needs. ``actor``: the officer who asked,
    or None for the daily job."""
    from linli.community.models import HouseholdNeed

    by_category = {}
    for proposal in TAG_PROPOSALS:
        by_category.setdefault(proposal.category, []).append(proposal)
    taken = set(Need.objects.filter(community=community, household_need__isnull=False)
                .values_list("household_need_id", flat=True))
    tags = (HouseholdNeed.objects.filter(community=community, status=HouseholdNeed.Status.CONFIRMED,
                                         category__code__in=by_category)
            .exclude(pk__in=taken).select_related("category", "household", "household__grid").order_by("id"))
    created = []
    for tag in tags:
        for proposal in by_category[tag.category.code]:
            if (proposal.fact_codes or proposal.fact_names) and not _has_member_tag(
                    tag.household, proposal.fact_codes, proposal.fact_names):
                continue
            try:
                need = need_post(actor=actor, community=community, title=str(proposal.title),
                                 description=str(proposal.description), activity_type=proposal.activity_type,
                                 source=SRC.NEED_TAG, household=tag.household, household_need=tag)
            except Conflict:
                break
            created.append(need)
            break
    return created


def open_need_for_case(case):
    return Need.objects.filter(case=case, status__in=(S.OPEN, S.PLANNED)).first()


@transaction.atomic
def need_from_case(*, actor, case, activity_type="other") -> Need:
    """"Hand to volunteers" on the staff case page: a need of source "case" for the case's
    household and courtyard, titled by the case number (no personal data); its description is
    the case's words with numbers and doors masked. Refused while the case already has an open
    or planned need (``Conflict(code="already_handed")``)."""
    if open_need_for_case(case) is not None:
        raise Conflict(_("This case is already on the volunteers' board."), code="already_handed")
    title = _("Help asked in case %(number)s") % {"number": case.number}
    description = scrub(case.description or "", doors=True)[:MAX_DESCRIPTION]
    return need_post(actor=actor, community=case.community, title=title, description=description,
                     activity_type=activity_type, source=SRC.CASE, case=case, grid=case.grid,
                     household=case.household)


def need_planned(*, actor, need) -> Need:
    """An activity was made for ``need`` (the activities part calls this in its transaction):
    open → planned; a need already planned stays so (no second event)."""
    if need.status == S.PLANNED:
        return need
    return NEED.transition(need, "plan", actor=actor)


def need_reopen(*, actor, need) -> Need:
    """planned → open (every activity for the need was cancelled)."""
    return NEED.transition(need, "reopen", actor=actor)


def need_close(*, actor, need) -> Need:
    """open or planned → closed (the help was given)."""
    return NEED.transition(need, "close", actor=actor)


def need_decline(*, actor, need, reason) -> Need:
    """open → declined, with a reason kept with it (numbers masked)."""
    reason = scrub((reason or "").strip())
    if not reason:
        raise InvalidInput(_("Say why, in a few words."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("The reason is too long."), code="too_long", field="reason")

    def apply(obj, now):
        obj.reason = reason

    return NEED.transition(need, "decline", actor=actor, apply=apply)


def propose_from_tags() -> dict:
    """The daily job ``volunteers.needs_from_tags``: :func:`needs_from_tags` for every community
    with a confirmed tag that has no need yet (safe to run twice: once per tag, ever)."""
    from linli.community.models import Community, HouseholdNeed

    categories = {p.category for p in TAG_PROPOSALS}
    taken = Need.objects.filter(household_need__isnull=False).values("household_need_id")
    ids = (HouseholdNeed.objects.filter(status=HouseholdNeed.Status.CONFIRMED, category__code__in=categories)
           .exclude(pk__in=taken).values_list("community_id", flat=True).distinct())
    made = 0
    for community in Community.objects.filter(pk__in=set(ids)).order_by("id"):
        made += len(needs_from_tags(community=community))
    return {"needs": made}
