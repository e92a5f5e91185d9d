"""The end of the move begun in 0002: the foreign key to cases.Case goes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0003_notification_target_fill_and_past_tense_verbs"),
    ]

    operations = [
        migrations.RemoveField(model_name="notification", name="case"),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["target_type", "target_id"], name="notification_target"),
        ),
        migrations.AlterField(
            model_name="webhook", name="verbs",
            field=models.JSONField(blank=True, default=list, verbose_name="events", help_text=(
                "Event verbs to send, such as case.accepted or alert.raised; "
                "empty sends every event a webhook may receive.")),
        ),
    ]
