"""Who or what set a case's category (``category_source``), so the learned classifier trains
and validates only on categories a person chose or confirmed (docs/classifier.md).

The backfill is conservative. A case whose category equals the machine's suggestion (keywords
or a model) is recorded as the machine's, accepted or not: nothing kept says whether staff looked
at it. A category that differs from the suggestion, or was set with no suggestion, was chosen by
a person: staff on acceptance where the case was accepted, else whoever raised it (by channel; a
partner system's is not a label)."""

from django.db import migrations, models

_INTAKE = {"web": "resident", "open311": "resident", "phone": "staff_intake", "walk_in": "staff_intake",
           "patrol": "staff_intake"}


def backfill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    rows = (Case.objects.filter(category__isnull=False)
            .values_list("id", "category_id", "suggested_category_id", "suggestion_source", "accepted_at",
                         "channel").iterator(chunk_size=2000))
    by_source: dict[str, list[int]] = {}
    for pk, category_id, suggested_id, suggestion_source, accepted_at, channel in rows:
        if suggestion_source and suggested_id == category_id:
            source = "keywords" if suggestion_source == "keywords" else "classifier"
        elif accepted_at is not None:
            source = "staff_accept"
        else:
            source = _INTAKE.get(channel, "partner")
        by_source.setdefault(source, []).append(pk)
    for source, ids in by_source.items():
        for start in range(0, len(ids), 2000):
            Case.objects.filter(id__in=ids[start:start + 2000]).update(category_source=source)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_case_public_contact_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="category_source",
            field=models.CharField(
                blank=True, db_index=True, default="", max_length=16, verbose_name="category set by",
                choices=[("", "not set"), ("resident", "the resident, when raising it"),
                         ("staff_intake", "staff, when entering it"), ("staff_accept", "staff, when accepting it"),
                         ("classifier", "the learned classifier"), ("keywords", "the keyword rules"),
                         ("partner", "another system")]),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
