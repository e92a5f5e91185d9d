"""Notifications name their target as the event does (type and id) and carry their own link,
instead of a foreign key to cases.Case: notify knows no app. Added here, filled in 0003, the
foreign key removed in 0004 (three transactions: PostgreSQL will not alter a table with
pending updates in the same one)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0001_notifications_and_webhooks"),
        ("cases", "0004_case_rollup"),
        ("core", "0002_event_places_by_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification", name="target_type",
            field=models.CharField(blank=True, max_length=64, verbose_name="target type"),
        ),
        migrations.AddField(
            model_name="notification", name="target_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="target id"),
        ),
        migrations.AddField(
            model_name="notification", name="url",
            field=models.CharField(blank=True, max_length=300, verbose_name="link"),
        ),
    ]
