"""Volunteer teams (党员先锋队, 楼栋长, youth, elders helping elders …) and their members
(docs/volunteers.md). Managed by the office and the party secretary (``rules.may_manage_teams``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, InvalidInput, PermissionDenied

from . import rules
from .models import Membership, Team, Volunteer

EVENTS = {
    "volunteers.team_created": gettext_lazy("created a volunteer team"),
    "volunteers.team_changed": gettext_lazy("changed a volunteer team"),
    "volunteers.team_member_added": gettext_lazy("added a volunteer to a team"),
    "volunteers.team_member_removed": gettext_lazy("removed a volunteer from a team"),
}


def _require(actor, community):
    if not rules.may_manage_teams(actor, community):
        raise PermissionDenied(_("You may not manage this community's volunteer teams."))


def _clean(name, kind, description):
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the team a name."), code="name_required", field="name")
    if len(name) > 80:
        raise InvalidInput(_("The name is too long."), code="too_long", field="name")
    if kind not in Team.Kind.values:
        raise InvalidInput(_("Unknown kind of team."), code="unknown_kind", field="kind")
    description = (description or "").strip()
    if len(description) > 300:
        raise InvalidInput(_("The description is too long."), code="too_long", field="description")
    return name, description


@transaction.atomic
def team_create(*, actor, community, name, kind=Team.Kind.OTHER, description="") -> Team:
    """A new team (``volunteers.team_created``)."""
    _require(actor, community)
    name, description = _clean(name, kind, description)
    if Team.objects.filter(community=community, name=name, active=True).exists():
        raise Conflict(_("A team of this name exists."), code="team_exists", field="name")
    team = Team.objects.create(community=community, name=name, kind=kind, description=description, active=True)
    events.record(actor=actor, verb="volunteers.team_created", target=team, community=community,
                  data={"team": team.pk, "kind": kind})
    return team


@transaction.atomic
def team_update(*, actor, team, name=None, kind=None, description=None, active=None) -> Team:
    """Rename, describe or retire a team (``volunteers.team_changed``). ``None`` keeps a value."""
    team = Team.objects.select_for_update(of=("self",)).select_related("community").get(pk=team.pk)
    _require(actor, team.community)
    name, description = _clean(team.name if name is None else name, team.kind if kind is None else kind,
                               team.description if description is None else description)
    changed = []
    for field, value in (("name", name), ("kind", team.kind if kind is None else kind),
                         ("description", description), ("active", team.active if active is None else bool(active))):
        if getattr(team, field) != value:
            setattr(team, field, value)
            changed.append(field)
    if not changed:
        return team
    team.save()
    events.record(actor=actor, verb="volunteers.team_changed", target=team, community=team.community,
                  data={"team": team.pk, "fields": changed})
    return team


@transaction.atomic
def team_add(*, actor, team, volunteer, role=Membership.Role.MEMBER) -> Membership:
    """Add a volunteer of the team's community (``volunteers.team_member_added``); adding a member
    again changes their role (leader / member)."""
    team = Team.objects.select_for_update(of=("self",)).select_related("community").get(pk=team.pk)
    _require(actor, team.community)
    if role not in Membership.Role.values:
        raise InvalidInput(_("Unknown role."), code="unknown_role", field="role")
    if not team.active:
        raise Conflict(_("This team is no longer active."), code="team_inactive")
    if volunteer.community_id != team.community_id:
        raise InvalidInput(_("This volunteer belongs to another community."), code="wrong_community")
    if volunteer.status == Volunteer.Status.LEFT:
        raise Conflict(_("This volunteer has left."), code="volunteer_left")
    membership, created = Membership.objects.get_or_create(team=team, volunteer=volunteer,
                                                           defaults={"role": role})
    if not created:
        if membership.role == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role"])
    events.record(actor=actor, verb="volunteers.team_member_added", target=team, community=team.community,
                  data={"team": team.pk, "volunteer": volunteer.pk, "role": role, "again": not created})
    return membership


@transaction.atomic
def team_remove(*, actor, team, volunteer) -> None:
    """Take a volunteer out of a team (``volunteers.team_member_removed``)."""
    team = Team.objects.select_for_update(of=("self",)).select_related("community").get(pk=team.pk)
    _require(actor, team.community)
    deleted, _rows = Membership.objects.filter(team=team, volunteer=volunteer).delete()
    if not deleted:
        raise InvalidInput(_("This volunteer is not in the team."), code="not_member")
    events.record(actor=actor, verb="volunteers.team_member_removed", target=team, community=team.community,
                  data={"team": team.pk, "volunteer": volunteer.pk})
