"""Activities, sign-up, the waiting list, invitations and reminders (docs/volunteers.md,
"Activities, sign-up and suggestions").

Every write is a service here: keyword-only, atomic, one event. An activity's status moves
through the ``volunteer_activity`` workflow (open → done / cancelled), a sign-up's through
``volunteer_signup`` (confirmed / waiting → withdrawn; waiting → confirmed when a place frees;
withdrawn → confirmed / waiting when the volunteer signs up again).

Places are counted under the activity's row lock (``SELECT … FOR UPDATE`` on PostgreSQL; the
write lock SQLite takes at ``BEGIN IMMEDIATE``), so twenty volunteers signing up at once for the
last three places leave exactly three confirmed and the rest waiting.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, InvalidInput, LinliError, NotFound, PermissionDenied
from linli.core.workflow import SYSTEM, Move, Workflow

from . import rules
from . import volunteers as people
from . import skills as vocab
from .models import Activity, Need, Signup, Team, Volunteer

A = Activity.Status
S = Signup.Status

MULTIPLIER_CODES = ("night", "weather", "hard")
MULTIPLIERS = (
    ("night", gettext_lazy("At night")),
    ("weather", gettext_lazy("In bad weather")),
    ("hard", gettext_lazy("Hard work")),
)
MAX_SLOTS = 500
MAX_HOURS = 24
REMIND_AHEAD = dt.timedelta(hours=24)

# Rule names of the two workflows below.
ORGANISE = "organise"          # rules.may_run_activity
SELF_OR_ORGANISE = "self_or_organise"   # the volunteer's own account, or who runs the activity

# Events that are not workflow moves (registered in apps.py).
EVENTS = {
    "volunteers.activity_created": gettext_lazy("created a volunteer activity"),
    "volunteers.signed_up": gettext_lazy("signed up for a volunteer activity"),
    "volunteers.invited": gettext_lazy("invited a volunteer to an activity"),
    "volunteers.reminded": gettext_lazy("reminded the volunteers of an activity"),
}


def _owner_user_id(signup) -> int | None:
    return signup.volunteer.resident.user_id


def _may(actor, obj, who: str) -> bool:
    if who == ORGANISE:
        return rules.may_run_activity(actor, obj)
    if who == SELF_OR_ORGANISE:
        return actor.pk == _owner_user_id(obj) or rules.may_run_activity(actor, obj.activity)
    return False


ACTIVITY = Workflow(
    "volunteer_activity", model=Activity, may=_may, jobs_too=frozenset({ORGANISE}),
    places=lambda a: {"community": a.community, "grid": a.grid},
    event_data=lambda a: {"activity": a.pk, "activity_type": a.activity_type},
    illegal_message=gettext_lazy("This activity is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not do this with this activity."),
    moves=[
        Move("cancel", {A.OPEN}, A.CANCELLED, who=ORGANISE, label=gettext_lazy("Cancel the activity"),
             verb="cancelled", message=gettext_lazy("The activity is cancelled; its volunteers are told."),
             event_label=gettext_lazy("cancelled a volunteer activity")),
        Move("done", {A.OPEN}, A.DONE, who=ORGANISE, label=gettext_lazy("Mark as done"), verb="completed",
             message=gettext_lazy("The activity is marked as done."),
             event_label=gettext_lazy("marked a volunteer activity as done")),
    ],
)

SIGNUP = Workflow(
    "volunteer_signup", model=Signup, may=_may,
    places=lambda s: {"community": s.activity.community, "grid": s.activity.grid},
    event_data=lambda s: {"activity": s.activity_id, "volunteer": s.volunteer_id},
    illegal_message=gettext_lazy("This sign-up is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not change this sign-up."),
    moves=[
        Move("withdraw", {S.CONFIRMED, S.WAITING}, S.WITHDRAWN, who=SELF_OR_ORGANISE,
             label=gettext_lazy("Withdraw"), verb="withdrawn",
             message=gettext_lazy("You are no longer signed up."), event_label=gettext_lazy("withdrew from an activity")),
        Move("move_up", {S.WAITING}, S.CONFIRMED, who=SYSTEM, label=gettext_lazy("Move up from the waiting list"),
             verb="moved_up", event_label=gettext_lazy("moved up from the waiting list")),
        Move("rejoin", {S.WITHDRAWN}, None, who=SELF_OR_ORGANISE, label=gettext_lazy("Sign up again"),
             verb="rejoined", event_label=gettext_lazy("signed up again for an activity")),
    ],
)


# --- reading -------------------------------------------------------------------------------------


def confirmed_count(activity) -> int:
    return Signup.objects.filter(activity=activity, status=S.CONFIRMED).count()


def places_left(activity) -> int:
    return max(0, activity.slots - confirmed_count(activity))


def waiting_list(activity) -> list[Signup]:
    return list(Signup.objects.filter(activity=activity, status=S.WAITING).order_by("created_at", "id")
                .select_related("volunteer__resident"))


def overlapping(volunteer, activity):
    """The volunteer's confirmed sign-ups for other open activities that overlap this one."""
    return (Signup.objects.filter(volunteer=volunteer, status=S.CONFIRMED, activity__status=A.OPEN,
                                  activity__starts_at__lt=activity.ends_at, activity__ends_at__gt=activity.starts_at)
            .exclude(activity_id=activity.pk))


# --- creating and closing an activity -------------------------------------------------------------


def _clean_activity(*, community, title, activity_type, starts_at, ends_at, slots, place, skills, multipliers,
                    need, team, grid):
    title = (title or "").strip()
    place = (place or "").strip()
    if not title:
        raise InvalidInput(_("Give the activity a title."), code="title_required", field="title")
    if len(title) > 120:
        raise InvalidInput(_("The title is too long (120 characters at most)."), code="title_too_long", field="title")
    if not place:
        raise InvalidInput(_("Say where the activity takes place."), code="place_required", field="place")
    if len(place) > 120:
        raise InvalidInput(_("The place is too long (120 characters at most)."), code="place_too_long", field="place")
    if activity_type not in vocab.ACTIVITY_TYPE_CODES:
        raise InvalidInput(_("Pick a kind of help from the list."), code="activity_type", field="activity_type")
    if starts_at is None or ends_at is None or timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidInput(_("Give the start and the end of the activity."), code="times_required", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput(_("The activity must end after it starts."), code="ends_before_start", field="ends_at")
    if ends_at - starts_at > dt.timedelta(hours=MAX_HOURS):
        raise InvalidInput(_("An activity lasts 24 hours at most; make one per day."), code="too_long",
                           field="ends_at")
    if not isinstance(slots, int) or isinstance(slots, bool) or not 1 <= slots <= MAX_SLOTS:
        raise InvalidInput(_("Ask for between 1 and %(max)d volunteers.") % {"max": MAX_SLOTS}, code="slots",
                           field="slots")
    skills = list(skills or ())
    unknown = [s for s in skills if s not in vocab.SKILL_CODES]
    if unknown:
        raise InvalidInput(_("Pick skills from the list."), code="skills", field="skills")
    multipliers = list(multipliers or ())
    if any(m not in MULTIPLIER_CODES for m in multipliers):
        raise InvalidInput(_("Pick point multipliers from the list."), code="multipliers", field="multipliers")
    for row, field in ((need, "need"), (team, "team"), (grid, "grid")):
        if row is not None and row.community_id != community.pk:
            raise InvalidInput(_("That belongs to another community."), code="other_community", field=field)
    if need is not None and need.status not in (Need.Status.OPEN, Need.Status.PLANNED):
        raise InvalidInput(_("This need is closed or declined; no activity can be planned for it."),
                           code="need_closed", field="need")
    if team is not None and not team.active:
        raise InvalidInput(_("This team is no longer active."), code="team_inactive", field="team")
    return dict(title=title, place=place, skills=vocab.clean_codes(skills, vocab.SKILL_CODES),
                multipliers=[m for m in MULTIPLIER_CODES if m in multipliers])


def activity_create(*, actor, community, title, activity_type, starts_at, ends_at, slots, place, skills=(),
                    multipliers=(), need=None, team=None, grid=None, description="", latitude=None,
                    longitude=None) -> Activity:
    """A new open activity organised by ``actor``; a need it answers moves to planned."""
    if grid is None and need is not None and need.grid_id is not None:
        grid = need.grid
    if actor is None or not rules.may_organise(actor, community, getattr(grid, "pk", None)):
        raise PermissionDenied(_("You may not organise activities here."), code="not_organiser")
    if grid is None and rules.office_grids(actor, community) is not None:
        # A grid worker or building leader organises in their own courtyards only.
        raise InvalidInput(_("Pick the courtyard where the activity takes place."), code="grid_required", field="grid")
    clean = _clean_activity(community=community, title=title, activity_type=activity_type, starts_at=starts_at,
                            ends_at=ends_at, slots=slots, place=place, skills=skills, multipliers=multipliers,
                            need=need, team=team, grid=grid)
    with transaction.atomic():
        activity = Activity.objects.create(
            community=community, need=need, team=team, title=clean["title"], activity_type=activity_type,
            description=(description or "").strip(), place=clean["place"], grid=grid, latitude=latitude,
            longitude=longitude, starts_at=starts_at, ends_at=ends_at, slots=slots, skills=clean["skills"],
            multipliers=clean["multipliers"], organiser=actor)
        events.record(actor=actor, verb="volunteers.activity_created", target=activity, community=community,
                      grid=grid, data={"activity": activity.pk, "activity_type": activity_type, "slots": slots,
                                       "need": need.pk if need else None})
        if need is not None and need.status == Need.Status.OPEN:
            from . import needs

            needs.need_planned(actor=actor, need=need)
    return activity


def activity_cancel(*, actor, activity) -> Activity:
    """Cancel an open activity; its confirmed and waiting volunteers are told (notify recipe).
    A need it answered opens again when no other open activity answers it."""
    with transaction.atomic():
        activity = ACTIVITY.transition(activity, "cancel", actor=actor)
        need = activity.need
        if (need is not None and need.status == Need.Status.PLANNED
                and not Activity.objects.filter(need=need, status=A.OPEN).exists()):
            from . import needs

            needs.need_reopen(actor=actor, need=need)
    return activity


def activity_done(*, actor, activity) -> Activity:
    return ACTIVITY.transition(activity, "done", actor=actor)


# --- sign-up and withdrawal ----------------------------------------------------------------------


def _lock(activity) -> Activity:
    """Re-read the activity under its row lock (the places are counted under it)."""
    try:
        return Activity.objects.select_for_update(of=("self",)).select_related("community", "grid").get(pk=activity.pk)
    except Activity.DoesNotExist:
        raise NotFound(_("No such activity.")) from None


def _check_open(activity, now) -> None:
    if activity.status == A.CANCELLED:
        raise Conflict(_("This activity was cancelled."), code="activity_cancelled")
    if activity.status == A.DONE:
        raise Conflict(_("This activity is over."), code="activity_closed")
    if activity.starts_at <= now:
        raise Conflict(_("This activity has already started; sign-up is closed."), code="activity_started")


def _check_volunteer(activity, volunteer) -> None:
    if volunteer.community_id != activity.community_id:
        raise PermissionDenied(_("This activity is for volunteers of another community."), code="other_community")
    # A paused or left volunteer (volunteer_inactive), a minor without consent (guardian_consent).
    people.require_may_sign_up(volunteer)
    if overlapping(volunteer, activity).exists():
        raise Conflict(_("You are already signed up for another activity at that time."), code="overlap")


def signup(*, actor, activity, volunteer) -> Signup:
    """Sign ``volunteer`` up: confirmed while places remain, else on the waiting list. ``actor``:
    the volunteer's own account or someone who runs the activity."""
    now = timezone.now()
    with transaction.atomic():
        activity = _lock(activity)
        volunteer = Volunteer.objects.select_related("resident").get(pk=volunteer.pk)
        if actor is None or (actor.pk != volunteer.resident.user_id and not rules.may_run_activity(actor, activity)):
            raise PermissionDenied(_("You may sign up only yourself."), code="not_yours")
        _check_open(activity, now)
        _check_volunteer(activity, volunteer)
        status = S.CONFIRMED if confirmed_count(activity) < activity.slots else S.WAITING
        existing = Signup.objects.filter(activity=activity, volunteer=volunteer).first()
        if existing is not None:
            if existing.status != S.WITHDRAWN:
                raise Conflict(_("You are already signed up for this activity."), code="already_signed_up")

            def rejoin(row, moment):
                row.created_at = moment  # back of the waiting list, as a new sign-up
                row.withdrawn_at = None
                return status

            return SIGNUP.transition(existing, "rejoin", actor=actor, apply=rejoin, data={"status": status})
        row = Signup.objects.create(activity=activity, volunteer=volunteer, status=status, created_at=now)
        events.record(actor=actor, verb="volunteers.signed_up", target=row, community=activity.community,
                      grid=activity.grid, at=now,
                      data={"activity": activity.pk, "volunteer": volunteer.pk, "status": status})
    return row


def _move_up_first(activity) -> Signup | None:
    """The first waiting volunteer who can still come is confirmed (and told: notify recipe)."""
    if confirmed_count(activity) >= activity.slots:
        return None
    for candidate in waiting_list(activity):
        try:
            _check_volunteer(activity, candidate.volunteer)
        except LinliError:
            continue  # paused, left, no consent, or now busy at that time: stays waiting
        return SIGNUP.transition(candidate, "move_up", actor=None)
    return None


def withdraw(*, actor, signup) -> Signup:
    """Withdraw a sign-up before the activity starts; a confirmed place goes to the first waiting
    volunteer. Returns the withdrawn sign-up."""
    now = timezone.now()
    with transaction.atomic():
        activity = _lock(signup.activity)
        if activity.status != A.OPEN:
            _check_open(activity, now)
        if activity.starts_at <= now:
            raise Conflict(_("This activity has already started; tell the organiser instead."),
                           code="activity_started")

        def apply(row, moment):
            row.withdrawn_at = moment

        row = SIGNUP.transition(signup, "withdraw", actor=actor, apply=apply)
        _move_up_first(activity)
    return row


def invite(*, actor, activity, volunteer) -> None:
    """Ask a (suggested) volunteer to sign up: they are told (notify recipe); nothing else changes."""
    now = timezone.now()
    with transaction.atomic():
        activity = _lock(activity)
        if not rules.may_run_activity(actor, activity):
            raise PermissionDenied(_("You may not do this with this activity."), code="not_organiser")
        _check_open(activity, now)
        volunteer = Volunteer.objects.select_related("resident").get(pk=volunteer.pk)
        if volunteer.community_id != activity.community_id or volunteer.status != Volunteer.Status.ACTIVE:
            raise InvalidInput(_("This volunteer cannot be invited."), code="not_invitable")
        if Signup.objects.filter(activity=activity, volunteer=volunteer).exclude(status=S.WITHDRAWN).exists():
            raise Conflict(_("This volunteer is already signed up."), code="already_signed_up")
        events.record(actor=actor, verb="volunteers.invited", target=activity, community=activity.community,
                      grid=activity.grid, at=now, data={"activity": activity.pk, "volunteer": volunteer.pk})


# --- reminders -----------------------------------------------------------------------------------


def remind_due(*, now=None) -> int:
    """Mark each open activity starting within the next 24 hours as reminded, once, with one event
    ``volunteers.reminded`` (its recipe tells the confirmed volunteers). Returns how many."""
    now = now or timezone.now()
    due = list(Activity.objects.filter(status=A.OPEN, reminded_at__isnull=True, starts_at__gt=now,
                                       starts_at__lte=now + REMIND_AHEAD).select_related("community", "grid")
               .order_by("starts_at", "id"))
    done = 0
    for activity in due:
        with transaction.atomic():
            # Conditional: two workers never remind twice.
            if not Activity.objects.filter(pk=activity.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            events.record(actor=None, verb="volunteers.reminded", target=activity, community=activity.community,
                          grid=activity.grid, at=now,
                          data={"activity": activity.pk,
                                "confirmed": Signup.objects.filter(activity=activity, status=S.CONFIRMED).count()})
            done += 1
    return done


def team_choices(community):
    return Team.objects.filter(community=community, active=True).order_by("name", "id")
