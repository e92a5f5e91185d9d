"""The event log points at places by id (no foreign key into linli.community), and its time is a
default rather than auto_now_add, so history written in bulk keeps its own moments.

The columns stay as they were (``community_id`` …, bigint, indexed): the database only loses the
foreign-key constraints; Django's state swaps the relations for plain id fields.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

PLACES = (("street", "community.street"), ("community", "community.community"), ("grid", "community.grid"))


def _database_operations():
    return [
        migrations.AlterField(
            model_name="event", name=name,
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to=to, db_constraint=False),
        )
        for name, to in PLACES
    ]


def _state_operations():
    ops = [migrations.RemoveIndex(model_name="event", name="event_community_time")]
    for name, _to in PLACES:
        ops.append(migrations.RemoveField(model_name="event", name=name))
        ops.append(migrations.AddField(
            model_name="event", name=f"{name}_id",
            field=models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name=name),
        ))
    ops.append(migrations.AddIndex(
        model_name="event", index=models.Index(fields=["community_id", "-created_at"], name="event_community_time"),
    ))
    return ops


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=_database_operations(), state_operations=_state_operations(),
        ),
        migrations.AlterField(
            model_name="event", name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="time"),
        ),
    ]
