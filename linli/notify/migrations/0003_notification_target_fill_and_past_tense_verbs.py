"""Notifications name their target as the event does (type and id) and carry their own link,
instead of a foreign key to cases.Case: notify knows no app. Case verbs move to the past tense
(``case.accept`` → ``case.accepted``), in notifications and in webhooks' subscriptions alike;
the event log's own rows are renamed by the cases app's migration.
"""

from django.db import migrations

# The same table as the cases app's migration (migrations never import app code).
VERBS = {
    "case.accept": "case.accepted",
    "case.reject": "case.rejected",
    "case.dispatch": "case.dispatched",
    "case.transfer": "case.transferred",
    "case.return": "case.returned",
    "case.start": "case.started",
    "case.contact": "case.contacted",
    "case.resolve": "case.resolved",
    "case.rate": "case.rated",
    "case.visit_back": "case.visited_back",
    "case.close_unrated": "case.closed_unrated",
    "case.merge": "case.merged",
    "case.reminder": "case.reminded",
    "case.overdue": "case.marked_overdue",
}


def _rename(apps, table: dict) -> None:
    Notification = apps.get_model("notify", "Notification")
    Webhook = apps.get_model("notify", "Webhook")
    for old, new in table.items():
        Notification.objects.filter(verb=old).update(verb=new)
    for hook in Webhook.objects.all():
        verbs = sorted({table.get(v, v) for v in hook.verbs or []})
        if verbs != sorted(hook.verbs or []):
            hook.verbs = verbs
            hook.save(update_fields=["verbs"])


def forwards(apps, schema_editor):
    _rename(apps, VERBS)
    Notification = apps.get_model("notify", "Notification")
    Case = apps.get_model("cases", "Case")
    numbers = dict(Case.objects.filter(
        pk__in=Notification.objects.filter(case__isnull=False).values("case_id")).values_list("pk", "number"))
    for n in Notification.objects.filter(case__isnull=False).only("pk", "case_id").iterator():
        Notification.objects.filter(pk=n.pk).update(
            target_type="cases.case", target_id=str(n.case_id), url=f"/cases/{numbers[n.case_id]}/")
    for n in Notification.objects.filter(verb="alert.raised", event__isnull=False).select_related("event"):
        Notification.objects.filter(pk=n.pk).update(
            target_type=n.event.target_type, target_id=n.event.target_id,
            url=f"/insight/alerts/{n.event.target_id}/")


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in VERBS.items()})
    Notification = apps.get_model("notify", "Notification")
    for n in Notification.objects.filter(target_type="cases.case").only("pk", "target_id"):
        Notification.objects.filter(pk=n.pk).update(case_id=int(n.target_id))


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0002_notification_target"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
