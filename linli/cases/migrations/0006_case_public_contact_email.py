"""A case may be published on the Open311 feed only with the reporter's or the channel's
consent (``public``, false for every existing case: nothing published so far was consented to);
an Open311 report may leave an e-mail address instead of a phone (``contact_email``, sealed)."""

import linli.core.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0005_event_verbs_past_tense"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="public",
            field=models.BooleanField(
                default=False,
                help_text="The reporter (or the channel's terms) agreed that the case may be published.",
                verbose_name="public"),
        ),
        migrations.AddField(
            model_name="case",
            name="contact_email",
            field=linli.core.fields.ProtectedField(blank=True, kind="text", null=True, verbose_name="contact e-mail"),
        ),
    ]
