"""Writing many rows at once where Django's ``bulk_create``/``bulk_update`` cost more than the rows.

Django compiles one statement per batch with a placeholder per value (``bulk_create``), or a
``CASE WHEN pk = … THEN …`` per field and row (``bulk_update``): at a hundred thousand rows the
compiling, not the database, is most of the time. These write the same values — each field's
``get_db_prep_save`` (and, inserting, its ``pre_save``), so encrypted fields are sealed, datetimes
adapted, foreign keys written by id, ``auto_now_add`` stamped on insert and not on update, as
Django's own bulk methods do — through one parameterised statement run with ``executemany``. A
plain value of a plain column (a str for a text field, an int for an integer field or a foreign
key, None) is the value Django would prepare, and is passed as it is.

What they do not do, by design: :func:`insert` gives the rows no ids back (use it for rows no
one points at in the same breath — events, links, history — or read the ids back where the
caller alone is writing the table, as the demo does), and neither sends signals or calls
``save()``. Both run in the caller's transaction.

After a load, :func:`analyze` refreshes the planner's statistics of the tables written, in the
same transaction, before the first query over them: both databases then know the new sizes (on
PostgreSQL, ANALYZE in the loading transaction counts that transaction's own new rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connections, models, router

BATCH = 5000

# Values that every supported database driver takes as they are, by the field classes whose
# ``get_db_prep_save`` gives them back unchanged: a str for a text column, an int for an integer
# column or a foreign key to an integer id, a bool for a boolean, a float for a float, None for
# any of them. Exact classes only: a subclass (an encrypted text field) may change the value.
_NONE = type(None)
_AS_IS = {
    **dict.fromkeys((models.CharField, models.TextField, models.SlugField), (str, _NONE)),
    **dict.fromkeys((models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                     models.PositiveIntegerField, models.PositiveBigIntegerField,
                     models.PositiveSmallIntegerField), (int, _NONE)),
    models.BooleanField: (bool, _NONE),
    models.FloatField: (float, int, _NONE),
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _aware_datetime(connection):
    """How the connection's own adapter writes an aware datetime of a plain ``DateTimeField``,
    without Django's per-value checks (the history's half a million timestamps): PostgreSQL's
    driver takes it as it is; SQLite stores the text of its naive time in the connection's zone
    (UTC), as ``DatabaseOperations.adapt_datetimefield_value`` does. None: Django's way."""
    if connection.vendor == "postgresql":
        return lambda value: value
    if connection.vendor == "sqlite":
        zone = connection.timezone
        return lambda value: str(value.astimezone(zone).replace(tzinfo=None))
    return None


def _plan(columns, connection):
    """Per column: its attribute, whether its ``pre_save`` does more than read it (dates stamped
    on creation), the value types written as they are (else ``get_db_prep_save``), and for a plain
    datetime column the adapter of an aware datetime."""
    plan = []
    aware = _aware_datetime(connection) if settings.USE_TZ else None
    for f in columns:
        as_is = _AS_IS.get(type(f))
        if type(f) in (models.ForeignKey, models.OneToOneField) and type(f.target_field) in _INTEGER_KEYS:
            as_is = (int, _NONE)
        if type(f) is models.DateTimeField:
            as_is = (_NONE,)
        plan.append((f, f.attname, type(f).pre_save is not models.Field.pre_save, frozenset(as_is or ()),
                     aware if type(f) is models.DateTimeField else None))
    return plan


def _values(plan, obj, add: bool, connection) -> list:
    row = []
    for f, attname, pre, as_is, aware in plan:
        value = f.pre_save(obj, add) if pre and add else getattr(obj, attname)
        if type(value) in as_is:
            row.append(value)
        elif aware is not None and type(value) is dt.datetime and value.utcoffset() is not None:
            row.append(aware(value))
        else:
            row.append(f.get_db_prep_save(value, connection))
    return row


def _fields(model, names: Sequence[str] | None):
    opts = model._meta
    if names is None:
        return [f for f in opts.concrete_fields if not f.generated and not (f.primary_key and f.auto_created)]
    fields = [opts.get_field(name) for name in names]
    for field in fields:
        if not field.concrete or field.primary_key or field.many_to_many:
            raise ValueError(f"{model.__name__}.{field.name} is not a column this can write")
    return fields


def insert(model, objs: Iterable, *, fields: Sequence[str] | None = None, using: str | None = None,
           batch_size: int = BATCH) -> int:
    """INSERT each of ``objs`` (unsaved instances of ``model``) with its own values of ``fields``
    (default: every concrete field but an automatic primary key). Returns how many rows."""
    db = using or router.db_for_write(model)
    connection = connections[db]
    columns = _fields(model, fields)
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    plan = _plan(columns, connection)
    written, batch = 0, []
    with connection.cursor() as cursor:
        for obj in objs:
            batch.append(_values(plan, obj, True, connection))
            obj._state.adding, obj._state.db = False, db
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                written, batch = written + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def insert_with_ids(model, objs: Iterable, *, using: str | None = None, batch_size: int = BATCH) -> list:
    """:func:`insert`, then give each object its id: the rows above the table's highest id before
    the insert, read back in id order. Only for a caller that is the table's one writer in its
    transaction (the demo; a ledger history under a table lock); raises if another row appeared.
    Returns the objects."""
    objs = list(objs)
    rows = model._base_manager.db_manager(using or router.db_for_write(model))
    last = rows.order_by("-pk").values_list("pk", flat=True).first() or 0
    insert(model, objs, using=using, batch_size=batch_size)
    pks = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True))
    if len(pks) != len(objs):
        raise RuntimeError(f"{len(objs)} {model.__name__} rows written, {len(pks)} found after them: "
                           "another writer was adding rows")
    for obj, pk in zip(objs, pks):
        obj.pk = pk
    return objs


def update(model, objs: Iterable, fields: Sequence[str], *, using: str | None = None,
           batch_size: int = BATCH) -> int:
    """UPDATE the row of each of ``objs`` (saved instances of ``model``) to its own values of
    ``fields``. Returns how many rows changed (a row no longer there changes none)."""
    if not fields:
        raise ValueError("update needs the fields to write")
    db = using or router.db_for_write(model)
    connection = connections[db]
    columns = _fields(model, fields)
    pk = model._meta.pk
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in columns)} "
           f"WHERE {quote(pk.column)} = %s")
    plan = _plan(columns, connection)
    written, batch = 0, []
    with connection.cursor() as cursor:
        for obj in objs:
            if obj.pk is None:
                raise ValueError(f"an unsaved {model.__name__} cannot be updated")
            batch.append(_values(plan, obj, False, connection) + [pk.get_db_prep_save(obj.pk, connection)])
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                written, batch = written + max(cursor.rowcount, 0), []
        if batch:
            cursor.executemany(sql, batch)
            written += max(cursor.rowcount, 0)
    return written


def analyze(*tables, using: str | None = None) -> None:
    """ANALYZE each table (a model, or a table name), in the caller's transaction."""
    connection = connections[using or router.db_for_write(models.Model)]
    names = [t if isinstance(t, str) else t._meta.db_table for t in tables]
    with connection.cursor() as cursor:
        for name in dict.fromkeys(names):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
