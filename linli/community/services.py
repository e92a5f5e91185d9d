"""Every write to places and people. Each is atomic and records an event."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import rules
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.crypto import keyring
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.masking import scrub
from linli.core.validators import (
    id_birth_date, id_gender, normalize_name, surname_of, validate_id_number, validate_phone,
)

from .models import Community, Household, Organisation, Resident, StaffRole, Tag, Unit
from .rules import may_reveal_field

REVEALABLE_FIELDS = Resident.PROTECTED_FIELDS
MAX_NAME = 40
MAX_ADDRESS = 120
MAX_NOTE = 500


def resident_blind_indexes(*, name: str, id_number: str, phone: str) -> dict[str, str]:
    """The blind-index columns for these (already normalised) values, under the active key."""
    ring = keyring()
    return {
        "name_index": ring.blind_index(name, "name"),
        "surname_index": ring.blind_index(surname_of(name), "surname"),
        "id_index": ring.blind_index(id_number, "id_number"),
        "phone_index": ring.blind_index(phone, "phone") if phone else "",
    }


@dataclass
class ResidentFacts:
    """Validated, normalised values for one resident."""

    name: str
    id_number: str
    phone: str = ""
    address: str = ""
    note: str = ""
    relation: str = Resident.Relation.HEAD
    is_party_member: bool = False
    is_owner: bool | None = None  # None: keep what is registered (a new resident: not an owner)

    @classmethod
    def clean(cls, *, name, id_number, phone="", address="", note="", relation=Resident.Relation.HEAD,
              is_party_member=False, is_owner=None) -> "ResidentFacts":
        """Validate every field; raise ValidationError mapping field → messages."""
        errors: dict[str, list] = {}
        name = normalize_name(name)
        if not name:
            errors.setdefault("name", []).append(_("A name is required."))
        elif len(name) > MAX_NAME:
            errors.setdefault("name", []).append(_("A name has at most %(n)d characters.") % {"n": MAX_NAME})
        try:
            id_number = validate_id_number(id_number)
        except ValidationError as exc:
            errors.setdefault("id_number", []).extend(exc.messages)
        phone = (phone or "").strip()
        if phone:
            try:
                phone = validate_phone(phone)
            except ValidationError as exc:
                errors.setdefault("phone", []).extend(exc.messages)
        address = normalize_name(address)
        if len(address) > MAX_ADDRESS:
            errors.setdefault("address", []).append(_("An address has at most %(n)d characters.") % {"n": MAX_ADDRESS})
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            errors.setdefault("note", []).append(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
        if relation not in Resident.Relation.values:
            errors.setdefault("relation", []).append(_("Unknown relation to the head of household."))
        if errors:
            raise ValidationError(errors)
        return cls(name=name, id_number=id_number, phone=phone, address=address, note=note,
                   relation=relation, is_party_member=bool(is_party_member),
                   is_owner=None if is_owner is None else bool(is_owner))

    def as_model_fields(self) -> dict:
        birth = id_birth_date(self.id_number)
        return {
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone or None,
            "address": self.address or None,
            "birth_date": birth.isoformat(),
            "note": self.note or None,
            "gender": id_gender(self.id_number),
            "birth_year": birth.year,
            "relation": self.relation,
            "is_party_member": self.is_party_member,
            **({} if self.is_owner is None else {"is_owner": self.is_owner}),
            **resident_blind_indexes(name=self.name, id_number=self.id_number, phone=self.phone),
        }


def _require(user, perm: str, obj=None) -> None:
    # The rule itself, not user.has_perm(): Django lets superusers pass every
    # has_perm(), but personal data is reached only through a role (PIPL's
    # least privilege), so the demo's admin account is no exception.
    if user is not None and not rules.has_perm(perm, user, obj):
        raise PermissionDenied(_("You may not do this here."))


def resident_find_by_id_number(community, id_number: str) -> Resident | None:
    indexes = keyring().blind_indexes(id_number, "id_number")
    return Resident.objects.filter(community=community, id_index__in=indexes).first()


@transaction.atomic
def household_get_or_create(*, actor, unit: Unit, room: str) -> tuple[Household, bool]:
    room = room.strip()
    household = Household.objects.filter(unit=unit, room=room).first()
    if household:
        return household, False
    building = unit.building
    household = Household.objects.create(
        community_id=unit.community_id, grid_id=building.grid_id, building=building, unit=unit, room=room
    )
    events.record(actor=actor, verb="household.created", target=household,
                  community=household.community, grid=household.grid)
    return household, True


@transaction.atomic
def household_set_floor_area(*, actor, household: Household, floor_area) -> bool:
    """Record the floor area (m², 建筑面积 of the 专有部分; None: unknown) of a household's flat.
    Returns whether it changed (no event when it did not). Owners' votes weigh by it."""
    _require(actor, "community.change_resident", household)
    if floor_area is not None:
        floor_area = Decimal(str(floor_area)).quantize(Decimal("0.01"))
        if floor_area <= 0 or floor_area >= Decimal("1000000"):
            raise InvalidInput(_("A floor area is more than 0 and less than 1,000,000 m²."), field="floor_area")
    if household.floor_area == floor_area:
        return False
    household.floor_area = floor_area
    household.save(update_fields=["floor_area", "updated_at"])
    events.record(actor=actor, verb="household.floor_area_set", target=household,
                  community=household.community, grid=household.grid,
                  data={"floor_area": str(floor_area) if floor_area is not None else None})
    return True


@transaction.atomic
def resident_create(*, actor, household: Household, facts: ResidentFacts, tags=(), via: str = "form") -> Resident:
    """Register a resident in a household. ``actor`` None means a system job (seed, import)."""
    if actor is not None and not rules.has_perm("community.change_resident", actor, household):
        raise PermissionDenied(_("You may not register residents here."))
    if resident_find_by_id_number(household.community, facts.id_number):
        raise InvalidInput(_("A resident with this ID card number is already registered."),
                           code="duplicate", field="id_number")
    resident = Resident.objects.create(
        community_id=household.community_id, household=household,
        grid_id=household.grid_id, building_id=household.building_id,
        **facts.as_model_fields(),
    )
    if tags:
        resident.tags.set(tags)
    events.record(actor=actor, verb="resident.created", target=resident,
                  community=household.community, grid=household.grid, data={"via": via})
    return resident


def _changes(resident: Resident, fields: dict) -> list[str]:
    changed = []
    for key, value in fields.items():
        current = getattr(resident, key)
        if key in Resident.PROTECTED_FIELDS:
            current = current.reveal() if current is not None else None
        elif key.endswith("_index"):
            continue  # recomputed from the values; differs after a key rotation
        if current != value:
            changed.append(key)
    return changed


@transaction.atomic
def resident_update(*, actor, resident: Resident, facts: ResidentFacts, household: Household | None = None,
                    tags=None, via: str = "form") -> list[str]:
    """Change a resident; returns the names of the fields that changed (none: nothing written)."""
    _require(actor, "community.change_resident", resident)
    if household is not None and household.pk != resident.household_id:
        # Moving in: the account must also be in charge of the new household,
        # and only within the community (the ID number is unique per community).
        _require(actor, "community.change_resident", household)
        if household.community_id != resident.community_id:
            raise InvalidInput(_("A resident can only move within their community."), field="household")
    if facts.id_number != resident.id_number.reveal():
        other = resident_find_by_id_number(resident.community, facts.id_number)
        if other and other.pk != resident.pk:
            raise InvalidInput(_("A resident with this ID card number is already registered."),
                               code="duplicate", field="id_number")
    fields = facts.as_model_fields()
    changed = _changes(resident, fields)
    if household is not None and household.pk != resident.household_id:
        changed.append("household")
        fields.update(household=household, grid_id=household.grid_id, building_id=household.building_id)
    tags_changed = False
    if tags is not None:
        new = {t.pk for t in tags}
        tags_changed = new != set(resident.tags.values_list("pk", flat=True))
    if not changed and not tags_changed:
        return []
    for key, value in fields.items():
        setattr(resident, key, value)
    resident.save()
    if tags_changed:
        resident.tags.set(tags)
        changed.append("tags")
    events.record(actor=actor, verb="resident.updated", target=resident, community=resident.community,
                  grid=resident.grid, data={"fields": sorted(changed), "via": via})
    return changed


@transaction.atomic
def resident_reveal(*, actor, resident: Resident, field: str, reason: str) -> str:
    """The plain value of one protected field, for an account allowed to see it, with the reason audited."""
    if field not in REVEALABLE_FIELDS:
        raise InvalidInput(_("This field cannot be revealed."), field="field")
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise InvalidInput(_("Say why you need to see this value."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("A reason has at most 200 characters."), field="reason")
    if not rules.has_perm("community.reveal_resident", actor, resident) or not may_reveal_field(
            actor, resident, field):
        raise PermissionDenied(_("You may not reveal this resident's data."))
    value = getattr(resident, field)
    # The reason as the event log (read by the street supervisor) and webhooks keep it: numbers,
    # the resident's name and home doors masked.
    # Not even masked: a masked name still points at a person.
    names = [resident.name.reveal()] if resident.name is not None else []
    events.record(actor=actor, verb="resident.revealed", target=resident, community=resident.community,
                  grid=resident.grid,
                  data={"field": field, "reason": scrub(reason, names=names, doors=True, remove_names=True)})
    return value.reveal() if value is not None else ""


@transaction.atomic
def tag_get_or_create(*, actor, community, name: str) -> Tag:
    from django.utils.text import slugify
    import hashlib

    name = normalize_name(name)[:32]
    tag = Tag.objects.filter(community=community, name=name).first()
    if tag:
        return tag
    code = slugify(name, allow_unicode=False) or "t" + hashlib.sha1(name.encode()).hexdigest()[:10]
    tag = Tag.objects.create(community=community, code=code[:32], name=name)
    events.record(actor=actor, verb="tag.created", target=tag, community=community)
    return tag


# ---------------------------------------------------------------------------
# Roles, organisations and communities: the Django admin's edits
#
# A staff role opens personal data, so granting, changing and revoking one is
# audited like a reveal; organisations and communities, which roles point at,
# likewise. The admin has checked its model permission; each service writes the
# row and its one event together. Events name the role and its scope by ids,
# never anything about the account's holder. A save that changes nothing writes
# nothing.


def _pks(related) -> list[int]:
    return sorted(related.values_list("pk", flat=True))


def _staff_role_facts(role: StaffRole) -> dict:
    """What a role event says: whose account (its id), which role, where, and whether active."""
    return {"account": role.user_id, "role": role.role, "active": role.active, "community": role.community_id,
            "street": role.street_id, "organisation": role.organisation_id, "grids": _pks(role.grids),
            "buildings": _pks(role.buildings)}


@transaction.atomic
def staff_role_save(*, actor, role: StaffRole, changed=(), grids=None, buildings=None) -> StaffRole:
    """Grant a role (a new row: ``staff_role.granted``) or change one (``staff_role.changed``,
    with the names of the ``changed`` fields). ``grids`` / ``buildings``: the role's new sets,
    when the edit had them."""
    granted = role.pk is None
    if not granted and not changed:
        return role
    role.save()
    if grids is not None:
        role.grids.set(grids)
    if buildings is not None:
        role.buildings.set(buildings)
    data = _staff_role_facts(role)
    if not granted:
        data["fields"] = sorted(changed)
    events.record(actor=actor, verb="staff_role.granted" if granted else "staff_role.changed", target=role,
                  community=role.community, street=role.street, data=data)
    return role


@transaction.atomic
def staff_role_revoke(*, actor, role: StaffRole) -> None:
    """Take a role away (``staff_role.revoked``, with the scope it had)."""
    events.record(actor=actor, verb="staff_role.revoked", target=role, community=role.community,
                  street=role.street, data=_staff_role_facts(role))
    role.delete()


def _organisation_facts(organisation: Organisation) -> dict:
    return {"kind": organisation.kind, "community": organisation.community_id, "street": organisation.street_id,
            "parent": organisation.parent_id, "grids": _pks(organisation.grids)}


@transaction.atomic
def organisation_save(*, actor, organisation: Organisation, changed=(), grids=None) -> Organisation:
    """Add an organisation (``organisation.created``) or change one (``organisation.changed``)."""
    created = organisation.pk is None
    if not created and not changed:
        return organisation
    organisation.save()
    if grids is not None:
        organisation.grids.set(grids)
    data = _organisation_facts(organisation)
    if not created:
        data["fields"] = sorted(changed)
    events.record(actor=actor, verb="organisation.created" if created else "organisation.changed",
                  target=organisation, community=organisation.community, street=organisation.street, data=data)
    return organisation


@transaction.atomic
def organisation_delete(*, actor, organisation: Organisation) -> None:
    events.record(actor=actor, verb="organisation.deleted", target=organisation, community=organisation.community,
                  street=organisation.street, data=_organisation_facts(organisation))
    organisation.delete()


@transaction.atomic
def community_save(*, actor, community: Community, changed=()) -> Community:
    """Add a community (``community.created``) or change one (``community.changed``)."""
    created = community.pk is None
    if not created and not changed:
        return community
    community.save()
    data = {"code": community.code, "street": community.street_id}
    if not created:
        data["fields"] = sorted(changed)
    events.record(actor=actor, verb="community.created" if created else "community.changed", target=community,
                  community=community, data=data)
    return community


@transaction.atomic
def community_delete(*, actor, community: Community) -> None:
    events.record(actor=actor, verb="community.deleted", target=community, community=community,
                  data={"code": community.code, "street": community.street_id})
    community.delete()
