"""linli.core.bulk: the same rows as Django's bulk_create / bulk_update, written with executemany."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from linli.community.models import Household, Resident
from linli.community.services import ResidentFacts
from linli.core import bulk, events
from linli.core.models import Event

from factories import make_id_number, make_phone

COLUMNS = ("created_at", "actor_id", "actor_label", "target_type", "target_id",
           "community_id", "grid_id", "data")


def _events(world, n, verb):
    at = timezone.make_aware(dt.datetime(2025, 3, 1, 9, 30))
    return [events.build(actor=world.users["worker"] if i % 2 else None, verb=verb, target=world.residents[0],
                         community=world.community, grid=world.grids[i % 2],
                         data={"n": i, "words": "门口的灯坏了"}, at=at + dt.timedelta(minutes=i)) for i in range(n)]


@pytest.mark.django_db(transaction=False)
def test_insert_writes_the_rows_bulk_create_writes(world):
    with transaction.atomic():
        Event.objects.bulk_create(_events(world, 7, "test.django"))
        assert bulk.insert(Event, _events(world, 7, "test.bulk"), batch_size=3) == 7
    django_rows = list(Event.objects.filter(verb="test.django").order_by("pk").values_list(*COLUMNS))
    our_rows = list(Event.objects.filter(verb="test.bulk").order_by("pk").values_list(*COLUMNS))
    assert our_rows == django_rows
    assert len(our_rows) == 7 and our_rows[3][-1] == {"n": 3, "words": "门口的灯坏了"}


def test_insert_seals_protected_fields_and_stamps_auto_now(world):
    household = world.households[0]
    facts = ResidentFacts.clean(name="测试居民", id_number=make_id_number(dt.date(1950, 5, 6), 901),
                                phone=make_phone(901), relation="child")
    row = Resident(community=household.community, household=household, grid_id=household.grid_id,
                   building_id=household.building_id, **facts.as_model_fields())
    before = timezone.now()
    with transaction.atomic():
        assert bulk.insert(Resident, [row]) == 1
    assert row.pk is None and not row._state.adding        # written, its id not read back
    saved = Resident.objects.get(community=household.community, id_index=row.id_index)
    assert saved.name.reveal() == "测试居民" and saved.phone.reveal() == make_phone(901)
    assert saved.created_at >= before and saved.updated_at >= before
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, phone FROM {Resident._meta.db_table} WHERE id = %s", [saved.pk])
        name, phone = cursor.fetchone()
    assert name.startswith("v1.") and "测试居民" not in name
    assert phone.startswith("v1.") and make_phone(901) not in phone


def test_update_writes_each_objects_own_values_and_counts_rows(world):
    rows = list(Resident.objects.filter(community=world.community).order_by("pk")[:3])
    stamps = [r.updated_at for r in rows]
    gone = Household.objects.filter(community=world.community).order_by("pk").first()
    for n, r in enumerate(rows):
        r.is_owner = n != 1
        r.phone = make_phone(700 + n)
    ghost = Resident(pk=10 ** 9, community=world.community, household=gone, grid_id=gone.grid_id,
                     building_id=gone.building_id)
    with transaction.atomic():
        assert bulk.update(Resident, [*rows, ghost], ["is_owner", "phone"], batch_size=2) == 3
    fresh = {r.pk: r for r in Resident.objects.filter(pk__in=[r.pk for r in rows])}
    assert [fresh[r.pk].is_owner for r in rows] == [True, False, True]
    assert [fresh[r.pk].phone.reveal() for r in rows] == [make_phone(700 + n) for n in range(3)]
    # Only the fields named: auto_now is not stamped, as with Django's bulk_update.
    assert [fresh[r.pk].updated_at for r in rows] == stamps


def test_update_refuses_what_it_cannot_write(world):
    resident = Resident.objects.filter(community=world.community).first()
    with pytest.raises(ValueError, match="needs the fields"):
        bulk.update(Resident, [resident], [])
    for field in ("id", "tags"):
        with pytest.raises(ValueError, match="not a column"):
            bulk.update(Resident, [resident], [field])
    with pytest.raises(ValueError, match="unsaved"):
        bulk.update(Resident, [Resident(community=world.community)], ["is_owner"])


def test_a_value_of_another_type_is_prepared_by_its_field(world):
    """Plain values go as they are; anything else goes through the field, as bulk_create would:
    an int in a text column is written as text, a str in an integer column as an int."""
    event = events.build(actor=None, verb="test.types", community=world.community)
    event.target_id, event.grid_id = 7, str(world.grids[0].pk)
    with transaction.atomic():
        bulk.insert(Event, [event])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT target_id, grid_id FROM {Event._meta.db_table} WHERE verb = %s", ["test.types"])
        assert cursor.fetchone() == ("7", world.grids[0].pk)


@pytest.mark.django_db(transaction=False)
def test_aware_datetimes_are_stored_exactly_as_django_stores_them(world):
    """The datetime fast path (``_aware_datetime``): the raw column, not only the value read back,
    is what Django writes, for times in another zone, with and without microseconds."""
    import zoneinfo

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    moments = [dt.datetime(2025, 3, 1, 0, 30, tzinfo=shanghai), dt.datetime(2025, 3, 1, 9, 30, 0, 123456,
                                                                            tzinfo=dt.timezone.utc),
               dt.datetime(2024, 12, 31, 23, 59, 59, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5)))]

    def rows(verb):
        return [events.build(actor=None, verb=verb, target=world.residents[0], community=world.community,
                             data={}, at=at) for at in moments]

    with transaction.atomic():
        Event.objects.bulk_create(rows("test.django_at"))
        bulk.insert(Event, rows("test.bulk_at"))
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        raw = {}
        for verb in ("test.django_at", "test.bulk_at"):
            cursor.execute(f"SELECT created_at FROM {table} WHERE verb = %s ORDER BY id", [verb])
            raw[verb] = [row[0] for row in cursor.fetchall()]
    assert raw["test.bulk_at"] == raw["test.django_at"]
    assert [e.created_at for e in Event.objects.filter(verb="test.bulk_at").order_by("pk")] == moments
