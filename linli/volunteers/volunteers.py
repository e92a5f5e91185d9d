"""Volunteers: joining, changing one's offer, a guardian's consent, leaving (docs/volunteers.md).

A resident with an account joins for themself; the office (admin, worker) may also register a
resident of their community (someone who asked at the counter). A resident under 18 names a
``guardian``: an adult of the same household. Until the guardian consents
(:func:`guardian_consent`, by the guardian's own account or by an officer, recorded) the minor
may not sign up for activities (:func:`require_may_sign_up` raises
``PermissionDenied(code="guardian_consent")``; the activities part calls it).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, InvalidInput, PermissionDenied

from . import rules
from .models import Volunteer
from .skills import AVAILABILITY_CODES, SKILL_CODES, clean_codes

ADULT_AGE = 18

EVENTS = {
    "volunteers.joined": gettext_lazy("joined as a volunteer"),
    "volunteers.updated": gettext_lazy("changed a volunteer's offer"),
    "volunteers.left": gettext_lazy("left the volunteers"),
    "volunteers.paused": gettext_lazy("took a break from volunteering"),
    "volunteers.resumed": gettext_lazy("came back to volunteering"),
    "volunteers.guardian_consented": gettext_lazy("gave a guardian's consent for a young volunteer"),
}


def is_minor(resident, today: dt.date | None = None) -> bool:
    return resident.age(today or timezone.localdate()) < ADULT_AGE


def _may_act_for(actor, resident) -> bool:
    """The resident's own account, or the office of their community."""
    if actor is not None and getattr(actor, "pk", None) and resident.user_id == actor.pk:
        return True
    return rules.is_office(actor, resident.community)


def _check_offer(skills, availability) -> tuple[list[str], list[str]]:
    unknown = set(skills or ()) - set(SKILL_CODES)
    if unknown:
        raise InvalidInput(_("Unknown skill."), code="unknown_skill", field="skills")
    unknown = set(availability or ()) - set(AVAILABILITY_CODES)
    if unknown:
        raise InvalidInput(_("Unknown time of the week."), code="unknown_availability", field="availability")
    skills = clean_codes(skills, SKILL_CODES)
    availability = clean_codes(availability, AVAILABILITY_CODES)
    if not skills:
        raise InvalidInput(_("Choose at least one way you can help."), code="no_skills", field="skills")
    if not availability:
        raise InvalidInput(_("Choose at least one time you can help."), code="no_availability",
                           field="availability")
    return skills, availability


def _check_grid(resident, grid):
    if grid is None:
        return resident.grid
    if grid.community_id != resident.community_id:
        raise InvalidInput(_("Choose a courtyard of your community."), code="wrong_grid", field="grid")
    return grid


def _check_guardian(resident, guardian):
    if not is_minor(resident):
        return None
    if guardian is None:
        raise InvalidInput(_("A volunteer under 18 needs a guardian from their household."),
                           code="guardian_required", field="guardian")
    if guardian.pk == resident.pk or guardian.household_id != resident.household_id or is_minor(guardian):
        raise InvalidInput(_("The guardian must be an adult of the same household."),
                           code="guardian_invalid", field="guardian")
    return guardian


def guardians_for(resident) -> list:
    """The adults of the resident's household who may be their guardian."""
    from linli.community.models import Resident

    today = timezone.localdate()
    return [r for r in Resident.objects.filter(household_id=resident.household_id).exclude(pk=resident.pk)
            .order_by("id") if not is_minor(r, today)]


@transaction.atomic
def volunteer_join(*, actor, resident, skills, availability, grid=None, guardian=None,
                   honour_opt_in=False) -> Volunteer:
    """Register ``resident`` as a volunteer (``volunteers.joined``). A resident who left joins
    again on the same row (their history stays). Raises PermissionDenied unless the actor is
    the resident's account or the office; InvalidInput for an empty or unknown offer, a
    courtyard of another community, a minor without a valid guardian; Conflict if they are
    already a volunteer."""
    if not _may_act_for(actor, resident):
        raise PermissionDenied(_("You may only register yourself as a volunteer."))
    skills, availability = _check_offer(skills, availability)
    grid = _check_grid(resident, grid)
    guardian = _check_guardian(resident, guardian)
    now = timezone.now()
    existing = Volunteer.objects.select_for_update().filter(resident=resident).first()
    if existing is not None and existing.status != Volunteer.Status.LEFT:
        raise Conflict(_("You are already a volunteer."), code="already_volunteer")
    volunteer = existing or Volunteer(resident=resident)
    volunteer.community_id = resident.community_id
    volunteer.grid = grid
    volunteer.skills = skills
    volunteer.availability = availability
    volunteer.status = Volunteer.Status.ACTIVE
    volunteer.honour_opt_in = bool(honour_opt_in)
    if existing is None or existing.guardian_id != getattr(guardian, "pk", None):
        volunteer.guardian_consent_at = None
    volunteer.guardian = guardian
    volunteer.joined_at = now
    volunteer.left_at = None
    try:
        with transaction.atomic():
            volunteer.save()
    except IntegrityError:
        raise Conflict(_("You are already a volunteer."), code="already_volunteer") from None
    events.record(actor=actor, verb="volunteers.joined", target=volunteer, community=resident.community,
                  grid=grid, at=now, data={"volunteer": volunteer.pk, "skills": skills,
                                           "minor": guardian is not None, "again": existing is not None})
    return volunteer


@transaction.atomic
def volunteer_update(*, actor, volunteer, skills=None, availability=None, grid=None, guardian=None,
                     honour_opt_in=None, status=None) -> Volunteer:
    """Change a volunteer's offer (``volunteers.updated``): skills, half-days, courtyard, honour
    list, a minor's guardian (a new guardian must consent again), or ``status`` "active" /
    "paused" (``volunteers.paused`` / ``volunteers.resumed``). ``None`` keeps a value."""
    volunteer = (Volunteer.objects.select_for_update(of=("self",)).select_related("resident", "community")
                 .get(pk=volunteer.pk))
    resident = volunteer.resident
    if not _may_act_for(actor, resident):
        raise PermissionDenied(_("You may only change your own offer."))
    if volunteer.status == Volunteer.Status.LEFT:
        raise Conflict(_("This volunteer has left; join again instead."), code="volunteer_left")
    changed = []
    new_skills, new_availability = _check_offer(
        volunteer.skills if skills is None else skills,
        volunteer.availability if availability is None else availability)
    for field, value in (("skills", new_skills), ("availability", new_availability)):
        if getattr(volunteer, field) != value:
            setattr(volunteer, field, value)
            changed.append(field)
    if grid is not None and grid.pk != volunteer.grid_id:
        volunteer.grid = _check_grid(resident, grid)
        changed.append("grid")
    if honour_opt_in is not None and bool(honour_opt_in) != volunteer.honour_opt_in:
        volunteer.honour_opt_in = bool(honour_opt_in)
        changed.append("honour_opt_in")
    if is_minor(resident) and guardian is not None and guardian.pk != volunteer.guardian_id:
        volunteer.guardian = _check_guardian(resident, guardian)
        volunteer.guardian_consent_at = None
        changed.append("guardian")
    verb = "volunteers.updated"
    if status is not None and status != volunteer.status:
        if status not in (Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED):
            raise InvalidInput(_("Unknown status."), code="invalid_status", field="status")
        verb = "volunteers.paused" if status == Volunteer.Status.PAUSED else "volunteers.resumed"
        volunteer.status = status
        changed.append("status")
    if not changed:
        return volunteer
    volunteer.save()
    events.record(actor=actor, verb=verb, target=volunteer, community=volunteer.community, grid=volunteer.grid,
                  data={"volunteer": volunteer.pk, "fields": sorted(changed)})
    return volunteer


@transaction.atomic
def volunteer_leave(*, actor, volunteer) -> Volunteer:
    """Leave the volunteers (``volunteers.left``): status "left", out of every team; their
    confirmed and waiting sign-ups of open activities that have not started are withdrawn
    (``activities.withdraw``: the first one waiting moves up); records, points and the history
    stay."""
    volunteer = (Volunteer.objects.select_for_update(of=("self",)).select_related("resident", "community")
                 .get(pk=volunteer.pk))
    if not _may_act_for(actor, volunteer.resident):
        raise PermissionDenied(_("You may only leave for yourself."))
    if volunteer.status == Volunteer.Status.LEFT:
        raise Conflict(_("This volunteer has already left."), code="volunteer_left")
    now = timezone.now()
    volunteer.status = Volunteer.Status.LEFT
    volunteer.left_at = now
    volunteer.save(update_fields=["status", "left_at"])
    from .activities import withdraw
    from .models import Activity, Signup

    for signup in (Signup.objects.filter(volunteer=volunteer, activity__status=Activity.Status.OPEN,
                                         activity__starts_at__gt=now,
                                         status__in=(Signup.Status.CONFIRMED, Signup.Status.WAITING))
                   .select_related("activity").order_by("id")):
        withdraw(actor=actor, signup=signup)
    teams = list(volunteer.memberships.values_list("team_id", flat=True))
    volunteer.memberships.all().delete()
    events.record(actor=actor, verb="volunteers.left", target=volunteer, community=volunteer.community,
                  grid=volunteer.grid, at=now, data={"volunteer": volunteer.pk, "teams": teams})
    return volunteer


@transaction.atomic
def guardian_consent(*, actor, volunteer) -> Volunteer:
    """The guardian's consent for a minor volunteer (``volunteers.guardian_consented``): by the
    guardian's own account, or by the office of the community (who saw the guardian's consent
    on paper; the event records who gave it)."""
    volunteer = (Volunteer.objects.select_for_update(of=("self",)).select_related("guardian", "community")
                 .get(pk=volunteer.pk))
    guardian = volunteer.guardian
    if guardian is None:
        raise InvalidInput(_("This volunteer needs no guardian's consent."), code="no_guardian")
    by_guardian = actor is not None and guardian.user_id is not None and guardian.user_id == actor.pk
    if not by_guardian and not rules.is_office(actor, volunteer.community):
        raise PermissionDenied(_("Only the guardian or the community office may consent."), code="guardian_consent")
    if volunteer.guardian_consent_at is not None:
        return volunteer
    now = timezone.now()
    volunteer.guardian_consent_at = now
    volunteer.save(update_fields=["guardian_consent_at"])
    events.record(actor=actor, verb="volunteers.guardian_consented", target=volunteer,
                  community=volunteer.community, grid=volunteer.grid, at=now,
                  data={"volunteer": volunteer.pk, "by": "guardian" if by_guardian else "office"})
    return volunteer


def needs_consent(volunteer) -> bool:
    """A minor whose guardian has not consented yet."""
    return volunteer.guardian_id is not None and volunteer.guardian_consent_at is None \
        and is_minor(volunteer.resident)


def require_may_sign_up(volunteer) -> None:
    """Refuse a volunteer who may not sign up now: a paused or left volunteer
    (``PermissionDenied(code="volunteer_inactive")``), a minor without their guardian's consent
    (``PermissionDenied(code="guardian_consent")``). For the activities part's ``signup``."""
    if volunteer.status != Volunteer.Status.ACTIVE:
        raise PermissionDenied(_("Only active volunteers may sign up."), code="volunteer_inactive")
    if is_minor(volunteer.resident) and volunteer.guardian_consent_at is None:
        raise PermissionDenied(_("A guardian must consent before a volunteer under 18 signs up."),
                               code="guardian_consent")


HOURS_WINDOW_DAYS = 90


def minutes_served(volunteer_ids, *, days: int = HOURS_WINDOW_DAYS, now=None) -> dict[int, int]:
    """Approved service minutes per volunteer id, of records checked in within the last ``days``
    days (a selector over ServiceRecord, for the office's list and the volunteer's own page)."""
    from django.db.models import Sum

    from .models import ServiceRecord

    ids = list(volunteer_ids)
    if not ids:
        return {}
    since = (now or timezone.now()) - dt.timedelta(days=days)
    rows = (ServiceRecord.objects.filter(volunteer_id__in=ids, status=ServiceRecord.Status.APPROVED,
                                         check_in_at__gte=since)
            .order_by().values("volunteer_id").annotate(total=Sum("minutes")))
    return {row["volunteer_id"]: row["total"] or 0 for row in rows}
