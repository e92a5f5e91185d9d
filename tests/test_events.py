"""The event log: one event per change, written in the change's own transaction, never personal data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from linli.community.models import Household, Resident, Tag, Unit
from linli.community.services import (
    ResidentFacts, household_get_or_create, resident_create, resident_reveal, resident_update, tag_get_or_create,
)
from linli.core import events
from linli.core.errors import InvalidInput
from linli.core.models import Event

from factories import make_id_number, make_phone


class Boom(Exception):
    pass


def _new_facts(serial=555, **extra):
    return ResidentFacts.clean(name="周新来", id_number=make_id_number(dt.date(1985, 3, 3), serial),
                               phone=make_phone(serial), address="四川省成都市金牛区新村1号", **extra)


def _facts_of(r: Resident, **changes):
    values = {"name": r.name.reveal(), "id_number": r.id_number.reveal(),
              "phone": r.phone.reveal() if r.phone else "", "address": r.address.reveal() if r.address else ""}
    values.update(changes)
    return ResidentFacts.clean(**values)


def _new_events(since_id):
    return list(Event.objects.filter(pk__gt=since_id).order_by("pk"))


def _last_id():
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# Each service writes exactly one event ------------------------------------------

def _do_household(world, actor):
    unit = Unit.objects.get(building=world.buildings[0])
    household, created = household_get_or_create(actor=actor, unit=unit, room="  301 ")
    assert created and household.room == "301"
    return household, "household.created", {}


def _do_create(world, actor):
    r = resident_create(actor=actor, household=world.households[1], facts=_new_facts(),
                        tags=[world.tags["alone"]], via="import")
    return r, "resident.created", {"via": "import"}


def _do_update(world, actor):
    r = Resident.objects.get(pk=world.residents[2].pk)
    changed = resident_update(actor=actor, resident=r, facts=_facts_of(r, phone="13611112222"),
                              tags=[world.tags["disabled"]])
    assert changed == ["phone", "tags"]
    return r, "resident.updated", {"fields": ["phone", "tags"], "via": "form"}


def _do_reveal(world, actor):
    r = Resident.objects.get(pk=world.residents[2].pk)
    assert resident_reveal(actor=actor, resident=r, field="id_number", reason="  办理 高龄补贴  ") == r.id_number.reveal()
    return r, "resident.revealed", {"field": "id_number", "reason": "办理 高龄补贴"}


def _do_tag(world, actor):
    tag = tag_get_or_create(actor=actor, community=world.community, name="退役军人")
    return tag, "tag.created", {}


SERVICES = {"household": _do_household, "create": _do_create, "update": _do_update,
            "reveal": _do_reveal, "tag": _do_tag}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_writes_exactly_one_event(world, service):
    admin = world.users["admin"]
    since = _last_id()
    target, verb, data = SERVICES[service](world, admin)
    (event,) = _new_events(since)
    assert event.verb == verb
    assert event.data == data
    assert (event.target_type, event.target_id) == (target._meta.label_lower, str(target.pk))
    assert event.actor == admin and event.actor_label == "admin"
    assert event.community_id == world.community.pk and event.street_id == world.street.pk
    if service != "tag":
        assert event.grid_id == world.grids[0].pk


def test_system_jobs_are_recorded_as_system(world):
    since = _last_id()
    r = resident_create(actor=None, household=world.households[1], facts=_new_facts())
    (event,) = _new_events(since)
    assert event.actor is None and event.actor_label == "system"
    assert event.target_id == str(r.pk)


def test_the_event_keeps_the_account_name_when_the_account_is_removed(world):
    since = _last_id()
    _do_reveal(world, world.users["worker"])
    world.users["worker"].delete()
    (event,) = _new_events(since)
    assert event.actor is None and event.actor_label == "worker"


def test_writes_that_change_nothing_record_nothing(world):
    admin = world.users["admin"]
    since = _last_id()
    existing = world.households[0]
    assert household_get_or_create(actor=admin, unit=existing.unit, room=existing.room) == (existing, False)
    r = Resident.objects.get(pk=world.residents[2].pk)
    assert resident_update(actor=admin, resident=r, facts=_facts_of(r)) == []
    assert resident_update(actor=admin, resident=r, facts=_facts_of(r), tags=list(r.tags.all()),
                           household=r.household) == []
    assert tag_get_or_create(actor=admin, community=world.community, name="独居老人") == world.tags["alone"]
    assert _new_events(since) == []


# The same transaction -------------------------------------------------------------

def _counts():
    return (Event.objects.count(), Resident.objects.count(), Household.objects.count(), Tag.objects.count(),
            Resident.tags.through.objects.count())


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_rolled_back_transaction_leaves_neither_change_nor_event(world, service):
    before = _counts()
    target_state = list(Resident.objects.order_by("pk").values_list("phone_index", "updated_at"))
    with pytest.raises(Boom):
        with transaction.atomic():
            SERVICES[service](world, world.users["admin"])
            assert _counts() != before  # at least the event
            raise Boom
    assert _counts() == before
    assert list(Resident.objects.order_by("pk").values_list("phone_index", "updated_at")) == target_state


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_whose_event_cannot_be_written_changes_nothing(world, service, monkeypatch):
    def failing_record(**kwargs):
        raise Boom("the event log is unavailable")

    before = _counts()
    target_state = list(Resident.objects.order_by("pk").values_list("phone_index", "updated_at"))
    monkeypatch.setattr(events, "record", failing_record)
    with pytest.raises(Boom):
        SERVICES[service](world, world.users["admin"])
    assert _counts() == before
    assert list(Resident.objects.order_by("pk").values_list("phone_index", "updated_at")) == target_state


def test_events_are_only_written_inside_a_transaction(transactional_db):
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        events.record(actor=None, verb="test.outside")
    assert not Event.objects.exists()
    with transaction.atomic():
        events.record(actor=None, verb="test.inside")
    assert Event.objects.get().verb == "test.inside"


# No personal data -------------------------------------------------------------------

@pytest.mark.parametrize("key", ["name", "phone", "id_number", "address", "birth_date", "note", "value", "password"])
@pytest.mark.parametrize("shape", ["top", "nested", "in a list"])
def test_events_refuse_personal_data_keys(db, key, shape):
    data = {
        "top": {key: "13900000001"},
        "nested": {"changes": {"before": {key: "13900000001"}}},
        "in a list": {"rows": [{"line": 3}, {key: "13900000001"}]},
    }[shape]
    with transaction.atomic():
        with pytest.raises(ValueError, match="personal data keys"):
            events.record(actor=None, verb="test.leak", data=data)
    assert not Event.objects.filter(verb="test.leak").exists()


def test_field_names_as_values_are_fine(db):
    with transaction.atomic():
        e = events.record(actor=None, verb="test.ok", data={"fields": ["name", "phone"], "field": "phone"})
    assert e.data == {"fields": ["name", "phone"], "field": "phone"}


def test_events_refuse_protected_values_instead_of_storing_them(world):
    r = world.residents[0]
    with pytest.raises(TypeError):
        with transaction.atomic():
            events.record(actor=None, verb="test.leak", data={"who": r.name})
    assert not Event.objects.filter(verb="test.leak").exists()


def test_reveal_event_has_the_field_and_reason_but_not_the_value(world):
    r = Resident.objects.get(pk=world.residents[2].pk)
    since = _last_id()
    for field in ("phone", "id_number", "name", "address", "birth_date"):
        value = resident_reveal(actor=world.users["grid1"], resident=r, field=field, reason="核对信息")
        assert value == getattr(r, field).reveal()
    evs = _new_events(since)
    assert [e.data for e in evs] == [{"field": f, "reason": "核对信息"}
                                     for f in ("phone", "id_number", "name", "address", "birth_date")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_event WHERE id > %s", [since])
        raw = repr(cursor.fetchall())
    for field in ("phone", "id_number", "name", "address", "birth_date"):
        assert getattr(r, field).reveal() not in raw
        assert str(getattr(r, field)) not in raw  # not even masked


def test_revealing_an_empty_field_is_recorded_and_gives_empty(world):
    r = Resident.objects.get(pk=world.residents[2].pk)
    since = _last_id()
    assert resident_reveal(actor=world.users["admin"], resident=r, field="note", reason="核对信息") == ""
    assert len(_new_events(since)) == 1


@pytest.mark.parametrize("field, reason, code", [
    ("phone", "", "reason_required"),
    ("phone", " 看 ", "reason_required"),
    ("phone", "x" * 201, "invalid"),
    ("gender", "核对信息", "invalid"),
    ("name_index", "核对信息", "invalid"),
    ("user", "核对信息", "invalid"),
])
def test_a_reveal_without_a_good_reason_or_field_is_refused_and_not_recorded(world, field, reason, code):
    r = Resident.objects.get(pk=world.residents[2].pk)
    since = _last_id()
    with pytest.raises(InvalidInput) as exc_info:
        resident_reveal(actor=world.users["admin"], resident=r, field=field, reason=reason)
    assert exc_info.value.code == code
    assert _new_events(since) == []


def test_update_event_names_the_changed_fields_not_their_values(world):
    r = Resident.objects.get(pk=world.residents[2].pk)
    since = _last_id()
    resident_update(actor=world.users["admin"], resident=r,
                    facts=_facts_of(r, phone="13622223333", address="四川省成都市金牛区新地址8号"))
    (event,) = _new_events(since)
    assert event.data == {"fields": ["address", "phone"], "via": "form"}
    assert "13622223333" not in repr(event.data) and "新地址" not in repr(event.data)
