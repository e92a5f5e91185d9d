"""Helpers the activities' tests share: volunteers made straight in the database (the people part's
services have their own tests), activities through the real service."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from linli.community.services import ResidentFacts, resident_create
from linli.volunteers import activities
from linli.volunteers.models import Volunteer

from factories import make_id_number, make_phone

_serial = itertools.count(500)


def volunteer_for(resident, *, skills=(), availability=(), grid=None, status="active", guardian=None,
                  consent=True, joined_at=None, with_user=True) -> Volunteer:
    if with_user and resident.user_id is None:
        user = get_user_model().objects.create_user(username=f"res{resident.pk}", password="x")
        resident.user = user
        resident.save(update_fields=["user"])
    return Volunteer.objects.create(
        community=resident.community, resident=resident, grid=grid or resident.grid, skills=list(skills),
        availability=list(availability), status=status, guardian=guardian,
        guardian_consent_at=timezone.now() if guardian is not None and consent else None,
        joined_at=joined_at or timezone.now())


def minor_in(world, household_index=0):
    """A child of 12 in one of the world's households."""
    household = world.households[household_index]
    serial = next(_serial)
    birth = dt.date(timezone.localdate().year - 12, 3, 3)
    return resident_create(actor=None, household=household, facts=ResidentFacts.clean(
        name=f"小孩{serial}", id_number=make_id_number(birth, serial), phone=make_phone(serial), relation="child"))


def make_activity(world, *, who="worker", hours_ahead=48, length_hours=2, slots=2, starts_at=None, **kw):
    starts = starts_at or timezone.now() + dt.timedelta(hours=hours_ahead)
    params = dict(title="陪老人散步", activity_type="visit", place="社区服务中心门口", grid=world.grids[0])
    params.update(kw)
    return activities.activity_create(actor=world.users[who], community=world.community, starts_at=starts,
                                      ends_at=starts + dt.timedelta(hours=length_hours), slots=slots, **params)
